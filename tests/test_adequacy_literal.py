"""The risk fund's adequacy (zhubaodai.checks.adequacy) against figures computed by hand.

Each case is a tiny ledger written here, run through the engine, and compared with the
exact Chinese text and figures a user reads. The limits are the project's rules.yaml
(CQGX: floor 10% of the outstanding, cap 50,000,000.00; WLHT: floor 10% of the year's
expected volume, outstanding at most 10 times the fund; GSBY: floor 1.5% of the loans
lent, funders 省级 : 市级 = 1 : 0.5; WZS: the bank lends at least 10 times the fund from
the fund's second year; LNYQ: back at 10,000,000.00 by the 31 December after a
compensation), but every figure below is multiplied out in the test. Written for issue
#14 (mutation testing of adequacy.py): each case pins one branch or one boundary.
"""

from __future__ import annotations

import datetime
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader

from conftest import LEDGERS
from conftest import RULES_YAML
from zhubaodai.core.engine import Analysis
from zhubaodai.core.engine import analyse
from zhubaodai.core.rules import load_rules

RULEBOOK = load_rules(RULES_YAML)
COMMON = LEDGERS / "common"


def run(program: str, *parts: str) -> Analysis:
    text = (
        f'option "operating_currency" "CNY"\ninclude "{COMMON / program.lower()}.beancount"\n'
        + "\n".join(textwrap.dedent(p) for p in parts)
    )
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    return analyse(entries, RULEBOOK)


def risk_findings(analysis: Analysis) -> list[tuple[str, str, str]]:
    """(rule, date, message) of the risk fund's findings, in order."""
    return [(f.rule, str(f.date), f.message) for f in analysis.findings if f.rule.startswith("risk.")]


def inject(program: str, day: str, amount: str, funder: str | None = None) -> str:
    meta = f'  funder: "{funder}"\n' if funder is not None else ""
    return (
        f'{day} * "财政局" "注入风险补偿金"\n{meta}'
        f"  Assets:{program}:Pool:Risk  {amount} CNY\n"
        f"  Income:{program}:Risk:Injection  -{amount} CNY\n"
    )


def loan(program: str, loan_id: str, day: str, amount: str, maturity: str = "2027-12-31") -> str:
    return (
        f'{day} custom "loan" "approval" "{loan_id}"\n  program: "{program}"\n  enterprise: "E-1"\n'
        f'  amount: {amount} CNY\n  letter: "函"\n  term_months: 12\n'
        f'{day} custom "loan" "contract" "{loan_id}"\n  amount: {amount} CNY\n  maturity: {maturity}\n'
        f'  credit_line: {amount} CNY\n'
        f'{day} custom "loan" "disbursement" "{loan_id}"\n  amount: {amount} CNY\n'
    )


def loan_event(day: str, kind: str, loan_id: str, amount: str) -> str:
    return f'{day} custom "loan" "{kind}" "{loan_id}"\n  amount: {amount} CNY\n'


def note(program: str, day: str) -> str:
    return f'{day} note Assets:{program}:Pool "核对"\n'


# --------------------------------------------------------------------------------------
# risk.cap (CQGX 50,000,000.00 in total)


def test_the_cap_is_reached_exactly_and_passed_by_a_fen() -> None:
    analysis = run("CQGX", inject("CQGX", "2024-01-02", "30000000.00"), inject("CQGX", "2024-02-01", "20000000.00"))
    assert [f for f in risk_findings(analysis) if f[0] == "risk.cap"] == []
    analysis = run(
        "CQGX",
        inject("CQGX", "2024-01-02", "30000000.00"),
        inject("CQGX", "2024-02-01", "20000000.00"),
        inject("CQGX", "2024-03-01", "0.01"),
        inject("CQGX", "2024-04-01", "1.00"),
    )
    assert [f for f in risk_findings(analysis) if f[0] == "risk.cap"] == [
        ("risk.cap", "2024-03-01", "风险补偿金累计注入 50,000,000.01 元（此前 50,000,000.00 元，本笔 0.01 元），超过总规模上限；上限 50,000,000.00 元，累计注入 50,000,000.01 元，超出 0.01 元"),
        ("risk.cap", "2024-04-01", "风险补偿金累计注入 50,000,001.01 元（此前 50,000,000.01 元，本笔 1.00 元），超过总规模上限；上限 50,000,000.00 元，累计注入 50,000,001.01 元，超出 1.01 元"),
    ]
    assert [(f.program, f.lineno) for f in analysis.findings if f.rule == "risk.cap"] == [("CQGX", 11), ("CQGX", 15)]


def test_an_injection_taken_back_frees_room_under_the_cap() -> None:
    back = (
        '2024-02-15 * "财政局" "退回多注入的风险补偿金"\n'
        "  Assets:CQGX:Pool:Risk  -1000.00 CNY\n  Income:CQGX:Risk:Injection  1000.00 CNY\n"
    )
    analysis = run(
        "CQGX", inject("CQGX", "2024-01-02", "50000000.00"), back, inject("CQGX", "2024-03-01", "1000.00")
    )
    assert [f for f in risk_findings(analysis) if f[0] == "risk.cap"] == []


# --------------------------------------------------------------------------------------
# risk.floor, CQGX: the fund at least 10% of the loans outstanding, at each day's end.


def floor_findings(analysis: Analysis) -> list[tuple[str, str, str]]:
    return [f for f in risk_findings(analysis) if f[0] == "risk.floor"]


def test_the_floor_one_fen_short_is_reported_once_per_run_of_days() -> None:
    """500,000.00 against 5,000,000.10 outstanding: 10% is 500,000.01 (half-up of
    500,000.010); still short after a second loan, then met, then short again."""
    analysis = run(
        "CQGX",
        inject("CQGX", "2024-01-02", "500000.00"),
        loan("CQGX", "C-1", "2024-03-01", "5000000.10"),
        loan("CQGX", "C-2", "2024-03-05", "100.00"),
        inject("CQGX", "2024-04-01", "10.01"),
        loan_event("2024-05-06", "increase", "C-2", "100.00"),
    )
    assert floor_findings(analysis) == [
        ("risk.floor", "2024-03-01", "2024-03-01 日终风险补偿金余额 500,000.00 元，低于贷款余额 5,000,000.10 元的 10%；应不低于 500,000.01 元，风险补偿金余额 500,000.00 元，差额 0.01 元"),
        ("risk.floor", "2024-05-06", "2024-05-06 日终风险补偿金余额 500,010.01 元，低于贷款余额 5,000,200.10 元的 10%；应不低于 500,020.01 元，风险补偿金余额 500,010.01 元，差额 10.00 元"),
    ]
    checks = [(str(c.day), str(c.risk_fund), str(c.base), str(c.limit), c.ok) for c in analysis.records.adequacy if c.rule == "risk.floor"]
    assert checks == [
        ("2024-01-02", "500000.00", "0.00", "0.00", True),
        ("2024-03-01", "500000.00", "5000000.10", "500000.01", False),
        ("2024-03-05", "500000.00", "5000100.10", "500010.01", False),
        ("2024-04-01", "500010.01", "5000100.10", "500010.01", True),
        ("2024-05-06", "500010.01", "5000200.10", "500020.01", False),
    ]


def test_the_floor_met_exactly_is_no_finding_and_repayments_lower_the_outstanding() -> None:
    analysis = run(
        "CQGX",
        inject("CQGX", "2024-01-02", "500000.00"),
        loan("CQGX", "C-1", "2024-03-01", "5000000.00"),
        loan("CQGX", "C-2", "2024-03-01", "1000.00"),
        loan_event("2024-03-01", "repayment", "C-1", "1000.00"),
    )
    assert floor_findings(analysis) == []
    # The day's three changes add up: 5,000,000.00 - 1,000.00 + 1,000.00 outstanding.
    checks = [(str(c.day), str(c.base), str(c.limit), c.ok) for c in analysis.records.adequacy if c.rule == "risk.floor"]
    assert checks == [("2024-01-02", "0.00", "0.00", True), ("2024-03-01", "5000000.00", "500000.00", True)]


def test_a_fund_paid_out_below_the_floor_is_reported_at_its_transaction() -> None:
    out = (
        '2024-04-01 * "合作银行" "风险补偿金代偿" ^C-1\n'
        "  Expenses:CQGX:Risk:Compensation  0.01 CNY\n  Assets:CQGX:Pool:Risk  -0.01 CNY\n"
    )
    analysis = run("CQGX", inject("CQGX", "2024-01-02", "500000.00"), loan("CQGX", "C-1", "2024-03-01", "5000000.00"), out)
    assert floor_findings(analysis) == [
        ("risk.floor", "2024-04-01", "2024-04-01 日终风险补偿金余额 499,999.99 元，低于贷款余额 5,000,000.00 元的 10%；应不低于 500,000.00 元，风险补偿金余额 499,999.99 元，差额 0.01 元"),
    ]


# --------------------------------------------------------------------------------------
# risk.floor, GSBY: the fund at least 1.5% of the loans lent so far (repayments do not count).


def gs_injections() -> str:
    return inject("GSBY", "2024-01-02", "10000.00", "省级") + inject("GSBY", "2024-01-03", "5000.00", "市级")


def test_gsby_floor_counts_loans_lent_not_outstanding() -> None:
    """15,000.00 against 1,000,000.00 lent is exactly 1.5%; lending 0.34 more needs
    15,000.0051 -> 15,000.01, a fen short; the repayment between changes nothing."""
    analysis = run(
        "GSBY",
        gs_injections(),
        loan("GSBY", "G-1", "2024-03-01", "600000.00"),
        loan("GSBY", "G-2", "2024-03-01", "400000.00"),
        loan_event("2024-04-01", "repayment", "G-1", "500000.00"),
        loan_event("2024-05-06", "increase", "G-1", "0.34"),
    )
    assert floor_findings(analysis) == [
        ("risk.floor", "2024-05-06", "2024-05-06 日终风险补偿金余额 15,000.00 元，低于累计放款 1,000,000.34 元的 1.5%；应不低于 15,000.01 元，风险补偿金余额 15,000.00 元，差额 0.01 元"),
    ]
    days = [str(c.day) for c in analysis.records.adequacy if c.rule == "risk.floor"]
    assert days == ["2024-01-02", "2024-01-03", "2024-03-01", "2024-05-06"]


def test_gsby_floor_judged_on_a_risk_fund_day_too() -> None:
    out = (
        '2024-04-01 * "合作银行" "风险补偿金代偿" ^G-1\n'
        "  Expenses:GSBY:Risk:Compensation  0.01 CNY\n  Assets:GSBY:Pool:Risk  -0.01 CNY\n"
    )
    analysis = run("GSBY", gs_injections(), loan("GSBY", "G-1", "2024-03-01", "1000000.00"), out)
    assert floor_findings(analysis) == [
        ("risk.floor", "2024-04-01", "2024-04-01 日终风险补偿金余额 14,999.99 元，低于累计放款 1,000,000.00 元的 1.5%；应不低于 15,000.00 元，风险补偿金余额 14,999.99 元，差额 0.01 元"),
    ]


# --------------------------------------------------------------------------------------
# risk.floor, WLHT: 10% of the year's expected volume; risk.leverage: outstanding ≤ 10 × fund.


def plan(day: str, volume: str, year: int | None = None) -> str:
    line = f"  year: {year}\n" if year is not None else ""
    return f'{day} custom "program" "plan" "WLHT"\n  expected_volume: {volume} CNY\n{line}  letter: "计划函"\n'


def test_wlht_floor_against_the_plan_of_the_year() -> None:
    """Plan 20,000,000.00: 10% is 2,000,000.00; the fund 1,999,999.99 on the plan's day is a fen
    short (reported at the plan), met by a top-up, short again after a compensation, and a
    second plan of the year lowering the volume ends the breach."""
    out = (
        '2024-06-03 * "合作银行" "风险补偿金代偿" ^W-1\n'
        "  Expenses:WLHT:Risk:Compensation  100.00 CNY\n  Assets:WLHT:Pool:Risk  -100.00 CNY\n"
    )
    analysis = run(
        "WLHT",
        inject("WLHT", "2024-01-02", "1999999.99"),
        plan("2024-01-05", "20000000.00", 2024),
        inject("WLHT", "2024-02-01", "0.01"),
        loan("WLHT", "W-1", "2024-03-01", "1000000.00"),
        out,
        plan("2024-07-01", "19999000.00", 2024),
    )
    assert floor_findings(analysis) == [
        ("risk.floor", "2024-01-05", "2024-01-05 日终风险补偿金余额 1,999,999.99 元，低于 2024 年预计业务量 20,000,000.00 元的 10%（2024-01-05 登记的年度计划）；应不低于 2,000,000.00 元，风险补偿金余额 1,999,999.99 元，差额 0.01 元"),
        ("risk.floor", "2024-06-03", "2024-06-03 日终风险补偿金余额 1,999,900.00 元，低于 2024 年预计业务量 20,000,000.00 元的 10%（2024-01-05 登记的年度计划）；应不低于 2,000,000.00 元，风险补偿金余额 1,999,900.00 元，差额 100.00 元"),
    ]
    checks = [(str(c.day), str(c.risk_fund), str(c.base), str(c.limit), c.ok) for c in analysis.records.adequacy if c.rule == "risk.floor"]
    assert checks == [
        ("2024-01-05", "1999999.99", "20000000.00", "2000000.00", False),
        ("2024-02-01", "2000000.00", "20000000.00", "2000000.00", True),
        ("2024-06-03", "1999900.00", "20000000.00", "2000000.00", False),
        ("2024-07-01", "1999900.00", "19999000.00", "1999900.00", True),
    ]


def test_wlht_plan_year_defaults_to_its_date_and_a_year_without_plan_is_reported() -> None:
    analysis = run(
        "WLHT",
        inject("WLHT", "2024-01-02", "2000000.00"),
        plan("2024-01-05", "20000000.00"),
        loan("WLHT", "W-1", "2024-03-01", "1000000.00"),
        loan("WLHT", "W-2", "2025-03-03", "1000000.00"),
        loan("WLHT", "W-3", "2025-02-03", "1000000.00"),
    )
    assert floor_findings(analysis) == [
        ("risk.floor", "2025-02-03", "2025 年有放款或续贷，但未登记当年业务计划（program plan 的 expected_volume），无法核对风险补偿金是否不低于预计业务量的比例"),
    ]


def test_wlht_a_year_is_judged_from_its_own_plan_on() -> None:
    """The 2024 plan does not judge 2025: the fund drawn a fen below 2,000,000.00 on
    2025-01-01 is not compared with anything until the 2025 plan of 2025-01-02."""
    back = (
        '2025-01-01 * "财政局" "退回风险补偿金"\n'
        "  Assets:WLHT:Pool:Risk  -0.01 CNY\n  Income:WLHT:Risk:Injection  0.01 CNY\n"
    )
    analysis = run(
        "WLHT",
        inject("WLHT", "2024-01-02", "2000000.00"),
        plan("2024-01-05", "20000000.00", 2024),
        back,
        inject("WLHT", "2025-01-02", "1000000.00"),
        plan("2025-01-02", "30000000.00", 2025),
    )
    assert floor_findings(analysis) == [
        ("risk.floor", "2025-01-02", "2025-01-02 日终风险补偿金余额 2,999,999.99 元，低于 2025 年预计业务量 30,000,000.00 元的 10%（2025-01-02 登记的年度计划）；应不低于 3,000,000.00 元，风险补偿金余额 2,999,999.99 元，差额 0.01 元"),
    ]


def leverage_findings(analysis: Analysis) -> list[tuple[str, str, str]]:
    return [f for f in risk_findings(analysis) if f[0] == "risk.leverage"]


def test_wlht_leverage_ten_times_exactly_and_a_fen_beyond() -> None:
    base = (inject("WLHT", "2024-01-02", "2000000.00"), plan("2024-01-05", "20000000.00", 2024))
    assert leverage_findings(run("WLHT", *base, loan("WLHT", "W-1", "2024-03-01", "20000000.00"))) == []
    analysis = run(
        "WLHT",
        *base,
        loan("WLHT", "W-1", "2024-03-01", "20000000.01"),
        loan("WLHT", "W-2", "2024-03-04", "1.00"),
        loan_event("2024-04-01", "repayment", "W-2", "1.00"),
        loan_event("2024-04-01", "repayment", "W-1", "0.01"),
        loan_event("2024-05-06", "increase", "W-1", "0.02"),
    )
    assert leverage_findings(analysis) == [
        ("risk.leverage", "2024-03-01", "2024-03-01 日终贷款余额 20,000,000.01 元，超过风险补偿金余额 2,000,000.00 元的 10 倍；贷款余额上限 20,000,000.00 元，贷款余额 20,000,000.01 元，超出 0.01 元"),
        ("risk.leverage", "2024-05-06", "2024-05-06 日终贷款余额 20,000,000.02 元，超过风险补偿金余额 2,000,000.00 元的 10 倍；贷款余额上限 20,000,000.00 元，贷款余额 20,000,000.02 元，超出 0.02 元"),
    ]


# --------------------------------------------------------------------------------------
# risk.funders, GSBY: 省级 : 市级 = 1 : 0.5, judged at each 31 December.


def funders_findings(analysis: Analysis) -> list[tuple[str, str, str]]:
    return [f for f in risk_findings(analysis) if f[0] == "risk.funders"]


def test_funders_short_by_a_fen_at_the_year_end() -> None:
    """15,000.00 splits 10,000.00 : 5,000.00; the city's 4,999.99 (total 14,999.99 ->
    9,999.99 : 5,000.00 by largest remainder) is a fen short, reported at its own injection."""
    analysis = run(
        "GSBY",
        inject("GSBY", "2024-01-02", "10000.00", "省级"),
        inject("GSBY", "2024-03-01", "4999.99", "市级"),
        note("GSBY", "2025-01-02"),
    )
    assert funders_findings(analysis) == [
        ("risk.funders", "2024-03-01", "截至 2024-12-31 风险补偿金累计注入 14,999.99 元，按 省级、市级 = 1 : 0.5 的比例，市级注入不足；应注入 5,000.00 元，实际注入 4,999.99 元，差额 0.01 元"),
    ]


def test_funders_judged_at_each_year_end_and_not_before() -> None:
    """The city pays its 2024 part on 2025-01-02: short at 2024-12-31 (reported at the
    year's last injection, the province's), in balance at 2025-12-31; the books end before
    2026-12-31, so that year is not judged."""
    analysis = run(
        "GSBY",
        inject("GSBY", "2024-01-02", "10000.00", "省级"),
        inject("GSBY", "2024-06-03", "0.02", "省级"),
        inject("GSBY", "2025-01-02", "5000.01", "市级"),
        inject("GSBY", "2026-01-05", "2.00", "省级"),
        note("GSBY", "2026-12-30"),
    )
    assert funders_findings(analysis) == [
        ("risk.funders", "2024-06-03", "截至 2024-12-31 风险补偿金累计注入 10,000.02 元，按 省级、市级 = 1 : 0.5 的比例，市级注入不足；应注入 3,333.34 元，实际注入 0.00 元，差额 3,333.34 元"),
    ]


def test_funders_a_year_without_injections_is_anchored_at_the_last_one() -> None:
    analysis = run(
        "GSBY",
        inject("GSBY", "2024-01-02", "10000.00", "省级"),
        inject("GSBY", "2024-01-03", "5000.00", "市级"),
        inject("GSBY", "2025-01-03", "3.00", "省级"),
        note("GSBY", "2026-01-02"),
    )
    # 15,003.00 splits 10,002.00 : 5,001.00; the city is short by 1.00 at 2025-12-31.
    assert funders_findings(analysis) == [
        ("risk.funders", "2025-01-03", "截至 2025-12-31 风险补偿金累计注入 15,003.00 元，按 省级、市级 = 1 : 0.5 的比例，市级注入不足；应注入 5,001.00 元，实际注入 5,000.00 元，差额 1.00 元"),
    ]


@pytest.mark.parametrize(
    ("meta", "said"),
    [(None, "未写明出资方"), ("县级", "出资方 '县级' 不在本项目的出资方之列")],
)
def test_an_injection_without_a_known_funder_is_reported(meta: str | None, said: str) -> None:
    analysis = run("GSBY", inject("GSBY", "2024-01-02", "10000.00", meta), note("GSBY", "2024-02-01"))
    assert funders_findings(analysis) == [
        ("risk.funders", "2024-01-02", f"风险补偿金注入 10,000.00 元{said}；应以元数据 funder 写明出资方（省级、市级之一）"),
    ]
    (finding,) = [f for f in analysis.findings if f.rule == "risk.funders"]
    assert (finding.program, finding.lineno, finding.figures) == ("GSBY", 3, (("注入金额", Decimal("10000.00")),))


def test_a_funder_name_with_spaces_around_it_is_accepted() -> None:
    analysis = run(
        "GSBY",
        inject("GSBY", "2024-01-02", "10000.00", " 省级 "),
        inject("GSBY", "2024-01-03", "5000.00", "市级"),
        note("GSBY", "2025-01-02"),
    )
    assert funders_findings(analysis) == []


# --------------------------------------------------------------------------------------
# risk.leverage_floor, WZS: at each 31 December from the fund's second year, the loans
# outstanding at least 10 times the fund.


def lf_findings(analysis: Analysis) -> list[tuple[str, str, str]]:
    return [f for f in risk_findings(analysis) if f[0] == "risk.leverage_floor"]


def test_leverage_floor_from_the_second_year_on_outstanding_at_the_year_end() -> None:
    """Fund 200,000.00 from 2023: 2023 is not judged; at 2024-12-31 1,999,999.99 outstanding
    (2,000,000.00 lent, 0.01 repaid; the 2025 loan not yet) is a fen short of 2,000,000.00."""
    analysis = run(
        "WZS",
        inject("WZS", "2023-01-03", "200000.00"),
        loan("WZS", "Z-1", "2024-03-01", "2000000.00"),
        loan_event("2024-06-03", "repayment", "Z-1", "0.01"),
        loan("WZS", "Z-2", "2025-01-02", "5.00"),
        inject("WZS", "2025-01-03", "0.01"),
        note("WZS", "2025-12-31"),
    )
    assert lf_findings(analysis) == [
        ("risk.leverage_floor", "2023-01-03", "2024-12-31 日终贷款余额 1,999,999.99 元，未达到政府风险补偿金余额 200,000.00 元的 10 倍；应不低于 2,000,000.00 元，贷款余额 1,999,999.99 元，差额 0.01 元"),
    ]
    checks = [(str(c.day), str(c.risk_fund), str(c.base), str(c.limit), c.ok) for c in analysis.records.adequacy if c.rule == "risk.leverage_floor"]
    assert checks == [
        ("2024-12-31", "200000.00", "1999999.99", "2000000.00", False),
        ("2025-12-31", "200000.01", "2000004.99", "2000000.10", True),
    ]


def test_leverage_floor_met_exactly_is_no_finding() -> None:
    analysis = run("WZS", inject("WZS", "2023-01-03", "200000.00"), loan("WZS", "Z-1", "2024-12-31", "2000000.00"), note("WZS", "2025-01-02"))
    assert lf_findings(analysis) == []
    assert [c.ok for c in analysis.records.adequacy if c.rule == "risk.leverage_floor"] == [True]


def test_leverage_floor_without_a_fund_is_not_judged() -> None:
    analysis = run("WZS", loan("WZS", "Z-1", "2024-03-01", "1.00"), note("WZS", "2026-01-02"))
    assert lf_findings(analysis) == []
    assert [c for c in analysis.records.adequacy if c.rule == "risk.leverage_floor"] == []


# --------------------------------------------------------------------------------------
# risk.topup, LNYQ: after a compensation by the risk fund, 10,000,000.00 again by 31 December.


def compensation(day: str, amount: str) -> str:
    return (
        f'{day} * "担保公司" "风险补偿金代偿" ^N-1\n'
        f"  Expenses:LNYQ:Risk:Compensation  {amount} CNY\n  Assets:LNYQ:Pool:Risk  -{amount} CNY\n"
    )


def topup_findings(analysis: Analysis) -> list[tuple[str, str, str]]:
    return [f for f in risk_findings(analysis) if f[0] == "risk.topup"]


@pytest.mark.parametrize(("topup", "day", "short"), [("1000000.00", "2024-12-31", None), ("999999.99", "2024-12-31", "0.01"), ("1000000.00", "2025-01-02", "1,000,000.00")])
def test_topup_by_the_year_end(topup: str, day: str, short: str | None) -> None:
    analysis = run(
        "LNYQ",
        inject("LNYQ", "2024-01-02", "10000000.00"),
        compensation("2024-03-01", "500000.00"),
        compensation("2024-06-28", "500000.00"),
        inject("LNYQ", day, topup),
        note("LNYQ", "2025-01-05"),
    )
    if short is None:
        assert topup_findings(analysis) == []
        return
    balance = {"0.01": "9,999,999.99", "1,000,000.00": "9,000,000.00"}[short]
    assert topup_findings(analysis) == [
        ("risk.topup", "2024-06-28", f"风险补偿金于 2024-06-28 代偿后，应在当年年末（2024-12-31）前补足；2024-12-31 日终余额未达到应补足的规模；应补足至 10,000,000.00 元，年末余额 {balance} 元，差额 {short} 元"),
    ]


def test_topup_not_judged_before_the_books_reach_the_year_end() -> None:
    analysis = run(
        "LNYQ", inject("LNYQ", "2024-01-02", "10000000.00"), compensation("2024-06-28", "500000.00"), note("LNYQ", "2024-12-30")
    )
    assert topup_findings(analysis) == []
    analysis = run(
        "LNYQ", inject("LNYQ", "2024-01-02", "10000000.00"), compensation("2024-06-28", "500000.00"), note("LNYQ", "2024-12-31")
    )
    assert [(f.program, str(f.date)) for f in analysis.findings if f.rule == "risk.topup"] == [("LNYQ", "2024-06-28")]
    checks = [
        (c.program, str(c.day), str(c.risk_fund), str(c.base), str(c.limit), c.ok)
        for c in analysis.records.adequacy
        if c.rule == "risk.topup"
    ]
    assert checks == [("LNYQ", "2024-12-31", "9500000.00", "10000000.00", "10000000.00", False)]


def test_a_refund_into_the_risk_fund_is_not_a_compensation() -> None:
    """0.50 coming back on a compensation account raises the fund: no top-up is owed."""
    back = (
        '2024-03-01 * "担保公司" "代偿退回" ^N-1\n'
        "  Expenses:LNYQ:Risk:Compensation  -0.50 CNY\n  Assets:LNYQ:Pool:Risk  0.50 CNY\n"
    )
    analysis = run("LNYQ", inject("LNYQ", "2024-01-02", "9000000.00"), back, note("LNYQ", "2025-01-02"))
    assert topup_findings(analysis) == []


def test_year_ends_helper() -> None:
    from zhubaodai.checks.adequacy import _year_ends

    assert _year_ends(datetime.date(2024, 5, 1), None) == []
    assert _year_ends(datetime.date(2024, 5, 1), datetime.date(2024, 12, 30)) == []
    assert _year_ends(datetime.date(2024, 5, 1), datetime.date(2024, 12, 31)) == [datetime.date(2024, 12, 31)]
    assert _year_ends(datetime.date(2023, 12, 31), datetime.date(2025, 6, 1)) == [datetime.date(2023, 12, 31), datetime.date(2024, 12, 31)]


def test_a_day_before_the_floor_rate_s_first_version_is_reported_once() -> None:
    """CQGX's floor rate is in force from 2021-02-24: the fund's days before it cannot be
    judged, which is said once (at the first), and the floor is judged from then on."""
    analysis = run(
        "CQGX",
        inject("CQGX", "2021-01-05", "100.00"),
        inject("CQGX", "2021-01-06", "100.00"),
        loan("CQGX", "C-1", "2021-03-01", "2000.01"),
    )
    # 2,000.01 × 10% = 200.001 -> 200.00: met exactly on 2021-03-01.
    assert floor_findings(analysis) == [
        ("risk.floor", "2021-01-05", "参数「programs.CQGX.rules.risk.floor.params.rate」在 2021-01-05 尚无生效版本（最早版本自 2021-02-24 起施行），无法按规则核对"),
    ]
    assert [(str(c.day), c.ok) for c in analysis.records.adequacy if c.rule == "risk.floor"] == [("2021-03-01", True)]


def test_a_cap_and_funders_not_yet_in_force_are_reported_at_the_injection() -> None:
    """CQGX's cap is in force from 2021-02-24, GSBY's funders' shares from 2023-11-03."""
    analysis = run("CQGX", inject("CQGX", "2021-01-05", "100.00"))
    assert risk_findings(analysis) == [
        ("risk.cap", "2021-01-05", "参数「programs.CQGX.rules.risk.cap.params.max」在 2021-01-05 尚无生效版本（最早版本自 2021-02-24 起施行），无法按规则核对"),
        # The books end before the floor's base is in force: its earliest version is used.
        ("risk.floor", "2021-01-05", "参数「programs.CQGX.rules.risk.floor.params.rate」在 2021-01-05 尚无生效版本（最早版本自 2021-02-24 起施行），无法按规则核对"),
    ]
    analysis = run("GSBY", inject("GSBY", "2023-11-02", "100.00", "省级"))
    assert funders_findings(analysis) == [
        ("risk.funders", "2023-11-02", "参数「programs.GSBY.rules.risk.funders.params.shares」在 2023-11-02 尚无生效版本（最早版本自 2023-11-03 起施行），无法按规则核对"),
    ]


def test_funders_a_year_with_no_injection_at_all_is_anchored_at_the_last_before_it() -> None:
    """Short at 2024-12-31 (anchored at the city's own 2024 injection) and again at
    2025-12-31, a year without any injection: anchored at the last one, of 2024."""
    analysis = run(
        "GSBY",
        inject("GSBY", "2024-01-02", "10000.00", "省级"),
        inject("GSBY", "2024-03-01", "4999.99", "市级"),
        inject("GSBY", "2024-04-01", "0.01", "省级"),
        note("GSBY", "2026-01-02"),
    )
    # 15,000.00 -> 10,000.00 : 5,000.00; the city's 4,999.99 is a fen short both years.
    message = "风险补偿金累计注入 15,000.00 元，按 省级、市级 = 1 : 0.5 的比例，市级注入不足；应注入 5,000.00 元，实际注入 4,999.99 元，差额 0.01 元"
    assert funders_findings(analysis) == [
        ("risk.funders", "2024-03-01", "截至 2024-12-31 " + message),
        ("risk.funders", "2024-04-01", "截至 2025-12-31 " + message),
    ]


def test_funders_an_injection_on_december_31_counts_for_that_year() -> None:
    analysis = run(
        "GSBY",
        inject("GSBY", "2024-01-02", "10000.00", "省级"),
        inject("GSBY", "2024-12-31", "5000.00", "市级"),
        note("GSBY", "2025-01-02"),
    )
    assert funders_findings(analysis) == []


def test_funders_a_single_injection_of_one_yuan() -> None:
    """1.00 splits 0.67 : 0.33 (largest remainder: 0.6666… keeps the odd fen)."""
    analysis = run("GSBY", inject("GSBY", "2024-01-02", "1.00", "省级"), note("GSBY", "2025-01-02"))
    assert funders_findings(analysis) == [
        ("risk.funders", "2024-01-02", "截至 2024-12-31 风险补偿金累计注入 1.00 元，按 省级、市级 = 1 : 0.5 的比例，市级注入不足；应注入 0.33 元，实际注入 0.00 元，差额 0.33 元"),
    ]
    assert [(f.program, f.lineno) for f in analysis.findings if f.rule == "risk.funders"] == [("GSBY", 3)]


def test_funders_a_year_netting_to_nothing_is_not_split_and_the_next_year_is() -> None:
    """2024: the province's 100.00 in and the city's 100.00 out (its own money back):
    nothing to split. 2025: the province's 10,000.00 makes 10,000.00 in all, of which the
    city owes 3,333.33 and has -100.00."""
    back = (
        '2024-02-01 * "市财政局" "退回风险补偿金"\n  funder: "市级"\n'
        "  Assets:GSBY:Pool:Risk  -100.00 CNY\n  Income:GSBY:Risk:Injection  100.00 CNY\n"
    )
    analysis = run(
        "GSBY",
        inject("GSBY", "2024-01-02", "100.00", "省级"),
        back,
        inject("GSBY", "2025-01-03", "10000.00", "省级"),
        note("GSBY", "2026-01-02"),
    )
    assert funders_findings(analysis) == [
        ("risk.funders", "2025-01-03", "截至 2025-12-31 风险补偿金累计注入 10,000.00 元，按 省级、市级 = 1 : 0.5 的比例，市级注入不足；应注入 3,333.33 元，实际注入 -100.00 元，差额 3,433.33 元"),
    ]


def test_leverage_floor_points_at_the_fund_s_last_transaction_up_to_the_year_end() -> None:
    """The fund raised by 0.01 on 2024-12-31 itself: the finding points there."""
    analysis = run(
        "WZS",
        inject("WZS", "2023-01-03", "200000.00"),
        loan("WZS", "Z-1", "2024-03-01", "2000000.00"),
        inject("WZS", "2024-12-31", "0.01"),
        note("WZS", "2025-01-02"),
    )
    assert lf_findings(analysis) == [
        ("risk.leverage_floor", "2024-12-31", "2024-12-31 日终贷款余额 2,000,000.00 元，未达到政府风险补偿金余额 200,000.01 元的 10 倍；应不低于 2,000,000.10 元，贷款余额 2,000,000.00 元，差额 0.10 元"),
    ]
    assert [(f.program, f.lineno) for f in analysis.findings if f.rule == "risk.leverage_floor"] == [("WZS", 20)]


def test_leverage_floor_with_a_fund_and_no_loans_at_all() -> None:
    analysis = run("WZS", inject("WZS", "2023-01-03", "200000.00"), note("WZS", "2025-01-02"))
    assert lf_findings(analysis) == [
        ("risk.leverage_floor", "2023-01-03", "2024-12-31 日终贷款余额 0.00 元，未达到政府风险补偿金余额 200,000.00 元的 10 倍；应不低于 2,000,000.00 元，贷款余额 0.00 元，差额 2,000,000.00 元"),
    ]
    checks = [(str(c.day), str(c.risk_fund), str(c.base), str(c.limit), c.ok) for c in analysis.records.adequacy if c.rule == "risk.leverage_floor"]
    assert checks == [("2024-12-31", "200000.00", "0.00", "2000000.00", False)]


def test_topup_a_year_before_the_target_is_in_force_is_said_at_its_compensation(tmp_path: Path) -> None:
    """A rules.yaml whose LNYQ program and target is in force only from 2025-01-01: the 2024 year end
    cannot be judged (said at that year's last compensation), and 2025 is judged all the
    same: 10,000,000.00 - 500,000.00 - 500,000.00 + 0.01 = 9,000,000.01 is 999,999.99 short."""
    text = RULES_YAML.read_text(encoding="utf-8")
    assert text.count("2020-01-01: 10000000.00") == 1 and text.count("effective: 2020-01-01") == 1
    text = text.replace("2020-01-01: 10000000.00", "2025-01-01: 10000000.00")
    path = tmp_path / "rules.yaml"
    (tmp_path / "calendar.yaml").write_bytes((RULES_YAML.parent / "calendar.yaml").read_bytes())
    path.write_text(text.replace("effective: 2020-01-01", "effective: 2025-01-01"), encoding="utf-8")
    rulebook = load_rules(path)
    text = (
        f'option "operating_currency" "CNY"\ninclude "{COMMON / "lnyq.beancount"}"\n'
        + inject("LNYQ", "2024-01-02", "10000000.00")
        + compensation("2024-06-28", "500000.00")
        + compensation("2025-03-03", "500000.00")
        + inject("LNYQ", "2025-12-31", "0.01")
        + note("LNYQ", "2026-01-02")
    )
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    analysis = analyse(entries, rulebook)
    found = [(f.program, str(f.date), f.lineno, f.message) for f in analysis.findings if f.rule == "risk.topup"]
    assert found == [
        ("LNYQ", "2024-06-28", 6, "参数「programs.LNYQ.rules.risk.topup.params.target」在 2024-12-31 尚无生效版本（最早版本自 2025-01-01 起施行），无法按规则核对"),
        ("LNYQ", "2025-03-03", 9, "风险补偿金于 2025-03-03 代偿后，应在当年年末（2025-12-31）前补足；2025-12-31 日终余额未达到应补足的规模；应补足至 10,000,000.00 元，年末余额 9,000,000.01 元，差额 999,999.99 元"),
    ]


# --------------------------------------------------------------------------------------
# Two programs in one ledger: another program's loans, registered first, are passed over.


def run_two(first: str, second: str, *parts: str) -> Analysis:
    """A ledger of two programs: both programs' common accounts (the shared outside-cash
    account opened once), then the parts."""
    seen: set[str] = set()
    lines: list[str] = []
    for program in (first, second):
        for line in (COMMON / f"{program.lower()}.beancount").read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith(";") and line in seen:
                continue
            seen.add(line)
            lines.append(line)
    text = 'option "operating_currency" "CNY"\n' + "\n".join(lines) + "\n" + "\n".join(textwrap.dedent(p) for p in parts)
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    return analyse(entries, RULEBOOK)


def test_gsby_floor_counts_its_own_loans_after_another_program_s() -> None:
    """A CQGX loan registered first; GSBY's 15,000.00 against its own 1,000,000.67 lent
    needs 15,000.01005 -> 15,000.01, a fen short."""
    analysis = run_two(
        "CQGX",
        "GSBY",
        loan("CQGX", "C-1", "2024-02-01", "100.00"),
        gs_injections(),
        loan("GSBY", "G-1", "2024-03-01", "1000000.67"),
    )
    found = [(f.program, str(f.date), f.message) for f in analysis.findings if f.rule == "risk.floor" and f.program == "GSBY"]
    assert found == [
        ("GSBY", "2024-03-01", "2024-03-01 日终风险补偿金余额 15,000.00 元，低于累计放款 1,000,000.67 元的 1.5%；应不低于 15,000.01 元，风险补偿金余额 15,000.00 元，差额 0.01 元"),
    ]


def test_leverage_floor_counts_its_own_loans_after_another_program_s() -> None:
    """A CQGX loan registered first; WZS's 2,000,000.00 outstanding at 2024-12-31 is exactly
    10 times its fund of 200,000.00 (no finding), and 0.01 repaid makes it a fen short."""
    parts = (
        loan("CQGX", "C-1", "2023-01-02", "100.00"),
        inject("WZS", "2023-01-03", "200000.00"),
        loan("WZS", "Z-1", "2024-03-01", "2000000.00"),
        note("WZS", "2025-01-02"),
    )
    analysis = run_two("CQGX", "WZS", *parts)
    assert [f for f in analysis.findings if f.rule == "risk.leverage_floor"] == []
    checks = [(c.program, str(c.day), str(c.base), c.ok) for c in analysis.records.adequacy if c.rule == "risk.leverage_floor"]
    assert checks == [("WZS", "2024-12-31", "2000000.00", True)]
    analysis = run_two("CQGX", "WZS", *parts, loan_event("2024-06-03", "repayment", "Z-1", "0.01"))
    assert [(f.program, str(f.date), f.message) for f in analysis.findings if f.rule == "risk.leverage_floor"] == [
        ("WZS", "2023-01-03", "2024-12-31 日终贷款余额 1,999,999.99 元，未达到政府风险补偿金余额 200,000.00 元的 10 倍；应不低于 2,000,000.00 元，贷款余额 1,999,999.99 元，差额 0.01 元"),
    ]


# --------------------------------------------------------------------------------------
# The daily checks when the very first day judged is already short.


def test_the_floor_short_on_the_first_day_judged() -> None:
    """A CQGX loan of 1,000.00 a day before the fund's first 100.00: 10% is 100.00, the
    fund's 0.00 is short on 2024-03-01 (before its first transaction), met the next day."""
    analysis = run("CQGX", loan("CQGX", "C-1", "2024-03-01", "1000.00"), inject("CQGX", "2024-03-02", "100.00"))
    assert [(f.program, str(f.date), f.message) for f in analysis.findings if f.rule == "risk.floor"] == [
        ("CQGX", "2024-03-01", "2024-03-01 日终风险补偿金余额 0.00 元，低于贷款余额 1,000.00 元的 10%；应不低于 100.00 元，风险补偿金余额 0.00 元，差额 100.00 元"),
    ]
    checks = [(c.rule, c.program, str(c.day), c.risk_fund, c.base, c.limit, c.ok) for c in analysis.records.adequacy if c.rule == "risk.floor"]
    assert checks == [
        ("risk.floor", "CQGX", "2024-03-01", Decimal(0), Decimal("1000.00"), Decimal("100.00"), False),
        ("risk.floor", "CQGX", "2024-03-02", Decimal("100.00"), Decimal("1000.00"), Decimal("100.00"), True),
    ]


def test_the_leverage_beyond_on_the_first_day_judged() -> None:
    """A WLHT loan of 1,000.00 a day before the fund's first 100.00: 10 times 0.00 is 0.00,
    1,000.00 beyond on 2024-03-01; 10 times 100.00 is 1,000.00, met exactly the next day."""
    analysis = run("WLHT", loan("WLHT", "W-1", "2024-03-01", "1000.00"), inject("WLHT", "2024-03-02", "100.00"))
    assert [(f.program, str(f.date), f.message) for f in analysis.findings if f.rule == "risk.leverage"] == [
        ("WLHT", "2024-03-01", "2024-03-01 日终贷款余额 1,000.00 元，超过风险补偿金余额 0.00 元的 10 倍；贷款余额上限 0.00 元，贷款余额 1,000.00 元，超出 1,000.00 元"),
    ]
    checks = [(c.rule, c.program, str(c.day), c.risk_fund, c.base, c.limit, c.ok) for c in analysis.records.adequacy if c.rule == "risk.leverage"]
    assert checks == [
        ("risk.leverage", "WLHT", "2024-03-01", Decimal(0), Decimal("1000.00"), Decimal(0), False),
        ("risk.leverage", "WLHT", "2024-03-02", Decimal("100.00"), Decimal("1000.00"), Decimal("1000.00"), True),
    ]


def test_gsby_floor_points_at_the_day_s_loan_lent_not_at_a_later_repayment() -> None:
    """On 2024-05-06 G-1 is increased by 0.34 (15,000.01 needed against 1,000,000.34 lent, a
    fen short) and G-2, iterated after G-1, repays 1.00: the finding is about the increase."""
    analysis = run(
        "GSBY",
        gs_injections(),
        loan("GSBY", "G-1", "2024-03-01", "600000.00"),
        loan("GSBY", "G-2", "2024-03-01", "400000.00"),
        loan_event("2024-05-06", "increase", "G-1", "0.34"),
        loan_event("2024-05-06", "repayment", "G-2", "1.00"),
    )
    found = [f for f in analysis.findings if f.rule == "risk.floor"]
    assert [(str(f.date), f.entry.type, f.entry.values[0].value, f.entry.values[1].value) for f in found] == [
        ("2024-05-06", "loan", "increase", "G-1"),
    ]


def test_wlht_a_plan_for_next_year_registered_in_december_applies_from_1_january() -> None:
    """The plan of 2024-12-20 says year 2025: it applies from 2025-01-01 (the later of its
    day and its year's first day), not against 2024's balance. The fund's 1,000.00 is
    judged on 2025-01-01 against 20,000.00 × 10% = 2,000.00, under 2025's name; the finding
    is about the plan (line 12, so it carries the plan's date); 2025 has no transaction of the fund, so that is its only day judged."""
    analysis = run(
        "WLHT",
        inject("WLHT", "2024-01-02", "1000.00"),
        plan("2024-01-02", "10000.00", 2024),
        plan("2024-12-20", "20000.00", 2025),
        note("WLHT", "2025-01-02"),
    )
    found = [f for f in analysis.findings if f.rule == "risk.floor"]
    assert [(f.program, str(f.date), f.lineno, f.message) for f in found] == [
        ("WLHT", "2024-12-20", 12, "2025-01-01 日终风险补偿金余额 1,000.00 元，低于 2025 年预计业务量 20,000.00 元的 10%（2024-12-20 登记的年度计划）；应不低于 2,000.00 元，风险补偿金余额 1,000.00 元，差额 1,000.00 元"),
    ]
    checks = [(c.program, str(c.day), c.risk_fund, c.base, c.limit, c.ok) for c in analysis.records.adequacy if c.rule == "risk.floor"]
    assert checks == [
        ("WLHT", "2024-01-02", Decimal("1000.00"), Decimal("10000.00"), Decimal("1000.00"), True),
        ("WLHT", "2025-01-01", Decimal("1000.00"), Decimal("20000.00"), Decimal("2000.00"), False),
    ]


def test_wlht_a_december_plan_for_next_year_is_not_judged_before_the_books_reach_it() -> None:
    """The same plan in books that end on 2024-12-31: 2025-01-01 is after the books' last
    day, nothing is judged against the 2025 plan yet (the 2024 balance is not its business)."""
    analysis = run(
        "WLHT",
        inject("WLHT", "2024-01-02", "1000.00"),
        plan("2024-01-02", "10000.00", 2024),
        plan("2024-12-20", "20000.00", 2025),
        note("WLHT", "2024-12-31"),
    )
    assert [f for f in analysis.findings if f.rule == "risk.floor"] == []
    checks = [(str(c.day), c.base, c.ok) for c in analysis.records.adequacy if c.rule == "risk.floor"]
    assert checks == [("2024-01-02", Decimal("10000.00"), True)]


def test_wlht_a_december_plan_met_by_an_injection_on_1_january() -> None:
    """The 2025 plan of 2024-12-20 (20,000.00: 2,000.00 needed) against 1,000.00 in 2024 and
    2,000.00 from the injection of 2025-01-01: met on the day it applies, no finding. A
    withdrawal on 2024-12-27 is judged against the 2024 plan only (1,000.00 needed, 1,000.00
    left); a second one on 2025-03-03 leaves 1,999.99, a fen short of the 2025 plan."""
    out = (
        '{day} * "财政局" "退回风险补偿金"\n'
        "  Assets:WLHT:Pool:Risk  -{amount} CNY\n  Income:WLHT:Risk:Injection  {amount} CNY\n"
    )
    analysis = run(
        "WLHT",
        inject("WLHT", "2024-01-02", "1500.00"),
        plan("2024-01-02", "10000.00", 2024),
        plan("2024-12-20", "20000.00", 2025),
        out.format(day="2024-12-27", amount="500.00"),
        inject("WLHT", "2025-01-01", "1000.00"),
        out.format(day="2025-03-03", amount="0.01"),
    )
    assert [(str(f.date), f.message) for f in analysis.findings if f.rule == "risk.floor"] == [
        ("2025-03-03", "2025-03-03 日终风险补偿金余额 1,999.99 元，低于 2025 年预计业务量 20,000.00 元的 10%（2024-12-20 登记的年度计划）；应不低于 2,000.00 元，风险补偿金余额 1,999.99 元，差额 0.01 元"),
    ]
    checks = [(str(c.day), c.risk_fund, c.base, c.ok) for c in analysis.records.adequacy if c.rule == "risk.floor"]
    assert checks == [
        ("2024-01-02", Decimal("1500.00"), Decimal("10000.00"), True),
        ("2024-12-27", Decimal("1000.00"), Decimal("10000.00"), True),
        ("2025-01-01", Decimal("2000.00"), Decimal("20000.00"), True),
        ("2025-03-03", Decimal("1999.99"), Decimal("20000.00"), False),
    ]


def test_wlht_a_plan_registered_in_its_own_year_applies_from_its_day() -> None:
    """A 2025 plan registered on 2025-02-03 applies from that day, not from 1 January: the
    fund's 1,000.00 is not judged on 2025-01-06 (before the plan) and is short on the plan's day."""
    analysis = run(
        "WLHT",
        inject("WLHT", "2024-01-02", "1000.00"),
        plan("2024-01-02", "10000.00", 2024),
        inject("WLHT", "2025-01-06", "0.01"),
        plan("2025-02-03", "20000.00", 2025),
    )
    assert [(str(f.date), f.message) for f in analysis.findings if f.rule == "risk.floor"] == [
        ("2025-02-03", "2025-02-03 日终风险补偿金余额 1,000.01 元，低于 2025 年预计业务量 20,000.00 元的 10%（2025-02-03 登记的年度计划）；应不低于 2,000.00 元，风险补偿金余额 1,000.01 元，差额 999.99 元"),
    ]


def test_an_empty_ledger_judges_nothing() -> None:
    """No entry at all: the books have no last day, and nothing is judged or reported."""
    analysis = analyse([], RULEBOOK)
    assert [f for f in analysis.findings if f.rule.startswith("risk.")] == []
    assert analysis.records.adequacy == []


def test_wlht_leverage_before_its_multiple_is_in_force_is_said_at_the_day_s_loan(tmp_path: Path) -> None:
    """A rules.yaml whose WLHT program and leverage multiple are in force only from
    2024-03-02: the loan day before it cannot be judged (said once, at the loan)."""
    text = RULES_YAML.read_text(encoding="utf-8")
    assert text.count("effective: 2015-01-01") == 1 and text.count("2015-01-01: 10\n") == 1
    text = text.replace("effective: 2015-01-01", "effective: 2024-03-02").replace("2015-01-01: 10\n", "2024-03-02: 10\n")
    (tmp_path / "calendar.yaml").write_bytes((RULES_YAML.parent / "calendar.yaml").read_bytes())
    (tmp_path / "rules.yaml").write_text(text, encoding="utf-8")
    rulebook = load_rules(tmp_path / "rules.yaml")
    text = (
        f'option "operating_currency" "CNY"\ninclude "{COMMON / "wlht.beancount"}"\n'
        + loan("WLHT", "W-1", "2024-03-01", "1000.00")
        + inject("WLHT", "2024-03-02", "100.00")
    )
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    analysis = analyse(entries, rulebook)
    found = [(f.program, str(f.date), f.message) for f in analysis.findings if f.rule == "risk.leverage"]
    assert found == [
        ("WLHT", "2024-03-01", "参数「programs.WLHT.rules.risk.leverage.params.multiple」在 2024-03-01 尚无生效版本（最早版本自 2024-03-02 起施行），无法按规则核对"),
    ]


# --------------------------------------------------------------------------------------
# Issue #14, the last survivors: a plan on a fund day, and rules.yaml variants (a floor
# rate later than the accounts, WLHT with the leverage alone, a second version of base).


def rulebook_from(tmp_path: Path, *edits: tuple[str, str]):
    """The project's rules.yaml with each (old, new) text replaced once (asserted unique)."""
    text = RULES_YAML.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    (tmp_path / "calendar.yaml").write_bytes((RULES_YAML.parent / "calendar.yaml").read_bytes())
    (tmp_path / "rules.yaml").write_text(text, encoding="utf-8")
    return load_rules(tmp_path / "rules.yaml")


def run_with(rulebook, program: str, *parts: str) -> Analysis:
    text = f'option "operating_currency" "CNY"\ninclude "{COMMON / program.lower()}.beancount"\n' + "".join(parts)
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    return analyse(entries, rulebook)


def test_wlht_a_plan_registered_on_a_fund_day_is_the_finding_s_entry() -> None:
    """The fund's 1,000.00 comes in on 2024-01-05, the day the plan of 20,000.00 is
    registered (10% is 2,000.00): the finding is about the plan (line 7), not the injection (line 3)."""
    analysis = run("WLHT", inject("WLHT", "2024-01-05", "1000.00"), plan("2024-01-05", "20000.00", 2024))
    found = [f for f in analysis.findings if f.rule == "risk.floor"]
    assert [(f.program, str(f.date), f.lineno, f.entry.type, f.entry.values[0].value, f.message) for f in found] == [
        ("WLHT", "2024-01-05", 7, "program", "plan", "2024-01-05 日终风险补偿金余额 1,000.00 元，低于 2024 年预计业务量 20,000.00 元的 10%（2024-01-05 登记的年度计划）；应不低于 2,000.00 元，风险补偿金余额 1,000.00 元，差额 1,000.00 元"),
    ]


def test_wlht_a_floor_rate_in_force_after_the_plan_is_said_once_then_judged(tmp_path: Path) -> None:
    """WLHT (and its floor rate 10%) in force only from 2024-03-02: the plan's own day
    2024-01-05 and the fund's day 2024-02-01 cannot be judged (said once, at the plan);
    2024-03-04 is: 1,999.99 against 20,000.00 × 10% = 2,000.00 is a fen short, at the
    return of 0.01 to the treasury (line 13)."""
    rulebook = rulebook_from(
        tmp_path,
        ("effective: 2015-01-01", "effective: 2024-03-02"),
        ("2015-01-01: 0.10\n          base:\n            article: 第五条\n            values:\n              2015-01-01: expected_volume",
         "2024-03-02: 0.10\n          base:\n            article: 第五条\n            values:\n              2015-01-01: expected_volume"),
    )
    back = (
        '2024-03-04 * "财政局" "退回风险补偿金"\n'
        "  Assets:WLHT:Pool:Risk  -0.01 CNY\n  Income:WLHT:Risk:Injection  0.01 CNY\n"
    )
    analysis = run_with(
        rulebook,
        "WLHT",
        inject("WLHT", "2024-01-02", "1000.00"),
        plan("2024-01-05", "20000.00", 2024),
        inject("WLHT", "2024-02-01", "1000.00"),
        back,
    )
    found = [f for f in analysis.findings if f.rule == "risk.floor"]
    assert [(f.program, str(f.date), f.lineno, f.message) for f in found] == [
        ("WLHT", "2024-01-05", 6, "参数「programs.WLHT.rules.risk.floor.params.rate」在 2024-01-05 尚无生效版本（最早版本自 2024-03-02 起施行），无法按规则核对"),
        ("WLHT", "2024-03-04", 13, "2024-03-04 日终风险补偿金余额 1,999.99 元，低于 2024 年预计业务量 20,000.00 元的 10%（2024-01-05 登记的年度计划）；应不低于 2,000.00 元，风险补偿金余额 1,999.99 元，差额 0.01 元"),
    ]
    checks = [(str(c.day), c.risk_fund, c.limit, c.ok) for c in analysis.records.adequacy if c.rule == "risk.floor"]
    assert checks == [("2024-03-04", Decimal("1999.99"), Decimal("2000.00"), False)]


def test_wlht_without_a_floor_the_leverage_alone_is_judged(tmp_path: Path) -> None:
    """A rules.yaml whose WLHT lists risk.leverage and no risk.floor: the leverage is judged
    all the same (1,000.01 outstanding beyond 10 × 100.00 by a fen), and no floor finding
    (not even the year without a plan)."""
    text = RULES_YAML.read_text(encoding="utf-8")
    start = text.index("      risk.floor:", text.index("\n  WLHT:"))
    end = text.index("      risk.leverage:", start)
    floor = text[start:end]
    assert "expected_volume" in floor and floor.count("risk.floor:") == 1
    rulebook = rulebook_from(tmp_path, (floor, ""))
    assert "risk.floor" not in rulebook.programs["WLHT"].rules
    analysis = run_with(
        rulebook, "WLHT", inject("WLHT", "2024-03-01", "100.00"), loan("WLHT", "W-1", "2024-03-04", "1000.01")
    )
    found = [(f.rule, f.program, str(f.date), f.message) for f in analysis.findings if f.rule.startswith("risk.")]
    assert found == [
        ("risk.leverage", "WLHT", "2024-03-04", "2024-03-04 日终贷款余额 1,000.01 元，超过风险补偿金余额 100.00 元的 10 倍；贷款余额上限 1,000.00 元，贷款余额 1,000.01 元，超出 0.01 元"),
    ]
    checks = [(c.rule, str(c.day), c.base, c.limit, c.ok) for c in analysis.records.adequacy]
    assert checks == [
        ("risk.leverage", "2024-03-01", Decimal(0), Decimal("1000.00"), True),
        ("risk.leverage", "2024-03-04", Decimal("1000.01"), Decimal("1000.00"), False),
    ]


def test_the_floor_base_is_the_version_in_force_at_the_books_end(tmp_path: Path) -> None:
    """CQGX's base gets a second version, 'lent' from 2030-01-01, after these books: they
    are judged against the outstanding. 1,000.00 lent, 500.00 repaid, the fund drawn from
    100.00 to 49.99: 10% of 500.00 is 50.00, a fen short (against the 1,000.00 lent it
    would be 50.01)."""
    rulebook = rulebook_from(
        tmp_path, ("2021-02-24: outstanding\n", "2021-02-24: outstanding\n              2030-01-01: lent\n")
    )
    back = (
        '2024-05-06 * "财政局" "退回风险补偿金"\n'
        "  Assets:CQGX:Pool:Risk  -50.01 CNY\n  Income:CQGX:Risk:Injection  50.01 CNY\n"
    )
    analysis = run_with(
        rulebook,
        "CQGX",
        inject("CQGX", "2024-03-01", "100.00"),
        loan("CQGX", "C-1", "2024-03-01", "1000.00"),
        loan_event("2024-04-01", "repayment", "C-1", "500.00"),
        back,
    )
    found = [(f.program, str(f.date), f.message) for f in analysis.findings if f.rule == "risk.floor"]
    assert found == [
        ("CQGX", "2024-05-06", "2024-05-06 日终风险补偿金余额 49.99 元，低于贷款余额 500.00 元的 10%；应不低于 50.00 元，风险补偿金余额 49.99 元，差额 0.01 元"),
    ]


def test_wlht_a_run_of_days_short_of_the_plan_is_reported_once() -> None:
    """Plan 20,000.00 (10% is 2,000.00): 1,000.00 is short on the plan's day, 1,500.00 still
    short on 2024-02-01 (no second finding), 2,000.00 meets it on 2024-03-01."""
    analysis = run(
        "WLHT",
        inject("WLHT", "2024-01-02", "1000.00"),
        plan("2024-01-05", "20000.00", 2024),
        inject("WLHT", "2024-02-01", "500.00"),
        inject("WLHT", "2024-03-01", "500.00"),
    )
    assert [(str(f.date), f.message) for f in analysis.findings if f.rule == "risk.floor"] == [
        ("2024-01-05", "2024-01-05 日终风险补偿金余额 1,000.00 元，低于 2024 年预计业务量 20,000.00 元的 10%（2024-01-05 登记的年度计划）；应不低于 2,000.00 元，风险补偿金余额 1,000.00 元，差额 1,000.00 元"),
    ]
    checks = [(str(c.day), c.risk_fund, c.ok) for c in analysis.records.adequacy if c.rule == "risk.floor"]
    assert checks == [
        ("2024-01-05", Decimal("1000.00"), False),
        ("2024-02-01", Decimal("1500.00"), False),
        ("2024-03-01", Decimal("2000.00"), True),
    ]


def test_wlht_a_year_without_plan_is_said_at_its_first_disbursement_of_its_own_loans() -> None:
    """A CQGX loan registered first is passed over. WLHT's 2025 has no plan: said once, at
    the disbursement (not the approval or contract of the same day) of W-2, the first of the
    two loans disbursed on 2025-03-03 (W-3 comes after it in the file)."""
    analysis = run_two(
        "CQGX",
        "WLHT",
        loan("CQGX", "C-1", "2024-01-02", "100.00"),
        inject("WLHT", "2024-01-02", "2000000.00"),
        plan("2024-01-05", "20000000.00", 2024),
        loan("WLHT", "W-1", "2024-03-01", "1000000.00"),
        loan("WLHT", "W-2", "2025-03-03", "1000000.00"),
        loan("WLHT", "W-3", "2025-03-03", "1000000.00"),
    )
    found = [f for f in analysis.findings if f.rule == "risk.floor" and f.program == "WLHT"]
    assert [(f.program, str(f.date), f.entry.values[0].value, f.entry.values[1].value, f.message) for f in found] == [
        ("WLHT", "2025-03-03", "disbursement", "W-2", "2025 年有放款或续贷，但未登记当年业务计划（program plan 的 expected_volume），无法核对风险补偿金是否不低于预计业务量的比例"),
    ]
    assert found[0].lineno is not None and found[0].lineno == found[0].entry.meta["lineno"]


def test_wlht_a_year_with_only_a_renewal_and_no_plan_is_reported_at_the_renewal() -> None:
    """W-1, lent in 2024 under the 2024 plan, is renewed on 2025-02-28 (line 25): 2025
    has a renewal and no plan."""
    analysis = run(
        "WLHT",
        inject("WLHT", "2024-01-02", "2000000.00"),
        plan("2024-01-05", "20000000.00", 2024),
        loan("WLHT", "W-1", "2024-03-01", "1000000.00", maturity="2025-02-28"),
        '2025-02-28 custom "loan" "renewal" "W-1"\n  amount: 1000000.00 CNY\n  maturity: 2026-02-27\n',
    )
    found = [f for f in analysis.findings if f.rule == "risk.floor"]
    assert [(f.program, str(f.date), f.lineno, f.entry.values[0].value, f.message) for f in found] == [
        ("WLHT", "2025-02-28", 25, "renewal", "2025 年有放款或续贷，但未登记当年业务计划（program plan 的 expected_volume），无法核对风险补偿金是否不低于预计业务量的比例"),
    ]


def test_wlht_a_second_plan_on_a_fund_day_is_the_finding_s_entry() -> None:
    """The 2024 plan of 10,000.00 is met by 1,000.00; a second 2024 plan of 20,000.00 comes on
    2024-03-01 with an injection of 1.00 the same day: 1,001.00 against 2,000.00 is short,
    and the finding is about the second plan (line 16), not the injection (line 12)."""
    analysis = run(
        "WLHT",
        inject("WLHT", "2024-01-02", "1000.00"),
        plan("2024-01-02", "10000.00", 2024),
        inject("WLHT", "2024-03-01", "1.00"),
        plan("2024-03-01", "20000.00", 2024),
    )
    found = [f for f in analysis.findings if f.rule == "risk.floor"]
    assert [(str(f.date), f.lineno, f.entry.values[0].value, f.message) for f in found] == [
        ("2024-03-01", 16, "plan", "2024-03-01 日终风险补偿金余额 1,001.00 元，低于 2024 年预计业务量 20,000.00 元的 10%（2024-03-01 登记的年度计划）；应不低于 2,000.00 元，风险补偿金余额 1,001.00 元，差额 999.00 元"),
    ]


# --------------------------------------------------------------------------------------
# What on_register keeps as the register files the loans' events (issue #9): a settlement
# and a renewal move the outstanding by the loan's own balance; a day's figure points at
# the last event of the loan latest in the register (the order of the approvals), not at
# the event last in the file; a year's first new credit is the earliest, and on its day
# the one of the loan first in the register.


def approve(program: str, loan_id: str, day: str, amount: str) -> str:
    """A loan's approval and contract, without its disbursement."""
    return (
        f'{day} custom "loan" "approval" "{loan_id}"\n  program: "{program}"\n  enterprise: "E-1"\n'
        f'  amount: {amount} CNY\n  letter: "函"\n  term_months: 12\n'
        f'{day} custom "loan" "contract" "{loan_id}"\n  amount: {amount} CNY\n  maturity: 2027-12-31\n'
        f'  credit_line: {amount} CNY\n'
    )


def pointed(finding) -> tuple[str, str, str]:
    """The register event a finding is about: (kind, loan, amount)."""
    return (finding.entry.values[0].value, finding.entry.values[1].value, str(finding.entry.meta["amount"]))


def test_cqgx_a_settlement_and_a_renewal_move_the_outstanding_by_the_loan_s_own_balance() -> None:
    """Fund 100,000.00. C-1 1,000,000.00 (10% = 100,000.00, met); C-2 500,000.00: 1,500,000.00
    needs 150,000.00, short by 50,000.00; C-1 settled: 500,000.00 needs 50,000.00, met; C-3
    1,000,000.00: 1,500,000.00 again, a new run short by 50,000.00; C-2 renewed at
    400,000.00 (100,000.00 less): 1,400,000.00 needs 140,000.00, still short (no new finding)."""
    analysis = run(
        "CQGX",
        inject("CQGX", "2024-01-02", "100000.00"),
        loan("CQGX", "C-1", "2024-03-01", "1000000.00"),
        loan("CQGX", "C-2", "2024-04-01", "500000.00"),
        '2024-05-06 custom "loan" "settlement" "C-1"\n',
        loan("CQGX", "C-3", "2024-06-03", "1000000.00"),
        '2024-07-01 custom "loan" "renewal" "C-2"\n  amount: 400000.00 CNY\n  maturity: 2028-06-30\n',
    )
    assert [(f.program, str(f.date), f.message) for f in analysis.findings if f.rule == "risk.floor"] == [
        ("CQGX", "2024-04-01", "2024-04-01 日终风险补偿金余额 100,000.00 元，低于贷款余额 1,500,000.00 元的 10%；应不低于 150,000.00 元，风险补偿金余额 100,000.00 元，差额 50,000.00 元"),
        ("CQGX", "2024-06-03", "2024-06-03 日终风险补偿金余额 100,000.00 元，低于贷款余额 1,500,000.00 元的 10%；应不低于 150,000.00 元，风险补偿金余额 100,000.00 元，差额 50,000.00 元"),
    ]
    checks = [(str(c.day), c.base, c.limit, c.ok) for c in analysis.records.adequacy if c.rule == "risk.floor"]
    assert checks == [
        ("2024-01-02", Decimal("0"), Decimal("0"), True),
        ("2024-03-01", Decimal("1000000.00"), Decimal("100000.00"), True),
        ("2024-04-01", Decimal("1500000.00"), Decimal("150000.00"), False),
        ("2024-05-06", Decimal("500000.00"), Decimal("50000.00"), True),
        ("2024-06-03", Decimal("1500000.00"), Decimal("150000.00"), False),
        ("2024-07-01", Decimal("1400000.00"), Decimal("140000.00"), False),
    ]


def test_cqgx_two_events_of_one_loan_on_a_day_the_finding_is_about_the_later() -> None:
    """C-1 lent 1,000,000.00 and increased by 0.10 the same day: 10% of 1,000,000.10 is
    100,000.01 (half-up of 100,000.010), the fund's 100,000.00 a fen short; the finding is
    about the increase, the later of the loan's two events that day."""
    analysis = run(
        "CQGX",
        inject("CQGX", "2024-01-02", "100000.00"),
        loan("CQGX", "C-1", "2024-03-01", "1000000.00"),
        loan_event("2024-03-01", "increase", "C-1", "0.10"),
    )
    found = [f for f in analysis.findings if f.rule == "risk.floor"]
    assert [(f.program, str(f.date), pointed(f), f.message) for f in found] == [
        ("CQGX", "2024-03-01", ("increase", "C-1", "0.10 CNY"), "2024-03-01 日终风险补偿金余额 100,000.00 元，低于贷款余额 1,000,000.10 元的 10%；应不低于 100,000.01 元，风险补偿金余额 100,000.00 元，差额 0.01 元"),
    ]


def test_cqgx_on_a_day_of_two_loans_the_finding_is_about_the_loan_later_in_the_register() -> None:
    """C-A is approved before C-B (C-A first in the register); on 2024-03-01 C-B's
    disbursement of 500,000.00 comes first in the file, C-A's of 500,000.05 after it.
    10% of 1,000,000.05 is 100,000.01 (half-up of 100,000.005): a fen short, about C-B's
    disbursement (the loan later in the register), not the entry last in the file."""
    analysis = run(
        "CQGX",
        inject("CQGX", "2024-01-02", "100000.00"),
        approve("CQGX", "C-A", "2024-02-01", "500000.05"),
        approve("CQGX", "C-B", "2024-02-02", "500000.00"),
        loan_event("2024-03-01", "disbursement", "C-B", "500000.00"),
        loan_event("2024-03-01", "disbursement", "C-A", "500000.05"),
    )
    found = [f for f in analysis.findings if f.rule == "risk.floor"]
    assert [(f.program, str(f.date), pointed(f), f.message) for f in found] == [
        ("CQGX", "2024-03-01", ("disbursement", "C-B", "500000.00 CNY"), "2024-03-01 日终风险补偿金余额 100,000.00 元，低于贷款余额 1,000,000.05 元的 10%；应不低于 100,000.01 元，风险补偿金余额 100,000.00 元，差额 0.01 元"),
    ]


def test_gsby_lending_of_one_loan_twice_on_a_day_the_finding_is_about_the_later() -> None:
    """G-1 lent 1,000,000.00 and increased by 0.34 the same day: 1.5% of 1,000,000.34 is
    15,000.01 (half-up of 15,000.0051), the fund's 15,000.00 a fen short; about the increase."""
    analysis = run(
        "GSBY",
        gs_injections(),
        loan("GSBY", "G-1", "2024-03-01", "1000000.00"),
        loan_event("2024-03-01", "increase", "G-1", "0.34"),
    )
    found = [f for f in analysis.findings if f.rule == "risk.floor"]
    assert [(f.program, str(f.date), pointed(f), f.message) for f in found] == [
        ("GSBY", "2024-03-01", ("increase", "G-1", "0.34 CNY"), "2024-03-01 日终风险补偿金余额 15,000.00 元，低于累计放款 1,000,000.34 元的 1.5%；应不低于 15,000.01 元，风险补偿金余额 15,000.00 元，差额 0.01 元"),
    ]


def test_gsby_lending_of_two_loans_on_a_day_the_finding_is_about_the_loan_later_in_the_register() -> None:
    """G-A is approved before G-B; on 2024-03-01 G-B's 500,000.00 comes first in the file,
    G-A's 500,000.34 after it: 1.5% of 1,000,000.34 is 15,000.01, a fen short, about G-B's
    disbursement."""
    analysis = run(
        "GSBY",
        gs_injections(),
        approve("GSBY", "G-A", "2024-02-01", "500000.34"),
        approve("GSBY", "G-B", "2024-02-02", "500000.00"),
        loan_event("2024-03-01", "disbursement", "G-B", "500000.00"),
        loan_event("2024-03-01", "disbursement", "G-A", "500000.34"),
    )
    found = [f for f in analysis.findings if f.rule == "risk.floor"]
    assert [(f.program, str(f.date), pointed(f), f.message) for f in found] == [
        ("GSBY", "2024-03-01", ("disbursement", "G-B", "500000.00 CNY"), "2024-03-01 日终风险补偿金余额 15,000.00 元，低于累计放款 1,000,000.34 元的 1.5%；应不低于 15,000.01 元，风险补偿金余额 15,000.00 元，差额 0.01 元"),
    ]


NO_PLAN = "{} 年有放款或续贷，但未登记当年业务计划（program plan 的 expected_volume），无法核对风险补偿金是否不低于预计业务量的比例"


def test_wlht_a_year_without_plan_is_said_at_the_first_new_credit_of_the_loan_first_in_the_register() -> None:
    """W-A is approved before W-B. 2025 (no plan): on 2025-03-03 W-B's disbursement comes
    first in the file, W-A's after it: said at W-A's, the loan first in the register.
    2026 (no plan): W-B renewed on 2026-03-02, W-A on 2026-03-09: said at the earlier day's,
    W-B's, though W-A is first in the register. 2027 (no plan): W-B lent twice on 2027-03-01
    (300,000.00, then 200,000.00): said at the first of the two."""
    analysis = run(
        "WLHT",
        inject("WLHT", "2024-01-02", "2000000.00"),
        plan("2024-01-05", "20000000.00", 2024),
        approve("WLHT", "W-A", "2025-02-03", "500000.00"),
        approve("WLHT", "W-B", "2025-02-04", "500000.00"),
        loan_event("2025-03-03", "disbursement", "W-B", "500000.00"),
        loan_event("2025-03-03", "disbursement", "W-A", "400000.00"),
        '2026-03-02 custom "loan" "renewal" "W-B"\n  amount: 450000.00 CNY\n  maturity: 2028-03-01\n',
        '2026-03-09 custom "loan" "renewal" "W-A"\n  amount: 350000.00 CNY\n  maturity: 2028-03-08\n',
        loan_event("2027-03-01", "disbursement", "W-B", "300000.00"),
        loan_event("2027-03-01", "disbursement", "W-B", "200000.00"),
    )
    found = [f for f in analysis.findings if f.rule == "risk.floor"]
    assert [(f.program, str(f.date), pointed(f), f.message) for f in found] == [
        ("WLHT", "2025-03-03", ("disbursement", "W-A", "400000.00 CNY"), NO_PLAN.format(2025)),
        ("WLHT", "2026-03-02", ("renewal", "W-B", "450000.00 CNY"), NO_PLAN.format(2026)),
        ("WLHT", "2027-03-01", ("disbursement", "W-B", "300000.00 CNY"), NO_PLAN.format(2027)),
    ]
