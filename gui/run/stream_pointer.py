"""Pointing at tokens in the stream view: which token a text position or the mouse is on,
its timing as a tooltip (and a seam marker's), click to select its chunk in the inspector,
double-click to show it there, and the inspector's chunk highlighted back. The token and
marker columns are the `StreamView`'s; this is its pointer half."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QPoint, Qt, Signal, Slot
from PySide6.QtGui import QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QTextEdit, QToolTip

from gui.run.text_window import TextWindow
from gui.run.token_style import T_UNIT_NS
from gui.theme import Theme, qcolor
from gui.widgets.columns import Columns

__all__ = ["TokenPointerMixin"]


class TokenPointerMixin(TextWindow):
    token_selected = Signal(int)  # global chunk row of the clicked token
    token_activated = Signal(int)  # double-click: show that chunk in the inspector

    _tokens: Columns
    _chunk_count: int
    _markers: list[tuple[int, int, int, str]]  # start, length, kind, tooltip
    _theme: Theme

    def _token_ends(self, idx: Any) -> np.ndarray:
        """Where tokens end (global): tokens and markers tile the text, so a token runs to
        the next token's or marker's start, whichever comes first (no length column: 4
        bytes a token less)."""
        idx = np.asarray(idx, np.int64)
        starts = self._tokens["start"]
        n = len(starts)
        nxt = np.where(idx + 1 < n, starts[np.minimum(idx + 1, n - 1)], self.text_end)
        if self._markers and len(idx):
            # the column's dtype: int32 needles against int64 marks would be widened first
            marks = np.fromiter((m[0] for m in self._markers), starts.dtype, len(self._markers))
            j = np.searchsorted(marks, starts[idx], "right")
            after = np.where(j < len(marks), marks[np.minimum(j, len(marks) - 1)], self.text_end)
            nxt = np.minimum(nxt, after)
        return nxt.astype(np.int64)

    def token_at(self, position: int) -> int | None:
        """Index of the token covering a document position, or None."""
        position = self.to_global(position)
        starts = self._tokens["start"]
        if not len(starts):
            return None
        i = int(self._tokens.search("start", position, "right")) - 1
        if i >= 0 and position < self._token_ends([i])[0]:
            return i
        return None

    def describe_token(self, i: int) -> str:
        t = self._tokens
        chunk = int(t["chunk"][i])
        where = ""
        if 0 <= chunk < self._chunk_count:
            where = f" · chunk {chunk + 1}"  # the inspector's numbering: from 1, across attempts
        kind = ("text", "reasoning", "refusal", "tool arguments")[int(t["kind"][i])]
        return (
            f"token {i + 1} ({kind}) · at {t['t'][i] * (T_UNIT_NS / 1e6):,.1f} ms · "
            f"gap {t['gap'][i]:,.1f} ms{where}"
        )

    @Slot(int)
    def on_chunk_selected(self, row: int) -> None:
        """Highlight the tokens the given chunk completed (from the inspector)."""
        hits = np.nonzero(self._tokens["chunk"] == row)[0]
        if not len(hits):
            self.setExtraSelections([])
            return
        first, last = int(hits[0]), int(hits[-1])
        self.show_around(int(self._tokens["start"][first]))  # page it in if need be
        start = self.to_doc(int(self._tokens["start"][first]))
        end = self.to_doc(int(self._token_ends([last])[0]))
        sel = QTextEdit.ExtraSelection()
        cursor = QTextCursor(self.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        sel.cursor = cursor  # type: ignore[attr-defined]
        fmt = QTextCharFormat()
        fmt.setBackground(qcolor(self._theme.highlight))
        sel.format = fmt  # type: ignore[attr-defined]
        self.setExtraSelections([sel])
        view = QTextCursor(self.document())
        view.setPosition(start)
        self.setTextCursor(view)
        self.ensureCursorVisible()

    # --- mouse ---------------------------------------------------------------------------

    def _char_at(self, point: QPoint) -> int:
        """The document position of the character under a viewport point (the cursor lands
        on the nearest boundary: left of it means the character before)."""
        cursor = self.cursorForPosition(point)
        pos = cursor.position()
        if pos > 0 and point.x() < self.cursorRect(cursor).left():
            pos -= 1
        return pos

    def _hit(self, point: QPoint) -> int | None:
        return self.token_at(self._char_at(point))

    def tip_at(self, point: QPoint) -> str:
        """What hovering a viewport point shows: a seam marker's tip (checked first, so the
        token beside it cannot hide it), else the token's timing, else nothing."""
        pos = self.to_global(self._char_at(point))
        for start, length, _, tip in self._markers:
            if tip and start <= pos < start + length:
                return tip
        hit = self.token_at(self.to_doc(pos))
        return self.describe_token(hit) if hit is not None else ""

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            tip = self.tip_at(event.pos())  # type: ignore[attr-defined]
            if tip:
                QToolTip.showText(event.globalPos(), tip, self)  # type: ignore[attr-defined]
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)

    def mouseReleaseEvent(self, event: Any) -> None:
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and not self.textCursor().hasSelection():
            hit = self._hit(event.position().toPoint())
            if hit is not None and self._tokens["chunk"][hit] >= 0:
                self.token_selected.emit(int(self._tokens["chunk"][hit]))

    def mouseDoubleClickEvent(self, event: Any) -> None:
        hit = self._hit(event.position().toPoint())
        if hit is not None and self._tokens["chunk"][hit] >= 0:
            self.token_activated.emit(int(self._tokens["chunk"][hit]))
            return
        super().mouseDoubleClickEvent(event)
