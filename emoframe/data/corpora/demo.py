"""The built-in synthetic demo corpus as a corpus component (generated on first use)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from ...ownership import MARKER, OwnershipError, file_sha256, is_empty_dir, mark, marker, recorded
from ...plugin.components import Corpus, Params
from ...workdir import workdir
from ..manifest import Manifest, load_manifest
from ..synth import CLASSES, GENERATOR, SYNTH_KIND, check_target, generate, readme


def _adopt_legacy(folder: Path, seed: int, speakers: int, per_class: int) -> bool:
    """A corpus folder written by an emoframe from before ownership markers: mark it as ours.

    Recognised only when it holds exactly what the generator writes for these settings
    (its README, manifest.csv and wav/*.wav, nothing else).
    """
    try:
        if marker(folder) is not None or (folder / "README.md").read_text() != readme(seed, speakers, per_class):
            return False
    except OSError:
        return False
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir())
    if "manifest.csv" not in files or any(
        f not in ("manifest.csv", "README.md") and not (f.startswith("wav/") and f.endswith(".wav")) for f in files
    ):
        return False
    mark(folder, SYNTH_KIND, files=files, seed=seed, speakers=speakers, per_class=per_class, generator=GENERATOR)
    return True


class DemoCorpus(Corpus):
    """Synthetic demo corpus: source-filter voices, 4 classes, templated transcripts. Not real speech.

    Generated offline and deterministically on first use under ``<workdir>/corpora/``
    (or ``root``): same seed, same bytes. ``root`` must be a new or empty folder, or one that
    emoframe generated; a folder of anything else is refused, never overwritten.
    """

    name = "demo"
    version = "1"
    native_labels = {c: c for c in CLASSES}  # generated with the shared names
    language = "en"  # templated English transcripts; the voices are synthetic

    class Params(Params):
        root: str = Field(
            "",
            description="where to keep it (a new or empty folder, or one emoframe generated); "
            "default <workdir>/corpora/demo-...",
        )
        seed: int = Field(0, ge=0, le=2**32 - 1, description="generator seed")
        speakers: int = Field(12, ge=2, le=200, description="number of synthetic speakers")
        per_class: int = Field(10, ge=1, le=500, description="utterances per speaker and class")

        @model_validator(mode="after")
        def _root_is_ours(self) -> DemoCorpus.Params:
            if self.root:
                folder = Path(self.root).expanduser()
                m = marker(folder)
                if m is None and not _looks_like_legacy(folder, self.seed, self.speakers, self.per_class):
                    try:
                        check_target(folder)
                    except OwnershipError as exc:
                        raise ValueError(f"{exc} (root)") from None
                elif m is not None and m.get("kind") != SYNTH_KIND:
                    raise ValueError(
                        f"{folder} belongs to emoframe's {m.get('kind')}, not to a demo corpus; "
                        "choose a new or empty folder"
                    )
            return self

    def folder(self) -> Path:
        p = self.params
        return (
            Path(p.root).expanduser()
            if p.root
            else (self.workdir or workdir()) / "corpora" / f"demo-s{p.seed}-{p.speakers}x{p.per_class}"
        )

    def load(self) -> Manifest:
        p = self.params
        folder = self.folder()
        m = marker(folder)
        current = (
            m is not None
            and m.get("kind") == SYNTH_KIND
            and all(
                m.get(k) == v
                for k, v in (
                    ("seed", p.seed),
                    ("speakers", p.speakers),
                    ("per_class", p.per_class),
                    ("generator", GENERATOR),
                )
            )
        )
        if not (current and _manifest_as_written(folder, m)) and not _adopt_legacy(
            folder, p.seed, p.speakers, p.per_class
        ):
            generate(folder, seed=p.seed, speakers=p.speakers, per_class=p.per_class)
        manifest = load_manifest(folder / "manifest.csv")
        manifest.name = "demo"
        return manifest


def _manifest_as_written(folder: Path, m: dict | None) -> bool:
    """The folder's manifest.csv is there and, where the marker recorded its sha256, still that content:
    a marker copied beside a user's manifest.csv does not make it the demo corpus (generating then refuses
    and names the file)."""
    path = folder / "manifest.csv"
    if not path.is_file():
        return False
    want = recorded(m).get("manifest.csv")
    try:
        return want is None or file_sha256(path) == want
    except OSError:
        return False


def _looks_like_legacy(folder: Path, seed: int, speakers: int, per_class: int) -> bool:
    try:
        return (
            not is_empty_dir(folder)
            and not (folder / MARKER).exists()
            and (folder / "README.md").read_text() == readme(seed, speakers, per_class)
        )
    except OSError:
        return False
