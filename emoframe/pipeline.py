"""A runnable pipeline built from a validated spec: fit, predict_proba, branch probabilities.

    pipe = Pipeline.from_spec("pipeline.yaml").fit(train_manifest)
    P = pipe.predict_proba(test_manifest)          # rows aligned with the manifest, columns pipe.classes_

Stateless features come from a :class:`FeatureProvider` (cached, computed once per corpus and
shared between folds and pipelines); fitted extractors (TF-IDF) and every model see the rows
passed to ``fit`` only. Learned late fusions are fitted on out-of-fold probabilities that the
branches give on training speakers held out in inner folds.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .components import FeatureExtractor, Model
from .data.audio import load_audio
from .data.manifest import Manifest
from .errors import ComponentError, EmoframeError
from .evaluation.splits import inner_folds
from .features import FeatureCache, extract_features
from .registry import Registry, get_registry
from .spec import BranchSpec, ComponentRef, PipelineSpec, load_spec, parse_spec, validate

Progress = Callable[[str], None]


def _ref_key(ref: ComponentRef) -> str:
    return json.dumps(ref.model_dump(mode="json"), sort_keys=True)


class FeatureProvider:
    """Per-sample features of stateless extractors, extracted once (cached) and shared by every fit."""

    def __init__(self, registry: Registry | None = None, cache: FeatureCache | None = None, jobs: int | None = None,
                 progress: bool | Callable[[int, int], None] = False):
        self.registry = registry or get_registry()
        self.cache, self.jobs, self.progress = cache, jobs, progress
        self._values: dict[str, dict[str, np.ndarray]] = {}
        self.failures: dict[str, dict[str, str]] = {}

    def extractor(self, ref: ComponentRef) -> FeatureExtractor:
        return self.registry.create(ref.name, ref.params, kind="extractor")  # type: ignore[return-value]

    def prepare(self, ref: ComponentRef, manifest: Manifest) -> None:
        """Extract whatever rows of ``manifest`` this extractor has not seen yet."""
        key = _ref_key(ref)
        known = self._values.setdefault(key, {})
        failed = self.failures.setdefault(ref.name, {})
        todo = manifest.subset(~manifest.frame["id"].isin(set(known) | set(failed)).to_numpy())
        if len(todo) == 0:
            return
        result = extract_features(self.extractor(ref), todo, jobs=self.jobs, cache=self.cache, progress=self.progress)
        known.update(result.as_dict())
        failed.update(result.failures)

    def get(self, ref: ComponentRef, manifest: Manifest) -> list[np.ndarray]:
        self.prepare(ref, manifest)
        known = self._values[_ref_key(ref)]
        missing = [i for i in manifest.ids if i not in known]
        if missing:
            reasons = self.failures.get(ref.name, {})
            detail = "; ".join(f"{i}: {reasons.get(i, 'not extracted')}" for i in missing[:3])
            raise ComponentError(f"{ref.name}: no features for {len(missing)} sample(s) ({detail}); "
                                 "drop them from the manifest (evaluation does this and reports them)")
        return [known[i] for i in manifest.ids]

    def usable(self, refs: list[ComponentRef], manifest: Manifest) -> Manifest:
        """The rows every one of these extractors could process."""
        keep = np.ones(len(manifest), dtype=bool)
        for ref in refs:
            self.prepare(ref, manifest)
            known = self._values[_ref_key(ref)]
            keep &= manifest.frame["id"].isin(known).to_numpy()
        return manifest.subset(keep)


def speaker_normalise(X: Any, speakers: np.ndarray) -> Any:
    """z-normalise each speaker's features (vectors or sequences) by that speaker's own statistics.

    Speakers with a single row keep their values centred on nothing: they are only scaled
    by their own frames (sequences) or left as they are (vectors).
    """
    if isinstance(X, list):  # sequences: statistics over all frames of the speaker
        out = list(X)
        for s in np.unique(speakers):
            idx = np.flatnonzero(speakers == s)
            frames = np.vstack([X[i] for i in idx])
            mu, sd = frames.mean(0), frames.std(0)
            sd[sd < 1e-8] = 1.0
            for i in idx:
                out[i] = ((X[i] - mu) / sd).astype(np.float32)
        return out
    X = _dense(X).astype(np.float64)
    for s in np.unique(speakers):
        idx = speakers == s
        if idx.sum() < 2:
            continue
        sd = X[idx].std(0)
        sd[sd < 1e-8] = 1.0
        X[idx] = (X[idx] - X[idx].mean(0)) / sd
    return X


def _dense(X: Any) -> np.ndarray:
    return X.toarray() if hasattr(X, "toarray") else np.asarray(X)


def align_proba(P: np.ndarray, model_classes: np.ndarray, classes: np.ndarray, name: str) -> np.ndarray:
    """Reorder a model's probability columns to ``classes`` (zeros for classes it never saw)."""
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 2 or P.shape[1] != len(model_classes):
        raise ComponentError(f"{name}: predict_proba returned shape {P.shape} for {len(model_classes)} classes")
    if not np.all(np.isfinite(P)):
        raise ComponentError(f"{name}: predict_proba returned NaN or inf")
    out = np.zeros((P.shape[0], len(classes)))
    index = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(model_classes):
        if c in index:
            out[:, index[c]] = P[:, j]
    total = out.sum(1, keepdims=True)
    return np.divide(out, total, out=np.full_like(out, 1 / len(classes)), where=total > 0)


class Branch:
    """One modality's extractor (+ model) at run time."""

    def __init__(self, key: str, spec: BranchSpec, registry: Registry, model_ref: ComponentRef | None = None):
        self.key, self.spec, self.registry = key, spec, registry
        self.extractor_ref = spec.extractor
        self.model_ref = model_ref if model_ref is not None else spec.model
        self.modality = spec.modality or ("audio" if key.startswith("audio") else "text")
        self.extractor: FeatureExtractor | None = (
            registry.create(spec.extractor.name, spec.extractor.params, kind="extractor")  # type: ignore[assignment]
            if spec.extractor is not None else None)
        self.model: Model | None = None

    @property
    def stateless_ref(self) -> ComponentRef | None:
        return self.extractor_ref if self.extractor is not None and self.extractor.stateless else None

    def inputs(self, manifest: Manifest, provider: FeatureProvider, fit: bool) -> Any:
        """What the model (or early fusion) receives for these rows."""
        ext = self.extractor
        if ext is None:
            X: Any = (manifest.texts if self.modality == "text" else
                      [load_audio(p, 16000, *manifest.segment(i)) for i, p in enumerate(manifest.frame["audio"])])
            return X
        if ext.stateless:
            values = provider.get(self.extractor_ref, manifest)  # type: ignore[arg-type]
            X = np.vstack([v.reshape(1, -1) for v in values]) if ext.output == "vector" else values
        else:
            raw = manifest.texts if ext.modality == "text" else [
                load_audio(p, ext.sample_rate, *manifest.segment(i)) for i, p in enumerate(manifest.frame["audio"])]
            if fit:
                ext.fit(raw, manifest.labels)
            X = ext.transform(raw)
            if ext.output == "sequence" and isinstance(X, np.ndarray) and X.ndim == 3:
                X = list(X)
        if self.spec.normalise == "speaker":
            X = speaker_normalise(X, manifest.speakers)
        return X

    def fit(self, manifest: Manifest, provider: FeatureProvider, progress: Progress | None = None) -> Branch:
        if self.model_ref is None:
            raise ComponentError(f"branch '{self.key}' has no model to fit")
        X = self.inputs(manifest, provider, fit=True)
        self.model = self.registry.create(self.model_ref.name, self.model_ref.params, kind="model")  # type: ignore[assignment]
        if progress is not None:
            self.model.progress = lambda step, total, msg="": progress(f"{self.key}: {msg or f'{step}/{total}'}")
        self.model.fit(X, manifest.labels, manifest.speakers)
        return self

    def predict_proba(self, manifest: Manifest, provider: FeatureProvider, classes: np.ndarray) -> np.ndarray:
        if self.model is None:
            raise ComponentError(f"branch '{self.key}' is not fitted")
        X = self.inputs(manifest, provider, fit=False)
        return align_proba(self.model.predict_proba(X), np.asarray(self.model.classes_), classes, self.model_ref.name)


class Pipeline:
    """One path through the flow (DESIGN.md §1), fitted on the rows it is given and nothing else."""

    def __init__(self, spec: PipelineSpec, registry: Registry | None = None):
        self.spec = spec
        self.registry = registry or get_registry()
        self.fusion: Any = (self.registry.create(spec.fusion.name, spec.fusion.params, kind="fusion")
                            if spec.fusion is not None else None)
        self.branches = {k: Branch(k, b, self.registry) for k, b in sorted(spec.branches.items())}
        self.model: Model | None = None
        self.fit_rows_: set[str] = set()

    @classmethod
    def from_spec(cls, spec: PipelineSpec | str | Path | dict[str, Any], registry: Registry | None = None) -> Pipeline:
        """Build from a spec object, a YAML/JSON path, or a dict; validated against the registry."""
        registry = registry or get_registry()
        if isinstance(spec, (str, Path)):
            spec = load_spec(spec, registry)
        elif isinstance(spec, dict):
            spec = parse_spec(spec)
            validate(spec, registry)
        else:
            validate(spec, registry)
        if not isinstance(spec, PipelineSpec):
            raise EmoframeError("this is a benchmark spec (it lists alternatives); run it with `emoframe bench`, "
                                "or pick one pipeline")
        return cls(spec, registry)

    @property
    def early(self) -> bool:
        return self.fusion is not None and self.fusion.fusion_kind == "early"

    def stateless_refs(self) -> list[ComponentRef]:
        return [b.stateless_ref for b in self.branches.values() if b.stateless_ref is not None]

    def fit(self, manifest: Manifest, provider: FeatureProvider | None = None,
            progress: Progress | None = None) -> Pipeline:
        provider = provider or FeatureProvider(self.registry)
        if len(manifest) == 0:
            raise ComponentError("cannot fit on an empty set of utterances")
        self.classes_ = np.unique(manifest.labels)
        if len(self.classes_) < 2:
            raise ComponentError(f"training data has a single class ({self.classes_[0]}); need at least two")
        self.fit_rows_ = set(manifest.ids)
        if self.early:
            blocks = {k: _dense(b.inputs(manifest, provider, fit=True)) for k, b in self.branches.items()}
            Z = self.fusion.fit(blocks, manifest.labels).transform(blocks)
            ref = self.spec.model
            self.model = self.registry.create(ref.name, ref.params, kind="model")  # type: ignore[union-attr,assignment]
            self.model.fit(Z, manifest.labels, manifest.speakers)
            return self
        for b in self.branches.values():
            b.fit(manifest, provider, progress)
        if self.fusion is not None:
            if self.fusion.needs_heldout:
                probas = self.out_of_fold(manifest, provider, progress)
            else:
                probas = {k: b.predict_proba(manifest, provider, self.classes_) for k, b in self.branches.items()}
            self.fusion.fit(probas, manifest.labels, self.classes_)
        return self

    def out_of_fold(self, manifest: Manifest, provider: FeatureProvider,
                    progress: Progress | None = None) -> dict[str, np.ndarray]:
        """Each branch's probabilities on training rows, from fits on the other inner folds (by speaker)."""
        ev = self.spec.evaluation
        folds = inner_folds(manifest.labels, manifest.speakers, ev.inner_folds, ev.seed)
        out = {k: np.zeros((len(manifest), len(self.classes_))) for k in self.branches}
        for i, (tr, va) in enumerate(folds):
            if progress is not None:
                progress(f"inner fold {i + 1}/{len(folds)} for the fusion's training probabilities")
            inner_train, inner_val = manifest.subset(_mask(len(manifest), tr)), manifest.subset(_mask(len(manifest), va))
            for k, b in self.branches.items():
                clone = Branch(k, b.spec, self.registry).fit(inner_train, provider)
                out[k][va] = clone.predict_proba(inner_val, provider, self.classes_)
        return out

    def branch_probas(self, manifest: Manifest, provider: FeatureProvider | None = None) -> dict[str, np.ndarray]:
        """Each fitted branch's own probabilities (late fusion and single-branch pipelines)."""
        provider = provider or FeatureProvider(self.registry)
        if self.early:
            raise ComponentError("early fusion has no per-branch probabilities; evaluate the branches separately")
        return {k: b.predict_proba(manifest, provider, self.classes_) for k, b in self.branches.items()}

    def predict_proba(self, manifest: Manifest, provider: FeatureProvider | None = None) -> np.ndarray:
        if not hasattr(self, "classes_"):
            raise ComponentError("predict_proba called before fit")
        provider = provider or FeatureProvider(self.registry)
        if self.early:
            blocks = {k: _dense(b.inputs(manifest, provider, fit=False)) for k, b in self.branches.items()}
            Z = self.fusion.transform(blocks)
            return align_proba(self.model.predict_proba(Z), np.asarray(self.model.classes_), self.classes_,  # type: ignore[union-attr]
                               self.spec.model.name)  # type: ignore[union-attr]
        probas = self.branch_probas(manifest, provider)
        if self.fusion is None:
            return next(iter(probas.values()))
        P = np.asarray(self.fusion.predict_proba(probas), dtype=np.float64)
        return align_proba(P, np.asarray(self.fusion.classes_), self.classes_, self.spec.fusion.name)  # type: ignore[union-attr]

    def predict(self, manifest: Manifest, provider: FeatureProvider | None = None) -> np.ndarray:
        return self.classes_[self.predict_proba(manifest, provider).argmax(1)]


def _mask(n: int, idx: np.ndarray) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    m[idx] = True
    return m
