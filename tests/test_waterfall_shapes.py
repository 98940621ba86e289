"""Shapes of the waterfall beyond the rule ledgers: a table whose pool pays first and whose
loss left after recovery is split among outside parties (金东, multi-funder-pools.txt [2a]:
the pool pays; what recovery does not bring back is borne 40/40/20 by the government, the
guarantor and the bank), on the SZPS accounts with the table changed in a copy of rules.yaml.
No program of rules.yaml uses ``residual`` yet: this is its test."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader

from zhubaodai.core.engine import RISK
from zhubaodai.core.engine import analyse
from zhubaodai.core.rules import RulesError
from zhubaodai.core.rules import parse_rules

ROOT = Path(__file__).resolve().parent.parent
RULES = (ROOT / "rules.yaml").read_text(encoding="utf-8")
SZPS_TABLE = """\
              2026-02-05:
                risk: 0.40
                guarantor: 0.40
                bank: rest
          shrink:
            article: 政策问答“补偿标准”第 1 点
            values:
              2026-02-05: true
"""
POOL_FIRST = """\
              2026-02-05:
                risk: 1
          residual:
            article: 金东风险池（测试）
            values:
              2026-02-05:
                government: 0.40
                guarantor: 0.40
                bank: 0.20
"""
D = Decimal


def rulebook(table: str = POOL_FIRST):
    assert RULES.count(SZPS_TABLE) == 1, "rules.yaml's SZPS table changed: update this test"
    return parse_rules(RULES.replace(SZPS_TABLE, table), str(ROOT / "rules.yaml"))


LEDGER = (ROOT / "tests" / "ledgers" / "rules" / "comp.shares" / "szps-pass.beancount").read_text(encoding="utf-8")


def story(recovered: str | None, back: str | None) -> str:
    text = LEDGER.replace("  guarantor_share: 400000.00 CNY\n  bank_share: 200000.00 CNY\n", "")
    text = text.replace("400000.00 CNY", "1000000.00 CNY")
    text = text.replace('include "../../common/szps.beancount"', f'include "{ROOT}/tests/ledgers/common/szps.beancount"')
    text = "\n".join(l for l in text.splitlines() if not l.startswith("plugin "))
    # The book must carry the pool's 1,000,000: lent 41,000,000, fees 500,000.
    text = text.replace("amount: 400000.00 CNY\n  guarantor:", "amount: 500000.00 CNY\n  guarantor:")
    if recovered:
        text += f"""
2027-01-15 custom "loan" "recovery" "SZ-2026-001"
  recovered: {recovered} CNY
  costs: 50000.00 CNY
"""
    if back:
        text += f"""
2027-01-20 * "建设银行坪山支行" "追偿款补回风险补偿金 SZ-2026-001" ^SZ-2026-001
  Assets:SZPS:Pool:Risk                     {back} CNY
  Income:SZPS:Risk:Recovery                -{back} CNY
"""
    return text


def run(text: str, book=None):
    entries, errors, _ = loader.load_string(text)
    assert errors == [], errors
    return analyse(entries, book or rulebook())


def test_the_pool_pays_first_and_the_loss_after_recovery_is_split_40_40_20():
    # Paid 1,000,000.00; recovered 300,000.00 less costs 50,000.00 = 250,000.00 back to the
    # risk fund; the loss of 750,000.00 is borne 300,000.00 / 300,000.00 / 150,000.00.
    analysis = run(story("300000.00", "250000.00"))
    assert [f for f in analysis.findings if f.rule.startswith("comp.")] == []
    (shared,) = analysis.records.shares["SZ-2026-001"]
    assert shared.paid == {"risk": D("1000000.00")}
    assert shared.residual == {"government": D("300000.00"), "guarantor": D("300000.00"), "bank": D("150000.00")}
    back = analysis.records.loan_recoveries["SZ-2026-001"]
    assert back.expected[RISK] == back.received[RISK] == D("250000.00")


def test_before_any_recovery_the_whole_payment_is_the_loss_and_splits_to_the_fen():
    analysis = run(story(None, None))
    (shared,) = analysis.records.shares["SZ-2026-001"]
    assert sum(shared.residual.values(), D(0)) == D("1000000.00")
    assert shared.residual["government"] == D("400000.00")


def test_the_pool_taking_back_more_than_the_recovery_is_a_finding():
    analysis = run(story("300000.00", "250000.01"))
    found = [f for f in analysis.findings if f.rule == "comp.shares"]
    assert len(found) == 1 and "超出 0.01 元" in found[0].message
    assert "追偿款补回资金池超过应补回的金额" in found[0].message  # SZPS names its fund 资金池
    # and the recovery not yet back is a warning
    analysis = run(story("300000.00", None))
    warnings = [f for f in analysis.findings if f.rule == "comp.shares"]
    assert len(warnings) == 1 and warnings[0].severity == "warning" and "差额 250,000.00 元" in warnings[0].message
    assert "追偿款应补回资金池的部分尚未到账" in warnings[0].message


def test_residual_needs_no_pool_fund_but_sums_to_one():
    with pytest.raises(RulesError, match="各方比例之和为 0.90"):
        rulebook(POOL_FIRST.replace("bank: 0.20", "bank: 0.10"))
    with pytest.raises(RulesError, match="未知的承担方"):
        rulebook(POOL_FIRST.replace("government: 0.40", "city: 0.40"))


def test_the_dossier_states_each_partys_part_and_the_loss_split():
    from zhubaodai.dossier import _calculation

    text = _calculation(run(story("300000.00", "250000.00")), "SZ-2026-001")
    assert "资金池支付 1,000,000.00 元" in text and "风险补偿金" not in text  # SZPS names its fund 资金池
    assert "追偿后仍未弥补的损失由各方分担：政府 300,000.00 元；担保机构 300,000.00 元；合作银行 150,000.00 元" in text


# ---------------------------------------------------------------------- days overdue as the trigger

NPL_TRIGGER = """\
          trigger:
            article: 第二条
            values:
              2026-02-05: npl
"""
NINETY_DAYS = """\
          trigger:
            article: 第二条
            values:
              2026-02-05: overdue
          overdue_days:
            article: 某办法（测试）：逾期满 90 天
            values:
              2026-02-05: 90
"""


def overdue_story(claim_day: str, comp_day: str) -> str:
    text = LEDGER.replace('include "../../common/szps.beancount"', f'include "{ROOT}/tests/ledgers/common/szps.beancount"')
    text = "\n".join(l for l in text.splitlines() if not l.startswith("plugin "))
    text = text.replace('2026-09-30 custom "loan" "npl" "SZ-2026-001"\n  classification: "次级"\n',
                        '2026-07-01 custom "loan" "overdue" "SZ-2026-001"\n')
    text = text.replace('2026-10-09 custom "loan" "claim"', f'{claim_day} custom "loan" "claim"')
    return text.replace('2026-10-16 * "建设银行坪山支行"', f'{comp_day} * "建设银行坪山支行"')


def ninety_days_rules():
    assert RULES.count(NPL_TRIGGER) == 1
    return parse_rules(RULES.replace(NPL_TRIGGER, NINETY_DAYS), str(ROOT / "rules.yaml"))


def test_a_claim_on_the_ninetieth_day_overdue_passes():
    # Overdue 2026-07-01: 90 days are reached on 2026-09-29.
    analysis = run(overdue_story("2026-09-29", "2026-09-29"), ninety_days_rules())
    assert analysis.findings == [], [str(f) for f in analysis.findings]


def test_a_claim_one_day_early_fails_and_so_does_the_compensation():
    analysis = run(overdue_story("2026-09-28", "2026-09-28"), ninety_days_rules())
    got = {(f.rule, f.message) for f in analysis.findings}
    assert ("comp.scope", "贷款 SZ-2026-001 逾期未满 90 天，不能申请代偿（2026-07-01 逾期，2026-09-29 起方满 90 天）") in got
    assert any(rule == "pool.no_withdrawal" and "在代偿日逾期未满 90 天（2026-07-01 逾期）" in message
               for rule, message in got)
    # The claim's figures carry the days it had been overdue.
    scope = next(f for f in analysis.findings if f.rule == "comp.scope")
    assert dict(scope.figures)["逾期天数"] == Decimal(89)


def test_overdue_days_with_another_trigger_is_refused_on_load():
    with pytest.raises(RulesError, match="overdue_days（逾期满若干天）只适用于触发事件 overdue，此处触发事件为 npl"):
        parse_rules(RULES.replace(NPL_TRIGGER, NINETY_DAYS.replace("2026-02-05: overdue", "2026-02-05: npl")),
                    str(ROOT / "rules.yaml"))
