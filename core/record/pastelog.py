"""Pasted logs: unwrap what loggers put around SSE lines (`Line 1467: 'data: {...}'`, quoted
or `repr`'d lines, timestamps and levels, JSON escaped once more) and take each `data:` line
as one event. Pure."""

from __future__ import annotations

import ast
import re
import warnings

from core.stream.safejson import loads as safe_loads

__all__ = ["FIELD", "log_events", "split_lines", "tabbed_events", "unwrap"]


# Every repetition below is followed by a class it cannot overlap (`\S*\s+`, `\d+\s*[:|]`),
# so a match never backtracks: linear in the line's length (an 80 KB line once took 31 s).
_PREFIX = re.compile(
    r"^\s*(?:(?:line\s*)?\d+\s*[:|]\s*|\[[^\]]{1,40}\]\s*|\d{4}-\d\d-\d\d[T ][\d:.,]\S*\s+)",
    re.IGNORECASE,
)


FIELD = re.compile(r"^(data|event|id|retry)\s*:")
# A field name further into a line, after a logger's prefix we do not know by shape
# (`2024-05-01 12:00:00,123 DEBUG data: ...`, `12:00:00.123 data: ...`).


_FIELD_INSIDE = re.compile(r"(?<![\w-])(?:b?['\"])?(?:data|event|id|retry)\s*:")


_LOG_PREFIX_HINT = re.compile(
    r"\d|\[|\b(?:trace|debug|info|notice|warn|warning|error|critical|fatal)\b", re.IGNORECASE
)


_LINE_END = re.compile(r"\r\n|\r|\n")  # never str.splitlines(): U+2028 may sit inside JSON


def split_lines(text: str) -> list[str]:
    """Lines ended by CRLF, LF or CR only; a final line end makes no empty last line."""
    lines = _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def unwrap(line: str) -> str | None:
    """`Line 1467: 'data: {...}'` → `data: {...}`; None for a blank line."""
    s = line.strip()
    if not s:
        return None
    for _ in range(3):
        m = _PREFIX.match(s)
        if not m or m.end() == 0:
            break
        s = s[m.end() :]
    if not (FIELD.match(s) or s.startswith(":") or _quote_width(s)):
        s = _after_log_prefix(line.strip(), s)
    if s.endswith(","):
        s = s[:-1].rstrip()
    return _unquote(s)


def _after_log_prefix(line: str, fallback: str) -> str:
    """`2024-05-01 12:00:00,123 DEBUG data: {...}` → `data: {...}`: the first field name
    after a short prefix that looks like a logger's (a digit, a bracket or a level word) and
    holds no JSON."""
    m = _FIELD_INSIDE.search(line, 0, 160)
    if m is None or m.start() == 0:
        return fallback
    prefix = line[: m.start()]
    if "{" in prefix or '"' in prefix or not _LOG_PREFIX_HINT.search(prefix):
        return fallback
    return line[m.start() :]


def _quote_width(s: str) -> int:
    """1 for `'...'`, `"..."` or `` `...` ``, 2 for `b'...'`/`b"..."`; 0 when not quoted."""
    if len(s) >= 2 and s[0] in "'\"`" and s[-1] == s[0]:
        return 1
    if len(s) >= 3 and s[0] == "b" and s[1] in "'\"" and s[-1] == s[1]:
        return 2
    return 0


def _unquote(s: str) -> str:
    """A quoted token as a logger printed it: Python `repr(str)` / `repr(bytes)` (escaped
    quotes, `\\n`), a JSON string, or plain quotes around the raw line."""
    width = _quote_width(s)
    if not width:
        return s
    naive = s[width:-1]
    value: str | None = None
    if s[width - 1] != "`":
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # invalid escapes such as `\\/`
                literal = ast.literal_eval(s)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            literal = None
        if isinstance(literal, bytes):
            literal = literal.decode("utf-8", errors="replace")
        if isinstance(literal, str):
            value = literal.rstrip("\r\n")
    if width == 2:
        naive = _strip_escaped_line_ends(naive)
    if value is None:
        return naive
    # Plain quotes around a raw line (JSON escapes inside) read back wrong as a Python
    # literal: keep the unescaped value only when its data still parses.
    if _payload_ok(value) or not _payload_ok(naive):
        return value
    return naive


def _strip_escaped_line_ends(s: str) -> str:
    """`abc\\r\\n` → `abc`: the escaped line ends a logged `bytes` repr ends with (a scan
    from the end, not a `(?:\\[rn])+$` search, which retries from every position)."""
    end = len(s)
    while end >= 2 and s[end - 2] == "\\" and s[end - 1] in "rn":
        end -= 2
    return s[:end]


def _payload_ok(line: str) -> bool:
    m = FIELD.match(line)
    if not m or m.group(1) != "data":
        return True
    value = line[m.end() :].strip()
    if value == "[DONE]":
        return True
    try:
        safe_loads(value)
    except ValueError:
        return False
    return True


def _unescape(value: str) -> str:
    """JSON escaped once more by a logger: `{\\"a\\": 1}` → `{"a": 1}`."""
    if '\\"' not in value:
        return value
    try:
        safe_loads(value)
        return value
    except ValueError:
        pass
    try:
        return safe_loads(f'"{value}"')
    except ValueError:
        return value.replace('\\"', '"')


def log_events(unwrapped: list[str | None]) -> list[tuple[str, str]]:
    events: list[tuple[str, str]] = []
    name = "message"
    for item in unwrapped:
        # A logged network read (`b'data: {...}\\n\\ndata: {...}\\n\\n'`) may hold several lines.
        for line in split_lines(item) if item else ():
            m = FIELD.match(line)
            if not m:
                continue
            value = line[m.end() :]
            value = value[1:] if value.startswith(" ") else value
            if m.group(1) == "event":
                name = value.strip()
            elif m.group(1) == "data":
                events.append((name, _unescape(value)))
                name = "message"
    return events


def tabbed_events(lines: list[str]) -> list[tuple[str, str]] | None:
    """Rows copied from a browser's EventStream table (`type⇥data⇥time`): the column that
    holds JSON (or `[DONE]`) is the data, a leading word the event name. None unless every
    non-blank row has such a column."""
    events: list[tuple[str, str]] = []
    for line in lines:
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) < 2:
            return None
        data = next((c for c in cells if c == "[DONE]" or _is_json(c)), None)
        if data is None:
            return None
        first = cells[0]
        name = (
            first
            if first != data and first.replace("_", "").replace(".", "").isalnum()
            else "message"
        )
        events.append((name, data))
    return events or None


def _is_json(cell: str) -> bool:
    if cell[:1] not in "{[":
        return False
    try:
        safe_loads(cell)
    except ValueError:
        return False
    return True
