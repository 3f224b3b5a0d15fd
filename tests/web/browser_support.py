"""What the browser tests share: Debian's Chromium driven by Playwright (the importing test
module is skipped, with the reason, when either is missing), the app served on a free loopback
port, a fresh browser profile per test, and numbered screenshots into $JUESUAN_SCREENSHOTS."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip(
        "需要 Debian 的 chromium 包（apt-get install chromium）; browser tests skipped",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
)

LAUNCH_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
TIMEOUT_MS = 20_000


@contextlib.contextmanager
def live_server():
    """The app on 127.0.0.1 at a free port, in a thread (Django's live server, static files
    included); jobs run in the web process's thread pool, as `juesuan serve` runs them."""
    from pytest_django.live_server_helper import LiveServer

    live = LiveServer("127.0.0.1:0")
    try:
        yield live
    finally:
        live.stop()


@contextlib.contextmanager
def browser_page(*, accept_dialogs: bool = False):
    """A page in a fresh Chromium profile; `accept_dialogs` answers the pages' confirmation
    questions with yes. Closed when the block ends (before the test's database is reset)."""
    profile = tempfile.mkdtemp(prefix="juesuan-chromium-")
    playwright = sync_api.sync_playwright().start()
    try:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=LAUNCH_FLAGS,
            accept_downloads=True,
            viewport={"width": 1280, "height": 900},
            locale="zh-CN",
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            tab = context.pages[0] if context.pages else context.new_page()
            if accept_dialogs:
                tab.on("dialog", lambda dialog: dialog.accept())
            yield tab
        finally:
            context.close()
    finally:
        playwright.stop()
        shutil.rmtree(profile, ignore_errors=True)


class Shots:
    """Full-page screenshots, numbered in the order taken, into $JUESUAN_SCREENSHOTS."""

    def __init__(self, prefix: str = ""):
        folder = os.environ.get("JUESUAN_SCREENSHOTS", "").strip()
        self.folder = Path(folder) if folder else None
        self.prefix = prefix
        self.count = 0
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)

    def take(self, page, name: str) -> None:
        if self.folder is None:
            return
        self.count += 1
        path = self.folder / f"{self.prefix}{self.count:02d}-{name}.png"
        page.screenshot(path=path, full_page=True)


def sign_in(page, base: str, username: str, password: str) -> None:
    """Signs in on the login page and waits for the home page it leads to."""
    page.goto(base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
