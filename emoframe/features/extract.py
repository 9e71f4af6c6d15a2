"""Extraction of stateless features over a manifest: cached per sample, parallel over processes.

A sample that cannot be read or that makes the extractor raise is recorded with its reason;
every other sample is still extracted and cached.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..data.audio import AudioError
from ..data.manifest import Manifest
from ..data.perturb import read_audio
from ..errors import ComponentError, describe_exception
from ..plugin.components import FeatureExtractor
from ..plugin.contract import check_feature, guard, origin
from ..workers import Done, Limits, Started, limit_threads, note, supervise
from .cache import ExtractorKey, FeatureCache
from .samples import Sample, SampleIndex, index_samples

Progress = Callable[[int, int], None]


@dataclass
class ExtractionResult:
    """Features of the samples that worked (manifest order) and the reason for each that did not."""

    extractor: str
    ids: list[str]
    features: list[np.ndarray]
    failures: dict[str, str] = field(default_factory=dict)
    hits: int = 0  # rows extracted from the cache (len(ids) - hits: rows extracted by computing)
    misses: int = 0  # distinct inputs computed (failed ones too)
    reused: int = 0  # extracted rows whose input was identical to another row's: computed once, shared
    seconds: float = 0.0
    corrupt: int = 0  # damaged cache entries found, recomputed and rewritten
    cache_warning: str | None = None  # why the cache could not be written (the run went on without it)

    def matrix(self) -> np.ndarray:
        """(samples × dims) for vector features."""
        return np.vstack([f.reshape(1, -1) for f in self.features]) if self.features else np.zeros((0, 0))

    def as_dict(self) -> dict[str, np.ndarray]:
        return dict(zip(self.ids, self.features))


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


def _init_worker(extractors: list[FeatureExtractor], cache_root: str | None, threads: int) -> None:
    """Once per worker process: thread budget, the extractors warmed up (models loaded), the cache."""
    limit_threads(threads)
    for extractor in extractors:
        extractor.warmup()
    _worker["extractors"] = extractors
    _worker["cache"] = FeatureCache(cache_root) if cache_root else None


# a sample's first row, then per extractor of the pass: its features, or why there are none
Outcome = tuple[int, "list[np.ndarray | None]", "list[str | None]"]


def _worker_chunk(samples: list[Sample]) -> tuple[list[Outcome], str | None]:
    cache = _worker["cache"]
    return _run_chunk(samples, _worker["extractors"], cache), (cache.write_error if cache is not None else None)


def _run_chunk(samples: list[Sample], extractors: list[FeatureExtractor], cache: FeatureCache | None) -> list[Outcome]:
    """Extract a chunk: one sample at a time, or in batches of ``extractor.batch_size()`` (one extractor);
    several extractors share each sample's input and, where they can, one pass over it. A batch or a
    shared pass that raises is retried piece by piece, so only the samples (and extractors) that fail
    are reported."""
    out: list[Outcome] = []
    lead = extractors[0]
    size = lead.batch_size() if len(extractors) == 1 else 1
    for b in range(0, len(samples), size):
        batch: list[tuple[Sample, Any]] = []
        for s in samples[b : b + size]:
            note(f"{lead.name} reading {s.audio or repr(s.text[:40])}")
            try:
                batch.append((s, _input(lead, s)))
            except Exception as exc:  # noqa: BLE001 — one bad sample must not stop the others
                reason = _failure_reason(lead, exc)
                out.append((s.row, [None] * len(extractors), [reason] * len(extractors)))
        if len(extractors) == 1:
            done = [(s, [value], [reason]) for s, value, reason in _extract_batch(lead, batch)]
        else:
            done = [_extract_shared(extractors, s, x) for s, x in batch]
        for s, values, reasons in done:
            for extractor, key, value in zip(extractors, s.keys, values):
                if value is not None and key is not None and cache is not None:
                    cache.put(extractor.name, key, value)
            out.append((s.row, values, reasons))
    return out


def _extract_one(extractor: FeatureExtractor, s: Sample, x: Any) -> tuple[np.ndarray | None, str | None]:
    note(f"{extractor.name} extracting {s.audio or repr(s.text[:40])}")
    try:
        with guard(extractor, "extract"):
            value = extractor.extract(x)
        return check_feature(extractor, value), None
    except Exception as exc:  # noqa: BLE001 — one bad sample must not stop the others
        return None, _failure_reason(extractor, exc)


def _extract_shared(
    extractors: list[FeatureExtractor], s: Sample, x: Any
) -> tuple[Sample, list[np.ndarray | None], list[str | None]]:
    """Every extractor's features of one input from one pass (``extract_shared``); when the pass raises
    or one result is malformed, each extractor on its own, so a failure stays the failing extractor's."""
    lead = extractors[0]
    note(f"{' + '.join(e.name for e in extractors)} extracting {s.audio or repr(s.text[:40])}")
    try:
        with guard(lead, "extract_shared"):
            values = list(lead.extract_shared(x, list(extractors)))
        if len(values) != len(extractors):
            raise ComponentError(f"{origin(lead)}: extract_shared returned {len(values)} results for {len(extractors)}")
        checked: list[np.ndarray | None] = [check_feature(e, v) for e, v in zip(extractors, values)]
    except Exception:  # noqa: BLE001 — retried one extractor at a time below
        alone = [_extract_one(e, s, x) for e in extractors]
        return s, [v for v, _ in alone], [r for _, r in alone]
    return s, checked, [None] * len(extractors)


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
    return [(s, *_extract_one(extractor, s, x)) for s, x in batch]


def _supervised(
    extractors: list[FeatureExtractor],
    chunks: list[list[Sample]],
    jobs: int,
    cache: FeatureCache | None,
    limits: Limits,
    values: list[dict[int, Any]],
    failures: list[dict[int, str]],
    write_errors: list[str],
    report: Callable[[int | None], None],
) -> None:
    """Chunks in supervised workers. A chunk whose worker died or hung is retried one sample at a
    time, so only the samples that kill a worker are lost, each with the reason."""
    workers = max(1, min(jobs, len(chunks)))
    threads = max(1, (os.cpu_count() or 1) // workers)
    init = (extractors, str(cache.root) if cache is not None else None, threads)
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
                    for extractor, got, failed in zip(extractors, values, failures):
                        if t.row not in got:
                            failed[t.row] = f"{extractor.name}: {r.message}"
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
    return extract_shared([extractor], manifest, jobs, cache, progress, limits)[0]


def can_share(a: FeatureExtractor, b: FeatureExtractor) -> bool:
    """Whether two extractors may share a pass over each sample: the same input (modality, sample
    rate), the same ``extract_shared`` code and the same non-empty ``shared_pass()`` name."""
    try:
        tag_a, tag_b = a.shared_pass(), b.shared_pass()
    except Exception:  # noqa: BLE001 — an extractor that cannot say runs alone
        return False
    return (
        bool(tag_a)
        and tag_a == tag_b
        and a.stateless
        and b.stateless
        and (a.modality, a.sample_rate) == (b.modality, b.sample_rate)
        and type(a).extract_shared is type(b).extract_shared
    )


def shared_jobs(extractors: list[FeatureExtractor], jobs: int | None) -> int:
    """The worker count of a pass (default all cores, at most each extractor's ``max_workers``), after
    refusing extractors that are fitted per fold or that cannot share a pass."""
    for extractor in extractors:
        if not extractor.stateless:
            raise ComponentError(f"{extractor.name} is fitted per fold; it is not extracted per sample")
    if len(extractors) > 1 and not all(can_share(extractors[0], e) for e in extractors[1:]):
        raise ComponentError(f"{', '.join(e.name for e in extractors)} cannot share a pass over their samples")
    n = max(1, jobs or os.cpu_count() or 1)
    for extractor in extractors:
        if extractor.max_workers is not None:
            n = min(n, max(1, extractor.max_workers))
    return n


def cached_features(
    extractors: list[FeatureExtractor], index: SampleIndex, cache: FeatureCache | None
) -> list[dict[int, Any]]:
    """Per extractor: sample row → its cached features, each checked as a fresh extraction is; a damaged
    entry (or one of the wrong width) is left out and counted on ``cache.corrupt``."""
    found: list[dict[int, Any]] = [{} for _ in extractors]
    if cache is None:
        return found
    for j, extractor in enumerate(extractors):
        for s in index.samples.values():
            hit = _verified(extractor, cache.get(extractor.name, s.keys[j]), cache)  # type: ignore[arg-type]
            if hit is not None:
                found[j][s.row] = hit
        for i in _odd_shapes(extractor, found[j]):  # a well-formed entry of the wrong width is damaged too
            del found[j][i]
            cache.corrupt += 1
    return found


def pending_samples(
    extractors: list[FeatureExtractor], index: SampleIndex, found: list[dict[int, Any]], batch: int
) -> list[Sample]:
    """The samples some extractor has not cached, each keyed only for the extractors that still need it;
    sorted by length for a batched extractor (``batch`` > 1: similar lengths in one batch, less padding)."""
    k = len(extractors)
    todo = [
        s._replace(keys=tuple(None if s.row in found[j] else s.keys[j] for j in range(k)))
        for s in index.samples.values()
        if any(s.row not in found[j] for j in range(k))
    ]
    if batch > 1:
        todo.sort(key=lambda s: _length(extractors[0], s))
    return todo


def compute_pending(
    extractors: list[FeatureExtractor],
    todo: list[Sample],
    jobs: int,
    cache: FeatureCache | None,
    limits: Limits | None,
    batch: int,
    values: list[dict[int, Any]],
    failures: list[dict[int, str]],
    report: Callable[[int | None], None],
) -> list[str]:
    """Extract ``todo`` into ``values``/``failures`` (per extractor), in this process when jobs is 1 and no
    limits are given, else in supervised workers (``batch``: the lead's batch size, 1 for a shared pass);
    returns why worker caches could not be written."""
    write_errors: list[str] = []
    if not todo:
        return write_errors
    size = batch
    if jobs == 1 and limits is None:
        for extractor in extractors:
            extractor.warmup()
        step = max(8, size)
        for b in range(0, len(todo), step):
            _collect(_run_chunk(todo[b : b + step], extractors, cache), values, failures)
            report(min(b + step, len(todo)))
    else:
        # batched: several batches a task, so that recycling a worker (and reloading its model)
        # after Limits.max_tasks tasks stays rare; Ctrl-C and timeouts still act within a task
        step = size * 8 if size > 1 else max(1, min(16, len(todo) // (jobs * 4) or 1))
        chunks = [todo[b : b + step] for b in range(0, len(todo), step)]
        _supervised(extractors, chunks, jobs, cache, limits or Limits(), values, failures, write_errors, report)
    return write_errors


def extraction_result(
    extractor: FeatureExtractor,
    j: int,
    ids: list[str],
    index: SampleIndex,
    found: dict[int, Any],
    got: dict[int, Any],
    failed: dict[int, str],
    todo: list[Sample],
) -> ExtractionResult:
    """Extractor ``j``'s result over every manifest row (``ids``): each sample's features or reason spread
    to the rows sharing its input; a sample of a width unlike the others fails, named. Timing and the
    cache's counters are the caller's to fill in."""
    odd = set(_odd_shapes(extractor, got))
    if odd:  # the contract: one width per extractor within a run; the odd samples fail, named
        common = next(v.shape for i, v in got.items() if i not in odd)
        for i in odd:
            failed[i] = (
                f"{origin(extractor)} returned shape {got[i].shape}, the other samples "
                f"{common}: an extractor's output width must not change between samples"
            )
            del got[i]
    n = len(ids)
    per_row: list[np.ndarray | None] = [None] * n
    for s in index.samples.values():
        for i in index.rows(s):
            if s.row in got:
                per_row[i] = got[s.row]
            elif s.row in failed:
                failed[i] = failed[s.row]
    ok = [i for i in range(n) if per_row[i] is not None]
    computed = [s for s in todo if s.keys[j] is not None]
    return ExtractionResult(
        extractor.name,
        [ids[i] for i in ok],
        [per_row[i] for i in ok],  # type: ignore[misc]
        {ids[i]: r for i, r in sorted(failed.items())},
        # rows, like ids: those extracted from the cache, and those sharing a computed input
        hits=sum(len(index.rows(s)) for s in index.samples.values() if s.row in found and s.row in got),
        misses=len(computed),
        reused=sum(len(index.rows(s)) - 1 for s in computed if s.row in got),
    )


def extract_shared(
    extractors: list[FeatureExtractor],
    manifest: Manifest,
    jobs: int | None = None,
    cache: FeatureCache | None = None,
    progress: Progress | bool = False,
    limits: Limits | None = None,
) -> list[ExtractionResult]:
    """:func:`extract_features` for several extractors that :func:`can_share` a pass (or one): each
    sample is read once and computed by one ``extract_shared`` call (e.g. openSMILE's functionals and
    low-level descriptors from one run over the signal); each extractor's features are cached under
    its own key and returned as its own result, and a sample an extractor has cached already is
    computed only for the others' sake. The steps: :func:`shared_jobs` → :func:`index_samples` →
    :func:`cached_features` → :func:`pending_samples` → :func:`compute_pending` → :func:`extraction_result`."""
    jobs = shared_jobs(extractors, jobs)
    t0 = time.perf_counter()
    corrupt_start = cache.corrupt if cache is not None else 0
    index = index_samples(manifest, extractors[0], [ExtractorKey.of(e).digest() for e in extractors])
    found = cached_features(extractors, index, cache)
    batch = extractors[0].batch_size() if len(extractors) == 1 else 1
    todo = pending_samples(extractors, index, found, batch)
    values: list[dict[int, Any]] = [dict(f) for f in found]
    failures: list[dict[int, str]] = [dict(index.unreadable) for _ in extractors]
    report = _progress_reporter(progress, " + ".join(e.name for e in extractors), len(todo))
    write_errors = compute_pending(extractors, todo, jobs, cache, limits, batch, values, failures, report)
    report(None)
    warning = (cache.write_error if cache is not None else None) or (write_errors[0] if write_errors else None)
    if warning and cache is not None:
        cache.write_error = warning  # later extractions in this process skip writing at once
    ids = manifest.frame["id"].tolist()
    results = []
    for j, extractor in enumerate(extractors):
        result = extraction_result(extractor, j, ids, index, found[j], values[j], failures[j], todo)
        result.seconds = time.perf_counter() - t0
        result.corrupt = (cache.corrupt - corrupt_start) if cache is not None else 0
        result.cache_warning = warning
        results.append(result)
    return results


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


def _collect(results: list[Outcome], values: list[dict[int, Any]], failures: list[dict[int, str]]) -> None:
    """Per extractor: fresh features, or the reason — unless its cache had the sample already."""
    for index, got, errors in results:
        for value, error, known, failed in zip(got, errors, values, failures):
            if value is not None:
                known[index] = value
            elif index not in known:
                failed[index] = error or "no features"


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
