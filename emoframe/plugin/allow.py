"""Which plugins load: the ``EMOFRAME_PLUGINS`` allow-list (or ``allow=`` in code), read strictly.

A name that is no installed plugin, an empty entry or an empty value is an error naming it; the filter
in force says what it left out, so that every "unknown component" message can say so.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import PluginError

ALLOW_ENV = "EMOFRAME_PLUGINS"
BUILTIN_PLUGIN = "emoframe"


@dataclass(frozen=True)
class PluginFilter:
    """An allow-list in force: where it came from, the plugins it lets load, the installed ones it leaves out."""

    source: str  # 'EMOFRAME_PLUGINS=a,b' or 'allow=[...]' (a registry built in code)
    allowed: tuple[str, ...]
    skipped: tuple[str, ...]

    def describe(self) -> str:
        loaded = ", ".join([BUILTIN_PLUGIN, *[a for a in self.allowed if a != BUILTIN_PLUGIN]])
        left = f"; not loaded: {', '.join(self.skipped)}" if self.skipped else ""
        return f"{self.source} is set: only plugins {loaded} are loaded{left}"

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "allowed": list(self.allowed), "skipped": list(self.skipped)}


def parse_allow_env(value: str, installed: Iterable[str]) -> list[str]:
    """The plugin names ``EMOFRAME_PLUGINS`` lists; PluginError naming an empty or unknown entry."""
    names = sorted(set(installed))
    choices = f"installed plugins: {', '.join(names)}"
    if not value.strip():
        raise PluginError(
            f"{ALLOW_ENV} is set but empty, which would load no plugin but emoframe's built-ins; unset it to "
            f"load every installed plugin, or name the ones to load, comma-separated ({choices})"
        )
    entries = [e.strip() for e in value.split(",")]
    empty = [str(k + 1) for k, e in enumerate(entries) if not e]
    if empty:
        raise PluginError(
            f"{ALLOW_ENV}={value!r}: entry {', '.join(empty)} is empty; name the plugins to load, "
            f"comma-separated ({choices})"
        )
    return entries


def _check_allowed(allow: list[str], installed: Iterable[str], source: str) -> None:
    """PluginError naming every entry of an allow-list that is no installed plugin."""
    known = sorted(set(installed))
    unknown = [a for a in allow if a not in known]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, known)
            hints.append(f"'{name}'" + (f" (did you mean {', '.join(close)}?)" if close else ""))
        raise PluginError(
            f"{source} names {', '.join(hints)}: no installed plugin has that name (installed plugins: "
            f"{', '.join(known)}; the names are the 'plugin' column of `emoframe plugins`); fix or unset {ALLOW_ENV}"
        )
