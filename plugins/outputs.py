"""What the project writes for spreadsheets carries no live formula from the ledger's text.

A loan id, an enterprise name or a narration is the accountant's text, not ours: written
as it is into a CSV download or an XLSX report, ``=HYPERLINK("http://x","y")`` (or any text
starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) would be run by the
spreadsheet program that opens the file. Every text cell we write goes through
:func:`inert`: such text gets a leading apostrophe, which spreadsheet programs show as
text and never evaluate (openpyxl, too, stores text starting with ``=`` as a formula
unless it is quoted). Numbers, dates and Decimals are left as they are: a negative amount
is a number, not a formula.
"""

from __future__ import annotations

from typing import Any

#: Leading characters a spreadsheet program reads as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """``value`` for a spreadsheet cell: text that could start a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def inert_row(row: Any) -> list[Any]:
    return [inert(value) for value in row]
