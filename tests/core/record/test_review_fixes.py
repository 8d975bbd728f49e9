"""Review findings on the dialect parsers and `diagnose`: bytes in → verdict JSON out."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from core.record.diagnose import DiagnoseError, diagnose_bytes
from core.stream.pipeline import Pipeline
from tests.core import bodies as b


def judge(body: bytes, dialect: str = "auto") -> dict[str, Any]:
    return diagnose_bytes(body, dialect).verdict.to_json()


def typed(*objs: dict[str, Any]) -> bytes:
    """SSE events named after their own `type` (Anthropic, Responses)."""
    return b.sse(*[(o["type"], o) for o in objs])


# --- 3. Anthropic server tools are run by the server, not tool calls -----------------------

_MESSAGE_START = {
    "type": "message_start",
    "message": {"id": "msg_1", "usage": {"input_tokens": 5, "output_tokens": 1}},
}


def _block(index: int, block: dict[str, Any], *deltas: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"type": "content_block_start", "index": index, "content_block": block},
        *({"type": "content_block_delta", "index": index, "delta": d} for d in deltas),
        {"type": "content_block_stop", "index": index},
    ]


def _web_search_then(*blocks: list[dict[str, Any]], stop: str) -> bytes:
    events = [
        _MESSAGE_START,
        *_block(
            0,
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}},
            {"type": "input_json_delta", "partial_json": '{"query": "weather"}'},
        ),
        *_block(
            1,
            {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
        ),
    ]
    for block in blocks:
        events += block
    events += [
        {"type": "message_delta", "delta": {"stop_reason": stop}, "usage": {"output_tokens": 9}},
        {"type": "message_stop"},
    ]
    return typed(*events)


def test_anthropic_answer_after_a_web_search_is_completed_not_tool_calls() -> None:
    body = _web_search_then(
        _block(
            2,
            {"type": "text", "text": ""},
            {"type": "text_delta", "text": "Sunny."},
        ),
        stop="end_turn",
    )
    got = judge(body, "anthropic")
    assert (got["outcome"], got["detail"]) == ("completed", "natural")
    assert got["tool_calls"] == []
    assert got["text"] == "Sunny."
    assert got["warnings"] == []


def test_anthropic_client_tool_use_after_a_server_tool_is_the_only_call() -> None:
    body = _web_search_then(
        _block(
            2,
            {"type": "tool_use", "id": "toolu_1", "name": "save", "input": {}},
            {"type": "input_json_delta", "partial_json": '{"a": 1}'},
        ),
        stop="tool_use",
    )
    got = judge(body, "anthropic")
    assert got["outcome"] == "tool_calls"
    assert got["tool_calls"] == [
        {"id": "toolu_1", "name": "save", "arguments": '{"a": 1}', "complete": True}
    ]


# --- 4. Chat tool calls without `index` (Google's OpenAI-compatible endpoint) -------------


def test_chat_tool_calls_without_index_are_separate_calls() -> None:
    body = b.sse(
        b.chat_chunk(
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "a",
                        "type": "function",
                        "function": {"name": "f", "arguments": '{"x":1}'},
                    }
                ],
            }
        ),
        b.chat_chunk(
            {
                "tool_calls": [
                    {
                        "id": "b",
                        "type": "function",
                        "function": {"name": "g", "arguments": '{"y":2}'},
                    }
                ]
            }
        ),
        b.chat_chunk({}, "tool_calls"),
        "data: [DONE]",
    )
    got = judge(body, "openai-chat")
    assert (got["outcome"], got["detail"], got["warnings"]) == ("tool_calls", None, [])
    assert got["tool_calls"] == [
        {"id": "a", "name": "f", "arguments": '{"x":1}', "complete": True},
        {"id": "b", "name": "g", "arguments": '{"y":2}', "complete": True},
    ]


def test_chat_tool_call_fragments_without_index_or_id_continue_the_last_call() -> None:
    body = b.sse(
        b.chat_chunk({"tool_calls": [{"id": "a", "function": {"name": "f", "arguments": '{"x"'}}]}),
        b.chat_chunk({"tool_calls": [{"function": {"arguments": ": 1}"}}]}),
        b.chat_chunk({"tool_calls": [{"id": "b", "function": {"name": "g", "arguments": "{}"}}]}),
        b.chat_chunk({}, "tool_calls"),
        "data: [DONE]",
    )
    got = judge(body, "openai-chat")
    assert got["outcome"] == "tool_calls"
    assert [(c["id"], c["arguments"]) for c in got["tool_calls"]] == [
        ("a", '{"x": 1}'),
        ("b", "{}"),
    ]


def test_chat_tool_call_arguments_given_as_an_object() -> None:
    body = b.sse(
        b.chat_chunk(
            {
                "tool_calls": [
                    {"index": 0, "id": "c", "function": {"name": "f", "arguments": {"a": 1}}}
                ]
            }
        ),
        b.chat_chunk({}, "tool_calls"),
        "data: [DONE]",
    )
    got = judge(body, "openai-chat")
    assert got["outcome"] == "tool_calls"
    assert got["tool_calls"] == [
        {"id": "c", "name": "f", "arguments": '{"a": 1}', "complete": True}
    ]


# --- 5. Responses custom tools: free-text input ------------------------------------------


def _custom_tool_body(final: str = "response.completed") -> bytes:
    item = {"type": "custom_tool_call", "id": "ctc_1", "call_id": "call_1", "name": "code_exec"}
    seq = iter(range(100))
    events = [
        {"type": "response.created", "response": {"id": "resp_1"}},
        {"type": "response.output_item.added", "output_index": 0, "item": {**item, "input": ""}},
        {
            "type": "response.custom_tool_call_input.delta",
            "output_index": 0,
            "item_id": "ctc_1",
            "delta": "print('hi')",
        },
        {
            "type": "response.custom_tool_call_input.done",
            "output_index": 0,
            "item_id": "ctc_1",
            "input": "print('hi')",
        },
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": {**item, "input": "print('hi')"},
        },
        {
            "type": final,
            "response": {"id": "resp_1", "usage": {"input_tokens": 3, "output_tokens": 5}},
        },
    ]
    return typed(*[{**e, "sequence_number": next(seq)} for e in events])


def test_responses_custom_tool_call_is_a_complete_tool_call() -> None:
    got = judge(_custom_tool_body(), "openai-responses")
    assert (got["outcome"], got["detail"], got["warnings"]) == ("tool_calls", None, [])
    assert got["tool_calls"] == [
        {"id": "call_1", "name": "code_exec", "arguments": "print('hi')", "complete": True}
    ]


def test_responses_parser_exposes_its_free_text_calls() -> None:
    pipe = Pipeline("openai-responses", timed=False)
    step = pipe.feed(_custom_tool_body())
    pipe.close()
    assert pipe.parser.free_text_calls == {0}
    deltas = [e for e in step.events if type(e).__name__ == "ToolCallDelta"]
    assert "".join(d.arguments for d in deltas) == "print('hi')"


# --- 14. Responses error events: flat and nested -----------------------------------------


@pytest.mark.parametrize(
    ("event", "detail"),
    [
        ({"type": "error", "code": None, "message": "boom", "param": None}, None),
        (
            {"type": "error", "code": "rate_limit_exceeded", "message": "slow down"},
            "rate_limit_exceeded",
        ),
        (
            {
                "type": "error",
                "error": {"type": "invalid_request_error", "code": "context_length_exceeded"},
            },
            "context_length_exceeded",
        ),
        ({"type": "error", "error": {"type": "server_error", "code": None}}, "server_error"),
    ],
)
def test_responses_error_event_detail(event: dict[str, Any], detail: str | None) -> None:
    got = judge(b.sse(("error", {**event, "sequence_number": 3})), "openai-responses")
    assert (got["outcome"], got["detail"]) == ("upstream_error", detail)


# --- 8. Auto-detection reads as far as the first events, never guesses Ollama for SSE -----


def test_auto_detects_gemini_whose_first_event_is_a_large_inline_image() -> None:
    image = base64.b64encode(bytes(range(256)) * 1200).decode()  # ~400 KB of base64
    first = {
        "candidates": [
            {
                "content": {
                    "parts": [{"inlineData": {"mimeType": "image/png", "data": image}}],
                    "role": "model",
                }
            }
        ]
    }
    body = b.sse(first, end="\r\n") + b.gemini("Here it is.")
    assert len(body) > 300_000
    replay = diagnose_bytes(body)
    got = replay.verdict.to_json()
    assert replay.dialect == "gemini"
    assert (got["outcome"], got["detail"], got["text"]) == ("completed", "natural", "Here it is.")


def test_comments_only_body_is_an_empty_chat_stream() -> None:
    replay = diagnose_bytes(b": OPENROUTER PROCESSING\n\n: OPENROUTER PROCESSING\n\n")
    got = replay.verdict.to_json()
    assert replay.dialect == "openai-chat"
    assert (got["outcome"], got["detail"]) == ("protocol_error", "empty_stream")


def test_unclosed_sse_event_is_not_read_as_ollama() -> None:
    replay = diagnose_bytes(b'data: {"choices": [{"index": 0, "delta": {"content": "x"}')
    assert replay.dialect == "openai-chat"
    assert replay.verdict.outcome == "protocol_error"


# --- 9. Pasted logs: Python reprs, logger prefixes, U+2028 inside JSON -------------------


def _chat_lines() -> list[str]:
    return [
        'data: {"choices": [{"index": 0, "delta": {"content": "It\'s"}, "finish_reason": null}]}',
        'data: {"choices": [{"index": 0, "delta": {"content": " fine \\"ok\\""}, '
        '"finish_reason": null}]}',
        'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}',
        "data: [DONE]",
    ]


def _assert_chat_log(data: bytes) -> None:
    replay = diagnose_bytes(data)
    got = replay.verdict.to_json()
    assert (replay.kind, replay.dialect) == ("log", "openai-chat")
    assert (got["outcome"], got["detail"], got["warnings"]) == ("completed", "natural", [])
    assert got["text"] == 'It\'s fine "ok"'


def test_log_of_python_bytes_reprs() -> None:
    lines = [repr((line + "\n\n").encode()) for line in _chat_lines()]
    _assert_chat_log("\n".join(lines).encode())


def test_log_of_python_str_reprs_with_escaped_apostrophes() -> None:
    lines = [f"Line {i}: {line!r}" for i, line in enumerate(_chat_lines(), 1)]
    assert "\\'" in lines[0]
    _assert_chat_log("\n".join(lines).encode())


def test_log_of_one_bytes_repr_holding_several_events() -> None:
    chunk = "".join(line + "\n\n" for line in _chat_lines()).encode()
    _assert_chat_log(f"DEBUG receive_response_body: {chunk!r}\n".encode())


@pytest.mark.parametrize(
    "prefix",
    ["2024-05-01 12:00:00,123 DEBUG ", "12:00:00.123 ", "[worker-1] INFO openai: "],
)
def test_log_prefixes(prefix: str) -> None:
    _assert_chat_log("".join(f"{prefix}{line}\n" for line in _chat_lines()).encode())


def test_log_keeps_u2028_inside_json() -> None:
    log = (
        'Line 1: data: {"choices":[{"index":0,"delta":{"content":"a\u2028b"},'
        '"finish_reason":null}]}\n'
        'Line 2: data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n'
        "Line 3: data: [DONE]\n"
    )
    got = judge(log.encode())
    assert (got["outcome"], got["warnings"], got["text"]) == ("completed", [], "a\u2028b")


def test_plain_text_mentioning_an_id_is_still_not_a_stream() -> None:
    with pytest.raises(DiagnoseError, match="plain text"):
        diagnose_bytes(b"user id: 5\nsome notes\n")


# --- 10. A wrong explicit --dialect exits 2 naming the suggestion ------------------------


@pytest.mark.parametrize(
    ("body", "wrong", "suggested"),
    [
        (b.chat("Hi", finish="stop"), "anthropic", "openai-chat"),
        (b.chat("Hi", finish="stop"), "gemini", "openai-chat"),
        (b.ollama("a", "b"), "openai-chat", "ollama"),
        (b.ollama("a", "b"), "gemini", "ollama"),
        (b.gemini("a"), "openai-chat", "gemini"),
        (b.anthropic("a"), "openai-responses", "anthropic"),
        (b.responses("a"), "anthropic", "openai-responses"),
    ],
)
def test_wrong_explicit_dialect_names_the_suggestion(
    body: bytes, wrong: str, suggested: str
) -> None:
    with pytest.raises(DiagnoseError, match=f"--dialect {suggested}$"):
        diagnose_bytes(body, wrong)


def test_right_explicit_dialect_with_nothing_understood_is_judged() -> None:
    got = judge(b": keep-alive\n\n", "gemini")
    assert (got["outcome"], got["detail"]) == ("protocol_error", "empty_stream")


# --- 11. Gemini's JSON-array body (no alt=sse) --------------------------------------------

_ARRAY = [
    {"candidates": [{"content": {"parts": [{"text": "Hel"}], "role": "model"}}]},
    {
        "candidates": [
            {"content": {"parts": [{"text": "lo"}], "role": "model"}, "finishReason": "STOP"}
        ],
        "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 2},
    },
]


@pytest.mark.parametrize("indent", [None, 2])
def test_gemini_json_array_body(indent: int | None) -> None:
    replay = diagnose_bytes(json.dumps(_ARRAY, indent=indent).encode())
    got = replay.verdict.to_json()
    assert replay.dialect == "gemini"
    assert (got["outcome"], got["detail"], got["text"]) == ("completed", "natural", "Hello")
    assert got["usage"] == {"input_tokens": 4, "output_tokens": 2}
    assert got["metrics"]["events"] == 2


def test_gemini_json_array_cut_before_its_end() -> None:
    text = json.dumps(_ARRAY[:1], indent=2)[:-2] + ',\n{"candidates": [{"cont'
    got = judge(text.encode())
    assert got["dialect"] == "gemini"
    assert got["text"] == "Hel"
    assert got["outcome"] in ("protocol_error", "interrupted")


def test_gemini_json_array_under_a_wrong_dialect_names_gemini() -> None:
    with pytest.raises(DiagnoseError, match="--dialect gemini"):
        diagnose_bytes(json.dumps(_ARRAY).encode(), "openai-chat")


# --- 15. [DONE] alone; reasoning sent under two names ------------------------------------


def test_done_alone_is_empty_without_missing_finish_reason() -> None:
    got = judge(b"data: [DONE]\n\n")
    assert (got["outcome"], got["detail"], got["warnings"]) == (
        "protocol_error",
        "empty_stream",
        [],
    )


def test_chat_reasoning_under_both_names_counts_once() -> None:
    body = b.sse(
        b.chat_chunk({"reasoning_content": "think", "reasoning": "think"}),
        b.chat_chunk({"reasoning": "more"}),
        b.chat_chunk({"content": "Answer"}),
        b.chat_chunk({}, "stop"),
        "data: [DONE]",
    )
    got = judge(body, "openai-chat")
    assert (got["reasoning"], got["text"]) == ("thinkmore", "Answer")
