"""The generic corpus: any manifest file (CSV or Parquet)."""

from __future__ import annotations

from pydantic import Field

from ...errors import DataError
from ...plugin.components import BaseParams, Corpus
from ..manifest import Manifest, load_manifest


class ManifestCorpus(Corpus):
    """A manifest file with columns id, audio, text, label, speaker [, split, start, end].

    Its labels are whatever the file says (no native codes to map: give ``data.label_map`` onto the shared
    set); a ``language`` column, where present, is shown by `emoframe corpus info`.
    """

    name = "manifest"
    version = "1"

    class Params(BaseParams):
        path: str = Field("", description="CSV or Parquet manifest; audio paths relative to its folder")
        require_audio: bool = Field(False, description="refuse rows without audio (empty: a text-only row)")
        encoding: str = Field("utf-8", description="text encoding of a CSV manifest")

    def load(self) -> Manifest:
        if not self.params.path:
            raise DataError("manifest: set params.path to the manifest file")
        return load_manifest(self.params.path, require_audio=self.params.require_audio, encoding=self.params.encoding)
