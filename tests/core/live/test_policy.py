"""Pure decisions: retry policy, Retry-After parsing, continuation building and stitching."""

from __future__ import annotations

import email.utils
import random

import pytest

from core.live.continuation import CannotContinue, build_continuation, more_tokens, stitch
from core.live.policy import Retry, RetryPolicy, Stop, decide
from core.stream.httpinfo import parse_retry_after
from core.stream.outcome import HttpInfo, ToolCall, Verdict, actions_for
from core.stream.spec import RunSpec


def verdict(
    outcome: str,
    detail: str | None,
    *,
    had_output: bool = False,
    status: int | None = None,
    retry_after: float | None = None,
    calls: tuple[ToolCall, ...] = (),
    response_id: str | None = None,
) -> Verdict:
    incomplete = any(not c.complete for c in calls)
    http = HttpInfo(status, retry_after_s=retry_after) if status else None
    return Verdict(
        "openai-chat",
        outcome,
        detail,
        had_output=had_output,
        http=http,
        tool_calls=calls,
        response_id=response_id,
        actions=actions_for(
            outcome, detail, had_output=had_output, incomplete_tool_call=incomplete, status=status
        ),
    )


RNG = random.Random(7)


@pytest.mark.parametrize(
    ("v", "retry"),
    [
        (verdict("completed", "natural"), False),
        (verdict("tool_calls", None), False),
        (verdict("blocked", "refusal"), False),
        (verdict("truncated", "max_tokens"), False),
        (verdict("paused", None), False),
        (verdict("http_error", "rate_limited", status=429), True),
        (verdict("http_error", "auth", status=401), False),
        (verdict("http_error", "invalid_request", status=400), False),
        (verdict("http_error", "invalid_request", status=409), True),
        (verdict("http_error", "overloaded", status=529), True),
        (verdict("http_error", "server", status=500), True),
        (verdict("upstream_error", "overloaded_error"), True),
        (verdict("upstream_error", "invalid_request_error"), False),
        (verdict("interrupted", "connection_reset", had_output=True), True),
        (verdict("interrupted", "cancelled", had_output=True), False),
        (verdict("protocol_error", "malformed_json"), True),
        (verdict("not_sent", "breaker_open"), False),
    ],
)
def test_decide_for_every_verdict_class(v: Verdict, retry: bool) -> None:
    assert isinstance(decide(v, 0, RNG, RetryPolicy()), Retry) is retry


def test_backoff_grows_and_is_capped_and_attempts_end() -> None:
    v = verdict("http_error", "server", status=500)
    policy = RetryPolicy(attempts=10, jitter=0.0)
    delays = [decide(v, n, RNG, policy).delay_s for n in range(6)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert isinstance(decide(v, 10, RNG, policy), Stop)


def test_retry_after_honoured_and_capped() -> None:
    assert (
        decide(
            verdict("http_error", "rate_limited", status=429, retry_after=3), 0, RNG, RetryPolicy()
        ).delay_s
        == 3
    )
    capped = decide(
        verdict("http_error", "rate_limited", status=429, retry_after=86400), 0, RNG, RetryPolicy()
    )
    assert capped.delay_s == 60 and "capped" in capped.reason


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after({"Retry-After": "7"}) == 7
    assert parse_retry_after({"retry-after-ms": "1500", "Retry-After": "7"}) == 1.5
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after({"Retry-After": date}, now=1_000_000) == pytest.approx(30)
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert parse_retry_after({"Retry-After": "-5"}) is None
    assert parse_retry_after({"Retry-After": "99999999"}) == 99999999  # the policy caps


def test_continuation_per_dialect() -> None:
    partial = "The answer is "
    base = RunSpec("anthropic", "http://x", "m", RunSpec.user("q"))
    plan = build_continuation(base, partial, verdict("truncated", "max_tokens"))
    assert (plan.method, plan.trimmed) == ("prefill", " ")
    assert plan.spec.messages[-1] == {"role": "assistant", "content": "The answer is"}
    plan = build_continuation(
        base.with_changes(thinking_budget=1024), partial, verdict("truncated", "max_tokens")
    )
    assert plan.method == "user_turn" and plan.spec.messages[-1]["role"] == "user"
    paused = build_continuation(base, partial, verdict("paused", None))
    assert paused.method == "resend" and paused.spec.messages[-1]["content"] == "The answer is"
    assert paused.trimmed == " "  # the API refuses a final assistant turn ending in a space
    chat = RunSpec("openai-chat", "http://x", "m", RunSpec.user("q"))
    plan = build_continuation(chat, partial, verdict("truncated", "max_tokens"))
    assert plan.method == "assistant_message"
    assert [m["role"] for m in plan.spec.messages] == ["user", "assistant", "user"]
    vllm = build_continuation(
        chat.with_changes(continue_final_message=True), partial, verdict("truncated", "max_tokens")
    )
    assert vllm.spec.extra_body["continue_final_message"] is True
    resp = RunSpec("openai-responses", "http://x", "m", RunSpec.user("q"))
    plan = build_continuation(
        resp, partial, verdict("truncated", "max_tokens", response_id="resp_9")
    )
    assert (plan.method, plan.spec.previous_response_id) == ("previous_response_id", "resp_9")


def test_cannot_continue_context_window_or_broken_tool_call() -> None:
    chat = RunSpec("openai-chat", "http://x", "m", RunSpec.user("q"))
    with pytest.raises(CannotContinue, match="context window"):
        build_continuation(chat, "x", verdict("truncated", "context_window"))
    broken = (ToolCall("c", "f", '{"a": ', False),)
    with pytest.raises(CannotContinue, match="more tokens"):
        build_continuation(chat, "", verdict("truncated", "max_tokens", calls=broken))
    assert more_tokens(chat.with_changes(max_tokens=100)).max_tokens == 200
    assert more_tokens(chat.with_changes(max_tokens=30000)).max_tokens == 32768


def test_stitch_seams() -> None:
    assert stitch("Hello world ", "again", trimmed=" ") == "Hello world again"
    assert stitch("Hello world ", " again", trimmed=" ") == "Hello world again"
    assert stitch("one two three four five", "three four five six") == (
        "one two three four five six"
    )
    assert stitch("a b", " c") == "a b c"


def test_breaker_opens_after_k_failures_then_half_opens() -> None:
    from core.live.breaker import CircuitBreaker

    br = CircuitBreaker(threshold=3, window_s=300, cooldown_s=30)
    fail = verdict("http_error", "server", status=500)
    ok = verdict("completed", "natural")
    for t in (0, 1, 2):
        assert br.allow(t)
        br.record(fail, t)
    assert br.state(3).state == "open" and not br.allow(3)
    assert br.state(3).retry_in_s == pytest.approx(29)
    assert br.state(32).state == "half_open"
    assert br.allow(32) and not br.allow(32)  # one probe at a time
    br.record(fail, 33)  # the probe failed: open again
    assert br.state(34).state == "open"
    assert br.allow(64)
    br.record(ok, 64)
    assert br.state(65).state == "closed" and br.allow(65)


def test_breaker_window_forgets_old_failures_and_ignores_cancel() -> None:
    from core.live.breaker import CircuitBreaker

    br = CircuitBreaker(threshold=2, window_s=10, cooldown_s=30)
    br.record(verdict("http_error", "server", status=500), 0)
    br.record(verdict("http_error", "server", status=500), 20)
    assert br.state(21).state == "closed"
    br.record(verdict("interrupted", "cancelled"), 22)
    assert br.state(22).failures == 1
