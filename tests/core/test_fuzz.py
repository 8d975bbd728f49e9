"""Fuzz the public entry points at a size CI can afford (bench/fuzz.py runs it large):
no uncaught exception, and the same verdict for every chunking of the same bytes."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.fuzzing import bodies, check_body


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(bodies(), st.lists(st.integers(0, 10_000), max_size=6))
def test_fuzzed_bodies_give_one_verdict_for_every_chunking(
    case: tuple[str, bytes], cuts: list[int]
) -> None:
    dialect, body = case
    check_body(dialect, body, cuts)
