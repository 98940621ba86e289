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
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from beancount.core import account as bc_account

from zhubaodai.engine import FUND_LABELS
from zhubaodai.engine import GUARANTEE
from zhubaodai.engine import KIND_LABELS
from zhubaodai.engine import RISK
from zhubaodai.engine import Analysis
from zhubaodai.engine import DailyBalance
from zhubaodai.findings import ERROR
from zhubaodai.findings import FORMAT_RULE
from zhubaodai.findings import SEVERITY_LABELS
from zhubaodai.findings import WARNING
from zhubaodai.findings import Finding
from zhubaodai.money import ZERO
from zhubaodai.register import Loan
from zhubaodai.rules import CATALOGUE
from zhubaodai.rules import Program
from zhubaodai.waterfall import DEDUCTION_LABELS
from zhubaodai.waterfall import PARTY_LABELS

ONE_DAY = datetime.timedelta(days=1)
FUNDS = (GUARANTEE, RISK)
#: Kinds of fund movement in the order the overview lists them: sources, then uses.
FLOW_KINDS = ("fee", "injection", "interest", "recovery", "compensation", "disposal", "other")
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


def select_programs(analysis: Analysis, account_filter: str | None, wanted: str | None = None) -> list[str]:
    """Programs whose accounts match Fava's account filter (as Fava matches accounts:
    the account or an ancestor, or a regular expression), optionally just ``wanted``."""
    codes = list(analysis.rulebook.programs)
    if wanted:
        codes = [c for c in codes if c == wanted]
    if not account_filter:
        return codes
    try:
        from fava.core.filters import Match

        match = Match(account_filter)
    except Exception:  # noqa: BLE001 - Fava reports a bad filter itself
        return codes
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
class RuleParam:
    """A parameter of a rule as rules.yaml sets it on a day (shown beside a ratio)."""

    rule: str
    title: str
    key: str
    value: Any
    citation: str


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
    params: tuple[RuleParam, ...]
    findings: tuple[Finding, ...]  # of risk.* rules, dated in the period


@dataclass(frozen=True)
class ProgramOverview:
    code: str
    name: str
    document: str
    funds: tuple[FundView, ...]
    adequacy: Adequacy
    unallocated: tuple[tuple[str, Decimal], ...]  # at the end of the ledger
    chart: list[dict[str, Any]]
    errors: int
    warnings: int

    @property
    def flow_rows(self) -> list[tuple[str, str, Decimal, Decimal]]:
        """(kind, label, guarantee fund, risk fund) for each kind either fund shows."""
        shown = {f.kind for fund in self.funds for f in fund.flows}
        guarantee, risk = self.funds
        return [
            (kind, KIND_LABELS[kind], guarantee.flow(kind), risk.flow(kind))
            for kind in FLOW_KINDS
            if kind in shown
        ]

    @property
    def opening(self) -> Decimal:
        return sum((f.opening for f in self.funds), ZERO)

    @property
    def closing(self) -> Decimal:
        return sum((f.closing for f in self.funds), ZERO)


def _at(series: DailyBalance | None, day: datetime.date | None) -> Decimal:
    if series is None or day is None:
        return ZERO
    return series.at(day)


def _period_change(series: DailyBalance | None, period: Period) -> Decimal:
    return _at(series, period.end) - _at(series, period.day_before)


def program_loans(analysis: Analysis, code: str) -> list[Loan]:
    return [loan for loan in analysis.register.loans.values() if loan.program == code]


ADEQUACY_RULES = ("risk.floor", "risk.cap", "risk.leverage")


def _rule_params(program: Program, rule_ids: Iterable[str], day: datetime.date) -> tuple[RuleParam, ...]:
    found = []
    for rule_id in rule_ids:
        rule = program.rule(rule_id)
        if rule is None:
            continue
        for key, param in rule.params.items():
            try:
                value = param.at(day)
            except LookupError:
                continue
            found.append(RuleParam(rule_id, rule.title, key, value, program.cite(param.article)))
    return tuple(found)


def pool_overview(analysis: Analysis, period: Period, codes: Sequence[str]) -> list[ProgramOverview]:
    """Each selected program's funds over the period and its adequacy at the period's end."""
    counts = Counter(
        (f.program, f.severity) for f in analysis.findings if period.contains(f.date)
    )
    result = []
    for code in codes:
        program = analysis.rulebook.programs[code]
        state = analysis.programs[code]
        funds = []
        for fund in FUNDS:
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
                    FUND_LABELS[fund],
                    program.accounts[f"{fund}_fund"],
                    _at(balance, period.day_before),
                    tuple(flows),
                    balance.at(period.end),
                )
            )
        loans = program_loans(analysis, code)
        outstanding = ZERO
        open_loans = 0
        for loan in loans:
            amount = loan.outstanding(period.end)
            if amount > 0:
                outstanding += amount
                open_loans += 1
        risk_balance = state.funds[RISK].at(period.end)
        adequacy = Adequacy(
            period.end,
            outstanding,
            open_loans,
            risk_balance,
            _at(state.flow_series.get((RISK, "injection")), period.end),
            risk_balance / outstanding if outstanding > 0 else None,
            outstanding / risk_balance if risk_balance > 0 else None,
            _rule_params(program, ADEQUACY_RULES, period.end),
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
                balance_chart(state.funds, period),
                counts[(code, ERROR)],
                counts[(code, WARNING)],
            )
        )
    return result


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


def balance_chart(funds: dict[str, DailyBalance], period: Period) -> list[dict[str, Any]]:
    """Fava's line chart (its ``balances`` chart type): both funds' end-of-day balances."""
    days = _chart_days([funds[GUARANTEE], funds[RISK]], period)
    data = [
        {
            "date": day.isoformat(),
            "balance": {FUND_LABELS[f]: float(funds[f].at(day)) for f in FUNDS},
        }
        for day in days
    ]
    return [{"type": "balances", "label": "两项资金余额（日终）", "data": data}]


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


@dataclass(frozen=True)
class DeadlineStatus:
    rule: str
    title: str
    met: bool
    findings: tuple[Finding, ...]


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
    findings: int

    @property
    def fee_short(self) -> Decimal:
        return max(self.fee_due - self.fee_paid, ZERO)

    @property
    def status_label(self) -> str:
        return LOAN_STATUS[self.status]


def _loan_status(analysis: Analysis, loan: Loan, day: datetime.date, compensated: set[str]) -> str:
    if loan.settled(day) and loan.first("contract") is not None and loan.first("contract").date <= day:
        return "settled"
    if loan.id in compensated:
        return "compensated"
    if loan.last_before("overdue", day) is not None:
        return "overdue"
    if loan.last_before("disbursement", day) is not None:
        return "current"
    if loan.last_before("contract", day) is not None:
        return "contracted"
    return "approved"


def loan_rows(analysis: Analysis, period: Period, codes: Sequence[str]) -> list[LoanRow]:
    """Loans alive in the period: approved by its end and not settled before its start."""
    selected = set(codes)
    fees = analysis.records.get("fees", {})
    by_loan: dict[str, list[Finding]] = {}
    for f in analysis.findings:
        if f.loan is not None:
            by_loan.setdefault(f.loan, []).append(f)
    compensated = {
        claim.loan.id
        for claim in analysis.records.get("claims", {}).values()
        if claim.started and any(e.date <= period.end for e in claim.entries)
    }
    rows = []
    for loan in analysis.register.loans.values():
        if loan.program not in selected or loan.approval.date > period.end:
            continue
        if period.day_before is not None and loan.settled(period.day_before):
            if loan.first("contract") is not None:
                continue
        program = analysis.rulebook.programs[loan.program]
        events = [e for e in loan.events if e.date <= period.end]
        contract = next((e for e in events if e.kind == "contract"), None)
        disbursement = next((e for e in events if e.kind == "disbursement"), None)
        maturity = None
        for e in events:
            if "maturity" in e.data:
                maturity = e.data["maturity"]
        amount = sum((e.data["amount"] for e in events if e.kind in ("contract", "increase")), ZERO)
        account = fees.get(loan.id)
        loan_findings = by_loan.get(loan.id, [])
        deadlines = []
        kinds = {e.kind for e in events}
        for rule_id, applies in DEADLINE_RULES.items():
            rule = program.rule(rule_id)
            if rule is None or not kinds.intersection(applies):
                continue
            missed = tuple(f for f in loan_findings if f.rule == rule_id)
            deadlines.append(DeadlineStatus(rule_id, rule.title, not missed, missed))
        enterprise = analysis.register.enterprises.get(loan.enterprise)
        rows.append(
            LoanRow(
                loan.id,
                loan.program,
                loan.enterprise,
                enterprise.data["name"] if enterprise is not None else "",
                loan.approval.date,
                contract.date if contract else None,
                disbursement.date if disbursement else None,
                maturity,
                amount,
                loan.outstanding(period.end),
                account.due if account is not None else ZERO,
                account.paid if account is not None else ZERO,
                _loan_status(analysis, loan, period.end, compensated),
                tuple(deadlines),
                len(loan_findings),
            )
        )
    rows.sort(key=lambda r: (r.program, r.approved, r.id))
    return rows


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

    @property
    def pool_paid(self) -> Decimal:
        return self.guarantee + self.risk

    @property
    def state(self) -> str:
        if not self.paid_on:
            return "待代偿"
        if self.guarantee + self.risk + self.bank + self.uncovered < self.due:
            return "部分代偿"
        return "已代偿"


WATERFALL_RULES = ("comp.waterfall", "comp.escalation", "comp.order", "comp.scope", "comp.deadline")


def compensation_rows(analysis: Analysis, period: Period, codes: Sequence[str]) -> list[CompensationRow]:
    selected = set(codes)
    rows = []
    for claim in analysis.records.get("claims", {}).values():
        loan = claim.loan
        if loan.program not in selected:
            continue
        dates = [claim.event.date, *(e.date for e in claim.entries)]
        if not any(period.contains(d) for d in dates) and not (
            period.start is not None and claim.event.date < period.start and not claim.entries
        ):
            continue
        enterprise = analysis.register.enterprises.get(loan.enterprise)
        committee = loan.first("committee")
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
                tuple(f for f in analysis.findings if f.loan == loan.id and f.rule in WATERFALL_RULES),
            )
        )
    rows.sort(key=lambda r: (r.program, r.claim_date, r.loan))
    return rows


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
    for rec in analysis.records.get("recoveries", []):
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
                tuple(RecoveryPart(p, PARTY_LABELS[p], a) for p, a in rec.parts.items()),
                rec.excess,
            )
        )
    rows.sort(key=lambda r: (r.program, r.date, r.loan))
    return rows


def recovery_arrivals(analysis: Analysis, codes: Sequence[str]) -> list[RecoveryArrival]:
    selected = set(codes)
    result = []
    for loan_id, state in sorted(analysis.records.get("loan_recoveries", {}).items()):
        loan = analysis.register.loans[loan_id]
        if loan.program not in selected:
            continue
        result.append(
            RecoveryArrival(
                loan_id,
                loan.program,
                state.bank_recovered,
                tuple((FUND_LABELS[f], state.expected[f]) for f in (RISK, GUARANTEE)),
                tuple((FUND_LABELS[f], state.received[f]) for f in (RISK, GUARANTEE)),
                tuple(f for f in analysis.findings if f.loan == loan_id and f.rule == "recovery.order"),
            )
        )
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
        for a in analysis.records.get("interest", [])
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


def rule_title(rule_id: str) -> str:
    if rule_id == FORMAT_RULE:
        return "账本格式"
    spec = CATALOGUE.get(rule_id)
    return spec.title if spec is not None else rule_id


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
    for f in in_scope:
        c = counts.setdefault(f.rule, [0, 0])
        c[0 if f.severity == ERROR else 1] += 1
    by_rule = tuple(
        RuleCount(rule, rule_title(rule), e, w) for rule, (e, w) in sorted(counts.items())
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


def severity_label(severity: str) -> str:
    return SEVERITY_LABELS.get(severity, severity)
