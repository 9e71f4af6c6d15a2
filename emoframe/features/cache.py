"""Content-addressed feature cache (docs/architecture.md).

Key = hash(extractor name, version, params, sample rate, audio content hash, segment).
One entry per sample under ``<workdir>/cache/<extractor>/<2 hex>/<key>.efc``: a magic line,
the sha256 of the key and the payload, then the array in ``.npy`` format (read without pickle).
A read checks the checksum against the key it asked for, so a flipped byte, or a valid entry
of another sample swapped in under this name, is a miss, never a feature.
Entries are written to a temporary file in the same folder and renamed into place, so
concurrent writers of the same key never leave a torn or duplicate entry.

Every folder the cache creates carries emoframe's ownership marker; ``clear`` deletes only
entry files inside marked folders of extractors the cache knows, never a path a user typed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..code_digest import code_digest
from ..data.digest import DigestMemo, audio_digest, file_digest  # noqa: F401 — re-exported
from ..errors import EmoframeError
from ..ownership import mark, marker, remove_files
from ..workdir import workdir

MAGIC = b"EFC2\n"  # EFC1 entries (checksum of the payload only) are misses: recomputed once
LEGACY_MAGIC = b"EFC1\n"
SUFFIX = ".efc"
ROOT_KIND = "feature-cache"
FOLDER_KIND = "feature-cache.extractor"
_ENTRY = re.compile(r"^[0-9a-f]{2}/([0-9a-f]{64}\.efc|\.tmp-[^/]*)$")


@dataclass(frozen=True)
class ExtractorKey:
    """The part of the cache key that names the extractor configuration — and its code.

    ``origin`` is the distribution and its version; ``code`` the extractor's
    :func:`~emoframe.code_digest.code_digest` (its module and the modules of its package it
    imports), so an extractor edited in place (an editable install, a local plugin) is
    re-extracted even when nobody bumped ``version``.
    """

    name: str
    version: str
    params: dict[str, Any]
    sample_rate: int
    origin: str = ""
    code: str = ""
    identity: str = ""  # FeatureExtractor.identity(): e.g. the pretrained weights' sha256

    def digest(self) -> str:
        parts: list[Any] = [self.name, self.version, self.params, self.sample_rate, self.origin, self.code]
        if self.identity:  # appended only when set: every other extractor keeps the keys it had
            parts.append(self.identity)
        blob = json.dumps(parts, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    @classmethod
    def of(cls, extractor: Any) -> ExtractorKey:
        return cls(
            extractor.name,
            str(extractor.version),
            {
                k: v
                for k, v in extractor.params.model_dump(mode="json").items()
                if k not in getattr(extractor, "runtime_params", ())
            },
            extractor.sample_rate if getattr(extractor, "modality", "audio") == "audio" else 0,  # transcribers: audio
            getattr(extractor, "_origin", ""),
            code_digest(type(extractor)),
            _identity(extractor),
        )


def _identity(extractor: Any) -> str:
    """``extractor.identity()`` under the contract (a plugin's exception is named with its origin)."""
    from ..plugin.contract import guard

    if not hasattr(extractor, "identity"):
        return ""
    with guard(extractor, "identity"):
        return str(extractor.identity() or "")


def _checksum(key: str, payload: bytes) -> bytes:
    """sha256 of the entry's key and payload: an entry is valid only under the key it was written for."""
    h = hashlib.sha256(key.encode())
    h.update(b"\n")
    h.update(payload)
    return h.hexdigest().encode()


def encode_entry(value: np.ndarray, key: str) -> bytes:
    """An entry file's bytes for ``value`` stored under ``key`` (the checksum binds the two)."""
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(value), allow_pickle=False)
    payload = buf.getvalue()
    return MAGIC + _checksum(key, payload) + b"\n" + payload


def decode_entry(blob: bytes, key: str) -> np.ndarray | None:
    """The array of an entry read under ``key``, or None when the entry is damaged (bad magic, checksum
    or npy) or was written under another key (a file swapped in from another sample or extractor)."""
    head = len(MAGIC) + 65
    if len(blob) < head or not blob.startswith(MAGIC) or blob[head - 1 : head] != b"\n":
        return None
    payload = blob[head:]
    if _checksum(key, payload) != blob[len(MAGIC) : head - 1]:
        return None
    fast = _from_npy(payload)
    if fast is not None:
        return fast
    try:
        return np.load(io.BytesIO(payload), allow_pickle=False)
    except (ValueError, OSError, EOFError):
        return None


_HEADERS: dict[bytes, tuple[np.dtype[Any], tuple[int, ...]] | None] = {}


def _from_npy(payload: bytes) -> np.ndarray | None:
    """A version-1 npy payload read without re-parsing a header seen before (a warm run reads
    thousands of entries with the same header); None: leave it to np.load."""
    if len(payload) < 10 or payload[:8] != b"\x93NUMPY\x01\x00":
        return None
    end = 10 + int.from_bytes(payload[8:10], "little")
    header = payload[:end]
    if header not in _HEADERS:
        try:
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(io.BytesIO(header[8:]))
            _HEADERS[header] = None if fortran or dtype.hasobject else (dtype, tuple(shape))
        except (ValueError, OSError, EOFError):
            _HEADERS[header] = None
    parsed = _HEADERS[header]
    if parsed is None:
        return None
    dtype, shape = parsed
    count = int(np.prod(shape)) if shape else 1
    if len(payload) - end != count * dtype.itemsize:
        return None  # truncated or padded: np.load decides (and refuses)
    return np.frombuffer(payload, dtype=dtype, count=count, offset=end).reshape(shape).copy()


class FeatureCache:
    """Feature arrays on disk, keyed by content, checksummed; safe under concurrent runs.

    ``get`` returns None for a missing entry and counts a damaged one in ``corrupt`` (the caller
    recomputes and overwrites it). When the folder cannot be written (read-only, disk full),
    ``put`` stops trying and ``write_error`` says why: the run goes on without caching.
    """

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else workdir() / "cache"
        self.corrupt = 0
        self.write_error: str | None = None
        self.left_in_place: list[Path] = []
        self._read_folders: dict[str, str] = {}

    @staticmethod
    def key(extractor: ExtractorKey | str, content_digest: str, start: float | None, end: float | None) -> str:
        """A sample's key; ``extractor`` is the ExtractorKey or its digest (hashed once per extraction)."""
        blob = json.dumps([extractor if isinstance(extractor, str) else extractor.digest(), content_digest, start, end])
        return hashlib.sha256(blob.encode()).hexdigest()

    def folder(self, extractor_name: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", extractor_name) or ".." in extractor_name:
            raise EmoframeError(
                f"'{extractor_name}' is not a component name; the cache keeps one folder per extractor name"
            )
        return self.root / extractor_name

    def path(self, extractor_name: str, key: str) -> Path:
        return self.folder(extractor_name) / key[:2] / f"{key}{SUFFIX}"

    def get(self, extractor_name: str, key: str) -> np.ndarray | None:
        # plain strings, the folder checked once: a warm run reads tens of thousands of entries
        folder = self._read_folders.get(extractor_name)
        if folder is None:
            folder = self._read_folders[extractor_name] = str(self.folder(extractor_name))
        try:
            with open(os.path.join(folder, key[:2], key + SUFFIX), "rb") as f:
                blob = f.read()
        except FileNotFoundError:
            return None
        except OSError:
            self.corrupt += 1
            return None
        value = decode_entry(blob, key)
        if value is None and not blob.startswith(LEGACY_MAGIC):  # an older emoframe's entry: a plain miss
            self.corrupt += 1
        return value

    def _prepare(self, extractor_name: str) -> Path:
        folder = self.folder(extractor_name)
        if marker(folder) is None:
            if not self.root.exists():
                self.root.mkdir(parents=True, exist_ok=True)
                mark(self.root, ROOT_KIND)
            if not folder.exists():
                folder.mkdir(exist_ok=True)
                mark(folder, FOLDER_KIND, extractor=extractor_name)
        return folder

    def put(self, extractor_name: str, key: str, value: np.ndarray) -> bool:
        """Store an entry; False (and ``write_error`` set) when the cache cannot be written."""
        if self.write_error is not None:
            return False
        p = self.path(extractor_name, key)
        tmp = None
        try:
            self._prepare(extractor_name)
            p.parent.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=SUFFIX, dir=p.parent)
            with os.fdopen(fd, "wb") as f:
                f.write(encode_entry(value, key))
            os.replace(tmp, p)
            return True
        except OSError as exc:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            self.write_error = (
                f"cannot write the feature cache {self.root} ({exc.strerror or exc}); running without caching"
            )
            return False

    def extractors(self) -> dict[str, Path]:
        """Extractor name → its folder, for the folders this cache created (marker checked)."""
        out: dict[str, Path] = {}
        if not self.root.is_dir():
            return out
        for folder in sorted(self.root.iterdir()):
            m = marker(folder)
            if m is not None and m.get("kind") == FOLDER_KIND and m.get("extractor") == folder.name:
                out[folder.name] = folder
        return out

    def info(self) -> dict[str, dict[str, int]]:
        """Entries and bytes per extractor."""
        out: dict[str, dict[str, int]] = {}
        for name, folder in self.extractors().items():
            files = [f for f in folder.glob(f"??/*{SUFFIX}") if not f.name.startswith(".tmp-")]
            out[name] = {"entries": len(files), "bytes": sum(f.stat().st_size for f in files)}
        return out

    def clear(self, extractor_name: str | None = None) -> int:
        """Delete all entries (or one extractor's); returns how many were removed.

        Only entry files in folders this cache created are deleted; an unknown name is an error.
        """
        known = self.extractors()
        if extractor_name is not None and extractor_name not in known:
            listed = ", ".join(known) or "none"
            raise EmoframeError(
                f"no cached features of '{extractor_name}' in {self.root}; cached extractors: "
                f"{listed} (`emoframe cache info` lists them)"
            )
        targets = [known[extractor_name]] if extractor_name is not None else list(known.values())
        removed = 0
        self.left_in_place = []
        for folder in targets:
            count, foreign = remove_files(folder, FOLDER_KIND, lambda rel: bool(_ENTRY.match(rel.as_posix())))
            removed += count
            self.left_in_place += [folder / f for f in foreign]
        return removed
