"""The policy rules through the engine: what the rule ledgers cannot show one ledger at a
time (episodes of a breach, cures, a year the calendar does not know, the strict option,
the records the other faces read)."""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path

import pytest
from beancount import loader

from zhubaodai.core.engine import Analysis
from zhubaodai.core.engine import analyse
from zhubaodai.core.findings import ERROR
from zhubaodai.core.findings import FORMAT_RULE
from zhubaodai.core.findings import WARNING
from zhubaodai.core.rules import load_rules
from zhubaodai.core.workdays import WorkCalendar

ROOT = Path(__file__).resolve().parent.parent
LEDGERS = ROOT / "tests" / "ledgers"
RULES = load_rules(ROOT / "rules.yaml")

WL_HEAD = """\
option "operating_currency" "CNY"
include "{common}"
2024-01-02 custom "program" "open" "WLHT"
2024-01-02 * "财政局" "注入风险补偿金"
  Assets:WLHT:Pool:Risk         {risk} CNY
  Income:WLHT:Risk:Injection   -{risk} CNY
2024-01-02 custom "program" "plan" "WLHT"
  expected_volume: {volume} CNY
2024-01-05 custom "enterprise" "register" "E-1"
  program: "WLHT"
  name: "甲公司"
  size: "小型"
  roster: "乌金融办函〔2024〕3号"
  score: 75
  credit_clean: TRUE
"""

WL_LOAN = """\
{day} custom "loan" "approval" "{loan}"
  program: "WLHT"
  enterprise: "E-1"
  amount: {amount} CNY
  letter: "乌金融办函〔2024〕12号"
  purpose: "流动资金"
{day} * "甲公司" "缴纳助保金" ^{loan}
  Assets:WLHT:Pool:Guarantee    {fee} CNY
  Income:WLHT:Guarantee:Fees   -{fee} CNY
{day} custom "loan" "contract" "{loan}"
  amount: {amount} CNY
  maturity: {maturity}
  collateral: {amount} CNY
  joint_liability: "实际控制人"
{day} custom "loan" "disbursement" "{loan}"
  amount: {amount} CNY
  notice_date: {day}
"""


def run(text: str) -> Analysis:
    entries, errors, _ = loader.load_string(text)
    assert errors == [], errors
    return analyse(entries, RULES)


def wl_loan(loan: str, day: str, amount: str) -> str:
    d = datetime.date.fromisoformat(day)
    fee = f"{int(float(amount) * 0.02 * 100) / 100:.2f}"
    return WL_LOAN.format(loan=loan, day=day, amount=amount, fee=fee, maturity=d.replace(year=d.year + 1))


def wl_ledger(*loans: str, risk: str = "1000000.00", volume: str = "10000000.00", tail: str = "") -> str:
    head = WL_HEAD.format(common=LEDGERS / "common" / "wlht.beancount", risk=risk, volume=volume)
    return head + "".join(loans) + tail


def rules_of(analysis: Analysis) -> list[tuple[str, str]]:
    return [(f.rule, f.severity) for f in analysis.findings]


def test_a_clean_program_has_no_findings() -> None:
    assert rules_of(run(wl_ledger(wl_loan("WL-1", "2024-03-04", "4000000.00")))) == []


def test_leverage_is_reported_once_per_run_of_days_in_breach() -> None:
    """Risk fund 1,000,000.00 allows 10,000,000.00 outstanding. The third loan breaches it, the
    fourth deepens the same breach (no new finding); a repayment cures it; a fifth breaches again."""
    text = wl_ledger(
        wl_loan("WL-1", "2024-03-04", "4000000.00"),
        wl_loan("WL-2", "2024-03-11", "4000000.00"),
        wl_loan("WL-3", "2024-03-18", "2000000.01"),
        wl_loan("WL-4", "2024-03-25", "1000000.00"),
        volume="10000000.00",
        tail="""\
2024-04-01 custom "loan" "repayment" "WL-4"
  amount: 1000000.00 CNY
2024-04-01 custom "loan" "repayment" "WL-3"
  amount: 2000000.01 CNY
""" + wl_loan("WL-5", "2024-04-08", "2000000.01"),
    )
    analysis = run(text)
    found = [f for f in analysis.findings if f.rule == "risk.leverage"]
    assert [f.date for f in found] == [datetime.date(2024, 3, 18), datetime.date(2024, 4, 8)]
    assert all(f.severity == ERROR for f in found)
    assert "贷款余额上限 10,000,000.00 元，贷款余额 10,000,000.01 元，超出 0.01 元" in found[0].message
    checks = [c for c in analysis.records.adequacy if c.rule == "risk.leverage"]
    assert [c.ok for c in checks] == [True, True, True, False, False, True, False]


def test_leverage_is_judged_at_the_end_of_the_day() -> None:
    """A repayment on the same day as a new loan keeps the day within the limit."""
    text = wl_ledger(
        wl_loan("WL-1", "2024-03-04", "10000000.00"),
        volume="10000000.00",
        tail="""\
2024-05-06 custom "loan" "repayment" "WL-1"
  amount: 1000000.00 CNY
""" + wl_loan("WL-2", "2024-05-06", "1000000.00"),
    )
    assert [f for f in run(text).findings if f.rule == "risk.leverage"] == []


def test_a_compensation_that_drains_the_risk_fund_breaches_leverage_on_its_day() -> None:
    text = wl_ledger(
        wl_loan("WL-1", "2024-03-04", "5000000.00"),
        wl_loan("WL-2", "2024-03-04", "5000000.00"),
        volume="10000000.00",
        tail="""\
2024-06-03 custom "loan" "overdue" "WL-1"
  principal: 200000.00 CNY
2024-06-03 custom "loan" "claim" "WL-1"
  principal: 200000.00 CNY
  letter: "建行函"
  approval: "领导小组办公室审核同意"
2024-06-05 * "金融办" "代偿 WL-1" ^WL-1
  bank_share: 100000.00 CNY
  Expenses:WLHT:Guarantee:Compensation  0.00 CNY
  Expenses:WLHT:Risk:Compensation       100000.00 CNY
  Assets:WLHT:Pool:Risk                -100000.00 CNY
""",
    )
    # The guarantee fund (200,000.00 of fees) should pay first: the waterfall says so too.
    analysis = run(text)
    leverage = [f for f in analysis.findings if f.rule == "risk.leverage"]
    assert [f.date for f in leverage] == [datetime.date(2024, 6, 5)]
    assert leverage[0].lineno is not None and "900,000.00" in leverage[0].message


def test_cq_floor_judged_at_each_change_and_reported_when_the_shortfall_starts() -> None:
    common = LEDGERS / "common" / "cqgx.beancount"
    text = f"""\
option "operating_currency" "CNY"
include "{common}"
2024-01-02 custom "program" "open" "CQGX"
2024-01-02 * "财政局" "注入"
  Assets:CQGX:Pool:Risk         300000.00 CNY
  Income:CQGX:Risk:Injection   -300000.00 CNY
2024-01-05 custom "enterprise" "register" "E-1"
  program: "CQGX"
  name: "甲公司"
  size: "小型"
  zone: TRUE
  hightech_until: 2026-12-31
"""
    for i, day in enumerate(("2024-03-04", "2024-03-11", "2024-05-06"), start=1):
        text += f"""\
{day} custom "loan" "approval" "CQ-{i}"
  program: "CQGX"
  enterprise: "E-1"
  amount: 1500000.00 CNY
  letter: "函"
  purpose: "流动资金"
{day} * "甲公司" "缴纳助保金" ^CQ-{i}
  Assets:CQGX:Pool:Guarantee    37500.00 CNY
  Income:CQGX:Guarantee:Fees   -37500.00 CNY
{day} custom "loan" "contract" "CQ-{i}"
  amount: 1500000.00 CNY
  maturity: 2025-03-01
  rate: 0.04
{day} custom "loan" "disbursement" "CQ-{i}"
  amount: 1500000.00 CNY
  notice_date: {day}
"""
        if i == 2:
            text += """\
2024-04-01 * "财政局" "注入"
  Assets:CQGX:Pool:Risk         1.00 CNY
  Income:CQGX:Risk:Injection   -1.00 CNY
"""
    analysis = run(text)
    floor = [f for f in analysis.findings if f.rule == "risk.floor"]
    # 3,000,000.00 outstanding wants 300,000.00: met on 03-11; 4,500,000.00 from 05-06 wants 450,000.00.
    assert [(f.date, f.severity) for f in floor] == [(datetime.date(2024, 5, 6), WARNING)]
    assert "应不低于 450,000.00 元，风险补偿金余额 300,001.00 元，差额 149,999.00 元" in floor[0].message
    assert [f.rule for f in analysis.findings] == ["risk.floor"]  # 4,500,000.00 in all: no amount warning


def test_compensation_not_due_when_the_loan_is_cured_before_the_last_day() -> None:
    text = wl_ledger(
        wl_loan("WL-1", "2024-03-04", "1000000.00"),
        tail="""\
2024-08-30 custom "loan" "overdue" "WL-1"
  principal: 1000000.00 CNY
2024-09-20 custom "loan" "claim" "WL-1"
  principal: 1000000.00 CNY
  letter: "建行函"
  approval: "领导小组办公室审核同意"
2024-10-08 custom "loan" "repayment" "WL-1"
  amount: 1000000.00 CNY
2024-10-08 custom "loan" "settlement" "WL-1"
2024-12-31 balance Assets:WLHT:Pool 1020000.00 CNY
""",
    )
    analysis = run(text)
    assert [f for f in analysis.findings if f.rule == "comp.deadline"] == []
    [record] = [r for r in analysis.records.deadlines if r.rule == "comp.deadline"]
    assert record.deadline.due == datetime.date(2024, 10, 10)


def test_a_year_the_calendar_does_not_know_is_a_finding_naming_it(tmp_path: Path) -> None:
    cal = RULES.calendar
    year = max(max(cal.table_years), WorkCalendar.library_years()[-1]) + 1
    text = wl_ledger(
        wl_loan("WL-1", f"{year}-03-02", "1000000.00").replace(f"  notice_date: {year}-03-02\n", ""),
        tail=f"{year}-06-30 balance Assets:WLHT:Pool 1020000.00 CNY\n",
    ).replace("2024-01-02 custom \"program\" \"plan\"", f"{year}-01-02 custom \"program\" \"plan\"")
    analysis = run(text)
    [finding] = [f for f in analysis.findings if f.rule == "notice.disbursement"]
    assert finding.severity == ERROR
    assert f"工作日历没有 {year} 年的放假安排" in finding.message and "calendar.yaml" in finding.message
    assert finding.lineno is not None
    # And through bean-check: a clear error, never a traceback.
    ledger = tmp_path / "main.beancount"
    plugin = f"plugin \"zhubaodai.plugin\" \"{{'rules': '{ROOT / 'rules.yaml'}'}}\"\n"
    ledger.write_text(plugin + text, encoding="utf-8")
    bean_check = Path(sys.executable).parent / "bean-check"
    done = subprocess.run([str(bean_check), str(ledger)], capture_output=True, text=True)
    assert done.returncode == 1
    assert f"工作日历没有 {year} 年的放假安排" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_warnings_pass_bean_check_and_strict_raises_them(tmp_path: Path) -> None:
    warn = LEDGERS / "rules" / "loan.rate" / "cqgx-warn.beancount"
    bean_check = Path(sys.executable).parent / "bean-check"
    done = subprocess.run([str(bean_check), str(warn)], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout + done.stderr == ""
    strict = tmp_path / "strict.beancount"
    strict.write_text(
        warn.read_text(encoding="utf-8")
        .replace("{'rules': '../../../../rules.yaml'}", f"{{'rules': '{ROOT / 'rules.yaml'}', 'strict': True}}")
        .replace('include "../../common/', f'include "{LEDGERS / "common"}/'),
        encoding="utf-8",
    )
    done = subprocess.run([str(bean_check), str(strict)], capture_output=True, text=True)
    assert done.returncode == 1
    assert "[loan.rate] 渝高新发〔2021〕8号 第十二条：" in done.stdout + done.stderr


def test_the_plugin_puts_the_calendar_in_the_include_list() -> None:
    _, errors, options = loader.load_file(str(LEDGERS / "rules" / "loan.rate" / "cqgx-pass.beancount"))
    assert errors == []
    includes = [Path(p).resolve() for p in options["include"]]
    assert (ROOT / "rules.yaml").resolve() in includes
    assert (ROOT / "calendar.yaml").resolve() in includes


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ('  zone: "是"\n', "元数据 zone 应为 TRUE 或 FALSE"),
        ("  revenue_year: 2023.5\n", "元数据 revenue_year 应为整数"),
    ],
)
def test_enterprise_facts_are_checked_as_the_register_reads_them(meta: str, message: str) -> None:
    text = wl_ledger(tail=f'2024-02-01 custom "enterprise" "update" "E-1"\n{meta}')
    analysis = run(text)
    [finding] = analysis.findings
    assert finding.rule == FORMAT_RULE and message in finding.message


def test_an_update_of_an_unregistered_enterprise_is_a_format_error() -> None:
    analysis = run(wl_ledger(tail='2024-02-01 custom "enterprise" "update" "E-9"\n  score: 80\n'))
    [finding] = analysis.findings
    assert finding.rule == FORMAT_RULE and "企业 E-9 在此日期或之前没有登记" in finding.message


def test_a_confirmation_registered_after_the_compensation_is_one_finding(tmp_path: Path) -> None:
    """CQ: compensating before the overdue facts are confirmed is reported once; the late
    confirmation does not open a second, never-compensated episode."""
    fixture = LEDGERS / "rules" / "comp.deadline" / "cqgx-fail-no-confirmation.beancount"
    text = (
        fixture.read_text(encoding="utf-8")
        .replace("'../../../../rules.yaml'", f"'{ROOT / 'rules.yaml'}'")
        .replace('include "../../common/', f'include "{LEDGERS / "common"}/')
    )
    text += """
2025-02-20 custom "loan" "confirmation" "CQ-2024-001"
  letter: "高新创服确〔2025〕9号"
2025-06-30 balance Assets:CQGX:Pool  4502500.00 CNY
"""
    ledger = tmp_path / "main.beancount"
    ledger.write_text(text, encoding="utf-8")
    entries, _, _ = loader.load_file(str(ledger))
    found = [f for f in analyse(entries, RULES).findings if f.rule == "comp.deadline"]
    assert len(found) == 1 and "代偿前未登记逾期事实确认" in found[0].message
