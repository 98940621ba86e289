"""The Fava review pages through Flask's test client: every page and endpoint answers, and
the figures shown are the ones the rule engine computes (compared with the engine's own
run on the same ledger, not with copies of the page)."""

from __future__ import annotations

import csv
import datetime
import io
import re
import shutil
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote
from urllib.parse import unquote

import pytest
from fava.application import create_app
from html import unescape
from html.parser import HTMLParser

from markupsafe import escape
from fava.beans.funcs import hash_entry

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))

from fava_support import DEMO_LEDGER  # noqa: E402
from fava_support import EXTENSION_LINE  # noqa: E402
from fava_support import FIXTURE_LEDGER  # noqa: E402
from fava_support import SHAPES_LEDGER  # noqa: E402
from fava_support import PAGES  # noqa: E402
from fava_support import EngineRun  # noqa: E402
from fava_support import engine_run  # noqa: E402
from fava_support import demo_registers_pages  # noqa: E402
from fava_support import figures  # noqa: E402
from fava_support import ledgers  # noqa: E402

from zhubaodai.core.engine import GUARANTEE  # noqa: E402
from zhubaodai.core.engine import RISK  # noqa: E402
from zhubaodai.core.findings import ERROR  # noqa: E402
from zhubaodai.core.findings import WARNING  # noqa: E402
from zhubaodai.core.money import yuan  # noqa: E402
from zhubaodai.fava import analysis as fava_analysis  # noqa: E402
from zhubaodai.fava.page import ratio  # noqa: E402
from zhubaodai.fava.page import times  # noqa: E402
from zhubaodai.fava.views import FLOW_KINDS  # noqa: E402
from zhubaodai.fava.views import program_funds  # noqa: E402
from zhubaodai.checks.waterfall import claim_parts  # noqa: E402
from zhubaodai.checks.waterfall import parties_of  # noqa: E402
from zhubaodai.checks.waterfall import program_parties  # noqa: E402
from zhubaodai.fava.views import finding_text  # noqa: E402

ONE_DAY = datetime.timedelta(days=1)


class Client:
    """A read-only Fava app on one ledger, and that ledger's URL prefix."""

    def __init__(self, ledger: Path, *, read_only: bool = True) -> None:
        self.path = ledger
        self.app = create_app([str(ledger)], read_only=read_only)
        self.client = self.app.test_client()
        response = self.client.get("/")
        assert response.status_code == 302
        self.prefix = "/" + response.location.strip("/").split("/")[0]

    def get(self, path: str, **query: str):
        url = f"{self.prefix}/{path}"
        if query:
            url += "?" + "&".join(f"{k}={quote(v)}" for k, v in query.items())
        return self.client.get(url)

    def page(self, name: str, **query: str) -> str:
        response = self.get(f"extension/{name}/", **query)
        assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
        html = response.get_data(as_text=True)
        assert "审阅页面无法运行规则引擎" not in html
        assert "Traceback" not in html
        return html

    def ledger(self):
        return self.app.config["LEDGERS"][unquote(self.prefix.strip("/"))]


@pytest.fixture(scope="module", params=ledgers(), ids=lambda p: "shapes" if p.stem == "shapes" else p.parent.name)
def setup(request: pytest.FixtureRequest) -> tuple[Client, EngineRun]:
    return Client(request.param), engine_run(request.param)


@pytest.fixture(scope="module")
def fixture_setup() -> tuple[Client, EngineRun]:
    return Client(FIXTURE_LEDGER), engine_run(FIXTURE_LEDGER)


def test_the_demo_ledger_registers_the_review_pages() -> None:
    """The README serves the demo ledger: its top file must register the pages."""
    if not DEMO_LEDGER.exists():
        pytest.skip("演示账本 ledger/main.beancount 尚不存在")
    text = DEMO_LEDGER.read_text(encoding="utf-8")
    assert EXTENSION_LINE in text, f"ledger/main.beancount 应有一行 <日期> {EXTENSION_LINE}"
    assert '"fava-option" "language" "zh"' in text
    # Fava's own pages format numbers for zh_CN, and the root opens 资金池概况.
    assert '"fava-option" "locale" "zh_CN"' in text
    assert '"fava-option" "default-page" "extension/Zbd1Pool/"' in text
    client = Client(DEMO_LEDGER)
    assert client.ledger().fava_options.locale == "zh_CN"
    assert client.client.get("/").location.endswith("/extension/Zbd1Pool/")
    assert client.client.get(client.prefix + "/").location.endswith("/extension/Zbd1Pool/")


def test_every_page_answers_in_chinese(setup: tuple[Client, EngineRun]) -> None:
    client, _ = setup
    for name, title in PAGES.items():
        html = client.page(name)
        assert f"<title>{title} - " in html
        assert "期间：" in html
    # The sidebar lists the pages in this order (Fava sorts extensions by class name).
    details = client.ledger().extensions.extension_details
    titles = [d.report_title for d in details if d.name in PAGES]
    # The pages issue #5 asks for, in the reviewer's order.
    assert titles == ["资金池概况", "贷款台账", "代偿台账", "追偿台账", "孳息分配", "合规检查", "期限提醒"]


def _check_pool(html: str, run: EngineRun, start: datetime.date | None, end: datetime.date) -> None:
    shown = figures(html).figures
    before = start - ONE_DAY if start else None
    for code in run.analysis.used_programs():  # the pages show the programs the ledger uses
        state = run.analysis.programs[code]
        for fund in program_funds(state.program):  # SZPS keeps no guarantee fund
            series = state.funds[fund]
            opening = series.at(before) if before else Decimal(0)
            assert shown[f"{code}.{fund}.opening"] == yuan(opening)
            assert shown[f"{code}.{fund}.closing"] == yuan(series.at(end))
            for kind in FLOW_KINDS:
                flow = state.flow_series.get((fund, kind))
                if flow is None:
                    continue
                amount = flow.at(end) - (flow.at(before) if before else 0)
                if amount:
                    assert shown[f"{code}.{fund}.{kind}"] == yuan(amount)
        outstanding = sum(
            (loan.outstanding(end) for loan in run.analysis.register.loans.values() if loan.program == code),
            Decimal(0),
        )
        assert shown[f"{code}.outstanding"] == yuan(outstanding)
        risk = state.funds[RISK].at(end)
        assert shown[f"{code}.risk_balance"] == yuan(risk)
        if outstanding > 0:
            assert shown[f"{code}.coverage"] == ratio(risk / outstanding)
        if risk > 0:
            assert shown[f"{code}.leverage"] == times(outstanding / risk)
        for rule_id in ("risk.floor", "risk.leverage"):
            checks = [
                c for c in run.analysis.records.adequacy
                if c.program == code and c.rule == rule_id and c.day <= end
            ]
            if checks:
                assert yuan(checks[-1].limit) in shown[f"{code}.{rule_id}.limit"]
                figure = checks[-1].risk_fund if rule_id == "risk.floor" else checks[-1].base
                assert yuan(figure) in shown[f"{code}.{rule_id}.figure"]
        injected = state.flow_series.get((RISK, "injection"))
        assert shown[f"{code}.injections"] == yuan(injected.at(end) if injected else Decimal(0))
        in_period = [
            f for f in run.analysis.findings
            if f.program == code and (f.date is None or ((start is None or f.date >= start) and f.date <= end))
        ]
        assert shown[f"{code}.errors"] == f"错误 {sum(f.severity == ERROR for f in in_period)} 条"
        assert shown[f"{code}.warnings"] == f"警告 {sum(f.severity == WARNING for f in in_period)} 条"


def test_pool_overview_shows_the_engines_balances_and_flows(setup: tuple[Client, EngineRun]) -> None:
    client, run = setup
    html = client.page("Zbd1Pool")
    _check_pool(html, run, None, run.last_date)
    _check_charts(html, run, run.last_date)


ENGLISH_MONTHS = re.compile(r"January|February|March|April|May|June|July|August|September|October|November|December|\b\d+(\.\d+)?[kM]\b")


def _check_charts(html: str, run: EngineRun, end: datetime.date) -> None:
    """The overview's charts: Chinese months, 万元, the engine's closing values, and one
    colour per fund on every chart."""
    charts = re.findall(r'<figure class="zbd-chart" data-chart="([^"]+)">(.*?)</figure>', html, flags=re.S)
    assert charts and "svelte-component" not in html  # no Fava chart toolbar that does nothing here
    colours: dict[str, set[str]] = {}
    for key, body in charts:
        months = re.findall(r'data-axis="month">([^<]+)<', body)
        assert months and all(re.fullmatch(r"(\d{4}年)?\d{1,2}月", m) for m in months), months
        assert re.search(r"\d{4}年\d{1,2}月", months[0])
        assert 'data-axis="unit">万元<' in body and "单位：万元" in body
        assert not ENGLISH_MONTHS.search(body)
        for label, colour in re.findall(r'<span data-line="([^"]+)" data-colour="([^"]+)"', body):
            colours.setdefault(colour, set()).add(label)
    # The risk fund is drawn in one colour on the balances chart and the floor chart, under
    # each program's name of it (rules.yaml names:).
    programs = [run.analysis.programs[c].program for c in run.analysis.used_programs()]
    risk_names = {p.names.risk_fund for p in programs}
    assert colours["risk"] & risk_names
    assert colours["risk"] <= risk_names | {f"{name}余额" for name in risk_names}
    if any(key == "risk.floor" for key, _ in charts):
        assert any(label.endswith("余额") for label in colours["risk"])
    if any("guarantee_fund" in p.accounts for p in programs):
        assert colours["guarantee"] == {p.names.guarantee_fund for p in programs if "guarantee_fund" in p.accounts}
    else:
        assert "guarantee" not in colours  # no guarantee fund anywhere: no line for it
    # The legend gives each line's value on the last day: the engine's balance.
    for code in run.analysis.used_programs():
        state = run.analysis.programs[code]
        section = html[html.index(f'<section class="zbd-program" data-program="{code}">'):]
        section = section[: section.index("</section>")]
        balances = re.search(r'<figure class="zbd-chart" data-chart="balances">(.*?)</figure>', section, flags=re.S)
        assert balances is not None
        for fund in program_funds(state.program):
            label = state.program.names.fund(fund)
            assert f'data-line="{label}" data-colour="{fund}" title="{end} 日终 {yuan(state.funds[fund].at(end))} 元"' in balances.group(1)


def test_pool_overview_follows_favas_time_filter(setup: tuple[Client, EngineRun]) -> None:
    client, run = setup
    first = next(e.date for e in run.entries if type(e).__name__ == "Transaction")
    for year in range(first.year, run.last_date.year + 1):
        html = client.page("Zbd1Pool", time=str(year))
        start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
        assert f"{start} 至 {end}" in html
        _check_pool(html, run, start, end)
    html = client.page("Zbd1Pool", time=f"{first.year}-07")
    _check_pool(html, run, datetime.date(first.year, 7, 1), datetime.date(first.year, 7, 31))


def test_pool_overview_follows_favas_account_filter(fixture_setup: tuple[Client, EngineRun]) -> None:
    client, _ = fixture_setup
    html = client.page("Zbd1Pool", account="Assets:WLHT")
    shown = figures(html).figures
    assert "WLHT.closing" in shown
    assert "CQGX.closing" not in shown
    html = client.page("Zbd1Pool", program="CQGX")
    shown = figures(html).figures
    assert "CQGX.closing" in shown and "WLHT.closing" not in shown


VERDICT = re.compile(r'<a class="zbd-verdict zbd-verdict-(\w+)" href="([^"]*)" data-verdict="([^"]+)" data-state="(\w+)"[^>]*>([^<]*)</a>')


def _verdicts(html: str) -> dict[str, tuple[str, str, str]]:
    """Program -> (state, word shown, link) of the verdicts at the top of 资金池概况."""
    top = html[html.index('id="zbd-verdicts"'):html.index('<section class="zbd-program"')]
    found = {}
    for css, href, program, state, text in VERDICT.findall(top):
        assert css == state
        found[program] = (state, text.strip(), unescape(href))
    return found


def _expected_verdict(run: EngineRun, code: str, year: int | None = None) -> tuple[str, str, int, int]:
    """The verdict the engine's findings imply, independently of the page's code."""
    mine = [f for f in run.analysis.findings if f.program == code and (year is None or f.date is None or f.date.year == year)]
    errors = sum(f.severity == ERROR for f in mine)
    warnings = sum(f.severity == WARNING for f in mine)
    if errors:
        return "breach", "✗ 不合规", errors, warnings
    if warnings:
        return "attention", "! 需关注", errors, warnings
    return "ok", "✓ 合规", errors, warnings


def _check_verdicts(client: Client, run: EngineRun, html: str, year: int | None = None) -> dict[str, str]:
    shown = _verdicts(html)
    counts = figures(html).figures
    states = {}
    assert list(shown) == run.analysis.used_programs()
    for code, (state, text, href) in shown.items():
        expected, word, errors, warnings = _expected_verdict(run, code, year)
        assert (state, text) == (expected, word), code
        assert counts[f"{code}.errors"] == f"错误 {errors} 条"
        assert counts[f"{code}.warnings"] == f"警告 {warnings} 条"
        # The verdict links to its findings on 合规检查: the program, and the severity
        # that decided the verdict.
        assert "/extension/Zbd6Compliance/" in href and f"program={code}" in href
        linked = figures(client.client.get(href).get_data(as_text=True)).figures
        if state == "breach":
            assert "severity=error" in href and linked["errors"] == str(errors) and linked["warnings"] == "0"
        elif state == "attention":
            assert "severity=warning" in href and linked["warnings"] == str(warnings) and linked["errors"] == "0"
        else:
            assert "severity=" not in href and linked["errors"] == linked["warnings"] == "0"
        if year is not None:
            assert f"time={year}" in href
        states[code] = state
    # An error cannot be missed: the box at the top is an alert, drawn in the error colour.
    alert = re.search(r'<section class="zbd-verdicts zbd-verdicts-(\w+)" id="zbd-verdicts"[^>]*>', html)
    assert alert is not None
    worst = "breach" if "breach" in states.values() else "attention" if "attention" in states.values() else "ok"
    assert alert.group(1) == worst
    assert ('role="alert"' in alert.group(0)) == (worst == "breach")
    assert html.index('id="zbd-verdicts"') < html.index('<section class="zbd-program"')
    return states


def test_pool_verdict_on_a_ledger_with_errors(fixture_setup: tuple[Client, EngineRun]) -> None:
    client, run = fixture_setup
    states = _check_verdicts(client, run, client.page("Zbd1Pool"))
    assert states == {"CQGX": "breach", "WLHT": "breach"}


def test_pool_verdict_on_a_ledger_with_warnings_only() -> None:
    if not demo_registers_pages():
        pytest.skip("演示账本尚未注册审阅页面")
    client, run = Client(DEMO_LEDGER), engine_run(DEMO_LEDGER)
    assert not run.analysis.errors and run.analysis.warnings
    states = _check_verdicts(client, run, client.page("Zbd1Pool"))
    assert states == {"CQGX": "attention", "WLHT": "ok"}
    # Fava's time filter reaches the verdict: the demo's one warning is dated 2025.
    assert _check_verdicts(client, run, client.page("Zbd1Pool", time="2024"), 2024) == {"CQGX": "ok", "WLHT": "ok"}


@pytest.fixture()
def clean_ledger(tmp_path: Path) -> Path:
    """The demo ledger with its one warning's cause removed (the contract rate within
    1.2 times the benchmark): a ledger with no finding at all."""
    if not demo_registers_pages():
        pytest.skip("演示账本尚未注册审阅页面")
    target = tmp_path / "ledger"
    shutil.copytree(DEMO_LEDGER.parent, target)
    for name in ("rules.yaml", "calendar.yaml"):
        shutil.copy(DEMO_LEDGER.parents[1] / name, tmp_path / name)
    main = target / "main.beancount"
    main.write_text(
        "".join(line for line in main.read_text(encoding="utf-8").splitlines(keepends=True) if "import-" not in line),
        encoding="utf-8",
    )
    year = target / "cqgx" / "2025.beancount"
    text = year.read_text(encoding="utf-8")
    assert text.count("rate: 0.0380") == 1
    year.write_text(text.replace("rate: 0.0380", "rate: 0.0370"), encoding="utf-8")
    return main


def test_pool_verdict_on_a_clean_ledger(clean_ledger: Path) -> None:
    client, run = Client(clean_ledger), engine_run(clean_ledger)
    assert not run.analysis.findings
    states = _check_verdicts(client, run, client.page("Zbd1Pool"))
    assert states == {"CQGX": "ok", "WLHT": "ok"}


def test_loan_register_shows_the_engines_fees_and_balances(setup: tuple[Client, EngineRun]) -> None:
    client, run = setup
    fees = run.analysis.records.fees
    seen = 0
    page = 1
    while True:
        html = client.page("Zbd2Loans", page=str(page))
        shown = figures(html).figures
        for loan_id, loan in run.analysis.register.loans.items():
            if f"{loan_id}.fee_due" not in shown:
                continue
            seen += 1
            assert shown[f"{loan_id}.fee_due"] == yuan(fees[loan_id].due)
            assert shown[f"{loan_id}.fee_paid"] == yuan(fees[loan_id].paid)
            assert shown[f"{loan_id}.outstanding"] == yuan(loan.outstanding(run.last_date))
        if "下一页" not in html and f"page={page + 1}" not in html:
            break
        page += 1
    assert seen == len(run.analysis.register.loans)


def test_loan_register_marks_a_missed_deadline(fixture_setup: tuple[Client, EngineRun]) -> None:
    client, run = fixture_setup
    html = client.page("Zbd2Loans", program="WLHT")
    row = html[html.index('data-loan="WL-2024-002"'):]
    row = row[: row.index("</tr>")]
    late = next(f for f in run.analysis.findings if f.rule == "fee.timing" and f.loan == "WL-2024-002")
    assert "✗ 助保金缴纳时点" in row
    assert str(escape(late.message)) in row


def test_loan_register_styles_counts_by_severity(fixture_setup: tuple[Client, EngineRun]) -> None:
    """A loan with warnings only shows them in the warning style, never as errors."""
    client, run = fixture_setup
    html = client.page("Zbd2Loans")
    checked = set()
    for loan in run.analysis.register.loans:
        mine = [f for f in run.analysis.findings if f.loan == loan]
        errors = sum(f.severity == ERROR for f in mine)
        warnings = sum(f.severity == WARNING for f in mine)
        row = html[html.index(f'<tr data-loan="{loan}">'):]
        cell = row[row.index(f'data-figure="{loan}.findings"'):row.index("</tr>")]
        cell = cell[: cell.index("</td>")]
        assert ('class="zbd-error">错误' in cell) == bool(errors), loan
        assert ('class="zbd-warning">警告' in cell) == bool(warnings), loan
        if errors:
            assert f"错误 {errors} 条" in cell and "severity=error" in cell
        if warnings:
            assert f"警告 {warnings} 条" in cell and "severity=warning" in cell
        if not mine:
            assert "无" in cell
        checked.add((bool(errors), bool(warnings)))
    # The test ledger has loans with errors, with warnings only, and with neither.
    assert {(True, False), (False, True), (False, False)} <= checked


def test_loan_register_totals_the_engines_figures(setup: tuple[Client, EngineRun]) -> None:
    """The totals row sums every loan in scope (on every page of the register)."""
    client, run = setup
    shown = figures(client.page("Zbd2Loans")).figures
    fees = run.analysis.records.fees
    loans = run.analysis.register.loans
    assert shown["total.fee_due"] == yuan(sum((fees[i].due for i in loans if i in fees), Decimal(0)))
    assert shown["total.fee_paid"] == yuan(sum((fees[i].paid for i in loans if i in fees), Decimal(0)))
    assert shown["total.outstanding"] == yuan(
        sum((loan.outstanding(run.last_date) for loan in loans.values()), Decimal(0))
    )
    # The status filter narrows the totals with the rows.
    current = client.page("Zbd2Loans", status="settled")
    rows = current.count("<tr data-loan=")
    assert (f"合计（{rows} 笔" in current) == (rows > 0)


def test_interest_page_totals_the_engines_allocations(setup: tuple[Client, EngineRun]) -> None:
    client, run = setup
    shown = figures(client.page("Zbd5Interest")).figures
    allocations = run.analysis.records.interest
    analysis = run.analysis
    if not any("pool.interest_split" in analysis.rulebook.programs[c].rules for c in analysis.used_programs()):
        assert allocations == [] and "total.total" not in shown  # the shapes demo: HKJB splits no interest
        return
    assert allocations
    for name in ("total", "expected_guarantee", "expected_risk", "actual_guarantee", "actual_risk"):
        assert shown[f"total.{name}"] == yuan(sum((getattr(a, name) for a in allocations), Decimal(0))), name


def test_compensation_register_shows_each_waterfall(setup: tuple[Client, EngineRun]) -> None:
    client, run = setup
    shown = figures(client.page("Zbd3Compensations")).figures
    claims = list(run.analysis.records.claims.values())
    # One column per party of the programs shown (CQGX/WLHT: 助保金, 风险补偿金, 银行; SZPS's
    # table adds 担保机构), each cell what the engine has that party bearing.
    columns = parties_of(run.analysis.rulebook.programs[c] for c in run.analysis.used_programs())
    html = client.page("Zbd3Compensations")
    assert [h for h in re.findall(r'<th class="num" data-sort="num" data-party="([a-z]+)">', html)] == list(columns)
    for claim in claims:
        loan = claim.loan.id
        assert shown[f"{loan}.due"] == yuan(claim.due)
        parts = claim_parts(run.analysis.records, claim)
        mine = program_parties(run.analysis.rulebook.programs[claim.loan.program])
        for party in columns:
            if party in mine:
                assert shown[f"{loan}.{party}"] == yuan(parts[party]), (loan, party)
            else:
                assert shown[f"{loan}.{party}"] == "—"
        if party in ("guarantee", "risk", "bank"):
            assert parts[party] == {"guarantee": claim.guarantee_paid, "risk": claim.risk_paid,
                                    "bank": claim.bank_share}[party]
    assert claims or "所选期间内没有代偿申请或代偿" in html
    if len(claims) > 1:
        assert shown["total.due"] == yuan(sum((c.due for c in claims), Decimal(0)))
        assert shown["total.bank"] == yuan(sum((c.bank_share for c in claims), Decimal(0)))


def test_recovery_register_shows_the_distribution(setup: tuple[Client, EngineRun]) -> None:
    client, run = setup
    shown = figures(client.page("Zbd4Recoveries")).figures
    for rec in run.analysis.records.recoveries:
        loan = rec.loan.id
        assert shown[f"{loan}.net"] == yuan(rec.net)
        for party, amount in rec.parts.items():
            assert shown[f"{loan}.{party}"] == yuan(amount)
    for loan, state in run.analysis.records.loan_recoveries.items():
        missing = sum(state.expected.values(), Decimal(0)) - sum(state.received.values(), Decimal(0))
        assert shown[f"{loan}.not_arrived"] == yuan(missing)


def test_interest_page_shows_jishu_and_shares(setup: tuple[Client, EngineRun]) -> None:
    client, run = setup
    shown = figures(client.page("Zbd5Interest")).figures
    allocations = run.analysis.records.interest
    for a in allocations:
        key = f"{a.program}.{a.entry.date}"
        assert shown[f"{key}.total"] == yuan(a.total)
        assert shown[f"{key}.jishu_guarantee"] == yuan(a.jishu_guarantee)
        assert shown[f"{key}.jishu_risk"] == yuan(a.jishu_risk)
        assert shown[f"{key}.expected_guarantee"] == yuan(a.expected_guarantee)
        assert shown[f"{key}.expected_risk"] == yuan(a.expected_risk)
        assert shown[f"{key}.actual_guarantee"] == yuan(a.actual_guarantee)


def test_compliance_lists_every_finding_with_article_and_entry_link(
    setup: tuple[Client, EngineRun],
) -> None:
    client, run = setup
    findings = run.analysis.findings
    page = 1
    html_pages = []
    while True:
        html = client.page("Zbd6Compliance", page=str(page))
        html_pages.append(html)
        if f"page={page + 1}" not in html:
            break
        page += 1
    shown = figures(html_pages[0]).figures
    assert shown["total"] == str(len(findings))
    assert shown["errors"] == str(len(run.analysis.errors))
    assert shown["warnings"] == str(len(run.analysis.warnings))
    text = "".join(html_pages)
    fava_entries = {
        (e.meta.get("filename"), e.meta.get("lineno")): e for e in client.ledger().all_entries
    }
    for f in findings:
        assert str(escape(finding_text(f))) in text
        assert str(escape(f.citation)) in text
        entry = fava_entries.get((f.filename, f.lineno))
        if entry is not None:
            assert f"#context-{hash_entry(entry)}" in text


def test_pages_name_metadata_fields_in_chinese(fixture_setup: tuple[Client, EngineRun]) -> None:
    """The engine tells the accountant "仍未登记告知日 notice_date"; the reviewer reads 告知日."""
    client, run = fixture_setup
    missed = next(f for f in run.analysis.findings if f.rule == "notice.disbursement")
    assert missed.message.endswith("仍未登记告知日 notice_date")
    for page, query in (("Zbd6Compliance", {}), ("Zbd2Loans", {"program": "CQGX"})):
        html = client.page(page, **query)
        # Fava's own error list (JSON in a script) keeps the engine's words, for the accountant.
        shown = re.sub(r"<script.*?</script>", "", html[html.index('<div class="zbd"'):], flags=re.S)
        assert ("仍未登记告知日" in shown) == (page == "Zbd6Compliance")
        assert "notice_date" not in shown


def test_an_accountants_explanation_is_shown_beside_its_finding() -> None:
    """The demo's one warning carries the accountant's explanation as ``note:`` on the
    contract it concerns: 合规检查 shows it beside the warning, and its CSV has it."""
    if not demo_registers_pages():
        pytest.skip("演示账本尚未注册审阅页面")
    client, run = Client(DEMO_LEDGER), engine_run(DEMO_LEDGER)
    (warning,) = run.analysis.warnings
    note = warning.entry.meta["note"]
    html = client.page("Zbd6Compliance")
    row = html[html.index(f'<tr data-rule="{warning.rule}"'):]
    row = row[: row.index("</tr>")]
    assert f'<div class="zbd-note" data-note="{warning.rule}"><span class="zbd-note-label">会计说明：</span>{escape(note)}</div>' in row
    rows = list(csv.reader(io.StringIO(client.get("extension/Zbd6Compliance/findings.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][-1] == "会计说明" and rows[1][-1] == note
    # A finding without one shows none.
    fixture = Client(FIXTURE_LEDGER)
    assert 'class="zbd-note"' not in fixture.page("Zbd6Compliance")


def test_compliance_filters_by_program_rule_and_severity(fixture_setup: tuple[Client, EngineRun]) -> None:
    client, run = fixture_setup
    findings = run.analysis.findings
    warnings = figures(client.page("Zbd6Compliance", severity="warning")).figures
    assert warnings["warnings"] == str(len(run.analysis.warnings))
    assert warnings["errors"] == "0"
    html = client.page("Zbd6Compliance", program="WLHT", severity="error")
    wlht = [f for f in findings if f.program == "WLHT" and f.severity == ERROR]
    assert figures(html).figures["errors"] == str(len(wlht))
    assert html.count('<tr data-rule="') == len(wlht)
    html = client.page("Zbd6Compliance", rule="pool.interest_split")
    split = [f for f in findings if f.rule == "pool.interest_split"]
    assert html.count('<tr data-rule="pool.interest_split"') == len(split) > 0
    html = client.page("Zbd6Compliance", loan="CQ-2024-007")
    assert html.count('<tr data-rule="') == sum(f.loan == "CQ-2024-007" for f in findings)
    # The filter links keep the other filters and Fava's own time filter.
    links = figures(client.page("Zbd6Compliance", severity="error", time="2024")).links
    assert any("rule=fee.rate" in link and "severity=error" in link and "time=2024" in link for link in links)


def test_compliance_follows_the_time_filter(fixture_setup: tuple[Client, EngineRun]) -> None:
    client, run = fixture_setup
    shown = figures(client.page("Zbd6Compliance", time="2025")).figures
    in_2025 = [f for f in run.analysis.findings if f.date is None or f.date.year == 2025]
    assert shown["total"] == str(len(in_2025))


def test_the_entry_links_open_favas_entry_context(fixture_setup: tuple[Client, EngineRun]) -> None:
    client, _ = fixture_setup
    html = client.page("Zbd6Compliance")
    hashes = {link.split("#context-")[1] for link in figures(html).links if "#context-" in link}
    assert hashes
    for entry_hash in hashes:
        response = client.get("api/context", entry_hash=entry_hash)
        assert response.status_code == 200
        assert response.get_json()["data"]["entry"]["entry_hash"] == entry_hash


def _section(html: str, name: str) -> str:
    part = html[html.index(f'data-section="{name}"'):]
    return part[: part.index("</table>")]


def test_deadline_page_counts_working_days_with_the_engines_calendar(
    fixture_setup: tuple[Client, EngineRun],
) -> None:
    client, run = fixture_setup
    calendar = run.analysis.rulebook.calendar
    # CQ-2024-002 was disbursed on 2024-04-10 and the bank never sent its notice.
    record = next(
        r for r in run.analysis.records.deadlines if r.loan == "CQ-2024-002" and r.rule == "notice.disbursement"
    )
    due = calendar.nth_workday_after(record.deadline.start, record.deadline.n)
    html = client.page("Zbd7Deadlines", date="2024-04-11", days="20")
    assert '基准日：<strong data-scope="today">2024-04-11</strong>' in html
    upcoming = _section(html, "upcoming")
    row = upcoming[upcoming.index('data-loan="CQ-2024-002" data-rule="notice.disbursement"'):]
    row = row[: row.index("</tr>")]
    assert str(due) in row
    assert f"{calendar.workdays_in(datetime.date(2024, 4, 11), due)} 个工作日" in row
    # After its last day it is overdue.
    html = client.page("Zbd7Deadlines", date=str(due + ONE_DAY))
    assert 'data-rule="notice.disbursement"' in _section(html, "overdue")
    assert 'data-rule="notice.disbursement"' not in _section(html, "upcoming")


def test_deadline_page_counts_overdue_and_maturities_in_working_days(
    fixture_setup: tuple[Client, EngineRun],
) -> None:
    client, run = fixture_setup
    calendar = run.analysis.rulebook.calendar
    record = next(
        r for r in run.analysis.records.deadlines if r.loan == "CQ-2024-002" and r.rule == "notice.disbursement"
    )
    due = calendar.nth_workday_after(record.deadline.start, record.deadline.n)
    today = due + datetime.timedelta(days=10)
    late = calendar.workdays_in(due, today)
    assert late != (today - due).days  # a weekend in between: the two counts differ
    shown = figures(client.page("Zbd7Deadlines", date=str(today))).figures
    assert shown["overdue.CQ-2024-002.notice.disbursement.left"] == f"{late} 个工作日"
    # A loan's maturity (a calendar date in the register) is counted the same way.
    today = datetime.date(2025, 2, 20)
    shown = figures(client.page("Zbd7Deadlines", date=str(today))).figures
    maturity = datetime.date(2025, 3, 5)  # WL-2024-002
    assert shown["upcoming.WL-2024-002.maturity.left"] == f"{calendar.workdays_in(today, maturity)} 个工作日"
    assert calendar.workdays_in(today, maturity) != (maturity - today).days


def test_deadline_page_says_the_time_filter_does_not_apply(fixture_setup: tuple[Client, EngineRun]) -> None:
    """Its scope line and its text agree: the reference day counts, not Fava's time filter."""
    client, _ = fixture_setup
    for query in ({}, {"time": "2024"}):
        html = client.page("Zbd7Deadlines", **query)
        scope = html[html.index('<p class="zbd-scope">'):]
        scope = scope[: scope.index("</p>")]
        assert "（随 Fava 顶部的时间筛选变化）" not in scope
        assert "本页以基准日为准" in scope
        assert ("时间筛选 2024-01-01 至 2024-12-31 对本页不起作用" in scope) == bool(query)
        assert "随时间筛选" not in html
    assert "（随 Fava 顶部的时间筛选变化）" in client.page("Zbd1Pool", time="2024")


def test_pages_explain_the_check_command_in_chinese(fixture_setup: tuple[Client, EngineRun]) -> None:
    client, _ = fixture_setup
    html = client.page("Zbd6Compliance")
    hint = html[html.index("严重程度："):]
    hint = hint[: hint.index("</p>")]
    assert "账本检查（检查命令 bean-check 或 zbd check）因此不通过" in hint
    assert "bean-check 失败" not in html


def test_deadline_page_names_a_year_the_calendar_does_not_know(fixture_setup: tuple[Client, EngineRun]) -> None:
    client, run = fixture_setup
    year = max(run.analysis.rulebook.calendar.table_years + list(run.analysis.rulebook.calendar.library_years())) + 1
    html = client.page("Zbd7Deadlines", date=f"{year}-01-05")
    assert f"工作日历没有 {year} 年的放假安排" in html


def test_deadline_page_lists_maturities_and_open_tasks(fixture_setup: tuple[Client, EngineRun]) -> None:
    client, run = fixture_setup
    html = client.page("Zbd7Deadlines", date="2025-02-20", days="20")
    horizon_end = run.analysis.rulebook.calendar.nth_workday_after(datetime.date(2025, 2, 20), 20)
    assert f"至 {horizon_end}" in html
    upcoming, overdue, pending = (_section(html, n) for n in ("upcoming", "overdue", "pending"))
    assert 'data-loan="WL-2024-002"' in upcoming  # matures 2025-03-05
    assert 'data-loan="CQ-2024-002"' not in upcoming  # matures 2025-04-08, beyond the horizon
    assert 'data-loan="WL-2024-001"' in overdue  # matured 2025-02-08, not repaid
    state = run.analysis.records.loan_recoveries["CQ-2024-007"]
    assert yuan(state.expected[RISK] - state.received[RISK]) in pending
    # Without ?date= the reference day is today, but no later than the books' last entry.
    html = client.page("Zbd7Deadlines")
    reference = min(datetime.date.today(), run.last_date)
    assert f'基准日：<strong data-scope="today">{reference}</strong>' in html


def test_loan_register_shows_the_engines_deadline_states(fixture_setup: tuple[Client, EngineRun]) -> None:
    client, run = fixture_setup
    html = client.page("Zbd2Loans")
    states = {}
    for record in run.analysis.records.deadlines:
        states[(record.loan, record.rule)] = record.deadline.status
    assert states[("CQ-2024-002", "notice.disbursement")] == "missed"
    assert states[("WL-2024-001", "notice.disbursement")] == "met"  # over the Spring Festival
    for (loan, rule), status in states.items():
        row = html[html.index(f'data-loan="{loan}"'):]
        row = row[: row.index("</tr>")]
        assert f'data-deadline="{rule}" data-state="{status}"' in row


def test_csv_downloads_hold_the_engines_rows(fixture_setup: tuple[Client, EngineRun]) -> None:
    client, run = fixture_setup
    response = client.get("extension/Zbd6Compliance/findings.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["严重程度", "规则", "规则名称"]
    assert sorted(r[7] for r in rows[1:]) == sorted(finding_text(f) for f in run.analysis.findings)
    assert "notice_date" in "".join(f.message for f in run.analysis.findings)
    assert "notice_date" not in text  # the reviewer reads 告知日
    response = client.get("extension/Zbd6Compliance/findings.csv", severity="warning")
    assert len(list(csv.reader(io.StringIO(response.get_data(as_text=True))))) - 1 == len(run.analysis.warnings)
    response = client.get("extension/Zbd2Loans/loans.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    fees = run.analysis.records.fees
    assert {r[1]: r[10] for r in rows[1:]} == {i: f"{fees[i].due:.2f}" for i in run.analysis.register.loans}


def test_nothing_can_be_written_in_read_only_mode(fixture_setup: tuple[Client, EngineRun]) -> None:
    client, _ = fixture_setup
    ledger_file = str(FIXTURE_LEDGER)
    before = FIXTURE_LEDGER.read_bytes()
    put = client.client.put(
        f"{client.prefix}/api/source",
        json={"file_path": ledger_file, "source": "", "sha256sum": ""},
    )
    assert put.status_code == 401
    for method in ("post", "put", "delete"):
        for endpoint in ("Zbd6Compliance/findings.csv", "Zbd2Loans/loans.csv"):
            response = getattr(client.client, method)(f"{client.prefix}/extension/{endpoint}")
            assert response.status_code == 401
    assert FIXTURE_LEDGER.read_bytes() == before


def test_the_extension_offers_no_state_changing_endpoint() -> None:
    """Even without --read-only, every endpoint of the extension is a GET."""
    client = Client(FIXTURE_LEDGER, read_only=False)
    ledger = client.ledger()
    for ext in ledger.extensions._instances.values():  # noqa: SLF001
        if ext.__class__.__module__.startswith("zhubaodai."):
            assert {method for _, method in ext.endpoints} <= {"GET"}
    response = client.client.post(f"{client.prefix}/extension/Zbd6Compliance/findings.csv")
    assert response.status_code == 404


@pytest.fixture()
def copied_ledger(tmp_path: Path) -> Iterator[Path]:
    target = tmp_path / "ledger"
    shutil.copytree(FIXTURE_LEDGER.parent, target)
    root = FIXTURE_LEDGER.parents[3]
    for name in ("rules.yaml", "calendar.yaml"):  # rules.yaml names calendar.yaml beside it
        if (root / name).exists():
            shutil.copy(root / name, target / name)
    main = target / "main.beancount"
    main.write_text(main.read_text(encoding="utf-8").replace("../../../rules.yaml", "rules.yaml"), encoding="utf-8")
    yield main


def test_the_analysis_is_computed_once_per_ledger_load(copied_ledger: Path) -> None:
    client = Client(copied_ledger)
    ledger = client.ledger()
    client.page("Zbd1Pool")
    first = fava_analysis.for_ledger(ledger)
    client.page("Zbd6Compliance")
    assert fava_analysis.for_ledger(ledger) is first
    # A new fee payment reaches the pages after Fava reloads the ledger.
    with (copied_ledger.parent / "cqgx.beancount").open("a", encoding="utf-8") as out:
        out.write(
            '\n2025-03-01 * "重庆乙电子有限公司" "补缴助保金" ^CQ-2024-002\n'
            "  Assets:CQGX:Pool:Guarantee    0.01 CNY\n"
            "  Income:CQGX:Guarantee:Fees   -0.01 CNY\n"
        )
    ledger.load_file()
    second = fava_analysis.for_ledger(ledger)
    assert second is not first
    assert not any(f.rule == "fee.rate" for f in second.analysis.findings)
    shown = figures(client.page("Zbd2Loans")).figures
    assert shown["CQ-2024-002.fee_paid"] == "50,000.00"


def test_a_ledger_without_the_plugin_gets_a_chinese_message(tmp_path: Path) -> None:
    ledger = tmp_path / "main.beancount"
    ledger.write_text(
        'option "title" "无插件"\n'
        '2021-01-01 custom "fava-extension" "zhubaodai.fava"\n'
        "2021-01-01 open Assets:Cash CNY\n",
        encoding="utf-8",
    )
    client = Client(ledger)
    for name in PAGES:
        response = client.get(f"extension/{name}/")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "审阅页面无法运行规则引擎" in html
        assert "zhubaodai.plugin" in html
    for endpoint in ("Zbd6Compliance/findings.csv", "Zbd2Loans/loans.csv"):
        response = client.get(f"extension/{endpoint}")
        assert response.status_code == 500
        assert response.get_data(as_text=True).startswith("无法导出：账本顶层文件没有启用规则引擎插件")


def test_a_broken_rules_file_gets_a_chinese_message(copied_ledger: Path) -> None:
    rules = copied_ledger.parent / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("severity: error", "severity: fatal", 1), encoding="utf-8")
    client = Client(copied_ledger)
    response = client.get("extension/Zbd1Pool/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "审阅页面无法运行规则引擎" in html
    assert "rules.yaml" in html


# --------------------------------------------------------------------------------------
# Colours: WCAG AA contrast, computed from the CSS values the pages and Fava use.

SPACE_TOGGLE = r"var\(--lightningcss-light, (#[0-9a-fA-F]{3,6})\) var\(--lightningcss-dark, (#[0-9a-fA-F]{3,6})\)"


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a #rgb / #rrggbb colour."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21)."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula_matches_wcag_reference_values() -> None:
    assert round(contrast("#000", "#fff"), 2) == 21.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48  # the classic just-fails grey
    assert contrast("#fff", "#fff") == 1.0


def test_page_colours_meet_wcag_aa_contrast(fixture_setup: tuple[Client, EngineRun]) -> None:
    """Error, warning and 合规 text on Fava's page background, and the verdict badges'
    text on their badge, reach 4.5:1 in Fava's light and dark themes."""
    import fava

    client, _ = fixture_setup
    html = client.page("Zbd1Pool")
    ours = {name: (light, dark) for name, light, dark in re.findall(r"--zbd-([a-z-]+): " + SPACE_TOGGLE, html)}
    assert set(ours) >= {"error", "warning", "ok", "badge-text"}
    # The classes use these colours (and no longer Fava's pale warning yellow).
    assert ".zbd .zbd-warning { color: var(--zbd-warning);" in html
    assert ".zbd .zbd-error { color: var(--zbd-error);" in html
    assert ".zbd .zbd-verdict-attention { background: var(--zbd-warning); }" in html
    assert "color: var(--zbd-badge-text)" in html
    fava_css = (Path(fava.__file__).parent / "static" / "app.css").read_text(encoding="utf-8")
    background = re.search(r"--background: " + SPACE_TOGGLE, fava_css)
    assert background is not None, "Fava 的 app.css 中找不到页面背景色"
    for theme in (0, 1):
        page = background.group(1 + theme)
        for name in ("error", "warning", "ok"):
            ratio_ = contrast(ours[name][theme], page)
            assert ratio_ >= 4.5, (name, theme, ours[name][theme], page, ratio_)
            ratio_ = contrast(ours["badge-text"][theme], ours[name][theme])
            assert ratio_ >= 4.5, ("badge", name, theme, ratio_)


class _Cells(HTMLParser):
    """Each table cell's classes (with its ancestors' within the cell) and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[set[str], str]] = []
        self._cell: tuple[set[str], list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        if tag in ("td", "th"):
            self._cell = (classes, [])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append((self._cell[0], "".join(self._cell[1]).strip()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell[1].append(data)


DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: Cells whose text never wraps: dates, amounts and marks such as "✓ 符合".
NOWRAP = {"zbd-dates", "zbd-nowrap", "num"}


def test_dates_and_marks_never_break_across_lines(setup: tuple[Client, EngineRun]) -> None:
    """A cell showing a date or a mark ("✓ 符合", "✗ 逾期未办") keeps it on one line:
    its class sets white-space: nowrap. Free text (a finding's message) may wrap."""
    client, _ = setup
    html = client.page("Zbd1Pool")
    for name in ("zbd-dates", "zbd-nowrap"):
        assert re.search(r"\.zbd td\." + name + r"[^{]*\{[^}]*white-space: nowrap", html) or re.search(
            r"td\." + name + r"[^{}]*\{[^}]*white-space: nowrap", html
        ), name
    checked = 0
    for page in PAGES:
        parser = _Cells()
        parser.feed(client.page(page))
        for classes, text in parser.cells:
            if classes & {"zbd-message", "zbd-text"} or len(text) > 60 or not text:
                continue
            if DATE.search(text) or text[:1] in "✓✗…":
                checked += 1
                assert classes & NOWRAP, (page, text, classes)
    # The shapes demo is one small program so far: fewer dated cells to check.
    assert checked > (5 if client.path == SHAPES_LEDGER else 10)


def test_pages_say_each_programs_own_fund_names(setup: tuple[Client, EngineRun]) -> None:
    """A program that names its funds (rules.yaml names:) is shown in its words; a page that
    shows programs naming a fund differently uses the generic name (Rulebook.names)."""
    client, run = setup
    rulebook = run.analysis.rulebook
    for code in run.analysis.used_programs():
        names = rulebook.programs[code].names
        html = client.page("Zbd1Pool", program=code)
        section = html[html.index(f'<section class="zbd-program" data-program="{code}"'):]
        section = section[: section.index("</section>")]
        if "risk_fund" in rulebook.programs[code].accounts:
            assert f"{names.risk_fund}余额" in section or f">{names.risk_fund}<" in section
        if not names.generic:
            for kind, generic in (("guarantee_fund", "助保金"), ("risk_fund", "风险补偿金")):
                if names.of(kind) != generic and generic not in names.of(kind):
                    assert generic not in section, (code, generic)
