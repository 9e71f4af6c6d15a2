"""CPU seconds for the benchmarks: this process and its children, as one figure beside wall time."""

from __future__ import annotations

import resource


def cpu_with_children() -> float:
    """CPU seconds (user + system) of this process and of its children that have ended and been
    waited for (worker processes a run joins before it returns)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
