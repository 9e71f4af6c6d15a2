"""Validation of a spec against the registry: small rules, each returning the problems it finds.

Every problem names its dotted path in the spec, what is wrong, and a fix (close matches for
unknown names, the components that would fit a mismatched input). ``check`` runs every rule
and returns all problems at once; ``validate`` raises them as one SpecError.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError

from ..errors import SpecError, SpecProblem, validation_problems
from ..plugin.components import FeatureExtractor, Model
from ..plugin.registry import Registry
from .models import BenchmarkSpec, ComponentRef, DataSpec, PipelineSpec, _as_list, branch_modality
from .repeats import repeat_problems
from .search import extracted_search_problems, sampler_problems, search_problems
from .sources import sources_rules

#: pydantic's names of the spec's union members in an error location: not part of a user's path
_UNION_TAGS = ("BranchGrid", "BranchSpec", "ComponentRef", "DataSpec")


def format_validation_error(err: ValidationError, prefix: str = "") -> list[tuple[str, str]]:
    """(spec path, message) of each error pydantic found in a spec: ``branches.audio[1].model: …``."""
    return validation_problems(err, prefix, skip=_UNION_TAGS)


Problems = Iterator[SpecProblem]


def article(word: str) -> str:
    """'an audio', 'a text': the article a message needs before ``word``."""
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


@dataclass
class Slot:
    """One component reference at a path, with its registry info when it resolved to the right kind."""

    path: str
    ref: ComponentRef
    info: Any | None


@dataclass
class Ctx:
    """What the rules share: the registry, where relative paths start, the problems found so far."""

    reg: Registry
    base_dir: Path | None
    problems: list[SpecProblem] = field(default_factory=list)
    searched: list[tuple[str, ComponentRef]] = field(default_factory=list)  # slots with a search (nested tuning)

    def add(self, problems: Problems) -> None:
        for p in problems:
            if p not in self.problems:
                self.problems.append(p)

    def fitting(self, kind: str, **attrs: Any) -> list[str]:
        return [c.name for c in self.reg.components(kind, **attrs)]

    def output_of(self, slot: Slot) -> str:
        """An extractor's output kind for these params (its default when they are invalid)."""
        info: Any = slot.info
        try:
            return str(info.cls.output_for(info.params_model.model_validate(slot.ref.params)))
        except ValidationError:
            return str(info.output)

    def resolve(self, path: str, ref: ComponentRef, kind: str) -> Slot:
        """A slot for ``ref``: unknown names, wrong kinds and bad params are recorded as problems."""
        self.add(_component_problems(self, path, ref, kind))
        info = self.reg.get(ref.name) if ref.name in self.reg else None
        if ref.search and info is not None and info.kind == kind:  # nested tuning: the search against Params
            self.add(search_problems(path, ref, info.params_model))
            stateless = kind == "extractor" and bool(getattr(info.cls, "stateless", False))
            self.add(extracted_search_problems(path, ref, stateless))
            self.searched.append((path, ref))
        return Slot(path, ref, info if info is not None and info.kind == kind else None)


def _component_problems(c: Ctx, path: str, ref: ComponentRef, kind: str) -> Problems:
    if ref.name in c.reg.conflicts:
        message = c.reg.conflict_message(ref.name)
        what, _, fix = message.partition("; choose one: ")
        yield SpecProblem(f"{path}.name" if ref.params else path, what, f"choose one: {fix}")
        return
    if ref.name not in c.reg:
        close = c.reg.suggest(ref.name, kind)
        fix = f"did you mean {', '.join(close)}?" if close else f"`emoframe plugins` lists the installed {kind}s"
        if c.reg.filter_note():  # a plugin filter may be why it is missing
            fix += f" ({c.reg.filter_note()})"
        yield SpecProblem(f"{path}.name" if ref.params else path, f"unknown {kind} '{ref.name}'", fix)
        return
    info = c.reg.get(ref.name)
    if info.kind != kind:
        close = c.reg.names(kind)[:5]
        yield SpecProblem(
            path,
            f"'{ref.name}' is {article(info.kind)}, not {article(kind)}",
            f"use {article(kind)} here, e.g. {', '.join(close)}" if close else "",
        )
        return
    try:
        info.params_model.model_validate(ref.params)
    except ValidationError as err:
        for p, msg in format_validation_error(err, f"{path}.params"):
            yield SpecProblem(p, msg, f"`emoframe plugins --show {ref.name}` lists its parameters")


def _alternatives(path: str, value: Any) -> list[tuple[str, ComponentRef]]:
    if value is None:
        return []
    if isinstance(value, ComponentRef):
        return [(path, value)]
    return [(path if len(value) == 1 else f"{path}[{i}]", r) for i, r in enumerate(value)]


# -- data --------------------------------------------------------------------------------
def data_rules(c: Ctx, path: str, data: DataSpec) -> Problems:
    if data.transcriber is not None:
        yield from _component_problems(c, f"{path}.transcriber", data.transcriber, "transcriber")
    if data.corpus is not None:
        yield from _component_problems(c, f"{path}.corpus", data.corpus, "corpus")
    elif data.manifest is not None and c.base_dir is not None:
        target = Path(data.manifest)
        if not target.is_absolute():
            target = c.base_dir / target
        if not target.exists():
            yield SpecProblem(
                f"{path}.manifest",
                f"manifest file not found: {data.manifest}",
                "paths are relative to the spec's folder; check the file exists",
            )


# -- the pipeline as a whole ---------------------------------------------------------------
@dataclass
class Shape:
    """The top-level slots of a (pipeline or benchmark) spec, resolved."""

    fusions: list[Slot]
    models: list[Slot]
    n_branches: int
    branch_keys: list[str]

    @property
    def kinds(self) -> set[str]:
        return {s.info.fusion_kind for s in self.fusions if s.info is not None}


def fusion_rules(c: Ctx, s: Shape) -> Problems:
    if s.n_branches > 1 and not s.fusions:
        yield SpecProblem(
            "fusion",
            f"{s.n_branches} branches ({', '.join(s.branch_keys)}) need a fusion strategy",
            f"add e.g. fusion: {', '.join(c.fitting('fusion')[:3]) or 'fusion.late'}",
        )
    if s.n_branches == 1 and s.fusions:
        yield SpecProblem("fusion", "a fusion needs at least two branches", "remove 'fusion' or add a branch")


def top_model_rules(c: Ctx, s: Shape) -> Problems:
    vector_models = ", ".join(c.fitting("model", accepts=["vector"])[:3])
    if "early" in s.kinds and not s.models:
        early = [x.ref.name for x in s.fusions if x.info is not None and x.info.fusion_kind == "early"]
        yield SpecProblem(
            "model",
            f"early fusion '{early[0]}' needs a model to train on the fused features",
            f"add a top-level model, e.g. model: {vector_models or 'sklearn.svc'}",
        )
    if s.models and s.fusions and "early" not in s.kinds:
        yield SpecProblem(
            "model",
            "a top-level model is only used by early fusion",
            "move it into each branch (late fusion) or use an early fusion",
        )
    if s.models and not s.fusions and s.n_branches > 1:
        yield SpecProblem(
            "model", "a top-level model needs an early fusion of the branches", "add fusion: fusion.early"
        )
    for m in s.models:
        if m.info is not None and s.kinds == {"early"} and "vector" not in m.info.cls.accepts:
            yield SpecProblem(
                m.path,
                f"'{m.ref.name}' takes {'/'.join(sorted(m.info.cls.accepts))} input but "
                "early fusion gives one vector per sample",
                f"use a vector model, e.g. {vector_models}",
            )


# -- one branch -----------------------------------------------------------------------------
@dataclass
class BranchCtx:
    """One branch (or one alternative of a benchmark branch), its slots resolved."""

    key: str
    path: str
    modality: str | None
    extractors: list[Slot]
    models: list[Slot]
    normalise: list[str]
    shape: Shape
    grid: bool
    transcripts: list[str] = field(default_factory=list)  # what the branch sets (None: the data's default)
    data: DataSpec | None = None


def modality_rules(c: Ctx, b: BranchCtx) -> Problems:
    if b.modality is None:
        yield SpecProblem(
            f"{b.path}.modality",
            f"cannot tell the modality of branch '{b.key}'",
            "name the branch audio/text (or audio_*/text_*), or set modality: audio|text",
        )
    for e in b.extractors:
        if e.info is not None and b.modality and e.info.modality != b.modality:
            fits = c.fitting("extractor", modality=b.modality)
            yield SpecProblem(
                e.path,
                f"'{e.ref.name}' is {article(e.info.modality)} extractor but branch '{b.key}' is {b.modality}",
                f"use {article(b.modality)} extractor: {', '.join(fits)}"
                if fits
                else f"install a plugin with {b.modality} extractors",
            )


def presence_rules(c: Ctx, b: BranchCtx) -> Problems:
    kinds = b.shape.kinds
    if not b.extractors and not b.models:
        yield SpecProblem(
            b.path,
            "a branch needs an extractor and/or a model",
            f"add an extractor, e.g. {', '.join(c.fitting('extractor', modality=b.modality)[:3])}",
        )
    if "late" in kinds and not b.models:
        yield SpecProblem(
            f"{b.path}.model",
            f"late fusion combines each branch's probabilities but branch '{b.key}' has no model",
            f"add a model to the branch, e.g. {', '.join(c.fitting('model')[:3])}",
        )
    if kinds == {"early"} and b.models and not b.grid:
        yield SpecProblem(
            f"{b.path}.model",
            "a branch model is not used under early fusion (one top-level model is trained on the fused features)",
            "remove it, or use a late fusion",
        )
    if not kinds and b.shape.n_branches == 1 and not b.models:
        yield SpecProblem(
            f"{b.path}.model",
            "a single-branch pipeline needs a model",
            f"add e.g. model: {', '.join(c.fitting('model')[:3])}",
        )
    for how in ("speaker", "corpus"):
        if how in b.normalise and not b.extractors:
            yield SpecProblem(
                f"{b.path}.normalise",
                f"{how} normalisation needs features; this branch has no extractor",
                "add an extractor or set normalise: none",
            )


def transcript_rules(c: Ctx, b: BranchCtx) -> Problems:
    if "asr" in b.transcripts and b.modality == "audio":
        yield SpecProblem(
            f"{b.path}.transcripts",
            f"branch '{b.key}' is audio; transcripts choose the text of text branches",
            "remove transcripts here, or set it on a text branch",
        )
    asr = "asr" in b.transcripts or (not b.transcripts and b.data is not None and b.data.transcripts == "asr")
    if asr and b.modality == "text" and b.data is not None and b.data.transcriber is None:
        fits = c.fitting("transcriber")
        yield SpecProblem(
            f"{b.path}.transcripts",
            f"branch '{b.key}' reads ASR transcripts but data has no transcriber",
            f"add data.transcriber: {fits[0]}"
            if fits
            else "install a plugin with a transcriber (emoframe-transformers)",
        )


def early_fusion_rules(c: Ctx, b: BranchCtx) -> Problems:
    if "early" not in b.shape.kinds:
        return
    for e in b.extractors:
        if e.info is not None and c.output_of(e) != "vector":
            fits = c.fitting("extractor", modality=e.info.modality, output="vector")
            yield SpecProblem(
                e.path,
                f"early fusion concatenates vectors but '{e.ref.name}' gives {c.output_of(e)} features",
                f"use a vector extractor: {', '.join(fits)}" if fits else "use late fusion",
            )


def input_rules(c: Ctx, b: BranchCtx) -> Problems:
    """Model ↔ extractor compatibility: branch models, and the early model fed by a single branch."""
    feeds = list(b.models)
    if "early" in b.shape.kinds and b.shape.n_branches == 1:
        feeds += b.shape.models
    resolved = [e for e in b.extractors if e.info is not None]
    for m in feeds:
        if m.info is None:
            continue
        sources: list[Slot | None] = list(resolved) if resolved else ([] if b.extractors else [None])
        for e in sources:
            yield from _input_problems(c, b, m, e)


def _input_problems(c: Ctx, b: BranchCtx, m: Slot, e: Slot | None) -> Problems:
    info: Any = m.info
    accepts = set(info.cls.accepts)
    needs = getattr(info.cls, "requires", ())
    if needs and (e is None or e.ref.name not in needs):
        yield SpecProblem(
            m.path,
            f"'{m.ref.name}' works on the output of {' or '.join(needs)} only",
            f"set the branch extractor to {needs[0]}",
        )
        return
    wants = getattr(info.cls, "modality", None)
    if wants and b.modality and wants != b.modality:
        yield SpecProblem(
            m.path,
            f"'{m.ref.name}' takes {wants} but branch '{b.key}' is {b.modality}",
            f"use it in {'an' if wants == 'audio' else 'a'} {wants} branch",
        )
        return
    given = c.output_of(e) if e is not None else "raw"
    if given in accepts:
        return
    what = (
        f"'{e.ref.name}' ({e.path}) gives {given}"
        if e is not None
        else f"branch '{b.key}' has no extractor, so the model gets raw {b.modality or 'input'}"
    )
    fits = (
        [
            n
            for kind_ in sorted(accepts)
            if kind_ != "raw"
            for n in c.fitting("extractor", modality=b.modality, output=kind_)
        ]
        if b.modality
        else []
    )
    if "raw" in accepts:
        fix = "remove the extractor: this model takes the raw input"
    elif fits:
        fix = f"use a {'/'.join(sorted(accepts))} extractor: {', '.join(fits)}"
    else:
        other = [n for n in c.fitting("model") if given in (c.reg.get(n).accepts or [])]
        fix = f"use a model that takes {given}: {', '.join(other[:4])}" if other else "pick another model"
    yield SpecProblem(m.path, f"'{m.ref.name}' takes {'/'.join(sorted(accepts))} input but {what}", fix)


BRANCH_RULES: list[Callable[[Ctx, BranchCtx], Problems]] = [
    modality_rules,
    presence_rules,
    early_fusion_rules,
    input_rules,
    transcript_rules,
]


def _branches(spec: PipelineSpec | BenchmarkSpec) -> Iterator[tuple[str, str, Any]]:
    for key in sorted(spec.branches):
        if isinstance(spec, BenchmarkSpec):
            for path, branch in spec.branch_alternatives(key):
                yield key, path, branch
        else:
            yield key, f"branches.{key}", spec.branches[key]


def check(
    spec: PipelineSpec | BenchmarkSpec, registry: Registry, base_dir: Path | str | None = None
) -> list[SpecProblem]:
    """Every problem of a spec against the registry (empty list: valid)."""
    if isinstance(spec, BenchmarkSpec) and spec.also:
        problems: list[SpecProblem] = []
        for prefix, part in spec.parts():
            for p in check(part, registry, base_dir):
                q = (
                    p
                    if not prefix or p.path.startswith(("data", "evaluation"))
                    else SpecProblem(prefix + p.path, p.message, p.fix)
                )
                if q not in problems:
                    problems.append(q)
        return problems
    c = Ctx(registry, Path(base_dir) if base_dir is not None else None)
    if spec.is_multi_corpus:
        for i, source in enumerate(spec.data_sources):
            c.add(data_rules(c, f"data[{i}]", source))
    else:
        c.add(data_rules(c, "data", spec.data))
    c.add(sources_rules(spec))
    if spec.evaluation.test is not None:
        c.add(data_rules(c, "evaluation.test", spec.evaluation.test))
    shape = Shape(
        [c.resolve(p, r, "fusion") for p, r in _alternatives("fusion", spec.fusion)],
        [c.resolve(p, r, "model") for p, r in _alternatives("model", spec.model)],
        len(spec.branches),
        sorted(spec.branches),
    )
    c.add(fusion_rules(c, shape))
    c.add(top_model_rules(c, shape))
    c.add(repeat_problems(spec.evaluation))
    for key, path, branch in _branches(spec):
        normalise = branch.normalise if isinstance(branch.normalise, list) else [branch.normalise]
        b = BranchCtx(
            key,
            path,
            branch_modality(key, branch.modality),
            [c.resolve(p, r, "extractor") for p, r in _alternatives(f"{path}.extractor", branch.extractor)],
            [c.resolve(p, r, "model") for p, r in _alternatives(f"{path}.model", branch.model)],
            normalise,
            shape,
            isinstance(spec, BenchmarkSpec),
            [t for t in _as_list(branch.transcripts) if t],
            spec.data,
        )
        for rule in BRANCH_RULES:
            c.add(rule(c, b))
    c.add(sampler_problems(spec.tuning, c.searched))
    return c.problems


def validate(
    spec: PipelineSpec | BenchmarkSpec,
    registry: Registry,
    base_dir: Path | str | None = None,
    source: str | None = None,
) -> None:
    """Check a spec against the registry; raise SpecError listing every problem found."""
    problems = check(spec, registry, base_dir)
    if problems:
        raise SpecError(problems, source=source)


def cost_warnings(pipelines: list[PipelineSpec], registry: Registry, rows: int) -> list[str]:
    """Warnings (not errors) for combinations that are slow by nature at ``rows`` training rows,
    e.g. a kernel SVC on wide sparse TF-IDF: each model says so through ``Model.cost_warning``."""
    out: list[str] = []
    for spec in pipelines:
        early = spec.fusion is not None and spec.model is not None
        for _, branch in sorted(spec.branches.items()):
            model = spec.model if early else branch.model
            if model is None:
                continue
            inputs = "dense"
            if branch.extractor is not None:
                ext = cast("type[FeatureExtractor]", registry.get(branch.extractor.name).cls)
                if ext.sparse:
                    width = ext.width(ext.Params.model_validate(branch.extractor.params))
                    inputs = f"sparse {width}" if width else "sparse"
            cls = cast("type[Model]", registry.get(model.name).cls)
            note = cls.cost_warning(cls.Params.model_validate(model.params), inputs, rows)
            if note:
                note = f"{spec.display_name}: {note}"
                if note not in out:
                    out.append(note)
    return out
