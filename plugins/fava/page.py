"""What every review page shares: the engine's analysis, Fava's filters, links, formats.

A page is a Fava extension report (:class:`ReviewPage` subclass in
:mod:`zhubaodai.fava`) whose template calls ``extension.page()`` once and lays out the
:class:`PageContext` it returns. Nothing here writes: the extension offers GET endpoints
only, so ``fava --read-only`` (which refuses every other method) leaves reviewers no way
to change the ledger through these pages.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any
from typing import TypeVar

import jinja2
from flask import current_app
from flask import has_app_context
from flask import request

from fava.context import g
from fava.ext import FavaExtensionBase

from zhubaodai.core.findings import Finding
from zhubaodai.core.findings import explanation
from zhubaodai.core.money import half_up
from zhubaodai.core.money import percent
from zhubaodai.core.money import yuan
from zhubaodai.fava.analysis import LoadedAnalysis
from zhubaodai.fava.analysis import SetupError
from zhubaodai.fava.analysis import after_load
from zhubaodai.fava.analysis import for_ledger
from zhubaodai.fava.views import Period
from zhubaodai.fava.views import finding_text
from zhubaodai.fava.views import make_period
from zhubaodai.fava.views import rule_title
from zhubaodai.fava.views import select_programs
from zhubaodai.fava.views import severity_label
from zhubaodai.outputs import inert_row

T = TypeVar("T")

#: Rows per page in the long tables (loans, findings).
PAGE_SIZE = 100
#: Views kept per ledger load (distinct period/program/filter combinations).
MEMO_SIZE = 64


@dataclass(frozen=True)
class Pager:
    page: int
    pages: int
    total: int
    first: int  # 0-based index of the first row shown

    @property
    def last(self) -> int:
        return min(self.first + PAGE_SIZE, self.total)


def paginate(rows: Sequence[T], page: int) -> tuple[Sequence[T], Pager]:
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    first = (page - 1) * PAGE_SIZE
    return rows[first : first + PAGE_SIZE], Pager(page, pages, len(rows), first)


@dataclass(frozen=True)
class PageContext:
    """What a page template gets: the scope it shows and the page's own data."""

    loaded: LoadedAnalysis | None
    error: str | None
    period: Period | None
    programs: tuple[str, ...]
    all_programs: tuple[tuple[str, str], ...]  # (code, name) in rules.yaml order
    program: str | None  # the ?program= choice, if any
    data: Any = None
    pager: Pager | None = None


_memo_lock = threading.Lock()


def _memo(loaded: LoadedAnalysis, key: tuple[Any, ...], build: Callable[[], T]) -> T:
    """One view per (load, key): a page's second request renders without recomputing."""
    store = loaded.views
    with _memo_lock:
        if key in store:
            return store[key]
    value = build()
    with _memo_lock:
        if len(store) >= MEMO_SIZE:
            store.pop(next(iter(store)))
        store[key] = value
    return value


def decimal_number(value: Decimal) -> str:
    """'1234.56' for CSV files (no separators; spreadsheets read it as a number)."""
    return f"{value:.2f}"


def ratio(value: Decimal | None) -> str:
    """A share as a percentage, half-up to two decimals: 0.12345 -> '12.35%'."""
    if value is None:
        return "—"
    return f"{half_up(value * 100):,}%"


def times(value: Decimal | None) -> str:
    """A multiple, half-up to two decimals: 10.5 -> '10.50 倍'."""
    if value is None:
        return "—"
    return f"{half_up(value):,} 倍"


class ReviewPage(FavaExtensionBase):
    """A 助保贷 review page (a Fava extension report). Subclasses set ``report_title``
    and implement :meth:`build` (the page's data for a period and programs)."""

    #: Keys of the page's own query parameters (kept in its filter links).
    page_args: tuple[str, ...] = ("program",)
    #: Whether the page's rows are paginated.
    paginated: bool = False
    #: Whether the page's template has been compiled (:meth:`after_load_file`).
    _compiled: bool = False

    # -- Fava hooks -------------------------------------------------------------------

    def after_load_file(self) -> None:
        """Fava has (re)loaded the ledger: the load's analysis is indexed and the garbage
        collector settled once, while Fava loads (:func:`zhubaodai.fava.analysis.after_load`),
        so that no page pays for either."""
        after_load(self.ledger, self.config)
        if has_app_context() and not self._compiled:
            # The page's template, compiled once per process (Jinja keeps it): at the first
            # load rather than in the first request. Fava's first load may come before any
            # application context; that page then compiles on its first request.
            self.jinja_env.get_template(f"{self.name}.html")
            self._compiled = True

    @cached_property
    def jinja_env(self) -> jinja2.Environment:  # type: ignore[override]
        """Fava's template environment plus the project's number formats."""
        loader = jinja2.ChoiceLoader(
            [jinja2.FileSystemLoader(self.extension_dir / "templates"), current_app.jinja_loader]
        )
        env = current_app.jinja_env.overlay(loader=loader)
        env.filters["yuan"] = yuan
        env.filters["ratio"] = ratio
        env.filters["times"] = times
        env.filters["percent"] = percent
        env.filters["severity_label"] = severity_label
        env.filters["rule_title"] = self.rule_title
        env.filters["finding_text"] = finding_text
        env.filters["explanation"] = explanation
        env.filters["say"] = self.say
        env.globals["zip"] = zip
        return env

    def rule_title(self, rule_id: str, codes: str | Sequence[str] | None = None) -> str:
        """The template filter ``rule_title``: a rule's title in the fund names of the
        programs ``codes`` (a finding's program; None: the generic names)."""
        return rule_title(rule_id, self.loaded().analysis.rulebook.names(codes or ()))

    def say(self, text: str, codes: str | Sequence[str]) -> str:
        """The template filter ``say``: a heading or column written with the generic fund
        names, in the words of the programs ``codes`` shown (``Rulebook.names``)."""
        return self.loaded().analysis.rulebook.names(codes).say(text)

    # -- what a page shows ------------------------------------------------------------

    def build(self, loaded: LoadedAnalysis, period: Period, programs: Sequence[str]) -> Any:
        raise NotImplementedError

    def build_key(self) -> tuple[Any, ...]:
        """Request parameters besides period and programs that change :meth:`build`."""
        return ()

    def loaded(self) -> LoadedAnalysis:
        return for_ledger(self.ledger, self.config)

    def scope(self, loaded: LoadedAnalysis) -> tuple[Period, list[str], str | None]:
        """Fava's time and account filters, and the page's ?program= choice."""
        filtered = g.filtered
        date_range = filtered.date_range
        period = make_period(
            date_range.begin if date_range else None,
            date_range.end if date_range else None,
            loaded.last_date,
        )
        wanted = request.args.get("program") or None
        if wanted not in loaded.analysis.rulebook.programs:
            wanted = None
        programs = select_programs(loaded.analysis, request.args.get("account"), wanted, loaded.used_programs())
        return period, programs, wanted

    def data(self, loaded: LoadedAnalysis, period: Period, programs: Sequence[str]) -> Any:
        """The page's data for the scope: built once per load, scope and :meth:`build_key`."""
        key = (self.name, period, tuple(programs), self.build_key())
        return _memo(loaded, key, lambda: self.build(loaded, period, programs))

    def page(self) -> PageContext:
        """Everything the template shows; a ledger the engine cannot read gives a message."""
        try:
            loaded = self.loaded()
        except SetupError as exc:
            return PageContext(None, str(exc), None, (), (), None)
        period, programs, wanted = self.scope(loaded)
        data = self.data(loaded, period, programs)
        pager = None
        if self.paginated:
            try:
                number = int(request.args.get("page", "1"))
            except ValueError:
                number = 1
            data, pager = self.paginate(data, number)
        all_programs = tuple((c, p.name) for c, p in loaded.analysis.rulebook.programs.items())
        return PageContext(loaded, None, period, tuple(programs), all_programs, wanted, data, pager)

    def paginate(self, data: Any, number: int) -> tuple[Any, Pager]:
        return paginate(data, number)

    # -- links ------------------------------------------------------------------------

    def link(self, to: str | None = None, **changes: str | None) -> str:
        """This page (or another review page) with Fava's filters and this page's own
        query parameters, some changed (None removes one)."""
        from fava.application import url_for

        args: dict[str, str] = {}
        if to is None:
            for key in self.page_args:
                value = request.args.get(key)
                if value:
                    args[key] = value
            args.pop("page", None)
        for key, value in changes.items():
            if value is None:
                args.pop(key, None)
            else:
                args[key] = value
        return url_for("extension_report", extension_name=to or self.name, **args)

    def endpoint_link(self, endpoint: str) -> str:
        """One of this page's GET endpoints, with the page's filters (Flask's url_for
        cannot name the route's ``endpoint`` argument, so it is put in the path here)."""
        from fava.application import url_for

        args = {k: v for k in self.page_args if k != "page" and (v := request.args.get(k))}
        page_url = url_for("extension_report", extension_name=self.name, **args)
        path, _, query = page_url.partition("?")
        return f"{path}{endpoint}" + (f"?{query}" if query else "")

    def entry_link(self, loaded: LoadedAnalysis, entry: Any) -> str | None:
        """The entry's context in Fava (an overlay over the current page)."""
        if entry is None:
            return None
        return f"#context-{loaded.entry_hash(entry)}"

    def finding_link(self, loaded: LoadedAnalysis, finding: Finding) -> str | None:
        return self.entry_link(loaded, loaded.entry_at(finding.filename, finding.lineno))

    def source_link(self, filename: str | None, lineno: int | None) -> str | None:
        """The file position in Fava's editor (read-only under ``fava --read-only``)."""
        from fava.application import url_for

        if not filename or not lineno:
            return None
        return url_for("report", report_name="editor", file_path=filename, line=str(lineno))

    def relative(self, filename: str | None) -> str:
        """A file name relative to the ledger's folder, as reviewers read it."""
        import os

        if not filename:
            return ""
        base = os.path.dirname(self.ledger.beancount_file_path)
        try:
            return os.path.relpath(filename, base)
        except ValueError:
            return filename


def csv_response(filename: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Any:
    """A CSV download (UTF-8 with BOM, so spreadsheet programs read the Chinese); text
    cells that a spreadsheet would read as a formula are quoted (:mod:`zhubaodai.outputs`)."""
    from flask import Response

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(inert_row(row) for row in rows)  # no live formula from the ledger's text
    data = "\ufeff" + buffer.getvalue()
    return Response(
        data,
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


def setup_error_response(exc: SetupError) -> Any:
    """What a download answers when the engine cannot run: the reason, in Chinese."""
    from flask import Response

    return Response(f"无法导出：{exc}\n", status=500, mimetype="text/plain")
