"""Line framing for newline-delimited JSON bodies (Ollama's native API), no I/O.

Yields each non-blank line as text; JSON parsing is the dialect's job, so a broken line
is still seen (and reported) rather than silently skipped.
"""

from __future__ import annotations

import codecs

from core.stream.caps import DEFAULT_CAPS, Caps, describe_size
from core.stream.sse import _decode_counting

__all__ = ["NDJSONDecoder"]


class NDJSONDecoder:
    """`feed(bytes) -> list[str]` of complete lines; `close()` returns a final unterminated line."""

    def __init__(self, caps: Caps = DEFAULT_CAPS) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="streamscope-count-replace")
        self._pending: list[str] = []  # the unfinished line in pieces (linear, never rescanned)
        self._pending_len = 0
        self._line_cap = caps.line_chars
        self.oversized: str | None = None
        self._started = False
        self.bom_stripped = False
        self.utf8_replaced = 0
        self.unterminated_final_event = False

    def feed(self, chunk: bytes) -> list[str]:
        if self.oversized:
            return []
        text, replaced = _decode_counting(self._utf8, chunk, False)
        self.utf8_replaced += replaced
        return self._split(text)

    def close(self) -> list[str]:
        if self.oversized:
            return []
        text, replaced = _decode_counting(self._utf8, b"", True)
        self.utf8_replaced += replaced
        lines = self._split(text)
        tail = "".join(self._pending).strip()
        self._pending, self._pending_len = [], 0
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
        if "\n" not in text:
            if text:
                self._pending.append(text)
            self._pending_len += len(text)
            return self._check([])
        parts = text.split("\n")
        if self._pending:
            self._pending.append(parts[0])
            parts[0] = "".join(self._pending)
        tail = parts.pop()
        self._pending, self._pending_len = ([tail], len(tail)) if tail else ([], 0)
        return self._check([p.strip() for p in parts if p.strip()])

    def _check(self, lines: list[str]) -> list[str]:
        cap = self._line_cap
        too_long = next((i for i, line in enumerate(lines) if len(line) > cap), None)
        if too_long is not None or self._pending_len > cap:
            self.oversized = f"one line grew past the {describe_size(cap)} line cap"
            self._pending, self._pending_len = [], 0
            return lines[:too_long]  # what came before the long line still counts
        return lines
