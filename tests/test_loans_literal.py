"""zhubaodai.checks.loans' blacklist against hand-written ledgers and its exact Chinese text,
and how the module judges a borrower's day as the register files it.

CQGX (第十六条): from the day an enterprise is blacklisted, each approval, contract,
disbursement, increase and renewal of its loans is an error, at that event. The module is
handed the loan events and blacklistings as the register files them (by date, a day's
approvals first) and judges a day's new credit once the register has moved past that
day; its ``finish`` gives out the findings borrower by borrower.
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


def test_findings_come_borrower_by_borrower_each_one_s_by_day() -> None:
    """E-CQ-002 borrows first (02-01, its contract not until 02-10); E-CQ-001 borrows on
    02-02 and contracts on 02-03. Both were listed before. The findings read one
    enterprise's file after the other, in the order of their first approvals, not day by
    day across the two."""
    found = blacklist_findings(
        listed("2024-01-31", "E-CQ-001", "甲")
        + listed("2024-01-31", "E-CQ-002", "乙")
        + loan("CQ-2", "E-CQ-002", "2024-02-01", "2024-02-10", "2024-02-11")
        + loan("CQ-1", "E-CQ-001", "2024-02-02", "2024-02-03", "2024-02-04")
    )
    assert [(loan_id, day) for _, loan_id, day in found] == [
        ("CQ-2", "2024-02-01"), ("CQ-2", "2024-02-10"), ("CQ-2", "2024-02-11"),
        ("CQ-1", "2024-02-02"), ("CQ-1", "2024-02-03"), ("CQ-1", "2024-02-04"),
    ]


def test_a_day_s_new_credit_is_said_in_the_order_of_the_loans_approvals() -> None:
    """One borrower, two loans (CQ-A approved first). On 03-01 the file has CQ-B's contract
    before CQ-A's, on 03-05 CQ-B's increase before CQ-A's: each day's findings still take
    CQ-A first, each loan's events as filed."""
    contract = '2024-03-01 custom "loan" "contract" "{}"\n  amount: 1000000.00 CNY\n'
    found = blacklist_findings(
        listed("2024-01-31", "E-CQ-001", "甲")
        + loan("CQ-A", "E-CQ-001", "2024-02-01", "2024-02-02", "2024-02-03")
        + loan("CQ-B", "E-CQ-001", "2024-02-05", "2024-02-06", "2024-02-07")
        + contract.format("CQ-B")
        + contract.format("CQ-A")
        + '2024-03-01 custom "loan" "increase" "CQ-B"\n  amount: 1000.00 CNY\n'
        + '2024-03-05 custom "loan" "increase" "CQ-B"\n  amount: 1000.00 CNY\n'
        + '2024-03-05 custom "loan" "increase" "CQ-A"\n  amount: 1000.00 CNY\n'
    )
    assert [(loan_id, day, message.rsplit("的", 1)[1]) for message, loan_id, day in found if day >= "2024-03-01"] == [
        ("CQ-A", "2024-03-01", "签订合同"), ("CQ-B", "2024-03-01", "签订合同"), ("CQ-B", "2024-03-01", "增加贷款金额"),
        ("CQ-A", "2024-03-05", "增加贷款金额"), ("CQ-B", "2024-03-05", "增加贷款金额"),
    ]


#: The program opened and E-CQ-001 registered in the zone, small, without a certificate.
ELIGIBLE_BUT_FOR_THE_CERTIFICATE = ENTERPRISES.split('2024-01-05 custom "enterprise" "register" "E-CQ-002"')[0] + "  zone: TRUE\n"


def eligibility_findings(update_day: str) -> list[tuple[str, str]]:
    """Approved on 03-01; the high-tech certificate is registered by an update on ``update_day``,
    written in the file after the approval."""
    analysis = run(
        "cqgx",
        ELIGIBLE_BUT_FOR_THE_CERTIFICATE
        + '2024-03-01 custom "loan" "approval" "CQ-1"\n  program: "CQGX"\n  enterprise: "E-CQ-001"\n'
        '  amount: 1000000.00 CNY\n  letter: "函"\n  purpose: "流动资金"\n'
        + f'{update_day} custom "enterprise" "update" "E-CQ-001"\n  hightech_until: 2026-12-31\n',
    )
    return [(f.loan, f.entry.date.isoformat()) for f in analysis.findings if f.rule == "eligibility"]


def test_eligibility_is_judged_on_the_enterprise_s_facts_at_the_end_of_the_approval_s_day() -> None:
    """An update filed later on the approval's own day counts; one the day after does not."""
    assert eligibility_findings("2024-03-01") == []
    assert eligibility_findings("2024-03-02") == [("CQ-1", "2024-03-01")]


SETTLED_AND_RENEWED = ELIGIBLE_BUT_FOR_THE_CERTIFICATE + """\
  hightech_until: 2026-12-31
2024-02-01 custom "loan" "approval" "CQ-1"
  program: "CQGX"
  enterprise: "E-CQ-001"
  amount: 6000000.00 CNY
  letter: "函"
  purpose: "流动资金"
2024-02-02 custom "loan" "contract" "CQ-1"
  amount: 6000000.00 CNY
  maturity: 2025-02-01
  rate: 0.0300
2024-02-03 custom "loan" "disbursement" "CQ-1"
  amount: 6000000.00 CNY
2024-03-01 custom "loan" "settlement" "CQ-1"
2024-03-15 custom "loan" "approval" "CQ-2"
  program: "CQGX"
  enterprise: "E-CQ-001"
  amount: 1000000.00 CNY
  letter: "函"
  purpose: "流动资金"
2024-04-01 custom "loan" "renewal" "CQ-1"
  amount: 6000000.00 CNY
  maturity: 2025-03-31
  letter: "函"
2024-04-02 custom "loan" "disbursement" "CQ-1"
  amount: 6000000.00 CNY
"""


def loan_findings(body: str) -> list[tuple[str, str | None, str, str]]:
    analysis = run("cqgx", body)
    return [
        (f.rule, f.loan, f.entry.date.isoformat(), f.message)
        for f in analysis.findings
        if f.rule.startswith("loan.") or f.rule in ("eligibility", "blacklist")
    ]


def test_a_loan_settled_then_renewed_keeps_its_terms_and_counts_again() -> None:
    """CQ-1 (6,000,000, over the general 5,000,000: said on its approval) is settled on
    03-01, so CQ-2's approval on 03-15 meets a total of 1,000,000 only. CQ-1's renewal on
    04-01 brings its line back with the contract's rate and maturity (no finding asks for
    a rate or a maturity; the disbursement is within the contract's term), and the total
    is 7,000,000: more than was said, so said again."""
    general = "企业 E-CQ-001 的贷款额度合计 {}，{}后超过单户额度：一般在 5,000,000.00 元以内（贷款 CQ-1）；额度上限 5,000,000.00 元，企业合计额度 {}，超出 {}"
    assert loan_findings(SETTLED_AND_RENEWED) == [
        ("loan.amount_general", "CQ-1", "2024-02-01", general.format("6,000,000.00 元", "审核同意", "6,000,000.00 元", "1,000,000.00 元")),
        ("loan.amount_general", "CQ-1", "2024-04-01", general.format(
            "7,000,000.00 元（其中其他未结清贷款 1,000,000.00 元）", "续贷", "7,000,000.00 元", "2,000,000.00 元"
        )),
    ]
    # Without CQ-2 the renewal's total is the 6,000,000 already said: not said twice.
    alone = SETTLED_AND_RENEWED.replace('"CQ-2"\n  program: "CQGX"\n  enterprise: "E-CQ-001"', '"CQ-2"\n  program: "CQGX"\n  enterprise: "E-CQ-002"')
    alone = alone.replace('2024-01-05 custom "enterprise" "register" "E-CQ-001"', '2024-01-05 custom "enterprise" "register" "E-CQ-002"\n  program: "CQGX"\n  name: "另一家"\n  size: "小型"\n  zone: TRUE\n  hightech_until: 2026-12-31\n2024-01-05 custom "enterprise" "register" "E-CQ-001"')
    assert loan_findings(alone) == loan_findings(SETTLED_AND_RENEWED)[:1]


def test_an_approval_for_an_enterprise_not_registered_there_is_said_at_it() -> None:
    """E-CQ-009 was never registered; E-CQ-001 registers only on 03-02 (after the approval);
    E-WL-001 is registered in WLHT: each approval is an eligibility error of its loan."""
    body = (
        ELIGIBLE_BUT_FOR_THE_CERTIFICATE.replace("2024-01-05", "2024-03-02")
        + '2024-01-05 custom "enterprise" "register" "E-WL-001"\n  program: "WLHT"\n  name: "乌兰浩特某公司"\n'
        + "".join(
            f'2024-03-01 custom "loan" "approval" "{loan_id}"\n  program: "CQGX"\n  enterprise: "{enterprise}"\n'
            '  amount: 1000000.00 CNY\n  letter: "函"\n  purpose: "流动资金"\n'
            for loan_id, enterprise in (("CQ-1", "E-CQ-009"), ("CQ-2", "E-CQ-001"), ("CQ-3", "E-WL-001"))
        )
    )
    analysis = run("cqgx", body)
    found = [(f.rule, f.program, f.loan, f.entry.values[1].value, f.message) for f in analysis.findings if f.rule == "eligibility"]
    unregistered = "贷款 {} 的企业 {} 在审核同意日 2024-03-01 前没有企业登记（enterprise register），无法核对准入条件"
    assert found == [
        ("eligibility", "CQGX", "CQ-1", "CQ-1", unregistered.format("CQ-1", "E-CQ-009")),
        ("eligibility", "CQGX", "CQ-2", "CQ-2", unregistered.format("CQ-2", "E-CQ-001")),
        ("eligibility", "CQGX", "CQ-3", "CQ-3", "企业 E-WL-001 登记在项目 WLHT，不能在项目 CQGX 取得贷款 CQ-3"),
    ]


def test_new_credit_on_a_settled_loan_starts_from_nil() -> None:
    """CQ-1 (1,000,000, nothing said of it) is settled; an increase of 4,500,000 later makes
    its line 4,500,000, not 5,500,000: under the general 5,000,000, nothing to say. A second
    increase of 600,000 the day after brings it to 5,100,000: said."""
    body = SETTLED_AND_RENEWED.split('2024-03-15 custom "loan" "approval" "CQ-2"')[0].replace("6000000.00", "1000000.00")
    body += '2024-04-01 custom "loan" "increase" "CQ-1"\n  amount: 4500000.00 CNY\n'
    assert loan_findings(body) == []
    body += '2024-04-02 custom "loan" "increase" "CQ-1"\n  amount: 600000.00 CNY\n'
    assert [(rule, day) for rule, _, day, _ in loan_findings(body)] == [("loan.amount_general", "2024-04-02")]


def test_each_criterion_an_enterprise_fails_is_named_in_one_finding() -> None:
    """A large enterprise outside the zone, without certificate or revenue: one finding
    at the approval naming the three criteria, in rules.yaml's order."""
    analysis = run(
        "cqgx",
        ENTERPRISES.replace('size: "小型"', 'size: "大型"', 1)
        + '2024-03-01 custom "loan" "approval" "CQ-1"\n  program: "CQGX"\n  enterprise: "E-CQ-001"\n'
        '  amount: 1000000.00 CNY\n  letter: "函"\n  purpose: "流动资金"\n',
    )
    (found,) = [f.message for f in analysis.findings if f.rule == "eligibility"]
    assert found == (
        "企业 E-CQ-001 在审核同意日 2024-03-01 不符合准入条件（贷款 CQ-1）："
        "注册地：工商注册、税务登记和统计关系未登记为均在本区（zone 应为 TRUE）；"
        "企业规模：大型企业不在本办法支持范围（中型、小型、微型）；"
        "高新技术或优质科技型企业：未登记高新技术企业证书有效期 hightech_until，且不满足优质科技型企业条件"
        "（未登记为已入库科技型企业（tech_db），未登记拥有自主知识产权（own_ip），"
        "未登记上一年度（2023 年）营业收入 revenue/revenue_year）"
    )
