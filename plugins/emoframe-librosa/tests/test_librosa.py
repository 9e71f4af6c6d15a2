from __future__ import annotations

import numpy as np
import pytest

from emoframe.plugin.registry import Registry
from emoframe.spec import check, parse_spec
from emoframe.testing import check_extractor, synthetic_utterance
from emoframe_librosa.extractors import MFCC, LogMel, Prosody


@pytest.mark.parametrize("cls, params", [(MFCC, None), (MFCC, {"pooling": "frames"}), (LogMel, None), (Prosody, None)])
def test_conformance(cls, params):
    check_extractor(cls, params)


def test_shapes():
    x = synthetic_utterance(2.0)
    assert MFCC().extract(x).shape == (20 * 3 * 5,)
    assert MFCC(n_mfcc=13, deltas=False).extract(x).shape == (13 * 5,)
    frames = MFCC(pooling="frames").extract(x)
    assert frames.shape[1] == 60 and 190 < frames.shape[0] < 210
    assert LogMel(n_mels=40).extract(x).shape[1] == 40


def test_prosody_f0_follows_pitch():
    sr = 16000
    t = np.arange(sr) / sr
    low = (0.3 * np.sin(2 * np.pi * 120 * t)).astype(np.float32)
    high = (0.3 * np.sin(2 * np.pi * 240 * t)).astype(np.float32)
    p = Prosody()
    assert p.extract(high)[0] - p.extract(low)[0] == pytest.approx(12, abs=0.5)


def test_output_kind_follows_params_in_validation():
    reg = Registry.from_entry_points()
    doc = {
        "data": {"corpus": "demo"},
        "branches": {
            "audio": {"extractor": {"name": "librosa.mfcc", "params": {"pooling": "frames"}}, "model": "unknown.model"}
        },
    }
    spec = parse_spec(doc)
    problems = [str(p) for p in check(spec, reg)]
    assert problems and problems[0].startswith("branches.audio.model: unknown model")
    assert MFCC(pooling="frames").output == "sequence" and MFCC().output == "vector"
