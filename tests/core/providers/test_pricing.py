"""Cost per run: a profile's price wins, genai-prices for official hosts, unknown is None."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from core.providers.keys import ProfileFileError
from core.providers.pricing import Price, run_cost
from core.providers.profiles import Profile, ProfileStore

WHEN = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def test_a_profile_price_is_per_million_tokens() -> None:
    price = Price(input=3.0, output=15.0, cached_input=0.3, as_of="2026-10-01", source="profile P")
    cost = run_cost(
        model="anything",
        base_url="https://relay.example/v1",
        input_tokens=1000,
        output_tokens=200,
        cached_input_tokens=400,
        override=price,
    )
    assert cost is not None
    assert cost.usd == pytest.approx((600 * 3.0 + 400 * 0.3 + 200 * 15.0) / 1e6)
    assert cost.describe() == "profile P, 2026-10-01"


def test_genai_prices_for_an_official_host_and_unknown_elsewhere() -> None:
    cost = run_cost(
        model="gpt-4o-mini",
        base_url="https://api.openai.com/v1",
        input_tokens=1_000_000,
        output_tokens=1_000_000,
        when=WHEN,
    )
    assert cost is not None and cost.usd > 0
    assert cost.source.startswith("genai-prices ") and "gpt-4o-mini" in cost.source
    assert cost.as_of == "2026-11-01"
    for base_url, model in (
        ("http://127.0.0.1:8765/v1", "gpt-4o-mini"),  # a relay or local server: unknown
        ("https://api.openai.com/v1", "mock-normal"),
    ):
        unknown = run_cost(model=model, base_url=base_url, input_tokens=10, output_tokens=10)
        assert unknown is None
    no_usage = run_cost(
        model="gpt-4o-mini",
        base_url="https://api.openai.com/v1",
        input_tokens=None,
        output_tokens=5,
    )
    assert no_usage is None  # never a made-up 0


def test_price_round_trips_through_the_profiles_file(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path / "profiles.toml")
    price = Price(0.15, 0.6, 0.075, "2026-11-30", source="profile Priced")
    store.put(Profile("Priced", "openai-chat", "https://relay.example/v1", price=price))
    assert ProfileStore(store.path).profiles[0].price == price
    store.path.write_text(
        'version = 1\n[[profile]]\nname = "X"\ndialect = "openai-chat"\n'
        'base_url = "https://x/v1"\n[profile.price]\ninput = -1\noutput = 2\n'
    )
    with pytest.raises(ProfileFileError, match=r"price\.input"):
        ProfileStore(store.path).load()
