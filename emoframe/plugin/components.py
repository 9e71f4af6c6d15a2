"""The component contracts: what a feature extractor, model, fusion or corpus must offer.

A component is a class with a dotted ``name``, a ``version``, a docstring and a pydantic
``Params`` model whose every field has a default. The registry reads these class
attributes without instantiating anything, so plugins stay cheap to list: import heavy
dependencies (torch, transformers, opensmile) inside methods, never at module import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import ComponentError, ParamsError, validation_problems

Modality = Literal["audio", "text"]
#: What an extractor hands on and a model accepts: one vector per sample, one (frames × dims)
#: matrix per sample, one (layers × dims) matrix per sample (every hidden layer of a neural encoder,
#: pooled, for models that learn how to weigh the layers), or the raw input itself (waveform /
#: transcript) for end-to-end models.
FeatureKind = Literal["vector", "sequence", "layers", "raw"]
FEATURE_KINDS: tuple[str, ...] = ("vector", "sequence", "layers", "raw")


class Params(BaseModel):
    """Base of every component's parameters: unknown fields are errors, every field has a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


BaseParams = Params  # the base under another name: inside components ``Params`` is the class attribute
Labels = Sequence[Any] | np.ndarray  # labels or speakers: a list or a numpy array


class Component:
    """Common base: name, version, Params and the validated ``params`` of an instance."""

    kind: ClassVar[str] = ""
    name: ClassVar[str] = ""
    version: ClassVar[str] = "0"
    Params: ClassVar[type[BaseParams]] = BaseParams
    params: Any  # an instance of the component's own Params
    _origin: str = ""  # 'distribution version', set by the registry: errors name where a component came from

    def __init__(self, params: BaseParams | Mapping[str, Any] | None = None, **kwargs: Any):
        if isinstance(params, self.Params) and not kwargs:
            self.params = params
            return
        values = dict(params.model_dump() if isinstance(params, BaseModel) else (params or {}))
        values.update(kwargs)
        try:
            self.params = self.Params.model_validate(values)
        except ValidationError as err:
            lines = [f"{path}: {msg}" for path, msg in validation_problems(err, "params")]
            raise ParamsError(f"{self.name}: " + "; ".join(lines)) from None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"

    #: extra types (``module.Qualname``) that this component's skops-saved state may hold beyond
    #: scikit-learn's estimators and emoframe's built-in list; loading refuses every other type
    trusted_types: ClassVar[tuple[str, ...]] = ()

    def state(self) -> dict[str, Any]:
        """What fitting learned, to be saved in a bundle: by default every public attribute whose name
        ends with ``_`` (scikit-learn's convention: ``model_``, ``classes_``). Values may be JSON
        scalars, lists, tuples and dicts of them, numpy arrays, scipy sparse matrices, torch tensors,
        bytes and scikit-learn estimators; override for anything else (a torch module: its weights)."""
        return {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}

    def restore(self, state: Mapping[str, Any]) -> None:
        """Become the fitted component :meth:`state` described (params are already set)."""
        for k, v in state.items():
            setattr(self, k, v)

    @classmethod
    def summary(cls) -> str:
        """First line of the docstring: what the component is."""
        doc = (cls.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""


class FeatureExtractor(Component):
    """Turns an audio signal or a transcript into features.

    ``stateless`` extractors implement :meth:`extract` for one sample and may be cached per
    sample; those for which batching pays (neural models) also implement :meth:`extract_batch`.
    Fitted ones (``stateless = False``, e.g. TF-IDF) implement :meth:`fit` and
    :meth:`transform` and are fitted on the training fold only.
    Audio extractors receive a mono float32 signal already resampled to ``sample_rate``.
    """

    kind = "extractor"
    modality: ClassVar[Modality]
    output: FeatureKind  # class default; output_for() may make it depend on the params
    stateless: ClassVar[bool] = True
    sample_rate: ClassVar[int] = 16000
    #: transform returns a scipy sparse matrix (e.g. TF-IDF); ``width(params)`` says how wide at most
    sparse: ClassVar[bool] = False

    @classmethod
    def width(cls, params: Any) -> int | None:
        """The most columns these params can give (None: unknown); used for cost warnings."""
        return None

    #: worker processes to extract in, at most. None: one per core, each with one thread (right for
    #: openSMILE/librosa). 1: a single process given every core as threads (right for a batched
    #: neural model, whose matrix products use the threads better than copies of the model would).
    max_workers: ClassVar[int | None] = None
    #: parameters that decide how features are computed, not what they are: left out of the cache
    #: key, so a new batch size reuses the cache (batched and one-by-one results agree within 1e-5)
    runtime_params: ClassVar[tuple[str, ...]] = ("batch_size",)

    def __init__(self, params: BaseParams | Mapping[str, Any] | None = None, **kwargs: Any):
        super().__init__(params, **kwargs)
        self.output = self.output_for(self.params)

    @classmethod
    def output_for(cls, params: Any) -> FeatureKind:
        """The output kind these params give (override when a parameter switches it)."""
        return cls.output

    def fit(self, inputs: Sequence[Any], y: Labels | None = None) -> FeatureExtractor:
        return self

    def fit_transform(self, inputs: Sequence[Any], y: Labels | None = None) -> list[Any] | np.ndarray:
        """Fit, then the features of the same inputs (what a fold's training rows get). Override when
        one pass does both (TF-IDF: one tokenisation, not two); must equal fit then transform."""
        self.fit(inputs, y)
        return self.transform(inputs)

    def warmup(self) -> None:
        """Pay one-off costs (JIT compilation, model loading) once per worker, not per file."""

    def identity(self) -> str:
        """What decides the features besides name, version, params and code: e.g. the sha256 of a
        pretrained model's weights, so a model replaced on disk under the same name is re-extracted.
        '' (the default) adds nothing to the cache key. May raise ComponentError (model not found)."""
        return ""

    def extract(self, x: Any) -> np.ndarray:
        raise NotImplementedError(f"{self.name} does not extract per sample")

    def feature_groups(self) -> dict[str, list[int]] | None:
        """Optional: named groups of this extractor's vector columns (e.g. eGeMAPS' frequency, energy/amplitude,
        spectral balance and temporal parameters): group → column indices. Feature importance permutes each
        group's columns together on the test rows. None (the default): no groups, no acoustic importance."""
        return None

    def feature_names(self) -> list[str] | None:
        """Optional: one name per vector column (after fitting, for fitted extractors such as TF-IDF: its
        terms). Used to name the top terms of linear text models. None (the default): unnamed."""
        return None

    def extract_batch(self, xs: Sequence[Any]) -> list[np.ndarray]:
        """Features of several samples, in order. Override when a batch is cheaper than its samples
        one by one (padding with attention masks, sorting happens before: the engine hands over
        samples of similar length); the default calls :meth:`extract` on each."""
        return [self.extract(x) for x in xs]

    def shared_pass(self) -> str | None:
        """A name for work this extractor can share: extractors of the same input whose classes share
        one :meth:`extract_shared` and that return the same name here get each sample's features from
        one pass (e.g. openSMILE's functionals and low-level descriptors of one feature set: one run
        of the feature set gives both). None (the default): extracted on its own."""
        return None

    def extract_shared(self, x: Any, members: Sequence[FeatureExtractor]) -> list[np.ndarray]:
        """Each of ``members``' features of input ``x`` (``self`` is the first of them), in their
        order, from one pass. Must equal each member's own :meth:`extract` (the engine falls back to
        those when this raises); the default calls them."""
        return [m.extract(x) for m in members]

    def batch_size(self) -> int:
        """Samples per :meth:`extract_batch` call: ``params.batch_size`` where the params have one
        (else 32) for an extractor that overrides extract_batch; 1 (no batching) otherwise."""
        if type(self).extract_batch is FeatureExtractor.extract_batch:
            return 1
        return max(1, int(getattr(self.params, "batch_size", 32)))

    def transform(self, inputs: Sequence[Any]) -> list[Any] | np.ndarray:
        """Features for many samples: an (n × d) array for vectors, a list otherwise."""
        inputs = list(inputs)
        size = self.batch_size()
        feats = [f for s in range(0, len(inputs), size) for f in self.extract_batch(inputs[s : s + size])]
        if self.output == "vector":
            return np.vstack([np.asarray(f, dtype=np.float32).reshape(1, -1) for f in feats])
        return feats


class Model(Component):
    """A classifier with the scikit-learn shape: fit, predict_proba, classes_.

    ``accepts`` names the feature kinds it takes: a 2-D array for ``vector``, a list of
    (frames × dims) arrays for ``sequence``, a list of strings/signals for ``raw``. Vector input
    is a dense numpy array unless the model sets ``accepts_sparse = True`` (then a scipy sparse
    matrix may arrive, e.g. from TF-IDF). ``fit(X, y)`` is enough; write ``fit(X, y, groups)`` to
    receive the speakers of the training rows (for inner splits by speaker).
    """

    kind = "model"
    accepts: ClassVar[frozenset[str]] = frozenset({"vector"})
    #: for a model that takes raw input: which modality (an audio fine-tuner in a text branch is an
    #: error at validation); None: whatever the branch gives
    modality: ClassVar[Modality | None] = None
    accepts_sparse: ClassVar[bool] = False
    #: extractors whose output this model is built for (e.g. vader.rules needs vader.scores); empty: any
    requires: ClassVar[tuple[str, ...]] = ()
    classes_: np.ndarray
    #: set by the runner: called as progress(step, total, message) during long fits
    progress: Any = None
    #: set before fit: False when nothing will read this model's probabilities beyond their argmax
    #: (a benchmark's unimodal or early-fusion pipeline; a late fusion reads them, and so does a
    #: user calling predict_proba). A model may then skip costly calibration (sklearn.svc does).
    probabilities_used: bool = True
    #: True when probabilities_used changes what fit does (sklearn.svc: calibration or not); a model
    #: that does not care is fitted once per fold for both uses
    calibrates: ClassVar[bool] = False

    @classmethod
    def cost_warning(cls, params: Any, inputs: str, rows: int) -> str | None:
        """A warning when these params are slow by nature on ``rows`` training rows of ``inputs``
        ('dense', or 'sparse N' for sparse features up to N columns wide), saying what to use
        instead; None when fine."""
        return None

    def fit(self, X: Any, y: Labels, groups: Labels | None = None) -> Model:
        """Train. ``groups`` are the speakers of the rows, for inner validation splits by speaker."""
        raise NotImplementedError

    def predict_proba(self, X: Any) -> np.ndarray:
        raise NotImplementedError

    def linear_weights(self) -> np.ndarray | None:
        """Optional: for a linear model, its (classes × features) coefficients in ``classes_`` order, on the
        features as the model receives them; a text branch's top terms are read from them. None (the
        default): not linear, no top terms."""
        return None

    def report(self) -> dict[str, Any]:
        """What fitting learned that a reader of the results should see (JSON values), e.g. the learned
        weight of each encoder layer; stored with every fold and shown in the report. Empty by default."""
        return {}

    def training_curve(self) -> dict[str, Any] | None:
        """For a model trained by epochs with early stopping, after fit: ``{"best_epoch": int, "epochs":
        [{"epoch": 1, "train_loss": float, "val_uar": float}, …]}`` (the epoch kept and, per epoch, the training
        loss and the validation UAR it was chosen on); stored with every fold and plotted in the report.
        None (the default) for models without epochs."""
        return None

    def onnx_graph(self) -> bytes:
        """This fitted model as a serialised ONNX ModelProto: inputs as :meth:`onnx_feeds` names them,
        one output ``probabilities`` (rows × ``classes_``). Raise NotImplementedError with the reason
        when the model cannot be exported."""
        raise NotImplementedError(f"{self.name} has no ONNX export")

    def onnx_feeds(self, X: Any) -> dict[str, np.ndarray]:
        """The graph's inputs for ``X``: by default one dense matrix named ``X`` (cast to the graph's dtype)."""
        return {"X": np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float64)}

    def predict(self, X: Any) -> np.ndarray:
        if not hasattr(self, "classes_"):
            raise ComponentError(f"{self.name}: predict called before fit")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class Fusion(Component):
    """Combines branches. ``fusion_kind`` says where: early (features) or late (probabilities)."""

    kind = "fusion"
    fusion_kind: ClassVar[Literal["early", "late"]]

    def onnx_graph(self, widths: Mapping[str, int]) -> bytes:
        """This fitted fusion as a serialised ONNX ModelProto with one input per branch (named after the
        branch; ``widths`` gives each one's columns) and one output: ``features`` (early) or
        ``probabilities`` (late). Raise NotImplementedError with the reason when it cannot be exported."""
        raise NotImplementedError(f"{self.name} has no ONNX export")


class EarlyFusion(Fusion):
    """Feature blocks (one 2-D array per branch) → one matrix for one model."""

    fusion_kind = "early"

    def fit(self, blocks: Mapping[str, np.ndarray], y: Labels | None = None) -> EarlyFusion:
        raise NotImplementedError

    def transform(self, blocks: Mapping[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError


class LateFusion(Fusion):
    """Branch probabilities (one n × classes array per branch) → combined probabilities.

    ``fit`` receives probabilities the branches gave on training speakers they were not
    trained on (inner validation or out-of-fold), so the combination is not fitted to
    over-confident in-sample predictions.
    """

    fusion_kind = "late"

    @property
    def needs_heldout(self) -> bool:
        """True when ``fit`` learns from the probabilities (then the runner computes them out of fold)."""
        return True

    def fit(self, probas: Mapping[str, np.ndarray], y: Labels, classes: Labels) -> LateFusion:
        self.classes_ = np.asarray(classes)
        return self

    def predict_proba(self, probas: Mapping[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def branch_weights(self, probas: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """How much each branch weighed in each decision: branch → one weight per row (empty when the
        fusion has no such notion, e.g. a vote). Predictions show it beside the probabilities."""
        return {}

    def explain(self, probas: Mapping[str, np.ndarray], prior: np.ndarray) -> dict[str, np.ndarray] | None:
        """Optional: each branch's contribution to each class's fused probability (docs/plugins.md).

        ``probas``: branch → (n × classes) probabilities, as :meth:`predict_proba` gets them; ``prior``:
        (classes,) the training fold's class shares, which stand in for a missing branch. Return branch →
        (n × classes) contributions that sum, over the branches, to ``predict_proba(probas)`` minus
        ``predict_proba`` with every branch at ``prior`` (efficiency). None (the default): emoframe computes
        exact Shapley values over all coalitions of branches from :meth:`predict_proba` itself."""
        return None


class Corpus(Component):
    """A source of utterances: yields the manifest (id, audio, text, label, speaker, ...)."""

    kind = "corpus"
    #: where a corpus that generates or unpacks files keeps them; set by the runner from --workdir
    workdir: Path | None = None
    #: the corpus's own label codes → the shared vocabulary the loader writes (angry, happy, sad, neutral, ...);
    #: a spec's ``data.label_map`` applies after it (docs/data.md "Labels across corpora")
    native_labels: ClassVar[dict[str, str]] = {}
    #: the language spoken (ISO 639-1, e.g. "de"), shown by `emoframe corpus info`; None: not stated
    language: ClassVar[str | None] = None

    def load(self) -> Any:
        raise NotImplementedError


class Transcription(NamedTuple):
    """What a transcriber heard: the text, the language where the backend says, and (start s, end s,
    text) segments where it gives timestamps."""

    text: str
    language: str | None = None
    segments: tuple[tuple[float, float, str], ...] = ()


class Transcriber(Component):
    """Speech recognition: a mono float32 signal at ``sample_rate`` → :class:`Transcription`.

    Specs use one to get transcripts for text branches from the audio instead of the manifest
    (``data.transcriber``); results are cached per recording like features. ``transcribe_batch``
    may be overridden where batches are cheaper; ``warmup`` loads the model once per process.
    """

    kind = "transcriber"
    sample_rate: ClassVar[int] = 16000
    #: parameters that change how, not what, it transcribes: left out of the cache key
    runtime_params: ClassVar[tuple[str, ...]] = ("batch_size", "device", "allow_download")

    def warmup(self) -> None:
        """Load the model (once per process, not per file)."""

    def identity(self) -> str:
        """What else decides the text besides name, version and params (e.g. the weights' hash); ''."""
        return ""

    def transcribe(self, signal: np.ndarray) -> Transcription:
        raise NotImplementedError

    def transcribe_batch(self, signals: Sequence[np.ndarray]) -> list[Transcription]:
        return [self.transcribe(s) for s in signals]


def __getattr__(name: str) -> object:
    """``KINDS`` and ``BASES`` as they were here: derived from the one table of kinds (``plugin.kinds``)."""
    if name in ("KINDS", "BASES"):
        from . import kinds

        return getattr(kinds, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
