"""After retries or continuations, the whole answer's figures (`session_metrics`, DESIGN §6)
sit beside the last segment's, and the CLI labels each scope (issue 11, item 8)."""

from __future__ import annotations

import json

from core import RunSpec, SessionFinished, run_session
from core.cli import main
from core.live.breaker import CircuitBreaker
from core.mock import MockServer
from core.mock.script import reply_text
from tests.core.wire_server import Reply, wire_server


def probe(capsys, mock: MockServer, *args: str, dialect: str = "anthropic") -> str:
    code = main(["probe", "--base-url", mock.base_urls[dialect], "--dialect", dialect, *args])
    out, _ = capsys.readouterr()
    assert code == 0
    return out


def test_continue_until_complete_reports_both_scopes(capsys, mock: MockServer) -> None:
    args = ["--model", "mock-normal", "--max-tokens", "15", "--header", "x-mock-params: tokens=40"]
    data = json.loads(probe(capsys, mock, *args, "--continue-until-complete", "5", "--json"))
    sm = data["session_metrics"]
    assert data["text"] == reply_text(40) and len(data["segments"]) == 3
    assert sm["segments"] == 3 and sm["attempts"] == 3
    assert sm["output_tokens"] == data["usage"]["output_tokens"]
    # the top-level metrics are the last segment's; the whole answer spans every segment
    assert sm["total_ms"] > data["metrics"]["total_ms"]
    assert sm["ttft_ms"] is not None and sm["ttft_ms"] <= sm["total_ms"]
    text = probe(capsys, mock, *args, "--continue-until-complete", "5")
    assert "last segment: headers" in text and "last segment: ITL" in text
    assert "whole answer: TTFT" in text and "3 segments · 3 attempts" in text
    assert "usage (whole answer, summed over segments)" in text


def test_a_single_run_has_no_session_metrics(capsys, mock: MockServer) -> None:
    data = json.loads(probe(capsys, mock, "--model", "mock-normal", "--json", "--retries", "2"))
    assert data["session_metrics"] is None
    text = probe(capsys, mock, "--model", "mock-normal")
    assert "last segment:" not in text and "whole answer: TTFT" not in text


def test_retries_give_session_metrics_with_waits_included(capsys, mock: MockServer) -> None:
    args = ["--model", "mock-http_500", "--header", "x-mock-params: fail_first=1", "--json"]
    data = json.loads(probe(capsys, mock, *args, "--retries", "2"))
    sm = data["session_metrics"]
    assert data["outcome"] == "completed" and (sm["segments"], sm["attempts"]) == (1, 2)
    waited_ms = data["attempts"][1]["waited_s"] * 1000
    assert sm["total_ms"] >= data["metrics"]["total_ms"] + waited_ms * 0.99


async def test_a_refused_retry_never_becomes_the_segment_verdict() -> None:
    """The breaker refuses the retry: it is listed in attempts, and the verdict stays the
    last attempt that was sent (DESIGN §6)."""
    breaker = CircuitBreaker(threshold=1, window_s=300, cooldown_s=30)
    err = b'data: {"error": {"message": "upstream reset", "code": "502"}}\n\n'
    async with wire_server({"gw": Reply([err])}) as srv:
        spec = RunSpec("openai-chat", srv.base("gw") + "/v1", "m", RunSpec.user("hi"))

        async def no_wait(_: float) -> None:
            return None

        done = None
        async for event in run_session(
            spec, retries=3, breaker=breaker, wall=lambda: 0.0, sleep=no_wait
        ):
            if isinstance(event, SessionFinished):
                done = event
        assert len(srv.requests) == 1
    v = done.verdict
    assert v.label == "upstream_error/502" and v.retryable
    assert [a["verdict"] for a in v.attempts] == ["upstream_error/502", "not_sent/breaker_open"]
    assert v.session_metrics is not None and v.session_metrics.attempts == 2
    assert [p.label for p in done.segment_verdicts] == ["upstream_error/502"]
