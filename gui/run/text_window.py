"""A text view that holds a window of a long text in Qt and the whole text compactly.

A QTextDocument costs ~40 bytes a character (its layout, fragments and blocks), so a
million-token answer would cost hundreds of megabytes. Here the whole text lives once, in a
`TextStore` (addressed in UTF-16 code units, the unit Qt counts positions in; 1 byte a
character for Latin-1 text, 2 otherwise), and the document shows a window of at most
`TRIM_AT` characters of it:

- live (the window reaches the end): text is appended as it comes; once the window passes
  `TRIM_AT` while the view follows the end, its head is cut back to `WINDOW` characters;
- paged (the reader scrolled up, or to an earlier page): new text is only stored; scrolling
  to the top or bottom edge loads the page before or after (`PAGE` characters), and the
  last page makes the view live again.

Positions outside this module are global (over the whole text); `to_doc` and `to_global`
translate. A subclass says how a range looks by implementing `_runs`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtGui import QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from gui.run.text_store import TextStore

__all__ = ["PAGE", "TRIM_AT", "WINDOW", "TextWindow"]

# A document costs ~32 bytes a character and a trim briefly much more (bench/gui_throughput,
# a million tokens: 200k/300k/100k peaked ~5 MB higher); 100,000 characters are still some
# 50 screens of text either side of what is read.
WINDOW = 100_000  # characters kept in the document after a trim
TRIM_AT = 120_000  # the document is cut back once it holds more than this
PAGE = 50_000  # how far one page up or down moves the window


class TextWindow(QPlainTextEdit):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = TextStore()  # the whole text
        self._base = 0  # global position of the document's first character
        self._live = True  # the window reaches the end of the text
        self._moving = False  # a window change is in progress (ignore scroll signals)
        self.sizes = (WINDOW, TRIM_AT, PAGE)  # (kept after a trim, trim past, page)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)

    # --- positions ------------------------------------------------------------------------

    @property
    def text_end(self) -> int:
        """The global length of the whole text (UTF-16 code units)."""
        return len(self._store)

    @property
    def window(self) -> tuple[int, int]:
        """The global range the document shows."""
        return self._base, self._base + self.document().characterCount() - 1

    def to_doc(self, position: int) -> int:
        return position - self._base

    def to_global(self, position: int) -> int:
        return position + self._base

    def text_range(self, start: int, end: int) -> str:
        """The whole text between two global positions (on character boundaries)."""
        return self._store.text(start, end)

    # --- what a subclass provides -----------------------------------------------------------

    def _boundary(self, position: int) -> int:
        """The first piece boundary at or after a global position (where a window may
        start or end without cutting a token or a surrogate pair)."""
        return position

    def _runs(self, start: int, end: int) -> list[tuple[int, int, QTextCharFormat]]:
        """The formatted runs that tile the global range [start, end): here one run in the
        view's own format; the stream view gives each token and marker its look."""
        return [(start, end, self.currentCharFormat())] if end > start else []

    # --- appending ------------------------------------------------------------------------

    def _reset_window(self) -> None:
        self._store.clear()
        self._base, self._live = 0, True
        self.clear()

    def _store_runs(self, runs: list[tuple[str, QTextCharFormat]]) -> bool:
        """Keep the text of `runs` and show it if the window is live. True if shown."""
        for text, _ in runs:
            self._store.append(text)
        if not self._live:
            return False
        bar = self.verticalScrollBar()
        follow = bar.value() >= bar.maximum() - 4
        self._moving = True
        try:
            cursor = QTextCursor(self.document())
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.beginEditBlock()
            for text, fmt in runs:
                cursor.insertText(text, fmt)
            cursor.endEditBlock()
            start, end = self.window
            keep, trim_at, _ = self.sizes
            if end - start > trim_at:
                if follow:
                    self._trim_head(end - keep)
                else:
                    self._live = False  # the reader is reading: freeze the window
            if follow and self._live:
                bar.setValue(bar.maximum())
        finally:
            self._moving = False
        return True

    def _trim_head(self, position: int) -> None:
        cut = self._boundary(position)
        if cut <= self._base:
            return
        cursor = QTextCursor(self.document())
        cursor.setPosition(0)
        cursor.setPosition(self.to_doc(cut), QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        self._base = cut
        self.setExtraSelections([])

    # --- paging ---------------------------------------------------------------------------

    def show_range(self, start: int, end: int, reveal: int | None = None) -> None:
        """Show the global range [start, end) (on piece boundaries), scrolled so that the
        global position `reveal` is in sight; live if it reaches the end of the text."""
        self._moving = True
        try:
            self.setExtraSelections([])
            self.clear()
            cursor = QTextCursor(self.document())
            cursor.beginEditBlock()
            for run_start, run_end, fmt in self._runs(start, end):
                cursor.insertText(self.text_range(run_start, run_end), fmt)
            cursor.endEditBlock()
            self._base = start
            self._live = end >= self.text_end
            if reveal is not None:
                self._reveal(reveal)
        finally:
            self._moving = False

    def show_around(self, position: int) -> None:
        """Make the window hold a global position, if it does not already."""
        start, end = self.window
        if start <= position < end or (position == end and self._live):
            return
        keep, _, _ = self.sizes
        first = self._boundary(max(0, position - keep // 2))
        self.show_range(first, self._boundary(min(self.text_end, first + keep)))

    def _reveal(self, position: int) -> None:
        cursor = QTextCursor(self.document())
        cursor.setPosition(max(0, min(self.to_doc(position), self.document().characterCount() - 1)))
        self.setTextCursor(cursor)
        self.ensureCursorVisible()

    @Slot(int)
    def _on_scrolled(self, value: int) -> None:
        bar = self.verticalScrollBar()
        if value <= bar.minimum():
            self.page(up=True)
        elif value >= bar.maximum():
            self.page(up=False)

    def wheelEvent(self, event: Any) -> None:
        """At an edge already (or with nothing to scroll), the wheel still pages."""
        bar = self.verticalScrollBar()
        up = event.angleDelta().y() > 0
        if (up and bar.value() <= bar.minimum()) or (not up and bar.value() >= bar.maximum()):
            self.page(up=up)
        super().wheelEvent(event)

    def page(self, *, up: bool) -> None:
        """Load the page before (or after) the window, if there is one."""
        if self._moving:
            return
        start, end = self.window
        keep, _, page = self.sizes
        if up and start > 0:
            first = self._boundary(max(0, start - page))
            last = self._boundary(min(self.text_end, first + keep))
            self.show_range(first, last, reveal=start)  # the old top, below what came before
        elif not up and not self._live:
            last = self._boundary(min(self.text_end, end + page))
            self.show_range(self._boundary(max(0, last - keep)), last, reveal=end)
