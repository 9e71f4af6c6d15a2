"""Turn a spec's ``data`` block into a validated manifest."""

from __future__ import annotations

from pathlib import Path

from ..registry import Registry
from ..spec import DataSpec
from .manifest import Manifest, load_manifest


def load_data(
    data: DataSpec, registry: Registry, base_dir: str | Path | None = None, workdir: str | Path | None = None
) -> Manifest:
    """Load the corpus or manifest a spec names, keeping only ``classes`` when given.

    ``workdir`` is where a corpus that generates or unpacks data keeps it (the demo corpus).
    """
    if data.corpus is not None:
        corpus = registry.create(data.corpus.name, data.corpus.params, kind="corpus")
        if workdir is not None:
            corpus.workdir = Path(workdir)
        manifest = corpus.load()
    else:
        path = Path(data.manifest)  # type: ignore[arg-type]
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        manifest = load_manifest(path, require_audio=False, encoding=data.encoding)
    return manifest.keep_classes(data.classes) if data.classes else manifest
