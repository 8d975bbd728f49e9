"""Where StreamScope keeps its data (DESIGN §6): `$STREAMSCOPE_DATA`, else the platform's
user data directory."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = ["data_dir", "history_path"]


def data_dir() -> Path:
    env = os.environ.get("STREAMSCOPE_DATA")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("streamscope", appauthor=False))


def history_path() -> Path:
    return data_dir() / "history.sqlite3"
