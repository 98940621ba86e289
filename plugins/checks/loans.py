"""Loan terms and who may borrow: amount, term, rate, collateral, purpose, renewal,
eligibility and the blacklist.

Rules: ``loan.amount``, ``loan.amount_general``, ``loan.term``, ``loan.term_general``,
``loan.rate``, ``loan.collateral``, ``loan.purpose``, ``loan.renewal``, ``eligibility``,
``blacklist``, ``loan.portfolio_stop``.

The ledger these rules expect (see docs/ledger-format.md for every key)::

    2024-01-05 custom "enterprise" "register" "E-CQ-001"
      program: "CQGX"
      name: "重庆某某科技有限公司"
      size: "小型"
      zone: TRUE
      hightech_cert: "GR202350001234"
      hightech_until: 2026-11-30

    2024-03-01 custom "loan" "approval" "CQ-2024-001"
      program: "CQGX"
      enterprise: "E-CQ-001"
      amount: 3000000.00 CNY
      letter: "高新创服函〔2024〕12号"
      purpose: "流动资金"
      term_months: 12

    2024-03-08 custom "loan" "contract" "CQ-2024-001"
      amount: 3000000.00 CNY
      maturity: 2025-03-08
      rate: 0.0400
      collateral: 1200000.00 CNY          ; WLHT: >= 40% of the amount
      joint_liability: "张某（实际控制人）"  ; WLHT

    2024-03-10 custom "loan" "disbursement" "CQ-2024-001"
      amount: 3000000.00 CNY
      notice_date: 2024-03-13

The module is handed, as the register files them (in date order, a day's approvals
first), the loan events that move a credit line or the program's overdue rate and each
blacklisting. It keeps each borrower's running state (an enterprise in a program: the
credit line and terms of each loan not yet closed) and judges a day's new credit once the
register has moved past that day, against the sum of those lines; nothing is re-read
after the filing. Its findings are given out in
the register's order of borrowers (each borrower's by day), as a reader of one
enterprise's file would take them.

* Eligibility is judged on the approval's date from the enterprise's register and
  update events up to that day (the latest value of each fact counts); missing facts
  count as not shown, so not eligible.
* The amount limits are per enterprise: the sum of the credit lines of its loans in the
  program that are not yet settled, at the end of the day of each approval, contract,
  increase and renewal. A loan's line is the approved amount until the contract, then the
  contract amount plus increases, the renewed amount after a renewal, and nothing once
  it is settled or repaid to nil.
* The term runs from each disbursement (or renewal) to its maturity, at most the
  anniversary (:func:`zhubaodai.core.workdays.add_months`). ``loan.term_general`` is the
  same reading of a soft limit (一般), not reported where ``loan.term`` already is.
* The portfolio stop (``loan.portfolio_stop``, issue 10) reads the program's loans as a
  whole: at the end of the day before each approval, the overdue rate is the principal
  overdue divided by the principal outstanding; at or above the limit the approval is a
  breach. A loan counts as overdue from its ``overdue`` event (its ``principal``, at
  most the loan's outstanding) until it is settled or repaid to nil; a later ``overdue``
  event of the same loan replaces the earlier one. That definition is this project's
  reading (an assumption: the excerpts do not define the rate).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from zhubaodai.core.engine import Context
from zhubaodai.core.findings import Finding
from zhubaodai.core.money import ZERO
from zhubaodai.core.money import half_up
from zhubaodai.core.money import percent
from zhubaodai.core.money import yuan
from zhubaodai.core.register import BALANCE_EVENTS
from zhubaodai.core.register import Event
from zhubaodai.core.register import Loan
from zhubaodai.core.register import NEW_CREDIT_EVENTS
from zhubaodai.core.rules import ParamCursor
from zhubaodai.core.rules import ParamDateError
from zhubaodai.core.rules import RATINGS
from zhubaodai.core.rules import SIZES
from zhubaodai.core.workdays import add_months

NEW_CREDIT = frozenset(NEW_CREDIT_EVENTS)
_BALANCE = frozenset(BALANCE_EVENTS)
CRITERION_LABELS = {
    "zone": "注册地",
    "size": "企业规模",
    "innovation": "高新技术或优质科技型企业",
    "roster": "备选企业名册",
    "assessment": "评分或信用等级",
    "credit": "征信记录",
}


class LineState:
    """A loan's credit line as filed so far (its principal is the register's, on each
    event); ``next`` is the borrower's next loan (its lines are a chain: most borrowers
    have one loan, and a list each would cost more than the lines). A loan settled or
    repaid to nil leaves the chain at the end of that day (:func:`_end_of_day`)."""

    __slots__ = ("loan", "line", "rate", "collateral", "maturity", "reported", "next")

    def __init__(self, loan: Loan) -> None:
        self.loan = loan
        self.next: LineState | None = None
        self.line = ZERO
        self.rate: Decimal | None = None
        self.collateral: Decimal | None = None
        self.maturity: datetime.date | None = None
        self.reported: dict[str, Decimal] | None = None


class ProgramRules:
    """One program's rules of this module, resolved once: which are on, and a
    :class:`~zhubaodai.core.rules.ParamCursor` per parameter."""

    def __init__(self, ctx: Context, code: str, rule_ids: tuple[str, ...]) -> None:
        rules = ctx.rulebook.programs[code].rules
        self.ctx = ctx
        self.code = code
        self.on = {rule_id: rule_id in rules for rule_id in rule_ids}
        # The same switches as attributes, read once per enterprise (not per event).
        on = self.on
        self.blacklist = on.get("blacklist", False)
        self.eligibility_on = on.get("eligibility", False)
        self.purpose = on.get("loan.purpose", False)
        self.term = on.get("loan.term", False)
        self.term_general = on.get("loan.term_general", False)
        self.rate = on.get("loan.rate", False)
        self.collateral = on.get("loan.collateral", False)
        self.renewal = on.get("loan.renewal", False)
        self.cursors = {
            (rule_id, name): ParamCursor(param)
            for rule_id in rule_ids
            if rule_id in rules
            for name, param in rules[rule_id].params.items()
        }
        # Shortcuts: below every version of every ceiling, a total needs no check at all.
        ceilings = [
            v for v in (
                self.lowest("loan.amount", "max", "max_scorecard", "max_rating") if self.on.get("loan.amount") else None,
                self.lowest("loan.amount_general", "max") if self.on.get("loan.amount_general") else None,
            ) if v is not None
        ]
        self.safe_total = min(ceilings) if ceilings else None
        self.any_amount = bool(self.on.get("loan.amount") or self.on.get("loan.amount_general"))
        months = self.lowest("loan.term", "months") if self.on.get("loan.term") else None
        self.year_is_safe = months is not None and months >= 12
        # ...but only where every parameter has a version in force (else the lookup reports it).
        params = [c.param for c in self.cursors.values()]
        self.first = max((p.dates[0] for p in params), default=None)
        ends = [d for p in params for d, v in zip(p.dates, p.values) if v is None]
        self.end = min(ends) if ends else None
        self._eligibility_day: datetime.date | None = None
        self._eligibility: tuple[Any, dict[str, Any]] = (None, {})
        self._eligibility_by_day: dict[datetime.date, tuple[Any, dict[str, Any]]] = {}

    def eligibility(self, event: Event) -> tuple[Any, dict[str, Any]]:
        """The eligibility criteria and thresholds on the event's date (kept for the day:
        approvals come in date order, many on the same day)."""
        day = event.date
        if self._eligibility_day != day:
            # Enterprise by enterprise, the days jump about: a day where every parameter is
            # in force (nothing to report) is also kept by day.
            found = self._eligibility_by_day.get(day)
            if found is None:
                criteria = self.param("eligibility", "criteria", day, event.entry)
                values = {
                    name: self.param("eligibility", name, day, event.entry)
                    for name in ("sizes", "min_revenue", "min_score", "min_rating")
                    if self.has("eligibility", name)
                }
                found = (criteria, values)
                if self.in_force(day):
                    self._eligibility_by_day[day] = found
            self._eligibility_day, self._eligibility = day, found
        return self._eligibility

    def in_force(self, on: datetime.date) -> bool:
        """Whether every parameter of these rules has a version in force on ``on``."""
        return self.first is not None and self.first <= on and (self.end is None or on < self.end)

    def has(self, rule_id: str, name: str) -> bool:
        return (rule_id, name) in self.cursors

    def lowest(self, rule_id: str, *names: str) -> Any:
        """The lowest value any version of these parameters ever takes (None: none set).
        A figure at or under it cannot breach the rule on any date: no lookup needed."""
        values = [
            v for name in names if (rule_id, name) in self.cursors
            for v in self.cursors[(rule_id, name)].param.values if v is not None
        ]
        return min(values) if values else None

    def param(self, rule_id: str, name: str, on: datetime.date, entry: Any) -> Any:
        """The value in force on ``on``; a date without one is reported (ctx.param) and gives None."""
        try:
            return self.cursors[(rule_id, name)].at(on)
        except ParamDateError:
            return self.ctx.param(self.code, rule_id, name, on, entry)


RULE_IDS = (
    "loan.amount", "loan.amount_general", "loan.term", "loan.term_general", "loan.rate", "loan.collateral",
    "loan.purpose", "loan.renewal", "eligibility", "blacklist",
)


def rating_rank(rating: str) -> int | None:
    """0 for AAA, larger for worse; None for a rating not on the scale."""
    try:
        return RATINGS.index(rating.strip().upper())
    except ValueError:
        return None


#: The register events this module is handed as they are filed: the loan events that
#: start, grow, shrink or end a credit line or make a loan overdue, and blacklistings.
REGISTER_KINDS: frozenset[tuple[str, str]] | None = frozenset(
    [("loan", kind) for kind in (*NEW_CREDIT, "repayment", "settlement", "overdue")] + [("enterprise", "blacklist")]
)


class Borrower:
    """An enterprise's loans in one program as filed so far: the credit lines of those
    not closed (a chain from ``first``), the day's new credit waiting for the end of the
    day, and what was found (given out by :func:`finish`). ``other`` is the same
    enterprise in its next program (in the order of their first loans)."""

    __slots__ = ("rules", "first", "pending", "found", "other")

    def __init__(self, rules: ProgramRules, first: LineState) -> None:
        self.rules = rules
        self.first: LineState | None = first
        self.pending: list[tuple[LineState, Event]] | None = None
        self.found: list[Finding] | None = None
        self.other: Borrower | None = None

    def line(self, loan: Loan) -> LineState | None:
        """The loan's line (None: the loan is closed, its line left the chain)."""
        state = self.first
        while state is not None and state.loan is not loan:
            state = state.next
        return state

    def total(self) -> Decimal:
        """The sum of the credit lines (a closed loan's is nil): summed when a day is
        judged rather than kept, which would cost a Decimal for every borrower."""
        total = ZERO
        state = self.first
        while state is not None:
            total += state.line
            state = state.next
        return total

    def join(self, state: LineState) -> None:
        """Put a line at the end of the chain."""
        if self.first is None:
            self.first = state
            return
        last = self.first
        while last.next is not None:
            last = last.next
        last.next = state

    def leave(self, state: LineState) -> None:
        """Take a closed loan's line out of the chain (if it is still there)."""
        if self.first is state:
            self.first = state.next
        else:
            before = self.first
            while before is not None and before.next is not state:
                before = before.next
            if before is None:
                return
            before.next = state.next
        state.next = None


class Portfolio:
    """loan.portfolio_stop for one program: its loans' principal outstanding and overdue
    as filed so far (a loan paid to nil is dropped), and what was found."""

    __slots__ = ("code", "outstanding", "overdue", "total", "day", "breach", "found")

    def __init__(self, code: str) -> None:
        self.code = code
        self.outstanding: dict[str, Decimal] = {}
        self.overdue: dict[str, Decimal] = {}  # loan -> principal overdue (its latest overdue event)
        self.total = ZERO  # the sum of ``outstanding``, kept as it changes (not summed every day)
        self.day: datetime.date | None = None  # the day ``breach`` was judged for
        self.breach: tuple[Decimal, Decimal] | None = None  # (overdue, limit) when approvals breach
        self.found: list[Finding] | None = None


_MISSING = object()


class LoanStreams:
    """What this module keeps as the register is filed."""

    __slots__ = ("programs", "borrowers", "listed", "portfolio", "day", "due", "closing", "reported")

    def __init__(self, ctx: Context) -> None:
        #: program -> its rules of this module (None: it has none on, nothing to keep).
        self.programs: dict[str, ProgramRules | None] = {}
        #: enterprise -> it as a borrower in its first program (``other``: the next ones),
        #: in the order of the enterprises' first approvals.
        self.borrowers: dict[str, Borrower] = {}
        #: enterprise -> its first blacklisting (the earliest: filing is in date order).
        self.listed: dict[str, Event] = {}
        #: program -> its overdue rate, for the programs with ``loan.portfolio_stop``.
        self.portfolio: dict[str, Portfolio] = {
            code: Portfolio(code) for code in ctx.rulebook.programs if ctx.active(code, "loan.portfolio_stop")
        }
        #: The day being filed, the borrowers with new credit on it, and the lines closed on
        #: it (settled or repaid to nil: they leave their chains at the end of the day).
        self.day: datetime.date | None = None
        self.due: list[Borrower] = []
        self.closing: list[tuple[Borrower, LineState]] = []
        #: loan -> what was reported of its amount, for a closed loan's line (it goes
        #: with the line; kept here should the loan take new credit again).
        self.reported: dict[str, dict[str, Decimal]] = {}

    def rules(self, ctx: Context, code: str) -> ProgramRules | None:
        found = self.programs.get(code, _MISSING)
        if found is _MISSING:
            rules = ctx.rulebook.programs[code].rules
            found = self.programs[code] = (
                ProgramRules(ctx, code, RULE_IDS) if any(r in rules for r in RULE_IDS) else None
            )
        return found  # type: ignore[return-value]

    def borrow(self, enterprise: str, rules: ProgramRules, state: LineState) -> Borrower:
        """The borrower a newly approved loan joins (a new one for a first loan)."""
        borrower = self.borrowers.get(enterprise)
        if borrower is None:
            borrower = self.borrowers[enterprise] = Borrower(rules, state)
            return borrower
        while borrower.rules is not rules:
            if borrower.other is None:
                borrower.other = Borrower(rules, state)
                return borrower.other
            borrower = borrower.other
        borrower.join(state)
        return borrower


def on_register(ctx: Context, event: Event) -> None:
    """File a loan event under its borrower (and its program's portfolio), or a
    blacklisting; a new day first judges the day before."""
    streams = ctx.loan_streams
    if streams is None:
        streams = ctx.loan_streams = LoanStreams(ctx)
    kind = event.kind
    if not streams.portfolio and (kind == "overdue" or (kind == "repayment" and event.principal > 0)):
        return  # moves no credit line, and no program here keeps an overdue rate
    day = event.date
    if day != streams.day:
        if streams.due or streams.closing:
            _end_of_day(ctx, streams)
        streams.day = day
    if kind == "blacklist":
        streams.listed.setdefault(event.subject, event)
        return
    loan = ctx.register.loans[event.subject]
    code = loan.program
    if streams.portfolio:
        portfolio = streams.portfolio.get(code)
        if portfolio is not None:
            _portfolio_event(ctx, portfolio, event)
    rules = streams.rules(ctx, code)
    if rules is None:
        return
    if kind == "approval":
        state = LineState(loan)
        borrower = streams.borrow(loan.enterprise, rules, state)
    else:
        borrower = streams.borrowers[loan.enterprise]
        while borrower.rules is not rules:
            borrower = borrower.other  # type: ignore[assignment]  # filed with its approval
        found = borrower.first
        if found is None or found.loan is not loan:  # most borrowers have one line
            found = borrower.line(loan)
            if found is None:  # closed on an earlier day
                if kind not in NEW_CREDIT:
                    return  # its line stays nil
                found = _reopened(streams, borrower, loan)
        state = found
    # The credit line after the event (the principal: the register's, after it).
    if kind != "disbursement":  # (a disbursement leaves the line the contract's)
        before = state.line
        _update(state, event)
        if state.line is ZERO and before is not ZERO:  # settled or repaid to nil
            streams.closing.append((borrower, state))
    if kind in NEW_CREDIT:
        pending = borrower.pending
        if pending is None:
            borrower.pending = [(state, event)]
            streams.due.append(borrower)
        else:
            pending.append((state, event))


def _update(state: LineState, event: Event) -> None:
    """Take ``event`` into the loan's line and terms."""
    kind = event.kind
    if kind == "disbursement":
        return  # the line stays the contract's
    data = event.data
    if kind == "approval":
        state.line = data["amount"]
        state.rate = data.get("rate")
    elif kind == "contract":
        state.line = data["amount"]
        state.rate = data.get("rate", state.rate)
        state.collateral = data.get("collateral", state.collateral)
        state.maturity = data.get("maturity", state.maturity)
    elif kind == "increase":
        state.line += data["amount"]
        state.collateral = data.get("collateral", state.collateral)
    elif kind == "renewal":
        state.line = data["amount"]
        state.rate = data.get("rate", state.rate)
        state.collateral = data.get("collateral", state.collateral)
    elif kind == "settlement" or (kind == "repayment" and event.principal <= 0):
        state.line = ZERO


def _reopened(streams: LoanStreams, borrower: Borrower, loan: Loan) -> LineState:
    """New credit on a loan closed on an earlier day (rare): its line and terms again, from
    its own events before this one, back in its borrower's chain."""
    state = LineState(loan)
    for event in loan.events[:-1]:  # the last is the event being filed
        _update(state, event)
    state.reported = streams.reported.pop(loan.id, None)
    borrower.join(state)
    return state


def finish(ctx: Context) -> None:
    streams = ctx.loan_streams
    if streams is None:
        return
    if streams.due or streams.closing:
        _end_of_day(ctx, streams)
    # Borrower by borrower in the register's order, then the programs' overdue rates.
    findings = ctx.findings
    for borrower in streams.borrowers.values():
        found: Borrower | None = borrower
        while found is not None:
            if found.found:
                findings += found.found
            found = found.other
    for portfolio in streams.portfolio.values():
        if portfolio.found:
            findings += portfolio.found
    # The run's scratch, let go at once: its rules hold the context (a cycle only a full
    # collection would break, with every module's scratch in it).
    ctx.loan_streams = None


def _end_of_day(ctx: Context, streams: LoanStreams) -> None:
    """Judge the day's new credit of each borrower against its state at the end of the
    day (the register has moved past it: every event of the day is filed)."""
    day = streams.day
    assert day is not None
    findings = ctx.findings
    history = ctx.register.enterprise_history
    listed = streams.listed
    for borrower in streams.due:
        pending = borrower.pending
        assert pending is not None
        borrower.pending = None
        if len(pending) > 1:  # the loans in their approvals' order, each loan's events as filed
            pending.sort(key=_loan_seq)
        enterprise = pending[0][0].loan.enterprise
        before = len(findings)
        _judge(borrower.rules, day, pending, borrower.total(), history.get(enterprise), listed.get(enterprise))
        if len(findings) > before:
            if borrower.found is None:
                borrower.found = []
            borrower.found += findings[before:]
            del findings[before:]
    streams.due.clear()
    # A loan closed today (and not given new credit since) leaves its borrower's chain:
    # most loans end so, and the chains keep only the lines that count.
    for borrower, state in streams.closing:
        if state.line is ZERO:
            borrower.leave(state)
            if state.reported:
                streams.reported[state.loan.id] = state.reported
    streams.closing.clear()


def _loan_seq(pending: tuple[LineState, Event]) -> int:
    return pending[0].loan.seq


def _portfolio_event(ctx: Context, portfolio: Portfolio, event: Event) -> None:
    """loan.portfolio_stop: no approval once the program's overdue rate (at the end of the
    day before) has reached the limit. A day's approvals are filed before its other
    events, so the figures an approval meets are the day before's."""
    kind = event.kind
    key = event.subject
    if kind == "approval":
        day = event.date
        if portfolio.day != day:
            portfolio.day = day
            portfolio.breach = None
            outstanding = portfolio.outstanding
            late = sum((min(p, outstanding.get(k, ZERO)) for k, p in portfolio.overdue.items()), ZERO)
            before = len(ctx.findings)
            limit = ctx.param(portfolio.code, "loan.portfolio_stop", "max_overdue_rate", day, event.entry)
            if limit is not None and portfolio.total > 0 and late >= half_up(portfolio.total * limit):
                portfolio.total = sum(outstanding.values(), ZERO)  # the figure as the loans' sum itself
                portfolio.breach = (late, limit)
            _keep(ctx, portfolio, before)
        if portfolio.breach is not None:
            late, limit = portfolio.breach
            total = portfolio.total
            before = len(ctx.findings)
            ctx.report(
                "loan.portfolio_stop",
                portfolio.code,
                event.entry,
                f"{day} 前一日日终本项目贷款逾期率 {percent((late / total).quantize(Decimal('0.0001')))}"
                f"，已达到停止新增贷款的 {percent(limit)}，不得审核同意贷款 {key}",
                figures={"贷款余额": total, "停止线（逾期本金）": half_up(total * limit), "逾期本金": late},
                loan=key,
            )
            _keep(ctx, portfolio, before)
        return
    if kind in _BALANCE:
        outstanding = portfolio.outstanding
        before_ = outstanding.get(key, ZERO)
        after = event.principal  # the register's (balance_after)
        if after:
            outstanding[key] = after
        else:
            outstanding.pop(key, None)  # paid to nil: nothing to keep
        portfolio.total += after - before_
        if after <= 0:  # (a settlement clears the principal: this is where it ends an overdue)
            portfolio.overdue.pop(key, None)
    elif kind == "overdue":
        portfolio.overdue[key] = event.data["principal"]


def _keep(ctx: Context, portfolio: Portfolio, before: int) -> None:
    """Move what was reported since ``before`` to the portfolio's findings."""
    findings = ctx.findings
    if len(findings) > before:
        if portfolio.found is None:
            portfolio.found = []
        portfolio.found += findings[before:]
        del findings[before:]


def _facts(history: list[Event] | None, day: datetime.date) -> tuple[dict[str, Any], str | None]:
    """An enterprise's facts at the end of ``day`` (register + updates so far: the latest
    value of each counts) and the program it is registered in then (None: not yet)."""
    facts: dict[str, Any] = {}
    program = None
    for event in history or ():
        if event.date > day:
            break
        if event.kind == "register":
            program = event.data["program"]
        facts.update(event.data)
    return facts, program


def _judge(
    rules: ProgramRules,
    day: datetime.date,
    pending: list[tuple[LineState, Event]],
    total: Decimal,
    history: list[Event] | None,
    listed: Event | None,
) -> None:
    """The day's new-credit events, against the enterprise's state at the end of the day."""
    ctx = rules.ctx
    safe = rules.safe_total
    facts: dict[str, Any] | None = None  # read from the enterprise's history when needed
    registered: str | None = None
    blacklisted = listed is not None and rules.blacklist and day >= listed.date
    # Whether the day's total needs the amount rules (below every ceiling it cannot breach).
    amount = rules.any_amount and (safe is None or total > safe or not rules.in_force(day))
    term, term_general = rules.term, rules.term_general
    for state, event in pending:
        kind = event.kind
        loan = state.loan
        if blacklisted:
            _blacklist(ctx, loan, event, listed)  # type: ignore[arg-type]
        if kind == "approval":
            if rules.eligibility_on:
                if facts is None:
                    facts, registered = _facts(history, day)
                _eligibility(rules, loan, event, facts, registered)
            if rules.purpose:
                _purpose(rules, loan, event)
        if amount and kind != "disbursement":
            if facts is None:
                facts, registered = _facts(history, day)
            _amount(rules, state, event, facts, total)
        if (term or term_general) and kind != "contract" and kind != "increase":
            hard = term and _term(rules, state, event)
            if not hard and term_general:
                _term(rules, state, event, "loan.term_general")
        if rules.rate and (kind == "contract" or kind == "renewal"):
            _rate(rules, state, event)
        if rules.collateral and kind != "approval" and kind != "disbursement":
            _collateral(rules, state, event)
        if kind == "renewal" and rules.renewal and "letter" not in event.data:
            ctx.report(
                "loan.renewal",
                loan.program,
                event.entry,
                f"贷款 {loan.id} 续贷未注明经主管单位审查通过的函件（letter）",
                loan=loan.id,
            )


def _blacklist(ctx: Context, loan: Loan, event: Event, listed: Event) -> None:
    ctx.report(
        "blacklist",
        loan.program,
        event.entry,
        f"企业 {loan.enterprise} 已于 {listed.date} 列入黑名单（{listed.data['reason']}），"
        f"不得再办理贷款 {loan.id} 的{event.label}",
        loan=loan.id,
    )


# --------------------------------------------------------------------------------------
# Eligibility.


def _eligibility(
    rules: ProgramRules, loan: Loan, event: Event, facts: Mapping[str, Any], registered: str | None
) -> None:
    ctx = rules.ctx
    code = loan.program
    if registered is None:
        ctx.report(
            "eligibility",
            code,
            event.entry,
            f"贷款 {loan.id} 的企业 {loan.enterprise} 在审核同意日 {event.date} 前没有企业登记"
            "（enterprise register），无法核对准入条件",
            loan=loan.id,
        )
        return
    if registered != code:
        ctx.report(
            "eligibility",
            code,
            event.entry,
            f"企业 {loan.enterprise} 登记在项目 {registered}，不能在项目 {code} 取得贷款 {loan.id}",
            loan=loan.id,
        )
        return
    criteria, values = rules.eligibility(event)
    if criteria is None:
        return
    param = values.get

    problems: list[str] = []
    figures: dict[str, Decimal] = {}
    for criterion in criteria:
        problem = _criterion(criterion, facts, event.date, param, figures)
        if problem:
            problems.append(f"{CRITERION_LABELS[criterion]}：{problem}")
    if problems:
        ctx.report(
            "eligibility",
            code,
            event.entry,
            f"企业 {loan.enterprise} 在审核同意日 {event.date} 不符合准入条件（贷款 {loan.id}）："
            + "；".join(problems),
            figures=figures,
            loan=loan.id,
        )


def _criterion(
    criterion: str,
    facts: Mapping[str, Any],
    on: datetime.date,
    param: Any,
    figures: dict[str, Decimal],
) -> str | None:
    """Why the enterprise fails ``criterion`` on ``on`` (None: it meets it)."""
    if criterion == "zone":
        if facts.get("zone") is not True:
            return "工商注册、税务登记和统计关系未登记为均在本区（zone 应为 TRUE）"
        return None
    if criterion == "size":
        size = facts.get("size")
        sizes = param("sizes") or ()
        if size is None:
            return f"未登记企业规模 size（应为{'、'.join(sizes)}之一）"
        if size not in SIZES:
            return f"企业规模 {size!r} 无法识别（可用：{'、'.join(SIZES)}）"
        if size not in sizes:
            return f"{size}企业不在本办法支持范围（{'、'.join(sizes)}）"
        return None
    if criterion == "innovation":
        until = facts.get("hightech_until")
        if until is not None and until >= on:
            return None
        reasons: list[str] = []
        if facts.get("tech_db") is not True:
            reasons.append("未登记为已入库科技型企业（tech_db）")
        if facts.get("own_ip") is not True:
            reasons.append("未登记拥有自主知识产权（own_ip）")
        minimum = param("min_revenue")
        year = facts.get("revenue_year")
        revenue = facts.get("revenue")
        if revenue is None or year is None:
            reasons.append(f"未登记上一年度（{on.year - 1} 年）营业收入 revenue/revenue_year")
        elif year != on.year - 1:
            reasons.append(f"登记的营业收入为 {year} 年，不是上一年度（{on.year - 1} 年）")
        elif minimum is not None and revenue < minimum:
            reasons.append(f"上一年度营业收入 {yuan(revenue)} 元，低于 {yuan(minimum)} 元")
            figures.update({"上一年度营业收入": revenue, "门槛": minimum, "差额": minimum - revenue})
        if not reasons:
            return None
        hightech = (
            "未登记高新技术企业证书有效期 hightech_until" if until is None
            else f"高新技术企业证书已于 {until} 到期"
        )
        return f"{hightech}，且不满足优质科技型企业条件（{'，'.join(reasons)}）"
    if criterion == "roster":
        if not facts.get("roster"):
            return "未登记入备选企业名册（roster）"
        return None
    if criterion == "assessment":
        min_score, min_rating = param("min_score"), param("min_rating")
        score, rating = facts.get("score"), facts.get("rating")
        if score is not None and min_score is not None and score >= min_score:
            return None
        if rating is not None:
            rank = rating_rank(rating)
            if rank is None:
                return f"信用等级 {rating!r} 无法识别（可用：{'、'.join(RATINGS)}）"
            if min_rating is not None and rank <= rating_rank(min_rating):
                return None
        parts = []
        parts.append(f"评分卡分数 {score}" if score is not None else "未登记评分卡分数 score")
        parts.append(f"信用等级 {rating}" if rating is not None else "未登记信用等级 rating")
        return f"{'、'.join(parts)}，未达到评分 {min_score} 分以上或信用等级 {min_rating} 级以上"
    if criterion == "credit":
        if facts.get("credit_clean") is not True:
            return "未登记人民银行征信报告无不良信用记录（credit_clean 应为 TRUE）"
        return None
    raise AssertionError(criterion)


def _purpose(rules: ProgramRules, loan: Loan, event: Event) -> None:
    purposes = rules.param("loan.purpose", "purposes", event.date, event.entry)
    if purposes is None:
        return
    purpose = event.data.get("purpose")
    if purpose is not None and purpose in purposes:
        return
    allowed = "、".join(purposes)
    if purpose is None:
        message = f"贷款 {loan.id} 审核同意未登记用途 purpose（应为{allowed}）"
    else:
        message = f"贷款 {loan.id} 用途为“{purpose}”，本办法的贷款只能用于{allowed}"
    rules.ctx.report("loan.purpose", loan.program, event.entry, message, loan=loan.id)


# --------------------------------------------------------------------------------------
# Amount, term, rate, collateral.


def _amount(
    rules: ProgramRules, state: LineState, event: Event, facts: Mapping[str, Any], total: Decimal
) -> None:
    on = rules.on
    hard_breached = False
    if on["loan.amount"]:
        cap, basis = _cap(rules, event, facts)
        if rules.has("loan.amount", "per_loan") and rules.param("loan.amount", "per_loan", event.date, event.entry):
            # 单笔 (金东: a single credit line of at most 2,000,000): the loan's own line.
            if cap is not None and state.line > cap:
                hard_breached = True
                _report_single(rules.ctx, state, event, cap)
        elif cap is not None and total > cap:
            hard_breached = True
            _report_amount(rules.ctx, "loan.amount", state, event, total, cap, f"最高不超过 {yuan(cap)} 元{basis}")
    if not hard_breached and on["loan.amount_general"]:
        cap = rules.param("loan.amount_general", "max", event.date, event.entry)
        if cap is not None and total > cap:
            _report_amount(rules.ctx, "loan.amount_general", state, event, total, cap, f"一般在 {yuan(cap)} 元以内")


def _cap(rules: ProgramRules, event: Event, facts: Mapping[str, Any]) -> tuple[Decimal | None, str]:
    """The hard ceiling on ``event``'s date: ``max``, or by the enterprise's assessment
    (a credit rating on record: ``max_rating``; else a scorecard: ``max_scorecard``)."""
    values: dict[str, Decimal] = {}
    for name in ("max", "max_scorecard", "max_rating"):
        if rules.has("loan.amount", name):
            value = rules.param("loan.amount", name, event.date, event.entry)
            if value is None:
                return None, ""
            values[name] = value
    if "max" in values:
        return values["max"], ""
    if "max_rating" in values and facts.get("rating") is not None:
        return values["max_rating"], f"（按信用等级 {facts['rating']} 评价）"
    if "max_scorecard" in values and facts.get("score") is not None:
        return values["max_scorecard"], f"（按评分卡 {facts['score']} 分评价）"
    return min(values.values()), "（企业未登记评分或信用等级，按较低的上限）"


def _report_single(ctx: Context, state: LineState, event: Event, cap: Decimal) -> None:
    """loan.amount with ``per_loan``: one loan's credit line over the cap, once per figure."""
    loan = state.loan
    if state.reported is None:
        state.reported = {}
    if state.reported.get("loan.amount", ZERO) >= state.line:
        return
    state.reported["loan.amount"] = state.line
    ctx.report(
        "loan.amount",
        loan.program,
        event.entry,
        f"贷款 {loan.id} 的额度{event.label}后为 {yuan(state.line)} 元，超过单笔额度上限",
        figures={"额度上限": cap, "本笔额度": state.line, "超出": state.line - cap},
        loan=loan.id,
    )


def _report_amount(
    ctx: Context, rule_id: str, state: LineState, event: Event, total: Decimal, cap: Decimal, limit: str
) -> None:
    loan = state.loan
    if state.reported is None:
        state.reported = {}
    if state.reported.get(rule_id, ZERO) >= total:
        return  # already reported for this loan at this total or more
    state.reported[rule_id] = total
    others = total - state.line
    detail = f"（其中其他未结清贷款 {yuan(others)} 元）" if others else ""
    ctx.report(
        rule_id,
        loan.program,
        event.entry,
        f"企业 {loan.enterprise} 的贷款额度合计 {yuan(total)} 元{detail}，{event.label}后超过单户额度：{limit}"
        f"（贷款 {loan.id}）",
        figures={"额度上限": cap, "企业合计额度": total, "超出": total - cap},
        loan=loan.id,
    )


def _term(rules: ProgramRules, state: LineState, event: Event, rule_id: str = "loan.term") -> bool:
    """Check the term against ``rule_id``'s months; True where a finding was reported."""
    loan = state.loan
    code = loan.program
    ctx = rules.ctx
    generally = "一般" if rule_id == "loan.term_general" else ""
    if event.kind == "approval":
        term = event.data.get("term_months")
        if term is None:
            return False
        months = rules.param(rule_id, "months", event.date, event.entry)
        if months is not None and term > months:
            ctx.report(
                rule_id,
                code,
                event.entry,
                f"贷款 {loan.id} 审核同意的期限 {term} 个月，超过{generally and '一般期限'} {months} 个月",
                loan=loan.id,
                stated={"审核期限（月）": Decimal(term), "期限上限（月）": Decimal(months)},
            )
            return True
        return False
    months = None
    maturity = event.data.get("maturity")
    if maturity is None and event.kind == "disbursement":
        maturity = state.maturity
    if (
        maturity is not None and rule_id == "loan.term" and rules.year_is_safe and 0 <= (maturity - event.date).days <= 365
        and rules.in_force(event.date)
    ):
        return False  # within 365 days of any date: inside its first anniversary, whatever the version
    months = rules.param(rule_id, "months", event.date, event.entry)
    if months is None:
        return False
    if maturity is None:
        ctx.report(
            rule_id,
            code,
            event.entry,
            f"贷款 {loan.id} 的{event.label}未登记到期日 maturity（合同也未登记），无法核对期限不超过 {months} 个月",
            loan=loan.id,
            stated={"期限上限（月）": Decimal(months)},
        )
        return True
    if maturity < event.date:
        ctx.report(
            rule_id,
            code,
            event.entry,
            f"贷款 {loan.id} 的到期日 {maturity} 早于{event.label}日 {event.date}",
            loan=loan.id,
        )
        return True
    limit = add_months(event.date, months)
    if maturity > limit:
        ctx.report(
            rule_id,
            code,
            event.entry,
            f"贷款 {loan.id} {event.label}日 {event.date}，到期日 {maturity} 晚于 {months} 个月期满日 {limit}"
            f"（{generally and '一般期限，'}超出 {(maturity - limit).days} 天）",
            loan=loan.id,
            stated={"期限上限（月）": Decimal(months), "超出期满日天数": Decimal((maturity - limit).days)},
        )
        return True
    return False


def _rate(rules: ProgramRules, state: LineState, event: Event) -> None:
    loan = state.loan
    benchmark = rules.param("loan.rate", "benchmark", event.date, event.entry)
    multiple = rules.param("loan.rate", "multiple", event.date, event.entry)
    if benchmark is None or multiple is None:
        return
    limit = benchmark * multiple
    if state.rate is not None and state.rate <= limit:
        return
    if state.rate is None:
        message = (
            f"贷款 {loan.id} 的{event.label}未登记年利率 rate，无法核对是否不超过基准利率 {percent(benchmark)}"
            f" 的 {multiple.normalize():f} 倍（{percent(limit)}）"
        )
    else:
        message = (
            f"贷款 {loan.id} 年利率 {percent(state.rate)}，超过{event.label}日 {event.date} 适用的同期基准利率"
            f" {percent(benchmark)} 的 {multiple.normalize():f} 倍（{percent(limit)}）"
        )
    stated = {"基准利率": _per_cent(benchmark), "倍数": multiple, "利率上限": _per_cent(limit)}
    if state.rate is not None:
        stated = {"年利率": _per_cent(state.rate), **stated}
    rules.ctx.report("loan.rate", loan.program, event.entry, message, loan=loan.id, stated=stated)


def _per_cent(rate: Decimal) -> Decimal:
    """0.0415 -> 4.15, the number :func:`percent` prints (for a finding's figures)."""
    return Decimal(f"{(rate * 100).normalize():f}")


def _collateral(rules: ProgramRules, state: LineState, event: Event) -> None:
    loan = state.loan
    code = loan.program
    ctx = rules.ctx
    rate = rules.param("loan.collateral", "rate", event.date, event.entry)
    if rate is None:
        return
    if event.kind == "contract" and "joint_liability" not in event.data:
        ctx.report(
            "loan.collateral",
            code,
            event.entry,
            f"贷款 {loan.id} 的合同未登记承担连带清偿责任的法定代表人、实际控制人或主要股东（joint_liability）",
            loan=loan.id,
        )
    required = half_up(state.line * rate)
    if state.collateral is None:
        ctx.report(
            "loan.collateral",
            code,
            event.entry,
            f"贷款 {loan.id} 未登记抵押或保证金额 collateral（应不低于贷款额度 {yuan(state.line)} 元的 {percent(rate)}）",
            figures={"应不低于": required},
            loan=loan.id,
        )
        return
    if state.collateral < required:
        ctx.report(
            "loan.collateral",
            code,
            event.entry,
            f"贷款 {loan.id} {event.label}后贷款额度 {yuan(state.line)} 元，抵押或保证应不低于其 {percent(rate)}",
            figures={"应不低于": required, "登记金额": state.collateral, "差额": required - state.collateral},
            loan=loan.id,
        )
