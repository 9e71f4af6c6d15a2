"""The built-in synthetic demo corpus as a corpus component (generated on first use)."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field

from ...components import Corpus, Params
from ...workdir import workdir
from ..manifest import Manifest, load_manifest
from ..synth import generate


class DemoCorpus(Corpus):
    """Synthetic demo corpus: source-filter voices, 4 classes, templated transcripts. Not real speech.

    Generated offline and deterministically on first use under ``<workdir>/corpora/``
    (or ``root``): same seed, same bytes.
    """

    name = "demo"
    version = "1"

    class Params(Params):
        root: str = Field("", description="where to keep it; default <workdir>/corpora/demo-...")
        seed: int = Field(0, description="generator seed")
        speakers: int = Field(12, ge=2, le=200, description="number of synthetic speakers")
        per_class: int = Field(10, ge=1, le=500, description="utterances per speaker and class")

    def folder(self) -> Path:
        p = self.params
        return Path(p.root) if p.root else workdir() / "corpora" / f"demo-s{p.seed}-{p.speakers}x{p.per_class}"

    def load(self) -> Manifest:
        folder = self.folder()
        if not (folder / "manifest.csv").is_file():
            generate(folder, seed=self.params.seed, speakers=self.params.speakers, per_class=self.params.per_class)
        manifest = load_manifest(folder / "manifest.csv")
        manifest.name = "demo"
        return manifest
