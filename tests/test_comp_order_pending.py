"""comp.order over many claims: the pending-claims queue of zhubaodai.checks.waterfall.

The check used to compare every compensation with every loan of the program (quadratic
in the book; the hot spot of the 100k benchmark). It now keeps the claims still waiting;
this ledger pins down what must not change: claims on the compensation's own day count,
a compensated claim stops counting until the loan's next claim, a settled loan never
counts, and of several earlier loans the first in the register is named.
"""

from __future__ import annotations

from pathlib import Path

from beancount import loader

from zhubaodai.core.engine import analyse
from zhubaodai.core.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent

#: loan -> (approval, [(overdue, claim, compensation or None)], settlement or None)
LOANS = {
    "D": ("2024-01-01", [("2024-02-01", "2024-02-05", None)], "2024-02-20"),
    "E": ("2024-01-02", [("2024-02-15", "2024-03-10", "2024-03-13")], None),
    "A": ("2024-01-03", [("2024-03-01", "2024-03-05", "2024-03-11")], None),
    "B": ("2024-01-04", [("2024-03-02", "2024-03-06", "2024-03-12")], None),
    "C": ("2024-01-05", [("2024-03-03", "2024-03-07", "2024-03-10")], None),
    "F": ("2024-01-06", [("2024-01-10", "2024-01-12", "2024-01-15"), ("2024-04-01", "2024-04-02", "2024-04-20")], None),
    "G": ("2024-01-07", [("2024-04-05", "2024-04-06", "2024-04-10")], None),
}


def _ledger() -> str:
    parts = [
        'option "operating_currency" "CNY"',
        f'include "{ROOT / "tests" / "ledgers" / "common" / "wlht.beancount"}"',
        "",
        '2024-01-01 * "财政" "注入"\n  Assets:WLHT:Pool:Guarantee  1000000.00 CNY\n  Income:WLHT:Risk:Injection  -1000000.00 CNY',
    ]
    compensations = []
    for loan, (approved, defaults, settled) in LOANS.items():
        parts.append(
            f'{approved} custom "loan" "approval" "WL-{loan}"\n  program: "WLHT"\n  enterprise: "E-{loan}"\n'
            f'  amount: 100000.00 CNY\n  letter: "函"\n'
            f'{approved} custom "loan" "disbursement" "WL-{loan}"\n  amount: 100000.00 CNY'
        )
        for overdue, claim, paid in defaults:
            parts.append(
                f'{overdue} custom "loan" "overdue" "WL-{loan}"\n  principal: 100000.00 CNY\n'
                f'{claim} custom "loan" "claim" "WL-{loan}"\n  principal: 1000.00 CNY\n  letter: "函"\n  approval: "同意"'
            )
            if paid:
                compensations.append(
                    f'{paid} * "代偿 WL-{loan}" ^WL-{loan}\n  Expenses:WLHT:Guarantee:Compensation  1000.00 CNY\n'
                    f"  Assets:WLHT:Pool:Guarantee  -1000.00 CNY"
                )
        if settled:
            parts.append(f'{settled} custom "loan" "settlement" "WL-{loan}"')
    # Compensations first in the file: E's claim of 2024-03-10 stands after C's
    # compensation of that day, and still counts (a claim on or before the day).
    return "\n\n".join(parts[:4] + compensations + parts[4:]) + "\n"


def test_pending_claims_queue_keeps_the_order_rule(tmp_path):
    path = tmp_path / "order.beancount"
    path.write_text(_ledger(), encoding="utf-8")
    entries, errors, _ = loader.load_file(str(path))
    assert not [e for e in errors if "zhubaodai" not in type(e).__module__], errors
    analysis = analyse(entries, load_rules(ROOT / "rules.yaml"))
    found = sorted(
        (f.loan, f.date.isoformat(), f.message.split("：")[1].split(" ")[1])
        for f in analysis.findings
        if f.rule == "comp.order"
    )
    # (compensated loan, its date, the earlier loan named)
    assert found == [
        ("WL-A", "2024-03-11", "WL-E"),
        ("WL-B", "2024-03-12", "WL-E"),
        ("WL-C", "2024-03-10", "WL-E"),  # D (earlier in the register) is settled
        ("WL-G", "2024-04-10", "WL-F"),  # F is waiting again with its second claim
    ]
