"""Registers the scikit-learn models and the TF-IDF text extractor."""

from __future__ import annotations

import emoframe


@emoframe.hookimpl
def register_models(register):
    from .models import MLP, SVC, LogReg, RandomForest

    for model in (SVC, LogReg, RandomForest, MLP):
        register(model)


@emoframe.hookimpl
def register_extractors(register):
    from .tfidf import Tfidf

    register(Tfidf)
