"""Audio I/O: read with soundfile, downmix to mono, resample properly, honour segments.

Every unusable file raises :class:`AudioError` naming the path and the reason, so a run can
record it and go on without it.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import DataError

SILENCE_PEAK = 1e-5  # below this peak (≈ −100 dBFS) a signal carries nothing to analyse


class AudioError(DataError):
    """One audio file (or segment) could not be used; ``path`` and ``reason`` say why."""

    def __init__(self, path: str | Path, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")


def resample(signal: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Polyphase resampling with an anti-aliasing Kaiser filter (scipy's resample_poly)."""
    if sr_in == sr_out:
        return signal
    from scipy.signal import resample_poly

    frac = Fraction(sr_out, sr_in).limit_denominator(1000)
    return resample_poly(signal, frac.numerator, frac.denominator).astype(np.float32)


def _reason(path: str | Path, exc: Exception) -> str:
    if not Path(path).exists():
        return "file not found"
    if Path(path).stat().st_size == 0:
        return "empty file (0 bytes)"
    return f"unreadable or corrupt audio ({str(exc).strip() or type(exc).__name__}); re-export it as WAV/FLAC"


def load_audio(path: str | Path, sr: int = 16000, start: float | None = None, end: float | None = None) -> np.ndarray:
    """Mono float32 signal of ``path`` (or its [start, end) segment in seconds) at ``sr`` Hz."""
    import soundfile as sf

    try:
        with sf.SoundFile(str(path)) as f:
            native = f.samplerate
            first = int(round((start or 0.0) * native))
            last = f.frames if end is None else min(f.frames, int(round(end * native)))
            if start is not None and first >= f.frames:
                raise AudioError(path, f"segment starts at {start:.3f} s but the file lasts {f.frames / native:.3f} s")
            f.seek(first)
            data = f.read(max(0, last - first), dtype="float32", always_2d=True)
    except AudioError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise AudioError(path, _reason(path, exc)) from None
    if data.shape[0] == 0:
        raise AudioError(path, "no samples (zero-length audio or empty segment)")
    signal = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    if not np.all(np.isfinite(signal)):
        bad = int(np.sum(~np.isfinite(signal)))
        raise AudioError(path, f"{bad} NaN/inf samples; the file is damaged")
    if float(np.max(np.abs(signal))) < SILENCE_PEAK:
        raise AudioError(path, "silent (all samples are zero or below -100 dBFS)")
    return resample(np.ascontiguousarray(signal, dtype=np.float32), native, sr)
