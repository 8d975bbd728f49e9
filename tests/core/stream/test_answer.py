"""A verdict keeps its answer as UTF-8 (`Verdict.answer`): `text` and `text_chars` give what
a `str` would, and a recorder's JSON (`dumps_record`) is what `json.dumps` of the decoded
verdict writes, though the answer is never decoded whole."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from core.stream import verdict as verdict_module
from core.stream.verdict import Answer, Verdict, dumps_record, utf8

# Emoji, a lone surrogate, quotes, escapes, control characters and U+2028 (a line break to
# `str.splitlines`, so it must stay escaped in a JSON-lines file).
TRICKY = st.text(
    st.sampled_from(list('aé"\\\n\t\x00\x1f🚀\ud800\u2028 ☕')) | st.characters(), max_size=300
)


@settings(max_examples=200, deadline=None)
@given(TRICKY)
def test_text_and_its_length_come_back_from_the_utf8(text: str) -> None:
    v = Verdict("openai-chat", "completed", "natural", answer=utf8(text))
    assert v.text == text
    assert v.text_chars == len(text)


@settings(max_examples=200, deadline=None)
@given(TRICKY, st.integers(1, 9))
def test_the_record_json_is_json_dumps_of_the_verdict(text: str, block: int) -> None:
    v = Verdict("openai-chat", "completed", "natural", answer=utf8(text), reasoning="r")
    old = verdict_module._BLOCK
    verdict_module._BLOCK = block  # tiny blocks: many cuts, some inside a character
    try:
        line = dumps_record({"kind": "end", "verdict": v.to_record(), "after": [1, "x"]})
    finally:
        verdict_module._BLOCK = old
    assert line == json.dumps({"kind": "end", "verdict": v.to_json(), "after": [1, "x"]})
    assert line.isascii()


def test_two_answers_in_one_record_each_take_their_place() -> None:
    line = dumps_record({"a": Answer(utf8("first 🚀")), "b": Answer(b""), "c": Answer(b"x")})
    assert json.loads(line) == {"a": "first 🚀", "b": "", "c": "x"}


@settings(max_examples=200, deadline=None)
@given(TRICKY, st.integers(0, 400))
def test_head_is_the_first_characters(text: str, chars: int) -> None:
    assert Answer(utf8(text)).head(chars) == text[:chars]
