"""Property-based fuzzing of run and pipeline references (issue 26 §1).

Any string either resolves to exactly the one candidate the grammar of ``emoframe.results.resolve``
names (checked against an independent statement of that grammar below), or raises IdentifierError —
never another exception; and every command that takes a reference exits 0 or 2, with no traceback and
no "internal error". CI runs a bounded number of examples; ``pytest -m nightly`` (or
EMOFRAME_FUZZ_EXAMPLES=N) runs many more.
"""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emoframe.cli import main
from emoframe.errors import IdentifierError
from emoframe.plugin import registry as registry_module
from emoframe.results.resolve import Candidate, match

from .test_identifiers import PIPELINES, RUN, add_run, label
from .text_corpus import rotated, write_text_corpus

EXAMPLES = int(os.environ.get("EMOFRAME_FUZZ_EXAMPLES", "60"))
NIGHTLY = 2000
HEXDIGITS = "0123456789abcdef"


def expected(candidates: list[Candidate], ref: str, ranked: bool) -> Candidate | None:
    """The grammar, stated again without emoframe's code: the one candidate ``ref`` names, or None."""
    key = ref.strip()
    if not key:
        return None
    full = [c for c in candidates if c.id.lower() == key.lower()]
    if len(full) == 1:
        return full[0]
    hexlike = len(key) >= 4 and all(ch in HEXDIGITS for ch in key.lower()) and key.isascii()
    if ranked and key.isascii() and key.isdigit() and key[0] != "0":
        by_rank = [c for c in candidates if c.rank == int(key)]
        if len(by_rank) == 1:
            return by_rank[0]
        if not (hexlike and any(c.id.startswith(key) for c in candidates)):
            return None
    hits = [c for c in candidates if c.label in (key, ref) or (hexlike and c.id.startswith(key.lower()))]
    return hits[0] if len(hits) == 1 else None


hex_id = st.text(alphabet=HEXDIGITS, min_size=16, max_size=16)
labels = st.one_of(
    st.sampled_from(["a→b", "[a→b + c→d] fusion.late", "feed", "1", "12", "%", "_", "grid", " x "]),
    st.text(max_size=12),
)


@st.composite
def candidate_lists(draw: st.DrawFn, ranked: bool = True) -> list[Candidate]:
    base = draw(hex_id)
    ids = draw(
        st.lists(
            st.one_of(hex_id, st.integers(4, 15).map(lambda n: base[:n] + "0" * (16 - n))), min_size=1, max_size=8
        ).map(lambda xs: list(dict.fromkeys(xs)))
    )
    ranked_count = draw(st.integers(0, len(ids))) if ranked else 0
    return [Candidate(i, draw(labels), (n + 1) if n < ranked_count else None, "") for n, i in enumerate(ids)]


@st.composite
def references(draw: st.DrawFn, candidates: list[Candidate]) -> str:
    some = draw(st.sampled_from(candidates))
    n = draw(st.integers(0, 16))
    core = draw(
        st.one_of(
            st.just(some.id[:n]),
            st.just(some.id[:n].upper()),
            st.just(some.label),
            st.integers(-3, 12).map(str),
            st.sampled_from(["%", "_", "*", "?", "", " ", "\t", "١", "01", "%%", "a%", "\x00", "\n1"]),
            st.text(max_size=20),
        )
    )
    return draw(st.sampled_from(["", " ", "\t"])) + core + draw(st.sampled_from(["", " ", "%"]))


def check_match(candidates: list[Candidate], ref: str, ranked: bool) -> None:
    want = expected(candidates, ref, ranked)
    try:
        got = match(candidates, ref, "pipeline" if ranked else "run", "here", ranked=ranked)
    except IdentifierError as exc:
        assert want is None, f"{ref!r} names {want} by the grammar, refused: {exc}"
        assert str(exc).strip() and "Traceback" not in str(exc)
        return
    assert want is not None and got.id == want.id, f"{ref!r} resolved to {got}, the grammar says {want}"


@st.composite
def pipeline_case(draw: st.DrawFn) -> tuple[list[Candidate], str]:
    candidates = draw(candidate_lists(ranked=True))
    return candidates, draw(references(candidates))


@st.composite
def run_case(draw: st.DrawFn) -> tuple[list[Candidate], str]:
    candidates = draw(candidate_lists(ranked=False))
    return candidates, draw(references(candidates))


@given(pipeline_case())
@settings(max_examples=EXAMPLES * 5, deadline=None)
def test_a_pipeline_reference_names_one_pipeline_or_is_refused(case):
    check_match(*case, ranked=True)


@given(run_case())
@settings(max_examples=EXAMPLES * 5, deadline=None)
def test_a_run_reference_names_one_run_or_is_refused(case):
    check_match(*case, ranked=False)


# -- the commands ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz-ids")
    manifest = write_text_corpus(root / "manifest.csv", 4, 3, lambda s, label, k: rotated(label, k + s))
    add_run(root / "wd" / "results.db", manifest)
    add_run(root / "wd" / "results.db", manifest, run_id="c0ffee99aabbccdd", name="again")
    return root / "wd"


run_refs = st.one_of(
    st.sampled_from(["grid", "again", RUN[:4], RUN[:7], "c0ffee", "C0FFEE9", "%", "_", "", " ", "c0f"]),
    st.text(max_size=20),
)
pipeline_refs = st.one_of(
    st.sampled_from([p[0][:n] for p in PIPELINES for n in (1, 3, 4, 8)] + ["1", "4", "5", "0", "01", "١", "%"]),
    st.integers(-5, 20).map(str),
    st.text(max_size=20),
)


RUNS = [Candidate(RUN, "grid"), Candidate("c0ffee99aabbccdd", "again")]
RANKED = [Candidate(pid, label(t), rank) for rank, (pid, t, _) in enumerate(PIPELINES, start=1)]


def commands_exit_0_or_2(workdir, run_ref: str, pipeline_ref: str) -> None:
    """Every command exits 0 or 2 with a message; `failures` and `compare` choose what the grammar names."""
    runner = CliRunner()
    for args in (
        ["results", "--run", run_ref, "--format", "csv"],
        ["compare", RUN, pipeline_ref, "2"],
        ["compare", "--", run_ref, "1", pipeline_ref],
    ):
        r = runner.invoke(main, [*args, "--workdir", str(workdir)])
        assert r.exit_code in (0, 2), (args, r.output)
        assert "internal error" not in r.output and "Traceback" not in r.output, (args, r.output)
    run = expected(RUNS, run_ref, ranked=False)
    r = runner.invoke(main, ["failures", "--workdir", str(workdir), "--", run_ref])
    assert (r.exit_code, f"run {run.id[:12]}" in r.output if run else True) == (0 if run else 2, True), r.output
    chosen = expected(RANKED, pipeline_ref, ranked=True)
    r = runner.invoke(main, ["compare", "--workdir", str(workdir), "--", RUN, "1", pipeline_ref])
    if chosen is None or chosen.rank == 1:
        assert r.exit_code == 2 and r.output.startswith("error: ") and len(r.output) > 20, r.output
    else:
        assert r.exit_code == 0 and f"B = #{chosen.rank} {chosen.id[:8]} {chosen.label}" in r.output, r.output


@given(run_refs, pipeline_refs)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_commands_taking_references_exit_0_or_2(registry, workdir, monkeypatch, run_ref, pipeline_ref):
    monkeypatch.setattr(registry_module, "_default", registry)
    commands_exit_0_or_2(workdir, run_ref, pipeline_ref)


@pytest.mark.nightly
@given(run_refs, pipeline_refs)
@settings(max_examples=NIGHTLY, deadline=None, suppress_health_check=list(HealthCheck))
def test_commands_taking_references_exit_0_or_2_nightly(registry, workdir, monkeypatch, run_ref, pipeline_ref):
    monkeypatch.setattr(registry_module, "_default", registry)
    commands_exit_0_or_2(workdir, run_ref, pipeline_ref)


@pytest.mark.nightly
@given(pipeline_case())
@settings(max_examples=NIGHTLY * 5, deadline=None)
def test_a_pipeline_reference_names_one_pipeline_or_is_refused_nightly(case):
    check_match(*case, ranked=True)


def test_the_grammar_oracle_is_not_vacuous():
    """The restated grammar resolves some references and refuses others (a property over it can fail)."""
    cands = [Candidate("3b4fd19156da02ba", "a", 1), Candidate("3b4f000000000000", "feed", None)]
    assert expected(cands, "1", True) == cands[0] and expected(cands, "3b4f", True) is None
    assert expected(cands, "feed", True) == cands[1] and expected(cands, " 3B4FD ", True) == cands[0]
