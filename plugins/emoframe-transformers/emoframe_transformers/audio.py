"""Pretrained speech encoders (wav2vec2, HuBERT, WavLM, data2vec-audio, Whisper's encoder) as feature extractors."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from emoframe import ComponentError, FeatureExtractor, Params

from .loading import LocalModel

HOP = 320  # samples per encoder frame at 16 kHz (20 ms) for every family here
#: model types whose results do not change when a batch pads them (with an attention mask)
PADS_EXACTLY = frozenset({"wav2vec2", "hubert", "wavlm", "wav2vec2-conformer", "unispeech", "unispeech-sat", "sew"})
Layers = Literal["last", "all"] | int | list[int]


class EncoderParams(Params):
    """Which pretrained encoder and how it is loaded (shared by the extractor and the fine-tuner)."""

    model: str = Field(
        "microsoft/wavlm-base-plus",
        description="hub id (loaded from the local Hugging Face cache) or a local folder with config.json, "
        "preprocessor_config.json and the weights",
    )
    revision: str | None = Field(None, description="hub revision (branch, tag or commit) of a hub id")
    allow_download: bool = Field(
        False, description="fetch a hub id that is not on this machine (default: offline, fail with how to get it)"
    )
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto: CUDA when present")


class AudioEncoder(LocalModel, FeatureExtractor):
    """Hidden states of a pretrained speech encoder (wav2vec2, HuBERT, WavLM, data2vec-audio, Whisper), pooled.

    ``layers`` picks hidden states (0 = the convolutional front end's output, as in SUPERB; "all" =
    every one); several layers are stacked into a (layers × dims) matrix for a model that learns
    their weights (``torch.weighted_layers``), averaged, or concatenated. Long recordings run in
    overlapping chunks whose frames are stitched, never truncated.
    """

    name = "transformers.audio_encoder"
    version = "1"
    modality = "audio"
    output = "vector"
    #: one process holds the model (and the GPU) and uses every core as torch threads
    max_workers = 1
    runtime_params = ("batch_size", "device", "allow_download")

    class Params(EncoderParams):
        layers: Layers = Field(
            "last", description="hidden state(s): 'last', 'all', an index (0 = front end, -1 = last) or a list"
        )
        combine: Literal["stack", "mean", "concat"] = Field(
            "stack",
            description="several layers: stack → (layers × dims) for a layer-weighting model; mean or concat → one",
        )
        pooling: Literal["mean", "mean+std", "none"] = Field(
            "mean", description="over frames: mean, mean and standard deviation, or none (a sequence)"
        )
        chunk_seconds: float = Field(
            20.0, ge=1, le=600, description="longest piece given to the encoder at once (Whisper: at most 30)"
        )
        overlap_seconds: float = Field(1.0, ge=0, description="overlap between chunks; half of it is kept from each")
        batch_size: int | None = Field(
            None,
            ge=1,
            le=512,
            description="recordings (or chunks) per forward pass; null: 8 on CUDA, 1 on the CPU (where padded "
            "batches measured slower: docs/performance.md)",
        )
        half: bool = Field(False, description="float16 on CUDA (ignored on the CPU)")

        @model_validator(mode="after")
        def _consistent(self) -> Any:
            if self.overlap_seconds * 2 >= self.chunk_seconds:
                raise ValueError("overlap_seconds must be less than half of chunk_seconds")
            if isinstance(self.layers, list) and (not self.layers or len(set(self.layers)) != len(self.layers)):
                raise ValueError("layers: give distinct indices (or 'all')")
            several = self.layers == "all" or (isinstance(self.layers, list) and len(self.layers) > 1)
            if several and self.combine == "stack" and self.pooling == "none":
                raise ValueError(
                    "stacked layers need pooling (mean or mean+std); with pooling: none use combine: mean or concat"
                )
            return self

    @classmethod
    def output_for(cls, params: Any) -> str:  # type: ignore[override]
        several = params.layers == "all" or (isinstance(params.layers, list) and len(params.layers) > 1)
        if several and params.combine == "stack":
            return "layers"
        return "sequence" if params.pooling == "none" else "vector"

    # -- loading (folder() and identity(): LocalModel) ---------------------------------------
    def _load(self) -> dict[str, Any]:
        if getattr(self, "_loaded", None) is None:
            self._loaded = load_encoder(self.folder(), self.params.device, self.params.half, self.name)
        return self._loaded

    def warmup(self) -> None:
        self._load()

    def batch_size(self) -> int:
        """``params.batch_size``, or by device: 8 on CUDA, 1 on the CPU."""
        if self.params.batch_size is not None:
            return int(self.params.batch_size)
        from emoframe_torch.training import pick_device

        return 8 if pick_device(self.params.device).type == "cuda" else 1

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_loaded", None)
        return state

    # -- extraction -----------------------------------------------------------------------
    def extract(self, x: Any) -> np.ndarray:
        return self.extract_batch([x])[0]

    def extract_batch(self, xs: Any) -> list[np.ndarray]:
        self._load()
        signals = [np.asarray(x, dtype=np.float32).reshape(-1) for x in xs]
        for i, s in enumerate(signals):
            if len(s) < 400:
                raise ComponentError(
                    f"{self.name}: recording {i} is {len(s) / 16000:.3f} s long; the encoder needs at least 25 ms"
                )
        states = self.hidden_states(signals)
        return [self._pool(s) for s in states]

    def hidden_states(self, signals: list[np.ndarray]) -> list[np.ndarray]:
        """Each signal's selected hidden states, (selected layers × frames × dims), long ones chunked and stitched."""
        m = self._load()
        p = self.params
        chunk = int(min(p.chunk_seconds, 30.0 if m["whisper"] else p.chunk_seconds) * 16000) // HOP * HOP
        overlap = int(p.overlap_seconds * 16000) // HOP * HOP
        pieces: list[tuple[int, int]] = []  # (signal, start sample)
        for i, s in enumerate(signals):
            start = 0
            while True:
                pieces.append((i, start))
                if start + chunk >= len(s):
                    break
                # the next chunk starts an overlap before this one ends; the last one ends at the signal's
                # end (a full chunk of context, never a sliver too short for the encoder)
                start = start + chunk - overlap
                if start + chunk > len(s):
                    start = max(pieces[-1][1] + HOP, (len(s) - chunk) // HOP * HOP)
        layers = self._layer_index(m["n_layers"])
        outs: dict[tuple[int, int], np.ndarray] = {}
        # similar lengths share a batch; equal lengths only where padding would change the result
        order = sorted(range(len(pieces)), key=lambda k: min(chunk, len(signals[pieces[k][0]]) - pieces[k][1]))
        batch: list[int] = []

        def flush() -> None:
            waves = [signals[pieces[k][0]][pieces[k][1] : pieces[k][1] + chunk] for k in batch]
            for k, h in zip(batch, forward(m, waves, layers)):
                outs[pieces[k]] = h
            batch.clear()

        for k in order:
            length = min(chunk, len(signals[pieces[k][0]]) - pieces[k][1])
            if batch and (
                len(batch) >= self.batch_size()
                or (not m["pads"] and length != min(chunk, len(signals[pieces[batch[0]][0]]) - pieces[batch[0]][1]))
            ):
                flush()
            batch.append(k)
        if batch:
            flush()
        keep = overlap // HOP // 2
        result = []
        for i in range(len(signals)):
            starts = [st for (j, st) in pieces if j == i]
            parts = []
            for n, st in enumerate(starts):
                h = outs[(i, st)]
                g = st // HOP  # global frame of this chunk's first frame
                lo = 0 if n == 0 else g + keep
                hi = starts[n + 1] // HOP + keep if n + 1 < len(starts) else g + h.shape[1]
                parts.append(h[:, lo - g : max(lo - g, hi - g)])
            result.append(np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0])
        return result

    def _layer_index(self, n_layers: int) -> list[int]:
        """Indices into the hidden states (0 … n_layers) for ``params.layers``, checked against the model."""
        choice = self.params.layers
        if choice == "last":
            return [n_layers]
        if choice == "all":
            return list(range(n_layers + 1))
        wanted = [choice] if isinstance(choice, int) else list(choice)
        out = []
        for w in wanted:
            idx = w if w >= 0 else n_layers + 1 + w
            if not 0 <= idx <= n_layers:
                raise ComponentError(
                    f"{self.name}: layer {w} does not exist; {self.params.model} has hidden states 0…{n_layers} "
                    f"(0 = front end, {n_layers} = last; negative indices count from the end)"
                )
            out.append(idx)
        return out

    def _pool(self, h: np.ndarray) -> np.ndarray:
        """(layers × frames × dims) → the declared output."""
        p = self.params
        if h.shape[0] > 1 and p.combine == "mean":
            h = h.mean(0, keepdims=True)
        elif h.shape[0] > 1 and p.combine == "concat":
            h = np.concatenate(list(h), axis=-1)[None]
        if p.pooling == "none":
            return h[0].astype(np.float32)
        pooled = h.mean(1) if p.pooling == "mean" else np.concatenate([h.mean(1), h.std(1)], axis=-1)
        return (pooled if self.output == "layers" else pooled[0]).astype(np.float32)


def open_audio_model(
    folder: str, auto_class: Any, device_choice: str, half: bool, who: str, **kwargs: Any
) -> tuple[Any, Any, dict[str, Any]]:
    """Config, model (``auto_class``) and how to feed it, from ``folder``, offline, on the chosen device.

    Padding changes nothing only where the front end normalises per frame and the positional convolution
    is one layer (``pads``): group-normalised front ends (wav2vec2-base and kin) normalise over the whole
    padded input and data2vec-audio's stacked convolutions carry padding into real frames, so there only
    recordings of equal length may share a batch. Whisper pads every input to 30 s anyway.
    """
    import torch
    from transformers import AutoConfig, AutoFeatureExtractor

    from emoframe_torch.training import pick_device

    from .loading import quiet

    quiet()
    try:
        config = AutoConfig.from_pretrained(folder, local_files_only=True, trust_remote_code=False)
        fe = AutoFeatureExtractor.from_pretrained(folder, local_files_only=True, trust_remote_code=False)
        model = auto_class.from_pretrained(folder, local_files_only=True, trust_remote_code=False, **kwargs)
    except Exception as exc:  # noqa: BLE001 — OSError, ValueError for an unknown model type...
        raise ComponentError(
            f"{who}: cannot load the audio model in '{folder}': {type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200]}; the folder needs config.json, preprocessor_config.json and the weights"
        ) from None
    whisper = config.model_type == "whisper"
    device = pick_device(device_choice)
    dtype = torch.float16 if half and device.type == "cuda" else torch.float32
    feed = {
        "fe": fe,
        "device": device,
        "dtype": dtype,
        "whisper": whisper,
        "pads": whisper
        or (config.model_type in PADS_EXACTLY and getattr(config, "feat_extract_norm", "group") == "layer"),
    }
    return config, model.to(device=device, dtype=dtype), feed


@contextmanager
def padding_mask_note_silenced() -> Iterator[None]:
    """WavLM hands torch's attention an int padding mask beside a float bias: a deprecation note, no error."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Support for mismatched key_padding_mask")
        yield


def load_encoder(folder: str, device_choice: str, half: bool, who: str) -> dict[str, Any]:
    """The feature extractor and encoder of ``folder`` on the chosen device, in eval mode, offline."""
    from transformers import AutoModel

    config, model, feed = open_audio_model(folder, AutoModel, device_choice, half, who)
    if feed["whisper"]:
        model = model.get_encoder()
    elif not hasattr(model, "_get_feat_extract_output_lengths"):
        raise ComponentError(
            f"{who}: '{config.model_type}' is not a speech encoder this extractor knows "
            "(wav2vec2, hubert, wavlm, data2vec-audio, whisper and their kin)"
        )
    n_layers = int(getattr(config, "encoder_layers", None) or config.num_hidden_layers)
    return {**feed, "model": model.eval(), "n_layers": n_layers}


def forward(m: dict[str, Any], waves: list[np.ndarray], layers: list[int]) -> list[np.ndarray]:
    """One forward pass: each wave's ``layers`` hidden states over its own frames, (layers × frames × dims)."""
    import torch

    fe, model, device, dtype = m["fe"], m["model"], m["device"], m["dtype"]
    with torch.inference_mode(), padding_mask_note_silenced():
        if m["whisper"]:
            feats = fe(waves, sampling_rate=16000, return_tensors="pt").input_features
            out = model(feats.to(device=device, dtype=dtype), output_hidden_states=True)
            total = out.hidden_states[0].shape[1]
            frames = [min(total, max(1, math.ceil(len(w) / HOP))) for w in waves]
        else:
            kwargs, lengths = model_inputs(m, waves)
            out = model(**kwargs, output_hidden_states=True)
            frames = [int(n) for n in model._get_feat_extract_output_lengths(torch.tensor(lengths))]
        stacked = torch.stack([out.hidden_states[i] for i in layers], dim=1)  # batch × layers × frames × dims
        host = stacked.float().cpu().numpy()
    return [host[i, :, : frames[i]] for i in range(len(waves))]


def model_inputs(m: dict[str, Any], waves: list[np.ndarray]) -> tuple[dict[str, Any], list[int]]:
    """A padded batch for a wav2vec2-family model: the feature extractor's normalisation per recording
    (never over padding), zero padding, and an attention mask where the model pads exactly; with the
    input lengths in samples."""
    import torch

    values = [np.asarray(m["fe"](w, sampling_rate=16000).input_values[0], dtype=np.float32) for w in waves]
    T = max(len(v) for v in values)
    x = np.zeros((len(values), T), dtype=np.float32)
    mask = np.zeros((len(values), T), dtype=np.int64)
    for i, v in enumerate(values):
        x[i, : len(v)], mask[i, : len(v)] = v, 1
    kwargs: dict[str, Any] = {"input_values": torch.from_numpy(x).to(device=m["device"], dtype=m["dtype"])}
    if m["pads"]:
        kwargs["attention_mask"] = torch.from_numpy(mask).to(m["device"])
    return kwargs, [len(v) for v in values]
