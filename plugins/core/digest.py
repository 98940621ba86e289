"""Content digests of the books, month by month, for closed periods (``period.closed``).

A digest is computed from what each directive *says*, not from where it is written: the
file name and line number are left out, metadata keys are sorted, a transaction's postings
(and tags, links) are taken as a set, numbers are compared by value (``1.50`` = ``1.5``),
and a month's directives are taken in sorted order of their own hashes. Moving entries
between files, reordering them within a day or reformatting them leaves every digest as it
was; an edited fen, a changed date, an inserted or a deleted line does not.

Each month of the books gets ``(count, sha256)``; a period's digest is the SHA-256 of the
lines ``YYYY-MM count sha256`` of every month up to the period's end. The close directive
records both (``digest`` and one ``mYYYY-MM`` key per month, shortened), so a mismatch can
be narrowed to the month(s) that changed.

The cost is one canonical string per directive, one sort and one SHA-256 per month:
linear in the ledger (docs/benchmarks.md gives the figure at 10k transactions).

The canonical text is a format: every close ever recorded depends on it. Changing
:func:`entry_text` breaks them all (the period.closed rule ledgers, whose digests are
``zbd close``'s output, fail first).
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from beancount.core.amount import Amount
from beancount.core.data import Custom
from beancount.core.data import Directive
from beancount.core.data import Document
from beancount.core.data import Posting
from beancount.core.data import Transaction

#: The register type of period directives (never part of a digest: closing must not
#: change what it closes).
PERIOD_TYPE = "period"
#: Metadata the parser adds, not the ledger's content.
_SKIP_META = frozenset(("filename", "lineno"))
#: How many hex digits of a month's digest a close directive records (64 bits: enough to
#: name the changed month; the full ``digest`` decides).
MONTH_HEX = 16

_PERIOD_RE = re.compile(r"^(\d{4})(?:[Qq]([1-4]))?$")


class PeriodError(ValueError):
    """A period that cannot be read; the message is for the user (Chinese)."""


@dataclass(frozen=True, slots=True)
class Period:
    """A closable period: a quarter (``2025Q4``) or a year (``2025``)."""

    code: str
    label: str
    start: datetime.date
    end: datetime.date


def parse_period(text: str) -> Period:
    """'2025Q4' -> the fourth quarter of 2025; '2025' -> the year; else :class:`PeriodError`."""
    match = _PERIOD_RE.match(text.strip())
    if not match:
        raise PeriodError(f"期间应写作 2025Q4（季度）或 2025（年度）：{text!r}")
    year = int(match.group(1))
    if match.group(2) is None:
        return Period(str(year), f"{year}年度", datetime.date(year, 1, 1), datetime.date(year, 12, 31))
    quarter = int(match.group(2))
    start = datetime.date(year, 3 * quarter - 2, 1)
    end_month = 3 * quarter
    end = datetime.date(year + (end_month == 12), end_month % 12 + 1, 1) - datetime.timedelta(days=1)
    return Period(f"{year}Q{quarter}", f"{year}年第{'一二三四'[quarter - 1]}季度", start, end)


def month_key(day: datetime.date) -> str:
    """'2025-10' for any day of October 2025."""
    return f"{day.year:04d}-{day.month:02d}"


def _number(value: Decimal) -> str:
    if not value.is_finite():
        return str(value)
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _canon(value: Any, base: str) -> str:
    """A canonical text of a directive's value (recursive over Beancount's tuples)."""
    if value is None or isinstance(value, bool | int | str):
        return repr(value)
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return "{" + ",".join(
            f"{k!r}:{_canon(v, base)}" for k, v in sorted(value.items()) if k not in _SKIP_META and not str(k).startswith("__")
        ) + "}"
    if isinstance(value, frozenset | set):
        return "{" + ",".join(sorted(_canon(v, base) for v in value)) + "}"
    if isinstance(value, list):
        texts = [_canon(v, base) for v in value]
        if value and type(value[0]).__name__ == "Posting":
            texts.sort()  # a transaction's postings in any order: the same content
        return "[" + ",".join(texts) + "]"
    if isinstance(value, tuple):
        fields = getattr(value, "_fields", None)
        if fields is None:
            return "(" + ",".join(_canon(v, base) for v in value) + ")"
        return type(value).__name__ + "(" + ",".join(_canon(getattr(value, f), base) for f in fields) + ")"
    return repr(value)


def _num(value: Decimal) -> str:
    """A number by value, cheaply: trailing zeros of the fraction dropped."""
    text = str(value)
    if "." in text and "E" not in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _value(value: Any, base: str) -> str:
    t = type(value)
    if t is str:
        return repr(value)
    if t is Decimal:
        return _num(value)
    if t is Amount:
        number = value.number
        return (_num(number) if type(number) is Decimal else repr(number)) + " " + str(value.currency)
    if t is datetime.date:
        return value.isoformat()
    return _canon(value, base)


def _meta(meta: Mapping[str, Any] | None, base: str) -> str:
    if not meta or (len(meta) == 2 and "lineno" in meta and "filename" in meta):
        return ""
    parts = []
    for key in sorted(meta):
        if key in _SKIP_META or key.startswith("__"):
            continue
        value = meta[key]
        t = type(value)
        if t is str:
            parts.append(f"{key}={value!r}")
        elif t is Decimal:
            parts.append(f"{key}={_num(value)}")
        else:
            parts.append(f"{key}={_value(value, base)}")
    return "{" + ",".join(parts) + "}"


def _first(item: tuple[str, Any]) -> str:
    return item[0]


def _posting(posting: Posting, base: str) -> str:
    units = posting.units
    text = f"{posting.account} {_value(units, base) if units is not None else '-'}"
    if posting.cost is not None:
        text += " {" + _canon(posting.cost, base) + "}"
    if posting.price is not None:
        text += " @" + _value(posting.price, base)
    if posting.flag:
        text += " !" + posting.flag
    if posting.meta:
        text += _meta(posting.meta, base)
    return text


def entry_text(entry: Directive, base: str) -> str:
    """The canonical text of one directive. ``base`` is the top ledger file's directory:
    a document's file is named relative to it (the books may move as a whole)."""
    t = type(entry)
    if t is Transaction:
        postings = sorted(_posting(p, base) for p in entry.postings)
        return (
            f"T {entry.date.isoformat()} {entry.flag} {entry.payee!r} {entry.narration!r} "
            f"{sorted(entry.tags or ())} {sorted(entry.links or ())} {_meta(entry.meta, base)} "
            + "|".join(postings)
        )
    if t is Custom:
        values = " ".join(_value(v.value, base) for v in entry.values)
        return f"C {entry.date.isoformat()} {entry.type} {values} {_meta(entry.meta, base)}"
    if t is Document:
        name = entry.filename
        if os.path.isabs(name) and base:
            name = os.path.relpath(name, base)
        entry = entry._replace(filename=name)
    return _canon(entry, base)


def entry_hash(entry: Directive, base: str) -> bytes:
    return hashlib.sha256(entry_text(entry, base).encode("utf-8")).digest()


def is_period_directive(entry: Directive) -> bool:
    """Left out of every digest: the closes and reopenings themselves, and Fava's
    configuration (``custom "fava-option"``, ``"fava-extension"``: how the books are shown,
    not what they say)."""
    return isinstance(entry, Custom) and (entry.type == PERIOD_TYPE or entry.type.startswith("fava-"))


@dataclass(frozen=True, slots=True)
class MonthDigest:
    """One month of the books: how many directives, and their digest."""

    month: str
    count: int
    sha256: str

    @property
    def short(self) -> str:
        """As a close directive records it: ``"<count> <first 16 hex digits>"``."""
        return f"{self.count} {self.sha256[:MONTH_HEX]}"


def month_digests(entries: Iterable[Directive], through: datetime.date, base: str) -> dict[str, MonthDigest]:
    """Every month with directives dated up to ``through`` (period directives left out),
    by ``YYYY-MM``, in month order.

    A month's digest is the SHA-256 of its directives' canonical texts, sorted and each
    followed by a NUL (a text holds none): one hash per month, not per directive."""
    texts: dict[tuple[int, int], list[str]] = {}
    for entry in entries:
        date = entry.date
        if date > through or (type(entry) is Custom and is_period_directive(entry)):
            continue
        key = (date.year, date.month)
        found = texts.get(key)
        if found is None:
            found = texts[key] = []
        found.append(entry_text(entry, base))
    digests: dict[str, MonthDigest] = {}
    for year, month in sorted(texts):
        items = texts[(year, month)]
        items.sort()
        data = "\0".join(items).encode("utf-8") + b"\0"
        key = f"{year:04d}-{month:02d}"
        digests[key] = MonthDigest(key, len(items), hashlib.sha256(data).hexdigest())
    return digests


def period_digest(months: Mapping[str, MonthDigest], through: datetime.date) -> str:
    """The digest of every month up to ``through``'s month."""
    last = month_key(through)
    lines = "".join(f"{m.month} {m.count} {m.sha256}\n" for key, m in months.items() if key <= last)
    return hashlib.sha256(lines.encode("ascii")).hexdigest()


def month_meta_key(month: str) -> str:
    """The close directive's metadata key of a month: ``m2025-10``."""
    return "m" + month
