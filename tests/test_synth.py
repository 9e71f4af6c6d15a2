from __future__ import annotations

import hashlib

import numpy as np
import pytest
import soundfile as sf

from emoframe.data.manifest import load_manifest
from emoframe.data.synth import CLASSES, generate


def tree_digest(root):
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_same_seed_gives_byte_identical_files(tmp_path):
    a = generate(tmp_path / "a", seed=3, speakers=2, per_class=2)
    b = generate(tmp_path / "b", seed=3, speakers=2, per_class=2)
    c = generate(tmp_path / "c", seed=4, speakers=2, per_class=2)
    assert tree_digest(a) == tree_digest(b)
    assert tree_digest(a) != tree_digest(c)


def test_small_corpus_shape_and_documentation(tmp_path):
    root = generate(tmp_path / "demo", seed=0, speakers=2, per_class=3)
    m = load_manifest(root / "manifest.csv")
    assert len(m) == 2 * 3 * len(CLASSES)
    assert set(m.labels) == set(CLASSES) and set(m.frame["gender"]) == {"m", "f"}
    assert "NOT real speech" in (root / "README.md").read_text()
    for path in m.frame["audio"]:
        x, sr = sf.read(path)
        assert sr == 16000 and 1.5 <= len(x) / sr <= 3.5
        assert np.abs(x).max() > 0.01


@pytest.mark.slow
def test_default_demo_corpus_via_the_corpus_component(registry, tmp_path):
    m = registry.create("demo", {"root": str(tmp_path / "demo")}, kind="corpus").load()
    assert len(m) >= 480 and m.frame["speaker"].nunique() >= 10
    assert m.frame.groupby("label").size().to_dict() == {c: 120 for c in CLASSES}
    kinds = m.frame["text_kind"].value_counts(normalize=True)
    assert 0.3 < kinds["cue"] < 0.6 and kinds["sarcasm"] > 0.05 and kinds["neutral"] > 0.2
    # every class has neutral-content and contradicting transcripts: text alone cannot be perfect
    assert (m.frame.groupby("label")["text_kind"].nunique() == 4).all()


def test_emotions_move_the_acoustic_correlates(tmp_path):
    """Within one speaker, angry/happy are louder and higher than sad (the prosody model works)."""
    root = generate(tmp_path / "demo", seed=0, speakers=1, per_class=6)
    m = load_manifest(root / "manifest.csv")
    rms = {}
    for label in CLASSES:
        xs = [sf.read(p)[0] for p in m.frame[m.frame.label == label]["audio"]]
        rms[label] = np.mean([np.sqrt(np.mean(x**2)) for x in xs])
    assert rms["angry"] > rms["neutral"] > rms["sad"] and rms["happy"] > rms["sad"]
