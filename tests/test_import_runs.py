"""An import costs one run of the rule engine: the one the ledger's load already made.

The importer classifies every row from the plugin's analysis of the load (found in the
options map, or by the entries Fava and beangulp pass) plus the rows it has booked so far:
no run per interest credit or recovery, none per statement. Counted by wrapping
``zhubaodai.core.engine._analyse``, which every run goes through.
"""

from __future__ import annotations

import datetime
import io
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import data
from click.testing import CliRunner

from conftest import FavaImportPage
from conftest import importer_fixtures
from zhubaodai.core import engine
from zhubaodai.core.rules import load_rules
from zhubaodai.importers import cli
from zhubaodai.importers.importer import PoolImporter

REPO = Path(__file__).resolve().parent.parent
HERE = REPO / "tests" / "importers"
CQGX = HERE / "pools" / "cqgx.yaml"
BOC = HERE / "pools" / "wlht-boc.yaml"
QUARTER = HERE / "quarter"


fx = importer_fixtures()
Txn = fx.Txn
D = Decimal

#: The test quarter with two more settlements (one mid-quarter, one a week after the
#: quarter's) and a second recovery payment: four interest and recovery rows after a
#: compensation of the same statement.
ROWS = [
    *fx.CQ_Q3[:9],
    Txn("2024-08-21", "02:00:00", D("2345.67"), "", "", "", "结息", "利息调整"),
    fx.CQ_Q3[9],  # the recovery of CQ-2024-007 (its risk fund share)
    Txn("2024-09-12", "10:00:00", D("1000.00"), fx.BANK_BRANCH, "50050110360000000099", "", "追偿款", "CQ-2024-007 追偿款补回"),
    fx.CQ_Q3[10],  # the quarter's settlement
    Txn("2024-09-28", "02:00:00", D("12.34"), "", "", "", "结息", "补记利息"),
]


@pytest.fixture
def ledger(import_ledger: Path) -> Path:
    return import_ledger


@pytest.fixture
def statement(tmp_path: Path) -> Path:
    path = tmp_path / "ccb-2024Q3-more.csv"
    fx.write_csv(path, fx.flat_rows(ROWS, fx.CQ_OPENING))
    return path


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One item per run of the engine from now on."""
    counted: list[int] = []
    real = engine._analyse

    def counting(entries, rulebook, options):
        counted.append(1)
        return real(entries, rulebook, options)

    monkeypatch.setattr(engine, "_analyse", counting)
    return counted


def test_zbd_import_runs_the_engine_once(ledger: Path, statement: Path, runs: list[int]) -> None:
    from zhubaodai.cli import main as zbd

    out = ledger.parent / "import.beancount"
    result = CliRunner().invoke(zbd, ["import", str(statement), "-c", str(CQGX), "-e", str(ledger), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(runs) == 1  # the plugin's, when the ledger was loaded

    txns = [e for e in loader.load_file(str(out))[0] if isinstance(e, data.Transaction)]
    interest = [t for t in txns if t.narration.startswith("结息")]
    assert [(t.date.isoformat(), t.flag) for t in interest] == [
        ("2024-08-21", "*"), ("2024-09-21", "*"), ("2024-09-28", "*")
    ]
    recoveries = [t for t in txns if "追偿" in t.narration]
    assert recoveries[0].narration == "追偿款补回 CQ-2024-007"
    assert {p.account: p.units.number for p in recoveries[0].postings}["Assets:CQGX:Pool:Risk"] == D("92612.80")
    assert recoveries[1].flag == "!" and recoveries[1].narration == (
        "待查明：收入 1,000.00 元像是追偿款，但登记簿中没有尚待补回的追偿（recovery）"
    )
    # The engine, reading the ledger with the import in it, agrees with every split.
    with ledger.open("a", encoding="utf-8") as handle:
        handle.write('\ninclude "import.beancount"\n')
    entries, _, _ = loader.load_file(str(ledger))
    analysis = engine.analyse(entries, load_rules(REPO / "rules.yaml"))
    mine = [a for a in analysis.records.interest if a.entry.meta.get("filename") == str(out)]
    assert len(mine) == 3 and all(a.ok for a in mine)
    assert [a.period_start.isoformat() for a in mine] == ["2024-06-21", "2024-08-21", "2024-09-21"]


def test_a_statement_s_waterfall_rows_cost_one_walk_of_the_ledger_s_waterfall(
    ledger: Path, statement: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the statement's compensation, its recovery rows need the claims and recovery
    shares with that compensation in: the ledger's claims, recoveries and compensations
    are walked through the waterfall's hooks once, and each row booked after is fed to
    that walk, not walked again with all the ledger's (a row per walk would make an
    import's cost rows × ledger)."""
    from zhubaodai.checks import waterfall as hooks
    from zhubaodai.importers import classify

    fed: list[data.Directive] = []
    starts: list[int] = []
    real_start = hooks.start
    real_on_movement = hooks.on_movement
    real_on_register_event = hooks.on_register_event

    def start(ctx):
        starts.append(len(fed))  # where each walk's entries begin in ``fed``
        real_start(ctx)

    def on_movement(ctx, m):
        fed.append(m.entry)
        real_on_movement(ctx, m)

    def on_register_event(ctx, entry):
        fed.append(entry)
        real_on_register_event(ctx, entry)

    monkeypatch.setattr(classify.waterfall, "start", start)
    monkeypatch.setattr(classify.waterfall, "on_movement", on_movement)
    monkeypatch.setattr(classify.waterfall, "on_register_event", on_register_event)
    out = ledger.parent / "import.beancount"
    assert cli.run_import([statement], configs=[CQGX], ledger=ledger, output=out, err=io.StringIO()) == 0
    assert len(starts) == 2  # the load's run, and the import's register events for its walk
    walked = fed[starts[1]:]  # the import's walk
    rows = [e.narration for e in walked if e.meta["filename"] == str(statement)]
    assert rows == ["代偿 CQ-2024-007", "追偿款补回 CQ-2024-007"]
    events = [e.values[0].value for e in walked if isinstance(e, data.Custom)]
    assert events == ["claim", "recovery"]  # the ledger's on CQGX loans, walked with them
    assert len({id(e) for e in walked}) == len(walked)  # each entry walked once


def test_waterfall_rows_fed_to_a_walk_or_walked_anew_give_one_walk_s_figures(ledger: Path, statement: Path) -> None:
    """The statement's compensation and recovery give the claims and recovery figures of
    one walk of both, however they are booked: the recovery fed to the walk made at the
    compensation (it sorts after all walked), or both booked before any walk. A row dated
    before an entry already walked makes the walk start over (ledger order decides)."""
    from zhubaodai.importers import classify

    out = ledger.parent / "import.beancount"
    assert cli.run_import([statement], configs=[CQGX], ledger=ledger, output=out, err=io.StringIO()) == 0
    booked = [e for e in loader.load_file(str(out))[0] if isinstance(e, data.Transaction)]
    compensation = next(e for e in booked if e.narration == "代偿 CQ-2024-007")
    recovery = next(e for e in booked if e.narration == "追偿款补回 CQ-2024-007")
    entries, _, options = loader.load_file(str(ledger))
    rulebook = load_rules(REPO / "rules.yaml")
    program = rulebook.programs["CQGX"]

    def figures(book: classify.Book) -> tuple[list[tuple], list[tuple]]:
        claims = [(c.loan.id, c.due, c.guarantee_paid, c.risk_paid, c.bank_share, len(c.entries)) for c in book.claims()]
        return claims, sorted((loan, dict(owed), dict(got)) for loan, owed, got in book.loan_recoveries())

    both = classify.Ledger(entries, options).baseline(rulebook).book(program)
    both.record(compensation)
    both.record(recovery)
    late = classify.Ledger(entries, options).baseline(rulebook).book(program)
    late.record(recovery)
    late.record(compensation)  # compensated from here: the next reading walks
    late.waterfall()
    assert late.waterfall() is late.waterfall()  # nothing booked since: the same walk
    earlier = classify.Ledger(entries, options).baseline(rulebook).book(program)
    earlier.record(compensation)
    earlier.waterfall()  # walked up to the compensation and the ledger's later events
    earlier.record(recovery)
    assert figures(earlier) == figures(both) == figures(late)
    claims, recoveries = figures(both)
    assert [c[5] for c in claims if c[0] == "CQ-2024-007"] == [1] and recoveries  # both walked in
    # Two rows booked since the walk, the later one first: fed in ledger order.
    again = recovery._replace(date=recovery.date + datetime.timedelta(days=2), meta={**recovery.meta, "lineno": 1})
    fed = classify.Ledger(entries, options).baseline(rulebook).book(program)
    fed.record(compensation)
    fed.waterfall()
    fed.record(again)
    fed.record(recovery)
    walked = classify.Ledger(entries, options).baseline(rulebook).book(program)
    for entry in (compensation, recovery, again):
        walked.record(entry)
    assert figures(fed) == figures(walked) != figures(both)

    restarted = classify.Ledger(entries, options).baseline(rulebook).book(program)
    restarted.record(recovery)
    restarted.record(compensation)
    first = restarted.waterfall()
    dated_before = compensation._replace(date=compensation.date.replace(day=20), meta={**compensation.meta, "lineno": 1})
    restarted.record(dated_before)
    assert restarted.waterfall() is not first  # a row before the walked ones: walked anew
    again = classify.Ledger(entries, options).baseline(rulebook).book(program)
    for entry in (dated_before, recovery, compensation):
        again.record(entry)
    assert figures(restarted) == figures(again)


def test_a_statement_s_working_book_carries_the_kept_one_and_leaves_it_as_it_was(ledger: Path) -> None:
    """Each statement works on a copy of what the statements before it booked (fees,
    subsidies, recoveries, fund movements, waterfall rows): the copy starts from all of
    it, and what the copy books stays out of the kept book until kept."""
    from zhubaodai.importers import classify

    entries, _, options = loader.load_file(str(ledger))
    rulebook = load_rules(REPO / "rules.yaml")
    kept = classify.Ledger(entries, options).baseline(rulebook).book(rulebook.programs["CQGX"])
    kept.fees["CQ-2024-007"] = D("75000.00")
    kept.subsidies["CQ-2024-007"] = D("1500.00")
    kept.recovered["CQ-2024-007"] = {"risk": D("92612.80")}
    kept.moves["risk"].add(datetime.date(2024, 9, 5), D("92612.80"))
    copy = kept.copy()
    assert (copy.fees, copy.subsidies, copy.recovered) == (kept.fees, kept.subsidies, kept.recovered)
    assert copy.moves["risk"].days() == kept.moves["risk"].days() == [(datetime.date(2024, 9, 5), D("92612.80"))]
    copy.fees["CQ-2024-007"] += 1
    copy.subsidies["CQ-2024-007"] += 1
    copy.recovered["CQ-2024-007"]["risk"] += 1
    copy.moves["risk"].add(datetime.date(2024, 9, 6), D("1"))
    assert kept.fees == {"CQ-2024-007": D("75000.00")} and kept.subsidies == {"CQ-2024-007": D("1500.00")}
    assert kept.recovered == {"CQ-2024-007": {"risk": D("92612.80")}} and len(kept.moves["risk"].days()) == 1


def test_an_import_and_zbd_check_write_no_load_cache(
    ledger: Path, statement: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A one-off command reads the ledger from its text: Beancount's default loader would
    pickle the whole load next to the ledger (at 10k transactions that cost more than the
    import itself), and a later load from that cache lacks the plugin's analysis. Beancount
    caches only loads slower than a threshold; set to 0 here, so any cached load writes one."""
    from zhubaodai.cli import main as zbd

    monkeypatch.setattr(loader, "PICKLE_CACHE_THRESHOLD", 0)
    loader.initialize(use_cache=True)
    try:
        caches = lambda: sorted(p.name for p in ledger.parent.glob("*picklecache*"))  # noqa: E731
        result = CliRunner().invoke(zbd, ["import", str(statement), "-c", str(CQGX), "-e", str(ledger),
                                          "-o", str(tmp_path / "out.beancount")])
        assert result.exit_code == 0, result.output
        assert caches() == []
        loader.initialize(use_cache=True)
        result = CliRunner().invoke(zbd, ["check", str(ledger)])
        assert caches() == [], result.output
    finally:
        monkeypatch.undo()
        loader.initialize(use_cache=True)


def test_a_quarter_of_statements_and_another_pool_in_one_run_cost_one_run(ledger: Path, runs: list[int]) -> None:
    """Each statement sees the rows of those before it (the September settlement the 积数
    of July and August, the September recovery the August compensation) without the
    engine running again."""
    months = [QUARTER / "ccb-2024-07.csv", QUARTER / "ccb-2024-08.xlsx", QUARTER / "ccb-2024-09.xls"]
    result = cli.extract_statements([*months, HERE / "boc" / "boc-2024Q3.csv"], configs=[CQGX, BOC], ledger=ledger)
    assert len(runs) == 1
    assert len(result.extractions) == 4
    narrations = [e.narration for e in result.entries if isinstance(e, data.Transaction)]
    assert "追偿款补回 CQ-2024-007" in narrations and "结息（计息期至 2024-09-20）" in narrations


def test_existing_entries_from_a_load_cost_no_run(ledger: Path, statement: Path, runs: list[int]) -> None:
    """Fava's import page passes the entries of its load (and keeps the load's options
    map, which holds the plugin's result): the plugin's analysis is found by them."""
    entries, _, options = loader.load_file(str(ledger))
    assert len(runs) == 1
    cli_entries = cli.extract_statements([statement], configs=[CQGX], ledger=ledger).entries
    del runs[:]
    importer = PoolImporter(CQGX)
    plain = importer.extract(str(statement), entries)
    assert len(runs) == 0
    importer.sort(plain)  # as beangulp and the command line do
    assert plain == cli_entries
    with ledger.open("a", encoding="utf-8") as handle:  # what Fava needs to save suspense rows
        handle.write("\n2021-01-01 open Income:CQGX:Unidentified CNY\n2021-01-01 open Expenses:CQGX:Unidentified CNY\n")
    entries, _, options = loader.load_file(str(ledger))
    del runs[:]
    fava = PoolImporter(CQGX, fava=True).extract(str(statement), entries)
    assert len(runs) == 0
    assert len([e for e in fava if isinstance(e, data.Transaction)]) == len(ROWS)


def test_beangulp_extract_command_costs_one_run_beyond_its_load(ledger: Path, tmp_path: Path, runs: list[int]) -> None:
    """beangulp's own ``extract -e`` keeps only the entries of its load (the options map,
    and with it the plugin's result, is gone): the importer analyses them once, for all
    the files, and no more per row."""
    import beangulp

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    # Each file is extracted against the ledger alone: the same quarter twice, the other pool's.
    for path in (HERE / "ccb-flat" / "ccb-flat-utf8.csv", HERE / "ccb-detail" / "ccb-detail.xls", HERE / "boc" / "boc-2024Q3.csv"):
        shutil.copy(path, inbox / path.name)
    ingest = beangulp.Ingest([PoolImporter(CQGX), PoolImporter(BOC)])
    result = CliRunner().invoke(ingest.cli, ["extract", str(inbox), "-e", str(ledger)])
    assert result.exit_code == 0, result.output
    assert result.output.count("追偿款补回 CQ-2024-007") == 2
    assert len(runs) <= 2  # the load's and, its result dropped with the options map, one here


def test_configured_ledger_costs_its_load_only(statement: Path, runs: list[int]) -> None:
    """beangulp.testing passes no entries: the ledger of the pool configuration is loaded,
    and its load's analysis used."""
    PoolImporter(CQGX).extract(str(statement), [])
    assert len(runs) == 1


def test_without_the_plugin_the_importer_runs_the_engine_once(ledger: Path, statement: Path, runs: list[int]) -> None:
    text = ledger.read_text(encoding="utf-8")
    ledger.write_text("\n".join(line for line in text.splitlines() if not line.startswith("plugin ")), encoding="utf-8")
    out = ledger.parent / "import.beancount"
    assert cli.run_import([statement], configs=[CQGX], ledger=ledger, output=out, err=io.StringIO()) == 0
    assert len(runs) == 1  # the importer's own: the load ran no plugin


def test_a_hand_kept_settlement_after_the_statement_does_not_move_its_period(ledger: Path, runs: list[int]) -> None:
    """The ledger already holds a later settlement (kept by hand, after the statement's
    period): the statement's credit is split over the period after the settlement before
    it, as the engine reads it in ledger order, not after the ledger's last one."""
    with (ledger.parent / "cqgx.beancount").open("a", encoding="utf-8") as handle:
        handle.write(
            '\n2024-12-21 * "中国建设银行" "2024年第四季度结息（手工）"\n  period_end: 2024-12-20\n'
            "  Assets:CQGX:Pool:Guarantee        100.00 CNY\n  Income:CQGX:Guarantee:Interest   -100.00 CNY\n"
        )
    out = ledger.parent / "import.beancount"
    assert cli.run_import([HERE / "ccb-flat" / "ccb-flat-utf8.csv"], configs=[CQGX], ledger=ledger, output=out,
                          err=io.StringIO()) == 0
    assert len(runs) == 1
    with ledger.open("a", encoding="utf-8") as handle:
        handle.write('\ninclude "import.beancount"\n')
    entries, _, _ = loader.load_file(str(ledger))
    analysis = engine.analyse(entries, load_rules(REPO / "rules.yaml"))
    (q3,) = [a for a in analysis.records.interest if a.entry.date.isoformat() == "2024-09-21"]
    assert q3.ok and q3.period_start.isoformat() == "2024-06-21"


def test_fava_import_page_costs_no_run(
    ledger: Path, statement: Path, tmp_path: Path, runs: list[int], fava_import_page: FavaImportPage
) -> None:
    """Fava 1.30's own ingest module, as its import page extracts: no run beyond Fava's load."""
    from fava.core import FavaLedger

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(statement, inbox / "ccb.csv")
    fava_import_page.setup(ledger, inbox)
    fava = FavaLedger(str(ledger))
    fava.ingest.load_file()
    assert len(runs) == 1  # Fava's load of the ledger
    entries = fava.ingest.extract(str(inbox / "ccb.csv"), "CQGX 专户对账单")
    assert len(runs) == 1
    assert len([e for e in entries if isinstance(e, data.Transaction)]) == len(ROWS)


def test_a_fund_s_moves_answer_as_a_sum_over_every_row_would() -> None:
    """FundMoves keeps running sums (rows booked in any order, several on a day) and
    answers each balance, 积数 and first day exactly as a plain sum over the rows would."""
    import random

    from zhubaodai.importers.classify import FundMoves

    rng = random.Random(9)
    moves = FundMoves()
    rows: list[tuple[datetime.date, Decimal]] = []
    base = datetime.date(2024, 1, 1)
    assert moves.at(base) == 0 and moves.jishu(base, base) == 0 and moves.first_before(base) is None
    for _ in range(60):
        day = base + datetime.timedelta(days=rng.randrange(40))
        amount = Decimal(rng.randrange(-500000, 500000)) / 100
        moves.add(day, amount)
        rows.append((day, amount))
        spans = ((0, 39), (5, 5), (10, 3), (-3, 45), (rng.randrange(40), rng.randrange(40)))
        for start, end in ((base + datetime.timedelta(days=a), base + datetime.timedelta(days=b)) for a, b in spans):
            plain = sum((n * ((end - max(d, start)).days + 1) for d, n in rows if d <= end), Decimal(0))
            assert moves.jishu(start, end) == (plain if end >= start else 0)
            assert moves.at(end) == sum((n for d, n in rows if d <= end), Decimal(0))
        first = min(d for d, _ in rows)
        assert moves.first_before(first + datetime.timedelta(days=1)) == first and moves.first_before(first) is None
    by_day: dict[datetime.date, Decimal] = {}
    for d, n in rows:
        by_day[d] = by_day.get(d, Decimal(0)) + n
    assert moves.days() == sorted(by_day.items())


def test_a_program_without_a_guarantee_fund_keeps_its_risk_fund_rows() -> None:
    """SZPS has no guarantee fund: a row booked on its risk fund still counts in the fund
    as the import sees it (the missing fund is passed over, not the ones after it)."""
    from beancount.parser import parser

    from zhubaodai.importers import classify

    common = REPO / "tests" / "ledgers" / "common" / "szps.beancount"
    entries, _, options = loader.load_string(f'option "operating_currency" "CNY"\ninclude "{common}"\n')
    rulebook = load_rules(REPO / "rules.yaml")
    book = classify.Ledger(entries, options).baseline(rulebook).book(rulebook.programs["SZPS"])
    (row,), _, _ = parser.parse_string(
        '2026-03-02 * "坪山区财政局" "注入风险补偿金"\n'
        "  Assets:SZPS:Pool:Risk            100.00 CNY\n"
        "  Income:SZPS:Risk:Injection      -100.00 CNY\n"
    )
    book.record(row)
    assert book.moves["risk"].days() == [(datetime.date(2026, 3, 2), Decimal("100.00"))]
    assert book.balance("risk", datetime.date(2026, 3, 2)) == Decimal("100.00")
