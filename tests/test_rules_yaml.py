"""rules.yaml is validated when loaded: every mistake is a clear RulesError naming key and line.

Each case takes the project's own rules.yaml and breaks one thing in it, as a person
editing it might. Through the plugin the same mistakes become one Beancount error in
Chinese (``bean-check`` exits 1, no traceback), and so do mistakes in the plugin's own
configuration. A changed rules.yaml is seen by a cached ``bean-check``: the plugin adds
the rules file to the ledger's include list, which Beancount's cache checks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from beancount import loader

import zhubaodai.plugin
from conftest import LEDGERS
from conftest import RULES_YAML
from zhubaodai.core.findings import ERROR
from zhubaodai.core.rules import ParamDateError
from zhubaodai.core.rules import RulesError
from zhubaodai.core.rules import load_rules
from zhubaodai.plugin import ConfigError
from zhubaodai.plugin import ZhubaodaiError
from zhubaodai.plugin import parse_config

TEXT = RULES_YAML.read_text(encoding="utf-8")
BEAN_CHECK = Path(sys.executable).parent / "bean-check"

# The CQGX fee.rate block as rules.yaml has it: the cases below break it one way each.
FEE_RATE = """\
      fee.rate:
        severity: error
        article: 第五条、第六条
"""
FEE_RATE_VALUE = "              2021-02-24: 0.025\n"


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, f"rules.yaml no longer contains {old!r}: update this test"
    return text.replace(old, new, 1)


def line_of(text: str, snippet: str) -> int:
    """1-based line where ``snippet`` starts (its first occurrence)."""
    return text[: text.index(snippet)].count("\n") + 1


def write_rules(directory: Path, text: str) -> Path:
    """rules.yaml in ``directory``, with the files it names beside it (the calendar)."""
    for sibling in ("calendar.yaml",):
        if (RULES_YAML.parent / sibling).exists():
            shutil.copy(RULES_YAML.parent / sibling, directory / sibling)
    path = directory / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def broken(tmp_path: Path, text: str) -> RulesError:
    path = write_rules(tmp_path, text)
    with pytest.raises(RulesError) as info:
        load_rules(path)
    error = info.value
    # Whatever the mistake: the file, the line and the key are named, in one Chinese line.
    assert error.filename == str(path)
    assert str(error).startswith(f"{path}:{error.line}: rules.yaml 有误（{error.key}）：")
    assert "\n" not in str(error)
    return error


# --------------------------------------------------------------------------------------
# Mistakes in rules.yaml.


def test_the_project_rules_load() -> None:
    rulebook = load_rules(RULES_YAML)
    assert set(rulebook.programs) >= {"CQGX", "WLHT"}
    rule = rulebook.programs["CQGX"].rules["fee.rate"]
    assert rule.severity == ERROR and rule.article == "第五条、第六条"


def test_unknown_key(tmp_path: Path) -> None:
    text = replace_once(TEXT, FEE_RATE, FEE_RATE + "        colour: red\n")
    error = broken(tmp_path, text)
    assert error.key == "programs.CQGX.rules.fee.rate.colour"
    assert error.line == line_of(text, "        colour: red")
    assert "未知的键" in error.message and "severity" in error.message


def test_missing_citation_of_a_rule(tmp_path: Path) -> None:
    text = replace_once(TEXT, FEE_RATE, FEE_RATE.replace("        article: 第五条、第六条\n", ""))
    error = broken(tmp_path, text)
    assert error.key == "programs.CQGX.rules.fee.rate.article"
    assert error.line == line_of(text, "      fee.rate:\n") + 1  # the rule's block
    assert error.message == "缺少必填的键"


def test_missing_citation_of_a_parameter(tmp_path: Path) -> None:
    old = "          rate:\n            article: 第六条\n            values:\n" + FEE_RATE_VALUE
    text = replace_once(TEXT, old, old.replace("            article: 第六条\n", ""))
    error = broken(tmp_path, text)
    assert error.key == "programs.CQGX.rules.fee.rate.params.rate.article"
    assert error.line == line_of(text, "            values:\n" + FEE_RATE_VALUE)
    assert error.message == "缺少必填的键"


def test_bad_date(tmp_path: Path) -> None:
    text = replace_once(TEXT, FEE_RATE_VALUE, "              2021-02-30: 0.025\n")
    error = broken(tmp_path, text)
    assert error.key == "2021-02-30"
    assert error.line == line_of(text, "2021-02-30")
    assert error.message == "不是有效的日期"


def test_effective_date_not_a_date(tmp_path: Path) -> None:
    text = replace_once(TEXT, FEE_RATE_VALUE, "              2021年2月24日: 0.025\n")
    error = broken(tmp_path, text)
    assert error.key == "programs.CQGX.rules.fee.rate.params.rate.values.2021年2月24日"
    assert error.line == line_of(text, "2021年2月24日")
    assert "YYYY-MM-DD" in error.message


@pytest.mark.parametrize("value", ["2.5", "-0.025", "1.000001"])
def test_rate_out_of_range(tmp_path: Path, value: str) -> None:
    text = replace_once(TEXT, FEE_RATE_VALUE, f"              2021-02-24: {value}\n")
    error = broken(tmp_path, text)
    assert error.key == "programs.CQGX.rules.fee.rate.params.rate.values.2021-02-24"
    assert error.line == line_of(text, f"2021-02-24: {value}\n")
    assert f"比例 {value} 超出范围" in error.message


def test_rate_not_a_number(tmp_path: Path) -> None:
    text = replace_once(TEXT, FEE_RATE_VALUE, "              2021-02-24: 2.5%\n")
    error = broken(tmp_path, text)
    assert error.key == "programs.CQGX.rules.fee.rate.params.rate.values.2021-02-24"
    assert "应为数字" in error.message


def test_unknown_rule_id(tmp_path: Path) -> None:
    text = replace_once(TEXT, FEE_RATE, FEE_RATE.replace("fee.rate:", "fee.rates:"))
    error = broken(tmp_path, text)
    assert error.key == "programs.CQGX.rules.fee.rates"
    assert error.line == line_of(text, "      fee.rates:")
    assert "未知的规则编号" in error.message


def test_unknown_param(tmp_path: Path) -> None:
    old = "        params:\n          rate:\n            article: 第六条\n            values:\n" + FEE_RATE_VALUE
    text = replace_once(TEXT, old, old.replace("          rate:", "          ratio:"))
    error = broken(tmp_path, text)
    assert error.key == "programs.CQGX.rules.fee.rate.params.ratio"
    assert error.line == line_of(text, "          ratio:")
    assert "未知参数" in error.message and "rate" in error.message


def test_duplicate_version_date(tmp_path: Path) -> None:
    text = replace_once(TEXT, FEE_RATE_VALUE, FEE_RATE_VALUE + "              2021-02-24: 0.03\n")
    error = broken(tmp_path, text)
    assert error.key == "2021-02-24"
    assert error.line == line_of(text, "              2021-02-24: 0.03")
    assert "键重复" in error.message


def test_bad_severity(tmp_path: Path) -> None:
    text = replace_once(TEXT, FEE_RATE, FEE_RATE.replace("severity: error", "severity: fatal"))
    error = broken(tmp_path, text)
    assert error.key == "programs.CQGX.rules.fee.rate.severity"
    assert error.line == line_of(text, "severity: fatal")
    assert "error 或 warning" in error.message


def test_bad_account(tmp_path: Path) -> None:
    text = replace_once(TEXT, "      guarantee_fund: Assets:CQGX:Pool:Guarantee\n",
                        "      guarantee_fund: Assets:CQGX:Pool:助保金\n")
    error = broken(tmp_path, text)
    assert error.key == "programs.CQGX.accounts.guarantee_fund"
    assert error.line == line_of(text, "guarantee_fund: Assets:CQGX:Pool:助保金")
    assert "不是有效的 Beancount 账户名" in error.message


def test_yaml_syntax_error(tmp_path: Path) -> None:
    old = "    cite_as: 渝高新发〔2021〕8号\n"
    text = replace_once(TEXT, old, '    cite_as: "渝高新发〔2021〕8号\n')
    error = broken(tmp_path, text)
    assert error.key == "YAML"
    assert error.line is not None and error.line >= line_of(text, '    cite_as: "渝高新发')
    assert error.message.startswith("无法解析")


def test_not_a_mapping(tmp_path: Path) -> None:
    error = broken(tmp_path, "- 这不是映射\n")
    assert (error.key, error.line) == ("(根)", 1)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "rules.yaml"
    with pytest.raises(RulesError) as info:
        load_rules(path)
    assert (info.value.key, info.value.line) == ("文件", None)
    assert str(info.value) == f"{path}: rules.yaml 有误（文件）：找不到规则文件"


def test_parameter_before_first_version() -> None:
    param = load_rules(RULES_YAML).programs["CQGX"].rules["fee.rate"].params["rate"]
    import datetime

    assert param.at(datetime.date(2021, 2, 24)) == param.values[0]
    with pytest.raises(ParamDateError) as info:
        param.at(datetime.date(2021, 2, 23))
    assert "2021-02-24" in str(info.value)


# --------------------------------------------------------------------------------------
# Through the plugin: a Beancount error in Chinese, never a traceback.


def ledger_using(directory: Path, config: str = "{'rules': 'rules.yaml'}") -> Path:
    """A copy of a passing rule ledger in ``directory``, its plugin configured by ``config``."""
    source = LEDGERS / "rules" / "fee.rate" / "cqgx-pass.beancount"
    text = source.read_text(encoding="utf-8")
    text = replace_once(text, "\"{'rules': '../../../../rules.yaml'}\"", f'"{config}"')
    text = replace_once(text, 'include "../../common/', f'include "{LEDGERS / "common"}/')
    path = directory / "main.beancount"
    path.write_text(text, encoding="utf-8")
    return path


def bean_check(path: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, BEANCOUNT_DISABLE_LOAD_CACHE="1")
    return subprocess.run(
        [str(BEAN_CHECK), str(path)], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


def test_ledger_copy_passes(tmp_path: Path) -> None:
    write_rules(tmp_path, TEXT)
    run = bean_check(ledger_using(tmp_path), tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr


def test_broken_rules_through_plugin(tmp_path: Path) -> None:
    text = replace_once(TEXT, FEE_RATE_VALUE, "              2021-02-24: 2.5\n")
    rules = write_rules(tmp_path, text)
    line = line_of(text, "2021-02-24: 2.5\n")
    ledger = ledger_using(tmp_path)

    _, errors, _ = loader.load_file(str(ledger))
    [error] = errors
    assert isinstance(error, ZhubaodaiError)
    assert error.source == {"filename": str(rules), "lineno": line}
    assert error.message == (
        "[zhubaodai] 比例 2.5 超出范围（0 到 1 之间的小数）"
        "（programs.CQGX.rules.fee.rate.params.rate.values.2021-02-24）"
    )

    run = bean_check(ledger, tmp_path)
    assert run.returncode == 1
    out = run.stdout + run.stderr
    assert f"{rules}:{line}:" in out and "比例 2.5 超出范围" in out
    assert "Traceback" not in out


def test_yaml_syntax_error_through_plugin(tmp_path: Path) -> None:
    write_rules(tmp_path, TEXT + "  : [\n")
    run = bean_check(ledger_using(tmp_path), tmp_path)
    assert run.returncode == 1
    out = run.stdout + run.stderr
    assert "[zhubaodai] 无法解析" in out and "Traceback" not in out


def test_missing_rules_through_plugin(tmp_path: Path) -> None:
    ledger = ledger_using(tmp_path, "{'rules': 'missing.yaml'}")
    run = bean_check(ledger, tmp_path)
    assert run.returncode == 1
    out = run.stdout + run.stderr
    assert f"{tmp_path / 'missing.yaml'}:0: [zhubaodai] 找不到规则文件（文件）" in out
    assert "Traceback" not in out


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("{'rules': ", "插件配置应为 Python 字典字面量"),
        ("['rules.yaml']", "插件配置应为字典"),
        ("{'rule': 'rules.yaml'}", "插件配置含未知的键 ['rule']；可用：rules、strict"),
        ("{'rules': 1}", "插件配置 rules 应为规则文件路径（文字）"),
        ("{'strict': 'yes'}", "插件配置 strict 应为 True 或 False"),
        ("__import__('os')", "插件配置应为 Python 字典字面量"),
    ],
)
def test_plugin_config_errors(tmp_path: Path, config: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(config)
    assert message in str(info.value)

    write_rules(tmp_path, TEXT)
    ledger = ledger_using(tmp_path, config.replace('"', '\\"'))
    _, errors, _ = loader.load_file(str(ledger))
    [error] = errors
    assert error.message.startswith("[zhubaodai] ") and message in error.message
    assert error.source == {"filename": str(ledger), "lineno": 0}


def test_plugin_config_error_through_bean_check(tmp_path: Path) -> None:
    write_rules(tmp_path, TEXT)
    run = bean_check(ledger_using(tmp_path, "{'rule': 'rules.yaml'}"), tmp_path)
    assert run.returncode == 1
    out = run.stdout + run.stderr
    assert "插件配置含未知的键" in out and "Traceback" not in out


def test_plugin_config_defaults() -> None:
    assert parse_config(None) == {}
    assert parse_config("  ") == {}
    assert parse_config("{'rules': 'r.yaml', 'strict': True}") == {"rules": "r.yaml", "strict": True}


# --------------------------------------------------------------------------------------
# Beancount's pickle cache sees a changed rules.yaml.


@pytest.fixture
def cached_loader(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Beancount's loader with its pickle cache on for every load (threshold 0 s)."""
    monkeypatch.setattr(loader, "PICKLE_CACHE_THRESHOLD", 0.0)
    loader.initialize(use_cache=True, cache_filename=str(tmp_path / "cache" / ".{filename}.picklecache"))
    (tmp_path / "cache").mkdir()
    try:
        yield tmp_path / "cache" / ".main.beancount.picklecache"
    finally:
        loader.initialize(use_cache=False)


def test_changed_rules_invalidate_the_cache(
    tmp_path: Path, cached_loader: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    analyse = zhubaodai.plugin.analyse

    def counting(*args):
        calls.append(1)
        return analyse(*args)

    monkeypatch.setattr(zhubaodai.plugin, "analyse", counting)
    ledger_dir = tmp_path / "books"
    ledger_dir.mkdir()
    rules = write_rules(ledger_dir, TEXT)
    ledger = ledger_using(ledger_dir)

    _, errors, options = loader.load_file(str(ledger))
    assert errors == [] and len(calls) == 1
    assert cached_loader.exists()
    assert str(rules) in options["include"]

    # Unchanged: a cache hit, the plugin does not run again.
    _, errors, _ = loader.load_file(str(ledger))
    assert errors == [] and len(calls) == 1

    # The fee rate goes up: the cached result must not be reused.
    rules.write_text(replace_once(TEXT, FEE_RATE_VALUE, "              2021-02-24: 0.03\n"), encoding="utf-8")
    stat = rules.stat()
    os.utime(rules, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    _, errors, _ = loader.load_file(str(ledger))
    assert len(calls) == 2
    messages = [e.message for e in errors]
    assert any(m.startswith("[fee.rate]") and "应缴 90,000.00 元，实缴 75,000.00 元" in m for m in messages), messages


def test_an_engine_failure_is_one_chinese_error_without_traceback(monkeypatch) -> None:
    """Should the engine ever raise, bean-check shows one Chinese line, not Python's traceback."""
    from beancount import loader

    import zhubaodai.plugin

    def broken(*args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(zhubaodai.plugin, "analyse", broken)
    ledger = Path(__file__).parent / "ledgers" / "rules" / "fee.rate" / "cqgx-pass.beancount"
    _, errors, _ = loader.load_file(str(ledger))
    messages = [e.message for e in errors]
    assert len(messages) == 1, messages
    assert messages[0].startswith("[zhubaodai] 规则引擎内部错误") and "ZeroDivisionError" in messages[0]
    assert "Traceback" not in messages[0]


# --------------------------------------------------------------------------------------
# The waterfall as a table of parties (comp.shares) and a program without a guarantee fund.

SZPS_PARTIES = """\
              2026-02-05:
                risk: 0.40
                guarantor: 0.40
                bank: rest
"""


def test_the_szps_table_loads_in_order_with_the_rest() -> None:
    table = load_rules(RULES_YAML).programs["SZPS"].rules["comp.shares"].param("parties", __import__("datetime").date(2026, 3, 1))
    assert [(row.party, str(row.share), row.rest, row.pool) for row in table] == [
        ("risk", "0.40", False, True), ("guarantor", "0.40", False, False), ("bank", "0.20", True, False)]
    assert [row.meta_key for row in table] == ["risk_share", "guarantor_share", "bank_share"]


@pytest.mark.parametrize(
    ("table", "line_key", "message"),
    [
        (SZPS_PARTIES.replace("guarantor: 0.40", "guarantor: 0.50"), "bank: rest", None),  # 0.90 + rest: fine
        (SZPS_PARTIES.replace("bank: rest", "bank: 0.10"), "2026-02-05:", "各方比例之和为 0.90，应为 1"),
        (SZPS_PARTIES.replace("guarantor: 0.40", "guarantor: rest"), "2026-02-05:", "至多一方的比例写 rest"),
        (SZPS_PARTIES.replace("guarantor: 0.40", "reinsurer: 0.40"), "2026-02-05:", "未知的承担方 ['reinsurer']"),
        (SZPS_PARTIES.replace("risk: 0.40", "risk: 1.40"), "2026-02-05:", "承担方 risk 的比例 1.40 应为 0 到 1 之间的小数或 rest"),
        (SZPS_PARTIES.replace("                risk: 0.40\n", "                insurer: 0.40\n"), "2026-02-05:",
         "至少一方应为资金池的资金"),
    ],
)
def test_a_bad_table_of_parties_is_refused_with_its_line(tmp_path: Path, table: str, line_key: str, message: str | None) -> None:
    text = replace_once(TEXT, SZPS_PARTIES, table)
    if message is None:
        load_rules(write_rules(tmp_path, text))
        return
    error = broken(tmp_path, text)
    assert error.key == "programs.SZPS.rules.comp.shares.params.parties.values.2026-02-05"
    assert error.line == line_of(text, "              2026-02-05:\n                " + table.split("\n")[1].strip())
    assert message in error.message


def test_a_program_may_not_have_both_waterfall_forms(tmp_path: Path) -> None:
    text = replace_once(TEXT, "      comp.shares:\n", """\
      comp.waterfall:
        severity: error
        article: 第二条
        summary: 试验
        params:
          risk_share:
            article: 第二条
            values:
              2026-02-05: 0.5
      comp.shares:
""")
    error = broken(tmp_path, text)
    assert error.key == "programs.SZPS.rules.comp.shares" and "只能选用其一" in error.message


def test_guarantee_fund_roles_are_all_or_none(tmp_path: Path) -> None:
    text = replace_once(TEXT, "      risk_fund: Assets:SZPS:Pool:Risk\n",
                        "      risk_fund: Assets:SZPS:Pool:Risk\n      guarantee_fund: Assets:SZPS:Pool:Guarantee\n")
    error = broken(tmp_path, text)
    assert error.key == "programs.SZPS.accounts"
    assert "全部映射或全部不映射" in error.message and "fee_income" in error.message
    # And a required role is still required.
    error = broken(tmp_path, replace_once(TEXT, "      recovery_risk: Income:SZPS:Risk:Recovery\n", ""))
    assert error.key == "programs.SZPS.accounts.recovery_risk" and error.message == "缺少必填的键"


def test_unknown_trigger(tmp_path: Path) -> None:
    text = replace_once(TEXT, "              2026-02-05: npl\n", "              2026-02-05: ninety_days\n")
    error = broken(tmp_path, text)
    assert error.key == "programs.SZPS.rules.comp.scope.params.trigger.values.2026-02-05"
    assert error.line == line_of(text, "              2026-02-05: ninety_days")
    assert "未知取值 'ninety_days'" in error.message and "npl" in error.message
