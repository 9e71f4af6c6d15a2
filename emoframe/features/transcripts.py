"""Transcripts from speech recognition: a transcriber over a manifest's audio, cached per recording.

Text branches read ``asr_text`` instead of ``text`` when a spec asks for ASR transcripts. Each
transcription is cached like a feature (key: transcriber name, version, params, code, weights, the
audio's content and segment), so a second run transcribes nothing. A recording that cannot be read
or that makes the transcriber fail is reported by id and gets an empty transcript; the others go on.
Where the manifest has gold transcripts, the word error rate (jiwer) says how good the ASR was.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..data.audio import AudioError, checked_digest
from ..data.manifest import ASR_COLUMN, Manifest
from ..data.perturb import read_audio
from ..errors import ComponentError, EmoframeError, describe_exception
from ..plugin.components import Transcriber, Transcription
from ..plugin.contract import guard, origin
from ..workers import Done, Limits, Started, limit_threads, supervise
from .cache import ExtractorKey, FeatureCache

CACHE_PREFIX = "asr-"  # the feature cache keeps a transcriber's results in cache/asr-<name>


@dataclass
class TranscriptReport:
    """What transcribing a manifest gave: per-row text, failures, cache use and the word error rate."""

    transcriber: str
    texts: dict[str, str]
    languages: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0
    seconds: float = 0.0
    wer: float | None = None  # against the gold transcripts, over the rows that have one
    wer_rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "transcriber": self.transcriber,
            "rows": len(self.texts),
            "failed": len(self.failures),
            "failures": dict(list(self.failures.items())[:50]),
            "wer": self.wer,
            "wer_rows": self.wer_rows,
            "languages": _counts(self.languages.values()),
            "cached": self.hits,
            "transcribed": self.misses,
            "seconds": round(self.seconds, 2),
        }

    def line(self) -> str:
        wer = (
            f"word error rate {self.wer:.1%} against the gold transcripts of {self.wer_rows} row(s)"
            if self.wer is not None
            else "no gold transcripts to measure the word error rate against"
        )
        failed = f"; {len(self.failures)} recording(s) could not be transcribed (empty text)" if self.failures else ""
        return f"ASR transcripts from {self.transcriber}: {wer}{failed}"


def _counts(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        if v:
            out[v] = out.get(v, 0) + 1
    return out


def word_error_rate(references: list[str], hypotheses: list[str]) -> tuple[float | None, int]:
    """Corpus WER (jiwer: total edits / total reference words) over the pairs whose reference has words."""
    import re

    import jiwer

    pairs = [(r, h) for r, h in zip(references, hypotheses) if re.search(r"\w", r)]
    if not pairs:
        return None, 0
    transform = jiwer.Compose(
        [
            jiwer.ToLowerCase(),
            jiwer.RemovePunctuation(),
            jiwer.RemoveMultipleSpaces(),
            jiwer.Strip(),
            jiwer.ReduceToListOfListOfWords(),
        ]
    )
    refs = [r for r, _ in pairs]
    # jiwer refuses a hypothesis with no words; a lone placeholder word costs the same edits as deleting
    # every reference word (one substitution + n − 1 deletions = n)
    hyps = [h if re.search(r"\w", h) else "\u2205" for _, h in pairs]
    out = jiwer.process_words(refs, hyps, reference_transform=transform, hypothesis_transform=transform)
    return float(out.wer), len(pairs)


# -- cache ----------------------------------------------------------------------------------
def _key(transcriber: Transcriber) -> str:
    """Keyed like an extractor: name, version, params less runtime ones, sample rate, origin, code, identity."""
    return ExtractorKey.of(transcriber).digest()


def _encode(t: Transcription) -> np.ndarray:
    blob = json.dumps({"text": t.text, "language": t.language, "segments": [list(s) for s in t.segments]})
    return np.frombuffer(blob.encode("utf-8"), dtype=np.uint8)


def _decode(value: np.ndarray | None) -> Transcription | None:
    if value is None or value.dtype != np.uint8 or value.ndim != 1:
        return None
    try:
        d = json.loads(value.tobytes().decode("utf-8"))
        return Transcription(str(d["text"]), d.get("language"), tuple(tuple(s) for s in d.get("segments", [])))
    except (ValueError, KeyError, TypeError):
        return None


def _checked(transcriber: Transcriber, value: Any) -> Transcription:
    if isinstance(value, str):
        return Transcription(value)
    if isinstance(value, Transcription):
        return value
    if isinstance(value, tuple) and value and isinstance(value[0], str):
        return Transcription(*value)
    raise ComponentError(
        f"{origin(transcriber)} returned {type(value).__name__}; a transcriber returns a Transcription"
    )


# -- worker side --------------------------------------------------------------------------
_worker: dict[str, Any] = {}


def _init(transcriber: Transcriber, threads: int) -> None:
    limit_threads(threads)
    transcriber.warmup()
    _worker["t"] = transcriber


def _chunk(items: list[tuple[int, str, float | None, float | None]]) -> list[tuple[int, Transcription | None, str]]:
    return _run(_worker["t"], items)


def _run(
    transcriber: Transcriber, items: list[tuple[int, str, float | None, float | None]]
) -> list[tuple[int, Transcription | None, str]]:
    """Read and transcribe a batch; a batch that raises is retried one recording at a time."""
    out: list[tuple[int, Transcription | None, str]] = []
    ready: list[tuple[int, np.ndarray]] = []
    for row, audio, start, end in items:
        try:
            ready.append((row, read_audio(audio, transcriber.sample_rate, start, end, "")))
        except AudioError as exc:
            out.append((row, None, exc.reason))
        except OSError as exc:
            out.append((row, None, f"cannot read audio file: {exc}"))
    if len(ready) > 1:
        try:
            with guard(transcriber, "transcribe_batch"):
                values = list(transcriber.transcribe_batch([s for _, s in ready]))
            if len(values) != len(ready):
                raise ComponentError(f"{origin(transcriber)}: {len(values)} transcriptions for {len(ready)} recordings")
            return out + [(row, _checked(transcriber, v), "") for (row, _), v in zip(ready, values)]
        except Exception:  # noqa: BLE001 — one by one below: only the bad recordings fail
            pass
    for row, signal in ready:
        try:
            with guard(transcriber, "transcribe"):
                value = transcriber.transcribe(signal)
            out.append((row, _checked(transcriber, value), ""))
        except EmoframeError as exc:
            out.append((row, None, str(exc)))
        except Exception as exc:  # noqa: BLE001
            out.append((row, None, f"{origin(transcriber)} raised {describe_exception(exc)}"))
    return out


Pending = list[tuple[int, str, float | None, float | None]]  # row, audio, segment start, end: to transcribe


def _cached_transcripts(
    manifest: Manifest, cache: Any, key: str, folder: str, report: TranscriptReport
) -> tuple[dict[int, Transcription], Pending, dict[int, str]]:
    """The rows whose transcript is cached (row → it), those still to transcribe, and each readable row's
    cache key; a row without readable audio goes to ``report.failures`` with the reason."""
    frame = manifest.frame
    ids = [str(i) for i in frame["id"]]
    segments = manifest.segments()
    found: dict[int, Transcription] = {}
    todo: Pending = []
    keys: dict[int, str] = {}
    for i, audio in enumerate(frame["audio"]):
        if not audio:
            report.failures[ids[i]] = "this utterance has no audio file to transcribe"
            continue
        try:
            digest = checked_digest(audio)  # a file cut short is refused, cached transcript or not
        except AudioError as exc:
            report.failures[ids[i]] = exc.reason
            continue
        except OSError as exc:
            report.failures[ids[i]] = f"cannot read audio file: {getattr(exc, 'strerror', None) or exc}"
            continue
        start, end = segments[i]
        keys[i] = FeatureCache.key(key, digest, start, end)
        hit = _decode(cache.get(folder, keys[i])) if cache is not None else None
        if hit is not None:
            found[i] = hit
        else:
            todo.append((i, audio, start, end))
    return found, todo, keys


# -- parent side --------------------------------------------------------------------------
def transcribe_manifest(
    transcriber: Transcriber,
    manifest: Manifest,
    cache: Any = None,
    limits: Limits | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch: int = 8,
) -> TranscriptReport:
    """Transcribe every row with audio (cached per recording and segment); gold text, where present, gives the WER.

    With ``limits`` the transcriber runs in one supervised worker process (a crash or hang costs only
    the recordings it was on); without, in this process.
    """
    t0 = time.perf_counter()
    key = _key(transcriber)
    folder = CACHE_PREFIX + transcriber.name
    frame = manifest.frame
    ids = [str(i) for i in frame["id"]]
    report = TranscriptReport(transcriber.name, {})
    found, todo, keys = _cached_transcripts(manifest, cache, key, folder, report)
    report.hits = len(found)
    report.misses = len(todo)
    size = max(1, int(getattr(transcriber.params, "batch_size", batch)))
    chunks = [todo[s : s + size] for s in range(0, len(todo), size)]
    done = 0

    def take(results: list[tuple[int, Transcription | None, str]]) -> None:
        nonlocal done
        for row, t, reason in results:
            if t is None:
                report.failures[ids[row]] = reason
            else:
                found[row] = t
                if cache is not None:
                    cache.put(folder, keys[row], _encode(t))
        done += len(results)
        if progress is not None:
            progress(done, len(todo))

    if chunks and limits is None:
        transcriber.warmup()
        for c in chunks:
            take(_run(transcriber, c))
    elif chunks and limits is not None:
        threads = max(1, os.cpu_count() or 1)
        for r in supervise(_chunk, chunks, jobs=1, limits=limits, initializer=_init, initargs=(transcriber, threads)):
            if isinstance(r, Started):
                continue
            if isinstance(r, Done):
                take(r.value)
            else:
                take([(row, None, f"{transcriber.name}: {r.message}") for row, *_ in chunks[r.index]])
    for i, t in found.items():
        report.texts[ids[i]] = t.text.strip()
        if t.language:
            report.languages[ids[i]] = t.language
    heard = [(str(g), report.texts[i]) for g, i in zip(frame["text"], ids) if i in report.texts]
    report.wer, report.wer_rows = word_error_rate([g for g, _ in heard], [h for _, h in heard])
    report.seconds = time.perf_counter() - t0
    return report


def with_transcripts(manifest: Manifest, report: TranscriptReport) -> Manifest:
    """The manifest with the ASR text beside the gold text (``asr_text``; '' where it failed)."""
    frame = manifest.frame.copy()
    frame[ASR_COLUMN] = [report.texts.get(str(i), "") for i in frame["id"]]
    return Manifest(frame, manifest.name, manifest.root, manifest.warnings)


def add_transcripts(
    ref: Any,
    manifest: Manifest,
    registry: Any,
    cache: Any = None,
    limits: Limits | None = None,
    progress: Callable[[int, int], None] | None = None,
    max_failure_share: float = 1.0,
) -> tuple[Manifest, TranscriptReport, str | None]:
    """``manifest`` with ASR text from the transcriber ``ref`` names, its report, and why it failed as a whole,
    or None: the transcriber could not be created or loaded (e.g. a model not on disk), or it failed on more
    than ``max_failure_share`` of the rows (the evaluation's rule for components). A failed transcriber costs
    the pipelines that read its text, nobody else."""
    try:
        transcriber = registry.create(ref.name, ref.params, kind="transcriber")
        report = transcribe_manifest(transcriber, manifest, cache, limits, progress)
    except EmoframeError as exc:
        report = TranscriptReport(ref.name, {}, failures={str(i): str(exc) for i in manifest.ids})
        return with_transcripts(manifest, report), report, str(exc)
    share = len(report.failures) / max(1, len(manifest))
    failed = None
    if share > max_failure_share:
        failed = (
            f"{ref.name} could not transcribe {len(report.failures)} of {len(manifest)} recordings "
            f"({share:.1%}, more than evaluation.max_failure_share); e.g. {next(iter(report.failures.values()))}"
        )
    return with_transcripts(manifest, report), report, failed
