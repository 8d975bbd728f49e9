"""Retry, Continue and Retry with more tokens from the verdict panel (issue 5, GUI part)."""

from __future__ import annotations

from typing import Any

import pytest

from gui.main_window import MainWindow
from tests.gui.conftest import click_and_wait, configure, send_and_wait

pytestmark = pytest.mark.gui


def attempt_rows(win: MainWindow) -> list[list[str]]:
    tree = win.verdict_panel.attempts
    return [
        [tree.topLevelItem(i).text(c) for c in range(tree.columnCount())]
        for i in range(tree.topLevelItemCount())
    ]


def test_continue_after_max_tokens_completes_the_script(qtbot: Any, window: MainWindow) -> None:
    configure(window, scenario="normal", tokens=80)
    whole = send_and_wait(qtbot, window).verdict.text
    configure(window, scenario="max_tokens", tokens=80)
    first = send_and_wait(qtbot, window).verdict
    assert first.label == "truncated/max_tokens"
    points_before = window.latency_plot.point_count()
    outcome = click_and_wait(qtbot, window, window.verdict_panel.continue_button)
    assert outcome.verdict.label == "completed/natural"
    assert outcome.verdict.text == whole  # stitched: partial + continuation
    # core continued the finished session (previous=): one session, both segments and runs
    session = window.controller.last_session
    assert session is not None and session.text == whole
    assert [v.label for v in session.segment_verdicts] == [
        "truncated/max_tokens",
        "completed/natural",
    ]
    assert len(session.runs) == 2 and session.parts[1][1] != "original"
    assert [s["outcome"] for s in outcome.verdict.segments] == ["truncated", "completed"]
    assert outcome.parts == session.parts
    assert [label for label, _ in outcome.segments] == ["truncated/max_tokens", "completed/natural"]
    # the panel lists each segment's verdict and the whole's
    panel = window.verdict_panel
    assert panel.segments.isVisibleTo(window)
    listed = panel.segments.text()
    method = session.parts[1][1]
    assert "1. " in listed and "2. " in listed and "<b>Whole</b>" in listed
    assert listed.index("truncated/max_tokens") < listed.index("completed/natural")
    assert f"· {method} ·" in listed and "· 2 segments ·" in listed
    # the same stream view and graph continue, with a seam marker between the segments
    shown = window.stream_view.toPlainText()
    assert shown.count("⟫") == 1
    assert shown.startswith(first.text)
    tips = window.stream_view.marker_tips()
    assert len(tips) == 1 and f"method {method}" in tips[0] and "Request:" in tips[0]
    assert window.latency_plot.point_count() > points_before
    rows = attempt_rows(window)
    assert [r[1] for r in rows] == ["first", "continue"]
    assert rows[1][5] == method  # the continuation method is listed
    assert not window.verdict_panel.continue_button.isEnabled()


def test_continue_twice_keeps_every_segment(qtbot: Any, window: MainWindow) -> None:
    configure(window, scenario="max_tokens", tokens=120, max_tokens=20, prompt="twice")
    send_and_wait(qtbot, window)
    second = click_and_wait(qtbot, window, window.verdict_panel.continue_button)
    assert second.verdict.label == "truncated/max_tokens"  # 20 more tokens do not finish it
    third = click_and_wait(qtbot, window, window.verdict_panel.continue_button)
    assert len(third.parts) == 3 and len(window.controller.last_session.runs) == 3
    assert window.stream_view.toPlainText().count("⟫") == 2
    assert window.verdict_panel.segments.text().count("truncated/max_tokens") >= 2


def test_retry_after_http_429_lists_both_attempts(qtbot: Any, window: MainWindow) -> None:
    configure(window, scenario="http_429", fail_first=1, prompt="retry me, 429")
    assert send_and_wait(qtbot, window).verdict.label == "http_error/rate_limited"
    assert window.verdict_panel.retry_button.isEnabled()
    outcome = click_and_wait(qtbot, window, window.verdict_panel.retry_button)
    assert outcome.verdict.label == "completed/natural"
    rows = attempt_rows(window)
    assert [(r[1], r[2], r[3]) for r in rows] == [
        ("first", "http_error/rate_limited", "429"),
        ("retry", "completed/natural", "200"),
    ]
    assert window.stream_view.answer_text() == outcome.verdict.text


def test_retry_after_reset_dims_the_old_text(qtbot: Any, window: MainWindow) -> None:
    configure(window, scenario="reset_mid_stream", fail_first=1, prompt="retry me, reset")
    cut = send_and_wait(qtbot, window).verdict
    assert cut.label == "interrupted/connection_reset"
    outcome = click_and_wait(qtbot, window, window.verdict_panel.retry_button)
    assert outcome.verdict.label == "completed/natural"
    assert window.stream_view.answer_text() == outcome.verdict.text
    assert window.stream_view.toPlainText().startswith(cut.text)  # kept, dimmed, above


def test_automatic_retries_run_the_policy_loop(qtbot: Any, window: MainWindow) -> None:
    configure(window, scenario="eof_mid_stream", fail_first=1, retries=2, prompt="auto retry")
    outcome = send_and_wait(qtbot, window)
    assert outcome.verdict.label == "completed/natural"
    rows = attempt_rows(window)
    assert [(r[1], r[2]) for r in rows] == [
        ("first", "interrupted/eof_before_terminator"),
        ("retry", "completed/natural"),
    ]
    assert rows[1][4].endswith(" s")  # the delay waited is shown
    assert "backoff" in rows[1][5]


def test_truncated_tool_call_offers_only_more_tokens(qtbot: Any, window: MainWindow) -> None:
    configure(window, scenario="tool_call_truncated", max_tokens=20)
    first = send_and_wait(qtbot, window).verdict
    assert first.label == "truncated/max_tokens"
    assert first.actions == ("retry_more_tokens",)
    panel = window.verdict_panel
    assert not panel.continue_button.isEnabled()
    assert not panel.retry_button.isEnabled()
    spec = window.controller.last_spec
    assert spec is not None and spec.max_tokens == 20
    outcome = first
    for _ in range(8):  # doubles each time: 40, 80, ... until the call fits
        outcome = click_and_wait(qtbot, window, panel.more_tokens_button).verdict
        if outcome.outcome == "tool_calls":
            break
    assert outcome.outcome == "tool_calls"
    assert outcome.tool_calls and outcome.tool_calls[0].complete
    assert f"{outcome.tool_calls[0].name}</b>(" in panel.segments.text()
    assert {r[1] for r in attempt_rows(window)[1:]} == {"more tokens"}


def test_context_window_explains_why_not_continue(qtbot: Any, window: MainWindow) -> None:
    configure(window, scenario="context_window", dialect="anthropic")
    verdict = send_and_wait(qtbot, window).verdict
    assert verdict.label == "truncated/context_window"
    assert verdict.actions == ()
    button = window.verdict_panel.continue_button
    assert not button.isEnabled()
    assert "Continue cannot help" in button.toolTip()
    # asked anyway (Run → Continue): core refuses at once and the panel says why
    with qtbot.waitSignal(window.controller.run_failed, timeout=5_000) as blocker:
        window.controller.continue_run()
    assert blocker.args[0].startswith("Cannot continue: the context window is full")
    qtbot.waitUntil(lambda: not window.controller.busy)
    assert window.verdict_panel.outcome_label == "truncated/context_window"  # still shown
