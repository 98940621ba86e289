"""期限提醒: what falls due for the pool from a given day on.

Working-day deadlines (the bank's disbursement and renewal notices, the compensation
time limit) belong to the rule engine and its working-day calendar. Until the engine
provides them (``notice.disbursement``, ``notice.renewal``, ``comp.deadline`` in
rules.yaml), this page lists what the register already holds, in calendar days, and says
so on the page: loan maturities, approved claims not yet compensated, and recovered
money that has not yet reached the funds.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from collections.abc import Sequence

from zhubaodai.engine import Analysis
from zhubaodai.engine import FUND_LABELS
from zhubaodai.money import ZERO

#: Rules whose deadlines count working days (issue 3); named on the page while missing.
WORKING_DAY_RULES = ("notice.disbursement", "notice.renewal", "comp.deadline")


@dataclass(frozen=True)
class Reminder:
    program: str
    loan: str
    enterprise_name: str
    what: str  # what falls due
    due: datetime.date | None  # None: no date set by the rules (a pending task)
    days_left: int | None  # calendar days from the reference day
    amount: Decimal | None
    basis: str  # where the date comes from
    entry: object  # the register directive or transaction to link to
    unit: str = "自然日"  # how days_left counts


@dataclass(frozen=True)
class RemindersView:
    today: datetime.date
    horizon: int
    upcoming: tuple[Reminder, ...]  # due within the horizon
    overdue: tuple[Reminder, ...]  # due before today and not done
    pending: tuple[Reminder, ...]  # tasks without a date
    missing_rules: tuple[str, ...]  # working-day rules the engine does not provide yet


def _enterprise(analysis: Analysis, enterprise_id: str) -> str:
    found = analysis.register.enterprises.get(enterprise_id)
    return found.data["name"] if found is not None else enterprise_id


def reminders(
    analysis: Analysis, codes: Sequence[str], today: datetime.date, horizon: int
) -> RemindersView:
    selected = set(codes)
    until = today + datetime.timedelta(days=horizon)
    upcoming: list[Reminder] = []
    overdue: list[Reminder] = []
    pending: list[Reminder] = []
    for loan in analysis.register.loans.values():
        if loan.program not in selected:
            continue
        outstanding = loan.outstanding(today)
        if outstanding <= 0 or loan.settled(today):
            continue
        maturity = None
        source = None
        for event in loan.events:
            if event.date > today:
                break
            if "maturity" in event.data:
                maturity, source = event.data["maturity"], event
        if maturity is None:
            continue
        reminder = Reminder(
            loan.program,
            loan.id,
            _enterprise(analysis, loan.enterprise),
            "贷款到期",
            maturity,
            (maturity - today).days,
            outstanding,
            f"{source.label}登记的到期日",
            source.entry,
        )
        if maturity < today:
            if loan.last_before("overdue", today) is None:
                overdue.append(reminder)
        elif maturity <= until:
            upcoming.append(reminder)
    for claim in analysis.records.get("claims", {}).values():
        loan = claim.loan
        if loan.program not in selected or claim.event.date > today or claim.started:
            continue
        pending.append(
            Reminder(
                loan.program,
                loan.id,
                _enterprise(analysis, loan.enterprise),
                "代偿申请已审核同意，尚未代偿入账",
                None,
                None,
                claim.due,
                f"{claim.event.date} 代偿申请",
                claim.event.entry,
            )
        )
    for loan_id, state in analysis.records.get("loan_recoveries", {}).items():
        loan = analysis.register.loans[loan_id]
        if loan.program not in selected:
            continue
        for fund, expected in state.expected.items():
            missing = expected - state.received[fund]
            if missing > ZERO and state.last_event is not None:
                pending.append(
                    Reminder(
                        loan.program,
                        loan.id,
                        _enterprise(analysis, loan.enterprise),
                        f"追偿款应补回{FUND_LABELS[fund]}，尚未到账",
                        None,
                        None,
                        missing,
                        f"{state.last_event.date} 追偿回收",
                        state.last_event.entry,
                    )
                )
    missing_rules = tuple(
        rule_id
        for rule_id in WORKING_DAY_RULES
        if not any(analysis.rulebook.programs[c].rule(rule_id) for c in selected)
    )
    upcoming.sort(key=lambda r: (r.due, r.program, r.loan))
    overdue.sort(key=lambda r: (r.due, r.program, r.loan))
    pending.sort(key=lambda r: (r.program, r.loan))
    return RemindersView(today, horizon, tuple(upcoming), tuple(overdue), tuple(pending), missing_rules)
