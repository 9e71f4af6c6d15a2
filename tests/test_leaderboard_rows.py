"""Issue 27 items 1 and 3: typed leaderboard rows with one export, and the CLI's rooms kept small and acyclic."""

from __future__ import annotations

import ast
import csv
import dataclasses
import io
import json
from pathlib import Path

import pytest

from emoframe.results.leaderboard import COLUMNS, LeaderboardRow, add_ranks, sort_rows, table_cells, to_csv, to_json

ROOT = Path(__file__).resolve().parents[1]

#: the JSON export's keys, in the order the dict rows wrote them before rows were typed
RECORD_KEYS = [
    "pipeline", "id", "fused", "folds", "status", "errors",
    "n", "coverage", "uar", "uar_ci_low", "uar_ci_high", "uar_fold_mean", "uar_fold_std", "wa", "macro_f1",
    "weighted_f1", "gain_pts", "gain_ci_low_pts", "gain_ci_high_pts", "verdict", "gap", "gap_std", "fit_s",
    "predict_s", "recall", "confusion", "warnings", "robustness", "learned",
    "rank", "short_id",
    # repeats and cost (issue 28)
    "repeats", "repeat_uars", "uar_repeat_std", "fit_cpu_s", "predict_ms", "state_bytes", "peak_mb", "best_epoch",
    "epochs_run", "pareto",
]  # fmt: skip
NO_RESULTS_KEYS = ["pipeline", "id", "fused", "folds", "status", "errors", "rank", "short_id"]


def scored(pid: str, uar: float, **more: object) -> LeaderboardRow:
    figures = dict(n=20, coverage=1.0, uar=uar, uar_ci_low=uar - 0.1, uar_ci_high=min(1.0, uar + 0.1))
    figures |= dict(uar_fold_mean=uar, uar_fold_std=0.0, wa=uar, macro_f1=uar, weighted_f1=uar, gap=0.05)
    figures |= dict(gap_std=0.0, fit_s=0.25, predict_s=0.01, recall={"a": uar, "b": None}, confusion=[[1, 0], [0, 1]])
    figures |= dict(warnings=("w",), robustness={}, learned={})
    return LeaderboardRow(pipeline=f"p{pid}", id=pid * 4, fused=False, folds="2/2", status="done", **figures | more)


def test_a_row_is_frozen_and_read_by_name():
    row = scored("aa", 0.8)
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.uar = 0.9  # type: ignore[misc]
    assert row.uar == 0.8 and row.has_results


def test_the_record_keeps_the_exported_keys_in_their_order():
    assert list(scored("aa", 0.8).to_record()) == RECORD_KEYS
    waiting = LeaderboardRow(pipeline="late", id="bbbbbbbb", fused=True, folds="0/2", status="0/2 folds")
    assert not waiting.has_results and list(waiting.to_record()) == NO_RESULTS_KEYS
    assert json.loads(to_json([waiting])) == [
        {
            "pipeline": "late",
            "id": "bbbbbbbb",
            "fused": True,
            "folds": "0/2",
            "status": "0/2 folds",
            "errors": [],
            "rank": None,
            "short_id": "",
        }
    ]


def test_csv_has_the_columns_and_blanks_where_a_row_has_no_figure():
    rows = add_ranks([scored("aa", 0.7), LeaderboardRow("late", "bbbbbbbb", False, "0/2", "failed", ("boom",))])
    parsed = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert list(parsed[0]) == list(COLUMNS)
    assert parsed[0]["rank"] == "1" and parsed[0]["uar"] == "0.7" and parsed[0]["status"] == "done"
    assert parsed[1]["rank"] == "" and parsed[1]["uar"] == "" and parsed[1]["status"] == "failed"


def test_ranks_and_sorting_make_new_rows_and_keep_rows_without_results_last():
    rows = [scored("aa", 0.6), LeaderboardRow("late", "cccccccc", False, "0/2", "0/2 folds"), scored("ab", 0.9)]
    ranked = add_ranks(rows)
    assert [r.rank for r in ranked] == [2, None, 1] and rows[0].rank is None  # the input rows are untouched
    assert [r.short_id for r in ranked] == ["aaaaaaaa", "cccccccc", "abababab"]
    assert [r.id for r in sort_rows(ranked, "uar", True)] == ["abababab", "aaaaaaaa", "cccccccc"]
    assert table_cells(ranked[1])[:5] == ["", "cccccccc", "late", "", "0/2 folds"]


# -- the CLI's rooms (item 1) and the TUI's typed app (item 3) ------------------------------------------
def cli_modules() -> list[Path]:
    return sorted((ROOT / "emoframe" / "cli").glob("*.py"))


def test_the_cli_is_a_package_of_small_modules_and_functions():
    assert not (ROOT / "emoframe" / "cli.py").exists() and not (ROOT / "emoframe" / "deploy_commands.py").exists()
    long = []
    for module in cli_modules():
        lines = module.read_text(encoding="utf-8").splitlines()
        assert len(lines) <= 500, f"{module.name}: {len(lines)} lines"
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, ast.FunctionDef) and node.end_lineno - node.lineno + 1 > 80:
                long.append(f"{module.name}:{node.lineno} {node.name}")
    assert not long, long


def test_no_command_module_imports_the_group():
    """``main`` imports every family; a family importing ``main`` back would be a cycle."""
    offenders = []
    for module in cli_modules():
        if module.name in ("main.py", "__init__.py"):
            continue
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module == "main":
                offenders.append(f"{module.name}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is None:
                offenders += [f"{module.name}:{node.lineno}" for a in node.names if a.name == "main"]
            if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module in ("cli", "cli.main"):
                offenders.append(f"{module.name}:{node.lineno}")
    assert not offenders, offenders


def test_tui_screens_reach_the_app_through_its_type():
    ignored = [
        f"{p.name}:{i}"
        for p in sorted((ROOT / "emoframe" / "tui").rglob("*.py"))
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
        if "type: ignore" in line
    ]
    assert not ignored, ignored
