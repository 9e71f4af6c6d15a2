"""A throwaway plugin that misbehaves on purpose: raise, hang, leak or kill its process.

``fault.text`` extracts tiny text features and misbehaves on transcripts containing
``trigger``; ``fault.model`` is a nearest-centroid model that misbehaves in ``fit``.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Literal

import numpy as np
from pydantic import Field

import emoframe
from emoframe import FeatureExtractor, Params

from .toy_plugin import Centroid

Mode = Literal["ok", "raise", "exit", "segv", "hang", "leak", "nan", "slow"]
_hoard: list[bytearray] = []


def misbehave(mode: str) -> None:
    if mode == "raise":
        raise RuntimeError("deliberate failure")
    if mode == "exit":
        os._exit(3)
    if mode == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    if mode == "hang":
        time.sleep(3600)
    if mode == "slow":
        time.sleep(4)
    if mode == "leak":
        _hoard.append(bytearray(200_000_000))


class FaultyText(FeatureExtractor):
    """Length and letter statistics of a transcript; misbehaves on transcripts with the trigger word."""

    name = "fault.text"
    version = "1"
    modality = "text"
    output = "vector"

    class Params(Params):
        mode: Mode = "ok"
        trigger: str = Field("the", description="misbehave on transcripts containing this word")

    def extract(self, x):
        if self.params.trigger in x.lower().split():
            misbehave(self.params.mode)
            if self.params.mode == "nan":
                return np.full(3, np.nan, dtype=np.float32)
        words = x.split() or [""]
        return np.array([len(x), len(words), sum(c in "aeiou" for c in x.lower())], dtype=np.float32)


class FaultyModel(Centroid):
    """Nearest centroid that misbehaves in fit."""

    name = "fault.model"
    version = "1"

    class Params(Centroid.Params):
        mode: Mode = "ok"

    def fit(self, X, y, groups=None):
        misbehave(self.params.mode)
        return super().fit(X, y)


@emoframe.hookimpl
def register_extractors(register):
    register(FaultyText)


@emoframe.hookimpl
def register_models(register):
    register(FaultyModel)
