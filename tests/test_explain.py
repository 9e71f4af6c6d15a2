"""Why a pipeline decided as it did (issue 30): exact Shapley attribution per utterance, reliance,
complementarity, feature importance, the fusion explain() contract, and every face showing the same numbers."""

from __future__ import annotations

import json
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from emoframe.bench.runner import run_benchmark
from emoframe.cli import main
from emoframe.evaluation.attribution import complementarity, permutation_importance, shapley
from emoframe.pipeline.explain import late_shapley
from emoframe.plugin.registry import Registry
from emoframe.results.explain import explain, figure_rows
from emoframe.results.leaderboard import leaderboard
from emoframe.results.store import ResultsStore
from emoframe.spec import parse_spec

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
