"""Run: a benchmark in a worker thread, overall and per-pipeline progress, failures, cancel."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, ProgressBar, RichLog

from ...bench import events as ev
from ...bench.events import BenchmarkCancelled
from ...bench.runner import pipeline_id, run_benchmark
from ...bench.study import run_study
from ...errors import EmoframeError
from ...plugin.registry import Registry
from ...spec import load_spec, pipelines_of
from ..widgets.marks import MarkedTable
from .base import EmoframeScreen


def fold_bar(done: int, total: int, width: int = 10) -> Text:
    """A pipeline's progress as a bar of its folds: ████░░░░░░ 2/5."""
    filled = round(width * done / max(1, total))
    return Text("█" * filled, style="green") + Text("░" * (width - filled), style="dim") + Text(f" {done}/{total}")


class RunScreen(EmoframeScreen):
    """Start, follow and cancel a benchmark; the UI stays responsive."""

    BINDINGS = [("ctrl+r", "start", "Start"), ("escape", "cancel", "Cancel run")]

    def __init__(self, registry: Registry, **kwargs: Any):
        super().__init__(**kwargs)
        self.registry = registry
        self.cancel_flag = threading.Event()
        self.running = False
        self.rows: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="row"):
            yield Input(placeholder="spec to run (saved from the Builder, or any YAML)", id="run-spec")
            yield Input(value="1", id="run-jobs", classes="narrow")
            yield Button("Start", id="start", variant="success")
            yield Button("Cancel", id="cancel", variant="error", disabled=True)
        yield Label("", id="run-status")
        yield ProgressBar(total=1, id="run-progress", show_eta=False)  # determinate: no idle animation
        yield MarkedTable(id="run-pipelines", cursor_type="row")
        yield RichLog(id="run-log", markup=True, wrap=True, max_lines=500)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#run-pipelines", MarkedTable)
        table.add_mark_column()  # ▶ on the cursor's row: visible without colour
        # state and bar first, fixed widths: they stay in view however long the pipeline names are
        for label, width in (("status", 10), ("folds", 16), ("pipeline", None)):
            table.add_column(label, key=label, width=width)

    def on_screen_resume(self) -> None:
        spec = self.app.current_spec
        box = self.query_one("#run-spec", Input)
        if spec and not box.value:
            box.value = str(spec)
        if not self.running:
            (self.query_one("#start", Button) if box.value else box).focus()

    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        if self.running:
            return
        raw = self.query_one("#run-spec", Input).value.strip()
        if not raw:
            self.notify("choose a spec to run", severity="warning")
            return
        try:
            spec = load_spec(Path(raw).expanduser(), registry=self.registry)
        except EmoframeError as err:
            self.notify(str(err).splitlines()[0], severity="error")
            return
        jobs_text = self.query_one("#run-jobs", Input).value.strip()
        jobs = int(jobs_text) if jobs_text.isdigit() and int(jobs_text) > 0 else 1
        table = self.query_one("#run-pipelines", DataTable)
        table.clear()
        self.rows = {}
        pipelines = pipelines_of(spec, self.registry)
        for p in pipelines:
            pid = pipeline_id(p)
            self.rows[pid] = {"done": 0, "key": table.add_row("", "waiting", "", Text(p.label()), key=pid)}
        self.cancel_flag.clear()
        self.jobs, self.folds = jobs, 1
        self.running = True
        self.query_one("#start", Button).disabled = True
        self.query_one("#cancel", Button).disabled = False
        self.query_one("#run-status", Label).update(f"running {len(pipelines)} pipeline(s)…")
        self.run_spec(spec, Path(raw).expanduser().parent, jobs)

    @on(Input.Submitted, "#run-spec")
    def _submitted(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        if self.running:
            self.cancel_flag.set()
            self.query_one("#run-status", Label).update("cancelling after the current pipeline…")

    @work(thread=True, exclusive=True, group="benchmark")
    def run_spec(self, spec: Any, base_dir: Path, jobs: int) -> None:
        def events(event: ev.Event) -> None:
            if self.cancel_flag.is_set():
                raise BenchmarkCancelled()
            self.app.call_from_thread(self.show_progress, event)

        try:
            outcome = (run_study if spec.is_multi_corpus else run_benchmark)(  # several corpora: each its run
                spec,
                self.registry,
                self.app.workdir,
                jobs=jobs,
                base_dir=base_dir,
                events=events,
            )
        except BenchmarkCancelled:
            self.app.call_from_thread(
                self.finished, None, "cancelled: every finished fold is stored; start again to resume"
            )
            return
        except Exception as exc:  # noqa: BLE001 — shown, not raised into the UI thread
            self.app.call_from_thread(self.finished, None, f"[red]failed:[/red] {escape(str(exc))}")
            return
        self.app.call_from_thread(self.finished, outcome, None)

    def show_progress(self, event: ev.Event) -> None:
        bar = self.query_one("#run-progress", ProgressBar)
        table = self.query_one("#run-pipelines", DataTable)
        log = self.query_one("#run-log", RichLog)
        if isinstance(event, ev.RunPlanned):
            bar.update(total=max(1, event.pending), progress=0)
            self.folds = event.folds
            log.write(
                Text(
                    f"{event.pipelines} pipelines × {event.folds} folds: {event.pending} to run, "
                    f"{event.skipped} already stored"
                )
            )
            for line in event.code_changes:
                log.write(Text(f"code changed: {line}"))
            for pid, row in self.rows.items():
                if pid not in event.done:
                    continue  # another corpus's run
                row["done"] = event.done.get(pid, 0)
                table.update_cell(pid, "folds", fold_bar(row["done"], self.folds))
                table.update_cell(pid, "status", "queued")
        elif isinstance(event, ev.FoldStarted):
            for pid in event.pipelines:
                if pid in self.rows:
                    table.update_cell(pid, "status", f"fold {event.fold}…")
        elif isinstance(event, ev.CorpusUnitStarted):  # several corpora: the table shows the first one's rows
            tests = f", tested on {', '.join(event.tests)}" if event.tests else ""
            log.write(Text(f"{event.role} {event.corpus}{tests}"))
        elif isinstance(event, ev.PipelineFoldFinished):
            bar.advance(1)
            if event.pipeline not in self.rows:
                if not event.ok:
                    log.write(Text.assemble(("failed ", "red"), f"{event.name} in fold {event.fold}: {event.error}"))
            elif event.ok:
                self._advance(event.pipeline)
            else:
                table.update_cell(event.pipeline, "status", "[red]failed[/red]")
                log.write(Text.assemble(("failed ", "red"), f"{event.name} in fold {event.fold}: {event.error}"))
        elif isinstance(event, ev.PerturbationStarted):
            log.write(Text(f"preparing perturbed test data: {event.condition}"))

    def _advance(self, pid: str) -> None:
        row = self.rows[pid]
        row["done"] += 1
        table = self.query_one("#run-pipelines", DataTable)
        table.update_cell(pid, "folds", fold_bar(row["done"], self.folds))
        table.update_cell(pid, "status", "running" if row["done"] < self.folds else "done")

    def finished(self, outcome: Any, message: str | None) -> None:
        self.running = False
        self.query_one("#start", Button).disabled = False
        self.query_one("#cancel", Button).disabled = True
        status = self.query_one("#run-status", Label)
        log = self.query_one("#run-log", RichLog)
        if outcome is None:
            status.update(message or "")
            log.write(message or "")
            return
        for pid in self.rows:
            failed = any(e["pipeline_id"] == pid for e in outcome.errors)
            self.query_one("#run-pipelines", DataTable).update_cell(
                pid, "status", "[red]failed[/red]" if failed else "done"
            )
        names = {pid: ps.display_name for pid, ps in outcome.pipelines}
        for e in outcome.errors:
            log.write(
                Text.assemble(
                    (f"{names.get(e['pipeline_id'], e['pipeline_id'])} fold {e['fold']}: ", "red"), e["message"]
                )
            )
        status.update(
            f"done: {outcome.ran} pipeline-fold(s) run, {outcome.skipped} reused, "
            f"{len(outcome.errors)} failed — open Results (F4)"
        )
        self.app.last_run = outcome.run_id
        self.notify("benchmark finished")
