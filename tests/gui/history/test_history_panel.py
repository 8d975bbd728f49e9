"""History in the window: runs kept as they stream, listed and searched, opened as they were
live (segments and attempts), replayed at their pace, compared, exported, imported,
tagged and deleted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from gui.main_window import MainWindow
from tests.gui.conftest import click_and_wait, configure, send_and_wait


def show_history(qtbot: Any, window: MainWindow) -> None:
    window.views.setCurrentWidget(window.history_panel)
    qtbot.waitUntil(lambda: window.history_panel.model.rowCount() > 0, timeout=5_000)


def test_a_run_is_kept_and_opens_as_it_was(qtbot: Any, window: MainWindow) -> None:
    configure(window, prompt="remember the kestrel")
    live = send_and_wait(qtbot, window).verdict
    qtbot.waitUntil(lambda: window.controller.history_id is not None, timeout=5_000)
    show_history(qtbot, window)
    panel = window.history_panel
    (row,) = panel.model.rows
    assert row.id == window.controller.history_id
    assert row.label == live.label == "completed/natural"
    # the store keeps the run: no working file is written beside it
    runs_dir = window.controller.history_path.parent / "runs"
    assert not runs_dir.exists() or not any(runs_dir.iterdir())
    assert panel.model.index(0, 3).data() == "COMPLETED · NATURAL"
    panel.select_rows([0])
    with qtbot.waitSignal(window.controller.verdict_ready, timeout=10_000) as blocker:
        qtbot.mouseClick(panel.buttons["Open"], Qt.MouseButton.LeftButton)
    opened = blocker.args[0].verdict
    assert opened.label == live.label and opened.text == live.text
    assert window.views.currentWidget() is window.main_split
    assert window.stream_view.answer_text() == live.text
    # search finds it by a word of its prompt, and not by another
    show_history(qtbot, window)
    panel.search.setText("kestrel")
    assert panel.model.rowCount() == 1
    panel.search.setText("albatross")
    assert panel.model.rowCount() == 0


def test_a_continued_session_is_one_run_with_its_segments(qtbot: Any, window: MainWindow) -> None:
    configure(window, scenario="max_tokens", max_tokens=40)
    first = send_and_wait(qtbot, window).verdict
    assert first.label == "truncated/max_tokens"
    kept = window.controller.history_id
    whole = click_and_wait(qtbot, window, window.verdict_panel.continue_button).verdict
    assert window.controller.history_id == kept
    show_history(qtbot, window)
    assert window.history_panel.model.rowCount() == 1
    with qtbot.waitSignal(window.controller.verdict_ready, timeout=10_000) as blocker:
        window.open_history_run(kept, None)
    outcome = blocker.args[0]
    assert len(outcome.parts) == 2
    assert outcome.verdict.text == whole.text
    assert window.stream_view.answer_text().startswith(first.text)


def test_replay_at_pace_then_compare_export_import_tag_delete(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    for prompt in ("one", "two"):
        configure(window, prompt=prompt, tokens=30)
        send_and_wait(qtbot, window)
    show_history(qtbot, window)
    panel = window.history_panel
    assert panel.model.rowCount() == 2
    newest = panel.model.rows[0].id
    with qtbot.waitSignal(window.controller.verdict_ready, timeout=10_000) as blocker:
        window.open_history_run(newest, 5.0)
        assert window.controller.busy  # a paced replay is running: Stop can end it
    assert blocker.args[0].verdict.label == "completed/natural"
    qtbot.waitUntil(lambda: not window.controller.busy)
    # compare the two stored runs
    show_history(qtbot, window)
    panel.select_rows([0, 1])
    assert panel.buttons["Compare"].isEnabled()
    qtbot.mouseClick(panel.buttons["Compare"], Qt.MouseButton.LeftButton)
    assert window.views.currentWidget() is window.compare_view
    assert window.compare_view.table.rowCount() == 2
    # export as HAR, import it back: the same verdict
    show_history(qtbot, window)
    ids = [r.id for r in panel.model.rows]
    har = tmp_path / "runs.har"
    assert panel.export(ids, "har", har)
    entries = json.loads(har.read_text())["log"]["entries"]
    assert len(entries) == 2 and entries[0]["_eventSourceMessages"]
    new = panel.import_files([har])
    assert len(new) == 2 and panel.model.rowCount() == 4
    panel.tag(new, ["imported"])
    assert {r.tags for r in panel.model.rows if r.id in new} == {("imported",)}
    panel.select_rows([0, 1])
    qtbot.mouseClick(panel.buttons["Delete"], Qt.MouseButton.LeftButton)
    assert panel.model.rowCount() == 2


def test_a_saved_file_replays_at_its_pace(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    configure(window, tokens=30)
    live = send_and_wait(qtbot, window).verdict
    saved = tmp_path / "run.jsonl"
    assert window.save_run(saved)
    with qtbot.waitSignal(window.controller.verdict_ready, timeout=10_000) as blocker:
        assert window.replay_path(saved, 5.0)
        assert window.controller.busy  # paced: the tokens are still arriving
    assert blocker.args[0].verdict.label == live.label
    assert window.stream_view.answer_text() == live.text
