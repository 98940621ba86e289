"""The importer on a program with a table of parties and no guarantee fund (SZPS, 坪山):
the compensation is booked from the engine's split (the pool's 40% from the risk fund, the
guarantor's and the bank's parts as metadata), interest goes wholly to the one fund, and a
recovery that lowers the unpaid principal books the pool's excess back; the result passes
bean-check."""

from __future__ import annotations

import io
import re
import shutil
from decimal import Decimal
from pathlib import Path

from beancount import loader

from zhubaodai.importers import cli

REPO = Path(__file__).resolve().parent.parent
HERE = REPO / "tests" / "importers"
CONFIG = HERE / "pools" / "szps.yaml"
STATEMENT = HERE / "szps" / "ccb-flat-szps.csv"
#: The demo's bank movements from the compensation on: what the statement brings.
FROM_STATEMENT = ("专户结息（三季度）", "\"风险补偿 SZ-2026-001\"", "\"未清偿本金减少，退回风险补偿金", "balance Assets:SZPS:Pool")


def ledger_before_statement(tmp_path: Path) -> Path:
    """The SZPS demo without the movements the statement carries (and its year-end balance)."""
    folder = tmp_path / "szps"
    folder.mkdir()
    shutil.copy(REPO / "ledger" / "szps" / "accounts.beancount", folder / "accounts.beancount")
    text = (REPO / "ledger" / "szps" / "2026.beancount").read_text(encoding="utf-8")
    blocks = [b for b in re.split(r"\n\s*\n", text) if not any(m in b for m in FROM_STATEMENT)]
    (folder / "2026.beancount").write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    main = folder / "main.beancount"
    main.write_text(
        'option "operating_currency" "CNY"\n'
        f"plugin \"zhubaodai.plugin\" \"{{'rules': {str(REPO / 'rules.yaml')!r}}}\"\n"
        'include "accounts.beancount"\ninclude "2026.beancount"\n',
        encoding="utf-8",
    )
    return main


def test_a_szps_statement_is_booked_by_the_programs_table(tmp_path: Path) -> None:
    ledger = ledger_before_statement(tmp_path)
    out = ledger.parent / "import.beancount"
    err = io.StringIO()
    assert cli.run_import([STATEMENT], configs=[CONFIG], ledger=ledger, output=out, err=err) == 0, err.getvalue()
    with ledger.open("a", encoding="utf-8") as handle:
        handle.write('\ninclude "import.beancount"\n')
    entries, errors, _ = loader.load_file(str(ledger))
    assert errors == [], [e.message for e in errors]
    booked = [e for e in entries if getattr(e, "meta", {}).get("filename") == str(out) and hasattr(e, "postings")]
    interest, comp, back = booked
    assert comp.narration == "代偿 SZ-2026-001" and comp.flag == "*"
    assert {p.account: p.units.number for p in comp.postings} == {
        "Expenses:SZPS:Risk:Compensation": Decimal("320000.00"), "Assets:SZPS:Pool:Risk": Decimal("-320000.00")}
    assert comp.meta["guarantor_share"].number == Decimal("320000.00")
    assert comp.meta["bank_share"].number == Decimal("160000.00")
    assert back.narration == "追偿款补回 SZ-2026-001"
    assert {p.account: p.units.number for p in back.postings}["Assets:SZPS:Pool:Risk"] == Decimal("40000.00")
    assert interest.flag == "*"
    assert {p.account: p.units.number for p in interest.postings} == {
        "Assets:SZPS:Pool:Risk": Decimal("6300.00"), "Income:SZPS:Risk:Interest": Decimal("-6300.00")}


def test_a_fee_like_credit_to_a_pool_without_guarantee_fund_goes_to_suspense(tmp_path: Path) -> None:
    ledger = ledger_before_statement(tmp_path)
    config = tmp_path / "szps-fee.yaml"
    config.write_text(
        CONFIG.read_text(encoding="utf-8").replace("../../../rules.yaml", str(REPO / "rules.yaml"))
        .replace("../szps/main.beancount", str(ledger)) + "  - event: fee\n",
        encoding="utf-8",
    )
    statement = tmp_path / "fee.csv"
    lines = STATEMENT.read_text(encoding="utf-8").splitlines()
    row = lines[1].replace('0.00,"6,300.00","10,012,500.00",人民币,,,', '0.00,"1,000.00","10,007,200.00",人民币,深圳某某精密制造有限公司,,').replace(
        ",结息,三季度结息,", ",转账,助保金,")
    statement.write_text("\n".join([lines[0], row]) + "\n", encoding="utf-8")
    out = tmp_path / "fee.beancount"
    err = io.StringIO()
    assert cli.run_import([statement], configs=[config], ledger=ledger, output=out, err=err) == 0, err.getvalue()
    text = out.read_text(encoding="utf-8")
    assert "待查明" in text and "本项目没有助保金" in text and "Assets:SZPS:Pool:Suspense" in text
