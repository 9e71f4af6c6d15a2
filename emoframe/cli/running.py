"""Commands that run work: `extract`, `run`, `bench`, `demo` (progress on stderr, results in the store)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from ..display import OUTCOME_STYLE
from ..evaluation.stats import fusion_outcome
from .common import (
    RunOptions,
    bench_options,
    console,
    err_console,
    load_corpus,
    load_registry,
    print_leaderboard,
    print_robustness,
    print_verdicts,
    progress_bar,
    report_errors,
    report_left_out,
    styled,
    use_workdir,
    workdir_option,
)

if TYPE_CHECKING:
    from ..results.leaderboard import LeaderboardRow


@click.command()
@click.argument("extractor")
@click.option("--corpus", "corpus_name", help="Registered corpus name.")
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=Path), help="A manifest file instead.")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE", help="Corpus parameter.")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None, help="Worker processes [default: cores].")
@click.option("--no-cache", is_flag=True, help="Do not read or write the feature cache.")
@workdir_option
def extract(
    extractor: str,
    corpus_name: str | None,
    manifest: Path | None,
    params: tuple[str, ...],
    jobs: int | None,
    no_cache: bool,
    workdir: Path | None,
) -> None:
    """Extract (and cache) a stateless extractor's features for a corpus."""
    from ..features import FeatureCache, extract_features
    from ..workers import Limits

    wd = use_workdir(workdir)
    m = load_corpus(corpus_name, manifest, params, wd)
    ext = load_registry().create(extractor, kind="extractor")
    cache = None if no_cache else FeatureCache(wd / "cache")
    result = extract_features(ext, m, jobs=jobs, cache=cache, progress=sys.stderr.isatty(), limits=Limits())
    shape = result.features[0].shape if result.features else ()
    console.print(f"{extraction_summary(result, len(m))}; feature shape {shape}", highlight=False, markup=False)
    if result.corrupt:
        err_console.print(
            f"warning: {result.corrupt} damaged cache entr{'y' if result.corrupt == 1 else 'ies'} "
            "found; recomputed and rewritten",
            highlight=False,
            markup=False,
        )
    if result.cache_warning:
        err_console.print(f"warning: {result.cache_warning}", highlight=False, markup=False)
    if result.failures:
        from ..evaluation.failures import failure_records

        files = dict(zip(m.frame["id"].astype(str), m.frame["audio"])) if ext.modality == "audio" else None
        report_left_out(failure_records(ext.name, result.failures, files), stored=False)
        err_console.print(f"{len(result.failures)} row(s) left out; the rest was extracted and saved")
        sys.exit(1)


def extraction_summary(result: Any, rows: int) -> str:
    """'librosa.mfcc: 28 of 32 rows extracted (0 from the cache, 28 computed), 4 left out, in 2.8 s': every
    count is of rows, so the parts add up (extracted = cached + computed; extracted + left out = rows)."""
    done = len(result.ids)
    shared = f", {result.reused} of them sharing another row's identical input" if result.reused else ""
    return (
        f"{result.extractor}: {done} of {rows} rows extracted ({result.hits} from the cache, {done - result.hits} "
        f"computed{shared}), {len(result.failures)} left out, in {result.seconds:.1f} s"
    )


@click.command("run")
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None, help="Processes [default: cores].")
@workdir_option
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
@click.option("--fresh", is_flag=True, help="Drop this run's stored results and rerun it.")
@click.option("--timeout", metavar="SECONDS|none", help="Stop a fold task after this long [7200].")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the feature cache.")
def run_pipeline(
    spec_path: Path,
    jobs: int | None,
    workdir: Path | None,
    as_json: bool,
    fresh: bool,
    timeout: str | None,
    no_cache: bool,
) -> None:
    """Evaluate one pipeline under its protocol; store it as a run; print metrics with CIs."""
    from ..api import run as run_api
    from ..results.leaderboard import results_of
    from ..results.store import ResultsStore

    options = RunOptions(jobs=jobs, workdir=workdir, executor="local", fresh=fresh, timeout=timeout, no_cache=no_cache)
    stored = _execute(run_api, spec_path, options)
    wd = stored.workdir
    store = ResultsStore(wd / "results.db", readonly=True)
    try:
        (_, result, _), row = results_of(store, stored.id)[0], stored.rows[0]
        run = store.run(stored.id)
    finally:
        store.close()
    if result is not None:
        if as_json:
            click.echo(json.dumps({"run_id": stored.id, **result.to_dict()}, indent=1))
        else:
            _print_result(result, row)
    err_console.print(
        styled(
            (
                f"stored as run {stored.id[:12]} in {wd / 'results.db'}: `emoframe results --run "
                f"{stored.id[:12]}`, `emoframe runs`",
                "dim",
            )
        )
    )
    report_left_out(run["failures"])
    report_errors(stored.outcome)


def _print_result(r: Any, row: LeaderboardRow) -> None:
    from ..results.leaderboard import coverage_text, learned_lines

    lo, hi = r.uar_ci
    console.print(styled((r.pipeline, "bold"), f"  ({r.protocol}, {len(r.folds)} fold(s), {len(r.classes)} classes)"))
    console.print(
        f"UAR {r.metrics['uar']:.3f} [95% CI {lo:.3f}–{hi:.3f}] pooled over n = {coverage_text(row)} rows · "
        f"fold mean {r.uar_mean:.3f} ± {r.uar_std:.3f} · WA {r.metrics['wa']:.3f} · "
        f"macro-F1 {r.metrics['macro_f1']:.3f} · weighted-F1 {r.metrics['weighted_f1']:.3f}"
    )
    console.print(
        f"generalisation gap (train − test UAR) {r.gap_mean:+.3f} ± {r.gap_std:.3f} · "
        f"fit {r.fit_s:.1f} s · predict {r.predict_s:.1f} s",
        highlight=False,
    )
    if r.verdict:
        colour = OUTCOME_STYLE[fusion_outcome(*r.fusion_gain["ci"])]
        parts = ", ".join(f"{k} {v:.3f}" for k, v in r.fusion_gain["part_uar"].items())
        console.print(styled((r.verdict, colour), f" (unimodal UAR: {parts})"))
    recall = Table("class", "recall", title="per-class recall", title_justify="left")
    for c, v in r.metrics["recall"].items():
        recall.add_row(c, "—" if v is None else f"{v:.3f}")
    console.print(recall)
    cm = Table("true \\ predicted", *r.classes, title="confusion matrix", title_justify="left")
    for c, counts in zip(r.classes, r.metrics["confusion"]):
        cm.add_row(c, *[str(v) for v in counts])
    console.print(cm)
    for line in learned_lines(row):
        console.print(line, highlight=False)
    for w in r.warnings:
        err_console.print(styled(("warning: ", "yellow"), w))


def print_tradeoff(rows: list[LeaderboardRow]) -> None:
    """The run's trade-off section: the accuracy/cost front, the CNN against the BiLSTM where both ran."""
    from ..results.tradeoff import tradeoff_lines

    console.print(styled(("trade-off ", "bold"), "(`emoframe results --cost` shows every cost column)"))
    for line in tradeoff_lines(rows):
        console.print(f"  {line}", highlight=False, markup=False)


def _timeout(timeout: str | None) -> float | str | None:
    """--timeout as the API takes it (seconds, or 'none'), refused here with the option's name."""
    if timeout is None or timeout.strip().lower() in ("none", "null", "off"):
        return timeout
    try:
        seconds = float(timeout)
    except ValueError:
        raise click.BadParameter(f"'{timeout}' is not a number of seconds or 'none'", param_hint="--timeout") from None
    if not seconds > 0:
        raise click.BadParameter("must be > 0 (or 'none')", param_hint="--timeout")
    return seconds


def _execute(api_call: Any, spec_path: Path, options: RunOptions, report: Path | bool | None = None) -> Any:
    """Run (or resume) a spec through the Python API (``emoframe.run`` / ``emoframe.bench``: one code path)
    with progress bars on the terminal; the stored ``Run``."""
    from ..bench import events as ev

    bar = progress_bar()
    tasks: dict[str, Any] = {}

    def events(event: ev.Event) -> None:
        if isinstance(event, ev.ExtractionProgress):
            key = f"extract:{event.extractor}"
            if key not in tasks:
                tasks[key] = bar.add_task(f"extracting {event.extractor}", total=event.total)
            bar.update(tasks[key], completed=event.done, total=event.total)
        elif isinstance(event, ev.RunPlanned):
            tasks["all"] = bar.add_task("pipeline × fold", total=event.pending)
            err_console.print(
                f"{event.pipelines} pipelines × {event.folds} folds"
                + (f" ({event.repeats} repeats)" if event.repeats > 1 else "")
                + f": {event.pending} to run, "
                f"{event.skipped} already in the store",
                highlight=False,
                markup=False,
            )
            for line in event.code_changes:
                err_console.print(styled(("code changed: ", "yellow"), line))
        elif isinstance(event, ev.CorpusUnitStarted):
            where = f"corpus {event.corpus}" if event.role == "corpus" else f"matrix: train on {event.corpus}"
            tests = f", test on {', '.join(event.tests)}" if event.tests else ""
            err_console.print(f"— {where}{tests}", highlight=False, markup=False)
        elif isinstance(event, ev.PerturbationStarted):
            err_console.print(f"preparing perturbed test data: {event.condition}", highlight=False, markup=False)
        elif isinstance(event, ev.PipelineFoldFinished):
            bar.advance(tasks["all"])
            if not event.ok and (event.name, event.error) not in said:  # once per pipeline and reason
                said.add((event.name, event.error))
                err_console.print(styled(("failed ", "red"), f"{event.name} in fold {event.fold}: {event.error}"))

    said: set[tuple[str, str | None]] = set()
    with bar:
        stored = api_call(
            spec_path,
            workdir=use_workdir(options.workdir),
            jobs=options.jobs,
            executor=options.executor,
            scheduler=options.scheduler,
            fresh=options.fresh,
            timeout=_timeout(options.timeout),
            cache=not options.no_cache,
            report=report,
            progress=False,
            events=events,
            registry=load_registry(),
        )
    for w in stored.outcome.warnings:
        err_console.print(styled(("warning: ", "yellow"), w))
    return stored


def _bench(spec_path: Path, options: RunOptions) -> None:
    """Shared by `bench` and `demo`: run or resume, then leaderboard, verdicts, report; exit 1 on failures."""
    import time

    from ..api import bench as bench_api
    from ..bench.executors import choose_executor
    from ..results.leaderboard import learned_lines
    from ..results.messages import run_warnings

    _, _, note = choose_executor(options.executor, options.scheduler)  # bad --scheduler: exit 2 first
    if note:
        err_console.print(note, highlight=False, markup=False)
    t0 = time.perf_counter()
    stored = _execute(bench_api, spec_path, options, report=options.report_dir or True)
    if is_study(stored.outcome):  # several corpora: each one's leaderboard, the one across them, the matrix
        _print_study(stored, time.perf_counter() - t0)
        return
    outcome, rows, run = stored.outcome, stored.rows, stored.info
    print_leaderboard(rows, title=f"{outcome.name} — run {outcome.run_id[:12]}")
    print_robustness(rows)
    print_verdicts(rows)
    print_tradeoff(rows)
    for r in rows:
        for line in learned_lines(r):
            console.print(f"{r.pipeline}: {line}", highlight=False)
    for a in run.get("asr") or []:
        console.print(a["line"], highlight=False)
    for w in run_warnings(run, rows):  # the report lists the same lines (and those said during the run)
        err_console.print(styled(("warning: ", "yellow"), w))
    report_left_out(run["failures"])
    console.print(
        f"{outcome.ran} pipeline-fold(s) run, {outcome.skipped} reused from the store, "
        f"{outcome.shared_hits} shared branch fit(s) in {time.perf_counter() - t0:.1f} s · "
        f"report: {stored.report_path}",
        highlight=False,
    )
    report_errors(outcome)


def is_study(outcome: Any) -> bool:
    from ..bench.study import StudyOutcome

    return isinstance(outcome, StudyOutcome)


def _print_study(stored: Any, seconds: float) -> None:
    """A benchmark over several corpora: every corpus's leaderboard, the table across them, the matrix and
    the ranks; then what ran and the report; exit 1 when a corpus failed (the others are stored)."""
    from ..results.store import ResultsStore
    from .corpora import print_study

    outcome = stored.outcome
    store = ResultsStore(stored.store_path, readonly=True)
    try:
        print_study(store, outcome.run_id)
    finally:
        store.close()
    extracted = ", ".join(
        f"{n}: {outcome.computed.get(n, 0)} computed, {outcome.from_cache.get(n, 0)} from the cache"
        for n in sorted(set(outcome.computed) | set(outcome.from_cache))
    )
    console.print(
        f"{outcome.ran} pipeline-fold(s) run over {len(outcome.units)} corpus run(s), {outcome.skipped} reused "
        f"from the store in {seconds:.1f} s · features: {extracted or 'none'} · report: {stored.report_path}",
        highlight=False,
    )
    failed_units = [u for u in outcome.units if u.status == "failed"]
    for u in failed_units:  # a corpus that could not be loaded (or split): its runs only
        err_console.print(styled(("failed: ", "red"), f"{u.corpus}: {u.message}"))
    outcome.errors = [e for e in outcome.errors if e["pipeline_id"]]
    report_errors(outcome)
    if failed_units:
        err_console.print("every other corpus ran and is stored; fix the cause and rerun to fill the gaps")
        sys.exit(1)


@click.command()
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False, path_type=Path))
@bench_options
def bench(spec_path: Path, options: RunOptions) -> None:
    """Run (or resume) a benchmark spec; print the leaderboard and fusion verdicts; write the report."""
    _bench(spec_path, options)


@click.command()
@bench_options
def demo(options: RunOptions) -> None:
    """The default benchmark on the built-in synthetic corpus (generated on first use)."""
    from importlib.resources import as_file, files

    err_console.print(
        "emoframe demo: the synthetic demo corpus (not real speech), speaker-independent 5-fold", highlight=False
    )
    with as_file(files("emoframe.bench") / "demo.yaml") as spec_path:
        _bench(Path(spec_path), options)
