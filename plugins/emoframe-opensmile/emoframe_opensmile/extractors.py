"""eGeMAPS and ComParE features computed by the real openSMILE (audEERING's `opensmile` package)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from emoframe import FeatureExtractor

#: eGeMAPS parameter groups (Eyben et al. 2016, table 1), matched on openSMILE's feature names in this order:
#: temporal first (``loudnessPeaksPerSec`` is a rate, not an amplitude); MFCC 1-4 apart from spectral balance
EGEMAPS_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "temporal",
        ("loudnessPeaksPerSec", "VoicedSegments", "MeanVoiced", "StddevVoiced", "MeanUnvoiced", "StddevUnvoiced"),
    ),
    (
        "frequency",
        (
            "F0semitone",
            "jitter",
            "F1frequency",
            "F2frequency",
            "F3frequency",
            "F1bandwidth",
            "F2bandwidth",
            "F3bandwidth",
        ),
    ),
    ("energy/amplitude", ("shimmer", "loudness", "HNR", "equivalentSoundLevel")),
    ("MFCC", ("mfcc",)),
    (
        "spectral balance",
        ("alphaRatio", "hammarberg", "slope", "F1amplitude", "F2amplitude", "F3amplitude", "logRelF0", "spectralFlux"),
    ),
)


#: eGeMAPSv02 functionals' names in openSMILE's column order (tests hold it to ``Smile.feature_names``): building a
#: Smile just to read them costs seconds per process, and feature groups are asked for in every benchmark fold
EGEMAPS_NAMES: tuple[str, ...] = (
    "F0semitoneFrom27.5Hz_sma3nz_amean",
    "F0semitoneFrom27.5Hz_sma3nz_stddevNorm",
    "F0semitoneFrom27.5Hz_sma3nz_percentile20.0",
    "F0semitoneFrom27.5Hz_sma3nz_percentile50.0",
    "F0semitoneFrom27.5Hz_sma3nz_percentile80.0",
    "F0semitoneFrom27.5Hz_sma3nz_pctlrange0-2",
    "F0semitoneFrom27.5Hz_sma3nz_meanRisingSlope",
    "F0semitoneFrom27.5Hz_sma3nz_stddevRisingSlope",
    "F0semitoneFrom27.5Hz_sma3nz_meanFallingSlope",
    "F0semitoneFrom27.5Hz_sma3nz_stddevFallingSlope",
    "loudness_sma3_amean",
    "loudness_sma3_stddevNorm",
    "loudness_sma3_percentile20.0",
    "loudness_sma3_percentile50.0",
    "loudness_sma3_percentile80.0",
    "loudness_sma3_pctlrange0-2",
    "loudness_sma3_meanRisingSlope",
    "loudness_sma3_stddevRisingSlope",
    "loudness_sma3_meanFallingSlope",
    "loudness_sma3_stddevFallingSlope",
    "spectralFlux_sma3_amean",
    "spectralFlux_sma3_stddevNorm",
    "mfcc1_sma3_amean",
    "mfcc1_sma3_stddevNorm",
    "mfcc2_sma3_amean",
    "mfcc2_sma3_stddevNorm",
    "mfcc3_sma3_amean",
    "mfcc3_sma3_stddevNorm",
    "mfcc4_sma3_amean",
    "mfcc4_sma3_stddevNorm",
    "jitterLocal_sma3nz_amean",
    "jitterLocal_sma3nz_stddevNorm",
    "shimmerLocaldB_sma3nz_amean",
    "shimmerLocaldB_sma3nz_stddevNorm",
    "HNRdBACF_sma3nz_amean",
    "HNRdBACF_sma3nz_stddevNorm",
    "logRelF0-H1-H2_sma3nz_amean",
    "logRelF0-H1-H2_sma3nz_stddevNorm",
    "logRelF0-H1-A3_sma3nz_amean",
    "logRelF0-H1-A3_sma3nz_stddevNorm",
    "F1frequency_sma3nz_amean",
    "F1frequency_sma3nz_stddevNorm",
    "F1bandwidth_sma3nz_amean",
    "F1bandwidth_sma3nz_stddevNorm",
    "F1amplitudeLogRelF0_sma3nz_amean",
    "F1amplitudeLogRelF0_sma3nz_stddevNorm",
    "F2frequency_sma3nz_amean",
    "F2frequency_sma3nz_stddevNorm",
    "F2bandwidth_sma3nz_amean",
    "F2bandwidth_sma3nz_stddevNorm",
    "F2amplitudeLogRelF0_sma3nz_amean",
    "F2amplitudeLogRelF0_sma3nz_stddevNorm",
    "F3frequency_sma3nz_amean",
    "F3frequency_sma3nz_stddevNorm",
    "F3bandwidth_sma3nz_amean",
    "F3bandwidth_sma3nz_stddevNorm",
    "F3amplitudeLogRelF0_sma3nz_amean",
    "F3amplitudeLogRelF0_sma3nz_stddevNorm",
    "alphaRatioV_sma3nz_amean",
    "alphaRatioV_sma3nz_stddevNorm",
    "hammarbergIndexV_sma3nz_amean",
    "hammarbergIndexV_sma3nz_stddevNorm",
    "slopeV0-500_sma3nz_amean",
    "slopeV0-500_sma3nz_stddevNorm",
    "slopeV500-1500_sma3nz_amean",
    "slopeV500-1500_sma3nz_stddevNorm",
    "spectralFluxV_sma3nz_amean",
    "spectralFluxV_sma3nz_stddevNorm",
    "mfcc1V_sma3nz_amean",
    "mfcc1V_sma3nz_stddevNorm",
    "mfcc2V_sma3nz_amean",
    "mfcc2V_sma3nz_stddevNorm",
    "mfcc3V_sma3nz_amean",
    "mfcc3V_sma3nz_stddevNorm",
    "mfcc4V_sma3nz_amean",
    "mfcc4V_sma3nz_stddevNorm",
    "alphaRatioUV_sma3nz_amean",
    "hammarbergIndexUV_sma3nz_amean",
    "slopeUV0-500_sma3nz_amean",
    "slopeUV500-1500_sma3nz_amean",
    "spectralFluxUV_sma3nz_amean",
    "loudnessPeaksPerSec",
    "VoicedSegmentsPerSec",
    "MeanVoicedSegmentLengthSec",
    "StddevVoicedSegmentLengthSec",
    "MeanUnvoicedSegmentLength",
    "StddevUnvoicedSegmentLength",
    "equivalentSoundLevel_dBp",
)


def egemaps_group(name: str) -> str:
    """The eGeMAPS parameter group of one openSMILE feature name ('other' when none matches)."""
    for group, prefixes in EGEMAPS_GROUPS:
        if any(name.startswith(p) for p in prefixes):
            return group
    return "other"


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

    def feature_groups(self) -> dict[str, list[int]] | None:
        """eGeMAPS' parameter groups (frequency, energy/amplitude, spectral balance, MFCC, temporal); ComParE and
        the frame-level sets have none here."""
        if self.feature_set != "eGeMAPSv02" or self.output != "vector":
            return None
        groups: dict[str, list[int]] = {}
        for i, name in enumerate(EGEMAPS_NAMES):
            groups.setdefault(egemaps_group(name), []).append(i)
        return groups

    def extract(self, x: np.ndarray) -> np.ndarray:
        values = self.smile().process_signal(np.asarray(x, dtype=np.float32), self.sample_rate).to_numpy()
        return values[0] if self.output == "vector" else values

    def shared_pass(self) -> str | None:
        """Functionals and low-level descriptors of one feature set come from one openSMILE run."""
        return f"opensmile:{self.feature_set}"

    def extract_shared(self, x: np.ndarray, members: Sequence[FeatureExtractor]) -> list[np.ndarray]:
        """One run of the feature set with openSMILE's two-level sink (``extsinklld``, ``extsinkfunc``,
        shipped in the opensmile package): the same values as one run per level, at the cost of one."""
        levels = [getattr(m, "level", None) for m in members]
        if any(getattr(m, "feature_set", None) != self.feature_set for m in members) or not set(levels) <= {
            "Functionals",
            "LowLevelDescriptors",
        }:
            return super().extract_shared(x, members)
        lld, func = self._both_levels(np.asarray(x, dtype=np.float32))
        return [func[0] if level == "Functionals" else lld for level in levels]

    def _both_levels(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(frames × LLD dims, 1 × functionals dims) from one run, as ``Smile.process_signal`` feeds it."""
        import os

        from opensmile.core.config import config

        smile = self.smile()
        options = smile._options()
        options["sink"] = os.path.join(smile.default_config_root, config.EXTERNAL_OUTPUT_MULTI_CONFIG)
        options["source"] = os.path.join(smile.default_config_root, config.EXTERNAL_INPUT_CONFIG)
        options["sampleRate"] = self.sample_rate
        options["nBits"] = 16
        signal = x.copy()
        signal *= 32768  # what Smile does: 16-bit PCM in
        pcm = signal.astype(np.int16)
        lld: list[np.ndarray] = []
        func: list[np.ndarray] = []
        engine = smile._smile(options)
        try:
            engine.external_sink_set_callback_ex("extsinklld", lambda data, meta: lld.append(data.copy()))
            engine.external_sink_set_callback_ex("extsinkfunc", lambda data, meta: func.append(data.copy()))
            engine.external_audio_source_write_data(config.EXTERNAL_SOURCE_COMPONENT, bytes(pcm))
            engine.external_audio_source_set_eoi(config.EXTERNAL_SOURCE_COMPONENT)
            engine.run()
        finally:
            engine.free()
        if not lld or not func:  # too short for a frame: each level's own run says so (NaN row, warning)
            raise ValueError("segment too short for one shared run")
        return np.vstack(lld), np.vstack(func)

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
