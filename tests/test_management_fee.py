"""outflow.management_fee: declared like outflow.subsidy (a rule and its account role), with a
yearly cap as a rate of the funds and/or an amount; its rule ledgers run under the test
program of tests/ledgers/rules/outflow.management_fee/rules.yaml (no policy excerpt of the
seven programs allows a management fee, so rules.yaml declares none)."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_rules_yaml import line_of
from zhubaodai.core.rules import RulesError
from zhubaodai.core.rules import load_rules
from zhubaodai.core.rules import parse_rules

ROOT = Path(__file__).resolve().parent.parent
TEST_RULES = ROOT / "tests" / "ledgers" / "rules" / "outflow.management_fee" / "rules.yaml"
TEXT = TEST_RULES.read_text(encoding="utf-8")


def test_no_program_of_rules_yaml_declares_a_management_fee() -> None:
    for program in load_rules(ROOT / "rules.yaml").programs.values():
        assert "outflow.management_fee" not in program.rules
        assert "outflow_management" not in program.accounts


def test_the_test_program_loads() -> None:
    rule = load_rules(TEST_RULES).programs["MGMT"].rules["outflow.management_fee"]
    assert set(rule.params) == {"rate", "annual_cap"}


def broken(text: str) -> RulesError:
    with pytest.raises(RulesError) as info:
        parse_rules(text, "rules.yaml")
    return info.value


def test_a_cap_is_required() -> None:
    start = TEXT.index("        params:\n", TEXT.index("outflow.management_fee:"))
    text = TEXT[:start]
    error = broken(text)
    assert error.key == "programs.MGMT.rules.outflow.management_fee.params"
    assert "rate、annual_cap 之一" in error.message


def test_the_role_needs_its_rule_and_the_rule_its_role() -> None:
    without_rule = TEXT[: TEXT.index("      outflow.management_fee:")]
    error = broken(without_rule)
    assert error.key == "programs.MGMT.accounts.outflow_management"
    assert error.line == line_of(without_rule, "      outflow_management:")
    without_role = TEXT.replace("      outflow_management: Expenses:MGMT:Management\n", "")
    error = broken(without_role)
    assert error.key == "programs.MGMT.rules.outflow.management_fee"
    assert "outflow_management" in error.message
