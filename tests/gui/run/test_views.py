"""Stream view, inspector and graph details: hover by text position, token ⇄ chunk links,
reasoning shown apart, malformed events highlighted, heat, zoom, paste, every dialect."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QTextCursor

from core import DIALECTS, ChunkReceived, WireEvent, batched
from gui.main_window import MainWindow
from gui.run.wire_models import ChunkModel, EventModel
from tests.gui.conftest import configure, send_and_wait

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_streams_through_the_window(
    qtbot: Any, window: MainWindow, dialect: str
) -> None:
    configure(window, dialect=dialect, scenario="max_tokens")
    verdict = send_and_wait(qtbot, window).verdict
    assert verdict.label == "truncated/max_tokens"
    assert window.stream_view.answer_text() == verdict.text
    assert window.verdict_panel.continue_button.isEnabled()


def test_hover_and_click_resolve_tokens_by_position(qtbot: Any, window: MainWindow) -> None:
    configure(window)
    send_and_wait(qtbot, window)
    view = window.stream_view
    starts = view._tokens["start"]
    i = 10
    assert view.token_at(int(starts[i])) == i
    assert view.token_at(int(starts[i]) + 1) == i
    text = view.describe_token(i)
    assert text.startswith("token 11 (text) · at ") and " · chunk " in text
    chunk_row = int(view._tokens["chunk"][i])
    assert chunk_row >= 0
    cursor = QTextCursor(view.document())
    cursor.setPosition(int(starts[i]) + 2)
    point = view.cursorRect(cursor).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    inspector = window.inspector
    assert inspector.chunk_table.currentIndex().row() == chunk_row
    event_row = inspector.event_table.currentIndex().row()
    assert inspector.events.chunk_row(event_row) == chunk_row
    # and back: the chunk selected in the inspector highlights its tokens
    assert len(view.extraSelections()) == 1
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert window.tabs.currentWidget() is inspector


def test_reasoning_is_shown_apart_from_the_answer(qtbot: Any, window: MainWindow) -> None:
    configure(window, scenario="thinking", dialect="anthropic")
    verdict = send_and_wait(qtbot, window).verdict
    assert verdict.reasoning
    shown = window.stream_view.toPlainText()
    assert verdict.reasoning[:40] in shown
    assert window.stream_view.answer_text() == verdict.text
    kinds = set(window.stream_view._tokens["kind"].tolist())
    assert kinds == {0, 1}  # text and reasoning


def test_malformed_events_are_highlighted(qtbot: Any, window: MainWindow) -> None:
    configure(window, scenario="malformed_line")
    verdict = send_and_wait(qtbot, window).verdict
    assert "malformed_event" in verdict.warnings
    model = window.inspector.events
    bad = [r for r in range(model.rowCount()) if model.wire_event(r).kind == "malformed"]
    assert bad
    index = model.index(bad[0], 0)
    assert model.data(index, Qt.ItemDataRole.BackgroundRole) is not None
    assert "malformed" in window.inspector.summary.text()
    assert "malformed_event" in window.verdict_panel.warnings.text()


def test_heat_toggle_and_zoom_keep_the_text(qtbot: Any, window: MainWindow) -> None:
    configure(window)
    send_and_wait(qtbot, window)
    view = window.stream_view
    before = view.toPlainText()
    size = view.font().pointSizeF()
    window.heat_toggle.setChecked(True)
    assert view.toPlainText() == before
    qtbot.keyClick(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert view.font().pointSizeF() > size
    qtbot.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert view.font().pointSizeF() == pytest.approx(size)


def test_paste_log_shows_its_verdict(qtbot: Any, window: MainWindow) -> None:
    log = "\n".join(
        [
            'Line 1: \'data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}\'',
            'Line 2: \'data: {"choices":[{"index":0,"delta":{"content":"lo"}}]}\'',
            'Line 3: \'data: {"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}\'',
            "Line 4: 'data: [DONE]'",
        ]
    )
    QGuiApplication.clipboard().setText(log)
    with qtbot.waitSignal(window.controller.verdict_ready, timeout=10_000) as blocker:
        window.paste_log()
    assert blocker.args[0].verdict.label == "truncated/max_tokens"
    assert window.stream_view.answer_text() == "Hello"
    assert window.verdict_panel.outcome_label == "truncated/max_tokens"


def test_live_state_is_shown_while_streaming(qtbot: Any, window: MainWindow) -> None:
    configure(window, tps=20.0, tokens=200)
    qtbot.mouseClick(window.request_pane.send_button, Qt.MouseButton.LeftButton)
    state = window.verdict_panel.state
    qtbot.waitUntil(lambda: state.text().startswith("Streaming"), timeout=10_000)
    assert window.verdict_panel.badge.text() == "RUNNING"
    # the live figures are core's Progress: tokens, tokens/s, time since the last byte
    qtbot.waitUntil(lambda: " tok/s" in state.text(), timeout=10_000)
    assert " tokens · " in state.text() and "last byte " in state.text()
    assert "last content " in state.text()
    window.controller.stop()
    qtbot.waitUntil(lambda: not window.controller.busy)


def test_ctrl_enter_sends_from_the_prompt_and_esc_stops(qtbot: Any, window: MainWindow) -> None:
    values = configure(window, tps=40.0, tokens=400)
    prompt = window.request_pane.prompt
    prompt.setFocus()
    qtbot.waitUntil(prompt.hasFocus)
    qtbot.keyClick(prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert window.controller.busy
    assert prompt.toPlainText() == values.prompt  # the shortcut typed no newline
    qtbot.waitUntil(lambda: window.stream_view.token_count() >= 2, timeout=10_000)
    with qtbot.waitSignal(window.controller.verdict_ready, timeout=10_000) as blocker:
        qtbot.keyClick(prompt, Qt.Key.Key_Escape)
    assert blocker.args[0].verdict.label == "interrupted/cancelled"


def test_the_inspector_gives_back_every_chunk_and_wire_event_of_a_batch(qtbot: Any) -> None:
    """Rows come in as columns (`ChunkBatch`, `WireBatch`); each row reads back as the
    event it was, on the view's axis: non-ASCII data, malformed kinds, plain-body events."""
    chunks = [ChunkReceived(i, 4, f"c{i}é".encode(), 100 * i) for i in range(5)]
    wire = [
        WireEvent(0, -1, "message", "plain", "ok", 0),
        WireEvent(1, 0, "delta", "ünï 😀", "ok", 100),
        WireEvent(2, 3, "message", "{bad", "malformed", 300),
        WireEvent(3, 4, "weird", "", "unknown", 400),
    ]
    model, events = ChunkModel(), EventModel()
    for part in (chunks[:2], chunks[2:]):
        (batch,) = batched(part)
        model.append(batch, 1, 1_000)
    (wire_batch,) = batched(wire)
    events.append(wire_batch, 10, 1_000)
    shifted = [ChunkReceived(c.index, len(c.data), c.data, c.t_ns + 1_000) for c in chunks]
    assert [model.chunk(r) for r in range(5)] == shifted
    assert [model.attempt(r) for r in range(5)] == [1] * 5
    chunk_rows = [-1, 10, 13, 14]
    assert [events.wire_event(r) for r in range(4)] == [
        WireEvent(w.index, row, w.name, w.data, w.kind, w.t_ns + 1_000)
        for w, row in zip(wire, chunk_rows, strict=True)
    ]
