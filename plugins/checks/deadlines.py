"""Deadlines in working days: the bank's notices and the compensation itself.

Rules: ``notice.disbursement``, ``notice.renewal``, ``comp.deadline``.

The ledger these rules expect::

    2024-09-27 custom "loan" "disbursement" "CQ-2024-031"
      amount: 2000000.00 CNY
      maturity: 2025-09-27
      notice_date: 2024-10-08          ; the bank's letter to the managing body

    2024-09-02 custom "loan" "overdue" "CQ-2024-007"
      principal: 1000000.00 CNY
    2024-09-05 custom "loan" "claim" "CQ-2024-007"
      ...
    2024-09-06 custom "loan" "confirmation" "CQ-2024-007"   ; CQ: the clock starts here
      letter: "高新创服确〔2024〕5号"
    2024-09-12 * "代偿 CQ-2024-007" ^CQ-2024-007            ; the first compensation
      ...

A deadline of N working days after a day counts from the next day and includes the Nth
working day (:func:`zhubaodai.core.workdays.check_deadline`; working days from calendar.yaml,
cross-checked with the chinesecalendar package). A thing not yet done is a breach only
once the books (their last entry) have passed the last day allowed.

A deadline may instead count calendar days (issue 10): a rule gives ``days`` in place of
``workdays`` (rules.yaml validates that exactly one is given). N calendar days after a day
run from the next day and include the Nth day, whether or not it is a working day.

comp.deadline sits here rather than in :mod:`zhubaodai.checks.waterfall`: it is a question of
dates, answered with the same working-day count as the notices, and it only reads the
compensations the waterfall has recorded (``records.claims``), never recomputes them.
The clock starts at the rule's ``anchor`` event (CQ: the confirmation of the overdue
facts; WLHT: the overdue, plus ``grace_months``); the compensation is due once the bank
has claimed, unless the loan is settled or repaid by the last day.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from beancount.core.data import Directive

from zhubaodai.checks.loans import ProgramRules
from zhubaodai.core.engine import Context
from zhubaodai.core.findings import Finding
from zhubaodai.core.register import Event
from zhubaodai.core.register import Loan
from zhubaodai.core.workdays import CalendarYearError
from zhubaodai.core.workdays import Deadline
from zhubaodai.core.workdays import LATE
from zhubaodai.core.workdays import LIBRARY_ONLY
from zhubaodai.core.workdays import MET
from zhubaodai.core.workdays import MISSED
from zhubaodai.core.workdays import PENDING
from zhubaodai.core.workdays import WorkCalendar
from zhubaodai.core.workdays import add_months
from zhubaodai.core.workdays import check_deadline

NOTICE_RULES = {"disbursement": "notice.disbursement", "renewal": "notice.renewal"}
NOTICE_WHAT = {"disbursement": "放款后告知", "renewal": "续贷后告知"}
ANCHOR_LABELS = {"confirmation": "逾期事实确认", "overdue": "逾期", "claim": "代偿申请"}


@dataclass(frozen=True, slots=True)
class DeadlineRecord:
    """One deadline the rules checked, for every face that lists them."""

    rule: str
    program: str
    loan: str
    what: str
    deadline: Deadline


def _calendar(ctx: Context) -> WorkCalendar:
    return ctx.rulebook.calendar or LIBRARY_ONLY


class _CalendarDays:
    """A :class:`WorkCalendar` stand-in where every day counts (a rule's ``days``)."""

    def is_workday(self, day: datetime.date) -> bool:
        return True

    def nth_workday_after(self, start: datetime.date, n: int) -> datetime.date:
        return start + datetime.timedelta(days=n)

    def workdays_in(self, start: datetime.date, end: datetime.date) -> int:
        return (end - start).days


CALENDAR_DAYS = _CalendarDays()


def _unit(ctx: Context, code: str, rule_id: str) -> tuple[str, str]:
    """The rule's counting: (parameter name, Chinese unit): working or calendar days."""
    params = ctx.rulebook.programs[code].rules[rule_id].params
    return ("days", "天") if "days" in params else ("workdays", "个工作日")


def _cal_for(ctx: Context, code: str, rule_id: str) -> WorkCalendar:
    return CALENDAR_DAYS if _unit(ctx, code, rule_id)[0] == "days" else _calendar(ctx)  # type: ignore[return-value]


@dataclass
class NoticeWatch:
    """The notices judged as the register files each disbursement and renewal
    (:attr:`Context.notice_watch`), and the loans that may owe a compensation on time.

    A notice depends only on its event and the books' last day, so it is judged when filed;
    what it gives (its record, its findings) is kept by loan and handed out in
    :func:`finish` loan by loan in the register's order, as before. A notice whose last day
    falls in a year the calendar does not know is judged in :func:`finish` instead: that
    year is reported once per rule and program, at the first loan in the register's order."""

    programs: dict[str, ProgramRules] = field(default_factory=dict)
    #: (start, n, calendar) -> the last day allowed (loans disbursed the same day share it).
    dues: dict[tuple[datetime.date, int, int], datetime.date] = field(default_factory=dict)
    #: (start, n, calendar, done, last day of the books) -> its deadline, made once: loans
    #: disbursed and told on the same days share one frozen :class:`Deadline` (their
    #: records differ only by loan).
    made: dict[tuple[datetime.date, int, int, datetime.date | None, datetime.date | None], Deadline] = field(
        default_factory=dict
    )
    #: The records of the notices judged when filed, in filing order (each names its
    #: loan; one list, not one per loan: :func:`finish` sorts them into the register's order).
    records: list[DeadlineRecord] = field(default_factory=list)
    #: Loan id -> the findings of those notices, in filing order (most loans have none).
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    #: Loan id -> its notices left to finish(): the first whose year the calendar lacks,
    #: and every later one of the loan (so the loan's records keep their order).
    later: dict[str, list[Event]] = field(default_factory=dict)
    #: Loan id -> its overdue, claim and confirmation events as filed (comp.deadline's
    #: anchors, and the claims that make a compensation due): most loans have none.
    defaulted: dict[str, list[Event]] = field(default_factory=dict)


def _notice_watch(ctx: Context) -> NoticeWatch:
    watch = ctx.notice_watch
    if watch is None:
        watch = ctx.notice_watch = NoticeWatch(
            {code: ProgramRules(ctx, code, RULE_IDS) for code in ctx.rulebook.programs}
        )
    return watch


#: The register events :func:`on_register` is given: the notices' events and the anchors.
REGISTER_KINDS: frozenset[tuple[str, str]] | None = frozenset(
    ("loan", kind) for kind in (*NOTICE_RULES, *ANCHOR_LABELS)
)


def on_register(ctx: Context, event: Event) -> None:
    watch = ctx.notice_watch or _notice_watch(ctx)
    kind = event.kind
    loan_id = event.subject
    if kind in ANCHOR_LABELS:
        filed = watch.defaulted.get(loan_id)
        if filed is None:
            watch.defaulted[loan_id] = [event]
        else:
            filed.append(event)
        return
    loan = ctx.register.loans[loan_id]
    rule_id = NOTICE_RULES[kind]
    rules = watch.programs[loan.program]
    if not rules.on[rule_id]:
        return
    later = watch.later.get(loan_id)
    if later is not None:
        later.append(event)
        return
    records = watch.records
    kept = len(records)
    findings = ctx.findings
    before = len(findings)
    unknown: set[tuple[str, str, int]] = set()
    _notice(rules, rule_id, loan, event, records, unknown, watch)
    if unknown:  # the calendar lacks a year: judged in finish(), in the register's order
        del findings[before:]
        del records[kept:]
        watch.later[loan_id] = [event]
    elif len(findings) > before:
        watch.findings.setdefault(loan_id, []).extend(findings[before:])
        del findings[before:]


def finish(ctx: Context) -> None:
    records: list[DeadlineRecord] = ctx.records.deadlines
    missing_years: set[tuple[str, str, int]] = set()
    compensations = _compensation_dates(ctx)
    watch = ctx.notice_watch or _notice_watch(ctx)
    programs = watch.programs
    said, later = watch.findings, watch.later
    defaulted = watch.defaulted
    findings = ctx.findings
    loans = ctx.register.loans
    # Loan by loan in the register's order; a loan's own records keep their filing order.
    judged = sorted(watch.records, key=lambda record: loans[record.loan].seq)
    i, n = 0, len(judged)
    for loan in loans.values():
        loan_id = loan.id
        start = i
        while i < n and judged[i].loan == loan_id:
            i += 1
        records += judged[start:i]
        if said:
            found = said.get(loan_id)
            if found:
                findings += found
        if later:
            events = later.get(loan_id)
            if events:
                rules = programs[loan.program]
                for event in events:
                    _notice(rules, NOTICE_RULES[event.kind], loan, event, records, missing_years, watch)
        if (loan_id in defaulted or loan_id in compensations) and programs[loan.program].on["comp.deadline"]:
            _compensation(ctx, loan, defaulted.get(loan_id, ()), compensations.get(loan_id, []), records, missing_years)
    ctx.notice_watch = None  # said and recorded: the run's scratch is let go at once


RULE_IDS = ("notice.disbursement", "notice.renewal", "comp.deadline")


def _deadline(
    cal: WorkCalendar,
    watch: NoticeWatch,
    start: datetime.date,
    n: int,
    done: datetime.date | None,
    as_of: datetime.date | None,
) -> Deadline:
    """:func:`check_deadline`, each distinct deadline made once per run and shared
    (:attr:`NoticeWatch.made`), the last day allowed remembered per (start, n, calendar)
    (:attr:`NoticeWatch.dues`). Where the calendar cannot give the last day, the exact
    walk decides (and raises only if the answer needs the missing year)."""
    key = (start, n, id(cal), done, as_of)
    made = watch.made
    deadline = made.get(key)
    if deadline is not None:
        return deadline
    day = (start, n, id(cal))
    dues = watch.dues
    due = dues.get(day)
    if due is None:
        try:
            due = dues[day] = cal.nth_workday_after(start, n)
        except CalendarYearError:
            return check_deadline(cal, start, n, done, as_of)
    if done is not None:
        status = MET if done <= due else LATE
    else:
        status = MISSED if as_of is not None and as_of > due else PENDING
    deadline = made[key] = Deadline(start, n, status, due, done)
    return deadline


def _check(
    ctx: Context,
    rule_id: str,
    loan: Loan,
    start: datetime.date,
    n: int,
    done: datetime.date | None,
    anchor: Directive,
    missing_years: set[tuple[str, str, int]],
) -> Deadline | None:
    try:
        return check_deadline(_cal_for(ctx, loan.program, rule_id), start, n, done, ctx.as_of)
    except CalendarYearError as exc:
        key = (rule_id, loan.program, exc.year)
        if key not in missing_years:
            missing_years.add(key)
            ctx.report(rule_id, loan.program, anchor, f"贷款 {loan.id}：{exc}", loan=loan.id)
        return None


def _counted(ctx: Context, start: datetime.date, end: datetime.date, unit: str = "个工作日") -> str:
    """'第 K 个工作日' for ``end`` counted from the day after ``start``, where the calendar
    knows every day in between (within three years)."""
    if unit == "天":
        return f"，为次日起第 {(end - start).days} 天"
    if (end - start).days > 1100:
        return ""
    try:
        return f"，为次日起第 {_calendar(ctx).workdays_in(start, end)} 个工作日"
    except CalendarYearError:
        return ""


def _late_workdays(ctx: Context, start: datetime.date, done: datetime.date, n: int) -> int | None:
    """Working days ``done`` is past a deadline of ``n`` working days from the day after
    ``start``; None where the calendar does not know every day in between."""
    if (done - start).days > 1100:
        return None
    try:
        return _calendar(ctx).workdays_in(start, done) - n
    except CalendarYearError:
        return None


def _late(
    ctx: Context, start: datetime.date, done: datetime.date, n: int, due: datetime.date, unit: str = "个工作日"
) -> str:
    """How late ``done`` is against a deadline of ``n`` working days from the day after
    ``start`` (due on ``due``): in working days where the calendar knows the days, else in
    calendar days, said as such."""
    days = (done - due).days
    if unit == "天":
        return f"晚 {days} 天"
    late = _late_workdays(ctx, start, done, n)
    if late is not None:
        if late >= 1:
            return f"晚 {late} 个工作日"
        return f"晚 {days} 天（均为非工作日）"
    return f"晚 {days} 天（日历日；工作日历未收录其间的年份）"


def _period_figures(n: int, unit: str) -> dict[str, Decimal]:
    """The deadline's length, as a finding's figure: in working days or calendar days."""
    if unit == "天":
        return {"期限天数": Decimal(n)}
    return {"期限工作日数": Decimal(n)}


def _late_figures(
    ctx: Context, start: datetime.date, done: datetime.date, n: int, due: datetime.date, unit: str = "个工作日"
) -> dict[str, Decimal]:
    """The lateness :func:`_late` states, as a finding's figures: calendar days past the due
    date, and working days where the calendar knows them."""
    figures = {"晚于期限天数": Decimal((done - due).days)}
    if unit == "天":
        return figures
    late = _late_workdays(ctx, start, done, n)
    if late is not None:
        figures["晚于期限工作日数"] = Decimal(late)
    return figures


def _notice(
    rules: ProgramRules,
    rule_id: str,
    loan: Loan,
    event: Event,
    records: list[DeadlineRecord],
    missing_years: set[tuple[str, str, int]],
    watch: NoticeWatch,
) -> None:
    ctx = rules.ctx
    code = loan.program
    name, unit = _unit(ctx, code, rule_id)
    n = rules.param(rule_id, name, event.date, event.entry)
    if n is None:
        return
    cal = _cal_for(ctx, code, rule_id)
    done = event.data.get("notice_date")
    if done is not None and done < event.date:
        ctx.report(
            rule_id,
            code,
            event.entry,
            f"贷款 {loan.id} 的告知日 {done} 早于{event.label}日 {event.date}，请核对",
            loan=loan.id,
        )
        return
    try:
        deadline = _deadline(cal, watch, event.date, n, done, ctx.as_of)
    except CalendarYearError:
        deadline = _check(ctx, rule_id, loan, event.date, n, done, event.entry, missing_years)
        if deadline is None:
            return
    records.append(DeadlineRecord(rule_id, code, loan.id, NOTICE_WHAT[event.kind], deadline))
    if not deadline.failed:
        return
    head = (
        f"贷款 {loan.id} {event.label}日 {event.date}，合作银行应在 {n} {unit}内告知，"
        f"最后期限为次日起第 {n} {unit} {deadline.due}"
    )
    stated = _period_figures(n, unit)
    if deadline.status == LATE:
        message = (
            f"{head}；实际告知日 {done}{_counted(ctx, event.date, done, unit)}，"
            f"{_late(ctx, event.date, done, n, deadline.due, unit)}"
        )
        stated.update(_late_figures(ctx, event.date, done, n, deadline.due, unit))
    else:
        message = f"{head}；截至账本最后日期 {ctx.as_of} 仍未登记告知日 notice_date"
    ctx.report(rule_id, code, event.entry, message, loan=loan.id, stated=stated)


def _compensation_dates(ctx: Context) -> dict[str, list[tuple[datetime.date, Directive]]]:
    """Loan id -> (date, entry) of each compensation the waterfall recorded, in date order."""
    found: dict[str, list[tuple[datetime.date, Directive]]] = {}
    for claim in ctx.records.claims.values():
        for entry in claim.entries:
            found.setdefault(claim.loan.id, []).append((entry.date, entry))
    for dates in found.values():
        dates.sort(key=lambda item: item[0])
    return found


def _compensation(
    ctx: Context,
    loan: Loan,
    filed: Sequence[Event],
    paid: list[tuple[datetime.date, Directive]],
    records: list[DeadlineRecord],
    missing_years: set[tuple[str, str, int]],
) -> None:
    """Each episode runs from an anchor event to the first compensation on or after it;
    the next episode starts at the first anchor after that compensation. ``filed``: the
    loan's overdue, claim and confirmation events, as :func:`on_register` kept them."""
    code = loan.program
    anchors: list[Event] = []
    for event in filed:
        kind = ctx.param(code, "comp.deadline", "anchor", event.date, event.entry)
        if kind == event.kind:
            anchors.append(event)
    claims = [e.date for e in filed if e.kind == "claim"]
    i = 0  # the next compensation not yet matched to an episode
    after: datetime.date | None = None  # the previous episode's compensation
    if paid and (not anchors or anchors[0].date > paid[0][0]):
        # A compensation with no anchor before it: no clock to judge it by.
        kind = _anchor_kind(ctx, code, paid[0][0])
        if kind == "confirmation":  # overdue and claim are required of every compensation already
            ctx.report(
                "comp.deadline",
                code,
                paid[0][1],
                f"贷款 {loan.id} 代偿前未登记{ANCHOR_LABELS[kind]}（{kind}），无法起算代偿期限",
                loan=loan.id,
            )
        after, i = paid[0][0], 1  # that episode is over: a later anchor starts a new one
    for anchor in anchors:
        if after is not None and anchor.date <= after:
            continue
        name, unit = _unit(ctx, code, "comp.deadline")
        n = ctx.param(code, "comp.deadline", name, anchor.date, anchor.entry)
        if n is None:
            return
        grace = 0
        if "grace_months" in ctx.rulebook.programs[code].rules["comp.deadline"].params:
            grace = ctx.param(code, "comp.deadline", "grace_months", anchor.date, anchor.entry) or 0
        start = add_months(anchor.date, grace)
        while i < len(paid) and paid[i][0] < anchor.date:
            i += 1
        done, done_entry = paid[i] if i < len(paid) else (None, None)
        if done is None and not any(after is None or day > after for day in claims):
            continue  # the bank has not claimed: nothing is due yet
        deadline = _check(ctx, "comp.deadline", loan, start, n, done, anchor.entry, missing_years)
        if deadline is None:
            return
        label = ANCHOR_LABELS[anchor.kind]
        records.append(DeadlineRecord("comp.deadline", code, loan.id, f"{label}后代偿", deadline))
        cured = (
            done is None
            and deadline.due is not None
            and (loan.settled(deadline.due) or loan.outstanding(deadline.due) <= 0)
        )
        if deadline.failed and not cured:
            when = f"{label}日 {anchor.date}"
            if grace:
                when += f"，逾期满 {grace} 个月为 {start}"
            head = (
                f"贷款 {loan.id} {when}，应在 {n} {unit}内以助保金代偿，"
                f"最后期限为次日起第 {n} {unit} {deadline.due}"
            )
            if deadline.status == LATE:
                ctx.report(
                    "comp.deadline",
                    code,
                    done_entry,
                    f"{head}；实际首笔代偿 {done}{_counted(ctx, start, done, unit)}，"
                    f"{_late(ctx, start, done, n, deadline.due, unit)}",
                    loan=loan.id,
                    stated={**_period_figures(n, unit), **_late_figures(ctx, start, done, n, deadline.due, unit)},
                    on=anchor.date,  # the deadline's version: the anchor's, not the payment's
                )
            else:
                ctx.report(
                    "comp.deadline",
                    code,
                    anchor.entry,
                    f"{head}；银行已申请代偿，截至账本最后日期 {ctx.as_of} 仍未代偿",
                    loan=loan.id,
                    stated=_period_figures(n, unit),
                )
        if done is None:
            return
        after = done
        i += 1


def _anchor_kind(ctx: Context, code: str, on: datetime.date) -> str | None:
    try:
        return ctx.rulebook.programs[code].rules["comp.deadline"].params["anchor"].at(on)
    except LookupError:
        return None
