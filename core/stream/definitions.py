"""One run's figures under each tool's metric definitions, from the same stamps; pure.

`samples(stamps, definition)` gives, per statistic key, the values this run adds to a lane's
statistics: one value, none (undefined for this run or this tool), or several (vLLM pools
every inter-token gap of every request into its ITL percentiles). N is always provider usage,
else the count of content events (DESIGN §4): no tokenizer is fetched. The README's
"Metric definitions" table names each tool's source file and where we depart from it.

    streamscope  DESIGN §4: TTFT first content event; ITL (t_last − t_first)/(N − 1);
                 TPOT (E2E − TTFT)/(N − 1); tokens/s (N − 1)/(t_last − t_first); E2E end of body
    vllm         TTFT first SSE message with non-empty `choices` (a role-only delta counts);
                 ITL every gap between such messages (pooled); latency = last such message;
                 TPOT (latency − TTFT)/(N − 1); no per-request tokens/s
    llmperf      TTFT first non-empty `delta.content`; ITL = sum of all gaps, TTFT included,
                 / N = t_last_content / N; tokens/s N / E2E; no TPOT
    aiperf       TTFT first content response; request latency = the last content response;
                 ITL (latency − TTFT)/(N − 1), which is vLLM's TPOT (so TPOT is the same
                 figure); tokens/s per user 1 / ITL
    guidellm     ITL (t_last − t_first)/(N − 1) (vLLM's TPOT); TPOT (t_last − t0)/N, TTFT
                 included: the names are swapped relative to vLLM's; tokens/s N / E2E
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from core.stream.metrics import rate
from core.stream.stamps import RunStamps

__all__ = ["DEFINITIONS", "STAT_KEYS", "samples"]

STAT_KEYS = (
    "ttfb_ms",
    "headers_ms",
    "ttft_ms",
    "first_answer_ms",
    "itl_ms",
    "tpot_ms",
    "e2e_ms",
    "output_tokens_per_s",
    "output_tokens",
)

Samples = dict[str, list[float]]


def _ms(t_ns: int | None) -> float | None:
    return None if t_ns is None else t_ns / 1e6


def _one(value: float | None) -> list[float]:
    return [] if value is None else [value]


def _common(s: RunStamps) -> Samples:
    """What no tool defines differently: TTFB, headers, first answer, N."""
    return {
        "ttfb_ms": _one(_ms(s.first_byte_ns)),
        "headers_ms": _one(_ms(s.headers_ns)),
        "first_answer_ms": _one(_ms(s.answer_ns[0] if s.answer_ns else None)),
        "output_tokens": [float(s.output_tokens)] if s.content_ns else [],
    }


def _streamscope(s: RunStamps) -> Samples:
    n = s.output_tokens
    ttft = _ms(s.content_ns[0]) if s.content_ns else None
    e2e = _ms(s.end_ns)
    itl = tpot = None
    first, last = (s.content_ns[0], s.content_ns[-1]) if s.content_ns else (None, None)
    tps, _ = rate(n, len(s.content_ns), first, last)  # the verdict's own rule, one place
    if s.content_ns and n > 1:
        span_ms = (s.content_ns[-1] - s.content_ns[0]) / 1e6
        if span_ms > 0:
            itl = span_ms / (n - 1)
        if e2e is not None and ttft is not None:
            tpot = (e2e - ttft) / (n - 1)
    return {
        **_common(s),
        "ttft_ms": _one(ttft),
        "itl_ms": _one(itl),
        "tpot_ms": _one(tpot),
        "e2e_ms": _one(e2e),
        "output_tokens_per_s": _one(tps),
    }


def _vllm(s: RunStamps) -> Samples:
    # vLLM's chat client times SSE messages with `choices`; other dialects have no vLLM
    # client, so their content events stand in.
    marks = s.choices_ns or s.content_ns
    out = {**_common(s), "ttft_ms": [], "itl_ms": [], "tpot_ms": [], "e2e_ms": []}
    out["output_tokens_per_s"] = []
    if not marks:
        return out
    ttft, latency = marks[0] / 1e6, marks[-1] / 1e6  # latency: the last token message
    n = s.output_tokens
    out["ttft_ms"] = [ttft]
    out["e2e_ms"] = [latency]
    out["itl_ms"] = [(b - a) / 1e6 for a, b in itertools.pairwise(marks)]
    if n > 1:
        out["tpot_ms"] = [(latency - ttft) / (n - 1)]
    return out


def _llmperf(s: RunStamps) -> Samples:
    out = {**_common(s), "ttft_ms": [], "itl_ms": [], "tpot_ms": [], "e2e_ms": []}
    e2e = _ms(s.end_ns)
    out["e2e_ms"] = _one(e2e)
    n = s.output_tokens if s.answer_ns else 0
    out["output_tokens_per_s"] = [n / (e2e / 1e3)] if n and e2e else []
    if s.answer_ns:  # llmperf starts its clock at the first non-empty delta.content
        out["ttft_ms"] = [s.answer_ns[0] / 1e6]
        out["itl_ms"] = [s.answer_ns[-1] / 1e6 / n]  # sum(gaps incl. TTFT) / N
    return out


def _aiperf(s: RunStamps) -> Samples:
    out = {**_common(s), "ttft_ms": [], "itl_ms": [], "tpot_ms": [], "e2e_ms": []}
    out["output_tokens_per_s"] = []
    if s.content_ns:
        # Request latency = the last *content* response (usage-only chunks excluded)
        ttft, latency = s.content_ns[0] / 1e6, s.content_ns[-1] / 1e6
        out["ttft_ms"], out["e2e_ms"] = [ttft], [latency]
        n = s.output_tokens
        if n > 1:
            itl = (latency - ttft) / (n - 1)
            out["itl_ms"] = out["tpot_ms"] = [itl]
            if itl > 0:
                out["output_tokens_per_s"] = [1e3 / itl]
    return out


def _guidellm(s: RunStamps) -> Samples:
    out = {**_common(s), "ttft_ms": [], "itl_ms": [], "tpot_ms": [], "e2e_ms": []}
    e2e = _ms(s.end_ns)
    out["e2e_ms"] = _one(e2e)
    n = s.output_tokens
    out["output_tokens_per_s"] = [n / (e2e / 1e3)] if s.content_ns and e2e else []
    if s.content_ns:
        first, last = s.content_ns[0] / 1e6, s.content_ns[-1] / 1e6
        out["ttft_ms"] = [first]
        out["tpot_ms"] = [last / n]  # (last token − request start) / N: TTFT included
        if n > 1:
            out["itl_ms"] = [(last - first) / (n - 1)]
    return out


DEFINITIONS: dict[str, Callable[[RunStamps], Samples]] = {
    "streamscope": _streamscope,
    "vllm": _vllm,
    "llmperf": _llmperf,
    "aiperf": _aiperf,
    "guidellm": _guidellm,
}


def samples(stamps: RunStamps, definition: str = "streamscope") -> Samples:
    """Per statistic key, the values this run contributes under `definition`."""
    try:
        compute = DEFINITIONS[definition]
    except KeyError:
        raise ValueError(
            f"unknown metric definitions {definition!r} (one of {', '.join(DEFINITIONS)})"
        ) from None
    return compute(stamps)
