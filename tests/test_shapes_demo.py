"""The second demo ledger, ledger/shapes.beancount: the other districts' programs written
from their excerpts (issue 10) — GSBY (fee schedule, two funders, portfolio stop), WZS
(fee on the credit line, leverage floor), LNYQ (no fee, top-up by the year end).

It passes bean-check (tests/test_demo.py, with its top file's options); its only findings are the warnings its story wants; it exercises
every rule its programs configure; and every face (the XLSX report, the stress test; the
Fava pages in tests/test_fava_pages.py) works on it with N programs."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from click.testing import CliRunner
from openpyxl import load_workbook

from test_demo import NOT_EXERCISED
from test_demo import exercised
from zhubaodai.cli import main
from zhubaodai.core.engine import result_of
from zhubaodai.core.findings import WARNING

REPO = Path(__file__).resolve().parent.parent
SHAPES = REPO / "ledger" / "shapes.beancount"
#: The programs whose include groups this part of issue 10 wrote.
PROGRAMS = ("GSBY", "WZS", "LNYQ", "JHJD")


@pytest.fixture(scope="module")
def analysis():
    _, errors, options = loader.load_file(str(SHAPES))
    assert errors == []
    found = result_of(options)
    assert found is not None
    return found


def test_only_the_deliberate_warnings(analysis) -> None:
    """GS-2024-007 runs 4 years: within the 5-year limit, past the general 3 years."""
    found = [(f.rule, f.severity, f.loan) for f in analysis.findings if f.program in PROGRAMS]
    assert found == [("loan.term_general", WARNING, "GS-2024-007")] * 2


def test_every_rule_of_its_programs_is_exercised(analysis) -> None:
    by_program = exercised(analysis)
    for code in PROGRAMS:
        rules = set(analysis.rulebook.programs[code].rules)
        missing = rules - by_program[code] - set(NOT_EXERCISED)
        assert missing == set(), (code, sorted(missing))


def test_the_fee_schedules_are_what_the_register_says(analysis) -> None:
    fees = analysis.records.fees
    # GSBY: secured (40%) for 3 years: 2.5% + 2 points; unsecured 2 years: 4% + 1 point; 39.99...% is unsecured.
    assert [(d.rate, d.due) for d in fees["GS-2024-004"].dues] == [(Decimal("0.045"), 225000)]
    assert [(d.rate, d.due) for d in fees["GS-2024-005"].dues] == [(Decimal("0.05"), 40000)]
    assert fees["GS-2024-006"].dues[0].rate == Decimal("0.04")
    # WZS: on the credit line, not the contract amount; credit loans 5%.
    assert [(d.base, d.due) for d in fees["WZ-2025-002"].dues] == [(2000000, 40000)]
    assert fees["WZ-2024-003"].dues[0].due == 25000
    # LNYQ: no fee at all.
    assert all(not fees[i].dues for i in fees if i.startswith("LN-"))


def test_the_year_end_checks_ran(analysis) -> None:
    checks = {
        (c.rule, c.program, c.day.isoformat()): c.ok
        for c in analysis.records.adequacy
        if c.rule in ("risk.leverage_floor", "risk.topup")
    }
    assert checks == {
        ("risk.leverage_floor", "WZS", "2025-12-31"): True,
        ("risk.topup", "LNYQ", "2024-12-31"): True,
    }


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shapes")
    shutil.copytree(REPO / "ledger", root / "ledger")
    for name in ("rules.yaml", "calendar.yaml"):
        shutil.copy(REPO / name, root / name)
    return root / "ledger" / "shapes.beancount"


@pytest.mark.parametrize(("year", "compensated"), [("2024", ["LN-2024-003"]), ("2025", ["GS-2024-002", "WZ-2024-003"])])
def test_the_xlsx_report_lists_every_program(copy: Path, tmp_path: Path, year: str, compensated: list[str]) -> None:
    out = tmp_path / f"{year}.xlsx"
    result = CliRunner().invoke(main, ["report", str(copy), "--period", year, "-o", str(out)])
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    text = "\n".join(
        str(cell) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for cell in row if cell is not None
    )
    for code in PROGRAMS:
        assert code in text
    compensations = "\n".join(
        str(cell) for row in book["代偿"].iter_rows(values_only=True) for cell in row if cell is not None
    )
    for loan in compensated:  # the year's compensations, on the compensation sheet
        assert loan in compensations


@pytest.mark.parametrize("code", ["GSBY", "WZS"])
def test_stress_runs_on_each_program_with_a_waterfall(copy: Path, code: str) -> None:
    result = CliRunner().invoke(
        main, ["stress", str(copy), "--date", "2025-12-31", "--program", code, "--default-rate", "0.2", "--recovery-rate", "0.3"]
    )
    assert result.exit_code == 0, result.output
    assert "风险补偿金" in result.output and "Traceback" not in result.output


def test_stress_says_in_chinese_why_a_program_without_a_waterfall_cannot_run(copy: Path) -> None:
    result = CliRunner().invoke(
        main, ["stress", str(copy), "--date", "2025-12-31", "--program", "LNYQ", "--default-rate", "0.2", "--recovery-rate", "0.3"]
    )
    assert result.exit_code == 2, result.output
    assert "项目 LNYQ 在 rules.yaml 中没有代偿分担规则" in result.output and "无法做压力测试" in result.output
