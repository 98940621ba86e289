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
from zhubaodai.core.register import Event

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


def _event(kind: str, events: list[Event]) -> Event | None:
    found = [e for e in events if e.kind == kind]
    return min(found, key=lambda e: e.date) if found else None


def finish(ctx: Context) -> None:
    first_cash = _first(ctx)
    register = ctx.register
    earliest: dict[str, tuple[datetime.date, Directive, str]] = {}
    for code, item in first_cash.items():
        earliest[code] = item
    for loan in register.loans.values():
        event = loan.events[0]
        known = earliest.get(loan.program)
        if known is None or event.date < known[0]:
            earliest[loan.program] = (event.date, event.entry, f"贷款 {loan.id} 的{event.label}")
    for code, events in register.program_events.items():
        for event in events:
            if event.kind == "open":
                continue
            known = earliest.get(code)
            if known is None or event.date < known[0]:
                earliest[code] = (event.date, event.entry, f"项目{event.label}")
    for code in ctx.rulebook.programs:
        if not ctx.active(code, RULE):
            continue
        events = register.program_events.get(code, [])
        opened = _event("open", events)
        ended = _event("terminate", events)
        start = earliest.get(code)
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
        for loan in register.loans.values():
            if loan.program != code:
                continue
            for event in loan.events:
                if event.kind in NEW_CREDIT and event.date >= ended.date:
                    ctx.report(
                        RULE,
                        code,
                        event.entry,
                        f"项目 {code} 已于 {ended.date} 合作终止，不得再办理贷款 {loan.id} 的{event.label}",
                        loan=loan.id,
                    )
