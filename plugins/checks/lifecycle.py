"""A program's life: opening, termination (and, in zhubaodai.checks.pool, final disposal).

Rule: ``program.lifecycle``. The final disposal itself (only after the termination, with
every loan settled) is checked with every other outflow under ``pool.no_withdrawal`` in
:mod:`zhubaodai.checks.pool`, and not again here.

The ledger this rule expects::

    2021-03-01 custom "program" "open" "CQGX"
      agreement: "助保贷业务合作协议（2021）"

    ... the program's loans and cash ...

    2027-01-10 custom "program" "terminate" "CQGX"
      letter: "高新区管委会关于终止助保贷合作的通知"

Nothing of the program (a loan event, a program plan, a cash entry on its pool) may come
before its opening; from the termination on, no new credit (approval, contract,
disbursement, increase, renewal) and no injection of the risk fund. A program's first
activity without any opening is reported once, at that activity.
"""

from __future__ import annotations

import datetime

from beancount.core.data import Directive

from zhubaodai.core.engine import Context
from zhubaodai.core.engine import Movement
from zhubaodai.core.register import PROGRAM_EVENTS
from zhubaodai.core.register import Event
from zhubaodai.core.register import NEW_CREDIT_EVENTS

RULE = "program.lifecycle"


def _first(ctx: Context) -> dict[str, tuple[datetime.date, Directive, str]]:
    return ctx.lifecycle_first


#: The transaction kinds :func:`on_movement` is given (None: every kind).
MOVEMENT_KINDS: frozenset[str] | None = None


def on_movement(ctx: Context, m: Movement) -> None:
    code = m.state.program.code
    first = _first(ctx)
    if code not in first:
        first[code] = (m.date, m.entry, "专户分录")
    if m.kind == "injection" and m.delta("risk") > 0 and ctx.active(code, RULE):
        ended = ctx.register.terminated(code, m.date)
        if ended is not None:
            ctx.report(
                RULE,
                code,
                m.entry,
                f"项目 {code} 已于 {ended.date} 合作终止，不得再注入风险补偿金",
                figures={"注入金额": m.delta("risk")},
            )


#: The register events this module is handed as they are filed: the loans' new credit
#: (a program's first loan; new credit from its termination on) and every program event.
REGISTER_KINDS: frozenset[tuple[str, str]] | None = frozenset(
    [("loan", kind) for kind in NEW_CREDIT_EVENTS] + [("program", kind) for kind in PROGRAM_EVENTS]
)


class LifecycleWatch:
    """One program's life as the register is filed."""

    __slots__ = ("first_loan", "first_event", "opened", "ended", "day", "todays", "after")

    def __init__(self) -> None:
        #: Its first approval: (date, entry, what).
        self.first_loan: tuple[datetime.date, Directive, str] | None = None
        #: Its first program event other than the opening: (date, entry, what).
        self.first_event: tuple[datetime.date, Directive, str] | None = None
        self.opened: Event | None = None
        self.ended: Event | None = None
        #: The new credit filed on the latest day filed so far (a day's approvals are
        #: filed before its termination, and other events may be too): once the
        #: termination is filed, those of its own day are breaches as well.
        self.day: datetime.date | None = None
        self.todays: list[Event] = []
        #: The new credit dated on or after the termination, as filed.
        self.after: list[Event] = []


def on_register(ctx: Context, event: Event) -> None:
    # A loan's new credit (its approval is always the first filed: the program's first
    # loan is an approval), or a program event.
    loan = ctx.register.loans[event.subject] if event.entry.type == "loan" else None
    code = loan.program if loan is not None else event.subject
    watch = ctx.lifecycle.get(code)
    if watch is None:
        watch = ctx.lifecycle[code] = LifecycleWatch()
    if loan is not None:
        if watch.first_loan is None:  # filing is in date order: the earliest
            watch.first_loan = (event.date, event.entry, f"贷款 {loan.id} 的{event.label}")
        if watch.ended is not None:  # filed after the termination: dated on or after it
            watch.after.append(event)
        elif event.date == watch.day:
            watch.todays.append(event)
        else:
            watch.day, watch.todays = event.date, [event]
    elif event.kind == "open":
        if watch.opened is None:
            watch.opened = event
    else:
        if watch.first_event is None:
            watch.first_event = (event.date, event.entry, f"项目{event.label}")
        if event.kind == "terminate" and watch.ended is None:
            watch.ended = event
            if watch.day == event.date:  # the day's new credit filed before it
                watch.after.extend(watch.todays)
            watch.todays = []


def finish(ctx: Context) -> None:
    first_cash = _first(ctx)
    for code in ctx.rulebook.programs:
        if not ctx.active(code, RULE):
            continue
        watch = ctx.lifecycle.get(code) or LifecycleWatch()
        start = first_cash.get(code)
        for found in (watch.first_loan, watch.first_event):  # the earliest; on a tie, the first named
            if found is not None and (start is None or found[0] < start[0]):
                start = found
        opened = watch.opened
        ended = watch.ended
        if start is not None:
            day, entry, what = start
            if opened is None:
                ctx.report(RULE, code, entry, f"项目 {code} 未登记启动（program open），不应已有{what}（{day}）")
            elif day < opened.date:
                ctx.report(
                    RULE, code, entry, f"项目 {code} 于 {opened.date} 启动，{what}（{day}）早于启动日"
                )
        if ended is not None and opened is not None and ended.date < opened.date:
            ctx.report(RULE, code, ended.entry, f"项目 {code} 的合作终止日 {ended.date} 早于启动日 {opened.date}")
        if ended is None:
            continue
        # The new credit from the termination on, loan by loan in the register's order
        # (stable: each loan's own events keep their order).
        loans = ctx.register.loans
        for event in sorted(watch.after, key=lambda e: loans[e.subject].seq):
            ctx.report(
                RULE,
                code,
                event.entry,
                f"项目 {code} 已于 {ended.date} 合作终止，不得再办理贷款 {event.subject} 的{event.label}",
                loan=event.subject,
            )
