"""comp.rate_cap / comp.fee_cap: when a cap binds, the finding says what the entry could still
pay within it (the due figure), what it paid and the excess (zhubaodai.checks.payouts.Cap)."""

from __future__ import annotations

from decimal import Decimal

from zhubaodai.checks.payouts import Cap


def test_the_room_is_the_limit_less_what_was_paid_before() -> None:
    cap = Cap(limit=Decimal("599999.99"), total=Decimal("600000.00"), paid=Decimal("400000.00"))
    assert (cap.before, cap.room, cap.excess) == (Decimal("200000.00"), Decimal("399999.99"), Decimal("0.01"))
    assert cap.room + cap.excess == cap.paid


def test_once_the_limit_is_used_up_the_whole_payment_is_excess() -> None:
    cap = Cap(limit=Decimal("100.00"), total=Decimal("350.00"), paid=Decimal("200.00"))
    assert (cap.room, cap.excess) == (Decimal("0"), Decimal("200.00"))


def test_paid_exactly_up_to_the_limit_leaves_no_excess() -> None:
    cap = Cap(limit=Decimal("600000.00"), total=Decimal("600000.00"), paid=Decimal("400000.00"))
    assert (cap.room, cap.excess) == (Decimal("400000.00"), Decimal("0.00"))
