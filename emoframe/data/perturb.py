"""Test-time perturbations for the robustness sweep: audio noise at an SNR, transcript corruption.

Deterministic: the same seed, condition and utterance give the same perturbation. Noisy audio
is never written to disk: a perturbed manifest keeps the original audio paths and carries, per
row, a :data:`COLUMN` column (JSON) that says which noise to mix in. Whoever reads the row's audio
(:func:`read_audio` — the extraction workers, raw-audio models) mixes it in on the fly, and the
feature cache keys the result by the perturbation, so only features are stored.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from ..spec.settings import Condition
from .audio import AudioError, load_audio
from .digest import audio_digest
from .manifest import ASR_COLUMN, Manifest

__all__ = [
    "AudioPerturbation",
    "Condition",
    "add_noise",
    "corrupt_text",
    "perturbed_manifest",
    "read_audio",
    "row_audio",
]

#: the manifest column of a row's perturbation; a user manifest's column of that name is dropped on load
COLUMN = "emoframe:perturb"
#: part of every perturbed sample's cache key: bump when the way noise is made changes
PERTURBATION_VERSION = "2"
BABBLE_TALKERS = 5


def _rng(seed: int, *parts: object) -> np.random.Generator:
    digest = hashlib.sha256("|".join(map(str, (seed, *parts))).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def add_noise(signal: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Mix ``noise`` into ``signal`` at ``snr_db`` (power of the signal over power of the noise)."""
    noise = np.resize(noise, signal.shape)
    p_sig = float(np.mean(signal.astype(np.float64) ** 2)) or 1e-12
    p_noise = float(np.mean(noise.astype(np.float64) ** 2)) or 1e-12
    mixed = signal + noise * np.sqrt(p_sig / (p_noise * 10 ** (snr_db / 10)))
    peak = float(np.max(np.abs(mixed)))
    return (mixed / peak * 0.99 if peak > 0.99 else mixed).astype(np.float32)


def corrupt_text(text: str, kind: str, rate: float, vocabulary: list[str], rng: np.random.Generator) -> str:
    """Drop each word with probability ``rate`` (dropout) or replace it by a random corpus word (substitution)."""
    words = text.split()
    if kind == "dropout":
        kept = [w for w in words if rng.random() >= rate]
        return " ".join(kept)
    return " ".join(str(rng.choice(vocabulary)) if rng.random() < rate and vocabulary else w for w in words)


@dataclass(frozen=True)
class AudioPerturbation:
    """Noise for one row: white, or babble made of ``sources`` (other speakers' files).

    ``sample`` identifies what is perturbed (audio content + segment), so two segments of one
    file, or one file under two seeds, get different noise; ``sources`` pairs each babble
    file with its content digest (the cache key uses the digests, not the paths).
    """

    kind: str
    snr_db: float
    seed: int
    sample: str
    sources: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> str:
        return json.dumps(
            {"kind": self.kind, "snr_db": self.snr_db, "seed": self.seed, "sample": self.sample,
             "sources": [list(s) for s in self.sources]},
            sort_keys=True,
        )  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> AudioPerturbation:
        d = json.loads(text)
        return cls(d["kind"], float(d["snr_db"]), int(d["seed"]), d["sample"], tuple(tuple(s) for s in d["sources"]))

    def key(self) -> str:
        """What decides the perturbed signal, without machine paths: part of the feature cache key."""
        parts = [PERTURBATION_VERSION, self.kind, repr(self.snr_db), str(self.seed), self.sample]
        parts += [digest for _, digest in self.sources]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()

    def apply(self, x: np.ndarray, sr: int) -> np.ndarray:
        rng = _rng(self.seed, self.kind, self.snr_db, self.sample)
        if self.kind == "white":
            noise = rng.normal(0, 1, len(x)).astype(np.float32)
        else:
            acc = np.zeros(len(x), dtype=np.float64)
            for path, _ in self.sources:
                gain, shift = rng.uniform(0.6, 1.0), int(rng.integers(0, len(x)))
                try:
                    talker = load_audio(path, sr)
                except AudioError:
                    continue  # a damaged neighbour makes the babble thinner, not the row unusable
                acc += np.roll(np.resize(talker, len(x)) * gain, shift)
            noise = acc.astype(np.float32)
        return add_noise(x, noise, self.snr_db)


def read_audio(
    path: str, sr: int, start: float | None = None, end: float | None = None, perturb: str = ""
) -> np.ndarray:
    """A row's signal at ``sr`` Hz: the file (or its segment), with the row's perturbation mixed in."""
    x = load_audio(path, sr, start, end)
    return AudioPerturbation.from_json(perturb).apply(x, sr) if perturb else x


def perturbed_manifest(manifest: Manifest, condition: Condition, seed: int) -> Manifest:
    """The same rows (same ids) with corrupted transcripts, or with a :data:`COLUMN` saying
    which noise to mix into their audio when it is read (nothing is written to disk)."""
    frame = manifest.frame.copy()
    if condition.modality == "text":
        vocab = sorted({w for t in manifest.texts for w in t.split()})
        frame["text"] = [
            corrupt_text(t, condition.kind, condition.level, vocab, _rng(seed, condition.name, i))
            for i, t in zip(frame["id"], frame["text"])
        ]
        if ASR_COLUMN in frame:  # branches that read ASR transcripts get theirs corrupted the same way
            asr_vocab = sorted({w for t in frame[ASR_COLUMN] for w in str(t).split()})
            frame[ASR_COLUMN] = [
                corrupt_text(str(t), condition.kind, condition.level, asr_vocab, _rng(seed, condition.name + "|asr", i))
                for i, t in zip(frame["id"], frame[ASR_COLUMN])
            ]
        return Manifest(frame, manifest.name, manifest.root, list(manifest.warnings))
    digests: list[str] = []
    for path in frame["audio"]:
        try:
            digests.append(audio_digest(path) if path else "")
        except OSError:
            digests.append("")  # unreadable: extraction reports the row with its reason
    speakers = manifest.speakers
    audios = [str(a) for a in frame["audio"]]
    readable = np.array([bool(d) for d in digests])
    out = []
    for i, (start, end) in enumerate(manifest.segments()):
        sample = f"{digests[i]}|{start}|{end}"
        sources: tuple[tuple[str, str], ...] = ()
        if condition.kind == "babble":
            others = np.flatnonzero((speakers != speakers[i]) & readable)
            chosen = _rng(seed, "babble talkers", sample).choice(
                others, size=min(BABBLE_TALKERS, len(others)), replace=False
            )
            sources = tuple((audios[j], digests[j]) for j in sorted(chosen))
        out.append(AudioPerturbation(condition.kind, condition.level, seed, sample, sources).to_json())
    frame[COLUMN] = out
    return Manifest(frame, manifest.name, manifest.root, list(manifest.warnings))


def perturbation_of(manifest: Manifest, i: int) -> str:
    """Row ``i``'s perturbation (JSON), '' for a clean row."""
    if COLUMN not in manifest.frame:
        return ""
    value = manifest.frame[COLUMN].iloc[i]
    return value if isinstance(value, str) else ""


def row_audio(manifest: Manifest, i: int, sr: int) -> np.ndarray:
    """Row ``i``'s signal as every reader must see it: segment honoured, perturbation mixed in."""
    return read_audio(manifest.frame["audio"].iloc[i], sr, *manifest.segment(i), perturbation_of(manifest, i))
