"""The ``emoframe`` command line: ``main`` (the group, in ``main.py``) and one module per family of commands.

``common``: consoles, styles, progress, shared options, renderers of rows. ``catalogue``: plugins, validate,
schema, corpus. ``running``: extract, run, bench, demo. ``results``: runs, failures, results, compare,
report. ``deploy``: train, predict, export, serve. ``tools``: tui, new, cache. A thin face: every rule it
applies lives in one function of a lower layer.
"""

from ..errors import SpecError
from .main import main

__all__ = ["main", "SpecError"]
