"""zbd report as a bureau files it: the layout of the workbook (title block, 概览 down the
page, totals, print set-up, widths, relative paths, the pages' words, 本期无), the printed
PDF (LibreOffice headless, read back with poppler), and the safety of the written file
(no file replaced that appeared meanwhile, no dangling symlink followed, no temporary file
left). The figures themselves are compared with the engine in tests/test_cli.py."""

from __future__ import annotations

import datetime
import errno
import os
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from openpyxl import load_workbook

from conftest import ROOT
from zhubaodai.cli import load_ledger
from zhubaodai.cli import main
from zhubaodai.core.findings import explanation
from zhubaodai.fava import views
from zhubaodai.outputs import write_new
from zhubaodai.report import build_report
from zhubaodai.report_xlsx import display_width
from zhubaodai.report_xlsx import write_report

SHEETS = ["概览", "资金来源", "专户对账", "贷款", "代偿", "追偿", "孳息分配", "检查结果", "结账与授权文件"]


def zbd(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo ledger, copied (with its rules and calendar) to a folder of its own."""
    root = tmp_path_factory.mktemp("demo")
    shutil.copytree(ROOT / "ledger", root / "ledger")
    shutil.copy(ROOT / "rules.yaml", root / "rules.yaml")
    shutil.copy(ROOT / "calendar.yaml", root / "calendar.yaml")
    return root / "ledger" / "main.beancount"


@pytest.fixture(scope="module")
def q4(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("q4") / "2025Q4.xlsx"
    result = zbd("report", demo, "--period", "2025Q4", "-o", out)
    assert result.exit_code == 0, result.output
    return out


def header_row(ws) -> int:
    return int(ws.print_title_rows.split(":")[0].strip("$"))


def table(ws) -> tuple[list[str], list[tuple], list[tuple]]:
    """Header, rows (the autofilter's range) and totals rows of a table sheet."""
    first = header_row(ws)
    rows = list(ws.iter_rows(min_row=first, values_only=True))
    if not ws.auto_filter.ref:
        return list(rows[0]), [], rows[2:]
    last = int(re.search(r"(\d+)$", ws.auto_filter.ref).group(1))
    return list(rows[0]), rows[1 : last - first + 1], rows[last - first + 1 :]


# ---------------------------------------------------------------------- the workbook


def test_every_sheet_has_a_title_block(q4: Path, demo: Path) -> None:
    book = load_workbook(q4)
    assert book.sheetnames == SHEETS
    loaded = load_ledger(str(demo))
    names = loaded.rulebook.programs
    # By default the programs the demo uses: rules.yaml's other programs are not listed.
    used = loaded.analysis.used_programs()
    assert used == ["CQGX", "WLHT"]
    for ws in book.worksheets:
        block = [ws.cell(row=r, column=1).value for r in range(1, header_row(ws))]
        text = "\n".join(v for v in block if v)
        assert f"助保贷资金池2025年第四季度报表——{ws.title}" in text
        for code, program in names.items():
            assert (f"{code} {program.name}" in text) == (code in used)
        assert "报告期：2025年第四季度（2025-10-01 至 2025-12-31）" in text
        assert "金额单位：元" in text
        assert re.search(r"编制日期：\d{4}-\d{2}-\d{2}", text)


def test_the_prepared_date_is_the_one_given(demo: Path, tmp_path: Path) -> None:
    loaded = load_ledger(str(demo))
    book = build_report(
        loaded.analysis, loaded.entries, ["WLHT"], "2025年度", datetime.date(2025, 1, 1), datetime.date(2025, 12, 31),
        ledger=str(demo), prepared=datetime.date(2026, 1, 15),
    )
    write_report(book, str(tmp_path / "r.xlsx"))
    ws = load_workbook(tmp_path / "r.xlsx")["贷款"]
    assert "编制日期：2026-01-15" in ws["A3"].value
    assert "WLHT 乌兰浩特市" in ws["A2"].value and "CQGX" not in ws["A2"].value


def test_the_overview_reads_down_the_page(q4: Path) -> None:
    ws = load_workbook(q4)["概览"]
    first = header_row(ws)
    assert [c.value for c in ws[first]] == ["项目", "CQGX", "WLHT"]
    assert ws.max_column == 3  # one label column, one column per program
    labels = [ws.cell(row=r, column=1).value for r in range(first + 1, ws.max_row + 1)]
    assert len(labels) > 20
    assert {"两项资金", "贷款", "助保金期末余额", "期末在贷余额", "检查警告数"} <= set(labels)
    # A section heading has no figures; a figure line has one per program.
    section = labels.index("贷款") + first + 1
    assert ws.cell(row=section, column=2).value is None
    line = labels.index("期末在贷余额") + first + 1
    assert all(isinstance(ws.cell(row=line, column=c).value, (int, float)) for c in (2, 3))
    assert ws.cell(row=line, column=2).number_format == "#,##0.00"


def test_totals_rows_sum_the_rows(q4: Path) -> None:
    book = load_workbook(q4)
    header, rows, totals = table(book["贷款"])
    assert len(rows) > 10
    by_program = {code: [r for r in rows if r[0] == code] for code in ("CQGX", "WLHT")}
    assert [t[0] for t in totals] == ["合计（CQGX）", "合计（WLHT）", "合计"]
    for label, group in (("合计（CQGX）", by_program["CQGX"]), ("合计（WLHT）", by_program["WLHT"]), ("合计", rows)):
        (total,) = [t for t in totals if t[0] == label]
        assert total[1] == f"共 {len(group)} 笔"
        for name in ("期初余额", "本期放款", "期末余额", "助保金累计应缴", "助保金累计实缴"):
            i = header.index(name)
            expected = sum((Decimal(str(r[i])) for r in group), Decimal(0))
            assert Decimal(str(total[i])).quantize(Decimal("0.01")) == expected.quantize(Decimal("0.01")), name
        assert total[header.index("审核同意日")] is None  # dates are not summed
        assert total[header.index("期末状态")] is None
    # Amounts and dates keep their formats; totals are bold.
    ws = book["贷款"]
    first = header_row(ws) + 1
    assert ws.cell(row=first, column=header.index("期末余额") + 1).number_format == "#,##0.00"
    assert ws.cell(row=first, column=header.index("审核同意日") + 1).number_format == "yyyy-mm-dd"
    assert not ws.cell(row=first, column=1).font.b
    assert ws.cell(row=ws.max_row, column=header.index("期末余额") + 1).font.b
    # The two funds of each program add up on 资金来源; balances at different dates do not (专户对账).
    header, rows, totals = table(book["资金来源"])
    assert totals[-1][:2] == ("合计", "共 4 项资金")
    i = header.index("期末余额")
    assert Decimal(str(totals[-1][i])).quantize(Decimal("0.01")) == sum(
        (Decimal(str(r[i])) for r in rows), Decimal(0)).quantize(Decimal("0.01"))
    assert table(book["专户对账"])[2] == []
    assert table(book["检查结果"])[2] == []


def test_an_empty_table_says_so(q4: Path) -> None:
    ws = load_workbook(q4)["代偿"]  # no compensation in 2025Q4
    first = header_row(ws)
    assert ws.cell(row=first + 1, column=1).value == "本期无"
    assert ws.auto_filter.ref is None
    assert ws.max_row == first + 1  # and no totals of nothing


def test_print_set_up(q4: Path) -> None:
    book = load_workbook(q4)
    for ws in book.worksheets:
        setup = ws.page_setup
        assert setup.paperSize == 9, ws.title  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0)
        assert ws.print_title_rows == f"${header_row(ws)}:${header_row(ws)}"
        assert ws.page_margins.left >= 0.5 and ws.page_margins.top >= 0.5
        assert "&P" in ws.oddFooter.right.text
        if ws.title != "概览" and table(ws)[1]:
            first = header_row(ws)
            assert ws.auto_filter.ref.startswith(f"A{first}:")
    assert book["概览"].page_setup.orientation == "portrait"
    assert book["贷款"].page_setup.orientation == "landscape"


def test_widths_count_chinese_characters_double(q4: Path) -> None:
    assert display_width("重庆高新区") == 10 and display_width("CQ-2024-001") == 11
    ws = load_workbook(q4)["贷款"]
    header, rows, _ = table(ws)
    letter = ws.cell(row=header_row(ws), column=header.index("企业名称") + 1).column_letter
    longest = max(display_width(r[header.index("企业名称")]) for r in rows)
    assert longest > 20  # the demo's names are ten and more characters
    assert ws.column_dimensions[letter].width >= longest
    code = ws.cell(row=header_row(ws), column=1).column_letter
    assert ws.column_dimensions[code].width < ws.column_dimensions[letter].width


def test_findings_name_files_relative_to_the_ledger_folder(q4: Path, demo: Path) -> None:
    book = load_workbook(q4)
    header, rows, _ = table(book["检查结果"])
    files = {r[header.index("文件")] for r in rows}
    assert files == {"cqgx/2025.beancount"}  # the demo's one warning (loan.rate)
    for ws in book.worksheets:
        for row in ws.iter_rows(values_only=True):
            for value in row:
                assert not (isinstance(value, str) and str(demo.parent) in value), (ws.title, value)


def test_the_accountants_explanation_is_beside_its_finding(q4: Path, demo: Path) -> None:
    """The demo's one warning (loan.rate) carries the accountant's ``note:``: 检查结果 shows
    it in 会计说明, read where the Fava pages and their CSV read it."""
    header, rows, _ = table(load_workbook(q4)["检查结果"])
    (row,) = rows
    note = row[header.index("会计说明")]
    assert note.startswith("合作银行按该企业的风险定价") and "“原则上”" in note
    (finding,) = load_ledger(str(demo)).analysis.findings
    assert note == explanation(finding) == finding.entry.meta["note"]


def test_an_explanation_that_looks_like_a_formula_stays_text(demo: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(demo.parent.parent, root)
    year = root / "ledger" / "cqgx" / "2025.beancount"
    text = year.read_text(encoding="utf-8")
    assert text.count('  note: "') == 1
    year.write_text(text.replace('  note: "', '  note: "=HYPERLINK(""x"")', 1).replace('""x""', "x"), encoding="utf-8")
    out = tmp_path / "q4.xlsx"
    result = zbd("report", root / "ledger" / "main.beancount", "--period", "2025Q4", "-o", out)
    assert result.exit_code == 0, result.output
    header, rows, _ = table(load_workbook(out)["检查结果"])
    (row,) = rows
    assert row[header.index("会计说明")].startswith("'=HYPERLINK(x)合作银行")


def test_status_words_are_the_pages(q4: Path, demo: Path) -> None:
    header, rows, _ = table(load_workbook(q4)["贷款"])
    words = [r[header.index("期末状态")] for r in rows]
    assert set(words) <= set(views.LOAN_STATUS.values())
    assert {"在贷", "已结清"} <= set(words)
    loaded = load_ledger(str(demo))
    page = views.loan_rows(loaded.analysis, views.Period(None, datetime.date(2025, 12, 31), False), ["CQGX", "WLHT"])
    shown = {r.id: r.status_label for r in page}
    assert {r[header.index("贷款编号")]: r[header.index("期末状态")] for r in rows} == {
        r[header.index("贷款编号")]: shown[r[header.index("贷款编号")]] for r in rows}


# ---------------------------------------------------------------------- printed


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        pytest.skip("没有 LibreOffice（soffice）：请运行 bash scripts/setup.sh --browser（scripts/test.sh 与 CI 都会安装）")
    return found


def to_pdf(xlsx: Path, tmp: Path) -> Path:
    """Print the workbook to PDF with LibreOffice headless, in a private profile, bounded in time."""
    profile = tmp / "lo-profile"
    done = subprocess.run(
        [_soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
         "--convert-to", "pdf", "--outdir", str(tmp), str(xlsx)],
        capture_output=True, text=True, timeout=240,
    )
    pdf = tmp / (xlsx.stem + ".pdf")
    assert done.returncode == 0 and pdf.exists(), done.stdout + done.stderr
    return pdf


def pages(pdf: Path) -> list[str]:
    count = int(re.search(r"Pages:\s+(\d+)", _run("pdfinfo", pdf)).group(1))
    return [_run("pdftotext", "-layout", "-f", str(i), "-l", str(i), pdf, "-") for i in range(1, count + 1)]


def _run(*args: object) -> str:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=True, timeout=60).stdout


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A synthetic ledger's annual report (hundreds of loans: 贷款 runs over several pages), printed."""
    _soffice()
    tmp = tmp_path_factory.mktemp("printed")
    ledger = tmp / "g.beancount"
    assert zbd("generate", "--transactions", "800", "--seed", "3", "-o", ledger).exit_code == 0
    xlsx = tmp / "年报.xlsx"
    result = zbd("report", ledger, "--period", "2025", "-o", xlsx)
    assert result.exit_code == 0, result.output
    return xlsx, to_pdf(xlsx, tmp)


def test_the_report_prints_on_a4_with_every_sheet_and_no_column_cut(printed: tuple[Path, Path]) -> None:
    xlsx, pdf = printed
    info = _run("pdfinfo", "-f", "1", "-l", "999", pdf)
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)
    texts = pages(pdf)
    assert len(sizes) == len(texts)
    book = load_workbook(xlsx)
    loans = table(book["贷款"])[1]
    # Sane: at least a page a sheet, and 贷款 at no fewer than 50 rows a page.
    assert len(SHEETS) < len(texts) <= len(SHEETS) + len(loans) // 50 + 2
    for width, height in sizes:  # A4, either way up
        assert sorted((round(float(width)), round(float(height)))) == [595, 842]
    for ws in book.worksheets:
        starts = [i for i, t in enumerate(texts) if f"报表——{ws.title}" in t]
        assert len(starts) == 1, ws.title  # the title block, once
        first = texts[starts[0]]
        assert "金额单位：元" in first and "编制日期：" in first
        heads = [c.value for c in ws[header_row(ws)]]
        # The page is fitted to the width: the first and the last header are on the first page.
        assert heads[0] in first and heads[-1] in first, (ws.title, heads[-1])
    # The header row is repeated on each continued page of 贷款.
    start = next(i for i, t in enumerate(texts) if "报表——贷款" in t)
    following = next(i for i, t in enumerate(texts) if "报表——代偿" in t)
    assert following - start >= 2
    for text in texts[start + 1 : following]:
        assert "贷款编号" in text and "助保金累计实缴" in text
    assert "合计" in texts[following - 1]


def test_a_printed_page_is_not_blank(printed: tuple[Path, Path], tmp_path: Path) -> None:
    _, pdf = printed
    _run("pdftoppm", "-r", "40", "-gray", "-f", "4", "-l", "4", pdf, tmp_path / "page")
    (image,) = tmp_path.glob("page*.pgm")
    data = image.read_bytes()
    header = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    width, height = int(header.group(1)), int(header.group(2))
    assert width > height  # 贷款 is printed landscape
    pixels = data[header.end():]
    dark = sum(1 for p in pixels if p < 128)
    assert dark > len(pixels) // 100  # ink on the page: a table, not an empty sheet


# ---------------------------------------------------------------------- safe outputs


@pytest.fixture()
def small(tmp_path: Path) -> Path:
    """A small ledger, in its own folder (the output goes to another)."""
    folder = tmp_path / "ledger"
    folder.mkdir()
    ledger = folder / "g.beancount"
    assert zbd("generate", "--transactions", "60", "--seed", "1", "-o", ledger).exit_code == 0
    return ledger


def _report(ledger: Path, out: Path, *extra: str):
    return zbd("report", ledger, "--period", "2025", "-o", out, *extra)


def test_a_file_that_appears_while_it_runs_is_kept(small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "r.xlsx"
    save = Workbook.save

    def save_then_someone_writes(self, filename):
        save(self, filename)
        out.write_bytes(b"theirs")  # another program writes the target meanwhile

    monkeypatch.setattr(Workbook, "save", save_then_someone_writes)
    result = _report(small, out)
    assert result.exit_code == 2
    assert "编制报表期间出现" in result.stderr and "--force" in result.stderr
    assert "Traceback" not in result.output
    assert out.read_bytes() == b"theirs"
    assert sorted(os.listdir(out_dir)) == ["r.xlsx"]  # no temporary file left
    out.unlink()
    assert _report(small, out, "--force").exit_code == 0  # the same race, with --force: replaced
    assert load_workbook(out).sheetnames == SHEETS
    assert sorted(os.listdir(out_dir)) == ["r.xlsx"]


def test_a_dangling_symlink_is_refused_without_force(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    nowhere = tmp_path / "nowhere.xlsx"
    out.symlink_to(nowhere)
    result = _report(small, out)
    assert result.exit_code == 2
    assert "符号链接" in result.stderr and "--force" in result.stderr
    assert out.is_symlink() and not nowhere.exists()
    assert _report(small, out, "--force").exit_code == 0
    assert not out.is_symlink() and not nowhere.exists()  # the link is replaced, not followed
    assert load_workbook(out).sheetnames == SHEETS


def test_force_replaces_a_symlink_not_the_file_it_points_to(small: Path, tmp_path: Path) -> None:
    theirs = tmp_path / "theirs.xlsx"
    theirs.write_bytes(b"theirs")
    out = tmp_path / "r.xlsx"
    out.symlink_to(theirs)
    assert _report(small, out).exit_code == 2
    assert _report(small, out, "--force").exit_code == 0
    assert theirs.read_bytes() == b"theirs" and not out.is_symlink()


def test_an_interrupted_save_leaves_no_file(small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    save = Workbook.save

    def interrupted(self, filename):
        save(self, filename)  # the temporary file is written, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(Workbook, "save", interrupted)
    loaded = load_ledger(str(small))
    book = build_report(
        loaded.analysis, loaded.entries, ["CQGX"], "2025年度", datetime.date(2025, 1, 1), datetime.date(2025, 12, 31),
    )
    with pytest.raises(KeyboardInterrupt):
        write_report(book, str(out_dir / "r.xlsx"))
    assert os.listdir(out_dir) == []
    result = _report(small, out_dir / "r.xlsx")  # through the command: stopped, nothing left
    assert result.exit_code != 0
    assert os.listdir(out_dir) == []


def test_without_hard_links_the_file_is_still_created_exclusively(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(*args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "x.bin"
    write_new(str(target), lambda p: Path(p).write_bytes(b"ours"))
    assert target.read_bytes() == b"ours"
    with pytest.raises(FileExistsError):
        write_new(str(target), lambda p: Path(p).write_bytes(b"again"))
    assert target.read_bytes() == b"ours"
    assert sorted(os.listdir(tmp_path)) == ["x.bin"]


def test_the_written_file_has_ordinary_permissions(tmp_path: Path) -> None:
    target = tmp_path / "x.bin"
    write_new(str(target), lambda p: Path(p).write_bytes(b"ours"))
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask



# ---------------------------------------------------------------------- N parties (comp.shares)


def test_the_compensation_sheet_has_one_column_per_party(demo: Path, tmp_path: Path) -> None:
    """SZPS's table of parties (坪山: 风险补偿金 40%, 担保机构 40%, 银行其余) on 代偿, next to
    CQGX's 助保金 / 风险补偿金 / 银行: one column per party of the programs reported, a
    party outside a program's table left empty on its rows."""
    shapes = demo.parent / "shapes.beancount"
    out = tmp_path / "2026.xlsx"
    result = zbd("report", shapes, "--period", "2026", "-o", out, "--program", "SZPS")
    assert result.exit_code == 0, result.output
    assert "项目：SZPS" in result.output
    header, rows, totals = table(load_workbook(out)["代偿"])
    assert "担保机构承担" in header and "助保金支付" not in header  # SZPS has no guarantee fund
    row = dict(zip(header, next(r for r in rows if r[1] == "SZ-2026-001")))
    # SZPS calls its one fund 资金池 (rules.yaml names:): the workbook's header says so.
    assert "风险补偿金支付" not in header
    assert (row["应代偿额"], row["资金池支付"], row["担保机构承担"], row["合作银行承担"]) == (
        800000, 320000, 320000, 160000)
    assert dict(zip(header, totals[-1]))["担保机构承担"] == 320000

    loaded = load_ledger(str(shapes))
    both = build_report(loaded.analysis, loaded.entries, ["CQGX", "SZPS"], "2026年度",
                        datetime.date(2026, 1, 1), datetime.date(2026, 12, 31))
    sheet = next(s for s in both.sheets if getattr(s, "title", "") == "代偿")
    names = [c.name for c in sheet.columns]
    assert names[names.index("应代偿额") + 1:names.index("风险补偿金未能分担")] == [
        "助保金支付", "风险补偿金支付", "合作银行承担", "担保机构承担"]
    szps = dict(zip(names, next(r for r in sheet.rows if r[0] == "SZPS")))
    assert szps["助保金支付"] is None and szps["担保机构承担"] == Decimal("320000.00")
