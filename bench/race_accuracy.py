"""How true are a race's stamps? Each lane's content events are paired with the mock's own
log of when it wrote those bytes (same monotonic clock: the mock runs in-process, sharing the
GIL, as in bench/timing_accuracy.py), and each lane's TTFT and ITL are compared with the
write log's. Prints figures; asserts nothing.

    python bench/race_accuracy.py [--lanes 4 16] [--rounds 5] [--tokens 100] [--tps 100]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import (
    Lane,
    LaneEvent,
    Race,
    RacePlan,
    ResponseStarted,
    RunSpec,
    new_client,
    percentile,
)
from core.mock import start_mock_server


async def race_once(srv, lanes: int, args: argparse.Namespace) -> tuple[list[float], ...]:
    params = f"tokens={args.tokens};tps={args.tps}"
    plan = RacePlan(
        tuple(
            Lane(
                f"lane {i}",
                RunSpec(
                    "openai-chat",
                    srv.base_urls["openai-chat"],
                    "mock-normal",
                    RunSpec.user(f"accuracy {i}"),
                    max_tokens=args.tokens * 2,
                    headers={"x-mock-params": params},
                ),
            )
            for i in range(lanes)
        ),
        repeat=args.rounds,
    )
    client = new_client()
    race = Race(plan, client=client)
    rids: dict[tuple[int, int], str] = {}
    async for ev in race.events():
        if isinstance(ev, LaneEvent) and isinstance(ev.event, ResponseStarted):
            rids[(ev.round, ev.lane)] = ev.event.headers["x-request-id"]
    await client.aclose()
    log = list(srv.write_log)
    by_rid: dict[str, list[int]] = {}
    for t, rid, _ in log:
        by_rid.setdefault(rid, []).append(t)
    lags, ttft_err, itl_err = [], [], []
    for run in race.result.runs:
        writes = by_rid.get(rids.get((run.round, run.lane), ""), [])
        if run.t0_abs_ns is None or not writes or len(run.stamps.content_ns) < 2:
            continue
        matched = []
        j = 0
        for t_rel in run.stamps.content_ns:
            t = run.t0_abs_ns + t_rel
            while j + 1 < len(writes) and writes[j + 1] <= t:
                j += 1
            matched.append(writes[j])
            lags.append((t - writes[j]) / 1e3)
        content = run.stamps.content_ns
        ttft_err.append((content[0] - (matched[0] - run.t0_abs_ns)) / 1e3)
        n = len(content) - 1
        ours = (content[-1] - content[0]) / n
        theirs = (matched[-1] - matched[0]) / n
        itl_err.append(abs(ours - theirs) / 1e3)
    return lags, ttft_err, itl_err


def line(name: str, values: list[float]) -> str:
    v = sorted(values)
    return (
        f"{name} p50 {percentile(v, 50):,.0f} µs · p99 {percentile(v, 99):,.0f} µs · "
        f"max {v[-1]:,.0f} µs"
    )


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lanes", type=int, nargs="+", default=[4, 16])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--tokens", type=int, default=100)
    ap.add_argument("--tps", type=float, default=100)
    args = ap.parse_args()
    print(
        f"in-process mock, {args.tokens} tokens at {args.tps:g} tok/s per lane, "
        f"{args.rounds} rounds, {time.strftime('%F')}"
    )
    with start_mock_server() as srv:
        for lanes in args.lanes:
            lags, ttft_err, itl_err = await race_once(srv, lanes, args)
            print(f"{lanes} lanes, {len(lags)} content reads:")
            print("  " + line("write → stamped arrival:", lags))
            print("  " + line("TTFT error (vs the first content write):", ttft_err))
            print("  " + line("ITL error (vs the write log's mean gap):", itl_err))


if __name__ == "__main__":
    asyncio.run(main())
