"""Issue 11 items 11-14, pure: the key masker at every split, caps in the decoders, crash
inputs as malformed events, and the pasted-log prefixes on long lines."""

from __future__ import annotations

import contextlib
import json

import pytest

from core.record.diagnose import DiagnoseError, diagnose_bytes
from core.record.pastelog import unwrap
from core.stream.caps import Caps
from core.stream.keymask import KeyMasker, recover_echoed_key
from core.stream.ndjson import NDJSONDecoder
from core.stream.pipeline import Pipeline
from core.stream.spec import mask_url
from core.stream.sse import SSEDecoder

KEY = "sk-abc-sk-abd-0123"  # repeats its own start: the hold-back must not give up early


def masked(pieces: list[bytes], key: str = KEY) -> tuple[bytes, bool]:
    m = KeyMasker(key)
    out = b"".join(m.feed(p) for p in pieces) + m.flush()
    return out, m.echoed


@pytest.mark.parametrize("before", [b"", b"x", b"sk-ab", b"sk-abc-sk-ab"])
def test_key_split_at_every_byte_is_masked(before: bytes) -> None:
    body = before + b"<" + KEY.encode() + b">" + b"sk-a"
    for cut in range(len(body) + 1):
        for cut2 in range(cut, len(body) + 1):
            out, echoed = masked([body[:cut], body[cut:cut2], body[cut2:]])
            assert out == before + b"<***>sk-a"
            assert echoed


def test_a_key_echoed_with_its_slashes_escaped_is_masked_at_every_split() -> None:
    """A JSON encoder may write "/" as "\\/" (PHP's and Java's do): an echoed key with a
    slash comes back in that form too, and is masked however the reads cut it."""
    key = "AZ/key+0a/b=="
    body = b'{"error":{"message":"bad key AZ\\/key+0a\\/b=="}} AZ/key+0a/b== AZ\\/'
    assert key.replace("/", "\\/").encode() in body
    for cut in range(len(body) + 1):
        out, echoed = masked([body[:cut], body[cut:]], key)
        assert out == b'{"error":{"message":"bad key ***"}} *** AZ\\/' and echoed


def test_masker_holds_back_at_most_len_key_minus_one() -> None:
    m = KeyMasker(KEY)
    assert m.feed(b"hello sk-abc-sk-ab") == b"hello "
    assert m.held == len("sk-abc-sk-ab") < len(KEY)
    assert m.feed(b"z") == b"sk-abc-sk-abz"
    assert m.held == 0
    assert KeyMasker(None).feed(b"sk-abc") == b"sk-abc"


def test_text_masker_and_recovery() -> None:
    m = KeyMasker(KEY, text=True)
    out = "".join(m.feed(t) for t in ["a ", KEY[:4], KEY[4:9], KEY[9:], " b"]) + m.flush()
    assert out == "a *** b" and m.echoed
    assert recover_echoed_key(f"a {KEY} b", "a *** b") == KEY
    assert recover_echoed_key("a b", "a b") is None


def test_pipeline_masks_a_key_echoed_across_events() -> None:
    events = b"".join(
        b'data: {"choices":[{"index":0,"delta":{"content":' + json.dumps(t).encode() + b"}}]}\n\n"
        for t in ["key: ", KEY[:5], KEY[5:], "!"]
    )
    pipe = Pipeline("openai-chat", key=KEY)
    texts = [getattr(e, "text", "") for e in pipe.feed(events).events + pipe.close().events]
    assert KEY not in "".join(texts)
    verdict = pipe.verdict()
    assert verdict.text == "key: ***!"
    assert "key_echoed" in verdict.warnings


def test_mask_url_hides_passwords_and_key_values() -> None:
    assert mask_url("https://u:p@h/x?key=s&a=1") == "https://u:***@h/x?key=***&a=1"
    assert mask_url("http://u:p@[::1/x?api_key=s") == "http://u:***@[::1/x?api_key=***"


@pytest.mark.parametrize("decoder", [SSEDecoder, NDJSONDecoder])
def test_line_cap_stops_the_decoder(decoder) -> None:
    d = decoder(Caps(line_chars=100))
    for _ in range(20):
        d.feed(b"data: " + b"a" * 10)
    assert d.oversized and "100 bytes line cap" in d.oversized
    assert d.feed(b"\n\n") == [] and d.close() == []


def test_event_cap_counts_joined_data_lines() -> None:
    d = SSEDecoder(Caps(event_chars=1024))
    d.feed(b"data: x\n\n")
    assert d.feed(b"data: " + b"y" * 600 + b"\n") == []
    assert d.oversized is None
    d.feed(b"data: " + b"y" * 600 + b"\n")
    assert d.oversized and "1 KiB event cap" in d.oversized


def test_stream_cap_in_the_pipeline_judges_what_fits() -> None:
    pipe = Pipeline("openai-chat", caps=Caps(stream_bytes=200))
    event = b'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n'
    pipe.feed(event * 10)
    verdict = pipe.verdict()
    assert verdict.label == "protocol_error/oversized_body"
    assert verdict.text.startswith("hihi")
    assert "200 bytes body cap" in verdict.explanation


def test_sse_long_line_across_many_reads_is_one_line() -> None:
    d = SSEDecoder()
    for _ in range(1000):
        assert d.feed(b"data: " if _ == 0 else b"z" * 1000) == []
    (event,) = d.feed(b"\r\n\r\n")
    assert len(event.data) == 999_000


DEEP = "[" * 1500 + "]" * 1500
ANTHROPIC_START = (
    'event: message_start\ndata: {"type":"message_start","message":{"id":"m",'
    '"usage":{"input_tokens":1}}}\n\n'
)
ANTHROPIC_END = (
    'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},'
    '"usage":{"output_tokens":3}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n'
)


def anthropic(*events: str) -> bytes:
    return (ANTHROPIC_START + "".join(events) + ANTHROPIC_END).encode()


@pytest.mark.parametrize(
    "body",
    [
        f"data: {DEEP}\n\ndata: [DONE]\n\n".encode(),
        f'data: {{"choices":{DEEP}}}\n\ndata: [DONE]\n\n'.encode(),
        f"[{DEEP}]".encode(),
        f'{{"error":{DEEP}}}'.encode(),
        f"{DEEP}\n{DEEP}\n".encode(),
        anthropic(
            'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
            '"delta":{"type":"text_delta","text":5}}\n\n'
        ),
        anthropic(
            'event: content_block_start\ndata: {"type":"content_block_start","index":"a",'
            '"content_block":{"type":"tool_use","id":"x","name":"f"}}\n\n'
        ),
        anthropic(
            'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
            '"content_block":{"type":"tool_use","id":"x","name":"f","input":' + DEEP + "}}\n\n"
        ),
        anthropic(
            'event: message_delta\ndata: {"type":"message_delta","delta":{},'
            '"usage":{"output_tokens":1' + "0" * 400 + "}}\n\n"
        ),
        anthropic(
            'event: content_block_delta\ndata: {"type":"content_block_delta","index":[0],'
            '"delta":{"type":"input_json_delta","partial_json":"{}"}}\n\n'
        ),
    ],
)
def test_crash_inputs_give_a_verdict(body: bytes) -> None:
    try:
        replay = diagnose_bytes(body)
    except DiagnoseError:
        return  # a one-line "what this looks like" is fine; a traceback is not
    json.dumps(replay.verdict.to_json())
    assert replay.verdict.outcome


def test_wrong_typed_anthropic_text_is_a_malformed_event() -> None:
    replay = diagnose_bytes(
        anthropic(
            'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
            '"delta":{"type":"text_delta","text":5}}\n\n'
        )
    )
    assert replay.verdict.label == "completed/natural"
    assert "malformed_event" in replay.verdict.warnings


@pytest.mark.parametrize(
    "line",
    [
        "2024-01-01 " + "1" * 80_000,
        "2024-01-01 " + ":" * 80_000 + "x",
        "b'" + "\\n" * 40_000 + "x'",
        "<html><title>" + "<title>" * 20_000,
    ],
)
def test_pasted_log_prefixes_are_linear_on_80kb_lines(line: str) -> None:
    # These took 5-30 s each with the old backtracking patterns; now milliseconds.
    unwrap(line)
    with contextlib.suppress(DiagnoseError):
        diagnose_bytes((line + "\n" + line + "\n").encode())
    assert unwrap("2024-05-01T12:00:00.123Z data: {}") == "data: {}"
    assert unwrap("b'data: {}\\r\\n'") == "data: {}"
