from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emoframe.data.manifest import Manifest, load_manifest
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


# -- the path rule: a relative audio path resolves inside the manifest's folder or is refused ---------------


def load_one(root, audio: str):
    """The manifest of one row whose audio cell is ``audio``, loaded from ``root`` (a text-only load, so
    only the path rule speaks)."""
    pd.DataFrame([{"id": "x", "audio": audio, "text": "t", "label": "sad", "speaker": "s"}]).to_csv(
        root / "manifest.csv", index=False
    )
    return load_manifest(root / "manifest.csv")


def test_one_level_up_is_refused_even_when_the_file_exists(tmp_path):
    root = make_corpus(tmp_path)
    write_wav(tmp_path / "outside.wav")  # the corpus folder's parent: one level up
    for audio in ("../outside.wav", "wav/../../outside.wav", "./../outside.wav"):
        with pytest.raises(DataError) as e:
            load_one(root, audio)
        assert str(e.value) == (
            f"{root / 'manifest.csv'}: row x: audio path '{audio}' escapes the corpus folder {root.resolve()} (a "
            "symlink counts where it points); keep audio inside the manifest's folder or use an absolute path"
        )


def test_an_absolute_path_is_kept_as_written(tmp_path):
    """The documented exception (docs/data.md): an absolute path is the user's explicit choice."""
    root = make_corpus(tmp_path)
    outside = write_wav(tmp_path / "elsewhere" / "x.wav")
    assert load_one(root, str(outside)).frame.loc[0, "audio"] == str(outside)
    # a frame built in Python without a folder to resolve against keeps a relative path as it is
    frame = pd.DataFrame([{"id": "x", "audio": "wav/a.wav", "text": "t", "label": "sad", "speaker": "s"}])
    assert Manifest.from_frame(frame, require_audio=False).frame.loc[0, "audio"] == "wav/a.wav"


def test_a_symlink_out_of_the_folder_is_refused_and_one_inside_is_followed(tmp_path):
    root = make_corpus(tmp_path)
    outside = write_wav(tmp_path / "elsewhere" / "x.wav")
    (root / "wav" / "link.wav").symlink_to(outside)
    (root / "linked_dir").symlink_to(outside.parent, target_is_directory=True)
    (root / "wav" / "inner.wav").symlink_to(root / "wav" / "a.wav")
    for audio in ("wav/link.wav", "linked_dir/x.wav"):
        with pytest.raises(DataError, match=r"escapes the corpus folder .* \(a symlink counts where it points\)"):
            load_one(root, audio)
    assert load_one(root, "wav/inner.wav").frame.loc[0, "audio"] == str((root / "wav" / "a.wav").resolve())


def test_a_symlink_loop_and_a_nul_byte_are_refused_by_name(tmp_path):
    root = make_corpus(tmp_path)
    (root / "loop").symlink_to(root / "loop")
    with pytest.raises(
        DataError, match="^[^:]*manifest.csv: row x: audio path 'loop/x.wav' cannot be resolved \\(.+\\)$"
    ):
        load_one(root, "loop/x.wav")
    frame = pd.DataFrame([{"id": "x", "audio": "wav/a\x00.wav", "text": "t", "label": "sad", "speaker": "s"}])
    with pytest.raises(DataError) as e:
        Manifest.from_frame(frame, root=root, require_audio=False)
    assert (
        str(e.value) == "manifest: row x: audio path 'wav/a\\x00.wav' holds a NUL character; no file can have that name"
    )
    frame.loc[0, "audio"] = "/abs/a\x00.wav"  # absolute or not
    with pytest.raises(DataError, match="holds a NUL character"):
        Manifest.from_frame(frame, root=root, require_audio=False)


PATH_PARTS = st.sampled_from(["..", ".", "wav", "a.wav", "", "~", " ", "x y", "\\", "..\\..", "é", "\x00", "//"])


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(parts=st.lists(PATH_PARTS, min_size=1, max_size=6), lead=st.sampled_from(["", "/", "./"]))
def test_any_path_resolves_inside_the_folder_or_is_refused(tmp_path_factory, parts, lead):
    """Property: a relative path string either resolves inside the manifest's folder or is refused with
    a DataError naming the row; an absolute one is kept; nothing else can happen."""
    root = tmp_path_factory.getbasetemp().resolve() / "prop" / "corpus"
    (root / "wav").mkdir(parents=True, exist_ok=True)
    audio = lead + "/".join(parts)
    frame = pd.DataFrame([{"id": "row1", "audio": audio, "text": "t", "label": "sad", "speaker": "s"}])
    try:
        m = Manifest.from_frame(frame, root=root, require_audio=False)
    except DataError as exc:
        assert "row row1: audio path" in str(exc), str(exc)
        return
    got, written = m.frame.loc[0, "audio"], audio.strip()
    if not written:
        assert got == ""
    elif Path(written).is_absolute():
        assert Path(got) == Path(written)
    else:
        assert Path(got).is_absolute() and Path(got).resolve().is_relative_to(root), got
