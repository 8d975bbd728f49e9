"""How close together do a race's lanes send their request headers? `streamscope serve-mock`
runs in its own process; races of 2, 4, 8 and 16 lanes (one lane = one connection) run from
here, and each round's skew (latest t0 − earliest t0, httpx's send_request_headers trace)
is collected. Prints figures; asserts nothing.

    python bench/race_skew.py [--rounds 30] [--tokens 20] [--tps 200]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import Lane, Race, RacePlan, RunSpec, new_client, percentile


def start_mock() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gui.launch", "serve-mock", "--port", "0"],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        m = re.match(r"\s+openai-chat\s+(\S+)", line)
        if m:
            return proc, m.group(1)
    raise SystemExit("the mock did not start")


async def skews(base_url: str, lanes: int, args: argparse.Namespace) -> list[float]:
    params = f"tokens={args.tokens};tps={args.tps}"
    plan = RacePlan(
        tuple(
            Lane(
                f"lane {i}",
                RunSpec(
                    "openai-chat",
                    base_url,
                    "mock-normal",
                    RunSpec.user(f"skew {i}"),
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
    async for _ in race.events():
        pass
    await client.aclose()
    labels = {r.verdict.label for r in race.result.runs}
    if labels != {"completed/natural"}:
        print(f"  ({lanes} lanes: {sorted(labels)})")
    return [r.skew_ms for r in race.result.rounds if r.skew_ms is not None]


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--tokens", type=int, default=20)
    ap.add_argument("--tps", type=float, default=200)
    args = ap.parse_args()
    proc, base_url = start_mock()
    try:
        print(f"{args.rounds} rounds per race, mock in its own process, {time.strftime('%F')}")
        for lanes in (2, 4, 8, 16):
            values = sorted(await skews(base_url, lanes, args))
            print(
                f"{lanes:>2} lanes: start skew p50 {percentile(values, 50):.2f} ms · "
                f"p90 {percentile(values, 90):.2f} ms · max {values[-1]:.2f} ms"
            )
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    asyncio.run(main())
