"""Extraction of stateless features over a manifest: cached per sample, parallel over processes.

A sample that cannot be read or that makes the extractor raise is recorded with its reason;
every other sample is still extracted and cached.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..components import FeatureExtractor
from ..contract import check_feature, guard, origin
from ..data.audio import AudioError, load_audio
from ..data.manifest import Manifest
from ..errors import ComponentError, describe_exception
from ..workers import Done, Limits, Started, limit_threads, note, supervise
from .cache import ExtractorKey, FeatureCache, audio_digest

Progress = Callable[[int, int], None]


@dataclass
class ExtractionResult:
    """Features of the samples that worked (manifest order) and the reason for each that did not."""

    extractor: str
    ids: list[str]
    features: list[np.ndarray]
    failures: dict[str, str] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0
    seconds: float = 0.0
    corrupt: int = 0  # damaged cache entries found, recomputed and rewritten
    cache_warning: str | None = None  # why the cache could not be written (the run went on without it)

    def matrix(self) -> np.ndarray:
        """(samples × dims) for vector features."""
        return np.vstack([f.reshape(1, -1) for f in self.features]) if self.features else np.zeros((0, 0))

    def as_dict(self) -> dict[str, np.ndarray]:
        return dict(zip(self.ids, self.features))


def extract_one(
    extractor: FeatureExtractor, audio: str, text: str, start: float | None, end: float | None
) -> np.ndarray:
    """Features of one sample: loads audio (resampled, segment honoured) or takes the text."""
    if extractor.modality == "audio":
        if not audio:
            raise AudioError("<no audio>", "this utterance has no audio file (text-only corpus)")
        x: Any = load_audio(audio, extractor.sample_rate, start, end)
    else:
        x = text
    with guard(extractor, "extract"):
        value = extractor.extract(x)
    return check_feature(extractor, value)


def _failure_reason(extractor: FeatureExtractor, exc: Exception) -> str:
    if isinstance(exc, AudioError):
        return exc.reason
    if isinstance(exc, ComponentError):
        return str(exc)
    return f"{origin(extractor)} raised {describe_exception(exc)}"


# -- worker side --------------------------------------------------------------------------
_worker: dict[str, Any] = {}


def _init_worker(extractor: FeatureExtractor, cache_root: str | None, threads: int) -> None:
    """Once per worker process: thread budget, the extractor warmed up (models loaded), the cache."""
    limit_threads(threads)
    extractor.warmup()
    _worker["extractor"] = extractor
    _worker["cache"] = FeatureCache(cache_root) if cache_root else None


Task = tuple[int, str, str, "float | None", "float | None", str]  # index, audio, text, start, end, key
Outcome = tuple[int, "np.ndarray | None", "str | None"]  # index, features, failure reason


def _worker_chunk(tasks: list[Task]) -> tuple[list[Outcome], str | None]:
    cache = _worker["cache"]
    return _run_chunk(tasks, _worker["extractor"], cache), (cache.write_error if cache is not None else None)


def _run_chunk(tasks: list[Task], extractor: FeatureExtractor, cache: FeatureCache | None) -> list[Outcome]:
    out: list[Outcome] = []
    for index, audio, text, start, end, key in tasks:
        note(f"{extractor.name} extracting {audio or repr(text[:40])}")
        try:
            value = extract_one(extractor, audio, text, start, end)
        except Exception as exc:  # noqa: BLE001 — one bad sample must not stop the others
            out.append((index, None, _failure_reason(extractor, exc)))
            continue
        if cache is not None:
            cache.put(extractor.name, key, value)
        out.append((index, value, None))
    return out


def _supervised(
    extractor: FeatureExtractor,
    chunks: list[list[Task]],
    jobs: int,
    cache: FeatureCache | None,
    limits: Limits,
    values: list[Any],
    failures: dict[int, str],
    write_errors: list[str],
    report: Callable[[int | None], None],
) -> None:
    """Chunks in supervised workers. A chunk whose worker died or hung is retried one sample at a
    time, so only the samples that kill a worker are lost, each with the reason."""
    threads = max(1, (os.cpu_count() or 1) // max(1, min(jobs, len(chunks))))
    init = (extractor, str(cache.root) if cache is not None else None, threads)
    done, retry = 0, list[list[Task]]()
    for rnd in range(2):
        todo = chunks if rnd == 0 else [[t] for chunk in retry for t in chunk]
        for r in supervise(_worker_chunk, todo, jobs=jobs, limits=limits, initializer=_init_worker, initargs=init):
            if isinstance(r, Started):
                continue
            chunk = todo[r.index]
            if isinstance(r, Done):
                outcomes, write_error = r.value
                _collect(outcomes, values, failures)
                if write_error:
                    write_errors.append(write_error)
            elif rnd == 0 and len(chunk) > 1 and r.kind in ("died", "timeout"):
                retry.append(chunk)
                continue
            else:
                for t in chunk:
                    failures[t[0]] = f"{extractor.name}: {r.message}"
            done += len(chunk)
            report(done)
        if not retry:
            break


# -- parent side --------------------------------------------------------------------------
def extract_features(
    extractor: FeatureExtractor,
    manifest: Manifest,
    jobs: int | None = None,
    cache: FeatureCache | None = None,
    progress: Progress | bool = False,
    limits: Limits | None = None,
) -> ExtractionResult:
    """Extract a stateless extractor's features for every row of ``manifest``.

    Cached entries are read, the rest computed and cached: in ``jobs`` supervised worker
    processes (default: all cores) when ``limits`` is given or jobs > 1, so an extractor that
    crashes or hangs costs only the samples it was on; in this process when jobs is 1 and no
    limits are given (inside a worker already). ``progress`` is a callback ``(done, total)`` or
    True for a progress bar on the terminal.
    """
    if not extractor.stateless:
        raise ComponentError(f"{extractor.name} is fitted per fold; it is not extracted per sample")
    t0 = time.perf_counter()
    jobs = max(1, jobs or os.cpu_count() or 1)
    ekey = ExtractorKey.of(extractor)
    frame = manifest.frame
    n = len(frame)
    values: list[np.ndarray | None] = [None] * n
    failures: dict[int, str] = {}
    tasks = []
    keys: dict[int, tuple[str, str, float | None, float | None, str]] = {}
    corrupt_start = cache.corrupt if cache is not None else 0
    write_errors: list[str] = []
    for i in range(n):
        row = frame.iloc[i]
        start, end = manifest.segment(i)
        try:
            if extractor.modality == "audio":
                if not row["audio"]:
                    raise AudioError("<no audio>", "this utterance has no audio file (text-only corpus)")
                digest = audio_digest(row["audio"])
            else:
                digest = hashlib.sha256(row["text"].encode("utf-8")).hexdigest()
        except AudioError as exc:
            failures[i] = exc.reason
            continue
        except FileNotFoundError:
            failures[i] = f"file not found: {row['audio']}"
            continue
        except OSError as exc:
            failures[i] = f"cannot read audio file: {exc.strerror or exc}"
            continue
        key = FeatureCache.key(ekey, digest, start, end)
        hit = _verified(extractor, cache.get(extractor.name, key), cache) if cache is not None else None
        if hit is not None:
            values[i] = hit
            keys[i] = (row["audio"], row["text"], start, end, key)
        else:
            tasks.append((i, row["audio"], row["text"], start, end, key))
    for i in _odd_shapes(extractor, values):  # a well-formed entry of the wrong width is damaged too
        values[i] = None
        cache.corrupt += 1  # type: ignore[union-attr]
        tasks.append((i, *keys[i]))
    tasks.sort()
    hits = n - len(tasks) - len(failures)
    report = _progress_reporter(progress, extractor.name, len(tasks))
    if tasks:
        if jobs == 1 and limits is None:
            extractor.warmup()
            size = 8
            for s in range(0, len(tasks), size):
                _collect(_run_chunk(tasks[s : s + size], extractor, cache), values, failures)
                report(min(s + size, len(tasks)))
        else:
            size = max(1, min(16, len(tasks) // (jobs * 4) or 1))
            chunks = [tasks[s : s + size] for s in range(0, len(tasks), size)]
            _supervised(extractor, chunks, jobs, cache, limits or Limits(), values, failures, write_errors, report)
    report(None)
    odd = _odd_shapes(extractor, values)
    if odd:  # the contract: one width per extractor within a run; the odd samples fail, named
        common = next(v.shape for i, v in enumerate(values) if v is not None and i not in set(odd))
        for i in odd:
            failures[i] = (
                f"{origin(extractor)} returned shape {values[i].shape}, the other samples "  # type: ignore[union-attr]
                f"{common}: an extractor's output width must not change between samples"
            )
            values[i] = None
    ids = frame["id"].tolist()
    ok = [i for i in range(n) if values[i] is not None]
    warning = (cache.write_error if cache is not None else None) or (write_errors[0] if write_errors else None)
    if warning and cache is not None:
        cache.write_error = warning  # later extractions in this process skip writing at once
    return ExtractionResult(
        extractor.name,
        [ids[i] for i in ok],
        [values[i] for i in ok],  # type: ignore[misc]
        {ids[i]: r for i, r in sorted(failures.items())},
        hits=hits,
        misses=len(tasks),
        seconds=time.perf_counter() - t0,
        corrupt=(cache.corrupt - corrupt_start) if cache is not None else 0,
        cache_warning=warning,
    )


def _verified(extractor: FeatureExtractor, value: np.ndarray | None, cache: FeatureCache) -> np.ndarray | None:
    """A cached value that passes the same output checks as a fresh extraction, else None (counted)."""
    if value is None:
        return None
    try:
        return check_feature(extractor, value)
    except ComponentError:
        cache.corrupt += 1
        return None


def _odd_shapes(extractor: FeatureExtractor, values: list[np.ndarray | None]) -> list[int]:
    """Positions of values whose width differs from the majority (vectors: shape; sequences: dims)."""
    shapes: dict[tuple[int, ...], list[int]] = {}
    for i, v in enumerate(values):
        if v is not None:
            shapes.setdefault(v.shape if extractor.output == "vector" else v.shape[1:], []).append(i)
    if len(shapes) <= 1:
        return []
    common = max(shapes.values(), key=len)
    return sorted(i for group in shapes.values() if group is not common for i in group)


def _collect(results: list[Outcome], values: list[Any], failures: dict[int, str]) -> None:
    for index, value, error in results:
        if error is not None:
            failures[index] = error
        else:
            values[index] = value


def _progress_reporter(progress: Progress | bool, name: str, total: int) -> Callable[[int | None], None]:
    if callable(progress):
        return lambda done: progress(total if done is None else done, total)
    if not progress or total == 0:
        return lambda done: None
    from rich.progress import BarColumn, MofNCompleteColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar

    bar = Bar(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    )
    bar.start()
    task = bar.add_task(f"extracting {name}", total=total)

    def report(done: int | None) -> None:
        if done is None:
            bar.stop()
        else:
            bar.update(task, completed=done)

    return report
