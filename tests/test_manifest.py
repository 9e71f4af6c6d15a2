from __future__ import annotations

import pandas as pd
import pytest

from emoframe.data.manifest import load_manifest
from emoframe.errors import DataError

from .audio_files import write_wav


def make_corpus(tmp_path, rows=None):
    root = tmp_path / "corpus"
    for name in ("a", "b", "c"):
        write_wav(root / "wav" / f"{name}.wav")
    rows = rows or [
        {"id": "a", "audio": "wav/a.wav", "text": "hello there", "label": "happy", "speaker": "s1"},
        {"id": "b", "audio": "wav/b.wav", "text": "", "label": "sad", "speaker": "s2"},
        {"id": "c", "audio": "wav/c.wav", "text": "ok", "label": "angry", "speaker": "s2"},
    ]
    pd.DataFrame(rows).to_csv(root / "manifest.csv", index=False)
    return root


def test_valid_manifest_resolves_relative_paths_and_counts_empty_text(tmp_path):
    root = make_corpus(tmp_path)
    m = load_manifest(root / "manifest.csv")
    assert len(m) == 3 and m.has_audio
    assert m.frame.loc[0, "audio"] == str((root / "wav" / "a.wav").resolve())
    # empty transcripts are counted, not warned about on load: only a text branch reads them (test_trust_input.py)
    assert len(m.empty_transcripts) == 1 and not m.warnings


def test_parquet_manifest(tmp_path):
    root = make_corpus(tmp_path)
    pd.read_csv(root / "manifest.csv", keep_default_na=False).to_parquet(root / "m.parquet")
    assert load_manifest(root / "m.parquet").ids.tolist() == ["a", "b", "c"]


def test_every_problem_is_reported_at_once(tmp_path):
    root = make_corpus(
        tmp_path,
        rows=[
            {"id": "a", "audio": "wav/a.wav", "text": "x", "label": "happy", "speaker": "s1", "start": 1, "end": 0.5},
            {"id": "a", "audio": "wav/b.wav", "text": "x", "label": "", "speaker": "s1"},
            {"id": "c", "audio": "wav/missing.wav", "text": "x", "label": "sad", "speaker": ""},
            {"id": "d", "audio": "../../etc/passwd", "text": "x", "label": "sad", "speaker": "s3"},
        ],
    )
    with pytest.raises(DataError) as e:
        load_manifest(root / "manifest.csv")
    assert "missing.wav" not in str(e.value)  # a missing file is a warning (its row is left out), not a stop
    msg = str(e.value)
    assert str(root / "manifest.csv") in msg
    for expected in (
        "duplicate id(s): a",
        "empty label in 1 row(s): a",
        "empty speaker in 1 row(s): c",
        "escapes the corpus folder",
        "segment end ≤ start in row(s) a",
    ):
        assert expected in msg, expected


def test_missing_columns_are_named(tmp_path):
    (tmp_path / "m.csv").write_text("id,audio,label\nx,y,z\n")
    with pytest.raises(DataError, match="missing column\\(s\\) text, speaker"):
        load_manifest(tmp_path / "m.csv")


def test_text_only_manifest_and_keep_classes(tmp_path):
    (tmp_path / "m.csv").write_text("id,audio,text,label,speaker\n1,,hi,happy,a\n2,,no,sad,b\n3,,meh,neutral,b\n")
    m = load_manifest(tmp_path / "m.csv", require_audio=False)
    assert not m.has_audio
    assert m.keep_classes(["happy", "sad"]).labels.tolist() == ["happy", "sad"]
    with pytest.raises(DataError, match="class\\(es\\) angry not in the corpus"):
        m.keep_classes(["angry"])
    assert not load_manifest(tmp_path / "m.csv").has_audio  # text-only loads by default
    with pytest.raises(DataError, match="no audio path in 3 row"):
        load_manifest(tmp_path / "m.csv", require_audio=True)


def test_unreadable_manifest(tmp_path):
    with pytest.raises(DataError, match="manifest not found"):
        load_manifest(tmp_path / "nope.csv")
