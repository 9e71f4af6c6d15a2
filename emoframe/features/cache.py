"""Content-addressed feature cache (DESIGN.md §6).

Key = hash(extractor name, version, params, sample rate, audio content hash, segment).
One ``.npy`` file per entry under ``<workdir>/cache/<extractor>/``; written to a temporary
file in the same folder and renamed into place, so concurrent writers of the same key
never leave a torn or duplicate entry (the rename is atomic, the content identical).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..workdir import workdir


def file_digest(path: str | Path, chunk: int = 1 << 20) -> str:
    """sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


class DigestMemo:
    """Content hashes memoised by (path, size, mtime), so a warm run does not re-read audio."""

    def __init__(self) -> None:
        self._memo: dict[tuple[str, int, int], str] = {}

    def __call__(self, path: str | Path) -> str:
        st = os.stat(path)
        key = (str(path), st.st_size, st.st_mtime_ns)
        if key not in self._memo:
            self._memo[key] = file_digest(path)
        return self._memo[key]


@dataclass(frozen=True)
class ExtractorKey:
    """The part of the cache key that names the extractor configuration."""

    name: str
    version: str
    params: dict[str, Any]
    sample_rate: int

    def digest(self) -> str:
        blob = json.dumps([self.name, self.version, self.params, self.sample_rate], sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()


class FeatureCache:
    """Feature arrays on disk, keyed by content; safe under concurrent runs."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else workdir() / "cache"

    @staticmethod
    def key(extractor: ExtractorKey, audio_digest: str, start: float | None, end: float | None) -> str:
        blob = json.dumps([extractor.digest(), audio_digest, start, end])
        return hashlib.sha256(blob.encode()).hexdigest()

    def path(self, extractor_name: str, key: str) -> Path:
        return self.root / extractor_name / key[:2] / f"{key}.npy"

    def get(self, extractor_name: str, key: str) -> np.ndarray | None:
        p = self.path(extractor_name, key)
        try:
            return np.load(p, allow_pickle=False)
        except FileNotFoundError:
            return None
        except (ValueError, OSError, EOFError):  # unreadable entry: treat as a miss, rewrite later
            return None

    def put(self, extractor_name: str, key: str, value: np.ndarray) -> None:
        p = self.path(extractor_name, key)
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npy", dir=p.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, np.ascontiguousarray(value), allow_pickle=False)
            os.replace(tmp, p)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def info(self) -> dict[str, dict[str, int]]:
        """Entries and bytes per extractor."""
        out: dict[str, dict[str, int]] = {}
        if not self.root.is_dir():
            return out
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
            files = [f for f in folder.rglob("*.npy") if not f.name.startswith(".tmp-")]
            out[folder.name] = {"entries": len(files), "bytes": sum(f.stat().st_size for f in files)}
        return out

    def clear(self, extractor_name: str | None = None) -> int:
        """Delete all entries (or one extractor's); returns how many were removed."""
        targets = [self.root / extractor_name] if extractor_name else \
            ([p for p in self.root.iterdir() if p.is_dir()] if self.root.is_dir() else [])
        removed = 0
        for folder in targets:
            if folder.is_dir():
                removed += sum(1 for _ in folder.rglob("*.npy"))
                shutil.rmtree(folder)
        return removed
