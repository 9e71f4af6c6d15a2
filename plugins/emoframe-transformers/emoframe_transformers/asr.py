"""Speech recognition with Whisper through transformers: local weights, long recordings decoded long-form."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field

from emoframe import ComponentError, Transcriber, Transcription

from .audio import EncoderParams
from .loading import LocalModel


class WhisperTranscriber(LocalModel, Transcriber):
    """Whisper speech recognition (transformers): text, language and segment timestamps; long recordings long-form.

    ``model`` is a hub id in the local Hugging Face cache (e.g. openai/whisper-small) or a folder
    with the model, its tokenizer and feature extractor; nothing is downloaded unless
    ``allow_download``. Decoding is greedy (``num_beams: 1``) and deterministic by default.
    """

    name = "transformers.whisper"
    version = "1"
    runtime_params = ("batch_size", "device", "allow_download")

    class Params(EncoderParams):
        model: str = Field(
            "openai/whisper-small", description="hub id (from the local Hugging Face cache) or a local Whisper folder"
        )
        language: str | None = Field(None, description="language code (e.g. en, de); null: detected per recording")
        task: Literal["transcribe", "translate"] = Field(
            "transcribe", description="transcribe, or translate to English"
        )
        timestamps: bool = Field(True, description="segment timestamps (start, end, text)")
        chunk_seconds: float = Field(
            30.0, gt=1, le=30, description="recordings up to this long are decoded in batches; longer ones long-form"
        )
        batch_size: int = Field(8, ge=1, le=256, description="recordings (up to chunk_seconds) per forward pass")
        num_beams: int = Field(1, ge=1, le=16, description="beam width (1: greedy)")
        max_new_tokens: int = Field(440, ge=1, le=444, description="tokens generated per chunk at most")
        half: bool = Field(False, description="float16 on CUDA (ignored on the CPU)")

    def _load(self) -> dict[str, Any]:
        if getattr(self, "_loaded", None) is None:
            import torch
            from transformers import AutoProcessor, WhisperForConditionalGeneration

            from emoframe_torch.training import pick_device

            from .loading import quiet

            quiet()
            folder = self.folder()
            try:
                processor = AutoProcessor.from_pretrained(folder, local_files_only=True, trust_remote_code=False)
                model = WhisperForConditionalGeneration.from_pretrained(
                    folder, local_files_only=True, trust_remote_code=False
                )
            except Exception as exc:  # noqa: BLE001 — OSError, ValueError...
                raise ComponentError(
                    f"{self.name}: cannot load Whisper from '{self.params.model}': {type(exc).__name__}: "
                    f"{str(exc).splitlines()[0][:200]}; the folder needs the model, tokenizer and feature extractor"
                ) from None
            device = pick_device(self.params.device)
            dtype = torch.float16 if self.params.half and device.type == "cuda" else torch.float32
            languages = {
                v: k.strip("<|>") for k, v in (getattr(model.generation_config, "lang_to_id", {}) or {}).items()
            }
            self._loaded = {
                "processor": processor,
                "model": model.to(device=device, dtype=dtype).eval(),  # type: ignore[call-arg]  # transformers' stub of to()
                "device": device,
                "dtype": dtype,
                "languages": languages,
            }
        return self._loaded

    def warmup(self) -> None:
        self._load()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_loaded", None)
        return state

    def transcribe(self, signal: np.ndarray) -> Transcription:
        return self.transcribe_batch([signal])[0]

    def transcribe_batch(self, signals: Any) -> list[Transcription]:
        """Up to 30 s: batched short-form decoding. Longer: Whisper's own sequential long-form decoding
        (30 s windows that move on by the last predicted timestamp), one recording at a time."""
        import warnings

        waves = [np.asarray(s, dtype=np.float32).reshape(-1) for s in signals]
        out: list[Transcription | None] = [None] * len(waves)
        limit = int(self.params.chunk_seconds * 16000)
        short = [i for i, w in enumerate(waves) if len(w) <= limit]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # transformers' notes on generation settings, not news to a user
            for b in range(0, len(short), self.params.batch_size):
                idx = short[b : b + self.params.batch_size]
                for i, t in zip(idx, self._short([waves[i] for i in idx])):
                    out[i] = t
            for i, w in enumerate(waves):
                if out[i] is None:
                    out[i] = self._long(w)
        return [t for t in out if t is not None]

    def _generate_kwargs(self) -> dict[str, Any]:
        p = self.params
        kw: dict[str, Any] = {"task": p.task, "num_beams": p.num_beams, "max_new_tokens": p.max_new_tokens}
        if p.language:
            kw["language"] = p.language
        return kw

    def _short(self, waves: list[np.ndarray]) -> list[Transcription]:
        import torch

        m = self._load()
        proc, model = m["processor"], m["model"]
        inp = proc(waves, sampling_rate=16000, return_tensors="pt", return_attention_mask=True)
        feats = inp.input_features.to(device=m["device"], dtype=m["dtype"])
        with torch.inference_mode():
            if self.params.language:
                languages = [self.params.language] * len(waves)
            else:  # what generate detects on its own, asked once more so that it can be reported
                languages = [m["languages"].get(int(t)) for t in model.detect_language(feats)]
            seqs = model.generate(
                feats,
                attention_mask=inp.attention_mask.to(m["device"]),
                return_timestamps=self.params.timestamps,
                **self._generate_kwargs(),
            )
        result = []
        for seq, language in zip(seqs.cpu(), languages):
            text = proc.tokenizer.decode(seq, skip_special_tokens=True).strip()
            segments: tuple[tuple[float, float, str], ...] = ()
            if self.params.timestamps:
                offsets = proc.tokenizer.decode(seq, output_offsets=True, skip_special_tokens=True).get("offsets", [])
                segments = tuple(
                    (float(o["timestamp"][0]), float(o["timestamp"][1]), o["text"])
                    for o in offsets
                    if o.get("timestamp")
                )
            result.append(Transcription(text, language, segments))
        return result

    def _long(self, wave: np.ndarray) -> Transcription:
        import torch

        m = self._load()
        proc, model = m["processor"], m["model"]
        inp = proc(
            [wave],
            sampling_rate=16000,
            return_tensors="pt",
            truncation=False,
            padding="longest",
            return_attention_mask=True,
        )
        feats = inp.input_features.to(device=m["device"], dtype=m["dtype"])
        with torch.inference_mode():
            language = self.params.language
            if language is None:  # long-form decoding needs one language: detected on the first 30 s
                found = model.detect_language(feats[:, :, :3000])
                language = m["languages"].get(int(found[0]))
            kwargs = self._generate_kwargs()
            if language:
                kwargs["language"] = language
            out = model.generate(
                feats,
                attention_mask=inp.attention_mask.to(m["device"]),
                return_timestamps=True,
                return_segments=True,
                **kwargs,
            )
        text = proc.tokenizer.decode(out["sequences"][0].cpu(), skip_special_tokens=True).strip()
        segments = tuple(
            (
                float(seg["start"]),
                float(seg["end"]),
                proc.tokenizer.decode(seg["tokens"].cpu(), skip_special_tokens=True).strip(),
            )
            for seg in out["segments"][0]
        )
        return Transcription(text, language, segments if self.params.timestamps else ())
