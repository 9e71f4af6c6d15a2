"""The TUI driven by pilots: build a spec from nothing, see errors come and go, save it for the CLI,
run a tiny benchmark to completion and open its results."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner

from emoframe.cli import main
from emoframe.plugin import registry as registry_module
from emoframe.plugin.registry import Registry
from emoframe.tui.app import EmoframeApp
from emoframe.tui.screens.builder import BuilderScreen
from emoframe.tui.screens.plugins import PluginsScreen
from emoframe.tui.screens.results import ResultsScreen
from emoframe.tui.screens.run import RunScreen

REGISTRY = Registry.from_entry_points()


async def choose(pilot, slot: str, name: str) -> None:
    """Move the cursor of a slot's selection list to ``name`` and toggle it with the space bar."""
    sl = pilot.app.screen.query_one(f"#{slot}")
    sl.focus()
    await pilot.pause()
    target = [sl.get_option_at_index(i).value for i in range(sl.option_count)].index(name)
    sl.highlighted = 0
    for _ in range(target):
        await pilot.press("down")
    await pilot.press("space")
    await pilot.pause()


def screen_text(app) -> str:
    """What the terminal shows, as plain text (from the SVG screenshot)."""
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", app.export_screenshot())).replace("\xa0", " ")


def validation(app) -> str:
    return str(app.screen.query_one("#validation").render())


async def test_builder_from_nothing_to_a_saved_spec_the_cli_accepts(tmp_path, monkeypatch):
    app = EmoframeApp(REGISTRY, workdir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, BuilderScreen)
        assert "choose at least one extractor or model" in validation(app)
        await choose(pilot, "audio-extractor", "opensmile.egemaps")
        assert "a single-branch pipeline needs a model" in validation(app)
        await choose(pilot, "audio-model", "sklearn.svc")
        assert "✓ valid pipeline" in validation(app)
        # a bad parameter: the field shows its error, the panel reports it, fixing it clears both
        form_field = app.screen.query_one("#field-C")
        form_field.focus()
        await pilot.press("minus", "1")
        await pilot.pause()
        assert "greater than 0" in str(app.screen.query_one("#error-C").render())
        assert "sklearn.svc: a parameter is invalid" in validation(app)
        await pilot.press("backspace", "backspace", "2")
        await pilot.pause()
        assert str(app.screen.query_one("#error-C").render()) == ""
        assert "✓ valid pipeline" in validation(app)
        # a second text branch without fusion: error; adding a late fusion fixes it; two fusions → a grid
        await choose(pilot, "text-extractor", "sklearn.tfidf")
        await choose(pilot, "text-model", "sklearn.logreg")
        assert "need a fusion strategy" in validation(app)
        await choose(pilot, "fusion", "fusion.late")
        assert "✓ valid pipeline" in validation(app)
        await choose(pilot, "fusion", "fusion.vote")
        assert "✓ valid benchmark — expands to 4 pipeline(s) (2 fused, 2 unimodal)" in validation(app)
        path = tmp_path / "built.yaml"
        app.screen.query_one("#spec-path").value = str(path)
        await pilot.press("ctrl+s")
        await pilot.pause()
    doc = yaml.safe_load(path.read_text())
    audio = doc["branches"]["audio"]
    assert audio["extractor"] == "opensmile.egemaps" and audio["model"] == {"name": "sklearn.svc", "params": {"C": 2}}
    monkeypatch.setattr(registry_module, "_default", REGISTRY)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0 and "4 pipelines (2 fused, 2 unimodal)" in result.output


async def test_builder_loads_a_spec(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "loaded",
                "data": {"corpus": "demo"},
                "evaluation": {"protocol": "loso"},
                "branches": {
                    "audio": {
                        "extractor": "opensmile.egemaps_lld",
                        "model": {"name": "torch.cnn", "params": {"epochs": 3}},
                    }
                },
            }
        )
    )
    app = EmoframeApp(REGISTRY, workdir=tmp_path, spec=path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert screen.query_one("#audio-model").selected == ["torch.cnn"]
        assert screen.params == {("audio-model", "torch.cnn"): {"epochs": 3}}
        assert "✓ valid pipeline" in validation(app)


async def loaded_and_saved(tmp_path, doc):
    """The document the builder saves after loading ``doc`` and changing nothing."""
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(doc))
    app = EmoframeApp(REGISTRY, workdir=tmp_path, spec=path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        out = tmp_path / "saved.yaml"
        app.screen.query_one("#spec-path").value = str(out)
        app.screen.action_save()
        await pilot.pause()
    saved = yaml.safe_load(out.read_text())
    return saved


async def test_builder_keeps_parameters_per_slot(tmp_path):
    """Issue 10 §6: the same model in two branches with different params survives load → save."""
    doc = {
        "name": "two-svcs",
        "data": {"corpus": "demo"},
        "branches": {
            "audio": {"extractor": "opensmile.egemaps", "model": {"name": "sklearn.svc", "params": {"C": 2.0}}},
            "text": {"extractor": "sklearn.tfidf", "model": {"name": "sklearn.svc", "params": {"C": 5.0}}},
        },
        "fusion": "fusion.late",
    }
    saved = await loaded_and_saved(tmp_path, doc)
    assert saved["branches"]["audio"]["model"] == {"name": "sklearn.svc", "params": {"C": 2.0}}
    assert saved["branches"]["text"]["model"] == {"name": "sklearn.svc", "params": {"C": 5.0}}
    assert saved["name"] == "two-svcs"


async def test_builder_keeps_the_transcript_source_and_the_transcriber(tmp_path):
    """A spec with ASR transcripts survives load → save, though the form has no widget for them."""
    whisper = {"name": "transformers.whisper", "params": {"model": "models/whisper-small", "language": "en"}}
    doc = {
        "name": "gold-vs-asr",
        "data": {"corpus": "demo", "transcriber": whisper},
        "branches": {"text": {"extractor": "sklearn.tfidf", "model": "sklearn.logreg", "transcripts": ["gold", "asr"]}},
    }
    saved = await loaded_and_saved(tmp_path, doc)
    assert saved["data"]["transcriber"] == whisper
    assert saved["branches"]["text"]["transcripts"] == ["asr", "gold"]


@pytest.fixture(scope="module")
def tiny_spec(tmp_path_factory):
    from emoframe.data.synth import generate

    root = tmp_path_factory.mktemp("tui")
    generate(root / "demo", seed=3, speakers=4, per_class=2)
    path = root / "tiny.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "tiny",
                "data": {"manifest": "demo/manifest.csv"},
                "evaluation": {"protocol": "speaker_kfold", "folds": 2, "bootstrap": 50},
                "branches": {
                    "audio": {"extractor": "opensmile.egemaps", "model": "sklearn.logreg"},
                    "text": {"extractor": "sklearn.tfidf", "model": "sklearn.logreg"},
                },
                "fusion": ["fusion.late", "fusion.vote"],
            }
        )
    )
    return path


@pytest.mark.slow
async def test_run_a_tiny_benchmark_to_completion_and_open_its_results(tiny_spec, tmp_path):
    app = EmoframeApp(REGISTRY, workdir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RunScreen)
        screen.query_one("#run-spec").value = str(tiny_spec)
        await pilot.click("#start")
        for _ in range(600):  # the worker runs in a thread; the UI keeps answering
            await pilot.pause(0.1)
            if not screen.running:
                break
        assert not screen.running
        assert "done: 8 pipeline-fold(s) run" in str(screen.query_one("#run-status").render())
        table = screen.query_one("#run-pipelines")
        assert [table.get_cell(k, "status") for k in screen.rows] == ["done"] * 4
        assert [str(table.get_cell(k, "folds")) for k in screen.rows] == ["██████████ 2/2"] * 4  # per-pipeline bars
        await pilot.press("f4")
        await pilot.pause()
        await app.workers.wait_for_complete()  # the store is read off the UI thread
        await pilot.pause()
        results = app.screen
        assert isinstance(results, ResultsScreen)
        assert results.query_one("#leaderboard").row_count == 4
        shown = screen_text(app)
        assert "confusion matrix" in shown and "per-class recall" in shown
        await pilot.press("down", "c", "e")
        await pilot.pause()
        await pilot.press("x")  # why: the same figures as `emoframe explain`
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "why:" in screen_text(app)
        exported = list((tmp_path / "exports").glob("*.csv"))
        assert exported and exported[0].read_text().count("\n") == 5
        await pilot.press("t")  # train the highlighted pipeline into a bundle, in a worker thread
        for _ in range(600):
            await pilot.pause(0.1)
            if "bundle written to" in str(results.query_one("#detail-b").render()):
                break
        assert (tmp_path / "bundles").is_dir(), str(results.query_one("#detail-b").render())
        bundles = list((tmp_path / "bundles").iterdir())
        assert len(bundles) == 1 and (bundles[0] / "bundle.json").is_file()
        assert str(bundles[0]) in str(results.query_one("#detail-b").render())
        from emoframe.deploy.predictor import Predictor

        assert Predictor.load(bundles[0], REGISTRY).meta["evaluation"]["run"] == results.run_id


@pytest.mark.slow
async def test_cancel_leaves_the_store_consistent_and_resumes(tiny_spec, tmp_path):
    import sqlite3

    app = EmoframeApp(REGISTRY, workdir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        screen = app.screen
        screen.query_one("#run-spec").value = str(tiny_spec)
        await pilot.click("#start")
        await pilot.press("escape")  # cancel at once (the kill test in test_bench covers a stop mid-run)
        for _ in range(600):
            await pilot.pause(0.1)
            if not screen.running:
                break
        assert "cancelled" in str(screen.query_one("#run-status").render())
        con = sqlite3.connect(tmp_path / "results.db")
        stored = con.execute("SELECT COUNT(*) FROM folds").fetchone()[0]
        con.close()
        assert stored < 8
        await pilot.click("#start")
        for _ in range(600):
            await pilot.pause(0.1)
            if not screen.running:
                break
        assert f"{8 - stored} pipeline-fold(s) run, {stored} reused" in str(screen.query_one("#run-status").render())


async def test_plugins_screen_lists_components_and_problems(tmp_path):
    app = EmoframeApp(REGISTRY, workdir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, PluginsScreen)
        tree = app.screen.query_one("#plugin-tree")
        leaves = [n.data for n in tree.root.children for n in n.children]
        assert {"opensmile.egemaps", "fusion.gated", "torch.lstm", "demo"} <= set(leaves)
        app.screen.show("sklearn.svc")
        await pilot.pause()
        text = screen_text(app)
        assert "class_weight" in text and "Platt" in text
