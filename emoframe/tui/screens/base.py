"""The screens' common base: the app they run in, typed, so a screen reads its state by name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen


class EmoframeScreen(Screen):
    """A screen of the emoframe TUI: ``self.app`` is the EmoframeApp (its workdir, current spec, last run)."""

    if TYPE_CHECKING:  # as textual types its own ``app``: at run time the inherited property returns this app
        from textual import getters

        from ..app import EmoframeApp

        app = getters.app(EmoframeApp)
