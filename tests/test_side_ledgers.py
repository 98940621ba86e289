"""The deposit sub-ledger, the allowed outflows and the NPL date (issue #10's views), on the
second demo (ledger/shapes.beancount): 资金池概况's sections and 代偿台账's column through
Fava's test client, and the report's sheets in the XLSX, rendered by LibreOffice like the
other report tests. Every figure expected here is worked by hand from the demo's entries."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))

from fava_support import DEMO_LEDGER  # noqa: E402
from fava_support import SHAPES_LEDGER  # noqa: E402
from fava_support import figures  # noqa: E402
from test_fava_pages import Client  # noqa: E402
from test_report import pages  # noqa: E402
from test_report import table  # noqa: E402
from test_report import to_pdf  # noqa: E402

from zhubaodai.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def shapes() -> Client:
    return Client(SHAPES_LEDGER)


def test_the_pool_page_lists_each_loans_deposit(shapes: Client) -> None:
    html = shapes.page("Zbd1Pool")
    assert "质押存单明细（截至" in html
    shown = figures(html).figures
    # hkjb/2021–2022: 2% of 3,000,000 pledged then released when settled; HK-2021-003's
    # 40,000.00 paid its own overdue loan first (存单先行代偿).
    assert (shown["deposit.HK-2021-001.pledged"], shown["deposit.HK-2021-001.released"],
            shown["deposit.HK-2021-001.balance"]) == ("60,000.00", "60,000.00", "0.00")
    assert (shown["deposit.HK-2021-003.pledged"], shown["deposit.HK-2021-003.used"],
            shown["deposit.HK-2021-003.balance"]) == ("40,000.00", "40,000.00", "0.00")
    row = re.search(r'<tr data-loan="HK-2021-003">.*?</tr>', html, re.S).group(0)
    assert "2021-06-03" in row and "质押" in row and "2022-06-15" in row and "代偿" in row
    # At the end of 2021 (Fava's time filter) nothing was released or used yet: all held.
    year = figures(shapes.page("Zbd1Pool", time="2021")).figures
    assert (year["deposit.HK-2021-001.balance"], year["deposit.HK-2021-002.balance"],
            year["deposit.HK-2021-003.balance"], year["deposit.HK-2021-004.balance"]) == (
        "60,000.00", "100,000.00", "40,000.00", "30,000.00")
    assert year["deposit.HK-2021-001.released"] == "0.00"


def test_the_pool_page_lists_each_subsidy_with_its_caps(shapes: Client) -> None:
    html = shapes.page("Zbd1Pool")
    assert "允许的其他支出" in html and "担保费奖补" in html
    shown = figures(html).figures
    # 1% of each guaranteed amount (3,000,000 / 5,000,000 / 2,000,000 / 1,500,000), each paid
    # in full: nothing left per loan; the year's 115,000.00 leaves 4,885,000.00 of 5,000,000.00.
    assert (shown["outflow.2021-12-20.HK-2021-001.allowed"], shown["outflow.2021-12-20.HK-2021-001.loan_left"]) == (
        "30,000.00", "0.00")
    assert shown["outflow.2021-12-20.HK-2021-002.year_total"] == "80,000.00"
    assert shown["outflow.2021-12-20.HK-2021-002.year_left"] == "4,920,000.00"
    assert shown["outflow.2021-12-20.HK-2021-004.year_left"] == "4,885,000.00"
    assert (shown["outflow-year.HKJB.2021.total"], shown["outflow-year.HKJB.2021.left"]) == (
        "115,000.00", "4,885,000.00")


def test_the_compensation_register_shows_the_npl_date_for_npl_programs(shapes: Client) -> None:
    html = shapes.page("Zbd3Compensations")
    assert "<th data-sort=\"string\">不良分类日</th>" in html
    shown = figures(html).figures
    assert shown["SZ-2026-001.npl_date"] == "2026-09-30"  # szps/2026: classified 次级 then
    assert shown["GS-2024-002.npl_date"] == "—"  # 白银 claims on an overdue


def test_the_main_demo_has_no_such_sections_or_column() -> None:
    html = Client(DEMO_LEDGER).page("Zbd1Pool")
    assert "质押存单明细" not in html and "允许的其他支出" not in html
    assert "不良分类日" not in Client(DEMO_LEDGER).page("Zbd3Compensations")


@pytest.fixture(scope="module")
def shapes_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shapes")
    shutil.copytree(ROOT / "ledger", root / "ledger")
    shutil.copy(ROOT / "rules.yaml", root / "rules.yaml")
    shutil.copy(ROOT / "calendar.yaml", root / "calendar.yaml")
    return root / "ledger" / "shapes.beancount"


def _report(ledger: Path, period: str, out: Path, *extra: str) -> Path:
    result = CliRunner().invoke(main, ["report", str(ledger), "--period", period, "-o", str(out), *extra])
    assert result.exit_code == 0, result.output
    return out


def test_the_report_has_the_deposit_and_outflow_sheets(shapes_copy: Path, tmp_path: Path) -> None:
    book = load_workbook(_report(shapes_copy, "2021", tmp_path / "2021.xlsx", "--program", "HKJB"))
    assert "质押存单" in book.sheetnames and "允许的支出" in book.sheetnames
    header, rows, totals = table(book["质押存单"])
    assert header[:7] == ["项目代码", "贷款编号", "企业名称", "质押", "解押", "代偿", "期末余额"]
    by_loan = {r[1]: r for r in rows}
    assert float(by_loan["HK-2021-002"][6]) == 100000.00 and by_loan["HK-2021-002"][7] == "2021-04-16"
    assert float(totals[0][header.index("期末余额")]) == 230000.00  # 60,000 + 100,000 + 40,000 + 30,000
    header, rows, totals = table(book["允许的支出"])
    assert [r[3] for r in rows] == ["HK-2021-001", "HK-2021-002", "HK-2021-003", "HK-2021-004"]
    last = rows[-1]
    assert float(last[header.index("年度尚可")]) == 4885000.00 and float(last[header.index("该笔上限")]) == 15000.00
    assert float(totals[0][header.index("金额")]) == 115000.00


def test_the_reports_compensation_sheet_has_the_npl_date(shapes_copy: Path, tmp_path: Path) -> None:
    book = load_workbook(_report(shapes_copy, "2026", tmp_path / "2026.xlsx", "--program", "SZPS"))
    header, rows, _ = table(book["代偿"])
    assert header[3:6] == ["逾期日", "不良分类日", "代偿申请日"]
    (row,) = rows
    assert row[1] == "SZ-2026-001" and str(row[4])[:10] == "2026-09-30"
    assert "质押存单" not in book.sheetnames  # SZPS has no deposits


def test_the_new_sheets_print(shapes_copy: Path, tmp_path: Path) -> None:
    xlsx = _report(shapes_copy, "2021", tmp_path / "hk.xlsx", "--program", "HKJB")
    texts = pages(to_pdf(xlsx, tmp_path))
    deposits = next(t for t in texts if "报表——质押存单" in t)
    assert "贷款编号" in deposits and "HK-2021-003" in deposits and "230,000.00" in deposits
    outflows = next(t for t in texts if "报表——允许的支出" in t)
    assert "年度尚可" in outflows and "4,885,000.00" in outflows
