"""What every command family shares: the consoles, styled text, progress bars, the shared options, and the
renderers of leaderboard rows. Imports nothing of the command modules (they import it)."""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from ..plugin.registry import Registry
    from ..results.leaderboard import LeaderboardRow

# wide enough for the leaderboard when piped or logged (a terminal keeps its own width). markup=False:
# user text (names, paths, labels, messages) is data, never markup; colour comes from Text styles.
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 180, markup=False, highlight=False)
err_console = Console(
    stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else 180, markup=False, highlight=False
)

WORKDIR_HELP = "State folder [./.emoframe]."
STRICT_HELP = "Refuse a bundle whose components' code differs from the code it was trained with (default: warn)."

#: ``--workdir``, as every command that reads or writes the state folder takes it
workdir_option = click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), help=WORKDIR_HELP)


def styled(*parts: str | tuple[str, str]) -> Text:
    """Plain text with styled pieces: ``styled(("error: ", "red"), message)`` — never parsed as markup."""
    return Text.assemble(*parts)


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """How a run or a benchmark is executed: the options `run`, `bench` and `demo` take, as one value."""

    jobs: int | None = None
    workdir: Path | None = None
    executor: str | None = None
    scheduler: str | None = None
    fresh: bool = False
    report_dir: Path | None = None
    timeout: str | None = None
    no_cache: bool = False


_BENCH_OPTIONS = [
    click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None, help="Processes [default: cores]."),
    workdir_option,
    click.option(
        "--executor",
        type=click.Choice(["local", "dask"]),
        default=None,
        help="Where fold tasks run [local; dask when --scheduler is given].",
    ),
    click.option(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler, tcp://HOST:PORT (implies --executor dask); with --executor dask alone: a LocalCluster.",
    ),
    click.option("--fresh", is_flag=True, help="Drop this benchmark's stored results and rerun everything."),
    click.option(
        "--report",
        "report_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder of the HTML report [<workdir>/reports/<run>].",
    ),
    click.option(
        "--timeout",
        metavar="SECONDS|none",
        help="Stop a fold task after this long and record it as timed out [spec's execution.timeout: 7200].",
    ),
    click.option("--no-cache", is_flag=True, help="Neither read nor write the feature cache."),
]


def bench_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The eight options `bench` and `demo` share, handed to the command as one ``options: RunOptions``."""
    fields = [f.name for f in dataclasses.fields(RunOptions)]

    @functools.wraps(fn)
    def command(*args: Any, **kwargs: Any) -> Any:
        options = RunOptions(**{name: kwargs.pop(name) for name in fields})
        return fn(*args, options=options, **kwargs)

    for option in reversed(_BENCH_OPTIONS):
        command = option(command)
    return command


def use_workdir(path: Path | None) -> Path:
    """--workdir, else $EMOFRAME_WORKDIR, else ./.emoframe; passed on explicitly, never via the environment."""
    from ..workdir import workdir

    return workdir(path)


def load_registry() -> Registry:
    """The installed plugins' registry (built once per process)."""
    from ..plugin.registry import get_registry

    return get_registry()


def load_corpus(name: str | None, manifest: Path | None, params: tuple[str, ...], wd: Path | None = None) -> Any:
    """A corpus by registered NAME (with KEY=VALUE parameters) or a manifest file: `corpus info` and `extract`."""
    from ..data.manifest import load_manifest

    if manifest is not None and name is None:
        return load_manifest(manifest)
    if name is None or manifest is not None:
        raise click.UsageError("give a corpus NAME or --manifest PATH")
    values = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"'{item}' is not KEY=VALUE", param_hint="--param")
        values[key] = parse_value(value)
    corpus = load_registry().create(name, values, kind="corpus")
    if wd is not None:
        corpus.workdir = wd
    return corpus.load()


def parse_value(text: str) -> Any:
    """A --param value as YAML reads it (numbers, booleans, lists); the text itself when it is not YAML."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def progress_bar() -> Any:
    """The bars of long commands: on stderr when it is a terminal, gone when the work is done."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not sys.stderr.isatty(),
    )


def report_errors(outcome: Any) -> None:
    """Failed pipeline-folds, one line per (pipeline, message) with its folds; exit 1 if any."""
    if not outcome.errors:
        return
    names = {pid: ps.display_name for pid, ps in outcome.pipelines}
    grouped: dict[tuple[str, str], list[int]] = {}
    for e in outcome.errors:
        grouped.setdefault((names.get(e["pipeline_id"], e["pipeline_id"]), e["message"]), []).append(e["fold"])
    err_console.print(styled((f"{len(outcome.errors)} pipeline-fold(s) failed:", "red")))
    for (name, message), folds in grouped.items():
        err_console.print(f"  {name} (fold{'s' if len(folds) > 1 else ''} {', '.join(map(str, folds))}): {message}")
    err_console.print("every other pipeline completed and is stored; fix the cause and rerun to fill the gaps")
    sys.exit(1)


def code_change_lines(store: Any, run_id: str) -> list[str]:
    """One warning per component whose code changed since the run was stored (its figures are the older
    code's): what `results`, `compare` and `report` say before showing them."""
    from ..results.code_check import changed_since_stored, describe_changes

    return describe_changes(changed_since_stored(store, run_id, load_registry()), run_id)


def warn_lines(lines: list[str]) -> None:
    for line in lines:
        err_console.print(styled(("warning: ", "yellow"), line))


def report_left_out(failures: list[dict[str, Any]], shown: int = 8, stored: bool = True) -> None:
    """Rows left out, one line per (component, reason) with the count and examples. A command that stores
    no run (``stored=False``: `extract`, `train`) prints every reason: no `emoframe failures` could show the rest."""
    from ..evaluation.failures import group_failures

    groups = group_failures(failures)
    limit = shown if stored else len(groups)
    for g in groups[:limit]:
        err_console.print(styled(("left out ", "yellow"), g.line()))
    if len(groups) > limit:
        err_console.print(f"… and {len(groups) - limit} more reason(s); `emoframe failures` lists every row")


def print_verdicts(rows: list[LeaderboardRow]) -> None:
    """Each fused row's verdict, coloured by its outcome (`bench`, `demo` and `results` alike)."""
    from ..display import OUTCOME_STYLE
    from ..results.leaderboard import outcome

    for r in rows:
        if r.verdict:
            console.print(styled((r.verdict, OUTCOME_STYLE[outcome(r)]), f" — {r.pipeline}"))


def print_leaderboard(rows: list[LeaderboardRow], title: str) -> None:
    """The leaderboard as a table under the shared HEADERS (the report and the TUI show the same cells)."""
    from ..results.leaderboard import HEADERS, table_cells

    table = Table(
        title=title,
        title_justify="left",
        caption="sorted by pooled UAR; n = rows evaluated (share of the rows the protocol evaluates)",
        caption_justify="left",
    )
    for col in HEADERS:
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(*table_cells(r))
    console.print(table)


def print_robustness(rows: list[LeaderboardRow]) -> None:
    """Each pipeline's UAR change under each perturbation of the run's sweep, in points (nothing without one)."""
    names = sorted({n for r in rows for n in (r.robustness or {})})
    if not names:
        return
    table = Table("pipeline", *names, title="robustness: UAR change under perturbation (points)", title_justify="left")
    for r in rows:
        rob = r.robustness or {}
        if rob:
            table.add_row(r.pipeline, *[f"{rob[n]['delta'] * 100:+.1f}" if n in rob else "" for n in names])
    console.print(table)
