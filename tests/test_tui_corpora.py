"""The TUI across corpora, driven by pilots: the Builder lists several data sources and saves a spec the CLI
runs; Results shows a multi-corpus run with a column per corpus, the average ranks and the verdict."""

from __future__ import annotations

import yaml

from emoframe.bench.study import run_study
from emoframe.plugin.registry import Registry
from emoframe.spec import load_spec
from emoframe.tui.app import EmoframeApp
from emoframe.tui.screens.results import ResultsScreen

from . import toy_plugin
from .test_tui import REGISTRY, screen_text, validation


async def test_builder_adds_data_sources_and_saves_a_multi_corpus_spec(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(
        yaml.safe_dump(
            {"data": {"corpus": "demo"}, "branches": {"audio": {"extractor": "librosa.mfcc", "model": "sklearn.svc"}}}
        )
    )
    app = EmoframeApp(REGISTRY, workdir=tmp_path, spec=path)
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        screen = app.screen
        screen.query_one("#corpus-params").value = "{seed: 1, speakers: 4}"
        await pilot.pause()
        screen.add_source()
        screen.query_one("#corpus-params").value = "{seed: 2, speakers: 5}"
        await pilot.pause()
        screen.add_source()
        await pilot.pause()
        shown = str(screen.query_one("#sources").render())
        assert "2 data source(s)" in shown and "demo-2" in shown and "'seed': 2" in shown
        assert "✓ valid benchmark" in validation(app)
        out = tmp_path / "saved.yaml"
        screen.query_one("#spec-path").value = str(out)
        screen.action_save()
        await pilot.pause()
    spec = load_spec(out, REGISTRY)
    assert spec.is_multi_corpus and [d.source_name() for d in spec.data_sources] == ["demo", "demo-2"]
    assert [d.corpus.params["seed"] for d in spec.data_sources] == [1, 2]  # type: ignore[union-attr]
    # loading it back lists both sources and saving again loses nothing
    app = EmoframeApp(REGISTRY, workdir=tmp_path, spec=out)
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        assert len(app.screen.sources) == 2 and "2 data source(s)" in str(app.screen.query_one("#sources").render())
        again = tmp_path / "again.yaml"
        app.screen.query_one("#spec-path").value = str(again)
        app.screen.action_save()
        await pilot.pause()
    assert yaml.safe_load(again.read_text())["data"] == yaml.safe_load(out.read_text())["data"]


async def test_results_shows_a_column_per_corpus_and_the_ranks(tmp_path):
    registry = Registry.from_entry_points(allow=[])
    registry.add_plugin(toy_plugin, name="toy")
    from .test_across_corpora import study_spec

    outcome = run_study(study_spec(), registry, tmp_path, jobs=1)
    app = EmoframeApp(REGISTRY, workdir=tmp_path)
    app.last_run = outcome.run_id
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ResultsScreen) and screen.across is not None
        table = screen.query_one("#leaderboard")
        headers = [str(c.label) for c in table.columns.values()]
        assert headers == [" ", "#", "pipeline", "a", "b", "c", "mean UAR", "avg rank", "tied with best"]  # ▶ column
        assert table.row_count == 2
        shown = screen_text(app)
        assert "has the best average rank" in shown and "no test claimed" in shown
        # a corpus's own run shows the ordinary leaderboard again
        one = next(u.run_id for u in outcome.units if u.corpus == "b")
        screen.show_run(one)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.across is None and table.row_count == 2
        assert [str(c.label) for c in table.columns.values()][:4] == [" ", "#", "id", "pipeline"]
