"""Retake the README screenshots under a real X server (needs Xvfb), e.g.:

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots.py main

Modes: main, truncated (max_tokens, then Continue), retry (http_429, then Retry), stall,
pasted (a pasted log), profiles, compare (three demo lanes raced three times), history (four
runs, then the History tab), present (Present mode after a few runs). Optional second
argument: light (default) or dark. The
README's own images (main, truncated before Continue, profiles) are written to
resources/screenshots only in the light theme; with $SHOTS_DIR set, the whole screen is also
captured there (`import -window root`) as <mode>-<theme>-<W>x<H>.png, for looking at.

Uses a throw-away profiles file and an in-memory keyring, never the user's own.
"""

# The keyring and the profiles path must be set before core and Qt are imported.
# ruff: noqa: E402

import asyncio
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

tmp = Path(tempfile.mkdtemp())
os.environ["STREAMSCOPE_PROFILES"] = str(tmp / "profiles.toml")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import keyring
from keyring.backend import KeyringBackend


class Mem(KeyringBackend):
    priority = 1

    def __init__(self):
        super().__init__()
        self.d = {}

    def get_password(self, s, u):
        return self.d.get((s, u))

    def set_password(self, s, u, p):
        self.d[(s, u)] = p

    def delete_password(self, s, u):
        self.d.pop((s, u), None)


keyring.set_keyring(Mem())

import qasync
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from core import PRESETS, ProfileStore, mock_profile, new_client
from core.mock import start_mock_server
from gui.app import build_window

OUT = ROOT / "resources" / "screenshots"
which = sys.argv[1]
theme = sys.argv[2] if len(sys.argv) > 2 else "light"
SHOTS = os.environ.get("SHOTS_DIR")


def screen_shot(app):
    """The whole X screen, as a user sees it (window manager included)."""
    if not SHOTS:
        return
    import subprocess

    size = app.primaryScreen().size()
    name = f"{which}-{theme}-{size.width()}x{size.height()}.png"
    subprocess.run(["import", "-window", "root", str(Path(SHOTS) / name)], check=False)


def readme_shot(widget, name):
    if theme == "light" and app.primaryScreen().size().width() >= 1600:
        widget.grab().save(str(OUT / name))


async def wait_for(pred, timeout=30):
    for _ in range(int(timeout * 50)):
        if pred():
            return
        await asyncio.sleep(0.02)
    raise TimeoutError


async def main(app, server):
    client = new_client()
    store = ProfileStore()
    store.put(
        replace(
            mock_profile("mock", "anthropic"),
            name="Local mock (Anthropic)",
            model="mock-normal",
            headers={"X-Title": "StreamScope"},
        )
    )
    relay = next(p for p in PRESETS if p.name == "OpenRouter")
    store.put(
        replace(
            relay,
            name="OpenRouter (team)",
            model="anthropic/claude-haiku-4.5",
            headers={"HTTP-Referer": "https://streamscope.local", "X-Title": "StreamScope"},
        )
    )
    store.set_key("Local mock (Anthropic)", "sk-demo-not-a-real-key")
    settings = QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat)
    win = build_window(client, dict(server.base_urls), tmp / "data", settings, store)
    win.set_theme_choice(theme)
    win.resize(1600, 1000)
    win.show()
    await asyncio.sleep(0.3)
    if which == "profiles":
        dialog = win.show_profiles()
        dialog.resize(1040, 800)
        dialog.select("Local mock (Anthropic)")
        probes = win.controller.probes
        got = []
        probes.models_fetched.connect(lambda *a: got.append("m"))
        probes.connection_tested.connect(lambda *a: got.append("t"))
        dialog.form.fetch_button.click()
        await wait_for(lambda: "m" in got)
        dialog.probe.test_button.click()
        await wait_for(lambda: "t" in got)
        await asyncio.sleep(0.5)
        readme_shot(dialog, "profiles.png")
        screen_shot(app)
    elif which == "compare":
        view = win.compare_view
        win.views.setCurrentWidget(view)
        view.add_demo_lanes()
        view.max_tokens.setValue(300)
        view.repeat.setValue(3)
        finished = []
        view.controller.race_finished.connect(finished.append)
        view.send_all()
        await wait_for(lambda: finished, 120)
        await asyncio.sleep(0.8)
        readme_shot(win, "compare.png")
        screen_shot(app)
    elif which in ("history", "present"):
        from tests.gui.conftest import FAST

        done = []
        win.controller.verdict_ready.connect(lambda o: done.append(o))
        runs = (
            ("normal", "Explain server-sent events in one paragraph."),
            ("max_tokens", "Write a long essay on the printing press."),
            ("reset_mid_stream", "Describe TCP resets."),
            ("normal", "Summarise HTTP/1.1 chunked encoding."),
        )
        for scenario, prompt in runs:
            limit = 80 if scenario == "max_tokens" else 1024
            v = replace(FAST, scenario=scenario, tokens=160, tps=400.0, prompt=prompt)
            win.request_pane.set_values(replace(v, max_tokens=limit))
            before = len(done)
            win.send()
            await wait_for(lambda before=before: len(done) > before, 60)
        if which == "history":
            win.views.setCurrentWidget(win.history_panel)
            await asyncio.sleep(0.8)
            readme_shot(win, "history.png")
        else:
            win.toggle_present()
            await asyncio.sleep(1.0)
        screen_shot(app)
        if which == "present":
            win.toggle_present()
    elif which == "pasted":
        done = []
        win.controller.verdict_ready.connect(lambda o: done.append(o))
        win.open_path(ROOT / "resources" / "samples" / "pasted-log.txt")
        await wait_for(lambda: done)
        await asyncio.sleep(0.5)
        screen_shot(app)
    else:
        from tests.gui.conftest import FAST

        v = replace(FAST, tokens=260, tps=60.0, first_byte_ms=180.0, jitter_ms=12.0)
        if which == "truncated":
            v = replace(
                v,
                scenario="max_tokens",
                tokens=260,
                max_tokens=150,
                jitter_ms=8.0,
                prompt="Write a detailed 3000-word essay on the history of the printing press.",
            )
        elif which == "retry":
            v = replace(v, scenario="http_429", fail_first=1, prompt="Retry me after a 429.")
        elif which == "stall":
            v = replace(v, scenario="stall", cut_at=90, stall_ms=600_000, stall_s=3.0)
        win.request_pane.set_values(v)
        win.heat_toggle.setChecked(which == "main")
        done = []
        win.controller.verdict_ready.connect(lambda o: done.append(o))
        await asyncio.sleep(0.5)
        win.send()
        await wait_for(lambda: done, 60)
        await asyncio.sleep(0.8)
        if which == "truncated":
            readme_shot(win, "verdict-truncated.png")
            win.verdict_panel.continue_button.click()
            await wait_for(lambda: len(done) > 1, 60)
            await asyncio.sleep(0.8)
        elif which == "retry":
            win.verdict_panel.retry_button.click()
            await wait_for(lambda: len(done) > 1, 60)
            await asyncio.sleep(0.8)
        elif which == "main":
            readme_shot(win, "main.png")
        screen_shot(app)
        win.run_stored = True  # a demo run: no question on closing
    await win.shutdown()
    await client.aclose()
    win.close()


app = QApplication(["shots"])
app.setQuitOnLastWindowClosed(False)
server = start_mock_server(host="127.0.0.1", port=0)
try:
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(main(app, server))
finally:
    server.stop()
