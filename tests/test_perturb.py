from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emoframe.data.audio import load_audio
from emoframe.data.manifest import Manifest
from emoframe.evaluation.perturb import Condition, add_noise, corrupt_text, perturbed_manifest

from .audio_files import tone, write_wav


@pytest.mark.parametrize("snr", [20.0, 5.0, 0.0])
def test_noise_is_mixed_at_the_requested_snr(snr):
    rng = np.random.default_rng(0)
    x = tone(1.0, amp=0.2)
    noise = rng.normal(0, 1, len(x)).astype(np.float32)
    y = add_noise(x, noise, snr)
    measured = 10 * np.log10(np.mean(x.astype(float) ** 2) / np.mean((y - x).astype(float) ** 2))
    assert measured == pytest.approx(snr, abs=0.05)


def test_text_corruption_rates_and_determinism():
    text = " ".join(f"w{i}" for i in range(1000))
    dropped = corrupt_text(text, "dropout", 0.3, [], np.random.default_rng(1))
    assert 0.25 < 1 - len(dropped.split()) / 1000 < 0.35
    subst = corrupt_text(text, "substitution", 0.5, ["zzz"], np.random.default_rng(1))
    assert 0.45 < subst.split().count("zzz") / 1000 < 0.55
    assert dropped == corrupt_text(text, "dropout", 0.3, [], np.random.default_rng(1))


def test_perturbed_manifest_keeps_ids_and_is_deterministic(tmp_path):
    rows = [
        {
            "id": f"u{i}",
            "audio": str(write_wav(tmp_path / f"u{i}.wav", tone(0.5, freq=150 + 50 * i))),
            "text": "one two three four",
            "label": "a",
            "speaker": f"s{i}",
        }
        for i in range(4)
    ]
    m = Manifest.from_frame(pd.DataFrame(rows))
    white = perturbed_manifest(m, Condition("audio", "white", 0.0), tmp_path / "p", seed=3)
    babble = perturbed_manifest(m, Condition("audio", "babble", 10.0), tmp_path / "p", seed=3)
    again = perturbed_manifest(m, Condition("audio", "white", 0.0), tmp_path / "p2", seed=3)
    assert white.ids.tolist() == m.ids.tolist()
    a, b = load_audio(white.frame["audio"][0]), load_audio(again.frame["audio"][0])
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, load_audio(m.frame["audio"][0]))
    assert not np.allclose(load_audio(babble.frame["audio"][0]), load_audio(m.frame["audio"][0]))
    text = perturbed_manifest(m, Condition("text", "dropout", 0.5), tmp_path / "p", seed=3)
    assert text.frame["audio"].tolist() == m.frame["audio"].tolist() and text.texts != m.texts
