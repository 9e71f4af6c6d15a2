"""Issue 31 §1 and "Bad input": the Python API of the whole workflow (emoframe.validate / bench / run / runs /
open_run / Run / extract), the same code path as the CLI, and its refusals."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from matplotlib.figure import Figure

import emoframe
from emoframe.api import RunGoneError
from emoframe.api.progress import progress_mode
from emoframe.cli import main
from emoframe.data.synth import generate
from emoframe.errors import EmoframeError, SpecError
from emoframe.plugin import registry as registry_module


@pytest.fixture
def installed(registry, monkeypatch):
    """The toy plugin as the installed plugins (what get_registry() hands the API and the CLI)."""
    monkeypatch.setattr(registry_module, "_default", registry)
    return registry


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return generate(tmp_path_factory.mktemp("corpus") / "c", seed=0, speakers=3, per_class=1) / "manifest.csv"


def fused_spec(corpus: Path) -> dict:
    return {
        "kind": "benchmark",
        "name": "api-tiny",
        "data": {"manifest": str(corpus)},
        "evaluation": {"protocol": "loso", "bootstrap": 20},
        "branches": {
            "audio": {"extractor": "toy.energy", "model": "toy.centroid"},
            "text": {"extractor": "toy.words", "model": "toy.centroid"},
        },
        "fusion": "fusion.late",
    }


@pytest.fixture(scope="module")
def ran(corpus, tmp_path_factory):
    """One benchmark run through the API (module-wide: the toy registry installed for its length)."""
    from emoframe.plugin.registry import Registry

    from . import toy_plugin

    reg = Registry.from_entry_points(allow=[])
    reg.add_plugin(toy_plugin, name="toy")
    old = registry_module._default
    registry_module._default = reg
    wd = tmp_path_factory.mktemp("wd")
    try:
        yield emoframe.bench(fused_spec(corpus), workdir=wd, jobs=1, progress=False), wd
    finally:
        registry_module._default = old


def test_the_notebook_names_are_public_and_lazy():
    import subprocess
    import sys

    for name in ("validate", "bench", "run", "runs", "open_run", "Run", "extract"):
        assert name in emoframe.__all__ and hasattr(emoframe, name), name
    probe = "import sys, emoframe; print(sorted(m for m in ('pandas', 'matplotlib', 'click') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out


def test_a_run_reads_as_dataframes_figures_and_html(ran, installed):
    run, wd = ran
    board = run.leaderboard
    assert isinstance(board, pd.DataFrame) and len(board) == 3  # the fused pipeline and its two parts
    assert list(board.index) == [1, 2, 3] and board["uar"].between(0, 1).all()
    assert run.verdicts and all(v for v in run.verdicts.values())
    preds = run.predictions
    classes = run.classes
    assert {"pipeline", "fold", "id", "true", "predicted", *[f"p_{c}" for c in classes]} <= set(preds.columns)
    assert len(preds) == 3 * 12  # every utterance tested once per pipeline (3 speakers × 4 classes)
    assert (preds[[f"p_{c}" for c in classes]].sum(axis=1) - 1).abs().max() < 1e-4  # stored to 5 decimals
    assert list(run.failures.columns) == ["kind", "what", "component", "fold", "reason", "file"]
    html = run._repr_html_()
    assert "pooled UAR" in html or "UAR" in html
    assert all(v in html for v in run.verdicts.values())
    assert isinstance(run.plot.uar(), Figure) and isinstance(run.plot.fusion_gain(), Figure)
    assert isinstance(run.plot.confusion(1), Figure)
    with pytest.raises(ValueError, match="no robustness data .* no audio perturbation sweep"):
        run.plot.robustness()
    assert isinstance(run.plot.cost(), Figure)  # every pipeline records its fit time
    with pytest.raises(ValueError, match="no tuned pipeline"):
        run.plot.tuning()
    with pytest.raises(ValueError, match="no training curves"):
        run.plot.training_curves()
    compared = run.compare(1, 2)
    assert compared["verdict"] and compared["n"] == 12
    page = run.report(wd / "report").read_text()
    assert "Contents" in page and all(v in page for v in run.verdicts.values())
    for w in run.warnings:
        assert w in page


def test_a_run_trains_a_bundle_that_loads_and_predicts(ran, installed, corpus):
    run, wd = ran
    bundle = run.train(1)
    model = emoframe.load(str(bundle))
    rows = pd.read_csv(corpus).head(3)
    audio = [str(corpus.parent / a) for a in rows["audio"]]
    labels = model.predict(audio, texts=list(rows["text"]))
    assert len(labels) == 3 and set(labels) <= set(run.classes)


def test_open_run_and_runs_read_the_same_run(ran, installed):
    run, wd = ran
    listed = emoframe.runs(wd)
    assert list(listed["id"]) == [run.id] and listed.loc[0, "status"] == "complete"
    opened = emoframe.open_run(run.id[:8], workdir=wd)
    assert opened.id == run.id and opened.leaderboard.equals(run.leaderboard)
    assert emoframe.open_run(workdir=wd).id == run.id  # None: the latest, as every command


def test_the_cli_resumes_what_the_api_stored(ran, installed, corpus, tmp_path):
    """One code path: the CLI's bench keys the same run and finds every fold the API stored."""
    run, wd = ran
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(fused_spec(corpus)))
    result = CliRunner().invoke(main, ["bench", str(spec), "-j", "1", "--workdir", str(wd), "--report", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "0 to run, 9 already in the store" in result.output
    assert f"run {run.id[:12]}" in result.output


@pytest.mark.parametrize("form", ["path", "text", "dict", "object"])
def test_validate_takes_a_path_text_a_dict_or_a_spec(installed, corpus, tmp_path, form):
    doc = fused_spec(corpus)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(doc))
    given = {
        "path": path,
        "text": yaml.safe_dump(doc),
        "dict": doc,
        "object": emoframe.validate(doc),
    }[form]
    spec = emoframe.validate(given)
    assert spec.name == "api-tiny" and spec.fusion is not None
    doc.pop("kind")
    assert emoframe.run(doc, workdir=tmp_path / "wd", jobs=1, progress=False).rows[0].fused


def test_validate_raises_every_problem_with_its_path(installed, corpus):
    doc = fused_spec(corpus)
    doc["branches"]["audio"]["model"] = "toy.centroidd"
    doc["branches"]["text"]["extractor"] = "toy.wordz"
    with pytest.raises(SpecError) as err:
        emoframe.validate(doc)
    paths = [p.path for p in err.value.problems]
    assert "branches.audio.model" in paths and "branches.text.extractor" in paths, paths
    doc["evaluation"]["folds"] = 1  # a structural problem: said with its path too
    with pytest.raises(SpecError) as err:
        emoframe.validate(yaml.safe_dump(doc))
    assert [p.path for p in err.value.problems] == ["evaluation.folds"]


def test_bench_with_a_bad_spec_does_no_work(installed, corpus, tmp_path):
    doc = fused_spec(corpus)
    doc["branches"]["text"]["extractor"] = "toy.nope"
    with pytest.raises(SpecError, match="toy.nope"):
        emoframe.bench(doc, workdir=tmp_path / "wd", jobs=1, progress=False)
    assert not (tmp_path / "wd").exists()  # never a partial run: nothing was written


def test_run_refuses_a_benchmark_spec(installed, corpus, tmp_path):
    doc = fused_spec(corpus)
    with pytest.raises(SpecError, match="emoframe.bench"):
        emoframe.run(doc, workdir=tmp_path / "wd", jobs=1, progress=False)
    assert not (tmp_path / "wd").exists()


def test_a_workdir_that_is_not_emoframes_is_refused_by_the_api_and_the_cli(installed, corpus, tmp_path):
    wd = tmp_path / "theirs"
    wd.mkdir()
    db = sqlite3.connect(wd / "results.db")
    db.execute("CREATE TABLE users (name TEXT)")
    db.commit()
    db.close()
    before = (wd / "results.db").read_bytes()
    with pytest.raises(EmoframeError, match="did not write") as err:
        emoframe.bench(fused_spec(corpus), workdir=wd, jobs=1, progress=False)
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(fused_spec(corpus)))
    result = CliRunner().invoke(main, ["bench", str(spec), "-j", "1", "--workdir", str(wd)])
    assert result.exit_code == 2 and str(err.value) in " ".join(result.output.split()), result.output
    assert (wd / "results.db").read_bytes() == before and sorted(p.name for p in wd.iterdir()) == ["results.db"]
    a_file = tmp_path / "a-file"
    a_file.write_text("mine")
    with pytest.raises(EmoframeError, match="is a file, not a folder"):
        emoframe.bench(fused_spec(corpus), workdir=a_file, jobs=1, progress=False)


def test_a_run_whose_store_was_deleted_says_so(installed, corpus, tmp_path):
    wd = tmp_path / "wd"
    run = emoframe.bench(fused_spec(corpus), workdir=wd, jobs=1, progress=False)
    assert len(run.leaderboard) == 3
    (wd / "results.db").unlink()
    for read in (lambda: run.leaderboard, lambda: run.predictions, lambda: run.plot.uar(), lambda: run.report()):
        with pytest.raises(RunGoneError, match="is gone"):
            read()


def test_extract_returns_features_indexed_by_utterance_id(installed, corpus, tmp_path):
    frame = emoframe.extract("toy.energy", manifest=corpus, workdir=tmp_path / "wd", jobs=1, progress=False)
    ids = pd.read_csv(corpus)["id"].astype(str).tolist()
    assert frame.index.name == "id" and sorted(frame.index) == sorted(ids)
    assert frame.shape[1] >= 1 and frame.columns[0] == "toy.energy[0]"
    again = emoframe.extract("toy.energy", manifest=corpus, workdir=tmp_path / "wd", jobs=1, progress=False)
    pd.testing.assert_frame_equal(frame, again)
    with pytest.raises(SpecError, match="give a corpus or a manifest"):
        emoframe.extract("toy.energy")


def test_progress_can_be_switched_off(monkeypatch):
    assert progress_mode(False) == "off"
    monkeypatch.setenv("EMOFRAME_PROGRESS", "0")
    assert progress_mode(None) == "off"
