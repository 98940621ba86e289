"""Turn a checked statement into ledger entries, asking the rule engine for every figure.

Each new row (its serial number not yet in the ledger) is matched against the pool's
classification rules (first match wins) and becomes one transaction of the ledger format
(docs/ledger-format.md)::

    2024-07-03 * "重庆丁智能装备有限公司" "缴纳助保金" ^CQ-2024-011
      serial: "10002-20240703100211002"
      counterparty_account: "31050161393600000004"
      bank_summary: "网银转账 助保金"
      Assets:CQGX:Pool:Guarantee    50000.00 CNY
      Income:CQGX:Guarantee:Fees   -50000.00 CNY

    2024-09-21 * "中国建设银行" "结息（计息期至 2024-09-20）"
      serial: "10011-20240921020000011"
      period_end: 2024-09-20
      Assets:CQGX:Pool:Guarantee          289.64 CNY
      Assets:CQGX:Pool:Risk             15389.26 CNY
      Income:CQGX:Guarantee:Interest     -289.64 CNY
      Income:CQGX:Risk:Interest        -15389.26 CNY

    2024-07-15 ! "重庆某某商贸有限公司" "待查明：没有分类规则识别此笔收入"
      serial: "10004-20240715091245004"
      Assets:CQGX:Pool:Suspense     12345.67 CNY
      Income:CQGX:Unidentified     -12345.67 CNY

No figure is computed here, and the rule engine runs no more than once for a whole import:
every figure comes from one :class:`~zhubaodai.core.engine.Analysis` of the ledger, the one its
load already made (the plugin's, :func:`~zhubaodai.core.engine.result_of`; the engine runs here
only for a ledger loaded without the plugin or with other rules), plus the rows this import
has booked since, which a :class:`Book` keeps per program:

* the fee still due is the engine's ``records.fees`` (due − paid), less what this import
  already booked on the loan;
* the interest split is :func:`zhubaodai.checks.pool.interest_split`, the function the engine
  checks every credit with, on the engine's fund balances plus this import's earlier rows
  (:class:`FundView`) and the end of the last settlement before the row;
* the compensation legs are :func:`waterfall.plan_waterfall` on the engine's fund balances
  and claims;
* a recovery's parts are the engine's ``records.loan_recoveries`` (expected − received),
  less what this import already booked; once this import has booked a compensation, the
  claims and recoveries are what :mod:`zhubaodai.checks.waterfall`'s own hooks make of the
  ledger's claims, recoveries, compensations and recovered cash with this import's rows
  among them (:meth:`Book.waterfall`), a walk over those entries only.

Whatever does not fit goes to the program's suspense account with the ``!`` flag and the
reason.
"""

from __future__ import annotations

import bisect
import datetime
import os
import unicodedata
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from beancount.core import data
from beancount.core.amount import Amount
from beancount.core.data import Custom
from beancount.core.data import Directive
from beancount.core.data import Transaction

from zhubaodai.checks import waterfall
from zhubaodai.checks.deposits import deposit_cover
from zhubaodai.checks.deposits import enterprise_fees_left
from zhubaodai.checks.pool import subsidy_base
from zhubaodai.checks.pool import interest_period_end
from zhubaodai.checks.pool import interest_split
from zhubaodai.checks.waterfall import Claim
from zhubaodai.checks.waterfall import LoanRecoveries
from zhubaodai.checks.waterfall import plan_waterfall
from zhubaodai.checks.waterfall import split_shares
from zhubaodai.core.engine import AccountRoles
from zhubaodai.core.engine import Analysis
from zhubaodai.core.engine import Context
from zhubaodai.core.engine import DailyBalance
from zhubaodai.core.engine import GUARANTEE
from zhubaodai.core.engine import KIND_ROLES
from zhubaodai.core.engine import Movement
from zhubaodai.core.engine import ProgramState
from zhubaodai.core.engine import RISK
from zhubaodai.core.engine import analyse
from zhubaodai.core.engine import movement_kind
from zhubaodai.core.engine import movement_loans
from zhubaodai.core.engine import result_of
from zhubaodai.core.findings import figures_text
from zhubaodai.core.money import CURRENCY
from zhubaodai.core.money import ZERO
from zhubaodai.core.money import half_up
from zhubaodai.core.money import yuan
from zhubaodai.core.register import Event
from zhubaodai.core.register import Loan
from zhubaodai.core.rules import ParamDateError
from zhubaodai.core.rules import Program
from zhubaodai.core.rules import Rulebook
from zhubaodai.importers.config import ClassifyRule
from zhubaodai.importers.config import ImportFailure
from zhubaodai.importers.config import PoolConfig
from zhubaodai.importers.config import account_key
from zhubaodai.importers.config import header_key
from zhubaodai.importers.statement import Row
from zhubaodai.importers.statement import Statement
from zhubaodai.importers.statement import StatementError

ONE_DAY = datetime.timedelta(days=1)
EMPTY: frozenset[str] = frozenset()

#: The engine's funds -> the account role of each.
FUND_ROLES = {GUARANTEE: "guarantee_fund", RISK: "risk_fund"}

#: Metadata key of the bank's serial number (the deduplication key).
SERIAL = "serial"


@dataclass(frozen=True)
class Extraction:
    """What one statement adds to the ledger."""

    statement: Statement
    entries: list[Directive]
    #: Rows whose serial number the ledger already has.
    skipped: int
    #: Rows booked to suspense.
    suspense: int
    #: The program's book with these rows in it: :meth:`Ledger.add` keeps it.
    book: Book | None = field(default=None, repr=False, compare=False)


def _amount(number: Decimal) -> Amount:
    return Amount(number, CURRENCY)


def _posting(account: str, number: Decimal) -> data.Posting:
    return data.Posting(account, _amount(number), None, None, None, None)


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


@dataclass
class _Claim:
    """A claim as this import sees it: the engine's state plus legs booked here."""

    claim: Claim
    guarantee_done: bool
    guarantee_paid: Decimal
    risk_done: bool


# --------------------------------------------------------------------------------------
# The ledger as an import sees it: one analysis, plus the rows booked since.

#: A directive's place in the ledger (Beancount's sort key): ledger order.
SortKey = tuple[datetime.date, int, int]
_TXN_ORDER = data.SORT_ORDER.get(Transaction, 0)
#: The movement kinds :mod:`zhubaodai.checks.waterfall` acts on.
_WATERFALL_KINDS = frozenset(("compensation", "recovery"))


def _row_key(row: Row) -> SortKey:
    """Where a transaction made of ``row`` sorts (:func:`beancount.core.data.entry_sortkey`)."""
    return (row.date, _TXN_ORDER, row.line)


def analysis_of(
    entries: Sequence[Directive], rulebook: Rulebook, options: Mapping[str, object] | None = None
) -> Analysis:
    """The engine's analysis of a loaded ledger under ``rulebook``: the one its load made
    (the plugin's, found in the load's options map or by its entries), else one run now
    (a ledger without the plugin line, a cached load, other rules than the plugin's)."""
    found = result_of(options, entries, rules_path=rulebook.path)
    if found is None:  # the same rules file by another path (a symbolic link)
        other = result_of(options, entries)
        if other is not None and os.path.realpath(other.rulebook.path) == os.path.realpath(rulebook.path):
            found = other
    return found if found is not None else analyse(entries, rulebook, options)


class Ledger:
    """The ledger an import classifies against: its entries, and the engine's analysis of
    them, found (or made) once per rules file (:meth:`baseline`).

    ``options`` is the load's options map, where the plugin leaves its analysis. The
    entries a statement adds (:meth:`add`) are seen by the statements after it: by
    serial number and balance straight away, and in the figures through the baseline's
    :class:`Book` of each program, without analysing the ledger again.
    """

    def __init__(self, entries: Sequence[Directive], options: Mapping[str, object] | None = None) -> None:
        self._entries: Sequence[Directive] = entries
        self._added: list[Directive] = []
        self.options = options
        self._baselines: dict[str, Baseline] = {}
        self._grown = False

    @property
    def entries(self) -> Sequence[Directive]:
        """The ledger's entries and those added, in ledger order (sorted when next asked)."""
        if self._added:
            self._entries = sorted([*self._entries, *self._added], key=data.entry_sortkey)
            self._added = []
        return self._entries

    def loaded_rulebook(self, path: str | os.PathLike[str]) -> Rulebook | None:
        """The rules the load's own analysis used, when they are the file at ``path`` (so
        an import does not read and validate rules.yaml a second time); else None."""
        found = result_of(self.options, list(self._entries[:1]))
        if found is not None and os.path.realpath(found.rulebook.path) == os.path.realpath(path):
            return found.rulebook
        return None

    def baseline(self, rulebook: Rulebook) -> Baseline:
        key = os.path.realpath(rulebook.path)
        found = self._baselines.get(key)
        if found is None:
            if self._grown:
                # Rules other than those of the statements added so far (two rules files in
                # one import): the load's analysis lacks those statements' rows.
                analysis = analyse(self.entries, rulebook)
            else:
                analysis = analysis_of(self.entries, rulebook, self.options)
            found = self._baselines[key] = Baseline(self.entries, analysis)
        return found

    def add(self, extraction: Extraction) -> None:
        """A statement extracted in full: the next statements see its entries."""
        if extraction.entries:
            self._added.extend(extraction.entries)
            self._grown = True
        if extraction.book is not None:
            extraction.book.baseline.keep(extraction.book)


class Baseline:
    """The engine's analysis of ``entries`` and, per program, what this import has booked
    since (:class:`Book`, kept once a statement's extraction is added to the ledger)."""

    def __init__(self, entries: Sequence[Directive], analysis: Analysis) -> None:
        self.entries = entries
        self.analysis = analysis
        #: Each account's program and role, read as the engine's walk reads them.
        self.accounts = AccountRoles(analysis.rulebook)
        self._books: dict[str, Book] = {}
        self._walk_events: dict[int, Event] | None = None

    def walk_events(self) -> dict[int, Event]:
        """The register events :mod:`zhubaodai.checks.waterfall` acts on as a walk reaches
        them (its ``start``), made once: an import adds transactions, not register events."""
        if self._walk_events is None:
            ctx = Context(self.analysis.rulebook, self.analysis.register)
            waterfall.start(ctx)
            self._walk_events = ctx.walk_events
        return self._walk_events

    def book(self, program: Program) -> Book:
        """A working copy of the program's book, for one statement (see :meth:`keep`)."""
        found = self._books.get(program.code)
        return found.copy() if found is not None else Book(self, program)

    def keep(self, book: Book) -> None:
        """``book`` (a copy from :meth:`book`) now holds the program's rows booked so far."""
        self._books[book.program.code] = book


class FundMoves:
    """One fund's movements booked by this import, by day: the days in order with running
    sums of the amounts and of amount × day, so a balance or 积数 at any date is a binary
    search, not a sum over every earlier row (which a year of statements imported at once
    would make quadratic). A row dated before the last one booked moves the sums after it."""

    __slots__ = ("_days", "_sums", "_weighted")

    def __init__(self) -> None:
        self._days: list[int] = []  # ordinals, ascending, one a day
        self._sums: list[Decimal] = []  # the amounts through each day
        self._weighted: list[Decimal] = []  # amount × ordinal, through each day

    def add(self, day: datetime.date, amount: Decimal) -> None:
        o = day.toordinal()
        days, sums, weighted = self._days, self._sums, self._weighted
        if not days or o > days[-1]:
            days.append(o)
            sums.append((sums[-1] if sums else ZERO) + amount)
            weighted.append((weighted[-1] if weighted else ZERO) + amount * o)
            return
        i = bisect.bisect_left(days, o)
        if days[i] != o:
            days.insert(i, o)
            sums.insert(i, sums[i - 1] if i else ZERO)
            weighted.insert(i, weighted[i - 1] if i else ZERO)
        for j in range(i, len(days)):
            sums[j] += amount
            weighted[j] += amount * o

    def copy(self) -> FundMoves:
        other = FundMoves()
        other._days, other._sums, other._weighted = list(self._days), list(self._sums), list(self._weighted)
        return other

    def days(self) -> list[tuple[datetime.date, Decimal]]:
        """(day, the day's movements) for each day with any."""
        before = [ZERO, *self._sums[:-1]]
        return [(datetime.date.fromordinal(o), s - b) for o, s, b in zip(self._days, self._sums, before)]

    def first_before(self, day: datetime.date) -> datetime.date | None:
        """The first day with a movement, if it is before ``day``."""
        days = self._days
        return datetime.date.fromordinal(days[0]) if days and days[0] < day.toordinal() else None

    def _through(self, o: int) -> tuple[Decimal, Decimal]:
        i = bisect.bisect_right(self._days, o) - 1
        return (self._sums[i], self._weighted[i]) if i >= 0 else (ZERO, ZERO)

    def at(self, day: datetime.date) -> Decimal:
        """The movements through the end of ``day``."""
        return self._through(day.toordinal())[0]

    def jishu(self, start: datetime.date, end: datetime.date) -> Decimal:
        """What the movements add to the 积数 over ``start``..``end``: each counts on every
        day from its own (or ``start``) to ``end``."""
        if end < start:
            return ZERO
        first, last = start.toordinal(), end.toordinal()
        sum_before, weighted_before = self._through(first - 1)
        sum_through, weighted_through = self._through(last)
        return (
            sum_before * (last - first + 1)
            + (sum_through - sum_before) * (last + 1)
            - (weighted_through - weighted_before)
        )


class FundView:
    """A fund as the engine's walk holds it just before a new row on ``day``: the
    analysis' end-of-day balances (:class:`~zhubaodai.core.engine.DailyBalance`) plus this
    import's earlier rows. Answers what :func:`zhubaodai.checks.pool.interest_split` asks."""

    __slots__ = ("base", "moves", "day")

    def __init__(self, base: DailyBalance, moves: FundMoves, day: datetime.date) -> None:
        self.base = base
        self.moves = moves
        self.day = day

    @property
    def first_day(self) -> datetime.date | None:
        # Movements on ``day`` itself (before or after the row) cannot change the start of
        # a period ending the day before: they are left out on both sides.
        days = [d for d in (self.moves.first_before(self.day), self.base.first_day) if d is not None and d < self.day]
        return min(days, default=None)

    def at(self, day: datetime.date) -> Decimal:
        return self.base.at(day) + self.moves.at(day)

    def jishu(self, start: datetime.date, end: datetime.date) -> Decimal:
        return self.base.jishu(start, end) + self.moves.jishu(start, end)  # each ZERO when end < start


class Book:
    """What this import has booked on one program since the analysis (all its statements
    so far), and the analysis' figures with those rows taken in."""

    def __init__(self, baseline: Baseline, program: Program) -> None:
        self.baseline = baseline
        self.program = program
        #: Each fund's movements booked here.
        self.moves: dict[str, FundMoves] = {GUARANTEE: FundMoves(), RISK: FundMoves()}
        #: Loan -> fees booked here.
        self.fees: dict[str, Decimal] = {}
        #: Loan -> guarantee-fee subsidies booked here (outflow.subsidy).
        self.subsidies: dict[str, Decimal] = {}
        #: Loan -> fund -> recovered cash booked here.
        self.recovered: dict[str, dict[str, Decimal]] = {}
        #: (place, period end) of each interest credit booked here.
        self.interest: list[tuple[SortKey, datetime.date]] = []
        #: Compensations and recoveries booked here (for :meth:`waterfall`).
        self.waterfall_entries: list[Transaction] = []
        self.compensated = False
        self._ledger_waterfall: list[Directive] | None = None
        #: This book's :meth:`waterfall` walk so far (a copy of the book walks anew).
        self._walked: _WaterfallWalk | None = None

    def copy(self) -> Book:
        other = Book.__new__(Book)
        other.__dict__.update(self.__dict__)
        other.moves = {fund: moves.copy() for fund, moves in self.moves.items()}
        other.fees = dict(self.fees)
        other.subsidies = dict(self.subsidies)
        other.recovered = {loan: dict(funds) for loan, funds in self.recovered.items()}
        other.interest = list(self.interest)
        other.waterfall_entries = list(self.waterfall_entries)
        # The walk's context is fed this book's rows as they are booked: a copy (the next
        # statement's working book) must not feed rows into this one's.
        other._walked = None
        return other

    # What the engine would make of a transaction ------------------------------------------

    def movement_roles(self, entry: Transaction) -> dict[str, Decimal]:
        """role -> summed CNY postings of this program's accounts (the engine's Movement.roles)."""
        return self.baseline.accounts.roles(entry, self.program.code)

    @staticmethod
    def kind(roles: Mapping[str, Decimal]) -> str | None:
        """The movement's kind by its roles, as the engine classifies it (None: mixed)."""
        return movement_kind(roles)

    # Booking ---------------------------------------------------------------------------

    def record(self, entry: Transaction) -> None:
        """Take in a transaction this import books."""
        for fund in (GUARANTEE, RISK):
            account = self.program.accounts.get(f"{fund}_fund")
            if account is None:
                continue  # a program without a guarantee fund (SZPS)
            delta = sum((p.units.number for p in entry.postings if p.account == account), ZERO)
            if delta:
                self.moves[fund].add(entry.date, delta)
        kind = self.kind(self.movement_roles(entry))
        if kind in _WATERFALL_KINDS:
            self.waterfall_entries.append(entry)
            self.compensated = self.compensated or kind == "compensation"

    # The analysis plus this import's rows ----------------------------------------------

    @property
    def state(self) -> ProgramState:
        return self.baseline.analysis.programs[self.program.code]

    def fund(self, fund: str, day: datetime.date) -> FundView:
        return FundView(self.state.funds[fund], self.moves[fund], day)

    def balance(self, fund: str, day: datetime.date) -> Decimal:
        """The fund at the end of ``day``."""
        return self.fund(fund, day).at(day)

    def last_interest_end(self, key: SortKey) -> datetime.date | None:
        """The end of the last interest settlement before ``key`` in ledger order (the
        engine's ``ProgramState.last_interest_end`` when its walk reaches that place)."""
        booked: tuple[SortKey, datetime.date] | None = None
        for place, end in self.interest:
            if place <= key and (booked is None or place >= booked[0]):
                booked = (place, end)
        ledger = self._ledger_interest_before(key)
        if ledger is None:
            return booked[1] if booked is not None else None
        if booked is None or booked[0] < ledger[0]:
            return ledger[1]
        return booked[1]

    def _ledger_interest_before(self, key: SortKey) -> tuple[SortKey, datetime.date] | None:
        """The ledger's last interest credit at or before ``key``: its place and period end."""
        if self.state.last_interest_end is None:
            return None  # none at all
        entries = self.baseline.entries
        accounts = {self.program.accounts.get(r) for r in KIND_ROLES["interest"]} - {None}
        i = bisect.bisect_right(entries, key, key=data.entry_sortkey)
        # Back from there: usually no further than the previous quarter's settlement.
        for j in range(i - 1, -1, -1):
            entry = entries[j]
            if type(entry) is not Transaction or not any(p.account in accounts for p in entry.postings):
                continue
            if self.kind(self.movement_roles(entry)) != "interest":
                continue
            end = entry.meta.get("period_end")
            return data.entry_sortkey(entry), interest_period_end(
                entry.date, end if isinstance(end, datetime.date) else None
            )
        return None

    def claims(self) -> list[Claim]:
        """The program's claims and what the pool has paid on them (the engine's)."""
        code = self.program.code
        claims = self.waterfall().records.claims if self.compensated else self.baseline.analysis.records.claims
        return [c for c in claims.values() if c.loan.program == code]

    def loan_recoveries(self) -> Iterator[tuple[str, dict[str, Decimal], dict[str, Decimal]]]:
        """(loan, expected, received) per fund of the program's loans with recoveries."""
        code = self.program.code
        register = self.baseline.analysis.register
        if self.compensated:
            states: Mapping[str, LoanRecoveries] = self.waterfall().records.loan_recoveries
            booked: Mapping[str, dict[str, Decimal]] = {}  # walked with the rest
        else:
            states = self.baseline.analysis.records.loan_recoveries
            booked = self.recovered
        for loan_id, state in states.items():
            if register.loans[loan_id].program != code:
                continue
            got = booked.get(loan_id, {})
            received = {fund: state.received[fund] + got.get(fund, ZERO) for fund in (RISK, GUARANTEE)}
            yield loan_id, state.expected, received

    def waterfall(self) -> Context:
        """:mod:`zhubaodai.checks.waterfall`'s own hooks walked over this program's claims,
        recoveries, compensations and recovered cash, the ledger's and this import's, in
        ledger order: its claims and recovery shares as the engine's with this import's
        rows in the ledger. A walk over those entries only: the funds' balances are not
        kept (no claim or recovery figure read here depends on them) and the findings are
        not wanted.

        The ledger's entries are walked once per book; a row booked since is fed to the
        same walk when it sorts after all walked so far (a statement's rows, in date
        order), so a statement of N waterfall rows costs one walk, not N. A row dated
        before an entry already walked makes the walk start over (ledger order decides
        the figures)."""
        walked = self._walked
        booked = self.waterfall_entries
        if walked is not None:
            new = sorted(booked[walked.count :], key=data.entry_sortkey)
            if not new or walked.last is None or data.entry_sortkey(new[0]) > walked.last:
                for entry in new:
                    walked.feed(entry)
                walked.count = len(booked)
                return walked.ctx
        analysis = self.baseline.analysis
        ctx = Context(analysis.rulebook, analysis.register)
        ctx.walk_events = self.baseline.walk_events()
        walked = self._walked = _WaterfallWalk(ctx, ctx.states[self.program.code], self)
        for entry in sorted([*self._ledger_waterfall_entries(ctx), *booked], key=data.entry_sortkey):
            walked.feed(entry)
        walked.count = len(booked)
        return ctx

    def _ledger_waterfall_entries(self, ctx: Context) -> list[Directive]:
        """The ledger's claims and recoveries of this program's loans, and its
        compensations and recovered cash, in ledger order (read once)."""
        if self._ledger_waterfall is None:
            code = self.program.code
            events = {
                key for key, event in ctx.walk_events.items()
                if ctx.register.loans[event.subject].program == code
            }
            accounts = {
                self.program.accounts.get(r) for kind in _WATERFALL_KINDS for r in KIND_ROLES[kind]
            } - {None}
            found: list[Directive] = []
            for entry in self.baseline.entries:
                if type(entry) is Transaction:
                    if any(p.account in accounts for p in entry.postings) and (
                        self.kind(self.movement_roles(entry)) in _WATERFALL_KINDS
                    ):
                        found.append(entry)
                elif id(entry) in events:
                    found.append(entry)
            self._ledger_waterfall = found
        return self._ledger_waterfall


class _WaterfallWalk:
    """A :meth:`Book.waterfall` walk: its context, how many of the book's rows it has taken
    in, and the ledger place of the last entry it walked."""

    __slots__ = ("ctx", "state", "book", "count", "last")

    def __init__(self, ctx: Context, state: ProgramState, book: Book) -> None:
        self.ctx = ctx
        self.state = state
        self.book = book
        self.count = 0
        self.last: SortKey | None = None

    def feed(self, entry: Directive) -> None:
        """One entry to the waterfall's hooks, as the engine's walk hands it over."""
        self.last = data.entry_sortkey(entry)
        if type(entry) is Custom:
            waterfall.on_register_event(self.ctx, entry)
            return
        book = self.book
        roles = book.movement_roles(entry)
        loans = movement_loans(entry, book.program.code, self.ctx.register.loans)
        waterfall.on_movement(self.ctx, Movement(entry, self.state, roles, book.kind(roles), loans))


@dataclass
class Classifier:
    """Classifies the new rows of one statement against one ledger."""

    config: PoolConfig
    rulebook: Rulebook
    baseline: Baseline
    statement: Statement
    #: Fava's import page saves metadata as JSON text: no date or amount values then.
    for_fava: bool = False
    analysis: Analysis = field(init=False)
    program: Program = field(init=False)
    #: This program's rows booked by this import (earlier statements' and this one's).
    book: Book = field(init=False)
    new: list[Directive] = field(default_factory=list)
    claims: list[_Claim] = field(default_factory=list)
    used_accounts: dict[str, datetime.date] = field(default_factory=dict)
    suspense_count: int = 0

    def __post_init__(self) -> None:
        self.program = self.rulebook.programs[self.config.program]  # checked by build_entries
        self.analysis = self.baseline.analysis
        self.book = self.baseline.book(self.program)
        self._index_enterprises()
        self.claims = [_Claim(c, c.guarantee_done, c.guarantee_paid, c.risk_done) for c in self.book.claims()]

    # ----------------------------------------------------------------------------------
    # Who is who.

    def _index_enterprises(self) -> None:
        code = self.config.program
        self.enterprise_names: dict[str, str] = {}
        self.enterprise_accounts: dict[str, str] = {}
        self.enterprise_label: dict[str, str] = {}
        registered = self.analysis.register.enterprises
        for ent_id, event in registered.items():
            if event.data["program"] != code:
                continue
            self.enterprise_label[ent_id] = event.data["name"]
            self.enterprise_names[header_key(event.data["name"])] = ent_id
            if event.data.get("account"):
                self.enterprise_accounts[account_key(event.data["account"])] = ent_id
        for alias in self.config.enterprises:
            event = registered.get(alias.enterprise)
            if event is None or event.data["program"] != code:
                raise ImportFailure(
                    f"导入配置 {self.config.path} 的 enterprises 中企业 {alias.enterprise} 未在账本中登记为项目 {code} 的企业"
                    '（custom "enterprise" "register"）'
                )
            for name in alias.names:
                self.enterprise_names[header_key(name)] = alias.enterprise
            for acct in alias.accounts:
                self.enterprise_accounts[account_key(acct)] = alias.enterprise

    def enterprise_of(self, row: Row) -> str | None:
        if row.counterparty_account:
            found = self.enterprise_accounts.get(account_key(row.counterparty_account))
            if found:
                return found
        if row.counterparty:
            return self.enterprise_names.get(header_key(row.counterparty))
        return None

    # ----------------------------------------------------------------------------------
    # Rules.

    def matches(self, rule: ClassifyRule, row: Row) -> bool:
        if rule.direction == "credit" and row.amount <= 0:
            return False
        if rule.direction == "debit" and row.amount >= 0:
            return False
        if rule.counterparty:
            name = header_key(row.counterparty)
            if not name or not any(header_key(n) in name for n in rule.counterparty):
                return False
        if rule.counterparty_account:
            acct = account_key(row.counterparty_account)
            if not acct or acct not in {account_key(a) for a in rule.counterparty_account}:
                return False
        if rule.summary:
            text = header_key(row.text)
            if not any(header_key(s) in text for s in rule.summary):
                return False
        if rule.event == "fee" and not (rule.counterparty or rule.counterparty_account or rule.summary):
            # A bare fee rule recognises payers by the register.
            return self.enterprise_of(row) is not None
        return True

    def classify(self, row: Row) -> Transaction:
        for rule in self.config.classify:
            if self.matches(rule, row):
                if rule.event == "injection":
                    return self._injection(row, rule.funder)
                handler = getattr(self, f"_{rule.event}")
                return handler(row)
        what = "收入" if row.amount > 0 else "支出"
        return self._suspense(row, f"没有分类规则识别此笔{what}")

    # ----------------------------------------------------------------------------------
    # Entries.

    def _meta(self, row: Row, **extra: object) -> dict[str, object]:
        meta = data.new_metadata(self.statement.path, row.line)
        meta[SERIAL] = row.serial
        if row.counterparty_account:
            meta["counterparty_account"] = row.counterparty_account
        if row.text:
            meta["bank_summary"] = row.text
        meta.update(extra)
        return meta

    def _txn(
        self,
        row: Row,
        narration: str,
        postings: list[tuple[str, Decimal]],
        *,
        links: frozenset[str] = EMPTY,
        flag: str = "*",
        payee: str | None = None,
        **meta: object,
    ) -> Transaction:
        for account, _ in postings:
            self.used_accounts.setdefault(account, row.date)
        entry = Transaction(
            self._meta(row, **meta),
            row.date,
            flag,
            payee if payee is not None else (row.counterparty or None),
            narration,
            EMPTY,
            links,
            [_posting(a, n) for a, n in postings],
        )
        self.book.record(entry)
        return entry

    def acct(self, role: str) -> str:
        return self.program.accounts[role]

    def say(self, text: str) -> str:
        """``text``, one of this module's own (written with the generic fund names), in the
        program's words (rules.yaml ``names:``; JHJD's 风险池基金, GSBY's 互助担保金). Never
        applied to a value read from the statement or the ledger."""
        return self.program.names.say(text)

    def _suspense(self, row: Row, reason: str) -> Transaction:
        self.suspense_count += 1
        counter = self.config.unidentified_income if row.amount > 0 else self.config.unidentified_expense
        return self._txn(
            row,
            f"待查明：{reason}",
            [(self.acct("suspense"), row.amount), (counter, -row.amount)],
            flag="!",
        )

    def _injection(self, row: Row, funder: str | None = None) -> Transaction:
        # risk.funders (白银): each injection names its funder, as the rule for its payer says.
        meta: dict[str, object] = {"funder": funder} if funder else {}
        narration = self.say("注入风险补偿金") + (f"（{funder}）" if funder else "")
        return self._txn(
            row, narration, [(self.acct("risk_fund"), row.amount), (self.acct("injection"), -row.amount)], **meta
        )

    def _subsidy(self, row: Row) -> Transaction:
        """outflow.subsidy (海口): a guarantee-fee subsidy out of the risk fund to the program's
        subsidy account, linked to the loan it rewards: the loan named in the bank's text, or
        the one loan whose allowance left (the engine's base × rate, less what was paid) is
        this amount."""
        paid = -row.amount
        code = self.config.program
        if "outflow_subsidy" not in self.program.accounts or "outflow.subsidy" not in self.program.rules:
            return self._suspense(row, f"本项目没有担保费奖补（rules.yaml 未设 outflow.subsidy），支出 {yuan(paid)} 元不能记为奖补")
        try:
            rate = self.program.rules["outflow.subsidy"].param("rate", row.date)
        except ParamDateError as exc:
            return self._suspense(row, str(exc))
        if rate is None:
            return self._suspense(row, f"担保费奖补在 {row.date} 已不再施行，支出 {yuan(paid)} 元不能记为奖补")
        given: dict[str, Decimal] = {}
        for outflow in self.book.state.outflows:
            if outflow.rule == "outflow.subsidy" and outflow.loan is not None:
                given[outflow.loan] = given.get(outflow.loan, ZERO) + outflow.amount
        for loan_id, amount in self.book.subsidies.items():
            given[loan_id] = given.get(loan_id, ZERO) + amount
        left = {
            loan.id: half_up(subsidy_base(loan, row.date) * rate) - given.get(loan.id, ZERO)
            for loan in self.analysis.register.loans.values()
            if loan.program == code
        }
        named = [loan_id for loan_id in left if loan_id in _norm(row.text)]
        chosen = [l for l in named if 0 < paid <= left[l]] if named else [l for l in left if left[l] == paid]
        if len(chosen) != 1:
            shown = "；".join(f"{l} 尚可奖补 {yuan(left[l])} 元" for l in (named or left) if left[l] > 0)
            what = "同时符合多笔贷款" if chosen else "与各笔贷款尚可奖补的金额不符"
            return self._suspense(row, f"担保费奖补 {yuan(paid)} 元{what}（{shown or '没有尚可奖补的贷款'}）")
        loan_id = chosen[0]
        self.book.subsidies[loan_id] = self.book.subsidies.get(loan_id, ZERO) + paid
        return self._txn(
            row, f"担保费奖补 {loan_id}",
            [(self.acct("risk_fund"), -paid), (self.acct("outflow_subsidy"), paid)],
            links=frozenset({loan_id}),
        )

    def _fee(self, row: Row) -> Transaction:
        if "fee_income" not in self.program.accounts:
            return self._suspense(row, self.say(f"本项目没有助保金（rules.yaml 未映射助保金的账户），收入 {yuan(row.amount)} 元不能记为助保金缴款"))
        ent = self.enterprise_of(row)
        if ent is None:
            who = row.counterparty or "（无户名）"
            if row.counterparty_account:
                who += f"（账号 {row.counterparty_account}）"
            return self._suspense(row, self.say("像是助保金缴款，但付款人 ") + f"{who} 不是本项目登记的企业")
        name = self.enterprise_label[ent]
        # The enterprise's loans approved by the day of the payment (a fee is paid after the
        # approval, before the contract): a later loan of the same amount is not a candidate.
        loans = [
            loan for loan in self.analysis.register.loans.values()
            if loan.enterprise == ent and loan.program == self.config.program and loan.approval.date <= row.date
        ]
        fees = self.analysis.records.fees
        owing: dict[str, Decimal] = {}
        for loan in loans:
            account = fees.get(loan.id)
            due = account.due - account.paid if account is not None else ZERO
            owing[loan.id] = due - self.book.fees.get(loan.id, ZERO)
        named = [loan_id for loan_id in owing if loan_id in _norm(row.text)]
        candidates = [l for l in (named or list(owing)) if owing[l] == row.amount]
        if len(candidates) == 1:
            loan_id = candidates[0]
            self.book.fees[loan_id] = self.book.fees.get(loan_id, ZERO) + row.amount
            return self._txn(
                row,
                "缴纳助保金",
                [(self.acct("guarantee_fund"), row.amount), (self.acct("fee_income"), -row.amount)],
                links=frozenset({loan_id}),
            )
        if not loans:
            return self._suspense(row, f"企业 {ent}（{name}）缴款 {yuan(row.amount)} 元，但登记簿中没有该企业的贷款")
        shown = "；".join(f"{l} 待缴 {yuan(owing[l])} 元" for l in (named or list(owing)))
        if len(candidates) > 1:
            return self._suspense(
                row,
                f"企业 {ent}（{name}）缴款 {yuan(row.amount)} 元，"
                + self.say(f"同时符合多笔贷款的待缴助保金（{shown}），请在备注中注明贷款编号或手工指定"),
            )
        return self._suspense(
            row,
            f"企业 {ent}（{name}）缴款 {yuan(row.amount)} 元，"
            + self.say(f"与其贷款待缴助保金不符（{shown}；待缴额来自登记簿的合同、增额、续贷事件，请先登记）"),
        )

    def _interest(self, row: Row) -> Transaction:
        period_end = row.date - ONE_DAY
        narration = f"结息（计息期至 {period_end}）"
        if "guarantee_fund" not in self.program.accounts:
            # One fund only (SZPS: district money, no guarantee fee): the interest is all its own.
            return self._txn(
                row, narration, [(self.acct("risk_fund"), row.amount), (self.acct("interest_risk"), -row.amount)],
                payee=row.counterparty or self.config.bank_name,
            )
        g_acct, r_acct = self.acct("guarantee_fund"), self.acct("risk_fund")
        gi, ri = self.acct("interest_guarantee"), self.acct("interest_risk")
        if "pool.interest_split" not in self.program.rules:
            return self._suspense(
                row, f"结息 {yuan(row.amount)} 元无法按积数分配：规则文件中本项目没有 pool.interest_split 规则"
            )
        # The engine's split of this credit were it in the ledger after the rows before
        # it: its own function, on its fund balances plus this import's earlier rows.
        key = _row_key(row)
        split = interest_split(
            self.book.fund(GUARANTEE, row.date),
            self.book.fund(RISK, row.date),
            self.book.last_interest_end(key),
            row.date,
            row.amount,
            period_end=period_end,
        )
        if split.problem is not None:
            why = f"{split.problem}；{figures_text(split.problem_figures)}"
            return self._suspense(row, f"结息 {yuan(row.amount)} 元无法按积数分配：{why}")
        g, r = split.shares
        postings = [(a, n) for a, n in ((g_acct, g), (r_acct, r), (gi, -g), (ri, -r)) if n]
        # The engine's default period end is the day before the credit, as here;
        # Fava would save a date as quoted text, so there it is left to the default.
        meta = {} if self.for_fava else {"period_end": period_end}
        entry = self._txn(row, narration, postings, payee=row.counterparty or self.config.bank_name, **meta)
        self.book.interest.append((key, split.period_end))
        return entry

    def _balance(self, fund: str, day: datetime.date) -> Decimal:
        return self.book.balance(fund, day)

    def _first_payers(self, loan: Loan, due: Decimal, g_before: Decimal, on: datetime.date) -> tuple[Decimal, Decimal]:
        """What the pool owes of ``due`` and what its guarantee fund may pay, after the first
        payers outside it, by the engine's functions (:mod:`zhubaodai.checks.deposits`): the
        loan's pledged deposit (what it paid and still holds), and with comp.waterfall's
        ``guarantee_basis: own_fees`` the fees its enterprise paid in less what the guarantee
        fund already paid for it (this import's fee rows and compensations included)."""
        account = self.book.state.deposits.get(loan.id)
        cover = deposit_cover(due, account.used + account.balance) if account is not None else ZERO
        available = g_before
        rule = self.program.rules.get("comp.waterfall")
        if rule is not None and "guarantee_basis" in rule.params and rule.param("guarantee_basis", on) == "own_fees":
            claims = self.book.waterfall().records.claims_by_loan if self.book.compensated else self.analysis.records.claims_by_loan
            own = enterprise_fees_left(self.analysis.register, self.analysis.records.fees, claims, loan)
            own += sum(
                (amount for loan_id, amount in self.book.fees.items()
                 if self.analysis.register.loans[loan_id].enterprise == loan.enterprise),
                ZERO,
            )
            available = min(available, own)
        return due - cover, available

    def _plain_compensation(self, row: Row) -> Transaction:
        """A program with no rule on how a claim is shared (龙南: the risk fund reimburses
        the guarantor): the risk fund pays the claim's amount due, for the one pending claim
        of that amount (or the loan named in the bank's text, up to its amount due)."""
        paid = -row.amount
        pending = [c for c in self.claims if c.claim.event.date <= row.date and not c.risk_done and not c.guarantee_done]
        named = [c for c in pending if c.claim.loan.id in _norm(row.text)]
        chosen = [c for c in named if paid <= c.claim.due] if named else [c for c in pending if c.claim.due == paid]
        if len(chosen) != 1:
            if not pending:
                return self._suspense(row, f"支出 {yuan(paid)} 元，本项目没有尚待代偿的已审核代偿申请（claim）")
            shown = "；".join(f"{c.claim.loan.id} 应代偿 {yuan(c.claim.due)} 元" for c in (named or pending))
            what = "同时符合多笔代偿" if chosen else "与尚待代偿的申请金额不符"
            return self._suspense(row, f"代偿支出 {yuan(paid)} 元{what}（{shown}）")
        c = chosen[0]
        c.risk_done = c.guarantee_done = True
        loan_id = c.claim.loan.id
        return self._txn(
            row, f"代偿 {loan_id}",
            [(self.acct("compensation_risk"), paid), (self.acct("risk_fund"), -paid)],
            links=frozenset({loan_id}),
        )

    def _compensation(self, row: Row) -> Transaction:
        if "comp.shares" in self.program.rules:
            return self._shared_compensation(row)
        if "comp.waterfall" not in self.program.rules:
            return self._plain_compensation(row)
        paid = -row.amount
        try:
            share = self.program.rules["comp.waterfall"].param("risk_share", row.date)
        except ParamDateError as exc:
            return self._suspense(row, str(exc))
        g_before = self._balance(GUARANTEE, row.date)
        r_before = self._balance(RISK, row.date)
        options: list[tuple[_Claim, str, Decimal, Decimal, Decimal]] = []  # claim, kind, g, r, bank
        expected: list[str] = []
        for c in self.claims:
            if c.claim.event.date > row.date or c.risk_done:
                continue
            loan = c.claim.loan
            due, g_available = self._first_payers(loan, c.claim.due, g_before, row.date)
            if not c.guarantee_done:
                plan = plan_waterfall(due, g_available, r_before, share)
                expected.append(
                    f"{loan.id} " + self.say(f"助保金付 {yuan(plan.guarantee)} 元、风险补偿金付 {yuan(plan.risk)} 元")
                )
                if plan.guarantee + plan.risk == paid:
                    options.append((c, "both", plan.guarantee, plan.risk, plan.bank))
                elif plan.guarantee == paid and plan.risk > 0:
                    options.append((c, "guarantee", plan.guarantee, ZERO, plan.bank))
            else:
                plan = plan_waterfall(due, c.guarantee_paid, r_before, share)
                expected.append(f"{loan.id} " + self.say(f"风险补偿金付 {yuan(plan.risk)} 元"))
                if plan.risk == paid:
                    options.append((c, "risk", ZERO, plan.risk, plan.bank))
        named = [o for o in options if o[0].claim.loan.id in _norm(row.text)]
        chosen = named or options
        if len(chosen) != 1:
            if not expected:
                return self._suspense(row, f"支出 {yuan(paid)} 元，本项目没有尚待代偿的已审核代偿申请（claim）")
            shown = "；".join(expected)
            what = "同时符合多笔代偿" if chosen else "与按代偿顺序应付的金额不符"
            return self._suspense(row, f"代偿支出 {yuan(paid)} 元{what}（{shown}）")
        c, kind, g, r, bank = chosen[0]
        loan_id = c.claim.loan.id
        postings: list[tuple[str, Decimal]] = []
        if g:
            postings += [(self.acct("compensation_guarantee"), g)]
        if r:
            postings += [(self.acct("compensation_risk"), r)]
        if g:
            postings += [(self.acct("guarantee_fund"), -g)]
        if r:
            postings += [(self.acct("risk_fund"), -r)]
        meta: dict[str, object] = {}
        if kind in ("both", "risk") and r:
            meta["bank_share"] = f"{bank} {CURRENCY}" if self.for_fava else _amount(bank)
        if kind in ("both", "guarantee"):
            c.guarantee_done, c.guarantee_paid = True, g
        if kind in ("both", "risk") and r:
            c.risk_done = True
        if kind == "both" and not r:
            c.risk_done = True  # the guarantee fund covered it all
        label = self.say({"both": "代偿", "guarantee": "代偿（助保金部分）", "risk": "代偿（风险补偿金分担部分）"}[kind])
        return self._txn(row, f"{label} {loan_id}", postings, links=frozenset({loan_id}), **meta)

    def _shared_compensation(self, row: Row) -> Transaction:
        """A compensation under a table of parties (comp.shares): the pool's funds pay their
        parts of the claim (the engine's split), the outside parties' parts are recorded as
        ``<party>_share`` metadata."""
        paid = -row.amount
        try:
            table = self.program.rules["comp.shares"].param("parties", row.date)
        except ParamDateError as exc:
            return self._suspense(row, str(exc))
        options: list[tuple[_Claim, dict[str, Decimal]]] = []
        expected: list[str] = []
        for c in self.claims:
            if c.claim.event.date > row.date or c.risk_done or c.guarantee_done:
                continue
            parts = split_shares(c.claim.due, table)
            pool = sum((parts[r.party] for r in table if r.pool), ZERO)
            expected.append(
                f"{c.claim.loan.id} " + self.say("、".join(f"{r.label}付 {yuan(parts[r.party])} 元" for r in table if r.pool))
            )
            if pool == paid:
                options.append((c, parts))
        named = [o for o in options if o[0].claim.loan.id in _norm(row.text)]
        chosen = named or options
        if len(chosen) != 1:
            if not expected:
                return self._suspense(row, f"支出 {yuan(paid)} 元，本项目没有尚待代偿的已审核代偿申请（claim）")
            what = "同时符合多笔代偿" if chosen else "与按分担表应由资金池支付的金额不符"
            return self._suspense(row, f"代偿支出 {yuan(paid)} 元{what}（{'；'.join(expected)}）")
        c, parts = chosen[0]
        loan_id = c.claim.loan.id
        funds = [(r.party, parts[r.party]) for r in table if r.pool and parts[r.party]]
        postings = [(self.acct(f"compensation_{party}"), amount) for party, amount in funds]
        postings += [(self.acct(f"{party}_fund"), -amount) for party, amount in funds]
        meta: dict[str, object] = {
            r.meta_key: f"{parts[r.party]} {CURRENCY}" if self.for_fava else _amount(parts[r.party])
            for r in table
            if not r.pool
        }
        c.risk_done = c.guarantee_done = True
        return self._txn(row, f"代偿 {loan_id}", postings, links=frozenset({loan_id}), **meta)

    def _recovery(self, row: Row) -> Transaction:
        # What each fund should get back: the engine's recovery shares less what has come
        # back (in the ledger and in this import); they depend on the compensations before,
        # which may be rows of this very import (then Book.waterfall walks them in).
        options: list[tuple[str, Decimal, Decimal]] = []
        expected: list[str] = []
        for loan_id, owed, received in self.book.loan_recoveries():
            left = {fund: owed[fund] - received[fund] for fund in (RISK, GUARANTEE)}
            if left[RISK] <= 0 and left[GUARANTEE] <= 0:
                continue
            # Only the funds the program has (JHJD, SZPS: no guarantee fund).
            parts = [f"{name} {yuan(left[fund])} 元" for fund, name in ((RISK, "风险补偿金"), (GUARANTEE, "助保金"))
                     if FUND_ROLES[fund] in self.program.accounts]
            expected.append(f"{loan_id} " + self.say("应补回" + "、".join(parts)))
            if left[RISK] + left[GUARANTEE] == row.amount:
                options.append((loan_id, left[RISK], left[GUARANTEE]))
            elif left[RISK] == row.amount:
                options.append((loan_id, left[RISK], ZERO))
        named = [o for o in options if o[0] in _norm(row.text)]
        chosen = named or options
        if len(chosen) != 1:
            if not expected:
                return self._suspense(
                    row, f"收入 {yuan(row.amount)} 元像是追偿款，但登记簿中没有尚待补回的追偿（recovery）"
                )
            what = "同时符合多笔追偿" if chosen else "与按追偿分配顺序应补回的金额不符"
            return self._suspense(row, f"追偿款 {yuan(row.amount)} 元{what}（{'；'.join(expected)}）")
        loan_id, r, g = chosen[0]
        postings: list[tuple[str, Decimal]] = []
        if r:
            postings += [(self.acct("risk_fund"), r)]
        if g:
            postings += [(self.acct("guarantee_fund"), g)]
        if r:
            postings += [(self.acct("recovery_risk"), -r)]
        if g:
            postings += [(self.acct("recovery_guarantee"), -g)]
        entry = self._txn(row, f"追偿款补回 {loan_id}", postings, links=frozenset({loan_id}))
        booked = self.book.recovered.setdefault(loan_id, {})
        for fund, amount in ((RISK, r), (GUARANTEE, g)):
            booked[fund] = booked.get(fund, ZERO) + amount
        return entry


def existing_serials(entries: Sequence[Directive], pool: str) -> dict[str, Directive]:
    """serial -> the ledger entry carrying it, for transactions on the pool's accounts."""
    found: dict[str, Directive] = {}
    prefix = pool + ":"
    for entry in entries:
        if not isinstance(entry, Transaction):
            continue
        serial = entry.meta.get(SERIAL) if entry.meta else None
        if serial is None:
            continue
        if any(p.account == pool or p.account.startswith(prefix) for p in entry.postings):
            found.setdefault(str(serial), entry)
    return found


def existing_balances(entries: Sequence[Directive], account: str) -> set[tuple[datetime.date, Decimal]]:
    return {
        (e.date, e.amount.number)
        for e in entries
        if isinstance(e, data.Balance) and e.account == account
    }


def opened_accounts(entries: Sequence[Directive]) -> set[str]:
    return {e.account for e in entries if isinstance(e, data.Open)}


def check_position(statement: Statement, existing: Sequence[Directive], pool: str) -> None:
    """A statement must start where the ledger's pool account stands, and the ledger must
    hold no bank movement in the statement's period that deduplication cannot recognise
    (a transaction changing the pool's balance without a serial number). Raises
    :class:`StatementError` otherwise: importing then would duplicate or leave a gap."""
    first, last = statement.rows[0], statement.rows[-1]
    prefix = pool + ":"
    before = ZERO
    unmarked: list[Transaction] = []
    for entry in existing:
        if not isinstance(entry, Transaction) or entry.date > last.date:
            continue
        net = sum(
            (p.units.number for p in entry.postings
             if (p.account == pool or p.account.startswith(prefix))
             and isinstance(p.units, Amount) and p.units.currency == CURRENCY),
            ZERO,
        )
        if not net:
            continue  # not a bank movement (e.g. suspense reclassified to a fund)
        if entry.date < first.date:
            before += net
        elif SERIAL not in entry.meta:
            unmarked.append(entry)
    if unmarked:
        e = unmarked[0]
        where = f"{e.meta.get('filename')}:{e.meta.get('lineno')}"
        raise StatementError(
            statement.path,
            f"账本中 {first.date} 至 {last.date} 已有 {len(unmarked)} 笔没有流水号（serial）的专户收支"
            f"（如 {where} {e.date} {e.narration}），无法判断是否与本对账单重复；"
            "请给这些分录补上对账单中的流水号（serial 元数据），或只导入此后的对账单",
            row=statement.header_row,
        )
    if before != statement.opening_balance:
        raise StatementError(
            statement.path,
            f"期初余额 {yuan(statement.opening_balance)} 元与账本不符：账本中专户 {pool} 在 {first.date} 日初的余额为 "
            f"{yuan(before)} 元（相差 {yuan(statement.opening_balance - before)} 元）；"
            "账本可能缺少此前的流水（请先导入更早的对账单），或账本有误",
            row=first.line,
            column=statement.balance_label,
        )


def build_entries(
    statement: Statement,
    config: PoolConfig,
    rulebook: Rulebook,
    existing: Sequence[Directive] | Ledger,
    *,
    for_fava: bool = False,
) -> Extraction:
    """The entries a statement adds to a ledger holding ``existing`` (sorted entries, or a
    :class:`Ledger` carrying the analysis of its load and what this import added before)."""
    ledger = existing if isinstance(existing, Ledger) else Ledger(existing)
    existing = ledger.entries
    program = rulebook.programs.get(config.program)
    if program is None:
        known = "、".join(rulebook.programs)
        raise ImportFailure(
            f"导入配置 {config.path} 的项目 {config.program} 不在规则文件 {config.rules_path} 中（已有：{known}）"
        )
    pool = program.accounts["pool"]
    check_position(statement, existing, pool)
    seen = existing_serials(existing, pool)
    new_rows = [row for row in statement.rows if row.serial not in seen]
    skipped = len(statement.rows) - len(new_rows)
    entries: list[Directive] = []
    suspense = 0
    used: dict[str, datetime.date] = {}
    classifier = None
    if new_rows:
        classifier = Classifier(config, rulebook, ledger.baseline(rulebook), statement, for_fava)
        for row in new_rows:
            entry = classifier.classify(row)
            classifier.new.append(entry)
        entries.extend(classifier.new)
        suspense = classifier.suspense_count
        used = classifier.used_accounts
    # Accounts: the unidentified sources/uses are opened on first use; any other account
    # the ledger lacks is an error (the ledger's accounts are opened by people).
    opened = opened_accounts(existing)
    opens = []
    for account, day in sorted(used.items(), key=lambda item: (item[1], item[0])):
        if account in opened:
            continue
        if account in (config.unidentified_income, config.unidentified_expense):
            what = "待查明款项的来源" if account.startswith("Income:") else "待查明款项的去向"
            meta = data.new_metadata(statement.path, 0)
            meta["description"] = f"{what}（导入对账单时自动开立）"
            opens.append(data.Open(meta, day, account, [CURRENCY], None))
        else:
            raise ImportFailure(f"账本中没有开立账户 {account}（导入 {statement.path} 要用到），请先在账本中 open 该账户")
    if opens and for_fava:  # Fava's import page cannot save an open directive
        lines = "；".join(f"{o.date} open {o.account} {CURRENCY}" for o in opens)
        raise ImportFailure(
            f"账本中没有开立待查明款项的对方账户，本对账单有待查明的收支要记入；请先在账本中加上：{lines}"
        )
    # The running balance as assertions on the pool (start of day): before the first row
    # and after the last one.
    balances = existing_balances(existing, pool)
    if pool not in opened:
        raise ImportFailure(f"账本中没有开立专户上级账户 {pool}（余额断言记在它上面），请先在账本中 open 该账户")
    first, last = statement.rows[0], statement.rows[-1]
    assertions = [
        (first.date, statement.opening_balance, first.line),
        (last.date + ONE_DAY, statement.closing_balance, last.line),
    ]
    for day, number, line in assertions:
        if (day, number) in balances:
            continue
        meta = data.new_metadata(statement.path, line)
        entries.append(data.Balance(meta, day, pool, _amount(number), None, None))
    book = classifier.book if classifier is not None else None
    return Extraction(statement, [*opens, *entries], skipped, suspense, book)

