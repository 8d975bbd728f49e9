"""Process-wide heap tuning: glibc's allocator, set so that a long stream does not leave
the heap fragmented for good (a no-op on other C libraries and systems).

glibc serves a block of 128 KiB or more with its own mmap, but raises that threshold each
time such a block is freed (up to 32 MiB). After a few frees, the buffers a stream grows
and drops (pickled frames, a growing text buffer, a run's joined answer and its JSON) land
in the main heap instead, interleave with small long-lived blocks, and their holes are
never returned: at a million tokens the window's heap held 51 MB free but unreturnable.
A fixed threshold keeps them out of the heap (bench/gui_throughput: window 234 → 211 MB,
engine's end-of-run peak ~10 MB lower)."""

from __future__ import annotations

import ctypes
import sys

__all__ = ["fix_mmap_threshold"]

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter; setting it turns the dynamic rise off


def fix_mmap_threshold(size: int = 128 * 1024) -> bool:
    """Blocks of `size` bytes or more always mmapped and unmapped when freed. True if the
    allocator took it."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(_M_MMAP_THRESHOLD, size))
