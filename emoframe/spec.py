"""Pipeline and benchmark specs: pydantic models, loading, and validation against the registry.

A :class:`PipelineSpec` is one path through the flow (DESIGN.md §1); a :class:`BenchmarkSpec`
has the same shape where any component slot may hold a list of alternatives. Validation
collects every problem of a spec, each with its dotted path, the bad value and a fix.
"""
from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer,
                      ValidationError, model_serializer, model_validator)

from .components import format_validation_error
from .errors import SpecError, SpecProblem

PROTOCOLS = ("speaker_kfold", "loso", "predefined", "cross_corpus")
MODALITIES = ("audio", "text")


class ComponentRef(BaseModel):
    """A component by name with its parameters; a bare string means default parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @model_serializer(mode="wrap")
    def _to_short(self, handler: Any) -> Any:
        return self.name if not self.params else handler(self)

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        obj = handler(core_schema)
        return {"anyOf": [{"type": "string", "description": "component name, default params"}, obj]}

    def label(self) -> str:
        if not self.params:
            return self.name
        inner = ",".join(f"{k}={json.dumps(v, sort_keys=True)}" for k, v in sorted(self.params.items()))
        return f"{self.name}({inner})"

    def __hash__(self) -> int:
        return hash(json.dumps(self.model_dump(mode="json"), sort_keys=True))


def _as_list(value: Any) -> Any:
    return value if isinstance(value, list) else [value]


def _scalar_if_single(value: list[Any]) -> Any:
    return value[0] if len(value) == 1 else value


#: A benchmark slot: one component or a list of alternatives (stored as a list).
Alternatives = Annotated[list[ComponentRef], BeforeValidator(_as_list), Field(min_length=1),
                         PlainSerializer(_scalar_if_single)]


class DataSpec(BaseModel):
    """Where the utterances come from: a registered corpus or a manifest file."""

    model_config = ConfigDict(extra="forbid")
    corpus: ComponentRef | None = None
    manifest: str | None = None
    classes: list[str] | None = Field(None, description="keep only these labels (e.g. the 4-class setup)")

    @model_validator(mode="after")
    def _one_source(self) -> DataSpec:
        if (self.corpus is None) == (self.manifest is None):
            raise ValueError("give exactly one of 'corpus' (a registered corpus) or 'manifest' (a file path)")
        return self


class EvaluationSpec(BaseModel):
    """The protocol: speaker-independent folds by default, seeds and bootstrap size."""

    model_config = ConfigDict(extra="forbid")
    protocol: Literal["speaker_kfold", "loso", "predefined", "cross_corpus"] = "speaker_kfold"
    folds: int = Field(5, ge=2, le=100, description="folds of speaker_kfold")
    inner_folds: int = Field(3, ge=2, le=20, description="inner folds (training speakers) for out-of-fold "
                             "probabilities that learned late fusions are fitted on")
    seed: int = 0
    bootstrap: int = Field(1000, ge=0, description="bootstrap resamples for confidence intervals")
    test: DataSpec | None = Field(None, description="test corpus of the cross_corpus protocol")

    @model_validator(mode="after")
    def _test_only_cross(self) -> EvaluationSpec:
        if self.protocol == "cross_corpus" and self.test is None:
            raise ValueError("protocol cross_corpus needs 'test' data (train on 'data', test on 'test')")
        if self.protocol != "cross_corpus" and self.test is not None:
            raise ValueError("'test' data is only used by protocol cross_corpus")
        return self


Normalise = Literal["none", "speaker"]
NORMALISE_HELP = ("speaker: z-normalise each speaker's features by that speaker's own statistics "
                  "(unsupervised, standard in speech emotion work); none: leave them")


class BranchSpec(BaseModel):
    """One modality's path: an extractor and (unless early-fused) a model."""

    model_config = ConfigDict(extra="forbid")
    modality: Literal["audio", "text"] | None = Field(
        None, description="audio or text; inferred from a branch named audio*/text*")
    extractor: ComponentRef | None = None
    model: ComponentRef | None = None
    normalise: Normalise = Field("none", description=NORMALISE_HELP)


class BranchGrid(BaseModel):
    """A branch of a benchmark: each slot may list alternatives."""

    model_config = ConfigDict(extra="forbid")
    modality: Literal["audio", "text"] | None = None
    extractor: Alternatives | None = None
    model: Alternatives | None = None
    normalise: Normalise = Field("none", description=NORMALISE_HELP)


class _SpecBase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    data: DataSpec
    evaluation: EvaluationSpec = Field(default_factory=EvaluationSpec)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    def digest(self) -> str:
        """Stable short hash of the content (names excluded), for caches and result keys."""
        d = self.to_dict()
        d.pop("name", None)
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
            parts.append("→".join(chain))
        text = " + ".join(parts)
        if self.fusion is not None:
            text = f"[{text}] {self.fusion.label()}"
            if self.model is not None:
                text += f"→{self.model.label()}"
        return text

    @property
    def display_name(self) -> str:
        return self.name or self.label()

    @property
    def is_fused(self) -> bool:
        return self.fusion is not None


class RobustnessSpec(BaseModel):
    """Test-time perturbations: models train on clean folds, test rows are perturbed."""

    model_config = ConfigDict(extra="forbid")
    snr_db: list[float] = Field(default_factory=list, description="audio noise levels (dB SNR), e.g. [20, 10, 0]")
    noise: list[Literal["white", "babble"]] = Field(default_factory=lambda: ["white", "babble"],
                                                    description="noise kinds; babble is made from other speakers")
    word_dropout: list[float] = Field(default_factory=list, description="rates of dropping each transcript word")
    word_substitution: list[float] = Field(default_factory=list,
                                           description="rates of replacing each word by a random corpus word")
    seed: int = Field(0, description="seed of every perturbation")

    @model_validator(mode="after")
    def _rates(self) -> RobustnessSpec:
        for rate in (*self.word_dropout, *self.word_substitution):
            if not 0 <= rate <= 1:
                raise ValueError(f"word rates must be within [0, 1], got {rate}")
        return self

    def conditions(self) -> list[Any]:
        from .evaluation.perturb import Condition

        out = [Condition("audio", kind, float(s)) for kind in self.noise for s in self.snr_db]
        out += [Condition("text", "dropout", float(r)) for r in self.word_dropout]
        out += [Condition("text", "substitution", float(r)) for r in self.word_substitution]
        return out


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
            fields = {"branches": part.branches, "fusion": part.fusion, "model": part.model, "also": [],
                      "robustness": None}
            out.append((f"also[{i}].", self.model_copy(update=fields)))
        return out

    def branch_alternatives(self, key: str) -> list[tuple[str, BranchGrid]]:
        value = self.branches[key]
        if isinstance(value, list):
            return [(f"branches.{key}[{i}]", b) for i, b in enumerate(value)]
        return [(f"branches.{key}", value)]

    def expand(self, registry: Any) -> list[PipelineSpec]:
        """Every pipeline of the grids, fused ones first, then the unimodal ones (baselines included).

        The registry tells early from late fusions; validate the spec first.
        """
        if self.also:
            unique: dict[str, PipelineSpec] = {}
            for _, part in self.parts():
                for p in part.expand(registry):
                    unique.setdefault(p.digest(), p)
            return sorted(unique.values(), key=lambda p: (not p.is_fused, p.label()))
        per_branch: dict[str, list[BranchSpec]] = {}
        for key in sorted(self.branches):
            concrete = []
            for _, grid in self.branch_alternatives(key):
                for ext, mod in itertools.product(grid.extractor or [None], grid.model or [None]):
                    concrete.append(BranchSpec(modality=grid.modality, extractor=ext, model=mod,
                                               normalise=grid.normalise))
            per_branch[key] = concrete
        keys = sorted(per_branch)
        common = {"data": self.data, "evaluation": self.evaluation}
        pipelines: list[PipelineSpec] = []
        for fusion in self.fusion or [None]:
            early = fusion is not None and registry.get(fusion.name, "fusion").fusion_kind == "early"
            for combo in itertools.product(*(per_branch[k] for k in keys)):
                branches = dict(zip(keys, combo))
                if fusion is None or len(keys) == 1:
                    pipelines.append(PipelineSpec(branches=branches, **common))
                    continue
                if early:
                    for model in self.model or [None]:
                        fused = {k: b.model_copy(update={"model": None}) for k, b in branches.items()}
                        pipelines.append(PipelineSpec(branches=fused, fusion=fusion, model=model, **common))
                        if self.baselines:
                            for k, b in fused.items():
                                pipelines.append(PipelineSpec(
                                    branches={k: b.model_copy(update={"model": model})}, **common))
                else:
                    pipelines.append(PipelineSpec(branches=branches, fusion=fusion, **common))
                    if self.baselines:
                        pipelines.extend(PipelineSpec(branches={k: b}, **common) for k, b in branches.items())
        unique: dict[str, PipelineSpec] = {}
        for p in pipelines:
            unique.setdefault(p.digest(), p)
        ordered = sorted(unique.values(), key=lambda p: (not p.is_fused, p.label()))
        return ordered


# -- loading ---------------------------------------------------------------------------
def _is_grid(doc: dict[str, Any]) -> bool:
    if doc.get("kind") in ("pipeline", "benchmark"):
        return doc["kind"] == "benchmark"
    if isinstance(doc.get("fusion"), list) or isinstance(doc.get("model"), list) or "also" in doc \
            or "robustness" in doc:
        return True
    for branch in (doc.get("branches") or {}).values():
        if isinstance(branch, list):
            return True
        if isinstance(branch, dict) and any(isinstance(branch.get(s), list) for s in ("extractor", "model")):
            return True
    return False


def read_document(path: str | Path) -> dict[str, Any]:
    """Parse a YAML or JSON spec file into a dict, with a clear error naming the file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError([SpecProblem("", f"cannot read spec file: {exc.strerror or exc}",
                                     "check the path")], source=str(path)) from None
    try:
        doc = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise SpecError([SpecProblem("", f"not valid {'JSON' if p.suffix.lower() == '.json' else 'YAML'}: "
                                     f"{str(exc).splitlines()[0]}", "fix the syntax")],
                        source=str(path)) from None
    if not isinstance(doc, dict):
        raise SpecError([SpecProblem("", "the spec must be a mapping with keys data, branches, ...",
                                     "see `emoframe schema`")], source=str(path))
    return doc


def parse_spec(doc: dict[str, Any], source: str | None = None) -> PipelineSpec | BenchmarkSpec:
    """Build the pydantic spec from a dict; every structural problem is reported at once."""
    cls = BenchmarkSpec if _is_grid(doc) else PipelineSpec
    try:
        return cls.model_validate(doc)
    except ValidationError as err:
        problems = [SpecProblem(_pretty_path(path), msg) for path, msg in format_validation_error(err)]
        raise SpecError(problems, source=source) from None


def _pretty_path(path: str) -> str:
    parts = []
    for part in path.split("."):
        if part.isdigit() and parts:
            parts[-1] += f"[{part}]"
        elif part in ("BranchGrid", "list[BranchGrid]", "function-after[_one_source(), DataSpec]"):
            continue
        else:
            parts.append(part)
    return ".".join(parts)


def load_spec(path: str | Path, registry: Any | None = None) -> PipelineSpec | BenchmarkSpec:
    """Read, parse and (given a registry) validate a spec file; raises SpecError with all problems."""
    doc = read_document(path)
    spec = parse_spec(doc, source=str(path))
    if registry is not None:
        validate(spec, registry, base_dir=Path(path).parent, source=str(path))
    return spec


# -- validation against the registry -------------------------------------------------------
def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _infer_modality(key: str, explicit: str | None) -> str | None:
    if explicit:
        return explicit
    for m in MODALITIES:
        if key.startswith(m):
            return m
    return None


class _Checker:
    """Collects problems while walking a spec; one instance per validation."""

    def __init__(self, registry: Any, base_dir: Path | None):
        self.reg = registry
        self.base_dir = base_dir
        self.problems: list[SpecProblem] = []

    def add(self, path: str, message: str, fix: str = "") -> None:
        problem = SpecProblem(path, message, fix)
        if problem not in self.problems:
            self.problems.append(problem)

    def component(self, path: str, ref: ComponentRef, kind: str) -> Any | None:
        """Check a reference exists as ``kind`` and its params validate; return its info or None."""
        if ref.name not in self.reg:
            close = self.reg.suggest(ref.name, kind)
            fix = f"did you mean {', '.join(close)}?" if close else f"`emoframe plugins` lists the installed {kind}s"
            self.add(f"{path}.name" if ref.params else path, f"unknown {kind} '{ref.name}'", fix)
            return None
        info = self.reg.get(ref.name)
        if info.kind != kind:
            close = self.reg.names(kind)[:5]
            self.add(path, f"'{ref.name}' is a {info.kind}, not a {kind}",
                     f"use a {kind} here, e.g. {', '.join(close)}" if close else "")
            return None
        try:
            info.params_model.model_validate(ref.params)
        except ValidationError as err:
            for p, msg in format_validation_error(err, f"{path}.params"):
                self.add(p, msg, f"`emoframe plugins --show {ref.name}` lists its parameters")
        return info

    def output_of(self, ref: ComponentRef, info: Any) -> str:
        """An extractor's output kind for these params (its default when they are invalid)."""
        try:
            return info.cls.output_for(info.params_model.model_validate(ref.params))
        except ValidationError:
            return info.output

    def fitting(self, kind: str, **attrs: Any) -> list[str]:
        return [c.name for c in self.reg.components(kind, **attrs)]


def validate(spec: PipelineSpec | BenchmarkSpec, registry: Any, base_dir: Path | str | None = None,
             source: str | None = None) -> None:
    """Check a spec against the registry; raise SpecError listing every problem found."""
    problems = check(spec, registry, base_dir)
    if problems:
        raise SpecError(problems, source=source)


def check(spec: PipelineSpec | BenchmarkSpec, registry: Any,
          base_dir: Path | str | None = None) -> list[SpecProblem]:
    """Every problem of a spec against the registry (empty list: valid)."""
    if isinstance(spec, BenchmarkSpec) and spec.also:
        problems: list[SpecProblem] = []
        for prefix, part in spec.parts():
            for p in check(part, registry, base_dir):
                q = p if not prefix or p.path.startswith(("data", "evaluation")) else \
                    SpecProblem(prefix + p.path, p.message, p.fix)
                if q not in problems:
                    problems.append(q)
        return problems
    c = _Checker(registry, Path(base_dir) if base_dir is not None else None)
    _check_data(c, "data", spec.data)
    if spec.evaluation.test is not None:
        _check_data(c, "evaluation.test", spec.evaluation.test)
    grid = isinstance(spec, BenchmarkSpec)

    def alts(path: str, value: Any) -> list[tuple[str, ComponentRef]]:
        if value is None:
            return []
        if isinstance(value, ComponentRef):
            return [(path, value)]
        return [(path if len(value) == 1 else f"{path}[{i}]", r) for i, r in enumerate(value)]

    fusions = [(p, r, c.component(p, r, "fusion")) for p, r in alts("fusion", spec.fusion)]
    top_models = [(p, r, c.component(p, r, "model")) for p, r in alts("model", spec.model)]
    kinds = {info.fusion_kind for _, _, info in fusions if info is not None}
    n_branches = len(spec.branches)

    if n_branches > 1 and not fusions:
        c.add("fusion", f"{n_branches} branches ({', '.join(sorted(spec.branches))}) need a fusion strategy",
              f"add e.g. fusion: {', '.join(c.fitting('fusion')[:3]) or 'fusion.late'}")
    if n_branches == 1 and fusions:
        c.add("fusion", "a fusion needs at least two branches", "remove 'fusion' or add a branch")
    if "early" in kinds and not top_models:
        early = [r.name for _, r, i in fusions if i is not None and i.fusion_kind == "early"]
        c.add("model", f"early fusion '{early[0]}' needs a model to train on the fused features",
              f"add a top-level model, e.g. model: {', '.join(c.fitting('model', accepts=['vector'])[:3]) or 'sklearn.svc'}")
    if top_models and fusions and "early" not in kinds:
        c.add("model", "a top-level model is only used by early fusion",
              "move it into each branch (late fusion) or use an early fusion")
    if top_models and not fusions and n_branches > 1:
        c.add("model", "a top-level model needs an early fusion of the branches", "add fusion: fusion.early")
    for p, r, info in top_models:
        if info is not None and kinds == {"early"} and "vector" not in info.cls.accepts:
            c.add(p, f"'{r.name}' takes {'/'.join(sorted(info.cls.accepts))} input but early fusion gives "
                     f"one vector per sample", f"use a vector model, e.g. {', '.join(c.fitting('model', accepts=['vector'])[:3])}")

    for key in sorted(spec.branches):
        value = spec.branches[key]
        branch_alts: list[tuple[str, Any]]
        if grid:
            branch_alts = spec.branch_alternatives(key)
        else:
            branch_alts = [(f"branches.{key}", value)]
        for bpath, branch in branch_alts:
            _check_branch(c, key, bpath, branch, alts, kinds, top_models, grid, n_branches)
    return c.problems


def _check_data(c: _Checker, path: str, data: DataSpec) -> None:
    if data.corpus is not None:
        c.component(f"{path}.corpus", data.corpus, "corpus")
    elif data.manifest is not None and c.base_dir is not None:
        target = Path(data.manifest)
        if not target.is_absolute():
            target = c.base_dir / target
        if not target.exists():
            c.add(f"{path}.manifest", f"manifest file not found: {data.manifest}",
                  "paths are relative to the spec's folder; check the file exists")


def _check_branch(c: _Checker, key: str, bpath: str, branch: Any, alts: Any, kinds: set[str],
                  top_models: list[Any], grid: bool, n_branches: int) -> None:
    modality = _infer_modality(key, branch.modality)
    if modality is None:
        c.add(f"{bpath}.modality", f"cannot tell the modality of branch '{key}'",
              "name the branch audio/text (or audio_*/text_*), or set modality: audio|text")
    extractors = [(p, r, c.component(p, r, "extractor")) for p, r in alts(f"{bpath}.extractor", branch.extractor)]
    models = [(p, r, c.component(p, r, "model")) for p, r in alts(f"{bpath}.model", branch.model)]
    if not extractors and not models:
        c.add(bpath, "a branch needs an extractor and/or a model",
              f"add an extractor, e.g. {', '.join(c.fitting('extractor', modality=modality)[:3])}")
    for p, r, info in extractors:
        if info is not None and modality and info.modality != modality:
            fits = c.fitting("extractor", modality=modality)
            c.add(p, f"'{r.name}' is {_a(info.modality)} extractor but branch '{key}' is {modality}",
                  f"use a {modality} extractor: {', '.join(fits) or 'none installed'}"
                  if fits else f"install a plugin with {modality} extractors")
    early_only = kinds == {"early"}
    if "late" in kinds and not models:
        c.add(f"{bpath}.model", f"late fusion combines each branch's probabilities but branch '{key}' has no model",
              f"add a model to the branch, e.g. {', '.join(c.fitting('model')[:3])}")
    if early_only and models and not grid:
        c.add(f"{bpath}.model", "a branch model is not used under early fusion (one top-level model "
              "is trained on the fused features)", "remove it, or use a late fusion")
    if not kinds and n_branches == 1 and not models:
        c.add(f"{bpath}.model", "a single-branch pipeline needs a model",
              f"add e.g. model: {', '.join(c.fitting('model')[:3])}")
    if "early" in kinds:
        for p, r, info in extractors:
            if info is not None and c.output_of(r, info) != "vector":
                fits = c.fitting("extractor", modality=info.modality, output="vector")
                c.add(p, f"early fusion concatenates vectors but '{r.name}' gives {c.output_of(r, info)} features",
                      f"use a vector extractor: {', '.join(fits)}" if fits else "use late fusion")
    if branch.normalise == "speaker" and not extractors:
        c.add(f"{bpath}.normalise", "speaker normalisation needs features; this branch has no extractor",
              "add an extractor or set normalise: none")
    # model ↔ extractor compatibility: branch models, and the early model fed by this branch
    feeds = [(p, r, info) for p, r, info in models]
    if "early" in kinds and n_branches == 1:
        feeds += top_models
    for mp, mr, minfo in feeds:
        if minfo is None:
            continue
        accepts = set(minfo.cls.accepts)
        sources = [(p, r, i) for p, r, i in extractors if i is not None] or ([] if extractors else [(None, None, None)])
        for ep, er, einfo in sources:
            needs = getattr(minfo.cls, "requires", ())
            if needs and (er is None or er.name not in needs):
                c.add(mp, f"'{mr.name}' works on the output of {' or '.join(needs)} only",
                      f"set the branch extractor to {needs[0]}")
                continue
            given = c.output_of(er, einfo) if einfo is not None else "raw"
            if given in accepts:
                continue
            what = f"'{er.name}' ({ep}) gives {given}" if einfo is not None else f"branch '{key}' has no extractor, so the model gets raw {modality or 'input'}"
            fits = [n for kind_ in sorted(accepts) if kind_ != "raw"
                    for n in c.fitting("extractor", modality=modality, output=kind_)] if modality else []
            if "raw" in accepts:
                fix = "remove the extractor: this model takes the raw input"
            elif fits:
                fix = f"use a {'/'.join(sorted(accepts))} extractor: {', '.join(fits)}"
            else:
                other = [n for n in c.fitting("model") if given in c.reg.get(n).cls.accepts]
                fix = f"use a model that takes {given}: {', '.join(other[:4])}" if other else "pick another model"
            c.add(mp, f"'{mr.name}' takes {'/'.join(sorted(accepts))} input but {what}", fix)


def pipelines_of(spec: PipelineSpec | BenchmarkSpec, registry: Any) -> list[PipelineSpec]:
    """The pipelines a spec stands for: itself, or a benchmark's expanded grid."""
    return [spec] if isinstance(spec, PipelineSpec) else spec.expand(registry)


def json_schemas() -> dict[str, Any]:
    return {"PipelineSpec": PipelineSpec.model_json_schema(), "BenchmarkSpec": BenchmarkSpec.model_json_schema()}
