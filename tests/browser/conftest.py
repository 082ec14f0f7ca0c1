"""Browser tests: Debian's chromium, headless, driven by Playwright, against the app served by gunicorn.

They run only with RUN_BROWSER=1 (`.ci/run` sets it; see README, "Tests"), once per backend like the
rest of the suite: gunicorn serves the same database the test's `app` fixture fills, so builders
and services seed through `live.client` / `live.app` while the browser clicks through the pages.
Screenshots go to the run's folder (`shoot`), which the run prints at the end.
"""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.browser.helpers import use_shots_dir
from tests.conftest import DATA_KEY

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
RUN_BROWSER = os.environ.get("RUN_BROWSER") == "1"
# The flags the machine's notes ask for: no sandbox as root, and no background traffic to a closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
SECRET_KEY = "browser-test-secret-key-0123456789abcdef"


def pytest_collection_modifyitems(config, items):
    """Mark every test here `browser`; skip them unless RUN_BROWSER=1 (and fail loudly if chromium is missing then)."""
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            if not RUN_BROWSER:
                item.add_marker(pytest.mark.skip(reason="set RUN_BROWSER=1 to run the browser tests (.ci/run does)"))


@pytest.fixture(scope="session")
def shots_dir():
    """The folder this run writes its screenshots to (BROWSER_SHOTS_DIR, or tests/browser/shots/<time>)."""
    folder = Path(os.environ.get("BROWSER_SHOTS_DIR") or ROOT / "tests" / "browser" / "shots" / time.strftime("%Y%m%d-%H%M%S"))
    folder.mkdir(parents=True, exist_ok=True)
    use_shots_dir(folder)
    yield folder
    print(f"\nscreenshots: {folder}")


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """gunicorn serving the app on loopback for one backend."""

    url: str
    backend: str
    process: subprocess.Popen
    log: Path


@pytest.fixture(scope="session")
def live_server(backend, tmp_path_factory):
    """gunicorn with the repository's gunicorn.conf.py, on the backend's database, for the whole run."""
    if not RUN_BROWSER:
        pytest.skip("set RUN_BROWSER=1")
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"RUN_BROWSER=1 but {CHROMIUM} is missing (apt-get install -y chromium fonts-noto-cjk)")
    port = _free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    env = {**os.environ, "APP_ENV": "testing", "SECRET_KEY": SECRET_KEY, "DATA_KEY": DATA_KEY,
           "DATABASE_URL": backend["SQLALCHEMY_DATABASE_URI"], "TRUST_LIST_CACHE_SECONDS": "0",
           "STAFF_LOGIN_RATE_LIMIT": "1000 per minute", "LOGIN_RATE_LIMIT": "1000 per minute",
           "WEB_CONCURRENCY": os.environ.get("BROWSER_WEB_CONCURRENCY", "2"),
           "CONSOLE_ASSETS_DIR": str(ROOT / "node_modules")}
    env.pop("REDIS_URL", None)
    if backend.get("REDIS_URL"):
        env["REDIS_URL"] = backend["REDIS_URL"]
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with open(log, "w") as out:
        process = subprocess.Popen([str(gunicorn), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                                    "wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"gunicorn did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
    yield Server(url, backend["BACKEND"], process, log)
    process.terminate()
    process.wait(timeout=20)


@dataclass
class Live:
    """What a browser test works with: the served URL, and the same database through the test app."""

    url: str
    backend: str
    app: object
    client: object
    server: Server


@pytest.fixture
def live(live_server, app):
    """The served app on clean tables with the reference data; seed with `live.client` (builders) or services."""
    return Live(live_server.url, live_server.backend, app, app.test_client(), live_server)


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium, headless, launched once per run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@dataclass
class ConsoleLog:
    """Errors the page logged (console.error, uncaught exceptions, CSP refusals); some can be expected."""

    errors: list = field(default_factory=list)
    allowed: list = field(default_factory=list)

    def allow(self, fragment):
        """Expect errors containing `fragment` (a scan sent while the browser is offline, say)."""
        self.allowed.append(fragment)

    def unexpected(self):
        """The errors no `allow` covers."""
        return [e for e in self.errors if not any(fragment in e for fragment in self.allowed)]


@pytest.fixture
def console_log():
    """The page's console errors; the `page` fixture fails the test on any unexpected one."""
    return ConsoleLog()


def _console_error(log, message):
    # Chrome logs every 4xx page as "Failed to load resource", a sign-in refused (401) included; the
    # response listener records failed loads itself, telling the pages a test asked for from the rest.
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        log.errors.append(message.text)


def _failed_load(log, response):
    if response.status >= 400 and not response.request.is_navigation_request():
        log.errors.append(f"HTTP {response.status} {response.request.method} {response.url}")


@pytest.fixture
def page(chromium, live, console_log, shots_dir, request):
    """A fresh browser context and page at 1366×768 (Beijing time, Chinese), base URL = the live server."""
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN",
                                   timezone_id="Asia/Shanghai", base_url=live.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("console", lambda message: _console_error(console_log, message))
    page.on("response", lambda response: _failed_load(console_log, response))
    page.on("pageerror", lambda error: console_log.errors.append(f"pageerror: {error}"))
    page.fg_backend = live.backend  # shoot() names files by backend
    page.fg_test = request.node.name
    yield page
    context.close()
    unexpected = console_log.unexpected()
    assert not unexpected, f"the page logged errors: {unexpected}"
