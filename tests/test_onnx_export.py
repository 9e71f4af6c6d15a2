"""`emoframe export --onnx`: the trainable stages as ONNX graphs that onnxruntime runs to the same
probabilities (≤ 1e-4) on the demo corpus; a pipeline that cannot be exported names the component."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from emoframe import BundleError
from emoframe.cli import main
from emoframe.data.manifest import load_manifest
from emoframe.deploy.onnx_export import OnnxPipeline, export_onnx
from emoframe.deploy.predictor import Predictor
from emoframe.deploy.train import train_bundle
from emoframe.plugin.registry import Registry
from emoframe.spec import parse_spec

REG = Registry.from_entry_points()
TORCH = {"epochs": 2, "channels": 8, "batch_size": 8}
CASES = {
    "late-svc-tfidf": {
        "branches": {
            "audio": {"extractor": "opensmile.egemaps", "model": "sklearn.svc"},
            "text": {"extractor": "sklearn.tfidf", "model": "sklearn.svc"},
        },
        "fusion": {"name": "fusion.late", "params": {"weights": "learned"}},
        "evaluation": {"folds": 2, "inner_folds": 2},
    },
    "early-pca-logreg": {
        "branches": {"audio": {"extractor": "opensmile.egemaps"}, "text": {"extractor": "vader.scores"}},
        "fusion": {"name": "fusion.early", "params": {"reduce": 8, "weights": {"text": 2.0}}},
        "model": "sklearn.logreg",
    },
    "cnn+forest": {
        "branches": {
            "audio": {"extractor": "opensmile.egemaps_lld", "model": {"name": "torch.cnn", "params": TORCH}},
            "text": {
                "extractor": "vader.scores",
                "model": {"name": "sklearn.random_forest", "params": {"n_estimators": 20}},
            },
        },
        "fusion": "fusion.late",
    },
    "lstm": {
        "branches": {
            "audio": {
                "extractor": "opensmile.egemaps_lld",
                "model": {"name": "torch.lstm", "params": {"epochs": 2, "hidden": 8, "frame_stride": 2}},
            }
        }
    },
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from emoframe.data.synth import generate

    root = tmp_path_factory.mktemp("onnx") / "demo"
    generate(root, seed=6, speakers=4, per_class=3)
    return root / "manifest.csv"


def _bundle(doc, corpus, path):
    train_bundle(parse_spec({**doc, "data": {"manifest": str(corpus)}}), path, REG, jobs=1)
    return Predictor.load(path, REG)


@pytest.mark.parametrize("case", sorted(CASES))
def test_onnx_gives_the_bundles_probabilities(case, corpus, tmp_path):
    model = _bundle(CASES[case], corpus, tmp_path / "bundle")
    m = load_manifest(corpus)
    meta = export_onnx(model, tmp_path / "onnx", check=m)
    assert meta["parity"]["rows"] == len(m) and meta["parity"]["max_abs_diff"] <= 1e-4
    # and independently of the export's own check: a fresh runner from the folder
    runner = OnnxPipeline(tmp_path / "onnx", model)
    provider = model.provider()
    expected = model.pipeline.predict_proba(m, provider)
    assert np.max(np.abs(runner.predict_proba(m, provider) - expected)) <= 1e-4
    one = m.take([len(m) - 1])  # a batch of one, other lengths than the export's example
    assert np.max(np.abs(runner.predict_proba(one, provider) - expected[-1:])) <= 1e-4
    written = json.loads((tmp_path / "onnx" / "export.json").read_text())
    assert all((tmp_path / "onnx" / f).is_file() for f in written["files"])
    assert "feature extraction" in written["in_python"]


def test_what_cannot_be_exported_is_named(corpus, tmp_path):
    doc = {
        "branches": {
            "audio": {"extractor": "opensmile.egemaps", "model": "sklearn.svc"},
            "text": {"extractor": "vader.scores", "model": "vader.rules"},
        },
        "fusion": "fusion.gated",
        "evaluation": {"folds": 2, "inner_folds": 2},
    }
    model = _bundle(doc, corpus, tmp_path / "bundle")
    with pytest.raises(BundleError) as err:
        export_onnx(model, tmp_path / "onnx")
    text = str(err.value)
    assert "model 'vader.rules'" in text and "fusion 'fusion.gated'" in text and "model 'sklearn.svc'" not in text
    assert not (tmp_path / "onnx").exists() and not list(tmp_path.glob(".tmp-onnx-*"))


def test_export_command(corpus, tmp_path):
    _bundle(CASES["late-svc-tfidf"], corpus, tmp_path / "bundle")
    r = CliRunner().invoke(
        main, ["export", str(tmp_path / "bundle"), "--onnx", str(tmp_path / "onnx"), "--check", str(corpus)]
    )
    assert r.exit_code == 0, r.output
    assert "exported 3 ONNX graph(s)" in r.output and "largest probability difference" in r.output
    again = CliRunner().invoke(main, ["export", str(tmp_path / "bundle"), "--onnx", str(tmp_path / "onnx")])
    assert again.exit_code != 0 and "--force" in again.output
    forced = CliRunner().invoke(main, ["export", str(tmp_path / "bundle"), "--onnx", str(tmp_path / "onnx"), "--force"])
    assert forced.exit_code == 0, forced.output
