"""The rule engine's analysis of the ledger Fava has loaded: one per load.

The Fava pages never read the books themselves. They read the analysis the ledger's own
plugin line made while Fava loaded the ledger (left in the load's options map)::

    plugin "zhubaodai.plugin" "{'rules': '../rules.yaml'}"

Only a ledger without that line (rules named by the extension's configuration
``custom "fava-extension" "zhubaodai.fava" "{'rules': 'rules.yaml'}"``), or one whose
plugin names other rules than the extension, is analysed here, once.

Fava reloads a changed ledger into a new entries list, and the plugin puts rules.yaml in
the ledger's ``include`` list so Fava also reloads when the rules change. What the pages
need of the analysis is therefore kept per ledger and keyed on the identity of that
entries list and the rules file's modification time: every page of one load reads one
engine run.
"""

from __future__ import annotations

import datetime
import gc
import os
import threading
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from beancount.core.data import Directive

from zhubaodai.core.engine import Analysis
from zhubaodai.core.engine import analyse
from zhubaodai.core.engine import result_of
from zhubaodai.core.rules import RulesError
from zhubaodai.core.rules import load_rules
from zhubaodai.fava.loanfacts import LoanIndex
from zhubaodai.fava.loanfacts import loan_index
from zhubaodai.plugin import ConfigError
from zhubaodai.plugin import parse_config
from zhubaodai.plugin import rules_path

PLUGIN = "zhubaodai.plugin"


class SetupError(Exception):
    """The pages cannot run the engine on this ledger; the message is for the reviewer."""


@dataclass
class LoadedAnalysis:
    """The engine's analysis of one load of the ledger, and what the pages index from it."""

    analysis: Analysis
    rules_path: str
    #: (filename, lineno) -> the entry there, to link a finding to its entry in Fava.
    positions: Mapping[tuple[str, int], Directive]
    #: Latest date of any entry (the "as of" date when no time filter is set).
    last_date: datetime.date | None
    _hashes: dict[int, str] = field(default_factory=dict)
    #: The pages' views of this load, by page and request scope (see zhubaodai.fava.page).
    views: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    _loans: LoanIndex | None = None
    _used: tuple[str, ...] | None = None

    def loans(self) -> LoanIndex:
        """Every loan's state as the register leaves it, in 贷款台账's order (built once
        per load, by :func:`after_load` while Fava loads)."""
        if self._loans is None:
            self._loans = loan_index(self.analysis)
        return self._loans

    def used_programs(self) -> tuple[str, ...]:
        """:meth:`Analysis.used_programs`, asked once per load (every page's scope needs it)."""
        if self._used is None:
            self._used = tuple(self.analysis.used_programs())
        return self._used

    def entry_at(self, filename: str | None, lineno: int | None) -> Directive | None:
        if filename is None or lineno is None:
            return None
        return self.positions.get((filename, lineno))

    def entry_hash(self, entry: Directive) -> str:
        """Fava's hash of ``entry`` (its context link), computed once per entry."""
        from fava.beans.funcs import hash_entry

        key = id(entry)
        found = self._hashes.get(key)
        if found is None:
            found = self._hashes[key] = hash_entry(entry)
        return found


def find_rules(options: Mapping[str, Any], extension_config: Any = None) -> str:
    """rules.yaml's path, from the extension's config or the ledger's plugin line."""
    if extension_config is not None:
        if not isinstance(extension_config, dict) or not isinstance(
            extension_config.get("rules"), str
        ):
            raise SetupError(
                "扩展配置应为字典，如 {'rules': '../rules.yaml'}："
                f"{extension_config!r}"
            )
        return rules_path(options, {"rules": extension_config["rules"]})
    for name, config in options.get("plugin") or ():
        if name == PLUGIN:
            try:
                return rules_path(options, parse_config(config))
            except ConfigError as exc:
                raise SetupError(str(exc)) from None
    raise SetupError(
        f'账本顶层文件没有启用规则引擎插件（plugin "{PLUGIN}" '
        "\"{'rules': '../rules.yaml'}\"），审阅页面无从得知 rules.yaml 在哪里"
    )


def build(entries: Sequence[Directive], options: Mapping[str, Any], path: str) -> LoadedAnalysis:
    """Index what the pages need of this load's analysis.

    The ledger's plugin has run the engine on this very load: its result is read, not
    recomputed (nor is rules.yaml read again). Only a ledger without the plugin line
    (rules named by the extension's configuration) or with other rules than the extension
    names is analysed here, once.
    """
    analysis = result_of(options, entries, rules_path=path)
    if analysis is None:
        try:
            rulebook = load_rules(path)
        except RulesError as exc:
            raise SetupError(str(exc)) from None
        except OSError as exc:
            raise SetupError(f"无法读取规则文件 {path}：{exc.strerror}") from None
        analysis = analyse(entries, rulebook, options)
    positions: dict[tuple[str, int], Directive] = {}
    wanted = {(f.filename, f.lineno) for f in analysis.findings}
    for entry in entries:
        meta = entry.meta
        key = (meta.get("filename"), meta.get("lineno"))
        if key in wanted:
            positions.setdefault(key, entry)
    last_date = entries[-1].date if entries else None
    return LoadedAnalysis(analysis, path, positions, last_date)


@dataclass
class _Slot:
    lock: threading.Lock = field(default_factory=threading.Lock)
    key: tuple[int, int] | None = None
    entries: object = None
    result: LoadedAnalysis | SetupError | None = None


_SLOTS: dict[int, _Slot] = {}
_SLOTS_LOCK = threading.Lock()


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def for_ledger(ledger: Any, extension_config: Any = None) -> LoadedAnalysis:
    """The analysis of ``ledger`` (a :class:`fava.core.FavaLedger`) as currently loaded.

    Raises :class:`SetupError` (in Chinese) when the engine cannot run.
    """
    with _SLOTS_LOCK:
        slot = _SLOTS.setdefault(id(ledger), _Slot())
    entries = ledger.all_entries
    options = ledger.options
    with slot.lock:
        path = find_rules(options, extension_config)
        key = (id(entries), _mtime(path))
        if slot.key != key or slot.entries is not entries or slot.result is None:
            try:
                result: LoadedAnalysis | SetupError = build(entries, options, path)
            except SetupError as exc:
                result = exc
            slot.key, slot.entries, slot.result = key, entries, result
        result = slot.result
    if isinstance(result, SetupError):
        raise result
    return result


#: The entries of the last load :func:`after_load` prepared.
_PREPARED: list[int] = [0]


def after_load(ledger: Any, extension_config: Any = None) -> bool:
    """What the review pages do once Fava has (re)loaded a ledger, whichever page's hook
    comes first (True when this call did it): index this load's analysis
    (:func:`for_ledger`; a ledger the engine cannot read is left for the pages to explain),
    build its loans' daily balances and the index 贷款台账 and 期限提醒 select from
    (:mod:`zhubaodai.fava.loanfacts`: one pass over the register), then settle the garbage
    collector.

    A load leaves millions of new long-lived objects (entries, Fava's indexes, the engine's
    events and records) and hardly any garbage cycles. Left alone, Python's collector walks
    all of them in a full collection soon after, in the middle of whatever page is being
    drawn (1.5 s at 10k transactions on the benchmark machine under load: the first review
    page's whole excess), and again whenever allocations add a quarter more. Walking them
    once here, while Fava loads, and freezing them (left out of later collections) makes
    every later collection cheap. The previous load's objects are unfrozen first, so its
    garbage cycles are collected by this walk, not kept."""
    entries = ledger.all_entries
    if _PREPARED[0] == id(entries):
        return False
    try:
        loaded = for_ledger(ledger, extension_config)
    except SetupError:
        pass
    else:
        if loaded.last_date is not None:  # the loans' daily balances, built once per analysis
            for code in loaded.analysis.rulebook.programs:
                loaded.analysis.outstanding(code, loaded.last_date)
        loaded.loans()
        loaded.used_programs()
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    _PREPARED[0] = id(entries)
    return True
