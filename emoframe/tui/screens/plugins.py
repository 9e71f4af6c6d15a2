"""Plugins: every component grouped by kind and modality, with its docs and parameters; broken plugins."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, Static, Tree

from ...display import param_rows
from ...plugin.registry import Registry
from ..widgets.marks import MarkedTree
from .base import EmoframeScreen


def params_table(info: Any) -> Table:
    table = Table("parameter", "type", "default", "allowed", "description", expand=True)
    for row in param_rows(info.params_schema()):
        table.add_row(*(Text(cell) for cell in row))
    return table


class PluginsScreen(EmoframeScreen):
    """Browse what is installed."""

    BINDINGS = [("enter", "show", "Show")]

    def __init__(self, registry: Registry, **kwargs: Any):
        super().__init__(**kwargs)
        self.registry = registry

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield MarkedTree("components", id="plugin-tree")
            with VerticalScroll(id="plugin-detail"):
                yield Static("Select a component.", id="plugin-doc")
        yield Footer()

    def on_mount(self) -> None:
        tree = self.query_one(Tree)
        tree.root.expand()
        groups: dict[str, Any] = {}
        for info in self.registry.components():
            group = (
                info.kind
                + (f" · {info.modality}" if info.modality else "")
                + (f" · {info.fusion_kind}" if info.fusion_kind else "")
            )
            if group not in groups:
                groups[group] = tree.root.add(group, expand=True)
            groups[group].add_leaf(info.name, data=info.name)
        if self.registry.broken:
            node = tree.root.add("[red]plugins with problems[/red]", expand=True)
            for p in self.registry.broken:
                node.add_leaf(f"{p.name} ({p.status})", data=f"plugin:{p.name}")
        tree.focus()

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        self.show(event.node.data)

    def show(self, key: str | None) -> None:
        doc = self.query_one("#plugin-doc", Static)
        if not key:
            return
        if key.startswith("plugin:"):
            p = next(p for p in self.registry.plugins if p.name == key[7:])
            doc.update(
                f"[b red]{escape(p.name)}[/b red] from {escape(p.distribution)} {escape(p.version)}\n\n"
                + "\n".join(f"• {escape(x)}" for x in p.problems)
            )
            return
        info = self.registry.get(key)
        head = (
            f"[b]{escape(info.name)}[/b]  v{escape(info.version)} · {escape(info.distribution)} · "
            f"{escape(info.io_text)}\n\n"
            f"{escape(info.doc)}\n"
        )
        from rich.console import Group

        doc.update(
            Group(head, params_table(info)) if info.params_schema().get("properties") else head + "\nno parameters"
        )
