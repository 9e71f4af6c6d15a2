"""Library warnings as emoframe lines: ``warning: librosa (UserWarning): …``, once per message and process,
here and in the worker processes started here (:mod:`emoframe.workers` passes the rule on)."""

from __future__ import annotations

import os
import re
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: library warnings whose consequence emoframe reports itself, silenced (pattern, why)
KNOWN_NOISE: tuple[tuple[str, str], ...] = (
    (
        "Segment too short, filling with NaN",
        "openSMILE on a file shorter than its window: the NaN features make emoframe leave the row out, saying why",
    ),
)
_reported: set[tuple[str, str, str]] = set()  # (category, package, message with its numbers blanked): said once
_reporting = False  # inside library_warnings_reported(): passed on to the workers this process starts


def _package_of(filename: str) -> str:
    """The top-level package a warning came from (``librosa`` for …/librosa/core/spectrum.py)."""
    folder, name = os.path.split(os.path.abspath(filename))
    package = os.path.splitext(name)[0]
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        folder, package = os.path.split(folder)
    return package


def _report_warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    text = " ".join(str(message).split()) or category.__name__
    origin = _package_of(filename)
    key = (category.__name__, origin, re.sub(r"\d+", "#", text))
    if key in _reported:
        return
    _reported.add(key)
    try:
        sys.stderr.write(f"warning: {origin} ({category.__name__}): {text}\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # stderr closed: a warning is not worth failing for
        pass


@contextmanager
def library_warnings_reported() -> Iterator[None]:
    """Within it, a library's warnings (UserWarning, FutureWarning, ConvergenceWarning, …) print as one
    emoframe line, ``warning: librosa (UserWarning): …``, once per message and process (numbers aside),
    here and in the worker processes started here; those in KNOWN_NOISE are silenced. Python prints them
    as two raw lines (file path, source line) between emoframe's own otherwise."""
    global _reporting
    with warnings.catch_warnings():
        report_library_warnings()
        before, _reporting = _reporting, True
        try:
            yield
        finally:
            _reporting = before


def reporting_library_warnings() -> bool:
    """Whether this process is inside library_warnings_reported() (processes it starts elsewhere are told)."""
    return _reporting


def report_library_warnings() -> None:
    """From now on in this process, library warnings as emoframe lines (a worker's side of the rule)."""
    warnings.showwarning = _report_warning
    for pattern, _why in KNOWN_NOISE:
        warnings.filterwarnings("ignore", message=re.escape(pattern))
