"""Every row of DESIGN §3 a stream body can show, per dialect: the whole verdict JSON."""

from __future__ import annotations

from typing import Any

import pytest

from core.record.diagnose import diagnose_bytes
from tests.core import bodies as b

PLAIN_METRICS = {
    "headers_ms": None,
    "ttfb_ms": None,
    "ttft_ms": None,
    "first_answer_ms": None,
    "itl_ms": None,
    "output_tokens_per_s": None,
    "tokens_per_s_note": "a plain body has no timings",
    "total_ms": None,
    "tpot_ms": None,
    "chunks": 0,
    "tokens_source": "chunks",
    "stalls": [],
}


def judge(body: bytes, dialect: str = "auto") -> dict[str, Any]:
    return diagnose_bytes(body, dialect).verdict.to_json()


def expect(got: dict[str, Any], *, evidence: str, **want: Any) -> None:
    """Compare the whole verdict JSON: defaults for a plain body plus the overrides."""
    full = {
        "dialect": None,
        "outcome": None,
        "detail": None,
        "warnings": [],
        "raw_stop_reason": None,
        "terminator_seen": True,
        "had_output": True,
        "text": "",
        "reasoning": "",
        "refusal": "",
        "tool_calls": [],
        "usage": {"input_tokens": None, "output_tokens": None},
        "retryable": False,
        "actions": [],
        "http": None,
        "attempts": [],
        "segments": [],
        "session_metrics": None,
    }
    full.update(want)
    full["retryable"] = "retry" in full["actions"]
    metrics = dict(got["metrics"])
    events = metrics.pop("events")
    assert events > 0
    assert metrics == {**PLAIN_METRICS, "tokens_source": metrics["tokens_source"]}
    explanation = got["explanation"]
    assert evidence in explanation, explanation
    rest = {k: v for k, v in got.items() if k not in ("metrics", "explanation")}
    assert rest == full


# ---------------- OpenAI chat ----------------


def test_chat_completed_natural() -> None:
    expect(
        judge(b.chat("Hel", "lo"), "openai-chat"),
        evidence='finish_reason "stop"',
        dialect="openai-chat",
        outcome="completed",
        detail="natural",
        raw_stop_reason="stop",
        text="Hello",
    )


def test_chat_stop_sequence_from_vllm_stop_reason() -> None:
    body = b.chat("a", "b", choice_extra={"stop_reason": "###"})
    expect(
        judge(body),
        evidence='stop_reason "###"',
        dialect="openai-chat",
        outcome="completed",
        detail="stop_sequence",
        raw_stop_reason="stop",
        text="ab",
    )


def test_chat_length_is_truncated_with_usage() -> None:
    expect(
        judge(b.chat("x", "y", finish="length", usage=True)),
        evidence='"length"',
        dialect="openai-chat",
        outcome="truncated",
        detail="max_tokens",
        raw_stop_reason="length",
        text="xy",
        actions=["continue", "retry_more_tokens"],
        usage={"input_tokens": 9, "output_tokens": 2},
    )


def test_relay_max_tokens_alias_is_truncated_and_flagged() -> None:
    expect(
        judge(b.chat("x", finish="max_tokens")),
        evidence='"max_tokens"',
        dialect="openai-chat",
        outcome="truncated",
        detail="max_tokens",
        raw_stop_reason="max_tokens",
        text="x",
        warnings=["nonstandard_stop_reason"],
        actions=["continue", "retry_more_tokens"],
    )


@pytest.mark.parametrize(
    ("alias", "outcome", "detail", "actions"),
    [
        ("end_turn", "completed", "natural", []),
        ("error", "upstream_error", "error", ["retry"]),
        (
            "insufficient_system_resource",
            "upstream_error",
            "insufficient_system_resource",
            ["retry"],
        ),
    ],
)
def test_relay_aliases(alias: str, outcome: str, detail: str, actions: list[str]) -> None:
    expect(
        judge(b.chat("x", finish=alias)),
        evidence=alias,
        dialect="openai-chat",
        outcome=outcome,
        detail=detail,
        raw_stop_reason=alias,
        text="x",
        warnings=["nonstandard_stop_reason"],
        actions=actions,
    )


def test_relay_tool_use_alias_with_complete_call() -> None:
    got = judge(b.chat_tool(['{"city":', ' "Paris"}'], finish="tool_use"))
    assert (got["outcome"], got["detail"]) == ("tool_calls", None)
    assert got["warnings"] == ["nonstandard_stop_reason"]


def test_chat_tool_calls_complete() -> None:
    expect(
        judge(b.chat_tool(['{"city":', ' "Paris"}'])),
        evidence="get_weather",
        dialect="openai-chat",
        outcome="tool_calls",
        raw_stop_reason="tool_calls",
        tool_calls=[
            {
                "id": "call_1",
                "name": "get_weather",
                "arguments": '{"city": "Paris"}',
                "complete": True,
            }
        ],
    )


def test_relay_stop_with_complete_tool_calls_is_tool_calls() -> None:
    got = judge(b.chat_tool(['{"a": 1}'], finish="stop"))
    assert (got["outcome"], got["warnings"]) == ("tool_calls", ["nonstandard_stop_reason"])


def test_tool_calls_finish_with_broken_arguments() -> None:
    expect(
        judge(b.chat_tool(['{"city": "Par'])),
        evidence="do not parse",
        dialect="openai-chat",
        outcome="protocol_error",
        detail="malformed_json",
        raw_stop_reason="tool_calls",
        warnings=["incomplete_tool_call"],
        actions=["retry"],
        tool_calls=[
            {"id": "call_1", "name": "get_weather", "arguments": '{"city": "Par', "complete": False}
        ],
    )


def test_truncated_tool_call_offers_only_more_tokens() -> None:
    got = judge(b.chat_tool(['{"city": "Par'], finish="length"))
    assert (got["outcome"], got["detail"]) == ("truncated", "max_tokens")
    assert got["actions"] == ["retry_more_tokens"]
    assert got["warnings"] == ["incomplete_tool_call"]


def test_chat_refusal_is_blocked() -> None:
    body = b.sse(
        b.chat_chunk({"role": "assistant", "refusal": ""}),
        b.chat_chunk({"refusal": "I can't help"}),
        b.chat_chunk({}, "stop"),
        "data: [DONE]",
    )
    expect(
        judge(body),
        evidence="delta.refusal",
        dialect="openai-chat",
        outcome="blocked",
        detail="refusal",
        raw_stop_reason="stop",
        refusal="I can't help",
    )


def test_chat_content_filter() -> None:
    expect(
        judge(b.chat("x", finish="content_filter")),
        evidence="content_filter",
        dialect="openai-chat",
        outcome="blocked",
        detail="content_filter",
        raw_stop_reason="content_filter",
        text="x",
    )


def test_chat_missing_done_after_finish() -> None:
    expect(
        judge(b.chat("x", done=False)),
        evidence="terminator never came",
        dialect="openai-chat",
        outcome="completed",
        detail="natural",
        raw_stop_reason="stop",
        text="x",
        terminator_seen=False,
        warnings=["missing_terminator"],
    )


def test_chat_done_without_finish_after_content() -> None:
    expect(
        judge(b.chat("x", finish=None)),
        evidence="never a finish reason",
        dialect="openai-chat",
        outcome="interrupted",
        detail="no_finish_reason",
        text="x",
        warnings=["missing_finish_reason"],
        actions=["retry", "continue"],
    )


def test_chat_eof_before_terminator() -> None:
    expect(
        judge(b.chat("a", "b", finish=None, done=False)),
        evidence="no finish reason",
        dialect="openai-chat",
        outcome="interrupted",
        detail="eof_before_terminator",
        text="ab",
        terminator_seen=False,
        actions=["retry", "continue"],
    )


def test_chat_unknown_finish_reason_even_with_done() -> None:
    expect(
        judge(b.chat("x", finish="weird_reason")),
        evidence="weird_reason",
        dialect="openai-chat",
        outcome="protocol_error",
        detail="unknown_finish_reason",
        raw_stop_reason="weird_reason",
        text="x",
        actions=["retry"],
    )


def test_empty_string_finish_counts_as_none() -> None:
    got = judge(b.chat("x", finish=""))
    assert (got["outcome"], got["raw_stop_reason"]) == ("interrupted", None)
    assert got["warnings"] == ["missing_finish_reason"]


def test_chat_mid_stream_error_after_200() -> None:
    body = b.chat("x", finish=None, done=False) + b.sse(
        {"error": {"message": "Upstream overloaded", "type": "server_error", "code": None}}
    )
    expect(
        judge(body),
        evidence="Upstream overloaded",
        dialect="openai-chat",
        outcome="upstream_error",
        detail="server_error",
        text="x",
        terminator_seen=False,
        actions=["retry"],
    )


def test_malformed_event_then_proper_end() -> None:
    body = (
        b.chat("a", finish=None, done=False)
        + b'data: {"choices": [{"delta"\n\n'
        + b.chat("b", role=False)
    )
    expect(
        judge(body),
        evidence='"stop"',
        dialect="openai-chat",
        outcome="completed",
        detail="natural",
        raw_stop_reason="stop",
        text="ab",
        warnings=["malformed_event"],
    )


def test_malformed_json_with_no_other_verdict() -> None:
    body = b.chat("a", finish=None, done=False) + b'data: {"choices": [{"delta"\n\n'
    got = judge(body)
    assert (got["outcome"], got["detail"]) == ("protocol_error", "malformed_json")


def test_bom_and_utf8_replacement_and_unterminated_event() -> None:
    body = b"\xef\xbb\xbf" + b.chat("caf\u00e9", done=False) + b"data: \xff\xfe [DONE]"
    got = judge(body)
    assert got["text"] == "café"
    assert set(got["warnings"]) == {
        "bom_stripped",
        "utf8_replaced",
        "unterminated_final_event",
        "missing_terminator",
    }


def test_empty_reply_warns_empty_output() -> None:
    got = judge(b.chat(finish="stop"))
    assert (got["outcome"], got["warnings"], got["had_output"]) == (
        "completed",
        ["empty_output"],
        False,
    )


def test_comments_only_is_empty_stream() -> None:
    got = judge(b": keep-alive\n\n: OPENROUTER PROCESSING\n\n", "openai-chat")
    assert (got["outcome"], got["detail"]) == ("protocol_error", "empty_stream")


# ---------------- Anthropic ----------------


@pytest.mark.parametrize(
    ("stop", "outcome", "detail", "actions"),
    [
        ("end_turn", "completed", "natural", []),
        ("stop_sequence", "completed", "stop_sequence", []),
        ("max_tokens", "truncated", "max_tokens", ["continue", "retry_more_tokens"]),
        ("model_context_window_exceeded", "truncated", "context_window", []),
        ("pause_turn", "paused", None, ["continue"]),
        ("refusal", "blocked", "refusal", []),
    ],
)
def test_anthropic_stop_reasons(
    stop: str, outcome: str, detail: str | None, actions: list[str]
) -> None:
    expect(
        judge(b.anthropic("Hi", " there", stop=stop, pings=True)),
        evidence=stop,
        dialect="anthropic",
        outcome=outcome,
        detail=detail,
        raw_stop_reason=stop,
        text="Hi there",
        actions=actions,
        usage={"input_tokens": 12, "output_tokens": 2},
    )


def test_anthropic_thinking_and_tool_use() -> None:
    got = judge(b.anthropic("ok", thinking="hmm"))
    assert (got["reasoning"], got["text"], got["outcome"]) == ("hmm", "ok", "completed")
    expect(
        judge(b.anthropic_tool(['{"city"', ': "Oslo"}'])),
        evidence="get_weather",
        dialect="anthropic",
        outcome="tool_calls",
        raw_stop_reason="tool_use",
        usage={"input_tokens": 20, "output_tokens": 30},
        tool_calls=[
            {
                "id": "toolu_1",
                "name": "get_weather",
                "arguments": '{"city": "Oslo"}',
                "complete": True,
            }
        ],
    )


def test_anthropic_missing_message_stop() -> None:
    got = judge(b.anthropic("x", message_stop=False))
    assert (got["outcome"], got["warnings"], got["terminator_seen"]) == (
        "completed",
        ["missing_terminator"],
        False,
    )


def test_anthropic_overloaded_error_event() -> None:
    body = b.anthropic("x", stop=None, message_stop=False) + b.sse(
        ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    )
    expect(
        judge(body),
        evidence="Overloaded",
        dialect="anthropic",
        outcome="upstream_error",
        detail="overloaded_error",
        text="x",
        terminator_seen=False,
        actions=["retry"],
        usage={"input_tokens": 12, "output_tokens": None},
    )


def test_anthropic_invalid_request_error_is_not_retryable() -> None:
    body = b.sse(
        ("error", {"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}})
    )
    got = judge(body, "anthropic")
    assert (got["outcome"], got["detail"], got["actions"]) == (
        "upstream_error",
        "invalid_request_error",
        [],
    )


def test_anthropic_delta_before_message_start() -> None:
    body = b.sse(
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "x"},
            },
        )
    )
    got = judge(body, "anthropic")
    assert (got["outcome"], got["detail"]) == ("protocol_error", "unexpected_event_order")


def test_anthropic_unknown_stop_reason() -> None:
    got = judge(b.anthropic("x", stop="brand_new_reason"))
    assert (got["outcome"], got["detail"]) == ("protocol_error", "unknown_finish_reason")


# ---------------- OpenAI Responses ----------------


def test_responses_completed() -> None:
    expect(
        judge(b.responses("a", "b")),
        evidence="response.completed",
        dialect="openai-responses",
        outcome="completed",
        detail="natural",
        raw_stop_reason="completed",
        text="ab",
        usage={"input_tokens": 5, "output_tokens": 2},
    )


@pytest.mark.parametrize(
    ("reason", "outcome", "detail"),
    [
        ("max_output_tokens", "truncated", "max_tokens"),
        ("content_filter", "blocked", "content_filter"),
    ],
)
def test_responses_incomplete(reason: str, outcome: str, detail: str) -> None:
    got = judge(b.responses("a", final="response.incomplete", reason=reason))
    assert (got["outcome"], got["detail"], got["raw_stop_reason"]) == (outcome, detail, reason)


def test_responses_failed_and_function_call_and_gap() -> None:
    got = judge(
        b.responses("a", final="response.failed", error={"code": "server_error", "message": "boom"})
    )
    assert (got["outcome"], got["detail"], got["actions"]) == (
        "upstream_error",
        "server_error",
        ["retry"],
    )
    got = judge(b.responses(tool_args=['{"q":', "1}"]))
    assert got["outcome"] == "tool_calls"
    assert got["tool_calls"][0]["arguments"] == '{"q":1}'
    got = judge(b.responses("a", skip_seq=True))
    assert got["warnings"] == ["out_of_order"]


def test_responses_error_event_and_cut() -> None:
    body = b.responses("a", final="") + b.sse(
        ("error", {"type": "error", "code": "rate_limit_exceeded", "message": "slow down"})
    )
    got = judge(body)
    assert (got["outcome"], got["detail"]) == ("upstream_error", "rate_limit_exceeded")
    got = judge(b.responses("a", final=""))
    assert (got["outcome"], got["detail"]) == ("interrupted", "eof_before_terminator")


# ---------------- Gemini ----------------


@pytest.mark.parametrize(
    ("finish", "outcome", "detail"),
    [
        ("STOP", "completed", "natural"),
        ("MAX_TOKENS", "truncated", "max_tokens"),
        ("SAFETY", "blocked", "content_filter"),
        ("RECITATION", "blocked", "content_filter"),
        ("IMAGE_SAFETY", "blocked", "content_filter"),
        ("MALFORMED_FUNCTION_CALL", "upstream_error", "MALFORMED_FUNCTION_CALL"),
        ("OTHER", "protocol_error", "unknown_finish_reason"),
    ],
)
def test_gemini_finish_reasons(finish: str, outcome: str, detail: str) -> None:
    got = judge(b.gemini("a", "b", finish=finish))
    assert (got["dialect"], got["outcome"], got["detail"]) == ("gemini", outcome, detail)
    assert "missing_terminator" not in got["warnings"]


def test_gemini_whole_verdict_and_tool_call() -> None:
    expect(
        judge(b.gemini("Hi", " you")),
        evidence='finishReason "STOP"',
        dialect="gemini",
        outcome="completed",
        detail="natural",
        raw_stop_reason="STOP",
        text="Hi you",
        usage={"input_tokens": 7, "output_tokens": 2},
    )
    got = judge(b.gemini(calls=[{"name": "f", "args": {"x": 1}}]))
    assert (got["outcome"], got["warnings"]) == ("tool_calls", [])


def test_gemini_prompt_blocked_and_cut_and_error() -> None:
    got = judge(b.sse({"promptFeedback": {"blockReason": "SAFETY"}}, end="\r\n"))
    assert (got["outcome"], got["detail"], got["had_output"]) == (
        "blocked",
        "prompt_blocked",
        False,
    )
    got = judge(b.gemini("a", finish=None))
    assert (got["outcome"], got["detail"]) == ("interrupted", "eof_before_terminator")
    body = b.gemini("a", finish=None) + b.sse(
        {"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}
    )
    got = judge(body)
    assert (got["outcome"], got["detail"], got["actions"]) == (
        "upstream_error",
        "UNAVAILABLE",
        ["retry"],
    )


# ---------------- Ollama ----------------


def test_ollama_outcomes() -> None:
    expect(
        judge(b.ollama("a", "b")),
        evidence='done_reason "stop"',
        dialect="ollama",
        outcome="completed",
        detail="natural",
        raw_stop_reason="stop",
        text="ab",
        usage={"input_tokens": 11, "output_tokens": 2},
    )
    got = judge(b.ollama("a", done_reason="length"))
    assert (got["outcome"], got["detail"]) == ("truncated", "max_tokens")
    got = judge(b.ollama("a", done=False))
    assert (got["outcome"], got["detail"]) == ("interrupted", "eof_before_terminator")
    got = judge(b.ollama(calls=[{"function": {"name": "f", "arguments": {"x": 1}}}]))
    assert (got["outcome"], got["tool_calls"][0]["arguments"]) == ("tool_calls", '{"x": 1}')
    got = judge(b.ollama("a", done=False) + b'{"error": "model crashed"}\n')
    assert (got["outcome"], got["detail"]) == ("upstream_error", None)
