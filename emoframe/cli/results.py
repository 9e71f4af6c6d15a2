"""Commands that read the results store: `runs`, `failures`, `results`, `compare`, `report`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from ..display import OUTCOME_STYLE
from ..errors import EmoframeError
from ..results.resolve import printable
from .common import (
    code_change_lines,
    console,
    err_console,
    print_leaderboard,
    print_verdicts,
    styled,
    use_workdir,
    warn_lines,
    workdir_option,
)


def _echo_records(records: list[dict[str, Any]], fmt: str, fields: list[str]) -> None:
    """Records as JSON or CSV on stdout (machine-readable faces of `runs` and `failures`)."""
    import csv
    import io

    if fmt == "json":
        click.echo(json.dumps(records, indent=1))
        return
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(records)
    click.echo(buf.getvalue(), nl=False)


def _read_store(workdir: Path | None) -> Any:
    from ..results.store import ResultsStore

    wd = use_workdir(workdir)
    if not (wd / "results.db").exists():
        raise EmoframeError(f"no results in {wd}; run `emoframe run SPEC`, `emoframe bench SPEC` or `emoframe demo`")
    return ResultsStore(wd / "results.db", readonly=True)


@click.command()
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@workdir_option
def runs(fmt: str, workdir: Path | None) -> None:
    """Every stored run, newest first: `emoframe run` and `emoframe bench` alike."""
    from ..api import run_records

    rows = run_records(use_workdir(workdir))  # the records emoframe.runs() shows: one code path
    if fmt in ("json", "csv"):
        _echo_records(rows, fmt, list(rows[0]) if rows else ["id"])
    else:
        table = Table(
            "id",
            "name",
            "date",
            "kind",
            "protocol",
            "pipelines",
            "status",
            "failed pipeline-folds",
            title="runs (newest first)",
            title_justify="left",
        )
        for r in rows:
            table.add_row(
                r["id"][:12],
                printable(r["name"]),
                r["date"],
                r["kind"],
                r["protocol"],
                str(r["pipelines"]),
                r["status"],
                str(r["failed"]),
            )
        console.print(table if rows else "no runs yet")


@click.command()
@click.argument("run_id", metavar="[RUN]", required=False)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@workdir_option
def failures(run_id: str | None, fmt: str, workdir: Path | None) -> None:
    """Every row left out of a run (component, reason), every failed pipeline-fold and tuning trial (default:
    latest run)."""
    from ..results.resolve import resolve_run
    from ..results.tuning import trial_failures

    store = _read_store(workdir)
    try:
        run = store.run(resolve_run(store, run_id))
        names = {p["id"]: p["name"] for p in store.pipelines(run["id"])}
        records = [
            {
                "kind": "row",
                "what": f["id"],
                "component": f.get("component", "?"),
                "fold": "",
                "reason": f.get("reason", ""),
                "file": f.get("file", ""),  # the file the reason is about (audio extractors' rows)
            }
            for f in run["failures"]
        ]
        records += [
            {
                "kind": "pipeline",
                "what": names.get(e["pipeline_id"], e["pipeline_id"]),
                "component": "",
                "fold": str(e["fold"]) + (f" of repeat {e['repeat'] + 1}" if e.get("repeat") else ""),
                "reason": e["message"],
                "file": "",
            }
            for e in store.errors(run["id"])
        ]
        records += trial_failures(store.tuning_trials(run["id"]), names)  # nested tuning: a failed trial costs itself
    finally:
        store.close()
    if fmt in ("json", "csv"):
        _echo_records(records, fmt, ["kind", "what", "component", "fold", "reason", "file"])
    else:
        table = Table(
            "kind",
            "row / pipeline",
            "component",
            "fold",
            "reason",
            "file",
            title=f"failures of {printable(run['name'])} — run {run['id'][:12]}",
            title_justify="left",
        )
        for r in records:
            table.add_row(r["kind"], r["what"], r["component"], r["fold"], r["reason"], r["file"])
        console.print(table if records else f"run {run['id'][:12]} has no failures")


def _print_cost(rows: list[Any], fmt: str, title: str) -> None:
    """`results --cost`: the cost table and the accuracy/cost front (table), or the cost columns (csv, markdown);
    JSON is every row's record, cost included."""
    from ..results.leaderboard import to_json
    from ..results.tradeoff import COST_HEADERS, cost_cells, cost_csv, cost_markdown, tradeoff_lines

    if fmt != "table":
        click.echo({"csv": cost_csv, "json": to_json, "markdown": cost_markdown}[fmt](rows), nl=False)
        return
    table = Table(
        title=f"cost: {title}",
        title_justify="left",
        caption="fit s: per repeat, each pipeline's standalone fits summed over folds; predict: standalone, per "
        "utterance; front: no other pipeline has a higher pooled UAR for less fit time",
        caption_justify="left",
    )
    for col in COST_HEADERS:
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(*cost_cells(r))
    console.print(table)
    for line in tradeoff_lines(rows):
        console.print(line, highlight=False, markup=False)


@click.command()
@click.argument("run_id", metavar="RUN")
@click.argument("first", metavar="A")
@click.argument("second", metavar="B")
@workdir_option
def compare(run_id: str, first: str, second: str, workdir: Path | None) -> None:
    """Is pipeline A better than B? Paired-bootstrap UAR difference on their shared rows, with its CI.

    RUN is a run id prefix (at least 4 hex characters) or the run's exact name. A and B are each a
    leaderboard rank (1 = the best), an id prefix (at least 4 hex characters) or an exact label, as
    `emoframe results --run RUN` shows them in its #, id and pipeline columns: `compare RUN 1 2`.
    """
    from ..results.leaderboard import compare_pipelines
    from ..results.resolve import resolve_run

    store = _read_store(workdir)
    try:
        target = resolve_run(store, run_id)
        warn_lines(code_change_lines(store, target))
        d = compare_pipelines(store, target, first, second)
    finally:
        store.close()
    console.print(f"A = {d['a_ref']}\nB = {d['b_ref']}", highlight=False)
    console.print(styled((d["verdict"], OUTCOME_STYLE[d["outcome"]])))
    console.print(f"UAR {d['uar_a']:.3f} (A) vs {d['uar_b']:.3f} (B) on the same {d['n']} rows", highlight=False)


@click.command()
@click.option(
    "--run", "run_id", help="Run id (at least 4 of its hex characters) or exact name; default: the latest run."
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json", "markdown"]), default="table", show_default=True
)
@click.option(
    "--sort",
    type=click.Choice(["uar", "wa", "macro_f1", "gain", "gap", "fit", "name"]),
    default="uar",
    show_default=True,
)
@click.option("--ascending", is_flag=True, help="Sort ascending.")
@click.option("--fused", "only_fused", is_flag=True, help="Only fused pipelines.")
@click.option(
    "--cost",
    is_flag=True,
    help="The cost columns: fit seconds (wall, CPU), predict ms per utterance, state size, peak memory, best "
    "epoch, the accuracy/cost front, and the spread between repeats.",
)
@workdir_option
def results(
    run_id: str | None, fmt: str, sort: str, ascending: bool, only_fused: bool, cost: bool, workdir: Path | None
) -> None:
    """The leaderboard of a run (`--run`), or the list of runs."""
    from ..results.corpora import is_study
    from ..results.leaderboard import leaderboard, learned_lines, to_csv, to_json, to_markdown
    from ..results.resolve import resolve_run
    from ..results.tuning import tuning_lines

    store = _read_store(workdir)
    try:
        runs = store.runs()
        target = resolve_run(store, run_id)
        warn_lines(code_change_lines(store, target))
        if is_study(store, target):  # a run over several corpora: its corpora, the ranks, the matrix's cells
            from .corpora import print_study, study_export

            if fmt == "table":
                print_study(store, target)
            else:
                click.echo(study_export(store, target, fmt), nl=False)
            return
        rows = leaderboard(store, target, sort=sort, descending=not ascending)
        if only_fused:
            rows = [r for r in rows if r.fused]
        run = store.run(target)
        if cost:
            _print_cost(rows, fmt, f"{printable(run['name'])} — run {target[:12]}")
        elif fmt == "table":
            if run_id is None and len(runs) > 1:
                others = ", ".join(f"{r['id'][:12]} ({printable(r['name'])})" for r in runs[1:6])
                err_console.print(f"latest run shown; others: {others}", highlight=False)
            print_leaderboard(rows, title=f"{printable(run['name'])} — run {target[:12]}")
            print_verdicts(rows)
            for a in run.get("asr") or []:
                console.print(a["line"], highlight=False)
            for r in rows:
                for line in learned_lines(r):
                    console.print(f"{r.pipeline}: {line}", highlight=False)
            for r in rows:
                for line in tuning_lines(r):
                    console.print(f"{r.pipeline}: {line}", highlight=False, markup=False)
        else:
            click.echo({"csv": to_csv, "json": to_json, "markdown": to_markdown}[fmt](rows), nl=False)
    finally:
        store.close()


@click.command()
@click.argument("run_id", metavar="RUN", required=False)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder.")
@click.option("--force", is_flag=True, help="Replace an index.html in --out that emoframe did not write.")
@workdir_option
def report(run_id: str | None, out: Path, force: bool, workdir: Path | None) -> None:
    """Write a self-contained HTML report of a run (default: the latest) to OUT/index.html.

    A report emoframe wrote there is redrawn; any other index.html (or an edited report) is kept
    unless --force.
    """
    from ..results.report import check_report_target, write_report
    from ..results.resolve import resolve_run

    check_report_target(out, force)  # before reading anything
    store = _read_store(workdir)
    try:
        target = resolve_run(store, run_id)
        notes = code_change_lines(store, target)
        warn_lines(notes)
        path = write_report(store, target, out, force=force, notes=notes)
    finally:
        store.close()
    console.print(f"wrote {path}", highlight=False)
