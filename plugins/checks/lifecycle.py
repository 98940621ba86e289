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
from zhubaodai.core.register import Loan

RULE = "program.lifecycle"
NEW_CREDIT = ("approval", "contract", "disbursement", "increase", "renewal")


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


#: The register events this module is handed as they are filed: approvals (a program's
#: first loan, and its loans) and every program event.
REGISTER_KINDS: frozenset[tuple[str, str]] | None = frozenset(
    [("loan", "approval")] + [("program", kind) for kind in PROGRAM_EVENTS]
)


class LifecycleWatch:
    """One program's life as the register is filed."""

    __slots__ = ("first_loan", "first_event", "opened", "ended", "loans")

    def __init__(self) -> None:
        #: Its first approval: (date, entry, what).
        self.first_loan: tuple[datetime.date, Directive, str] | None = None
        #: Its first program event other than the opening: (date, entry, what).
        self.first_event: tuple[datetime.date, Directive, str] | None = None
        self.opened: Event | None = None
        self.ended: Event | None = None
        #: Its loans in the register's order: their new credit after a termination.
        self.loans: list[Loan] = []


def on_register(ctx: Context, event: Event) -> None:
    if event.kind == "approval":
        loan = ctx.register.loans[event.subject]
        code = loan.program
    else:
        loan = None
        code = event.subject
    watch = ctx.lifecycle.get(code)
    if watch is None:
        watch = ctx.lifecycle[code] = LifecycleWatch()
    if loan is not None:
        watch.loans.append(loan)
        if watch.first_loan is None:  # filing is in date order: the earliest
            watch.first_loan = (event.date, event.entry, f"贷款 {loan.id} 的{event.label}")
    elif event.kind == "open":
        if watch.opened is None:
            watch.opened = event
    else:
        if watch.first_event is None:
            watch.first_event = (event.date, event.entry, f"项目{event.label}")
        if event.kind == "terminate" and watch.ended is None:
            watch.ended = event


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
        # Only a terminated program's loans are read again, from the termination on.
        for loan in watch.loans:
            for event in loan.events:
                if event.kind in NEW_CREDIT and event.date >= ended.date:
                    ctx.report(
                        RULE,
                        code,
                        event.entry,
                        f"项目 {code} 已于 {ended.date} 合作终止，不得再办理贷款 {loan.id} 的{event.label}",
                        loan=loan.id,
                    )
