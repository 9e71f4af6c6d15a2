"""Registers the transformers components (transformers is imported on use)."""

from __future__ import annotations

import emoframe


@emoframe.hookimpl
def register_extractors(register):
    from .audio import AudioEncoder
    from .embed import SentenceEmbedding

    register(SentenceEmbedding)
    register(AudioEncoder)


@emoframe.hookimpl
def register_models(register):
    from .audio_classifier import AudioClassifier
    from .classifier import SequenceClassifier

    register(SequenceClassifier)
    register(AudioClassifier)


@emoframe.hookimpl
def register_transcribers(register):
    from .asr import WhisperTranscriber

    register(WhisperTranscriber)
