"""Widgets whose cursor and choices read without colour: a plain capture (a screen reader, a log, a terminal
without colours) shows which row is the cursor's (▶) and which options are chosen (✓), not only their hue."""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.text import Text
from textual.strip import Strip
from textual.widgets import DataTable, SelectionList, Tree
from textual.widgets.data_table import RowKey

CURSOR = "▶"
CHOSEN = "✓"
#: the key of the marker column a MarkedTable's owner adds first
MARK = "mark"


class MarkedTable(DataTable[Any]):
    """A DataTable whose cursor row shows ▶ in its first column (key ``MARK``, one cell wide: the screen adds it
    first with :meth:`add_mark_column`, and each row's first cell is ``""``)."""

    _marked: RowKey | None = None

    def add_mark_column(self) -> None:
        self.add_column(" ", key=MARK, width=1)

    def clear(self, columns: bool = False) -> MarkedTable:
        self._marked = None
        super().clear(columns)
        return self

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Move the ▶ with the cursor (the message goes on to the screen as well)."""
        if self._marked is not None and self._marked in self.rows and self._marked != event.row_key:
            self.update_cell(self._marked, MARK, "")
        if event.row_key is not None and event.row_key in self.rows:
            self.update_cell(event.row_key, MARK, CURSOR)
            self._marked = event.row_key


class SlotList(SelectionList[Any]):
    """A SelectionList whose chosen options show ✓ and whose highlighted option, while the list has the focus,
    shows ▶ — the same cells wide as the stock checkbox."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        segments = list(strip)
        index = self.scroll_offset[1] + y
        if len(segments) < 4 or index >= self.option_count:
            return strip
        option = self.get_option_at_index(index)
        chosen = CHOSEN if option.value in self._selected else " "
        cursor = CURSOR if self.has_focus and self.highlighted == index else " "
        inner, gap = segments[1], segments[3]
        segments[1] = Segment(chosen, inner.style, inner.control)
        segments[3] = Segment(cursor, gap.style, gap.control)
        return Strip(segments, strip.cell_length)

    def on_focus(self) -> None:  # the ▶ shows only while the list has the focus
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()


class MarkedTree(Tree[Any]):
    """A Tree whose cursor node's label starts with ▶."""

    _marked: Any = None

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[Any]) -> None:
        if self._marked is not None and self._marked is not event.node:
            self._marked.set_label(_bare(self._marked.label))
        event.node.set_label(Text(f"{CURSOR} ") + _bare(event.node.label))
        self._marked = event.node


def _bare(label: str | Text) -> Text:
    """A node's label without the marker it was given."""
    text = label if isinstance(label, Text) else Text.from_markup(label)
    return text[2:] if text.plain.startswith(f"{CURSOR} ") else text
