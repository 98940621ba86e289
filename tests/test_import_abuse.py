"""The importer cannot be abused, nor hurt by accident: what it refuses and how it says so.

Every refusal is an input error (exit status 2) with a Chinese message naming the file
(and the row and column where there is one), nothing is written, no traceback; under Fava
only files inside the ledger's import folders are read at all.
"""

from __future__ import annotations

import datetime
import io
import os
import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import data

from conftest import FavaImportPage
from conftest import importer_fixtures
from zhubaodai.importers import cli
from zhubaodai.importers import statement
from zhubaodai.importers.config import load_pool_config
from zhubaodai.importers.importer import DUPLICATE
from zhubaodai.importers.importer import PoolImporter
from zhubaodai.importers.statement import StatementError
from zhubaodai.importers.statement import read_statement

REPO = Path(__file__).resolve().parent.parent
HERE = REPO / "tests" / "importers"
CQGX = HERE / "pools" / "cqgx.yaml"
FLAT = HERE / "ccb-flat" / "ccb-flat-utf8.csv"
XLSX = HERE / "ccb-flat" / "ccb-flat.xlsx"


fx = importer_fixtures()


@pytest.fixture
def ledger(import_ledger: Path) -> Path:
    return import_ledger


def refused(source: Path, ledger: Path) -> str:
    """Import one file into a new output file: it must be refused as bad input, nothing
    written, no traceback; the message (without the trailing line)."""
    out = ledger.parent / "out.beancount"
    err = io.StringIO()
    status = cli.run_import([source], configs=[CQGX], ledger=ledger, output=out, err=err)
    text = err.getvalue()
    assert status == cli.EXIT_INPUT, text
    assert not out.exists()
    assert "Traceback" not in text and "内部错误" not in text
    assert text.endswith("未写入任何内容。\n")
    return text


# --------------------------------------------------------------------------------------
# Not a regular file.


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_refused_without_opening_it(ledger: Path, tmp_path: Path) -> None:
    pipe = tmp_path / "statement.csv"
    os.mkfifo(pipe)  # opening it for reading would wait for a writer forever
    assert f"文件 {pipe}：不是普通文件（是管道），不能作为对账单读取" in refused(pipe, ledger)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_a_device_is_refused_even_behind_a_statement_name(ledger: Path, tmp_path: Path) -> None:
    """/dev/zero would fill memory: refused from its type, not read."""
    link = tmp_path / "statement.csv"
    link.symlink_to("/dev/zero")
    assert f"文件 {link}：不是普通文件（是设备），不能作为对账单读取" in refused(link, ledger)
    with pytest.raises(StatementError, match="不是普通文件（是设备）"):
        statement.read_table("/dev/zero")


def test_a_directory_is_not_a_statement() -> None:
    with pytest.raises(StatementError, match="不是普通文件（是目录）"):
        statement.read_table(HERE)


# --------------------------------------------------------------------------------------
# Sizes.


def test_a_file_over_the_size_limit_is_refused_unread(ledger: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("wb") as handle:  # sparse: no disk, no memory
        handle.truncate(statement.MAX_FILE_BYTES + 1)
    message = refused(big, ledger)
    assert f"文件大小 {statement.MAX_FILE_BYTES + 1:,} 字节超过 {statement.MAX_FILE_BYTES:,} 字节的上限" in message


def test_a_file_just_within_the_size_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "padded.csv"
    text = FLAT.read_bytes()
    line = b" " * 510 + b"\r\n"  # blank lines, up to the limit
    lines = (statement.MAX_FILE_BYTES - len(text)) // len(line)
    path.write_bytes(text + line * lines + b" " * ((statement.MAX_FILE_BYTES - len(text)) % len(line)))
    assert path.stat().st_size == statement.MAX_FILE_BYTES
    assert len(statement.read_table(path).rows) == len(fx.CQ_Q3) + 2 + lines


def _xlsx_with(path: Path, member: str, chunks: int, chunk: bytes) -> None:
    """The fixture workbook with one member replaced by ``chunk`` repeated, deflated."""
    with zipfile.ZipFile(XLSX) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != member:
                dst.writestr(info, src.read(info))
        with dst.open(member, "w", force_zip64=True) as handle:
            for _ in range(chunks):
                handle.write(chunk)


def test_a_zip_bomb_is_refused_before_decompressing(ledger: Path, tmp_path: Path) -> None:
    """A worksheet of blanks that inflates past the limit from a few hundred kilobytes."""
    bomb = tmp_path / "bomb.xlsx"
    size = 1024 * 1024
    _xlsx_with(bomb, "xl/worksheets/sheet1.xml", statement.MAX_XLSX_UNCOMPRESSED // size + 1, b" " * size)
    assert bomb.stat().st_size < statement.MAX_FILE_BYTES // 20
    message = refused(bomb, ledger)
    assert f"超过 {statement.MAX_XLSX_UNCOMPRESSED:,} 字节的上限：文件异常（可能是“压缩炸弹”），未解压" in message


def test_too_many_rows_are_refused(ledger: Path, tmp_path: Path) -> None:
    many = tmp_path / "many.csv"
    header = ",".join(fx.FLAT_HEADER).encode("utf-8")
    many.write_bytes(header + b"\r\n" + b",\r\n" * statement.MAX_ROWS)
    assert f"行数超过 {statement.MAX_ROWS} 行的上限" in refused(many, ledger)


def test_too_many_columns_are_refused(tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    wide.write_text("x," * (statement.MAX_COLUMNS + 1) + "x\r\n", encoding="utf-8")
    with pytest.raises(StatementError, match=f"第 1 行：一行超过 {statement.MAX_COLUMNS} 列的上限"):
        statement.read_table(wide)


# --------------------------------------------------------------------------------------
# Content.


def test_nul_bytes_are_refused_at_their_row(ledger: Path, tmp_path: Path) -> None:
    rows = fx.flat_rows(fx.CQ_Q3, fx.CQ_OPENING)
    rows[4][7] = "重庆甲科技\x00有限公司"
    path = tmp_path / "nul.csv"
    fx.write_csv(path, rows)
    assert f"文件 {path} 第 5 行：文件含 NUL 空字符" in refused(path, ledger)
    utf16 = tmp_path / "nul16.csv"
    utf16.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    assert f"文件 {utf16} 第 5 行：文件含 NUL 空字符" in refused(utf16, ledger)


def test_other_control_characters_are_refused_at_their_cell(tmp_path: Path) -> None:
    rows = fx.flat_rows(fx.CQ_Q3, fx.CQ_OPENING)
    rows[3][11] = "转账\x1b[31m"
    path = tmp_path / "escape.csv"
    fx.write_csv(path, rows)
    with pytest.raises(StatementError, match="第 4 行 L 列：单元格含控制字符 U\\+001B"):
        statement.read_table(path)


def test_a_row_dated_after_today_is_refused(ledger: Path, tmp_path: Path) -> None:
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    txns = [*fx.CQ_Q3, fx.Txn(tomorrow.isoformat(), "09:00:00", Decimal("1.00"), "某某", "", "", "转账", "")]
    path = tmp_path / "future.csv"
    fx.write_csv(path, fx.flat_rows(txns, fx.CQ_OPENING))
    message = refused(path, ledger)
    assert (
        f"第 {len(txns) + 1} 行 K 列（记账日期）：日期 {tomorrow} 晚于今天（{datetime.date.today()}）" in message
    )
    layouts = load_pool_config(CQGX).layouts
    table = statement.read_table(path)
    assert statement.parse_table(table, layouts, today=tomorrow).last_date == tomorrow


def test_malformed_xml_in_an_xlsx_is_bad_input(ledger: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.xlsx"
    _xlsx_with(broken, "xl/worksheets/sheet1.xml", 1, b"<worksheet><sheetData><row r='1'><c r='A1' t='s'>")
    assert f"文件 {broken}：无法打开 .xlsx 文件（文件损坏或不是 Excel 工作簿）：ParseError" in refused(broken, ledger)
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    assert f"文件 {garbage}：无法打开 .xlsx 文件" in refused(garbage, ledger)


def test_out_of_memory_while_reading_is_bad_input(
    ledger: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openpyxl

    def exhausted(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(openpyxl, "load_workbook", exhausted)
    path = tmp_path / "statement.xlsx"  # a file not read before (reads are cached by version)
    shutil.copy(XLSX, path)
    assert f"文件 {path}：读取时内存不足" in refused(path, ledger)


def test_out_of_memory_anywhere_in_an_import_is_bad_input(ledger: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def exhausted(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(cli, "extract_statements", exhausted)
    err = io.StringIO()
    assert cli.run_import([FLAT], configs=[CQGX], ledger=ledger, err=err) == cli.EXIT_INPUT
    assert err.getvalue() == "错误：内存不足：对账单或账本过大，未写入任何内容。\n"


def test_a_long_preamble_cell_costs_no_more_than_its_length(tmp_path: Path) -> None:
    """A preamble cell with 100,000 characters between two colons: only the end of that
    stretch is tried as the next label (trying every start would take minutes)."""
    rows = fx.detail_rows(fx.CQ_Q3, fx.CQ_OPENING)
    rows.insert(0, ["说明：" + "甲 " * 50_000 + "：值"] + [""] * (len(rows[0]) - 1))
    path = tmp_path / "long.csv"
    fx.write_csv(path, rows)
    layouts = load_pool_config(CQGX).layouts
    assert read_statement(path, layouts).account == fx.CQ_ACCOUNT


# --------------------------------------------------------------------------------------
# Interrupted.


@pytest.mark.parametrize("where", ["write", "link"])
def test_an_interrupted_import_leaves_no_temporary_file(
    ledger: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    outdir = tmp_path / "out"
    outdir.mkdir()
    out = outdir / "new.beancount"

    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    if where == "link":
        monkeypatch.setattr(os, "link", interrupt)
    else:
        real_fdopen = os.fdopen

        def fdopen(fd: int, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
            handle = real_fdopen(fd, *args, **kwargs)
            handle.write = interrupt  # type: ignore[method-assign]
            return handle

        monkeypatch.setattr(os, "fdopen", fdopen)
    err = io.StringIO()
    status = cli.run_import([FLAT], configs=[CQGX], ledger=ledger, output=out, err=err)
    assert status == cli.EXIT_INTERRUPTED
    assert err.getvalue() == "已中断：未写入任何内容。\n"
    assert list(outdir.iterdir()) == []


# --------------------------------------------------------------------------------------
# Fava reads only inside the ledger's import folders.


def test_fava_extract_refuses_any_file_outside_the_import_dirs_unread(
    ledger: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fava_import_page: FavaImportPage
) -> None:
    inbox = ledger.parent / "inbox"
    inbox.mkdir()
    shutil.copy(FLAT, inbox / "ccb.csv")
    outside = tmp_path / "elsewhere.csv"  # the same statement, one folder off
    shutil.copy(FLAT, outside)
    (inbox / "escape.csv").symlink_to(outside)  # a link out of the folder is outside too
    client, slug = fava_import_page.client(ledger, "inbox")  # relative to the ledger
    reads: list[str] = []
    real = statement.read_bytes

    def spy(path: str | Path) -> bytes:
        reads.append(str(path))
        return real(path)

    monkeypatch.setattr(statement, "read_bytes", spy)

    def extract(filename: str) -> list[dict]:
        response = client.get(
            f"/{slug}/api/extract", query_string={"filename": filename, "importer": "CQGX 专户对账单"}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["data"]

    for path in ("/etc/passwd", "/dev/zero", str(outside), str(inbox / "escape.csv"), str(inbox / ".." / "main.beancount")):
        (note,) = extract(path)
        assert note["t"] == "Note" and note["meta"][DUPLICATE] is True
        assert f"文件 {path} 不在账本配置的导入目录（import-dirs：{os.path.realpath(inbox)}）中，未读取" in note["comment"]
    assert reads == []
    listed = client.get(f"/{slug}/api/imports").get_json()["data"]
    assert {Path(f["name"]).name: [i["importer_name"] for i in f["importers"]] for f in listed} == {
        "ccb.csv": ["CQGX 专户对账单"], "escape.csv": [],
    }
    entries = extract(str(inbox / "ccb.csv"))
    assert len([e for e in entries if e["t"] == "Transaction"]) == len(fx.CQ_Q3)
    assert reads == [str(inbox / "ccb.csv")]


def test_fava_importer_outside_a_request_takes_the_dirs_from_the_ledger(tmp_path: Path) -> None:
    """Called by Fava's ingest module directly (no request), the folders come from the
    ledger's own fava-option entries among those it passes."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    main = tmp_path / "main.beancount"
    main.write_text('2021-01-01 custom "fava-option" "import-dirs" "inbox"\n', encoding="utf-8")
    (option,) = loader.load_file(str(main))[0]
    importer = PoolImporter(CQGX, fava=True)
    (note,) = importer.extract(str(FLAT), [option])
    assert isinstance(note, data.Note) and "不在账本配置的导入目录" in note.comment
    layouts = load_pool_config(CQGX).layouts
    assert read_statement(FLAT, layouts).rows  # the file itself is fine


def test_a_terminated_extract_command_leaves_no_temporary_file(
    ledger: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM (a kill, a CI timeout) while the output is being put in place: the
    command removes its temporary file and exits 130, as for Ctrl-C."""
    import signal

    from click.testing import CliRunner

    outdir = tmp_path / "out"
    outdir.mkdir()

    def terminated(*args: object, **kwargs: object) -> None:
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(os, "link", terminated)
    before = signal.getsignal(signal.SIGTERM)
    result = CliRunner().invoke(
        cli.extract_command, [str(FLAT), "-c", str(CQGX), "-e", str(ledger), "-o", str(outdir / "new.beancount")]
    )
    assert result.exit_code == cli.EXIT_INTERRUPTED, result.output
    assert "已中断：未写入任何内容。" in result.output
    assert list(outdir.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is before
