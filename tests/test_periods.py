"""Closed periods (issue 13): ``zbd close`` records a close; any later change of the
closed books fails ``bean-check`` with ``period.closed``.

Each test copies the demo ledger (several included files), closes 2025Q2 with the real
command, and then edits the copy the way a person would: one fen, one date, one line, a
back-dated entry, entries moved to another file, entries after the period, a reopening.
"""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from beancount import loader
from click.testing import CliRunner

from conftest import ROOT
from zhubaodai.cli import main
from zhubaodai.core.digest import entry_text
from zhubaodai.core.engine import result_of

LETTER = "高新创服函〔2025〕50号"
CLOSE_DAY = "2025-07-15"


def _copy_demo(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "ledger", tmp_path / "ledger", ignore=shutil.ignore_patterns("*.pickle"))
    shutil.copy(ROOT / "rules.yaml", tmp_path / "rules.yaml")
    shutil.copy(ROOT / "calendar.yaml", tmp_path / "calendar.yaml")
    # The Fava options name the importer's files relative to the repository: not needed here.
    return tmp_path / "ledger" / "main.beancount"


def _close(top: Path, period: str = "2025Q2", day: str = CLOSE_DAY, name: str = "closes.beancount") -> Path:
    out = top.parent / name
    result = CliRunner().invoke(
        main, ["close", str(top), "--period", period, "--letter", LETTER, "--by", "张三", "--date", day, "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    with top.open("a", encoding="utf-8") as handle:
        handle.write(f'include "{name}"\n')
    return out


def _errors(top: Path) -> list[str]:
    entries, errors, options = loader.load_file(str(top))
    return [str(getattr(e, "message", e)) for e in errors]


def _closed_errors(top: Path) -> list[str]:
    return [m for m in _errors(top) if "[period.closed]" in m]


@pytest.fixture
def closed(tmp_path: Path) -> Path:
    top = _copy_demo(tmp_path)
    assert _errors(top) == []
    _close(top)
    return top


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_closed_demo_passes_and_records_its_close(closed: Path) -> None:
    assert _errors(closed) == []
    close = (closed.parent / "closes.beancount").read_text(encoding="utf-8")
    assert '2025-07-15 custom "period" "close" "2025Q2"' in close
    assert f'letter: "{LETTER}"' in close and 'm2025-06: "' in close and 'm2025-07' not in close
    entries, _, options = loader.load_file(str(closed))
    records = result_of(options).records.periods
    assert {(r.program, r.status) for r in records} == {("CQGX", "有效"), ("WLHT", "有效")}


def test_one_fen_in_a_closed_quarter_fails_bean_check(closed: Path) -> None:
    cqgx = closed.parent / "cqgx" / "2025.beancount"
    _edit(cqgx, "Assets:CQGX:Pool:Guarantee                    75000.00 CNY", "Assets:CQGX:Pool:Guarantee                    75000.01 CNY")
    _edit(cqgx, "Income:CQGX:Guarantee:Fees                   -75000.00 CNY", "Income:CQGX:Guarantee:Fees                   -75000.01 CNY")
    run = subprocess.run(
        [str(Path(sys.executable).with_name("bean-check")), str(closed)], capture_output=True, text=True
    )
    assert run.returncode == 1
    found = [line for line in run.stderr.splitlines() + run.stdout.splitlines() if "[period.closed]" in line]
    assert len(found) == 2, run.stderr  # one close per program
    assert "2025年第二季度（2025Q2，截至 2025-06-30）已于 2025-07-15 结账" in found[0]
    assert "变动的月份：2025-04（" in found[0] and "内容有改动" in found[0]
    assert "closes.beancount:" in found[0]


def test_one_date_in_a_closed_quarter_fails(closed: Path) -> None:
    _edit(closed.parent / "cqgx" / "2025.beancount", "2025-05-12 custom \"enterprise\" \"update\"", "2025-05-13 custom \"enterprise\" \"update\"")
    found = _closed_errors(closed)
    assert found and "2025-05（" in found[0]


def test_a_date_moved_across_months_names_both(closed: Path) -> None:
    _edit(closed.parent / "cqgx" / "2025.beancount", "2025-05-12 custom \"enterprise\" \"update\"", "2025-06-12 custom \"enterprise\" \"update\"")
    found = _closed_errors(closed)
    assert found and "2025-05（结账时" in found[0] and "2025-06（结账时" in found[0]


def test_one_deleted_line_in_a_closed_quarter_fails(closed: Path) -> None:
    path = closed.parent / "cqgx" / "2025.beancount"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith('2025-04-17 custom "loan" "contract"'))
    victim = next(i for i in range(at + 1, at + 8) if lines[i].lstrip().startswith("contract_no:"))
    del lines[victim]
    path.write_text("".join(lines), encoding="utf-8")
    found = _closed_errors(closed)
    assert found and "2025-04（" in found[0]


def test_a_back_dated_entry_fails_and_after_the_period_passes(closed: Path) -> None:
    cqgx = closed.parent / "cqgx" / "2025.beancount"
    with cqgx.open("a", encoding="utf-8") as handle:
        handle.write('\n2025-08-01 note Assets:CQGX:Pool "期末之后的对账说明"\n')
    assert _errors(closed) == []
    with cqgx.open("a", encoding="utf-8") as handle:
        handle.write('\n2025-04-10 note Assets:CQGX:Pool "补记到已结账的季度"\n')
    found = _closed_errors(closed)
    assert found and "2025-04（结账时" in found[0] and "条指令，现有" in found[0]


def test_moving_and_reformatting_entries_changes_nothing(closed: Path) -> None:
    path = closed.parent / "cqgx" / "2025.beancount"
    text = path.read_text(encoding="utf-8")
    start = text.index('2025-05-21 * "重庆科睿智感传感技术有限公司"')
    end = text.index("\n\n", start)
    block = text[start:end]
    path.write_text(text[:start] + text[end + 2 :], encoding="utf-8")
    # Elsewhere, reformatted: other spacing, the amounts without their trailing zeros,
    # the postings in the other order.
    head, *postings = block.splitlines()
    moved = head + "\n" + "\n".join("    " + " ".join(p.split()).replace(".00 CNY", " CNY") for p in reversed(postings)) + "\n"
    (closed.parent / "moved.beancount").write_text(moved, encoding="utf-8")
    with closed.open("a", encoding="utf-8") as handle:
        handle.write('include "moved.beancount"\n')
    assert _errors(closed) == []


def test_a_reopening_with_its_letter_releases_the_close(closed: Path) -> None:
    cqgx = closed.parent / "cqgx" / "2025.beancount"
    with cqgx.open("a", encoding="utf-8") as handle:
        handle.write('\n2025-04-10 note Assets:CQGX:Pool "补记到已结账的季度"\n')
    assert len(_closed_errors(closed)) == 2
    with (closed.parent / "closes.beancount").open("a", encoding="utf-8") as handle:
        for program in ("CQGX", "WLHT"):
            handle.write(
                f'\n2025-08-03 custom "period" "reopen" "2025Q2"\n  program: "{program}"\n  letter: "高新创服函〔2025〕61号"\n'
            )
    assert _errors(closed) == []
    entries, _, options = loader.load_file(str(closed))
    statuses = sorted((r.program, r.kind, r.status) for r in result_of(options).records.periods)
    assert statuses == [("CQGX", "close", "已重新打开"), ("CQGX", "reopen", "重新打开"),
                        ("WLHT", "close", "已重新打开"), ("WLHT", "reopen", "重新打开")]
    # Closed again after the correction: the new close holds, and guards again.
    _close(closed, day="2025-08-05", name="closes-2.beancount")
    assert _errors(closed) == []
    _edit(cqgx, '"补记到已结账的季度"', '"补记到已结账的季度（改）"')
    assert len(_closed_errors(closed)) == 2


def test_a_reopening_needs_its_letter(closed: Path) -> None:
    with (closed.parent / "closes.beancount").open("a", encoding="utf-8") as handle:
        handle.write('\n2025-08-03 custom "period" "reopen" "2025Q2"\n  program: "CQGX"\n')
    assert any("[ledger.format]" in m and "缺少元数据 letter" in m for m in _errors(closed))


def test_close_refuses_an_existing_file_and_bad_input(tmp_path: Path) -> None:
    top = _copy_demo(tmp_path)
    out = top.parent / "closes.beancount"
    out.write_text("; 已有内容\n", encoding="utf-8")
    runner = CliRunner()
    args = ["close", str(top), "--letter", LETTER, "--date", CLOSE_DAY]
    result = runner.invoke(main, [*args, "--period", "2025Q2", "-o", str(out)])
    assert result.exit_code == 2 and "已存在" in result.output and "Traceback" not in result.output
    assert out.read_text(encoding="utf-8") == "; 已有内容\n"
    result = runner.invoke(main, [*args, "--period", "2025Q5"])
    assert result.exit_code == 2 and "期间应写作 2025Q4" in result.output
    result = runner.invoke(main, ["close", str(top), "--letter", LETTER, "--period", "2025Q3", "--date", "2025-09-30"])
    assert result.exit_code == 2 and "应晚于期末" in result.output
    result = runner.invoke(main, [*args, "--period", "2025Q2", "--program", "XX"])
    assert result.exit_code == 2 and "没有项目 XX" in result.output


def test_close_prints_the_directive_without_output(tmp_path: Path) -> None:
    top = _copy_demo(tmp_path)
    result = CliRunner().invoke(
        main, ["close", str(top), "--period", "2025Q2", "--letter", LETTER, "--date", CLOSE_DAY, "--program", "WLHT"]
    )
    assert result.exit_code == 0, result.output
    assert re.search(r'2025-07-15 custom "period" "close" "2025Q2"\n  program: "WLHT"\n', result.stdout)
    assert re.search(r'  digest: "[0-9a-f]{64}"', result.stdout)
    assert '"CQGX"' not in result.stdout


def test_the_digest_text_leaves_out_where_an_entry_is_written() -> None:
    text = '2024-01-02 * "银行" "注资"\n  ka: 1\n  kb: "x"\n  Assets:A  5.00 CNY\n  Assets:B  -5 CNY\n'
    other = '\n\n\n2024-01-02 * "银行" "注资"\n  kb: "x"\n  ka: 1\n  Assets:B   -5.0 CNY\n  Assets:A   5 CNY\n'
    from beancount.parser import parser

    one = parser.parse_string(text)[0][0]
    two = parser.parse_string(other)[0][0]
    assert one.meta["lineno"] != two.meta["lineno"]
    assert entry_text(one, "") == entry_text(two, "")
    three = parser.parse_string(text.replace("5.00 CNY", "5.01 CNY"))[0][0]
    assert entry_text(one, "") != entry_text(three, "")
    assert datetime.date(2024, 1, 2) == one.date


def test_reviewers_see_the_close_on_the_compliance_page_and_in_the_report(closed: Path) -> None:
    from fava.application import create_app
    from openpyxl import load_workbook

    with (closed.parent / "cqgx" / "2025.beancount").open("a", encoding="utf-8") as handle:
        handle.write('\n2025-04-10 note Assets:CQGX:Pool "补记到已结账的季度"\n')
    app = create_app([str(closed)], read_only=True, poll_watcher=True)
    client = app.test_client()
    prefix = "/" + client.get("/").location.strip("/").split("/")[0]
    page = client.get(f"{prefix}/extension/Zbd6Compliance/").get_data(as_text=True)
    section = page[page.index('id="zbd-periods"') :]
    assert section.count('data-status="摘要不符"') == 2
    assert "2025年第二季度（2025Q2）" in section and LETTER in section and "摘要不符：2025-04" in section
    out = closed.parent / "2025Q4.xlsx"
    result = CliRunner().invoke(main, ["report", str(closed), "--period", "2025Q4", "-o", str(out)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out)["结账与授权文件"]
    first = int(sheet.print_title_rows.split(":")[0].strip("$"))  # the header row, below the title block
    table = list(sheet.iter_rows(min_row=first, values_only=True))
    rows = [dict(zip(table[0], row)) for row in table[1:] if row[0]]
    assert [(r["项目代码"], r["类别"], r["函件或文件"], r["核对结果"]) for r in rows] == [
        ("CQGX", "结账", LETTER, "摘要不符：2025-04"),
        ("WLHT", "结账", LETTER, "摘要不符：2025-04"),
    ]


def test_a_ledger_with_errors_is_not_closed(tmp_path: Path) -> None:
    top = _copy_demo(tmp_path)
    cqgx = top.parent / "cqgx" / "2025.beancount"
    _edit(cqgx, "Assets:CQGX:Pool:Guarantee                    75000.00 CNY", "Assets:CQGX:Pool:Guarantee                    74999.99 CNY")
    _edit(cqgx, "Income:CQGX:Guarantee:Fees                   -75000.00 CNY", "Income:CQGX:Guarantee:Fees                   -74999.99 CNY")
    out = top.parent / "closes.beancount"
    result = CliRunner().invoke(
        main, ["close", str(top), "--period", "2025Q2", "--letter", LETTER, "--date", CLOSE_DAY, "-o", str(out)]
    )
    assert result.exit_code == 2 and "不能结账" in result.output
    assert not out.exists()


def test_a_document_in_a_closed_quarter_is_named_from_the_books_own_folder(tmp_path: Path) -> None:
    """A document's file is part of a closed month by its name relative to the top ledger
    file: the books moved as a whole to another folder stay closed; the document pointed
    at another file does not."""
    top = _copy_demo(tmp_path / "before")
    (top.parent / "docs").mkdir()
    for name in ("2025-06-10-对账单.pdf", "2025-06-10-对账单-改.pdf"):
        (top.parent / "docs" / name).write_bytes(b"%PDF-1.4\n")
    with top.open("a", encoding="utf-8") as handle:
        handle.write('2025-06-10 document Assets:CQGX:Pool "docs/2025-06-10-对账单.pdf"\n')
    assert _errors(top) == []
    _close(top)
    assert _errors(top) == []
    shutil.move(str(tmp_path / "before"), str(tmp_path / "after"))
    moved = tmp_path / "after" / "ledger" / "main.beancount"
    assert _errors(moved) == []
    _edit(moved, "docs/2025-06-10-对账单.pdf", "docs/2025-06-10-对账单-改.pdf")
    found = _closed_errors(moved)
    assert len(found) == 2 and all("2025-06（" in m for m in found)  # one close per program, as any change
