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

Sheet and column names are Chinese. 概览 is a form read down the page (one line per
figure, one column per program); every other sheet is one table, a 项目代码 column first,
one row per fund (or loan, claim …) that a reviewer can filter, then its totals rows where
sums make sense. Status words are the review pages' own (:mod:`zhubaodai.fava.views`: the
loan and claim states are read from the very rows 贷款台账 and 代偿台账 show for the same
period). How it is laid out on A4 paper is :mod:`zhubaodai.report_xlsx`'s concern.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from beancount.core.data import Balance
from beancount.core.data import Directive

from zhubaodai.checks.pool import OUTFLOW_RULES
from zhubaodai.checks.waterfall import claim_parts
from zhubaodai.checks.waterfall import npl_classified
from zhubaodai.checks.waterfall import parties_of
from zhubaodai.checks.waterfall import program_parties
from zhubaodai.checks.waterfall import uses_npl
from zhubaodai.core.rules import PARTY_LABELS
from zhubaodai.core.engine import Analysis
from zhubaodai.core.engine import DailyBalance
from zhubaodai.core.engine import GUARANTEE
from zhubaodai.core.engine import KIND_LABELS
from zhubaodai.core.engine import RISK
from zhubaodai.core.findings import FORMAT_RULE
from zhubaodai.core.findings import SEVERITY_LABELS
from zhubaodai.core.findings import explanation
from zhubaodai.core.money import ZERO
from zhubaodai.core.names import GENERIC_NAMES
from zhubaodai.core.names import FundNames
from zhubaodai.core.rules import CATALOGUE

ONE_DAY = datetime.timedelta(days=1)
#: Flow kinds in the order the sources-and-uses table shows them.
FLOW_KINDS = ("fee", "injection", "interest", "compensation", "outflow", "recovery", "disposal", "other")
#: The interest check in the words of the 孳息分配 page.
INTEREST_OK = {True: "分配正确", False: "分配有误"}
#: A loss event's check in 损失分担.
LOSS_OK = {True: "相符", False: "不符"}
#: What a totals row says in its first cell.
TOTAL = "合计"

# Cell kinds: how the workbook formats a cell.
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
    """One table: a Chinese title, its columns, its rows (cells in column order) and its
    totals rows (the same columns; the first cell says what is totalled)."""

    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    totals: tuple[tuple[Any, ...], ...] = ()

    def column(self, name: str) -> int:
        return [c.name for c in self.columns].index(name)


@dataclass(frozen=True)
class Line:
    """One line of a form: a figure for each program, or (no kind) a section heading."""

    label: str
    kind: str | None
    values: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Form:
    """A sheet read down the page: a label column, then one column per program."""

    title: str
    programs: tuple[str, ...]
    lines: tuple[Line, ...]

    def value(self, label: str, program: str) -> Any:
        for line in self.lines:
            if line.label == label and line.kind is not None:
                return line.values[self.programs.index(program)]
        raise KeyError(label)


@dataclass(frozen=True)
class Report:
    title: str
    period: str
    start: datetime.date
    end: datetime.date
    programs: tuple[tuple[str, str], ...]  # (code, name) in report order
    prepared: datetime.date
    ledger: str  # the ledger's file name
    sheets: tuple[Sheet | Form, ...]
    #: What the programs reported call their funds (``Rulebook.names``): the workbook's
    #: headers and labels say them; columns and lines keep their generic names as keys.
    names: FundNames = GENERIC_NAMES

    def sheet(self, title: str) -> Sheet | Form:
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

#: 概览's lines: (label, kind); a kind of None starts a section.
OVERVIEW: tuple[tuple[str, str | None], ...] = (
    ("项目名称", TEXT),
    ("两项资金", None),
    ("助保金期初余额", MONEY), ("助保金期末余额", MONEY),
    ("风险补偿金期初余额", MONEY), ("风险补偿金期末余额", MONEY), ("两项资金期末合计", MONEY),
    ("贷款", None),
    ("本期新增放款笔数", COUNT), ("本期新增放款金额", MONEY), ("本期增加贷款金额", MONEY),
    ("本期续贷笔数", COUNT), ("本期续贷金额", MONEY), ("本期还款金额", MONEY),
    ("期末在贷笔数", COUNT), ("期末在贷余额", MONEY),
    ("覆盖率与放大倍数（期末）", None),
    ("风险补偿金 ÷ 在贷余额（覆盖率）", RATIO), ("在贷余额 ÷ 风险补偿金（放大倍数）", MULTIPLE),
    ("两项资金 ÷ 在贷余额", RATIO),
    ("代偿与追偿", None),
    ("本期代偿笔数", COUNT), ("本期代偿金额", MONEY), ("本期追偿净额", MONEY),
    ("检查结果（截至期末）", None),
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
#: 代偿's column of each party that bears a part of a claim (CQGX and WLHT: the first three).
CLAIM_PARTY_COLUMNS = {
    "guarantee": "助保金支付", "risk": "风险补偿金支付", "bank": "合作银行承担", "guarantor": "担保机构承担",
    "insurer": "保险公司承担", "government": "政府承担",
}


def claim_columns(parties: Sequence[str], npl: bool = False) -> tuple[Column, ...]:
    """代偿's columns: one per party of the programs reported (their waterfall tables), and
    不良分类日 where a program reported claims on an NPL classification (comp.scope trigger npl)."""
    return _cols(
        "项目代码", "贷款编号", "企业名称", ("逾期日", DATE), *((("不良分类日", DATE),) if npl else ()),
        ("代偿申请日", DATE), "申请函",
        ("代偿入账日", DATE), ("应代偿额", MONEY), *((CLAIM_PARTY_COLUMNS[p], MONEY) for p in parties),
        ("风险补偿金未能分担", MONEY), "状态", "管委会决定",
    )


#: 质押存单: each loan's pledged deposit at the period's end (the engine's deposit sub-ledger).
DEPOSITS = _cols(
    "项目代码", "贷款编号", "企业名称", ("质押", MONEY), ("解押", MONEY), ("代偿", MONEY), ("期末余额", MONEY),
    "质押日", "解押日", "代偿日", ("检查结果数", COUNT),
)
#: 允许的支出: each outflow a policy allows (海口's guarantee-fee subsidies) with its caps.
OUTFLOWS = _cols(
    "项目代码", ("日期", DATE), "类别", "贷款编号", ("金额", MONEY), ("担保金额", MONEY), ("该笔上限", MONEY),
    ("该笔尚可", MONEY), ("年度累计", MONEY), ("年度上限", MONEY), ("年度尚可", MONEY), ("检查结果数", COUNT),
)

#: 损失分担's figures per party of a residual table: (column suffix, LossPart attribute).
LOSS_FIGURES = (("应承担", "due"), ("已记录", "recorded"), ("差额", "difference"))


def loss_columns(parties: Sequence[str]) -> tuple[Column, ...]:
    """损失分担's columns: the loss event, the loss left after recovery, then for each party
    of the programs' residual tables what it is due to bear, what the event records and the
    difference (due less recorded)."""
    return _cols(
        "项目代码", "贷款编号", "企业名称", ("损失登记日", DATE), "函件", ("未弥补损失", MONEY),
        *((f"{PARTY_LABELS[p]}{suffix}", MONEY) for p in parties for suffix, _ in LOSS_FIGURES),
        "核对结果",
    )


def residual_parties(analysis: Analysis, codes: Sequence[str]) -> tuple[str, ...]:
    """The parties of the programs' residual tables (every version), in the order the
    tables list them (金东: 政府, 担保机构, 银行); () where no program has one (the sheet is
    then left out)."""
    found: dict[str, None] = {}
    for code in codes:
        rule = analysis.rulebook.programs[code].rules.get("comp.shares")
        if rule is not None and "residual" in rule.params:
            found.update((row.party, None) for table in rule.params["residual"].values if table for row in table)
    return tuple(found)


def _loss_rows(
    analysis: Analysis, code: str, start: datetime.date, end: datetime.date, parties: Sequence[str]
) -> list[tuple]:
    """One row per loss event of the period (records.losses, as the engine checked it); a
    party outside this program's table gets empty cells."""
    enterprises = analysis.register.enterprises
    rows = []
    for share in analysis.records.losses:
        loan, event = share.loan, share.event
        if loan.program != code or not _in(event.date, start, end):
            continue
        enterprise = enterprises.get(loan.enterprise)
        parts = {part.party: part for part in share.parts}
        rows.append((
            code, loan.id, enterprise.data["name"] if enterprise else "", event.date, event.data.get("letter", ""),
            share.loss,
            *(getattr(parts[p], attribute) if p in parts else None for p in parties for _, attribute in LOSS_FIGURES),
            LOSS_OK[share.ok],
        ))
    return sorted(rows, key=lambda r: (r[3], r[1]))




CLAIMS = claim_columns(("guarantee", "risk", "bank"))
RECOVERIES = _cols(
    "项目代码", "贷款编号", ("追偿登记日", DATE), "来函", ("追回总额", MONEY), ("扣除费用及违约金", MONEY),
    ("追偿净额", MONEY), ("偿还合作银行", MONEY), ("补回风险补偿金", MONEY), ("补回助保金", MONEY),
    ("超出部分（需人工处理）", MONEY),
)
INTEREST = _cols(
    "项目代码", ("入账日期", DATE), ("计息期起", DATE), ("计息期止", DATE), ("孳息总额", MONEY),
    ("助保金积数", MONEY), ("风险补偿金积数", MONEY), ("助保金应分", MONEY), ("风险补偿金应分", MONEY),
    ("助保金实记", MONEY), ("风险补偿金实记", MONEY), "分配",
)
FINDINGS = _cols(
    "项目代码", "严重程度", "规则编号", "规则名称", "依据", "说明", "文件", ("行号", COUNT),
    ("日期", DATE), "贷款编号", "会计说明",
)
#: Per table: the columns whose totals mean something, and what the rows count.
SUMMED: dict[str, tuple[tuple[str, ...], str]] = {
    "资金来源": (
        ("期初余额", *(KIND_LABELS[k] for k in FLOW_KINDS), "期末余额", "勾稽差额"), "项资金",
    ),
    "贷款": (
        ("期初余额", "本期放款", "本期增加金额", "本期续贷", "本期还款", "期末余额", "助保金累计应缴",
         "助保金累计实缴"), "笔",
    ),
    "代偿": (("应代偿额", *CLAIM_PARTY_COLUMNS.values(), "风险补偿金未能分担"), "笔"),
    "质押存单": (("质押", "解押", "代偿", "期末余额"), "笔"),
    "允许的支出": (("金额",), "笔"),
    "追偿": (
        ("追回总额", "扣除费用及违约金", "追偿净额", "偿还合作银行", "补回风险补偿金", "补回助保金",
         "超出部分（需人工处理）"), "笔",
    ),
    "孳息分配": (("孳息总额", "助保金应分", "风险补偿金应分", "助保金实记", "风险补偿金实记"), "笔"),
}

AUDIT = _cols(
    "项目代码", "类别", "事项", ("日期", DATE), "函件或文件", "经办", "核对结果", "摘要或 SHA-256", "文件", ("行号", COUNT),
)


def _audit_rows(analysis: Analysis, codes: Sequence[str], end: datetime.date, folder: str = "") -> list[tuple]:
    """Every close and reopening (a close is made after its period), then the authorising documents
    of events dated up to the report's end: the audit trail a reviewer checks the report against."""
    rows: list[tuple] = []
    for r in analysis.records.periods:
        if r.program in codes:
            detail = r.status + ("：" + "、".join(r.changed) if r.changed else "")
            meta = r.event.entry.meta
            rows.append((
                r.program, r.label, f"{r.period.label}（{r.period.code}）", r.event.date, r.letter, r.by or "",
                detail, str(meta.get("digest", "")), relative_path(meta.get("filename"), folder), meta.get("lineno"),
            ))
    for e in analysis.records.evidence:
        if e.program in codes and e.entry.date <= end:
            meta = e.entry.meta
            rows.append((
                e.program, "授权文件", e.what, e.entry.date, e.written or "", "", e.status, e.sha256 or "",
                relative_path(meta.get("filename"), folder), meta.get("lineno"),
            ))
    return rows


def _in(day: datetime.date, start: datetime.date, end: datetime.date) -> bool:
    return start <= day <= end


def _loan_rows(
    analysis: Analysis, code: str, start: datetime.date, end: datetime.date, status: dict[str, str]
) -> list[tuple]:
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

        account = fees.get(loan.id)
        due = sum((d.due for d in account.dues if d.date <= end), ZERO) if account else ZERO
        paid = sum((p.amount for p in account.payments if p.date <= end), ZERO) if account else ZERO
        enterprise = enterprises.get(loan.enterprise)
        rows.append((
            code, loan.id, loan.enterprise, enterprise.data["name"] if enterprise else "",
            loan.approval.date, opening, total("disbursement"), total("increase"), total("renewal"),
            total("repayment"), closing, status.get(loan.id, "—"), due, paid,
        ))
    return rows


def _claim_rows(
    analysis: Analysis, code: str, start: datetime.date, end: datetime.date,
    states: dict[tuple[str, datetime.date], str], parties: Sequence[str] = ("guarantee", "risk", "bank"),
    npl: bool = False,
) -> list[tuple]:
    """One row per claim; a party outside this program's waterfall gets an empty cell; with
    ``npl``, the date of the NPL classification that made the loan eligible (as 代偿台账)."""
    enterprises = analysis.register.enterprises
    mine = set(program_parties(analysis.rulebook.programs[code]))
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
        parts = claim_parts(analysis.records, claim)
        rows.append((
            code, loan.id, enterprise.data["name"] if enterprise else "",
            overdue.date if overdue else None,
            *((_npl_date(analysis, loan, claim.event.date),) if npl else ()),
            claim.event.date, claim.event.data.get("letter", ""),
            claim.entries[-1].date if claim.entries else None,
            claim.due, *(parts.get(p, ZERO) if p in mine else None for p in parties), claim.uncovered,
            states.get((loan.id, claim.event.date), "—"),
            "；".join(e.data["decision"] for e in committee),
        ))
    return sorted(rows, key=lambda r: (r[5 if npl else 4], r[1]))


def _npl_date(analysis: Analysis, loan: Any, on: datetime.date) -> datetime.date | None:
    found = npl_classified(analysis.rulebook.programs[loan.program], loan, on)
    return found.date if found is not None else None


def _deposit_rows(analysis: Analysis, code: str, start: datetime.date, end: datetime.date) -> list[tuple]:
    """质押存单: the deposits of 资金池概况's section, as at the period's end."""
    from zhubaodai.fava import views

    def days(found: tuple[datetime.date, ...]) -> str:
        return "、".join(str(d) for d in found)

    return [
        (code, d.loan, d.enterprise_name, d.pledged, d.released, d.used, d.balance,
         days(d.pledged_on), days(d.released_on), days(d.used_on), len(d.findings))
        for d in views.deposit_rows(analysis, views.Period(start, end, True), [code])
    ]


def _outflow_rows(analysis: Analysis, code: str, start: datetime.date, end: datetime.date) -> list[tuple]:
    """允许的支出: the outflows of 资金池概况's section in the period, with their caps."""
    from zhubaodai.fava import views

    return [
        (code, o.date, o.title, o.loan or "", o.amount, o.base, o.allowed, o.loan_left, o.year_total,
         o.annual_cap, o.year_left, len(o.findings))
        for o in views.outflow_rows(analysis, views.Period(start, end, True), [code])
    ]


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
            a.expected_guarantee, a.expected_risk, a.actual_guarantee, a.actual_risk, INTEREST_OK[bool(a.ok)],
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


def relative_path(filename: str | None, folder: str) -> str:
    """A finding's file as the reviewer finds it beside the ledger: relative to the ledger's folder."""
    if not filename:
        return ""
    if filename.startswith("<") or not folder:
        return filename
    try:
        return os.path.relpath(filename, folder)
    except ValueError:  # another drive
        return filename


def _finding_rows(
    analysis: Analysis, codes: Sequence[str], end: datetime.date, beancount_errors: Sequence[Any], folder: str
) -> list[tuple]:
    rows = []
    for f in analysis.findings:
        if f.program is not None and f.program not in codes:
            continue
        if f.date is not None and f.date > end:
            continue
        title = "账本格式" if f.rule == FORMAT_RULE else CATALOGUE[f.rule].title if f.rule in CATALOGUE else f.rule
        if f.program is not None:  # in the program's own fund names (Rulebook.names)
            title = analysis.rulebook.names(f.program).say(title)
        rows.append((
            f.program or "—", SEVERITY_LABELS[f.severity], f.rule, title, f.citation, f.message,
            relative_path(f.filename, folder), f.lineno, f.date, f.loan or "", explanation(f) or "",
        ))
    for problem in beancount_errors:
        rows.append((
            "—", SEVERITY_LABELS["error"], "beancount", "Beancount 自身检查", "Beancount", problem.message,
            relative_path(problem.filename, folder), problem.lineno, None, "", "",
        ))
    return rows


def totals(
    columns: Sequence[Column], rows: Sequence[tuple], summed: Sequence[str], unit: str
) -> tuple[tuple[Any, ...], ...]:
    """The totals rows of a table: one per program when two or more programs have rows,
    then one over all rows. The second cell counts the rows (``共 3 笔``)."""
    if not rows:
        return ()
    indices = [i for i, c in enumerate(columns) if c.name in summed]
    groups: dict[str, list[tuple]] = {}
    for row in rows:
        groups.setdefault(row[0], []).append(row)
    labelled = [(f"{TOTAL}（{code}）", group) for code, group in groups.items()] if len(groups) > 1 else []
    result = []
    for label, group in [*labelled, (TOTAL, list(rows))]:
        cells: list[Any] = [None] * len(columns)
        cells[0] = label
        cells[1] = f"共 {len(group)} {unit}"
        for i in indices:
            cells[i] = sum((r[i] for r in group if r[i] is not None), ZERO)
        result.append(tuple(cells))
    return tuple(result)


def _table(title: str, columns: tuple[Column, ...], rows: Sequence[tuple]) -> Sheet:
    spec = SUMMED.get(title)
    return Sheet(title, columns, tuple(rows), totals(columns, rows, *spec) if spec else ())


def _loss_table(parties: Sequence[str], rows: Sequence[tuple]) -> Sheet:
    columns = loss_columns(parties)
    summed = ("未弥补损失", *(f"{PARTY_LABELS[p]}{suffix}" for p in parties for suffix, _ in LOSS_FIGURES))
    return Sheet("损失分担", columns, tuple(rows), totals(columns, rows, summed, "笔"))


def _page_states(
    analysis: Analysis, code: str, start: datetime.date, end: datetime.date
) -> tuple[dict[str, str], dict[tuple[str, datetime.date], str]]:
    """The loan and claim states at the period's end, as 贷款台账 and 代偿台账 show them."""
    from zhubaodai.fava import views

    everything = views.Period(None, end, False)  # a loan's state depends on the end only
    loans = {r.id: r.status_label for r in views.loan_rows(analysis, everything, [code], with_deadlines=False)}
    claims = {
        (r.loan, r.claim_date): r.state
        for r in views.compensation_rows(analysis, views.Period(start, end, True), [code])
    }
    return loans, claims


def build_report(
    analysis: Analysis,
    entries: Iterable[Directive],
    programs: Sequence[str],
    period: str,
    start: datetime.date,
    end: datetime.date,
    *,
    ledger: str = "",
    prepared: datetime.date | None = None,
    beancount_errors: Sequence[Any] = (),
    on_program: Callable[[str], None] | None = None,
) -> Report:
    """The report's tables for ``programs`` over start..end (inclusive). ``ledger`` is the
    ledger's top file: findings name their files relative to its folder."""
    entries = list(entries)
    before = start - ONE_DAY
    columns: list[tuple[Any, ...]] = []
    sources, reconciliation, loans, claims, recoveries, interest = [], [], [], [], [], []
    deposits: list[tuple] = []
    outflows: list[tuple] = []
    parties = parties_of(analysis.rulebook.programs[code] for code in programs)
    npl = any(uses_npl(analysis.rulebook.programs[code]) for code in programs)
    with_deposits = any("deposits" in analysis.rulebook.programs[code].accounts for code in programs)
    loss_parties = residual_parties(analysis, programs)
    losses: list[tuple] = []
    with_outflows = any(
        rule_id in analysis.rulebook.programs[code].rules for code in programs for rule_id in OUTFLOW_RULES.values()
    )
    for code in programs:
        state = analysis.programs[code]
        program = state.program
        funds = state.funds
        loan_status, claim_states = _page_states(analysis, code, start, end)
        loan_rows = _loan_rows(analysis, code, start, end, loan_status)
        claim_rows = _claim_rows(analysis, code, start, end, claim_states, parties, npl)
        deposits += _deposit_rows(analysis, code, start, end)
        outflows += _outflow_rows(analysis, code, start, end)
        recovery_rows = _recovery_rows(analysis, code, start, end)
        if loss_parties:
            losses += _loss_rows(analysis, code, start, end, loss_parties)
        for fund in (GUARANTEE, RISK):
            opening, closing = funds[fund].at(before), funds[fund].at(end)
            flows = [period_flow(state.flow_series.get((fund, k)), start, end) for k in FLOW_KINDS]
            sources.append((code, program.names.fund(fund), opening, *flows, closing, opening + sum(flows, ZERO) - closing))
        g_end, r_end = funds[GUARANTEE].at(end), funds[RISK].at(end)
        outstanding = analysis.outstanding(code, end)
        open_loans = sum(
            1 for l in analysis.register.loans.values() if l.program == code and l.outstanding(end) > 0
        )
        idx = {c.name: i for i, c in enumerate(LOANS)}
        findings = [f for f in analysis.findings if f.program == code and (f.date is None or f.date <= end)]
        columns.append((
            program.name,
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
    lines: list[Line] = []
    figure = 0  # the index of the next figure in each program's column
    for label, kind in OVERVIEW:
        if kind is None:
            lines.append(Line(label, None))
        else:
            lines.append(Line(label, kind, tuple(c[figure] for c in columns)))
            figure += 1
    folder = os.path.dirname(os.path.abspath(ledger)) if ledger else ""
    sheets = (
        Form("概览", tuple(programs), tuple(lines)),
        _table("资金来源", SOURCES, sources),
        _table("专户对账", RECONCILIATION, reconciliation),
        _table("贷款", LOANS, loans),
        _table("代偿", claim_columns(parties, npl), claims),
        *((_table("质押存单", DEPOSITS, deposits),) if with_deposits else ()),
        *((_table("允许的支出", OUTFLOWS, outflows),) if with_outflows else ()),
        _table("追偿", RECOVERIES, recoveries),
        *((_loss_table(loss_parties, losses),) if loss_parties else ()),
        _table("孳息分配", INTEREST, interest),
        _table("检查结果", FINDINGS, _finding_rows(analysis, programs, end, beancount_errors, folder)),
        _table("结账与授权文件", AUDIT, _audit_rows(analysis, programs, end, folder)),
    )
    names = tuple((code, analysis.programs[code].program.name) for code in programs)
    return Report(
        f"助保贷资金池{period}报表", period, start, end, names, prepared or datetime.date.today(),
        os.path.basename(ledger), sheets, analysis.rulebook.names(programs),
    )
