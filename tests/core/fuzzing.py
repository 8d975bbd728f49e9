"""Fuzzing the public entry points (issue 11): stream bodies built from real event shapes,
mutated the ways hostile or broken servers do, then judged three ways — `diagnose_bytes` on
the bytes, the live `Pipeline` under several chunkings, and a saved run replayed. Shared by
tests/core/test_fuzz.py (small, in CI) and bench/fuzz.py (large, prints figures)."""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

from hypothesis import strategies as st

from core.record.diagnose import DiagnoseError, diagnose_bytes
from core.record.savefile import RunRecorder
from core.stream.pipeline import Pipeline
from core.stream.spec import HttpRequest

DEEP = "[" * 1100 + "]" * 1100

_CHAT = [
    {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
    {"choices": [{"index": 0, "delta": {"content": "Hello"}}]},
    {"choices": [{"index": 0, "delta": {"content": " wörld ✓"}}]},
    {"choices": [{"index": 0, "delta": {"reasoning_content": "hmm"}}]},
    {
        "choices": [
            {
                "index": 0,
                "delta": {
                    "tool_calls": [
                        {"index": 0, "id": "c1", "function": {"name": "f", "arguments": '{"a":'}}
                    ]
                },
            }
        ]
    },
    {
        "choices": [
            {"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}}
        ]
    },
    {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    {"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]},
    {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 5}},
    {"error": {"message": "overloaded", "code": "500"}},
]
_ANTHROPIC = [
    (
        "message_start",
        {"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 2}}},
    ),
    (
        "content_block_start",
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ),
    (
        "content_block_delta",
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
    ),
    (
        "content_block_start",
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "tool_use", "id": "t", "name": "f"},
        },
    ),
    (
        "content_block_delta",
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": "{}"},
        },
    ),
    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 4},
        },
    ),
    (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "max_tokens"},
            "usage": {"output_tokens": 9},
        },
    ),
    ("ping", {"type": "ping"}),
    ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}),
    ("message_stop", {"type": "message_stop"}),
]
_RESPONSES = [
    ("response.created", {"type": "response.created", "response": {"id": "r1"}}),
    ("response.output_text.delta", {"type": "response.output_text.delta", "delta": "Yo"}),
    (
        "response.completed",
        {
            "type": "response.completed",
            "response": {"id": "r1", "usage": {"input_tokens": 1, "output_tokens": 2}},
        },
    ),
    (
        "response.incomplete",
        {
            "type": "response.incomplete",
            "response": {"incomplete_details": {"reason": "max_output_tokens"}},
        },
    ),
    ("error", {"type": "error", "code": "server_error", "message": "x"}),
]
_GEMINI = [
    {"candidates": [{"content": {"parts": [{"text": "Hi"}]}}]},
    {"candidates": [{"content": {"parts": [{"functionCall": {"name": "f", "args": {}}}]}}]},
    {
        "candidates": [{"content": {"parts": [{"text": "."}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 2},
    },
    {"candidates": [{"finishReason": "MAX_TOKENS"}]},
    {"promptFeedback": {"blockReason": "SAFETY"}},
]
_OLLAMA = [
    {"message": {"role": "assistant", "content": "Hi"}, "done": False},
    {
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": "stop",
        "eval_count": 3,
    },
    {"done": True, "done_reason": "length"},
    {"error": "model not found"},
]
DIALECT_POOLS: dict[str, list[Any]] = {
    "openai-chat": _CHAT,
    "anthropic": _ANTHROPIC,
    "openai-responses": _RESPONSES,
    "gemini": _GEMINI,
    "ollama": _OLLAMA,
}

_WEIRD_VALUES = [
    None,
    True,
    5,
    -1,
    1e999,
    10**400,
    "",
    "x" * 50,
    [],
    {},
    [[[]]],
    {"a": {"b": None}},
    "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
]


def _mutate(obj: Any, draw: Any) -> Any:
    """Replace one value somewhere in `obj` with a wrong-typed or extreme one."""
    if isinstance(obj, dict) and obj:
        key = draw(st.sampled_from(sorted(obj)))
        out = dict(obj)
        out[key] = (
            _mutate(obj[key], draw) if draw(st.booleans()) else draw(st.sampled_from(_WEIRD_VALUES))
        )
        return out
    if isinstance(obj, list) and obj:
        i = draw(st.integers(0, len(obj) - 1))
        out_list = list(obj)
        out_list[i] = _mutate(obj[i], draw)
        return out_list
    return draw(st.sampled_from(_WEIRD_VALUES))


def _encode(item: Any) -> str:
    return json.dumps(item, ensure_ascii=False) if not isinstance(item, str) else item


@st.composite
def bodies(draw: Any) -> tuple[str, bytes]:
    """(dialect, body bytes) — mostly realistic, sometimes hostile."""
    dialect = draw(st.sampled_from(sorted(DIALECT_POOLS)))
    pool = DIALECT_POOLS[dialect]
    n = draw(st.integers(0, 8))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    parts: list[str] = []
    if draw(st.booleans()) and dialect != "ollama":
        parts.append(": keep-alive" + eol)
    for _ in range(n):
        item = draw(st.sampled_from(pool))
        name = None
        if isinstance(item, tuple):
            name, item = item
        roll = draw(st.integers(0, 9))
        if roll == 0:
            item = _mutate(item, draw)
        elif roll == 1:
            item = DEEP
        elif roll == 2:
            item = _encode(item)[: draw(st.integers(0, 30))]  # cut JSON
        data = _encode(item)
        if dialect == "ollama":
            parts.append(data + "\n")
        else:
            head = f"event: {name}{eol}" if name else ""
            parts.append(f"{head}data: {data}{eol}{eol}")
    if dialect == "openai-chat" and draw(st.booleans()):
        parts.append(f"data: [DONE]{eol}{eol}")
    body = "".join(parts).encode()
    if draw(st.integers(0, 9)) == 0:
        body = b"\xef\xbb\xbf" + body
    if draw(st.integers(0, 9)) == 0:
        body += draw(st.binary(max_size=20))
    if draw(st.integers(0, 9)) == 0 and body:
        body = body[: draw(st.integers(0, len(body)))]  # cut anywhere
    return dialect, body


def chunkings(body: bytes, cuts: list[int]) -> list[list[bytes]]:
    """The whole body, byte by byte (short bodies), and at the drawn cut points."""
    out = [[body]]
    if len(body) <= 400:
        out.append([body[i : i + 1] for i in range(len(body))])
    points = sorted({c % (len(body) + 1) for c in cuts})
    out.append([body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)])
    return out


def _judge(dialect: str, chunks: list[bytes]) -> dict[str, Any]:
    pipe = Pipeline(dialect, timed=False)
    for i, chunk in enumerate(chunks):
        pipe.feed(chunk, 0, i)
    pipe.close()
    verdict = pipe.verdict().to_json()
    verdict.pop("metrics")
    return verdict


def _saved(dialect: str, chunks: list[bytes]) -> bytes:
    out = io.StringIO()
    rec = RunRecorder(out)
    request = HttpRequest("POST", "http://h/v1", {"Authorization": "Bearer sk-x"}, {})
    ctype = "application/x-ndjson" if dialect == "ollama" else "text/event-stream"
    rec.header(
        attempt=0, dialect=dialect, request=request, status=200, headers={"content-type": ctype}
    )
    for i, chunk in enumerate(chunks):
        rec.chunk(i * 1000, chunk)
    rec.end("eof", {}, len(chunks) * 1000)
    return out.getvalue().encode()


def check_body(dialect: str, body: bytes, cuts: list[int]) -> int:
    """Assert the contract on one body; returns the number of verdict comparisons made.
    The only exception allowed out of a public entry point is `DiagnoseError`."""
    with contextlib.suppress(DiagnoseError):
        diagnose_bytes(body)
    ways = chunkings(body, cuts)
    first = _judge(dialect, ways[0])
    checks = 0
    for chunks in ways[1:]:
        assert _judge(dialect, chunks) == first, (dialect, body, chunks)
        checks += 1
    replays = []
    for chunks in (ways[0], ways[-1]):
        replay = diagnose_bytes(_saved(dialect, chunks)).verdict.to_json()
        replay.pop("metrics")
        replays.append(replay)
    assert replays[0] == replays[1], (dialect, body)
    return checks + 1
