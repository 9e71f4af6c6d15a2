"""Property-based fuzzing of the audio reader (issue 26 §4): a file cut short is never read as a shorter recording.

For any generated recording (format, bit depth, channels, length, trailing metadata) cut at any byte
offset, ``load_audio`` either returns exactly what it returns for the whole file, or raises an
AudioError whose message names the file — never a silently shorter signal. CI runs a bounded number
of examples; ``pytest -m nightly`` (or EMOFRAME_FUZZ_EXAMPLES=N) runs many more.
"""

from __future__ import annotations

import io
import os
import struct

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emoframe.data.audio import AudioError, load_audio

EXAMPLES = int(os.environ.get("EMOFRAME_FUZZ_EXAMPLES", "60"))
NIGHTLY = 2000

#: (container, subtype) pairs soundfile writes here; the WAV ones carry the property the issue names
FORMATS = [
    ("WAV", "PCM_16"),
    ("WAV", "PCM_24"),
    ("WAV", "FLOAT"),
    ("WAV", "ULAW"),
    ("WAV", "IMA_ADPCM"),
    ("RF64", "PCM_16"),
    ("AIFF", "PCM_16"),
    ("FLAC", "PCM_16"),
    ("OGG", "VORBIS"),
    ("W64", "PCM_16"),
    ("AU", "PCM_16"),
    ("CAF", "PCM_16"),
    ("MP3", "MPEG_LAYER_III"),  # with its Xing/Info header, as encoders write it
]
SUFFIX = {
    "WAV": ".wav",
    "RF64": ".wav",
    "AIFF": ".aiff",
    "FLAC": ".flac",
    "OGG": ".ogg",
    "W64": ".w64",
    "AU": ".au",
    "MP3": ".mp3",
}


def recording(fmt: str, subtype: str, frames: int, channels: int, seed: int, tail: bytes = b"") -> bytes:
    """A real encoded recording (a few tones and noise), with ``tail`` appended after it."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / 16000
    x = 0.3 * np.sin(2 * np.pi * rng.uniform(100, 2000) * t) + 0.05 * rng.standard_normal(frames)
    signal = np.stack([x * (1 - 0.3 * c) for c in range(channels)], axis=1).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, signal, 16000, format=fmt, subtype=subtype)
    return buffer.getvalue() + tail


def riff_chunk(ident: bytes, body: bytes) -> bytes:
    return ident + struct.pack("<I", len(body)) + body + (b"\0" if len(body) % 2 else b"")


def read_whole(tmp_path, raw: bytes, suffix: str) -> np.ndarray:
    path = tmp_path / f"whole{suffix}"
    path.write_bytes(raw)
    return load_audio(path)


def check_cut(tmp_path, raw: bytes, cut: int, suffix: str, whole: np.ndarray | None = None) -> bool:
    """``raw[:cut]`` reads as ``whole`` (the uncut file's signal) or is refused with a reason naming the file;
    True when refused."""
    whole = read_whole(tmp_path, raw, suffix) if whole is None else whole
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(raw[:cut])
    try:
        got = load_audio(path)
    except AudioError as exc:
        assert str(path) in str(exc) and exc.path == str(path) and exc.reason
        assert str(path) not in exc.reason  # the reason is the same words for every file
        return True
    assert got.shape == whole.shape, f"cut at {cut} of {len(raw)} bytes read {len(got)} samples, whole: {len(whole)}"
    np.testing.assert_array_equal(got, whole)
    return False


wav_cases = st.tuples(
    st.sampled_from([f for f in FORMATS if f[0] in ("WAV", "RF64")]),
    st.integers(1, 4000),  # frames
    st.integers(1, 2),  # channels
    st.integers(0, 2**16),  # seed
    st.sampled_from([b"", riff_chunk(b"LIST", b"INFOISFT\x06\x00\x00\x00emo\x00\x00"), b"\0" * 7]),
    st.floats(0, 1),  # where to cut, as a share of the file
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=wav_cases)
def test_a_wav_cut_anywhere_is_read_whole_or_refused_naming_the_file(tmp_path_factory, case):
    (fmt, subtype), frames, channels, seed, tail, share = case
    raw = recording(fmt, subtype, frames, channels, seed, tail)
    check_cut(tmp_path_factory.mktemp("cut"), raw, int(share * len(raw)), ".wav")


@pytest.mark.nightly
@settings(max_examples=NIGHTLY, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=wav_cases)
def test_a_wav_cut_anywhere_is_read_whole_or_refused_naming_the_file_nightly(tmp_path_factory, case):
    (fmt, subtype), frames, channels, seed, tail, share = case
    raw = recording(fmt, subtype, frames, channels, seed, tail)
    check_cut(tmp_path_factory.mktemp("cut"), raw, int(share * len(raw)), ".wav")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    fmt=st.sampled_from([f for f in FORMATS if f[0] not in ("WAV", "RF64")]),
    frames=st.integers(400, 6000),
    seed=st.integers(0, 2**16),
    share=st.floats(0, 1),
)
def test_other_containers_cut_anywhere_are_read_whole_or_refused(tmp_path_factory, fmt, frames, seed, share):
    raw = recording(*fmt, frames, 1, seed)
    check_cut(tmp_path_factory.mktemp("cut"), raw, int(share * len(raw)), SUFFIX.get(fmt[0], ".caf"))


@pytest.mark.parametrize("fmt", FORMATS, ids=[f"{a}-{b}" for a, b in FORMATS])
def test_every_cut_of_a_small_file_is_whole_or_refused(tmp_path, fmt):
    """Exhaustive over byte offsets (every 7th, and the last 40) of one small file per container."""
    raw = recording(*fmt, 3000, 1, seed=1)
    suffix = SUFFIX.get(fmt[0], ".caf")
    whole = read_whole(tmp_path, raw, suffix)
    offsets = sorted(set(range(0, len(raw), 7)) | set(range(max(0, len(raw) - 40), len(raw))))
    refused = [cut for cut in offsets if check_cut(tmp_path, raw, cut, suffix, whole)]
    # nothing but audio follows the header in these files: every cut loses audio, so every cut is refused
    assert refused == offsets
