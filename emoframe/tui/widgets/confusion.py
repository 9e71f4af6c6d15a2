"""A confusion matrix as a heat map (cell background by row-normalised share)."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from ...display import OUTCOME_STYLE
from ...results.leaderboard import LeaderboardRow, coverage_text, outcome


def confusion_table(matrix: list[list[int]], classes: list[str], title: str = "") -> Table:
    table = Table("true \\ predicted", *classes, title=title, title_justify="left")
    for label, row in zip(classes, matrix):
        total = max(1, sum(row))
        cells: list[Any] = [label]
        for v in row:
            share = v / total
            shade = int(40 + 180 * share)
            style = f"{'black' if share > 0.55 else 'white'} on rgb({20},{min(255, shade // 2 + 20)},{shade})"
            cells.append(Text(f"{v:>4}", style=style))
        table.add_row(*cells)
    return table


def detail(row: LeaderboardRow, classes: list[str]) -> Any:
    """Confusion heat map, per-class recall, fusion gain with CI and generalisation gap of one pipeline."""
    from rich.console import Group
    from rich.markup import escape

    if row.uar is None:
        return Group(f"[b]{escape(row.pipeline)}[/b]", f"status: {row.status}", *[Text(e) for e in row.errors])
    parts: list[Any] = [
        f"[b]{escape(row.pipeline)}[/b]",
        f"UAR {row.uar:.3f} pooled over n = {coverage_text(row)} (95% CI {row.uar_ci_low:.3f}–"
        f"{row.uar_ci_high:.3f}) · fold mean {row.uar_fold_mean:.3f} ± {row.uar_fold_std:.3f} · "
        f"gap {row.gap:+.3f}",
    ]
    if row.verdict:
        colour = OUTCOME_STYLE[outcome(row)]
        parts.append(f"[{colour}]{escape(row.verdict)}[/{colour}]")
    parts.append(confusion_table(row.confusion or [], classes, "confusion matrix"))
    recall = Table("class", "recall", title="per-class recall", title_justify="left")
    for c, v in (row.recall or {}).items():
        recall.add_row(c, "—" if v is None else f"{v:.3f}")
    parts.append(recall)
    return Group(*parts)
