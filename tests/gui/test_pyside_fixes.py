"""The cyclic collector runs from a GUI-thread timer, never where an allocation happens to
cross its threshold (inside a paint event it destroyed Qt objects mid-paint: a crash)."""

from __future__ import annotations

import gc
import weakref
from typing import Any

from gui.pyside_fixes import collect_on_the_loop


class _Node:
    me: Any = None


def test_cyclic_garbage_waits_for_the_loop_timer(qtbot: Any, qloop: Any) -> None:
    collect_on_the_loop()
    assert not gc.isenabled()
    node = _Node()
    node.me = node  # a cycle: only the collector frees it
    gone = weakref.ref(node)
    del node
    kept = [[] for _ in range(5 * gc.get_threshold()[0])]  # well past generation 0's threshold
    assert gone() is not None and len(kept) > 0  # no allocation collected it
    qtbot.waitUntil(lambda: gone() is None, timeout=5_000)  # the timer did
