"""The spec data models: what a pipeline and a benchmark are, as pydantic models.

A :class:`PipelineSpec` is one path through the flow (docs/architecture.md); a :class:`BenchmarkSpec`
has the same shape where any component slot may hold a list of alternatives. These models
check structure and ranges only; the registry-aware rules live in ``validation``.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import PurePath
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_serializer,
    model_validator,
)

from .dimension import parse_dimension
from .settings import SEED_MAX, ExecutionSpec, RobustnessSpec, TuningSpec

PROTOCOLS = ("speaker_kfold", "loso", "predefined", "cross_corpus", "cross_corpus_matrix")
#: the protocols one data source of several may name for its own in-corpus runs
SOURCE_PROTOCOLS = ("speaker_kfold", "loso", "predefined")
#: what a data source may be called among several: it becomes part of row ids (``name:id``) and of file names
SOURCE_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
MODALITIES = ("audio", "text")


def branch_modality(key: str, explicit: str | None) -> str | None:
    """A branch's modality: the one it declares, else the one its name starts with (audio*, text*)."""
    if explicit:
        return explicit
    for m in MODALITIES:
        if key.startswith(m):
            return m
    return None


class ComponentRef(BaseModel):
    """A component by name with its parameters; a bare string means default parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)
    search: dict[str, Any] | None = Field(
        None,
        description="parameters to tune inside the training folds: a list (grid points) or loguniform(a, b), "
        "uniform(a, b), int(a, b), choice(a, b, ...); the benchmark's tuning block sets the budget",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @field_validator("search")
    @classmethod
    def _search_syntax(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("an empty search: name at least one parameter, or remove 'search'")
        for name, dim in value.items():
            parse_dimension(name, dim)  # ValueError: the pydantic error names the path
        return value

    @model_serializer(mode="wrap")
    def _to_short(self, handler: Any) -> Any:
        if not self.params and self.search is None:
            return self.name
        out = handler(self)
        if isinstance(out, dict) and out.get("search") is None:
            out.pop("search", None)  # an untuned component reads (and hashes) as it always did
        return out

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        obj = handler(core_schema)
        return {"anyOf": [{"type": "string", "description": "component name, default params"}, obj]}

    def label(self) -> str:
        tuned = f" tuned[{','.join(sorted(self.search))}]" if self.search else ""
        if not self.params:
            return self.name + tuned
        inner = ",".join(f"{k}={json.dumps(v, sort_keys=True)}" for k, v in sorted(self.params.items()))
        return f"{self.name}({inner}){tuned}"

    def key(self) -> str:
        """The reference as canonical JSON: equal name and params, equal key (features are memoised by it)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)

    def __hash__(self) -> int:
        return hash(self.key())


def _as_list(value: Any) -> Any:
    return value if isinstance(value, list) else [value]


def _scalar_if_single(value: list[Any]) -> Any:
    return value[0] if len(value) == 1 else value


#: A benchmark slot: one component or a list of alternatives (stored as a list).
Alternatives = Annotated[
    list[ComponentRef], BeforeValidator(_as_list), Field(min_length=1), PlainSerializer(_scalar_if_single)
]


TranscriptSource = Literal["gold", "asr"]
TRANSCRIPTS_HELP = (
    "text branches: gold (the manifest's transcripts) or asr (data.transcriber's); unset: data.transcripts"
)


class DataSpec(BaseModel):
    """Where the utterances come from: a registered corpus or a manifest file."""

    model_config = ConfigDict(extra="forbid")
    corpus: ComponentRef | None = None
    manifest: str | None = None
    classes: list[str] | None = Field(None, description="keep only these labels (e.g. the 4-class setup)")
    encoding: str = Field("utf-8", description="text encoding of a CSV manifest (undecodable rows are reported)")
    transcriber: ComponentRef | None = Field(
        None, description="speech recognition (a transcriber component) for text branches that read ASR transcripts"
    )
    transcripts: TranscriptSource | None = Field(
        None,
        description="transcripts of text branches unless a branch says otherwise: gold (the manifest's text, the "
        "default) or asr (the transcriber's); 'asr:<transcriber>' also names the transcriber",
    )

    # -- several data sources (``data: [...]``, docs/evaluation.md "Across corpora"); unset for one -------
    name: str | None = Field(
        None, description="what this source is called among several (e.g. emodb); default: its corpus name"
    )
    label_map: dict[str, str | None] | None = Field(
        None,
        description="native label → shared label (e.g. anger: angry); null drops the label; labels not listed "
        "are kept as they are. Applied before 'classes'",
    )
    protocol: Literal["speaker_kfold", "loso", "predefined"] | None = Field(
        None, description="this source's own in-corpus protocol (one of several sources); default: evaluation's"
    )

    @model_validator(mode="before")
    @classmethod
    def _asr_shorthand(cls, value: Any) -> Any:
        """``transcripts: asr:transformers.whisper`` = ``transcripts: asr`` + ``transcriber: transformers.whisper``."""
        if isinstance(value, dict) and isinstance(value.get("transcripts"), str):
            source = value["transcripts"].strip()
            if source.startswith("asr:"):
                name = source[4:].strip()
                value = {**value, "transcripts": "asr"}
                given = value.get("transcriber")
                given_name = given.get("name") if isinstance(given, dict) else given
                if given is None:
                    value["transcriber"] = name
                elif given_name != name:
                    raise ValueError(f"transcripts names '{name}' but transcriber is '{given_name}'; name one")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown text encoding '{value}' (e.g. utf-8, latin-1, cp1252)") from None
        return value

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(SOURCE_NAME, value):
            raise ValueError(
                f"'{value}' cannot name a data source: use letters, digits, '_', '.', '-' (it prefixes ids)"
            )
        return value

    def source_name(self) -> str:
        """What this source is called among several: its ``name``, else its corpus name or manifest file stem."""
        return self.name or (self.corpus.name if self.corpus is not None else PurePath(str(self.manifest)).stem)

    @model_validator(mode="after")
    def _one_source(self) -> DataSpec:
        if (self.corpus is None) == (self.manifest is None):
            raise ValueError("give exactly one of 'corpus' (a registered corpus) or 'manifest' (a file path)")
        if self.transcripts == "asr" and self.transcriber is None:
            raise ValueError("transcripts: asr needs a transcriber (e.g. transcriber: transformers.whisper)")
        return self


class EvaluationSpec(BaseModel):
    """The protocol: speaker-independent folds by default, seeds and bootstrap size."""

    model_config = ConfigDict(extra="forbid")
    protocol: Literal["speaker_kfold", "loso", "predefined", "cross_corpus", "cross_corpus_matrix"] = "speaker_kfold"
    folds: int = Field(5, ge=2, le=100, description="folds of speaker_kfold")
    inner_folds: int = Field(
        3,
        ge=2,
        le=20,
        description="inner folds (training speakers) for out-of-fold "
        "probabilities that learned late fusions are fitted on",
    )
    seed: int = Field(0, ge=0, le=SEED_MAX, description="seed of the folds, inner folds and bootstrap")
    bootstrap: int = Field(1000, ge=0, le=100_000, description="bootstrap resamples for confidence intervals")
    max_failure_share: float = Field(
        0.02,
        ge=0,
        le=1,
        description="share of rows a component may fail on (odd bad files: those rows are left out of every "
        "pipeline); above it the component has failed: its pipelines fail, no one else loses rows",
    )
    test: DataSpec | None = Field(None, description="test corpus of the cross_corpus protocol")
    repeats: int | None = Field(
        None,
        ge=1,
        le=100,
        description="run the whole protocol this many times with seeds derived from 'seed' (fold assignment, "
        "model initialisation, inner folds); figures pool every repeat and show the spread between them",
    )

    @field_validator("repeats")
    @classmethod
    def _one_repeat_is_none(cls, value: int | None) -> int | None:
        """``repeats: 1`` is today's run: stored without the field, so its key and figures are unchanged."""
        return None if value == 1 else value

    @property
    def n_repeats(self) -> int:
        """How many times the protocol runs (1 unless ``repeats`` says more)."""
        return self.repeats or 1

    leave_one_out: bool | None = Field(
        None, description="cross_corpus_matrix: also train on all corpora but one and test on the one left out"
    )
    train: list[str] | None = Field(
        None,
        description="set by emoframe on the runs a cross_corpus_matrix is made of: the sources this run trains on "
        "(it tests on the others)",
    )

    @model_validator(mode="after")
    def _test_only_cross(self) -> EvaluationSpec:
        if self.protocol == "cross_corpus" and self.test is None:
            raise ValueError("protocol cross_corpus needs 'test' data (train on 'data', test on 'test')")
        if self.protocol != "cross_corpus" and self.test is not None:
            raise ValueError("'test' data is only used by protocol cross_corpus")
        if self.protocol != "cross_corpus_matrix" and (self.leave_one_out is not None or self.train is not None):
            raise ValueError("'leave_one_out' is only used by protocol cross_corpus_matrix")
        return self


Normalise = Literal["none", "speaker", "corpus"]
NORMALISE_HELP = (
    "speaker: z-normalise each speaker's features by that speaker's own statistics "
    "(unsupervised, standard in speech emotion work); corpus: by the statistics of the corpus a row comes "
    "from (across corpora: each training and test corpus by its own); none: leave them"
)


class BranchSpec(BaseModel):
    """One modality's path: an extractor and (unless early-fused) a model."""

    model_config = ConfigDict(extra="forbid")
    modality: Literal["audio", "text"] | None = Field(
        None, description="audio or text; inferred from a branch named audio*/text*"
    )
    extractor: ComponentRef | None = None
    model: ComponentRef | None = None
    normalise: Normalise = Field("none", description=NORMALISE_HELP)
    transcripts: TranscriptSource | None = Field(None, description=TRANSCRIPTS_HELP)


def _no_normalisation() -> list[Normalise]:
    return ["none"]


class BranchGrid(BaseModel):
    """A branch of a benchmark: each slot may list alternatives."""

    model_config = ConfigDict(extra="forbid")
    modality: Literal["audio", "text"] | None = None
    extractor: Alternatives | None = None
    model: Alternatives | None = None
    normalise: Annotated[
        list[Normalise], BeforeValidator(_as_list), Field(min_length=1), PlainSerializer(_scalar_if_single)
    ] = Field(default_factory=_no_normalisation, description=NORMALISE_HELP + " (a list: alternatives)")
    transcripts: (
        Annotated[
            list[TranscriptSource],
            BeforeValidator(_as_list),
            Field(min_length=1),
            PlainSerializer(_scalar_if_single),
        ]
        | None
    ) = Field(None, description=TRANSCRIPTS_HELP + " (a list: alternatives, e.g. [gold, asr] side by side)")


class _SpecBase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    data: DataSpec
    sources: list[DataSpec] | None = Field(
        None,
        description="several data sources: write them as a list under 'data' (each with a name, its own classes, "
        "a label_map and optionally its own protocol); 'data' then reads as the first of them",
    )

    @model_validator(mode="before")
    @classmethod
    def _data_list(cls, value: Any) -> Any:
        """``data: [a, b, c]`` → ``sources`` (all of them) and ``data`` (the first, which settings shared by
        every source, such as the transcriber, are read from)."""
        if isinstance(value, dict) and isinstance(value.get("data"), list):
            if "sources" in value:
                raise ValueError("give the data sources once, as a list under 'data'")
            listed = value["data"]
            if not listed:
                raise ValueError("data: the list of data sources is empty; name at least one corpus or manifest")
            value = {**value, "data": listed[0], "sources": listed}
        return value

    @property
    def data_sources(self) -> list[DataSpec]:
        """Every data source of the spec: the list under ``data``, or the one ``data``."""
        return list(self.sources) if self.sources else [self.data]

    @property
    def is_multi_corpus(self) -> bool:  # a list of one counts too: it runs as a study of one corpus
        return self.sources is not None

    evaluation: EvaluationSpec = Field(default_factory=EvaluationSpec)
    tuning: TuningSpec | None = Field(
        None, description="nested tuning of the components that carry a search (trials, inner folds, metric)"
    )
    execution: ExecutionSpec = Field(
        default_factory=ExecutionSpec, description="per-task timeout and worker recycling (not part of the results)"
    )

    def to_dict(self) -> dict[str, Any]:
        d = self.model_dump(mode="json", exclude_none=True)
        if self.execution == ExecutionSpec():
            d.pop("execution", None)
        if "sources" in d:  # written as the user wrote it: a list under data
            d["data"] = d.pop("sources")
        return d

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    def digest(self) -> str:
        """Stable short hash of the content (names excluded), for caches and result keys."""
        d = self.to_dict()
        d.pop("name", None)
        d.pop("execution", None)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


class PipelineSpec(_SpecBase):
    """One pipeline: branches, an optional fusion, and (for early fusion) one model."""

    kind: Literal["pipeline"] = "pipeline"
    branches: dict[str, BranchSpec] = Field(min_length=1)
    fusion: ComponentRef | None = None
    model: ComponentRef | None = Field(None, description="the model of early fusion")

    def label(self) -> str:
        """A readable name derived from the content, used when ``name`` is not set."""
        parts = []
        for key in sorted(self.branches):
            b = self.branches[key]
            chain = [r.label() for r in (b.extractor, b.model) if r is not None]
            if b.normalise in ("speaker", "corpus"):  # every setting that changes results is in the label
                chain[0] += f" ({b.normalise}-norm)"
            if self.transcripts_of(key) == "asr" and chain:
                chain[0] += " (ASR text)"
            prefix = "" if key in MODALITIES else f"{key}: "
            parts.append(prefix + "→".join(chain))
        text = " + ".join(parts)
        if self.fusion is not None:
            text = f"[{text}] {self.fusion.label()}"
            if self.model is not None:
                text += f"→{self.model.label()}"
        return text

    def transcripts_of(self, key: str) -> TranscriptSource:
        """Where branch ``key`` gets its text: gold or asr (audio branches: gold, i.e. none)."""
        b = self.branches[key]
        if branch_modality(key, b.modality) != "text":
            return "gold"
        return b.transcripts or self.data.transcripts or "gold"

    @property
    def uses_asr(self) -> bool:
        return any(self.transcripts_of(k) == "asr" for k in self.branches)

    @property
    def display_name(self) -> str:
        return self.name or self.label()

    @property
    def is_fused(self) -> bool:
        return self.fusion is not None


class GridPart(BaseModel):
    """A further grid of a benchmark, run under the same data and protocol."""

    model_config = ConfigDict(extra="forbid")
    branches: dict[str, BranchGrid | list[BranchGrid]] = Field(min_length=1)
    fusion: Alternatives | None = None
    model: Alternatives | None = None


class BenchmarkSpec(_SpecBase):
    """A grid of pipelines under one protocol; unimodal baselines are added automatically."""

    kind: Literal["benchmark"] = "benchmark"
    branches: dict[str, BranchGrid | list[BranchGrid]] = Field(min_length=1)
    fusion: Alternatives | None = None
    model: Alternatives | None = None
    baselines: bool = Field(True, description="add every fused pipeline's own unimodal branches")
    also: list[GridPart] = Field(default_factory=list, description="further grids under the same data and protocol")
    robustness: RobustnessSpec | None = Field(None, description="test-time noise and transcript corruption sweep")

    def parts(self) -> list[tuple[str, BenchmarkSpec]]:
        """(path prefix, single-grid benchmark) for the main grid and each ``also`` grid."""
        out = [("", self.model_copy(update={"also": [], "robustness": None}))]
        for i, part in enumerate(self.also):
            fields = {
                "branches": part.branches,
                "fusion": part.fusion,
                "model": part.model,
                "also": [],
                "robustness": None,
            }
            out.append((f"also[{i}].", self.model_copy(update=fields)))
        return out

    def branch_alternatives(self, key: str) -> list[tuple[str, BranchGrid]]:
        value = self.branches[key]
        if isinstance(value, list):
            return [(f"branches.{key}[{i}]", b) for i, b in enumerate(value)]
        return [(f"branches.{key}", value)]
