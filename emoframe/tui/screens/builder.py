"""Builder: choose corpus, branches, fusion and protocol; any slot may hold several alternatives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from rich.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Header, Input, Label, Select, SelectionList, Static
from textual.widgets.selection_list import Selection

from ...errors import EmoframeError, SpecError
from ...plugin.registry import Registry
from ...spec import PROTOCOLS, BenchmarkSpec, branch_modality, check, is_grid, parse_spec, pipelines_of
from ..widgets.marks import SlotList
from ..widgets.params_form import ParamsForm
from .base import EmoframeScreen

SLOTS = (
    ("audio-extractor", "extractor", "audio"),
    ("audio-model", "model", None),
    ("text-extractor", "extractor", "text"),
    ("text-model", "model", None),
    ("fusion", "fusion", None),
    ("early-model", "model", None),
)


class BuilderScreen(EmoframeScreen):
    """Assemble a pipeline or a benchmark grid, validated live, saved as YAML the CLI accepts."""

    BINDINGS = [("ctrl+s", "save", "Save spec"), ("ctrl+o", "load", "Load spec")]

    def __init__(self, registry: Registry, **kwargs: Any):
        super().__init__(**kwargs)
        self.registry = registry
        # keyed by (slot, component): the same model in the audio and the text branch has its own params
        self.params: dict[tuple[str, str], dict[str, Any]] = {}
        self.invalid_params: set[tuple[str, str]] = set()
        # settings the form has no widget for, kept from a loaded spec so that saving loses nothing
        self.normalise: dict[str, Any] = {}
        #: kept from a loaded spec so that saving it again loses nothing the form has no widget for
        self.transcripts: dict[str, Any] = {}
        self.data_extra: dict[str, Any] = {}
        #: several data sources (``data: [...]``): the corpus picker adds the current corpus as one more
        self.sources: list[dict[str, Any]] = []
        self.doc: dict[str, Any] = {}
        self.valid = False

    def _choices(self, kind: str, modality: str | None) -> list[Selection]:
        attrs = {"modality": modality} if modality else {}
        return [Selection(c.name, c.name) for c in self.registry.components(kind, **attrs)]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with VerticalScroll(id="builder-slots"):
                yield Label("name")
                yield Input(value="my-benchmark", placeholder="name of the spec", id="spec-name")
                yield Label("corpus")
                yield Select(
                    [(c.name, c.name) for c in self.registry.components("corpus")],
                    value="demo",
                    allow_blank=False,
                    id="corpus",
                )
                yield Input(placeholder="corpus params, e.g. {root: ../shared/data/emodb}", id="corpus-params")
                with Horizontal(classes="row"):
                    yield Button("Add as a data source", id="add-source")
                    yield Button("One corpus", id="clear-sources")
                yield Static("one corpus: the one above", id="sources")
                titles = {
                    "audio-extractor": "audio extractor(s)",
                    "audio-model": "audio model(s)",
                    "text-extractor": "text extractor(s)",
                    "text-model": "text model(s)",
                    "fusion": "fusion(s)",
                    "early-model": "model of early fusion",
                }
                for slot_id, kind, modality in SLOTS:
                    yield Label(titles[slot_id])
                    yield SlotList(*self._choices(kind, modality), id=slot_id, classes="slot")
                yield Label("protocol · folds")
                with Horizontal(classes="row"):
                    yield Select(
                        [(p, p) for p in PROTOCOLS if p != "cross_corpus"],
                        value="speaker_kfold",
                        allow_blank=False,
                        id="protocol",
                    )
                    yield Input(value="5", id="folds")
            with Vertical(id="builder-side"):
                with VerticalScroll(id="validation-pane"):  # every problem, scrollable, not only the first
                    yield Static("", id="validation")
                with VerticalScroll(id="params-pane"):
                    yield Static("Highlight a component to edit its parameters.", id="params-hint")
                with Horizontal(classes="row"):
                    yield Input(placeholder="path of the spec (YAML)", id="spec-path")
                    yield Button("Save", id="save", variant="primary")
                    yield Button("Load", id="load")
        yield Footer()

    def on_mount(self) -> None:
        # the column of slots is a container of tab stops, not one itself (a stop with nothing to show)
        self.query_one("#builder-slots", VerticalScroll).can_focus = False
        spec_path = self.app.current_spec
        if spec_path is not None and Path(spec_path).exists():  # `emoframe tui SPEC` opens it here
            self.query_one("#spec-path", Input).value = str(spec_path)
            self.action_load()
        self.refresh_spec()
        self.query_one("#audio-extractor", SelectionList).focus()  # typed keys land in the first slot

    # -- building the document ------------------------------------------------------------
    def _ref(self, slot_id: str, name: str) -> Any:
        params = self.params.get((slot_id, name))
        return {"name": name, "params": params} if params else name

    def _slot(self, slot_id: str) -> list[Any]:
        return [self._ref(slot_id, n) for n in self.query_one(f"#{slot_id}", SelectionList).selected]

    @staticmethod
    def _one_or_many(values: list[Any]) -> Any:
        return values[0] if len(values) == 1 else values

    def _corpus(self) -> Any:
        corpus: Any = self.query_one("#corpus", Select).value
        raw = self.query_one("#corpus-params", Input).value.strip()
        if raw:
            try:
                params = yaml.safe_load(raw)
            except yaml.YAMLError:
                params = None
            corpus = {"name": corpus, "params": params if isinstance(params, dict) else {"__invalid__": raw}}
        return corpus

    def build_doc(self) -> dict[str, Any]:
        corpus = self._corpus()
        folds = self.query_one("#folds", Input).value.strip()
        data: Any = [dict(s) for s in self.sources] if self.sources else {"corpus": corpus, **self.data_extra}
        doc: dict[str, Any] = {
            "data": data,
            "evaluation": {
                "protocol": self.query_one("#protocol", Select).value,
                "folds": int(folds) if folds.isdigit() else folds,
            },
            "branches": {},
        }
        name = self.query_one("#spec-name", Input).value.strip()
        if name:
            doc = {"name": name, **doc}
        for modality in ("audio", "text"):
            branch = {}
            for slot in ("extractor", "model"):
                values = self._slot(f"{modality}-{slot}")
                if values:
                    branch[slot] = self._one_or_many(values)
            if branch:
                if self.normalise.get(modality) not in (None, "none", ["none"]):
                    branch["normalise"] = self.normalise[modality]
                if self.transcripts.get(modality) is not None:
                    branch["transcripts"] = self.transcripts[modality]
                doc["branches"][modality] = branch
        fusions = self._slot("fusion")
        if fusions:
            doc["fusion"] = self._one_or_many(fusions)
        early = self._slot("early-model")
        if early:
            doc["model"] = self._one_or_many(early)
        if is_grid(doc):
            doc["kind"] = "benchmark"
        return doc

    def refresh_spec(self) -> None:
        """Rebuild the document and show the same messages as `emoframe validate`."""
        self.doc = self.build_doc()
        panel = self.query_one("#validation", Static)
        lines: list[str]
        try:
            spec = parse_spec(self.doc)
            problems = [str(p) for p in check(spec, self.registry)]
        except SpecError as err:
            spec, problems = None, [str(p) for p in err.problems]
        problems += [f"{slot} {n}: a parameter is invalid (see the form)" for slot, n in sorted(self.invalid_params)]
        if not self.doc["branches"]:
            problems = ["branches: choose at least one extractor or model"] + [
                p for p in problems if not p.startswith("branches: Dictionary should have at least 1 item")
            ]
        self.valid = not problems
        if problems or spec is None:
            lines = [f"[red]✗ {len(problems)} problem(s)[/red]"] + [f"[red]•[/red] {escape(p)}" for p in problems]
        else:
            pipelines = pipelines_of(spec, self.registry)
            fused = sum(p.is_fused for p in pipelines)
            kind = "benchmark" if isinstance(spec, BenchmarkSpec) else "pipeline"
            lines = [
                f"[green]✓ valid {kind}[/green] — expands to {len(pipelines)} pipeline(s) "
                f"({fused} fused, {len(pipelines) - fused} unimodal)"
            ]
        panel.update("\n".join(lines))

    # -- events -------------------------------------------------------------------------------
    @on(SelectionList.SelectedChanged)
    @on(Select.Changed)
    @on(Input.Changed, "#corpus-params, #folds, #spec-name")
    def _changed(self, event: Any) -> None:
        if not isinstance(event, Select.Changed) or getattr(event.select, "id", None) in ("corpus", "protocol"):
            self.refresh_spec()

    @on(Button.Pressed, "#add-source")
    def add_source(self) -> None:
        """The corpus above becomes one more data source (named after it, numbered when taken)."""
        corpus = self._corpus()
        base = corpus if isinstance(corpus, str) else corpus["name"]
        taken = {s.get("name") for s in self.sources}
        name = next(n for n in [base, *(f"{base}-{i}" for i in range(2, 1000))] if n not in taken)
        self.sources.append({"name": name, "corpus": corpus, **self.data_extra})
        self.show_sources()
        self.refresh_spec()

    @on(Button.Pressed, "#clear-sources")
    def clear_sources(self) -> None:
        self.sources = []
        self.show_sources()
        self.refresh_spec()

    def show_sources(self) -> None:
        """The data sources, one a line: name, corpus and what differs (params, label map, own protocol)."""
        if not self.sources:
            text = "one corpus: the one above"
        else:
            lines = []
            for s in self.sources:
                c: Any = s.get("corpus") or s.get("manifest") or ""
                what = c if isinstance(c, str) else f"{c['name']} {c.get('params') or ''}"
                extra = "".join(f" · {k}: {s[k]}" for k in ("label_map", "classes", "protocol") if s.get(k))
                lines.append(f"• {s.get('name') or what}: {what}{extra}")
            text = f"{len(self.sources)} data source(s):\n" + "\n".join(lines)
        self.query_one("#sources", Static).update(Text(text))

    @on(SelectionList.SelectionHighlighted)
    async def _highlighted(self, event: SelectionList.SelectionHighlighted) -> None:
        if event.selection_list.has_focus:  # a list the cursor is not in may highlight too (on mount)
            await self.show_params(event.selection_list)

    async def on_descendant_focus(self, event: Any) -> None:
        if isinstance(event.widget, SelectionList):  # entering a slot: its highlighted component's form
            await self.show_params(event.widget)

    async def show_params(self, slot: SelectionList[Any]) -> None:
        """The parameter form of the component highlighted in ``slot`` (kept while the focus is in the form)."""
        slot_id = str(slot.id)
        if slot.highlighted is None:
            if not slot.option_count:
                return
            slot.highlighted = 0  # posts SelectionHighlighted: shown from there
            return
        name = slot.get_option_at_index(slot.highlighted).value
        shown = self.query("#params-form")
        if shown and (shown.first(ParamsForm).slot, shown.first(ParamsForm).info.name) == (slot_id, name):
            return
        pane = self.query_one("#params-pane", VerticalScroll)
        await pane.remove_children()
        await pane.mount(
            ParamsForm(self.registry.get(name), self.params.get((slot_id, name)), slot=slot_id, id="params-form")
        )

    def on_params_form_changed(self, event: ParamsForm.Changed) -> None:
        key = (event.slot, event.component)
        if event.params:
            self.params[key] = event.params
        else:
            self.params.pop(key, None)
        (self.invalid_params.discard if event.valid else self.invalid_params.add)(key)
        self.refresh_spec()

    # -- save / load --------------------------------------------------------------------------
    def _path(self) -> Path | None:
        raw = self.query_one("#spec-path", Input).value.strip()
        if not raw:
            self.notify("type a path for the spec first", severity="warning")
            return None
        return Path(raw).expanduser()

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        path = self._path()
        if path is None:
            return
        self.refresh_spec()
        if not self.valid:
            self.notify("the spec has problems; fix them before saving", severity="error")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(parse_spec(self.doc).to_yaml(), encoding="utf-8")
        self.app.current_spec = path
        self.notify(f"saved {path}")

    @on(Button.Pressed, "#load")
    def action_load(self) -> None:
        path = self._path()
        if path is None:
            return
        try:
            from ...spec import read_document

            spec = parse_spec(read_document(path), source=str(path))
        except EmoframeError as err:
            self.notify(str(err), severity="error")
            return
        self.load_spec(spec)
        self.app.current_spec = path
        self.notify(f"loaded {path}")

    def load_spec(self, spec: Any) -> None:
        """Populate the widgets from a spec (parameters included)."""

        def refs(value: Any) -> list[Any]:
            return [] if value is None else (value if isinstance(value, list) else [value])

        self.params.clear()
        self.normalise.clear()
        self.transcripts.clear()
        self.data_extra = {
            k: v
            for k, v in spec.data.model_dump(mode="json", exclude_none=True).items()
            if k in ("transcriber", "transcripts")
        }
        wanted: dict[str, list[str]] = {slot_id: [] for slot_id, _, _ in SLOTS}
        for key, branch in spec.branches.items():
            alternatives = branch if isinstance(branch, list) else [branch]
            modality = branch_modality(key, alternatives[0].modality) or "audio"
            norms = [n for b in alternatives for n in (b.normalise if isinstance(b.normalise, list) else [b.normalise])]
            self.normalise[modality] = norms[0] if len(set(norms)) == 1 else sorted(set(norms))
            sources = sorted(
                {
                    t
                    for b in alternatives
                    for t in (b.transcripts if isinstance(b.transcripts, list) else [b.transcripts])
                    if t
                }
            )
            if sources:
                self.transcripts[modality] = sources[0] if len(sources) == 1 else sources
            for b in alternatives:
                for slot in ("extractor", "model"):
                    for r in refs(getattr(b, slot)):
                        wanted[f"{modality}-{slot}"].append(r.name)
                        if r.params:
                            self.params[(f"{modality}-{slot}", r.name)] = dict(r.params)
        for slot_id, field in (("fusion", "fusion"), ("early-model", "model")):
            for r in refs(getattr(spec, field)):
                wanted[slot_id].append(r.name)
                if r.params:
                    self.params[(slot_id, r.name)] = dict(r.params)
        for slot_id, names in wanted.items():
            sl = self.query_one(f"#{slot_id}", SelectionList)
            sl.deselect_all()
            for n in names:
                sl.select(n)
        self.query_one("#spec-name", Input).value = spec.name or ""
        self.sources = (
            [d.model_dump(mode="json", exclude_none=True) for d in spec.data_sources] if spec.is_multi_corpus else []
        )
        self.show_sources()
        corpus = spec.data.corpus
        if corpus is not None:
            self.query_one("#corpus", Select).value = corpus.name
            self.query_one("#corpus-params", Input).value = (
                yaml.safe_dump(corpus.params, default_flow_style=True).strip() if corpus.params else ""
            )
        self.query_one("#protocol", Select).value = spec.evaluation.protocol
        self.query_one("#folds", Input).value = str(spec.evaluation.folds)
        self.refresh_spec()
