"""The lane cards: a pool that follows the lanes, and flushes staggered by lane group."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from core import LaneEvent, TextDelta
from gui.compare.lane_cards import GROUPS, LaneCards


def events(lanes: range) -> list[LaneEvent]:
    return [LaneEvent(lane, 0, TextDelta("x")) for lane in lanes]


def test_cards_follow_the_lanes_and_are_reused(qtbot: Any) -> None:
    box = LaneCards()
    qtbot.addWidget(box)
    box.set_lanes([("a", "m"), ("b", "m"), ("c", "m")])
    first = list(box.cards)
    box.set_lanes([("a", "m"), ("z", "m2"), ("c", "m")])
    assert box.cards == first and first[1].lane_key == ("z", "m2")
    assert "z" in first[1].title.text()
    box.set_lanes([("a", "m")])
    assert box.cards == first[:1] and not first[2].isVisibleTo(box)
    box.set_lanes([("a", "m"), ("z", "m2"), ("c", "m"), ("d", "m")])
    assert box.cards[:3] == first and len(box.cards) == 4


def test_a_flush_takes_one_group_of_lanes(qtbot: Any) -> None:
    box = LaneCards()
    qtbot.addWidget(box)
    box.set_lanes([(f"lane {i}", "m") for i in range(16)])
    box.add_events(events(range(16)))
    assert box.flush_group()
    assert [i for i, card in enumerate(box.cards) if card._chars] == [0, 4, 8, 12]
    for _ in range(GROUPS - 1):
        box.flush_group()
    assert all(card._chars == 1 for card in box.cards)
    assert not box.flush_group()  # nothing pending


def test_a_new_round_drops_the_text_it_would_clear(qtbot: Any) -> None:
    box = LaneCards()
    qtbot.addWidget(box)
    box.set_lanes([("a", "m"), ("b", "m")])
    box.add_events(events(range(2)))
    box.new_round()
    assert all(card._chars == 0 for card in box.cards)
    assert not box.flush_group() and not box.flush_group()


def test_the_live_figures_are_a_fixed_size_that_follows_the_font(qtbot: Any) -> None:
    """A fixed-size label tells no layout when its text changes (16 cards re-laid out
    5 times a second otherwise); a bigger font (present mode) makes it bigger."""
    box = LaneCards()
    qtbot.addWidget(box)
    box.set_lanes([("a", "m")])
    figures = box.cards[0].figures
    assert figures.minimumSize() == figures.maximumSize()
    width = figures.width()
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    base = app.font()
    font = QFont(base)
    font.setPointSizeF(base.pointSizeF() * 2)
    app.setFont(font)  # as present mode does: the style sheet again, so that it reaches
    app.setStyleSheet(app.styleSheet())  # widgets it polishes
    try:
        qtbot.waitUntil(lambda: figures.maximumWidth() > 1.5 * width)
    finally:
        app.setFont(base)
        app.setStyleSheet(app.styleSheet())
