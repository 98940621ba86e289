"""One voice at the command line: click's own usage errors and help texts are Chinese for
every zbd command (zbd import and zbd generate included, and their ``python -m`` entry
points), and no English sentence of click's message catalogue reaches the user."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from zhubaodai import clitext
from zhubaodai.cli import main
from zhubaodai.importers import cli as importers

ROOT = Path(__file__).resolve().parent.parent


def click_catalogue() -> tuple[set[str], set[tuple[str, str]]]:
    """Every message the installed click passes to gettext: ``_("…")`` and
    ``ngettext("…", "…", n)`` in each of its modules."""
    singles: set[str] = set()
    plurals: set[tuple[str, str]] = set()
    for path in Path(click.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            texts = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if node.func.id == "_" and texts:
                singles.add(texts[0])
            elif node.func.id == "ngettext" and len(texts) >= 2:
                plurals.add((texts[0], texts[1]))
    return singles, plurals


SINGLES, PLURALS = click_catalogue()


def english_fragments() -> list[str]:
    """The English words of click's catalogue as they would appear in output: each message
    cut at its placeholders, fragments of at least one word of four letters or more."""
    fragments: set[str] = set()
    for message in [*SINGLES, *(form for pair in PLURALS for form in pair)]:
        for part in re.split(r"\{[^}]*\}|%\([^)]*\)s|\n|\t", message):
            part = part.strip(" .:!?()'\"")
            if re.search(r"[A-Za-z]{4,}", part):
                fragments.add(part)
    return sorted(fragments, key=len, reverse=True)


FRAGMENTS = english_fragments()


def test_the_catalogue_is_read_from_click():
    # The extraction itself works (else the tests below would pass on nothing).
    assert "Usage:" in SINGLES and "Show this message and exit." in SINGLES
    assert any(single.startswith("Did you mean") for single, _ in PLURALS)
    assert "Missing argument" in FRAGMENTS and "does not exist" in FRAGMENTS


def test_every_click_message_has_a_chinese_translation():
    """An upgrade of click that adds a message fails here until it is translated."""
    assert sorted(SINGLES - set(clitext.MESSAGES)) == []
    assert sorted(PLURALS - set(clitext.PLURALS)) == []
    for english, chinese in clitext.MESSAGES.items():
        assert not re.search(r"[A-Za-z]{4,}", re.sub(r"\{[^}]*\}|%\([^)]*\)s|Windows|UUID|Bash", "", chinese)), english
        # A translation uses no placeholder click does not fill.
        assert set(re.findall(r"\{(\w+)", chinese)) <= set(re.findall(r"\{(\w+)", english)), english
    for (singular, plural), (one, many) in clitext.PLURALS.items():
        assert set(re.findall(r"\{(\w+)", one)) <= set(re.findall(r"\{(\w+)", singular)), singular
        assert set(re.findall(r"\{(\w+)", many)) <= set(re.findall(r"\{(\w+)", plural)), plural


def assert_no_english(output: str, what: object) -> None:
    found = [f for f in FRAGMENTS if re.search(rf"(?<![A-Za-z_-]){re.escape(f)}(?![A-Za-z_-])", output)]
    assert found == [], (what, found, output)
    for word in ("Usage:", "Options:", "Commands:", "Error:", "[OPTIONS]", "COMMAND", "TEXT", "INTEGER",
                 "FILE", "PATH", "LEDGER", "SOURCES"):
        assert word not in output, (what, word, output)


def zbd(*args: str) -> click.testing.Result:
    return CliRunner().invoke(main, list(args), prog_name="zbd")


def commands() -> list[str]:
    with click.Context(main) as ctx:
        return main.list_commands(ctx)


def test_every_commands_help_is_chinese():
    assert {"check", "report", "stress", "serve", "generate", "import"} <= set(commands())
    pages = {(): zbd("--help")}
    for name in commands():
        pages[(name,)] = zbd(name, "--help")
    for name in ("identify", "extract", "archive"):
        pages[("python -m zhubaodai.importers", name)] = CliRunner().invoke(importers.cli, [name, "--help"])
    pages[("python -m zhubaodai.importers",)] = CliRunner().invoke(importers.cli, ["--help"])
    for what, result in pages.items():
        assert result.exit_code == 0, (what, result.output)
        assert result.output.startswith("用法："), (what, result.output)
        assert "选项：" in result.output and "显示本帮助并退出。" in result.output, (what, result.output)
        assert_no_english(result.output, what)
    assert "命令：" in pages[()].output and "用法：zbd [选项] 命令 [参数]..." in pages[()].output
    assert "用法：zbd check [选项] 账本" in pages[("check",)].output
    assert "用法：zbd import [选项] [对账单]..." in pages[("import",)].output
    assert "[默认：text]" in pages[("check",)].output and "[必填]" in pages[("report",)].output
    assert "-o, --output 文件" in pages[("generate",)].output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["check"], "缺少参数 '账本'。"),
        (["check", "x.beancount", "--bogus"], "没有选项 '--bogus'。"),
        (["check", "x.beancount", "--strik"], "是否想用 '--strict'？"),
        (["check", "x.beancount", "--format", "xml"], "'--format' 的值无效：'xml' 不是 'text', 'json' 之一。"),
        (["check", "a", "b"], "多余的参数（b）"),
        (["chek"], "没有命令 'chek'。是否想用 'check'？"),
        (["report", "x.beancount", "-o", "x.xlsx"], "缺少选项 '--period'。"),
        (["report", "x.beancount", "--period"], "选项 '--period' 需要一个值。"),
        (["serve", "x.beancount", "--port", "0"], "0 不在范围 1<=x<=65535 内。"),
        (["serve", "x.beancount", "--port", "abc"], "'abc' 不是有效的数字。"),
        (["stress", "x.beancount", "--monte-carlo", "0"], "的值无效"),
        (["generate"], "缺少选项 '--output' / '-o'。"),
        (["generate", "-o", "x.beancount", "--transactions", "many"], "'many' 不是有效的数字。"),
        (["generate", "-o", "x.beancount", "--rules"], "选项 '--rules' 需要一个值。"),
        (["import", "--nope"], "没有选项 '--nope'。"),
        (["import", "a.csv", "-o"], "选项 '-o' 需要一个值。"),
        (["--nope"], "没有选项 '--nope'。"),
    ],
)
def test_usage_errors_are_chinese_and_exit_2(args, expected):
    result = zbd(*args)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "错误：" in result.output
    assert_no_english(result.output, args)


def test_a_path_that_does_not_exist_is_said_in_chinese():
    command = click.Command("demo", params=[click.Argument(["src"], type=click.Path(exists=True))])
    wrapped = clitext.ChineseCommand("demo", params=command.params)
    result = CliRunner().invoke(wrapped, ["/nonexistent/账本.beancount"])
    assert result.exit_code == 2
    assert "'/nonexistent/账本.beancount' 不存在。" in result.output
    assert_no_english(result.output, "path")


def test_click_speaks_english_again_outside_zbd():
    """The translation is in force only while a zbd command runs: a program that imports
    zhubaodai and uses click for itself keeps click's own words."""
    assert zbd("check").exit_code == 2
    plain = click.Command("plain", params=[click.Argument(["x"])])
    result = CliRunner().invoke(plain, [])
    assert "Usage:" in result.output and "Missing argument 'X'." in result.output
    assert click.core._("Usage:") == "Usage:"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "argv",
    [
        ["-m", "zhubaodai.scripts.ledgergen", "--transactions", "abc", "-o", "x.beancount"],
        ["-m", "zhubaodai.importers", "extract", "--bogus"],
        ["-m", "zhubaodai.importers", "nosuch"],
    ],
)
def test_the_modules_own_entry_points_are_chinese_too(argv, tmp_path):
    result = subprocess.run([sys.executable, *argv], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("用法：") and "错误：" in result.stderr
    assert_no_english(result.stderr, argv)
    assert "Traceback" not in result.stderr
