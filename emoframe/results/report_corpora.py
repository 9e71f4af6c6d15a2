"""The report's section for a run over several corpora, and its figures.

``section(store, run_id)`` gives the HTML (nothing for a one-corpus run): the corpora side by side (data
cards), the leaderboard across corpora with average ranks, the rank test's verdict with the
critical-difference diagram, each corpus's leaderboard, and the cross-corpus matrix as one heatmap per
pipeline (in-corpus score on the diagonal, the drop off it in each cell). Each figure is a public function
returning a matplotlib Figure.
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import numpy as np

from ..data.cards import CorpusCard, card_rows
from ..evaluation.ranking import RankTest
from .corpora import Cell, across_corpora, corpus_leaderboards, matrix_cells, study
from .store import ResultsStore


def _figure(figsize: tuple[float, float]) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots()


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _plain(text: str) -> str:
    return str(text).replace("$", r"\$")


def cd_diagram(ranks: RankTest) -> Any:
    """The critical-difference diagram (Demšar 2006): average ranks on an axis (1 = best, left) and a bar
    joining the pipelines whose ranks differ by less than Nemenyi's critical difference; without a test,
    the ranks alone, titled with why."""
    k = len(ranks.pipelines)
    order = np.argsort(ranks.average_ranks)
    fig, ax = _figure((8, 1.2 + 0.35 * k))
    ax.set_xlim(0.8, k + 0.2)
    ax.set_ylim(-(k + 1), 1.5)
    ax.axhline(0, color="#333", lw=1)
    for r in range(1, k + 1):
        ax.plot([r, r], [0, 0.15], color="#333", lw=1)
        ax.text(r, 0.3, str(r), ha="center", fontsize=8)
    for i, j in enumerate(order):
        x = ranks.average_ranks[j]
        y = -(i + 1) * 0.8
        ax.plot([x, x, 0.85 if i < k / 2 else k + 0.15], [0, y, y], color="#2a6fb0", lw=1)
        ax.text(
            0.87 if i < k / 2 else k + 0.13,
            y + 0.08,
            f"{_plain(ranks.pipelines[j])[:60]} ({x:.2f})",
            ha="left" if i < k / 2 else "right",
            fontsize=7,
        )
    cd = ranks.critical_difference
    if cd is not None:
        ax.plot([1, 1 + cd], [1.1, 1.1], color="#b03a2e", lw=2)
        ax.text(1 + cd / 2, 1.2, f"CD = {cd:.2f}", ha="center", fontsize=8, color="#b03a2e")
        sorted_ranks = [ranks.average_ranks[j] for j in order]
        groups: list[tuple[int, int]] = []
        for a in range(k):  # maximal runs of pipelines within one CD of each other
            b = a
            while b + 1 < k and sorted_ranks[b + 1] - sorted_ranks[a] < cd:
                b += 1
            if b > a and not any(ga <= a and b <= gb for ga, gb in groups):
                groups.append((a, b))
        for n, (a, b) in enumerate(groups):
            y = -0.25 - 0.12 * n
            ax.plot([sorted_ranks[a] - 0.03, sorted_ranks[b] + 0.03], [y, y], color="#111", lw=3)
        title = (
            f"average ranks over {len(ranks.blocks)} corpora; bars join pipelines not shown different "
            f"(Nemenyi, α={ranks.alpha})"
        )
    else:
        title = f"average ranks over {len(ranks.blocks)} corpora (no test claimed)"
    ax.set_title(_plain(title), fontsize=9)
    ax.axis("off")
    return fig


def matrix_heatmap(cells: list[Cell], pipeline: str) -> Any:
    """One pipeline's matrix: rows the training set, columns the test corpus; each cell its UAR, the
    diagonal the in-corpus score, the others their difference from the test corpus's in-corpus score
    (−: a drop)."""
    mine = [c for c in cells if c.pipeline == pipeline]
    trains = list(dict.fromkeys(c.train for c in mine if c.kind != "leave_one_out")) + list(
        dict.fromkeys(c.train for c in mine if c.kind == "leave_one_out")
    )
    tests = list(dict.fromkeys(c.test for c in mine if c.kind == "in_corpus")) or list(
        dict.fromkeys(c.test for c in mine)
    )
    grid = np.full((len(trains), len(tests)), np.nan)
    text = [["" for _ in tests] for _ in trains]
    for c in mine:
        if c.train in trains and c.test in tests:
            i, j = trains.index(c.train), tests.index(c.test)
            grid[i, j] = c.uar
            drop = "" if c.kind == "in_corpus" or c.drop_pts is None else f"\n−{c.drop_pts:.1f} pts"
            if c.drop_pts is not None and c.drop_pts < 0 and c.kind != "in_corpus":
                drop = f"\n+{-c.drop_pts:.1f} pts"
            text[i][j] = f"{c.uar:.3f}{drop}"
    fig, ax = _figure((1.6 + 1.3 * len(tests), 1.0 + 0.8 * len(trains)))
    im = ax.imshow(grid, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for i in range(len(trains)):
        for j in range(len(tests)):
            if text[i][j]:
                ax.text(j, i, text[i][j], ha="center", va="center", fontsize=7, color="white")
    ax.set_xticks(range(len(tests)), [_plain(t) for t in tests], fontsize=8)
    ax.set_yticks(range(len(trains)), [_plain(t) for t in trains], fontsize=8)
    ax.set_xlabel("tested on")
    ax.set_ylabel("trained on")
    ax.set_title(_plain(pipeline)[:70], fontsize=8)
    fig.colorbar(im, ax=ax, label="UAR")
    return fig


def section(store: ResultsStore, run_id: str) -> list[str]:
    """The HTML of a run over several corpora (empty for any other run)."""
    found = study(store, run_id)
    if found is None:
        return []
    info, _ = found
    e = html.escape
    parts = [f"<h2 id='corpora'>Across corpora</h2><p>Shared labels: {e(', '.join(info.get('shared', [])))}.</p>"]
    cards = [CorpusCard(**{**c, "sample_rates": {int(k): v for k, v in c["sample_rates"].items()}})
             for c in info.get("cards", {}).values()]  # fmt: skip
    if cards:
        headers, rows = card_rows(cards)
        parts.append("<h3>The corpora</h3><table><tr>" + "".join(f"<th>{e(h)}</th>" for h in headers) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows]
        parts.append("</table>")
    across = across_corpora(store, run_id)
    for p in across.problems:
        parts.append(f"<p class='warn'>{e(p)}</p>")
    parts.append(
        "<h3>Leaderboard across corpora</h3><p>Pooled UAR on each corpus (its own protocol), their mean, and "
        "the average rank over the corpora (1 = best on every corpus).</p><table><tr><th>#</th><th>pipeline</th>"
        + "".join(f"<th>{e(c)}</th>" for c in across.corpora)
        + "<th>mean UAR</th><th>average rank</th><th>tied with the best</th></tr>"
    )
    for r in across.rows:
        tied = "—" if r.tied_with_best is None else ("yes" if r.tied_with_best else "no")
        cells = "".join(f"<td>{v:.3f}</td>" if v is not None else "<td>—</td>" for v in r.uar.values())
        mean = f"{r.mean_uar:.3f}" if r.mean_uar is not None else "—"
        rank = f"{r.average_rank:.2f}" if r.average_rank is not None else "—"
        parts.append(
            f"<tr><td>{r.rank or ''}</td><td>{e(r.pipeline)}</td>{cells}<td>{mean}</td><td>{rank}</td>"
            f"<td>{tied}</td></tr>"
        )
    parts.append("</table>")
    if across.ranks is not None:
        parts.append(f"<p><b>{e(across.ranks.verdict())}</b></p>")
        parts.append(f"<img alt='critical-difference diagram' src='{_png(cd_diagram(across.ranks))}'>")
    for corpus, board in corpus_leaderboards(store, run_id).items():
        parts.append(f"<h3>{e(corpus)}</h3><table><tr><th>#</th><th>pipeline</th><th>UAR [95% CI]</th><th>n</th>"
                     "<th>folds</th><th>status</th></tr>")  # fmt: skip
        for b in board:
            figure = f"{b.uar:.3f} [{b.uar_ci_low:.3f}, {b.uar_ci_high:.3f}]" if b.uar is not None else "—"
            parts.append(
                f"<tr><td>{b.rank or ''}</td><td>{e(b.pipeline)}</td><td>{figure}</td><td>{b.n or ''}</td>"
                f"<td>{e(b.folds)}</td><td>{e(b.status)}</td></tr>"
            )
        parts.append("</table>")
    matrix = matrix_cells(store, run_id)
    if matrix:
        parts.append(
            "<h3>Cross-corpus matrix</h3><p>Rows: the corpus trained on (and with leave-one-out, all but one); "
            "columns: the corpus tested on, on the labels every corpus shares. The diagonal is the test "
            "corpus's in-corpus score; each other cell shows its UAR and its difference from that score in UAR "
            "points (−: a drop). "
            "Every cell with its CI is in `emoframe results RUN --format json`.</p><div class='grid'>"
        )
        for pipeline in dict.fromkeys(c.pipeline for c in matrix):
            png = _png(matrix_heatmap(matrix, pipeline))
            parts.append(f"<img alt='cross-corpus matrix: {e(pipeline)}' src='{png}'>")
        parts.append("</div>")
    return parts


def state(store: ResultsStore, run_id: str) -> str | None:
    """What the section is drawn from, as text for the report's key (None for a one-corpus run): the figures
    of every corpus and cell, and this module's code."""
    import hashlib
    import json
    from pathlib import Path

    if study(store, run_id) is None:
        return None
    record = {
        "across": across_corpora(store, run_id).to_record(),
        "cells": [c.to_record() for c in matrix_cells(store, run_id)],
        "code": hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
    }
    return json.dumps(record, sort_keys=True, default=str)
