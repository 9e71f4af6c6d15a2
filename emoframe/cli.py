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

console = Console()
err_console = Console(stderr=True)


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


def run() -> None:  # pragma: no cover - console script shim
    sys.exit(main())


__all__ = ["main", "SpecError"]
