"""Races over loopback against the in-process mock: paces measured against the mock's own
write log, the start skew reported, failing lanes counted apart, Stop stopping everything.
Tolerances are loose enough for a loaded CI machine; the tight figures belong to bench/."""

from __future__ import annotations

import asyncio
import itertools
import json
import pickle

import pytest

from core.live.race import (
    Lane,
    LaneEvent,
    LaneRunFinished,
    Race,
    RaceFinished,
    RacePlan,
    RoundFinished,
    RoundStarted,
)
from core.mock import MockServer
from core.record.savefile import read_saved_run
from core.stream.definitions import samples
from core.stream.events import ResponseStarted, TextDelta
from core.stream.spec import RunSpec


def _lane(mock: MockServer, label: str, model: str, params: str, dialect: str = "openai-chat"):
    spec = RunSpec(
        dialect,
        mock.base_urls[dialect],
        model,
        RunSpec.user(f"race {label}"),
        max_tokens=500,
        headers={"x-mock-params": params},
    )
    return Lane(label, spec)


async def _collect(race: Race) -> list[object]:
    return [event async for event in race.events()]


async def test_lanes_at_known_paces_agree_with_the_mock_write_log(mock: MockServer) -> None:
    lanes = (
        _lane(mock, "fast", "mock-normal", "tokens=25;tps=100"),
        _lane(mock, "slow", "mock-normal", "tokens=25;tps=40;first_byte_ms=150"),
    )
    race = Race(RacePlan(lanes, mode="race", repeat=1))
    events = await _collect(race)
    request_ids = {}
    for ev in events:
        if isinstance(ev, LaneEvent) and isinstance(ev.event, ResponseStarted):
            request_ids[ev.lane] = ev.event.headers["x-request-id"]
    log = list(mock.write_log)
    result = race.result
    itl = {}
    for lane in (0, 1):
        (run,) = result.lane_runs(lane)
        assert run.verdict.label == "completed/natural"
        assert run.t0_abs_ns is not None
        writes = [t for t, rid, _ in log if rid == request_ids[lane]]
        arrivals = [run.t0_abs_ns + t for t in run.stamps.content_ns]
        assert len(arrivals) == 25
        matched = []
        for t in arrivals:  # each content read pairs with the last write before it
            before = [w for w in writes if w <= t]
            assert before, "a content event arrived before the mock wrote anything"
            matched.append(before[-1])
            assert (t - before[-1]) / 1e6 < 100  # arrival after its write, not long after
        ours = (arrivals[-1] - arrivals[0]) / 1e6 / 24
        theirs = (matched[-1] - matched[0]) / 1e6 / 24
        assert ours == pytest.approx(theirs, abs=5.0)  # mean gap, against the write log
        itl[lane] = result.stats(lane).stats["itl_ms"]
    assert itl[0] is not None and itl[1] is not None
    assert itl[0].p50 == pytest.approx(10.0, abs=5.0)  # 100 tokens/s
    assert itl[1].p50 == pytest.approx(25.0, abs=8.0)  # 40 tokens/s
    ttft_fast = result.stats(0).stats["ttft_ms"]
    ttft_slow = result.stats(1).stats["ttft_ms"]
    assert ttft_fast is not None and ttft_slow is not None
    assert ttft_slow.p50 - ttft_fast.p50 > 100  # the slow lane's 150 ms first-byte delay


async def test_race_mode_reports_the_start_skew_of_every_round(mock: MockServer) -> None:
    lanes = tuple(_lane(mock, f"l{i}", "mock-normal", "tokens=5;tps=500") for i in range(4))
    race = Race(RacePlan(lanes, mode="race", repeat=3))
    events = await _collect(race)
    rounds = [ev for ev in events if isinstance(ev, RoundFinished)]
    assert [r.index for r in rounds] == [0, 1, 2]
    assert [ev.index for ev in events if isinstance(ev, RoundStarted)] == [0, 1, 2]
    for r in rounds:
        assert r.skew_ms is not None and 0 <= r.skew_ms < 100  # 2 ms goal: bench/race_skew.py
        assert len(r.t0_offsets_ms) == 4 and min(r.t0_offsets_ms) == 0.0  # type: ignore[type-var]
        assert max(r.t0_offsets_ms) == pytest.approx(r.skew_ms)  # type: ignore[type-var]
    assert isinstance(events[-1], RaceFinished)
    assert events[-1].result.rounds == tuple(rounds)
    assert len(events[-1].result.runs) == 12
    # the window's engine runs races in a child process: everything crosses a pickle pipe
    assert pickle.loads(pickle.dumps(events)) == events
    again = pickle.loads(pickle.dumps(race.result))
    assert again.stats(2, "aiperf") == race.result.stats(2, "aiperf")


async def test_sequential_mode_runs_one_lane_after_another(mock: MockServer) -> None:
    lanes = tuple(_lane(mock, f"s{i}", "mock-normal", "tokens=6;tps=300") for i in range(2))
    race = Race(RacePlan(lanes, mode="sequential", repeat=2))
    events = await _collect(race)
    finished = [ev.run for ev in events if isinstance(ev, LaneRunFinished)]
    assert [(r.round, r.lane) for r in finished] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    for first, second in itertools.pairwise(finished):
        assert first.t0_abs_ns is not None and second.t0_abs_ns is not None
        assert first.stamps.end_ns is not None
        assert second.t0_abs_ns > first.t0_abs_ns + first.stamps.end_ns  # no overlap
    assert all(r.skew_ms is None for r in race.result.rounds)


async def test_failing_lanes_are_counted_apart_and_never_stop_the_others(
    mock: MockServer,
) -> None:
    lanes = (
        _lane(mock, "ok", "mock-normal", "tokens=20;tps=400"),
        _lane(mock, "limited", "mock-http_429", ""),
        _lane(mock, "reset", "mock-reset_mid_stream", "tokens=20;tps=400"),
        _lane(mock, "ok2", "mock-normal", "tokens=20;tps=400", dialect="anthropic"),
    )
    race = Race(RacePlan(lanes, repeat=2))
    await _collect(race)
    result = race.result
    ok, limited, reset, ok2 = (result.stats(i) for i in range(4))
    assert ok.outcomes == {"completed/natural": 2} and ok2.outcomes == {"completed/natural": 2}
    assert ok.stats["output_tokens"] is not None and ok.stats["output_tokens"].min == 20
    assert limited.outcomes == {"http_error/rate_limited": 2}
    assert limited.counts == {"successful": 0, "incomplete": 0, "errored": 2}
    assert all(v is None for v in limited.stats.values())
    assert reset.outcomes == {"interrupted/connection_reset": 2}
    assert reset.counts == {"successful": 0, "incomplete": 2, "errored": 0}
    assert all(r.skew_ms is not None for r in result.rounds)  # the 429 lane sent too


async def test_stop_stops_every_lane_and_skips_the_remaining_rounds(mock: MockServer) -> None:
    lanes = tuple(
        _lane(mock, f"st{i}", "mock-stall", "tokens=20;tps=400;stall_ms=60000") for i in range(3)
    )
    race = Race(RacePlan(lanes, repeat=3, pause_s=30))
    texts = set()
    events = []
    async with asyncio.timeout(20):
        async for ev in race.events():
            events.append(ev)
            if isinstance(ev, LaneEvent) and isinstance(ev.event, TextDelta):
                texts.add(ev.lane)
                if len(texts) == 3:
                    race.stop()
    assert isinstance(events[-1], RaceFinished)
    result = race.result
    assert result.stopped and len(result.rounds) == 1
    assert [r.verdict.label for r in result.runs] == ["interrupted/cancelled"] * 3


async def test_every_run_is_saved_in_probe_format(mock: MockServer, tmp_path) -> None:
    lanes = tuple(_lane(mock, f"Lane {i}", "mock-normal", "tokens=5;tps=500") for i in range(2))
    race = Race(RacePlan(lanes, repeat=2), save_dir=tmp_path)
    await _collect(race)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [
        "round01-lane01-Lane-0.jsonl",
        "round01-lane02-Lane-1.jsonl",
        "round02-lane01-Lane-0.jsonl",
        "round02-lane02-Lane-1.jsonl",
    ]
    attempts = read_saved_run((tmp_path / files[0]).read_text())
    assert len(attempts) == 1 and attempts[0].end is not None
    assert attempts[0].end["verdict"]["outcome"] == "completed"
    assert all(r.saved and r.saved.endswith(".jsonl") for r in race.result.runs)
    json.dumps([r.stamps.to_json() for r in race.result.runs])


def test_a_plan_needs_two_to_sixteen_distinct_lanes(mock: MockServer) -> None:
    one = _lane(mock, "a", "mock-normal", "")
    with pytest.raises(ValueError, match="2–16 lanes"):
        RacePlan((one,))
    with pytest.raises(ValueError, match="differ"):
        RacePlan((one, one))
    with pytest.raises(ValueError, match="mode"):
        RacePlan((one, _lane(mock, "b", "mock-normal", "")), mode="relay")


async def test_a_lane_that_cannot_connect_does_not_hold_the_gate(mock: MockServer) -> None:
    dead = RunSpec("openai-chat", "http://127.0.0.1:9/v1", "m", RunSpec.user("x"))
    lanes = (Lane("dead", dead), _lane(mock, "alive", "mock-normal", "tokens=5;tps=500"))
    race = Race(RacePlan(lanes, gate_hold_s=60))
    async with asyncio.timeout(10):  # far below the 60 s hold: the dead lane left the gate
        await _collect(race)
    labels = [r.verdict.label for r in sorted(race.result.runs, key=lambda r: r.lane)]
    assert labels == ["interrupted/connect_failed", "completed/natural"]
    (round_,) = race.result.rounds
    assert round_.skew_ms == 0.0 and round_.t0_offsets_ms[0] is None


async def test_a_retried_run_is_one_run_with_its_attempts(mock: MockServer) -> None:
    flaky = _lane(mock, "flaky", "mock-http_500", "fail_first=1")
    lanes = (Lane("flaky", flaky.spec, retries=2), _lane(mock, "ok", "mock-normal", "tokens=5"))
    race = Race(RacePlan(lanes))
    await _collect(race)
    run = race.result.lane_runs(0)[0]
    assert run.verdict.label == "completed/natural" and len(run.verdict.attempts) == 2
    assert run.stamps.content_ns  # the stamps are the successful attempt's


async def test_streamscope_definition_from_stamps_matches_each_verdicts_metrics(
    mock: MockServer,
) -> None:
    lanes = (
        _lane(mock, "chat", "mock-usage_chunk", "tokens=15;tps=300"),
        _lane(mock, "anthropic", "mock-thinking", "tokens=15;tps=300", dialect="anthropic"),
        _lane(mock, "gemini", "mock-normal", "tokens=15;tps=300", dialect="gemini"),
    )
    race = Race(RacePlan(lanes))
    await _collect(race)
    keys = {
        "headers_ms": "headers_ms",
        "ttfb_ms": "ttfb_ms",
        "ttft_ms": "ttft_ms",
        "first_answer_ms": "first_answer_ms",
        "itl_ms": "itl_ms",
        "tpot_ms": "tpot_ms",
        "e2e_ms": "total_ms",
        "output_tokens_per_s": "output_tokens_per_s",
    }
    for run in race.result.runs:
        got = samples(run.stamps, "streamscope")
        metrics = run.verdict.metrics.to_json()
        for ours, theirs in keys.items():
            expected = metrics[theirs]
            value = got[ours][0] if got[ours] else None
            assert (value is None) == (expected is None), (run.lane, ours)
            if value is not None:
                assert value == pytest.approx(expected, abs=0.001), (run.lane, ours)
