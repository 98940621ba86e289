"""The running-balance chain of a statement, pair by pair from the first data row.

Each row's balance must be the previous row's balance plus its own amount. A statement
with one row deleted anywhere between its first and its last is refused at the row after
the gap, with the numbers a person needs; deleting the second data row (the first pair of
the chain) was the mutant that passed every test in issue #14 (survivor a): the only
chain fixture, tests/importers/bad/balance-chain.csv, breaks further down the file.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import importer_fixtures
from zhubaodai.importers.config import load_pool_config
from zhubaodai.importers.statement import StatementError
from zhubaodai.importers.statement import read_statement

HERE = Path(__file__).resolve().parent / "importers"
CQGX = load_pool_config(HERE / "pools" / "cqgx.yaml").layouts

fx = importer_fixtures()


def flat_without(tmp_path: Path, data_row: int) -> Path:
    """The CCB flat export of the third quarter with its ``data_row``-th data row (1-based)
    deleted."""
    rows = fx.flat_rows(fx.CQ_Q3, fx.CQ_OPENING)
    del rows[data_row]  # rows[0] is the header
    path = tmp_path / f"without-{data_row}.csv"
    fx.write_csv(path, rows)
    return path


def test_the_whole_statement_chains(tmp_path: Path) -> None:
    path = tmp_path / "whole.csv"
    fx.write_csv(path, fx.flat_rows(fx.CQ_Q3, fx.CQ_OPENING))
    assert len(read_statement(path, CQGX).rows) == len(fx.CQ_Q3) == 11


def test_second_row_deleted_is_refused_at_the_first_pair(tmp_path: Path) -> None:
    path = flat_without(tmp_path, 2)
    with pytest.raises(StatementError) as info:
        read_statement(path, CQGX)
    assert str(info.value) == (
        f"文件 {path} 第 3 行 F 列（余额）：余额不连续：上一笔（第 2 行）余额 5,165,555.56 + 本笔发生额 "
        "1,000,000.00 = 6,165,555.56，而本行余额为 6,215,555.56（对账单缺行、多行或金额有误）"
    )
    assert (info.value.row, info.value.column) == (3, "F 列（余额）")


def test_second_to_last_row_deleted_is_refused_at_the_last_pair(tmp_path: Path) -> None:
    path = flat_without(tmp_path, 10)
    with pytest.raises(StatementError) as info:
        read_statement(path, CQGX)
    assert str(info.value) == (
        f"文件 {path} 第 11 行 F 列（余额）：余额不连续：上一笔（第 10 行）余额 5,640,088.43 + 本笔发生额 "
        "15,678.90 = 5,655,767.33，而本行余额为 5,748,380.13（对账单缺行、多行或金额有误）"
    )


def test_a_debit_after_the_gap_shows_a_minus(tmp_path: Path) -> None:
    path = flat_without(tmp_path, 6)  # the 10,000.00 credit before the 622,612.80 debit
    with pytest.raises(StatementError) as info:
        read_statement(path, CQGX)
    assert str(info.value) == (
        f"文件 {path} 第 7 行 F 列（余额）：余额不连续：上一笔（第 6 行）余额 6,252,901.23 − 本笔发生额 "
        "622,612.80 = 5,630,288.43，而本行余额为 5,640,288.43（对账单缺行、多行或金额有误）"
    )


@pytest.mark.parametrize("data_row", range(2, 11))
def test_any_inner_row_deleted_is_refused_right_after_the_gap(tmp_path: Path, data_row: int) -> None:
    path = flat_without(tmp_path, data_row)
    with pytest.raises(StatementError, match="余额不连续") as info:
        read_statement(path, CQGX)
    assert info.value.row == data_row + 1  # the file line of the row that followed the gap


@pytest.mark.parametrize(("data_row", "rows"), [(1, 10), (11, 10)])
def test_first_or_last_row_deleted_still_chains(tmp_path: Path, data_row: int, rows: int) -> None:
    """The ends of a statement have no neighbour to disagree with: the ledger connection
    (导入时核对余额是否接上账本) catches those, not the chain."""
    assert len(read_statement(flat_without(tmp_path, data_row), CQGX).rows) == rows


def one_day(tmp_path: Path, name: str, newest_first: bool) -> Path:
    """The third quarter's transactions all on one day (the dates cannot tell the order;
    the balances can), listed oldest or newest first."""
    txns = [dataclasses.replace(t, day="2024-07-03") for t in fx.CQ_Q3]
    rows = fx.flat_rows(txns, fx.CQ_OPENING)
    if newest_first:
        rows = rows[:1] + rows[:0:-1]
    path = tmp_path / name
    fx.write_csv(path, rows)
    return path


@pytest.mark.parametrize("newest_first", [False, True])
def test_one_day_statement_is_read_in_the_order_its_balances_chain(tmp_path: Path, newest_first: bool) -> None:
    st = read_statement(one_day(tmp_path, "one-day.csv", newest_first), CQGX)
    assert [r.amount for r in st.rows] == [t.amount for t in fx.CQ_Q3]
    assert [r.line for r in st.rows][:2] == ([12, 11] if newest_first else [2, 3])
    assert st.opening_balance == Decimal("5115555.56")
    assert st.closing_balance == Decimal("5748380.13")


def test_one_day_statement_that_chains_neither_way_is_refused(tmp_path: Path) -> None:
    path = one_day(tmp_path, "one-day.csv", newest_first=False)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    del lines[2]  # the second data row
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(StatementError, match="余额不连续") as info:
        read_statement(path, CQGX)
    assert info.value.row == 3


def test_newest_first_by_date_is_turned_round(tmp_path: Path) -> None:
    rows = fx.flat_rows(fx.CQ_Q3, fx.CQ_OPENING)
    path = tmp_path / "newest-first.csv"
    fx.write_csv(path, rows[:1] + rows[:0:-1])
    st = read_statement(path, CQGX)
    assert [r.line for r in st.rows] == list(range(12, 1, -1))
    assert st.opening_balance == Decimal("5115555.56")


def test_a_row_out_of_date_order_is_refused(tmp_path: Path) -> None:
    rows = fx.flat_rows(fx.CQ_Q3, fx.CQ_OPENING)
    rows[3], rows[4] = rows[4], rows[3]  # 07-15 before 07-10
    path = tmp_path / "out-of-order.csv"
    fx.write_csv(path, rows)
    with pytest.raises(StatementError) as info:
        read_statement(path, CQGX)
    assert str(info.value) == (
        f"文件 {path} 第 5 行 K 列（记账日期）：日期 2024-07-10 早于上一行（第 4 行）的 2024-07-15：明细应按时间顺序排列"
    )


def test_a_single_row_statement(tmp_path: Path) -> None:
    path = tmp_path / "one-row.csv"
    fx.write_csv(path, fx.flat_rows(fx.CQ_Q3[:1], fx.CQ_OPENING))
    st = read_statement(path, CQGX)
    assert [(r.line, r.amount, r.balance) for r in st.rows] == [(2, Decimal("50000.00"), Decimal("5165555.56"))]
    assert st.opening_balance == Decimal("5115555.56")


def test_two_rows_of_one_day_newest_first(tmp_path: Path) -> None:
    rows = fx.flat_rows(fx.CQ_Q3[:2], fx.CQ_OPENING)
    path = tmp_path / "two-rows.csv"
    fx.write_csv(path, [rows[0], rows[2], rows[1]])
    # both 50,000.00 on 07-03: only the balances tell that the file lists the newest first
    assert [r.line for r in read_statement(path, CQGX).rows] == [3, 2]


def test_newest_first_with_a_row_missing_is_a_chain_error(tmp_path: Path) -> None:
    rows = fx.flat_rows(fx.CQ_Q3, fx.CQ_OPENING)
    del rows[5]  # the fifth data row
    path = tmp_path / "newest-first-gap.csv"
    fx.write_csv(path, rows[:1] + rows[:0:-1])
    with pytest.raises(StatementError, match="余额不连续") as info:
        read_statement(path, CQGX)
    assert info.value.row == 7  # the row listed above the gap is the later one


def test_a_gap_before_a_credit_under_one_yuan_shows_a_plus(tmp_path: Path) -> None:
    txns = [
        fx.Txn("2024-07-03", "09:00:00", Decimal("50.00")),
        fx.Txn("2024-07-04", "09:00:00", Decimal("10.00")),
        fx.Txn("2024-07-05", "09:00:00", Decimal("0.50")),
    ]
    rows = fx.flat_rows(txns, Decimal("100.00"))
    del rows[2]
    path = tmp_path / "small.csv"
    fx.write_csv(path, rows)
    with pytest.raises(StatementError) as info:
        read_statement(path, CQGX)
    assert str(info.value) == (
        f"文件 {path} 第 3 行 F 列（余额）：余额不连续：上一笔（第 2 行）余额 150.00 + 本笔发生额 0.50 "
        "= 150.50，而本行余额为 160.50（对账单缺行、多行或金额有误）"
    )


def test_composite_serials_where_the_bank_prints_none() -> None:
    """日期/金额/余额/当日同值序号: the same date, amount and balance twice in a day count 1, 2."""
    layouts = load_pool_config(HERE / "pools" / "wlht-icbc.yaml").layouts
    st = read_statement(HERE / "icbc" / "icbc-2024-08.csv", layouts)
    assert st.composite_serial is True
    assert [r.serial for r in st.rows] == [
        "20240805/100.00/3000100.00/1",
        "20240805/-100.00/3000000.00/1",
        "20240805/100.00/3000100.00/2",
        "20240806/200000.00/3200100.00/1",
    ]
    assert [r.amount for r in st.rows] == [Decimal("100.00"), Decimal("-100.00"), Decimal("100.00"), Decimal("200000.00")]
    assert read_statement(HERE / "ccb-flat" / "ccb-flat-utf8.csv", CQGX).composite_serial is False
