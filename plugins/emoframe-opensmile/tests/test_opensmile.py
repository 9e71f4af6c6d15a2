from __future__ import annotations

import numpy as np
import pytest

from emoframe.testing import check_extractor, synthetic_utterance
from emoframe_opensmile.extractors import ComParE, EGeMAPS, EGeMAPSLLD


@pytest.mark.parametrize("cls", [EGeMAPS, EGeMAPSLLD])
def test_conformance(cls):
    check_extractor(cls)


def test_dimensions_match_the_feature_sets():
    x = synthetic_utterance(2.0)
    assert EGeMAPS().extract(x).shape == (88,)
    lld = EGeMAPSLLD().extract(x)
    assert lld.ndim == 2 and lld.shape[1] == 25 and 150 < lld.shape[0] < 250  # 10 ms frames
    assert ComParE().extract(x).shape == (6373,)
    assert EGeMAPS().feature_names()[0] == "F0semitoneFrom27.5Hz_sma3nz_amean"


def test_pitch_feature_tracks_f0():
    """eGeMAPS' F0 mean is higher for a higher voice: the real openSMILE is at work."""
    sr = 16000
    t = np.arange(sr) / sr
    low = (0.3 * np.sign(np.sin(2 * np.pi * 110 * t))).astype(np.float32)
    high = (0.3 * np.sign(np.sin(2 * np.pi * 220 * t))).astype(np.float32)
    e = EGeMAPS()
    f0_low, f0_high = e.extract(low)[0], e.extract(high)[0]
    assert f0_high - f0_low == pytest.approx(12, abs=1.0)  # one octave = 12 semitones


def test_one_smile_per_instance():
    e = EGeMAPS()
    e.extract(synthetic_utterance(1.0))
    first = e.smile()
    e.extract(synthetic_utterance(1.0, seed=2))
    assert e.smile() is first
