"""期限提醒: what falls due for the pool from a reference day on.

Two kinds of deadline, both read from the engine:

* working-day deadlines the rules check (``notice.disbursement``, ``notice.renewal``,
  ``comp.deadline``): the engine's ``records.deadlines`` (:mod:`zhubaodai.checks.deadlines`),
  each with its start, its number of working days and, once decided, its last day. For
  one not done by the reference day the last day is the rule book's working-day calendar's
  N-th working day after the start (:mod:`zhubaodai.core.workdays`), and what is left is
  counted in working days by the same calendar;
* calendar dates the register holds: loan maturities (what is left, or how late, is
  counted in working days all the same); and tasks the rules set no date for: approved claims not yet compensated, recovered money not yet in the funds.

A day in a year the calendar does not know is shown as such, never guessed. Where the
rule book has no working-day rule for a program, the page says so.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from zhubaodai.core.engine import Analysis
from zhubaodai.core.money import ZERO
from zhubaodai.core.register import Event
from zhubaodai.core.register import Loan
from zhubaodai.fava.loanfacts import LoanIndex
from zhubaodai.fava.loanfacts import loan_index

#: Rules whose deadlines count working days.
WORKING_DAY_RULES = ("notice.disbursement", "notice.renewal", "comp.deadline")
WORKDAYS = "个工作日"
DAYS = "天"


@dataclass(frozen=True)
class Reminder:
    program: str
    loan: str
    enterprise_name: str
    what: str  # what falls due
    rule: str | None  # the rule that sets the deadline (None: a register date or a task)
    due: datetime.date | None  # last day allowed; None: no date (a task) or not computable
    left: int | None  # working days (calendar days where the calendar lacks a year: see unit) from the reference day
    unit: str
    amount: Decimal | None
    basis: str  # where the date comes from
    entry: Any  # the register directive or transaction to link to
    note: str = ""


@dataclass(frozen=True)
class Section:
    """One table of the page: the first reminders in its order (at most the page's row
    limit) and how many there are in all."""

    shown: tuple[Reminder, ...]
    count: int


@dataclass(frozen=True)
class RemindersView:
    today: datetime.date
    horizon: int  # working days
    horizon_end: datetime.date | None  # the horizon's last day (None: calendar unknown)
    upcoming: Section  # due within the horizon, by due day
    overdue: Section  # due before the reference day and not done, by due day
    pending: Section  # tasks without a date, by program and loan
    missing_rules: tuple[str, ...]  # working-day rules no selected program has
    calendar_note: str  # where the working days come from, or why they are unknown


def _enterprise(analysis: Analysis, enterprise_id: str) -> str:
    found = analysis.register.enterprises.get(enterprise_id)
    return found.data["name"] if found is not None else enterprise_id


def _calendar(analysis: Analysis) -> Any:
    """The rule book's working-day calendar (None where the engine has none)."""
    calendar = getattr(analysis.rulebook, "calendar", None)
    if calendar is not None:
        return calendar
    try:
        from zhubaodai.core.workdays import LIBRARY_ONLY
    except ImportError:
        return None
    return LIBRARY_ONLY


def _calendar_error() -> type[Exception]:
    try:
        from zhubaodai.core.workdays import CalendarYearError
    except ImportError:
        return LookupError
    return CalendarYearError


#: A reminder not built yet: its place in its table's order, and how to build it.
_Candidate = tuple[tuple[Any, ...], int, Callable[[], Reminder]]


def _section(candidates: list[_Candidate], limit: int | None) -> Section:
    """The first ``limit`` (all where None) of the candidates in their order, built, and
    their number. Ties keep the order found (the ledger's)."""
    candidates.sort(key=lambda c: (c[0], c[1]))
    chosen = candidates if limit is None else candidates[:limit]
    return Section(tuple(build() for _, _, build in chosen), len(candidates))


def reminders(
    analysis: Analysis,
    codes: Sequence[str],
    today: datetime.date,
    horizon: int,
    limit: int | None = None,
    index: LoanIndex | None = None,
) -> RemindersView:
    """What falls due from ``today`` on, for the programs ``codes``: each table's first
    ``limit`` reminders (all where None) and its count. Which reminders there are and in
    what order is decided from dates alone; a reminder (its working days left, its basis,
    its link) is built only for the rows shown. Loans are read from ``index`` (the load's
    :class:`LoanIndex`; built here where not given)."""
    selected = set(codes)
    calendar = _calendar(analysis)
    year_error = _calendar_error()
    horizon_end: datetime.date | None = None
    calendar_note = ""
    if calendar is not None:
        try:
            horizon_end = calendar.nth_workday_after(today, horizon)
            calendar_note = "工作日按 " + "、".join(
                sorted({calendar.source(today.year), calendar.source(horizon_end.year)})
            )
        except year_error as exc:
            calendar_note = str(exc)
    else:
        calendar_note = "规则引擎没有工作日历"
    calendar_end = horizon_end or today + datetime.timedelta(days=horizon * 7 // 5)

    upcoming: list[_Candidate] = []
    overdue: list[_Candidate] = []
    pending: list[_Candidate] = []

    def add(found: list[_Candidate], key: tuple[Any, ...], build: Callable[[], Reminder]) -> None:
        found.append((key, len(upcoming) + len(overdue) + len(pending), build))

    for record in analysis.records.deadlines:
        if record.program not in selected:
            continue
        deadline = record.deadline
        if deadline.start > today or (deadline.done is not None and deadline.done <= today):
            continue
        due = deadline.due
        note = ""
        try:
            if due is None:
                due = calendar.nth_workday_after(deadline.start, deadline.n)
        except (year_error, AttributeError) as exc:
            note = str(exc) if isinstance(exc, year_error) else "无法计算工作日"
        build = partial(_deadline_reminder, analysis, calendar, year_error, today, record, due, note)
        if due is None:
            add(pending, (record.program, record.loan), build)
        elif due < today:
            add(overdue, (due, record.program, record.loan), build)
        elif due <= calendar_end:
            add(upcoming, (due, record.program, record.loan), build)

    for facts in (index or loan_index(analysis)).of(c for c in analysis.rulebook.programs if c in selected):
        maturity, source = facts.maturity_on(today)
        if maturity is None or source is None:
            continue
        if maturity > calendar_end:  # neither overdue nor coming due: no need to ask more
            continue
        outstanding = facts.outstanding_on(today)
        if outstanding <= 0 or facts.settled_on(today):
            continue
        build = partial(_maturity_reminder, analysis, calendar, year_error, today, facts.loan, maturity, source,
                        outstanding)
        if maturity < today:
            if not facts.overdue_on(today):
                add(overdue, (maturity, facts.program, facts.id), build)
        else:
            add(upcoming, (maturity, facts.program, facts.id), build)

    for claim in analysis.records.claims.values():
        loan = claim.loan
        if loan.program not in selected or claim.event.date > today:
            continue
        if any(entry.date <= today for entry in claim.entries):
            continue
        add(pending, (loan.program, loan.id), partial(
            Reminder, loan.program, loan.id, _enterprise(analysis, loan.enterprise),
            "代偿申请已审核同意，尚未代偿入账", None, None, None, "", claim.due,
            f"{claim.event.date} 代偿申请", claim.event.entry,
        ))
    for loan_id, state in analysis.records.loan_recoveries.items():
        loan = analysis.register.loans[loan_id]
        if loan.program not in selected or state.last_event is None or state.last_event.date > today:
            continue
        for fund, expected in state.expected.items():
            missing = expected - state.received[fund]
            if missing > ZERO:
                add(pending, (loan.program, loan.id), partial(
                    Reminder, loan.program, loan.id, _enterprise(analysis, loan.enterprise),
                    f"追偿款应补回{analysis.rulebook.names(loan.program).fund(fund)}，尚未到账", None, None, None, "",
                    missing, f"{state.last_event.date} 追偿回收", state.last_event.entry,
                ))

    missing_rules = tuple(
        rule_id
        for rule_id in WORKING_DAY_RULES
        if not any(analysis.rulebook.programs[c].rule(rule_id) for c in selected)
    )
    return RemindersView(
        today, horizon, horizon_end, _section(upcoming, limit), _section(overdue, limit), _section(pending, limit),
        missing_rules, calendar_note,
    )


def _deadline_reminder(
    analysis: Analysis, calendar: Any, year_error: type[Exception], today: datetime.date, record: Any,
    due: datetime.date | None, note: str,
) -> Reminder:
    """A working-day deadline not done by ``today`` (``due``: its last day, None where the
    calendar cannot say; ``note``: why)."""
    deadline = record.deadline
    loan = analysis.register.loans[record.loan]
    program = analysis.rulebook.programs[record.program]
    rule = program.rule(record.rule)
    basis = f"{deadline.start} 起 {deadline.n} 个工作日（{record.rule}"
    basis += f"，{program.cite_rule(rule, deadline.start)}）" if rule else "）"
    left, unit = _left(calendar, year_error, today, due) if due is not None else (None, WORKDAYS)
    return Reminder(
        record.program, record.loan, _enterprise(analysis, loan.enterprise), record.what, record.rule, due, left,
        unit, None, basis, _anchor(loan, deadline.start), note,
    )


def _maturity_reminder(
    analysis: Analysis, calendar: Any, year_error: type[Exception], today: datetime.date, loan: Loan,
    maturity: datetime.date, source: Event, outstanding: Decimal,
) -> Reminder:
    """A loan's maturity (the register's date, set by ``source``) with principal outstanding."""
    return Reminder(
        loan.program, loan.id, _enterprise(analysis, loan.enterprise), "贷款到期", None, maturity,
        *_left(calendar, year_error, today, maturity), outstanding, f"{source.label}登记的到期日", source.entry,
    )


def _left(calendar: Any, year_error: type[Exception], today: datetime.date, due: datetime.date) -> tuple[int, str]:
    """Working days from the reference day to ``due`` (negative: working days past it),
    by the rule book's calendar; calendar days only where the calendar does not know a
    year in between (the unit says which)."""
    try:
        if due >= today:
            return calendar.workdays_in(today, due), WORKDAYS
        return -calendar.workdays_in(due, today), WORKDAYS
    except (year_error, AttributeError):
        return (due - today).days, DAYS


def _anchor(loan: Any, start: datetime.date) -> Any:
    """The register event a deadline counts from (to link to it)."""
    found = None
    for event in loan.events:
        if event.date == start:
            found = event
    return found.entry if found is not None else None

