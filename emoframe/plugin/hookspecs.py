"""pluggy hook specifications: how a plugin hands its components to emoframe.

Each hook receives ``register``, a callable taking a component class. A plugin is a module
with ``@emoframe.hookimpl`` functions, listed under the ``emoframe`` entry-point group of
its distribution; emoframe's own built-ins are registered the same way. There is one hook per
row of the table of kinds (``plugin.kinds``), made from it below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

from .kinds import HOOK_KINDS, TABLE  # noqa: F401 — HOOK_KINDS: read here by the registry and by tests

PROJECT = "emoframe"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Register = Callable[[type], None]


def _hook(name: str, registers: str) -> Any:
    """A hook specification named ``name`` whose one argument is ``register``."""

    def spec(register: Register) -> None:
        pass

    spec.__name__ = spec.__qualname__ = name
    spec.__doc__ = f"Register {registers}."
    return hookspec(spec)


for _kind in TABLE:
    globals()[_kind.hook] = _hook(_kind.hook, _kind.registers)
