"""What emoframe created, and so may delete: a marker file in every folder it owns.

emoframe never deletes a path a user typed. It deletes a folder's content only when the
folder carries the marker ``.emoframe-owned`` written when emoframe created it, of the
expected kind, and then only the files the marker (or the owner's own naming rule) says
emoframe wrote — and, where it recorded their sha256, only while their content still is what
emoframe wrote: a marker copied beside a user's own ``manifest.csv`` licenses nothing. Anything
else found there is left in place and reported. No ``rmtree``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from .errors import EmoframeError

MARKER = ".emoframe-owned"


class OwnershipError(EmoframeError):
    """emoframe was asked to replace or delete something it did not create."""


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes: what a marker records, so that ownership follows content, not names."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def mark(folder: str | Path, kind: str, files: Iterable[str] | None = None, **info: Any) -> None:
    """Declare ``folder`` as created by emoframe for ``kind`` (atomic write; deterministic content).

    ``files`` (relative paths of what emoframe wrote there) are recorded with the sha256 of their
    content, so that only files still holding that content are ever replaced or deleted.
    """
    folder = Path(folder)
    if files is not None:
        info["files"] = {rel: file_sha256(folder / rel) for rel in sorted(files)}
    body = json.dumps({"owner": "emoframe", "kind": kind, **info}, sort_keys=True, indent=0)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-marker-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(body)
        os.replace(tmp, folder / MARKER)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def marker(folder: str | Path) -> dict[str, Any] | None:
    """The marker of a real (not symlinked) folder, or None when emoframe did not create it."""
    folder = Path(folder)
    path = folder / MARKER
    try:
        if folder.is_symlink() or not folder.is_dir() or path.is_symlink() or not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("owner") == "emoframe" else None


def owns(folder: str | Path, kind: str) -> bool:
    m = marker(folder)
    return m is not None and m.get("kind") == kind


def is_empty_dir(folder: str | Path) -> bool:
    folder = Path(folder)
    return folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir())


def remove_files(folder: str | Path, kind: str, belongs: Callable[[Path], bool]) -> tuple[int, list[Path]]:
    """Delete the files under an emoframe-owned ``folder`` for which ``belongs(relative path)`` holds.

    Refuses (OwnershipError) unless the folder carries a marker of ``kind``. Symlinks are never
    followed or deleted. Folders left empty are removed, the marker last, and ``folder`` itself
    only when nothing else is left. Returns (files removed, foreign paths left in place).
    """
    folder = Path(folder)
    if not owns(folder, kind):
        raise OwnershipError(
            f"refusing to delete anything in {folder}: emoframe did not create it (no {MARKER} marker of kind '{kind}')"
        )
    removed, foreign = 0, []
    for dirpath, dirnames, filenames in os.walk(folder, topdown=False, followlinks=False):
        here = Path(dirpath)
        for name in filenames:
            path = here / name
            rel = path.relative_to(folder)
            if rel.as_posix() == MARKER:
                continue
            if not path.is_symlink() and belongs(rel):
                path.unlink()
                removed += 1
            else:
                foreign.append(rel)
        for name in dirnames:
            sub = here / name
            if sub.is_symlink():
                foreign.append(sub.relative_to(folder))
                continue
            try:
                sub.rmdir()  # only succeeds when empty
            except OSError:
                pass
    if not foreign:
        (folder / MARKER).unlink(missing_ok=True)
        try:
            folder.rmdir()
        except OSError:
            pass
    return removed, foreign


def recorded(m: Mapping[str, Any] | None) -> dict[str, str | None]:
    """The files a marker says emoframe wrote: relative path → sha256, or None where the marker
    (written by an emoframe from before content digests) lists the name only."""
    files = (m or {}).get("files")
    if isinstance(files, Mapping):
        return {str(k): str(v) if isinstance(v, str) else None for k, v in files.items()}
    if isinstance(files, list):
        return dict.fromkeys((str(f) for f in files), None)
    return {}


def _why_foreign(folder: Path, rel: str, files: Mapping[str, str | None]) -> str | None:
    """Why the file at ``rel`` is not emoframe's to replace, or None when it is (listed, same content)."""
    path = folder / rel
    if path.is_symlink() or rel not in files:
        return rel
    want = files[rel]
    if want is None:
        return f"{rel} (listed by an older emoframe without its digest: cannot tell it is unchanged)"
    try:
        same = file_sha256(path) == want
    except OSError:
        return f"{rel} (unreadable)"
    return None if same else f"{rel} (changed since emoframe wrote it)"


def foreign_files(folder: str | Path, files: Mapping[str, str | None]) -> list[str]:
    """Every file (or symlink) under ``folder`` but the marker that is not one of ``files`` with the
    content recorded for it, each with why; sorted."""
    folder = Path(folder)
    out = []
    for p in sorted(folder.rglob("*")):
        if p.is_dir() and not p.is_symlink():
            continue
        rel = p.relative_to(folder).as_posix()
        if rel == MARKER:
            continue
        why = _why_foreign(folder, rel, files)
        if why is not None:
            out.append(why)
    return out


def shown(names: list[str], limit: int = 5) -> str:
    """The first ``limit`` names, and how many more: an error message stays readable."""
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def still_as_written(folder: str | Path, files: Mapping[str, str | None]) -> Callable[[Path], bool]:
    """A ``belongs`` test for :func:`remove_files` in ``folder``: a file listed in ``files`` whose content
    still has the recorded sha256 (checked as it is about to be deleted), or a temp file."""
    folder = Path(folder)
    return lambda rel: rel.name.startswith(".tmp-") or _why_foreign(folder, rel.as_posix(), files) is None


def replace_owned(tmp: str | Path, out: str | Path, kind: str, files: Mapping[str, str | None]) -> None:
    """Put the finished folder ``tmp`` (made beside ``out``) at ``out``.

    An existing ``out`` must be empty, or a folder emoframe made for ``kind`` that holds only
    ``files`` (relative path → the sha256 emoframe wrote) and its marker, each with that content.
    It is checked before anything moves, then set aside, replaced by ``tmp`` and deleted: an
    interruption leaves the old folder or the new one, and a file someone added to the old folder,
    or one whose content changed, stops the replacement with its name.
    """
    tmp, out = Path(tmp), Path(out)
    if out.is_dir() and not out.is_symlink() and not any(out.iterdir()):
        out.rmdir()
    if out.exists() or out.is_symlink():
        if not owns(out, kind):
            raise OwnershipError(
                f"refusing to replace {out}: emoframe did not create it (no {MARKER} of kind '{kind}')"
            )
        foreign = foreign_files(out, files)
        if foreign:
            raise OwnershipError(
                f"refusing to replace {out}: it holds file(s) emoframe did not write there ({shown(foreign)}); "
                "move them out, or write to another folder"
            )
        aside = Path(tempfile.mkdtemp(prefix=f".tmp-old-{out.name}-", dir=out.parent))
        aside.rmdir()
        os.replace(out, aside)
        os.replace(tmp, out)
        remove_files(aside, kind, still_as_written(aside, files))
        return
    os.replace(tmp, out)
