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
on its date (rules.yaml), rounded half-up to the fen. Payments are matched to dues in
date order. A due never covered in full is a breach of the rule of its event (fee.rate,
fee.increase, fee.renewal) with due, paid and difference; a due covered only after its
event's date breaches fee.timing. Paying more than is due is not a breach, except where
the program charges nothing on renewal and the excess was paid on the way to a renewal.
"""

from __future__ import annotations

import bisect
import datetime
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from operator import attrgetter

from beancount.core.data import Transaction

from zhubaodai.core.engine import Context
from zhubaodai.core.engine import GUARANTEE
from zhubaodai.core.engine import Movement
from zhubaodai.core.findings import FORMAT_RULE
from zhubaodai.core.money import ZERO
from zhubaodai.core.money import half_up
from zhubaodai.core.money import percent
from zhubaodai.core.money import yuan
from zhubaodai.core.register import Event
from zhubaodai.core.register import Loan

#: The guarantee fund's account role (what ``Movement.delta(GUARANTEE)`` reads).
GUARANTEE_ROLE = f"{GUARANTEE}_fund"
#: Register event -> the rule that sets its fee.
EVENT_RULES = {"contract": "fee.rate", "increase": "fee.increase", "renewal": "fee.renewal"}


@dataclass(frozen=True)
class FeeDue:
    """One fee due: the event that makes it due, its base, rate and amount."""

    rule: str
    event: Event
    base: Decimal
    rate: Decimal
    due: Decimal

    @property
    def date(self) -> datetime.date:
        return self.event.date


@dataclass(frozen=True)
class FeePayment:
    date: datetime.date
    amount: Decimal
    entry: Transaction


@dataclass
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


def _account(ctx: Context, loan: Loan) -> FeeAccount:
    accounts = ctx.records.fees
    account = accounts.get(loan.id)
    if account is None:
        account = accounts[loan.id] = FeeAccount(loan)
    return account


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
    accounts = ctx.records.fees
    account = accounts.get(loan.id) if accounts is not None else None
    if account is None:
        account = _account(ctx, loan)
    entry = m.entry
    account.payments.append(FeePayment(entry.date, amount, entry))


def finish(ctx: Context) -> None:
    accounts = ctx.records.fees
    # Per program, the events that make a fee due under a rule it lists (most don't).
    due_rules = {
        code: {kind: rule_id for kind, rule_id in EVENT_RULES.items() if ctx.active(code, rule_id)}
        for code in ctx.rulebook.programs
    }
    for loan in ctx.register.loans.values():
        account = accounts.get(loan.id)
        if account is None:
            account = accounts[loan.id] = FeeAccount(loan)
        rules = due_rules[loan.program]
        if rules:
            dues = account.dues
            for event in loan.events:
                rule_id = rules.get(event.kind)
                if rule_id is None:
                    continue
                rate = ctx.param(loan.program, rule_id, "rate", event.date, event.entry)
                if rate is None:
                    continue
                base = event.data["amount"]
                dues.append(FeeDue(rule_id, event, base, rate, fee_due(base, rate)))
        _check(ctx, account)


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
                what = {"fee.rate": "签订合同贷款金额", "fee.increase": "增加的贷款金额", "fee.renewal": "续贷金额"}[due.rule]
                earlier = cumulative - due.due
                if earlier:
                    # This event's own fee, then what was due before it: the total follows
                    # among the figures, so no number is printed twice.
                    message = (
                        f"贷款 {loan.id} 助保金未缴足：{what} {yuan(due.base)} 元 × {percent(due.rate)}"
                        f" = {yuan(due.due)} 元，此前应缴 {yuan(earlier)} 元"
                    )
                    figures = {"累计应缴": cumulative, "实缴": total_paid, "差额": cumulative - total_paid}
                else:
                    message = f"贷款 {loan.id} 助保金未缴足：{what} {yuan(due.base)} 元 × {percent(due.rate)}"
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
    _renewal_overcharge(ctx, account, payments, total_paid, cumulative)


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
