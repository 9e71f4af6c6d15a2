"""Length-bucketed batches for the sequence models: every row once per epoch, less padding,
predictions independent of the order the rows come in."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from emoframe.plugin.registry import get_registry  # noqa: E402
from emoframe_torch.training import batches  # noqa: E402


def test_bucketed_batches_cover_every_row_once_and_pad_less():
    rng = np.random.default_rng(0)
    lengths = rng.integers(50, 400, size=500)
    order = rng.permutation(500)
    for how in ("random", "bucketed"):
        got = np.concatenate(batches(order, lengths, 16, how, np.random.default_rng(1)))
        assert sorted(got.tolist()) == list(range(500))

    def padding(bs):
        return sum(int(lengths[b].max()) * len(b) - int(lengths[b].sum()) for b in bs)

    random_pad = padding(batches(order, lengths, 16, "random", np.random.default_rng(1)))
    bucketed_pad = padding(batches(order, lengths, 16, "bucketed", np.random.default_rng(1)))
    assert bucketed_pad < random_pad / 5
    # the batch order is shuffled: not simply sorted by length across the epoch
    firsts = [int(lengths[b[0]]) for b in batches(order, lengths, 16, "bucketed", np.random.default_rng(1))]
    assert firsts != sorted(firsts)


@pytest.mark.parametrize("name", ["torch.cnn", "torch.lstm"])
def test_predictions_do_not_depend_on_row_order(name):
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(int(n), 6)).astype(np.float32) for n in rng.integers(5, 40, size=24)]
    y = np.array(["a", "b"] * 12)
    model = get_registry().create(name, {"epochs": 2, "batch_size": 4}, kind="model").fit(X, y)
    P = model.predict_proba(X)
    reversed_P = model.predict_proba(X[::-1])[::-1]
    np.testing.assert_allclose(P, reversed_P, atol=1e-5)
    assert all("train_s" in h for h in model.training_["history"])


def test_history_counts_real_and_padded_frames():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 60, size=32)
    X = [rng.normal(size=(int(n), 6)).astype(np.float32) for n in lengths]
    y = np.array(["a", "b"] * 16)
    padded = {}
    for how in ("random", "bucketed"):
        params = {"epochs": 2, "batch_size": 4, "batching": how}
        history = get_registry().create("torch.cnn", params, kind="model").fit(X, y).training_["history"]
        assert all(0 < h["frames"] <= min(h["padded_frames"], int(lengths.sum())) for h in history)
        assert all(h["train_cpu_s"] > 0 and h["train_s"] > 0 for h in history)
        padded[how] = sum(h["padded_frames"] for h in history)
    assert padded["bucketed"] < padded["random"]
    same = [rng.normal(size=(20, 6)).astype(np.float32) for _ in range(32)]  # nothing to pad
    history = get_registry().create("torch.cnn", {"epochs": 1, "batch_size": 4}, kind="model").fit(same, y)
    assert all(h["frames"] == h["padded_frames"] > 0 for h in history.training_["history"])
