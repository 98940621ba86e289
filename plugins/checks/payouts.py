"""Payout limits that are not balances: how much the pool (and the guarantor beside it)
may pay out over the cooperation period.

Rules: ``comp.rate_cap`` (补偿代偿率上限: each payer's payouts at most a rate of the loans
lent in the program's book) and ``comp.fee_cap`` (the pool's and the guarantor's payouts
together at most a multiple of the guarantee fees the guarantor collected on the book).

What counts, from the run (nothing here reads the books its own way):

* the pool's payouts: the compensations (transactions on the compensation accounts) the
  walk hands this module, their outflow from the pool's funds;
* the guarantor's payouts: the ``guarantor_share`` metadata on those compensations (the
  guarantor's part of the comp.shares table, :mod:`zhubaodai.checks.waterfall`);
* the loans lent in the book: the register's disbursements and increases of the
  program's loans on or before the compensation's date (renewals roll a loan over and
  add nothing);
* the guarantee fees: the register's ``custom "loan" "guarantee_fee"`` events of the
  program's loans on or before that date (the guarantor's income, not pool money)::

    2026-03-20 custom "loan" "guarantee_fee" "SZ-2026-001"
      amount: 20000.00 CNY
      guarantor: "深圳市坪山区融资担保有限公司"

Each limit is checked at every compensation that adds to the payouts it bounds: the
entry that makes the running total exceed the limit (and any later one while it does)
is reported. Limits are rounded half-up to the fen. A binding limit says what should have
been paid instead: the finding gives the limit and what was paid before the entry, then
what the entry could still pay within the limit (尚可支付, the due figure: the limit less
what was paid before, never below zero), what it paid and the excess (the difference).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from zhubaodai.checks.waterfall import recorded_share
from zhubaodai.core.engine import GUARANTEE
from zhubaodai.core.engine import RISK
from zhubaodai.core.engine import Context
from zhubaodai.core.engine import DailyBalance
from zhubaodai.core.engine import Movement
from zhubaodai.core.money import ZERO
from zhubaodai.core.money import half_up
from zhubaodai.core.money import percent
from zhubaodai.core.money import yuan
from zhubaodai.core.register import Register

#: The transaction kinds :func:`on_movement` is given.
MOVEMENT_KINDS: frozenset[str] | None = frozenset({"compensation"})
_RULES = ("comp.rate_cap", "comp.fee_cap")


@dataclass
class PayoutTotals:
    """A program's payouts so far in the walk: the pool's and the guarantor's, and the same
    by day (what had been paid by the end of a date: the stress test's starting point)."""

    pool: Decimal = ZERO
    guarantor: Decimal = ZERO
    pool_by_day: DailyBalance = field(default_factory=DailyBalance)
    guarantor_by_day: DailyBalance = field(default_factory=DailyBalance)


#: What each running total adds up: the register's event kinds.
LENT = ("disbursement", "increase")
FEES = ("guarantee_fee",)


class RunningTotal:
    """The amounts of some register events of one program, summed through a date. The walk
    asks in date order, so each event is added once: linear in the register, not one scan
    of every loan per compensation."""

    __slots__ = ("_amounts", "_i", "_sum")

    def __init__(self, amounts: list[tuple[datetime.date, Decimal]]) -> None:
        self._amounts = sorted(amounts, key=lambda pair: pair[0])
        self._i = 0
        self._sum = ZERO

    def through(self, on: datetime.date) -> Decimal:
        amounts = self._amounts
        while self._i < len(amounts) and amounts[self._i][0] <= on:
            self._sum += amounts[self._i][1]
            self._i += 1
        return self._sum


def running(register: Register, code: str, kinds: tuple[str, ...]) -> RunningTotal:
    """The amounts of the program's register events of ``kinds`` (:data:`LENT`, :data:`FEES`)."""
    return RunningTotal([
        (event.date, event.data["amount"])
        for loan in register.loans.values()
        if loan.program == code
        for event in loan.events
        if event.kind in kinds
    ])


def cap(base: Decimal, factor: Decimal) -> Decimal:
    """A payout limit: the base (loans lent, fees collected) times the rate or multiple,
    half-up to the fen. The one formula, for the walk and the stress test."""
    return half_up(base * factor)


def _running(ctx: Context, code: str, kinds: tuple[str, ...]) -> RunningTotal:
    key = (code, kinds[0])
    total = ctx.running_totals.get(key)
    if total is None:
        total = ctx.running_totals[key] = running(ctx.register, code, kinds)
    return total


def book(ctx: Context, code: str, on: datetime.date) -> Decimal:
    """Loans lent in the program's book by ``on``: disbursements and increases."""
    return _running(ctx, code, LENT).through(on)


def guarantee_fees(ctx: Context, code: str, on: datetime.date) -> Decimal:
    """Guarantee fees the guarantor collected on the program's loans by ``on``."""
    return _running(ctx, code, FEES).through(on)


def on_movement(ctx: Context, m: Movement) -> None:
    code = m.state.program.code
    if not any(ctx.active(code, rule) for rule in _RULES):
        return
    pool_out = -(m.delta(GUARANTEE) + m.delta(RISK))
    guarantor_out = recorded_share(m.entry, "guarantor_share") or ZERO
    if pool_out <= 0 and guarantor_out <= 0:
        return  # a reversal or nothing paid: the totals bound only what goes out
    totals = ctx.records.payouts.setdefault(code, PayoutTotals())
    totals.pool += max(pool_out, ZERO)
    totals.guarantor += guarantor_out
    totals.pool_by_day.add(m.date, max(pool_out, ZERO))
    totals.guarantor_by_day.add(m.date, guarantor_out)
    if ctx.active(code, "comp.rate_cap"):
        rate = ctx.param(code, "comp.rate_cap", "rate", m.date, m.entry)
        if rate is not None:
            lent = book(ctx, code, m.date)
            limit = cap(lent, rate)
            for payer, total, out in (("资金池风险补偿款", totals.pool, pool_out),
                                      ("担保机构担保代偿款", totals.guarantor, guarantor_out)):
                if out > 0:
                    _over_cap(
                        ctx, "comp.rate_cap", m, Cap(limit, total, out),
                        f"合作期内{payer}累计超过补偿代偿率上限 {percent(rate)}"
                        f"（项目库贷款累计发放 {yuan(lent)} 元",
                    )
    if ctx.active(code, "comp.fee_cap"):
        multiple = ctx.param(code, "comp.fee_cap", "multiple", m.date, m.entry)
        if multiple is not None:
            fees = guarantee_fees(ctx, code, m.date)
            _over_cap(
                ctx, "comp.fee_cap", m,
                Cap(cap(fees, multiple), totals.pool + totals.guarantor, max(pool_out, ZERO) + guarantor_out),
                f"资金池风险补偿款与担保机构担保代偿款合计超过担保机构所收担保费的 {multiple.normalize():f} 倍"
                f"（担保费累计 {yuan(fees)} 元",
            )


@dataclass(frozen=True)
class Cap:
    """A payout limit at one compensation: the limit, the running total with this entry's
    payment, and that payment."""

    limit: Decimal
    total: Decimal
    paid: Decimal

    @property
    def before(self) -> Decimal:
        """What was paid before this entry."""
        return self.total - self.paid

    @property
    def room(self) -> Decimal:
        """What this entry could still pay within the limit (nothing once it is used up)."""
        return max(self.limit - self.before, ZERO)

    @property
    def excess(self) -> Decimal:
        """What this entry paid beyond the limit: its payment less the room left."""
        return self.paid - self.room


def _over_cap(ctx: Context, rule_id: str, m: Movement, bound: Cap, head: str) -> None:
    """Report the entry that takes a running total past its limit (and any later one while
    it stays past it), with, in reading order: where earlier payments used part of the
    limit, the limit and what they paid (in words); then what this entry could still pay
    (the limit itself where nothing was paid before), what it paid and the excess. Each
    number once; the limit and the earlier payments join the JSON figures."""
    if bound.total <= bound.limit:
        return
    before = f"，上限 {yuan(bound.limit)} 元，此前累计支付 {yuan(bound.before)} 元" if bound.before > 0 else ""
    ctx.report(
        rule_id,
        m.state.program.code,
        m.entry,
        f"{head}{before}）",
        figures={"尚可支付": bound.room, "本次支付": bound.paid, "超出": bound.excess},
        stated={"上限": bound.limit, "此前已付": bound.before},
        loan=m.loans[0] if len(m.loans) == 1 else None,
    )


def finish(ctx: Context) -> None:
    pass
