"""One pipeline fitted and run: its branches, the work they share within a fold, and the pipeline itself."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..data.manifest import Manifest
from ..data.perturb import COLUMN as PERTURB_COLUMN
from ..data.perturb import row_audio
from ..errors import ComponentError, EmoframeError
from ..evaluation.proba import align_proba
from ..evaluation.splits import inner_folds
from ..plugin.components import FeatureExtractor, Model
from ..plugin.contract import fit_model, guard, origin, predict_proba
from ..plugin.registry import Registry, get_registry
from ..spec import (
    BenchmarkSpec,
    BranchSpec,
    ComponentRef,
    PipelineSpec,
    branch_modality,
    load_spec,
    parse_spec,
    validate,
)
from ..spec.search import is_tuned, with_params
from .arrays import dense as _dense
from .arrays import speaker_normalise, state_size
from .provider import FeatureProvider
from .tuning import TuningRecord, tune

Progress = Callable[[str], None]


class Branch:
    """One modality's extractor (+ model) at run time."""

    def __init__(self, key: str, spec: BranchSpec, registry: Registry, model_ref: ComponentRef | None = None):
        self.key, self.spec, self.registry = key, spec, registry
        self.extractor_ref = spec.extractor
        self.model_ref = model_ref if model_ref is not None else spec.model
        self.modality = branch_modality(key, spec.modality) or "text"
        self.transcripts = spec.transcripts or "gold"  # text branches: gold or asr text
        self.extractor: FeatureExtractor | None = (
            registry.create(spec.extractor.name, spec.extractor.params, kind="extractor")
            if spec.extractor is not None
            else None
        )
        self.model: Model | None = None

    @property
    def stateless_ref(self) -> ComponentRef | None:
        return self.extractor_ref if self.extractor is not None and self.extractor.stateless else None

    def inputs(self, manifest: Manifest, provider: FeatureProvider, fit: bool) -> Any:
        """What the model (or early fusion) receives for these rows."""
        if self.transcripts == "asr":
            manifest = manifest.with_asr_text()
        ext = self.extractor
        if ext is None:
            X: Any = (
                manifest.texts
                if self.modality == "text"
                else [row_audio(manifest, i, 16000) for i in range(len(manifest))]
            )
            return X
        if ext.stateless:
            values = provider.get(self.extractor_ref, manifest)  # type: ignore[arg-type]
            X = np.vstack([v.reshape(1, -1) for v in values]) if ext.output == "vector" else values
        else:
            raw = (
                manifest.texts
                if ext.modality == "text"
                else [row_audio(manifest, i, ext.sample_rate) for i in range(len(manifest))]
            )
            if fit:
                with guard(ext, "fit_transform"):
                    X = ext.fit_transform(raw, manifest.labels)
            else:
                with guard(ext, "transform"):
                    X = ext.transform(raw)
            if ext.output == "sequence" and isinstance(X, np.ndarray) and X.ndim == 3:
                X = list(X)
        if self.spec.normalise == "speaker":
            X = speaker_normalise(X, manifest.speakers)
        elif self.spec.normalise == "corpus":  # each corpus by its own statistics; one corpus: the rows given
            corpus = manifest.frame["corpus"] if "corpus" in manifest.frame else None
            X = speaker_normalise(X, corpus.astype(str).to_numpy() if corpus is not None else np.zeros(len(manifest)))
        return X

    def fit(
        self,
        manifest: Manifest,
        provider: FeatureProvider,
        progress: Progress | None = None,
        probabilities_used: bool = True,
    ) -> Branch:
        if self.model_ref is None:
            raise ComponentError(f"branch '{self.key}' has no model to fit")
        t0, c0 = time.perf_counter(), time.process_time()
        X = self.inputs(manifest, provider, fit=True)
        self.model = self.registry.create(self.model_ref.name, self.model_ref.params, kind="model")
        self.model.probabilities_used = probabilities_used
        if progress is not None:
            self.model.progress = lambda step, total, msg="": progress(f"{self.key}: {msg or f'{step}/{total}'}")
        fit_model(self.model, X, manifest.labels, manifest.speakers)
        self.fit_seconds = time.perf_counter() - t0
        self.fit_cpu_seconds = time.process_time() - c0
        return self

    def predict_proba(self, manifest: Manifest, provider: FeatureProvider, classes: np.ndarray) -> np.ndarray:
        if self.model is None or self.model_ref is None:
            raise ComponentError(f"branch '{self.key}' is not fitted")
        X = self.inputs(manifest, provider, fit=False)
        return align_proba(predict_proba(self.model, X), np.asarray(self.model.classes_), classes, origin(self.model))


class FoldWork:
    """What every pipeline trained on one training set can share: fitted branches, their
    out-of-fold probabilities and their predictions. A grid of K fusions over the same branches
    then trains the branches once, not K times."""

    def __init__(self) -> None:
        self._branches: dict[str, Branch] = {}
        self._oof: dict[str, np.ndarray] = {}
        self.oof_seconds: dict[str, float] = {}
        self.oof_cpu_seconds: dict[str, float] = {}
        self._proba: dict[tuple[str, int], np.ndarray] = {}
        self._proba_seconds: dict[tuple[str, int], float] = {}
        #: (seconds it took, computed now rather than reused) of each branch prediction handed out: what a
        #: pipeline's standalone prediction time adds back for the predictions another pipeline computed
        self.proba_log: list[tuple[float, bool]] = []
        self.hits = 0

    @staticmethod
    def key(branch_key: str, spec: BranchSpec, model_ref: ComponentRef | None, extra: Any = None) -> str:
        return json.dumps(
            [branch_key, spec.model_dump(mode="json"), model_ref.model_dump(mode="json") if model_ref else None, extra],
            sort_keys=True,
        )

    def branch(
        self,
        key: str,
        spec: BranchSpec,
        registry: Registry,
        train: Manifest,
        provider: FeatureProvider,
        progress: Progress | None = None,
        model_ref: ComponentRef | None = None,
        probabilities_used: bool = True,
    ) -> Branch:
        ref = model_ref if model_ref is not None else spec.model
        calibrates = ref is not None and getattr(registry.get(ref.name).cls, "calibrates", False)
        # one fit serves both uses unless the model fits differently when its probabilities are read
        k = self.key(key, spec, model_ref, [sorted(train.ids), probabilities_used if calibrates else None])
        if k in self._branches:
            self.hits += 1
        else:
            self._branches[k] = Branch(key, spec, registry, model_ref).fit(
                train, provider, progress, probabilities_used
            )
        return self._branches[k]

    def oof_key(self, key: str, spec: BranchSpec, train: Manifest, classes: np.ndarray, inner: int, seed: int) -> str:
        return self.key(key, spec, None, [sorted(train.ids), inner, seed, classes.tolist()])

    def oof(
        self,
        key: str,
        spec: BranchSpec,
        registry: Registry,
        train: Manifest,
        provider: FeatureProvider,
        classes: np.ndarray,
        inner: int,
        seed: int,
        progress: Progress | None = None,
    ) -> np.ndarray:
        k = self.oof_key(key, spec, train, classes, inner, seed)
        if k in self._oof:
            self.hits += 1
            return self._oof[k]
        t0, c0 = time.perf_counter(), time.process_time()
        out = np.zeros((len(train), len(classes)))
        for i, (tr, va) in enumerate(inner_folds(train.labels, train.speakers, inner, seed)):
            if progress is not None:
                progress(f"{key}: inner fold {i + 1}/{inner} for the fusion's training probabilities")
            fitted = Branch(key, spec, registry).fit(train.take(tr), provider)
            out[va] = fitted.predict_proba(train.take(va), provider, classes)
        self._oof[k] = out
        self.oof_seconds[k] = time.perf_counter() - t0
        self.oof_cpu_seconds[k] = time.process_time() - c0
        return out

    def proba(self, branch: Branch, manifest: Manifest, provider: FeatureProvider, classes: np.ndarray) -> np.ndarray:
        # keyed by content, not ids alone: perturbed copies of the test rows keep their ids
        noise = tuple(manifest.frame[PERTURB_COLUMN]) if PERTURB_COLUMN in manifest.frame else ()
        content = hash((tuple(manifest.ids), tuple(manifest.frame["audio"]), tuple(manifest.texts), noise))
        k = (f"{id(branch)}|{id(provider)}|{classes.tolist()}", content)
        fresh = k not in self._proba
        if fresh:
            t0 = time.perf_counter()
            self._proba[k] = branch.predict_proba(manifest, provider, classes)
            self._proba_seconds[k] = time.perf_counter() - t0
        else:
            self.hits += 1
        self.proba_log.append((self._proba_seconds[k], fresh))
        return self._proba[k]


class Pipeline:
    """One path through the flow (docs/architecture.md), fitted on the rows it is given and nothing else."""

    def __init__(self, spec: PipelineSpec, registry: Registry | None = None):
        self.registry = registry or get_registry()
        self._build(spec)
        self.fit_rows_: set[str] = set()
        self.tuning_: TuningRecord | None = None  # what nested tuning chose, when a slot carries a search
        self.tuning_cpu_s = 0.0  # CPU seconds of that search

    def _build(self, spec: PipelineSpec) -> None:
        self.spec = spec
        self.fusion: Any = (
            self.registry.create(spec.fusion.name, spec.fusion.params, kind="fusion")
            if spec.fusion is not None
            else None
        )
        self.branches = {k: Branch(k, self._resolved(k, b), self.registry) for k, b in sorted(spec.branches.items())}
        self.model: Model | None = None

    def _resolved(self, key: str, branch: BranchSpec) -> BranchSpec:
        """A text branch's spec with its transcript source spelled out (the data's default applied), so that
        fits shared between pipelines never mix gold and ASR text."""
        if branch_modality(key, branch.modality) != "text":
            return branch
        return branch.model_copy(update={"transcripts": self.spec.transcripts_of(key)})

    @classmethod
    def from_spec(cls, spec: PipelineSpec | str | Path | dict[str, Any], registry: Registry | None = None) -> Pipeline:
        """Build from a spec object, a YAML/JSON path, or a dict; validated against the registry."""
        registry = registry or get_registry()
        parsed: PipelineSpec | BenchmarkSpec
        if isinstance(spec, (str, Path)):
            parsed = load_spec(spec, registry)
        elif isinstance(spec, dict):
            parsed = parse_spec(spec)
            validate(parsed, registry)
        else:
            parsed = spec
            validate(parsed, registry)
        if not isinstance(parsed, PipelineSpec):
            raise EmoframeError(
                "this is a benchmark spec (it lists alternatives); run it with `emoframe bench`, or pick one pipeline"
            )
        return cls(parsed, registry)

    @property
    def early(self) -> bool:
        return self.fusion is not None and self.fusion.fusion_kind == "early"

    def stateless_refs(self) -> list[ComponentRef]:
        return [b.stateless_ref for b in self.branches.values() if b.stateless_ref is not None]

    def learned(self) -> dict[str, dict[str, Any]]:
        """What the fitted models report (``Model.report``), by 'branch: model' (or the early-fusion model)."""
        out = {}
        models = [(f"{k}: {b.model.name}", b.model) for k, b in self.branches.items() if b.model is not None]
        if self.model is not None:
            models.append((self.model.name, self.model))
        for where, model in models:
            with guard(model, "report"):
                info = model.report()
            if info:
                out[where] = json.loads(json.dumps(info, default=float))
        return out

    def _fitted_components(self) -> list[tuple[str, Any]]:
        """(where, component) of everything fitting trained: fitted extractors, models, the fusion."""
        out: list[tuple[str, Any]] = []
        for k, b in self.branches.items():
            if b.extractor is not None and not b.extractor.stateless:
                out.append((f"{k}: {b.extractor.name}", b.extractor))
            if b.model is not None:
                out.append((f"{k}: {b.model.name}", b.model))
        if self.model is not None:
            out.append((self.model.name, self.model))
        if self.fusion is not None:
            out.append((self.fusion.name, self.fusion))
        return out

    def state_bytes(self) -> int | None:
        """Bytes of the fitted state a bundle saves (arrays and weights by their size, other objects such as
        scikit-learn estimators by their serialised size); None when a component cannot hand its state over."""
        total = 0
        for _, component in self._fitted_components():
            try:
                total += state_size(component.state())
            except Exception:  # noqa: BLE001 — a cost figure never fails a fold
                return None
        return total

    def curves(self) -> dict[str, dict[str, Any]]:
        """The training curve of each fitted model trained by epochs (``Model.training_curve``), by 'branch: model'."""
        out = {}
        for where, component in self._fitted_components():
            if isinstance(component, Model):
                with guard(component, "training_curve"):
                    curve = component.training_curve()
                if curve:
                    out[where] = json.loads(json.dumps(curve, default=float))
        return out

    def fit(
        self,
        manifest: Manifest,
        provider: FeatureProvider | None = None,
        progress: Progress | None = None,
        work: FoldWork | None = None,
        labels_only: bool = False,
    ) -> Pipeline:
        """Fit on these rows; ``work`` shares fitted branches with other pipelines of the same fold.

        ``labels_only``: only the argmax of this pipeline's probabilities will be read (a benchmark
        fold), so its models may skip calibration; a late fusion's branches are calibrated anyway.
        """
        provider = provider or FeatureProvider(self.registry)
        self.work = work or FoldWork()
        t0, c0 = time.perf_counter(), time.process_time()
        if len(manifest) == 0:
            raise ComponentError("cannot fit on an empty set of utterances")
        self.classes_ = np.unique(manifest.labels)
        if len(self.classes_) < 2:
            raise ComponentError(f"training data has a single class ({self.classes_[0]}); need at least two")
        if is_tuned(self.spec):  # nested tuning on these rows only, then the refit on all of them
            self._tune(manifest, provider, progress)
        self.fit_rows_ = set(manifest.ids)
        # what stands in for a missing modality when a decision is attributed (pipeline.explain)
        labels = np.asarray(manifest.labels)
        self.prior_ = np.array([np.mean(labels == c) for c in self.classes_], dtype=np.float64)
        if self.early:
            blocks = {k: _dense(b.inputs(manifest, provider, fit=True)) for k, b in self.branches.items()}
            self.block_means_ = {k: np.asarray(v, dtype=np.float64).mean(axis=0) for k, v in blocks.items()}
            with guard(self.fusion, "fit"):
                Z = self.fusion.fit(blocks, manifest.labels).transform(blocks)
            ref = self.spec.model
            assert ref is not None  # validation: early fusion has a model
            self.model = self.registry.create(ref.name, ref.params, kind="model")
            self.model.probabilities_used = not labels_only
            fit_model(self.model, Z, manifest.labels, manifest.speakers)
            self.fit_seconds = time.perf_counter() - t0
            self.fit_cpu_seconds = time.process_time() - c0
            return self
        self.branches = {
            k: self.work.branch(
                k,
                b.spec,
                self.registry,
                manifest,
                provider,
                progress,
                probabilities_used=self.fusion is not None or not labels_only,
            )
            for k, b in self.branches.items()
        }
        shared = sum(b.fit_seconds for b in self.branches.values())
        shared_cpu = sum(b.fit_cpu_seconds for b in self.branches.values())
        if self.fusion is not None:
            if self.fusion.needs_heldout:
                probas = self.out_of_fold(manifest, provider, progress)
                ev = self.spec.evaluation
                keys = [
                    self.work.oof_key(k, b.spec, manifest, self.classes_, ev.inner_folds, ev.seed)
                    for k, b in self.branches.items()
                ]
                shared += sum(self.work.oof_seconds[k] for k in keys)
                shared_cpu += sum(self.work.oof_cpu_seconds[k] for k in keys)
            else:
                probas = self.branch_probas(manifest, provider)
            t1, c1 = time.perf_counter(), time.process_time()
            with guard(self.fusion, "fit"):
                self.fusion.fit(probas, manifest.labels, self.classes_)
            shared += time.perf_counter() - t1
            shared_cpu += time.process_time() - c1
        # the standalone cost: every branch and inner fit it needs, whoever in the fold did the work, and its search
        searched, searched_cpu = (self.tuning_.seconds, self.tuning_cpu_s) if self.tuning_ is not None else (0.0, 0.0)
        self.fit_seconds, self.fit_cpu_seconds = shared + searched, shared_cpu + searched_cpu
        return self

    def _tune(self, manifest: Manifest, provider: FeatureProvider, progress: Progress | None) -> None:
        """Search the spec's space on speaker-grouped inner folds of ``manifest`` (features shared through
        ``provider``, never extracted again) and become the pipeline with the parameters chosen."""
        registry = self.registry

        def fit_predict(trial: PipelineSpec, inner_train: Manifest, inner_val: Manifest) -> np.ndarray:
            return Pipeline(trial, registry).fit(inner_train, provider, labels_only=True).predict(inner_val, provider)

        c0 = time.process_time()
        record = tune(self.spec, manifest, self.classes_, fit_predict, progress or (lambda msg: None))
        self.tuning_cpu_s = time.process_time() - c0
        self.searched_spec = self.spec
        self._build(with_params(self.spec, record.chosen))  # the refit pipeline, searched nowhere
        self.tuning_ = record

    def out_of_fold(
        self, manifest: Manifest, provider: FeatureProvider, progress: Progress | None = None
    ) -> dict[str, np.ndarray]:
        """Each branch's probabilities on training rows, from fits on the other inner folds (by speaker)."""
        ev = self.spec.evaluation
        return {
            k: self.work.oof(
                k, b.spec, self.registry, manifest, provider, self.classes_, ev.inner_folds, ev.seed, progress
            )
            for k, b in self.branches.items()
        }

    def branch_probas(self, manifest: Manifest, provider: FeatureProvider | None = None) -> dict[str, np.ndarray]:
        """Each fitted branch's own probabilities (late fusion and single-branch pipelines)."""
        provider = provider or FeatureProvider(self.registry)
        if self.early:
            raise ComponentError("early fusion has no per-branch probabilities; evaluate the branches separately")
        return {k: self.work.proba(b, manifest, provider, self.classes_) for k, b in self.branches.items()}

    def predict_proba(self, manifest: Manifest, provider: FeatureProvider | None = None) -> np.ndarray:
        if not hasattr(self, "classes_"):
            raise ComponentError("predict_proba called before fit")
        provider = provider or FeatureProvider(self.registry)
        if self.early:
            blocks = {k: _dense(b.inputs(manifest, provider, fit=False)) for k, b in self.branches.items()}
            with guard(self.fusion, "transform"):
                Z = self.fusion.transform(blocks)
            if self.model is None or self.spec.model is None:
                raise ComponentError("predict_proba called before fit")
            return align_proba(
                predict_proba(self.model, Z), np.asarray(self.model.classes_), self.classes_, origin(self.model)
            )
        probas = self.branch_probas(manifest, provider)
        if self.fusion is None:
            return next(iter(probas.values()))
        with guard(self.fusion, "predict_proba"):
            P = np.asarray(self.fusion.predict_proba(probas), dtype=np.float64)
        return align_proba(P, np.asarray(self.fusion.classes_), self.classes_, self.fusion.name)

    def predict(self, manifest: Manifest, provider: FeatureProvider | None = None) -> np.ndarray:
        return self.classes_[self.predict_proba(manifest, provider).argmax(1)]
