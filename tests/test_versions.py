"""Rule versions: the value in force on the event's date applies; a date before the first
version (or after a version ended with null) is an error; rules.yaml rejects versions that
overlap or leave a gap."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from beancount import loader

from zhubaodai.core.engine import analyse
from zhubaodai.core.findings import ERROR
from zhubaodai.core.findings import WARNING
from zhubaodai.core.rules import ParamDateError
from zhubaodai.core.rules import RulesError
from zhubaodai.core.rules import load_rules
from zhubaodai.core.rules import parse_rules

ROOT = Path(__file__).resolve().parent.parent
RULES_TEXT = (ROOT / "rules.yaml").read_text(encoding="utf-8")


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def rules_with(old: str, new: str, tmp_path: Path):
    assert RULES_TEXT.count(old) == 1, old
    path = tmp_path / "rules.yaml"
    path.write_text(RULES_TEXT.replace(old, new), encoding="utf-8")
    (tmp_path / "calendar.yaml").write_text((ROOT / "calendar.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return path


CQ_FEE_RATE = """          rate:
            article: 第六条
            values:
              2021-02-24: 0.025
      fee.timing:"""


def test_value_in_force_on_the_date() -> None:
    rulebook = load_rules(ROOT / "rules.yaml")
    benchmark = rulebook.programs["CQGX"].rules["loan.rate"].params["benchmark"]
    assert benchmark.at(day("2019-08-19")) == benchmark.at(day("2015-10-24"))
    assert str(benchmark.at(day("2024-07-21"))) == "0.0345"
    assert str(benchmark.at(day("2024-07-22"))) == "0.0335"  # the new version from its first day
    with pytest.raises(ParamDateError) as info:
        benchmark.at(day("2015-10-23"))
    assert "尚无生效版本" in str(info.value) and "2015-10-24" in str(info.value)


def test_a_parameter_ended_with_null_is_not_in_force_after(tmp_path: Path) -> None:
    path = rules_with(CQ_FEE_RATE, CQ_FEE_RATE.replace("0.025\n", "0.025\n              2030-01-01: null\n"), tmp_path)
    param = load_rules(path).programs["CQGX"].rules["fee.rate"].params["rate"]
    assert str(param.at(day("2029-12-31"))) == "0.025"
    with pytest.raises(ParamDateError) as info:
        param.at(day("2030-01-01"))
    assert "自 2030-01-01 起已不再施行" in str(info.value)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        # Written out of order: the later line would silently become the earlier version.
        ("2021-02-24: 0.025\n              2021-01-01: 0.02\n", "版本重叠"),
        # The same date twice.
        ("2021-02-24: 0.025\n              2021-02-24: 0.02\n", "键重复"),
        # A version after the parameter ended: a gap between the two.
        ("2021-02-24: 0.025\n              2024-01-01: null\n              2025-01-01: 0.02\n", "空档"),
        # Starting after the program's effective date (2021-02-24): a gap at the start.
        ("2021-03-01: 0.025\n", "空档"),
        ("2021-02-24: null\n", "首个版本不能为 null"),
    ],
)
def test_overlapping_or_gapped_versions_are_rejected(values: str, message: str, tmp_path: Path) -> None:
    path = rules_with(CQ_FEE_RATE, CQ_FEE_RATE.replace("2021-02-24: 0.025\n", values), tmp_path)
    with pytest.raises(RulesError) as info:
        load_rules(path)
    assert message in str(info.value)
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "fee.rate:") + 1
    end = next(i for i, line in enumerate(lines) if line.strip() == "fee.timing:") + 1
    assert info.value.line is not None and start < info.value.line < end  # points into fee.rate


LEDGER = """\
option "operating_currency" "CNY"
include "{common}"

2021-03-01 custom "program" "open" "CQGX"
2021-03-01 * "高新区财政局" "注入风险补偿金"
  Assets:CQGX:Pool:Risk         5000000.00 CNY
  Income:CQGX:Risk:Injection   -5000000.00 CNY
2024-01-05 custom "enterprise" "register" "E-1"
  program: "CQGX"
  name: "重庆甲科技有限公司"
  size: "小型"
  zone: TRUE
  hightech_until: 2026-12-31
2024-01-05 custom "enterprise" "register" "E-2"
  program: "CQGX"
  name: "重庆乙科技有限公司"
  size: "小型"
  zone: TRUE
  hightech_until: 2026-12-31
{loans}
"""

LOAN = """\
{approved} custom "loan" "approval" "{loan}"
  program: "CQGX"
  enterprise: "{enterprise}"
  amount: 2000000.00 CNY
  letter: "高新创服函〔2024〕1号"
  purpose: "流动资金"
{paid} * "企业" "缴纳助保金" ^{loan}
  Assets:CQGX:Pool:Guarantee    {fee} CNY
  Income:CQGX:Guarantee:Fees   -{fee} CNY
{signed} custom "loan" "contract" "{loan}"
  amount: 2000000.00 CNY
  maturity: {maturity}
  rate: {rate}
{signed} custom "loan" "disbursement" "{loan}"
  amount: 2000000.00 CNY
  notice_date: {signed}
"""


def _analyse(tmp_path: Path, rules: Path, loans: str):
    text = LEDGER.format(common=ROOT / "tests" / "ledgers" / "common" / "cqgx.beancount", loans=loans)
    path = tmp_path / "main.beancount"
    path.write_text(text, encoding="utf-8")
    entries, errors, _ = loader.load_file(str(path))
    assert errors == []
    return analyse(entries, load_rules(rules))


def _loan(loan: str, enterprise: str, signed: str, fee: str, rate: str = "0.0300") -> str:
    signed_day = day(signed)
    return LOAN.format(
        loan=loan,
        enterprise=enterprise,
        approved=signed_day - datetime.timedelta(days=7),
        paid=signed_day - datetime.timedelta(days=2),
        signed=signed,
        fee=fee,
        rate=rate,
        maturity=signed_day.replace(year=signed_day.year + 1),
    )


def test_a_fee_rate_changed_mid_year_charges_the_old_rate_before_the_change(tmp_path: Path) -> None:
    """2.5% until 2024-06-30, 2% from 2024-07-01: each contract pays the rate of its date."""
    rules = rules_with(CQ_FEE_RATE, CQ_FEE_RATE.replace("0.025\n", "0.025\n              2024-07-01: 0.02\n"), tmp_path)
    old_rate_paid = _loan("CQ-1", "E-1", "2024-06-28", "50000.00")  # 2,000,000 × 2.5%
    new_rate_paid = _loan("CQ-2", "E-2", "2024-07-01", "40000.00")  # 2,000,000 × 2%
    analysis = _analyse(tmp_path, rules, old_rate_paid + new_rate_paid)
    assert analysis.findings == []
    dues = {loan: account.due for loan, account in analysis.records.fees.items()}
    assert {k: str(v) for k, v in dues.items()} == {"CQ-1": "50000.00", "CQ-2": "40000.00"}
    # Paying the new rate on the loan contracted before the change falls short by the difference.
    short = _loan("CQ-1", "E-1", "2024-06-28", "40000.00")
    analysis = _analyse(tmp_path, rules, short)
    [finding] = analysis.findings
    assert (finding.rule, finding.severity) == ("fee.rate", ERROR)
    assert "应缴 50,000.00 元，实缴 40,000.00 元，差额 10,000.00 元" in finding.message


def test_the_benchmark_in_force_on_the_contract_date(tmp_path: Path) -> None:
    """4.10% is within 1.2 × 3.45% (4.14%) on 2024-07-19, not within 1.2 × 3.35% (4.02%) from 2024-07-22."""
    rules = ROOT / "rules.yaml"
    before = _analyse(tmp_path, rules, _loan("CQ-1", "E-1", "2024-07-19", "50000.00", rate="0.0410"))
    assert before.findings == []
    after = _analyse(tmp_path, rules, _loan("CQ-1", "E-1", "2024-07-22", "50000.00", rate="0.0410"))
    [finding] = after.findings
    assert (finding.rule, finding.severity) == ("loan.rate", WARNING)
    assert "3.35%" in finding.message and "4.02%" in finding.message


def test_an_event_before_the_first_version_is_an_error_not_a_default(tmp_path: Path) -> None:
    text = LEDGER.format(common=ROOT / "tests" / "ledgers" / "common" / "cqgx.beancount", loans="")
    # A contract dated before 渝高新发〔2021〕8号 took effect (2021-02-24): no fee rate applies.
    text += """
2021-02-10 custom "loan" "approval" "CQ-0"
  program: "CQGX"
  enterprise: "E-1"
  amount: 1000000.00 CNY
  letter: "高新创服函〔2021〕1号"
  purpose: "流动资金"
2021-02-20 custom "loan" "contract" "CQ-0"
  amount: 1000000.00 CNY
"""
    path = tmp_path / "main.beancount"
    path.write_text(text, encoding="utf-8")
    entries, errors, _ = loader.load_file(str(path))
    analysis = analyse(entries, load_rules(ROOT / "rules.yaml"))
    fee = [f for f in analysis.findings if f.rule == "fee.rate"]
    assert fee and fee[0].severity == ERROR
    assert "尚无生效版本（最早版本自 2021-02-24 起施行）" in fee[0].message


def test_unknown_parameter_kinds_are_rejected(tmp_path: Path) -> None:
    old = """          anchor:
            article: 第十七条
            values:
              2021-02-24: confirmation"""
    path = rules_with(old, old.replace("confirmation", "decision"), tmp_path)
    with pytest.raises(RulesError, match="未知取值 'decision'"):
        load_rules(path)


def test_optional_parameters_and_their_checks(tmp_path: Path) -> None:
    old = """          min_revenue:
            article: 第八条（三）
            values:
              2021-02-24: 5000000.00
"""
    path = rules_with(old, "", tmp_path)
    with pytest.raises(RulesError, match="条件 innovation 需要参数 min_revenue"):
        load_rules(path)
    text = RULES_TEXT.replace("calendar: calendar.yaml\n", "")
    old = """        params:
          max:
            article: 第十条
            values:
              2021-02-24: 10000000.00
"""
    assert text.count(old) == 1
    broken = text.replace(old, "")
    with pytest.raises(RulesError, match="至少需要参数 max、max_scorecard、max_rating 之一"):
        parse_rules(broken)
