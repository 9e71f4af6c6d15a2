"""export_onnx's steps one by one: check the target → make the graphs → parity → what was there before."""

from __future__ import annotations

import json

import pytest

from emoframe import BundleError
from emoframe.data.manifest import load_manifest
from emoframe.deploy.onnx_export import (
    EXPORT,
    check_target,
    export_graphs,
    export_onnx,
    parity,
    previous_files,
)
from emoframe.deploy.predictor import Predictor
from emoframe.deploy.train import train_bundle
from emoframe.plugin.registry import Registry
from emoframe.spec import parse_spec

pytest.importorskip("skl2onnx")
REG = Registry.from_entry_points()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    from emoframe.data.synth import generate

    root = tmp_path_factory.mktemp("onnx-steps")
    generate(root / "demo", seed=6, speakers=4, per_class=2)
    doc = {
        "data": {"manifest": str(root / "demo" / "manifest.csv")},
        "branches": {
            "audio": {"extractor": "opensmile.egemaps", "model": "sklearn.logreg"},
            "text": {"extractor": "vader.scores", "model": "sklearn.logreg"},
        },
        "fusion": "fusion.late",
    }
    train_bundle(parse_spec(doc), root / "bundle", REG, jobs=1)
    return Predictor.load(root / "bundle", REG), root / "demo" / "manifest.csv"


def test_check_target_refuses_a_folder_emoframe_did_not_write(tmp_path):
    check_target(tmp_path / "new", force=False)
    (tmp_path / "empty").mkdir()
    check_target(tmp_path / "empty", force=True)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(BundleError, match="not empty; choose a new folder$"):
        check_target(tmp_path / "mine", force=True)  # --force replaces an export, never someone's folder
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def test_export_graphs_names_each_graph_in_the_meta(bundle):
    model, _ = bundle
    graphs, meta = export_graphs(model)
    assert sorted(graphs) == ["branches/audio.onnx", "branches/text.onnx", "fusion.onnx"]
    assert all(data[:2] for data in graphs.values())
    assert meta["branches"]["text"]["extractor"]["name"] == "vader.scores"
    assert meta["branches"]["audio"]["model"]["file"] == "branches/audio.onnx"
    assert meta["fusion"]["file"] == "fusion.onnx" and "model" not in meta
    assert meta["classes"] == model.classes


def test_parity_compares_the_bundle_with_graphs_in_a_folder(bundle, tmp_path):
    model, manifest = bundle
    graphs, meta = export_graphs(model)
    for rel, data in graphs.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    meta["files"] = sorted(graphs)
    m = load_manifest(manifest)
    got = parity(tmp_path, model, meta, m)
    assert got["rows"] == len(m) and got["max_abs_diff"] <= 1e-4


def test_previous_files_reads_the_marker_then_the_old_export_json(bundle, tmp_path):
    model, _ = bundle
    meta = export_onnx(model, tmp_path / "onnx")
    previous = previous_files(tmp_path / "onnx")
    assert set(previous) == {EXPORT, *meta["files"]} and all(previous.values())  # each with its sha256
    old = tmp_path / "old"
    old.mkdir()
    (old / EXPORT).write_text(json.dumps({"files": ["fusion.onnx"]}))
    assert previous_files(old) == {EXPORT: None, "fusion.onnx": None}
    assert previous_files(tmp_path / "absent") == {EXPORT: None}
