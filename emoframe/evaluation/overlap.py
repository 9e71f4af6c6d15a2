"""Transcript-overlap check: scripted corpora repeat sentences across splits."""

from __future__ import annotations

import re
from collections.abc import Sequence

_PUNCT = re.compile(r"[^\w\s]+")


def normalise_text(text: str) -> str:
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def transcript_overlap(train_texts: Sequence[str], test_texts: Sequence[str]) -> tuple[int, int]:
    """(test transcripts found verbatim in training, non-empty test transcripts)."""
    seen = {normalise_text(t) for t in train_texts if t.strip()}
    test = [normalise_text(t) for t in test_texts if t.strip()]
    return sum(t in seen for t in test), len(test)


def overlap_warning(hits: int, total: int, threshold: float = 0.05) -> str | None:
    if total == 0 or hits / total <= threshold:
        return None
    return (
        f"transcript overlap: {hits} of {total} test transcripts ({hits / total:.0%}) occur verbatim in "
        "training; a text model can learn the script instead of the emotion (scripted corpora such as "
        "EmoDB, RAVDESS and CREMA-D repeat sentences across speakers)"
    )
