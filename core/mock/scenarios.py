"""Scenario names and the ``x-mock-params`` parameters.

A scenario is picked by model ``mock-<scenario>`` or the ``x-mock-scenario`` header; any model
not starting with ``mock-`` plays ``normal``. Parameters come from the ``x-mock-params`` header
(``tokens=400;tps=200;cut_at=120``), over the server's defaults, over the values below.
Unknown keys are ignored; a bad value raises ``ParamError`` (the server answers 400).

What each scenario does (C chat, R Responses, A Anthropic, G Gemini, O Ollama; "cut" is
``cut_at``, an absolute token index of the reply, default half of ``tokens``):

normal               the script, natural finish (a request max-token limit → its signal)
max_tokens           cut at the request's max tokens (and at ``cut_at`` only when given)
                     with the max-tokens signal; a large enough limit completes
stop_sequence        cut at the first request stop sequence found, else at cut; A
                     stop_sequence + value, C stop + vLLM stop_reason, R completed, G/O stop
tool_call            one complete call (C/R/A streamed arguments; G/O whole arguments)
tool_call_truncated  ~150 argument fragments; under the max-token limit: cut mid-arguments
                     with the max-tokens signal (G/O: no call, MAX_TOKENS / length)
thinking             reasoning first (C reasoning_content, R reasoning summary, A thinking
                     block + signature, G thought parts, O message.thinking), then the answer
refusal              C/R refusal deltas; A text to cut then stop_reason refusal; G SAFETY, no
                     text; O a plain refusal text and stop
content_filter       C content_filter, R incomplete content_filter, G SAFETY (``block=1``:
                     promptFeedback.blockReason, no candidates), all after text to cut;
                     A stop_reason refusal (no content filter there); O plays normal
pause_turn           A text to cut then pause_turn (a resend completes); others normal
context_window       A text to cut then model_context_window_exceeded; others HTTP 400
empty_reply          a natural finish with no text
relay_alias          C only: finish_reason = ``alias`` (default max_tokens; end_turn, stop,
                     tool_use and "" send the whole reply, others cut); others normal
missing_done         C no [DONE]; A no message_stop; R ends after output_text.done; G/O end
                     before the finish chunk
done_without_finish  C [DONE] without a finish chunk; A message_stop without message_delta;
                     R/G/O as missing_done (they have no separate terminator)
usage_chunk          C usage in every chunk plus a final usage chunk; others normal
mid_stream_error     text to cut, then C data:{"error"}, R response.failed server_error, A
                     event: error overloaded_error, G error UNAVAILABLE, O {"error"} line
http_429/500/529     an error body in the dialect's format before any stream; 429 carries
                     Retry-After and retry-after-ms; 529 is Anthropic's, others answer 503
bad_content_type     200 with application/json and the dialect's error body
malformed_line       one truncated JSON event at cut, then the stream goes on and ends well
eof_mid_stream       text to cut, then the chunked body ends properly without a finish
reset_mid_stream     text to cut, then a real TCP reset (SO_LINGER 0 + abort)
stall                text to cut, silence for ``stall_ms`` (default 10 min), then the rest
slow_first_byte      nothing at all, headers included, for ``first_byte_ms`` (default 5 s)
utf8_split           every write holding a multi-byte character is cut inside it
crlf                 SSE lines end in CRLF (G always does; O lines too)
bom                  a UTF-8 BOM before the first byte of the body
comments_keepalive   SSE comments (": OPENROUTER PROCESSING", ": keep-alive"), A also extra
                     ``event: ping``; O normal (NDJSON has no comments)

A continuation whose partial text already reaches past cut plays normal (the fault is
behind it), so Continue completes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass

SCENARIOS: tuple[str, ...] = (
    # how a reply ends
    "normal",
    "max_tokens",
    "stop_sequence",
    "tool_call",
    "tool_call_truncated",
    "thinking",
    "refusal",
    "content_filter",
    "pause_turn",
    "context_window",
    "empty_reply",
    # relay quirks
    "relay_alias",
    "missing_done",
    "done_without_finish",
    "usage_chunk",
    # errors
    "mid_stream_error",
    "http_429",
    "http_500",
    "http_529",
    "bad_content_type",
    # transport
    "malformed_line",
    "eof_mid_stream",
    "reset_mid_stream",
    "stall",
    "slow_first_byte",
    # framing
    "utf8_split",
    "crlf",
    "bom",
    "comments_keepalive",
)

ALL_DIALECTS = ("openai-chat", "openai-responses", "anthropic", "gemini", "ollama")
_C, _R, _A, _G, _O = ALL_DIALECTS

# One line per scenario for pickers and tooltips, and the dialects that play it (the others
# play it as ``normal`` or as the note says).
SCENARIO_NOTES: dict[str, tuple[str, tuple[str, ...]]] = {
    "normal": ("The script, finished naturally.", ALL_DIALECTS),
    "max_tokens": (
        "Cut by the request's max tokens (set it below the reply); More tokens completes.",
        ALL_DIALECTS,
    ),
    "stop_sequence": ("Stops at the first stop sequence found in the text.", ALL_DIALECTS),
    "tool_call": ("One complete tool call.", ALL_DIALECTS),
    "tool_call_truncated": (
        "A long tool call cut mid-arguments by max tokens (Gemini/Ollama: no call).",
        (_C, _R, _A),
    ),
    "thinking": ("Reasoning first, then the answer.", ALL_DIALECTS),
    "refusal": ("The model declines.", ALL_DIALECTS),
    "content_filter": (
        "Text, then the provider's content filter (Ollama has none).",
        (_C, _R, _A, _G),
    ),
    "pause_turn": ("Anthropic pause_turn: Continue resends and completes.", (_A,)),
    "context_window": (
        "Anthropic: cut by the context window; the others answer HTTP 400.",
        (_A,),
    ),
    "empty_reply": ("A natural finish with no text.", ALL_DIALECTS),
    "relay_alias": ('A relay\'s foreign finish_reason ("max_tokens").', (_C,)),
    "missing_done": ("The end signal never comes; the body ends properly.", ALL_DIALECTS),
    "done_without_finish": ("[DONE] / message_stop without a finish reason.", ALL_DIALECTS),
    "usage_chunk": ("Usage in every chunk and a final usage chunk.", (_C,)),
    "mid_stream_error": ("Text, then an error event inside the 200 stream.", ALL_DIALECTS),
    "http_429": ("HTTP 429 with Retry-After; Retry succeeds after Fail first N.", ALL_DIALECTS),
    "http_500": ("HTTP 500 before any stream.", ALL_DIALECTS),
    "http_529": ("HTTP 529 overloaded (503 outside Anthropic).", ALL_DIALECTS),
    "bad_content_type": ("200 with application/json: an error body, not a stream.", ALL_DIALECTS),
    "malformed_line": ("One truncated JSON event, then the stream ends well.", ALL_DIALECTS),
    "eof_mid_stream": ("Text, then the body ends without an end signal.", ALL_DIALECTS),
    "reset_mid_stream": ("Text, then a real TCP reset.", ALL_DIALECTS),
    "stall": ("Text, then silence for Stall for (ms); the stall timeout ends it.", ALL_DIALECTS),
    "slow_first_byte": ("Nothing at all for First byte (ms), default 5 s.", ALL_DIALECTS),
    "utf8_split": ("Multi-byte characters split across writes.", ALL_DIALECTS),
    "crlf": ("SSE lines end in CRLF.", ALL_DIALECTS),
    "bom": ("A UTF-8 BOM before the body.", ALL_DIALECTS),
    "comments_keepalive": ("SSE comments and pings between events (not Ollama).", (_C, _R, _A, _G)),
}

# Faults that ``fail_first=N`` turns into ``normal`` after N tries; the other scenarios are
# kinds of success (or a property of the request) and play every time.
FAULT_SCENARIOS: frozenset[str] = frozenset(
    {
        "relay_alias",
        "missing_done",
        "done_without_finish",
        "mid_stream_error",
        "http_429",
        "http_500",
        "http_529",
        "bad_content_type",
        "malformed_line",
        "eof_mid_stream",
        "reset_mid_stream",
        "stall",
        "slow_first_byte",
        "empty_reply",
    }
)


class ParamError(ValueError):
    """A mock parameter that cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Params:
    tokens: int = 200  # length of the whole reply (partial + continuation), in script tokens
    tps: float = 50.0  # content events per second
    first_byte_ms: float | None = None  # None: 0, or 5000 for slow_first_byte
    jitter_ms: float = 0.0  # ± uniform jitter on each content event's send time
    cut_at: int | None = None  # absolute token index of a fault; None: tokens // 2
    fail_first: int = 0  # 0: the fault every time
    alias: str = "max_tokens"  # relay_alias's finish_reason
    retry_after: float = 1.0  # http_429's Retry-After, seconds
    stall_ms: float = 600_000.0  # stall's silence
    block: bool = False  # Gemini content_filter: block the prompt instead

    @property
    def cut(self) -> int:
        return self.tokens // 2 if self.cut_at is None else self.cut_at

    def first_byte_s(self, scenario: str) -> float:
        if self.first_byte_ms is not None:
            return self.first_byte_ms / 1000
        return 5.0 if scenario == "slow_first_byte" else 0.0


def _int(value: str) -> int:
    n = int(value)
    if n < 0:
        raise ValueError
    return n


def _float(value: str) -> float:
    x = float(value)
    if not x >= 0 or x == float("inf"):
        raise ValueError
    return x


def _positive(value: str) -> float:
    x = _float(value)
    if x == 0:
        raise ValueError
    return x


def _bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError


_CONVERTERS: dict[str, tuple[Callable[[str], object], str]] = {
    "tokens": (_int, "a whole number >= 0"),
    "tps": (_positive, "a number > 0"),
    "first_byte_ms": (_float, "a number >= 0"),
    "jitter_ms": (_float, "a number >= 0"),
    "cut_at": (_int, "a whole number >= 0"),
    "fail_first": (_int, "a whole number >= 0"),
    "alias": (str, "any text"),
    "retry_after": (_float, "a number >= 0"),
    "stall_ms": (_float, "a number >= 0"),
    "block": (_bool, "0 or 1"),
}


def parse_params(spec: str | Mapping[str, str] | None, base: Params | None = None) -> Params:
    """Parse ``k=v;k=v`` (or a mapping) over ``base``; raises ParamError on a bad value."""
    params = base or Params()
    if not spec:
        return params
    if isinstance(spec, str):
        items: list[tuple[str, str]] = []
        for part in spec.split(";"):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            if not sep:
                raise ParamError(f"x-mock-params: expected key=value, got {part.strip()!r}")
            items.append((key.strip(), value.strip()))
    else:
        items = [(str(k).strip(), str(v).strip()) for k, v in spec.items()]
    changes: dict[str, object] = {}
    for key, value in items:
        if key not in _CONVERTERS:
            continue
        convert, expected = _CONVERTERS[key]
        try:
            changes[key] = convert(value)
        except ValueError:
            raise ParamError(f"x-mock-params: {key} must be {expected}, got {value!r}") from None
    return dataclasses.replace(params, **changes)


def scenario_for(model: str, header: str | None) -> str | None:
    """The scenario a request asks for, or None if it names an unknown one."""
    if header:
        name = header.strip().removeprefix("mock-")
        return name if name in SCENARIOS else None
    if not model.startswith("mock-"):
        return "normal"
    name = model.removeprefix("mock-")
    return name if name in SCENARIOS else None
