"""Progress of a run as a notebook or a terminal shows it, from the runner's events (``bench.events``).

In Jupyter the bars are one HTML block updated in place (no escape codes in the cell's output); on a
terminal they are rich bars on stderr, gone when the work is done; anywhere else, nothing. ``progress=False``
(or ``EMOFRAME_PROGRESS=0`` in the environment) switches them off.
"""

from __future__ import annotations

import html
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from ..bench import events as ev

PROGRESS_ENV = "EMOFRAME_PROGRESS"


def in_notebook() -> bool:
    """Whether this code runs in a Jupyter kernel (IPython with a kernel attached)."""
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def progress_mode(progress: bool | None) -> str:
    """'notebook', 'terminal' or 'off': ``None`` picks what this process can show (off when neither a kernel
    nor a terminal is there, and when ``EMOFRAME_PROGRESS`` is 0/false/off)."""
    if progress is False or (
        progress is None and os.environ.get(PROGRESS_ENV, "").strip().lower() in ("0", "false", "off", "no")
    ):
        return "off"
    if in_notebook():
        return "notebook"
    if progress or sys.stderr.isatty():
        return "terminal"
    return "off"


class NotebookProgress:
    """Bars as one HTML block in the cell's output, redrawn in place at most every ``interval`` seconds."""

    def __init__(self, interval: float = 0.25):
        from IPython.display import HTML, display

        self._html = HTML
        self.bars: dict[str, tuple[int, int]] = {}
        self.lines: list[str] = []
        self.interval = interval
        self._last = 0.0
        self.handle = display(HTML("<i>starting…</i>"), display_id=True)

    def update(self, key: str, done: int, total: int) -> None:
        self.bars[key] = (done, total)
        self.draw()

    def say(self, line: str) -> None:
        self.lines.append(line)
        self.draw(force=True)

    def draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        e = html.escape
        rows = "".join(
            f"<div><progress value='{done}' max='{max(total, 1)}' style='width:14em'></progress> "
            f"{done}/{total} {e(key)}</div>"
            for key, (done, total) in self.bars.items()
        )
        said = "".join(f"<div>{e(line)}</div>" for line in self.lines[-12:])
        if self.handle is not None:
            self.handle.update(self._html(f"<div style='font-family:monospace;font-size:.85em'>{rows}{said}</div>"))

    def close(self) -> None:
        self.draw(force=True)


class TerminalProgress:
    """rich bars on stderr, gone when the work is done."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = Console(stderr=True, markup=False, highlight=False)
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self.bar.start()
        self.tasks: dict[str, Any] = {}

    def update(self, key: str, done: int, total: int) -> None:
        if key not in self.tasks:
            self.tasks[key] = self.bar.add_task(key, total=total)
        self.bar.update(self.tasks[key], completed=done, total=total)

    def say(self, line: str) -> None:
        self.console.print(line)

    def close(self) -> None:
        self.bar.stop()


class Silent:
    def update(self, key: str, done: int, total: int) -> None:
        pass

    def say(self, line: str) -> None:
        pass

    def close(self) -> None:
        pass


def display_for(progress: bool | None) -> NotebookProgress | TerminalProgress | Silent:
    mode = progress_mode(progress)
    return NotebookProgress() if mode == "notebook" else TerminalProgress() if mode == "terminal" else Silent()


def event_handler(
    shown: NotebookProgress | TerminalProgress | Silent, then: Callable[[ev.Event], None] | None = None
) -> Callable[[ev.Event], None]:
    """The runner's events drawn on ``shown`` (extraction bars, the pipeline × fold bar, failures once per
    pipeline and reason), each handed on to ``then`` (a caller's own handler) afterwards."""
    done = {"folds": 0, "total": 0}
    said: set[tuple[str, str | None]] = set()

    def handle(event: ev.Event) -> None:
        if isinstance(event, ev.ExtractionProgress):
            shown.update(f"extracting {event.extractor}", event.done, event.total)
        elif isinstance(event, ev.RunPlanned):
            done["total"] = event.pending
            shown.say(
                f"{event.pipelines} pipelines × {event.folds} folds: {event.pending} to run, "
                f"{event.skipped} already in the store"
            )
            shown.update("pipeline × fold", 0, event.pending)
            for line in event.code_changes:
                shown.say(f"code changed: {line}")
        elif isinstance(event, ev.PipelineFoldFinished):
            done["folds"] += 1
            shown.update("pipeline × fold", done["folds"], done["total"])
            if not event.ok and (event.name, event.error) not in said:
                said.add((event.name, event.error))
                shown.say(f"failed {event.name} in fold {event.fold}: {event.error}")
        if then is not None:
            then(event)

    return handle
