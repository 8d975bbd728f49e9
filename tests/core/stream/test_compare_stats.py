"""Statistics and metric definitions for compare, against numbers worked out by hand from
each definition's formula (never from our code)."""

from __future__ import annotations

import json

import pytest

from core.stream.definitions import DEFINITIONS, samples
from core.stream.events import ResponseStarted
from core.stream.outcome import Verdict
from core.stream.pipeline import Pipeline
from core.stream.stamps import RunStamps, StampCollector
from core.stream.stats import lane_stats, percentile, summarize

MS = 1_000_000


def test_percentiles_match_hand_computed_linear_interpolation() -> None:
    # numpy.percentile([15, 20, 35, 40, 50], p): rank h = (n-1)·p/100, linear between ranks
    values = [50, 15, 40, 20, 35]
    s = summarize(values)
    assert s is not None
    assert (s.n, s.mean, s.min, s.max) == (5, 32.0, 15, 50)
    assert s.p50 == 35  # h = 2
    assert s.p90 == pytest.approx(46.0)  # h = 3.6: 40 + 0.6·10
    assert s.p95 == pytest.approx(48.0)  # h = 3.8
    assert s.p99 == pytest.approx(49.6)  # h = 3.96
    assert percentile([1, 2, 3, 4], 50) == 2.5  # h = 1.5
    assert percentile([1, 2, 3, 4], 90) == pytest.approx(3.7)  # h = 2.7
    assert summarize([]) is None
    one = summarize([7.0])
    assert one is not None and (one.p50, one.p99, one.mean) == (7.0, 7.0, 7.0)


def _sse(obj: object) -> bytes:
    return f"data: {json.dumps(obj)}\n\n".encode()


def _delta(content: str | None = None, role: str | None = None, finish: str | None = None):
    delta: dict[str, str] = {}
    if role:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


# A fixed recorded OpenAI chat run: (ms since t0, bytes of one network read).
RECORDED = [
    (50, _sse(_delta("", role="assistant"))),  # role-only, empty content: vLLM's first token
    (60, _sse(_delta("Hello"))),
    (70, _sse(_delta(" wor"))),
    (90, _sse(_delta("ld"))),
    (100, _sse(_delta("!"))),
    (102, _sse(_delta(finish="stop"))),  # still a message with `choices`
    (105, _sse({"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 5}})),
    (106, b"data: [DONE]\n\n"),
]
HEADERS_MS, END_MS, N = 40, 110, 5  # N from usage (5), not the 4 content chunks


def _recorded_stamps() -> RunStamps:
    pipe = Pipeline("openai-chat")
    collector = StampCollector("openai-chat")
    collector.feed(ResponseStarted(200, {}, HEADERS_MS * MS))
    from core.stream.events import ChunkReceived

    for i, (t_ms, data) in enumerate(RECORDED):
        collector.feed(ChunkReceived(i, len(data), data, t_ms * MS))
        step = pipe.feed(data, t_ms * MS, i)
        for event in (*step.wire, *step.events):
            collector.feed(event)
    verdict = pipe.verdict(total_ns=END_MS * MS, live=True)
    assert verdict.label == "completed/natural" and verdict.output_tokens == N
    return collector.build(END_MS * MS, verdict.output_tokens)


def _one(values: list[float]) -> float:
    assert len(values) == 1, values
    return values[0]


def test_the_recorded_run_stamps() -> None:
    s = _recorded_stamps()
    assert s.content_ns == tuple(t * MS for t in (60, 70, 90, 100))
    assert s.choices_ns == tuple(t * MS for t in (50, 60, 70, 90, 100, 102))
    assert (s.headers_ns, s.first_byte_ns, s.end_ns) == (40 * MS, 50 * MS, 110 * MS)
    assert (s.output_tokens, s.tokens_source) == (5, "usage")
    assert RunStamps.from_json(json.loads(json.dumps(s.to_json()))) == s


def test_streamscope_definition() -> None:
    got = samples(_recorded_stamps(), "streamscope")
    assert _one(got["ttfb_ms"]) == 50 and _one(got["headers_ms"]) == 40
    assert _one(got["ttft_ms"]) == 60 and _one(got["first_answer_ms"]) == 60
    assert _one(got["itl_ms"]) == pytest.approx((100 - 60) / (5 - 1))  # 10
    assert _one(got["tpot_ms"]) == pytest.approx((110 - 60) / (5 - 1))  # 12.5
    assert _one(got["e2e_ms"]) == 110
    assert _one(got["output_tokens_per_s"]) == pytest.approx((5 - 1) / 0.040)  # 100
    assert _one(got["output_tokens"]) == 5


def test_vllm_definition() -> None:
    got = samples(_recorded_stamps(), "vllm")
    assert _one(got["ttft_ms"]) == 50  # the role-only message counts
    assert _one(got["e2e_ms"]) == 102  # latency = the last message with choices
    assert got["itl_ms"] == pytest.approx([10, 10, 20, 10, 2])  # every gap, pooled
    assert _one(got["tpot_ms"]) == pytest.approx((102 - 50) / (5 - 1))  # 13
    assert got["output_tokens_per_s"] == []  # vLLM reports no per-request rate


def test_llmperf_definition() -> None:
    got = samples(_recorded_stamps(), "llmperf")
    assert _one(got["ttft_ms"]) == 60  # first non-empty delta.content
    # time_to_next_token = [60, 10, 20, 10]: sum 100 ms, divided by N = 5
    assert _one(got["itl_ms"]) == pytest.approx(100 / 5)
    assert _one(got["e2e_ms"]) == 110
    assert _one(got["output_tokens_per_s"]) == pytest.approx(5 / 0.110)
    assert got["tpot_ms"] == []


def test_aiperf_definition() -> None:
    got = samples(_recorded_stamps(), "aiperf")
    assert _one(got["ttft_ms"]) == 60  # first content response
    assert _one(got["e2e_ms"]) == 100  # request latency: the last content response
    assert _one(got["itl_ms"]) == pytest.approx((100 - 60) / (5 - 1))  # 10
    assert _one(got["tpot_ms"]) == pytest.approx(10)
    assert _one(got["output_tokens_per_s"]) == pytest.approx(1000 / 10)  # per user: 100


def test_guidellm_definition_swaps_itl_and_tpot() -> None:
    got = samples(_recorded_stamps(), "guidellm")
    assert _one(got["ttft_ms"]) == 60
    assert _one(got["itl_ms"]) == pytest.approx((100 - 60) / (5 - 1))  # 10, excl. first
    assert _one(got["tpot_ms"]) == pytest.approx(100 / 5)  # 20, TTFT included
    assert _one(got["e2e_ms"]) == 110
    assert _one(got["output_tokens_per_s"]) == pytest.approx(5 / 0.110)


def test_unknown_definition_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown metric definitions"):
        samples(RunStamps(), "tgi")
    assert set(DEFINITIONS) == {"streamscope", "vllm", "llmperf", "aiperf", "guidellm"}


def test_only_successful_runs_enter_the_statistics_by_default() -> None:
    ok = Verdict("openai-chat", "completed", "natural")
    cut = Verdict("openai-chat", "truncated", "max_tokens")
    reset = Verdict("openai-chat", "interrupted", "connection_reset")
    limited = Verdict("openai-chat", "http_error", "rate_limited")

    def run(ttft_ms: int) -> RunStamps:
        return RunStamps(content_ns=(ttft_ms * MS, (ttft_ms + 10) * MS), end_ns=200 * MS)

    runs = [(ok, run(10)), (cut, run(30)), (reset, run(1000)), (limited, RunStamps())]
    st = lane_stats(runs)
    assert st.runs == 4
    assert st.counts == {"successful": 2, "incomplete": 1, "errored": 1}
    assert st.outcomes == {
        "completed/natural": 1,
        "truncated/max_tokens": 1,
        "interrupted/connection_reset": 1,
        "http_error/rate_limited": 1,
    }
    ttft = st.stats["ttft_ms"]
    assert ttft is not None and (ttft.n, ttft.min, ttft.max) == (2, 10, 30)
    everything = lane_stats(runs, include=("successful", "incomplete", "errored"))
    assert everything.stats["ttft_ms"] is not None and everything.stats["ttft_ms"].max == 1000
    nothing = lane_stats([(limited, RunStamps())])
    assert all(v is None for v in nothing.stats.values())
    assert nothing.stats_json()["ttft_ms"] is None
    with pytest.raises(ValueError):
        lane_stats(runs, include=("good",))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ('{"choices":[{"delta":{}}]}', True),
        ('{"id": "x", "choices" : [ {"delta": {"role": "assistant"}} ]}', True),
        ('{"choices":[],"usage":{"completion_tokens":3}}', False),
        ('{"choices": [ ], "usage": {}}', False),
        ('{"choices": null}', False),
        ('{"usage": {"choices": 1}}', False),  # not the top-level key: parsed properly
        ('{"error": {"message": "no choices"}}', False),
        ("not json", False),
    ],
)
def test_which_messages_carry_choices_for_vllm(data: str, expected: bool) -> None:
    from core.stream.events import WireEvent

    collector = StampCollector("openai-chat")
    collector.feed(WireEvent(0, 0, "message", data, "ok", 7))
    assert (collector.choices_ns == [7]) is expected


def test_vllm_on_a_dialect_without_choices_uses_content_events() -> None:
    stamps = RunStamps(content_ns=(10 * MS, 30 * MS, 60 * MS), end_ns=80 * MS)
    got = samples(stamps, "vllm")
    assert _one(got["ttft_ms"]) == 10 and _one(got["e2e_ms"]) == 60
    assert got["itl_ms"] == pytest.approx([20, 30])
    assert _one(got["tpot_ms"]) == pytest.approx((60 - 10) / (3 - 1))
