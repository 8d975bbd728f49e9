"""StreamScope's headless core: no Qt. The GUI imports from here only."""

from core.breaker import BreakerState, CircuitBreaker
from core.continuation import CannotContinue, ContinuePlan, build_continuation, more_tokens, stitch
from core.curl import CurlImport, from_curl, key_env_name, profile_to_curl, spec_to_curl, to_curl
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
from core.keys import (
    KeyRef,
    KeyringStatus,
    KeyUnavailable,
    ModelListError,
    ProfileError,
    ProfileFileError,
    delete_key,
    has_key,
    keyring_available,
    store_key,
)
from core.listing import fetch_models
from core.metrics import Metrics, Stall
from core.outcome import HttpInfo, ToolCall, Verdict
from core.policy import RetryPolicy, decide
from core.presets import (
    MOCK,
    PRESETS,
    catalogue,
    find_profile,
    key_warning,
    mock_profile,
    with_mock_url,
)
from core.profiles import AUTH_SCHEMES, Profile, ProfileStore, connection_test_spec
from core.report import WARNING_TEXT, format_report
from core.runner import RunFinished, new_client, run
from core.savefile import RunRecorder, read_saved_run
from core.session import AttemptStarted, SessionFinished, run_session
from core.spec import DIALECTS, HttpRequest, RunSpec, Timeouts
from core.transport import scrub as mask_secret

__all__ = [
    "AUTH_SCHEMES",
    "DIALECTS",
    "MOCK",
    "PRESETS",
    "WARNING_TEXT",
    "AttemptStarted",
    "BreakerState",
    "CannotContinue",
    "ChunkReceived",
    "CircuitBreaker",
    "ContinuePlan",
    "CurlImport",
    "DiagnoseError",
    "HttpInfo",
    "HttpRequest",
    "KeyRef",
    "KeyUnavailable",
    "KeyringStatus",
    "Metrics",
    "ModelListError",
    "Phase",
    "Ping",
    "Profile",
    "ProfileError",
    "ProfileFileError",
    "ProfileStore",
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
    "catalogue",
    "connection_test_spec",
    "decide",
    "delete_key",
    "diagnose_bytes",
    "fetch_models",
    "find_profile",
    "format_report",
    "from_curl",
    "has_key",
    "key_env_name",
    "key_warning",
    "keyring_available",
    "mask_secret",
    "mock_profile",
    "more_tokens",
    "new_client",
    "profile_to_curl",
    "read_saved_run",
    "run",
    "run_session",
    "spec_to_curl",
    "stitch",
    "store_key",
    "to_curl",
    "with_mock_url",
]
