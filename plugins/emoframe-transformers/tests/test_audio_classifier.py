"""transformers.audio_classifier: fine-tuning tiny random-weight speech encoders end to end."""

from __future__ import annotations

import numpy as np
import pytest
from tiny import make_tiny_audio

from emoframe.testing import toy_data
from emoframe_transformers.audio_classifier import AudioClassifier


@pytest.fixture(scope="module")
def wavlm(tmp_path_factory):
    return make_tiny_audio(tmp_path_factory.mktemp("wavlm"), "wavlm")


def test_it_learns_reports_and_stops_early(wavlm):
    X, y, groups = toy_data("raw_audio", n_per_class=10)
    model = AudioClassifier(model=str(wavlm), epochs=12, patience=2, lr=1e-3, batch_size=8).fit(X, y, groups)
    report = model.report()
    assert 1 <= report["best_epoch"] <= report["epochs_run"] <= 12
    assert report["epochs_run"] - report["best_epoch"] <= 2  # stopped at most `patience` epochs after the best
    assert np.mean(model.predict(X) == y) > 0.5  # four classes: chance is 0.25
    # a learning rate that changes nothing: the first epoch stays best and patience ends the loop
    still = AudioClassifier(model=str(wavlm), epochs=12, patience=2, lr=1e-12).fit(X, y, groups)
    assert still.report() == {"best_epoch": 1, "epochs_run": 3}


def test_the_front_end_is_frozen_unless_asked(wavlm):
    import torch
    from transformers import AutoModel

    X, y, groups = toy_data("raw_audio", n_per_class=4)
    before = AutoModel.from_pretrained(wavlm).feature_extractor.state_dict()

    def front_end_changed(model: AudioClassifier) -> bool:
        after = model.model_.wavlm.feature_extractor.state_dict()
        return any(not torch.equal(before[k], after[k]) for k in before)

    assert not front_end_changed(AudioClassifier(model=str(wavlm), epochs=2, lr=1e-2).fit(X, y, groups))
    assert front_end_changed(
        AudioClassifier(model=str(wavlm), epochs=2, lr=1e-2, freeze_feature_encoder=False).fit(X, y, groups)
    )


def test_long_recordings_are_scored_over_their_pieces(wavlm):
    X, y, groups = toy_data("raw_audio", n_per_class=4)
    model = AudioClassifier(model=str(wavlm), epochs=1, max_seconds=0.5).fit(X, y, groups)
    long = np.tile(X[0], 5)  # 3 s: six pieces of 0.5 s
    P = model.predict_proba([long, X[0]])
    assert P.shape == (2, 4) and np.allclose(P.sum(1), 1)


def test_whisper_fine_tunes_too(tmp_path):
    folder = make_tiny_audio(tmp_path / "whisper", "whisper")
    X, y, groups = toy_data("raw_audio", n_per_class=3)
    model = AudioClassifier(model=str(folder), epochs=1).fit(X, y, groups)
    assert model.predict_proba(X[:2]).shape == (2, 4)


def test_validation_refuses_it_in_a_text_branch(wavlm):
    from emoframe.plugin.registry import get_registry
    from emoframe.spec import PipelineSpec, check

    spec = PipelineSpec.model_validate(
        {
            "data": {"corpus": "demo"},
            "branches": {"text": {"model": {"name": "transformers.audio_classifier", "params": {"model": str(wavlm)}}}},
        }
    )
    problems = check(spec, get_registry())
    assert any("takes audio but branch 'text' is text" in p.message for p in problems), problems
