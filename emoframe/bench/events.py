"""Progress of a benchmark as typed events, emitted once per fact by the runner.

The CLI's bars, the TUI's Run screen and the tests all consume these and nothing else:

    RunPlanned                    once, after the folds are cut
    ExtractionProgress            while features are extracted (samples done of total)
    PerturbationStarted           once per robustness condition being prepared
    FoldStarted                   a fold task was handed to a worker (local) or submitted (Dask)
    PipelineFoldFinished          once per (pipeline, fold) run in this call: stored, or failed with why
    RunFinished                   once, at the end
    CorpusUnitStarted             a run over several corpora: before each corpus (or training set) runs

A handler may raise :class:`BenchmarkCancelled` to stop the run between folds; every
finished fold is already stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


class BenchmarkCancelled(Exception):
    """Raised from an events handler to stop a run; every finished fold is already stored."""


@dataclass(frozen=True)
class RunPlanned:
    run_id: str
    name: str
    pipelines: int
    folds: int
    pending: int  # (pipeline, fold) pairs to run now
    skipped: int  # pairs already in the store
    names: dict[str, str] = field(default_factory=dict)  # pipeline id → label
    done: dict[str, int] = field(default_factory=dict)  # pipeline id → folds already stored
    code_changes: tuple[str, ...] = ()  # one line per component whose code changed: its stored folds rerun
    repeats: int = 1  # repeats of the protocol (evaluation.repeats); ``folds`` counts every repeat's


@dataclass(frozen=True)
class ExtractionProgress:
    extractor: str
    done: int
    total: int


@dataclass(frozen=True)
class PerturbationStarted:
    condition: str


@dataclass(frozen=True)
class FoldStarted:
    fold: int
    pipelines: tuple[str, ...]


@dataclass(frozen=True)
class PipelineFoldFinished:
    pipeline: str
    name: str
    fold: int
    ok: bool
    error: str | None = None


@dataclass(frozen=True)
class RunFinished:
    run_id: str
    ran: int
    skipped: int
    failed: int


@dataclass(frozen=True)
class CorpusUnitStarted:
    """A benchmark over several corpora starts one of its runs: a corpus's grid, or a matrix training set."""

    unit: str
    role: str  # corpus, matrix
    corpus: str  # the corpus, or the training set's label
    tests: tuple[str, ...] = ()  # matrix: the corpora it is tested on


Event = (
    RunPlanned
    | ExtractionProgress
    | PerturbationStarted
    | FoldStarted
    | PipelineFoldFinished
    | RunFinished
    | CorpusUnitStarted
)
EventHandler = Callable[[Event], None]


def ignore(event: Event) -> None:
    """The handler when nobody listens."""
