"""Data cards: what a corpus holds, side by side for several (`emoframe corpus info`, a multi-corpus run).

Class counts, speakers, languages, durations and sample rates, read from the manifest and the audio
files' headers (no audio is decoded). A run over several corpora records each card, so a report can say
what was compared with what.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from .manifest import Manifest


@dataclass
class CorpusCard:
    """One corpus as loaded (after its label map and classes): the facts a reader compares across corpora."""

    name: str
    utterances: int
    speakers: int
    classes: dict[str, int]
    languages: list[str]
    sample_rates: dict[int, int] = field(default_factory=dict)  # Hz → files
    seconds_total: float | None = None
    seconds_mean: float | None = None
    unreadable: int = 0  # files whose header could not be read (reported when their rows are extracted)
    text_only: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["sample_rates"] = {str(k): v for k, v in self.sample_rates.items()}
        return d


def corpus_card(manifest: Manifest, name: str | None = None, language: str | None = None) -> CorpusCard:
    """The card of one loaded corpus. ``language``: what its loader states (a ``language`` column wins)."""
    import soundfile as sf

    frame = manifest.frame
    if "language" in frame:
        languages = sorted({str(v) for v in frame["language"] if str(v).strip()})
    else:
        languages = [language] if language else []
    rates: Counter[int] = Counter()
    seconds: list[float] = []
    unreadable = 0
    files = [p for p in dict.fromkeys(frame["audio"]) if p]
    for path in files:
        try:
            info = sf.info(path)
        except Exception:  # noqa: BLE001 — a bad file is the extraction's to report, per row
            unreadable += 1
            continue
        rates[int(info.samplerate)] += 1
        seconds.append(float(info.frames) / float(info.samplerate) if info.samplerate else 0.0)
    if {"start", "end"} <= set(frame.columns):  # segments: the segment's length, not the file's
        spans = (frame["end"].astype(float) - frame["start"].astype(float)).dropna()
        if len(spans):
            seconds = [float(v) for v in spans]
    return CorpusCard(
        name=name or manifest.name,
        utterances=len(manifest),
        speakers=int(frame["speaker"].nunique()),
        classes={str(k): int(v) for k, v in sorted(Counter(frame["label"].astype(str)).items())},
        languages=languages,
        sample_rates=dict(sorted(rates.items())),
        seconds_total=round(sum(seconds), 2) if seconds else None,
        seconds_mean=round(sum(seconds) / len(seconds), 3) if seconds else None,
        unreadable=unreadable,
        text_only=not files,
    )


def rates_text(card: CorpusCard) -> str:
    """'16000 Hz' or '16000 Hz ×530, 44100 Hz ×5'; '—' for a text-only corpus."""
    if not card.sample_rates:
        return "—"
    if len(card.sample_rates) == 1:
        return f"{next(iter(card.sample_rates))} Hz"
    return ", ".join(f"{r} Hz ×{n}" for r, n in card.sample_rates.items())


def sample_rate_note(cards: list[CorpusCard]) -> str | None:
    """The note a run over corpora of different sample rates records: each file is resampled once, as it is
    extracted, to the rate each extractor reads (the features are cached), never written back."""
    rates = {c.name: sorted(c.sample_rates) for c in cards if c.sample_rates}
    distinct = {r for rs in rates.values() for r in rs}
    if len(distinct) < 2:
        return None
    listed = "; ".join(f"{n}: {', '.join(map(str, rs))} Hz" for n, rs in rates.items())
    return (
        f"the corpora have different sample rates ({listed}); each file is resampled once, as it is extracted, "
        "to the rate each extractor reads (its features are cached), and no file is written"
    )


def card_rows(cards: list[CorpusCard]) -> tuple[list[str], list[list[str]]]:
    """(headers, rows) of several cards side by side, one column per corpus: what `corpus info` prints."""
    labels = sorted({label for c in cards for label in c.classes})
    headers = ["", *(c.name for c in cards)]
    rows = [
        ["utterances", *(str(c.utterances) for c in cards)],
        ["speakers", *(str(c.speakers) for c in cards)],
        ["languages", *(", ".join(c.languages) or "not stated" for c in cards)],
        ["duration (total)", *(_hours(c.seconds_total) for c in cards)],
        ["duration (mean)", *(f"{c.seconds_mean:.2f} s" if c.seconds_mean is not None else "—" for c in cards)],
        ["sample rates", *(rates_text(c) for c in cards)],
    ]
    rows += [[f"class {label}", *(str(c.classes.get(label, "—")) for c in cards)] for label in labels]
    return headers, rows


def _hours(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds / 3600:.2f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"
