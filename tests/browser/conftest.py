"""Real headless Chromium (Debian's ``chromium``, driven by Playwright's Python package;
no browser download) against a running ``fava --read-only`` on loopback.

These tests run in ``bash scripts/test.sh`` (CI): scripts/setup.sh --browser installs the
browser with apt. Where /usr/bin/chromium is missing they fail when ``CI=true`` and are
skipped, with the reason, on a developer's machine otherwise.

``ZBD_SCREENSHOTS=docs/img`` also copies the page screenshots there (for
docs/reviewing.md); otherwise they stay in the test run's temporary folder.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fava_support import ROOT  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: runs in a real headless Chromium (Debian's chromium)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"浏览器测试无法运行（CI 中必须运行）：{reason}", pytrace=False)
    pytest.skip(f"浏览器测试跳过：{reason}（运行 bash scripts/setup.sh --browser 安装 chromium）")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        _unavailable(f"没有 {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("没有安装 playwright（pip install -e '.[test]'）")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass(frozen=True)
class FavaServer:
    base: str  # http://127.0.0.1:PORT
    prefix: str  # /<ledger slug>
    ledger: Path

    def url(self, path: str) -> str:
        return f"{self.base}{self.prefix}/{path}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


def start_fava(ledger: Path, log: Path) -> tuple[subprocess.Popen[bytes], FavaServer]:
    """``fava --read-only`` on a free loopback port, as reviewers run it."""
    port = _free_port()
    fava = Path(sys.executable).parent / "fava"
    command = [str(fava), "--read-only", "--host", "127.0.0.1", "--port", str(port), str(ledger)]
    out = log.open("wb")
    proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(_NoRedirect)
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"fava exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            opener.open(base + "/", timeout=2)
        except urllib.error.HTTPError as exc:
            if exc.code == 302:  # to the ledger's default page: /<slug>/income_statement/
                path = urllib.parse.urlsplit(exc.headers["Location"]).path
                return proc, FavaServer(base, "/" + path.strip("/").split("/")[0], ledger)
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.terminate()
            raise RuntimeError("fava did not answer within 120 s")
        time.sleep(0.2)
