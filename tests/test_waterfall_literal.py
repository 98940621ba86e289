"""zhubaodai.checks.waterfall against hand-computed splits and the exact Chinese texts (issue #14).

CQGX: the claim's principal and interest are due; the guarantee fund pays first, up to its
balance; of the shortfall the risk fund pays 50% (half-up to the fen) up to its balance and
the bank bears the rest (``bank_share``). A recovery nets the recovery costs and pays back
the bank's borne share, then the risk fund, then the guarantee fund.

The base ledger: 5,000,000.00 in the risk fund, 25,000.00 in the guarantee fund (CQ-1's
fee), CQ-1 overdue 1,000,000.00 + 20,000.00 and claimed: 1,020,000.00 due; the guarantee
fund pays 25,000.00, the shortfall 995,000.00 is borne 497,500.00 / 497,500.00.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

from beancount import loader

from conftest import literal_findings
from zhubaodai.checks.waterfall import Waterfall
from zhubaodai.checks.waterfall import plan_waterfall
from zhubaodai.core.engine import Analysis
from zhubaodai.core.engine import analyse
from zhubaodai.core.findings import FORMAT_RULE
from zhubaodai.core.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
RULES = load_rules(ROOT / "rules.yaml")
D = Decimal
day = datetime.date.fromisoformat

# --- plan_waterfall ---------------------------------------------------------------------------


def test_plan_the_guarantee_fund_first_then_half_of_the_shortfall() -> None:
    plan = plan_waterfall(D("1020000.00"), D("25000.00"), D("5000000.00"), D("0.5"))
    assert plan == Waterfall(D("1020000.00"), D("25000.00"), D("497500.00"), D("497500.00"), D("0.00"))
    assert plan.shortfall == D("995000.00")


def test_plan_a_guarantee_fund_that_covers_the_claim_pays_only_the_claim() -> None:
    assert plan_waterfall(D("100.00"), D("100.01"), D("50.00"), D("0.5")) == Waterfall(
        D("100.00"), D("100.00"), D("0.00"), D("0.00"), D("0.00")
    )
    assert plan_waterfall(D("100.00"), D("100.00"), D("50.00"), D("0.5")).shortfall == D("0.00")


def test_plan_a_negative_balance_pays_nothing() -> None:
    assert plan_waterfall(D("100.00"), D("-5.00"), D("-1.00"), D("0.5")) == Waterfall(
        D("100.00"), D("0.00"), D("0.00"), D("50.00"), D("50.00")
    )


def test_plan_the_odd_fen_goes_half_up_to_the_risk_fund() -> None:
    # Shortfall 100.01 × 50% = 50.005 → 50.01 for the risk fund, 50.00 for the bank.
    assert plan_waterfall(D("100.01"), D("0.00"), D("1000.00"), D("0.5")) == Waterfall(
        D("100.01"), D("0.00"), D("50.01"), D("50.00"), D("0.00")
    )


def test_plan_a_risk_fund_short_of_its_share_leaves_the_rest_uncovered() -> None:
    # Share 50.00, 30.00 available: 20.00 for the committee; the bank still bears 50.00.
    assert plan_waterfall(D("110.00"), D("10.00"), D("30.00"), D("0.5")) == Waterfall(
        D("110.00"), D("10.00"), D("30.00"), D("50.00"), D("20.00")
    )
    assert plan_waterfall(D("110.00"), D("10.00"), D("50.00"), D("0.5")).uncovered == D("0.00")


# --- the engine -----------------------------------------------------------------------------

CQ = f"""\
option "operating_currency" "CNY"
include "{ROOT / "tests" / "ledgers" / "common" / "cqgx.beancount"}"
2024-01-02 custom "program" "open" "CQGX"
2024-01-02 * "财政局" "注入风险补偿金"
  Assets:CQGX:Pool:Risk          5000000.00 CNY
  Income:CQGX:Risk:Injection    -5000000.00 CNY
2024-01-05 custom "enterprise" "register" "E-1"
  program: "CQGX"
  name: "甲公司"
  size: "小型"
2024-03-01 custom "loan" "approval" "CQ-1"
  program: "CQGX"
  enterprise: "E-1"
  amount: 1000000.00 CNY
  letter: "函"
2024-03-05 * "甲公司" "缴纳助保金" ^CQ-1
  Assets:CQGX:Pool:Guarantee      25000.00 CNY
  Income:CQGX:Guarantee:Fees     -25000.00 CNY
2024-03-08 custom "loan" "contract" "CQ-1"
  amount: 1000000.00 CNY
2024-03-11 custom "loan" "disbursement" "CQ-1"
  amount: 1000000.00 CNY
  notice_date: 2024-03-11
2025-01-10 custom "loan" "overdue" "CQ-1"
  principal: 1000000.00 CNY
  interest: 20000.00 CNY
2025-01-15 custom "loan" "claim" "CQ-1"
  principal: 1000000.00 CNY
  interest: 20000.00 CNY
  letter: "函"
  approval: "同意"
2025-01-21 custom "loan" "confirmation" "CQ-1"
  letter: "确认函"
"""


def comp(date: str, guarantee: str | None = "25000.00", risk: str | None = "497500.00",
         bank: str | None = "497500.00 CNY", links: str = " ^CQ-1") -> str:
    text = f'{date} * "代偿"{links}\n'
    if bank is not None:
        text += f"  bank_share: {bank}\n"
    if guarantee is not None:
        text += f"  Expenses:CQGX:Guarantee:Compensation  {guarantee} CNY\n  Assets:CQGX:Pool:Guarantee  -{guarantee} CNY\n"
    if risk is not None:
        text += f"  Expenses:CQGX:Risk:Compensation  {risk} CNY\n  Assets:CQGX:Pool:Risk  -{risk} CNY\n"
    return text


def run(text: str) -> Analysis:
    entries, errors, _ = loader.load_string(text)
    assert errors == [], errors
    return analyse(entries, RULES)


found = literal_findings


def test_a_compensation_by_the_waterfall_passes_and_is_recorded() -> None:
    analysis = run(CQ + comp("2025-02-10"))
    assert [f.rule for f in analysis.findings if f.rule.startswith(("comp.", "pool.", "recovery."))] == []
    [claim] = analysis.records.claims.values()
    assert (claim.loan.id, claim.due, claim.guarantee_paid, claim.risk_paid, claim.bank_share, claim.uncovered) == (
        "CQ-1", D("1020000.00"), D("25000.00"), D("497500.00"), D("497500.00"), D("0.00"),
    )
    assert claim.guarantee_done and claim.risk_done and claim.started
    assert [e.date for e in claim.entries] == [day("2025-02-10")]
    assert analysis.records.claims_by_loan == {"CQ-1": [claim]}


def test_the_two_legs_may_be_two_transactions() -> None:
    analysis = run(CQ + comp("2025-02-10", risk=None, bank=None) + comp("2025-02-11", guarantee=None))
    assert found(analysis, "comp.waterfall") == []
    [claim] = analysis.records.claims.values()
    assert (claim.guarantee_paid, claim.risk_paid, claim.bank_share) == (D("25000.00"), D("497500.00"), D("497500.00"))


def test_a_risk_share_a_fen_short() -> None:
    analysis = run(CQ + comp("2025-02-10", risk="497499.99"))
    assert found(analysis, "comp.waterfall") == [
        (
            "贷款 CQ-1 助保金支付 25,000.00 元后不足部分 995,000.00 元，风险补偿金应按 50% 分担（以其余额 5,000,000.00 元为限）"
            "；风险补偿金应付 497,500.00 元，实付 497,499.99 元，差额 0.01 元",
            "CQ-1",
            (("风险补偿金应付", D("497500.00")), ("实付", D("497499.99")), ("差额", D("0.01"))),
        )
    ]


def test_the_bank_share_must_be_recorded_as_an_amount() -> None:
    def fill(value: str) -> list:
        return [(
            f"贷款 CQ-1 应以元数据 bank_share 记录合作银行承担的部分；银行应承担 497,500.00 元，已记录 {value} 元",
            "CQ-1",
            (("银行应承担", D("497500.00")), ("已记录", D(value.replace(",", "")))),
        )]

    assert found(run(CQ + comp("2025-02-10", bank=None)), "comp.waterfall") == fill("0.00")
    assert found(run(CQ + comp("2025-02-10", bank="497499.99 CNY")), "comp.waterfall") == fill("497,499.99")
    assert found(run(CQ + comp("2025-02-10", bank='"不是金额"')), "comp.waterfall") == fill("0.00")
    # Fava's import page writes the amount as text: read as the amount.
    analysis = run(CQ + comp("2025-02-10", bank='"497500.00 CNY"'))
    assert found(analysis, "comp.waterfall") == []
    assert [c.bank_share for c in analysis.records.claims.values()] == [D("497500.00")]


def test_the_guarantee_fund_must_pay_its_whole_balance_first() -> None:
    analysis = run(CQ + comp("2025-02-10", guarantee="24000.00", risk="498000.00", bank="498000.00 CNY"))
    assert found(analysis, "comp.waterfall")[0] == (
        "贷款 CQ-1 代偿应先以助保金支付，至多支付应代偿额，助保金不足时以其全部余额 25,000.00 元支付"
        "；应代偿额 1,020,000.00 元，助保金应付 25,000.00 元，实付 24,000.00 元，差额 1,000.00 元",
        "CQ-1",
        (("应代偿额", D("1020000.00")), ("助保金应付", D("25000.00")), ("实付", D("24000.00")), ("差额", D("1000.00"))),
    )


def test_the_guarantee_fund_paid_twice() -> None:
    analysis = run(CQ + comp("2025-02-10") + '2025-02-11 note Assets:CQGX:Pool "x"\n'
                   + comp("2025-02-12", guarantee="10.00", risk=None, bank=None))
    assert found(analysis, "comp.waterfall") == [
        ("贷款 CQ-1 的代偿已由助保金支付过，不应再次动用助保金；本次支付 10.00 元，此前已付 25,000.00 元", "CQ-1",
         (("本次支付", D("10.00")), ("此前已付", D("25000.00")))),
    ]


def test_the_risk_share_paid_twice() -> None:
    analysis = run(CQ + comp("2025-02-10") + comp("2025-02-12", guarantee=None, risk="10.00", bank=None))
    assert found(analysis, "comp.waterfall") == [
        ("贷款 CQ-1 的风险补偿金分担部分已支付过；本次支付 10.00 元，此前已付 497,500.00 元", "CQ-1",
         (("本次支付", D("10.00")), ("此前已付", D("497500.00")))),
    ]


def test_the_risk_fund_before_the_guarantee_fund() -> None:
    # Right amount, wrong order: the message states the split in words.
    analysis = run(CQ + comp("2025-02-10", guarantee=None))
    [finding] = [f for f in analysis.findings if f.rule == "comp.waterfall"]
    assert finding.message == (
        "贷款 CQ-1 助保金尚有余额，应先以助保金代偿，再由风险补偿金分担：应代偿 1,020,000.00 元应由助保金付 25,000.00 元、"
        "风险补偿金付 497,500.00 元、合作银行承担 497,500.00 元（本笔风险补偿金金额相符，错在顺序）"
    )
    assert finding.figures == (
        ("应代偿额", D("1020000.00")), ("助保金应付", D("25000.00")),
        ("风险补偿金应付", D("497500.00")), ("银行应承担", D("497500.00")),
    )
    [claim] = analysis.records.claims.values()
    assert (claim.risk_paid, claim.bank_share, claim.uncovered, claim.guarantee_paid) == (
        D("497500.00"), D("497500.00"), D("0.00"), D("0.00"),
    )
    # A wrong amount as well: the figures compare it.
    analysis = run(CQ + comp("2025-02-10", guarantee=None, risk="510000.00"))
    [finding] = [f for f in analysis.findings if f.rule == "comp.waterfall"]
    assert finding.message == (
        "贷款 CQ-1 助保金尚有余额，应先以助保金代偿，再由风险补偿金分担：应代偿 1,020,000.00 元应由助保金付 25,000.00 元、"
        "合作银行承担 497,500.00 元，风险补偿金付其余；风险补偿金应付 497,500.00 元，实付 510,000.00 元，差额 -12,500.00 元"
    )
    # Then the guarantee fund: too late, the order is wrong.
    analysis = run(CQ + comp("2025-02-10", guarantee=None) + comp("2025-02-11", risk=None, bank=None))
    assert found(analysis, "comp.waterfall")[1] == (
        "贷款 CQ-1 已先由风险补偿金代偿（顺序有误），不应再补付助保金：应冲回已记的代偿，按先助保金、后风险补偿金的顺序重记"
        "；本次助保金支付 25,000.00 元",
        "CQ-1",
        (("本次助保金支付", D("25000.00")),),
    )


def test_a_guarantee_fund_left_unpaid_with_the_risk_fund_not_yet_paid_is_a_warning() -> None:
    analysis = run(CQ + comp("2025-02-10", risk=None, bank=None))
    assert [(f.message, f.severity, f.figures) for f in analysis.findings if f.rule == "comp.waterfall"] == [
        ("贷款 CQ-1 助保金不足部分尚未由风险补偿金与合作银行分担入账；不足部分 995,000.00 元", "warning",
         (("不足部分", D("995000.00")),)),
    ]
    # The guarantee fund covering the whole claim leaves nothing to share.
    covered = CQ.replace("25000.00", "1020000.00")
    assert found(run(covered + comp("2025-02-10", guarantee="1020000.00", risk=None, bank=None)), "comp.waterfall") == []


def test_the_claim_is_the_components_in_scope() -> None:
    extra = CQ.replace('  interest: 20000.00 CNY\n  letter: "函"', '  interest: 20000.00 CNY\n  compound: 5.00 CNY\n  letter: "函"')
    analysis = run(extra + comp("2025-02-10"))
    assert found(analysis, "comp.scope") == [
        ("贷款 CQ-1 代偿申请含复利，不属本办法的代偿范围（范围：本金、利息）；复利 5.00 元", "CQ-1", (("复利", D("5.00")),)),
    ]
    assert [c.due for c in analysis.records.claims.values()] == [D("1020000.00")]
    assert found(analysis, "comp.waterfall") == []


def test_a_claim_without_an_overdue_or_over_the_balance() -> None:
    no_overdue = CQ.replace('2025-01-10 custom "loan" "overdue" "CQ-1"\n  principal: 1000000.00 CNY\n  interest: 20000.00 CNY\n', "")
    assert found(run(no_overdue), "comp.scope") == [("贷款 CQ-1 未登记逾期（overdue），不能申请代偿", "CQ-1", ())]
    over = CQ.replace("2025-01-15 custom \"loan\" \"claim\" \"CQ-1\"\n  principal: 1000000.00 CNY",
                      "2025-01-15 custom \"loan\" \"claim\" \"CQ-1\"\n  principal: 1000000.01 CNY")
    assert found(run(over), "comp.scope") == [
        ("贷款 CQ-1 申请代偿的本金超过贷款余额；申请本金 1,000,000.01 元，贷款余额 1,000,000.00 元，超出 0.01 元", "CQ-1",
         (("申请本金", D("1000000.01")), ("贷款余额", D("1000000.00")), ("超出", D("0.01")))),
    ]


def test_a_compensation_needs_one_loan_an_overdue_and_a_claim() -> None:
    unlinked = found(run(CQ + comp("2025-02-10", links="")), "pool.no_withdrawal")
    assert unlinked == [
        ("代偿应以链接 ^贷款编号 关联本项目的唯一一笔贷款，此笔关联了 0 笔；支出金额 522,500.00 元", None,
         (("支出金额", D("522500.00")),)),
    ]
    before_overdue = found(run(CQ + comp("2025-01-09")), "pool.no_withdrawal")
    assert before_overdue == [
        ("贷款 CQ-1 在代偿日前未登记逾期，不得动用专户资金代偿；支出金额 522,500.00 元", None,
         (("支出金额", D("522500.00")),)),
    ]
    before_claim = found(run(CQ + comp("2025-01-14")), "pool.no_withdrawal")
    assert before_claim == [
        ("贷款 CQ-1 在代偿日前没有经审核同意的代偿申请（claim），不得动用专户资金；支出金额 522,500.00 元", None,
         (("支出金额", D("522500.00")),)),
    ]
    assert found(run(CQ + comp("2025-01-15")), "pool.no_withdrawal") == []


# --- recovery.order --------------------------------------------------------------------------


def recovery(date: str, recovered: str, costs: str | None = None, penalty: str | None = None) -> str:
    text = f'{date} custom "loan" "recovery" "CQ-1"\n  recovered: {recovered} CNY\n'
    if costs:
        text += f"  costs: {costs} CNY\n"
    if penalty:
        text += f"  penalty: {penalty} CNY\n"
    return text


def back(date: str, risk: str | None = None, guarantee: str | None = None, links: str = " ^CQ-1") -> str:
    text = f'{date} * "追偿补回"{links}\n'
    if risk:
        text += f"  Assets:CQGX:Pool:Risk  {risk} CNY\n  Income:CQGX:Risk:Recovery  -{risk} CNY\n"
    if guarantee:
        text += f"  Assets:CQGX:Pool:Guarantee  {guarantee} CNY\n  Income:CQGX:Guarantee:Recovery  -{guarantee} CNY\n"
    return text


def test_a_recovery_pays_back_the_bank_then_the_risk_fund_then_the_guarantee_fund() -> None:
    # 600,000.00 less 10,000.00 costs = 590,000.00: the bank 497,500.00, the risk fund 92,500.00.
    analysis = run(CQ + comp("2025-02-10") + recovery("2025-06-01", "600000.00", costs="10000.00")
                   + back("2025-06-02", risk="92500.00"))
    assert found(analysis, "recovery.order") == []
    [r] = analysis.records.recoveries
    assert (r.loan.id, r.gross, r.deductions, r.net, r.parts, r.excess) == (
        "CQ-1", D("600000.00"), D("10000.00"), D("590000.00"),
        {"bank": D("497500.00"), "risk": D("92500.00"), "guarantee": D("0.00")}, D("0.00"),
    )
    state = analysis.records.loan_recoveries["CQ-1"]
    assert (state.bank_recovered, state.expected, state.received) == (
        D("497500.00"), {"guarantee": D("0.00"), "risk": D("92500.00")}, {"guarantee": D("0"), "risk": D("92500.00")},
    )
    # A second recovery goes on where the first stopped: risk 405,000.00 more, then guarantee.
    analysis = run(CQ + comp("2025-02-10") + recovery("2025-06-01", "600000.00", costs="10000.00")
                   + recovery("2025-07-01", "415000.00"))
    assert [r.parts for r in analysis.records.recoveries][1] == {
        "bank": D("0.00"), "risk": D("405000.00"), "guarantee": D("10000.00"),
    }


def test_a_recovery_beyond_what_was_borne_is_a_warning() -> None:
    analysis = run(CQ + comp("2025-02-10") + recovery("2025-06-01", "1020000.01"))
    assert [(f.message, f.severity, f.figures) for f in analysis.findings if f.rule == "recovery.order"][0] == (
        "贷款 CQ-1 追偿净额超出银行承担与两项资金代偿之和，超出部分需人工处理；追偿净额 1,020,000.01 元，超出 0.01 元",
        "warning",
        (("追偿净额", D("1020000.01")), ("超出", D("0.01"))),
    )
    assert analysis.records.recoveries[0].excess == D("0.01")
    exact = run(CQ + comp("2025-02-10") + recovery("2025-06-01", "1020000.00") + back("2025-06-02", "497500.00", "25000.00"))
    assert found(exact, "recovery.order") == []


def test_a_deduction_the_program_does_not_allow_and_deductions_over_the_recovery() -> None:
    analysis = run(CQ + comp("2025-02-10") + recovery("2025-06-01", "100.00", penalty="5.00"))
    assert found(analysis, "recovery.order") == [
        ("本办法追偿款只可扣除追索费用，不可扣除违约金；违约金 5.00 元", "CQ-1", (("违约金", D("5.00")),)),
    ]
    assert analysis.records.recoveries[0].net == D("100.00")  # the penalty is not deducted
    analysis = run(CQ + comp("2025-02-10") + recovery("2025-06-01", "100.00", costs="100.01"))
    assert found(analysis, "recovery.order") == [
        ("贷款 CQ-1 追偿扣除项超过追回金额；追回 100.00 元，扣除 100.01 元", "CQ-1",
         (("追回", D("100.00")), ("扣除", D("100.01")))),
    ]
    assert analysis.records.recoveries[0].net == D("0")


def test_a_recovery_before_any_compensation() -> None:
    analysis = run(CQ + recovery("2025-06-01", "100.00"))
    assert found(analysis, "recovery.order") == [("贷款 CQ-1 尚未发生代偿，追偿款无须按代偿顺序分配", "CQ-1", ())]
    assert analysis.records.recoveries == []


def test_recovery_cash_over_what_the_order_gives_back_and_cash_still_due() -> None:
    base = CQ + comp("2025-02-10") + recovery("2025-06-01", "600000.00", costs="10000.00")
    over = run(base + back("2025-06-02", risk="92500.01"))
    assert found(over, "recovery.order") == [
        ("贷款 CQ-1 追偿款补回风险补偿金超过按分配顺序应补回的金额（追偿款先偿还银行承担部分，再补回风险补偿金，后补回助保金）"
         "；应补回 92,500.00 元，累计补回 92,500.01 元，超出 0.01 元", "CQ-1",
         (("应补回", D("92500.00")), ("累计补回", D("92500.01")), ("超出", D("0.01")))),
    ]
    guarantee = run(base + back("2025-06-02", risk="92500.00", guarantee="0.01"))
    assert found(guarantee, "recovery.order")[0][0].startswith("贷款 CQ-1 追偿款补回助保金超过按分配顺序应补回的金额")
    short = run(base + back("2025-06-02", risk="90000.00"))
    assert [(f.message, f.severity, f.figures, f.date) for f in short.findings if f.rule == "recovery.order"] == [
        ("贷款 CQ-1 追偿款应补回风险补偿金的部分尚未到账；应补回 92,500.00 元，已到账 90,000.00 元，差额 2,500.00 元",
         "warning", (("应补回", D("92500.00")), ("已到账", D("90000.00")), ("差额", D("2500.00"))), day("2025-06-01")),
    ]
    unlinked = run(base + back("2025-06-02", risk="92500.00", links=""))
    assert [f.message for f in unlinked.findings if f.rule == FORMAT_RULE and f.message.startswith("追偿补回")] == [
        "追偿补回应以链接 ^贷款编号 关联本项目的唯一一笔贷款，此笔关联了 0 笔"
    ]


def thirty_days_rules():
    """CQGX with comp.scope overdue_days 30 (a test value; CQGX itself sets no wait)."""
    from zhubaodai.core.rules import parse_rules

    text = (ROOT / "rules.yaml").read_text(encoding="utf-8")
    old = "              2021-02-24: [principal, interest]\n"
    assert text.count(old) == 1
    return parse_rules(text.replace(old, old + "          overdue_days:\n            article: 测试\n            values:\n"
                                    "              2021-02-24: 30\n"), ROOT / "rules.yaml")


def test_a_compensation_one_day_before_the_overdue_wait_is_no_withdrawal() -> None:
    # Overdue 2025-01-10 + 30 calendar days = 2025-02-09, the first day allowed.
    rules = thirty_days_rules()

    def withdrawal(comp_day: str) -> list[tuple[str, str | None, tuple]]:
        entries, _, _ = loader.load_string(CQ + comp(comp_day))
        return [(f.message, f.program, f.figures) for f in analyse(entries, rules).findings
                if f.rule == "pool.no_withdrawal"]

    assert withdrawal("2025-02-09") == []
    assert withdrawal("2025-02-08") == [
        ("贷款 CQ-1 在代偿日逾期未满 30 天（2025-01-10 逾期），不得动用专户资金代偿；支出金额 522,500.00 元", "CQGX",
         (("支出金额", D("522500.00")),)),
    ]


# --- comp.order (WLHT: in the order the loans fell overdue) ---------------------------------

WL = f"""\
option "operating_currency" "CNY"
include "{ROOT / "tests" / "ledgers" / "common" / "wlht.beancount"}"
2024-01-02 custom "program" "open" "WLHT"
2024-01-02 * "财政局" "注入"
  Assets:WLHT:Pool:Guarantee  1000000.00 CNY
  Income:WLHT:Risk:Injection  -1000000.00 CNY
"""


def wl_loan(loan: str, overdue: str, claim: str) -> str:
    return (
        f'2024-01-03 custom "loan" "approval" "{loan}"\n  program: "WLHT"\n  enterprise: "E-{loan}"\n'
        f'  amount: 100000.00 CNY\n  letter: "函"\n'
        f'2024-01-03 custom "loan" "disbursement" "{loan}"\n  amount: 100000.00 CNY\n'
        f'{overdue} custom "loan" "overdue" "{loan}"\n  principal: 100000.00 CNY\n'
        f'{claim} custom "loan" "claim" "{loan}"\n  principal: 1000.00 CNY\n  letter: "函"\n  approval: "同意"\n'
    )


def wl_comp(loan: str, date: str) -> str:
    return (f'{date} * "代偿 {loan}" ^{loan}\n  Expenses:WLHT:Guarantee:Compensation  1000.00 CNY\n'
            f"  Assets:WLHT:Pool:Guarantee  -1000.00 CNY\n")


def test_a_later_overdue_compensated_first_names_the_earlier_loan() -> None:
    analysis = run(WL + wl_loan("WL-A", "2024-03-01", "2024-03-05") + wl_loan("WL-B", "2024-03-04", "2024-03-05")
                   + wl_comp("WL-B", "2024-03-06"))
    assert [(f.message, f.loan, f.figures) for f in analysis.findings if f.rule == "comp.order"] == [
        ("应按逾期先后顺序代偿：贷款 WL-A 于 2024-03-01 逾期，早于贷款 WL-B（2024-03-04 逾期），但尚未代偿", "WL-B", (("逾期早于本笔天数", D(3)),)),
    ]
    in_order = run(WL + wl_loan("WL-A", "2024-03-01", "2024-03-05") + wl_loan("WL-B", "2024-03-04", "2024-03-05")
                   + wl_comp("WL-A", "2024-03-06") + wl_comp("WL-B", "2024-03-06"))
    assert [f for f in in_order.findings if f.rule == "comp.order"] == []
    same_day = run(WL + wl_loan("WL-A", "2024-03-04", "2024-03-05") + wl_loan("WL-B", "2024-03-04", "2024-03-05")
                   + wl_comp("WL-B", "2024-03-06"))
    assert [f for f in same_day.findings if f.rule == "comp.order"] == []
    # A claim after the compensation's day does not wait yet.
    later_claim = run(WL + wl_loan("WL-A", "2024-03-01", "2024-03-07") + wl_loan("WL-B", "2024-03-04", "2024-03-05")
                      + wl_comp("WL-B", "2024-03-06"))
    assert [f for f in later_claim.findings if f.rule == "comp.order"] == []


def order_found(analysis: Analysis) -> list[tuple[str, str | None, str | None, tuple]]:
    return [(f.message, f.program, f.loan, f.figures) for f in analysis.findings if f.rule == "comp.order"]


#: WL-A fell overdue first, WL-B compensated before it: the finding every test below expects.
A_BEFORE_B = ("应按逾期先后顺序代偿：贷款 WL-A 于 2024-03-01 逾期，早于贷款 WL-B（2024-03-04 逾期），但尚未代偿",
              "WLHT", "WL-B", (("逾期早于本笔天数", D(3)),))


def wl_claim_only(loan: str, claim: str, repaid: str | None = None) -> str:
    """A loan with a claim but no overdue (and, if given, repaid to nil): waiting, never named."""
    text = (f'2024-01-03 custom "loan" "approval" "{loan}"\n  program: "WLHT"\n  enterprise: "E-{loan}"\n'
            f'  amount: 100000.00 CNY\n  letter: "函"\n'
            f'2024-01-03 custom "loan" "disbursement" "{loan}"\n  amount: 100000.00 CNY\n'
            f'{claim} custom "loan" "claim" "{loan}"\n  principal: 1000.00 CNY\n  letter: "函"\n  approval: "同意"\n')
    if repaid:
        text += f'{repaid} custom "loan" "repayment" "{loan}"\n  amount: 100000.00 CNY\n'
    return text


def test_comp_order_names_the_program_and_skips_a_claim_without_overdue() -> None:
    # WL-X waits (claim 03-02) ahead of WL-A (claim 03-05) but has no overdue: it is passed
    # over and WL-A is still named.
    analysis = run(WL + wl_claim_only("WL-X", "2024-03-02") + wl_loan("WL-A", "2024-03-01", "2024-03-05")
                   + wl_loan("WL-B", "2024-03-04", "2024-03-05") + wl_comp("WL-B", "2024-03-06"))
    assert order_found(analysis) == [A_BEFORE_B]


def test_comp_order_passes_over_a_loan_repaid_to_nil_without_a_settlement_event() -> None:
    # WL-X is settled by repayment (no settlement event) when WL-B is compensated.
    analysis = run(WL + wl_claim_only("WL-X", "2024-03-02", repaid="2024-03-03")
                   + wl_loan("WL-A", "2024-03-01", "2024-03-05") + wl_loan("WL-B", "2024-03-04", "2024-03-05")
                   + wl_comp("WL-B", "2024-03-06"))
    assert order_found(analysis) == [A_BEFORE_B]


def test_comp_order_queue_is_in_claim_date_order_not_register_order() -> None:
    # WL-X comes first in the register but claims only on 03-20: WL-A (claim 03-05) waits
    # on 03-06 all the same.
    analysis = run(WL + wl_loan("WL-X", "2024-03-15", "2024-03-20") + wl_loan("WL-A", "2024-03-01", "2024-03-05")
                   + wl_loan("WL-B", "2024-03-04", "2024-03-05") + wl_comp("WL-B", "2024-03-06"))
    assert order_found(analysis) == [A_BEFORE_B]


def test_comp_order_a_loan_waits_from_its_claim_not_from_its_other_events() -> None:
    # On 03-06 (WL-B compensated) WL-A has no claim yet; it claims on 03-07 and is named when
    # WL-C (overdue 03-04) is compensated on 03-08.
    analysis = run(WL + wl_loan("WL-A", "2024-03-01", "2024-03-07") + wl_loan("WL-B", "2024-03-04", "2024-03-05")
                   + wl_loan("WL-C", "2024-03-04", "2024-03-05") + wl_comp("WL-B", "2024-03-06")
                   + wl_comp("WL-C", "2024-03-08"))
    assert order_found(analysis) == [
        ("应按逾期先后顺序代偿：贷款 WL-A 于 2024-03-01 逾期，早于贷款 WL-C（2024-03-04 逾期），但尚未代偿",
         "WLHT", "WL-C", (("逾期早于本笔天数", D(3)),)),
    ]


# --- comp.escalation (CQGX: what the risk fund cannot bear goes to the committee) -----------

COMMITTEE = '2025-02-20 custom "loan" "committee" "CQ-1"\n  decision: "管委会办公会议决定"\n'


def test_a_risk_fund_short_of_its_share_needs_a_committee_decision() -> None:
    # Only 100,000.00 in the risk fund: of its 497,500.00 share 397,500.00 is uncovered.
    small = CQ.replace("5000000.00", "100000.00")
    analysis = run(small + comp("2025-02-10", risk="100000.00"))
    assert found(analysis, "comp.waterfall") == []
    assert [(f.message, f.date) for f in analysis.findings if f.rule == "comp.escalation"] == [
        ("贷款 CQ-1 风险补偿金不足以承担其分担部分，应登记管委会办公会议等决策（committee）；未能分担 397,500.00 元",
         day("2025-02-10")),
    ]
    assert [c.uncovered for c in analysis.records.claims.values()] == [D("397500.00")]
    assert found(run(small + comp("2025-02-10", risk="100000.00") + COMMITTEE), "comp.escalation") == []


def test_an_empty_risk_fund_needs_a_committee_decision() -> None:
    empty = CQ.replace("  Assets:CQGX:Pool:Risk          5000000.00 CNY\n  Income:CQGX:Risk:Injection    -5000000.00 CNY\n",
                       "  Assets:CQGX:Pool:Risk          0.00 CNY\n  Income:CQGX:Risk:Injection    -0.00 CNY\n")
    analysis = run(empty + comp("2025-02-10", risk=None, bank=None))
    assert found(analysis, "comp.escalation") == [
        ("贷款 CQ-1 助保金不足且风险补偿金已无余额，应登记决策（committee）；不足部分 995,000.00 元", "CQ-1",
         (("不足部分", D("995000.00")),)),
    ]
    assert found(analysis, "comp.waterfall") == []
    assert found(run(empty + comp("2025-02-10", risk=None, bank=None) + COMMITTEE), "comp.escalation") == []


def test_recovery_cash_with_no_recovery_registered_is_all_over() -> None:
    analysis = run(CQ + comp("2025-02-10") + back("2025-06-02", risk="1.00"))
    assert found(analysis, "recovery.order") == [
        ("贷款 CQ-1 追偿款补回风险补偿金超过按分配顺序应补回的金额（追偿款先偿还银行承担部分，再补回风险补偿金，后补回助保金）"
         "；应补回 0.00 元，累计补回 1.00 元，超出 1.00 元", "CQ-1",
         (("应补回", D("0.00")), ("累计补回", D("1.00")), ("超出", D("1.00")))),
    ]
    only_guarantee = run(CQ + comp("2025-02-10") + back("2025-06-02", guarantee="5.00"))
    assert [f[2] for f in found(only_guarantee, "recovery.order")] == [
        (("应补回", D("0.00")), ("累计补回", D("5.00")), ("超出", D("5.00"))),
    ]
    assert found(only_guarantee, "recovery.order")[0][0].startswith("贷款 CQ-1 追偿款补回助保金超过")


def test_unlinked_recovery_cash_points_at_its_entry() -> None:
    base = CQ + comp("2025-02-10") + recovery("2025-06-01", "600000.00", costs="10000.00")
    unlinked = run(base + back("2025-06-02", risk="92500.00", links=""))
    assert [(f.date, f.program) for f in unlinked.findings if f.rule == FORMAT_RULE and f.message.startswith("追偿补回")] == [
        (day("2025-06-02"), None)
    ]


# --- comp.shares recoveries (SZPS: the pool's part shrinks with the repaid principal) -------

SHARES = ROOT / "tests" / "ledgers" / "rules" / "comp.shares"


def run_file(name: str) -> Analysis:
    entries, errors, _ = loader.load_file(str(SHARES / name))
    return analyse(entries, RULES)


def test_shrink_cash_over_what_the_pool_overpaid() -> None:
    analysis = run_file("szps-fail-shrink-excess.beancount")
    got = [(f.message, f.severity, f.program) for f in analysis.findings if f.rule == "comp.shares"]
    assert got == [
        ("贷款 SZ-2026-001 追偿后退回资金池超过其多付的部分（未清偿本金减少后，按比例应承担的部分随之减少，只退回超出的部分）"
         "；应补回 100,000.00 元，累计补回 100,000.01 元，超出 0.01 元", "error", "SZPS"),
    ]


def test_shrink_cash_still_due_is_a_warning() -> None:
    analysis = run_file("szps-warn-shrink-pending.beancount")
    got = [(f.message.split(" ", 2)[2], f.severity, f.program) for f in analysis.findings if f.rule == "comp.shares"]
    assert got == [
        ("未清偿本金减少后应退回资金池的部分尚未到账；应补回 100,000.00 元，已到账 99,999.99 元，差额 0.01 元", "warning", "SZPS"),
    ]


SZ_SHRINK = """\
          shrink:
            article: 政策问答“补偿标准”第 1 点
            values:
              2026-02-05: true
"""


def test_without_shrink_the_net_recovery_flows_back_to_the_pool_up_to_what_it_paid() -> None:
    # Recovered 300,000.00 less 50,000.00 costs: 250,000.00 back to the risk fund (it paid
    # 400,000.00); 100,000.01 arrived, then 250,000.01.
    from zhubaodai.core.rules import parse_rules

    text = (ROOT / "rules.yaml").read_text(encoding="utf-8")
    assert text.count(SZ_SHRINK) == 1
    rules = parse_rules(text.replace(SZ_SHRINK, ""), ROOT / "rules.yaml")
    ledger = (SHARES / "szps-fail-shrink-excess.beancount").read_text(encoding="utf-8")
    ledger = ledger.replace("../../", str(ROOT / "tests" / "ledgers") + "/").replace(
        "'rules': '../../../../rules.yaml'", f"'rules': '{ROOT / 'rules.yaml'}'")

    def shares(body: str) -> list[tuple[str, str]]:
        entries, _, _ = loader.load_string(body)
        return [(f.message, f.severity) for f in analyse(entries, rules).findings if f.rule == "comp.shares"]

    assert shares(ledger) == [
        ("贷款 SZ-2026-001 追偿款应补回资金池的部分尚未到账；应补回 250,000.00 元，已到账 100,000.01 元，差额 149,999.99 元",
         "warning"),
    ]
    assert shares(ledger.replace("100000.01", "250000.01")) == [
        ("贷款 SZ-2026-001 追偿款补回资金池超过应补回的金额（追偿净额补回资金池，以其代偿额为限）"
         "；应补回 250,000.00 元，累计补回 250,000.01 元，超出 0.01 元", "error"),
    ]


def szps_excess(rules_text: str | None = None, drop_recovery: bool = False) -> list[tuple[str, str]]:
    from zhubaodai.core.rules import parse_rules

    rules = RULES if rules_text is None else parse_rules(rules_text, ROOT / "rules.yaml")
    ledger = (SHARES / "szps-fail-shrink-excess.beancount").read_text(encoding="utf-8")
    ledger = ledger.replace("../../", str(ROOT / "tests" / "ledgers") + "/").replace(
        "'rules': '../../../../rules.yaml'", f"'rules': '{ROOT / 'rules.yaml'}'")
    if drop_recovery:
        start = ledger.index('2027-01-15 custom "loan" "recovery"')
        ledger = ledger[:start] + ledger[ledger.index("2027-01-20 *"):]
    entries, _, _ = loader.load_string(ledger)
    return [(f.message, f.severity) for f in analyse(entries, rules).findings if f.rule == "comp.shares"]


def test_shrink_cash_with_no_recovery_registered() -> None:
    assert szps_excess(drop_recovery=True) == [
        ("贷款 SZ-2026-001 追偿后退回资金池超过其多付的部分（未清偿本金减少后，按比例应承担的部分随之减少，只退回超出的部分）"
         "；应补回 0.00 元，累计补回 100,000.01 元，超出 100,000.01 元", "error"),
    ]


def test_the_cash_is_judged_by_the_shrink_in_force_on_the_recovery() -> None:
    # shrink ends 2027-01-18, between the recovery (01-15, shrinking) and its cash (01-20):
    # the cash is judged as the recovery was, by the shrinking table.
    text = (ROOT / "rules.yaml").read_text(encoding="utf-8")
    text = text.replace(SZ_SHRINK, SZ_SHRINK + "              2027-01-18: false\n")
    assert [m.split("；")[0] for m, _ in szps_excess(text)] == [
        "贷款 SZ-2026-001 追偿后退回资金池超过其多付的部分（未清偿本金减少后，按比例应承担的部分随之减少，只退回超出的部分）"
    ]


# --- recovery.order: the edges of _distribute ------------------------------------------------


def test_a_recovery_on_a_loan_never_claimed() -> None:
    no_claim = CQ.split('2025-01-15 custom "loan" "claim"')[0]
    analysis = run(no_claim + recovery("2025-06-01", "100.00"))
    assert found(analysis, "recovery.order") == [("贷款 CQ-1 尚未发生代偿，追偿款无须按代偿顺序分配", "CQ-1", ())]


def test_a_recovery_after_a_compensation_by_the_risk_fund_and_bank_alone() -> None:
    # No guarantee fund: 1,020,000.00 shared 510,000.00 / 510,000.00 (guarantee 0 = risk - bank).
    empty = CQ.replace('2024-03-05 * "甲公司" "缴纳助保金" ^CQ-1\n  Assets:CQGX:Pool:Guarantee      25000.00 CNY\n'
                       '  Income:CQGX:Guarantee:Fees     -25000.00 CNY\n', "")
    analysis = run(empty + comp("2025-02-10", guarantee=None, risk="510000.00", bank="510000.00 CNY")
                   + recovery("2025-06-01", "600000.00"))
    assert found(analysis, "recovery.order") == [
        ("贷款 CQ-1 追偿款应补回风险补偿金的部分尚未到账；应补回 90,000.00 元，已到账 0.00 元，差额 90,000.00 元", "CQ-1",
         (("应补回", D("90000.00")), ("已到账", D("0.00")), ("差额", D("90000.00")))),
    ]
    assert analysis.records.recoveries[0].parts == {"bank": D("510000.00"), "risk": D("90000.00"), "guarantee": D("0")}


def test_deductions_equal_to_or_just_under_the_recovery() -> None:
    base = CQ + comp("2025-02-10")
    assert found(run(base + recovery("2025-06-01", "100.00", costs="100.00")), "recovery.order") == []
    half = run(base + recovery("2025-06-01", "100.50", costs="100.00") + back("2025-06-02"))
    assert [r.net for r in half.records.recoveries] == [D("0.50")]
    assert [f for f in half.findings if f.rule == "recovery.order" and "扣除项" in f.message] == []


def test_a_penalty_of_one_fen_is_not_deductible_in_cqgx() -> None:
    analysis = run(CQ + comp("2025-02-10") + recovery("2025-06-01", "100.00", penalty="0.01"))
    assert found(analysis, "recovery.order")[0] == (
        "本办法追偿款只可扣除追索费用，不可扣除违约金；违约金 0.01 元", "CQ-1", (("违约金", D("0.01")),)
    )


def test_costs_are_reported_where_the_program_allows_only_the_penalty() -> None:
    from zhubaodai.core.rules import parse_rules

    text = (ROOT / "rules.yaml").read_text(encoding="utf-8")
    old = "              2021-02-24: [costs]\n"
    assert text.count(old) == 1
    rules = parse_rules(text.replace(old, "              2021-02-24: [penalty]\n"), ROOT / "rules.yaml")
    entries, _, _ = loader.load_string(CQ + comp("2025-02-10") + recovery("2025-06-01", "100.00", costs="3.00"))
    got = [(f.message, f.figures) for f in analyse(entries, rules).findings if f.rule == "recovery.order"]
    assert got[0] == ("本办法追偿款只可扣除违约金，不可扣除追索费用；追索费用 3.00 元", (("追索费用", D("3.00")),))


def test_a_third_recovery_gives_the_guarantee_fund_only_what_it_still_lacks() -> None:
    # Bank 497,500.00 and risk 497,500.00 back after two recoveries, guarantee 10,000.00 of
    # its 25,000.00; a third of 20,000.00: 15,000.00 to it, 5,000.00 beyond.
    analysis = run(CQ + comp("2025-02-10") + recovery("2025-06-01", "600000.00", costs="10000.00")
                   + recovery("2025-07-01", "415000.00") + recovery("2025-08-01", "20000.00"))
    third = analysis.records.recoveries[2]
    assert (third.parts, third.excess) == ({"bank": D("0.00"), "risk": D("0.00"), "guarantee": D("15000.00")}, D("5000.00"))


def test_a_recovery_before_the_program_s_rules_take_effect() -> None:
    text = (CQ.split("2024-01-02 custom")[0] + '2021-01-05 custom "loan" "approval" "CQ-0"\n  program: "CQGX"\n'
            '  enterprise: "E-0"\n  amount: 1000.00 CNY\n  letter: "函"\n' + '2021-01-20 custom "loan" "recovery" "CQ-0"\n'
            "  recovered: 10.00 CNY\n")
    got = [(f.message, f.date) for f in run(text).findings if f.rule == "recovery.order"]
    assert got == [
        (f"参数「programs.CQGX.rules.recovery.order.params.{name}」在 2021-01-20 尚无生效版本（最早版本自 2021-02-24 起施行），"
         "无法按规则核对", day("2021-01-20"))
        for name in ("deductions", "order")
    ]


def test_recovery_order_with_deductions_in_force_but_no_order_yet() -> None:
    # Kills `deductions is None or order is None` -> `and`: deductions dated before the
    # program takes effect, the order from that day; a recovery in between is not
    # distributed (one finding for the missing order), not a crash.
    from zhubaodai.core.rules import parse_rules

    text = (ROOT / "rules.yaml").read_text(encoding="utf-8")
    old = "              2021-02-24: [costs]\n"
    assert text.count(old) == 1
    rules = parse_rules(text.replace(old, "              2020-01-01: [costs]\n"), ROOT / "rules.yaml")
    ledger = (CQ.split("2024-01-02 custom")[0] + '2021-01-05 custom "loan" "approval" "CQ-0"\n  program: "CQGX"\n'
              '  enterprise: "E-0"\n  amount: 1000.00 CNY\n  letter: "函"\n' + '2021-01-20 custom "loan" "recovery" "CQ-0"\n'
              "  recovered: 10.00 CNY\n")
    entries, _, _ = loader.load_string(ledger)
    analysis = analyse(entries, rules)
    got = [f.message for f in analysis.findings if f.rule == "recovery.order"]
    assert got == ["参数「programs.CQGX.rules.recovery.order.params.order」在 2021-01-20 尚无生效版本"
                   "（最早版本自 2021-02-24 起施行），无法按规则核对"]
    assert analysis.records.recoveries == []


def test_a_compensation_without_the_npl_trigger_names_the_npl_classification() -> None:
    # SZPS's trigger is an NPL classification; the loan is classified only 关注 (not NPL):
    # the 400,000.00 taken from the risk fund may not be used. Kills the message's
    # `"逾期" if trigger == "overdue"` -> `or True`.
    entries, _, _ = loader.load_file(str(ROOT / "tests" / "ledgers" / "rules" / "comp.scope" / "szps-fail-not-npl.beancount"))
    got = [(f.message, f.program, f.figures) for f in analyse(entries, RULES).findings if f.rule == "pool.no_withdrawal"]
    assert got == [
        ("贷款 SZ-2026-001 在代偿日前未登记不良分类（npl，次级、可疑或损失），不得动用专户资金代偿；支出金额 400,000.00 元",
         "SZPS", (("支出金额", D("400000.00")),)),
    ]


def test_a_wlht_claim_counts_compound_interest_and_penalty_interest() -> None:
    # WLHT's comp.scope components are principal, interest, compound and penalty (not the
    # default principal and interest): 1,000.00 + 20.00 + 5.00 + 2.00 = 1,027.00 due.
    claim = ('2024-03-05 custom "loan" "claim" "WL-A"\n  principal: 1000.00 CNY\n  interest: 20.00 CNY\n'
             '  compound: 5.00 CNY\n  penalty: 2.00 CNY\n  letter: "函"\n  approval: "同意"\n')
    text = WL + wl_loan("WL-A", "2024-03-01", "2024-03-05").split('2024-03-05 custom "loan" "claim"')[0] + claim
    assert [c.due for c in run(text + wl_comp("WL-A", "2024-03-06")).records.claims.values()] == [D("1027.00")]


def test_a_claim_one_day_before_the_overdue_wait_is_out_of_scope() -> None:
    # Overdue 2025-01-10 + 30 calendar days: a claim on 2025-02-09 passes; on 2025-02-08 it
    # is 29 days overdue, one short.
    rules = thirty_days_rules()
    assert CQ.count('2025-01-15 custom "loan" "claim" "CQ-1"') == 1

    def scope(claim_day: str) -> list[tuple]:
        text = CQ.replace('2025-01-15 custom "loan" "claim" "CQ-1"', f'{claim_day} custom "loan" "claim" "CQ-1"')
        entries, _, _ = loader.load_string(text + comp("2025-02-10"))
        return [(f.message, f.program, f.loan, f.figures, f.date, f.lineno)
                for f in analyse(entries, rules).findings if f.rule == "comp.scope"]

    assert scope("2025-02-09") == []
    assert scope("2025-02-08") == [
        ("贷款 CQ-1 逾期未满 30 天，不能申请代偿（2025-01-10 逾期，2025-02-09 起方满 30 天）", "CQGX", "CQ-1",
         (("逾期天数", D(29)),), day("2025-02-08"), line_of(CQ, '2025-01-15 custom "loan" "claim"')),
    ]


# --- comp.scope switched off; comp.scope's parameters not yet in force ------------------------


def without_comp_scope():
    """A copy of rules.yaml where CQGX has no comp.scope block."""
    from zhubaodai.core.rules import parse_rules

    text = (ROOT / "rules.yaml").read_text(encoding="utf-8")
    start = text.index("      comp.scope:\n        severity: error\n        article: 第五条、第十七条\n")
    end = text.index("      recovery.order:\n", start)
    rules = parse_rules(text[:start] + text[end:], ROOT / "rules.yaml")
    assert "comp.scope" not in rules.programs["CQGX"].rules
    return rules


def test_without_comp_scope_a_claim_is_its_principal_and_interest() -> None:
    # CQGX with its comp.scope block removed (a copy of rules.yaml): the claim counts the
    # default components, 1,000,000.00 + 20,000.00 = 1,020,000.00; the compound interest
    # 5.00 is neither counted nor reported. Kills `_claim`'s `components = None`.
    rules = without_comp_scope()
    extra = CQ.replace('  interest: 20000.00 CNY\n  letter: "函"', '  interest: 20000.00 CNY\n  compound: 5.00 CNY\n  letter: "函"')
    entries, _, _ = loader.load_string(extra + comp("2025-02-10"))
    analysis = analyse(entries, rules)
    assert [c.due for c in analysis.records.claims.values()] == [D("1020000.00")]
    assert [f for f in analysis.findings if f.rule.startswith(("comp.", "pool."))] == []


#: A CQGX loan before the program takes effect (2021-02-24): overdue 2021-01-10, claimed
#: 2021-01-20, compensated 2021-01-25 from the risk fund.
EARLY = CQ.split("2024-01-02 custom")[0] + (
    '2021-01-02 * "财政局" "注入风险补偿金"\n  Assets:CQGX:Pool:Risk  5000.00 CNY\n  Income:CQGX:Risk:Injection  -5000.00 CNY\n'
    '2021-01-05 custom "loan" "approval" "CQ-0"\n  program: "CQGX"\n  enterprise: "E-0"\n  amount: 1000.00 CNY\n  letter: "函"\n'
    '2021-01-06 custom "loan" "disbursement" "CQ-0"\n  amount: 1000.00 CNY\n'
    '2021-01-10 custom "loan" "overdue" "CQ-0"\n  principal: 1000.00 CNY\n'
    '2021-01-20 custom "loan" "claim" "CQ-0"\n  principal: 1000.00 CNY\n  letter: "函"\n  approval: "同意"\n'
    '2021-01-25 * "代偿" ^CQ-0\n  bank_share: 500.00 CNY\n'
    "  Expenses:CQGX:Risk:Compensation  500.00 CNY\n  Assets:CQGX:Pool:Risk  -500.00 CNY\n"
)


def line_of(text: str, start: str) -> int:
    """The line number (from 1) of the one line of ``text`` that starts with ``start``."""
    [number] = [n for n, line in enumerate(text.split("\n"), 1) if line.startswith(start)]
    return number


def early_scope(param: str) -> list[tuple[str, datetime.date | None, int | None]]:
    """comp.scope's findings on EARLY where CQGX's components apply from 2020-01-01 and
    ``param`` (a test value) from the program's effective date 2021-02-24."""
    from zhubaodai.core.rules import parse_rules

    text = (ROOT / "rules.yaml").read_text(encoding="utf-8")
    old = "              2021-02-24: [principal, interest]\n"
    assert text.count(old) == 1
    value = {"trigger": "overdue", "overdue_days": "30"}[param]
    rules = parse_rules(text.replace(old, "              2020-01-01: [principal, interest]\n"
                                     f"          {param}:\n            article: 测试\n            values:\n"
                                     f"              2021-02-24: {value}\n"), ROOT / "rules.yaml")
    entries, errors, _ = loader.load_string(EARLY)
    assert errors == []
    return [(f.message, f.date, f.lineno) for f in analyse(entries, rules).findings if f.rule == "comp.scope"]


def not_yet(param: str, on: str) -> str:
    return (f"参数「programs.CQGX.rules.comp.scope.params.{param}」在 {on} 尚无生效版本（最早版本自 2021-02-24 起施行），"
            "无法按规则核对")


def test_a_trigger_not_yet_in_force_is_reported_on_the_claim_and_on_the_compensation() -> None:
    # Kills the parameter lookup's entry -> None in `_trigger` (both findings lose their
    # entry) and in `_basis`'s call of it (the compensation's finding loses it).
    claim, paid = line_of(EARLY, '2021-01-20 custom "loan" "claim"'), line_of(EARLY, '2021-01-25 * "代偿"')
    assert early_scope("trigger") == [
        (not_yet("trigger", "2021-01-20"), day("2021-01-20"), claim),
        (not_yet("trigger", "2021-01-25"), day("2021-01-25"), paid),
    ]


def test_an_overdue_wait_not_yet_in_force_is_reported_on_the_claim_and_on_the_compensation() -> None:
    # The same for `_overdue_days` and `_basis`'s call of it.
    claim, paid = line_of(EARLY, '2021-01-20 custom "loan" "claim"'), line_of(EARLY, '2021-01-25 * "代偿"')
    assert early_scope("overdue_days") == [
        (not_yet("overdue_days", "2021-01-20"), day("2021-01-20"), claim),
        (not_yet("overdue_days", "2021-01-25"), day("2021-01-25"), paid),
    ]


def test_a_claim_with_a_fen_of_penalty_interest_is_out_of_cqgx_s_scope() -> None:
    # CQGX's scope is principal and interest: 0.01 of penalty interest (罚息) is reported,
    # and the claim stays 1,020,000.00. Kills the `"penalty"` literal and `> 0` -> `> 1`.
    extra = CQ.replace('  interest: 20000.00 CNY\n  letter: "函"', '  interest: 20000.00 CNY\n  penalty: 0.01 CNY\n  letter: "函"')
    analysis = run(extra + comp("2025-02-10"))
    assert found(analysis, "comp.scope") == [
        ("贷款 CQ-1 代偿申请含罚息，不属本办法的代偿范围（范围：本金、利息）；罚息 0.01 元", "CQ-1", (("罚息", D("0.01")),)),
    ]
    assert [c.due for c in analysis.records.claims.values()] == [D("1020000.00")]


def test_a_claim_with_a_fen_of_interest_is_out_of_szps_s_scope() -> None:
    # SZPS compensates the unpaid principal only: a claim with 0.01 of interest is reported
    # on the claim (line 59 of the ledger). Kills the `"interest"` literal.
    path = ROOT / "tests" / "ledgers" / "rules" / "comp.scope" / "szps-fail-interest.beancount"
    text = path.read_text(encoding="utf-8")
    assert text.count("  interest: 20000.00 CNY\n") == 1
    # The ledger's own plugin line becomes a comment (the lines keep their numbers).
    text = text.replace("  interest: 20000.00 CNY\n", "  interest: 0.01 CNY\n").replace(
        '"../../', f'"{ROOT / "tests" / "ledgers"}/').replace('plugin "zhubaodai.plugin"', '; plugin "zhubaodai.plugin"')
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    got = [(f.message, f.program, f.loan, f.figures, f.date, f.lineno)
           for f in analyse(entries, RULES).findings if f.rule == "comp.scope"]
    assert got == [
        ("贷款 SZ-2026-001 代偿申请含利息，不属本办法的代偿范围（范围：本金）；利息 0.01 元", "SZPS", "SZ-2026-001",
         (("利息", D("0.01")),), day("2026-10-09"), 59),
    ]


def test_components_not_yet_in_force_are_reported_once_on_the_claim() -> None:
    # CQGX's components apply from 2021-02-24; a claim of 2021-01-20 is reported once (it
    # was reported twice: by the claim's check and again where the claim's amount was
    # computed) and counts the default principal and interest (1,000.00).
    claim = line_of(EARLY, '2021-01-20 custom "loan" "claim"')
    analysis = run(EARLY)
    assert [(f.message, f.date, f.lineno) for f in analysis.findings if f.rule == "comp.scope"] == [
        (not_yet("components", "2021-01-20"), day("2021-01-20"), claim),
    ]
    assert [c.due for c in analysis.records.claims.values()] == [D("1000.00")]


# --- _compensation: the edges ------------------------------------------------------------------


def test_a_transaction_returning_money_to_the_risk_fund_is_left_to_pool_no_withdrawal() -> None:
    # After the compensation, 10.00 goes back into the risk fund and 10.00 out of the
    # guarantee fund in one transaction: a transfer between the funds (pool.no_withdrawal),
    # not a second guarantee payment (the negative risk leg makes it a reversal for
    # comp.waterfall). It stays among the claim's entries. Kills `or` -> `and`.
    mixed = ('2025-02-12 * "冲回" ^CQ-1\n  Expenses:CQGX:Risk:Compensation  -10.00 CNY\n  Assets:CQGX:Pool:Risk  10.00 CNY\n'
             '  Expenses:CQGX:Guarantee:Compensation  10.00 CNY\n  Assets:CQGX:Pool:Guarantee  -10.00 CNY\n')
    analysis = run(CQ + comp("2025-02-10") + mixed)
    assert found(analysis, "comp.waterfall") == []
    assert found(analysis, "pool.no_withdrawal") == [
        ("助保金与风险补偿金分别核算，两项资金之间不得相互划转；划出金额 10.00 元", None, (("划出金额", D("10.00")),)),
    ]
    [claim] = analysis.records.claims.values()
    assert (claim.guarantee_paid, claim.risk_paid, [e.date for e in claim.entries]) == (
        D("25000.00"), D("497500.00"), [day("2025-02-10"), day("2025-02-12")],
    )


def rule_ledger(rule: str, name: str) -> str:
    """A rule ledger's text, loadable from a string: includes made absolute, its plugin
    line turned into a comment (the lines keep their numbers)."""
    text = (ROOT / "tests" / "ledgers" / "rules" / rule / name).read_text(encoding="utf-8")
    return text.replace('"../../', f'"{ROOT / "tests" / "ledgers"}/').replace(
        'plugin "zhubaodai.plugin"', '; plugin "zhubaodai.plugin"')


def test_wzs_s_guarantee_fund_pays_at_most_the_enterprise_s_own_fees() -> None:
    # WZS (guarantee_basis own_fees): WZ-2024-01's enterprise paid 20,000.00 in fees; the
    # guarantee fund paid 20,000.01 of the 1,000,000.00 due, one fen of another
    # enterprise's fees. The risk fund's 490,000.00 is half of 979,999.99 half-up, the bank
    # bears 489,999.99: no other finding. Kills the own-fees wording's `if first.own_fees`.
    text = rule_ledger("comp.waterfall", "wzs-fail-own-fees-one-fen.beancount")
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    got = [(f.message, f.program, f.loan, f.figures, f.date, f.lineno)
           for f in analyse(entries, RULES).findings if f.rule == "comp.waterfall"]
    assert got == [
        ("贷款 WZ-2024-01 代偿应先以助保金支付，至多支付应代偿额，且以本企业缴纳的助保金（扣除已为其贷款代偿的部分）"
         "20,000.00 元为限；应代偿额 1,000,000.00 元，助保金应付 20,000.00 元，实付 20,000.01 元，差额 -0.01 元",
         "WZS", "WZ-2024-01",
         (("应代偿额", D("1000000.00")), ("助保金应付", D("20000.00")), ("实付", D("20000.01")), ("差额", D("-0.01"))),
         day("2024-09-12"), line_of(text, '2024-09-12 * "合作银行"')),
    ]


def test_a_compensation_before_the_risk_share_takes_effect_is_not_split() -> None:
    # EARLY: the 500.00 from the risk fund on 2021-01-25, before CQGX's risk_share applies
    # (2021-02-24): one finding on the compensation, no split (the bank's share stays 0).
    analysis = run(EARLY)
    assert [(f.message, f.date, f.lineno) for f in analysis.findings if f.rule == "comp.waterfall"] == [
        ("参数「programs.CQGX.rules.comp.waterfall.params.risk_share」在 2021-01-25 尚无生效版本（最早版本自 2021-02-24 起施行），"
         "无法按规则核对", day("2021-01-25"), line_of(EARLY, '2021-01-25 * "代偿"')),
    ]
    [claim] = analysis.records.claims.values()
    assert (claim.guarantee_paid, claim.risk_paid, claim.bank_share, claim.uncovered) == (
        D("0"), D("500.00"), D("0"), D("0"),
    )


def test_a_recovery_beyond_what_was_borne_names_its_program_loan_and_entry() -> None:
    # 1,020,000.01 recovered of 1,020,000.00 borne (bank 497,500.00 + risk 497,500.00 +
    # guarantee 25,000.00): 0.01 beyond, a warning on the recovery; the Recovery keeps its event.
    text = CQ + comp("2025-02-10") + recovery("2025-06-01", "1020000.01")
    analysis = run(text)
    got = [(f.message, f.program, f.loan, f.date, f.lineno) for f in analysis.findings
           if f.rule == "recovery.order" and "超出部分需人工处理" in f.message]
    assert got == [
        ("贷款 CQ-1 追偿净额超出银行承担与两项资金代偿之和，超出部分需人工处理；追偿净额 1,020,000.01 元，超出 0.01 元",
         "CQGX", "CQ-1", day("2025-06-01"), line_of(text, '2025-06-01 custom "loan" "recovery"')),
    ]
    [r] = analysis.records.recoveries
    assert (r.event.kind, r.event.date, r.event.entry.meta["lineno"]) == (
        "recovery", day("2025-06-01"), line_of(text, '2025-06-01 custom "loan" "recovery"'))


def test_what_the_guarantee_fund_gets_back_adds_up_over_recoveries() -> None:
    # Recoveries 590,000.00 net (bank 497,500.00, risk 92,500.00), 415,000.00 (risk
    # 405,000.00, guarantee 10,000.00), 20,000.00 (guarantee 15,000.00, 5,000.00 beyond):
    # the guarantee fund is owed 10,000.00 + 15,000.00 = 25,000.00 and the risk fund
    # 92,500.00 + 405,000.00 = 497,500.00; cash of exactly that is no finding.
    analysis = run(CQ + comp("2025-02-10") + recovery("2025-06-01", "600000.00", costs="10000.00")
                   + recovery("2025-07-01", "415000.00") + recovery("2025-08-01", "20000.00")
                   + back("2025-08-02", risk="497500.00", guarantee="25000.00"))
    state = analysis.records.loan_recoveries["CQ-1"]
    assert (state.bank_recovered, state.expected) == (
        D("497500.00"), {"guarantee": D("25000.00"), "risk": D("497500.00")},
    )
    assert [f.message for f in analysis.findings if f.rule == "recovery.order"] == [
        "贷款 CQ-1 追偿净额超出银行承担与两项资金代偿之和，超出部分需人工处理；追偿净额 20,000.00 元，超出 5,000.00 元",
    ]


# --- on_register_event: the dispatch of claims, recoveries and losses ----------------------------


def test_a_claim_on_the_compensation_s_day_below_it_is_its_basis() -> None:
    # The claim dated 2025-02-10 but written below the compensation of that day: the walk
    # reaches the compensation first, which makes the claim (its 1,020,000.00) from the
    # register; no finding. Kills `_basis`'s `_claim(ctx, None, …)` (not equivalent, as
    # the earlier record had it: the claim is not always made before the compensation).
    claim = ('2025-02-10 custom "loan" "claim" "CQ-1"\n  principal: 1000000.00 CNY\n  interest: 20000.00 CNY\n'
             '  letter: "函"\n  approval: "同意"\n')
    early = '2025-01-15 custom "loan" "claim" "CQ-1"\n  principal: 1000000.00 CNY\n  interest: 20000.00 CNY\n  letter: "函"\n  approval: "同意"\n'
    assert CQ.count(early) == 1
    analysis = run(CQ.replace(early, "") + comp("2025-02-10") + claim)
    assert [f for f in analysis.findings if f.rule.startswith(("comp.", "pool.", "recovery."))] == []
    [c] = analysis.records.claims.values()
    assert (c.loan.id, c.event.date, c.due, c.guarantee_paid, c.risk_paid, c.bank_share) == (
        "CQ-1", day("2025-02-10"), D("1020000.00"), D("25000.00"), D("497500.00"), D("497500.00"),
    )


def test_a_loss_where_the_program_has_no_residual_table_is_a_format_error() -> None:
    # CQGX has no comp.shares: a loss event cannot be split. Kills the `"loss"` dispatch.
    text = CQ + comp("2025-02-10") + '2025-06-01 custom "loan" "loss" "CQ-1"\n'
    got = [(f.message, f.program, f.date, f.lineno) for f in run(text).findings if f.rule == FORMAT_RULE]
    assert got == [
        ("贷款 CQ-1 登记了损失分担（loss），但本项目的规则没有追偿后损失的分担表（comp.shares 的 residual）", None,
         day("2025-06-01"), line_of(text, '2025-06-01 custom "loan" "loss"')),
    ]


def test_a_jhjd_loss_is_split_by_the_residual_table() -> None:
    # JHJD (comp.shares with a residual table): the recovery of 2026-03-16 goes to the pool,
    # the loss of 2026-03-31 is split 40/40/20, 770,000.01 left unrecovered: 308,000.004
    # each for the government and the guarantor, the odd fen to the one listed first (the
    # government); the ledger records it the other way round. Aimed at the dispatch of
    # recoveries and losses in a comp.shares program (the split itself is part B's tests').
    text = rule_ledger("comp.shares", "jhjd-fail-residual-fen.beancount")
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    got = [(f.message, f.program, f.loan, f.figures, f.date, f.lineno)
           for f in analyse(entries, RULES).findings if f.rule == "comp.shares"]
    line = line_of(text, '2026-03-31 custom "loan" "loss"')
    assert got == [
        ("贷款 JH-2025-001 追偿后仍未弥补的损失 770,000.01 元，政府应按 40% 承担；政府应承担 308,000.01 元，已记录 308,000.00 元，"
         "差额 0.01 元", "JHJD", "JH-2025-001",
         (("政府应承担", D("308000.01")), ("已记录", D("308000.00")), ("差额", D("0.01"))), day("2026-03-31"), line),
        ("贷款 JH-2025-001 追偿后仍未弥补的损失 770,000.01 元，担保机构应按 40% 承担；担保机构应承担 308,000.00 元，已记录 308,000.01 元，"
         "差额 -0.01 元", "JHJD", "JH-2025-001",
         (("担保机构应承担", D("308000.00")), ("已记录", D("308000.01")), ("差额", D("-0.01"))), day("2026-03-31"), line),
    ]


def test_a_guarantee_fund_of_one_yuan_pays_first() -> None:
    # Only 1.00 in the guarantee fund: it pays 1.00, the shortfall 1,019,999.00 is borne
    # 509,999.50 / 509,999.50. Kills `g_out > 0` -> `> 1` (the 1.00 would not count as paid).
    one = CQ.replace("25000.00", "1.00")
    assert one.count("1.00 CNY\n") == 2
    analysis = run(one + comp("2025-02-10", guarantee="1.00", risk="509999.50", bank="509999.50 CNY"))
    assert found(analysis, "comp.waterfall") == []
    [claim] = analysis.records.claims.values()
    assert (claim.guarantee_paid, claim.risk_paid, claim.bank_share) == (D("1.00"), D("509999.50"), D("509999.50"))


def test_comp_order_is_checked_on_a_claim_s_first_compensation_only() -> None:
    # WL-B (overdue 03-04) is compensated before WL-A (overdue 03-01) in two transactions:
    # one finding, on the first (03-06). Kills `comp.order and not claim.started` -> `or`.
    analysis = run(WL + wl_loan("WL-A", "2024-03-01", "2024-03-05") + wl_loan("WL-B", "2024-03-04", "2024-03-05")
                   + wl_comp("WL-B", "2024-03-06") + wl_comp("WL-B", "2024-03-07"))
    got = [(f.message, f.program, f.loan, f.date) for f in analysis.findings if f.rule == "comp.order"]
    assert got == [
        ("应按逾期先后顺序代偿：贷款 WL-A 于 2024-03-01 逾期，早于贷款 WL-B（2024-03-04 逾期），但尚未代偿",
         "WLHT", "WL-B", day("2024-03-06")),
    ]


def test_a_risk_payment_of_one_yuan_is_checked() -> None:
    # The risk fund pays 1.00 of its 497,500.00 share. Kills `r_out > 0` -> `> 1`.
    analysis = run(CQ + comp("2025-02-10", risk="1.00"))
    assert found(analysis, "comp.waterfall") == [
        ("贷款 CQ-1 助保金支付 25,000.00 元后不足部分 995,000.00 元，风险补偿金应按 50% 分担（以其余额 5,000,000.00 元为限）"
         "；风险补偿金应付 497,500.00 元，实付 1.00 元，差额 497,499.00 元", "CQ-1",
         (("风险补偿金应付", D("497500.00")), ("实付", D("1.00")), ("差额", D("497499.00")))),
    ]


def test_an_empty_guarantee_fund_leaves_the_risk_fund_first_in_order() -> None:
    # No guarantee fund at all: the risk fund paying first is no order error (510,000.00 of
    # 1,020,000.00, the bank 510,000.00). Kills `g_left > 0 and …` -> `or`, and `>= 0`.
    empty = CQ.replace('2024-03-05 * "甲公司" "缴纳助保金" ^CQ-1\n  Assets:CQGX:Pool:Guarantee      25000.00 CNY\n'
                       '  Income:CQGX:Guarantee:Fees     -25000.00 CNY\n', "")
    assert empty != CQ
    analysis = run(empty + comp("2025-02-10", guarantee=None, risk="510000.00", bank="510000.00 CNY"))
    assert found(analysis, "comp.waterfall") == []
    [claim] = analysis.records.claims.values()
    assert (claim.guarantee_paid, claim.risk_paid, claim.bank_share) == (D("0"), D("510000.00"), D("510000.00"))


def test_one_yuan_left_in_the_guarantee_fund_must_pay_before_the_risk_fund() -> None:
    # 1.00 in the guarantee fund, the risk fund pays 509,999.50 first: the right amount for
    # a split 1.00 / 509,999.50 / 509,999.50, in the wrong order. The finding names the
    # program, the loan and the compensation. Kills `g_left > 0` -> `> 1` and the loan
    # dropped from the order finding.
    one = CQ.replace("25000.00", "1.00")
    text = one + comp("2025-02-10", guarantee=None, risk="509999.50", bank="509999.50 CNY")
    got = [(f.message, f.program, f.loan, f.date, f.lineno, f.figures) for f in run(text).findings
           if f.rule == "comp.waterfall"]
    assert got == [
        ("贷款 CQ-1 助保金尚有余额，应先以助保金代偿，再由风险补偿金分担：应代偿 1,020,000.00 元应由助保金付 1.00 元、"
         "风险补偿金付 509,999.50 元、合作银行承担 509,999.50 元（本笔风险补偿金金额相符，错在顺序）",
         "CQGX", "CQ-1", day("2025-02-10"), line_of(text, '2025-02-10 * "代偿"'),
         (("应代偿额", D("1020000.00")), ("助保金应付", D("1.00")), ("风险补偿金应付", D("509999.50")),
          ("银行应承担", D("509999.50")))),
    ]


def test_a_wrong_bank_share_leaves_the_bank_the_share_the_waterfall_gives_it() -> None:
    # bank_share recorded 497,499.99 (reported); the bank's borne share stays 497,500.00,
    # so a recovery of 590,000.00 net pays the bank 497,500.00 and the risk fund 92,500.00.
    analysis = run(CQ + comp("2025-02-10", bank="497499.99 CNY") + recovery("2025-06-01", "600000.00", costs="10000.00"))
    assert [c.bank_share for c in analysis.records.claims.values()] == [D("497500.00")]
    assert [r.parts for r in analysis.records.recoveries] == [
        {"bank": D("497500.00"), "risk": D("92500.00"), "guarantee": D("0.00")},
    ]


def test_a_residual_table_not_yet_in_force_is_reported_on_the_recovery_and_on_the_loss() -> None:
    # A copy of rules.yaml where JHJD takes effect, and its residual table applies, from
    # 2026-04-01 (the other parameters keep their earlier versions): the compensation of
    # 2025-11-30, the recovery of 2026-03-16 and the loss of 2026-03-31 are each reported,
    # on their own entry. Kills on_register_event's `_residual(…, event.date, None)`.
    from zhubaodai.core.rules import parse_rules

    text = (ROOT / "rules.yaml").read_text(encoding="utf-8")
    effective = "    cite_as: 金东区科技型中小微企业贷款风险池基金（报道）\n    effective: 2015-08-17\n"
    residual = "          residual:\n            article: 代偿条款（条号不可见；“经追偿后本息不足部分”的分担）\n            values:\n              2015-08-17:\n"
    assert text.count(effective) == 1 and text.count(residual) == 1
    rules = parse_rules(text.replace(effective, effective.replace("2015-08-17", "2026-04-01"))
                        .replace(residual, residual.replace("2015-08-17", "2026-04-01")), ROOT / "rules.yaml")
    ledger = rule_ledger("comp.shares", "jhjd-fail-residual-fen.beancount")
    entries, errors, _ = loader.load_string(ledger)
    assert errors == []
    got = [(f.message, f.program, f.date, f.lineno) for f in analyse(entries, rules).findings if f.rule == "comp.shares"]
    assert got == [
        (f"参数「programs.JHJD.rules.comp.shares.params.residual」在 {on} 尚无生效版本（最早版本自 2026-04-01 起施行），"
         "无法按规则核对", "JHJD", day(on), line_of(ledger, start))
        for on, start in (("2025-11-30", '2025-11-30 * "金华成泰农商银行"'),
                          ("2026-03-16", '2026-03-16 custom "loan" "recovery"'),
                          ("2026-03-31", '2026-03-31 custom "loan" "loss"'))
    ]


# --- npl_classified and uses_npl (for the faces' 不良分类日 column) ----------------------------


def test_only_szps_claims_on_an_npl_classification() -> None:
    from zhubaodai.checks.waterfall import uses_npl

    assert {code: uses_npl(program) for code, program in RULES.programs.items()} == {
        "CQGX": False, "WLHT": False, "GSBY": False, "WZS": False, "LNYQ": False, "SZPS": True, "HKJB": False,
        "JHJD": False,
    }


def test_the_npl_classification_that_makes_an_szps_loan_eligible() -> None:
    # szps-pass: SZ-2026-001 classified 次级 on 2026-09-30 (line 52); SZPS's npl trigger
    # applies from 2026-02-05. szps-fail-not-npl: classified 关注 on 2026-09-30, not NPL.
    from zhubaodai.checks.waterfall import npl_classified

    def loan_of(name: str):
        entries, errors, _ = loader.load_string(rule_ledger("comp.scope", name))
        assert errors == []
        return analyse(entries, RULES).register.loans["SZ-2026-001"]

    szps = RULES.programs["SZPS"]
    loan = loan_of("szps-pass.beancount")
    event = npl_classified(szps, loan, day("2026-09-30"))
    assert event is not None
    assert (event.kind, event.date, event.data["classification"], event.entry.meta["lineno"]) == (
        "npl", day("2026-09-30"), "次级", 52)
    assert npl_classified(szps, loan, day("2026-12-31")) is event
    assert npl_classified(szps, loan, day("2026-09-29")) is None  # not yet classified
    assert npl_classified(szps, loan, day("2026-02-04")) is None  # before the trigger applies
    assert npl_classified(szps, loan_of("szps-fail-not-npl.beancount"), day("2026-12-31")) is None  # 关注
    # A program whose trigger is an overdue (JHJD), or that sets none (CQGX): never.
    assert npl_classified(RULES.programs["JHJD"], loan, day("2026-12-31")) is None
    assert npl_classified(RULES.programs["CQGX"], loan, day("2026-12-31")) is None
    # Nor a program without comp.scope (kills `rule is None or …` -> `and`).
    assert npl_classified(without_comp_scope().programs["CQGX"], loan, day("2026-12-31")) is None
