"""Captured-style stream bodies, built the way each provider writes them on the wire."""

from __future__ import annotations

import json
from typing import Any


def sse(*events: Any, end: str = "\n") -> bytes:
    """Each event: a dict (data only), a (name, dict) pair, or a raw str line block."""
    out = []
    for ev in events:
        if isinstance(ev, str):
            out.append(ev + end + end if not ev.endswith(end * 2) else ev)
        elif isinstance(ev, tuple):
            name, data = ev
            out.append(f"event: {name}{end}data: {json.dumps(data)}{end}{end}")
        else:
            out.append(f"data: {json.dumps(ev)}{end}{end}")
    return "".join(out).encode()


# --- OpenAI chat ---


def chat_chunk(delta: dict | None = None, finish: str | None = None, **extra: Any) -> dict:
    choice: dict[str, Any] = {"index": 0, "delta": delta or {}, "finish_reason": finish}
    choice.update(extra.pop("choice_extra", {}))
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-x",
        "choices": [choice],
        **extra,
    }


def chat(
    *texts: str,
    finish: str | None = "stop",
    done: bool = True,
    usage: bool = False,
    role: bool = True,
    **finish_extra: Any,
) -> bytes:
    events: list[Any] = []
    if role:
        events.append(chat_chunk({"role": "assistant", "content": ""}))
    events += [chat_chunk({"content": t}) for t in texts]
    if finish is not None:
        events.append(chat_chunk({}, finish, **finish_extra))
    if usage:
        events.append(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "choices": [],
                "usage": {
                    "prompt_tokens": 9,
                    "completion_tokens": len(texts),
                    "total_tokens": 9 + len(texts),
                },
            }
        )
    if done:
        events.append("data: [DONE]")
    return sse(*events)


def chat_tool(args_parts: list[str], finish: str | None = "tool_calls", done: bool = True) -> bytes:
    events: list[Any] = [
        chat_chunk(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": ""},
                    }
                ],
            }
        )
    ]
    events += [
        chat_chunk({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}) for p in args_parts
    ]
    if finish is not None:
        events.append(chat_chunk({}, finish))
    if done:
        events.append("data: [DONE]")
    return sse(*events)


# --- Anthropic ---


def anthropic(
    *texts: str,
    stop: str | None = "end_turn",
    message_stop: bool = True,
    stop_sequence: str | None = None,
    pings: bool = False,
    thinking: str | None = None,
    out_tokens: int | None = None,
) -> bytes:
    ev: list[Any] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-x",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 12, "output_tokens": 1},
                },
            },
        )
    ]
    idx = 0
    if thinking is not None:
        ev += [
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": idx,
                    "content_block": {"type": "thinking", "thinking": ""},
                },
            ),
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": idx,
                    "delta": {"type": "thinking_delta", "thinking": thinking},
                },
            ),
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": idx,
                    "delta": {"type": "signature_delta", "signature": "sig"},
                },
            ),
            ("content_block_stop", {"type": "content_block_stop", "index": idx}),
        ]
        idx += 1
    ev.append(
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": idx,
                "content_block": {"type": "text", "text": ""},
            },
        )
    )
    if pings:
        ev.append(("ping", {"type": "ping"}))
    for t in texts:
        ev.append(
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": idx,
                    "delta": {"type": "text_delta", "text": t},
                },
            )
        )
    ev.append(("content_block_stop", {"type": "content_block_stop", "index": idx}))
    if stop is not None:
        ev.append(
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": stop_sequence},
                    "usage": {"output_tokens": out_tokens or len(texts)},
                },
            )
        )
    if message_stop:
        ev.append(("message_stop", {"type": "message_stop"}))
    return sse(*ev)


def anthropic_tool(parts: list[str], stop: str = "tool_use") -> bytes:
    ev: list[Any] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {"id": "msg_2", "usage": {"input_tokens": 20, "output_tokens": 1}},
            },
        ),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "get_weather",
                    "input": {},
                },
            },
        ),
    ]
    ev += [
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": p},
            },
        )
        for p in parts
    ]
    ev += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop},
                "usage": {"output_tokens": 30},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return sse(*ev)


# --- OpenAI Responses ---


def responses(
    *texts: str,
    final: str = "response.completed",
    reason: str | None = None,
    error: dict | None = None,
    tool_args: list[str] | None = None,
    skip_seq: bool = False,
) -> bytes:
    seq = iter(range(1000))
    resp = {"id": "resp_1", "object": "response", "status": "in_progress", "output": []}
    ev: list[Any] = [
        (
            "response.created",
            {"type": "response.created", "response": resp, "sequence_number": next(seq)},
        )
    ]
    if skip_seq:
        next(seq)
    if tool_args is not None:
        ev.append(
            (
                "response.output_item.added",
                {
                    "type": "response.output_item.added",
                    "output_index": 0,
                    "sequence_number": next(seq),
                    "item": {
                        "type": "function_call",
                        "id": "fc_1",
                        "call_id": "call_1",
                        "name": "get_weather",
                        "arguments": "",
                    },
                },
            )
        )
        ev += [
            (
                "response.function_call_arguments.delta",
                {
                    "type": "response.function_call_arguments.delta",
                    "output_index": 0,
                    "item_id": "fc_1",
                    "delta": p,
                    "sequence_number": next(seq),
                },
            )
            for p in tool_args
        ]
    for t in texts:
        ev.append(
            (
                "response.output_text.delta",
                {
                    "type": "response.output_text.delta",
                    "item_id": "msg_1",
                    "output_index": 0,
                    "content_index": 0,
                    "delta": t,
                    "sequence_number": next(seq),
                },
            )
        )
    if final:
        body = {
            **resp,
            "status": final.split(".")[1],
            "usage": {"input_tokens": 5, "output_tokens": len(texts)},
        }
        if reason:
            body["incomplete_details"] = {"reason": reason}
        if error:
            body["error"] = error
        ev.append((final, {"type": final, "response": body, "sequence_number": next(seq)}))
    return sse(*ev)


# --- Gemini ---


def gemini(*texts: str, finish: str | None = "STOP", calls: list[dict] | None = None) -> bytes:
    ev = []
    for i, t in enumerate(texts):
        chunk: dict[str, Any] = {
            "candidates": [{"content": {"parts": [{"text": t}], "role": "model"}, "index": 0}],
            "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": i + 1},
        }
        ev.append(chunk)
    if calls:
        ev.append(
            {
                "candidates": [
                    {
                        "content": {"parts": [{"functionCall": c} for c in calls], "role": "model"},
                        "index": 0,
                    }
                ]
            }
        )
    if finish is not None:
        ev.append(
            {
                "candidates": [
                    {
                        "content": {"parts": [{"text": ""}], "role": "model"},
                        "finishReason": finish,
                        "index": 0,
                    }
                ],
                "usageMetadata": {
                    "promptTokenCount": 7,
                    "candidatesTokenCount": len(texts),
                    "totalTokenCount": 7 + len(texts),
                },
            }
        )
    return sse(*ev, end="\r\n")


# --- Ollama ---


def ollama(
    *texts: str,
    done_reason: str | None = "stop",
    done: bool = True,
    calls: list[dict] | None = None,
) -> bytes:
    lines = [
        json.dumps(
            {"model": "llama3", "message": {"role": "assistant", "content": t}, "done": False}
        )
        for t in texts
    ]
    if calls:
        lines.append(
            json.dumps(
                {
                    "model": "llama3",
                    "message": {"role": "assistant", "content": "", "tool_calls": calls},
                    "done": False,
                }
            )
        )
    if done:
        last: dict[str, Any] = {
            "model": "llama3",
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "prompt_eval_count": 11,
            "eval_count": len(texts),
        }
        if done_reason is not None:
            last["done_reason"] = done_reason
        lines.append(json.dumps(last))
    return ("\n".join(lines) + "\n").encode()
