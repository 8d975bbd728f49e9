"""The mock's deterministic script: text, tokens, and continuation matching.

Every reply is a prefix of one fixed English text (``script.txt``; over 2000 words, with
"café", "naïve", an em dash and emoji in the first 100 tokens so UTF-8 splitting is
exercised). One script for every prompt: the reply never depends on what was asked, so a test
can predict it exactly.

A token is a run of whitespace plus the non-whitespace run after it (``\\s*\\S+``), so
``"".join(tokens)`` rebuilds the text and a token never ends in whitespace. A reply of
``tokens=N`` is the first N tokens; past the end the script starts again after a blank line.

Continuation: ``continue_script(partial, n)`` finds where ``partial`` ends in the script (the
partial text as sent, or with its trailing whitespace stripped) and returns the rest of the
first ``n`` tokens, so ``partial + "".join(pieces)`` equals the N-token reply exactly (when
the partial was trimmed, the first piece brings the whitespace back). A partial that is not a
prefix of the script is not a continuation of ours: the reply starts from the beginning.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources

TOKEN_RE = re.compile(r"\s*\S+")
# JSON arguments are fragmented finer: words and punctuation runs separately.
_FRAGMENT_RE = re.compile(r"\s*(?:\w+|[^\w\s]+)")

REASONING_TEXT = (
    "The user wants a friendly reply about streaming. I should open with the idea of trust, "
    "mention why the first token matters, and keep the tone light and concrete. A short "
    "example about a café conversation would help the point land."
)
REFUSAL_TEXT = "I'm sorry, but I can't help with that request."
TOOL_CALL_ARGS = {"location": "Paris, France", "unit": "celsius"}
TOOL_CALL_NAME = "get_weather"
LONG_TOOL_NAME = "write_file"
_LONG_ARGS_WORDS = 124  # gives about 150 fragments of arguments JSON


@functools.cache
def script_text() -> str:
    """The whole script, trailing whitespace removed."""
    return resources.files(__package__).joinpath("script.txt").read_text("utf-8").rstrip()


@functools.cache
def script_tokens() -> tuple[str, ...]:
    return tuple(TOKEN_RE.findall(script_text()))


def tokenize(text: str) -> tuple[str, ...]:
    """Split text into tokens with their leading whitespace (``"".join`` gives it back)."""
    return tuple(TOKEN_RE.findall(text))


def fragment_json(text: str) -> tuple[str, ...]:
    """Split a JSON document into argument fragments the way models stream them."""
    frags = _FRAGMENT_RE.findall(text)
    assert "".join(frags) == text
    return tuple(frags)


def reply_tokens(n: int) -> tuple[str, ...]:
    """The first ``n`` tokens of the (endlessly repeated) script."""
    base = script_tokens()
    if n <= len(base):
        return base[:n]
    out = list(base)
    while len(out) < n:
        out.append("\n\n" + base[0])
        out.extend(base[1 : n - len(out) + 1])
    return tuple(out[:n])


def reply_text(n: int) -> str:
    """The full N-token reply as one string."""
    return "".join(reply_tokens(n))


@dataclass(frozen=True, slots=True)
class Reply:
    """The part of an N-token reply that is still to be sent.

    ``pieces[j]`` is script token ``first_index + j`` (``pieces[0]`` may be the tail of that
    token when the partial text ended inside it). ``matched`` is True when a partial text was
    recognised as a prefix of the script.
    """

    pieces: tuple[str, ...]
    first_index: int
    matched: bool


def match_partial(partial: str, n: int) -> int | None:
    """Character offset where ``partial`` ends in the script, or None if it is not ours."""
    horizon = reply_text(max(n, len(script_tokens())))
    for candidate in (partial, partial.rstrip()):
        if candidate and horizon.startswith(candidate):
            return len(candidate)
    return None


def continue_script(partial: str | None, n: int) -> Reply:
    """What remains of the N-token reply after ``partial`` (see the module docstring)."""
    toks = reply_tokens(n)
    offset = match_partial(partial, n) if partial else None
    if offset is None:
        return Reply(pieces=toks, first_index=0, matched=False)
    start = 0
    for i, tok in enumerate(toks):
        end = start + len(tok)
        if offset < end:
            return Reply(
                pieces=(tok[offset - start :], *toks[i + 1 :]), first_index=i, matched=True
            )
        start = end
    return Reply(pieces=(), first_index=len(toks), matched=True)


def reasoning_pieces() -> tuple[str, ...]:
    return tokenize(REASONING_TEXT)


def refusal_pieces() -> tuple[str, ...]:
    return tokenize(REFUSAL_TEXT)


def tool_arguments(long: bool) -> dict[str, str]:
    """The tool call's arguments: short for ``tool_call``, ~150 fragments for the truncated one."""
    if not long:
        return dict(TOOL_CALL_ARGS)
    return {"path": "notes/streaming.md", "content": reply_text(_LONG_ARGS_WORDS)}


def tool_fragments(args: dict[str, str]) -> tuple[str, ...]:
    return fragment_json(json.dumps(args, ensure_ascii=False))


def count_words(texts: list[str]) -> int:
    """Input tokens as the mock counts them: whitespace-separated words."""
    return sum(len(t.split()) for t in texts)
