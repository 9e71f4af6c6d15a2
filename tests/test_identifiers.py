"""Issue 26 §1: a run or pipeline reference resolves to exactly one thing, or to an error listing the candidates.

The stores here are written directly (fixed ids, fixed predictions), so that which id starts with "1"
and which pipeline ranks first are chosen by the test, not by a hash; `train` fits toy components on a
tiny text corpus. Every CLI face goes through ``emoframe.results.resolve``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from emoframe.cli import main
from emoframe.errors import IdentifierError
from emoframe.evaluation.records import FoldResult
from emoframe.plugin import registry as registry_module
from emoframe.results.leaderboard import leaderboard, resolve_pipeline
from emoframe.results.resolve import Candidate, match, match_pipeline, resolve_run
from emoframe.results.store import ResultsStore
from emoframe.spec import parse_spec

from .text_corpus import rotated, write_text_corpus

CLASSES = ["happy", "sad"]
RUN = "c0ffee0011223344"
#: (pipeline id, temperature, wrong answers of 20): the id starting with "1" ranks 4th, the one with "2" 3rd
PIPELINES = [
    ("ffee000000000001", 1.0, 0),  # rank 1: UAR 1.0
    ("abcd000000000002", 2.0, 2),  # rank 2: 0.9
    ("2bad000000000003", 3.0, 4),  # rank 3: 0.8
    ("1ead000000000004", 4.0, 6),  # rank 4: 0.7
]


def spec_of(manifest: Path, temperature: float) -> dict:
    return parse_spec(
        {
            "data": {"manifest": str(manifest)},
            "evaluation": {"protocol": "speaker_kfold", "folds": 2, "bootstrap": 50},
            "branches": {
                "text": {
                    "extractor": "toy.words",
                    "model": {"name": "toy.centroid", "params": {"temperature": temperature}},
                }
            },
        }
    ).to_dict()


def fold(fold: int, wrong: int) -> FoldResult:
    truth = CLASSES * 5
    pred = [CLASSES[1 - CLASSES.index(c)] if i < wrong else c for i, c in enumerate(truth)]
    return FoldResult(
        fold=fold,
        test_ids=[f"f{fold}u{i}" for i in range(10)],
        y_true=truth,
        y_pred=pred,
        proba=[[0.5, 0.5]] * 10,
        train_uar=1.0,
        test_uar=1 - wrong / 10,
        fit_s=0.1,
        predict_s=0.0,
        n_train=10,
    )


def add_run(
    db: Path,
    manifest: Path,
    run_id: str = RUN,
    name: str = "grid",
    pipelines: list[tuple[str, float, int]] | None = None,
    labels: dict[str, str] | None = None,
) -> None:
    """A finished two-fold run; ``labels`` overrides a pipeline's stored label (its display name)."""
    store = ResultsStore(db)
    rows = []
    for pid, temperature, _ in pipelines or PIPELINES:
        spec = spec_of(manifest, temperature)
        label = (labels or {}).get(pid) or parse_spec(spec).display_name
        rows.append((pid, label, spec, False))
    store.begin_run(run_id, name, {"name": name, "kind": "benchmark"}, rows, base_dir=str(manifest.parent))
    store.set_plan(run_id, CLASSES, [], [], 2, 20)
    for f in (1, 2):
        store.save_fold(run_id, [(pid, fold(f, wrong // 2)) for pid, _, wrong in pipelines or PIPELINES], [])
    store.close()
    time.sleep(0.01)  # runs are listed newest first by their time of writing


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    return write_text_corpus(tmp_path / "manifest.csv", 4, 3, lambda s, label, k: rotated(label, k + s))


@pytest.fixture
def wd(tmp_path: Path, manifest: Path) -> Path:
    wd = tmp_path / "wd"
    add_run(wd / "results.db", manifest)
    return wd


@pytest.fixture
def cli(registry, monkeypatch):
    monkeypatch.setattr(registry_module, "_default", registry)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args))

    return invoke


def label(temperature: float) -> str:
    return f"toy.words→toy.centroid(temperature={temperature})"


# -- the README's flow: integers are ranks -------------------------------------------------------------
def test_train_pipeline_1_trains_rank_1_not_the_id_starting_with_1(cli, wd, tmp_path):
    out = tmp_path / "winner"
    r = cli("train", "--pipeline", "1", "--out", str(out), "--workdir", str(wd))
    assert r.exit_code == 0, r.output
    evaluation = json.loads((out / "bundle.json").read_text())["evaluation"]
    assert evaluation["pipeline_id"] == "ffee000000000001" and evaluation["uar"] == 1.0 and evaluation["rank"] == 1
    # the choice is printed before the bundle is built: rank, short id, label, UAR
    chosen = f"training #1 ffee0000 {label(1.0)} (UAR 1.000) of run {RUN[:12]} (grid)"
    assert chosen in r.output
    assert r.output.index(chosen) < r.output.index("bundle written to")


def test_compare_by_rank_compares_those_ranks(cli, wd):
    r = cli("compare", "grid", "1", "2", "--workdir", str(wd))
    assert r.exit_code == 0, r.output
    assert f"A = #1 ffee0000 {label(1.0)}" in r.output and f"B = #2 abcd0000 {label(2.0)}" in r.output
    assert "UAR 1.000 (A) vs 0.900 (B) on the same 20 rows" in r.output


def test_a_rank_out_of_range_says_the_range(cli, wd):
    r = cli("compare", RUN[:6], "1", "7", "--workdir", str(wd))
    assert r.exit_code == 2 and "there is no rank 7 in run c0ffee001122: ranks go from 1 to 4" in r.output
    assert "#4   1ead0000" in r.output  # the candidates: rank, short id, label


def test_a_long_integer_that_is_no_rank_is_an_id_prefix(cli, wd):
    r = cli("compare", "grid", "1ead", "2bad", "--workdir", str(wd))
    assert r.exit_code == 0 and "A = #4 1ead0000" in r.output and "B = #3 2bad0000" in r.output
    missing = cli("compare", "grid", "1", "9999", "--workdir", str(wd))
    assert (
        missing.exit_code == 2
        and "no rank 9999" in missing.output
        and "no pipeline id starts with it" in missing.output
    )


def test_compare_refuses_one_pipeline_named_twice(cli, wd):
    r = cli("compare", "grid", "1", "ffee", "--workdir", str(wd))
    assert r.exit_code == 2 and "both name #1 ffee0000" in r.output


# -- runs: literal, no wildcard, no silent choice ----------------------------------------------------------
@pytest.mark.parametrize("ref", ["%", "_", "", " ", "*", "c0f%", "gr_d", "c0f"])
def test_results_run_refuses_wildcards_empty_and_short_references(cli, wd, manifest, ref):
    add_run(wd / "results.db", manifest, run_id="0123456789abcdef", name="other")
    r = cli("results", "--run", ref, "--workdir", str(wd))
    assert r.exit_code == 2, r.output
    assert "internal error" not in r.output and "c0ffee00  grid" in r.output  # the candidates are listed
    assert "0123456789abcdef"[:8] + "  other" in r.output


def test_compare_with_a_wildcard_run_is_refused(cli, wd):
    r = cli("compare", "%", "1", "2", "--workdir", str(wd))
    assert r.exit_code == 2 and "matched literally" in r.output


def test_a_prefix_shared_by_two_runs_is_refused_with_both_listed(cli, wd, manifest):
    add_run(wd / "results.db", manifest, run_id="c0ffee99aabbccdd", name="again")
    r = cli("results", "--run", "c0ffee", "--workdir", str(wd))
    assert r.exit_code == 2 and "run 'c0ffee' is ambiguous" in r.output
    assert "c0ffee00  grid" in r.output and "c0ffee99  again" in r.output
    one = cli("results", "--run", "C0FFEE9", "--format", "csv", "--workdir", str(wd))  # hex: any case
    assert one.exit_code == 0 and one.output.startswith("rank,id,pipeline")


def test_a_name_shared_by_two_runs_is_refused(cli, wd, manifest):
    add_run(wd / "results.db", manifest, run_id="deadbeef00000000", name="grid")
    for command in (("results", "--run", "grid"), ("report", "grid", "--out", "x"), ("failures", "grid")):
        r = cli(*command, "--workdir", str(wd))
        assert r.exit_code == 2 and "run 'grid' is ambiguous" in r.output, (command, r.output)
    assert cli("failures", "deadbeef", "--workdir", str(wd)).exit_code == 0


def test_train_with_an_unknown_run_lists_the_runs(cli, wd, tmp_path):
    r = cli("train", "--run", "%", "--pipeline", "1", "--out", str(tmp_path / "b"), "--workdir", str(wd))
    assert r.exit_code == 2 and "c0ffee00  grid" in r.output and not (tmp_path / "b").exists()


def test_a_run_name_with_control_characters_reaches_no_terminal_raw(cli, wd, manifest):
    """User text is data: escape sequences and a carriage return in a run's name are written out."""
    evil = "evil\x1b[31mRED\x1b[0m\rX"
    add_run(wd / "results.db", manifest, run_id="deadbeef00000000", name=evil)
    outputs = [
        cli("runs", "--workdir", str(wd)),
        cli("results", "--workdir", str(wd)),  # the latest run: its name is the table's title
        cli("results", "--run", "nosuch", "--workdir", str(wd)),  # the candidates list every run's name
        cli("failures", "deadbeef", "--workdir", str(wd)),
    ]
    for r in outputs:
        assert "\x1b" not in r.output and "\r" not in r.output, r.output
    assert "evil\\x1b[31mRED\\x1b[0m\\rX" in outputs[2].output
    assert outputs[0].exit_code == 0 and outputs[2].exit_code == 2


# -- labels and prefixes together --------------------------------------------------------------------------
def test_a_label_that_is_another_pipelines_id_prefix_is_ambiguous(cli, tmp_path, manifest):
    wd = tmp_path / "wd2"
    add_run(wd / "results.db", manifest, labels={"abcd000000000002": "ffee"})
    r = cli("compare", "grid", "ffee", "2bad", "--workdir", str(wd))
    assert r.exit_code == 2 and "pipeline 'ffee' is ambiguous" in r.output
    assert "#1   ffee0000" in r.output and "#2   abcd0000  ffee" in r.output
    assert cli("compare", "grid", "ffee0", "2bad", "--workdir", str(wd)).exit_code == 0  # more of the id: one


# -- the faces show what the resolver takes ------------------------------------------------------------------
def test_every_leaderboard_face_shows_rank_and_short_id(cli, wd):
    table = cli("results", "--workdir", str(wd))
    assert table.exit_code == 0 and "│ 1 │ ffee0000 │" in table.output and "│ 4 │ 1ead0000 │" in table.output
    markdown = cli("results", "--format", "markdown", "--workdir", str(wd)).output
    assert markdown.startswith("| # | id | pipeline |") and "| 3 | 2bad0000 |" in markdown
    csv_text = cli("results", "--format", "csv", "--workdir", str(wd)).output
    assert csv_text.splitlines()[1].startswith("1,ffee000000000001,")
    rows = json.loads(cli("results", "--format", "json", "--workdir", str(wd)).output)
    assert [(r["rank"], r["short_id"]) for r in rows] == [
        (1, "ffee0000"),
        (2, "abcd0000"),
        (3, "2bad0000"),
        (4, "1ead0000"),
    ]
    by_name = json.loads(cli("results", "--format", "json", "--sort", "name", "--workdir", str(wd)).output)
    assert {r["short_id"]: r["rank"] for r in by_name} == {"ffee0000": 1, "abcd0000": 2, "2bad0000": 3, "1ead0000": 4}


def test_short_ids_grow_until_they_differ(tmp_path, manifest):
    add_run(
        tmp_path / "results.db",
        manifest,
        pipelines=[("aaaaaaaa11111111", 1.0, 0), ("aaaaaaaa22222222", 2.0, 2)],
    )
    store = ResultsStore(tmp_path / "results.db", readonly=True)
    try:
        assert [r.short_id for r in leaderboard(store, RUN)] == ["aaaaaaaa1", "aaaaaaaa2"]
        assert resolve_pipeline(store, None, "aaaaaaaa2")[1].rank == 2
    finally:
        store.close()


def test_store_run_matches_literally_and_never_by_pattern(tmp_path, manifest):
    add_run(tmp_path / "results.db", manifest)
    store = ResultsStore(tmp_path / "results.db", readonly=True)
    try:
        assert store.run("c0ffee")["id"] == RUN and store.run("grid")["id"] == RUN and resolve_run(store, None) == RUN
        for ref in ("%", "c%", "_0ffee", "c0ffee0011223344%"):
            with pytest.raises(IdentifierError):
                store.run(ref)
    finally:
        store.close()


# -- the grammar, on candidates alone -------------------------------------------------------------------------
CANDIDATES = [
    Candidate("3b4fd19156da02ba", "a→b", 1),
    Candidate("10246d7637db1736", "c→d", 2),
    Candidate("1cafe00000000000", "e→f", 3),
    Candidate("36933616f55a4452", "g→h", None),  # failed: no rank
]


@pytest.mark.parametrize(
    "ref, expected",
    [
        ("1", "3b4fd19156da02ba"),  # a rank, although "1" starts two ids
        ("3", "1cafe00000000000"),
        (" 2 ", "10246d7637db1736"),
        ("1024", "10246d7637db1736"),  # no rank 1024: an id prefix
        ("1CAFE", "1cafe00000000000"),
        ("g→h", "36933616f55a4452"),
        ("36933616F55A4452", "36933616f55a4452"),
    ],
)
def test_grammar_resolves(ref, expected):
    assert match(CANDIDATES, ref, "pipeline", "run x", ranked=True).id == expected


@pytest.mark.parametrize(
    "ref, says",
    [
        ("4", "there is no rank 4 in run x: ranks go from 1 to 3"),
        ("01", "too short"),
        ("0", "too short"),
        ("36a", "too short"),
        ("3693%", "matched literally"),
        ("", "empty pipeline reference"),
        ("\t", "empty pipeline reference"),
        ("١", "no pipeline '١'"),  # an Arabic-Indic digit is not a rank
    ],
)
def test_grammar_refuses(ref, says):
    with pytest.raises(IdentifierError) as err:
        match(CANDIDATES, ref, "pipeline", "run x", ranked=True)
    assert says in str(err.value)


def test_an_ambiguous_prefix_lists_only_what_it_matches():
    with pytest.raises(IdentifierError) as err:
        match([*CANDIDATES, Candidate("3b4f000000000000", "x→y", 4)], "3b4f", "pipeline", "run x", ranked=True)
    assert err.value.candidates == ["3b4fd19156da02ba", "3b4f000000000000"]


def test_runs_have_no_ranks():
    runs = [Candidate("1234abcd00000000", "first"), Candidate("99990000aaaa0000", "second")]
    with pytest.raises(IdentifierError, match="too short"):
        match(runs, "1", "run", "store", ranked=False)
    assert match(runs, "1234", "run", "store", ranked=False).label == "first"


def test_a_long_candidate_list_is_capped():
    many = [Candidate(f"{i:016x}", f"p{i}", i + 1) for i in range(40)]
    with pytest.raises(IdentifierError) as err:
        match(many, "nothing", "pipeline", "run x", ranked=True)
    assert "… and 28 more" in str(err.value) and len(str(err.value).splitlines()) == 15


def test_rows_without_results_have_no_rank(tmp_path, manifest):
    add_run(tmp_path / "results.db", manifest)
    store = ResultsStore(tmp_path / "results.db")
    store.begin_run(RUN, "grid", {"name": "grid"}, [("0e0e0e0e0e0e0e0e", "late one", spec_of(manifest, 9.0), False)])
    rows = leaderboard(store, RUN)
    store.close()
    assert rows[-1].id == "0e0e0e0e0e0e0e0e" and rows[-1].rank is None
    assert match_pipeline(rows, "late one", "run x").id == "0e0e0e0e0e0e0e0e"
