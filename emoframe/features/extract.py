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
from typing import Any, NamedTuple

import numpy as np

from ..components import FeatureExtractor
from ..contract import check_feature, guard, origin
from ..data.audio import AudioError
from ..data.manifest import Manifest
from ..data.perturb import COLUMN as PERTURB_COLUMN
from ..data.perturb import AudioPerturbation, read_audio
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
    hits: int = 0  # rows read from the cache
    misses: int = 0  # distinct inputs computed
    reused: int = 0  # rows whose input was identical to another row's: computed once, shared
    seconds: float = 0.0
    corrupt: int = 0  # damaged cache entries found, recomputed and rewritten
    cache_warning: str | None = None  # why the cache could not be written (the run went on without it)

    def matrix(self) -> np.ndarray:
        """(samples × dims) for vector features."""
        return np.vstack([f.reshape(1, -1) for f in self.features]) if self.features else np.zeros((0, 0))

    def as_dict(self) -> dict[str, np.ndarray]:
        return dict(zip(self.ids, self.features))


class Sample(NamedTuple):
    """One distinct input to extract: where it comes from and its cache key."""

    row: int  # the first manifest row with this input
    audio: str
    text: str
    start: float | None
    end: float | None
    perturb: str  # the row's perturbation (JSON), '' for clean audio
    key: str


def _input(extractor: FeatureExtractor, s: Sample) -> Any:
    """What the extractor receives: the signal (resampled, segment and perturbation applied) or the text."""
    if extractor.modality == "audio":
        if not s.audio:
            raise AudioError("<no audio>", "this utterance has no audio file (text-only corpus)")
        return read_audio(s.audio, extractor.sample_rate, s.start, s.end, s.perturb)
    return s.text


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


Outcome = tuple[int, "np.ndarray | None", "str | None"]  # index, features, failure reason


def _worker_chunk(samples: list[Sample]) -> tuple[list[Outcome], str | None]:
    cache = _worker["cache"]
    return _run_chunk(samples, _worker["extractor"], cache), (cache.write_error if cache is not None else None)


def _run_chunk(samples: list[Sample], extractor: FeatureExtractor, cache: FeatureCache | None) -> list[Outcome]:
    """Extract a chunk: one sample at a time, or in batches of ``extractor.batch_size()``. A batch
    that raises is retried sample by sample, so only the samples that fail are reported."""
    out: list[Outcome] = []
    size = extractor.batch_size()
    for b in range(0, len(samples), size):
        batch: list[tuple[Sample, Any]] = []
        for s in samples[b : b + size]:
            note(f"{extractor.name} reading {s.audio or repr(s.text[:40])}")
            try:
                batch.append((s, _input(extractor, s)))
            except Exception as exc:  # noqa: BLE001 — one bad sample must not stop the others
                out.append((s.row, None, _failure_reason(extractor, exc)))
        for s, value, reason in _extract_batch(extractor, batch):
            if value is not None and cache is not None:
                cache.put(extractor.name, s.key, value)
            out.append((s.row, value, reason))
    return out


def _extract_batch(
    extractor: FeatureExtractor, batch: list[tuple[Sample, Any]]
) -> list[tuple[Sample, np.ndarray | None, str | None]]:
    if len(batch) > 1:
        first = batch[0][0]
        note(f"{extractor.name} extracting a batch of {len(batch)} from {first.audio or repr(first.text[:40])}")
        try:
            with guard(extractor, "extract_batch"):
                values = list(extractor.extract_batch([x for _, x in batch]))
            if len(values) != len(batch):
                raise ComponentError(
                    f"{origin(extractor)}: extract_batch returned {len(values)} results for {len(batch)} samples"
                )
        except Exception:  # noqa: BLE001 — retried one by one below: only the bad samples fail
            pass
        else:
            out: list[tuple[Sample, np.ndarray | None, str | None]] = []
            for (s, _), value in zip(batch, values):
                try:
                    out.append((s, check_feature(extractor, value), None))
                except ComponentError as exc:
                    out.append((s, None, str(exc)))
            return out
    out = []
    for s, x in batch:
        note(f"{extractor.name} extracting {s.audio or repr(s.text[:40])}")
        try:
            with guard(extractor, "extract"):
                value = extractor.extract(x)
            out.append((s, check_feature(extractor, value), None))
        except Exception as exc:  # noqa: BLE001 — one bad sample must not stop the others
            out.append((s, None, _failure_reason(extractor, exc)))
    return out


def _supervised(
    extractor: FeatureExtractor,
    chunks: list[list[Sample]],
    jobs: int,
    cache: FeatureCache | None,
    limits: Limits,
    values: dict[int, Any],
    failures: dict[int, str],
    write_errors: list[str],
    report: Callable[[int | None], None],
) -> None:
    """Chunks in supervised workers. A chunk whose worker died or hung is retried one sample at a
    time, so only the samples that kill a worker are lost, each with the reason."""
    workers = max(1, min(jobs, len(chunks)))
    threads = max(1, (os.cpu_count() or 1) // workers)
    init = (extractor, str(cache.root) if cache is not None else None, threads)
    done, retry = 0, list[list[Sample]]()
    for rnd in range(2):
        todo = chunks if rnd == 0 else [[t] for chunk in retry for t in chunk]
        for r in supervise(_worker_chunk, todo, jobs=workers, limits=limits, initializer=_init_worker, initargs=init):
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
                    failures[t.row] = f"{extractor.name}: {r.message}"
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

    Cached entries are read, the rest computed and cached, each distinct input once (rows with
    identical inputs share it): in supervised worker processes (``jobs``, default all cores, at
    most ``extractor.max_workers``) when ``limits`` is given or jobs > 1, so an extractor that
    crashes or hangs costs only the samples it was on; in this process when jobs is 1 and no
    limits are given (inside a worker already). A batched extractor gets its inputs sorted by
    length, in batches of ``extractor.batch_size()``. ``progress`` is a callback ``(done, total)``
    counting samples, or True for a progress bar on the terminal.
    """
    if not extractor.stateless:
        raise ComponentError(f"{extractor.name} is fitted per fold; it is not extracted per sample")
    t0 = time.perf_counter()
    jobs = max(1, jobs or os.cpu_count() or 1)
    if extractor.max_workers is not None:
        jobs = min(jobs, max(1, extractor.max_workers))
    ekey = ExtractorKey.of(extractor).digest()
    frame = manifest.frame
    n = len(frame)
    failures: dict[int, str] = {}  # row → reason
    rows_of: dict[str, list[int]] = {}  # cache key → the rows with that input
    samples: dict[str, Sample] = {}
    corrupt_start = cache.corrupt if cache is not None else 0
    write_errors: list[str] = []
    audios, texts, segments = frame["audio"].tolist(), frame["text"].tolist(), manifest.segments()
    noises = (
        frame[PERTURB_COLUMN].fillna("").tolist()
        if extractor.modality == "audio" and PERTURB_COLUMN in frame
        else [""] * n
    )
    for i in range(n):
        audio, text, (start, end), perturb = audios[i], texts[i], segments[i], noises[i]
        try:
            if extractor.modality == "audio":
                if not audio:
                    raise AudioError("<no audio>", "this utterance has no audio file (text-only corpus)")
                digest = audio_digest(audio)
                if perturb:  # clean rows keep the keys they always had
                    noise = AudioPerturbation.from_json(perturb).key()
                    digest = hashlib.sha256(f"{digest}|{noise}".encode()).hexdigest()
            else:
                digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        except AudioError as exc:
            failures[i] = exc.reason
            continue
        except FileNotFoundError:
            failures[i] = f"file not found: {audio}"
            continue
        except OSError as exc:
            failures[i] = f"cannot read audio file: {exc.strerror or exc}"
            continue
        key = FeatureCache.key(ekey, digest, start, end)
        rows_of.setdefault(key, []).append(i)
        if key not in samples:
            samples[key] = Sample(i, audio, text, start, end, perturb, key)
    found: dict[int, Any] = {}  # sample index → features
    for s in samples.values():
        hit = _verified(extractor, cache.get(extractor.name, s.key), cache) if cache is not None else None
        if hit is not None:
            found[s.row] = hit
    for i in _odd_shapes(extractor, found):  # a well-formed entry of the wrong width is damaged too
        del found[i]
        cache.corrupt += 1  # type: ignore[union-attr]
    todo = [s for s in samples.values() if s.row not in found]
    hits = sum(len(rows_of[s.key]) for s in samples.values() if s.row in found)
    size = extractor.batch_size()
    if size > 1:  # similar lengths in one batch: less padding
        todo.sort(key=lambda s: _length(extractor, s))
    values: dict[int, Any] = dict(found)
    report = _progress_reporter(progress, extractor.name, len(todo))
    if todo:
        if jobs == 1 and limits is None:
            extractor.warmup()
            step = max(8, size)
            for b in range(0, len(todo), step):
                _collect(_run_chunk(todo[b : b + step], extractor, cache), values, failures)
                report(min(b + step, len(todo)))
        else:
            # batched: several batches a task, so that recycling a worker (and reloading its model)
            # after Limits.max_tasks tasks stays rare; Ctrl-C and timeouts still act within a task
            step = size * 8 if size > 1 else max(1, min(16, len(todo) // (jobs * 4) or 1))
            chunks = [todo[b : b + step] for b in range(0, len(todo), step)]
            _supervised(extractor, chunks, jobs, cache, limits or Limits(), values, failures, write_errors, report)
    report(None)
    odd = set(_odd_shapes(extractor, values))
    if odd:  # the contract: one width per extractor within a run; the odd samples fail, named
        common = next(v.shape for i, v in values.items() if i not in odd)
        for i in odd:
            failures[i] = (
                f"{origin(extractor)} returned shape {values[i].shape}, the other samples "
                f"{common}: an extractor's output width must not change between samples"
            )
            del values[i]
    per_row: list[np.ndarray | None] = [None] * n
    for s in samples.values():
        for i in rows_of[s.key]:
            if s.row in values:
                per_row[i] = values[s.row]
            elif s.row in failures:
                failures[i] = failures[s.row]
    ids = frame["id"].tolist()
    ok = [i for i in range(n) if per_row[i] is not None]
    warning = (cache.write_error if cache is not None else None) or (write_errors[0] if write_errors else None)
    if warning and cache is not None:
        cache.write_error = warning  # later extractions in this process skip writing at once
    return ExtractionResult(
        extractor.name,
        [ids[i] for i in ok],
        [per_row[i] for i in ok],  # type: ignore[misc]
        {ids[i]: r for i, r in sorted(failures.items())},
        hits=hits,
        misses=len(todo),
        reused=sum(len(rows_of[s.key]) - 1 for s in todo),
        seconds=time.perf_counter() - t0,
        corrupt=(cache.corrupt - corrupt_start) if cache is not None else 0,
        cache_warning=warning,
    )


def _length(extractor: FeatureExtractor, s: Sample) -> float:
    """A sample's length for sorting a batched extractor's inputs, without reading the audio."""
    if extractor.modality == "text":
        return float(len(s.text))
    if s.start is not None and s.end is not None:
        return s.end - s.start
    try:
        return float(os.path.getsize(s.audio))
    except OSError:
        return 0.0


def _verified(extractor: FeatureExtractor, value: np.ndarray | None, cache: FeatureCache) -> np.ndarray | None:
    """A cached value that passes the same output checks as a fresh extraction, else None (counted)."""
    if value is None:
        return None
    try:
        return check_feature(extractor, value)
    except ComponentError:
        cache.corrupt += 1
        return None


def _odd_shapes(extractor: FeatureExtractor, values: dict[int, Any]) -> list[int]:
    """Keys of values whose width differs from the majority (vectors, layers: shape; sequences: dims)."""
    shapes: dict[tuple[int, ...], list[int]] = {}
    for i, v in values.items():
        shapes.setdefault(v.shape if extractor.output in ("vector", "layers") else v.shape[1:], []).append(i)
    if len(shapes) <= 1:
        return []
    common = max(shapes.values(), key=len)
    return sorted(i for group in shapes.values() if group is not common for i in group)


def _collect(results: list[Outcome], values: dict[int, Any], failures: dict[int, str]) -> None:
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
