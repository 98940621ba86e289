"""The finance bureau's quarterly or annual report, per program, as an XLSX workbook.

``zbd report LEDGER --period 2024Q3 -o 报表.xlsx`` (:mod:`zhubaodai.cli`) calls
:func:`build_report` (pure: the engine's :class:`~zhubaodai.core.engine.Analysis` in, tables
out) and :func:`write_report` (openpyxl). Every figure is read from the engine:

* fund balances and period flows by source: ``ProgramState.funds[...].at(day)`` and
  ``ProgramState.flow_series[(fund, kind)]`` (a period's flow is ``.at(end) - .at(start - 1)``);
* the reconciliation: each ``balance`` directive on the program's pool account (the bank
  statement) dated from the period's first day to the day after its last, against the two
  funds and the unallocated accounts at the end of the day before it (Beancount asserts a
  balance before the entries of its date);
* loans: the register (``Loan.outstanding``, ``Loan.settled``, the events of the period)
  and the fee accounts (``records.fees``);
* compensations, recoveries, interest: ``records.claims``, ``records.recoveries``,
  ``records.interest``;
* coverage and leverage at the period end: the risk fund against
  :meth:`~zhubaodai.core.engine.Analysis.outstanding`;
* open findings: the engine's findings dated up to the period end (and Beancount's own).

Sheet and column names are Chinese; one row per program (or per loan, claim …), with a
项目 column first, so each sheet is one table a reviewer can filter.
"""

from __future__ import annotations

import datetime
import os
import tempfile
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from beancount.core.data import Balance
from beancount.core.data import Directive

from zhubaodai.core.engine import Analysis
from zhubaodai.core.engine import DailyBalance
from zhubaodai.core.engine import FUND_LABELS
from zhubaodai.core.engine import GUARANTEE
from zhubaodai.core.engine import KIND_LABELS
from zhubaodai.core.engine import RISK
from zhubaodai.core.findings import FORMAT_RULE
from zhubaodai.core.findings import SEVERITY_LABELS
from zhubaodai.core.money import ZERO
from zhubaodai.core.rules import CATALOGUE
from zhubaodai.outputs import inert

ONE_DAY = datetime.timedelta(days=1)
#: Flow kinds in the order the sources-and-uses table shows them.
FLOW_KINDS = ("fee", "injection", "interest", "compensation", "recovery", "disposal", "other")

# Column kinds: how write_report formats a cell.
TEXT = "text"
MONEY = "money"
DATE = "date"
COUNT = "count"
RATIO = "ratio"
MULTIPLE = "multiple"
NUMBER = "number"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = TEXT


@dataclass(frozen=True)
class Sheet:
    """One table: a Chinese title, its columns, and its rows (cells in column order)."""

    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]

    def column(self, name: str) -> int:
        return [c.name for c in self.columns].index(name)


@dataclass(frozen=True)
class Report:
    title: str
    period: str
    start: datetime.date
    end: datetime.date
    programs: tuple[str, ...]
    sheets: tuple[Sheet, ...]

    def sheet(self, title: str) -> Sheet:
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        raise KeyError(title)


def _cols(*spec: tuple[str, str] | str) -> tuple[Column, ...]:
    return tuple(Column(s) if isinstance(s, str) else Column(*s) for s in spec)


def period_flow(series: DailyBalance | None, start: datetime.date, end: datetime.date) -> Decimal:
    """A cumulated flow's change over start..end inclusive."""
    if series is None:
        return ZERO
    return series.at(end) - series.at(start - ONE_DAY)


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    return None if denominator <= 0 else numerator / denominator


# --------------------------------------------------------------------------------------
# The tables.

OVERVIEW = _cols(
    "项目代码", "项目名称", "报告期", (("期间起", DATE)), (("期间止", DATE)),
    ("助保金期初余额", MONEY), ("助保金期末余额", MONEY),
    ("风险补偿金期初余额", MONEY), ("风险补偿金期末余额", MONEY), ("两项资金期末合计", MONEY),
    ("本期新增放款笔数", COUNT), ("本期新增放款金额", MONEY), ("本期增加贷款金额", MONEY),
    ("本期续贷笔数", COUNT), ("本期续贷金额", MONEY), ("本期还款金额", MONEY),
    ("期末未结清贷款笔数", COUNT), ("期末贷款余额", MONEY),
    ("风险补偿金占贷款余额比例", RATIO), ("贷款余额为风险补偿金的倍数", MULTIPLE),
    ("两项资金占贷款余额比例", RATIO),
    ("本期代偿笔数", COUNT), ("本期代偿金额", MONEY), ("本期追偿净额", MONEY),
    ("检查错误数", COUNT), ("检查警告数", COUNT),
)
SOURCES = _cols(
    "项目代码", "资金", ("期初余额", MONEY),
    *((KIND_LABELS[k], MONEY) for k in FLOW_KINDS),
    ("期末余额", MONEY), ("勾稽差额", MONEY),
)
RECONCILIATION = _cols(
    "项目代码", ("断言日期", DATE), "专户账户", ("银行对账单余额", MONEY),
    ("助保金", MONEY), ("风险补偿金", MONEY), ("未归属两项资金", MONEY), ("账面合计", MONEY),
    ("差额", MONEY), "说明",
)
LOANS = _cols(
    "项目代码", "贷款编号", "企业编号", "企业名称", ("审核同意日", DATE),
    ("期初余额", MONEY), ("本期放款", MONEY), ("本期增加金额", MONEY), ("本期续贷", MONEY),
    ("本期还款", MONEY), ("期末余额", MONEY), "期末状态",
    ("助保金累计应缴", MONEY), ("助保金累计实缴", MONEY),
)
CLAIMS = _cols(
    "项目代码", "贷款编号", "企业名称", ("逾期日", DATE), ("代偿申请日", DATE), "申请函",
    ("代偿入账日", DATE), ("应代偿额", MONEY), ("助保金支付", MONEY), ("风险补偿金支付", MONEY),
    ("合作银行承担", MONEY), ("风险补偿金未能分担", MONEY), "管委会决定",
)
RECOVERIES = _cols(
    "项目代码", "贷款编号", ("追偿登记日", DATE), "来函", ("追回总额", MONEY), ("扣除费用及违约金", MONEY),
    ("追偿净额", MONEY), ("偿还合作银行", MONEY), ("补回风险补偿金", MONEY), ("补回助保金", MONEY),
    ("超出部分（需人工处理）", MONEY),
)
INTEREST = _cols(
    "项目代码", ("入账日期", DATE), ("计息期起", DATE), ("计息期止", DATE), ("孳息总额", MONEY),
    ("助保金积数", MONEY), ("风险补偿金积数", MONEY), ("助保金应分", MONEY), ("风险补偿金应分", MONEY),
    ("助保金实记", MONEY), ("风险补偿金实记", MONEY), "是否相符",
)
FINDINGS = _cols(
    "项目代码", "严重程度", "规则编号", "规则名称", "依据", "说明", "文件", ("行号", COUNT),
    ("日期", DATE), "贷款编号",
)


def _in(day: datetime.date, start: datetime.date, end: datetime.date) -> bool:
    return start <= day <= end


def _loan_rows(analysis: Analysis, code: str, start: datetime.date, end: datetime.date) -> list[tuple]:
    fees = analysis.records.fees
    enterprises = analysis.register.enterprises
    before = start - ONE_DAY
    rows = []
    for loan in sorted(analysis.register.loans.values(), key=lambda l: l.id):
        if loan.program != code or loan.approval.date > end:
            continue
        events = [e for e in loan.events if _in(e.date, start, end)]
        opening, closing = loan.outstanding(before), loan.outstanding(end)
        if not events and opening == 0 and closing == 0:
            continue

        def total(kind: str) -> Decimal:
            return sum((e.data["amount"] for e in events if e.kind == kind), ZERO)

        if loan.settled(end):
            status = "已结清"
        elif loan.last_before("overdue", end) is not None:
            status = "逾期"
        elif loan.last_before("disbursement", end) is None:
            status = "未放款"
        else:
            status = "正常"
        account = fees.get(loan.id)
        due = sum((d.due for d in account.dues if d.date <= end), ZERO) if account else ZERO
        paid = sum((p.amount for p in account.payments if p.date <= end), ZERO) if account else ZERO
        enterprise = enterprises.get(loan.enterprise)
        rows.append((
            code, loan.id, loan.enterprise, enterprise.data["name"] if enterprise else "",
            loan.approval.date, opening, total("disbursement"), total("increase"), total("renewal"),
            total("repayment"), closing, status, due, paid,
        ))
    return rows


def _claim_rows(analysis: Analysis, code: str, start: datetime.date, end: datetime.date) -> list[tuple]:
    enterprises = analysis.register.enterprises
    rows = []
    for claim in analysis.records.claims.values():
        loan = claim.loan
        if loan.program != code:
            continue
        paid_in = [e.date for e in claim.entries if _in(e.date, start, end)]
        if not paid_in and not _in(claim.event.date, start, end):
            continue
        overdue = loan.last_before("overdue", claim.event.date)
        committee = [e for e in loan.events if e.kind == "committee" and e.date <= end]
        enterprise = enterprises.get(loan.enterprise)
        rows.append((
            code, loan.id, enterprise.data["name"] if enterprise else "",
            overdue.date if overdue else None, claim.event.date, claim.event.data.get("letter", ""),
            claim.entries[-1].date if claim.entries else None,
            claim.due, claim.guarantee_paid, claim.risk_paid, claim.bank_share, claim.uncovered,
            "；".join(e.data["decision"] for e in committee),
        ))
    return sorted(rows, key=lambda r: (r[4], r[1]))


def _recovery_rows(analysis: Analysis, code: str, start: datetime.date, end: datetime.date) -> list[tuple]:
    rows = []
    for recovery in analysis.records.recoveries:
        if recovery.loan.program != code or not _in(recovery.event.date, start, end):
            continue
        rows.append((
            code, recovery.loan.id, recovery.event.date, recovery.event.data.get("letter", ""),
            recovery.gross, recovery.deductions, recovery.net,
            recovery.parts.get("bank", ZERO), recovery.parts.get("risk", ZERO),
            recovery.parts.get("guarantee", ZERO), recovery.excess,
        ))
    return rows


def _interest_rows(analysis: Analysis, code: str, start: datetime.date, end: datetime.date) -> list[tuple]:
    rows = []
    for a in analysis.records.interest:
        if a.program != code or not _in(a.entry.date, start, end):
            continue
        rows.append((
            code, a.entry.date, a.period_start, a.period_end, a.total, a.jishu_guarantee, a.jishu_risk,
            a.expected_guarantee, a.expected_risk, a.actual_guarantee, a.actual_risk,
            "相符" if a.ok else "不符",
        ))
    return rows


def _reconciliation_rows(
    analysis: Analysis, code: str, entries: Iterable[Directive], start: datetime.date, end: datetime.date
) -> list[tuple]:
    state = analysis.programs[code]
    pool = state.program.accounts["pool"]

    def books(day: datetime.date) -> tuple[Decimal, Decimal, Decimal]:
        unallocated = sum((s.at(day) for s in state.unallocated_series.values()), ZERO)
        return state.funds[GUARANTEE].at(day), state.funds[RISK].at(day), unallocated

    rows = []
    for entry in entries:
        # A balance directive asserts the balance at the start of its day: those dated
        # start .. end + 1 cover every day-end from the opening to the closing balance.
        if not isinstance(entry, Balance) or entry.account != pool or not _in(entry.date, start, end + ONE_DAY):
            continue
        g, r, u = books(entry.date - ONE_DAY)
        asserted = entry.amount.number
        note = "相符" if asserted == g + r + u else "不符：请核对银行对账单与账面"
        rows.append((code, entry.date, pool, asserted, g, r, u, g + r + u, asserted - (g + r + u), note))
    g, r, u = books(end)
    rows.append((code, end, pool, None, g, r, u, g + r + u, None, "期末账面（无余额断言）"))
    return rows


def _finding_rows(analysis: Analysis, codes: Sequence[str], end: datetime.date, beancount_errors: Sequence[Any]) -> list[tuple]:
    rows = []
    for f in analysis.findings:
        if f.program is not None and f.program not in codes:
            continue
        if f.date is not None and f.date > end:
            continue
        title = "账本格式" if f.rule == FORMAT_RULE else CATALOGUE[f.rule].title if f.rule in CATALOGUE else f.rule
        rows.append((
            f.program or "—", SEVERITY_LABELS[f.severity], f.rule, title, f.citation, f.message,
            f.filename or "", f.lineno, f.date, f.loan or "",
        ))
    for problem in beancount_errors:
        rows.append((
            "—", SEVERITY_LABELS["error"], "beancount", "Beancount 自身检查", "Beancount", problem.message,
            problem.filename or "", problem.lineno, None, "",
        ))
    return rows


def build_report(
    analysis: Analysis,
    entries: Iterable[Directive],
    programs: Sequence[str],
    period: str,
    start: datetime.date,
    end: datetime.date,
    *,
    ledger: str = "",
    beancount_errors: Sequence[Any] = (),
    on_program: Callable[[str], None] | None = None,
) -> Report:
    """The report's tables for ``programs`` over start..end (inclusive)."""
    entries = list(entries)
    before = start - ONE_DAY
    overview, sources, reconciliation, loans, claims, recoveries, interest = [], [], [], [], [], [], []
    for code in programs:
        state = analysis.programs[code]
        program = state.program
        funds = state.funds
        loan_rows = _loan_rows(analysis, code, start, end)
        claim_rows = _claim_rows(analysis, code, start, end)
        recovery_rows = _recovery_rows(analysis, code, start, end)
        for fund in (GUARANTEE, RISK):
            opening, closing = funds[fund].at(before), funds[fund].at(end)
            flows = [period_flow(state.flow_series.get((fund, k)), start, end) for k in FLOW_KINDS]
            sources.append((code, FUND_LABELS[fund], opening, *flows, closing, opening + sum(flows, ZERO) - closing))
        g_end, r_end = funds[GUARANTEE].at(end), funds[RISK].at(end)
        outstanding = analysis.outstanding(code, end)
        open_loans = sum(
            1 for l in analysis.register.loans.values() if l.program == code and l.outstanding(end) > 0
        )
        idx = {c.name: i for i, c in enumerate(LOANS)}
        findings = [f for f in analysis.findings if f.program == code and (f.date is None or f.date <= end)]
        overview.append((
            code, program.name, period, start, end,
            funds[GUARANTEE].at(before), g_end, funds[RISK].at(before), r_end, g_end + r_end,
            sum(1 for r in loan_rows if r[idx["本期放款"]] > 0),
            sum((r[idx["本期放款"]] for r in loan_rows), ZERO),
            sum((r[idx["本期增加金额"]] for r in loan_rows), ZERO),
            sum(1 for r in loan_rows if r[idx["本期续贷"]] > 0),
            sum((r[idx["本期续贷"]] for r in loan_rows), ZERO),
            sum((r[idx["本期还款"]] for r in loan_rows), ZERO),
            open_loans, outstanding,
            _ratio(r_end, outstanding), _ratio(outstanding, r_end), _ratio(g_end + r_end, outstanding),
            len(claim_rows),
            -(period_flow(state.flow_series.get((GUARANTEE, "compensation")), start, end)
              + period_flow(state.flow_series.get((RISK, "compensation")), start, end)),
            sum((r[6] for r in recovery_rows), ZERO),
            sum(1 for f in findings if f.severity == "error"),
            sum(1 for f in findings if f.severity == "warning"),
        ))
        reconciliation += _reconciliation_rows(analysis, code, entries, start, end)
        loans += loan_rows
        claims += claim_rows
        recoveries += recovery_rows
        interest += _interest_rows(analysis, code, start, end)
        if on_program is not None:
            on_program(code)
    sheets = (
        Sheet("概览", OVERVIEW, tuple(overview)),
        Sheet("资金来源", SOURCES, tuple(sources)),
        Sheet("专户对账", RECONCILIATION, tuple(reconciliation)),
        Sheet("贷款", LOANS, tuple(loans)),
        Sheet("代偿", CLAIMS, tuple(claims)),
        Sheet("追偿", RECOVERIES, tuple(recoveries)),
        Sheet("孳息分配", INTEREST, tuple(interest)),
        Sheet("检查结果", FINDINGS, tuple(_finding_rows(analysis, programs, end, beancount_errors))),
    )
    title = f"助保贷资金池{period}报表"
    if ledger:
        title += f"（账本 {ledger}）"
    return Report(title, period, start, end, tuple(programs), sheets)


# --------------------------------------------------------------------------------------
# Writing the workbook.

_FORMATS = {
    MONEY: "#,##0.00",
    DATE: "yyyy-mm-dd",
    COUNT: "0",
    RATIO: "0.00%",
    MULTIPLE: '0.00"倍"',
    NUMBER: "0.00",
}


def write_report(report: Report, path: str) -> None:
    """Write the workbook atomically (a temporary file beside ``path``, then a rename)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.title = report.title
    workbook.properties.subject = f"{report.start} 至 {report.end}"
    bold = Font(bold=True)
    for sheet in report.sheets:
        ws = workbook.create_sheet(sheet.title)
        ws.append([c.name for c in sheet.columns])
        for cell in ws[1]:
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for row in sheet.rows:
            ws.append([_cell(value, column.kind) for value, column in zip(row, sheet.columns)])
        for i, column in enumerate(sheet.columns, start=1):
            fmt = _FORMATS.get(column.kind)
            letter = get_column_letter(i)
            if fmt:
                for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.number_format = fmt
            longest = max([len(column.name) * 2] + [len(str(r[i - 1] or "")) for r in sheet.rows[:200]])
            ws.column_dimensions[letter].width = min(max(10, longest + 2), 60)
        ws.freeze_panes = "B2"
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(suffix=".xlsx", dir=directory)
    os.close(handle)
    try:
        workbook.save(temporary)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _cell(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value if kind != TEXT else str(value)
    return inert(value)  # the ledger's text never becomes a live formula (zhubaodai.outputs)
