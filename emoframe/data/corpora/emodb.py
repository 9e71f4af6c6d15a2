"""EmoDB (Berlin Database of Emotional Speech): ``SSTTTEV.wav`` file names."""

from __future__ import annotations

import re
from pathlib import Path

from .base import FileCorpus

EMOTIONS = {"W": "angry", "L": "bored", "E": "disgust", "A": "fearful", "F": "happy", "T": "sad", "N": "neutral"}
SENTENCES = {
    "a01": "Der Lappen liegt auf dem Eisschrank.",
    "a02": "Das will sie am Mittwoch abgeben.",
    "a04": "Heute abend könnte ich es ihm sagen.",
    "a05": "Das schwarze Blatt Papier befindet sich da oben neben dem Holzstück.",
    "a07": "In sieben Stunden wird es soweit sein.",
    "b01": "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
    "b02": "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
    "b03": "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe Agnes besucht.",
    "b09": "Ich will das eben wegbringen und dann mit Karl was trinken gehen.",
    "b10": "Die wird auf dem Platz sein, wo wir sie immer hinlegen.",
}
GENDER = {"03": "m", "08": "f", "09": "f", "10": "m", "11": "m", "12": "m", "13": "f", "14": "f", "15": "m", "16": "f"}


class EmoDB(FileCorpus):
    """EmoDB: 10 German speakers, 7 acted emotions; speaker, sentence and emotion from file names.

    Transcripts are the ten emotionally neutral sentences (text carries no emotion here, and
    every sentence recurs across speakers: expect the transcript-overlap warning). Labels:
    W→angry, L→bored, E→disgust, A→fearful, F→happy, T→sad, N→neutral.
    """

    name = "emodb"
    version = "1"
    native_labels = EMOTIONS
    language = "de"
    pattern = re.compile(r"(\d\d)([ab]\d\d)([WLEAFTN])([a-z])")
    example = "03a01Fa.wav"

    def parse(self, m: re.Match[str], path: Path) -> dict[str, str] | None:
        speaker, text_code, emotion, version = m.groups()
        return {
            "id": path.stem,
            "text": SENTENCES.get(text_code, ""),
            "label": EMOTIONS[emotion],
            "speaker": f"emodb{speaker}",
            "text_code": text_code,
            "gender": GENDER.get(speaker, ""),
        }
