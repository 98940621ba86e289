"""A shape the engine does not implement is rejected on load, never ignored: an unknown key in
any mapping, a value of the wrong type, a list where one value is expected, a key given twice,
a parameter value of the wrong kind, a rule needing an account role the program did not map.
Each error names file:line and the key path and says in Chinese what is allowed.

Each case breaks the project's own rules.yaml in one place (see tests/test_rules_yaml.py
for the older cases: unknown rule id, missing citation, bad date …)."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_rules_yaml import TEXT
from test_rules_yaml import broken
from test_rules_yaml import line_of
from test_rules_yaml import replace_once
from test_rules_yaml import write_rules
from zhubaodai.core.rules import load_rules

CQ = "  CQGX:\n    name: 重庆高新区中小微企业\"助保贷\"\n"
FEE_RATE_PARAM = "          rate:\n            article: 第六条\n            values:\n              2021-02-24: 0.025\n"
ORDER = "              2021-02-24: [bank, risk, guarantee]\n"
DEDUCTIONS = "              2021-02-24: [costs]\n"


# (old text, new text, the line the error points at (a snippet of the new text), key, message part)
CASES = {
    # Unknown keys, at every level.
    "root": ("schema: 1\n", "schema: 1\nversion: 2\n", "version: 2", "(根).version", "此处可用：schema、programs、calendar"),
    "program": (CQ, CQ + "    region: 重庆\n", "    region: 重庆", "programs.CQGX.region", "此处可用：name、document"),
    "accounts": (
        "      disposal: Equity:CQGX:Disposal\n",
        "      disposal: Equity:CQGX:Disposal\n      deposit: Assets:CQGX:Pool:Deposit\n",
        "      deposit:", "programs.CQGX.accounts.deposit", "此处可用：pool、risk_fund",
    ),
    "parameter": (
        FEE_RATE_PARAM, FEE_RATE_PARAM.replace("            values:", "            unit: 百分比\n            values:"),
        "            unit: 百分比", "programs.CQGX.rules.fee.rate.params.rate.unit", "此处可用：article、values、document、assumption",
    ),
    # Wrong types.
    "schema as a flag": ("schema: 1\n", "schema: true\n", "schema: true", "schema", "仅支持 schema: 1"),
    "severity as a list": (
        "        severity: error\n        article: 第五条、第六条\n",
        "        severity: [error]\n        article: 第五条、第六条\n",
        "severity: [error]", "programs.CQGX.rules.fee.rate.severity", "error 或 warning",
    ),
    "name as a list": (CQ, CQ.replace("name: 重庆", "name: [重庆").replace("贷\"\n", "贷\"]\n"), "    name: [",
                       "programs.CQGX.name", "应为非空文字"),
    "values as a list": (
        FEE_RATE_PARAM, FEE_RATE_PARAM.replace("              2021-02-24: 0.025\n", "              - 0.025\n"),
        "            values:", "programs.CQGX.rules.fee.rate.params.rate.values", "应为映射",
    ),
    "params as a list": (
        "        params:\n" + FEE_RATE_PARAM, "        params: [rate]\n",
        "        params: [rate]", "programs.CQGX.rules.fee.rate.params", "应为映射",
    ),
    "effective as text": ("    effective: 2021-02-24\n", "    effective: 二〇二一年二月二十四日\n", "    effective: 二〇",
                          "programs.CQGX.effective", "YYYY-MM-DD"),
    # A list (or a mapping) where one value is expected.
    "a rate as a list": (
        FEE_RATE_PARAM, FEE_RATE_PARAM.replace(": 0.025", ": [0.02, 0.025]"),
        "2021-02-24: [0.02, 0.025]", "programs.CQGX.rules.fee.rate.params.rate.values.2021-02-24", "应为一个数字，不是列表",
    ),
    "a rate as a mapping": (
        FEE_RATE_PARAM, FEE_RATE_PARAM.replace(": 0.025", ": {secured: 0.025, unsecured: 0.04}"),
        "2021-02-24: {secured", "programs.CQGX.rules.fee.rate.params.rate.values.2021-02-24", "应为一个数字，不是映射",
    ),
    "an article as a list": (
        FEE_RATE_PARAM, FEE_RATE_PARAM.replace("article: 第六条", "article: [第五条, 第六条]"),
        "article: [第五条, 第六条]", "programs.CQGX.rules.fee.rate.params.rate.article", "应为非空文字",
    ),
    "an order as one value": (ORDER, "              2021-02-24: bank\n", "2021-02-24: bank",
                              "programs.CQGX.rules.recovery.order.params.order.values.2021-02-24", "应为列表"),
    # Parameter values of the wrong kind.
    "an order that is not a permutation": (
        ORDER, "              2021-02-24: [bank, risk]\n", "2021-02-24: [bank, risk]",
        "programs.CQGX.rules.recovery.order.params.order.values.2021-02-24", "的一个排列",
    ),
    "an unknown deduction": (
        DEDUCTIONS, "              2021-02-24: [costs, taxes]\n", "2021-02-24: [costs, taxes]",
        "programs.CQGX.rules.recovery.order.params.deductions.values.2021-02-24", "未知取值 ['taxes']",
    ),
    "a percentage written with %": (
        FEE_RATE_PARAM, FEE_RATE_PARAM.replace(": 0.025", ": 2.5%"), "2021-02-24: 2.5%",
        "programs.CQGX.rules.fee.rate.params.rate.values.2021-02-24", "如 2.5% 写作 0.025",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_unsupported_shape_is_rejected_with_file_line_and_key(tmp_path: Path, case: str) -> None:
    old, new, at, key, message = CASES[case]
    text = replace_once(TEXT, old, new)
    error = broken(tmp_path, text)
    assert error.key == key
    assert error.line == line_of(text, at)
    assert message in error.message, error.message


def test_an_amount_must_be_to_the_fen(tmp_path: Path) -> None:
    cap = "              2021-02-24: 50000000.00\n      notice.disbursement:"
    text = replace_once(TEXT, cap, cap.replace("50000000.00", "50000000.005"))
    error = broken(tmp_path, text)
    assert error.key == "programs.CQGX.rules.risk.cap.params.max.values.2021-02-24"
    assert error.line == line_of(text, "2021-02-24: 50000000.005")
    assert "应精确到分" in error.message


@pytest.mark.parametrize(
    ("old", "new", "at", "key"),
    [
        # The same program twice.
        ("programs:\n", "programs:\n  WLHT:\n    name: 重复\n", None, "WLHT"),
        # The same rule twice in a program.
        ("      fee.timing:\n", "      fee.rate:\n        severity: error\n      fee.timing:\n",
         "      fee.rate:\n        severity: error\n      fee.timing:", "fee.rate"),
        # The same key twice in a rule.
        ("        severity: error\n        article: 第五条、第六条\n",
         "        severity: error\n        severity: warning\n        article: 第五条、第六条\n", "        severity: warning", "severity"),
    ],
)
def test_a_key_given_twice_is_rejected(tmp_path: Path, old: str, new: str, at: str | None, key: str) -> None:
    text = replace_once(TEXT, old, new)
    error = broken(tmp_path, text)
    assert error.key == key and "键重复" in error.message
    if at is not None:
        assert error.line == line_of(text, at)
    else:  # the second occurrence
        assert error.line == text[: text.rindex(f" {key}:\n")].count("\n") + 1


def test_no_program_at_all(tmp_path: Path) -> None:
    error = broken(tmp_path, "schema: 1\nprograms: {}\n")
    assert (error.key, error.line) == ("programs", 2)
    assert "至少需要一个项目" in error.message


RELEASE = """      deposit.release:
        severity: error
        article: 第二条
        summary: 存单在贷款结清后方可解押。
"""


def test_a_rule_needing_an_unmapped_role_is_rejected(tmp_path: Path) -> None:
    """deposit.release needs the optional roles deposits and deposit_source: listed in a
    program that did not map them, the file is rejected; mapped, it loads."""
    text = replace_once(TEXT, "      fee.timing:\n", RELEASE + "      fee.timing:\n")
    error = broken(tmp_path, text)
    assert error.key == "programs.CQGX.rules.deposit.release"
    assert error.line == line_of(text, "      deposit.release:")
    assert "映射账户角色：deposits（企业质押存单" in error.message and "deposit_source（" in error.message
    assert "programs.CQGX.accounts" in error.message
    mapped = replace_once(
        text, "      disposal: Equity:CQGX:Disposal\n",
        "      disposal: Equity:CQGX:Disposal\n      deposits: Assets:CQGX:Deposits\n"
        "      deposit_source: Equity:CQGX:Deposits:Enterprises\n",
    )
    rulebook = load_rules(write_rules(tmp_path, mapped))
    assert rulebook.programs["CQGX"].accounts["deposits"] == "Assets:CQGX:Deposits"
    assert "deposits" not in rulebook.programs["WLHT"].accounts  # optional: not required elsewhere


def test_an_unknown_role_is_rejected_with_the_roles_allowed(tmp_path: Path) -> None:
    text = replace_once(TEXT, "      disposal: Equity:CQGX:Disposal\n", "      disposal: Equity:CQGX:Disposal\n      deposit: Assets:CQGX:Deposit\n")
    error = broken(tmp_path, text)
    assert error.key == "programs.CQGX.accounts.deposit" and "未知的键" in error.message
    assert "deposits" in error.message  # the optional roles are among those allowed


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("schema: 1\nprograms:\n  A1: &x {name: a}\n  B1:\n    <<: *x\n", 5, "不支持的 YAML 标签（不可用 <<: 合并键"),
        ("schema: 1\nprograms:\n\tCQGX: {}\n", 3, "不能用制表符（Tab）缩进"),
        ("schema: 1\nprograms:\n  CQGX: name: a\n", 3, "此处不能出现“键: 值”"),
        ("schema: 1\nprograms: !!python/object:os.system 1\n", 2, "不支持的 YAML 标签"),
    ],
)
def test_yaml_the_loader_does_not_read_is_rejected_in_chinese(tmp_path: Path, text: str, line: int, message: str) -> None:
    error = broken(tmp_path, text)
    assert (error.key, error.line) == ("YAML", line)
    assert error.message.startswith(f"无法解析：{message}"), error.message
