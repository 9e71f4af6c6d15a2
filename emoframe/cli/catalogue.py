"""Commands that say what is installed and what is valid: `plugins`, `validate`, `schema`, `corpus`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from ..display import param_rows
from .common import console, err_console, load_corpus, load_registry, styled, workdir_option


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--show", metavar="NAME", help="Show one component's documentation and parameters.")
def plugins(as_json: bool, show: str | None) -> None:
    """List installed plugins and their components (broken plugins with the reason)."""
    reg = load_registry()
    if show:
        info = reg.get(show)
        if as_json:
            click.echo(json.dumps(info.to_dict(), indent=2))
            return
        _show_component(info)
        return
    limit = reg.plugin_filter
    if as_json:
        listing = {"plugins": [p.to_dict() for p in reg.plugins], "components": [c.to_dict() for c in reg.components()]}
        click.echo(json.dumps({**listing, "filter": limit.to_dict() if limit else None}, indent=2))
        return
    if limit is not None:  # a filter in force is said before what it hides
        console.print(styled(("plugin filter: ", "yellow"), limit.describe()), highlight=False)
    table = Table(title="emoframe components", title_justify="left")
    for col in ("name", "kind", "in → out", "plugin (EMOFRAME_PLUGINS)", "distribution", "version", "what it is"):
        table.add_column(col, overflow="fold")
    for c in reg.components():
        table.add_row(
            c.name,
            c.kind,
            c.io_text,
            c.plugin,
            f"{c.distribution} {c.distribution_version}".strip(),
            c.version,
            c.summary,
        )
    console.print(table)
    if reg.conflicts:
        ct = Table(
            title="name conflicts (neither is used under the bare name)", title_justify="left", title_style="red"
        )
        for col in ("name", "registered by", "write in a spec"):
            ct.add_column(col, overflow="fold")
        for name, group in reg.conflicts.items():
            ct.add_row(
                name,
                "\n".join(f"{c.distribution} {c.distribution_version} (plugin {c.plugin})" for c in group),
                "\n".join(c.qualified_name for c in group),
            )
        console.print(ct)
    broken = reg.broken
    if broken:
        bt = Table(title="plugins with problems", title_justify="left", title_style="red")
        for col in ("plugin", "distribution", "status", "reason"):
            bt.add_column(col, overflow="fold")
        for p in broken:
            bt.add_row(p.name, p.distribution, p.status, "\n".join(p.problems))
        console.print(bt)


def _show_component(info: Any) -> None:
    console.print(
        styled(
            (info.name, "bold"),
            f"  {info.kind} · {info.io_text} · v{info.version}  ({info.distribution} {info.distribution_version})",
        )
    )
    console.print(info.doc or "(no documentation)")
    rows = param_rows(info.params_schema())
    if not rows:
        console.print("no parameters")
        return
    table = Table(title="parameters", title_justify="left")
    for col in ("name", "type", "default", "allowed", "description"):
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _spec_manifest(data: Any, base: Path) -> Any:
    """A spec's manifest file, loaded, for the checks that need the rows (size warnings, audio
    branches over text-only rows); None for a corpus (validate does not load one: it may generate
    or unpack data) or a manifest that cannot be read (the run says why)."""
    from ..data.manifest import load_manifest
    from ..errors import DataError

    if data.manifest is None:
        return None
    path = Path(data.manifest) if Path(data.manifest).is_absolute() else base / data.manifest
    try:
        return load_manifest(path, encoding=data.encoding)
    except DataError:
        return None


@click.command()
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--expand", is_flag=True, help="List the pipelines a benchmark expands to.")
def validate(spec_path: Path, expand: bool) -> None:
    """Validate a pipeline or benchmark spec (YAML/JSON) against the installed plugins."""
    from ..api import validate as validate_api
    from ..data.source import check_audio_rows
    from ..spec import PipelineSpec, cost_warnings, pipelines_of
    from ..spec.search import budget_warnings

    reg = load_registry()
    spec = validate_api(spec_path, reg)  # the Python API's check: one code path
    pipelines = pipelines_of(spec, reg)
    manifest = _spec_manifest(spec.data, spec_path.parent)
    for note in budget_warnings(pipelines):  # nested tuning: a fair comparison needs equal budgets
        err_console.print(styled(("warning: ", "yellow"), note))
    if spec.is_multi_corpus:  # label maps: the rule the run applies, on the labels known without loading audio
        from ..bench.study import declared_labels, labels_shared

        known = declared_labels(spec, reg, spec_path.parent)
        if known is not None:
            maps = {d.source_name(): d.label_map for d in spec.data_sources}
            labels_shared(known, maps, spec.evaluation.protocol == "cross_corpus_matrix")  # DataError: exit 2
    if manifest is not None:
        check_audio_rows(pipelines, manifest)  # DataError: exit 2, naming rows and branches
        if spec.evaluation.n_repeats > 1:  # whether the speakers let the repeats differ
            from ..errors import SpecError
            from ..spec import repeat_problems

            problems = list(repeat_problems(spec.evaluation, int(manifest.frame["speaker"].nunique())))
            if problems:
                raise SpecError(problems, source=str(spec_path))
        for note in cost_warnings(pipelines, reg, len(manifest)):
            err_console.print(styled(("warning: ", "yellow"), note))
    if isinstance(spec, PipelineSpec):
        console.print(styled(("ok", "green"), f" pipeline: {spec.display_name}"))
        return
    fused = sum(p.is_fused for p in pipelines)
    console.print(
        styled(
            ("ok", "green"),
            f" benchmark{' ' + spec.name if spec.name else ''}: "
            f"{len(pipelines)} pipelines ({fused} fused, {len(pipelines) - fused} unimodal)" + _corpora_note(spec),
        )
    )
    if expand:
        for p in pipelines:
            console.print(f"  {p.label()}", highlight=False, markup=False)


def _corpora_note(spec: Any) -> str:
    """' on each of 3 corpora (a, b, c)' for a spec over several corpora, else ''."""
    if not spec.is_multi_corpus:
        return ""
    names = ", ".join(d.source_name() for d in spec.data_sources)
    return f" on each of {len(spec.data_sources)} corpora ({names})"


@click.command()
@click.option("--kind", type=click.Choice(["pipeline", "benchmark", "all"]), default="all", show_default=True)
def schema(kind: str) -> None:
    """Print the JSON Schema of the spec files."""
    from ..spec import json_schemas

    schemas = json_schemas()
    out = schemas if kind == "all" else schemas[f"{kind.capitalize()}Spec"]
    click.echo(json.dumps(out, indent=2))


@click.group()
def corpus() -> None:
    """Generate the synthetic demo corpus; inspect corpora."""


@corpus.command("synth")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write: new, empty, or a corpus folder emoframe generated (then replaced).",
)
@click.option("--seed", default=0, show_default=True)
@click.option("--speakers", default=12, show_default=True, type=click.IntRange(2, 2000))
@click.option("--per-class", default=10, show_default=True, type=click.IntRange(1, 500))
@click.option(
    "--size",
    type=click.IntRange(8, 1_000_000),
    help="About this many utterances (sets --speakers and --per-class: 1000 → 25 × 10, 16000 → 100 × 40).",
)
def corpus_synth(out: Path, seed: int, speakers: int, per_class: int, size: int | None) -> None:
    """Write the synthetic demo corpus (deterministic: same seed, same bytes)."""
    import time

    from ..data.synth import CLASSES, generate, shape_for

    if size is not None:
        speakers, per_class = shape_for(size)
    t0 = time.perf_counter()
    generate(out, seed=seed, speakers=speakers, per_class=per_class)
    n = speakers * per_class * len(CLASSES)
    console.print(
        f"wrote {n} synthetic utterances ({speakers} speakers, {', '.join(CLASSES)}) to {out} "
        f"in {time.perf_counter() - t0:.1f} s — synthetic speech, not a real corpus",
        highlight=False,
    )


@corpus.command("info")
@click.argument("name", required=False)
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=Path), help="A manifest file instead.")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE", help="Corpus parameter.")
@click.option(
    "--spec",
    "spec_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Every data source of this spec side by side (classes, speakers, languages, durations, sample rates).",
)
@workdir_option
def corpus_info(
    name: str | None, manifest: Path | None, params: tuple[str, ...], spec_path: Path | None, workdir: Path | None
) -> None:
    """Load a corpus, validate it, and show its size, classes and speakers (or a spec's corpora side by side)."""
    if spec_path is not None:
        if name is not None or manifest is not None:
            raise click.UsageError("give a corpus NAME, --manifest PATH or --spec SPEC, one of them")
        from .corpora import corpus_cards

        corpus_cards(spec_path, workdir)
        return
    m = load_corpus(name, manifest, params)
    frame = m.frame
    console.print(
        f"{m.name}: {len(m)} utterances, {frame['speaker'].nunique()} speakers, "
        f"audio: {'yes' if m.has_audio else 'no (text-only)'}",
        highlight=False,
    )
    table = Table("label", "utterances", "speakers")
    for label, group in frame.groupby("label"):
        table.add_row(str(label), str(len(group)), str(group["speaker"].nunique()))
    console.print(table)
    if name is not None and name in (registry := load_registry()):
        cls = registry.get(name).cls
        native = getattr(cls, "native_labels", {})
        if native:  # what the loader writes: the corpus's own codes onto the shared vocabulary
            console.print(
                "labels (native → shared): " + ", ".join(f"{k} → {v}" for k, v in native.items()),
                highlight=False,
            )
        language = getattr(cls, "language", None)
        if language:
            console.print(f"language: {language}", highlight=False)
    if m.empty_transcripts:  # a fact about the corpus; a warning only where a text branch reads them
        console.print(f"transcripts: {len(m.empty_transcripts)} empty", highlight=False)
    for w in m.warnings:
        err_console.print(styled(("warning: ", "yellow"), w))
