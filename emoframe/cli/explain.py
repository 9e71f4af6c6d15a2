"""`emoframe explain RUN PIPELINE`: why a pipeline decided as it did (results.explain)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click
from rich.table import Table

from ..results.resolve import printable
from .common import code_change_lines, console, use_workdir, warn_lines, workdir_option


def _value(v: object) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


@click.command()
@click.argument("run_ref", metavar="RUN")
@click.argument("pipeline_ref", metavar="PIPELINE")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@workdir_option
def explain(run_ref: str, pipeline_ref: str, fmt: str, workdir: Path | None) -> None:
    """Why PIPELINE of RUN decided as it did: modality reliance, complementarity, feature importance.

    Figures on the test folds only (docs/evaluation.md, "Why: attribution"). RUN and PIPELINE as for
    `emoframe compare`: a run id prefix or name; a leaderboard rank, pipeline id prefix or exact label.
    --format json adds every utterance's contributions.
    """
    from ..errors import EmoframeError
    from ..results.explain import FIGURE_FIELDS, figure_rows
    from ..results.explain import explain as explain_pipeline
    from ..results.resolve import resolve_run
    from ..results.store import ResultsStore

    wd = use_workdir(workdir)
    if not (wd / "results.db").exists():
        raise EmoframeError(f"no results in {wd}; run `emoframe bench SPEC` or `emoframe demo` first")
    store = ResultsStore(wd / "results.db", readonly=True)
    try:
        target = resolve_run(store, run_ref)
        warn_lines(code_change_lines(store, target))
        ex = explain_pipeline(store, target, pipeline_ref)
    finally:
        store.close()
    rows = figure_rows(ex)
    if fmt == "json":
        click.echo(json.dumps({**ex.to_record(), "figures": rows}, indent=1))
        return
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=FIGURE_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
        click.echo(buf.getvalue(), nl=False)
        return
    console.print(f"{printable(ex.pipeline)} — run {ex.run_id[:12]} ({ex.kind})", highlight=False, style="bold")
    if ex.method:
        console.print(f"method: {ex.method}", highlight=False)
    for note in ex.notes + ex.errors:
        console.print(f"note: {printable(note)}", style="yellow", highlight=False)
    if rows:
        table = Table("section", "branch", "figure", "value", "± over folds", title_justify="left")
        for r in rows:
            table.add_row(r["section"], r["branch"], printable(str(r["item"])), _value(r["value"]), _value(r["spread"]))
        console.print(table)
    if ex.sentence:
        console.print(printable(ex.sentence), highlight=False)
    examples = ex.disagreements(5)
    if examples and ex.modalities:
        table = Table("fold", "id", "true", *[f"{k}" for k in ex.modalities], "fused", title="disagreements (examples)")
        for u in examples:
            table.add_row(
                str(u["fold"]),
                printable(u["id"]),
                printable(str(u["true"])),
                *[printable(str(u.get(f"{k}_pred", ""))) for k in ex.modalities],
                printable(str(u["predicted"])),
            )
        console.print(table)
