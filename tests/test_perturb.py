from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emoframe.data.audio import load_audio
from emoframe.data.manifest import Manifest
from emoframe.data.perturb import COLUMN, Condition, add_noise, corrupt_text, perturbed_manifest, row_audio

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
    before = sorted(p.name for p in tmp_path.rglob("*"))
    white = perturbed_manifest(m, Condition("audio", "white", 0.0), seed=3)
    babble = perturbed_manifest(m, Condition("audio", "babble", 10.0), seed=3)
    again = perturbed_manifest(m, Condition("audio", "white", 0.0), seed=3)
    other_seed = perturbed_manifest(m, Condition("audio", "white", 0.0), seed=4)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written: noise is mixed in on read
    assert white.ids.tolist() == m.ids.tolist()
    assert white.frame["audio"].tolist() == m.frame["audio"].tolist()  # the originals, perturbed on read
    a, b = row_audio(white, 0, 16000), row_audio(again, 0, 16000)
    np.testing.assert_array_equal(a, b)
    clean = load_audio(m.frame["audio"][0])
    assert not np.allclose(a, clean)
    assert not np.allclose(a, row_audio(other_seed, 0, 16000))
    assert not np.allclose(row_audio(babble, 0, 16000), clean)
    np.testing.assert_array_equal(row_audio(m, 0, 16000), clean)  # clean rows read as they are
    text = perturbed_manifest(m, Condition("text", "dropout", 0.5), seed=3)
    assert text.frame["audio"].tolist() == m.frame["audio"].tolist() and text.texts != m.texts
    assert COLUMN not in text.frame


def test_babble_is_made_of_other_speakers_and_two_segments_differ(tmp_path):
    path = str(write_wav(tmp_path / "long.wav", tone(2.0, freq=200)))
    rows = [
        {"id": "a", "audio": path, "text": "x", "label": "a", "speaker": "s1", "start": 0.0, "end": 1.0},
        {"id": "b", "audio": path, "text": "x", "label": "a", "speaker": "s1", "start": 1.0, "end": 2.0},
    ] + [
        {"id": f"o{i}", "audio": str(write_wav(tmp_path / f"o{i}.wav", tone(0.5, freq=300 + 40 * i))),
         "text": "x", "label": "b", "speaker": f"t{i}", "start": None, "end": None}
        for i in range(3)
    ]  # fmt: skip
    m = Manifest.from_frame(pd.DataFrame(rows))
    babble = perturbed_manifest(m, Condition("audio", "babble", 5.0), seed=0)
    import json

    sources = [s[0] for s in json.loads(babble.frame[COLUMN][0])["sources"]]
    assert sources and path not in sources  # never the speaker's own voice
    white = perturbed_manifest(m, Condition("audio", "white", 5.0), seed=0)
    assert not np.allclose(row_audio(white, 0, 16000) - load_audio(path, 16000, 0.0, 1.0),
                           row_audio(white, 1, 16000) - load_audio(path, 16000, 1.0, 2.0))  # fmt: skip


def test_a_user_column_named_like_emoframes_is_dropped(tmp_path):
    wav = write_wav(tmp_path / "u.wav", tone(0.5))
    (tmp_path / "m.csv").write_text(f"id,audio,text,label,speaker,{COLUMN}\nu,{wav.name},hi,a,s,not json\n")
    from emoframe.data.manifest import load_manifest

    m = load_manifest(tmp_path / "m.csv")
    assert COLUMN not in m.frame
    np.testing.assert_array_equal(row_audio(m, 0, 16000), load_audio(wav))


def test_the_noise_algorithm_is_part_of_the_run_key(tmp_path, monkeypatch):
    """Robustness figures come from how noise is made: another algorithm version is another run."""
    from emoframe.bench import runner
    from emoframe.plugin.registry import get_registry
    from emoframe.spec import parse_spec, pipelines_of

    rows = [{"id": f"u{i}", "audio": str(write_wav(tmp_path / f"u{i}.wav", tone(0.5, freq=150 + 50 * i))),
             "text": "a b", "label": "ab"[i % 2], "speaker": f"s{i}"} for i in range(4)]  # fmt: skip
    m = Manifest.from_frame(pd.DataFrame(rows))
    reg = get_registry()
    doc = {
        "data": {"corpus": "demo"},
        "branches": {"audio": {"extractor": "opensmile.egemaps", "model": "sklearn.svc"}},
    }
    plain, noisy = parse_spec(doc), parse_spec(doc | {"robustness": {"snr_db": [10]}})
    keys = {name: runner.run_key(s, [m], pipelines_of(s, reg), reg) for name, s in (("plain", plain), ("noisy", noisy))}
    monkeypatch.setattr(runner, "PERTURBATION_VERSION", "next")
    assert runner.run_key(plain, [m], pipelines_of(plain, reg), reg) == keys["plain"]  # no robustness: unaffected
    assert runner.run_key(noisy, [m], pipelines_of(noisy, reg), reg) != keys["noisy"]
