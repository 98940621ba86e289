"""Citations per value: each dated version of a parameter may cite its own document and
article and may be marked as an assumption; a finding cites the version in force on the
event's date; docs/rules.md and ``zbd rules`` show each version's citation and 【假设】."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from test_versions import CQ_FEE_RATE
from test_versions import _analyse
from test_versions import _loan
from test_versions import rules_with
from zhubaodai.core.findings import ERROR
from zhubaodai.core.rules import RulesError
from zhubaodai.core.rules import load_rules
from zhubaodai.scripts.gen_rules_doc import render

DEFAULT = "渝高新发〔2021〕8号 第五条、第六条"
AMENDED = "渝高新发〔2024〕3号 第二条"
#: 2.5% under the program's own text until 2024-06-30; 2% from 2024-07-01 under an amendment.
AMENDMENT = CQ_FEE_RATE.replace(
    "0.025\n", "0.025\n              2024-07-01: {value: 0.02, document: 渝高新发〔2024〕3号, article: 第二条}\n"
)


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def test_a_version_as_a_mapping_carries_its_own_citation(tmp_path: Path) -> None:
    param = load_rules(rules_with(CQ_FEE_RATE, AMENDMENT, tmp_path)).programs["CQGX"].rules["fee.rate"].params["rate"]
    first, second = param.versions
    assert (str(first.citation), first.citation.own) == ("渝高新发〔2021〕8号 第六条", False)
    assert (str(second.citation), second.citation.own) == (AMENDED, True)
    assert str(param.at(day("2024-06-30"))) == "0.025" and str(param.at(day("2024-07-01"))) == "0.02"
    assert param.version_at(day("2024-06-30")) is first and param.version_at(day("2024-07-01")) is second


@pytest.mark.parametrize(
    ("signed", "fee", "citation"),
    [
        # The last day of the old version: the program's own article; short by one fen.
        ("2024-06-28", "49999.99", DEFAULT),
        # The amendment's first day: its own document and article; short by one fen.
        ("2024-07-01", "39999.99", AMENDED),
    ],
)
def test_a_finding_cites_the_version_in_force_on_its_date(tmp_path: Path, signed: str, fee: str, citation: str) -> None:
    rules = rules_with(CQ_FEE_RATE, AMENDMENT, tmp_path)
    [finding] = _analyse(tmp_path, rules, _loan("CQ-1", "E-1", signed, fee)).findings
    assert (finding.rule, finding.severity, finding.citation) == ("fee.rate", ERROR, citation)
    assert "差额 0.01 元" in finding.message


@pytest.mark.parametrize(("signed", "fee"), [("2024-06-28", "50000.00"), ("2024-07-01", "40000.00")])
def test_paid_in_full_under_either_version_no_finding(tmp_path: Path, signed: str, fee: str) -> None:
    rules = rules_with(CQ_FEE_RATE, AMENDMENT, tmp_path)
    assert _analyse(tmp_path, rules, _loan("CQ-1", "E-1", signed, fee)).findings == []


def test_a_finding_under_an_assumed_value_says_so(tmp_path: Path) -> None:
    assumed = CQ_FEE_RATE.replace(
        "0.025\n", "0.025\n              2024-07-01: {value: 0.02, assumption: 通知未写明新比例，暂按 2%}\n"
    )
    rules = rules_with(CQ_FEE_RATE, assumed, tmp_path)
    [after] = _analyse(tmp_path, rules, _loan("CQ-1", "E-1", "2024-07-01", "39999.99")).findings
    # The article is the parameter's (no own citation), the value an assumption.
    assert after.citation == f"{DEFAULT}【假设】"
    [before] = _analyse(tmp_path, rules, _loan("CQ-1", "E-1", "2024-06-28", "49999.99")).findings
    assert before.citation == DEFAULT


def test_a_rule_whose_reading_is_an_assumption(tmp_path: Path) -> None:
    old = "        article: 第五条、第六条\n"
    rules = rules_with(old, old + "        assumption: 办法未写明计费基数，按合同金额计\n", tmp_path)
    rule = load_rules(rules).programs["CQGX"].rules["fee.rate"]
    assert rule.assumption == "办法未写明计费基数，按合同金额计"
    [finding] = _analyse(tmp_path, rules, _loan("CQ-1", "E-1", "2024-06-28", "49999.99")).findings
    assert finding.citation == f"{DEFAULT}【假设】"


def test_a_parameter_level_document_and_assumption(tmp_path: Path) -> None:
    whole = CQ_FEE_RATE.replace(
        "            article: 第六条\n",
        "            article: 第三条\n            document: 渝高新发〔2024〕3号\n"
        "            assumption: 节选只见第三条开头\n",
    )
    rules = rules_with(CQ_FEE_RATE, whole, tmp_path)
    param = load_rules(rules).programs["CQGX"].rules["fee.rate"].params["rate"]
    assert str(param.versions[0].citation) == "渝高新发〔2024〕3号 第三条" and param.versions[0].citation.own
    assert param.assumption_at(day("2024-01-01")) == "节选只见第三条开头"
    [finding] = _analyse(tmp_path, rules, _loan("CQ-1", "E-1", "2024-06-28", "49999.99")).findings
    assert finding.citation == "渝高新发〔2024〕3号 第三条【假设】"


def test_the_rules_page_shows_each_versions_citation_and_the_assumptions(tmp_path: Path) -> None:
    text = CQ_FEE_RATE.replace(
        "0.025\n",
        "0.025\n              2024-07-01: {value: 0.02, document: 渝高新发〔2024〕3号, article: 第二条}\n"
        "              2025-01-01: {value: 0.015, assumption: 通知未写明，暂按 1.5%}\n",
    )
    page = render(load_rules(rules_with(CQ_FEE_RATE, text, tmp_path)))
    section = page[page.index("### `fee.rate`"):page.index("### `fee.timing`")]
    assert "| `rate` | 2021-02-24 | 2.5% | 渝高新发〔2021〕8号 第六条 |" in section
    assert "| `rate` | 2024-07-01 | 2% | 渝高新发〔2024〕3号 第二条 |" in section
    assert "| `rate` | 2025-01-01 | 1.5% | 渝高新发〔2021〕8号 第六条 【假设】通知未写明，暂按 1.5% |" in section
    # The overview marks the rule as resting (in part) on an assumption.
    assert "| [`fee.rate`](#feerate) | 助保金缴纳比例 | 错误 · 第五条、第六条【假设】 |" in page


@pytest.mark.parametrize(
    ("version", "key", "message"),
    [
        ("{value: 0.02, documnet: 渝高新发〔2024〕3号}", "values.2024-07-01.documnet", "未知的键"),
        ("{document: 渝高新发〔2024〕3号, article: 第二条}", "values.2024-07-01.value", "缺少必填的键 value"),
        ("{value: 0.02, article: [第二条]}", "values.2024-07-01.article", "应为非空文字"),
        ("{value: 0.02, assumption: ''}", "values.2024-07-01.assumption", "假设应写明理由"),
        ("{value: 2, document: 渝高新发〔2024〕3号}", "values.2024-07-01.value", "超出范围"),
        ("{value: null, assumption: 暂停}", "values.2024-07-01.value", "不能标为假设"),
    ],
)
def test_a_bad_version_mapping_is_rejected_with_its_key(tmp_path: Path, version: str, key: str, message: str) -> None:
    text = CQ_FEE_RATE.replace("0.025\n", f"0.025\n              2024-07-01: {version}\n")
    with pytest.raises(RulesError) as info:
        load_rules(rules_with(CQ_FEE_RATE, text, tmp_path))
    assert info.value.key == f"programs.CQGX.rules.fee.rate.params.rate.{key}"
    assert message in info.value.message
    assert info.value.line is not None and info.value.line > 1


COMP_DEADLINE = "          workdays:\n            article: 第十七条\n            values:\n              2021-02-24: 15\n"
RULE_LEDGERS = Path(__file__).resolve().parent / "ledgers" / "rules" / "comp.deadline"


def _findings(ledger: str, rules: Path):
    from beancount import loader

    from zhubaodai.core.engine import analyse

    entries, _, _ = loader.load_file(str(RULE_LEDGERS / ledger))
    return [f for f in analyse(entries, load_rules(rules)).findings if f.rule == "comp.deadline"]


def test_a_late_compensation_cites_the_deadline_in_force_at_its_anchor(tmp_path: Path) -> None:
    """Confirmed 2025-01-21 under 15 working days; a notice of 2025-02-01 cuts it to 10.
    The payment of 2025-02-18 (one day after the 15th working day) is late under the
    anchor's version, and the finding cites that version (the program's article), not the
    notice in force on the payment's day; paid on the 15th working day, nothing is found."""
    amended = COMP_DEADLINE + "              2025-02-01: {value: 10, document: 渝高新发〔2025〕2号, article: 第一条}\n"
    rules = rules_with(COMP_DEADLINE, amended, tmp_path)
    [late] = _findings("cqgx-fail.beancount", rules)
    assert late.date == day("2025-02-18") and late.citation == "渝高新发〔2021〕8号 第十七条"
    assert "应在 15 个工作日内" in late.message
    assert _findings("cqgx-pass.beancount", rules) == []
