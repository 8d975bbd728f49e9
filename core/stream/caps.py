"""What a run will buffer at most. Each cap is far above anything a real provider sends;
passing one ends the run with `protocol_error/oversized_event` (one line or event) or
`protocol_error/oversized_body` (a non-stream body, or a whole stream once decompressed)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_CAPS", "Caps", "describe_size"]

_MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Caps:
    line_chars: int = 16 * _MiB  # one SSE or NDJSON line, decoded
    event_chars: int = 16 * _MiB  # one SSE event's joined `data:` lines
    body_bytes: int = 16 * _MiB  # a 2xx body that is not a stream (HTML, JSON)
    stream_bytes: int = 1024 * _MiB  # a whole stream body after decompression


DEFAULT_CAPS = Caps()


def describe_size(n: int) -> str:
    """`16 MiB`, `1 GiB`, `512 KiB`, `100 bytes`: for explanations that name a cap."""
    for unit, size in (("GiB", 1024 * _MiB), ("MiB", _MiB), ("KiB", 1024)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n:,} bytes"
