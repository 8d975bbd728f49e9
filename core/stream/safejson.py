"""`json.loads` for untrusted text: nesting deep enough to exhaust Python's recursion limit
(about 1,000 levels) is a `ValueError` like any other bad JSON, never a `RecursionError`."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["loads"]


def loads(text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
