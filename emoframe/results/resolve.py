"""Run and pipeline references: each resolves to exactly one thing, or to an :class:`IdentifierError`.

One grammar for every face (the CLI's ``results``, ``compare``, ``failures``, ``report``, ``train``, the
TUI, the library), so that ``train --pipeline 1`` and ``compare RUN 1 2`` mean the same thing:

1. a full id (any case) is that run or pipeline;
2. a bare positive integer (ASCII digits, no leading zero) is a pipeline's leaderboard rank — 1 is the
   highest pooled UAR, ties keep the spec's order, a pipeline without results has no rank. Runs have
   no ranks. An integer that is no rank of the run (``10246`` with 22 pipelines) is tried as an id prefix;
3. otherwise every pipeline (run) whose exact label (name) is the reference, and every one whose id
   starts with it when it is at least 4 hex characters, is a candidate: exactly one is the answer;
   a label that is also another pipeline's id prefix is ambiguous and refused, both listed.

Matching is literal: ``%``, ``_`` and ``*`` are characters, not wildcards. Pure functions over the
candidates; the store is read only by :func:`resolve_run` (a pipeline is found among a run's leaderboard rows:
``leaderboard.resolve_pipeline``, which ranks them).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import IdentifierError

if TYPE_CHECKING:
    from .leaderboard import LeaderboardRow
    from .store import ResultsStore

RANK = re.compile(r"[1-9][0-9]*")
HEX = re.compile(r"[0-9a-fA-F]+")
MIN_PREFIX = 4  # hex characters: 65,536 prefixes, few enough collisions to be refused, not guessed
SHORT_ID = 8  # the id column's width: unique among the pipelines of any realistic run
SHOWN = 12  # candidates listed in an error; the rest is counted
WILDCARDS = ("%", "_", "*", "?")

FORMS = {
    "run": "a run id (at least 4 of its hex characters) or the run's exact name; `emoframe runs` lists them",
    "pipeline": "a leaderboard rank (1 = the best), a pipeline id (at least 4 of its hex characters) "
    "or the pipeline's exact label, as `emoframe results` shows them",
}


@dataclass(frozen=True)
class Candidate:
    """One thing a reference may name: its id, label (pipeline label or run name), rank, and a note
    that helps choose (a run's date, a pipeline's UAR)."""

    id: str
    label: str
    rank: int | None = None
    note: str = ""

    def line(self, width: int = SHORT_ID, ranked: bool = False) -> str:
        """'  #1   3b4fd191  label  (UAR 0.500)'; ``ranked``: leave the rank's room when this one has none."""
        rank = f"#{self.rank:<4}" if self.rank is not None else ("     " if ranked else "")
        label = printable(self.label)
        return f"  {rank}{self.id[:width]:<{width}}  {label}" + (f"  ({self.note})" if self.note else "")


def printable(text: str) -> str:
    """User text (a run's name, a label) as a terminal may show it: control characters (escape sequences, a
    carriage return) written out as ``\\x1b``, ``\\r``, never sent to the terminal."""
    return text if text.isprintable() else repr(text)[1:-1]


def shown(text: str, limit: int = 60) -> str:
    """A reference as an error message quotes it: one printable line, cut at ``limit`` characters."""
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def short_id_width(ids: Sequence[str], width: int = SHORT_ID) -> int:
    """The shortest length ≥ ``width`` at which every id's prefix is distinct (what the id column shows)."""
    longest = max((len(i) for i in ids), default=width)
    while width < longest and len({i[:width].lower() for i in ids}) < len(ids):
        width += 1
    return width


def match(candidates: Sequence[Candidate], ref: str, what: str, where: str, ranked: bool) -> Candidate:
    """The one candidate ``ref`` names (the module's grammar), else an IdentifierError listing candidates.

    ``ranked``: integers are ranks here (pipelines), not names or id prefixes only (runs).
    """
    key = ref.strip()
    if not key:
        raise _refuse(f"empty {what} reference: give {FORMS[what]}", ref, candidates)
    lowered = key.lower()
    exact = [c for c in candidates if c.id.lower() == lowered]
    if len(exact) == 1:
        return exact[0]
    as_prefix = len(key) >= MIN_PREFIX and HEX.fullmatch(key) is not None
    if ranked and RANK.fullmatch(key):
        ranks = sorted(c.rank for c in candidates if c.rank is not None)
        hit = [c for c in candidates if c.rank == int(key)]
        if len(hit) == 1:
            return hit[0]
        if not as_prefix or not any(c.id.lower().startswith(lowered) for c in candidates):
            span = (
                f"ranks go from 1 to {ranks[-1]}"
                if ranks
                else "no pipeline has a pooled UAR yet, so none has a rank; name it by id or label"
            )
            also = " and no pipeline id starts with it" if as_prefix else ""
            raise _refuse(f"there is no rank {key} in {where}{also}: {span}", ref, candidates)
    found = [c for c in candidates if c.label in (key, ref) or (as_prefix and c.id.lower().startswith(lowered))]
    if len(found) == 1:
        return found[0]
    if found:
        raise _refuse(
            f"{what} '{shown(key)}' is ambiguous in {where}: it matches {len(found)} {what}s; give more "
            f"characters of the id{', or the rank' if ranked else ''}",
            ref,
            found,
        )
    if HEX.fullmatch(key) and len(key) < MIN_PREFIX:
        why = f"'{shown(key)}' is too short for an id prefix (at least {MIN_PREFIX} characters)"
    elif any(w in key for w in WILDCARDS):
        why = f"no {what} '{shown(key)}' in {where}: references are matched literally, % _ * ? are not wildcards"
    else:
        why = f"no {what} '{shown(key)}' in {where}"
    close = [c for c in candidates if lowered in c.label.lower()]
    if close:  # a part of a label: those are what was meant, likely
        raise _refuse(f"{why}; give {FORMS[what]} — did you mean one of these?", ref, close)
    raise _refuse(f"{why}; give {FORMS[what]}", ref, candidates)


def _refuse(message: str, ref: str, candidates: Sequence[Candidate]) -> IdentifierError:
    listed = sorted(candidates, key=lambda c: (c.rank is None, c.rank or 0))
    width = short_id_width([c.id for c in listed])
    ranked = any(c.rank is not None for c in listed)
    lines = [c.line(width, ranked) for c in listed[:SHOWN]]
    if len(listed) > SHOWN:
        lines.append(f"  … and {len(listed) - SHOWN} more")
    header = ["candidates:"] if lines else []
    return IdentifierError("\n".join([message, *header, *lines]), ref, [c.id for c in listed])


def run_candidates(index: Sequence[tuple[str, str, float]]) -> list[Candidate]:
    """Candidates from ``(id, name, updated)`` rows, newest first, each noting when it was last written."""
    return [
        Candidate(i, name or "", note=datetime.datetime.fromtimestamp(updated).strftime("%Y-%m-%d %H:%M"))
        for i, name, updated in index
    ]


def match_run(index: Sequence[tuple[str, str, float]], ref: str, where: str) -> str:
    """The id of the run ``ref`` names among ``(id, name, updated)`` rows."""
    return match(run_candidates(index), ref, "run", where, ranked=False).id


def resolve_run(store: ResultsStore, ref: str | None) -> str:
    """The id of the run ``ref`` names in ``store``; ``None``: the latest run (the default of every command)."""
    index = store.run_index()
    if ref is None:
        if not index:
            raise IdentifierError(
                f"no runs in {store.path}; run `emoframe bench SPEC`, `emoframe run SPEC` or `emoframe demo` first",
                "",
            )
        return index[0][0]
    return match_run(index, ref, str(store.path))


def pipeline_candidates(rows: Sequence[LeaderboardRow]) -> list[Candidate]:
    """Candidates from leaderboard rows (with their ``rank``), each noting its pooled UAR."""
    return [
        Candidate(r.id, r.pipeline, r.rank, f"UAR {r.uar:.3f}" if r.uar is not None else str(r.status)) for r in rows
    ]


def match_pipeline(rows: Sequence[LeaderboardRow], ref: str, where: str) -> LeaderboardRow:
    """The leaderboard row ``ref`` names (a rank, an id prefix or a label)."""
    chosen = match(pipeline_candidates(rows), ref, "pipeline", where, ranked=True)
    return next(r for r in rows if r.id == chosen.id)


def describe(row: LeaderboardRow, uar: bool = True) -> str:
    """'#1 3b4fd191 librosa.mfcc→sklearn.svc (UAR 0.500)': how a face names the pipeline it chose."""
    rank = f"#{row.rank} " if row.rank is not None else ""
    text = f"{rank}{row.short_id or row.id[:SHORT_ID]} {row.pipeline}"
    if not uar:
        return text
    return text + (f" (UAR {row.uar:.3f})" if row.uar is not None else f" ({row.status})")
