"""A trained pipeline as a folder: ``bundle.json`` (what it is, how good, trained on what) plus one
folder of safe-format state per fitted component. Writing is atomic; loading runs no code from it.

    bundle/
      bundle.json                 format, spec, classes, components (+ versions), training, evaluation
      branches/audio/model/       state.json, arrays.safetensors, *.skops
      branches/text/extractor/
      fusion/
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import __version__
from ..components import Component
from ..errors import BundleError, EmoframeError
from ..ownership import MARKER, OwnershipError, mark, owns, replace_owned
from ..pipeline import FoldWork, Pipeline
from ..registry import Registry, get_registry
from ..spec import PipelineSpec, branch_modality, validate
from .state import load_state, save_state

FORMAT = 1
META = "bundle.json"
KIND = "bundle"


def components(pipeline: Pipeline) -> Iterator[tuple[str, Component]]:
    """(role, component) of every component of a fitted pipeline; the role is also its folder."""
    for key, branch in sorted(pipeline.branches.items()):
        if branch.extractor is not None:
            yield f"branches/{key}/extractor", branch.extractor
        if branch.model is not None:
            yield f"branches/{key}/model", branch.model
    if pipeline.fusion is not None:
        yield "fusion", pipeline.fusion
    if pipeline.model is not None:
        yield "model", pipeline.model


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def needs(spec: PipelineSpec) -> dict[str, bool]:
    """Which inputs a pipeline reads: audio, transcripts, or both."""
    mods = {branch_modality(k, b.modality) or "text" for k, b in spec.branches.items()}
    return {"audio": "audio" in mods, "text": "text" in mods}


def spec_transcriber(pipeline: Pipeline, registry: Registry) -> dict[str, Any] | None:
    """The transcriber a pipeline with text branches was trained with (its spec's data.transcriber), as
    bundle.json lists components; None without one."""
    ref = pipeline.spec.data.transcriber
    if ref is None or not needs(pipeline.spec)["text"]:
        return None
    info = registry.get(ref.name, kind="transcriber")
    return {
        "kind": "transcriber",
        "name": ref.name,
        "version": str(info.version),
        "params": info.cls.Params.model_validate(ref.params).model_dump(mode="json"),
        "distribution": info.distribution,
        "distribution_version": info.distribution_version,
    }


def write_bundle(
    pipeline: Pipeline,
    out: str | Path,
    training: dict[str, Any],
    evaluation: dict[str, Any] | None = None,
    registry: Registry | None = None,
    force: bool = False,
) -> Path:
    """Save a fitted pipeline to ``out`` (atomically: a temporary folder renamed at the end).

    ``out`` must not exist, be an empty folder, or (with ``force``) be a bundle emoframe wrote;
    a bundle is replaced file by file, and nothing else in that folder is touched.
    """
    if not hasattr(pipeline, "classes_"):
        raise BundleError("the pipeline is not fitted; fit it (or `emoframe train`) before saving")
    registry = registry or pipeline.registry
    out = Path(out)
    if out.exists() and not (out.is_dir() and not any(out.iterdir())):
        if not (force and owns(out, KIND)):
            raise BundleError(
                f"{out} exists and is not empty; choose a new folder"
                + (" (or pass --force to replace the bundle emoframe wrote there)" if owns(out, KIND) else "")
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-bundle-", dir=out.parent))
    try:
        entries, files = [], {}
        for role, comp in components(pipeline):
            info = registry.get(comp.name, kind=comp.kind)
            written = save_state(comp.state(), tmp / role)
            for name in written:
                files[f"{role}/{name}"] = _sha256(tmp / role / name)
            entries.append(
                {
                    "role": role,
                    "kind": comp.kind,
                    "name": comp.name,
                    "version": str(type(comp).version),
                    "params": comp.params.model_dump(mode="json"),
                    "distribution": info.distribution,
                    "distribution_version": info.distribution_version,
                }
            )
        transcriber = spec_transcriber(pipeline, registry)
        meta: dict[str, Any] = {
            "format": FORMAT,
            "emoframe": __version__,
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "pipeline": pipeline.spec.display_name,
            "spec": pipeline.spec.to_dict(),
            "classes": [str(c) for c in pipeline.classes_],
            "needs": needs(pipeline.spec),
            "components": entries,
            "plugins": {
                e["distribution"]: e["distribution_version"]
                for e in [*entries, *([transcriber] if transcriber else [])]
            },
            "training": training,
            "evaluation": evaluation,
            "files": files,
        }
        if transcriber is not None:  # predict transcribes recordings that come without a transcript
            meta["transcriber"] = transcriber
        (tmp / META).write_text(json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8")
        mark(tmp, KIND, pipeline=pipeline.spec.display_name)
        replace_owned(tmp, out, KIND, [META, *_listed_files(out)])
    except OwnershipError as exc:
        _discard(tmp)
        raise BundleError(str(exc)) from None
    except OSError as exc:
        _discard(tmp)
        raise BundleError(f"could not write the bundle to {out}: {exc}") from None
    except BaseException:
        _discard(tmp)
        raise
    return out


def _listed_files(folder: Path) -> list[str]:
    """The files an existing bundle's bundle.json lists (none when there is no readable one)."""
    try:
        return list(json.loads((folder / META).read_text(encoding="utf-8")).get("files", {}))
    except (OSError, ValueError, AttributeError):
        return []


def _discard(tmp: Path) -> None:
    """Remove the temporary folder this module created (mkdtemp), after a failed write."""
    if tmp.exists():
        for dirpath, _dirs, names in os.walk(tmp, topdown=False):
            for n in names:
                Path(dirpath, n).unlink(missing_ok=True)
            Path(dirpath).rmdir()


def read_meta(path: str | Path) -> dict[str, Any]:
    """``bundle.json`` of a bundle folder, checked for format; the files are not read."""
    path = Path(path)
    meta_path = path / META
    if not meta_path.is_file():
        raise BundleError(f"{path}: not an emoframe bundle (no {META}); `emoframe train` writes one")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BundleError(f"{meta_path}: not readable JSON ({exc})") from None
    fmt = meta.get("format") if isinstance(meta, dict) else None
    if not isinstance(fmt, int):
        raise BundleError(f"{meta_path}: no bundle format number; not written by emoframe")
    if fmt > FORMAT:
        raise BundleError(
            f"{path}: bundle format {fmt} was written by a newer emoframe ({meta.get('emoframe', '?')}); "
            f"this emoframe {__version__} reads format {FORMAT} at most: upgrade emoframe (pip install -U emoframe)"
        )
    return meta


def check_files(path: Path, meta: dict[str, Any]) -> None:
    """Every file present is one emoframe listed, unchanged; every listed file is present."""
    listed_files: dict[str, str] = meta.get("files", {})
    for dirpath, _dirs, names in os.walk(path):
        for n in names:
            rel = Path(dirpath, n).relative_to(path).as_posix()
            if rel in (META, MARKER):
                continue
            if rel not in listed_files:
                raise BundleError(
                    f"{path / rel}: a file emoframe did not write into this bundle; refusing to load the bundle "
                    "(remove the file if you put it there)"
                )
    for rel, digest in listed_files.items():
        f = path / rel
        if not f.is_file() or f.is_symlink():
            raise BundleError(f"{f}: missing from the bundle; copy the whole folder, or train again")
        if _sha256(f) != digest:
            raise BundleError(f"{f}: changed since emoframe wrote it (checksum differs); the bundle is damaged")


def check_compatible(meta: dict[str, Any], registry: Registry) -> None:
    """Every component the bundle needs is installed, at the version it was trained with."""
    problems = []
    for e in [*meta.get("components", []), *([meta["transcriber"]] if meta.get("transcriber") else [])]:
        dist = e.get("distribution", "?")
        want = f"{dist}=={e['distribution_version']}" if e.get("distribution_version") else dist
        try:
            info = registry.get(e["name"], kind=e["kind"])
        except EmoframeError:
            problems.append(f"{e['kind']} '{e['name']}' is not installed; it comes from {dist}: pip install {want}")
            continue
        if info.version != str(e["version"]):
            problems.append(
                f"{e['kind']} '{e['name']}' is version {info.version} here ({info.distribution} "
                f"{info.distribution_version}) but the bundle was trained with version {e['version']} "
                f"({dist} {e.get('distribution_version', '')}): pip install {want}, or train the bundle again"
            )
    if problems:
        raise BundleError("cannot load this bundle:\n  " + "\n  ".join(problems))


def read_bundle(path: str | Path, registry: Registry | None = None) -> tuple[Pipeline, dict[str, Any]]:
    """The fitted pipeline a bundle holds, and its metadata. Reads JSON, safetensors and skops only."""
    registry = registry or get_registry()
    path = Path(path)
    meta = read_meta(path)
    check_files(path, meta)
    check_compatible(meta, registry)
    try:
        spec = PipelineSpec.model_validate(meta["spec"])
    except Exception as exc:  # noqa: BLE001 - pydantic's error, reworded
        raise BundleError(f"{path / META}: its spec is not a valid pipeline spec ({exc})") from None
    validate(spec, registry)
    pipeline = Pipeline(spec, registry)
    restored = {e["role"]: e for e in meta["components"]}
    slots: dict[str, tuple[Any, str]] = {}
    for key, branch in pipeline.branches.items():
        if branch.extractor is not None:
            slots[f"branches/{key}/extractor"] = (branch, "extractor")
        if branch.model_ref is not None:
            slots[f"branches/{key}/model"] = (branch, "model")
    if pipeline.fusion is not None:
        slots["fusion"] = (pipeline, "fusion")
    if pipeline.early:
        slots["model"] = (pipeline, "model")
    if set(slots) != set(restored):
        raise BundleError(f"{path / META}: its components ({sorted(restored)}) do not match its spec ({sorted(slots)})")
    for role, (owner, attr) in slots.items():
        e = restored[role]
        comp = registry.create(e["name"], e["params"], kind=e["kind"])
        comp.restore(load_state(path / role, type(comp).trusted_types, owner=e["name"]))
        setattr(owner, attr, comp)
    import numpy as np

    pipeline.classes_ = np.asarray(meta["classes"], dtype=object)
    pipeline.work = FoldWork()
    return pipeline, meta
