"""Every mock scenario × every dialect, over real loopback HTTP: the verdict a user sees."""

from __future__ import annotations

import pytest

from core import RunSpec, SessionFinished, Timeouts, run_session
from core.mock import SCENARIOS, MockServer
from core.mock.script import reply_text

DIALECTS = ("openai-chat", "openai-responses", "anthropic", "gemini", "ollama")
C, R, A, G, OL = DIALECTS

# scenario → per dialect (label, warnings that must be present); "*" = every dialect
EXPECTED: dict[str, dict[str, tuple[str, set[str]]]] = {
    "normal": {"*": ("completed/natural", set())},
    "max_tokens": {"*": ("truncated/max_tokens", set())},
    "stop_sequence": {
        C: ("completed/stop_sequence", set()),
        A: ("completed/stop_sequence", set()),
        R: ("completed/natural", set()),
        G: ("completed/natural", set()),
        OL: ("completed/natural", set()),
    },
    "tool_call": {"*": ("tool_calls", set())},
    "tool_call_truncated": {"*": ("tool_calls", set())},
    "thinking": {"*": ("completed/natural", set())},
    "refusal": {
        C: ("blocked/refusal", set()),
        R: ("blocked/refusal", set()),
        A: ("blocked/refusal", set()),
        G: ("blocked/content_filter", set()),
        OL: ("completed/natural", set()),
    },
    "content_filter": {
        C: ("blocked/content_filter", set()),
        R: ("blocked/content_filter", set()),
        A: ("blocked/refusal", set()),
        G: ("blocked/content_filter", set()),
        OL: ("completed/natural", set()),
    },
    "pause_turn": {A: ("paused", set())},
    "context_window": {
        A: ("truncated/context_window", set()),
        C: ("http_error/invalid_request", set()),
    },
    "empty_reply": {"*": ("completed/natural", {"empty_output"})},
    "relay_alias": {C: ("truncated/max_tokens", {"nonstandard_stop_reason"})},
    "missing_done": {
        C: ("completed/natural", {"missing_terminator"}),
        A: ("completed/natural", {"missing_terminator"}),
        R: ("interrupted/eof_before_terminator", set()),
        G: ("interrupted/eof_before_terminator", set()),
        OL: ("interrupted/eof_before_terminator", set()),
    },
    "done_without_finish": {
        C: ("interrupted/no_finish_reason", {"missing_finish_reason"}),
        A: ("interrupted/no_finish_reason", {"missing_finish_reason"}),
    },
    "usage_chunk": {C: ("completed/natural", set())},
    "mid_stream_error": {
        C: ("upstream_error/server_error", set()),
        R: ("upstream_error/server_error", set()),
        A: ("upstream_error/overloaded_error", set()),
        G: ("upstream_error/UNAVAILABLE", set()),
        OL: ("upstream_error", set()),
    },
    "http_429": {"*": ("http_error/rate_limited", set())},
    "http_500": {"*": ("http_error/server", set())},
    "http_529": {"*": ("http_error/overloaded", set())},
    "bad_content_type": {"*": ("protocol_error/bad_content_type", set())},
    "malformed_line": {"*": ("completed/natural", {"malformed_event"})},
    "eof_mid_stream": {"*": ("interrupted/eof_before_terminator", set())},
    "reset_mid_stream": {"*": ("interrupted/connection_reset", set())},
    "stall": {"*": ("interrupted/stall", set())},
    "slow_first_byte": {"*": ("interrupted/first_byte_timeout", set())},
    "utf8_split": {"*": ("completed/natural", set())},
    "crlf": {"*": ("completed/natural", set())},
    "bom": {"*": ("completed/natural", {"bom_stripped"})},
    "comments_keepalive": {"*": ("completed/natural", set())},
}
CASES = [(sc, d) for sc in EXPECTED for d in DIALECTS if d in EXPECTED[sc] or "*" in EXPECTED[sc]]


def test_every_scenario_is_covered() -> None:
    assert set(EXPECTED) == set(SCENARIOS)


async def live(
    mock: MockServer, dialect: str, scenario: str, params: str = "", **spec_changes
) -> SessionFinished:
    timeouts = Timeouts(stall_s=0.3, first_byte_s=0.3 if scenario == "slow_first_byte" else 10)
    headers = {"x-mock-params": params} if params else {}
    spec = RunSpec(
        dialect,
        mock.base_urls[dialect],
        f"mock-{scenario}",
        RunSpec.user("Tell me about streaming."),
        timeouts=timeouts,
        headers=headers,
        max_tokens=30 if scenario == "max_tokens" else 1024,
    )
    spec = spec.with_changes(**spec_changes)
    finished = None
    async for event in run_session(spec):
        if isinstance(event, SessionFinished):
            finished = event
    assert finished is not None
    return finished


@pytest.mark.parametrize(("scenario", "dialect"), CASES)
async def test_matrix(mock: MockServer, scenario: str, dialect: str) -> None:
    table = EXPECTED[scenario]
    label, warnings = table.get(dialect) or table["*"]
    verdict = (await live(mock, dialect, scenario)).verdict
    assert verdict.label == label, verdict.explanation
    assert warnings <= set(verdict.warnings)
    assert verdict.dialect == dialect
    assert verdict.explanation
    if scenario == "slow_first_byte":  # the mock holds back even the headers
        assert verdict.http is None and not verdict.had_output
        return
    assert verdict.http is not None and verdict.http.request_id
    if verdict.outcome == "http_error" or scenario == "bad_content_type":
        assert verdict.metrics.total_ms is not None and verdict.metrics.events == 0
        return
    m = verdict.metrics
    if scenario != "slow_first_byte":
        assert m.ttfb_ms is not None and m.chunks > 0 and m.events > 0
    if scenario in ("eof_mid_stream", "reset_mid_stream", "stall"):
        assert verdict.had_output and verdict.text  # partial output kept
        assert verdict.actions == ("retry", "continue")
        assert reply_text(40).startswith(verdict.text)
        # timings of a cut stream are still true: N from the content seen, not a placeholder
        # a gap needs two reads: when the mock's writes merge into one read on busy cores,
        # the content is one burst, and the verdict says so instead
        assert m.itl_ms is not None or "burst" in (m.tokens_per_s_note or "")
        # the fast mock sends its content in a burst: tokens/s is "–" and says why
        assert m.output_tokens_per_s is not None or "burst" in m.tokens_per_s_note
        if m.tokens_source == "usage":
            assert verdict.output_tokens >= m.content_events - 1
    if scenario in ("normal", "crlf", "bom", "comments_keepalive", "usage_chunk", "thinking"):
        assert verdict.text == reply_text(40)
        assert m.ttft_ms is not None and m.ttft_ms >= m.ttfb_ms


async def test_utf8_split_reassembles_exactly(mock: MockServer) -> None:
    for dialect in DIALECTS:
        verdict = (await live(mock, dialect, "utf8_split", "tokens=200")).verdict
        assert verdict.text == reply_text(200)
        assert "utf8_replaced" not in verdict.warnings
        assert any(ord(ch) > 127 for ch in verdict.text)


async def test_429_reports_retry_after_and_provider_message(mock: MockServer) -> None:
    verdict = (await live(mock, "anthropic", "http_429", "retry_after=7")).verdict
    assert verdict.http.status == 429
    assert verdict.http.retry_after_s is not None
    assert verdict.actions == ("retry",)
    assert "rate" in verdict.explanation.lower()


async def test_continue_until_complete_stitches_the_script(mock: MockServer) -> None:
    for dialect in DIALECTS:
        spec = RunSpec(
            dialect,
            mock.base_urls[dialect],
            "mock-normal",
            RunSpec.user("Tell me about streaming."),
            max_tokens=15,
            headers={"x-mock-params": "tokens=60"},
        )
        finished = None
        async for event in run_session(spec, continuations=5):
            if isinstance(event, SessionFinished):
                finished = event
        v = finished.verdict
        assert v.label == "completed/natural", (dialect, v.explanation)
        assert v.text == reply_text(60), dialect
        assert len(v.segments) == 4
        assert v.segments[0]["outcome"] == "truncated"


async def test_retry_after_reset_succeeds(mock: MockServer) -> None:
    finished = await live(mock, "openai-chat", "reset_mid_stream", "fail_first=1;tokens=30")
    assert finished.verdict.label == "interrupted/connection_reset"
    spec = RunSpec(
        "openai-chat",
        mock.base_urls["openai-chat"],
        "mock-reset_mid_stream",
        RunSpec.user("retry me"),
        headers={"x-mock-params": "fail_first=1"},
    )
    done = None
    async for event in run_session(spec, retries=2):
        if isinstance(event, SessionFinished):
            done = event
    assert done.verdict.label == "completed/natural"
    assert [a["verdict"] for a in done.verdict.attempts] == [
        "interrupted/connection_reset",
        "completed/natural",
    ]


async def test_breaker_opens_after_failures_and_refuses_at_once(mock: MockServer) -> None:
    from core.live.breaker import CircuitBreaker

    now = [0.0]
    breaker = CircuitBreaker(threshold=2, window_s=300, cooldown_s=30)
    spec = RunSpec(
        "openai-chat", mock.base_urls["openai-chat"], "mock-http_500", RunSpec.user("breaker")
    )

    async def once() -> SessionFinished:
        async for event in run_session(spec, breaker=breaker, wall=lambda: now[0]):
            if isinstance(event, SessionFinished):
                return event
        raise AssertionError("no SessionFinished")

    assert (await once()).verdict.label == "http_error/server"
    assert (await once()).verdict.label == "http_error/server"
    refused = (await once()).verdict
    assert refused.label == "not_sent/breaker_open"
    assert "30 s" in refused.explanation and refused.actions == ()
    now[0] = 31.0  # half-open: one probe goes through; it fails, so the breaker reopens
    assert (await once()).verdict.label == "http_error/server"
    assert (await once()).verdict.label == "not_sent/breaker_open"
    now[0] = 62.0
    spec = spec.with_changes(model="mock-normal")
    assert (await once()).verdict.label == "completed/natural"
    assert breaker.state(62.0).state == "closed"


async def test_429_then_success_waits_what_retry_after_said(mock: MockServer) -> None:
    waited: list[float] = []

    async def record(delay: float) -> None:
        waited.append(delay)

    spec = RunSpec(
        "anthropic",
        mock.base_urls["anthropic"],
        "mock-http_429",
        RunSpec.user("rate me"),
        headers={"x-mock-params": "fail_first=1;retry_after=3"},
    )
    done = None
    async for event in run_session(spec, retries=3, sleep=record):
        if isinstance(event, SessionFinished):
            done = event
    assert done.verdict.label == "completed/natural"
    assert waited == [3.0]
    first, second = done.verdict.attempts
    assert first["verdict"] == "http_error/rate_limited"
    assert second == {
        "verdict": "completed/natural",
        "waited_s": 3.0,
        "reason": "Retry-After 3 s honoured",
    }


async def _final(spec: RunSpec, **kw) -> SessionFinished:
    async for event in run_session(spec, **kw):
        if isinstance(event, SessionFinished):
            return event
    raise AssertionError("no SessionFinished")


async def test_pause_turn_resend_completes(mock: MockServer) -> None:
    spec = RunSpec(
        "anthropic",
        mock.base_urls["anthropic"],
        "mock-pause_turn",
        RunSpec.user("Tell me about streaming."),
    )
    v = (await _final(spec, continuations=2)).verdict
    assert v.label == "completed/natural"
    assert [s["method"] for s in v.segments] == ["original", "resend"]
    assert v.segments[0]["outcome"] == "paused"
    assert v.text == reply_text(40)


async def test_truncated_tool_call_offers_only_more_tokens(mock: MockServer) -> None:
    from core.live.continuation import more_tokens

    for dialect in ("openai-chat", "anthropic", "openai-responses"):
        spec = RunSpec(
            dialect,
            mock.base_urls[dialect],
            "mock-tool_call_truncated",
            RunSpec.user("write the file"),
            max_tokens=40,
        )
        v = (await _final(spec, continuations=3)).verdict
        assert v.label == "truncated/max_tokens", dialect
        assert v.actions == ("retry_more_tokens",)
        assert "incomplete_tool_call" in v.warnings
        assert v.segments == ()  # never continued
        bigger = more_tokens(more_tokens(more_tokens(spec)))
        assert bigger.max_tokens == 320
        v = (await _final(bigger)).verdict
        assert v.label == "tool_calls", dialect
        assert all(c.complete for c in v.tool_calls)


async def test_continue_after_the_fact_resumes_the_session(mock: MockServer) -> None:
    spec = RunSpec(
        "anthropic",
        mock.base_urls["anthropic"],
        "mock-normal",
        RunSpec.user("Tell me about streaming."),
        max_tokens=25,
        headers={"x-mock-params": "tokens=60"},
    )
    first = await _final(spec)
    assert first.verdict.label == "truncated/max_tokens"
    done = await _final(spec, previous=first, continuations=1)
    assert done.verdict.label == "truncated/max_tokens"
    assert [m for _, m in done.parts] == ["original", "prefill"]
    done = await _final(spec, previous=done, continuations=3)
    assert done.verdict.label == "completed/natural"
    assert done.text == done.verdict.text == reply_text(60)
    assert done.verdict.output_tokens == sum(v.output_tokens for v in done.segment_verdicts)
    assert len(done.runs) == 3
