"""Property and example tests for the byte-level framing decoders (core/sse.py, core/ndjson.py).

Properties: splitting a body at any byte positions never changes what comes out (events and
flags); multi-byte characters split inside reassemble; CR, LF and CRLF are the same line end
(also a CRLF cut between two chunks); random bytes never raise; and the whole-body decode
matches a deliberately naive reference of WHATWG HTML §9.2.6.

Examples: one test per rule of DESIGN §2's SSE bullet.
"""

from __future__ import annotations

import codecs
import itertools
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from core.stream.ndjson import NDJSONDecoder
from core.stream.sse import SSEDecoder, SSEEvent

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

BOM = b"\xef\xbb\xbf"


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SSEResult:
    events: tuple[SSEEvent, ...]
    bom_stripped: bool
    utf8_replaced: int
    unterminated: bool
    last_event_id: str | None
    comments: int


def run_sse(chunks: list[bytes]) -> SSEResult:
    dec = SSEDecoder()
    events: list[SSEEvent] = []
    for c in chunks:
        events += dec.feed(c)
    events += dec.close()
    return SSEResult(
        tuple(events),
        dec.bom_stripped,
        dec.utf8_replaced,
        dec.unterminated_final_event,
        dec.last_event_id,
        dec.comments,
    )


def sse_events(*chunks: bytes) -> list[SSEEvent]:
    return list(run_sse(list(chunks)).events)


@dataclass(frozen=True)
class NDResult:
    lines: tuple[str, ...]
    bom_stripped: bool
    utf8_replaced: int
    unterminated: bool


def run_ndjson(chunks: list[bytes]) -> NDResult:
    dec = NDJSONDecoder()
    lines: list[str] = []
    for c in chunks:
        lines += dec.feed(c)
    lines += dec.close()
    return NDResult(tuple(lines), dec.bom_stripped, dec.utf8_replaced, dec.unterminated_final_event)


def cut(body: bytes, points: list[int]) -> list[bytes]:
    bounds = [0, *sorted({p for p in points if 0 < p < len(body)}), len(body)]
    return [body[a:b] for a, b in itertools.pairwise(bounds)]


@st.composite
def body_and_cuts(draw: Any, bodies: st.SearchStrategy[bytes]) -> tuple[bytes, list[bytes]]:
    body = draw(bodies)
    points = draw(st.lists(st.integers(0, max(len(body), 1)), max_size=12))
    # Sometimes one byte per chunk: the harshest split.
    if len(body) < 200 and draw(st.integers(0, 7)) == 0:
        points = list(range(len(body)))
    return body, cut(body, points)


# --- naive reference: decode everything at once, split, interpret (WHATWG §9.2.6) ---

_ref_replaced = [0]


def _ref_handler(err: UnicodeError) -> tuple[str, int]:
    assert isinstance(err, UnicodeDecodeError)
    _ref_replaced[0] += 1
    return "\ufffd", err.end


codecs.register_error("test-ref-count", _ref_handler)


def reference_sse(body: bytes) -> SSEResult:
    _ref_replaced[0] = 0
    text = body.decode("utf-8", "test-ref-count")
    replaced = _ref_replaced[0]
    bom = text.startswith("\ufeff")
    if bom:
        text = text[1:]
    *lines, tail = re.split(r"\r\n|\r|\n", text)
    events: list[SSEEvent] = []
    event, data, retry, last_id, comments = "", None, None, None, 0
    for line in [*lines, *([tail] if tail else [])]:
        if line == "":
            if data is not None:
                events.append(SSEEvent(event or "message", "\n".join(data), last_id, retry))
            event, data, retry = "", None, None
        elif line.startswith(":"):
            comments += 1
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data = [*(data or []), value]
            elif name == "event":
                event = value
            elif name == "id" and "\0" not in value:
                last_id = value
            elif name == "retry" and value and all("0" <= ch <= "9" for ch in value):
                retry = int(value)
    return SSEResult(tuple(events), bom, replaced, data is not None, last_id, comments)


# --- strategies ---

_value_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n")
values = st.text(_value_chars, max_size=12)
multibyte = st.text(st.sampled_from("aé€𝄞数据🌍ß\u00a0\u2028\ufeff—"), min_size=1, max_size=10)
line_ends = st.sampled_from(["\n", "\r", "\r\n"])

field_line = st.one_of(
    st.builds(lambda s, v: f"data:{s}{v}", st.sampled_from(["", " ", "  "]), values),
    st.builds(lambda v: f"data: {v}", multibyte),
    st.builds(lambda v: f"event: {v}", values),
    st.builds(lambda v: f"id: {v}", values),
    st.builds(lambda v: f"retry: {v}", st.one_of(st.integers(0, 10**6).map(str), values)),
    st.builds(lambda v: f":{v}", values),
    st.just(""),
    st.just("data"),
    st.builds(lambda n, v: f"{n}: {v}", st.sampled_from(["foo", "Data", "data ", " data"]), values),
)


@st.composite
def sse_texts(draw: Any) -> tuple[list[str], bool]:
    """Lines of an SSE body (without line ends) and whether to prefix a BOM."""
    lines = draw(st.lists(field_line, max_size=25))
    return lines, draw(st.booleans())


@st.composite
def sse_bodies(draw: Any) -> bytes:
    lines, bom = draw(sse_texts())
    body = "".join(line + draw(line_ends) for line in lines)
    if draw(st.booleans()) and lines:
        body = body[: -1 if body.endswith(("\r", "\n")) else None]  # maybe unterminated
    raw = body.encode()
    return (BOM if bom else b"") + raw


# Byte soup biased toward the pieces that matter: field names, line ends, BOMs, partial and
# invalid UTF-8, NUL.
fragments = st.one_of(
    st.sampled_from(
        [
            b"data:",
            b"data: ",
            b"event: x",
            b"id: 1",
            b"id: \x00",
            b"retry: 5",
            b":",
            b"\r",
            b"\n",
            b"\r\n",
            BOM,
            b"\xef\xbb",
            b"\xe2\x82",
            b"\xac",
            b"\xf0\x9f",
            b"\x8c\x8d",
            b"\xff",
            b"\xc0\xaf",
            b"\xed\xa0\x80",
            b"\x00",
            b"{}",
        ]
    ),
    st.binary(max_size=8),
)
byte_soup = st.lists(fragments, max_size=30).map(b"".join)
any_sse_body = st.one_of(sse_bodies(), byte_soup, st.binary(max_size=64))


# --------------------------------------------------------------------------------------
# SSE properties
# --------------------------------------------------------------------------------------


@FAST
@given(body_and_cuts(any_sse_body))
@example((BOM + b"data: a\r\n\r\n", [b"\xef", b"\xbb\xbfdata: a\r", b"\n\r", b"\n"]))
def test_sse_any_split_decodes_like_the_whole_body(case: tuple[bytes, list[bytes]]) -> None:
    body, chunks = case
    assert b"".join(chunks) == body
    assert run_sse(chunks) == run_sse([body])


@FAST
@given(any_sse_body)
def test_sse_whole_body_matches_naive_reference(body: bytes) -> None:
    assert run_sse([body]) == reference_sse(body)


@FAST
@given(st.lists(multibyte, min_size=1, max_size=5), st.data())
def test_sse_multibyte_split_inside_a_character_reassembles(
    texts: list[str], data: st.DataObject
) -> None:
    body = "".join(f"data: {t}\n\n" for t in texts).encode()
    # Cut only inside characters: after a lead or continuation byte that is followed by a
    # continuation byte.
    inside = [i for i in range(1, len(body)) if body[i] & 0xC0 == 0x80]
    assume(inside)
    points = data.draw(st.lists(st.sampled_from(inside), min_size=1, max_size=8))
    result = run_sse(cut(body, points))
    assert [e.data for e in result.events] == texts
    assert result.utf8_replaced == 0


@FAST
@given(sse_texts(), st.lists(line_ends, min_size=1), st.data())
def test_sse_line_endings_are_equivalent(
    case: tuple[list[str], bool], ends: list[str], data: st.DataObject
) -> None:
    lines, bom = case
    prefix = BOM if bom else b""
    lf = prefix + "".join(line + "\n" for line in lines).encode()
    mixed_text = ""
    for i, line in enumerate(lines):
        end = ends[i % len(ends)]
        if mixed_text.endswith("\r") and not line and end == "\n":
            end = "\r\n"  # a lone LF right after a CR would join it into one CRLF
        mixed_text += line + end
    mixed = prefix + mixed_text.encode()
    for eol in ("\r", "\r\n"):
        other = prefix + "".join(line + eol for line in lines).encode()
        assert run_sse([other]) == run_sse([lf])
    assert run_sse([mixed]) == run_sse([lf])
    # Every CRLF cut between its CR and its LF, plus any other cuts.
    crlf = prefix + "".join(line + "\r\n" for line in lines).encode()
    between = [i + 1 for i in range(len(crlf) - 1) if crlf[i : i + 2] == b"\r\n"]
    extra = data.draw(st.lists(st.integers(0, len(crlf)), max_size=5))
    assert run_sse(cut(crlf, between + extra)) == run_sse([lf])


@FAST
@given(body_and_cuts(st.one_of(byte_soup, st.binary(max_size=256))))
def test_sse_random_bytes_never_raise(case: tuple[bytes, list[bytes]]) -> None:
    _, chunks = case
    dec = SSEDecoder()
    for c in chunks:
        for ev in dec.feed(c):
            assert isinstance(ev.data, str)
    dec.close()
    assert dec.close() == []  # a second close is harmless


# --------------------------------------------------------------------------------------
# NDJSON properties
# --------------------------------------------------------------------------------------


def reference_ndjson(body: bytes) -> NDResult:
    _ref_replaced[0] = 0
    text = body.decode("utf-8", "test-ref-count")
    replaced = _ref_replaced[0]
    bom = text.startswith("\ufeff")
    if bom:
        text = text[1:]
    *lines, tail = text.split("\n")
    out = [line.strip() for line in lines if line.strip()]
    if tail.strip():
        out.append(tail.strip())
    return NDResult(tuple(out), bom, replaced, bool(tail.strip()))


ndjson_line = st.one_of(
    st.builds(
        lambda v: json.dumps({"message": {"content": v}, "done": False}, ensure_ascii=False),
        multibyte,
    ),
    st.just('{"done":true,"done_reason":"stop"}'),
    st.just(""),
    st.just("   "),
    st.just('{"error":"model not found"}'),
    values,
)


@st.composite
def ndjson_bodies(draw: Any) -> bytes:
    lines = draw(st.lists(ndjson_line, max_size=15))
    body = "".join(line + draw(st.sampled_from(["\n", "\r\n"])) for line in lines)
    if draw(st.booleans()):
        body = body.rstrip("\r\n")
    return (BOM if draw(st.booleans()) else b"") + body.encode()


any_ndjson_body = st.one_of(ndjson_bodies(), byte_soup, st.binary(max_size=64))


@FAST
@given(body_and_cuts(any_ndjson_body))
def test_ndjson_any_split_decodes_like_the_whole_body(case: tuple[bytes, list[bytes]]) -> None:
    body, chunks = case
    assert run_ndjson(chunks) == run_ndjson([body])


@FAST
@given(any_ndjson_body)
def test_ndjson_whole_body_matches_naive_reference(body: bytes) -> None:
    assert run_ndjson([body]) == reference_ndjson(body)


@FAST
@given(st.lists(multibyte, min_size=1, max_size=5), st.data())
def test_ndjson_multibyte_split_inside_a_character_reassembles(
    texts: list[str], data: st.DataObject
) -> None:
    texts = [t.strip() or "x" for t in texts]  # NDJSON lines are stripped
    if texts[0].startswith("\ufeff"):
        texts[0] = "x" + texts[0]  # a leading BOM would (rightly) be stripped
    body = "".join(t + "\n" for t in texts).encode()
    inside = [i for i in range(1, len(body)) if body[i] & 0xC0 == 0x80]
    assume(inside)
    points = data.draw(st.lists(st.sampled_from(inside), min_size=1, max_size=8))
    result = run_ndjson(cut(body, points))
    assert list(result.lines) == texts
    assert result.utf8_replaced == 0


# --------------------------------------------------------------------------------------
# SSE examples: one per rule of DESIGN §2
# --------------------------------------------------------------------------------------


def test_one_leading_space_is_stripped_and_only_one() -> None:
    assert sse_events(b"data:x\n\n") == sse_events(b"data: x\n\n") == [SSEEvent("message", "x")]
    assert sse_events(b"data:  x\n\n")[0].data == " x"
    assert sse_events(b"data:\tx\n\n")[0].data == "\tx"  # only a space is stripped
    assert sse_events(b"event:ping\ndata: {}\n\n")[0].event == "ping"


def test_several_data_lines_join_with_newline() -> None:
    assert sse_events(b"data: a\ndata:\ndata: b\n\n") == [SSEEvent("message", "a\n\nb")]
    assert sse_events(b"data: a\r\ndata: b\rdata: c\n\n")[0].data == "a\nb\nc"


def test_field_without_colon_has_empty_value() -> None:
    assert sse_events(b"data\n\n") == [SSEEvent("message", "")]
    assert sse_events(b"data\ndata\n\n")[0].data == "\n"


def test_comments_are_ignored_and_counted() -> None:
    body = b": OPENROUTER PROCESSING\n\n:\ndata: a\n: keep-alive\ndata: b\n\n"
    result = run_sse([body])
    assert result.events == (SSEEvent("message", "a\nb"),)
    assert result.comments == 3


def test_blank_line_without_data_dispatches_nothing() -> None:
    assert sse_events(b"\n\n\r\n\r\r") == []
    assert sse_events(b"event: message_start\n\n") == []
    assert sse_events(b"retry: 10\n\n") == []
    # ... and an event name without data does not leak into the next event.
    assert sse_events(b"event: a\n\ndata: x\n\n") == [SSEEvent("message", "x")]


def test_id_only_events_do_not_dispatch_but_the_id_sticks() -> None:
    result = run_sse([b"id: 7\n\nid: 8\n\n"])
    assert result.events == ()
    assert result.last_event_id == "8"
    events = sse_events(b"id: 7\n\ndata: a\n\ndata: b\nid\n\n")
    assert events == [SSEEvent("message", "a", "7"), SSEEvent("message", "b", "")]
    assert sse_events(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n")[1].id == "1"  # NUL: ignored


def test_unterminated_final_event_is_not_dispatched_but_flagged() -> None:
    for body in (b"data: a\n\ndata: b", b"data: a\n\ndata: b\n", b"data: a\n\ndata: b\r"):
        result = run_sse([body])
        assert result.events == (SSEEvent("message", "a"),), body
        assert result.unterminated is True, body
    for body in (b"data: a\n\n", b"data: a\n\n: trailing comment", b"data: a\n\nevent: x\n"):
        assert run_sse([body]).unterminated is False, body


def test_bom_stripped_once_only() -> None:
    result = run_sse([BOM + b"data: a\n\n"])
    assert result.events == (SSEEvent("message", "a"),)
    assert result.bom_stripped is True
    # A second BOM is content: the field name becomes "\ufeffdata", which is ignored.
    result = run_sse([BOM + BOM + b"data: a\n\ndata: b\n\n"])
    assert result.events == (SSEEvent("message", "b"),)
    assert result.bom_stripped is True
    # A BOM later in the stream is never stripped.
    result = run_sse([b"data: a\n\n" + BOM + b"data: b\n\n"])
    assert result.events == (SSEEvent("message", "a"),)
    assert result.bom_stripped is False
    # A BOM split across chunks is still the leading BOM.
    result = run_sse([b"\xef", b"\xbb", b"\xbfdata: a\n\n"])
    assert result.events == (SSEEvent("message", "a"),)
    assert result.bom_stripped is True


def test_retry_field() -> None:
    assert sse_events(b"retry: 3000\ndata: a\n\n") == [SSEEvent("message", "a", None, 3000)]
    for bad in (b"retry: 3s", b"retry:", b"retry: -1", b"retry: 1.5", b"retry: \xd9\xa3"):
        assert sse_events(bad + b"\ndata: a\n\n")[0].retry is None, bad
    # retry belongs to the event it came with
    assert sse_events(b"retry: 5\ndata: a\n\ndata: b\n\n")[1].retry is None


def test_crlf_split_across_chunks_is_one_line_end() -> None:
    want = [SSEEvent("message", "a\nb")]
    assert sse_events(b"data: a\r", b"\ndata: b\r\n\r\n") == want
    assert sse_events(b"data: a\r", b"\n", b"data: b\r", b"\n\r", b"\n") == want
    # CR then CR is two line ends (a blank line): the event dispatches.
    assert sse_events(b"data: a\r", b"\rdata: b\n\n") == [
        SSEEvent("message", "a"),
        SSEEvent("message", "b"),
    ]
    # An empty chunk between CR and LF changes nothing.
    assert sse_events(b"data: a\r", b"", b"\n\r\n") == [SSEEvent("message", "a")]


def test_line_ends_never_use_splitlines() -> None:
    # \x0b, \x0c, \x1c-\x1e, \x85, \u2028 and \u2029 are str.splitlines() breaks, not SSE ones.
    odd = "a\x0bb\x0cc\x1cd\x85e\u2028f\u2029g"
    assert sse_events(f"data: {odd}\n\n".encode()) == [SSEEvent("message", odd)]


def test_event_name_defaults_to_message_and_resets() -> None:
    events = sse_events(b"event: error\ndata: {}\n\ndata: {}\n\n")
    assert [e.event for e in events] == ["error", "message"]
    assert sse_events(b"event:\ndata: x\n\n")[0].event == "message"


def test_unknown_fields_are_ignored() -> None:
    assert sse_events(b"foo: bar\nData: x\ndata : y\ndata: z\n\n") == [SSEEvent("message", "z")]


def test_invalid_utf8_is_replaced_and_counted() -> None:
    result = run_sse([b"data: a\xffb\n\n"])
    assert result.events == (SSEEvent("message", "a\ufffdb"),)
    assert result.utf8_replaced == 1
    # A character cut off by EOF is replaced too.
    result = run_sse([b"data: a\n\ndata: \xe2\x82"])
    assert result.utf8_replaced == 1 and result.unterminated


@pytest.mark.parametrize("split_at", range(1, len("data: 𝄞€\n\n".encode())))
def test_every_split_of_a_multibyte_event(split_at: int) -> None:
    body = "data: 𝄞€\n\n".encode()
    assert sse_events(body[:split_at], body[split_at:]) == [SSEEvent("message", "𝄞€")]


# --------------------------------------------------------------------------------------
# NDJSON examples
# --------------------------------------------------------------------------------------


def test_ndjson_lines_crlf_blank_and_bom() -> None:
    result = run_ndjson([BOM + b'{"a":1}\r\n\n  \n{"b":2}\n'])
    assert result.lines == ('{"a":1}', '{"b":2}')
    assert result.bom_stripped and not result.unterminated


def test_ndjson_final_line_without_newline_is_returned_and_flagged() -> None:
    result = run_ndjson([b'{"a":1}\n{"done":true}'])
    assert result.lines == ('{"a":1}', '{"done":true}')
    assert result.unterminated is True
