"""The stream view holds a window of a long answer in Qt and the whole answer compactly
(`gui.run.text_window`): the head is cut while the view follows the end, scrolling to an
edge pages the text in, hover and chunk links keep working on every page, and heat or a
retry's dimming re-draws the window the same way. Small window sizes stand in for the
real ones (100,000 characters), so the tests run on a few hundred tokens."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent

from core import (
    AttemptStarted,
    ChunkReceived,
    DeltaBatch,
    RunSpec,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    batched,
)
from gui.run.messages import SessionStart
from gui.run.stream_view import StreamView

pytestmark = pytest.mark.gui

SPEC = RunSpec("openai-chat", "http://x/v1", "m")
TOKENS = 300  # "t0 " .. "t299 ": 1,490 characters


def word(i: int) -> str:
    return f"t{i} "


@pytest.fixture
def view(qtbot: Any) -> StreamView:
    view = StreamView()
    qtbot.addWidget(view)
    view.resize(300, 120)
    view.show()
    view.sizes = (300, 450, 150)  # keep, trim past, page
    view.on_session_started(SessionStart("first", True, SPEC))
    view.on_attempt_started(AttemptStarted(0, 0, "first", "", 0.0, "", 0, SPEC), 0)
    return view


def stream(view: StreamView, first: int, last: int) -> None:
    for i in range(first, last, 20):  # one batch a frame, as the controller sends them
        ids = range(i, min(i + 20, last))
        (chunks,) = batched(ChunkReceived(j, 10, b"", j * 1_000_000) for j in ids)
        view.on_chunks_received(chunks)
        view.on_events_received(batched(TextDelta(word(j), j * 1_000_000) for j in ids))


def wheel(view: StreamView, *, up: bool) -> None:
    """One notch of the mouse wheel over the view."""
    notch = QPoint(0, 120 if up else -120)
    event = QWheelEvent(
        QPointF(10, 10),
        QPointF(10, 10),
        QPoint(),
        notch,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    view.wheelEvent(event)


def whole() -> str:
    return "".join(word(i) for i in range(TOKENS))


def test_following_the_end_keeps_only_a_window_in_qt(view: StreamView) -> None:
    stream(view, 0, TOKENS)
    start, end = view.window
    assert end == view.text_end == len(whole())
    assert start > 0 and end - start <= 450
    shown = view.toPlainText()
    assert whole().endswith(shown) and shown.startswith("t")  # cut at a token's start
    assert view.answer_text() == whole() and view.token_count() == TOKENS
    # hover resolves the first character shown to the token that starts the window
    i = view.token_at(0)
    assert i is not None and int(view._tokens["start"][i]) == start
    assert view.describe_token(i).startswith(f"token {i + 1} (text)")


def test_scrolling_to_the_top_pages_in_the_text_before(view: StreamView) -> None:
    stream(view, 0, TOKENS)
    bar = view.verticalScrollBar()
    assert bar.maximum() > 0  # the window is taller than the view
    bar.setValue(bar.minimum())  # dragged to the top: the page before comes in
    starts = [view.window[0]]
    assert starts[0] < view.text_end - 450
    for _ in range(40):  # then the wheel, up against the top edge
        if view.window[0] == 0:
            break
        wheel(view, up=True)
        starts.append(view.window[0])
    assert starts == sorted(starts, reverse=True) and view.window[0] == 0
    assert view.toPlainText().startswith("t0 t1 t2 ")
    assert view.token_at(0) == 0
    # text that arrives while the reader is up there is kept, not shown
    stream(view, TOKENS, TOKENS + 20)
    assert not view.toPlainText().endswith(word(TOKENS + 19))
    for _ in range(80):  # down to the end: live again
        if view.window[1] == view.text_end:
            break
        wheel(view, up=False)
    assert view.window[1] == view.text_end
    assert view.toPlainText().endswith(word(TOKENS + 19))
    stream(view, TOKENS + 20, TOKENS + 40)
    assert view.toPlainText().endswith(word(TOKENS + 39))


def test_a_chunk_picked_in_the_inspector_is_paged_in_and_highlighted(view: StreamView) -> None:
    stream(view, 0, TOKENS)
    assert view.window[0] > 0
    view.on_chunk_selected(3)  # token 3's chunk, long cut from the window
    assert view.window[0] == 0
    (selection,) = view.extraSelections()
    assert selection.cursor.selectedText() == word(3)


def test_heat_and_a_retry_redraw_the_window_without_changing_its_text(view: StreamView) -> None:
    stream(view, 0, TOKENS)
    before = view.toPlainText(), view.window
    view.on_heat_toggled(True)
    assert (view.toPlainText(), view.window) == before
    retry = AttemptStarted(1, 0, "retry", "", 0.0, "", 0, SPEC)
    view.on_attempt_started(retry, 400_000_000)
    stream(view, 0, 5)
    shown = view.toPlainText()
    assert "retry" in shown and shown.endswith("t0 t1 t2 t3 t4 ")
    assert view.answer_text() == "t0 t1 t2 t3 t4 "


def formats(view: StreamView) -> list[tuple[str, str, bool]]:
    """The document as (text, colour, italic) fragments."""
    out = []
    block = view.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            fmt = frag.charFormat()
            out.append((frag.text(), fmt.foreground().color().name(), fmt.fontItalic()))
            it += 1
        block = block.next()
    return out


def test_a_batch_of_deltas_shows_exactly_what_the_same_events_one_by_one_show(
    qtbot: Any,
) -> None:
    """The window gets runs of deltas as columns (`DeltaBatch`); its numpy path must give
    the same text, runs of colour (heat on), token columns and answer as the per-event path
    (which tool calls and replays of old files still take)."""
    stream = [ThinkingDelta("hm", 1_000_000), ThinkingDelta(" ok", 3_000_000)]
    stream += [TextDelta(w, t * 1_000_000) for t, w in ((4, "A"), (9, ""), (40, " b😀"), (41, "c"))]
    stream += [TextDelta(f" w{i}", (41 + i * i) * 1_000_000) for i in range(1, 40)]
    views = []
    for batch in (False, True):
        v = StreamView()
        qtbot.addWidget(v)
        v.on_heat_toggled(True)
        v.on_session_started(SessionStart("first", True, SPEC))
        v.on_attempt_started(AttemptStarted(0, 0, "first", "", 0.0, "", 0, SPEC), 0)
        for part in (stream[:5], stream[5:20], stream[20:]):  # frames: a gap spans two
            v.on_events_received(batched(part) if batch else list(part))
        views.append(v)
    one, many = views
    assert any(isinstance(i, DeltaBatch) for i in batched(stream))
    assert many.toPlainText() == one.toPlainText() and "😀" in one.toPlainText()
    assert formats(many) == formats(one) and len({c for _, c, _ in formats(one)}) > 2
    for name in ("start", "t", "gap", "kind"):
        assert many._tokens[name].tolist() == one._tokens[name].tolist(), name
    every = range(one.token_count())
    assert many._token_ends(every).tolist() == one._token_ends(every).tolist()
    assert (
        many.answer_text()
        == one.answer_text()
        == "A b😀c" + "".join(f" w{i}" for i in range(1, 40))
    )


def test_each_token_ends_where_its_own_text_ends_markers_and_pairs_included(
    qtbot: Any,
) -> None:
    """No length column: a token's end is the next token's or marker's start. Each token's
    span is exactly its delta's text (reasoning, the marker after it, an emoji, a tool
    call's header), and a position on a marker is on no token."""
    stream = [ThinkingDelta("hm", 1_000_000), ThinkingDelta(" ok", 3_000_000)]
    stream += [TextDelta("A", 4_000_000), TextDelta("", 5_000_000), TextDelta(" b😀", 6_000_000)]
    stream += [ToolCallDelta(0, "c1", "get", '{"a"', 7_000_000)]
    stream += [ToolCallDelta(0, "c1", "get", ": 1}", 8_000_000)]
    pieces = ["hm", " ok", "A", " b😀", '{"a"', ": 1}"]
    for batch in (False, True):
        v = StreamView()
        qtbot.addWidget(v)
        v.on_session_started(SessionStart("first", True, SPEC))
        v.on_attempt_started(AttemptStarted(0, 0, "first", "", 0.0, "", 0, SPEC), 0)
        v.on_events_received(batched(stream) if batch else list(stream))
        n = v.token_count()
        starts = v._tokens["start"].tolist()
        ends = v._token_ends(range(n)).tolist()
        assert [v.text_range(s, e) for s, e in zip(starts, ends, strict=True)] == pieces
        for start, length, *_ in v._markers:  # markers: "\n\n" and "⚙ get"
            assert v.token_at(v.to_doc(start)) is None
            assert v.token_at(v.to_doc(start + length - 1)) is None
        assert v.token_at(v.to_doc(ends[-1] - 1)) == n - 1
