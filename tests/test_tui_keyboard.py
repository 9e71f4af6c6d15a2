"""Issue 31 §5: the TUI takes the keyboard — a sensible first focus on every screen, no tab stop that does not
show it has the focus, a parameter panel that always shows the highlighted component, and the cursor's row and
the chosen options visible in a plain capture (the screen's text without any colour)."""

from __future__ import annotations

from textual.containers import ScrollableContainer
from textual.widgets import Button, DataTable, Input, Select, SelectionList, Switch, Tree

from emoframe.plugin.registry import Registry
from emoframe.tui.app import EmoframeApp
from emoframe.tui.widgets.marks import CHOSEN, CURSOR

from .test_tui_snapshots import fixed_store

REGISTRY = Registry.from_entry_points()
SIZE = (120, 40)
#: widgets whose focus Textual draws itself (a cursor, a highlighted border, a caret)
DRAWS_ITS_FOCUS = (Input, Select, SelectionList, Button, Switch, DataTable, Tree)


def plain(app: EmoframeApp) -> list[str]:
    """The screen as text, every style dropped: what a capture without colour shows."""
    return ["".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips()]


def line_with(app: EmoframeApp, text: str, also: str = "") -> str:
    """The first line of the plain capture holding ``text`` (and ``also``)."""
    found = [line for line in plain(app) if text in line and also in line]
    assert found, f"{text!r} is not on the screen"
    return found[0]


async def border_when(pilot, widget, focused: bool) -> tuple:
    """The widget's border (all four edges) with the focus on it, or on nothing."""
    if focused:
        widget.focus()
    else:
        widget.screen.set_focus(None)
    await pilot.pause()
    return tuple(getattr(widget.styles, f"border_{edge}") for edge in ("top", "right", "bottom", "left"))


async def test_every_screen_starts_with_a_sensible_focus(tmp_path):
    fixed_store(tmp_path)
    app = EmoframeApp(REGISTRY, workdir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "audio-extractor"  # the Builder, first slot
        expected = {"plugins": "plugin-tree", "run": "run-spec", "results": "leaderboard", "builder": "audio-extractor"}
        for mode, widget in expected.items():
            app.switch_mode(mode)
            await pilot.pause()
            await pilot.pause(0.2)
            assert app.focused is not None and app.focused.id == widget, (mode, app.focused)


async def test_the_first_keys_typed_are_not_lost(tmp_path):
    app = EmoframeApp(REGISTRY, workdir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("space")  # chooses the highlighted audio extractor
        chosen = app.screen.query_one("#audio-extractor", SelectionList).selected
        assert len(chosen) == 1, chosen


async def test_no_tab_stop_is_invisible(tmp_path):
    """Every widget Tab reaches shows that it has the focus: a widget that draws its focus, or a container whose
    border changes shape (not only colour) when it has it. The Builder's column of slots is no stop at all."""
    fixed_store(tmp_path)
    app = EmoframeApp(REGISTRY, workdir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        for mode in ("builder", "plugins", "run", "results"):
            app.switch_mode(mode)
            await pilot.pause(0.2)
            stops = []
            for _ in range(18):
                await pilot.press("tab")
                await pilot.pause()
                stops.append(app.focused)
            for widget in {id(w): w for w in stops if w is not None}.values():
                assert widget.id != "builder-slots", "the column of slots took the focus"
                if isinstance(widget, DRAWS_ITS_FOCUS):
                    continue
                assert isinstance(widget, ScrollableContainer) or widget.id == "run-log", widget
                unfocused, focused = await border_when(pilot, widget, False), await border_when(pilot, widget, True)
                assert [b[0] for b in focused] != [b[0] for b in unfocused], f"{mode}: {widget} shows no focus"


async def test_the_parameter_panel_shows_the_highlighted_component(tmp_path):
    app = EmoframeApp(REGISTRY, workdir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen

        def shown() -> tuple[str, str]:
            form = screen.query_one("#params-form")
            return form.slot, form.info.name

        def highlighted(slot: str) -> str:
            sl = screen.query_one(f"#{slot}", SelectionList)
            return sl.get_option_at_index(sl.highlighted).value

        assert shown() == ("audio-extractor", highlighted("audio-extractor"))  # from the start, before any key
        await pilot.press("down")
        await pilot.pause()
        assert shown() == ("audio-extractor", highlighted("audio-extractor"))
        for slot in ("audio-model", "text-extractor", "text-model", "fusion", "early-model"):
            await pilot.press("tab")
            await pilot.pause()
            assert shown() == (slot, highlighted(slot)), slot
        await pilot.press("shift+tab")
        await pilot.pause()
        assert shown() == ("fusion", highlighted("fusion"))


async def test_the_cursor_row_and_the_chosen_options_read_without_colour(tmp_path):
    fixed_store(tmp_path)
    app = EmoframeApp(REGISTRY, workdir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        slot = app.screen.query_one("#audio-extractor", SelectionList)
        first = slot.get_option_at_index(0).value
        second = slot.get_option_at_index(1).value
        box = "▐"  # an option's line (the parameter panel's title names the component too)
        assert f"▐ ▌{CURSOR}{first} " in line_with(app, first, box)
        await pilot.press("space", "down")
        await pilot.pause()
        assert f"▐{CHOSEN}▌ {first} " in line_with(app, first, box)
        assert f"▐ ▌{CURSOR}{second} " in line_with(app, second, box)

        app.switch_mode("results")
        await pilot.pause(0.5)
        table = app.screen.query_one("#leaderboard", DataTable)
        ids = [str(table.get_cell_at((i, 2))) for i in range(table.row_count)]  # the rows' short ids
        assert len(ids) == 2 and line_with(app, ids[0]).lstrip().startswith(CURSOR)
        await pilot.press("down")
        await pilot.pause()
        assert line_with(app, ids[1]).lstrip().startswith(CURSOR)
        assert CURSOR not in line_with(app, ids[0])

        app.switch_mode("plugins")
        await pilot.pause(0.2)
        await pilot.press("down", "down")
        await pilot.pause()
        tree = app.screen.query_one("#plugin-tree", Tree)
        label = tree.cursor_node.label.plain
        assert label.startswith(f"{CURSOR} ") and label in line_with(app, label)
        assert sum(CURSOR in line for line in plain(app)) == 1
