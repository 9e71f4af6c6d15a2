"""Results: the leaderboard as a sortable table; details, comparison and export of rows."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Select, Static

from ...display import OUTCOME_STYLE
from ...errors import EmoframeError
from ...plugin.registry import Registry
from ...results.corpora import AcrossCorpora, across_corpora, is_study
from ...results.leaderboard import (
    HEADERS,
    LeaderboardRow,
    compare_pipelines,
    leaderboard,
    sort_rows,
    table_cells,
    to_csv,
)
from ...results.resolve import resolve_run
from ...results.store import ResultsStore
from ..widgets.confusion import detail
from ..widgets.marks import MarkedTable
from .base import EmoframeScreen

COLUMNS = tuple(  # header, sort key: the same headers as the CLI and the report (leaderboard.HEADERS)
    zip(
        HEADERS,
        ("rank", "id", "pipeline", "n", "uar", "uar_fold_mean", "wa", "macro_f1", "gain_pts", "gap", "fit_s", "folds"),
        strict=True,
    )
)


class ResultsScreen(EmoframeScreen):
    """Leaderboard of a run; Enter/cursor shows a row, `c` marks it for comparison, `e` exports,
    `t` trains the row's pipeline on all its data into a bundle (as `emoframe train --run`), `x` explains
    it (as `emoframe explain`: reliance, complementarity, feature importance)."""

    BINDINGS = [
        ("c", "compare", "Compare"),
        ("e", "export", "Export CSV"),
        ("t", "train", "Train bundle"),
        ("f5", "reload", "Reload"),
        Binding("x", "explain", "Explain", show=False),  # kept off the footer: docs/tui.md lists it
    ]

    def __init__(self, registry: Registry, **kwargs: Any):
        super().__init__(**kwargs)
        self.registry = registry
        self.rows: list[LeaderboardRow] = []
        self.labels: list[str] = []
        self.sort_key, self.descending = "uar", True
        self.compare_with: LeaderboardRow | None = None
        self.run_id: str | None = None
        #: a run over several corpora: its leaderboard across corpora (one column per corpus), else None
        self.across: AcrossCorpora | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Select([], prompt="run", id="run-select")
        yield MarkedTable(id="leaderboard", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="details"):
            with VerticalScroll(id="detail-a-pane"):
                yield Static("", id="detail-a")
            with VerticalScroll(id="detail-b-pane"):
                yield Static("", id="detail-b")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#leaderboard", MarkedTable)
        table.add_mark_column()  # ▶ on the cursor's row: visible without colour
        table.add_columns(*[c for c, _ in COLUMNS])

    def on_screen_resume(self) -> None:
        self.query_one("#leaderboard", DataTable).focus()  # the keys of this screen act on its rows
        self.action_reload()

    def _store(self) -> ResultsStore | None:
        db = self.app.workdir / "results.db"
        return ResultsStore(db, readonly=True) if db.exists() else None

    def action_reload(self) -> None:
        """Read the store in a worker thread: a big store or a busy machine never freezes the screen."""
        self.query_one("#detail-a", Static).update(Text("loading results…"))
        wanted = self.app.last_run or self.run_id
        self.load(wanted)

    @work(thread=True, exclusive=True, group="results")
    def load(self, wanted: str | None) -> None:
        try:
            store = self._store()
            if store is None:
                self.app.call_from_thread(self._loaded, None, None, [], [])
                return
            try:
                runs = store.runs()
                target = resolve_run(store, wanted) if runs else None  # the one resolver; None: the latest
                across = across_corpora(store, target) if target and is_study(store, target) else None
                rows = (
                    leaderboard(store, target, sort=self.sort_key, descending=self.descending)
                    if target and across is None
                    else []
                )
                labels = store.run(target)["classes"] if target else []
            finally:
                store.close()
        except EmoframeError as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.app.call_from_thread(self._loaded, runs, target, rows, labels, across)

    def _failed(self, message: str) -> None:
        self.query_one("#detail-a", Static).update(Text(message))

    def _loaded(
        self,
        runs: list[dict[str, Any]] | None,
        target: str | None,
        rows: list[LeaderboardRow],
        labels: list[str],
        across: AcrossCorpora | None = None,
    ) -> None:
        if runs is None:
            self.query_one("#detail-a", Static).update("No results yet: run a benchmark (F3).")
            return
        select = self.query_one("#run-select", Select)
        with select.prevent(Select.Changed):
            select.set_options(
                [(f"{r['name']} · {r['id'][:10]} · {r['folds_done']} fold results", r["id"]) for r in runs]
            )
            if target:
                select.value = target
        self.rows, self.labels, self.run_id, self.across = rows, labels, target, across
        self.fill()

    @on(Select.Changed, "#run-select")
    def _run_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.run_id:
            self.show_run(event.value)

    def show_run(self, run_id: str) -> None:
        self.query_one("#detail-a", Static).update(Text("loading results…"))
        self.load(run_id)

    def fill(self) -> None:
        table = self.query_one("#leaderboard", MarkedTable)
        table.clear(columns=True)
        table.add_mark_column()  # ▶ on the cursor's row: visible without colour
        if self.across is not None:  # several corpora: a column per corpus, the average rank and the verdict
            self.fill_across(table, self.across)
            return
        table.add_columns(*[c for c, _ in COLUMNS])
        for i, r in enumerate(self.rows):
            # Text: pipeline names hold [brackets]
            table.add_row("", *[Text(c or "—") for c in table_cells(r)], key=str(i))
        if self.rows:
            self.query_one("#detail-a", Static).update(detail(self.rows[0], self.labels))
        table.focus()

    def fill_across(self, table: MarkedTable, across: AcrossCorpora) -> None:
        table.add_columns("#", "pipeline", *across.corpora, "mean UAR", "avg rank", "tied with best")
        for i, r in enumerate(across.rows):
            table.add_row(
                "",
                *[
                    Text(c)
                    for c in (
                        str(r.rank or ""),
                        r.pipeline,
                        *(f"{v:.3f}" if v is not None else "—" for v in r.uar.values()),
                        f"{r.mean_uar:.3f}" if r.mean_uar is not None else "—",
                        f"{r.average_rank:.2f}" if r.average_rank is not None else "—",
                        "—" if r.tied_with_best is None else ("yes" if r.tied_with_best else "no"),
                    )
                ],
                key=f"across-{i}",
            )
        lines = [across.ranks.verdict()] if across.ranks is not None else ["no corpus has every pipeline's score yet"]
        lines += across.problems + ["each corpus's own leaderboard: choose its run in the list above"]
        self.query_one("#detail-a", Static).update(Text("\n".join(lines)))
        table.focus()

    @on(DataTable.HeaderSelected, "#leaderboard")
    def _sort(self, event: DataTable.HeaderSelected) -> None:
        if self.across is not None:
            return  # across corpora: ordered by average rank
        if event.column_index == 0:  # the cursor's marker column sorts nothing
            return
        key = COLUMNS[event.column_index - 1][1]
        self.descending = not self.descending if key == self.sort_key else key not in ("rank", "id", "pipeline")
        self.sort_key = key
        self.rows = sort_rows(self.rows, key, self.descending)
        self.fill()

    @on(DataTable.RowHighlighted, "#leaderboard")
    def _highlight(self, event: DataTable.RowHighlighted) -> None:
        if self.across is not None:
            return
        if event.row_key is not None and event.row_key.value is not None:
            self.query_one("#detail-a", Static).update(detail(self.rows[int(event.row_key.value)], self.labels))

    def _current(self) -> LeaderboardRow | None:
        table = self.query_one("#leaderboard", DataTable)
        return self.rows[table.cursor_row] if self.rows and table.cursor_row < len(self.rows) else None

    def action_compare(self) -> None:
        """`c` on a row marks it; `c` on another row compares the two (paired bootstrap, as `emoframe compare`)."""
        row = self._current()
        if row is None:
            return
        pane = self.query_one("#detail-b", Static)
        marked = self.compare_with
        if marked is None or marked.id == row.id or self.run_id is None or row.uar is None:
            self.compare_with = row
            pane.update(detail(row, self.labels))
            self.notify(f"comparing with {row.pipeline}; press c on another row for the difference")
            return
        store = self._store()
        if store is None:
            return
        try:
            d = compare_pipelines(store, self.run_id, row.id, marked.id)
        except EmoframeError as exc:
            self.notify(str(exc), severity="warning")
            return
        finally:
            store.close()
        pane.update(Group(Text(d["verdict"], style=OUTCOME_STYLE[d["outcome"]]), detail(marked, self.labels)))

    def action_explain(self) -> None:
        """`x`: why the highlighted pipeline decided as it did, in the right pane (read off the UI thread)."""
        row = self._current()
        if row is None or self.run_id is None:
            return
        self.query_one("#detail-b", Static).update(Text(f"explaining {row.pipeline}…"))
        self.explain(self.run_id, row)

    @work(thread=True, exclusive=True, group="explain")
    def explain(self, run_id: str, row: LeaderboardRow) -> None:
        from ...results.explain import explain_row
        from ..widgets.explain import explanation_view

        pane = self.query_one("#detail-b", Static)
        try:
            store = self._store()
            if store is None:
                return
            try:
                view = explanation_view(explain_row(store, run_id, row))
            finally:
                store.close()
        except EmoframeError as exc:
            self.app.call_from_thread(pane.update, Text(str(exc)))
            return
        self.app.call_from_thread(pane.update, view)

    def action_export(self) -> None:
        if not self.rows or self.run_id is None:
            return
        out = self.app.workdir / "exports" / f"{self.run_id[:12]}.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(to_csv(self.rows), encoding="utf-8")
        self.notify(f"exported {out}")

    def action_train(self) -> None:
        """Train the highlighted pipeline into ``<workdir>/bundles/…`` in a worker thread, with progress."""
        row = self._current()
        if row is None or self.run_id is None:
            return
        workdir = self.app.workdir
        base = workdir / "bundles" / f"{self.run_id[:8]}-{row.id[:8]}"
        out, n = base, 1
        while out.exists():
            n += 1
            out = base.with_name(f"{base.name}-{n}")
        self.notify(f"training {row.pipeline} on all its rows…")
        self.train(self.run_id, row.id, row.pipeline, out)

    @work(thread=True, exclusive=True, group="train")
    def train(self, run_id: str, pipeline_id: str, name: str, out: Any) -> None:
        from ...deploy.train import stored_pipeline, train_bundle

        pane = self.query_one("#detail-b", Static)

        def progress(extractor: str, done: int, total: int) -> None:
            self.app.call_from_thread(pane.update, Text(f"training {name}\nextracting {extractor}: {done}/{total}"))

        try:
            store = self._store()
            if store is None:
                return
            try:
                spec, figures = stored_pipeline(store, run_id, pipeline_id, self.registry)
            finally:
                store.close()
            self.app.call_from_thread(pane.update, Text(f"training {name}\nfitting on all rows…"))
            base_dir = figures.pop("base_dir", None)
            result = train_bundle(
                spec,
                out,
                self.registry,
                workdir=self.app.workdir,
                base_dir=base_dir,
                evaluation=figures,
                progress=progress,
            )
        except Exception as exc:  # noqa: BLE001 - a plugin may raise anything; the screen says it and stays up
            from ...errors import describe_exception

            self.app.call_from_thread(pane.update, Text(f"training {name} failed: {describe_exception(exc)}"))
            self.app.call_from_thread(self.notify, f"training {name} failed", severity="error")
            return
        message = f"bundle written to {result.path} ({result.rows} rows); `emoframe predict {result.path} FILES…`"
        self.app.call_from_thread(pane.update, Text(message))
        self.app.call_from_thread(self.notify, message)
