"""Write the importer test statements (tests/importers/*/) from the rows declared here.

Run once after changing the rows, then regenerate the expected outputs::

    .venv/bin/python tests/importers/make_fixtures.py
    ZBD_REGENERATE=1 .venv/bin/python -m pytest tests/test_importers_regression.py

The .xls files need ``xlwt`` (in the ``test`` extra); .xlsx uses openpyxl. The same
transactions are written in every layout, encoding and format, each formatted the way
banks do it: header cells padded with spaces (full-width ones too), amounts with
thousands separators, the unused amount column 0 or empty.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).parent

CQ_ACCOUNT = "50050110360000001688"
CQ_NAME = "重庆高新区创新服务中心助保贷专户"
CQ_OPENING = Decimal("5115555.56")
BANK_BRANCH = "中国建设银行股份有限公司重庆高新支行"


@dataclass(frozen=True)
class Txn:
    day: str  # YYYY-MM-DD
    time: str  # HH:MM:SS
    amount: Decimal  # signed
    counterparty: str = ""
    counterparty_account: str = ""
    counterparty_bank: str = ""
    summary: str = ""
    remark: str = ""


D = Decimal

#: 2024 Q3 of the CQGX test pool: every event kind, an interest credit, same-day
#: same-amount rows, things no rule recognises.
CQ_Q3 = [
    Txn("2024-07-03", "10:02:11", D("50000.00"), "重庆丙材料有限公司", "50001234500052500003", "建设银行重庆高新支行", "网银转账", "助保金"),
    Txn("2024-07-03", "10:02:11", D("50000.00"), "重庆丁智能装备有限公司", "31050161393600000004", "交通银行重庆分行", "网银转账", "助保金"),
    Txn("2024-07-10", "15:30:00", D("1000000.00"), "重庆高新区财政局", "50050110360000000011", "建设银行重庆高新支行", "拨款", "风险补偿金"),
    Txn("2024-07-15", "09:12:45", D("12345.67"), "重庆某某商贸有限公司", "50001234500052509999", "农业银行重庆分行", "转账", "货款"),
    Txn("2024-07-20", "11:00:00", D("25000.00"), "重庆甲科技有限公司", "50001234500052500001", "建设银行重庆高新支行", "网银转账", "增额助保金 CQ-2024-001"),
    Txn("2024-07-25", "16:45:20", D("10000.00"), "重庆乙电子有限公司", "50001234500052500002", "建设银行重庆高新支行", "转账", "助保金"),
    Txn("2024-08-12", "10:00:00", D("-622612.80"), BANK_BRANCH, "50050110360000000099", "建设银行重庆高新支行", "代偿", "代偿 CQ-2024-007"),
    Txn("2024-08-20", "08:00:01", D("-100.00"), "", "", "", "汇划手续费", ""),
    Txn("2024-08-20", "08:00:01", D("-100.00"), "", "", "", "汇划手续费", ""),
    Txn("2024-09-05", "14:20:00", D("92612.80"), BANK_BRANCH, "50050110360000000099", "建设银行重庆高新支行", "追偿款", "CQ-2024-007 追偿款补回"),
    Txn("2024-09-21", "02:00:00", D("15678.90"), "", "", "", "结息", "2024年第三季度利息"),
]


def running(opening: Decimal, txns: list[Txn]) -> list[Decimal]:
    out, balance = [], opening
    for t in txns:
        balance += t.amount
        out.append(balance)
    return out


def money(d: Decimal) -> str:
    return f"{d:,.2f}"


def ccb_serial(i: int, t: Txn) -> str:
    """账户明细编号-交易流水号: numbered by the row's place in its quarter, dated."""
    return f"{10000 + i:05d}-{t.day.replace('-', '')}{t.time.replace(':', '')}{i:03d}"


#: CCB's flat export of a corporate account (public importers of it read these columns;
#: the amount labels are printed 借方发生额/元(支取) in some versions, compared alike).
FLAT_HEADER = [
    " 账号 ", "账户名称", "交易时间", "借方发生额（支取）", "\u3000贷方发生额（收入）", "\u3000余额\u3000", "币种",
    "对方户名", "对方账号", "对方开户机构", "记账日期", "摘要", "备注", "账户明细编号-交易流水号",
    "企业流水号", "凭证种类", "凭证号",
]


def flat_rows(
    txns: list[Txn], opening: Decimal, account: str = CQ_ACCOUNT, numeric: bool = False, first: int = 1
) -> list[list[object]]:
    """The CCB flat export: one row per transaction, the unused amount column 0.
    ``first`` numbers the bank's serials (a month of the quarter keeps the quarter's)."""
    rows: list[list[object]] = [FLAT_HEADER]
    for i, (t, bal) in enumerate(zip(txns, running(opening, txns)), first):
        debit = -t.amount if t.amount < 0 else D(0)
        credit = t.amount if t.amount > 0 else D(0)
        if numeric:
            amounts: list[object] = [float(debit), float(credit), float(bal)]
            booked: object = datetime.date.fromisoformat(t.day)
        else:
            amounts = [money(debit) if debit else "0", money(credit) if credit else "0.00", money(bal)]
            booked = t.day.replace("-", "")
        rows.append([
            account, CQ_NAME, f"{t.day.replace('-', '')} {t.time}", *amounts, "人民币",
            t.counterparty, t.counterparty_account, t.counterparty_bank, booked, t.summary, t.remark,
            ccb_serial(i, t), "", "电子转账凭证" if t.counterparty else "", f"{i:08d}",
        ])
    return rows


#: CCB's export with the account and its totals above the header: the header of the flat
#: export without the account columns, amounts labelled with /元 (issue 11's accountant;
#: a public importer of CCB statements declares 借方发生额/元(支取), 贷方发生额/元(收入)).
DETAIL_HEADER = [
    "交易时间 ", " 借方发生额/元(支取) ", "贷方发生额/元(收入)  ", "余额 ", "币种", "对方户名", "对方账号",
    "对方开户机构", "记账日期", "摘要", "备注", "账户明细编号-交易流水号", "企业流水号", "凭证种类", "凭证号",
]


def detail_rows(txns: list[Txn], opening: Decimal, numeric: bool = False, first: int = 1) -> list[list[object]]:
    """CCB's export with the account and its totals above the header (issue 11): each
    label padded with spaces beside its value, a blank row, then the header (labels with
    /元 and trailing spaces); the rows newest first, the unused amount column empty."""
    balances = running(opening, txns)
    debits = [-t.amount for t in txns if t.amount < 0]
    credits = [t.amount for t in txns if t.amount > 0]
    width = len(DETAIL_HEADER)

    def line(*cells: object) -> list[object]:
        return list(cells) + [""] * (width - len(cells))

    rows = [
        line("账    号", CQ_ACCOUNT, "", "账户名称  ", CQ_NAME),
        line("期初余额", money(opening), "", "当前余额", money(balances[-1])),
        line("借方发生额", money(sum(debits, D(0))), "", "借方交易笔数", str(len(debits))),
        line("贷方发生额", money(sum(credits, D(0))), "", "贷方交易笔数", str(len(credits))),
        line(),
        DETAIL_HEADER,
    ]
    body = []
    for i, (t, bal) in enumerate(zip(txns, balances), first):
        debit = money(-t.amount) if t.amount < 0 else ""
        credit = money(t.amount) if t.amount > 0 else ""
        if numeric:
            debit = float(-t.amount) if t.amount < 0 else None  # type: ignore[assignment]
            credit = float(t.amount) if t.amount > 0 else None  # type: ignore[assignment]
        body.append([
            f"{t.day.replace('-', '')} {t.time}", debit, credit, float(bal) if numeric else money(bal), "人民币",
            t.counterparty, t.counterparty_account, t.counterparty_bank,
            datetime.date.fromisoformat(t.day) if numeric else t.day.replace("-", ""), t.summary, t.remark,
            ccb_serial(i, t), "", "", f"{i:08d}",
        ])
    rows.extend(reversed(body))
    rows.append(line("以上信息仅供参考"))
    return rows


#: CCB's "明细查询结果": 发生额/元 over two columns, 借方 and 贷方 beneath it (a public
#: parser of this export reads the same 17 columns and renames those two to 借方/贷方).
QUERY_TOP = [
    "记账日期", "交易时间", "凭证种类", "凭证号", "发生额/元", "", "余额/元", "钞汇标志", "对方户名", "对方账号",
    "摘要", "备注", "账户明细编号-交易流水号", "企业流水号", "本方账号", "本方账户名称", "本方账户开户机构",
]
QUERY_SUB = ["", "", "", "", "借方", "贷方"] + [""] * (len(QUERY_TOP) - 6)
#: The merged cells of the two header rows (row 4 and 5 of the sheet): 发生额/元 across,
#: every other label down.
QUERY_MERGES = ["E4:F4"] + [f"{c}4:{c}5" for c in "ABCDGHIJKLMNOPQ"]


def query_rows(txns: list[Txn], opening: Decimal, numeric: bool = False, first: int = 1) -> list[list[object]]:
    """CCB's "明细查询结果": labels padded inside with full-width spaces (账　　号), several
    label：value pairs to a cell, then the two-row header; oldest first."""
    width = len(QUERY_TOP)

    def line(*cells: object) -> list[object]:
        return list(cells) + [""] * (width - len(cells))

    rows = [
        line("明细查询结果"),
        line(f"账\u3000\u3000号：{CQ_ACCOUNT}\u3000\u3000户\u3000\u3000名：{CQ_NAME}"),
        line("币\u3000\u3000种：人民币", "", "", "利\u3000\u3000率：0.35%"),
        QUERY_TOP,
        QUERY_SUB,
    ]
    for i, (t, bal) in enumerate(zip(txns, running(opening, txns)), first):
        debit: object = money(-t.amount) if t.amount < 0 else ""
        credit: object = money(t.amount) if t.amount > 0 else ""
        balance: object = money(bal)
        booked: object = t.day.replace("-", "")
        if numeric:
            debit = float(-t.amount) if t.amount < 0 else None
            credit = float(t.amount) if t.amount > 0 else None
            balance = float(bal)
            booked = datetime.date.fromisoformat(t.day)
        rows.append([
            booked, f"{t.day.replace('-', '')} {t.time}", "电子转账凭证" if t.counterparty else "", f"{i:08d}",
            debit, credit, balance, "钞", t.counterparty, t.counterparty_account, t.summary, t.remark,
            ccb_serial(i, t), "", CQ_ACCOUNT, CQ_NAME, "中国建设银行股份有限公司重庆高新支行",
        ])
    return rows


# Other banks -------------------------------------------------------------------------

WL_BOC_ACCOUNT = "150754321098"
WL_OPENING = D("3000000.00")
WL_Q3 = [
    Txn("2024-07-08", "", D("20000.00"), "乌兰浩特市草原牧业有限公司", "150501716136000012345", "", "转账", "助保金"),
    Txn("2024-08-01", "", D("1000000.00"), "乌兰浩特市财政局", "150766600011", "", "拨款", "风险补偿金"),
    Txn("2024-08-15", "", D("500.00"), "张三", "6217000000000000001", "", "转账", ""),
    Txn("2024-08-20", "", D("-50.00"), "", "", "", "手续费", ""),
    Txn("2024-09-21", "", D("3456.78"), "", "", "", "结息 Interest", ""),
]

#: BOC's corporate "交易明细" (a public test of a BOC export prints the same preamble and
#: these 46 bilingual columns, the values of a transaction row in this order).
BOC_HEADER = [
    "交易类型[ Transaction Type ]", "业务类型[ Business type ]",
    "付款人开户行号[ Account holding bank number of payer ]", "付款人开户行名[ Payer account bank ]",
    "付款人账号[ Debit Account No. ]", "付款人名称[ Payer's Name ]",
    "收款人开户行行号[ Account holding bank number of beneficiary ]", "收款人开户行名[ Beneficiary account bank ]",
    "收款人账号[ Payee's Account Number ]", "收款人名称[ Payee's Name ]", "交易日期[ Transaction Date ]",
    "交易时间[ Transaction time ]", "交易货币[ Trade Currency ]", "交易金额[ Trade Amount ]",
    "交易后余额[ After-transaction balance ]", "起息日期[ Value Date ]", "汇率[ Exchange rate ]",
    "交易流水号[ Transaction reference number ]", "客户申请号[ Online Banking Transaction Ref.(Bank Ref.) ]",
    "客户业务编号[ Customer Transaction Ref.(Customer Ref.) ]", "凭证类型[ Voucher type ]", "凭证号码[ Voucher number ]",
    "记录标识号[ Record ID ]", "摘要[ Reference ]", "用途[ Purpose ]", "交易附言[ Remark ]", "备注[ Remarks ]",
    "预留项1[ Reserve1 ]", "预留项2[ Reserve2 ]", "预留项3[ Reserve3 ]",
    "名义付款人开户行行号[ Opening bank number of nominal payer ]", "名义付款人开户行名[ Opening bank name of nominal payer ]",
    "名义付款人账号[ Payment A/C No. ]", "名义付款人名称[ Name of nominal payer ]",
    "名义收款人开户行号[ Opening bank number of nominal payee ]", "名义收款人开户行名[ Opening bank name of nominal payee ]",
    "名义收款人账号[ Account number of nominal payee ]", "名义收款人名称[ Name of nominal payee ]",
]
WL_BOC_NAME = "乌兰浩特市中小企业服务中心助保贷专户"
WL_BOC_BRANCH = "中国银行乌兰浩特分行营业部"


def boc_rows() -> list[list[object]]:
    balances = running(WL_OPENING, WL_Q3)
    debits = [-t.amount for t in WL_Q3 if t.amount < 0]
    credits = [t.amount for t in WL_Q3 if t.amount > 0]
    rows: list[list[object]] = [
        ["查询账号[ Inquirer account number ]", WL_BOC_ACCOUNT],
        ["总笔数[ Total number ]", str(len(WL_Q3))],
        ["借方发生总笔数[ Total Numbers of Debited Payments ]", str(len(debits))],
        ["借方发生总额[ Total Debit Amount of Payments ]", money(sum(debits, D(0)))],
        ["贷方发生总笔数[ Total Numbers of Credited Payments ]", str(len(credits))],
        ["贷方发生总额[ Total Credit Amount of Payments ]", money(sum(credits, D(0)))],
        ["查询时间范围[ Time Range ]", f"{WL_Q3[0].day.replace('-', '')}-{WL_Q3[-1].day.replace('-', '')}"],
        BOC_HEADER,
    ]
    for i, (t, bal) in enumerate(zip(WL_Q3, balances), 1):
        us = ("10658", WL_BOC_BRANCH, WL_BOC_ACCOUNT, WL_BOC_NAME)
        them = ("", t.counterparty_bank, t.counterparty_account, t.counterparty)
        payer, payee = (them, us) if t.amount > 0 else (us, them)
        kind, business = ("来账", "转账收入") if t.amount > 0 else ("往账", "收费" if not t.counterparty else "转账支出")
        day = t.day.replace("-", "")
        rows.append([
            kind, business, *payer, *payee, day, "10:00:00", "CNY", f"{t.amount:+.2f}", f"{bal:+.2f}", day, "",
            f"{75783669000 + i}", "", "", "其他凭证", f"{7376300 + i:08d}", f"0{75783669000 + i}99999{i:010d}",
            t.summary, t.remark, "", "", "", "", "", *[""] * 8,
        ])
    return rows


WL_ICBC_ACCOUNT = "0605010109200012345"
ICBC_TXNS = [
    Txn("2024-08-05", "09:15:02", D("100.00"), "李四", "6212260605001234567", "", "转账", ""),
    Txn("2024-08-05", "09:40:11", D("-100.00"), "李四", "6212260605001234567", "", "退回", ""),
    Txn("2024-08-05", "10:03:55", D("100.00"), "李四", "6212260605001234567", "", "转账", ""),
    Txn("2024-08-06", "15:20:00", D("200000.00"), "乌兰浩特市财政局", "0605010109000000011", "", "拨款", "风险补偿金"),
]
#: ICBC's "[HISTORYDETAIL]" export (two public parsers of it read these 13 columns).
ICBC_HEADER = [
    "凭证号", "本方账号", "对方账号", "交易时间", "借/贷", "借方发生额", "贷方发生额", "对方行号", "摘要", "用途",
    "对方单位名称", "余额", "个性化信息",
]


def icbc_rows() -> list[list[object]]:
    rows: list[list[object]] = [["[HISTORYDETAIL]"], ICBC_HEADER]
    for i, (t, bal) in enumerate(zip(ICBC_TXNS, running(WL_OPENING, ICBC_TXNS)), 1):
        debit = f"{-t.amount:.2f}" if t.amount < 0 else ""
        credit = f"{t.amount:.2f}" if t.amount > 0 else ""
        rows.append([
            f"{i:09d}", WL_ICBC_ACCOUNT, t.counterparty_account, f"{t.day} {t.time}", "借" if t.amount < 0 else "贷",
            debit, credit, "102198000000", t.summary, t.remark, t.counterparty, f"{bal:.2f}", "",
        ])
    return rows


#: ICBC's newer corporate "账户明细" with 转入金额 and 转出金额 and a 借贷标志: these 14 columns
#: in this order are what a public ERP's import check builds as an ICBC export "matching the
#: user-provided sample" (hongheshan-svg/atm-erp, scripts/verify_bank_statement_import.py:
#: 交易时间 written 2026-01-15 10:00:00, 借贷标志 借/贷, 0 in the unused amount column); the
#: same labels (转出金额 before 转入金额) head ICBC's PDF 账户明细清单, which prints 账号：…
#: above them (tuzhi/ymb-skill, test_icbc_corporate_account_statement_pdf_route). Where the
#: account sits in the spreadsheet export no source shows: the 账号：… line above the header
#: here is assumed from the PDF.
ICBC_DETAIL_HEADER = [
    "凭证号", "对方账号", "交易时间", "借贷标志", "对方单位", "对方行号", "用途", "摘要", "附言", "回单个性化信息",
    "转入金额", "转出金额", "支付凭证种类", "余额",
]
ICBC_DETAIL_TXNS = [
    Txn("2024-09-03", "09:20:11", D("20000.00"), "乌兰浩特市草原牧业有限公司", "150501716136000012345", "102198000012", "助保金", ""),
    Txn("2024-09-03", "21:50:21", D("-15.00"), "", "", "", "", "工行异地汇款手续费"),
    Txn("2024-09-13", "15:02:40", D("400000.00"), "乌兰浩特市财政局", "0605010109000000011", "102198000011", "风险补偿金", ""),
]
#: The version with one unsigned 发生额 and the 借贷标志 (a public reconciliation tool's
#: parser of ICBC's CSV export names these 11 columns in this order: a1906505914-coder/planc,
#: bank_statement_parser.py, parse_icbc_csv, which reads 交易时间 by its first 19 characters).
ICBC_DETAIL_FLAG_HEADER = ["对方账号", "交易时间", "借贷标志", "对方单位", "对方行号", "用途", "摘要", "附言", "发生额", "余额", "币种"]
#: The version without the flag, as the same parser names it (转出金额 then 转入金额; the
#: [HISTORYDETAIL] line and 凭证号 are confirmed by another public import template).
ICBC_DETAIL_NOFLAG_HEADER = [
    "凭证号", "对方账号", "交易时间", "对方单位", "用途", "摘要", "附言", "回单个性化信息", "余额", "转出金额", "转入金额",
]


def _icbc_detail_preamble() -> list[list[object]]:
    return [[f"账号：{WL_ICBC_ACCOUNT}", "本方账号户名：乌兰浩特市中小企业服务中心", "时间范围：20240901-20240930"]]


def icbc_detail_rows() -> list[list[object]]:
    rows = _icbc_detail_preamble() + [ICBC_DETAIL_HEADER]
    for i, (t, bal) in enumerate(zip(ICBC_DETAIL_TXNS, running(WL_OPENING, ICBC_DETAIL_TXNS)), 1):
        rows.append([
            f"V{i:08d}" if t.counterparty else "000000000", t.counterparty_account, f"{t.day} {t.time}",
            "贷" if t.amount > 0 else "借", t.counterparty, t.counterparty_bank, t.remark if not t.counterparty else "",
            t.summary, "", "", float(t.amount) if t.amount > 0 else 0.0, float(-t.amount) if t.amount < 0 else 0.0,
            "电汇" if t.counterparty else "", float(bal),
        ])
    return rows


def icbc_detail_flag_rows() -> list[list[object]]:
    rows = _icbc_detail_preamble() + [ICBC_DETAIL_FLAG_HEADER]
    for t, bal in zip(ICBC_DETAIL_TXNS, running(WL_OPENING, ICBC_DETAIL_TXNS)):
        rows.append([
            t.counterparty_account, f"{t.day} {t.time}", "贷" if t.amount > 0 else "借", t.counterparty, t.counterparty_bank,
            t.remark if not t.counterparty else "", t.summary, "", money(abs(t.amount)), money(bal), "人民币",
        ])
    return rows


def icbc_detail_noflag_rows() -> list[list[object]]:
    rows: list[list[object]] = [["[HISTORYDETAIL]"], ICBC_DETAIL_NOFLAG_HEADER]
    for i, (t, bal) in enumerate(zip(ICBC_DETAIL_TXNS, running(WL_OPENING, ICBC_DETAIL_TXNS)), 1):
        rows.append([
            f"{i:09d}", t.counterparty_account, f"{t.day} {t.time}", t.counterparty, "", t.summary, "", "",
            f"{bal:.2f}", f"{-t.amount:.2f}" if t.amount < 0 else "", f"{t.amount:.2f}" if t.amount > 0 else "",
        ])
    return rows


#: ICBC's "对账单" (a sample export in a public bookkeeping system, sengeiou/wqb_yzj,
#: static/files/bank/工商银行.xls, and the importer beside it): label | value lines above the
#: header (账号, 户名, 币种, 网点号, 页号, 上页余额, values padded with a tab), dates as Excel
#: date cells, amounts as numbers with 0 in the unused column, a closing line beginning
#: 截止日期: with 账户余额: and the other balances in one cell each.
ICBC_STATEMENT_HEADER = ["日期", "交易类型", "凭证种类", "凭证号", "对方户名", "对方账号", "摘要", "借方发生额", "贷方发生额", "余额"]
ICBC_STATEMENT_TXNS = [
    Txn("2024-09-04", "", D("20000.00"), "乌兰浩特市草原牧业有限公司", "150501716136000012345", "", "助保金", ""),
    Txn("2024-09-11", "", D("300000.00"), "乌兰浩特市财政局", "0605010109000000011", "", "风险补偿金", ""),
    Txn("2024-09-20", "", D("-30.00"), "", "", "", "对公收费明细入帐", ""),
]


def icbc_statement_rows() -> list[list[object]]:
    balances = running(WL_OPENING, ICBC_STATEMENT_TXNS)
    rows: list[list[object]] = [
        ["账号: ", f"{WL_ICBC_ACCOUNT}\t"], ["户名: ", "乌兰浩特市中小企业服务中心"], ["币种: ", "人民币"], [],
        ["网点号: ", 22.0], ["页号: ", 1.0], ["上页余额: ", f"{money(WL_OPENING)}\t"], ICBC_STATEMENT_HEADER,
    ]
    for t, bal in zip(ICBC_STATEMENT_TXNS, balances):
        day = datetime.date.fromisoformat(t.day)
        debit, credit = (float(-t.amount), 0.0) if t.amount < 0 else (0.0, float(t.amount))
        rows.append([day, "转账", 0.0, 0.0, t.counterparty, f"{t.counterparty_account}\t", t.summary, debit, credit, float(bal)])
    last = f"{money(balances[-1])}\t"
    rows.append([
        f"截止日期: {ICBC_STATEMENT_TXNS[-1].day}", f"账户余额: {last}", "保留余额: 0.00\t", "冻结余额: 0.00\t",
        "透支余额: 0.00\t", f"可用余额: {last}",
    ])
    return rows


WL_ABC_ACCOUNT = "15-580101040012345"
ABC_TXNS = [
    Txn("2024-08-07", "10:21:03", D("30000.00"), "乌兰浩特市草原牧业有限公司", "150501716136000012345", "", "转账", "助保金"),
    Txn("2024-08-20", "08:00:00", D("-20.00"), "", "", "", "手续费", ""),
    Txn("2024-08-20", "08:00:00", D("-20.00"), "", "", "", "手续费", ""),
]
#: ABC's corporate account detail (two public parsers of it read these 9 columns, the
#: account on the line above the header as 账号:…).
ABC_HEADER = ["交易时间", "收入金额", "支出金额", "账户余额", "交易行名", "对方省市", "对方账号", "对方户名", "交易用途"]


def abc_rows() -> list[list[object]]:
    rows: list[list[object]] = [["账户明细"], [f"账号:{WL_ABC_ACCOUNT}", "户名:乌兰浩特市中小企业服务中心"], ABC_HEADER]
    for t, bal in zip(ABC_TXNS, running(WL_OPENING, ABC_TXNS)):
        rows.append([
            f"{t.day.replace('-', '')} {t.time}", money(t.amount) if t.amount > 0 else "",
            money(-t.amount) if t.amount < 0 else "", money(bal), "乌兰浩特市分行营业部", "内蒙古" if t.counterparty else "",
            t.counterparty_account, t.counterparty, " ".join(x for x in (t.summary, t.remark) if x),
        ])
    return rows


#: ABC's older 15-column "账户明细" export (a public bookkeeping system's importer reads
#: these 15 columns in this order, the date without the time, the table ending at a line
#: beginning 汇总收入金额; sengeiou/wqb_yzj, BankServiceImpl.java).
ABC_OLD_HEADER = [
    "交易日期", "交易时间戳", "收入金额", "支出金额", "本次余额", "手续费总额", "交易方式", "交易行名", "交易类别",
    "对方省市", "对方账号", "对方户名", "交易说明", "交易摘要", "交易附言",
]
ABC_OLD_TXNS = [
    Txn("2024-09-09", "09:30:12", D("20000.00"), "乌兰浩特市草原牧业有限公司", "150501716136000012345", "", "转账", "助保金"),
    Txn("2024-09-12", "14:05:40", D("500000.00"), "乌兰浩特市财政局", "150766600011", "", "拨款", "风险补偿金"),
    Txn("2024-09-20", "08:00:00", D("-15.00"), "", "", "", "手续费", ""),
]


def abc_old_rows() -> list[list[object]]:
    rows: list[list[object]] = [["账户明细"], [f"账号:{WL_ABC_ACCOUNT}", "户名:乌兰浩特市中小企业服务中心"], ABC_OLD_HEADER]
    balances = running(WL_OPENING, ABC_OLD_TXNS)
    for t, bal in zip(ABC_OLD_TXNS, balances):
        rows.append([
            t.day.replace("-", ""), t.time, money(t.amount) if t.amount > 0 else "", money(-t.amount) if t.amount < 0 else "",
            money(bal), "0.00", "转账" if t.counterparty else "收费", "乌兰浩特市分行营业部", "对公",
            "内蒙古" if t.counterparty else "", t.counterparty_account, t.counterparty, "", t.summary, t.remark,
        ])
    credits = sum((t.amount for t in ABC_OLD_TXNS if t.amount > 0), D(0))
    rows.append(["汇总收入金额", money(credits)])
    return rows


#: ABC's "对账单" (a sample export in a public bookkeeping system, sengeiou/wqb_yzj,
#: static/files/bank/中国农业银行.xls): a title line, then 15 columns; the account on every
#: row (padded with spaces), one 借贷方 column (借/贷) and one unsigned 发生金额, 摘要 and
#: 附言 padded with spaces (附言 with full-width ones), currency as the code 01.
ABC_STATEMENT_HEADER = [
    "账号", "币种", "凭证号", "日期", "交易代码", "流水号", "交易柜员", "借贷方", "发生金额", "账户余额", "对方账号",
    "对方户名", "对方行名", "摘要", "附言",
]
ABC_STATEMENT_TXNS = [
    Txn("2024-09-03", "", D("20000.00"), "乌兰浩特市草原牧业有限公司", "150501716136000012345", "", "", "助保金"),
    Txn("2024-09-03", "", D("-12.50"), "", "", "", "", ""),
    Txn("2024-09-03", "", D("-12.50"), "", "", "", "", ""),
    Txn("2024-09-18", "", D("800000.00"), "乌兰浩特市财政局", "150766600011", "152681000011", "", "风险补偿金"),
]


def abc_statement_rows() -> list[list[object]]:
    rows: list[list[object]] = [["中国农业银行乌兰浩特分行 对账单"], ABC_STATEMENT_HEADER]
    balances = running(WL_OPENING, ABC_STATEMENT_TXNS)
    for i, (t, bal) in enumerate(zip(ABC_STATEMENT_TXNS, balances), 1):
        amount = abs(t.amount)
        rows.append([
            f"{WL_ABC_ACCOUNT}            ", "01", "0", t.day.replace("-", ""), "TX0001", f"{700000000 + i * 7919}", "EK01",
            "贷" if t.amount > 0 else "借", f"{amount:f}".rstrip("0").rstrip("."), f"{bal:f}".rstrip("0").rstrip("."),
            t.counterparty_account or " ", t.counterparty or " ", t.counterparty_bank or " ", " " * 17,
            (t.remark + "\u3000" * 8) if t.remark else " ",
        ])
    return rows


WL_BOCOM_ACCOUNT = "154000612018010012345"
BOCOM_TXNS = [
    Txn("2024-09-02", "", D("20000.00"), "乌兰浩特市草原牧业有限公司", "150501716136000012345", "", "助保金", ""),
    Txn("2024-09-05", "", D("-30.00"), "", "", "", "手续费", ""),
    Txn("2024-09-05", "", D("-30.00"), "", "", "", "手续费", ""),
    Txn("2024-09-10", "", D("600000.00"), "乌兰浩特市财政局", "154000600011", "", "风险补偿金", ""),
    Txn("2024-09-21", "", D("2345.67"), "应付企业普通活期存款利息", "154000612710100100001999", "", "20240920利息入账", ""),
]
#: BOCOM's corporate "账户明细" (a sample export in a public bookkeeping system,
#: sengeiou/wqb_yzj, static/files/bank/交通银行.xls, and the importer beside it,
#: BankServiceImpl.java): the first cell holds 查询账号：… and 账户名称：…, then these ten
#: columns; an unsigned 转账金额 with a 借贷标志 of 借 or 贷; the date as yyyymmdd; a line of
#: debit and credit counts and totals after the rows.
BOCOM_HEADER = ["交易时间", "摘要", "余额", "对方账号", "对方账户名称", "凭证种类", "凭证号码", "企业业务编号", "转账金额", "借贷标志"]
#: The older template the same importer reads (its comments name the columns): the account
#: in the cell after 查询账号:, 发生额 and 对方户名, a currency and a card number, the time
#: written yyyy-mm-dd HH:MM:SS.
BOCOM_OLD_HEADER = [
    "交易时间", "摘要", "凭证种类", "凭证号码", "企业业务编号", "发生额", "币种", "余额", "对方账号", "对方户名", "借贷标志", "卡号",
]


def _bocom_totals(txns: list[Txn]) -> list[object]:
    debits = [-t.amount for t in txns if t.amount < 0]
    credits = [t.amount for t in txns if t.amount > 0]
    return [
        "借方交易笔数:", str(len(debits)), "借方交易金额:", money(sum(debits, D(0))),
        "贷方交易笔数:", str(len(credits)), "贷方交易金额:", money(sum(credits, D(0))),
    ]


def bocom_rows() -> list[list[object]]:
    rows: list[list[object]] = [
        [f"查询账号：{WL_BOCOM_ACCOUNT} \u00a0\u00a0账户名称：乌兰浩特市中小企业服务中心助保贷专户"], BOCOM_HEADER,
    ]
    for t, bal in zip(BOCOM_TXNS, running(WL_OPENING, BOCOM_TXNS)):
        rows.append([
            t.day.replace("-", ""), t.summary, money(bal), t.counterparty_account, t.counterparty or "",
            "其它", "", "", money(abs(t.amount)), "贷" if t.amount > 0 else "借",
        ])
    rows.append(_bocom_totals(BOCOM_TXNS))
    return rows


def bocom_old_rows() -> list[list[object]]:
    rows: list[list[object]] = [["查询账号:", WL_BOCOM_ACCOUNT], BOCOM_OLD_HEADER]
    times = ("09:12:30", "16:00:01", "16:00:02", "10:45:00", "02:10:00")
    for t, bal, time in zip(BOCOM_TXNS, running(WL_OPENING, BOCOM_TXNS), times):
        rows.append([
            f"{t.day} {time}", t.summary, "其它", "", "", money(abs(t.amount)), "人民币", money(bal),
            t.counterparty_account, t.counterparty, "贷" if t.amount > 0 else "借", "",
        ])
    rows.append(_bocom_totals(BOCOM_TXNS))
    return rows


# Writers -----------------------------------------------------------------------------


def _text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime.date):
        return cell.isoformat()
    return str(cell)


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8", bom: bool = False) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows([[_text(c) for c in r] for r in rows])
    data = buffer.getvalue().encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)


def write_xlsx(path: Path, rows: list[list[object]], merges: list[str] | None = None) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "明细"
    for r in rows:
        sheet.append([None if c == "" else c for c in r])
    for cells in merges or ():
        sheet.merge_cells(cells)
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, (datetime.date, datetime.datetime)):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(cell.value, float):
                cell.number_format = "#,##0.00"
    book.save(path)


def write_xls(path: Path, rows: list[list[object]], merges: list[str] | None = None) -> None:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("明细")
    merged: set[tuple[int, int]] = set()
    for cells in merges or ():  # "E4:F4": the first cell keeps the value
        (c1, r1), (c2, r2) = ((ord(x[0]) - 65, int(x[1:]) - 1) for x in cells.split(":"))
        value = rows[r1][c1]
        sheet.write_merge(r1, r2, c1, c2, "" if value in (None, "") else str(value))
        merged.update((r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1))
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    money_style = xlwt.easyxf(num_format_str="#,##0.00")
    for r, cells in enumerate(rows):
        for c, cell in enumerate(cells):
            if cell is None or cell == "" or (r, c) in merged:
                continue
            if isinstance(cell, datetime.date):
                sheet.write(r, c, cell, date_style)
            elif isinstance(cell, float):
                sheet.write(r, c, cell, money_style)
            else:
                sheet.write(r, c, str(cell))
    book.save(str(path))


#: The quarter as monthly statements: (name, first row, end row) of CQ_Q3.
MONTHS = (("2024-07", 0, 6), ("2024-08", 6, 9), ("2024-09", 9, 11))


def month(lo: int, hi: int, txns: list[Txn] | None = None, opening: Decimal = CQ_OPENING) -> tuple[list[Txn], Decimal]:
    """Rows lo..hi of a quarter (default the test pool's) and the balance before them."""
    txns = CQ_Q3 if txns is None else txns
    start = opening if lo == 0 else running(opening, txns)[lo - 1]
    return txns[lo:hi], start


def write_quarter(folder: Path, prefix: str, quarter: str, txns: list[Txn], opening: Decimal, months: tuple) -> None:
    """A quarter as one flat export (UTF-8 with BOM), and as three monthly statements in
    three formats: the first month flat GB18030 CSV, the second 明细查询结果 .xlsx, the
    third flat .xls. The monthly rows keep the quarter's serial numbers."""
    folder.mkdir(exist_ok=True)
    write_csv(folder / f"{prefix}{quarter}.csv", flat_rows(txns, opening), bom=True)
    (name, lo, hi), (name2, lo2, hi2), (name3, lo3, hi3) = months
    part, start = month(lo, hi, txns, opening)
    write_csv(folder / f"{prefix}-{name[5:]}.csv", flat_rows(part, start, first=lo + 1), encoding="gb18030")
    part, start = month(lo2, hi2, txns, opening)
    write_xlsx(folder / f"{prefix}-{name2[5:]}.xlsx", query_rows(part, start, numeric=True, first=lo2 + 1), QUERY_MERGES)
    part, start = month(lo3, hi3, txns, opening)
    write_xls(folder / f"{prefix}-{name3[5:]}.xls", flat_rows(part, start, numeric=True, first=lo3 + 1))


# The demo ledger (ledger/, 2024-2025) --------------------------------------------------

DEMO_LEDGER = HERE.parent.parent / "ledger" / "main.beancount"

#: 2026 Q1 of the demo's CQGX pool: a new loan's fee (with an unknown receipt of the same
#: amount the same day), a loan increase's fee, an injection, a payment no due matches,
#: a bank charge, the quarter's interest. tests/importers/demo/cqgx-2026Q1.beancount holds
#: the register events the accountant records before importing.
DEMO_Q1 = [
    Txn("2026-01-08", "09:30:12", D("50000.00"), "重庆高腾汽车电子有限公司", "50001234500052500012", "建设银行重庆高新区支行", "网银转账", "助保金"),
    Txn("2026-01-08", "14:05:40", D("50000.00"), "重庆某某建材有限公司", "50001234500052509871", "农业银行重庆分行", "转账", "货款"),
    Txn("2026-01-20", "08:00:03", D("-35.00"), "", "", "", "汇划手续费", ""),
    Txn("2026-02-01", "10:12:00", D("25000.00"), "重庆玉屏数字科技有限公司", "50001234500052500016", "建设银行重庆高新区支行", "网银转账", "增额助保金 CQ-2025-004"),
    Txn("2026-02-15", "15:00:00", D("3000000.00"), "重庆高新区创新服务中心", "50050110360000000021", "建设银行重庆高新区支行", "拨款", "追加风险补偿金"),
    Txn("2026-03-10", "11:20:31", D("8800.00"), "重庆西永精工模具有限公司", "50001234500052500004", "建设银行重庆高新区支行", "转账", ""),
    Txn("2026-03-21", "02:00:00", D("2845.67"), "", "", "", "结息", "2026年第一季度利息"),
]
DEMO_MONTHS = (("2026-01", 0, 3), ("2026-02", 3, 5), ("2026-03", 5, 7))


def demo_opening() -> Decimal:
    """The demo's CQGX pool balance at the end of 2025, as the engine sees it."""
    import datetime as dt

    from beancount import loader

    from zhubaodai.core.engine import analyse
    from zhubaodai.core.rules import load_rules

    entries, _, _ = loader.load_file(str(DEMO_LEDGER))
    state = analyse(entries, load_rules(DEMO_LEDGER.parent.parent / "rules.yaml")).programs["CQGX"]
    end = dt.date(2025, 12, 31)
    return sum((f.at(end) for f in state.funds.values()), D("0.00")) + sum(state.unallocated.values(), D("0.00"))


def main() -> None:
    flat = HERE / "ccb-flat"
    detail = HERE / "ccb-detail"
    for d in (flat, detail, HERE / "boc", HERE / "icbc", HERE / "abc", HERE / "ccb-query", HERE / "bad"):
        d.mkdir(exist_ok=True)
    write_csv(flat / "ccb-flat-utf8.csv", flat_rows(CQ_Q3, CQ_OPENING))
    write_csv(flat / "ccb-flat-utf8-bom.csv", flat_rows(CQ_Q3, CQ_OPENING), bom=True)
    write_csv(flat / "ccb-flat-gb18030.csv", flat_rows(CQ_Q3, CQ_OPENING), encoding="gb18030")
    write_xlsx(flat / "ccb-flat.xlsx", flat_rows(CQ_Q3, CQ_OPENING, numeric=True))
    write_xls(flat / "ccb-flat.xls", flat_rows(CQ_Q3, CQ_OPENING, numeric=True))
    write_csv(detail / "ccb-detail-utf8.csv", detail_rows(CQ_Q3, CQ_OPENING))
    write_csv(detail / "ccb-detail-utf8-bom.csv", detail_rows(CQ_Q3, CQ_OPENING), bom=True)
    write_csv(detail / "ccb-detail-gb18030.csv", detail_rows(CQ_Q3, CQ_OPENING), encoding="gb18030")
    write_xlsx(detail / "ccb-detail.xlsx", detail_rows(CQ_Q3, CQ_OPENING, numeric=True))
    write_xls(detail / "ccb-detail.xls", detail_rows(CQ_Q3, CQ_OPENING, numeric=True))
    query = HERE / "ccb-query"
    query.mkdir(exist_ok=True)
    write_csv(query / "ccb-query-utf8.csv", query_rows(CQ_Q3, CQ_OPENING))
    write_csv(query / "ccb-query-utf8-bom.csv", query_rows(CQ_Q3, CQ_OPENING), bom=True)
    write_csv(query / "ccb-query-gb18030.csv", query_rows(CQ_Q3, CQ_OPENING), encoding="gb18030")
    write_xlsx(query / "ccb-query.xlsx", query_rows(CQ_Q3, CQ_OPENING, numeric=True), QUERY_MERGES)
    write_xls(query / "ccb-query.xls", query_rows(CQ_Q3, CQ_OPENING, numeric=True), QUERY_MERGES)
    write_csv(HERE / "boc" / "boc-2024Q3.csv", boc_rows(), encoding="gb18030")
    write_xlsx(HERE / "boc" / "boc-2024Q3.xlsx", boc_rows())
    write_csv(HERE / "icbc" / "icbc-2024-08.csv", icbc_rows(), encoding="gb18030")
    (HERE / "icbc-detail").mkdir(exist_ok=True)
    write_xlsx(HERE / "icbc-detail" / "icbc-detail-2024-09.xlsx", icbc_detail_rows())
    write_csv(HERE / "icbc-detail" / "icbc-detail-flag-2024-09.csv", icbc_detail_flag_rows(), encoding="gb18030")
    (HERE / "icbc-statement").mkdir(exist_ok=True)
    write_xls(HERE / "icbc-statement" / "icbc-statement-2024-09.xls", icbc_statement_rows())
    (HERE / "abc").mkdir(exist_ok=True)
    write_xls(HERE / "abc" / "abc-2024-08.xls", abc_rows())
    write_xls(HERE / "abc" / "abc-15col-2024-09.xls", abc_old_rows())
    (HERE / "abc-statement").mkdir(exist_ok=True)
    write_xls(HERE / "abc-statement" / "abc-statement-2024-09.xls", abc_statement_rows())
    (HERE / "bocom").mkdir(exist_ok=True)
    write_xls(HERE / "bocom" / "bocom-2024-09.xls", bocom_rows())
    write_csv(HERE / "bocom" / "bocom-old-2024-09.csv", bocom_old_rows(), encoding="gb18030")
    write_bad(HERE / "bad")
    write_quarter(HERE / "quarter", "ccb-2024", "Q3", CQ_Q3, CQ_OPENING, MONTHS)
    if DEMO_LEDGER.exists():
        write_quarter(HERE.parent.parent / "importers" / "samples", "ccb-2026", "Q1", DEMO_Q1, demo_opening(), DEMO_MONTHS)


def write_bad(bad: Path) -> None:
    """One defect per file, each beside the error it must give (``.error``)."""
    good = flat_rows(CQ_Q3, CQ_OPENING)

    def variant(name: str, rows: list[list[object]], error: str) -> None:
        write_csv(bad / name, rows)
        (bad / f"{name}.error").write_text(error + "\n", encoding="utf-8")

    rows = [list(r) for r in good]
    rows[5][5] = money(D(str(rows[5][5]).replace(",", "")) + D("0.01"))
    variant(
        "balance-chain.csv", rows,
        "文件 {file} 第 6 行 F 列（余额）：余额不连续：上一笔（第 5 行）余额 6,227,901.23 + 本笔发生额 "
        "25,000.00 = 6,252,901.23，而本行余额为 6,252,901.24（对账单缺行、多行或金额有误）",
    )
    rows = [[c for i, c in enumerate(r) if i != 5] for r in good]
    variant("missing-column.csv", rows, "文件 {file} 第 1 行（表头）：缺少列 「余额」（中国建设银行「对公账户明细（平铺导出）」版式所需）")
    rows = [list(r) for r in good]
    rows[4][4] = "12,3x5.67"
    variant("bad-amount.csv", rows, "文件 {file} 第 5 行 E 列（贷方发生额（收入））：不是有效的金额：'12,3x5.67'")
    rows = [list(r) for r in good]
    rows[3][10] = "20241345"
    variant(
        "bad-date.csv", rows,
        "文件 {file} 第 4 行 K 列（记账日期）：不是有效的日期：'20241345'（可用格式：%Y%m%d、%Y-%m-%d、%Y/%m/%d、%Y.%m.%d、%Y年%m月%d日）",
    )
    variant(
        "other-account.csv", flat_rows(CQ_Q3, CQ_OPENING, account="50050110360000009999"),
        "文件 {file} 第 2 行 A 列（账号）：账号 50050110360000009999 不是任何已配置专户的账号（CQGX：50050110360000001688）：这是另一个账户的对账单",
    )
    rows = [list(r) for r in good]
    rows[6][0] = "50050110360000009999"
    variant(
        "mixed-account.csv", rows,
        "文件 {file} 第 7 行 A 列（账号）：账号 50050110360000009999 与本对账单第 2 行的账号 50050110360000001688 不同：一份对账单只能是一个账户的",
    )
    rows = [list(r) for r in good]
    rows[2][3] = "1.00"
    variant(
        "both-sides.csv", rows,
        "文件 {file} 第 3 行 E 列（贷方发生额（收入））：借方 1.00 与贷方 50,000.00 同时有发生额：一行只能是一笔收入或支出",
    )
    rows = [list(r) for r in good]
    rows[3][13] = rows[2][13]
    variant("duplicate-serial.csv", rows, f"文件 {{file}} 第 4 行 N 列（账户明细编号-交易流水号）：流水号 {rows[2][13]} 与第 3 行重复")
    rows = [list(r) for r in good]
    rows[8][6] = "美元"
    variant("currency.csv", rows, "文件 {file} 第 9 行 G 列（币种）：币种「美元」不是人民币：专户只记人民币")
    rows = detail_rows(CQ_Q3, CQ_OPENING)
    rows[3][4] = "7"
    variant(
        "detail-totals.csv", rows,
        "文件 {file} 第 4 行 E 列（贷方发生笔数）：贷方发生笔数与明细笔数不符：说明中为 7 笔，明细为 8 笔（对账单不完整或有误）",
    )
    rows = detail_rows(CQ_Q3, CQ_OPENING)
    rows[1][4] = money(D(str(rows[1][4]).replace(",", "")) + D("0.01"))
    variant(
        "detail-closing.csv", rows,
        "文件 {file} 第 2 行 E 列（期末（当前）余额）：期末余额与最后一笔明细的余额不符：说明中为 5,748,380.14 元，"
        "明细为 5,748,380.13 元（对账单不完整或有误）",
    )
    rows = query_rows(CQ_Q3, CQ_OPENING)
    rows[7][14] = "50050110360000009999"
    variant(
        "query-account.csv", rows,
        "文件 {file} 第 8 行 O 列（本方账号）：账号 50050110360000009999 与本对账单第 6 行的账号 50050110360000001688 不同："
        "一份对账单只能是一个账户的",
    )
    variant(
        "no-layout.csv", [["交易时间", "借方发生额", "贷方发生额", "对方户名"], ["20240701 10:00:00", "", "1.00", "某某"]],
        "文件 {file}：没有找到对账单表头（前 60 行中没有已配置版式的列名）。最接近的是中国建设银行「对公账户明细（平铺导出）」"
        "（第 1 行），缺少列 「账号」、「余额」、「对方账号」、「摘要」、「账户明细编号-交易流水号」。已配置的版式："
        "中国建设银行「对公账户明细（平铺导出）」；中国建设银行「明细查询结果（两行表头）」；"
        "中国建设银行「账户明细（表头前有账户信息与发生额合计）」",
    )
    (bad / "garbage.csv").write_bytes(b"\x80\x81\xff\xfe\x00garbage\xff")
    (bad / "garbage.csv.error").write_text(
        "文件 {file} 第 1 行：无法识别文件编码：按 UTF-8 或 GB18030/GBK 读取，第 1 个字节（0x80）无效；"
        "请确认这是银行导出的对账单（支持 UTF-8、UTF-8 带 BOM、GB18030/GBK、.xls、.xlsx）\n",
        encoding="utf-8",
    )
    variant(
        "no-header.csv", [["日期", "金额"], ["2024-07-01", "1.00"]],
        "文件 {file}：没有找到对账单表头（前 60 行中没有已配置版式的列名）。已配置的版式：中国建设银行「对公账户明细（平铺导出）」；"
        "中国建设银行「明细查询结果（两行表头）」；中国建设银行「账户明细（表头前有账户信息与发生额合计）」",
    )


if __name__ == "__main__":
    main()
