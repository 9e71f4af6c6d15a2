"""A loaded bundle that labels new recordings: ``emoframe.load(DIR).predict(...)``.

    model = emoframe.load("bundle")
    model.predict(["a.wav", "b.wav"], texts=["I am fine", "leave me alone"])    # labels
    model.predict_proba([(signal, 16000)], texts=["..."])                       # DataFrame

Rows that cannot be predicted (missing, corrupt or silent audio; no transcript where the
bundle reads text) are not guessed: the DataFrame API raises naming them, the record API
(:meth:`Predictor.predict_manifest`, used by the CLI and the server) returns them apart.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data.audio import AudioError, load_audio
from ..data.manifest import Manifest
from ..errors import BundleError, ComponentError, DataError
from ..features import FeatureCache
from ..pipeline import FeatureProvider, FoldWork, Pipeline
from ..plugin.components import LateFusion
from ..plugin.registry import Registry, get_registry
from ..workers import Limits
from .bundle import BundleWarning, feature_widths, open_bundle

NO_TEXT = "no transcript (this bundle reads text: give a text column, a NAME.txt beside the audio, or --text)"
TRANSCRIPT_COLUMNS = ["transcript", "transcript_source"]


@dataclass
class Predictions:
    """One record per predicted row (id, label, class probabilities, branch probabilities, fusion
    weights) and the rows that could not be predicted, id → reason."""

    records: list[dict[str, Any]]
    failures: dict[str, str] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)


class Predictor:
    """A fitted pipeline loaded from a bundle, with its metadata (``meta``: bundle.json) and what loading
    found the user should know (``warnings``: components whose code changed since training)."""

    def __init__(
        self, pipeline: Pipeline, meta: dict[str, Any], path: Path | None = None, warnings: list[str] | None = None
    ):
        self.pipeline, self.meta, self.path = pipeline, meta, path
        self.warnings = list(warnings or [])
        self.classes = [str(c) for c in meta["classes"]]
        self.needs_audio = bool(meta["needs"]["audio"])
        self.needs_text = bool(meta["needs"]["text"])
        self._extractors: dict[str, Any] = {}  # shared by every call's provider: warmed up once
        #: the speech recognition the bundle was trained with: used for rows that come without a transcript
        self.transcriber_ref: dict[str, Any] | None = meta.get("transcriber") if self.needs_text else None
        self._transcriber: Any = None

    @classmethod
    def load(cls, path: str | Path, registry: Registry | None = None, strict: bool = False) -> Predictor:
        """Load a bundle; ``strict`` refuses one whose components' code changed since it was trained."""
        loaded = open_bundle(path, registry or get_registry(), strict=strict)
        return cls(loaded.pipeline, loaded.meta, Path(path), loaded.warnings)

    def __repr__(self) -> str:
        return f"Predictor({self.meta['pipeline']!r}, classes={self.classes})"

    # -- the record API (CLI, server) ------------------------------------------------
    def columns(self, explain: bool = False) -> list[str]:
        """The output columns: id, label, one per class, then per branch (``audio:angry``) and weights; with
        ``explain``, the baseline and each branch's contribution to the predicted class (``contribution:audio``)."""
        cols = ["id", "label", *self.classes]
        fusion = self.pipeline.fusion
        if not self.pipeline.early and fusion is not None:
            for key in sorted(self.pipeline.branches):
                cols += [f"{key}:{c}" for c in self.classes]
            if (
                type(fusion).branch_weights is not LateFusion.branch_weights
            ):  # the fusion says how much each branch weighed
                cols += [f"weight:{key}" for key in sorted(self.pipeline.branches)]
        if self.transcriber_ref is not None:
            cols += TRANSCRIPT_COLUMNS
        if explain and self.pipeline.fusion is not None:
            cols += ["baseline", *[f"contribution:{key}" for key in sorted(self.pipeline.branches)]]
        return cols

    def check_explainable(self) -> None:
        """Refuse ``explain`` where it cannot be computed: a unimodal bundle, or one written before explanations."""
        if self.pipeline.fusion is None:
            raise BundleError(
                f"{self.meta['pipeline']} is unimodal: there are no modalities to attribute a decision to "
                "(`emoframe explain RUN PIPELINE` shows its feature importance)"
            )
        needed = "block_means_" if self.pipeline.early else "prior_"
        if not hasattr(self.pipeline, needed):
            raise BundleError(
                f"{self.path or 'this bundle'} was written before emoframe kept what explanations need (the training "
                "class prior); train the bundle again to predict with --explain"
            )

    def transcribe_missing(
        self, manifest: Manifest, cache: FeatureCache | None = None
    ) -> tuple[Manifest, dict[str, str]]:
        """Rows without a transcript get the bundle's transcriber's (cached like features); every row's text
        also becomes the text that branches trained on ASR read. Returns the rows it could not transcribe."""
        from ..features.transcripts import ASR_COLUMN, transcribe_manifest

        assert self.transcriber_ref is not None
        frame = manifest.frame.copy()
        missing = (frame["text"].astype(str).str.strip() == "") & (frame["audio"] != "")
        failures: dict[str, str] = {}
        source = ["given"] * len(frame)
        if missing.any():
            if self._transcriber is None:
                ref = self.transcriber_ref
                self._transcriber = self.pipeline.registry.create(ref["name"], ref["params"], kind="transcriber")
            todo = manifest.subset(missing.to_numpy())
            report = transcribe_manifest(self._transcriber, todo, cache)
            name = self.transcriber_ref["name"]
            failures = {i: f"no transcript, and {name} could not make one: {why}" for i, why in report.failures.items()}
            texts = [report.texts.get(str(i), "") for i in frame["id"]]
            frame["text"] = [t if m else g for t, m, g in zip(texts, missing, frame["text"])]
            source = ["asr" if m else "given" for m in missing]
        frame[ASR_COLUMN] = frame["text"]
        frame["transcript_source"] = source
        return Manifest(frame, manifest.name, manifest.root, manifest.warnings), failures

    def provider(
        self,
        cache: FeatureCache | None = None,
        jobs: int | None = 1,
        progress: bool | Callable[[str, int, int], None] = False,
        limits: Limits | None = None,
    ) -> FeatureProvider:
        return FeatureProvider(
            self.pipeline.registry,
            cache=cache,
            jobs=jobs,
            progress=progress,
            limits=limits,
            extractors=self._extractors,
        )

    def predict_manifest(
        self, manifest: Manifest, provider: FeatureProvider | None = None, explain: bool = False
    ) -> Predictions:
        """Predict every row that can be; the others come back in ``failures`` with their reason. ``explain``:
        each record also gets the baseline and every branch's contribution to its predicted class's probability
        (``pipeline.explain.attribute``: the same computation as the benchmark's attribution)."""
        if explain:
            self.check_explainable()
        provider = provider or self.provider()
        failures: dict[str, str] = {}

        def fail(i: Any, why: str) -> None:
            failures[str(i)] = f"{failures[str(i)]}; {why}" if str(i) in failures else why

        if self.transcriber_ref is not None:
            manifest, unheard = self.transcribe_missing(manifest, provider.cache)
            for i, why in unheard.items():
                fail(i, why)
        ids = manifest.ids
        if self.needs_audio:
            for i, a in zip(ids, manifest.frame["audio"]):
                if not a:
                    fail(i, "no audio (this bundle reads audio)")
            self._check_raw_audio(manifest, failures)
        refs = self.pipeline.stateless_refs()
        if len(refs) > 1:  # extractors that can share a pass over each sample share it
            provider.prepare_all(refs, manifest.subset(~manifest.frame["id"].isin(failures).to_numpy()))
        for ref in refs:
            rest = manifest.subset(~manifest.frame["id"].isin(failures).to_numpy()) if failures else manifest
            for i, why in provider.failed_rows(ref, rest).items():
                fail(i, f"{ref.name}: {why}")
        if self.needs_text:
            for i, t in zip(ids, manifest.texts):
                if not str(t).strip() and str(i) not in failures:
                    fail(i, NO_TEXT)
        usable = manifest.subset(~manifest.frame["id"].isin(failures).to_numpy()) if failures else manifest
        if not len(usable):
            return Predictions([], failures, self.columns(explain))
        self._check_widths(usable, provider)
        self.pipeline.work = FoldWork()  # per call: its memo would otherwise grow with every request
        P = self.pipeline.predict_proba(usable, provider)
        # plain dicts, built column-wise from the arrays (a DataFrame here costs more than the models)
        columns: dict[str, list[Any]] = {"id": [str(i) for i in usable.ids]}
        columns["label"] = [self.classes[k] for k in P.argmax(1)]
        columns.update({c: P[:, j].tolist() for j, c in enumerate(self.classes)})
        if not self.pipeline.early and self.pipeline.fusion is not None:
            probas = self.pipeline.branch_probas(usable, provider)
            for key in sorted(probas):
                columns.update({f"{key}:{c}": probas[key][:, j].tolist() for j, c in enumerate(self.classes)})
            for key, w in self.pipeline.fusion.branch_weights(probas).items():
                columns[f"weight:{key}"] = np.asarray(w, dtype=float).tolist()
        if self.transcriber_ref is not None:
            columns["transcript"] = usable.texts
            columns["transcript_source"] = usable.frame["transcript_source"].tolist()
        if explain:
            from ..pipeline.explain import attribute

            a = attribute(self.pipeline, usable, provider)  # late fusion: the branch probabilities just computed
            columns["baseline"] = a["baseline"]
            for key in sorted(a["contributions"]):
                columns[f"contribution:{key}"] = a["contributions"][key]
        records = [dict(zip(columns, row)) for row in zip(*columns.values())]
        return Predictions(records, failures, self.columns(explain))

    def _check_widths(self, manifest: Manifest, provider: FeatureProvider) -> None:
        """An extractor that now gives another number of features than in training is named, before a
        model downstream fails with "fitted on 4 features, got 5" (or, at the same width, is fed
        features it was not trained on: that is the code-digest warning)."""
        recorded = {
            e["role"].split("/")[1]: (e["name"], e["width"])
            for e in self.meta.get("components", [])
            if isinstance(e.get("width"), int)
        }
        if not recorded:
            return
        for key, got in feature_widths(self.pipeline, manifest, provider).items():
            name, want = recorded.get(key, ("", got))
            if got != want:
                why = (
                    "its code changed since the bundle was trained"
                    if any(f"'{name}'" in w for w in self.warnings)
                    else "its code is the same, so a library under it changed"
                )
                raise BundleError(
                    f"extractor '{name}' (branch '{key}') gives {got} feature(s) per sample here but gave {want} "
                    f"when this bundle was trained ({why}); install the {name} the bundle was trained with, "
                    "or train the bundle again"
                )

    def _check_raw_audio(self, manifest: Manifest, failures: dict[str, str]) -> None:
        """Branches that read the waveform themselves (no cached extractor) would stop on a bad file:
        check each file first, so that it is reported and the others are predicted."""
        raw = [
            b
            for b in self.pipeline.branches.values()
            if b.modality == "audio" and (b.extractor is None or not b.extractor.stateless)
        ]
        if not raw:
            return
        for i, path, (start, end) in zip(manifest.ids, manifest.frame["audio"], manifest.segments()):
            if str(i) in failures or not path:
                continue
            try:
                load_audio(path, 16000, start, end)
            except AudioError as exc:
                failures[str(i)] = exc.reason

    # -- the Python API ------------------------------------------------------------------
    def predict_proba(
        self, inputs: Sequence[Any] | None = None, texts: Sequence[str | None] | str | None = None
    ) -> pd.DataFrame:
        """Class probabilities, one row per input (index: input ids), columns the classes.

        ``inputs``: audio paths, or ``(signal, sample_rate)`` pairs; None for a text-only bundle.
        ``texts``: one transcript per input (or one string for a single input).
        """
        with tempfile.TemporaryDirectory(prefix="emoframe-predict-") as tmp:
            manifest = self._manifest(inputs, texts, Path(tmp))
            result = self.predict_manifest(manifest)
        if result.failures:
            detail = "; ".join(f"{i}: {why}" for i, why in list(result.failures.items())[:5])
            raise DataError(f"{len(result.failures)} input(s) cannot be predicted: {detail}")
        frame = pd.DataFrame(
            [[r[c] for c in self.classes] for r in result.records],
            columns=self.classes,
            index=pd.Index([r["id"] for r in result.records], name="id"),
        )
        return frame

    def predict(
        self, inputs: Sequence[Any] | None = None, texts: Sequence[str | None] | str | None = None
    ) -> np.ndarray:
        """The predicted label of each input."""
        P = self.predict_proba(inputs, texts)
        return np.asarray(self.classes, dtype=object)[P.to_numpy().argmax(1)]

    def _manifest(self, inputs: Sequence[Any] | None, texts: Sequence[str | None] | str | None, tmp: Path) -> Manifest:
        import soundfile as sf

        if isinstance(inputs, (str, Path)) or (
            isinstance(inputs, tuple) and len(inputs) == 2 and not isinstance(inputs[0], (str, Path))
        ):
            inputs = [inputs]
        if isinstance(texts, str):
            texts = [texts]
        n = len(inputs) if inputs is not None else len(texts or [])
        if inputs is None and self.needs_audio:
            raise DataError(f"{self.meta['pipeline']} reads audio: pass audio paths or (signal, sample_rate) pairs")
        if texts is not None and len(texts) != n:
            raise DataError(f"{n} input(s) but {len(texts)} transcript(s); give one transcript per input")
        rows = []
        for k in range(n):
            audio = ""
            if inputs is not None:
                item = inputs[k]
                if isinstance(item, (str, Path)):
                    audio = str(Path(item).resolve())
                elif isinstance(item, tuple) and len(item) == 2:
                    signal, sr = np.asarray(item[0], dtype=np.float32), int(item[1])
                    if signal.ndim == 2:  # (samples × channels) → mono
                        signal = signal.mean(axis=1)
                    audio = str(tmp / f"input-{k}.wav")
                    sf.write(audio, signal, sr, subtype="FLOAT")
                else:
                    raise ComponentError(
                        f"input {k}: expected an audio path or a (signal, sample_rate) pair, got {type(item).__name__}"
                    )
            text = "" if texts is None or texts[k] is None else str(texts[k])
            rows.append({"id": f"input-{k}", "audio": audio, "text": text, "label": "?", "speaker": f"input-{k}"})
        if not rows:
            raise DataError("nothing to predict: no inputs given")
        # rows built here are valid by construction (unique ids, absolute paths): skip the manifest checks,
        # which cost more than the models on a single utterance; an unusable file is reported by extraction
        return Manifest(pd.DataFrame(rows), name="inputs")


def load(path: str | Path, registry: Registry | None = None, strict: bool = False) -> Predictor:
    """Load a bundle written by ``emoframe train``: an object with ``predict`` and ``predict_proba``.

    A component whose code changed since the bundle was trained is a :class:`BundleWarning` naming it;
    ``strict=True`` refuses such a bundle (BundleError).
    """
    import warnings

    model = Predictor.load(path, registry, strict=strict)
    for note in model.warnings:
        warnings.warn(note, BundleWarning, stacklevel=2)
    return model
