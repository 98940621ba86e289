"""``zbd``: the 助保贷 pool's command line, for everything a user does outside Fava.

Commands (``zbd --help``; docs/cli.md)::

    zbd check LEDGER [--format text|json] [--strict]
    zbd rules [RULES_FILE] [--program CODE] [--date YYYY-MM-DD]   (a rules file alone)
    zbd report LEDGER --period 2024Q3 -o 报表.xlsx [--program CQGX] [--force]
    zbd stress LEDGER --date 2024-09-30 (--default-rate 0.05 | --loans ID,ID) --recovery-rate 0.3
               [--monte-carlo 10000 --seed 1]
    zbd serve LEDGER [--port 5000] [--reviewers FILE --host H --state-dir D --cert C --key K]
    zbd reviewers add|passwd|remove|list FILE [NAME]
    zbd generate OUT --transactions N ...
    zbd import ...
    zbd close LEDGER --period 2025Q4 --letter ... [-o FILE]      (zhubaodai.closing)
    zbd dossier LEDGER --loan ID -o FILE.zip | zbd dossier verify FILE.zip   (zhubaodai.dossier)

Every command loads the ledger with Beancount's loader (plugins included), then asks the
rule engine (:func:`zhubaodai.core.engine.analyse`) with the rules file the ledger's
``plugin "zhubaodai.plugin"`` line names; the commands only present what the engine
found. Exit status: 0 passed, 1 the check failed, 2 the input cannot be used (missing
file, broken rules.yaml, bad option). No traceback reaches the user.
"""

from __future__ import annotations

import datetime
import importlib
import json
import os
import re
import sys
import threading
import time
import unicodedata
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from decimal import InvalidOperation
from typing import IO
from typing import Any

import click
from beancount.core.data import Directive

from zhubaodai.clitext import ChineseGroup
from zhubaodai.clitext import chinese_params
from zhubaodai.core.engine import Analysis
from zhubaodai.core.engine import analyse
from zhubaodai.core.engine import result_of
from zhubaodai.core.findings import ERROR
from zhubaodai.core.findings import FORMAT_RULE
from zhubaodai.core.findings import Finding
from zhubaodai.core.findings import SEVERITY_LABELS
from zhubaodai.core.findings import WARNING
from zhubaodai.core.loading import load_uncached
from zhubaodai.core.money import yuan
from zhubaodai.core.names import GENERIC_NAMES
from zhubaodai.core.names import FundNames
from zhubaodai.core.rules import CATALOGUE
from zhubaodai.core.rules import PARTY_LABELS
from zhubaodai.core.rules import Rulebook
from zhubaodai.core.rules import RulesError
from zhubaodai.core.rules import load_rules
from zhubaodai.plugin import ConfigError
from zhubaodai.plugin import ZhubaodaiError
from zhubaodai.plugin import parse_config
from zhubaodai.plugin import rules_path

PLUGIN_NAME = "zhubaodai.plugin"
#: Exit statuses.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


class UserError(click.ClickException):
    """Input the command cannot use: printed in Chinese, exit status 2, no traceback."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"错误：{self.format_message()}", err=True)


# --------------------------------------------------------------------------------------
# Loading a ledger and asking the engine.


@dataclass(frozen=True)
class BeancountProblem:
    """An error Beancount itself reports (syntax, balance assertion, other plugins)."""

    filename: str | None
    lineno: int | None
    message: str

    @property
    def location(self) -> str:
        if not self.filename or self.filename.startswith("<"):
            return "<账本>"
        return f"{display_path(self.filename)}:{self.lineno}"

    def as_dict(self) -> dict[str, Any]:
        return {"filename": _shown_file(self.filename), "lineno": self.lineno, "message": self.message}


@dataclass(frozen=True)
class Loaded:
    """A ledger as the loader and the engine see it."""

    path: str
    entries: list[Directive]
    options: dict[str, Any]
    beancount_errors: list[BeancountProblem]
    rulebook: Rulebook
    analysis: Analysis
    #: The plugin's own configuration asks for warnings to fail.
    strict: bool


def _shown_file(filename: str | None) -> str | None:
    """A finding's file for output: relative to the working directory when under it
    (Beancount's "<...>" pseudo-names and None as they are)."""
    if not filename or filename.startswith("<"):
        return filename
    return display_path(filename)


def display_path(path: str) -> str:
    """A path as the user typed it: relative to the working directory when under it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative


#: Beancount's most frequent messages, in Chinese (others are shown as Beancount words them).
_BEANCOUNT_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^Balance failed for '([^']+)': expected (\S+ \S+) != accumulated (\S+ \S+) \((\S+) too (much|little)\)"),
     "余额断言不符：账户 {0} 断言余额 {1}，账面累计 {2}（账面{5} {3}）"),
    (re.compile(r"^Invalid reference to unknown account '([^']+)'"), "引用了未开立（open）的账户 {0}"),
    (re.compile(r"^Invalid reference to inactive account '([^']+)'"), "引用了已关闭或尚未开立的账户 {0}"),
    (re.compile(r"^Transaction does not balance: (.*)$", re.S), "分录借贷不平：{0}"),
    (re.compile(r"^Duplicate open directive for (\S+)"), "账户 {0} 重复开立"),
    (re.compile(r'^File "([^"]+)" does not exist'), "include 的文件不存在：{0}"),
    (re.compile(r"^[Ss]yntax error(.*)$", re.S), "语法错误{0}"),
    (re.compile(r"^Invalid token: (.*)$"), "无法识别的词 {0}（语法错误）"),
)


def translate(message: str) -> str:
    """One of Beancount's messages in Chinese, with the original kept for searching."""
    for pattern, template in _BEANCOUNT_MESSAGES:
        match = pattern.match(message)
        if match:
            groups = list(match.groups())
            if len(groups) == 5:
                groups.append({"much": "多", "little": "少"}[groups[4]])
            return f"{template.format(*groups)}　[{message}]"
    return message


def _problem(error: Any) -> BeancountProblem:
    source = getattr(error, "source", None) or {}
    message = translate(str(getattr(error, "message", error)).strip())
    return BeancountProblem(source.get("filename"), source.get("lineno"), message)


def _plugin_config(options: dict[str, Any]) -> str | None | bool:
    """The zhubaodai plugin's configuration string; False when the ledger has no such line."""
    for name, config in options.get("plugin") or ():
        if name == PLUGIN_NAME:
            return config
    return False


def _load_rules_file(path: str) -> Rulebook:
    """A rules file, validated; a broken one is a :class:`UserError` naming file:line and key."""
    try:
        return load_rules(path)
    except RulesError as exc:
        text = str(exc)
        if exc.filename and text.startswith(exc.filename):  # the file as the user sees it from here
            text = display_path(exc.filename) + text[len(exc.filename):]
        raise UserError(text) from None


def load_ledger(path: str, rules: str | None = None) -> Loaded:
    """Load ``path`` with Beancount's loader and analyse it with the rules its plugin line
    names (or ``rules``). Raises :class:`UserError` for input that cannot be used."""
    if not os.path.exists(path):
        raise UserError(f"找不到账本文件：{path}")
    if os.path.isdir(path):
        raise UserError(f"{path} 是目录；请给出账本的顶层文件（如 ledger/main.beancount）")
    try:
        entries, errors, options = load_uncached(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"无法读取账本 {path}：{exc}") from None
    config = _plugin_config(options)
    if config is False and rules is None:
        raise UserError(
            f"账本 {path} 的顶层文件没有启用插件 {PLUGIN_NAME}"
            f"（应有一行 plugin \"{PLUGIN_NAME}\" \"{{'rules': 'rules.yaml'}}\"），"
            "或用 --rules 指定规则文件"
        )
    try:
        settings = parse_config(config or None)
    except ConfigError as exc:
        raise UserError(f"插件 {PLUGIN_NAME} 的配置有误：{exc}") from None
    if rules is None:
        rules = rules_path(options, settings)
    # The plugin turns the engine's error findings into loader errors; this command
    # shows the engine's findings themselves instead, so those are left out here.
    others = [_problem(e) for e in errors if not isinstance(e, ZhubaodaiError)]
    # The plugin's run is this load's result (its rules too); the engine runs here only
    # for a ledger without the plugin line, or when --rules names other rules than the line does.
    analysis = result_of(options, rules_path=rules)
    if analysis is not None:
        rulebook = analysis.rulebook
    else:
        rulebook = _load_rules_file(rules)
        analysis = analyse(entries, rulebook, options)
    return Loaded(path, entries, options, others, rulebook, analysis, bool(settings.get("strict")))


# --------------------------------------------------------------------------------------
# Progress on stderr for long work.


class _Steps:
    """Progress where stderr is not a terminal (a log, CI): one line at the start and end."""

    def __init__(self, length: int, label: str) -> None:
        self.length = length
        self.label = label
        self.done = 0

    def update(self, steps: int) -> None:
        self.done += steps


@contextmanager
def progress(length: int, label: str) -> Iterator[Any]:
    """Progress on stderr: a bar on a terminal, a start and an end line otherwise."""
    if sys.stderr.isatty():
        with click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True) as bar:
            yield bar
        return
    steps = _Steps(length, label)
    say(f"{label}：开始（共 {length:,}）")
    yield steps
    say(f"{label}：完成 {steps.done:,}/{length:,}")


def stderr_is_terminal() -> bool:
    """Whether stderr is a terminal (a person watching) rather than a log, a pipe or CI."""
    return sys.stderr.isatty()


#: The spinner's frames on a terminal.
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


@contextmanager
def working(label: str, done: str) -> Iterator[None]:
    """Long work without steps to count (reading a ledger: Beancount's loader runs the
    engine as a plugin), shown on stderr so that stdout stays the command's result: on a
    terminal a spinner with the seconds elapsed, redrawn in place; elsewhere a line when the
    work starts and one when it is done. Both end with ``done`` and the time taken; when the
    work fails, the error that follows says why (no "done" line)."""
    started = time.monotonic()
    if not stderr_is_terminal():
        say(f"{label} …")
        yield
        say(f"{done}（用时 {time.monotonic() - started:.1f} 秒）")
        return
    stop = threading.Event()

    def draw(frame: int) -> None:
        sys.stderr.write(f"\r{SPINNER[frame % len(SPINNER)]} {label} … {time.monotonic() - started:.0f} 秒")
        sys.stderr.flush()

    def spin() -> None:
        frame = 1
        while not stop.wait(0.2):
            draw(frame)
            frame += 1

    draw(0)
    spinner = threading.Thread(target=spin, name="zbd-spinner", daemon=True)
    spinner.start()
    ok = False
    try:
        yield
        ok = True
    finally:
        stop.set()
        spinner.join()
        sys.stderr.write("\r\x1b[K")  # clear the spinner's line
        sys.stderr.flush()
        if ok:
            say(f"{done}（用时 {time.monotonic() - started:.1f} 秒）")


def width(text: str) -> int:
    """Display width in a terminal: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, columns: int, right: bool = False) -> str:
    space = " " * max(columns - width(text), 0)
    return space + text if right else text + space


def say(message: str) -> None:
    """A status line for the user, on stderr (stdout carries the command's result)."""
    click.echo(message, err=True)


# --------------------------------------------------------------------------------------
# The command group.


class InternalError(click.ClickException):
    """An unexpected failure: one Chinese line instead of a traceback (ZBD_DEBUG=1 shows it)."""

    exit_code = 3

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"内部错误：{self.format_message()}（请把命令和此消息报告给维护者；设 ZBD_DEBUG=1 可看到详细信息）", err=True)


class ZbdGroup(ChineseGroup):
    """The command group: whatever escapes a command is shown as one line, not a traceback;
    click's own usage errors and help texts are Chinese (:mod:`zhubaodai.clitext`).

    ``generate`` and ``import`` are other modules' click commands, loaded only when used
    (so ``zbd check`` in a commit hook does not import the importers).
    """

    lazy: dict[str, tuple[str, str]] = {
        "generate": ("zhubaodai.scripts.ledgergen", "main"),
        "import": ("zhubaodai.importers.cli", "import_command"),
        "close": ("zhubaodai.closing", "close_command"),
        "reviewers": ("zhubaodai.reviewers", "reviewers"),
        "dossier": ("zhubaodai.dossier", "dossier_command"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module, attribute = self.lazy[name]
            try:
                command = getattr(importlib.import_module(module), attribute)
            except (ImportError, AttributeError) as exc:
                raise UserError(f"命令 {name} 不可用（{module}.{attribute}：{exc}）") from None
            return chinese_params(command)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if os.environ.get("ZBD_DEBUG"):
                raise
            raise InternalError(f"{type(exc).__name__}: {exc}") from None


@click.group(cls=ZbdGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="zhubaodai", message="zbd（zhubaodai）%(version)s", help="显示版本并退出。")
def main() -> None:
    """助保贷资金池账本工具：检查、报表、压力测试、只读浏览。

    读账本的命令都先用 Beancount 读取账本（包括插件），再按账本插件行指定的 rules.yaml
    运行同一个规则引擎；zbd rules 只校验规则文件。退出状态：0 通过，1 检查未通过，2 输入无法使用。
    """


def _rules_option(function: Any) -> Any:
    return click.option(
        "--rules",
        "rules",
        type=click.Path(dir_okay=False),
        default=None,
        help="规则文件路径（默认取账本插件行中的 rules）。",
    )(function)


# --------------------------------------------------------------------------------------
# zbd check


def _rule_order(rulebook: Rulebook) -> dict[str, int]:
    order: dict[str, int] = {}
    for program in rulebook.programs.values():
        for rule_id in program.rules:
            order.setdefault(rule_id, len(order))
    for rule_id in CATALOGUE:
        order.setdefault(rule_id, len(order))
    return order


def group_findings(
    findings: Sequence[Finding], rulebook: Rulebook
) -> list[tuple[str | None, list[tuple[str, list[Finding]]]]]:
    """Findings grouped by program (rules.yaml order; format problems last), then rule."""
    programs = list(rulebook.programs)
    rules = _rule_order(rulebook)

    def program_key(code: str | None) -> tuple[int, str]:
        return (programs.index(code), "") if code in programs else (len(programs), code or "")

    grouped: dict[str | None, dict[str, list[Finding]]] = {}
    for finding in findings:
        grouped.setdefault(finding.program, {}).setdefault(finding.rule, []).append(finding)
    result = []
    for code in sorted(grouped, key=program_key):
        by_rule = grouped[code]
        ordered = sorted(by_rule, key=lambda r: (rules.get(r, len(rules)), r))
        result.append(
            (
                code,
                [
                    (rule, sorted(by_rule[rule], key=lambda f: (f.filename or "", f.lineno or 0)))
                    for rule in ordered
                ],
            )
        )
    return result


def rule_title(rule_id: str, names: FundNames = GENERIC_NAMES) -> str:
    """A rule's title in the fund names ``names`` of the program it is listed under."""
    if rule_id == FORMAT_RULE:
        return "账本格式"
    spec = CATALOGUE.get(rule_id)
    return names.say(spec.title) if spec else rule_id


def program_title(code: str | None, rulebook: Rulebook) -> str:
    if code is None:
        return "账本格式（不属于某一项目）"
    program = rulebook.programs.get(code)
    return f"{program.name}（{code}）" if program else code


def _finding_location(finding: Finding) -> str:
    if finding.filename is None or finding.filename.startswith("<"):
        return "<账本>"
    return f"{display_path(finding.filename)}:{finding.lineno}"


def render_text(loaded: Loaded, strict: bool, failed: bool) -> str:
    findings = loaded.analysis.findings
    lines = [f"账本：{display_path(loaded.path)}（规则：{display_path(loaded.rulebook.path)}）"]
    if loaded.beancount_errors:
        lines += ["", f"Beancount 报告的错误（{len(loaded.beancount_errors)}）"]
        for problem in loaded.beancount_errors:
            message = problem.message.replace("\n", "\n      ")
            lines.append(f"  错误 {problem.location}: {message}")
    for code, rules in group_findings(findings, loaded.rulebook):
        lines += ["", program_title(code, loaded.rulebook)]
        for rule_id, items in rules:
            # Findings under different versions of a parameter may cite different texts
            # (an amendment): then each line names its own.
            citations = list(dict.fromkeys(f.citation for f in items))
            heading = citations[0] if len(citations) == 1 else "、".join(citations)
            names = loaded.rulebook.names(code) if code is not None else GENERIC_NAMES
            lines.append(f"  [{rule_id}] {rule_title(rule_id, names)}　依据：{heading}（{len(items)} 条）")
            for finding in items:
                label = SEVERITY_LABELS[finding.severity]
                own = f"（依据：{finding.citation}）" if len(citations) > 1 else ""
                lines.append(f"    {label} {_finding_location(finding)}: {finding.message}{own}")
    errors = sum(1 for f in findings if f.severity == ERROR)
    warnings = sum(1 for f in findings if f.severity == WARNING)
    summary = f"规则检查：{errors} 个错误，{warnings} 个警告"
    if loaded.beancount_errors:
        summary += f"；Beancount 错误 {len(loaded.beancount_errors)} 个"
    if failed:
        reason = "（严格模式：警告也视为未通过）" if strict and warnings and not errors else ""
        summary += f"。检查未通过{reason}"
    else:
        summary += "。检查通过"
    lines += ["", summary]
    return "\n".join(lines)


def render_json(loaded: Loaded, strict: bool, failed: bool) -> str:
    findings = loaded.analysis.findings
    ordered = [f for _, rules in group_findings(findings, loaded.rulebook) for _, items in rules for f in items]
    document = {
        "ledger": display_path(loaded.path),
        "rules": display_path(loaded.rulebook.path),
        "ok": not failed,
        "strict": strict,
        "counts": {
            "error": sum(1 for f in findings if f.severity == ERROR),
            "warning": sum(1 for f in findings if f.severity == WARNING),
            "beancount": len(loaded.beancount_errors),
        },
        "beancount_errors": [p.as_dict() for p in loaded.beancount_errors],
        "findings": [
            {**f.as_dict(), "filename": _shown_file(f.filename),
             "title": rule_title(f.rule, loaded.rulebook.names(f.program) if f.program else GENERIC_NAMES)}
            for f in ordered
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


@main.command()
@click.argument("ledger", type=click.Path(dir_okay=True))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="输出格式。",
)
@click.option("--strict", is_flag=True, help="警告（“原则上”“一般”类规则）也令检查失败。")
@_rules_option
def check(ledger: str, fmt: str, strict: bool, rules: str | None) -> None:
    """检查账本：Beancount 自身的错误，以及按项目、规则分组的错误和警告（含条款、文件和行号）。

    没有错误时退出状态为 0（只有警告也为 0；--strict 或插件配置 strict 时警告也为 1）。
    """
    with working(f"读取并检查账本 {display_path(ledger)}", "读取与检查完毕"):
        loaded = load_ledger(ledger, rules)
    strict = strict or loaded.strict
    findings = loaded.analysis.findings
    failed = bool(loaded.beancount_errors) or any(
        f.severity == ERROR or (strict and f.severity == WARNING) for f in findings
    )
    output = render_json(loaded, strict, failed) if fmt == "json" else render_text(loaded, strict, failed)
    click.echo(output)
    sys.exit(EXIT_FAILED if failed else EXIT_OK)


# --------------------------------------------------------------------------------------
# zbd rules


@main.command(name="rules")
@click.argument("rules_file", type=click.Path(dir_okay=False), default="rules.yaml", required=False)
@click.option("--program", "programs", multiple=True, help="只显示此项目（可重复；默认全部项目）。")
@click.option("--date", "on", default=None, help="参数取此日（YYYY-MM-DD）有效的版本（默认今天）。")
def rules_command(rules_file: str, programs: tuple[str, ...], on: str | None) -> None:
    """只校验规则文件（不读账本），并用中文列出每个项目将检查什么。

    规则文件默认为当前目录的 rules.yaml。逐个项目列出：依据文件与施行日期、按角色的账户，
    以及每条规则的编号、名称、严重程度、条款、检查内容与释义，和各参数在 --date 当日
    有效的取值及其依据（修订通知另立的版本注明其自己的文件；假设的取值标为【假设】并写明理由）。

    规则文件有误时给出“文件:行: 键”与原因，退出状态为 2。
    """
    from zhubaodai.rulesview import describe

    day = _date(on) if on is not None else datetime.date.today()
    rulebook = _load_rules_file(rules_file)
    unknown = [code for code in programs if code not in rulebook.programs]
    if unknown:
        raise UserError(f"规则文件中没有项目 {'、'.join(unknown)}；有：{'、'.join(rulebook.programs)}")
    click.echo(describe(rulebook, display_path(rules_file), day, programs))
    sys.exit(EXIT_OK)


# --------------------------------------------------------------------------------------
# zbd report


#: 2024Q3, 2024-Q3 (as Fava writes it), 2024q3; 2024; 2024-07 or 2024-7 (a month).
_PERIOD_RE = re.compile(r"^(\d{4})(?:-?[Qq](\d+)|-(\d{1,2}))?$")
#: The years a period may name (datetime's own range is wider than any pool's books).
_PERIOD_YEARS = range(1900, 2200)


def parse_period(text: str) -> tuple[str, datetime.date, datetime.date]:
    """'2024Q3' or '2024-Q3' -> ('2024年第三季度', 2024-07-01, 2024-09-30); '2024' -> the
    year; '2024-07' -> the month. Anything else, or a quarter or month that does not exist,
    is a :class:`UserError` (exit status 2)."""
    match = _PERIOD_RE.match(text.strip())
    if not match:
        raise UserError(f"报告期应写作 2024Q3 或 2024-Q3（季度）、2024（年度）或 2024-07（月度）：{text!r}")
    year = int(match.group(1))
    if year not in _PERIOD_YEARS:
        raise UserError(f"报告期的年份 {year} 超出范围（{_PERIOD_YEARS.start}—{_PERIOD_YEARS.stop - 1}）：{text!r}")
    quarter, month = match.group(2), match.group(3)
    if quarter is not None:
        if not 1 <= int(quarter) <= 4:
            raise UserError(f"季度应为 Q1 至 Q4：{text!r}")
        first, months = 3 * int(quarter) - 2, 3
        label = f"{year}年第{'一二三四'[int(quarter) - 1]}季度"
    elif month is not None:
        if not 1 <= int(month) <= 12:
            raise UserError(f"月份应为 01 至 12：{text!r}")
        first, months = int(month), 1
        label = f"{year}年{int(month)}月"
    else:
        return f"{year}年度", datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    start = datetime.date(year, first, 1)
    after = first + months  # the first month after the period (13: January next year)
    end = datetime.date(year + (after > 12), (after - 1) % 12 + 1, 1) - datetime.timedelta(days=1)
    return label, start, end


def ledger_span(entries: Sequence[Directive]) -> tuple[datetime.date, datetime.date] | None:
    """The first and last date of the books (None for a ledger without entries)."""
    dates = [entry.date for entry in entries]
    return (min(dates), max(dates)) if dates else None


@main.command()
@click.argument("ledger", type=click.Path(dir_okay=True))
@click.option("--period", required=True, help="报告期：2024Q3 或 2024-Q3（季度）、2024（年度）、2024-07（月度）。")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False), help="输出的 XLSX 文件。")
@click.option("--program", "programs", multiple=True, help="只报告此项目（可重复；默认账本中有登记或分录的全部项目）。")
@click.option("--force", is_flag=True, help="输出文件已存在时覆盖它。")
@_rules_option
def report(ledger: str, period: str, output: str, programs: tuple[str, ...], force: bool, rules: str | None) -> None:
    """生成财政部门要求的季度或年度报表（XLSX）：资金来源、专户对账、贷款、代偿、追偿、孳息、覆盖率与杠杆、检查结果。"""
    from zhubaodai.report import build_report
    from zhubaodai.report_xlsx import write_report

    label, start, end = parse_period(period)
    if os.path.islink(output) and not os.path.exists(output) and not force:
        raise UserError(f"输出文件 {output} 是指向不存在文件的符号链接；如要替换这个链接请加 --force")
    if os.path.exists(output) and not force:
        raise UserError(f"输出文件 {output} 已存在；如要覆盖请加 --force")
    if os.path.isdir(output):
        raise UserError(f"{output} 是目录，请给出 .xlsx 文件名")
    directory = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(directory):
        raise UserError(f"输出目录不存在：{directory}")
    say(f"读取并检查账本 {ledger} …")
    loaded = load_ledger(ledger, rules)
    unknown = [p for p in programs if p not in loaded.rulebook.programs]
    if unknown:
        known = "、".join(loaded.rulebook.programs)
        raise UserError(f"rules.yaml 中没有项目 {'、'.join(unknown)}；可用：{known}")
    span = ledger_span(loaded.entries)
    if span is not None and (end < span[0] or start > span[1]):
        raise UserError(f"报告期 {label}（{start} 至 {end}）不在账本的日期范围（{span[0]} 至 {span[1]}）内")
    if loaded.beancount_errors:
        say(f"注意：账本有 {len(loaded.beancount_errors)} 个 Beancount 错误，已列入报表的“检查结果”表；请用 zbd check 查看")
    codes = list(programs) or loaded.analysis.used_programs()
    with progress(len(codes), "编制报表") as bar:
        book = build_report(
            loaded.analysis, loaded.entries, codes, label, start, end,
            ledger=loaded.path, beancount_errors=loaded.beancount_errors,
            on_program=lambda code: bar.update(1),
        )
    try:
        write_report(book, output, force=force)
    except FileExistsError:
        raise UserError(f"输出文件 {output} 在编制报表期间出现，未覆盖它；如要覆盖请加 --force") from None
    except OSError as exc:
        raise UserError(f"无法写入 {output}：{exc}") from None
    say(f"已写入 {output}（{label}，项目：{'、'.join(codes)}）")


# --------------------------------------------------------------------------------------
# zbd stress


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.strip().rstrip("%")) / (100 if text.strip().endswith("%") else 1)
    except InvalidOperation:
        raise UserError(f"{what}应为 0 到 1 之间的小数（或百分数，如 5%）：{text!r}") from None
    if not value.is_finite() or not (0 <= value <= 1):
        raise UserError(f"{what}应在 0 到 1 之间：{text!r}")
    return value


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"日期应写作 YYYY-MM-DD：{text!r}") from None


@main.command()
@click.argument("ledger", type=click.Path(dir_okay=True))
@click.option("--date", "on", required=True, help="压力测试日（YYYY-MM-DD）：取该日日终的贷款余额与资金余额。")
@click.option("--program", default=None, help="项目代码（账本只有一个项目有贷款时可省略）。")
@click.option("--default-rate", default=None, help="违约率（0–1 或百分数）：每笔贷款按此比例违约；蒙特卡罗模式下为每笔贷款的违约概率。")
@click.option("--loans", default=None, help="违约贷款编号，逗号分隔（全额违约）。")
@click.option("--recovery-rate", required=True, help="回收率（扣除费用后的净额占代偿额的比例，0–1）。")
@click.option("--monte-carlo", "draws", type=click.IntRange(min=1), default=None, help="蒙特卡罗模拟次数（每笔贷款独立违约；最多 1,000,000 次）。")
@click.option("--seed", type=int, default=None, help="随机种子（蒙特卡罗模式必填，便于复现）。")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="输出格式。")
@_rules_option
def stress(
    ledger: str,
    on: str,
    program: str | None,
    default_rate: str | None,
    loans: str | None,
    recovery_rate: str,
    draws: int | None,
    seed: int | None,
    fmt: str,
    rules: str | None,
) -> None:
    """压力测试：按项目的代偿顺序（助保金先付，不足部分由风险补偿金与银行分担）估算违约时各方承担的金额，
    以及风险补偿金耗尽、须报管委会决定时的违约率。"""
    from zhubaodai import stress as core

    day = _date(on)
    if (default_rate is None) == (loans is None):
        raise UserError("请给出 --default-rate 或 --loans 之一")
    if draws is not None and default_rate is None:
        raise UserError("蒙特卡罗模式（--monte-carlo）需要 --default-rate 作为每笔贷款的违约概率")
    if draws is not None and seed is None:
        raise UserError("蒙特卡罗模式请用 --seed 给出随机种子，以便结果可以复现")
    if draws is not None and draws > core.MAX_DRAWS:
        raise UserError(f"--monte-carlo 最多 {core.MAX_DRAWS:,} 次模拟（每次的结果都要保留以求精确的分位数）：{draws:,}")
    recovery = _decimal(recovery_rate, "回收率")
    rate = _decimal(default_rate, "违约率") if default_rate is not None else None
    loaded = load_ledger(ledger, rules)
    code = _stress_program(loaded, program, day, loans)
    names = loaded.rulebook.names(code)  # the text says the program's own fund names
    try:
        exposures = core.book(loaded.analysis, code, day)
        pool = core.position(loaded.analysis, code, day)
        threshold = core.exhaustion_rate(pool, exposures)
        if draws is not None:
            assert rate is not None
            with progress(draws, "蒙特卡罗模拟") as bar:
                result = core.monte_carlo(pool, exposures, rate, recovery, draws, seed or 0, progress=bar.update)
            click.echo(render_monte_carlo(pool, exposures, rate, recovery, result, seed or 0, threshold, fmt, names))
            return
        if loans is not None:
            ids = [part.strip() for part in loans.split(",") if part.strip()]
            if not ids:
                raise UserError("--loans 应给出至少一个贷款编号")
            dues = core.dues_for_loans(exposures, ids)
        else:
            assert rate is not None
            dues = core.dues_at_rate(exposures, rate)
        outcome = core.run(pool, exposures, dues, recovery)
    except core.StressError as exc:
        raise UserError(str(exc)) from None
    click.echo(render_deterministic(pool, exposures, rate, recovery, outcome, threshold, fmt, names))


def _stress_program(loaded: Loaded, program: str | None, day: datetime.date, loans: str | None) -> str:
    codes = list(loaded.rulebook.programs)
    if program is not None:
        if program not in codes:
            raise UserError(f"rules.yaml 中没有项目 {program}；可用：{'、'.join(codes)}")
        return program
    if loans:
        first = loans.split(",")[0].strip()
        loan = loaded.analysis.register.loans.get(first)
        if loan is not None:
            return loan.program
    active = sorted({l.program for l in loaded.analysis.register.loans.values() if l.outstanding(day) > 0})
    if len(active) == 1:
        return active[0]
    raise UserError(f"请用 --program 指定项目（{'、'.join(active or codes)}）")


#: The stress report's rows per party (Monte Carlo: what each bears, and net of recoveries).
MC_BORNE = {"guarantee": "助保金代偿", "risk": "风险补偿金代偿", "bank": "合作银行承担", "guarantor": "担保机构承担",
            "insurer": "保险公司承担", "government": "政府承担"}
MC_NET = {"guarantee": "回收后助保金净承担", "risk": "回收后风险补偿金净承担", "bank": "回收后银行净承担",
          "guarantor": "回收后担保机构净承担", "insurer": "回收后保险公司净承担", "government": "回收后政府净承担"}
ZERO_YUAN = Decimal("0.00")


def _stress_parties(pool: Any) -> tuple[str, ...]:
    """The parties the stress report shows: the program's table, else 助保金, 风险补偿金, 银行."""
    return pool.parties


def _percent(rate: Decimal | None) -> str:
    if rate is None:
        return "—"
    return f"{(rate * 100).quantize(Decimal('0.01')).normalize():f}%"


def _stress_header(pool: Any, exposures: Sequence[Any], recovery: Decimal) -> list[str]:
    outstanding = sum((e.outstanding for e in exposures), Decimal("0.00"))
    lines = [
        f"压力测试：项目 {pool.program}，{pool.on} 日终",
        f"  未结清贷款 {len(exposures)} 笔，余额 {yuan(outstanding)} 元；"
        + (f"助保金 {yuan(pool.guarantee)} 元，" if "guarantee" in pool.parties else "")
        + f"风险补偿金 {yuan(pool.risk)} 元；{pool.describe()}；回收率 {_percent(recovery)}",
    ]
    if pool.room.any:
        lines.append(f"  支付上限：{pool.room.describe()}；超出上限的部分由合作银行自担")
    return lines


def _stress_json_extra(pool: Any, outcome: Any) -> dict[str, Any]:
    """The program's shapes in the JSON output: the deposits' part, the payout limits, the residual split."""
    extra: dict[str, Any] = {}
    if pool.deposits:
        extra["deposit"] = str(outcome.deposit)
    if pool.room.any:
        extra["limits"] = {"pool_room": None if pool.room.pool is None else str(pool.room.pool),
                           "guarantor_room": None if pool.room.guarantor is None else str(pool.room.guarantor),
                           "joint_room": None if pool.room.joint is None else str(pool.room.joint)}
        extra["capped"] = str(outcome.capped)
    if pool.residual:
        extra["residual"] = {p: str(v) for p, v in outcome.residual_by.items()}
    return extra


def _threshold_line(threshold: Decimal | None) -> str:
    if threshold is None:
        return "风险补偿金耗尽的违约率：不适用（无未结清贷款、风险补偿金不分担，或支付上限先于资金耗尽）"
    if threshold > 1:
        return (f"风险补偿金耗尽的违约率：{_percent(threshold)}——即使全部贷款违约，"
                "风险补偿金也足以承担其分担部分")
    return (f"风险补偿金耗尽的违约率：{_percent(threshold)}（全部贷款按同一违约率违约时，"
            "高于此值风险补偿金不足以承担其分担部分，须报管委会决定）")


def render_deterministic(
    pool: Any, exposures: Sequence[Any], rate: Decimal | None, recovery: Decimal,
    outcome: Any, threshold: Decimal | None, fmt: str, names: FundNames = GENERIC_NAMES,
) -> str:
    """The stress report of one scenario; the text in the program's fund names (``names``:
    ``Rulebook.names``; the JSON keeps its machine keys)."""
    if fmt == "json":
        return json.dumps(
            {
                "program": pool.program,
                "date": pool.on.isoformat(),
                "scenario": {"default_rate": str(rate)} if rate is not None
                else {"loans": [o.loan for o in outcome.loans]},
                "recovery_rate": str(recovery),
                "position": {"guarantee": str(pool.guarantee), "risk": str(pool.risk),
                             "risk_share": str(pool.risk_share),
                             "outstanding": str(sum((e.outstanding for e in exposures), Decimal("0.00"))),
                             "loans": len(exposures)},
                "defaulted": str(outcome.defaulted),
                **({"parties": [{"party": row.party, "share": str(row.share), "pool": row.pool}
                                for row in pool.table]} if pool.table else {}),
                "borne": {**{p: str(outcome.borne(p)) for p in _stress_parties(pool)},
                          "committee": str(outcome.uncovered)},
                "recovered": {p: str(v) for p, v in outcome.recovered_by.items()},
                "net": {p: str(outcome.net(p)) for p in _stress_parties(pool)},
                "committee_needed": outcome.committee_needed,
                "exhaustion_rate": None if threshold is None else str(threshold),
                **_stress_json_extra(pool, outcome),
                "loans": [
                    {"loan": o.loan, "due": str(o.due),
                     **({p: str(o.borne_by.get(p, ZERO_YUAN)) for p in _stress_parties(pool)} if pool.table
                        else {"guarantee": str(o.guarantee), "risk": str(o.risk), "bank": str(o.bank)}),
                     "committee": str(o.uncovered),
                     **({"deposit": str(o.deposit)} if pool.deposits else {}),
                     **({"capped": str(o.capped)} if pool.room.any else {}),
                     **({"residual": {p: str(v) for p, v in o.residual_by.items()}} if pool.residual else {}),
                     "recovered": {p: str(v) for p, v in o.recovered_by.items()}}
                    for o in outcome.loans
                ],
            },
            ensure_ascii=False, indent=2,
        )
    if rate is not None:
        scenario = f"情景：每笔贷款按违约率 {_percent(rate)} 违约（{len(outcome.loans)} 笔代偿）"
    else:
        scenario = f"情景：指定贷款全额违约：{'、'.join(o.loan for o in outcome.loans)}"
    rows = [
        *((("质押存单（先付）", outcome.deposit, None, outcome.deposit),) if pool.deposits else ()),
        *((PARTY_LABELS[p], outcome.borne(p), outcome.recovered_by.get(p), outcome.net(p)) for p in _stress_parties(pool)),
        ("须报管委会决定", outcome.uncovered, None, outcome.uncovered),
    ]
    # Each line in the program's words once (a name may contain a generic word); a table's
    # label before it is padded, so the columns stay aligned whatever the name's length.
    say = names.say
    lines = [say(line) for line in _stress_header(pool, exposures, recovery)]
    lines += [scenario, "", f"违约（应代偿）金额 {yuan(outcome.defaulted)} 元", ""]
    lines.append(pad("承担方", 16) + "".join(pad(h, 18, True) for h in ("代偿时承担", "追偿回收", "回收后净承担")))
    for name, borne, back, net in rows:
        lines.append(pad(say(name), 16) + "".join(pad(yuan(v), 18, True) for v in (borne, back, net)))
    if pool.room.any:
        lines.append(f"其中超出支付上限、由合作银行自担 {yuan(outcome.capped)} 元")
    if pool.residual:
        lines.append(say("追偿后仍未弥补的资金池损失的分担：" + "、".join(
            f"{PARTY_LABELS[p]} {yuan(v)} 元" for p, v in outcome.residual_by.items())))
    lines.append("")
    if outcome.committee_needed:
        lines.append(say(f"结论：风险补偿金不足以承担其分担部分，差额 {yuan(outcome.uncovered)} 元须报管委会办公会议决定"))
    else:
        lines.append("结论：资金池足以按分担表承担此情景的代偿" if pool.table
                     else "结论：两项资金足以按规定顺序承担此情景的代偿")
    lines.append(say(_threshold_line(threshold)))
    return "\n".join(lines)


def render_monte_carlo(
    pool: Any, exposures: Sequence[Any], rate: Decimal, recovery: Decimal,
    draws: Any, seed: int, threshold: Decimal | None, fmt: str, names: FundNames = GENERIC_NAMES,
) -> str:
    """The Monte Carlo stress report; the text in the program's fund names (as
    :func:`render_deterministic`)."""
    from zhubaodai import stress as core

    parties = _stress_parties(pool)
    figures = [
        ("defaulted", "违约金额", draws.defaulted),
        *((("deposit", "质押存单先付", draws.deposit),) if pool.deposits and draws.deposit is not None else ()),
        *((p, MC_BORNE[p], draws.borne(p)) for p in parties),
        ("committee", "须报管委会决定", draws.uncovered),
        *((("capped", "超出支付上限（银行自担）", draws.capped),) if pool.room.any and draws.capped is not None else ()),
        *((f"net_{p}", MC_NET[p], draws.net(p)) for p in parties),
        *((f"residual_{p}", f"追偿后损失由{PARTY_LABELS[p]}承担", v) for p, v in draws.residual_by.items()),
    ]
    summaries = [(key, label, core.summarise(values)) for key, label, values in figures]
    committee_share = Decimal(int((draws.uncovered > 0).sum())) / Decimal(draws.count)
    if fmt == "json":
        return json.dumps(
            {
                "program": pool.program,
                "date": pool.on.isoformat(),
                "draws": draws.count,
                "seed": seed,
                "default_probability": str(rate),
                "recovery_rate": str(recovery),
                "position": {"guarantee": str(pool.guarantee), "risk": str(pool.risk),
                             "risk_share": str(pool.risk_share), "loans": len(exposures),
                             "outstanding": str(sum((e.outstanding for e in exposures), Decimal("0.00")))},
                "figures": {
                    key: {"mean": str(s.mean), "max": str(s.maximum),
                          **{f"p{q}": str(v) for q, v in s.percentiles.items()}}
                    for key, _, s in summaries
                },
                "committee_probability": str(committee_share),
                "exhaustion_rate": None if threshold is None else str(threshold),
            },
            ensure_ascii=False, indent=2,
        )
    say = names.say  # each line once, a label before it is padded (as render_deterministic)
    lines = [say(line) for line in _stress_header(pool, exposures, recovery)]
    lines.append(f"蒙特卡罗：{draws.count:,} 次模拟，随机种子 {seed}，每笔贷款独立违约，违约概率 {_percent(rate)}")
    lines.append("")
    quantiles = list(core.PERCENTILES)
    heads = ["平均", *(f"P{q}" for q in quantiles), "最大"]
    lines.append(pad("（元）", 24) + "".join(pad(h, 18, True) for h in heads))
    for _, label, s in summaries:
        cells = [s.mean, *(s.percentiles[q] for q in quantiles), s.maximum]
        lines.append(pad(say(label), 24) + "".join(pad(yuan(v), 18, True) for v in cells))
    lines.append("")
    lines.append(say(f"须报管委会决定（风险补偿金不足）的模拟占比：{_percent(committee_share)}"))
    lines.append(say(_threshold_line(threshold)))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# zbd serve


@main.command()
@click.argument("ledger", type=click.Path(dir_okay=True))
@click.option("-p", "--port", type=click.IntRange(1, 65535), default=None, help="端口（默认 5000；带 --reviewers 时为 HTTPS 端口，默认 8443）。")
@click.option("--reviewers", type=click.Path(dir_okay=False), default=None,
              help="审阅人名单（htpasswd 文件，见 zbd reviewers）：经 nginx 以 HTTPS、登录、访问日志对网络提供只读访问。")
@click.option("--host", default="127.0.0.1", show_default=True, help="带 --reviewers 时 nginx 监听的地址（对局域网开放用 0.0.0.0）。")
@click.option("--state-dir", type=click.Path(file_okay=False), default=None,
              help="带 --reviewers 时存放访问日志与演示证书的目录（默认 ~/.local/state/zhubaodai）。")
@click.option("--cert", type=click.Path(dir_okay=False), default=None, help="带 --reviewers 时使用的正式 TLS 证书（PEM，含中间证书）。")
@click.option("--key", type=click.Path(dir_okay=False), default=None, help="与 --cert 配套的私钥（PEM）。")
def serve(ledger: str, port: int | None, reviewers: str | None, host: str, state_dir: str | None,
          cert: str | None, key: str | None) -> None:
    """以只读方式在 Fava 中打开账本，只监听本机（http://127.0.0.1:端口/）；带 --reviewers 时经 nginx 对审阅人开放。"""
    if not os.path.isfile(ledger):
        raise UserError(f"找不到账本文件：{ledger}")
    if reviewers is not None:
        from pathlib import Path

        from zhubaodai import serve as network

        network.serve(
            network.ServeOptions(
                ledger=Path(ledger), reviewers=Path(reviewers), host=host,
                port=port or network.DEFAULT_PORT,
                state_dir=Path(state_dir) if state_dir else network.default_state_dir(),
                certificate=cert, key=key,
            ),
            say,
        )
        return
    if cert or key or state_dir or host != "127.0.0.1":
        raise UserError("--host、--state-dir、--cert、--key 只能与 --reviewers 一起使用（不带登录的 Fava 只监听本机）")
    from fava.cli import main as fava_main

    port = port or 5000
    say(f"以只读方式启动 Fava：http://127.0.0.1:{port}/（按 Ctrl-C 停止）")
    fava_main.main(
        ["--read-only", "--host", "127.0.0.1", "--port", str(port), ledger],
        prog_name="zbd serve",
        standalone_mode=True,
    )


if __name__ == "__main__":  # pragma: no cover
    main()
