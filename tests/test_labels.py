"""Metadata and event names in the engine's messages reach reviewers as Chinese labels
(zhubaodai.core.labels, used by the Fava pages), on every finding the rule fixtures
produce."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from beancount import loader

from zhubaodai.core.engine import analyse
from zhubaodai.core.findings import FORMAT_RULE
from zhubaodai.core.labels import EVENT_LABELS
from zhubaodai.core.labels import FIELD_LABELS
from zhubaodai.core.labels import for_reviewer
from zhubaodai.core.register import ENTERPRISE_FACTS
from zhubaodai.core.register import LOAN_EVENTS

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = sorted((ROOT / "tests" / "ledgers" / "rules").rglob("*.beancount"))
#: An English word left in a reviewer's text: a lowercase name (account names, ids,
#: amounts and rating grades such as "AA" are not lowercase).
LOWERCASE = re.compile(r"(?<![A-Za-z0-9:])[a-z][a-z_/]+")


def _messages(rulebook) -> dict[str, str]:  # noqa: ANN001
    found: dict[str, str] = {}
    for path in FIXTURES:
        entries, _, _ = loader.load_file(str(path))
        for f in analyse(entries, rulebook).findings:
            if f.rule != FORMAT_RULE:
                found.setdefault(f.message, f"{path.parent.name}/{path.name}")
    return found


def test_no_metadata_name_reaches_a_reviewer(rulebook) -> None:  # noqa: ANN001
    messages = _messages(rulebook)
    named = 0
    for message, where in messages.items():
        shown = for_reviewer(message)
        if shown != message:
            named += 1
        # A file the ledger names (a scan's path, evidence.missing) is data, quoted 「…」.
        assert not LOWERCASE.findall(re.sub(r"「[^」]*」", "", shown)), (where, shown)
        assert "TRUE" not in shown and "  " not in shown, (where, shown)
    assert named >= 10  # the fixtures do name fields: the test sees the translation


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("截至 2024-10-31 仍未登记告知日 notice_date", "截至 2024-10-31 仍未登记告知日"),
        ("未登记为均在本区（zone 应为 TRUE）", "未登记为均在本区"),
        ("应以元数据 bank_share 记录合作银行承担的部分", "应以元数据“合作银行承担的金额”记录合作银行承担的部分"),
        ("合作尚未终止（无 program terminate 登记），不得处置", "合作尚未终止（无“合作终止”登记），不得处置"),
        ("未登记用途 purpose（应为流动资金）", "未登记用途（应为流动资金）"),
        ("账户 Assets:CQGX:Pool:Suspense 的 rate 字样", "账户 Assets:CQGX:Pool:Suspense 的“年利率”字样"),
    ],
)
def test_names_become_labels(message: str, shown: str) -> None:
    assert for_reviewer(message) == shown


def test_every_optional_field_and_event_has_a_label() -> None:
    """One table: every metadata name the register reads has its Chinese label."""
    optional = {name for _, required, extra in LOAN_EVENTS.values() for name in (*required, *extra)}
    for name in (optional | set(ENTERPRISE_FACTS)) - {"program", "enterprise", "amount", "principal", "interest",
                                                       "compound", "penalty", "recovered", "costs", "approval",
                                                       "term_months", "contract_no"}:
        assert name in FIELD_LABELS, name
    assert EVENT_LABELS["overdue"][0] == LOAN_EVENTS["overdue"][0]
