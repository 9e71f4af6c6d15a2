from __future__ import annotations

import numpy as np
import pandas as pd
import soundfile as sf

from emoframe.data.manifest import Manifest
from emoframe.features import FeatureCache, extract_features

from . import toy_plugin
from .audio_files import tone, write_wav


def test_bad_files_are_recorded_and_the_rest_is_extracted_and_cached(tmp_path):
    good = [write_wav(tmp_path / f"g{i}.wav", tone(0.5, freq=200 + 50 * i)) for i in range(4)]
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF....WAVEfmt garbage")
    silent = write_wav(tmp_path / "silent.wav", np.zeros(8000, dtype=np.float32))
    nan = tmp_path / "nan.wav"
    sf.write(nan, np.full(800, np.nan, dtype=np.float32), 16000, subtype="FLOAT")
    vanishing = write_wav(tmp_path / "gone.wav")
    paths = [*good[:2], corrupt, silent, nan, vanishing, *good[2:]]
    m = Manifest.from_frame(
        pd.DataFrame(
            {"id": [p.stem for p in paths], "audio": [str(p) for p in paths], "text": "t", "label": "x", "speaker": "s"}
        )
    )
    vanishing.unlink()  # disappears after the manifest was validated
    cache = FeatureCache(tmp_path / "cache")
    for jobs in (1, 2):
        result = extract_features(toy_plugin.Energy(), m, jobs=jobs, cache=cache)
        assert result.ids == ["g0", "g1", "g2", "g3"]
        assert set(result.failures) == {"corrupt", "silent", "nan", "gone"}
        assert "corrupt" in result.failures["corrupt"] and "silent" in result.failures["silent"]
        assert "NaN" in result.failures["nan"] and "not found" in result.failures["gone"]
    assert cache.info()["toy.energy"]["entries"] == 4


def test_parallel_equals_serial_and_reports_progress(tmp_path):
    paths = [write_wav(tmp_path / f"u{i}.wav", tone(0.3 + 0.05 * i, freq=120 + 30 * i)) for i in range(12)]
    m = Manifest.from_frame(
        pd.DataFrame(
            {"id": [p.stem for p in paths], "audio": [str(p) for p in paths], "text": "t", "label": "x", "speaker": "s"}
        )
    )
    calls = []
    serial = extract_features(toy_plugin.Frames(), m, jobs=1)
    parallel = extract_features(toy_plugin.Frames(), m, jobs=2, progress=lambda d, t: calls.append((d, t)))
    assert serial.ids == parallel.ids
    for a, b in zip(serial.features, parallel.features):
        np.testing.assert_array_equal(a, b)
    assert calls[-1] == (12, 12) and all(t == 12 for _, t in calls)


class Exploding(toy_plugin.Energy):
    """Raises on short signals (a plugin bug)."""

    name = "toy.exploding"

    def extract(self, x):
        if len(x) < 6000:
            raise ValueError("too short for me")
        return super().extract(x)


def test_a_raising_extractor_loses_only_that_sample(tmp_path):
    paths = [write_wav(tmp_path / "long.wav", tone(0.5)), write_wav(tmp_path / "short.wav", tone(0.2))]
    m = Manifest.from_frame(
        pd.DataFrame(
            {"id": ["long", "short"], "audio": [str(p) for p in paths], "text": "t", "label": "x", "speaker": "s"}
        )
    )
    result = extract_features(Exploding(), m, jobs=1)
    assert result.ids == ["long"]
    (reason,) = result.failures.values()
    assert list(result.failures) == ["short"]  # named: the component, the exception, where, and the call
    assert reason.startswith("toy.exploding raised ValueError: too short for me (at test_extract.py:")
    assert reason.endswith(" in extract")


def test_text_only_rows_fail_audio_extraction_with_a_reason(tmp_path):
    m = Manifest.from_frame(
        pd.DataFrame({"id": ["a"], "audio": [""], "text": ["hi"], "label": ["x"], "speaker": ["s"]}),
        require_audio=False,
    )
    result = extract_features(toy_plugin.Energy(), m, jobs=1)
    assert result.ids == [] and "no audio file" in result.failures["a"]
