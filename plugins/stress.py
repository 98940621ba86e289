"""Stress test: what the pool can absorb if loans of its outstanding book default.

Pure logic, no I/O: ``zbd stress`` (:mod:`zhubaodai.cli`) is a thin adapter over it.

The book is the program's loans with principal outstanding on the stress date, from the
engine's register (:meth:`zhubaodai.core.register.Loan.outstanding`); the funds are the
engine's balances at the end of that date (:meth:`zhubaodai.core.engine.DailyBalance.at`);
the shares are the program's rules.yaml parameters in force on that date
(``comp.waterfall`` ``risk_share``, ``recovery.order`` ``order``; or the program's own table
of parties, ``comp.shares`` ``parties`` and ``shrink``).

Each defaulted loan is one claim, compensated in the order of the book (loan id), by the
program's waterfall (:func:`zhubaodai.checks.waterfall.plan_waterfall`) against what the funds
still hold after the claims before it: the guarantee fund pays first, the risk fund its
share of the shortfall up to what it has left, the bank bears the rest of the shortfall;
whatever of the risk fund's share it cannot pay needs the committee (管委会) to step in.
A program with a table of parties (comp.shares, e.g. 坪山: pool 40%, guarantor 40%, bank
the rest) splits each claim among its parties by largest remainder
(:func:`zhubaodai.checks.waterfall.split_shares`, as the engine does); each of the pool's
funds pays its part up to what it has left, and what it cannot pay is the committee's.
The program's other shapes, from the same engine:

* a pledged deposit (deposit.use, 海口) pays its own loan first, all it holds on the stress
  date up to the claim (:func:`zhubaodai.checks.deposits.deposit_cover`); the waterfall
  runs on what it leaves, and the recovery rate applies to that;
* payout limits (comp.rate_cap, comp.fee_cap, 坪山): what is left of each on the stress
  date (:func:`zhubaodai.checks.payouts.cap` of the book lent and the fees collected, less
  what the walk recorded as paid by then) bounds the pool's and the guarantor's parts, claim
  after claim; over the joint limit the guarantor stops first (the pool's worst case); what
  the limits keep from being paid stays with the bank (the lender), shown as ``capped``;
  a comp.waterfall program with a payout limit is refused (not modelled);
* comp.shares ``residual`` (金东): the pool's loss on each claim after its recovery is split
  by the residual table (:func:`zhubaodai.checks.waterfall.split_shares`);
* comp.waterfall ``guarantee_basis: own_fees`` (五指山): the guarantee fund pays a loan at most
  what its enterprise's own fees have left on the stress date
  (:func:`zhubaodai.checks.deposits.enterprise_fees_left`), claim after claim.

The amount due on a claim is the principal outstanding (interest is not modelled). Later,
``recovery_rate`` of each claim (net of costs, half-up to the fen) comes back and is paid
out in the program's recovery order, each party up to what it bore on that claim; with a
table whose shares shrink (``shrink``), the recovery lowers the unpaid principal and each
party gets back what it bore beyond its share of what is still unpaid.

Three ways to say which loans default, one engine:

* :func:`dues_for_loans`: the named loans default in full;
* :func:`dues_at_rate`: every loan defaults on ``rate`` of its principal (the expected
  loss of a uniform default rate);
* :func:`monte_carlo`: each loan defaults in full with probability ``rate``,
  independently, in each of N seeded draws (N at most :data:`MAX_DRAWS`). The draws are computed on whole fen with
  numpy (vectorised over loans and draws); each draw equals :func:`run` on the same set
  of defaulted loans (tests/test_stress.py checks it draw by draw).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

import numpy as np

from zhubaodai.checks import payouts
from zhubaodai.checks.deposits import deposit_cover
from zhubaodai.checks.deposits import enterprise_fees_left
from zhubaodai.checks.waterfall import plan_waterfall
from zhubaodai.checks.waterfall import split_shares
from zhubaodai.core.engine import Analysis
from zhubaodai.core.engine import GUARANTEE
from zhubaodai.core.engine import RISK
from zhubaodai.core.money import FEN
from zhubaodai.core.money import ZERO
from zhubaodai.core.money import half_up
from zhubaodai.core.rules import PARTY_LABELS
from zhubaodai.core.rules import ParamDateError
from zhubaodai.core.rules import PartyShare
from zhubaodai.core.rules import Rule

#: The parties of a recovery, as rules.yaml's ``recovery.order`` names them.
PARTIES = ("bank", "risk", "guarantee")
#: The pool's funds among the parties of a table, and their balance on :class:`PoolPosition`.
_POOL_FUNDS = ("guarantee", "risk")
#: Percentiles shown for Monte Carlo results.
PERCENTILES = (50, 90, 95, 99)
#: Cells per vectorised block of draws (loans x draws), to bound memory.
BLOCK_CELLS = 1_000_000
#: At most this many Monte Carlo draws: the percentiles are exact, so every draw's totals
#: are kept (nine int64 figures, 72 bytes a draw: 72 MB at the maximum). A million draws
#: put each percentile within about 0.1 percentage point of its level.
MAX_DRAWS = 1_000_000


class StressError(ValueError):
    """The stress test cannot run as asked; the message is for the user (Chinese)."""


@dataclass(frozen=True)
class Exposure:
    """One loan of the outstanding book."""

    loan: str
    enterprise: str
    outstanding: Decimal


@dataclass(frozen=True)
class PayoutRoom:
    """comp.rate_cap and comp.fee_cap on the stress date: each limit (the engine's
    :func:`zhubaodai.checks.payouts.cap` of the book lent or the fees collected by then)
    and what the pool and the guarantor had paid by then. None where the program sets no
    such limit (or it no longer applies)."""

    rate: Decimal | None = None
    lent: Decimal = ZERO
    rate_cap: Decimal | None = None
    multiple: Decimal | None = None
    fees: Decimal = ZERO
    fee_cap: Decimal | None = None
    paid_pool: Decimal = ZERO
    paid_guarantor: Decimal = ZERO

    @property
    def pool(self) -> Decimal | None:
        """What the pool's funds may still pay under comp.rate_cap."""
        return None if self.rate_cap is None else max(self.rate_cap - self.paid_pool, ZERO)

    @property
    def guarantor(self) -> Decimal | None:
        """What the guarantor may still pay under comp.rate_cap."""
        return None if self.rate_cap is None else max(self.rate_cap - self.paid_guarantor, ZERO)

    @property
    def joint(self) -> Decimal | None:
        """What the pool and the guarantor together may still pay under comp.fee_cap."""
        return None if self.fee_cap is None else max(self.fee_cap - self.paid_pool - self.paid_guarantor, ZERO)

    @property
    def any(self) -> bool:
        return self.rate_cap is not None or self.fee_cap is not None

    def describe(self) -> str:
        """The limits and what is left of them, in words (the header of the stress report)."""
        parts = []
        if self.rate_cap is not None and self.rate is not None:
            parts.append(
                f"补偿代偿率上限 {(self.rate * 100).normalize():f}%（累计发放 {self.lent:,} 元，上限 {self.rate_cap:,} 元；"
                f"资金池已付 {self.paid_pool:,} 元、尚可付 {self.pool:,} 元，"
                f"担保机构已付 {self.paid_guarantor:,} 元、尚可付 {self.guarantor:,} 元）"
            )
        if self.fee_cap is not None and self.multiple is not None:
            parts.append(
                f"担保费倍数上限 {self.multiple.normalize():f} 倍（担保费累计 {self.fees:,} 元，上限 {self.fee_cap:,} 元；"
                f"两者合计尚可付 {self.joint:,} 元）"
            )
        return "；".join(parts)


@dataclass(frozen=True)
class PoolPosition:
    """What the pool holds on the stress date and the program's shares then in force."""

    program: str
    on: datetime.date
    guarantee: Decimal
    risk: Decimal
    risk_share: Decimal
    recovery_order: tuple[str, ...]
    #: The program's table of parties (comp.shares); empty for comp.waterfall's order.
    table: tuple[PartyShare, ...] = ()
    #: comp.shares ``shrink``: a recovery lowers every party's share of the unpaid principal.
    shrink: bool = False
    #: Loan id -> what its pledged deposit holds at the end of ``on`` (deposit.use: it pays
    #: its own loan first, :func:`zhubaodai.checks.deposits.deposit_cover`); comp.waterfall only, as the walk.
    deposits: Mapping[str, Decimal] = field(default_factory=dict)
    #: comp.rate_cap and comp.fee_cap (a table of parties only).
    room: PayoutRoom = field(default_factory=PayoutRoom)
    #: comp.shares ``residual``: who bears the pool's loss still unrecovered, and how much.
    residual: tuple[PartyShare, ...] = ()
    #: comp.waterfall ``guarantee_basis: own_fees`` (五指山): enterprise -> the fees it paid in
    #: less what the guarantee fund already paid for it, on ``on`` (its loans' claims draw on
    #: that, not on the whole fund); None where the guarantee fund pays from its whole balance.
    own_fees: Mapping[str, Decimal] | None = None

    @property
    def parties(self) -> tuple[str, ...]:
        """The parties that bear a part, in the order the program names them."""
        if self.table:
            return tuple(row.party for row in self.table)
        return ("guarantee", "risk", "bank")

    def describe(self) -> str:
        """How a claim is borne, in words (the header of the stress report)."""
        if self.table:
            text = "分担表：" + "、".join(f"{row.label} {(row.share * 100).normalize():f}%" for row in self.table)
            if self.residual:
                text += "；追偿后仍未弥补的资金池损失由" + "、".join(
                    f"{row.label} {(row.share * 100).normalize():f}%" for row in self.residual) + "承担"
            return text
        text = f"风险补偿金分担不足部分的 {(self.risk_share * 100).quantize(Decimal('0.01')).normalize():f}%"
        if self.own_fees is not None:
            text = "助保金只以各企业自己缴纳的助保金（减去已为其贷款代偿的部分）为限先付；" + text
        if self.deposits:
            held = sum(self.deposits.values(), ZERO)
            text = (f"逾期贷款先以其质押存单代偿（{len(self.deposits)} 笔存单共 {held:,} 元），不足部分再由资金池承担；"
                    + text)
        return text


@dataclass(frozen=True)
class LoanOutcome:
    """One claim: how it is borne, and how its recovery comes back."""

    loan: str
    due: Decimal
    guarantee: Decimal
    risk: Decimal
    bank: Decimal
    uncovered: Decimal
    recovered: Decimal
    recovered_by: Mapping[str, Decimal]
    #: What every party of a table bore (comp.shares); empty for comp.waterfall's order.
    borne_by: Mapping[str, Decimal] = field(default_factory=dict)
    #: What the loan's pledged deposit paid first (not the pool's money).
    deposit: Decimal = ZERO
    #: What comp.rate_cap / comp.fee_cap kept the pool and the guarantor from paying: the
    #: bank, as the lender, keeps it (counted in its part).
    capped: Decimal = ZERO
    #: comp.shares ``residual``: the pool's loss after recovery, split among its parties.
    residual_by: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """Totals of one scenario (one set of defaults)."""

    defaulted: Decimal
    guarantee: Decimal
    risk: Decimal
    bank: Decimal
    uncovered: Decimal
    recovered: Decimal
    recovered_by: Mapping[str, Decimal]
    loans: tuple[LoanOutcome, ...] = ()
    #: What every party of a table bore (comp.shares); empty for comp.waterfall's order.
    borne_by: Mapping[str, Decimal] = field(default_factory=dict)
    deposit: Decimal = ZERO
    capped: Decimal = ZERO
    residual_by: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def committee_needed(self) -> bool:
        """The risk fund cannot pay its share: the committee must decide."""
        return self.uncovered > 0

    def borne(self, party: str) -> Decimal:
        if self.borne_by:
            return self.borne_by.get(party, ZERO)
        return {"guarantee": self.guarantee, "risk": self.risk, "bank": self.bank}[party]

    def net(self, party: str) -> Decimal:
        """What ``party`` bears after recoveries."""
        return self.borne(party) - self.recovered_by.get(party, ZERO)


def book(analysis: Analysis, program: str, on: datetime.date) -> list[Exposure]:
    """The program's loans with principal outstanding at the end of ``on``, by loan id."""
    if program not in analysis.rulebook.programs:
        raise StressError(f"rules.yaml 中没有项目 {program}")
    loans = [
        Exposure(loan.id, loan.enterprise, loan.outstanding(on))
        for loan in analysis.register.loans.values()
        if loan.program == program
    ]
    return sorted((e for e in loans if e.outstanding > 0), key=lambda e: e.loan)


def position(analysis: Analysis, program: str, on: datetime.date) -> PoolPosition:
    """The funds at the end of ``on`` and the program's shapes then in force: its shares and
    recovery order, the loans' pledged deposits, its payout limits and its residual table."""
    prog = analysis.rulebook.programs.get(program)
    if prog is None:
        raise StressError(f"rules.yaml 中没有项目 {program}")
    waterfall = prog.rule("comp.waterfall")
    shares = prog.rule("comp.shares")
    if waterfall is None and shares is None:
        raise StressError(
            f"项目 {program} 在 rules.yaml 中没有代偿分担规则（comp.waterfall 或 comp.shares），无法做压力测试"
        )
    recovery = prog.rule("recovery.order")
    state = analysis.programs[program]
    funds = (state.funds[GUARANTEE].at(on), state.funds[RISK].at(on))
    try:
        order = tuple(recovery.param("order", on)) if recovery is not None else PARTIES
        room = _room(analysis, program, on)
        if shares is not None:
            table: tuple[PartyShare, ...] = shares.param("parties", on)
            shrink = bool(shares.param("shrink", on)) if "shrink" in shares.params else False
            residual = tuple(shares.param("residual", on) or ()) if "residual" in shares.params else ()
            risk_share = next((row.share for row in table if row.party == "risk"), ZERO)
            if recovery is None:
                order = tuple(row.party for row in table)
            return PoolPosition(program, on, *funds, risk_share, order, table, shrink, room=room, residual=residual)
        share = Decimal(waterfall.param("risk_share", on))
    except ParamDateError as exc:
        raise StressError(f"{exc}，无法做 {on} 的压力测试") from None
    if room.any:
        raise StressError(
            f"项目 {program} 按代偿顺序（comp.waterfall）分担，同时设有支付上限（comp.rate_cap 或 comp.fee_cap）："
            "压力测试尚不能模拟这种组合"
        )
    deposits = {
        loan_id: held
        for loan_id, account in state.deposits.items()
        if (held := account.held(on)) > 0
    }
    return PoolPosition(program, on, *funds, share, order, deposits=deposits,
                        own_fees=_own_fees(analysis, program, on) if _own_fees_basis(waterfall, on) else None)


def _own_fees_basis(waterfall: Rule, on: datetime.date) -> bool:
    return "guarantee_basis" in waterfall.params and waterfall.param("guarantee_basis", on) == "own_fees"


def _own_fees(analysis: Analysis, program: str, on: datetime.date) -> dict[str, Decimal]:
    """Per enterprise of the program: :func:`zhubaodai.checks.deposits.enterprise_fees_left` on ``on``."""
    found: dict[str, Decimal] = {}
    for loan in analysis.register.loans.values():
        if loan.program == program and loan.enterprise not in found:
            found[loan.enterprise] = enterprise_fees_left(
                analysis.register, analysis.records.fees, analysis.records.claims_by_loan, loan, on)
    return found


def _room(analysis: Analysis, program: str, on: datetime.date) -> PayoutRoom:
    """comp.rate_cap and comp.fee_cap on ``on``: the engine's limits (the register's loans
    lent and guarantee fees through that date, :func:`zhubaodai.checks.payouts.cap`) and
    what the engine's walk recorded as paid by the end of that date."""
    prog = analysis.rulebook.programs[program]
    rate_rule, fee_rule = prog.rule("comp.rate_cap"), prog.rule("comp.fee_cap")
    if rate_rule is None and fee_rule is None:
        return PayoutRoom()
    totals = analysis.records.payouts.get(program)
    paid_pool = totals.pool_by_day.at(on) if totals is not None else ZERO
    paid_guarantor = totals.guarantor_by_day.at(on) if totals is not None else ZERO
    rate = rate_rule.param("rate", on) if rate_rule is not None else None
    multiple = fee_rule.param("multiple", on) if fee_rule is not None else None
    lent = payouts.running(analysis.register, program, payouts.LENT).through(on) if rate is not None else ZERO
    fees = payouts.running(analysis.register, program, payouts.FEES).through(on) if multiple is not None else ZERO
    return PayoutRoom(
        rate=rate, lent=lent, rate_cap=payouts.cap(lent, rate) if rate is not None else None,
        multiple=multiple, fees=fees, fee_cap=payouts.cap(fees, multiple) if multiple is not None else None,
        paid_pool=paid_pool, paid_guarantor=paid_guarantor,
    )


def _rate(value: Decimal, what: str) -> Decimal:
    if not (0 <= value <= 1):
        raise StressError(f"{what}应在 0 到 1 之间：{value}")
    return value


def dues_for_loans(exposures: Sequence[Exposure], loan_ids: Iterable[str]) -> dict[str, Decimal]:
    """The named loans default on their whole outstanding principal."""
    by_id = {e.loan: e for e in exposures}
    dues: dict[str, Decimal] = {}
    for loan_id in loan_ids:
        exposure = by_id.get(loan_id)
        if exposure is None:
            raise StressError(f"贷款 {loan_id} 不在压力测试日的未结清贷款中（无此编号、属其他项目或余额为零）")
        dues[loan_id] = exposure.outstanding
    return dues


def dues_at_rate(exposures: Sequence[Exposure], rate: Decimal) -> dict[str, Decimal]:
    """Every loan defaults on ``rate`` of its principal (half-up to the fen)."""
    _rate(rate, "违约率")
    return {e.loan: half_up(e.outstanding * rate) for e in exposures}


def _recover(amount: Decimal, borne: Mapping[str, Decimal], order: Sequence[str]) -> dict[str, Decimal]:
    parts: dict[str, Decimal] = {}
    for party in order:
        take = min(amount, borne.get(party, ZERO))
        parts[party] = take
        amount -= take
    return parts


def run(
    pool: PoolPosition,
    exposures: Sequence[Exposure],
    dues: Mapping[str, Decimal],
    recovery_rate: Decimal,
) -> Outcome:
    """One scenario: the claims ``dues`` (loan id -> amount due), in the order of the book."""
    _rate(recovery_rate, "回收率")
    if pool.table:
        return _run_table(pool, exposures, dues, recovery_rate)
    guarantee_left, risk_left = pool.guarantee, pool.risk
    own = dict(pool.own_fees) if pool.own_fees is not None else None
    outcomes: list[LoanOutcome] = []
    for exposure in exposures:
        due = dues.get(exposure.loan, ZERO)
        if due <= 0:
            continue
        # The loan's pledged deposit first; the pool's waterfall on what it leaves; with
        # own_fees, the guarantee fund pays at most what the enterprise's own fees have left.
        cover = deposit_cover(due, pool.deposits.get(exposure.loan, ZERO))
        available = guarantee_left if own is None else min(guarantee_left, own.get(exposure.enterprise, ZERO))
        plan = plan_waterfall(due - cover, available, risk_left, pool.risk_share)
        guarantee_left -= plan.guarantee
        risk_left -= plan.risk
        if own is not None:
            own[exposure.enterprise] = own.get(exposure.enterprise, ZERO) - plan.guarantee
        recovered = half_up(plan.due * recovery_rate)
        borne = {"bank": plan.bank, "risk": plan.risk, "guarantee": plan.guarantee}
        outcomes.append(
            LoanOutcome(
                exposure.loan, due, plan.guarantee, plan.risk, plan.bank, plan.uncovered,
                recovered, _recover(recovered, borne, pool.recovery_order), deposit=cover,
            )
        )

    return _outcome(outcomes, PARTIES)


class _Limit:
    """A running payout limit (comp.rate_cap, comp.fee_cap) over the claims in book order:
    each claim gets at most what is left of it. None: no limit."""

    def __init__(self, room: Decimal | None) -> None:
        self.left = room

    def take(self, amount: Decimal) -> Decimal:
        if self.left is None:
            return amount
        paid = min(amount, self.left)
        self.left -= paid
        return paid


def _cut(parts: dict[str, Decimal], parties: Sequence[str], amount: Decimal) -> None:
    """Take ``amount`` off the parts of ``parties``, in that order, each down to zero."""
    for party in parties:
        take = min(amount, parts[party])
        parts[party] -= take
        amount -= take


def _run_table(
    pool: PoolPosition, exposures: Sequence[Exposure], dues: Mapping[str, Decimal], recovery_rate: Decimal
) -> Outcome:
    """:func:`run` for a table of parties (comp.shares): each claim split by the table, the
    payout limits on the pool's and the guarantor's parts (what they keep the payers from
    paying stays with the bank), then the pool's funds pay their parts up to their balances."""
    left = {"guarantee": max(pool.guarantee, ZERO), "risk": max(pool.risk, ZERO)}
    pool_parties = [row.party for row in pool.table if row.pool]
    cut_order = list(reversed(pool_parties))
    pool_limit, guarantor_limit, joint_limit = (
        _Limit(pool.room.pool), _Limit(pool.room.guarantor), _Limit(pool.room.joint))
    outcomes: list[LoanOutcome] = []
    for exposure in exposures:
        due = dues.get(exposure.loan, ZERO)
        if due <= 0:
            continue
        parts = split_shares(due, pool.table)
        owed = dict(parts)
        pool_part = sum((owed[p] for p in pool_parties), ZERO)
        _cut(owed, cut_order, pool_part - pool_limit.take(pool_part))
        guarantor = owed.get("guarantor", ZERO)
        guarantor_paid = guarantor_limit.take(guarantor)
        together = sum((owed[p] for p in pool_parties), ZERO) + guarantor_paid
        over = together - joint_limit.take(together)
        # Over the joint limit: the guarantor stops first, then the pool (the pool's worst case).
        from_guarantor = min(over, guarantor_paid)
        guarantor_paid -= from_guarantor
        _cut(owed, cut_order, over - from_guarantor)
        if "guarantor" in owed:
            owed["guarantor"] = guarantor_paid
        capped = sum(parts.values(), ZERO) - sum(owed.values(), ZERO)
        if "bank" in owed:
            owed["bank"] += capped
        borne = dict(owed)
        uncovered = ZERO
        for party in _POOL_FUNDS:
            if party in owed:
                paid = min(owed[party], left[party])
                uncovered += owed[party] - paid
                left[party] -= paid
                borne[party] = paid
        recovered = half_up(due * recovery_rate)
        back = _recover_table(pool, due, recovered, borne, capped)
        residual: dict[str, Decimal] = {}
        if pool.residual:
            loss = sum((borne[p] - back.get(p, ZERO) for p in pool_parties), ZERO)
            residual = split_shares(max(loss, ZERO), pool.residual)
        outcomes.append(
            LoanOutcome(
                exposure.loan, due, borne.get("guarantee", ZERO), borne.get("risk", ZERO), borne.get("bank", ZERO),
                uncovered, recovered, back, borne, capped=capped, residual_by=residual,
            )
        )

    return _outcome(outcomes, pool.parties, table=True, residual=tuple(row.party for row in pool.residual))


def _outcome(
    outcomes: list[LoanOutcome], parties: Sequence[str], table: bool = False, residual: Sequence[str] = ()
) -> Outcome:
    """A scenario's totals over its loans; with ``table``, what each party of the table bore."""

    def total(get: Callable[[LoanOutcome], Decimal]) -> Decimal:
        return sum((get(o) for o in outcomes), ZERO)

    return Outcome(
        defaulted=total(lambda o: o.due),
        guarantee=total(lambda o: o.guarantee),
        risk=total(lambda o: o.risk),
        bank=total(lambda o: o.bank),
        uncovered=total(lambda o: o.uncovered),
        recovered=total(lambda o: o.recovered),
        recovered_by={p: total(lambda o, p=p: o.recovered_by.get(p, ZERO)) for p in parties},
        loans=tuple(outcomes),
        borne_by={p: total(lambda o, p=p: o.borne_by.get(p, ZERO)) for p in parties} if table else {},
        deposit=total(lambda o: o.deposit),
        capped=total(lambda o: o.capped),
        residual_by={p: total(lambda o, p=p: o.residual_by.get(p, ZERO)) for p in residual},
    )


def _recover_table(
    pool: PoolPosition, due: Decimal, recovered: Decimal, borne: Mapping[str, Decimal], capped: Decimal = ZERO
) -> dict[str, Decimal]:
    """A recovery under a table: with ``shrink`` each party gets back what it bore of its
    part beyond its share of the principal still unpaid, and the bank, of what is left, up to
    what the payout limits left it (``capped``, part of its ``borne``); else in the recovery
    order, each up to what it bore."""
    if not pool.shrink:
        return _recover(recovered, borne, pool.recovery_order)
    still = split_shares(due - recovered, pool.table)
    own = {party: value - (capped if party == "bank" else ZERO) for party, value in borne.items()}
    back = {row.party: max(own[row.party] - still[row.party], ZERO) for row in pool.table}
    if capped and "bank" in back:
        back["bank"] += min(capped, max(recovered - sum(back.values(), ZERO), ZERO))
    return back


def exhaustion_rate(pool: PoolPosition, exposures: Sequence[Exposure]) -> Decimal | None:
    """The uniform default rate at which the risk fund's share of the shortfall reaches
    what it holds, so that any higher rate needs the committee: (G + R / share) / outstanding;
    with pledged deposits, the rate at which what the deposits leave to the pool,
    Σ max(rate × outstanding − deposit, 0), reaches G + R / share.

    None when it cannot happen (no risk share, nothing outstanding, or a payout limit stops
    the pool's payments before its funds run out); a value above 1 means not even the whole
    book defaulting exhausts the risk fund. Rounding to the fen per claim is left out of
    this closed form.
    """
    outstanding = sum((e.outstanding for e in exposures), ZERO)
    if outstanding <= 0 or pool.risk_share <= 0:
        return None
    if pool.table:
        # Each fund pays its share of every claim: the first to run out decides, unless a
        # payout limit stops the pool's payments first.
        balances = {"guarantee": max(pool.guarantee, ZERO), "risk": max(pool.risk, ZERO)}
        rate = min(balances[row.party] / row.share for row in pool.table if row.pool and row.share > 0) / outstanding
        limits = [room for room in (pool.room.pool, pool.room.joint) if room is not None]
        pool_share = sum((row.share for row in pool.table if row.pool), ZERO)
        if limits and pool_share > 0 and min(limits) / pool_share / outstanding <= rate:
            return None
        return rate
    if pool.own_fees is not None:
        return _own_fees_exhaustion(pool, exposures)
    target = max(pool.guarantee, ZERO) + max(pool.risk, ZERO) / pool.risk_share
    # Piecewise linear in the rate: a loan adds to the pool's due once rate × outstanding
    # passes its deposit (its breakpoint); walk the breakpoints in order.
    points = sorted(
        (pool.deposits.get(e.loan, ZERO) / e.outstanding, e.outstanding, pool.deposits.get(e.loan, ZERO))
        for e in exposures
    )
    slope = held = ZERO
    for i, (_, amount, deposit) in enumerate(points):
        slope += amount
        held += deposit
        rate = (target + held) / slope
        if i + 1 == len(points) or rate <= points[i + 1][0]:
            return rate
    return None


def _own_fees_exhaustion(pool: PoolPosition, exposures: Sequence[Exposure]) -> Decimal | None:
    """:func:`exhaustion_rate` where the guarantee fund pays each enterprise's loans at most
    its own fees: the rate r at which share × (D(r) − g(r)) reaches the risk fund, where D(r)
    is what the deposits leave to the pool and g(r) = min(G, Σ per enterprise min(its own
    fees, its part of D(r))). Both grow with r and D − g never falls, so bisection (to 1e-12)."""
    guarantee, risk = max(pool.guarantee, ZERO), max(pool.risk, ZERO)
    own = pool.own_fees or {}

    def short(rate: Decimal) -> Decimal:
        by_enterprise: dict[str, Decimal] = {}
        for e in exposures:
            due = max(rate * e.outstanding - pool.deposits.get(e.loan, ZERO), ZERO)
            by_enterprise[e.enterprise] = by_enterprise.get(e.enterprise, ZERO) + due
        total = sum(by_enterprise.values(), ZERO)
        paid = min(guarantee, sum((min(max(own.get(k, ZERO), ZERO), v) for k, v in by_enterprise.items()), ZERO))
        return pool.risk_share * (total - paid) - risk

    low, high = ZERO, Decimal(1)
    while short(high) < 0:
        low, high = high, high * 2
        if high > 2**40:
            return None
    while high - low > Decimal("1e-12"):
        middle = (low + high) / 2
        if short(middle) < 0:
            low = middle
        else:
            high = middle
    return high


# --------------------------------------------------------------------------------------
# Monte Carlo, vectorised on whole fen.


def _fraction(value: Decimal) -> tuple[int, int]:
    """An exact decimal as numerator / power of ten."""
    sign, digits, exponent = value.as_tuple()
    if sign or not isinstance(exponent, int):
        raise StressError(f"比例应为非负小数：{value}")
    numerator = int("".join(map(str, digits)) or "0")
    if exponent >= 0:
        return numerator * 10**exponent, 1
    return numerator, 10**-exponent


def _half_up_times(fen: np.ndarray, numerator: int, denominator: int) -> np.ndarray:
    """``half_up(amount × numerator / denominator)`` on non-negative whole fen."""
    return (fen * (2 * numerator) + denominator) // (2 * denominator)


def _fen(value: Decimal) -> int:
    return int((value / FEN).to_integral_value())


@dataclass(frozen=True)
class Draws:
    """Per draw totals, in fen (int64 arrays of length N)."""

    defaulted: np.ndarray
    guarantee: np.ndarray
    risk: np.ndarray
    bank: np.ndarray
    uncovered: np.ndarray
    recovered_by: Mapping[str, np.ndarray]
    #: The default matrix (draws x loans), kept only when asked (for tests).
    defaults: np.ndarray | None = None
    #: What every party of a table bore (comp.shares); empty for comp.waterfall's order.
    borne_by: Mapping[str, np.ndarray] = field(default_factory=dict)
    #: What the pledged deposits paid first, and what the payout limits kept from being paid.
    deposit: np.ndarray | None = None
    capped: np.ndarray | None = None
    #: comp.shares ``residual``: the pool's loss after recovery, split among its parties.
    residual_by: Mapping[str, np.ndarray] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return int(self.defaulted.shape[0])

    def outcome(self, i: int) -> Outcome:
        """Draw ``i`` as an :class:`Outcome` (totals only), in yuan."""

        def yuan(a: np.ndarray) -> Decimal:
            return (Decimal(int(a[i])) * FEN).quantize(FEN)

        recovered_by = {p: yuan(a) for p, a in self.recovered_by.items()}
        return Outcome(
            defaulted=yuan(self.defaulted),
            guarantee=yuan(self.guarantee),
            risk=yuan(self.risk),
            bank=yuan(self.bank),
            uncovered=yuan(self.uncovered),
            recovered=sum(recovered_by.values(), ZERO),
            recovered_by=recovered_by,
            borne_by={p: yuan(a) for p, a in self.borne_by.items()},
            deposit=yuan(self.deposit) if self.deposit is not None else ZERO,
            capped=yuan(self.capped) if self.capped is not None else ZERO,
            residual_by={p: yuan(a) for p, a in self.residual_by.items()},
        )

    def borne(self, party: str) -> np.ndarray:
        if self.borne_by:
            return self.borne_by[party]
        return {"guarantee": self.guarantee, "risk": self.risk, "bank": self.bank}[party]

    def net(self, party: str) -> np.ndarray:
        return self.borne(party) - self.recovered_by[party]


def _group_before(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Per element, the sum of the values before it in its draw (an exclusive cumsum
    restarted at each draw's first default)."""
    exclusive = np.cumsum(values) - values
    return exclusive - np.repeat(exclusive[first], np.diff(np.append(first, values.size)))


def _per_draw(values: np.ndarray, first: np.ndarray, drawn: np.ndarray, draws: int) -> np.ndarray:
    totals = np.zeros(draws, dtype=np.int64)
    if values.size:
        totals[drawn] = np.add.reduceat(values, first)
    return totals


def _limit(values: np.ndarray, first: np.ndarray, room: Decimal | int | None) -> np.ndarray:
    """A running limit per draw (a fund's balance, a payout limit): each claim gets at most
    what the claims before it in its draw left of ``room`` (whole fen; None: no limit)."""
    if room is None:
        return values
    before = _group_before(values, first)
    return np.minimum(np.maximum(int(room) - before, 0), values)


def _cut_fen(parts: dict[str, np.ndarray], parties: Sequence[str], amount: np.ndarray) -> None:
    """:func:`_cut` on whole fen, vectorised."""
    for party in parties:
        take = np.minimum(amount, parts[party])
        parts[party] = parts[party] - take
        amount = amount - take


def _room_fen(room: Decimal | None) -> int | None:
    return None if room is None else _fen(room)


def _own_fees_guarantee(
    pool: PoolPosition, enterprises: Sequence[str], rows: np.ndarray, cols: np.ndarray, due: np.ndarray, g0: int
) -> np.ndarray:
    """The guarantee fund's part of each default under ``own_fees``: at most what the fund
    and the enterprise's own fees have left, claim after claim in each draw. Two running
    limits on one series do not vectorise: a loop over the defaults (not loans × draws)."""
    own0 = {e: max(_fen(v), 0) for e, v in (pool.own_fees or {}).items()}
    out = np.zeros_like(due)
    draw = -1
    left = 0
    own: dict[str, int] = {}
    for i in range(due.size):
        if rows[i] != draw:
            draw, left, own = int(rows[i]), g0, dict(own0)
        enterprise = enterprises[int(cols[i])]
        paid = min(int(due[i]), left, own.get(enterprise, 0))
        out[i] = paid
        left -= paid
        own[enterprise] = own.get(enterprise, 0) - paid
    return out


def _waterfall(
    pool: PoolPosition,
    outstanding: np.ndarray,
    held: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    draws: int,
    recovery_rate: Decimal,
    enterprises: Sequence[str] = (),
) -> dict[str, np.ndarray]:
    """The waterfall of :func:`run` for many draws at once, on the defaults only.

    ``rows``/``cols`` list the defaults (draw, loan index in book order), sorted by draw
    then loan, as ``np.nonzero`` gives them. Returns per-draw totals in fen.
    """
    if pool.table:
        return _waterfall_table(pool, outstanding, rows, cols, draws, recovery_rate)
    # The loan's pledged deposit first (deposit_cover, on whole fen); the pool's waterfall
    # on what it leaves.
    claimed = outstanding[cols]
    cover = np.minimum(claimed, held[cols])
    share_n, share_d = _fraction(pool.risk_share)
    rec_n, rec_d = _fraction(recovery_rate)
    biggest = int(outstanding.max()) if outstanding.size else 0
    limit = 2**62
    if biggest * 2 * max(share_n, rec_n, 1) >= limit or int(outstanding.sum()) >= limit:
        raise StressError("金额或比例的位数过多，无法按分精确模拟")
    g0 = max(_fen(pool.guarantee), 0)
    r0 = max(_fen(pool.risk), 0)
    due = claimed - cover
    # Each draw's first default, and the draws that have any.
    first = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]]) if rows.size else rows
    drawn = rows[first]
    if pool.own_fees is None:
        before = _group_before(due, first)
        guarantee = np.minimum(np.maximum(g0 - before, 0), due)
    else:
        guarantee = _own_fees_guarantee(pool, enterprises, rows, cols, due, g0)
    shortfall = due - guarantee
    risk_part = _half_up_times(shortfall, share_n, share_d)
    risk_before = _group_before(risk_part, first)
    risk = np.minimum(np.maximum(r0 - risk_before, 0), risk_part)
    bank = shortfall - risk_part
    uncovered = risk_part - risk
    left = _half_up_times(due, rec_n, rec_d)
    borne = {"bank": bank, "risk": risk, "guarantee": guarantee}
    result = {
        "defaulted": _per_draw(claimed, first, drawn, draws),
        "deposit": _per_draw(cover, first, drawn, draws),
        "guarantee": _per_draw(guarantee, first, drawn, draws),
        "risk": _per_draw(risk, first, drawn, draws),
        "bank": _per_draw(bank, first, drawn, draws),
        "uncovered": _per_draw(uncovered, first, drawn, draws),
    }
    for party in pool.recovery_order:
        take = np.minimum(left, borne[party])
        result[f"recovered_{party}"] = _per_draw(take, first, drawn, draws)
        left = left - take
    return result


def _split_fen(due: np.ndarray, table: Sequence[PartyShare]) -> list[np.ndarray]:
    """:func:`~zhubaodai.checks.waterfall.split_shares` on whole fen, vectorised: each part
    rounded down, the fen left over one each to the largest remainders (ties to the party
    listed first); the parts sum to ``due``."""
    fractions = [_fraction(row.share) for row in table]
    common = max(d for _, d in fractions)
    numerators = [n * (common // d) for n, d in fractions]
    total_n = sum(numerators)
    if total_n == 0:
        return [np.zeros_like(due) for _ in table]
    # Largest remainder of due × n_i / total_n (the shares sum to 1: total_n == common).
    exact = [due * n for n in numerators]
    floors = np.stack([e // total_n for e in exact]) if exact else np.empty((0, due.size), dtype=np.int64)
    remainders = np.stack([e % total_n for e in exact])
    left = due - floors.sum(axis=0)
    # Rank of each party by remainder, largest first, ties by the table's order.
    order = np.argsort(-remainders, axis=0, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(len(table))[:, None].repeat(due.size, axis=1), axis=0)
    parts = floors + (ranks < left[None, :])
    return [parts[i] for i in range(len(table))]


def _waterfall_table(
    pool: PoolPosition,
    outstanding: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    draws: int,
    recovery_rate: Decimal,
) -> dict[str, np.ndarray]:
    """:func:`_waterfall` for a table of parties (comp.shares), as :func:`_run_table`."""
    rec_n, rec_d = _fraction(recovery_rate)
    fractions = [_fraction(row.share) for row in pool.table]
    biggest = int(outstanding.max()) if outstanding.size else 0
    if biggest * 2 * max([rec_n, 1, *(n for n, _ in fractions)]) >= 2**62 or int(outstanding.sum()) >= 2**62:
        raise StressError("金额或比例的位数过多，无法按分精确模拟")
    due = outstanding[cols]
    first = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]]) if rows.size else rows
    drawn = rows[first]
    parts = dict(zip((row.party for row in pool.table), _split_fen(due, pool.table)))
    pool_parties = [row.party for row in pool.table if row.pool]
    cut_order = list(reversed(pool_parties))
    zero = np.zeros_like(due)
    # The payout limits, as _run_table: the pool's, the guarantor's, then both together
    # (over it, the guarantor stops first); what they keep from being paid stays with the bank.
    owed = dict(parts)
    pool_part = sum((owed[p] for p in pool_parties), zero)
    _cut_fen(owed, cut_order, pool_part - _limit(pool_part, first, _room_fen(pool.room.pool)))
    guarantor_paid = _limit(owed.get("guarantor", zero), first, _room_fen(pool.room.guarantor))
    together = sum((owed[p] for p in pool_parties), zero) + guarantor_paid
    over = together - _limit(together, first, _room_fen(pool.room.joint))
    from_guarantor = np.minimum(over, guarantor_paid)
    guarantor_paid = guarantor_paid - from_guarantor
    _cut_fen(owed, cut_order, over - from_guarantor)
    if "guarantor" in owed:
        owed["guarantor"] = guarantor_paid
    capped = due - sum(owed.values(), zero)
    if "bank" in owed:
        owed["bank"] = owed["bank"] + capped
    balances = {"guarantee": max(_fen(pool.guarantee), 0), "risk": max(_fen(pool.risk), 0)}
    borne = dict(owed)
    uncovered = zero
    for party in _POOL_FUNDS:
        if party in owed:
            paid = _limit(owed[party], first, balances[party])
            uncovered = uncovered + owed[party] - paid
            borne[party] = paid
    recovered = _half_up_times(due, rec_n, rec_d)
    result = {
        "defaulted": _per_draw(due, first, drawn, draws),
        "uncovered": _per_draw(uncovered, first, drawn, draws),
        "capped": _per_draw(capped, first, drawn, draws),
    }
    for party in ("guarantee", "risk", "bank"):
        result[party] = _per_draw(borne.get(party, zero), first, drawn, draws)
    for party, values in borne.items():
        result[f"borne_{party}"] = _per_draw(values, first, drawn, draws)
    back: dict[str, np.ndarray] = {}
    if pool.shrink:
        still = dict(zip(parts, _split_fen(due - recovered, pool.table)))
        for party in parts:
            own = borne[party] - capped if party == "bank" else borne[party]
            back[party] = np.maximum(own - still[party], 0)
        if "bank" in back:
            back["bank"] = back["bank"] + np.minimum(capped, np.maximum(recovered - sum(back.values(), zero), 0))
    else:
        left = recovered
        for party in pool.recovery_order:
            back[party] = np.minimum(left, borne.get(party, zero))
            left = left - back[party]
    for party, values in back.items():
        result[f"recovered_{party}"] = _per_draw(values, first, drawn, draws)
    if pool.residual:
        loss = np.maximum(sum((borne[p] - back.get(p, zero) for p in pool_parties), zero), 0)
        for row, values in zip(pool.residual, _split_fen(loss, pool.residual)):
            result[f"residual_{row.party}"] = _per_draw(values, first, drawn, draws)
    return result


def _outstanding_fen(exposures: Sequence[Exposure]) -> np.ndarray:
    return np.array([_fen(e.outstanding) for e in exposures], dtype=np.int64)


def _held_fen(pool: PoolPosition, exposures: Sequence[Exposure]) -> np.ndarray:
    """What each loan's pledged deposit holds (never below zero), in book order, in fen."""
    return np.array([max(_fen(pool.deposits.get(e.loan, ZERO)), 0) for e in exposures], dtype=np.int64)


def simulate(
    pool: PoolPosition,
    exposures: Sequence[Exposure],
    defaults: np.ndarray,
    recovery_rate: Decimal,
) -> dict[str, np.ndarray]:
    """:func:`run` for many draws at once: ``defaults`` is a boolean (draws x loans)
    matrix over ``exposures`` in book order, each marked loan defaulting in full.
    Returns per-draw totals in fen."""
    _rate(recovery_rate, "回收率")
    rows, cols = np.nonzero(defaults)
    return _waterfall(
        pool, _outstanding_fen(exposures), _held_fen(pool, exposures), rows, cols, defaults.shape[0], recovery_rate,
        [e.enterprise for e in exposures],
    )


def _bernoulli_cells(rng: np.random.Generator, cells: int, p: float) -> np.ndarray:
    """The indices of successes among ``cells`` independent Bernoulli(p) trials, sorted.

    Drawn as geometric gaps between successes, so the work is proportional to the
    number of defaults, not of loans x draws.
    """
    if p <= 0 or cells == 0:
        return np.empty(0, dtype=np.int64)
    if p >= 1:
        return np.arange(cells, dtype=np.int64)
    found: list[np.ndarray] = []
    position = -1
    expected = int(cells * p + 6 * (cells * p * (1 - p)) ** 0.5) + 16
    while position < cells:
        gaps = rng.geometric(p, size=expected)
        hits = position + np.cumsum(gaps)
        position = int(hits[-1])
        found.append(hits[hits < cells])
        expected = int((cells - position) * p) + 16 if position < cells else 0
    return np.concatenate(found)


def monte_carlo(
    pool: PoolPosition,
    exposures: Sequence[Exposure],
    rate: Decimal,
    recovery_rate: Decimal,
    draws: int,
    seed: int,
    *,
    keep_defaults: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Draws:
    """``draws`` seeded scenarios, each loan defaulting in full with probability ``rate``,
    independently of the other loans and draws.

    The same seed gives the same draws (numpy's ``default_rng``). ``progress`` is called
    with the number of draws done after each block. ``keep_defaults`` keeps the boolean
    (draws x loans) default matrix on the result (for tests; it is large).
    """
    _rate(rate, "违约率")
    _rate(recovery_rate, "回收率")
    if draws <= 0:
        raise StressError(f"模拟次数应为正整数：{draws}")
    if draws > MAX_DRAWS:
        raise StressError(f"模拟次数最多 {MAX_DRAWS:,} 次（每次模拟的结果都要保留以求精确的分位数）：{draws:,}")
    if not exposures:
        raise StressError("压力测试日没有未结清的贷款")
    rng = np.random.default_rng(seed)
    outstanding = _outstanding_fen(exposures)
    held = _held_fen(pool, exposures)
    enterprises = [e.enterprise for e in exposures]
    n = len(exposures)
    block = max(1, BLOCK_CELLS // n)
    p = float(rate)
    parts: dict[str, list[np.ndarray]] = {}
    kept: list[np.ndarray] = []
    done = 0
    while done < draws:
        size = min(block, draws - done)
        cells = _bernoulli_cells(rng, size * n, p)
        rows, cols = np.divmod(cells, n)
        for name, values in _waterfall(pool, outstanding, held, rows, cols, size, recovery_rate, enterprises).items():
            parts.setdefault(name, []).append(values)
        if keep_defaults:
            matrix = np.zeros((size, n), dtype=bool)
            matrix[rows, cols] = True
            kept.append(matrix)
        done += size
        if progress is not None:
            progress(size)
    joined = {name: np.concatenate(values) for name, values in parts.items()}
    return Draws(
        defaulted=joined["defaulted"],
        guarantee=joined["guarantee"],
        risk=joined["risk"],
        bank=joined["bank"],
        uncovered=joined["uncovered"],
        recovered_by={p: joined[f"recovered_{p}"] for p in (pool.parties if pool.table else pool.recovery_order)},
        defaults=np.concatenate(kept) if keep_defaults else None,
        borne_by={p: joined[f"borne_{p}"] for p in pool.parties} if pool.table else {},
        deposit=joined.get("deposit"),
        capped=joined.get("capped"),
        residual_by={row.party: joined[f"residual_{row.party}"] for row in pool.residual},
    )


@dataclass(frozen=True)
class Summary:
    """Mean and percentiles of one per-draw figure, in yuan."""

    mean: Decimal
    percentiles: Mapping[int, Decimal]
    maximum: Decimal


def summarise(values_fen: np.ndarray) -> Summary:
    """Mean (half-up to the fen) and percentiles (the draw at or above each, in fen)."""
    count = values_fen.shape[0]
    total = int(values_fen.sum())
    mean = half_up(Decimal(total) / Decimal(count) * FEN)
    ordered = np.sort(values_fen)
    percentiles = {}
    for q in PERCENTILES:
        # Nearest rank: the smallest value with at least q% of the draws at or below it.
        rank = max(1, -(-q * count // 100))
        percentiles[q] = (Decimal(int(ordered[rank - 1])) * FEN).quantize(FEN)
    return Summary(mean, percentiles, (Decimal(int(ordered[-1])) * FEN).quantize(FEN))


def dues_of_draw(exposures: Sequence[Exposure], defaults_row: np.ndarray) -> dict[str, Decimal]:
    """The claims of one Monte Carlo draw, for :func:`run`."""
    return dues_for_loans(exposures, [e.loan for e, hit in zip(exposures, defaults_row) if hit])
