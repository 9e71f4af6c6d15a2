"""`emoframe predict` and `emoframe.load`: every usable input predicted, every bad one reported with its
reason, nothing partial written, the Python API agreeing with the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from click.testing import CliRunner

import emoframe
from emoframe.cli import main
from emoframe.deploy.train import train_bundle
from emoframe.plugin.registry import Registry
from emoframe.spec import parse_spec

REG = Registry.from_entry_points()
LATE = {
    "branches": {
        "audio": {"extractor": "opensmile.egemaps", "model": "sklearn.svc"},
        "text": {"extractor": "sklearn.tfidf", "model": "sklearn.svc"},
    },
    "fusion": {"name": "fusion.late", "params": {"weights": "learned"}},
    "evaluation": {"folds": 2, "inner_folds": 2},
}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from emoframe.data.synth import generate

    base = tmp_path_factory.mktemp("predict")
    root = base / "demo"
    generate(root, seed=4, speakers=4, per_class=3)
    manifest = root / "manifest.csv"
    bundle = base / "bundle"
    train_bundle(parse_spec({**LATE, "data": {"manifest": str(manifest)}}), bundle, REG, jobs=1)
    text_bundle = base / "text-bundle"
    text_spec = {"branches": {"text": {"extractor": "sklearn.tfidf", "model": "sklearn.logreg"}}}
    train_bundle(parse_spec({**text_spec, "data": {"manifest": str(manifest)}}), text_bundle, REG, jobs=1)
    # new recordings: a folder with a sub-folder, sidecar transcripts, and three bad files
    frame = pd.read_csv(manifest)
    new = base / "new"
    (new / "sub").mkdir(parents=True)
    for i, row in frame.head(4).iterrows():
        dest = new / ("sub" if i == 3 else "") / Path(row["audio"]).name
        shutil.copy(root / row["audio"], dest)
        dest.with_suffix(".txt").write_text(row["text"])
    (new / "broken.wav").write_bytes(b"RIFF not really")
    sf.write(new / "silent.wav", np.zeros(16000, dtype=np.float32), 16000)
    (new / "broken.txt").write_text("hello")
    (new / "silent.txt").write_text("hello")
    shutil.copy(root / frame["audio"][5], new / "untranscribed.wav")
    return {
        "root": root,
        "manifest": manifest,
        "bundle": bundle,
        "text_bundle": text_bundle,
        "new": new,
        "frame": frame,
    }


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_a_folder_is_predicted_and_bad_files_are_reported(setup, tmp_path):
    out = tmp_path / "p.csv"
    r = run("predict", str(setup["bundle"]), str(setup["new"]), "--out", str(out), "--workdir", str(tmp_path / "wd"))
    assert r.exit_code == 1, r.output
    table = pd.read_csv(out)
    ok = table[table["error"].isna()]
    assert len(ok) == 4 and set(ok["label"]) <= {"angry", "happy", "neutral", "sad"}
    assert {"audio:angry", "text:sad", "weight:audio", "weight:text"} <= set(table.columns)
    np.testing.assert_allclose(ok[["angry", "happy", "neutral", "sad"]].sum(axis=1), 1.0, atol=1e-9)
    errors = dict(zip(table["id"].map(lambda p: Path(p).name), table["error"]))
    assert "corrupt" in errors["broken.wav"] and "silent" in errors["silent.wav"]
    assert "no transcript" in errors["untranscribed.wav"]
    assert "broken.wav" in r.output and "3 input(s) not predicted; 4 predicted" in r.output


def test_text_option_fills_missing_transcripts_and_formats_agree(setup, tmp_path):
    wav = setup["new"] / "untranscribed.wav"
    j = run("predict", str(setup["bundle"]), str(wav), "--text", "I am furious", "--format", "json")
    assert j.exit_code == 0, j.output
    record = json.loads(j.stdout)[0]
    lines = run("predict", str(setup["bundle"]), str(wav), "--text", "I am furious", "--format", "jsonl")
    assert json.loads(lines.stdout.splitlines()[0]) == record
    csv = run("predict", str(setup["bundle"]), str(wav), "--text", "I am furious", "--format", "csv")
    row = pd.read_csv(pd.io.common.StringIO(csv.stdout)).iloc[0]
    assert row["label"] == record["label"] and abs(row["angry"] - record["angry"]) < 1e-12


def test_a_manifest_input_and_missing_files(setup, tmp_path):
    frame = setup["frame"].head(5)[["id", "audio", "text"]].copy()
    frame.loc[4, "audio"] = "wav/does-not-exist.wav"
    path = setup["root"] / "to_predict.csv"  # relative audio paths resolve against the manifest's folder
    frame.to_csv(path, index=False)
    r = run("predict", str(setup["bundle"]), str(path), "--format", "json", "--no-cache")
    assert r.exit_code == 1
    records = json.loads(r.stdout)
    assert [x["id"] for x in records if "label" in x] == list(frame["id"][:4])
    assert "not found" in next(x["error"] for x in records if x["id"] == frame["id"][4])
    nothing = run("predict", str(setup["bundle"]), str(tmp_path / "nope.wav"))
    assert nothing.exit_code == 1 and "file not found" in nothing.output


def test_out_is_never_partial_nor_clobbered(setup, tmp_path, monkeypatch):
    out = tmp_path / "keep.csv"
    out.write_text("my own file\n")
    wav = setup["new"] / "untranscribed.wav"
    r = run("predict", str(setup["bundle"]), str(wav), "--text", "x", "--out", str(out))
    assert r.exit_code != 0 and "--force" in r.output and out.read_text() == "my own file\n"
    from emoframe.deploy.predictor import Predictor

    def crash(self, manifest, provider=None):
        raise RuntimeError("killed mid-way")

    monkeypatch.setattr(Predictor, "predict_manifest", crash)
    fresh = tmp_path / "fresh.csv"
    r = run("predict", str(setup["bundle"]), str(wav), "--text", "x", "--out", str(fresh))
    assert r.exit_code != 0 and not fresh.exists() and not list(tmp_path.glob(".tmp-*"))


def test_text_only_bundle_predicts_transcripts(setup):
    path = setup["root"] / "texts.csv"
    pd.DataFrame({"id": ["a", "b", "c"], "text": ["I am so angry", "what a lovely day", ""]}).to_csv(path, index=False)
    r = run("predict", str(setup["text_bundle"]), str(path), "--format", "json")
    records = json.loads(r.stdout)
    assert [x.get("label") is not None for x in records] == [True, True, False]
    assert "no transcript" in records[2]["error"] and r.exit_code == 1


def test_python_api_matches_the_command_line(setup):
    model = emoframe.load(setup["bundle"])
    frame = setup["frame"].head(3)
    paths = [str(setup["root"] / a) for a in frame["audio"]]
    P = model.predict_proba(paths, texts=list(frame["text"]))
    assert list(P.columns) == ["angry", "happy", "neutral", "sad"] and len(P) == 3
    cli = run(
        "predict", str(setup["bundle"]), paths[0], "--text", frame["text"].iloc[0], "--format", "json", "--no-cache"
    )
    record = json.loads(cli.stdout)[0]
    assert abs(P.iloc[0]["sad"] - record["sad"]) < 1e-12
    # in-memory signals give the same answer as their files
    signals = [sf.read(p, dtype="float32") for p in paths]
    Q = model.predict_proba([(x, sr) for x, sr in signals], texts=list(frame["text"]))
    np.testing.assert_allclose(P.to_numpy(), Q.to_numpy(), atol=1e-6)
    assert list(model.predict(paths, texts=list(frame["text"]))) == list(P.to_numpy().argmax(1).choose(model.classes))
    with pytest.raises(emoframe.DataError, match="input-1: .*no transcript"):
        model.predict_proba(paths[:2], texts=[frame["text"].iloc[0], None])
    with pytest.raises(emoframe.DataError, match="2 input.*but 1 transcript"):
        model.predict_proba(paths[:2], texts=["only one"])


def test_branch_weights_are_shown_only_where_the_fusion_has_them(setup, tmp_path):
    doc = {**LATE, "fusion": "fusion.vote", "data": {"manifest": str(setup["manifest"])}}
    train_bundle(parse_spec(doc), tmp_path / "vote", REG, jobs=1)
    model = emoframe.load(tmp_path / "vote")
    assert "audio:angry" in model.columns() and not [c for c in model.columns() if c.startswith("weight:")]
    wav = setup["new"] / "untranscribed.wav"
    r = run("predict", str(tmp_path / "vote"), str(wav), "--text", "hello", "--format", "csv", "--no-cache")
    assert r.exit_code == 0 and r.stdout.splitlines()[0].split(",") == model.columns()


def test_an_undecodable_sidecar_costs_that_file_only(setup, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in ("a.wav", "b.wav"):
        shutil.copy(setup["new"] / "untranscribed.wav", folder / name)
    (folder / "a.txt").write_text("I am fine")
    (folder / "b.txt").write_bytes(b"caf\xe9 au lait")  # latin-1, not UTF-8
    r = run("predict", str(setup["bundle"]), str(folder), "--format", "json", "--no-cache")
    records = {Path(x["id"]).name: x for x in json.loads(r.stdout)}
    assert r.exit_code == 1 and "label" in records["a.wav"]
    assert "b.txt" in records["b.wav"]["error"] and "not valid utf-8" in records["b.wav"]["error"]
