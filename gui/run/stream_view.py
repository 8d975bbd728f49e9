"""The token stream: text as it arrived, reasoning, refusal and tool-call arguments shown
distinctly, a heat toggle colouring each token by the gap before it, hover for a token's
timing, click to find its chunk in the inspector (the pointer half: `stream_pointer`), and a
seam marker ⟫ where a continuation joins, whose tooltip names the method and the request.

Text is appended once per batch (the controller's frame), in runs of equal format, never a
widget or an object per token. Per-token facts sit in numpy columns; a hover or click is
resolved by text position with a binary search. Qt holds a window of a long answer, the
whole of it is kept compactly and paged in as the reader scrolls (`TextWindow`).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtGui import QFont, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QWidget

from core import (
    AttemptStarted,
    ChunkBatch,
    DeltaBatch,
    RefusalDelta,
    RunFinished,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
)
from gui.run.messages import SessionStart, attempt_label
from gui.run.stream_pointer import TokenPointerMixin
from gui.run.token_style import (
    DIMMED,
    HEAT_LIMITS_MS,
    MARKER,
    REFUSAL,
    T_UNIT_NS,
    TEXT,
    THINKING,
    TOOL,
    char_format,
    heat_level,
    utf16_len,
)
from gui.theme import LIGHT, Theme
from gui.widgets.columns import Columns

__all__ = ["StreamView", "seam_tip"]

_RECENT_CHUNKS = 4096
_T_MAX = 2**32 - 1
_BATCH_KINDS = {TextDelta: TEXT, ThinkingDelta: THINKING, RefusalDelta: REFUSAL}


def seam_tip(attempt: AttemptStarted) -> str:
    """What a seam marker's hover says: how the continuation was asked for, and with what."""
    spec = attempt.spec
    lines = [f"Continued here: segment {attempt.segment + 1}, method {attempt.method or '?'}"]
    lines.append(f"Max tokens sent: {spec.max_tokens if spec.max_tokens else 'none'}")
    lines.append(f"Request: {spec.dialect} · {spec.model} · {len(spec.messages)} messages")
    if spec.previous_response_id:
        lines.append(f"previous_response_id {spec.previous_response_id}")
    for msg in spec.messages[-2:]:
        content = msg.get("content")
        text = content if isinstance(content, str) else str(content)
        short = text if len(text) <= 90 else "…" + text[-89:]
        lines.append(f"  {msg.get('role', '?')}: {short!r}")
    return "\n".join(lines)


class StreamView(TokenPointerMixin):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setMouseTracking(True)
        self.setPlaceholderText("Press Send (Ctrl+Enter): the reply streams here, token by token.")
        self._base_font = QFont("DejaVu Sans", 11)
        self.setFont(self._base_font)
        self._theme = LIGHT
        self._heat = False
        # t: arrival on the session's axis in units of T_UNIT_NS (10 µs: 0.1 ms is what a
        # hover shows; 32 bits hold 11.9 hours); a token's end is the next token's or
        # marker's start (`_token_ends`): 17 bytes a token, not 25
        self._tokens = Columns(start="i4", t="u4", gap="f4", chunk="i4", kind="i1")
        # the arrival times of the latest chunks only: a token's chunk is always a recent one
        self._chunk_count = 0
        self._recent = np.zeros(0, np.int64)
        self._recent_row = 0  # the chunk row of _recent[0]
        self._markers: list[tuple[int, int, int, str]] = []  # start, length, kind, tooltip
        self._offset = 0
        self._attempt = 0
        self._attempt_no = 0  # attempts shown since the views were cleared, from 1
        self._divider: str | None = None  # a retry's divider, drawn once its bytes arrive
        self._last_t: int | None = None
        self._last_kind = TEXT
        self._tool_index: int | None = None
        self._pos = 0  # the global end of the text shown
        self._dim_end = 0  # everything before this global position is superseded (dimmed)

    # --- what tests and the window read ---------------------------------------------------

    def answer_text(self) -> str:
        """The answer text as shown (reasoning, refusal and tool arguments excluded): the
        text tokens since the last retry's divider, cut from the whole text (`TextWindow`)
        rather than kept a second time."""
        t = self._tokens
        keep = (t["kind"] == TEXT) & (t["start"] >= self._dim_end)
        starts, ends = t["start"][keep], self._token_ends(np.flatnonzero(keep))
        if not len(starts):
            return ""
        # runs of adjacent answer tokens: a marker or another kind between them cuts a run
        cuts = np.flatnonzero(starts[1:] != ends[:-1]) + 1
        firsts = np.concatenate([[0], cuts]).tolist()
        lasts = np.concatenate([cuts - 1, [len(ends) - 1]]).tolist()
        store = self._store
        parts = [
            store.text(int(starts[a]), int(ends[b]), "surrogatepass")
            for a, b in zip(firsts, lasts, strict=True)
        ]
        return "".join(parts)

    def token_count(self) -> int:
        return len(self._tokens)

    def marker_tips(self) -> list[str]:
        """The hover texts of the markers that have one (seams between segments)."""
        return [tip for *_, tip in self._markers if tip]

    # --- slots -------------------------------------------------------------------------

    @Slot(object)
    def on_session_started(self, start: SessionStart) -> None:
        if start.fresh:
            self._reset_window()
            self._tokens.clear()
            self._chunk_count, self._recent, self._recent_row = 0, np.zeros(0, np.int64), 0
            self._markers.clear()
            self._pos, self._last_t, self._last_kind, self._tool_index = 0, None, TEXT, None
            self._dim_end = 0
            self._attempt_no, self._divider = 0, None

    @Slot(object, object)
    def on_attempt_started(self, attempt: AttemptStarted, axis_offset_ns: int) -> None:
        self._offset, self._attempt = axis_offset_ns, attempt.attempt
        self._attempt_no += 1
        self._last_t = None
        self._divider = None
        if attempt.kind in ("retry", "more_tokens") and self._pos:
            # the old text is greyed only once the retry's answer comes: a retry the breaker
            # refuses leaves it as it was
            self._divider = f"\n\n── {attempt_label(attempt, self._attempt_no)} ──\n\n"
        elif attempt.kind == "continue" and self._pos:
            self._append([("⟫", MARKER, 0)], [], seam_tip(attempt))

    def _start_retry_text(self) -> None:
        if self._divider is not None:
            self._dim_all()
            self._append([(self._divider, MARKER, 0)], [])
            self._divider = None

    @Slot(object)
    def on_run_finished(self, finished: RunFinished) -> None:
        """A retry that was sent but brought no bytes still supersedes the old text."""
        if finished.verdict.outcome != "not_sent":
            self._start_retry_text()
        self._divider = None

    @Slot(object)
    def on_chunks_received(self, chunks: ChunkBatch) -> None:
        if not chunks:
            return
        self._start_retry_text()
        times = np.frombuffer(chunks.t_ns, np.int64) + self._offset
        kept = self._recent[-_RECENT_CHUNKS:]
        self._recent = np.concatenate([kept, times])
        self._recent_row = self._chunk_count - len(kept)
        self._chunk_count += len(chunks)

    @Slot(object)
    def on_events_received(self, events: list) -> None:
        """Normalized events in order; runs of text deltas come as `DeltaBatch`es."""
        run: list = []
        for ev in events:
            if type(ev) is DeltaBatch:
                if run:
                    self._add_events(run)
                    run = []
                self._add_batch(ev)
            else:
                run.append(ev)
        if run:
            self._add_events(run)

    def _add_batch(self, batch: DeltaBatch) -> None:
        """A run of one kind of delta, with numpy: no Python work per token."""
        if not batch:
            return
        kind = _BATCH_KINDS[batch.kind]
        if kind != self._last_kind and self._pos:
            self._append([("\n\n", MARKER, 0.0)], [-1])
        self._last_kind = kind
        text = batch.text
        sizes = np.frombuffer(batch.sizes, np.int64)
        t = np.frombuffer(batch.t_ns, np.int64) + self._offset
        gaps = np.empty(len(t), np.float64)
        gaps[0] = 0.0 if self._last_t is None else (t[0] - self._last_t) / 1e6
        gaps[1:] = np.diff(t) / 1e6
        self._last_t = int(t[-1])
        ends = np.cumsum(sizes)
        if text.isascii():
            sizes16 = sizes
        else:  # UTF-16 units (what Qt counts) differ from characters only past the BMP
            sizes16 = np.fromiter((utf16_len(p) for p in batch.pieces()), np.int64, len(sizes))
        starts = self._pos + np.cumsum(sizes16) - sizes16
        keep = sizes > 0
        levels = (
            np.searchsorted(np.asarray(HEAT_LIMITS_MS), gaps)
            if self._heat
            else np.zeros(len(t), np.int64)
        )
        # runs of equal look: cut where the level changes between kept tokens
        kept = np.flatnonzero(keep)
        if len(kept):
            self._add_tokens(starts[kept], t[kept], gaps[kept], np.full(len(kept), kind))
        runs: list[tuple[str, QTextCharFormat]] = []
        if len(kept):
            lv = levels[kept]
            cuts = kept[np.flatnonzero(np.diff(lv)) + 1]
            firsts = np.concatenate([[0], cuts])
            bounds = [*(ends[firsts] - sizes[firsts]).tolist(), len(text)]
            firsts_lv = np.concatenate([[lv[0]], levels[cuts]]).tolist()
            for i, level in enumerate(firsts_lv):
                runs.append((text[bounds[i] : bounds[i + 1]], self._format(kind, level)))
        self._pos += int(sizes16.sum())
        self._store_runs(runs)

    def _add_events(self, events: list) -> None:
        pieces: list[tuple[str, int, float]] = []  # text, kind, gap before it (ms)
        times: list[int] = []
        for ev in events:
            if isinstance(ev, TextDelta):
                kind, text = TEXT, ev.text
            elif isinstance(ev, ThinkingDelta):
                kind, text = THINKING, ev.text
            elif isinstance(ev, RefusalDelta):
                kind, text = REFUSAL, ev.text
            elif isinstance(ev, ToolCallDelta):
                kind, text = TOOL, ev.arguments
                if ev.index != self._tool_index:
                    self._tool_index = ev.index
                    lead = "\n\n" if self._pos or pieces else ""
                    pieces.append((f"{lead}⚙ {ev.name or 'tool call'}  ", MARKER, 0.0))
                    times.append(-1)
            else:
                continue
            if kind != self._last_kind and (self._pos or pieces) and kind != TOOL:
                pieces.append(("\n\n", MARKER, 0.0))
                times.append(-1)
            self._last_kind = kind
            t = ev.t_ns + self._offset
            gap = 0.0 if self._last_t is None else (t - self._last_t) / 1e6
            self._last_t = t
            if text:
                pieces.append((text, kind, gap))
                times.append(t)
        if pieces:
            self._append(pieces, times)

    @Slot(bool)
    def on_heat_toggled(self, on: bool) -> None:
        self._heat = on
        self._recolor()

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._recolor()

    def set_zoom(self, factor: float) -> None:
        font = QFont(self._base_font)
        font.setPointSizeF(self._base_font.pointSizeF() * factor)
        self.setFont(font)

    # --- appending and colouring -----------------------------------------------------------

    def _level(self, kind: int, gap: float) -> int:
        return heat_level(kind, gap, self._heat)

    def _format(self, kind: int, level: int = 0) -> QTextCharFormat:
        return char_format(self._theme, kind, level, self._heat)

    def _append(
        self, pieces: list[tuple[str, int, float]], times: list[int], tip: str = ""
    ) -> None:
        starts: list[int] = []
        stamps: list[int] = []
        gaps: list[float] = []
        kinds: list[int] = []
        runs: list[tuple[str, QTextCharFormat]] = []
        run: list[str] = []
        run_key = (TEXT, 0)
        pos = self._pos
        for (text, kind, gap), t in zip(pieces, times or [-1] * len(pieces), strict=True):
            key = (kind, self._level(kind, gap))
            if key != run_key and run:
                runs.append(("".join(run), self._format(*run_key)))
                run = []
            run_key = key
            run.append(text)
            size = utf16_len(text)
            if kind == MARKER:
                self._markers.append((pos, size, MARKER, tip))
            else:
                starts.append(pos)
                stamps.append(t)
                gaps.append(gap)
                kinds.append(kind)
            pos += size
        if run:
            runs.append(("".join(run), self._format(*run_key)))
        if starts:  # before the text goes in: a trim finds its boundaries among them
            self._add_tokens(starts, stamps, gaps, kinds)
        self._pos = pos
        self._store_runs(runs)

    # --- the window's pieces (TextWindow) -----------------------------------------------------

    def _boundary(self, position: int) -> int:
        starts = self._tokens["start"]
        i = int(self._tokens.search("start", position, "left"))
        return int(starts[i]) if i < len(starts) else self._pos

    def _runs(self, start: int, end: int) -> list[tuple[int, int, QTextCharFormat]]:
        """Tokens and markers tile the text; runs of equal look over [start, end)."""
        t = self._tokens
        lo, hi = t.search("start", [start, end], "left")
        pos = t["start"][lo:hi].astype(np.int64)
        kind = t["kind"][lo:hi].astype(np.int64)
        if self._heat:
            level = np.searchsorted(np.asarray(HEAT_LIMITS_MS), t["gap"][lo:hi])
        else:
            level = np.zeros(len(pos), np.int64)
        marks = [(s, k) for s, _n, k, _tip in self._markers if start <= s < end]
        if marks:
            pos = np.concatenate([pos, [s for s, _ in marks]])
            kind = np.concatenate([kind, [k for _, k in marks]])
            level = np.concatenate([level, np.zeros(len(marks), np.int64)])
            order = np.argsort(pos, kind="stable")
            pos, kind, level = pos[order], kind[order], level[order]
        dimmed = pos < self._dim_end
        kind = np.where(dimmed, DIMMED, kind)
        level = np.where(dimmed | (kind == MARKER), 0, level)
        key = kind * 16 + level
        if not len(pos) or pos[0] > start:  # text before the first piece (never, but safe)
            pos = np.concatenate([[start], pos])
            key = np.concatenate([[TEXT * 16], key])
        cuts = np.flatnonzero(np.diff(key)) + 1
        firsts = np.concatenate([[0], cuts])
        bounds = [*pos[firsts].tolist(), end]
        return [
            (bounds[i], bounds[i + 1], self._format(int(key[f]) // 16, int(key[f]) % 16))
            for i, f in enumerate(firsts.tolist())
        ]

    def _add_tokens(self, starts: list[int], stamps: list[int], gaps: list, kinds: list) -> None:
        """Record the tokens, each with the chunk row whose arrival time it carries."""
        t_arr = np.asarray(stamps, dtype=np.int64)
        chunk_t = self._recent
        if len(chunk_t):
            rows = np.searchsorted(chunk_t, t_arr, "left")
            exact = (rows < len(chunk_t)) & (chunk_t[np.minimum(rows, len(chunk_t) - 1)] == t_arr)
            rows = np.where(exact, rows, rows - 1) + self._recent_row
            rows = np.where(rows < 0, -1, rows)
        else:
            rows = np.full(len(t_arr), -1)
        self._tokens.extend(
            start=starts,
            t=np.clip((t_arr + T_UNIT_NS // 2) // T_UNIT_NS, 0, _T_MAX),
            gap=gaps,
            chunk=rows,
            kind=kinds,
        )

    def _dim_all(self) -> None:
        cursor = QTextCursor(self.document())
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.mergeCharFormat(self._format(DIMMED))
        self._dim_end = self._pos  # still tokens (hover works), shown as superseded

    def _recolor(self) -> None:
        """Re-draw the window's text in the current look (heat toggled or theme changed)."""
        if not self._pos:
            return
        value = self.verticalScrollBar().value()
        start, end = self.window
        self.show_range(start, end)
        self.verticalScrollBar().setValue(value)
