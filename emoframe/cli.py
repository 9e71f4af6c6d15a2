"""The ``emoframe`` command. Errors print one line per problem (no traceback unless --debug).

Exit codes: 0 ok, 1 finished with failures, 2 bad input (DESIGN.md §7).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import __version__
from .errors import EmoframeError, SpecError
from .evaluation.stats import OUTCOME_STYLE, fusion_outcome

# wide enough for the leaderboard when piped or logged (a terminal keeps its own width). markup=False:
# user text (names, paths, labels, messages) is data, never markup; colour comes from Text styles.
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 180, markup=False, highlight=False)
err_console = Console(
    stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else 180, markup=False, highlight=False
)


def styled(*parts: str | tuple[str, str]) -> Text:
    """Plain text with styled pieces: ``styled(("error: ", "red"), message)`` — never parsed as markup."""
    return Text.assemble(*parts)


class EmoframeGroup(click.Group):
    """Turns EmoframeError into clean messages and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EmoframeError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            problems = getattr(exc, "problems", None)
            lines = (
                [f"{getattr(exc, 'source', None)}: {p}" if getattr(exc, "source", None) else str(p) for p in problems]
                if problems
                else str(exc).splitlines()
            )
            for line in lines:
                err_console.print(styled(("error: ", "red"), line))
            ctx.exit(exc.exit_code)
        except OSError as exc:  # a full disk, a read-only folder: name the file and what to do
            if ctx.obj and ctx.obj.get("debug"):
                raise
            where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
            err_console.print(
                styled(
                    ("error: ", "red"),
                    f"cannot write or read{where}: {exc.strerror or exc} — "
                    "free disk space or choose a writable folder (--workdir, --out)",
                )
            )
            ctx.exit(1)
        except KeyboardInterrupt:
            resumable = ctx.invoked_subcommand in ("run", "bench", "demo")
            err_console.print(
                "interrupted: workers stopped; every finished fold is stored — rerun the same command to resume"
                if resumable
                else "interrupted: workers stopped",
                highlight=False,
                markup=False,
            )
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 — last resort: one line, not a traceback
            if ctx.obj and ctx.obj.get("debug"):
                raise
            err_console.print(
                styled(
                    ("internal error: ", "red"), f"{type(exc).__name__}: {exc} (rerun with --debug for the traceback)"
                )
            )
            ctx.exit(1)


@click.group(cls=EmoframeGroup)
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(__version__, prog_name="emoframe")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Multimodal emotion recognition from speech audio and transcripts."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _use_workdir(path: Path | None) -> Path:
    """--workdir, else $EMOFRAME_WORKDIR, else ./.emoframe; passed on explicitly, never via the environment."""
    from .workdir import workdir

    return workdir(path)


def _registry() -> Any:
    from .registry import get_registry

    return get_registry()


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--show", metavar="NAME", help="Show one component's documentation and parameters.")
def plugins(as_json: bool, show: str | None) -> None:
    """List installed plugins and their components (broken plugins with the reason)."""
    reg = _registry()
    if show:
        info = reg.get(show)
        if as_json:
            click.echo(json.dumps(info.to_dict(), indent=2))
            return
        _show_component(info)
        return
    if as_json:
        click.echo(
            json.dumps(
                {"plugins": [p.to_dict() for p in reg.plugins], "components": [c.to_dict() for c in reg.components()]},
                indent=2,
            )
        )
        return
    table = Table(title="emoframe components", title_justify="left")
    for col in ("name", "kind", "in → out", "plugin (EMOFRAME_PLUGINS)", "distribution", "version", "what it is"):
        table.add_column(col, overflow="fold")
    for c in reg.components():
        table.add_row(
            c.name,
            c.kind,
            c.io_text,
            c.plugin,
            f"{c.distribution} {c.distribution_version}".strip(),
            c.version,
            c.summary,
        )
    console.print(table)
    if reg.conflicts:
        ct = Table(
            title="name conflicts (neither is used under the bare name)", title_justify="left", title_style="red"
        )
        for col in ("name", "registered by", "write in a spec"):
            ct.add_column(col, overflow="fold")
        for name, group in reg.conflicts.items():
            ct.add_row(
                name,
                "\n".join(f"{c.distribution} {c.distribution_version} (plugin {c.plugin})" for c in group),
                "\n".join(c.qualified_name for c in group),
            )
        console.print(ct)
    broken = reg.broken
    if broken:
        bt = Table(title="plugins with problems", title_justify="left", title_style="red")
        for col in ("plugin", "distribution", "status", "reason"):
            bt.add_column(col, overflow="fold")
        for p in broken:
            bt.add_row(p.name, p.distribution, p.status, "\n".join(p.problems))
        console.print(bt)


def _show_component(info: Any) -> None:
    console.print(
        styled(
            (info.name, "bold"),
            f"  {info.kind} · {info.io_text} · v{info.version}  ({info.distribution} {info.distribution_version})",
        )
    )
    console.print(info.doc or "(no documentation)")
    rows = info.param_rows()
    if not rows:
        console.print("no parameters")
        return
    table = Table(title="parameters", title_justify="left")
    for col in ("name", "type", "default", "allowed", "description"):
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _spec_manifest(data: Any, base: Path) -> Any:
    """A spec's manifest file, loaded, for the checks that need the rows (size warnings, audio
    branches over text-only rows); None for a corpus (validate does not load one: it may generate
    or unpack data) or a manifest that cannot be read (the run says why)."""
    from .data.manifest import load_manifest
    from .errors import DataError

    if data.manifest is None:
        return None
    path = Path(data.manifest) if Path(data.manifest).is_absolute() else base / data.manifest
    try:
        return load_manifest(path, encoding=data.encoding)
    except DataError:
        return None


@main.command()
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--expand", is_flag=True, help="List the pipelines a benchmark expands to.")
def validate(spec_path: Path, expand: bool) -> None:
    """Validate a pipeline or benchmark spec (YAML/JSON) against the installed plugins."""
    from .data.source import check_audio_rows
    from .spec import PipelineSpec, cost_warnings, load_spec, pipelines_of

    reg = _registry()
    spec = load_spec(spec_path, registry=reg)
    pipelines = pipelines_of(spec, reg)
    manifest = _spec_manifest(spec.data, spec_path.parent)
    if manifest is not None:
        check_audio_rows(pipelines, manifest)  # DataError: exit 2, naming rows and branches
        for note in cost_warnings(pipelines, reg, len(manifest)):
            err_console.print(styled(("warning: ", "yellow"), note))
    if isinstance(spec, PipelineSpec):
        console.print(styled(("ok", "green"), f" pipeline: {spec.display_name}"))
        return
    fused = sum(p.is_fused for p in pipelines)
    console.print(
        styled(
            ("ok", "green"),
            f" benchmark{' ' + spec.name if spec.name else ''}: "
            f"{len(pipelines)} pipelines ({fused} fused, {len(pipelines) - fused} unimodal)",
        )
    )
    if expand:
        for p in pipelines:
            console.print(f"  {p.label()}", highlight=False, markup=False)


@main.command()
@click.option("--kind", type=click.Choice(["pipeline", "benchmark", "all"]), default="all", show_default=True)
def schema(kind: str) -> None:
    """Print the JSON Schema of the spec files."""
    from .spec import json_schemas

    schemas = json_schemas()
    out = schemas if kind == "all" else schemas[f"{kind.capitalize()}Spec"]
    click.echo(json.dumps(out, indent=2))


@main.group()
def corpus() -> None:
    """Generate the synthetic demo corpus; inspect corpora."""


@corpus.command("synth")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write: new, empty, or a corpus folder emoframe generated (then replaced).",
)
@click.option("--seed", default=0, show_default=True)
@click.option("--speakers", default=12, show_default=True, type=click.IntRange(2, 2000))
@click.option("--per-class", default=10, show_default=True, type=click.IntRange(1, 500))
@click.option(
    "--size",
    type=click.IntRange(8, 1_000_000),
    help="About this many utterances (sets --speakers and --per-class: 1000 → 25 × 10, 16000 → 100 × 40).",
)
def corpus_synth(out: Path, seed: int, speakers: int, per_class: int, size: int | None) -> None:
    """Write the synthetic demo corpus (deterministic: same seed, same bytes)."""
    import time

    from .data.synth import CLASSES, generate, shape_for

    if size is not None:
        speakers, per_class = shape_for(size)
    t0 = time.perf_counter()
    generate(out, seed=seed, speakers=speakers, per_class=per_class)
    n = speakers * per_class * len(CLASSES)
    console.print(
        f"wrote {n} synthetic utterances ({speakers} speakers, {', '.join(CLASSES)}) to {out} "
        f"in {time.perf_counter() - t0:.1f} s — synthetic speech, not a real corpus",
        highlight=False,
    )


def _load_corpus(name: str | None, manifest: Path | None, params: tuple[str, ...], wd: Path | None = None) -> Any:
    from .data.manifest import load_manifest

    if (name is None) == (manifest is None):
        raise click.UsageError("give a corpus NAME or --manifest PATH")
    if manifest is not None:
        return load_manifest(manifest)
    values = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"'{item}' is not KEY=VALUE", param_hint="--param")
        values[key] = _parse_value(value)
    corpus = _registry().create(name, values, kind="corpus")
    if wd is not None:
        corpus.workdir = wd
    return corpus.load()


def _parse_value(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


@corpus.command("info")
@click.argument("name", required=False)
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=Path), help="A manifest file instead.")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE", help="Corpus parameter.")
def corpus_info(name: str | None, manifest: Path | None, params: tuple[str, ...]) -> None:
    """Load a corpus, validate it, and show its size, classes and speakers."""
    m = _load_corpus(name, manifest, params)
    frame = m.frame
    console.print(
        f"{m.name}: {len(m)} utterances, {frame['speaker'].nunique()} speakers, "
        f"audio: {'yes' if m.has_audio else 'no (text-only)'}",
        highlight=False,
    )
    table = Table("label", "utterances", "speakers")
    for label, group in frame.groupby("label"):
        table.add_row(str(label), str(len(group)), str(group["speaker"].nunique()))
    console.print(table)
    for w in m.warnings:
        err_console.print(styled(("warning: ", "yellow"), w))


@main.command()
@click.argument("extractor")
@click.option("--corpus", "corpus_name", help="Registered corpus name.")
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=Path), help="A manifest file instead.")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE", help="Corpus parameter.")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None, help="Worker processes [default: cores].")
@click.option("--no-cache", is_flag=True, help="Do not read or write the feature cache.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), help="State folder [./.emoframe].")
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
    from .features import FeatureCache, extract_features

    wd = _use_workdir(workdir)
    from .workers import Limits

    m = _load_corpus(corpus_name, manifest, params, wd)
    ext = _registry().create(extractor, kind="extractor")
    cache = None if no_cache else FeatureCache(wd / "cache")
    result = extract_features(ext, m, jobs=jobs, cache=cache, progress=sys.stderr.isatty(), limits=Limits())
    shape = result.features[0].shape if result.features else ()
    console.print(
        f"{ext.name}: {len(result.ids)} samples ({result.hits} cached, {result.misses} computed"
        + (f", {result.reused} identical to another row's input, computed once" if result.reused else "")
        + ") "
        f"in {result.seconds:.1f} s; feature shape {shape}",
        highlight=False,
        markup=False,
    )
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
        _report_left_out([{"id": i, "component": ext.name, "reason": why} for i, why in result.failures.items()])
        err_console.print(f"{len(result.failures)} sample(s) skipped; the rest was processed and saved")
        sys.exit(1)


@main.command("run")
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None, help="Processes [default: cores].")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), help="State folder [./.emoframe].")
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
    from .results.leaderboard import leaderboard, results_of
    from .results.store import ResultsStore
    from .spec import PipelineSpec, load_spec

    wd = _use_workdir(workdir)
    spec = load_spec(spec_path, registry=_registry())
    if not isinstance(spec, PipelineSpec):
        raise SpecError(
            [],
            source=f"{spec_path}: a benchmark spec (it lists alternatives); run it with `emoframe bench`, or "
            "list its pipelines with `emoframe validate --expand`",
        )
    outcome = _execute(spec, spec_path, wd, jobs, fresh=fresh, timeout=timeout, no_cache=no_cache)
    store = ResultsStore(wd / "results.db", readonly=True)
    try:
        (_, result, _), row = results_of(store, outcome.run_id)[0], leaderboard(store, outcome.run_id)[0]
        run = store.run(outcome.run_id)
    finally:
        store.close()
    if result is not None:
        if as_json:
            click.echo(json.dumps({"run_id": outcome.run_id, **result.to_dict()}, indent=1))
        else:
            _print_result(result, row)
    err_console.print(
        styled(
            (
                f"stored as run {outcome.run_id[:12]} in {wd / 'results.db'}: `emoframe results --run "
                f"{outcome.run_id[:12]}`, `emoframe runs`",
                "dim",
            )
        )
    )
    _report_left_out(run["failures"])
    _report_errors(outcome)


def _print_result(r: Any, row: dict[str, Any]) -> None:
    from .results.leaderboard import coverage_text, learned_lines

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


def _limits(spec: Any, timeout: str | None) -> Any:
    """The spec's execution limits, with --timeout (seconds, or 'none') on top."""
    import dataclasses

    from .bench.runner import limits_of

    limits = limits_of(spec.execution)
    if timeout is None:
        return limits
    if timeout.strip().lower() in ("none", "null", "off"):
        return dataclasses.replace(limits, timeout=None)
    try:
        seconds = float(timeout)
    except ValueError:
        raise click.BadParameter(f"'{timeout}' is not a number of seconds or 'none'", param_hint="--timeout") from None
    if not seconds > 0:
        raise click.BadParameter("must be > 0 (or 'none')", param_hint="--timeout")
    return dataclasses.replace(limits, timeout=seconds)


def progress_bar() -> Any:
    """The bars of long commands: on stderr when it is a terminal, gone when the work is done."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not sys.stderr.isatty(),
    )


def _execute(
    spec: Any,
    spec_path: Path,
    wd: Path,
    jobs: int | None,
    executor: str = "local",
    scheduler: str | None = None,
    fresh: bool = False,
    timeout: str | None = None,
    no_cache: bool = False,
) -> Any:
    """Run (or resume) a spec into the store with progress bars on the terminal; the outcome."""
    from .bench import events as ev
    from .bench.runner import run_benchmark

    reg = _registry()
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
                f"{event.pipelines} pipelines × {event.folds} folds: {event.pending} to run, "
                f"{event.skipped} already in the store",
                highlight=False,
                markup=False,
            )
        elif isinstance(event, ev.PerturbationStarted):
            err_console.print(f"preparing perturbed test data: {event.condition}", highlight=False, markup=False)
        elif isinstance(event, ev.PipelineFoldFinished):
            bar.advance(tasks["all"])
            if not event.ok and (event.name, event.error) not in said:  # once per pipeline and reason
                said.add((event.name, event.error))
                err_console.print(styled(("failed ", "red"), f"{event.name} in fold {event.fold}: {event.error}"))

    said: set[tuple[str, str | None]] = set()
    limits = _limits(spec, timeout)
    with bar:
        outcome = run_benchmark(
            spec,
            reg,
            wd,
            jobs,
            "dask" if executor == "dask" else "local",
            scheduler,
            fresh,
            base_dir=spec_path.parent,
            events=events,
            limits=limits,
            use_cache=not no_cache,
        )
    for w in outcome.warnings:
        err_console.print(styled(("warning: ", "yellow"), w))
    return outcome


def _bench(
    spec_path: Path,
    jobs: int | None,
    workdir: Path | None,
    executor: str,
    scheduler: str | None,
    fresh: bool,
    report_dir: Path | None,
    timeout: str | None = None,
    no_cache: bool = False,
) -> None:
    """Shared by `bench` and `demo`: run or resume, then leaderboard, verdicts, report; exit 1 on failures."""
    import time

    from .results.leaderboard import leaderboard, learned_lines
    from .results.report import write_report
    from .results.store import ResultsStore
    from .spec import load_spec

    wd = _use_workdir(workdir)
    spec = load_spec(spec_path, registry=_registry())
    t0 = time.perf_counter()
    outcome = _execute(spec, spec_path, wd, jobs, executor, scheduler, fresh, timeout, no_cache)

    store = ResultsStore(wd / "results.db", readonly=True)
    try:
        rows = leaderboard(store, outcome.run_id)
        _print_leaderboard(rows, title=f"{outcome.name} — run {outcome.run_id[:12]}")
        _print_robustness(rows)
        _print_verdicts(rows)
        for r in rows:
            for line in learned_lines(r):
                console.print(f"{r['pipeline']}: {line}", highlight=False)
        run = store.run(outcome.run_id)
        for a in run.get("asr") or []:
            console.print(a["line"], highlight=False)
        for w in run["warnings"]:
            err_console.print(styled(("warning: ", "yellow"), w))
        seen = set()
        for r in rows:
            for w in r.get("warnings", []):
                if w not in seen and w not in run["warnings"]:
                    seen.add(w)
                    err_console.print(styled(("warning: ", "yellow"), w))
        report = write_report(store, outcome.run_id, report_dir or wd / "reports" / outcome.run_id[:12], rows)
        _report_left_out(run["failures"])
    finally:
        store.close()
    console.print(
        f"{outcome.ran} pipeline-fold(s) run, {outcome.skipped} reused from the store, "
        f"{outcome.shared_hits} shared branch fit(s) in {time.perf_counter() - t0:.1f} s · "
        f"report: {report}",
        highlight=False,
    )
    _report_errors(outcome)


def _report_errors(outcome: Any) -> None:
    """Failed pipeline-folds, one line per (pipeline, message) with its folds; exit 1 if any."""
    if not outcome.errors:
        return
    names = {pid: ps.display_name for pid, ps in outcome.pipelines}
    grouped: dict[tuple[str, str], list[int]] = {}
    for e in outcome.errors:
        grouped.setdefault((names.get(e["pipeline_id"], e["pipeline_id"]), e["message"]), []).append(e["fold"])
    err_console.print(styled((f"{len(outcome.errors)} pipeline-fold(s) failed:", "red")))
    for (name, message), folds in grouped.items():
        err_console.print(f"  {name} (fold{'s' if len(folds) > 1 else ''} {', '.join(map(str, folds))}): {message}")
    err_console.print("every other pipeline completed and is stored; fix the cause and rerun to fill the gaps")
    sys.exit(1)


def _report_left_out(failures: list[dict[str, Any]], shown: int = 8) -> None:
    """Rows left out, one line per (component, reason) with the count and examples."""
    from .evaluation.failures import group_failures

    groups = group_failures(failures)
    for g in groups[:shown]:
        err_console.print(styled(("left out ", "yellow"), g.line()))
    if len(groups) > shown:
        err_console.print(f"… and {len(groups) - shown} more reason(s); `emoframe failures` lists every row")


def _print_leaderboard(rows: list[dict[str, Any]], title: str) -> None:
    from .results.leaderboard import HEADERS, table_cells

    table = Table(
        title=title,
        title_justify="left",
        caption="sorted by pooled UAR; n = rows evaluated (share of the rows the protocol evaluates)",
        caption_justify="left",
    )
    for col in HEADERS:
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(*table_cells(r))
    console.print(table)


def _print_verdicts(rows: list[dict[str, Any]]) -> None:
    """Each fused row's verdict, coloured by its outcome (`bench`, `demo` and `results` alike)."""
    from .results.leaderboard import outcome

    for r in rows:
        if r.get("verdict"):
            console.print(styled((r["verdict"], OUTCOME_STYLE[outcome(r)]), f" — {r['pipeline']}"))


def _print_robustness(rows: list[dict[str, Any]]) -> None:
    names = sorted({n for r in rows for n in (r.get("robustness") or {})})
    if not names:
        return
    table = Table("pipeline", *names, title="robustness: UAR change under perturbation (points)", title_justify="left")
    for r in rows:
        rob = r.get("robustness") or {}
        if rob:
            table.add_row(r["pipeline"], *[f"{rob[n]['delta'] * 100:+.1f}" if n in rob else "" for n in names])
    console.print(table)


_BENCH_OPTIONS = [
    click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None, help="Processes [default: cores]."),
    click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), help="State folder [./.emoframe]."),
    click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True),
    click.option("--scheduler", metavar="ADDRESS", help="Dask scheduler (tcp://host:port); default: a LocalCluster."),
    click.option("--fresh", is_flag=True, help="Drop this benchmark's stored results and rerun everything."),
    click.option(
        "--report",
        "report_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder of the HTML report [<workdir>/reports/<run>].",
    ),
    click.option(
        "--timeout",
        metavar="SECONDS|none",
        help="Stop a fold task after this long and record it as timed out [spec's execution.timeout: 7200].",
    ),
    click.option("--no-cache", is_flag=True, help="Neither read nor write the feature cache."),
]


def _bench_options(fn: Any) -> Any:
    for option in reversed(_BENCH_OPTIONS):
        fn = option(fn)
    return fn


@main.command()
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False, path_type=Path))
@_bench_options
def bench(
    spec_path: Path,
    jobs: int | None,
    workdir: Path | None,
    executor: str,
    scheduler: str | None,
    fresh: bool,
    report_dir: Path | None,
    timeout: str | None,
    no_cache: bool,
) -> None:
    """Run (or resume) a benchmark spec; print the leaderboard and fusion verdicts; write the report."""
    _bench(spec_path, jobs, workdir, executor, scheduler, fresh, report_dir, timeout, no_cache)


@main.command()
@_bench_options
def demo(
    jobs: int | None,
    workdir: Path | None,
    executor: str,
    scheduler: str | None,
    fresh: bool,
    report_dir: Path | None,
    timeout: str | None,
    no_cache: bool,
) -> None:
    """The default benchmark on the built-in synthetic corpus (generated on first use)."""
    from importlib.resources import as_file, files

    err_console.print(
        "emoframe demo: the synthetic demo corpus (not real speech), speaker-independent 5-fold", highlight=False
    )
    with as_file(files("emoframe.bench") / "demo.yaml") as spec_path:
        _bench(Path(spec_path), jobs, workdir, executor, scheduler, fresh, report_dir, timeout, no_cache)


def _echo_records(records: list[dict[str, Any]], fmt: str, fields: list[str]) -> None:
    """Records as JSON or CSV on stdout (machine-readable faces of `runs` and `failures`)."""
    import csv
    import io

    if fmt == "json":
        click.echo(json.dumps(records, indent=1))
        return
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(records)
    click.echo(buf.getvalue(), nl=False)


def _read_store(workdir: Path | None) -> Any:
    from .results.store import ResultsStore

    wd = _use_workdir(workdir)
    if not (wd / "results.db").exists():
        raise EmoframeError(f"no results in {wd}; run `emoframe run SPEC`, `emoframe bench SPEC` or `emoframe demo`")
    return ResultsStore(wd / "results.db", readonly=True)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), help="State folder [./.emoframe].")
def runs(fmt: str, workdir: Path | None) -> None:
    """Every stored run, newest first: `emoframe run` and `emoframe bench` alike."""
    import datetime

    store = _read_store(workdir)
    try:
        rows = []
        for r in store.runs():
            total = (r["pipelines"] or 0) * (r["n_folds"] or 0)
            status = "complete" if total and r["folds_done"] == total else f"{r['folds_done']}/{total} folds"
            rows.append(
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
    finally:
        store.close()
    if fmt in ("json", "csv"):
        _echo_records(rows, fmt, list(rows[0]) if rows else ["id"])
    else:
        table = Table(
            "id",
            "name",
            "date",
            "kind",
            "protocol",
            "pipelines",
            "status",
            "failed pipeline-folds",
            title="runs (newest first)",
            title_justify="left",
        )
        for r in rows:
            table.add_row(
                r["id"][:12],
                r["name"],
                r["date"],
                r["kind"],
                r["protocol"],
                str(r["pipelines"]),
                r["status"],
                str(r["failed"]),
            )
        console.print(table if rows else "no runs yet")


@main.command()
@click.argument("run_id", metavar="[RUN]", required=False)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), help="State folder [./.emoframe].")
def failures(run_id: str | None, fmt: str, workdir: Path | None) -> None:
    """Every row left out of a run (component, reason) and every failed pipeline-fold (default: latest run)."""

    store = _read_store(workdir)
    try:
        target = run_id or (store.runs() or [{"id": ""}])[0]["id"]
        run = store.run(target)
        names = {p["id"]: p["name"] for p in store.pipelines(run["id"])}
        records = [
            {
                "kind": "row",
                "what": f["id"],
                "component": f.get("component", "?"),
                "fold": "",
                "reason": f.get("reason", ""),
            }
            for f in run["failures"]
        ]
        records += [
            {
                "kind": "pipeline",
                "what": names.get(e["pipeline_id"], e["pipeline_id"]),
                "component": "",
                "fold": str(e["fold"]),
                "reason": e["message"],
            }
            for e in store.errors(run["id"])
        ]
    finally:
        store.close()
    if fmt in ("json", "csv"):
        _echo_records(records, fmt, ["kind", "what", "component", "fold", "reason"])
    else:
        table = Table(
            "kind",
            "row / pipeline",
            "component",
            "fold",
            "reason",
            title=f"failures of {run['name']} — run {run['id'][:12]}",
            title_justify="left",
        )
        for r in records:
            table.add_row(r["kind"], r["what"], r["component"], r["fold"], r["reason"])
        console.print(table if records else f"run {run['id'][:12]} has no failures")


@main.command()
@click.argument("run_id", metavar="RUN")
@click.argument("first", metavar="A")
@click.argument("second", metavar="B")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), help="State folder [./.emoframe].")
def compare(run_id: str, first: str, second: str, workdir: Path | None) -> None:
    """Is pipeline A better than B? Paired-bootstrap UAR difference on their shared rows, with its CI.

    A and B are pipeline ids (a prefix) or labels as `emoframe results` shows them.
    """
    from .results.leaderboard import compare_pipelines

    store = _read_store(workdir)
    try:
        d = compare_pipelines(store, run_id, first, second)
    finally:
        store.close()
    console.print(styled((d["verdict"], OUTCOME_STYLE[d["outcome"]])))
    console.print(f"UAR {d['uar_a']:.3f} ({d['a']}) vs {d['uar_b']:.3f} ({d['b']}) on the same {d['n']} rows")


@main.command()
@click.option("--run", "run_id", help="Run id (prefix) or name; default: the latest run.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json", "markdown"]), default="table", show_default=True
)
@click.option(
    "--sort",
    type=click.Choice(["uar", "wa", "macro_f1", "gain", "gap", "fit", "name"]),
    default="uar",
    show_default=True,
)
@click.option("--ascending", is_flag=True, help="Sort ascending.")
@click.option("--fused", "only_fused", is_flag=True, help="Only fused pipelines.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), help="State folder [./.emoframe].")
def results(run_id: str | None, fmt: str, sort: str, ascending: bool, only_fused: bool, workdir: Path | None) -> None:
    """The leaderboard of a run (`--run`), or the list of runs."""
    from .results.leaderboard import leaderboard, learned_lines, to_csv, to_json, to_markdown

    store = _read_store(workdir)
    try:
        runs = store.runs()
        if not runs:
            raise EmoframeError(f"no runs in {store.path}")
        target = run_id or runs[0]["id"]
        rows = leaderboard(store, target, sort=sort, descending=not ascending)
        if only_fused:
            rows = [r for r in rows if r["fused"]]
        run = store.run(target)
        if fmt == "table":
            if run_id is None and len(runs) > 1:
                others = ", ".join(f"{r['id'][:12]} ({r['name']})" for r in runs[1:6])
                err_console.print(f"latest run shown; others: {others}", highlight=False)
            _print_leaderboard(rows, title=f"{run['name']} — run {target[:12]}")
            _print_verdicts(rows)
            for a in run.get("asr") or []:
                console.print(a["line"], highlight=False)
            for r in rows:
                for line in learned_lines(r):
                    console.print(f"{r['pipeline']}: {line}", highlight=False)
        else:
            click.echo({"csv": to_csv, "json": to_json, "markdown": to_markdown}[fmt](rows), nl=False)
    finally:
        store.close()


@main.command()
@click.argument("run_id", metavar="RUN", required=False)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), help="State folder [./.emoframe].")
def report(run_id: str | None, out: Path, workdir: Path | None) -> None:
    """Write a self-contained HTML report of a run (default: the latest)."""
    from .results.report import write_report

    store = _read_store(workdir)
    try:
        target = run_id or (store.runs() or [{"id": ""}])[0]["id"]
        path = write_report(store, target, out)
    finally:
        store.close()
    console.print(f"wrote {path}", highlight=False)


@main.command()
@click.argument("spec_path", metavar="[SPEC]", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), help="State folder [./.emoframe].")
def tui(spec_path: Path | None, workdir: Path | None) -> None:
    """The terminal UI: browse plugins, build and validate specs, run benchmarks, read results."""
    from .tui.app import EmoframeApp

    EmoframeApp(_registry(), _use_workdir(workdir), spec_path).run()


@main.group()
def new() -> None:
    """Start something new from a template."""


@new.command("plugin")
@click.argument("name")
@click.option(
    "--kinds",
    default="extractor,model,fusion",
    show_default=True,
    help="Components to write, comma-separated: extractor, model, fusion.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder to create emoframe-NAME/ in.",
)
def new_plugin(name: str, kinds: str, out: Path) -> None:
    """A plugin distribution (pyproject with the entry point, components, conformance tests, README)."""
    from .scaffold import new_plugin as scaffold

    root = scaffold(name, out, tuple(k.strip() for k in kinds.split(",") if k.strip()))
    console.print(f"wrote {root}: `pip install -e {root}` registers it; `pytest {root / 'tests'}` checks it")


@main.group()
def cache() -> None:
    """Inspect or clear the feature cache."""


@cache.command("info")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), help="State folder [./.emoframe].")
def cache_info(workdir: Path | None) -> None:
    """Entries and size per extractor."""
    from .features import FeatureCache

    fc = FeatureCache(_use_workdir(workdir) / "cache")
    info = fc.info()
    table = Table("extractor", "entries", "size", title=f"feature cache {fc.root}", title_justify="left")
    for name, row in info.items():
        table.add_row(name, str(row["entries"]), f"{row['bytes'] / 1e6:.1f} MB")
    console.print(table if info else f"feature cache {fc.root} is empty", highlight=False)


@cache.command("clear")
@click.option("--extractor", help="Only this extractor's entries.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), help="State folder [./.emoframe].")
def cache_clear(extractor: str | None, workdir: Path | None) -> None:
    """Delete cached features (all, or one extractor's)."""
    from .features import FeatureCache

    fc = FeatureCache(_use_workdir(workdir) / "cache")
    removed = fc.clear(extractor)
    console.print(f"removed {removed} cached entr{'y' if removed == 1 else 'ies'}", highlight=False)
    if fc.left_in_place:
        shown = ", ".join(str(p) for p in fc.left_in_place[:3])
        err_console.print(
            styled(("warning: ", "yellow"), f"left {len(fc.left_in_place)} file(s) emoframe did not write: {shown}")
        )


def _add_deploy_commands() -> None:
    """train, predict, export, serve: defined in emoframe.deploy_commands (they share this module's helpers)."""
    from . import deploy_commands as commands

    for cmd in (commands.train, commands.predict, commands.export, commands.serve):
        main.add_command(cmd)


_add_deploy_commands()

__all__ = ["main", "SpecError"]
