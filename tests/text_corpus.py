"""Tiny text-only corpora for runner tests: two classes, a few speakers, transcripts made to order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

WORDS = {"happy": "sunny bright day fun", "sad": "rainy grey night alone"}


def rotated(label: str, k: int) -> str:
    """The class's four words, rotated by k: every transcript of a class holds the same words."""
    words = WORDS[label].split()
    return " ".join(words[k % 4 :] + words[: k % 4])


def write_text_corpus(path: Path, speakers: int, per_class: int, text: Callable[[int, str, int], str]) -> Path:
    """``path`` (a CSV manifest, no audio): ids ``s{speaker}_{label}_{k}``, transcripts from ``text``."""
    rows = [
        {"id": f"s{s}_{label}_{k}", "audio": "", "text": text(s, label, k), "label": label, "speaker": f"s{s}"}
        for s in range(speakers)
        for label in WORDS
        for k in range(per_class)
    ]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path
