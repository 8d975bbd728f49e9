"""Incremental Server-Sent Events decoder over bytes (WHATWG HTML §9.2.6), no I/O.

Feed it byte chunks as they arrive; it returns the events each chunk completed.
Lines end at CRLF, LF or CR (a CR at the end of one chunk and an LF at the start of the
next are one line end). UTF-8 is decoded incrementally, so a character split across chunks
comes out whole; invalid bytes are replaced and counted. One leading BOM is stripped.
"""

from __future__ import annotations

import codecs
import threading
from typing import NamedTuple

from core.stream.caps import DEFAULT_CAPS, Caps, describe_size

__all__ = ["SSEDecoder", "SSEEvent"]


class SSEEvent(NamedTuple):
    """One dispatched event; immutable (a NamedTuple: cheaper to build than a frozen
    dataclass, which pays an object.__setattr__ per field)."""

    event: str  # "message" when no `event:` field was given
    data: str
    id: str | None = None
    retry: int | None = None


_local = threading.local()


def _count_and_replace(err: UnicodeError) -> tuple[str, int]:
    assert isinstance(err, UnicodeDecodeError)
    _local.replaced = getattr(_local, "replaced", 0) + 1
    return "\ufffd", err.end


codecs.register_error("streamscope-count-replace", _count_and_replace)


def _decode_counting(
    decoder: codecs.IncrementalDecoder, data: bytes, final: bool
) -> tuple[str, int]:
    _local.replaced = 0
    text = decoder.decode(data, final)
    return text, _local.replaced


class SSEDecoder:
    """Pure incremental decoder: `feed(bytes) -> list[SSEEvent]`, then `close()` at EOF."""

    def __init__(self, caps: Caps = DEFAULT_CAPS) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="streamscope-count-replace")
        self.utf8_replaced = 0
        # The line not yet ended, in pieces: appending is O(piece), so a line that never
        # ends costs linear time, not a copy and rescan of everything so far on every read.
        self._pending: list[str] = []
        self._pending_len = 0
        self._line_cap = caps.line_chars
        self._event_cap = caps.event_chars
        self._data_len = 0
        self.oversized: str | None = None  # why decoding stopped: a line or event over its cap
        self._pending_cr = False
        self._started = False
        self.bom_stripped = False
        self.unterminated_final_event = False
        self.comments = 0
        self.lines = 0
        self.last_event_id: str | None = None
        self._event = ""
        self._data: list[str] = []
        self._has_data = False
        self._retry: int | None = None
        self._dirty = False  # any field line since the last dispatch

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        if self.oversized:
            return []
        text, replaced = _decode_counting(self._utf8, chunk, False)
        self.utf8_replaced += replaced
        return self._feed_text(text)

    def close(self) -> list[SSEEvent]:
        """Flush at EOF. An event not closed by a blank line is reported, not dispatched."""
        if self.oversized:
            return []
        text, replaced = _decode_counting(self._utf8, b"", True)
        self.utf8_replaced += replaced
        events = self._feed_text(text)
        if self._pending and not self.oversized:
            self._process_line("".join(self._pending), events)
            self._pending, self._pending_len = [], 0
        if self._has_data or self._dirty:
            self.unterminated_final_event = self._has_data or self.unterminated_final_event
            self._reset_event()
        return events

    def _feed_text(self, text: str) -> list[SSEEvent]:
        events: list[SSEEvent] = []
        if not text:
            return events
        if not self._started:
            self._started = True
            if text.startswith("\ufeff"):
                text = text[1:]
                self.bom_stripped = True
        if self._pending_cr:
            self._pending_cr = False
            if text.startswith("\n"):
                text = text[1:]
        if "\r" in text:  # the pending line never holds a CR: only the new text is scanned
            # A CR at the end of the data so far may be the first half of a CRLF.
            self._pending_cr = text.endswith("\r")
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if "\n" not in text:
            if not text:
                return events
            self._pending.append(text)
            self._pending_len += len(text)
            if self._pending_len > self._line_cap:
                self._stop(f"one line grew past the {describe_size(self._line_cap)} line cap")
            return events
        lines = text.split("\n")  # C-level split: no per-line regex match objects
        if self._pending:
            self._pending.append(lines[0])
            lines[0] = "".join(self._pending)
        tail = lines.pop()
        self._pending, self._pending_len = ([tail], len(tail)) if tail else ([], 0)
        cap = self._line_cap
        too_long = next((i for i, line in enumerate(lines) if len(line) > cap), None)
        if too_long is not None or self._pending_len > cap:
            lines = lines[:too_long]  # what came before the long line still counts
            self.lines += len(lines)
            self._process_lines(lines, events)
            if not self.oversized:
                self._stop(f"one line grew past the {describe_size(cap)} line cap")
            return events
        self.lines += len(lines)
        self._process_lines(lines, events)
        return events

    def _stop(self, why: str) -> None:
        self.oversized = why
        self._pending, self._pending_len = [], 0
        self._reset_event()

    def _process_lines(self, lines: list[str], events: list[SSEEvent]) -> None:
        # The event state lives in locals for the loop and is written back once.
        data, has_data, event = self._data, self._has_data, self._event
        retry, dirty, last_id = self._retry, self._dirty, self.last_event_id
        data_len, cap = self._data_len, self._event_cap
        comments = 0
        for line in lines:
            if not line:
                if has_data:
                    events.append(SSEEvent(event or "message", "\n".join(data), last_id, retry))
                    data = []
                    has_data = False
                    data_len = 0
                event, retry, dirty = "", None, False
                continue
            if line.startswith("data:"):  # the common case first
                value = line[5:]
                data.append(value[1:] if value.startswith(" ") else value)
                has_data = dirty = True
                data_len += len(value)
                if data_len > cap:
                    self._stop(f"one event grew past the {describe_size(cap)} event cap")
                    return
                continue
            if line.startswith(":"):
                comments += 1
                continue
            name, sep, value = line.partition(":")
            if sep and value.startswith(" "):
                value = value[1:]
            dirty = True
            if name == "data":  # a bare `data` line
                data.append(value)
                has_data = True
                data_len += len(value)
                if data_len > cap:
                    self._stop(f"one event grew past the {describe_size(cap)} event cap")
                    return
            elif name == "event":
                event = value
            elif name == "id":
                if "\0" not in value:
                    last_id = value
            elif name == "retry" and value.isascii() and value.isdigit():
                retry = int(value)
        self._data, self._has_data, self._event = data, has_data, event
        self._retry, self._dirty, self.last_event_id = retry, dirty, last_id
        self._data_len = data_len
        self.comments += comments

    def _process_line(self, line: str, events: list[SSEEvent]) -> None:
        self.lines += 1
        self._process_lines([line], events)

    def _reset_event(self) -> None:
        self._data_len = 0
        self._event = ""
        self._data = []
        self._has_data = False
        self._retry = None
        self._dirty = False
