"""Normalized stream events: what every dialect turns its wire events into.

Each event carries `t_ns`, nanoseconds since t0 (the request's bytes going out) of the
network read that completed it; for a plain body with no timings it is 0.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from typing import Any, TypeVar

__all__ = [
    "ChunkReceived",
    "ContentEvent",
    "Phase",
    "Ping",
    "Progress",
    "ProviderError",
    "RefusalDelta",
    "RequestSent",
    "ResponseStarted",
    "StopSignal",
    "StreamEvent",
    "TextDelta",
    "ThinkingDelta",
    "ToolCallDelta",
    "Unknown",
    "Usage",
    "WireEvent",
]


_T = TypeVar("_T")


def _quick_init(cls: type[_T]) -> type[_T]:
    """Give a frozen slots dataclass an `__init__` that fills its slots through their own
    setters. Frozen, the generated one calls `object.__setattr__` per field, half again the
    cost; a stream makes a few of these per token (a read, its wire event, its delta), so
    the classes made per token use this. Same signature, defaults and result."""
    assert "__post_init__" not in vars(cls)
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    space: dict[str, Any] = {f"_set_{n}": getattr(cls, n).__set__ for n in names}
    params = []
    for f in fields(cls):  # type: ignore[arg-type]
        assert f.default_factory is MISSING
        if f.default is MISSING:
            params.append(f.name)
        else:
            space[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
    body = "".join(f"\n    _set_{n}(self, {n})" for n in names)
    exec(f"def __init__(self, {', '.join(params)}):{body}", space)
    init = space["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    cls.__init__ = init  # type: ignore[misc]
    return cls


@_quick_init
@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str
    t_ns: int = 0


@_quick_init
@dataclass(frozen=True, slots=True)
class ThinkingDelta:
    text: str
    t_ns: int = 0


@_quick_init
@dataclass(frozen=True, slots=True)
class RefusalDelta:
    text: str
    t_ns: int = 0


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    index: int
    id: str | None
    name: str | None
    arguments: str  # a fragment of the raw argument string, as received
    t_ns: int = 0


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int | None
    output_tokens: int | None
    t_ns: int = 0


@dataclass(frozen=True, slots=True)
class StopSignal:
    raw_reason: str | None  # the provider's own value, verbatim
    t_ns: int = 0


@dataclass(frozen=True, slots=True)
class ProviderError:
    code: str | None
    message: str
    t_ns: int = 0


@dataclass(frozen=True, slots=True)
class Ping:
    t_ns: int = 0


@dataclass(frozen=True, slots=True)
class Unknown:
    name: str
    data: str
    t_ns: int = 0


ContentEvent = TextDelta | ThinkingDelta | RefusalDelta | ToolCallDelta
StreamEvent = (
    TextDelta
    | ThinkingDelta
    | RefusalDelta
    | ToolCallDelta
    | Usage
    | StopSignal
    | ProviderError
    | Ping
    | Unknown
)


# --- transport-level facts the runner reports alongside the normalized events ---


@dataclass(frozen=True, slots=True)
class RequestSent:
    method: str
    url: str
    headers: dict[str, str]  # the auth key already masked
    body: dict[str, Any]
    t_ns: int = 0


@dataclass(frozen=True, slots=True)
class ResponseStarted:
    status: int
    headers: dict[str, str]
    t_ns: int = 0


@_quick_init
@dataclass(frozen=True, slots=True)
class ChunkReceived:
    index: int
    size: int
    data: bytes
    t_ns: int = 0


@_quick_init
@dataclass(frozen=True, slots=True)
class WireEvent:
    """One decoded SSE event or NDJSON line, before the dialect reads it."""

    index: int
    chunk_index: int  # the network read that completed it (-1 for a plain body)
    name: str
    data: str
    kind: str = "ok"  # ok | malformed | unknown
    t_ns: int = 0


@dataclass(frozen=True, slots=True)
class Phase:
    """A connection phase from httpx's trace extension (connect, tls, request_sent, ...)."""

    name: str
    t_ns: int = 0


@dataclass(frozen=True, slots=True)
class Progress:
    state: str  # connecting | waiting | streaming | stalled
    since_last_byte_ms: float | None
    since_last_content_ms: float | None
    tokens_per_s: float | None
    content_events: int
    t_ns: int = 0
    # The figures so far under the final verdict's own definitions (a core.stream.metrics.Metrics),
    # so the window can show TTFB, TTFT, ITL and tokens/s live without computing a timing.
    metrics: Any = None


def _reduce(self: Any) -> tuple[type, tuple[Any, ...]]:
    """Pickle as (class, field values): the window's engine sends a few events per token
    across a pipe, and the dataclass default (`__getstate__` over `fields()`) cost a third
    of the engine's time."""
    return type(self), tuple(getattr(self, name) for name in self.__slots__)


for _cls in (
    TextDelta,
    ThinkingDelta,
    RefusalDelta,
    ToolCallDelta,
    Usage,
    StopSignal,
    ProviderError,
    Ping,
    Unknown,
    RequestSent,
    ResponseStarted,
    ChunkReceived,
    WireEvent,
    Phase,
    Progress,
):
    _cls.__reduce__ = _reduce  # type: ignore[method-assign]
