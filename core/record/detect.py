"""Which dialect wrote this stream? Guessed from event names and JSON keys. Pure."""

from __future__ import annotations

from core.record.pastelog import FIELD, split_lines
from core.stream.sse import SSEDecoder

__all__ = ["GEMINI_KEYS", "detect_body", "detect_dialect", "detect_events", "suggest_for_body"]


GEMINI_KEYS = ("candidates", "promptFeedback", "usageMetadata")
# Normalized events that show the parser understood the stream (pings and unknown events
# do not: every dialect's parser "understands" those).


_DETECT_STEP = 256 * 1024  # bytes decoded per step while auto-detecting a body


_DETECT_EVENTS = 200  # events looked at before giving up on a confident guess


def detect_dialect(events: list[tuple[str, str]], ndjson: bool = False) -> str:
    return detect_events(events, ndjson) or "openai-chat"


def detect_events(events: list[tuple[str, str]], ndjson: bool = False) -> str | None:
    """The dialect these events show, or None when nothing in them is telling."""
    for name, data in events[:_DETECT_EVENTS]:
        if (
            name.startswith("response.")
            or '"type": "response.' in data
            or '"type":"response.' in data
        ):
            return "openai-responses"
        if (
            name
            in (
                "message_start",
                "content_block_delta",
                "content_block_start",
                "message_delta",
                "message_stop",
            )
            or '"message_start"' in data
        ):
            return "anthropic"
        if '"candidates"' in data or '"promptFeedback"' in data or '"usageMetadata"' in data:
            return "gemini"
        if '"choices"' in data or data.strip() == "[DONE]" or "chat.completion" in data:
            return "openai-chat"
        if ndjson and ('"done"' in data or '"message"' in data):
            return "ollama"
    return None


def detect_body(data: bytes) -> str:
    """Auto-detect a raw body: decode SSE until the events tell (or EOF), however large
    the first events are (a Gemini chunk can hold a multi-megabyte inline image)."""
    dec = SSEDecoder()
    seen = 0
    for start in range(0, len(data), _DETECT_STEP):
        events = dec.feed(data[start : start + _DETECT_STEP])
        guess = detect_events([(e.event, e.data) for e in events])
        if guess:
            return guess
        seen += len(events)
        if seen >= _DETECT_EVENTS:
            return "openai-chat"
    tail = dec.close()
    guess = detect_events([(e.event, e.data) for e in tail])
    if guess:
        return guess
    if seen or tail:
        return "openai-chat"
    text = data.decode("utf-8", errors="replace")
    lines = split_lines(text)
    # SSE field lines with no dispatched event (the last event never closed): still SSE.
    fields = [ln for ln in lines if FIELD.match(ln)]
    if fields:
        return detect_events([("message", ln.partition(":")[2]) for ln in fields]) or "openai-chat"
    return _detect_ndjson(lines) or "openai-chat"


def _detect_ndjson(lines: list[str]) -> str | None:
    json_lines = [ln.strip() for ln in lines if ln.strip().startswith("{")]
    return detect_events([("line", ln) for ln in json_lines[:_DETECT_EVENTS]], ndjson=True)


def suggest_for_body(data: bytes) -> str | None:
    """What auto-detection says about a body, under both framings (SSE, then NDJSON)."""
    dec = SSEDecoder()
    events = dec.feed(data) + dec.close()
    guess = detect_events([(e.event, e.data) for e in events])
    if guess:
        return guess
    return _detect_ndjson(split_lines(data.decode("utf-8", errors="replace")))
