"""loan.portfolio_stop (白银市, issue 10) against hand-written registers and its exact text.

No approval once the program's overdue rate at the end of the day before has reached the
limit (GSBY: 5%, from 2023-11-03): the principal overdue (each loan's latest ``overdue``
event, at most its outstanding) over the principal outstanding. The module keeps both as
the register files the loans' events; a day's approvals are filed before its other events.
"""

from __future__ import annotations

from decimal import Decimal

from test_fees_literal import run


def approval(day: str, loan_id: str, amount: str = "100000.00") -> str:
    return (
        f'{day} custom "loan" "approval" "{loan_id}"\n  program: "GSBY"\n  enterprise: "E-{loan_id}"\n'
        f'  amount: {amount} CNY\n  letter: "白金融函"\n'
    )


def lent(day: str, loan_id: str, amount: str) -> str:
    return (
        approval(day, loan_id, amount)
        + f'{day} custom "loan" "contract" "{loan_id}"\n  amount: {amount} CNY\n  maturity: 2025-03-01\n'
        + f'{day} custom "loan" "disbursement" "{loan_id}"\n  amount: {amount} CNY\n'
    )


def event(day: str, kind: str, loan_id: str, key: str = "", amount: str = "") -> str:
    text = f'{day} custom "loan" "{kind}" "{loan_id}"\n'
    return text + (f"  {key}: {amount} CNY\n" if key else "")


def stops(body: str) -> list[tuple[str | None, str, int | None, str, dict[str, Decimal]]]:
    analysis = run("gsby", body)
    return [
        (f.loan, f.entry.date.isoformat(), f.lineno, f.message, dict(f.figures))
        for f in analysis.findings
        if f.rule == "loan.portfolio_stop"
    ]


BOOK = lent("2024-03-01", "GS-1", "1000000.00") + lent("2024-03-01", "GS-2", "1000000.00")


def test_every_approval_from_the_day_after_the_rate_reaches_five_per_cent_is_an_error() -> None:
    """2,000,000 outstanding, 100,000 overdue from 06-03: exactly 5%. Both approvals of
    06-04 and the one of 06-05 are errors, each with the day's figures; an approval on the
    overdue's own day meets the day before (0%)."""
    found = stops(
        BOOK
        + event("2024-06-03", "overdue", "GS-2", "principal", "100000.00")
        + approval("2024-06-03", "GS-3")
        + approval("2024-06-04", "GS-4")
        + approval("2024-06-04", "GS-5")
        + approval("2024-06-05", "GS-6")
    )
    figures = {"贷款余额": Decimal("2000000.00"), "停止线（逾期本金）": Decimal("100000.00"), "逾期本金": Decimal("100000.00")}
    text = "{} 前一日日终本项目贷款逾期率 5%，已达到停止新增贷款的 5%，不得审核同意贷款 {}；贷款余额 2,000,000.00 元，停止线（逾期本金） 100,000.00 元，逾期本金 100,000.00 元"
    assert [(loan, day, message, figs) for loan, day, _, message, figs in found] == [
        ("GS-4", "2024-06-04", text.format("2024-06-04", "GS-4"), figures),
        ("GS-5", "2024-06-04", text.format("2024-06-04", "GS-5"), figures),
        ("GS-6", "2024-06-05", text.format("2024-06-05", "GS-6"), figures),
    ]


def test_a_fen_below_the_line_is_no_breach() -> None:
    assert stops(BOOK + event("2024-06-03", "overdue", "GS-2", "principal", "99999.99") + approval("2024-06-04", "GS-4")) == []


def test_overdue_principal_counts_at_most_what_the_loan_still_owes() -> None:
    """GS-1 repaid to 100,000 and reported overdue at 200,000: 100,000 counts. GS-9 was
    approved but never lent: its overdue counts nothing. GS-2 repaid to nil leaves the
    book. 100,000 of 1,100,000 is 9.09%."""
    found = stops(
        lent("2024-03-01", "GS-1", "1000000.00")
        + lent("2024-03-01", "GS-2", "500000.00")
        + lent("2024-03-01", "GS-8", "1000000.00")
        + approval("2024-03-01", "GS-9")
        + event("2024-05-01", "repayment", "GS-1", "amount", "900000.00")
        + event("2024-05-01", "repayment", "GS-2", "amount", "500000.00")
        + event("2024-06-03", "overdue", "GS-1", "principal", "200000.00")
        + event("2024-06-03", "overdue", "GS-9", "principal", "50000.00")
        + approval("2024-06-04", "GS-4")
    )
    assert [(loan, figs) for loan, _, _, _, figs in found] == [
        ("GS-4", {"贷款余额": Decimal("1100000.00"), "停止线（逾期本金）": Decimal("55000.00"), "逾期本金": Decimal("100000.00")}),
    ]
    assert "逾期率 9.09%" in found[0][3]


def test_a_settled_loan_is_no_longer_overdue_nor_outstanding() -> None:
    found = stops(
        BOOK
        + event("2024-06-03", "overdue", "GS-2", "principal", "100000.00")
        + event("2024-06-04", "settlement", "GS-2")
        + approval("2024-06-05", "GS-4")
    )
    assert found == []


def test_the_smallest_book_still_has_a_rate() -> None:
    """One loan of 1.00, overdue in full, then 0.50 repaid: 0.50 of 0.50 overdue, 100%, a
    breach (any book above nil has a rate; a repayment that leaves principal ends no overdue)."""
    found = stops(
        lent("2024-03-01", "GS-1", "1.00")
        + event("2024-06-03", "overdue", "GS-1", "principal", "1.00")
        + event("2024-06-03", "repayment", "GS-1", "amount", "0.50")
        + approval("2024-06-04", "GS-4")
    )
    assert [(loan, figs["贷款余额"], figs["逾期本金"]) for loan, _, _, _, figs in found] == [
        ("GS-4", Decimal("0.50"), Decimal("0.50")),
    ]


def test_a_loan_repaid_to_nil_is_no_longer_overdue_even_if_lent_again() -> None:
    """GS-2, overdue at 100,000, is repaid to nil (no settlement) and then increased by
    1,000,000: the old overdue is gone with the nil, so 0 of 2,000,000 is overdue. GS-9,
    approved and settled without ever being lent, changes nothing."""
    found = stops(
        BOOK
        + event("2024-06-03", "overdue", "GS-2", "principal", "100000.00")
        + event("2024-06-04", "repayment", "GS-2", "amount", "1000000.00")
        + event("2024-06-05", "increase", "GS-2", "amount", "1000000.00")
        + approval("2024-06-05", "GS-9")
        + event("2024-06-05", "settlement", "GS-9")
        + approval("2024-06-06", "GS-4")
    )
    assert found == []


def test_a_day_before_the_rule_is_in_force_is_said_once_at_its_first_approval() -> None:
    """GSBY's stop line is in force from 2023-11-03: each day with approvals before then
    gives one error, at its first approval, that the line has no value that day (GS-1's
    own approval on 05-01; GS-4 and GS-5 on 06-01: once, at GS-4)."""
    analysis = run("gsby", lent("2023-05-01", "GS-1", "1000000.00") + approval("2023-06-01", "GS-4") + approval("2023-06-01", "GS-5"))
    found = [f for f in analysis.findings if f.rule == "loan.portfolio_stop"]
    assert [(f.entry.date.isoformat(), f.entry.values[1].value, f.lineno is not None) for f in found] == [
        ("2023-05-01", "GS-1", True), ("2023-06-01", "GS-4", True),
    ]
    assert found[1].message == (
        "参数「programs.GSBY.rules.loan.portfolio_stop.params.max_overdue_rate」在 2023-06-01 尚无生效版本"
        "（最早版本自 2023-11-03 起施行），无法按规则核对"
    )
