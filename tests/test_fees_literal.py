"""The guarantee fee's checks (zhubaodai.checks.fees) against figures computed by hand.

Each case is a tiny ledger written here, run through the engine, and compared with the
exact Chinese text and figures a user reads: the rates (CQGX 2.5% with renewal free,
WLHT 2% on renewal too, GSBY 4% / 2.5% secured from 40% plus 1 point a loan-year, WZS 2%
of the credit line / 5% for a credit loan) are the project's rules.yaml, but every due
below is multiplied out in the test, not read from it. Written for issue #14 (mutation
testing of fees.py): each case pins one branch or one boundary (the fen, the day).
"""

from __future__ import annotations

import textwrap
from decimal import Decimal

import pytest
from beancount import loader

from conftest import LEDGERS
from conftest import RULES_YAML
from zhubaodai.core.engine import Analysis
from zhubaodai.core.engine import analyse
from zhubaodai.core.rules import load_rules
from zhubaodai.core.rules import parse_rules

RULEBOOK = load_rules(RULES_YAML)
COMMON = LEDGERS / "common"


def run(program: str, body: str, rulebook=RULEBOOK) -> Analysis:
    text = (
        f'option "operating_currency" "CNY"\ninclude "{COMMON / program}.beancount"\n'
        + textwrap.dedent(body)
    )
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    return analyse(entries, rulebook)


def fee_findings(analysis: Analysis) -> list[tuple[str, str]]:
    """(rule, message) of the fee rules' findings and the format errors, in order."""
    return [
        (f.rule, f.message)
        for f in analysis.findings
        if f.rule.startswith("fee.") and f.rule != "fee.no_refund" or f.rule == "ledger.format"
    ]


def pay(day: str, amount: str, links: str = " ^L-1", account: str = "Assets:{P}:Pool:Guarantee", program: str = "CQGX") -> str:
    account = account.format(P=program)
    return (
        f'{day} * "企业" "缴纳助保金"{links}\n'
        f"  {account}  {amount} CNY\n"
        f"  Income:{program}:Guarantee:Fees  -{amount} CNY\n"
    )


def event(day: str, kind: str, program: str = "CQGX", **data: str) -> str:
    lines = [f'{day} custom "loan" "{kind}" "L-1"']
    if kind == "approval":
        lines += [f'  program: "{program}"', '  enterprise: "E-1"', '  letter: "函1"']
    lines += [f"  {key}: {value}" for key, value in data.items()]
    return "\n".join(lines) + "\n"


def cq(*parts: str) -> Analysis:
    return run("cqgx", "\n".join(parts))


APPROVAL = event("2024-03-01", "approval", amount="3000000.00 CNY")
CONTRACT = event("2024-03-08", "contract", amount="3000000.00 CNY", maturity="2025-03-08")


# --------------------------------------------------------------------------------------
# fee.rate: 3,000,000.00 × 2.5% = 75,000.00


def test_one_fen_short_of_the_contract_fee() -> None:
    analysis = cq(APPROVAL, pay("2024-03-05", "74999.99"), CONTRACT)
    assert fee_findings(analysis) == [
        ("fee.rate", "贷款 L-1 助保金未缴足：签订合同贷款金额 3,000,000.00 元 × 2.5%；应缴 75,000.00 元，实缴 74,999.99 元，差额 0.01 元")
    ]
    (finding,) = [f for f in analysis.findings if f.rule == "fee.rate"]
    assert finding.loan == "L-1" and str(finding.date) == "2024-03-08"
    account = analysis.records.fees["L-1"]
    assert [(str(d.base), str(d.rate), str(d.due), d.rule) for d in account.dues] == [
        ("3000000.00", "0.025", "75000.00", "fee.rate")
    ]
    assert str(account.due) == "75000.00" and str(account.paid) == "74999.99"


def test_the_fee_paid_in_full_on_the_contract_day_is_no_finding() -> None:
    assert fee_findings(cq(APPROVAL, CONTRACT, pay("2024-03-08", "75000.00"))) == []


def test_the_fee_in_two_payments_adding_up_is_no_finding() -> None:
    assert fee_findings(cq(APPROVAL, pay("2024-03-04", "0.01"), pay("2024-03-05", "74999.99"), CONTRACT)) == []


def test_the_fee_paid_in_full_a_day_after_the_contract_is_late() -> None:
    analysis = cq(APPROVAL, pay("2024-03-05", "70000.00"), CONTRACT, pay("2024-03-09", "5000.00"))
    assert fee_findings(analysis) == [
        ("fee.timing", "贷款 L-1 应在签订合同（2024-03-08）当日或之前缴足助保金；应缴 75,000.00 元，截至当日实缴 70,000.00 元，差额 5,000.00 元")
    ]


def test_half_up_at_the_half_fen() -> None:
    """1,000,000.20 × 2.5% = 25,000.005 -> 25,000.01 (half-up); 25,000.00 is a fen short."""
    body = (
        event("2024-03-01", "approval", amount="1000000.20 CNY"),
        pay("2024-03-05", "25000.00"),
        event("2024-03-08", "contract", amount="1000000.20 CNY", maturity="2025-03-08"),
    )
    assert fee_findings(cq(*body)) == [
        ("fee.rate", "贷款 L-1 助保金未缴足：签订合同贷款金额 1,000,000.20 元 × 2.5%；应缴 25,000.01 元，实缴 25,000.00 元，差额 0.01 元")
    ]


def test_a_payment_linked_to_no_loan_is_a_format_error() -> None:
    analysis = cq(APPROVAL, pay("2024-03-05", "75000.00", links=""), CONTRACT)
    assert fee_findings(analysis) == [
        ("ledger.format", "助保金缴款应以链接 ^贷款编号 关联本项目（CQGX）的唯一一笔贷款，此笔关联了 0 笔"),
        ("fee.rate", "贷款 L-1 助保金未缴足：签订合同贷款金额 3,000,000.00 元 × 2.5%；应缴 75,000.00 元，实缴 0.00 元，差额 75,000.00 元"),
    ]


def test_a_payment_linked_to_two_loans_is_a_format_error() -> None:
    second = APPROVAL.replace("L-1", "L-2") + CONTRACT.replace("L-1", "L-2")
    analysis = cq(APPROVAL, second, pay("2024-03-05", "75000.00", links=" ^L-1 ^L-2"), CONTRACT)
    assert fee_findings(analysis)[0] == (
        "ledger.format", "助保金缴款应以链接 ^贷款编号 关联本项目（CQGX）的唯一一笔贷款，此笔关联了 2 笔"
    )


def test_a_fee_booked_to_the_risk_fund_is_not_in_the_guarantee_fund() -> None:
    analysis = cq(APPROVAL, pay("2024-03-05", "75000.00", account="Assets:{P}:Pool:Risk"), CONTRACT)
    assert fee_findings(analysis) == [
        ("fee.rate", "企业缴纳的助保金应全额计入助保金；缴款 75,000.00 元，计入助保金 0.00 元")
    ]
    assert str(analysis.records.fees["L-1"].paid) == "75000.00"


def test_a_contract_before_the_rate_s_first_version_cannot_be_judged() -> None:
    """CQGX's rate is in force from 2021-02-24: a contract of the day before has none."""
    body = (
        event("2021-02-20", "approval", amount="100000.00 CNY"),
        event("2021-02-23", "contract", amount="100000.00 CNY", maturity="2022-02-23"),
    )
    (found,) = [f for f in fee_findings(cq(*body)) if f[0] == "fee.rate"]
    assert found[1].endswith("，无法按规则核对")
    assert "2021-02-23" in found[1]


# --------------------------------------------------------------------------------------
# fee.increase and several dues: reported once, with what was due before.


def test_an_increase_unpaid_is_reported_with_the_earlier_due() -> None:
    """2,000,000.00 × 2.5% = 50,000.00 paid; the increase 1,000,000.00 × 2.5% = 25,000.00 not."""
    body = (
        event("2024-03-01", "approval", amount="3000000.00 CNY"),
        pay("2024-03-05", "50000.00"),
        event("2024-03-08", "contract", amount="2000000.00 CNY", maturity="2025-03-08"),
        event("2024-06-03", "increase", amount="1000000.00 CNY"),
    )
    assert fee_findings(cq(*body)) == [
        ("fee.increase", "贷款 L-1 助保金未缴足：增加的贷款金额 1,000,000.00 元 × 2.5% = 25,000.00 元，此前应缴 50,000.00 元；累计应缴 75,000.00 元，实缴 50,000.00 元，差额 25,000.00 元")
    ]


def test_a_short_contract_fee_is_reported_once_not_again_at_the_increase() -> None:
    body = (
        event("2024-03-01", "approval", amount="3000000.00 CNY"),
        pay("2024-03-05", "49999.99"),
        event("2024-03-08", "contract", amount="2000000.00 CNY", maturity="2025-03-08"),
        event("2024-06-03", "increase", amount="1000000.00 CNY"),
    )
    assert fee_findings(cq(*body)) == [
        ("fee.rate", "贷款 L-1 助保金未缴足：签订合同贷款金额 2,000,000.00 元 × 2.5%；应缴 50,000.00 元，实缴 49,999.99 元，差额 0.01 元")
    ]


def test_an_increase_paid_after_its_day_is_late_by_the_cumulative_due() -> None:
    body = (
        event("2024-03-01", "approval", amount="3000000.00 CNY"),
        pay("2024-03-05", "50000.00"),
        event("2024-03-08", "contract", amount="2000000.00 CNY", maturity="2025-03-08"),
        event("2024-06-03", "increase", amount="1000000.00 CNY"),
        pay("2024-06-04", "25000.00"),
    )
    assert fee_findings(cq(*body)) == [
        ("fee.timing", "贷款 L-1 应在增加贷款金额（2024-06-03）当日或之前缴足助保金；应缴 75,000.00 元，截至当日实缴 50,000.00 元，差额 25,000.00 元")
    ]


def test_an_increase_paid_on_its_day_is_no_finding() -> None:
    body = (
        event("2024-03-01", "approval", amount="3000000.00 CNY"),
        pay("2024-03-05", "50000.00"),
        event("2024-03-08", "contract", amount="2000000.00 CNY", maturity="2025-03-08"),
        pay("2024-06-03", "25000.00"),
        event("2024-06-03", "increase", amount="1000000.00 CNY"),
    )
    assert fee_findings(cq(*body)) == []


# --------------------------------------------------------------------------------------
# fee.renewal: CQGX charges nothing on renewal; WLHT charges 2%.

CQ_PAID = pay("2024-03-05", "75000.00")
RENEWAL = event("2025-03-07", "renewal", amount="3000000.00 CNY", maturity="2026-03-07")


@pytest.mark.parametrize(("day", "reported"), [("2024-03-08", False), ("2024-03-09", True), ("2025-03-07", True), ("2025-03-08", False)])
def test_a_fee_taken_between_contract_and_renewal_is_an_overcharge(day: str, reported: bool) -> None:
    """Paid 75,000.00 before the contract, then 100.00 more: on the contract day itself it is
    not "after the contract"; on the renewal day it is; the day after, it is not before it."""
    analysis = cq(APPROVAL, CQ_PAID, CONTRACT, pay(day, "100.00"), RENEWAL)
    expected = [("fee.renewal", "贷款 L-1 续贷无需再缴纳助保金，但合同签订后至续贷前又收取了助保金；续贷应缴 0.00 元，多收 100.00 元")]
    assert fee_findings(analysis) == (expected if reported else [])


def test_the_overcharge_is_at_most_the_excess_over_all_dues() -> None:
    """74,900.00 before the contract and 200.00 after it: 100.00 paid late, 100.00 too much."""
    analysis = cq(APPROVAL, pay("2024-03-05", "74900.00"), CONTRACT, pay("2024-04-01", "200.00"), RENEWAL)
    assert fee_findings(analysis) == [
        ("fee.timing", "贷款 L-1 应在签订合同（2024-03-08）当日或之前缴足助保金；应缴 75,000.00 元，截至当日实缴 74,900.00 元，差额 100.00 元"),
        ("fee.renewal", "贷款 L-1 续贷无需再缴纳助保金，但合同签订后至续贷前又收取了助保金；续贷应缴 0.00 元，多收 100.00 元"),
    ]


def test_paying_exactly_the_dues_before_a_free_renewal_is_no_finding() -> None:
    analysis = cq(APPROVAL, pay("2024-03-05", "74900.00"), CONTRACT, pay("2024-04-01", "100.00"), RENEWAL)
    assert fee_findings(analysis) == [
        ("fee.timing", "贷款 L-1 应在签订合同（2024-03-08）当日或之前缴足助保金；应缴 75,000.00 元，截至当日实缴 74,900.00 元，差额 100.00 元")
    ]


def test_a_free_renewal_after_an_increase_counts_from_the_increase() -> None:
    """Paid after the contract but on the increase's day: not between the increase and the renewal."""
    body = (
        event("2024-03-01", "approval", amount="3000000.00 CNY"),
        pay("2024-03-05", "50000.00"),
        event("2024-03-08", "contract", amount="2000000.00 CNY", maturity="2025-03-08"),
        pay("2024-06-03", "25100.00"),
        event("2024-06-03", "increase", amount="1000000.00 CNY"),
        RENEWAL,
    )
    assert fee_findings(cq(*body)) == []


def test_wlht_charges_two_per_cent_on_renewal() -> None:
    """WLHT: 1,000,000.00 × 2% = 20,000.00 at the contract, again at the renewal."""
    body = (
        event("2024-03-01", "approval", program="WLHT", amount="1000000.00 CNY"),
        pay("2024-03-05", "20000.00", program="WLHT"),
        event("2024-03-08", "contract", amount="1000000.00 CNY", maturity="2025-03-08"),
        pay("2025-03-07", "19999.99", program="WLHT"),
        event("2025-03-07", "renewal", amount="1000000.00 CNY", maturity="2026-03-07"),
    )
    assert fee_findings(run("wlht", "\n".join(body))) == [
        ("fee.renewal", "贷款 L-1 助保金未缴足：续贷金额 1,000,000.00 元 × 2% = 20,000.00 元，此前应缴 20,000.00 元；累计应缴 40,000.00 元，实缴 39,999.99 元，差额 0.01 元")
    ]


def test_wlht_renewal_paid_on_its_day_is_no_finding_and_overpaying_is_not_a_breach() -> None:
    body = (
        event("2024-03-01", "approval", program="WLHT", amount="1000000.00 CNY"),
        pay("2024-03-05", "20000.00", program="WLHT"),
        event("2024-03-08", "contract", amount="1000000.00 CNY", maturity="2025-03-08"),
        pay("2025-03-07", "20000.01", program="WLHT"),
        event("2025-03-07", "renewal", amount="1000000.00 CNY", maturity="2026-03-07"),
    )
    assert fee_findings(run("wlht", "\n".join(body))) == []


# --------------------------------------------------------------------------------------
# Schedules. GSBY: 4%, 2.5% where collateral is at least 40% of the amount, +1 point per
# loan-year beyond the first.


def gs(*parts: str, rulebook=RULEBOOK) -> list[tuple[str, str]]:
    return fee_findings(run("gsby", "\n".join(parts), rulebook))


GS_APPROVAL = event("2024-03-01", "approval", program="GSBY", amount="1000000.00 CNY")


def gs_contract(**data: str) -> str:
    return event("2024-03-01", "contract", amount="1000000.00 CNY", **data)


def gs_pay(amount: str) -> str:
    return pay("2024-03-01", amount, program="GSBY")


@pytest.mark.parametrize(
    ("months", "years", "rate", "due"),
    [("12", 1, "4%", "40,000.00"), ("13", 2, "5%", "50,000.00"), ("24", 2, "5%", "50,000.00"), ("25", 3, "6%", "60,000.00")],
)
def test_a_started_loan_year_counts_whole(months: str, years: int, rate: str, due: str) -> None:
    extra = f"期限 {years} 年，每多一年加 1%" if years > 1 else "期限 1 年"
    assert gs(GS_APPROVAL, gs_pay("39999.99"), gs_contract(term_months=months)) == [
        ("fee.rate", f"贷款 L-1 互助担保金未缴足：签订合同贷款金额 1,000,000.00 元 × {rate}（未登记抵质押；{extra}）；应缴 {due} 元，实缴 39,999.99 元，差额 {_minus(due, '39999.99')} 元")
    ]


def _minus(due: str, paid: str) -> str:
    """due - paid, written as the messages write amounts (1,234.56)."""
    return f"{Decimal(due.replace(',', '')) - Decimal(paid):,.2f}"


def test_the_term_on_the_approval_serves_a_contract_without_one() -> None:
    """The loan's later events (a disbursement the next month) do not hide it."""
    approval = GS_APPROVAL + "  term_months: 25\n"
    later = event("2024-04-01", "disbursement", amount="1000000.00 CNY")
    assert gs(approval, gs_pay("60000.00"), gs_contract(), later) == []
    assert gs(approval, gs_pay("59999.99"), gs_contract(), later)[0][1].startswith(
        "贷款 L-1 互助担保金未缴足：签订合同贷款金额 1,000,000.00 元 × 6%（未登记抵质押；期限 3 年，每多一年加 1%）"
    )


def test_the_contract_s_own_term_overrides_the_approval_s() -> None:
    approval = GS_APPROVAL + "  term_months: 25\n"
    assert gs(approval, gs_pay("40000.00"), gs_contract(term_months="12")) == []


@pytest.mark.parametrize(("maturity", "rate", "due"), [("2026-03-01", "5%", "50,000.00"), ("2026-03-02", "6%", "60,000.00")])
def test_a_term_by_maturity_counts_anniversaries(maturity: str, rate: str, due: str) -> None:
    """Contract 2024-03-01: maturing on the second anniversary is 2 loan-years, a day later 3."""
    found = gs(GS_APPROVAL, gs_pay("1.00"), gs_contract(maturity=maturity))
    assert found[0][1].startswith(f"贷款 L-1 互助担保金未缴足：签订合同贷款金额 1,000,000.00 元 × {rate}（未登记抵质押；期限 ")
    assert found[0][1].endswith(f"应缴 {due} 元，实缴 1.00 元，差额 {_minus(due, '1.00')} 元")


def test_a_term_by_maturity_within_a_year_is_one_year() -> None:
    assert gs(GS_APPROVAL, gs_pay("40000.00"), gs_contract(maturity="2024-09-01")) == []


def test_no_term_and_no_maturity_is_reported() -> None:
    assert gs(GS_APPROVAL, gs_pay("40000.00"), gs_contract()) == [
        ("fee.rate", "贷款 L-1 签订合同（贷款金额 1,000,000.00 元）：未登记期限 term_months 或到期日 maturity，无法按期限确定费率")
    ]


@pytest.mark.parametrize(
    ("collateral", "paid", "expected"),
    [
        ("400000.00", "24999.99", "× 2.5%（抵质押或其他担保 400,000.00 元，不低于贷款额的 40%；期限 1 年）；应缴 25,000.00 元，实缴 24,999.99 元，差额 0.01 元"),
        ("399999.99", "39999.99", "× 4%（抵质押或其他担保 399,999.99 元，低于贷款额的 40%；期限 1 年）；应缴 40,000.00 元，实缴 39,999.99 元，差额 0.01 元"),
    ],
)
def test_the_secured_band_starts_at_forty_per_cent(collateral: str, paid: str, expected: str) -> None:
    found = gs(GS_APPROVAL, gs_pay(paid), gs_contract(term_months="12", collateral=f"{collateral} CNY"))
    assert found == [("fee.rate", f"贷款 L-1 互助担保金未缴足：签订合同贷款金额 1,000,000.00 元 {expected}")]


def test_the_band_is_measured_on_the_amount_half_up() -> None:
    """1,000,000.01 × 40% = 400,000.004 -> 400,000.00: collateral 400,000.00 reaches it."""
    approval = event("2024-03-01", "approval", program="GSBY", amount="1000000.01 CNY")
    contract = event("2024-03-01", "contract", amount="1000000.01 CNY", term_months="12", collateral="400000.00 CNY")
    # 1,000,000.01 × 2.5% = 25,000.00025 -> 25,000.00
    assert gs(approval, gs_pay("25000.00"), contract) == []


def test_a_credit_loan_is_never_in_the_secured_band() -> None:
    """GSBY has no credit rate: a credit loan with ample collateral still pays 4%, and the
    collateral is not mentioned."""
    found = gs(GS_APPROVAL, gs_pay("1.00"), gs_contract(term_months="12", collateral="900000.00 CNY", loan_type='"信用"'))
    assert found == [("fee.rate", "贷款 L-1 互助担保金未缴足：签订合同贷款金额 1,000,000.00 元 × 4%（期限 1 年）；应缴 40,000.00 元，实缴 1.00 元，差额 39,999.00 元")]


# WZS: 2% of the credit line, 5% for a credit loan.


def wz(*parts: str, rulebook=RULEBOOK) -> list[tuple[str, str]]:
    return fee_findings(run("wzs", "\n".join(parts), rulebook))


WZ_APPROVAL = event("2024-03-01", "approval", program="WZS", amount="800000.00 CNY")


def wz_contract(**data: str) -> str:
    return event("2024-03-01", "contract", amount="800000.00 CNY", maturity="2025-03-01", **data)


def wz_pay(amount: str) -> str:
    return pay("2024-03-01", amount, program="WZS")


def test_wzs_charges_two_per_cent_of_the_credit_line() -> None:
    assert wz(WZ_APPROVAL, wz_pay("19999.99"), wz_contract(credit_line="1000000.00 CNY")) == [
        ("fee.rate", "贷款 L-1 助保金未缴足：授信额度 1,000,000.00 元 × 2%；应缴 20,000.00 元，实缴 19,999.99 元，差额 0.01 元")
    ]


def test_wzs_charges_a_credit_loan_five_per_cent() -> None:
    contract = wz_contract(credit_line="1000000.00 CNY", loan_type='"信用"')
    assert wz(WZ_APPROVAL, wz_pay("49999.99"), contract) == [
        ("fee.rate", "贷款 L-1 助保金未缴足：授信额度 1,000,000.00 元 × 5%（信用类贷款）；应缴 50,000.00 元，实缴 49,999.99 元，差额 0.01 元")
    ]


def test_wzs_takes_the_credit_line_of_the_approval() -> None:
    approval = WZ_APPROVAL + "  credit_line: 1000000.00 CNY\n"
    assert wz(approval, wz_pay("20000.00"), wz_contract()) == []


def test_wzs_without_a_credit_line_is_reported() -> None:
    assert wz(WZ_APPROVAL, wz_pay("16000.00"), wz_contract()) == [
        ("fee.rate", "贷款 L-1 签订合同（贷款金额 800,000.00 元）：计费基数为授信额度，但未登记授信额度 credit_line")
    ]


# --------------------------------------------------------------------------------------
# Where a finding points: program, entry (date, line), loan and the figures it states.


def places(analysis: Analysis) -> list[tuple[str, str | None, str, int | None, str | None, dict]]:
    """(rule, program, date, line, loan, figures) of the fee findings and format errors."""
    return [
        (f.rule, f.program, str(f.date), f.lineno, f.loan, {k: str(v) for k, v in f.figures})
        for f in analysis.findings
        if f.rule.startswith("fee.") and f.rule != "fee.no_refund" or f.rule == "ledger.format"
    ]


def line_of(analysis: Analysis, rule: str) -> int:
    (finding,) = [f for f in analysis.findings if f.rule == rule]
    return finding.lineno


def test_each_fee_finding_points_at_its_entry_program_and_loan() -> None:
    analysis = cq(APPROVAL, pay("2024-03-05", "74999.99"), CONTRACT)
    assert places(analysis) == [
        ("fee.rate", "CQGX", "2024-03-08", 13, "L-1", {"应缴": "75000.00", "实缴": "74999.99", "差额": "0.01"})
    ]


def test_a_format_error_points_at_the_payment() -> None:
    analysis = cq(APPROVAL, pay("2024-03-05", "75000.00", links=""), CONTRACT)
    assert places(analysis)[0][:5] == ("ledger.format", None, "2024-03-05", 9, None)


def test_the_wrong_fund_points_at_the_payment_with_its_loan() -> None:
    analysis = cq(APPROVAL, pay("2024-03-05", "75000.00", account="Assets:{P}:Pool:Risk"), CONTRACT)
    assert places(analysis) == [
        ("fee.rate", "CQGX", "2024-03-05", 9, "L-1", {"缴款": "75000.00", "计入助保金": "0.00"})
    ]


def test_a_timing_finding_points_at_the_contract() -> None:
    analysis = cq(APPROVAL, CONTRACT, pay("2024-03-09", "75000.00"))
    assert places(analysis) == [
        ("fee.timing", "CQGX", "2024-03-08", 9, "L-1", {"应缴": "75000.00", "截至当日实缴": "0.00", "差额": "75000.00"})
    ]


def test_the_fee_paid_only_after_the_contract_was_paid_nothing_by_then() -> None:
    assert fee_findings(cq(APPROVAL, CONTRACT, pay("2024-03-09", "75000.00"))) == [
        ("fee.timing", "贷款 L-1 应在签订合同（2024-03-08）当日或之前缴足助保金；应缴 75,000.00 元，截至当日实缴 0.00 元，差额 75,000.00 元")
    ]


def test_a_schedule_error_points_at_the_event_and_states_the_amount() -> None:
    analysis = run("wzs", "\n".join((WZ_APPROVAL, wz_pay("16000.00"), wz_contract())))
    assert places(analysis) == [("fee.rate", "WZS", "2024-03-01", 13, "L-1", {"贷款金额": "800000.00"})]


def test_a_contract_before_the_rate_s_first_version_points_at_the_contract() -> None:
    body = (
        event("2021-02-20", "approval", amount="100000.00 CNY"),
        event("2021-02-23", "contract", amount="100000.00 CNY", maturity="2022-02-23"),
    )
    found = [p for p in places(cq(*body)) if p[0] == "fee.rate"]
    assert [p[:5] for p in found] == [("fee.rate", "CQGX", "2021-02-23", 9, None)]


def test_the_payment_keeps_its_transaction() -> None:
    analysis = cq(APPROVAL, pay("2024-03-05", "75000.00"), CONTRACT)
    (payment,) = analysis.records.fees["L-1"].payments
    assert (str(payment.date), str(payment.amount), payment.entry.narration, payment.entry.meta["lineno"]) == (
        "2024-03-05", "75000.00", "缴纳助保金", 9
    )


def test_a_fee_correction_netting_to_nothing_is_no_payment() -> None:
    """Income booked and reversed in one transaction, with no loan linked: nothing paid,
    and nothing to link."""
    correction = (
        '2024-03-06 * "专户" "更正"\n'
        "  Income:CQGX:Guarantee:Fees  100.00 CNY\n  Income:CQGX:Guarantee:Fees  -100.00 CNY\n"
    )
    analysis = cq(APPROVAL, pay("2024-03-05", "75000.00"), correction, CONTRACT)
    assert fee_findings(analysis) == []
    assert len(analysis.records.fees["L-1"].payments) == 1


# --------------------------------------------------------------------------------------
# Several dues and zero dues.


def test_a_free_renewal_does_not_report_a_late_contract_fee_again() -> None:
    """The contract's fee paid after the renewal: late once, at the contract."""
    analysis = cq(APPROVAL, CONTRACT, RENEWAL, pay("2025-04-01", "75000.00"))
    assert fee_findings(analysis) == [
        ("fee.timing", "贷款 L-1 应在签订合同（2024-03-08）当日或之前缴足助保金；应缴 75,000.00 元，截至当日实缴 0.00 元，差额 75,000.00 元")
    ]


def test_an_increase_after_a_free_renewal_is_still_due() -> None:
    analysis = cq(APPROVAL, CQ_PAID, CONTRACT, RENEWAL, event("2025-06-03", "increase", amount="1000000.00 CNY"))
    assert fee_findings(analysis) == [
        ("fee.increase", "贷款 L-1 助保金未缴足：增加的贷款金额 1,000,000.00 元 × 2.5% = 25,000.00 元，此前应缴 75,000.00 元；累计应缴 100,000.00 元，实缴 75,000.00 元，差额 25,000.00 元")
    ]


def test_an_increase_is_due_even_where_the_contract_could_not_be_judged() -> None:
    """The contract of 2021-02-23 predates the rate; the increase of 2021-03-01 does not."""
    body = (
        event("2021-02-20", "approval", amount="100000.00 CNY"),
        event("2021-02-23", "contract", amount="100000.00 CNY", maturity="2022-02-23"),
        event("2021-03-01", "increase", amount="10000.00 CNY"),
    )
    found = [f for f in fee_findings(cq(*body)) if f[0] == "fee.increase"]
    assert found == [
        ("fee.increase", "贷款 L-1 助保金未缴足：增加的贷款金额 10,000.00 元 × 2.5%；应缴 250.00 元，实缴 0.00 元，差额 250.00 元")
    ]


def test_one_fen_too_much_before_a_free_renewal_is_an_overcharge() -> None:
    analysis = cq(APPROVAL, CQ_PAID, CONTRACT, pay("2024-04-01", "0.01"), RENEWAL)
    assert places(analysis) == [("fee.renewal", "CQGX", "2025-03-07", 21, "L-1", {"续贷应缴": "0.00", "多收": "0.01"})]


def test_a_renewal_without_a_contract_has_no_window() -> None:
    """A renewal registered without its contract: nothing before it to measure from."""
    analysis = cq(APPROVAL, pay("2024-03-05", "100.00"), RENEWAL)
    assert fee_findings(analysis) == []


# --------------------------------------------------------------------------------------
# Shapes no program of rules.yaml has together: WZS with a fee on increases (the credit
# line is not its base), and WZS charging per loan-year within a permitted range.

WZS_BASE = "              2020-09-26: credit_line\n"
WZS_INCREASE = WZS_BASE + """\
      fee.increase:
        severity: error
        article: 第一条
        summary: 测试用：增加的贷款金额按 2% 补缴（计费基数仍写授信额度，增加的部分不按额度计）。
        params:
          rate:
            article: 第一条
            values:
              2020-09-26: 0.02
          base:
            article: 第一条
            values:
              2020-09-26: credit_line
"""


def variant(old: str, new: str):
    text = RULES_YAML.read_text(encoding="utf-8")
    assert text.count(old) == 1
    return parse_rules(text.replace(old, new), str(RULES_YAML))


def test_an_increase_is_charged_on_its_amount_not_the_credit_line() -> None:
    """Credit line 1,000,000.00 (2% = 20,000.00 paid); the increase of 100,000.00 owes
    2,000.00 more, a fen short."""
    rulebook = variant(WZS_BASE, WZS_INCREASE)
    body = (
        WZ_APPROVAL,
        wz_pay("20000.00"),
        wz_contract(credit_line="1000000.00 CNY"),
        pay("2024-06-03", "1999.99", program="WZS"),
        event("2024-06-03", "increase", amount="100000.00 CNY"),
    )
    assert wz(*body, rulebook=rulebook) == [
        ("fee.increase", "贷款 L-1 助保金未缴足：增加的贷款金额 100,000.00 元 × 2% = 2,000.00 元，此前应缴 20,000.00 元；累计应缴 22,000.00 元，实缴 21,999.99 元，差额 0.01 元")
    ]


def test_an_increase_is_still_judged_after_a_contract_without_credit_line() -> None:
    """The contract cannot be priced; the increase of 100,000.00 still owes 2% = 2,000.00,
    paid a day late."""
    rulebook = variant(WZS_BASE, WZS_INCREASE)
    body = (
        WZ_APPROVAL,
        wz_contract(),
        event("2024-06-03", "increase", amount="100000.00 CNY"),
        pay("2024-06-04", "2000.00", program="WZS"),
    )
    assert wz(*body, rulebook=rulebook) == [
        ("fee.rate", "贷款 L-1 签订合同（贷款金额 800,000.00 元）：计费基数为授信额度，但未登记授信额度 credit_line"),
        ("fee.timing", "贷款 L-1 应在增加贷款金额（2024-06-03）当日或之前缴足助保金；应缴 2,000.00 元，截至当日实缴 0.00 元，差额 2,000.00 元"),
    ]


WZS_PER_YEAR = WZS_BASE + """\
          per_year:
            article: 第一条
            values:
              2020-09-26: true
          max_rate:
            article: 第一条
            values:
              2020-09-26: 0.05
"""


@pytest.mark.parametrize(("paid", "over"), [("150000.00", None), ("150000.01", "0.01")])
def test_a_range_per_loan_year_has_its_top_per_year_too(paid: str, over: str | None) -> None:
    """2% to 5% a year of 1,000,000.00 over 3 loan-years: 60,000.00 due, at most 150,000.00."""
    rulebook = variant(WZS_BASE, WZS_PER_YEAR)
    contract = event("2024-03-01", "contract", amount="800000.00 CNY", maturity="2027-03-01", credit_line="1000000.00 CNY")
    analysis = run("wzs", "\n".join((WZ_APPROVAL, wz_pay(paid), contract)), rulebook)
    if over is None:
        assert places(analysis) == []
    else:
        assert places(analysis) == [("fee.rate", "WZS", "2024-03-01", 13, "L-1", {"上限": "150000.00", "实缴": paid, "超出": over})]
        assert fee_findings(analysis)[0][1] == "贷款 L-1 收取的助保金超过允许区间的上限；上限 150,000.00 元，实缴 150,000.01 元，超出 0.01 元"


def test_two_loan_years_are_shown_as_times_two() -> None:
    rulebook = variant(WZS_BASE, WZS_PER_YEAR)
    contract = event("2024-03-01", "contract", amount="800000.00 CNY", maturity="2026-03-01", credit_line="1000000.00 CNY")
    assert wz(WZ_APPROVAL, wz_pay("39999.99"), contract, rulebook=rulebook) == [
        ("fee.rate", "贷款 L-1 助保金未缴足：授信额度 1,000,000.00 元 × 2% × 2 年（按 2 个贷款年度计收）；应缴 40,000.00 元，实缴 39,999.99 元，差额 0.01 元")
    ]


WLHT_RENEWAL = """\
        summary: 续贷为新的贷款年度，按续贷金额再次缴纳助保金。
        params:
          rate:
            article: 第六条
            values:
              2015-01-01: 0.02
"""


def test_a_free_renewal_after_a_charged_one_is_still_watched() -> None:
    """A rules.yaml where WLHT's renewal becomes free from 2025-06-01: the charged renewal
    of 2025-03-07 is passed over, the free one of 2026-03-06 has 100.00 taken before it."""
    rulebook = variant(WLHT_RENEWAL, WLHT_RENEWAL + "              2025-06-01: 0\n")
    body = (
        event("2024-03-01", "approval", program="WLHT", amount="1000000.00 CNY"),
        pay("2024-03-05", "20000.00", program="WLHT"),
        event("2024-03-08", "contract", amount="1000000.00 CNY", maturity="2025-03-08"),
        pay("2025-03-07", "20000.00", program="WLHT"),
        event("2025-03-07", "renewal", amount="1000000.00 CNY", maturity="2026-03-07"),
        pay("2025-09-01", "100.00", program="WLHT"),
        event("2026-03-06", "renewal", amount="1000000.00 CNY", maturity="2027-03-06"),
    )
    assert fee_findings(run("wlht", "\n".join(body), rulebook)) == [
        ("fee.renewal", "贷款 L-1 续贷无需再缴纳助保金，但合同签订后至续贷前又收取了助保金；续贷应缴 0.00 元，多收 100.00 元")
    ]


# --------------------------------------------------------------------------------------
# Issue 9's filing-time work (the dues worked out as the register files each event, the
# one-rate path, the accounts made by a due or a payment, finish() handing them out),
# mutation-tested again after that change (docs/testing.md, "fees 与 deadlines 的重跑").

D = Decimal

CQ_RANGE = variant(
    "              2021-02-24: 0.025\n      fee.timing:\n",
    "              2021-02-24: 0.025\n          max_rate:\n            article: 第六条\n"
    "            values:\n              2021-02-24: 0.03\n      fee.timing:\n",
)


def dues_of(analysis: Analysis) -> list[tuple]:
    return [
        (d.rule, d.event.kind, d.base, d.rate, d.due, d.basis, d.most, d.base_label, d.years)
        for d in analysis.records.fees["L-1"].dues
    ]


def test_one_rate_dues_are_recorded_with_their_label_and_no_schedule() -> None:
    """Contract 3,000,000.00 × 2.5% = 75,000.00; increase 1,000,000.00 × 2.5% = 25,000.00;
    renewal free (0%): each due as the pages read it, the basis empty, no upper bound."""
    increase = event("2024-06-03", "increase", amount="1000000.00 CNY")
    analysis = cq(APPROVAL, CQ_PAID, CONTRACT, increase, pay("2024-06-03", "25000.00"), RENEWAL)
    assert fee_findings(analysis) == []
    assert dues_of(analysis) == [
        ("fee.rate", "contract", D("3000000.00"), D("0.025"), D("75000.00"), "", None, "签订合同贷款金额", 1),
        ("fee.increase", "increase", D("1000000.00"), D("0.025"), D("25000.00"), "", None, "增加的贷款金额", 1),
        ("fee.renewal", "renewal", D("3000000.00"), D("0"), D("0"), "", None, "续贷金额", 1),
    ]


@pytest.mark.parametrize(("paid", "over"), [("90000.00", None), ("90000.01", "0.01")])
def test_a_rate_with_an_upper_bound_is_not_a_one_rate_fee(paid: str, over: str | None) -> None:
    """A rules.yaml where CQGX's fee.rate is a range 2.5%–3% (two parameters): 3,000,000.00
    × 3% = 90,000.00 is the most allowed; a fen more is over the top."""
    analysis = run("cqgx", "\n".join((APPROVAL, pay("2024-03-05", paid), CONTRACT)), CQ_RANGE)
    assert dues_of(analysis) == [
        ("fee.rate", "contract", D("3000000.00"), D("0.025"), D("75000.00"), "", D("90000.00"), "签订合同贷款金额", 1)
    ]
    if over is None:
        assert fee_findings(analysis) == []
    else:
        assert fee_findings(analysis) == [
            ("fee.rate", "贷款 L-1 收取的助保金超过允许区间的上限；上限 90,000.00 元，实缴 90,000.01 元，超出 0.01 元")
        ]


def test_a_fee_paid_on_a_loan_with_nothing_due_yet_is_recorded() -> None:
    """The ledger has no contract, increase or renewal at all (nothing filed made a due):
    the payment is still the loan's, and nothing is due, so nothing is said."""
    analysis = cq(APPROVAL, pay("2024-03-05", "75000.00"))
    assert fee_findings(analysis) == []
    account = analysis.records.fees["L-1"]
    assert (account.loan.id, account.dues, str(account.paid)) == ("L-1", [], "75000.00")
    assert [(str(p.date), str(p.amount)) for p in account.payments] == [("2024-03-05", "75000.00")]


def test_a_loan_neither_charged_nor_paid_has_its_record() -> None:
    analysis = cq(APPROVAL)
    account = analysis.records.fees["L-1"]
    assert (account.loan.id, account.loan.program, account.dues, account.payments) == ("L-1", "CQGX", [], [])
    assert (str(account.due), str(account.paid)) == ("0.00", "0.00")


def test_the_filing_time_scratch_is_let_go_when_the_run_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run's Context sits in a reference cycle: finish() drops what it kept while the
    register was filed (the accounts live on in the records)."""
    from zhubaodai.checks import fees

    left: list[object] = []
    finish = fees.finish

    def watched(ctx) -> None:
        assert ctx.fee_watch is not None  # the contract made it
        finish(ctx)
        left.append(ctx.fee_watch)

    monkeypatch.setattr(fees, "finish", watched)
    analysis = cq(APPROVAL, CQ_PAID, CONTRACT)
    assert left == [None]
    assert str(analysis.records.fees["L-1"].due) == "75000.00"


def test_a_schedule_before_its_rate_s_first_version_points_at_the_contract() -> None:
    """WZS's rate is in force from 2020-09-26: a contract of 2020-09-20 has none (the
    schedule's path, not the one-rate one)."""
    body = (
        event("2020-09-01", "approval", program="WZS", amount="800000.00 CNY"),
        event("2020-09-20", "contract", amount="800000.00 CNY", maturity="2021-09-20", credit_line="1000000.00 CNY"),
    )
    analysis = run("wzs", "\n".join(body))
    assert [(f.rule, f.message) for f in analysis.findings if f.rule == "fee.rate"] == [
        ("fee.rate", "参数「programs.WZS.rules.fee.rate.params.rate」在 2020-09-20 尚无生效版本（最早版本自 2020-09-26 起施行），无法按规则核对")
    ]
    assert [p[:5] for p in places(analysis) if p[0] == "fee.rate"] == [("fee.rate", "WZS", "2020-09-20", 9, None)]
    assert analysis.records.fees["L-1"].dues == []


# Direct calls: schedule_rate's own one-rate path (the walk's _add_due takes that path
# itself and never asks schedule_rate for a one-rate fee) and term_years on an event that
# is not the loan's latest (the walk only asks about the event being filed).


def cq_loan(rulebook=RULEBOOK, *parts: str):
    from zhubaodai.core import engine

    analysis = run("cqgx", "\n".join(parts), rulebook)
    return engine.Context(rulebook, engine.Register()), analysis.register.loans["L-1"]


def test_schedule_rate_of_a_one_rate_fee() -> None:
    from zhubaodai.checks.fees import Schedule
    from zhubaodai.checks.fees import schedule_rate

    increase = event("2024-06-03", "increase", amount="1000000.00 CNY")
    ctx, loan = cq_loan(RULEBOOK, APPROVAL, CONTRACT, increase, RENEWAL)
    _, contract, added, renewal = loan.events
    assert schedule_rate(ctx, loan, "fee.rate", contract) == Schedule(D("3000000.00"), "签订合同贷款金额", D("0.025"), 1, "", None)
    assert schedule_rate(ctx, loan, "fee.increase", added) == Schedule(D("1000000.00"), "增加的贷款金额", D("0.025"), 1, "", None)
    assert schedule_rate(ctx, loan, "fee.renewal", renewal) == Schedule(D("3000000.00"), "续贷金额", D("0"), 1, "", None)
    assert ctx.findings == []


def test_schedule_rate_of_a_range_keeps_its_top() -> None:
    from zhubaodai.checks.fees import Schedule
    from zhubaodai.checks.fees import schedule_rate

    ctx, loan = cq_loan(CQ_RANGE, APPROVAL, CONTRACT)
    assert schedule_rate(ctx, loan, "fee.rate", loan.events[1]) == Schedule(
        D("3000000.00"), "签订合同贷款金额", D("0.025"), 1, "", D("90000.00")
    )


def test_schedule_rate_before_the_rate_s_first_version_reports_at_the_contract() -> None:
    from zhubaodai.checks.fees import schedule_rate

    body = (
        event("2021-02-20", "approval", amount="100000.00 CNY"),
        event("2021-02-23", "contract", amount="100000.00 CNY", maturity="2022-02-23"),
    )
    ctx, loan = cq_loan(RULEBOOK, *body)
    assert schedule_rate(ctx, loan, "fee.rate", loan.events[1]) is None
    assert [(f.rule, f.program, str(f.date), f.lineno, f.message) for f in ctx.findings] == [
        ("fee.rate", "CQGX", "2021-02-23", 9,
         "参数「programs.CQGX.rules.fee.rate.params.rate」在 2021-02-23 尚无生效版本（最早版本自 2021-02-24 起施行），无法按规则核对")
    ]


def loan_of(*events: tuple[str, str, dict]):
    """A GSBY loan of bare events (kind, day, data): term_years reads only their data."""
    import datetime

    from beancount.core.data import Custom

    from zhubaodai.core.register import Event
    from zhubaodai.core.register import Loan

    made = [
        Event(kind, "L-1", data, Custom({}, datetime.date.fromisoformat(day), "loan", [kind]))
        for kind, day, data in events
    ]
    return Loan("L-1", "GSBY", "E-1", made), made


def test_term_years_of_an_earlier_event_reads_no_later_one() -> None:
    """The approval's 24 months serve the contract of the same day; the increase's 36
    months, filed later, do not: 2 loan-years, not 3."""
    from zhubaodai.checks.fees import term_years

    loan, (_, contract, increase) = loan_of(
        ("approval", "2024-03-01", {"term_months": 24}),
        ("contract", "2024-03-01", {}),
        ("increase", "2024-06-01", {"term_months": 36}),
    )
    assert term_years(loan, contract) == 2
    assert term_years(loan, increase) == 3


def test_term_years_of_an_earlier_event_takes_its_own_term_over_the_approval_s() -> None:
    from zhubaodai.checks.fees import term_years

    loan, (approval, contract, _) = loan_of(
        ("approval", "2024-03-01", {"term_months": 12}),
        ("contract", "2024-03-08", {"term_months": 24}),
        ("increase", "2024-06-01", {"term_months": 36}),
    )
    assert (term_years(loan, approval), term_years(loan, contract)) == (1, 2)


def test_term_years_of_an_earlier_event_without_a_term_counts_its_maturity() -> None:
    """No term_months up to the contract (the increase's comes later): its maturity two
    years on gives 2 loan-years."""
    import datetime

    from zhubaodai.checks.fees import term_years

    loan, (_, contract, _) = loan_of(
        ("approval", "2024-03-01", {}),
        ("contract", "2024-03-08", {"maturity": datetime.date(2026, 3, 8)}),
        ("increase", "2024-06-01", {"term_months": 36}),
    )
    assert term_years(loan, contract) == 2


def test_term_years_ignores_a_later_event_of_the_same_day() -> None:
    from zhubaodai.checks.fees import term_years

    loan, (_, contract, _, _) = loan_of(
        ("approval", "2024-03-01", {}),
        ("contract", "2024-03-08", {"term_months": 12}),
        ("increase", "2024-03-08", {"term_months": 36}),
        ("renewal", "2025-03-08", {"term_months": 12}),
    )
    assert term_years(loan, contract) == 1
