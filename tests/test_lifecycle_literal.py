"""program.lifecycle's new credit from the termination on, read literally: the day of the
termination counts, whatever the file order of that day (a day's approvals are filed
first), and each breach is said once, loan by loan in the register's order."""

from __future__ import annotations

from beancount import loader

from conftest import LEDGERS
from conftest import RULES_YAML
from zhubaodai.core.engine import analyse
from zhubaodai.core.rules import load_rules


def _approval(loan: str, day: str) -> str:
    return (
        f'{day} custom "loan" "approval" "{loan}"\n  program: "CQGX"\n  enterprise: "E-CQ-001"\n'
        '  amount: 1000000.00 CNY\n  letter: "高新创服函〔2024〕12号"\n'
    )


TEXT = (
    'option "operating_currency" "CNY"\n'
    f'include "{LEDGERS / "common" / "cqgx"}.beancount"\n'
    '2024-01-02 custom "program" "open" "CQGX"\n  agreement: "重庆高新区助保贷业务合作协议（2024）"\n'
    + _approval("CQ-2024-001", "2024-03-01")
    + _approval("CQ-2024-002", "2024-06-30")
    # Written before the termination on its day: still from the termination on.
    + '2024-07-01 custom "loan" "contract" "CQ-2024-001"\n  amount: 1000000.00 CNY\n  maturity: 2025-07-01\n'
    + '2024-07-01 custom "program" "terminate" "CQGX"\n  letter: "高新区管委会关于终止助保贷合作的通知"\n'
    + _approval("CQ-2024-003", "2024-07-01")
    + '2024-07-02 custom "loan" "disbursement" "CQ-2024-002"\n  amount: 1000000.00 CNY\n  maturity: 2025-07-01\n'
    # A second termination changes nothing: the first one counts.
    + '2024-08-01 custom "program" "terminate" "CQGX"\n  letter: "重复的终止通知"\n'
)


def test_new_credit_on_and_after_the_termination_day_is_said_loan_by_loan() -> None:
    entries, _, options = loader.load_string(TEXT)
    analysis = analyse(entries, load_rules(RULES_YAML), options)
    said = [(f.program, f.loan, f.message, f.lineno) for f in analysis.findings if f.rule == "program.lifecycle"]
    assert said == [
        ("CQGX", "CQ-2024-001", "项目 CQGX 已于 2024-07-01 合作终止，不得再办理贷款 CQ-2024-001 的签订合同", 15),
        ("CQGX", "CQ-2024-002", "项目 CQGX 已于 2024-07-01 合作终止，不得再办理贷款 CQ-2024-002 的放款", 25),
        ("CQGX", "CQ-2024-003", "项目 CQGX 已于 2024-07-01 合作终止，不得再办理贷款 CQ-2024-003 的审核同意", 20),
    ]


def test_new_credit_the_day_before_the_termination_is_fine() -> None:
    text = TEXT.split('2024-07-01 custom "loan" "contract"')[0] + '2024-07-02 custom "program" "terminate" "CQGX"\n  letter: "通知"\n'
    entries, _, options = loader.load_string(text)
    analysis = analyse(entries, load_rules(RULES_YAML), options)
    assert [f for f in analysis.findings if f.rule == "program.lifecycle"] == []


def _said(text: str) -> list[tuple[str | None, str, int | None]]:
    entries, _, options = loader.load_string('option "operating_currency" "CNY"\n' f'include "{LEDGERS / "common" / "cqgx"}.beancount"\n' + text)
    analysis = analyse(entries, load_rules(RULES_YAML), options)
    return [(f.program, f.message, f.lineno) for f in analysis.findings if f.rule == "program.lifecycle"]


OPEN = '2024-03-01 custom "program" "open" "CQGX"\n  agreement: "重庆高新区助保贷业务合作协议（2024）"\n'
CASH = '2024-02-01 * "高新区财政局" "注入风险补偿金"\n  Assets:CQGX:Pool:Risk  5000000.00 CNY\n  Income:CQGX:Risk:Injection  -5000000.00 CNY\n'


def test_the_first_activity_before_the_opening_is_said_once_and_a_tie_names_the_cash() -> None:
    """The injection and an approval on the same day, both before the opening: one finding,
    at the first named of the tie (the pool entry); a later approval alone is the first
    activity when the cash comes after the opening."""
    assert _said(OPEN + CASH + _approval("CQ-2024-001", "2024-02-01")) == [
        ("CQGX", "项目 CQGX 于 2024-03-01 启动，专户分录（2024-02-01）早于启动日", 5),
    ]
    assert _said(OPEN + _approval("CQ-2024-001", "2024-02-01") + _approval("CQ-2024-002", "2024-02-02")) == [
        ("CQGX", "项目 CQGX 于 2024-03-01 启动，贷款 CQ-2024-001 的审核同意（2024-02-01）早于启动日", 5),
    ]


def test_a_termination_before_the_opening_is_said_at_the_termination() -> None:
    """Terminated before it opened: the termination is the program's first activity, and
    its date is before the opening's."""
    terminate = '2024-02-15 custom "program" "terminate" "CQGX"\n  letter: "终止通知"\n'
    assert _said(OPEN + terminate) == [
        ("CQGX", "项目 CQGX 于 2024-03-01 启动，项目合作终止（2024-02-15）早于启动日", 5),
        ("CQGX", "项目 CQGX 的合作终止日 2024-02-15 早于启动日 2024-03-01", 5),
    ]
    assert _said(OPEN + terminate.replace("2024-02-15", "2024-03-01")) == []
