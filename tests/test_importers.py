"""The statement importer's behaviour: never lose, never duplicate, clear errors, Fava.

The statements are in tests/importers/ (written by make_fixtures.py); the ledger they are
imported into is a copy of tests/importers/ledger/ made for each test.
"""

from __future__ import annotations

import dataclasses
import io
import runpy
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import data
from click.testing import CliRunner

from conftest import FavaImportPage
from conftest import importer_fixtures
from zhubaodai.importers import cli
from zhubaodai.importers.config import ImportConfigError
from zhubaodai.importers.config import load_pool_config
from zhubaodai.importers.importer import DUPLICATE
from zhubaodai.importers.importer import PoolImporter
from zhubaodai.importers.statement import StatementError
from zhubaodai.importers.statement import decode
from zhubaodai.importers.statement import read_statement

HERE = Path(__file__).parent / "importers"


fx = importer_fixtures()
REPO = Path(__file__).parent.parent
CQGX = HERE / "pools" / "cqgx.yaml"
FLAT = HERE / "ccb-flat" / "ccb-flat-utf8.csv"
BAD = sorted(p for p in (HERE / "bad").iterdir() if not p.name.endswith(".error"))


@pytest.fixture
def ledger(import_ledger: Path) -> Path:
    return import_ledger


def import_into(
    ledger: Path, *sources: Path, config: Path | list[Path] = CQGX, name: str = "import.beancount"
) -> tuple[int, str]:
    """Import statements into a new file beside the ledger and include it."""
    out = ledger.parent / name
    err = io.StringIO()
    configs = config if isinstance(config, list) else [config]
    status = cli.run_import(list(sources), configs=configs, ledger=ledger, output=out, err=err)
    if status == 0:
        with ledger.open("a", encoding="utf-8") as handle:
            handle.write(f'\ninclude "{name}"\n')
    return status, err.getvalue()


def entries_of(path: Path) -> list[data.Directive]:
    entries, errors, _ = loader.load_file(str(path))
    assert not [e for e in errors if type(e).__name__ in ("ParserError", "ParserSyntaxError")], errors
    return entries


def errors_of(ledger: Path) -> set[tuple[str, int, str]]:
    """bean-check's errors as (file, line, rule id or message): messages that quote the
    ledger's last date change with every import, the place and the rule do not."""
    _, errors, _ = loader.load_file(str(ledger))
    out = set()
    for e in errors:
        rule = e.message.split("]")[0] + "]" if e.message.startswith("[") else e.message
        out.add((Path(e.source.get("filename") or "").name, e.source.get("lineno") or 0, rule))
    return out


def transactions(path: Path) -> list[data.Transaction]:
    return [e for e in entries_of(path) if isinstance(e, data.Transaction)]


# --------------------------------------------------------------------------------------
# Reading.


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-8", False), ("utf-8", True), ("gb18030", False), ("gbk", False)]
)
def test_encodings_are_detected(encoding: str, bom: bool) -> None:
    text = "账号,余额\n5005,1,234.56\n重庆高新区财政局\n"
    raw = (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)
    decoded, name = decode("x.csv", raw)
    assert decoded == text
    assert name == {"utf-8": "UTF-8（带 BOM）" if bom else "UTF-8", "gb18030": "GB18030", "gbk": "GB18030"}[encoding]


def test_utf16_with_bom_and_html_disguised_as_xls(tmp_path: Path) -> None:
    assert decode("x.csv", "账号,余额\n".encode("utf-16"))[0] == "账号,余额\n"
    page = tmp_path / "明细.xls"
    page.write_text("<html><body><table><tr><td>账号</td></tr></table></body></html>", encoding="utf-8")
    with pytest.raises(StatementError, match="文件是网页（HTML/XML）格式而不是表格"):
        read_statement(page, load_pool_config(CQGX).layouts)


def test_all_variants_read_the_same_rows() -> None:
    layouts = load_pool_config(CQGX).layouts
    statements = [
        read_statement(p, layouts) for folder in ("ccb-flat", "ccb-query", "ccb-detail")
        for p in sorted((HERE / folder).iterdir()) if not p.name.endswith(".beancount")
    ]
    assert len(statements) == 15
    first = statements[0]
    assert len(first.rows) == len(fx.CQ_Q3)
    assert first.opening_balance == fx.CQ_OPENING
    def content(st):  # the line numbers differ between layouts; 明细查询结果 has no 对方开户机构
        return [dataclasses.replace(r, line=0, counterparty_bank="") for r in st.rows]

    for st in statements[1:]:
        assert content(st) == content(first), st.path
        assert st.account == fx.CQ_ACCOUNT
    assert {st.layout.name for st in statements} == {"ccb-flat", "ccb-query", "ccb-detail"}
    assert {st.kind for st in statements} == {"csv", "xlsx", "xls"}


def test_header_padding_thousands_separators_and_empty_amounts() -> None:
    st = read_statement(HERE / "ccb-detail" / "ccb-detail-utf8.csv", load_pool_config(CQGX).layouts)
    # Newest first in the file, oldest first once read.
    assert [r.date.isoformat() for r in st.rows][:2] == ["2024-07-03", "2024-07-03"]
    assert st.rows[2].amount == Decimal("1000000.00")  # "1,000,000.00", debit column empty
    assert st.rows[6].amount == Decimal("-622612.80")  # "622,612.80" debit, credit empty
    # The padded label "账    号" beside its value; " 借方发生额/元(支取) " is 借方发生额（支取）.
    assert st.header_row == 6 and st.account_at == (1, "B 列（账号）")
    assert st.balance_label == "D 列（余额）"


@pytest.mark.parametrize("bad", BAD, ids=[p.name for p in BAD])
def test_each_bad_statement_gives_its_error_and_writes_nothing(bad: Path, ledger: Path) -> None:
    expected = (bad.parent / f"{bad.name}.error").read_text(encoding="utf-8").strip().format(file=bad)
    out = ledger.parent / "out.beancount"
    err = io.StringIO()
    status = cli.run_import([bad], configs=[CQGX], ledger=ledger, output=out, err=err)
    assert status == cli.EXIT_INPUT
    assert err.getvalue() == f"错误：{expected}\n未写入任何内容。\n"
    assert not out.exists()
    assert "Traceback" not in err.getvalue()


def test_a_bad_statement_among_good_ones_writes_nothing(ledger: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.beancount"
    err = io.StringIO()
    status = cli.run_import(
        [FLAT, HERE / "bad" / "balance-chain.csv"], configs=[CQGX], ledger=ledger, output=out, err=err
    )
    assert status == cli.EXIT_INPUT and not out.exists()
    assert "余额不连续" in err.getvalue()


def test_statement_of_another_pool_account_is_refused_by_the_importer() -> None:
    importer = PoolImporter(CQGX)
    other = HERE / "bad" / "other-account.csv"
    assert not importer.identify(str(other))
    with pytest.raises(StatementError, match="账号 50050110360000009999 不是项目 CQGX 的专户账号"):
        importer.extract(str(other), [])


# --------------------------------------------------------------------------------------
# Never lose, never duplicate.


def test_import_then_bean_check_introduces_no_error(ledger: Path) -> None:
    before = set(errors_of(ledger))
    status, err = import_into(ledger, FLAT)
    assert status == 0, err
    after = set(errors_of(ledger))
    assert after <= before, after - before
    # The fees now paid and linked: the dues of CQ-2024-010, -011 (contracts) and -001 (increase).
    assert {(f, rule) for f, _, rule in before - after} >= {("cqgx.beancount", "[fee.rate]"), ("cqgx.beancount", "[fee.increase]")}
    assert not [e for e in after if e[0] == "import.beancount" or "Balance failed" in e[2]]


def test_reimport_adds_nothing(ledger: Path) -> None:
    assert import_into(ledger, FLAT)[0] == 0
    for variant in (FLAT, HERE / "ccb-detail" / "ccb-detail.xls", HERE / "ccb-flat" / "ccb-flat-gb18030.csv"):
        result = cli.extract_statements([variant], configs=[CQGX], ledger=ledger)
        (_, extraction), = result.extractions
        assert extraction.entries == []
        assert extraction.skipped == len(fx.CQ_Q3)


def test_same_day_same_amount_rows_are_kept_apart(ledger: Path) -> None:
    assert import_into(ledger, FLAT)[0] == 0
    imported = transactions(ledger.parent / "import.beancount")
    fees = [t for t in imported if t.date.isoformat() == "2024-07-03"]
    assert len(fees) == 2 and {next(iter(t.links)) for t in fees} == {"CQ-2024-010", "CQ-2024-011"}
    charges = [t for t in imported if t.date.isoformat() == "2024-08-20"]
    assert len(charges) == 2 and len({t.meta["serial"] for t in charges}) == 2


def test_overlapping_statement_adds_only_new_rows(ledger: Path, tmp_path: Path) -> None:
    assert import_into(ledger, FLAT)[0] == 0
    # August to September again, plus one row after the end of the first statement.
    later = fx.CQ_Q3[6:] + [fx.Txn("2024-09-28", "09:00:00", Decimal("888.00"), "某某", "", "", "转账", "")]
    opening = fx.running(fx.CQ_OPENING, fx.CQ_Q3)[5]
    rows = fx.flat_rows(later, opening)
    for i, row in enumerate(rows[1:], 7):  # keep the bank's serials of the overlapping rows
        row[13] = fx.ccb_serial(i, fx.CQ_Q3[i - 1]) if i <= len(fx.CQ_Q3) else "10012-20240928090000012"
    overlap = tmp_path / "overlap.csv"
    fx.write_csv(overlap, rows)
    status, err = import_into(ledger, overlap, name="overlap.beancount")
    assert status == 0, err
    assert "跳过 5 笔已在账本中的流水" in err
    added = entries_of(ledger.parent / "overlap.beancount")
    # The statement's opening and closing balances, and the one new row.
    assert [type(e).__name__ for e in added] == ["Balance", "Transaction", "Balance"]
    assert added[1].meta["serial"] == "10012-20240928090000012" and added[1].flag == "!"
    assert not [e for e in errors_of(ledger) if "Balance failed" in e[2] or e[0] == "overlap.beancount"]


def test_monthly_statements_in_one_run_equal_the_quarter(ledger: Path, tmp_path: Path) -> None:
    """Each statement sees the rows of the ones before it: the interest split of the last
    month uses the 积数 of the first two, which are not in the ledger yet."""
    files = []
    for name, lo, hi in fx.MONTHS:
        txns, opening = fx.month(lo, hi)
        path = tmp_path / f"{name}.csv"
        fx.write_csv(path, fx.flat_rows(txns, opening, first=lo + 1))
        files.append(path)
    result = cli.extract_statements(list(reversed(files)), configs=[CQGX], ledger=ledger)
    monthly = [e for e in result.entries if isinstance(e, data.Transaction)]
    quarter = [e for e in cli.extract_statements([FLAT], configs=[CQGX], ledger=ledger).entries
               if isinstance(e, data.Transaction)]
    assert [(t.date, t.meta["serial"], t.postings, t.links) for t in monthly] == [
        (t.date, t.meta["serial"], t.postings, t.links) for t in quarter
    ]


def test_existing_output_file_is_never_overwritten_unless_asked(ledger: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.beancount"
    out.write_text("; 已有内容\n", encoding="utf-8")
    err = io.StringIO()
    assert cli.run_import([FLAT], configs=[CQGX], ledger=ledger, output=out, err=err) == cli.EXIT_INPUT
    assert out.read_text(encoding="utf-8") == "; 已有内容\n"
    assert "已存在" in err.getvalue() and "--force" in err.getvalue()
    assert cli.run_import([FLAT], configs=[CQGX], ledger=ledger, output=out, overwrite=True, err=io.StringIO()) == 0
    assert "缴纳助保金" in out.read_text(encoding="utf-8")
    assert cli.run_import([FLAT], configs=[CQGX], ledger=out, output=out, err=io.StringIO()) == cli.EXIT_INPUT


def test_no_ledger_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "pool.yaml"
    text = CQGX.read_text(encoding="utf-8").replace("ledger: ../ledger/main.beancount\n", "")
    config.write_text(text.replace("../../../rules.yaml", str(REPO / "rules.yaml")), encoding="utf-8")
    err = io.StringIO()
    assert cli.run_import([FLAT], configs=[config], err=err) == cli.EXIT_INPUT
    assert "没有账本可以核对" in err.getvalue()


# --------------------------------------------------------------------------------------
# Classification.


def test_events_are_classified_from_the_engine(ledger: Path) -> None:
    assert import_into(ledger, FLAT)[0] == 0
    by_serial = {t.meta["serial"]: t for t in transactions(ledger.parent / "import.beancount")}
    txn = list(by_serial.values())
    kinds = [(t.flag, t.narration.split("：")[0].split(" ")[0]) for t in txn]
    assert kinds == [
        ("*", "缴纳助保金"), ("*", "缴纳助保金"), ("*", "注入风险补偿金"), ("!", "待查明"), ("*", "缴纳助保金"),
        ("!", "待查明"), ("*", "代偿"), ("!", "待查明"), ("!", "待查明"), ("*", "追偿款补回"), ("*", "结息（计息期至"),
    ]
    comp = txn[6]
    assert comp.meta["bank_share"].number == Decimal("397387.20")
    assert {p.account: p.units.number for p in comp.postings}["Assets:CQGX:Pool:Risk"] == Decimal("-397387.21")
    assert "CQ-2024-007 待缴 0.00 元" in txn[5].narration
    interest = txn[10]
    assert interest.meta["period_end"].isoformat() == "2024-09-20"
    assert sum(p.units.number for p in interest.postings if p.account.startswith("Assets")) == Decimal("15678.90")


def test_interest_split_is_the_engines(ledger: Path) -> None:
    from zhubaodai.core.engine import analyse
    from zhubaodai.core.rules import load_rules

    assert import_into(ledger, FLAT)[0] == 0
    analysis = analyse(entries_of(ledger), load_rules(REPO / "rules.yaml"))
    q3 = [a for a in analysis.records.interest if a.entry.date.isoformat() == "2024-09-21"]
    assert len(q3) == 1 and q3[0].ok
    assert q3[0].period_start.isoformat() == "2024-06-21"


def test_other_bank_mapping_imports_and_checks(ledger: Path) -> None:
    before = set(errors_of(ledger))
    status, err = import_into(ledger, HERE / "boc" / "boc-2024Q3.csv", config=HERE / "pools" / "wlht-boc.yaml")
    assert status == 0, err
    assert "中国银行「交易明细（双语表头，查询账号在表头前）」" in err
    after = set(errors_of(ledger))
    assert after <= before, after - before
    assert ("wlht.beancount", "[fee.rate]") in {(f, rule) for f, _, rule in before - after}


def test_composite_key_where_the_bank_has_no_serial(ledger: Path) -> None:
    icbc = HERE / "icbc" / "icbc-2024-08.csv"
    config = HERE / "pools" / "wlht-icbc.yaml"
    assert import_into(ledger, icbc, config=config)[0] == 0
    serials = [t.meta["serial"] for t in transactions(ledger.parent / "import.beancount")]
    assert serials[0] == "20240805/100.00/3000100.00/1" and serials[2] == "20240805/100.00/3000100.00/2"
    result = cli.extract_statements([icbc], configs=[config], ledger=ledger)
    assert [e for e in result.entries if isinstance(e, data.Transaction)] == []


def test_configuration_errors_name_file_line_and_key(tmp_path: Path) -> None:
    config = tmp_path / "pool.yaml"
    config.write_text(
        f"program: CQGX\nrules: {REPO / 'rules.yaml'}\naccount: '1'\nclassify:\n  - event: gift\n", encoding="utf-8"
    )
    with pytest.raises(ImportConfigError) as info:
        load_pool_config(config)
    assert str(info.value) == f"导入配置有误：{config} 第 5 行（classify[1].event）：未知的事件 'gift'；可用：fee、injection、interest、compensation、recovery、subsidy"
    err = io.StringIO()
    assert cli.run_import([FLAT], configs=[config], err=err) == cli.EXIT_INPUT
    assert err.getvalue().startswith("错误：导入配置有误：") and "Traceback" not in err.getvalue()



@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("program: CQGX\naccount: '1'\nprogram: WLHT\n", 3, "（program）：键重复（同一层级出现两次）"),
        ("program: CQGX\naccount: [1\n", 3, "（YAML）：无法解析："),
    ],
)
def test_unreadable_configuration_names_file_and_line(tmp_path: Path, text: str, line: int, expected: str) -> None:
    config = tmp_path / "pool.yaml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ImportConfigError) as info:
        load_pool_config(config)
    assert str(info.value).startswith(f"导入配置有误：{config} 第 {line} 行{expected}")


# --------------------------------------------------------------------------------------
# Commands and Fava.


def test_identify_command() -> None:
    result = CliRunner().invoke(cli.cli, ["identify", str(HERE / "ccb-detail"), "-c", str(CQGX)])
    assert result.exit_code == 0, result.output
    assert "ccb-detail.xls：CQGX 专户，中国建设银行「账户明细（表头前有账户信息与发生额合计）」（xls），账号 50050110360000001688" in result.output
    assert result.output.count("CQGX 专户") == 5


def test_module_entry_point_runs(ledger: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "zhubaodai.importers", "extract", str(FLAT), "-c", str(CQGX), "-e", str(ledger)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(";; 助保贷专户对账单导入结果") and "^CQ-2024-010" in proc.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "zhubaodai.importers", "extract", "nosuch.csv", "-c", str(CQGX)],
        capture_output=True, text=True, check=False,
    )
    assert bad.returncode == 2 and bad.stderr == "错误：找不到文件 nosuch.csv\n未写入任何内容。\n"


def test_archive_command(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(FLAT, inbox / "statement.csv")
    (inbox / "notes.txt").write_text("不是对账单\n", encoding="utf-8")
    docs = tmp_path / "documents"
    docs.mkdir()
    result = CliRunner().invoke(cli.cli, ["archive", str(inbox), "-c", str(CQGX), "-o", str(docs)])
    assert result.exit_code == 0, result.output
    assert (docs / "Assets" / "CQGX" / "Pool" / "2024-09-21.statement.csv").exists()
    assert not (inbox / "statement.csv").exists() and (inbox / "notes.txt").exists()


def test_fava_mode_reports_errors_as_an_unticked_note() -> None:
    importer = PoolImporter(CQGX, fava=True)
    bad = HERE / "bad" / "balance-chain.csv"
    assert importer.identify(str(bad))  # our account: listed, so the user sees why it fails
    (note,) = importer.extract(str(bad), [])
    assert isinstance(note, data.Note) and note.meta[DUPLICATE] is True
    assert note.comment.startswith("导入失败，未导入任何分录：文件") and "余额不连续" in note.comment
    assert not importer.identify(str(HERE / "bad" / "garbage.csv"))


def test_deduplicate_hook_marks_by_serial(ledger: Path) -> None:
    importer = PoolImporter(CQGX)
    new = importer.extract(str(FLAT), entries_of(ledger))
    assert import_into(ledger, FLAT)[0] == 0
    importer.deduplicate(new, entries_of(ledger))
    marked = [e for e in new if e.meta.get(DUPLICATE)]
    assert len(marked) == len([e for e in new if not isinstance(e, data.Open)])


def test_fava_import_config_loads_in_fava() -> None:
    from fava.core.ingest import load_import_config

    config = REPO / "importers" / "fava_import_config.py"
    loaded = load_import_config(config)
    assert set(loaded.importers) == {"CQGX 专户对账单", "WLHT 专户对账单"}
    module = runpy.run_path(str(config))
    assert all(imp.fava for imp in module["CONFIG"])


def test_fava_extracts_from_its_import_page(ledger: Path, tmp_path: Path, fava_import_page: FavaImportPage) -> None:
    """Fava 1.30's own ingest module, on a ledger with the import options."""
    from fava.core import FavaLedger

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(FLAT, inbox / "ccb.csv")
    fava_import_page.setup(ledger, inbox)
    fava = FavaLedger(str(ledger))
    fava.ingest.load_file()
    (info,) = fava.ingest.import_data()
    assert [i.importer_name for i in info.importers] == ["CQGX 专户对账单"]
    assert info.importers[0].account == "Assets:CQGX:Pool"
    entries = fava.ingest.extract(str(inbox / "ccb.csv"), "CQGX 专户对账单")
    txns = [e for e in entries if isinstance(e, data.Transaction)]
    assert len(txns) == len(fx.CQ_Q3) and not any(e.meta.get(DUPLICATE) for e in entries)


# --------------------------------------------------------------------------------------
# End to end.

SAMPLES = REPO / "importers" / "samples"
QUARTER = HERE / "quarter"


def test_a_quarter_of_statements_into_the_test_ledger_passes_bean_check(ledger: Path) -> None:
    """A quarter as monthly statements (July flat GB18030 CSV, August 明细查询结果 .xlsx, September
    flat .xls) and the other pool's quarter (Bank of China) into a copy of the ledger,
    then `bean-check`; the quarterly export of the same account afterwards adds nothing."""
    months = [QUARTER / "ccb-2024-07.csv", QUARTER / "ccb-2024-08.xlsx", QUARTER / "ccb-2024-09.xls"]
    boc = HERE / "boc" / "boc-2024Q3.csv"
    status, err = import_into(ledger, *months, boc, config=[CQGX, HERE / "pools" / "wlht-boc.yaml"])
    assert status == 0, err
    assert err.count("跳过 0 笔已在账本中的流水") == 4
    check = subprocess.run(
        [str(Path(sys.executable).with_name("bean-check")), "-C", str(ledger)],
        capture_output=True, text=True, check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout == "" and check.stderr == ""
    imported = entries_of(ledger.parent / "import.beancount")
    balances = [e for e in imported if isinstance(e, data.Balance)]
    assert balances[-1].amount.number == fx.running(fx.CQ_OPENING, fx.CQ_Q3)[-1]
    again = cli.extract_statements([QUARTER / "ccb-2024Q3.csv"], configs=[CQGX], ledger=ledger)
    (_, extraction), = again.extractions
    assert extraction.entries == [] and extraction.skipped == len(fx.CQ_Q3)


def test_fava_import_page_round_trip_passes_bean_check(
    ledger: Path, tmp_path: Path, fava_import_page: FavaImportPage
) -> None:
    """Through Fava's JSON API as its import page does it: list, extract, save; then the
    ledger passes bean-check. Fava saves metadata as text, so there the importer leaves
    period_end to the engine's default and writes bank_share as text, which the engine
    reads; it cannot save an open directive, so the unidentified accounts must be open."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(QUARTER / "ccb-2024Q3.csv", inbox / "ccb.csv")
    # The other pool's quarter, so that the whole ledger passes.
    status, err = import_into(ledger, HERE / "boc" / "boc-2024Q3.csv", config=HERE / "pools" / "wlht-boc.yaml",
                              name="wlht-import.beancount")
    assert status == 0, err
    client, slug = fava_import_page.client(ledger, inbox)
    listed = client.get(f"/{slug}/api/imports").get_json()["data"]
    assert [i["importer_name"] for f in listed for i in f["importers"]] == ["CQGX 专户对账单"]
    extracted = client.get(
        f"/{slug}/api/extract", query_string={"filename": str(inbox / "ccb.csv"), "importer": "CQGX 专户对账单"}
    ).get_json()["data"]
    assert len([e for e in extracted if e["t"] == "Transaction"]) == len(fx.CQ_Q3)
    saved = client.put(f"/{slug}/api/add_entries", json={"entries": extracted})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    text = ledger.read_text(encoding="utf-8")
    assert 'bank_share: "397387.20 CNY"' in text and "^CQ-2024-010" in text
    check = subprocess.run(
        [str(Path(sys.executable).with_name("bean-check")), "-C", str(ledger)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    again = client.get(
        f"/{slug}/api/extract", query_string={"filename": str(inbox / "ccb.csv"), "importer": "CQGX 专户对账单"}
    ).get_json()["data"]
    assert again == []


def test_fava_asks_for_the_unidentified_accounts_to_be_opened(
    ledger: Path, tmp_path: Path, fava_import_page: FavaImportPage
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(QUARTER / "ccb-2024Q3.csv", inbox / "ccb.csv")
    client, slug = fava_import_page.client(ledger, inbox, open_unidentified=False)
    (note,) = client.get(
        f"/{slug}/api/extract", query_string={"filename": str(inbox / "ccb.csv"), "importer": "CQGX 专户对账单"}
    ).get_json()["data"]
    assert note["t"] == "Note" and note["meta"]["__duplicate__"] is True
    assert note["comment"].endswith(
        "请先在账本中加上：2024-07-15 open Income:CQGX:Unidentified CNY；2024-08-20 open Expenses:CQGX:Unidentified CNY"
    )


# The demo ledger (ledger/, 2024-2025, its own generator) and the shipped samples (2026 Q1).
# If the demo ledger is regenerated with other figures, regenerate the samples to match:
# .venv/bin/python tests/importers/make_fixtures.py
DEMO = REPO / "ledger"
SHIPPED_CQGX = REPO / "importers" / "pools" / "cqgx.yaml"


@pytest.fixture
def demo_ledger(tmp_path: Path) -> Path:
    """A copy of the demo ledger, with the register events recorded before the import."""
    target = tmp_path / "ledger"
    shutil.copytree(DEMO, target)
    main = target / "main.beancount"
    text = main.read_text(encoding="utf-8")
    assert "'../rules.yaml'" in text  # the plugin line, pointed at the repository's rules
    text = text.replace("'../rules.yaml'", repr(str(REPO / "rules.yaml")))
    shutil.copy(HERE / "demo" / "cqgx-2026Q1.beancount", target / "cqgx" / "2026.beancount")
    main.write_text(text + 'include "cqgx/2026.beancount"\n', encoding="utf-8")
    return main


def test_a_quarter_of_sample_statements_into_the_demo_ledger_passes_bean_check(demo_ledger: Path) -> None:
    """The shipped samples for 2026 Q1 (January flat GB18030 CSV, February 明细查询结果
    .xlsx, March flat .xls) into a copy of the demo ledger: bean-check passes; the fees are
    linked to their loans, the interest split is the engine's; the quarterly export of the
    same account afterwards adds nothing."""
    months = [SAMPLES / "ccb-2026-01.csv", SAMPLES / "ccb-2026-02.xlsx", SAMPLES / "ccb-2026-03.xls"]
    status, err = import_into(demo_ledger, *months, config=SHIPPED_CQGX)
    assert status == 0, err + "（演示账本改过？请重新生成样例：python tests/importers/make_fixtures.py）"
    check = subprocess.run(
        [str(Path(sys.executable).with_name("bean-check")), "-C", str(demo_ledger)],
        capture_output=True, text=True, check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout == "" and check.stderr == ""
    imported = transactions(demo_ledger.parent / "import.beancount")
    assert [sorted(t.links) for t in imported if t.flag == "*" and t.links] == [["CQ-2026-001"], ["CQ-2025-004"]]
    assert len([t for t in imported if t.flag == "!"]) == 3
    from zhubaodai.core.engine import analyse
    from zhubaodai.core.rules import load_rules

    analysis = analyse(entries_of(demo_ledger), load_rules(REPO / "rules.yaml"))
    assert not analysis.errors
    q1 = [a for a in analysis.records.interest if a.entry.date.isoformat() == "2026-03-21"]
    assert len(q1) == 1 and q1[0].ok and q1[0].period_start.isoformat() == "2025-12-21"
    again = cli.extract_statements([SAMPLES / "ccb-2026Q1.csv"], configs=[SHIPPED_CQGX], ledger=demo_ledger)
    (_, extraction), = again.extractions
    assert extraction.entries == [] and extraction.skipped == len(fx.DEMO_Q1)


def test_readme_command_on_the_demo_ledger() -> None:
    """The README's command, as written, from the repository root: the shipped pool
    configuration reads the demo ledger itself. Without the 2026 register events the two
    fees have no due yet, so they wait in suspense with the reason."""
    proc = subprocess.run(
        [sys.executable, "-m", "zhubaodai.importers", "extract", "importers/samples/ccb-2026Q1.csv"],
        capture_output=True, text=True, check=False, cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    assert "新增 7 笔（待查明 5 笔），跳过 0 笔已在账本中的流水" in proc.stderr
    assert "2026-01-01 balance" not in proc.stdout and "2026-01-08 balance Assets:CQGX:Pool" in proc.stdout
    assert "待缴额来自登记簿的合同、增额、续贷事件，请先登记" in proc.stdout
    assert '"注入风险补偿金"' in proc.stdout and "period_end: 2026-03-20" in proc.stdout


def test_zbd_import_is_the_extract_command(ledger: Path) -> None:
    from zhubaodai.cli import main as zbd

    result = CliRunner().invoke(zbd, ["import", str(FLAT), "-c", str(CQGX), "-e", str(ledger)])
    assert result.exit_code == 0, result.output
    assert "^CQ-2024-010" in result.output
    bad = CliRunner().invoke(zbd, ["import", str(HERE / "bad" / "garbage.csv"), "-c", str(CQGX), "-e", str(ledger)])
    assert bad.exit_code == 2 and "无法识别文件编码" in bad.output and "Traceback" not in bad.output


def test_zbd_import_overwrites_only_with_force_and_keeps_the_old_spelling(ledger: Path, tmp_path: Path) -> None:
    """--force is the one overwrite flag of every zbd command; --overwrite (the importer's old
    spelling) still works for existing scripts but is not offered in --help."""
    from zhubaodai.cli import main as zbd

    out = tmp_path / "out.beancount"
    out.write_text("; 已有内容\n", encoding="utf-8")
    args = ["import", str(FLAT), "-c", str(CQGX), "-e", str(ledger), "-o", str(out)]
    refused = CliRunner().invoke(zbd, args)
    assert refused.exit_code == 2 and "--force" in refused.output and "--overwrite" not in refused.output
    assert out.read_text(encoding="utf-8") == "; 已有内容\n"
    for flag in ("--force", "--overwrite"):
        out.write_text("; 已有内容\n", encoding="utf-8")
        result = CliRunner().invoke(zbd, [*args, flag])
        assert result.exit_code == 0, (flag, result.output)
        assert "缴纳助保金" in out.read_text(encoding="utf-8"), flag
    shown = CliRunner().invoke(zbd, ["import", "--help"]).output
    assert "--force" in shown and "--overwrite" not in shown
    archive = CliRunner().invoke(cli.cli, ["archive", "--help"]).output
    assert "--force" in archive and "--overwrite" not in archive


def test_a_statement_that_does_not_start_where_the_ledger_stands_is_refused(ledger: Path, tmp_path: Path) -> None:
    """September without August: the opening balance is not the ledger's; nothing written."""
    txns, opening = fx.month(9, 11)
    september = tmp_path / "september.csv"
    fx.write_csv(september, fx.flat_rows(txns, opening, first=10))
    out = tmp_path / "out.beancount"
    err = io.StringIO()
    assert cli.run_import([september], configs=[CQGX], ledger=ledger, output=out, err=err) == cli.EXIT_INPUT
    assert err.getvalue() == (
        f"错误：文件 {september} 第 2 行 F 列（余额）：期初余额 5,640,088.43 元与账本不符："
        "账本中专户 Assets:CQGX:Pool 在 2024-09-05 日初的余额为 5,115,555.56 元（相差 524,532.87 元）；"
        "账本可能缺少此前的流水（请先导入更早的对账单），或账本有误\n未写入任何内容。\n"
    )
    assert not out.exists()
    # With the earlier months in the same run it chains.
    assert cli.run_import([FLAT, september], configs=[CQGX], ledger=ledger, output=out, err=io.StringIO()) == 0


def test_ledger_movements_without_serial_in_the_period_block_the_import(demo_ledger: Path) -> None:
    """The demo ledger was kept by hand (no serial numbers): a statement over its own
    period cannot be told apart from it, so nothing is imported."""
    txns = [fx.Txn("2025-12-21", "02:00:00", Decimal("1592.11"), "", "", "", "结息", "")]
    rows = fx.flat_rows(txns, Decimal("12650796.57"))
    path = demo_ledger.parent / "dec.csv"
    fx.write_csv(path, rows)
    err = io.StringIO()
    assert cli.run_import([path], configs=[SHIPPED_CQGX], ledger=demo_ledger, err=err) == cli.EXIT_INPUT
    assert "已有 1 笔没有流水号（serial）的专户收支" in err.getvalue() and "2025年第四季度专户结息" in err.getvalue()
