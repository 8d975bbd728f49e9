"""How fast can the real window absorb a stream? `streamscope serve-mock` runs in its own
process (a server thread would share the GIL with the UI) and streams N tokens as fast as it
can into the window (offscreen by default). Prints tokens/s absorbed, event-loop lag p50/p99
from a 10 ms QTimer probe, peak RSS, and checks every token is in the view at the end.
Targets: ≥ 20,000 tok/s with lag p99 ≤ 50 ms on a 2-core machine (issue 4); a 1,000,000-token
run with every token in the view in ≤ 250 MB RSS for the whole app: window, engine and the
engine's network reader process (issue 10). The mock runs in its own process, not counted.

    python bench/gui_throughput.py [--tokens 20000] [--dialect openai-chat] [--tps 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import qasync
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from gui.app import SharedClient, build_window, settle_heap
from gui.pyside_fixes import collect_on_the_loop
from gui.request.values import RequestValues

PROBE_MS = 10


def start_mock() -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gui.launch", "serve-mock", "--port", "0"],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    urls: dict[str, str] = {}
    for line in proc.stdout:
        m = re.match(r"\s+(openai-chat|openai-responses|anthropic|gemini|ollama)\s+(\S+)", line)
        if m:
            urls[m.group(1)] = m.group(2)
        if len(urls) == 5:
            break
    return proc, urls


def peak_rss_mb(pid: int) -> float:
    """A live process's peak resident set (Linux: VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_pids(pid: int) -> list[int]:
    """A live process's children (Linux: /proc/PID/task/*/children): the engine's network
    reader process (`core/live/readerproc.py`)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def cpu_s(pid: int) -> float:
    """A live process's CPU time so far, user + system (Linux: /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def measure(args: argparse.Namespace, urls: dict[str, str], mock_pid: int) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="streamscope-bench-"))
    client = SharedClient()  # as gui.app.main does: made on first use (a probe)
    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    window = build_window(client, urls, tmp / "data", settings)
    window.resize(1600, 1000)
    window.show()
    window.build_plot()  # as gui.app.main does after the first frame, then settles the heap
    settle_heap()
    window.request_pane.set_values(
        RequestValues(
            dialect=args.dialect,
            tokens=args.tokens,
            tps=args.tps,
            max_tokens=args.tokens * 2,
            prompt="throughput",
        )
    )
    lags: list[float] = []
    last = started = time.perf_counter()

    def probe() -> None:
        nonlocal last
        now = time.perf_counter()
        lags.append(max(0.0, (now - last) * 1000 - PROBE_MS))
        if args.verbose and lags[-1] > 50:
            print(f"  lag {lags[-1]:.0f} ms at {now - started:.3f} s")
        last = now

    if args.verbose:  # collections that took over 10 ms, to tell them from the app's work
        collecting: list[float] = []

        def on_gc(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                collecting[:] = [time.perf_counter()]
            elif collecting and (took := time.perf_counter() - collecting[0]) > 0.01:
                gen = info["generation"]
                print(
                    f"  gc gen {gen} {took * 1000:.0f} ms at {time.perf_counter() - started:.3f} s"
                )

        gc.callbacks.append(on_gc)

    timer = QTimer()
    timer.setInterval(PROBE_MS)
    timer.timeout.connect(probe)
    done: asyncio.Future = asyncio.get_running_loop().create_future()
    streaming_peak: list[float] = []  # the window's peak when the verdict arrives

    def on_verdict(outcome: object) -> None:
        if not done.done():
            streaming_peak.append(peak_rss_mb(os.getpid()))
            done.set_result(outcome)

    window.controller.verdict_ready.connect(on_verdict)
    window.controller.warm_up()  # as the app does after its first frame
    await asyncio.sleep(1.5)  # let the window settle and the engine load before probing
    pids = {"window": os.getpid(), "engine": window.controller.engine.pid, "mock": mock_pid}
    readers = child_pids(window.controller.engine.pid)
    if readers:  # the engine's network reader has a process of its own (Linux)
        pids["reader"] = readers[0]
    cpu_before = {name: cpu_s(pid) for name, pid in pids.items()}
    started = last = time.perf_counter()
    timer.start()
    window.send()
    outcome = await asyncio.wait_for(done, 1800)
    elapsed = time.perf_counter() - started
    cpu = {name: cpu_s(pid) - cpu_before[name] for name, pid in pids.items()}
    timer.stop()
    await asyncio.sleep(0.1)
    # the peaks before the check below: joining the answer into one str is the bench's own
    # cost (a million tokens with an emoji: a 22 MB str), not the app's
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine_mb = peak_rss_mb(window.controller.engine.pid)  # the engine process's own peak
    reader_mb = peak_rss_mb(pids["reader"]) if "reader" in pids else 0.0
    view = window.stream_view
    complete = view.answer_text() == outcome.verdict.text and view.token_count() == args.tokens
    window.close()
    await window.shutdown()
    print(f"verdict          {outcome.verdict.label}")
    state = "all there" if complete else "MISSING"
    print(f"tokens in view   {view.token_count():,} of {args.tokens:,}: {state}")
    print(f"absorbed         {args.tokens / elapsed:,.0f} tok/s ({elapsed:.2f} s, send to verdict)")
    m = outcome.verdict.metrics
    print(
        f"{'':17}the stream itself: first token at {m.ttft_ms or 0:,.0f} ms, "
        f"{m.output_tokens_per_s or 0:,.0f} tok/s from first to last (core's figures)"
    )
    p50, p99, worst = percentile(lags, 0.5), percentile(lags, 0.99), max(lags, default=0.0)
    print(
        f"loop lag         p50 {p50:.1f} ms · p99 {p99:.1f} ms · max {worst:.1f} ms "
        f"({len(lags)} probes)"
    )
    total = rss_mb + engine_mb + reader_mb
    print(
        f"peak RSS         {rss_mb:,.0f} MB window + {engine_mb:,.0f} MB engine process "
        f"+ {reader_mb:,.0f} MB its network reader = {total:,.0f} MB"
    )
    print(f"{'':17}(the window's peak as the verdict arrived: {streaming_peak[0]:,.0f} MB)")
    per_token = " · ".join(f"{name} {1e6 * s / args.tokens:,.0f}" for name, s in cpu.items())
    print(f"CPU per token    {per_token} µs (send to verdict; 2 cores give 100 µs at 20k tok/s)")
    await client.aclose()
    return 0 if complete else 1


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=20_000)
    ap.add_argument("--tps", type=float, default=1_000_000.0)
    ap.add_argument("--dialect", default="openai-chat")
    ap.add_argument("--verbose", action="store_true", help="print each lag over 50 ms")
    args = ap.parse_args()
    proc, urls = start_mock()
    app = QApplication([sys.argv[0]])
    collect_on_the_loop()  # as the app does (gui/pyside_fixes.py)
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        with loop:
            return loop.run_until_complete(measure(args, urls, proc.pid))
    finally:
        proc.terminate()
        proc.wait(5)


if __name__ == "__main__":
    sys.exit(main())
