"""The one-line meaning of every verdict warning: the CLI's report and the window's verdict
panel show the same sentences (kept apart from `core.cli`, which the window never loads)."""

from __future__ import annotations

__all__ = ["WARNING_TEXT"]

WARNING_TEXT = {
    "missing_terminator": "the finish was seen but the stream's terminator ([DONE] / "
    "message_stop) never came",
    "missing_finish_reason": "the terminator came after content, but no finish reason was sent "
    "(a server that abandons a generation ends it this way)",
    "unterminated_final_event": "the body ended in the middle of an event (no closing blank line)",
    "nonstandard_stop_reason": "the stop value is not the API's own (a relay's translation)",
    "malformed_event": "an event's data was not valid JSON and was skipped",
    "bom_stripped": "the body began with a byte-order mark, which was removed",
    "utf8_replaced": "invalid UTF-8 bytes were replaced with U+FFFD",
    "empty_output": "the model finished without producing any text or tool call",
    "incomplete_tool_call": "a tool call's arguments are not complete JSON",
    "usage_missing": "token usage was asked for and never came",
    "stall_observed": "a gap over the soft stall threshold occurred, then the stream resumed",
    "out_of_order": "an event arrived out of sequence (a sequence_number gap)",
    "via_gateway": "a gateway answered (named in the explanation): the verdict is the gateway's "
    "word, and a gateway may rewrite an upstream cut as a normal finish",
    "nonstandard_terminator": "a relay appended OpenAI chat's data: [DONE] to a stream whose "
    "API has no such line; it was read as a relay's terminator, not as data",
    "recording_cut": "the recording stops without its end line (StreamScope was stopped "
    "while recording): what came after it is unknown",
    "key_echoed": "the server sent back the API key in use; it is masked (***) everywhere",
}
