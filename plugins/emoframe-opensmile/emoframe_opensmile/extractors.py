"""eGeMAPS and ComParE features computed by the real openSMILE (audEERING's `opensmile` package)."""

from __future__ import annotations

from typing import Any

import numpy as np

from emoframe import FeatureExtractor


class _SmileExtractor(FeatureExtractor):
    modality = "audio"
    feature_set = "eGeMAPSv02"
    level = "Functionals"

    def smile(self) -> Any:
        """One opensmile.Smile per extractor instance, i.e. per worker process, not per file."""
        if getattr(self, "_smile", None) is None:
            import opensmile

            self._smile = opensmile.Smile(
                feature_set=getattr(opensmile.FeatureSet, self.feature_set),
                feature_level=getattr(opensmile.FeatureLevel, self.level),
            )
        return self._smile

    def warmup(self) -> None:
        self.smile()

    def feature_names(self) -> list[str]:
        return list(self.smile().feature_names)

    def extract(self, x: np.ndarray) -> np.ndarray:
        values = self.smile().process_signal(np.asarray(x, dtype=np.float32), self.sample_rate).to_numpy()
        return values[0] if self.output == "vector" else values

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_smile", None)  # a Smile holds a native process; rebuild it where unpickled
        return state


class EGeMAPS(_SmileExtractor):
    """eGeMAPS v02 functionals (88 dims): the minimal acoustic parameter set of Eyben et al. 2016."""

    name = "opensmile.egemaps"
    version = "1"
    output = "vector"


class EGeMAPSLLD(_SmileExtractor):
    """eGeMAPS v02 low-level descriptors (25 dims per 10 ms frame) as a sequence, for CNNs/LSTMs."""

    name = "opensmile.egemaps_lld"
    version = "1"
    output = "sequence"
    level = "LowLevelDescriptors"


class ComParE(_SmileExtractor):
    """ComParE 2016 functionals (6,373 dims): the large brute-force set of the Interspeech challenges."""

    name = "opensmile.compare"
    version = "1"
    output = "vector"
    feature_set = "ComParE_2016"
