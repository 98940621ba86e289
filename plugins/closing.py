"""``zbd close``: close a period of the books (docs/cli.md, rule ``period.closed``).

    zbd close LEDGER --period 2025Q4 --letter "高新创服函〔2026〕3号" [--by 张三]
              [--program CQGX] [--date 2026-01-15] [-o 结账/2025Q4.beancount]

Prints the ``custom "period" "close"`` directive(s) (one per program), or writes them to a
new file (an existing file is never overwritten); the user then ``include``s that file in
the ledger. The digests are computed from the entries the rule engine's plugin checked in
this load (:mod:`zhubaodai.core.digest`), so the plugin recomputes the very same figures.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from typing import Any

import click
from beancount.core.data import Directive

from zhubaodai.checks.periods import base_dir
from zhubaodai.checks.periods import month_meta
from zhubaodai.cli import UserError
from zhubaodai.cli import _rules_option
from zhubaodai.cli import display_path
from zhubaodai.cli import load_ledger
from zhubaodai.cli import say
from zhubaodai.core.digest import Period
from zhubaodai.core.digest import PeriodError
from zhubaodai.core.digest import month_digests
from zhubaodai.core.digest import parse_period
from zhubaodai.core.digest import period_digest
from zhubaodai.core.engine import OPTIONS_KEY
from zhubaodai.core.engine import Analysis
from zhubaodai.core.register import Register


def _quoted(text: str, what: str) -> str:
    text = text.strip()
    if not text:
        raise UserError(f"{what}不能为空")
    if any(c in text for c in "\r\n\t"):
        raise UserError(f"{what}不能含换行或制表符：{text!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def checked_entries(options: dict[str, Any], entries: list[Directive]) -> list[Directive]:
    """The entries the plugin checked in this load (the loader's own where it did not run)."""
    found = options.get(OPTIONS_KEY)
    plugin_entries = getattr(found, "entries", None)
    return plugin_entries if plugin_entries else entries


def active_programs(register: Register) -> list[str]:
    """Programs the ledger has books for: opened, or with loans."""
    codes = set(register.program_events) | {loan.program for loan in register.loans.values()}
    return sorted(codes)


def close_directives(
    entries: Sequence[Directive],
    options: dict[str, Any],
    period: Period,
    programs: Sequence[str],
    letter: str,
    by: str | None,
    on: datetime.date,
) -> str:
    """The close directives' text, one per program, digests computed from ``entries``."""
    months = month_digests(entries, period.end, base_dir(options))
    digest = period_digest(months, period.end)
    blocks = []
    for code in programs:
        lines = [
            f'{on.isoformat()} custom "period" "close" "{period.code}"',
            f'  program: "{code}"',
            f"  letter: {_quoted(letter, '授权函件（--letter）')}",
        ]
        if by:
            lines.append(f"  by: {_quoted(by, '结账人（--by）')}")
        lines.append(f'  digest: "{digest}"')
        lines += [f'  {key}: "{value}"' for key, value in month_meta(months, period).items()]
        blocks.append("\n".join(lines) + "\n")
    header = f"; {period.label}结账（zbd close 生成；摘要按内容计算，请勿手改）\n"
    return header + "\n".join(blocks)


def _programs(analysis: Analysis, asked: tuple[str, ...]) -> list[str]:
    known = analysis.rulebook.programs
    unknown = [p for p in asked if p not in known]
    if unknown:
        raise UserError(f"rules.yaml 中没有项目 {'、'.join(unknown)}；可用：{'、'.join(known)}")
    if asked:
        return list(dict.fromkeys(asked))
    found = active_programs(analysis.register)
    if not found:
        raise UserError("账本中没有登记任何项目（program open 或贷款）；请用 --program 指定项目")
    return found


@click.command("close")
@click.argument("ledger", type=click.Path(dir_okay=True))
@click.option("--period", required=True, help="结账期间：2025Q4（季度）或 2025（年度）。")
@click.option("--letter", required=True, help="授权结账的函件或负责人（记入结账指令）。")
@click.option("--by", default=None, help="结账人（可选）。")
@click.option("--program", "programs", multiple=True, help="结账的项目（可重复；默认账本中登记了的全部项目）。")
@click.option("--date", "on", default=None, help="结账日期（YYYY-MM-DD，默认今天）；须晚于期末。")
@click.option("-o", "--output", "output", default=None, type=click.Path(dir_okay=False),
              help="写入此新文件（已存在则拒绝，绝不覆盖）；不写则打印到屏幕。")
@_rules_option
def close_command(
    ledger: str, period: str, letter: str, by: str | None, programs: tuple[str, ...],
    on: str | None, output: str | None, rules: str | None,
) -> None:
    """结账：为截至期末的全部账目记下按内容计算的摘要（custom "period" "close"），此后改动即报 period.closed。"""
    try:
        closing = parse_period(period)
    except PeriodError as exc:
        raise UserError(str(exc)) from None
    try:
        day = datetime.date.fromisoformat(on.strip()) if on else datetime.date.today()
    except ValueError:
        raise UserError(f"日期应写作 YYYY-MM-DD：{on!r}") from None
    if day <= closing.end:
        raise UserError(f"结账日期 {day} 应晚于期末 {closing.end}（期间结束后才能结账）")
    if output is not None:
        if os.path.exists(output):
            raise UserError(f"输出文件 {output} 已存在；结账文件绝不覆盖，请另取文件名")
        directory = os.path.dirname(os.path.abspath(output))
        if not os.path.isdir(directory):
            raise UserError(f"输出目录不存在：{directory}")
    _quoted(letter, "授权函件（--letter）")  # checked before the long load
    if by is not None:
        _quoted(by, "结账人（--by）")
    say(f"读取并检查账本 {ledger} …")
    loaded = load_ledger(ledger, rules)
    codes = _programs(loaded.analysis, programs)
    if loaded.beancount_errors or loaded.analysis.errors:
        count = len(loaded.beancount_errors) + len(loaded.analysis.errors)
        raise UserError(f"账本有 {count} 个错误，不能结账；请先用 zbd check 查看并更正")
    text = close_directives(
        checked_entries(loaded.options, loaded.entries), loaded.options, closing, codes, letter, by, day
    )
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        with open(output, "x", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise UserError(f"无法写入 {output}：{exc}") from None
    say(f"已写入 {output}（{closing.label}，项目：{'、'.join(codes)}）；请在账本中 include 此文件：include \"{display_path(output)}\"")
