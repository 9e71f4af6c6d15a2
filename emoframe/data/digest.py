"""Content digests: of audio files (memoised by path, size and mtime) and of whole manifests.

The feature cache keys entries by them, the runner keys runs by them, and the robustness
sweep keys its perturbations by them: what decides a result is what the data *is*, not
where it lies.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .manifest import Manifest


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


#: one memo per process: extraction, run keys and perturbation keys all hash audio through it
audio_digest = DigestMemo()

FINGERPRINT_COLUMNS = ("id", "text", "label", "speaker", "split", "start", "end")


def manifest_fingerprint(manifest: Manifest) -> str:
    """sha256 of what a manifest says (ids, transcripts, labels, speakers, splits, segments) and of
    the content of every audio file it names. Moving the corpus keeps it; editing one byte changes it."""
    h = hashlib.sha256()
    frame = manifest.frame
    columns = [c for c in FINGERPRINT_COLUMNS if c in frame.columns]
    h.update(json.dumps(columns).encode())
    for row in frame[columns].astype(str).itertuples(index=False):
        h.update(json.dumps(list(row)).encode())
    for path in frame["audio"]:
        try:
            h.update((audio_digest(path) if path else "-").encode())
        except OSError:
            h.update(f"unreadable:{path}".encode())  # the run reports it; a later fix changes the key
    return h.hexdigest()
