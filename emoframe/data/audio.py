"""Audio I/O: read with soundfile, downmix to mono, resample properly, honour segments.

Every unusable file raises :class:`AudioError` naming the path and the reason, so a run can
record it and go on without it. A file that holds less audio than its header says (cut short) is
unusable too: soundfile would read it as a shorter recording, so the container is checked first
(:mod:`emoframe.data.containers`) and every read must return the frames the header promised.
The reason never contains the path: it is the same text for every file with the same fault, and
the path travels beside it (``AudioError.path``), so summaries group reasons without parsing them.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import DataError
from .containers import container_problem
from .digest import audio_digest

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
    if Path(path).is_dir():
        return "a folder, not an audio file"
    if Path(path).stat().st_size == 0:
        return "empty file (0 bytes)"
    if isinstance(exc, OSError):
        return f"cannot read the file: {exc.strerror or type(exc).__name__}"
    # libsndfile's own words without its "Error opening '<path>': " prefix: the path is not part of a reason
    said = str(getattr(exc, "error_string", "") or exc).strip().removeprefix("Error : ").strip()
    return f"unreadable or corrupt audio ({said or type(exc).__name__}); re-export it as WAV/FLAC"


_WHOLE: dict[tuple[str, int, int], str | None] = {}  # (path, size, mtime) → container_problem's answer


def checked_digest(path: str | Path) -> str:
    """The content digest caches key this file's features and transcripts by, for a file whose container
    is whole; AudioError for one cut short, so what was cached from it (by a version that read it as a
    shorter recording) is never reused. The container check is memoised like the digest."""
    st = os.stat(path)
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _WHOLE:
        _WHOLE[key] = container_problem(path)
    damaged = _WHOLE[key]
    if damaged:
        raise AudioError(path, damaged)
    return audio_digest(path)


def load_audio(path: str | Path, sr: int = 16000, start: float | None = None, end: float | None = None) -> np.ndarray:
    """Mono float32 signal of ``path`` (or its [start, end) segment in seconds) at ``sr`` Hz."""
    import soundfile as sf

    try:
        damaged = container_problem(path)
        if damaged:
            raise AudioError(path, damaged)
        with sf.SoundFile(str(path)) as f:
            native = f.samplerate
            first = int(round((start or 0.0) * native))
            last = f.frames if end is None else min(f.frames, int(round(end * native)))
            if start is not None and first >= f.frames:
                raise AudioError(path, f"segment starts at {start:.3f} s but the file lasts {f.frames / native:.3f} s")
            if first:  # some codecs (GSM 6.10) cannot seek at all
                f.seek(first)
            data = f.read(max(0, last - first), dtype="float32", always_2d=True)
            if data.shape[0] < last - first:  # a short read is a damaged file, never a shorter recording
                raise AudioError(
                    path,
                    f"cut short or damaged: the header says {f.frames} frames ({f.frames / native:.2f} s) but "
                    f"only {first + data.shape[0]} could be read; copy it again or re-export it",
                )
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
