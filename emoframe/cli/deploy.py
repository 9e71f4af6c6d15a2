"""Commands that ship a pipeline: `train`, `predict`, `export`, `serve` (the face of ``emoframe.deploy``)."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from ..errors import EmoframeError

if TYPE_CHECKING:
    from ..plugin.registry import Registry
    from ..spec import PipelineSpec
from .common import (
    STRICT_HELP,
    console,
    err_console,
    load_registry,
    progress_bar,
    report_left_out,
    styled,
    use_workdir,
    workdir_option,
)


def load_checked(bundle: Path, strict: bool) -> Any:
    """The bundle's Predictor (integrity checked; ``strict``: changed code refused), its warnings printed."""
    from ..deploy.predictor import Predictor

    model = Predictor.load(bundle, load_registry(), strict=strict)
    for w in model.warnings:
        err_console.print(styled(("warning: ", "yellow"), w))
    return model


@contextmanager
def extraction_bar() -> Iterator[Any]:
    """A progress bar per extractor on stderr (when it is a terminal); yields the progress callback."""
    bar = progress_bar()
    tasks: dict[str, Any] = {}

    def progress(name: str, done: int, total: int) -> None:
        if name not in tasks:
            tasks[name] = bar.add_task(f"extracting {name}", total=total)
        bar.update(tasks[name], completed=done, total=total)

    with bar:
        yield progress


@click.command()
@click.argument("spec_path", metavar="[SPEC]", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Bundle folder to write.")
@click.option("--split", help="Train on the rows whose 'split' column is this (e.g. train) [all rows].")
@click.option("--run", "run_id", help="Train a pipeline of this stored run (id prefix or exact name) [the latest run].")
@click.option(
    "--pipeline",
    "pipeline_key",
    help="The stored pipeline: its leaderboard rank (1 = the best), id prefix (≥ 4 hex characters) or exact label.",
)
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None, help="Extraction processes [cores].")
@click.option("--force", is_flag=True, help="Replace a bundle emoframe wrote at --out before.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the feature cache.")
@workdir_option
def train(
    spec_path: Path | None,
    out: Path,
    split: str | None,
    run_id: str | None,
    pipeline_key: str | None,
    jobs: int | None,
    force: bool,
    no_cache: bool,
    workdir: Path | None,
) -> None:
    """Fit one pipeline on all rows of its corpus (or of --split) and save it as a bundle.

    With --pipeline P (and --run RUN; default: the latest run) the pipeline comes from a stored
    benchmark run, and the bundle keeps that run's figures (UAR ± CI, fusion gain, protocol).
    P is the pipeline's rank on the leaderboard (1: the best), an id prefix of at least 4 hex characters,
    or its exact label, as `emoframe results` shows them; the chosen pipeline is printed first.
    """
    from ..deploy.train import train_bundle
    from ..workers import Limits

    wd = use_workdir(workdir)
    registry = load_registry()
    spec, figures, base_dir, what = _what_to_train(spec_path, run_id, pipeline_key, wd, registry)
    err_console.print(f"training {what}", highlight=False, markup=False)
    with extraction_bar() as progress:
        outcome = train_bundle(
            spec,
            out,
            registry,
            workdir=wd,
            base_dir=base_dir,
            split=split,
            jobs=jobs,
            evaluation=figures,
            use_cache=not no_cache,
            force=force,
            progress=progress,
            limits=Limits(),
        )
    for w in outcome.warnings:
        err_console.print(styled(("warning: ", "yellow"), w))
    report_left_out(outcome.left_out, stored=False)
    how_good = ""
    if figures and "uar" in figures:
        how_good = (
            f"; evaluated in run {figures['run'][:12]}: UAR {figures['uar']:.3f} "
            f"[{figures.get('uar_ci_low', float('nan')):.3f}, {figures.get('uar_ci_high', float('nan')):.3f}] "
            f"({figures['protocol']})"
        )
    console.print(
        f"bundle written to {outcome.path}: {spec.display_name}, trained on {outcome.rows} rows in "
        f"{outcome.seconds:.1f} s{how_good}. Next: `emoframe predict {outcome.path} FILES…`",
        highlight=False,
    )


def _what_to_train(
    spec_path: Path | None, run_id: str | None, pipeline_key: str | None, wd: Path, registry: Registry
) -> tuple[PipelineSpec, dict[str, Any] | None, Path | None, str]:
    """(spec, stored figures or None, the folder its relative paths start from, how to name it) of `train`'s
    SPEC or of --run RUN --pipeline P."""
    from ..deploy.train import choose_stored_pipeline
    from ..results.resolve import describe
    from ..results.store import ResultsStore
    from ..spec import PipelineSpec, load_spec

    if run_id is not None or pipeline_key is not None:
        if spec_path is not None:
            raise click.UsageError("give a SPEC or --run RUN --pipeline P, not both")
        if pipeline_key is None:
            raise click.UsageError(
                "--run needs --pipeline (a leaderboard rank, an id prefix or a label: see `emoframe results`)"
            )
        if not (wd / "results.db").exists():
            raise EmoframeError(f"no results in {wd}; `emoframe bench` or `emoframe demo` first, or pass --workdir")
        store = ResultsStore(wd / "results.db", readonly=True)
        try:  # --run omitted: the latest run, as `emoframe results` shows it
            chosen = choose_stored_pipeline(store, run_id, pipeline_key, registry)
        finally:
            store.close()
        figures = chosen.figures
        what = f"{describe(chosen.row)} of run {figures['run'][:12]} ({figures['run_name']})"
        base_dir = Path(figures.pop("base_dir")) if figures.get("base_dir") else None
        return chosen.spec, figures, base_dir, what
    if spec_path is None:
        raise click.UsageError("give a pipeline SPEC, or --run RUN --pipeline P")
    loaded = load_spec(spec_path, registry=registry)
    if not isinstance(loaded, PipelineSpec):
        raise EmoframeError(
            f"{spec_path}: a benchmark spec lists alternatives; train one of them: `emoframe train --run RUN "
            "--pipeline P` after benchmarking it, or write that pipeline as its own spec"
        )
    return loaded, None, spec_path.parent, loaded.display_name


def refuse_existing(path: Path, force: bool) -> None:
    """An existing file at ``path`` is replaced only with ``force`` (emoframe did not create it)."""
    if path.exists() and not force:
        raise EmoframeError(f"{path} exists; choose another --out, or pass --force to replace it")


def write_atomic(path: Path, text: str, force: bool) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed at the end: a crash leaves nothing
    partial. An existing file is replaced only with ``force``."""
    refuse_existing(path, force)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render(records: list[dict[str, Any]], columns: list[str], fmt: str) -> str:
    """Predictions as CSV, JSON (one array) or JSON lines; failed rows carry an ``error``."""
    if fmt == "json":
        return json.dumps(records, indent=1, ensure_ascii=False) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    buf = io.StringIO()
    fields = columns + (["error"] if any("error" in r for r in records) else [])
    writer = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buf.getvalue()


@click.command()
@click.argument("bundle", type=click.Path(file_okay=False, path_type=Path))
@click.argument("inputs", metavar="INPUT...", nargs=-1, required=True)
@click.option("--text", help="Transcript for inputs that have none (no text column, no NAME.txt beside the audio).")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json", "jsonl"]), default="table", show_default=True
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file (csv/json/jsonl).")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None, help="Extraction processes [cores].")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the feature cache.")
@workdir_option
@click.option("--strict", is_flag=True, help=STRICT_HELP)
@click.option("--explain", is_flag=True, help="Add each branch's contribution to the predicted class (fused bundles).")
def predict(
    bundle: Path,
    inputs: tuple[str, ...],
    text: str | None,
    fmt: str,
    out: Path | None,
    force: bool,
    jobs: int | None,
    no_cache: bool,
    workdir: Path | None,
    strict: bool,
    explain: bool,
) -> None:
    """Label recordings with a trained bundle: audio files, folders (recursive) or a manifest (CSV/Parquet).

    Files that cannot be predicted are reported with their reason; the rest is predicted (exit 1).
    """
    from ..deploy.inputs import collect
    from ..features import FeatureCache
    from ..workers import Limits

    if out is not None and fmt == "table":
        fmt = {".json": "json", ".jsonl": "jsonl"}.get(out.suffix.lower(), "csv")
    if out is not None:
        refuse_existing(out, force)  # say so before the work, not after it
    model = load_checked(bundle, strict)
    if explain:
        model.check_explainable()  # before any work
    got = collect(list(inputs), text)
    records: list[dict[str, Any]] = []
    failures = dict(got.problems)
    if got.manifest is not None:
        if any(b.normalise == "speaker" for b in model.pipeline.spec.branches.values()) and all(
            s == i for s, i in zip(got.manifest.speakers, got.manifest.ids)
        ):
            err_console.print(
                styled(
                    ("warning: ", "yellow"),
                    "this bundle normalises features per speaker, and the inputs name no speakers: each file is "
                    "its own speaker, so its features are not normalised as in training. Give a manifest with a "
                    "speaker column (several recordings per speaker).",
                )
            )
        wd = use_workdir(workdir)
        cache = None if no_cache else FeatureCache(wd / "cache")
        with extraction_bar() as progress:
            provider = model.provider(cache=cache, jobs=jobs, progress=progress, limits=Limits())
            result = model.predict_manifest(got.manifest, provider, explain=explain)
        records = result.records
        failures.update(result.failures)
        for w in provider.warnings():
            err_console.print(styled(("warning: ", "yellow"), w))
    columns = model.columns(explain)
    failed = [{"id": i, "error": why} for i, why in failures.items()]
    if fmt == "table":
        _print_predictions(records, model, explain)
    else:
        body = render(records + failed, columns, fmt)
        if out is not None:
            write_atomic(out, body, force)
        else:
            click.echo(body, nl=False)
    for i, why in failures.items():
        err_console.print(styled(("not predicted ", "red"), f"{i}: {why}"))
    if out is not None:
        err_console.print(f"{len(records)} prediction(s) written to {out}", highlight=False)
    if failures:
        err_console.print(f"{len(failures)} input(s) not predicted; {len(records)} predicted", highlight=False)
        sys.exit(1)


def _print_predictions(records: list[dict[str, Any]], model: Any, explain: bool = False) -> None:
    weights = [c for c in model.columns() if c.startswith("weight:")]
    why = [c for c in model.columns(explain) if c == "baseline" or c.startswith("contribution:")]
    table = Table("id", "label", *model.classes, *weights, *why, title=model.meta["pipeline"], title_justify="left")
    for r in records:
        table.add_row(
            r["id"],
            r["label"],
            *(f"{r[c]:.3f}" for c in model.classes),
            *(f"{r[w]:.2f}" for w in weights if w in r),
            *(f"{r[c]:+.3f}" for c in why if c in r),
        )
    console.print(table)


@click.command()
@click.argument("bundle", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--onnx",
    "onnx_out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write the ONNX models and their description into.",
)
@click.option(
    "--check",
    "check_inputs",
    multiple=True,
    metavar="INPUT",
    help="Audio files, folders or a manifest to compare the export with the bundle on (repeatable).",
)
@click.option("--text", help="With --check: transcript for inputs that have none.")
@click.option("--force", is_flag=True, help="Replace an export emoframe wrote there before.")
def export(bundle: Path, onnx_out: Path, check_inputs: tuple[str, ...], text: str | None, force: bool) -> None:
    """Export a bundle's trainable stages to ONNX; feature extraction stays in Python (see export.json)."""
    from ..deploy.inputs import collect
    from ..deploy.onnx_export import export_onnx
    from ..deploy.predictor import Predictor

    model = Predictor.load(bundle, load_registry())
    check = collect(list(check_inputs), text).manifest if check_inputs else None
    meta = export_onnx(model, onnx_out, check=check, force=force)
    parity = meta.get("parity")
    console.print(
        f"exported {len(meta['files'])} ONNX graph(s) to {onnx_out}: {', '.join(meta['files'])}"
        + (
            f"; on {parity['rows']} check rows the largest probability difference from the bundle is "
            f"{parity['max_abs_diff']:.1e}"
            if parity and parity["rows"]
            else ""
        ),
        highlight=False,
    )


@click.command()
@click.argument("bundle", type=click.Path(file_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (loopback by default).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--max-mb", default=20.0, show_default=True, type=click.FloatRange(0.01, 4096), help="Request size limit."
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Server processes.")
@click.option("--strict", is_flag=True, help=STRICT_HELP)
def serve(bundle: Path, host: str, port: int, max_mb: float, workers: int, strict: bool) -> None:
    """Serve a bundle over HTTP: POST /predict (audio file + text), GET /health, GET /model."""
    import uvicorn

    from ..deploy.server import BUNDLE_ENV, LIMIT_ENV, create_app

    model = load_checked(bundle, strict)  # also checks the bundle before any worker starts
    check_bindable(host, port)
    if host not in ("127.0.0.1", "localhost", "::1"):
        err_console.print(styled(("warning: ", "yellow"), f"binding {host}: reachable from other machines, no auth"))
    err_console.print(f"serving {model.meta['pipeline']} on http://{host}:{port} (Ctrl-C stops)", highlight=False)
    try:
        if workers == 1:
            uvicorn.run(create_app(model, max_bytes=int(max_mb * 1e6)), host=host, port=port, log_level="warning")
            return
        os.environ[BUNDLE_ENV], os.environ[LIMIT_ENV] = str(bundle.resolve()), str(int(max_mb * 1e6))
        uvicorn.run(
            "emoframe.deploy.server:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
        )
    except SystemExit as exc:  # uvicorn's own startup failure (3): not one of emoframe's exit codes
        if exc.code in (0, None):
            raise
        raise EmoframeError(
            f"the server could not start on {host}:{port} (the reason is on the line above); choose another "
            "--port or --host"
        ) from None


def check_bindable(host: str, port: int) -> None:
    """Refuse a --host/--port the server cannot listen on, before it starts and naming what to do (exit 2):
    uvicorn would log the error and exit 3, a code emoframe does not use."""
    import errno
    import socket

    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise EmoframeError(
            f"--host {host}: not an address or a known host name ({getattr(exc, 'strerror', None) or exc}); "
            "use 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)"
        ) from None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no conflict
            try:
                sock.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    why = "is already in use (another server?): stop what listens there, or choose another --port"
                elif exc.errno == errno.EACCES:
                    why = "needs privileges this user lacks (ports below 1024): choose --port 1024 or above"
                elif exc.errno == errno.EADDRNOTAVAIL:
                    why = "is not on an address of this machine: choose another --host (127.0.0.1, 0.0.0.0)"
                else:
                    why = f"cannot be listened on ({exc.strerror or exc})"
                raise EmoframeError(f"port {port} on {host} {why}") from None
