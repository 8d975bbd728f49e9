"""Bytes → framing decoder → dialect parser → normalized events, with metrics; pure.

The runner feeds it live network reads, `diagnose` feeds it a file's bytes: one path, so a
saved run judged later gets the very verdict it got live.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from core.stream.caps import DEFAULT_CAPS, Caps, describe_size
from core.stream.dialects import new_parser
from core.stream.events import RefusalDelta, StreamEvent, TextDelta, ThinkingDelta, WireEvent
from core.stream.keymask import MASK, KeyMasker, mask_key_in
from core.stream.metrics import Metrics, MetricsBuilder
from core.stream.ndjson import NDJSONDecoder
from core.stream.outcome import DecodeFlags, HttpInfo, Verdict, classify
from core.stream.sse import SSEDecoder
from core.stream.verdict import utf8

__all__ = ["Pipeline", "Step"]


@dataclass(slots=True)
class Step:
    wire: list[WireEvent] = field(default_factory=list)
    events: list[StreamEvent] = field(default_factory=list)


class Pipeline:
    def __init__(
        self,
        dialect: str,
        *,
        soft_stall_s: float = 2.0,
        timed: bool = True,
        caps: Caps = DEFAULT_CAPS,
        key: str | None = None,
    ) -> None:
        self.dialect = dialect
        self.parser = new_parser(dialect)
        self.decoder: SSEDecoder | NDJSONDecoder = (
            NDJSONDecoder(caps) if self.parser.framing == "ndjson" else SSEDecoder(caps)
        )
        self.caps = caps
        # A model may echo the key token by token: each kind of text is masked as one run.
        self.key = key
        self._text_masks = {
            kind: KeyMasker(key, text=True) for kind in (TextDelta, ThinkingDelta, RefusalDelta)
        }
        self.body_bytes = 0
        self._body_oversized = False
        self.metrics = MetricsBuilder(soft_stall_ns=int(soft_stall_s * 1e9), timed=timed)
        self._wire_index = 0
        self.closed = False

    @property
    def facts(self):
        return self.parser.facts

    def feed(self, data: bytes, t_ns: int = 0, chunk_index: int = -1) -> Step:
        if chunk_index >= 0:
            self.metrics.on_chunk(t_ns)
        step = Step()
        if self.oversized:
            return step
        room = self.caps.stream_bytes - self.body_bytes
        self.body_bytes += len(data)
        if len(data) > room:  # what fits under the cap is still judged
            self._body_oversized = True
            data = data[:room]
        self._dispatch(self.decoder.feed(data), t_ns, chunk_index, step)
        return step

    @property
    def oversized(self) -> tuple[str, str] | None:
        """(detail, why) once a cap was passed: the run ends there, nothing more is read."""
        if self._body_oversized:
            cap = describe_size(self.caps.stream_bytes)
            return "oversized_body", f"the stream passed the {cap} body cap (decompressed)"
        if self.decoder.oversized:
            return "oversized_event", self.decoder.oversized
        return None

    def close(self, t_ns: int = 0, chunk_index: int = -1) -> Step:
        """At the end of the body (however it ended): flush what the decoder held."""
        step = Step()
        if not self.closed:
            self.closed = True
            if not self.oversized:
                self._dispatch(self.decoder.close(), t_ns, chunk_index, step)
            for kind, masker in self._text_masks.items():  # text held back: it was not the key
                held = masker.flush()
                if held:
                    step.events.append(kind(held, t_ns))
        return step

    def feed_event(self, name: str, data: str, t_ns: int = 0, chunk_index: int = -1) -> Step:
        """One already-framed event (a pasted log line)."""
        step = Step()
        self._one(name, data, t_ns, chunk_index, step)
        return step

    def _dispatch(self, items: list, t_ns: int, chunk_index: int, step: Step) -> None:
        for item in items:
            if isinstance(item, str):
                self._one("line", item, t_ns, chunk_index, step)
            else:
                self._one(item.event, item.data, t_ns, chunk_index, step)

    def _one(self, name: str, data: str, t_ns: int, chunk_index: int, step: Step) -> None:
        facts = self.parser.facts
        malformed_before, unknown_before = facts.malformed, facts.unknown
        events = self.parser.feed(name, data, t_ns)
        kind = "ok"
        if facts.malformed > malformed_before:
            kind = "malformed"
        elif facts.unknown > unknown_before:
            kind = "unknown"
        step.wire.append(WireEvent(self._wire_index, chunk_index, name, data, kind, t_ns))
        self._wire_index += 1
        self.metrics.on_wire_event()
        if self.key:
            events = [self._masked(event) for event in events]
        for event in events:
            self.metrics.on_event(event)
        step.events.extend(events)

    def _masked(self, event: StreamEvent) -> StreamEvent:
        masker = self._text_masks.get(type(event))  # type: ignore[arg-type]
        if masker is None:
            return event
        text = masker.feed(event.text)  # type: ignore[union-attr]
        return event if text == event.text else replace(event, text=text)  # type: ignore[type-var]

    @property
    def key_echoed(self) -> bool:
        return any(m.echoed for m in self._text_masks.values())

    def flags(self) -> DecodeFlags:
        dec = self.decoder
        unterminated = dec.unterminated_final_event
        if isinstance(dec, NDJSONDecoder):
            unterminated = unterminated and self.parser.facts.last_event_malformed
        return DecodeFlags(dec.bom_stripped, dec.utf8_replaced > 0, unterminated)

    def build_metrics(
        self, total_ns: int | None, *, ended: bool = False, ended_by_end: bool = False
    ) -> Metrics:
        return self.metrics.build(
            total_ns, self.parser.facts.output_tokens, ended=ended, ended_by_end=ended_by_end
        )

    def verdict(
        self,
        *,
        transport: str = "eof",
        http: HttpInfo | None = None,
        live: bool = False,
        usage_requested: bool = False,
        total_ns: int | None = None,
        transport_message: str = "",
        stop_sequences_sent: bool = False,
    ) -> Verdict:
        metrics = self.build_metrics(total_ns, ended=True, ended_by_end=transport == "eof")
        verdict = classify(
            self.parser.facts,
            transport=transport,
            flags=self.flags(),
            http=http,
            live=live,
            usage_requested=usage_requested,
            stall_observed=bool(metrics.resumed_stalls),
            transport_message=transport_message,
            stop_sequences_sent=stop_sequences_sent,
        )
        if self.key:
            verdict = _mask_verdict(verdict, self.key)
        if self.oversized:
            detail, why = self.oversized
            verdict = replace(
                verdict,
                outcome="protocol_error",
                detail=detail,
                actions=("retry",),
                explanation=f"Reading stopped: {why}. StreamScope caps what it buffers so a "
                "hostile or broken server cannot exhaust memory.",
            )
        return verdict.with_metrics(metrics)


def _mask_verdict(verdict: Verdict, key: str) -> Verdict:
    """The key masked in every text the verdict carries (it may have come in pieces)."""
    texts = (verdict.reasoning, verdict.refusal, verdict.explanation)
    calls = tuple(replace(c, arguments=mask_key_in(c.arguments, key)) for c in verdict.tool_calls)
    key_utf8 = utf8(key)
    in_answer = key_utf8 in verdict.answer
    echoed = in_answer or any(key in t for t in texts) or calls != verdict.tool_calls
    if not echoed:
        return verdict
    return replace(
        verdict,
        answer=verdict.answer.replace(key_utf8, utf8(MASK)) if in_answer else verdict.answer,
        reasoning=mask_key_in(verdict.reasoning, key),
        refusal=mask_key_in(verdict.refusal, key),
        explanation=mask_key_in(verdict.explanation, key),
        tool_calls=calls,
        warnings=tuple(dict.fromkeys((*verdict.warnings, "key_echoed"))),
    )
