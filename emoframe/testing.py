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

from .plugin.components import FEATURE_KINDS, Transcription
from .plugin.kinds import BASES, BY_NAME
from .plugin.registry import Registry


def synthetic_utterance(seconds: float = 1.5, sr: int = 16000, seed: int = 0) -> np.ndarray:
    """A short voiced utterance from emoframe's source-filter synthesiser (real speech-like input)."""
    from .data.audio import resample
    from .data.synth import SR, make_speakers, synthesise

    rng = np.random.default_rng(seed)
    speaker = make_speakers(1, seed)[0]
    x = synthesise(speaker, "happy", rng)
    while len(x) < seconds * SR:
        x = np.concatenate([x, synthesise(speaker, "happy", rng)])
    return resample(x[: int(seconds * SR)], SR, sr)


def check_registrable(cls: type[Any]) -> None:
    """The class passes the registry's checks (name, Params defaults, kind attributes)."""
    reg = Registry()
    import types

    from .plugin.hookspecs import hookimpl

    kind = cls.kind
    assert kind in BY_NAME, (
        f"{cls.__name__}.kind is {kind!r}: subclass one of {', '.join(b.__name__ for b in BASES.values())}"
    )
    hook = BY_NAME[kind].hook
    mod = types.ModuleType(f"check_{kind}")

    def register_hook(register: Any) -> None:
        register(cls)

    setattr(mod, hook, hookimpl(specname=hook)(register_hook))
    info = reg.add_plugin(mod, name="check")
    assert not info.problems, f"{cls.__name__} is not registrable: {info.problems}"


def check_extractor(cls: type[Any], params: dict[str, Any] | None = None) -> None:
    """Output kind and shape as declared, finite, deterministic, picklable for worker processes; batched
    and shared-pass extraction equal to one by one."""
    check_registrable(cls)
    ext = cls(params)
    assert ext.output in FEATURE_KINDS, f"output must be one of {', '.join(FEATURE_KINDS)}"
    if ext.modality == "audio":
        inputs: list[Any] = [synthetic_utterance(1.5, ext.sample_rate, 0), synthetic_utterance(2.0, ext.sample_rate, 1)]
    else:
        inputs = ["I am so happy today!", "This is terrible.", ""]
    ext.warmup()
    if not ext.stateless:
        out, again = _fitted_outputs(cls, params, ext, inputs)
    else:
        out = [ext.extract(x) for x in inputs]
        again = [ext.extract(x) for x in inputs]
        _check_stateless_paths(cls, ext, inputs, out)
    if hasattr(out, "toarray"):
        out, again = out.toarray(), again.toarray()
    _check_output_shape(cls, ext, list(out), len(inputs))
    for a, b in zip(list(out), again):
        np.testing.assert_allclose(
            np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-6, err_msg=f"{cls.name}: not deterministic"
        )
    if ext.output == "vector":
        _check_groups(cls, ext, int(np.asarray(list(out)[0]).reshape(-1).shape[0]))


def _check_groups(cls: type[Any], ext: Any, width: int) -> None:
    """Declared feature groups (optional) name non-empty sets of existing columns."""
    groups = ext.feature_groups()
    if groups is None:
        return
    assert isinstance(groups, dict) and groups, f"{cls.name}: feature_groups() must return group → columns, or None"
    for name, cols in groups.items():
        cols = list(cols)
        assert cols and all(isinstance(c, (int, np.integer)) and 0 <= c < width for c in cols), (
            f"{cls.name}: feature_groups() group {name!r} must list column indices in [0, {width})"
        )


def _fitted_outputs(cls: type[Any], params: dict[str, Any] | None, ext: Any, inputs: list[Any]) -> tuple[Any, Any]:
    """A fitted extractor's transform, twice; fit_transform must give what fit then transform gives."""
    labels = ["happy", "angry", "neutral"][: len(inputs)]
    ext.fit(inputs, labels)
    out = ext.transform(inputs)
    again = ext.transform(inputs)
    both = cls(params).fit_transform(inputs, labels)  # what a fold's training rows get
    dense_both, dense_out = (np.asarray(v.toarray() if hasattr(v, "toarray") else v, dtype=float) for v in (both, out))
    np.testing.assert_allclose(
        dense_both,
        dense_out,
        rtol=1e-6,
        atol=1e-9,
        err_msg=f"{cls.name}: fit_transform differs from fit then transform",
    )
    return out, again


def _check_stateless_paths(cls: type[Any], ext: Any, inputs: list[Any], out: list[Any]) -> None:
    """A pickled copy (as workers get), a batch and a shared pass each give what extract gives one by one."""
    clone = pickle.loads(pickle.dumps(ext))
    np.testing.assert_allclose(
        np.asarray(clone.extract(inputs[0]), dtype=float),
        np.asarray(out[0], dtype=float),
        rtol=1e-5,
        atol=1e-6,
        err_msg=f"{cls.name}: a pickled copy (as sent to workers) gives other features",
    )
    if ext.batch_size() > 1:  # batched and one-by-one extraction must agree
        batch = list(ext.extract_batch(inputs))
        assert len(batch) == len(inputs), f"{cls.name}: extract_batch gave {len(batch)} results for {len(inputs)}"
        for a, b in zip(batch, out):
            np.testing.assert_allclose(
                np.asarray(a, dtype=float),
                np.asarray(b, dtype=float),
                atol=1e-5,
                err_msg=f"{cls.name}: extract_batch differs from extract one by one",
            )
    if ext.shared_pass():  # a shared pass must give what the extractor gives alone
        for x, alone in zip(inputs, out):
            shared = list(ext.extract_shared(x, [ext, clone]))
            assert len(shared) == 2, f"{cls.name}: extract_shared gave {len(shared)} results for 2 members"
            for value in shared:
                np.testing.assert_allclose(
                    np.asarray(value, dtype=float),
                    np.asarray(alone, dtype=float),
                    rtol=1e-5,
                    atol=1e-6,
                    err_msg=f"{cls.name}: extract_shared differs from extract",
                )


def _check_output_shape(cls: type[Any], ext: Any, rows: list[Any], n_inputs: int) -> None:
    """One output per input, of the declared kind, finite, of one width."""
    assert len(rows) == n_inputs, f"{cls.name}: {len(rows)} outputs for {n_inputs} inputs"
    dims = set()
    for value in rows:
        arr = np.asarray(value, dtype=float)
        if ext.output == "vector":
            assert arr.ndim == 1, f"{cls.name}: vector output must be 1-D per sample, got {arr.shape}"
            dims.add(arr.shape[0])
        elif ext.output == "sequence":
            assert arr.ndim == 2 and arr.shape[0] > 0, f"{cls.name}: sequence output must be (frames × dims)"
            dims.add(arr.shape[1])
        elif ext.output == "layers":
            assert arr.ndim == 2 and arr.shape[0] > 0, f"{cls.name}: layers output must be (layers × dims)"
            dims.add(arr.shape)
        assert np.all(np.isfinite(arr)), f"{cls.name}: output has NaN or inf"
    assert len(dims) <= 1, f"{cls.name}: feature dimension varies between samples: {sorted(dims)}"


# -- transcribers ---------------------------------------------------------------------------
def check_transcriber(cls: type[Any], params: dict[str, Any] | None = None) -> None:
    """A :class:`Transcription` per signal (text, language or None, segments inside the recording), the same
    text again and from a pickled copy (as sent to workers), and ``transcribe_batch`` equal to one by one."""
    check_registrable(cls)
    asr = cls(params)
    signals = [synthetic_utterance(1.0, asr.sample_rate, 0), synthetic_utterance(1.5, asr.sample_rate, 1)]
    asr.warmup()
    assert isinstance(asr.identity(), str), f"{cls.name}: identity() must return a str"
    heard = [asr.transcribe(s) for s in signals]
    for t, signal in zip(heard, signals):
        assert isinstance(t, Transcription), f"{cls.name}: transcribe must return emoframe.Transcription, got {t!r}"
        assert isinstance(t.text, str), f"{cls.name}: Transcription.text must be a str, got {type(t.text).__name__}"
        assert t.language is None or isinstance(t.language, str), f"{cls.name}: language must be a str or None"
        seconds = len(signal) / asr.sample_rate
        for segment in t.segments:
            start, end, text = segment
            assert 0 <= start <= end <= seconds + 0.5 and isinstance(text, str), (
                f"{cls.name}: segment {segment!r} is not (start s, end s, text) inside the {seconds:.1f} s recording"
            )
    assert [asr.transcribe(s) for s in signals] == heard, f"{cls.name}: not deterministic"
    clone = pickle.loads(pickle.dumps(asr))
    assert clone.transcribe(signals[0]) == heard[0], f"{cls.name}: a pickled copy (as sent to workers) hears otherwise"
    batch = list(asr.transcribe_batch(signals))
    assert batch == heard, f"{cls.name}: transcribe_batch differs from transcribe one by one"


# -- models ---------------------------------------------------------------------------------
CLASSES = np.array(["angry", "happy", "neutral", "sad"])
WORDS = {"angry": "furious outrageous", "happy": "glad wonderful", "neutral": "table noon", "sad": "lonely crying"}


def toy_data(
    kind: str, n_per_class: int = 12, seed: int = 0, requires: tuple[str, ...] = ()
) -> tuple[Any, np.ndarray, np.ndarray]:
    """(X, y, speakers) with a learnable class signal, in the input kind a model accepts."""
    rng = np.random.default_rng(seed)
    y = np.repeat(CLASSES, n_per_class)
    rng.shuffle(y)
    speakers = np.array([f"s{i % 6}" for i in range(len(y))])
    idx = np.searchsorted(CLASSES, y)
    if "vader.scores" in requires:
        compound = np.where(y == "happy", 0.6, np.where(y == "neutral", 0.0, -0.6)) + rng.normal(0, 0.1, len(y))
        pos, neg = np.clip(compound, 0, 1), np.clip(-compound, 0, 1)
        return np.column_stack([neg, 1 - pos - neg, pos, compound]), y, speakers
    if kind == "vector":
        return rng.normal(0, 1, (len(y), 6)) + np.eye(4, 6)[idx] * 2.5, y, speakers
    if kind == "sequence":
        X = [rng.normal(0, 1, (int(rng.integers(20, 40)), 5)).astype(np.float32) + np.eye(4, 5)[i] * 2.0 for i in idx]
        return X, y, speakers
    if kind == "layers":  # 4 layers × 6 dims; the class shows in layer 2 only
        X = [rng.normal(0, 1, (4, 6)).astype(np.float32) for _ in idx]
        for x, i in zip(X, idx):
            x[2] += np.eye(4, 6, dtype=np.float32)[i] * 3.0
        return X, y, speakers
    if kind == "raw_audio":  # short tones whose pitch tells the class
        sr = 16000
        t = np.arange(int(0.6 * sr)) / sr
        X = [
            (0.3 * np.sin(2 * np.pi * (150 + 120 * i) * t) + rng.normal(0, 0.01, len(t))).astype(np.float32)
            for i in idx
        ]
        return X, y, speakers
    texts = [f"{WORDS[c]} {rng.choice(['today', 'again', 'now'])}" for c in y]
    return texts, y, speakers


def _wrong_input(kind: str, X: Any) -> Any:
    if kind == "vector":
        return np.hstack([X, X[:, :1]])
    if kind in ("sequence", "layers"):
        return [np.hstack([s, s[:, :1]]) for s in X]
    return np.zeros((len(X), 3))


def _must_raise(call: Any, message: str) -> None:
    """The contract's "bad input → EmoframeError": ``call`` must raise one, and nothing else."""
    from .errors import EmoframeError

    try:
        call()
    except EmoframeError:
        return
    raise AssertionError(message)


def _fit(model: Any, X: Any, y: Any, groups: Any) -> Any:
    """Fit as emoframe does: speakers only to a ``fit`` that takes them."""
    from .plugin.contract import takes_groups

    return model.fit(X, y, groups) if takes_groups(model) else model.fit(X, y)


def input_kind(cls: type[Any]) -> str:
    """The toy input a model is checked on: raw text or audio for end-to-end models, else the simplest
    kind it accepts (vector before sequence before layers)."""
    if set(cls.accepts) == {"raw"}:
        return "raw_audio" if getattr(cls, "modality", None) == "audio" else "raw"
    return next(k for k in ("vector", "sequence", "layers") if k in cls.accepts)


def check_model(cls: type[Any], params: dict[str, Any] | None = None) -> None:
    """fit/predict_proba shapes, probabilities in [0, 1] summing to 1, seeded determinism, bad input → EmoframeError."""
    check_registrable(cls)
    kind = input_kind(cls)
    X, y, groups = toy_data(kind, requires=getattr(cls, "requires", ()))
    model = cls(params)
    _must_raise(lambda: model.predict_proba(X), f"{cls.name}: predict_proba before fit must raise an EmoframeError")
    _fit(model, X, y, groups)
    assert list(model.classes_) == sorted(set(y)), f"{cls.name}: classes_ must be the sorted labels"
    P = np.asarray(model.predict_proba(X))
    assert P.shape == (len(y), len(model.classes_)), f"{cls.name}: predict_proba shape {P.shape}"
    assert np.all(np.isfinite(P)) and P.min() >= -1e-9 and P.max() <= 1 + 1e-9, (
        f"{cls.name}: probabilities out of [0, 1]"
    )
    np.testing.assert_allclose(P.sum(1), 1.0, atol=1e-5, err_msg=f"{cls.name}: rows must sum to 1")
    assert set(model.predict(X)) <= set(model.classes_)
    again = _fit(cls(params), X, y, groups).predict_proba(X)
    np.testing.assert_allclose(P, again, atol=1e-6, err_msg=f"{cls.name}: not deterministic for a fixed seed")
    _must_raise(
        lambda: model.predict_proba(_wrong_input(kind, X)),
        f"{cls.name}: input of the wrong shape must raise an EmoframeError",
    )
    _must_raise(
        lambda: _fit(cls(params), X, np.full(len(y), "happy"), groups),
        f"{cls.name}: fitting a single class must raise an EmoframeError",
    )


def check_fusion(cls: type[Any], params: dict[str, Any] | None = None) -> None:
    """Late: combined probabilities valid and deterministic; early: one matrix; bad input → EmoframeError."""
    check_registrable(cls)
    rng = np.random.default_rng(0)
    y = np.repeat(CLASSES, 10)
    idx = np.searchsorted(CLASSES, y)
    fusion = cls(params)
    if cls.fusion_kind == "early":
        blocks = {"audio": rng.normal(0, 1, (len(y), 7)) + np.eye(4, 7)[idx], "text": rng.normal(0, 1, (len(y), 3))}
        Z = fusion.fit(blocks, y).transform(blocks)
        assert Z.ndim == 2 and Z.shape[0] == len(y) and np.all(np.isfinite(Z)), f"{cls.name}: bad fused matrix"
        np.testing.assert_allclose(Z, cls(params).fit(blocks, y).transform(blocks), atol=1e-6)
        bad_inputs = [{"audio": blocks["audio"]}, {"audio": blocks["audio"][:, :5], "text": blocks["text"]}]
    else:

        def probs(strength: float) -> np.ndarray:
            logits = rng.normal(0, 1, (len(y), 4)) + strength * np.eye(4)[idx]
            e = np.exp(logits - logits.max(1, keepdims=True))
            return e / e.sum(1, keepdims=True)

        probas = {"audio": probs(2.0), "text": probs(0.5)}
        _must_raise(
            lambda: fusion.predict_proba(probas), f"{cls.name}: predict_proba before fit must raise an EmoframeError"
        )
        fusion.fit(probas, y, CLASSES)
        P = fusion.predict_proba(probas)
        assert P.shape == (len(y), 4) and np.all(np.isfinite(P)), f"{cls.name}: bad combined probabilities"
        np.testing.assert_allclose(P.sum(1), 1.0, atol=1e-6)
        np.testing.assert_allclose(P, cls(params).fit(probas, y, CLASSES).predict_proba(probas), atol=1e-9)
        nan = dict(probas, text=np.full_like(probas["text"], np.nan))
        bad_inputs = [{"audio": probas["audio"]}, nan, {"audio": probas["audio"][:, :3], "text": probas["text"][:, :3]}]
    for bad in bad_inputs:
        _must_raise(
            lambda bad=bad: fusion.transform(bad) if cls.fusion_kind == "early" else fusion.predict_proba(bad),
            f"{cls.name}: bad input {sorted(bad)} must raise an EmoframeError",
        )


def check_explain(cls: type[Any], params: dict[str, Any] | None = None) -> None:
    """A late fusion's own ``explain(probas, prior)`` (optional): branch → (rows × classes) for exactly its
    branches, summing to ``predict_proba(probas)`` minus ``predict_proba`` with every branch at ``prior``
    (efficiency, ≤ 1e-6), with 2 and 3 branches. Without one, emoframe's exact Shapley values are used."""
    check_registrable(cls)
    if cls.fusion_kind != "late":
        return  # early fusion: emoframe attributes over the blocks of columns itself
    from .plugin.contract import check_explanation

    rng = np.random.default_rng(2)
    y = np.repeat(CLASSES, 10)
    idx = np.searchsorted(CLASSES, y)
    for branches in (("audio", "text"), ("audio", "text", "video")):
        probas = {}
        for i, k in enumerate(branches):
            logits = rng.normal(0, 1, (len(y), 4)) + (2.0 - 0.5 * i) * np.eye(4)[idx]
            e = np.exp(logits - logits.max(1, keepdims=True))
            probas[k] = e / e.sum(1, keepdims=True)
        fusion = cls(params).fit(probas, y, CLASSES)
        prior = np.full(4, 0.25)
        own = fusion.explain(probas, prior)
        if own is None:
            return
        fused = np.asarray(fusion.predict_proba(probas), dtype=np.float64)
        baseline = np.asarray(fusion.predict_proba({k: np.tile(prior, (len(y), 1)) for k in branches}))
        check_explanation(fusion, own, list(branches), fused.shape, fused - baseline)


def _max_diff(a: Any, b: Any) -> float:
    a = a.toarray() if hasattr(a, "toarray") else a
    b = b.toarray() if hasattr(b, "toarray") else b
    if isinstance(a, list):
        return max((_max_diff(x, z) for x, z in zip(a, b)), default=0.0)
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, f"shapes differ after the round trip: {a.shape} vs {b.shape}"
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def _round_trip(component: Any) -> Any:
    """Save the component's state as a bundle does, load it into a fresh instance."""
    import tempfile

    from .deploy.state import load_state, save_state

    with tempfile.TemporaryDirectory(prefix="emoframe-check-") as tmp:
        save_state(component.state(), tmp)
        clone = type(component)(component.params)
        clone.restore(load_state(tmp, type(component).trusted_types, owner=component.name))
    return clone


def check_roundtrip(cls: type[Any], params: dict[str, Any] | None = None) -> None:
    """save → load → the same outputs (max abs difference ≤ 1e-6): what a bundle needs of a fitted component.

    The state goes through emoframe's safe formats (JSON, safetensors, skops) exactly as in
    ``emoframe train``; a component whose state holds anything else must override state()/restore().
    """
    tol = 1e-6
    if cls.kind == "extractor":
        ext = cls(params)
        if ext.modality == "audio":
            inputs: list[Any] = [
                synthetic_utterance(1.0, ext.sample_rate, 0),
                synthetic_utterance(1.2, ext.sample_rate, 1),
            ]
        else:
            inputs = ["I am so happy today!", "This is terrible.", "well"]
        if not ext.stateless:
            ext.fit(inputs, ["happy", "angry", "neutral"][: len(inputs)])
        out, again = ext.transform(inputs), _round_trip(ext).transform(inputs)
    elif cls.kind == "model":
        kind = input_kind(cls)
        X, y, groups = toy_data(kind, requires=getattr(cls, "requires", ()))
        model = _fit(cls(params), X, y, groups)
        clone = _round_trip(model)
        assert list(clone.classes_) == list(model.classes_), f"{cls.name}: classes_ differ after the round trip"
        out, again = model.predict_proba(X), clone.predict_proba(X)
    elif cls.kind == "fusion":
        rng = np.random.default_rng(1)
        y = np.repeat(CLASSES, 8)
        idx = np.searchsorted(CLASSES, y)
        if cls.fusion_kind == "early":
            blocks = {"audio": rng.normal(0, 1, (len(y), 7)) + np.eye(4, 7)[idx], "text": rng.normal(0, 1, (len(y), 3))}
            fusion = cls(params).fit(blocks, y)
            out, again = fusion.transform(blocks), _round_trip(fusion).transform(blocks)
        else:
            logits = {k: rng.normal(0, 1, (len(y), 4)) + s * np.eye(4)[idx] for k, s in (("audio", 2.0), ("text", 0.5))}
            probas = {k: np.exp(v) / np.exp(v).sum(1, keepdims=True) for k, v in logits.items()}
            fusion = cls(params).fit(probas, y, CLASSES)
            clone = _round_trip(fusion)
            out, again = fusion.predict_proba(probas), clone.predict_proba(probas)
            for k, w in fusion.branch_weights(probas).items():
                assert _max_diff(w, clone.branch_weights(probas)[k]) <= tol, (
                    f"{cls.name}: branch_weights() differs after the round trip"
                )
    else:
        return
    diff = _max_diff(out, again)
    assert diff <= tol, f"{cls.name}: outputs differ by {diff:.2e} after save → load (≤ {tol:g} required)"


# -- the pytest face: one test per (component, check), like scikit-learn's -------------------------
RULES = "docs/plugins.md#the-rules-the-checks-enforce"


def check_rebuildable_by_workers(cls: type[Any], params: dict[str, Any] | None = None) -> None:
    """Worker processes rebuild a component by importing its class: it must be reachable by reference."""
    assert "<locals>" not in cls.__qualname__, (
        f"{cls.__qualname__} is defined inside a function; define it at module level so workers can import it"
    )
    assert pickle.loads(pickle.dumps(cls)) is cls, f"{cls.__qualname__} does not pickle by reference"
    instance = cls(params)
    clone = pickle.loads(pickle.dumps(instance))
    assert clone.params == instance.params, f"{cls.__qualname__}: a pickled copy has other params"


def checks_for(cls: type[Any]) -> list[Any]:
    """The checks that apply to a component class: the common two, then its kind's (``plugin.kinds``)."""
    kind = BY_NAME.get(getattr(cls, "kind", ""))
    own = [globals()[name] for name in kind.checks] if kind else []
    return [check_registrable, check_rebuildable_by_workers, *own]


def _as_rule(check: Any) -> Any:
    """A check whose failure always reads as the rule it enforces, with where to read about it."""
    import functools

    from .errors import describe_exception

    @functools.wraps(check)
    def run(cls: type[Any], params: dict[str, Any] | None = None) -> None:
        try:
            check(cls, params) if check is not check_registrable else check(cls)
        except AssertionError as exc:
            raise AssertionError(f"rule {check.__name__} broken by {cls.__qualname__}: {exc} (see {RULES})") from exc
        except Exception as exc:  # noqa: BLE001 — a plugin may raise anything; say which rule it broke
            raise AssertionError(
                f"rule {check.__name__} broken by {cls.__qualname__}: raised {describe_exception(exc)} (see {RULES})"
            ) from exc

    return run


def parametrize_with_checks(components: list[type[Any]], params: dict[type[Any], dict[str, Any]] | None = None) -> Any:
    """``@parametrize_with_checks([MyExtractor, MyModel])`` on ``def test_conformance(component, check)``:
    one test per (component, check) with readable ids; call ``check(component)`` in the body."""
    import pytest

    cases, ids = [], []
    for cls in components:
        for check in checks_for(cls):
            rule = _as_rule(check)
            extra = (params or {}).get(cls)
            cases.append((cls, (lambda c, rule=rule, extra=extra: rule(c, extra))))
            ids.append(f"{cls.__qualname__}-{check.__name__}")
    return pytest.mark.parametrize("component, check", cases, ids=ids)
