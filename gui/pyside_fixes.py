"""Work-arounds for PySide6 behaviour that costs the window memory or crashes it.

Python's cyclic collector runs wherever an allocation crosses its threshold: inside a paint
event, or on a reader thread. When the garbage holds Qt wrappers (a closed dialog, an old
plot item), their C++ objects are destroyed there, and the window died with a segmentation
fault in pyqtgraph's `prepareForPaint` ("Garbage-collecting", 2 full GUI test runs in 5).
`collect_on_the_loop` hands the collector to a timer on the GUI thread (as pyqtgraph's own
`GarbageCollector` does; that one is not used, as importing it imports all of pyqtgraph, a
third of the start-up), so it only runs between events.

PySide6's ``__feature__`` support (PYSIDE-2029) replaces ``__import__`` and, for every module
imported after PySide6, reads the module's whole source with ``inspect.getsource`` to look for
the word "PySide6". ``inspect`` goes through ``linecache``, which keeps every line of every
file for the life of the process: ~550 files and ~20 MB of ``str`` in the window (numpy,
pyqtgraph, httpx, the app). The answer is still computed; only the cache entry is dropped.
"""

from __future__ import annotations

import gc
import linecache
import sys
from typing import Any

__all__ = ["collect_on_the_loop", "drop_feature_source_cache"]

_collector: Any = None


def collect_on_the_loop(interval_s: float = 0.1) -> None:
    """Collect cyclic garbage only from a GUI-thread timer, by the usual thresholds
    (idempotent; needs a QApplication). Every 100 ms: a young generation checked ten times
    a second holds no more than the loop allocates meanwhile."""
    global _collector
    if _collector is None:
        from PySide6.QtCore import QTimer

        thresholds = gc.get_threshold()

        def collect() -> None:
            counts = gc.get_count()
            for generation in range(3):  # an older generation only after the younger one
                if counts[generation] <= thresholds[generation]:
                    break
                gc.collect(generation)

        _collector = QTimer()
        _collector.timeout.connect(collect)
        gc.disable()
        _collector.start(int(interval_s * 1000))


def drop_feature_source_cache() -> None:
    """Make PySide6's per-import source check leave nothing in `linecache` (idempotent)."""
    import PySide6.QtCore  # noqa: F401  (loads shibokensupport)

    feature = sys.modules.get("shibokensupport.feature")
    check = getattr(feature, "_mod_uses_pyside", None)
    if check is None or getattr(check, "_streamscope_wrapped", False):
        return

    def uses_pyside(module: Any) -> bool:
        cached = set(linecache.cache)
        try:
            return check(module)
        finally:
            for name in set(linecache.cache) - cached:
                linecache.cache.pop(name, None)

    uses_pyside._streamscope_wrapped = True  # type: ignore[attr-defined]
    feature._mod_uses_pyside = uses_pyside  # type: ignore[union-attr]
