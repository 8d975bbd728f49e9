"""`TextParts`: a dialect's text kept in UTF-8 blocks gives back exactly what came in."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.stream.dialects.base import TextParts


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=5), max_size=1300), st.integers(1, 7))
def test_joined_is_every_piece_in_order(pieces: list[str], block: int) -> None:
    small = type("Small", (TextParts,), {"__slots__": (), "BLOCK": block})
    parts = small()  # small blocks: many merges, and loose pieces after the last
    for piece in pieces:
        parts.append(piece)
    assert parts.joined() == "".join(pieces)
    assert bool(parts) == bool(pieces)
    assert parts.joined() == "".join(pieces)  # again, from the kept text
    parts.append("more")  # and on after it
    assert parts.joined() == "".join(pieces) + "more"


def test_a_block_with_an_emoji_or_a_lone_surrogate_round_trips() -> None:
    parts = TextParts()
    pieces = ["naïve ", "🚀", "\ud800", " ☕"] * 300  # past BLOCK: merged, and loose
    for piece in pieces:
        parts.append(piece)
    assert any(isinstance(p, bytes) for p in parts)
    assert parts.joined() == "".join(pieces)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=5), max_size=1300), st.integers(1, 7))
def test_joined_utf8_is_every_piece_in_order_as_utf8(pieces: list[str], block: int) -> None:
    small = type("Small", (TextParts,), {"__slots__": (), "BLOCK": block})
    parts = small()
    for piece in pieces:
        parts.append(piece)
    whole = "".join(pieces).encode("utf-8", "surrogatepass")
    assert parts.joined_utf8() == whole
    assert parts.joined_utf8() == whole  # again, from the kept bytes
    assert parts.joined() == "".join(pieces)  # and the str form from them
    parts.append("more")
    assert parts.joined_utf8() == whole + b"more"
