"""A recording process killed with SIGKILL mid-stream: the store keeps every chunk up to
its last commit, and the next open marks the run interrupted with `recording_cut`."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.mock import MockServer
from core.mock.script import reply_text
from core.record.history import HistoryStore

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

CHILD = """
import sys
from core.cli import main
main(["probe", "--base-url", sys.argv[1], "--dialect", "openai-chat", "--model", "mock-normal",
      "--header", "x-mock-params: tokens=2000;tps=40", "--json"])
"""


def committed(path: Path) -> int:
    """Chunks another connection can see: exactly what has been committed."""
    if not path.exists():
        return 0
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        return db.execute("SELECT count(*) FROM chunks").fetchone()[0]
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0
    finally:
        db.close()


def wait_for(child: subprocess.Popen, path: Path, count: int, deadline: float) -> int:
    """Poll the store until `count` chunks are committed; returns how many there are."""
    while (now := committed(path)) < count:
        assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
        assert time.monotonic() < deadline, f"no commit reached {count} chunks"
        time.sleep(0.01)
    return now


def test_kill_9_keeps_chunks_up_to_the_last_commit(mock: MockServer, data_dir: Path) -> None:
    path = data_dir / "history.sqlite3"
    root = Path(__file__).resolve().parents[3]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, mock.base_urls["openai-chat"]],
        cwd=root,
        env={**os.environ, "STREAMSCOPE_DATA": str(data_dir)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60  # a watchdog, not a synchronisation
        first = wait_for(child, path, 1, deadline)  # a first commit of chunks...
        seen = wait_for(child, path, first + 1, deadline)  # ...and a later one: mid-stream
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
        if child.stderr:
            child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    with HistoryStore.open() as store:
        (run,) = store.list_runs()
        saved = store.saved_session(run.id)
        verdict = store.verdict_json(run.id)
    assert run.state == "interrupted" and "recording_cut" in run.warnings
    (attempt,) = saved.attempts
    assert attempt.end is None
    assert len(attempt.chunks) >= seen  # nothing that was committed is lost
    t = [c[0] for c in attempt.chunks]
    assert t == sorted(t)
    assert verdict["outcome"] == "interrupted" and "recording_cut" in verdict["warnings"]
    assert verdict["text"] and reply_text(2000).startswith(verdict["text"])
    assert len(verdict["text"]) < len(reply_text(2000))
