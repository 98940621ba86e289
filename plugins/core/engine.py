"""The rule engine: Beancount entries + rules.yaml -> findings, and the pool's state.

This is the one place that reads the pool's books. The Beancount plugin runs
:func:`analyse` once per load and leaves its :class:`Analysis` in the load's options map
(:class:`LoadResult`); the CLI, the Fava pages, the importer and the reports read that one
result (:func:`result_of`), and run :func:`analyse` themselves only for a load that has
none (a ledger without the plugin line). None computes a balance, a 积数 or a waterfall
its own way.

It reads the entries in two steps, each linear in their number:

1. the register directives (``custom "loan" ...``) are validated (one validator per
   event kind, built once) and indexed by loan; each event is handed, as it is filed in
   date order, to the rule modules that subscribe to its kind (``on_register``);
2. the entries are walked once in ledger order. Every transaction that touches a
   program's accounts is classified by the roles of its accounts (fee, injection,
   interest, compensation, recovery, disposal, other), checked by the rule modules
   (:mod:`zhubaodai.checks.fees`, :mod:`zhubaodai.checks.pool`, :mod:`zhubaodai.checks.waterfall`) against the
   state *before* it, and then applied to the funds' daily balances.

Rules a program does not list in rules.yaml are not run for it.
"""

from __future__ import annotations

import bisect
import datetime
import gc
import os
import weakref
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from functools import partial
from operator import attrgetter
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from beancount.core.data import Balance
from beancount.core.data import Custom
from beancount.core.data import Directive
from beancount.core.data import Pad
from beancount.core.data import Transaction

from zhubaodai.core.findings import ERROR
from zhubaodai.core.findings import FORMAT_CITATION
from zhubaodai.core.findings import FORMAT_RULE
from zhubaodai.core.findings import Finding
from zhubaodai.core.findings import WARNING
from zhubaodai.core.findings import figure_key
from zhubaodai.core.findings import figures_text
from zhubaodai.core.money import CURRENCY
from zhubaodai.core.money import FEN
from zhubaodai.core.money import ZERO
from zhubaodai.core.money import plus
from zhubaodai.core.names import GENERIC_NAMES
from zhubaodai.core.register import REGISTER_KINDS
from zhubaodai.core.register import REGISTER_TYPES
from zhubaodai.core.register import Event
from zhubaodai.core.register import Loan
from zhubaodai.core.register import Register
from zhubaodai.core.register import Subscribers
from zhubaodai.core.register import build_register
from zhubaodai.core.rules import ParamDateError
from zhubaodai.core.rules import Program
from zhubaodai.core.rules import Rulebook

if TYPE_CHECKING:  # the rule modules import this one
    from zhubaodai.checks.payouts import RunningTotal
    from zhubaodai.checks.adequacy import AdequacyCheck
    from zhubaodai.checks.adequacy import RiskWatch
    from zhubaodai.checks.deadlines import DeadlineRecord
    from zhubaodai.checks.deadlines import NoticeWatch
    from zhubaodai.checks.deposits import DepositAccount
    from zhubaodai.checks.pool import Outflow
    from zhubaodai.checks.evidence import EvidenceRecord
    from zhubaodai.checks.periods import PeriodRecord
    from zhubaodai.checks.fees import FeeAccount
    from zhubaodai.checks.fees import FeeWatch
    from zhubaodai.checks.payouts import PayoutTotals
    from zhubaodai.checks.pool import InterestAllocation
    from zhubaodai.checks.waterfall import Claim
    from zhubaodai.checks.waterfall import LoanRecoveries
    from zhubaodai.checks.waterfall import LossShare
    from zhubaodai.checks.waterfall import PendingClaims
    from zhubaodai.checks.waterfall import Recovery
    from zhubaodai.checks.waterfall import SharedClaim
    from zhubaodai.checks.evidence import EvidenceWatch
    from zhubaodai.checks.lifecycle import LifecycleWatch
    from zhubaodai.checks.loans import LoanStreams

GUARANTEE = "guarantee"
RISK = "risk"
#: The funds' generic names; a program's own are ``Program.names`` (zhubaodai.core.names).
FUND_LABELS = {GUARANTEE: GENERIC_NAMES.fund(GUARANTEE), RISK: GENERIC_NAMES.fund(RISK)}

#: Transaction kinds, by the roles of the accounts they touch (first match wins in
#: :data:`KIND_ROLES` order; a transaction touching two kinds is a format error).
KIND_ROLES: dict[str, tuple[str, ...]] = {
    "fee": ("fee_income",),
    "injection": ("injection",),
    "interest": ("interest_guarantee", "interest_risk"),
    "compensation": ("compensation_guarantee", "compensation_risk"),
    "recovery": ("recovery_guarantee", "recovery_risk"),
    "disposal": ("disposal",),
    # Optional roles (rules.OPTIONAL_ROLES): the pledged deposits' sub-ledger and the other
    # outflows a policy allows (zhubaodai.checks.deposits, zhubaodai.checks.pool).
    "deposit": ("deposits", "deposit_source", "compensation_deposit"),
    "outflow": ("outflow_subsidy", "outflow_management"),
}
KIND_LABELS = {
    "fee": "助保金缴存",
    "injection": "风险补偿金注入",
    "interest": "孳息",
    "compensation": "代偿",
    "recovery": "追偿补回",
    "disposal": "终止处置",
    "deposit": "质押存单",
    "outflow": "政策允许的支出",
    "other": "其他",
}
_ROLE_KIND = {role: kind for kind, roles in KIND_ROLES.items() for role in roles}
_MISSING = object()
#: A fund's account role (``<fund>_fund``), spelled once.
_FUND_ROLE = {GUARANTEE: "guarantee_fund", RISK: "risk_fund"}


class DailyBalance:
    """A fund's end-of-day balances, for balances at a date and 积数 over a period.

    Kept as the days on which the balance changed, the balance at the end of each such
    day, and the running sum of end-of-day balances before it: an update is O(1) and a
    积数 over any period is two binary searches.
    """

    __slots__ = ("_days", "_sum_before", "_eod")

    def __init__(self) -> None:
        self._days: list[int] = []
        self._sum_before: list[Decimal] = []
        self._eod: list[Decimal] = []

    def add(self, day: datetime.date, delta: Decimal) -> None:
        o = day.toordinal()
        if self._days and self._days[-1] == o:
            self._eod[-1] += delta
            return
        if self._days and o < self._days[-1]:
            raise ValueError("entries must come in date order")
        if self._days:
            before = self._sum_before[-1] + self._eod[-1] * (o - self._days[-1])
            balance = self._eod[-1]
        else:
            before, balance = ZERO, ZERO
        self._days.append(o)
        self._sum_before.append(before)
        self._eod.append(balance + delta)

    @property
    def balance(self) -> Decimal:
        """The balance now (after every entry seen so far)."""
        return self._eod[-1] if self._eod else ZERO

    @property
    def first_day(self) -> datetime.date | None:
        return datetime.date.fromordinal(self._days[0]) if self._days else None

    def at(self, day: datetime.date) -> Decimal:
        """The balance at the end of ``day``."""
        i = bisect.bisect_right(self._days, day.toordinal()) - 1
        return self._eod[i] if i >= 0 else ZERO

    def _sum_through(self, o: int) -> Decimal:
        i = bisect.bisect_right(self._days, o) - 1
        if i < 0:
            return ZERO
        return self._sum_before[i] + self._eod[i] * (o - self._days[i] + 1)

    def jishu(self, start: datetime.date, end: datetime.date) -> Decimal:
        """积数: the sum of end-of-day balances over ``start``..``end`` inclusive."""
        if end < start:
            return ZERO
        return self._sum_through(end.toordinal()) - self._sum_through(start.toordinal() - 1)

    def series(self) -> list[tuple[datetime.date, Decimal]]:
        """(day, end-of-day balance) for every day the balance changed."""
        return [(datetime.date.fromordinal(o), b) for o, b in zip(self._days, self._eod)]


@dataclass
class ProgramState:
    """A program's funds as the walk has seen them so far (at the end: the final state)."""

    program: Program
    funds: dict[str, DailyBalance] = field(
        default_factory=lambda: {GUARANTEE: DailyBalance(), RISK: DailyBalance()}
    )
    #: Balances of the pool's other accounts (the parent itself and suspense).
    unallocated: dict[str, Decimal] = field(default_factory=dict)
    #: The same balances by day (for a reconciliation at a date): account -> DailyBalance.
    unallocated_series: dict[str, DailyBalance] = field(default_factory=dict)
    #: (fund, kind) -> net change of the fund from transactions of that kind.
    flows: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    #: The same flows cumulated by day, for a period's flows: ``.at(end) - .at(start - 1)``.
    flow_series: dict[tuple[str, str], DailyBalance] = field(default_factory=dict)
    #: The last transaction that touched each of those accounts (where the check points).
    last_unallocated_entry: dict[str, Transaction] = field(default_factory=dict)
    #: End of the last interest period settled.
    last_interest_end: datetime.date | None = None
    #: The pledged deposits' sub-ledger beside the pool (:mod:`zhubaodai.checks.deposits`):
    #: loan id -> its deposit; empty for a program without the ``deposits`` role.
    deposits: dict[str, DepositAccount] = field(default_factory=dict)
    #: The outflows the program's policy allows, as booked (:mod:`zhubaodai.checks.pool`).
    outflows: list[Outflow] = field(default_factory=list)
    #: Running totals of those outflows, kept as they are booked: (rule, year) -> the
    #: year's total, and (rule, loan id) -> the loan's total.
    outflow_year_totals: dict[tuple[str, int], Decimal] = field(default_factory=dict)
    outflow_loan_totals: dict[tuple[str, str], Decimal] = field(default_factory=dict)

    def balance(self, fund: str) -> Decimal:
        return self.funds[fund].balance


@dataclass(slots=True)
class Movement:
    """One transaction as it touches one program: role -> summed CNY postings."""

    entry: Transaction
    state: ProgramState
    roles: dict[str, Decimal]
    kind: str
    loans: list[str]

    @property
    def date(self) -> datetime.date:
        return self.entry.date

    def delta(self, fund: str) -> Decimal:
        role = _FUND_ROLE.get(fund)
        return self.roles.get(role if role is not None else f"{fund}_fund", ZERO)

    def role(self, role: str) -> Decimal:
        return self.roles.get(role, ZERO)


@dataclass
class Records:
    """What the rule modules record for the faces, besides findings: each list or table is
    filled by one module (named), in walk order or at the end of the run."""

    #: :mod:`zhubaodai.checks.pool`: every interest credit, how it should be and was split.
    interest: list[InterestAllocation] = field(default_factory=list)
    #: :mod:`zhubaodai.checks.fees`: loan id -> its fees due and paid.
    fees: dict[str, FeeAccount] = field(default_factory=dict)
    #: :mod:`zhubaodai.checks.waterfall`: id(claim directive) -> the claim and its compensation.
    claims: dict[int, Claim] = field(default_factory=dict)
    #: :mod:`zhubaodai.checks.waterfall`: loan id -> its claims, in ledger order.
    claims_by_loan: dict[str, list[Claim]] = field(default_factory=dict)
    #: :mod:`zhubaodai.checks.waterfall`: loan id -> its claims borne by a table of parties
    #: (comp.shares), in ledger order.
    shares: dict[str, list[SharedClaim]] = field(default_factory=dict)
    #: :mod:`zhubaodai.checks.waterfall`: every recovery and how it is to flow back.
    recoveries: list[Recovery] = field(default_factory=list)
    #: :mod:`zhubaodai.checks.waterfall`: loan id -> what its recoveries owe each fund, and got.
    loan_recoveries: dict[str, LoanRecoveries] = field(default_factory=dict)
    #: :mod:`zhubaodai.checks.waterfall`: every loss event (comp.shares ``residual``), each
    #: party's part due and recorded, as checked on the event's day.
    losses: list[LossShare] = field(default_factory=list)
    #: :mod:`zhubaodai.checks.payouts`: program -> the pool's and the guarantor's payouts so far.
    payouts: dict[str, PayoutTotals] = field(default_factory=dict)
    #: :mod:`zhubaodai.checks.deadlines`: every working-day deadline and whether it was met.
    deadlines: list[DeadlineRecord] = field(default_factory=list)
    #: :mod:`zhubaodai.checks.adequacy`: the risk fund's floor and leverage checks.
    adequacy: list[AdequacyCheck] = field(default_factory=list)
    #: :mod:`zhubaodai.checks.periods`: every close and reopening, and whether it holds.
    periods: list[PeriodRecord] = field(default_factory=list)
    #: :mod:`zhubaodai.checks.evidence`: every declared (or required) authorising document.
    evidence: list[EvidenceRecord] = field(default_factory=list)


@dataclass
class Analysis:
    """What the engine found, and the state every face of the project reads."""

    rulebook: Rulebook
    register: Register
    programs: dict[str, ProgramState]
    findings: list[Finding]
    #: What the rule modules recorded for the faces (typed, see :class:`Records`).
    records: Records = field(default_factory=Records)
    _outstanding: dict[str, DailyBalance] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    def used_programs(self) -> list[str]:
        """The programs this ledger has anything of (a register event, a pool or deposit
        movement), in rules.yaml order; every program where it has none. What the faces show
        by default: a rules file of many districts does not fill the report and the pages of
        a one-district ledger with empty programs."""
        used = {loan.program for loan in self.register.loans.values()}
        used.update(event.data["program"] for event in self.register.enterprises.values())
        used.update(self.register.program_events)
        used.update(
            code for code, state in self.programs.items()
            if state.flows or state.unallocated or state.deposits
        )
        return [code for code in self.rulebook.programs if code in used] or list(self.rulebook.programs)

    def outstanding(self, program: str, on: datetime.date) -> Decimal:
        """Principal outstanding on the program's loans at the end of ``on`` (the register:
        the sum of each loan's :meth:`~zhubaodai.core.register.Loan.outstanding`), from a daily
        series built once per analysis."""
        if self._outstanding is None:
            self._outstanding = _outstanding_series(self.register)
        series = self._outstanding.get(program)
        return series.at(on) if series is not None else ZERO


#: The key under which the plugin leaves its :class:`LoadResult` in Beancount's options map.
OPTIONS_KEY = "zhubaodai"


class LoadResult:
    """The engine's one result for one load of a ledger, left by the plugin for the faces.

    The plugin puts it in the load's options map (:data:`OPTIONS_KEY`): ``zbd check``,
    the reports, the stress test, the Fava pages and the importer read it there instead of
    running the engine again (:func:`result_of`). It is for this process only: pickled
    (Beancount's cache of a load) it comes back empty, so a cached load never passes off
    an old analysis as the current one, and Fava's options page shows one short line.
    """

    __slots__ = ("analysis", "rules_path", "entries", "__weakref__")

    def __init__(
        self,
        analysis: Analysis | None = None,
        rules_path: str | None = None,
        entries: list[Directive] | None = None,
    ) -> None:
        self.analysis = analysis
        #: The rules file the analysis applied (absolute, normalised).
        self.rules_path = rules_path
        #: The entries the plugin checked (the faces see the same entry objects).
        self.entries = entries

    def __reduce__(self) -> tuple[Any, ...]:
        return (LoadResult, ())

    def __str__(self) -> str:
        if self.analysis is None:
            return "（本次加载没有规则引擎结果）"
        n = len(self.analysis.findings)
        return f"规则引擎本次加载的检查结果：{len(self.analysis.errors)} 个错误，{n - len(self.analysis.errors)} 个警告"

    __repr__ = __str__


#: The most recent loads' results, for a face that is handed the entries but not the
#: options map (Fava's import page gives an importer ``existing`` entries only), found by
#: the identity of the load's first entry. Weak references: a result lives as long as its
#: options map (Fava keeps it while the load is current); holding it here would keep a
#: whole ledger and its analysis alive to the end of a ``bean-check`` process, whose
#: interpreter shutdown then walks them all (0.7 s at 10k transactions).
_RECENT: list[weakref.ref[LoadResult]] = []
_RECENT_KEEP = 4


def keep_result(options: dict[str, Any], result: LoadResult) -> None:
    """Leave ``result`` for the faces of this load (called by the plugin)."""
    options[OPTIONS_KEY] = result
    if result.entries:
        _RECENT[:] = [r for r in _RECENT if r() is not None][-(_RECENT_KEEP - 1) :]
        _RECENT.append(weakref.ref(result))


def result_of(
    options: Mapping[str, Any] | None = None,
    entries: list[Directive] | None = None,
    rules_path: str | None = None,
) -> Analysis | None:
    """The plugin's analysis of this load, from its options map or (failing that) its
    entries; None where the plugin did not run on it (no plugin line, a cached load, other
    rules asked for)."""
    found = (options or {}).get(OPTIONS_KEY)
    if not isinstance(found, LoadResult) or found.analysis is None:
        found = None
        if entries:
            first = entries[0]
            live = (ref() for ref in reversed(_RECENT))
            found = next((r for r in live if r is not None and r.entries and r.entries[0] is first), None)
    if found is None or found.analysis is None:
        return None
    if rules_path is not None and found.rules_path != os.path.normpath(os.path.abspath(rules_path)):
        return None
    return found.analysis


def _outstanding_series(register: Register) -> dict[str, DailyBalance]:
    """Program -> its loans' principal outstanding by day, in one pass over the register
    (each loan's principal after each event, as the register computed it)."""
    changes: dict[str, dict[datetime.date, Decimal]] = {}
    for loan in register.loans.values():
        days = changes.setdefault(loan.program, {})
        balance = ZERO
        for event in loan.events:
            after = event.principal
            if after != balance:
                days[event.date] = days.get(event.date, ZERO) + after - balance
                balance = after
    series: dict[str, DailyBalance] = {}
    for program, days in changes.items():
        found = series[program] = DailyBalance()
        for day in sorted(days):
            found.add(day, days[day])
    return series


class Context:
    """Shared state of one run, handed to every rule module."""

    def __init__(self, rulebook: Rulebook, register: Register) -> None:
        self.rulebook = rulebook
        self.register = register
        self.states = {code: ProgramState(p) for code, p in rulebook.programs.items()}
        self.findings: list[Finding] = []
        self.records = Records()
        #: id(register directive) -> its event, for the events the walk dispatches
        #: (:mod:`zhubaodai.checks.waterfall`: claims and recoveries).
        self.walk_events: dict[int, Event] = {}
        #: Program -> the claims waiting for compensation in order (:mod:`zhubaodai.checks.waterfall`).
        self.pending_claims: dict[str, PendingClaims] = {}
        #: Program -> the first new credit or pool entry seen (:mod:`zhubaodai.checks.lifecycle`).
        self.lifecycle_first: dict[str, tuple[datetime.date, Directive, str]] = {}
        #: Program -> its openings, terminations and new credit as filed (:mod:`zhubaodai.checks.lifecycle`).
        self.lifecycle: dict[str, LifecycleWatch] = {}
        #: Each borrower's credit lines as filed, its new credit judged at the end of each
        #: day (:mod:`zhubaodai.checks.loans`).
        self.loan_streams: LoanStreams | None = None
        #: The notices judged as the register files them (:mod:`zhubaodai.checks.deadlines`).
        self.notice_watch: NoticeWatch | None = None
        #: The fees due as the register files them, and their accounts (:mod:`zhubaodai.checks.fees`).
        self.fee_watch: FeeWatch | None = None
        #: Loan id -> its approval, contracts, disbursements and increases as filed, for
        #: the programs with deposit.pledge (:mod:`zhubaodai.checks.deposits`).
        self.pledges: dict[str, list[Event]] | None = None
        #: The register events that declare or need a document (:mod:`zhubaodai.checks.evidence`).
        self.evidence: EvidenceWatch | None = None
        #: Program -> the risk fund's watch of floor and leverage (:mod:`zhubaodai.checks.adequacy`).
        self.risk_watch: dict[str, RiskWatch] = {}
        #: (program, what) -> register amounts summed as the walk's date advances
        #: (:mod:`zhubaodai.checks.payouts`: loans lent, guarantor fees).
        self.running_totals: dict[tuple[str, str], RunningTotal] = {}
        #: The last day the books cover (their latest entry): deadlines not yet met are
        #: breaches only once it has passed them.
        self.as_of: datetime.date | None = None
        #: The ledger's entries and Beancount's options map of the load, for a module that
        #: reads the books as a whole (:mod:`zhubaodai.checks.periods`: their digest).
        self.entries: Sequence[Directive] = ()
        self.options: Mapping[str, Any] | None = None
        self._params: dict[tuple[str, str, str, datetime.date], Any] = {}

    def active(self, program: str, rule_id: str) -> bool:
        """Whether ``program`` lists ``rule_id`` in rules.yaml."""
        return rule_id in self.rulebook.programs[program].rules

    def param(self, program: str, rule_id: str, name: str, on: datetime.date, entry: Directive) -> Any:
        """A rule parameter in force on ``on``; a date before its first version is reported
        as an error of that rule and gives None."""
        key = (program, rule_id, name, on)
        found = self._params.get(key, _MISSING)
        if found is not _MISSING:
            return found
        rule = self.rulebook.programs[program].rules[rule_id]
        try:
            value = rule.param(name, on)
        except ParamDateError as exc:
            self.report(rule_id, program, entry, f"{exc}，无法按规则核对", severity=ERROR)
            return None
        self._params[key] = value  # the same day asks again for many loans
        return value

    def report(
        self,
        rule_id: str,
        program: str | None,
        entry: Directive | None,
        message: str,
        *,
        figures: Mapping[str, Decimal] | None = None,
        loan: str | None = None,
        severity: str | None = None,
        stated: Mapping[str, Decimal] | None = None,
        on: datetime.date | None = None,
    ) -> None:
        """Record a finding of ``rule_id``; its severity and article come from rules.yaml.

        Its citation is the one of the parameters' versions in force on ``on`` (default: the
        entry's date), where a version cites its own text (:meth:`Program.cite_rule`): a check
        that applied a value of another day (a fee at the contract date's rate, reported on
        the payment) passes that day as ``on``.

        ``figures`` are appended to the message ("；应缴 75,000.00 元，…"); ``stated`` are
        figures the message already states in its own words (a rate, a count of days): they
        join the finding's figures (for JSON) and leave the message as it is."""
        names = GENERIC_NAMES
        if rule_id == FORMAT_RULE or program is None:
            citation = FORMAT_CITATION
            severity = severity or ERROR
        else:
            prog = self.rulebook.programs[program]
            rule = prog.rules[rule_id]
            when = on if on is not None else (entry.date if entry is not None else None)
            citation = prog.cite_rule(rule, when)
            severity = severity or rule.severity
            names = prog.names
        figures = dict(figures or {})
        if figures:
            message = f"{message}；{figures_text(figures)}"
        for label, value in (stated or {}).items():
            figures.setdefault(label, value)
        # The checks write the generic fund names; the program's own are put in here, in the
        # one place every finding passes (zhubaodai.core.names). A figure keeps the machine
        # key of its generic label, so the JSON form is the same for every program.
        keys = tuple(figure_key(label) for label in figures)
        message = names.say(message)
        meta = entry.meta if entry is not None else {}
        self.findings.append(
            Finding(
                rule=rule_id,
                severity=severity,
                program=program,
                citation=citation,
                message=message,
                filename=meta.get("filename"),
                lineno=meta.get("lineno"),
                date=entry.date if entry is not None else None,
                loan=loan,
                figures=tuple((names.say(label), value) for label, value in figures.items()),
                entry=entry,
                figure_keys=keys,
            )
        )


def _is_register(entry: Directive) -> bool:
    return isinstance(entry, Custom) and entry.type in REGISTER_TYPES


def analyse(
    entries: Iterable[Directive], rulebook: Rulebook, options: Mapping[str, Any] | None = None
) -> Analysis:
    """Run every rule of every program over ``entries`` (sorted, as Beancount gives them).

    ``options`` is Beancount's options map of the load, where there is one: it says how far
    Beancount itself lets a balance assertion be off, and which plugins run after ours
    (:mod:`zhubaodai.checks.integrity`).
    """
    # The ledger's entries are many and long-lived: Python's cyclic collector would
    # traverse all of them on every full collection the engine's allocations trigger
    # (a third of the engine's time at 10k transactions, growing with the ledger).
    # Freezing them for the run keeps the collector on the engine's own young objects.
    # The engine's own objects (an event per register directive, its records) make no
    # garbage cycles worth collecting mid-run either, yet their growth triggers repeated
    # collections over them: the collector is paused for the run.
    # At the end, the run's objects (the analysis, which the faces keep) join the books
    # in the oldest generation, as if they had survived a full collection: left young,
    # the first collections after the run (Beancount's own steps after the plugins) would
    # walk them twice and count them all as newly long-lived, which triggers a full
    # collection over the whole ledger (the results are kept; collectable as ever).
    enabled = gc.isenabled()
    gc.disable()
    gc.freeze()
    try:
        return _analyse(entries, rulebook, options)
    finally:
        gc.freeze()  # the run's young objects join the frozen ones,
        gc.unfreeze()  # and all go back to the oldest generation
        if enabled:
            gc.enable()


def _analyse(
    entries: Iterable[Directive], rulebook: Rulebook, options: Mapping[str, Any] | None
) -> Analysis:
    from zhubaodai.checks import CHECKS
    from zhubaodai.checks import integrity
    from zhubaodai.checks import waterfall

    # Beancount's list as it is (a copy of half a million references is 4 MB more at peak).
    entries = entries if type(entries) is list else list(entries)
    customs = [e for e in entries if isinstance(e, Custom) and e.type in REGISTER_TYPES]  # _is_register
    programs = set(rulebook.programs)
    holder: list[Context] = []

    def register_error(entry: Custom, message: str, program: str | None) -> None:
        holder[0].report(FORMAT_RULE, None, entry, message)

    # The context needs the register and the register reports through the context.
    ctx = Context(rulebook, Register())
    holder.append(ctx)
    # Closing a period is no business of the books: its date does not move their last day.
    # (Known before the register is filed: a notice is judged against it as it is filed.)
    ctx.as_of = _last_day(entries, customs)
    # Each register event is validated once and dispatched once, as the register files it
    # (in date order), to the modules that subscribe to it; none of them reads the
    # register's events again afterwards.
    build_register(customs, programs, register_error, _subscribers(ctx, CHECKS), ctx.register)

    accounts = AccountRoles(rulebook)
    ctx.entries = entries
    ctx.options = options
    # Each transaction kind's hooks, in CHECKS order: the modules subscribe by kind.
    hooks_by_kind = {
        kind: tuple(
            check.on_movement
            for check in CHECKS
            if hasattr(check, "on_movement") and (check.MOVEMENT_KINDS is None or kind in check.MOVEMENT_KINDS)
        )
        for kind in KIND_LABELS
    }
    for check in CHECKS:
        if hasattr(check, "start"):
            check.start(ctx)
    walk_events = ctx.walk_events  # id(entry) -> the register events of the walk
    loans_by_id = ctx.register.loans  # a transaction's links name its loans

    # account -> (program, role), or None for an account outside every pool; filled as
    # the walk's postings meet accounts (a ledger has few, its postings many): its own, as
    # an account's first posting also decides whether its balance is kept (``in_pool``).
    roles_of: dict[str, tuple[str, str] | None] = {}
    # Their balance assertions hold to the fen.
    at_bank = accounts.at_bank
    # Balances of the accounts at or under those, for balance assertions.
    pool_totals: dict[str, Decimal] = {}
    in_pool = {account for account in accounts.named if _under(account, at_bank)}
    tolerance = integrity.BalanceTolerance(options)
    integrity.check_plugins(ctx, options)
    for entry in entries:
        entry_type = type(entry)
        if entry_type is Transaction:
            touched: dict[str, dict[str, Decimal]] = {}
            bad_currency = False
            off_fen = False
            for posting in entry.postings:
                account = posting.account
                found = roles_of.get(account, _MISSING)
                if found is _MISSING:
                    found = roles_of[account] = accounts.of(account)
                    if found is not None and _under(account, at_bank):
                        in_pool.add(account)
                if found is None:
                    continue
                code, role = found
                units = posting.units
                if units.currency != CURRENCY:
                    bad_currency = True
                    continue
                number = units.number
                if number != number.quantize(FEN):
                    off_fen = True
                roles = touched.get(code)
                if roles is None:
                    roles = touched[code] = {}
                # A role's single posting keeps its own figure (plus): a fee payment's is
                # kept in the records.
                roles[role] = plus(roles.get(role, ZERO), number)
                if account in in_pool:
                    pool_totals[account] = pool_totals.get(account, ZERO) + number
            if bad_currency:
                ctx.report(FORMAT_RULE, None, entry, f"资金池账户只记人民币（{CURRENCY}）")
            if off_fen:
                ctx.report(FORMAT_RULE, None, entry, "资金池账户的金额应精确到分（两位小数）")
            for code, roles in touched.items():
                state = ctx.states[code]
                movement = _movement(ctx, entry, state, roles, loans_by_id)
                if movement is None:
                    _apply(state, entry, roles, "other")
                    continue
                for hook in hooks_by_kind[movement.kind]:
                    hook(ctx, movement)
                _apply(state, entry, roles, movement.kind)
        elif entry_type is Custom:
            if id(entry) in walk_events:  # a claim or recovery waterfall acts on
                waterfall.on_register_event(ctx, entry)
        elif entry_type is Balance:
            if _under(entry.account, at_bank):
                prefix = entry.account + ":"
                booked = sum(
                    (n for a, n in pool_totals.items() if a == entry.account or a.startswith(prefix)),
                    ZERO,
                )
                integrity.check_balance(ctx, entry, booked, tolerance, _is_deposit(accounts.of(entry.account)))
        elif entry_type is Pad:
            for side in (entry.account, entry.source_account):
                found = accounts.of(side)
                if found is not None:
                    integrity.check_pad(ctx, entry, side, _is_deposit(found))
                    break

    for check in CHECKS:
        check.finish(ctx)
    return Analysis(rulebook, ctx.register, ctx.states, ctx.findings, ctx.records)


def _last_day(entries: Sequence[Directive], customs: Sequence[Custom]) -> datetime.date | None:
    """The books' last day: their latest entry's date, a period's close or reopening aside
    (``customs``: the register directives among ``entries``). The latest date of all is
    taken at C speed; only where a period event alone stands on it are the entries read."""
    if not entries:
        return None
    top = max(map(_date_of, entries))
    if any(e.date == top and e.type == "period" for e in customs):
        return max(
            (e.date for e in entries if type(e) is not Custom or e.type != "period"), default=None
        )
    return top


_date_of = attrgetter("date")


def _subscribers(ctx: Context, checks: Iterable[Any]) -> Subscribers:
    """The rule modules' subscriptions to register events, each hook bound to the run:
    ``on_register(ctx, event)`` for the (type, kind) pairs in its ``REGISTER_KINDS`` (None:
    every event) and for any event carrying one of the metadata keys in its
    ``REGISTER_META``; several hooks of one pair are called in :data:`CHECKS` order."""
    plain: dict[tuple[str, str], list[Callable[[Event], None]]] = {}
    watched: dict[tuple[str, str], list[Callable[[Event], None]]] = {}
    keys: set[str] = set()
    for check in checks:
        hook = getattr(check, "on_register", None)
        if hook is None:
            continue
        bound = partial(hook, ctx)
        kinds = check.REGISTER_KINDS if check.REGISTER_KINDS is not None else REGISTER_KINDS
        meta = frozenset(getattr(check, "REGISTER_META", ()))
        keys |= meta
        for pair in sorted(REGISTER_KINDS):
            if pair in kinds:
                plain.setdefault(pair, []).append(bound)
            if pair in kinds or meta:
                watched.setdefault(pair, []).append(bound)
    return Subscribers(
        {pair: _composed(hooks) for pair, hooks in plain.items()},
        frozenset(keys),
        {pair: _composed(hooks) for pair, hooks in watched.items()},
    )


def _composed(hooks: Sequence[Callable[[Event], None]]) -> Callable[[Event], None]:
    if len(hooks) == 1:
        return hooks[0]
    hooks = tuple(hooks)

    def each(event: Event) -> None:
        for hook in hooks:
            hook(event)

    return each


class AccountRoles:
    """Which program's money an account holds, and in which role: the one reading of the
    accounts, for the walk and for the importer (which books what the walk will read).

    By rules.yaml's accounts by role; else any account under a pool's special account is
    that pool's (role ``pool``), and any account under a pledged-deposits parent is a
    loan's deposit (role ``deposits``); None for any other account."""

    __slots__ = ("named", "pools", "parents", "at_bank", "known")

    def __init__(self, rulebook: Rulebook) -> None:
        #: account -> (program, role), as rules.yaml names them.
        self.named: Mapping[str, tuple[str, str]] = rulebook.account_roles()
        #: program -> its pool's special account.
        self.pools = {code: p.accounts["pool"] for code, p in rulebook.programs.items()}
        #: ``"<deposits parent>:"`` -> (program, ``deposits``): a loan's deposit account is under it.
        self.parents = {
            p.accounts["deposits"] + ":": (code, "deposits")
            for code, p in rulebook.programs.items()
            if "deposits" in p.accounts
        }
        #: The accounts the bank reports on (with the accounts under them): each pool's
        #: special account and each pledged-deposits parent.
        self.at_bank: tuple[str, ...] = (*self.pools.values(), *(parent[:-1] for parent in self.parents))
        #: account -> (program, role) or None, as met (a ledger has few accounts, many postings).
        self.known: dict[str, tuple[str, str] | None] = {}

    def of(self, account: str) -> tuple[str, str] | None:
        found = self.known.get(account, _MISSING)
        if found is _MISSING:
            found = self.named.get(account)
            if found is None:
                found = self._under_a_parent(account)
            self.known[account] = found
        return found  # type: ignore[return-value]

    def _under_a_parent(self, account: str) -> tuple[str, str] | None:
        for code, prefix in self.pools.items():
            if account.startswith(prefix + ":"):
                return (code, "pool")
        for prefix, role in self.parents.items():
            if account.startswith(prefix):
                return role
        return None

    def roles(self, entry: Transaction, program: str) -> dict[str, Decimal]:
        """role -> the summed CNY postings of ``program``'s accounts in ``entry``: the roles
        of the movement the walk makes of it for that program."""
        roles: dict[str, Decimal] = {}
        for posting in entry.postings:
            found = self.of(posting.account)
            if found is None or found[0] != program or posting.units.currency != CURRENCY:
                continue
            role = found[1]
            roles[role] = plus(roles.get(role, ZERO), posting.units.number)
        return roles


def _is_deposit(found: tuple[str, str] | None) -> bool:
    """Whether an account's (program, role) is a pledged deposit's (the messages say so)."""
    return found is not None and found[1] == "deposits"


def movement_kind(roles: Iterable[str]) -> str | None:
    """The kind of a movement touching these roles (:data:`KIND_ROLES`): ``other`` for
    none of them, None for two kinds (a format error)."""
    kind = None
    for role in roles:
        found = _ROLE_KIND.get(role)
        if found is not None and found != kind:
            if kind is not None:
                return None
            kind = found
    return kind or "other"


def _under(account: str, roots: Sequence[str]) -> bool:
    """Whether ``account`` is one of ``roots`` (accounts the bank reports on) or under one."""
    return any(account == p or account.startswith(p + ":") for p in roots)




def _movement(
    ctx: Context,
    entry: Transaction,
    state: ProgramState,
    roles: dict[str, Decimal],
    loans_by_id: Mapping[str, Loan],
) -> Movement | None:
    code = state.program.code
    kind = movement_kind(roles)
    if kind is None:
        kinds = {_ROLE_KIND[r] for r in roles if r in _ROLE_KIND}
        labels = "、".join(KIND_LABELS[k] for k in sorted(kinds))
        ctx.report(FORMAT_RULE, None, entry, f"一笔分录只记一类资金池业务，此笔混记了：{labels}")
        return None
    return Movement(entry, state, roles, kind, movement_loans(entry, code, loans_by_id))


def movement_loans(entry: Transaction, program: str, loans_by_id: Mapping[str, Loan]) -> list[str]:
    """The loans a transaction names for ``program``: its links that are that program's
    loan ids, in link order (a link that is no loan, or another program's, is not one)."""
    links = entry.links
    if not links:
        return []
    return [link for link in links if (loan := loans_by_id.get(link)) is not None and loan.program == program]


_FUND_ROLES = tuple(_FUND_ROLE.items())


def _apply(state: ProgramState, entry: Transaction, roles: dict[str, Decimal], kind: str) -> None:
    for fund, fund_role in _FUND_ROLES:
        delta = roles.get(fund_role)
        if delta:
            state.funds[fund].add(entry.date, delta)
            key = (fund, kind)
            state.flows[key] = state.flows.get(key, ZERO) + delta
            series = state.flow_series.get(key)
            if series is None:
                series = state.flow_series[key] = DailyBalance()
            series.add(entry.date, delta)
    for role in ("pool", "suspense"):
        delta = roles.get(role)
        if delta:
            account = state.program.accounts[role]
            state.unallocated[account] = state.unallocated.get(account, ZERO) + delta
            state.unallocated_series.setdefault(account, DailyBalance()).add(entry.date, delta)
            state.last_unallocated_entry[account] = entry
