"""Money arithmetic for the pool: CNY ``Decimal`` to the fen, every rounding explicit.

Two roundings are used anywhere in the project, and only through this module:

* :func:`half_up` rounds one computed figure (a fee due, the risk fund's half of a
  shortfall) to the fen, half away from zero (四舍五入).
* :func:`largest_remainder` splits a total (a bank interest credit) into parts
  proportional to weights (the funds' 积数) so that the parts are whole fen and add up
  to the total exactly: each part is first rounded down, then the fen left over go one
  each to the parts with the largest remainders; ties go to the earlier part.

:func:`plus` and :func:`minus` round nothing: they add and subtract, keeping a figure already
held where the result is that same number to the digit (the engine's compact state).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN
from decimal import ROUND_HALF_UP
from decimal import Decimal

CURRENCY = "CNY"
FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def plus(total: Decimal, figure: Decimal) -> Decimal:
    """``total + figure``; onto nothing yet (``total`` is :data:`ZERO` itself) a non-zero
    figure to the fen is that figure, not an equal new Decimal: ZERO is 0.00, and 0.00 + x
    has x's digits and exponent exactly when x is to the fen. The engine keeps hundreds of
    thousands of such sums (a loan's first principal, a posting's role figure); a figure
    with fewer decimals (``1000000``) is added as ever and reads ``1000000.00``."""
    if total is ZERO and figure and figure.same_quantum(FEN):
        return figure
    return total + figure


def minus(total: Decimal, figure: Decimal) -> Decimal:
    """``total - figure``, a nil result to the fen being :data:`ZERO` itself (a loan repaid
    to nil holds the one ZERO, not a new 0.00)."""
    difference = total - figure
    return ZERO if not difference and difference.same_quantum(FEN) else difference


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
