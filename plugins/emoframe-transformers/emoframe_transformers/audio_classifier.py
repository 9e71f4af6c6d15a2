"""Fine-tuning a pretrained speech encoder end to end (AutoModelForAudioClassification): the audio twin of
transformers.classifier."""

from __future__ import annotations

import copy
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from emoframe import ComponentError, Model, inner_split
from emoframe_torch.training import label_index, loss_weights

from .audio import EncoderParams, model_inputs, open_audio_model, padding_mask_note_silenced
from .loading import LocalModel


class AudioClassifier(LocalModel, Model):
    """Fine-tunes a pretrained speech encoder (wav2vec2, HuBERT, WavLM, data2vec-audio, Whisper) on the waveforms.

    A classification head on the pooled encoder states, trained with class-weighted cross-entropy;
    early stopping on held-out *training speakers*; the convolutional front end frozen by default.
    Takes raw audio: use it in an audio branch without extractor. Recordings longer than
    ``max_seconds`` are cropped (seeded) in training and scored as the average over their pieces.
    """

    name = "transformers.audio_classifier"
    version = "1"
    accepts = frozenset({"raw"})
    modality = "audio"

    class Params(EncoderParams):
        epochs: int = Field(10, ge=1, description="epochs at most")
        patience: int = Field(3, ge=1, description="stop after this many epochs without a better validation UAR")
        lr: float = Field(3e-5, gt=0, description="AdamW learning rate")
        weight_decay: float = Field(0.01, ge=0, description="AdamW weight decay")
        batch_size: int = Field(8, ge=1, description="recordings per batch")
        max_seconds: float = Field(8.0, ge=0.5, le=60, description="longest piece of a recording given at once")
        freeze_feature_encoder: bool = Field(True, description="keep the convolutional front end's weights fixed")
        val_fraction: float = Field(0.2, gt=0, lt=0.6, description="training speakers held out for early stopping")
        class_weight: bool = Field(True, description="weight the loss by inverse class frequency")
        seed: int = Field(0, description="seed of the head, cropping, shuffling and the validation split")

    #: the files save_pretrained writes that restore reads back; weights only as safetensors
    SAVED_FILES = re.compile(r"^(config\.json|generation_config\.json|model\.safetensors|preprocessor_config\.json)$")

    def _signals(self, X: Any) -> list[np.ndarray]:
        if isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[1] < 400:
            raise ComponentError(f"{self.name}: takes raw audio, not a feature matrix; remove the branch extractor")
        out = []
        for i, x in enumerate(X):
            if isinstance(x, str):
                raise ComponentError(f"{self.name}: takes audio, got text (row {i}); use it in an audio branch")
            s = np.asarray(x, dtype=np.float32).reshape(-1)
            if len(s) < 400:
                raise ComponentError(f"{self.name}: recording {i} is {len(s)} samples; it needs at least 25 ms")
            out.append(s)
        return out

    def _build(self, folder: str, n_labels: int) -> None:
        from transformers import AutoModelForAudioClassification

        _, self.model_, self._m = open_audio_model(
            folder,
            AutoModelForAudioClassification,
            self.params.device,
            False,
            self.name,
            num_labels=n_labels,
            ignore_mismatched_sizes=True,
        )

    def _freeze_front_end(self) -> None:
        if not self.params.freeze_feature_encoder:
            return
        if hasattr(self.model_, "freeze_feature_encoder"):
            self.model_.freeze_feature_encoder()
        else:  # Whisper: the two convolutions over the log-mel frames
            enc = self.model_.encoder
            for layer in (enc.conv1, enc.conv2):
                for w in layer.parameters():
                    w.requires_grad = False

    def _logits(self, waves: list[np.ndarray]) -> Any:
        m = self._m
        if m["whisper"]:
            feats = m["fe"](waves, sampling_rate=16000, return_tensors="pt").input_features
            return self.model_(input_features=feats.to(m["device"])).logits
        kwargs, _ = model_inputs(m, waves)
        with padding_mask_note_silenced():
            return self.model_(**kwargs).logits

    def fit(self, X: Any, y: Any, groups: Any = None) -> AudioClassifier:
        # transformers draws SpecAugment's time masks from numpy's global generator: seeded for the fit,
        # then given back as it was, so a fit is reproducible and leaves nobody else's random state changed
        state = np.random.get_state()
        np.random.seed(self.params.seed)
        try:
            return self._fit(X, y, groups)
        finally:
            np.random.set_state(state)

    def _fit(self, X: Any, y: Any, groups: Any) -> AudioClassifier:
        import torch

        from emoframe import balanced_accuracy

        signals = self._signals(X)
        y = np.asarray(y)
        if len(y) != len(signals):
            raise ComponentError(f"{self.name}: {len(signals)} recordings but {len(y)} labels")
        self.classes_, yi = label_index(y, self.name)
        p = self.params
        torch.manual_seed(p.seed)
        self._build(self.folder(), len(self.classes_))
        self._freeze_front_end()
        device = self._m["device"]
        tr, va = inner_split(yi, None if groups is None else np.asarray(groups), p.val_fraction, p.seed)
        k = len(self.classes_)
        w = loss_weights(yi[tr], k, p.class_weight)
        loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor(w, dtype=torch.float32, device=device))
        opt = torch.optim.AdamW(
            [q for q in self.model_.parameters() if q.requires_grad], lr=p.lr, weight_decay=p.weight_decay
        )
        rng = np.random.default_rng(p.seed)
        crop = int(p.max_seconds * 16000)
        best, best_score, stale = copy.deepcopy(self.model_.state_dict()), -1.0, 0
        self.history_: list[dict[str, float]] = []
        for epoch in range(1, p.epochs + 1):
            self.model_.train()
            order = rng.permutation(tr)
            for s in range(0, len(order), p.batch_size):
                idx = order[s : s + p.batch_size]
                waves = []
                for i in idx:
                    sig = signals[i]
                    start = int(rng.integers(0, len(sig) - crop + 1)) if len(sig) > crop else 0
                    waves.append(sig[start : start + crop])
                opt.zero_grad()
                loss = loss_fn(self._logits(waves), torch.from_numpy(yi[idx]).to(device))
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model_.parameters(), 5.0)
                opt.step()
            score = balanced_accuracy(yi[va], self._proba([signals[i] for i in va]).argmax(1))
            self.history_.append({"epoch": epoch, "val_uar": float(score)})
            if self.progress is not None:
                self.progress(epoch, p.epochs, f"epoch {epoch}/{p.epochs} val UAR {score:.3f}")
            if score > best_score + 1e-9:
                best, best_score, stale = copy.deepcopy(self.model_.state_dict()), score, 0
            else:
                stale += 1
                if stale >= p.patience:
                    break
        self.model_.load_state_dict(best)
        self.model_.eval()
        self.best_epoch_ = int(max(self.history_, key=lambda h: h["val_uar"])["epoch"])
        return self

    def report(self) -> dict[str, Any]:
        """The epoch early stopping kept and how many ran."""
        if not hasattr(self, "history_"):
            return {}
        return {"best_epoch": self.best_epoch_, "epochs_run": len(self.history_)}

    def _proba(self, signals: list[np.ndarray]) -> np.ndarray:
        """Probabilities per recording: the length-weighted mean over its pieces of at most max_seconds."""
        import torch

        crop = int(self.params.max_seconds * 16000)
        pieces = [(i, s[o : o + crop]) for i, s in enumerate(signals) for o in range(0, max(1, len(s)), crop)]
        pieces = [(i, w) for i, w in pieces if len(w) >= 400] or [(i, s) for i, s in enumerate(signals)]
        order = sorted(range(len(pieces)), key=lambda j: len(pieces[j][1]))
        total = np.zeros((len(signals), len(self.classes_)))
        weight = np.zeros(len(signals))
        self.model_.eval()
        with torch.inference_mode():
            for s in range(0, len(order), self.params.batch_size):
                batch = [pieces[j] for j in order[s : s + self.params.batch_size]]
                P = torch.softmax(self._logits([w for _, w in batch]).float(), -1).cpu().numpy()
                for (i, w), row in zip(batch, P):
                    total[i] += row * len(w)
                    weight[i] += len(w)
        return total / np.maximum(weight, 1)[:, None]

    def predict_proba(self, X: Any) -> np.ndarray:
        if not hasattr(self, "model_"):
            raise ComponentError(f"{self.name}: predict_proba called before fit")
        return self._proba(self._signals(X))

    def state(self) -> dict[str, Any]:
        """Classes and the fine-tuned model with its feature extractor, as save_pretrained writes them."""
        if not hasattr(self, "model_"):
            return {}
        with tempfile.TemporaryDirectory(prefix="emoframe-hf-") as tmp:
            self.model_.save_pretrained(tmp, safe_serialization=True)
            self._m["fe"].save_pretrained(tmp)
            files = {f.name: f.read_bytes() for f in sorted(Path(tmp).iterdir()) if f.is_file()}
        unknown = sorted(n for n in files if not self.SAVED_FILES.match(n))
        if unknown:
            raise ComponentError(f"{self.name}: save_pretrained wrote files this bundle cannot keep safely: {unknown}")
        return {
            "classes_": self.classes_,
            "best_epoch_": self.best_epoch_,
            "history_": [[h["epoch"], h["val_uar"]] for h in self.history_],
            "files": files,
        }

    def restore(self, state: Any) -> None:
        files: dict[str, bytes] = state["files"]
        refused = sorted(n for n in files if not self.SAVED_FILES.match(n) or "/" in n)
        if refused:
            raise ComponentError(f"{self.name}: the bundle holds files it never writes: {refused}; refusing to load")
        self.classes_ = np.asarray(state["classes_"])
        self.best_epoch_ = int(state["best_epoch_"])
        self.history_ = [{"epoch": int(e), "val_uar": float(v)} for e, v in state["history_"]]
        with tempfile.TemporaryDirectory(prefix="emoframe-hf-") as tmp:
            for name, data in files.items():
                (Path(tmp) / name).write_bytes(data)
            self._build(tmp, len(self.classes_))
        self.model_.eval()
