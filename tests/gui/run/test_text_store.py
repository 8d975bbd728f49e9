"""TextStore: the whole text by UTF-16 position, kept as UTF-8 in blocks; what it gives back is
what UTF-16 slicing of the whole text gives, however blocks are cut (never inside a pair)."""

from __future__ import annotations

import random

import pytest

from gui.run.text_store import TextStore

_ALPHABET = ["a", "b", " ", "\n", "é", "ÿ", "€", "中", "😀", "𝄞"]


@pytest.mark.parametrize("block", [1, 2, 3, 5, 8, 64])
def test_slices_match_utf16_of_the_whole_text(block: int) -> None:
    rng = random.Random(block)
    for _ in range(40):
        store, whole = TextStore(block), ""
        for _ in range(rng.randint(0, 30)):
            pool = _ALPHABET[:4] if rng.random() < 0.5 else _ALPHABET
            piece = "".join(rng.choice(pool) for _ in range(rng.randint(0, 12)))
            store.append(piece)
            whole += piece
        units = whole.encode("utf-16-le")
        assert len(store) == len(units) // 2
        for _ in range(30):
            a = rng.randint(0, len(store))
            b = rng.randint(a, len(store))
            assert store.utf16(a, b) == units[2 * a : 2 * b]
            for errors in ("replace", "surrogatepass"):
                assert store.text(a, b, errors) == units[2 * a : 2 * b].decode("utf-16-le", errors)


def test_english_with_an_emoji_costs_a_byte_a_character() -> None:
    store = TextStore(block=100)
    store.append("x" * 250)
    store.append("😀")  # two units, four UTF-8 bytes
    store.append("y" * 148)
    assert len(store) == 400
    assert store.nbytes == 250 + 4 + 148
    assert store.text(249, 253) == "x😀y"
    assert store.utf16(251, 252) == "😀".encode("utf-16-le")[2:]  # half a pair, as UTF-16 has it


def test_a_block_never_splits_a_pair() -> None:
    store = TextStore(block=3)
    store.append("ab😀c")  # the pair sits on units 2-3: the first block takes 4 units
    assert store.text(0, 5) == "ab😀c"
    assert store.text(2, 4) == "😀"
    store.clear()
    assert len(store) == 0 and store.text(0, 10) == ""
