"""Line framing for newline-delimited JSON bodies (Ollama's native API), no I/O.

Yields each non-blank line as text; JSON parsing is the dialect's job, so a broken line
is still seen (and reported) rather than silently skipped.
"""

from __future__ import annotations

import codecs

from core.stream.sse import _decode_counting

__all__ = ["NDJSONDecoder"]


class NDJSONDecoder:
    """`feed(bytes) -> list[str]` of complete lines; `close()` returns a final unterminated line."""

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="streamscope-count-replace")
        self._buffer = ""
        self._started = False
        self.bom_stripped = False
        self.utf8_replaced = 0
        self.unterminated_final_event = False

    def feed(self, chunk: bytes) -> list[str]:
        text, replaced = _decode_counting(self._utf8, chunk, False)
        self.utf8_replaced += replaced
        return self._split(text)

    def close(self) -> list[str]:
        text, replaced = _decode_counting(self._utf8, b"", True)
        self.utf8_replaced += replaced
        lines = self._split(text)
        tail = self._buffer.strip()
        self._buffer = ""
        if tail:
            # A last line without its newline is still a whole JSON document in practice
            # (Ollama ends with "}\n", but proxies may drop the newline).
            self.unterminated_final_event = True
            lines.append(tail)
        return lines

    def _split(self, text: str) -> list[str]:
        if not text:
            return []
        if not self._started:
            self._started = True
            if text.startswith("\ufeff"):
                text = text[1:]
                self.bom_stripped = True
        parts = (self._buffer + text).split("\n")
        self._buffer = parts.pop()
        return [p.strip() for p in parts if p.strip()]
