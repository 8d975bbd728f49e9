"""The lane cards: a pool that follows the lanes, and flushes staggered by lane group."""

from __future__ import annotations

from typing import Any

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
