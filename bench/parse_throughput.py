"""Parse throughput: our decoder and pipeline against httpx-sse and the official SDKs.

Builds a 100k-event OpenAI chat body and a 100k-event Anthropic body in memory (realistic
chunks, one short token per content event), cuts each into ~4 KB pieces, and measures:

  (a) SSE framing only: core.stream.sse.SSEDecoder vs httpx-sse's decoder used the way its own
      `iter_sse` uses it (incremental UTF-8 text decode as `Response.iter_text` does →
      `SSELineDecoder` → `line.rstrip("\\n")` → `SSEDecoder.decode`).
  (b) Framing + dialect: core.stream.pipeline.Pipeline(dialect, timed=False).feed(...) per piece,
      close() and verdict(), vs the SDK iterating every chunk/event of the same bytes,
      served by an httpx2.MockTransport (the SDKs are built on httpx2) so that parsing, not
      the network, is measured.

Best of N runs each (time.perf_counter), events/s, ratio = ours / baseline. Prints a
markdown table. Asserts nothing.

    python bench/parse_throughput.py [--events 100000] [--runs 3] [--chunk 4096]
    python bench/parse_throughput.py --profile openai-chat   # cProfile of our pipeline
"""

from __future__ import annotations

import argparse
import codecs
import cProfile
import gc
import io
import json
import platform
import pstats
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import anthropic
import httpx2
import httpx_sse
import openai
from httpx_sse._decoders import SSEDecoder as HxSSEDecoder
from httpx_sse._decoders import SSELineDecoder

from core.stream.pipeline import Pipeline
from core.stream.sse import SSEDecoder

TOKENS = [
    " the", " model", " is", " stream", "ing", " tok", "ens", ",", " one", " at",
    " a", " time", ".", " Ça", " va", " très", " bien", " —", " 数据", " 🌍",
]  # fmt: skip


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


# --------------------------------------------------------------------------------------
# Bodies
# --------------------------------------------------------------------------------------


def openai_body(n_events: int) -> tuple[bytes, int]:
    """role chunk, content chunks, finish chunk, include_usage chunk, [DONE]: n_events."""
    head = {
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "object": "chat.completion.chunk",
        "created": 1_741_570_283,
        "model": "gpt-4o-mini-2024-07-18",
        "service_tier": "default",
        "system_fingerprint": "fp_06737a9306",
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return f"data: {_dumps({**head, 'choices': [choice], 'usage': None})}\n\n".encode()

    n_content = n_events - 4
    parts = [chunk({"role": "assistant", "content": "", "refusal": None})]
    parts += [chunk({"content": TOKENS[i % len(TOKENS)]}) for i in range(n_content)]
    parts.append(chunk({}, "stop"))
    usage = {"prompt_tokens": 21, "completion_tokens": n_content, "total_tokens": 21 + n_content}
    parts.append(f"data: {_dumps({**head, 'choices': [], 'usage': usage})}\n\n".encode())
    parts.append(b"data: [DONE]\n\n")
    return b"".join(parts), n_content


def anthropic_body(n_events: int) -> tuple[bytes, int]:
    """message_start, content_block_start, ping, deltas, content_block_stop,
    message_delta, message_stop: n_events."""

    def ev(name: str, obj: dict[str, Any]) -> bytes:
        return f"event: {name}\ndata: {_dumps({'type': name, **obj})}\n\n".encode()

    n_content = n_events - 6
    usage = {
        "input_tokens": 21,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": 1,
    }
    message = {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }
    parts = [
        ev("message_start", {"message": message}),
        ev("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
        ev("ping", {}),
    ]
    parts += [
        ev(
            "content_block_delta",
            {"index": 0, "delta": {"type": "text_delta", "text": TOKENS[i % len(TOKENS)]}},
        )
        for i in range(n_content)
    ]
    parts += [
        ev("content_block_stop", {"index": 0}),
        ev(
            "message_delta",
            {
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": n_content},
            },
        ),
        ev("message_stop", {}),
    ]
    return b"".join(parts), n_content


def pieces(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


# --------------------------------------------------------------------------------------
# Contenders
# --------------------------------------------------------------------------------------


def ours_sse(chunks: list[bytes]) -> int:
    dec = SSEDecoder()
    n = 0
    for c in chunks:
        n += len(dec.feed(c))
    return n + len(dec.close())


def httpx_sse_decode(chunks: list[bytes]) -> int:
    """httpx-sse's `EventSource.iter_sse` over `_iter_sse_lines`, minus the httpx Response:
    the same TextDecoder `Response.iter_text` uses, then its line and event decoders."""
    text = codecs.getincrementaldecoder("utf-8")(errors="replace")
    lines = SSELineDecoder()
    sse = HxSSEDecoder()
    n = 0
    for c in chunks:
        for line in lines.decode(text.decode(c)):
            if sse.decode(line.rstrip("\n")) is not None:
                n += 1
    for line in lines.decode(text.decode(b"", True)) + lines.flush():
        if sse.decode(line.rstrip("\n")) is not None:
            n += 1
    return n


def ours_pipeline(dialect: str) -> Callable[[list[bytes]], int]:
    def run(chunks: list[bytes]) -> int:
        pipe = Pipeline(dialect, timed=False)
        n = 0
        for c in chunks:
            n += len(pipe.feed(c).wire)
        n += len(pipe.close().wire)
        verdict = pipe.verdict()
        assert verdict.outcome == "completed", verdict.explanation
        return n

    return run


class _Replay:
    """An httpx2 transport that answers every request with the current body, in pieces."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        def stream() -> Iterator[bytes]:
            yield from self.chunks

        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=stream())


_replay = _Replay()
_MESSAGES = [{"role": "user", "content": "hi"}]


def _http() -> httpx2.Client:
    return httpx2.Client(transport=httpx2.MockTransport(_replay))


def sdk_openai(client: openai.OpenAI) -> Callable[[list[bytes]], int]:
    def run(chunks: list[bytes]) -> int:
        _replay.chunks = chunks
        n = 0
        stream = client.chat.completions.create(model="m", messages=_MESSAGES, stream=True)
        with stream:
            for _ in stream:
                n += 1
        return n + 1  # [DONE] ends the iteration without being yielded

    return run


def sdk_anthropic_raw(client: anthropic.Anthropic) -> Callable[[list[bytes]], int]:
    def run(chunks: list[bytes]) -> int:
        _replay.chunks = chunks
        n = 0
        stream = client.messages.create(model="m", max_tokens=10, messages=_MESSAGES, stream=True)
        with stream:
            for _ in stream:
                n += 1
        return n + 1  # the ping is skipped by the SDK

    return run


def sdk_anthropic_helper(client: anthropic.Anthropic) -> Callable[[list[bytes]], int]:
    def run(chunks: list[bytes]) -> int:
        _replay.chunks = chunks
        with client.messages.stream(model="m", max_tokens=10, messages=_MESSAGES) as stream:
            for _ in stream:
                pass
            stream.get_final_message()
        return -1

    return run


# --------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------


def best_of(fn: Callable[[list[bytes]], int], chunks: list[bytes], runs: int) -> tuple[float, int]:
    best = float("inf")
    count = 0
    for _ in range(runs):
        gc.collect()
        t = time.perf_counter()
        count = fn(chunks)
        best = min(best, time.perf_counter() - t)
    return best, count


def fmt_rate(events: int, seconds: float) -> str:
    return f"{events / seconds / 1000:,.0f} k"


def profile(dialect: str, n_events: int, chunk: int) -> None:
    body, _ = (openai_body if dialect == "openai-chat" else anthropic_body)(n_events)
    chunks = pieces(body, chunk)
    prof = cProfile.Profile()
    prof.enable()
    ours_pipeline(dialect)(chunks)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(25)
    print(out.getvalue())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=4096)
    ap.add_argument("--profile", choices=["openai-chat", "anthropic"])
    args = ap.parse_args()
    if args.profile:
        profile(args.profile, args.events, args.chunk)
        return

    bodies = {
        "openai-chat": openai_body(args.events),
        "anthropic": anthropic_body(args.events),
    }
    rows: list[tuple[str, str, str, str, str, str]] = []
    with (
        openai.OpenAI(
            base_url="http://mock.invalid/v1", api_key="x", max_retries=0, http_client=_http()
        ) as oai,
        anthropic.Anthropic(
            base_url="http://mock.invalid", api_key="x", max_retries=0, http_client=_http()
        ) as ant,
    ):
        for dialect, (body, _) in bodies.items():
            chunks = pieces(body, args.chunk)
            t_ours, n_ours = best_of(ours_sse, chunks, args.runs)
            t_base, n_base = best_of(httpx_sse_decode, chunks, args.runs)
            assert n_ours == n_base == args.events, (n_ours, n_base)
            rows.append(
                (
                    f"(a) SSE decode, {dialect}",
                    fmt_rate(n_ours, t_ours),
                    f"httpx-sse {getattr(httpx_sse, '__version__', '')}".strip(),
                    fmt_rate(n_base, t_base),
                    f"{t_base / t_ours:.2f}×",
                    "≥ 1×",
                )
            )
        baselines: list[tuple[str, str, Callable[[list[bytes]], int]]] = [
            ("openai-chat", f"openai {openai.__version__} stream", sdk_openai(oai)),
            ("anthropic", f"anthropic {anthropic.__version__} raw stream", sdk_anthropic_raw(ant)),
            (
                "anthropic",
                f"anthropic {anthropic.__version__} messages.stream()",
                sdk_anthropic_helper(ant),
            ),
        ]
        for dialect, name, fn in baselines:
            body, _ = bodies[dialect]
            chunks = pieces(body, args.chunk)
            t_ours, n_ours = best_of(ours_pipeline(dialect), chunks, args.runs)
            t_base, n_base = best_of(fn, chunks, args.runs)
            assert n_ours == args.events, n_ours
            assert n_base in (args.events, -1), n_base
            rows.append(
                (
                    f"(b) decode + dialect, {dialect}",
                    fmt_rate(args.events, t_ours),
                    name,
                    fmt_rate(args.events, t_base),
                    f"{t_base / t_ours:.2f}×",
                    "≥ 1.5×",
                )
            )

    sizes = ", ".join(f"{d} {len(b) / 1e6:.1f} MB" for d, (b, _) in bodies.items())
    print(
        f"Parse throughput: {args.events:,} events per body ({sizes}), "
        f"{args.chunk} B pieces, best of {args.runs}; "
        f"Python {platform.python_version()} on {platform.machine()}\n"
    )
    print(
        "| Measurement | StreamScope (events/s) | Baseline | Baseline (events/s) | Ratio | Target |"
    )
    print("|---|---:|---|---:|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
