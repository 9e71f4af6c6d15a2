"""Repeats of the protocol and the cost of every pipeline, end to end on a tiny corpus with real estimators."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from emoframe.bench.events import BenchmarkCancelled, PipelineFoldFinished, RunPlanned
from emoframe.bench.runner import run_benchmark
from emoframe.cli import main
from emoframe.errors import SpecError
from emoframe.plugin.registry import Registry
from emoframe.results.leaderboard import compare_pipelines, leaderboard
from emoframe.results.report import write_report
from emoframe.results.store import ResultsStore
from emoframe.spec import parse_spec

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from emoframe.data.synth import generate

    root = tmp_path_factory.mktemp("repeats")
    generate(root / "demo", seed=3, speakers=6, per_class=2)
    return root / "demo" / "manifest.csv"


@pytest.fixture(scope="module")
def reg():
    return Registry.from_entry_points()


def doc(manifest: Path, repeats: int | None = None, **evaluation) -> dict:
    ev = {"protocol": "speaker_kfold", "folds": 2, "bootstrap": 200, **evaluation}
    if repeats is not None:
        ev["repeats"] = repeats
    return {
        "name": "rep",
        "data": {"manifest": str(manifest)},
        "evaluation": ev,
        "branches": {
            "audio": {"extractor": "opensmile.egemaps", "model": "sklearn.logreg"},
            "text": {"extractor": "sklearn.tfidf", "model": "sklearn.logreg"},
        },
        "fusion": ["fusion.late"],
    }


def board(db: Path, run_id: str) -> list:
    store = ResultsStore(db, readonly=True)
    try:
        return leaderboard(store, run_id)
    finally:
        store.close()


def figures(rows):
    return [(r.pipeline, r.uar, r.uar_ci_low, r.uar_ci_high, r.gain_pts, r.repeat_uars, r.uar_repeat_std) for r in rows]


def test_repeats_pool_every_repeat_and_show_their_spread(corpus, reg, tmp_path):
    one = run_benchmark(parse_spec(doc(corpus)), reg, tmp_path / "one", jobs=1)
    three = run_benchmark(parse_spec(doc(corpus, 3)), reg, tmp_path / "three", jobs=1)
    assert three.ran == 3 * one.ran == 3 * 3 * 2  # 3 pipelines × 2 folds × 3 repeats
    rows1 = {r.pipeline: r for r in board(tmp_path / "one" / "results.db", one.run_id)}
    store = ResultsStore(tmp_path / "three" / "results.db", readonly=True)
    rows3 = {r.pipeline: r for r in leaderboard(store, three.run_id)}
    for name, r in rows3.items():
        assert r.repeats == 3 and len(r.repeat_uars) == 3 and r.folds == "6/6" and r.status == "done"
        assert r.uar_repeat_std is not None and r.uar_repeat_std > 0  # the folds were cut three ways
        assert r.uar == pytest.approx(sum(r.repeat_uars) / 3)  # every row scored once per repeat
        # repeat 0 is the run without repeats: same seed, same folds, same predictions
        assert r.repeat_uars[0] == pytest.approx(rows1[name].uar)
        assert rows1[name].repeats == 1 and rows1[name].uar_repeat_std is None and rows1[name].repeat_uars == ()
        assert r.n == rows1[name].n  # rows evaluated, not row-predictions
    fused = next(r for r in rows3.values() if r.fused)
    assert fused.gain_pts is not None and fused.verdict
    d = compare_pipelines(store, three.run_id, "1", "2")
    assert d["repeats"] == [3, 3] and len(d["uar_a_repeats"]) == 3
    # repeats 1 and 2 live in their own table; repeat 0 where every fold always was
    con = sqlite3.connect(tmp_path / "three" / "results.db")
    assert con.execute("SELECT COUNT(*) FROM folds").fetchone()[0] == 6
    assert sorted(r[0] for r in con.execute("SELECT DISTINCT repeat FROM repeat_folds")) == [1, 2]
    store.close()


def test_same_spec_and_seed_give_the_same_figures(corpus, reg, tmp_path):
    outs = []
    for wd in ("a", "b"):
        out = run_benchmark(parse_spec(doc(corpus, 2)), reg, tmp_path / wd, jobs=1)
        outs.append(figures(board(tmp_path / wd / "results.db", out.run_id)))
    assert outs[0] == outs[1]
    other = run_benchmark(parse_spec(doc(corpus, 2, seed=5)), reg, tmp_path / "c", jobs=1)
    assert figures(board(tmp_path / "c" / "results.db", other.run_id)) != outs[0]


def test_a_run_with_repeats_resumes_per_repeat(corpus, reg, tmp_path):
    spec = parse_spec(doc(corpus, 3))
    seen: list[PipelineFoldFinished] = []
    planned: list[RunPlanned] = []

    def stop_after_first_repeat(event):
        if isinstance(event, RunPlanned):
            planned.append(event)
        if isinstance(event, PipelineFoldFinished):
            seen.append(event)
            if len(seen) == 6:  # 3 pipelines × 2 folds: repeat 1 of 3 done
                raise BenchmarkCancelled

    with pytest.raises(BenchmarkCancelled):
        run_benchmark(spec, reg, tmp_path, jobs=1, events=stop_after_first_repeat)
    assert planned[0].repeats == 3 and planned[0].folds == 6 and planned[0].pending == 18
    again = run_benchmark(spec, reg, tmp_path, jobs=1)
    assert (again.ran, again.skipped) == (12, 6)  # only the repeats not stored yet
    assert {r.folds for r in board(tmp_path / "results.db", again.run_id)} == {"6/6"}
    assert run_benchmark(spec, reg, tmp_path, jobs=1).ran == 0


def test_cost_columns_are_stored_and_exported(corpus, reg, tmp_path):
    out = run_benchmark(parse_spec(doc(corpus)), reg, tmp_path, jobs=1)
    con = sqlite3.connect(tmp_path / "results.db")
    costs = con.execute("SELECT fit_s, fit_cpu_s, predict_ms, predict_rows, state_bytes, peak_mb FROM fold_costs")
    costs = costs.fetchall()
    assert len(costs) == 6
    for fit_s, fit_cpu_s, predict_ms, rows, state_bytes, peak_mb in costs:
        assert fit_s > 0 and fit_cpu_s > 0 and predict_ms > 0 and rows > 0 and state_bytes > 1000 and peak_mb > 10
    # the cost stays out of the fold's JSON (its own table holds it)
    (result,) = con.execute("SELECT result FROM folds LIMIT 1").fetchone()
    assert "fit_cpu_s" not in json.loads(result) and "curves" not in json.loads(result)
    rows = board(tmp_path / "results.db", out.run_id)
    fused = next(r for r in rows if r.fused)
    parts = [r for r in rows if not r.fused]
    # the fused pipeline's standalone cost includes the branch fits it shared with its parts
    assert fused.fit_s > max(p.fit_s for p in parts) and fused.state_bytes > max(p.state_bytes for p in parts)
    assert any(r.pareto for r in rows)
    cli = CliRunner()
    table = cli.invoke(main, ["results", "--workdir", str(tmp_path), "--cost"])
    assert table.exit_code == 0, table.output
    for header in ("fit s (CPU)", "predict ms/utt", "state KB", "peak MB", "front", "accuracy/cost front"):
        assert header in table.output
    records = json.loads(cli.invoke(main, ["results", "--workdir", str(tmp_path), "--cost", "--format", "json"]).output)
    assert all({"fit_cpu_s", "predict_ms", "state_bytes", "peak_mb", "pareto"} <= set(r) for r in records)
    csv = cli.invoke(main, ["results", "--workdir", str(tmp_path), "--cost", "--format", "csv"]).output
    assert csv.splitlines()[0].startswith("rank,id,pipeline,uar,repeats,uar_repeat_std,fit_s,fit_cpu_s")


def test_torch_training_curves_are_stored_and_plotted(corpus, reg, tmp_path):
    spec = {
        "name": "curves",
        "data": {"manifest": str(corpus)},
        "evaluation": {"protocol": "speaker_kfold", "folds": 2, "bootstrap": 50},
        "branches": {
            "audio": {
                "extractor": "opensmile.egemaps_lld",
                "model": {"name": "torch.cnn", "params": {"epochs": 4, "patience": 10, "channels": 8, "layers": 1}},
            }
        },
    }
    out = run_benchmark(parse_spec(spec), reg, tmp_path, jobs=1)
    assert not out.errors
    con = sqlite3.connect(tmp_path / "results.db")
    curve = con.execute("SELECT fold, model, epoch, train_loss, val_uar, best_epoch FROM training_curves").fetchall()
    assert {(f, e) for f, _, e, *_ in curve} == {(f, e) for f in (1, 2) for e in range(1, 5)}
    assert {m for _, m, *_ in curve} == {"audio: torch.cnn"}
    assert all(loss > 0 and 0 <= val <= 1 and 1 <= best <= 4 for *_, loss, val, best in curve)
    (row,) = board(tmp_path / "results.db", out.run_id)
    assert row.best_epoch is not None and row.epochs_run == 4
    store = ResultsStore(tmp_path / "results.db", readonly=True)
    page = write_report(store, out.run_id, tmp_path / "report", [row]).read_text()
    store.close()
    assert "<h2 id='curves'>Training curves</h2>" in page and "alt='training curves per fold'" in page
    assert "<h2 id='cost'>Cost beside accuracy</h2>" in page and "href='#curves'" in page


# -- bad input --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "evaluation, path, words",
    [
        ({"protocol": "loso", "repeats": 3}, "evaluation.repeats", "same in every repeat"),
        ({"protocol": "speaker_kfold", "folds": 6, "repeats": 2}, "evaluation.repeats", "only 1 distinct"),
        ({"protocol": "speaker_kfold", "folds": 8, "repeats": 2}, "evaluation.folds", "at least 8 speakers"),
        ({"repeats": 0}, "evaluation.repeats", "greater than or equal to 1"),
        ({"repeats": 101}, "evaluation.repeats", "less than or equal to 100"),
    ],
)
def test_validate_refuses_repeats_the_protocol_or_speakers_cannot_support(corpus, tmp_path, evaluation, path, words):
    d = doc(corpus)
    d["evaluation"] = {"bootstrap": 100, **evaluation}
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(d))
    result = CliRunner().invoke(main, ["validate", str(spec)])
    assert result.exit_code == 2, result.output
    assert path in result.output and words in result.output


def test_bench_refuses_repeats_the_speakers_cannot_support_before_extracting(corpus, reg, tmp_path):
    with pytest.raises(SpecError, match="evaluation.repeats") as e:
        run_benchmark(parse_spec(doc(corpus, 2, folds=6)), reg, tmp_path, jobs=1)
    assert "lower evaluation.folds" in str(e.value)
    assert not (tmp_path / "cache").exists()  # refused before any feature was extracted


def test_one_repeat_is_todays_spec():
    a = parse_spec({"data": {"corpus": "demo"}, "branches": {"text": {"extractor": "sklearn.tfidf", "model": "m"}}})
    b = parse_spec({"data": {"corpus": "demo"}, "evaluation": {"repeats": 1}, "branches": a.to_dict()["branches"]})
    assert a.digest() == b.digest() and "repeats" not in b.to_dict()["evaluation"]


def test_evaluate_from_python_runs_every_repeat(corpus, reg):
    from emoframe.bench.evaluate import evaluate

    d = {
        "data": {"manifest": str(corpus)},
        "evaluation": {"protocol": "speaker_kfold", "folds": 2, "bootstrap": 50, "repeats": 2},
        "branches": {"text": {"extractor": "sklearn.tfidf", "model": "sklearn.logreg"}},
    }
    result = evaluate(parse_spec(d), reg)
    assert result.repeats == 2 and len(result.folds) == 4 and len(result.repeat_uars) == 2
    assert sorted({fr.repeat for fr in result.folds}) == [0, 1]


def test_the_tradeoff_section_names_the_front_and_sets_the_cnn_against_the_bilstm():
    from emoframe.results.leaderboard import LeaderboardRow, add_pareto
    from emoframe.results.tradeoff import tradeoff_lines

    def row(name: str, uar: float, fit: float, **more) -> LeaderboardRow:
        figures = dict(uar=uar, uar_ci_low=uar - 0.05, uar_ci_high=uar + 0.05, fit_s=fit, fit_cpu_s=fit * 1.5)
        return LeaderboardRow(pipeline=name, id=name * 4, fused=False, folds="5/5", status="done", **figures | more)

    rows = add_pareto(
        [
            row("lld→torch.cnn(epochs=15)", 0.61, 22.4, best_epoch=9.2, epochs_run=13.0, repeats=3,
                uar_repeat_std=0.021, repeat_uars=(0.6, 0.63, 0.6)),
            row("lld→torch.lstm(epochs=15)", 0.58, 24.3, best_epoch=7.4, epochs_run=11.0, repeats=3,
                uar_repeat_std=0.034, repeat_uars=(0.55, 0.6, 0.59)),
            row("egemaps→sklearn.svc", 0.55, 0.4),
        ]
    )  # fmt: skip
    assert [r.pareto for r in rows] == [True, False, True]
    front, cnn, lstm = tradeoff_lines(rows)
    assert "torch.cnn" in front and "sklearn.svc" in front and "torch.lstm" not in front
    assert "UAR 0.610" in cnn and "±0.021 (3 repeats)" in cnn and "fit 22.4 s wall / 33.6 s CPU" in cnn
    assert "best epoch 9.2 of 13.0" in cnn and "best epoch 7.4 of 11.0" in lstm
    # one repeat: the spread is said to be unmeasured, not shown as zero
    single = add_pareto([row("a→torch.cnn", 0.6, 1.0), row("a→torch.lstm", 0.5, 2.0)])
    assert "not measured (evaluation.repeats: 1)" in tradeoff_lines(single)[1]
