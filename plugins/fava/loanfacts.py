"""What 贷款台账 and 期限提醒 read of every loan, indexed once per load of the ledger.

Both pages choose from the whole register (7,423 loans at 10k transactions) and show a page
of it: 贷款台账 lists the loans alive in a period (filtered by status, totalled), 期限提醒
the maturities falling due or overdue on a reference day. Asking the register for each
loan's status, balance and maturity on that day walks every loan's events several times;
building a row for each walks them again, for rows no one sees.

A loan's register state stops changing at its last register event: from that day on its
status, contracted amount, principal outstanding, maturity and whether it is settled or
overdue are fixed. :func:`loan_index` reads them once per load, with the register's own
methods (:class:`~zhubaodai.core.register.Loan`), and keeps each program's loans in the
order 贷款台账 lists them; :func:`zhubaodai.fava.analysis.after_load` builds it while Fava
loads. A page then selects, counts and totals by looking these up, asks the register only
about a loan that still changes after the day the page is about, and builds rows for the
rows it shows.
"""

from __future__ import annotations

import bisect
import datetime
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from zhubaodai.core.engine import Analysis
from zhubaodai.core.money import ZERO
from zhubaodai.core.register import Event
from zhubaodai.core.register import GUARANTEED_EVENTS
from zhubaodai.core.register import Loan


def _status(contract: bool, settled: bool, overdue: bool, disbursed: bool) -> str:
    """Which register state a loan is in, from what its events say (贷款台账's precedence)."""
    if contract and settled:
        return "settled"
    if overdue:
        return "overdue"
    if disbursed:
        return "current"
    if contract:
        return "contracted"
    return "approved"


def register_status(loan: Loan, day: datetime.date) -> str:
    """The loan's state at the end of ``day`` from its register events alone (a key of
    :data:`zhubaodai.fava.views.LOAN_STATUS`; 已代偿 comes from the claims: :func:`loan_status`)."""
    contract = loan.last_before("contract", day) is not None
    return _status(
        contract,
        contract and loan.settled(day),
        loan.last_before("overdue", day) is not None,
        loan.last_before("disbursement", day) is not None,
    )


def loan_status(status: str, loan_id: str, compensated: set[str] | frozenset[str]) -> str:
    """The state 贷款台账 shows: the register's ``status``, except that a loan the pool has
    compensated (by the period's end) reads 已代偿 unless it is settled."""
    if status != "settled" and loan_id in compensated:
        return "compensated"
    return status


def _walk(
    loan: Loan, day: datetime.date
) -> tuple[set[str], Decimal, datetime.date | None, Event | None]:
    """One pass over the loan's events up to the end of ``day``: the kinds of event, the
    contracted amount plus increases, and the maturity last registered and its event."""
    kinds: set[str] = set()
    amount = ZERO
    maturity = source = None
    for event in loan.events:
        if event.date > day:
            break
        kinds.add(event.kind)
        if event.kind in GUARANTEED_EVENTS:
            amount += event.data["amount"]
        if "maturity" in event.data:
            maturity, source = event.data["maturity"], event
    return kinds, amount, maturity, source


def contracted_amount(loan: Loan, day: datetime.date) -> Decimal:
    """The contracted amount plus increases registered by the end of ``day`` (the fee
    base so far)."""
    return _walk(loan, day)[1]


def maturity_on(loan: Loan, day: datetime.date) -> tuple[datetime.date | None, Event | None]:
    """The maturity the register holds at the end of ``day`` and the event that set it."""
    _, _, maturity, source = _walk(loan, day)
    return maturity, source


@dataclass(frozen=True, slots=True)
class LoanFacts:
    """One loan as the register leaves it, valid on every day from ``last`` on; the
    ``*_on`` methods answer for any day (asking the register before ``last``)."""

    loan: Loan
    approved: datetime.date
    #: The day of its last register event: nothing below changes after it.
    last: datetime.date
    #: Whether it has a contract at all (贷款台账 keeps a loan settled before the period
    #: that never had one).
    has_contract: bool
    status: str  # register_status
    amount: Decimal  # contracted_amount
    outstanding: Decimal
    settled: bool
    overdue: bool  # an overdue registered
    maturity: datetime.date | None
    maturity_event: Event | None
    #: The engine's fee figures of the loan (records.fees; not dated).
    fee_due: Decimal
    fee_paid: Decimal

    @property
    def id(self) -> str:
        return self.loan.id

    @property
    def program(self) -> str:
        return self.loan.program

    def status_on(self, day: datetime.date) -> str:
        return self.status if day >= self.last else register_status(self.loan, day)

    def amount_on(self, day: datetime.date) -> Decimal:
        return self.amount if day >= self.last else contracted_amount(self.loan, day)

    def outstanding_on(self, day: datetime.date) -> Decimal:
        return self.outstanding if day >= self.last else self.loan.outstanding(day)

    def settled_on(self, day: datetime.date) -> bool:
        return self.settled if day >= self.last else self.loan.settled(day)

    def overdue_on(self, day: datetime.date) -> bool:
        return self.overdue if day >= self.last else self.loan.last_before("overdue", day) is not None

    def maturity_on(self, day: datetime.date) -> tuple[datetime.date | None, Event | None]:
        return (self.maturity, self.maturity_event) if day >= self.last else maturity_on(self.loan, day)


def loan_facts(analysis: Analysis, loan: Loan) -> LoanFacts:
    """The loan's facts: one pass over its events, and the register's balance and
    settlement (:meth:`Loan.outstanding`, :meth:`Loan.settled`) on its last day."""
    last = loan.events[-1].date  # the register keeps each loan's events in date order
    kinds, amount, maturity, source = _walk(loan, last)
    contract = "contract" in kinds
    settled = loan.settled(last)
    overdue = "overdue" in kinds
    account = analysis.records.fees.get(loan.id)
    return LoanFacts(
        loan,
        loan.approval.date,
        last,
        contract,
        _status(contract, settled, overdue, "disbursement" in kinds),
        amount,
        loan.outstanding(last),
        settled,
        overdue,
        maturity,
        source,
        account.due if account is not None else ZERO,
        account.paid if account is not None else ZERO,
    )


@dataclass(frozen=True)
class LoanIndex:
    """Every loan's :class:`LoanFacts`, each program's in 贷款台账's order (approval day,
    then loan id)."""

    programs: Mapping[str, tuple[LoanFacts, ...]]
    #: Each program's approval days (ordinals) in that order, to find the loans approved
    #: by a day without looking at the others.
    approvals: Mapping[str, tuple[int, ...]]

    def approved_by(self, program: str, day: datetime.date) -> Sequence[LoanFacts]:
        """The program's loans approved by the end of ``day``, in 贷款台账's order."""
        found = self.programs.get(program, ())
        return found[: bisect.bisect_right(self.approvals.get(program, ()), day.toordinal())]

    def of(self, programs: Iterable[str]) -> Iterable[LoanFacts]:
        for code in programs:
            yield from self.programs.get(code, ())


def loan_index(analysis: Analysis) -> LoanIndex:
    """The index of ``analysis``'s register (once per load: one pass over the loans)."""
    grouped: dict[str, list[LoanFacts]] = {}
    for loan in analysis.register.loans.values():
        grouped.setdefault(loan.program, []).append(loan_facts(analysis, loan))
    programs = {}
    for code, found in grouped.items():
        found.sort(key=lambda f: (f.approved, f.loan.id))
        programs[code] = tuple(found)
    return LoanIndex(programs, {code: tuple(f.approved.toordinal() for f in found) for code, found in programs.items()})
