"""Hostile bodies against the caps (issue 11 item 12): peak RSS and time per case, each run
in a fresh client process against a loopback server in this one (so the server's memory is
not counted). Prints one line per case; asserts nothing.

    python bench/hostile.py [--only NAME]

Cases: a 1 GiB text/html 200 body; gzip bombs (~1 MB on the wire, 1 GiB expanded) as one
endless line and as keep-alive comments; a 64 MiB `data:` line that never ends (the decoder
alone, caps raised, and a live run at the default caps); an 80 KB pasted-log line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from tests.core.hostile_server import HostileServer, Reply  # noqa: E402

MiB = 1024 * 1024

CHILD = r"""
import asyncio, json, resource, sys, time
from core import RunSpec, run
async def main(url):
    spec = RunSpec("openai-chat", url, "m", RunSpec.user("hi"))
    start = time.perf_counter()
    last = None
    async for event in run(spec):
        last = event
    took = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    v = last.verdict
    print(json.dumps({"verdict": v.label, "s": took, "rss_mb": rss,
                      "why": v.explanation[:90]}))
asyncio.run(main(sys.argv[1]))
"""


def gzip_pieces(unit: bytes, total: int, piece: int = 64 * 1024) -> list[bytes]:
    """`unit` repeated to `total` bytes, gzip-compressed, cut into wire pieces."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = unit * (MiB // len(unit))
    out = b"".join(comp.compress(block) for _ in range(total // len(block))) + comp.flush()
    return [out[i : i + piece] for i in range(0, len(out), piece)]


def live_case(server: HostileServer, name: str, reply: Reply, note: str = "") -> None:
    server.serve(f"/{name}/v1/chat/completions", reply)
    url = f"{server.url}/{name}/v1"
    done = subprocess.run(
        [sys.executable, "-c", CHILD, url], capture_output=True, text=True, cwd=ROOT, check=False
    )
    if done.returncode != 0:
        print(f"{name:28} FAILED: {done.stderr.strip().splitlines()[-1:]}")
        return
    r = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"{name:28} {r['verdict']:32} {r['s']:7.2f} s  peak RSS {r['rss_mb']:7.0f} MB  {note}"
        f"\n{'':28} ({r['why']}…)"
    )


def decoder_line(total_mib: int) -> None:
    from core.stream.caps import Caps
    from core.stream.ndjson import NDJSONDecoder
    from core.stream.sse import SSEDecoder

    piece = b"a" * (64 * 1024)
    for cls in (SSEDecoder, NDJSONDecoder):
        d = cls(Caps(line_chars=4 * total_mib * MiB, event_chars=4 * total_mib * MiB))
        start = time.perf_counter()
        d.feed(b"data: ")
        for _ in range(total_mib * 16):
            d.feed(piece)
        took = time.perf_counter() - start
        print(
            f"{cls.__name__ + f' {total_mib} MiB line':28} {'(decoder only, caps raised)':32} "
            f"{took:7.2f} s  (was 77 s for 64 MiB: quadratic)"
        )


def pasted_line() -> None:
    from core.record.diagnose import DiagnoseError, diagnose_bytes

    for label, line in (
        ("log 80 KB timestamp line", "2024-01-01 " + "1" * 80_000),
        ("log 80 KB escaped line", "b'" + "\\n" * 40_000 + "x'"),
    ):
        start = time.perf_counter()
        with contextlib.suppress(DiagnoseError):
            diagnose_bytes(((line + "\n") * 2).encode())
        took = time.perf_counter() - start
        print(f"{label:28} {'(diagnose)':32} {took:7.3f} s  (was 31 s)")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    server = HostileServer()
    try:
        cases = {
            "html_1GiB": lambda: live_case(
                server,
                "html_1GiB",
                Reply(
                    lambda: (b"<p>" + b"x" * (MiB - 3) for _ in range(1024)),
                    headers={"Content-Type": "text/html"},
                ),
                "(was 4.4 GB)",
            ),
            "gzip_bomb_line": lambda: live_case(
                server,
                "gzip_bomb_line",
                Reply(
                    gzip_pieces(b"0" * 1024, 1024 * MiB),
                    headers={"Content-Type": "text/event-stream", "Content-Encoding": "gzip"},
                ),
                "(was 3.2 GB)",
            ),
            "gzip_bomb_comments_1.5GiB": lambda: live_case(
                server,
                "gzip_bomb_comments_1.5GiB",
                Reply(
                    gzip_pieces(b": " + b"0" * 1021 + b"\n", 1536 * MiB),
                    headers={"Content-Type": "text/event-stream", "Content-Encoding": "gzip"},
                ),
            ),
            "endless_line_64MiB": lambda: live_case(
                server,
                "endless_line_64MiB",
                Reply(lambda: [b"data: ", *(b"a" * MiB for _ in range(64))]),
                "(stops at the 16 MiB line cap)",
            ),
            "decoder": lambda: decoder_line(64),
            "pastelog": pasted_line,
        }
        for name, case in cases.items():
            if args.only and args.only not in name:
                continue
            case()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
