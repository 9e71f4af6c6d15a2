"""The figures of a run, one public function each, returning a matplotlib ``Figure``.

The HTML report embeds them (as PNG) and ``Run.plot.<figure>()`` hands them to a notebook: one drawing
per figure, so the two cannot drift. Each takes leaderboard rows (``results.leaderboard.leaderboard``) and
raises ``ValueError`` saying what is missing when the run has no data for it (a robustness curve without a
sweep, a fusion-gain chart without a fused pipeline). No pyplot: no global backend or figure registry is
touched, so drawing in a worker thread or a server is safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..display import OUTCOME_COLOUR
from .leaderboard import LeaderboardRow, outcome

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: the figures of a run by name: what ``Run.plot`` offers and the report draws
FIGURES = ("uar", "fusion_gain", "confusion", "robustness")


def short(label: str, width: int = 72) -> str:
    """Cut long labels in the middle: the branches' start and the fusion at the end both stay readable."""
    if len(label) <= width:
        return label
    keep = (width - 1) // 2
    return label[:keep] + "…" + label[-(width - 1 - keep) :]


def plain(text: str) -> str:
    """User text for a chart, shown as written: '$' would start matplotlib's mathtext."""
    return str(text).replace("$", r"\$")


def new_figure(figsize: tuple[float, float]) -> tuple[Figure, Any]:
    """A figure and its axes, without pyplot."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots()


def uar(rows: Sequence[LeaderboardRow]) -> Figure:
    """Pooled UAR per pipeline with its bootstrap 95% CI; fused pipelines in blue."""
    shown = [r for r in rows if r.uar is not None][::-1]
    if not shown:
        raise ValueError("no UAR to plot: no pipeline of this run has fold results yet")
    fig, ax = new_figure((9, 0.35 * len(shown) + 1.2))
    y = np.arange(len(shown))
    pooled = np.array([r.uar for r in shown])
    lo = pooled - np.array([r.uar_ci_low for r in shown])
    hi = np.array([r.uar_ci_high for r in shown]) - pooled
    colors = ["#4a78c2" if r.fused else "#9aa5b1" for r in shown]
    ax.barh(y, pooled, xerr=[lo, hi], color=colors, capsize=3)
    ax.set_yticks(y, [plain(short(r.pipeline)) for r in shown], fontsize=7)
    ax.set_xlabel("UAR (pooled) with bootstrap 95% CI; blue = fused")
    ax.set_xlim(0, 1)
    return fig


def fusion_gain(rows: Sequence[LeaderboardRow]) -> Figure:
    """Each fused pipeline's gain over its best own unimodal branch (points), paired-bootstrap 95% CI."""
    shown = [r for r in rows if r.gain_pts is not None][::-1]
    if not shown:
        raise ValueError("no fusion gain to plot: this run has no fused pipeline with results")
    fig, ax = new_figure((9, 0.4 * len(shown) + 1.2))
    y = np.arange(len(shown))
    g = np.array([r.gain_pts for r in shown])
    lo = g - np.array([r.gain_ci_low_pts for r in shown])
    hi = np.array([r.gain_ci_high_pts for r in shown]) - g
    colors = [OUTCOME_COLOUR[outcome(r)] for r in shown]
    ax.errorbar(g, y, xerr=[lo, hi], fmt="none", ecolor="#555", capsize=3)
    ax.scatter(g, y, c=colors, zorder=3)
    ax.axvline(0, color="#333", lw=1)
    ax.set_yticks(y, [plain(short(r.pipeline)) for r in shown], fontsize=7)
    ax.set_xlabel("fusion gain: fused UAR − best own unimodal branch (points), paired bootstrap 95% CI")
    return fig


def confusion(row: LeaderboardRow, classes: Sequence[str]) -> Figure:
    """One pipeline's confusion matrix (counts, shaded by the share of each true class)."""
    if row.confusion is None:
        raise ValueError(f"no confusion matrix to plot: {row.pipeline} has no fold results")
    cm = np.asarray(row.confusion, dtype=float)
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig, ax = new_figure((3.2, 2.9))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), [plain(c) for c in classes], rotation=45, fontsize=7)
    ax.set_yticks(range(len(classes)), [plain(c) for c in classes], fontsize=7)
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(
                j,
                i,
                int(cm[i, j]),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if norm[i, j] > 0.6 else "black",
            )
    ax.set_xlabel("predicted", fontsize=7)
    ax.set_ylabel("true", fontsize=7)
    return fig


def condition(name: str) -> tuple[str, float]:
    """'white@10dB' → ('white', 10.0): a robustness condition's kind and level."""
    kind, level = name.split("@")
    return kind, float(level.replace("dB", ""))


def robustness(rows: Sequence[LeaderboardRow], modality: str = "audio") -> Figure:
    """UAR under test-time perturbation per level: noise (SNR) for ``audio``, word corruption for ``text``."""
    if modality not in ("audio", "text"):
        raise ValueError(f"modality must be 'audio' or 'text', not {modality!r}")
    kinds = ("white", "babble") if modality == "audio" else ("dropout", "substitution")
    series = []
    for r in rows:
        for kind in kinds:
            pts = sorted(
                (condition(n)[1], v["uar"]) for n, v in (r.robustness or {}).items() if condition(n)[0] == kind
            )
            if pts:
                series.append((r, kind, pts))
    if not series:
        raise ValueError(
            f"no robustness data to plot for {modality}: this run has no {modality} perturbation sweep "
            "(evaluation.robustness in the spec)"
        )
    fig, ax = new_figure((9, 4))
    for r, kind, pts in series:
        xs, ys = zip(*pts)
        style = "-" if kind in ("white", "dropout") else "--"
        ax.plot(xs, ys, style, marker="o", label=plain(f"{short(r.pipeline, 50)} · {kind}"))
    if modality == "audio":
        ax.set_xlabel("SNR (dB): lower is noisier")
        ax.invert_xaxis()
    else:
        ax.set_xlabel("share of transcript words corrupted")
    ax.set_ylabel("UAR under perturbation")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=6, loc="lower left")
    return fig
