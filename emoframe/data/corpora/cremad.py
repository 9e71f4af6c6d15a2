"""CREMA-D: ``AAAA_SSS_EEE_LL.wav`` file names."""

from __future__ import annotations

import re
from pathlib import Path

from .base import FileCorpus

EMOTIONS = {"ANG": "angry", "DIS": "disgust", "FEA": "fearful", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
SENTENCES = {
    "IEO": "It's eleven o'clock.",
    "TIE": "That is exactly what happened.",
    "IOM": "I'm on my way to the meeting.",
    "IWW": "I wonder what this is about.",
    "TAI": "The airplane is almost full.",
    "MTI": "Maybe tomorrow it will be cold.",
    "IWL": "I would like a new alarm clock.",
    "ITH": "I think I have a doctor's appointment.",
    "DFA": "Don't forget a jacket.",
    "ITS": "I think I've seen this before.",
    "TSI": "The surface is slick.",
    "WSI": "We'll stop in a couple of minutes.",
}


class CremaD(FileCorpus):
    """CREMA-D: 91 actors, 6 emotions, 12 scripted sentences (codes → text)."""

    name = "cremad"
    version = "1"
    native_labels = EMOTIONS
    language = "en"
    pattern = re.compile(r"(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})")
    example = "1001_DFA_ANG_XX.wav"

    def parse(self, m: re.Match[str], path: Path) -> dict[str, str] | None:
        actor, sentence, emotion, level = m.groups()
        if emotion not in EMOTIONS:
            return None
        return {
            "id": path.stem,
            "text": SENTENCES.get(sentence, ""),
            "label": EMOTIONS[emotion],
            "speaker": f"cremad{actor}",
            "level": level,
        }
