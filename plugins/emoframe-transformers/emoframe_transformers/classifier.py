"""Fine-tuning a transformer (AutoModelForSequenceClassification) on the transcripts."""

from __future__ import annotations

import copy
import re
import tempfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from emoframe import ComponentError, Model, inner_split
from emoframe import Params as BaseParams
from emoframe_torch.training import label_index, loss_weights

from .loading import load_error, resolve


class SequenceClassifier(Model):
    """Fine-tunes a pretrained transformer (e.g. roberta-base) on raw transcripts; early stopping on training speakers.

    ``model`` is a hub id (needs a network connection the first time) or a local folder
    with config, weights and tokenizer. Takes raw text: use it in a branch without extractor.
    """

    name = "transformers.classifier"
    version = "1"
    accepts = frozenset({"raw"})

    class Params(BaseParams):
        model: str = Field("roberta-base", description="hub id or local path of a pretrained model")
        epochs: int = Field(3, ge=1, description="epochs at most")
        lr: float = Field(2e-5, gt=0, description="AdamW learning rate")
        batch_size: int = Field(16, ge=1, description="transcripts per batch")
        max_length: int = Field(128, ge=8, description="tokens kept per transcript")
        weight_decay: float = Field(0.01, ge=0, description="AdamW weight decay")
        val_fraction: float = Field(0.2, gt=0, lt=0.6, description="training speakers held out for early stopping")
        class_weight: bool = Field(True, description="weight the loss by inverse class frequency")
        seed: int = Field(0, description="seed of the classification head, shuffling and the validation split")
        device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto: CUDA when present")

    def _texts(self, X: Any) -> list[str]:
        if isinstance(X, np.ndarray) and X.ndim == 2:
            raise ComponentError(
                f"{self.name}: takes raw transcripts, not a feature matrix; remove the branch extractor"
            )
        return [str(t) if str(t).strip() else "." for t in X]

    def fit(self, X: Any, y: Any, groups: Any = None) -> SequenceClassifier:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from emoframe import balanced_accuracy
        from emoframe_torch.training import pick_device

        from .loading import quiet

        quiet()
        texts = self._texts(X)
        y = np.asarray(y)
        self.classes_, yi = label_index(y, self.name)
        p = self.params
        torch.manual_seed(p.seed)
        path = resolve(p.model)
        try:
            self.tokenizer_ = AutoTokenizer.from_pretrained(path)
            model = AutoModelForSequenceClassification.from_pretrained(
                path, num_labels=len(self.classes_), ignore_mismatched_sizes=True
            )
        except Exception as exc:  # noqa: BLE001
            raise load_error(path, exc) from None
        self.device_ = pick_device(p.device)
        model.to(self.device_)
        tr, va = inner_split(yi, None if groups is None else np.asarray(groups), p.val_fraction, p.seed)
        k = len(self.classes_)
        w = loss_weights(yi[tr], k, p.class_weight)
        loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor(w, dtype=torch.float32, device=self.device_))
        opt = torch.optim.AdamW(model.parameters(), lr=p.lr, weight_decay=p.weight_decay)
        rng = np.random.default_rng(p.seed)
        best, best_score = copy.deepcopy(model.state_dict()), -1.0
        for epoch in range(1, p.epochs + 1):
            model.train()
            order = rng.permutation(tr)
            for s in range(0, len(order), p.batch_size):
                idx = order[s : s + p.batch_size]
                enc = self._encode([texts[i] for i in idx])
                opt.zero_grad()
                loss = loss_fn(model(**enc).logits, torch.from_numpy(yi[idx]).to(self.device_))
                loss.backward()
                opt.step()
            self.model_ = model
            score = balanced_accuracy(yi[va], self._proba([texts[i] for i in va]).argmax(1))
            if self.progress is not None:
                self.progress(epoch, p.epochs, f"epoch {epoch}/{p.epochs} val UAR {score:.3f}")
            if score > best_score:
                best, best_score = copy.deepcopy(model.state_dict()), score
        model.load_state_dict(best)
        self.model_ = model.eval()
        return self

    #: the files save_pretrained writes that restore reads back; weights only as safetensors
    SAVED_FILES = re.compile(
        r"^(config\.json|generation_config\.json|model\.safetensors|tokenizer\.json|"
        r"tokenizer_config\.json|special_tokens_map\.json|vocab\.(txt|json)|merges\.txt|"
        r"added_tokens\.json|spiece\.model|sentencepiece\.bpe\.model)$"
    )

    def state(self) -> dict[str, Any]:
        """Classes and the fine-tuned model and tokenizer as saved by save_pretrained (safetensors)."""
        if not hasattr(self, "model_"):
            return {}
        with tempfile.TemporaryDirectory(prefix="emoframe-hf-") as tmp:
            self.model_.save_pretrained(tmp, safe_serialization=True)
            self.tokenizer_.save_pretrained(tmp)
            files = {f.name: f.read_bytes() for f in sorted(Path(tmp).iterdir()) if f.is_file()}
        unknown = sorted(n for n in files if not self.SAVED_FILES.match(n))
        if unknown:
            raise ComponentError(f"{self.name}: save_pretrained wrote files this bundle cannot keep safely: {unknown}")
        return {"classes_": self.classes_, "files": files}

    def restore(self, state: Any) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from emoframe_torch.training import pick_device

        from .loading import quiet

        quiet()
        files: dict[str, bytes] = state["files"]
        refused = sorted(n for n in files if not self.SAVED_FILES.match(n) or "/" in n)
        if refused:
            raise ComponentError(f"{self.name}: the bundle holds files it never writes: {refused}; refusing to load")
        self.classes_ = np.asarray(state["classes_"])
        with tempfile.TemporaryDirectory(prefix="emoframe-hf-") as tmp:
            for name, data in files.items():
                (Path(tmp) / name).write_bytes(data)
            self.tokenizer_ = AutoTokenizer.from_pretrained(tmp, local_files_only=True, trust_remote_code=False)
            model = AutoModelForSequenceClassification.from_pretrained(
                tmp, local_files_only=True, trust_remote_code=False, use_safetensors=True
            )
        self.device_ = pick_device(self.params.device)
        self.model_ = model.to(self.device_).eval()

    def _encode(self, texts: list[str]) -> Any:
        return self.tokenizer_(
            texts, padding=True, truncation=True, max_length=self.params.max_length, return_tensors="pt"
        ).to(self.device_)

    def _proba(self, texts: list[str]) -> np.ndarray:
        import torch

        self.model_.eval()
        out = []
        with torch.no_grad():
            for s in range(0, len(texts), 64):
                out.append(torch.softmax(self.model_(**self._encode(texts[s : s + 64])).logits, -1).cpu().numpy())
        return np.vstack(out) if out else np.zeros((0, len(self.classes_)))

    def predict_proba(self, X: Any) -> np.ndarray:
        if not hasattr(self, "model_"):
            raise ComponentError(f"{self.name}: predict_proba called before fit")
        return self._proba(self._texts(X))
