"""The history store at size: 10,000 synthetic runs (each with a real 200-chunk stream),
then open, list and search latency and the database size; and the commit interval of a live
recording (how long a chunk waits before it is committed: what a `kill -9` can lose).
Target (issue 13): 10,000 runs open and list within 200 ms; commits at least every 250 ms.

    python bench/history.py [--runs 10000] [--chunks 200]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import RunSpec, SessionFinished, run_session
from core.mock import start_mock_server
from core.record.history import HistoryStore
from core.record.savefile import SavedAttempt, SavedSession

WORDS = [
    *("stream", "token", "latency", "relay", "gateway", "cut", "finish", "reason", "usage"),
    *("model", "prompt", "answer", "graph", "verdict", "retry", "continue", "stall"),
    *("timeout", "zebra", "owl", "falcon", "river", "mountain", "coffee", "demo"),
]
MODELS = ("gpt-4o-mini", "claude-sonnet", "gemini-flash", "llama3", "mock-normal")
OUTCOMES = ("completed", "completed", "completed", "truncated", "interrupted", "http_error")


def synthetic_session(chunks: int) -> SavedSession:
    body = [
        ("data: " + json.dumps({"choices": [{"delta": {"content": f" word{i}"}}]}) + "\n\n")
        for i in range(chunks)
    ]
    body.append('data: {"choices":[{"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')
    header = {
        "kind": "header", "format": "streamscope-run/1", "time": "2026-01-01T00:00:00Z",
        "attempt": 0, "segment": 0, "dialect": "openai-chat",
        "request": {"method": "POST", "url": "http://127.0.0.1:8765/v1/chat/completions",
                    "headers": {"Authorization": "Bearer ***"}, "body": {"model": "m"}},
        "response": {"status": 200, "headers": {"content-type": "text/event-stream"}},
    }  # fmt: skip
    data = [(20_000_000 + i * 10_000_000, part.encode()) for i, part in enumerate(body)]
    end = {"kind": "end", "transport": "eof", "total_ns": data[-1][0], "verdict": {}}
    return SavedSession([SavedAttempt(header, data, end)])


def fill(store: HistoryStore, runs: int, chunks: int) -> float:
    saved = synthetic_session(chunks)
    from core.record.diagnose import replay_session

    verdict = replay_session(saved).to_json()
    t = time.perf_counter()
    db = store.db
    db.execute("BEGIN IMMEDIATE")
    for i in range(runs):
        day = 1 + i * 364 // runs
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1767225600 + day * 86400 + i))
        words = " ".join(WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(12))
        run_id = store._new_run(
            {"started": when, "source": "bench", "dialect": "openai-chat",
             "base_url": "http://127.0.0.1:8765/v1", "profile": "bench",
             "model": MODELS[i % len(MODELS)], "prompt": f"run {i}: {words}"},
            "finished", None,
        )  # fmt: skip
        store._write_attempts(run_id, saved.attempts)
        v = {**verdict, "outcome": OUTCOMES[i % len(OUTCOMES)], "text": f"{words} answer {i}"}
        store._set_verdict(run_id, v, "finished")
    db.execute("COMMIT")
    return time.perf_counter() - t


def timed(fn, repeat: int = 5) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best * 1000, result


async def commit_lag(tokens: int, tps: int) -> tuple[list[float], list[float], int]:
    """A live recording from the mock: intervals between commits, and how long each chunk
    waited between its arrival and the commit that holds it."""
    with start_mock_server() as mock, HistoryStore.open() as store:
        spec = RunSpec(
            "openai-chat", mock.base_urls["openai-chat"], "mock-normal", RunSpec.user("hi"),
            headers={"x-mock-params": f"tokens={tokens};tps={tps}"},
        )  # fmt: skip
        recorder = store.recorder(spec, source="bench")
        arrivals: list[float] = []
        chunk = recorder.chunk

        def stamped(t_ns: int, data: bytes) -> None:
            arrivals.append(time.monotonic())
            chunk(t_ns, data)

        recorder.chunk = stamped  # type: ignore[method-assign]
        async for event in run_session(spec, recorder=recorder):
            if isinstance(event, SessionFinished):
                break
        commits = list(recorder.commit_times)  # before close(): the live commits only
        recorder.close()
    intervals = [(b - a) * 1000 for a, b in itertools.pairwise(commits)]
    waits = []
    for t in arrivals:
        later = [c for c in commits if c >= t]
        if later:
            waits.append((later[0] - t) * 1000)
    return intervals, waits, len(arrivals)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--chunks", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["STREAMSCOPE_DATA"] = tmp
        path = Path(tmp) / "history.sqlite3"
        with HistoryStore.open(path) as store:
            took = fill(store, args.runs, args.chunks)
            store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
        print(f"filled {args.runs:,} runs × {args.chunks + 1} chunks in {took:.1f} s")
        print(f"database size: {size / 1e6:,.1f} MB ({size / args.runs / 1024:.1f} KiB per run)")
        t = time.perf_counter()
        store = HistoryStore.open(path)
        opened = (time.perf_counter() - t) * 1000
        all_ms, rows = timed(lambda: store.list_runs())
        print(f"open: {opened:.1f} ms · list all {len(rows):,} runs: {all_ms:.1f} ms "
              f"· open + list: {opened + all_ms:.1f} ms (target ≤ 200 ms)")  # fmt: skip
        page_ms, _ = timed(lambda: store.list_runs(limit=50))
        print(f"list newest 50: {page_ms:.2f} ms")
        for query in ("zebra", "falcon coffee", "answer 9999", "nomatchword"):
            ms, hits = timed(lambda q=query: store.list_runs(search=q))
            print(f"search {query!r}: {ms:.1f} ms, {len(hits):,} hits")
        for label, kw in (("model", {"model": "llama3"}), ("outcome", {"outcome": "truncated"}),
                          ("since", {"since": "2026-12-01"})):  # fmt: skip
            ms, hits = timed(lambda kw=kw: store.list_runs(**kw))
            print(f"filter by {label}: {ms:.1f} ms, {len(hits):,} rows")
        ms, _ = timed(lambda: store.replay(rows[0].id))
        print(f"open one run (re-judged from its chunks): {ms:.1f} ms")
        store.close()
        intervals, waits, n = asyncio.run(commit_lag(400, 200))
        print(
            f"live recording, {n} chunks at 200 tok/s: {len(intervals) + 1} commits, interval "
            f"median {statistics.median(intervals):.0f} ms, max {max(intervals):.0f} ms; "
            f"a chunk waits for its commit at most {max(waits):.0f} ms "
            f"(median {statistics.median(waits):.0f} ms)"
        )


if __name__ == "__main__":
    main()
