"""Columnar runs of the three events a stream has one of per token: network reads
(`ChunkReceived`), decoded wire events (`WireEvent`) and text deltas (`TextDelta`,
`ThinkingDelta`, `RefusalDelta`).

The engine process hands the window thousands of these a second. As objects each one was
built, pickled, unpickled and walked in Python on both sides; as columns (one joined text or
byte string, and `array` columns of sizes and stamps) a batch crosses the pipe as a handful of
buffers, and the window reads it with numpy. Iterating a batch gives the events back, for
code that wants objects (tests, replays).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from typing import Any

from core.stream.events import ChunkReceived, RefusalDelta, TextDelta, ThinkingDelta, WireEvent

__all__ = ["DELTA_TYPES", "Batch", "Batcher", "ChunkBatch", "DeltaBatch", "WireBatch", "batched"]

_WIRE_KINDS = ("ok", "malformed", "unknown")
DELTA_TYPES = (TextDelta, ThinkingDelta, RefusalDelta)


class _Joined:
    """Items whose payloads (str or bytes) are kept joined, with a `sizes` column."""

    __slots__ = ("_joined", "_parts", "sizes", "t_ns")
    _empty: Any = ""

    def __init__(self) -> None:
        self.t_ns = array("q")
        self.sizes = array("q")
        self._parts: list[Any] = []
        self._joined = self._empty

    def _put(self, payload: Any, t_ns: int) -> None:
        self.t_ns.append(t_ns)
        self.sizes.append(len(payload))
        self._parts.append(payload)

    def _join(self) -> Any:
        if self._parts:
            self._joined = self._empty.join([self._joined, *self._parts])
            self._parts = []
        return self._joined

    def _extend(self, other: _Joined) -> None:
        self.t_ns.extend(other.t_ns)
        self.sizes.extend(other.sizes)
        self._parts.append(other._join())

    def pieces(self) -> Iterator[Any]:
        """Each item's payload, in order."""
        whole, at = self._join(), 0
        for size in self.sizes:
            yield whole[at : at + size]
            at += size

    def __len__(self) -> int:
        return len(self.t_ns)


class ChunkBatch(_Joined):
    """Consecutive network reads: `index`, `t_ns`, `sizes`, and their bytes joined in
    `data`."""

    __slots__ = ("index",)
    _empty = b""

    def __init__(self) -> None:
        super().__init__()
        self.index = array("q")

    def add(self, chunk: ChunkReceived) -> None:
        self.index.append(chunk.index)
        self._put(chunk.data, chunk.t_ns)

    def extend(self, other: ChunkBatch) -> None:
        self.index.extend(other.index)
        self._extend(other)

    @property
    def data(self) -> bytes:
        return self._join()

    def __iter__(self) -> Iterator[ChunkReceived]:
        for i, t, piece in zip(self.index, self.t_ns, self.pieces(), strict=True):
            yield ChunkReceived(i, len(piece), piece, t)

    def __reduce__(self) -> tuple[Any, ...]:
        return _restore, (ChunkBatch, self.t_ns, self.sizes, self.data, {"index": self.index})


class WireBatch(_Joined):
    """Consecutive decoded wire events: `index`, `chunk_index`, `t_ns`, `sizes`, a code
    into `names` and one into `KINDS` per event, and their data joined in `text`."""

    __slots__ = ("_name_ids", "chunk_index", "index", "kinds", "name_codes", "names")
    KINDS = _WIRE_KINDS

    def __init__(self) -> None:
        super().__init__()
        self.index = array("q")
        self.chunk_index = array("q")
        self.name_codes = array("q")
        self.kinds = array("b")
        self.names: list[str] = []
        self._name_ids: dict[str, int] = {}

    def _code(self, name: str) -> int:
        code = self._name_ids.get(name)
        if code is None:
            code = self._name_ids[name] = len(self.names)
            self.names.append(name)
        return code

    def add(self, event: WireEvent) -> None:
        self.index.append(event.index)
        self.chunk_index.append(event.chunk_index)
        self.name_codes.append(self._code(event.name))
        self.kinds.append(_WIRE_KINDS.index(event.kind) if event.kind in _WIRE_KINDS else 2)
        self._put(event.data, event.t_ns)

    def extend(self, other: WireBatch) -> None:
        self.index.extend(other.index)
        self.chunk_index.extend(other.chunk_index)
        codes = [self._code(name) for name in other.names]
        if codes == list(range(len(codes))):  # the usual case: the same names in order
            self.name_codes.extend(other.name_codes)
        else:
            self.name_codes.extend(codes[c] for c in other.name_codes)
        self.kinds.extend(other.kinds)
        self._extend(other)

    @property
    def text(self) -> str:
        return self._join()

    def __iter__(self) -> Iterator[WireEvent]:
        columns = (self.index, self.chunk_index, self.name_codes, self.kinds, self.t_ns)
        for (i, chunk, name, kind, t), piece in zip(
            zip(*columns, strict=True), self.pieces(), strict=True
        ):
            yield WireEvent(i, chunk, self.names[name], piece, _WIRE_KINDS[kind], t)

    def __reduce__(self) -> tuple[Any, ...]:
        columns = {
            "index": self.index,
            "chunk_index": self.chunk_index,
            "name_codes": self.name_codes,
            "kinds": self.kinds,
            "names": self.names,
        }
        return _restore, (WireBatch, self.t_ns, self.sizes, self.text, columns)


class DeltaBatch(_Joined):
    """Consecutive text deltas of one kind (`TextDelta`, `ThinkingDelta` or
    `RefusalDelta`): `t_ns`, `sizes` (characters), and their text joined in `text`."""

    __slots__ = ("kind",)

    def __init__(self, kind: type = TextDelta) -> None:
        super().__init__()
        self.kind = kind

    def add(self, delta: Any) -> None:
        self._put(delta.text, delta.t_ns)

    def extend(self, other: DeltaBatch) -> None:
        self._extend(other)

    @property
    def text(self) -> str:
        return self._join()

    def __iter__(self) -> Iterator[Any]:
        for t, piece in zip(self.t_ns, self.pieces(), strict=True):
            yield self.kind(piece, t)

    def __reduce__(self) -> tuple[Any, ...]:
        return _restore, (DeltaBatch, self.t_ns, self.sizes, self.text, {"kind": self.kind})


Batch = ChunkBatch | WireBatch | DeltaBatch


def _restore(cls: type, t_ns: array, sizes: array, joined: Any, columns: dict[str, Any]) -> _Joined:
    batch = cls.__new__(cls)
    batch.t_ns, batch.sizes, batch._joined, batch._parts = t_ns, sizes, joined, []
    for name, value in columns.items():
        setattr(batch, name, value)
    if cls is WireBatch:
        batch._name_ids = {name: i for i, name in enumerate(batch.names)}
    return batch


class Batcher:
    """Files events into batches as they come: `add` one at a time, `take` what is there.
    Every run of reads, wire events and same-kind deltas becomes one batch of each (other
    events pass as they are). In a stream the three kinds interleave (a read, its wire
    event, its delta, the next read...): each kind's order is kept, and so is every event's
    order against the other events, which is all a consumer that files the three kinds
    apart (as the window does) can see."""

    __slots__ = ("_chunks", "_deltas", "_out", "_wire")

    def __init__(self) -> None:
        self._out: list[Any] = []
        self._chunks: ChunkBatch | None = None
        self._wire: WireBatch | None = None
        self._deltas: DeltaBatch | None = None

    def add(self, event: Any) -> None:
        cls = type(event)
        if cls is ChunkReceived:
            if self._chunks is None:
                self._chunks = ChunkBatch()
                self._out.append(self._chunks)
            self._chunks.add(event)
        elif cls is WireEvent:
            if self._wire is None:
                self._wire = WireBatch()
                self._out.append(self._wire)
            self._wire.add(event)
        elif cls in DELTA_TYPES:
            if self._deltas is None or self._deltas.kind is not cls:
                self._deltas = DeltaBatch(cls)
                self._out.append(self._deltas)
            self._deltas.add(event)
        else:
            self._close()
            self._out.append(event)

    def take(self) -> list[Any]:
        """What was added since the last call, batched; later events start new batches."""
        out, self._out = self._out, []
        self._close()
        return out

    def __bool__(self) -> bool:
        return bool(self._out)

    def _close(self) -> None:
        self._chunks = self._wire = None
        self._deltas = None


def batched(events: Iterable[Any]) -> list[Any]:
    """`events` batched (see `Batcher`)."""
    batcher = Batcher()
    for event in events:
        batcher.add(event)
    return batcher.take()
