"""Issue 11 item 17: secrets never reach the profiles file or stderr, breakers per profile and
URL, and an outside edit of the profiles file is never overwritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import BreakerBook, Verdict, breaker_key
from core.cli import main
from core.providers.keys import ProfileError
from core.providers.profiles import Profile, ProfileStore

SECRET = "sk-live-typed-into-the-wrong-field-0123456789"


def test_a_key_typed_as_the_key_source_is_not_echoed(tmp_path: Path, monkeypatch, capsys) -> None:
    path = tmp_path / "profiles.toml"
    path.write_text(
        '[[profile]]\nname = "relay"\ndialect = "openai-chat"\n'
        'base_url = "https://relay.example/v1"\n'
        f'key = {{ kind = "{SECRET}", name = "x" }}\n'
    )
    monkeypatch.setenv("STREAMSCOPE_PROFILES", str(path))
    assert main(["profiles", "list"]) == 2
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    assert "key source" in err and "not shown" in err


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Auth-Token": "abc123"},
        {"x-portkey-api-key": "pk-1"},
        {"Cookie": "session=1"},
        {"X-Custom": "Bearer abc.def"},
    ],
)
def test_a_secret_in_a_custom_header_is_refused(headers: dict[str, str]) -> None:
    with pytest.raises(ProfileError, match="keyring"):
        Profile("p", "openai-chat", "https://x.example/v1", headers=headers)


def test_harmless_custom_headers_are_kept() -> None:
    p = Profile("p", "openai-chat", "https://x.example/v1", headers={"X-Title": "StreamScope"})
    assert p.headers == {"X-Title": "StreamScope"}


def test_a_password_in_the_proxy_url_is_refused() -> None:
    with pytest.raises(ProfileError, match="HTTPS_PROXY") as err:
        Profile("p", "openai-chat", "https://x.example/v1", proxy="http://u:hunter2@proxy:8080")
    assert "hunter2" not in str(err.value)
    assert Profile("p", "openai-chat", "https://x.example/v1", proxy="http://proxy:8080").proxy


def test_custom_gets_one_breaker_per_base_url() -> None:
    now = [0.0]
    book = BreakerBook(lambda: now[0], threshold=2)
    failed = Verdict("openai-chat", "http_error", "server")
    for _ in range(2):
        book.for_run("Custom", "https://a.example/v1").record(failed, now[0])
    assert book.state("Custom", "https://a.example/v1/").state == "open"
    assert book.state("Custom", "https://b.example/v1").state == "closed"
    assert book.for_run("Custom", "https://b.example/v1").allow(now[0])
    assert book.state("Other", "https://a.example/v1").state == "closed"
    assert breaker_key("Custom", "https://u:pw@A.example:8443/v1/?key=s") == (
        "Custom @ https://a.example:8443/v1"
    )
    book.reset("Custom", "https://a.example/v1")
    assert book.state("Custom", "https://a.example/v1").state == "closed"


def _profile(name: str) -> Profile:
    return Profile(name, "openai-chat", f"https://{name}.example/v1")


def test_an_outside_edit_is_merged_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "profiles.toml"
    app = ProfileStore(path)
    app.put(_profile("one"))
    # Another editor (or another window) adds a profile while the app is open.
    other = ProfileStore(path)
    other.put(_profile("two"))
    app.put(_profile("three"))
    assert app.merged_external_edit
    names = [p.name for p in ProfileStore(path).load()]
    assert names == ["one", "two", "three"]
    app.delete("one")
    assert not app.merged_external_edit
    assert [p.name for p in ProfileStore(path).load()] == ["two", "three"]


def test_an_outside_edit_that_breaks_the_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "profiles.toml"
    app = ProfileStore(path)
    app.put(_profile("one"))
    path.write_text("[[profile]\nbroken")
    before = path.read_bytes()
    with pytest.raises(ProfileError):
        app.put(_profile("two"))
    assert path.read_bytes() == before
