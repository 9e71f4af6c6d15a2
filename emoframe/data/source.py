"""Turn a spec's ``data`` block into a validated manifest."""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from ..plugin.registry import Registry
from ..spec import DataSpec, PipelineSpec, branch_modality
from .manifest import Manifest, load_manifest, shown_examples


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


def check_audio_rows(pipelines: list[PipelineSpec], manifest: Manifest) -> None:
    """Refuse an audio branch over rows that have no audio: a text-only corpus (or a manifest with
    empty ``audio`` cells) can only feed text branches. A listed file that is missing or damaged is
    different: that row is left out of audio branches and reported, the run goes on."""
    silent = manifest.frame["id"][manifest.frame["audio"] == ""]
    if not len(silent):
        return
    audio = sorted(
        {f"{p.display_name}: branch '{k}'" for p in pipelines for k, b in p.branches.items()
         if branch_modality(k, b.modality) == "audio"}
    )  # fmt: skip
    if audio:
        examples = ", ".join(map(str, silent[:3])) + (", ..." if len(silent) > 3 else "")
        raise DataError(
            f"{manifest.name}: {len(silent)} of {len(manifest)} rows have no audio ({examples}), but "
            f"{len(audio)} audio branch(es) would read them ({'; '.join(audio[:3])}); use text branches "
            "only with this corpus, or give those rows an audio file"
        )


def transcript_warnings(pipelines: list[PipelineSpec], manifest: Manifest) -> list[str]:
    """The empty-transcript warning, only where it matters: a text branch of one of ``pipelines`` reads
    the manifest's own transcripts (not ASR ones) and some are empty. Audio branches never read them."""
    if manifest.text_source != "gold":
        return []
    readers = sorted(
        {f"{p.display_name}: branch '{k}'" for p in pipelines for k, b in p.branches.items()
         if branch_modality(k, b.modality) == "text" and p.transcripts_of(k) == "gold"}
    )  # fmt: skip
    empty = manifest.empty_transcripts if readers else []
    if not empty:
        return []
    return [
        f"{manifest.name}: {len(empty)} of {len(manifest)} utterance(s) have an empty transcript "
        f"({shown_examples(empty, 3)}); {len(readers)} text branch(es) read them as empty strings "
        f"({'; '.join(readers[:3])}{'; …' if len(readers) > 3 else ''})"
    ]
