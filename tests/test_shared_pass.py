"""Extractors that share a pass over each sample (FeatureExtractor.shared_pass / extract_shared): the
same features, cached under the same keys, as each extracted alone; failures stay the failing
extractor's; the provider groups them; the real openSMILE pair gives bit-identical values."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

import emoframe
from emoframe import ComponentError
from emoframe.data.manifest import Manifest
from emoframe.features import FeatureCache, extract_features
from emoframe.features.extract import can_share, extract_shared
from emoframe.pipeline import FeatureProvider
from emoframe.plugin.registry import Registry
from emoframe.spec import ComponentRef

from . import toy_plugin
from .audio_files import tone, write_wav

CALLS = {"shared": 0, "alone": 0}


class Mean(toy_plugin.Energy):
    """Toy pair sharing one pass: the mean energy and the per-frame energies of the same frames."""

    name = "toy.mean"
    output = "vector"

    def shared_pass(self):
        return "toy:frames"

    def extract(self, x):
        CALLS["alone"] += 1
        return self._frames(x).mean(0)

    def _frames(self, x):
        x = np.asarray(x, dtype=np.float32)
        n = max(1, len(x) // 400)
        return np.log1p((x[: n * 400].reshape(n, -1) ** 2).mean(1, keepdims=True)) if len(x) >= 400 else np.ones((1, 1))

    def extract_shared(self, x, members):
        CALLS["shared"] += 1
        if len(x) < 6000:  # a bug on short signals, in the shared code only
            raise RuntimeError("shared pass broke")
        frames = self._frames(x)
        return [frames.mean(0) if m.output == "vector" else frames for m in members]


class PerFrame(Mean):
    name = "toy.per_frame"
    output = "sequence"

    def extract(self, x):
        CALLS["alone"] += 1
        if len(x) < 4000:  # this member alone also fails on the shortest
            raise ValueError("too short for toy.per_frame")
        return self._frames(x)


class OtherPass(Mean):
    name = "toy.other_pass"

    def shared_pass(self):
        return "toy:else"


@emoframe.hookimpl
def register_extractors(register):
    for cls in (Mean, PerFrame, OtherPass):
        register(cls)


def corpus(tmp_path, seconds=(0.2, 0.3, 0.5, 0.6, 0.7, 0.8)) -> Manifest:
    paths = [write_wav(tmp_path / f"u{i}.wav", tone(s, freq=150 + 40 * i)) for i, s in enumerate(seconds)]
    frame = {"id": [p.stem for p in paths], "audio": [str(p) for p in paths], "text": "t", "label": "x", "speaker": "s"}
    return Manifest.from_frame(pd.DataFrame(frame))


@pytest.fixture(autouse=True)
def _reset():
    CALLS.update(shared=0, alone=0)


def test_which_extractors_may_share(tmp_path):
    assert can_share(Mean(), PerFrame())
    assert not can_share(Mean(), OtherPass())  # another pass name
    assert not can_share(toy_plugin.Energy(), toy_plugin.Frames())  # neither has a pass to share
    with pytest.raises(ComponentError, match="cannot share"):
        extract_shared([Mean(), toy_plugin.Energy()], corpus(tmp_path, seconds=(0.5,)))


@pytest.mark.parametrize("jobs", [1, 2])
def test_shared_equals_alone_with_the_same_cache_keys(tmp_path, jobs):
    m = corpus(tmp_path)
    cache = FeatureCache(tmp_path / "cache")
    together = extract_shared([Mean(), PerFrame()], m, jobs=jobs, cache=cache)
    alone = [extract_features(e, m, jobs=1) for e in (Mean(), PerFrame())]
    for t, a in zip(together, alone):
        assert t.ids == a.ids and t.failures.keys() == a.failures.keys()
        for x, y in zip(t.features, a.features):
            np.testing.assert_array_equal(x, y)
    assert together[1].failures == {"u0": together[1].failures["u0"]} and "too short" in together[1].failures["u0"]
    # each extractor's entries sit under the keys a lone extraction looks for
    again = [extract_features(e, m, jobs=1, cache=cache) for e in (Mean(), PerFrame())]
    assert [r.hits for r in again] == [6, 5] and again[0].misses == 0
    assert again[1].misses == 1  # the failed sample is not cached, it is retried


def test_one_pass_per_sample_and_failures_stay_their_extractors(tmp_path):
    m = corpus(tmp_path)
    mean, per_frame = extract_shared([Mean(), PerFrame()], m, jobs=1)
    # u0 is 3,200 samples, u1 4,800: the shared pass raises for both, each member then runs alone
    assert CALLS == {"shared": 6, "alone": 4}
    assert mean.ids == ["u0", "u1", "u2", "u3", "u4", "u5"] and not mean.failures
    assert per_frame.ids == ["u1", "u2", "u3", "u4", "u5"] and list(per_frame.failures) == ["u0"]


def test_a_cached_member_is_not_written_again_and_only_the_other_is_computed(tmp_path):
    m = corpus(tmp_path)
    cache = FeatureCache(tmp_path / "cache")
    extract_features(Mean(), m, jobs=1, cache=cache)
    mean, per_frame = extract_shared([Mean(), PerFrame()], m, jobs=1, cache=cache)
    assert (mean.hits, mean.misses) == (6, 0) and (per_frame.hits, per_frame.misses) == (0, 6)
    assert len(per_frame.ids) == 5


def test_the_provider_groups_extractors_that_share_a_pass(tmp_path):
    reg = Registry()
    reg.add_plugin(sys.modules[__name__], name="shared-pass-test")
    m = corpus(tmp_path)
    provider = FeatureProvider(reg, jobs=1)
    refs = [ComponentRef(name=n) for n in ("toy.mean", "toy.per_frame", "toy.other_pass")]
    kept = provider.usable(refs, m)
    # toy.mean and toy.per_frame in one pass (6 shared calls, 2 fell back to 4 lone calls);
    # toy.other_pass alone: its extract, once per sample
    assert CALLS == {"shared": 6, "alone": 4 + 6}
    assert list(kept.ids) == ["u1", "u2", "u3", "u4", "u5"]
    assert "too short" in provider.failed_rows(refs[1], m)["u0"]


def test_opensmile_functionals_and_llds_from_one_run_equal_two_runs(tmp_path):
    pytest.importorskip("opensmile")
    from emoframe_opensmile.extractors import EGeMAPS, EGeMAPSLLD

    from .audio_files import tone as signal

    # 0.05 s is too short for a frame: the shared run gives way to each level's own run (NaN, warning)
    m = corpus(tmp_path, seconds=(0.05, 0.5, 1.3, 2.0))
    with pytest.warns(UserWarning, match="too short"):
        together = extract_shared([EGeMAPS(), EGeMAPSLLD()], m, jobs=1)
    with pytest.warns(UserWarning, match="too short"):
        alone = [extract_features(e, m, jobs=1) for e in (EGeMAPS(), EGeMAPSLLD())]
    for t, a in zip(together, alone):
        assert t.ids == a.ids and t.failures == a.failures
        for x, y in zip(t.features, a.features):
            assert x.dtype == y.dtype and np.array_equal(x, y)  # bit-identical
    x = signal(1.7, freq=180)
    func, lld = EGeMAPS().extract_shared(x, [EGeMAPS(), EGeMAPSLLD()])
    assert func.shape == (88,) and lld.shape[1] == 25
    assert EGeMAPS().shared_pass() == EGeMAPSLLD().shared_pass() != ComParE_pass()


def ComParE_pass():
    from emoframe_opensmile.extractors import ComParE

    return ComParE().shared_pass()
