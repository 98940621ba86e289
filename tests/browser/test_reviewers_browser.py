"""The review pages in a real headless Chromium through ``zbd serve --reviewers``: a reviewer
who logs in sees every page render with no console error (Fava's scripts, styles and
read-only JSON API all pass the proxy, and no page needs an endpoint the proxy blocks);
the sidebar navigates between the pages; the access log names the reviewer and the pages.
(A headless browser without the password cannot show the login prompt; the 401 page is
checked over HTTP in tests/test_reviewers_network.py.) One server for the module.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from test_fava_browser import READY
from test_fava_browser import Console
from test_fava_browser import browser  # noqa: F401 - the session's Chromium
from test_reviewers_network import PASSWORDS
from test_reviewers_network import Pool
from test_reviewers_network import _start

from zhubaodai.fava import PAGES

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    started = _start(tmp_path_factory.mktemp("reviewers-browser"))
    try:
        yield started
    finally:
        started.process.terminate()
        started.process.wait(timeout=30)


def _tab(browser, user: str):  # noqa: ANN001, ANN202, F811
    credentials = {"username": user, "password": PASSWORDS[user]}
    # The browser is not given the demo certificate; tests/test_reviewers_network.py checks
    # TLS with it.
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN",
                                  ignore_https_errors=True, http_credentials=credentials)
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    return context, tab


def test_a_reviewer_browses_every_page_through_the_proxy(pool: Pool, browser) -> None:  # noqa: ANN001, F811
    context, tab = _tab(browser, "zhang.san")
    try:
        console = Console(tab)
        base = f"https://localhost:{pool.port}{pool.slug}"
        for name, title in PAGES.items():
            tab.goto(f"{base}/extension/{name}/")
            tab.wait_for_selector(READY[name])
            tab.wait_for_load_state("networkidle")
            assert tab.title().startswith(title)
        # Fava's router goes from page to page through the proxy as well.
        tab.get_by_role("link", name="资金池概况", exact=True).click()
        tab.wait_for_selector(READY["Zbd1Pool"])
        tab.wait_for_selector("svelte-component[type=charts] svg")
        assert console.errors == []
    finally:
        context.close()
    lines = (pool.state / "access.log").read_text(encoding="utf-8").splitlines()
    assert any("\tzhang.san\t" in line and "/extension/Zbd7Deadlines/ " in line and "\t200\t" in line for line in lines)

