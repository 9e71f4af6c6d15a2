"""The report's "Why: attribution" section: per fused pipeline, reliance bars, complementarity, a
disagreement table with examples and feature-group importance with intervals — the figures of
:func:`emoframe.results.explain.explain`, as ``emoframe explain`` prints them (docs/evaluation.md)."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import Any

from ..errors import EmoframeError
from .explain import Explanation, explain_row, figure_rows
from .leaderboard import LeaderboardRow, leaderboard
from .store import ResultsStore


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _plain(text: str) -> str:
    return str(text).replace("$", r"\$")


def reliance_figure(ex: Explanation) -> Any:
    """Horizontal bars: each modality's share of the attribution, ± its standard deviation over folds."""
    from matplotlib.figure import Figure

    keys = sorted(ex.reliance)
    fig = Figure(figsize=(5.5, 0.5 + 0.45 * len(keys)))
    ax = fig.subplots()
    shares = [ex.reliance[k]["share"] for k in keys]
    spreads = [ex.reliance[k]["share_std"] for k in keys]
    ax.barh([_plain(f"{k} ({ex.modalities.get(k, '')})") for k in keys], shares, xerr=spreads, color="#4c78a8")
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of mean |contribution| (± std over folds)")
    return fig


def importance_figure(ex: Explanation) -> Any | None:
    """Bars per feature group: the UAR drop when the group is shuffled on the test rows, ± std over folds."""
    from matplotlib.figure import Figure

    items = [
        (f"{b}: {g}", v["mean"], v["std"]) for b, groups in sorted(ex.importance.items()) for g, v in groups.items()
    ]
    if not items:
        return None
    items.sort(key=lambda t: t[1])
    fig = Figure(figsize=(5.5, 0.5 + 0.35 * len(items)))
    ax = fig.subplots()
    ax.barh([_plain(t[0]) for t in items], [t[1] for t in items], xerr=[t[2] for t in items], color="#f58518")
    ax.axvline(0, color="#333", lw=0.8)
    ax.set_xlabel("UAR drop when shuffled (± std over folds)")
    return fig


def _fmt(v: Any) -> str:
    return "n/a" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def pipeline_html(ex: Explanation) -> list[str]:
    """One pipeline's part of the section."""
    e = html.escape
    parts = [f"<h3>{e(ex.pipeline)}</h3>"]
    if ex.sentence:
        parts.append(f"<p>{e(ex.sentence)}</p>")
    if ex.method:
        parts.append(f"<p style='font-size:.8rem;color:#555'>method: {e(ex.method)}</p>")
    for note in ex.notes + ex.errors:
        parts.append(f"<p class='warn'>{e(note)}</p>")
    if ex.reliance:
        parts.append(f"<img alt='modality reliance of {e(ex.pipeline)}' src='{_png(reliance_figure(ex))}'>")
    fig = importance_figure(ex)
    if fig is not None:
        parts.append(f"<img alt='feature-group importance of {e(ex.pipeline)}' src='{_png(fig)}'>")
    rows = figure_rows(ex)
    if rows:
        parts.append(
            "<table><tr><th>section</th><th>branch</th><th>figure</th><th>value</th><th>± over folds</th></tr>"
        )
        for r in rows:
            parts.append(
                f"<tr><td>{e(r['section'])}</td><td>{e(r['branch'])}</td><td>{e(str(r['item']))}</td>"
                f"<td>{_fmt(r['value'])}</td><td>{_fmt(r['spread'])}</td></tr>"
            )
        parts.append("</table>")
    examples = ex.disagreements()
    if examples:
        keys = list(ex.modalities)
        parts.append(
            "<p>Where the branches disagree (examples, those with a right branch first):</p><table><tr>"
            "<th>fold</th><th>id</th><th>true</th>"
            + "".join(f"<th>{e(k)}</th>" for k in keys)
            + "<th>fused</th>"
            + "".join(f"<th>contribution {e(k)}</th>" for k in keys if ex.reliance)
            + "</tr>"
        )
        for u in examples:
            parts.append(
                f"<tr><td>{u['fold']}</td><td>{e(str(u['id']))}</td><td>{e(str(u['true']))}</td>"
                + "".join(f"<td>{e(str(u.get(f'{k}_pred', '')))}</td>" for k in keys)
                + f"<td>{e(str(u['predicted']))}</td>"
                + "".join(f"<td>{_fmt(u.get(f'contribution_{k}'))}</td>" for k in keys if ex.reliance)
                + "</tr>"
            )
        parts.append("</table>")
    return parts


def section(store: ResultsStore, run_id: str, rows: Sequence[LeaderboardRow] | None = None) -> list[str]:
    """The "Why: attribution" section of the report: one part per fused pipeline with results."""
    rows = list(rows) if rows is not None else leaderboard(store, run_id)
    fused = [r for r in rows if r.fused and r.uar is not None]
    if not fused:
        return []
    parts = [
        "<h2 id='why'>Why: attribution</h2>"
        "<p>Per fused pipeline, on the test folds only: each modality's share of the "
        "attribution (exact Shapley values; a missing branch stands at the training fold's class prior), how the "
        "branches complement each other, and which feature groups the decisions rest on. Attribution describes "
        "the fitted model, not the causes of emotion (docs/evaluation.md, “Why: attribution”).</p>"
    ]
    for r in fused:
        try:
            parts.extend(pipeline_html(explain_row(store, run_id, r)))
        except EmoframeError as exc:
            parts.append(f"<h3>{html.escape(r.pipeline)}</h3><p class='warn'>{html.escape(str(exc))}</p>")
    return parts
