"""Read what a request asks for, per dialect, into one ``Inbound`` value (pure).

Continuation (the partial text to continue from):
- Anthropic: a final ``assistant`` message (prefill). Like the real API, a prefill that ends
  in whitespace is a 400, and so is a prefill with ``thinking`` enabled.
- Chat, Gemini, Ollama, Responses ``input``: a final assistant message (vLLM
  ``continue_final_message``), or an assistant message followed by one final user message
  (whatever that message says). It only counts if the text is a prefix of the script.
- Responses ``previous_response_id``: resolved by the server (it remembers what each response
  id produced).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from .script import count_words

DIALECTS = ("openai-chat", "openai-responses", "anthropic", "gemini", "ollama")


class RequestError(Exception):
    """A request the real API would reject with a 400 (message says why)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class Inbound:
    dialect: str
    model: str
    stream: bool
    input_tokens: int
    max_tokens: int | None
    stop: tuple[str, ...]
    tool_name: str | None
    partial: str | None
    include_usage: bool
    previous_response_id: str | None
    fingerprint: str  # hash of the conversation, for fail_first


def _text(content: Any) -> str:
    """Text of a message's content: a string, or a list of text-ish parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        out = []
        for part in content:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                out.append(part["text"])
        return "".join(out)
    return ""


def _messages(body: dict[str, Any], dialect: str) -> list[tuple[str, str]]:
    """(role, text) pairs; role is system, user, assistant or another role as sent."""
    out: list[tuple[str, str]] = []
    if dialect == "gemini":
        system = body.get("systemInstruction") or body.get("system_instruction")
        if isinstance(system, dict):
            out.append(("system", _text(system.get("parts"))))
        for item in _list(body, "contents"):
            role = "assistant" if item.get("role") == "model" else str(item.get("role", "user"))
            out.append((role, _text(item.get("parts"))))
        return out
    if dialect == "openai-responses":
        if isinstance(body.get("instructions"), str):
            out.append(("system", body["instructions"]))
        raw = body.get("input")
        if isinstance(raw, str):
            return [*out, ("user", raw)]
        for item in raw if isinstance(raw, list) else []:
            if isinstance(item, dict) and "role" in item:
                out.append((str(item["role"]), _text(item.get("content"))))
        return out
    if dialect == "anthropic" and body.get("system") is not None:
        out.append(("system", _text(body["system"])))
    for item in _list(body, "messages"):
        out.append((str(item.get("role", "user")), _text(item.get("content"))))
    return out


def _list(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise RequestError(f"{key}: expected a list of objects")
    return value


def _partial(msgs: list[tuple[str, str]], prefill_only: bool) -> str | None:
    turns = [m for m in msgs if m[0] not in ("system", "developer")]
    if turns and turns[-1][0] == "assistant":
        return turns[-1][1]
    if not prefill_only and len(turns) >= 2 and turns[-2][0] == "assistant":
        return turns[-2][1] if turns[-1][0] == "user" else None
    return None


def _int_or_none(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RequestError(f"{field}: expected a positive integer")
    return value


def _stops(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, list):
        return tuple(s for s in value if isinstance(s, str) and s)
    return ()


def _tool_name(body: dict[str, Any], dialect: str) -> str | None:
    for tool in body.get("tools") or []:
        if not isinstance(tool, dict):
            continue
        if dialect == "gemini":
            for decl in tool.get("functionDeclarations") or tool.get("function_declarations") or []:
                if isinstance(decl, dict) and isinstance(decl.get("name"), str):
                    return decl["name"]
        elif isinstance(tool.get("function"), dict) and "name" in tool["function"]:
            return str(tool["function"]["name"])
        elif isinstance(tool.get("name"), str):
            return tool["name"]
    return None


def parse_inbound(dialect: str, body: Any, path_model: str | None = None) -> Inbound:
    """Read a request body; raises RequestError for what the real API rejects."""
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object")
    msgs = _messages(body, dialect)
    model = path_model if dialect == "gemini" else body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError("model: a model name is required")
    options = body.get("options") if isinstance(body.get("options"), dict) else {}
    gen = body.get("generationConfig") or body.get("generation_config") or {}
    gen = gen if isinstance(gen, dict) else {}
    if dialect == "openai-chat":
        max_tokens = _int_or_none(
            body.get("max_completion_tokens", body.get("max_tokens")), "max_tokens"
        )
        stop = _stops(body.get("stop"))
    elif dialect == "openai-responses":
        max_tokens = _int_or_none(body.get("max_output_tokens"), "max_output_tokens")
        stop = ()
    elif dialect == "anthropic":
        if body.get("max_tokens") is None:
            raise RequestError("max_tokens: Field required")
        max_tokens = _int_or_none(body.get("max_tokens"), "max_tokens")
        stop = _stops(body.get("stop_sequences"))
    elif dialect == "gemini":
        max_tokens = _int_or_none(gen.get("maxOutputTokens"), "generationConfig.maxOutputTokens")
        stop = _stops(gen.get("stopSequences"))
    else:
        raw = options.get("num_predict")
        unlimited = isinstance(raw, int) and raw < 0  # Ollama: -1 means no limit
        max_tokens = None if unlimited else _int_or_none(raw, "options.num_predict")
        stop = _stops(options.get("stop"))
    partial = _partial(msgs, prefill_only=dialect == "anthropic")
    if dialect == "anthropic" and partial is not None:
        _check_prefill(body, partial)
    stream_default = dialect in ("gemini", "ollama")
    stream_options = body.get("stream_options")
    conversation = {
        k: body.get(k)
        for k in ("messages", "system", "contents", "systemInstruction", "input", "instructions")
    }
    conversation["previous_response_id"] = body.get("previous_response_id")
    digest = hashlib.sha256(json.dumps(conversation, sort_keys=True).encode()).hexdigest()
    previous = body.get("previous_response_id")
    return Inbound(
        dialect=dialect,
        model=model,
        stream=bool(body.get("stream", stream_default)),
        input_tokens=count_words([text for _, text in msgs]),
        max_tokens=max_tokens,
        stop=stop,
        tool_name=_tool_name(body, dialect),
        partial=partial,
        include_usage=isinstance(stream_options, dict)
        and bool(stream_options.get("include_usage")),
        previous_response_id=previous if isinstance(previous, str) else None,
        fingerprint=digest,
    )


def _check_prefill(body: dict[str, Any], partial: str) -> None:
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive"):
        raise RequestError(
            "messages: when `thinking` is enabled, a final `assistant` message must start "
            "with a thinking block; assistant prefill is not supported with thinking"
        )
    if partial and partial != partial.rstrip():
        raise RequestError("messages: final assistant content cannot end with trailing whitespace")
