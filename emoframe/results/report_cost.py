"""The report's cost section: accuracy against cost with the Pareto front marked, and the training curves
of models trained by epochs (train loss and validation UAR per epoch, one line per fold).

One public function per figure (each returns a matplotlib Figure, drawn without pyplot) and
:func:`section`, the HTML the report adds.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from . import costs
from .leaderboard import LeaderboardRow
from .store import ResultsStore
from .tradeoff import COST_HEADERS, cost_cells, front_line

Curves = dict[str, dict[str, list[dict[str, Any]]]]  # pipeline label → model → one curve per (repeat, fold)


def _label(text: str, width: int = 38) -> str:
    text = str(text).replace("$", r"\$")  # '$' would start matplotlib's mathtext
    return text if len(text) <= width else text[: width // 2 - 1] + "…" + text[-(width // 2) :]


def cost_figure(rows: list[LeaderboardRow]) -> Any:
    """Pooled UAR against fit seconds per repeat (log scale) and against prediction ms per utterance; the
    pipelines on the accuracy/cost front (fit seconds) are filled and joined, the others hollow."""
    from matplotlib.figure import Figure

    shown = [r for r in rows if r.uar is not None and r.fit_s is not None]
    fig = Figure(figsize=(10, 4.2))
    axes = fig.subplots(1, 2, sharey=True)
    for ax, key, xlabel in (
        (axes[0], "fit_s", "fit seconds per repeat (wall, log scale)"),
        (axes[1], "predict_ms", "prediction ms per utterance (log scale)"),
    ):
        points = [(getattr(r, key), r.uar, r) for r in shown if getattr(r, key) is not None]
        for x, y, r in points:
            on = bool(r.pareto)
            ax.scatter(
                [max(x, 1e-4)], [y], s=40, marker="o", facecolors="#4a78c2" if on else "none", edgecolors="#4a78c2"
            )
            ax.annotate(_label(r.pipeline), (max(x, 1e-4), y), fontsize=6, xytext=(3, 3), textcoords="offset points")
        if key == "fit_s":
            front = sorted((x, y) for x, y, r in points if r.pareto)
            if front:
                ax.plot([max(x, 1e-4) for x, _ in front], [y for _, y in front], color="#4a78c2", lw=1)
        if points:
            ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("UAR (pooled)")
    fig.suptitle("accuracy against cost: filled = on the front (no pipeline is both more accurate and faster to fit)")
    return fig


def curves_figure(curves: Curves) -> Any:
    """Per model trained by epochs: its training loss and validation UAR per epoch, one line per fold (and
    repeat), the kept (best) epoch marked with a dot."""
    from matplotlib.figure import Figure

    panels = [(p, m, cs) for p, models in curves.items() for m, cs in models.items() if cs]
    fig = Figure(figsize=(10, 2.6 * max(1, len(panels))))
    axes = fig.subplots(max(1, len(panels)), 2, squeeze=False)
    for (pipeline, model, cs), (loss_ax, val_ax) in zip(panels, axes):
        for c in cs:
            tag = f"fold {c['fold']}" + (f" r{c['repeat'] + 1}" if c["repeat"] else "")
            loss_ax.plot(c["epoch"], c["train_loss"], lw=1, label=tag)
            (line,) = val_ax.plot(c["epoch"], c["val_uar"], lw=1, label=tag)
            if c["best_epoch"] in c["epoch"]:
                i = c["epoch"].index(c["best_epoch"])
                val_ax.scatter([c["best_epoch"]], [c["val_uar"][i]], s=18, color=line.get_color(), zorder=3)
        loss_ax.set_title(_label(f"{pipeline} · {model}", 70), fontsize=8, loc="left")
        loss_ax.set_ylabel("train loss")
        val_ax.set_ylabel("validation UAR")
        for ax in (loss_ax, val_ax):
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3)
        val_ax.legend(fontsize=6, ncol=2)
    return fig


def run_curves(store: ResultsStore, run_id: str, rows: list[LeaderboardRow]) -> Curves:
    """The stored training curves of every pipeline of the run that has any (pipeline label → model → curves)."""
    out: Curves = {}
    for r in rows:
        found = costs.curves(store, run_id, r.id)
        if found:
            out[r.pipeline] = found
    return out


def section(store: ResultsStore, run_id: str, rows: list[LeaderboardRow], png: Callable[[Any], str]) -> list[str]:
    """The report's HTML for cost: the cost table, the front, the accuracy/cost figure and the training curves
    (``png``: how the report embeds a figure)."""
    e = html.escape
    if not any(r.fit_s is not None for r in rows):
        return []
    parts = [
        "<h2 id='cost'>Cost beside accuracy</h2>"
        "<p>Fit seconds per repeat (each pipeline's standalone fits summed over its "
        "folds, wall and CPU), prediction per utterance, the fitted state's size, the worker's peak memory and, for "
        "models trained by epochs, the epoch early stopping kept (mean over folds).</p>",
        "<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in COST_HEADERS) + "</tr>",
    ]
    for r in rows:
        parts.append("<tr>" + "".join(f"<td>{e(c) or '—'}</td>" for c in cost_cells(r)) + "</tr>")
    parts.append("</table>")
    parts.append(f"<p>{e(front_line(rows))}</p>")
    parts.append(f"<img alt='UAR against fit seconds and prediction time' src='{png(cost_figure(rows))}'>")
    curves = run_curves(store, run_id, rows)
    if curves:
        parts.append(
            "<h2 id='curves'>Training curves</h2>"
            "<p>Train loss and validation UAR (on held-out training speakers) per epoch, one "
            "line per fold; the dot is the epoch kept.</p>"
            f"<img alt='training curves per fold' src='{png(curves_figure(curves))}'>"
        )
    return parts
