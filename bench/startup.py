"""Process start → main window shown (exposed), for `streamscope` with no arguments.
Spawns a fresh interpreter running `gui.app.main([])` (offscreen by default) with its
settings and data in a temporary directory, and reports the wall time until the window is
exposed, best and median of N runs, and until the latency graph is built too (it is built on
the loop's turn after the first frame: see `MainWindow.latency_plot`). Target (issue 4):
window shown ≤ 1.5 s on this machine.

    python bench/startup.py [--runs 5]

What the first frame does not need waits for it (the window's `first_frame_shown`, see
gui/app.py): the mock's socket listens before the window is built but it serves (and imports
aiohttp) after; the engine process, the HTTP client (httpx) and the heap freeze come after too;
Compare and History are built when their tab is first shown; `core` loads names on first use;
the latency graph (pyqtgraph, 0.3-0.5 s to import here) is built right after the first frame.
What is left before the first frame is mostly PySide6 and numpy.

The child inherits the environment: with PYTHONDONTWRITEBYTECODE=1 and no __pycache__ the
project's own modules are compiled on every start (0.1-0.2 s more than with bytecode).
The machine is shared: compare two trees by interleaving single runs (A, B, A, B, ...).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import sys
from PySide6.QtCore import QTimer
import gui.app as app

original = app.serve

async def serve(window, client, files=()):
    def check():
        handle = window.windowHandle()
        if handle is not None and handle.isExposed():
            print("shown", flush=True)
            QTimer.singleShot(0, built)
        else:
            QTimer.singleShot(2, check)

    def built():
        if window._latency_plot is not None:
            print("graph", flush=True)
            window.close()
        else:
            QTimer.singleShot(2, built)
    QTimer.singleShot(0, check)
    return await original(window, client, files)

app.serve = serve
sys.exit(app.main([]))
"""


def once(root: Path) -> tuple[float, float]:
    tmp = tempfile.mkdtemp(prefix="streamscope-startup-")
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        "XDG_CONFIG_HOME": tmp,
        "XDG_DATA_HOME": tmp,
        "PYTHONPATH": str(root),
    }
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    stamps: dict[str, float] = {}
    for line in proc.stdout:
        stamps[line.strip()] = time.perf_counter() - started
        if line.strip() == "graph":
            break
    if "graph" not in stamps:
        raise SystemExit(f"the window never showed its graph (exit code {proc.wait()})")
    proc.wait(10)
    return stamps["shown"], stamps["graph"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    root = Path(__file__).resolve().parent.parent
    runs = [once(root) for _ in range(args.runs)]
    for label, times in (
        ("window shown", [shown for shown, _ in runs]),
        ("graph built ", [graph for _, graph in runs]),
    ):
        print(
            f"process start → {label}: best {min(times):.2f} s · median "
            f"{statistics.median(times):.2f} s over {len(times)} runs"
            + (" (target ≤ 1.5 s)" if label == "window shown" else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
