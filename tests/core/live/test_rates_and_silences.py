"""Tokens/s only where a rate exists, and every silence after the first byte listed with
what ended it (issue 11, items 7 and 9; DESIGN §4, §6), byte-exact over loopback."""

from __future__ import annotations

import json

from core import RunFinished, RunSpec, Timeouts, format_report, run
from core.mock import MockServer
from tests.core.wire_server import Reply, wire_server


def chunk(delta: dict, finish: str | None = None) -> bytes:
    obj = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


ROLE = chunk({"role": "assistant"})
STOP = chunk({}, "stop")
DONE = b"data: [DONE]\n\n"


def words(n: int) -> list[bytes]:
    return [chunk({"content": f" w{i}"}) for i in range(n)]


async def finish(base: str, soft_stall_s: float = 2.0, **timeouts) -> RunFinished:
    spec = RunSpec(
        "openai-chat",
        base + "/v1",
        "m",
        RunSpec.user("hi"),
        timeouts=Timeouts(soft_stall_s=soft_stall_s, **timeouts),
    )
    last = None
    async for event in run(spec):
        last = event
    assert isinstance(last, RunFinished)
    return last


# ---- 7. tokens/s -------------------------------------------------------------------------


async def test_a_burst_has_no_tokens_per_s_and_says_why() -> None:
    burst = Reply([ROLE + b"".join(words(5)) + STOP + DONE])  # five tokens in one write
    async with wire_server({"burst": burst}) as srv:
        v = (await finish(srv.base("burst"))).verdict
    m = v.metrics
    assert v.label == "completed/natural" and m.content_events == 5
    assert m.output_tokens_per_s is None
    assert "burst" in m.tokens_per_s_note and "20 ms" in m.tokens_per_s_note
    js = v.to_json()["metrics"]
    assert js["output_tokens_per_s"] is None and js["tokens_per_s_note"] == m.tokens_per_s_note
    assert f"– tok/s ({m.tokens_per_s_note})" in format_report(v)


async def test_two_content_events_are_too_few_whatever_their_span() -> None:
    two = Reply([ROLE, *words(1), 0.05, *words(1), STOP, DONE])
    async with wire_server({"two": two}) as srv:
        m = (await finish(srv.base("two"))).verdict.metrics
    assert m.content_events == 2 and m.output_tokens_per_s is None
    assert m.tokens_per_s_note == "only 2 content events: a rate needs at least 3"


async def test_three_events_over_20_ms_have_a_rate() -> None:
    paced = Reply([ROLE, *words(1), 0.015, *words(1), 0.015, *words(1), STOP, DONE])
    async with wire_server({"paced": paced}) as srv:
        v = (await finish(srv.base("paced"))).verdict
    m = v.metrics
    assert m.output_tokens_per_s is not None and m.tokens_per_s_note is None
    assert m.output_tokens_per_s > 0
    assert "– tok/s" not in format_report(v)


# ---- 9. silences after the first byte, each with what ended it ---------------------------


async def test_silence_before_an_error_is_listed_as_ended_by_error() -> None:
    """LiteLLM sends its headers and a first chunk, then waits before its error."""
    err = b'data: {"error": {"message": "upstream timed out", "code": "500"}}\n\n'
    async with wire_server({"gw": Reply([ROLE, 0.3, err, DONE])}) as srv:
        v = (await finish(srv.base("gw"), soft_stall_s=0.2)).verdict
    assert v.label == "upstream_error/500"
    (stall,) = v.metrics.stalls
    assert stall.ended_by == "error" and stall.gap_ms >= 250
    assert stall.at_ms == v.metrics.ttfb_ms  # from the first byte: no content ever came
    assert v.to_json()["metrics"]["stalls"][0]["ended_by"] == "error"
    assert "stall_observed" not in v.warnings


async def test_silence_before_first_content_is_listed_without_stall_observed() -> None:
    async with wire_server({"slow": Reply([ROLE, 0.3, *words(3), STOP, DONE])}) as srv:
        v = (await finish(srv.base("slow"), soft_stall_s=0.2)).verdict
    (stall,) = v.metrics.stalls
    assert (stall.ended_by, stall.at_ms) == ("content", v.metrics.ttfb_ms)
    assert stall.at_ms + stall.gap_ms <= v.metrics.ttft_ms + 1e-6
    # stall_observed is about a content gap that resumed; this one came before any content
    assert v.label == "completed/natural" and "stall_observed" not in v.warnings


async def test_silence_then_the_end_is_ended_by_end() -> None:
    async with wire_server({"tail": Reply([ROLE, *words(3), 0.3], ending="eof")}) as srv:
        v = (await finish(srv.base("tail"), soft_stall_s=0.2)).verdict
    assert v.label == "interrupted/eof_before_terminator"
    (stall,) = v.metrics.stalls
    assert stall.ended_by == "end" and stall.gap_ms >= 250


async def test_a_gap_between_content_is_ended_by_content_and_observed() -> None:
    async with wire_server({"gap": Reply([ROLE, *words(2), 0.3, *words(2), STOP, DONE])}) as srv:
        v = (await finish(srv.base("gap"), soft_stall_s=0.2)).verdict
    (stall,) = v.metrics.stalls
    assert stall.ended_by == "content" and stall.at_ms >= v.metrics.ttft_ms
    assert "stall_observed" in v.warnings


async def test_a_hard_stall_is_listed_as_still_silent(mock: MockServer) -> None:
    spec = RunSpec(
        "openai-chat",
        mock.base_urls["openai-chat"],
        "mock-stall",
        RunSpec.user("stall"),
        headers={"x-mock-params": "tokens=30;cut_at=10"},
        timeouts=Timeouts(stall_s=0.3, soft_stall_s=0.1),
    )
    last = None
    async for event in run(spec):
        last = event
    v = last.verdict
    assert v.label == "interrupted/stall"
    (stall,) = v.metrics.stalls
    assert stall.ended_by is None and stall.gap_ms >= 300
    assert v.to_json()["metrics"]["stalls"][0]["ended_by"] is None
    assert "still silent at the end" in format_report(v)
