"""What a run has to say beside its figures: every warning, once, in the order the faces show them.

The CLI prints these after a run, the report lists them and ``Run.warnings`` returns them: one function, so
a warning the terminal showed (the transcript-overlap one, a cost warning) is never missing from the report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .leaderboard import LeaderboardRow


def run_warnings(run: dict[str, Any], rows: Sequence[LeaderboardRow], notes: Iterable[str] = ()) -> list[str]:
    """``notes`` (about this call: code changed since, cost, the cache), then the run's stored warnings, then
    each pipeline's own (transcript overlap, ...) not said already; each line once."""
    out: list[str] = []
    for line in [*notes, *run.get("warnings", []), *(w for r in rows for w in r.warnings)]:
        if line not in out:
            out.append(line)
    return out


def failed_folds(errors: Sequence[dict[str, Any]], names: dict[str, str]) -> list[tuple[str, list[int], str]]:
    """Failed pipeline-folds grouped as the CLI prints them: (pipeline label, its folds, the message)."""
    grouped: dict[tuple[str, str], list[int]] = {}
    for e in errors:
        grouped.setdefault((names.get(e["pipeline_id"], e["pipeline_id"]), e["message"]), []).append(e["fold"])
    return [(name, folds, message) for (name, message), folds in grouped.items()]
