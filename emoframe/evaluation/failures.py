"""Rows a component could not process: grouped by (component, reason) for one line each.

A failure is ``{"id": row id, "component": extractor label, "reason": text, "file": path or ""}``.
The reason never holds the file it is about: the file travels in its own field (an audio
extractor's failures name the row's audio file), so the same fault on many files is one reason,
and a summary shows the files as examples without taking the reason text apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FailureGroup:
    component: str
    reason: str
    count: int = 0
    examples: list[str] = field(default_factory=list)  # row ids, each with its file where the failure has one

    def line(self, n_examples: int = 3) -> str:
        shown = ", ".join(self.examples[:n_examples]) + (" …" if len(self.examples) > n_examples else "")
        return f"{self.component}: {self.reason} — {self.count} row(s), e.g. {shown}"


def failure_records(
    component: str, reasons: Mapping[str, str], files: Mapping[str, str] | None = None
) -> list[dict[str, str]]:
    """One failure record per row of ``reasons`` (id → reason); ``files``: id → the file each is about."""
    files = files or {}
    return [{"id": i, "component": component, "reason": why, "file": files.get(i, "")} for i, why in reasons.items()]


def group_failures(failures: Iterable[dict[str, Any]]) -> list[FailureGroup]:
    """One group per (component, reason), largest first."""
    groups: dict[tuple[str, str], FailureGroup] = {}
    for f in failures:
        key = (str(f.get("component", "?")), str(f.get("reason", "")))
        g = groups.setdefault(key, FailureGroup(*key))
        g.count += 1
        if len(g.examples) < 5:
            g.examples.append(f"{f.get('id')} ({f['file']})" if f.get("file") else str(f.get("id")))
    return sorted(groups.values(), key=lambda g: (-g.count, g.component, g.reason))


def as_records(failures: Any) -> list[dict[str, Any]]:
    """Failures in the current form, also from a store written by an earlier version ({id: reason})."""
    if isinstance(failures, dict):
        return [{"id": i, "component": "?", "reason": r} for i, r in failures.items()]
    return list(failures or [])
