"""The distinct inputs of a manifest's rows, for one extraction pass: rows with identical inputs (the same audio
bytes and segment, or the same text) are one sample, computed once, each keyed in the cache per extractor."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import NamedTuple

from ..data.audio import AudioError, checked_digest
from ..data.manifest import Manifest
from ..data.perturb import COLUMN as PERTURB_COLUMN
from ..data.perturb import AudioPerturbation
from ..plugin.components import FeatureExtractor
from .cache import FeatureCache


class Sample(NamedTuple):
    """One distinct input to extract: where it comes from and, per extractor of the pass, its cache key."""

    row: int  # the first manifest row with this input
    audio: str
    text: str
    start: float | None
    end: float | None
    perturb: str  # the row's perturbation (JSON), '' for clean audio
    keys: tuple[str | None, ...]  # per extractor: the key to store its features under; None: cached already


@dataclass
class SampleIndex:
    """A manifest's rows grouped by input: the samples, the rows of each and the rows that cannot be read."""

    samples: dict[str, Sample] = field(default_factory=dict)  # input → its sample
    rows_of: dict[str, list[int]] = field(default_factory=dict)  # input → the rows with that input
    source_of: dict[int, str] = field(default_factory=dict)  # a sample's first row → its input
    unreadable: dict[int, str] = field(default_factory=dict)  # row → reason, for every extractor

    def rows(self, s: Sample) -> list[int]:
        """Every manifest row that shares ``s``'s input."""
        return self.rows_of[self.source_of[s.row]]


def input_digest(lead: FeatureExtractor, audio: str, text: str, perturb: str) -> str:
    """What a row's features are computed from: the audio's bytes (with its perturbation) or the text.
    Raises AudioError/OSError for audio that cannot be read."""
    if lead.modality != "audio":
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    if not audio:
        raise AudioError("<no audio>", "this utterance has no audio file (text-only corpus)")
    digest = checked_digest(audio)  # a file cut short is refused here too, cached features or not
    if perturb:  # clean rows keep the keys they always had
        noise = AudioPerturbation.from_json(perturb).key()
        digest = hashlib.sha256(f"{digest}|{noise}".encode()).hexdigest()
    return digest


def index_samples(manifest: Manifest, lead: FeatureExtractor, extractor_keys: list[str]) -> SampleIndex:
    """Group ``manifest``'s rows by input for the extractors keyed ``extractor_keys`` (``lead`` decides the
    modality); a row whose audio cannot be read is recorded with the reason and left out."""
    frame = manifest.frame
    n = len(frame)
    audios, texts, segments = frame["audio"].tolist(), frame["text"].tolist(), manifest.segments()
    noises = (
        frame[PERTURB_COLUMN].fillna("").tolist() if lead.modality == "audio" and PERTURB_COLUMN in frame else [""] * n
    )
    index = SampleIndex()
    for i in range(n):
        audio, text, (start, end), perturb = audios[i], texts[i], segments[i], noises[i]
        try:
            digest = input_digest(lead, audio, text, perturb)
        except AudioError as exc:
            index.unreadable[i] = exc.reason
            continue
        except FileNotFoundError:
            index.unreadable[i] = "file not found"  # the file is beside the reason (failure records), not in it
            continue
        except OSError as exc:
            index.unreadable[i] = f"cannot read audio file: {exc.strerror or exc}"
            continue
        source = f"{digest}|{start}|{end}"
        index.rows_of.setdefault(source, []).append(i)
        if source not in index.samples:
            index.source_of[i] = source
            keys = tuple(FeatureCache.key(ekey, digest, start, end) for ekey in extractor_keys)
            index.samples[source] = Sample(i, audio, text, start, end, perturb, keys)
    return index
