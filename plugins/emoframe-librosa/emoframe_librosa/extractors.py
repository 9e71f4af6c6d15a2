"""MFCC, log-mel and pYIN prosody features computed with librosa.

librosa compiles parts of itself with numba on first use in a process (about 30 s on a
cold numba cache, about 2 s when warm); ``warmup`` pays it once per worker, not per file.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from emoframe import FeatureExtractor, Params


def _pool(frames: np.ndarray) -> np.ndarray:
    """Statistics pooling over time: mean, std, min, max, and mean absolute slope per dimension."""
    slope = np.abs(np.diff(frames, axis=0)).mean(0) if len(frames) > 1 else np.zeros(frames.shape[1])
    return np.concatenate([frames.mean(0), frames.std(0), frames.min(0), frames.max(0), slope])


class _LibrosaExtractor(FeatureExtractor):
    modality = "audio"

    def warmup(self) -> None:
        rng = np.random.default_rng(0)
        self.extract(rng.normal(0, 0.1, self.sample_rate).astype(np.float32))


class MFCC(_LibrosaExtractor):
    """MFCCs (with deltas), pooled into statistics (vector) or kept as frames (sequence)."""

    name = "librosa.mfcc"
    version = "1"
    output = "vector"

    class Params(Params):
        n_mfcc: int = Field(20, ge=2, le=128, description="number of cepstral coefficients")
        deltas: bool = Field(True, description="append first and second derivatives")
        pooling: Literal["stats", "frames"] = Field(
            "stats", description="stats: mean/std/min/max/slope vector; frames: (frames × dims) sequence"
        )
        n_fft: int = Field(512, ge=64, description="FFT size in samples (32 ms at 16 kHz)")
        hop_length: int = Field(160, ge=16, description="hop in samples (10 ms at 16 kHz)")

    @classmethod
    def output_for(cls, params: Params) -> Literal["vector", "sequence"]:
        return "sequence" if params.pooling == "frames" else "vector"

    def feature_groups(self) -> dict[str, list[int]] | None:
        """Bands of cepstral coefficients (1-4, 5-8, ...), each with its deltas and every pooled statistic."""
        p = self.params
        if p.pooling != "stats":
            return None
        dims = p.n_mfcc * (3 if p.deltas else 1)
        groups: dict[str, list[int]] = {}
        for stat in range(5):  # mean, std, min, max, slope: _pool's order
            for d in range(dims):
                c = d % p.n_mfcc
                lo = 4 * (c // 4) + 1
                name = f"MFCC {lo}-{min(lo + 3, p.n_mfcc)}"
                groups.setdefault(name, []).append(stat * dims + d)
        return groups

    def extract(self, x: np.ndarray) -> np.ndarray:
        import librosa

        p = self.params
        m = librosa.feature.mfcc(y=x, sr=self.sample_rate, n_mfcc=p.n_mfcc, n_fft=p.n_fft, hop_length=p.hop_length)
        if p.deltas:
            width = min(9, m.shape[1] - (1 - m.shape[1] % 2)) if m.shape[1] >= 3 else 0
            if width >= 3:
                m = np.vstack(
                    [m, librosa.feature.delta(m, width=width), librosa.feature.delta(m, order=2, width=width)]
                )
            else:
                m = np.vstack([m, np.zeros_like(m), np.zeros_like(m)])
        frames = m.T
        return _pool(frames) if p.pooling == "stats" else frames


class LogMel(_LibrosaExtractor):
    """Log-mel spectrogram (frames × mel bands) as a sequence, the usual input of audio CNNs."""

    name = "librosa.logmel"
    version = "1"
    output = "sequence"

    class Params(Params):
        n_mels: int = Field(64, ge=8, le=256, description="mel bands")
        n_fft: int = Field(512, ge=64, description="FFT size in samples")
        hop_length: int = Field(160, ge=16, description="hop in samples (10 ms at 16 kHz)")
        fmax: float = Field(8000.0, gt=0, description="highest band edge in Hz")

    def extract(self, x: np.ndarray) -> np.ndarray:
        import librosa

        p = self.params
        S = librosa.feature.melspectrogram(
            y=x,
            sr=self.sample_rate,
            n_fft=p.n_fft,
            hop_length=p.hop_length,
            n_mels=p.n_mels,
            fmax=min(p.fmax, self.sample_rate / 2),
        )
        return librosa.power_to_db(S, ref=1.0, top_db=None).T


class Prosody(_LibrosaExtractor):
    """pYIN F0 and RMS-energy statistics: level, range, variability, slope, voicing (16 dims)."""

    name = "librosa.prosody"
    version = "1"
    output = "vector"

    class Params(Params):
        fmin: float = Field(65.0, gt=20, description="lowest F0 searched (Hz)")
        fmax: float = Field(500.0, gt=40, description="highest F0 searched (Hz)")
        hop_length: int = Field(160, ge=16, description="hop in samples (10 ms at 16 kHz)")

    def extract(self, x: np.ndarray) -> np.ndarray:
        import librosa

        p = self.params
        f0, voiced, _ = librosa.pyin(
            x, fmin=p.fmin, fmax=p.fmax, sr=self.sample_rate, frame_length=1024, hop_length=p.hop_length
        )
        rms = librosa.feature.rms(y=x, frame_length=1024, hop_length=p.hop_length)[0]
        rms_db = 20 * np.log10(rms + 1e-6)
        semitones = 12 * np.log2(f0[voiced] / 55.0) if np.any(voiced) else np.zeros(1)
        t = np.arange(len(semitones))
        slope = np.polyfit(t, semitones, 1)[0] * 100 if len(semitones) > 2 else 0.0
        pct = np.percentile(semitones, [10, 50, 90])
        return np.array(
            [
                semitones.mean(),
                semitones.std(),
                pct[0],
                pct[1],
                pct[2],
                pct[2] - pct[0],
                slope,
                np.abs(np.diff(semitones)).mean() if len(semitones) > 1 else 0.0,
                float(np.mean(voiced)),
                rms_db.mean(),
                rms_db.std(),
                rms_db.max(),
                np.percentile(rms_db, 90) - np.percentile(rms_db, 10),
                float(np.mean(rms_db > rms_db.max() - 20)),
                len(x) / self.sample_rate,
                float(np.mean(np.abs(np.diff(np.sign(x))) > 0)),
            ],
            dtype=np.float32,
        )
