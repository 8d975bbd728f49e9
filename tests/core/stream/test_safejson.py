"""`safejson.loads` reads like the standard library's `json.loads`, through orjson where it
can: the same value for any JSON, the same answer where orjson refuses."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.stream.safejson import loads

_INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | _INT64
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(_VALUES, st.booleans(), st.booleans())
def test_any_json_reads_as_json_reads_it(value: object, as_bytes: bool, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    expected = json.loads(text)
    got = loads(text.encode() if as_bytes else text)
    assert got == expected
    assert json.dumps(got) == json.dumps(expected)  # same types too (1 is not 1.0)


def test_what_orjson_refuses_still_reads_as_json_reads_it() -> None:
    assert math.isnan(loads("[NaN]")[0])
    assert loads("[Infinity, -Infinity]") == [math.inf, -math.inf]
    assert loads('"\\ud800"') == "\ud800"  # a lone surrogate escape
    assert loads('{"a": 1}'.encode("utf-16")) == {"a": 1}


@pytest.mark.parametrize("bad", ["{", "[1,]", "", "\ufeff[1]", "[1] [2]", b"\xff"])
def test_bad_json_is_a_value_error(bad: str | bytes) -> None:
    with pytest.raises(ValueError):
        loads(bad)


def test_deep_nesting_is_a_value_error_not_a_recursion_error() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        loads("[" * 100_000 + "]" * 100_000)
