"""Issue 9 §2: a figure is never reused when the data under it changed; the old run stays readable."""

from __future__ import annotations

import pandas as pd
import pytest
import soundfile as sf
from click.testing import CliRunner

from emoframe.bench.runner import run_benchmark
from emoframe.cli import main
from emoframe.data.manifest import load_manifest
from emoframe.errors import DataError
from emoframe.plugin import registry as registry_module
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
        assert len(old) == len(new) and all(r.status == "done" for r in old + new)
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


# -- issue 26 §2: a figure comes from today's code, not only today's version string -------------------------


def code_grid(manifest):
    """Two pipelines on cc.energy: one scored by cc.centroid, one by toy.centroid; 2 folds each."""
    return parse_spec(
        {
            "name": "code",
            "kind": "benchmark",
            "data": {"manifest": str(manifest)},
            "evaluation": {"protocol": "speaker_kfold", "folds": 2, "bootstrap": 20},
            "branches": {"audio": {"extractor": "cc.energy", "model": ["cc.centroid", "toy.centroid"]}},
        }
    )


def bench(manifest, root, wd):
    """Run the grid with the plugin as it is on disk now; the outcome and the RunPlanned event."""
    from emoframe.bench.events import RunPlanned

    from . import code_plugin as cp

    planned = []
    out = run_benchmark(code_grid(manifest), cp.registry(root), wd, jobs=1, events=planned.append)
    return out, next(e for e in planned if isinstance(e, RunPlanned))


def stored_code(wd, run_id):
    store = ResultsStore(wd / "results.db", readonly=True)
    try:
        return store.fold_code(run_id)
    finally:
        store.close()


def test_a_model_edited_without_a_version_bump_reruns_exactly_its_pipeline_folds(corpus, code_plugin, tmp_path):
    from . import code_plugin as cp

    wd = tmp_path / "wd"
    first, _ = bench(corpus, code_plugin, wd)
    assert first.ran == 4
    again, planned = bench(corpus, code_plugin, wd)
    assert (again.ran, again.skipped, planned.code_changes) == (0, 4, ())
    before = stored_code(wd, first.run_id)
    cp.write(code_plugin, sharpness="2.5")  # scoring.py, a helper module of models.py: version "1" untouched
    edited, planned = bench(corpus, code_plugin, wd)
    assert edited.run_id == first.run_id  # the same run: only its stale folds are computed again
    assert (edited.ran, edited.skipped, planned.pending) == (2, 2, 2)
    (line,) = planned.code_changes
    assert line == (
        f"cc.centroid's code changed since run {first.run_id[:12]} was stored (version 1 unchanged): "
        "rerunning 2 pipeline-fold(s) of 1 pipeline(s)"
    )
    for key, now in stored_code(wd, first.run_id).items():  # each fold carries the code that computed it
        assert (now != before[key]) == ("cc.centroid" in now), key
    settled, planned = bench(corpus, code_plugin, wd)
    assert (settled.ran, planned.code_changes) == (0, ())


def test_a_stale_fold_that_fails_on_todays_code_keeps_no_figures_of_the_old_code(corpus, code_plugin, tmp_path):
    from . import code_plugin as cp

    wd = tmp_path / "wd"
    first, _ = bench(corpus, code_plugin, wd)
    cp.write(code_plugin, sharpness="float('nan')")  # the edited model now returns NaN probabilities
    broken, _ = bench(corpus, code_plugin, wd)
    assert broken.run_id == first.run_id and len(broken.errors) == 2
    store = ResultsStore(wd / "results.db", readonly=True)
    try:
        rows = {r.pipeline: r for r in leaderboard(store, first.run_id)}
    finally:
        store.close()
    assert rows["cc.energy→cc.centroid"].status == "failed" and rows["cc.energy→cc.centroid"].uar is None
    assert rows["cc.energy→toy.centroid"].status == "done"


def test_an_interrupted_rerun_of_changed_code_never_pools_folds_of_the_older_code(corpus, code_plugin, tmp_path):
    from emoframe.bench.events import BenchmarkCancelled, PipelineFoldFinished

    from . import code_plugin as cp

    wd = tmp_path / "wd"
    first, _ = bench(corpus, code_plugin, wd)
    cp.write(code_plugin, sharpness="2.5")  # cc.centroid's helper module: its 2 folds are stale

    def stop_after_one(event):
        if isinstance(event, PipelineFoldFinished):
            raise BenchmarkCancelled

    with pytest.raises(BenchmarkCancelled):
        run_benchmark(code_grid(corpus), cp.registry(code_plugin), wd, jobs=1, events=stop_after_one)
    store = ResultsStore(wd / "results.db", readonly=True)
    try:
        old = {pid for pid, _ in store.stale_folds(first.run_id)}
        rows = {r.pipeline: r for r in leaderboard(store, first.run_id)}
    finally:
        store.close()
    edited = rows["cc.energy→cc.centroid"]
    assert len(old) == 1 and edited.id in old  # one of its two folds is still the older code's
    assert edited.folds == "1/2" and "1 fold(s) of older code left out" in edited.status, edited
    assert 0 < edited.n < rows["cc.energy→toy.centroid"].n  # scored on the fold of today's code only
    assert rows["cc.energy→toy.centroid"].status == "done"
    finished, _ = bench(corpus, code_plugin, wd)  # the next run reruns exactly the fold left
    assert finished.ran == 1
    store = ResultsStore(wd / "results.db", readonly=True)
    try:
        assert store.stale_folds(first.run_id) == set()
        assert {r.status for r in leaderboard(store, first.run_id)} == {"done"}
    finally:
        store.close()


def test_an_extractor_edited_without_a_version_bump_reruns_every_pipeline_using_it(corpus, code_plugin, tmp_path):
    from . import code_plugin as cp

    wd = tmp_path / "wd"
    first, _ = bench(corpus, code_plugin, wd)
    cp.write(code_plugin, extra="float(e.min())")  # features.py: same width, other values
    edited, planned = bench(corpus, code_plugin, wd)
    assert edited.run_id == first.run_id and (edited.ran, edited.skipped) == (4, 0)
    assert planned.code_changes == (
        f"cc.energy's code changed since run {first.run_id[:12]} was stored (version 1 unchanged): "
        "rerunning 4 pipeline-fold(s) of 2 pipeline(s)",
    )


def test_bench_says_which_component_changed(corpus, code_plugin, tmp_path, monkeypatch):
    import yaml

    from . import code_plugin as cp

    (tmp_path / "grid.yaml").write_text(yaml.safe_dump(code_grid(corpus).to_dict()))
    args = ["bench", str(tmp_path / "grid.yaml"), "-j", "1", "--workdir", str(tmp_path / "wd")]
    monkeypatch.setattr(registry_module, "_default", cp.registry(code_plugin))
    assert CliRunner().invoke(main, args).exit_code == 0
    cp.write(code_plugin, sharpness="0.25")
    monkeypatch.setattr(registry_module, "_default", cp.registry(code_plugin))
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "2 to run, 2 already in the store" in result.output
    assert "code changed: cc.centroid's code changed since run" in result.output
    assert "(version 1 unchanged): rerunning 2 pipeline-fold(s) of 1 pipeline(s)" in result.output


OLD_SCHEMA = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY, name TEXT, spec TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL,
    classes TEXT, warnings TEXT, failures TEXT, n_folds INTEGER, n_rows INTEGER, base_dir TEXT, asr TEXT
);
CREATE TABLE pipelines (
    run_id TEXT NOT NULL, id TEXT NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL, spec TEXT NOT NULL,
    fused INTEGER NOT NULL, PRIMARY KEY (run_id, id)
);
CREATE TABLE folds (
    run_id TEXT NOT NULL, pipeline_id TEXT NOT NULL, fold INTEGER NOT NULL, result TEXT NOT NULL,
    test_uar REAL NOT NULL, finished REAL NOT NULL, PRIMARY KEY (run_id, pipeline_id, fold)
);
CREATE TABLE errors (
    run_id TEXT NOT NULL, pipeline_id TEXT NOT NULL, fold INTEGER NOT NULL, message TEXT NOT NULL, at REAL NOT NULL
);
"""


def as_old_store(new, old) -> None:
    """Copy a store into the schema emoframe had before it recorded code digests."""
    import sqlite3

    src, dst = sqlite3.connect(new), sqlite3.connect(old)
    dst.executescript(OLD_SCHEMA)
    for table in ("runs", "pipelines", "folds", "errors"):
        columns = [r[1] for r in dst.execute(f"PRAGMA table_info({table})")]
        rows = src.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
        dst.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(columns))})", rows)
    dst.commit()
    src.close()
    dst.close()


def test_a_store_from_before_code_digests_is_read_and_its_folds_rerun_once(corpus, code_plugin, tmp_path):
    wd = tmp_path / "wd"
    first, _ = bench(corpus, code_plugin, tmp_path / "new")
    wd.mkdir()
    as_old_store(tmp_path / "new" / "results.db", wd / "results.db")
    readonly = ResultsStore(wd / "results.db", readonly=True)
    try:  # readable as it is, nothing written
        assert [r.status for r in leaderboard(readonly, first.run_id)] == ["done", "done"]
        assert set(readonly.fold_code(first.run_id).values()) == {None}
    finally:
        readonly.close()
    resumed, planned = bench(corpus, code_plugin, wd)
    assert resumed.run_id == first.run_id and resumed.ran == 4
    (line,) = planned.code_changes
    assert "4 pipeline-fold(s) of 2 pipeline(s)" in line and "stored before emoframe recorded the code" in line
    assert None not in stored_code(wd, first.run_id).values()
    assert bench(corpus, code_plugin, wd)[0].ran == 0


def test_train_from_a_run_whose_code_changed_is_refused_naming_the_component(corpus, code_plugin, tmp_path):
    """A bundle trained with today's code must not carry figures (or a rank) the older code produced."""
    from emoframe.deploy.train import choose_stored_pipeline, stored_pipeline
    from emoframe.errors import StaleResultsError
    from emoframe.results.code_check import changed_since_stored

    from . import code_plugin as cp

    wd = tmp_path / "wd"
    first, _ = bench(corpus, code_plugin, wd)
    store = ResultsStore(wd / "results.db", readonly=True)
    try:
        assert changed_since_stored(store, first.run_id, cp.registry(code_plugin)) == {}
        assert choose_stored_pipeline(store, first.run_id, "1", cp.registry(code_plugin)).figures["uar"] >= 0
    finally:
        store.close()
    cp.write(code_plugin, sharpness="3.0")  # cc.centroid's helper module, version "1" kept
    store = ResultsStore(wd / "results.db", readonly=True)
    try:
        today = cp.registry(code_plugin)
        assert changed_since_stored(store, first.run_id, today) == {"cc.centroid": ["cc.energy→cc.centroid"]}
        for ref in ("1", "2", "cc.energy→toy.centroid"):  # a rank of a stale run is stale too, whichever it is
            with pytest.raises(StaleResultsError, match=r"cc.centroid's code changed since run .* rerun the bench"):
                stored_pipeline(store, first.run_id, ref, today)
        stored_pipeline(store, first.run_id, "1")  # without a registry (no code to compare): as before
    finally:
        store.close()
    bench(corpus, code_plugin, wd)  # the rerun of the affected folds makes the run today's code's again
    store = ResultsStore(wd / "results.db", readonly=True)
    try:
        assert changed_since_stored(store, first.run_id, cp.registry(code_plugin)) == {}
    finally:
        store.close()


def test_results_compare_report_warn_and_train_refuses_when_the_code_changed(
    corpus, code_plugin, tmp_path, monkeypatch
):
    from . import code_plugin as cp

    wd = tmp_path / "wd"
    first, _ = bench(corpus, code_plugin, wd)
    runner = CliRunner()
    w = ["--workdir", str(wd)]
    monkeypatch.setattr(registry_module, "_default", cp.registry(code_plugin))
    clean = runner.invoke(main, ["results", *w])
    assert clean.exit_code == 0 and "code changed" not in clean.output
    cp.write(code_plugin, sharpness="0.5")
    monkeypatch.setattr(registry_module, "_default", cp.registry(code_plugin))
    line = (
        f"warning: cc.centroid's code changed since run {first.run_id[:12]} was stored: the figures of "
        "cc.energy→cc.centroid are the older code's"
    )
    for args in (["results", *w], ["compare", first.run_id[:8], "1", "2", *w]):
        got = runner.invoke(main, args)
        assert got.exit_code == 0 and line in got.output, (args, got.output)
    got = runner.invoke(main, ["report", "--out", str(tmp_path / "rep"), *w])
    assert got.exit_code == 0 and line in got.output
    assert "cc.centroid&#x27;s code changed since run" in (tmp_path / "rep" / "index.html").read_text()
    refused = runner.invoke(main, ["train", "--pipeline", "1", "--out", str(tmp_path / "b"), *w])
    assert refused.exit_code == 2 and "rerun the benchmark first, then train" in refused.output, refused.output
    assert not (tmp_path / "b").exists()
