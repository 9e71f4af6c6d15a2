"""Corpus loaders on tiny fixture trees named like the real corpora, and on the real copies."""

from __future__ import annotations

import pytest

from emoframe.errors import DataError

from .audio_files import write_wav
from .conftest import SHARED_DATA


def load(registry, name, **params):
    return registry.create(name, params, kind="corpus").load()


def test_emodb_layout(registry, tmp_path):
    for f in ("03a01Fa", "08b10Wb", "16a05Tc"):
        write_wav(tmp_path / "wav" / f"{f}.wav")
    write_wav(tmp_path / "wav" / "notes.wav")
    m = load(registry, "emodb", root=str(tmp_path))
    rows = m.frame.set_index("id")
    assert rows.loc["03a01Fa", ["label", "speaker", "text"]].tolist() == [
        "happy",
        "emodb03",
        "Der Lappen liegt auf dem Eisschrank.",
    ]
    assert rows.loc["08b10Wb", "label"] == "angry" and rows.loc["16a05Tc", "label"] == "sad"
    assert any("1 file(s) not named like this corpus were skipped: notes.wav" in w for w in m.warnings)


def test_ravdess_layout_skips_song_and_maps_codes(registry, tmp_path):
    write_wav(tmp_path / "Actor_12" / "03-01-05-01-02-01-12.wav")
    write_wav(tmp_path / "Actor_01" / "03-01-02-02-01-02-01.wav")
    write_wav(tmp_path / "Actor_01" / "03-02-05-01-01-01-01.wav")  # song: skipped
    m = load(registry, "ravdess", root=str(tmp_path)).frame.set_index("id")
    row = m.loc["03-01-05-01-02-01-12"]
    assert row[["label", "speaker", "text", "gender"]].tolist() == [
        "angry",
        "ravdess12",
        "Dogs are sitting by the door.",
        "f",
    ]
    assert m.loc["03-01-02-02-01-02-01", "label"] == "calm"
    assert "03-02-05-01-01-01-01" not in m.index


def test_cremad_layout(registry, tmp_path):
    write_wav(tmp_path / "AudioWAV" / "1001_DFA_ANG_XX.wav")
    write_wav(tmp_path / "AudioWAV" / "1091_IEO_HAP_HI.wav")
    m = load(registry, "cremad", root=str(tmp_path)).frame.set_index("id")
    assert m.loc["1001_DFA_ANG_XX", ["label", "speaker", "text"]].tolist() == [
        "angry",
        "cremad1001",
        "Don't forget a jacket.",
    ]
    assert m.loc["1091_IEO_HAP_HI", "text"] == "It's eleven o'clock."


def test_tess_layout(registry, tmp_path):
    write_wav(tmp_path / "OAF_angry" / "OAF_back_angry.wav")
    write_wav(tmp_path / "YAF_pleasant_surprised" / "YAF_dog_ps.wav")
    m = load(registry, "tess", root=str(tmp_path)).frame.set_index("id")
    assert m.loc["OAF_back_angry", ["label", "speaker", "text"]].tolist() == ["angry", "tessOAF", "Say the word back."]
    assert m.loc["YAF_dog_ps", "label"] == "surprised"


MELD_HEADER = "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\n"


def test_meld_text_only_and_with_audio(registry, tmp_path):
    rows = (
        '1,"Oh my God, I’m so happy!",Rachel,joy,positive,0,0,1,1,"00:01","00:02"\n'
        '2,Whatâ€™s wrong?,Ross,sadness,negative,0,1,1,1,"00:03","00:04"\n'
    )
    for split in ("train", "dev", "test"):
        (tmp_path / f"{split}_sent_emo.csv").write_text(MELD_HEADER + rows, encoding="utf-8")
    m = load(registry, "meld", root=str(tmp_path))
    assert len(m) == 6 and not m.has_audio
    assert m.frame.loc[0, ["id", "label", "speaker", "split"]].tolist() == [
        "train_dia0_utt0",
        "happy",
        "Rachel",
        "train",
    ]
    assert "â€™" in m.frame.loc[1, "text"]  # mis-encoded text survives as it is
    audio = tmp_path / "audio"
    for split in ("train", "dev", "test"):
        for u in (0, 1):
            write_wav(audio / split / f"dia0_utt{u}.wav")
    with_audio = load(registry, "meld", root=str(tmp_path), audio_root=str(audio))
    assert with_audio.has_audio
    (audio / "test" / "dia0_utt1.wav").unlink()
    warned = load(registry, "meld", root=str(tmp_path), audio_root=str(audio))
    assert any("audio file not found for 1 row" in w and "dia0_utt1.wav" in w for w in warned.warnings)


def test_loader_errors_are_clear(registry, tmp_path):
    with pytest.raises(DataError, match="set params.root"):
        load(registry, "emodb")
    with pytest.raises(DataError, match="no files named like this corpus"):
        load(registry, "emodb", root=str(tmp_path))
    with pytest.raises(DataError, match="train_sent_emo.csv not found"):
        load(registry, "meld", root=str(tmp_path))


needs_emodb = pytest.mark.skipif(not (SHARED_DATA / "emodb" / "wav").is_dir(), reason="../shared/data/emodb absent")
needs_meld = pytest.mark.skipif(not (SHARED_DATA / "meld-text").is_dir(), reason="../shared/data/meld-text absent")


@pytest.mark.realdata
@needs_emodb
def test_real_emodb_loads_all_535_files(registry):
    m = load(registry, "emodb", root=str(SHARED_DATA / "emodb"))
    assert len(m) == 535 and m.frame["speaker"].nunique() == 10
    assert m.frame["label"].value_counts().to_dict() == {
        "angry": 127,
        "bored": 81,
        "neutral": 79,
        "happy": 71,
        "fearful": 69,
        "sad": 62,
        "disgust": 46,
    }
    sentences = dict(
        line.split("\t")
        for line in (SHARED_DATA / "emodb" / "sentences.tsv").read_text(encoding="utf-8").splitlines()[1:]
    )
    assert all(row.text == sentences[row.text_code] for row in m.frame.itertuples())
    row = m.frame.set_index("id").loc["03a01Fa"]
    assert (row.speaker, row.label, row.gender) == ("emodb03", "happy", "m")


@pytest.mark.realdata
@needs_meld
def test_real_meld_loads_13708_rows_text_only(registry):
    m = load(registry, "meld", root=str(SHARED_DATA / "meld-text"))
    assert len(m) == 13708 and not m.has_audio
    assert m.frame["split"].value_counts().to_dict() == {"train": 9989, "test": 2610, "dev": 1109}
    train = m.frame[m.frame["split"] == "train"]["label"].value_counts().to_dict()
    assert train == {
        "neutral": 4710,
        "happy": 1743,
        "surprised": 1205,
        "angry": 1109,
        "sad": 683,
        "disgust": 271,
        "fearful": 268,
    }
    assert m.frame["id"].is_unique
