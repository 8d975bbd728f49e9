"""StreamScope's headless core: no Qt. The GUI imports from here only.

The names are loaded on first use (PEP 562 `__getattr__`): `from core import RunSpec` imports
`core.stream.spec` and no more, so the window's start-up does not pay for the commands, the
race or the record formats before it needs them. `_EXPORTS` says where each name lives; the
imports under `TYPE_CHECKING` say the same to type checkers and import-linter, and a test
keeps the two equal.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.cli.compare_report import format_csv as compare_csv
    from core.cli.compare_report import format_json as compare_json
    from core.cli.compare_report import format_markdown as compare_markdown
    from core.cli.report import format_report
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
    from core.live.results import AttemptStarted, RunFinished, SessionFinished
    from core.live.runner import new_client, run
    from core.live.session import run_session
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
    from core.record.history import HistoryStore, Retention, RunSummary
    from core.record.history_recorder import HistoryRecorder
    from core.record.history_schema import HistoryError
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
    from core.stream.batches import ChunkBatch, DeltaBatch, WireBatch, batched
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
    from core.stream.warning_text import WARNING_TEXT

_EXPORTS: dict[str, tuple[str, str]] = {
    "compare_csv": ("core.cli.compare_report", "format_csv"),
    "compare_json": ("core.cli.compare_report", "format_json"),
    "compare_markdown": ("core.cli.compare_report", "format_markdown"),
    "WARNING_TEXT": ("core.stream.warning_text", "WARNING_TEXT"),
    "format_report": ("core.cli.report", "format_report"),
    "BreakerBook": ("core.live.breaker", "BreakerBook"),
    "BreakerState": ("core.live.breaker", "BreakerState"),
    "CircuitBreaker": ("core.live.breaker", "CircuitBreaker"),
    "breaker_key": ("core.live.breaker", "breaker_key"),
    "CannotContinue": ("core.live.continuation", "CannotContinue"),
    "ContinuePlan": ("core.live.continuation", "ContinuePlan"),
    "build_continuation": ("core.live.continuation", "build_continuation"),
    "more_tokens": ("core.live.continuation", "more_tokens"),
    "stitch": ("core.live.continuation", "stitch"),
    "EngineClient": ("core.live.engine", "EngineClient"),
    "RetryPolicy": ("core.live.policy", "RetryPolicy"),
    "decide": ("core.live.policy", "decide"),
    "RACE_MAX_LANES": ("core.live.race", "MAX_LANES"),
    "RACE_MIN_LANES": ("core.live.race", "MIN_LANES"),
    "RACE_MODES": ("core.live.race", "MODES"),
    "Lane": ("core.live.race", "Lane"),
    "LaneEvent": ("core.live.race", "LaneEvent"),
    "LaneRun": ("core.live.race", "LaneRun"),
    "LaneRunFinished": ("core.live.race", "LaneRunFinished"),
    "Race": ("core.live.race", "Race"),
    "RaceFinished": ("core.live.race", "RaceFinished"),
    "RacePlan": ("core.live.race", "RacePlan"),
    "RaceResult": ("core.live.race", "RaceResult"),
    "RoundFinished": ("core.live.race", "RoundFinished"),
    "RoundStarted": ("core.live.race", "RoundStarted"),
    "RunFinished": ("core.live.results", "RunFinished"),
    "new_client": ("core.live.runner", "new_client"),
    "run": ("core.live.runner", "run"),
    "AttemptStarted": ("core.live.results", "AttemptStarted"),
    "SessionFinished": ("core.live.results", "SessionFinished"),
    "run_session": ("core.live.session", "run_session"),
    "CurlImport": ("core.providers.curl", "CurlImport"),
    "from_curl": ("core.providers.curl", "from_curl"),
    "key_env_name": ("core.providers.curl", "key_env_name"),
    "profile_to_curl": ("core.providers.curl", "profile_to_curl"),
    "spec_to_curl": ("core.providers.curl", "spec_to_curl"),
    "to_curl": ("core.providers.curl", "to_curl"),
    "KeyRef": ("core.providers.keys", "KeyRef"),
    "KeyringStatus": ("core.providers.keys", "KeyringStatus"),
    "KeyUnavailable": ("core.providers.keys", "KeyUnavailable"),
    "ModelListError": ("core.providers.keys", "ModelListError"),
    "ProfileError": ("core.providers.keys", "ProfileError"),
    "ProfileFileError": ("core.providers.keys", "ProfileFileError"),
    "delete_key": ("core.providers.keys", "delete_key"),
    "has_key": ("core.providers.keys", "has_key"),
    "keyring_available": ("core.providers.keys", "keyring_available"),
    "store_key": ("core.providers.keys", "store_key"),
    "mask_secret": ("core.providers.keys", "scrub"),
    "ModelNeeded": ("core.providers.listing", "ModelNeeded"),
    "fetch_models": ("core.providers.listing", "fetch_models"),
    "resolve_model": ("core.providers.listing", "resolve_model"),
    "MOCK": ("core.providers.presets", "MOCK"),
    "PRESETS": ("core.providers.presets", "PRESETS"),
    "catalogue": ("core.providers.presets", "catalogue"),
    "find_profile": ("core.providers.presets", "find_profile"),
    "key_warning": ("core.providers.presets", "key_warning"),
    "mock_profile": ("core.providers.presets", "mock_profile"),
    "with_mock_url": ("core.providers.presets", "with_mock_url"),
    "Cost": ("core.providers.pricing", "Cost"),
    "Price": ("core.providers.pricing", "Price"),
    "run_cost": ("core.providers.pricing", "run_cost"),
    "AUTH_SCHEMES": ("core.providers.profiles", "AUTH_SCHEMES"),
    "Profile": ("core.providers.profiles", "Profile"),
    "ProfileStore": ("core.providers.profiles", "ProfileStore"),
    "connection_test_spec": ("core.providers.profiles", "connection_test_spec"),
    "data_dir": ("core.record.datadir", "data_dir"),
    "history_path": ("core.record.datadir", "history_path"),
    "DiagnoseError": ("core.record.diagnose", "DiagnoseError"),
    "Replay": ("core.record.diagnose", "Replay"),
    "diagnose_bytes": ("core.record.diagnose", "diagnose_bytes"),
    "replay_session": ("core.record.diagnose", "replay_session"),
    "EXPORT_FORMATS": ("core.record.exports", "FORMATS"),
    "ExportRun": ("core.record.exports", "ExportRun"),
    "export_runs": ("core.record.exports", "export_runs"),
    "HistoryError": ("core.record.history_schema", "HistoryError"),
    "HistoryStore": ("core.record.history", "HistoryStore"),
    "Retention": ("core.record.history", "Retention"),
    "RunSummary": ("core.record.history", "RunSummary"),
    "HistoryRecorder": ("core.record.history_recorder", "HistoryRecorder"),
    "sessions_from_bytes": ("core.record.imports", "sessions_from_bytes"),
    "REPLAY_SPEEDS": ("core.record.replay", "SPEEDS"),
    "ReplayAttempt": ("core.record.replay", "ReplayAttempt"),
    "ReplayFinished": ("core.record.replay", "ReplayFinished"),
    "aiter_replay": ("core.record.replay", "aiter_replay"),
    "stamps_of": ("core.record.replay", "stamps_of"),
    "RunRecorder": ("core.record.savefile", "RunRecorder"),
    "SavedSession": ("core.record.savefile", "SavedSession"),
    "TeeRecorder": ("core.record.savefile", "TeeRecorder"),
    "read_saved_run": ("core.record.savefile", "read_saved_run"),
    "read_saved_session": ("core.record.savefile", "read_saved_session"),
    "write_saved_session": ("core.record.savefile", "write_saved_session"),
    "ChunkBatch": ("core.stream.batches", "ChunkBatch"),
    "DeltaBatch": ("core.stream.batches", "DeltaBatch"),
    "WireBatch": ("core.stream.batches", "WireBatch"),
    "batched": ("core.stream.batches", "batched"),
    "METRIC_DEFINITIONS": ("core.stream.definitions", "DEFINITIONS"),
    "STAT_KEYS": ("core.stream.definitions", "STAT_KEYS"),
    "metric_samples": ("core.stream.definitions", "samples"),
    "ChunkReceived": ("core.stream.events", "ChunkReceived"),
    "Phase": ("core.stream.events", "Phase"),
    "Ping": ("core.stream.events", "Ping"),
    "Progress": ("core.stream.events", "Progress"),
    "ProviderError": ("core.stream.events", "ProviderError"),
    "RefusalDelta": ("core.stream.events", "RefusalDelta"),
    "RequestSent": ("core.stream.events", "RequestSent"),
    "ResponseStarted": ("core.stream.events", "ResponseStarted"),
    "StopSignal": ("core.stream.events", "StopSignal"),
    "TextDelta": ("core.stream.events", "TextDelta"),
    "ThinkingDelta": ("core.stream.events", "ThinkingDelta"),
    "ToolCallDelta": ("core.stream.events", "ToolCallDelta"),
    "Unknown": ("core.stream.events", "Unknown"),
    "Usage": ("core.stream.events", "Usage"),
    "WireEvent": ("core.stream.events", "WireEvent"),
    "Metrics": ("core.stream.metrics", "Metrics"),
    "Stall": ("core.stream.metrics", "Stall"),
    "HttpInfo": ("core.stream.outcome", "HttpInfo"),
    "ToolCall": ("core.stream.outcome", "ToolCall"),
    "Verdict": ("core.stream.outcome", "Verdict"),
    "engine_failed": ("core.stream.outcome", "engine_failed"),
    "DIALECTS": ("core.stream.spec", "DIALECTS"),
    "HttpRequest": ("core.stream.spec", "HttpRequest"),
    "RunSpec": ("core.stream.spec", "RunSpec"),
    "Timeouts": ("core.stream.spec", "Timeouts"),
    "RunStamps": ("core.stream.stamps", "RunStamps"),
    "RUN_CLASSES": ("core.stream.stats", "CLASSES"),
    "LaneStats": ("core.stream.stats", "LaneStats"),
    "Summary": ("core.stream.stats", "Summary"),
    "lane_stats": ("core.stream.stats", "lane_stats"),
    "percentile": ("core.stream.stats", "percentile"),
    "summarize": ("core.stream.stats", "summarize"),
    "SessionMetrics": ("core.stream.verdict", "SessionMetrics"),
}

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
    "ChunkBatch",
    "ChunkReceived",
    "CircuitBreaker",
    "ContinuePlan",
    "Cost",
    "CurlImport",
    "DeltaBatch",
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
    "WireBatch",
    "WireEvent",
    "aiter_replay",
    "batched",
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


def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value  # the next lookup is a plain one
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
