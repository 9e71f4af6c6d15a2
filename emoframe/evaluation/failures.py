"""Rows a component could not process: grouped by (component, reason) for one line each.

A failure is ``{"id": row id, "component": extractor label, "reason": text}``. Reasons that
differ only in a file path are one reason (the path becomes an example).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_PATH = re.compile(r"(?:[A-Za-z]:)?[\\/][^\s;:,()]+")


@dataclass
class FailureGroup:
    component: str
    reason: str
    count: int = 0
    examples: list[str] = field(default_factory=list)  # row ids (and paths where the reason named one)

    def line(self, n_examples: int = 3) -> str:
        shown = ", ".join(self.examples[:n_examples]) + (" …" if len(self.examples) > n_examples else "")
        return f"{self.component}: {self.reason} — {self.count} row(s), e.g. {shown}"


def reason_key(reason: str) -> str:
    """The reason without the file it names: 'file not found: <file>'."""
    return _PATH.sub("<file>", reason)


def group_failures(failures: Iterable[dict[str, Any]]) -> list[FailureGroup]:
    """One group per (component, reason), largest first."""
    groups: dict[tuple[str, str], FailureGroup] = {}
    for f in failures:
        reason = str(f.get("reason", ""))
        key = (str(f.get("component", "?")), reason_key(reason))
        g = groups.setdefault(key, FailureGroup(*key))
        g.count += 1
        if len(g.examples) < 5:
            paths = _PATH.findall(reason)
            g.examples.append(f"{f.get('id')} ({paths[0]})" if paths else str(f.get("id")))
    return sorted(groups.values(), key=lambda g: (-g.count, g.component, g.reason))


def as_records(failures: Any) -> list[dict[str, Any]]:
    """Failures in the current form, also from a store written by an earlier version ({id: reason})."""
    if isinstance(failures, dict):
        return [{"id": i, "component": "?", "reason": r} for i, r in failures.items()]
    return list(failures or [])
