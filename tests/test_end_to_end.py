"""Every combination the models issue names runs end to end from a YAML spec on the demo corpus."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from emoframe.bench.evaluate import evaluate
from emoframe.cli import main
from emoframe.features import FeatureCache
from emoframe.pipeline import FeatureProvider, Pipeline
from emoframe.plugin.registry import Registry

from . import stats_reference as ref

pytestmark = pytest.mark.slow

FAST_CNN = {"epochs": 3, "channels": 16, "batch_size": 16}
FAST_LSTM = {"epochs": 3, "hidden": 16, "batch_size": 16}
AUDIO_SVC = {"extractor": "opensmile.egemaps", "model": "sklearn.svc"}
TEXT_SVC = {"extractor": "sklearn.tfidf", "model": "sklearn.svc"}

PIPELINES = {
    "egemaps-svc": {"branches": {"audio": AUDIO_SVC}},
    "lld-cnn": {
        "branches": {
            "audio": {"extractor": "opensmile.egemaps_lld", "model": {"name": "torch.cnn", "params": FAST_CNN}}
        }
    },
    "lld-lstm": {
        "branches": {
            "audio": {"extractor": "opensmile.egemaps_lld", "model": {"name": "torch.lstm", "params": FAST_LSTM}}
        }
    },
    "logmel-cnn2d": {
        "branches": {
            "audio": {
                "extractor": "librosa.logmel",
                "model": {"name": "torch.cnn", "params": {**FAST_CNN, "dims": "2d"}},
            }
        }
    },
    "tfidf-svc": {"branches": {"text": TEXT_SVC}},
    "vader-rules": {"branches": {"text": {"extractor": "vader.scores", "model": "vader.rules"}}},
    "minilm-logreg": {"branches": {"text": {"extractor": "transformers.embed", "model": "sklearn.logreg"}}},
    "roberta-finetune": {
        "branches": {
            "text": {
                "model": {"name": "transformers.classifier", "params": {"model": "TINY", "epochs": 2, "lr": 0.001}}
            }
        }
    },
    "early": {
        "branches": {"audio": {"extractor": "opensmile.egemaps"}, "text": {"extractor": "sklearn.tfidf"}},
        "fusion": "fusion.early",
        "model": "sklearn.svc",
    },
    "late": {
        "branches": {"audio": AUDIO_SVC, "text": TEXT_SVC},
        "fusion": {"name": "fusion.late", "params": {"weights": "learned"}},
    },
    "vote": {"branches": {"audio": AUDIO_SVC, "text": TEXT_SVC}, "fusion": "fusion.vote"},
    "stacking": {"branches": {"audio": AUDIO_SVC, "text": TEXT_SVC}, "fusion": "fusion.stacking"},
    "gated": {
        "branches": {"audio": AUDIO_SVC, "text": {"extractor": "vader.scores", "model": "vader.rules"}},
        "fusion": "fusion.gated",
    },
}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "emoframe-transformers" / "tests"))
    from tiny import make_tiny_roberta

    from emoframe.data.synth import generate

    generate(root / "demo", seed=1, speakers=6, per_class=3)
    import pandas as pd

    texts = pd.read_csv(root / "demo" / "manifest.csv")["text"].tolist()
    tiny = make_tiny_roberta(root / "tiny-roberta", texts)
    registry = Registry.from_entry_points()
    provider = FeatureProvider(registry, cache=FeatureCache(root / "cache"), jobs=2)
    return root, tiny, registry, provider


def write_spec(root: Path, name: str, tiny: Path) -> Path:
    doc = json.loads(json.dumps(PIPELINES[name]).replace('"TINY"', json.dumps(str(tiny))))
    doc = {
        "name": name,
        "data": {"manifest": "demo/manifest.csv"},
        "evaluation": {"protocol": "speaker_kfold", "folds": 3, "bootstrap": 200},
        **doc,
    }
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize("name", list(PIPELINES))
def test_pipeline_runs_from_yaml(setup, name):
    root, tiny, registry, provider = setup
    pipe = Pipeline.from_spec(write_spec(root, name, tiny), registry)
    from emoframe.data.source import load_data

    manifest = load_data(pipe.spec.data, registry, base_dir=root)
    result = evaluate(pipe.spec, registry, manifest=manifest, provider=provider)
    assert len(result.folds) == 3 and sum(len(f.test_ids) for f in result.folds) == 72
    assert 0.0 <= result.uar_mean <= 1.0 and result.uar_ci[0] <= result.metrics["uar"] <= result.uar_ci[1]
    if pipe.spec.fusion is not None:
        gain = result.fusion_gain
        assert gain is not None
        lo, hi = gain["ci"]
        assert result.verdict == ref.fusion_sentence(gain["gain"], lo, hi, gain["best_part"])
        assert gain["best_part"] == max(gain["part_uar"], key=gain["part_uar"].__getitem__)
        assert gain["gain"] == pytest.approx(gain["fused_uar"] - gain["part_uar"][gain["best_part"]], abs=1e-12)
        assert set(result.fusion_gain["part_uar"]) == {"audio", "text"}
    if "text" in pipe.spec.branches:
        assert any("transcript overlap" in w for w in result.warnings)
    if name == "egemaps-svc":
        assert result.uar_mean > 0.4  # clearly above chance (0.25) even on 72 synthetic utterances


def test_pipeline_api_fits_and_predicts_new_speakers(setup):
    root, tiny, registry, provider = setup
    from emoframe.data.manifest import load_manifest

    m = load_manifest(root / "demo" / "manifest.csv")
    train = m.subset(~m.frame["speaker"].isin(["spk01", "spk02"]).to_numpy())
    test = m.subset(m.frame["speaker"].isin(["spk01", "spk02"]).to_numpy())
    pipe = Pipeline.from_spec(write_spec(root, "late", tiny), registry).fit(train, provider)
    P = pipe.predict_proba(test, provider)
    assert P.shape == (len(test), 4)
    np.testing.assert_allclose(P.sum(1), 1.0)
    assert set(pipe.predict(test, provider)) <= set(pipe.classes_)
    assert pipe.fit_rows_ == set(train.ids)


def test_cli_run_prints_metrics_and_stores_the_result(setup, tmp_path):
    root, tiny, _, _ = setup
    spec = write_spec(root, "late", tiny)
    result = CliRunner().invoke(main, ["run", str(spec), "--workdir", str(tmp_path), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "UAR" in result.output and "95% CI" in result.output and "confusion matrix" in result.output
    assert "fusion" in result.output and "generalisation gap" in result.output
    assert "stored as run" in result.output
    as_json = CliRunner().invoke(main, ["run", str(spec), "--workdir", str(tmp_path), "--jobs", "1", "--json"])
    data, _ = json.JSONDecoder().raw_decode(as_json.output[as_json.output.index("{") :])  # resumed from the store
    assert data["fusion_gain"]["best_part"] in ("audio", "text") and len(data["folds"]) == 3
    listed = CliRunner().invoke(main, ["runs", "--format", "json", "--workdir", str(tmp_path)])
    assert [r["kind"] for r in json.loads(listed.output)] == ["run"]
