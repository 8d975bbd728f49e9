"""Columnar batches (core.stream.batches): what goes in comes back out, through pickle (the
engine's pipe), with each kind's order and every other event's place kept."""

from __future__ import annotations

import itertools
import pickle
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from core import (
    ChunkBatch,
    ChunkReceived,
    DeltaBatch,
    RefusalDelta,
    StopSignal,
    TextDelta,
    ThinkingDelta,
    Usage,
    WireBatch,
    WireEvent,
    batched,
)

_BATCHES = (ChunkBatch, WireBatch, DeltaBatch)

texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6)
stamps = st.integers(min_value=0, max_value=2**62)
events = st.one_of(
    st.builds(
        lambda i, d, t: ChunkReceived(i, len(d), d, t),
        st.integers(0, 10**6),
        st.binary(max_size=12),
        stamps,
    ),
    st.builds(
        WireEvent,
        st.integers(0, 10**6),
        st.integers(-1, 10**6),
        st.sampled_from(["message", "content_block_delta", "ping", "é"]),
        texts,
        st.sampled_from(["ok", "malformed", "unknown"]),
        stamps,
    ),
    st.builds(TextDelta, texts, stamps),
    st.builds(ThinkingDelta, texts, stamps),
    st.builds(RefusalDelta, texts, stamps),
    st.builds(StopSignal, st.sampled_from(["stop", None]), stamps),
    st.builds(Usage, st.integers(0, 9), st.integers(0, 9), stamps),
)


def unbatched(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        out.extend(item if isinstance(item, _BATCHES) else [item])
    return out


def filed(items: list[Any]) -> tuple[list[Any], list[Any], list[Any]]:
    """What a consumer that files reads, wire events and the rest apart sees."""
    flat = unbatched(items)
    chunks = [e for e in flat if isinstance(e, ChunkReceived)]
    wire = [e for e in flat if isinstance(e, WireEvent)]
    rest = [e for e in flat if not isinstance(e, ChunkReceived | WireEvent)]
    return chunks, wire, rest


@settings(max_examples=150, deadline=None)
@given(st.lists(events, max_size=40))
def test_batches_keep_every_event_and_its_order_through_pickle(seq: list[Any]) -> None:
    items = pickle.loads(pickle.dumps(batched(seq), protocol=pickle.HIGHEST_PROTOCOL))
    assert filed(items) == filed(seq)
    # each kind's run is one batch: never two batches of a kind with nothing else between
    kinds = [type(i) for i in items]
    for a, b in itertools.pairwise(kinds):
        assert not (a is b is ChunkBatch or a is b is WireBatch)


def test_a_batch_of_a_stream_is_a_few_buffers() -> None:
    seq: list[Any] = []
    for i in range(1000):
        seq += [
            ChunkReceived(i, 30, f"data: {{'x': 'w{i}'}}\n\n".encode(), i * 1000),
            WireEvent(i, i, "message", f'{{"x": "w{i}"}}', "ok", i * 1000),
            TextDelta(f" w{i}", i * 1000),
        ]
    seq.append(StopSignal("stop", 10**6))
    items = batched(seq)
    assert [type(i) for i in items] == [ChunkBatch, WireBatch, DeltaBatch, StopSignal]
    chunks, wire, deltas, _ = items
    assert deltas.text == "".join(f" w{i}" for i in range(1000)) and deltas.kind is TextDelta
    assert list(deltas.t_ns) == [i * 1000 for i in range(1000)]
    assert chunks.data == b"".join(c.data for c in seq[:-1:3])
    assert wire.names == ["message"] and set(wire.name_codes) == {0}
    assert list(pickle.loads(pickle.dumps(wire))) == seq[1:-1:3]


def test_merging_batches_maps_names_and_keeps_order() -> None:
    a = batched([WireEvent(0, 0, "ping", "", "ok", 1), WireEvent(1, 0, "x", "é", "unknown", 2)])
    b = batched([WireEvent(2, 1, "x", "{", "malformed", 3), WireEvent(3, 1, "y", "}", "ok", 4)])
    merged = WireBatch()
    merged.extend(a[0])
    merged.extend(b[0])
    assert list(merged) == list(a[0]) + list(b[0])
    c = DeltaBatch()
    c.extend(batched([TextDelta("a", 1)])[0])
    c.extend(batched([TextDelta("βc", 2)])[0])
    assert (c.text, list(c.sizes), list(c)) == (
        "aβc",
        [1, 2],
        [TextDelta("a", 1), TextDelta("βc", 2)],
    )
