"""Issue 12 §2–§5: the contract holds at run time, and a violation names the component and its origin."""

from __future__ import annotations

from pathlib import Path

import pytest

from emoframe.bench.runner import run_benchmark
from emoframe.plugin.registry import Registry
from emoframe.results.leaderboard import leaderboard
from emoframe.results.store import ResultsStore
from emoframe.spec import parse_spec

from . import contract_plugin, toy_plugin
from .text_corpus import WORDS, write_text_corpus

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    tail = " and a much longer tail of words to vary the length"
    return write_text_corpus(
        tmp_path_factory.mktemp("contract") / "manifest.csv",
        4,
        3,
        lambda s, label, k: f"{WORDS[label]} {k}" + (tail if k == 2 else ""),
    )


@pytest.fixture
def reg() -> Registry:
    r = Registry.from_entry_points()
    r.add_plugin(toy_plugin, name="toy")
    r.add_plugin(contract_plugin, name="contract", distribution="contract-plugin", version="0.1")
    return r


def run(manifest, reg, tmp_path, text_branch):
    spec = parse_spec(
        {
            "name": "contract",
            "kind": "benchmark",
            "data": {"manifest": str(manifest)},
            "evaluation": {"protocol": "speaker_kfold", "folds": 2, "bootstrap": 20},
            "branches": {"text": text_branch},
        }
    )
    out = run_benchmark(spec, reg, tmp_path, jobs=1)
    store = ResultsStore(tmp_path / "results.db", readonly=True)
    try:
        return {r.pipeline: r for r in leaderboard(store, out.run_id)}
    finally:
        store.close()


def test_a_scikit_learn_style_model_works_and_gets_dense_input(manifest, reg, tmp_path):
    rows = run(manifest, reg, tmp_path, {"extractor": "sklearn.tfidf", "model": "contract.sklearn_style"})
    (row,) = rows.values()
    assert row.status == "done", row.errors  # fit(X, y) without groups; TF-IDF densified for it


def test_a_vector_extractor_returning_a_matrix_is_named(manifest, reg, tmp_path):
    rows = run(manifest, reg, tmp_path, {"extractor": "contract.matrix", "model": "toy.centroid"})
    (row,) = rows.values()
    assert row.status == "failed"
    assert "contract.matrix (contract-plugin 0.1) declares output 'vector' but returned shape (3, 2)" in row.errors[0]


def test_a_width_that_changes_between_samples_is_named(manifest, reg, tmp_path):
    rows = run(manifest, reg, tmp_path, {"extractor": "contract.wobbly", "model": "toy.centroid"})
    (row,) = rows.values()
    assert row.status == "failed"
    assert "contract.wobbly (contract-plugin 0.1) returned shape (3,), the other samples (2,)" in row.errors[0]


def test_probabilities_outside_the_contract_are_named(manifest, reg, tmp_path):
    rows = run(manifest, reg, tmp_path, {"extractor": "toy.words", "model": "contract.overconfident"})
    (row,) = rows.values()
    assert row.status == "failed"
    assert "contract.overconfident (contract-plugin 0.1)" in row.errors[0]
    assert "outside [0, 1]" in row.errors[0]


def test_a_raising_plugin_is_named_with_its_distribution_and_line(manifest, reg, tmp_path):
    rows = run(manifest, reg, tmp_path, {"extractor": "toy.words", "model": "contract.raising"})
    (row,) = rows.values()
    message = row.errors[0]
    assert message.startswith(
        "contract.raising (contract-plugin 0.1) raised RuntimeError: licence server unreachable (at contract_plugin.py:"
    ), message
    assert message.endswith("in fit") and "internal error" not in message
