"""A session: one or more runs under a retry policy and automatic continuations.

Yields every runner event unchanged, plus `AttemptStarted` before each run (with the offset
of that run's t0 on the session's time axis) and one `SessionFinished` at the end whose
verdict is the final segment's, with the stitched text, the union of warnings, usage summed
over segments, the `attempts` and `segments` lists and the whole answer's `session_metrics`
(DESIGN §6). A retry the breaker refuses is listed in `attempts` but never becomes the
segment's verdict: that stays the last attempt that was sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

from core.live.breaker import CircuitBreaker
from core.live.continuation import CannotContinue, build_continuation, more_tokens, stitch
from core.live.gate import Ticket
from core.live.policy import Retry, RetryPolicy, decide
from core.live.results import AttemptStarted, RunFinished, SessionFinished
from core.live.runner import Clock, run
from core.record.savefile import Recorder
from core.stream.outcome import Verdict, not_sent
from core.stream.spec import RunSpec
from core.stream.verdict import SessionMetrics, utf8

__all__ = ["AttemptStarted", "SessionFinished", "combine", "run_session"]


async def run_session(
    spec: RunSpec,
    *,
    retries: int = 0,
    continuations: int = 0,
    policy: RetryPolicy | None = None,
    cancel: asyncio.Event | None = None,
    recorder: Recorder | None = None,
    client: Any = None,
    clock: Clock = time.monotonic_ns,
    rng: random.Random | None = None,
    kind: str = "first",
    breaker: CircuitBreaker | None = None,
    wall: Any = time.monotonic,
    sleep: Any = None,  # async (delay_s) -> None; tests pass one that records the delay
    previous: SessionFinished | None = None,
    gate: Ticket | None = None,  # a race's start gate (the first attempt waits at it)
    grouped: bool = False,  # a network read's events as one list (see `run`)
) -> AsyncIterator[Any]:
    """With `previous`, continue that session from its stitched text (Continue pressed after
    the fact): `spec` is ignored for the original request, `continuations` counts anew.
    Raises CannotContinue at once when the previous verdict cannot be continued."""
    policy = replace(policy or RetryPolicy(), attempts=retries)
    rng = rng or random.Random()
    start = clock()
    attempts: list[dict[str, Any]] = []
    segments: list[tuple[Verdict, str]] = []
    runs: list[RunFinished] = []
    answer = b""  # the stitched answer, UTF-8 (`Verdict.answer`)
    trimmed = ""
    method = ""
    current = spec
    attempt = retry_count = 0
    waited, reason = 0.0, ""
    span = _Span()
    sent: Verdict | None = None  # the segment's last attempt that was really sent
    if previous is not None and previous.parts:
        spec = previous.spec or spec
        segments = list(previous.parts)
        runs = list(previous.runs)
        attempts = list(previous.attempts)
        answer = previous.verdict.answer
        span.carried_ns = _total_ns(previous.verdict)
        plan = build_continuation(spec, previous.text, segments[-1][0])
        current, method, trimmed = plan.spec, plan.method, plan.trimmed
        kind, reason = "continue", "continue"
        attempt = len(runs)
        continuations += len(segments) - 1  # the break below counts the original too
    while True:
        yield AttemptStarted(
            attempt, len(segments), kind, method, waited, reason, clock() - start, current
        )
        finished: RunFinished | None = None
        refused = breaker is not None and not breaker.allow(wall())
        if refused:
            assert breaker is not None
            finished = _refused(current, breaker.state(wall()).retry_in_s)
            if gate is not None:
                gate.leave()
            yield finished
        else:
            stream = run(
                current,
                client=client,
                clock=clock,
                cancel=cancel,
                recorder=recorder,
                attempt=attempt,
                segment=len(segments),
                gate=gate,
                grouped=grouped,
            )
            async with contextlib.aclosing(stream):
                async for event in stream:
                    if isinstance(event, RunFinished):
                        finished = event
                    yield event
            assert finished is not None
            if breaker is not None:
                breaker.record(finished.verdict, wall())
        assert finished is not None
        runs.append(finished)
        span.add(finished)
        verdict = finished.verdict
        attempt += 1
        if retries or attempts:
            attempts.append(
                {"verdict": verdict.label, "waited_s": round(waited, 3), "reason": reason or kind}
            )
        if refused and sent is not None:
            verdict = sent  # the refusal is listed in attempts; the segment keeps what was sent
        elif not refused:
            sent = verdict
        decision = decide(verdict, retry_count, rng, policy) if retries and not refused else None
        if isinstance(decision, Retry):
            retry_count += 1
            kind, waited, reason = "retry", decision.delay_s, decision.reason
            if await _wait(decision.delay_s, cancel, sleep):
                continue
            decision = None
        if segments:
            answer = utf8(stitch(answer.decode("utf-8", "surrogatepass"), verdict.text, trimmed))
        else:
            answer = verdict.answer
        segments.append((verdict, method or "original"))
        sent = None
        if (
            refused
            or len(segments) > continuations
            or "continue" not in verdict.actions
            or (cancel is not None and cancel.is_set())
        ):
            break
        try:
            plan = build_continuation(spec, answer.decode("utf-8", "surrogatepass"), verdict)
        except CannotContinue:
            break
        current, method, trimmed = plan.spec, plan.method, plan.trimmed
        kind, waited, reason, retry_count = "continue", 0.0, "continue", 0
    whole = combine(segments, answer, attempts)
    if len(runs) > 1 or len(segments) > 1:
        whole = replace(whole, session_metrics=_session_metrics(segments, runs, span))
    if recorder is not None:  # one file is one session: its verdict closes the recording
        recorder.session(whole.to_record())
    yield SessionFinished(whole, tuple(runs), tuple(segments), spec, tuple(attempts))


@dataclass(slots=True)
class _Span:
    """First send to the last run's end on the session clock, backoff waits included; a
    session resumed later (Continue pressed after the fact) carries the earlier total, not
    the time the user took to press it."""

    carried_ns: int = 0
    first_t0: int | None = None
    last_end: int | None = None

    def add(self, finished: RunFinished) -> None:
        if finished.t0_abs_ns is None:  # refused, or no connection: nothing was sent
            return
        if self.first_t0 is None:
            self.first_t0 = finished.t0_abs_ns
        self.last_end = finished.t0_abs_ns + (finished.total_ns or 0)

    @property
    def total_ns(self) -> int | None:
        if self.first_t0 is None or self.last_end is None:
            return self.carried_ns or None
        return self.carried_ns + self.last_end - self.first_t0


def _total_ns(verdict: Verdict) -> int:
    sm = verdict.session_metrics
    total = sm.total_ms if sm is not None else verdict.metrics.total_ms
    return round(total * 1e6) if total is not None else 0


def _session_metrics(
    segments: list[tuple[Verdict, str]], runs: list[RunFinished], span: _Span
) -> SessionMetrics:
    total = span.total_ns
    return SessionMetrics(
        ttft_ms=segments[0][0].metrics.ttft_ms,
        total_ms=None if total is None else total / 1e6,
        output_tokens=_sum(v.output_tokens for v, _ in segments),
        segments=len(segments),
        attempts=len(runs),
    )


def _refused(spec: RunSpec, retry_in_s: float) -> RunFinished:
    verdict = not_sent(
        spec.dialect,
        "breaker_open",
        "Not sent: the circuit breaker for this provider is open after repeated failures; "
        f"it lets one probe request through in {retry_in_s:.0f} s.",
    )
    return RunFinished(verdict, "not_sent", None, spec.redacted_request())


async def _wait(delay_s: float, cancel: asyncio.Event | None, sleep: Any = None) -> bool:
    """Sleep for the backoff; False when cancelled meanwhile."""
    if sleep is not None:
        await sleep(delay_s)
        return not (cancel is not None and cancel.is_set())
    if cancel is None:
        await asyncio.sleep(delay_s)
        return True
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(cancel.wait(), delay_s)
        return False
    return True


def combine(
    segments: list[tuple[Verdict, str]], answer: bytes, attempts: list[dict[str, Any]]
) -> Verdict:
    final = segments[-1][0]
    if len(segments) == 1 and not attempts:
        return final
    warnings = tuple(dict.fromkeys(w for v, _ in segments for w in v.warnings))
    seg_json: tuple[dict[str, Any], ...] = ()
    if len(segments) > 1:
        seg_json = tuple(
            {"outcome": v.outcome, "detail": v.detail, "method": m} for v, m in segments
        )
    return replace(
        final,
        answer=answer,
        warnings=warnings,
        reasoning="".join(v.reasoning for v, _ in segments),
        input_tokens=_sum(v.input_tokens for v, _ in segments),
        output_tokens=_sum(v.output_tokens for v, _ in segments),
        had_output=any(v.had_output for v, _ in segments),
        attempts=tuple(attempts),
        segments=seg_json,
    )


def _sum(values: Any) -> int | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


__all__ += ["more_tokens"]
