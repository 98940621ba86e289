"""The guarantee fee (助保金): rate, timing, increases, renewals.

Rules: ``fee.rate``, ``fee.timing``, ``fee.increase``, ``fee.renewal`` (``fee.no_refund``
is checked in :mod:`zhubaodai.checks.pool`, with every other outflow).

The ledger these rules expect::

    2024-03-01 custom "loan" "approval" "CQ-2024-001"
      program: "CQGX"
      enterprise: "E-CQ-001"
      amount: 3000000.00 CNY
      letter: "高新创服函〔2024〕12号"

    2024-03-05 * "重庆某科技有限公司" "缴纳助保金" ^CQ-2024-001
      Assets:CQGX:Pool:Guarantee     75000.00 CNY
      Income:CQGX:Guarantee:Fees    -75000.00 CNY

    2024-03-10 custom "loan" "contract" "CQ-2024-001"
      amount: 3000000.00 CNY

Each contract, increase and renewal makes a fee due: its amount times the rate in force
on its date (rules.yaml), rounded half-up to the fen.

A program's fee may be a schedule rather than one rate (issue 10; :func:`schedule_rate`):
a rate for a credit loan (``credit_rate``, the register's ``loan_type: "信用"``), a rate
for a loan whose collateral reaches a band (``secured_rate`` where ``collateral`` is at
least ``secured_from`` of the amount), plus ``extra_year`` per loan-year of the term
beyond the first; the base may be the credit line (``base: credit_line``, the register's
``credit_line``) instead of the contract amount; ``per_year`` charges the rate once per
loan-year of the term; ``max_rate`` makes ``rate`` the lower bound of a permitted range,
and paying more than the upper bound is then a breach. A program without fee rules
charges nothing and none of this runs. Payments are matched to dues in
date order. A due never covered in full is a breach of the rule of its event (fee.rate,
fee.increase, fee.renewal) with due, paid and difference; a due covered only after its
event's date breaches fee.timing. Paying more than is due is not a breach, except where
the program charges nothing on renewal and the excess was paid on the way to a renewal.
"""

from __future__ import annotations

import bisect
import datetime
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from operator import attrgetter

from beancount.core.data import Transaction

from zhubaodai.core.engine import Context
from zhubaodai.core.engine import GUARANTEE
from zhubaodai.core.engine import Movement
from zhubaodai.core.findings import FORMAT_RULE
from zhubaodai.core.findings import Finding
from zhubaodai.core.money import ZERO
from zhubaodai.core.money import half_up
from zhubaodai.core.money import percent
from zhubaodai.core.money import yuan
from zhubaodai.core.register import Event
from zhubaodai.core.register import Loan
from zhubaodai.core.workdays import add_months

#: The guarantee fund's account role (what ``Movement.delta(GUARANTEE)`` reads).
GUARANTEE_ROLE = f"{GUARANTEE}_fund"
#: Register event -> the rule that sets its fee.
EVENT_RULES = {"contract": "fee.rate", "increase": "fee.increase", "renewal": "fee.renewal"}


@dataclass(frozen=True, slots=True)
class FeeDue:
    """One fee due: the event that makes it due, its base, rate and amount."""

    rule: str
    event: Event
    base: Decimal
    rate: Decimal
    due: Decimal
    #: How a schedule chose the rate ("有效抵质押不低于 40%，期限 2 年"), empty for one rate.
    basis: str = ""
    #: The most the permitted range allows (max_rate), None where there is no upper bound.
    most: Decimal | None = None
    #: The base's label in messages.
    base_label: str = ""
    #: Loan-years charged (per_year), else 1.
    years: int = 1

    @property
    def date(self) -> datetime.date:
        return self.event.date


@dataclass(frozen=True, slots=True)
class FeePayment:
    date: datetime.date
    amount: Decimal
    entry: Transaction


@dataclass(slots=True)
class FeeAccount:
    """A loan's fee dues and payments, for the rules and for every page that shows them."""

    loan: Loan
    dues: list[FeeDue] = field(default_factory=list)
    payments: list[FeePayment] = field(default_factory=list)

    @property
    def due(self) -> Decimal:
        return sum((d.due for d in self.dues), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum((p.amount for p in self.payments), ZERO)


def fee_due(base: Decimal, rate: Decimal) -> Decimal:
    """The fee on ``base`` at ``rate``, half-up to the fen."""
    return half_up(base * rate)


class ScheduleError(ValueError):
    """The register lacks what a fee schedule needs (the message says what, in Chinese)."""


@dataclass(frozen=True)
class Schedule:
    """What a fee schedule gives for one event: base, rate, its multiplier and why."""

    base: Decimal
    base_label: str
    rate: Decimal
    years: int
    basis: str
    most: Decimal | None


_BASE_LABELS = {"contract": "签订合同贷款金额", "increase": "增加的贷款金额", "renewal": "续贷金额"}


def _latest(loan: Loan, event: Event, key: str) -> object | None:
    """The value of ``key`` on ``event``, else on the loan's latest earlier event with it."""
    events = loan.events
    if events and events[-1] is event:  # as the register files it: the latest event
        for e in reversed(events):
            if key in e.data:
                return e.data[key]
        return None
    found = None
    for e in loan.events:
        if e.date > event.date:
            break
        if key in e.data:
            found = e.data[key]
        if e is event:
            break
    return found


def term_years(loan: Loan, event: Event) -> int:
    """The loan-years of the term: ``term_months`` (on the event, else the latest earlier
    contract or approval), else the event's (or contract's) maturity counted from the
    event's date; a started year counts whole (13 months are 2 years)."""
    months = _latest(loan, event, "term_months")
    if months is not None:
        whole = int(months)
        return max(1, -(-whole // 12))
    maturity = _latest(loan, event, "maturity")
    if maturity is None:
        raise ScheduleError("未登记期限 term_months 或到期日 maturity，无法按期限确定费率")
    years = 1
    while maturity > add_months(event.date, 12 * years):
        years += 1
    return years


def schedule_rate(ctx: Context, loan: Loan, rule_id: str, event: Event) -> Schedule | None:
    """The base and rate of ``event``'s fee under ``rule_id`` (None where a parameter has no
    version in force: reported by :meth:`Context.param`); raises :class:`ScheduleError`."""
    code = loan.program
    params = ctx.rulebook.programs[code].rules[rule_id].params
    if len(params) == 1 and "rate" in params:
        # One rate and nothing else (most programs): what schedule_of gives, without it.
        rate = ctx.param(code, rule_id, "rate", event.date, event.entry)
        if rate is None:
            return None
        return Schedule(event.data["amount"], _BASE_LABELS.get(event.kind, "贷款金额"), rate, 1, "", None)

    def param(name: str) -> object | None:
        return ctx.param(code, rule_id, name, event.date, event.entry) if name in params else None

    return schedule_of(
        param, event.kind, event.data["amount"], lambda key: _latest(loan, event, key), lambda: term_years(loan, event)
    )


def schedule_of(
    param: Callable[[str], object | None],
    kind: str,
    amount: Decimal,
    latest: Callable[[str], object | None],
    years_of: Callable[[], int],
) -> Schedule | None:
    """The fee schedule's base and rate for one event of ``kind`` over ``amount``, from the
    rule's parameters in force (``param(name)``, None where absent), the loan's latest
    register facts (``latest(key)``: credit_line, loan_type, collateral) and its loan-years
    (``years_of()``, asked only where the schedule depends on the term). The walk calls it
    through :func:`schedule_rate`; the synthetic generator calls it to write fees due."""
    rate = param("rate")
    if rate is None:
        return None
    base, base_label = amount, _BASE_LABELS.get(kind, "贷款金额")
    if param("base") == "credit_line" and kind != "increase":
        line = latest("credit_line")
        if line is None:
            raise ScheduleError("计费基数为授信额度，但未登记授信额度 credit_line")
        base, base_label = line, "授信额度"
    notes: list[str] = []
    credit_rate = param("credit_rate")
    loan_type = latest("loan_type")  # one of LOAN_TYPES (the register checks)
    if credit_rate is not None and loan_type == "信用":
        rate = credit_rate
        notes.append("信用类贷款")
    secured_from = param("secured_from")
    if secured_from is not None and loan_type != "信用":
        collateral = latest("collateral")
        band = half_up(amount * secured_from)
        if collateral is not None and collateral >= band:
            rate = param("secured_rate")
            notes.append(f"抵质押或其他担保 {yuan(collateral)} 元，不低于贷款额的 {percent(secured_from)}")
        else:
            shown = "未登记抵质押" if collateral is None else f"抵质押或其他担保 {yuan(collateral)} 元，低于贷款额的 {percent(secured_from)}"
            notes.append(shown)
    years = 1
    extra = param("extra_year")
    per_year = param("per_year")
    if extra or per_year:
        years = years_of()
    if extra and years > 1:
        rate = rate + extra * (years - 1)
        notes.append(f"期限 {years} 年，每多一年加 {percent(extra)}")
    elif extra:
        notes.append("期限 1 年")
    most = param("max_rate")
    charged = years if per_year else 1
    if per_year:
        notes.append(f"按 {years} 个贷款年度计收")
    high = None if most is None else fee_due(base, most) * charged
    return Schedule(base, base_label, rate, charged, "；".join(notes), high)


def _account(ctx: Context, loan: Loan) -> FeeAccount:
    """The loan's fee account (made on its first due or payment)."""
    accounts = _watch(ctx).accounts
    account = accounts.get(loan.id)
    if account is None:
        account = accounts[loan.id] = FeeAccount(loan)
    return account


@dataclass
class FeeWatch:
    """What the run keeps of the fees as the register files its events and the walk meets
    payments (:attr:`Context.fee_watch`).

    The dues are worked out as each contract, increase or renewal is filed (its fee depends
    only on the loan's earlier events and the day's parameters); :func:`finish` only
    compares dues with payments, loan by loan in the register's order, and says what the
    filing had to report (a schedule the register cannot feed, a parameter not in force)
    at that loan's place, so the findings come in the same order as ever."""

    #: Loan id -> its account, as made by a due or a payment.
    accounts: dict[str, FeeAccount] = field(default_factory=dict)
    #: Loan id -> the findings its dues gave when filed, said again in :func:`finish`.
    held: dict[str, list[Finding]] = field(default_factory=dict)
    #: Program -> event kind -> the rule that sets its fee (only the rules it lists).
    due_rules: dict[str, dict[str, str]] = field(default_factory=dict)
    #: (base, rate) -> the fee due on it: one Decimal for the many equal dues.
    dues: dict[tuple[Decimal, Decimal], Decimal] = field(default_factory=dict)


def _watch(ctx: Context) -> FeeWatch:
    watch = ctx.fee_watch
    if watch is None:
        watch = ctx.fee_watch = FeeWatch(
            due_rules={
                code: {kind: rule_id for kind, rule_id in EVENT_RULES.items() if ctx.active(code, rule_id)}
                for code in ctx.rulebook.programs
            }
        )
    return watch


#: The register events :func:`on_register` is given: those that make a fee due.
REGISTER_KINDS: frozenset[tuple[str, str]] | None = frozenset(("loan", kind) for kind in EVENT_RULES)


def on_register(ctx: Context, event: Event) -> None:
    """A contract, increase or renewal as the register files it: its fee due, under the rule
    its program lists for the event (none: nothing is due)."""
    watch = ctx.fee_watch or _watch(ctx)
    loan = ctx.register.loans[event.subject]
    rule_id = watch.due_rules[loan.program].get(event.kind)
    if rule_id is None:
        return
    account = watch.accounts.get(loan.id) or _account(ctx, loan)
    findings = ctx.findings
    before = len(findings)
    _add_due(ctx, watch, account, rule_id, event)
    if len(findings) > before:  # said at the loan's place in finish()
        watch.held.setdefault(loan.id, []).extend(findings[before:])
        del findings[before:]


def _add_due(ctx: Context, watch: FeeWatch, account: FeeAccount, rule_id: str, event: Event) -> None:
    loan = account.loan
    code = loan.program
    params = ctx.rulebook.programs[code].rules[rule_id].params
    if len(params) == 1 and "rate" in params:  # one rate, no schedule: schedule_rate's short path
        rate = ctx.param(code, rule_id, "rate", event.date, event.entry)
        if rate is not None:
            amount = event.data["amount"]
            # Equal bases at equal rates share one due figure (fee_due quantizes: equal
            # values give the same digits): loans are lent in round sums.
            key = (amount, rate)
            dues = watch.dues
            due = dues.get(key)
            if due is None:
                due = dues[key] = fee_due(amount, rate)
            account.dues.append(
                FeeDue(rule_id, event, amount, rate, due, "", None, _BASE_LABELS.get(event.kind, "贷款金额"))
            )
        return
    try:
        found = schedule_rate(ctx, loan, rule_id, event)
    except ScheduleError as exc:
        amount = event.data["amount"]
        ctx.report(
            rule_id, loan.program, event.entry,
            f"贷款 {loan.id} {event.label}（贷款金额 {yuan(amount)} 元）：{exc}",
            loan=loan.id, stated={"贷款金额": amount},
        )
        return
    if found is None:
        return
    due = fee_due(found.base, found.rate) * found.years
    account.dues.append(
        FeeDue(
            rule_id, event, found.base, found.rate, due, found.basis, found.most,
            found.base_label, found.years,
        )
    )


#: The transaction kinds :func:`on_movement` is given: payments (and refunds) of fees.
MOVEMENT_KINDS: frozenset[str] | None = frozenset({"fee"})


def on_movement(ctx: Context, m: Movement) -> None:
    if m.kind != "fee":
        return
    roles = m.roles
    amount = -roles.get("fee_income", ZERO)  # m.role("fee_income")
    if amount <= 0:
        return  # a refund: fee.no_refund, in zhubaodai.checks.pool
    code = m.state.program.code
    if len(m.loans) != 1:
        ctx.report(
            FORMAT_RULE,
            None,
            m.entry,
            f"助保金缴款应以链接 ^贷款编号 关联本项目（{code}）的唯一一笔贷款"
            f"，此笔关联了 {len(m.loans)} 笔",
        )
        return
    loan = ctx.register.loans[m.loans[0]]
    guarantee = roles.get(GUARANTEE_ROLE, ZERO)  # m.delta(GUARANTEE)
    if guarantee != amount and ctx.active(code, "fee.rate"):
        ctx.report(
            "fee.rate",
            code,
            m.entry,
            "企业缴纳的助保金应全额计入助保金",
            figures={"缴款": amount, "计入助保金": guarantee},
            loan=loan.id,
        )
    # The records list a loan from its first payment on (the faces and the pledged
    # deposits read what was paid so far); loans never paid follow in finish().
    accounts = ctx.records.fees
    account = accounts.get(loan.id)
    if account is None:
        watch = ctx.fee_watch or _watch(ctx)
        account = watch.accounts.get(loan.id) or _account(ctx, loan)
        accounts[loan.id] = account
    entry = m.entry
    # Where the guarantee fund took it all (as it should), its figure is the payment's:
    # the same value to the fen, one Decimal fewer kept per payment.
    account.payments.append(FeePayment(entry.date, guarantee if guarantee == amount else amount, entry))


def finish(ctx: Context) -> None:
    """Each loan's dues (worked out as the register filed them) against its payments, in
    the register's order; every loan gets its record, paid or not."""
    accounts = ctx.records.fees
    watch = ctx.fee_watch or _watch(ctx)
    made = watch.accounts
    held = watch.held
    findings = ctx.findings
    for loan in ctx.register.loans.values():
        account = accounts.get(loan.id)
        if account is None:
            account = made.get(loan.id)
            if account is None:
                account = FeeAccount(loan)
            accounts[loan.id] = account
        if held:
            said = held.get(loan.id)
            if said:
                findings.extend(said)
        if account.dues or account.payments:
            _check(ctx, account)
    ctx.fee_watch = None  # the accounts live on in the records; the rest is the run's scratch


def _check(ctx: Context, account: FeeAccount) -> None:
    loan = account.loan
    code = loan.program
    payments = account.payments
    if len(payments) > 1:
        payments = sorted(payments, key=_payment_date)
    dates = [p.date for p in payments]
    paid_through: list[Decimal] = []
    running = ZERO
    for p in payments:
        running += p.amount
        paid_through.append(running)
    total_paid = running

    def paid_by(day: datetime.date) -> Decimal:
        i = bisect.bisect_right(dates, day)
        return paid_through[i - 1] if i else ZERO

    cumulative = ZERO
    short_reported = False
    for due in account.dues:
        cumulative += due.due
        if due.due == 0:
            continue
        label = due.event.label
        if total_paid < cumulative:
            if not short_reported:
                what = due.base_label or {"fee.rate": "签订合同贷款金额", "fee.increase": "增加的贷款金额", "fee.renewal": "续贷金额"}[due.rule]
                earlier = cumulative - due.due
                basis = f"（{due.basis}）" if due.basis else ""
                times = f" × {due.years} 年" if due.years > 1 else ""
                if earlier:
                    # This event's own fee, then what was due before it: the total follows
                    # among the figures, so no number is printed twice.
                    message = (
                        f"贷款 {loan.id} 助保金未缴足：{what} {yuan(due.base)} 元 × {percent(due.rate)}{times}{basis}"
                        f" = {yuan(due.due)} 元，此前应缴 {yuan(earlier)} 元"
                    )
                    figures = {"累计应缴": cumulative, "实缴": total_paid, "差额": cumulative - total_paid}
                else:
                    message = f"贷款 {loan.id} 助保金未缴足：{what} {yuan(due.base)} 元 × {percent(due.rate)}{times}{basis}"
                    figures = {"应缴": cumulative, "实缴": total_paid, "差额": cumulative - total_paid}
                ctx.report(due.rule, code, due.event.entry, message, figures=figures, loan=loan.id)
                short_reported = True
            continue
        if ctx.active(code, "fee.timing"):
            by_then = paid_by(due.date)
            if by_then < cumulative:
                ctx.report(
                    "fee.timing",
                    code,
                    due.event.entry,
                    f"贷款 {loan.id} 应在{label}（{due.date}）当日或之前缴足助保金",
                    figures={"应缴": cumulative, "截至当日实缴": by_then, "差额": cumulative - by_then},
                    loan=loan.id,
                )
    _above_range(ctx, account, total_paid)
    _renewal_overcharge(ctx, account, payments, total_paid, cumulative)


def _above_range(ctx: Context, account: FeeAccount, total_paid: Decimal) -> None:
    """Where the schedule is a permitted range (max_rate), paying above its upper bound
    is charging more than the policy allows: reported once, at the last due."""
    dues = [d for d in account.dues if d.most is not None]
    if not dues or len(dues) != len(account.dues):
        return
    most = sum((d.most for d in dues), ZERO)
    if total_paid <= most:
        return
    last = dues[-1]
    loan = account.loan
    ctx.report(
        last.rule,
        loan.program,
        last.event.entry,
        f"贷款 {loan.id} 收取的助保金超过允许区间的上限",
        figures={"上限": most, "实缴": total_paid, "超出": total_paid - most},
        loan=loan.id,
    )


_payment_date = attrgetter("date")


def _renewal_overcharge(
    ctx: Context, account: FeeAccount, payments: list[FeePayment], total_paid: Decimal, total_due: Decimal
) -> None:
    """Where renewal costs nothing, an excess paid on the way to a renewal is a charge
    the enterprise did not owe. ``total_due`` is ``account.due`` (summed by the caller)."""
    loan = account.loan
    excess = total_paid - total_due
    if excess <= 0 or not ctx.active(loan.program, "fee.renewal"):
        return
    previous: datetime.date | None = None
    for due in account.dues:
        if due.rule != "fee.renewal":
            previous = due.date
            continue
        if due.rate != 0 or previous is None:
            continue
        window = sum((p.amount for p in payments if previous < p.date <= due.date), ZERO)
        if window > 0:
            ctx.report(
                "fee.renewal",
                loan.program,
                due.event.entry,
                f"贷款 {loan.id} 续贷无需再缴纳助保金，但合同签订后至续贷前又收取了助保金",
                figures={"续贷应缴": ZERO, "多收": min(window, excess)},
                loan=loan.id,
            )
            return
