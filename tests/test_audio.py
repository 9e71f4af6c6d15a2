from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from emoframe.data.audio import AudioError, load_audio

from .audio_files import tone, write_wav


def dominant_hz(x, sr):
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.fft.rfftfreq(len(x), 1 / sr)[spec.argmax()]


def test_resamples_44k_stereo_8bit_to_16k_mono(tmp_path):
    sr = 44100
    left = tone(1.0, sr, freq=1000)
    stereo = np.stack([left, left], axis=1)
    path = tmp_path / "stereo.wav"
    sf.write(path, stereo, sr, subtype="PCM_U8")
    x = load_audio(path, 16000)
    assert x.dtype == np.float32 and x.ndim == 1
    assert abs(len(x) - 16000) <= 1
    assert abs(dominant_hz(x, 16000) - 1000) < 5  # a proper resampler keeps the pitch


def test_downmix_averages_channels(tmp_path):
    a = tone(0.5, 16000, freq=300)
    path = tmp_path / "s.wav"
    sf.write(path, np.stack([a, np.zeros_like(a)], axis=1), 16000, subtype="FLOAT")
    np.testing.assert_allclose(load_audio(path), a / 2, atol=1e-6)


def test_segment_is_honoured(tmp_path):
    x = np.concatenate([tone(1.0, 16000, 200), tone(1.0, 16000, 800)])
    path = write_wav(tmp_path / "two.wav", x, subtype="FLOAT")
    seg = load_audio(path, 16000, start=1.0, end=2.0)
    assert len(seg) == 16000 and abs(dominant_hz(seg, 16000) - 800) < 5
    with pytest.raises(AudioError, match="segment starts at 5.000 s but the file lasts 2.000 s"):
        load_audio(path, 16000, start=5.0, end=6.0)


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda p: p.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk"), "unreadable or corrupt audio"),
        (lambda p: p.write_bytes(b""), "empty file (0 bytes)"),
        (lambda p: sf.write(p, np.zeros(0, dtype=np.float32), 16000), "no samples"),
        (lambda p: sf.write(p, np.zeros(8000, dtype=np.float32), 16000), "silent"),
        (lambda p: sf.write(p, np.full(8000, np.nan, dtype=np.float32), 16000, subtype="FLOAT"), "NaN/inf samples"),
        (lambda p: None, "file not found"),
    ],
)
def test_bad_audio_is_an_audio_error_naming_the_file(tmp_path, make, reason):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(AudioError) as e:
        load_audio(path)
    assert reason in e.value.reason and str(path) in str(e.value)
