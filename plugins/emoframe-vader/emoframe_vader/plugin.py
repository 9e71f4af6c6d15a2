"""Registers VADER's sentiment scores (extractor) and the valence rule model."""

from __future__ import annotations

import emoframe


@emoframe.hookimpl
def register_extractors(register):
    from .components import VaderScores

    register(VaderScores)


@emoframe.hookimpl
def register_models(register):
    from .components import ValenceRules

    register(ValenceRules)
