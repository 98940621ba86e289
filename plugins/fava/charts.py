"""The pool overview's line charts, drawn on the server as SVG from the engine's series.

Fava's own chart component labels months in English ("April"), writes amounts as
"12.0M" and picks colours by series name (the risk fund changes colour from one tab to
the next); it also brings toolbar buttons (按成本, 按月) that do nothing for these
series. These charts say what a Chinese reviewer expects: months as 2024年1月 / 4月,
amounts in 万元, one colour per fund on every chart. The values are the engine's
(end-of-day fund balances, its adequacy checks); only their positions are computed here.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

#: The plot's size in SVG units (the SVG scales to the page's width).
WIDTH = 960
HEIGHT = 240
LEFT = 78  # room for the 万元 labels
RIGHT = 16
TOP = 12
BOTTOM = 28  # room for the month labels
TEN_THOUSAND = Decimal(10000)


@dataclass(frozen=True)
class Series:
    """One line: its label, its colour's name (a CSS variable --zbd-chart-<colour>),
    dashed for a limit, and its value on each of the chart's days."""

    label: str
    colour: str
    values: tuple[Decimal, ...]
    dashed: bool = False


@dataclass(frozen=True)
class Line:
    label: str
    colour: str
    dashed: bool
    path: str  # SVG path data: a step line (a balance holds until the next day it changes)
    last: Decimal  # the value on the chart's last day


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Chart:
    key: str  # "balances", "risk.floor", "risk.leverage"
    title: str
    first: datetime.date
    last: datetime.date
    lines: tuple[Line, ...]
    months: tuple[Tick, ...]
    amounts: tuple[Tick, ...]  # in 万元
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM


def _nice_step(span: float, count: int = 5) -> float:
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def wan(amount: float) -> str:
    """An axis label in 万元: 1,200 / 12.5 / 0."""
    if amount == int(amount):
        return f"{int(amount):,}"
    return f"{amount:,.2f}".rstrip("0").rstrip(".")


def _month_ticks(
    first: datetime.date, last: datetime.date, x: Callable[[datetime.date], float]
) -> tuple[Tick, ...]:
    """The first day of each month in the range (every n-th month beyond a year), labelled
    2024年2月 at the start and in each January, else 4月."""
    months = []
    year, month = first.year, first.month
    if first.day != 1:
        month += 1
        if month > 12:
            year, month = year + 1, 1
    while datetime.date(year, month, 1) <= last:
        months.append(datetime.date(year, month, 1))
        month += 1
        if month > 12:
            year, month = year + 1, 1
    step = max(1, math.ceil(len(months) / 12))
    ticks = []
    for i, day in enumerate(months[::step]):
        label = f"{day.year}年{day.month}月" if i == 0 or day.month <= step else f"{day.month}月"
        ticks.append(Tick(x(day), label))
    return tuple(ticks)


def make_chart(key: str, title: str, days: Sequence[datetime.date], series: Sequence[Series]) -> Chart | None:
    """A step-line chart of ``series`` over ``days`` (None when there is nothing to draw)."""
    if not days or not series:
        return None
    first, last = days[0], days[-1]
    span_days = max((last - first).days, 1)
    plot_w = WIDTH - RIGHT - LEFT
    plot_h = HEIGHT - BOTTOM - TOP
    values = [float(v) / 10000 for s in series for v in s.values]
    low = min(0.0, min(values))
    high = max(values)
    if high <= low:
        high = low + 1
    step = _nice_step(high - low)
    low = math.floor(low / step) * step
    high = math.ceil(high / step) * step

    def x(day: datetime.date) -> float:
        return round(LEFT + (day - first).days / span_days * plot_w, 1)

    def y(value: Decimal) -> float:
        return round(TOP + (high - float(value) / 10000) / (high - low) * plot_h, 1)

    lines = []
    for s in series:
        parts = [f"M{x(days[0])},{y(s.values[0])}"]
        for day, value in zip(days[1:], s.values[1:]):
            parts.append(f"H{x(day)}V{y(value)}")
        lines.append(Line(s.label, s.colour, s.dashed, "".join(parts), s.values[-1]))
    amounts = []
    count = int(round((high - low) / step))
    for i in range(count + 1):
        value = low + i * step
        amounts.append(Tick(round(TOP + (high - value) / (high - low) * plot_h, 1), wan(value)))
    return Chart(key, title, first, last, tuple(lines), _month_ticks(first, last, x), tuple(amounts))
