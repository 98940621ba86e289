"""The engine's arithmetic: DOMAIN.md's worked numbers exactly, and the pure functions.

The worked numbers are read from the rule ledgers that hold them (tests/ledgers/rules/),
through :func:`zhubaodai.core.engine.analyse`, so the figures are the engine's own records,
not a recomputation here.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader

from conftest import LEDGERS
from conftest import RULES_YAML
from zhubaodai.checks.fees import fee_due
from zhubaodai.checks.pool import split_interest
from zhubaodai.checks.waterfall import Waterfall
from zhubaodai.checks.waterfall import plan_waterfall
from zhubaodai.core.engine import Analysis
from zhubaodai.core.engine import DailyBalance
from zhubaodai.core.engine import GUARANTEE
from zhubaodai.core.engine import RISK
from zhubaodai.core.engine import analyse
from zhubaodai.core.findings import ERROR
from zhubaodai.core.findings import Finding
from zhubaodai.core.money import half_up
from zhubaodai.core.rules import load_rules
from zhubaodai.core.money import largest_remainder
from zhubaodai.core.money import percent
from zhubaodai.core.money import yuan
from zhubaodai.core.rules import Rulebook

RULES = LEDGERS / "rules"
D = Decimal


def run(path: Path, rulebook: Rulebook) -> Analysis:
    entries, errors, _ = loader.load_file(str(path))
    analysis = analyse(entries, rulebook)
    assert errors == [] and analysis.findings == [], [str(f) for f in analysis.findings]
    return analysis


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


# --------------------------------------------------------------------------------------
# DOMAIN.md, "Worked numbers (CQ)".


def test_worked_fees(rulebook: Rulebook) -> None:
    """Loan 3,000,000.00 → 75,000.00; increase to 4,000,000.00 → 25,000.00; renewal → nothing."""
    analysis = run(RULES / "fee.renewal" / "cqgx-pass.beancount", rulebook)
    account = analysis.records.fees["CQ-2024-001"]
    dues = [(d.rule, d.base, d.rate, d.due) for d in account.dues]
    assert dues == [
        ("fee.rate", D("3000000.00"), D("0.025"), D("75000.00")),
        ("fee.increase", D("1000000.00"), D("0.025"), D("25000.00")),
        ("fee.renewal", D("4000000.00"), D("0"), D("0.00")),
    ]
    assert account.due == D("100000.00")
    assert account.paid == D("100000.00")
    assert [p.amount for p in account.payments] == [D("75000.00"), D("25000.00")]
    assert fee_due(D("3000000.00"), D("0.025")) == D("75000.00")
    assert fee_due(D("1000000.00"), D("0.025")) == D("25000.00")


def test_worked_interest_split(rulebook: Rulebook) -> None:
    """Interest 1,000.00, 积数 27,000,000.00 / 63,000,000.00 → 300.00 and 700.00."""
    analysis = run(RULES / "pool.interest_split" / "cqgx-pass.beancount", rulebook)
    [allocation] = analysis.records.interest
    assert allocation.program == "CQGX"
    assert (allocation.period_start, allocation.period_end) == (day("2024-03-23"), day("2024-06-20"))
    assert allocation.total == D("1000.00")
    assert allocation.jishu_guarantee == D("27000000.00")
    assert allocation.jishu_risk == D("63000000.00")
    assert (allocation.expected_guarantee, allocation.expected_risk) == (D("300.00"), D("700.00"))
    assert (allocation.actual_guarantee, allocation.actual_risk) == (D("300.00"), D("700.00"))
    assert allocation.ok
    # The 积数 are the ledger's real end-of-day balances, as the engine keeps them.
    funds = analysis.programs["CQGX"].funds
    assert funds[GUARANTEE].jishu(day("2024-03-23"), day("2024-06-20")) == D("27000000.00")
    assert funds[RISK].jishu(day("2024-03-23"), day("2024-06-20")) == D("63000000.00")
    assert split_interest(D("1000.00"), D("27000000.00"), D("63000000.00")) == (D("300.00"), D("700.00"))


def test_worked_waterfall(rulebook: Rulebook) -> None:
    """Due 1,020,000.00, guarantee fund 600,000.00 → 600,000 / 210,000 risk / 210,000 bank."""
    analysis = run(RULES / "comp.waterfall" / "cqgx-pass.beancount", rulebook)
    funds = analysis.programs["CQGX"].funds
    assert funds[GUARANTEE].at(day("2024-09-11")) == D("600000.00")
    [claim] = analysis.records.claims.values()
    assert claim.loan.id == "CQ-2024-007"
    assert claim.due == D("1020000.00")
    assert claim.guarantee_paid == D("600000.00")
    assert claim.risk_paid == D("210000.00")
    assert claim.bank_share == D("210000.00")
    assert claim.uncovered == D("0.00")
    assert funds[GUARANTEE].balance == D("0.00")
    assert funds[RISK].balance == D("4790000.00")
    assert plan_waterfall(D("1020000.00"), D("600000.00"), D("5000000.00"), D("0.5")) == Waterfall(
        due=D("1020000.00"), guarantee=D("600000.00"), risk=D("210000.00"), bank=D("210000.00"), uncovered=D("0.00")
    )


def test_worked_recovery(rulebook: Rulebook) -> None:
    """Recovered 300,000.00, costs 10,000.00 → net 290,000.00 → 210,000.00 bank, 80,000.00 risk fund."""
    analysis = run(RULES / "recovery.order" / "cqgx-pass.beancount", rulebook)
    [recovery] = analysis.records.recoveries
    assert recovery.gross == D("300000.00")
    assert recovery.deductions == D("10000.00")
    assert recovery.net == D("290000.00")
    assert recovery.parts == {"bank": D("210000.00"), "risk": D("80000.00"), "guarantee": D("0.00")}
    assert recovery.excess == D("0.00")
    back = analysis.records.loan_recoveries["CQ-2024-007"]
    assert back.bank_recovered == D("210000.00")
    assert back.expected == {GUARANTEE: D("0.00"), RISK: D("80000.00")}
    assert back.received == {GUARANTEE: D("0.00"), RISK: D("80000.00")}
    assert analysis.programs["CQGX"].funds[RISK].balance == D("4870000.00")


# --------------------------------------------------------------------------------------
# money


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        ("0.005", "0.01"),
        ("0.0049", "0.00"),
        ("-0.005", "-0.01"),
        ("25000.005", "25000.01"),  # half-even would give 25000.00
        ("30864.195", "30864.20"),
        ("75000", "75000.00"),
    ],
)
def test_half_up(value: str, rounded: str) -> None:
    assert half_up(D(value)) == D(rounded)
    assert str(half_up(D(value))) == rounded


def test_largest_remainder_examples() -> None:
    assert largest_remainder(D("1000.00"), [D(27), D(63)]) == [D("300.00"), D("700.00")]
    # A tie goes to the earlier part.
    assert largest_remainder(D("1000.01"), [D(1), D(1)]) == [D("500.01"), D("500.00")]
    assert largest_remainder(D("0.02"), [D(1), D(1), D(1)]) == [D("0.01"), D("0.01"), D("0.00")]
    # The largest remainder wins over the earlier part: 1/3 and 2/3 of 0.10.
    assert largest_remainder(D("0.10"), [D(1), D(2)]) == [D("0.03"), D("0.07")]
    # A zero weight gets nothing; a reversal splits as its negation.
    assert largest_remainder(D("5.00"), [D(0), D(3)]) == [D("0.00"), D("5.00")]
    assert largest_remainder(D("-1000.01"), [D(1), D(1)]) == [D("-500.01"), D("-500.00")]


def test_largest_remainder_rejects_bad_weights() -> None:
    with pytest.raises(ValueError):
        largest_remainder(D("1.00"), [D(0), D(0)])
    with pytest.raises(ValueError):
        largest_remainder(D("1.00"), [D(-1), D(2)])


def test_formats() -> None:
    assert yuan(D("1234567.8")) == "1,234,567.80"
    assert yuan(D("-0.01")) == "-0.01"
    assert yuan(None) == "—"
    assert percent(D("0.025")) == "2.5%"
    assert percent(D("0.02")) == "2%"
    assert percent(D("0.5")) == "50%"


# --------------------------------------------------------------------------------------
# DailyBalance


def test_daily_balance_at_and_jishu() -> None:
    balance = DailyBalance()
    assert balance.balance == D("0.00") and balance.first_day is None
    balance.add(day("2024-03-01"), D("100.00"))
    balance.add(day("2024-03-01"), D("50.00"))  # same day: one end-of-day balance
    balance.add(day("2024-03-04"), D("-30.00"))
    assert balance.first_day == day("2024-03-01")
    assert balance.balance == D("120.00")
    assert balance.at(day("2024-02-29")) == D("0.00")
    assert balance.at(day("2024-03-03")) == D("150.00")
    assert balance.at(day("2024-03-04")) == D("120.00")
    assert balance.at(day("2024-12-31")) == D("120.00")
    # 1–3 March at 150.00, 4–5 March at 120.00.
    assert balance.jishu(day("2024-03-01"), day("2024-03-05")) == D("690.00")
    assert balance.jishu(day("2024-02-20"), day("2024-03-01")) == D("150.00")
    assert balance.jishu(day("2024-03-04"), day("2024-03-04")) == D("120.00")
    assert balance.jishu(day("2024-03-05"), day("2024-03-04")) == D("0.00")
    assert balance.series() == [(day("2024-03-01"), D("150.00")), (day("2024-03-04"), D("120.00"))]
    with pytest.raises(ValueError):
        balance.add(day("2024-03-02"), D("1.00"))


# --------------------------------------------------------------------------------------
# plan_waterfall


def test_plan_waterfall_cases() -> None:
    half = D("0.5")
    # The guarantee fund covers everything.
    assert plan_waterfall(D("100.00"), D("500.00"), D("0.00"), half) == Waterfall(
        D("100.00"), D("100.00"), D("0.00"), D("0.00"), D("0.00")
    )
    # Half a fen goes to the risk fund (half-up), the bank bears the rest.
    plan = plan_waterfall(D("1020000.01"), D("25000.00"), D("5000000.00"), half)
    assert (plan.risk, plan.bank, plan.uncovered) == (D("497500.01"), D("497500.00"), D("0.00"))
    # The risk fund pays what it has; the rest of its share is uncovered (committee).
    plan = plan_waterfall(D("1020000.00"), D("25000.00"), D("100000.00"), half)
    assert (plan.guarantee, plan.risk, plan.bank, plan.uncovered) == (
        D("25000.00"), D("100000.00"), D("497500.00"), D("397500.00"),
    )
    assert plan.shortfall == D("995000.00")
    # Overdrawn funds count as empty.
    plan = plan_waterfall(D("10.00"), D("-5.00"), D("-5.00"), half)
    assert (plan.guarantee, plan.risk, plan.bank, plan.uncovered) == (D("0"), D("0"), D("5.00"), D("5.00"))


# --------------------------------------------------------------------------------------
# Through the engine: small ledgers for behaviour the rule ledgers do not pin down.


def load_text(text: str, tmp_path: Path) -> tuple[list, list]:
    ledger = tmp_path / "main.beancount"
    ledger.write_text(
        f"plugin \"zhubaodai.plugin\" \"{{'rules': '{RULES_YAML}'}}\"\n"
        f'include "{LEDGERS / "common" / "cqgx.beancount"}"\n'
        '2021-01-01 custom "program" "open" "CQGX"\n' + text,
        encoding="utf-8",
    )
    entries, errors, _ = loader.load_file(str(ledger))
    return entries, errors


def test_parameter_before_its_first_version_is_an_error(tmp_path: Path, rulebook: Rulebook) -> None:
    """A contract before CQGX's fee rate took effect (2021-02-24) is an error, not a default."""
    entries, errors = load_text(
        """
2021-02-01 custom "loan" "approval" "CQ-2021-001"
  program: "CQGX"
  enterprise: "E-CQ-001"
  amount: 1000000.00 CNY
  letter: "高新创服函〔2021〕1号"
2021-02-10 custom "loan" "contract" "CQ-2021-001"
  amount: 1000000.00 CNY
""",
        tmp_path,
    )
    analysis = analyse(entries, rulebook)
    rules = {(f.rule, f.severity) for f in analysis.findings}
    assert ("fee.rate", ERROR) in rules
    [finding] = [f for f in analysis.findings if f.rule == "fee.rate"]
    assert "尚无生效版本" in finding.message and "2021-02-24" in finding.message
    assert any("[fee.rate]" in e.message for e in errors)


def test_interest_period_metadata_overrides_the_default(tmp_path: Path, rulebook: Rulebook) -> None:
    """period_start / period_end set the 积数 period (docs/ledger-format.md §5.6)."""
    entries, errors = load_text(
        """
2024-01-01 * "财政局" "注入风险补偿金"
  Assets:CQGX:Pool:Risk          1000.00 CNY
  Income:CQGX:Risk:Injection    -1000.00 CNY
2024-01-11 * "财政局" "注入风险补偿金"
  Assets:CQGX:Pool:Risk          1000.00 CNY
  Income:CQGX:Risk:Injection    -1000.00 CNY
2024-01-21 * "建设银行" "结息"
  period_start: 2024-01-11
  period_end: 2024-01-15
  Assets:CQGX:Pool:Risk             1.00 CNY
  Income:CQGX:Risk:Interest        -1.00 CNY
""",
        tmp_path,
    )
    analysis = analyse(entries, rulebook)
    assert errors == [] and analysis.findings == []
    [allocation] = analysis.records.interest
    assert (allocation.period_start, allocation.period_end) == (day("2024-01-11"), day("2024-01-15"))
    assert allocation.jishu_risk == D("10000.00")  # 2,000.00 × 5 days
    assert allocation.jishu_guarantee == D("0.00")


def test_finding_forms() -> None:
    finding = Finding(
        rule="fee.rate",
        severity=ERROR,
        program="CQGX",
        citation="渝高新发〔2021〕8号 第五条、第六条",
        message="贷款 CQ-2024-001 助保金未缴足",
        filename="ledger/cqgx/2024.beancount",
        lineno=42,
        date=day("2024-03-08"),
        loan="CQ-2024-001",
        figures=(("差额", D("0.01")),),
    )
    assert str(finding) == (
        "ledger/cqgx/2024.beancount:42: 错误 [fee.rate] 渝高新发〔2021〕8号 第五条、第六条：贷款 CQ-2024-001 助保金未缴足"
    )
    assert finding.as_dict()["figures"] == {"difference": "0.01"}
    assert finding.as_dict()["figure_labels"] == {"difference": "差额"}
    assert finding.as_dict()["date"] == "2024-03-08"


def test_escalation_when_the_risk_fund_has_nothing(tmp_path: Path, rulebook: Rulebook) -> None:
    """Guarantee fund exhausted, risk fund empty, no risk leg: a committee decision is needed."""
    default = """
2024-03-01 custom "loan" "approval" "CQ-2024-001"
  program: "CQGX"
  enterprise: "E-CQ-001"
  amount: 1000000.00 CNY
  letter: "高新创服函〔2024〕12号"
2024-03-05 * "企业" "缴纳助保金" ^CQ-2024-001
  Assets:CQGX:Pool:Guarantee     25000.00 CNY
  Income:CQGX:Guarantee:Fees    -25000.00 CNY
2024-03-08 custom "loan" "contract" "CQ-2024-001"
  amount: 1000000.00 CNY
2024-03-11 custom "loan" "disbursement" "CQ-2024-001"
  amount: 1000000.00 CNY
2024-09-02 custom "loan" "overdue" "CQ-2024-001"
  principal: 1000000.00 CNY
  interest: 20000.00 CNY
2024-09-04 custom "loan" "confirmation" "CQ-2024-001"
  letter: "高新创服确〔2024〕5号"
2024-09-05 custom "loan" "claim" "CQ-2024-001"
  principal: 1000000.00 CNY
  interest: 20000.00 CNY
  letter: "建行高新支行函〔2024〕31号"
  approval: "分管领导审核同意 2024-09-10"
2024-09-12 * "建设银行高新支行" "代偿（助保金）" ^CQ-2024-001
  Expenses:CQGX:Guarantee:Compensation   25000.00 CNY
  Assets:CQGX:Pool:Guarantee            -25000.00 CNY
"""
    entries, _ = load_text(default, tmp_path)
    [finding] = [f for f in analyse(entries, rulebook).findings if f.rule == "comp.escalation"]
    assert "助保金不足且风险补偿金已无余额" in finding.message and "不足部分 995,000.00 元" in finding.message
    decided = default + """
2024-09-13 custom "loan" "committee" "CQ-2024-001"
  decision: "管委会2024年第18次办公会议纪要"
"""
    entries, _ = load_text(decided, tmp_path)
    assert not [f for f in analyse(entries, rulebook).findings if f.rule.startswith("comp.")]


def test_outstanding_series_is_the_sum_of_each_loans_outstanding() -> None:
    """Analysis.outstanding reads a daily series built once; it must equal the register's
    loan-by-loan sum on every day a loan event happens (and the day before each)."""
    from beancount import loader

    from zhubaodai.core.engine import result_of

    _, _, options = loader.load_file(str(Path(__file__).resolve().parent.parent / "ledger" / "main.beancount"))
    analysis = result_of(options)
    assert analysis is not None
    days = {e.date for loan in analysis.register.loans.values() for e in loan.events}
    days |= {d - datetime.timedelta(days=1) for d in days}
    for program in analysis.rulebook.programs:
        for day in sorted(days):
            expected = sum(
                (l.outstanding(day) for l in analysis.register.loans.values() if l.program == program),
                Decimal(0),
            )
            assert analysis.outstanding(program, day) == expected, (program, day)


@pytest.mark.parametrize("ledger", ["main.beancount", "shapes.beancount"])
def test_each_loan_events_principal_is_balance_after_folded(ledger: str) -> None:
    """The register computes a loan's principal after each event once (Event.principal),
    for the rules and the faces to share: it must be register.balance_after folded over the
    loan's events, to the same Decimal (value and digits), and None on other events."""
    from zhubaodai.core.engine import result_of
    from zhubaodai.core.money import ZERO
    from zhubaodai.core.register import balance_after

    _, _, options = loader.load_file(str(Path(__file__).resolve().parent.parent / "ledger" / ledger))
    analysis = result_of(options)
    assert analysis is not None
    kinds = set()
    for loan in analysis.register.loans.values():
        balance = ZERO  # where Loan.outstanding always started
        for event in loan.events:
            balance = balance_after(balance, event)
            assert str(event.principal) == str(balance), (loan.id, event.kind, event.date)
            kinds.add(event.kind)
            # Loan.outstanding reads it: the principal after the day's last event.
            assert loan.outstanding(event.date) == [e for e in loan.events if e.date <= event.date][-1].principal
    assert {"disbursement", "repayment", "settlement"} <= kinds
    others = [e for history in analysis.register.enterprise_history.values() for e in history]
    assert others and all(e.principal is None for e in others)


def test_a_transaction_mixing_two_kinds_of_pool_business_is_one_format_error_at_it() -> None:
    """A fee and an injection booked in one entry: said once, at the entry, naming both
    kinds by their Chinese names; the entry still moves the funds (as "other")."""
    text = (
        f'option "operating_currency" "CNY"\ninclude "{LEDGERS / "common" / "cqgx"}.beancount"\n'
        '2024-03-01 * "混记" "缴费与注资"\n'
        "  Assets:CQGX:Pool:Guarantee   25000.00 CNY\n"
        "  Income:CQGX:Guarantee:Fees  -25000.00 CNY\n"
        "  Assets:CQGX:Pool:Risk      1000000.00 CNY\n"
        "  Income:CQGX:Risk:Injection -1000000.00 CNY\n"
    )
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    analysis = analyse(entries, load_rules(RULES_YAML))
    found = [(f.rule, f.program, f.message, f.lineno) for f in analysis.findings if f.rule == "ledger.format"]
    assert found == [("ledger.format", None, "一笔分录只记一类资金池业务，此笔混记了：助保金缴存、风险补偿金注入", 3)]
    # The entry still moves both funds, as business of no kind.
    state = analysis.programs["CQGX"]
    assert state.flows == {(GUARANTEE, "other"): Decimal("25000.00"), (RISK, "other"): Decimal("1000000.00")}
    assert (state.balance(GUARANTEE), state.balance(RISK)) == (Decimal("25000.00"), Decimal("1000000.00"))


def _walk(body: str) -> Analysis:
    """A CQGX ledger of ``body`` through the engine (with the load's options: Beancount's
    balance tolerance), whatever Beancount itself says of it."""
    text = f'option "operating_currency" "CNY"\ninclude "{LEDGERS / "common" / "cqgx"}.beancount"\n' + body
    entries, _, options = loader.load_string(text)
    return analyse(entries, load_rules(RULES_YAML), options)


def _format(analysis: Analysis) -> list[tuple[str | None, str, int]]:
    return [(f.program, f.message, f.lineno) for f in analysis.findings if f.rule == "ledger.format"]


INJECTED = (
    '2024-03-01 * "财政局" "注入风险补偿金"\n'
    "  Assets:CQGX:Pool:Risk         25000.01 CNY\n"
    "  Income:CQGX:Risk:Injection   -25000.01 CNY\n"
)


@pytest.mark.parametrize(
    ("asserted", "said"),
    [("25000.01", False), ("25000.00", True), ("25000.02", True), ("25000.03", False)],
)
def test_a_pool_balance_assertion_holds_to_the_fen_over_its_sub_accounts(asserted: str, said: bool) -> None:
    """The pool account's balance is its sub-accounts' (the walk's own totals): 25,000.01
    booked. A fen off either way is an error here (Beancount tolerates it); two fen off is
    Beancount's own error, not said twice."""
    analysis = _walk(INJECTED + f"2024-03-02 balance Assets:CQGX:Pool  {asserted} CNY\n")
    found = [(f.message, dict(f.figures), f.lineno) for f in analysis.findings if f.rule == "ledger.format"]
    difference = Decimal(asserted) - Decimal("25000.01")
    assert found == (
        [(
            "资金池账户 Assets:CQGX:Pool 的余额断言须与银行余额分毫不差（Beancount 允许的误差在此不适用）；"
            f"断言（银行余额） {asserted[:2]},{asserted[2:]} 元，账面余额 25,000.01 元，差额 {difference} 元",
            {"断言（银行余额）": Decimal(asserted), "账面余额": Decimal("25000.01"), "差额": difference},
            6,
        )]
        if said else []
    )
    assert analysis.programs["CQGX"].flows == {(RISK, "injection"): Decimal("25000.01")}


def test_the_tolerance_is_the_load_s_own() -> None:
    """Under a wider tolerance (tolerance_multiplier 1.5: 0.03 on fen), Beancount lets two
    fen pass: the engine, reading the load's options, says it."""
    analysis = _walk('option "tolerance_multiplier" "1.5"\n' + INJECTED + "2024-03-02 balance Assets:CQGX:Pool  25000.03 CNY\n")
    assert [dict(f.figures)["差额"] for f in analysis.findings if f.rule == "ledger.format"] == [Decimal("0.02")]


@pytest.mark.parametrize(
    ("pad", "side"),
    [
        ("Assets:CQGX:Pool:Risk Equity:CQGX:Disposal", "Assets:CQGX:Pool:Risk"),
        ("Assets:Cash:Outside Assets:CQGX:Pool:Guarantee", "Assets:CQGX:Pool:Guarantee"),
        ("Assets:Cash:Outside Equity:Opening", None),
    ],
)
def test_a_pad_on_either_side_of_a_pool_account_is_an_error_at_the_pad(pad: str, side: str | None) -> None:
    analysis = _walk(f"2024-06-01 pad {pad}\n2024-06-02 balance Assets:Cash:Outside  0.00 CNY\n2021-01-01 open Equity:Opening CNY\n")
    expected = [(
        None,
        f"资金池账户 {side} 不得用 pad 补平：pad 生成的分录不经规则检查，等于不经代偿程序提取或存入专户资金。"
        "从纸质账簿转入的资金池，请按开户日的银行余额逐项记一笔期初余额分录（见 docs/ledger-format.md 第 4.1 节）",
        3,
    )]
    assert _format(analysis) == (expected if side else [])


def test_a_padded_sub_account_s_later_postings_still_count_in_the_pool_s_balance() -> None:
    """A pad on a pool sub-account no role names (Extra) is an error at the pad; the
    account's own postings after it still count in the pool's balance: the assertion on
    the pool, 0.01 + 100.00 booked, is exact and said nothing of."""
    body = (
        "2021-01-01 open Assets:CQGX:Pool:Extra CNY\n"
        "2024-03-01 pad Assets:CQGX:Pool:Extra Assets:Cash:Outside\n"
        '2024-03-02 * "银行" "其他"\n  Assets:CQGX:Pool:Extra  0.01 CNY\n  Assets:Cash:Outside  -0.01 CNY\n'
        '2024-03-02 * "财政局" "注入"\n  Assets:CQGX:Pool:Risk  100.00 CNY\n  Income:CQGX:Risk:Injection  -100.00 CNY\n'
        "2024-03-04 balance Assets:CQGX:Pool  100.01 CNY\n"
    )
    assert [line for _, _, line in _format(_walk(body))] == [4]  # the pad, and nothing of the balance


def test_a_pool_sub_account_no_role_names_is_the_pool_s_unallocated_money() -> None:
    """Money on an account under the special account that rules.yaml gives no role is the
    pool's, not yet allocated to a fund: it counts under the pool account."""
    body = (
        "2021-01-01 open Assets:CQGX:Pool:Extra CNY\n"
        '2024-03-02 * "银行" "其他"\n  Assets:CQGX:Pool:Extra  0.01 CNY\n  Assets:Cash:Outside  -0.01 CNY\n'
    )
    state = _walk(body).programs["CQGX"]
    assert state.unallocated == {"Assets:CQGX:Pool": Decimal("0.01")}
    assert state.flows == {}


def test_a_balance_outside_the_bank_s_accounts_is_beancount_s_business() -> None:
    """Off by a fen (Beancount tolerates it) on an account neither a pool's nor a pledged
    deposit's: the engine says nothing; a pool's own assertion beside it still counts."""
    body = INJECTED + "2024-03-02 balance Assets:Cash:Outside  0.01 CNY\n" + "2024-03-02 balance Assets:CQGX:Pool:Risk  25000.01 CNY\n"
    assert _format(_walk(body)) == []


def test_a_movement_names_only_its_own_program_s_loans() -> None:
    """The links of a pool transaction that are loans of this program, in link order: a link
    that is no loan id, or another program's loan, is left out."""
    from zhubaodai.checks import pool

    seen: list[list[str]] = []
    body = (
        '2024-03-01 custom "loan" "approval" "CQ-2024-001"\n  program: "CQGX"\n  enterprise: "E-CQ-001"\n'
        '  amount: 3000000.00 CNY\n  letter: "高新创服函〔2024〕12号"\n'
        '2024-03-01 custom "loan" "approval" "WL-2024-001"\n  program: "WLHT"\n  enterprise: "E-WL-001"\n'
        '  amount: 1000000.00 CNY\n  letter: "乌兰浩特函〔2024〕1号"\n'
        '2024-03-05 * "企业" "缴纳助保金" ^CQ-2024-001 ^WL-2024-001 ^receipt-77\n'
        "  Assets:CQGX:Pool:Guarantee  75000.00 CNY\n  Income:CQGX:Guarantee:Fees  -75000.00 CNY\n"
    )
    real = pool.on_movement
    try:
        pool.on_movement = lambda ctx, m: (seen.append(list(m.loans)), real(ctx, m))[1]
        _walk(body)
    finally:
        pool.on_movement = real
    assert seen == [["CQ-2024-001"]]


def test_account_roles_sum_one_program_s_cny_postings_by_role() -> None:
    """engine.AccountRoles.roles (the importer's reading of an entry, as the walk reads it):
    every CNY posting of the program's accounts summed by role, whatever stands before
    them; another program's accounts and another currency are left out."""
    from zhubaodai.core.engine import AccountRoles

    text = (
        'option "operating_currency" "CNY"\n'
        '2021-01-01 open Assets:Cash:Outside\n2021-01-01 open Assets:WLHT:Pool:Risk CNY\n'
        "2021-01-01 open Assets:CQGX:Pool:Guarantee\n2021-01-01 open Income:CQGX:Guarantee:Fees\n"
        '2024-03-05 * "企业" "两笔助保金"\n'
        "  Assets:WLHT:Pool:Risk        10.00 CNY\n"
        "  Assets:CQGX:Pool:Guarantee    3.00 USD\n"
        "  Assets:CQGX:Pool:Guarantee  100.00 CNY\n"
        "  Assets:CQGX:Pool:Guarantee   25.50 CNY\n"
        "  Income:CQGX:Guarantee:Fees  -125.50 CNY\n"
        "  Assets:Cash:Outside          -10.00 CNY\n"
        "  Assets:Cash:Outside           -3.00 USD\n"
    )
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    accounts = AccountRoles(load_rules(RULES_YAML))
    assert accounts.roles(entries[-1], "CQGX") == {"guarantee_fund": Decimal("125.50"), "fee_income": Decimal("-125.50")}
    assert accounts.roles(entries[-1], "WLHT") == {"risk_fund": Decimal("10.00")}


def test_a_pool_posting_in_another_currency_or_below_the_fen_is_a_format_error() -> None:
    body = (
        '2024-03-01 * "企业" "外币"\n  Assets:CQGX:Pool:Guarantee  100.00 USD\n  Assets:Cash:Outside  -100.00 USD\n'
        '2024-03-02 * "财政局" "厘"\n  Assets:CQGX:Pool:Risk  25000.001 CNY\n  Income:CQGX:Risk:Injection  -25000.001 CNY\n'
    )
    assert _format(_walk(body)) == [
        (None, "资金池账户只记人民币（CNY）", 3),
        (None, "资金池账户的金额应精确到分（两位小数）", 6),
    ]


def test_an_unreadable_register_directive_is_a_format_error_at_it() -> None:
    body = '2024-03-01 custom "loan" "approval" "CQ 1"\n  program: "CQGX"\n'
    assert _format(_walk(body)) == [(
        None,
        "编号 'CQ 1' 只能由英文字母、数字和 - 组成，并以字母或数字开头（如 CQ-2024-001；贷款编号也用作分录的链接 ^编号）",
        3,
    )]


def test_a_balance_assertion_is_on_every_posting_to_the_account_and_only_its_own_sub_accounts() -> None:
    """Risk: 0.01 + 100.00 = 100.01 booked; the pool: that and 0.01 on a sub-account no
    rules.yaml role names (Extra) = 100.02. The bank says a fen more of each: both are said,
    each with its own booked figure (every posting summed, the sibling Extra not in Risk's)."""
    body = (
        "2021-01-01 open Assets:CQGX:Pool:Extra CNY\n"
        '2024-03-01 * "财政局" "注入"\n  Assets:CQGX:Pool:Risk  0.01 CNY\n  Income:CQGX:Risk:Injection  -0.01 CNY\n'
        '2024-03-02 * "财政局" "注入"\n  Assets:CQGX:Pool:Risk  100.00 CNY\n  Income:CQGX:Risk:Injection  -100.00 CNY\n'
        '2024-03-03 * "银行" "其他"\n  Assets:CQGX:Pool:Extra  0.01 CNY\n  Assets:Cash:Outside  -0.01 CNY\n'
        "2024-03-04 balance Assets:CQGX:Pool:Risk  100.02 CNY\n"
        "2024-03-04 balance Assets:CQGX:Pool  100.03 CNY\n"
    )
    found = [(f.message.split("；")[0], dict(f.figures)["账面余额"]) for f in _walk(body).findings if f.rule == "ledger.format"]
    assert found == [
        ("资金池账户 Assets:CQGX:Pool:Risk 的余额断言须与银行余额分毫不差（Beancount 允许的误差在此不适用）", Decimal("100.01")),
        ("资金池账户 Assets:CQGX:Pool 的余额断言须与银行余额分毫不差（Beancount 允许的误差在此不适用）", Decimal("100.02")),
    ]


def test_a_plugin_after_ours_in_the_load_s_options_is_one_format_error() -> None:
    """The walk reads the plugins the load listed: one named after zhubaodai.plugin that may
    change entries is said once, with no entry (it is the file's order, not an entry's);
    a harmless one after it, or any before it, is not."""
    text = f'option "operating_currency" "CNY"\ninclude "{LEDGERS / "common" / "cqgx"}.beancount"\n'
    entries, errors, options = loader.load_string(text)
    assert errors == []
    listed = [
        ("beancount.plugins.implicit_prices", None),
        ("zhubaodai.plugin", "{'rules': 'rules.yaml'}"),
        ("beancount.plugins.check_commodity", None),
        ("beancount.plugins.auto_accounts", None),
    ]
    analysis = analyse(entries, load_rules(RULES_YAML), {**options, "plugin": listed})
    assert [(f.rule, f.program, f.message, f.entry) for f in analysis.findings] == [(
        "ledger.format",
        None,
        "插件 beancount.plugins.auto_accounts 写在 zhubaodai.plugin 之后：它对分录的改动不再经规则检查。"
        '请把 plugin "zhubaodai.plugin" 一行移到所有其他 plugin 行之后',
        None,
    )]


HKJB_PLEDGED = (
    '2021-01-05 custom "enterprise" "register" "E-HK-001"\n  program: "HKJB"\n  name: "海口某某科技有限公司"\n  size: "小型"\n'
    '2021-03-01 custom "loan" "approval" "HK-2021-001"\n  program: "HKJB"\n  enterprise: "E-HK-001"\n'
    '  amount: 1000000.00 CNY\n  letter: "海口金融办函〔2021〕001号"\n'
    '2021-03-02 * "海口某某科技有限公司" "质押存单 HK-2021-001"\n'
    "  Assets:HKJB:Deposits:HK-2021-001      20000.00 CNY\n"
    "  Equity:HKJB:Deposits:Enterprises    -20000.00 CNY\n"
)


@pytest.mark.parametrize("other", ["Expenses:HKJB:Management", "Assets:HKJB:Pool:Guarantee"])
def test_a_pledged_deposit_moved_anywhere_but_its_three_ways_is_a_format_error(other: str) -> None:
    """A loan's deposit sub-account has the parent's role (rules.yaml names only the parent):
    taking the pledge to an account of no role, or into the pool, is a deposit entry of
    none of the three shapes, said at it; the pledge itself stays the loan's."""
    text = (
        f'option "operating_currency" "CNY"\ninclude "{LEDGERS / "common" / "hkjb"}.beancount"\n'
        + HKJB_PLEDGED
        + f'2021-04-01 * "银行" "存单转出"\n  Assets:HKJB:Deposits:HK-2021-001  -5000.00 CNY\n  {other}  5000.00 CNY\n'
    )
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    analysis = analyse(entries, load_rules(RULES_YAML))
    shape = "质押存单分录应为质押（来源→存单）、解押（存单→来源）或代偿（存单→存单代偿支出）之一，金额相符"
    assert [(f.rule, f.message, f.lineno) for f in analysis.findings] == [("ledger.format", shape, 15)]
    deposit = analysis.programs["HKJB"].deposits["HK-2021-001"]
    assert [(m.kind, m.amount) for m in deposit.moves] == [("pledge", Decimal("20000.00"))]


def _hkjb(body: str) -> Analysis:
    """HKJB's common ledger, a pledge of 20,000.00 for HK-2021-001, then ``body``, through
    the engine with the load's options."""
    text = f'option "operating_currency" "CNY"\ninclude "{LEDGERS / "common" / "hkjb"}.beancount"\n' + HKJB_PLEDGED + body
    entries, _, options = loader.load_string(text)
    return analyse(entries, load_rules(RULES_YAML), options)


@pytest.mark.parametrize(
    "pad",
    [
        "Assets:HKJB:Deposits:HK-2021-001 Equity:HKJB:Deposits:Enterprises",
        "Assets:Cash:Outside Assets:HKJB:Deposits:HK-2021-001",
    ],
)
def test_a_pad_on_a_loan_s_pledged_deposit_is_an_error_at_the_pad(pad: str) -> None:
    """rules.yaml names only the deposits' parent; a loan's own deposit account (under it)
    cannot be padded either, on either side: the pad would move the pledge unchecked."""
    analysis = _hkjb(f"2021-06-01 pad {pad}\n2021-06-02 balance Assets:Cash:Outside  0.00 CNY\n")
    assert _format(analysis) == [(
        None,
        "质押存单账户 Assets:HKJB:Deposits:HK-2021-001 不得用 pad 补平：pad 生成的分录不经规则检查，"
        "等于不经质押、解押或先行代偿移动企业的存单。从纸质账簿转入的存单，请按质押日的金额记一笔质押分录"
        "（见 docs/ledger-format.md 第 10 节）",
        15,
    )]


@pytest.mark.parametrize(
    ("account", "asserted", "said"),
    [
        ("Assets:HKJB:Deposits:HK-2021-001", "20000.00", False),
        ("Assets:HKJB:Deposits:HK-2021-001", "19999.99", True),
        ("Assets:HKJB:Deposits", "20000.01", True),
        ("Assets:HKJB:Deposits", "20000.00", False),
    ],
)
def test_a_pledged_deposit_s_balance_assertion_holds_to_the_fen(account: str, asserted: str, said: bool) -> None:
    """The bank reports the pledged deposits too: a fen off on a loan's deposit account, or
    on the parent over all of them, is an error Beancount would have tolerated."""
    analysis = _hkjb(f"2021-06-02 balance {account}  {asserted} CNY\n")
    difference = Decimal(asserted) - Decimal("20000.00")
    assert [(f.message.split("；")[0], dict(f.figures), f.lineno) for f in analysis.findings if f.rule == "ledger.format"] == (
        [(
            f"质押存单账户 {account} 的余额断言须与银行余额分毫不差（Beancount 允许的误差在此不适用）",
            {"断言（银行余额）": Decimal(asserted), "账面余额": Decimal("20000.00"), "差额": difference},
            15,
        )]
        if said else []
    )


def test_a_foreign_currency_line_does_not_hide_the_entry_s_other_lines() -> None:
    """The USD line on the pool is a format error; the CNY injection after it in the same
    entry still moves the risk fund."""
    body = (
        '2024-03-01 * "财政局" "注入（误记一行美元）"\n'
        "  Assets:CQGX:Pool:Guarantee   100.00 USD\n"
        "  Assets:Cash:Outside         -100.00 USD\n"
        "  Assets:CQGX:Pool:Risk       700.00 CNY\n"
        "  Income:CQGX:Risk:Injection -700.00 CNY\n"
    )
    analysis = _walk(body)
    assert _format(analysis) == [(None, "资金池账户只记人民币（CNY）", 3)]
    assert analysis.programs["CQGX"].flows == {(RISK, "injection"): Decimal("700.00")}


def test_an_entry_mixed_for_one_program_still_moves_the_next_program_s_pool() -> None:
    """CQGX's part mixes two kinds (said, booked as other); WLHT's injection in the same
    entry is still WLHT's injection."""
    analysis = _walk(
        "2021-01-01 open Assets:WLHT:Pool:Risk CNY\n2021-01-01 open Income:WLHT:Risk:Injection CNY\n"
        '2024-03-01 * "混记" "两个项目"\n'
        "  Assets:CQGX:Pool:Guarantee   25000.00 CNY\n  Income:CQGX:Guarantee:Fees  -25000.00 CNY\n"
        "  Assets:CQGX:Pool:Risk         1000.00 CNY\n  Income:CQGX:Risk:Injection   -1000.00 CNY\n"
        "  Assets:WLHT:Pool:Risk         3000.00 CNY\n  Income:WLHT:Risk:Injection   -3000.00 CNY\n"
    )
    assert _format(analysis) == [(None, "一笔分录只记一类资金池业务，此笔混记了：助保金缴存、风险补偿金注入", 5)]
    assert analysis.programs["CQGX"].flows == {(GUARANTEE, "other"): Decimal("25000.00"), (RISK, "other"): Decimal("1000.00")}
    assert analysis.programs["WLHT"].flows == {(RISK, "injection"): Decimal("3000.00")}
