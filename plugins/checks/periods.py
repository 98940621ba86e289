"""Closed periods: what was closed (and reported) cannot change unnoticed.

Rule: ``period.closed``. The ledger this rule expects (``zbd close`` writes the close)::

    2026-01-15 custom "period" "close" "2025Q4"
      program: "CQGX"
      letter: "高新创服函〔2026〕3号"
      by: "张三"
      digest: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
      m2025-10: "37 3f2a9c0e5b1d7a44"
      ...

    2026-03-02 custom "period" "reopen" "2025Q4"
      program: "CQGX"
      letter: "高新创服函〔2026〕21号"

A close records the digest (:mod:`zhubaodai.core.digest`) of every directive dated up to
the period's end, register events and documents included, and of each month. The check
recomputes it: any difference (an edited amount, an inserted, deleted or back-dated entry)
is an error at the close directive naming the period and the month(s) that changed.

A reopening (with its letter) releases every close of the program, dated on or before it,
whose period ends on or after the reopened period's start (a later close covers the earlier
months too); the books are then closed again by a new close.

Nothing is computed for a ledger without closes: the digest costs one pass over the entries
only when some close is in force.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


from zhubaodai.core.digest import MonthDigest
from zhubaodai.core.digest import Period
from zhubaodai.core.digest import PeriodError
from zhubaodai.core.digest import month_digests
from zhubaodai.core.digest import month_meta_key
from zhubaodai.core.digest import parse_period
from zhubaodai.core.digest import period_digest
from zhubaodai.core.engine import Context
from zhubaodai.core.findings import FORMAT_RULE
from zhubaodai.core.register import Event

RULE = "period.closed"

#: Status of a close as the faces show it.
IN_FORCE = "有效"
RELEASED = "已重新打开"
BROKEN = "摘要不符"
REOPENED = "重新打开"


@dataclass(frozen=True)
class PeriodRecord:
    """One close or reopening, for the review pages and the report."""

    program: str
    kind: str  # "close" | "reopen"
    period: Period
    event: Event
    letter: str
    by: str | None
    #: For a close: IN_FORCE, RELEASED or BROKEN; for a reopening: REOPENED.
    status: str
    #: For a broken close: the months whose digest changed (``YYYY-MM``).
    changed: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return "结账" if self.kind == "close" else "重新打开"


def base_dir(options: Mapping[str, Any] | None) -> str:
    """The top ledger file's directory (documents are named relative to it)."""
    filename = (options or {}).get("filename") or ""
    return os.path.dirname(os.path.abspath(filename)) if filename and not filename.startswith("<") else ""


def finish(ctx: Context) -> None:
    entries, options = ctx.entries, ctx.options
    events = ctx.register.periods
    if not events:
        return
    parsed: list[tuple[Event, Period]] = []
    for event in events:
        try:
            parsed.append((event, parse_period(event.subject)))
        except PeriodError as exc:
            ctx.report(FORMAT_RULE, None, event.entry, str(exc))
    closes = [(e, p) for e, p in parsed if e.kind == "close"]
    reopens = [(e, p) for e, p in parsed if e.kind == "reopen"]
    released: set[int] = set()
    for event, period in reopens:
        code = event.data["program"]
        if not any(c.data["program"] == code and cp.code == period.code and c.date <= event.date for c, cp in closes):
            ctx.report(FORMAT_RULE, None, event.entry, f"项目 {code} 在 {event.date} 或以前没有 {period.code} 的结账，无可重新打开")
        for close, close_period in closes:
            if (
                close.data["program"] == code
                and close.date <= event.date
                and close_period.end >= period.start
            ):
                released.add(id(close))
    enforced = [(e, p) for e, p in closes if id(e) not in released]
    months: dict[str, MonthDigest] = {}
    if enforced:
        through = max(p.end for _, p in enforced)
        months = month_digests(entries, through, base_dir(options))
    records = ctx.records.periods
    for event, period in parsed:
        code = event.data["program"]
        common = dict(program=code, kind=event.kind, period=period, event=event,
                      letter=event.data["letter"], by=event.data.get("by"))
        if event.kind == "reopen":
            records.append(PeriodRecord(status=REOPENED, **common))
            continue
        if id(event) in released:
            records.append(PeriodRecord(status=RELEASED, **common))
            continue
        actual = period_digest(months, period.end)
        if actual == event.data["digest"]:
            records.append(PeriodRecord(status=IN_FORCE, **common))
            continue
        changed = _changed_months(event, months, period)
        records.append(PeriodRecord(status=BROKEN, changed=tuple(m for m, _ in changed), **common))
        if ctx.active(code, RULE):
            ctx.report(RULE, code, event.entry, _message(event, period, changed))


def _changed_months(event: Event, months: Mapping[str, MonthDigest], period: Period) -> list[tuple[str, str]]:
    """(month, what changed) for every month whose recorded digest differs from now."""
    meta = event.entry.meta
    last = f"{period.end.year:04d}-{period.end.month:02d}"
    recorded = {
        key[1:]: value for key, value in meta.items()
        if isinstance(key, str) and key.startswith("m") and len(key) == 8 and isinstance(value, str)
    }
    now = {key: m for key, m in months.items() if key <= last}
    changed: list[tuple[str, str]] = []
    for month in sorted(set(recorded) | set(now)):
        was = recorded.get(month)
        found = now.get(month)
        if found is not None and was == found.short:
            continue
        was_count = was.split(" ", 1)[0] if was else "0"
        now_count = str(found.count) if found else "0"
        if was_count != now_count:
            changed.append((month, f"{month}（结账时 {was_count} 条指令，现有 {now_count} 条）"))
        else:
            changed.append((month, f"{month}（{now_count} 条指令，内容有改动）"))
    return changed


def _message(event: Event, period: Period, changed: list[tuple[str, str]]) -> str:
    head = (
        f"{period.label}（{period.code}，截至 {period.end}）已于 {event.date} 结账"
        f"（{event.data['letter']}），其后账目被改动"
    )
    if changed:
        where = "；变动的月份：" + "、".join(text for _, text in changed)
    else:
        where = "；各月摘要与结账记录相同，但总摘要不符（结账指令的摘要可能被改动）"
    return (
        f"{head}{where}。已结账期间的金额、日期和分录不得改动或补记；确需更正，"
        f"须先登记附函件的“重新打开”，改后重新结账"
    )


def month_meta(months: Mapping[str, MonthDigest], period: Period) -> dict[str, str]:
    """The per-month metadata of a close of ``period`` (``m2025-10: "37 3f2a…"``)."""
    last = f"{period.end.year:04d}-{period.end.month:02d}"
    return {month_meta_key(key): m.short for key, m in months.items() if key <= last}
