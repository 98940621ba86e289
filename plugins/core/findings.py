"""Findings: what the rule engine says about a ledger.

A finding carries the rule id, its severity, the citation (document + article), a Chinese
message with the figures a person needs, and the file:line of the entry it concerns.
Every adapter (the Beancount plugin, the CLI, the Fava pages) shows findings as they are;
none writes its own messages.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

from zhubaodai.core.money import yuan

ERROR = "error"
WARNING = "warning"

#: Rule id for entries the engine cannot read (not a policy rule: cites the ledger format).
FORMAT_RULE = "ledger.format"
FORMAT_CITATION = "本项目账本格式 docs/ledger-format.md"

SEVERITY_LABELS = {ERROR: "错误", WARNING: "警告"}


@dataclass(frozen=True)
class Finding:
    """One breach (error) or concern (warning) found in the ledger."""

    rule: str
    severity: str
    program: str | None
    citation: str
    message: str
    filename: str | None
    lineno: int | None
    date: datetime.date | None = None
    loan: str | None = None
    figures: tuple[tuple[str, Decimal], ...] = ()
    #: The directive the finding is about (None for a finding about the whole ledger):
    #: Beancount prints it under the error and Fava's error page links to it. Not part of
    #: a finding's identity, nor of its JSON form.
    entry: Any = field(default=None, compare=False, repr=False)

    @property
    def location(self) -> str:
        if self.filename is None:
            return "<未知位置>"
        return f"{self.filename}:{self.lineno}"

    @property
    def text(self) -> str:
        """The one-line form the plugin and the CLI print (after the location)."""
        return f"[{self.rule}] {self.citation}：{self.message}"

    def __str__(self) -> str:
        return f"{self.location}: {SEVERITY_LABELS[self.severity]} {self.text}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "program": self.program,
            "citation": self.citation,
            "message": self.message,
            "filename": self.filename,
            "lineno": self.lineno,
            "date": self.date.isoformat() if self.date else None,
            "loan": self.loan,
            "figures": {name: str(value) for name, value in self.figures},
        }


def figures_text(figures: Mapping[str, Decimal]) -> str:
    """'应缴 75,000.00 元，实缴 74,999.99 元，差额 0.01 元'."""
    return "，".join(f"{name} {yuan(value)} 元" for name, value in figures.items())
