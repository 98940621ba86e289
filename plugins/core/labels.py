"""Chinese labels for the ledger's metadata names, as reviewers read them.

The engine's messages name a metadata field or register event the way the accountant
writes it (``告知日 notice_date``, ``（committee）``): that tells the accountant what to
add to the ledger. A reviewer reads Chinese only; :func:`for_reviewer` turns those names
into the labels below (the labels docs/ledger-format.md uses) and drops a name where the
Chinese before it already says the same. Register events take their labels from the
register's own tables (:data:`zhubaodai.core.register.LOAN_EVENTS` and the others), so
one table per kind of name holds every label.
"""

from __future__ import annotations

import re

from zhubaodai.core.register import ENTERPRISE_EVENTS
from zhubaodai.core.register import LOAN_EVENTS
from zhubaodai.core.register import PROGRAM_EVENTS

#: Metadata name -> (its label, other Chinese words a message may put right before it).
FIELD_LABELS: dict[str, tuple[str, ...]] = {
    "notice_date": ("告知日",),
    "maturity": ("到期日",),
    "rate": ("年利率",),
    "purpose": ("用途",),
    "collateral": ("抵押或保证金额",),
    "loan_type": ("贷款类型",),
    "credit_line": ("授信额度",),
    "term_months": ("贷款期限（月）", "期限"),
    "funder": ("出资方",),
    "joint_liability": ("承担连带清偿责任的人", "主要股东"),
    "letter": ("函件", "文号"),
    "hightech_until": ("高新技术企业证书有效期",),
    "hightech_cert": ("高新技术企业证书编号",),
    "score": ("评分卡分数",),
    "rating": ("信用等级",),
    "size": ("企业规模",),
    "zone": ("工商注册、税务登记和统计关系均在本区", "均在本区"),
    "tech_db": ("已入库科技型企业",),
    "own_ip": ("拥有自主知识产权",),
    "revenue/revenue_year": ("上一年度营业收入", "营业收入"),
    "revenue": ("营业收入",),
    "revenue_year": ("营业收入所属年度",),
    "roster": ("备选企业名册",),
    "credit_clean": ("征信无不良信用记录", "无不良信用记录"),
    "expected_volume": ("年度预计业务量", "预计业务量"),
    "bank_share": ("合作银行承担的金额",),
    "guarantor_share": ("担保机构承担的金额",),
    "insurer_share": ("保险公司承担的金额",),
    "government_share": ("政府承担的金额",),
    "classification": ("不良分类", "五级分类"),
    "guarantor": ("担保机构",),
    "period": ("担保费所属期间",),
    "decision": ("决定",),
    "evidence": ("授权文件扫描件", "扫描件"),
    "evidence_sha256": ("扫描件的 SHA-256",),
}

#: Register event names as messages write them ("overdue", "program open") -> labels.
EVENT_LABELS: dict[str, tuple[str, ...]] = {
    **{kind: (label, "决策") if kind == "committee" else (label,) for kind, (label, _, _) in LOAN_EVENTS.items()},
    **{f"enterprise {kind}": (label,) for kind, (label, _, _) in ENTERPRISE_EVENTS.items()},
    **{f"program {kind}": (label, label.removeprefix("项目")) for kind, (label, _, _) in PROGRAM_EVENTS.items()},
}

_LABELS = {**EVENT_LABELS, **FIELD_LABELS}
#: Longest names first, so "revenue/revenue_year" wins over "revenue".
_NAMES = sorted(_LABELS, key=len, reverse=True)
_NAME = re.compile(
    r" ?(?<![A-Za-z0-9_/.:-])(" + "|".join(re.escape(n) for n in _NAMES) + r")(?![A-Za-z0-9_/.:-]) ?"
)
_PAREN = re.compile(r"（([^（）]*)）")
#: Words that, besides names, may fill a parenthesis that only glosses names.
_FILLERS = re.compile(r"应为|TRUE|FALSE|的|\s")
_ASCII = re.compile(r"[A-Za-z0-9]")


def _only_names(inside: str) -> bool:
    found = False

    def drop(match: re.Match[str]) -> str:
        nonlocal found
        found = True
        return ""

    rest = _NAME.sub(drop, inside)
    return found and not _FILLERS.sub("", rest)


def for_reviewer(message: str) -> str:
    """The message with metadata and event names in Chinese: a parenthesis that only
    glosses names ("（tech_db）", "（zone 应为 TRUE）") goes; a name right after its own
    label ("告知日 notice_date") goes; any other name becomes its label in quotes."""
    text = _PAREN.sub(lambda m: "" if _only_names(m.group(1)) else m.group(0), message)

    def name(match: re.Match[str]) -> str:
        label, *aliases = _LABELS[match.group(1)]
        before = text[: match.start()]
        after = text[match.end():]
        keep_space = " " if match.group(0).endswith(" ") and after[:1] and _ASCII.match(after[:1]) else ""
        if any(before.endswith(word) for word in (label, *aliases)):
            return keep_space
        return f"“{label}”{keep_space}"

    return _NAME.sub(name, text)
