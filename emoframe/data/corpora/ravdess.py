"""RAVDESS speech: ``MM-VV-EE-II-SS-RR-AA.wav`` file names."""

from __future__ import annotations

import re
from pathlib import Path

from .base import FileCorpus

EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
STATEMENTS = {"01": "Kids are talking by the door.", "02": "Dogs are sitting by the door."}


class Ravdess(FileCorpus):
    """RAVDESS: 24 actors, 8 emotions, two fixed statements; speech files only (vocal channel 01).

    Both statements occur with every emotion, so text carries no emotion (transcript overlap).
    """

    name = "ravdess"
    version = "1"
    native_labels = EMOTIONS
    language = "en"
    pattern = re.compile(r"(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)")
    example = "03-01-05-01-02-01-12.wav"

    def parse(self, m: re.Match[str], path: Path) -> dict[str, str] | None:
        modality, channel, emotion, intensity, statement, rep, actor = m.groups()
        if channel != "01" or modality == "02" or emotion not in EMOTIONS:  # song or video-only
            return None
        return {
            "id": path.stem,
            "text": STATEMENTS.get(statement, ""),
            "label": EMOTIONS[emotion],
            "speaker": f"ravdess{actor}",
            "intensity": "strong" if intensity == "02" else "normal",
            "gender": "m" if int(actor) % 2 else "f",
        }
