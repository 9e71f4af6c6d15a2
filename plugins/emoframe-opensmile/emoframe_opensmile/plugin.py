"""Registers the openSMILE extractors (the module stays light: opensmile is imported on use)."""

from __future__ import annotations

import emoframe


@emoframe.hookimpl
def register_extractors(register):
    from .extractors import ComParE, EGeMAPS, EGeMAPSLLD

    register(EGeMAPS)
    register(EGeMAPSLLD)
    register(ComParE)
