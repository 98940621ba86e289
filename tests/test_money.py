"""zhubaodai.core.money against figures worked out by hand (not against the code's own
arithmetic): every rounding of the project goes through these four functions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from zhubaodai.core.money import CURRENCY
from zhubaodai.core.money import FEN
from zhubaodai.core.money import ZERO
from zhubaodai.core.money import half_up
from zhubaodai.core.money import largest_remainder
from zhubaodai.core.money import minus
from zhubaodai.core.money import percent
from zhubaodai.core.money import plus
from zhubaodai.core.money import yuan

D = Decimal


def test_constants() -> None:
    assert (CURRENCY, str(FEN), str(ZERO)) == ("CNY", "0.01", "0.00")


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        ("0.005", "0.01"),  # half goes up …
        ("-0.005", "-0.01"),  # … away from zero
        ("0.00499", "0.00"),
        ("0.125", "0.13"),  # not banker's rounding (0.12) …
        ("2.665", "2.67"),  # … nor truncation
        ("1234.5649", "1234.56"),
        ("7", "7.00"),
    ],
)
def test_half_up_rounds_half_away_from_zero(value: str, rounded: str) -> None:
    assert str(half_up(D(value))) == rounded


@pytest.mark.parametrize(
    ("total", "weights", "parts"),
    [
        ("1.00", ["1", "1", "1"], ["0.34", "0.33", "0.33"]),  # a tie: the earlier part
        ("0.10", ["1", "1", "1"], ["0.04", "0.03", "0.03"]),
        ("0.07", ["1", "9"], ["0.01", "0.06"]),  # the larger remainder (0.7 > 0.3), not the larger part
        ("0.01", ["1", "2"], ["0.00", "0.01"]),
        ("0.03", ["1", "1", "3"], ["0.01", "0.00", "0.02"]),  # floors 0, 0, 1 (not rounded: 1, 1, 2)
        ("0.00", ["1", "1"], ["0.00", "0.00"]),
        ("100.00", ["3", "0", "1"], ["75.00", "0.00", "25.00"]),
        ("-1.00", ["1", "1", "1"], ["-0.34", "-0.33", "-0.33"]),  # a reversal: the negated split
        ("0.015", ["1", "1"], ["0.01", "0.01"]),  # the total is first put to the fen (0.02)
        ("15678.90", ["5235.37", "12000.00"], ["4762.58", "10916.32"]),  # 476258.08 and 1091631.92 fen
    ],
)
def test_largest_remainder_by_hand(total: str, weights: list[str], parts: list[str]) -> None:
    got = largest_remainder(D(total), [D(w) for w in weights])
    assert [str(p) for p in got] == parts


def test_largest_remainder_refuses_negative_or_zero_weights() -> None:
    with pytest.raises(ValueError, match="^weights must be non-negative$"):
        largest_remainder(D("1.00"), [D("1"), D("-0.01")])
    with pytest.raises(ValueError, match="^weights must not all be zero$"):
        largest_remainder(D("1.00"), [D("0"), D("0")])
    assert largest_remainder(D("1.00"), [D("0"), D("2")]) == [D("0.00"), D("1.00")]


@pytest.mark.parametrize(
    ("value", "text"),
    [(D("1234567.8"), "1,234,567.80"), (D("0.1"), "0.10"), (D("-25000"), "-25,000.00"), (None, "—")],
)
def test_yuan(value: Decimal | None, text: str) -> None:
    assert yuan(value) == text


@pytest.mark.parametrize(("rate", "text"), [("0.025", "2.5%"), ("0.03", "3%"), ("0.0050", "0.5%"), ("1", "100%")])
def test_percent(rate: str, text: str) -> None:
    assert percent(D(rate)) == text


def test_plus_onto_nothing_keeps_a_figure_to_the_fen_and_adds_any_other() -> None:
    lent = Decimal("1000000.00")
    assert plus(ZERO, lent) is lent
    # Not onto ZERO itself, or not to the fen, or nil: added as ever (0.00 + x).
    other_zero = Decimal("0.00")
    assert plus(other_zero, lent) is not lent and plus(other_zero, lent) == lent
    assert str(plus(ZERO, Decimal("1000000"))) == "1000000.00"
    assert str(plus(ZERO, Decimal("1000000.5"))) == "1000000.50"
    nil = Decimal("0.00")
    assert plus(ZERO, nil) is not nil and str(plus(ZERO, nil)) == "0.00"
    assert str(plus(ZERO, Decimal("-0.00"))) == "0.00"
    assert str(plus(Decimal("600000.00"), Decimal("400000.01"))) == "1000000.01"
    assert str(plus(ZERO, Decimal("-25000.00"))) == "-25000.00"


def test_minus_to_nil_is_zero_itself_and_otherwise_the_difference() -> None:
    assert minus(Decimal("1000000.00"), Decimal("1000000.00")) is ZERO
    assert str(minus(Decimal("1000000.00"), Decimal("400000.00"))) == "600000.00"
    assert str(minus(Decimal("0.01"), Decimal("0.02"))) == "-0.01"
    # Nil with fewer decimals stays as computed (written without the fen: 0).
    nil = minus(Decimal("1000000"), Decimal("1000000"))
    assert nil is not ZERO and str(nil) == "0"
