"""The ``emoframe`` command: the group, how errors become exit codes, and every family's commands added to it.

Errors print one line per problem (no traceback unless --debug). Exit codes: 0 ok, 1 finished with
failures, 2 bad input, 130 interrupted. The command modules never import this one.
"""

from __future__ import annotations

from typing import Any

import click

from .. import __version__
from ..errors import EmoframeError
from . import catalogue, corpora, deploy, explain, results, running, tools
from .common import err_console, styled


class EmoframeGroup(click.Group):
    """Turns EmoframeError into clean messages and exit codes; library warnings into emoframe's lines."""

    def invoke(self, ctx: click.Context) -> Any:
        from ..workers import library_warnings_reported

        try:
            with library_warnings_reported():
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


for command in (
    catalogue.plugins,
    catalogue.validate,
    catalogue.schema,
    catalogue.corpus,
    running.extract,
    running.run_pipeline,
    running.bench,
    running.demo,
    results.runs,
    results.failures,
    results.results,
    results.compare,
    corpora.rank,
    results.report,
    explain.explain,
    deploy.train,
    deploy.predict,
    deploy.export,
    deploy.serve,
    tools.tui,
    tools.new,
    tools.cache,
):
    main.add_command(command)
