"""Registers the librosa extractors (librosa is imported on use: it compiles with numba)."""

from __future__ import annotations

import emoframe


@emoframe.hookimpl
def register_extractors(register):
    from .extractors import MFCC, LogMel, Prosody

    register(MFCC)
    register(LogMel)
    register(Prosody)
