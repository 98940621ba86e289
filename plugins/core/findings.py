"""Findings: what the rule engine says about a ledger.

A finding carries the rule id, its severity, the citation (document + article), a Chinese
message with the figures a person needs, and the file:line of the entry it concerns.
Every adapter (the Beancount plugin, the CLI, the Fava pages) shows findings as they are;
none writes its own messages.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

from zhubaodai.core.money import yuan

ERROR = "error"
WARNING = "warning"

#: Rule id for entries the engine cannot read (not a policy rule: cites the ledger format).
FORMAT_RULE = "ledger.format"
FORMAT_CITATION = "本项目账本格式 docs/ledger-format.md"

SEVERITY_LABELS = {ERROR: "错误", WARNING: "警告"}


#: Each figure's Chinese label (as the message prints it) -> a stable machine key for JSON
#: (``zbd check --format json``). Amounts are yuan to the fen unless the key says otherwise
#: (``_percent``: a rate in per cent; ``_days``/``_workdays``/``_months``: counts). A rule that
#: reports a new label must add it here (tests/test_findings_figures.py runs every rule).
FIGURE_KEYS: dict[str, str] = {
    # Amounts due and paid.
    "应缴": "due",
    "累计应缴": "cumulative_due",
    "实缴": "paid",
    "截至当日实缴": "paid_by_then",
    "差额": "difference",
    "超出": "excess",
    "缴款": "payment",
    "计入助保金": "credited_to_guarantee",
    "续贷应缴": "renewal_due",
    "多收": "overcharged",
    "退还金额": "refunded",
    # Pool and funds.
    "划出金额": "transferred_out",
    "资金减少": "fund_decrease",
    "代偿支出": "compensation_expense",
    "处置金额": "disposed",
    "提取金额": "withdrawn",
    "支出金额": "paid_out",
    "注入金额": "injected",
    "未归属余额": "unallocated_balance",
    "孳息总额": "interest_total",
    "计入两项资金": "credited_to_funds",
    "助保金应分": "guarantee_interest_due",
    "助保金实记": "guarantee_interest_booked",
    "风险补偿金应分": "risk_interest_due",
    "风险补偿金实记": "risk_interest_booked",
    "断言（银行余额）": "asserted_balance",
    "账面余额": "booked_balance",
    # Risk fund adequacy.
    "上限": "cap",
    "累计注入": "injected_total",
    "应不低于": "minimum",
    "风险补偿金余额": "risk_balance",
    "贷款余额上限": "outstanding_cap",
    "贷款余额": "outstanding",
    "应注入": "injection_due",
    "实际注入": "injected_actual",
    "应补足至": "topup_target",
    "年末余额": "year_end_balance",
    # Loans.
    "上一年度营业收入": "revenue_last_year",
    "门槛": "threshold",
    "额度上限": "limit_cap",
    "贷款金额": "loan_amount",
    "企业合计额度": "enterprise_total_limit",
    "本笔额度": "loan_limit",
    "登记金额": "registered_amount",
    "年利率": "rate_percent",
    "基准利率": "benchmark_rate_percent",
    "倍数": "multiple",
    "利率上限": "rate_cap_percent",
    "期限上限（月）": "term_cap_months",
    "审核期限（月）": "term_months",
    "超出期满日天数": "days_past_term",
    "停止线（逾期本金）": "overdue_stop_line",
    "逾期本金": "overdue_principal",
    # Compensation and recovery.
    "本金": "principal",
    "利息": "interest",
    "复利": "compound_interest",
    "罚息": "penalty_interest",
    "申请本金": "claimed_principal",
    "应代偿额": "claim_due",
    "助保金应付": "guarantee_due",
    "实付": "paid_out_actual",
    "助保金余额": "guarantee_balance",
    "风险补偿金支付": "risk_paid",
    "本次支付": "this_payment",
    "本次助保金支付": "guarantee_paid_now",
    "此前已付": "paid_before",
    "风险补偿金应付": "risk_due",
    "银行应承担": "bank_due",
    "未能分担": "uncovered",
    "不足部分": "shortfall",
    "追索费用": "recovery_costs",
    "违约金": "penalty",
    "追回": "recovered_gross",
    "扣除": "deducted",
    "追偿净额": "recovered_net",
    "应补回": "to_restore",
    "累计补回": "restored_total",
    "已到账": "received",
    "已记录": "recorded",
    # A table of parties (comp.shares) and the payout caps (comp.rate_cap, comp.fee_cap).
    "累计实付": "paid_total",
    "担保机构应承担": "guarantor_due",
    "合作银行应承担": "bank_share_due",
    "保险公司应承担": "insurer_due",
    "政府应承担": "government_due",
    "尚可支付": "cap_room",
    "逾期早于本笔天数": "earlier_overdue_by_days",
    "逾期天数": "days_overdue",
    # Pledged deposits and other lawful outflows (issue #10, shapes 2 and 6).
    "应质押": "deposit_due",
    "已质押": "deposit_pledged",
    "存单余额": "deposit_balance",
    "解押金额": "deposit_released",
    "代偿金额": "deposit_used",
    "累计代偿": "deposit_used_total",
    "逾期本息": "overdue_due",
    "支出": "outflow_expense",
    "奖补金额": "subsidy",
    "应奖补": "subsidy_allowed",
    "累计奖补": "subsidy_total",
    "年度上限": "annual_cap",
    "年度累计": "year_total",
    # Working-day deadlines.
    "期限工作日数": "deadline_workdays",
    "期限天数": "deadline_days",
    "晚于期限天数": "days_late",
    "晚于期限工作日数": "workdays_late",
}


def figure_key(label: str) -> str:
    """The machine key of a figure label (the label itself where the table lacks it, so no
    figure is ever lost from the JSON; the test keeps the table complete)."""
    return FIGURE_KEYS.get(label, label)


@dataclass(frozen=True)
class Finding:
    """One breach (error) or concern (warning) found in the ledger."""

    rule: str
    severity: str
    program: str | None
    citation: str
    message: str
    filename: str | None
    lineno: int | None
    date: datetime.date | None = None
    loan: str | None = None
    figures: tuple[tuple[str, Decimal], ...] = ()
    #: The directive the finding is about (None for a finding about the whole ledger):
    #: Beancount prints it under the error and Fava's error page links to it. Not part of
    #: a finding's identity, nor of its JSON form.
    entry: Any = field(default=None, compare=False, repr=False)
    #: The machine keys of :attr:`figures` (from their generic labels, where a program names
    #: its funds in its own words: zhubaodai.core.names); empty: each label's own key.
    figure_keys: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @property
    def keys(self) -> tuple[str, ...]:
        """The machine key of each figure, in order."""
        if len(self.figure_keys) == len(self.figures):
            return self.figure_keys
        return tuple(figure_key(name) for name, _ in self.figures)

    @property
    def location(self) -> str:
        if self.filename is None:
            return "<未知位置>"
        return f"{self.filename}:{self.lineno}"

    @property
    def text(self) -> str:
        """The one-line form the plugin and the CLI print (after the location)."""
        return f"[{self.rule}] {self.citation}：{self.message}"

    def __str__(self) -> str:
        return f"{self.location}: {SEVERITY_LABELS[self.severity]} {self.text}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "program": self.program,
            "citation": self.citation,
            "message": self.message,
            "filename": self.filename,
            "lineno": self.lineno,
            "date": self.date.isoformat() if self.date else None,
            "loan": self.loan,
            "figures": {key: str(value) for key, (_, value) in zip(self.keys, self.figures)},
            "figure_labels": {key: name for key, (name, _) in zip(self.keys, self.figures)},
        }


#: The metadata key of an accountant's explanation on an entry (docs/ledger-format.md §6.1).
EXPLANATION_KEY = "note"


def explanation(finding: Finding) -> str | None:
    """The accountant's explanation recorded on the entry the finding concerns
    (``note: "..."``), None where there is none. Every face that lists findings (the Fava
    pages, their CSV download, the XLSX report) shows it beside the finding from here."""
    meta = getattr(finding.entry, "meta", None) or {}
    value = meta.get(EXPLANATION_KEY)
    return value.strip() or None if isinstance(value, str) else None


def figures_text(figures: Mapping[str, Decimal]) -> str:
    """'应缴 75,000.00 元，实缴 74,999.99 元，差额 0.01 元'."""
    return "，".join(f"{name} {yuan(value)} 元" for name, value in figures.items())
