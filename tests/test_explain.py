"""Why a pipeline decided as it did (issue 30): exact Shapley attribution per utterance, reliance,
complementarity, feature importance, the fusion explain() contract, and every face showing the same numbers."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from emoframe.bench.runner import run_benchmark
from emoframe.cli import main
from emoframe.data.manifest import load_manifest
from emoframe.evaluation.attribution import complementarity, permutation_importance, shapley
from emoframe.pipeline import FeatureProvider, FoldWork, Pipeline
from emoframe.pipeline.explain import explain_fold, late_shapley
from emoframe.plugin.registry import Registry
from emoframe.results.explain import explain, figure_rows
from emoframe.results.leaderboard import leaderboard
from emoframe.results.store import ResultsStore
from emoframe.spec import parse_spec
from emoframe.tui.widgets.explain import explanation_view

from . import explain_plugin

CLASSES = np.array(["angry", "happy", "neutral", "sad"])
WORDS = {"neutral": "plain calm", "happy": "joy delight", "sad": "gloom tears", "angry": "rage fury"}


def _probas(rng: np.random.Generator, rows: int, branches: list[str]) -> dict[str, np.ndarray]:
    y = rng.integers(0, 4, rows)
    out = {}
    for i, b in enumerate(branches):
        logits = rng.normal(0, 1, (rows, 4)) + (1.5 + i) * np.eye(4)[y]
        out[b] = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return out


def _late_fusions() -> list[tuple[str, dict]]:
    """Every registered late fusion, with its default params, plus the weighted average's other modes."""
    reg = Registry.from_entry_points()
    names = [i.name for i in reg.components("fusion") if i.fusion_kind == "late"]
    assert {"fusion.late", "fusion.vote", "fusion.stacking", "fusion.gated"} <= set(names)
    return [(n, {}) for n in names] + [("fusion.late", {"weights": "learned"}), ("fusion.late", {"weights": {"a": 3}})]


@pytest.mark.parametrize("branches", [["a", "b"], ["a", "b", "c"], ["a", "b", "c", "d"]])
@pytest.mark.parametrize("name,params", _late_fusions())
def test_shapley_values_sum_to_fused_minus_baseline_for_every_late_fusion(name, params, branches):
    reg = Registry.from_entry_points()
    rng = np.random.default_rng(len(branches))
    train, test = _probas(rng, 80, branches), _probas(rng, 30, branches)
    y = CLASSES[np.argmax(sum(train.values()), axis=1)]
    fusion = reg.create(name, params, kind="fusion").fit(train, y, CLASSES)
    prior = np.array([np.mean(y == c) for c in CLASSES])
    fused, baseline, contrib, _ = late_shapley(fusion, test, prior, CLASSES)
    assert fused.shape == baseline.shape == (30, 4) and set(contrib) == set(branches)
    assert np.abs(baseline + sum(contrib.values()) - fused).max() < 1e-9
    everyone_at_prior = {k: np.tile(prior, (30, 1)) for k in branches}
    assert np.allclose(baseline, fusion.predict_proba(everyone_at_prior))
    assert np.allclose(fused, fusion.predict_proba(test))


def test_weighted_average_explain_equals_the_model_agnostic_shapley_values():
    reg = Registry.from_entry_points()
    rng = np.random.default_rng(0)
    train, test = _probas(rng, 60, ["audio", "text"]), _probas(rng, 20, ["audio", "text"])
    y = CLASSES[np.argmax(train["audio"] + train["text"], axis=1)]
    fusion = reg.create("fusion.late", {"weights": {"audio": 0.7, "text": 0.3}}, kind="fusion").fit(train, y, CLASSES)
    prior = np.full(4, 0.25)
    own = fusion.explain(test, prior)
    assert own is not None

    def value(keep):
        return fusion.predict_proba({k: (v if k in keep else np.tile(prior, (20, 1))) for k, v in test.items()})

    _, generic = shapley(["audio", "text"], value)
    for k in own:
        assert np.allclose(own[k], generic[k], atol=1e-12)


def test_exact_shapley_matches_the_shap_library_over_groups():
    """Our enumeration against shap's ExactExplainer on the same game (players on/off, baseline = off)."""
    shap = pytest.importorskip("shap")
    rng = np.random.default_rng(3)
    w = rng.normal(size=3)

    def game(Z):  # a non-additive function of which players are present
        Z = np.atleast_2d(Z)
        return Z @ w + 0.7 * Z[:, 0] * Z[:, 1] - 0.4 * Z[:, 0] * Z[:, 1] * Z[:, 2]

    players = ["x", "y", "z"]
    base, ours = shapley(players, lambda keep: game(np.array([[p in keep for p in players]], dtype=float)))
    explainer = shap.explainers.Exact(game, np.zeros((1, 3)))
    theirs = explainer(np.ones((1, 3))).values[0]
    assert np.allclose([ours[p][0] for p in players], theirs, atol=1e-9)
    assert np.isclose(base[0], game(np.zeros(3))[0])


def test_complementarity_matches_a_hand_count():
    y = ["a", "a", "b", "b", "c", "c"]
    audio = ["a", "b", "b", "a", "c", "a"]  # right on rows 0, 2, 4
    text = ["a", "a", "c", "b", "a", "b"]  # right on rows 0, 1, 3
    fused = ["a", "a", "b", "a", "a", "c"]
    c = complementarity(y, {"audio": audio, "text": text}, fused, ["a", "b", "c"])
    # exactly one right: rows 1, 2, 3, 4 → 4/6; any right: rows 0-4 → 5/6; disagree: rows 1-5 → 5/6
    assert c["exactly_one_right"] == pytest.approx(4 / 6)
    assert c["any_right"] == pytest.approx(5 / 6)
    assert c["disagree"] == pytest.approx(5 / 6)
    # contested (disagree and one right): rows 1, 2, 3, 4; fused right on rows 1, 2 → 2/4
    assert c["contested"] == 4 and c["follows_right"] == pytest.approx(0.5)
    # oracle: right where any branch is: a 2/2, b 2/2, c 1/2 → UAR (1 + 1 + 0.5) / 3
    assert c["oracle_uar"] == pytest.approx(2.5 / 3)


def test_grouped_permutation_importance_finds_the_informative_group():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)

    def score(Z):
        return float(np.mean(((Z[:, 0] + Z[:, 1]) > 0).astype(int) == y))

    imp = permutation_importance(score, X, {"signal": [0, 1], "noise": [2, 3]}, repeats=5, seed=0)
    assert len(imp["signal"]) == 5 and min(imp["signal"]) > 0.3
    assert imp["noise"] == [0.0] * 5


# -- planted corpora: a real benchmark over synthetic voices whose transcripts are made to order ------------
@pytest.fixture(scope="module")
def voices(tmp_path_factory):
    from emoframe.data.synth import generate

    root = tmp_path_factory.mktemp("explain")
    generate(root / "demo", seed=3, speakers=6, per_class=6)
    return root / "demo"


def _variant(voices: Path, name: str) -> Path:
    frame = pd.read_csv(voices / "manifest.csv")
    rng = np.random.default_rng(7)
    if name == "text-carries-label":  # the words name the class; the voices are shuffled: audio carries nothing
        frame["text"] = [WORDS[lab] for lab in frame["label"]]
        frame["audio"] = frame["audio"].to_numpy()[rng.permutation(len(frame))]
    elif name == "text-is-noise":  # random words, whatever the class
        frame["text"] = [" ".join(f"w{v}" for v in rng.integers(0, 10**6, 4)) for _ in range(len(frame))]
    elif name == "nemo-like":  # every sentence in every emotion (as nEMO): the words say nothing
        sentences = ["the box is here", "we go today", "it rained at noon"]
        frame["text"] = [sentences[i % 3] for i in frame.groupby(["label"]).cumcount()]
    path = voices / f"{name}.csv"
    frame.to_csv(path, index=False)
    return path


def _bench(manifest: Path, workdir: Path, fusions: list) -> tuple[str, ResultsStore]:
    logreg = {"name": "sklearn.logreg", "params": {"C": 0.05}}  # regularised: 48 training rows, 88 + few dims
    doc = {
        "name": manifest.stem,
        "data": {"manifest": str(manifest)},
        "evaluation": {"protocol": "speaker_kfold", "folds": 3, "bootstrap": 100},
        "branches": {
            "audio": {"extractor": "opensmile.egemaps", "model": logreg},
            "text": {"extractor": "sklearn.tfidf", "model": logreg},
        },
        "fusion": fusions,
        "model": logreg,
    }
    outcome = run_benchmark(parse_spec(doc), Registry.from_entry_points(), workdir, jobs=1)
    assert not outcome.errors
    return outcome.run_id, ResultsStore(workdir / "results.db", readonly=True)


def _shares(store: ResultsStore, run_id: str) -> dict[str, dict[str, float]]:
    out = {}
    for row in leaderboard(store, run_id):
        if row.fused:
            ex = explain(store, run_id, row.id)
            assert ex.efficiency_gap is not None and ex.efficiency_gap < 5e-6  # stored rounded to 1e-6
            out[row.pipeline.split("]")[-1].strip()] = {k: v["share"] for k, v in ex.reliance.items()}
    return out


LEARNED = [{"name": "fusion.late", "params": {"weights": "learned"}}, "fusion.stacking", "fusion.gated", "fusion.early"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "variant,low,high",
    [("text-carries-label", 0.85, 1.0), ("text-is-noise", 0.0, 0.15), ("nemo-like", 0.0, 0.1)],
)
def test_planted_corpus_gives_the_reliance_it_was_built_with(voices, tmp_path, variant, low, high):
    """Text reliance (share of mean |contribution|) near 1 when only the words carry the label, near 0 when
    the words are noise or every sentence occurs in every emotion. Fusions that learn how to weigh the
    branches; a fixed equal average cannot ignore a useless branch, so it is held to the noise cases only."""
    fusions = LEARNED + (["fusion.late"] if variant != "text-carries-label" else [])
    run_id, store = _bench(_variant(voices, variant), tmp_path, fusions)
    try:
        shares = _shares(store, run_id)
    finally:
        store.close()
    assert len(shares) == len(fusions)
    for fusion, s in shares.items():
        assert low <= s["text"] <= high, (variant, fusion, s)


# -- test rows only ------------------------------------------------------------------------------------------
class RecordingWork(FoldWork):
    """The real FoldWork, noting which rows each branch-probability request was for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[set[str]] = []

    def proba(self, branch, manifest, provider, classes):
        self.asked.append({str(i) for i in manifest.ids})
        return super().proba(branch, manifest, provider, classes)


@pytest.mark.slow
@pytest.mark.parametrize("fusion", ["fusion.late", "fusion.stacking"])
def test_attributions_never_use_the_training_folds_own_predictions(voices, fusion):
    manifest = load_manifest(voices / "manifest.csv")
    speakers = np.asarray(manifest.speakers)
    test_rows = np.isin(speakers, np.unique(speakers)[:2])
    train, test = manifest.subset(~test_rows), manifest.subset(test_rows)
    spec = parse_spec(
        {
            "name": "one",
            "data": {"manifest": str(voices / "manifest.csv")},
            "branches": {
                "audio": {"extractor": "opensmile.egemaps", "model": "sklearn.logreg"},
                "text": {"extractor": "sklearn.tfidf", "model": "sklearn.logreg"},
            },
            "fusion": fusion,
        }
    )
    reg = Registry.from_entry_points()
    provider = FeatureProvider(reg)
    work = RecordingWork()
    pipe = Pipeline(spec, reg).fit(train, provider, work=work)
    pipe.predict(train, provider)  # the training fold's own predictions, as a benchmark fold computes them
    first = explain_fold(pipe, test, provider)["attribution"]
    work.asked.clear()
    # spoil every memoised training-row prediction: an attribution that read them would change
    for key, value in list(work._proba.items()):
        if len(value) == len(train):
            work._proba[key] = np.tile(np.eye(value.shape[1])[0], (len(value), 1))
    again = explain_fold(pipe, test, provider)
    assert not again["errors"]
    assert again["attribution"] == first
    assert all(asked == {str(i) for i in test.ids} for asked in work.asked)
    assert first["ids"] == [str(i) for i in test.ids]
    labels = np.asarray(train.labels)
    assert np.allclose(first["reference"], [np.mean(labels == c) for c in pipe.classes_])  # labels, not predictions


# -- the faces -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stored(voices, tmp_path_factory):
    """One benchmark: a late fusion, a fusion whose explain() returns the wrong shape, early fusion, unimodal."""
    workdir = tmp_path_factory.mktemp("explain-run")
    reg = Registry.from_entry_points()
    reg.add_plugin(explain_plugin, name="badexplain")
    doc = {
        "name": "faces",
        "data": {"manifest": str(voices / "manifest.csv")},
        "evaluation": {"protocol": "speaker_kfold", "folds": 3, "bootstrap": 100},
        "branches": {
            "audio": {"extractor": "opensmile.egemaps", "model": "sklearn.logreg"},
            "text": {"extractor": "sklearn.tfidf", "model": "sklearn.logreg"},
        },
        "fusion": ["fusion.late", "badexplain.fusion", "fusion.early"],
        "model": "sklearn.logreg",
    }
    outcome = run_benchmark(parse_spec(doc), reg, workdir, jobs=1)
    assert not outcome.errors  # a failing explanation costs no fold
    return workdir, outcome.run_id


def _ids(workdir: Path, run_id: str) -> dict[str, str]:
    store = ResultsStore(workdir / "results.db", readonly=True)
    try:
        return {r.pipeline: r.id for r in leaderboard(store, run_id)}
    finally:
        store.close()


def _rendered(renderable) -> str:
    from rich.console import Console

    console = Console(width=200, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def _cli(workdir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["explain", *args, "--workdir", str(workdir)])
    return result.exit_code, result.output


@pytest.mark.slow
def test_a_plugin_explain_of_the_wrong_shape_fails_that_pipeline_only(stored):
    workdir, run_id = stored
    ids = _ids(workdir, run_id)
    bad = next(i for name, i in ids.items() if "badexplain.fusion" in name)
    good = next(i for name, i in ids.items() if name.endswith("fusion.late"))
    store = ResultsStore(workdir / "results.db", readonly=True)
    try:
        broken, fine = explain(store, run_id, bad), explain(store, run_id, good)
    finally:
        store.close()
    assert broken.errors and all("badexplain.fusion" in e and "shape" in e for e in broken.errors)
    assert not broken.reliance and broken.complementarity  # complementarity needs no attribution
    assert any("no modality attribution" in n for n in broken.notes)
    assert not fine.errors and set(fine.reliance) == {"audio", "text"}


@pytest.mark.slow
def test_every_face_shows_the_same_numbers(stored):
    workdir, run_id = stored
    ids = _ids(workdir, run_id)
    late = next(i for name, i in ids.items() if name.endswith("fusion.late"))
    store = ResultsStore(workdir / "results.db", readonly=True)
    try:
        ex = explain(store, run_id, late)
        figures = figure_rows(ex)
        from emoframe.results.report_explain import section

        html = "\n".join(section(store, run_id))
        tui = _rendered(explanation_view(ex))
    finally:
        store.close()
    code, out = _cli(workdir, run_id[:8], late[:8], "--format", "json")
    assert code == 0, out
    record = json.loads(out)
    assert record["figures"] == figures and record["reliance"] == ex.to_record()["reliance"]
    code, out = _cli(workdir, run_id[:8], late[:8], "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["section"], r["item"]) for r in rows] == [(f["section"], f["item"]) for f in figures]
    assert all(float(r["value"]) == pytest.approx(f["value"]) for r, f in zip(rows, figures) if r["value"])
    code, table = _cli(workdir, run_id[:8], late[:8])
    assert code == 0 and ex.sentence.split(":")[0] in table
    for f in figures:
        if f["section"] in ("reliance", "complementarity") and isinstance(f["value"], float):
            assert f"{f['value']:.3f}" in table and f"{f['value']:.3f}" in html and f"{f['value']:.3f}" in tui


@pytest.mark.slow
def test_explain_refuses_unknown_names_with_the_list_and_says_what_a_unimodal_pipeline_gets(stored):
    workdir, run_id = stored
    code, out = _cli(workdir, run_id[:8], "no-such-pipeline")
    assert code == 2 and "candidates" in out and "fusion.late" in out
    code, out = _cli(workdir, "no-such-run", "1")
    assert code == 2 and "faces" in out
    ids = _ids(workdir, run_id)
    unimodal = next(i for name, i in ids.items() if name == "opensmile.egemaps→sklearn.logreg")
    code, out = _cli(workdir, run_id[:8], unimodal[:8])
    assert code == 0 and "feature importance only" in out
    assert "importance (UAR drop)" in out and "frequency" in out


@pytest.mark.slow
def test_a_run_stored_before_explanations_is_recomputed_from_its_predictions(stored, tmp_path):
    workdir, run_id = stored
    old = tmp_path / "old"
    shutil.copytree(workdir, old, ignore=shutil.ignore_patterns("cache"))
    con = sqlite3.connect(old / "results.db")
    con.execute("DROP TABLE explanations")  # as a store written before this table existed
    con.commit()
    con.close()
    ids = _ids(old, run_id)
    late = next(i for name, i in ids.items() if name.endswith("fusion.late"))
    code, out = _cli(old, run_id[:8], late[:8], "--format", "json")
    assert code == 0, out
    record = json.loads(out)
    assert record["reliance"] == {} and "before emoframe kept explanations" in " ".join(record["notes"])
    fresh = json.loads(_cli(workdir, run_id[:8], late[:8], "--format", "json")[1])
    assert record["complementarity"] == fresh["complementarity"]  # the same figures, from the stored predictions


# -- predict --explain and the server's ?explain=true --------------------------------------------------------
@pytest.fixture(scope="module")
def bundles(voices, tmp_path_factory):
    from emoframe.deploy.train import train_bundle

    base = tmp_path_factory.mktemp("explain-bundles")
    branches = {
        "audio": {"extractor": "opensmile.egemaps", "model": "sklearn.logreg"},
        "text": {"extractor": "sklearn.tfidf", "model": "sklearn.logreg"},
    }
    reg = Registry.from_entry_points()
    data = {"manifest": str(voices / "manifest.csv")}
    for name, extra in {
        "stacking": {"branches": branches, "fusion": "fusion.stacking"},
        "early": {
            "branches": {k: {"extractor": b["extractor"]} for k, b in branches.items()},
            "fusion": "fusion.early",
            "model": "sklearn.logreg",
        },
        "unimodal": {"branches": {"audio": branches["audio"]}},
    }.items():
        spec = {**extra, "data": data, "evaluation": {"folds": 2, "inner_folds": 2}}
        train_bundle(parse_spec(spec), base / name, reg, jobs=1)
    return base


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["stacking", "early"])
def test_predict_explain_and_the_server_give_the_same_contributions(voices, bundles, kind):
    from fastapi.testclient import TestClient

    from emoframe.deploy.predictor import Predictor
    from emoframe.deploy.server import create_app

    frame = pd.read_csv(voices / "manifest.csv")
    rows = frame.iloc[:3]
    wavs = [str(voices / a) for a in rows["audio"]]
    manifest = voices / "three.csv"
    rows.assign(audio=wavs).to_csv(manifest, index=False)
    result = CliRunner().invoke(
        main, ["predict", str(bundles / kind), str(manifest), "--explain", "--format", "json", "--no-cache"]
    )
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    for r in records:
        total = r["baseline"] + r["contribution:audio"] + r["contribution:text"]
        assert total == pytest.approx(r[r["label"]], abs=5e-6)  # efficiency, per file
    client = TestClient(create_app(Predictor.load(bundles / kind, Registry.from_entry_points())))
    for r, (_, row) in zip(records, rows.iterrows()):
        with open(voices / row["audio"], "rb") as f:
            got = client.post(
                "/predict?explain=true", files={"audio": ("x.wav", f, "audio/wav")}, data={"text": row["text"]}
            )
        assert got.status_code == 200, got.text
        served = got.json()
        for key in ("baseline", "contribution:audio", "contribution:text", "label"):
            assert served[key] == (pytest.approx(r[key]) if key != "label" else r[key])
    plain = CliRunner().invoke(main, ["predict", str(bundles / kind), str(manifest), "--format", "json", "--no-cache"])
    assert "contribution:audio" not in plain.stdout


@pytest.mark.slow
def test_predict_explain_on_a_unimodal_bundle_says_why_not(voices, bundles):
    wav = str(voices / pd.read_csv(voices / "manifest.csv")["audio"][0])
    result = CliRunner().invoke(main, ["predict", str(bundles / "unimodal"), wav, "--explain", "--no-cache"])
    assert result.exit_code == 2 and "unimodal" in result.output


# -- the plugin contract -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [n for n, _ in _late_fusions()[:4]] + ["fusion.early"])
def test_check_explain_passes_every_built_in_fusion(name):
    from emoframe.testing import check_explain, checks_for

    cls = Registry.from_entry_points().get(name).cls
    assert check_explain in checks_for(cls)
    check_explain(cls)


def test_check_explain_names_a_fusion_whose_explain_has_the_wrong_shape():
    from emoframe.errors import ComponentError
    from emoframe.testing import check_explain

    with pytest.raises(ComponentError, match=r"badexplain\.fusion.*shape \(40,\), expected \(40, 4\)"):
        check_explain(explain_plugin.WrongShapeFusion)


def test_extractor_groups_cover_egemaps_parameter_groups():
    from emoframe.testing import check_extractor

    reg = Registry.from_entry_points()
    ext = reg.create("opensmile.egemaps", {}, kind="extractor")
    groups = ext.feature_groups()
    assert set(groups) == {"frequency", "energy/amplitude", "spectral balance", "MFCC", "temporal"}
    assert sorted(c for cols in groups.values() for c in cols) == list(range(88))  # every column, once
    names = ext.feature_names()
    from emoframe_opensmile.extractors import EGEMAPS_NAMES

    assert list(EGEMAPS_NAMES) == names  # the groups' table is openSMILE's own column order
    assert all(
        names[c].startswith(("F0semitone", "jitter", "F1freq", "F2freq", "F3freq", "F1band", "F2band", "F3band"))
        for c in groups["frequency"]
    )
    check_extractor(reg.get("opensmile.egemaps").cls)


def test_mfcc_groups_are_bands_of_coefficients_over_every_pooled_column():
    reg = Registry.from_entry_points()
    ext = reg.create("librosa.mfcc", {"n_mfcc": 13}, kind="extractor")
    groups = ext.feature_groups()
    assert list(groups) == ["MFCC 1-4", "MFCC 5-8", "MFCC 9-12", "MFCC 13-13"]
    width = 5 * 13 * 3  # mean, std, min, max, slope of 13 coefficients with deltas and delta-deltas
    assert sorted(c for cols in groups.values() for c in cols) == list(range(width))
    assert reg.create("librosa.mfcc", {"pooling": "frames"}, kind="extractor").feature_groups() is None
