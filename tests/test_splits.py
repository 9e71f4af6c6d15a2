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
    with pytest.raises(DataError, match="needs a 'split' column"):
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
