"""Statements as banks lay them out: labels, two-row headers, preambles, payer and payee.

The fixtures (tests/importers/, written by make_fixtures.py) follow the column sets of the
real exports; these tests pin what the reading makes of each peculiarity.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from conftest import importer_fixtures
from zhubaodai.importers.config import ImportConfigError
from zhubaodai.importers.config import label_key
from zhubaodai.importers.config import load_layouts
from zhubaodai.importers.config import load_pool_config
from zhubaodai.importers.statement import StatementError
from zhubaodai.importers.statement import read_statement

REPO = Path(__file__).resolve().parent.parent
HERE = REPO / "tests" / "importers"
CQGX = load_pool_config(HERE / "pools" / "cqgx.yaml").layouts
BOC = load_pool_config(HERE / "pools" / "wlht-boc.yaml").layouts


fx = importer_fixtures()


@pytest.mark.parametrize(
    ("printed", "declared"),
    [
        ("账\u3000\u3000号", "账号"),  # full-width spaces inside the label
        ("账 \u00a0 号：", "账号"),  # no-break space, a trailing colon
        ("余额/元", "余额"),  # unit suffix
        ("余额（元）", "余额"),
        (" 借方发生额/元(支取) ", "借方发生额（支取）"),  # unit inside, half- vs full-width brackets
        ("借方发生额【支取】", "借方发生额（支取）"),
        ("交易金额[ Trade Amount ]", "交易金额"),  # the English half of a bilingual label
        ("查询账号[ Inquirer account number ]", "查询账号[Inquirer Account Number]"),
        ("对方\u200b户名", "对方户名"),  # an invisible format character
    ],
)
def test_labels_compare_as_people_read_them(printed: str, declared: str) -> None:
    assert label_key(printed) == label_key(declared)


def test_different_labels_stay_different() -> None:
    assert label_key("借方发生额（支取）") != label_key("贷方发生额（收入）")
    assert label_key("余额") != label_key("交易后余额")
    assert label_key("账号") != label_key("对方账号")


def test_two_row_header_under_a_merged_cell() -> None:
    """明细查询结果: 发生额/元 over 借方 | 贷方; the other labels merged down two rows."""
    for name in ("ccb-query-utf8.csv", "ccb-query.xlsx", "ccb-query.xls"):
        st = read_statement(HERE / "ccb-query" / name, CQGX)
        assert st.layout.name == "ccb-query" and st.header_row == 4
        assert len(st.rows) == len(fx.CQ_Q3)
        assert [r.amount for r in st.rows] == [t.amount for t in fx.CQ_Q3]
        assert st.balance_label == "G 列（余额/元）"


def test_padded_preamble_pairs_in_one_cell() -> None:
    """账　　号：…　　户　　名：… in one cell: two pairs, the labels padded inside."""
    st = read_statement(HERE / "ccb-query" / "ccb-query-utf8.csv", CQGX)
    assert st.account == fx.CQ_ACCOUNT and st.account_name == fx.CQ_NAME


def test_preamble_account_must_be_the_rows_account(tmp_path: Path) -> None:
    rows = fx.query_rows(fx.CQ_Q3, fx.CQ_OPENING)
    rows[1][0] = str(rows[1][0]).replace(fx.CQ_ACCOUNT, "50050110360000009999")
    path = tmp_path / "query.csv"
    fx.write_csv(path, rows)
    with pytest.raises(StatementError) as info:
        read_statement(path, CQGX)
    assert str(info.value) == (
        f"文件 {path} 第 2 行 A 列（账号）：表头前的账号 50050110360000009999 与明细中的本方账号 "
        f"{fx.CQ_ACCOUNT}（第 6 行）不同"
    )


def test_boc_preamble_account_and_totals() -> None:
    for name in ("boc-2024Q3.csv", "boc-2024Q3.xlsx"):
        st = read_statement(HERE / "boc" / name, BOC)
        assert st.account == fx.WL_BOC_ACCOUNT and st.account_at == (1, "B 列（账号）")
        assert [r.amount for r in st.rows] == [t.amount for t in fx.WL_Q3]


@pytest.mark.parametrize(
    ("row", "value", "message"),
    [
        (1, "6", "第 2 行 B 列（总笔数）：总笔数与明细笔数不符：说明中为 6 笔，明细为 5 笔"),
        (3, "51.00", "第 4 行 B 列（借方发生总额）：借方发生总额与明细合计不符：说明中为 51.00 元，明细为 50.00 元"),
        (4, "3", "第 5 行 B 列（贷方发生笔数）：贷方发生笔数与明细笔数不符：说明中为 3 笔，明细为 4 笔"),
    ],
)
def test_boc_totals_are_checked_against_the_rows(tmp_path: Path, row: int, value: str, message: str) -> None:
    rows = fx.boc_rows()
    rows[row][1] = value
    path = tmp_path / "boc.csv"
    fx.write_csv(path, rows)
    with pytest.raises(StatementError, match=message):
        read_statement(path, BOC)


def test_boc_counterparty_is_the_payer_on_credits_and_the_payee_on_debits(tmp_path: Path) -> None:
    txns = [
        fx.Txn("2024-07-08", "", Decimal("20000.00"), "乌兰浩特市草原牧业有限公司", "150501716136000012345", "中国银行乌兰浩特分行", "转账", "助保金"),
        fx.Txn("2024-07-09", "", Decimal("-5000.00"), "乌兰浩特市某某银行", "150766600099", "某某银行乌兰浩特支行", "代偿", ""),
    ]
    rows = _boc_with(txns)
    path = tmp_path / "boc.csv"
    fx.write_csv(path, rows)
    credit, debit = read_statement(path, BOC).rows
    assert (credit.counterparty, credit.counterparty_account, credit.counterparty_bank) == (
        "乌兰浩特市草原牧业有限公司", "150501716136000012345", "中国银行乌兰浩特分行",
    )
    assert (debit.counterparty, debit.counterparty_account, debit.counterparty_bank) == (
        "乌兰浩特市某某银行", "150766600099", "某某银行乌兰浩特支行",
    )
    # Payer and payee swapped on the debit: the payer is not this account.
    swapped = [list(r) for r in rows]
    swapped[-1][2:6], swapped[-1][6:10] = swapped[-1][6:10], swapped[-1][2:6]
    fx.write_csv(path, swapped)
    with pytest.raises(StatementError, match="第 10 行 E 列（付款人账号.*）：支出的付款人账号 150766600099 不是本对账单的账号"):
        read_statement(path, BOC)


def _boc_with(txns: list) -> list[list[object]]:
    saved = fx.WL_Q3[:]
    try:
        fx.WL_Q3[:] = txns
        return fx.boc_rows()
    finally:
        fx.WL_Q3[:] = saved


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ("payer: 付款人名称", "付款人与收款人列应成对声明：缺少 payee（收款人名称）"),
        ("payer: 付款人名称\n      payee: 收款人名称\n      counterparty: 对方户名",
         "已按收支方向声明付款人/收款人列，不能再声明 counterparty"),
    ],
)
def test_payer_and_payee_columns_are_declared_in_pairs(tmp_path: Path, columns: str, message: str) -> None:
    banks = tmp_path / "banks.yaml"
    banks.write_text(
        "layouts:\n  x:\n    bank: 某银行\n    columns:\n      account: 账号\n      date: 日期\n      amount: 金额\n"
        f"      balance: 余额\n      {columns}\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportConfigError, match=message):
        load_layouts(banks)


def test_the_shipped_banks_yaml_declares_the_real_layouts() -> None:
    layouts = load_layouts()
    assert list(layouts) == ["ccb-flat", "ccb-query", "ccb-detail", "boc", "icbc", "abc"]
    assert layouts["boc"].by_direction and not layouts["ccb-flat"].by_direction


def test_docs_name_only_samples_that_exist() -> None:
    """Every importers/samples/… file the documentation or the code names is shipped."""
    import re

    texts = [*REPO.glob("docs/*.md"), REPO / "README.md", *REPO.glob("importers/*.py")]
    named = {m for path in texts for m in re.findall(r"importers/samples/[\w.-]+", path.read_text(encoding="utf-8"))}
    assert named, "the documentation names no sample"
    assert sorted(n for n in named if not (REPO / n).is_file()) == []
