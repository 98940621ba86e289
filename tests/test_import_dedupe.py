"""Deduplication, entry by entry: what the importer marks as already in the ledger.

A transaction is a duplicate when a ledger transaction touching the pool account (or one
of its sub-accounts) carries the same bank serial number; a balance assertion when the
ledger asserts the same figure on the pool account on the same day. Nothing else is: a
serial on another account, another day's or another figure's balance. The accounts and
serials are written out here, not read from the importer's configuration.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

from beancount.core import data
from beancount.core.amount import Amount

from zhubaodai.importers.classify import existing_balances
from zhubaodai.importers.classify import existing_serials
from zhubaodai.importers.importer import DUPLICATE
from zhubaodai.importers.importer import PoolImporter

CQGX = Path(__file__).resolve().parent / "importers" / "pools" / "cqgx.yaml"
DAY = datetime.date(2024, 7, 3)


def txn(serial: str | None, *accounts: str, day: datetime.date = DAY) -> data.Transaction:
    meta = data.new_metadata("<test>", 1)
    if serial is not None:
        meta["serial"] = serial
    postings = [data.Posting(a, Amount(Decimal("1.00"), "CNY"), None, None, None, None) for a in accounts]
    return data.Transaction(meta, day, "*", "", "", frozenset(), frozenset(), postings)


def balance(account: str, number: str, day: datetime.date = DAY) -> data.Balance:
    return data.Balance(data.new_metadata("<test>", 2), day, account, Amount(Decimal(number), "CNY"), None, None)


def test_serials_of_the_pool_and_its_sub_accounts_only() -> None:
    first = txn("10001", "Assets:CQGX:Pool:Guarantee", "Income:CQGX:Fee")
    found = existing_serials(
        [
            balance("Assets:CQGX:Pool", "5.00"),  # not a transaction: skipped, the rest still read
            txn(None, "Assets:CQGX:Pool", "Income:CQGX:Fee"),  # no serial: skipped likewise
            first,
            txn("10001", "Assets:CQGX:Pool", "Income:CQGX:Fee"),  # the same serial again: the first one stays
            txn("10002", "Assets:CQGX:Pool", "Income:CQGX:Fee"),
            txn("10003", "Assets:CQGX:PoolOther", "Income:CQGX:Fee"),  # a name that only starts alike
            txn("10004", "Assets:WLHT:Pool", "Income:WLHT:Fee"),
        ],
        "Assets:CQGX:Pool",
    )
    assert sorted(found) == ["10001", "10002"]
    assert found["10001"] is first


def test_balances_of_that_account_only() -> None:
    found = existing_balances(
        [balance("Assets:CQGX:Pool", "5165555.56"), balance("Assets:WLHT:Pool", "7.00"), txn("1", "Assets:CQGX:Pool")],
        "Assets:CQGX:Pool",
    )
    assert found == {(DAY, Decimal("5165555.56"))}


def test_deduplicate_marks_only_what_the_ledger_already_has() -> None:
    existing = [
        txn("10001-20240703100211001", "Assets:CQGX:Pool", "Income:CQGX:Fee"),
        txn("OTHER-1", "Assets:WLHT:Pool", "Income:WLHT:Fee"),
        balance("Assets:CQGX:Pool", "5165555.56"),
    ]
    new = {
        "same serial": txn("10001-20240703100211001", "Assets:CQGX:Pool", "Income:CQGX:Fee"),
        "new serial": txn("10002-20240703100211002", "Assets:CQGX:Pool", "Income:CQGX:Fee"),
        "serial of another pool": txn("OTHER-1", "Assets:CQGX:Pool", "Income:CQGX:Fee"),
        "no serial": txn(None, "Assets:CQGX:Pool", "Income:CQGX:Fee"),
        "same balance": balance("Assets:CQGX:Pool", "5165555.56"),
        "balance a fen off": balance("Assets:CQGX:Pool", "5165555.57"),
        "balance a day later": balance("Assets:CQGX:Pool", "5165555.56", DAY + datetime.timedelta(days=1)),
        "same figure on another account": balance("Assets:CQGX:Cash", "5165555.56"),
    }
    PoolImporter(CQGX).deduplicate(list(new.values()), existing)
    marked = sorted(name for name, entry in new.items() if entry.meta.get(DUPLICATE))
    assert marked == ["same balance", "same serial"]
    assert all(entry.meta.get(DUPLICATE) is True for name, entry in new.items() if name in marked)
