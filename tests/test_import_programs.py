"""The importer on the programs of other shapes (issue #10): 白银 GSBY, 五指山 WZS, 龙南 LNYQ,
海口 HKJB and 金华金东 JHJD (坪山 SZPS: tests/test_import_shapes.py). Each program's demo tree
(ledger/<code>/) loses every movement of its special account; a bank statement (建设银行 flat
export) carries them instead; the import must book each row as the demo books it — fee
receipts at the program's own fee, injections with their funder (risk.funders; JHJD's three
funders by payer, the bank among them), compensations split by the program's parties (the
pledged deposit first for HKJB, the enterprise's own fees first for WZS, the risk fund alone
for LNYQ, JHJD's pool paying first in full), the guarantee-fee subsidies of HKJB, interest and
a recovery back to JHJD's pool — and the imported ledger must pass bean-check.

The pledged deposits of HKJB are not on the special account's statement (they are the
enterprises' money at the lending bank): their entries stay in the ledger as written."""

from __future__ import annotations

import csv
import datetime
import functools
import io
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import data
from beancount.core.amount import Amount
from beancount.core.data import Transaction

from zhubaodai.core.rules import load_rules
from zhubaodai.importers import cli

REPO = Path(__file__).resolve().parent.parent
HEADER = ("账号,账户名称,交易时间,借方发生额（支取）,贷方发生额（收入）,余额,币种,对方户名,对方账号,对方开户机构,"
          "记账日期,摘要,备注,账户明细编号-交易流水号,企业流水号,凭证种类,凭证号")
ACCOUNT = "62170000000000000888"

#: Each program's classification rules (a pool's import configuration, docs/importing.md).
CLASSIFY = {
    "GSBY": """\
  - event: injection
    counterparty: [甘肃省财政厅]
    funder: 省级
  - event: injection
    counterparty: [白银市财政局]
    funder: 市级
  - event: compensation
    summary: [代偿]
  - event: fee
""",
    "WZS": """\
  - event: injection
    counterparty: [财政局]
  - event: compensation
    summary: [代偿]
  - event: fee
""",
    "LNYQ": """\
  - event: injection
    counterparty: [财政局]
  - event: compensation
    summary: [代偿]
""",
    "HKJB": """\
  - event: injection
    counterparty: [财政局]
  - event: subsidy
    summary: [奖补]
  - event: compensation
    summary: [代偿]
""",
    # The bank is both a funder and the payer of the interest, the compensation and the
    # recovery: the summary rules come first, the bank's own injection rule last.
    "JHJD": """\
  - event: interest
    summary: [结息]
  - event: recovery
    summary: [追偿]
  - event: compensation
    summary: [代偿, 先行赔付]
  - event: injection
    counterparty: [金东区财政局]
    funder: 政府
  - event: injection
    counterparty: [金华市农信融资担保有限公司]
    funder: 担保公司
  - event: injection
    counterparty: [金华成泰农商银行]
    funder: 合作银行
""",
}


def _pool_delta(entry: Transaction, code: str) -> Decimal:
    prefix = f"Assets:{code}:Pool"
    return sum((p.units.number for p in entry.postings
                if p.account == prefix or p.account.startswith(prefix + ":")), Decimal(0))


def _main(folder: Path, files: list[str]) -> Path:
    main = folder / "main.beancount"
    main.write_text(
        'option "operating_currency" "CNY"\n'
        f"plugin \"zhubaodai.plugin\" \"{{'rules': {str(REPO / 'rules.yaml')!r}}}\"\n"
        + "".join(f'include "{name}"\n' for name in files),
        encoding="utf-8",
    )
    return main


#: The summary word a bank prints on a row, by the role (rules.yaml ``accounts:``) of the
#: account the demo books its other side to. By role, not by account name: HKJB's fund is
#: Assets:HKJB:Pool:Compensation and its injections come from Income:HKJB:Compensation:Injection.
SUMMARY_WORDS = {
    "compensation_guarantee": "代偿", "compensation_risk": "代偿", "outflow_subsidy": "奖补",
    "injection": "拨款", "fee_income": "转账", "interest_guarantee": "结息", "interest_risk": "结息",
    "recovery_guarantee": "追偿", "recovery_risk": "追偿",
}


@functools.cache
def _roles() -> dict[str, str]:
    """account -> role, every program's."""
    return {account: role for account, (_, role) in load_rules(REPO / "rules.yaml").account_roles().items()}


def _summary(entry: Transaction) -> str:
    """The summary column of the statement row that carries ``entry``."""
    roles = {_roles().get(p.account) for p in entry.postings}
    for role, word in SUMMARY_WORDS.items():
        if role in roles:
            return word
    return "转账"


def split_demo(code: str, tmp_path: Path) -> tuple[Path, Path, list[Transaction]]:
    """The demo of ``code`` without its special account's movements (and balance checks),
    the statement that carries them, and the demo's own entries for those rows."""
    source = REPO / "ledger" / code.lower()
    folder = tmp_path / code.lower()
    folder.mkdir()
    files = sorted(p.name for p in source.glob("*.beancount"))
    full = _main(tmp_path, [f"{code.lower()}/{name}" for name in files])
    for name in files:
        shutil.copy(source / name, folder / name)
    entries, errors, _ = loader.load_file(str(full))
    assert [e for e in errors if "balance" in str(e.message).lower() or "Syntax" in str(e.message)] == []
    moves = [e for e in entries if isinstance(e, Transaction) and _pool_delta(e, code) != 0]
    assert moves, code
    # The ledger before the statement: every block with a movement of the special account
    # goes (the statement brings it), and the bank's balance checks with it.
    pool = re.compile(rf"^\s+Assets:{code}:Pool(:\w+)?\s+-?\d", re.M)
    removed = 0
    for name in files:
        if name == "accounts.beancount":
            continue
        text = (folder / name).read_text(encoding="utf-8")
        blocks = re.split(r"\n\s*\n", text)
        kept = []
        for block in blocks:
            if re.search(r"^\d{4}-\d\d-\d\d \* ", block, re.M) and pool.search(block):
                removed += 1
                continue
            kept.append("\n".join(l for l in block.splitlines() if f"balance Assets:{code}:Pool" not in l))
        (folder / name).write_text("\n\n".join(kept) + "\n", encoding="utf-8")
    assert removed == len(moves), (removed, len(moves))
    os_main = tmp_path / "before.beancount"
    os_main.write_text(full.read_text(encoding="utf-8"), encoding="utf-8")
    full.unlink()
    # The statement: one row per movement, in ledger order, with the running balance.
    balance = Decimal(0)
    rows = [HEADER]
    for n, entry in enumerate(moves, 1):
        delta = _pool_delta(entry, code)
        balance += delta
        day = entry.date.strftime("%Y%m%d")
        debit, credit = (f'"{-delta:,.2f}"', "0.00") if delta < 0 else ("0.00", f'"{delta:,.2f}"')
        rows.append(",".join([
            ACCOUNT, f"{code} 专户", f"{day} 10:00:00", debit, credit, f'"{balance:,.2f}"', "人民币",
            entry.payee or "", "", "", day, _summary(entry), entry.narration.replace(",", "，"),
            f"30001-{day}{n:06d}", "", "电子转账凭证", f"{n:08d}",
        ]))
    statement = tmp_path / f"ccb-flat-{code.lower()}.csv"
    statement.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return os_main, statement, moves


def _config(code: str, tmp_path: Path, ledger: Path) -> Path:
    config = tmp_path / f"{code.lower()}.yaml"
    config.write_text(
        f"program: {code}\nrules: {REPO / 'rules.yaml'}\nledger: {ledger}\naccount: \"{ACCOUNT}\"\n"
        f"bank_name: 中国建设银行\nlayouts: [ccb-flat]\nclassify:\n{CLASSIFY[code]}",
        encoding="utf-8",
    )
    return config


def _postings(entry: Transaction) -> dict[str, Decimal]:
    found: dict[str, Decimal] = {}
    for p in entry.postings:
        found[p.account] = found.get(p.account, Decimal(0)) + p.units.number
    return found


def _amount_meta(entry: Transaction, key: str) -> Decimal | None:
    value = entry.meta.get(key)
    return value.number if isinstance(value, Amount) else None


def import_demo(code: str, tmp_path: Path) -> tuple[list[Transaction], list[Transaction], list[object]]:
    ledger, statement, moves = split_demo(code, tmp_path)
    out = tmp_path / "import.beancount"
    err = io.StringIO()
    config = _config(code, tmp_path, ledger)
    assert cli.run_import([statement], configs=[config], ledger=ledger, output=out, err=err) == 0, err.getvalue()
    with ledger.open("a", encoding="utf-8") as handle:
        handle.write('include "import.beancount"\n')
    entries, errors, _ = loader.load_file(str(ledger))
    booked = [e for e in entries if isinstance(e, Transaction) and e.meta.get("filename") == str(out)]
    return booked, moves, errors


@pytest.mark.parametrize("code", ["GSBY", "WZS", "LNYQ", "HKJB", "JHJD"])
def test_a_statement_is_booked_as_the_programs_demo_books_it_and_passes_bean_check(code: str, tmp_path: Path) -> None:
    booked, moves, errors = import_demo(code, tmp_path)
    assert errors == [], [e.message for e in errors]  # bean-check, with the rule engine
    assert [e.flag for e in booked] == ["*"] * len(moves), [e.narration for e in booked if e.flag != "*"]
    assert len(booked) == len(moves)
    for got, want in zip(booked, moves):
        assert got.date == want.date
        assert _postings(got) == _postings(want), (want.narration, _postings(got))
        assert set(got.links) == set(want.links), want.narration
        assert _amount_meta(got, "bank_share") == _amount_meta(want, "bank_share"), want.narration
        assert got.meta.get("funder") == want.meta.get("funder"), want.narration


def _summaries(tmp_path: Path, code: str) -> list[str]:
    """The summary column of the statement :func:`split_demo` wrote for ``code``."""
    with (tmp_path / f"ccb-flat-{code.lower()}.csv").open(encoding="utf-8", newline="") as handle:
        return [row["摘要"] for row in csv.DictReader(handle)]


def _by_narration(booked: list[Transaction], text: str) -> Transaction:
    (found,) = [e for e in booked if text in e.narration]
    return found


def test_gsby_fees_at_its_own_rates_and_injections_name_their_funder(tmp_path: Path) -> None:
    booked, _, _ = import_demo("GSBY", tmp_path)
    # The engine's fee due per loan, at GSBY's own rates.
    fees = {next(iter(e.links)): _postings(e)["Assets:GSBY:Pool:Guarantee"] for e in booked if e.narration == "缴纳助保金"}
    assert fees["GS-2024-002"] == Decimal("80000.00")  # 2,000,000.00 × 4%（无抵质押，1 年期）
    funders = [e.meta.get("funder") for e in booked if "注入风险补偿金" in e.narration]
    assert funders == ["省级", "市级", "省级", "市级"]
    comp = _by_narration(booked, "代偿 GS-2024-002")
    # 互助担保金 840,500.00 first (its whole balance), the shortfall half each: 579,750.00.
    assert _postings(comp) == {
        "Expenses:GSBY:Guarantee:Compensation": Decimal("840500.00"),
        "Expenses:GSBY:Risk:Compensation": Decimal("579750.00"),
        "Assets:GSBY:Pool:Guarantee": Decimal("-840500.00"),
        "Assets:GSBY:Pool:Risk": Decimal("-579750.00"),
    }
    assert _amount_meta(comp, "bank_share") == Decimal("579750.00")


def test_wzs_compensation_takes_only_the_enterprises_own_fees_first(tmp_path: Path) -> None:
    booked, _, _ = import_demo("WZS", tmp_path)
    comp = _by_narration(booked, "代偿 WZ-2024-003")
    # The enterprise paid 25,000.00 (5% of its 500,000.00 credit line): that first, not the
    # pool's whole guarantee fund; 475,000.00 left, half each: 237,500.00.
    assert _postings(comp)["Assets:WZS:Pool:Guarantee"] == Decimal("-25000.00")
    assert _postings(comp)["Assets:WZS:Pool:Risk"] == Decimal("-237500.00")
    assert _amount_meta(comp, "bank_share") == Decimal("237500.00")


def test_lnyq_compensation_is_paid_by_the_risk_fund_alone(tmp_path: Path) -> None:
    booked, _, _ = import_demo("LNYQ", tmp_path)
    comp = _by_narration(booked, "代偿 LN-2024-003")
    assert _postings(comp) == {"Expenses:LNYQ:Risk:Compensation": Decimal("1000000.00"),
                               "Assets:LNYQ:Pool:Risk": Decimal("-1000000.00")}


def test_hkjb_deposit_first_and_subsidies_linked_to_their_loans(tmp_path: Path) -> None:
    booked, _, _ = import_demo("HKJB", tmp_path)
    # Its fund is Assets:HKJB:Pool:Compensation: the injection and the subsidies are not 代偿 rows.
    assert _summaries(tmp_path, "HKJB") == ["拨款", "奖补", "奖补", "奖补", "奖补", "代偿"]
    comp = _by_narration(booked, "代偿 HK-2021-003")
    # 1,212,345.67 due; the deposit paid 40,000.00 first; the pool's half of 1,172,345.67 is
    # 586,172.84 (half-up), the guarantor and bank 586,172.83.
    assert _postings(comp) == {"Expenses:HKJB:Compensation:Payout": Decimal("586172.84"),
                               "Assets:HKJB:Pool:Compensation": Decimal("-586172.84")}
    assert _amount_meta(comp, "bank_share") == Decimal("586172.83")
    subsidies = [(sorted(e.links), _postings(e)["Expenses:HKJB:Subsidy"]) for e in booked if "奖补" in e.narration]
    # 1% of each loan's guaranteed amount: 3,000,000 / 5,000,000 / 2,000,000 / 1,500,000.
    assert subsidies == [(["HK-2021-001"], Decimal("30000.00")), (["HK-2021-002"], Decimal("50000.00")),
                         (["HK-2021-003"], Decimal("20000.00")), (["HK-2021-004"], Decimal("15000.00"))]


def test_a_subsidy_beyond_every_loans_allowance_goes_to_suspense(tmp_path: Path) -> None:
    ledger, statement, _ = split_demo("HKJB", tmp_path)
    text = statement.read_text(encoding="utf-8").replace('"30,000.00",0.00', '"30,000.01",0.00', 1)
    # Keep the running balance consistent: every later balance is 0.01 lower.
    lines = text.splitlines()
    fixed = [lines[0]]
    hit = False
    for line in lines[1:]:
        if "担保费奖补 HK-2021-001" in line:
            hit = True
        if hit:
            cells = next(iter([line]))
            m = re.search(r',"([\d,]+\.\d\d)",人民币', cells)
            assert m is not None
            value = Decimal(m.group(1).replace(",", "")) - Decimal("0.01")
            line = cells.replace(f',"{m.group(1)}",人民币', f',"{value:,.2f}",人民币')
        fixed.append(line)
    statement.write_text("\n".join(fixed) + "\n", encoding="utf-8")
    out = tmp_path / "import.beancount"
    err = io.StringIO()
    assert cli.run_import([statement], configs=[_config("HKJB", tmp_path, ledger)], ledger=ledger,
                          output=out, err=err) == 0, err.getvalue()
    written = out.read_text(encoding="utf-8")
    assert "待查明：担保费奖补 30,000.01 元" in written and "HK-2021-001 尚可奖补 30,000.00 元" in written


def _txn(*accounts: str) -> Transaction:
    postings = [data.Posting(a, Amount(Decimal("1.00") * (1 if i == 0 else -1), "CNY"), None, None, None, None)
                for i, a in enumerate(accounts)]
    return Transaction({}, datetime.date(2025, 1, 1), "*", None, "", frozenset(), frozenset(), postings)


def test_the_statements_summary_word_follows_the_account_the_demo_books_to() -> None:
    assert _summary(_txn("Expenses:JHJD:Risk:Compensation", "Assets:JHJD:Pool:Risk")) == "代偿"
    # HKJB's fund is Assets:HKJB:Pool:Compensation: its subsidies and injections are not 代偿.
    assert _summary(_txn("Expenses:HKJB:Subsidy", "Assets:HKJB:Pool:Compensation")) == "奖补"
    assert _summary(_txn("Assets:HKJB:Pool:Compensation", "Income:HKJB:Compensation:Injection")) == "拨款"
    assert _summary(_txn("Assets:JHJD:Pool:Risk", "Income:JHJD:Risk:Injection")) == "拨款"
    assert _summary(_txn("Assets:GSBY:Pool:Guarantee", "Income:GSBY:Guarantee:Fees")) == "转账"
    assert _summary(_txn("Assets:JHJD:Pool:Risk", "Income:JHJD:Risk:Interest")) == "结息"
    assert _summary(_txn("Assets:CQGX:Pool:Guarantee", "Assets:CQGX:Pool:Risk",
                         "Income:CQGX:Guarantee:Interest", "Income:CQGX:Risk:Interest")) == "结息"
    assert _summary(_txn("Assets:JHJD:Pool:Risk", "Income:JHJD:Risk:Recovery")) == "追偿"
    assert _summary(_txn("Assets:JHJD:Pool:Risk", "Income:JHJD:Unidentified")) == "转账"
    assert _summary(_txn("Expenses:HKJB:Compensation:Payout", "Assets:HKJB:Pool:Compensation")) == "代偿"
    assert _summary(_txn("Assets:HKJB:Pool:Compensation", "Income:HKJB:Compensation:Interest")) == "结息"


def test_jhjd_three_funders_the_pools_payout_interest_and_the_recovery_back_to_the_pool(tmp_path: Path) -> None:
    booked, moves, _ = import_demo("JHJD", tmp_path)
    # The statement carries the summary words the classification reads.
    assert _summaries(tmp_path, "JHJD") == ["拨款"] * 3 + ["结息"] * 3 + ["代偿"] + ["结息"] * 2 + ["追偿"] + ["结息"] * 2
    # Each injection names its funder (risk.funders: 政府 : 担保公司 : 合作银行 = 4 : 4 : 2) by its payer.
    injections = [(e.payee, e.meta.get("funder"), _postings(e)) for e in booked
                  if "Income:JHJD:Risk:Injection" in _postings(e)]
    assert injections == [
        ("金东区财政局", "政府",
         {"Assets:JHJD:Pool:Risk": Decimal("4000000.00"), "Income:JHJD:Risk:Injection": Decimal("-4000000.00")}),
        ("金华市农信融资担保有限公司", "担保公司",
         {"Assets:JHJD:Pool:Risk": Decimal("4000000.00"), "Income:JHJD:Risk:Injection": Decimal("-4000000.00")}),
        ("金华成泰农商银行", "合作银行",
         {"Assets:JHJD:Pool:Risk": Decimal("2000000.00"), "Income:JHJD:Risk:Injection": Decimal("-2000000.00")}),
    ]
    # 先行赔付: the pool pays the whole claim, principal 1,200,000.00 and interest 36,000.56;
    # the parties' shares of the loss come later (custom "loan" "loss"), not on the payout.
    comp = _by_narration(booked, "代偿 JH-2025-001")
    assert _postings(comp) == {"Expenses:JHJD:Risk:Compensation": Decimal("1236000.56"),
                               "Assets:JHJD:Pool:Risk": Decimal("-1236000.56")}
    assert comp.links == frozenset({"JH-2025-001"})
    assert not [key for key in comp.meta if key.endswith("_share")]
    # 追偿: 400,000.00 recovered less 25,000.00 costs, back to the pool (within what it paid).
    back = _by_narration(booked, "追偿款补回 JH-2025-001")
    assert _postings(back) == {"Assets:JHJD:Pool:Risk": Decimal("375000.00"),
                               "Income:JHJD:Risk:Recovery": Decimal("-375000.00")}
    # 结息: the one fund's own, though the bank is also a funder.
    interest = [_postings(e)["Income:JHJD:Risk:Interest"] for e in booked if e.narration.startswith("结息")]
    assert interest == [Decimal(n) for n in ("-5820.00", "-7560.00", "-7610.00", "-7120.00",
                                             "-6410.00", "-6680.00", "-6750.00")]
    assert len(booked) == len(moves) == 3 + 1 + 1 + 7


def _one_fen_more(statement: Path, marker: str) -> None:
    """The row whose 备注 holds ``marker`` one fen larger, every later running balance moved
    with it (the statement stays consistent)."""
    with statement.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    debit, credit, balance, remark = (header.index(k) for k in ("借方发生额（支取）", "贷方发生额（收入）", "余额", "备注"))
    shift = Decimal(0)
    for row in body:
        if not shift and marker in row[remark]:
            column = debit if row[debit] != "0.00" else credit
            row[column] = f"{Decimal(row[column].replace(',', '')) + Decimal('0.01'):,.2f}"
            shift = Decimal("-0.01") if column == debit else Decimal("0.01")
        if shift:
            row[balance] = f"{Decimal(row[balance].replace(',', '')) + shift:,.2f}"
    assert shift, marker
    with statement.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *body])


def _import_text(code: str, tmp_path: Path, marker: str) -> str:
    """What the import writes for the demo's statement of ``code`` with one row a fen off."""
    ledger, statement, _ = split_demo(code, tmp_path)
    _one_fen_more(statement, marker)
    out = tmp_path / "import.beancount"
    err = io.StringIO()
    assert cli.run_import([statement], configs=[_config(code, tmp_path, ledger)], ledger=ledger,
                          output=out, err=err) == 0, err.getvalue()
    return out.read_text(encoding="utf-8")


def test_the_import_says_the_programs_own_fund_names(tmp_path: Path) -> None:
    for name in ("booked", "recovery", "gsby"):
        (tmp_path / name).mkdir()
    # JHJD calls its one fund 风险池基金 (rules.yaml names:): the injections say so.
    booked, _, _ = import_demo("JHJD", tmp_path / "booked")
    assert [e.narration for e in booked if "funder" in e.meta] == [
        "注入风险池基金（政府）", "注入风险池基金（担保公司）", "注入风险池基金（合作银行）"]
    # A recovery a fen off: what is still due back, in JHJD's name, and no guarantee fund
    # (JHJD has none) in the list.
    text = _import_text("JHJD", tmp_path / "recovery", "追偿款补回")
    assert ("待查明：追偿款 375,000.01 元与按追偿分配顺序应补回的金额不符（JH-2025-001 应补回风险池基金 375,000.00 元）"
            in text)
    # GSBY calls its guarantee fund 互助担保金: a compensation a fen off lists the parts in its words.
    text = _import_text("GSBY", tmp_path / "gsby", "代偿 GS-2024-002")
    assert ("代偿支出 1,420,250.01 元与按代偿顺序应付的金额不符（GS-2024-002 互助担保金付 840,500.00 元、"
            "风险补偿金付 579,750.00 元）" in text)
