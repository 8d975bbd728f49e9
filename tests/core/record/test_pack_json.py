"""`pack_json`: how the history store keeps a JSON value. Short ones as text, long ones
compressed as they are made; the key masked either way, also where a piece boundary cuts it."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.record import history_recorder
from core.record.history_recorder import BIG_JSON, pack_json, unpack_json
from core.stream import verdict as verdict_module
from core.stream.verdict import Answer, utf8

KEY = "sk-pack-secret-42"


def test_a_short_value_stays_text_and_a_long_one_is_compressed() -> None:
    short = {"kind": "end", "verdict": {"text": Answer(utf8("hi 🚀"))}}
    assert pack_json(short, None) == json.dumps({"kind": "end", "verdict": {"text": "hi 🚀"}})
    text = 'naïve 🚀 "quoted"\n' * (BIG_JSON // 8)
    packed = pack_json({"verdict": {"text": Answer(utf8(text)), "n": 1}}, None)
    assert isinstance(packed, bytes) and len(packed) < len(text) // 4
    assert unpack_json(packed) == {"verdict": {"text": text, "n": 1}}


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 300),
    st.integers(1, 40),
    st.sampled_from([KEY, "sk-ünïcode/key", "k\\ey"]),
)
def test_the_key_is_masked_wherever_a_piece_boundary_cuts_it(at: int, block: int, key: str) -> None:
    text = "a" * at + key + "b🚀" * (300 - at)
    with pytest.MonkeyPatch.context() as patch:  # small pieces, and compressed from 100 chars
        patch.setattr(verdict_module, "_BLOCK", block)
        patch.setattr(history_recorder, "BIG_JSON", 100)
        packed = pack_json({"text": Answer(utf8(text)), "explanation": key}, key)
    assert isinstance(packed, bytes)
    assert unpack_json(packed) == {"text": text.replace(key, "***"), "explanation": "***"}
