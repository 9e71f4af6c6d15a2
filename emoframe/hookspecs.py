"""Deprecated path: the module is now ``emoframe.plugin.hookspecs`` (the plugin room, docs/architecture.md).

Importing this path warns once and hands over that very module (not a copy), so attributes set on
either name (a test's monkeypatch) are seen by both. Plugin authors import ``emoframe`` and
``emoframe.testing`` only.
"""

from __future__ import annotations

import sys
import warnings

from .plugin import hookspecs as _moved

warnings.warn(
    "emoframe.hookspecs is deprecated: import from emoframe (the public API) or emoframe.plugin.hookspecs",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
