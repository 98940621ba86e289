"""Issue 10, fee-shapes: the shapes rules.yaml can now say, and how each is validated on
load and judged by the engine, where the rule ledgers (tests/ledgers/rules/) cannot show
it with the project's own programs: a permitted range, a fee per loan-year, an unknown
loan type, deadlines in calendar days, three funders (4 : 4 : 2), a program without fees.

Each case takes the project's rules.yaml and changes one thing, as a district's
accountant writing a new program would."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader

from conftest import LEDGERS
from conftest import RULES_YAML
from zhubaodai.core.engine import Analysis
from zhubaodai.core.engine import analyse
from zhubaodai.core.findings import ERROR
from zhubaodai.core.rules import RulesError
from zhubaodai.core.rules import parse_rules

TEXT = RULES_YAML.read_text(encoding="utf-8")
RULES = LEDGERS / "rules"

GSBY_EXTRA_YEAR = """\
          extra_year:
            article: 缴费条款 1、2（贷款期每增加一年）
            values:
              2023-11-03: 0.01
"""
GSBY_SECURED_FROM = """\
          secured_from:
            article: 缴费条款 2
            values:
              2023-11-03: 0.40
"""
CQ_NOTICE = """\
      notice.disbursement:
        severity: error
        article: 第十四条（三）
        summary: 合作银行应在贷款发放后 5 个工作日内发函告知创新服务中心。
        reading: 放款登记的告知日 notice_date 不得晚于放款日次日起算的第 5 个工作日（工作日按 calendar.yaml 的国务院放假安排，含调休上班日）；未登记告知日而账本最后日期已过该日，报错；尚未到期的不报。
        params:
          workdays:
            article: 第十四条（三）
            values:
              2021-02-24: 5
"""
GSBY_SHARES = """\
              2023-11-03:
                省级: 1
                市级: 0.5
"""


def changed(old: str, new: str) -> str:
    assert TEXT.count(old) == 1, f"rules.yaml no longer contains {old!r} once: update this test"
    return TEXT.replace(old, new)


def rejected(text: str) -> RulesError:
    with pytest.raises(RulesError) as info:
        parse_rules(text, str(RULES_YAML))
    error = info.value
    assert error.line is not None and error.line > 0
    assert str(error).startswith(f"{RULES_YAML}:{error.line}: rules.yaml 有误（{error.key}）：")
    return error


def line_of(text: str, snippet: str) -> int:
    return text[: text.index(snippet)].count("\n") + 1


def run(path: Path, text: str) -> Analysis:
    entries, errors, _ = loader.load_file(str(path))
    return analyse(entries, parse_rules(text, str(RULES_YAML)))


def variant(tmp_path: Path, ledger: Path, body: str) -> Path:
    """``body`` (a rule ledger changed) written outside the fixtures, its include made absolute."""
    path = tmp_path / ledger.name
    path.write_text(body.replace('include "../../common/', f'include "{LEDGERS / "common"}/'), encoding="utf-8")
    return path


def findings(analysis: Analysis) -> list[tuple[str, str]]:
    return [(f.rule, f.severity) for f in analysis.findings]


# --------------------------------------------------------------------------------------
# Validated on load: file:line and the key, in Chinese.


def test_a_secured_rate_needs_its_collateral_band() -> None:
    text = changed(GSBY_SECURED_FROM, "")
    error = rejected(text)
    assert error.key == "programs.GSBY.rules.fee.rate.params"
    assert "secured_rate" in error.message and "secured_from" in error.message
    assert error.line == line_of(text, "        params:\n          rate:\n            article: 缴费条款 1")


def test_a_range_whose_top_is_below_its_bottom_is_rejected() -> None:
    text = changed(GSBY_EXTRA_YEAR, GSBY_EXTRA_YEAR + """\
          max_rate:
            article: 缴费条款
            values:
              2023-11-03: 0.03
""")
    error = rejected(text)
    assert "允许区间的上限 max_rate 不能低于下限" in error.message and "rate 0.04 高于 max_rate 0.03" in error.message


def test_an_unknown_fee_base_is_rejected() -> None:
    text = changed("              2020-09-26: credit_line\n", "              2020-09-26: loan_amount\n")
    error = rejected(text)
    assert error.key == "programs.WZS.rules.fee.rate.params.base.values.2020-09-26"
    assert error.line == line_of(text, "              2020-09-26: loan_amount")
    assert "未知取值 'loan_amount'" in error.message and "授信额度" in error.message


@pytest.mark.parametrize(
    ("params", "given"),
    [
        ("""\
          workdays:
            article: 第十四条（三）
            values:
              2021-02-24: 5
          days:
            article: 第十四条（三）
            values:
              2021-02-24: 7
""", 2),
        ("""\
          grace_months:
            article: 第十四条（三）
            values:
              2021-02-24: 1
""", 0),
    ],
)
def test_a_deadline_counts_workdays_or_days_exactly_one(params: str, given: int) -> None:
    text = changed(CQ_NOTICE, CQ_NOTICE.split("        params:\n")[0] + "        params:\n" + params)
    error = rejected(text)
    if given == 0:  # grace_months is not a parameter of notices
        assert error.key == "programs.CQGX.rules.notice.disbursement.params.grace_months"
        return
    assert error.key == "programs.CQGX.rules.notice.disbursement.params"
    assert error.message == "参数 workdays、days 须恰好给出其中一个（此处给出了 2 个）"


def test_a_deadline_with_neither_unit_is_rejected() -> None:
    text = changed(CQ_NOTICE, CQ_NOTICE.split("        params:\n")[0])
    error = rejected(text)
    assert error.message == "参数 workdays、days 须恰好给出其中一个（此处给出了 0 个）"


@pytest.mark.parametrize(
    ("shares", "problem"),
    [
        ("              2023-11-03:\n                省级: 1\n", "出资方及其份额的映射"),
        ("              2023-11-03:\n                省级: 1\n                市级: 0\n", "出资方 市级 的份额应为大于 0 的数字"),
        ("              2023-11-03: [1, 0.5]\n", "出资方及其份额的映射"),
    ],
)
def test_funders_shares_are_validated(shares: str, problem: str) -> None:
    text = changed(GSBY_SHARES, shares)
    error = rejected(text)
    assert error.key == "programs.GSBY.rules.risk.funders.params.shares.values.2023-11-03"
    assert problem in error.message


# --------------------------------------------------------------------------------------
# Judged by the engine.


def test_a_permitted_range_accepts_up_to_its_top_and_no_more(tmp_path: Path) -> None:
    """fee.rate from 4% up to 5%: 1,000,000.00 × 5% = 50,000.00 is the most allowed."""
    text = changed(GSBY_EXTRA_YEAR, GSBY_EXTRA_YEAR + """\
          max_rate:
            article: 缴费条款
            values:
              2023-11-03: 0.05
""")
    ledger = RULES / "fee.rate" / "gsby-pass-term-on-the-anniversary.beancount"
    body = ledger.read_text(encoding="utf-8")
    assert run(ledger, text).findings == []  # 40,000.00: the bottom of the range
    for paid, expected in (("50000.00", []), ("50000.01", [("fee.rate", ERROR)])):
        analysis = run(variant(tmp_path, ledger, body.replace("40000.00 CNY", f"{paid} CNY")), text)
        assert findings(analysis) == expected
        if expected:
            assert "收取的互助担保金超过允许区间的上限；上限 50,000.00 元，实缴 50,000.01 元，超出 0.01 元" in analysis.findings[0].message


def test_a_fee_per_loan_year_is_charged_for_every_year_of_the_term(tmp_path: Path) -> None:
    """WZS's 2% charged per loan-year: a 3-year term (maturity 36 months on) owes 3 × 2%."""
    text = changed("              2020-09-26: credit_line\n", """\
              2020-09-26: credit_line
          per_year:
            article: 第一条
            values:
              2020-09-26: true
""")
    ledger = RULES / "fee.rate" / "wzs-pass-credit-line.beancount"
    body = ledger.read_text(encoding="utf-8").replace("maturity: 2025-03-01", "maturity: 2027-03-01")
    analysis = run(variant(tmp_path, ledger, body), text)
    assert findings(analysis) == [("fee.rate", ERROR)]
    message = analysis.findings[0].message
    assert "授信额度 1,000,000.00 元 × 2% × 3 年（按 3 个贷款年度计收）" in message
    assert "应缴 60,000.00 元，实缴 20,000.00 元，差额 40,000.00 元" in message


def test_an_unknown_loan_type_is_named(tmp_path: Path) -> None:
    ledger = RULES / "fee.rate" / "wzs-pass-credit-loan.beancount"
    body = ledger.read_text(encoding="utf-8").replace('loan_type: "信用"', 'loan_type: "纯信用"')
    analysis = run(variant(tmp_path, ledger, body), TEXT)
    assert ("ledger.format", ERROR) in findings(analysis)  # the register cannot read it
    assert '元数据 loan_type 应为贷款类型 "信用"、"保证"、"抵押"、"质押" 之一，而非 \'纯信用\'' in analysis.findings[0].message


@pytest.mark.parametrize(("days", "late"), [(13, False), (12, True)])
def test_a_notice_deadline_in_calendar_days(days: int, late: bool) -> None:
    """Disbursed 2024-09-27 and told 2024-10-10: day 13 counting every day (the national
    holiday included), so 13 calendar days is met on its last day and 12 is one day late."""
    text = changed(CQ_NOTICE, CQ_NOTICE.replace(
        "          workdays:\n            article: 第十四条（三）\n            values:\n              2021-02-24: 5\n",
        f"          days:\n            article: 第十四条（三）\n            values:\n              2021-02-24: {days}\n",
    ))
    analysis = run(RULES / "notice.disbursement" / "cqgx-pass.beancount", text)
    if not late:
        assert analysis.findings == []
        return
    assert findings(analysis) == [("notice.disbursement", ERROR)]
    message = analysis.findings[0].message
    assert "合作银行应在 12 天内告知，最后期限为次日起第 12 天 2024-10-09" in message
    assert "实际告知日 2024-10-10，为次日起第 13 天，晚 1 天" in message
    record = analysis.records.deadlines[0]
    assert record.deadline.due == datetime.date(2024, 10, 9)


@pytest.mark.parametrize(("days", "late"), [(27, False), (26, True)])
def test_a_compensation_deadline_in_calendar_days(days: int, late: bool) -> None:
    """Confirmed 2025-01-21, compensated 2025-02-17: the 27th calendar day (Spring
    Festival included)."""
    old = """\
          workdays:
            article: 第十七条
            values:
              2021-02-24: 15
"""
    text = changed(old, old.replace("workdays", "days").replace(": 15", f": {days}"))
    analysis = run(RULES / "comp.deadline" / "cqgx-pass.beancount", text)
    if not late:
        assert analysis.findings == []
        return
    assert findings(analysis) == [("comp.deadline", ERROR)]
    message = analysis.findings[0].message
    assert "应在 26 天内以助保金代偿，最后期限为次日起第 26 天 2025-02-16" in message
    assert "实际首笔代偿 2025-02-17，为次日起第 27 天，晚 1 天" in message


def test_three_funders_split_by_largest_remainder(tmp_path: Path) -> None:
    """金东 4 : 4 : 2: 1,000.01 splits 400.01 / 400.00 / 200.00 (the odd fen to the first
    of the tied remainders), so the first funder's 400.00 is one fen short."""
    text = changed(GSBY_SHARES, "              2023-11-03:\n                政府: 4\n                担保公司: 4\n                银行: 2\n")
    ledger = RULES / "risk.funders" / "gsby-pass-city-on-dec-31.beancount"
    body = ledger.read_text(encoding="utf-8")
    head = body.split("2024-01-02 *")[0]
    injections = "".join(
        f'{day} * "出资" "注入风险补偿金"\n  funder: "{who}"\n'
        f"  Assets:GSBY:Pool:Risk   {amount} CNY\n  Income:GSBY:Risk:Injection  -{amount} CNY\n\n"
        for day, who, amount in (("2024-01-02", "政府", "400.00"), ("2024-02-01", "担保公司", "400.01"), ("2024-03-01", "银行", "200.00"))
    )
    analysis = run(variant(tmp_path, ledger, head + injections + '2025-01-05 note Assets:GSBY:Pool "年初核对"\n'), text)
    assert findings(analysis) == [("risk.funders", ERROR)]
    message = analysis.findings[0].message
    assert "按 政府、担保公司、银行 = 4 : 4 : 2 的比例，政府注入不足" in message
    assert "应注入 400.01 元，实际注入 400.00 元，差额 0.01 元" in message


def test_a_program_without_fee_rules_charges_nothing() -> None:
    """LNYQ lists no fee.* rule: its loans owe no fee, and none is reported missing."""
    analysis = run(RULES / "risk.topup" / "lnyq-pass-on-dec-31.beancount", TEXT)
    assert analysis.findings == []
    account = analysis.records.fees["LN-2024-01"]
    assert account.dues == [] and account.due == Decimal("0.00")


def test_portfolio_stop_is_judged_on_the_day_before() -> None:
    analysis = run(RULES / "loan.portfolio_stop" / "gsby-fail-at-five-per-cent.beancount", TEXT)
    (finding,) = analysis.findings
    assert finding.loan == "GS-2024-03" and finding.date == datetime.date(2024, 6, 4)
    assert dict(finding.figures)["逾期本金"] == Decimal("100000.00")
