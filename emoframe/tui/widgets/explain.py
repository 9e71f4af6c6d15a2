"""One pipeline's "why" (results.explain) as a rich renderable: the same figure rows as `emoframe explain`."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from ...results.explain import Explanation, figure_rows


def _value(v: Any) -> str:
    return "n/a" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def explanation_view(ex: Explanation) -> Any:
    """Sentence, notes and the figures table (section, branch, figure, value, ± over folds)."""
    from rich.console import Group

    parts: list[Any] = [Text(f"why: {ex.pipeline} ({ex.kind})", style="bold")]
    if ex.sentence:
        parts.append(Text(ex.sentence))
    for note in ex.notes + ex.errors:
        parts.append(Text(note, style="yellow"))
    rows = figure_rows(ex)
    if rows:
        table = Table("section", "branch", "figure", "value", "±", title_justify="left")
        for r in rows:
            table.add_row(r["section"], r["branch"], Text(str(r["item"])), _value(r["value"]), _value(r["spread"]))
        parts.append(table)
    return Group(*parts)
