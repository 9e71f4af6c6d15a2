"""The ``emoframe`` command. Errors print one line per problem (no traceback unless --debug).

Exit codes: 0 ok, 1 finished with failures, 2 bad input (DESIGN.md §7).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from . import __version__
from .errors import EmoframeError, SpecError

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


class EmoframeGroup(click.Group):
    """Turns EmoframeError into clean messages and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EmoframeError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            problems = getattr(exc, "problems", None)
            lines = [f"{exc.source}: {p}" if getattr(exc, "source", None) else str(p) for p in problems] \
                if problems else str(exc).splitlines()
            for line in lines:
                err_console.print(f"[red]error:[/red] {line}", highlight=False, soft_wrap=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 — last resort: one line, not a traceback
            if ctx.obj and ctx.obj.get("debug"):
                raise
            err_console.print(f"[red]internal error:[/red] {type(exc).__name__}: {exc} "
                              "(rerun with --debug for the traceback)", highlight=False, soft_wrap=True)
            ctx.exit(1)


@click.group(cls=EmoframeGroup)
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(__version__, prog_name="emoframe")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Multimodal emotion recognition from speech audio and transcripts."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _use_workdir(path: Path | None) -> Path:
    """Apply --workdir to the whole process, so corpora and caches of every component agree."""
    import os

    from .workdir import WORKDIR_ENV, workdir

    if path is not None:
        os.environ[WORKDIR_ENV] = str(path)
    return workdir()


def _registry() -> Any:
    from .registry import get_registry

    return get_registry()


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--show", metavar="NAME", help="Show one component's documentation and parameters.")
def plugins(as_json: bool, show: str | None) -> None:
    """List installed plugins and their components (broken plugins with the reason)."""
    reg = _registry()
    if show:
        info = reg.get(show)
        if as_json:
            click.echo(json.dumps(info.to_dict(), indent=2))
            return
        _show_component(info)
        return
    if as_json:
        click.echo(json.dumps({"plugins": [p.to_dict() for p in reg.plugins],
                               "components": [c.to_dict() for c in reg.components()]}, indent=2))
        return
    table = Table(title="emoframe components", title_justify="left")
    for col in ("name", "kind", "in → out", "plugin", "version", "what it is"):
        table.add_column(col, overflow="fold")
    for c in reg.components():
        if c.kind == "extractor":
            io = f"{c.modality} → {c.output}" + ("" if c.stateless else " (fitted)")
        elif c.kind == "model":
            io = "/".join(c.accepts) + " → probabilities"
        elif c.kind == "fusion":
            io = c.fusion_kind
        else:
            io = "manifest"
        table.add_row(c.name, c.kind, io, c.distribution, c.version, c.summary)
    console.print(table)
    broken = reg.broken
    if broken:
        bt = Table(title="plugins with problems", title_justify="left", title_style="red")
        for col in ("plugin", "distribution", "status", "reason"):
            bt.add_column(col, overflow="fold")
        for p in broken:
            bt.add_row(p.name, p.distribution, p.status, "\n".join(p.problems))
        console.print(bt)


def _show_component(info: Any) -> None:
    console.print(f"[bold]{info.name}[/bold]  {info.kind}  v{info.version}  ({info.distribution})")
    console.print(info.doc or "(no documentation)")
    schema = info.params_schema()
    props = schema.get("properties", {})
    if not props:
        console.print("no parameters")
        return
    table = Table(title="parameters", title_justify="left")
    for col in ("name", "type", "default", "description"):
        table.add_column(col, overflow="fold")
    for name, prop in props.items():
        kind = prop.get("type") or " | ".join(
            str(a.get("type") or a.get("enum") or a.get("const") or "object") for a in prop.get("anyOf", []))
        if "enum" in prop:
            kind = " | ".join(map(str, prop["enum"]))
        table.add_row(name, str(kind), json.dumps(prop.get("default")), prop.get("description", ""))
    console.print(table)


@main.command()
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--expand", is_flag=True, help="List the pipelines a benchmark expands to.")
def validate(spec_path: Path, expand: bool) -> None:
    """Validate a pipeline or benchmark spec (YAML/JSON) against the installed plugins."""
    from .spec import PipelineSpec, load_spec, pipelines_of

    reg = _registry()
    spec = load_spec(spec_path, registry=reg)
    if isinstance(spec, PipelineSpec):
        console.print(f"[green]ok[/green] pipeline: {spec.display_name}", highlight=False)
        return
    pipelines = pipelines_of(spec, reg)
    fused = sum(p.is_fused for p in pipelines)
    console.print(f"[green]ok[/green] benchmark{' ' + spec.name if spec.name else ''}: "
                  f"{len(pipelines)} pipelines ({fused} fused, {len(pipelines) - fused} unimodal)",
                  highlight=False)
    if expand:
        for p in pipelines:
            console.print(f"  {p.label()}", highlight=False)


@main.command()
@click.option("--kind", type=click.Choice(["pipeline", "benchmark", "all"]), default="all",
              show_default=True)
def schema(kind: str) -> None:
    """Print the JSON Schema of the spec files."""
    from .spec import json_schemas

    schemas = json_schemas()
    out = schemas if kind == "all" else schemas[f"{kind.capitalize()}Spec"]
    click.echo(json.dumps(out, indent=2))


@main.group()
def corpus() -> None:
    """Generate the synthetic demo corpus; inspect corpora."""


@corpus.command("synth")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write (replaced if it exists).")
@click.option("--seed", default=0, show_default=True)
@click.option("--speakers", default=12, show_default=True, type=click.IntRange(2, 200))
@click.option("--per-class", default=10, show_default=True, type=click.IntRange(1, 500))
def corpus_synth(out: Path, seed: int, speakers: int, per_class: int) -> None:
    """Write the synthetic demo corpus (deterministic: same seed, same bytes)."""
    import time

    from .data.synth import CLASSES, generate

    t0 = time.perf_counter()
    generate(out, seed=seed, speakers=speakers, per_class=per_class)
    n = speakers * per_class * len(CLASSES)
    console.print(f"wrote {n} synthetic utterances ({speakers} speakers, {', '.join(CLASSES)}) to {out} "
                  f"in {time.perf_counter() - t0:.1f} s — synthetic speech, not a real corpus", highlight=False)


def _load_corpus(name: str | None, manifest: Path | None, params: tuple[str, ...]) -> Any:
    from .data.manifest import load_manifest

    if (name is None) == (manifest is None):
        raise click.UsageError("give a corpus NAME or --manifest PATH")
    if manifest is not None:
        return load_manifest(manifest)
    values = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"'{item}' is not KEY=VALUE", param_hint="--param")
        values[key] = _parse_value(value)
    return _registry().create(name, values, kind="corpus").load()


def _parse_value(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


@corpus.command("info")
@click.argument("name", required=False)
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=Path), help="A manifest file instead.")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE", help="Corpus parameter.")
def corpus_info(name: str | None, manifest: Path | None, params: tuple[str, ...]) -> None:
    """Load a corpus, validate it, and show its size, classes and speakers."""
    m = _load_corpus(name, manifest, params)
    frame = m.frame
    console.print(f"{m.name}: {len(m)} utterances, {frame['speaker'].nunique()} speakers, "
                  f"audio: {'yes' if m.has_audio else 'no (text-only)'}", highlight=False)
    table = Table("label", "utterances", "speakers")
    for label, group in frame.groupby("label"):
        table.add_row(str(label), str(len(group)), str(group["speaker"].nunique()))
    console.print(table)
    for w in m.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {w}", highlight=False)


@main.command()
@click.argument("extractor")
@click.option("--corpus", "corpus_name", help="Registered corpus name.")
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=Path), help="A manifest file instead.")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE", help="Corpus parameter.")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None, help="Worker processes [default: cores].")
@click.option("--no-cache", is_flag=True, help="Do not read or write the feature cache.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), help="State folder [./.emoframe].")
def extract(extractor: str, corpus_name: str | None, manifest: Path | None, params: tuple[str, ...],
            jobs: int | None, no_cache: bool, workdir: Path | None) -> None:
    """Extract (and cache) a stateless extractor's features for a corpus."""
    from .features import FeatureCache, extract_features

    wd = _use_workdir(workdir)
    m = _load_corpus(corpus_name, manifest, params)
    ext = _registry().create(extractor, kind="extractor")
    cache = None if no_cache else FeatureCache(wd / "cache")
    result = extract_features(ext, m, jobs=jobs, cache=cache, progress=sys.stderr.isatty())
    shape = result.features[0].shape if result.features else ()
    console.print(f"{ext.name}: {len(result.ids)} samples ({result.hits} cached, {result.misses} computed) "
                  f"in {result.seconds:.1f} s; feature shape {shape}", highlight=False)
    _report_failures(result.failures)
    if result.failures:
        sys.exit(1)


def _report_failures(failures: dict[str, str]) -> None:
    for sample_id, reason in failures.items():
        err_console.print(f"[yellow]skipped[/yellow] {sample_id}: {reason}", highlight=False, soft_wrap=True)
    if failures:
        err_console.print(f"{len(failures)} sample(s) skipped; the rest was processed and saved", highlight=False)


@main.command("run")
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None, help="Extraction processes [default: cores].")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), help="State folder [./.emoframe].")
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
def run_pipeline(spec_path: Path, jobs: int | None, workdir: Path | None, as_json: bool) -> None:
    """Evaluate one pipeline spec under its protocol; print metrics with CIs and store the result."""
    import time

    from .data.source import load_data
    from .evaluation.runner import evaluate
    from .features import FeatureCache
    from .pipeline import FeatureProvider
    from .spec import PipelineSpec, load_spec

    wd = _use_workdir(workdir)
    reg = _registry()
    spec = load_spec(spec_path, registry=reg)
    if not isinstance(spec, PipelineSpec):
        raise SpecError([], source=f"{spec_path}: a benchmark spec (it lists alternatives); "
                                   "validate it with `emoframe validate --expand` and run one pipeline at a time")
    provider = FeatureProvider(reg, cache=FeatureCache(wd / "cache"), jobs=jobs, progress=sys.stderr.isatty())
    manifest = load_data(spec.data, reg, base_dir=spec_path.parent)
    say = (lambda msg: err_console.print(f"[dim]{msg}[/dim]", highlight=False)) if sys.stderr.isatty() else None
    result = evaluate(spec, reg, manifest=manifest, provider=provider, progress=say)
    runs = wd / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    out = runs / f"{time.strftime('%Y%m%d-%H%M%S')}-{spec.digest()}.json"
    out.write_text(json.dumps(result.to_dict(), indent=1))
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=1))
    else:
        _print_result(result)
        console.print(f"[dim]stored {out}[/dim]", highlight=False)
    _report_failures(result.failures)
    if result.failures:
        sys.exit(1)


def _print_result(r: Any) -> None:
    lo, hi = r.uar_ci
    console.print(f"[bold]{r.pipeline}[/bold]  ({r.protocol}, {len(r.folds)} fold(s), {len(r.classes)} classes)",
                  highlight=False)
    console.print(f"UAR {r.uar_mean:.3f} ± {r.uar_std:.3f} over folds, 95% CI {lo:.3f}–{hi:.3f} (pooled bootstrap) · "
                  f"WA {r.metrics['wa']:.3f} · macro-F1 {r.metrics['macro_f1']:.3f} · "
                  f"weighted-F1 {r.metrics['weighted_f1']:.3f}", highlight=False)
    console.print(f"generalisation gap (train − test UAR) {r.gap_mean:+.3f} ± {r.gap_std:.3f} · "
                  f"fit {r.fit_s:.1f} s · predict {r.predict_s:.1f} s", highlight=False)
    if r.verdict:
        colour = "green" if r.fusion_gain["helped"] else ("red" if r.fusion_gain["hurt"] else "yellow")
        parts = ", ".join(f"{k} {v:.3f}" for k, v in r.fusion_gain["part_uar"].items())
        console.print(f"[{colour}]{r.verdict}[/{colour}] (unimodal UAR: {parts})", highlight=False)
    recall = Table("class", "recall", title="per-class recall", title_justify="left")
    for c, v in r.metrics["recall"].items():
        recall.add_row(c, "—" if v is None else f"{v:.3f}")
    console.print(recall)
    cm = Table("true \\ predicted", *r.classes, title="confusion matrix", title_justify="left")
    for c, row in zip(r.classes, r.metrics["confusion"]):
        cm.add_row(c, *[str(v) for v in row])
    console.print(cm)
    for w in r.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {w}", highlight=False)


@main.group()
def cache() -> None:
    """Inspect or clear the feature cache."""


@cache.command("info")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), help="State folder [./.emoframe].")
def cache_info(workdir: Path | None) -> None:
    """Entries and size per extractor."""
    from .features import FeatureCache

    fc = FeatureCache(_use_workdir(workdir) / "cache")
    info = fc.info()
    table = Table("extractor", "entries", "size", title=f"feature cache {fc.root}", title_justify="left")
    for name, row in info.items():
        table.add_row(name, str(row["entries"]), f"{row['bytes'] / 1e6:.1f} MB")
    console.print(table if info else f"feature cache {fc.root} is empty", highlight=False)


@cache.command("clear")
@click.option("--extractor", help="Only this extractor's entries.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), help="State folder [./.emoframe].")
def cache_clear(extractor: str | None, workdir: Path | None) -> None:
    """Delete cached features (all, or one extractor's)."""
    from .features import FeatureCache

    removed = FeatureCache(_use_workdir(workdir) / "cache").clear(extractor)
    console.print(f"removed {removed} cached entr{'y' if removed == 1 else 'ies'}", highlight=False)


__all__ = ["main", "SpecError"]
