"""Money arithmetic for the pool: CNY ``Decimal`` to the fen, every rounding explicit.

Two roundings are used anywhere in the project, and only through this module:

* :func:`half_up` rounds one computed figure (a fee due, the risk fund's half of a
  shortfall) to the fen, half away from zero (四舍五入).
* :func:`largest_remainder` splits a total (a bank interest credit) into parts
  proportional to weights (the funds' 积数) so that the parts are whole fen and add up
  to the total exactly: each part is first rounded down, then the fen left over go one
  each to the parts with the largest remainders; ties go to the earlier part.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN
from decimal import ROUND_HALF_UP
from decimal import Decimal

CURRENCY = "CNY"
FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def half_up(value: Decimal) -> Decimal:
    """Round to the fen, half away from zero."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def largest_remainder(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``total`` (whole fen) in proportion to ``weights``; parts sum to ``total``.

    Weights must be non-negative and not all zero. A negative total (a reversal) is
    split as the negation of the split of its absolute value.
    """
    if any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative")
    weight_sum = sum(weights, Decimal(0))
    if weight_sum == 0:
        raise ValueError("weights must not all be zero")
    total = total.quantize(FEN)
    if total < 0:
        return [-part for part in largest_remainder(-total, weights)]
    fens = int(total / FEN)
    exact = [Decimal(fens) * w / weight_sum for w in weights]
    floors = [int(x.to_integral_value(rounding=ROUND_DOWN)) for x in exact]
    left = fens - sum(floors)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in by_remainder[:left]:
        floors[i] += 1
    return [(Decimal(f) * FEN).quantize(FEN) for f in floors]


def yuan(value: Decimal | None) -> str:
    """Format an amount as users read it: thousands separators, two decimals."""
    if value is None:
        return "—"
    return f"{value.quantize(FEN):,}"


def percent(rate: Decimal) -> str:
    """0.025 -> '2.5%'."""
    return f"{(rate * 100).normalize():f}%"
