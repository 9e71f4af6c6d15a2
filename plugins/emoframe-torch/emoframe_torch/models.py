"""torch.cnn and torch.lstm behind emoframe's Model contract (sequence input)."""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
from pydantic import Field

from emoframe import ComponentError, Model, Params

from .training import label_index, pick_device


class TrainParams(Params):
    epochs: int = Field(30, ge=1, description="epochs at most")
    batch_size: int = Field(32, ge=2, description="utterances per batch")
    lr: float = Field(1e-3, gt=0, description="Adam learning rate")
    weight_decay: float = Field(1e-4, ge=0, description="L2 penalty")
    patience: int = Field(6, ge=1, description="stop after this many epochs without a better validation UAR")
    val_fraction: float = Field(0.2, gt=0, lt=0.6, description="share of training speakers held out for early stopping")
    class_weight: bool = Field(True, description="weight the loss by inverse class frequency")
    max_frames: int = Field(1500, ge=8, description="frames kept per utterance (15 s at 10 ms)")
    frame_stride: int = Field(1, ge=1, le=16, description="keep every k-th frame (2: 10 ms frames become 20 ms steps)")
    dropout: float = Field(0.3, ge=0, lt=1, description="dropout rate")
    seed: int = Field(0, description="seed of initialisation, shuffling and the validation split")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto: CUDA when present, else CPU")
    batching: Literal["random", "bucketed"] = Field(
        "random", description="random: shuffled batches; bucketed: batches of similar length (less padding)"
    )


class _TorchSequenceModel(Model):
    accepts = frozenset({"sequence"})

    def build(self, in_dim: int, n_classes: int) -> Any:
        raise NotImplementedError

    def _check(self, X: Any) -> list[np.ndarray]:
        if isinstance(X, np.ndarray) and X.ndim == 3:
            X = list(X)
        if not isinstance(X, list) or not X:
            raise ComponentError(f"{self.name}: expects a non-empty list of (frames × dims) arrays")
        out = [np.asarray(s, dtype=np.float32) for s in X]
        dims = {s.shape[1] if s.ndim == 2 else -1 for s in out}
        if len(dims) != 1 or -1 in dims or any(len(s) == 0 for s in out):
            raise ComponentError(
                f"{self.name}: every sequence must be (frames ≥ 1 × same dims), got dims {sorted(dims)}"
            )
        if hasattr(self, "mean_") and dims != {self.mean_.shape[-1]}:
            raise ComponentError(f"{self.name}: fitted on {self.mean_.shape[-1]} dims, got {dims.pop()}")
        if not all(np.all(np.isfinite(s)) for s in out):
            raise ComponentError(f"{self.name}: input has NaN or inf values")
        return out

    def fit(self, X: Any, y: Any, groups: Any = None) -> _TorchSequenceModel:
        from .training import train

        X = self._check(X)
        y = np.asarray(y)
        if len(y) != len(X):
            raise ComponentError(f"{self.name}: {len(X)} utterances but {len(y)} labels")
        self.classes_, yi = label_index(y, self.name)
        self.mean_, self.std_ = self._statistics(X)
        self.std_[self.std_ < 1e-8] = 1.0
        import torch

        torch.manual_seed(self.params.seed)
        module = self.build(self.mean_.shape[-1], len(self.classes_))
        self.module_, self.training_ = train(
            module,
            self._standardise(X),
            yi,
            None if groups is None else np.asarray(groups),
            self._loop_params(),
            self.progress,
        )
        return self

    def training_curve(self) -> dict[str, Any] | None:
        """The epoch early stopping kept and each epoch's training loss and validation UAR."""
        info = getattr(self, "training_", None)
        if not info:
            return None
        epochs = [
            {"epoch": int(h["epoch"]), "train_loss": float(h["loss"]), "val_uar": float(h["val_uar"])}
            for h in info["history"]
        ]
        return {"best_epoch": int(info["best_epoch"]), "epochs": epochs}

    def _statistics(self, X: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Standardisation: mean and standard deviation of each dimension over all training frames."""
        frames = np.vstack(X)
        return frames.mean(0), frames.std(0)

    def _loop_params(self) -> Any:
        """What the shared training loop (and prediction) reads: these params."""
        return self.params

    def _standardise(self, X: list[np.ndarray]) -> list[np.ndarray]:
        k = self.params.frame_stride
        return [((s[::k] - self.mean_) / self.std_).astype(np.float32) for s in X]

    def state(self) -> dict[str, Any]:
        """Classes, standardisation and the network's weights (tensors, saved as safetensors)."""
        out = {k: v for k, v in super().state().items() if k != "module_"}
        if hasattr(self, "module_"):
            out["weights"] = {k: v.detach().cpu() for k, v in self.module_.state_dict().items()}
        return out

    def restore(self, state: Any) -> None:
        import torch

        state = dict(state)
        weights = state.pop("weights", None)
        super().restore(state)
        if weights is not None:
            module = self.build(self.mean_.shape[-1], len(self.classes_))
            module.load_state_dict({k: torch.as_tensor(v) for k, v in weights.items()})
            self.module_ = module.to(pick_device(self.params.device)).eval()

    def onnx_feeds(self, X: Any) -> dict[str, np.ndarray]:
        """``x``: (batch × frames × dims) float32, every k-th frame (frame_stride) up to max_frames,
        zero-padded; ``mask``: (batch × frames) bool, True on real frames. Standardisation is in the graph."""
        k, T = self.params.frame_stride, self.params.max_frames
        seqs = [np.asarray(s, dtype=np.float32)[::k][:T] for s in self._check(X)]
        x = np.zeros((len(seqs), max(len(s) for s in seqs), seqs[0].shape[1]), dtype=np.float32)
        mask = np.zeros(x.shape[:2], dtype=bool)
        for i, s in enumerate(seqs):
            x[i, : len(s)], mask[i, : len(s)] = s, True
        return {"x": x, "mask": mask}

    def _example(self) -> list[np.ndarray]:
        """Two inputs of different lengths to trace the export with."""
        return [np.zeros((12, len(self.mean_)), np.float32), np.ones((9, len(self.mean_)), np.float32)]

    def onnx_graph(self) -> bytes:
        """Standardisation, the network and the softmax, traced with torch.onnx (dynamic batch and frames)."""
        if not hasattr(self, "module_"):
            raise ComponentError(f"{self.name}: export called before fit")
        import io

        import torch

        from .networks import Standardised

        device = next(self.module_.parameters()).device
        wrapped = Standardised(self.module_, self.mean_, self.std_).cpu().eval()
        feeds = self.onnx_feeds(self._example())
        buf = io.BytesIO()
        axes = {"x": {0: "batch", 1: "frames"}, "mask": {0: "batch", 1: "frames"}, "probabilities": {0: "batch"}}
        with torch.no_grad(), warnings.catch_warnings():
            # the TorchScript exporter (dynamic shapes, no onnxscript needed) warns that it is legacy; its
            # LSTM trace note concerns batches padded beyond their longest row, which onnx_feeds never makes
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapped,
                (torch.from_numpy(feeds["x"]), torch.from_numpy(feeds["mask"])),
                buf,  # type: ignore[arg-type]  # export writes to a file object too (torch.onnx.export's docs)
                input_names=["x", "mask"],
                output_names=["probabilities"],
                dynamic_axes=axes,
                dynamo=False,
                opset_version=17,
            )
        self.module_.to(device)
        return buf.getvalue()

    def predict_proba(self, X: Any) -> np.ndarray:
        from .training import predict

        if not hasattr(self, "module_"):
            raise ComponentError(f"{self.name}: predict_proba called before fit")
        return predict(self.module_, self._standardise(self._check(X)), self._loop_params())


class CNN(_TorchSequenceModel):
    """Temporal CNN over sequence features: dilated 1-D convolutions (or 2-D for spectrograms), mean+max pooling."""

    name = "torch.cnn"
    version = "1"

    class Params(TrainParams):
        dims: Literal["1d", "2d"] = Field("1d", description="1d: convolve over time; 2d: over time × bands")
        channels: int = Field(64, ge=4, description="convolution channels")
        layers: int = Field(3, ge=1, le=8, description="convolution blocks")
        kernel: int = Field(5, ge=1, description="kernel size (odd)")

    def build(self, in_dim: int, n_classes: int) -> Any:
        from .networks import SpectrogramCNN, TemporalCNN

        p = self.params
        cls = TemporalCNN if p.dims == "1d" else SpectrogramCNN
        return cls(in_dim, n_classes, p.channels, p.layers, p.kernel, p.dropout)


class LSTM(_TorchSequenceModel):
    """Bidirectional LSTM over unpadded sequences with attention pooling over real frames."""

    name = "torch.lstm"
    version = "1"

    class Params(TrainParams):
        hidden: int = Field(64, ge=4, description="LSTM units per direction")
        layers: int = Field(1, ge=1, le=4, description="stacked LSTM layers")

    def build(self, in_dim: int, n_classes: int) -> Any:
        from .networks import BiLSTMAttention

        p = self.params
        return BiLSTMAttention(in_dim, n_classes, p.hidden, p.layers, p.dropout)


class WeightedLayers(_TorchSequenceModel):
    """Learns a softmax-weighted sum of a speech encoder's layers, then classifies it with an MLP (SUPERB, EmoBox).

    Takes 'layers' input: one (layers × dims) matrix per utterance, e.g. transformers.audio_encoder with
    layers: all. The learned weights (they sum to 1) are reported after fit: which layers carry emotion.
    """

    name = "torch.weighted_layers"
    version = "1"
    accepts = frozenset({"layers"})

    class Params(Params):
        hidden: int = Field(128, ge=4, description="units of the MLP's hidden layer")
        epochs: int = Field(30, ge=1, description="epochs at most")
        batch_size: int = Field(32, ge=2, description="utterances per batch")
        lr: float = Field(1e-3, gt=0, description="Adam learning rate")
        weight_decay: float = Field(1e-4, ge=0, description="L2 penalty")
        patience: int = Field(6, ge=1, description="stop after this many epochs without a better validation UAR")
        val_fraction: float = Field(
            0.2, gt=0, lt=0.6, description="share of training speakers held out for early stopping"
        )
        class_weight: bool = Field(True, description="weight the loss by inverse class frequency")
        dropout: float = Field(0.3, ge=0, lt=1, description="dropout rate")
        seed: int = Field(0, description="seed of initialisation, shuffling and the validation split")
        device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto: CUDA when present, else CPU")

    def _loop_params(self) -> Any:
        """The shared training loop's parameters: layers are never cut, strided or bucketed."""
        from types import SimpleNamespace

        return SimpleNamespace(**self.params.model_dump(), max_frames=1 << 30, frame_stride=1, batching="random")

    def _check(self, X: Any) -> list[np.ndarray]:
        out = super()._check(X)
        shapes = {s.shape for s in out}
        if len(shapes) != 1:
            raise ComponentError(
                f"{self.name}: every utterance must have the same (layers × dims); got {sorted(shapes)[:3]}"
            )
        if hasattr(self, "mean_") and shapes != {self.mean_.shape}:
            raise ComponentError(f"{self.name}: fitted on {self.mean_.shape} (layers × dims), got {shapes.pop()}")
        return out

    def build(self, in_dim: int, n_classes: int) -> Any:
        from .networks import WeightedLayerHead

        n_layers = self.mean_.shape[0]
        return WeightedLayerHead(n_layers, in_dim, n_classes, self.params.hidden, self.params.dropout)

    def fit(self, X: Any, y: Any, groups: Any = None) -> WeightedLayers:
        super().fit(X, y, groups)
        self.layer_weights_ = self.module_.weights().detach().cpu().numpy().astype(np.float64)
        return self

    def _statistics(self, X: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Per layer and dimension, over the training utterances."""
        stack = np.stack(X)  # utterances × layers × dims
        return stack.mean(0), stack.std(0)

    def _standardise(self, X: list[np.ndarray]) -> list[np.ndarray]:
        return [((s - self.mean_) / self.std_).astype(np.float32) for s in X]

    def report(self) -> dict[str, Any]:
        """The learned layer weights (index 0 = the encoder's front end), summing to 1."""
        if not hasattr(self, "layer_weights_"):
            return {}
        return {"layer_weights": [round(float(w), 4) for w in self.layer_weights_]}

    def _example(self) -> list[np.ndarray]:
        return [np.zeros(self.mean_.shape, np.float32), np.ones(self.mean_.shape, np.float32)]

    def onnx_feeds(self, X: Any) -> dict[str, np.ndarray]:
        """``x``: (batch × layers × dims) float32; ``mask``: (batch × layers) bool, all True."""
        x = np.stack(self._check(X)).astype(np.float32)
        return {"x": x, "mask": np.ones(x.shape[:2], dtype=bool)}
