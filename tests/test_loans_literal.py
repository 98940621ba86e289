"""zhubaodai.checks.loans' blacklist against hand-written ledgers and its exact Chinese text.

CQGX (第十六条): from the day an enterprise is blacklisted, each approval, contract,
disbursement, increase and renewal of its loans is an error, at that event. The module is
handed the blacklistings as the register files them; its ``finish`` judges each borrower.
"""

from __future__ import annotations

from test_fees_literal import run

ENTERPRISES = """\
2024-01-02 custom "program" "open" "CQGX"
2024-01-05 custom "enterprise" "register" "E-CQ-001"
  program: "CQGX"
  name: "重庆某某科技有限公司"
  size: "小型"
2024-01-05 custom "enterprise" "register" "E-CQ-002"
  program: "CQGX"
  name: "重庆另一家科技有限公司"
  size: "小型"
"""


def listed(day: str, enterprise: str, reason: str) -> str:
    return f'{day} custom "enterprise" "blacklist" "{enterprise}"\n  reason: "{reason}"\n'


def loan(loan_id: str, enterprise: str, approved: str, contracted: str, disbursed: str) -> str:
    return (
        f'{approved} custom "loan" "approval" "{loan_id}"\n  program: "CQGX"\n  enterprise: "{enterprise}"\n'
        f'  amount: 1000000.00 CNY\n  letter: "高新创服函〔2024〕12号"\n'
        f'{contracted} custom "loan" "contract" "{loan_id}"\n  amount: 1000000.00 CNY\n'
        f'{disbursed} custom "loan" "disbursement" "{loan_id}"\n  amount: 1000000.00 CNY\n'
    )


def blacklist_findings(body: str) -> list[tuple[str, str | None, str]]:
    analysis = run("cqgx", ENTERPRISES + body)
    return [(f.message, f.loan, f.entry.date.isoformat()) for f in analysis.findings if f.rule == "blacklist"]


def test_every_new_credit_step_from_the_day_of_listing_is_an_error_at_it() -> None:
    """Approved the day before the listing: fine. The contract on the listing day and the
    disbursement after it: each said, citing the first listing's day and reason (a second
    listing changes neither); the other enterprise's loan is not touched."""
    found = blacklist_findings(
        loan("CQ-1", "E-CQ-001", "2024-02-14", "2024-02-15", "2024-02-20")
        + loan("CQ-2", "E-CQ-002", "2024-02-14", "2024-02-15", "2024-02-20")
        + listed("2024-02-15", "E-CQ-001", "恶意逃废债务")
        + listed("2024-02-16", "E-CQ-001", "再次列入")
    )
    head = "企业 E-CQ-001 已于 2024-02-15 列入黑名单（恶意逃废债务），不得再办理贷款 CQ-1 的"
    assert found == [
        (head + "签订合同", "CQ-1", "2024-02-15"),
        (head + "放款", "CQ-1", "2024-02-20"),
    ]


def test_an_enterprise_never_listed_borrows_freely() -> None:
    assert blacklist_findings(loan("CQ-2", "E-CQ-002", "2024-03-01", "2024-03-02", "2024-03-03")) == []
