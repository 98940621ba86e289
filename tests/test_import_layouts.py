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
ABC = load_pool_config(HERE / "pools" / "wlht-abc.yaml").layouts
BOCOM = load_pool_config(HERE / "pools" / "wlht-bocom.yaml").layouts
ICBC = load_pool_config(HERE / "pools" / "wlht-icbc.yaml").layouts


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
    assert list(layouts) == ["ccb-flat", "ccb-query", "ccb-detail", "boc", "icbc", "icbc-detail", "icbc-detail-flag", "icbc-statement", "abc", "abc-statement", "bocom"]
    assert layouts["boc"].by_direction and not layouts["ccb-flat"].by_direction


def test_docs_name_only_samples_that_exist() -> None:
    """Every importers/samples/… file the documentation or the code names is shipped."""
    import re

    texts = [*REPO.glob("docs/*.md"), REPO / "README.md", *REPO.glob("importers/*.py")]
    named = {m for path in texts for m in re.findall(r"importers/samples/[\w.-]+", path.read_text(encoding="utf-8"))}
    assert named, "the documentation names no sample"
    assert sorted(n for n in named if not (REPO / n).is_file()) == []


# --------------------------------------------------------------------------------------
# One unsigned amount and a 借贷标志 column (交通银行, 农业银行 对账单).


def test_bocom_sign_comes_from_the_flag_column() -> None:
    st = read_statement(HERE / "bocom" / "bocom-2024-09.xls", BOCOM)
    assert st.layout.name == "bocom" and st.header_row == 2
    assert st.account == fx.WL_BOCOM_ACCOUNT and st.account_name == "乌兰浩特市中小企业服务中心助保贷专户"
    assert [r.amount for r in st.rows] == [t.amount for t in fx.BOCOM_TXNS]
    assert st.rows[3].counterparty == "乌兰浩特市财政局" and st.rows[3].counterparty_account == "154000600011"
    assert st.opening_balance == fx.WL_OPENING
    assert st.composite_serial and st.rows[2].serial == "20240905/-30.00/3019940.00/1"


def test_bocom_older_template_reads_the_same_rows() -> None:
    """查询账号: in its own cell, 发生额 and 对方户名, a currency, the time yyyy-mm-dd HH:MM:SS."""
    new = read_statement(HERE / "bocom" / "bocom-2024-09.xls", BOCOM)
    old = read_statement(HERE / "bocom" / "bocom-old-2024-09.csv", BOCOM)
    assert old.layout.name == "bocom" and old.account == new.account
    keep = ("date", "amount", "balance", "serial", "counterparty", "counterparty_account", "summary")
    assert [[getattr(r, k) for k in keep] for r in old.rows] == [[getattr(r, k) for k in keep] for r in new.rows]


@pytest.mark.parametrize(
    ("cell", "value", "message"),
    [
        (1, "3", "第 8 行 B 列（借方发生笔数）：借方发生笔数与明细笔数不符：说明中为 3 笔，明细为 2 笔"),
        (3, "60.01", "第 8 行 D 列（借方发生总额）：借方发生总额与明细合计不符：说明中为 60.01 元，明细为 60.00 元"),
        (7, "622,345.66", "第 8 行 H 列（贷方发生总额）：贷方发生总额与明细合计不符：说明中为 622,345.66 元，明细为 622,345.67 元"),
    ],
)
def test_bocom_totals_below_the_rows_are_checked(tmp_path: Path, cell: int, value: str, message: str) -> None:
    rows = fx.bocom_rows()
    rows[-1][cell] = value
    path = tmp_path / "bocom.csv"
    fx.write_csv(path, rows)
    with pytest.raises(StatementError, match=message):
        read_statement(path, BOCOM)


def test_an_unknown_flag_is_an_error(tmp_path: Path) -> None:
    rows = fx.bocom_rows()
    rows[3][9] = "支"
    path = tmp_path / "bocom.csv"
    fx.write_csv(path, rows)
    with pytest.raises(StatementError) as info:
        read_statement(path, BOCOM)
    assert str(info.value) == (
        f"文件 {path} 第 4 行 J 列（借贷标志）：无法识别的借贷标志「支」（本版式只认 「借」、「贷」）：无法判断这一笔是收入还是支出"
    )


def test_a_wrong_flag_breaks_the_running_balance(tmp_path: Path) -> None:
    """The flag decides the sign: a 借 printed as 贷 cannot pass the balance check."""
    rows = fx.bocom_rows()
    rows[3][9] = "贷"
    path = tmp_path / "bocom.csv"
    fx.write_csv(path, rows)
    with pytest.raises(StatementError, match="第 4 行 C 列（余额）：余额不连续"):
        read_statement(path, BOCOM)


def test_abc_statement_flag_and_padded_cells() -> None:
    st = read_statement(HERE / "abc-statement" / "abc-statement-2024-09.xls", ABC)
    assert st.layout.name == "abc-statement" and st.account == fx.WL_ABC_ACCOUNT
    assert [r.amount for r in st.rows] == [t.amount for t in fx.ABC_STATEMENT_TXNS]
    assert st.rows[0].remark == "助保金" and st.rows[0].summary == ""
    assert st.rows[3].counterparty_bank == "152681000011"
    assert [r.serial for r in st.rows[1:3]] == ["20240903/-12.50/3019987.50/1", "20240903/-12.50/3019975.00/1"]


def test_abc_older_15_column_export() -> None:
    """交易日期 (the time in 交易时间戳, not read), 本次余额, 交易摘要 and 交易附言; the table
    ends at the 汇总收入金额 line."""
    st = read_statement(HERE / "abc" / "abc-15col-2024-09.xls", ABC)
    assert st.layout.name == "abc" and st.account == fx.WL_ABC_ACCOUNT
    assert [(r.date.isoformat(), r.amount) for r in st.rows] == [(t.day, t.amount) for t in fx.ABC_OLD_TXNS]
    assert (st.rows[0].summary, st.rows[0].remark) == ("转账", "助保金")


@pytest.mark.parametrize(
    ("columns", "keys", "message"),
    [
        ("      direction: 标志\n", "", "声明了 direction（借贷标志）列时，须给出 debit_marks 与 credit_marks"),
        ("", "    debit_marks: [借]\n    credit_marks: [贷]\n", "没有声明 direction（借贷标志）列，借贷标志的取值无从使用"),
        ("      direction: 标志\n", "    debit_marks: [借, 支]\n    credit_marks: [贷, 支]\n",
         "「支」同时是借方和贷方的标志：无法判断收支"),
        ("      direction: 标志\n", "    debit_marks: [借]\n    credit_marks: [贷]\n    optional: [direction]\n",
         "direction 不能是可选列"),
        ("      debit: 借方\n      direction: 标志\n", "    debit_marks: [借]\n    credit_marks: [贷]\n",
         "应声明 debit 与 credit 两列，或声明一列带符号的 amount"),
    ],
)
def test_flag_column_declaration_is_checked(tmp_path: Path, columns: str, keys: str, message: str) -> None:
    banks = tmp_path / "banks.yaml"
    amount = "" if "debit:" in columns else "      amount: 金额\n"
    banks.write_text(
        f"layouts:\n  x:\n    bank: 某银行\n    columns:\n      account: 账号\n      date: 日期\n{amount}"
        f"      balance: 余额\n{columns}{keys}",
        encoding="utf-8",
    )
    with pytest.raises(ImportConfigError, match=message) as info:
        load_layouts(banks)
    assert str(info.value).startswith(f"导入配置有误：{banks} 第 ")


def test_no_layout_fits_names_the_closest_and_its_missing_columns(tmp_path: Path) -> None:
    rows = [["查询账号：154000612018010012345"], ["交易时间", "摘要", "对方账户名称", "凭证种类"], ["20240902", "转账", "某某", "其它"]]
    path = tmp_path / "bocom.csv"
    fx.write_csv(path, rows)
    with pytest.raises(StatementError) as info:
        read_statement(path, BOCOM)
    assert "最接近的是交通银行「账户明细（查询账号在表头前，借贷标志）」（第 2 行），缺少列 「转账金额」、「借贷标志」、「余额」" in str(
        info.value
    )


def test_icbc_newer_exports_with_transfer_columns_or_one_amount_and_a_flag() -> None:
    """转出金额/转入金额 (the flag checked against them) and 发生额 + 借贷标志 read the same rows."""
    two = read_statement(HERE / "icbc-detail" / "icbc-detail-2024-09.xlsx", ICBC)
    one = read_statement(HERE / "icbc-detail" / "icbc-detail-flag-2024-09.csv", ICBC)
    assert (two.layout.name, one.layout.name) == ("icbc-detail", "icbc-detail-flag")
    for st in (two, one):
        assert st.account == fx.WL_ICBC_ACCOUNT and st.account_name == "乌兰浩特市中小企业服务中心"
        assert [(r.date.isoformat(), r.amount) for r in st.rows] == [(t.day, t.amount) for t in fx.ICBC_DETAIL_TXNS]
        assert st.rows[2].counterparty == "乌兰浩特市财政局" and st.rows[2].counterparty_bank == "102198000011"
    assert [r.serial for r in two.rows] == [r.serial for r in one.rows]


def test_icbc_flag_must_name_the_column_the_amount_is_in(tmp_path: Path) -> None:
    rows = fx.icbc_detail_rows()
    rows[3][3] = "贷"  # the 15.00 fee is in 转出金额
    path = tmp_path / "icbc.xlsx"
    fx.write_xlsx(path, rows)
    with pytest.raises(StatementError) as info:
        read_statement(path, ICBC)
    assert str(info.value) == (
        f"文件 {path} 第 4 行 D 列（借贷标志）：借贷标志「贷」与发生额所在的列（L 列（转出金额））不一致：无法判断这一笔是收入还是支出"
    )


def test_icbc_export_without_any_account_number_is_refused(tmp_path: Path) -> None:
    """The version without the flag as its parser names it has no 本方账号 column; with no
    账号 above the header either, the file cannot be tied to the pool's account."""
    path = tmp_path / "icbc.csv"
    fx.write_csv(path, fx.icbc_detail_noflag_rows(), encoding="gb18030")
    with pytest.raises(StatementError) as info:
        read_statement(path, ICBC)
    assert str(info.value) == (
        f"文件 {path} 第 2 行：表头前的说明中没有找到账号（账号），明细中也没有「本方账号」列："
        "无法确认这是哪个账户的对账单，请导出带账号的明细"
    )
    # With the account above the header it reads like the other versions.
    fx.write_csv(path, fx._icbc_detail_preamble() + fx.icbc_detail_noflag_rows()[1:], encoding="gb18030")
    st = read_statement(path, ICBC)
    assert st.layout.name == "icbc-detail" and [r.amount for r in st.rows] == [t.amount for t in fx.ICBC_DETAIL_TXNS]


def test_icbc_statement_preamble_and_closing_line() -> None:
    """账号/户名/上页余额 as label | value above the header, dates as Excel date cells, the
    账户余额 of the closing line checked against the last row."""
    st = read_statement(HERE / "icbc-statement" / "icbc-statement-2024-09.xls", ICBC)
    assert st.layout.name == "icbc-statement" and st.header_row == 8
    assert (st.account, st.account_name) == (fx.WL_ICBC_ACCOUNT, "乌兰浩特市中小企业服务中心")
    assert [(r.date.isoformat(), r.amount) for r in st.rows] == [(t.day, t.amount) for t in fx.ICBC_STATEMENT_TXNS]
    assert st.opening_balance == fx.WL_OPENING
    # The [HISTORYDETAIL] export of the same account is still read with its own layout.
    assert read_statement(HERE / "icbc" / "icbc-2024-08.csv", ICBC).layout.name == "icbc"


@pytest.mark.parametrize(
    ("row", "cell", "value", "message"),
    [
        (6, 1, "2,999,999.99\t", "第 7 行 B 列（期初余额）：期初余额与第一笔明细倒推的余额不符：说明中为 2,999,999.99 元，明细为 3,000,000.00 元"),
        (-1, 1, "账户余额: 3,319,970.01\t",
         "第 12 行 B 列（期末（当前）余额）：期末余额与最后一笔明细的余额不符：说明中为 3,319,970.01 元，明细为 3,319,970.00 元"),
    ],
)
def test_icbc_statement_balances_are_checked(tmp_path: Path, row: int, cell: int, value: str, message: str) -> None:
    rows = fx.icbc_statement_rows()
    rows[row][cell] = value
    path = tmp_path / "icbc.xls"
    fx.write_xls(path, rows)
    with pytest.raises(StatementError, match=message):
        read_statement(path, ICBC)


# --------------------------------------------------------------------------------------
# The forms of 交易时间.


@pytest.mark.parametrize(
    "printed",
    [
        "2024-07-01 10:22:33",  # ICBC [HISTORYDETAIL] as its public parsers read it; BOCOM's older template
        "20240701 10:22:33",  # CCB's flat export (yyyyMMdd HH:mm:ss)
        "20240701",  # BOCOM, ABC 账户明细 and 对账单 (their parsers read the first eight digits)
        "20240701 102233",
        "20240701 10:22",  # a public reconciliation tool's date reader lists this form (bank not named)
        "20240701102233",
        "202407011022",
        "2024/7/1 10:22",
        "2024/07/01",
        "2024-07-01T10:22:33",
        "2024年7月1日 10:22",
        "2024.07.01",
    ],
)
def test_every_form_of_the_transaction_time_reads_as_its_day(tmp_path: Path, printed: str) -> None:
    """ICBC's [HISTORYDETAIL] with 交易时间 written each way: the day is what counts."""
    rows = fx.icbc_rows()[:3]  # the marker line, the header, one row
    rows[2][3] = printed
    path = tmp_path / "icbc.csv"
    fx.write_csv(path, rows, encoding="gb18030")
    assert read_statement(path, ICBC).rows[0].date.isoformat() == "2024-07-01"


@pytest.mark.parametrize("printed", ["2024-13-01 10:22:33", "2024070110", "1 Jul 2024", "07/01/2024"])
def test_a_time_that_is_not_a_date_is_an_error(tmp_path: Path, printed: str) -> None:
    rows = fx.icbc_rows()[:3]
    rows[2][3] = printed
    path = tmp_path / "icbc.csv"
    fx.write_csv(path, rows, encoding="gb18030")
    with pytest.raises(StatementError, match=f"第 3 行 D 列（交易时间）：不是有效的日期：'{printed}'"):
        read_statement(path, ICBC)
