"""outflow.management_fee: declared like outflow.subsidy (a rule and its account role), with a
yearly cap as a rate of the funds and/or an amount; its rule ledgers run under the test
program of tests/ledgers/rules/outflow.management_fee/rules.yaml (no policy excerpt of the
seven programs allows a management fee, so rules.yaml declares none)."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_rules_yaml import line_of
from zhubaodai.core.rules import RulesError
from zhubaodai.core.rules import load_rules
from zhubaodai.core.rules import parse_rules

ROOT = Path(__file__).resolve().parent.parent
TEST_RULES = ROOT / "tests" / "ledgers" / "rules" / "outflow.management_fee" / "rules.yaml"
TEXT = TEST_RULES.read_text(encoding="utf-8")


def test_no_program_of_rules_yaml_declares_a_management_fee() -> None:
    for program in load_rules(ROOT / "rules.yaml").programs.values():
        assert "outflow.management_fee" not in program.rules
        assert "outflow_management" not in program.accounts


def test_the_test_program_loads() -> None:
    rule = load_rules(TEST_RULES).programs["MGMT"].rules["outflow.management_fee"]
    assert set(rule.params) == {"rate", "annual_cap"}


def broken(text: str) -> RulesError:
    with pytest.raises(RulesError) as info:
        parse_rules(text, "rules.yaml")
    return info.value


def test_a_cap_is_required() -> None:
    start = TEXT.index("        params:\n", TEXT.index("outflow.management_fee:"))
    text = TEXT[:start]
    error = broken(text)
    assert error.key == "programs.MGMT.rules.outflow.management_fee.params"
    assert "rate、annual_cap 之一" in error.message


def test_the_role_needs_its_rule_and_the_rule_its_role() -> None:
    without_rule = TEXT[: TEXT.index("      outflow.management_fee:")]
    error = broken(without_rule)
    assert error.key == "programs.MGMT.accounts.outflow_management"
    assert error.line == line_of(without_rule, "      outflow_management:")
    without_role = TEXT.replace("      outflow_management: Expenses:MGMT:Management\n", "")
    error = broken(without_role)
    assert error.key == "programs.MGMT.rules.outflow.management_fee"
    assert "outflow_management" in error.message


# --------------------------------------------------------------------------------------
# The rule at work (issue #14, pool's new functions _yearly_cap and _returned): tiny ledgers
# of the test program MGMT (1% of the funds at the end of the day before, at most
# 80,000.00 a year), every figure multiplied out here.

from decimal import Decimal as D  # noqa: E402

from beancount import loader  # noqa: E402

from zhubaodai.core.engine import Analysis  # noqa: E402
from zhubaodai.core.engine import analyse  # noqa: E402

MGMT = load_rules(TEST_RULES)
COMMON = ROOT / "tests" / "ledgers" / "common" / "mgmt.beancount"


def mgmt(*parts: str) -> Analysis:
    text = (
        f'option "operating_currency" "CNY"\ninclude "{COMMON}"\n'
        '2026-01-02 custom "program" "open" "MGMT"\n'
        '2026-01-05 * "财政局" "注入风险补偿金"\n  Assets:MGMT:Pool:Risk  5000000.00 CNY\n'
        "  Income:MGMT:Risk:Injection  -5000000.00 CNY\n" + "".join(parts)
    )
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    return analyse(entries, MGMT)


def fee(day: str, amount: str) -> str:
    return f'{day} * "受托管理机构" "提取管理费"\n  Assets:MGMT:Pool:Risk  -{amount} CNY\n  Expenses:MGMT:Management  {amount} CNY\n'


def fee_back(day: str, amount: str) -> str:
    return f'{day} * "受托管理机构" "退回管理费"\n  Assets:MGMT:Pool:Risk  {amount} CNY\n  Expenses:MGMT:Management  -{amount} CNY\n'


def inject(day: str, amount: str) -> str:
    return f'{day} * "财政局" "注入风险补偿金"\n  Assets:MGMT:Pool:Risk  {amount} CNY\n  Income:MGMT:Risk:Injection  -{amount} CNY\n'


def found(analysis: Analysis) -> list[tuple[str, int | None, str | None, tuple]]:
    return [(f.message, f.lineno, f.loan, f.figures) for f in analysis.findings
            if f.rule in ("outflow.management_fee", "pool.no_withdrawal")]


def records(analysis: Analysis) -> list[tuple]:
    return [(o.program, o.rule, o.amount, o.year_total, o.annual_cap, o.loan, o.base, o.allowed, o.loan_total)
            for o in analysis.programs["MGMT"].outflows]


def test_the_rate_of_the_day_before_binds_and_an_injection_the_same_day_does_not_count() -> None:
    """5,000,000.00 at the end of 2026-06-29 × 1% = 50,000.00 (below 80,000.00): 50,000.00 is
    exact; 50,000.01 is a fen over, though 1,000,000.00 comes in on the fee's own day."""
    assert found(mgmt(inject("2026-06-30", "1000000.00"), fee("2026-06-30", "50000.00"))) == []
    analysis = mgmt(inject("2026-06-30", "1000000.00"), fee("2026-06-30", "50000.01"))
    assert found(analysis) == [
        ("2026 年度管理费累计超过专户资金（2026-06-29 日终 5,000,000.00 元）的 1%；年度上限 50,000.00 元，年度累计 50,000.01 元，超出 0.01 元",
         10, None, (("年度上限", D("50000.00")), ("年度累计", D("50000.01")), ("超出", D("0.01")))),
    ]
    assert records(analysis) == [
        ("MGMT", "outflow.management_fee", D("50000.01"), D("50000.01"), D("50000.00"), None, None, None, None),
    ]


def test_the_rate_cap_is_rounded_half_up_to_the_fen() -> None:
    """5,000,000.50 × 1% = 50,000.005 → 50,000.01: 50,000.01 is exact, 50,000.02 a fen over."""
    assert found(mgmt(inject("2026-03-02", "0.50"), fee("2026-06-30", "50000.01"))) == []
    assert [f[3] for f in found(mgmt(inject("2026-03-02", "0.50"), fee("2026-06-30", "50000.02")))] == [
        (("年度上限", D("50000.01")), ("年度累计", D("50000.02")), ("超出", D("0.01"))),
    ]


def test_the_lower_of_the_two_caps_binds() -> None:
    """10,000,000.00 × 1% = 100,000.00 is above the 80,000.00 a year: 40,000.00 + 40,000.01 is
    a fen over the amount, said at the second fee (line 13)."""
    analysis = mgmt(inject("2026-01-06", "5000000.00"), fee("2026-06-30", "40000.00"), fee("2026-12-31", "40000.01"))
    assert found(analysis) == [
        ("2026 年度管理费累计超过年度总额上限；年度上限 80,000.00 元，年度累计 80,000.01 元，超出 0.01 元",
         13, None, (("年度上限", D("80000.00")), ("年度累计", D("80000.01")), ("超出", D("0.01")))),
    ]


def test_a_returned_fee_lowers_the_year_s_total() -> None:
    """50,000.00 taken on 2026-06-30 (4,950,000.00 left), 10,000.00 back on 2026-07-10: the
    year's total is 40,000.00 under a cap of 4,950,000.00 × 1% = 49,500.00. On 2026-07-20
    the cap is 4,960,000.00 × 1% = 49,600.00: 9,600.00 more is exact, 9,600.01 a fen over."""
    analysis = mgmt(fee("2026-06-30", "50000.00"), fee_back("2026-07-10", "10000.00"), fee("2026-07-20", "9600.00"))
    assert found(analysis) == []
    assert records(analysis) == [
        ("MGMT", "outflow.management_fee", D("50000.00"), D("50000.00"), D("50000.00"), None, None, None, None),
        ("MGMT", "outflow.management_fee", D("-10000.00"), D("40000.00"), D("49500.00"), None, None, None, None),
        ("MGMT", "outflow.management_fee", D("9600.00"), D("49600.00"), D("49600.00"), None, None, None, None),
    ]
    over = mgmt(fee("2026-06-30", "50000.00"), fee_back("2026-07-10", "10000.00"), fee("2026-07-20", "9600.01"))
    assert [f[0] for f in found(over)] == [
        "2026 年度管理费累计超过专户资金（2026-07-19 日终 4,960,000.00 元）的 1%；年度上限 49,600.00 元，年度累计 49,600.01 元，超出 0.01 元",
    ]


def test_a_returned_fee_never_takes_the_year_below_zero() -> None:
    """20,000.00 comes back in 2027 of a 2026 fee: 2027's total stays 0.00, and 2027 may
    still take no more than its own cap (5,000,000.00 − 20,000.00 + 20,000.00 at the end of
    2027-01-31 × 1% = 50,000.00; 50,000.01 is a fen over)."""
    analysis = mgmt(fee("2026-06-30", "20000.00"), fee_back("2027-01-10", "20000.00"), fee("2027-02-01", "50000.01"))
    assert records(analysis)[1][2:4] == (D("-20000.00"), D("0.00"))
    assert [f[3] for f in found(analysis)] == [
        (("年度上限", D("50000.00")), ("年度累计", D("50000.01")), ("超出", D("0.01"))),
    ]


def test_a_fee_before_the_rate_is_in_force_is_said_on_the_fee(tmp_path: Path) -> None:
    """A variant of the test rules whose program and rate start on 2026-03-02, after the
    accounts: the fee of 2026-02-02 (line 7) cannot be held to the rate (said once, on the
    fee), the 80,000.00 a year still binds; the fee of 2026-03-02 is judged against both."""
    text = TEXT.replace("    effective: 2026-01-01\n", "    effective: 2026-03-02\n").replace(
        "              2026-01-01: 0.01\n", "              2026-03-02: 0.01\n"
    )
    assert text.count("2026-03-02") == 2
    rulebook = parse_rules(text, "rules.yaml")
    ledger = (
        f'option "operating_currency" "CNY"\ninclude "{COMMON}"\n'
        '2026-01-02 custom "program" "open" "MGMT"\n'
        + inject("2026-01-05", "5000000.00") + fee("2026-02-02", "60000.00") + fee("2026-03-02", "20000.00")
    )
    entries, errors, _ = loader.load_string(ledger)
    assert errors == []
    analysis = analyse(entries, rulebook)
    assert [(f.rule, f.message, f.lineno) for f in analysis.findings
            if f.rule in ("outflow.management_fee", "pool.no_withdrawal")] == [
        ("outflow.management_fee", "参数「programs.MGMT.rules.outflow.management_fee.params.rate」在 2026-02-02 尚无生效版本"
         "（最早版本自 2026-03-02 起施行），无法按规则核对", 7),
        ("outflow.management_fee", "2026 年度管理费累计超过专户资金（2026-03-01 日终 4,940,000.00 元）的 1%；"
         "年度上限 49,400.00 元，年度累计 80,000.00 元，超出 30,600.00 元", 10),
    ]
    assert [(o.amount, o.annual_cap) for o in analysis.programs["MGMT"].outflows] == [
        (D("60000.00"), D("80000.00")), (D("20000.00"), D("49400.00")),
    ]
