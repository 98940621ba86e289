"""Each review page in a real headless Chromium against ``fava --read-only``: the key
figures the engine computes are visible, the console shows no error, Fava's own
navigation, filters and entry overlay work on the pages, and writes are refused.

The browser is Debian's ``chromium`` driven by Playwright's Python package (no browser
download); scripts/setup.sh --browser installs it with apt, so these tests run in
``bash scripts/test.sh`` (CI). Where /usr/bin/chromium is missing they fail when
``CI=true`` and are skipped, with the reason, on a developer's machine otherwise.
Screenshots go to each test's temporary folder; ``ZBD_SCREENSHOTS=docs/img`` also copies
the ones docs/reviewing.md shows. (No conftest.py here: tests elsewhere import the
top-level ``conftest`` by name, which a second conftest module would shadow.)
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from fava_support import PAGES
from fava_support import EngineRun
from fava_support import FavaServer
from fava_support import engine_run
from fava_support import expected_figures
from fava_support import ledgers
from fava_support import ROOT
from fava_support import start_fava

from zhubaodai.fava.page import PAGE_SIZE

pytestmark = pytest.mark.browser

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


#: Page -> the element that shows it has rendered.
READY = {
    "Zbd1Pool": "#zbd-pool",
    "Zbd2Loans": "#zbd-loans",
    "Zbd3Compensations": "#zbd-compensations",
    "Zbd4Recoveries": "#zbd-recoveries",
    "Zbd5Interest": "#zbd-interest",
    "Zbd6Compliance": "#zbd-compliance",
    "Zbd7Deadlines": "#zbd-deadlines",
}


@pytest.fixture(scope="module", params=ledgers(), ids=lambda p: "shapes" if p.stem == "shapes" else p.parent.name)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FavaServer, EngineRun]]:
    ledger: Path = request.param
    log = tmp_path_factory.mktemp("fava") / "fava.log"
    proc, server = start_fava(ledger, log)
    try:
        yield server, engine_run(ledger)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except Exception:  # noqa: BLE001
            proc.kill()
            proc.wait()


class Console:
    """The browser console's errors (and uncaught exceptions) while a page is used."""

    def __init__(self, page) -> None:  # noqa: ANN001
        self.errors: list[str] = []
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))


@pytest.fixture()
def page(browser):  # noqa: ANN001, ANN201
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()


#: Screenshots docs/reviewing.md shows: (ledger folder, shot) -> file name under docs/img.
DOC_SHOTS = {
    **{("ledger", name): f"{name}.png" for name in PAGES},
    ("ledger", "time-filter"): "time-filter.png",
    ("fava", "Zbd6Compliance"): "findings-example.png",
    ("fava", "Zbd2Loans"): "loans-example.png",
    ("fava", "verdicts"): "verdicts-example.png",
    ("fava", "entry-context"): "entry-context.png",
    ("fava", "write-refused"): "write-refused.png",
    ("fava", "deadlines-example"): "deadlines-example.png",
}


def _shoot(page, tmp_path: Path, name: str, ledger: Path, selector: str | None = None) -> None:  # noqa: ANN001
    """A full-page screenshot (or of one element) under the test's temporary folder
    (and, with ZBD_SCREENSHOTS=docs/img, the ones the reviewers' guide shows)."""
    target = tmp_path / f"{name}.png"
    if selector is None:
        page.screenshot(path=str(target), full_page=True)
    else:
        page.locator(selector).screenshot(path=str(target))
    assert target.stat().st_size > (10_000 if selector is None else 2_000)
    wanted = os.environ.get("ZBD_SCREENSHOTS")
    # The reviewers' guide shows the main demo's pages (shapes.beancount shares its folder).
    doc_name = None if ledger.stem == "shapes" else DOC_SHOTS.get((ledger.parent.name, name))
    if wanted and doc_name:
        folder = Path(wanted)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(target, folder / doc_name)


@pytest.mark.parametrize("name", list(PAGES))
def test_page_shows_the_engines_figures_without_console_errors(
    served: tuple[FavaServer, EngineRun], page, name: str, tmp_path: Path  # noqa: ANN001
) -> None:
    server, run = served
    console = Console(page)
    page.goto(server.url(f"extension/{name}/"))
    page.wait_for_selector(READY[name])
    page.wait_for_load_state("networkidle")
    assert page.title().startswith(PAGES[name])
    assert page.locator("text=审阅页面无法运行规则引擎").count() == 0
    shown = page.eval_on_selector_all(
        "[data-figure]", "els => Object.fromEntries(els.map(e => [e.dataset.figure, e.innerText.trim()]))"
    )
    expected = expected_figures(run, name)
    visible = {key: value for key, value in expected.items() if key in shown}
    if name == "Zbd2Loans":
        assert len(visible) == min(len(expected), PAGE_SIZE)
    else:
        assert visible.keys() == expected.keys()
    for key, value in visible.items():
        assert shown[key] == value, key
        assert page.locator(f'[data-figure="{key}"]').first.is_visible()
    if name == "Zbd1Pool":
        # The charts are drawn (server-side SVG): each fund keeps its colour on every chart.
        # attached, not visible: a fund that stays at zero (HKJB has no 助保金) is a flat line.
        page.wait_for_selector("figure.zbd-chart svg path.zbd-line", state="attached")
        strokes = page.eval_on_selector_all(
            "figure.zbd-chart path.zbd-line",
            "ps => ps.map(p => [p.closest('figure').dataset.chart, p.dataset.line, getComputedStyle(p).stroke])",
        )
        by_label: dict[str, set[str]] = {}
        for _, label, stroke in strokes:
            by_label.setdefault(label, set()).add(stroke)
        assert all(len(s) == 1 for s in by_label.values()), by_label
        if "助保金" in by_label:  # a ledger of pools without a guarantee fund draws none (SZPS)
            assert by_label["助保金"] != by_label["风险补偿金"]
        else:
            assert "风险补偿金" in by_label
        if "风险补偿金余额" in by_label:
            assert by_label["风险补偿金余额"] == by_label["风险补偿金"]
        assert page.get_by_role("button", name="按成本").count() == 0
        # Back to the top (the chart buttons scrolled the page): the verdicts come first.
        page.evaluate("document.getElementById('zbd-pool').scrollIntoView()")
    _shoot(page, tmp_path, name, server.ledger)
    assert console.errors == []


def test_sidebar_filters_and_entry_overlay_work_on_the_pages(
    served: tuple[FavaServer, EngineRun], page, tmp_path: Path  # noqa: ANN001
) -> None:
    server, run = served
    console = Console(page)
    page.goto(server.url("extension/Zbd1Pool/"))
    page.wait_for_selector("#zbd-pool")
    # Fava's sidebar lists every page; its router loads them without a full reload.
    for title in PAGES.values():
        assert page.get_by_role("link", name=title, exact=True).count() == 1
    page.get_by_role("link", name="合规检查", exact=True).click()
    page.wait_for_selector("#zbd-compliance")
    assert page.locator('[data-figure="total"]').inner_text() == str(len(run.analysis.findings))
    # The severity filter keeps to warnings.
    page.locator(".zbd-chips a", has_text="警告").first.click()
    page.wait_for_url("**severity=warning**")
    page.wait_for_selector("#zbd-compliance")
    rows = page.locator("tr[data-severity]")
    assert rows.count() == min(len(run.analysis.warnings), PAGE_SIZE)
    assert page.locator('tr[data-severity="error"]').count() == 0
    # A finding's link opens Fava's overlay with the entry it concerns.
    if run.analysis.warnings:
        first = page.locator("tr[data-severity] a", has_text="查看分录").first
        first.click()
        page.wait_for_url("**#context-**")
        overlay = page.locator("dialog[open]")
        overlay.wait_for()
        finding = sorted(
            run.analysis.warnings, key=lambda f: (f.program or "", f.date, f.filename or "", f.lineno or 0)
        )[0]
        where = f"{os.path.basename(finding.filename)}:{finding.lineno}"
        # The overlay opens before Fava has fetched the entry's context: wait for it.
        overlay.get_by_text(where).first.wait_for()
        assert where in overlay.inner_text()
        _shoot(page, tmp_path, "entry-context", server.ledger)
        page.keyboard.press("Escape")
    # Fava's time filter reaches the pages.
    year = run.last_date.year
    page.goto(server.url("extension/Zbd1Pool/"))
    page.wait_for_selector("#zbd-pool")
    box = page.get_by_placeholder("时间")
    box.fill(str(year))
    box.press("Enter")
    page.wait_for_url(f"**time={year}**")
    page.wait_for_selector(f"text={year}-01-01 至 {year}-12-31")
    _shoot(page, tmp_path, "time-filter", server.ledger)
    assert console.errors == []


def test_a_working_day_deadline_coming_due_is_shown(
    served: tuple[FavaServer, EngineRun], page, tmp_path: Path  # noqa: ANN001
) -> None:
    """Seen from the day after a deadline's start (before it was met), the reminders page
    lists it with the last day and the working days left by the engine's calendar."""
    server, run = served
    calendar = run.analysis.rulebook.calendar
    one_day = datetime.timedelta(days=1)
    record = next(
        (r for r in run.analysis.records.deadlines
         if r.deadline.done is None or r.deadline.done > r.deadline.start + one_day),
        None,
    )
    if record is None:
        assert server.ledger.stem == "shapes"  # its programs' policies set no working-day deadline
        pytest.skip("此账本的项目没有工作日期限")
    today = record.deadline.start + one_day
    due = calendar.nth_workday_after(record.deadline.start, record.deadline.n)
    console = Console(page)
    page.goto(server.url(f"extension/Zbd7Deadlines/?date={today}"))
    row = page.locator(
        f'table[data-section="upcoming"] tr[data-loan="{record.loan}"][data-rule="{record.rule}"]'
    )
    row.wait_for()
    text = row.inner_text()
    assert str(due) in text
    assert f"{calendar.workdays_in(today, due)} 个工作日" in text
    _shoot(page, tmp_path, "deadlines-example", server.ledger)
    assert console.errors == []


def test_writes_are_refused(served: tuple[FavaServer, EngineRun], page, tmp_path: Path) -> None:  # noqa: ANN001
    server, run = served
    before = {path: path.read_bytes() for path in server.ledger.parent.rglob("*.beancount")}
    # Through the browser's HTTP client: Fava's source API and the extension's endpoints.
    source = page.request.put(
        server.url("api/source"),
        data={"file_path": str(server.ledger), "source": "", "sha256sum": ""},
    )
    assert source.status == 401
    for endpoint in ("Zbd6Compliance/findings.csv", "Zbd2Loans/loans.csv"):
        for method in ("post", "put", "delete"):
            response = getattr(page.request, method)(server.url(f"extension/{endpoint}"))
            assert response.status == 401, (endpoint, method)
        assert page.request.get(server.url(f"extension/{endpoint}")).status == 200
    # Through Fava's own entry overlay: saving the entry is refused by the server.
    if run.analysis.findings:
        page.goto(server.url("extension/Zbd6Compliance/"))
        page.wait_for_selector("#zbd-compliance")
        page.locator("a", has_text="查看分录").first.click()
        overlay = page.locator("dialog[open]")
        overlay.wait_for()
        overlay.locator(".cm-content").wait_for()
        overlay.locator(".cm-content").click()
        page.keyboard.press("End")
        page.keyboard.type(" ; 审阅人试图修改")
        with page.expect_response(lambda r: "/api/" in r.url and r.request.method != "GET") as caught:
            overlay.get_by_role("button", name="保存").click()
        assert caught.value.status == 401
        _shoot(page, tmp_path, "write-refused", server.ledger)
    after = {path: path.read_bytes() for path in server.ledger.parent.rglob("*.beancount")}
    assert after == before


# --------------------------------------------------------------------------------------
# The import page: a statement extracted and saved end to end, in a writable Fava.

IMPORTS = ROOT / "tests" / "importers"


def test_import_page_extracts_and_saves_a_statement(browser, tmp_path: Path) -> None:  # noqa: ANN001
    """The accountant's way: the statement in the import folder is listed with the pool's
    importer; Extract shows the entries the importer made (the fee linked to its loan, the
    bank's serial number); Save writes them; the ledger then passes bean-check."""
    import io
    import subprocess
    import sys

    from zhubaodai.importers import cli

    ledger_dir = tmp_path / "ledger"
    shutil.copytree(IMPORTS / "ledger", ledger_dir)
    ledger = ledger_dir / "main.beancount"
    text = ledger.read_text(encoding="utf-8").replace("'../../../rules.yaml'", repr(str(ROOT / "rules.yaml")))
    ledger.write_text(text, encoding="utf-8")
    # The other pool's quarter first (on the command line), so that the whole ledger passes.
    other = ledger_dir / "wlht-import.beancount"
    status = cli.run_import(
        [IMPORTS / "boc" / "boc-2024Q3.csv"], configs=[IMPORTS / "pools" / "wlht-boc.yaml"], ledger=ledger,
        output=other, err=io.StringIO(),
    )
    assert status == 0
    inbox = ledger_dir / "inbox"
    inbox.mkdir()
    shutil.copy(IMPORTS / "quarter" / "ccb-2024Q3.csv", inbox / "ccb.csv")
    config = tmp_path / "import_config.py"
    config.write_text(
        "from zhubaodai.importers.importer import PoolImporter\n"
        f"CONFIG = [PoolImporter({str(IMPORTS / 'pools' / 'cqgx.yaml')!r}, fava=True)]\nHOOKS = []\n",
        encoding="utf-8",
    )
    with ledger.open("a", encoding="utf-8") as handle:
        handle.write('\ninclude "wlht-import.beancount"\n')
        handle.write(f'2021-01-01 custom "fava-option" "import-config" "{config}"\n')
        handle.write('2021-01-01 custom "fava-option" "import-dirs" "inbox"\n')
        handle.write("2021-01-01 open Income:CQGX:Unidentified CNY\n2021-01-01 open Expenses:CQGX:Unidentified CNY\n")
    proc, server = start_fava(ledger, tmp_path / "fava.log", read_only=False)
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    try:
        tab = context.new_page()
        tab.set_default_timeout(60_000)
        console = Console(tab)
        tab.goto(server.url("import/"))
        listed = tab.locator(f'[title="{inbox / "ccb.csv"}"]')
        listed.wait_for()
        # Fava's Chinese interface calls Extract 导出, Next 下一个 and Save 保存.
        extract = tab.locator('button[title$="with importer CQGX 专户对账单"]')
        assert extract.inner_text() == "导出"
        extract.click()
        dialog = tab.locator("dialog[open]")
        dialog.wait_for()
        # 11 rows and the statement's two balance assertions.
        assert " ".join(dialog.locator("h3").nth(1).inner_text().split()) == "Entry 1 of 13 (13 to import):"
        dialog.get_by_role("button", name="下一个").click()
        dialog.locator("h3", has_text="Entry 2 of 13").wait_for()
        values = [field.input_value() for field in dialog.locator("input").all()]
        assert "重庆丙材料有限公司" in values and "缴纳助保金 ^CQ-2024-010" in values
        assert values[values.index("serial") + 1] == "10001-20240703100211001"
        _shoot(tab, tmp_path, "import-extract", ledger)
        dialog.get_by_role("button", name="⏭").click()
        dialog.locator("h3", has_text="Entry 13 of 13").wait_for()
        # Wait for Fava's answer to the save itself: the dialog may close before the
        # request is done, and a loaded machine then stopped Fava before it wrote the file.
        with tab.expect_response(
            lambda r: "/api/add_entries" in r.url and r.request.method == "PUT", timeout=120_000
        ) as saved_response:
            dialog.get_by_role("button", name="保存").click()
        assert saved_response.value.ok, saved_response.value.text()
        dialog.wait_for(state="detached")
        tab.wait_for_load_state("networkidle")
        assert console.errors == []
    finally:
        context.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except Exception:  # noqa: BLE001
            proc.kill()
            proc.wait()
    saved = "".join(p.read_text(encoding="utf-8") for p in ledger_dir.glob("*.beancount"))
    assert saved.count('serial: "10') == 11  # the CCB rows (the BOC rows have other serials)
    assert "^CQ-2024-010" in saved and 'bank_share: "397387.20 CNY"' in saved
    check = subprocess.run(
        [str(Path(sys.executable).with_name("bean-check")), "-C", str(ledger)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


def _rgb_contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two computed CSS colours ('rgb(r, g, b)')."""
    import re

    def luminance(colour: str) -> float:
        r, g, b = (int(x) / 255 for x in re.findall(r"\d+", colour)[:3])
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_pool_verdict_is_the_first_thing_a_reviewer_sees(
    served: tuple[FavaServer, EngineRun], page, tmp_path: Path  # noqa: ANN001
) -> None:
    """At the top of 资金池概况, each program's verdict, readable (AA contrast as the
    browser computes it) and linked to its findings on 合规检查."""
    server, run = served
    console = Console(page)
    page.goto(server.url("extension/Zbd1Pool/"))
    page.wait_for_selector("#zbd-verdicts")
    expected = {}
    for code in run.analysis.used_programs():  # the programs the ledger uses
        mine = [f for f in run.analysis.findings if f.program == code]
        errors = sum(f.severity == "error" for f in mine)
        warnings = len(mine) - errors
        expected[code] = ("不合规", "error") if errors else ("需关注", "warning") if warnings else ("合规", None)
        badge = page.locator(f'a[data-verdict="{code}"]')
        assert expected[code][0] in badge.inner_text()
        box = badge.bounding_box()
        assert box is not None and box["y"] + box["height"] < 1000  # on the first screen
        colour, background = badge.evaluate(
            "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]"
        )
        assert _rgb_contrast(colour, background) >= 4.5, (code, colour, background)
    if server.ledger.stem == "shapes":  # the second demo: only GSBY's 4-year loan warns
        assert expected == {
            "HKJB": ("合规", None), "SZPS": ("合规", None), "GSBY": ("需关注", "warning"), "WZS": ("合规", None),
            "LNYQ": ("合规", None), "JHJD": ("合规", None),
        }
        assert console.errors == []
        return
    if server.ledger.parent.name == "ledger":  # the demo: one warning, CQGX's
        assert expected == {"CQGX": ("需关注", "warning"), "WLHT": ("合规", None)}
    else:
        assert all(severity == "error" for _, severity in expected.values())
        assert page.locator('#zbd-verdicts[role="alert"]').count() == 1
    _shoot(page, tmp_path, "verdicts", server.ledger, "#zbd-verdicts")
    # The verdict leads to the findings behind it.
    code = next(c for c, (_, severity) in expected.items() if severity)
    severity = expected[code][1]
    page.locator(f'a[data-verdict="{code}"]').click()
    page.wait_for_url(f"**severity={severity}**")
    page.wait_for_selector("#zbd-compliance")
    shown = page.locator("tr[data-severity]")
    wanted = [f for f in run.analysis.findings if f.program == code and f.severity == severity]
    assert shown.count() == min(len(wanted), PAGE_SIZE)
    assert page.locator(f'tr[data-severity]:not([data-severity="{severity}"])').count() == 0
    assert console.errors == []


def test_favas_own_pages_use_the_chinese_locale(
    served: tuple[FavaServer, EngineRun], page  # noqa: ANN001
) -> None:
    """The demo ledger sets Fava's locale (zh_CN) and default page (资金池概况): the root
    opens the review page, and Fava's balance sheet prints numbers with separators."""
    server, run = served
    if server.ledger.parent.name != "ledger":
        pytest.skip("只有示例账本设置了 locale 与 default-page")
    from decimal import Decimal

    console = Console(page)
    page.goto(server.base + "/")
    page.wait_for_selector("#zbd-pool")
    assert "/extension/Zbd1Pool/" in page.url
    assets = sum(
        (p.units.number for e in run.entries if type(e).__name__ == "Transaction"
         for p in e.postings if p.account.startswith("Assets:") and p.units.currency == "CNY"),
        Decimal(0),
    )
    separated = f"{assets:,.2f}"
    assert "," in separated
    page.goto(server.url("balance_sheet/"))
    page.get_by_text(separated, exact=True).first.wait_for()
    assert page.get_by_text(f"{assets:.2f}", exact=True).count() == 0
    assert console.errors == []


def test_register_columns_sort_like_favas_tables(
    served: tuple[FavaServer, EngineRun], page  # noqa: ANN001
) -> None:
    """贷款台账's columns sort on a click (Fava's own sortable-table), by the engine's
    figures; the totals row stays at the bottom."""
    from decimal import Decimal

    server, run = served
    console = Console(page)
    page.goto(server.url("extension/Zbd2Loans/"))
    page.wait_for_selector("#zbd-loans")
    fees = run.analysis.records.fees

    def shown_order() -> list[str]:
        return page.eval_on_selector_all("table.zbd-loans tbody tr[data-loan]", "rows => rows.map(r => r.dataset.loan)")

    loans = shown_order()
    assert len(loans) > 2
    header = page.locator("table.zbd-loans thead th", has_text="助保金应缴")
    header.click()
    ascending = shown_order()
    assert [fees[i].due for i in ascending] == sorted(fees[i].due for i in loans)
    header.click()
    descending = shown_order()
    assert [fees[i].due for i in descending] == sorted((fees[i].due for i in loans), reverse=True)
    # The totals row is the table's last row, whatever the order.
    last = page.eval_on_selector("table.zbd-loans", "t => t.rows[t.rows.length - 1].innerText")
    assert last.startswith("合计")
    total = sum((fees[i].due for i in run.analysis.register.loans if i in fees), Decimal(0))
    assert f"{total:,.2f}" in last
    assert console.errors == []


# --------------------------------------------------------------------------------------
# Through `zbd serve --reviewers` (Debian's nginx with TLS and a login in front of Fava;
# tests/test_reviewers_network.py tests the proxy over HTTP). Here, because Playwright's
# one sync browser per session is this module's fixture. A headless browser without the
# password cannot show the login prompt, so only a logged-in reviewer is driven.


@pytest.fixture(scope="module")
def reviewers_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from test_reviewers_network import _start

    started = _start(tmp_path_factory.mktemp("reviewers-browser"))
    try:
        yield started
    finally:
        started.process.terminate()
        started.process.wait(timeout=30)


def test_a_reviewer_browses_every_page_through_the_proxy(reviewers_pool, browser) -> None:  # noqa: ANN001
    """Fava's scripts, styles and read-only JSON API all pass the proxy, no page needs an
    endpoint it blocks (no console error), and Fava's router works through it."""
    from test_reviewers_network import PASSWORDS

    pool = reviewers_pool
    # The browser is not given the demo certificate; test_reviewers_network checks TLS with it.
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN", ignore_https_errors=True,
                                  http_credentials={"username": "zhang.san", "password": PASSWORDS["zhang.san"]})
    try:
        tab = context.new_page()
        tab.set_default_timeout(60_000)
        console = Console(tab)
        base = f"https://localhost:{pool.port}{pool.slug}"
        for name, title in PAGES.items():
            tab.goto(f"{base}/extension/{name}/")
            tab.wait_for_selector(READY[name])
            tab.wait_for_load_state("networkidle")
            assert tab.title().startswith(title)
        tab.get_by_role("link", name="资金池概况", exact=True).click()
        tab.wait_for_selector(READY["Zbd1Pool"])
        tab.wait_for_selector("figure.zbd-chart svg path.zbd-line")  # the pool page's charts
        assert console.errors == []
    finally:
        context.close()


def test_the_deposit_and_subsidy_sections_and_the_npl_date_in_chromium(
    served: tuple[FavaServer, EngineRun], page, tmp_path: Path  # noqa: ANN001
) -> None:
    """Issue #10's views on the second demo: 资金池概况 lists HKJB's deposits loan by loan and
    its subsidies with their caps; 代偿台账 shows SZPS's NPL date. The main demo has none."""
    server, run = served
    console = Console(page)
    page.goto(server.url("extension/Zbd1Pool/"))
    page.wait_for_selector(READY["Zbd1Pool"])
    if server.ledger.stem != "shapes":
        assert page.locator("#zbd-deposits").count() == 0 and page.locator("#zbd-outflows").count() == 0
        return
    deposits = page.locator("#zbd-deposits")
    deposits.scroll_into_view_if_needed()
    assert deposits.is_visible() and "质押存单明细" in deposits.inner_text()
    row = page.locator('#zbd-deposits tr[data-loan="HK-2021-003"]')
    # 40,000.00 pledged on 2021-06-03 and used on 2022-06-15 for its own overdue loan.
    assert "40,000.00" in row.inner_text() and "2022-06-15 代偿" in re.sub(r"\s+", " ", row.inner_text())
    outflows = page.locator("#zbd-outflows")
    assert "担保费奖补" in outflows.inner_text()
    assert page.locator('[data-figure="outflow-year.HKJB.2021.left"]').inner_text().strip() == "4,885,000.00"
    _shoot(page, tmp_path, "side-ledgers", server.ledger, "#zbd-deposits")
    page.goto(server.url("extension/Zbd3Compensations/"))
    page.wait_for_selector(READY["Zbd3Compensations"])
    assert page.get_by_role("columnheader", name="不良分类日").is_visible()
    assert page.locator('[data-figure="SZ-2026-001.npl_date"]').inner_text().strip() == "2026-09-30"
    assert console.errors == []


def _figures_in(page) -> dict[str, str]:  # noqa: ANN001
    return page.eval_on_selector_all(
        "[data-figure]", "els => Object.fromEntries(els.map(e => [e.dataset.figure, e.innerText.trim()]))"
    )


def test_the_loss_split_after_recovery_in_chromium(
    served: tuple[FavaServer, EngineRun], page, tmp_path: Path  # noqa: ANN001
) -> None:
    """Issue #10: 金东 (JHJD, in the second demo) splits the pool's loss after recovery
    40/40/20. 代偿台账 shows the loss event and each party's due, recorded and difference;
    资金池概况 totals them in JHJD's section. JH-2025-001: 1,236,000.56 paid, 375,000.00
    recovered net, loss 861,000.56 = 344,400.23 + 344,400.22 + 172,200.11 (the fen of the
    largest-remainder tie to the government, listed first), recorded exactly so on
    2026-06-30. The main demo and the test ledger have no residual table: no section."""
    server, _ = served
    console = Console(page)
    page.goto(server.url("extension/Zbd3Compensations/"))
    page.wait_for_selector(READY["Zbd3Compensations"])
    if server.ledger.stem != "shapes":
        assert page.locator("#zbd-losses").count() == 0
        page.goto(server.url("extension/Zbd1Pool/"))
        page.wait_for_selector(READY["Zbd1Pool"])
        assert page.get_by_text("追偿后损失分担").count() == 0
        assert console.errors == []
        return
    section = page.locator("#zbd-losses")
    section.scroll_into_view_if_needed()
    assert section.is_visible() and "追偿后损失分担" in section.inner_text()
    shown = _figures_in(page)
    assert shown["JH-2025-001.loss_date"] == "2026-06-30"
    assert shown["JH-2025-001.loss"] == "861,000.56"
    for party, due in (("government", "344,400.23"), ("guarantor", "344,400.22"), ("bank", "172,200.11")):
        assert (shown[f"JH-2025-001.{party}.due"], shown[f"JH-2025-001.{party}.recorded"],
                shown[f"JH-2025-001.{party}.difference"]) == (due, due, "0.00")
        assert page.locator(f'[data-figure="JH-2025-001.{party}.due"]').is_visible()
    row = page.locator('#zbd-losses tr[data-party="government"]')
    assert "政府" in row.inner_text() and "40%" in row.inner_text()
    _shoot(page, tmp_path, "losses", server.ledger, "#zbd-losses")
    page.goto(server.url("extension/Zbd1Pool/"))
    page.wait_for_selector(READY["Zbd1Pool"])
    shown = _figures_in(page)
    assert (shown["JHJD.loss.total"], shown["JHJD.loss.recorded"], shown["JHJD.loss.difference"]) == (
        "861,000.56", "861,000.56", "0.00")
    assert shown["JHJD.loss.guarantor.due"] == "344,400.22"
    assert page.locator('[data-figure="JHJD.loss.total"]').is_visible()
    assert console.errors == []


def test_a_loss_split_one_fen_off_in_chromium(browser, tmp_path: Path) -> None:  # noqa: ANN001
    """A small ledger (comp.shares' failing ledger, the review pages registered): the pool
    paid 1,020,000.01, recovered 250,000.00 net; the loss of 770,000.01 is due 308,000.01 /
    308,000.00 / 154,000.00 (40% = 308,000.004 twice, 20% = 154,000.002; the fen to the
    government), the event of 2026-03-31 records the fen to the guarantor: the two
    differences, 0.01 and -0.01, are shown in red beside the engine's findings."""
    for folder in ("common",):
        shutil.copytree(ROOT / "tests" / "ledgers" / folder, tmp_path / "tests" / "ledgers" / folder)
    shutil.copy(ROOT / "rules.yaml", tmp_path / "rules.yaml")
    shutil.copy(ROOT / "calendar.yaml", tmp_path / "calendar.yaml")
    source = ROOT / "tests" / "ledgers" / "rules" / "comp.shares" / "jhjd-fail-residual-fen.beancount"
    ledger = tmp_path / source.relative_to(ROOT)
    ledger.parent.mkdir(parents=True)
    ledger.write_text(source.read_text(encoding="utf-8") + '\n2000-01-01 custom "fava-extension" "zhubaodai.fava"\n',
                      encoding="utf-8")
    proc, server = start_fava(ledger, tmp_path / "fava.log")
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    try:
        tab = context.new_page()
        tab.set_default_timeout(30_000)
        console = Console(tab)
        tab.goto(server.url("extension/Zbd3Compensations/"))
        tab.wait_for_selector("#zbd-losses")
        shown = _figures_in(tab)
        assert (shown["JH-2025-001.loss_date"], shown["JH-2025-001.loss"]) == ("2026-03-31", "770,000.01")
        assert (shown["JH-2025-001.government.due"], shown["JH-2025-001.government.recorded"],
                shown["JH-2025-001.government.difference"]) == ("308,000.01", "308,000.00", "0.01")
        assert (shown["JH-2025-001.guarantor.due"], shown["JH-2025-001.guarantor.recorded"],
                shown["JH-2025-001.guarantor.difference"]) == ("308,000.00", "308,000.01", "-0.01")
        assert shown["JH-2025-001.bank.difference"] == "0.00"
        colour = 'el => getComputedStyle(el).color'
        red = tab.eval_on_selector('[data-figure="JH-2025-001.government.difference"]', colour)
        plain = tab.eval_on_selector('[data-figure="JH-2025-001.bank.difference"]', colour)
        assert red != plain
        section = tab.locator("#zbd-losses").inner_text()
        assert "政府应承担 308,000.01 元，已记录 308,000.00 元，差额 0.01 元" in section
        tab.goto(server.url("extension/Zbd1Pool/"))
        tab.wait_for_selector("#zbd-pool")
        shown = _figures_in(tab)
        assert (shown["JHJD.loss.government.difference"], shown["JHJD.loss.guarantor.difference"]) == ("0.01", "-0.01")
        assert console.errors == []
    finally:
        context.close()
        proc.terminate()
        proc.wait(timeout=10)
