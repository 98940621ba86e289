"""click's own words in Chinese, for every zbd command (``zbd``, ``zbd import``, ``zbd generate``
and the modules' own ``python -m`` entry points).

click writes its usage errors and help headings ("Usage:", "Options:", "Error: No such option",
"Missing argument", "Show this message and exit.", "Invalid value for", "does not exist" …)
through :func:`gettext.gettext` and :func:`gettext.ngettext`, imported by name into each of its
modules (``from gettext import gettext as _``). Installing a gettext catalogue would not reach
them cleanly: click uses gettext's *global* default domain ("messages"), so a catalogue would
have to be made the whole process's domain and would only be chosen when the user's locale
variables (LANGUAGE, LC_ALL, LANG) say Chinese — a commit hook or CI with ``LANG=C`` would get
English again. So the translation lives here as a Python table and is swapped into click's
modules only while a zbd command runs (:func:`chinese`, entered by :class:`ChineseCommand` and
:class:`ChineseGroup` in ``main``) and restored afterwards: a program that imports zhubaodai and
uses click for itself keeps click's English.

Parameter placeholders click builds from English names are set once, when a command is built
(:func:`chinese_params`): ``[OPTIONS]`` → ``[选项]``, ``COMMAND [ARGS]...`` → ``命令 [参数]...``,
argument names (``LEDGER`` → ``账本``) and type names (``TEXT`` → ``文本``, ``INTEGER`` → ``整数``,
``FILE`` → ``文件``). Choices (``[text|json]``) and option names stay as typed.

``tests/test_clitext.py`` extracts every message from the installed click's source and fails
when one has no translation here, so an upgrade of click that adds a message is noticed.
"""

from __future__ import annotations

import importlib
import re
import threading
import unicodedata
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

import click

#: click's messages (``_("…")``) in Chinese. Placeholders are click's own; a translation may
#: leave out one that would put an English word into the sentence (a type's English name).
MESSAGES: dict[str, str] = {
    # Help pages.
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "位置参数",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本并退出。",
    "%(prog)s, version %(version)s": "%(prog)s，版本 %(version)s",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "required": "必填",
    "(dynamic)": "（运行时决定）",
    "deprecated": "已弃用",
    "Confirm the action without prompting.": "不经询问直接确认。",
    "Do you want to continue?": "是否继续？",
    # Usage errors.
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "用 '{command} {option}' 查看帮助。",
    "Missing command.": "缺少命令。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少参数",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Invalid value: {message}": "值无效：{message}",
    "Option {name!r} does not take a value.": "选项 {name!r} 不带值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
    "Invalid start character for option ({option})": "选项的开头字符无效（{option}）",
    "Value must be an iterable.": "值应为多个值的序列。",
    "unknown error": "未知错误",
    "Aborted!": "已中止。",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    # Values of a type.
    "file": "文件",
    "directory": "目录",
    "path": "路径",
    "{name} {filename!r} does not exist.": "{filename!r} 不存在。",
    "{name} {filename!r} is a file.": "{filename!r} 是文件（应为目录）。",
    "{name} {filename!r} is a directory.": "{filename!r} 是目录（应为文件）。",
    "{name} {filename!r} is not readable.": "{filename!r} 不可读。",
    "{name} {filename!r} is not writable.": "{filename!r} 不可写。",
    "{name} {filename!r} is not executable.": "{filename!r} 不可执行。",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的数字。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "{value!r} 不是有效的是/否值；可用：{states}",
    "{value!r} is not a valid UUID.": "{value!r} 不是有效的 UUID。",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "Choice({choices})": "可选值（{choices}）",
    # Prompts and terminal.
    "Press any key to continue...": "按任意键继续……",
    "Repeat for confirmation": "再输入一次以确认",
    "Error: The two entered values do not match.": "错误：两次输入不一致。",
    "Error: invalid input": "错误：输入无效",
    "Unknown color {colour!r}": "未知颜色 {colour!r}",
    "d": "天",
    "{editor}: Editing failed": "{editor}：编辑失败",
    "{editor}: Editing failed: {e}": "{editor}：编辑失败：{e}",
    "Windows error: {error}": "Windows 错误：{error}",
    "Unknown standard stream '{name}'": "未知的标准流 '{name}'",
    "Couldn't detect Bash version, shell completion is not supported.": "无法判断 Bash 版本，不支持命令补全。",
    "Shell completion is not supported for Bash versions older than 4.4.": "Bash 4.4 以前的版本不支持命令补全。",
    "DeprecationWarning: The command {name!r} is deprecated.{extra_message}": "弃用警告：命令 {name!r} 已弃用。{extra_message}",
    "DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}": "弃用警告：参数 {name!r} 已弃用。{extra_message}",
    # Mistakes in a command's definition (a programmer's, not a user's).
    "Could not determine name for option with declarations {decls!r}": "无法从声明 {decls!r} 确定选项名",
    "No options defined but a name was passed ({name}). Did you mean to declare an argument instead? Did you mean to pass '--{name}'?":
        "没有定义选项却给出了名称（{name}）。是要声明参数，还是要写 '--{name}'？",
    "Arguments take exactly one parameter declaration, got {length}: {decls}.": "参数只能有一个声明，却有 {length} 个：{decls}。",
    "Name '{name}' defined twice": "名称 '{name}' 定义了两次",
    "Boolean option {decl!r} cannot use the same flag for true/false.": "是/否选项 {decl!r} 的真、假两种写法不能相同。",
}

#: click's singular/plural messages (``ngettext``), each form in Chinese with the placeholders of
#: the English form it stands for.
PLURALS: dict[tuple[str, str], tuple[str, str]] = {
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"):
        ("多余的参数（{args}）", "多余的参数（{args}）"),
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."):
        ("需要 {nargs} 个值，却只给了 1 个。", "需要 {nargs} 个值，却给了 {len} 个。"),
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"):
        ("是否想用 {possibility}？", "（是否想用其中之一：{possibilities}？）"),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."):
        ("选项 {name!r} 需要一个值。", "选项 {name!r} 需要 {nargs} 个值。"),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."):
        ("{value!r} 不是 {choice}。", "{value!r} 不是 {choices} 之一。"),
    ("{value!r} does not match the format {format}.", "{value!r} does not match the formats {formats}."):
        ("{value!r} 不符合格式 {format}。", "{value!r} 不符合格式 {formats} 中的任何一种。"),
    ("{len_type} values are required, but {len_value} was given.", "{len_type} values are required, but {len_value} were given."):
        ("需要 {len_type} 个值，却给了 {len_value} 个。", "需要 {len_type} 个值，却给了 {len_value} 个。"),
}

#: The click modules that import gettext's functions by name.
CLICK_MODULES: tuple[str, ...] = (
    "click.core", "click.decorators", "click.exceptions", "click.formatting", "click.parser",
    "click.shell_completion", "click.termui", "click.types", "click.utils", "click._termui_impl",
)

#: Arguments' names as the help and the usage errors show them.
ARGUMENT_NAMES: dict[str, str] = {
    "ledger": "账本",
    "sources": "对账单",
    "source": "对账单",
    "output": "输出文件",
    "out": "输出文件",
    "path": "路径",
    "rules_file": "规则文件",
}

OPTIONS_METAVAR = "[选项]"
#: click's placeholders for a group's command, in Chinese.
SUBCOMMAND_METAVARS: dict[str, str] = {
    "COMMAND [ARGS]...": "命令 [参数]...",
    "[COMMAND] [ARGS]...": "[命令] [参数]...",
    "COMMAND1 [ARGS]... [COMMAND2 [ARGS]...]...": "命令1 [参数]... [命令2 [参数]...]...",
    "[COMMAND1] [ARGS]... [COMMAND2 [ARGS]...]...": "[命令1] [参数]... [命令2 [参数]...]...",
}


def translate(message: str) -> str:
    """click's ``gettext``: the Chinese of one of its messages (unknown ones unchanged)."""
    if message == "Error: {message}":
        return _ErrorLine(MESSAGES[message])
    return MESSAGES.get(message, message)


#: A full stop click appends to a message by hand (f"{missing}{param_hint}.{msg}"), after a
#: quote, a bracket or a Chinese character; and the space it puts between two sentences.
_FULL_STOP = re.compile(r"(?<=['\"）)\u3400-\u9fff])\.(?=\s|$)")
_SENTENCE_GAP = re.compile(r"(?<=[。？！）])[ \t]+")


class _ErrorLine(str):
    """The "错误：…" line: click's own full stops in the message become Chinese ones."""

    def format(self, *args: Any, **kwargs: Any) -> str:  # noqa: A003 - str's own name
        message = str(kwargs.get("message", ""))
        message = _SENTENCE_GAP.sub("", _FULL_STOP.sub("。", message))
        return str.format(self, *args, **{**kwargs, "message": message})


def translate_plural(singular: str, plural: str, n: int) -> str:
    """click's ``ngettext``: the Chinese of the form ``n`` asks for (unknown ones unchanged)."""
    forms = PLURALS.get((singular, plural))
    if forms is None:
        return singular if n == 1 else plural
    return forms[0] if n == 1 else forms[1]


_lock = threading.RLock()
_depth = 0
_saved: dict[str, tuple[Any, Any]] = {}


@contextmanager
def chinese() -> Iterator[None]:
    """click speaks Chinese inside the block (nested blocks are fine); restored after."""
    global _depth
    with _lock:
        if _depth == 0:
            for name in CLICK_MODULES:
                try:
                    module = importlib.import_module(name)
                except ImportError:  # a platform's module (click._winconsole) or an older click
                    continue
                _saved[name] = (getattr(module, "_", None), getattr(module, "ngettext", None))
                if hasattr(module, "_"):
                    module._ = translate  # type: ignore[attr-defined]
                if hasattr(module, "ngettext"):
                    module.ngettext = translate_plural  # type: ignore[attr-defined]
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                for name, (gettext, ngettext) in _saved.items():
                    module = importlib.import_module(name)
                    if gettext is not None:
                        module._ = gettext  # type: ignore[attr-defined]
                    if ngettext is not None:
                        module.ngettext = ngettext  # type: ignore[attr-defined]
                _saved.clear()


def _type_metavar(param: click.Parameter) -> str | None:
    """A parameter type's name in Chinese, for the placeholder in help and usage."""
    kind = param.type
    if isinstance(kind, click.Path):
        if kind.file_okay and not kind.dir_okay:
            return "文件"
        if kind.dir_okay and not kind.file_okay:
            return "目录"
        return "路径"
    if isinstance(kind, click.File):
        return "文件"
    if isinstance(kind, (click.types.IntParamType, click.IntRange)):
        return "整数"
    if isinstance(kind, (click.types.FloatParamType, click.FloatRange)):
        return "数值"
    if isinstance(kind, click.types.BoolParamType):
        return "是/否"
    if isinstance(kind, click.types.StringParamType):
        return "文本"
    return None  # Choice and DateTime name their values themselves


def chinese_params(command: click.Command) -> click.Command:
    """Set Chinese placeholders on ``command`` (and, for a group, its commands): [选项],
    argument names, type names. Placeholders a command's author set are kept."""
    if command.context_class is click.Context:
        command.context_class = ChineseContext
    if command.options_metavar == "[OPTIONS]":
        command.options_metavar = OPTIONS_METAVAR
    if isinstance(command, click.Group) and command.subcommand_metavar in SUBCOMMAND_METAVARS:
        command.subcommand_metavar = SUBCOMMAND_METAVARS[command.subcommand_metavar]
    for param in command.params:
        if param.metavar is not None:
            continue
        if isinstance(param, click.Argument):
            name = ARGUMENT_NAMES.get(param.name or "", (param.name or "").upper())
            if not param.required:
                name = f"[{name}]"
            param.metavar = name + ("..." if param.nargs != 1 else "")
        elif isinstance(param, click.Option) and not param.is_flag and not param.count:
            kind = _type_metavar(param)
            if kind is not None:
                param.metavar = kind + ("..." if param.nargs != 1 else "")
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            chinese_params(sub)
    return command


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


class ChineseFormatter(click.HelpFormatter):
    """Help pages laid out for Chinese: headings end in "：", "用法：" is followed by the
    command without a space, and option columns line up by display width (click counts a
    Chinese character as one column)."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, translate("Usage:") if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}：\n")

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        if not rows:
            return
        first_col = min(max(display_width(first) for first, _ in rows), col_max) + col_spacing
        indent = " " * self.current_indent
        for first, second in rows:
            self.write(f"{indent}{first}")
            if not second:
                self.write("\n")
                continue
            if display_width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - display_width(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = _wrap(second, max(self.width - first_col - self.current_indent, 20))
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write(" " * (first_col + self.current_indent) + line + "\n")


#: Marks that never start a line (they stay on the line before, a column over if need be).
_CLOSING = frozenset("]）)。，、；：！？”’")


def _wrap(text: str, columns: int) -> list[str]:
    """``text`` in lines of at most ``columns`` display columns (Chinese has no spaces to
    break at, so any character may start a line; an ASCII word is kept whole)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for token in re.findall(r"[!-~]+|\s+|.", paragraph):
            if line and display_width(line + token) > columns and token not in _CLOSING:
                lines.append(line.rstrip())
                token = token.lstrip()
                line = ""
            line += token
        lines.append(line.rstrip())
    return lines or [""]


class ChineseContext(click.Context):
    """A context whose help pages use :class:`ChineseFormatter`."""

    formatter_class = ChineseFormatter


class ChineseCommand(click.Command):
    """A click command whose help and usage errors are Chinese."""

    context_class = ChineseContext

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chinese_params(self)

    def main(self, args: Sequence[str] | None = None, *more: Any, **kwargs: Any) -> Any:
        with chinese():
            return super().main(args, *more, **kwargs)


class ChineseGroup(click.Group):
    """A click command group whose help and usage errors are Chinese (its commands' too)."""

    command_class = ChineseCommand
    context_class = ChineseContext

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chinese_params(self)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        super().add_command(chinese_params(cmd), name)

    def main(self, args: Sequence[str] | None = None, *more: Any, **kwargs: Any) -> Any:
        with chinese():
            return super().main(args, *more, **kwargs)


# ``ChineseGroup.group_class``: subgroups made with ``@group.group()`` are Chinese too.
ChineseGroup.group_class = ChineseGroup

__all__ = [
    "ChineseCommand", "ChineseGroup", "MESSAGES", "PLURALS", "chinese", "chinese_params", "translate",
    "translate_plural",
]
