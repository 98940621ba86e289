"""Fava pages for finance-bureau reviewers of a 助保贷 fund pool (Chinese UI, read-only).

Register the extension in the ledger's top file, beside the rule engine's plugin::

    plugin "zhubaodai.plugin" "{'rules': '../rules.yaml'}"
    2021-01-01 custom "fava-option" "language" "zh"
    2021-01-01 custom "fava-option" "locale" "zh_CN"
    2021-01-01 custom "fava-option" "default-page" "extension/Zbd1Pool/"
    2021-01-01 custom "fava-extension" "zhubaodai.fava"

and serve the ledger with ``fava --read-only``. Fava's sidebar then lists the pages:
资金池概况, 贷款台账, 代偿台账, 追偿台账, 孳息分配, 合规检查 and 期限提醒. Each page shows
what the rule engine (:func:`zhubaodai.core.engine.analyse`, run once per ledger load on Fava's
entries with the rules.yaml the plugin line names) computed, for the period of Fava's time
filter and the programs of its account filter. docs/reviewing.md is the reviewers' guide.

Fava lists extension reports in the alphabetical order of their class names, hence the
numbered names (they are also the pages' URLs: ``/<ledger>/extension/Zbd1Pool/``). The
pages offer GET endpoints only (CSV downloads, free of side effects): nothing here can
change the ledger, in read-only mode or not.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from typing import Any

from flask import request

from fava.ext import extension_endpoint

from zhubaodai.core.findings import explanation
from zhubaodai.fava import deadlines as _deadlines
from zhubaodai.fava import page as _page
from zhubaodai.fava import views as _views
from zhubaodai.fava.analysis import LoadedAnalysis
from zhubaodai.fava.analysis import SetupError


def _losses(page: _page.ReviewPage) -> _views.LossView | None:
    """The loss left after recovery and each party's part of it (comp.shares ``residual``:
    the engine's records.losses) in the page's scope; None where no program shown has a
    residual table (the section is left out). 资金池概况 and 代偿台账 both show it."""
    loaded = page.loaded()
    period, programs, _ = page.scope(loaded)
    return _views.loss_view(loaded.analysis, period, programs)


class Zbd1Pool(_page.ReviewPage):
    """资金池概况: each fund's balance, sources and uses over the period; adequacy."""

    report_title = "资金池概况"

    def build(self, loaded: LoadedAnalysis, period: _views.Period, programs: Sequence[str]) -> Any:
        return _views.pool_overview(loaded.analysis, period, programs, loaded.loans())

    def side_ledgers(self) -> tuple[list[Any], list[Any], list[Any]]:
        """The pledged deposits (as at the period's end) and the allowed outflows (in the
        period, with each year's total) of the selected programs: the engine's records."""
        loaded = self.loaded()
        period, programs, _ = self.scope(loaded)
        outflows = _views.outflow_rows(loaded.analysis, period, programs)
        return _views.deposit_rows(loaded.analysis, period, programs), outflows, _views.outflow_years(outflows)

    losses = _losses


class Zbd2Loans(_page.ReviewPage):
    """贷款台账: every loan alive in the period, with its fee and its deadlines."""

    report_title = "贷款台账"
    page_args = ("program", "status", "page")
    paginated = True

    def status(self) -> str | None:
        """The ?status= chosen (a key of LOAN_STATUS), if any."""
        status = request.args.get("status")
        return status if status in _views.LOAN_STATUS else None

    def build(self, loaded: LoadedAnalysis, period: _views.Period, programs: Sequence[str]) -> Any:
        # The loans and their totals from the load's index; rows only for the page shown
        # (paginate): the register has thousands of loans.
        return _views.loan_selection(loaded.analysis, loaded.loans(), period, programs, self.status())

    def build_key(self) -> tuple[Any, ...]:
        return (self.status(),)

    def paginate(self, data: Any, number: int) -> tuple[Any, _page.Pager]:
        shown, pager = _page.paginate(data.loans, number)
        loaded = self.loaded()
        period, _, _ = self.scope(loaded)
        return (data.totals, _views.shown_loan_rows(loaded.analysis, period, [f.loan for f in shown])), pager

    def statuses(self) -> list[tuple[str, str]]:
        return list(_views.LOAN_STATUS.items())

    @extension_endpoint("loans.csv")
    def loans_csv(self) -> Any:
        """The loan register of the page's scope as CSV."""
        try:
            context = self.page_all()
        except SetupError as exc:
            return _page.setup_error_response(exc)
        names = self.loaded().analysis.rulebook.names(sorted({r.program for r in context}))
        return _page.csv_response(
            "loans.csv",
            ["项目", "贷款编号", "企业编号", "企业名称", "审核同意日", "合同日", "放款日", "到期日",
             "合同金额（含增额）", "期末余额",
             *(names.say(column) for column in ("助保金应缴", "助保金实缴")), "状态", "检查结果数"],
            [
                [r.program, r.id, r.enterprise, r.enterprise_name, r.approved, r.contracted or "",
                 r.disbursed or "", r.maturity or "", _page.decimal_number(r.amount),
                 _page.decimal_number(r.outstanding), _page.decimal_number(r.fee_due),
                 _page.decimal_number(r.fee_paid), r.status_label, r.findings]
                for r in context
            ],
        )

    def page_all(self) -> list[_views.LoanRow]:
        """Every row of the page's scope and status (the download: no deadlines)."""
        loaded = self.loaded()
        period, programs, _ = self.scope(loaded)
        selection = self.data(loaded, period, programs)
        return _views.shown_loan_rows(loaded.analysis, period, [f.loan for f in selection.loans], with_deadlines=False)


class Zbd3Compensations(_page.ReviewPage):
    """代偿台账: each claim and how it was borne (guarantee fund, risk fund, bank)."""

    report_title = "代偿台账"
    page_args = ("program", "page")
    paginated = True

    def build(self, loaded: LoadedAnalysis, period: _views.Period, programs: Sequence[str]) -> Any:
        return _views.compensation_rows(loaded.analysis, period, programs), _views.npl_programs(loaded.analysis, programs)

    def paginate(self, data: Any, number: int) -> tuple[Any, _page.Pager]:
        rows, npl = data
        shown, pager = _page.paginate(rows, number)
        names = self.loaded().analysis.rulebook.names(sorted({row.program for row in rows}))
        return (_views.compensation_totals(rows, npl, names), shown), pager

    losses = _losses


class Zbd4Recoveries(_page.ReviewPage):
    """追偿台账: each recovery and its distribution in the program's order."""

    report_title = "追偿台账"
    page_args = ("program", "page")
    paginated = True
    row_limit = 200

    def build(self, loaded: LoadedAnalysis, period: _views.Period, programs: Sequence[str]) -> Any:
        return (
            _views.recovery_rows(loaded.analysis, period, programs),
            _views.recovery_arrivals(loaded.analysis, programs),
        )

    def paginate(self, data: Any, number: int) -> tuple[Any, _page.Pager]:
        rows, arrivals = data
        shown, pager = _page.paginate(rows, number)
        return (shown, arrivals), pager


class Zbd5Interest(_page.ReviewPage):
    """孳息分配: each interest credit with both funds' 积数 and shares."""

    report_title = "孳息分配"

    def build(self, loaded: LoadedAnalysis, period: _views.Period, programs: Sequence[str]) -> Any:
        rows = _views.interest_rows(loaded.analysis, period, programs)
        return _views.interest_totals(rows), rows


class Zbd6Compliance(_page.ReviewPage):
    """合规检查: every finding (errors and warnings), filtered by program, rule, severity."""

    report_title = "合规检查"
    page_args = ("program", "rule", "severity", "loan", "page")
    paginated = True

    def chosen(self) -> _views.FindingFilter:
        args = request.args
        severity = args.get("severity")
        return _views.FindingFilter(
            program=args.get("program") or None,
            rule=args.get("rule") or None,
            severity=severity if severity in _views.SEVERITY_ORDER else None,
            loan=args.get("loan") or None,
        )

    def build(self, loaded: LoadedAnalysis, period: _views.Period, programs: Sequence[str]) -> Any:
        return _views.findings_view(loaded.analysis, period, programs, self.chosen())

    def build_key(self) -> tuple[Any, ...]:
        return (self.chosen(),)

    def paginate(self, data: Any, number: int) -> tuple[Any, _page.Pager]:
        shown, pager = _page.paginate(data.findings, number)
        return (data, shown), pager

    def audit_trail(self) -> tuple[list[Any], list[Any]]:
        """Closes and reopenings, and the authorising documents, of the selected programs
        (all dates: a close covers everything before it)."""
        loaded = self.loaded()
        _, programs, _ = self.scope(loaded)
        chosen = set(programs)
        records = loaded.analysis.records
        periods = [r for r in records.periods if r.program in chosen]
        documents = [r for r in records.evidence if r.program in chosen]
        return periods, documents

    def evidence_link(self, record: Any) -> str | None:
        """The document of an evidence record, served by :meth:`evidence_file`."""
        from urllib.parse import urlencode

        if record.path is None:
            return None
        return self.endpoint_link("evidence").split("?")[0] + "?" + urlencode({"file": record.path})

    @extension_endpoint("evidence")
    def evidence_file(self) -> Any:
        """A scanned letter the ledger declares as evidence (and no other file)."""
        from flask import abort
        from flask import send_file

        try:
            loaded = self.loaded()
        except SetupError as exc:
            return _page.setup_error_response(exc)
        wanted = request.args.get("file", "")
        declared = {r.path for r in loaded.analysis.records.evidence if r.path}
        if wanted not in declared or not os.path.isfile(wanted):
            return abort(404)
        return send_file(wanted, as_attachment=False, download_name=os.path.basename(wanted))

    @extension_endpoint("findings.csv")
    def findings_csv(self) -> Any:
        """The findings of the page's scope and filters as CSV."""
        try:
            loaded = self.loaded()
        except SetupError as exc:
            return _page.setup_error_response(exc)
        period, programs, _ = self.scope(loaded)
        view = self.data(loaded, period, programs)
        return _page.csv_response(
            "findings.csv",
            ["严重程度", "规则", "规则名称", "项目", "依据", "日期", "贷款", "说明", "文件", "行号", "会计说明"],
            [
                [_views.severity_label(f.severity), f.rule, self.rule_title(f.rule, f.program), f.program or "",
                 f.citation, f.date or "", f.loan or "", _views.finding_text(f), self.relative(f.filename),
                 f.lineno or "", explanation(f) or ""]
                for f in view.findings
            ],
        )


class Zbd7Deadlines(_page.ReviewPage):
    """期限提醒: deadlines coming due, in working days, from a reference day (default today)."""

    report_title = "期限提醒"
    page_args = ("program", "date", "days")
    #: Rows shown per table (a ledger far behind its reference day may owe many).
    row_limit = 200

    def today(self) -> datetime.date | None:
        """The ?date= reference day, if given."""
        value = request.args.get("date")
        if value:
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                pass
        return None

    def reference_day(self, loaded: LoadedAnalysis) -> datetime.date:
        """?date=, else today, but no later than the books' last entry: the books say
        nothing of what happened after it (a ledger not yet brought up to date would
        otherwise show every open deadline as missed)."""
        chosen = self.today()
        if chosen is not None:
            return chosen
        today = datetime.date.today()
        return min(today, loaded.last_date) if loaded.last_date else today

    def horizon(self) -> int:
        """Working days ahead (default 20, about a month)."""
        try:
            return min(max(int(request.args.get("days", "20")), 1), 250)
        except ValueError:
            return 20

    def build(self, loaded: LoadedAnalysis, period: _views.Period, programs: Sequence[str]) -> Any:
        return _deadlines.reminders(
            loaded.analysis, programs, self.reference_day(loaded), self.horizon(), self.row_limit, loaded.loans()
        )

    def build_key(self) -> tuple[Any, ...]:
        return (self.today(), self.horizon())


#: The review pages in sidebar order: extension class name -> its title in the sidebar.
PAGES: dict[str, str] = {
    page.__name__: page.report_title
    for page in (Zbd1Pool, Zbd2Loans, Zbd3Compensations, Zbd4Recoveries, Zbd5Interest, Zbd6Compliance, Zbd7Deadlines)
}


__all__ = [
    "PAGES",
    "SetupError",
    "Zbd1Pool",
    "Zbd2Loans",
    "Zbd3Compensations",
    "Zbd4Recoveries",
    "Zbd5Interest",
    "Zbd6Compliance",
    "Zbd7Deadlines",
]
