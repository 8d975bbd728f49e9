"""How true are our timestamps? Compare each content event's arrival stamp with the mock's
own log of when it wrote those bytes (same monotonic clock, same process), and the
end-to-end overhead of our pipeline. Prints figures; asserts nothing.

    python bench/timing_accuracy.py [--runs 5] [--tokens 400] [--tps 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from core import ChunkReceived, RunFinished, RunSpec, TextDelta, new_client, run
from core.mock import start_mock_server


async def one(spec: RunSpec, client) -> tuple[list[int], int | None]:
    arrivals: list[int] = []
    t0 = None
    async for ev in run(spec, client=client):
        if isinstance(ev, ChunkReceived):
            arrivals.append(ev.t_ns)
        elif isinstance(ev, TextDelta):
            pass
        elif isinstance(ev, RunFinished):
            t0 = ev.t0_abs_ns
    return arrivals, t0


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tokens", type=int, default=400)
    ap.add_argument("--tps", type=int, default=200)
    args = ap.parse_args()
    lags_us: list[float] = []
    with start_mock_server() as srv:
        client = new_client()
        for dialect in ("openai-chat", "anthropic"):
            for _ in range(args.runs):
                before = len(srv.write_log)
                spec = RunSpec(
                    dialect,
                    srv.base_urls[dialect],
                    "mock-normal",
                    RunSpec.user("timing"),
                    max_tokens=4096,
                    headers={"x-mock-params": f"tokens={args.tokens};tps={args.tps}"},
                )
                arrivals, t0 = await one(spec, client)
                writes = [w[0] for w in list(srv.write_log)[before:]]
                # pair each read with the last write that precedes it
                j = 0
                for t_rel in arrivals:
                    t_abs = t0 + t_rel
                    while j + 1 < len(writes) and writes[j + 1] <= t_abs:
                        j += 1
                    if writes and writes[j] <= t_abs:
                        lags_us.append((t_abs - writes[j]) / 1e3)
        await client.aclose()
    lags_us.sort()
    q = statistics.quantiles(lags_us, n=100)
    print(f"reads matched to mock writes: {len(lags_us)}")
    print(
        f"write → stamped arrival: p50 {q[49]:.0f} µs · p95 {q[94]:.0f} µs · "
        f"max {lags_us[-1]:.0f} µs"
    )
    print(f"(measured {time.strftime('%Y-%m-%d')}, in-process mock: server thread shares the GIL)")


if __name__ == "__main__":
    asyncio.run(main())
