"""Issue 9 §4: user text is data in every face; read-only and damaged stores; exit codes."""

from __future__ import annotations

import os
import sqlite3
import stat

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from emoframe.cli import main
from emoframe.plugin import registry as registry_module

pytestmark = pytest.mark.slow

MARKUP_NAME = "[/] [bold]x[/bold] $\\alpha^$"


@pytest.fixture
def cli(registry, monkeypatch):
    monkeypatch.setattr(registry_module, "_default", registry)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, [str(a) for a in args])


@pytest.fixture
def hostile_corpus(tmp_path):
    """Labels, speakers and names that are markup in rich and mathtext in matplotlib."""
    rows = []
    for s, speaker in enumerate(["[/]", "$x$", "[red]", "s4"]):
        for label, text in (("$\\alpha^$", "sunny bright day"), ("[/bold]", "rainy grey night")):
            for k in range(3):
                rows.append(
                    {"id": f"{s}-{label}-{k}", "audio": "", "text": f"{text} {k}", "label": label, "speaker": speaker}
                )
    path = tmp_path / "m.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    spec = {
        "name": MARKUP_NAME,
        "data": {"manifest": str(path)},
        "evaluation": {"protocol": "speaker_kfold", "folds": 2, "bootstrap": 20},
        "branches": {
            "text": {
                "extractor": "toy.words",
                "model": ["toy.centroid", {"name": "toy.centroid", "params": {"temperature": 2.0}}],
            }
        },
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    return tmp_path / "spec.yaml"


def test_markup_in_names_labels_and_speakers_is_printed_as_written(cli, hostile_corpus, tmp_path):
    wd = tmp_path / "wd"
    ran = cli("bench", hostile_corpus, "-j", "1", "--workdir", wd, "--report", tmp_path / "report")
    assert ran.exit_code == 0, ran.output
    assert MARKUP_NAME in ran.output
    shown = cli("results", "--workdir", wd)
    assert shown.exit_code == 0 and MARKUP_NAME in shown.output
    report = cli("report", "--out", tmp_path / "r2", "--workdir", wd)
    assert report.exit_code == 0, report.output
    html = (tmp_path / "r2" / "index.html").read_text()
    assert "$\\alpha^$" in html and "[/bold]" in html
    checked = cli("validate", hostile_corpus)
    assert checked.exit_code == 0 and MARKUP_NAME in checked.output


def test_results_and_report_work_on_a_read_only_workdir(cli, hostile_corpus, tmp_path):
    wd = tmp_path / "wd"
    assert cli("bench", hostile_corpus, "-j", "1", "--workdir", wd).exit_code == 0
    for p in [wd, *wd.rglob("*")]:
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        before = sorted(str(p) for p in wd.rglob("*"))
        shown = cli("results", "--workdir", wd)
        assert shown.exit_code == 0 and MARKUP_NAME in shown.output, shown.output
        report = cli("report", "--out", tmp_path / "out", "--workdir", wd)
        assert report.exit_code == 0, report.output
        assert sorted(str(p) for p in wd.rglob("*")) == before
    finally:
        for p in [wd, *wd.rglob("*")]:
            p.chmod(p.stat().st_mode | stat.S_IWUSR)


def test_a_damaged_results_store_is_named_and_kept(cli, tmp_path):
    wd = tmp_path / "wd"
    wd.mkdir()
    (wd / "results.db").write_bytes(b"this is not a database" * 100)
    for args in (("results",), ("report", "--out", tmp_path / "out")):
        result = cli(*args, "--workdir", wd)
        assert result.exit_code == 1 and "damaged" in result.output and "results.db" in result.output, result.output
        assert "Traceback" not in result.output and "internal error" not in result.output
    assert (wd / "results.db").read_bytes().startswith(b"this is not")


def test_a_single_class_corpus_is_bad_input(cli, tmp_path):
    rows = [
        {"id": f"u{i}", "audio": "", "text": f"text {i}", "label": "happy", "speaker": f"s{i % 3}"} for i in range(9)
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "m.csv", index=False)
    spec = {
        "data": {"manifest": str(tmp_path / "m.csv")},
        "branches": {"text": {"extractor": "toy.words", "model": "toy.centroid"}},
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    for command in ("run", "bench"):
        result = cli(command, tmp_path / "spec.yaml", "-j", "1", "--workdir", tmp_path / "wd")
        assert result.exit_code == 2 and "at least two" in result.output, (command, result.output)


@pytest.mark.parametrize("field, value", [("seed", -1), ("seed", 2**32), ("bootstrap", 10**9)])
def test_numbers_that_reach_numpy_are_checked_at_validation(cli, tmp_path, field, value):
    spec = {
        "data": {"corpus": "toy.corpus"},
        "evaluation": {field: value},
        "branches": {"text": {"extractor": "toy.words", "model": "toy.centroid"}},
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    result = cli("validate", tmp_path / "spec.yaml")
    assert result.exit_code == 2 and f"evaluation.{field}" in result.output


def test_a_full_or_unwritable_cache_runs_without_caching_with_one_warning(cli, hostile_corpus, tmp_path):
    wd = tmp_path / "wd"
    wd.mkdir()
    (wd / "cache").write_text("a file where the cache folder would be")
    spec = yaml.safe_load(hostile_corpus.read_text())
    spec["branches"]["audio"] = {"extractor": "toy.energy", "model": "toy.centroid"}
    spec["fusion"] = "fusion.late"
    from emoframe.data.synth import generate

    corpus = generate(tmp_path / "audio", seed=1, speakers=3, per_class=1)
    spec["data"] = {"manifest": str(corpus / "manifest.csv")}
    (tmp_path / "audio.yaml").write_text(yaml.safe_dump(spec))
    result = cli("bench", tmp_path / "audio.yaml", "-j", "1", "--workdir", wd)
    assert result.exit_code == 0, result.output
    assert result.output.count("cannot write the feature cache") == 1
    assert os.path.isfile(wd / "cache")
    sqlite3.connect(wd / "results.db").close()


def test_a_read_only_store_writes_no_file(tmp_path):
    """Even as root (whom permission bits do not stop), reading changes nothing (SQLite's own -wal/-shm
    companions of emoframe's store may appear: they are its read-side housekeeping)."""
    from emoframe.results.store import ResultsStore

    store = ResultsStore(tmp_path / "results.db")
    store.begin_run("r1", "a run", {"x": 1}, [])
    store.close()
    before = (tmp_path / "results.db").read_bytes()
    reader = ResultsStore(tmp_path / "results.db", readonly=True)
    assert [r["name"] for r in reader.runs()] == ["a run"]
    with pytest.raises(Exception, match="readonly|read-only"):
        reader.db.execute("DELETE FROM runs")
    reader.close()
    assert (tmp_path / "results.db").read_bytes() == before
    assert {p.name for p in tmp_path.iterdir()} <= {"results.db", "results.db-wal", "results.db-shm"}
