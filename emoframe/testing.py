"""Conformance checks a plugin author runs on their components (like scikit-learn's check_estimator).

    from emoframe.testing import check_extractor
    def test_my_extractor():
        check_extractor(MyExtractor)

Each check raises AssertionError with a message naming the broken rule.
"""
from __future__ import annotations

import pickle
from typing import Any

import numpy as np

from .components import FeatureExtractor
from .registry import Registry


def synthetic_utterance(seconds: float = 1.5, sr: int = 16000, seed: int = 0) -> np.ndarray:
    """A short voiced utterance from emoframe's source-filter synthesiser (real speech-like input)."""
    from .data.synth import SR, make_speakers, synthesise
    from .data.audio import resample

    rng = np.random.default_rng(seed)
    speaker = make_speakers(1, seed)[0]
    x = synthesise(speaker, "happy", rng)
    while len(x) < seconds * SR:
        x = np.concatenate([x, synthesise(speaker, "happy", rng)])
    return resample(x[: int(seconds * SR)], SR, sr)


def check_registrable(cls: type) -> None:
    """The class passes the registry's checks (name, Params defaults, kind attributes)."""
    reg = Registry()
    import types

    from .hookspecs import HOOK_KINDS, hookimpl

    kind = cls.kind
    hook = next(h for h, k in HOOK_KINDS.items() if k == kind)
    mod = types.ModuleType(f"check_{kind}")

    def register_hook(register: Any) -> None:
        register(cls)

    setattr(mod, hook, hookimpl(specname=hook)(register_hook))
    info = reg.add_plugin(mod, name="check")
    assert not info.problems, f"{cls.__name__} is not registrable: {info.problems}"


def check_extractor(cls: type[FeatureExtractor], params: dict[str, Any] | None = None) -> None:
    """Output kind and shape as declared, finite, deterministic, picklable for worker processes."""
    check_registrable(cls)
    ext = cls(params)
    assert ext.output in ("vector", "sequence", "raw"), "output must be vector, sequence or raw"
    if ext.modality == "audio":
        inputs: list[Any] = [synthetic_utterance(1.5, ext.sample_rate, 0), synthetic_utterance(2.0, ext.sample_rate, 1)]
    else:
        inputs = ["I am so happy today!", "This is terrible.", ""]
    ext.warmup()
    if not ext.stateless:
        ext.fit(inputs, ["happy", "angry", "neutral"][: len(inputs)])
        out = ext.transform(inputs)
        again = ext.transform(inputs)
    else:
        out = [ext.extract(x) for x in inputs]
        again = [ext.extract(x) for x in inputs]
        clone = pickle.loads(pickle.dumps(ext))
        np.testing.assert_allclose(np.asarray(clone.extract(inputs[0]), dtype=float),
                                   np.asarray(out[0], dtype=float), rtol=1e-5, atol=1e-6,
                                   err_msg=f"{cls.name}: a pickled copy (as sent to workers) gives other features")
    rows = list(out) if not isinstance(out, np.ndarray) else list(out)
    assert len(rows) == len(inputs), f"{cls.name}: {len(rows)} outputs for {len(inputs)} inputs"
    dims = set()
    for value in rows:
        arr = np.asarray(value, dtype=float)
        if ext.output == "vector":
            assert arr.ndim == 1, f"{cls.name}: vector output must be 1-D per sample, got {arr.shape}"
            dims.add(arr.shape[0])
        elif ext.output == "sequence":
            assert arr.ndim == 2 and arr.shape[0] > 0, f"{cls.name}: sequence output must be (frames × dims)"
            dims.add(arr.shape[1])
        assert np.all(np.isfinite(arr)), f"{cls.name}: output has NaN or inf"
    assert len(dims) <= 1, f"{cls.name}: feature dimension varies between samples: {sorted(dims)}"
    for a, b in zip(rows, again):
        np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-6,
                                   err_msg=f"{cls.name}: not deterministic")
