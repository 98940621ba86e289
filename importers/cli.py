"""The import command: ``python -m zhubaodai.importers identify|extract|archive`` (and ``zbd import``).

beangulp's ``Ingest`` commands, re-done for the pool's users: messages in Chinese, no
traceback, and nothing written unless every statement imports cleanly::

    python -m zhubaodai.importers extract importers/samples/ccb-2026Q1.csv \\
        --ledger ledger/main.beancount -o ledger/cqgx/import-2026Q1.beancount

* ``extract`` reads every statement, checks it, leaves out rows the ledger already has (by
  serial number), classifies the rest with the pool's rules and prints the entries to
  stdout, or writes them to a new file (``-o``; an existing file is only replaced with
  ``--force``). Statements are taken in date order and each sees the rows of the ones
  before it, so a quarter of monthly statements, or overlapping ones, import once.
* ``identify`` tells, for each file, which pool and layout it is, or why it is none.
* ``archive`` moves imported statements into a documents folder by account and date.

:func:`run_import` is the function behind ``extract`` (and ``zbd import``).
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import tempfile
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import TextIO

import click
from beancount.core import data
from beancount.core.data import Directive
from beancount.parser import printer

from zhubaodai.clitext import ChineseCommand
from zhubaodai.clitext import ChineseGroup
from zhubaodai.importers.classify import Extraction
from zhubaodai.importers.classify import Ledger
from zhubaodai.importers.config import ImportFailure
from zhubaodai.importers.config import Layout
from zhubaodai.importers.importer import PoolImporter
from zhubaodai.importers.importer import load_ledger
from zhubaodai.importers.importer import table_of
from zhubaodai.importers.statement import SUFFIXES
from zhubaodai.importers.statement import Statement
from zhubaodai.importers.statement import StatementError
from zhubaodai.importers.statement import parse_table
from zhubaodai.importers.statement import sniff

#: The pool import configurations shipped with the project.
POOLS_DIR = Path(__file__).with_name("pools")

#: Exit statuses (those of ``zbd``): done, an input cannot be used, an internal error.
EXIT_OK = 0
EXIT_INPUT = 2
EXIT_INTERNAL = 3
#: Interrupted (Ctrl-C): nothing written, as the shell reports a SIGINT.
EXIT_INTERRUPTED = 130

HEADER = (
    ";; 助保贷专户对账单导入结果（python -m zhubaodai.importers）：请审阅后再并入账本。\n"
    ";; 标记 ! 的分录记入了待查明账户，查明后请改记到正确的资金与来源账户。\n"
)


def default_configs() -> list[Path]:
    """The shipped pool configurations (importers/pools/*.yaml)."""
    return sorted(POOLS_DIR.glob("*.yaml"))


def load_importers(configs: Sequence[str | Path] | None = None, *, fava: bool = False) -> list[PoolImporter]:
    """One importer per pool configuration (default: the shipped ones)."""
    paths = [Path(c) for c in configs] if configs else default_configs()
    if not paths:
        raise ImportFailure(f"没有导入配置：请用 --config 指定，或在 {POOLS_DIR} 放置 *.yaml")
    importers = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.glob("*.yaml"))
            if not found:
                raise ImportFailure(f"目录 {path} 中没有导入配置（*.yaml）")
            importers.extend(PoolImporter(p, fava=fava) for p in found)
        else:
            importers.append(PoolImporter(path, fava=fava))
    accounts: dict[str, PoolImporter] = {}
    for imp in importers:
        other = accounts.get(imp.config.account_key)
        if other is not None:
            raise ImportFailure(
                f"导入配置 {other.config.path} 与 {imp.config.path} 配置了同一个专户账号 {imp.config.account}"
            )
        accounts[imp.config.account_key] = imp
    return importers


@dataclass(frozen=True)
class _Source:
    path: str
    explicit: bool


def _walk(sources: Iterable[str | Path]) -> list[_Source]:
    out = []
    for src in sources:
        path = Path(src)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if name.lower().endswith(SUFFIXES):
                        out.append(_Source(os.path.join(root, name), False))
        elif path.exists():
            out.append(_Source(str(path), True))
        else:
            raise ImportFailure(f"找不到文件 {path}")
    return out


def diagnose(path: str, importers: Sequence[PoolImporter]) -> StatementError:
    """Why no pool claims a file, as an error naming its row and column."""
    if not path.lower().endswith(SUFFIXES):
        return StatementError(path, "不是支持的对账单文件类型（.csv、.xls、.xlsx）")
    layouts: dict[str, Layout] = {}
    for imp in importers:
        layouts.update(imp.config.layouts)
    try:
        statement = parse_table(table_of(path), layouts)
    except StatementError as exc:
        return exc
    pools = "；".join(f"{imp.config.program}：{imp.config.account}" for imp in importers)
    row, column = statement.account_at
    return StatementError(
        path, f"账号 {statement.account} 不是任何已配置专户的账号（{pools}）：这是另一个账户的对账单", row=row, column=column
    )


def _recognisable(path: str, importers: Sequence[PoolImporter]) -> bool:
    try:
        table = table_of(path)
    except StatementError:
        return True
    return any(sniff(table, imp.config.layouts) for imp in importers)


def _claim(source: _Source, importers: Sequence[PoolImporter]) -> PoolImporter | None:
    """The importer of a file; raises when it is ambiguous or (given by name) unclaimed."""
    matched = [imp for imp in importers if imp.identify(source.path)]
    if len(matched) > 1:
        names = "、".join(imp.config.program for imp in matched)
        raise StatementError(source.path, f"同时符合多个专户配置（{names}）")
    if matched:
        return matched[0]
    if source.explicit or _recognisable(source.path, importers):
        raise diagnose(source.path, importers)
    return None


@dataclass(frozen=True)
class ImportResult:
    """What an import produced, file by file, in the order written."""

    extractions: tuple[tuple[PoolImporter, Extraction], ...]
    skipped_files: tuple[str, ...]

    @property
    def entries(self) -> list[Directive]:
        return [e for _, x in self.extractions for e in x.entries]


def extract_statements(
    sources: Sequence[str | Path],
    *,
    configs: Sequence[str | Path] | None = None,
    ledger: str | Path | None = None,
    importers: Sequence[PoolImporter] | None = None,
) -> ImportResult:
    """Extract every statement; raises :class:`ImportFailure` (every problem found, one
    per line) if any statement cannot be imported, so that nothing partial is written."""
    importers = list(importers) if importers is not None else load_importers(configs)
    problems: list[str] = []
    claimed: list[tuple[Statement, PoolImporter]] = []
    skipped: list[str] = []
    for source in _walk(sources):
        try:
            importer = _claim(source, importers)
            if importer is None:
                skipped.append(source.path)
                continue
            claimed.append((importer.statement(source.path), importer))
        except ImportFailure as exc:
            problems.append(str(exc))
    if problems:
        raise ImportFailure("\n".join(problems))
    seen_paths = set()
    for statement, _ in claimed:
        real = os.path.realpath(statement.path)
        if real in seen_paths:
            raise ImportFailure(f"文件 {statement.path} 指定了两次")
        seen_paths.add(real)
    claimed.sort(key=lambda c: (c[0].first_date, c[0].last_date, c[0].path))
    # One ledger per ledger file: loaded once (its plugin's analysis with it), each
    # statement sees the rows of those before it.
    ledgers: dict[str, Ledger] = {}
    results: list[tuple[PoolImporter, Extraction]] = []
    for statement, importer in claimed:
        try:
            if ledger is not None:
                key = str(Path(ledger).resolve())
            elif importer.config.ledger_path is not None:
                key = str(importer.config.ledger_path)
            else:
                importer.existing_or_configured(None)  # raises the Chinese explanation
                raise AssertionError("unreachable")
            if key not in ledgers:
                ledgers[key] = load_ledger(key)
            extraction = importer.extract_statement(statement.path, ledgers[key])
            importer.sort(extraction.entries)
            ledgers[key].add(extraction)
            results.append((importer, extraction))
        except ImportFailure as exc:
            problems.append(str(exc))
    if problems:
        raise ImportFailure("\n".join(problems))
    return ImportResult(tuple(results), tuple(skipped))


def describe(statement: Statement) -> str:
    layout = statement.layout
    encoding = f"，编码 {statement.encoding}" if statement.encoding else ""
    return (
        f"{layout.bank}「{layout.title}」（{statement.kind}{encoding}），账号 {statement.account}，"
        f"{statement.first_date} 至 {statement.last_date}，{len(statement.rows)} 笔"
    )


def render(result: ImportResult) -> str:
    """The entries as Beancount text, one section per statement."""
    parts = [HEADER]
    for importer, extraction in result.extractions:
        st = extraction.statement
        new = sum(1 for e in extraction.entries if isinstance(e, data.Transaction))
        parts.append(
            f"\n;; {st.path}：{importer.config.program}，{describe(st)}；"
            f"新增 {new} 笔（待查明 {extraction.suspense} 笔），跳过 {extraction.skipped} 笔已在账本中的流水\n\n"
        )
        for entry in extraction.entries:
            parts.append(printer.format_entry(entry))
            parts.append("\n")
    return "".join(parts)


def _write_new(path: Path, text: str, overwrite: bool) -> None:
    """Write ``text`` to ``path`` whole or not at all; never replace a file unless asked."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ImportFailure(f"输出目录 {directory} 不存在")
    if path.exists() and not overwrite:
        raise ImportFailure(f"输出文件 {path} 已存在，未写入任何内容；如确要替换，请加 --force")
    fd, tmp = tempfile.mkstemp(prefix=".zbd-import-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if the file appeared meanwhile
            os.unlink(tmp)
    except FileExistsError:
        os.unlink(tmp)
        raise ImportFailure(f"输出文件 {path} 已存在，未写入任何内容；如确要替换，请加 --force") from None
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def run_import(
    sources: Sequence[str | Path],
    *,
    configs: Sequence[str | Path] | None = None,
    ledger: str | Path | None = None,
    output: str | Path | None = None,
    overwrite: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Import statements: entries to ``output`` (a new file) or ``out`` (stdout), a summary
    and any error in Chinese to ``err``. Returns the exit status, as ``zbd`` uses them:
    0 done; 2 an input cannot be used (a statement, a configuration, the ledger, the
    output file), nothing written; 3 an internal error, nothing written. Never raises,
    never shows a traceback."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        if not sources:
            raise ImportFailure("请指定要导入的对账单文件或目录")
        if output is not None and Path(output).exists() and not overwrite:
            raise ImportFailure(f"输出文件 {output} 已存在，未写入任何内容；如确要替换，请加 --force")
        result = extract_statements(sources, configs=configs, ledger=ledger)
        text = render(result)
        if output is None:
            out.write(text)
        else:
            _write_new(Path(output), text, overwrite)
    except ImportFailure as exc:
        for line in str(exc).splitlines():
            err.write(f"错误：{line}\n")
        err.write("未写入任何内容。\n")
        return EXIT_INPUT
    except MemoryError:  # what the input asked for did not fit: bad input, not a bug
        err.write("错误：内存不足：对账单或账本过大，未写入任何内容。\n")
        return EXIT_INPUT
    except KeyboardInterrupt:  # the temporary output file is already removed
        err.write("已中断：未写入任何内容。\n")
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: say so plainly, without a traceback
        err.write(f"错误：导入程序内部错误（{type(exc).__name__}：{exc}），未写入任何内容；请把对账单交给维护人员。\n")
        return EXIT_INTERNAL
    for importer, extraction in result.extractions:
        st = extraction.statement
        new = sum(1 for e in extraction.entries if isinstance(e, data.Transaction))
        err.write(
            f"{st.path}：{importer.config.program} {describe(st)}；新增 {new} 笔"
            f"（待查明 {extraction.suspense} 笔），跳过 {extraction.skipped} 笔已在账本中的流水\n"
        )
    for path in result.skipped_files:
        err.write(f"{path}：不是已配置专户的对账单，已跳过\n")
    if output is not None:
        err.write(f"已写入 {output}\n")
    return EXIT_OK


# --------------------------------------------------------------------------------------
# Click commands.

_config_option = click.option(
    "--config",
    "-c",
    "configs",
    multiple=True,
    type=click.Path(),
    help="专户导入配置（YAML 文件或目录，可多次指定；默认 importers/pools/*.yaml）。",
)


_help_option = click.help_option("-h", "--help", help="显示本帮助并退出。")


def _force_option(help_text: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """``--force``, the one overwrite flag of every zbd command; ``--overwrite``, this
    command's old spelling, still works (hidden from --help) so that existing scripts do not
    break. The command sees one parameter, ``force``."""

    def decorate(function: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(function)
        def command(*args: Any, force: bool, overwrite: bool, **kwargs: Any) -> None:
            function(*args, force=force or overwrite, **kwargs)

        command = click.option("--overwrite", "overwrite", is_flag=True, hidden=True, help=help_text)(command)
        return click.option("--force", "force", is_flag=True, help=help_text)(command)

    return decorate


@click.command("extract", cls=ChineseCommand)
@_help_option
@click.argument("sources", nargs=-1, type=click.Path())
@_config_option
@click.option("--ledger", "-e", type=click.Path(dir_okay=False), help="现有账本（去重、识别企业、积数）；默认取导入配置中的 ledger。")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="写入新文件（默认输出到屏幕）。")
@_force_option("允许替换已存在的输出文件。")
def extract_command(sources: tuple[str, ...], configs: tuple[str, ...], ledger: str | None, output: str | None, force: bool) -> None:
    """导入对账单：检查、去重、分类，生成待审阅的分录。"""
    # A termination (kill, a CI timeout) is an interruption like Ctrl-C: the temporary
    # output file is removed and nothing is written.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        status = run_import(sources, configs=configs or None, ledger=ledger, output=output, overwrite=force)
    finally:
        signal.signal(signal.SIGTERM, previous)
    sys.exit(status)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@click.command("identify", cls=ChineseCommand)
@_help_option
@click.argument("sources", nargs=-1, type=click.Path())
@_config_option
def identify_command(sources: tuple[str, ...], configs: tuple[str, ...]) -> None:
    """识别对账单：属于哪个专户、哪种版式，或为什么不能导入。"""
    failed = False
    try:
        importers = load_importers(configs or None)
        files = _walk(sources)
    except ImportFailure as exc:
        click.echo(f"错误：{exc}", err=True)
        sys.exit(EXIT_INPUT)
    for source in files:
        try:
            importer = _claim(source, importers)
            if importer is None:
                click.echo(f"{source.path}：不是对账单，跳过")
                continue
            statement = importer.statement(source.path)
            click.echo(f"{source.path}：{importer.config.program} 专户，{describe(statement)}")
        except ImportFailure as exc:
            failed = True
            click.echo(f"错误：{exc}", err=True)
        except Exception as exc:
            failed = True
            click.echo(f"错误：{source.path}：导入程序内部错误（{type(exc).__name__}：{exc}）", err=True)
    sys.exit(EXIT_INPUT if failed else EXIT_OK)


@click.command("archive", cls=ChineseCommand)
@_help_option
@click.argument("sources", nargs=-1, type=click.Path())
@_config_option
@click.option("--destination", "-o", required=True, type=click.Path(file_okay=False), help="归档根目录（按账户与日期分目录）。")
@click.option("--dry-run", "-n", is_flag=True, help="只显示将移动到哪里。")
@_force_option("允许替换归档目录中的同名文件。")
def archive_command(sources: tuple[str, ...], configs: tuple[str, ...], destination: str, dry_run: bool, force: bool) -> None:
    """归档对账单：检查无误后移入 <目录>/<账户>/<日期>.<文件名>。"""
    from beangulp import archive

    moves: list[tuple[str, str]] = []
    try:
        importers = load_importers(configs or None)
        problems = []
        for source in _walk(sources):
            try:
                importer = _claim(source, importers)
                if importer is None:
                    continue
                importer.statement(source.path)  # only a statement that imports cleanly is filed
                target = os.path.join(destination, archive.filepath(importer, source.path))
                if any(t == target for _, t in moves):
                    raise StatementError(source.path, f"与另一文件归档到同一位置 {target}")
                if os.path.exists(target) and not force:
                    raise StatementError(source.path, f"归档位置 {target} 已有同名文件（如确要替换，请加 --force）")
                moves.append((source.path, target))
            except ImportFailure as exc:
                problems.append(str(exc))
        if problems:
            raise ImportFailure("\n".join(problems))
    except ImportFailure as exc:
        for line in str(exc).splitlines():
            click.echo(f"错误：{line}", err=True)
        click.echo("未移动任何文件。", err=True)
        sys.exit(EXIT_INPUT)
    for src, dst in moves:
        click.echo(f"{src} -> {dst}")
        if not dry_run:
            archive.move(src, dst)
    sys.exit(EXIT_OK)


@click.group("zhubaodai.importers", cls=ChineseGroup)
@_help_option
def cli() -> None:
    """助保贷专户对账单导入（identify 识别、extract 导入、archive 归档）。"""


cli.add_command(identify_command)
cli.add_command(extract_command)
cli.add_command(archive_command)

#: For ``zbd import``: the extract command under another name.
import_command = extract_command


def main() -> None:
    cli(prog_name="python -m zhubaodai.importers")
