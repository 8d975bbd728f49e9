"""StreamScope's headless core: no Qt. The GUI imports from here only."""

from core.continuation import CannotContinue, ContinuePlan, build_continuation, stitch
from core.diagnose import DiagnoseError, Replay, diagnose_bytes
from core.events import (
    ChunkReceived,
    Phase,
    Ping,
    Progress,
    ProviderError,
    RefusalDelta,
    RequestSent,
    ResponseStarted,
    StopSignal,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    Unknown,
    Usage,
    WireEvent,
)
from core.metrics import Metrics, Stall
from core.outcome import HttpInfo, ToolCall, Verdict
from core.policy import RetryPolicy, decide
from core.report import WARNING_TEXT, format_report
from core.runner import RunFinished, new_client, run
from core.savefile import RunRecorder, read_saved_run
from core.session import AttemptStarted, SessionFinished, run_session
from core.spec import DIALECTS, HttpRequest, RunSpec, Timeouts

__all__ = [
    "DIALECTS",
    "WARNING_TEXT",
    "AttemptStarted",
    "CannotContinue",
    "ChunkReceived",
    "ContinuePlan",
    "DiagnoseError",
    "HttpInfo",
    "HttpRequest",
    "Metrics",
    "Phase",
    "Ping",
    "Progress",
    "ProviderError",
    "RefusalDelta",
    "Replay",
    "RequestSent",
    "ResponseStarted",
    "RetryPolicy",
    "RunFinished",
    "RunRecorder",
    "RunSpec",
    "SessionFinished",
    "Stall",
    "StopSignal",
    "TextDelta",
    "ThinkingDelta",
    "Timeouts",
    "ToolCall",
    "ToolCallDelta",
    "Unknown",
    "Usage",
    "Verdict",
    "WireEvent",
    "build_continuation",
    "decide",
    "diagnose_bytes",
    "format_report",
    "new_client",
    "read_saved_run",
    "run",
    "run_session",
    "stitch",
]
