"""Where emoframe keeps its state: cache, results, generated corpora (docs/architecture.md)."""

from __future__ import annotations

import os
from pathlib import Path

WORKDIR_ENV = "EMOFRAME_WORKDIR"


def workdir(override: str | os.PathLike[str] | None = None) -> Path:
    """``override``, else $EMOFRAME_WORKDIR, else ./.emoframe (not created here)."""
    if override is not None:
        return Path(override)
    return Path(os.environ.get(WORKDIR_ENV) or ".emoframe")
