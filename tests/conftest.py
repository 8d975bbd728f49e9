from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test keeps its history store (and any data) in its own temporary directory,
    never in the real user data directory."""
    path = tmp_path / "streamscope-data"
    monkeypatch.setenv("STREAMSCOPE_DATA", str(path))
    return path
