"""Watchdogs, Progress and cancellation on live runs against the mock (short settings)."""

from __future__ import annotations

import asyncio
import itertools

from core import (
    ChunkReceived,
    Phase,
    Progress,
    RunFinished,
    RunSpec,
    TextDelta,
    Timeouts,
    WireEvent,
    run,
)
from core.mock import MockServer
from core.mock.script import reply_text


def spec_for(mock: MockServer, scenario: str, params: str, **timeouts) -> RunSpec:
    return RunSpec(
        "openai-chat",
        mock.base_urls["openai-chat"],
        f"mock-{scenario}",
        RunSpec.user("watchdogs"),
        headers={"x-mock-params": params},
        timeouts=Timeouts(**timeouts),
    )


async def collect(spec: RunSpec, cancel: asyncio.Event | None = None, cancel_after: int = 0):
    events = []
    texts = 0
    async for event in run(spec, cancel=cancel):
        events.append(event)
        if isinstance(event, TextDelta):
            texts += 1
            if cancel is not None and texts == cancel_after:
                cancel.set()
    return events


async def test_gap_that_resumes_is_stall_observed(mock: MockServer) -> None:
    spec = spec_for(mock, "stall", "tokens=30;cut_at=10;stall_ms=400", stall_s=10, soft_stall_s=0.2)
    events = await collect(spec)
    verdict = events[-1].verdict
    assert verdict.label == "completed/natural"
    assert "stall_observed" in verdict.warnings
    # the scripted 400 ms pause is listed (a loaded machine may add shorter ones)
    (stall,) = [s for s in verdict.metrics.stalls if s.gap_ms >= 380]
    assert stall.ended_by == "content"
    states = [e.state for e in events if isinstance(e, Progress)]
    assert "stalled" in states  # the live state said so while it happened


async def test_hard_stall_keeps_partial_text(mock: MockServer) -> None:
    events = await collect(spec_for(mock, "stall", "tokens=30;cut_at=10", stall_s=0.3))
    verdict = events[-1].verdict
    assert verdict.label == "interrupted/stall"
    assert verdict.text == reply_text(10)
    assert verdict.actions == ("retry", "continue")


async def test_cancel_mid_stream_keeps_partial_text(mock: MockServer) -> None:
    cancel = asyncio.Event()
    events = await collect(spec_for(mock, "normal", "tokens=200;tps=100"), cancel, 5)
    finished = events[-1]
    assert isinstance(finished, RunFinished)
    assert finished.verdict.label == "interrupted/cancelled"
    assert finished.verdict.text.startswith(reply_text(5))
    assert finished.verdict.had_output


async def test_events_are_stamped_in_order_with_phases(mock: MockServer) -> None:
    events = await collect(spec_for(mock, "normal", "tokens=20"))
    phases = [e.name for e in events if isinstance(e, Phase)]
    assert "http11.send_request_headers.started" in phases
    chunks = [e for e in events if isinstance(e, ChunkReceived)]
    times = [c.t_ns for c in chunks]
    assert times == sorted(times) and times[0] > 0
    wires = [e for e in events if isinstance(e, WireEvent)]
    assert all(0 <= w.chunk_index < len(chunks) for w in wires)
    verdict = events[-1].verdict
    assert verdict.metrics.ttfb_ms == chunks[0].t_ns / 1e6
    assert verdict.metrics.chunks == len(chunks)


async def test_grouped_runs_give_each_reads_events_as_one_list(mock: MockServer) -> None:
    """`grouped=True` (the engine's way): a network read's events come as one list, the
    read first, then the wire events it completed and their stream events; flattened, it
    is the same run."""
    spec = spec_for(mock, "normal", "tokens=60;tps=2000")
    items = [item async for item in run(spec, grouped=True)]
    groups = [item for item in items if isinstance(item, list)]
    assert groups and all(isinstance(g[0], ChunkReceived) for g in groups)
    for group in groups:
        index = group[0].index
        assert all(not isinstance(e, ChunkReceived) for e in group[1:])
        assert all(w.chunk_index == index for w in group if isinstance(w, WireEvent))
    flat = [e for item in items for e in (item if isinstance(item, list) else [item])]
    plain = await collect(spec)
    text = "".join(e.text for e in flat if isinstance(e, TextDelta))
    assert text == "".join(e.text for e in plain if isinstance(e, TextDelta)) == reply_text(60)
    assert flat[-1].verdict.label == plain[-1].verdict.label == "completed/natural"
    assert flat[-1].verdict.metrics.chunks == len(groups)  # every read came grouped
    assert not any(isinstance(e, list) for e in plain)


async def test_total_timeout(mock: MockServer) -> None:
    events = await collect(spec_for(mock, "normal", "tokens=400;tps=50", total_s=0.3))
    assert events[-1].verdict.label == "interrupted/total_timeout"


async def test_read_timeout_only_when_watchdogs_off(mock: MockServer) -> None:
    spec = spec_for(
        mock, "stall", "tokens=30;cut_at=5", stall_s=None, first_byte_s=None, read_s=0.3
    )
    events = await collect(spec)
    assert events[-1].verdict.label == "interrupted/read_timeout"


async def test_bad_spec_is_not_sent() -> None:
    spec = RunSpec("openai-chat", "not a url", "m", RunSpec.user("x"))
    events = await collect(spec)
    assert events[-1].verdict.label == "not_sent/bad_request_spec"


async def test_steady_stream_still_gets_progress_ticks(mock: MockServer) -> None:
    events = await collect(spec_for(mock, "normal", "tokens=40;tps=60"))
    ticks = [e for e in events if isinstance(e, Progress)]
    assert ticks, "a 0.6 s stream must carry ~4 Hz Progress events"
    streaming = [t for t in ticks if t.state == "streaming"]
    assert streaming and streaming[-1].content_events > 0
    assert all(a.t_ns <= b.t_ns for a, b in itertools.pairwise(ticks))


async def test_progress_carries_the_figures_so_far(mock: MockServer) -> None:
    events = await collect(spec_for(mock, "normal", "tokens=40;tps=60"))
    live = [e.metrics for e in events if isinstance(e, Progress) and e.content_events > 2]
    assert live, "Progress during content must carry the live metrics"
    final = events[-1].verdict.metrics
    assert live[-1].ttfb_ms == final.ttfb_ms and live[-1].ttft_ms == final.ttft_ms
    assert live[-1].itl_ms is not None
