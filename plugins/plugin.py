"""Beancount plugin: run every 助保贷 rule on the ledger; breaches become Beancount errors.

Use it in the ledger's top file (Beancount ignores ``plugin`` lines in included files)::

    plugin "zhubaodai.plugin" "{'rules': '../rules.yaml'}"

Configuration (a Python literal, read with ``ast.literal_eval``):

* ``rules``: path of rules.yaml, relative to the ledger's top file (default
  ``rules.yaml`` beside it);
* ``strict``: also fail on warnings (soft rules, 原则上/一般), for a strict review.

Errors (hard rules) fail ``bean-check``, each carrying its entry (bean-check prints it,
Fava's error page links to it); warnings do not, and are shown by ``zbd check`` and the
Fava pages. Those read this run's :class:`~zhubaodai.core.engine.LoadResult`, which the plugin
leaves in the load's options map: one engine run per load, whichever face asked for it. The rules file and the working-day table
it names (calendar.yaml) are added to the ledger's ``include`` list, so a change to either
invalidates Beancount's cache and reloads Fava; so are the scanned letters the ledger
declares as evidence (:mod:`zhubaodai.checks.evidence`).
"""

from __future__ import annotations

import ast
import os
from collections.abc import Mapping
from typing import Any
from typing import NamedTuple

from beancount.core.data import Directive

from zhubaodai.core.engine import LoadResult
from zhubaodai.core.engine import OPTIONS_KEY
from zhubaodai.core.engine import analyse
from zhubaodai.core.engine import keep_result
from zhubaodai.core.findings import ERROR
from zhubaodai.core.rules import RulesError
from zhubaodai.core.rules import load_rules

__plugins__ = ("check",)


class ZhubaodaiError(NamedTuple):
    source: Mapping[str, Any]
    message: str
    entry: Directive | None


class ConfigError(ValueError):
    """The plugin's configuration string cannot be used."""


def parse_config(config: str | None) -> dict[str, Any]:
    """Read the plugin configuration; raises :class:`ConfigError` in Chinese."""
    if not config or not config.strip():
        return {}
    try:
        value = ast.literal_eval(config)
    except (ValueError, SyntaxError):
        raise ConfigError(f"插件配置应为 Python 字典字面量，如 {{'rules': 'rules.yaml'}}：{config!r}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"插件配置应为字典：{config!r}")
    unknown = set(value) - {"rules", "strict"}
    if unknown:
        raise ConfigError(f"插件配置含未知的键 {sorted(unknown)}；可用：rules、strict")
    if "rules" in value and not isinstance(value["rules"], str):
        raise ConfigError("插件配置 rules 应为规则文件路径（文字）")
    if "strict" in value and not isinstance(value["strict"], bool):
        raise ConfigError("插件配置 strict 应为 True 或 False")
    return value


def rules_path(options_map: Mapping[str, Any], config: Mapping[str, Any]) -> str:
    """rules.yaml's path: relative paths are taken from the ledger's top file."""
    top = options_map.get("filename") or ""
    base = os.path.dirname(os.path.abspath(top)) if top and not top.startswith("<") else os.getcwd()
    return os.path.normpath(os.path.join(base, config.get("rules", "rules.yaml")))


def _checked_already(options_map: Mapping[str, Any], entries: list[Directive], path: str) -> bool:
    """Whether an earlier line of this plugin has checked these very entries with these rules."""
    found = options_map.get(OPTIONS_KEY)
    return (
        isinstance(found, LoadResult)
        and found.analysis is not None
        and found.entries is entries
        and found.rules_path == os.path.normpath(os.path.abspath(path))
    )


def check(entries: list[Directive], options_map: dict[str, Any], config: str | None = None):
    """The plugin entry point: returns the entries unchanged and the errors found."""
    top = options_map.get("filename") or "<ledger>"
    here = {"filename": top, "lineno": 0}
    try:
        settings = parse_config(config)
    except ConfigError as exc:
        return entries, [ZhubaodaiError(here, f"[zhubaodai] {exc}", None)]
    path = rules_path(options_map, settings)
    includes = options_map.get("include")
    if isinstance(includes, list) and path not in includes and os.path.exists(path):
        includes.append(path)
    try:
        rulebook = load_rules(path)
    except RulesError as exc:
        if isinstance(includes, list) and exc.filename != path and os.path.exists(exc.filename):
            includes.append(os.path.abspath(exc.filename))  # calendar.yaml: re-read once fixed
        source = {"filename": exc.filename, "lineno": exc.line or 0}
        return entries, [ZhubaodaiError(source, f"[zhubaodai] {exc.message}（{exc.key}）", None)]
    calendar = rulebook.calendar.path if rulebook.calendar is not None else None
    if isinstance(includes, list) and calendar and os.path.abspath(calendar) not in includes:
        includes.append(os.path.abspath(calendar))  # the working-day table, like rules.yaml
    if _checked_already(options_map, entries, path):
        # The plugin line written twice with the same rules: this load is checked, and its
        # errors are said, once.
        return entries, []
    try:
        analysis = analyse(entries, rulebook, options_map)
    except Exception as exc:  # the boundary: never a traceback in bean-check's output
        message = f"[zhubaodai] 规则引擎内部错误，本次未能完成检查（{type(exc).__name__}：{exc}）；请把账本与此信息报告给开发人员"
        return entries, [ZhubaodaiError(here, message, None)]
    keep_result(options_map, LoadResult(analysis, path, entries))
    if isinstance(includes, list):
        # The scanned letters the books declare (evidence.missing), like rules.yaml: a
        # changed scan must not hide behind Beancount's cache of the last load, and Fava
        # reloads when one changes.
        for document in analysis.records.evidence:
            found = document.path
            if found is not None and found not in includes and os.path.isfile(found):
                includes.append(found)
    strict = settings.get("strict", False)
    errors = [
        ZhubaodaiError(
            {"filename": f.filename or top, "lineno": f.lineno or 0}, f.text, f.entry
        )
        for f in analysis.findings
        if strict or f.severity == ERROR
    ]
    return entries, errors
