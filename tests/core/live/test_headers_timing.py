"""`metrics.headers_ms` and `tpot_ms` (DESIGN §4) over loopback: a server that sends its
headers at once and computes before its first body byte, as llama.cpp does."""

from __future__ import annotations

import json

from core import RunFinished, RunSpec, diagnose_bytes, run
from core.record.savefile import RunRecorder
from tests.core.wire_server import Reply, wire_server

BODY = [
    b'data: {"choices":[{"index":0,"delta":{"role":"assistant"}}]}\n\n',
    b'data: {"choices":[{"index":0,"delta":{"content":"Hello"}}]}\n\n',
    b'data: {"choices":[{"index":0,"delta":{"content":" there"}}]}\n\n',
    b'data: {"choices":[{"index":0,"delta":{"content":" friend"}}]}\n\n',
    b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
    b"data: [DONE]\n\n",
]


async def finish(spec: RunSpec, recorder: RunRecorder | None = None) -> RunFinished:
    last = None
    async for event in run(spec, recorder=recorder):
        last = event
    assert isinstance(last, RunFinished)
    return last


async def test_headers_ms_precedes_ttfb_when_the_server_computes_first(tmp_path) -> None:
    reply = Reply([0.02, *BODY[:2], 0.02, *BODY[2:]], first_byte_delay_s=0.3)
    async with wire_server({"slow": reply}) as srv:
        spec = RunSpec("openai-chat", srv.base("slow") + "/v1", "m", RunSpec.user("hi"))
        save = tmp_path / "run.jsonl"
        recorder = RunRecorder(save)
        done = await finish(spec, recorder)
        recorder.close()
    m = done.verdict.metrics
    assert done.verdict.label == "completed/natural"
    assert m.headers_ms is not None and m.ttfb_ms is not None
    assert m.ttfb_ms - m.headers_ms >= 250  # the server's compute time, now visible
    js = done.verdict.to_json()["metrics"]
    assert js["headers_ms"] == round(m.headers_ms, 3)
    # TPOT = (total − TTFT) / (N − 1) over the three content chunks
    assert m.tpot_ms is not None and m.tokens_source == "chunks"
    assert abs(m.tpot_ms - (m.total_ms - m.ttft_ms) / 2) < 1e-6
    # the saved run keeps the figure: diagnose replays the same headers_ms
    replay = diagnose_bytes(save.read_bytes())
    assert replay.verdict.metrics.headers_ms == m.headers_ms
    header = json.loads(save.read_text().splitlines()[0])
    assert header["response"]["t_ns"] == round(m.headers_ms * 1e6)


async def test_tpot_needs_two_tokens_and_plain_bodies_have_no_headers_time() -> None:
    async with wire_server({"one": Reply([BODY[1], BODY[4], BODY[5]])}) as srv:
        spec = RunSpec("openai-chat", srv.base("one") + "/v1", "m", RunSpec.user("hi"))
        m = (await finish(spec)).verdict.metrics
    assert m.headers_ms is not None and m.tpot_ms is None
    plain = diagnose_bytes(b"".join(BODY)).verdict.metrics
    assert plain.headers_ms is None and plain.tpot_ms is None
