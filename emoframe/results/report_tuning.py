"""The report's nested-tuning section: default vs tuned UAR per tuned pipeline (each with its CI), the
paired verdict, the parameters chosen in each outer fold and the sensitivity of each search."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import numpy as np

from .leaderboard import LeaderboardRow
from .tuning import params_text, tuning_lines


def default_vs_tuned_figure(rows: list[LeaderboardRow], label: Callable[[str], str] = str) -> Any:
    """A matplotlib Figure: per tuned pipeline, default (grey) and tuned (blue) pooled UAR with 95% CIs;
    None when no tuned pipeline has both. ``label``: how a pipeline's name is written on the axis."""
    from matplotlib.figure import Figure

    rows = [r for r in rows if r.tuned and r.uar is not None and r.default_uar is not None][::-1]
    if not rows:
        return None
    fig = Figure(figsize=(9, 0.5 * len(rows) + 1.3))
    ax = fig.subplots()
    y = np.arange(len(rows))
    for offset, colour, name, value, low, high in (
        (-0.12, "#9aa5b1", "default", "default_uar", "default_uar_ci_low", "default_uar_ci_high"),
        (0.12, "#4a78c2", "tuned", "uar", "uar_ci_low", "uar_ci_high"),
    ):
        v = np.array([getattr(r, value) for r in rows])
        err = [v - np.array([getattr(r, low) for r in rows]), np.array([getattr(r, high) for r in rows]) - v]
        ax.errorbar(v, y + offset, xerr=err, fmt="o", color=colour, capsize=3, label=name)
    ax.set_yticks(y, [label(r.pipeline) for r in rows], fontsize=7)
    ax.set_xlabel("UAR (pooled) with bootstrap 95% CI: default parameters vs nested tuning, same folds")
    ax.set_xlim(0, 1)
    ax.legend(loc="lower right", fontsize=7)
    return fig


def section(rows: list[LeaderboardRow], png: Callable[[Any], str], label: Callable[[str], str] = str) -> list[str]:
    """The HTML of the section ([] when no pipeline of the run was tuned); ``png`` embeds a figure, ``label``
    writes a pipeline's name on a chart (the report's own)."""
    tuned = [r for r in rows if r.tuned]
    if not tuned:
        return []
    e = html.escape
    parts = ["<h2 id='tuning'>Nested tuning</h2>"]
    fig = default_vs_tuned_figure(rows, label)
    if fig is not None:
        parts.append(f"<img alt='default vs tuned UAR with 95% CI' src='{png(fig)}'>")
    parts.append("<ul>")
    for r in tuned:
        parts.append(f"<li><b>{e(r.pipeline)}</b><ul>" + "".join(f"<li>{e(x)}</li>" for x in tuning_lines(r)))
        parts.append("</ul></li>")
    parts.append("</ul>")
    for r in tuned:
        parts.append(f"<table><caption>{e(r.pipeline)}: parameters chosen per outer fold</caption>")
        parts.append("<tr><th>fold</th><th>chosen</th></tr>")
        for c in r.tuning_chosen:
            parts.append(f"<tr><td>{c['fold']}</td><td>{e(params_text(c['params']))}</td></tr>")
        parts.append("</table>")
    return parts
