"""Bundles: a fitted pipeline saved in safe formats and loaded back to identical probabilities;
unsafe, damaged or incompatible bundles refused with a reason; nothing written that emoframe did not own."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from emoframe import BundleError
from emoframe.data.manifest import load_manifest
from emoframe.deploy.bundle import read_bundle, write_bundle
from emoframe.deploy.train import train_bundle
from emoframe.pipeline import FeatureProvider, Pipeline
from emoframe.plugin.registry import Registry
from emoframe.spec import parse_spec

REG = Registry.from_entry_points()
LATE = {
    "name": "late",
    "branches": {
        "audio": {"extractor": "opensmile.egemaps", "model": "sklearn.svc"},
        "text": {"extractor": "sklearn.tfidf", "model": "sklearn.svc"},
    },
    "fusion": {"name": "fusion.late", "params": {"weights": "learned"}},
    "evaluation": {"folds": 2, "inner_folds": 2},
}
EARLY = {
    "name": "early",
    "branches": {
        "audio": {"extractor": "opensmile.egemaps", "normalise": "speaker"},
        "text": {"extractor": "vader.scores"},
    },
    "fusion": {"name": "fusion.early", "params": {"reduce": 8}},
    "model": "sklearn.logreg",
}
GATED_TORCH = {
    "name": "gated",
    "branches": {
        "audio": {
            "extractor": "opensmile.egemaps_lld",
            "model": {"name": "torch.cnn", "params": {"epochs": 2, "channels": 8}},
        },
        "text": {"extractor": "vader.scores", "model": "vader.rules"},
    },
    "fusion": "fusion.gated",
    "evaluation": {"folds": 2, "inner_folds": 2},
}


class Untrusted:
    """Any class outside scikit-learn: loading must refuse it (module level so skops can name it)."""

    def __init__(self) -> None:
        self.x = 1


class Payload:
    """A pickle that would create a file when unpickled."""

    def __init__(self, target: str):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from emoframe.data.synth import generate

    root = tmp_path_factory.mktemp("bundle-corpus") / "demo"
    generate(root, seed=3, speakers=4, per_class=3)
    return root / "manifest.csv"


def spec_for(doc: dict, manifest: Path):
    return parse_spec({**doc, "data": {"manifest": str(manifest)}})


@pytest.fixture(scope="module")
def late_bundle(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("late") / "bundle"
    train_bundle(spec_for(LATE, corpus), out, REG, jobs=1)
    return out


def _fit(doc: dict, corpus: Path) -> tuple[Pipeline, object]:
    m = load_manifest(corpus)
    pipe = Pipeline(spec_for(doc, corpus), REG).fit(m, FeatureProvider(REG))
    return pipe, m


@pytest.mark.parametrize("doc", [LATE, EARLY, GATED_TORCH], ids=["late-svc", "early-logreg-pca", "gated-cnn-rules"])
def test_a_bundle_predicts_what_the_fitted_pipeline_predicted(doc, corpus, tmp_path):
    pipe, m = _fit(doc, corpus)
    before = pipe.predict_proba(m, FeatureProvider(REG))
    write_bundle(pipe, tmp_path / "b", {"rows": len(m)}, registry=REG)
    loaded, meta = read_bundle(tmp_path / "b", REG)
    after = loaded.predict_proba(m, FeatureProvider(REG))
    assert np.max(np.abs(before - after)) <= 1e-6
    assert meta["classes"] == sorted(set(m.labels))
    assert {e["name"] for e in meta["components"]} >= {
        b["extractor"] for b in doc["branches"].values() if isinstance(b["extractor"], str)
    }


def test_bundle_holds_only_safe_formats(late_bundle):
    suffixes = {p.suffix for p in late_bundle.rglob("*") if p.is_file()}
    assert suffixes <= {".json", ".skops", ".safetensors", ".sha256", ""}  # "" is the ownership marker
    meta = json.loads((late_bundle / "bundle.json").read_text())
    assert meta["format"] == 2 and meta["training"]["rows"] == 48 and meta["training"]["manifest_digest"]
    assert {e["distribution"] for e in meta["components"]} == {"emoframe-opensmile", "emoframe-sklearn", "emoframe"}


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def _relist(bundle: Path) -> None:
    """Recompute bundle.sha256, as an attacker who edits the files would (the checks behind it must hold)."""
    from emoframe.deploy.bundle import write_sums

    write_sums(bundle)


def test_a_pickle_payload_is_refused_and_never_runs(late_bundle, tmp_path):
    target = tmp_path / "pwned"
    for victim in ("branches/audio/model/estimator-0.skops", "branches/text/extractor/estimator-0.skops"):
        b = _copy(late_bundle, tmp_path / victim.replace("/", "_"))
        (b / victim).write_bytes(pickle.dumps(Payload(str(target))))
        _relist(b)
        with pytest.raises(BundleError, match="not a skops file.*never unpickles"):
            read_bundle(b, REG)
    assert not target.exists()


def test_a_planted_pickle_file_is_refused(late_bundle, tmp_path):
    b = _copy(late_bundle, tmp_path / "b")
    (b / "fusion" / "weights.pkl").write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(BundleError, match="weights.pkl: a file emoframe did not write"):
        read_bundle(b, REG)


def test_an_untrusted_type_is_refused(late_bundle, tmp_path):
    import skops.io as sio

    b = _copy(late_bundle, tmp_path / "b")
    sio.dump({"model": Untrusted()}, b / "branches/audio/model/estimator-0.skops")
    _relist(b)
    with pytest.raises(BundleError, match=r"test_bundle.Untrusted.*does not trust; refusing"):
        read_bundle(b, REG)


def test_damaged_arrays_and_changed_bytes_are_refused(late_bundle, tmp_path):
    b = _copy(late_bundle, tmp_path / "b")
    path = b / "branches/audio/model/estimator-0.skops"
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="changed since emoframe wrote it"):
        read_bundle(b, REG)
    b2 = _copy(late_bundle, tmp_path / "b2")
    (b2 / "branches/text/model/estimator-0.skops").unlink()
    with pytest.raises(BundleError, match="missing from the bundle"):
        read_bundle(b2, REG)


def test_safetensors_holding_a_pickle_is_refused(corpus, tmp_path):
    pipe, m = _fit(GATED_TORCH, corpus)
    write_bundle(pipe, tmp_path / "b", {}, registry=REG)
    target = tmp_path / "pwned"
    arrays = tmp_path / "b/branches/audio/model/arrays.safetensors"
    assert arrays.is_file()
    arrays.write_bytes(pickle.dumps(Payload(str(target))))
    _relist(tmp_path / "b")
    with pytest.raises(BundleError, match="not a readable safetensors file"):
        read_bundle(tmp_path / "b", REG)
    assert not target.exists()


def _edit(bundle: Path, change) -> None:
    meta = json.loads((bundle / "bundle.json").read_text())
    change(meta)
    (bundle / "bundle.json").write_text(json.dumps(meta))
    _relist(bundle)


def test_incompatible_bundles_say_what_is_missing(late_bundle, tmp_path):
    b = _copy(late_bundle, tmp_path / "newer")
    _edit(b, lambda m: m.update(format=3))
    with pytest.raises(BundleError, match="format 3 was written by a newer emoframe.*upgrade emoframe"):
        read_bundle(b, REG)

    b = _copy(late_bundle, tmp_path / "version")
    _edit(b, lambda m: m["components"][1].update(version="7", distribution_version="9.9"))
    with pytest.raises(
        BundleError, match=r"'sklearn.svc' is version 2 here .* trained with version 7 .*emoframe-sklearn==9.9"
    ):
        read_bundle(b, REG)

    b = _copy(late_bundle, tmp_path / "missing")
    _edit(b, lambda m: m["components"][0].update(name="wav2vec.magic", distribution="emoframe-magic"))
    with pytest.raises(
        BundleError,
        match=r"'wav2vec.magic' is not installed; it comes from emoframe-magic: pip install emoframe-magic==0.1.0",
    ):
        read_bundle(b, REG)

    with pytest.raises(BundleError, match="not an emoframe bundle"):
        read_bundle(tmp_path, REG)


def test_writing_never_touches_what_emoframe_did_not_create(corpus, late_bundle, tmp_path):
    pipe, _ = _fit(LATE, corpus)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    for force in (False, True):
        with pytest.raises(BundleError, match="exists and is not empty"):
            write_bundle(pipe, mine, {}, registry=REG, force=force)
    assert (mine / "notes.txt").read_text() == "keep me" and len(list(mine.iterdir())) == 1
    # a bundle emoframe wrote is replaced with --force, and only then
    b = _copy(late_bundle, tmp_path / "old")
    with pytest.raises(BundleError, match="--force"):
        write_bundle(pipe, b, {}, registry=REG)
    write_bundle(pipe, b, {"rows": 1}, registry=REG, force=True)
    assert json.loads((b / "bundle.json").read_text())["training"] == {"rows": 1}
    read_bundle(b, REG)
    # a file someone put inside the bundle stops the replacement before anything is deleted
    (b / "fusion" / "my-notes.txt").write_text("mine")
    with pytest.raises(BundleError, match=r"holds file\(s\) emoframe did not write there \(fusion/my-notes.txt\)"):
        write_bundle(pipe, b, {"rows": 2}, registry=REG, force=True)
    assert (b / "fusion" / "my-notes.txt").read_text() == "mine"
    assert json.loads((b / "bundle.json").read_text())["training"] == {"rows": 1}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


class Exploding:
    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def state(self):
        raise RuntimeError("disk full")


def test_a_failed_write_leaves_nothing_behind(corpus, tmp_path):
    pipe, _ = _fit(LATE, corpus)
    pipe.fusion = Exploding(pipe.fusion)
    with pytest.raises(RuntimeError, match="disk full"):
        write_bundle(pipe, tmp_path / "b", {}, registry=REG)
    assert list(tmp_path.iterdir()) == []


def test_state_that_cannot_be_saved_safely_is_named(tmp_path):
    from emoframe.deploy.state import save_state

    with pytest.raises(BundleError, match=r"model_: a builtins.function cannot be saved safely.*override"):
        save_state({"model_": lambda x: x}, tmp_path)
    with pytest.raises(BundleError, match="dtype object cannot be saved safely"):
        save_state({"a_": np.array([{}, 1], dtype=object)}, tmp_path)


def test_train_on_a_split_only(corpus, tmp_path):
    import pandas as pd

    df = pd.read_csv(corpus)
    df["split"] = np.where(df["speaker"].isin(sorted(df["speaker"].unique())[:3]), "train", "test")
    path = corpus.parent / "with_split.csv"
    df.to_csv(path, index=False)
    out = train_bundle(spec_for(LATE, path), tmp_path / "b", REG, split="train", jobs=1)
    assert out.rows == 36
    meta = json.loads((tmp_path / "b/bundle.json").read_text())
    assert meta["training"]["split"] == "train" and meta["training"]["speakers"] == 3
    from emoframe import DataError

    with pytest.raises(DataError, match="no row has split 'dev'"):
        train_bundle(spec_for(LATE, path), tmp_path / "c", REG, split="dev", jobs=1)


def test_a_fresh_process_loads_sklearn_and_torch_components(corpus, tmp_path):
    """skops is imported with torch held back (it would import torch only to list estimators); a bundle
    whose other branch is a torch model still loads torch itself and predicts the same."""
    import subprocess
    import sys

    pipe, m = _fit(GATED_TORCH, corpus)
    expected = pipe.predict_proba(m, FeatureProvider(REG))
    write_bundle(pipe, tmp_path / "b", {}, registry=REG)
    np.save(tmp_path / "expected.npy", expected)
    code = (
        "import sys, numpy as np\n"
        "from emoframe.deploy.state import skops_io\n"
        "skops_io(); assert 'torch' not in sys.modules, 'skops pulled torch in'\n"
        "from emoframe.deploy.bundle import read_bundle\n"
        "from emoframe.data.manifest import load_manifest\n"
        "from emoframe.pipeline import FeatureProvider\n"
        "pipe, _ = read_bundle(sys.argv[1])\n"
        "P = pipe.predict_proba(load_manifest(sys.argv[2]), FeatureProvider())\n"
        "assert np.max(np.abs(P - np.load(sys.argv[3]))) <= 1e-6\n"
        "assert 'torch' in sys.modules\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "b"), str(corpus), str(tmp_path / "expected.npy")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-2000:]
