"""Issue 26 §4, no silent input, through the faces: a file cut short is left out with its reason by
`extract`, `run` and `predict` and refused by the server; skip reasons of several files are one clean
line each; the empty-transcript warning only where a text branch reads the transcripts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import yaml
from click.testing import CliRunner
from fastapi.testclient import TestClient

from emoframe.bench.evaluate import plan
from emoframe.cli import main
from emoframe.data.manifest import load_manifest
from emoframe.data.synth import generate
from emoframe.deploy.predictor import Predictor
from emoframe.deploy.server import create_app
from emoframe.deploy.train import train_bundle
from emoframe.pipeline import FeatureProvider, Pipeline
from emoframe.plugin import registry as registry_module
from emoframe.spec import parse_spec

from .audio_files import tone

AUDIO = {"audio": {"extractor": "toy.energy", "model": "toy.centroid"}}
TEXT = {"text": {"extractor": "toy.words", "model": "toy.centroid"}}
EVALUATION = {"protocol": "loso", "bootstrap": 20, "max_failure_share": 0.5}


@pytest.fixture
def cli(registry, monkeypatch):
    monkeypatch.setattr(registry_module, "_default", registry)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, [str(a) for a in args])


def cut_in_half(path: Path) -> None:
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return generate(tmp_path_factory.mktemp("trust") / "demo", seed=3, speakers=3, per_class=2)


def copy_corpus(corpus: Path, dest: Path) -> Path:
    shutil.copytree(corpus, dest)
    return dest


def test_extract_lists_each_reason_once_with_its_files_and_leaves_out_a_cut_file(cli, tmp_path):
    rows = []
    for k in range(4):
        sf.write(tmp_path / f"good{k}.wav", tone(0.5, freq=200 + 40 * k), 16000)
        rows.append(f"good{k}")
    for name in ("bad_nan", "bad_nan2"):
        sf.write(tmp_path / f"{name}.wav", np.full(800, np.nan, dtype=np.float32), 16000, subtype="FLOAT")
    for name in ("bad_fmt", "bad_fmt2"):
        (tmp_path / f"{name}.wav").write_bytes(b"this is not audio at all")
    sf.write(tmp_path / "half.wav", tone(1.0), 16000)
    cut_in_half(tmp_path / "half.wav")
    ids = rows + ["bad_nan", "bad_nan2", "bad_fmt", "bad_fmt2", "half", "gone"]
    frame = pd.DataFrame({"id": ids, "audio": [f"{i}.wav" for i in ids], "text": "", "label": "x", "speaker": "s"})
    frame.to_csv(tmp_path / "m.csv", index=False)
    got = cli("extract", "toy.energy", "--manifest", tmp_path / "m.csv", "-j", "1", "--workdir", tmp_path / "wd")
    assert got.exit_code == 1, got.output
    lines = [line for line in got.output.splitlines() if line.startswith("left out ")]
    f = {i: str(tmp_path / f"{i}.wav") for i in ids}
    assert sorted(lines) == sorted(
        [
            f"left out toy.energy: 800 NaN/inf samples; the file is damaged — 2 row(s), e.g. bad_nan ({f['bad_nan']}), "
            f"bad_nan2 ({f['bad_nan2']})",
            "left out toy.energy: unreadable or corrupt audio (Format not recognised.); re-export it as WAV/FLAC — "
            f"2 row(s), e.g. bad_fmt ({f['bad_fmt']}), bad_fmt2 ({f['bad_fmt2']})",
            "left out toy.energy: cut short: the header says 1.000 s of audio (32000 bytes) but the file holds "
            "0.499 s (15978 bytes), as after an interrupted copy or download; copy it again or re-export it — "
            f"1 row(s), e.g. half ({f['half']})",
            f"left out toy.energy: file not found — 1 row(s), e.g. gone ({f['gone']})",
        ]
    )
    assert "<file>" not in got.output and "(/inf)" not in got.output
    assert "toy.energy: 4 of 10 rows extracted" in got.output and "6 left out" in got.output  # the whole files only


def test_group_failures_takes_no_reason_apart():
    from emoframe.evaluation.failures import failure_records, group_failures

    reasons = {"a": "3 NaN/inf samples; the file is damaged", "b": "3 NaN/inf samples; the file is damaged"}
    records = failure_records("x.y", reasons, {"a": "/d/a.wav", "b": "/d/b.wav"}) + failure_records(
        "t.w", {"c": "split on '/' failed: C:\\x;y"}
    )
    lines = [g.line() for g in group_failures(records)]
    assert lines == [
        "x.y: 3 NaN/inf samples; the file is damaged — 2 row(s), e.g. a (/d/a.wav), b (/d/b.wav)",
        "t.w: split on '/' failed: C:\\x;y — 1 row(s), e.g. c",
    ]


def test_a_run_leaves_out_a_cut_file_with_its_reason(cli, corpus, tmp_path):
    root = copy_corpus(corpus, tmp_path / "c")
    frame = pd.read_csv(root / "manifest.csv")
    victim = frame["id"][0]
    cut_in_half(root / frame["audio"][0])
    spec = {"data": {"manifest": str(root / "manifest.csv")}, "evaluation": EVALUATION, "branches": AUDIO}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(spec))
    ran = cli("run", tmp_path / "s.yaml", "-j", "1", "--workdir", tmp_path / "wd")
    assert ran.exit_code == 0, ran.output
    assert "left out toy.energy: cut short: the header says" in ran.output and f"e.g. {victim} (" in ran.output
    listed = cli("failures", "--format", "json", "--workdir", tmp_path / "wd")
    (row,) = [r for r in json.loads(listed.output) if r["kind"] == "row"]
    assert row["what"] == victim and row["reason"].startswith("cut short")
    assert row["file"] == str(root / frame["audio"][0])  # beside the reason, not inside it
    results = cli("results", "--format", "json", "--workdir", tmp_path / "wd")
    (board,) = json.loads(results.output)
    assert board["n"] == len(frame) - 1  # evaluated on the whole files only


@pytest.fixture(scope="module")
def toy_bundle(corpus, tmp_path_factory):
    from emoframe.plugin.registry import Registry

    from . import toy_plugin

    reg = Registry.from_entry_points(allow=[])
    reg.add_plugin(toy_plugin, name="toy")
    out = tmp_path_factory.mktemp("bundle") / "b"
    spec = parse_spec({"data": {"manifest": str(corpus / "manifest.csv")}, "branches": AUDIO})
    train_bundle(spec, out, reg, jobs=1)
    return out, reg


def test_the_server_refuses_a_cut_upload_with_the_reason(toy_bundle, corpus):
    bundle, reg = toy_bundle
    client = TestClient(create_app(Predictor.load(bundle, reg)))
    wav = next((corpus / "wav").iterdir())
    raw = wav.read_bytes()
    whole = client.post("/predict", files={"audio": ("whole.wav", raw, "audio/wav")})
    assert whole.status_code == 200, whole.text
    cut = client.post("/predict", files={"audio": ("take3.wav", raw[: len(raw) // 2], "audio/wav")})
    assert cut.status_code == 422
    detail = cut.json()["detail"]
    assert detail.startswith("toy.energy: cut short: the header says") and "emoframe-serve" not in detail


def test_predict_reports_a_cut_file_and_predicts_the_rest(toy_bundle, corpus, tmp_path, monkeypatch):
    bundle, reg = toy_bundle
    monkeypatch.setattr(registry_module, "_default", reg)
    wavs = sorted((corpus / "wav").iterdir())[:3]
    for w in wavs:
        shutil.copy(w, tmp_path / w.name)
    cut_in_half(tmp_path / wavs[0].name)
    got = CliRunner().invoke(main, ["predict", str(bundle), str(tmp_path), "--format", "json", "--no-cache"])
    assert got.exit_code == 1
    assert f"not predicted {tmp_path / wavs[0].name}: toy.energy: cut short: the header says" in got.output
    assert "2 predicted" in got.output


def test_predict_api_refuses_a_cut_file(toy_bundle, corpus, tmp_path):
    bundle, reg = toy_bundle
    wav = next((corpus / "wav").iterdir())
    raw = wav.read_bytes()
    (tmp_path / "cut.wav").write_bytes(raw[: len(raw) // 2])
    from emoframe.errors import DataError

    with pytest.raises(DataError, match="cut short"):
        Predictor.load(bundle, reg).predict([tmp_path / "cut.wav"])


# -- the empty-transcript warning: only where a text branch reads the transcripts ----------------------------


@pytest.fixture
def blank_transcripts(corpus, tmp_path) -> Path:
    frame = pd.read_csv(corpus / "manifest.csv")
    frame["audio"] = [str(corpus / a) for a in frame["audio"]]
    frame.loc[[0, 3], "text"] = ""
    frame.to_csv(tmp_path / "m.csv", index=False)
    return tmp_path / "m.csv"


def plan_warnings(registry, path: Path, *branch_sets: dict) -> list[str]:
    pipelines = [
        parse_spec({"data": {"manifest": str(path)}, "branches": b, "evaluation": EVALUATION}) for b in branch_sets
    ]
    refs = [r for p in pipelines for r in Pipeline(p, registry).stateless_refs()]
    manifest = load_manifest(path)
    return plan(pipelines[0], registry, FeatureProvider(registry, jobs=1), refs, manifest, None, pipelines).warnings


def test_no_empty_transcript_warning_for_audio_branches_only(registry, blank_transcripts, cli, tmp_path):
    spec = {"data": {"manifest": str(blank_transcripts)}, "evaluation": EVALUATION, "branches": AUDIO}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(spec))
    ran = cli("run", tmp_path / "s.yaml", "-j", "1", "--workdir", tmp_path / "wd")
    assert ran.exit_code == 0, ran.output
    assert "empty transcript" not in ran.output
    assert not any("transcript" in w for w in plan_warnings(registry, blank_transcripts, AUDIO))


def test_the_empty_transcript_warning_names_the_text_branch_that_reads_them(registry, blank_transcripts):
    frame = pd.read_csv(blank_transcripts)
    (warning,) = [w for w in plan_warnings(registry, blank_transcripts, AUDIO, TEXT) if "transcript" in w]
    assert f"2 of {len(frame)} utterance(s) have an empty transcript ({frame['id'][0]}, {frame['id'][3]})" in warning
    assert "1 text branch(es) read them as empty strings (toy.words→toy.centroid: branch 'text')" in warning
    fused = {**AUDIO, **TEXT}
    (warning,) = [w for w in plan_warnings(registry, blank_transcripts, fused) if "transcript" in w]
    assert "branch 'text'" in warning and "branch 'audio'" not in warning


def test_corpus_info_states_empty_transcripts_as_a_fact(cli, blank_transcripts):
    info = cli("corpus", "info", "--manifest", blank_transcripts)
    assert info.exit_code == 0 and "transcripts: 2 empty" in info.output and "warning" not in info.output


def test_a_short_read_is_never_silent(tmp_path, monkeypatch):
    """The guard under the container checks (fault injection: no format here makes libsndfile stop early
    without an error): fewer frames read than the header promised is a damaged file."""
    import emoframe.data.audio as audio

    path = tmp_path / "x.wav"
    sf.write(path, tone(0.5), 16000)

    class StopsEarly(sf.SoundFile):
        def read(self, frames=-1, *args, **kwargs):
            return super().read(frames // 2, *args, **kwargs)

    monkeypatch.setattr(sf, "SoundFile", StopsEarly)
    with pytest.raises(audio.AudioError, match="cut short or damaged: the header says 8000 frames"):
        audio.load_audio(path)


def test_features_cached_from_a_cut_file_are_not_reused(tmp_path):
    """An earlier version read a cut file as a shorter recording and cached its features under the file's
    content: the entry is still there, keyed as today, but the row is left out, not served from it."""
    from emoframe.data.digest import audio_digest
    from emoframe.data.manifest import Manifest
    from emoframe.features import FeatureCache, extract_features
    from emoframe.features.cache import ExtractorKey

    from . import toy_plugin

    paths = [tmp_path / f"u{k}.wav" for k in range(3)]
    for k, p in enumerate(paths):
        sf.write(p, tone(1.0, freq=200 + 50 * k), 16000)
    cut_in_half(paths[0])
    frame = pd.DataFrame({"id": ["u0", "u1", "u2"], "audio": [str(p) for p in paths], "text": "", "label": "x"})
    manifest = Manifest.from_frame(frame.assign(speaker="s"))
    cache = FeatureCache(tmp_path / "cache")
    extractor = toy_plugin.Energy()
    stale = FeatureCache.key(ExtractorKey.of(extractor).digest(), audio_digest(paths[0]), None, None)
    assert cache.put(extractor.name, stale, np.ones(4, dtype=np.float32))  # what the old reader cached
    result = extract_features(extractor, manifest, jobs=1, cache=cache)
    assert result.ids == ["u1", "u2"] and result.failures["u0"].startswith("cut short")


def test_commands_that_store_no_run_print_every_reason(cli, tmp_path):
    """`extract` and `train` store no run, so no `emoframe failures` can show reasons they leave unprinted."""
    rows = []
    for k in range(2):
        sf.write(tmp_path / f"good{k}.wav", tone(0.5, freq=200 + 40 * k), 16000)
        rows.append(f"good{k}")
    for k in range(10):  # ten files cut at ten lengths: ten distinct reasons
        sf.write(tmp_path / f"cut{k}.wav", tone(1.0), 16000)
        raw = (tmp_path / f"cut{k}.wav").read_bytes()
        (tmp_path / f"cut{k}.wav").write_bytes(raw[: 2000 + 400 * k])
        rows.append(f"cut{k}")
    frame = pd.DataFrame({"id": rows, "audio": [f"{i}.wav" for i in rows], "text": "", "label": "x", "speaker": "s"})
    frame.to_csv(tmp_path / "m.csv", index=False)
    got = cli("extract", "toy.energy", "--manifest", tmp_path / "m.csv", "-j", "1", "--workdir", tmp_path / "wd")
    assert got.exit_code == 1, got.output
    shown = [line for line in got.output.splitlines() if line.startswith("left out ")]
    assert len(shown) == 10 and all(f"cut{k} (" in got.output for k in range(10))
    assert "emoframe failures" not in got.output and "more reason" not in got.output


def test_train_on_rows_of_one_class_says_why_the_others_were_left_out(tmp_path, registry):
    from emoframe.errors import DataError

    for k in range(3):
        sf.write(tmp_path / f"good{k}.wav", tone(0.5, freq=200 + 40 * k), 16000)
        sf.write(tmp_path / f"cut{k}.wav", tone(1.0), 16000)
        cut_in_half(tmp_path / f"cut{k}.wav")
    ids = [f"good{k}" for k in range(3)] + [f"cut{k}" for k in range(3)]
    labels = ["happy"] * 3 + ["sad"] * 3  # every 'sad' file is cut: one class is left
    frame = pd.DataFrame({"id": ids, "audio": [f"{i}.wav" for i in ids], "text": "", "label": labels, "speaker": "s"})
    frame.to_csv(tmp_path / "m.csv", index=False)
    spec = parse_spec({"data": {"manifest": str(tmp_path / "m.csv")}, "branches": AUDIO})
    with pytest.raises(DataError) as e:
        train_bundle(spec, tmp_path / "b", registry, jobs=1)
    message = str(e.value)
    assert "3 usable row(s) hold fewer than two classes" in message and "3 row(s) left out:" in message
    assert "left out toy.energy: cut short" in message and "cut0 (" in message
