"""Verdict boundaries, asserted word for word on every face.

Constructed predictions put the fusion gain's 95% CI wholly above zero, across it (about [−1, +5]
points), touching it from above (low bound exactly 0), touching it from below (high bound exactly 0)
and wholly below it. The rule (docs/evaluation.md): "helped" only when the low bound is above zero,
"hurt" only when the high bound is below it; an interval that touches zero shows nothing. Each verdict
is computed independently (tests/stats_reference.py) and must read the same, character for character,
in the CLI (`results`, `results --format json`, `compare`), the HTML report and the TUI; the leaderboard
order (the rank `train --pipeline N` uses) is checked against the pooled UARs.
"""

from __future__ import annotations

import html
import io
import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from rich.console import Console

from emoframe.cli import main
from emoframe.deploy.train import stored_pipeline
from emoframe.errors import EmoframeError
from emoframe.evaluation.records import FoldResult
from emoframe.evaluation.stats import comparison_verdict, fusion_outcome, paired_difference, paired_gain, verdict
from emoframe.registry import Registry
from emoframe.results.leaderboard import compare_pipelines, gain_text, leaderboard, table_cells
from emoframe.results.store import ResultsStore
from emoframe.spec import parse_spec
from emoframe.tui.app import EmoframeApp
from emoframe.tui.screens.results import ResultsScreen

from . import stats_reference as ref

CLASSES = ["angry", "happy", "neutral", "sad"]
K, ROWS, RESAMPLES, SEED = 4, 200, 800, 2  # not the defaults: each face must read them from the run
RUN = "verdicts-0123456789"  # longer than the 12 characters a message shows

#: case → (base's wrong rows the fused pipeline gets right, base's right rows it gets wrong, expected outcome)
CASES = {
    "above": (30, 0, "helped"),
    "straddles": (7, 3, "none"),
    "touches from above": (1, 0, "none"),
    "touches from below": (0, 1, "none"),
    "below": (0, 30, "hurt"),
}


def predictions() -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(truth, base, weak, fused per case), coded: base is right on about 60% of rows, weak on about 30%;
    each fused pipeline is base with some of its errors mended and some of its hits broken."""
    rng = np.random.default_rng(7)
    t = np.tile(np.arange(K), ROWS // K)
    base = np.where(rng.random(ROWS) < 0.6, t, (t + 1) % K)
    weak = np.where(rng.random(ROWS) < 0.3, t, (t + 3) % K)
    wrong, right = np.flatnonzero(base != t), np.flatnonzero(base == t)
    fused = {}
    for case, (mend, brk, _) in CASES.items():
        a = base.copy()
        a[wrong[:mend]] = t[wrong[:mend]]
        a[right[:brk]] = (t[right[:brk]] + 2) % K
        fused[case] = a
    return t, base, weak, fused


T, BASE, WEAK, FUSED = predictions()
REFERENCE = {case: ref.paired_bootstrap(T, a, BASE, K, RESAMPLES, SEED) for case, a in FUSED.items()}


def names(coded: np.ndarray) -> list[str]:
    return [CLASSES[i] for i in coded]


def expected_fusion(case: str) -> str:
    gain, (lo, hi) = REFERENCE[case]
    return ref.fusion_sentence(gain, lo, hi, "audio")


def expected_comparison(a: str, b: str) -> str:
    """``compare a b`` where each is a case name or 'base' (every pipeline holds all rows, ids in order)."""
    pa = BASE if a == "base" else FUSED[a]
    pb = BASE if b == "base" else FUSED[b]
    diff, (lo, hi) = ref.paired_bootstrap(T, pa, pb, K, RESAMPLES, SEED)
    return ref.comparison_sentence(a, b, diff, lo, hi, ROWS)


def test_the_constructed_intervals_sit_where_their_names_say():
    """The construction itself, by the reference bootstrap (so the cases below test what they claim)."""
    (_, (lo, hi)) = REFERENCE["above"]
    assert lo > 0
    (_, (lo, hi)) = REFERENCE["straddles"]
    assert -0.02 < lo < 0 < 0.04 < hi < 0.06
    (_, (lo, hi)) = REFERENCE["touches from above"]
    assert lo == 0.0 and hi > 0
    (_, (lo, hi)) = REFERENCE["touches from below"]
    assert lo < 0 and hi == 0.0
    (_, (lo, hi)) = REFERENCE["below"]
    assert hi < 0
    assert {case: ref.rule(*REFERENCE[case][1]) for case in CASES} == {c: o for c, (_, _, o) in CASES.items()}


@pytest.mark.parametrize(
    "low, high, expected",
    [
        (0.001, 0.05, "helped"),
        (1e-12, 1e-12, "helped"),
        (0.0, 0.05, "none"),  # touches zero: not shown to help
        (-0.02, 0.05, "none"),
        (-0.05, 0.0, "none"),  # touches zero: not shown to hurt
        (-0.05, -0.001, "hurt"),
        (-1e-12, -1e-12, "hurt"),
        (0.0, 0.0, "none"),
        (float("nan"), float("nan"), "none"),
        (float("nan"), 0.05, "none"),
        (-0.05, float("nan"), "none"),
        (None, None, "none"),
    ],
)
def test_fusion_outcome_at_the_boundaries(low, high, expected):
    assert fusion_outcome(low, high) == expected
    if low is not None and high is not None and not (math.isnan(low) or math.isnan(high)):
        assert ref.rule(low, high) == expected


@pytest.mark.parametrize("case", list(CASES))
def test_fusion_verdict_and_comparison_wording_are_exact(case):
    g = paired_gain(
        names(T), names(FUSED[case]), {"audio": names(BASE), "text": names(WEAK)}, CLASSES, n=RESAMPLES, seed=SEED
    )
    gain, (lo, hi) = REFERENCE[case]
    assert g["best_part"] == "audio" and g["ci"] == pytest.approx([lo, hi], abs=1e-12)
    assert verdict(g) == expected_fusion(case)
    assert (g["helped"], g["hurt"]) == (CASES[case][2] == "helped", CASES[case][2] == "hurt")
    d = paired_difference(names(T), names(FUSED[case]), names(BASE), CLASSES, n=RESAMPLES, seed=SEED)
    assert comparison_verdict(case, "base", d) == expected_comparison(case, "base")
    swapped = paired_difference(names(T), names(BASE), names(FUSED[case]), CLASSES, n=RESAMPLES, seed=SEED)
    assert comparison_verdict("base", case, swapped) == expected_comparison("base", case)


# -- one store, every face ------------------------------------------------------------------------------


def pipeline_spec(fused: bool) -> dict:
    branches = {"audio": {"extractor": "toy.energy", "model": "toy.centroid"}}
    if fused:
        branches["text"] = {"extractor": "toy.words", "model": "toy.centroid"}
    doc = {
        "data": {"corpus": "demo"},
        "evaluation": {"bootstrap": RESAMPLES, "seed": SEED},
        "branches": branches,
        **({"fusion": "fusion.late"} if fused else {}),
    }
    return parse_spec(doc).to_dict()


FOLDS = ((1, slice(0, 100)), (2, slice(100, 200)))


def save_folds(store, run: str, pid: str, pred: np.ndarray, parts: bool = False, folds=FOLDS) -> None:
    for fold, rows in folds:
        fr = FoldResult(
            fold=fold,
            test_ids=[f"r{i:03d}" for i in range(ROWS)[rows]],
            y_true=names(T[rows]),
            y_pred=names(pred[rows]),
            proba=[[0.25] * K] * len(T[rows]),
            train_uar=0.9,
            test_uar=0.0,
            fit_s=1.0,
            predict_s=0.1,
            parts={"audio": names(BASE[rows]), "text": names(WEAK[rows])} if parts else {},
        )
        store.save_fold(run, [(pid, fr)], [])


def build_store(workdir) -> None:
    """Two folds of 100 rows; one fused pipeline per case (parts: base as audio, weak as text), base and weak
    as unimodal pipelines, and a pipeline whose every fold failed. Ids sort in pooled order."""
    store = ResultsStore(workdir / "results.db")
    pipelines = [(f"p-{case}", case, pipeline_spec(True), True) for case in CASES]
    pipelines += [("p-base", "base", pipeline_spec(False), False), ("p-weak", "weak", pipeline_spec(False), False)]
    pipelines += [("p-failed", "failed", pipeline_spec(False), False)]
    store.begin_run(RUN, RUN, {"name": RUN, "evaluation": {"bootstrap": RESAMPLES, "seed": SEED}}, pipelines)
    store.set_plan(RUN, CLASSES, [], [], n_folds=2, n_rows=ROWS)
    for case, pred in FUSED.items():
        save_folds(store, RUN, f"p-{case}", pred, parts=True)
    save_folds(store, RUN, "p-base", BASE)
    save_folds(store, RUN, "p-weak", WEAK)
    for fold, _ in FOLDS:
        store.save_fold(RUN, [], [("p-failed", fold, "toy.energy: broken on purpose")])
    store.close()


@pytest.fixture
def workdir(tmp_path):
    build_store(tmp_path)
    return tmp_path


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_results_json_and_table_say_each_verdict_exactly(workdir):
    rows = {
        r["pipeline"]: r
        for r in json.loads(cli("results", "--run", RUN, "--format", "json", "--workdir", str(workdir)))
    }
    table = cli("results", "--run", RUN, "--workdir", str(workdir))
    for case in CASES:
        gain, (lo, hi) = REFERENCE[case]
        row = rows[case]
        assert row["verdict"] == expected_fusion(case)
        assert [row["gain_pts"], row["gain_ci_low_pts"], row["gain_ci_high_pts"]] == pytest.approx(
            [gain * 100, lo * 100, hi * 100], abs=1e-9
        )
        assert f"{expected_fusion(case)} — {case}\n" in table
    assert rows["base"]["verdict"] is None and rows["base"]["gain_pts"] is None
    idx = ref.resample_indices(ROWS, RESAMPLES, SEED)  # the run's resamples and seed, not the defaults
    low, high = ref.percentile_interval(ref.uar(T[idx], BASE[idx], K))
    assert [rows["base"]["uar_ci_low"], rows["base"]["uar_ci_high"]] == pytest.approx([low, high], abs=1e-12)
    assert sum(line.startswith("fusion ") for line in table.splitlines()) == len(CASES)


@pytest.mark.parametrize("case", list(CASES))
def test_compare_says_each_verdict_exactly_both_ways(workdir, case):
    out = cli("compare", RUN, case, "base", "--workdir", str(workdir))
    assert out.splitlines()[0] == expected_comparison(case, "base")
    out = cli("compare", RUN, "base", case, "--workdir", str(workdir))
    assert out.splitlines()[0] == expected_comparison("base", case)


def test_the_report_says_each_verdict_exactly_in_its_colour(workdir):
    cli("report", RUN, "--out", str(workdir / "report"), "--workdir", str(workdir))
    page = (workdir / "report" / "index.html").read_text(encoding="utf-8")
    for case, (_, _, outcome) in CASES.items():
        line = f"<li><b>{html.escape(case)}</b>: <span class='{outcome}'>{html.escape(expected_fusion(case))}</span>"
        assert line in page, case
        gain, (lo, hi) = REFERENCE[case]
        cell = f"<span class='{outcome}'>{gain * 100:+.1f} [{lo * 100:+.1f}, {hi * 100:+.1f}]</span>"
        assert cell in page, case
    assert page.count("<li><b>") == len(CASES)


def plain(renderable) -> str:
    console = Console(width=400, file=io.StringIO(), record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


async def test_the_tui_says_each_verdict_exactly(workdir):
    app = EmoframeApp(Registry.from_entry_points(allow=[]), workdir=workdir)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("f4")
        screen = app.screen
        table = screen.query_one("#leaderboard")
        for _ in range(250):  # the store loads in a worker thread
            await pilot.pause(0.02)
            if table.row_count:
                break
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(screen, ResultsScreen) and table.row_count == len(CASES) + 3
        shown = {}
        for i, row in enumerate(screen.rows):
            table.move_cursor(row=i)
            await pilot.pause()
            shown[row["pipeline"]] = plain(screen.query_one("#detail-a").content)
        for case in CASES:
            assert f"\n{expected_fusion(case)}\n" in shown[case], shown[case]
        assert not any(line.startswith("fusion ") for line in shown["base"].splitlines())
        # `c` on one row marks it, `c` on another compares (current row first), as `emoframe compare` does
        position = {r["pipeline"]: i for i, r in enumerate(screen.rows)}
        for case in ("above", "touches from below"):
            table.focus()
            screen.compare_with = None
            table.move_cursor(row=position["base"])
            await pilot.press("c")
            table.move_cursor(row=position[case])
            await pilot.press("c")
            await pilot.pause()
            pane = plain(screen.query_one("#detail-b").content)
            assert pane.startswith(expected_comparison(case, "base") + "\n"), pane


def test_compare_finds_pipelines_by_name_or_id_prefix_and_says_what_it_cannot(workdir):
    store = ResultsStore(workdir / "results.db")
    try:
        by_id = compare_pipelines(store, RUN, "p-abo", "p-base")
        assert (by_id["a"], by_id["b"], by_id["outcome"]) == ("above", "base", "helped")
        assert by_id["verdict"] == expected_comparison("above", "base") and by_id["n"] == ROWS
        for key, message in [
            ("nope", "no pipeline 'nope' in run verdicts-012; `emoframe results --run RUN` lists them"),
            ("p-", "more than one pipeline 'p-' in run verdicts-012; `emoframe results --run RUN` lists them"),
            (
                "Touches",
                "no pipeline 'Touches' in run verdicts-012; did you mean: touches from above, touches from below",
            ),
        ]:
            with pytest.raises(EmoframeError) as e:
                compare_pipelines(store, RUN, key, "base")
            assert str(e.value) == message
        with pytest.raises(EmoframeError, match="^'failed' and 'base' have no evaluated rows in common yet$"):
            compare_pipelines(store, RUN, "failed", "base")
        # a run whose spec names no resamples or seed (an older store): the defaults, 1000 and 0; and a
        # pipeline with only its first fold done, compared on the 100 rows both have
        specs = [("q-half", "half", pipeline_spec(False), False), ("q-base", "base", pipeline_spec(False), False)]
        store.begin_run("old", "old", {"name": "old"}, specs)
        store.set_plan("old", CLASSES, [], [], n_folds=2, n_rows=ROWS)
        save_folds(store, "old", "q-half", FUSED["above"], folds=FOLDS[:1])
        save_folds(store, "old", "q-base", BASE)
        half = compare_pipelines(store, "old", "half", "base")
        assert half["n"] == 100
        diff, (lo, hi) = ref.paired_bootstrap(T[:100], FUSED["above"][:100], BASE[:100], K, 1000, 0)
        assert half["diff"] == pytest.approx(diff, abs=1e-12) and half["ci"] == pytest.approx([lo, hi], abs=1e-12)
    finally:
        store.close()


def test_compare_suggests_at_most_400_characters_of_names(tmp_path):
    store = ResultsStore(tmp_path / "results.db")
    try:
        names_ = [f"a similar pipeline with a long name, number {i:02d}" for i in range(20)]
        store.begin_run(
            "many", "many", {"name": "many"}, [(f"m{i}", n, pipeline_spec(False), False) for i, n in enumerate(names_)]
        )
        with pytest.raises(EmoframeError) as e:
            compare_pipelines(store, "many", "similar", "m1")
        hint = str(e.value).split("; did you mean: ", 1)[1]
        assert hint == ", ".join(names_)[:400]
    finally:
        store.close()


def test_a_unimodal_row_has_no_gain_text(workdir):
    store = ResultsStore(workdir / "results.db", readonly=True)
    try:
        rows = {r["pipeline"]: r for r in leaderboard(store, RUN, descending=True)}
    finally:
        store.close()
    assert gain_text(rows["base"]) == "" and gain_text(rows["above"]).startswith("+15.0 [")
    assert table_cells(rows["base"])[6] == ""


def test_the_leaderboard_ranks_by_pooled_uar_with_unfinished_rows_last(workdir):
    pooled = {case: float(ref.uar(T, a, K)) for case, a in FUSED.items()}
    pooled |= {"base": float(ref.uar(T, BASE, K)), "weak": float(ref.uar(T, WEAK, K))}
    best_first = sorted(pooled, key=pooled.__getitem__, reverse=True)
    store = ResultsStore(workdir / "results.db", readonly=True)
    try:
        rows = leaderboard(store, RUN)
        assert [r["pipeline"] for r in rows] == best_first + ["failed"]
        assert [r["uar"] for r in rows[:-1]] == pytest.approx([pooled[p] for p in best_first], abs=1e-12)
        assert rows[-1]["status"] == "failed" and rows[-1].get("uar") is None
        ascending = leaderboard(store, RUN, descending=False)
        assert [r["pipeline"] for r in ascending] == best_first[::-1] + ["failed"]
        by_gain = [r["pipeline"] for r in leaderboard(store, RUN, sort="gain")]
        gains = {case: REFERENCE[case][0] for case in CASES}
        assert by_gain[: len(CASES)] == sorted(gains, key=gains.__getitem__, reverse=True)
        assert set(by_gain[len(CASES) :]) == {"base", "weak", "failed"}
        _, figures = stored_pipeline(store, RUN, "1")  # `train --run RUN --pipeline 1`: the top of the board
        assert figures["pipeline_id"] == rows[0]["id"] and figures["uar"] == pytest.approx(pooled[best_first[0]])
    finally:
        store.close()
    listed = json.loads(cli("results", "--run", RUN, "--format", "json", "--workdir", str(workdir)))
    assert [r["pipeline"] for r in listed] == best_first + ["failed"]
