"""贷款台账 and 期限提醒 build rows only for what they show (issue 9: the first review page
after a load within 1.5× Fava's balance sheet), and still show what a row for every loan
would: the same loans, order, totals and reminders.

The counters are behavioural, not timings: one page request on a ledger with more loans
than a page holds builds one row per row shown, however many loans the register has."""

from __future__ import annotations

import datetime
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))

from fava_support import EngineRun  # noqa: E402
from fava_support import engine_run  # noqa: E402
from fava_support import figures  # noqa: E402
from fava_support import ledgers  # noqa: E402
from test_fava_pages import Client  # noqa: E402

from zhubaodai.core.money import ZERO  # noqa: E402
from zhubaodai.core.money import yuan  # noqa: E402
from zhubaodai.core.register import Loan  # noqa: E402
from zhubaodai.fava import Zbd7Deadlines  # noqa: E402
from zhubaodai.fava import deadlines  # noqa: E402
from zhubaodai.fava import page as fava_page  # noqa: E402
from zhubaodai.fava import views  # noqa: E402
from zhubaodai.fava.loanfacts import contracted_amount  # noqa: E402
from zhubaodai.fava.loanfacts import loan_index  # noqa: E402
from zhubaodai.fava.loanfacts import maturity_on  # noqa: E402
from zhubaodai.fava.loanfacts import register_status  # noqa: E402
from zhubaodai.scripts.ledgergen import generate  # noqa: E402

ONE_DAY = datetime.timedelta(days=1)
LOANS = 300  # three pages of 贷款台账


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated ledger of 300 loans (more than a page of 贷款台账 holds) with the pages."""
    path = tmp_path_factory.mktemp("rows") / "main.beancount"
    generate(path, loans=LOANS, seed=1)
    with path.open("a", encoding="utf-8") as out:
        out.write('\n2000-01-01 custom "fava-extension" "zhubaodai.fava"\n')
    return path


@pytest.fixture(scope="module")
def synthetic_setup(synthetic: Path) -> tuple[Client, EngineRun]:
    return Client(synthetic), engine_run(synthetic)


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Counts the rows built: 贷款台账's :func:`views.loan_row` and 期限提醒's Reminder."""
    counts = {"loan_row": 0, "reminder": 0}
    loan_row, reminder = views.loan_row, deadlines.Reminder

    def counting_row(*args: Any, **kwargs: Any) -> views.LoanRow:
        counts["loan_row"] += 1
        return loan_row(*args, **kwargs)

    def counting_reminder(*args: Any, **kwargs: Any) -> deadlines.Reminder:
        counts["reminder"] += 1
        return reminder(*args, **kwargs)

    monkeypatch.setattr(views, "loan_row", counting_row)
    monkeypatch.setattr(deadlines, "Reminder", counting_reminder)
    yield counts


def _rows_shown(html: str) -> int:
    return html.count("<tr data-loan=")


def test_the_loan_register_builds_a_row_per_row_shown(
    synthetic_setup: tuple[Client, EngineRun], built: dict[str, int]
) -> None:
    client, run = synthetic_setup
    assert len(run.analysis.register.loans) == LOANS > 2 * fava_page.PAGE_SIZE
    for number in ("1", "3"):
        built["loan_row"] = 0
        html = client.page("Zbd2Loans", page=number)
        shown = _rows_shown(html)
        assert shown == (fava_page.PAGE_SIZE if number == "1" else LOANS - 2 * fava_page.PAGE_SIZE)
        assert built["loan_row"] == shown, "贷款台账 built rows it does not show"
        assert f"合计（{LOANS} 笔，含其他页）" in html
    # A status filter counts every loan's status, and still builds only the rows shown.
    statuses = {views.LOAN_STATUS[r.status] for r in views.loan_rows(run.analysis, _whole(run), ["CQGX", "WLHT"])}
    assert len(statuses) > 1
    for status, label in views.LOAN_STATUS.items():
        built["loan_row"] = 0
        html = client.page("Zbd2Loans", status=status)
        assert built["loan_row"] == _rows_shown(html) <= fava_page.PAGE_SIZE, status
        assert (_rows_shown(html) > 0) == (label in statuses)


def test_the_loan_register_totals_every_loan_it_does_not_build(synthetic_setup: tuple[Client, EngineRun]) -> None:
    """The totals row over 300 loans, on a page of 100 rows: the engine's fee figures and
    each program's principal outstanding (Analysis.outstanding, the register's daily series)."""
    client, run = synthetic_setup
    shown = figures(client.page("Zbd2Loans", page="2")).figures
    analysis, end = run.analysis, run.last_date
    fees = analysis.records.fees.values()
    assert shown["total.fee_due"] == yuan(sum((f.due for f in fees), ZERO))
    assert shown["total.fee_paid"] == yuan(sum((f.paid for f in fees), ZERO))
    assert shown["total.outstanding"] == yuan(sum((analysis.outstanding(c, end) for c in analysis.programs), ZERO))
    loans = analysis.register.loans.values()
    assert shown["total.amount"] == yuan(sum((contracted_amount(loan, end) for loan in loans), ZERO))


def test_the_deadline_page_builds_a_reminder_per_row_shown(
    synthetic_setup: tuple[Client, EngineRun], built: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, run = synthetic_setup
    monkeypatch.setattr(Zbd7Deadlines, "row_limit", 5)
    longer = 0
    for day in ("2023-06-30", "2024-06-28", "2025-12-31"):
        built["reminder"] = 0
        html = client.page("Zbd7Deadlines", date=day, days="60")
        assert built["reminder"] == _rows_shown(html), day
        view = deadlines.reminders(run.analysis, ["CQGX", "WLHT"], datetime.date.fromisoformat(day), 60)
        for name in ("upcoming", "overdue", "pending"):
            section = getattr(view, name)
            assert section.count == len(section.shown)  # no limit: every reminder
            if section.count > 5:
                longer += 1
                assert f"共 {section.count} 项，只列出前 5 项。" in html
    assert longer, "the ledger should owe more than a table shows on some day"


def test_the_pool_overview_counts_the_open_loans_from_the_index(synthetic_setup: tuple[Client, EngineRun]) -> None:
    """资金池概况's 在贷余额 line: each program's loans with principal outstanding at the
    period's end, as the register says (Loan.outstanding), with and without a time filter."""
    client, run = synthetic_setup
    for time, end in ((None, run.last_date), ("2023", datetime.date(2023, 12, 31))):
        html = client.page("Zbd1Pool", **({"time": time} if time else {}))
        for code in run.analysis.used_programs():
            count = sum(
                1 for loan in run.analysis.register.loans.values()
                if loan.program == code and loan.outstanding(end) > 0
            )
            assert count
            part = html[html.index(f'data-figure="{code}.outstanding"') - 200:]
            assert f"在贷余额（登记簿，{count} 笔）" in part[:300], (code, time)


def _whole(run: EngineRun) -> views.Period:
    return views.Period(None, run.last_date, False)


def _periods(run: EngineRun) -> list[views.Period]:
    first = run.entries[0].date
    found = [_whole(run)]
    for year in range(first.year, run.last_date.year + 1):
        found.append(views.Period(datetime.date(year, 1, 1), datetime.date(year, 12, 31), True))
    found.append(views.Period(datetime.date(run.last_date.year, 6, 1), datetime.date(run.last_date.year, 6, 30), True))
    return found


def _all_ledgers() -> list[Path]:
    return ledgers()


@pytest.fixture(scope="module", params=["synthetic", *(str(p) for p in _all_ledgers())])
def any_run(request: pytest.FixtureRequest, synthetic: Path) -> EngineRun:
    return engine_run(synthetic if request.param == "synthetic" else Path(request.param))


def test_pages_of_the_selection_are_the_rows_of_every_loan(any_run: EngineRun) -> None:
    """贷款台账 from the load's index, page by page, is the register of a row per loan
    (views.loan_rows, which the report also uses): same loans, order, figures, deadlines
    and totals, for every period, program and status."""
    analysis = any_run.analysis
    index = loan_index(analysis)
    codes = analysis.used_programs()
    for period in _periods(any_run):
        every = views.loan_rows(analysis, period, codes)
        for chosen in ([*codes], codes[:1]):
            for status in (None, *views.LOAN_STATUS):
                expected = [r for r in every if r.program in chosen and (status is None or r.status == status)]
                selection = views.loan_selection(analysis, index, period, chosen, status)
                assert selection.totals == views.loan_totals(expected), (period, chosen, status)
                assert [f.id for f in selection.loans] == [r.id for r in expected]
                for first in range(0, len(expected), fava_page.PAGE_SIZE):
                    shown = selection.loans[first:first + fava_page.PAGE_SIZE]
                    rows = views.shown_loan_rows(analysis, period, [f.loan for f in shown])
                    assert rows == expected[first:first + fava_page.PAGE_SIZE]


def _days(loan: Loan) -> set[datetime.date]:
    days = {loan.approval.date - ONE_DAY}
    for event in loan.events:
        days.update((event.date - ONE_DAY, event.date, event.date + ONE_DAY))
    return days


def test_a_loans_facts_are_what_the_register_says_on_every_day(any_run: EngineRun) -> None:
    """The index keeps each loan's state from its last event on, and asks the register
    before: on each day around each event the answers are the register's own."""
    analysis = any_run.analysis
    index = loan_index(analysis)
    seen = 0
    for facts in index.of(analysis.rulebook.programs):
        loan = facts.loan
        for day in sorted(_days(loan)):
            assert facts.status_on(day) == register_status(loan, day)
            assert facts.amount_on(day) == contracted_amount(loan, day)
            assert facts.outstanding_on(day) == loan.outstanding(day)
            assert facts.settled_on(day) == loan.settled(day)
            assert facts.overdue_on(day) == (loan.last_before("overdue", day) is not None)
            assert facts.maturity_on(day) == maturity_on(loan, day)
            seen += 1
        account = analysis.records.fees.get(loan.id)
        assert (facts.fee_due, facts.fee_paid) == ((account.due, account.paid) if account else (ZERO, ZERO))
    assert seen and sum(len(v) for v in index.programs.values()) == len(analysis.register.loans)


def test_the_deadline_tables_shown_are_the_first_of_all(any_run: EngineRun) -> None:
    """A limited table is the first rows of the whole table, in its order, with its count."""
    analysis = any_run.analysis
    index = loan_index(analysis)
    codes = analysis.used_programs()
    first = any_run.entries[0].date
    days = [first + datetime.timedelta(days=n) for n in range(0, (any_run.last_date - first).days + 1, 91)]
    for day in [*days, any_run.last_date]:
        whole = deadlines.reminders(analysis, codes, day, 20, index=index)
        for limit in (1, 3):
            part = deadlines.reminders(analysis, codes, day, 20, limit, index)
            for name in ("upcoming", "overdue", "pending"):
                everything, shown = getattr(whole, name), getattr(part, name)
                assert shown.count == everything.count == len(everything.shown)
                assert shown.shown == everything.shown[:limit]
        for name in ("upcoming", "overdue"):
            dues = [r.due for r in getattr(whole, name).shown]
            assert dues == sorted(dues)
            assert all((r.due < day) == (name == "overdue") for r in getattr(whole, name).shown)
