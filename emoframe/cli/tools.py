"""Commands around the work: `tui`, `new plugin`, `cache info` / `cache clear`."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from .common import console, err_console, load_registry, styled, use_workdir, workdir_option


@click.command()
@click.argument("spec_path", metavar="[SPEC]", required=False, type=click.Path(dir_okay=False, path_type=Path))
@workdir_option
def tui(spec_path: Path | None, workdir: Path | None) -> None:
    """The terminal UI: browse plugins, build and validate specs, run benchmarks, read results."""
    from ..tui.app import EmoframeApp

    EmoframeApp(load_registry(), use_workdir(workdir), spec_path).run()


@click.group()
def new() -> None:
    """Start something new from a template."""


@new.command("plugin")
@click.argument("name")
@click.option(
    "--kinds",
    default="extractor,model,fusion",
    show_default=True,
    help="Components to write, comma-separated: extractor, model, fusion.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder to create emoframe-NAME/ in.",
)
def new_plugin(name: str, kinds: str, out: Path) -> None:
    """A plugin distribution (pyproject with the entry point, components, conformance tests, README)."""
    from ..plugin.scaffold import new_plugin as scaffold

    root = scaffold(name, out, tuple(k.strip() for k in kinds.split(",") if k.strip()))
    console.print(f"wrote {root}: `pip install -e {root}` registers it; `pytest {root / 'tests'}` checks it")


@click.group()
def cache() -> None:
    """Inspect or clear the feature cache."""


@cache.command("info")
@workdir_option
def cache_info(workdir: Path | None) -> None:
    """Entries and size per extractor."""
    from ..features import FeatureCache

    fc = FeatureCache(use_workdir(workdir) / "cache")
    info = fc.info()
    table = Table("extractor", "entries", "size", title=f"feature cache {fc.root}", title_justify="left")
    for name, row in info.items():
        table.add_row(name, str(row["entries"]), f"{row['bytes'] / 1e6:.1f} MB")
    console.print(table if info else f"feature cache {fc.root} is empty", highlight=False)


@cache.command("clear")
@click.option("--extractor", help="Only this extractor's entries.")
@workdir_option
def cache_clear(extractor: str | None, workdir: Path | None) -> None:
    """Delete cached features (all, or one extractor's)."""
    from ..features import FeatureCache

    fc = FeatureCache(use_workdir(workdir) / "cache")
    removed = fc.clear(extractor)
    console.print(f"removed {removed} cached entr{'y' if removed == 1 else 'ies'}", highlight=False)
    if fc.left_in_place:
        shown = ", ".join(str(p) for p in fc.left_in_place[:3])
        err_console.print(
            styled(("warning: ", "yellow"), f"left {len(fc.left_in_place)} file(s) emoframe did not write: {shown}")
        )
