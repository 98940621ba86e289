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

The module is handed each approval and blacklisting as the register files them (in date
order): they group the loans by borrower (an enterprise in a program). After the walk,
each borrower's events (its loans' own lists) are read once, day by day in date order
(each enterprise's facts and each loan's credit line kept as running state): the
register is not grouped or scanned again as a whole.

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
from operator import attrgetter
from decimal import Decimal
from typing import Any

from zhubaodai.core.engine import Context
from zhubaodai.core.money import ZERO
from zhubaodai.core.money import half_up
from zhubaodai.core.money import percent
from zhubaodai.core.money import yuan
from zhubaodai.core.register import BALANCE_EVENTS
from zhubaodai.core.register import Event
from zhubaodai.core.register import Loan
from zhubaodai.core.rules import ParamCursor
from zhubaodai.core.rules import ParamDateError
from zhubaodai.core.rules import RATINGS
from zhubaodai.core.rules import SIZES
from zhubaodai.core.workdays import add_months

#: Events that start or grow a credit line: checked against the blacklist and the limits.
NEW_CREDIT = frozenset(("approval", "contract", "disbursement", "increase", "renewal"))
_BALANCE = frozenset(BALANCE_EVENTS)
CRITERION_LABELS = {
    "zone": "注册地",
    "size": "企业规模",
    "innovation": "高新技术或优质科技型企业",
    "roster": "备选企业名册",
    "assessment": "评分或信用等级",
    "credit": "征信记录",
}


class EnterpriseFacts:
    """An enterprise's facts as of the day being read (register + updates so far)."""

    __slots__ = ("history", "position", "facts", "program")

    def __init__(self, history: list[Event]) -> None:
        self.history = history
        self.position = 0
        self.facts: dict[str, Any] = {}
        self.program: str | None = None

    def advance(self, day: datetime.date) -> dict[str, Any]:
        history = self.history
        while self.position < len(history) and history[self.position].date <= day:
            event = history[self.position]
            if event.kind == "register":
                self.program = event.data["program"]
            self.facts.update(event.data)
            self.position += 1
        return self.facts


class LineState:
    """A loan's credit line as the day-by-day reading has seen it (its principal is the
    register's, on each event)."""

    __slots__ = ("loan", "line", "rate", "collateral", "maturity", "reported")

    def __init__(self, loan: Loan) -> None:
        self.loan = loan
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


#: The register events this module is handed as they are filed: approvals (who borrows,
#: in which program) and blacklistings. A borrower's other events are its loans' own
#: lists in the register, read once when it is judged.
REGISTER_KINDS: frozenset[tuple[str, str]] | None = frozenset((("loan", "approval"), ("enterprise", "blacklist")))


class LoanStreams:
    """What this module keeps of the register as it is filed."""

    __slots__ = ("borrowers", "listed", "portfolio")

    def __init__(self, ctx: Context) -> None:
        #: enterprise -> its loans in every program, in the order of their approvals
        #: (grouped by program in :func:`finish`: one list an enterprise, not a dict too).
        self.borrowers: dict[str, list[Loan]] = {}
        #: enterprise -> its first blacklisting (the earliest: filing is in date order).
        self.listed: dict[str, Event] = {}
        #: program -> its loans, for the programs with ``loan.portfolio_stop``.
        self.portfolio: dict[str, list[Loan]] = {
            code: [] for code in ctx.rulebook.programs if ctx.active(code, "loan.portfolio_stop")
        }


def on_register(ctx: Context, event: Event) -> None:
    """File an approval under its borrower (and its program's portfolio), or a blacklisting."""
    streams = ctx.loan_streams
    if streams is None:
        streams = ctx.loan_streams = LoanStreams(ctx)
    if event.kind == "blacklist":
        streams.listed.setdefault(event.subject, event)
        return
    loan = ctx.register.loans[event.subject]
    found = streams.borrowers.get(loan.enterprise)
    if found is None:
        streams.borrowers[loan.enterprise] = [loan]
    else:
        found.append(loan)
    if streams.portfolio:
        program = streams.portfolio.get(loan.program)
        if program is not None:
            program.append(loan)


def finish(ctx: Context) -> None:
    streams = ctx.loan_streams
    if streams is None:
        return
    programs = {code: ProgramRules(ctx, code, RULE_IDS) for code in ctx.rulebook.programs}
    # Every check here is local to one enterprise in one program: its loans, its facts,
    # its blacklisting, the sum of its credit lines. So judge borrower by borrower, in the
    # register's order.
    history = ctx.register.enterprise_history  # each enterprise's facts, in date order
    listed = streams.listed
    for enterprise, borrowed in streams.borrowers.items():
        past = history.get(enterprise)
        for code, loans in _by_program(borrowed).items():
            cursor = EnterpriseFacts(past) if past else None
            if len(loans) == 1:
                events = loans[0].events
            else:  # stable: each loan's own events keep their order
                events = sorted([e for loan in loans for e in loan.events], key=_date)
            _enterprise(programs[code], {loan.id: LineState(loan) for loan in loans}, events, cursor, listed.get(enterprise))
    for code, loans in streams.portfolio.items():
        _portfolio_stop(ctx, code, loans)


def _by_program(loans: list[Loan]) -> dict[str, list[Loan]]:
    """An enterprise's loans by program, programs in the order of their first loan."""
    by_program: dict[str, list[Loan]] = {}
    for loan in loans:
        by_program.setdefault(loan.program, []).append(loan)
    return by_program


def _portfolio_stop(ctx: Context, code: str, loans: list[Loan]) -> None:
    """loan.portfolio_stop: no approval once the program's overdue rate (at the end of the
    day before) has reached the limit."""
    # Each event carries the loan's principal after it (computed once by the register).
    events = sorted((e for loan in loans for e in loan.events), key=_date)
    outstanding: dict[str, Decimal] = {}
    overdue: dict[str, Decimal] = {}  # loan -> principal overdue (its latest overdue event)
    total = ZERO  # the sum of ``outstanding``, kept as it changes (not summed every day)
    i = 0
    while i < len(events):
        day = events[i].date
        todays = []
        while i < len(events) and events[i].date == day:
            todays.append(events[i])
            i += 1
        approvals = [e for e in todays if e.kind == "approval"]
        if approvals:
            late = sum((min(p, outstanding.get(k, ZERO)) for k, p in overdue.items()), ZERO)
            limit = ctx.param(code, "loan.portfolio_stop", "max_overdue_rate", day, approvals[0].entry)
            if limit is not None and total > 0 and late >= half_up(total * limit):
                total = sum(outstanding.values(), ZERO)  # the figure as the loans' sum itself
                for event in approvals:
                    ctx.report(
                        "loan.portfolio_stop",
                        code,
                        event.entry,
                        f"{day} 前一日日终本项目贷款逾期率 {percent((late / total).quantize(Decimal('0.0001')))}"
                        f"，已达到停止新增贷款的 {percent(limit)}，不得审核同意贷款 {event.subject}",
                        figures={"贷款余额": total, "停止线（逾期本金）": half_up(total * limit), "逾期本金": late},
                        loan=event.subject,
                    )
        for event in todays:
            key = event.subject
            if event.kind in _BALANCE:
                before = outstanding.get(key, ZERO)
                after = outstanding[key] = event.principal  # the register's (balance_after)
                total += after - before
                if after <= 0:
                    overdue.pop(key, None)
            if event.kind == "overdue":
                overdue[key] = event.data["principal"]
            elif event.kind == "settlement":
                overdue.pop(key, None)


_date = attrgetter("date")


def _enterprise(
    rules: ProgramRules,
    states: dict[str, LineState],
    events: list[Event],
    cursor: EnterpriseFacts | None,
    listed: Event | None,
) -> None:
    """One enterprise's loan events in date order, judged at the end of each day."""
    total = ZERO  # the sum of the enterprise's credit lines
    day = None
    pending: list[tuple[LineState, Event]] = []
    single = states[events[0].subject] if len(states) == 1 else None
    for event in events:
        if event.date != day:
            if pending:
                _judge(rules, day, pending, total, cursor, listed)
                pending = []
            day = event.date
        state = single or states[event.subject]
        kind = event.kind
        # The credit line after the event (the principal: the register's, after it).
        if kind == "disbursement":
            pending.append((state, event))
            continue  # the line stays the contract's
        before = state.line
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
        if state.line is not before:
            total += state.line - before
        if kind in NEW_CREDIT:
            pending.append((state, event))
    if pending:
        _judge(rules, day, pending, total, cursor, listed)


_EMPTY: dict[str, Any] = {}


def _judge(
    rules: ProgramRules,
    day: datetime.date,
    pending: list[tuple[LineState, Event]],
    total: Decimal,
    cursor: EnterpriseFacts | None,
    listed: Event | None,
) -> None:
    """The day's new-credit events, against the enterprise's state at the end of the day."""
    ctx = rules.ctx
    safe = rules.safe_total
    facts = cursor.advance(day) if cursor is not None else _EMPTY
    blacklisted = listed is not None and rules.blacklist and day >= listed.date
    # Whether the day's total needs the amount rules (below every ceiling it cannot breach).
    amount = rules.any_amount and (safe is None or total > safe or not rules.in_force(day))
    term, term_general = rules.term, rules.term_general
    for state, event in pending:
        kind = event.kind
        loan = state.loan
        if blacklisted:
            _blacklist(ctx, loan, event, listed)
        if kind == "approval":
            if rules.eligibility_on:
                _eligibility(rules, loan, event, facts, cursor)
            if rules.purpose:
                _purpose(rules, loan, event)
        if amount and kind != "disbursement":
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
    rules: ProgramRules, loan: Loan, event: Event, facts: Mapping[str, Any], cursor: EnterpriseFacts | None
) -> None:
    ctx = rules.ctx
    code = loan.program
    if cursor is None or cursor.program is None:
        ctx.report(
            "eligibility",
            code,
            event.entry,
            f"贷款 {loan.id} 的企业 {loan.enterprise} 在审核同意日 {event.date} 前没有企业登记"
            "（enterprise register），无法核对准入条件",
            loan=loan.id,
        )
        return
    if cursor.program != code:
        ctx.report(
            "eligibility",
            code,
            event.entry,
            f"企业 {loan.enterprise} 登记在项目 {cursor.program}，不能在项目 {code} 取得贷款 {loan.id}",
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
