"""Synthetic ledgers of any program in rules.yaml: nothing here is written per program.

:class:`ProgramSynthesizer` reads everything it needs from each program's block of
rules.yaml, through the engine's own loader (:func:`zhubaodai.core.rules.load_rules`) and
its dated parameters (:meth:`zhubaodai.core.rules.Param.at`), and writes with the
bookkeeper of :mod:`zhubaodai.scripts.ledgergen` (:class:`Book`, :class:`Timeline`):

* the account of each role (deposit sub-accounts per loan under ``deposits``);
* the fee: ``fee.rate``/``fee.increase``/``fee.renewal`` through the engine's own
  :func:`zhubaodai.checks.fees.schedule_of` and :func:`fee_due` (rate, schedule by
  collateral, loan type and term, base contract amount or credit line; no rule: no fee);
* eligibility: register facts meeting each criterion the program declares (zone, size,
  innovation, roster, assessment, credit);
* caps: the smallest of ``loan.amount``'s and ``loan.amount_general``'s maxima, the terms of
  ``loan.term``/``loan.term_general``, ``loan.rate``, ``loan.collateral``, ``loan.purpose``;
* deadlines (working days or days): notices, the compensation deadline by its anchor and
  grace months;
* compensation: ``comp.waterfall`` (risk share, guarantee basis ``own_fees``) or
  ``comp.shares`` (a table of parties, outside parties' ``<party>_share``), with the trigger
  of ``comp.scope`` (overdue, npl, confirmation) and its components; deposits pay first
  (``deposit.pledge``/``release``/``use``); ``comp.escalation`` decisions; recoveries in
  every program: where ``recovery.order`` or ``comp.shares`` distributes them the engine
  itself computes the parts (:meth:`Book.recovery_parts`), and with comp.shares'
  ``residual`` the loss after recovery is shared in a ``loss`` event
  (:func:`zhubaodai.checks.waterfall.split_shares`); without either rule the net recovery
  returns to the funds in proportion to what each paid (an assumption: nothing checks it);
* the risk fund: its floor (``risk.floor`` on outstanding, lent or expected volume),
  ``risk.leverage``, ``risk.cap``, ``risk.topup``, several funders (``risk.funders``:
  every injection keeps each funder's running total at its largest-remainder share),
  ``risk.leverage_floor`` (the fund is kept small against the loans);
* outflows (``outflow.subsidy`` within its rate and annual cap) and the payout caps
  (``comp.rate_cap``, ``comp.fee_cap`` with ``guarantee_fee`` events): a loan defaults only
  where the caps leave room, and where the guarantee fund bears a share of a table
  (comp.shares) only within what it holds less the parts reserved for the defaults planned
  before (it cannot be topped up: fees come only from enterprises);
  ``loan.portfolio_stop``: approvals wait while the overdue rate is near the stop, and a
  compensated loan is settled;
* evidence.missing with documents required: placeholder files beside the ledger.

A program opens on the later of the run's start and its effective date; no loan is approved
within 60 days of the first date one of its parameters ends (``null`` in rules.yaml).
"""

from __future__ import annotations

import bisect
import datetime
import hashlib
import random
import time
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from decimal import ROUND_CEILING
from decimal import ROUND_DOWN
from decimal import Decimal
from pathlib import Path
from typing import Any

from zhubaodai.checks import evidence
from zhubaodai.checks import fees
from zhubaodai.checks import waterfall
from zhubaodai.core.engine import GUARANTEE
from zhubaodai.core.engine import RISK
from zhubaodai.core.money import ZERO
from zhubaodai.core.money import half_up
from zhubaodai.core.money import largest_remainder
from zhubaodai.core.money import percent
from zhubaodai.core.money import yuan
from zhubaodai.core.rules import ParamDateError
from zhubaodai.core.rules import PartyShare
from zhubaodai.core.rules import Program
from zhubaodai.scripts.ledgergen import INTEREST_MONTHS
from zhubaodai.scripts.ledgergen import SETTLEMENT_DAY
from zhubaodai.scripts.ledgergen import Book
from zhubaodai.scripts.ledgergen import GenerationError
from zhubaodai.scripts.ledgergen import GenerationStats
from zhubaodai.scripts.ledgergen import LetterRef
from zhubaodai.scripts.ledgergen import Number
from zhubaodai.scripts.ledgergen import Step
from zhubaodai.scripts.ledgergen import Style
from zhubaodai.scripts.ledgergen import Timeline
from zhubaodai.scripts.ledgergen import add_months
from zhubaodai.scripts.ledgergen import controller
from zhubaodai.scripts.ledgergen import meta_lines
from zhubaodai.scripts.ledgergen import credit_code
from zhubaodai.scripts.ledgergen import enterprise_name
from zhubaodai.scripts.ledgergen import workdays

ONE_DAY = datetime.timedelta(days=1)
#: No approval this close to the day a parameter of the program ends.
CLOSING_MARGIN = datetime.timedelta(days=60)
PEAK = Decimal("1.25")  # a loan's peak principal: amount plus at most 25% increase
HUNDRED = Decimal("100000")
#: Where the placeholder evidence files go, beside the ledger (evidence.missing).
EVIDENCE_FOLDER = "evidence"


def value(program: Program, rule_id: str, name: str, day: datetime.date) -> Any:
    """A parameter in force on ``day``; None where the program lacks the rule or the
    parameter, or where it is not in force (before its first date, or ended)."""
    rule = program.rules.get(rule_id)
    if rule is None or name not in rule.params:
        return None
    try:
        return rule.params[name].at(day)
    except ParamDateError:
        return None


def requires_evidence(program: Program) -> bool:
    """Whether evidence.missing requires documents on some day (then the generator writes
    placeholder files beside the ledger, so it needs a file, not a stream)."""
    rule = program.rules.get(evidence.RULE)
    return rule is not None and "required" in rule.params and any(rule.params["required"].values)


def closing_day(program: Program) -> datetime.date | None:
    """The first day one of the program's parameters ends (``null``), if any."""
    ends = [d for rule in program.rules.values() for p in rule.params.values() for d, v in zip(p.dates, p.values) if v is None]
    return min(ends, default=None)


def first_day(program: Program) -> datetime.date:
    """The first day every parameter of the program is in force (and its effective date)."""
    starts = [p.dates[0] for rule in program.rules.values() for p in rule.params.values() if p.dates]
    return max([program.effective, *starts])


def ceil_to(amount: Decimal, step: Decimal = HUNDRED) -> Decimal:
    return ((amount / step).to_integral_value(rounding=ROUND_CEILING) * step).quantize(Decimal("0.01"))


def round_to(value: float, step: int = 100000) -> Decimal:
    return Decimal(max(int(round(value / step)), 1) * step).quantize(Decimal("0.01"))


@dataclass
class _Enterprise:
    __slots__ = ("index", "valid", "fees", "used")
    index: int
    valid: int  # innovation: the certificate's valid-until ordinal (0: not on that path)
    fees: Decimal  # fees paid in (own_fees)
    used: Decimal  # what the guarantee fund paid for its loans


@dataclass
class _Pool:
    """What the generator keeps of one program while it writes."""

    code: str
    program: Program
    style: Style
    opens: datetime.date
    last_loan_day: datetime.date
    exposure: Decimal = ZERO  # planned peak principal of the loans not yet settled
    lent: Decimal = ZERO  # planned principal lent (amounts and increases)
    expected: Decimal = ZERO  # this year's declared volume (risk.floor on expected_volume)
    volume: dict[int, Decimal] = field(default_factory=dict)
    outstanding: dict[str, Decimal] = field(default_factory=dict)  # the register's balances
    late: dict[str, Decimal] = field(default_factory=dict)  # overdue principal, not settled
    idle: list[_Enterprise] = field(default_factory=list)
    enterprises: int = 0
    loan_numbers: dict[int, int] = field(default_factory=dict)
    funders: dict[str, Decimal] = field(default_factory=dict)
    subsidies: dict[int, Decimal] = field(default_factory=dict)
    guarantee_fees: Decimal = ZERO
    committed_pool: Decimal = ZERO  # payout caps: what planned defaults may cost the pool
    committed_outside: Decimal = ZERO  # … and the guarantor
    reserved_guarantee: Decimal = ZERO  # the guarantee fund's parts of planned table compensations
    defaults: int = 0
    opened: bool = False


@dataclass
class _Loan:
    """One loan being written (its steps, run one after the other)."""

    id: str
    code: str
    ent: _Enterprise
    payer: str
    amount: Decimal  # as approved
    steps: list[Step]
    index: int = 0
    claim: dict[str, Decimal] = field(default_factory=dict)
    deposit: Decimal = ZERO
    plan_due: Decimal = ZERO  # the compensation's base (the claim's components in scope)
    plan_paid: Decimal = ZERO  # what the pool's funds paid of it
    plan_guarantee: Decimal = ZERO  # … of which the guarantee fund
    plan_bank: Decimal = ZERO
    parts: Mapping[str, Decimal] = field(default_factory=dict)
    claim_evidence: Mapping[str, str] = field(default_factory=dict)  # evidence.missing: the claim's file


class ProgramSynthesizer:
    """Plans and writes a synthetic pool of the given programs, loans arriving day by day
    (see the module docstring). ``transactions`` or ``loans`` sets the size."""

    def __init__(
        self,
        book: Book,
        rng: random.Random,
        codes: tuple[str, ...],
        *,
        start: datetime.date,
        end: datetime.date,
        transactions: int | None,
        loans: int | None,
        progress: Callable[[int, int], None] | None = None,
        evidence_dir: Path | None = None,
    ) -> None:
        self.book = book
        self.evidence_dir = evidence_dir  # the ledger's folder / EVIDENCE_FOLDER (None: a stream)
        self.rng = rng
        self.cal = workdays()
        self.start = start
        self.end = end
        self.target_tx = transactions
        self.target_loans = loans
        self.progress = progress
        self.timeline = Timeline()
        self.stats = GenerationStats(start=start, end=end)
        self.pools: dict[str, _Pool] = {}
        for code in codes:
            program = book.program(code)
            opens = self.cal.on_or_after(max(start, first_day(program)))
            last = end - datetime.timedelta(days=45)
            closes = closing_day(program)
            if closes is not None:
                last = min(last, closes - CLOSING_MARGIN)
            self.pools[code] = _Pool(code, program, book.style(code), opens, last)
        self.codes = codes
        open_days = [
            o for o in range(start.toordinal(), end.toordinal() + 1)
            if any(p.opens.toordinal() <= o <= p.last_loan_day.toordinal() for p in self.pools.values())
        ]
        self._open_workdays = [o for o in open_days if self.cal.is_workday(datetime.date.fromordinal(o))]
        self.working_days = max(len(self._open_workdays), 1)
        self.loan_tx = 0  # transactions the loans approved so far write
        self.planned_tx = 0
        if transactions is not None:
            per_day = transactions / (1.15 * 0.9 * self.working_days)
        else:
            per_day = (loans or 0) / (0.9 * self.working_days)
        self.per_day = max(per_day, 0.02)
        self._next_report = 0

    def _add(self, day: datetime.date, n: int) -> datetime.date:
        """``n`` working days after ``day``; past the end of the books where the calendar
        does not reach (such a step is not written)."""
        try:
            return self.cal.add(day, n)
        except GenerationError:
            return max(day, self.end) + datetime.timedelta(days=400)

    def _on_or_after(self, day: datetime.date) -> datetime.date:
        try:
            return self.cal.on_or_after(day)
        except (GenerationError, IndexError):
            return max(day, self.end) + datetime.timedelta(days=400)

    # ---- parameters

    def p(self, code: str, rule_id: str, name: str, day: datetime.date) -> Any:
        return value(self.pools[code].program, rule_id, name, day)

    def has(self, code: str, rule_id: str) -> bool:
        return rule_id in self.pools[code].program.rules

    def account(self, code: str, role: str) -> str:
        return self.pools[code].program.accounts[role]

    def _after(self, code: str, day: datetime.date, rule_id: str, n: int) -> datetime.date:
        """The day ``n`` working days (or days, as the rule counts) after ``day``, never
        beyond the rule's own deadline."""
        limit = self.p(code, rule_id, "days", day)
        if limit is not None:
            return day + datetime.timedelta(days=min(n, int(limit)))
        limit = self.p(code, rule_id, "workdays", day)
        if limit is not None:
            n = min(n, int(limit))
        return self._add(day, n)

    # ---- the run

    def run(self) -> GenerationStats:
        book = self.book
        started = time.monotonic()
        for code in self.codes:
            pool = self.pools[code]
            book.open_accounts(code, pool.opens)
            self.timeline.at(pool.opens, lambda d, c=code: self._open_program(d, c), Timeline.PROGRAM)
            self.timeline.quarterly(book, code, pool.opens, self.end)
            self.planned_tx += sum(
                1 for y in range(pool.opens.year, self.end.year + 1) for m in INTEREST_MONTHS
                if pool.opens < datetime.date(y, m, SETTLEMENT_DAY + 1) <= self.end
            )
            for year in range(pool.opens.year + 1, self.end.year + 1):
                self.timeline.at(datetime.date(year, 1, 1), lambda d, c=code: self._annual(d, c), Timeline.PROGRAM)
        first = min(p.opens for p in self.pools.values())
        self.timeline.at(self._add(first, 5), self._arrivals, Timeline.PROGRAM)
        self.timeline.run()
        self.stats.transactions = book.transactions
        self.stats.directives = book.directives
        self.stats.seconds = time.monotonic() - started
        if self.progress:
            self.progress(book.transactions, self.target_tx or book.transactions)
        return self.stats

    def _open_program(self, day: datetime.date, code: str) -> None:
        pool = self.pools[code]
        style = pool.style
        self.book.program_open(code, day, f"{style.manager}与{style.bank}合作协议（{day.year}年）")

        def first(d: datetime.date) -> None:
            pool.opened = True
            self._annual(d, code)
            if not self.has(code, "risk.leverage_floor"):
                target = self.p(code, "risk.topup", "target", d)
                first = target if target is not None else max(Decimal("3000000"), ceil_to(self._required(code, ZERO) * Decimal("1.2")))
                self._inject(d, code, first, "首期注入风险补偿金")

        self.timeline.at(self._add(day, 2), first, Timeline.PROGRAM)

    def _annual(self, day: datetime.date, code: str) -> None:
        """risk.floor on the expected volume: the year's plan is declared and covered."""
        if self.p(code, "risk.floor", "base", day) != "expected_volume":
            return
        pool = self.pools[code]
        year = day.year
        days = sum(1 for o in range(day.toordinal(), datetime.date(year, 12, 31).toordinal() + 1)
                   if self.cal.is_workday(datetime.date.fromordinal(o)))
        share = 1 / len(self.codes)
        estimate = Decimal(self.per_day * share * days) * Decimal("1600000") * Decimal("1.2")
        expected = max(estimate, pool.volume.get(year - 1, ZERO) * Decimal("1.1"), Decimal("1000000"))
        pool.expected = round_to(float(expected), 1000000)
        self.book.register(
            day, "program", "plan", code,
            {"expected_volume": pool.expected, "year": year, "letter": LetterRef(f"{code}年度计划函")}, code=code,
        )
        self._cover(day, code, ZERO)

    def _done(self) -> bool:
        if self.target_tx is not None:
            return self.planned_tx >= self.target_tx
        return self.stats.loans >= (self.target_loans or 0)

    def _arrivals(self, day: datetime.date) -> None:
        if self._done():
            return
        open_codes = [c for c, p in self.pools.items() if p.opened and p.opens < day <= p.last_loan_day]
        if open_codes:
            season = (0.6, 0.8, 1.2, 1.0, 1.0, 1.1, 1.0, 0.9, 1.1, 1.0, 1.1, 1.2)[day.month - 1]
            if self.target_tx is not None and self.stats.loans >= 20:
                # Programs differ in transactions per loan (none without a fee): the rate of
                # approvals follows what the loans so far write, to reach the target at
                # about 90% of the period.
                per_loan = max(self.loan_tx / self.stats.loans, 0.2)
                left = self.working_days - bisect.bisect_left(self._open_workdays, day.toordinal())
                self.per_day = max((self.target_tx - self.planned_tx) / (per_loan * max(left * 0.9, 1)), 0.02)
            lam = self.per_day * season
            count = int(lam) + (1 if self.rng.random() < lam - int(lam) else 0)
            for _ in range(count):
                if self._done():
                    break
                first = self.rng.choice(open_codes)
                # A program that refuses today (its risk fund at risk.cap, approvals stopped
                # by loan.portfolio_stop) leaves the loan to another, as a bank would.
                if not self._approve(day, first):
                    for other in open_codes:
                        if other != first and self._approve(day, other):
                            break
            self._report()
        if day < max(p.last_loan_day for p in self.pools.values()):
            self.timeline.at(self._add(day, 1), self._arrivals, Timeline.PROGRAM)

    def _report(self) -> None:
        if self.progress is None:
            return
        written = self.book.transactions
        if written >= self._next_report:
            self.progress(written, self.target_tx or 0)
            self._next_report = written + max((self.target_tx or 100000) // 200, 500)

    # ---- the risk fund

    def _required(self, code: str, extra: Decimal) -> Decimal:
        """What the risk fund should hold for the loans planned plus ``extra``."""
        pool = self.pools[code]
        day = pool.opens
        exposure = pool.exposure + extra
        # risk.leverage_floor: the loans must stay a multiple of the fund, so it holds no
        # reserve: each compensation's part is injected just before it (see _ensure).
        # risk.topup: the fund is kept at its target (topped up after each compensation).
        fixed = self.has(code, "risk.leverage_floor") or self.has(code, "risk.topup")
        need = ZERO if fixed else exposure / 8
        rate = self.p(code, "risk.floor", "rate", day)
        base = self.p(code, "risk.floor", "base", day)
        if rate is not None:
            if base == "outstanding":
                need = max(need, exposure * rate * Decimal("1.1"))
            elif base == "lent":
                need = max(need, (pool.lent + extra) * rate * Decimal("1.1"))
            elif base == "expected_volume":
                need = max(need, pool.expected * rate * Decimal("1.1"))
        leverage = self.p(code, "risk.leverage", "multiple", day)
        if leverage:
            need = max(need, exposure / leverage * Decimal("1.25"))
        target = self.p(code, "risk.topup", "target", day)
        if target is not None:
            need = max(need, target)
        return need

    def _cover(self, day: datetime.date, code: str, extra: Decimal) -> bool:
        """Top the risk fund up where the loans planned (plus ``extra``) need it; False where
        ``risk.cap`` leaves no room."""
        risk = self.book.balance_of(code, RISK)
        need = self._required(code, extra)
        if risk >= need:
            return True
        top = ceil_to(need * Decimal("1.2") - risk, Decimal("1000000"))
        top = self._room(day, code, top)
        if top <= 0:
            return False
        self._inject(day, code, top, "追加注入风险补偿金")
        return risk + top >= need

    def _room(self, day: datetime.date, code: str, amount: Decimal) -> Decimal:
        cap = self.p(code, "risk.cap", "max", day)
        if cap is None:
            return amount
        return min(amount, cap - self.book.state[code].injected)

    def _inject(self, day: datetime.date, code: str, amount: Decimal, narration: str) -> None:
        """Inject ``amount``: one entry, or with ``risk.funders`` one per funder so that
        each funder's running total is its largest-remainder share of the whole."""
        book = self.book
        pool = self.pools[code]
        shares = self.p(code, "risk.funders", "shares", day)
        state = book.state[code]
        accounts = (self.account(code, "risk_fund"), self.account(code, "injection"))
        letter = LetterRef(f"{code}财拨")
        if not shares:
            rows = [(pool.style.funder, amount, None)]
        else:
            total = state.injected + amount
            parts = largest_remainder(total, [share for _, share in shares])
            rows = [(f"{name}出资方", part - pool.funders.get(name, ZERO), name) for (name, _), part in zip(shares, parts)]
        for payer, part, funder in rows:
            if part <= 0:
                continue
            meta: dict[str, Any] = {"letter": letter}
            if funder is not None:
                meta["funder"] = funder
                pool.funders[funder] = pool.funders.get(funder, ZERO) + part
            book.transaction(day, code, payer, narration, [(accounts[0], part), (accounts[1], -part)], meta=meta)
            state.injected += part
            self.planned_tx += 1

    # ---- one loan

    def _approve(self, day: datetime.date, code: str) -> bool:
        """Approve a loan in ``code`` on ``day``; False where the program takes none today."""
        pool = self.pools[code]
        rng = self.rng
        stop = self.p(code, "loan.portfolio_stop", "max_overdue_rate", day)
        if stop is not None:
            total = sum(pool.outstanding.values(), ZERO)
            late = sum((min(v, pool.outstanding.get(k, ZERO)) for k, v in pool.late.items()), ZERO)
            if total > 0 and late >= half_up(total * stop) * Decimal("0.8"):
                return False
        cap = self._cap(code, day)
        value_ = rng.lognormvariate(14.3, 0.6)
        amount = round_to(min(max(value_, 200000.0), float(cap / PEAK)))
        if amount > cap / PEAK:
            amount = (cap / PEAK).quantize(Decimal("1")).quantize(Decimal("0.01"))
        peak = amount * PEAK
        if not self._cover(day, code, peak):
            return False
        ent = self._enterprise(code, day)
        loan = self._spec(code, ent, amount, day)
        pool.exposure += peak
        pool.volume[day.year] = pool.volume.get(day.year, ZERO) + amount
        written = sum(s.transactions for s in loan.steps)
        self.planned_tx += written
        self.loan_tx += written
        self.stats.loans += 1
        if any(s.kind == "compensation" for s in loan.steps):
            self.stats.defaults += 1
        if any(s.kind == "recovery" for s in loan.steps):
            self.stats.recoveries += 1
        if any(s.kind == "recovery" for s in loan.steps) and (
            self.has(code, "recovery.order") or self.has(code, "comp.shares")
        ):
            self.book.watch(loan.id)  # the engine distributes its recovery (Book.recovery_parts)
        self._schedule(loan)
        return True

    def _cap(self, code: str, day: datetime.date) -> Decimal:
        caps = [self.p(code, "loan.amount", n, day) for n in ("max", "max_scorecard", "max_rating")]
        caps.append(self.p(code, "loan.amount_general", "max", day))
        found = [c for c in caps if c is not None]
        return min(found) if found else Decimal("5000000")

    def _enterprise(self, code: str, day: datetime.date) -> _Enterprise:
        """An enterprise free to borrow: one that has repaid before (its facts brought up
        to date), or a new one whose register facts meet each eligibility criterion."""
        pool = self.pools[code]
        rng = self.rng
        book = self.book
        criteria = self.p(code, "eligibility", "criteria", day) or ()
        if pool.idle and rng.random() < 0.6:
            k = rng.randrange(len(pool.idle))
            pool.idle[k], pool.idle[-1] = pool.idle[-1], pool.idle[k]
            ent = pool.idle.pop()
            if "innovation" in criteria and ent.valid < day.toordinal() + 400:
                until = datetime.date(day.year + 3, day.month, min(day.day, 28))
                book.register(day, "enterprise", "update", self._eid(code, ent),
                              {"hightech_cert": f"GR{day.year}{51100000 + ent.index % 99999:08d}", "hightech_until": until},
                              code=code)
                ent.valid = until.toordinal()
            return ent
        index = pool.enterprises
        pool.enterprises += 1
        self.stats.enterprises += 1
        sizes = self.p(code, "eligibility", "sizes", day) or ("小型", "微型")
        small = [s for s in sizes if s in ("小型", "微型")] or list(sizes)
        attrs: dict[str, Any] = {
            "credit_code": credit_code(pool.style.region_code, index),
            "size": rng.choice(small * 3 + list(sizes)),
        }
        ent = _Enterprise(index, 0, ZERO, ZERO)
        if "zone" in criteria:
            attrs["zone"] = True
        if "innovation" in criteria:
            until = datetime.date(day.year + 3, day.month, min(day.day, 28))
            attrs["hightech_cert"] = f"GR{day.year}{51100000 + index % 99999:08d}"
            attrs["hightech_until"] = until
            ent.valid = until.toordinal()
        if "roster" in criteria:
            attrs["roster"] = LetterRef(f"{code}名册")
        if "assessment" in criteria:
            least = self.p(code, "eligibility", "min_score", day)
            if least is not None:
                attrs["score"] = rng.randint(int(least) + 1, max(int(least) + 2, 95))
            else:
                attrs["rating"] = "AAA"
        if "credit" in criteria:
            attrs["credit_clean"] = True
        book.enterprise(code, self._eid(code, ent), day, enterprise_name(code, index), **attrs)
        return ent

    def _eid(self, code: str, ent: _Enterprise) -> str:
        return f"{self.pools[code].style.enterprise_prefix}-{ent.index + 1:06d}"

    def _term(self, code: str, day: datetime.date) -> int:
        most = [m for m in (self.p(code, "loan.term", "months", day), self.p(code, "loan.term_general", "months", day)) if m]
        limit = int(min(most)) if most else 12
        terms = [t for t in (12, 12, 12, 9, 6, 24, 36) if t <= limit] or [limit]
        return self.rng.choice(terms)

    def _rate(self, code: str, day: datetime.date) -> Decimal:
        bench = self.p(code, "loan.rate", "benchmark", day)
        spread = Decimal(self.rng.choice((0, 10, 20, 30, 45, 60))) / 10000
        if bench is None:
            return Decimal("0.0385") + spread
        multiple = self.p(code, "loan.rate", "multiple", day) or Decimal("1.2")
        cap = (bench * multiple).quantize(Decimal("0.0001"), rounding=ROUND_DOWN)
        return min(bench + spread, cap)

    def _fee(self, code: str, rule_id: str, kind: str, day: datetime.date, amount: Decimal,
             facts: Mapping[str, Any], years: int) -> tuple[Decimal, str]:
        """The fee due for an event, by the engine's schedule (zero without the rule)."""
        program = self.pools[code].program
        rule = program.rules.get(rule_id)
        if rule is None:
            return ZERO, ""
        schedule = fees.schedule_of(
            lambda name: value(program, rule_id, name, day) if name in rule.params else None,
            kind, amount, facts.get, lambda: years,
        )
        if schedule is None:
            return ZERO, ""
        due = fees.fee_due(schedule.base, schedule.rate) * schedule.years
        text = f"{schedule.base_label} {yuan(schedule.base)} 元 × {percent(schedule.rate)}"
        return due, text

    def _spec(self, code: str, ent: _Enterprise, amount: Decimal, day: datetime.date) -> _Loan:
        """The loan's whole life, as dated steps."""
        rng = self.rng
        pool = self.pools[code]
        style = pool.style
        year = day.year
        n = pool.loan_numbers.get(year, 0) + 1
        pool.loan_numbers[year] = n
        loan_id = f"{style.loan_prefix}-{year}-{n:06d}"
        payer = enterprise_name(code, ent.index)
        steps: list[Step] = []

        def reg(d: datetime.date, event: str, meta: Mapping[str, Any], kind: str = "loan", subject: str = loan_id) -> None:
            steps.append(Step(d, "register", {"kind": kind, "event": event, "subject": subject, "meta": meta}))

        term = self._term(code, day)
        years = max(1, -(-term // 12))
        fee_day = self._add(day, rng.randint(1, 3))
        contract_day = self._add(fee_day, rng.randint(0, 2))
        disb = self._add(contract_day, rng.randint(0, 2))
        maturity = add_months(disb, term)
        facts: dict[str, Any] = {}
        approval: dict[str, Any] = {
            "program": code, "enterprise": self._eid(code, ent), "amount": amount,
            "letter": LetterRef(style.approval_issuer), "term_months": term,
        }
        purposes = self.p(code, "loan.purpose", "purposes", day)
        approval["purpose"] = purposes[0] if purposes else "流动资金"
        contract: dict[str, Any] = {"amount": amount, "contract_no": style.contract_style.format(year=year, n=n),
                                    "maturity": maturity, "rate": Number(self._rate(code, contract_day))}
        if self.p(code, "fee.rate", "base", day) == "credit_line":
            facts["credit_line"] = approval["credit_line"] = amount
        if self.p(code, "fee.rate", "credit_rate", day) is not None:
            facts["loan_type"] = contract["loan_type"] = rng.choice(("信用", "保证", "保证", "抵押"))
        secured_from = self.p(code, "fee.rate", "secured_from", day)
        collateral_rate = self.p(code, "loan.collateral", "rate", day)
        if collateral_rate is not None:
            contract["collateral"] = ceil_to(amount * (collateral_rate + Decimal("0.1")), Decimal("10000"))
            contract["joint_liability"] = controller(ent.index)
        elif secured_from is not None and rng.random() < 0.5:
            contract["collateral"] = ceil_to(amount * secured_from, Decimal("10000"))
        if "collateral" in contract:
            facts["collateral"] = contract["collateral"]
        reg(day, "approval", approval)
        due, text = self._fee(code, "fee.rate", "contract", contract_day, amount, facts, years)
        if due:
            steps.append(Step(fee_day, "fee", {"due": due, "text": f"缴纳助保金：{text}"}, transactions=1))
        deposit_rate = self.p(code, "deposit.pledge", "rate", disb)
        deposit = fees.fee_due(amount, deposit_rate) if deposit_rate is not None else ZERO
        if deposit:
            steps.append(Step(day, "open_deposit", {}))
            steps.append(Step(fee_day, "pledge", {"amount": deposit}, transactions=1))
        reg(contract_day, "contract", contract)
        if self.has(code, "comp.fee_cap"):
            gfee = half_up(amount * Decimal("0.01")) * years
            pool.guarantee_fees += gfee
            reg(contract_day, "guarantee_fee", {"amount": gfee, "guarantor": f"{style.region}融资担保有限公司",
                                                "period": f"贷款期限内（年化 1%，{years} 年）"})
        disb_meta: dict[str, Any] = {"amount": amount, "maturity": maturity}
        disb_meta["notice_date"] = self._after(code, disb, "notice.disbursement", rng.randint(1, 2))
        reg(disb, "disbursement", disb_meta)
        pool.lent += amount
        principal = amount
        subsidy_rate = self.p(code, "outflow.subsidy", "rate", disb)
        if subsidy_rate is not None and rng.random() < 0.5:
            sday = self._add(disb, rng.randint(5, 30))
            part = fees.fee_due(amount, subsidy_rate)
            annual = self.p(code, "outflow.subsidy", "annual_cap", sday)
            used = pool.subsidies.get(sday.year, ZERO)
            if sday <= self.end and self.p(code, "outflow.subsidy", "rate", sday) is not None and (
                annual is None or used + part <= annual
            ):
                pool.subsidies[sday.year] = used + part
                steps.append(Step(sday, "subsidy", {"amount": part}, transactions=1))
        changed = False  # an increase or a repayment before maturity
        roll = rng.random()
        if roll < 0.08 and term >= 9 and not deposit and maturity < pool.last_loan_day:
            inc_day = self._on_or_after(add_months(disb, rng.randint(2, term - 4)))
            if disb < inc_day < maturity and inc_day <= self.end:
                inc = round_to(float(amount) * rng.uniform(0.1, 0.25))
                inc_due, inc_text = self._fee(code, "fee.increase", "increase", inc_day, inc, facts, years)
                if inc_due:
                    steps.append(Step(self._add(inc_day, -1), "fee", {"due": inc_due, "text": f"补缴助保金：{inc_text}"},
                                      transactions=1))
                meta: dict[str, Any] = {"amount": inc, "letter": LetterRef(style.approval_issuer)}
                if collateral_rate is not None:
                    meta["collateral"] = ceil_to((amount + inc) * (collateral_rate + Decimal("0.1")), Decimal("10000"))
                reg(inc_day, "increase", meta)
                changed = True
                principal += inc
                pool.lent += inc
        elif roll < 0.2 and term >= 9:
            rep = round_to(float(amount) * rng.uniform(0.1, 0.4))
            if rep < principal:
                reg(add_months(disb, rng.randint(3, term - 3)), "repayment", {"amount": rep})
                changed = True
                principal -= rep
        fate = rng.random()
        renewals = 0
        if 0.05 < fate < 0.25:
            renewals = rng.choice((1, 1, 2))
        for _ in range(renewals):
            if maturity > min(self.end, pool.last_loan_day):
                break
            months = self._term(code, maturity)
            if months > 12:
                months = 12
            new_maturity = add_months(maturity, months)
            ren_due, ren_text = self._fee(code, "fee.renewal", "renewal", maturity, principal, facts, 1)
            if ren_due:
                steps.append(Step(self._add(maturity, -1), "fee", {"due": ren_due, "text": f"缴纳助保金（续贷）：{ren_text}"},
                                  transactions=1))
            meta = {"amount": principal, "maturity": new_maturity,
                    "notice_date": self._after(code, maturity, "notice.renewal", 1),
                    "letter": LetterRef(style.approval_issuer), "rate": Number(self._rate(code, maturity))}
            if collateral_rate is not None:
                meta["collateral"] = ceil_to(principal * (collateral_rate + Decimal("0.1")), Decimal("10000"))
            reg(maturity, "renewal", meta)
            if self.has(code, "comp.fee_cap"):
                gfee = half_up(principal * Decimal("0.01"))
                pool.guarantee_fees += gfee
                reg(maturity, "guarantee_fee", {"amount": gfee, "guarantor": f"{style.region}融资担保有限公司",
                                                "period": "续贷年度（年化 1%）"})
            maturity = new_maturity
        defaults = pool.defaults == 0 and rng.random() < 0.5 or rng.random() < 0.02
        late = self.end - datetime.timedelta(days=20)
        if defaults and maturity > late and renewals == 0 and not changed and add_months(disb, 4) <= late:
            # A short window (a program that starts late): the loan falls due early, in
            # its fifth month (an instalment missed), so the books still show a default.
            maturity = add_months(disb, 4)
        fit, reserved = self._budget(code, principal, maturity) if defaults and maturity <= late else (ZERO, ZERO)
        if fit:
            if fit < principal:
                # Only part of the loan fits the payout caps: the rest is repaid first.
                reg(max(maturity - datetime.timedelta(days=20), disb + ONE_DAY), "repayment", {"amount": principal - fit})
                principal = fit
            pool.defaults += 1
            steps.extend(self._default_steps(code, loan_id, ent, principal, maturity, deposit, reserved))
        elif fate < 0.9 and maturity <= self.end:
            reg(maturity, "repayment", {"amount": principal})
            reg(maturity, "settlement", {})
            steps.append(Step(maturity, "settled", {}))
            if deposit:
                steps.append(Step(maturity + ONE_DAY, "release", {"amount": deposit}, transactions=1))
        steps.sort(key=lambda s: s.day)  # stable: same-day steps keep their order
        return _Loan(loan_id, code, ent, payer, amount, [s for s in steps if s.day <= self.end], deposit=deposit)

    def _budget(self, code: str, principal: Decimal, day: datetime.date) -> tuple[Decimal, Decimal]:
        """The largest principal (at most ``principal``, in 10,000s) whose default stays
        within the payout caps (comp.rate_cap, comp.fee_cap), counting the defaults planned
        so far, reserved; zero where less than 100,000 fits. With the guarantee fund in the
        table of parties, also within what that fund holds now less the parts of the
        compensations planned and not yet paid (fees come only from enterprises: the fund
        cannot be topped up as the risk fund is); the second figure is this loan's
        reservation of it, released when its compensation is paid."""
        pool = self.pools[code]
        margin = Decimal("1.1")  # interest and rounding on top of the principal
        table = self.p(code, "comp.shares", "parties", day)
        if table:
            mine = sum((row.share for row in table if row.pool and not row.rest), ZERO) * margin or margin
            outside = sum((row.share for row in table if not row.pool and not row.rest), ZERO) * margin
        else:
            mine, outside = margin, ZERO
        room = principal
        rate = self.p(code, "comp.rate_cap", "rate", day)
        if rate is not None:
            limit = pool.lent * rate
            room = min(room, (limit - pool.committed_pool) / mine)
            if outside:
                room = min(room, (limit - pool.committed_outside) / outside)
        multiple = self.p(code, "comp.fee_cap", "multiple", day)
        if multiple is not None:
            room = min(room, (pool.guarantee_fees * multiple - pool.committed_pool - pool.committed_outside) / (mine + outside))
        own = next((row.share for row in table if row.party == "guarantee"), ZERO) * margin if table else ZERO
        if own:
            room = min(room, self._guarantee_free(code) / own)
        fit = (room / 10000).to_integral_value(rounding=ROUND_DOWN) * 10000 if room < principal else principal
        if fit < HUNDRED:
            return ZERO, ZERO
        fit = fit.quantize(Decimal("0.01"))
        pool.committed_pool += fit * mine
        pool.committed_outside += fit * outside
        reserved = fit * own
        pool.reserved_guarantee += reserved
        return fit, reserved

    def _guarantee_free(self, code: str) -> Decimal:
        """What the guarantee fund holds beyond the parts reserved for planned compensations."""
        return self.book.balance_of(code, GUARANTEE) - self.pools[code].reserved_guarantee

    def _default_steps(self, code: str, loan_id: str, ent: _Enterprise, principal: Decimal,
                       maturity: datetime.date, deposit: Decimal, reserved: Decimal) -> list[Step]:
        rng = self.rng
        style = self.pools[code].style
        steps: list[Step] = []

        def reg(d: datetime.date, event: str, meta: Mapping[str, Any]) -> None:
            steps.append(Step(d, "register", {"kind": "loan", "event": event, "subject": loan_id, "meta": meta}))

        overdue = maturity + ONE_DAY
        days = rng.randint(20, 95)
        interest = half_up(principal * Decimal("0.045") * days / 360)
        components = self.p(code, "comp.scope", "components", overdue) or waterfall.DEFAULT_COMPONENTS
        trigger = self.p(code, "comp.scope", "trigger", overdue) or "overdue"
        overdue_days = self.p(code, "comp.scope", "overdue_days", overdue)
        claim: dict[str, Any] = {"principal": principal}
        if "interest" in components:
            claim["interest"] = interest
        if "compound" in components:
            claim["compound"] = half_up(interest * Decimal("0.045") * days / 360)
        if "penalty" in components:
            claim["penalty"] = half_up(principal * Decimal("0.0225") * 30 / 360)
        reg(overdue, "overdue", {"principal": principal, "interest": interest})
        steps.append(Step(overdue, "late", {"principal": principal}))
        ready = overdue
        if overdue_days:
            ready = overdue + datetime.timedelta(days=int(overdue_days))
        if trigger == "npl":
            ready = self._add(ready, 1)
            reg(ready, "npl", {"classification": "次级", "principal": principal, "letter": LetterRef(style.bank_issuer)})
        confirm = self._add(ready, 1)
        reg(confirm, "confirmation", {"letter": LetterRef(style.confirm_issuer)})
        anchor = self.p(code, "comp.deadline", "anchor", confirm)
        grace = self.p(code, "comp.deadline", "grace_months", confirm)
        if grace:
            base = {"overdue": overdue, "confirmation": confirm}.get(anchor, confirm)
            begin = max(add_months(base, int(grace)), confirm + ONE_DAY)
            claim_day = self._on_or_after(begin)
            comp_day = self._add(claim_day, 1)
        elif self.p(code, "comp.deadline", "days", confirm) is not None:
            claim_day = confirm + ONE_DAY
            comp_day = claim_day + ONE_DAY
        else:
            claim_day = self._add(confirm, 1)
            comp_day = self._add(claim_day, 1)
        claim["letter"] = LetterRef(style.bank_issuer)
        claim["approval"] = f"{style.approver}审核同意（{self._add(comp_day, -1)}）"
        if deposit:
            steps.append(Step(claim_day, "deposit_use", {"due": principal + interest}, transactions=1))
        reg(claim_day, "claim", claim)
        steps.append(Step(comp_day, "compensation", {"claim": claim, "reserved": reserved}, order=overdue.toordinal(),
                          transactions=1))
        settle = self.has(code, "loan.portfolio_stop")
        if self.has(code, "blacklist") and rng.random() < 0.3:
            steps.append(Step(self._add(comp_day, rng.randint(5, 30)), "register",
                              {"kind": "enterprise", "event": "blacklist", "subject": self._eid(code, ent),
                               "meta": {"reason": "恶意逃废债务，经催收拒不履行还款义务"}}))
        ended = comp_day  # recovery ends (comp.shares' residual: the loss is shared then)
        room = (self.end - comp_day).days - 10  # a late default is recovered sooner, within the books
        if rng.random() < 0.45 and room >= 20:
            rec_day = comp_day + datetime.timedelta(days=rng.randint(min(60, room), min(300, room)))
            cash_day = self._add(rec_day, rng.randint(1, 3))
            if cash_day <= self.end:
                steps.append(Step(rec_day, "recovery", {
                    "costs": round_to(float(principal) * rng.uniform(0.005, 0.02), 100),
                    "fraction": Decimal(str(round(rng.uniform(0.1, 0.9), 2))),
                }))
                steps.append(Step(cash_day, "recovery_cash", {}, transactions=1))
                ended = cash_day
        if self.p(code, "comp.shares", "residual", comp_day) is not None and (ended > comp_day or rng.random() < 0.3):
            loss_day = self._add(ended, rng.randint(20, 60))
            if loss_day <= self.end:
                steps.append(Step(loss_day, "loss", {}))
        if settle:
            reg(comp_day, "settlement", {})
            steps.append(Step(comp_day, "settled", {}))
        return steps

    # ---- writing a loan's steps

    def _schedule(self, loan: _Loan) -> None:
        if loan.index < len(loan.steps):
            step = loan.steps[loan.index]
            self.timeline.at(step.day, lambda day, ln=loan: self._step(ln), Timeline.LOAN, step.order)

    def _step(self, loan: _Loan) -> None:
        step = loan.steps[loan.index]
        self._write(loan, step)
        loan.index += 1
        if loan.index < len(loan.steps):
            self._schedule(loan)
        else:
            self.book.unwatch(loan.id)

    def _write(self, loan: _Loan, step: Step) -> None:
        book = self.book
        code = loan.code
        pool = self.pools[code]
        day = step.day
        data = step.data
        kind = step.kind
        if kind == "register":
            meta = data["meta"]
            if data["kind"] == "loan" and data["event"] in evidence.EVENT_KINDS:
                meta = self._evidence(code, day, f"{loan.id}-{data['event']}", book.resolved(meta, day))
                if data["event"] == "claim":
                    loan.claim_evidence = {k: meta[k] for k in (evidence.PATH_KEY, evidence.HASH_KEY) if k in meta}
            book.register(day, data["kind"], data["event"], data["subject"], meta, code=code,
                          loan=loan.id if data["kind"] == "loan" else None)
            event = data["event"]
            if data["kind"] != "loan":
                return
            balance = pool.outstanding.get(loan.id, ZERO)
            if event in ("disbursement", "increase"):
                pool.outstanding[loan.id] = balance + meta["amount"]
            elif event == "repayment":
                pool.outstanding[loan.id] = balance - meta["amount"]
            elif event == "renewal":
                pool.outstanding[loan.id] = meta["amount"]
            elif event == "settlement":
                pool.outstanding.pop(loan.id, None)
                pool.late.pop(loan.id, None)
        elif kind == "fee":
            book.transaction(day, code, loan.payer, data["text"],
                             [(self.account(code, "guarantee_fund"), data["due"]), (self.account(code, "fee_income"), -data["due"])],
                             links=(loan.id,), loan=loan.id)
            loan.ent.fees += data["due"]
        elif kind == "open_deposit":
            account = f"{self.account(code, 'deposits')}:{loan.id}"
            book.sink.write(code, day, f"{day} open {account:<38} CNY  ; {loan.payer}\n", "accounts")
            book.directives += 1
        elif kind in ("pledge", "release"):
            account = f"{self.account(code, 'deposits')}:{loan.id}"
            amount = data["amount"] if kind == "pledge" else -data["amount"]
            what = "存单质押" if kind == "pledge" else "存单解押"
            book.transaction(day, code, loan.payer, f"{what} {loan.id}",
                             [(account, amount), (self.account(code, "deposit_source"), -amount)], links=(loan.id,), loan=loan.id)
        elif kind == "deposit_use":
            # The deposit pays first, at most the overdue principal and interest (a deposit is
            # a few per cent of the loan, so in practice all of it).
            account = f"{self.account(code, 'deposits')}:{loan.id}"
            used = min(loan.deposit, data["due"])
            loan.claim["deposit"] = used
            book.transaction(day, code, pool.style.bank, f"存单先行代偿 {loan.id}",
                             [(account, -used), (self.account(code, "compensation_deposit"), used)], links=(loan.id,), loan=loan.id)
        elif kind == "subsidy":
            self._cover(day, code, data["amount"])
            book.transaction(day, code, f"{pool.style.region}融资担保有限公司", f"担保费奖补 {loan.id}",
                             [(self.account(code, "risk_fund"), -data["amount"]),
                              (self.account(code, "outflow_subsidy"), data["amount"])],
                             links=(loan.id,), meta={"letter": LetterRef(f"{code}奖补函")}, loan=loan.id)
        elif kind == "late":
            pool.late[loan.id] = data["principal"]
        elif kind == "settled":
            pool.exposure = max(pool.exposure - loan.amount * PEAK, ZERO)
            if not any(s.kind == "compensation" for s in loan.steps):
                pool.idle.append(loan.ent)
        elif kind == "compensation":
            self._compensate(loan, step)
        elif kind == "recovery":
            self._recovery(loan, day, data)
        elif kind == "recovery_cash":
            book.recovery_cash(day, code, loan.id, loan.parts)
        elif kind == "loss":
            # comp.shares' residual: what the pool's funds paid less what recoveries brought
            # back, split by the table with the engine's own function.
            table: tuple[PartyShare, ...] = self.p(code, "comp.shares", "residual", day)
            loss = loan.plan_paid - sum(loan.parts.values(), ZERO)
            if table and loss > 0:
                parts = waterfall.split_shares(loss, table)
                meta: dict[str, Any] = {"letter": LetterRef(f"{pool.style.region}损失分担纪要")}
                meta.update({row.meta_key: parts[row.party] for row in table})
                book.register(day, "loan", "loss", loan.id, meta, code=code, loan=loan.id)
        else:
            raise AssertionError(kind)

    def _recovery(self, loan: _Loan, day: datetime.date, data: Mapping[str, Any]) -> None:
        """A recovery and the pool's parts of it. Where the program distributes recoveries
        (recovery.order, comp.shares) the engine computes the parts from what has been
        written about the loan; without such a rule the net recovery (recovered less costs)
        returns to the pool's funds in proportion to what each paid, largest remainder to
        the fen (an assumption of the generator: the rules say nothing, the engine checks
        nothing)."""
        book = self.book
        code = loan.code
        style = self.pools[code].style
        ordered = self.has(code, "recovery.order")
        # What the debtor pays back: with a table of parties a share of the claim itself
        # (comp.shares' shrink reads it as principal repaid), else of what the pool paid on
        # top of the bank's borne share (repaid first under recovery.order).
        if self.has(code, "comp.shares"):
            recovered = data["costs"] + half_up(loan.plan_due * data["fraction"])
        else:
            bank = loan.plan_bank if ordered else ZERO  # no order: the bank recovers its own
            recovered = data["costs"] + bank + half_up(loan.plan_paid * data["fraction"])
        meta: dict[str, Any] = {"recovered": recovered, "costs": data["costs"]}
        deductions = self.p(code, "recovery.order", "deductions", day) or ("costs",)
        if "penalty" in deductions:
            penalty = half_up(loan.amount * Decimal("0.005"))
            meta["penalty"] = penalty
            meta["recovered"] = recovered + penalty
        meta["letter"] = book.letters.resolve(LetterRef(style.bank_issuer), day)
        if ordered or self.has(code, "comp.shares"):
            text = f'{day} custom "loan" "recovery" "{loan.id}"\n' + meta_lines(meta)
            loan.parts = book.recovery_parts(loan.id, text).parts
        else:
            net = recovered - data["costs"]
            paid = {"guarantee": loan.plan_guarantee, "risk": loan.plan_paid - loan.plan_guarantee}
            loan.parts = dict(zip(paid, largest_remainder(net, list(paid.values()))))
        book.register(day, "loan", "recovery", loan.id, meta, code=code, loan=loan.id)

    def _compensate(self, loan: _Loan, step: Step) -> None:
        """The pool's compensation: by comp.shares' table, else the waterfall (deposit and
        own fees first), else all from the pool's funds."""
        book = self.book
        code = loan.code
        pool = self.pools[code]
        day = step.day
        claim = step.data["claim"]
        components = self.p(code, "comp.scope", "components", day) or waterfall.DEFAULT_COMPONENTS
        due = sum((claim.get(c, ZERO) for c in components), ZERO)
        accounts = pool.program.accounts
        meta: dict[str, Any] = {}
        table: tuple[PartyShare, ...] | None = self.p(code, "comp.shares", "parties", day)
        postings: list[tuple[str, Decimal]] = []
        if table:
            parts = waterfall.split_shares(due, table)
            g, r = parts.get("guarantee", ZERO), parts.get("risk", ZERO)
            pool.reserved_guarantee -= step.data["reserved"]
            if g > book.balance_of(code, GUARANTEE):
                # _budget keeps the fund's part reserved from approval on: this is a bug.
                raise GenerationError(
                    f"贷款 {loan.id} 代偿时助保金余额 {yuan(book.balance_of(code, GUARANTEE))} 元"
                    f"不足以支付其分担部分 {yuan(g)} 元（生成器预留不足）"
                )
            self._ensure(day, code, r)
            for row in table:
                if not row.pool and parts[row.party]:
                    meta[row.meta_key] = parts[row.party]
            plan = waterfall.Waterfall(due, g, r, ZERO, ZERO)
            how = "按分担表补偿"
        else:
            pool_due = due - loan.claim.get("deposit", ZERO)
            share = self.p(code, "comp.waterfall", "risk_share", day)
            available = book.balance_of(code, GUARANTEE)
            if self.p(code, "comp.waterfall", "guarantee_basis", day) == "own_fees":
                available = min(available, max(loan.ent.fees - loan.ent.used, ZERO))
            if share is None:
                share = Decimal(1)
            shortfall = pool_due - min(pool_due, max(available, ZERO))
            self._ensure(day, code, half_up(shortfall * share))
            plan = waterfall.plan_waterfall(pool_due, available, book.balance_of(code, RISK), share)
            if plan.risk and plan.bank and self.has(code, "comp.waterfall"):
                meta["bank_share"] = plan.bank
            if plan.uncovered > 0 and self.has(code, "comp.escalation"):
                n = book.letters.number(f"committee-{code}", day.year)
                decision = {"decision": pool.style.committee_style.format(year=day.year, n=n), "amount": plan.uncovered}
                book.register(day, "loan", "committee", loan.id, self._evidence(code, day, f"{loan.id}-committee", decision),
                              code=code, loan=loan.id)
            how = "助保金全额代偿" if plan.shortfall == 0 else "助保金付尽，不足部分按比例分担"
            g, r = plan.guarantee, plan.risk
        if g:
            postings.append((accounts["compensation_guarantee"], g))
        if r:
            postings.append((accounts["compensation_risk"], r))
        if g:
            postings.append((accounts["guarantee_fund"], -g))
        if r:
            postings.append((accounts["risk_fund"], -r))
        loan.ent.used += g
        loan.plan_due = due
        loan.plan_paid = g + r
        loan.plan_guarantee = g
        loan.plan_bank = plan.bank if not table else ZERO
        if postings:
            if self.p(code, evidence.RULE, "required", day):
                # Paid on the claim's approved letter (its own file where the claim needed none).
                found = loan.claim_evidence or self._evidence(code, day, f"{loan.id}-compensation", claim)
                meta.update({k: found[k] for k in (evidence.PATH_KEY, evidence.HASH_KEY)})
            book.transaction(day, code, pool.style.bank, f"代偿 {loan.id}（{how}）", postings, links=(loan.id,),
                             meta=meta, loan=loan.id)
        if r:
            target = self.p(code, "risk.topup", "target", day)
            balance = book.balance_of(code, RISK)
            if target is not None and balance < target:
                room = self._room(day, code, ceil_to(target - balance, Decimal("100")))
                if room > 0:
                    self._inject(day, code, room, "代偿后补足风险补偿金")
            self._cover(day, code, ZERO)

    def _evidence(self, code: str, day: datetime.date, name: str, meta: Mapping[str, Any]) -> Mapping[str, Any]:
        """``meta`` with its authorising document (evidence.missing), where the program
        requires one on ``day``: a small placeholder file ``evidence/<name>.txt`` beside the
        ledger (saying it is no real scan, naming the event and its letter), its path
        relative to the ledger and its SHA-256, as the rule checks them."""
        if not self.p(code, evidence.RULE, "required", day):
            return meta
        if self.evidence_dir is None:
            raise GenerationError(f"项目 {code} 要求附授权文件（evidence.missing），请把账本写到文件")
        lines = ["合成账本的占位文件，不是真实的扫描件。", f"项目：{code}", f"事项：{name}（{day}）"]
        for key in ("letter", "decision", "approval"):
            if isinstance(meta.get(key), str):
                lines.append(f"{key}：{meta[key]}")
        data = ("\n".join(lines) + "\n").encode("utf-8")
        self.evidence_dir.mkdir(exist_ok=True)
        (self.evidence_dir / f"{name}.txt").write_bytes(data)
        return {**meta, evidence.PATH_KEY: f"{EVIDENCE_FOLDER}/{name}.txt", evidence.HASH_KEY: hashlib.sha256(data).hexdigest()}

    def _ensure(self, day: datetime.date, code: str, amount: Decimal) -> None:
        """Before a payment of ``amount`` from the risk fund: top it up where it lacks it."""
        balance = self.book.balance_of(code, RISK)
        if balance < amount:
            step = Decimal("0.01") if self.has(code, "risk.leverage_floor") else HUNDRED
            room = self._room(day, code, ceil_to(amount - balance, step))
            if room > 0:
                self._inject(day, code, room, "补充风险补偿金（代偿前）")

