"""Rules for ``evaluation.repeats``: which repeats of a protocol can differ at all (its fold assignment
drawn again), checked by ``validate`` and, once the corpus's speakers are known, by ``bench``."""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import SpecProblem
from .models import EvaluationSpec

Problems = Iterator[SpecProblem]


def fold_partitions(speakers: int, folds: int, cap: int = 1_000_000) -> int:
    """How many ways ``speakers`` can be cut into ``folds`` non-empty groups (the Stirling number of the
    second kind, capped at ``cap``): the most distinct fold assignments speaker k-fold can give."""
    if folds > speakers or folds < 1:
        return 0
    row = [1] + [0] * folds  # S(n, j) for j = 0..folds, built up n = 0..speakers
    for _ in range(speakers):
        row = [0] + [min(cap, j * row[j] + row[j - 1]) for j in range(1, folds + 1)]
    return row[folds]


def repeat_problems(evaluation: EvaluationSpec, speakers: int | None = None) -> Problems:
    """``evaluation.repeats`` the protocol (and, when known, the corpus's ``speakers``) cannot support: a
    protocol whose folds have no randomness repeats the same folds; k-fold needs a distinct fold assignment
    per repeat."""
    r, ev = evaluation.n_repeats, evaluation
    if r > 1 and ev.protocol != "speaker_kfold":
        yield SpecProblem(
            "evaluation.repeats",
            f"repeats: {r} with protocol {ev.protocol}: its folds are the same in every repeat (no fold "
            "assignment to draw again), so the repeats would differ only by model seeds",
            "set repeats: 1, or use protocol speaker_kfold to repeat the fold assignment",
        )
        return
    if speakers is None or ev.protocol != "speaker_kfold":
        return
    if speakers < ev.folds:
        yield SpecProblem(
            "evaluation.folds",
            f"speaker_kfold with {ev.folds} folds needs at least {ev.folds} speakers, the corpus has {speakers}",
            f"lower evaluation.folds to at most {speakers} or use protocol loso",
        )
        return
    distinct = fold_partitions(speakers, ev.folds)
    if r > distinct:
        yield SpecProblem(
            "evaluation.repeats",
            f"repeats: {r} with {ev.folds} folds over {speakers} speakers: only {distinct} distinct fold "
            f"assignment(s) exist, so repeats would reuse the same folds",
            f"set repeats to at most {distinct}, or lower evaluation.folds (fewer folds, more ways to cut them)",
        )
