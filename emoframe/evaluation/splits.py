"""Speaker-independent splits: outer folds by protocol, inner validation from training speakers."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..errors import DataError, EmoframeError


class LeakageError(EmoframeError):
    """A split put one speaker (or one sample) on both sides: a bug, never a result."""

    exit_code = 1


def assert_disjoint(train_speakers: np.ndarray, test_speakers: np.ndarray, what: str = "fold") -> None:
    shared = sorted({str(s) for s in train_speakers} & {str(s) for s in test_speakers})
    if shared:
        raise LeakageError(f"{what}: speaker(s) {', '.join(shared[:5])} in both train and test")


def random_order_folds(
    labels: np.ndarray, speakers: np.ndarray, folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified speaker k-fold drawn again for a repeat: the speakers are taken in a random (seeded) order,
    each into the fold whose class proportions it leaves most even (scikit-learn's StratifiedGroupKFold
    criterion: the mean over classes of the std over folds of each fold's share of the class; ties to the
    smaller fold). StratifiedGroupKFold sorts the speakers by how uneven their classes are before that, so
    with speakers that differ (a real corpus) every seed gives it the same folds; here the seed decides."""
    classes, y = np.unique(labels, return_inverse=True)
    groups, g = np.unique(speakers, return_inverse=True)
    counts = np.zeros((len(groups), len(classes)))
    np.add.at(counts, (g, y), 1)
    total = counts.sum(0)
    per_fold = np.zeros((folds, len(classes)))
    where = np.empty(len(groups), dtype=int)
    for i, s in enumerate(np.random.default_rng(seed).permutation(len(groups))):
        if i < folds:  # the first speakers open one fold each: no fold is left empty
            best = i
        else:
            trial = per_fold[None, :, :] + np.eye(folds)[:, :, None] * counts[s]  # speaker s in fold f, for each f
            spread = (trial / total).std(axis=1).mean(axis=1)
            best = min(range(folds), key=lambda f: (round(float(spread[f]), 12), per_fold[f].sum(), f))
        per_fold[best] += counts[s]
        where[s] = best
    fold_of_row = where[g]
    return [(np.flatnonzero(fold_of_row != f), np.flatnonzero(fold_of_row == f)) for f in range(folds)]


def outer_folds(
    protocol: str,
    labels: np.ndarray,
    speakers: np.ndarray,
    splits: np.ndarray | None,
    folds: int,
    seed: int,
    random_order: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(train indices, test indices) per fold; speakers never cross for speaker_kfold and loso.
    ``random_order``: speaker k-fold by :func:`random_order_folds` (a repeat's folds, drawn anew by its seed)."""
    from sklearn.model_selection import LeaveOneGroupOut, StratifiedGroupKFold

    n_speakers = len(np.unique(speakers))
    if protocol == "speaker_kfold":
        if n_speakers < folds:
            raise DataError(
                f"speaker_kfold with {folds} folds needs at least {folds} speakers, the corpus has "
                f"{n_speakers}; lower evaluation.folds or use protocol loso"
            )
        cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
        drawn = (
            random_order_folds(labels, speakers, folds, seed)
            if random_order
            else cv.split(np.zeros(len(labels)), labels, speakers)
        )
        for tr, te in drawn:
            assert_disjoint(speakers[tr], speakers[te])
            yield tr, te
    elif protocol == "loso":
        if n_speakers < 2:
            raise DataError("loso needs at least 2 speakers")
        for tr, te in LeaveOneGroupOut().split(speakers, groups=speakers):  # it reads the groups only
            assert_disjoint(speakers[tr], speakers[te])
            yield tr, te
    elif protocol == "predefined":
        if splits is None:
            raise DataError("protocol predefined needs a 'split' column in the manifest (train/dev/test)")
        s = np.asarray([str(v).strip().lower() for v in splits])
        test = np.flatnonzero(s == "test")
        train = np.flatnonzero(s != "test")
        if len(test) == 0 or len(train) == 0:
            raise DataError("protocol predefined: the split column needs 'test' rows and other (train/dev) rows")
        yield train, test
    else:
        raise DataError(f"protocol {protocol!r} is not a single-corpus protocol")


def inner_split(
    labels: np.ndarray, speakers: np.ndarray | None, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Hold out about ``fraction`` of the *training speakers* for validation (early stopping)."""
    from sklearn.model_selection import GroupShuffleSplit, StratifiedShuffleSplit

    n = len(labels)
    if speakers is not None and len(np.unique(speakers)) >= 2:
        # the first split of the generator is the split (it reads the groups only)
        tr, va = next(GroupShuffleSplit(test_size=fraction, random_state=seed).split(speakers, groups=speakers))
        assert_disjoint(speakers[tr], speakers[va], "inner validation split")
        return tr, va
    counts = np.unique(labels, return_counts=True)[1]
    if counts.min() >= 2:
        return next(StratifiedShuffleSplit(test_size=fraction, random_state=seed).split(labels, labels))
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    k = max(1, int(round(n * fraction)))
    return perm[k:], perm[:k]


def inner_folds(
    labels: np.ndarray, speakers: np.ndarray | None, k: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """k folds over the training part, by speaker when there are enough, for out-of-fold predictions."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    n = len(labels)
    if speakers is not None and len(np.unique(speakers)) >= k:
        out = list(
            StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(n), labels, speakers)
        )
        for tr, va in out:
            assert_disjoint(speakers[tr], speakers[va], "inner fold")
        return out
    k = max(2, min(k, int(np.unique(labels, return_counts=True)[1].min())))
    return list(StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(n), labels))


def tuning_folds(labels: np.ndarray, speakers: np.ndarray, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Inner folds of nested tuning over one outer training fold: always by speaker (no speaker on both
    sides), ``k`` of them or one per speaker when there are fewer; stratified by label where it can be."""
    from sklearn.model_selection import StratifiedGroupKFold

    n_speakers = len(np.unique(speakers))
    if n_speakers < 2:
        raise DataError(
            f"nested tuning needs at least 2 speakers in each outer training fold, got {n_speakers}; "
            "use more speakers or remove the search"
        )
    cv = StratifiedGroupKFold(n_splits=min(k, n_speakers), shuffle=True, random_state=seed)
    out = list(cv.split(np.zeros(len(labels)), labels, speakers))
    for tr, va in out:
        assert_disjoint(speakers[tr], speakers[va], "tuning inner fold")
    return out
