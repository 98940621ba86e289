"""Whose money pays first: a pledged deposit per loan, or the enterprise's own fees.

Rules: ``deposit.pledge``, ``deposit.release``, ``deposit.use``, and the two first payers
the compensation waterfall (:mod:`zhubaodai.checks.waterfall`) asks about through
:func:`first_payers`: the loan's pledged deposit, and (comp.waterfall ``guarantee_basis:
own_fees``) the fees its enterprise paid in.

A pledged deposit (存单质押, 海口"金保贷") is the enterprise's money at the lending bank,
not the pool's: the program keeps it as a sub-ledger beside the special account, one
sub-account per loan under the ``deposits`` role, named by the loan id::

    2021-03-08 * "海口某科技有限公司" "质押存单 HK-2021-001"
      Assets:HKJB:Deposits:HK-2021-001     20000.00 CNY
      Equity:HKJB:Deposits:Enterprises    -20000.00 CNY

* a pledge (from ``deposit_source``) must reach the loan amount × rate (half-up to the
  fen) by the day of each disbursement or increase (``deposit.pledge``);
* a release back to ``deposit_source`` (解押) is lawful only once the loan is settled
  (``deposit.release``);
* a use (to ``compensation_deposit``) pays only the sub-account's own loan, after its
  overdue is recorded, at most the overdue principal and interest; and it comes before
  the pool pays anything of that loan (``deposit.use``). The pool then owes only what the
  deposit left unpaid (:func:`first_payers`).

Each deposit transaction moves one loan's sub-account and one counter-role; the deposit's
payment of a compensation is its own transaction, before the pool's.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from collections.abc import Mapping
from dataclasses import field
from decimal import Decimal
from typing import TYPE_CHECKING

from beancount.core.data import Transaction

from zhubaodai.core.engine import Context
from zhubaodai.core.engine import Movement
from zhubaodai.core.findings import FORMAT_RULE
from zhubaodai.core.money import CURRENCY
from zhubaodai.core.money import ZERO
from zhubaodai.core.money import half_up
from zhubaodai.core.money import percent
from zhubaodai.core.register import Event
from zhubaodai.core.register import Loan
from zhubaodai.core.register import Register

if TYPE_CHECKING:
    from zhubaodai.checks.fees import FeeAccount
    from zhubaodai.checks.waterfall import Claim

PLEDGE = "pledge"
RELEASE = "release"
USE = "use"
MOVE_LABELS = {PLEDGE: "质押", RELEASE: "解押", USE: "代偿"}
#: Register events that raise the deposit due (the loan amount they lend).
_DUE_EVENTS = ("disbursement", "increase")


@dataclass(frozen=True)
class DepositMove:
    """One movement of a loan's deposit: a pledge, a release or a use for compensation."""

    date: datetime.date
    kind: str  # PLEDGE | RELEASE | USE
    amount: Decimal  # > 0
    entry: Transaction


@dataclass
class DepositAccount:
    """A loan's pledged deposit: its sub-account and its movements in ledger order."""

    loan: Loan
    account: str
    moves: list[DepositMove] = field(default_factory=list)

    def total(self, kind: str, on: datetime.date | None = None) -> Decimal:
        return sum(
            (m.amount for m in self.moves if m.kind == kind and (on is None or m.date <= on)), ZERO
        )

    @property
    def balance(self) -> Decimal:
        """What the deposit holds now: pledged less released and used."""
        return self.total(PLEDGE) - self.total(RELEASE) - self.total(USE)

    def held(self, on: datetime.date) -> Decimal:
        """What the deposit holds at the end of ``on``: pledged less released and used by then."""
        return self.total(PLEDGE, on) - self.total(RELEASE, on) - self.total(USE, on)

    @property
    def used(self) -> Decimal:
        return self.total(USE)


@dataclass(frozen=True)
class FirstPayers:
    """What the first payers outside the pool leave to the pool on a compensation."""

    #: What the pool owes of the amount due, after the loan's pledged deposit.
    pool_due: Decimal
    #: What the guarantee fund may pay of it (its balance, or the enterprise's own fees).
    guarantee_available: Decimal
    #: What the deposit has paid or still holds for the loan (counted before the pool).
    deposit_cover: Decimal = ZERO
    #: True where ``guarantee_available`` is the enterprise's own fees (``own_fees``), not
    #: the whole pool's guarantee fund: the messages say which.
    own_fees: bool = False


def first_payers(ctx: Context, loan: Loan, due: Decimal, guarantee_balance: Decimal, on: datetime.date) -> FirstPayers:
    """The hook of :mod:`zhubaodai.checks.waterfall`: the loan's pledged deposit pays first
    (what it paid and what it still holds count against ``due``); where comp.waterfall's
    ``guarantee_basis`` is ``own_fees``, the guarantee fund pays at most the fees the
    loan's enterprise paid in (its loans' fee payments so far), less what the fund already
    paid for that enterprise's loans."""
    cover = ZERO
    account = ctx.states[loan.program].deposits.get(loan.id)
    if account is not None:
        cover = deposit_cover(due, account.used + account.balance)
    available = guarantee_balance
    code = loan.program
    own = False
    rule = ctx.rulebook.programs[code].rules.get("comp.waterfall")
    if rule is not None and "guarantee_basis" in rule.params:
        basis = ctx.param(code, "comp.waterfall", "guarantee_basis", on, loan.approval.entry)
        if basis == "own_fees":
            own = True
            available = min(available, own_fees_left(ctx, loan))
    return FirstPayers(due - cover, available, cover, own)


def deposit_cover(due: Decimal, held: Decimal) -> Decimal:
    """What a loan's pledged deposit pays of ``due`` before the pool: all it holds (``held``,
    never below zero), at most the amount due. The one formula of the deposit's turn, for the
    walk (:func:`first_payers`) and the stress test (:mod:`zhubaodai.stress`)."""
    return min(due, max(held, ZERO))


def own_fees_left(ctx: Context, loan: Loan) -> Decimal:
    """The fees the loan's enterprise paid in (for any of its loans in the program, as the
    walk has seen them) less what the guarantee fund paid on its loans' claims so far."""
    return enterprise_fees_left(ctx.register, ctx.records.fees, ctx.records.claims_by_loan, loan)


def enterprise_fees_left(
    register: Register, fees: Mapping[str, FeeAccount], claims_by_loan: Mapping[str, list[Claim]], loan: Loan,
    on: datetime.date | None = None,
) -> Decimal:
    """:func:`own_fees_left` on given records (the importer's: the engine's fees, and its
    claims with the import's compensations walked in); with ``on``, the fees paid by the end
    of that day less what the fund paid on claims first compensated by then (the stress test)."""
    paid = used = ZERO
    for other in register.loans_of(loan.program, loan.enterprise):
        account = fees.get(other.id)
        if account is not None:
            paid += account.paid if on is None else sum((p.amount for p in account.payments if p.date <= on), ZERO)
        for claim in claims_by_loan.get(other.id, ()):
            if on is None or (claim.entries and claim.entries[0].date <= on):
                used += claim.guarantee_paid
    return max(paid - used, ZERO)


#: The transaction kinds :func:`on_movement` is given.
MOVEMENT_KINDS: frozenset[str] | None = frozenset({"deposit", "compensation"})


def on_movement(ctx: Context, m: Movement) -> None:
    if m.kind == "deposit":
        _deposit(ctx, m)
    elif m.kind == "compensation":
        _pool_paid_first(ctx, m)


def _deposit(ctx: Context, m: Movement) -> None:
    program = m.state.program
    code = program.code
    parent = program.accounts["deposits"] + ":"
    legs: dict[str, Decimal] = {}
    for posting in m.entry.postings:
        if posting.account.startswith(parent) and posting.units.currency == CURRENCY:
            legs[posting.account] = legs.get(posting.account, ZERO) + posting.units.number
    legs = {a: n for a, n in legs.items() if n != 0}
    if len(legs) != 1:
        ctx.report(
            FORMAT_RULE, None, m.entry,
            f"质押存单的每笔分录只记一笔贷款的存单子账户（{parent}贷款编号），此笔记了 {len(legs)} 个",
        )
        return
    (account, delta), = legs.items()
    loan_id = account[len(parent):]
    loan = ctx.register.loans.get(loan_id)
    if loan is None or loan.program != code:
        ctx.report(
            FORMAT_RULE, None, m.entry,
            f"质押存单子账户 {account} 的末段应为本项目（{code}）一笔已审核同意的贷款编号",
        )
        return
    deposit = m.state.deposits.get(loan_id)
    if deposit is None:
        deposit = m.state.deposits[loan_id] = DepositAccount(loan, account)
    source, used = m.role("deposit_source"), m.role("compensation_deposit")
    if delta > 0 and source == -delta and used == 0:
        deposit.moves.append(DepositMove(m.date, PLEDGE, delta, m.entry))
    elif delta < 0 and source == -delta and used == 0:
        _release(ctx, m, deposit, -delta)
    elif delta < 0 and used == -delta and source == 0:
        _use(ctx, m, deposit, -delta)
    else:
        ctx.report(
            FORMAT_RULE, None, m.entry,
            "质押存单分录应为质押（来源→存单）、解押（存单→来源）或代偿（存单→存单代偿支出）之一，金额相符",
        )


def _release(ctx: Context, m: Movement, deposit: DepositAccount, amount: Decimal) -> None:
    code, loan = m.state.program.code, deposit.loan
    balance = deposit.balance
    deposit.moves.append(DepositMove(m.date, RELEASE, amount, m.entry))
    if not ctx.active(code, "deposit.release"):
        return
    if not loan.settled(m.date):
        ctx.report(
            "deposit.release", code, m.entry,
            f"贷款 {loan.id} 尚未结清（未按期还本付息），其质押存单不得解押",
            figures={"解押金额": amount, "贷款余额": loan.outstanding(m.date)},
            loan=loan.id,
        )
    elif amount > balance:
        ctx.report(
            "deposit.release", code, m.entry,
            f"贷款 {loan.id} 解押金额超过存单余额",
            figures={"解押金额": amount, "存单余额": balance, "超出": amount - balance},
            loan=loan.id,
        )


def _use(ctx: Context, m: Movement, deposit: DepositAccount, amount: Decimal) -> None:
    code, loan = m.state.program.code, deposit.loan
    balance = deposit.balance
    deposit.moves.append(DepositMove(m.date, USE, amount, m.entry))
    if not ctx.active(code, "deposit.use"):
        return
    others = [link for link in m.loans if link != loan.id]
    if others:
        ctx.report(
            "deposit.use", code, m.entry,
            f"贷款 {loan.id} 的质押存单只能为本笔贷款代偿，不能用于贷款 {'、'.join(others)}",
            figures={"代偿金额": amount},
            loan=loan.id,
        )
        return
    overdue = loan.last_before("overdue", m.date)
    if overdue is None:
        ctx.report(
            "deposit.use", code, m.entry,
            f"贷款 {loan.id} 在此日前未登记逾期，不得动用其质押存单代偿",
            figures={"代偿金额": amount},
            loan=loan.id,
        )
        return
    due = overdue.amount("principal") + overdue.amount("interest")
    total = deposit.used
    if total > due:
        ctx.report(
            "deposit.use", code, m.entry,
            f"贷款 {loan.id} 以质押存单代偿的累计金额超过逾期本息",
            figures={"逾期本息": due, "累计代偿": total, "超出": total - due},
            loan=loan.id,
        )
    elif amount > balance:
        ctx.report(
            "deposit.use", code, m.entry,
            f"贷款 {loan.id} 以质押存单代偿的金额超过存单余额",
            figures={"代偿金额": amount, "存单余额": balance, "超出": amount - balance},
            loan=loan.id,
        )


def _pool_paid_first(ctx: Context, m: Movement) -> None:
    """The pool pays a loan while its deposit still holds money: the deposit comes first."""
    code = m.state.program.code
    if not ctx.active(code, "deposit.use") or len(m.loans) != 1:
        return
    deposit = m.state.deposits.get(m.loans[0])
    if deposit is None or deposit.balance <= 0:
        return
    ctx.report(
        "deposit.use", code, m.entry,
        f"贷款 {deposit.loan.id} 逾期应先以其质押存单代偿，存单尚有余额时不得先动用专户资金",
        figures={"存单余额": deposit.balance},
        loan=deposit.loan.id,
    )


#: The register events :func:`on_register` keeps, for the programs with deposit.pledge:
#: what the pledge due is worked out from (the approved or contracted amount, and the
#: disbursements and increases by which it is due).
REGISTER_KINDS: frozenset[tuple[str, str]] | None = frozenset(
    ("loan", kind) for kind in ("approval", "contract", *_DUE_EVENTS)
)


def on_register(ctx: Context, event: Event) -> None:
    """Keep a loan's approval, contracts, disbursements and increases as filed, for the
    programs where deposit.pledge is on (the loans in the register's order)."""
    kept = ctx.pledges
    if kept is None:
        kept = ctx.pledges = {}
    if event.kind == "approval":
        if ctx.active(event.data["program"], "deposit.pledge"):
            kept[event.subject] = [event]
        return
    filed = kept.get(event.subject)
    if filed is not None:
        filed.append(event)


def finish(ctx: Context) -> None:
    kept = ctx.pledges
    if not kept:
        return
    loans = ctx.register.loans
    for loan_id, filed in kept.items():
        _pledged_in_full(ctx, loans[loan_id], filed)
    ctx.pledges = None  # the run's scratch


def _pledged_in_full(ctx: Context, loan: Loan, filed: list[Event]) -> None:
    """By each disbursement or increase, the deposit pledged covers the loan amount × rate.
    ``filed``: the loan's approval, contracts, disbursements and increases, as filed."""
    code = loan.program
    deposit = ctx.states[loan.program].deposits.get(loan.id)
    contract = next((event for event in filed if event.kind == "contract"), None)
    base = contract.data["amount"] if contract is not None else filed[0].data["amount"]
    lent_once = False
    for event in filed:
        if event.kind not in _DUE_EVENTS:
            continue
        if event.kind == "increase":
            base += event.data["amount"]
        elif lent_once:
            continue  # a second tranche of the same contract: the deposit is due once
        lent_once = True
        rate = ctx.param(code, "deposit.pledge", "rate", event.date, event.entry)
        if rate is None:
            return
        due = half_up(base * rate)
        pledged = deposit.total(PLEDGE, event.date) if deposit is not None else ZERO
        if pledged < due:
            ctx.report(
                "deposit.pledge", code, event.entry,
                f"贷款 {loan.id} 应在{event.label}前（至迟当日）以存单质押贷款金额的 {percent(rate)}",
                figures={"应质押": due, "已质押": pledged, "差额": due - pledged},
                loan=loan.id,
            )
            return
