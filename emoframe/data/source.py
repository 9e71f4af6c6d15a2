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
    if data.label_map:
        manifest = apply_label_map(manifest, data.label_map, data.name or manifest.name)
    return manifest.keep_classes(data.classes) if data.classes else manifest


def apply_label_map(manifest: Manifest, label_map: dict[str, str | None], source: str) -> Manifest:
    """Labels renamed onto the shared set (``anger → angry``); a label mapped to None is dropped. A map entry
    for a label the corpus does not have is refused: a typo would otherwise silently keep the old label."""
    present = set(manifest.frame["label"])
    unknown = sorted(k for k in label_map if k not in present)
    if unknown:
        raise DataError(
            f"{source}: label_map names label(s) {', '.join(unknown)} the corpus does not have; its labels are "
            f"{', '.join(sorted(present))} — map those (after the loader's own map, see `emoframe corpus info`)"
        )
    frame = manifest.frame.copy()
    frame["label"] = [label_map.get(v, v) if v in label_map else v for v in frame["label"]]
    keep = frame["label"].notna() & (frame["label"] != "")
    dropped = sorted(k for k, v in label_map.items() if not v)
    out = Manifest(frame[keep].reset_index(drop=True), manifest.name, manifest.root, list(manifest.warnings))
    out.text_source = manifest.text_source
    if dropped:
        out.warnings.append(
            f"{source}: label(s) {', '.join(dropped)} dropped by its label_map ({int((~keep).sum())} rows)"
        )
    return out


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
