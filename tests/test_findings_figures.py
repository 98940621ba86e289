"""``figures``: every number a finding states, under a stable machine key (JSON of
``zbd check --format json``), for every rule; the Chinese messages themselves unchanged
(tests/snapshots/engine.json pins them)."""

from __future__ import annotations

import ast
import json
import re
from functools import cache
from pathlib import Path

import pytest
from beancount import loader
from click.testing import CliRunner

from zhubaodai.cli import main
from zhubaodai.core.engine import Analysis
from zhubaodai.core.engine import result_of
from zhubaodai.core.findings import FIGURE_KEYS
from zhubaodai.core.findings import Finding

ROOT = Path(__file__).resolve().parent.parent
RULE_LEDGERS = ROOT / "tests" / "ledgers" / "rules"
CHECKS = ROOT / "plugins" / "checks"

#: Rules whose findings state no number but dates, ids and names (a blacklisted enterprise,
#: a missing letter, a purpose): their figures are empty by nature.
NUMBER_FREE = {
    "blacklist", "comp.scope", "eligibility", "ledger.format", "loan.collateral", "loan.purpose",
    "loan.renewal", "program.lifecycle", "risk.floor", "recovery.order", "comp.deadline",
    "notice.disbursement", "notice.renewal",
    # A missing or changed scan: a path and hash prefixes. A broken close: the months that
    # changed, each with its directive counts then and now (a list, not one figure).
    "evidence.missing", "period.closed",
}
#: Of those, the findings that do state numbers must carry them (by message start).
NUMBERED = re.compile(r"最后期限为|超过|晚于")


@cache
def analysis_of(path: Path) -> Analysis:
    _, _, options = loader.load_file(str(path))
    analysis = result_of(options)
    assert analysis is not None, path
    return analysis


def rule_ledgers() -> list[Path]:
    return sorted(RULE_LEDGERS.glob("*/*.beancount"))


def all_findings() -> list[Finding]:
    return [f for path in rule_ledgers() for f in analysis_of(path).findings]


def test_the_table_is_one_key_per_label():
    keys = list(FIGURE_KEYS.values())
    assert len(keys) == len(set(keys)), [k for k in keys if keys.count(k) > 1]
    for label, key in FIGURE_KEYS.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", key), (label, key)


def literal_labels() -> set[str]:
    """Every figure label the rule modules write: the string keys of the dicts passed as
    ``figures=``/``stated=`` or built under those names, of ``*figures`` properties, and,
    where a key is a table lookup (``COMPONENT_LABELS[name]``), every label in that table."""
    labels: set[str] = set()
    for path in CHECKS.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        tables = {
            target.id: node.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        dicts: list[ast.Dict] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg in ("figures", "stated") and isinstance(node.value, ast.Dict):
                dicts.append(node.value)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Dict):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id in ("figures", "stated", "split") for t in targets):
                    dicts.append(node.value)
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "update"
                  and isinstance(node.func.value, ast.Name) and node.func.value.id in ("figures", "stated")):
                dicts += [a for a in node.args if isinstance(a, ast.Dict)]
            elif isinstance(node, ast.FunctionDef) and node.name.endswith("figures"):
                dicts += [r.value for r in ast.walk(node) if isinstance(r, ast.Return) and isinstance(r.value, ast.Dict)]
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)
                            and target.value.id in ("figures", "stated") and isinstance(target.slice, ast.Constant)):
                        labels.add(target.slice.value)
        for d in dicts:
            for key in d.keys:
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    labels.add(key.value)
                elif isinstance(key, ast.Subscript) and isinstance(key.value, ast.Name) and key.value.id in tables:
                    labels.update(v.value for v in tables[key.value.id].values if isinstance(v, ast.Constant))
    return labels


def test_every_label_a_rule_module_writes_has_a_key():
    labels = literal_labels()
    assert {"应缴", "实缴", "差额", "年利率", "逾期早于本笔天数", "期限工作日数", "本金", "违约金"} <= labels
    assert sorted(labels - set(FIGURE_KEYS)) == []


def test_every_figure_found_has_a_key_and_every_numbered_finding_has_figures():
    findings = all_findings()
    assert len(findings) > 80
    # A program's own fund names (rules.yaml names:) keep the generic label's key.
    assert sorted({key for f in findings for key in f.keys} - set(FIGURE_KEYS.values())) == []
    assert all(len(f.keys) == len(f.figures) for f in findings)
    for finding in findings:
        if finding.figures:
            continue
        if finding.message.endswith("，无法按规则核对"):
            continue  # a parameter not in force that day (Context.param): its dates, no amounts
        assert finding.rule in NUMBER_FREE, (finding.rule, finding.message)
        assert not NUMBERED.search(finding.message), (finding.rule, finding.message)
    with_figures = {f.rule for f in findings if f.figures}
    assert {"loan.rate", "comp.order", "loan.term", "comp.deadline", "notice.disbursement", "notice.renewal"} <= with_figures


def check_json(path: Path) -> list[dict]:
    result = CliRunner().invoke(main, ["check", str(path), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)["findings"]


@pytest.mark.parametrize(
    ("ledger", "rule", "figures", "labels"),
    [
        ("loan.rate/cqgx-warn.beancount", "loan.rate",
         {"rate_percent": "4.15", "benchmark_rate_percent": "3.45", "multiple": "1.2", "rate_cap_percent": "4.14"},
         {"rate_percent": "年利率", "benchmark_rate_percent": "基准利率", "multiple": "倍数",
          "rate_cap_percent": "利率上限"}),
        ("comp.order/wlht-fail.beancount", "comp.order",
         {"earlier_overdue_by_days": "1"}, {"earlier_overdue_by_days": "逾期早于本笔天数"}),
        ("notice.disbursement/wlht-fail.beancount", "notice.disbursement",
         {"deadline_workdays": "3", "days_late": "1", "workdays_late": "1"},
         {"deadline_workdays": "期限工作日数", "days_late": "晚于期限天数", "workdays_late": "晚于期限工作日数"}),
        ("loan.term/wlht-fail-approval.beancount", "loan.term",
         {"term_months": "13", "term_cap_months": "12"}, {"term_months": "审核期限（月）", "term_cap_months": "期限上限（月）"}),
    ],
)
def test_json_figures_of_rules_that_state_numbers_in_words(ledger, rule, figures, labels):
    path = RULE_LEDGERS / ledger
    (finding,) = [f for f in check_json(path) if f["rule"] == rule]
    assert finding["figures"] == figures
    assert finding["figure_labels"] == labels
    # The message is the engine's, unchanged: the figures are not appended to it.
    (engine,) = [f for f in analysis_of(path).findings if f.rule == rule]
    assert finding["message"] == engine.message and "；" + labels[next(iter(labels))] not in engine.message


def test_figures_printed_in_the_message_are_the_json_figures():
    path = RULE_LEDGERS / "fee.rate" / "cqgx-fail.beancount"
    (finding,) = [f for f in check_json(path) if f["rule"] == "fee.rate"]
    assert set(finding["figures"]) == {"due", "paid", "difference"}
    assert finding["figure_labels"] == {"due": "应缴", "paid": "实缴", "difference": "差额"}
    for key, label in finding["figure_labels"].items():
        assert f"{label} " in finding["message"], (key, finding["message"])
