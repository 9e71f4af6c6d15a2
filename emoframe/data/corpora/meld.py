"""MELD (Multimodal EmotionLines Dataset): its CSVs, plus audio the user extracted to wav."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
from pydantic import Field

from ...errors import DataError
from ...plugin.components import BaseParams, Corpus
from ..manifest import Manifest, read_text

EMOTIONS = {
    "neutral": "neutral",
    "joy": "happy",
    "surprise": "surprised",
    "anger": "angry",
    "sadness": "sad",
    "disgust": "disgust",
    "fear": "fearful",
}
SPLIT_FILES = {"train": "train_sent_emo.csv", "dev": "dev_sent_emo.csv", "test": "test_sent_emo.csv"}


class Meld(Corpus):
    """MELD: TV-series dialogue, 7 emotions (joy→happy, anger→angry, ...), predefined splits.

    ``root`` holds train/dev/test_sent_emo.csv. With ``audio_root`` each row maps to
    ``dia{D}_utt{U}.wav`` (in ``audio_root/<split>/`` or directly in ``audio_root``);
    without it the corpus is text-only. The ``split`` column feeds the predefined protocol.
    Speakers are the characters, so MELD's own splits are not speaker-independent.
    """

    name = "meld"
    version = "1"
    native_labels = EMOTIONS
    language = "en"

    class Params(BaseParams):
        root: str = Field("", description="folder with train/dev/test_sent_emo.csv")
        audio_root: str = Field("", description="folder of the extracted wavs; empty: text-only")
        splits: list[str] = Field(
            default_factory=lambda: ["train", "dev", "test"], description="which of train, dev, test to load"
        )

    def load(self) -> Manifest:
        if not self.params.root:
            raise DataError("meld: set params.root to the folder with MELD's *_sent_emo.csv files")
        root = Path(self.params.root).expanduser()
        frames = []
        for split in self.params.splits:
            if split not in SPLIT_FILES:
                raise DataError(f"meld: unknown split '{split}'; use train, dev, test")
            path = root / SPLIT_FILES[split]
            if not path.is_file():
                raise DataError(f"meld: {path} not found; params.root must hold {SPLIT_FILES[split]}")
            df = pd.read_csv(io.StringIO(read_text(path)), dtype=str, keep_default_na=False)
            missing = {"Utterance", "Speaker", "Emotion", "Dialogue_ID", "Utterance_ID"} - set(df.columns)
            if missing:
                raise DataError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
            unknown = sorted(set(df["Emotion"]) - set(EMOTIONS))
            if unknown:
                raise DataError(f"{path}: unknown emotion label(s) {', '.join(unknown)}")
            stem = "dia" + df["Dialogue_ID"].str.strip() + "_utt" + df["Utterance_ID"].str.strip()
            out = pd.DataFrame(
                {
                    "id": split + "_" + stem,
                    "audio": [self._audio(split, s) for s in stem],
                    "text": df["Utterance"],
                    "label": df["Emotion"].map(EMOTIONS),
                    "speaker": df["Speaker"].str.strip(),
                    "split": split,
                    "sentiment": df.get("Sentiment", ""),
                }
            )
            frames.append(out)
        return Manifest.from_frame(
            pd.concat(frames, ignore_index=True), name=self.name, root=root, require_audio=bool(self.params.audio_root)
        )

    def _audio(self, split: str, stem: str) -> str:
        if not self.params.audio_root:
            return ""
        base = Path(self.params.audio_root).expanduser()
        nested = base / split / f"{stem}.wav"
        return str(nested if nested.exists() or not (base / f"{stem}.wav").exists() else base / f"{stem}.wav")
