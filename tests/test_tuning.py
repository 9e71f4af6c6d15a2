"""Nested tuning (issue 28 items 1–3): search spaces validated against Params, trials on speaker-grouped inner
folds of the outer training fold only, the refit evaluated, default vs tuned on the same folds, trials stored,
equal-budget warnings, failing trials, determinism, and scikit-learn's GridSearchCV reproduced."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import emoframe.pipeline.fitted as fitted
from emoframe.bench.evaluate import plan, run_fold
from emoframe.bench.runner import run_benchmark
from emoframe.cli import main
from emoframe.data.manifest import Manifest, load_manifest
from emoframe.errors import DataError, SpecError
from emoframe.evaluation.splits import tuning_folds
from emoframe.features import FeatureCache
from emoframe.pipeline import FeatureProvider, Pipeline
from emoframe.plugin.registry import Registry
from emoframe.results.leaderboard import leaderboard
from emoframe.results.store import ResultsStore
from emoframe.spec import ComponentRef, parse_spec, pipelines_of

from . import stats_reference as ref
from . import toy_plugin, tuning_plugin
from .tuning_plugin import CALLS, SEARCHING, fingerprint

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from emoframe.data.synth import generate

    root = tmp_path_factory.mktemp("tuning")
    generate(root / "demo", seed=3, speakers=6, per_class=3)
    return root / "demo" / "manifest.csv"


@pytest.fixture
def reg() -> Registry:
    r = Registry.from_entry_points(allow=["sklearn", "torch"])
    r.add_plugin(toy_plugin, name="toy")
    r.add_plugin(tuning_plugin, name="spy")
    return r


def spy_doc(manifest: Path, search: dict, **tuning) -> dict:
    return {
        "data": {"manifest": str(manifest)},
        "evaluation": {"protocol": "speaker_kfold", "folds": 3, "bootstrap": 200},
        "branches": {"audio": {"extractor": "toy.energy", "model": {"name": "spy.centroid", "search": search}}},
        "tuning": {"inner_folds": 3, **tuning},
    }


# -- the spec ---------------------------------------------------------------------------------------
def test_an_untuned_spec_reads_hashes_and_labels_as_before():
    plain = ComponentRef(name="sklearn.svc", params={"C": 2})
    assert plain.key() == '{"name": "sklearn.svc", "params": {"C": 2}}'
    assert ComponentRef(name="sklearn.svc").key() == '"sklearn.svc"'
    spec = parse_spec({"data": {"corpus": "demo"}, "branches": {"audio": {"extractor": "x.y", "model": "sklearn.svc"}}})
    assert "tuning" not in spec.to_dict() and spec.label() == "x.y→sklearn.svc"
    tuned = ComponentRef(name="sklearn.svc", search={"C": [1, 10]})
    assert tuned.label() == "sklearn.svc tuned[C]" and "search" in tuned.key()


@pytest.mark.parametrize(
    "search, message",
    [
        ({"C": "logunif(1, 2)"}, "is not a search"),
        ({"C": "loguniform(0, 2)"}, "loguniform needs low > 0"),
        ({"C": "uniform(3, 1)"}, "low < high"),
        ({"C": []}, "an empty list"),
        ({"shrink": "int(1.5, 3)"}, "whole numbers"),
    ],
)
def test_search_syntax_is_refused_at_its_path(search, message):
    doc = {
        "data": {"corpus": "demo"},
        "branches": {"audio": {"extractor": "x", "model": {"name": "m", "search": search}}},
    }
    with pytest.raises(SpecError) as err:
        parse_spec(doc)
    assert "branches.audio.model.search" in str(err.value) and message in str(err.value)


def test_a_trial_budget_over_1000_is_refused():
    with pytest.raises(SpecError, match=r"tuning\.trials.*over the limit of 1000; lower tuning\.trials"):
        parse_spec({"data": {"corpus": "demo"}, "branches": {"audio": {"model": "m"}}, "tuning": {"trials": 1001}})


@pytest.mark.parametrize(
    "search, path, message",
    [
        ({"temprature": [1, 2]}, "search.temprature", "has no parameter 'temprature'"),
        ({"temperature": [0.5, "hot"]}, "search.temperature", "value 'hot' is not valid"),
        ({"temperature": [0, 1]}, "search.temperature", "greater than 0"),
        ({"temperature": "loguniform(0.1, 1000)"}, "search.temperature", "out of bounds"),
        ({"explode": "uniform(0, 1)"}, "search.explode", "is categorical (true/false)"),
        ({"shrink": "loguniform(1, 5)"}, "search.shrink", "takes whole numbers"),
        ({"shrink": list(range(11)), "temperature": [x / 10 + 0.1 for x in range(1000)]}, "search", "more than 10,000"),
    ],
)
def test_validate_refuses_a_bad_search_with_its_path_and_what_to_do(
    corpus, reg, tmp_path, monkeypatch, search, path, message
):
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(spy_doc(corpus, search)))
    monkeypatch.setattr("emoframe.cli.catalogue.load_registry", lambda: reg)
    monkeypatch.setattr("emoframe.spec.io.get_registry", lambda: reg, raising=False)
    result = CliRunner().invoke(main, ["validate", str(spec_file)])
    assert result.exit_code == 2, result.output
    assert f"branches.audio.model.{path}" in result.output and message in result.output


def test_a_categorical_field_takes_a_list_not_a_distribution(reg, corpus):
    from emoframe.spec import check

    spec = parse_spec(spy_doc(corpus, {"explode": [False, True], "temperature": "loguniform(0.1, 10)"}))
    assert check(spec, reg) == []
    problems = check(parse_spec(spy_doc(corpus, {"explode": "choice(true, 2)"})), reg)
    assert [p.path for p in problems] == ["branches.audio.model.search.explode"]


def test_a_stateless_extractor_is_not_searched_a_fitted_one_is_and_a_choice_of_names_is_categorical(reg, corpus):
    from emoframe.spec import check

    doc = spy_doc(corpus, {"temperature": [1.0]})
    doc["branches"]["audio"]["extractor"] = {"name": "toy.energy", "search": {"frame": [200, 400]}}
    (problem,) = check(parse_spec(doc), reg)
    assert problem.path == "branches.audio.extractor.search" and "list the variants as alternatives" in problem.fix
    doc = spy_doc(corpus, {"kernel": "uniform(0, 1)", "gamma": "loguniform(0.001, 1)"})
    doc["branches"]["audio"]["model"]["name"] = "sklearn.svc"
    (problem,) = check(parse_spec(doc), reg)  # gamma (a number or 'scale'/'auto') may draw numbers; kernel not
    assert problem.path.endswith("search.kernel") and "categorical (a choice of names)" in problem.message
    text = {
        "data": {"manifest": str(corpus)},
        "evaluation": {"folds": 3},
        "branches": {
            "text": {
                "extractor": {"name": "toy.words", "search": {"lowercase": [True, False]}},
                "model": "toy.centroid",
            }
        },
        "tuning": {"inner_folds": 2},
    }
    spec = parse_spec(text)
    assert check(spec, reg) == []
    manifest, provider, p = _outer_fold(corpus, reg, spec)
    result = run_fold(spec, 1, *p.splits[0], p.classes, reg, provider)  # a fitted extractor: refitted per trial
    assert set(result.tuning["chosen"]) == {"branches.text.extractor.lowercase"}


def test_the_grid_sampler_refuses_a_distribution_and_choices_make_a_grid(reg, corpus):
    from emoframe.spec import check
    from emoframe.spec.search import budget, sampler_of

    drawn = parse_spec(spy_doc(corpus, {"temperature": "uniform(0.5, 2)"}, sampler="grid"))
    (problem,) = check(drawn, reg)
    assert problem.path == "tuning.sampler" and "tuning.sampler: tpe" in problem.fix
    listed = parse_spec(spy_doc(corpus, {"temperature": "choice(0.5, 2)", "shrink": [0, 1, 2]}, trials=20))
    assert check(listed, reg) == [] and sampler_of(listed) == "grid" and budget(listed) == 6


def test_unequal_budgets_are_named_by_validate(corpus, reg, tmp_path, monkeypatch):
    doc = spy_doc(corpus, {"temperature": [0.5, 1, 2]}, trials=20)
    doc["branches"]["audio"]["model"] = [
        {"name": "spy.centroid", "search": {"temperature": [0.5, 1, 2]}},
        {"name": "toy.centroid", "search": {"temperature": "loguniform(0.1, 10)"}},
    ]
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(doc))
    monkeypatch.setattr("emoframe.cli.catalogue.load_registry", lambda: reg)
    result = CliRunner().invoke(main, ["validate", str(spec_file), "--expand"])
    assert result.exit_code == 0, result.output
    assert "unequal tuning budgets: toy.energy→spy.centroid tuned[temperature] (3 trials) against 20" in result.output
    # the same budget everywhere (random sampling on both): no warning
    doc["tuning"]["sampler"] = "random"
    spec_file.write_text(yaml.safe_dump(doc))
    again = CliRunner().invoke(main, ["validate", str(spec_file)])
    assert again.exit_code == 0 and "unequal" not in again.output
    # each tuned pipeline brings its untuned twin
    names = [p.display_name for p in pipelines_of(parse_spec(doc), reg)]
    assert "toy.energy→spy.centroid" in names and "toy.energy→toy.centroid" in names and len(names) == 4


# -- the inner split and the outer test fold ----------------------------------------------------------
def test_tuning_folds_never_put_a_speaker_on_both_sides():
    rng = np.random.default_rng(0)
    speakers = np.repeat([f"s{i}" for i in range(5)], 8)
    labels = rng.choice(["a", "b", "c"], size=len(speakers))
    folds = tuning_folds(labels, speakers, 3, seed=1)
    assert len(folds) == 3
    for tr, va in folds:
        assert not set(speakers[tr]) & set(speakers[va])
    assert sorted(np.concatenate([va for _, va in folds]).tolist()) == list(range(len(speakers)))
    assert len(tuning_folds(labels[:16], speakers[:16], 3, seed=1)) == 2  # two speakers: two folds
    with pytest.raises(DataError, match="at least 2 speakers"):
        tuning_folds(labels[:8], speakers[:8], 3, seed=1)


def _outer_fold(corpus, reg, spec):
    manifest = load_manifest(corpus)
    provider = FeatureProvider(reg, jobs=1)
    p = plan(spec, reg, provider, Pipeline(spec, reg).stateless_refs(), manifest)
    return manifest, provider, p


def _searched_rows(monkeypatch):
    real = fitted.tune

    def flagged(*args, **kwargs):
        SEARCHING[0] = True
        try:
            return real(*args, **kwargs)
        finally:
            SEARCHING[0] = False

    monkeypatch.setattr(fitted, "tune", flagged)
    CALLS.clear()


def _seen_in_search() -> set[str]:
    return {f for phase, searching, rows, _ in CALLS if searching for f in rows}


def test_the_outer_test_fold_never_reaches_the_search_and_a_planted_leak_is_caught(corpus, reg, monkeypatch):
    spec = parse_spec(spy_doc(corpus, {"temperature": [0.5, 1.0, 2.0]}))
    manifest, provider, p = _outer_fold(corpus, reg, spec)
    ref_ = spec.branches["audio"].extractor
    train, test = p.splits[0]
    test_rows = {fingerprint(v) for v in provider.get(ref_, test)}
    train_rows = {fingerprint(v) for v in provider.get(ref_, train)}
    speaker_of = {fingerprint(v): s for v, s in zip(provider.get(ref_, manifest), manifest.speakers)}
    counts = {"extract": 0}
    real_extract = toy_plugin.Energy.extract

    def counting(self, x):
        counts["extract"] += 1
        return real_extract(self, x)

    monkeypatch.setattr(toy_plugin.Energy, "extract", counting)
    _searched_rows(monkeypatch)
    result = run_fold(spec, 1, train, test, p.classes, reg, provider)
    seen = _seen_in_search()
    assert seen and seen <= train_rows and not seen & test_rows
    assert counts["extract"] == 0  # features extracted once (the plan), shared by every trial: none again
    # each inner fit and the inner validation rows it is scored on: no speaker on both sides
    searched = [c for c in CALLS if c[1]]
    assert len(searched) == 2 * 3 * 3  # 3 trials × 3 inner folds, a fit and a predict each
    for (fit_phase, _, _, fit_speakers), (pred_phase, _, pred_rows, _) in zip(searched[::2], searched[1::2]):
        assert (fit_phase, pred_phase) == ("fit", "predict")
        assert not set(fit_speakers) & {speaker_of[f] for f in pred_rows}
    # the refit on the whole outer training fold is what predicts the outer test fold
    refit = [c for c in CALLS if not c[1] and c[0] == "fit"]
    assert len(refit) == 1 and set(refit[0][2]) == train_rows
    assert result.tuning is not None and result.tuning["chosen_trial"] in range(3)
    assert len(result.tuning["trials"]) == 3 and all(t["state"] == "complete" for t in result.tuning["trials"])
    # planted: a fold whose search is handed the outer test rows too (train + test) is caught by this check
    CALLS.clear()
    leaky = Manifest.from_frame(pd.concat([train.frame, test.frame]), require_audio=False)
    Pipeline(spec, reg).fit(leaky, provider, labels_only=True)
    assert _seen_in_search() & test_rows


def test_a_feature_cache_is_not_written_again_by_tuning(corpus, reg, tmp_path):
    doc = spy_doc(corpus, {"temperature": [0.5, 1.0, 2.0]})
    outcome = run_benchmark(parse_spec(doc), reg, tmp_path, jobs=1)
    assert not outcome.errors
    cache = FeatureCache(tmp_path / "cache")
    entries = {name: info["entries"] for name, info in cache.info().items()}
    assert entries == {"toy.energy": len(load_manifest(corpus))}  # each row extracted once, whatever the trials


# -- the figures -----------------------------------------------------------------------------------
def _records(workdir: Path) -> list[dict]:
    store = ResultsStore(workdir / "results.db", readonly=True)
    run_id = store.runs()[0]["id"]
    rows = [r.to_record() for r in leaderboard(store, run_id)]
    store.close()
    for r in rows:  # measured, not computed: the clock's and the worker's figures differ between runs
        for key in ("fit_s", "predict_s", "fit_cpu_s", "predict_ms", "peak_mb", "pareto"):
            r.pop(key, None)
    return rows


def test_same_spec_and_seed_give_the_same_choices_and_figures(corpus, reg, tmp_path):
    doc = spy_doc(corpus, {"temperature": "loguniform(0.1, 10)", "shrink": "int(0, 3)"}, trials=5, seed=7)
    for where in ("a", "b"):
        assert not run_benchmark(parse_spec(doc), reg, tmp_path / where, jobs=1).errors
    first, second = _records(tmp_path / "a"), _records(tmp_path / "b")
    assert first == second
    tuned = next(r for r in first if r.get("tuned"))
    assert len(tuned["tuning_chosen"]) == 3 and tuned["tuning_budget"] == 5
    assert all(isinstance(c["params"]["branches.audio.model.shrink"], int) for c in tuned["tuning_chosen"])


def test_default_vs_tuned_and_sensitivity_match_independent_computations(corpus, reg, tmp_path):
    doc = spy_doc(corpus, {"shrink": [0, 5, 9, 10]})
    run_benchmark(parse_spec(doc), reg, tmp_path, jobs=1)
    store = ResultsStore(tmp_path / "results.db", readonly=True)
    run_id = store.runs()[0]["id"]
    rows = leaderboard(store, run_id)
    tuned = next(r for r in rows if r.tuned)
    default = next(r for r in rows if not r.tuned)
    assert tuned.default_id == default.id and default.pipeline == "toy.energy→spy.centroid"
    assert (tuned.default_uar, tuned.default_uar_ci_low, tuned.default_uar_ci_high) == (
        default.uar,
        default.uar_ci_low,
        default.uar_ci_high,
    )
    # the paired tuned − default difference against the textbook paired bootstrap
    a = {i: (t, y) for fr in store.fold_results(run_id, tuned.id) for i, t, y in zip(fr.test_ids, fr.y_true, fr.y_pred)}
    b = {i: y for fr in store.fold_results(run_id, default.id) for i, y in zip(fr.test_ids, fr.y_pred)}
    ids = [i for i in a if i in b]
    classes = store.run(run_id)["classes"]
    t = ref.codes([a[i][0] for i in ids], classes)
    diff, (lo, hi) = ref.paired_bootstrap(
        t, ref.codes([a[i][1] for i in ids], classes), ref.codes([b[i] for i in ids], classes), len(classes), 200, 0
    )
    assert tuned.tuning_gain_pts == pytest.approx(diff * 100, abs=1e-9)
    assert [tuned.tuning_gain_ci_low_pts, tuned.tuning_gain_ci_high_pts] == pytest.approx(
        [lo * 100, hi * 100], abs=1e-9
    )
    # sensitivity: per outer fold, range and population std of the trials' mean inner scores; then their mean
    trials = store.tuning_trials(run_id)[tuned.id]
    per_fold = [[t_["score"] for t_ in trials[f]] for f in sorted(trials)]
    assert all(len(set(scores)) > 1 for scores in per_fold)  # the search space matters here
    assert tuned.tuning_sensitivity["range"] == pytest.approx(statistics.fmean(max(s) - min(s) for s in per_fold))
    assert tuned.tuning_sensitivity["std"] == pytest.approx(statistics.fmean(statistics.pstdev(s) for s in per_fold))
    # each stored trial's score is the mean of its inner-fold scores, and the chosen one is the best
    for f, ts in trials.items():
        assert all(t_["score"] == pytest.approx(statistics.fmean(t_["scores"])) for t_ in ts)
        best = max(t_["score"] for t_ in ts)
        chosen = [t_ for t_ in ts if t_["chosen"]]
        assert len(chosen) == 1 and chosen[0]["score"] == best
        assert tuned.tuning_chosen[f - 1] == {"fold": f, "params": chosen[0]["params"]}
    store.close()
    # every face: JSON export, the table's lines, the report's section
    out = CliRunner().invoke(main, ["results", "--workdir", str(tmp_path), "--format", "json"])
    record = next(r for r in json.loads(out.output) if r.get("tuned"))
    assert record["default_uar"] == tuned.default_uar and record["tuning_chosen"][0]["fold"] == 1
    assert all("tuned" not in r for r in json.loads(out.output) if r["id"] == default.id)
    table = CliRunner().invoke(main, ["results", "--workdir", str(tmp_path)])
    assert "vs default" in table.output and "chosen per fold" in table.output and "sensitivity" in table.output
    report = CliRunner().invoke(main, ["report", "--workdir", str(tmp_path), "--out", str(tmp_path / "rep")])
    assert report.exit_code == 0, report.output
    page = (tmp_path / "rep" / "index.html").read_text()
    assert "Nested tuning" in page and "parameters chosen per outer fold" in page


def test_a_failing_trial_costs_itself_and_a_search_that_always_fails_is_a_failure(corpus, reg, tmp_path):
    doc = spy_doc(corpus, {"explode": [False, True]})
    run_benchmark(parse_spec(doc), reg, tmp_path / "some", jobs=1)
    (row,) = [r for r in _records(tmp_path / "some") if r.get("tuned")]
    assert row["status"] == "done" and row["tuning_failed_trials"] == 3
    assert all(c["params"] == {"branches.audio.model.explode": False} for c in row["tuning_chosen"])
    listed = CliRunner().invoke(main, ["failures", "--workdir", str(tmp_path / "some"), "--format", "json"])
    trials = [r for r in json.loads(listed.output) if r["kind"] == "trial"]
    assert len(trials) == 3 and "planted failure: explode is true" in trials[0]["reason"]
    doc = spy_doc(corpus, {"explode": [True]})
    outcome = run_benchmark(parse_spec(doc), reg, tmp_path / "all", jobs=1)
    assert len(outcome.errors) == 3 and "every one of the 1 tuning trials failed" in outcome.errors[0]["message"]
    listed = CliRunner().invoke(main, ["failures", "--workdir", str(tmp_path / "all"), "--format", "json"])
    assert listed.exit_code == 0
    pipelines = [r for r in json.loads(listed.output) if r["kind"] == "pipeline"]
    assert len(pipelines) == 3 and "planted failure" in pipelines[0]["reason"]


def test_the_median_pruner_stops_hopeless_trials_and_says_so(corpus, reg):
    spec = parse_spec(spy_doc(corpus, {"shrink": "int(0, 10)"}, trials=12, sampler="random", pruner="median", seed=1))
    manifest, provider, p = _outer_fold(corpus, reg, spec)
    pipe = Pipeline(spec, reg).fit(p.splits[0][0], provider, labels_only=True)
    states = [t["state"] for t in pipe.tuning_.trials]
    pruned = [t for t in pipe.tuning_.trials if t["state"] == "pruned"]
    assert len(states) == 12 and pruned and set(states) == {"complete", "pruned"}
    assert all(t["score"] is None and 1 <= len(t["scores"]) < 3 and "pruned after" in t["reason"] for t in pruned)
    best = max(t["score"] for t in pipe.tuning_.trials if t["state"] == "complete")
    assert pipe.tuning_.score == best


# -- other kinds of components ---------------------------------------------------------------------------
def test_a_late_fusion_branch_and_a_torch_model_are_tuned_alike(corpus, reg):
    doc = {
        "data": {"manifest": str(corpus)},
        "evaluation": {"protocol": "speaker_kfold", "folds": 3, "bootstrap": 0},
        "branches": {
            "audio": {"extractor": "toy.energy", "model": {"name": "sklearn.svc", "search": {"C": [0.1, 10]}}},
            "text": {"extractor": "toy.words", "model": "toy.centroid"},
        },
        "fusion": "fusion.late",
        "tuning": {"inner_folds": 2},
    }
    spec = parse_spec(doc)
    manifest, provider, p = _outer_fold(corpus, reg, spec)
    train, test = p.splits[0]
    result = run_fold(spec, 1, train, test, p.classes, reg, provider)
    assert set(result.tuning["chosen"]) == {"branches.audio.model.C"} and len(result.tuning["trials"]) == 2
    assert set(result.parts) == {"audio", "text"}
    lstm = {
        "data": {"manifest": str(corpus)},
        "evaluation": {"protocol": "speaker_kfold", "folds": 3},
        "branches": {
            "audio": {
                "extractor": "toy.frames",
                "model": {"name": "torch.lstm", "params": {"epochs": 2, "device": "cpu"}, "search": {"hidden": [4, 8]}},
            }
        },
        "tuning": {"inner_folds": 2},
    }
    spec = parse_spec(lstm)
    manifest, provider, p = _outer_fold(corpus, reg, spec)
    result = run_fold(spec, 1, *p.splits[0], p.classes, reg, provider)
    assert result.tuning["chosen"]["branches.audio.model.hidden"] in (4, 8)
    assert [t["state"] for t in result.tuning["trials"]] == ["complete", "complete"]


def test_the_search_chooses_what_gridsearchcv_chooses_on_the_same_features_and_folds(corpus, reg):
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    grid = [0.01, 0.1, 1.0, 10.0, 100.0]
    spec = parse_spec(
        {
            "data": {"manifest": str(corpus)},
            "branches": {"audio": {"extractor": "toy.energy", "model": {"name": "sklearn.svc", "search": {"C": grid}}}},
            "tuning": {"inner_folds": 3, "seed": 4},
        }
    )
    manifest, provider, p = _outer_fold(corpus, reg, spec)
    for train, _ in p.splits:
        pipe = Pipeline(spec, reg).fit(train, provider, labels_only=True)
        X = np.vstack(provider.get(spec.branches["audio"].extractor, train))
        folds = tuning_folds(train.labels, train.speakers, 3, seed=4)
        # break_ties: predict by the argmax of the decision values, as emoframe's label-only SVC does
        search = GridSearchCV(
            make_pipeline(StandardScaler(), SVC(random_state=0, break_ties=True)),
            {"svc__C": grid},
            cv=folds,
            scoring="balanced_accuracy",
        ).fit(X, train.labels)
        ours = sorted(pipe.tuning_.trials, key=lambda t: t["params"]["branches.audio.model.C"])
        assert [t["score"] for t in ours] == pytest.approx(search.cv_results_["mean_test_score"].tolist())
        assert pipe.tuning_.chosen == {"branches.audio.model.C": search.best_params_["svc__C"]}
        assert pipe.spec.branches["audio"].model.params == {"C": search.best_params_["svc__C"]}


def test_a_tuned_run_resumes_fold_by_fold_with_its_trials(corpus, reg, tmp_path):
    import sqlite3

    doc = spy_doc(corpus, {"shrink": [0, 5]})
    first = run_benchmark(parse_spec(doc), reg, tmp_path, jobs=1)
    db = tmp_path / "results.db"
    con = sqlite3.connect(db)
    before = con.execute("SELECT * FROM tuning_trials ORDER BY pipeline_id, fold, trial").fetchall()
    assert len(before) == 3 * 2  # 3 outer folds × 2 trials, the twin has none
    tuned_id = before[0][1]
    # an interruption before fold 2 of the tuned pipeline was stored: neither it nor its trials are there
    con.execute("DELETE FROM folds WHERE pipeline_id = ? AND fold = 2", (tuned_id,))
    con.execute("DELETE FROM tuning_trials WHERE pipeline_id = ? AND fold = 2", (tuned_id,))
    con.commit()
    again = run_benchmark(parse_spec(doc), reg, tmp_path, jobs=1)
    assert (again.run_id, again.ran, again.skipped) == (first.run_id, 1, 5)
    after = con.execute("SELECT * FROM tuning_trials ORDER BY pipeline_id, fold, trial").fetchall()
    con.close()
    strip = [r[:10] + r[11:] for r in before]  # all but the seconds a trial took
    assert [r[:10] + r[11:] for r in after] == strip


def test_a_bundle_of_a_tuned_spec_holds_the_refit_with_the_parameters_chosen(corpus, reg, tmp_path):
    from emoframe.deploy.bundle import read_bundle
    from emoframe.deploy.train import train_bundle

    doc = spy_doc(corpus, {"C": [0.01, 10.0]})
    doc["branches"]["audio"]["model"]["name"] = "sklearn.logreg"
    outcome = train_bundle(parse_spec(doc), tmp_path / "bundle", reg, workdir=tmp_path / "wd", jobs=1)
    pipe, meta = read_bundle(outcome.path, reg)
    chosen = meta["training"]["tuning"]["chosen"]
    assert set(chosen) == {"branches.audio.model.C"} and meta["training"]["tuning"]["trials"] == 2
    model = pipe.spec.branches["audio"].model
    assert model.search is None and model.params == {"C": chosen["branches.audio.model.C"]}
