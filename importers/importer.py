"""The beangulp importer of one pool's special account statements (CLI and Fava alike).

One :class:`PoolImporter` per pool import configuration (``importers/pools/*.yaml``)::

    from zhubaodai.importers.importer import PoolImporter
    CONFIG = [PoolImporter("importers/pools/cqgx.yaml")]

* ``identify``: a .csv/.xls/.xlsx whose header fits a configured layout and whose account
  number is the pool's special account;
* ``account``: the pool's parent account (``Assets:CQGX:Pool``), where the statement's
  balance is asserted and under which the documents are archived;
* ``extract``: the entries of :func:`zhubaodai.importers.classify.build_entries`, rows
  already in the ledger (by serial number) left out. beangulp passes the existing ledger's
  entries; where it passes none (``beangulp.testing``), the ledger named in the pool
  configuration is loaded, so classification always sees the register. Either way the
  figures come from the plugin's analysis of that load, found in its options map or by its
  entries (:func:`zhubaodai.core.engine.result_of`); the engine runs here only where there is
  none (no plugin line, other rules, a cached load, or beangulp's ``extract``, which drops
  the options map: then once for all the files it passes the same entries);
* ``deduplicate``: marks entries whose serial number (or balance assertion) the given
  entries already hold, beangulp's ``__duplicate__`` (Fava leaves those unticked).

Under Fava (``fava=True``) only files inside the ledger's ``import-dirs`` are read:
Fava's ``/api/extract`` takes any path, so ``identify``, ``date`` and ``extract`` first
check the file's real path against the import folders of the ledger Fava serves
(:func:`fava_import_dirs`) and refuse, unread, anything outside them.

Errors are :class:`~zhubaodai.importers.config.ImportFailure` with a Chinese message. Fava
would show an exception with its traceback, so with ``fava=True`` a failed extract returns
one ``note`` carrying the message instead, already marked as a duplicate so that Fava does
not save it unless the user ticks it. Fava saves what it shows as JSON, so with ``fava=True``
no metadata is a date or an amount (``period_end`` is left to the engine's default, which
is the same day; ``bank_share`` is text, which the engine reads) and no ``open`` is
emitted (Fava cannot save one: the unidentified accounts must already be open).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import beangulp
from beancount.core import data
from beancount.core.data import Directive

from zhubaodai.core.loading import load_uncached
from zhubaodai.core.rules import Rulebook
from zhubaodai.core.rules import RulesError
from zhubaodai.core.rules import load_rules
from zhubaodai.importers.classify import Extraction
from zhubaodai.importers.classify import Ledger
from zhubaodai.importers.classify import SERIAL
from zhubaodai.importers.classify import build_entries
from zhubaodai.importers.classify import existing_balances
from zhubaodai.importers.classify import existing_serials
from zhubaodai.importers.config import ImportFailure
from zhubaodai.importers.config import PoolConfig
from zhubaodai.importers.config import account_key
from zhubaodai.importers.config import load_pool_config
from zhubaodai.importers.statement import SUFFIXES
from zhubaodai.importers.statement import Statement
from zhubaodai.importers.statement import StatementError
from zhubaodai.importers.statement import Table
from zhubaodai.importers.statement import parse_table
from zhubaodai.importers.statement import read_table
from zhubaodai.importers.statement import sniff_account

DUPLICATE = "__duplicate__"

#: Beancount errors that mean the ledger was not read in full (deduplication would miss).
_FATAL_LEDGER_ERRORS = {"ParserError", "ParserSyntaxError", "LexerError", "LoadError"}

#: The entries beangulp's ``extract`` last passed, as a :class:`Ledger` (one slot). That
#: command hands every file the same entries and has dropped the load's options map, with
#: which the plugin's analysis goes (the engine holds recent ones by weak reference only):
#: analysed once here then, not once per file. Fava keeps its options map (the analysis
#: is found by the entries), so its importers do not use this.
_LAST_EXISTING: list[tuple[Sequence[Directive], int, Ledger]] = []


def fava_import_dirs(existing: Sequence[Directive] | None = None) -> tuple[Path, ...] | None:
    """The import folders (``import-dirs``) of the ledger Fava is serving, real paths; None
    when that is not known. Inside a Fava request they are Fava's own (its ledger's options,
    resolved as Fava resolves them); otherwise from the ledger's ``fava-option`` entries in
    ``existing`` (a relative folder taken from the file that holds the option)."""
    try:
        from flask import g
        from flask import has_app_context
    except ImportError:  # pragma: no cover - Fava brings Flask
        has_app_context = None  # type: ignore[assignment]
    if has_app_context is not None and has_app_context():
        ledger = getattr(g, "ledger", None)
        if ledger is not None:
            return tuple(Path(os.path.realpath(ledger.join_path(d))) for d in ledger.fava_options.import_dirs)
    if existing is None:
        return None
    dirs: list[Path] = []
    for entry in existing:
        if not (isinstance(entry, data.Custom) and entry.type == "fava-option" and len(entry.values) >= 2):
            continue
        if entry.values[0].value != "import-dirs":
            continue
        base = Path(str(entry.meta.get("filename", ""))).parent
        dirs.append(Path(os.path.realpath(base / str(entry.values[1].value))))
    return tuple(dirs) if dirs else None


def outside_import_dirs(filepath: str | Path, dirs: Sequence[Path] | None) -> str | None:
    """Why Fava may not read this file (a Chinese message), or None if it may: its real
    path (symbolic links followed) must lie inside one of the import folders."""
    if dirs is None:
        return None
    real = Path(os.path.realpath(filepath))
    for folder in dirs:
        if real == folder or folder in real.parents:
            return None
    shown = "、".join(str(d) for d in dirs) or "（账本没有配置 import-dirs）"
    return f"文件 {filepath} 不在账本配置的导入目录（import-dirs：{shown}）中，未读取；请把对账单放进导入目录"


@lru_cache(maxsize=32)
def _table(path: str, mtime_ns: int, size: int) -> Table:
    return read_table(path)


def table_of(path: str | Path) -> Table:
    """A statement's cells, read once per version of the file."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise StatementError(path, f"无法读取文件：{exc.strerror or exc}") from None
    return _table(str(path), st.st_mtime_ns, st.st_size)


def load_ledger(path: str | Path) -> Ledger:
    """A ledger's entries (plugins run) with the load's options map, where the plugin left
    its analysis; raises :class:`ImportFailure` if it cannot be read in full."""
    path = Path(path)
    if not path.exists():
        raise ImportFailure(f"找不到账本文件 {path}")
    entries, errors, options = load_uncached(str(path))
    fatal = [e for e in errors if type(e).__name__ in _FATAL_LEDGER_ERRORS]
    if fatal:
        first = fatal[0]
        where = f"{first.source.get('filename')}:{first.source.get('lineno')}" if first.source else str(path)
        raise ImportFailure(
            f"账本 {path} 未能完整读取（{len(fatal)} 处语法或文件错误，如 {where}：{first.message}），"
            "无法可靠地去重；请先用 bean-check 修正"
        )
    return Ledger(entries, options)


class PoolImporter(beangulp.Importer):
    """Statements of one pool's special account, as declared in its import configuration."""

    def __init__(self, config: PoolConfig | str | Path, *, fava: bool = False) -> None:
        self.config = config if isinstance(config, PoolConfig) else load_pool_config(config)
        self.fava = fava
        self._rulebook: Rulebook | None = None

    # beangulp.Importer -----------------------------------------------------------------

    @property
    def name(self) -> str:
        return f"{self.config.program} 专户对账单"

    def identify(self, filepath: str) -> bool:
        try:
            if self.fava and outside_import_dirs(filepath, fava_import_dirs()):
                return False
            return self.sniff_account(filepath) == self.config.account_key
        except Exception:  # identify never fails: Fava calls it on every file
            return False

    def account(self, filepath: str) -> data.Account:
        try:
            return self.rulebook.programs[self.config.program].accounts["pool"]
        except (ImportFailure, KeyError):
            # Only for archiving and display; extract() reports the configuration error.
            return f"Assets:{self.config.program}:Pool"

    def date(self, filepath: str) -> datetime.date | None:
        try:
            if self.fava and outside_import_dirs(filepath, fava_import_dirs()):
                return None
            return self.statement(filepath).last_date
        except Exception:
            return None

    def extract(self, filepath: str, existing: data.Entries) -> data.Entries:
        if self.fava:
            refused = outside_import_dirs(filepath, fava_import_dirs(existing))
            if refused:  # before anything reads the file
                return [self._error_note(filepath, ImportFailure(refused))]
        try:
            # beangulp passes [] when it has no ledger: use the configured one then.
            return self.extract_statement(filepath, existing or None).entries
        except Exception as exc:
            if not self.fava:
                raise
            return [self._error_note(filepath, exc)]

    def sort(self, entries: data.Entries, reverse: bool = False) -> None:
        """By date, then directive type, then the statement's own chronological order
        (a statement listed newest first has its line numbers the other way round)."""
        entries.sort(key=lambda e: (e.date, data.SORT_ORDER.get(type(e), 0)), reverse=reverse)

    def deduplicate(self, entries: data.Entries, existing: data.Entries) -> None:
        pool = self.account("")
        serials = existing_serials(existing, pool)
        balances = existing_balances(existing, pool)
        for entry in entries:
            if isinstance(entry, data.Transaction) and str(entry.meta.get(SERIAL)) in serials:
                entry.meta[DUPLICATE] = True
            elif isinstance(entry, data.Balance) and entry.account == pool:
                if (entry.date, entry.amount.number) in balances:
                    entry.meta[DUPLICATE] = True

    # The project's own interface ---------------------------------------------------------

    @property
    def rulebook(self) -> Rulebook:
        if self._rulebook is None:
            try:
                self._rulebook = load_rules(self.config.rules_path)
            except RulesError as exc:
                raise ImportFailure(str(exc)) from None
        return self._rulebook

    def sniff_account(self, filepath: str | Path) -> str | None:
        """The account number of a statement file (normalised), or None."""
        if not str(filepath).lower().endswith(SUFFIXES):
            return None
        found = sniff_account(table_of(filepath), self.config.layouts)
        return account_key(found) if found else None

    def statement(self, filepath: str | Path) -> Statement:
        """The checked statement; :class:`StatementError` if it cannot be imported, also
        when it is another account's."""
        statement = parse_table(table_of(filepath), self.config.layouts)
        if account_key(statement.account) != self.config.account_key:
            row, column = statement.account_at
            raise StatementError(
                filepath,
                f"账号 {statement.account} 不是项目 {self.config.program} 的专户账号 {self.config.account}"
                f"（见导入配置 {self.config.path}）：这是另一个账户的对账单",
                row=row,
                column=column,
            )
        return statement

    def existing_or_configured(self, existing: Sequence[Directive] | Ledger | None) -> Ledger:
        """``existing`` if given (entries from a load, as beangulp and Fava pass them: the
        plugin's analysis of that load is found by them), else the ledger named in the
        pool configuration, loaded."""
        if isinstance(existing, Ledger):
            return existing
        if existing is not None:
            if self.fava:
                return Ledger(existing)
            for entries, size, ledger in _LAST_EXISTING:
                if entries is existing and size == len(existing):
                    return ledger
            ledger = Ledger(existing)
            _LAST_EXISTING[:] = [(existing, len(existing), ledger)]
            return ledger
        if self.config.ledger_path is None:
            raise ImportFailure(
                f"没有账本可以核对：请指定账本（--ledger），或在导入配置 {self.config.path} 中写 ledger: 账本路径；"
                "没有账本就无法去重，也无法识别企业、待缴助保金和积数"
            )
        return load_ledger(self.config.ledger_path)

    def extract_statement(self, filepath: str | Path, existing: Sequence[Directive] | Ledger | None) -> Extraction:
        """Read, check and classify a statement against the existing entries (a
        :class:`Ledger` carries the analysis of its load and the statements added to it)."""
        statement = self.statement(filepath)
        ledger = self.existing_or_configured(existing)
        rulebook = ledger.loaded_rulebook(self.config.rules_path) or self.rulebook
        return build_entries(statement, self.config, rulebook, ledger, for_fava=self.fava)

    def _error_note(self, filepath: str, exc: Exception) -> data.Note:
        if isinstance(exc, ImportFailure):
            message = str(exc)
        else:
            message = f"导入程序内部错误（{type(exc).__name__}：{exc}），请把此文件交给维护人员"
        meta = data.new_metadata(filepath, 0)
        meta[DUPLICATE] = True
        return data.Note(meta, datetime.date.today(), self.account(filepath), f"导入失败，未导入任何分录：{message}", frozenset(), frozenset())
