"""The review page in a real browser: uvicorn serving the tiny model on a free port, Chromium driven by
Playwright. Debian's chromium is used where it is (``apt-get install -y chromium``; Playwright's own
download cannot work on our machines), else Playwright's (``playwright install chromium``); with neither,
every test here is skipped with one loud line."""

from __future__ import annotations

import functools
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright import sync_api as playwright_api
from pydantic import SecretStr

from boundaryline.settings import Settings
from service.app import create_app

API_KEY = "web-test-key-0123456789"
DEBIAN_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
NO_BROWSER = (
    "NO BROWSER: the review page's browser tests (tests/web) are SKIPPED: neither Debian's chromium "
    f"({DEBIAN_CHROMIUM}: apt-get install -y chromium) nor Playwright's own (playwright install chromium) is there"
)


@functools.cache
def browser_executable() -> str | None:
    """Debian's chromium; else Playwright's own build (installed now where that works: not on our
    machines); else None. An empty string means Playwright's own."""
    for path in (DEBIAN_CHROMIUM, shutil.which("chromium")):
        if path and Path(path).exists():
            return path
    with playwright_api.sync_playwright() as playwright:
        own = Path(playwright.chromium.executable_path)
    if not own.exists():
        command = [sys.executable, "-m", "playwright", "install", "chromium"]
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=300)
        except (subprocess.SubprocessError, OSError):
            return None
    return "" if own.exists() else None


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """Chromium, started once for this folder's tests; a browser that is there but will not start fails the
    tests, not skips them. Package-scoped: Playwright's sync API keeps an event loop running while it is
    open, and the service tests that run after these call ``asyncio.run``."""
    executable = browser_executable()
    if executable is None:
        pytest.skip(NO_BROWSER)
    with playwright_api.sync_playwright() as playwright:
        options = {"executable_path": executable} if executable else {}
        launched = playwright.chromium.launch(args=CHROMIUM_ARGS, **options)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def live_settings(tiny_trained: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A private copy of the tiny trained project, with an API key so corrections can be stored."""
    root = tmp_path_factory.mktemp("web")
    shutil.copytree(tiny_trained.root, root, dirs_exist_ok=True)
    return Settings(root=root, feedback_db=root / "feedback.sqlite3", api_key=SecretStr(API_KEY))


@pytest.fixture(scope="session")
def live_server(live_settings: Settings) -> Iterator[str]:
    """uvicorn serving the app in a thread, on a port the OS picks; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(live_settings), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)
    sock.close()


@pytest.fixture(scope="session")
def screenshots(project_settings: Settings) -> Path:
    """reports/screenshots/ of the checkout (git-ignored): look at them after a run."""
    folder = project_settings.reports_dir / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Session:
    """One fresh browser context (its own session storage) on the page, recording what it asks for."""

    page: Any
    base: str
    requests: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def goto(self, fragment: str = "") -> None:
        self.page.goto(f"{self.base}/{fragment}")


@pytest.fixture
def session(browser: Any, live_server: str) -> Iterator[Session]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    recorded = Session(page=page, base=live_server)
    page.on("request", lambda request: recorded.requests.append(request))
    page.on("pageerror", lambda error: recorded.errors.append(str(error)))
    page.on(
        "response",
        lambda response: (
            (response.status == 404 or response.status >= 500)
            and recorded.errors.append(f"{response.status} {response.url}")
        ),
    )
    yield recorded
    context.close()
    assert not recorded.errors, f"errors in the page: {recorded.errors}"
    # Offline: the page asked nothing of any other host, and no message text ever went into a URL.
    assert all(r.url.startswith(live_server) for r in recorded.requests), [r.url for r in recorded.requests]
