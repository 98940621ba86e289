"""No live spreadsheet formula from the ledger's text in anything the project writes.

An enterprise named ``=HYPERLINK("http://x","y")`` (the accountant's text, not ours) is
shown as text in the XLSX report and the CSV downloads, never evaluated.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from fava.application import create_app
from openpyxl import load_workbook

from conftest import ROOT
from zhubaodai.cli import main
from zhubaodai.outputs import inert

HOSTILE = '=HYPERLINK("http://x","y")'


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (HOSTILE, "'" + HOSTILE),
        ("+1+1", "'+1+1"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("重庆某科技有限公司", "重庆某科技有限公司"),
        ("CQ-2024-001", "CQ-2024-001"),
    ],
)
def test_text_that_could_start_a_formula_is_quoted(text: str, shown: str) -> None:
    assert inert(text) == shown


def test_numbers_stay_numbers() -> None:
    from decimal import Decimal

    assert inert(Decimal("-0.01")) == Decimal("-0.01") and inert(-3) == -3 and inert(None) is None


@pytest.fixture(scope="module")
def hostile_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(ROOT / "ledger", root / "ledger")
    shutil.copy(ROOT / "rules.yaml", root / "rules.yaml")
    shutil.copy(ROOT / "calendar.yaml", root / "calendar.yaml")
    year = root / "ledger" / "cqgx" / "2024.beancount"
    text = year.read_text(encoding="utf-8")
    first = text.index('  name: "') + len('  name: "')
    name = text[first : text.index('"', first)]
    year.write_text(text.replace(f'name: "{name}"', f'name: "{HOSTILE.replace(chr(34), chr(92) + chr(34))}"'), encoding="utf-8")
    return root / "ledger" / "main.beancount"


def test_the_xlsx_report_holds_no_formula(hostile_demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    result = CliRunner().invoke(main, ["report", str(hostile_demo), "--period", "2024", "-o", str(out)])
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    seen = 0
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and HOSTILE in cell.value:
                    assert cell.value.startswith("'"), cell.value
                    seen += 1
    assert seen >= 1  # the name is in the report, as text


def test_the_csv_downloads_hold_no_formula(hostile_demo: Path) -> None:
    app = create_app([str(hostile_demo)], read_only=True)
    client = app.test_client()
    prefix = "/" + client.get("/").location.strip("/").split("/")[0]
    response = client.get(f"{prefix}/extension/Zbd2Loans/loans.csv", query_string={"time": "2024"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    cells = [c for r in rows for c in r]
    assert "'" + HOSTILE in cells
    assert HOSTILE not in cells
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
