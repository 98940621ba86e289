"""zhubaodai.checks.pool against hand-computed figures and the exact Chinese texts (issue #14).

Each test runs a tiny ledger through the engine (or calls a pure function) and compares
the finding's message and figures with literals written here, so that a changed
comparison, key or argument in the module shows up as a failing test.

The base ledger (WLHT): 700,000.00 into the risk fund and 100,000.00 into the guarantee
fund on 2024-03-23. Over 2024-03-23..2024-06-20 (90 days) the 积数 are
9,000,000.00 and 63,000,000.00: an interest of 800.00 splits 100.00 / 700.00.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

from beancount import loader

from zhubaodai.checks.pool import InterestSplit
from zhubaodai.checks.pool import interest_period_end
from zhubaodai.checks.pool import interest_split
from zhubaodai.checks.pool import split_interest
from zhubaodai.core.engine import Analysis
from zhubaodai.core.engine import analyse
from zhubaodai.core.findings import FORMAT_RULE
from zhubaodai.core.rules import load_rules
from zhubaodai.core.rules import parse_rules

ROOT = Path(__file__).resolve().parent.parent
RULES = load_rules(ROOT / "rules.yaml")
D = Decimal
day = datetime.date.fromisoformat

WL_BASE = f"""\
option "operating_currency" "CNY"
include "{ROOT / "tests" / "ledgers" / "common" / "wlht.beancount"}"
2024-01-02 custom "program" "open" "WLHT"
2024-03-23 * "财政局" "注入风险补偿金"
  Assets:WLHT:Pool:Risk          700000.00 CNY
  Income:WLHT:Risk:Injection    -700000.00 CNY
2024-03-23 * "甲公司" "缴纳助保金"
  Assets:WLHT:Pool:Guarantee     100000.00 CNY
  Income:WLHT:Guarantee:Fees    -100000.00 CNY
"""


def run(text: str) -> Analysis:
    entries, errors, _ = loader.load_string(text)
    assert errors == [], errors
    return analyse(entries, RULES)


def credit(date: str, g: str, r: str, income_g: str, income_r: str, meta: str = "", extra: str = "") -> str:
    return (
        f'{date} * "建设银行" "结息"\n{meta}'
        f"  Assets:WLHT:Pool:Guarantee       {g} CNY\n"
        f"  Assets:WLHT:Pool:Risk            {r} CNY\n{extra}"
        f"  Income:WLHT:Guarantee:Interest  -{income_g} CNY\n"
        f"  Income:WLHT:Risk:Interest       -{income_r} CNY\n"
    )


def found(analysis: Analysis, rule: str) -> list[tuple[str, str | None, tuple]]:
    """The rule's findings as (message, program, figures); each points at its entry."""
    chosen = [f for f in analysis.findings if f.rule == rule]
    assert all(f.filename == "<string>" and f.lineno is not None and f.date is not None for f in chosen), chosen
    return [(f.message, f.program, f.figures) for f in chosen]


# --- the split by 积数, through the engine -------------------------------------------------


def test_a_split_off_by_a_fen_names_period_jishu_and_each_figure() -> None:
    analysis = run(WL_BASE + credit("2024-06-21", "100.01", "699.99", "100.00", "700.00"))
    assert found(analysis, "pool.interest_split") == [
        (
            "孳息 800.00 元应按计息期 2024-03-23 至 2024-06-20 的积数分配"
            "（助保金积数 9,000,000.00，风险补偿金积数 63,000,000.00）"
            "；助保金应分 100.00 元，助保金实记 100.01 元，风险补偿金应分 700.00 元，风险补偿金实记 699.99 元",
            "WLHT",
            (("助保金应分", D("100.00")), ("助保金实记", D("100.01")),
             ("风险补偿金应分", D("700.00")), ("风险补偿金实记", D("699.99"))),
        )
    ]
    [allocation] = analysis.records.interest
    assert not allocation.ok


def test_the_total_is_the_sum_of_both_income_legs() -> None:
    # The income is booked 300 / 500 (not as the funds' split): the total 800.00 counts.
    analysis = run(WL_BASE + credit("2024-06-21", "100.00", "700.00", "300.00", "500.00"))
    assert found(analysis, "pool.interest_split") == []
    [allocation] = analysis.records.interest
    assert (allocation.program, allocation.entry.date, allocation.total) == ("WLHT", day("2024-06-21"), D("800.00"))
    assert (allocation.period_start, allocation.period_end) == (day("2024-03-23"), day("2024-06-20"))
    assert (allocation.jishu_guarantee, allocation.jishu_risk) == (D("9000000.00"), D("63000000.00"))
    assert (allocation.expected_guarantee, allocation.expected_risk) == (D("100.00"), D("700.00"))
    assert (allocation.actual_guarantee, allocation.actual_risk) == (D("100.00"), D("700.00"))
    assert allocation.ok


def test_the_expected_shares_are_compared_fund_by_fund() -> None:
    # The guarantee fund right, the risk fund wrong (sum right through a swapped pair).
    analysis = run(WL_BASE + credit("2024-06-21", "700.00", "100.00", "100.00", "700.00"))
    assert found(analysis, "pool.interest_split")[0][2] == (
        ("助保金应分", D("100.00")), ("助保金实记", D("700.00")),
        ("风险补偿金应分", D("700.00")), ("风险补偿金实记", D("100.00")),
    )


# A second guarantee payment of 100,000.00 on 2024-06-11: over 2024-03-23..06-20 the
# guarantee 积数 is 100,000 × 80 + 200,000 × 10 = 10,000,000.00 and 800.00 splits
# 800 × 10/73 = 109.589… → 109.59 / 690.41 (largest remainder); up to 06-10 it is
# 8,000,000.00 : 56,000,000.00 → 100.00 / 700.00; 06-11..06-20 alone 2,000,000.00 :
# 7,000,000.00 → 900.00 splits 200.00 / 700.00.
SECOND_FEE = """\
2024-06-11 * "甲公司" "缴纳助保金"
  Assets:WLHT:Pool:Guarantee     100000.00 CNY
  Income:WLHT:Guarantee:Fees    -100000.00 CNY
"""


def test_without_period_end_the_period_ends_the_day_before_the_credit() -> None:
    analysis = run(WL_BASE + SECOND_FEE + credit("2024-06-21", "100.00", "700.00", "100.00", "700.00"))
    assert found(analysis, "pool.interest_split") == [
        (
            "孳息 800.00 元应按计息期 2024-03-23 至 2024-06-20 的积数分配"
            "（助保金积数 10,000,000.00，风险补偿金积数 63,000,000.00）"
            "；助保金应分 109.59 元，助保金实记 100.00 元，风险补偿金应分 690.41 元，风险补偿金实记 700.00 元",
            "WLHT",
            (("助保金应分", D("109.59")), ("助保金实记", D("100.00")),
             ("风险补偿金应分", D("690.41")), ("风险补偿金实记", D("700.00"))),
        )
    ]


def test_period_end_metadata_ends_the_period() -> None:
    meta = "  period_end: 2024-06-10\n"
    analysis = run(WL_BASE + SECOND_FEE + credit("2024-06-21", "100.00", "700.00", "100.00", "700.00", meta))
    assert found(analysis, "pool.interest_split") == []
    assert [(a.period_start, a.period_end) for a in analysis.records.interest] == [(day("2024-03-23"), day("2024-06-10"))]


def test_period_start_metadata_starts_the_period() -> None:
    meta = "  period_start: 2024-06-11\n  period_end: 2024-06-20\n"
    analysis = run(WL_BASE + SECOND_FEE + credit("2024-06-21", "200.00", "700.00", "200.00", "700.00", meta))
    assert found(analysis, "pool.interest_split") == []
    [allocation] = analysis.records.interest
    assert (allocation.period_start, allocation.period_end) == (day("2024-06-11"), day("2024-06-20"))
    assert (allocation.jishu_guarantee, allocation.jishu_risk) == (D("2000000.00"), D("7000000.00"))


def test_the_next_period_starts_the_day_after_the_previous_end() -> None:
    # Q2 with period_end 2024-06-10, then a credit on 2024-09-21: 2024-06-11..2024-09-20
    # (102 days) at 200,000 / 700,000, plus the Q2 credit 100.00 / 700.00 from 06-21 (92
    # days): 20,409,200.00 : 71,464,400.00; 900.00 → 199.928… / 700.071… → 199.93 / 700.07.
    analysis = run(
        WL_BASE + SECOND_FEE
        + credit("2024-06-21", "100.00", "700.00", "100.00", "700.00", "  period_end: 2024-06-10\n")
        + credit("2024-09-21", "199.93", "700.07", "199.93", "700.07")
    )
    assert found(analysis, "pool.interest_split") == []
    second = analysis.records.interest[1]
    assert (second.period_start, second.period_end) == (day("2024-06-11"), day("2024-09-20"))
    # The Q2 credit itself (100.00 + 700.00 on 06-21) is in the fund from 06-21 on.
    assert (second.jishu_guarantee, second.jishu_risk) == (
        D("200000.00") * 102 + D("100.00") * 92,
        D("700000.00") * 102 + D("700.00") * 92,
    )


def test_a_period_date_that_is_not_a_date_is_a_format_error_naming_the_key() -> None:
    for key in ("period_end", "period_start"):
        meta = f'  {key}: "2024-06-20"\n'
        analysis = run(WL_BASE + credit("2024-06-21", "100.00", "700.00", "100.00", "700.00", meta))
        assert [f for f in found(analysis, FORMAT_RULE) if f[0].startswith("元数据")] == [
            (f"元数据 {key} 应为日期，如 {key}: 2024-03-20", None, ())
        ]
        # The credit is then split over the default period, and is right.
        assert found(analysis, "pool.interest_split") == []
        assert [(a.period_start, a.period_end) for a in analysis.records.interest] == [
            (day("2024-03-23"), day("2024-06-20"))
        ]


def test_interest_not_wholly_credited_to_the_funds() -> None:
    extra = "  Assets:WLHT:Pool:Suspense        100.00 CNY\n"
    analysis = run(WL_BASE + credit("2024-06-21", "100.00", "600.00", "100.00", "700.00", extra=extra))
    assert found(analysis, "pool.interest_split") == [
        ("孳息应全部分别计入助保金与风险补偿金；孳息总额 800.00 元，计入两项资金 700.00 元", "WLHT", (("孳息总额", D("800.00")), ("计入两项资金", D("700.00"))))
    ]
    assert analysis.records.interest == []


def test_interest_before_any_fund_moved_cannot_be_split() -> None:
    text = WL_BASE.split("2024-03-23 *")[0] + credit("2024-03-01", "1.00", "1.00", "1.00", "1.00")
    analysis = run(text)
    assert found(analysis, "pool.interest_split") == [
        (
            "计息期 2024-03-01 至 2024-02-29 两项资金积数为 0.00 与 0.00，"
            "无法按积数分配孳息（请核对计息期 period_start/period_end）；孳息总额 2.00 元",
            "WLHT",
            (("孳息总额", D("2.00")),),
        )
    ]
    assert analysis.records.interest == []


def test_interest_off_the_fen_is_left_to_the_format_check_but_ends_the_period() -> None:
    analysis = run(
        WL_BASE
        + credit("2024-06-21", "100.005", "700.00", "100.005", "700.00")
        + credit("2024-09-21", "100.01", "699.99", "100.01", "699.99")
    )
    [only] = found(analysis, "pool.interest_split")
    assert only[0].startswith("孳息 800.00 元应按计息期 2024-06-21 至 2024-09-20 的积数分配")
    assert [(a.period_start, a.period_end) for a in analysis.records.interest] == [(day("2024-06-21"), day("2024-09-20"))]


RISK_ONLY = WL_BASE.split('2024-03-23 * "甲公司"')[0]
GUARANTEE_ONLY = WL_BASE.split('2024-03-23 * "财政局"')[0] + """\
2024-03-23 * "甲公司" "缴纳助保金"
  Assets:WLHT:Pool:Guarantee     100000.00 CNY
  Income:WLHT:Guarantee:Fees    -100000.00 CNY
"""


def test_one_fund_alone_takes_the_whole_interest() -> None:
    analysis = run(RISK_ONLY + credit("2024-06-21", "0.00", "700.00", "0.00", "700.00"))
    assert found(analysis, "pool.interest_split") == []
    assert [(a.expected_guarantee, a.expected_risk) for a in analysis.records.interest] == [(D("0.00"), D("700.00"))]
    analysis = run(GUARANTEE_ONLY + credit("2024-06-21", "100.00", "0.00", "100.00", "0.00"))
    assert found(analysis, "pool.interest_split") == []
    assert [(a.expected_guarantee, a.expected_risk) for a in analysis.records.interest] == [(D("100.00"), D("0.00"))]


# --- the pure functions ---------------------------------------------------------------------


class Fund:
    """A fund whose 积数 is a fixed balance times the days, from ``first_day``."""

    def __init__(self, first_day: datetime.date | None, balance: str) -> None:
        self.first_day = first_day
        self.balance = D(balance)
        self.asked: list[tuple[datetime.date, datetime.date]] = []

    def jishu(self, start: datetime.date, end: datetime.date) -> Decimal:
        self.asked.append((start, end))
        return self.balance * ((end - start).days + 1)


def test_interest_split_period_defaults_and_overrides() -> None:
    g, r = Fund(day("2024-03-25"), "100"), Fund(day("2024-03-23"), "700")
    split = interest_split(g, r, None, day("2024-06-21"), D("800.00"))
    assert split == InterestSplit(D("800.00"), day("2024-03-23"), day("2024-06-20"), D("9000"), D("63000"))
    assert g.asked == r.asked == [(day("2024-03-23"), day("2024-06-20"))]
    # The previous settlement's end wins over the first days.
    split = interest_split(g, r, day("2024-06-20"), day("2024-09-21"), D("1"))
    assert (split.period_start, split.period_end) == (day("2024-06-21"), day("2024-09-20"))
    # Overrides: period_start and period_end.
    split = interest_split(
        g, r, day("2024-06-20"), day("2024-09-21"), D("1"), period_start=day("2024-07-01"), period_end=day("2024-07-10")
    )
    assert (split.period_start, split.period_end, split.jishu_guarantee, split.jishu_risk) == (
        day("2024-07-01"), day("2024-07-10"), D("1000"), D("7000"),
    )
    # One fund never moved: the other's first day; neither: the credit's day.
    split = interest_split(Fund(None, "0"), Fund(day("2024-04-01"), "1"), None, day("2024-06-21"), D("1"))
    assert split.period_start == day("2024-04-01")
    split = interest_split(Fund(day("2024-04-02"), "1"), Fund(None, "0"), None, day("2024-06-21"), D("1"))
    assert split.period_start == day("2024-04-02")
    split = interest_split(Fund(None, "0"), Fund(None, "0"), None, day("2024-06-21"), D("1"))
    assert (split.period_start, split.period_end) == (day("2024-06-21"), day("2024-06-20"))


def test_interest_period_end() -> None:
    assert interest_period_end(day("2024-03-01")) == day("2024-02-29")
    assert interest_period_end(day("2024-03-01"), day("2024-02-20")) == day("2024-02-20")


def test_split_problem_and_shares() -> None:
    def split(jg: str, jr: str) -> InterestSplit:
        return InterestSplit(D("10.00"), day("2024-01-01"), day("2024-01-31"), D(jg), D(jr))

    assert split("0", "5").problem is None
    assert split("5", "0").problem is None
    assert split("1", "2").shares == (D("3.33"), D("6.67"))
    assert split("2", "1").shares == (D("6.67"), D("3.33"))
    message = (
        "计息期 2024-01-01 至 2024-01-31 两项资金积数为 {} 与 {}，无法按积数分配孳息（请核对计息期 period_start/period_end）"
    )
    assert split("-1", "5").problem == message.format("-1.00", "5.00")
    assert split("5", "-1").problem == message.format("5.00", "-1.00")
    assert split("0", "0").problem == message.format("0.00", "0.00")
    assert split("0", "0").problem_figures == {"孳息总额": D("10.00")}
    assert split_interest(D("0.01"), D("1"), D("1")) in ((D("0.01"), D("0.00")), (D("0.00"), D("0.01")))
    assert sum(split_interest(D("0.01"), D("1"), D("1"))) == D("0.01")


# --- pool.no_withdrawal and fee.no_refund (WLHT) --------------------------------------------


def test_a_withdrawal_from_both_funds_names_them_and_the_sum() -> None:
    text = WL_BASE + """\
2024-04-01 * "某人" "提取"
  Assets:WLHT:Pool:Guarantee    -1000.00 CNY
  Assets:WLHT:Pool:Risk          -234.56 CNY
  Assets:Cash:Outside            1234.56 CNY
"""
    assert found(run(text), "pool.no_withdrawal") == [
        ("专户内助保金、风险补偿金本金除代偿和合作终止后的处置外不得提取或支用；提取金额 1,234.56 元", "WLHT",
         (("提取金额", D("1234.56")),))
    ]


def test_a_withdrawal_from_the_risk_fund_alone_names_it() -> None:
    text = WL_BASE + """\
2024-04-01 * "某人" "提取"
  Assets:WLHT:Pool:Risk          -0.01 CNY
  Assets:Cash:Outside             0.01 CNY
"""
    assert found(run(text), "pool.no_withdrawal") == [
        ("专户内风险补偿金本金除代偿和合作终止后的处置外不得提取或支用；提取金额 0.01 元", "WLHT",
         (("提取金额", D("0.01")),))
    ]


def test_money_into_the_pool_from_outside_is_no_withdrawal() -> None:
    text = WL_BASE + """\
2024-04-01 * "某人" "存入"
  Assets:WLHT:Pool:Risk           0.01 CNY
  Assets:Cash:Outside            -0.01 CNY
"""
    assert found(run(text), "pool.no_withdrawal") == []


def test_a_transfer_between_the_funds_either_way() -> None:
    small = WL_BASE + """\
2024-04-01 * "财政局" "划转"
  Assets:WLHT:Pool:Guarantee     -0.50 CNY
  Assets:WLHT:Pool:Risk           0.50 CNY
"""
    assert found(run(small), "pool.no_withdrawal") == [
        ("助保金与风险补偿金分别核算，两项资金之间不得相互划转；划出金额 0.50 元", "WLHT", (("划出金额", D("0.50")),))
    ]
    for out, into in (("Guarantee", "Risk"), ("Risk", "Guarantee")):
        text = WL_BASE + f"""\
2024-04-01 * "财政局" "划转"
  Assets:WLHT:Pool:{out}     -500.00 CNY
  Assets:WLHT:Pool:{into}     500.00 CNY
"""
        assert found(run(text), "pool.no_withdrawal") == [
            ("助保金与风险补偿金分别核算，两项资金之间不得相互划转；划出金额 500.00 元", "WLHT", (("划出金额", D("500.00")),))
        ]


def test_a_compensation_whose_fund_decrease_differs_from_its_expense() -> None:
    text = WL_BASE + """\
2024-04-01 * "代偿"
  Expenses:WLHT:Guarantee:Compensation   1000.00 CNY
  Expenses:WLHT:Risk:Compensation         300.00 CNY
  Assets:WLHT:Pool:Guarantee             -900.00 CNY
  Assets:WLHT:Pool:Risk                  -300.00 CNY
  Assets:Cash:Outside                    -100.00 CNY
"""
    assert (
        "助保金减少额应等于其代偿支出；资金减少 900.00 元，代偿支出 1,000.00 元，差额 -100.00 元", "WLHT",
        (("资金减少", D("900.00")), ("代偿支出", D("1000.00")), ("差额", D("-100.00"))),
    ) in found(run(text), "pool.no_withdrawal")
    text = WL_BASE + """\
2024-04-01 * "代偿"
  Expenses:WLHT:Risk:Compensation         300.00 CNY
  Assets:WLHT:Pool:Risk                  -400.00 CNY
  Assets:Cash:Outside                     100.00 CNY
"""
    assert (
        "风险补偿金减少额应等于其代偿支出；资金减少 400.00 元，代偿支出 300.00 元，差额 100.00 元", "WLHT",
        (("资金减少", D("400.00")), ("代偿支出", D("300.00")), ("差额", D("100.00"))),
    ) in found(run(text), "pool.no_withdrawal")


DISPOSAL = """\
2025-02-01 * "金融办" "合作终止后处置"
  Equity:WLHT:Disposal            1000.00 CNY
  Assets:WLHT:Pool:Guarantee     -1000.00 CNY
"""
TERMINATE = '2025-01-10 custom "program" "terminate" "WLHT"\n  letter: "终止通知"\n'


def wl_loans(*ids: str) -> str:
    return "".join(
        f'2024-03-01 custom "loan" "approval" "{i}"\n  program: "WLHT"\n  enterprise: "E-1"\n'
        f'  amount: 1000.00 CNY\n  letter: "函"\n'
        f'2024-03-02 custom "loan" "contract" "{i}"\n  amount: 1000.00 CNY\n'
        f'2024-03-03 custom "loan" "disbursement" "{i}"\n  amount: 1000.00 CNY\n'
        for i in ids
    ) + '2024-01-05 custom "enterprise" "register" "E-1"\n  program: "WLHT"\n  name: "甲"\n  size: "小型"\n'


def test_a_disposal_before_termination() -> None:
    assert found(run(WL_BASE + DISPOSAL), "pool.no_withdrawal") == [
        ("合作尚未终止（无 program terminate 登记），不得处置专户资金：助保金；处置金额 1,000.00 元", "WLHT",
         (("处置金额", D("1000.00")),))
    ]


def test_a_disposal_after_termination_with_loans_open_names_at_most_five() -> None:
    one = run(WL_BASE + wl_loans("WL-9") + TERMINATE + DISPOSAL)
    assert found(one, "pool.no_withdrawal") == [
        ("尚有 1 笔贷款本息未结清（WL-9），不得处置专户资金；处置金额 1,000.00 元", "WLHT", (("处置金额", D("1000.00")),))
    ]
    five = run(WL_BASE + wl_loans("WL-5", "WL-4", "WL-3", "WL-2", "WL-1") + TERMINATE + DISPOSAL)
    assert found(five, "pool.no_withdrawal")[0][0].startswith("尚有 5 笔贷款本息未结清（WL-1、WL-2、WL-3、WL-4、WL-5），")
    six = run(WL_BASE + wl_loans("WL-6", "WL-5", "WL-4", "WL-3", "WL-2", "WL-1") + TERMINATE + DISPOSAL)
    assert found(six, "pool.no_withdrawal")[0][0].startswith("尚有 6 笔贷款本息未结清（WL-1、WL-2、WL-3、WL-4、WL-5等），")


def test_a_disposal_after_termination_with_every_loan_settled_passes() -> None:
    settled = '2025-01-20 custom "loan" "repayment" "WL-9"\n  amount: 1000.00 CNY\n'
    assert found(run(WL_BASE + wl_loans("WL-9") + settled + TERMINATE + DISPOSAL), "pool.no_withdrawal") == []
    # Repaid the day after the disposal: still open on the day.
    late = '2025-02-02 custom "loan" "repayment" "WL-9"\n  amount: 1000.00 CNY\n'
    assert len(found(run(WL_BASE + wl_loans("WL-9") + late + TERMINATE + DISPOSAL), "pool.no_withdrawal")) == 1


def test_a_fee_refund_names_the_amount_and_the_loan() -> None:
    text = WL_BASE + wl_loans("WL-9") + """\
2024-04-01 * "甲" "退还助保金" ^WL-9
  Income:WLHT:Guarantee:Fees       20.00 CNY
  Assets:WLHT:Pool:Guarantee      -20.00 CNY
"""
    analysis = run(text)
    assert found(analysis, "fee.no_refund") == [
        ("助保金不予退还，不得从专户向企业退款；退还金额 20.00 元", "WLHT", (("退还金额", D("20.00")),))
    ]
    assert [f.loan for f in analysis.findings if f.rule == "fee.no_refund"] == ["WL-9"]
    # A refund of one fen is a refund.
    fen = run(text.replace("20.00", "0.01"))
    assert [f.figures for f in fen.findings if f.rule == "fee.no_refund"] == [(("退还金额", D("0.01")),)]
    assert found(analysis, "pool.no_withdrawal") == []  # a refund is reported once, as a refund
    unlinked = run(text.replace(" ^WL-9", ""))
    assert [f.loan for f in unlinked.findings if f.rule == "fee.no_refund"] == [None]


def test_unallocated_money_on_the_pool_accounts_is_a_warning_per_account() -> None:
    text = WL_BASE + """\
2024-04-01 * "银行" "待查"
  Assets:WLHT:Pool:Suspense        30.00 CNY
  Assets:WLHT:Pool                 12.00 CNY
  Assets:Cash:Outside             -42.00 CNY
2024-04-02 * "银行" "查明一部分"
  Assets:WLHT:Pool:Suspense       -10.00 CNY
  Assets:Cash:Outside              10.00 CNY
"""
    analysis = run(text)
    got = [(f.message, f.severity, f.date, f.figures) for f in analysis.findings if f.rule == "pool.suspense"]
    assert got == [
        ("专户账户 Assets:WLHT:Pool 尚有未归属两项资金的款项，应查明后计入助保金或风险补偿金；未归属余额 12.00 元",
         "warning", day("2024-04-01"), (("未归属余额", D("12.00")),)),
        ("专户账户 Assets:WLHT:Pool:Suspense 尚有未归属两项资金的款项，应查明后计入助保金或风险补偿金；未归属余额 20.00 元",
         "warning", day("2024-04-02"), (("未归属余额", D("20.00")),)),
    ]
    cleared = text + '2024-04-03 * "银行" "查明"\n  Assets:WLHT:Pool:Suspense  -20.00 CNY\n  Assets:WLHT:Pool  -12.00 CNY\n  Assets:Cash:Outside  32.00 CNY\n'
    assert found(run(cleared), "pool.suspense") == []


# --- outflow.subsidy (HKJB: 1% of the guaranteed amount, 5,000,000.00 a calendar year) -------

HK_BASE = f"""\
option "operating_currency" "CNY"
include "{ROOT / "tests" / "ledgers" / "common" / "hkjb.beancount"}"
2020-12-01 open Assets:Cash:Outside CNY
2021-01-04 * "海口市财政局" "拨入补偿资金"
  Assets:HKJB:Pool:Compensation            50000000.00 CNY
  Income:HKJB:Compensation:Injection      -50000000.00 CNY
2021-01-05 custom "enterprise" "register" "E-HK"
  program: "HKJB"
  name: "海口某公司"
  size: "小型"
2021-02-01 custom "loan" "approval" "HK-1"
  program: "HKJB"
  enterprise: "E-HK"
  amount: 1000000.00 CNY
  letter: "函"
2021-02-03 custom "loan" "contract" "HK-1"
  amount: 1000000.00 CNY
2021-03-01 custom "loan" "increase" "HK-1"
  amount: 234567.89 CNY
2021-02-01 custom "loan" "approval" "HK-2"
  program: "HKJB"
  enterprise: "E-HK"
  amount: 600000000.00 CNY
  letter: "函"
2021-02-03 custom "loan" "contract" "HK-2"
  amount: 600000000.00 CNY
"""


def subsidy(date: str, amount: str, links: str = " ^HK-1", fund: str = "", expense: str | None = None) -> str:
    legs = fund or f"  Assets:HKJB:Pool:Compensation   -{amount} CNY\n"
    return f'{date} * "海口市融资担保公司" "担保费奖补"{links}\n{legs}  Expenses:HKJB:Subsidy   {expense or amount} CNY\n'


def hk_found(analysis: Analysis, rule: str) -> list[tuple[str, str | None, tuple]]:
    """The rule's findings as (message, loan, figures); each is HKJB's and points at its entry."""
    chosen = [f for f in analysis.findings if f.rule == rule]
    assert all(f.program == "HKJB" and f.lineno is not None and f.date is not None for f in chosen), chosen
    return [(f.message, f.loan, f.figures) for f in chosen]


def test_a_subsidy_within_its_rate_over_several_payments_passes_and_is_recorded() -> None:
    # 1,000,000.00 + 234,567.89 = 1,234,567.89 × 1% = 12,345.6789 → 12,345.68 (half-up).
    analysis = run(HK_BASE + subsidy("2021-04-01", "10000.00") + subsidy("2021-04-02", "2345.68"))
    assert hk_found(analysis, "outflow.subsidy") == []
    assert hk_found(analysis, "pool.no_withdrawal") == []
    outflows = analysis.programs["HKJB"].outflows
    assert [(o.program, o.rule, o.amount, o.year_total, o.annual_cap, o.loan, o.base, o.allowed) for o in outflows] == [
        ("HKJB", "outflow.subsidy", D("10000.00"), D("10000.00"), D("5000000.00"), "HK-1", D("1234567.89"), D("12345.68")),
        ("HKJB", "outflow.subsidy", D("2345.68"), D("12345.68"), D("5000000.00"), "HK-1", D("1234567.89"), D("12345.68")),
    ]


def test_a_subsidy_a_fen_over_the_rate_names_due_total_and_excess() -> None:
    analysis = run(HK_BASE + subsidy("2021-04-01", "10000.00") + subsidy("2021-04-02", "2345.69"))
    assert hk_found(analysis, "outflow.subsidy") == [
        ("贷款 HK-1 的担保费奖补超过担保金额的 1%；应奖补 12,345.68 元，累计奖补 12,345.69 元，超出 0.01 元", "HK-1",
         (("应奖补", D("12345.68")), ("累计奖补", D("12345.69")), ("超出", D("0.01")))),
    ]


def test_an_increase_after_the_subsidy_does_not_count_yet() -> None:
    # On 2021-02-15 the guaranteed amount is the contract's 1,000,000.00: 10,000.00 at most.
    analysis = run(HK_BASE + subsidy("2021-02-15", "10000.01"))
    assert hk_found(analysis, "outflow.subsidy")[0][2] == (
        ("应奖补", D("10000.00")), ("累计奖补", D("10000.01")), ("超出", D("0.01")),
    )
    assert hk_found(run(HK_BASE + subsidy("2021-02-15", "10000.00")), "outflow.subsidy") == []
    # On the increase's own day it counts.
    assert hk_found(run(HK_BASE + subsidy("2021-03-01", "12345.68")), "outflow.subsidy") == []


def test_subsidies_of_other_loans_do_not_count_against_this_one() -> None:
    analysis = run(HK_BASE + subsidy("2021-04-01", "1000.00", " ^HK-2") + subsidy("2021-04-02", "12345.68"))
    assert hk_found(analysis, "outflow.subsidy") == []


def test_a_subsidy_must_link_exactly_one_loan() -> None:
    for links, count in (("", 0), (" ^HK-1 ^HK-2", 2)):
        analysis = run(HK_BASE + subsidy("2021-04-01", "100.00", links))
        assert hk_found(analysis, "outflow.subsidy") == [
            (f"担保费奖补应以链接 ^贷款编号 关联本项目的唯一一笔贷款（按其担保金额计算），此笔关联了 {count} 笔；奖补金额 100.00 元",
             None, (("奖补金额", D("100.00")),))
        ]
        assert analysis.programs["HKJB"].outflows == []


def test_the_annual_cap_is_per_calendar_year_and_exact_at_the_cap() -> None:
    at_cap = HK_BASE + subsidy("2021-04-01", "4000000.00", " ^HK-2") + subsidy("2021-12-31", "1000000.00", " ^HK-2")
    assert hk_found(run(at_cap), "outflow.subsidy") == []
    over = run(at_cap + subsidy("2021-12-31", "0.01", " ^HK-1"))
    assert hk_found(over, "outflow.subsidy") == [
        ("2021 年度担保费奖补累计超过年度总额上限；年度上限 5,000,000.00 元，年度累计 5,000,000.01 元，超出 0.01 元", "HK-1",
         (("年度上限", D("5000000.00")), ("年度累计", D("5000000.01")), ("超出", D("0.01")))),
    ]
    next_year = run(at_cap + subsidy("2022-01-01", "1000.00", " ^HK-1"))
    assert hk_found(next_year, "outflow.subsidy") == []
    assert [o.year_total for o in next_year.programs["HKJB"].outflows] == [
        D("4000000.00"), D("5000000.00"), D("1000.00"),
    ]


def test_an_outflow_must_equal_the_funds_decrease() -> None:
    short = subsidy("2021-04-01", "100.00", fund="  Assets:HKJB:Pool:Compensation   -90.00 CNY\n  Assets:Cash:Outside   -10.00 CNY\n")
    assert hk_found(run(HK_BASE + short), "pool.no_withdrawal") == [
        ("担保费奖补（比例与年度总额上限）的支出额应等于专户资金的减少额；资金减少 90.00 元，支出 100.00 元，差额 -10.00 元",
         None, (("资金减少", D("90.00")), ("支出", D("100.00")), ("差额", D("-10.00")))),
    ]
    # The right total, but one fund gains: a transfer dressed as a subsidy.
    for gains, loses in (("Guarantee", "Compensation"), ("Compensation", "Guarantee")):
        legs = f"  Assets:HKJB:Pool:{loses}   -200.00 CNY\n  Assets:HKJB:Pool:{gains}   100.00 CNY\n"
        assert hk_found(run(HK_BASE + subsidy("2021-04-01", "100.00", fund=legs)), "pool.no_withdrawal") == [
            ("担保费奖补（比例与年度总额上限）的支出额应等于专户资金的减少额；资金减少 100.00 元，支出 100.00 元，差额 0.00 元",
             None, (("资金减少", D("100.00")), ("支出", D("100.00")), ("差额", D("0.00")))),
        ]


def test_an_undeclared_outflow_is_a_withdrawal_naming_the_lawful_ones() -> None:
    text = HK_BASE + """\
2021-04-01 * "某机构" "管理费"
  Assets:HKJB:Pool:Compensation   -100.00 CNY
  Expenses:HKJB:Management         100.00 CNY
"""
    assert hk_found(run(text), "pool.no_withdrawal") == [
        ("专户内补偿资金本金除代偿、担保费奖补（记入声明的账户）和合作终止后的处置外不得提取或支用；提取金额 100.00 元",
         None, (("提取金额", D("100.00")),)),
    ]


def test_a_reversed_subsidy_is_no_withdrawal() -> None:
    # Money coming back into the fund on the subsidy account: nothing to cap, nothing taken.
    # (It was reported as "支出额应等于专户资金的减少额" with a difference of 0.00.)
    back = '2021-04-05 * "海口市融资担保公司" "冲回奖补" ^HK-1\n  Assets:HKJB:Pool:Compensation   100.00 CNY\n  Expenses:HKJB:Subsidy   -100.00 CNY\n'
    analysis = run(HK_BASE + subsidy("2021-04-01", "100.00") + back)
    assert hk_found(analysis, "pool.no_withdrawal") == []
    assert hk_found(analysis, "outflow.subsidy") == []
    # The return is recorded as a negative outflow that brings the year's and the loan's totals back to 0.00.
    assert [(o.amount, o.year_total, o.loan, o.loan_total, o.allowed) for o in analysis.programs["HKJB"].outflows] == [
        (D("100.00"), D("100.00"), "HK-1", D("100.00"), D("12345.68")),
        (D("-100.00"), D("0.00"), "HK-1", D("0.00"), D("12345.68")),
    ]
    # A "reversal" that takes from one fund into the other is still a transfer.
    legs = "  Assets:HKJB:Pool:Compensation   300.00 CNY\n  Assets:HKJB:Pool:Guarantee   -200.00 CNY\n"
    assert hk_found(run(HK_BASE + subsidy("2021-04-01", "-100.00", fund=legs)), "pool.no_withdrawal") == [
        ("担保费奖补（比例与年度总额上限）的支出额应等于专户资金的减少额；资金减少 -100.00 元，支出 -100.00 元，差额 0.00 元",
         None, (("资金减少", D("-100.00")), ("支出", D("-100.00")), ("差额", D("0.00")))),
    ]


def test_a_subsidy_from_the_guarantee_fund_alone_is_an_outflow() -> None:
    legs = "  Assets:HKJB:Pool:Guarantee   -100.00 CNY\n"
    analysis = run(HK_BASE + subsidy("2021-04-01", "100.00", fund=legs))
    assert hk_found(analysis, "pool.no_withdrawal") == []
    assert [o.amount for o in analysis.programs["HKJB"].outflows] == [D("100.00")]


HK_CAP = """\
          annual_cap:
            article: 一、（一）2（2）
            values:
              2020-12-01: 5000000.00
"""


def hk_rules(cap: str):
    text = (ROOT / "rules.yaml").read_text(encoding="utf-8")
    assert text.count(HK_CAP) == 1
    return parse_rules(text.replace(HK_CAP, cap), ROOT / "rules.yaml")


def test_without_an_annual_cap_only_the_rate_caps_a_subsidy() -> None:
    entries, errors, _ = loader.load_string(HK_BASE + subsidy("2021-04-01", "5000000.01", " ^HK-2"))
    assert errors == []
    analysis = analyse(entries, hk_rules(""))
    assert hk_found(analysis, "outflow.subsidy") == []
    assert [(o.annual_cap, o.year_total) for o in analysis.programs["HKJB"].outflows] == [(None, D("5000000.01"))]


def test_a_subsidy_before_the_program_s_first_version_is_reported_on_the_subsidy() -> None:
    # Accounts opened before HKJB's rules take effect (2020-12-01): the caps have no value
    # yet; each lookup says so on the subsidy itself.
    text = (
        'option "operating_currency" "CNY"\n'
        "2020-01-01 open Assets:HKJB:Pool:Compensation\n2020-01-01 open Expenses:HKJB:Subsidy\n"
        "2020-01-01 open Income:HKJB:Compensation:Injection\n"
        '2020-11-01 * "财政局" "拨入"\n  Assets:HKJB:Pool:Compensation  1000.00 CNY\n'
        "  Income:HKJB:Compensation:Injection  -1000.00 CNY\n"
        + subsidy("2020-11-30", "100.00", links="")
    )
    linked = text.replace('"担保费奖补"\n', '"担保费奖补" ^HK-0\n') + (
        '2020-11-02 custom "loan" "approval" "HK-0"\n  program: "HKJB"\n  enterprise: "E-0"\n'
        '  amount: 1000.00 CNY\n  letter: "函"\n'
    )
    got = [(f.message, f.date, f.lineno) for f in run(linked).findings if f.rule == "outflow.subsidy"]
    assert got == [
        ("参数「programs.HKJB.rules.outflow.subsidy.params.annual_cap」在 2020-11-30 尚无生效版本"
         "（最早版本自 2020-12-01 起施行），无法按规则核对", day("2020-11-30"), 8),
        ("参数「programs.HKJB.rules.outflow.subsidy.params.rate」在 2020-11-30 尚无生效版本"
         "（最早版本自 2020-12-01 起施行），无法按规则核对", day("2020-11-30"), 8),
    ]
    analysis = run(text)
    got = [(f.message, f.date, f.lineno) for f in analysis.findings if f.rule == "outflow.subsidy"]
    assert got == [
        ("参数「programs.HKJB.rules.outflow.subsidy.params.annual_cap」在 2020-11-30 尚无生效版本"
         "（最早版本自 2020-12-01 起施行），无法按规则核对", day("2020-11-30"), 8),
        ("担保费奖补应以链接 ^贷款编号 关联本项目的唯一一笔贷款（按其担保金额计算），此笔关联了 0 笔；奖补金额 100.00 元",
         day("2020-11-30"), 8),
    ]


def test_a_fee_entry_with_nothing_refunded_is_judged_as_a_withdrawal() -> None:
    # A zero leg on the fee account makes it a fee entry, but refunds nothing: the money
    # leaving the guarantee fund is a withdrawal.
    text = WL_BASE + wl_loans("WL-9") + """\
2024-04-01 * "甲" "更正" ^WL-9
  Income:WLHT:Guarantee:Fees       0.00 CNY
  Assets:WLHT:Pool:Guarantee     -20.00 CNY
  Assets:Cash:Outside             20.00 CNY
"""
    analysis = run(text)
    assert found(analysis, "fee.no_refund") == []
    assert found(analysis, "pool.no_withdrawal") == [
        ("专户内助保金本金除代偿和合作终止后的处置外不得提取或支用；提取金额 20.00 元", "WLHT", (("提取金额", D("20.00")),))
    ]


def test_a_zero_subsidy_leg_makes_no_outflow() -> None:
    # The subsidy account touched with 0.00: the money leaving the fund is a withdrawal.
    legs = "  Assets:HKJB:Pool:Compensation   -100.00 CNY\n  Assets:Cash:Outside   100.00 CNY\n"
    analysis = run(HK_BASE + subsidy("2021-04-01", "0.00", fund=legs))
    assert hk_found(analysis, "pool.no_withdrawal") == [
        ("专户内补偿资金本金除代偿、担保费奖补（记入声明的账户）和合作终止后的处置外不得提取或支用；提取金额 100.00 元",
         None, (("提取金额", D("100.00")),)),
    ]
    assert analysis.programs["HKJB"].outflows == []


def test_a_subsidy_of_one_yuan_is_an_outflow() -> None:
    analysis = run(HK_BASE + subsidy("2021-04-01", "1.00"))
    assert hk_found(analysis, "pool.no_withdrawal") == []
    assert [o.amount for o in analysis.programs["HKJB"].outflows] == [D("1.00")]


def test_suspense_is_checked_for_each_program_that_lists_the_rule() -> None:
    # HKJB (no pool.suspense) comes before SZPS in rules.yaml: SZPS is still checked.
    path = ROOT / "tests" / "ledgers" / "rules" / "pool.suspense" / "szps-warn.beancount"
    entries, errors, _ = loader.load_file(str(path))
    analysis = analyse(entries, RULES)
    assert [(f.program, f.message) for f in analysis.findings if f.rule == "pool.suspense"] == [
        ("SZPS", "专户账户 Assets:SZPS:Pool:Suspense 尚有未归属本项目资金的款项，应查明后计入资金池；未归属余额 100.00 元")
    ]


def back(date: str, amount: str, links: str = " ^HK-1") -> str:
    """A subsidy coming back into the fund (paid in error, refunded)."""
    return (f'{date} * "海口市融资担保公司" "退回奖补"{links}\n'
            f"  Assets:HKJB:Pool:Compensation   {amount} CNY\n  Expenses:HKJB:Subsidy   -{amount} CNY\n")


def test_a_return_gives_the_loan_back_what_came_back_and_no_more() -> None:
    # HK-1 may get 12,345.68 in all. Paid in full, 2,345.68 comes back: 10,000.00 kept, so
    # 2,345.68 may be paid again; 2,345.69 is a fen over.
    paid = HK_BASE + subsidy("2021-04-01", "12345.68") + back("2021-04-05", "2345.68")
    again = run(paid + subsidy("2021-04-10", "2345.68"))
    assert hk_found(again, "outflow.subsidy") == []
    assert [o.loan_total for o in again.programs["HKJB"].outflows] == [D("12345.68"), D("10000.00"), D("12345.68")]
    over = run(paid + subsidy("2021-04-10", "2345.69"))
    assert hk_found(over, "outflow.subsidy") == [
        ("贷款 HK-1 的担保费奖补超过担保金额的 1%；应奖补 12,345.68 元，累计奖补 12,345.69 元，超出 0.01 元", "HK-1",
         (("应奖补", D("12345.68")), ("累计奖补", D("12345.69")), ("超出", D("0.01")))),
    ]


def test_a_return_makes_room_in_its_own_year_only() -> None:
    at_cap = HK_BASE + subsidy("2021-04-01", "4000000.00", " ^HK-2") + subsidy("2021-12-01", "1000000.00", " ^HK-2")
    # Same year: 1,000,000.00 comes back, 1,000,000.00 may go out again; a fen more is over.
    same = at_cap + back("2021-12-20", "1000000.00", " ^HK-2")
    assert hk_found(run(same + subsidy("2021-12-31", "1000000.00", " ^HK-2")), "outflow.subsidy") == []
    assert hk_found(run(same + subsidy("2021-12-31", "1000000.01", " ^HK-2")), "outflow.subsidy") == [
        ("2021 年度担保费奖补累计超过年度总额上限；年度上限 5,000,000.00 元，年度累计 5,000,000.01 元，超出 0.01 元", "HK-2",
         (("年度上限", D("5000000.00")), ("年度累计", D("5000000.01")), ("超出", D("0.01")))),
    ]
    # Next year: what comes back of 2021's subsidies leaves 2022's total at 0.00, not −1,000,000.00,
    # while the loan's total does come down (5,000,000.00 → 4,000,000.00 of its 6,000,000.00).
    later = run(at_cap + back("2022-01-05", "1000000.00", " ^HK-2") + subsidy("2022-02-01", "300.00", " ^HK-2"))
    assert hk_found(later, "outflow.subsidy") == []
    assert [(o.amount, o.year_total, o.annual_cap, o.loan_total) for o in later.programs["HKJB"].outflows] == [
        (D("4000000.00"), D("4000000.00"), D("5000000.00"), D("4000000.00")),
        (D("1000000.00"), D("5000000.00"), D("5000000.00"), D("5000000.00")),
        (D("-1000000.00"), D("0.00"), D("5000000.00"), D("4000000.00")),
        (D("300.00"), D("300.00"), D("5000000.00"), D("4000300.00")),
    ]


def test_a_return_linking_no_loan_lowers_only_the_year() -> None:
    analysis = run(HK_BASE + subsidy("2021-04-01", "12345.68") + back("2021-04-05", "2345.68", links="")
                   + subsidy("2021-04-10", "0.01"))
    assert [(o.amount, o.year_total, o.loan, o.loan_total) for o in analysis.programs["HKJB"].outflows] == [
        (D("12345.68"), D("12345.68"), "HK-1", D("12345.68")),
        (D("-2345.68"), D("10000.00"), None, None),
        (D("0.01"), D("10000.01"), "HK-1", D("12345.69")),
    ]
    assert [f[2] for f in hk_found(analysis, "outflow.subsidy")] == [
        (("应奖补", D("12345.68")), ("累计奖补", D("12345.69")), ("超出", D("0.01"))),
    ]


def test_a_return_is_recorded_whole() -> None:
    """The return of 2,345.68 (line 30) on HK-1: its record names the program, the rule, the
    entry, −2,345.68, the year's 10,000.00 left of 12,345.68, the 5,000,000.00 cap, the loan,
    its base 1,000,000.00 + 234,567.89 = 1,234,567.89 and its 1% allowance 12,345.68
    (12,345.6789 half-up), and the loan's 10,000.00 left."""
    analysis = run(HK_BASE + subsidy("2021-04-01", "12345.68") + back("2021-04-05", "2345.68"))
    paid, returned = analysis.programs["HKJB"].outflows
    assert (paid.entry.meta["lineno"], paid.entry.narration, paid.amount) == (27, "担保费奖补", D("12345.68"))
    assert (returned.program, returned.rule, returned.entry.meta["lineno"], returned.entry.narration) == (
        "HKJB", "outflow.subsidy", 30, "退回奖补",
    )
    assert (returned.amount, returned.year_total, returned.annual_cap, returned.loan, returned.base,
            returned.allowed, returned.loan_total) == (
        D("-2345.68"), D("10000.00"), D("5000000.00"), "HK-1", D("1234567.89"), D("12345.68"), D("10000.00"),
    )
    assert hk_found(analysis, "outflow.subsidy") == [] and hk_found(analysis, "pool.no_withdrawal") == []


def test_a_return_before_the_program_s_first_version_is_said_on_the_return() -> None:
    """100.00 of HK-0 comes back before HKJB's rules (2020-12-01), its subsidy paid before
    these books: the return's own cap and rate lookups are said on the return (line 13),
    once each; its record has no cap and no allowance, and the year's and the loan's totals
    stay at 0.00 (nothing counted yet, never below zero)."""
    text = (
        'option "operating_currency" "CNY"\n'
        "2020-01-01 open Assets:HKJB:Pool:Compensation\n2020-01-01 open Expenses:HKJB:Subsidy\n"
        "2020-01-01 open Income:HKJB:Compensation:Injection\n"
        '2020-11-01 * "财政局" "拨入"\n  Assets:HKJB:Pool:Compensation  1000.00 CNY\n'
        "  Income:HKJB:Compensation:Injection  -1000.00 CNY\n"
        '2020-11-02 custom "loan" "approval" "HK-0"\n  program: "HKJB"\n  enterprise: "E-0"\n'
        '  amount: 1000.00 CNY\n  letter: "函"\n'
        + back("2020-11-30", "100.00", " ^HK-0")
    )
    analysis = run(text)
    got = [(f.message, f.date, f.lineno) for f in analysis.findings if f.rule == "outflow.subsidy"]
    assert got == [
        ("参数「programs.HKJB.rules.outflow.subsidy.params.annual_cap」在 2020-11-30 尚无生效版本"
         "（最早版本自 2020-12-01 起施行），无法按规则核对", day("2020-11-30"), 13),
        ("参数「programs.HKJB.rules.outflow.subsidy.params.rate」在 2020-11-30 尚无生效版本"
         "（最早版本自 2020-12-01 起施行），无法按规则核对", day("2020-11-30"), 13),
    ]
    (returned,) = analysis.programs["HKJB"].outflows
    assert (returned.amount, returned.year_total, returned.annual_cap, returned.loan, returned.base,
            returned.allowed, returned.loan_total) == (D("-100.00"), D("0.00"), None, "HK-0", D("0"), None, D("0.00"))
