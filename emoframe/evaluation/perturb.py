"""Test-time perturbations for the robustness sweep: audio noise at an SNR, transcript corruption.

Deterministic: the same seed, condition and utterance give the same perturbation. Noisy audio
is written once to ``<workdir>/perturbed/<condition>/`` so its features are cached like any other.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ..data.audio import AudioError, load_audio
from ..data.digest import audio_digest
from ..data.manifest import Manifest
from ..spec.models import Condition

SR = 16000


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


def babble(manifest: Manifest, exclude_speaker: str, n: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """Several other speakers' utterances summed: the noise of a room full of talk."""
    candidates = np.flatnonzero(manifest.speakers != exclude_speaker)
    out = np.zeros(length, dtype=np.float64)
    for i in rng.choice(candidates, size=min(n, len(candidates)), replace=False):
        try:
            x = load_audio(manifest.frame["audio"].iloc[i], SR)
        except AudioError:
            continue
        x = np.resize(x, length) * rng.uniform(0.6, 1.0)
        out += np.roll(x, int(rng.integers(0, length)))
    return out.astype(np.float32)


def corrupt_text(text: str, kind: str, rate: float, vocabulary: list[str], rng: np.random.Generator) -> str:
    """Drop each word with probability ``rate`` (dropout) or replace it by a random corpus word (substitution)."""
    words = text.split()
    if kind == "dropout":
        kept = [w for w in words if rng.random() >= rate]
        return " ".join(kept)
    return " ".join(str(rng.choice(vocabulary)) if rng.random() < rate and vocabulary else w for w in words)


def perturbed_manifest(manifest: Manifest, condition: Condition, out_dir: Path, seed: int) -> Manifest:
    """The same rows (same ids) with perturbed audio files or transcripts."""
    import soundfile as sf

    frame = manifest.frame.copy()
    if condition.modality == "text":
        vocab = sorted({w for t in manifest.texts for w in t.split()})
        frame["text"] = [
            corrupt_text(t, condition.kind, condition.level, vocab, _rng(seed, condition.name, i))
            for i, t in zip(frame["id"], frame["text"])
        ]
        return Manifest(frame, manifest.name, manifest.root, list(manifest.warnings))
    folder = out_dir / condition.name
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, row in enumerate(frame.itertuples()):
        start, end = manifest.segment(i)
        # keyed by what is perturbed: the audio's content and the segment (two segments of one file differ)
        source = f"{audio_digest(row.audio)}|{start}|{end}|{seed}"
        rng = _rng(seed, condition.name, source)
        target = folder / f"{hashlib.sha256(source.encode()).hexdigest()[:24]}.wav"
        if not target.exists():
            x = load_audio(row.audio, SR, start, end)
            noise = (
                rng.normal(0, 1, len(x)).astype(np.float32)
                if condition.kind == "white"
                else babble(manifest, row.speaker, 5, len(x), rng)
            )
            tmp = target.with_suffix(".tmp.wav")
            sf.write(tmp, add_noise(x, noise, condition.level), SR, subtype="FLOAT")
            tmp.replace(target)
        paths.append(str(target))
    frame["audio"] = paths
    for col in ("start", "end"):
        if col in frame:
            frame[col] = np.nan
    return Manifest(frame, manifest.name, manifest.root, list(manifest.warnings))
