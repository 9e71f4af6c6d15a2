"""Snapshots of every TUI screen (pytest-textual-snapshot); update with --snapshot-update after a
deliberate change and look at the SVGs in tests/__snapshots__."""

from __future__ import annotations

from emoframe.evaluation.records import FoldResult
from emoframe.plugin.registry import Registry
from emoframe.results.store import ResultsStore
from emoframe.spec import parse_spec
from emoframe.tui.app import EmoframeApp

REGISTRY = Registry.from_entry_points()
SIZE = (120, 40)


def fixed_store(workdir):
    """A run with fixed predictions and timings, so the Results screen renders the same every time."""
    classes = ["angry", "happy", "neutral", "sad"]
    late = parse_spec(
        {
            "data": {"corpus": "demo"},
            "branches": {
                "audio": {"extractor": "opensmile.egemaps", "model": "sklearn.svc"},
                "text": {"extractor": "sklearn.tfidf", "model": "sklearn.svc"},
            },
            "fusion": "fusion.late",
        }
    )
    audio = parse_spec(
        {"data": {"corpus": "demo"}, "branches": {"audio": {"extractor": "opensmile.egemaps", "model": "sklearn.svc"}}}
    )
    store = ResultsStore(workdir / "results.db")
    store.begin_run(
        "snapshot",
        "snapshot",
        {"name": "snapshot"},
        [("late", late.display_name, late.to_dict(), True), ("audio", audio.display_name, audio.to_dict(), False)],
    )
    store.set_plan("snapshot", classes, [], {}, 2)
    truth = classes * 5
    for fold in (1, 2):
        for pid, wrong in (("late", 3), ("audio", 6)):
            pred = [classes[(i + 1) % 4] if i < wrong else c for i, c in enumerate(truth)]
            parts = (
                {
                    "audio": [classes[(i + 1) % 4] if i < 6 else c for i, c in enumerate(truth)],
                    "text": [classes[(i + 2) % 4] if i < 8 else c for i, c in enumerate(truth)],
                }
                if pid == "late"
                else {}
            )
            fr = FoldResult(
                fold=fold,
                test_ids=[f"f{fold}u{i}" for i in range(20)],
                y_true=truth,
                y_pred=pred,
                proba=[[0.25] * 4] * 20,
                train_uar=0.9,
                test_uar=1 - wrong / 20,
                fit_s=1.5,
                predict_s=0.1,
                parts=parts,
                n_train=40,
            )
            store.save_fold("snapshot", [(pid, fr)], [])
    store.close()


def test_builder_snapshot(snap_compare, tmp_path):
    async def build(pilot):
        screen = pilot.app.screen
        screen.query_one("#audio-extractor").select("opensmile.egemaps")
        screen.query_one("#audio-model").select("sklearn.svc")
        screen.query_one("#text-extractor").select("sklearn.tfidf")
        await pilot.pause()

    assert snap_compare(EmoframeApp(REGISTRY, workdir=tmp_path), terminal_size=SIZE, run_before=build)


def test_plugins_snapshot(snap_compare, tmp_path):
    async def open_plugins(pilot):
        await pilot.press("f1")
        await pilot.pause()
        pilot.app.screen.show("fusion.gated")
        await pilot.pause()

    assert snap_compare(EmoframeApp(REGISTRY, workdir=tmp_path), terminal_size=SIZE, run_before=open_plugins)


def test_run_snapshot(snap_compare, tmp_path):
    async def open_run(pilot):
        await pilot.press("f3")
        await pilot.pause()
        for field in pilot.app.screen.query("Input"):  # a blinking cursor would make the picture timing-dependent
            field.cursor_blink = False
        await pilot.pause()

    assert snap_compare(EmoframeApp(REGISTRY, workdir=tmp_path), terminal_size=SIZE, run_before=open_run)


def test_results_snapshot(snap_compare, tmp_path):
    fixed_store(tmp_path)

    async def open_results(pilot):
        await pilot.press("f4")
        table = pilot.app.screen.query_one("#leaderboard")
        for _ in range(250):  # the store loads in a worker thread: wait for the rows, then drive the table
            await pilot.pause(0.02)
            if table.row_count:
                break
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        table.focus()
        await pilot.pause()
        await pilot.press("down", "c", "up")
        await pilot.pause()
        pilot.app.clear_notifications()  # toasts are timed: keep them out of the picture
        await pilot.pause()

    assert snap_compare(EmoframeApp(REGISTRY, workdir=tmp_path), terminal_size=SIZE, run_before=open_results)
