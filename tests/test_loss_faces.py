"""Issue #10: 金东 (JHJD) splits the pool's loss left after recovery 40/40/20 among the
government, the guarantee company and the bank (comp.shares ``residual``; the register
event ``custom "loan" "loss"`` records each part). 代偿台账 and 资金池概况 (Fava, through
Flask's test client here; in Chromium in tests/browser/test_fava_browser.py) and the
report's 损失分担 sheet (openpyxl, and printed by LibreOffice) show each loss event: the
date, the loss, each party's due part, the recorded part and the difference.

Every expected figure is worked by hand from the ledger in the comment beside it, not read
back from the engine's records. Programs without a residual table show no such section.
"""

from __future__ import annotations

import re
import shutil
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from fava.application import create_app
from openpyxl import load_workbook

from conftest import ROOT
from zhubaodai.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))

from fava_support import EXTENSION_LINE  # noqa: E402
from fava_support import figures as parse_figures  # noqa: E402

SHAPES = ROOT / "ledger" / "shapes.beancount"
DEMO = ROOT / "ledger" / "main.beancount"
#: The small ledger: one JHJD loan, its loss split one fen off (comp.shares' failing ledger).
SMALL = ROOT / "tests" / "ledgers" / "rules" / "comp.shares" / "jhjd-fail-residual-fen.beancount"

# The shapes demo (ledger/jhjd): JH-2025-001's pool paid 1,236,000.56 on 2025-12-05; the
# recovery of 400,000.00 less 25,000.00 costs brought 375,000.00 back: the loss is
# 861,000.56. 40% = 344,400.224, 40% = 344,400.224, 20% = 172,200.112: floors sum to
# 861,000.55, the last fen to the largest remainder, a tie between the first two: the
# government, listed first. The event of 2026-06-30 records exactly these parts.
SHAPES_LOSS = {
    "date": "2026-06-30", "loss": "861,000.56",
    "government": ("344,400.23", "344,400.23", "0.00"),
    "guarantor": ("344,400.22", "344,400.22", "0.00"),
    "bank": ("172,200.11", "172,200.11", "0.00"),
}
# The small ledger: the pool paid 1,020,000.01; 300,000.00 recovered less 50,000.00 costs:
# 250,000.00 back, a loss of 770,000.01. 40% = 308,000.004 (twice), 20% = 154,000.002:
# floors 770,000.00, the fen to the government (tie, listed first). The event of 2026-03-31
# records the fen to the guarantor: differences 0.01 and -0.01.
SMALL_LOSS = {
    "date": "2026-03-31", "loss": "770,000.01",
    "government": ("308,000.01", "308,000.00", "0.01"),
    "guarantor": ("308,000.00", "308,000.01", "-0.01"),
    "bank": ("154,000.00", "154,000.00", "0.00"),
}


def figures(html: str) -> dict[str, str]:
    """The text of each ``data-figure`` element of a page."""
    return parse_figures(html).figures


def served_copy(ledger: Path, root: Path) -> Path:
    """A copy of a rule ledger (with the rules and shared account files it names, at the
    same relative places) that registers the review pages."""
    shutil.copy(ROOT / "rules.yaml", root / "rules.yaml")
    shutil.copy(ROOT / "calendar.yaml", root / "calendar.yaml")
    relative = ledger.relative_to(ROOT)
    shutil.copytree(ROOT / "tests" / "ledgers" / "common", root / "tests" / "ledgers" / "common")
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(ledger.read_text(encoding="utf-8") + f"\n2000-01-01 {EXTENSION_LINE}\n", encoding="utf-8")
    return target


class Pages:
    def __init__(self, ledger: Path) -> None:
        self.client = create_app([str(ledger.resolve())], read_only=True).test_client()
        self.prefix = "/" + self.client.get("/").location.strip("/").split("/")[0]

    def page(self, name: str, **query: str) -> str:
        response = self.client.get(f"{self.prefix}/extension/{name}/", query_string=query)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "Traceback" not in html and "审阅页面无法运行规则引擎" not in html
        return html


@pytest.fixture(scope="module")
def shapes() -> Pages:
    return Pages(SHAPES)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return served_copy(SMALL, tmp_path_factory.mktemp("small"))


def _loss_figures(html: str, loan: str, expected: dict) -> None:
    shown = figures(html)
    assert shown[f"{loan}.loss_date"] == expected["date"]
    assert shown[f"{loan}.loss"] == expected["loss"]
    for party in ("government", "guarantor", "bank"):
        due, recorded, difference = expected[party]
        assert (shown[f"{loan}.{party}.due"], shown[f"{loan}.{party}.recorded"],
                shown[f"{loan}.{party}.difference"]) == (due, recorded, difference), party


# ---------------------------------------------------------------------- Fava


def test_the_compensation_register_shows_jhjds_loss_split(shapes: Pages) -> None:
    html = shapes.page("Zbd3Compensations", program="JHJD")
    assert "追偿后损失分担" in html
    _loss_figures(html, "JH-2025-001", SHAPES_LOSS)
    section = html[html.index('id="zbd-losses"'):]
    # The parties in the table's order, each with its share.
    assert [m for m in re.findall(r'data-party="(\w+)"', section)] == ["government", "guarantor", "bank"]
    assert re.search(r"政府</td><td class=\"num\">40%", section)
    assert "相符" in section


def test_the_small_ledger_shows_the_fen_and_its_finding(small: Path) -> None:
    pages = Pages(small)
    html = pages.page("Zbd3Compensations")
    _loss_figures(html, "JH-2025-001", SMALL_LOSS)
    section = html[html.index('id="zbd-losses"'):]
    # The rows with a difference are marked, and the engine's findings sit beside them.
    assert 'data-figure="JH-2025-001.government.difference"' in section
    assert re.search(r'class="num zbd-error" data-figure="JH-2025-001.government.difference"', section)
    assert re.search(r'class="num" data-figure="JH-2025-001.bank.difference"', section)
    assert "政府应承担 308,000.01 元，已记录 308,000.00 元，差额 0.01 元" in section
    pool = figures(pages.page("Zbd1Pool"))
    assert (pool["JHJD.loss.government.due"], pool["JHJD.loss.government.recorded"],
            pool["JHJD.loss.government.difference"]) == SMALL_LOSS["government"]
    assert (pool["JHJD.loss.guarantor.due"], pool["JHJD.loss.guarantor.recorded"],
            pool["JHJD.loss.guarantor.difference"]) == SMALL_LOSS["guarantor"]
    # Totals: the loss 770,000.01, recorded 308,000.00 + 308,000.01 + 154,000.00, differences 0.00.
    assert (pool["JHJD.loss.total"], pool["JHJD.loss.recorded"], pool["JHJD.loss.difference"]) == (
        "770,000.01", "770,000.01", "0.00")


def test_a_missing_part_is_said_not_shown_as_zero(tmp_path: Path) -> None:
    # The loss event records the government's and the guarantor's parts, not the bank's:
    # the bank's 154,000.00 is due, nothing recorded, all of it the difference.
    ledger = served_copy(SMALL, tmp_path)
    text = ledger.read_text(encoding="utf-8")
    text = text.replace("  guarantor_share: 308000.01 CNY\n", "  guarantor_share: 308000.00 CNY\n")
    text = text.replace("  government_share: 308000.00 CNY\n", "  government_share: 308000.01 CNY\n")
    text = text.replace("  bank_share: 154000.00 CNY\n", "")
    ledger.write_text(text, encoding="utf-8")
    shown = figures(Pages(ledger).page("Zbd3Compensations"))
    assert (shown["JH-2025-001.bank.due"], shown["JH-2025-001.bank.recorded"],
            shown["JH-2025-001.bank.difference"]) == ("154,000.00", "未记录", "154,000.00")
    assert shown["JH-2025-001.government.difference"] == "0.00"


def test_the_pool_overview_totals_the_split_per_party(shapes: Pages) -> None:
    shown = figures(shapes.page("Zbd1Pool"))
    for party in ("government", "guarantor", "bank"):
        due, recorded, difference = SHAPES_LOSS[party]
        assert (shown[f"JHJD.loss.{party}.due"], shown[f"JHJD.loss.{party}.recorded"],
                shown[f"JHJD.loss.{party}.difference"]) == (due, recorded, difference)
    assert shown["JHJD.loss.total"] == "861,000.56"
    # Only JHJD has a residual table among the shapes demo's six programs.
    assert not any(key.endswith(".loss.total") and not key.startswith("JHJD.") for key in shown)


def test_a_period_without_a_loss_event_says_so(shapes: Pages) -> None:
    # 2025: JH-2025-001 was compensated on 2025-12-05, its loss registered only in 2026.
    html = shapes.page("Zbd3Compensations", time="2025", program="JHJD")
    assert 'data-figure="losses.none"' in html and "所选期间内没有登记追偿后的损失分担" in html
    assert "JH-2025-001.loss" not in figures(html)
    pool = shapes.page("Zbd1Pool", time="2025", program="JHJD")
    assert 'data-figure="JHJD.loss.none"' in pool


def test_programs_without_a_residual_table_show_no_section(shapes: Pages) -> None:
    for program in ("HKJB", "SZPS", "GSBY"):
        html = shapes.page("Zbd3Compensations", program=program)
        assert 'id="zbd-losses"' not in html and "追偿后损失分担" not in html
        assert "追偿后损失分担" not in shapes.page("Zbd1Pool", program=program)
    demo = Pages(DEMO)
    assert "追偿后损失分担" not in demo.page("Zbd3Compensations")
    assert "追偿后损失分担" not in demo.page("Zbd1Pool")


# ---------------------------------------------------------------------- zbd report


def zbd(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def _sheet(xlsx: Path, title: str) -> tuple[list, list[tuple], list[tuple]]:
    from test_report import table

    return table(load_workbook(xlsx)[title])


def test_the_report_has_a_loss_sheet_for_jhjd(tmp_path: Path) -> None:
    out = tmp_path / "2026.xlsx"
    result = zbd("report", SHAPES, "--period", "2026", "-o", out)
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    assert book.sheetnames.index("损失分担") == book.sheetnames.index("追偿") + 1
    header, rows, totals = _sheet(out, "损失分担")
    assert header == [
        "项目代码", "贷款编号", "企业名称", "损失登记日", "函件", "未弥补损失",
        "政府应承担", "政府已记录", "政府差额", "担保机构应承担", "担保机构已记录", "担保机构差额",
        "合作银行应承担", "合作银行已记录", "合作银行差额", "核对结果",
    ]
    (row,) = rows
    got = dict(zip(header, row))
    assert (got["项目代码"], got["贷款编号"], str(got["损失登记日"].date())) == ("JHJD", "JH-2025-001", "2026-06-30")
    money = [Decimal(str(got[h])).quantize(Decimal("0.01")) for h in header[5:15]]
    assert money == [Decimal(v) for v in (
        "861000.56", "344400.23", "344400.23", "0.00", "344400.22", "344400.22", "0.00",
        "172200.11", "172200.11", "0.00")]
    assert got["核对结果"] == "相符"
    assert dict(zip(header, totals[-1]))["未弥补损失"] == 861000.56


def test_a_program_without_a_residual_table_has_no_loss_sheet(tmp_path: Path) -> None:
    out = tmp_path / "demo.xlsx"
    assert zbd("report", DEMO, "--period", "2025", "-o", out).exit_code == 0
    assert "损失分担" not in load_workbook(out).sheetnames
    out = tmp_path / "hkjb.xlsx"
    assert zbd("report", SHAPES, "--period", "2026", "--program", "HKJB", "-o", out).exit_code == 0
    assert "损失分担" not in load_workbook(out).sheetnames


def test_a_year_without_a_loss_event_says_so(tmp_path: Path) -> None:
    out = tmp_path / "2025.xlsx"
    assert zbd("report", SHAPES, "--period", "2025", "--program", "JHJD", "-o", out).exit_code == 0
    ws = load_workbook(out)["损失分担"]
    from test_report import header_row

    assert ws.cell(row=header_row(ws) + 1, column=1).value == "本期无"


def test_the_loss_sheet_prints_with_its_figures(small: Path, tmp_path: Path) -> None:
    """The small ledger's report printed by LibreOffice: the 损失分担 sheet on A4, every
    column on the page, the figures (the fen and its difference) as worked above."""
    from test_report import pages
    from test_report import to_pdf

    xlsx = tmp_path / "2026.xlsx"
    result = zbd("report", small, "--period", "2026", "-o", xlsx)
    assert result.exit_code == 0, result.output
    header, rows, _ = _sheet(xlsx, "损失分担")
    got = dict(zip(header, rows[0]))
    assert (got["政府应承担"], got["政府已记录"], got["政府差额"]) == (308000.01, 308000, 0.01)
    assert (got["担保机构应承担"], got["担保机构已记录"], got["担保机构差额"]) == (308000, 308000.01, -0.01)
    assert got["核对结果"] == "不符"
    texts = pages(to_pdf(xlsx, tmp_path))
    (page,) = [t for t in texts if "报表——损失分担" in t]
    assert "项目代码" in page and "核对结果" in page  # the first and the last column
    line = next(l for l in page.splitlines() if "JH-2025-001" in l)
    numbers = re.findall(r"-?[\d,]+\.\d\d", line)
    assert numbers == ["770,000.01", "308,000.01", "308,000.00", "0.01", "308,000.00", "308,000.01", "-0.01",
                       "154,000.00", "154,000.00", "0.00"]
    assert "2026-03-31" in line and "不符" in line
