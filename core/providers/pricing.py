"""What a run cost, from its usage: a profile's own price, else the `genai-prices` data.

A price is per 1M tokens (input, output, cached input). A profile's override wins; otherwise
genai-prices is asked for the lane's host (its provider patterns match official API hosts,
so a relay, a local server or the mock stays unknown) and model. Unknown is `None`, shown
as "–", never 0. Every cost carries where its price came from and the price's date.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["Cost", "Price", "run_cost"]


@dataclass(frozen=True, slots=True)
class Price:
    """USD per 1M tokens; `as_of` says when the price was read (ISO date), if known."""

    input: float
    output: float
    cached_input: float | None = None
    as_of: str | None = None
    source: str = "profile"

    def __post_init__(self) -> None:
        for name in ("input", "output", "cached_input"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not value >= 0):
                raise ValueError(f"price {name} must be a number >= 0 (USD per 1M tokens)")


@dataclass(frozen=True, slots=True)
class Cost:
    usd: float
    source: str  # "profile NAME" or "genai-prices 0.2.3: openai gpt-4o-mini"
    as_of: str | None  # the price's date (genai-prices: the price in effect on the run's day)

    def describe(self) -> str:
        return f"{self.source}, {self.as_of}" if self.as_of else self.source


def run_cost(
    *,
    model: str,
    base_url: str,
    input_tokens: int | None,
    output_tokens: int | None,
    cached_input_tokens: int | None = None,
    override: Price | None = None,
    when: _dt.datetime | None = None,
) -> Cost | None:
    """The run's cost from its usage; None when the usage or the price is unknown (never a
    made-up 0). A profile's `override` wins over genai-prices."""
    if input_tokens is None or output_tokens is None:
        return None
    cached = min(cached_input_tokens or 0, input_tokens)
    if override is not None:
        rate = override.cached_input if override.cached_input is not None else override.input
        usd = (input_tokens - cached) * override.input + cached * rate
        usd += output_tokens * override.output
        return Cost(usd / 1e6, override.source, override.as_of)
    return _genai_cost(model, base_url, input_tokens, output_tokens, cached, when)


def _genai_cost(
    model: str,
    base_url: str,
    input_tokens: int,
    output_tokens: int,
    cached: int,
    when: _dt.datetime | None,
) -> Cost | None:
    host = (urlsplit(base_url).hostname or "").lower()
    if host in ("localhost", "::1") or host.startswith("127.") or base_url == "mock":
        return None  # a local server or the mock: no price list knows it (and none loads)
    try:
        import genai_prices
        from genai_prices import Usage, calc_price
    except ImportError:  # the price data is missing: the cost is unknown, said as "–"
        return None
    when = when or _dt.datetime.now(_dt.UTC)
    usage = Usage(input_tokens=input_tokens, output_tokens=output_tokens)
    if cached:
        usage = Usage(
            input_tokens=input_tokens, output_tokens=output_tokens, cache_read_tokens=cached
        )
    try:
        calc = calc_price(usage, model, provider_api_url=base_url, genai_request_timestamp=when)
    except LookupError:
        return None
    source = f"genai-prices {genai_prices.__version__}: {calc.provider.id} {calc.model.id}"
    return Cost(float(calc.total_price), source, when.date().isoformat())
