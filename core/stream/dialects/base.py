"""What every dialect parser shares: the end-of-stream facts it keeps and the helpers that
turn wire fields into normalized events. Pure: no I/O, no clock."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from core.stream.events import (
    ProviderError,
    RefusalDelta,
    StopSignal,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    Usage,
)
from core.stream.safejson import loads as safe_loads
from core.stream.spec import HttpRequest

__all__ = ["Finish", "Parser", "StreamFacts", "ToolCallState"]


class TextParts(list[str | bytes]):
    """Text pieces as they arrive, merged every `BLOCK` pieces into one UTF-8 block:
    `joined()` gives the text back. A million tokens cost a few MB, not a string object
    each; and UTF-8, not the 4 bytes a character Python gives a block holding one emoji."""

    __slots__ = ("_loose",)
    BLOCK = 512

    def __init__(self) -> None:
        super().__init__()
        self._loose = 0  # pieces after the last block

    def append(self, piece: str | bytes) -> None:
        super().append(piece)
        self._loose += 1
        if self._loose == self.BLOCK:
            block = "".join(self[-self.BLOCK :])  # type: ignore[arg-type]
            self[-self.BLOCK :] = [block.encode("utf-8", "surrogatepass")]
            self._loose = 0

    def joined(self) -> str:
        """The whole text, made once: the blocks are decoded one by one and joined, and
        then replaced by the text itself (the verdict keeps it: holding the blocks too
        would keep a long answer twice)."""
        if len(self) == 1 and isinstance(self[0], str):
            return self[0]  # joined before (or a single piece)
        cut = len(self) - self._loose
        parts = [b.decode("utf-8", "surrogatepass") for b in self[:cut]]  # type: ignore[union-attr]
        text = "".join([*parts, *self[cut:]])  # type: ignore[list-item]
        del parts
        if not text:
            return text
        super().clear()
        super().append(text)
        self._loose = 1
        return text

    def joined_utf8(self) -> bytes:
        """The whole text as UTF-8 (`Verdict.answer`), never one `str`: the blocks are
        joined, and then replaced by the result."""
        if len(self) == 1 and isinstance(self[0], bytes) and self._loose == 0:
            return self[0]  # joined before
        cut = len(self) - self._loose
        loose = "".join(self[cut:]).encode("utf-8", "surrogatepass")  # type: ignore[arg-type]
        data = b"".join([*self[:cut], loose])  # type: ignore[list-item]
        super().clear()
        if data:
            super().append(data)
        self._loose = 0
        return data


@dataclass(frozen=True, slots=True)
class Finish:
    """The provider's end signal, mapped by the dialect to our outcome vocabulary.

    `outcome` is one of completed | truncated | tool_calls | paused | blocked |
    upstream_error | unknown (a value we do not know: never read as success).
    """

    raw: str | None
    outcome: str
    detail: str | None
    evidence: str
    nonstandard: bool = False
    # The API's plain "stop" also covers "a stop sequence matched" (OpenAI chat `stop`,
    # Gemini `STOP`, Ollama `stop`): with stop sequences in the request it cannot tell which.
    covers_stop_sequence: bool = False


@dataclass(slots=True)
class ToolCallState:
    index: int
    id: str | None = None
    name: str | None = None
    parts: list[str] = field(default_factory=list)
    free_text: bool = False  # Responses custom tools: the input is text, not JSON

    @property
    def arguments(self) -> str:
        return "".join(self.parts)

    @property
    def complete(self) -> bool:
        if self.free_text:
            return True
        args = self.arguments.strip() or "{}"
        try:
            safe_loads(args)
        except ValueError:
            return False
        return True


@dataclass(slots=True)
class StreamFacts:
    """Everything the verdict needs from the body; filled in as events are parsed."""

    dialect: str
    finish: Finish | None = None
    finish_is_end: bool = False  # Gemini, Ollama: the finish is the end; no terminator
    terminator_seen: bool = False
    terminator_name: str = ""
    nonstandard_terminator: bool = False  # a relay's `data: [DONE]` where the API has none
    error: ProviderError | None = None
    error_evidence: str = ""
    prompt_blocked: str | None = None
    order_error: str | None = None
    out_of_order: bool = False
    events: int = 0
    malformed: int = 0
    last_event_malformed: bool = False
    malformed_sample: str = ""
    unknown: int = 0
    text: TextParts = field(default_factory=TextParts)
    reasoning: TextParts = field(default_factory=TextParts)
    refusal: TextParts = field(default_factory=TextParts)
    tool_calls: dict[int, ToolCallState] = field(default_factory=dict)
    input_tokens: int | None = None
    output_tokens: int | None = None
    usage_seen: bool = False
    response_id: str | None = None

    @property
    def had_output(self) -> bool:
        return bool(self.text or self.reasoning or self.refusal or self.tool_calls)


class Parser(ABC):
    """Base for dialect parsers: `feed(name, data, t_ns) -> list[StreamEvent]`."""

    dialect = ""
    framing = "sse"  # sse | ndjson

    def __init__(self) -> None:
        self.facts = StreamFacts(self.dialect)

    def feed(self, name: str, data: str, t_ns: int = 0) -> list[StreamEvent]:
        facts = self.facts
        facts.events += 1
        out: list[StreamEvent] = []
        try:
            obj = safe_loads(data)
        except ValueError:
            obj = _NOT_JSON
        if obj is _NOT_JSON:
            handled = self.parse_text(name, data, t_ns, out)
            if not handled:
                self._malformed(data)
                return out
        else:
            try:
                self.parse(name, obj, t_ns, out)
            except (
                AttributeError,
                TypeError,
                KeyError,
                ValueError,
                IndexError,
                OverflowError,
                RecursionError,
            ):
                # A shape the dialect does not expect (a string where an object belongs):
                # the event is malformed, the stream goes on.
                self._malformed(data)
                return out
        facts.last_event_malformed = False
        return out

    def _malformed(self, data: str) -> None:
        self.facts.malformed += 1
        self.facts.last_event_malformed = True
        if not self.facts.malformed_sample:
            self.facts.malformed_sample = data[:80]

    # --- hooks for subclasses ---

    @abstractmethod
    def parse(self, name: str, obj: Any, t_ns: int, out: list[StreamEvent]) -> None:
        """Turn one decoded JSON payload into normalized events appended to `out`."""

    def parse_text(self, name: str, data: str, t_ns: int, out: list[StreamEvent]) -> bool:
        """A data payload that is not JSON; return True when the dialect knows it.

        A relay (LiteLLM) appends OpenAI chat's `data: [DONE]` to streams whose API has no
        such line (Responses, Anthropic, Gemini): a nonstandard terminator, not corruption.
        It ends nothing: the dialect's own end signal still decides."""
        if self.framing == "sse" and data.strip() == "[DONE]":
            self.facts.nonstandard_terminator = True
            return True
        return False

    # --- helpers that keep facts and events in step ---

    def text(self, text: str, t_ns: int, out: list[StreamEvent]) -> None:
        _require_str(text)
        if text:
            self.facts.text.append(text)
            out.append(TextDelta(text, t_ns))

    def thinking(self, text: str, t_ns: int, out: list[StreamEvent]) -> None:
        _require_str(text)
        if text:
            self.facts.reasoning.append(text)
            out.append(ThinkingDelta(text, t_ns))

    def refusal(self, text: str, t_ns: int, out: list[StreamEvent]) -> None:
        _require_str(text)
        if text:
            self.facts.refusal.append(text)
            out.append(RefusalDelta(text, t_ns))

    def tool_delta(
        self,
        index: int,
        id_: str | None,
        name: str | None,
        args: str,
        t_ns: int,
        out: list[StreamEvent],
    ) -> None:
        if not isinstance(index, int) or isinstance(index, bool):
            raise TypeError(f"tool call index {index!r} is not an integer")
        _require_str(id_ or "")
        _require_str(name or "")
        call = self.facts.tool_calls.get(index)
        if call is None:
            call = self.facts.tool_calls[index] = ToolCallState(index)
        if id_:
            call.id = id_
        if name and not call.name:
            call.name = name
        if args and not isinstance(args, str):
            args = json.dumps(args, ensure_ascii=False)  # an object where a string belongs
        if args:
            call.parts.append(args)
        if id_ or name or args:
            out.append(ToolCallDelta(index, id_, name, args or "", t_ns))

    def usage(
        self, input_tokens: Any, output_tokens: Any, t_ns: int, out: list[StreamEvent]
    ) -> None:
        """Merge field by field: a later value replaces an earlier one, never summed."""
        facts = self.facts
        changed = False
        if _is_count(input_tokens):
            facts.input_tokens = input_tokens
            changed = True
        if _is_count(output_tokens):
            facts.output_tokens = output_tokens
            changed = True
        if changed:
            facts.usage_seen = True
            out.append(Usage(facts.input_tokens, facts.output_tokens, t_ns))

    def finish(self, finish: Finish, t_ns: int, out: list[StreamEvent]) -> None:
        self.facts.finish = finish
        out.append(StopSignal(finish.raw, t_ns))

    def error(
        self, code: Any, message: Any, evidence: str, t_ns: int, out: list[StreamEvent]
    ) -> None:
        err = ProviderError(None if code in (None, "") else str(code), str(message or ""), t_ns)
        if self.facts.error is None:
            self.facts.error = err
            self.facts.error_evidence = evidence
        out.append(err)


_NOT_JSON = object()
_MAX_COUNT = 2**53  # a token count beyond any float's exact range is not a count


def _require_str(value: Any) -> None:
    """A text field of another type is a malformed event (raised, caught in `feed`)."""
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < _MAX_COUNT


def auth_headers(spec: Any, default_scheme: str) -> dict[str, str]:
    """The auth header for the spec's key; no key, no header."""
    key = spec.api_key
    scheme = default_scheme if spec.auth_scheme == "auto" else spec.auth_scheme
    if not key or scheme == "none":
        return {}
    if scheme == "bearer":
        return {"Authorization": f"Bearer {key}"}
    return {scheme: key}


def join_url(base: str, path: str, query: dict[str, str] | None = None) -> str:
    """`base` + `path`, keeping a query already on either, then `query` (e.g. Azure's
    `api-version`) appended: `join_url("https://h/v1?a=1", "/x", {"b": "2"})` →
    `https://h/v1/x?a=1&b=2`."""
    root, _, base_query = base.partition("?")
    path, _, path_query = path.partition("?")
    extra = urlencode(query) if query else ""
    joined = "&".join(q for q in (base_query, path_query, extra) if q)
    url = root.rstrip("/") + path
    return f"{url}?{joined}" if joined else url


def post_json(
    spec: Any,
    path: str,
    body: dict[str, Any],
    auth_scheme: str,
    *,
    query: dict[str, str] | None = None,
    accept: str = "text/event-stream",
    headers: dict[str, str] | None = None,
) -> HttpRequest:
    """The streaming POST every dialect sends: JSON body with the extra parameters merged,
    the dialect's auth header, then the user's own headers (which win)."""
    all_headers = {
        "Content-Type": "application/json",
        "Accept": accept,
        **(headers or {}),
        **auth_headers(spec, auth_scheme),
        **spec.headers,
    }
    url = join_url(spec.base_url, path, spec.query if query is None else query)
    return HttpRequest("POST", url, all_headers, merge_body(body, spec.extra_body))


def merge_body(body: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Extra parameters win; nested dicts merge one level deep (e.g. generationConfig)."""
    merged = dict(body)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged
