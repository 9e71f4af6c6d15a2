"""One benchmark over several corpora: label maps, per-corpus and across-corpus leaderboards, the
cross-corpus matrix (cells equal to the cross_corpus runs they stand for, one fit per training corpus),
extraction once per file, resume, and every bad input of issue 29 with its message.

The corpora are the built-in synthetic generator with different seeds and speaker counts (different voices);
the EmoDB test is in test_realdata_across_corpora.py.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from emoframe.bench.runner import run_benchmark
from emoframe.bench.study import run_study
from emoframe.cli.main import main
from emoframe.errors import DataError, EmoframeError, SpecError
from emoframe.results import corpora as rc
from emoframe.results.leaderboard import leaderboard
from emoframe.results.store import ResultsStore
from emoframe.spec import parse_spec
from emoframe.spec.validation import validate

BRANCHES = {"audio": {"extractor": "toy.energy", "model": ["toy.centroid", "toy.prior"]}}


def demo(seed: int, speakers: int = 4, **extra):
    return {"corpus": {"name": "demo", "params": {"seed": seed, "speakers": speakers, "per_class": 3}}, **extra}


def three_corpora():
    return [
        demo(1, name="a"),
        demo(2, name="b", label_map={"angry": "anger"}),
        demo(3, speakers=5, name="c", label_map={"angry": "anger"}, classes=["anger", "happy", "sad", "neutral"]),
    ]


def study_spec(protocol="speaker_kfold", **evaluation):
    return parse_spec(
        {
            "name": "three",
            "data": three_corpora(),
            "evaluation": {"protocol": protocol, "folds": 2, "bootstrap": 200, **evaluation},
            "branches": BRANCHES,
        }
    )


@pytest.fixture(scope="module")
def matrix_run(tmp_path_factory):
    """A 3-corpus matrix with leave-one-out, run once for the tests that read it."""
    from emoframe.plugin.registry import Registry

    from . import toy_plugin

    reg = Registry.from_entry_points(allow=[])
    reg.add_plugin(toy_plugin, name="toy")
    wd = tmp_path_factory.mktemp("matrix")
    spec = study_spec("cross_corpus_matrix", leave_one_out=True)
    outcome = run_study(spec, reg, wd, jobs=1)
    return reg, wd, spec, outcome


# -- the spec ----------------------------------------------------------------------------------------------
def test_a_list_under_data_is_several_sources_and_writes_back_as_written():
    spec = study_spec()
    assert spec.is_multi_corpus and [d.source_name() for d in spec.data_sources] == ["a", "b", "c"]
    again = parse_spec(spec.to_dict())
    assert again.to_dict() == spec.to_dict() and again.digest() == spec.digest()
    assert isinstance(spec.to_dict()["data"], list) and "sources" not in spec.to_dict()


def test_one_data_block_writes_exactly_what_it_wrote_before():
    doc = {"data": {"corpus": "demo"}, "branches": {"audio": {"extractor": "toy.energy", "model": "toy.centroid"}}}
    spec = parse_spec(doc)
    assert not spec.is_multi_corpus and spec.data_sources == [spec.data]
    written = spec.to_dict()
    assert set(written["data"]) == {"corpus", "encoding"}  # no name, label_map, protocol
    assert set(written["evaluation"]) == {"protocol", "folds", "inner_folds", "seed", "bootstrap", "max_failure_share"}
    assert "sources" not in written


def test_spec_problems_name_the_source(registry):
    with pytest.raises(SpecError) as e:
        parse_spec({"data": [demo(1, name="a:b")], "branches": BRANCHES})
    assert "data[0].name" in str(e.value) and "sources" not in str(e.value)
    twice = parse_spec({"data": [demo(1, name="x"), demo(2, name="x")], "branches": BRANCHES})
    with pytest.raises(SpecError) as e:
        validate(twice, registry)
    assert "data[1].name" in str(e.value) and "two data sources are called 'x'" in str(e.value)
    unnamed = parse_spec({"data": [demo(1), demo(2)], "branches": BRANCHES})  # both default to 'demo'
    with pytest.raises(SpecError, match="two data sources are called 'demo'"):
        validate(unnamed, registry)
    cross = parse_spec(
        {
            "data": [demo(1, name="a"), demo(2, name="b")],
            "evaluation": {"protocol": "cross_corpus", "test": demo(3)},
            "branches": BRANCHES,
        }  # fmt: skip
    )
    with pytest.raises(SpecError, match="use cross_corpus_matrix"):
        validate(cross, registry)
    one = parse_spec({"data": demo(1), "evaluation": {"protocol": "cross_corpus_matrix"}, "branches": BRANCHES})
    with pytest.raises(SpecError, match="cross_corpus_matrix needs several corpora"):
        validate(one, registry)
    own = parse_spec({"data": demo(1, protocol="loso"), "branches": BRANCHES})
    with pytest.raises(SpecError, match="data.protocol"):
        validate(own, registry)
    with pytest.raises(SpecError, match="leave_one_out"):
        parse_spec({"data": demo(1), "evaluation": {"leave_one_out": True}, "branches": BRANCHES})


# -- label maps --------------------------------------------------------------------------------------------
def test_label_map_renames_drops_and_refuses_unknown_labels(registry, tmp_path):
    from emoframe.data.source import load_data
    from emoframe.spec import DataSpec

    data = DataSpec.model_validate(demo(4, name="d", label_map={"angry": "anger", "sad": None}))
    m = load_data(data, registry, workdir=tmp_path)
    assert sorted(set(m.labels)) == ["anger", "happy", "neutral"]
    assert any("sad dropped by its label_map" in w for w in m.warnings)
    bad = DataSpec.model_validate(demo(4, name="d", label_map={"furious": "angry"}))
    with pytest.raises(DataError) as e:
        load_data(bad, registry, workdir=tmp_path)
    assert "d: label_map names label(s) furious" in str(e.value) and "angry, happy, neutral, sad" in str(e.value)


def _run(reg, tmp_path, data, protocol="speaker_kfold", **evaluation):
    spec = parse_spec(
        {
            "data": data,
            "evaluation": {"protocol": protocol, "folds": 2, "bootstrap": 50, **evaluation},
            "branches": {"audio": {"extractor": "toy.energy", "model": "toy.centroid"}},
        }  # fmt: skip
    )
    return run_study(spec, reg, tmp_path, jobs=1)


def test_a_map_onto_a_label_no_other_corpus_has_is_refused(registry, tmp_path):
    with pytest.raises(DataError) as e:
        _run(registry, tmp_path, [demo(1, name="a"), demo(2, name="b", label_map={"angry": "furious"})])
    text = str(e.value)
    assert text.startswith("b: label_map maps 'angry' onto 'furious', a label no other corpus has")
    assert "a: angry, happy, neutral, sad" in text


def test_a_corpus_left_with_fewer_than_two_shared_classes_is_named(registry, tmp_path):
    data = [demo(1, name="a", classes=["angry", "sad"]),
            demo(2, name="b", label_map={"angry": "a2", "sad": "s2", "happy": "h2"})]  # fmt: skip
    with pytest.raises(DataError) as e:
        _run(registry, tmp_path, data)
    assert "label_map maps 'angry' onto 'a2', a label no other corpus has" in str(e.value)
    data = [demo(1, name="a", classes=["angry", "sad"]), demo(2, name="b", classes=["angry", "happy", "neutral"])]
    with pytest.raises(DataError) as e:
        _run(registry, tmp_path, data)
    assert str(e.value).startswith("a: after its label map it shares 1 label(s) with the other corpora (angry)")
    assert "its labels: angry, sad" in str(e.value) and "b: angry, happy, neutral" in str(e.value)


def test_a_matrix_needs_two_labels_every_corpus_has(registry, tmp_path):
    data = [demo(1, name="a", classes=["angry", "sad", "happy"]), demo(2, name="b", classes=["angry", "sad"]),
            demo(3, name="c", classes=["happy", "sad", "neutral"])]  # fmt: skip
    with pytest.raises(DataError) as e:
        _run(registry, tmp_path, data, "cross_corpus_matrix")
    assert "cross_corpus_matrix: the corpora share 1 label(s) (sad)" in str(e.value)


def test_a_corpus_without_speakers_enough_for_a_speaker_protocol_is_named(registry, tmp_path):
    import pandas as pd

    from emoframe.data.synth import generate

    generate(tmp_path / "one", seed=9, speakers=2, per_class=2)
    path = tmp_path / "one" / "manifest.csv"  # the test's own copy: every row's speaker made unknown
    pd.read_csv(path).assign(speaker="unknown").to_csv(path, index=False)
    with pytest.raises(DataError) as e:
        _run(registry, tmp_path, [demo(1, name="a"), {"name": "mine", "manifest": str(path)}])
    assert str(e.value).startswith("mine: 1 speaker(s) (unknown) but protocol speaker_kfold needs at least 2")
    assert "protocol: predefined" in str(e.value)


def test_a_corpus_that_fails_to_load_fails_its_runs_and_the_others_are_stored(registry, tmp_path):
    data = [demo(1, name="a"), demo(2, name="b"), {"name": "gone", "manifest": str(tmp_path / "missing.csv")}]
    outcome = _run(registry, tmp_path, data)
    by = {u.corpus: u for u in outcome.units}
    assert by["gone"].status == "failed" and "could not be loaded" in (by["gone"].message or "")
    assert "missing.csv" in (by["gone"].message or "")
    assert by["a"].status == by["b"].status == "done"
    assert any("gone" in e["message"] for e in outcome.errors)  # the run finishes with failures: exit 1
    store = ResultsStore(tmp_path / "results.db", readonly=True)
    try:
        boards = rc.corpus_leaderboards(store, outcome.run_id)
        assert set(boards) == {"a", "b"} and all(r.uar is not None for rows in boards.values() for r in rows)
        assert rc.unit_problems(store, outcome.run_id) == [f"corpus gone: {by['gone'].message}"]
    finally:
        store.close()
    result = CliRunner().invoke(main, ["results", "--run", outcome.run_id, "--workdir", str(tmp_path)])
    assert result.exit_code == 0 and "gone" in result.output


def test_different_sample_rates_are_recorded_with_the_run(registry, tmp_path):
    import pandas as pd
    import soundfile as sf

    from emoframe.data.audio import resample
    from emoframe.data.synth import generate

    generate(tmp_path / "src", seed=7, speakers=3, per_class=2)
    frame = pd.read_csv(tmp_path / "src" / "manifest.csv")
    (tmp_path / "low").mkdir()
    for rel in frame["audio"]:
        x, sr = sf.read(tmp_path / "src" / rel, dtype="float32")
        sf.write(tmp_path / "low" / rel.split("/")[-1], resample(x, sr, 8000), 8000)
    frame.assign(audio=[rel.split("/")[-1] for rel in frame["audio"]]).to_csv(
        tmp_path / "low" / "manifest.csv", index=False
    )
    outcome = _run(registry, tmp_path, [demo(1, name="a"), {"name": "low", "manifest": str(tmp_path / "low" /
                   "manifest.csv")}], folds=2)  # fmt: skip
    note = next(w for w in outcome.warnings if "different sample rates" in w)
    assert "low: 8000 Hz" in note and "resampled once" in note
    store = ResultsStore(tmp_path / "results.db", readonly=True)
    try:
        info, _ = rc.study(store, outcome.run_id)  # type: ignore[misc]
        assert note in info["notes"] and info["cards"]["low"]["sample_rates"] == {"8000": len(frame)}
        assert store.run(outcome.run_id)["warnings"] == info["notes"]
    finally:
        store.close()


# -- leaderboards, extraction once, resume ------------------------------------------------------------------
def test_each_corpus_run_equals_its_one_corpus_benchmark_and_files_are_extracted_once(registry, tmp_path):
    spec = study_spec()
    outcome = run_study(spec, registry, tmp_path / "wd", jobs=1)
    files = 4 * 4 * 3 + 4 * 4 * 3 + 5 * 4 * 3
    assert outcome.computed == {"toy.energy": files} and outcome.from_cache == {"toy.energy": 0}
    store = ResultsStore(tmp_path / "wd" / "results.db", readonly=True)
    try:
        boards = rc.corpus_leaderboards(store, outcome.run_id)
        across = rc.across_corpora(store, outcome.run_id)
    finally:
        store.close()
    assert list(boards) == ["a", "b", "c"]
    # corpus b alone, as today's one-data spec: the same pooled UAR and CI for every pipeline
    alone = parse_spec({"data": three_corpora()[1] | {"name": None}, "branches": BRANCHES,
                        "evaluation": {"folds": 2, "bootstrap": 200}})  # fmt: skip
    single = run_benchmark(alone, registry, tmp_path / "alone", jobs=1)
    store = ResultsStore(tmp_path / "alone" / "results.db", readonly=True)
    try:
        expected = {r.pipeline: (r.uar, r.uar_ci_low, r.uar_ci_high) for r in leaderboard(store, single.run_id)}
    finally:
        store.close()
    assert {r.pipeline: (r.uar, r.uar_ci_low, r.uar_ci_high) for r in boards["b"]} == expected
    # across corpora: each pipeline's UAR on each corpus is its corpus leaderboard's, the mean theirs
    for row in across.rows:
        for corpus, value in row.uar.items():
            assert value == next(r.uar for r in boards[corpus] if r.pipeline == row.pipeline)
        assert row.mean_uar == pytest.approx(sum(row.uar.values()) / 3)  # type: ignore[arg-type]
    assert [r.rank for r in across.rows] == [1, 2] and across.ranks is not None
    assert across.ranks.reason is not None and "2 pipeline(s)" in across.ranks.reason  # two: no Friedman
    # a rerun reads every fold from the store and every feature from the cache
    again = run_study(spec, registry, tmp_path / "wd", jobs=1)
    assert again.ran == 0 and again.skipped == outcome.ran and again.computed == {"toy.energy": 0}


def test_an_interrupted_study_resumes_the_missing_folds_only(registry, tmp_path):
    spec = study_spec()
    first = run_study(spec, registry, tmp_path, jobs=1)
    run_b = next(u.run_id for u in first.units if u.corpus == "b")
    db = sqlite3.connect(tmp_path / "results.db")
    db.execute("DELETE FROM folds WHERE run_id = ? AND fold = 2", (run_b,))
    db.commit()
    db.close()
    again = run_study(spec, registry, tmp_path, jobs=1)
    assert again.run_id == first.run_id and again.ran == 2 and again.skipped == first.ran - 2


# -- the matrix --------------------------------------------------------------------------------------------
def test_matrix_fits_each_pipeline_once_per_training_set(matrix_run):
    reg, wd, spec, outcome = matrix_run
    pipelines, corpora = 2, 3
    trainings = corpora + corpora  # each corpus, and all but each one
    assert outcome.matrix_fits == pipelines * trainings  # not pipelines × corpora × (corpora − 1) fits
    store = ResultsStore(wd / "results.db", readonly=True)
    try:
        for u in outcome.units:
            if u.role == "matrix":
                assert store.run(u.run_id)["n_folds"] == 1
                assert len(store.finished(u.run_id)) == pipelines
        cells = rc.matrix_cells(store, outcome.run_id)
    finally:
        store.close()
    kinds = [c.kind for c in cells]
    assert kinds.count("in_corpus") == pipelines * corpora
    assert kinds.count("cross") == pipelines * corpora * (corpora - 1)
    assert kinds.count("leave_one_out") == pipelines * corpora
    for c in cells:
        assert c.uar_ci_low <= c.uar <= c.uar_ci_high and c.n > 0
        if c.kind != "in_corpus":
            assert c.drop_pts == pytest.approx((c.in_corpus - c.uar) * 100)  # type: ignore[operator]


def test_matrix_cells_equal_the_cross_corpus_runs_they_stand_for(matrix_run, tmp_path):
    reg, wd, spec, outcome = matrix_run
    shared = ["happy", "neutral", "sad"]  # a says angry, b and c anger: not shared by all three
    store = ResultsStore(wd / "results.db", readonly=True)
    try:
        cells = {(c.pipeline, c.train, c.test): c for c in rc.matrix_cells(store, outcome.run_id)}
        info, _ = rc.study(store, outcome.run_id)  # type: ignore[misc]
    finally:
        store.close()
    assert info["shared"] == shared
    sources = {d.source_name(): d.model_dump(mode="json", exclude_none=True) for d in spec.data_sources}
    for train, test in (("a", "c"), ("c", "b")):
        single = parse_spec(
            {
                "data": {**sources[train], "classes": shared},
                "evaluation": {
                    "protocol": "cross_corpus",
                    "bootstrap": 200,
                    "test": {**sources[test], "classes": shared},
                },
                "branches": BRANCHES,
            }  # fmt: skip
        )
        outcome_1 = run_benchmark(single, reg, tmp_path / f"{train}{test}", jobs=1)
        s = ResultsStore(tmp_path / f"{train}{test}" / "results.db", readonly=True)
        try:
            rows = leaderboard(s, outcome_1.run_id)
        finally:
            s.close()
        for r in rows:
            cell = cells[(r.pipeline, train, test)]
            assert (cell.uar, cell.uar_ci_low, cell.uar_ci_high, cell.n) == (r.uar, r.uar_ci_low, r.uar_ci_high, r.n)


def test_results_json_and_csv_give_every_cell_with_its_ci(matrix_run):
    reg, wd, spec, outcome = matrix_run
    runner = CliRunner()
    result = runner.invoke(main, ["results", "--run", outcome.run_id, "--format", "json", "--workdir", str(wd)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert set(doc) == {"corpora", "across", "matrix"} and len(doc["matrix"]) == 2 * (3 + 6 + 3)
    assert all({"uar", "uar_ci_low", "uar_ci_high", "train", "test", "drop_pts"} <= set(c) for c in doc["matrix"])
    csv_out = runner.invoke(main, ["results", "--run", outcome.run_id, "--format", "csv", "--workdir", str(wd)]).output
    lines = csv_out.strip().splitlines()
    assert lines[0].startswith("kind,corpus,") and sum(line.startswith("cross,") for line in lines) == 12
    table = runner.invoke(main, ["results", "--run", outcome.run_id, "--workdir", str(wd)])
    assert table.exit_code == 0 and "cross-corpus matrix" in table.output and "across corpora" in table.output


def test_report_has_the_across_corpora_section_with_heatmaps_and_the_cd_diagram(matrix_run, tmp_path):
    reg, wd, spec, outcome = matrix_run
    result = CliRunner().invoke(main, ["report", outcome.run_id, "--out", str(tmp_path / "r"), "--workdir", str(wd)])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r" / "index.html").read_text()
    assert "<h2 id='corpora'>Across corpora</h2>" in page and "critical-difference diagram" in page
    assert page.count("alt='cross-corpus matrix:") == 2 and "<h3>The corpora</h3>" in page


def test_rank_command_says_why_no_test_with_two_pipelines_and_refuses_a_one_corpus_run(matrix_run, tmp_path):
    reg, wd, spec, outcome = matrix_run
    runner = CliRunner()
    result = runner.invoke(main, ["rank", outcome.run_id, "--workdir", str(wd), "--diagram", str(tmp_path / "cd.png")])
    assert result.exit_code == 0, result.output
    assert "no test claimed: 2 pipeline(s)" in result.output.replace("\n", " ")
    assert (tmp_path / "cd.png").read_bytes()[:4] == b"\x89PNG"
    doc = json.loads(runner.invoke(main, ["rank", outcome.run_id, "--workdir", str(wd), "--format", "json"]).output)
    assert doc["friedman_p"] is None and doc["reason"] and len(doc["average_ranks"]) == 2
    one = next(u.run_id for u in outcome.units if u.corpus == "a" and u.role == "corpus")
    refused = runner.invoke(main, ["rank", one, "--workdir", str(wd)])
    assert refused.exit_code == 2 and "is not a run over several corpora" in refused.output


def test_corpus_normalisation_uses_each_corpus_own_statistics(registry):
    import numpy as np
    import pandas as pd

    from emoframe.data.manifest import Manifest
    from emoframe.pipeline import FeatureProvider
    from emoframe.pipeline.fitted import Branch
    from emoframe.spec import BranchSpec

    frame = pd.DataFrame(
        {
            "id": list("wxyz"),
            "text": ["hi", "hi hi hi", "yo", "yo yo yo yo yo"],
            "label": list("abab"),
            "speaker": list("pqrs"),
            "corpus": ["one", "one", "two", "two"],
        }  # fmt: skip
    )
    m = Manifest.from_frame(frame, require_audio=False)
    branch = Branch("text", BranchSpec(extractor="toy.words", normalise="corpus"), registry)
    X = np.asarray(branch.inputs(m, FeatureProvider(registry), fit=True))
    for corpus in ("one", "two"):  # each corpus z-normalised by its own rows
        rows = (m.frame["corpus"] == corpus).to_numpy()
        assert np.allclose(X[rows].mean(0), 0)
    alone = Manifest.from_frame(frame.drop(columns="corpus"), require_audio=False)  # one corpus: the rows given
    Y = np.asarray(branch.inputs(alone, FeatureProvider(registry), fit=True))
    assert np.allclose(Y.mean(0), 0) and not np.allclose(X, Y)
    assert "corpus-norm" in parse_spec({"data": demo(1), "branches": {"text": {"extractor": "toy.words",
                                        "model": "toy.centroid", "normalise": "corpus"}}}).label()  # fmt: skip


def test_a_multi_corpus_spec_is_refused_by_the_one_corpus_runner(registry, tmp_path):
    with pytest.raises(EmoframeError, match="run_study"):
        run_benchmark(study_spec(), registry, tmp_path)


def test_bench_names_a_corpus_that_failed_to_load_and_exits_1(tmp_path):
    spec = tmp_path / "spec.yaml"
    (tmp_path / "broken.csv").write_text("id,audio,label\nx1,,angry\n")  # no text, no speaker column
    spec.write_text(
        "data:\n"
        "  - {name: a, corpus: {name: demo, params: {seed: 1, speakers: 3, per_class: 2}}}\n"
        "  - {name: b, corpus: {name: demo, params: {seed: 2, speakers: 3, per_class: 2}}}\n"
        "  - {name: gone, manifest: broken.csv}\n"
        "evaluation: {folds: 3, bootstrap: 20}\n"
        "branches: {text: {extractor: sklearn.tfidf, model: sklearn.logreg}}\n"
    )
    result = CliRunner().invoke(main, ["bench", str(spec), "--workdir", str(tmp_path / "wd"), "-j", "1"])
    assert result.exit_code == 1, result.output
    assert "failed: gone: could not be loaded" in result.output and "missing column(s)" in result.output
    assert "every other corpus ran and is stored" in result.output and "across corpora" in result.output


def test_one_corpus_in_a_list_gives_ranks_and_says_why_no_test(registry, tmp_path):
    spec = parse_spec({"data": [demo(1, name="solo")], "evaluation": {"folds": 2, "bootstrap": 20},
                       "branches": BRANCHES})  # fmt: skip
    outcome = run_study(spec, registry, tmp_path, jobs=1)
    store = ResultsStore(tmp_path / "results.db", readonly=True)
    try:
        across = rc.across_corpora(store, outcome.run_id)
    finally:
        store.close()
    assert across.ranks is not None and across.ranks.friedman_p is None
    assert (across.ranks.reason or "").startswith("one corpus: its folds share speakers")
    assert all(r.tied_with_best is None and r.p_versus_best is None for r in across.rows)


def test_pipeline_commands_on_a_run_over_several_corpora_name_its_corpus_runs(matrix_run):
    """compare / explain / train name a pipeline of one run; a multi-corpus run has none of its own: the
    message lists the runs it is made of (found by the outside re-check: it said 'no pipeline has a rank')."""
    reg, wd, spec, outcome = matrix_run
    runner = CliRunner()
    one = next(u.run_id for u in outcome.units if u.corpus == "a" and u.role == "corpus")
    for args in (["compare", outcome.run_id, "1", "2"], ["explain", outcome.run_id, "1"]):
        result = runner.invoke(main, [*args, "--workdir", str(wd)])
        text = result.output.replace("\n", " ")
        assert result.exit_code == 2, result.output
        assert "benchmark over several corpora" in text and one[:12] in text and "(corpus a)" in text


@pytest.mark.parametrize(
    "data, expected",
    [
        ([demo(1, name="a"), demo(2, name="b", label_map={"angry": "furious"})], "a label no other corpus has"),
        (
            [demo(1, name="a", classes=["angry", "sad"]), demo(2, name="b", classes=["angry", "happy", "neutral"])],
            "a: after its label map it shares 1 label(s)",
        ),
    ],
)
def test_validate_refuses_the_bad_label_maps_the_run_refuses_without_loading_audio(tmp_path, data, expected):
    """`emoframe validate` said ok to specs `bench` refused (found by the outside re-check): it now runs the
    same rule on the labels known without loading (a corpus's declared labels, a manifest's rows)."""
    import yaml

    spec = {"data": data, "branches": {"audio": {"extractor": "opensmile.egemaps", "model": "sklearn.svc"}}}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert expected in result.output.replace("\n", " ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]  # nothing generated, nothing written
    good = {**spec, "data": three_corpora()}
    path.write_text(yaml.safe_dump(good))
    assert CliRunner().invoke(main, ["validate", str(path)]).exit_code == 0
