"""How true are the window's per-token times under load? A paced, byte-exact server in its
own process writes 400 chat chunks 5 ms apart and logs the monotonic time of each write;
each gap between two stamped reads is compared with the gap between the same two writes
(only gaps: no clock alignment needed). Measured through the CLI (`streamscope probe
--save`) and through the window, both while a second window of the same app streams
5,000 tok/s from the mock (`serve-mock`, its own process). Prints per-gap error p50, p99
and max. Target (issue 10): the window under that load p50 ≤ 0.1 ms, p99 ≤ 1 ms.

It prints how the scheduler runs the network reader process (`readerproc.prefer_latency`).

    python bench/gui_timing.py [--chunks 400] [--every-ms 5] [--load-tps 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from bisect import bisect_left
from itertools import pairwise
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# --- the paced server (its own process: `gui_timing.py --serve PORTFILE LOGFILE ...`) ----


def serve(port_file: str, log_file: str, chunks: int, every_ms: float) -> None:
    """One paced chat stream per connection; each write's (t_ns, body bytes so far) is
    appended to the log as one JSON line per request."""
    srv = socket.create_server(("127.0.0.1", 0))
    Path(port_file).write_text(str(srv.getsockname()[1]))
    while True:
        conn, _ = srv.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            (
                int(x.split(b":")[1])
                for x in head.split(b"\r\n")
                if x.lower().startswith(b"content-length")
            ),
            0,
        )
        while len(body) < length:
            body += conn.recv(65536)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )
        writes: list[tuple[int, int]] = []
        sent = 0
        step = int(every_ms * 1e6)
        due = time.monotonic_ns() + step
        for i in range(chunks + 2):
            if i < chunks:
                delta = {"content": f"t{i} "}
                event = {
                    "id": "x",
                    "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
                }
            elif i == chunks:
                event = {
                    "id": "x",
                    "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                }
            payload = f"data: {json.dumps(event)}\n\n" if i <= chunks else "data: [DONE]\n\n"
            raw = payload.encode()
            while time.monotonic_ns() < due - 300_000:
                time.sleep(0.0002)
            while time.monotonic_ns() < due:
                pass
            began = time.monotonic_ns()
            conn.sendall(b"%x\r\n%s\r\n" % (len(raw), raw))
            sent += len(raw)
            writes.append((time.monotonic_ns(), sent, began))
            due += step
        conn.sendall(b"0\r\n\r\n")
        conn.close()
        with open(log_file, "a") as log:
            log.write(json.dumps(writes) + "\n")


# --- pairing and figures -------------------------------------------------------------------


def gap_errors(reads: list[tuple[int, int]], writes: list[Any]) -> list[float]:
    """reads: (t_ns, body bytes so far); writes: (t_ns the write returned, body bytes so far,
    t_ns it began). Each write's arrival is the stamp of the read that brought its last
    byte (two writes read together share one stamp: the reader was late). On loopback the
    segment reaches the reader inside the write call, so the true gap between two arrivals
    lies in the interval the write log allows; each gap's error is its distance from that
    interval (in ms). A server preempted as its write returns (the reader it woke takes the
    core) so widens the interval instead of faking an error."""
    ends = [size for _, size in reads]
    arrivals = []
    for w in writes:
        i = bisect_left(ends, w[1])
        if i < len(reads):
            arrivals.append((reads[i][0], (w[0], w[2] if len(w) > 2 else w[0])))
    errors = []
    for (r0, w0), (r1, w1) in pairwise(arrivals):
        gap, shortest, longest = r1 - r0, w1[1] - w0[0], w1[0] - w0[1]
        errors.append(max(shortest - gap, gap - longest, 0) / 1e6)
    return errors


def reader_policy() -> str:
    """What the scheduler gives a network reader process here (`readerproc.prefer_latency`):
    a short slice on Linux 6.12+."""
    code = "from core.live.readerproc import prefer_latency; print(prefer_latency())"
    got = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    return got.stdout.strip() or "unknown"


def write_calls(writes: list[list[int]]) -> str:
    from statistics import quantiles

    took = [(w[0] - w[2]) / 1e6 for w in writes]
    q = quantiles(took, n=100, method="inclusive")
    return (
        f"the server's write calls took p50 {q[49]:.3f} ms, p99 {q[98]:.3f} ms, "
        f"max {max(took):.3f} ms"
    )


def cumulative(chunks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    total, out = 0, []
    for t, size in chunks:
        total += size
        out.append((t, total))
    return out


def merged(reads: list[tuple[int, int]], writes: list[Any]) -> int:
    """How many writes reached the client in the same network read as the next one (a read
    that ends past the write's end, not at it): the reader was late by more than the gap
    between them, and TCP hands the queued segments over as one, stamped with the last
    one's arrival. `reads` as `gap_errors` takes them."""
    ends = {size for _, size in reads}
    return sum(1 for w in writes[:-1] if w[1] not in ends)


def figures(name: str, errors: list[float], late: int) -> str:
    from statistics import quantiles

    if len(errors) < 10:
        return f"{name:<44} too few paired gaps ({len(errors)})"
    q = quantiles(errors, n=100, method="inclusive")
    return (
        f"{name:<44} p50 {q[49]:.3f} ms · p99 {q[98]:.3f} ms · max {max(errors):.3f} ms"
        f"  ({len(errors)} gaps, {late} writes read with the next)"
    )


# --- the measurement -----------------------------------------------------------------------


def start_process(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True)


def mock_urls(proc: subprocess.Popen[str]) -> dict[str, str]:
    import re

    urls: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        m = re.match(r"\s+(openai-chat|openai-responses|anthropic|gemini|ollama)\s+(\S+)", line)
        if m:
            urls[m.group(1)] = m.group(2)
        if len(urls) == 5:
            return urls
    raise SystemExit("serve-mock did not start")


async def measure(
    args: argparse.Namespace, paced_url: str, log_file: Path, urls: dict[str, str]
) -> None:
    import qasync  # noqa: F401  (the loop is qasync's; imported for clarity)
    from PySide6.QtCore import QSettings

    from core import new_client
    from gui.app import build_window, settle_heap
    from gui.request.values import RequestValues

    tmp = Path(tempfile.mkdtemp(prefix="streamscope-timing-"))
    client = new_client()
    windows = []
    for name in ("load", "measured"):
        settings = QSettings(str(tmp / f"{name}.ini"), QSettings.Format.IniFormat)
        win = build_window(client, urls, tmp / name, settings)
        win.resize(1600, 1000)
        win.show()
        windows.append(win)
    load, measured = windows
    settle_heap()
    for win in windows:
        win.controller.warm_up()
    await asyncio.sleep(1.0)  # engines up

    def start_load() -> asyncio.Future:
        done = asyncio.get_running_loop().create_future()
        load.controller.verdict_ready.connect(lambda o: done.done() or done.set_result(o))
        load.request_pane.set_values(
            RequestValues(
                tokens=args.load_tokens, tps=args.load_tps, max_tokens=args.load_tokens * 2
            )
        )
        load.send()
        return done

    if args.load_tps > 0:
        loaded = start_load()
        await asyncio.sleep(1.0)  # the load is streaming
    else:  # --load-tps 0: the figures with nothing else running
        loaded = asyncio.get_running_loop().create_future()
        loaded.set_result(None)

    # the CLI under the same load
    save = tmp / "cli.jsonl"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gui.launch",
        "probe",
        "--base-url",
        paced_url,
        "--dialect",
        "openai-chat",
        "--model",
        "paced",
        "--save",
        str(save),
        "--no-history",
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    await proc.communicate()
    cli_writes = json.loads(log_file.read_text().splitlines()[-1])
    cli_reads = []
    for line in save.read_text().splitlines():
        row = json.loads(line)
        if "t_ns" in row and ("b64" in row or "data" in row):
            raw = base64.b64decode(row.get("b64") or row.get("data"))
            cli_reads.append((row["t_ns"], len(raw)))
    cli_errors = gap_errors(cumulative(cli_reads), cli_writes)
    cli_late = merged(cumulative(cli_reads), cli_writes)

    # the window under the same load
    stamps: list[tuple[int, int]] = []
    measured.controller.chunks_received.connect(
        lambda chunks: stamps.extend((c.t_ns, c.size) for c in chunks)
    )
    done = asyncio.get_running_loop().create_future()
    measured.controller.verdict_ready.connect(lambda o: done.done() or done.set_result(o))
    from core import RunSpec

    measured.controller.start(
        RunSpec("openai-chat", paced_url, "paced", RunSpec.user("timing"), profile="paced")
    )
    outcome = await asyncio.wait_for(done, 60)
    window_writes = json.loads(log_file.read_text().splitlines()[-1])
    window_errors = gap_errors(cumulative(stamps), window_writes)
    window_late = merged(cumulative(stamps), window_writes)
    still_loaded = not loaded.done() or args.load_tps <= 0
    await asyncio.wait_for(loaded, 120)

    print(
        f"paced stream: {args.chunks} chunks every {args.every_ms:g} ms; second stream "
        f"{args.load_tps:,.0f} tok/s in another window of the app"
        f"{'' if still_loaded else ' (it ENDED before the window run: raise --load-tokens)'}"
    )
    print(figures("CLI (probe), under the same load", cli_errors, cli_late))
    print(figures("window, under the load", window_errors, window_late))
    print(f"  ({write_calls(window_writes)})")
    print(f"window verdict: {outcome.verdict.label}; measured {time.strftime('%Y-%m-%d')}")
    print(f"the network reader process ran with {reader_policy()} scheduling")
    for win in windows:
        win.close()
        await win.shutdown()
    await client.aclose()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunks", type=int, default=400)
    ap.add_argument("--every-ms", type=float, default=5.0)
    ap.add_argument("--load-tps", type=float, default=5000.0)
    ap.add_argument("--load-tokens", type=int, default=60_000)
    ap.add_argument("--serve", nargs=2, metavar=("PORTFILE", "LOGFILE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve[0], args.serve[1], args.chunks, args.every_ms)
        return 0
    import qasync
    from PySide6.QtWidgets import QApplication

    tmp = Path(tempfile.mkdtemp(prefix="streamscope-paced-"))
    port_file, log_file = tmp / "port", tmp / "writes.jsonl"
    paced = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            str(port_file),
            str(log_file),
            "--chunks",
            str(args.chunks),
            "--every-ms",
            str(args.every_ms),
        ],
    )
    mock = start_process("-m", "gui.launch", "serve-mock", "--port", "0")
    try:
        urls = mock_urls(mock)
        while not port_file.exists() or not port_file.read_text():
            time.sleep(0.05)
        paced_url = f"http://127.0.0.1:{port_file.read_text()}/v1"
        app = QApplication([sys.argv[0]])
        from gui.pyside_fixes import collect_on_the_loop

        collect_on_the_loop()  # as the app does (gui/pyside_fixes.py)
        app.setQuitOnLastWindowClosed(False)
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        with loop:
            loop.run_until_complete(measure(args, paced_url, log_file, urls))
    finally:
        for proc in (paced, mock):
            proc.terminate()
            proc.wait(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
