"""Whose money pays first (issue #10, shape 2) and the shapes' validation on load.

The pledged deposit (海口金保贷, HKJB) has its rule ledgers in tests/ledgers/rules/deposit.*;
here: the enterprise's own fees earmarked for its own loan (comp.waterfall
``guarantee_basis: own_fees``, 五指山's 企业助保金 "用于偿还本企业贷款"), tested on a copy of
rules.yaml whose CQGX block says so, against the same ledger under the mutualised pool;
and the mistakes in rules.yaml the new shapes reject on load, with file, line and key.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader

from conftest import LEDGERS
from conftest import RULES_YAML
from zhubaodai.core.engine import analyse
from zhubaodai.core.findings import ERROR
from zhubaodai.core.rules import Rulebook
from zhubaodai.core.rules import RulesError
from zhubaodai.core.rules import load_rules
from zhubaodai.core.rules import parse_rules

TEXT = RULES_YAML.read_text(encoding="utf-8")
# CQGX's comp.waterfall parameter as rules.yaml has it; the copy adds guarantee_basis.
RISK_SHARE = """\
          risk_share:
            article: 第十七条
            values:
              2021-02-24: 0.5
"""
OWN_FEES = RISK_SHARE + """\
          guarantee_basis:
            article: 第十七条（测试用：助保金只偿还本企业的贷款）
            values:
              2021-02-24: own_fees
"""


def own_fees_rulebook() -> Rulebook:
    assert TEXT.count(RISK_SHARE) == 1, "rules.yaml no longer has CQGX's risk_share as expected: update this test"
    return parse_rules(TEXT.replace(RISK_SHARE, OWN_FEES), str(RULES_YAML))


# Two enterprises, each with a loan and its 2.5% fee: the guarantee fund holds 75,000.00,
# of which E-CQ-001 paid 25,000.00. Loan CQ-2024-001 falls overdue for 1,020,000.00.
LEDGER = """\
option "operating_currency" "CNY"
include "{common}"

2024-01-02 * "高新区财政局" "注入风险补偿金"
  Assets:CQGX:Pool:Risk                     5000000.00 CNY
  Income:CQGX:Risk:Injection               -5000000.00 CNY

{loans}
2024-09-02 custom "loan" "overdue" "CQ-2024-001"
  principal: 1000000.00 CNY
  interest: 20000.00 CNY

2024-09-05 custom "loan" "claim" "CQ-2024-001"
  principal: 1000000.00 CNY
  interest: 20000.00 CNY
  letter: "建行高新支行函〔2024〕31号"
  approval: "分管领导审核同意 2024-09-10"

2024-09-12 * "建设银行高新支行" "代偿 CQ-2024-001" ^CQ-2024-001
  bank_share: {bank} CNY
  Expenses:CQGX:Guarantee:Compensation     {guarantee} CNY
  Expenses:CQGX:Risk:Compensation          {risk} CNY
  Assets:CQGX:Pool:Guarantee              -{guarantee} CNY
  Assets:CQGX:Pool:Risk                   -{risk} CNY
{later}"""

LOAN = """\
2024-01-05 custom "enterprise" "register" "{enterprise}"
  program: "CQGX"
  name: "重庆某某科技有限公司 {enterprise}"

2024-03-01 custom "loan" "approval" "{loan}"
  program: "CQGX"
  enterprise: "{enterprise}"
  amount: {amount} CNY
  letter: "高新创服函〔2024〕12号"

2024-03-05 * "缴纳助保金" ^{loan}
  Assets:CQGX:Pool:Guarantee                  {fee} CNY
  Income:CQGX:Guarantee:Fees                 -{fee} CNY

2024-03-08 custom "loan" "contract" "{loan}"
  amount: {amount} CNY

2024-03-11 custom "loan" "disbursement" "{loan}"
  amount: {amount} CNY

"""


def ledger(tmp_path: Path, guarantee: str, later: str = "", third: bool = False) -> list:
    loans = LOAN.format(enterprise="E-CQ-001", loan="CQ-2024-001", amount="1000000.00", fee="25000.00")
    loans += LOAN.format(enterprise="E-CQ-002", loan="CQ-2024-002", amount="2000000.00", fee="50000.00")
    if third:  # a second loan of E-CQ-001 (registered once)
        loans += LOAN.format(enterprise="E-CQ-001", loan="CQ-2024-003", amount="400000.00", fee="10000.00").split(
            "\n\n", 1
        )[1]
    risk = f"{(Decimal('1020000.00') - Decimal(guarantee)) / 2:.2f}"  # the half, exact here
    text = LEDGER.format(
        common=LEDGERS / "common" / "cqgx.beancount", loans=loans, guarantee=guarantee, risk=risk,
        bank=risk, later=later,
    )
    path = tmp_path / "own-fees.beancount"
    path.write_text(text, encoding="utf-8")
    entries, errors, _ = loader.load_file(str(path))
    assert errors == []
    return entries


def waterfall_findings(entries: list, rulebook: Rulebook) -> list[str]:
    analysis = analyse(entries, rulebook)
    return [f.message for f in analysis.findings if f.rule == "comp.waterfall"]


def test_own_fees_pay_only_the_enterprises_own_loan(tmp_path: Path) -> None:
    own = own_fees_rulebook()
    pool = load_rules(RULES_YAML)
    # The enterprise's own 25,000.00: lawful under own_fees, too little for the pool.
    entries = ledger(tmp_path, "25000.00")
    assert waterfall_findings(entries, own) == []
    assert any("助保金应付 75,000.00 元" in m for m in waterfall_findings(entries, pool))
    # The whole pool's 75,000.00: lawful for the pool, the other enterprise's money under own_fees.
    entries = ledger(tmp_path, "75000.00")
    assert waterfall_findings(entries, pool) == []
    found = waterfall_findings(entries, own)
    assert any("助保金应付 25,000.00 元，实付 75,000.00 元，差额 -50,000.00 元" in m for m in found), found


def test_own_fees_at_the_fen(tmp_path: Path) -> None:
    found = waterfall_findings(ledger(tmp_path, "25000.01"), own_fees_rulebook())
    assert any("助保金应付 25,000.00 元，实付 25,000.01 元，差额 -0.01 元" in m for m in found), found


SECOND_DEFAULT = """
2024-10-02 custom "loan" "overdue" "CQ-2024-003"
  principal: 400000.00 CNY

2024-10-05 custom "loan" "claim" "CQ-2024-003"
  principal: 400000.00 CNY
  letter: "建行高新支行函〔2024〕40号"
  approval: "分管领导审核同意 2024-10-08"

2024-10-10 * "建设银行高新支行" "代偿 CQ-2024-003" ^CQ-2024-003
  bank_share: {bank} CNY
{guarantee}  Expenses:CQGX:Risk:Compensation          {risk} CNY
  Assets:CQGX:Pool:Risk                   -{risk} CNY
"""


def test_own_fees_already_used_are_not_used_twice(tmp_path: Path) -> None:
    """E-CQ-001 paid 35,000.00 on two loans; the first default used all of it: the second
    default gets nothing from the guarantee fund, though it still holds E-CQ-002's 50,000.00."""
    own = own_fees_rulebook()
    clean = SECOND_DEFAULT.format(guarantee="", risk="200000.00", bank="200000.00")
    assert waterfall_findings(ledger(tmp_path, "35000.00", clean, third=True), own) == []
    legs = "  Expenses:CQGX:Guarantee:Compensation     10000.00 CNY\n  Assets:CQGX:Pool:Guarantee              -10000.00 CNY\n"
    taken = SECOND_DEFAULT.format(guarantee=legs, risk="195000.00", bank="195000.00")
    found = waterfall_findings(ledger(tmp_path, "35000.00", taken, third=True), own)
    assert any("助保金应付 0.00 元，实付 10,000.00 元" in m for m in found), found


# --------------------------------------------------------------------------------------
# The new shapes are validated on load: an unsupported one is rejected, never ignored.

HKJB_DEPOSITS = "      deposits: Assets:HKJB:Deposits\n"


def rejected(tmp_path: Path, text: str) -> RulesError:
    (tmp_path / "calendar.yaml").write_text((RULES_YAML.parent / "calendar.yaml").read_text(encoding="utf-8"))
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError) as info:
        load_rules(path)
    assert str(info.value).startswith(f"{path}:{info.value.line}: ")
    return info.value


def test_unknown_guarantee_basis_is_rejected(tmp_path: Path) -> None:
    error = rejected(tmp_path, TEXT.replace(RISK_SHARE, OWN_FEES.replace("own_fees", "enterprise")))
    assert error.key.endswith("comp.waterfall.params.guarantee_basis.values.2021-02-24")
    assert "own_fees" in error.message


def test_a_rule_needs_its_optional_roles(tmp_path: Path) -> None:
    error = rejected(tmp_path, TEXT.replace(HKJB_DEPOSITS, ""))
    assert error.key == "programs.HKJB.rules.deposit.pledge"
    assert "deposits" in error.message


def test_deposits_are_not_in_the_special_account(tmp_path: Path) -> None:
    error = rejected(tmp_path, TEXT.replace(HKJB_DEPOSITS, "      deposits: Assets:HKJB:Pool:Deposits\n"))
    assert error.key == "programs.HKJB.accounts.deposits"
    assert "不在专户内" in error.message


def test_unknown_role_is_rejected(tmp_path: Path) -> None:
    error = rejected(tmp_path, TEXT.replace(HKJB_DEPOSITS, HKJB_DEPOSITS + "      outflow_bonus: Expenses:HKJB:Bonus\n"))
    assert error.key == "programs.HKJB.accounts.outflow_bonus"
    assert "outflow_subsidy" in error.message


def test_project_rules_carry_the_hkjb_shapes() -> None:
    hkjb = load_rules(RULES_YAML).programs["HKJB"]
    assert hkjb.rules["deposit.pledge"].severity == ERROR
    assert hkjb.rules["deposit.pledge"].params["rate"].at(datetime.date(2021, 1, 1)) == Decimal("0.02")
    assert hkjb.rules["outflow.subsidy"].params["annual_cap"].at(datetime.date(2024, 1, 1)) == 5000000


def test_an_optional_role_needs_a_rule_that_uses_it(tmp_path: Path) -> None:
    text = TEXT
    start = text.index("      outflow.subsidy:\n", text.index("  HKJB:"))
    end = text.index("      risk.cap:\n", start)
    error = rejected(tmp_path, text[:start] + text[end:])
    assert error.key == "programs.HKJB.accounts.outflow_subsidy"
    assert "outflow.subsidy" in error.message
