"""Shared pieces of the file-name-coded corpus loaders."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import Field

from ...errors import DataError
from ...plugin.components import Corpus, Params
from ..manifest import Manifest

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")


class RootParams(Params):
    root: str = Field("", description="folder holding the corpus files (searched recursively)")


class FileCorpus(Corpus):
    """A corpus whose labels, speakers and texts are coded in its file names."""

    Params = RootParams
    pattern: re.Pattern[str]

    def root(self) -> Path:
        if not self.params.root:
            raise DataError(f"{self.name}: set params.root to the folder of the corpus")
        root = Path(self.params.root).expanduser()
        if not root.is_dir():
            raise DataError(f"{self.name}: corpus folder not found: {root}")
        return root

    def parse(self, match: re.Match[str], path: Path) -> dict[str, Any] | None:
        raise NotImplementedError

    def load(self) -> Manifest:
        root = self.root()
        rows, skipped = [], []
        for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES):
            m = self.pattern.fullmatch(path.stem)
            row = self.parse(m, path) if m else None
            if row is None:
                skipped.append(path.name)
                continue
            rows.append({"audio": str(path.resolve()), **row})
        if not rows:
            raise DataError(f"{self.name}: no files named like this corpus under {root} (expected e.g. {self.example})")
        manifest = Manifest.from_frame(pd.DataFrame(rows), name=self.name, root=root)
        if skipped:
            manifest.warnings.append(
                f"{self.name}: {len(skipped)} file(s) not named like this corpus were skipped: {', '.join(skipped[:5])}"
            )
        return manifest

    example = ""
