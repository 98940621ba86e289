"""zhubaodai.checks.deadlines against hand-counted days and the exact Chinese texts (issue #14).

CQGX: the bank tells the managing body within 5 working days of a disbursement or a
renewal, and the guarantee fund compensates within 15 working days of the confirmation
of the overdue facts. WLHT: 3 working days after the overdue's first full month.
Working days are those of calendar.yaml (the State Council's holidays and make-up days).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

from beancount import loader

from conftest import literal_findings
from zhubaodai.checks.deadlines import CALENDAR_DAYS
from zhubaodai.checks.deadlines import DeadlineRecord
from zhubaodai.core.engine import Analysis
from zhubaodai.core.engine import analyse
from zhubaodai.core.rules import load_rules
from zhubaodai.core.rules import parse_rules
from zhubaodai.core.workdays import LATE
from zhubaodai.core.workdays import MET
from zhubaodai.core.workdays import MISSED
from zhubaodai.core.workdays import PENDING
from zhubaodai.core.workdays import Deadline

ROOT = Path(__file__).resolve().parent.parent
RULES_YAML = ROOT / "rules.yaml"
RULES = load_rules(RULES_YAML)
D = Decimal
day = datetime.date.fromisoformat

CQ_HEAD = f"""\
option "operating_currency" "CNY"
include "{ROOT / "tests" / "ledgers" / "common" / "cqgx.beancount"}"
2021-01-04 custom "program" "open" "CQGX"
2021-01-04 * "财政局" "注入风险补偿金"
  Assets:CQGX:Pool:Risk          5000000.00 CNY
  Income:CQGX:Risk:Injection    -5000000.00 CNY
2021-01-04 custom "enterprise" "register" "E-1"
  program: "CQGX"
  name: "甲公司"
  size: "小型"
"""


def cq_loan(loan: str, disbursed: str, notice: str | None = None, approved: str = "2021-01-05") -> str:
    told = f"  notice_date: {notice}\n" if notice else ""
    return (
        f'{approved} custom "loan" "approval" "{loan}"\n  program: "CQGX"\n  enterprise: "E-1"\n'
        f'  amount: 1000000.00 CNY\n  letter: "函"\n'
        f'{approved} custom "loan" "contract" "{loan}"\n  amount: 1000000.00 CNY\n'
        f'{disbursed} custom "loan" "disbursement" "{loan}"\n  amount: 1000000.00 CNY\n{told}'
    )


def run(text: str, rules=RULES) -> Analysis:
    entries, errors, _ = loader.load_string(text)
    assert errors == [], errors
    return analyse(entries, rules)


found = literal_findings


def last_day(date: str) -> str:
    """An entry that moves the books' last day (``as_of``) to ``date``."""
    return f'{date} note Assets:CQGX:Pool:Risk "核对"\n'


# --- notice.disbursement and notice.renewal (CQGX: 5 working days) --------------------------

# Disbursed Friday 2024-09-27: Sunday 09-29 is a make-up working day (1), Monday 09-30 (2),
# 10-01..10-07 the national holiday, 10-08 (3), 10-09 (4), 10-10 (5): due 2024-10-10.


def test_a_notice_on_the_last_day_is_met_and_recorded() -> None:
    analysis = run(CQ_HEAD + cq_loan("CQ-1", "2024-09-27", "2024-10-10"))
    assert found(analysis, "notice.disbursement") == []
    assert analysis.records.deadlines == [
        DeadlineRecord(
            "notice.disbursement", "CQGX", "CQ-1", "放款后告知",
            Deadline(day("2024-09-27"), 5, MET, day("2024-10-10"), day("2024-10-10")),
        )
    ]


def test_equal_deadlines_are_one_object_and_each_record_names_its_loan() -> None:
    """Loans disbursed and told on the same days share one frozen Deadline (issue 9's
    memory target); a loan told a day later has its own, and each record keeps its loan."""
    analysis = run(
        CQ_HEAD
        + cq_loan("CQ-1", "2024-09-27", "2024-10-10")
        + cq_loan("CQ-2", "2024-09-27", "2024-10-10")
        + cq_loan("CQ-3", "2024-09-27", "2024-10-11")
        + cq_loan("CQ-4", "2024-09-27")
        + cq_loan("CQ-5", "2024-09-27")
        + last_day("2024-10-11")
    )
    records = analysis.records.deadlines
    assert [r.loan for r in records] == ["CQ-1", "CQ-2", "CQ-3", "CQ-4", "CQ-5"]
    one, two, late, open1, open2 = (r.deadline for r in records)
    assert one is two and open1 is open2
    assert late is not one and late.status == LATE and open1.status == MISSED
    assert one == Deadline(day("2024-09-27"), 5, MET, day("2024-10-10"), day("2024-10-10"))


def test_a_notice_a_working_day_late() -> None:
    analysis = run(CQ_HEAD + cq_loan("CQ-1", "2024-09-27", "2024-10-11"))
    assert found(analysis, "notice.disbursement") == [
        (
            "贷款 CQ-1 放款日 2024-09-27，合作银行应在 5 个工作日内告知，最后期限为次日起第 5 个工作日 2024-10-10；"
            "实际告知日 2024-10-11，为次日起第 6 个工作日，晚 1 个工作日",
            "CQ-1",
            (("期限工作日数", D(5)), ("晚于期限天数", D(1)), ("晚于期限工作日数", D(1))),
        )
    ]
    assert analysis.records.deadlines[0].deadline.status == LATE


def test_a_notice_late_over_a_weekend_counts_working_days() -> None:
    # 10-11 (6), Saturday 10-12 a make-up working day (7), Sunday 10-13 off, 10-14 (8):
    # 3 working days late, 4 calendar days.
    analysis = run(CQ_HEAD + cq_loan("CQ-1", "2024-09-27", "2024-10-14"))
    assert found(analysis, "notice.disbursement")[0][0].endswith(
        "实际告知日 2024-10-14，为次日起第 8 个工作日，晚 3 个工作日"
    )
    assert found(analysis, "notice.disbursement")[0][2] == (
        ("期限工作日数", D(5)), ("晚于期限天数", D(4)), ("晚于期限工作日数", D(3)),
    )


def test_a_notice_late_only_by_days_off() -> None:
    # Disbursed Friday 2024-03-01: 03-04..03-08 are the 5 working days, due Friday 03-08;
    # told Saturday 03-09 (no make-up day): still the 5th working day counted, 1 day late.
    analysis = run(CQ_HEAD + cq_loan("CQ-1", "2024-03-01", "2024-03-09"))
    assert found(analysis, "notice.disbursement") == [
        (
            "贷款 CQ-1 放款日 2024-03-01，合作银行应在 5 个工作日内告知，最后期限为次日起第 5 个工作日 2024-03-08；"
            "实际告知日 2024-03-09，为次日起第 5 个工作日，晚 1 天（均为非工作日）",
            "CQ-1",
            (("期限工作日数", D(5)), ("晚于期限天数", D(1)), ("晚于期限工作日数", D(0))),
        )
    ]


def test_a_notice_three_years_on_is_counted_up_to_1100_days() -> None:
    # 2023-01-03 + 1100 days = 2026-01-07; + 1101 days = 2026-01-08: beyond 1100 days the
    # working days are not counted (the message says calendar days).
    at = found(run(CQ_HEAD + cq_loan("CQ-1", "2023-01-03", "2026-01-07")), "notice.disbursement")
    assert "实际告知日 2026-01-07，为次日起第 " in at[0][0] and "个工作日，晚 " in at[0][0]
    assert [label for label, _ in at[0][2]] == ["期限工作日数", "晚于期限天数", "晚于期限工作日数"]
    beyond = found(run(CQ_HEAD + cq_loan("CQ-1", "2023-01-03", "2026-01-08")), "notice.disbursement")
    assert beyond[0][0].endswith(
        "最后期限为次日起第 5 个工作日 2023-01-10；实际告知日 2026-01-08，晚 1094 天（日历日；工作日历未收录其间的年份）"
    )
    assert beyond[0][2] == (("期限工作日数", D(5)), ("晚于期限天数", D(1094)))


def test_a_notice_dated_before_the_disbursement() -> None:
    analysis = run(CQ_HEAD + cq_loan("CQ-1", "2024-09-27", "2024-09-26"))
    assert found(analysis, "notice.disbursement") == [
        ("贷款 CQ-1 的告知日 2024-09-26 早于放款日 2024-09-27，请核对", "CQ-1", ())
    ]
    assert analysis.records.deadlines == []
    same_day = run(CQ_HEAD + cq_loan("CQ-1", "2024-09-27", "2024-09-27"))
    assert found(same_day, "notice.disbursement") == []


def test_a_notice_not_given_is_missed_only_once_the_books_pass_the_last_day() -> None:
    pending = run(CQ_HEAD + cq_loan("CQ-1", "2024-09-27") + last_day("2024-10-10"))
    assert found(pending, "notice.disbursement") == []
    assert [r.deadline for r in pending.records.deadlines] == [
        Deadline(day("2024-09-27"), 5, PENDING, day("2024-10-10"), None)
    ]
    missed = run(CQ_HEAD + cq_loan("CQ-1", "2024-09-27") + last_day("2024-10-11"))
    assert found(missed, "notice.disbursement") == [
        (
            "贷款 CQ-1 放款日 2024-09-27，合作银行应在 5 个工作日内告知，最后期限为次日起第 5 个工作日 2024-10-10；"
            "截至账本最后日期 2024-10-11 仍未登记告知日 notice_date",
            "CQ-1",
            (("期限工作日数", D(5)),),
        )
    ]
    assert missed.records.deadlines[0].deadline.status == MISSED


def test_a_renewal_notice() -> None:
    renewal = (
        '2024-09-27 custom "loan" "renewal" "CQ-1"\n  amount: 1000000.00 CNY\n  notice_date: 2024-10-11\n'
    )
    analysis = run(CQ_HEAD + cq_loan("CQ-1", "2024-03-01", "2024-03-01") + renewal)
    assert found(analysis, "notice.renewal") == [
        (
            "贷款 CQ-1 续贷日 2024-09-27，合作银行应在 5 个工作日内告知，最后期限为次日起第 5 个工作日 2024-10-10；"
            "实际告知日 2024-10-11，为次日起第 6 个工作日，晚 1 个工作日",
            "CQ-1",
            (("期限工作日数", D(5)), ("晚于期限天数", D(1)), ("晚于期限工作日数", D(1))),
        )
    ]
    assert [(r.rule, r.what) for r in analysis.records.deadlines] == [
        ("notice.disbursement", "放款后告知"), ("notice.renewal", "续贷后告知"),
    ]


def changed(old: str, new: str) -> object:
    text = RULES_YAML.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    return parse_rules(text.replace(old, new), RULES_YAML)


CQ_DISBURSEMENT_DAYS = """\
          workdays:
            article: 第十四条（三）
            values:
              2021-02-24: 5
      notice.renewal:"""


def test_calendar_days_and_working_days_on_the_same_start_are_not_confused() -> None:
    # notice.disbursement in 5 calendar days (due 2024-10-02), notice.renewal in 5 working
    # days (due 2024-10-10), both starting 2024-09-27: the last day of each is its own.
    rules = changed(CQ_DISBURSEMENT_DAYS, CQ_DISBURSEMENT_DAYS.replace("workdays:", "days:", 1))
    renewal = '2024-09-27 custom "loan" "renewal" "CQ-2"\n  amount: 1000000.00 CNY\n  notice_date: 2024-10-03\n'
    analysis = run(
        CQ_HEAD + cq_loan("CQ-1", "2024-09-27", "2024-10-03") + cq_loan("CQ-2", "2024-03-01", "2024-03-01") + renewal,
        rules,
    )
    assert found(analysis, "notice.disbursement") == [
        (
            "贷款 CQ-1 放款日 2024-09-27，合作银行应在 5 天内告知，最后期限为次日起第 5 天 2024-10-02；"
            "实际告知日 2024-10-03，为次日起第 6 天，晚 1 天",
            "CQ-1",
            (("期限天数", D(5)), ("晚于期限天数", D(1))),
        )
    ]
    assert found(analysis, "notice.renewal") == []
    assert sorted((r.loan, r.rule, r.deadline.due) for r in analysis.records.deadlines) == [
        ("CQ-1", "notice.disbursement", day("2024-10-02")),
        ("CQ-2", "notice.disbursement", day("2024-03-06")),
        ("CQ-2", "notice.renewal", day("2024-10-10")),
    ]


def test_calendar_days_stand_in() -> None:
    assert CALENDAR_DAYS.is_workday(day("2024-10-01"))
    assert CALENDAR_DAYS.nth_workday_after(day("2024-09-27"), 5) == day("2024-10-02")
    assert CALENDAR_DAYS.workdays_in(day("2024-09-27"), day("2024-10-03")) == 6


def test_loans_disbursed_the_same_day_share_the_last_day() -> None:
    analysis = run(
        CQ_HEAD + cq_loan("CQ-1", "2024-09-27", "2024-10-10") + cq_loan("CQ-2", "2024-09-27", "2024-10-11")
    )
    assert [(f[1], f[2][-1]) for f in found(analysis, "notice.disbursement")] == [("CQ-2", ("晚于期限工作日数", D(1)))]
    assert [r.deadline.due for r in analysis.records.deadlines] == [day("2024-10-10"), day("2024-10-10")]


# --- comp.deadline ---------------------------------------------------------------------------

# CQGX: confirmed Tuesday 2025-01-21; Sunday 01-26 and Saturday 02-08 are make-up working
# days, 01-28..02-04 the Spring Festival: the 15th working day after is 2025-02-17.
CQ_DEFAULT = """\
2025-01-10 custom "loan" "overdue" "CQ-1"
  principal: 1000000.00 CNY
2025-01-15 custom "loan" "claim" "CQ-1"
  principal: 1000000.00 CNY
  letter: "函"
  approval: "同意"
2025-01-21 custom "loan" "confirmation" "CQ-1"
  letter: "确认函"
"""


def cq_comp(date: str, amount: str = "1000.00", loan: str = "CQ-1") -> str:
    return (
        f'{date} * "代偿 {loan}" ^{loan}\n  Expenses:CQGX:Risk:Compensation  {amount} CNY\n'
        f"  Assets:CQGX:Pool:Risk  -{amount} CNY\n"
    )


def test_a_compensation_on_the_last_day_is_met() -> None:
    analysis = run(CQ_HEAD + cq_loan("CQ-1", "2024-03-01", "2024-03-01") + CQ_DEFAULT + cq_comp("2025-02-17"))
    assert found(analysis, "comp.deadline") == []
    assert [r for r in analysis.records.deadlines if r.rule == "comp.deadline"] == [
        DeadlineRecord(
            "comp.deadline", "CQGX", "CQ-1", "逾期事实确认后代偿",
            Deadline(day("2025-01-21"), 15, MET, day("2025-02-17"), day("2025-02-17")),
        )
    ]


def test_a_compensation_a_day_late_points_at_the_payment() -> None:
    analysis = run(CQ_HEAD + cq_loan("CQ-1", "2024-03-01", "2024-03-01") + CQ_DEFAULT + cq_comp("2025-02-18"))
    [finding] = [f for f in analysis.findings if f.rule == "comp.deadline"]
    assert (finding.message, finding.loan, finding.figures, finding.date) == (
        "贷款 CQ-1 逾期事实确认日 2025-01-21，应在 15 个工作日内以助保金代偿，最后期限为次日起第 15 个工作日 2025-02-17；"
        "实际首笔代偿 2025-02-18，为次日起第 16 个工作日，晚 1 个工作日",
        "CQ-1",
        (("期限工作日数", D(15)), ("晚于期限天数", D(1)), ("晚于期限工作日数", D(1))),
        day("2025-02-18"),
    )


def test_a_claim_not_compensated_by_the_last_day() -> None:
    pending = run(CQ_HEAD + cq_loan("CQ-1", "2024-03-01", "2024-03-01") + CQ_DEFAULT + last_day("2025-02-17"))
    assert found(pending, "comp.deadline") == []
    missed = run(CQ_HEAD + cq_loan("CQ-1", "2024-03-01", "2024-03-01") + CQ_DEFAULT + last_day("2025-02-18"))
    [finding] = [f for f in missed.findings if f.rule == "comp.deadline"]
    assert (finding.message, finding.figures, finding.date) == (
        "贷款 CQ-1 逾期事实确认日 2025-01-21，应在 15 个工作日内以助保金代偿，最后期限为次日起第 15 个工作日 2025-02-17；"
        "银行已申请代偿，截至账本最后日期 2025-02-18 仍未代偿",
        (("期限工作日数", D(15)),),
        day("2025-01-21"),
    )


def test_nothing_is_due_without_a_claim() -> None:
    no_claim = CQ_DEFAULT.split('2025-01-15 custom "loan" "claim"')[0] + CQ_DEFAULT.split('  approval: "同意"\n')[1]
    analysis = run(CQ_HEAD + cq_loan("CQ-1", "2024-03-01", "2024-03-01") + no_claim + last_day("2025-06-30"))
    assert found(analysis, "comp.deadline") == []
    assert [r for r in analysis.records.deadlines if r.rule == "comp.deadline"] == []


def test_a_loan_repaid_or_settled_by_the_last_day_is_cured() -> None:
    base = CQ_HEAD + cq_loan("CQ-1", "2024-03-01", "2024-03-01") + CQ_DEFAULT
    repaid = '2025-02-17 custom "loan" "repayment" "CQ-1"\n  amount: 1000000.00 CNY\n'
    assert found(run(base + repaid + last_day("2025-03-31")), "comp.deadline") == []
    settled = '2025-02-17 custom "loan" "settlement" "CQ-1"\n'
    assert found(run(base + settled + last_day("2025-03-31")), "comp.deadline") == []
    too_late = '2025-02-18 custom "loan" "repayment" "CQ-1"\n  amount: 1000000.00 CNY\n'
    assert len(found(run(base + too_late + last_day("2025-03-31")), "comp.deadline")) == 1
    partly = '2025-02-17 custom "loan" "repayment" "CQ-1"\n  amount: 999999.99 CNY\n'
    assert len(found(run(base + partly + last_day("2025-03-31")), "comp.deadline")) == 1


def test_a_compensation_before_any_confirmation_cannot_be_timed() -> None:
    no_confirmation = CQ_DEFAULT.split('2025-01-21 custom "loan" "confirmation"')[0]
    analysis = run(CQ_HEAD + cq_loan("CQ-1", "2024-03-01", "2024-03-01") + no_confirmation + cq_comp("2025-02-10"))
    assert found(analysis, "comp.deadline") == [
        ("贷款 CQ-1 代偿前未登记逾期事实确认（confirmation），无法起算代偿期限", "CQ-1", ())
    ]
    assert [f.date for f in analysis.findings if f.rule == "comp.deadline"] == [day("2025-02-10")]
    # A confirmation after that compensation starts a new episode, due once claimed again.
    later = '2025-03-03 custom "loan" "confirmation" "CQ-1"\n  letter: "确认函"\n'
    analysis = run(
        CQ_HEAD + cq_loan("CQ-1", "2024-03-01", "2024-03-01") + no_confirmation + cq_comp("2025-02-10") + later
        + last_day("2025-06-30")
    )
    assert [f.message for f in analysis.findings if f.rule == "comp.deadline"] == [
        "贷款 CQ-1 代偿前未登记逾期事实确认（confirmation），无法起算代偿期限"
    ]


def test_each_episode_runs_to_the_first_compensation_after_its_anchor() -> None:
    # First episode met on 2025-02-17; a second default confirmed Monday 2025-06-02 (the
    # last day of the Dragon Boat holiday 05-31..06-02) and claimed: 06-03..06-06 (4),
    # 06-09..06-13 (9), 06-16..06-20 (14), 06-23 (15): due 2025-06-23.
    second = """\
2025-05-20 custom "loan" "overdue" "CQ-1"
  principal: 1000000.00 CNY
2025-05-22 custom "loan" "claim" "CQ-1"
  principal: 1000000.00 CNY
  letter: "函"
  approval: "同意"
2025-06-02 custom "loan" "confirmation" "CQ-1"
  letter: "确认函"
"""
    base = CQ_HEAD + cq_loan("CQ-1", "2024-03-01", "2024-03-01") + CQ_DEFAULT + cq_comp("2025-02-17") + second
    met = run(base + cq_comp("2025-06-23"))
    assert found(met, "comp.deadline") == []
    assert [(r.deadline.start, r.deadline.due, r.deadline.done) for r in met.records.deadlines if r.rule == "comp.deadline"] == [
        (day("2025-01-21"), day("2025-02-17"), day("2025-02-17")),
        (day("2025-06-02"), day("2025-06-23"), day("2025-06-23")),
    ]
    late = run(base + cq_comp("2025-06-24"))
    assert [f[0].split("；")[1] for f in found(late, "comp.deadline")] == [
        "实际首笔代偿 2025-06-24，为次日起第 16 个工作日，晚 1 个工作日"
    ]
    missed = run(base + last_day("2025-06-24"))
    assert [f[0].split("；")[1] for f in found(missed, "comp.deadline")] == [
        "银行已申请代偿，截至账本最后日期 2025-06-24 仍未代偿"
    ]


# WLHT: overdue 2024-12-20, a full month on 2025-01-20 (Monday); 3 working days after:
# 01-21, 01-22, 01-23: due 2025-01-23.
WL_HEAD = f"""\
option "operating_currency" "CNY"
include "{ROOT / "tests" / "ledgers" / "common" / "wlht.beancount"}"
2024-01-02 custom "program" "open" "WLHT"
2024-01-02 * "财政局" "注入风险补偿金"
  Assets:WLHT:Pool:Risk          1000000.00 CNY
  Income:WLHT:Risk:Injection    -1000000.00 CNY
2024-01-03 custom "enterprise" "register" "E-1"
  program: "WLHT"
  name: "甲公司"
  size: "小型"
2024-01-04 custom "loan" "approval" "WL-1"
  program: "WLHT"
  enterprise: "E-1"
  amount: 100000.00 CNY
  letter: "函"
2024-01-04 custom "loan" "contract" "WL-1"
  amount: 100000.00 CNY
2024-01-05 custom "loan" "disbursement" "WL-1"
  amount: 100000.00 CNY
  notice_date: 2024-01-05
2024-12-20 custom "loan" "overdue" "WL-1"
  principal: 100000.00 CNY
2024-12-23 custom "loan" "claim" "WL-1"
  principal: 100000.00 CNY
  letter: "函"
  approval: "同意"
"""


def wl_comp(date: str) -> str:
    return f'{date} * "代偿 WL-1" ^WL-1\n  Expenses:WLHT:Risk:Compensation  100.00 CNY\n  Assets:WLHT:Pool:Risk  -100.00 CNY\n'


def test_wlht_counts_from_the_overdue_plus_a_month() -> None:
    assert found(run(WL_HEAD + wl_comp("2025-01-23")), "comp.deadline") == []
    [finding] = [f for f in run(WL_HEAD + wl_comp("2025-01-24")).findings if f.rule == "comp.deadline"]
    assert (finding.message, finding.figures) == (
        "贷款 WL-1 逾期日 2024-12-20，逾期满 1 个月为 2025-01-20，应在 3 个工作日内以助保金代偿，"
        "最后期限为次日起第 3 个工作日 2025-01-23；实际首笔代偿 2025-01-24，为次日起第 4 个工作日，晚 1 个工作日",
        (("期限工作日数", D(3)), ("晚于期限天数", D(1)), ("晚于期限工作日数", D(1))),
    )
    record = [r for r in run(WL_HEAD + wl_comp("2025-01-23")).records.deadlines if r.rule == "comp.deadline"]
    assert [(r.what, r.deadline.start, r.deadline.due) for r in record] == [
        ("逾期后代偿", day("2025-01-20"), day("2025-01-23"))
    ]


# --- episodes: which compensation closes which anchor ---------------------------------------

CQ_LOAN = CQ_HEAD + cq_loan("CQ-1", "2024-03-01", "2024-03-01")


def claim(date: str) -> str:
    return f'{date} custom "loan" "claim" "CQ-1"\n  principal: 1000.00 CNY\n  letter: "函"\n  approval: "同意"\n'


def confirmation(date: str) -> str:
    return f'{date} custom "loan" "confirmation" "CQ-1"\n  letter: "确认函"\n'


OVERDUE = '2025-01-10 custom "loan" "overdue" "CQ-1"\n  principal: 1000000.00 CNY\n'


def comp_findings(text: str) -> list[str]:
    return [m.split("；")[1] if "；" in m else m for m, _, _ in found(run(text), "comp.deadline")]


def test_a_compensation_on_the_confirmation_day_closes_that_episode() -> None:
    text = CQ_LOAN + OVERDUE + claim("2025-01-15") + confirmation("2025-01-21") + cq_comp("2025-01-21")
    analysis = run(text + last_day("2025-06-30"))
    assert found(analysis, "comp.deadline") == []
    assert [(r.deadline.status, r.deadline.done) for r in analysis.records.deadlines if r.rule == "comp.deadline"] == [
        (MET, day("2025-01-21"))
    ]


def test_after_an_untimed_compensation_the_next_confirmation_starts_an_episode() -> None:
    # Compensated 2025-02-10 with no confirmation; confirmed Monday 2025-03-03, claimed
    # again, compensated 2025-03-24 = the 15th working day (03-04..03-07, 03-10..14,
    # 03-17..21, 03-24).
    text = (CQ_LOAN + OVERDUE + claim("2025-01-15") + cq_comp("2025-02-10") + confirmation("2025-03-03")
            + claim("2025-03-04"))
    assert comp_findings(text + cq_comp("2025-03-24") + last_day("2025-06-30")) == [
        "贷款 CQ-1 代偿前未登记逾期事实确认（confirmation），无法起算代偿期限"
    ]
    assert comp_findings(text + cq_comp("2025-03-25")) == [
        "贷款 CQ-1 代偿前未登记逾期事实确认（confirmation），无法起算代偿期限",
        "实际首笔代偿 2025-03-25，为次日起第 16 个工作日，晚 1 个工作日",
    ]


def two_episodes(second_anchor: str) -> str:
    # Episode 1: confirmed 2025-01-21, compensated 2025-02-10 (met).
    return (CQ_LOAN + OVERDUE + claim("2025-01-15") + confirmation("2025-01-21") + cq_comp("2025-02-10")
            + confirmation(second_anchor))


def test_a_confirmation_on_the_day_of_the_previous_compensation_belongs_to_it() -> None:
    # A confirmation dated 2025-02-10 (the compensation's day) and a claim after: no new
    # episode, nothing due.
    assert comp_findings(two_episodes("2025-02-10") + claim("2025-02-12") + last_day("2025-06-30")) == []


def test_an_anchor_inside_an_episode_is_skipped_and_the_next_one_counts() -> None:
    # 2025-02-05 lies inside episode 1 (skipped); confirmed again 2025-03-03 and claimed
    # 2025-03-04, never compensated: due 2025-03-24, missed by 2025-06-30.
    text = two_episodes("2025-02-05") + confirmation("2025-03-03") + claim("2025-03-04") + last_day("2025-06-30")
    assert comp_findings(text) == ["银行已申请代偿，截至账本最后日期 2025-06-30 仍未代偿"]
    assert [r.deadline.start for r in run(text).records.deadlines if r.rule == "comp.deadline"] == [
        day("2025-01-21"), day("2025-03-03"),
    ]


def test_a_claim_on_the_day_of_the_previous_compensation_is_not_a_new_claim() -> None:
    text = two_episodes("2025-03-03") + claim("2025-02-10") + last_day("2025-06-30")
    assert comp_findings(text) == []
    assert comp_findings(text + claim("2025-02-11")) == ["银行已申请代偿，截至账本最后日期 2025-06-30 仍未代偿"]


def test_a_compensation_on_the_day_of_a_later_confirmation_closes_it() -> None:
    text = two_episodes("2025-03-03") + claim("2025-03-01") + cq_comp("2025-03-03") + last_day("2025-06-30")
    assert comp_findings(text) == []


def test_the_first_compensation_after_the_anchor_counts_not_a_later_part() -> None:
    # Episode 1 paid in two parts (02-10, 02-11); episode 2 confirmed 03-03, paid 03-20
    # (on time) and 04-01 (a second part): met.
    text = (CQ_LOAN + OVERDUE + claim("2025-01-15") + confirmation("2025-01-21") + cq_comp("2025-02-10")
            + cq_comp("2025-02-11") + confirmation("2025-03-03") + claim("2025-03-04") + cq_comp("2025-03-20")
            + cq_comp("2025-04-01"))
    analysis = run(text)
    assert found(analysis, "comp.deadline") == []
    assert [(r.deadline.start, r.deadline.done) for r in analysis.records.deadlines if r.rule == "comp.deadline"] == [
        (day("2025-01-21"), day("2025-02-10")), (day("2025-03-03"), day("2025-03-20")),
    ]


def test_an_anchor_in_a_year_the_calendar_does_not_know() -> None:
    text = CQ_LOAN + OVERDUE + claim("2025-01-15") + confirmation("2027-01-05") + last_day("2027-06-30")
    analysis = run(text)
    [finding] = [f for f in analysis.findings if f.rule == "comp.deadline"]
    assert finding.message.startswith("贷款 CQ-1：") and "工作日历没有 2027 年的放假安排" in finding.message
    assert (finding.program, finding.date) == ("CQGX", day("2027-01-05"))


def test_an_anchor_before_the_program_s_rules_take_effect() -> None:
    # CQGX's rules take effect 2021-02-24: an anchor before cannot be judged, said on it.
    text = (CQ_HEAD + cq_loan("CQ-1", "2021-01-05", "2021-01-05") + '2021-01-20 custom "loan" "overdue" "CQ-1"\n'
            "  principal: 1000.00 CNY\n" + claim("2021-02-01") + confirmation("2021-02-02") + last_day("2021-06-30"))
    got = [(f.message, f.date) for f in run(text).findings if f.rule == "comp.deadline"]
    # Each anchor-kind event (overdue, claim, confirmation) asks for the anchor on its day.
    assert got == [
        (f"参数「programs.CQGX.rules.comp.deadline.params.anchor」在 {d} 尚无生效版本（最早版本自 2021-02-24 起施行），"
         "无法按规则核对", day(d))
        for d in ("2021-01-20", "2021-02-01", "2021-02-02")
    ]


def test_wlht_without_a_month_of_grace_counts_from_the_overdue() -> None:
    # grace_months 0: the 3 working days run from 2024-12-20 itself: 12-23, 12-24, 12-25.
    rules = changed("          grace_months:\n            article: 第二十六条\n            values:\n              2015-01-01: 1\n",
                    "          grace_months:\n            article: 第二十六条\n            values:\n              2015-01-01: 0\n")
    [finding] = [f for f in run(WL_HEAD + wl_comp("2024-12-26"), rules).findings if f.rule == "comp.deadline"]
    assert finding.message == (
        "贷款 WL-1 逾期日 2024-12-20，应在 3 个工作日内以助保金代偿，最后期限为次日起第 3 个工作日 2024-12-25；"
        "实际首笔代偿 2024-12-26，为次日起第 4 个工作日，晚 1 个工作日"
    )


def test_a_deadline_length_not_yet_in_force_is_said_on_the_anchor() -> None:
    # The anchor kind in force from 2015 but the 15 working days only from 2021-02-24:
    # a confirmation of 2021-02-02 has a clock but no length.
    rules = changed("            values:\n              2021-02-24: confirmation\n",
                    "            values:\n              2015-01-01: confirmation\n")
    text = (CQ_HEAD + cq_loan("CQ-1", "2021-01-05", "2021-01-05") + '2021-01-20 custom "loan" "overdue" "CQ-1"\n'
            "  principal: 1000.00 CNY\n" + claim("2021-02-01") + confirmation("2021-02-02") + last_day("2021-06-30"))
    got = [(f.message, f.date) for f in run(text, rules).findings if f.rule == "comp.deadline"]
    assert got == [
        ("参数「programs.CQGX.rules.comp.deadline.params.workdays」在 2021-02-02 尚无生效版本（最早版本自 2021-02-24 起施行），"
         "无法按规则核对", day("2021-02-02")),
    ]


def test_a_grace_not_yet_in_force_is_said_on_the_anchor_and_counts_as_none() -> None:
    # CQGX given a month of grace only from 2021-02-24 (anchor and length from 2015): the
    # confirmation of Tuesday 2021-02-02 is judged without grace. Spring Festival
    # 02-11..02-17 off, Sunday 02-07 and Saturday 02-20 worked: 02-03, 04, 05, 07, 08, 09,
    # 10, 18, 19, 20, 22, 23, 24, 25, 26: due 2021-02-26.
    old = """\
          workdays:
            article: 第十七条
            values:
              2021-02-24: 15
"""
    new = """\
          workdays:
            article: 第十七条
            values:
              2015-01-01: 15
          grace_months:
            article: 第十七条
            values:
              2021-02-24: 1
"""
    text = RULES_YAML.read_text(encoding="utf-8").replace(old, new).replace(
        "            values:\n              2021-02-24: confirmation\n", "            values:\n              2015-01-01: confirmation\n"
    )
    rules = parse_rules(text, RULES_YAML)
    ledger = (CQ_HEAD + cq_loan("CQ-1", "2021-01-05", "2021-01-05") + '2021-01-20 custom "loan" "overdue" "CQ-1"\n'
              "  principal: 1000.00 CNY\n" + claim("2021-02-01") + confirmation("2021-02-02") + last_day("2021-06-30"))
    got = [(f.message, f.date) for f in run(ledger, rules).findings if f.rule == "comp.deadline"]
    assert got == [
        ("参数「programs.CQGX.rules.comp.deadline.params.grace_months」在 2021-02-02 尚无生效版本（最早版本自 2021-02-24 起施行），"
         "无法按规则核对", day("2021-02-02")),
        ("贷款 CQ-1 逾期事实确认日 2021-02-02，应在 15 个工作日内以助保金代偿，最后期限为次日起第 15 个工作日 2021-02-26；"
         "银行已申请代偿，截至账本最后日期 2021-06-30 仍未代偿", day("2021-02-02")),
    ]


CQ_COMP_WORKDAYS = """\
          workdays:
            article: 第十七条
            values:
              2021-02-24: 15
"""


def test_a_compensation_deadline_in_calendar_days_says_days_throughout() -> None:
    # 26 calendar days from the day after 2025-01-21: due 2025-02-16 (a Sunday); paid
    # Monday 02-17: the 27th day, 1 day late, said in days (not working days).
    rules = changed(CQ_COMP_WORKDAYS, CQ_COMP_WORKDAYS.replace("workdays", "days").replace(": 15", ": 26"))
    analysis = run(CQ_HEAD + cq_loan("CQ-1", "2024-03-01", "2024-03-01") + CQ_DEFAULT + cq_comp("2025-02-17"), rules)
    assert found(analysis, "comp.deadline") == [
        (
            "贷款 CQ-1 逾期事实确认日 2025-01-21，应在 26 天内以助保金代偿，最后期限为次日起第 26 天 2025-02-16；"
            "实际首笔代偿 2025-02-17，为次日起第 27 天，晚 1 天",
            "CQ-1",
            (("期限天数", D(26)), ("晚于期限天数", D(1))),
        )
    ]
    missed = run(CQ_HEAD + cq_loan("CQ-1", "2024-03-01", "2024-03-01") + CQ_DEFAULT + last_day("2025-02-17"), rules)
    assert found(missed, "comp.deadline") == [
        (
            "贷款 CQ-1 逾期事实确认日 2025-01-21，应在 26 天内以助保金代偿，最后期限为次日起第 26 天 2025-02-16；"
            "银行已申请代偿，截至账本最后日期 2025-02-17 仍未代偿",
            "CQ-1",
            (("期限天数", D(26)),),
        )
    ]


def test_a_late_compensation_cites_the_deadline_in_force_on_the_anchor() -> None:
    # An amendment of the 15 working days from 2025-02-01 (its own document and article):
    # the confirmation of 2025-01-21 is judged, and cited, by the version then in force.
    amended = CQ_COMP_WORKDAYS + "              2025-02-01: {value: 15, document: 修订通知, article: 第九条}\n"
    analysis = run(CQ_HEAD + cq_loan("CQ-1", "2024-03-01", "2024-03-01") + CQ_DEFAULT + cq_comp("2025-02-18"),
                   changed(CQ_COMP_WORKDAYS, amended))
    [finding] = [f for f in analysis.findings if f.rule == "comp.deadline"]
    assert finding.citation.endswith("第十七条") and "修订通知" not in finding.citation


# --- years the calendar does not know (calendar.yaml and chinesecalendar end with 2026) -----


def test_a_notice_met_before_the_unknown_year_is_decided_without_it() -> None:
    # Disbursed Monday 2026-12-28: the 5th working day lies in 2027, which no calendar
    # knows; told 2026-12-29, met all the same (the last day is not needed, nor known).
    analysis = run(CQ_HEAD + cq_loan("CQ-1", "2026-12-28", "2026-12-29"))
    assert found(analysis, "notice.disbursement") == []
    assert [r.deadline for r in analysis.records.deadlines] == [
        Deadline(day("2026-12-28"), 5, MET, None, day("2026-12-29"))
    ]


def test_a_notice_late_into_the_unknown_year_is_said_in_calendar_days() -> None:
    # Disbursed Monday 2026-12-14: due 2026-12-21; told 2027-01-04: 14 days late, the
    # working days in between not known.
    analysis = run(CQ_HEAD + cq_loan("CQ-1", "2026-12-14", "2027-01-04"))
    assert found(analysis, "notice.disbursement") == [
        (
            "贷款 CQ-1 放款日 2026-12-14，合作银行应在 5 个工作日内告知，最后期限为次日起第 5 个工作日 2026-12-21；"
            "实际告知日 2027-01-04，晚 14 天（日历日；工作日历未收录其间的年份）",
            "CQ-1",
            (("期限工作日数", D(5)), ("晚于期限天数", D(14))),
        )
    ]


def test_an_unknown_year_is_reported_once_per_rule_program_and_year() -> None:
    # Two loans disbursed 2027-01-05 with no notice, one confirmation of 2027-01-05:
    # one finding for notice.disbursement (not one per loan) and one for comp.deadline.
    text = (CQ_HEAD + cq_loan("CQ-1", "2024-03-01", "2024-03-01") + OVERDUE + claim("2025-01-15")
            + confirmation("2027-01-05") + cq_loan("CQ-2", "2027-01-05") + cq_loan("CQ-3", "2027-01-05")
            + last_day("2027-06-30"))
    got = [(f.rule, f.program, f.loan, f.date) for f in run(text).findings if "2027 年" in f.message]
    assert sorted(got) == [
        ("comp.deadline", "CQGX", "CQ-1", day("2027-01-05")),
        ("notice.disbursement", "CQGX", "CQ-2", day("2027-01-05")),
    ]


def test_without_a_calendar_table_the_library_counts() -> None:
    # rules.yaml without `calendar:`: the chinesecalendar package alone, same 2024 days.
    text = RULES_YAML.read_text(encoding="utf-8")
    rules = parse_rules(text.replace("calendar: calendar.yaml\n", ""), RULES_YAML)
    assert rules.calendar is None
    analysis = run(CQ_HEAD + cq_loan("CQ-1", "2024-09-27", "2024-10-14"), rules)
    assert found(analysis, "notice.disbursement")[0][0].endswith(
        "实际告知日 2024-10-14，为次日起第 8 个工作日，晚 3 个工作日"
    )


def test_a_notice_before_the_program_s_rules_take_effect() -> None:
    analysis = run(CQ_HEAD + cq_loan("CQ-1", "2021-01-11", "2021-01-12"))
    assert [(f.message, f.date, f.loan) for f in analysis.findings if f.rule == "notice.disbursement"] == [
        ("参数「programs.CQGX.rules.notice.disbursement.params.workdays」在 2021-01-11 尚无生效版本"
         "（最早版本自 2021-02-24 起施行），无法按规则核对", day("2021-01-11"), None),
    ]


def test_a_notice_dated_in_the_unknown_year_with_the_books_ending_before() -> None:
    # Disbursed 2026-12-28 (the last entry), told 2027-01-10: the 5th working day lies in
    # 2027, which no calendar knows, and the notice is after it may fall: said once.
    analysis = run(CQ_HEAD + cq_loan("CQ-1", "2026-12-28", "2027-01-10"))
    [finding] = [f for f in analysis.findings if f.rule == "notice.disbursement"]
    assert finding.message.startswith("贷款 CQ-1：") and "工作日历没有 2027 年的放假安排" in finding.message
    assert analysis.records.deadlines == []


def test_a_program_without_comp_deadline_is_not_timed() -> None:
    # HKJB lists no comp.deadline: an overdue and a claim there are no one's deadline.
    hk = f"""\
option "operating_currency" "CNY"
include "{ROOT / "tests" / "ledgers" / "common" / "hkjb.beancount"}"
2021-02-01 custom "loan" "approval" "HK-1"
  program: "HKJB"
  enterprise: "E-HK"
  amount: 1000.00 CNY
  letter: "函"
2021-03-01 custom "loan" "overdue" "HK-1"
  principal: 1000.00 CNY
2021-03-02 custom "loan" "claim" "HK-1"
  principal: 1000.00 CNY
  letter: "函"
  approval: "同意"
2021-12-31 note Assets:HKJB:Pool "核对"
"""
    analysis = run(hk)
    assert [f for f in analysis.findings if f.rule == "comp.deadline"] == []
    assert analysis.records.deadlines == []


def test_two_compensations_on_one_day_are_one_first_compensation() -> None:
    # The guarantee and the risk legs as two transactions of 2025-02-17 (the last day).
    text = CQ_LOAN + OVERDUE + claim("2025-01-15") + confirmation("2025-01-21") + cq_comp("2025-02-17") + cq_comp(
        "2025-02-17", "2000.00"
    )
    analysis = run(text)
    assert found(analysis, "comp.deadline") == []
    assert [(r.deadline.status, r.deadline.done) for r in analysis.records.deadlines if r.rule == "comp.deadline"] == [
        (MET, day("2025-02-17"))
    ]


# --- The books' last day (engine._last_day): a period's close or reopening does not move it.
# Disbursed 2024-09-27, no notice: due 2024-10-10 (counted at the top of this file).


def period(date: str, kind: str = "close") -> str:
    """A period directive of ``date`` (its digest does not matter here: period.closed)."""
    return f'{date} custom "period" "{kind}" "2024Q3"\n  program: "CQGX"\n  letter: "函"\n  by: "张三"\n  digest: "0000"\n'


def test_a_period_closed_after_the_last_entry_does_not_move_the_last_day() -> None:
    for kind in ("close", "reopen"):
        analysis = run(CQ_HEAD + cq_loan("CQ-1", "2024-09-27") + last_day("2024-10-10") + period("2024-10-11", kind))
        assert found(analysis, "notice.disbursement") == []
        assert [r.deadline for r in analysis.records.deadlines] == [
            Deadline(day("2024-09-27"), 5, PENDING, day("2024-10-10"), None)
        ]


def test_an_entry_on_the_day_of_a_period_close_is_the_last_day() -> None:
    for other in (last_day("2024-10-11"), '2024-10-11 custom "enterprise" "update" "E-1"\n  name: "甲公司"\n'):
        analysis = run(CQ_HEAD + cq_loan("CQ-1", "2024-09-27") + period("2024-10-11") + other)
        assert found(analysis, "notice.disbursement") == [
            (
                "贷款 CQ-1 放款日 2024-09-27，合作银行应在 5 个工作日内告知，最后期限为次日起第 5 个工作日 2024-10-10；"
                "截至账本最后日期 2024-10-11 仍未登记告知日 notice_date",
                "CQ-1",
                (("期限工作日数", D(5)),),
            )
        ]


def test_the_last_day_of_no_entries_or_only_periods_is_none() -> None:
    from beancount.parser import parser

    from zhubaodai.core.engine import _last_day

    entries, _, _ = parser.parse_string(period("2024-10-11") + period("2024-10-12", "reopen"))
    assert _last_day([], []) is None
    assert _last_day(entries, entries) is None
    note, _, _ = parser.parse_string(last_day("2024-10-10"))
    assert _last_day(entries + note, entries) == day("2024-10-10")


# --- Issue 9: the notices judged as the register files them (deadlines.on_register), their
# records and findings handed out loan by loan in finish().


def test_after_a_notice_in_an_unknown_year_the_loan_s_later_notices_wait_for_finish() -> None:
    # CQ-1: the disbursement's notice (2024) is met when filed; the renewal of 2026-12-28
    # runs into 2027, which calendar.yaml lacks: judged in finish(), said once; the renewals
    # of 2027-03-01 (its notice predates it) and 2027-06-01 (told that day: met without
    # knowing 2027's days, no last day) are judged after it; the first record stays first.
    renewals = (
        '2026-12-28 custom "loan" "renewal" "CQ-1"\n  amount: 1000000.00 CNY\n  notice_date: 2027-01-10\n'
        '2027-03-01 custom "loan" "renewal" "CQ-1"\n  amount: 1000000.00 CNY\n  notice_date: 2027-02-01\n'
        '2027-06-01 custom "loan" "renewal" "CQ-1"\n  amount: 1000000.00 CNY\n  notice_date: 2027-06-01\n'
    )
    analysis = run(CQ_HEAD + cq_loan("CQ-1", "2024-09-27", "2024-10-10") + renewals)
    assert [(f.message, str(f.date), f.lineno) for f in analysis.findings if f.rule == "notice.renewal"] == [
        (
            "贷款 CQ-1：工作日历没有 2027 年的放假安排：请按《国务院办公厅关于2027年部分节假日安排的通知》在 calendar.yaml 中补充 2027 年"
            "（节假日与调休上班日），否则无法计算工作日",
            "2026-12-28", 21,
        ),
        ("贷款 CQ-1 的告知日 2027-02-01 早于续贷日 2027-03-01，请核对", "2027-03-01", 24),
    ]
    assert analysis.records.deadlines == [
        DeadlineRecord(
            "notice.disbursement", "CQGX", "CQ-1", "放款后告知",
            Deadline(day("2024-09-27"), 5, MET, day("2024-10-10"), day("2024-10-10")),
        ),
        DeadlineRecord(
            "notice.renewal", "CQGX", "CQ-1", "续贷后告知", Deadline(day("2027-06-01"), 5, MET, None, day("2027-06-01"))
        ),
    ]


def test_a_ledger_without_notices_or_defaults_has_no_deadlines() -> None:
    # Approved and contracted, never disbursed: nothing filed was a notice's event or an
    # anchor, so nothing is timed (and finish() works without what filing would have kept).
    analysis = run(CQ_HEAD + cq_loan("CQ-1", "2024-09-27").split('2024-09-27 custom "loan" "disbursement"')[0])
    assert [f for f in analysis.findings if f.rule in ("notice.disbursement", "notice.renewal", "comp.deadline")] == []
    assert analysis.records.deadlines == []


def test_the_filing_time_scratch_is_let_go_when_the_run_ends(monkeypatch) -> None:
    from zhubaodai.checks import deadlines

    left: list[object] = []
    finish = deadlines.finish

    def watched(ctx) -> None:
        assert ctx.notice_watch is not None  # the disbursement made it
        finish(ctx)
        left.append(ctx.notice_watch)

    monkeypatch.setattr(deadlines, "finish", watched)
    analysis = run(CQ_HEAD + cq_loan("CQ-1", "2024-09-27", "2024-10-10"))
    assert left == [None]
    assert [r.deadline.status for r in analysis.records.deadlines] == [MET]


def test_records_come_loan_by_loan_in_the_register_s_order_whatever_the_filing_order() -> None:
    """Notices are judged as filed (by date) and kept in one list; finish() hands them out
    loan by loan in the register's order, each loan's notices then its compensation, so a
    later loan's notice filed before an earlier loan's compensation still comes after it."""
    text = (
        CQ_HEAD
        + cq_loan("CQ-1", "2024-03-01", "2024-03-01")
        + cq_loan("CQ-2", "2024-03-04", "2024-03-04", approved="2021-01-06")
        + CQ_DEFAULT
        + cq_comp("2025-02-17")
        + cq_loan("CQ-3", "2025-03-03", "2025-03-03", approved="2021-01-07")
    )
    assert [(r.loan, r.rule) for r in run(text).records.deadlines] == [
        ("CQ-1", "notice.disbursement"),
        ("CQ-1", "comp.deadline"),
        ("CQ-2", "notice.disbursement"),
        ("CQ-3", "notice.disbursement"),
    ]
