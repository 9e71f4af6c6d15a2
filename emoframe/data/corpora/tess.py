"""TESS (Toronto emotional speech set): ``OAF_word_emotion.wav`` file names."""

from __future__ import annotations

import re
from pathlib import Path

from .base import FileCorpus

EMOTIONS = {
    "angry": "angry",
    "disgust": "disgust",
    "fear": "fearful",
    "happy": "happy",
    "neutral": "neutral",
    "ps": "surprised",
    "sad": "sad",
}


class Tess(FileCorpus):
    """TESS: two speakers (OAF, YAF) saying "Say the word X" in 7 emotions (ps → surprised).

    Two speakers only: a speaker-independent split is train-on-one, test-on-the-other.
    """

    name = "tess"
    version = "1"
    native_labels = EMOTIONS
    language = "en"
    pattern = re.compile(r"([OY]AF)_([A-Za-z]+)_([A-Za-z]+)", re.IGNORECASE)
    example = "OAF_back_angry.wav"

    def parse(self, m: re.Match[str], path: Path) -> dict[str, str] | None:
        speaker, word, emotion = m.groups()
        label = EMOTIONS.get(emotion.lower())
        if label is None:
            return None
        return {
            "id": path.stem,
            "text": f"Say the word {word.lower()}.",
            "label": label,
            "speaker": f"tess{speaker.upper()}",
        }
