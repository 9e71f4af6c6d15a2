"""``emoframe serve``: a bundle behind an HTTP API (FastAPI, served by uvicorn).

    POST /predict   multipart: ``audio`` (a file) and optional ``text`` → the record
                    ``emoframe predict --format json`` gives for that file
    GET  /health    {"status": "ok", ...}
    GET  /model     bundle.json without its file list: spec, classes, versions, evaluation figures

Requests over the size limit get 413 (checked on Content-Length before the body is read, and
on the parsed upload); audio that cannot be used gets 422 with the reason. Predictions in one
process run one at a time (extractors are not all thread-safe); uploads and responses overlap,
and ``--workers N`` runs N processes for throughput.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from fastapi import FastAPI, File, Form, HTTPException, UploadFile
from starlette.responses import JSONResponse

from .. import __version__
from ..data.manifest import Manifest
from ..errors import BundleError
from .inputs import AUDIO_SUFFIXES
from .predictor import Predictor

BUNDLE_ENV = "EMOFRAME_SERVE_BUNDLE"
LIMIT_ENV = "EMOFRAME_SERVE_MAX_BYTES"


class BodyLimit:
    """ASGI middleware: 413 before reading a body whose declared length is over the limit."""

    def __init__(self, app: Any, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            length = dict(scope.get("headers", [])).get(b"content-length")
            if length is not None and length.isdigit() and int(length) > self.max_bytes:
                response = JSONResponse({"detail": too_large(int(length), self.max_bytes)}, status_code=413)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def too_large(size: int, limit: int) -> str:
    return (
        f"request of {size / 1e6:.1f} MB is over this server's limit of {limit / 1e6:.1f} MB (emoframe serve --max-mb)"
    )


def create_app(model: Predictor, max_bytes: int = 20_000_000) -> Any:
    """The ASGI app serving ``model``."""
    app = FastAPI(title=f"emoframe: {model.meta['pipeline']}", version=__version__)
    lock = threading.Lock()
    about = {k: v for k, v in model.meta.items() if k != "files"}

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "pipeline": model.meta["pipeline"], "classes": model.classes}

    @app.get("/model")
    def describe() -> dict[str, Any]:
        return about

    @app.post("/predict")
    def predict(
        audio: Annotated[UploadFile | None, File()] = None,
        text: Annotated[str | None, Form()] = None,
        explain: bool = False,
    ) -> dict[str, Any]:
        if explain:  # ?explain=true: each branch's contribution to the predicted class, as `predict --explain`
            try:
                model.check_explainable()
            except BundleError as exc:
                raise HTTPException(422, str(exc)) from None
        if audio is None and model.needs_audio:
            raise HTTPException(422, "this model reads audio: send it as the multipart field 'audio'")
        if model.needs_text and not (text or "").strip():
            raise HTTPException(422, "this model reads transcripts: send the text as the multipart field 'text'")
        name = (audio.filename if audio is not None else None) or "upload"
        with tempfile.TemporaryDirectory(prefix="emoframe-serve-") as tmp:
            path = ""
            if audio is not None:
                if audio.size is not None and audio.size > max_bytes:
                    raise HTTPException(413, too_large(audio.size, max_bytes))
                suffix = Path(name).suffix.lower()
                path = os.path.join(tmp, "upload" + (suffix if suffix in AUDIO_SUFFIXES else ".audio"))
                with open(path, "wb") as f:
                    while chunk := audio.file.read(1 << 20):
                        f.write(chunk)
            row = {"id": name, "audio": path, "text": text or "", "label": "?", "speaker": name}
            manifest = Manifest(pd.DataFrame([row]), name="request")  # built here, valid by construction
            with lock:
                result = model.predict_manifest(manifest, explain=explain)
        if result.failures:
            reason = result.failures.get(name) or next(iter(result.failures.values()))
            raise HTTPException(422, reason.replace(path, name) if path else reason)
        return result.records[0]

    return BodyLimit(app, max_bytes)


def app_from_env() -> Any:
    """Factory for ``uvicorn --workers N``: each worker process loads the bundle named in the environment."""
    return create_app(Predictor.load(os.environ[BUNDLE_ENV]), int(os.environ.get(LIMIT_ENV, "20000000")))
