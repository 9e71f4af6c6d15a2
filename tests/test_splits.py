from __future__ import annotations

import numpy as np
import pytest

from emoframe.errors import DataError
from emoframe.evaluation.overlap import overlap_warning, transcript_overlap
from emoframe.evaluation.splits import LeakageError, assert_disjoint, inner_folds, inner_split, outer_folds

LABELS = np.array(["a", "b", "c", "d"] * 30)
SPEAKERS = np.array([f"s{i % 10}" for i in range(120)])


@pytest.mark.parametrize("protocol, n", [("speaker_kfold", 5), ("loso", 10)])
def test_outer_folds_are_speaker_independent_and_cover_everything(protocol, n):
    folds = list(outer_folds(protocol, LABELS, SPEAKERS, None, 5, 0))
    assert len(folds) == n
    seen = np.concatenate([te for _, te in folds])
    assert sorted(seen) == list(range(120))
    for tr, te in folds:
        assert not set(SPEAKERS[tr]) & set(SPEAKERS[te])


def test_speaker_kfold_is_seeded():
    a = [te.tolist() for _, te in outer_folds("speaker_kfold", LABELS, SPEAKERS, None, 5, 3)]
    b = [te.tolist() for _, te in outer_folds("speaker_kfold", LABELS, SPEAKERS, None, 5, 3)]
    assert a == b


def test_predefined_uses_the_split_column():
    splits = np.array(["train"] * 80 + ["dev"] * 20 + ["test"] * 20)
    ((tr, te),) = outer_folds("predefined", LABELS, SPEAKERS, splits, 5, 0)
    assert len(tr) == 100 and te.tolist() == list(range(100, 120))
    with pytest.raises(
        DataError, match="^protocol predefined needs a 'split' column in the manifest \\(train/dev/test\\)$"
    ):
        list(outer_folds("predefined", LABELS, SPEAKERS, None, 5, 0))


def test_too_few_speakers_is_a_clear_error():
    with pytest.raises(DataError, match="needs at least 5 speakers, the corpus has 3"):
        list(outer_folds("speaker_kfold", LABELS[:9], np.array(["x", "y", "z"] * 3), None, 5, 0))


def test_inner_splits_come_from_training_speakers_only():
    tr, va = inner_split(LABELS, SPEAKERS, 0.2, 0)
    assert not set(SPEAKERS[tr]) & set(SPEAKERS[va]) and len(va) > 0
    for tr, va in inner_folds(LABELS, SPEAKERS, 3, 0):
        assert not set(SPEAKERS[tr]) & set(SPEAKERS[va])


def test_assert_disjoint_raises_on_shared_speakers():
    with pytest.raises(LeakageError, match="s1"):
        assert_disjoint(np.array(["s1", "s2"]), np.array(["s1"]))


def test_transcript_overlap():
    hits, total = transcript_overlap(
        ["Kids are talking by the door.", "x"], ["kids are talking by the door", "new", ""]
    )
    assert (hits, total) == (1, 2)
    assert "1 of 2 test transcripts (50%)" in overlap_warning(hits, total)
    assert overlap_warning(0, 10) is None


# -- each branch of the split rules, pinned ------------------------------------------------------------------


def partition(tr, va, n):
    """Every row on exactly one side."""
    assert sorted(np.concatenate([tr, va]).tolist()) == list(range(n)) and not set(tr) & set(va)


@pytest.mark.parametrize("n_speakers, fraction, held_out", [(10, 0.2, 2), (10, 0.25, 3), (2, 0.2, 1)])
def test_inner_split_holds_out_whole_speakers(n_speakers, fraction, held_out):
    speakers = np.array([f"s{i % n_speakers}" for i in range(120)])
    tr, va = inner_split(LABELS, speakers, fraction, 0)
    partition(tr, va, 120)
    assert len(set(speakers[va])) == held_out and not set(speakers[tr]) & set(speakers[va])
    again = inner_split(LABELS, speakers, fraction, 0)
    assert va.tolist() == again[1].tolist()
    assert any(inner_split(LABELS, speakers, fraction, s)[1].tolist() != va.tolist() for s in range(1, 6))


@pytest.mark.parametrize("speakers", [None, np.array(["one"] * 120)])
def test_inner_split_without_speakers_keeps_the_class_shares(speakers):
    tr, va = inner_split(LABELS, speakers, 0.2, 0)
    partition(tr, va, 120)
    assert sorted(np.unique(LABELS[va], return_counts=True)[1].tolist()) == [6, 6, 6, 6]


def test_inner_split_with_two_rows_of_a_class_is_still_stratified():
    labels = np.array(["a", "a", "b", "b"])
    for seed in range(5):
        tr, va = inner_split(labels, None, 0.5, seed)
        assert sorted(labels[va]) == ["a", "b"] and sorted(labels[tr]) == ["a", "b"]


def test_inner_split_with_a_single_row_class_holds_out_at_least_one_row():
    labels = np.array(["a", "b", "b", "b", "b"])
    tr, va = inner_split(labels, None, 0.1, 3)
    partition(tr, va, 5)
    assert len(va) == 1  # round(0.5) is 0: at least one row is held out
    tr, va = inner_split(np.array(["a"] + ["b"] * 9), None, 0.3, 3)
    assert len(va) == 3
    assert inner_split(labels, None, 0.4, 3)[1].tolist() == inner_split(labels, None, 0.4, 3)[1].tolist()


def test_inner_folds_are_by_speaker_when_there_are_as_many_speakers_as_folds():
    speakers = np.array([f"s{i % 3}" for i in range(120)])
    folds = inner_folds(LABELS, speakers, 3, 0)
    assert len(folds) == 3
    for tr, va in folds:
        partition(tr, va, 120)
        assert len(set(speakers[va])) == 1
    assert sorted(np.concatenate([va for _, va in folds]).tolist()) == list(range(120))


def test_inner_folds_without_enough_speakers_are_stratified_and_no_more_than_the_rarest_class():
    speakers = np.array([f"s{i % 2}" for i in range(120)])
    folds = inner_folds(LABELS, speakers, 3, 0)
    assert len(folds) == 3
    for tr, va in folds:
        partition(tr, va, 120)
        assert np.unique(LABELS[va], return_counts=True)[1].tolist() == [10, 10, 10, 10]
    labels = np.array(["a", "a", "b", "b", "b", "b"])
    assert len(inner_folds(labels, None, 5, 0)) == 2  # the rarest class has 2 rows
    assert len(inner_folds(np.array(["a", "b"] * 2 + ["a"]), None, 1, 0)) == 2  # never fewer than 2


def test_outer_folds_edge_cases_and_their_messages():
    five = np.array([f"s{i % 5}" for i in range(120)])
    assert len(list(outer_folds("speaker_kfold", LABELS, five, None, 5, 0))) == 5  # exactly as many speakers
    two = np.array([f"s{i % 2}" for i in range(120)])
    assert len(list(outer_folds("loso", LABELS, two, None, 5, 0))) == 2
    with pytest.raises(DataError, match="^loso needs at least 2 speakers$"):
        list(outer_folds("loso", LABELS, np.array(["x"] * 120), None, 5, 0))
    splits = np.array([" Test "] * 20 + ["train"] * 80 + ["DEV"] * 20)
    ((tr, te),) = outer_folds("predefined", LABELS, SPEAKERS, splits, 5, 0)
    assert te.tolist() == list(range(20)) and tr.tolist() == list(range(20, 120))
    with pytest.raises(
        DataError, match="^protocol predefined: the split column needs 'test' rows and other \\(train/dev\\) rows$"
    ):
        list(outer_folds("predefined", LABELS, SPEAKERS, np.array(["test"] * 120), 5, 0))
    with pytest.raises(DataError, match="needs 'test' rows"):
        list(outer_folds("predefined", LABELS, SPEAKERS, np.array(["train"] * 120), 5, 0))
    with pytest.raises(DataError, match="^protocol 'cross_corpus' is not a single-corpus protocol$"):
        list(outer_folds("cross_corpus", LABELS, SPEAKERS, None, 5, 0))
    with pytest.raises(LeakageError, match="^inner fold: speaker\\(s\\) s1, s2 in both train and test$"):
        assert_disjoint(np.array(["s2", "s1", "s0"]), np.array(["s1", "s2"]), "inner fold")
    many = np.array([f"s{i}" for i in range(8)])
    with pytest.raises(LeakageError, match="^fold: speaker\\(s\\) s0, s1, s2, s3, s4 in both train and test$"):
        assert_disjoint(many, many)


@pytest.mark.parametrize(
    "split",
    [
        lambda seed: inner_split(LABELS, None, 0.2, seed)[1],
        lambda seed: inner_split(np.array(["a"] + ["b"] * 9), None, 0.3, seed)[1],
        lambda seed: inner_folds(LABELS, SPEAKERS, 3, seed)[0][1],
        lambda seed: inner_folds(LABELS, None, 3, seed)[0][1],
    ],
    ids=["stratified", "permutation", "group folds", "stratified folds"],
)
def test_every_inner_split_is_seeded(split):
    assert split(0).tolist() == split(0).tolist()
    assert any(split(s).tolist() != split(0).tolist() for s in range(1, 6))


class Leaky:
    """A splitter that puts every row on both sides (what the guards are there for)."""

    def __init__(self, n_splits: int = 1, **kwargs):
        self.n_splits = n_splits

    def split(self, X, y=None, groups=None):
        rows = np.arange(len(X))
        for _ in range(self.n_splits):
            yield rows, rows


def test_the_inner_guards_catch_a_leaky_splitter(monkeypatch):
    import sklearn.model_selection as ms

    monkeypatch.setattr(ms, "GroupShuffleSplit", Leaky)
    monkeypatch.setattr(ms, "StratifiedGroupKFold", Leaky)
    with pytest.raises(LeakageError, match="^inner validation split: speaker\\(s\\) s0, s1, s2, s3, s4 in both"):
        inner_split(LABELS, SPEAKERS, 0.2, 0)
    with pytest.raises(LeakageError, match="^inner fold: speaker\\(s\\) s0, s1, s2, s3, s4 in both"):
        inner_folds(LABELS, SPEAKERS, 3, 0)


def test_a_repeats_speaker_folds_are_the_random_order_split_and_differ_from_the_first():
    """outer_folds(random_order=True) is what a repeat after the first uses: the seeded speaker-order split,
    speaker-disjoint, and (on speakers that differ, where StratifiedGroupKFold's folds do not move with
    the seed) not the first repeat's folds."""
    from emoframe.evaluation.splits import random_order_folds

    rng = np.random.default_rng(3)
    speakers = np.repeat([f"s{i}" for i in range(8)], rng.integers(6, 14, size=8))
    labels = np.array([["a", "b", "c"][int(v)] for v in rng.integers(0, 3, size=len(speakers))])
    firsts = [sorted(tuple(te) for _, te in outer_folds("speaker_kfold", labels, speakers, None, 4, s)) for s in (1, 2)]
    for seed in (1, 2):
        drawn = list(outer_folds("speaker_kfold", labels, speakers, None, 4, seed, random_order=True))
        expected = random_order_folds(labels, speakers, 4, seed)
        assert [(list(tr), list(te)) for tr, te in drawn] == [(list(tr), list(te)) for tr, te in expected]
        for tr, te in drawn:
            assert not set(speakers[tr]) & set(speakers[te])
        assert sorted(np.concatenate([te for _, te in drawn]).tolist()) == list(range(len(labels)))
    seconds = [sorted(tuple(te) for _, te in random_order_folds(labels, speakers, 4, s)) for s in (1, 2)]
    assert seconds[0] != seconds[1]  # the seed decides the random-order folds
    assert seconds != firsts
