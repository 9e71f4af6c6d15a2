"""A trained pipeline as a folder: ``bundle.json`` (what it is, how good, trained on what) plus one
folder of safe-format state per fitted component. Writing is atomic; loading runs no code from it.

    bundle/
      bundle.json                 format, spec, classes, components (+ versions, code digests), training, evaluation
      bundle.sha256               the sha256 of every other file, then of its own lines
      branches/audio/model/       state.json, arrays.safetensors, *.skops
      branches/text/extractor/
      fusion/

Loading checks every file against ``bundle.sha256`` (bundle.json and the ownership marker included:
an edited class name or hyperparameter is refused with the file named), and each component's code
against the digest recorded when it was trained (:func:`code_changes`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..code_digest import code_digest
from ..errors import BundleError, EmoframeError
from ..ownership import MARKER, OwnershipError, file_sha256, mark, owns, replace_owned
from ..pipeline import FoldWork, Pipeline
from ..plugin.components import Component
from ..plugin.registry import Registry, get_registry
from ..spec import PipelineSpec, branch_modality, validate
from .state import load_state, save_state

FORMAT = 2  # 2: bundle.sha256 covers every file, components record their code digest
META = "bundle.json"
SUMS = "bundle.sha256"
KIND = "bundle"
_SUMS_HEAD = "# emoframe bundle: sha256 of every file in this folder but this one\n"
_SUMS_TAIL = "# sha256 of the lines above: "
_SUMS_LINE = re.compile(r"^([0-9a-f]{64})  ([^\n]+)$")
_SUMS_LIMIT = 1 << 20


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


_sha256 = file_sha256


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
        "code": code_digest(info.cls),
    }


def write_bundle(
    pipeline: Pipeline,
    out: str | Path,
    training: dict[str, Any],
    evaluation: dict[str, Any] | None = None,
    registry: Registry | None = None,
    force: bool = False,
    widths: dict[str, int] | None = None,
) -> Path:
    """Save a fitted pipeline to ``out`` (atomically: a temporary folder renamed at the end).

    ``out`` must not exist, be an empty folder, or (with ``force``) be a bundle emoframe wrote;
    a bundle is replaced file by file, and nothing else in that folder is touched. ``widths``:
    branch key → the feature width its stateless extractor gave in training (:func:`feature_widths`),
    so that predicting with an extractor whose output changed names the extractor.
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
        entries = []
        for role, comp in components(pipeline):
            info = registry.get(comp.name, kind=comp.kind)
            save_state(comp.state(), tmp / role)
            entry = {
                "role": role,
                "kind": comp.kind,
                "name": comp.name,
                "version": str(type(comp).version),
                "params": comp.params.model_dump(mode="json"),
                "distribution": info.distribution,
                "distribution_version": info.distribution_version,
                "code": code_digest(type(comp)),
            }
            key = role.split("/")[1] if role.startswith("branches/") and role.endswith("/extractor") else None
            if key is not None and widths and key in widths:
                entry["width"] = int(widths[key])
            entries.append(entry)
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
        }
        meta.update(optional_entries(pipeline, transcriber))
        (tmp / META).write_text(json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8")
        mark(tmp, KIND, pipeline=pipeline.spec.display_name)
        write_sums(tmp)
        replace_owned(tmp, out, KIND, _written(out))
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


def _written(folder: Path) -> dict[str, str | None]:
    """The files of an existing bundle with the sha256 emoframe wrote, to replace only those (--force).
    A bundle from before bundle.sha256 has digests for its state files but not for bundle.json."""
    if not folder.is_dir():
        return {}
    try:
        sums = read_sums(folder)
        return {**sums, SUMS: _sha256(folder / SUMS)}
    except BundleError:
        pass
    try:
        listed = json.loads((folder / META).read_text(encoding="utf-8")).get("files", {})
        return {**{str(k): str(v) for k, v in listed.items()}, META: None}
    except (OSError, ValueError, AttributeError):
        return {}


def write_sums(folder: Path) -> None:
    """Write ``bundle.sha256``: the sha256 of every file under ``folder`` (but itself), then of those lines."""
    lines = []
    for dirpath, _dirs, names in os.walk(folder):
        for n in names:
            rel = Path(dirpath, n).relative_to(folder).as_posix()
            if rel != SUMS:
                lines.append(f"{_sha256(folder / rel)}  {rel}\n")
    body = _SUMS_HEAD + "".join(sorted(lines, key=lambda line: line[66:]))
    tail = _SUMS_TAIL + hashlib.sha256(body.encode("utf-8")).hexdigest() + "\n"
    (folder / SUMS).write_text(body + tail, encoding="utf-8")


def read_sums(folder: Path) -> dict[str, str]:
    """relative path → sha256 from ``bundle.sha256``, after checking the file's own digest of its lines."""
    path = folder / SUMS
    damaged = f"{path}: changed since emoframe wrote it (its own checksum differs); the bundle is damaged"
    try:
        if path.is_symlink() or not path.is_file():
            raise BundleError(f"{path}: missing; every file of a bundle is checked against it — train it again")
        if path.stat().st_size > _SUMS_LIMIT:
            raise BundleError(damaged)
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        raise BundleError(damaged) from None
    body, _, tail = text.rpartition(_SUMS_TAIL)
    if not body.startswith(_SUMS_HEAD) or tail != hashlib.sha256(body.encode("utf-8")).hexdigest() + "\n":
        raise BundleError(damaged)
    out: dict[str, str] = {}
    for line in body[len(_SUMS_HEAD) :].splitlines():
        m = _SUMS_LINE.match(line)
        rel = m.group(2) if m else ""
        if m is None or rel in out or rel == SUMS or rel.startswith("/") or ".." in rel.split("/"):
            raise BundleError(damaged)
        out[rel] = m.group(1)
    return out


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


def check_files(path: Path) -> tuple[dict[str, Any], list[str]]:
    """Every file present is one emoframe listed, unchanged; every listed file is present; then bundle.json
    (its format checked). Returns it, and what a bundle from before bundle.sha256 (format 1) leaves unchecked."""
    sums = path / SUMS
    if sums.exists() or sums.is_symlink():
        try:
            listed = read_sums(path)
        except BundleError:
            read_meta(path)  # a bundle of a newer format says so, rather than "damaged"
            raise
        _verify(path, listed, {SUMS})
        return read_meta(path), []
    meta = read_meta(path)
    if meta.get("format") != 1:
        raise BundleError(f"{sums}: missing; every file of a bundle is checked against it (train it again)")
    listed = meta.get("files", {})
    _verify(path, listed if isinstance(listed, dict) else {}, {META, MARKER})
    return meta, [
        f"{path} was written by an older emoframe (bundle format 1): its {META} is not covered by a checksum "
        "and it records no code digests; train it again to have both checked"
    ]


def _verify(path: Path, listed: dict[str, str], unlisted: set[str]) -> None:
    """Each file (or link) under ``path`` is in ``listed`` (or ``unlisted``) and has its recorded sha256."""
    for dirpath, dirs, names in os.walk(path):
        for n in [*names, *(d for d in dirs if Path(dirpath, d).is_symlink())]:
            rel = Path(dirpath, n).relative_to(path).as_posix()
            if rel not in listed and rel not in unlisted:
                raise BundleError(
                    f"{path / rel}: a file emoframe did not write into this bundle; refusing to load the bundle "
                    "(remove the file if you put it there)"
                )
    for rel, digest in listed.items():
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
            note = registry.filter_note()  # installed but left out by EMOFRAME_PLUGINS: say so, not "pip install"
            problems.append(
                f"{e['kind']} '{e['name']}' is not loaded: {note}"
                if note
                else f"{e['kind']} '{e['name']}' is not installed; it comes from {dist}: pip install {want}"
            )
            continue
        if info.version != str(e["version"]):
            problems.append(
                f"{e['kind']} '{e['name']}' is version {info.version} here ({info.distribution} "
                f"{info.distribution_version}) but the bundle was trained with version {e['version']} "
                f"({dist} {e.get('distribution_version', '')}): pip install {want}, or train the bundle again"
            )
    if problems:
        raise BundleError("cannot load this bundle:\n  " + "\n  ".join(problems))


def code_changes(meta: dict[str, Any], registry: Registry) -> list[str]:
    """One line per component whose installed code differs from the code the bundle was trained with
    (same version: a plugin edited without bumping it), by name; the versions are checked before."""
    out = []
    for e in [*meta.get("components", []), *([meta["transcriber"]] if meta.get("transcriber") else [])]:
        recorded = e.get("code")
        if not isinstance(recorded, str):
            continue  # format 1 records none: check_files says so once
        try:
            here = code_digest(registry.get(e["name"], kind=e["kind"]).cls)
        except EmoframeError:
            continue  # not installed: check_compatible refuses first
        if here != recorded:
            out.append(
                f"{e['kind']} '{e['name']}': its code here differs from the code this bundle was trained with "
                f"(version {e['version']} unchanged, so someone edited it without bumping the version); "
                "predictions may differ from the bundle's evaluation: train the bundle again, or install "
                "the code it was trained with"
            )
    return out


@dataclass
class LoadedBundle:
    """A bundle's fitted pipeline, its metadata (bundle.json) and what the user should know about it."""

    pipeline: Pipeline
    meta: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def open_bundle(path: str | Path, registry: Registry | None = None, strict: bool = False) -> LoadedBundle:
    """Load a bundle; components whose code changed since training are warnings, refused with ``strict``
    (as is a format-1 bundle, whose code cannot be checked)."""
    registry = registry or get_registry()
    path = Path(path)
    meta, notes = check_files(path)
    check_compatible(meta, registry)
    notes += code_changes(meta, registry)
    if strict and notes:
        raise BundleError(f"{path}: refusing to load (strict):\n  " + "\n  ".join(notes))
    pipeline = _restore(path, meta, registry)
    return LoadedBundle(pipeline, meta, notes)


def read_bundle(
    path: str | Path, registry: Registry | None = None, strict: bool = False
) -> tuple[Pipeline, dict[str, Any]]:
    """The fitted pipeline a bundle holds, and its metadata. Reads JSON, safetensors and skops only.
    What :func:`open_bundle` would warn about is issued as a Python warning."""
    loaded = open_bundle(path, registry, strict)
    for note in loaded.warnings:
        warnings.warn(note, BundleWarning, stacklevel=2)
    return loaded.pipeline, loaded.meta


class BundleWarning(UserWarning):
    """A bundle loads, but not everything about it could be checked or matched (e.g. changed code)."""


def _restore(path: Path, meta: dict[str, Any], registry: Registry) -> Pipeline:
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
    pipeline.classes_ = np.asarray(meta["classes"], dtype=object)
    reference = meta.get("explain") or {}
    if "prior" in reference:
        pipeline.prior_ = np.asarray(reference["prior"], dtype=np.float64)
    if "block_means" in reference:
        pipeline.block_means_ = {k: np.asarray(v, dtype=np.float64) for k, v in reference["block_means"].items()}
    pipeline.work = FoldWork()
    return pipeline


def optional_entries(pipeline: Pipeline, transcriber: dict[str, Any] | None) -> dict[str, Any]:
    """bundle.json's entries that not every bundle has: the transcriber (predict transcribes recordings that
    come without a transcript) and the explanation reference (``predict --explain``)."""
    out: dict[str, Any] = {"transcriber": transcriber} if transcriber is not None else {}
    if hasattr(pipeline, "prior_"):
        out["explain"] = explain_reference(pipeline)
    return out


def explain_reference(pipeline: Pipeline) -> dict[str, Any]:
    """What stands in for a missing modality when `predict --explain` attributes a decision: the training rows'
    class prior and (early fusion) each block's mean. bundle.json's ``explain`` entry, absent from bundles
    written before explanations (their `predict --explain` says so)."""
    out: dict[str, Any] = {}
    if hasattr(pipeline, "prior_"):
        out["prior"] = [float(v) for v in pipeline.prior_]
    if hasattr(pipeline, "block_means_"):
        out["block_means"] = {k: [float(x) for x in v] for k, v in pipeline.block_means_.items()}
    return out


def feature_widths(pipeline: Pipeline, manifest: Any, provider: Any) -> dict[str, int]:
    """branch key → how many features its stateless extractor gives per sample (per frame for sequences),
    measured on the first row of ``manifest``: recorded at training, compared when predicting."""
    out: dict[str, int] = {}
    if not len(manifest):
        return out
    first = manifest.subset(np.arange(len(manifest)) == 0)
    for key, branch in sorted(pipeline.branches.items()):
        ref = branch.stateless_ref
        if ref is None:
            continue
        (value,) = provider.get(ref, first.with_asr_text() if branch.transcripts == "asr" else first)
        out[key] = int(np.asarray(value).shape[-1]) if np.asarray(value).ndim else 1
    return out
