"""What each review page shows, as plain data read from the engine's :class:`Analysis`.

Pure functions, no Flask: each takes the analysis, the period Fava's time filter selects
and the programs its account filter selects, and returns small frozen dataclasses the
templates lay out. Every amount is one the engine computed (fund balances and 积数 from
``DailyBalance``, flows by kind, fee dues and payments, waterfalls, recovery parts,
interest allocations, findings); the pages only select, sum per period and format.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import MISSING
from dataclasses import fields
from dataclasses import replace
from decimal import Decimal
from typing import Any
from typing import TypeVar

from beancount.core import account as bc_account
from fava.core.filters import Match

from zhubaodai.checks.waterfall import DEDUCTION_LABELS
from zhubaodai.checks.waterfall import LossPart
from zhubaodai.checks.waterfall import PARTIES
from zhubaodai.checks.waterfall import PARTY_LABELS
from zhubaodai.checks.waterfall import claim_parts
from zhubaodai.checks.waterfall import npl_classified
from zhubaodai.checks.waterfall import program_parties
from zhubaodai.checks.waterfall import uses_npl
from zhubaodai.checks.deposits import MOVE_LABELS
from zhubaodai.checks.deposits import PLEDGE
from zhubaodai.checks.deposits import RELEASE
from zhubaodai.checks.deposits import USE
from zhubaodai.core.engine import Analysis
from zhubaodai.core.engine import DailyBalance
from zhubaodai.core.engine import GUARANTEE
from zhubaodai.core.engine import KIND_LABELS
from zhubaodai.core.engine import RISK
from zhubaodai.core.findings import ERROR
from zhubaodai.core.findings import FORMAT_RULE
from zhubaodai.core.findings import Finding
from zhubaodai.core.findings import SEVERITY_LABELS
from zhubaodai.core.findings import WARNING
from zhubaodai.core.labels import for_reviewer
from zhubaodai.core.names import GENERIC_NAMES
from zhubaodai.core.names import FundNames
from zhubaodai.core.money import ZERO
from zhubaodai.core.money import percent
from zhubaodai.core.money import yuan
from zhubaodai.core.register import Loan
from zhubaodai.core.rules import CATALOGUE
from zhubaodai.core.rules import Program
from zhubaodai.fava.charts import Chart
from zhubaodai.fava.charts import Series
from zhubaodai.fava.charts import make_chart
from zhubaodai.fava.loanfacts import LoanFacts
from zhubaodai.fava.loanfacts import LoanIndex
from zhubaodai.fava.loanfacts import contracted_amount
from zhubaodai.fava.loanfacts import loan_status
from zhubaodai.fava.loanfacts import maturity_on
from zhubaodai.fava.loanfacts import register_status

ONE_DAY = datetime.timedelta(days=1)
FUNDS = (GUARANTEE, RISK)
#: Kinds of fund movement in the order the overview lists them: sources, then uses.
FLOW_KINDS = ("fee", "injection", "interest", "recovery", "compensation", "outflow", "disposal", "other")
#: At most this many points per line in a chart (more are sampled on an even grid).
CHART_POINTS = 400


# --------------------------------------------------------------------------------------
# Period and programs: what Fava's filters select.


@dataclass(frozen=True)
class Period:
    """The days a page covers: Fava's time filter, or the whole ledger."""

    start: datetime.date | None  # first day included; None: from the first entry
    end: datetime.date  # last day included
    filtered: bool

    @property
    def label(self) -> str:
        if not self.filtered:
            return f"全部期间（截至 {self.end}）"
        return f"{self.start} 至 {self.end}"

    def contains(self, day: datetime.date | None) -> bool:
        if day is None:
            return True
        return (self.start is None or day >= self.start) and day <= self.end

    @property
    def day_before(self) -> datetime.date | None:
        return self.start - ONE_DAY if self.start is not None else None


def make_period(
    begin: datetime.date | None, end_exclusive: datetime.date | None, last_date: datetime.date | None
) -> Period:
    """From Fava's date range (end exclusive) or, without one, up to the last entry."""
    if begin is not None and end_exclusive is not None:
        return Period(begin, end_exclusive - ONE_DAY, True)
    return Period(None, last_date or datetime.date.today(), False)


def select_programs(
    analysis: Analysis, account_filter: str | None, wanted: str | None = None, used: Sequence[str] | None = None
) -> list[str]:
    """Programs whose accounts match Fava's account filter (as Fava matches accounts:
    the account or an ancestor, or a regular expression), optionally just ``wanted``;
    among ``used`` (:meth:`Analysis.used_programs`, where the caller has it already)."""
    codes = list(used) if used is not None else analysis.used_programs()
    if wanted:
        codes = [c for c in analysis.rulebook.programs if c == wanted]
    if not account_filter:
        return codes
    match = Match(account_filter)  # as Fava's account filter: a regex, else the exact name
    return [
        code
        for code in codes
        if any(
            bc_account.has_component(name, account_filter) or match(name)
            for name in analysis.rulebook.programs[code].accounts.values()
        )
    ]


# --------------------------------------------------------------------------------------
# 资金池概况


@dataclass(frozen=True)
class Flow:
    kind: str
    label: str
    amount: Decimal  # signed: + into the fund, - out of it


@dataclass(frozen=True)
class FundView:
    fund: str
    label: str
    account: str
    opening: Decimal
    flows: tuple[Flow, ...]
    closing: Decimal

    def flow(self, kind: str) -> Decimal:
        return next((f.amount for f in self.flows if f.kind == kind), ZERO)

    @property
    def sources(self) -> Decimal:
        return sum((f.amount for f in self.flows if f.amount > 0), ZERO)

    @property
    def uses(self) -> Decimal:
        return sum((f.amount for f in self.flows if f.amount < 0), ZERO)


@dataclass(frozen=True)
class Limit:
    """One adequacy rule as the engine last judged it on or before the period's end."""

    rule: str
    title: str
    citation: str
    day: datetime.date | None  # the engine's last check (None: never checked)
    figure_label: str
    figure: Decimal | None
    limit_label: str
    limit: Decimal | None
    ok: bool | None
    note: str = ""
    severity: str = ERROR  # the rule's, in rules.yaml: how a breach is styled


@dataclass(frozen=True)
class Adequacy:
    """The risk fund against the loans it backs, at the period's end."""

    day: datetime.date
    outstanding: Decimal
    open_loans: int
    risk_balance: Decimal
    injections: Decimal
    coverage: Decimal | None  # risk fund / outstanding
    leverage: Decimal | None  # outstanding / risk fund
    limits: tuple[Limit, ...]
    findings: tuple[Finding, ...]  # of risk.* rules, dated in the period


#: A program's verdict for the period: state -> its word on the page.
VERDICTS = {"breach": "不合规", "attention": "需关注", "ok": "合规"}


@dataclass(frozen=True)
class Verdict:
    """What the engine found for one program in the period, in one word: 不合规 (any
    error), 需关注 (warnings only) or 合规 (no finding). ``program`` None stands for the
    findings that belong to no program (the ledger's format)."""

    program: str | None
    name: str
    errors: int
    warnings: int

    @property
    def state(self) -> str:
        if self.errors:
            return "breach"
        return "attention" if self.warnings else "ok"

    @property
    def label(self) -> str:
        return VERDICTS[self.state]

    @property
    def severity(self) -> str | None:
        """The severity the verdict's link filters the findings by."""
        return {"breach": ERROR, "attention": WARNING}.get(self.state)


@dataclass(frozen=True)
class ProgramOverview:
    code: str
    name: str
    document: str
    funds: tuple[FundView, ...]
    adequacy: Adequacy
    unallocated: tuple[tuple[str, Decimal], ...]  # at the end of the ledger
    charts: tuple[Chart, ...]  # the funds' balances first, then the adequacy checks
    errors: int
    warnings: int

    @property
    def verdict(self) -> Verdict:
        return Verdict(self.code, self.name, self.errors, self.warnings)

    @property
    def flow_rows(self) -> list[tuple[str, str, tuple[Decimal, ...]]]:
        """(kind, label, each fund's flow in :attr:`funds` order) for each kind a fund shows."""
        shown = {f.kind for fund in self.funds for f in fund.flows}
        return [
            (kind, KIND_LABELS[kind], tuple(fund.flow(kind) for fund in self.funds))
            for kind in FLOW_KINDS
            if kind in shown
        ]

    @property
    def opening(self) -> Decimal:
        return sum((f.opening for f in self.funds), ZERO)

    @property
    def closing(self) -> Decimal:
        return sum((f.closing for f in self.funds), ZERO)


def program_funds(program: Program) -> tuple[str, ...]:
    """The funds a program keeps: both, or only the risk fund where rules.yaml maps no
    guarantee fund (a pool of district money only, SZPS)."""
    return tuple(fund for fund in FUNDS if f"{fund}_fund" in program.accounts)


def _at(series: DailyBalance | None, day: datetime.date | None) -> Decimal:
    if series is None or day is None:
        return ZERO
    return series.at(day)


def _period_change(series: DailyBalance | None, period: Period) -> Decimal:
    return _at(series, period.end) - _at(series, period.day_before)


ADEQUACY_RULES = ("risk.floor", "risk.cap", "risk.leverage")


def _adequacy_checks(analysis: Analysis, code: str, period: Period) -> dict[str, list[Any]]:
    """The engine's adequacy checks (``records.adequacy``) of a program in the period,
    by rule, in date order."""
    found: dict[str, list[Any]] = {}
    for check in analysis.records.adequacy:
        if check.program == code and check.day <= period.end:
            found.setdefault(check.rule, []).append(check)
    return found


def _param_or_none(rule: Any, name: str, day: datetime.date) -> Any:
    try:
        return rule.param(name, day)
    except (LookupError, KeyError):
        return None


def _limits(
    analysis: Analysis, program: Program, period: Period, checks: dict[str, list[Any]], injections: Decimal
) -> tuple[Limit, ...]:
    limits = []
    for rule_id in ADEQUACY_RULES:
        rule = program.rule(rule_id)
        if rule is None:
            continue
        citation = program.cite_rule(rule, period.end)  # the versions in force at the period's end
        if rule_id == "risk.cap":
            cap = _param_or_none(rule, "max", period.end)
            limits.append(
                Limit(rule_id, program.names.say(rule.title), citation, period.end, "累计注入", injections, "上限", cap,
                      None if cap is None else injections <= cap, severity=rule.severity)
            )
            continue
        last = checks.get(rule_id, [])
        if not last:
            limits.append(Limit(rule_id, program.names.say(rule.title), citation, None, "", None, "", None, None,
                                "期末以前尚无可核对的数据", rule.severity))
            continue
        c = last[-1]
        if rule_id == "risk.floor":
            kind = _param_or_none(rule, "base", c.day)
            base = {"outstanding": "贷款余额", "expected_volume": "年度预计业务量"}.get(kind, "基数")
            rate = _param_or_none(rule, "rate", c.day)
            limits.append(
                Limit(rule_id, program.names.say(rule.title), citation, c.day, program.names.say("风险补偿金余额"), c.risk_fund, "应不低于",
                      c.limit, c.ok, f"{base} {yuan(c.base)} 元 × {percent(rate) if rate is not None else '规定比例'}", rule.severity)
            )
        else:
            multiple = _param_or_none(rule, "multiple", c.day)
            limits.append(
                Limit(rule_id, program.names.say(rule.title), citation, c.day, "贷款余额", c.base, "上限", c.limit, c.ok,
                      program.names.say(f"风险补偿金余额 {yuan(c.risk_fund)} 元 × ")
                      + 
                      f"{f'{multiple.normalize():f} 倍' if multiple is not None else '规定倍数'}", rule.severity)
            )
    return tuple(limits)


def _sample(items: Sequence[Any], limit: int = CHART_POINTS) -> list[Any]:
    if len(items) <= limit:
        return list(items)
    step = len(items) / (limit - 1)
    return [items[int(i * step)] for i in range(limit - 1)] + [items[-1]]


def adequacy_charts(
    checks: dict[str, list[Any]], period: Period, names: FundNames = GENERIC_NAMES
) -> list[Chart]:
    """The engine's floor and leverage checks over the period: the value it checked
    and the limit, on each day it checked them."""
    charts = []
    labels = {
        "risk.floor": (names.say("风险补偿金与下限"), names.say("风险补偿金余额"), RISK, "应不低于"),
        "risk.leverage": ("贷款余额与放大倍数上限", "贷款余额", "loans", "上限"),
    }
    for rule_id, (title, value_label, colour, limit_label) in labels.items():
        shown = _sample([c for c in checks.get(rule_id, []) if period.contains(c.day)])
        chart = make_chart(
            rule_id,
            title,
            [c.day for c in shown],
            [
                Series(value_label, colour, tuple(c.risk_fund if rule_id == "risk.floor" else c.base for c in shown)),
                Series(limit_label, "limit", tuple(c.limit for c in shown), dashed=True),
            ],
        )
        if chart is not None:
            charts.append(chart)
    return charts


@dataclass(frozen=True)
class PoolView:
    """资金池概况: the verdicts at the top, then each program's overview."""

    programs: tuple[ProgramOverview, ...]
    #: Findings of no program (ledger.format) in the period: (errors, warnings).
    unassigned: Verdict | None

    @property
    def verdicts(self) -> tuple[Verdict, ...]:
        found = tuple(p.verdict for p in self.programs)
        return found + ((self.unassigned,) if self.unassigned is not None else ())

    @property
    def worst(self) -> str:
        """The worst state among the verdicts ("ok" when there is none)."""
        states = {v.state for v in self.verdicts}
        return next((s for s in VERDICTS if s in states), "ok")


def pool_overview(analysis: Analysis, period: Period, codes: Sequence[str], index: LoanIndex) -> PoolView:
    """Each selected program's verdict, funds over the period and adequacy at its end
    (the loans with principal outstanding counted from the load's :class:`LoanIndex`)."""
    counts = Counter(
        (f.program, f.severity) for f in analysis.findings if period.contains(f.date)
    )
    result = []
    for code in codes:
        program = analysis.rulebook.programs[code]
        state = analysis.programs[code]
        funds = []
        for fund in program_funds(program):
            flows = []
            for kind in FLOW_KINDS:
                series = state.flow_series.get((fund, kind))
                amount = _period_change(series, period)
                default = (fund, kind) in ((GUARANTEE, "fee"), (RISK, "injection"))
                if amount or default or (fund, kind) in ((GUARANTEE, "interest"), (RISK, "interest")):
                    flows.append(Flow(kind, KIND_LABELS[kind], amount))
            balance = state.funds[fund]
            funds.append(
                FundView(
                    fund,
                    program.names.fund(fund),
                    program.accounts[f"{fund}_fund"],
                    _at(balance, period.day_before),
                    tuple(flows),
                    balance.at(period.end),
                )
            )
        outstanding = analysis.outstanding(code, period.end)
        open_loans = sum(1 for facts in index.of((code,)) if facts.outstanding_on(period.end) > 0)
        risk_balance = state.funds[RISK].at(period.end)
        injections = _at(state.flow_series.get((RISK, "injection")), period.end)
        checks = _adequacy_checks(analysis, code, period)
        adequacy = Adequacy(
            period.end,
            outstanding,
            open_loans,
            risk_balance,
            injections,
            risk_balance / outstanding if outstanding > 0 else None,
            outstanding / risk_balance if risk_balance > 0 else None,
            _limits(analysis, program, period, checks, injections),
            tuple(
                f
                for f in analysis.findings
                if f.program == code and f.rule in ADEQUACY_RULES and period.contains(f.date)
            ),
        )
        result.append(
            ProgramOverview(
                code,
                program.name,
                program.document,
                tuple(funds),
                adequacy,
                tuple(sorted((a, b) for a, b in state.unallocated.items() if b)),
                tuple(balance_chart(state.funds, period, program_funds(program), program.names)
                      + adequacy_charts(checks, period, program.names)),
                counts[(code, ERROR)],
                counts[(code, WARNING)],
            )
        )
    unassigned = None
    if counts[(None, ERROR)] or counts[(None, WARNING)]:
        unassigned = Verdict(None, rule_title(FORMAT_RULE), counts[(None, ERROR)], counts[(None, WARNING)])
    return PoolView(tuple(result), unassigned)


def _chart_days(series: Sequence[DailyBalance], period: Period) -> list[datetime.date]:
    """The days to plot: every day a balance changed in the period, or an even grid."""
    firsts = [s.first_day for s in series if s.first_day is not None]
    if not firsts:
        return []
    start = max(period.start or min(firsts), min(firsts))
    end = period.end
    if end < start:
        return []
    changed: set[datetime.date] = set()
    for s in series:
        changed.update(day for day, _ in s.series() if start <= day <= end)
    if len(changed) + 2 <= CHART_POINTS:
        return sorted(changed | {start, end})
    span = (end - start).days
    step = max(1, -(-span // (CHART_POINTS - 1)))
    days = [start + datetime.timedelta(days=i) for i in range(0, span, step)]
    return [*days, end]


def balance_chart(
    funds: dict[str, DailyBalance], period: Period, shown: Sequence[str] = FUNDS,
    names: FundNames = GENERIC_NAMES,
) -> list[Chart]:
    """The funds' end-of-day balances over the period, each fund in its own colour."""
    days = _chart_days([funds[f] for f in shown], period)
    chart = make_chart(
        "balances",
        "两项资金余额（日终）" if len(shown) > 1 else f"{names.fund(shown[0])}余额（日终）",
        days,
        [Series(names.fund(f), f, tuple(funds[f].at(day) for day in days)) for f in shown],
    )
    return [chart] if chart is not None else []


# --------------------------------------------------------------------------------------
# 贷款台账

LOAN_STATUS = {
    "approved": "已审核同意",
    "contracted": "已签合同未放款",
    "current": "在贷",
    "overdue": "逾期",
    "compensated": "已代偿",
    "settled": "已结清",
}

#: Rules that set a deadline for a loan, and the register event that makes each apply.
DEADLINE_RULES: dict[str, tuple[str, ...]] = {
    "fee.timing": ("contract", "increase", "renewal"),
    "notice.disbursement": ("disbursement",),
    "notice.renewal": ("renewal",),
    "comp.deadline": ("confirmation", "overdue"),
}


#: A deadline's state on the loan register: (mark, label, css class).
DEADLINE_STATES = {
    "met": ("✓", "按时", "zbd-ok"),
    "late": ("✗", "逾期办理", "zbd-error"),
    "missed": ("✗", "逾期未办", "zbd-error"),
    "pending": ("…", "未到期", "zbd-muted"),
    "breach": ("✗", "违反", "zbd-error"),
}


@dataclass(frozen=True)
class DeadlineStatus:
    rule: str
    title: str
    state: str  # a key of DEADLINE_STATES
    detail: str  # the engine's dates, or its findings' messages
    findings: tuple[Finding, ...]

    @property
    def met(self) -> bool:
        return self.state in ("met", "pending")

    @property
    def mark(self) -> str:
        return DEADLINE_STATES[self.state][0]

    @property
    def label(self) -> str:
        return DEADLINE_STATES[self.state][1]

    @property
    def css(self) -> str:
        return DEADLINE_STATES[self.state][2]


def _deadline_status(rule_id: str, title: str, records: list[Any], missed: tuple[Finding, ...]) -> DeadlineStatus:
    """From the engine's deadline records where it keeps them, else from its findings."""
    if records:
        worst = {"missed": 3, "late": 2, "pending": 1, "met": 0}
        record = max(records, key=lambda r: worst.get(r.deadline.status, 0))
        d = record.deadline
        detail = f"{record.what}：{d.start} 起 {d.n} 个工作日"
        if d.due is not None:
            detail += f"，最后期限 {d.due}"
        if d.done is not None:
            detail += f"，实际 {d.done}"
        state = d.status if d.status in DEADLINE_STATES else ("breach" if missed else "met")
        return DeadlineStatus(rule_id, title, state, detail, missed)
    if missed:
        return DeadlineStatus(rule_id, title, "breach", "；".join(finding_text(f) for f in missed), missed)
    return DeadlineStatus(rule_id, title, "met", "", ())


@dataclass(frozen=True)
class LoanRow:
    id: str
    program: str
    enterprise: str
    enterprise_name: str
    approved: datetime.date
    contracted: datetime.date | None
    disbursed: datetime.date | None
    maturity: datetime.date | None
    amount: Decimal  # contracted amount plus increases (the fee base so far)
    outstanding: Decimal
    fee_due: Decimal
    fee_paid: Decimal
    status: str
    deadlines: tuple[DeadlineStatus, ...]
    errors: int  # the loan's findings, by severity
    warnings: int

    @property
    def findings(self) -> int:
        return self.errors + self.warnings

    @property
    def fee_short(self) -> Decimal:
        return max(self.fee_due - self.fee_paid, ZERO)

    @property
    def status_label(self) -> str:
        return LOAN_STATUS[self.status]


@dataclass(frozen=True)
class LoanTotals:
    """The loan register's totals row: sums of the engine's figures over the rows."""

    count: int
    amount: Decimal
    outstanding: Decimal
    fee_due: Decimal
    fee_paid: Decimal


_Totals = TypeVar("_Totals")


def _totals(kind: type[_Totals], rows: Sequence[Any]) -> _Totals:
    """A totals row: the number of rows, then, for each further field of the totals
    dataclass ``kind``, the sum of the rows' attribute of the same name."""
    # Fields with a default are not sums (代偿台账's party columns).
    names = [f.name for f in fields(kind) if f.default is MISSING][1:]  # type: ignore[arg-type]  # kind is a dataclass
    return kind(len(rows), *(sum((getattr(r, name) for r in rows), ZERO) for name in names))


def loan_totals(rows: Sequence[LoanRow]) -> LoanTotals:
    return _totals(LoanTotals, rows)


def _compensated(analysis: Analysis, day: datetime.date) -> set[str]:
    """The loans the pool has paid a claim of by the end of ``day``."""
    return {
        claim.loan.id
        for claim in analysis.records.claims.values()
        if claim.started and any(e.date <= day for e in claim.entries)
    }


def loan_row(
    analysis: Analysis, loan: Loan, period: Period, compensated: set[str], loan_findings: Sequence[Finding],
    deadline_records: Mapping[tuple[str, str], list[Any]] | None,
) -> LoanRow:
    """One loan's row of 贷款台账 at the period's end; its deadlines from the engine's
    records (``deadline_records``: :func:`_deadline_records`), none where that is None."""
    program = analysis.rulebook.programs[loan.program]
    events = [e for e in loan.events if e.date <= period.end]
    contract = next((e for e in events if e.kind == "contract"), None)
    disbursement = next((e for e in events if e.kind == "disbursement"), None)
    maturity, _ = maturity_on(loan, period.end)
    account = analysis.records.fees.get(loan.id)
    deadlines = (
        _loan_deadlines(program, events, period, loan_findings, loan.id, deadline_records)
        if deadline_records is not None else ()
    )
    enterprise = analysis.register.enterprises.get(loan.enterprise)
    return LoanRow(
        loan.id,
        loan.program,
        loan.enterprise,
        enterprise.data["name"] if enterprise is not None else "",
        loan.approval.date,
        contract.date if contract else None,
        disbursement.date if disbursement else None,
        maturity,
        contracted_amount(loan, period.end),
        loan.outstanding(period.end),
        account.due if account is not None else ZERO,
        account.paid if account is not None else ZERO,
        loan_status(register_status(loan, period.end), loan.id, compensated),
        tuple(deadlines),
        sum(1 for f in loan_findings if f.severity == ERROR),
        sum(1 for f in loan_findings if f.severity == WARNING),
    )


@dataclass(frozen=True)
class LoanSelection:
    """贷款台账's scope without its rows: the loans it lists, in its order, and the totals
    row over all of them (a page builds rows for the loans it shows: :func:`shown_loan_rows`)."""

    loans: tuple[LoanFacts, ...]
    totals: LoanTotals


def loan_selection(
    analysis: Analysis, index: LoanIndex, period: Period, codes: Sequence[str], status: str | None = None
) -> LoanSelection:
    """The loans alive in the period (approved by its end, not settled before its start),
    of the status chosen, in the order (program, approval day, loan id), and their totals:
    from the load's :class:`LoanIndex`, without a row per loan."""
    end, before = period.end, period.day_before
    compensated = _compensated(analysis, end) if status is not None else set()
    chosen: list[LoanFacts] = []
    for code in sorted(set(codes)):
        for facts in index.approved_by(code, end):
            if before is not None and facts.has_contract and facts.settled_on(before):
                continue
            if status is not None and loan_status(facts.status_on(end), facts.id, compensated) != status:
                continue
            chosen.append(facts)
    totals = LoanTotals(
        len(chosen),
        sum((f.amount_on(end) for f in chosen), ZERO),
        sum((f.outstanding_on(end) for f in chosen), ZERO),
        sum((f.fee_due for f in chosen), ZERO),
        sum((f.fee_paid for f in chosen), ZERO),
    )
    return LoanSelection(tuple(chosen), totals)


def shown_loan_rows(
    analysis: Analysis, period: Period, loans: Sequence[Loan], with_deadlines: bool = True
) -> list[LoanRow]:
    """The rows of ``loans`` (the ones a page shows, or every one for a download), in that order."""
    wanted = {loan.id for loan in loans}
    findings = _findings_by_loan(analysis, wanted)
    records = _deadline_records(analysis, wanted) if with_deadlines else None
    compensated = _compensated(analysis, period.end)
    return [loan_row(analysis, loan, period, compensated, findings.get(loan.id, []), records) for loan in loans]


def loan_rows(
    analysis: Analysis, period: Period, codes: Sequence[str], with_deadlines: bool = True
) -> list[LoanRow]:
    """A row for every loan alive in the period: approved by its end and not settled
    before its start (the report; 贷款台账 selects with :func:`loan_selection` and builds
    the rows it shows with :func:`shown_loan_rows`).
    ``with_deadlines=False`` leaves each row's deadlines empty."""
    selected = set(codes)
    by_loan = _findings_by_loan(analysis)
    compensated = _compensated(analysis, period.end)
    deadline_records = _deadline_records(analysis, None) if with_deadlines else None
    rows = []
    for loan in analysis.register.loans.values():
        if loan.program not in selected or loan.approval.date > period.end:
            continue
        if period.day_before is not None and loan.settled(period.day_before):
            if loan.first("contract") is not None:
                continue
        rows.append(loan_row(analysis, loan, period, compensated, by_loan.get(loan.id, []), deadline_records))
    rows.sort(key=lambda r: (r.program, r.approved, r.id))
    return rows


def _deadline_records(analysis: Analysis, loans: set[str] | None) -> dict[tuple[str, str], list[Any]]:
    """The engine's deadline records by (loan, rule), of ``loans`` only where given."""
    found: dict[tuple[str, str], list[Any]] = {}
    for record in analysis.records.deadlines:
        if loans is None or record.loan in loans:
            found.setdefault((record.loan, record.rule), []).append(record)
    return found


def _loan_deadlines(
    program: Any, events: Sequence[Any], period: Period, loan_findings: Sequence[Finding], loan_id: str,
    deadline_records: Mapping[tuple[str, str], list[Any]],
) -> tuple[DeadlineStatus, ...]:
    """A loan's deadlines that its events up to the period's end started."""
    deadlines = []
    kinds = {e.kind for e in events}
    for rule_id, applies in DEADLINE_RULES.items():
        rule = program.rule(rule_id)
        if rule is None or not kinds.intersection(applies):
            continue
        missed = tuple(f for f in loan_findings if f.rule == rule_id)
        records = [r for r in deadline_records.get((loan_id, rule_id), []) if r.deadline.start <= period.end]
        deadlines.append(_deadline_status(rule_id, program.names.say(rule.title), records, missed))
    return tuple(deadlines)


# --------------------------------------------------------------------------------------
# 代偿台账 and 追偿台账


@dataclass(frozen=True)
class CompensationRow:
    loan: str
    program: str
    enterprise_name: str
    claim_date: datetime.date
    letter: str
    approval: str
    due: Decimal
    guarantee: Decimal
    risk: Decimal
    bank: Decimal
    uncovered: Decimal
    paid_on: tuple[Any, ...]  # the compensation transactions
    committee: str | None
    findings: tuple[Finding, ...]
    #: Every party of the program's waterfall and what it has borne (one column each).
    parts: tuple[tuple[str, Decimal], ...] = ()
    #: For a program whose claims need an NPL classification (comp.scope trigger npl): the
    #: date of the classification that made the loan eligible (None: none, or not such a program).
    npl_date: datetime.date | None = None

    @property
    def pool_paid(self) -> Decimal:
        return self.guarantee + self.risk

    def part(self, party: str) -> Decimal | None:
        """What ``party`` bore; None where the party is not in this program's waterfall."""
        return dict(self.parts).get(party)

    @property
    def state(self) -> str:
        if not self.paid_on:
            return "待代偿"
        borne = sum((amount for _, amount in self.parts), ZERO) if self.parts else (
            self.guarantee + self.risk + self.bank
        )
        if borne + self.uncovered < self.due:
            return "部分代偿"
        return "已代偿"


WATERFALL_RULES = ("comp.waterfall", "comp.escalation", "comp.order", "comp.scope", "comp.deadline",
                   "comp.shares", "comp.rate_cap", "comp.fee_cap")
#: 代偿台账's column of each party (in the waterfall's order for CQGX and WLHT).
PARTY_COLUMNS = {"guarantee": "① 助保金", "risk": "② 风险补偿金", "bank": "③ 银行承担", "guarantor": "担保机构承担",
                 "insurer": "保险公司承担", "government": "政府承担"}


def _findings_by_loan(analysis: Analysis, loans: set[str] | None = None) -> dict[str, list[Finding]]:
    """The findings about each loan (of ``loans`` only where given)."""
    found: dict[str, list[Finding]] = {}
    for f in analysis.findings:
        if f.loan is not None and (loans is None or f.loan in loans):
            found.setdefault(f.loan, []).append(f)
    return found


def compensation_rows(analysis: Analysis, period: Period, codes: Sequence[str]) -> list[CompensationRow]:
    """Claims made or paid in the period, and claims from before it still unpaid."""
    selected = set(codes)
    by_loan = _findings_by_loan(analysis)
    rows = []
    for claim in analysis.records.claims.values():
        loan = claim.loan
        if loan.program not in selected:
            continue
        dates = [claim.event.date, *(e.date for e in claim.entries)]
        unpaid_before = claim.event.date <= period.end and not any(e.date <= period.end for e in claim.entries)
        if not any(period.contains(d) for d in dates) and not unpaid_before:
            continue
        enterprise = analysis.register.enterprises.get(loan.enterprise)
        committee = loan.first("committee")
        borne = claim_parts(analysis.records, claim)
        parties = program_parties(analysis.rulebook.programs[loan.program])
        rows.append(
            CompensationRow(
                loan.id,
                loan.program,
                enterprise.data["name"] if enterprise is not None else loan.enterprise,
                claim.event.date,
                claim.event.data.get("letter", ""),
                claim.event.data.get("approval", ""),
                claim.due,
                claim.guarantee_paid,
                claim.risk_paid,
                claim.bank_share,
                claim.uncovered,
                tuple(claim.entries),
                committee.data["decision"] if committee is not None else None,
                tuple(f for f in by_loan.get(loan.id, ()) if f.rule in WATERFALL_RULES),
                tuple((party, borne.get(party, ZERO)) for party in parties),
                _npl_date(analysis, loan, claim.event.date),
            )
        )
    rows.sort(key=lambda r: (r.program, r.claim_date, r.loan))
    return rows


def _npl_date(analysis: Analysis, loan: Loan, on: datetime.date) -> datetime.date | None:
    found = npl_classified(analysis.rulebook.programs[loan.program], loan, on)
    return found.date if found is not None else None


def npl_programs(analysis: Analysis, codes: Sequence[str]) -> bool:
    """Whether any of the programs needs an NPL classification before a claim (the 不良分类日 column)."""
    return any(uses_npl(analysis.rulebook.programs[code]) for code in codes)


@dataclass(frozen=True)
class PartyColumn:
    """One party's column of 代偿台账: its key, its heading and its total."""

    party: str
    label: str
    total: Decimal


@dataclass(frozen=True)
class CompensationTotals:
    count: int
    due: Decimal
    guarantee: Decimal
    risk: Decimal
    bank: Decimal
    uncovered: Decimal
    #: One column per party of the programs shown (助保金, 风险补偿金, 银行 for CQGX/WLHT;
    #: a program's comp.shares table adds 担保机构 and others), in :data:`PARTIES` order.
    columns: tuple[PartyColumn, ...] = ()
    #: Whether the 不良分类日 column is shown (a program of the rows claims on an NPL classification).
    npl: bool = False


def compensation_totals(
    rows: Sequence[CompensationRow], npl: bool = False, names: FundNames = GENERIC_NAMES
) -> CompensationTotals:
    """The totals and one column per party; ``names``: the fund names of the programs shown
    (``Rulebook.names``)."""
    found = {party for r in rows for party, _ in r.parts} or {"guarantee", "risk", "bank"}
    columns = tuple(
        PartyColumn(party, names.say(PARTY_COLUMNS[party]), sum((r.part(party) or ZERO for r in rows), ZERO))
        for party in PARTIES
        if party in found
    )
    return replace(_totals(CompensationTotals, rows), columns=columns, npl=npl)


# --------------------------------------------------------------------------------------
# 代偿台账's 追偿后损失分担 and 资金池概况's summary of it (comp.shares ``residual``, 金东)


def residual_programs(analysis: Analysis, codes: Sequence[str]) -> list[str]:
    """The programs among ``codes`` whose comp.shares split the loss left after recovery
    (a ``residual`` table): the only ones a loss-sharing section is shown for."""
    found = []
    for code in codes:
        rule = analysis.rulebook.programs[code].rules.get("comp.shares")
        if rule is not None and "residual" in rule.params:
            found.append(code)
    return found


@dataclass(frozen=True)
class LossRow:
    """One ``custom "loan" "loss"`` event: the loss left after recovery and each party's
    part of it, due and recorded, as the engine checked it (records.losses)."""

    loan: str
    program: str
    enterprise_name: str
    date: datetime.date
    letter: str
    loss: Decimal
    parts: tuple[LossPart, ...]
    entry: Any  # the loss event's directive
    citation: str
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class LossPartyTotal:
    """One party's totals over the loss events shown (for 资金池概况)."""

    party: str
    label: str
    due: Decimal
    recorded: Decimal
    difference: Decimal


@dataclass(frozen=True)
class LossView:
    """The loss-sharing section: the programs shown that have a residual table, and the
    loss events of the period (none is a fact worth saying, not an empty table)."""

    programs: tuple[str, ...]
    rows: tuple[LossRow, ...]

    def totals(self, code: str | None = None) -> tuple[LossPartyTotal, ...]:
        """Per party (in the tables' order), the sums over the rows (of ``code``)."""
        sums: dict[str, list[Decimal]] = {}
        for row in self.rows:
            if code is not None and row.program != code:
                continue
            for part in row.parts:
                due, recorded, difference = sums.setdefault(part.party, [ZERO, ZERO, ZERO])
                sums[part.party] = [due + part.due, recorded + (part.recorded or ZERO), difference + part.difference]
        return tuple(LossPartyTotal(party, PARTY_LABELS[party], *figures) for party, figures in sums.items())

    def loss(self, code: str | None = None) -> Decimal:
        return sum((r.loss for r in self.rows if code is None or r.program == code), ZERO)

    def count(self, code: str | None = None) -> int:
        return sum(1 for r in self.rows if code is None or r.program == code)


def loss_view(analysis: Analysis, period: Period, codes: Sequence[str]) -> LossView | None:
    """The loss events dated in the period, of the programs with a residual table; None
    where no program shown has such a table (the section is then left out)."""
    programs = residual_programs(analysis, codes)
    if not programs:
        return None
    selected = set(programs)
    about: dict[int, list[Finding]] = {}
    for f in analysis.findings:
        if f.entry is not None and f.program in selected:
            about.setdefault(id(f.entry), []).append(f)
    rows = []
    for share in analysis.records.losses:
        loan, event = share.loan, share.event
        if loan.program not in selected or not period.contains(event.date):
            continue
        enterprise = analysis.register.enterprises.get(loan.enterprise)
        program = analysis.rulebook.programs[loan.program]
        rows.append(LossRow(
            loan.id, loan.program, enterprise.data["name"] if enterprise is not None else loan.enterprise,
            event.date, event.data.get("letter", ""), share.loss, share.parts, event.entry,
            program.cite_rule(program.rules["comp.shares"], event.date),
            tuple(about.get(id(event.entry), ())),
        ))
    rows.sort(key=lambda r: (r.program, r.date, r.loan))
    return LossView(tuple(programs), tuple(rows))


# --------------------------------------------------------------------------------------
# 资金池概况's side ledgers: the pledged deposits, and the outflows a policy allows.


@dataclass(frozen=True)
class DepositMoveRow:
    date: datetime.date
    kind: str  # 质押 | 解押 | 代偿
    amount: Decimal
    entry: Any


@dataclass(frozen=True)
class DepositRow:
    """One loan's pledged deposit at the period's end (the engine's deposit sub-ledger)."""

    program: str
    loan: str
    enterprise_name: str
    pledged: Decimal
    released: Decimal
    used: Decimal
    balance: Decimal
    moves: tuple[DepositMoveRow, ...]
    findings: tuple[Finding, ...]

    def dates(self, kind: str) -> tuple[datetime.date, ...]:
        return tuple(m.date for m in self.moves if m.kind == MOVE_LABELS[kind])

    @property
    def pledged_on(self) -> tuple[datetime.date, ...]:
        return self.dates(PLEDGE)

    @property
    def released_on(self) -> tuple[datetime.date, ...]:
        return self.dates(RELEASE)

    @property
    def used_on(self) -> tuple[datetime.date, ...]:
        return self.dates(USE)


DEPOSIT_RULES = ("deposit.pledge", "deposit.release", "deposit.use")


def deposit_rows(analysis: Analysis, period: Period, codes: Sequence[str]) -> list[DepositRow]:
    """Every loan's deposit of the programs shown, as the engine's sub-ledger holds it at the
    end of the period (:meth:`DepositAccount.total`, :meth:`DepositAccount.held`); its moves up to then."""
    by_loan = _findings_by_loan(analysis)
    end = period.end
    rows = []
    for code in codes:
        for loan_id, account in analysis.programs[code].deposits.items():
            moves = tuple(
                DepositMoveRow(m.date, MOVE_LABELS[m.kind], m.amount, m.entry) for m in account.moves if m.date <= end
            )
            if not moves:
                continue
            enterprise = analysis.register.enterprises.get(account.loan.enterprise)
            rows.append(DepositRow(
                code, loan_id, enterprise.data["name"] if enterprise is not None else account.loan.enterprise,
                account.total(PLEDGE, end), account.total(RELEASE, end), account.total(USE, end), account.held(end),
                moves, tuple(f for f in by_loan.get(loan_id, ()) if f.rule in DEPOSIT_RULES),
            ))
    rows.sort(key=lambda r: (r.program, r.loan))
    return rows


@dataclass(frozen=True)
class OutflowRow:
    """One outflow a policy allows (a guarantee-fee subsidy), with its caps, as booked."""

    program: str
    rule: str
    title: str
    date: datetime.date
    loan: str | None
    amount: Decimal
    #: The loan's cap (its guaranteed amount × rate) and what is left of it after this one.
    base: Decimal | None
    allowed: Decimal | None
    loan_left: Decimal | None
    #: The calendar year's total so far (this one included), its cap and what is left.
    year_total: Decimal
    annual_cap: Decimal | None
    year_left: Decimal | None
    entry: Any
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class OutflowYear:
    """A calendar year's allowed outflows of one rule: total, cap and what is left."""

    program: str
    title: str
    year: int
    count: int
    total: Decimal
    annual_cap: Decimal | None
    left: Decimal | None


def outflow_rows(analysis: Analysis, period: Period, codes: Sequence[str]) -> list[OutflowRow]:
    """The outflows in the period, from the engine's records (:class:`zhubaodai.checks.pool.Outflow`)."""
    by_entry: dict[int, list[Finding]] = {}
    for f in analysis.findings:
        if f.rule.startswith("outflow.") and f.entry is not None:
            by_entry.setdefault(id(f.entry), []).append(f)
    rows = []
    for code in codes:
        program = analysis.rulebook.programs[code]
        for o in analysis.programs[code].outflows:
            if not period.contains(o.entry.date):
                continue
            findings = tuple(f for f in by_entry.get(id(o.entry), ()) if f.rule == o.rule)
            rows.append(OutflowRow(
                code, o.rule, program.rules[o.rule].title.split("（")[0], o.entry.date, o.loan, o.amount,
                o.base, o.allowed,
                o.allowed - o.loan_total if o.allowed is not None and o.loan_total is not None else None,
                o.year_total, o.annual_cap,
                o.annual_cap - o.year_total if o.annual_cap is not None else None,
                o.entry, findings,
            ))
    return rows


def outflow_years(rows: Sequence[OutflowRow]) -> list[OutflowYear]:
    """Per program, rule and year of the rows: the year's total so far (the latest row's
    year total, as the engine recorded it), its cap and what is left."""
    latest: dict[tuple[str, str, int], OutflowRow] = {}
    counts: Counter[tuple[str, str, int]] = Counter()
    for r in rows:
        key = (r.program, r.rule, r.date.year)
        latest[key] = r
        counts[key] += 1
    return [
        OutflowYear(r.program, r.title, key[2], counts[key], r.year_total, r.annual_cap, r.year_left)
        for key, r in sorted(latest.items())
    ]


@dataclass(frozen=True)
class RecoveryPart:
    party: str
    label: str
    amount: Decimal


@dataclass(frozen=True)
class RecoveryRow:
    loan: str
    program: str
    enterprise_name: str
    date: datetime.date
    letter: str
    gross: Decimal
    deductions: tuple[tuple[str, Decimal], ...]
    net: Decimal
    parts: tuple[RecoveryPart, ...]  # in the program's order
    excess: Decimal


@dataclass(frozen=True)
class RecoveryArrival:
    """Per loan: what the pool should get back per fund, and what has arrived."""

    loan: str
    program: str
    bank_recovered: Decimal
    expected: tuple[tuple[str, Decimal], ...]
    received: tuple[tuple[str, Decimal], ...]
    findings: tuple[Finding, ...]

    @property
    def outstanding(self) -> Decimal:
        return sum((e for _, e in self.expected), ZERO) - sum((r for _, r in self.received), ZERO)


def recovery_rows(analysis: Analysis, period: Period, codes: Sequence[str]) -> list[RecoveryRow]:
    selected = set(codes)
    rows = []
    for rec in analysis.records.recoveries:
        loan = rec.loan
        if loan.program not in selected or not period.contains(rec.event.date):
            continue
        enterprise = analysis.register.enterprises.get(loan.enterprise)
        deductions = tuple(
            (DEDUCTION_LABELS[name], rec.event.amount(name))
            for name in DEDUCTION_LABELS
            if rec.event.amount(name) > 0
        )
        rows.append(
            RecoveryRow(
                loan.id,
                loan.program,
                enterprise.data["name"] if enterprise is not None else loan.enterprise,
                rec.event.date,
                rec.event.data.get("letter", ""),
                rec.gross,
                deductions,
                rec.net,
                tuple(RecoveryPart(p, analysis.rulebook.names(loan.program).say(PARTY_LABELS[p]), a)
                      for p, a in rec.parts.items()),
                rec.excess,
            )
        )
    rows.sort(key=lambda r: (r.program, r.date, r.loan))
    return rows


def recovery_arrivals(analysis: Analysis, codes: Sequence[str]) -> list[RecoveryArrival]:
    """Per loan with a recovery: what the funds should get back and what has arrived (at
    the end of the ledger), those with money still to arrive first."""
    selected = set(codes)
    by_loan = _findings_by_loan(analysis)
    result = []
    for loan_id, state in sorted(analysis.records.loan_recoveries.items()):
        loan = analysis.register.loans[loan_id]
        if loan.program not in selected:
            continue
        names = analysis.rulebook.names(loan.program)
        result.append(
            RecoveryArrival(
                loan_id,
                loan.program,
                state.bank_recovered,
                tuple((names.fund(f), state.expected[f]) for f in (RISK, GUARANTEE)),
                tuple((names.fund(f), state.received[f]) for f in (RISK, GUARANTEE)),
                tuple(f for f in by_loan.get(loan_id, ()) if f.rule == "recovery.order"),
            )
        )
    result.sort(key=lambda a: (a.outstanding <= 0, a.program, a.loan))
    return result


# --------------------------------------------------------------------------------------
# 孳息分配


@dataclass(frozen=True)
class InterestRow:
    program: str
    date: datetime.date
    entry: Any
    total: Decimal
    period_start: datetime.date
    period_end: datetime.date
    jishu_guarantee: Decimal
    jishu_risk: Decimal
    expected_guarantee: Decimal
    expected_risk: Decimal
    actual_guarantee: Decimal
    actual_risk: Decimal
    ok: bool

    @property
    def share_guarantee(self) -> Decimal:
        total = self.jishu_guarantee + self.jishu_risk
        return self.jishu_guarantee / total if total else ZERO

    @property
    def share_risk(self) -> Decimal:
        total = self.jishu_guarantee + self.jishu_risk
        return self.jishu_risk / total if total else ZERO


@dataclass(frozen=True)
class InterestTotals:
    """孳息分配's totals row: sums of the engine's allocations over the rows."""

    count: int
    total: Decimal
    expected_guarantee: Decimal
    expected_risk: Decimal
    actual_guarantee: Decimal
    actual_risk: Decimal


def interest_totals(rows: Sequence[InterestRow]) -> InterestTotals:
    return _totals(InterestTotals, rows)


def interest_rows(analysis: Analysis, period: Period, codes: Sequence[str]) -> list[InterestRow]:
    selected = set(codes)
    rows = [
        InterestRow(
            a.program,
            a.entry.date,
            a.entry,
            a.total,
            a.period_start,
            a.period_end,
            a.jishu_guarantee,
            a.jishu_risk,
            a.expected_guarantee,
            a.expected_risk,
            a.actual_guarantee,
            a.actual_risk,
            a.ok,
        )
        for a in analysis.records.interest
        if a.program in selected and period.contains(a.entry.date)
    ]
    rows.sort(key=lambda r: (r.program, r.date))
    return rows


# --------------------------------------------------------------------------------------
# 合规检查


@dataclass(frozen=True)
class FindingFilter:
    program: str | None = None
    rule: str | None = None
    severity: str | None = None
    loan: str | None = None

    def keep(self, f: Finding) -> bool:
        return (
            (self.program is None or f.program == self.program)
            and (self.rule is None or f.rule == self.rule)
            and (self.severity is None or f.severity == self.severity)
            and (self.loan is None or f.loan == self.loan)
        )


@dataclass(frozen=True)
class RuleCount:
    rule: str
    title: str
    errors: int
    warnings: int


@dataclass(frozen=True)
class FindingsView:
    findings: tuple[Finding, ...]  # selected, sorted
    total: int  # in the period and programs, before the rule/severity/loan filters
    errors: int  # of the selected
    warnings: int
    by_rule: tuple[RuleCount, ...]  # in the period and programs, for the rule filter
    programs: tuple[str, ...]


SEVERITY_ORDER = {ERROR: 0, WARNING: 1}


def rule_title(rule_id: str, names: FundNames = GENERIC_NAMES) -> str:
    """A rule's title as the pages show it, in the fund names ``names`` of the programs it
    is shown for (``Rulebook.names``: 海口's 风险补偿金下限 reads 补偿资金下限)."""
    if rule_id == FORMAT_RULE:
        return "账本格式"
    spec = CATALOGUE.get(rule_id)
    return names.say(spec.title) if spec is not None else rule_id


def findings_view(
    analysis: Analysis, period: Period, codes: Sequence[str], chosen: FindingFilter
) -> FindingsView:
    """Findings dated in the period (or undated) of the selected programs (format
    findings, which belong to no program, are always included)."""
    selected = set(codes)
    in_scope = [
        f
        for f in analysis.findings
        if (f.program is None or f.program in selected) and period.contains(f.date)
    ]
    counts: dict[str, list[int]] = {}
    programs: dict[str, set[str]] = {}  # rule -> the programs of its findings in scope
    for f in in_scope:
        c = counts.setdefault(f.rule, [0, 0])
        c[0 if f.severity == ERROR else 1] += 1
        if f.program is not None:
            programs.setdefault(f.rule, set()).add(f.program)
    names = analysis.rulebook.names
    by_rule = tuple(
        RuleCount(rule, rule_title(rule, names(sorted(programs.get(rule, ())))), e, w)
        for rule, (e, w) in sorted(counts.items())
    )
    chosen_findings = sorted(
        (f for f in in_scope if chosen.keep(f)),
        key=lambda f: (
            SEVERITY_ORDER.get(f.severity, 2),
            f.program or "",
            f.date or datetime.date.min,
            f.filename or "",
            f.lineno or 0,
        ),
    )
    return FindingsView(
        tuple(chosen_findings),
        len(in_scope),
        sum(1 for f in chosen_findings if f.severity == ERROR),
        sum(1 for f in chosen_findings if f.severity == WARNING),
        by_rule,
        tuple(codes),
    )


def finding_text(finding: Finding) -> str:
    """A finding's message as the pages show it: metadata and event names in Chinese
    (:func:`zhubaodai.core.labels.for_reviewer`). A ledger-format finding keeps them: it
    tells the accountant how to write an entry, name by name."""
    if finding.rule == FORMAT_RULE:
        return finding.message
    return for_reviewer(finding.message)


def severity_label(severity: str) -> str:
    return SEVERITY_LABELS.get(severity, severity)
