"""The Python API of the whole workflow, for notebooks and scripts: validate, run, bench, read runs, extract.

``emoframe.validate`` / ``bench`` / ``run`` / ``runs`` / ``open_run`` / ``extract`` (re-exported lazily by
the package, so ``import emoframe`` stays light). The CLI's `validate`, `run` and `bench` call these same
functions (one code path: the two faces cannot drift); what the CLI adds is printing.

Bad input is refused before any work: a spec with problems raises :class:`~emoframe.SpecError` carrying
every problem with its path; a workdir that is not emoframe's is refused (:func:`check_workdir`).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import EmoframeError, SpecError, SpecProblem
from .stored import Figures, Run, RunGoneError

if TYPE_CHECKING:
    import pandas as pd

    from ..bench.events import Event
    from ..plugin.registry import Registry
    from ..spec import BenchmarkSpec, PipelineSpec
    from ..workers import Limits

__all__ = [
    "Figures",
    "Run",
    "RunGoneError",
    "bench",
    "check_workdir",
    "extract",
    "open_run",
    "run",
    "runs",
    "validate",
]


def _registry(registry: Registry | None) -> Registry:
    from ..plugin.registry import get_registry

    return registry or get_registry()


def _is_text(spec: str) -> bool:
    """Whether a string is YAML text rather than a file's path: several lines, or a mapping on one line."""
    return "\n" in spec or (Path(spec).suffix.lower() not in (".yaml", ".yml", ".json") and ":" in spec)


def read_spec(
    spec: Any, registry: Registry | None = None, base_dir: str | os.PathLike[str] | None = None
) -> tuple[PipelineSpec | BenchmarkSpec, Path | None]:
    """The spec, validated against the installed plugins, and the folder its relative paths resolve from (a
    file's folder; ``base_dir``, else the current folder, for text, a dict or an object)."""
    from ..spec import BenchmarkSpec, PipelineSpec, load_spec, parse_document, parse_spec
    from ..spec import validate as check_spec

    reg = _registry(registry)
    if isinstance(spec, (PipelineSpec, BenchmarkSpec)):
        base = Path(base_dir) if base_dir is not None else None
        check_spec(spec, reg, base_dir=base, source="spec")
        return spec, base
    if isinstance(spec, Mapping):
        base = Path(base_dir) if base_dir is not None else None
        parsed = parse_spec(dict(spec), source="spec")
        check_spec(parsed, reg, base_dir=base, source="spec")
        return parsed, base
    if isinstance(spec, str) and _is_text(spec):
        base = Path(base_dir) if base_dir is not None else None
        parsed = parse_spec(parse_document(spec, "spec text"), source="spec text")
        check_spec(parsed, reg, base_dir=base, source="spec text")
        return parsed, base
    if isinstance(spec, (str, os.PathLike)):
        path = Path(spec)
        return load_spec(path, registry=reg), Path(base_dir) if base_dir is not None else path.parent
    raise SpecError(
        [SpecProblem("", f"a spec is a path, YAML text, a dict or a spec object, not {type(spec).__name__}")]
    )


def validate(spec: Any, registry: Registry | None = None) -> PipelineSpec | BenchmarkSpec:
    """Check a spec (a path, YAML text, a dict or a spec object) against the installed plugins; return it
    parsed. Raises :class:`~emoframe.SpecError` whose ``problems`` list every problem with its path in the
    spec (``branches.audio.extractor.params.n_mfcc``), the bad value and the fix — as ``emoframe validate``."""
    return read_spec(spec, registry)[0]


def check_workdir(path: str | os.PathLike[str] | None) -> Path:
    """The workdir (``path``, else ``$EMOFRAME_WORKDIR``, else ``./.emoframe``), refused when it is not
    emoframe's: a file, or a folder whose ``results.db`` is a database emoframe did not write. emoframe
    never writes into a file it did not create."""
    import sqlite3

    from ..workdir import workdir

    wd = workdir(path)
    if wd.exists() and not wd.is_dir():
        raise EmoframeError(f"workdir {wd} is a file, not a folder; choose a folder for emoframe's state (--workdir)")
    db = wd / "results.db"
    if db.is_dir() or db.is_symlink():
        raise EmoframeError(f"{db} is not a results store emoframe wrote; choose another workdir (--workdir)")
    if db.is_file():
        with open(db, "rb") as f:
            is_sqlite = f.read(16) == b"SQLite format 3\x00"
        if is_sqlite:
            from urllib.parse import quote

            con = sqlite3.connect(f"file:{quote(str(db.resolve()))}?mode=ro", uri=True)
            try:
                tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            except sqlite3.DatabaseError:
                tables = {"runs"}  # damaged: the store says so, with what to do
            finally:
                con.close()
            if tables and "runs" not in tables:
                raise EmoframeError(
                    f"{db} is a database emoframe did not write (tables: {', '.join(sorted(tables)[:5])}); "
                    "emoframe writes no file it did not create: choose another workdir (--workdir)"
                )
    return wd


def limits_for(spec: PipelineSpec | BenchmarkSpec, timeout: float | str | None) -> Limits:
    """The spec's execution limits with ``timeout`` on top: seconds, ``'none'`` for no limit, None: the spec's."""
    import dataclasses

    from ..bench.runner import limits_of

    limits = limits_of(spec.execution)
    if timeout is None:
        return limits
    if isinstance(timeout, str) and timeout.strip().lower() in ("none", "null", "off"):
        return dataclasses.replace(limits, timeout=None)
    try:
        seconds = float(timeout)
    except ValueError:
        raise EmoframeError(f"timeout '{timeout}' is not a number of seconds or 'none'") from None
    if not seconds > 0:
        raise EmoframeError(f"timeout must be > 0 seconds (or 'none'), not {timeout}")
    return dataclasses.replace(limits, timeout=seconds)


#: what a refused report folder offers instead, in both faces' words
REPORT_FIX = (
    "choose another --report folder (Python: bench(report=...)), or write it later: "
    "`emoframe report --out DIR --force` (Python: Run.report(DIR, force=True))"
)


def bench(
    spec: Any,
    *,
    workdir: str | os.PathLike[str] | None = None,
    jobs: int | None = None,
    executor: Literal["local", "dask"] | None = None,
    scheduler: str | None = None,
    fresh: bool = False,
    timeout: float | str | None = None,
    cache: bool = True,
    report: str | os.PathLike[str] | bool | None = None,
    progress: bool | None = None,
    events: Callable[[Event], None] | None = None,
    registry: Registry | None = None,
    base_dir: str | os.PathLike[str] | None = None,
) -> Run:
    """Run (or resume) a benchmark — every pipeline of the spec's grid, with its unimodal baselines — into
    ``<workdir>/results.db``; the stored :class:`Run`.

    ``spec``: a path, YAML text, a dict or a spec object, validated first (``SpecError`` before any work).
    ``jobs``: processes (default: cores); ``executor``: ``local`` or ``dask`` (``scheduler``: a
    ``tcp://host:port`` address, implies dask); ``fresh``: drop this run's stored folds first; ``timeout``:
    seconds per fold task (``'none'``: no limit; default the spec's); ``cache``: read and write the feature
    cache; ``report``: a folder for the HTML report (True: ``<workdir>/reports/<run>``), checked before the run;
    ``progress``: bars in a notebook or terminal (None: where one is there; False: off); ``events``: your own
    handler of the runner's events (:mod:`emoframe.bench.events`). Relative paths in a spec given as text, a
    dict or an object resolve from ``base_dir`` (default: the current folder). Ctrl-C (KeyboardInterrupt)
    stops the workers; every finished fold is stored and the same call resumes.
    """
    from ..bench.executors import choose_executor
    from ..bench.runner import run_benchmark
    from ..bench.study import run_study
    from ..results.report import check_report_target
    from .progress import display_for, event_handler

    chosen, address, _ = choose_executor(executor, scheduler)
    registry = _registry(registry)
    parsed, base = read_spec(spec, registry, base_dir)
    wd = check_workdir(workdir)
    limits = limits_for(parsed, timeout)
    if isinstance(report, (str, os.PathLike)):
        check_report_target(Path(report), fix=REPORT_FIX)  # a user's own index.html there: said before the run
    shown = display_for(progress)
    try:
        runner = run_study if getattr(parsed, "is_multi_corpus", False) else run_benchmark  # several corpora
        outcome = runner(
            parsed,  # type: ignore[arg-type]
            registry,
            wd,
            jobs,
            "dask" if chosen == "dask" else "local",
            address,
            fresh,
            base_dir=base,
            events=event_handler(shown, events),
            limits=limits,
            use_cache=cache,
        )
    finally:
        shown.close()
    result = Run(wd, outcome.run_id, [*outcome.code_changes, *outcome.warnings], outcome, registry)
    if report:
        result.report_path = result.report(None if report is True else Path(report))
    return result


def run(spec: Any, **options: Any) -> Run:
    """Evaluate one pipeline under its protocol and store it as a run; the :class:`Run`. Takes the options of
    :func:`bench`; a spec listing alternatives (a benchmark) is refused: use :func:`bench`."""
    from ..spec import PipelineSpec

    parsed, base = read_spec(spec, options.get("registry"), options.pop("base_dir", None))
    if not isinstance(parsed, PipelineSpec):
        source = str(spec) if isinstance(spec, (str, os.PathLike)) and not _is_text(str(spec)) else "spec"
        raise SpecError(
            [],
            source=f"{source}: a benchmark spec (it lists alternatives); run it with `emoframe bench` "
            "(emoframe.bench in Python), or list its pipelines with `emoframe validate --expand`",
        )
    return bench(parsed, base_dir=base, **options)


def run_records(workdir: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Every stored run, newest first, as ``emoframe runs --format json`` lists them."""
    from ..results.repeats import repeat_fold_counts
    from ..results.store import ResultsStore
    from ..workdir import workdir as default_workdir

    wd = default_workdir(workdir)
    if not (wd / "results.db").exists():
        raise EmoframeError(
            f"no results in {wd}; run `emoframe run SPEC`, `emoframe bench SPEC` or `emoframe demo` "
            "(emoframe.bench in Python)"
        )
    store = ResultsStore(wd / "results.db", readonly=True)
    try:
        records = []
        more = repeat_fold_counts(store)  # folds of repeats 1, 2, … (evaluation.repeats)
        for r in store.runs():
            repeats = int((r["spec"].get("evaluation") or {}).get("repeats") or 1)
            total = (r["pipelines"] or 0) * (r["n_folds"] or 0) * repeats
            done = r["folds_done"] + more.get(r["id"], 0)
            status = "complete" if total and done == total else f"{done}/{total} folds"
            records.append(
                {
                    "id": r["id"],
                    "name": r["name"],
                    "date": datetime.datetime.fromtimestamp(r["created"]).strftime("%Y-%m-%d %H:%M"),
                    "kind": "bench" if r["spec"].get("kind") == "benchmark" else "run",
                    "protocol": r["spec"].get("evaluation", {}).get("protocol", "speaker_kfold"),
                    "pipelines": r["pipelines"],
                    "status": status,
                    "failed": r["errors"],
                }
            )
        return records
    finally:
        store.close()


def runs(workdir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Every stored run of ``workdir``, newest first: id, name, date, kind, protocol, pipelines, status, failed."""
    import pandas as pd

    columns = ["id", "name", "date", "kind", "protocol", "pipelines", "status", "failed"]
    return pd.DataFrame.from_records(run_records(workdir), columns=columns)


def open_run(ref: str | None = None, workdir: str | os.PathLike[str] | None = None) -> Run:
    """A stored run by reference — its id, an id prefix of at least 4 hex characters, or its exact name;
    None: the latest — as every command resolves ``--run``."""
    from ..results.resolve import resolve_run
    from ..results.store import ResultsStore
    from ..workdir import workdir as default_workdir

    wd = default_workdir(workdir)
    store = ResultsStore(wd / "results.db", readonly=True)
    try:
        return Run(wd, resolve_run(store, ref))
    finally:
        store.close()


def extract(
    extractor: str,
    corpus: str | Mapping[str, Any] | None = None,
    *,
    manifest: str | os.PathLike[str] | None = None,
    params: Mapping[str, Any] | None = None,
    workdir: str | os.PathLike[str] | None = None,
    jobs: int | None = None,
    cache: bool = True,
    progress: bool | None = None,
    registry: Registry | None = None,
) -> pd.DataFrame:
    """A stateless extractor's features for a corpus (a registered name, or ``{"name": ..., "params": ...}``)
    or a ``manifest`` file, as a DataFrame indexed by utterance id: one column per dimension for vector
    features (``<extractor>[i]``), one column ``features`` of arrays for sequences. Cached like a run's.
    Rows the extractor could not process are left out and listed in ``frame.attrs["left_out"]`` (id →
    reason), with a warning saying how many."""
    import warnings

    import numpy as np
    import pandas as pd
    from pydantic import ValidationError

    from ..data.source import load_data
    from ..features import FeatureCache, extract_features
    from ..spec.models import DataSpec
    from ..spec.validation import format_validation_error
    from ..workers import Limits
    from .progress import display_for

    if (corpus is None) == (manifest is None):
        raise SpecError([SpecProblem("data", "give a corpus or a manifest (one of them)")], source="extract")
    try:
        data = DataSpec.model_validate({"corpus": corpus} if corpus is not None else {"manifest": str(manifest)})
    except ValidationError as err:
        raise SpecError(
            [SpecProblem(f"data.{p}" if p else "data", m) for p, m in format_validation_error(err)], source="extract"
        ) from None
    reg = _registry(registry)
    wd = check_workdir(workdir)
    m = load_data(data, reg, workdir=wd)
    ext = reg.create(extractor, dict(params or {}), kind="extractor")
    shown = display_for(progress)
    try:
        result = extract_features(
            ext,
            m,
            jobs=jobs,
            cache=FeatureCache(wd / "cache") if cache else None,
            progress=lambda done, total: shown.update(f"extracting {ext.name}", done, total),
            limits=Limits(),
        )
    finally:
        shown.close()
    index = pd.Index(result.ids, name="id")
    if result.features and all(np.ndim(f) <= 1 for f in result.features):
        matrix = result.matrix()
        frame = pd.DataFrame(matrix, index=index, columns=[f"{ext.name}[{i}]" for i in range(matrix.shape[1])])
    else:
        frame = pd.DataFrame({"features": list(result.features)}, index=index)
    frame.attrs["extractor"] = ext.name
    frame.attrs["left_out"] = dict(result.failures)
    if result.failures:
        warnings.warn(
            f"{ext.name}: {len(result.failures)} row(s) left out (frame.attrs['left_out'] says why)", stacklevel=2
        )
    return frame
