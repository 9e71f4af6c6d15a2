from __future__ import annotations

import io
import struct

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
        (lambda p: p.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk"), "corrupt: the file ends inside its header"),
        (lambda p: p.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk\x00\x00\x00\x00"), "unreadable or corrupt audio"),
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


def test_gsm_wav_that_cannot_seek_is_read(tmp_path):
    path = tmp_path / "gsm.wav"
    sf.write(path, tone(0.5), 16000, subtype="GSM610")
    assert abs(len(load_audio(path)) - 8000) < 400


# -- short reads (issue 26 §4): a file holding less audio than its header says is refused ----------------------


def wav_bytes(seconds: float = 0.5, subtype: str = "PCM_16", channels: int = 1) -> bytes:
    x = tone(seconds)
    buffer = io.BytesIO()
    sf.write(buffer, np.stack([x] * channels, axis=1), 16000, format="WAV", subtype=subtype)
    return buffer.getvalue()


def encoded(fmt: str, subtype: str) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, tone(0.5), 16000, format=fmt, subtype=subtype)
    return buffer.getvalue()


def patched(raw: bytes, offset: int, value: int) -> bytes:
    return raw[:offset] + struct.pack("<I", value) + raw[offset + 4 :]


WAV = wav_bytes()  # 44-byte header: RIFF size at 4, data size at 40, 16,000 bytes of audio
MP3 = encoded("MP3", "MPEG_LAYER_III")  # Xing header first: it states the frame count
RAW_MP3 = MP3[MP3.find(MP3[:2], 4) :]  # the stream without the Xing frame: no length stated anywhere

LIST = b"LIST" + struct.pack("<I", 12) + b"INFOISFT" + struct.pack("<I", 0)


@pytest.mark.parametrize(
    "data, reason",
    [
        pytest.param(
            WAV[: len(WAV) // 2],
            "cut short: the header says 0.500 s of audio (16000 bytes) but the file",
            id="cut in half",
        ),
        pytest.param(WAV[:-1], "cut short: the header says 0.500 s of audio (16000 bytes)", id="cut mid-frame"),
        pytest.param(WAV[:44], "holds 0.000 s (0 bytes)", id="cut after the header"),
        pytest.param(WAV[:30], "cut short or corrupt: the file ends inside its header", id="cut inside the header"),
        pytest.param(wav_bytes(subtype="FLOAT")[:10_000], "cut short", id="float cut"),
        pytest.param(wav_bytes(subtype="PCM_24", channels=2)[:20_001], "cut short", id="stereo 24-bit cut"),
        pytest.param(
            patched(WAV, 40, 8000), "8000 byte(s) after the audio data are not part", id="header claims fewer frames"
        ),
        pytest.param(patched(WAV, 40, 0), "16000 byte(s) after the audio data", id="data size 0, audio after it"),
        pytest.param(
            patched(WAV, 40, 15999) + b"\0", "not a whole number of 2-byte frames", id="data not whole frames"
        ),
        pytest.param(patched(WAV, 40, 0xFFFFFFFF)[:-1], "cut short mid-frame", id="streamed, cut mid-frame"),
        pytest.param(encoded("FLAC", "PCM_16")[:-100], "unreadable or corrupt audio", id="flac cut"),
        pytest.param(
            encoded("OGG", "VORBIS")[:3454], "without its end-of-stream page", id="ogg cut at a page boundary"
        ),
        pytest.param(encoded("OGG", "VORBIS")[:-10], "without its end-of-stream page", id="ogg cut mid-page"),
        pytest.param(encoded("AIFF", "PCM_16")[:5000], "cut short: the header says 0.500 s", id="aiff cut"),
        pytest.param(encoded("AU", "PCM_16")[:5000], "cut short", id="au cut"),
        pytest.param(encoded("W64", "PCM_16")[:5000], "cut short", id="w64 cut"),
        pytest.param(encoded("CAF", "PCM_16")[:-3], "cut short", id="caf cut"),
        pytest.param(MP3[:-50], "cut short: the MPEG audio stream's last frame is cut off", id="mp3 cut"),
        pytest.param(RAW_MP3[:-50], "last frame is cut off", id="mp3 without a Xing header, cut mid-frame"),
    ],
)
def test_a_short_file_is_refused_never_read_shorter(tmp_path, data, reason):
    path = tmp_path / "damaged.audio"
    path.write_bytes(data)
    with pytest.raises(AudioError) as e:
        load_audio(path)
    assert reason in e.value.reason and str(path) in str(e.value) and str(path) not in e.value.reason


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(patched(WAV, 4, 0), id="RIFF size 0"),
        pytest.param(patched(WAV, 4, 10**8), id="RIFF size too large"),
        pytest.param(patched(WAV, 4, 100), id="RIFF size too small"),
        pytest.param(
            patched(patched(WAV, 40, 0xFFFFFFFF), 4, 0xFFFFFFFF), id="streamed: data size unknown (0xFFFFFFFF)"
        ),
        pytest.param(WAV + LIST, id="a metadata chunk after the audio"),
        pytest.param(WAV + LIST[:13], id="a metadata chunk after the audio, cut"),
        pytest.param(WAV + b"\0" * 512, id="zero padding after the audio"),
        pytest.param(WAV + b"TAG" + b"\0" * 125, id="an ID3v1 tag after the audio"),
        pytest.param(WAV + b"\x07", id="a byte after the audio, less than a frame"),
    ],
)
def test_harmless_container_quirks_read_the_whole_recording(tmp_path, data):
    whole, quirky = tmp_path / "whole.wav", tmp_path / "quirky.wav"
    whole.write_bytes(WAV)
    quirky.write_bytes(data)
    np.testing.assert_array_equal(load_audio(quirky), load_audio(whole))


def test_a_reason_never_holds_the_path(tmp_path):
    """The same fault on two files is the same reason (summaries group on it); the path is beside it."""
    reasons = set()
    for name in ("a.wav", "b.wav"):
        path = tmp_path / name
        path.write_bytes(b"hello, this is not audio")
        with pytest.raises(AudioError) as e:
            load_audio(path)
        assert e.value.path == str(path) and name not in e.value.reason
        reasons.add(e.value.reason)
    assert reasons == {"unreadable or corrupt audio (Format not recognised.); re-export it as WAV/FLAC"}
    (tmp_path / "dir.wav").mkdir()
    with pytest.raises(AudioError, match="a folder, not an audio file"):
        load_audio(tmp_path / "dir.wav")


def test_an_mp3_cut_between_two_frames_is_refused_by_its_xing_frame_count(tmp_path):
    # the file is MPEG-2 Layer III at 16 kHz: a frame is 72 × bitrate / rate bytes, + 1 when padded
    kbps = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
    starts = [0]
    while starts[-1] + 4 <= len(MP3) and MP3[starts[-1]] == 0xFF:
        header = MP3[starts[-1] : starts[-1] + 4]
        starts.append(starts[-1] + 72 * kbps[header[2] >> 4] * 1000 // 16000 + ((header[2] >> 1) & 1))
    assert starts[-1] == len(MP3)  # every frame found
    path = tmp_path / "cut.mp3"
    path.write_bytes(MP3[: next(p for p in starts if p > len(MP3) // 2)])  # whole frames: only the count shows it
    with pytest.raises(AudioError, match="cut short or damaged: the header says 8000 frames"):
        load_audio(path)
