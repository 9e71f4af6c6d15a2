"""A self-contained HTML report of a run: leaderboard, UAR with CIs, fusion gains, confusion matrices.

A report's first line says it is emoframe's and carries the sha256 of the rest of the file, so a
folder's ``index.html`` is redrawn only when emoframe wrote it and nobody edited it since; a user's
own page there (or an edited report) is replaced only with ``force`` (``report --force``).
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..display import OUTCOME_COLOUR
from ..errors import EmoframeError
from ..evaluation.failures import group_failures
from . import report_explain
from .leaderboard import GAIN_CELL, HEADERS, LeaderboardRow, leaderboard, learned_lines, outcome, table_cells
from .store import ResultsStore

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;color:#222}
h1{font-size:1.5rem} h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85rem;width:100%}
th,td{padding:.3rem .5rem;border-bottom:1px solid #eee;text-align:right}
th:first-child,td:first-child{text-align:left} .helped{color:#1a7f37} .hurt{color:#c62828} .none{color:#8a6d00}
.warn{background:#fff8e1;padding:.5rem;border-left:3px solid #f0b400;font-size:.85rem}
.grid{display:flex;flex-wrap:wrap;gap:1rem} figure{margin:0} figcaption{font-size:.75rem;max-width:320px}
"""


def short(label: str, width: int = 72) -> str:
    """Cut long labels in the middle: the branches' start and the fusion at the end both stay readable."""
    if len(label) <= width:
        return label
    keep = (width - 1) // 2
    return label[:keep] + "…" + label[-(width - 1 - keep) :]


def _figure(figsize: tuple[float, float]) -> tuple[Any, Any]:
    """A figure and its axes, without pyplot: no global backend or figure registry is touched."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots()


def plain(text: str) -> str:
    """User text for a chart, shown as written: '$' would start matplotlib's mathtext."""
    return str(text).replace("$", r"\$")


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _uar_chart(rows: list[LeaderboardRow]) -> str:
    rows = [r for r in rows if r.uar is not None][::-1]
    fig, ax = _figure((9, 0.35 * len(rows) + 1.2))
    y = np.arange(len(rows))
    pooled = np.array([r.uar for r in rows])
    lo = pooled - np.array([r.uar_ci_low for r in rows])
    hi = np.array([r.uar_ci_high for r in rows]) - pooled
    colors = ["#4a78c2" if r.fused else "#9aa5b1" for r in rows]
    ax.barh(y, pooled, xerr=[lo, hi], color=colors, capsize=3)
    ax.set_yticks(y, [plain(short(r.pipeline)) for r in rows], fontsize=7)
    ax.set_xlabel("UAR (pooled) with bootstrap 95% CI; blue = fused")
    ax.set_xlim(0, 1)
    return _png(fig)


def _gain_chart(rows: list[LeaderboardRow]) -> str | None:
    rows = [r for r in rows if r.gain_pts is not None][::-1]
    if not rows:
        return None
    fig, ax = _figure((9, 0.4 * len(rows) + 1.2))
    y = np.arange(len(rows))
    g = np.array([r.gain_pts for r in rows])
    lo = g - np.array([r.gain_ci_low_pts for r in rows])
    hi = np.array([r.gain_ci_high_pts for r in rows]) - g
    colors = [OUTCOME_COLOUR[outcome(r)] for r in rows]
    ax.errorbar(g, y, xerr=[lo, hi], fmt="none", ecolor="#555", capsize=3)
    ax.scatter(g, y, c=colors, zorder=3)
    ax.axvline(0, color="#333", lw=1)
    ax.set_yticks(y, [plain(short(r.pipeline)) for r in rows], fontsize=7)
    ax.set_xlabel("fusion gain: fused UAR − best own unimodal branch (points), paired bootstrap 95% CI")
    return _png(fig)


def _confusion(row: LeaderboardRow, classes: list[str]) -> str:
    cm = np.asarray(row.confusion, dtype=float)
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig, ax = _figure((3.2, 2.9))
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
    return _png(fig)


def _parse(name: str) -> tuple[str, float]:
    kind, level = name.split("@")
    return kind, float(level.replace("dB", ""))


def _robustness_chart(rows: list[LeaderboardRow], modality: str) -> str | None:
    kinds = ("white", "babble") if modality == "audio" else ("dropout", "substitution")
    series = []
    for r in rows:
        for kind in kinds:
            pts = sorted((_parse(n)[1], v["uar"]) for n, v in (r.robustness or {}).items() if _parse(n)[0] == kind)
            if pts:
                series.append((r, kind, pts))
    if not series:
        return None
    fig, ax = _figure((9, 4))
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
    return _png(fig)


def _robustness_html(rows: list[LeaderboardRow]) -> list[str]:
    names = sorted({n for r in rows for n in (r.robustness or {})}, key=lambda n: (_parse(n)[0], -_parse(n)[1]))
    if not names:
        return ["<h2>Robustness</h2><p>No robustness sweep in this run.</p>"]
    e = html.escape
    parts = [
        "<h2>Robustness</h2><p>UAR change under test-time perturbation (points; models trained on clean "
        "data; blank: the perturbation does not touch this pipeline's input).</p><table><tr><th>pipeline</th>"
        + "".join(f"<th>{e(n)}</th>" for n in names)
        + "</tr>"
    ]
    for r in rows:
        rob = r.robustness or {}
        if not rob:
            continue
        cells = "".join(f"<td>{rob[n]['delta'] * 100:+.1f}</td>" if n in rob else "<td></td>" for n in names)
        parts.append(f"<tr><td>{e(r.pipeline)}</td>{cells}</tr>")
    parts.append("</table>")
    for modality in ("audio", "text"):
        png = _robustness_chart(rows, modality)
        if png:
            parts.append(f"<img alt='robustness curves ({modality})' src='{png}'>")
    return parts


INDEX = "index.html"
#: the first line of every report: its key (what it is drawn from) and the sha256 of that key and the lines after
#: it (a report from before that digest has the key alone)
_HEAD = re.compile(rb"^<!doctype html><!-- emoframe report ([0-9a-f]{32})(?: ([0-9a-f]{64}))? -->\n")


def report_owner(path: str | Path) -> tuple[bool, str | None]:
    """(whether emoframe wrote the file at ``path`` and it is unchanged since, its report key). A report from
    before the digest was recorded is recognised by its header alone."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return False, None
    m = _HEAD.match(data)
    if m is None:
        return False, None
    if m.group(2) is not None and _page_digest(m.group(1).decode(), data[m.end() :]) != m.group(2).decode():
        return False, None  # an emoframe report someone edited: theirs now
    return True, m.group(1).decode()


def _page_digest(key: str, body: bytes) -> str:
    """What a report's first line records: the sha256 of its key and of every byte after that line."""
    return hashlib.sha256(key.encode() + b"\n" + body).hexdigest()


def check_report_target(
    out: str | Path, force: bool = False, fix: str = "choose another folder, or pass --force to replace it"
) -> None:
    """Refuse a report folder whose ``index.html`` emoframe did not write (or that was edited since), unless
    ``force``; said before any work is done. ``fix``: what the calling command offers instead."""
    path = Path(out) / INDEX
    if (
        path.is_dir() and not path.is_symlink()
    ):  # no --force replaces a folder: emoframe deletes no folder it did not make
        raise EmoframeError(f"{path} is a folder, not a report; choose another folder for the report")
    if force or not (path.exists() or path.is_symlink()):
        return
    if path.is_symlink() or not path.is_file() or not report_owner(path)[0]:
        raise EmoframeError(f"{path} exists and emoframe did not write it (or it was edited since); {fix}")


def write_report(
    store: ResultsStore,
    run_id: str,
    out: str | Path,
    rows: list[LeaderboardRow] | None = None,
    force: bool = False,
    notes: Sequence[str] = (),
) -> Path:
    """Write ``out/index.html`` (images embedded, no other files needed). ``rows``: the run's leaderboard
    when the caller has it already (it costs a bootstrap per pipeline). An ``index.html`` already there is
    replaced only when emoframe wrote it, unchanged since, or with ``force``. ``notes``: warnings the
    command printed about the run (its code changed since, :mod:`emoframe.results.code_check`), shown
    first among the run's warnings (and part of the report's key)."""
    out = Path(out)
    check_report_target(out, force)
    run = store.run(run_id)
    run = {**run, "warnings": [*notes, *run["warnings"]]}
    rows = rows if rows is not None else leaderboard(store, run["id"])
    key = report_key(run, rows)
    if report_owner(out / INDEX) == (True, key):  # this very report, already written: drawing it again changes nothing
        return out / INDEX
    e = html.escape
    protocol = str(run["spec"].get("evaluation", {}).get("protocol", "speaker_kfold"))
    parts = [
        f"<html><head><meta charset='utf-8'><title>emoframe — {e(run['name'])}</title>"
        f"<style>{CSS}</style></head><body>",
        f"<h1>emoframe benchmark: {e(run['name'])}</h1>",
        f"<p>run <code>{e(run['id'])}</code> · protocol <b>{e(protocol)}</b>"
        f" · {run['n_folds']} fold(s) · classes {e(', '.join(run['classes']))}</p>",
    ]
    for a in run.get("asr") or []:
        parts.append(f"<p>{e(a['line'])}</p>")
    for w in run["warnings"]:
        parts.append(f"<p class='warn'>{e(w)}</p>")
    parts.append(
        "<h2>Leaderboard</h2><p>Sorted by pooled UAR (every test row scored once) with its bootstrap 95% CI; "
        "the fold mean ± std beside it; n = rows evaluated (share of the rows the protocol evaluates).</p>"
        "<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in HEADERS) + "</tr>"
    )
    parts.extend(_leaderboard_html(rows))
    parts.extend(_sections_html(rows, run))
    parts.extend(report_explain.section(store, run["id"], rows))  # why: attribution (its own module)
    parts.append(
        "<p style='font-size:.75rem;color:#777'>Generated by emoframe. Figures on the synthetic demo corpus "
        "say nothing about real speech.</p></body></html>"
    )
    body = "\n".join(parts).encode("utf-8")
    head = f"<!doctype html><!-- emoframe report {key} {_page_digest(key, body)} -->\n".encode()
    out.mkdir(parents=True, exist_ok=True)
    check_report_target(out, force)  # again: the folder may have changed while the charts were drawn
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{INDEX}-", dir=out)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(head + body)
        os.replace(tmp, out / INDEX)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out / INDEX


def _leaderboard_html(rows: list[LeaderboardRow]) -> list[str]:
    """The leaderboard's rows under HEADERS (a row without results shows its status and errors)."""
    e = html.escape
    parts = []
    for r in rows:
        if r.uar is None:
            lead = "".join(f"<td>{e(c) or '—'}</td>" for c in table_cells(r)[: HEADERS.index("pipeline") + 1])
            parts.append(
                f"<tr>{lead}<td colspan='{len(HEADERS) - HEADERS.index('pipeline') - 1}'>{e(r.status)}: "
                f"{e('; '.join(r.errors)[:300])}</td></tr>"
            )
            continue
        cells = [e(c) for c in table_cells(r)]
        if r.gain_pts is not None:
            cells[GAIN_CELL] = f"<span class='{outcome(r)}'>{cells[GAIN_CELL]}</span>"
        parts.append("<tr>" + "".join(f"<td>{c or '—'}</td>" for c in cells) + "</tr>")
    parts.append("</table>")
    return parts


def _sections_html(rows: list[LeaderboardRow], run: dict[str, Any]) -> list[str]:
    """Verdicts, charts, confusion matrices, robustness, what models learned and what was left out."""
    e = html.escape
    parts = []
    verdicts = [r for r in rows if r.verdict]
    if verdicts:
        parts.append("<h2>Did fusion help?</h2><ul>")
        for r in verdicts:
            cls = outcome(r)
            parts.append(f"<li><b>{e(r.pipeline)}</b>: <span class='{cls}'>{e(r.verdict or '')}</span></li>")
        parts.append("</ul>")
    if any(r.uar is not None for r in rows):
        parts.append(f"<h2>UAR</h2><img alt='UAR per pipeline with 95% CI' src='{_uar_chart(rows)}'>")
    gain_png = _gain_chart(rows)
    if gain_png:
        parts.append(f"<h2>Fusion gain</h2><img alt='fusion gain with 95% CI' src='{gain_png}'>")
    parts.append("<h2>Confusion matrices</h2><div class='grid'>")
    for r in rows:
        if r.confusion is not None:
            parts.append(
                f"<figure><img alt='confusion matrix of {e(r.pipeline)}' "
                f"src='{_confusion(r, run['classes'])}'><figcaption>{e(r.pipeline)} "
                f"(UAR {r.uar:.3f})</figcaption></figure>"
            )
    parts.append("</div>")
    parts.extend(_robustness_html(rows))
    learned = [(r.pipeline, line) for r in rows for line in learned_lines(r)]
    if learned:
        parts.append("<h2>What the models learned</h2><ul>")
        for pipeline, line in learned:
            parts.append(f"<li><b>{e(pipeline)}</b>: {e(line)}</li>")
        parts.append("</ul>")
    if run["failures"]:
        groups = group_failures(run["failures"])
        left = len({f["id"] for f in run["failures"]})
        parts.append(
            f"<h2>Left out</h2><p>{left} utterance(s) were left out of every pipeline (a component "
            "could not process them; `emoframe failures` lists all):</p><ul>"
        )
        for g in groups[:30]:
            parts.append(f"<li>{e(g.line())}</li>")
        parts.append("</ul>")
    return parts


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return repr(value)


def report_key(run: dict[str, Any], rows: list[LeaderboardRow]) -> str:
    """What a report is drawn from: the stored run, its leaderboard rows, the code that draws it and
    the versions of emoframe and matplotlib. The same key means the same report, so a warm rerun
    keeps the file instead of drawing its charts again (1.5–2 s of a 6 s warm demo)."""
    import matplotlib

    from .. import __version__

    code = hashlib.sha256()
    for module in (__name__, leaderboard.__module__, group_failures.__module__):  # the code that shapes the page
        code.update(Path(str(sys.modules[module].__file__)).read_bytes())
    parts = {
        "run": run,
        "rows": [r.to_record() for r in rows],
        "code": code.hexdigest(),
        "versions": [__version__, matplotlib.__version__],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=_plain).encode()).hexdigest()[:32]
