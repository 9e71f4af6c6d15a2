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
from emoframe.errors import EmoframeError, IdentifierError
from emoframe.evaluation.records import FoldResult
from emoframe.evaluation.stats import comparison_verdict, fusion_outcome, paired_difference, paired_gain, verdict
from emoframe.plugin.registry import Registry
from emoframe.results.leaderboard import HEADERS, compare_pipelines, gain_text, leaderboard, table_cells
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
#: pooled UAR of every pipeline with results, by the reference; the leaderboard's order and ranks follow it
#: (ties would keep the spec's order: cases, base, weak — as this dict's order and a stable sort do)
POOLED = {case: float(ref.uar(T, a, K)) for case, a in FUSED.items()}
POOLED |= {"base": float(ref.uar(T, BASE, K)), "weak": float(ref.uar(T, WEAK, K))}
BEST_FIRST = sorted(POOLED, key=POOLED.__getitem__, reverse=True)
RANK = {label: rank for rank, label in enumerate(BEST_FIRST, start=1)}
#: what an unknown pipeline reference is told (emoframe.results.resolve's grammar), word for word
FORMS = (
    "give a leaderboard rank (1 = the best), a pipeline id (at least 4 of its hex characters) "
    "or the pipeline's exact label, as `emoframe results` shows them"
)


def short(label: str) -> str:
    """The id column: 'p-<label>' cut at 16 characters, the first width (from 8) at which 'p-touches from
    above' and 'p-touches from below' read differently."""
    return f"p-{label}"[:16]


def candidate(label: str) -> str:
    """One line of a refusal's candidate list: rank, short id, label, pooled UAR (the failed row: no rank)."""
    if label == "failed":
        return f"       {short(label):<16}  failed  (failed)"
    return f"  #{RANK[label]:<4}{short(label):<16}  {label}  (UAR {POOLED[label]:.3f})"


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
    """Which pipeline is A and which B (rank, short id, label), then the verdict, then the two UARs."""
    for a, b in ((case, "base"), ("base", case)):
        lines = cli("compare", RUN, a, b, "--workdir", str(workdir)).splitlines()
        assert lines[:3] == [
            f"A = #{RANK[a]} {short(a)} {a}",
            f"B = #{RANK[b]} {short(b)} {b}",
            expected_comparison(a, b),
        ]
        assert lines[3] == f"UAR {POOLED[a]:.3f} (A) vs {POOLED[b]:.3f} (B) on the same {ROWS} rows"
        assert len(lines) == 4


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
            shown[row.pipeline] = plain(screen.query_one("#detail-a").content)
        for case in CASES:
            assert f"\n{expected_fusion(case)}\n" in shown[case], shown[case]
        assert not any(line.startswith("fusion ") for line in shown["base"].splitlines())
        # `c` on one row marks it, `c` on another compares (current row first), as `emoframe compare` does
        position = {r.pipeline: i for i, r in enumerate(screen.rows)}
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


def test_compare_finds_pipelines_by_rank_label_or_id_and_says_what_it_cannot(workdir):
    """The resolver's grammar (emoframe.results.resolve): a rank, a full id, an exact label, or at least 4 hex
    characters of an id, matched literally; anything else is refused with the candidates to choose from."""
    store = ResultsStore(workdir / "results.db")
    try:
        for first in ("above", "p-above", "P-ABOVE", str(RANK["above"])):
            found = compare_pipelines(store, RUN, first, "base")
            assert (found["a"], found["b"], found["outcome"]) == ("above", "base", "helped"), first
            assert found["verdict"] == expected_comparison("above", "base") and found["n"] == ROWS
            assert (found["a_ref"], found["b_ref"]) == (f"#1 {short('above')} above", f"#4 {short('base')} base")
        everyone = [*BEST_FIRST, "failed"]
        unknown = f"no pipeline '{{}}' in run verdicts-012; {FORMS}"
        for key, message, listed in [
            ("nope", unknown.format("nope"), everyone),
            ("p-abo", unknown.format("p-abo"), everyone),  # not hex: no prefix of an id, and no label
            ("p-", unknown.format("p-"), everyone),
            (
                "abov%",
                "no pipeline 'abov%' in run verdicts-012: references are matched literally, % _ * ? are not "
                f"wildcards; {FORMS}",
                everyone,
            ),  # % is a character, not a wildcard
            (
                "0",
                f"'0' is too short for an id prefix (at least 4 characters); {FORMS}",
                everyone,
            ),  # no rank 0, and too short for an id prefix
            (
                "Touches",
                unknown.format("Touches") + " — did you mean one of these?",
                ["touches from above", "touches from below"],
            ),
            ("9", f"there is no rank 9 in run verdicts-012: ranks go from 1 to {len(POOLED)}", everyone),
        ]:
            with pytest.raises(IdentifierError) as e:
                compare_pipelines(store, RUN, key, "base")
            assert str(e.value) == "\n".join([message, "candidates:", *map(candidate, listed)]), key
            assert e.value.candidates == [f"p-{label}" for label in listed]
        with pytest.raises(EmoframeError, match="^'above' and 'p-above' both name #1 p-above above \\(UAR 0.755\\): "):
            compare_pipelines(store, RUN, "above", "p-above")
        with pytest.raises(EmoframeError, match="^'failed' and 'base' have no evaluated rows in common yet$"):
            compare_pipelines(store, RUN, "failed", "base")
        # a run whose spec names no resamples or seed (an older store): the defaults, 1000 and 0; and a
        # pipeline with only its first fold done, compared on the 100 rows both have. Hex ids: 4 or more of
        # their characters, any case, name one; fewer are refused; a shared prefix is ambiguous
        specs = [("c0ffee01", "half", pipeline_spec(False), False), ("c0fa0002", "base", pipeline_spec(False), False)]
        store.begin_run("old", "old", {"name": "old"}, specs)
        store.set_plan("old", CLASSES, [], [], n_folds=2, n_rows=ROWS)
        save_folds(store, "old", "c0ffee01", FUSED["above"], folds=FOLDS[:1])
        save_folds(store, "old", "c0fa0002", BASE)
        half = compare_pipelines(store, "old", "c0ff", "C0FA")
        assert (half["a"], half["b"], half["n"]) == ("half", "base", 100)
        diff, (lo, hi) = ref.paired_bootstrap(T[:100], FUSED["above"][:100], BASE[:100], K, 1000, 0)
        assert half["diff"] == pytest.approx(diff, abs=1e-12) and half["ci"] == pytest.approx([lo, hi], abs=1e-12)
        uar_half, uar_base = ref.uar(T[:100], FUSED["above"][:100], K), ref.uar(T, BASE, K)
        lines = {
            "c0ffee01": f"  #1   c0ffee01  half  (UAR {uar_half:.3f})",
            "c0fa0002": f"  #2   c0fa0002  base  (UAR {uar_base:.3f})",
        }
        assert uar_half > uar_base
        for key, message, listed in [
            ("c0f", "'c0f' is too short for an id prefix (at least 4 characters); " + FORMS, list(lines)),
            ("c0fe", "no pipeline 'c0fe' in run old; " + FORMS, list(lines)),
        ]:
            with pytest.raises(IdentifierError) as e:
                compare_pipelines(store, "old", key, "base")
            assert str(e.value) == "\n".join([message, "candidates:", *(lines[i] for i in listed)]), key
        store.begin_run("twins", "twins", {"name": "twins"}, [*specs, ("c0ffee99", "x", pipeline_spec(False), False)])
        with pytest.raises(IdentifierError) as e:
            compare_pipelines(store, "twins", "c0ffee", "base")
        assert str(e.value).startswith(
            "pipeline 'c0ffee' is ambiguous in run twins: it matches 2 pipelines; give more characters of the id, "
            "or the rank\ncandidates:\n"
        )
        assert e.value.candidates == ["c0ffee01", "c0ffee99"]
        # the run named, not the latest ("twins"): its pipelines, and a refusal that names it
        again = compare_pipelines(store, RUN, "above", "base")
        assert (again["a"], again["b"], again["verdict"]) == ("above", "base", expected_comparison("above", "base"))
        with pytest.raises(IdentifierError, match="^no pipeline 'x' in run verdicts-012; "):
            compare_pipelines(store, RUN, "above", "x")
        with pytest.raises(IdentifierError, match="^no pipeline 'nope' in run old; "):
            compare_pipelines(store, "old", "nope", "base")
    finally:
        store.close()


def test_compare_lists_at_most_12_candidates_and_counts_the_rest(tmp_path):
    """A refusal lists the first 12 candidates (resolve.SHOWN), in the spec's order when none has a rank,
    then counts the others; the error still carries every candidate's id."""
    store = ResultsStore(tmp_path / "results.db")
    try:
        names_ = [f"a similar pipeline with a long name, number {i:02d}" for i in range(20)]
        store.begin_run(
            "many", "many", {"name": "many"}, [(f"m{i}", n, pipeline_spec(False), False) for i, n in enumerate(names_)]
        )
        store.set_plan("many", CLASSES, [], [], n_folds=2, n_rows=ROWS)
        with pytest.raises(IdentifierError) as e:
            compare_pipelines(store, "many", "similar", "m1")
        assert str(e.value).split("\n") == [
            f"no pipeline 'similar' in run many; {FORMS} — did you mean one of these?",
            "candidates:",
            *(f"  {f'm{i}':<8}  {names_[i]}  (0/2 folds)" for i in range(12)),
            "  … and 8 more",
        ]
        assert e.value.candidates == [f"m{i}" for i in range(20)]
    finally:
        store.close()


def test_a_unimodal_row_has_no_gain_text(workdir):
    store = ResultsStore(workdir / "results.db", readonly=True)
    try:
        rows = {r.pipeline: r for r in leaderboard(store, RUN, descending=True)}
    finally:
        store.close()
    gain, (lo, hi) = REFERENCE["above"]
    assert (
        gain_text(rows["base"]) == ""
        and gain_text(rows["above"]) == f"{gain * 100:+.1f} [{lo * 100:+.1f}, {hi * 100:+.1f}]"
    )
    assert gain_text(rows["above"]).startswith("+15.0 [")
    assert table_cells(rows["base"])[HEADERS.index("fusion gain pts [95% CI]")] == ""
    assert table_cells(rows["base"])[:3] == [str(RANK["base"]), "p-base", "base"]
    assert table_cells(rows["failed"])[:5] == ["", "p-failed", "failed", "", "failed"]


def test_the_leaderboard_ranks_by_pooled_uar_with_unfinished_rows_last(workdir):
    store = ResultsStore(workdir / "results.db", readonly=True)
    try:
        rows = leaderboard(store, RUN)
        assert [r.pipeline for r in rows] == BEST_FIRST + ["failed"]
        assert [r.rank for r in rows] == [*range(1, len(BEST_FIRST) + 1), None]
        assert [r.short_id for r in rows] == [short(p) for p in [*BEST_FIRST, "failed"]]
        assert [r.uar for r in rows[:-1]] == pytest.approx([POOLED[p] for p in BEST_FIRST], abs=1e-12)
        assert rows[-1].status == "failed" and rows[-1].uar is None
        ascending = leaderboard(store, RUN, descending=False)
        assert [r.pipeline for r in ascending] == BEST_FIRST[::-1] + ["failed"]
        assert [r.rank for r in ascending] == [*range(len(BEST_FIRST), 0, -1), None]  # the rank is the UAR's, always
        by_gain = leaderboard(store, RUN, sort="gain")
        gains = {case: REFERENCE[case][0] for case in CASES}
        assert [r.pipeline for r in by_gain[: len(CASES)]] == sorted(gains, key=gains.__getitem__, reverse=True)
        assert [r.pipeline for r in by_gain[len(CASES) :]] == [p for p in BEST_FIRST if p not in CASES] + ["failed"]
        assert {r.pipeline: r.rank for r in by_gain} == {**RANK, "failed": None}
        _, figures = stored_pipeline(store, RUN, "1")  # `train --run RUN --pipeline 1`: the top of the board
        assert figures["pipeline_id"] == rows[0].id and figures["uar"] == pytest.approx(POOLED[BEST_FIRST[0]])
        assert figures["rank"] == 1
    finally:
        store.close()
    listed = json.loads(cli("results", "--run", RUN, "--format", "json", "--workdir", str(workdir)))
    assert [(r["pipeline"], r["rank"]) for r in listed] == [*RANK.items(), ("failed", None)]


def repeat_store(path, a_runs, b_runs, b_prefix: str = "r") -> ResultsStore:
    """A run with repeats: A and B each scored in every repeat (B's rows named ``b_prefix…``)."""
    store = ResultsStore(path / "results.db")
    spec = {"name": "rep", "evaluation": {"bootstrap": RESAMPLES, "seed": SEED, "repeats": 2}}
    pipelines = [("p-a", "a", pipeline_spec(True), True), ("p-b", "b", pipeline_spec(False), False)]
    store.begin_run("rep", "rep", spec, pipelines)
    store.set_plan("rep", CLASSES, [], [], n_folds=2, n_rows=ROWS)
    for pid, preds, prefix in (("p-a", a_runs, "r"), ("p-b", b_runs, b_prefix)):
        for repeat, pred in enumerate(preds):
            for fold, rows in FOLDS:
                fr = FoldResult(
                    fold=fold,
                    test_ids=[f"{prefix}{i:03d}" for i in range(ROWS)[rows]],
                    y_true=names(T[rows]),
                    y_pred=names(pred[rows]),
                    proba=[[0.25] * K] * len(T[rows]),
                    train_uar=0.9,
                    test_uar=0.0,
                    fit_s=1.0,
                    predict_s=0.1,
                    repeat=repeat,
                )
                store.save_fold("rep", [(pid, fr)], [])
    return store


def test_compare_over_repeats_equals_the_reference_and_says_its_verdict(tmp_path):
    """`compare` on a run with repeats: the mean over repeats of UAR(A) − UAR(B), its paired interval (rows
    drawn once, every repeat of both scored on them) and the verdict — against the reference, which shares
    no code with emoframe (in the mutation tests' fast selection: compare's repeats branch)."""
    a_runs, b_runs = [FUSED["above"], FUSED["straddles"]], [BASE, WEAK]
    store = repeat_store(tmp_path, a_runs, b_runs)
    got = compare_pipelines(store, "rep", "a", "b")
    store.close()
    diff, (low, high) = ref.repeated_paired_bootstrap(T, a_runs, b_runs, K, resamples=RESAMPLES, seed=SEED)
    assert got["diff"] == pytest.approx(diff, abs=1e-12)
    assert got["ci"][0] == pytest.approx(low, abs=1e-12) and got["ci"][1] == pytest.approx(high, abs=1e-12)
    assert got["n"] == ROWS and got["repeats"] == [2, 2]
    assert got["verdict"] == ref.comparison_sentence("a", "b", diff, low, high, ROWS)
    other = tmp_path / "disjoint"
    other.mkdir()
    disjoint = repeat_store(other, a_runs, b_runs, "q")  # B scored other rows: nothing to pair
    with pytest.raises(EmoframeError, match="^'a' and 'b' have no evaluated rows in common yet$"):
        compare_pipelines(disjoint, "rep", "a", "b")
    disjoint.close()
