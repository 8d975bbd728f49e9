"""The console script: subcommands never import Qt; no display → one line, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_launcher(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys; from gui.launch import main; rc = main(sys.argv[1:]); "
        "print('QT_LOADED' if 'PySide6' in sys.modules else 'NO_QT'); sys.exit(rc)"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_subcommand_imports_no_qt() -> None:
    sample = str(ROOT / "resources" / "samples" / "cut-before-done.sse")
    done = run_launcher(["diagnose", sample], {"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert "eof_before_terminator" in done.stdout
    assert done.stdout.strip().endswith("NO_QT")


def test_window_without_display_says_so_in_one_line() -> None:
    done = run_launcher([], {"PATH": "/usr/bin:/bin"})
    assert done.returncode == 2
    assert "no display" in done.stderr and done.stderr.count("\n") == 1
