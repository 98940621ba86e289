"""A program's own names of its funds (rules.yaml ``names:``, zhubaodai.core.names): validated
on load with file:line:key; every finding about the program says them; the JSON keys of its
figures stay those of the generic labels; a program without ``names:`` reads word for word as
before (tests/snapshots/engine.json pins CQGX and WLHT)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from beancount import loader
from click.testing import CliRunner

from test_rules_yaml import TEXT
from test_rules_yaml import broken
from test_rules_yaml import line_of
from test_rules_yaml import replace_once
from zhubaodai.cli import main
from zhubaodai.core.engine import result_of
from zhubaodai.core.names import GENERIC_NAMES
from zhubaodai.core.names import FundNames
from zhubaodai.core.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules.yaml"
LEDGERS = ROOT / "tests" / "ledgers" / "rules"
CQ_EFFECTIVE = "  CQGX:\n    name: 重庆高新区中小微企业\"助保贷\"\n"
SZ_NAMES = "    names:\n      risk_fund: 资金池\n"


def test_the_programs_name_their_funds_as_their_documents_do() -> None:
    programs = load_rules(RULES).programs
    assert programs["CQGX"].names == GENERIC_NAMES and programs["WLHT"].names == GENERIC_NAMES
    assert programs["HKJB"].names.risk_fund == "补偿资金"
    assert programs["SZPS"].names.risk_fund == "资金池"
    assert programs["GSBY"].names.guarantee_fund == "互助担保金"
    assert programs["GSBY"].names.risk_fund == "风险补偿金"
    assert programs["WZS"].names.risk_fund == "政府风险补偿金"
    assert programs["LNYQ"].names == GENERIC_NAMES  # the excerpt's own word is the generic one


def test_say_replaces_both_names_in_one_pass() -> None:
    names = FundNames(guarantee_fund="互助担保金", risk_fund="政府风险补偿金")
    assert names.say("助保金不足时由风险补偿金分担") == "互助担保金不足时由政府风险补偿金分担"
    # A name containing the other generic word is not rewritten again.
    tricky = FundNames(guarantee_fund="风险补偿金助保金", risk_fund="补偿资金")
    assert tricky.say("助保金与风险补偿金") == "风险补偿金助保金与补偿资金"
    assert GENERIC_NAMES.say("助保金与风险补偿金") == "助保金与风险补偿金"
    assert names.fund("guarantee") == "互助担保金" and names.fund("risk") == "政府风险补偿金"


@pytest.mark.parametrize(
    ("old", "new", "at", "key", "message"),
    [
        # An unknown fund kind.
        (CQ_EFFECTIVE, CQ_EFFECTIVE + "    names:\n      pool: 资金池\n", "      pool: 资金池",
         "programs.CQGX.names.pool", "此处可用：guarantee_fund、risk_fund"),
        # Not a mapping.
        (CQ_EFFECTIVE, CQ_EFFECTIVE + "    names: 资金池\n", "    names: 资金池", "programs.CQGX.names", "应为映射"),
        # An empty name, a sentence, a name that is the other fund's generic name.
        (CQ_EFFECTIVE, CQ_EFFECTIVE + "    names:\n      risk_fund: \"\"\n", "      risk_fund: \"\"",
         "programs.CQGX.names.risk_fund", "应为非空文字"),
        (CQ_EFFECTIVE, CQ_EFFECTIVE + "    names:\n      risk_fund: 政府出资的，风险补偿金\n", "      risk_fund: 政府",
         "programs.CQGX.names.risk_fund", "不含空格与标点"),
        (CQ_EFFECTIVE, CQ_EFFECTIVE + "    names:\n      risk_fund: 助保金\n", "      risk_fund: 助保金",
         "programs.CQGX.names.risk_fund", "另一项资金（guarantee_fund）的通用名称"),
        (CQ_EFFECTIVE, CQ_EFFECTIVE + "    names:\n      guarantee_fund: 资金\n      risk_fund: 资金\n", "      risk_fund: 资金",
         "programs.CQGX.names.risk_fund", "两项资金的名称不能相同"),
        # SZPS has no guarantee fund: nothing to name.
        (SZ_NAMES, SZ_NAMES + "      guarantee_fund: 担保金\n", "      guarantee_fund: 担保金",
         "programs.SZPS.names.guarantee_fund", "本项目没有映射账户角色 guarantee_fund"),
    ],
)
def test_a_bad_name_is_rejected_with_file_line_and_key(tmp_path: Path, old, new, at, key, message) -> None:
    text = replace_once(TEXT, old, new)
    error = broken(tmp_path, text)
    assert error.key == key
    assert error.line == line_of(text, at)
    assert message in error.message, error.message


def test_a_finding_says_the_programs_names_and_keeps_the_generic_keys() -> None:
    path = LEDGERS / "comp.waterfall" / "hkjb-fail-half-up.beancount"
    _, _, options = loader.load_file(str(path))
    findings = [f for f in result_of(options).findings if f.rule == "comp.waterfall"]
    (finding,) = [f for f in findings if "应付" in f.message]
    assert "补偿资金应付 500,000.01 元" in finding.message
    assert not any("风险补偿金" in f.message for f in findings)
    result = CliRunner().invoke(main, ["check", str(path), "--format", "json"])
    (data,) = [f for f in json.loads(result.stdout)["findings"] if "risk_due" in f["figures"]]
    assert data["figures"]["risk_due"] == "500000.01"
    assert data["figure_labels"]["risk_due"] == "补偿资金应付"


def test_renaming_a_fund_changes_only_the_words(tmp_path: Path) -> None:
    """The same CQGX ledger under a CQGX that names its risk fund: the same findings, at the
    same places, with the program's word where the generic one was."""
    path = LEDGERS / "comp.waterfall" / "cqgx-fail.beancount"
    if not path.exists():
        path = sorted((LEDGERS / "comp.waterfall").glob("cqgx-fail*.beancount"))[0]
    _, _, options = loader.load_file(str(path))
    before = result_of(options).findings
    assert any("风险补偿金" in f.message for f in before)
    text = replace_once(TEXT, CQ_EFFECTIVE, CQ_EFFECTIVE + "    names:\n      risk_fund: 风险补偿基金\n")
    (tmp_path / "rules").mkdir()
    from test_rules_yaml import write_rules

    rules = write_rules(tmp_path / "rules", text)
    ledger = path.read_text(encoding="utf-8")
    plugin = next(line for line in ledger.splitlines() if line.startswith("plugin \"zhubaodai.plugin\""))
    copy = path.parent / f"_names_{tmp_path.name}.beancount"
    copy.write_text(ledger.replace(plugin, f"plugin \"zhubaodai.plugin\" \"{{'rules': '{rules}'}}\""), encoding="utf-8")
    try:
        _, _, options = loader.load_file(str(copy))
        after = result_of(options).findings
    finally:
        copy.unlink()
    assert [(f.rule, f.lineno, f.message.replace("风险补偿基金", "风险补偿金")) for f in after] == [
        (f.rule, f.lineno, f.message) for f in before
    ]
    assert any("风险补偿基金" in f.message for f in after)


def test_programs_shown_together_agree_fund_by_fund() -> None:
    rulebook = load_rules(RULES)
    assert rulebook.names("HKJB").risk_fund == "补偿资金"
    # HKJB and SZPS name their risk funds differently: a page showing both says the generic name.
    both = rulebook.names(["HKJB", "SZPS"])
    assert both == GENERIC_NAMES
    # GSBY names only its guarantee fund; with CQGX, which names none, neither is renamed.
    assert rulebook.names(["GSBY"]).say("助保金与风险补偿金") == "互助担保金与风险补偿金"
    assert rulebook.names(["GSBY", "CQGX"]).say("助保金与风险补偿金") == "助保金与风险补偿金"
    assert rulebook.names([]) == GENERIC_NAMES
