"""A self-contained HTML report of a run: contents, warnings, leaderboard, verdicts, the figures of
``results.figures``, failures, the spec that produced the run and the versions that ran it.

The page fits its width (images and tables shrink, long names wrap: no horizontal scroll at 800 px;
tests/test_report_browser.py checks it in a real browser).

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

from ..errors import EmoframeError
from ..evaluation.failures import group_failures
from . import figures, report_corpora, report_cost, report_explain, report_tuning
from .leaderboard import GAIN_CELL, HEADERS, LeaderboardRow, leaderboard, learned_lines, outcome, table_cells
from .messages import failed_folds, run_warnings
from .store import ResultsStore

CSS = """
*,*::before,*::after{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;
color:#222}
h1{font-size:1.5rem;overflow-wrap:anywhere} h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
p,li,figcaption,code{overflow-wrap:anywhere}
table{border-collapse:collapse;font-size:.85rem;width:100%}
th,td{padding:.3rem .4rem;border-bottom:1px solid #eee;text-align:right}
td:first-child,td:nth-child(3){overflow-wrap:anywhere} /* pipeline names wrap anywhere; figures stay whole */
th:first-child,td:first-child{text-align:left} .helped{color:#1a7f37} .hurt{color:#c62828} .none{color:#8a6d00}
.warn{background:#fff8e1;padding:.5rem;border-left:3px solid #f0b400;font-size:.85rem}
.grid{display:flex;flex-wrap:wrap;gap:1rem} figure{margin:0;max-width:100%} figcaption{font-size:.75rem;max-width:320px}
img{max-width:100%;height:auto}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f8fa;padding:.5rem;font-size:.8rem}
nav ol{columns:2 14rem;font-size:.9rem}
"""

#: kept for code written against the report's old helpers (they live in ``results.figures`` now)
short, plain = figures.short, figures.plain


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _robustness_html(rows: list[LeaderboardRow]) -> list[str]:
    def order(n: str) -> tuple[str, float]:
        kind, level = figures.condition(n)
        return kind, -level

    names = sorted({n for r in rows for n in (r.robustness or {})}, key=order)
    if not names:
        return ["<h2 id='robustness'>Robustness</h2><p>No robustness sweep in this run.</p>"]
    e = html.escape
    parts = [
        "<h2 id='robustness'>Robustness</h2><p>UAR change under test-time perturbation (points; models trained "
        "on clean data; blank: the perturbation does not touch this pipeline's input).</p><table><tr>"
        "<th>pipeline</th>" + "".join(f"<th>{e(n)}</th>" for n in names) + "</tr>"
    ]
    for r in rows:
        rob = r.robustness or {}
        if not rob:
            continue
        cells = "".join(f"<td>{rob[n]['delta'] * 100:+.1f}</td>" if n in rob else "<td></td>" for n in names)
        parts.append(f"<tr><td>{e(r.pipeline)}</td>{cells}</tr>")
    parts.append("</table>")
    for modality in ("audio", "text"):
        try:
            png = _png(figures.robustness(rows, modality))
        except ValueError:  # no sweep of this modality
            continue
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
    registry: Any = None,
) -> Path:
    """Write ``out/index.html`` (images embedded, no other files needed). ``rows``: the run's leaderboard
    when the caller has it already (it costs a bootstrap per pipeline). An ``index.html`` already there is
    replaced only when emoframe wrote it, unchanged since, or with ``force``. ``notes``: warnings the
    command printed about the run (its code changed since, :mod:`emoframe.results.code_check`; cost and cache
    warnings of the call that ran it), shown first among the run's warnings (and part of the report's key).
    ``registry``: where the plugins' versions are read (default: the installed plugins)."""
    out = Path(out)
    check_report_target(out, force)
    run = store.run(run_id)
    rows = rows if rows is not None else leaderboard(store, run["id"])
    run = {
        **run,
        "warnings": run_warnings(run, rows, notes),
        "errors": failed_folds(store.errors(run["id"]), {p["id"]: p["name"] for p in store.pipelines(run["id"])}),
        "versions": versions(store.run_code(run["id"]) or {}, registry),
    }
    key = report_key(run, rows)
    corpora_state = report_corpora.state(store, run["id"])  # a run over several corpora: its units' figures too
    if corpora_state is not None:
        key = hashlib.sha256((key + corpora_state).encode()).hexdigest()[:32]
    if report_owner(out / INDEX) == (True, key):  # this very report, already written: drawing it again changes nothing
        return out / INDEX
    extra = [  # sections that read the store beyond the rows
        *report_explain.section(store, run["id"], rows),  # why: attribution
        *report_cost.section(store, run["id"], rows, _png),
        *report_corpora.section(store, run["id"]),
    ]
    body = "\n".join(_page(run, rows, extra)).encode("utf-8")
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


#: the libraries whose versions a report names (those installed)
KEY_LIBRARIES = ("numpy", "scipy", "scikit-learn", "pandas", "pydantic", "matplotlib", "torch", "opensmile", "librosa")


def versions(code: dict[str, str], registry: Any = None) -> dict[str, list[tuple[str, str]]]:
    """What ran the run, as installed now: emoframe and Python; each component the run used (from the store's
    code record) with its own version and its distribution's; the key libraries that are installed."""
    import platform
    from importlib import metadata

    from .. import __version__

    if registry is None:
        from ..plugin.registry import get_registry

        registry = get_registry()
    components = []
    for name in sorted(code):
        try:
            info = registry.get(name)
        except EmoframeError:
            components.append((name, "not installed now"))
            continue
        components.append((name, f"{info.version} ({info.distribution} {info.distribution_version})".strip()))
    libraries = []
    for lib in KEY_LIBRARIES:
        try:
            libraries.append((lib, metadata.version(lib)))
        except metadata.PackageNotFoundError:
            continue
    return {
        "emoframe": [("emoframe", __version__), ("python", platform.python_version())],
        "components": components,
        "libraries": libraries,
    }


#: the report's sections in page order: (anchor, title); the table of contents lists those present
SECTIONS = (
    ("warnings", "Warnings"),
    ("leaderboard", "Leaderboard"),
    ("verdicts", "Did fusion help?"),
    ("uar", "UAR"),
    ("fusion-gain", "Fusion gain"),
    ("confusion", "Confusion matrices"),
    ("robustness", "Robustness"),
    ("tuning", "Nested tuning"),
    ("learned", "What the models learned"),
    ("why", "Why: attribution"),
    ("cost", "Cost beside accuracy"),
    ("curves", "Training curves"),
    ("corpora", "Across corpora"),
    ("failed", "Failed pipeline-folds"),
    ("left-out", "Left out"),
    ("spec", "Spec"),
    ("versions", "Versions"),
)


def _page(run: dict[str, Any], rows: list[LeaderboardRow], extra: Sequence[str] = ()) -> list[str]:
    """The page: header, table of contents, then every section present, each under its anchor. ``extra``:
    sections drawn from the store beyond the rows (cost and training curves), after the models' own."""
    e = html.escape
    protocol = str(run["spec"].get("evaluation", {}).get("protocol", "speaker_kfold"))
    body = []
    for a in run.get("asr") or []:
        body.append(f"<p>{e(a['line'])}</p>")
    if run["warnings"]:
        body.append("<h2 id='warnings'>Warnings</h2>")
        body.extend(f"<p class='warn'>warning: {e(w)}</p>" for w in run["warnings"])
    body.append(
        "<h2 id='leaderboard'>Leaderboard</h2><p>Sorted by pooled UAR (every test row scored once) with its "
        "bootstrap 95% CI; the fold mean ± std beside it; n = rows evaluated (share of the rows the protocol "
        "evaluates).</p><table><tr>" + "".join(f"<th>{e(h)}</th>" for h in HEADERS) + "</tr>"
    )
    body.extend(_leaderboard_html(rows))
    body.extend(_sections_html(rows, run))
    body.extend(extra)
    body.extend(_closing_html(run))
    present = [(a, t) for a, t in SECTIONS if f"<h2 id='{a}'>" in "".join(body)]
    toc = "<nav aria-label='contents'><h2>Contents</h2><ol>" + "".join(
        f"<li><a href='#{a}'>{e(t)}</a></li>" for a, t in present
    )
    return [
        "<html><head><meta charset='utf-8'><meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>emoframe — {e(run['name'])}</title><style>{CSS}</style></head><body>",
        f"<h1>emoframe benchmark: {e(run['name'])}</h1>",
        f"<p>run <code>{e(run['id'])}</code> · protocol <b>{e(protocol)}</b>"
        f" · {run['n_folds']} fold(s) · classes {e(', '.join(run['classes']))}</p>",
        toc + "</ol></nav>",
        *body,
        "<p style='font-size:.75rem;color:#777'>Generated by emoframe. Figures on the synthetic demo corpus "
        "say nothing about real speech.</p></body></html>",
    ]


def _closing_html(run: dict[str, Any]) -> list[str]:
    """Failed pipeline-folds (as the CLI listed them), the spec that produced the run, the versions."""
    import yaml

    e = html.escape
    parts = []
    if run["errors"]:
        parts.append(
            f"<h2 id='failed'>Failed pipeline-folds</h2><p>{sum(len(f) for _, f, _ in run['errors'])} "
            "pipeline-fold(s) failed; every other pipeline completed and is stored:</p><ul>"
        )
        for name, folds, message in run["errors"]:
            s = "s" if len(folds) > 1 else ""
            parts.append(f"<li><code>{e(name)}</code> (fold{s} {', '.join(map(str, folds))}): {e(message)}</li>")
        parts.append("</ul>")
    spec = yaml.safe_dump(run["spec"], sort_keys=False, allow_unicode=True)
    parts.append(f"<h2 id='spec'>Spec</h2><p>The spec that produced this run, as stored:</p><pre>{e(spec)}</pre>")
    v = run["versions"]
    parts.append(
        "<h2 id='versions'>Versions</h2><p>As installed when this report was written (a component whose code "
        "changed since the run is named among the warnings).</p><ul>"
    )
    for group in ("emoframe", "components", "libraries"):
        parts.extend(f"<li>{e(name)} <code>{e(ver)}</code></li>" for name, ver in v[group])
    parts.append("</ul>")
    return parts


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
        parts.append("<h2 id='verdicts'>Did fusion help?</h2><ul>")
        for r in verdicts:
            cls = outcome(r)
            parts.append(f"<li><b>{e(r.pipeline)}</b>: <span class='{cls}'>{e(r.verdict or '')}</span></li>")
        parts.append("</ul>")
    if any(r.uar is not None for r in rows):
        parts.append(f"<h2 id='uar'>UAR</h2><img alt='UAR per pipeline with 95% CI' src='{_png(figures.uar(rows))}'>")
    if any(r.gain_pts is not None for r in rows):
        parts.append(
            "<h2 id='fusion-gain'>Fusion gain</h2>"
            f"<img alt='fusion gain with 95% CI' src='{_png(figures.fusion_gain(rows))}'>"
        )
    parts.append("<h2 id='confusion'>Confusion matrices</h2><div class='grid'>")
    for r in rows:
        if r.confusion is not None:
            parts.append(
                f"<figure><img alt='confusion matrix of {e(r.pipeline)}' "
                f"src='{_png(figures.confusion(r, run['classes']))}'><figcaption>{e(r.pipeline)} "
                f"(UAR {r.uar:.3f})</figcaption></figure>"
            )
    parts.append("</div>")
    parts.extend(_robustness_html(rows))
    parts.extend(report_tuning.section(rows, _png, lambda name: plain(short(name))))
    learned = [(r.pipeline, line) for r in rows for line in learned_lines(r)]
    if learned:
        parts.append("<h2 id='learned'>What the models learned</h2><ul>")
        for pipeline, line in learned:
            parts.append(f"<li><b>{e(pipeline)}</b>: {e(line)}</li>")
        parts.append("</ul>")
    if run["failures"]:
        groups = group_failures(run["failures"])
        left = len({f["id"] for f in run["failures"]})
        parts.append(
            f"<h2 id='left-out'>Left out</h2><p>{left} utterance(s) were left out of every pipeline (a component "
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
    shaping = (
        __name__,
        leaderboard.__module__,
        group_failures.__module__,
        figures.__name__,
        run_warnings.__module__,
        report_cost.__name__,
        report_tuning.__name__,
        report_corpora.__name__,
        report_explain.__name__,
    )
    for module in shaping:  # the code that shapes the page
        code.update(Path(str(sys.modules[module].__file__)).read_bytes())
    parts = {
        "run": run,
        "rows": [r.to_record() for r in rows],
        "code": code.hexdigest(),
        "versions": [__version__, matplotlib.__version__],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=_plain).encode()).hexdigest()[:32]
