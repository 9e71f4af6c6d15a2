"""One exception family, so callers can catch emoframe's errors without catching bugs.

Exit codes: 0 ok, 1 run finished with failures, 2 bad input, 130 interrupted (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


def describe_exception(exc: BaseException) -> str:
    """``Type: message (at file:line)`` — where an exception (often a plugin's) was raised.

    emoframe's own errors are already written for a user: their message alone.
    """
    import os
    import traceback

    if isinstance(exc, EmoframeError):
        return str(exc)

    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    where = f" (at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def validation_problems(err: ValidationError, prefix: str = "", skip: Collection[str] = ()) -> list[tuple[str, str]]:
    """(dotted path, message) for each error pydantic found, with the offending value: how a bad parameter
    or spec field is worded. Location parts that are pydantic's own (validator wrappers such as
    ``function-after[…]``) and those in ``skip`` (a caller's union member names) are left out of the path."""
    out = []
    for e in err.errors():
        loc = ""
        for part in e["loc"]:
            if isinstance(part, int):
                loc += f"[{part}]"
            elif "[" not in part and part not in skip:
                loc += f".{part}" if loc else part
        path = ".".join(p for p in (prefix, loc) if p)
        msg = e["msg"]
        if e["type"] not in ("missing", "extra_forbidden") and "input" in e:
            msg += f" (got {e['input']!r})"
        if e["type"] == "extra_forbidden":
            msg = "unknown parameter"
        out.append((path, msg))
    return out


class EmoframeError(Exception):
    """Base of every error emoframe raises on purpose; its message is meant for a user."""

    exit_code = 2


class PluginError(EmoframeError):
    """A plugin could not be loaded or registered something invalid."""


class UnknownComponentError(EmoframeError):
    """A component name is not in the registry."""

    def __init__(self, name: str, kind: str | None, suggestions: list[str], note: str = ""):
        """``note``: why it may be missing (a plugin filter in force), said after the suggestions."""
        self.name, self.kind, self.suggestions = name, kind, suggestions
        what = f"{kind} " if kind else "component "
        msg = f"unknown {what}'{name}'"
        if suggestions:
            msg += f"; did you mean {', '.join(suggestions)}?"
        else:
            msg += "; run `emoframe plugins` to list what is installed"
        if note:
            msg += f" ({note})"
        super().__init__(msg)


class NameConflictError(EmoframeError):
    """Two distributions register the same component name; a spec must say which one it means."""


class ParamsError(EmoframeError):
    """A component's parameters failed its Params model."""


@dataclass(frozen=True)
class SpecProblem:
    """One problem in a spec: where it is (dotted path), what is wrong, how to fix it."""

    path: str
    message: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.path or '<spec>'}: {self.message}"
        return f"{text} — {self.fix}" if self.fix else text


class SpecError(EmoframeError):
    """A spec is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[SpecProblem], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        prefix = f"{source}: " if source else ""
        lines = [f"{prefix}{p}" for p in self.problems]
        super().__init__("\n".join(lines) if lines else f"{prefix}invalid spec")


class DataError(EmoframeError):
    """A corpus, manifest or audio file is unusable; the message names the file and field."""


class ComponentError(EmoframeError):
    """A component was used against its contract (bad input shape, not fitted, ...)."""

    exit_code = 1


class BundleError(EmoframeError):
    """A trained-pipeline bundle cannot be written or loaded: unsafe, damaged, or incompatible."""


class IdentifierError(EmoframeError):
    """A run or pipeline reference names nothing, or more than one thing; lists the candidates."""

    def __init__(self, message: str, reference: str, candidates: list[str] | None = None):
        self.reference, self.candidates = reference, list(candidates or [])
        super().__init__(message)


class StaleResultsError(EmoframeError):
    """A stored run's figures were computed by code that has changed since: they are not today's code's."""
