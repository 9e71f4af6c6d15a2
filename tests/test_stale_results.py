"""Issue 9 §2: a figure is never reused when the data under it changed; the old run stays readable."""

from __future__ import annotations

import pandas as pd
import pytest
import soundfile as sf
from click.testing import CliRunner

from emoframe import registry as registry_module
from emoframe.bench.runner import run_benchmark
from emoframe.cli import main
from emoframe.data.manifest import load_manifest
from emoframe.errors import DataError
from emoframe.results.leaderboard import leaderboard
from emoframe.results.store import ResultsStore
from emoframe.spec import parse_spec

pytestmark = pytest.mark.slow


@pytest.fixture
def corpus(tmp_path):
    from emoframe.data.synth import generate

    return generate(tmp_path / "corpus", seed=5, speakers=4, per_class=2) / "manifest.csv"


def spec(manifest):
    return parse_spec(
        {
            "name": "stale",
            "data": {"manifest": str(manifest)},
            "evaluation": {"protocol": "speaker_kfold", "folds": 2, "bootstrap": 20},
            "branches": {
                "audio": {"extractor": "toy.energy", "model": "toy.centroid"},
                "text": {"extractor": "toy.words", "model": "toy.centroid"},
            },
            "fusion": ["fusion.late", "fusion.vote"],
        }
    )


def edit(manifest, column, row, value):
    frame = pd.read_csv(manifest, dtype=str, keep_default_na=False)
    frame.loc[row, column] = value
    frame.to_csv(manifest, index=False)


@pytest.mark.parametrize("change", ["transcript", "label", "audio"])
def test_changed_data_is_a_new_run_and_the_old_one_stays(corpus, registry, tmp_path, change):
    first = run_benchmark(spec(corpus), registry, tmp_path / "wd", jobs=1)
    same = run_benchmark(spec(corpus), registry, tmp_path / "wd", jobs=1)
    assert same.run_id == first.run_id and same.ran == 0 and same.skipped > 0  # resume: nothing to do
    if change == "transcript":
        edit(corpus, "text", 3, "an entirely different transcript")
    elif change == "label":
        frame = pd.read_csv(corpus, dtype=str)
        edit(corpus, "label", 3, "sad" if frame.loc[3, "label"] != "sad" else "happy")
    else:
        path = load_manifest(corpus).frame["audio"][3]
        x, sr = sf.read(path)
        sf.write(path, x[::-1].copy(), sr, subtype="PCM_16")  # same file name, other content
    second = run_benchmark(spec(corpus), registry, tmp_path / "wd", jobs=1)
    assert second.run_id != first.run_id and second.skipped == 0 and second.ran == first.ran
    store = ResultsStore(tmp_path / "wd" / "results.db")
    try:
        assert {r["id"] for r in store.runs()} == {first.run_id, second.run_id}
        old, new = leaderboard(store, first.run_id), leaderboard(store, second.run_id)
        assert len(old) == len(new) and all(r["status"] == "done" for r in old + new)
    finally:
        store.close()


def test_results_and_report_read_every_run_after_a_label_change(corpus, registry, tmp_path, monkeypatch):
    monkeypatch.setattr(registry_module, "_default", registry)
    first = run_benchmark(spec(corpus), registry, tmp_path / "wd", jobs=1)
    frame = pd.read_csv(corpus, dtype=str)
    frame.loc[frame["label"] == "angry", "label"] = "furious"
    frame.to_csv(corpus, index=False)
    second = run_benchmark(spec(corpus), registry, tmp_path / "wd", jobs=1)
    runner = CliRunner()
    for run in (first.run_id, second.run_id):
        shown = runner.invoke(main, ["results", "--run", run, "--workdir", str(tmp_path / "wd")])
        assert shown.exit_code == 0, shown.output
        written = runner.invoke(main, ["report", run, "--out", str(tmp_path / run), "--workdir", str(tmp_path / "wd")])
        assert written.exit_code == 0, written.output


def test_non_utf8_transcripts_are_reported_not_replaced(tmp_path):
    rows = "id,audio,text,label,speaker\nu1,,caf\xe9 au lait,happy,s1\nu2,,plain text,sad,s2\n"
    path = tmp_path / "latin1.csv"
    path.write_bytes(rows.encode("latin-1"))
    with pytest.raises(DataError, match=r"line 2.*not valid utf-8.*encoding"):
        load_manifest(path, require_audio=False)
    m = load_manifest(path, require_audio=False, encoding="latin-1")
    assert m.texts[0] == "café au lait"
