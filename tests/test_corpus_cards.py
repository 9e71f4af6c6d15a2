"""Loaders state their native labels and a default map onto the shared set; `corpus info --spec` shows
several corpora side by side (tiny fabricated folder trees named like the real corpora)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from emoframe.cli.main import main
from emoframe.data.cards import card_rows, corpus_card, sample_rate_note

from .audio_files import write_wav

SHARED = {"angry", "happy", "sad", "neutral", "fearful", "disgust", "surprised", "calm", "bored"}


@pytest.mark.parametrize("name", ["emodb", "ravdess", "cremad", "tess", "meld", "demo"])
def test_each_registered_loader_states_native_labels_onto_the_shared_set(registry, name):
    cls = registry.get(name).cls
    assert cls.native_labels and set(cls.native_labels.values()) <= SHARED
    assert cls.language in ("de", "en")


def test_the_generic_manifest_states_no_native_labels(registry):
    cls = registry.get("manifest").cls
    assert cls.native_labels == {} and "label_map" in (cls.__doc__ or "")


def fabricate(tmp_path):
    for f in ("03a01Fa", "08b10Wb", "16a05Tc", "03a02Na"):
        write_wav(tmp_path / "emodb" / "wav" / f"{f}.wav", sr=16000)
    for f in ("OAF_back_angry", "YAF_dog_happy", "OAF_bar_sad"):
        write_wav(tmp_path / "tess" / f"{f}.wav", sr=24414)


def test_cards_side_by_side_with_classes_speakers_languages_durations_and_rates(registry, tmp_path):
    fabricate(tmp_path)
    emodb = registry.create("emodb", {"root": str(tmp_path / "emodb")}, kind="corpus").load()
    tess = registry.create("tess", {"root": str(tmp_path / "tess")}, kind="corpus").load()
    a, b = corpus_card(emodb, "emodb", "de"), corpus_card(tess, "tess", "en")
    assert a.classes == {"angry": 1, "happy": 1, "neutral": 1, "sad": 1} and a.speakers == 3
    assert a.sample_rates == {16000: 4} and b.sample_rates == {24414: 3} and a.seconds_mean is not None
    headers, rows = card_rows([a, b])
    assert headers == ["", "emodb", "tess"]
    assert ["languages", "de", "en"] in rows and ["class neutral", "1", "—"] in rows
    note = sample_rate_note([a, b])
    assert note is not None and "emodb: 16000 Hz; tess: 24414 Hz" in note


def test_corpus_info_spec_shows_every_source(tmp_path):
    fabricate(tmp_path)
    spec = tmp_path / "two.yaml"
    spec.write_text(
        "data:\n"
        f"  - {{name: emodb, corpus: {{name: emodb, params: {{root: '{tmp_path / 'emodb'}'}}}}}}\n"
        f"  - {{name: tess, corpus: {{name: tess, params: {{root: '{tmp_path / 'tess'}'}}}}, "
        "label_map: {sad: null}}\n"
        "branches: {audio: {extractor: librosa.mfcc, model: sklearn.logreg}}\n"
    )
    result = CliRunner().invoke(main, ["corpus", "info", "--spec", str(spec), "--workdir", str(tmp_path / "wd")])
    assert result.exit_code == 0, result.output
    for text in ("emodb", "tess", "sample rates", "16000 Hz", "24414 Hz", "class neutral", "speakers", "languages"):
        assert text in result.output
    broken = tmp_path / "broken.yaml"
    broken.write_text(spec.read_text().replace(str(tmp_path / "tess"), str(tmp_path / "nowhere")))
    result = CliRunner().invoke(main, ["corpus", "info", "--spec", str(broken), "--workdir", str(tmp_path / "wd")])
    assert result.exit_code == 1 and "tess could not be loaded" in result.output and "nowhere" in result.output


def test_corpus_info_names_the_native_labels(tmp_path):
    fabricate(tmp_path)
    result = CliRunner().invoke(main, ["corpus", "info", "emodb", "-p", f"root={tmp_path / 'emodb'}"])
    assert result.exit_code == 0, result.output
    assert "W → angry" in result.output and "language: de" in result.output
