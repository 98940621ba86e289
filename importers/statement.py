"""Read a bank statement file into checked rows: .csv (any of the usual encodings), .xlsx, .xls.

The reading is declared, not hand-written per bank: a :class:`~zhubaodai.importers.config.Layout`
(banks.yaml) says which header text holds which field, and the columns are read through
beangulp's :mod:`~beangulp.importers.csvbase` column descriptors. A statement looks like::

    明细查询结果                                   <- preamble (optional, layout-declared)
    账号：50050110360000000888   户名：……
    期初余额：1,000.00  借方发生笔数：1 ……
    交易时间 | 借方发生额（支取） | 贷方发生额（收入） | 余额 | …   <- the header row
    20240705 10:21:03 | 0 | 75,000.00 | 1,075,000.00 | …         <- one row per transaction

The header is found, not assumed: any of the first rows, alone or with the row below it
(a two-row header: 发生额/元 merged over 借方 | 贷方), is compared with each layout's labels
as :func:`~zhubaodai.importers.config.label_key` compares them (whitespace of every kind,
inside labels too; bracket variants; unit suffixes; the English half of bilingual labels).
The preamble above it is read as label/value pairs, several to a cell or label and value
in adjacent cells, and every total it prints is checked against the rows.

Everything that could make an import wrong is an error here, before anything is written:
an unknown encoding, no header (naming the closest layout and the columns it lacks), a
missing column, an unparsable date or amount, a date after today, a row from another
account, a repeated serial number, a running balance that does not chain, preamble totals
that do not match the rows. Each :class:`StatementError` names the file, the row and the
column (as the spreadsheet shows them: row number and column letter).

Nothing is read that could hurt: only a regular file (not a device, a pipe or a
directory), at most :data:`MAX_FILE_BYTES`; an .xlsx whose members inflate to at most
:data:`MAX_XLSX_UNCOMPRESSED` (judged before decompressing); at most :data:`MAX_ROWS` rows
of :data:`MAX_COLUMNS` cells; no NUL or other control character. Memory exhausted or XML
broken while reading is a :class:`StatementError` like any other bad input.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime
import io
import os
import re
import stat
import unicodedata
import zipfile
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from decimal import InvalidOperation
from pathlib import Path

from beangulp.importers import csvbase

from zhubaodai.core.money import FEN
from zhubaodai.core.money import ZERO
from zhubaodai.core.money import yuan
from zhubaodai.importers.config import ImportFailure
from zhubaodai.importers.config import Layout
from zhubaodai.importers.config import PREAMBLE_FIELDS
from zhubaodai.importers.config import account_key
from zhubaodai.importers.config import BY_DIRECTION
from zhubaodai.importers.config import header_key
from zhubaodai.importers.config import label_key

#: File suffixes the importers look at.
SUFFIXES = (".csv", ".txt", ".xls", ".xlsx")

#: How many rows from the top are searched for the header.
HEADER_SEARCH_ROWS = 60

#: Limits against accident and abuse. A quarter's statement of a pool's account is a few
#: hundred rows and tens of kilobytes; these leave room for years of daily activity.
#: The file as stored (bytes read at most; a larger file is refused unread beyond this).
MAX_FILE_BYTES = 20 * 1024 * 1024
#: The uncompressed size of all the members of an .xlsx (a zip): a zip bomb is refused
#: from the sizes its directory declares, before anything is decompressed.
#: (Shared strings are held in memory whole, so this bounds the memory a workbook takes.)
MAX_XLSX_UNCOMPRESSED = 64 * 1024 * 1024
#: Rows of the first sheet (or lines of a CSV), header and preamble included.
MAX_ROWS = 50_000
#: Cells of one row.
MAX_COLUMNS = 256

#: Currency cells meaning CNY.
CNY_MARKS = {"人民币", "cny", "rmb", "156", "人民币元", "本币"}

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"


class StatementError(ImportFailure):
    """A statement cannot be imported: the file, the row and the column, in Chinese."""

    def __init__(
        self, path: str | Path, message: str, *, row: int | None = None, column: str | None = None
    ) -> None:
        self.path = str(path)
        self.row = row
        self.column = column
        self.message = message
        where = f"文件 {self.path}"
        if row is not None:
            where += f" 第 {row} 行"
        if column:
            where += column if column.startswith("（") else f" {column}"
        super().__init__(f"{where}：{message}")


# --------------------------------------------------------------------------------------
# Cells: every format is read into rows of text, as csvbase reads a CSV file.


@dataclass(frozen=True)
class Table:
    """The cells of a file's first sheet as text, with each row's number in the file."""

    path: str
    kind: str  # "csv", "xlsx", "xls"
    encoding: str | None
    rows: tuple[tuple[int, tuple[str, ...]], ...]


def _cell_text(value: object) -> str:
    """A cell as text: stripped (full-width spaces too), Excel guards removed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    text = str(value).strip()
    # Exports guard long numbers from Excel as ="0123…", '0123… or a leading tab.
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1].strip()
    elif text.startswith("'"):
        text = text[1:].strip()
    return text


def decode(path: str | Path, data: bytes) -> tuple[str, str]:
    """The text of a statement and the encoding it was in: UTF-8 (with or without BOM),
    UTF-16 with BOM, or GB18030 (a superset of GBK and GB2312)."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8):].decode("utf-8"), "UTF-8（带 BOM）"
        except UnicodeDecodeError as exc:
            raise _undecodable(path, data, exc, "UTF-8（带 BOM）") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as exc:
            raise _undecodable(path, data, exc, "UTF-16") from None
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "GB18030"
    except UnicodeDecodeError as exc:
        raise _undecodable(path, data, exc, "UTF-8 或 GB18030/GBK") from None


def _undecodable(path: str | Path, data: bytes, exc: UnicodeDecodeError, tried: str) -> StatementError:
    line = data.count(b"\n", 0, exc.start) + 1
    return StatementError(
        path,
        f"无法识别文件编码：按 {tried} 读取，第 {exc.start + 1} 个字节（0x{data[exc.start]:02X}）无效；"
        "请确认这是银行导出的对账单（支持 UTF-8、UTF-8 带 BOM、GB18030/GBK、.xls、.xlsx）",
        row=line,
    )


def _too_many_rows(path: str | Path) -> StatementError:
    return StatementError(
        path, f"行数超过 {MAX_ROWS} 行的上限：这不像一份专户对账单；请按月或按季下载后分别导入", row=MAX_ROWS + 1
    )


def _row_cells(path: str | Path, line: int, values: Iterable[object]) -> tuple[str, ...]:
    cells = [_cell_text(v) for v in values]
    while cells and not cells[-1]:
        cells.pop()
    if len(cells) > MAX_COLUMNS:
        raise StatementError(path, f"一行超过 {MAX_COLUMNS} 列的上限：这不像一份对账单", row=line)
    return tuple(cells)


def _check_text(path: str | Path, rows: Iterable[tuple[int, tuple[str, ...]]]) -> None:
    """No NUL or other control character in any cell (they are not in a bank's export and
    would reach the ledger's text): the row and column of the first."""
    for line, cells in rows:
        for index, cell in enumerate(cells):
            bad = next((ch for ch in cell if ch in _CONTROL), None)
            if bad is not None:
                raise StatementError(
                    path, f"单元格含控制字符 U+{ord(bad):04X}（{'NUL 空字符' if bad == chr(0) else '不可见字符'}）："
                    "文件已损坏或不是银行导出的对账单", row=line, column=f"{column_letter(index)} 列",
                )


#: Control characters refused in a cell (tab, line feed and carriage return are the
#: layout's own; the rest never are in a statement).
_CONTROL = frozenset(chr(c) for c in range(32) if chr(c) not in "\t\n\r") | {"\x7f"}


def _read_csv(path: str | Path, data: bytes) -> Table:
    text, encoding = decode(path, data)
    if "\x00" in text:
        at = text.index("\x00")
        raise StatementError(
            path, "文件含 NUL 空字符：文件已损坏或不是银行导出的文本对账单", row=text.count("\n", 0, at) + 1
        )
    if text.lstrip()[:200].lower().startswith(("<html", "<!doctype", "<table", "<?xml")):
        raise StatementError(
            path, "文件是网页（HTML/XML）格式而不是表格；请在 Excel 中打开后另存为 .xlsx 或 .csv 再导入"
        )
    head = text[:4000]
    delimiter = "\t" if head.count("\t") > head.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    start = 1
    try:
        for cells in reader:
            if len(rows) >= MAX_ROWS:
                raise _too_many_rows(path)
            rows.append((start, _row_cells(path, start, cells)))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise StatementError(path, f"CSV 格式有误：{exc}", row=start) from None
    return Table(str(path), "csv", encoding, tuple(rows))


def _check_zip(path: str | Path, data: bytes) -> zipfile.ZipFile:
    """The .xlsx as a zip whose members, uncompressed, stay within the limit (from the
    sizes its directory declares; a member that inflates past its declared size fails its
    check when read, so the declaration cannot lie)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise StatementError(path, f"无法打开 .xlsx 文件（文件损坏或不是 Excel 工作簿）：{exc}") from None
    total = sum(m.file_size for m in members)
    if total > MAX_XLSX_UNCOMPRESSED or len(members) > 10_000:
        raise StatementError(
            path,
            f".xlsx 解压后共 {total:,} 字节（{len(members)} 个部件），超过 {MAX_XLSX_UNCOMPRESSED:,} 字节的上限："
            "文件异常（可能是“压缩炸弹”），未解压",
        )
    return archive


def _read_xlsx(path: str | Path, data: bytes) -> Table:
    import openpyxl

    archive = _check_zip(path, data)
    try:
        archive.close()
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except MemoryError:
        raise
    except Exception as exc:  # openpyxl raises whatever its XML parser and zip reader raise
        raise StatementError(path, f"无法打开 .xlsx 文件（文件损坏或不是 Excel 工作簿）：{_short(exc)}") from None
    try:
        if not book.worksheets:
            raise StatementError(path, ".xlsx 文件中没有工作表")
        sheet = book.worksheets[0]
        # The declared dimensions are not trusted: rows are read as they are stored.
        sheet.reset_dimensions()
        rows = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
            if number > MAX_ROWS:
                raise _too_many_rows(path)
            rows.append((number, _row_cells(path, number, values)))
    except (StatementError, MemoryError):
        raise
    except Exception as exc:  # malformed XML inside the zip, a bad cell reference, a bad member
        raise StatementError(path, f"无法读取 .xlsx 文件的工作表（文件损坏）：{_short(exc)}") from None
    finally:
        book.close()
    return Table(str(path), "xlsx", None, tuple(rows))


def _short(exc: Exception) -> str:
    text = f"{type(exc).__name__}：{exc}"
    return text if len(text) <= 200 else text[:200] + "…"


def _read_xls(path: str | Path, data: bytes) -> Table:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
        sheet = book.sheet_by_index(0)
    except MemoryError:
        raise
    except Exception as exc:  # xlrd raises XLRDError, AssertionError, struct.error, IndexError…
        raise StatementError(path, f"无法打开 .xls 文件（文件损坏或不是 Excel 97-2003 工作簿）：{_short(exc)}") from None
    if sheet.nrows > MAX_ROWS:
        raise _too_many_rows(path)
    rows = []
    for r in range(sheet.nrows):
        values: list[object] = []
        for c in range(sheet.ncols):
            cell = sheet.cell(r, c)
            if cell.ctype == xlrd.XL_CELL_DATE:
                try:
                    value: object = xlrd.xldate_as_datetime(cell.value, book.datemode)
                except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                    value = str(cell.value)
            elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                value = None
            elif cell.ctype == xlrd.XL_CELL_ERROR:
                value = "#ERROR"
            else:
                value = cell.value
            values.append(value)
        rows.append((r + 1, _row_cells(path, r + 1, values)))
    return Table(str(path), "xls", None, tuple(rows))


def read_bytes(path: str | Path) -> bytes:
    """A statement file's bytes, read only if it is a regular file within the size limit:
    a device (/dev/zero), a pipe, a socket or a directory is refused without reading; so is
    a file larger than :data:`MAX_FILE_BYTES` (no more than that is ever read)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        info = os.stat(path)
    except OSError as exc:
        raise StatementError(path, f"无法读取文件：{exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise StatementError(path, f"不是普通文件（{_kind(info.st_mode)}），不能作为对账单读取")
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise StatementError(path, f"无法读取文件：{exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())  # what was opened, not what the name pointed at before
        if not stat.S_ISREG(info.st_mode):
            raise StatementError(path, f"不是普通文件（{_kind(info.st_mode)}），不能作为对账单读取")
        if info.st_size > MAX_FILE_BYTES:
            raise StatementError(path, _too_big(info.st_size))
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise StatementError(path, _too_big(len(data)))
    return data


def _too_big(size: int) -> str:
    return (
        f"文件大小 {size:,} 字节超过 {MAX_FILE_BYTES:,} 字节的上限：这不像一份专户对账单；"
        "请按月或按季下载后分别导入"
    )


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "是目录"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "是设备"
    if stat.S_ISFIFO(mode):
        return "是管道"
    if stat.S_ISSOCK(mode):
        return "是套接字"
    return "类型不明"


def read_table(path: str | Path) -> Table:
    """The cells of a statement file; the format is told by its content, not its name.
    Raises :class:`StatementError` for anything that is not a statement, including a file
    too large or too deep to read (memory exhausted is bad input, not an internal error)."""
    data = read_bytes(path)
    try:
        if data.startswith(_OLE2):
            table = _read_xls(path, data)
        elif data.startswith(_ZIP):
            table = _read_xlsx(path, data)
        else:
            table = _read_csv(path, data)
    except MemoryError:
        raise StatementError(path, "读取时内存不足：文件异常（过大或结构异常），不是可导入的对账单") from None
    except RecursionError:
        raise StatementError(path, "文件结构嵌套过深：文件异常，不是可导入的对账单") from None
    _check_text(path, table.rows)
    return table


# --------------------------------------------------------------------------------------
# Columns, declared as beangulp csvbase descriptors.


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: the column as a spreadsheet shows it."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


class Text(csvbase.Column):
    """A text cell, as read."""

    def parse(self, value: str) -> str:
        return value.strip()


class Money(csvbase.Column):
    """An amount: thousands separators, full-width digits and a currency sign allowed;
    to the fen. An empty cell (or a lone dash) is ``empty`` (zero where a column may be
    left blank, an error where it may not)."""

    def __init__(self, *names: object, empty: Decimal | None = ZERO) -> None:
        super().__init__(*names)
        self.empty = empty

    def parse(self, value: str) -> Decimal:
        text = unicodedata.normalize("NFKC", value)
        text = re.sub(r"[\s,¥$]|CNY|RMB|元", "", text, flags=re.IGNORECASE)
        if text in ("", "-", "--"):
            if self.empty is None:
                raise ValueError("金额为空")
            return self.empty
        negative = False
        if text.startswith("(") and text.endswith(")"):
            negative, text = True, text[1:-1]
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
            raise ValueError(f"不是有效的金额：{value!r}")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"不是有效的金额：{value!r}") from None
        if number != number.quantize(FEN):
            raise ValueError(f"金额应精确到分：{value!r}")
        number = number.quantize(FEN)
        return -number if negative else number


#: A date and a time written as one run of digits (yyyymmddHHMM or yyyymmddHHMMSS).
_COMPACT_DATETIME = re.compile(r"\d{8}(\d{4}|\d{6})")


class Day(csvbase.Column):
    """A date, in any of the layout's formats, optionally followed by a time."""

    def __init__(self, *names: object, formats: tuple[str, ...]) -> None:
        super().__init__(*names)
        self.formats = formats

    def parse(self, value: str) -> datetime.date:
        text = unicodedata.normalize("NFKC", value).strip()
        if not text:
            raise ValueError("日期为空")
        candidates = [text]
        head = re.split(r"[\sT]", text, maxsplit=1)[0]
        if head != text:
            candidates.append(head)
        elif _COMPACT_DATETIME.fullmatch(text):
            candidates.append(text[:8])  # 20240701102233: the date and the time run together
        for candidate in candidates:
            for fmt in self.formats:
                try:
                    return datetime.datetime.strptime(candidate, fmt).date()
                except ValueError:
                    continue
        raise ValueError(f"不是有效的日期：{value!r}（可用格式：{'、'.join(self.formats)}）")


# --------------------------------------------------------------------------------------
# The statement.


@dataclass(frozen=True)
class Row:
    """One transaction of the statement, checked."""

    line: int
    date: datetime.date
    #: Signed: positive money in (credit), negative money out (debit).
    amount: Decimal
    balance: Decimal
    serial: str
    counterparty: str = ""
    counterparty_account: str = ""
    counterparty_bank: str = ""
    summary: str = ""
    remark: str = ""

    @property
    def text(self) -> str:
        """摘要 and 备注 together, as people read them."""
        return " ".join(t for t in (self.summary, self.remark) if t)


@dataclass(frozen=True)
class Statement:
    """A whole statement, every check passed. Rows are in date order."""

    path: str
    kind: str
    encoding: str | None
    layout: Layout
    account: str
    account_name: str
    #: Where the account number was read (row, column label), for errors.
    account_at: tuple[int, str]
    header_row: int
    rows: tuple[Row, ...]
    opening_balance: Decimal
    #: The balance column as errors name it ("F 列（余额）").
    balance_label: str = ""
    #: True when the serial numbers are the documented composite key (no serial column).
    composite_serial: bool = False

    @property
    def closing_balance(self) -> Decimal:
        return self.rows[-1].balance if self.rows else self.opening_balance

    @property
    def first_date(self) -> datetime.date | None:
        return self.rows[0].date if self.rows else None

    @property
    def last_date(self) -> datetime.date | None:
        return self.rows[-1].date if self.rows else None


@dataclass(frozen=True)
class _Header:
    #: Index (in the table's rows) of the header's last row: the rows follow it.
    row_index: int
    #: The file's row number of the header's first row.
    line: int
    #: field -> column index (only fields found).
    found: Mapping[str, int]
    missing: tuple[str, ...]
    score: float
    #: Each column's label as the file shows it ("发生额/元 借方" for a two-row header).
    labels: tuple[str, ...] = ()
    #: Index of the header's first row (the preamble is above it).
    first_index: int = 0


_DATA_CELL = re.compile(r"^[\s+\-−(（]*[0-9０-９][0-9０-９,，.\s:/年月日\-]*[)）]?$")


def _is_sub_header(cells: tuple[str, ...]) -> bool:
    """A row that can be a header's second row: some labels, no number or date (a
    transaction row always has an amount)."""
    filled = [c for c in cells if c]
    return bool(filled) and not any(_DATA_CELL.match(c) for c in filled)


def _header_labels(top: tuple[str, ...], sub: tuple[str, ...] | None) -> list[tuple[str, tuple[str, ...]]]:
    """Each column's display label and the keys it answers to. With a second header row,
    a column under a merged cell (发生额/元 over 借方 | 贷方) takes the merged label as its
    parent: its keys are 借方发生额, 发生额借方 and 借方 as well as the parent's own."""
    out: list[tuple[str, tuple[str, ...]]] = []
    width = max(len(top), len(sub or ()))
    parent = ""
    for i in range(width):
        upper = top[i] if i < len(top) else ""
        lower = sub[i] if sub is not None and i < len(sub) else ""
        if upper:
            parent = upper
        elif not lower:
            parent = ""
        owner = upper or (parent if lower else "")
        if lower and owner:
            p, c = label_key(owner), label_key(lower)
            out.append((f"{owner} {lower}", (c + p, p + c, c)))
        elif lower:
            out.append((lower, (label_key(lower),)))
        else:
            out.append((upper, (label_key(upper),) if upper else ()))
    return out


def _match(layout: Layout, labels: list[tuple[str, tuple[str, ...]]]) -> dict[str, int]:
    keys: dict[str, int] = {}
    for i in reversed(range(len(labels))):  # the first column with a label wins
        for key in labels[i][1]:
            keys[key] = i
    found: dict[str, int] = {}
    for fld, accepted in layout.header_names().items():
        for name in accepted:
            if name in keys:
                found[fld] = keys[name]
                break
    return found


def _candidates(table: Table, layout: Layout) -> Iterable[_Header]:
    """Every row (and pair of rows, for a two-row header) of the first rows scored
    against the layout, the fields it finds and those it misses."""
    names = layout.header_names()
    rows = table.rows[:HEADER_SEARCH_ROWS]
    for index, (line, cells) in enumerate(rows):
        if not any(cells):
            continue
        shapes: list[tuple[int, tuple[str, ...] | None]] = [(index, None)]
        if index + 1 < len(table.rows) and _is_sub_header(table.rows[index + 1][1]):
            shapes.append((index + 1, table.rows[index + 1][1]))
        for last, sub in shapes:
            labels = _header_labels(cells, sub)
            found = _match(layout, labels)
            if not found:
                continue
            missing = tuple(f for f in names if f not in found)
            yield _Header(
                last, line, found, missing, len(found) / len(names), tuple(l for l, _ in labels), first_index=index
            )


def _rank(header: _Header) -> tuple[float, bool]:
    """Most fields found; on a tie a one-row header (a title or preamble line above a
    header is not its first row)."""
    return header.score, header.row_index == header.first_index


def _find_header(table: Table, layout: Layout) -> _Header | None:
    best: _Header | None = None
    for header in _candidates(table, layout):
        if len(header.found) < 3 or header.score < 0.5:
            continue
        if best is None or _rank(header) > _rank(best):
            best = header
    return best


def sniff(table: Table, layouts: Mapping[str, Layout]) -> tuple[Layout, _Header] | None:
    """The layout whose header fits the file best, or None."""
    best: tuple[Layout, _Header] | None = None
    for layout in layouts.values():
        header = _find_header(table, layout)
        if header is not None and (best is None or header.score > best[1].score):
            best = (layout, header)
    return best


def closest(table: Table, layouts: Mapping[str, Layout]) -> tuple[Layout, _Header] | None:
    """The layout and the row that come nearest to a header when none fits: most of the
    layout's required columns found."""
    best: tuple[Layout, _Header] | None = None

    def rank(header: _Header) -> tuple[int, bool]:
        # On a tie a one-row header: a preamble line above the labels is not their first row.
        return len(header.found), header.row_index == header.first_index

    for layout in layouts.values():
        for header in _candidates(table, layout):
            if best is None or rank(header) > rank(best[1]):
                best = (layout, header)
    return best


def _missing_names(layout: Layout, missing: Iterable[str]) -> str:
    return "、".join(f"「{layout.columns[f][0]}」" for f in missing)


def sniff_account(table: Table, layouts: Mapping[str, Layout]) -> str | None:
    """The account number a file is a statement of, read cheaply (no row is checked):
    from the first row's account column or from the preamble; None if not a statement."""
    found = sniff(table, layouts)
    if found is None:
        return None
    layout, header = found
    if "account" in header.found:
        index = header.found["account"]
        for _, cells in table.rows[header.row_index + 1:]:
            if index < len(cells) and cells[index]:
                return cells[index]
        return None
    value = _preamble(table, layout, header).get("account", ("", 0, 0))[0]
    return value or None


_COLON = re.compile(r"[:：]")

#: The longest preamble label looked for at the end of a value (characters, padding included).
_LONGEST_LABEL = 64


def _split_pairs(cell: str, known: frozenset[str]) -> list[tuple[str, str]]:
    """A preamble cell as (label, value) pairs: ``账　　号：5005…　　户　　名：某某`` is two
    pairs. Labels may be padded inside with any whitespace; where a value and the next
    label are only separated by spaces, the longest known label at the end wins, else the
    last run of text after two or more spaces (or a full-width one)."""
    parts = _COLON.split(cell)
    if len(parts) == 1:
        return [(cell.strip(), "")]
    pairs: list[tuple[str, str]] = []
    label = parts[0].strip()
    for middle in parts[1:-1]:
        value, next_label = _value_then_label(middle, known)
        pairs.append((label, value))
        label = next_label
    pairs.append((label, parts[-1].strip()))
    return pairs


def _value_then_label(text: str, known: frozenset[str]) -> tuple[str, str]:
    text = text.strip()
    best = -1
    # Labels are short: only the last few characters can be the next label (this also
    # keeps a long cell from costing time quadratic in its length).
    for start in range(max(0, len(text) - _LONGEST_LABEL), len(text)):
        if start and not (text[start - 1].isspace() or text[start - 1] == "\u3000"):
            continue
        if label_key(text[start:]) in known:
            best = start
            break
    if best < 0:
        pieces = re.split(r"(?:\s{2,}|\u3000+)", text)
        if len(pieces) < 2:
            return text, ""
        return text[: len(text) - len(pieces[-1])].strip(), pieces[-1].strip()
    return text[:best].strip(), text[best:].strip()


def _preamble(table: Table, layout: Layout, header: _Header) -> dict[str, tuple[str, int, int]]:
    """Preamble field -> (value, row, column index), from the rows above the header.

    A label and its value may share a cell (``账　　号：5005…``, several pairs to a cell) or
    sit in adjacent cells (``期初余额 | 1,000.00``); labels are compared as
    :func:`~zhubaodai.importers.config.label_key` does (inner spaces, brackets, units)."""
    return _labelled_values(layout, table.rows[: header.first_index], {})


def _labelled_values(
    layout: Layout, rows: Iterable[tuple[int, tuple[str, ...]]], found: Mapping[str, tuple[str, int, int]]
) -> dict[str, tuple[str, int, int]]:
    """The layout's preamble fields among ``rows``, besides those already ``found``: the rows
    above the header, or the totals line a bank prints below the rows (交通银行's
    ``借方交易笔数: | 5 | 借方交易金额: | …`` after the last transaction)."""
    wanted = {fld: tuple(label_key(n) for n in names) for fld, names in layout.preamble.items()}
    known = frozenset(k for keys in wanted.values() for k in keys)
    found = dict(found)
    for line, cells in rows:
        for i, cell in enumerate(cells):
            if not cell:
                continue
            for label, value in _split_pairs(cell, known):
                key = label_key(label)
                for fld, labels in wanted.items():
                    if fld in found or key not in labels:
                        continue
                    at = i
                    if not value:
                        # The value is in the next filled cell of the row.
                        at = next((j for j in range(i + 1, len(cells)) if cells[j]), i)
                        value = cells[at] if at != i else ""
                    found[fld] = (value.strip(), line, at)
    return found


def _label(layout: Layout, fld: str, table_header: tuple[str, ...], index: int) -> str:
    name = table_header[index] if index < len(table_header) else layout.columns[fld][0]
    return f"{column_letter(index)} 列（{name}）"


def read_statement(path: str | Path, layouts: Mapping[str, Layout]) -> Statement:
    """Read and check a statement file with the best-fitting layout; raises
    :class:`StatementError` (never anything else) when it cannot be imported."""
    table = read_table(path)
    return parse_table(table, layouts)


def parse_table(table: Table, layouts: Mapping[str, Layout], *, today: datetime.date | None = None) -> Statement:
    """Check a table against the layouts; ``today`` (default: the real one) is the latest
    date a row may carry."""
    path = table.path
    found = sniff(table, layouts)
    if found is None:
        known = "；".join(f"{l.bank}「{l.title}」" for l in layouts.values())
        near = closest(table, layouts)
        hint = ""
        if near is not None and len(near[1].found) >= 2:
            layout, header = near
            required = [f for f in header.missing if f not in layout.optional]
            hint = (
                f"最接近的是{layout.bank}「{layout.title}」（第 {header.line} 行），"
                f"缺少列 {_missing_names(layout, required or header.missing)}。"
            )
        raise StatementError(
            path, f"没有找到对账单表头（前 {HEADER_SEARCH_ROWS} 行中没有已配置版式的列名）。{hint}已配置的版式：{known}"
        )
    layout, header = found
    header_cells = header.labels
    required_missing = [f for f in header.missing if f not in layout.optional]
    if required_missing:
        raise StatementError(
            path, f"缺少列 {_missing_names(layout, required_missing)}（{layout.bank}「{layout.title}」版式所需）",
            row=header.line, column="（表头）",
        )
    cols = header.found

    def label(fld: str) -> str:
        return _label(layout, fld, header_cells, cols[fld])

    getters: dict[str, Callable[[tuple[str, ...]], object]] = {}
    descriptors: dict[str, csvbase.Column] = {}
    for fld in cols:
        if fld in ("debit", "credit"):
            descriptors[fld] = Money(cols[fld])
        elif fld in ("amount", "balance"):
            descriptors[fld] = Money(cols[fld], empty=None)
        elif fld == "date":
            descriptors[fld] = Day(cols[fld], formats=layout.date_formats)
        else:
            descriptors[fld] = Text(cols[fld])
    for fld, descriptor in descriptors.items():
        getters[fld] = descriptor.getter(None)

    # The preamble: account, opening balance, totals and counts.
    pre = _preamble(table, layout, header)
    account_at: tuple[int, str]
    if "account" in cols:
        account = ""
        account_at = (header.line, label("account"))
    elif "account" in pre:
        value, line, index = pre["account"]
        account = value
        account_at = (line, f"{column_letter(index)} 列（{PREAMBLE_FIELDS['account']}）")
        if not account_key(account):
            raise StatementError(path, "表头前的说明中账号为空", row=line, column=account_at[1])
    else:
        labels = "、".join(layout.preamble.get("account", ()))
        where = f"，明细中也没有「{layout.columns['account'][0]}」列" if "account" in layout.columns else ""
        raise StatementError(
            path, f"表头前的说明中没有找到账号（{labels}）{where}：无法确认这是哪个账户的对账单，请导出带账号的明细",
            row=header.line,
        )
    account_name = pre["account_name"][0] if "account_name" in pre else ""

    latest = today or datetime.date.today()
    rows: list[Row] = []
    serials: dict[str, int] = {}
    width = len(header_cells)
    below: tuple[tuple[int, tuple[str, ...]], ...] = ()
    for index, (line, cells) in enumerate(table.rows[header.row_index + 1:], header.row_index + 1):
        if not any(cells):
            continue
        first = next(c for c in cells if c)
        if layout.footer and any(first.startswith(m) for m in layout.footer):
            below = table.rows[index:]
            break
        cells = cells + ("",) * max(0, width - len(cells))
        values: dict[str, object] = {}
        for fld, getter in getters.items():
            try:
                values[fld] = getter(cells)
            except (ValueError, IndexError) as exc:
                raise StatementError(path, _reason(exc), row=line, column=label(fld)) from None
        if "account" in cols:
            row_account = str(values["account"])
            if not account_key(row_account):
                raise StatementError(path, "账号为空", row=line, column=label("account"))
            if not account:
                account, account_at = row_account, (line, label("account"))
                account_name = str(values.get("account_name", "")) or account_name
            elif account_key(row_account) != account_key(account):
                raise StatementError(
                    path,
                    f"账号 {row_account} 与本对账单第 {account_at[0]} 行的账号 {account} 不同：一份对账单只能是一个账户的",
                    row=line,
                    column=label("account"),
                )
        if "currency" in cols:
            currency = str(values["currency"])
            if currency and header_key(currency) not in CNY_MARKS:
                raise StatementError(path, f"币种「{currency}」不是人民币：专户只记人民币", row=line, column=label("currency"))
        amount = _signed_amount(path, layout, values, line, label)
        row_date = values["date"]
        assert isinstance(row_date, datetime.date)
        if row_date > latest:
            raise StatementError(
                path, f"日期 {row_date} 晚于今天（{latest}）：对账单不会有未来的交易；请检查文件或本机日期",
                row=line, column=label("date"),
            )
        side = _by_direction(path, layout, values, amount, account, line, label)
        serial = str(values.get("serial", ""))
        if "serial" in cols:
            if not serial:
                raise StatementError(path, "流水号为空，无法防止重复导入", row=line, column=label("serial"))
            if serial in serials:
                raise StatementError(
                    path, f"流水号 {serial} 与第 {serials[serial]} 行重复", row=line, column=label("serial")
                )
            serials[serial] = line
        rows.append(
            Row(
                line=line,
                date=values["date"],  # type: ignore[arg-type]
                amount=amount,
                balance=values["balance"],  # type: ignore[arg-type]
                serial=serial,
                counterparty=side.get("counterparty", str(values.get("counterparty", ""))),
                counterparty_account=side.get("counterparty_account", str(values.get("counterparty_account", ""))),
                counterparty_bank=side.get("counterparty_bank", str(values.get("counterparty_bank", ""))),
                summary=str(values.get("summary", "")),
                remark=str(values.get("remark", "")),
            )
        )
    if not rows:
        raise StatementError(path, "对账单没有交易明细（表头之后没有数据行）", row=header.line)
    if "account" in cols and "account" in pre and account_key(pre["account"][0]) != account_key(account):
        value, line, index = pre["account"]
        raise StatementError(
            path, f"表头前的账号 {value} 与明细中的本方账号 {account}（第 {account_at[0]} 行）不同",
            row=line, column=f"{column_letter(index)} 列（{PREAMBLE_FIELDS['account']}）",
        )
    if below:
        # Totals printed below the rows are checked like those above the header.
        pre = _labelled_values(layout, below, pre)
    rows = _in_date_order(path, rows, label("date"))
    _check_chain(path, rows, label("balance"))
    opening = rows[0].balance - rows[0].amount
    _check_preamble(path, layout, pre, rows, opening)
    composite = "serial" not in cols
    if composite:
        rows = _composite_serials(rows)
    return Statement(
        path=path,
        kind=table.kind,
        encoding=table.encoding,
        layout=layout,
        account=account,
        account_name=account_name,
        account_at=account_at,
        header_row=header.line,
        rows=tuple(rows),
        opening_balance=opening,
        balance_label=label("balance"),
        composite_serial=composite,
    )


def _by_direction(
    path: str, layout: Layout, values: Mapping[str, object], amount: Decimal, account: str, line: int,
    label: Callable[[str], str],
) -> dict[str, str]:
    """Where payer and payee are separate column groups, the counterparty is the payer on a
    credit and the payee on a debit; the other side is this account, and where its number
    is printed it must be this statement's."""
    if not layout.by_direction:
        return {}
    credit = amount > 0
    out = {}
    for field, (payer, payee) in BY_DIRECTION.items():
        source = payer if credit else payee
        out[field] = str(values.get(source, ""))
    own = "payee_account" if credit else "payer_account"
    printed = str(values.get(own, ""))
    if printed and account and account_key(printed) != account_key(account):
        raise StatementError(
            path,
            f"{'收入' if credit else '支出'}的{'收款人' if credit else '付款人'}账号 {printed} 不是本对账单的账号 {account}："
            "付款人与收款人列可能错位",
            row=line, column=label(own),
        )
    return out


def _reason(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, IndexError):
        return "该行缺少此列"
    return text


def _signed_amount(
    path: str, layout: Layout, values: Mapping[str, object], line: int, label: Callable[[str], str]
) -> Decimal:
    if not layout.signed:
        debit, credit = values["debit"], values["credit"]
        assert isinstance(debit, Decimal) and isinstance(credit, Decimal)
        if debit < 0 or credit < 0:
            fld = "debit" if debit < 0 else "credit"
            raise StatementError(path, "发生额不应为负数", row=line, column=label(fld))
        if debit and credit:
            raise StatementError(
                path, f"借方 {yuan(debit)} 与贷方 {yuan(credit)} 同时有发生额：一行只能是一笔收入或支出", row=line,
                column=label("credit"),
            )
        if not debit and not credit:
            raise StatementError(path, "借方与贷方发生额都为空或 0", row=line, column=label("debit"))
        if "direction" in values:
            # Beside two amount columns the flag is a check: it names the column the amount is in.
            side = _flag(path, layout, values, line, label)
            if (side == "debit") != bool(debit):
                printed = label("debit" if debit else "credit")
                raise StatementError(
                    path, f"借贷标志「{values['direction']}」与发生额所在的列（{printed}）不一致：无法判断这一笔是收入还是支出",
                    row=line, column=label("direction"),
                )
        return credit - debit  # type: ignore[operator]
    amount = values["amount"]
    assert isinstance(amount, Decimal)
    if "direction" in values:
        amount = -abs(amount) if _flag(path, layout, values, line, label) == "debit" else abs(amount)
    if not amount:
        raise StatementError(path, "发生额为 0", row=line, column=label("amount"))
    return amount


def _flag(
    path: str, layout: Layout, values: Mapping[str, object], line: int, label: Callable[[str], str]
) -> str:
    """The side a row's 借贷标志 names: "debit" or "credit"; anything else is an error."""
    mark = header_key(str(values["direction"]))
    if mark in layout.debit_marks:
        return "debit"
    if mark in layout.credit_marks:
        return "credit"
    marks = "、".join(f"「{m}」" for m in (*layout.debit_marks, *layout.credit_marks))
    raise StatementError(
        path, f"无法识别的借贷标志「{values['direction']}」（本版式只认 {marks}）：无法判断这一笔是收入还是支出",
        row=line, column=label("direction"),
    )


def _in_date_order(path: str, rows: list[Row], date_label: str) -> list[Row]:
    """Rows oldest first. Exports list either way; when every row has the same date the
    running balance tells the order."""
    descending = rows[0].date > rows[-1].date
    if rows[0].date == rows[-1].date and len(rows) > 1:
        descending = not _chains(rows) and _chains(rows[::-1])
    if descending:
        rows = rows[::-1]
    for before, after in zip(rows, rows[1:]):
        if after.date < before.date:
            raise StatementError(
                path, f"日期 {after.date} 早于上一行（第 {before.line} 行）的 {before.date}：明细应按时间顺序排列",
                row=after.line, column=date_label,
            )
    return rows


def _chains(rows: list[Row]) -> bool:
    return all(a.balance + b.amount == b.balance for a, b in zip(rows, rows[1:]))


def _check_chain(path: str, rows: list[Row], balance_label: str) -> None:
    for before, after in zip(rows, rows[1:]):
        if before.balance + after.amount != after.balance:
            raise StatementError(
                path,
                f"余额不连续：上一笔（第 {before.line} 行）余额 {yuan(before.balance)} "
                f"{'+' if after.amount > 0 else '−'} 本笔发生额 {yuan(abs(after.amount))} "
                f"= {yuan(before.balance + after.amount)}，而本行余额为 {yuan(after.balance)}"
                "（对账单缺行、多行或金额有误）",
                row=after.line,
                column=balance_label,
            )


def _check_preamble(
    path: str, layout: Layout, pre: Mapping[str, tuple[str, int, int]], rows: list[Row], opening: Decimal
) -> None:
    def number(fld: str) -> tuple[Decimal, int, str] | None:
        if fld not in pre:
            return None
        value, line, index = pre[fld]
        where = f"{column_letter(index)} 列（{PREAMBLE_FIELDS[fld]}）"
        try:
            if fld.endswith("count"):
                text = unicodedata.normalize("NFKC", value).replace("笔", "").strip()
                if not text.isdigit():
                    raise ValueError(f"不是有效的笔数：{value!r}")
                return Decimal(int(text)), line, where
            return Money(0, empty=None).parse(value), line, where
        except ValueError as exc:
            raise StatementError(path, str(exc), row=line, column=where) from None

    debits = [r for r in rows if r.amount < 0]
    credits = [r for r in rows if r.amount > 0]
    checks = (
        ("opening_balance", opening, "期初余额与第一笔明细倒推的余额"),
        ("closing_balance", rows[-1].balance, "期末余额与最后一笔明细的余额"),
        ("debit_total", -sum((r.amount for r in debits), ZERO), "借方发生总额与明细合计"),
        ("credit_total", sum((r.amount for r in credits), ZERO), "贷方发生总额与明细合计"),
        ("debit_count", Decimal(len(debits)), "借方发生笔数与明细笔数"),
        ("credit_count", Decimal(len(credits)), "贷方发生笔数与明细笔数"),
        ("count", Decimal(len(rows)), "总笔数与明细笔数"),
    )
    for fld, actual, what in checks:
        got = number(fld)
        if got is None:
            continue
        stated, line, where = got
        if stated != actual:
            show = (lambda d: f"{int(d)} 笔") if fld.endswith("count") else (lambda d: f"{yuan(d)} 元")
            raise StatementError(
                path, f"{what}不符：说明中为 {show(stated)}，明细为 {show(actual)}（对账单不完整或有误）",
                row=line, column=where,
            )


def _composite_serials(rows: Iterable[Row]) -> list[Row]:
    """Where a bank gives no serial number: 日期/金额/余额/当日同值序号, documented in
    docs/importing.md (two rows can share date, amount and even balance; the running count
    of such rows within the day tells them apart)."""
    seen: dict[tuple[datetime.date, Decimal, Decimal], int] = {}
    out = []
    for row in rows:
        key = (row.date, row.amount, row.balance)
        seen[key] = seen.get(key, 0) + 1
        serial = f"{row.date:%Y%m%d}/{row.amount}/{row.balance}/{seen[key]}"
        out.append(dataclasses.replace(row, serial=serial))
    return out

