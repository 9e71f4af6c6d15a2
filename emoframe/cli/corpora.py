"""Across corpora on the terminal: `emoframe rank`, and how `bench`/`results` show a run over several corpora.

Thin: the figures come from ``results.corpora`` and the statistics from ``evaluation.ranking``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from ..results.resolve import printable
from .common import console, err_console, print_leaderboard, styled, use_workdir, workdir_option


def _read_store(workdir: Path | None) -> Any:
    from ..errors import EmoframeError
    from ..results.store import ResultsStore

    wd = use_workdir(workdir)
    if not (wd / "results.db").exists():
        raise EmoframeError(f"no results in {wd}; run `emoframe bench SPEC` with several corpora first")
    return ResultsStore(wd / "results.db", readonly=True)


def print_study(store: Any, run_id: str) -> None:
    """Each corpus's leaderboard, the leaderboard across corpora with the ranks, and the matrix summary."""
    from ..results.corpora import across_corpora, corpus_leaderboards, matrix_cells, study

    found = study(store, run_id)
    assert found is not None
    info, _ = found
    for corpus, rows in corpus_leaderboards(store, run_id).items():
        print_leaderboard(rows, title=f"{printable(corpus)}")
    across = across_corpora(store, run_id)
    print_across(across)
    cells = [c for c in matrix_cells(store, run_id) if c.kind != "in_corpus"]
    if cells:
        table = Table(
            "pipeline",
            "trained on",
            "tested on",
            "UAR [95% CI]",
            "in-corpus",
            "drop pts",
            title=f"cross-corpus matrix on {', '.join(info.get('shared', []))} (every cell: --format json)",
            title_justify="left",
        )
        for c in cells:
            table.add_row(
                c.pipeline,
                c.train,
                c.test,
                f"{c.uar:.3f} [{c.uar_ci_low:.3f}, {c.uar_ci_high:.3f}]",
                f"{c.in_corpus:.3f}" if c.in_corpus is not None else "—",
                f"{c.drop_pts:+.1f}" if c.drop_pts is not None else "—",
            )
        console.print(table)
    for note in info.get("notes", []):
        err_console.print(styled(("note: ", "yellow"), note))


def print_across(across: Any) -> None:
    """The leaderboard across corpora and the rank test's verdict."""
    table = Table(
        "#",
        "pipeline",
        *across.corpora,
        "mean UAR",
        "avg rank",
        "tied with best",
        title="across corpora: pooled UAR per corpus, average rank over corpora",
        title_justify="left",
    )
    for r in across.rows:
        table.add_row(
            str(r.rank or ""),
            r.pipeline,
            *(f"{v:.3f}" if v is not None else "—" for v in r.uar.values()),
            f"{r.mean_uar:.3f}" if r.mean_uar is not None else "—",
            f"{r.average_rank:.2f}" if r.average_rank is not None else "—",
            "—" if r.tied_with_best is None else ("yes" if r.tied_with_best else "no"),
        )
    console.print(table)
    for p in across.problems:
        err_console.print(styled(("failed: ", "red"), p))
    if across.ranks is not None:
        console.print(across.ranks.verdict(), highlight=False, markup=False)


@click.command()
@click.argument("run_id", metavar="RUN", required=False)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option(
    "--diagram",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the critical-difference diagram to this PNG file (a new file).",
)
@workdir_option
def rank(run_id: str | None, fmt: str, diagram: Path | None, workdir: Path | None) -> None:
    """Average ranks of a multi-corpus run's pipelines over its corpora, the Friedman test and post-hoc
    tests (Holm against the best, Nemenyi for all pairs); with too few corpora, the ranks and why no test."""
    from ..errors import EmoframeError
    from ..results.corpora import across_corpora, rank_record
    from ..results.resolve import resolve_run

    if diagram is not None and diagram.exists():
        raise EmoframeError(f"{diagram} exists; emoframe writes the diagram to a new file only — name another")
    store = _read_store(workdir)
    try:
        target = resolve_run(store, run_id)
        across = across_corpora(store, target)
    finally:
        store.close()
    if across.ranks is None:
        problems = "; ".join(across.problems) or "none has run"
        raise EmoframeError(
            f"run {target[:12]}: no corpus has a score for every pipeline yet ({problems}) — run the benchmark "
            "(again) to fill them"
        )
    r = across.ranks
    if fmt == "json":
        click.echo(json.dumps(rank_record(r), indent=1))
    else:
        table = Table("pipeline", *r.blocks, "average rank", "p vs best (Holm)", "tied with best", title_justify="left",
                      title=f"ranks over {len(r.blocks)} corpora (1 = best)")  # fmt: skip
        vs = {v.pipeline: v for v in r.versus_best}
        order = sorted(range(len(r.pipelines)), key=lambda i: r.average_ranks[i])
        for i in order:
            p = r.pipelines[i]
            table.add_row(
                p,
                *(f"{x:g}" for x in r.ranks[i]),
                f"{r.average_ranks[i]:.2f}",
                f"{vs[p].p_holm:.3g}" if p in vs else ("best" if r.tested else "—"),
                "—" if not r.tested else ("yes" if p in r.tied_with_best else "no"),
            )
        console.print(table)
        if r.tested:
            console.print(
                f"Nemenyi critical difference: {r.critical_difference:.2f} average-rank units (α={r.alpha}); "
                "all-pairs p-values: --format json",
                highlight=False,
            )
        if r.left_out:
            err_console.print(f"left out (not every pipeline has a score there): {', '.join(r.left_out)}")
        console.print(r.verdict(), highlight=False, markup=False)
    if diagram is not None:
        from ..results.report_corpora import cd_diagram

        cd_diagram(r).savefig(diagram, dpi=110, bbox_inches="tight")
        err_console.print(f"wrote {diagram}", highlight=False)


def corpus_cards(spec_path: Path, workdir: Path | None) -> None:
    """`corpus info --spec SPEC`: every data source of a spec side by side."""
    from ..bench.study import load_sources
    from ..data.cards import card_rows
    from ..spec import load_spec
    from .common import load_registry

    registry = load_registry()
    spec = load_spec(spec_path, registry=registry)
    sources = load_sources(spec, registry, use_workdir(workdir), spec_path.parent)
    cards = [s.card for s in sources if s.card is not None]
    if cards:
        headers, rows = card_rows(cards)
        table = Table(*headers, title=f"{spec_path.name}: {len(cards)} corpora", title_justify="left")
        for row in rows:
            table.add_row(*row)
        console.print(table)
    for s in sources:
        if s.error:
            err_console.print(styled(("error: ", "red"), f"{s.name} {s.error}"))
        if s.manifest is not None:
            for w in s.manifest.warnings:
                err_console.print(styled(("warning: ", "yellow"), w))
    if any(s.error for s in sources):
        raise SystemExit(1)


def study_export(store: Any, run_id: str, fmt: str) -> str:
    """`results RUN --format json|csv|markdown` of a run over several corpora. JSON: every corpus's rows,
    the leaderboard across corpora with the rank test, and every matrix cell with its CI; CSV: one row per
    pipeline and corpus (and per matrix cell, marked by ``kind``)."""
    import csv
    import io

    from ..results.corpora import across_corpora, corpus_leaderboards, matrix_cells
    from ..results.leaderboard import COLUMNS, to_markdown

    boards = corpus_leaderboards(store, run_id)
    cells = matrix_cells(store, run_id)
    if fmt == "json":
        return json.dumps(
            {
                "corpora": {c: [r.to_record() for r in rows] for c, rows in boards.items()},
                "across": across_corpora(store, run_id).to_record(),
                "matrix": [c.to_record() for c in cells],
            },
            indent=1,
        )
    if fmt == "markdown":
        return "".join(f"## {c}\n\n{to_markdown(rows)}\n" for c, rows in boards.items())
    buf = io.StringIO()
    fields = ["kind", "corpus", *COLUMNS, "train", "test", "in_corpus", "drop_pts"]
    writer = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for corpus, rows in boards.items():
        for r in rows:
            writer.writerow({"kind": "corpus", **r.to_record(), "corpus": corpus})
    for cell in cells:
        record = cell.to_record()
        writer.writerow({**record, "corpus": cell.test, "kind": cell.kind, "n": cell.n})
    return buf.getvalue()
