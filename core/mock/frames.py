"""Frames (one write each) and the writer skeleton every dialect fills in (pure).

``build_frames(plan, writer)`` lays out a whole response body as ``Frame``s, lazily: the
writer formats events; this module decides their order and applies the framing faults
(keep-alive comments, BOM, UTF-8 splits, the malformed line, the stall marker). The server
writes each frame with its own ``write`` and paces the ``content`` ones.
"""

from __future__ import annotations

import itertools
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .plan import Plan

BOM = b"\xef\xbb\xbf"
KEEPALIVE_EVERY = 8  # content events between keep-alive comments


@dataclass(frozen=True, slots=True)
class Frame:
    data: bytes
    content: bool = False  # carries one generated token: paced at tps
    stall: bool = False  # no data: stay silent for plan.stall_s here


def dumps(obj: Any, spaced: bool = False) -> str:
    """JSON as the providers send it: raw UTF-8, compact (Gemini: spaced)."""
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": ") if spaced else (",", ":"))


class Writer(ABC):
    """Formats one Plan in one dialect; every hook returns the frames for that step."""

    spaced_json = False

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.eol = "\r\n" if plan.crlf else "\n"
        self.sent = 0  # output tokens sent so far

    # -- helpers -------------------------------------------------------------------------
    def sse(self, data: Any, event: str | None = None) -> bytes:
        body = data if isinstance(data, str) else dumps(data, self.spaced_json)
        lines = ([f"event: {event}"] if event else []) + [f"data: {body}"]
        return (self.eol.join(lines) + self.eol * 2).encode()

    def comment(self, text: str) -> bytes:
        return f": {text}{self.eol}{self.eol}".encode()

    def content(self, data: bytes) -> Frame:
        self.sent += 1
        return Frame(data, content=True)

    # -- hooks ---------------------------------------------------------------------------
    def opening(self) -> list[Frame]:
        return [Frame(self.comment("OPENROUTER PROCESSING"))]

    def keepalive(self) -> list[Frame]:
        return [Frame(self.comment("keep-alive"))]

    def start(self) -> list[Frame]:
        return []

    @abstractmethod
    def thinking(self, piece: str) -> list[Frame]:
        """Each dialect's writer says this in its own wire format."""

    @abstractmethod
    def text(self, piece: str) -> list[Frame]:
        """Each dialect's writer says this in its own wire format."""

    def refusal(self, piece: str) -> list[Frame]:
        return self.text(piece)

    @abstractmethod
    def tool(self) -> list[Frame]:
        """Each dialect's writer says this in its own wire format."""

    @abstractmethod
    def malformed(self) -> list[Frame]:
        """Each dialect's writer says this in its own wire format."""

    @abstractmethod
    def mid_error(self) -> list[Frame]:
        """Each dialect's writer says this in its own wire format."""

    @abstractmethod
    def end(self) -> list[Frame]:
        """Finish and terminator, per ``plan.finish`` and ``plan.ending``."""


def split_utf8(data: bytes) -> list[bytes]:
    """Cut ``data`` inside its first multi-byte UTF-8 character (one piece if none)."""
    for i, byte in enumerate(data):
        if byte >= 0xC0:
            return [data[: i + 1], data[i + 1 :]]
    return [data]


def build_frames(plan: Plan, writer: Writer) -> Iterator[Frame]:
    """The body's frames, made as they are written: a million-token reply starts at once
    (building them all first took half a second per 20,000 tokens before the first byte)."""
    frames = _frames(plan, writer)
    if plan.bom:
        first = next(frames, Frame(b""))
        frames = itertools.chain([Frame(BOM + first.data, first.content)], frames)
    if plan.utf8_split:
        frames = (
            Frame(part, frame.content and j == 0)
            for frame in frames
            for j, part in enumerate(split_utf8(frame.data))
        )
    return frames


def _frames(plan: Plan, writer: Writer) -> Iterator[Frame]:
    if plan.keepalive:
        yield from writer.opening()
    yield from writer.start()
    for piece in plan.thinking:
        yield from writer.thinking(piece)
    for piece in plan.refusal:
        yield from writer.refusal(piece)
    for i, piece in enumerate(plan.text):
        if i == plan.event_at:
            yield from _event(plan, writer)
        if plan.keepalive and i and i % KEEPALIVE_EVERY == 0:
            yield from writer.keepalive()
        yield from writer.text(piece)
    if plan.event_at is not None and plan.event_at >= len(plan.text):
        yield from _event(plan, writer)
    if plan.tool is not None:
        yield from writer.tool()
    if plan.ending == "mid_error":
        yield from writer.mid_error()
    elif plan.ending not in ("eof", "reset"):
        yield from writer.end()


def _event(plan: Plan, writer: Writer) -> list[Frame]:
    return writer.malformed() if plan.malformed else [Frame(b"", stall=True)]
