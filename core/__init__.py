"""StreamScope's headless core: no Qt. The GUI imports from here only."""

from core.cli.compare_report import format_csv as compare_csv
from core.cli.compare_report import format_json as compare_json
from core.cli.compare_report import format_markdown as compare_markdown
from core.cli.report import WARNING_TEXT, format_report
from core.live.breaker import BreakerBook, BreakerState, CircuitBreaker, breaker_key
from core.live.continuation import (
    CannotContinue,
    ContinuePlan,
    build_continuation,
    more_tokens,
    stitch,
)
from core.live.engine import EngineClient
from core.live.policy import RetryPolicy, decide
from core.live.race import MAX_LANES as RACE_MAX_LANES
from core.live.race import MIN_LANES as RACE_MIN_LANES
from core.live.race import MODES as RACE_MODES
from core.live.race import (
    Lane,
    LaneEvent,
    LaneRun,
    LaneRunFinished,
    Race,
    RaceFinished,
    RacePlan,
    RaceResult,
    RoundFinished,
    RoundStarted,
)
from core.live.runner import RunFinished, new_client, run
from core.live.session import AttemptStarted, SessionFinished, run_session
from core.providers.curl import (
    CurlImport,
    from_curl,
    key_env_name,
    profile_to_curl,
    spec_to_curl,
    to_curl,
)
from core.providers.keys import (
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
from core.providers.keys import scrub as mask_secret
from core.providers.listing import ModelNeeded, fetch_models, resolve_model
from core.providers.presets import (
    MOCK,
    PRESETS,
    catalogue,
    find_profile,
    key_warning,
    mock_profile,
    with_mock_url,
)
from core.providers.pricing import Cost, Price, run_cost
from core.providers.profiles import AUTH_SCHEMES, Profile, ProfileStore, connection_test_spec
from core.record.datadir import data_dir, history_path
from core.record.diagnose import DiagnoseError, Replay, diagnose_bytes, replay_session
from core.record.exports import FORMATS as EXPORT_FORMATS
from core.record.exports import ExportRun, export_runs
from core.record.history import HistoryError, HistoryStore, Retention, RunSummary
from core.record.history_recorder import HistoryRecorder
from core.record.imports import sessions_from_bytes
from core.record.replay import SPEEDS as REPLAY_SPEEDS
from core.record.replay import ReplayAttempt, ReplayFinished, aiter_replay, stamps_of
from core.record.savefile import (
    RunRecorder,
    SavedSession,
    TeeRecorder,
    read_saved_run,
    read_saved_session,
    write_saved_session,
)
from core.stream.definitions import DEFINITIONS as METRIC_DEFINITIONS
from core.stream.definitions import STAT_KEYS
from core.stream.definitions import samples as metric_samples
from core.stream.events import (
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
from core.stream.metrics import Metrics, Stall
from core.stream.outcome import HttpInfo, ToolCall, Verdict, engine_failed
from core.stream.spec import DIALECTS, HttpRequest, RunSpec, Timeouts
from core.stream.stamps import RunStamps
from core.stream.stats import CLASSES as RUN_CLASSES
from core.stream.stats import LaneStats, Summary, lane_stats, percentile, summarize
from core.stream.verdict import SessionMetrics

__all__ = [
    "AUTH_SCHEMES",
    "DIALECTS",
    "EXPORT_FORMATS",
    "METRIC_DEFINITIONS",
    "MOCK",
    "PRESETS",
    "RACE_MAX_LANES",
    "RACE_MIN_LANES",
    "RACE_MODES",
    "REPLAY_SPEEDS",
    "RUN_CLASSES",
    "STAT_KEYS",
    "WARNING_TEXT",
    "AttemptStarted",
    "BreakerBook",
    "BreakerState",
    "CannotContinue",
    "ChunkReceived",
    "CircuitBreaker",
    "ContinuePlan",
    "Cost",
    "CurlImport",
    "DiagnoseError",
    "EngineClient",
    "ExportRun",
    "HistoryError",
    "HistoryRecorder",
    "HistoryStore",
    "HttpInfo",
    "HttpRequest",
    "KeyRef",
    "KeyUnavailable",
    "KeyringStatus",
    "Lane",
    "LaneEvent",
    "LaneRun",
    "LaneRunFinished",
    "LaneStats",
    "Metrics",
    "ModelListError",
    "ModelNeeded",
    "Phase",
    "Ping",
    "Price",
    "Profile",
    "ProfileError",
    "ProfileFileError",
    "ProfileStore",
    "Progress",
    "ProviderError",
    "Race",
    "RaceFinished",
    "RacePlan",
    "RaceResult",
    "RefusalDelta",
    "Replay",
    "ReplayAttempt",
    "ReplayFinished",
    "RequestSent",
    "ResponseStarted",
    "Retention",
    "RetryPolicy",
    "RoundFinished",
    "RoundStarted",
    "RunFinished",
    "RunRecorder",
    "RunSpec",
    "RunStamps",
    "RunSummary",
    "SavedSession",
    "SessionFinished",
    "SessionMetrics",
    "Stall",
    "StopSignal",
    "Summary",
    "TeeRecorder",
    "TextDelta",
    "ThinkingDelta",
    "Timeouts",
    "ToolCall",
    "ToolCallDelta",
    "Unknown",
    "Usage",
    "Verdict",
    "WireEvent",
    "aiter_replay",
    "breaker_key",
    "build_continuation",
    "catalogue",
    "compare_csv",
    "compare_json",
    "compare_markdown",
    "connection_test_spec",
    "data_dir",
    "decide",
    "delete_key",
    "diagnose_bytes",
    "engine_failed",
    "export_runs",
    "fetch_models",
    "find_profile",
    "format_report",
    "from_curl",
    "has_key",
    "history_path",
    "key_env_name",
    "key_warning",
    "keyring_available",
    "lane_stats",
    "mask_secret",
    "metric_samples",
    "mock_profile",
    "more_tokens",
    "new_client",
    "percentile",
    "profile_to_curl",
    "read_saved_run",
    "read_saved_session",
    "replay_session",
    "resolve_model",
    "run",
    "run_cost",
    "run_session",
    "sessions_from_bytes",
    "spec_to_curl",
    "stamps_of",
    "stitch",
    "store_key",
    "summarize",
    "to_curl",
    "with_mock_url",
    "write_saved_session",
]
