"""A stored run as a notebook reads it: leaderboard, predictions and failures as DataFrames, comparisons,
the report and its figures.

A ``Run`` holds only the workdir and the run's id: every figure is read from ``<workdir>/results.db`` when
asked for (the leaderboard once, then kept), so a run opened in another session reads the same as the one
just made. A store deleted (or replaced) since raises :class:`RunGoneError` naming the file and what to do.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EmoframeError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from ..results.leaderboard import LeaderboardRow
    from ..results.store import ResultsStore


class RunGoneError(EmoframeError):
    """The store a ``Run`` reads from is gone, or no longer holds the run."""

    exit_code = 1


class Figures:
    """``run.plot.<figure>()``: the report's figures, one method each, as matplotlib figures (see
    :mod:`emoframe.results.figures`). A figure the run has no data for raises ``ValueError`` saying so."""

    def __init__(self, run: Run):
        self._run = run

    def uar(self) -> Figure:
        """Pooled UAR per pipeline with its bootstrap 95% CI."""
        from ..results import figures

        return figures.uar(self._run.rows)

    def fusion_gain(self) -> Figure:
        """Each fused pipeline's gain over its best unimodal branch, paired-bootstrap 95% CI."""
        from ..results import figures

        return figures.fusion_gain(self._run.rows)

    def confusion(self, pipeline: str | int = 1) -> Figure:
        """The confusion matrix of one pipeline: a leaderboard rank (1 = best), an id prefix or its label."""
        from ..results import figures

        return figures.confusion(self._run.row(pipeline), self._run.classes)

    def robustness(self, modality: str = "audio") -> Figure:
        """UAR under test-time perturbation (``audio``: noise by SNR; ``text``: corrupted words)."""
        from ..results import figures

        return figures.robustness(self._run.rows, modality)

    def tuning(self) -> Figure:
        """Default against tuned pooled UAR (95% CIs) of every pipeline tuned by nested tuning."""
        from ..results.report_tuning import default_vs_tuned_figure

        fig = default_vs_tuned_figure(self._run.rows)
        if fig is None:
            raise ValueError(
                f"run {self._run.id[:12]} has no tuned pipeline with its untuned twin: nothing to plot "
                "(give a component a `search` and keep `tuning.default: true`)"
            )
        return fig

    def cost(self) -> Figure:
        """Pooled UAR against fit seconds and prediction ms per utterance, the accuracy/cost front marked."""
        from ..results.report_cost import cost_figure

        if not any(r.uar is not None and r.fit_s is not None for r in self._run.rows):
            raise ValueError(f"run {self._run.id[:12]} has no pipeline with results and fit times: nothing to plot")
        return cost_figure(self._run.rows)

    def training_curves(self) -> Figure:
        """Train loss and validation UAR per epoch, per fold, of every model trained by epochs."""
        from ..results.report_cost import curves_figure, run_curves

        with self._run._store() as store:
            curves = run_curves(store, self._run.id, self._run.rows)
        if not curves:
            raise ValueError(
                f"run {self._run.id[:12]} stored no training curves: only models trained by epochs "
                "(torch.cnn, torch.lstm, torch.weighted_layers) record them"
            )
        return curves_figure(curves)


class Run:
    """One stored run (``emoframe.bench``, ``emoframe.run``, ``emoframe.open_run``). ``warnings`` said while
    it ran (cost, cache) are kept with it and appear in ``warnings`` and the report beside the stored ones."""

    def __init__(
        self,
        workdir: str | Path,
        run_id: str,
        notes: Sequence[str] = (),
        outcome: Any = None,
        registry: Any = None,
    ):
        self.workdir = Path(workdir)
        self.registry = registry  # the plugins it ran with (None: the installed ones)
        self.id = run_id
        self.notes = list(notes)
        #: what the call that ran it counted (``ran``, ``skipped``, ``errors``); None for an opened run
        self.outcome = outcome
        #: the HTML report ``bench(report=...)`` wrote, if it wrote one
        self.report_path: Path | None = None
        self._rows: list[LeaderboardRow] | None = None
        self._info: dict[str, Any] | None = None
        self.plot = Figures(self)

    # -- reading the store ----------------------------------------------------------------------
    @property
    def store_path(self) -> Path:
        return self.workdir / "results.db"

    @contextmanager
    def _store(self) -> Iterator[ResultsStore]:
        """The store, read-only; a clear error when it (or the run in it) is gone."""
        from ..results.store import ResultsStore

        if not self.store_path.is_file():
            raise RunGoneError(
                f"the results store {self.store_path} of run {self.id[:12]} is gone (deleted or moved); "
                "run the spec again (emoframe.bench) or open a run of another workdir (emoframe.open_run)"
            )
        store = ResultsStore(self.store_path, readonly=True)
        try:
            if not any(i == self.id for i, _, _ in store.run_index()):
                raise RunGoneError(
                    f"run {self.id[:12]} is no longer in {self.store_path} (the store was replaced); "
                    "emoframe.runs(workdir) lists the runs it holds"
                )
            yield store
        finally:
            store.close()

    @property
    def info(self) -> dict[str, Any]:
        """The stored run: name, spec, classes, warnings, rows left out, folds."""
        with self._store() as store:
            self._info = store.run(self.id)
        return self._info

    @property
    def name(self) -> str:
        return str((self._info or self.info)["name"])

    @property
    def spec(self) -> dict[str, Any]:
        """The spec that produced the run, as stored."""
        return dict(self.info["spec"])

    @property
    def classes(self) -> list[str]:
        return list((self._info or self.info)["classes"])

    @property
    def rows(self) -> list[LeaderboardRow]:
        """The leaderboard as typed rows (``results.leaderboard.LeaderboardRow``), best first."""
        from ..results.leaderboard import leaderboard

        with self._store() as store:  # checked every time: a deleted store is said, not served from memory
            if self._rows is None:
                self._rows = leaderboard(store, self.id)
        return self._rows

    def row(self, ref: str | int) -> LeaderboardRow:
        """One pipeline's row: a rank (1 = best), an id prefix or its exact label, as ``emoframe compare``."""
        from ..results.resolve import match_pipeline

        return match_pipeline(self.rows, str(ref), f"run {self.id[:12]}")

    # -- the faces of a notebook -------------------------------------------------------------------
    @property
    def leaderboard(self) -> pd.DataFrame:
        """One row per pipeline, best first, the columns of ``emoframe results --format json``."""
        import pandas as pd

        records = [r.to_record() for r in self.rows]
        frame = pd.DataFrame.from_records(records)
        return frame.set_index("rank") if "rank" in frame and frame["rank"].notna().all() else frame

    @property
    def predictions(self) -> pd.DataFrame:
        """Every test prediction: pipeline, fold, utterance id, true and predicted label, a probability per class."""
        import pandas as pd

        out = []
        with self._store() as store:
            classes = store.run(self.id)["classes"]
            for p in store.pipelines(self.id):
                for fr in store.fold_results(self.id, p["id"]):
                    for i, uid in enumerate(fr.test_ids):
                        record = {
                            "pipeline": p["name"],
                            "pipeline_id": p["id"],
                            "fold": fr.fold,
                            "id": uid,
                            "true": fr.y_true[i],
                            "predicted": fr.y_pred[i],
                        }
                        if i < len(fr.proba):
                            record.update({f"p_{c}": v for c, v in zip(classes, fr.proba[i])})
                        out.append(record)
        columns = ["pipeline", "pipeline_id", "fold", "id", "true", "predicted", *[f"p_{c}" for c in classes]]
        return pd.DataFrame.from_records(out, columns=columns)

    @property
    def failures(self) -> pd.DataFrame:
        """Rows left out (component, reason, file) and failed pipeline-folds, as ``emoframe failures``."""
        import pandas as pd

        with self._store() as store:
            run = store.run(self.id)
            names = {p["id"]: p["name"] for p in store.pipelines(self.id)}
            records = [
                {
                    "kind": "row",
                    "what": f["id"],
                    "component": f.get("component", "?"),
                    "fold": None,
                    "reason": f.get("reason", ""),
                    "file": f.get("file", ""),
                }
                for f in run["failures"]
            ] + [
                {
                    "kind": "pipeline",
                    "what": names.get(e["pipeline_id"], e["pipeline_id"]),
                    "component": "",
                    "fold": e["fold"],
                    "reason": e["message"],
                    "file": "",
                }
                for e in store.errors(self.id)
            ]
        return pd.DataFrame.from_records(records, columns=["kind", "what", "component", "fold", "reason", "file"])

    @property
    def warnings(self) -> list[str]:
        """Every warning about the run, once: those said while it ran, the stored ones, each pipeline's own."""
        from ..results.messages import run_warnings

        rows = self.rows
        return run_warnings(self.info, rows, self.notes)

    @property
    def verdicts(self) -> dict[str, str]:
        """Each fused pipeline's plain verdict: did fusion help (``evaluation.stats.verdict``)."""
        return {r.pipeline: r.verdict for r in self.rows if r.verdict}

    def compare(self, a: str | int, b: str | int) -> dict[str, Any]:
        """Is pipeline ``a`` better than ``b``? The paired-bootstrap UAR difference on their shared rows, as
        ``emoframe compare`` (a rank, an id prefix or a label each): verdict, outcome, UARs, n, CI."""
        from ..results.leaderboard import compare_pipelines

        with self._store() as store:
            return compare_pipelines(store, self.id, str(a), str(b))

    def report(self, path: str | Path | None = None, force: bool = False) -> Path:
        """Write the HTML report into the folder ``path`` (default ``<workdir>/reports/<run>``); the file."""
        from ..results.code_check import changed_since_stored, describe_changes
        from ..results.report import write_report

        out = Path(path) if path is not None else self.workdir / "reports" / self.id[:12]
        registry = self.registry or _registry()
        with self._store() as store:
            notes = [*describe_changes(changed_since_stored(store, self.id, registry), self.id), *self.notes]
            return write_report(store, self.id, out, self.rows, force=force, notes=notes, registry=registry)

    def train(self, pipeline: str | int = 1, out: str | Path | None = None, force: bool = False) -> Path:
        """Fit one of the run's pipelines (a rank, an id prefix or a label; default the best) on all its rows
        into a bundle folder (default ``<workdir>/bundles/<run>-<pipeline>``), as ``emoframe train --run
        --pipeline``; load it with ``emoframe.load(path)``. A run whose code changed since is refused."""
        from ..deploy.train import stored_pipeline, train_bundle

        registry = self.registry or _registry()
        row = self.row(pipeline)
        with self._store() as store:
            spec, figures = stored_pipeline(store, self.id, row.id, registry)
        target = Path(out) if out is not None else self.workdir / "bundles" / f"{self.id[:8]}-{row.id[:8]}"
        base_dir = figures.pop("base_dir", None)
        result = train_bundle(
            spec, target, registry, workdir=self.workdir, base_dir=base_dir, evaluation=figures, force=force
        )
        return Path(result.path)

    def __repr__(self) -> str:
        return f"Run({self.id[:12]!r}, {self.name!r}, workdir={str(self.workdir)!r})"

    def _repr_html_(self) -> str:
        """The leaderboard, the verdicts and the warnings, as Jupyter shows a run."""
        from ..display import OUTCOME_COLOUR
        from ..results.leaderboard import HEADERS, outcome, table_cells

        e = html.escape
        rows = self.rows
        parts = [
            f"<div><b>{e(self.name)}</b> — run <code>{e(self.id[:12])}</code> in <code>{e(str(self.workdir))}"
            "</code></div><table><tr>" + "".join(f"<th>{e(h)}</th>" for h in HEADERS) + "</tr>"
        ]
        for r in rows:
            parts.append("<tr>" + "".join(f"<td>{e(c) or '—'}</td>" for c in table_cells(r)) + "</tr>")
        parts.append("</table>")
        verdicts = [r for r in rows if r.verdict]
        if verdicts:
            parts.append("<ul>")
            for r in verdicts:
                colour = OUTCOME_COLOUR[outcome(r)]
                parts.append(f"<li><span style='color:{colour}'>{e(r.verdict or '')}</span> — {e(r.pipeline)}</li>")
            parts.append("</ul>")
        for w in self.warnings:
            parts.append(f"<div style='background:#fff8e1;padding:.3em'>warning: {e(w)}</div>")
        return "".join(parts)


def _registry() -> Any:
    from ..plugin.registry import get_registry

    return get_registry()
