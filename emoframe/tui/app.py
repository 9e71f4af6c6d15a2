"""The emoframe TUI: Plugins (F1), Builder (F2), Run (F3), Results (F4)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from ..plugin.registry import Registry, get_registry
from ..workdir import workdir as default_workdir
from .screens.builder import BuilderScreen
from .screens.plugins import PluginsScreen
from .screens.results import ResultsScreen
from .screens.run import RunScreen

SCREENS = {
    "plugins": ("Plugins", "Browse installed components and broken plugins"),
    "builder": ("Builder", "Assemble a pipeline or a benchmark grid"),
    "run": ("Run", "Run a benchmark with progress and cancel"),
    "results": ("Results", "Leaderboard, details, comparison, export"),
}


class EmoframeApp(App):
    """Keyboard-first: F1–F4 (or 1–4) switch screens, the footer lists each screen's keys, ctrl+p opens the palette."""

    CSS_PATH = "app.tcss"
    TITLE = "emoframe"
    BINDINGS = [
        Binding("f1", "switch_mode('plugins')", "Plugins"),
        Binding("f2", "switch_mode('builder')", "Builder"),
        Binding("f3", "switch_mode('run')", "Run"),
        Binding("f4", "switch_mode('results')", "Results"),
        # digits too, when no text field has the focus
        Binding("1", "switch_mode('plugins')", show=False),
        Binding("2", "switch_mode('builder')", show=False),
        Binding("3", "switch_mode('run')", show=False),
        Binding("4", "switch_mode('results')", show=False),
        Binding("ctrl+q", "quit", "Quit"),
    ]

    def __init__(
        self,
        registry: Registry | None = None,
        workdir: str | Path | None = None,
        spec: str | Path | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.registry = registry or get_registry()
        self.workdir = Path(workdir) if workdir is not None else default_workdir()
        self.current_spec: Path | None = Path(spec) if spec else None
        self.last_run: str | None = None
        reg = self.registry
        for mode, cls in (
            ("plugins", PluginsScreen),
            ("builder", BuilderScreen),
            ("run", RunScreen),
            ("results", ResultsScreen),
        ):
            self.add_mode(mode, partial(cls, reg))

    def on_mount(self) -> None:
        self.switch_mode("builder")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for mode, (title, help_text) in SCREENS.items():
            yield SystemCommand(f"Go to {title}", help_text, lambda m=mode: self.switch_mode(m))
