"""Accuracy beside cost, as every face shows it: the cost columns of a run's rows, the pipelines on the
accuracy/cost front, and a head-to-head of two pipelines (the demo's CNN against its BiLSTM).

Rows come from :func:`emoframe.results.leaderboard.leaderboard` (cost from :mod:`emoframe.results.costs`);
nothing here computes a figure, it words them.
"""

from __future__ import annotations

import csv
import io

from .leaderboard import LeaderboardRow

#: the cost table's headers (terminal, markdown, report)
COST_HEADERS = (
    "#",
    "pipeline",
    "UAR pooled",
    "repeat sd",
    "fit s (wall)",
    "fit s (CPU)",
    "predict ms/utt",
    "state KB",
    "peak MB",
    "best epoch",
    "front",
)
#: the cost columns of the CSV export (``results --cost --format csv``)
COST_COLUMNS = (
    "rank",
    "id",
    "pipeline",
    "uar",
    "repeats",
    "uar_repeat_std",
    "fit_s",
    "fit_cpu_s",
    "predict_ms",
    "state_bytes",
    "peak_mb",
    "best_epoch",
    "epochs_run",
    "pareto",
)


def _num(value: float | None, fmt: str) -> str:
    return "" if value is None else format(value, fmt)


def repeat_text(row: LeaderboardRow) -> str:
    """'±0.021 (3 repeats)': the spread between repeats; '' for a run of one repeat."""
    if not row.repeats or row.repeats < 2 or row.uar_repeat_std is None:
        return ""
    return f"±{row.uar_repeat_std:.3f} ({row.repeats} repeats)"


def cost_cells(row: LeaderboardRow) -> list[str]:
    """One row's cells under COST_HEADERS ('' where a figure was not recorded)."""
    if not row.has_results:
        return [str(row.rank or ""), row.pipeline, row.status, "", "", "", "", "", "", "", ""]
    epoch = "" if row.best_epoch is None else f"{row.best_epoch:.1f} of {row.epochs_run:.1f}"
    return [
        str(row.rank or ""),
        row.pipeline,
        _num(row.uar, ".3f"),
        repeat_text(row),
        _num(row.fit_s, ".2f"),
        _num(row.fit_cpu_s, ".2f"),
        _num(row.predict_ms, ".3f"),
        _num(None if row.state_bytes is None else row.state_bytes / 1e3, ".1f"),
        _num(row.peak_mb, ".0f"),
        epoch,
        "yes" if row.pareto else "",
    ]


def cost_markdown(rows: list[LeaderboardRow]) -> str:
    lines = ["| " + " | ".join(COST_HEADERS) + " |", "|" + "---|" * len(COST_HEADERS)]
    for r in rows:
        lines.append("| " + " | ".join(c.replace("|", "\\|") or "—" for c in cost_cells(r)) + " |")
    return "\n".join(lines) + "\n"


def cost_csv(rows: list[LeaderboardRow]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(COST_COLUMNS), extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        record = r.to_record()
        writer.writerow({k: record.get(k) for k in COST_COLUMNS})
    return buf.getvalue()


def front_line(rows: list[LeaderboardRow]) -> str:
    """'on the accuracy/cost front (pooled UAR against fit seconds): A (0.71, 3.2 s), B (0.64, 0.4 s)'."""
    front = sorted((r for r in rows if r.pareto), key=lambda r: -(r.uar or 0))
    if not front:
        return "accuracy/cost front: no pipeline has both a UAR and a fit time yet"
    items = ", ".join(f"{r.pipeline} (UAR {r.uar:.3f}, fit {r.fit_s:.1f} s)" for r in front)
    return f"on the accuracy/cost front (no other pipeline is both more accurate and cheaper to fit): {items}"


def head_to_head(a: LeaderboardRow, b: LeaderboardRow) -> list[str]:
    """Two pipelines side by side: UAR (with the spread between repeats), fit seconds, the epoch kept."""
    out = []
    for r in (a, b):
        if not r.has_results:
            out.append(f"{r.pipeline}: {r.status}")
            continue
        spread = repeat_text(r) or "spread between repeats: not measured (evaluation.repeats: 1)"
        epoch = (
            f"best epoch {r.best_epoch:.1f} of {r.epochs_run:.1f} run (mean over folds)"
            if r.best_epoch is not None
            else "no training curve"
        )
        out.append(
            f"{r.pipeline}: UAR {r.uar:.3f} [{r.uar_ci_low:.3f}, {r.uar_ci_high:.3f}], {spread}; "
            f"fit {r.fit_s:.1f} s wall / {r.fit_cpu_s or 0:.1f} s CPU per repeat; {epoch}"
        )
    return out


def model_rows(rows: list[LeaderboardRow], first: str, second: str) -> tuple[LeaderboardRow, LeaderboardRow] | None:
    """The unimodal rows whose pipeline names model ``first`` and ``second`` (e.g. torch.cnn, torch.lstm): the
    pair the demo compares; None unless exactly one row names each."""
    found = []
    for name in (first, second):
        hits = [r for r in rows if not r.fused and name in r.pipeline]
        if len(hits) != 1:
            return None
        found.append(hits[0])
    return found[0], found[1]


def tradeoff_lines(rows: list[LeaderboardRow], pair: tuple[str, str] | None = ("torch.cnn", "torch.lstm")) -> list[str]:
    """The trade-off section: the front and, where the run has one of each, ``pair`` head to head."""
    lines = [front_line(rows)]
    if pair is not None:
        found = model_rows(rows, *pair)
        if found is not None:
            lines += head_to_head(*found)
    return lines
