"""The generators read programs from rules.yaml (issue #10): a synthetic ledger and a demo
of every program pass bean-check with no finding (warnings included) and show the
program's shapes, and a program added to a copy of rules.yaml needs no generator code."""

from __future__ import annotations

import copy
import datetime
import io
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from beancount import loader
from beancount.core.amount import Amount
from beancount.core.data import Custom
from beancount.core.data import Transaction

from zhubaodai.core.engine import analyse
from zhubaodai.core.rules import Program
from zhubaodai.core.rules import load_rules
from zhubaodai.scripts.gen_demo import write_program_demo
from zhubaodai.scripts.ledgergen import GenerationError
from zhubaodai.scripts.ledgergen import generate

REPO = Path(__file__).resolve().parent.parent
RULES = REPO / "rules.yaml"
RULEBOOK = load_rules(str(RULES))
BEAN_CHECK = Path(sys.executable).with_name("bean-check")
LOANS = 40


def bean_check(path: Path) -> None:
    exe = str(BEAN_CHECK) if BEAN_CHECK.exists() else shutil.which("bean-check")
    result = subprocess.run([exe, "-C", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[:2000] + result.stderr[:2000]
    assert result.stdout.strip() == ""


def load_clean(path: Path, rules: Path = RULES):
    """The ledger's entries and the engine's analysis, asserting no finding at all."""
    entries, errors, _ = loader.load_file(str(path))
    assert errors == []
    analysis = analyse(entries, load_rules(str(rules)))
    assert [str(f) for f in analysis.findings] == []  # warnings included
    return entries, analysis


def loan_events(entries, event: str) -> list[Custom]:
    return [e for e in entries if isinstance(e, Custom) and e.type == "loan" and e.values[0].value == event]


def touching(entries, account: str) -> list[Transaction]:
    return [e for e in entries if isinstance(e, Transaction) and any(p.account.startswith(account) for p in e.postings)]


def amount_of(value) -> Decimal:
    return value.number if isinstance(value, Amount) else Decimal(str(value))


def assert_shapes(program: Program, entries, analysis, day: datetime.date) -> None:
    """What a generated ledger of ``program`` must show, read from its rules alone."""
    accounts = program.accounts
    rules = program.rules
    loans = [loan for loan in analysis.register.loans.values()]
    assert loans and {loan.program for loan in loans} == {program.code}
    kinds = Counter(e.kind for loan in loans for e in loan.events)
    for kind in ("approval", "contract", "disbursement", "repayment", "settlement", "overdue", "claim"):
        assert kinds[kind] > 0, kind
    compensations = [
        t for t in touching(entries, accounts["risk_fund"]) + touching(entries, accounts.get("guarantee_fund", "-"))
        if any(p.account in (accounts.get("compensation_risk"), accounts.get("compensation_guarantee")) for p in t.postings)
    ]
    assert compensations, "no compensation"
    if "fee.rate" in rules:
        fees = [t for t in touching(entries, accounts["fee_income"]) if t.postings[0].account == accounts["guarantee_fund"]]
        assert fees, "no fee"
    if "comp.shares" in rules:
        table = rules["comp.shares"].params["parties"].at(day)
        outside = [row.meta_key for row in table if not row.pool]
        assert any(all(key in t.meta for key in outside) for t in compensations), outside
    elif "comp.waterfall" in rules:
        # The risk fund pays only a shortfall of the guarantee fund, with the bank's share beside it.
        risk_paid = [t for t in compensations if any(p.account == accounts["compensation_risk"] for p in t.postings)]
        assert all("bank_share" in t.meta for t in risk_paid)
    trigger = rules["comp.scope"].params["trigger"].at(day) if "comp.scope" in rules and "trigger" in rules["comp.scope"].params else None
    if trigger == "npl":
        assert kinds["npl"] > 0
    if "deposit.pledge" in rules:
        moves = touching(entries, accounts["deposits"])
        assert any(t.postings[0].units.number > 0 for t in moves), "no pledge"
        assert any(
            t.postings[0].units.number < 0 and t.postings[1].account == accounts["deposit_source"] for t in moves
        ), "no release"
        assert any(p.account == accounts["compensation_deposit"] for t in moves for p in t.postings), "deposit not used"
    injections = [t for t in touching(entries, accounts["injection"])]
    assert injections
    if "risk.funders" in rules:
        names = {name for name, _ in rules["risk.funders"].params["shares"].at(day)}
        assert {t.meta.get("funder") for t in injections} == names
    if "outflow.subsidy" in rules:
        assert touching(entries, accounts["outflow_subsidy"]), "no subsidy"
    if "comp.fee_cap" in rules:
        assert kinds["guarantee_fee"] > 0
    if "risk.topup" in rules:
        risk_comp = [t for t in compensations if any(p.account == accounts["compensation_risk"] for p in t.postings)]
        assert any(i.date >= risk_comp[0].date and i.date.year == risk_comp[0].date.year for i in injections)
    if "eligibility" in rules:
        assert kinds["approval"] == len(loans)


def assert_recoveries(program: Program, entries, analysis) -> None:
    """Recoveries where the program can have them (every program: by recovery.order, by its
    table of parties, or, without either rule, back to the funds in proportion to what each
    paid): the pool's part arrives on the recovery accounts, never more than a fund paid for
    the loan; with comp.shares' residual the loss after recovery is shared (``loss``)."""
    accounts = program.accounts
    recovered = loan_events(entries, "recovery")
    assert recovered, "no recovery"
    paid: Counter = Counter()
    back: Counter = Counter()
    for t in entries:
        if not isinstance(t, Transaction):
            continue
        for p in t.postings:
            for fund in ("guarantee", "risk"):
                (loan,) = t.links or ("-",)
                if p.account == accounts.get(f"compensation_{fund}"):
                    paid[loan, fund] += p.units.number
                elif p.account == accounts.get(f"recovery_{fund}"):
                    back[loan, fund] -= p.units.number
    assert back, "no recovery cash"
    assert all(0 < amount <= paid[key] for key, amount in back.items()), (back, paid)
    assert {loan for loan, _ in back} <= {e.values[1].value for e in recovered}
    rules = program.rules
    if "recovery.order" in rules or "comp.shares" in rules:
        # The engine distributed them: the same parts it expects (a clean ledger says no
        # more and no less arrived).
        assert analysis.records.recoveries and all(r.parts for r in analysis.records.recoveries)
    if "comp.shares" in rules and "residual" in rules["comp.shares"].params:
        losses = loan_events(entries, "loss")
        assert losses, "no loss shared after recovery"
        assert {e.values[1].value for e in losses} & {e.values[1].value for e in recovered}


@pytest.mark.parametrize("code", list(RULEBOOK.programs))
def test_every_program_recovers_and_stays_clean(code, tmp_path):
    """Issue 10: recoveries for every program, by its own rule or its table of parties."""
    path = tmp_path / f"{code}.beancount"
    stats = generate(path, loans=300, seed=1, programs=code)
    assert stats.recoveries > 0
    bean_check(path)
    entries, analysis = load_clean(path)
    assert_recoveries(RULEBOOK.programs[code], entries, analysis)


@pytest.mark.parametrize("code", list(RULEBOOK.programs))
def test_every_program_generates_a_clean_ledger_with_its_shapes(code, tmp_path):
    path = tmp_path / f"{code}.beancount"
    stats = generate(path, loans=LOANS, seed=1, programs=code)
    assert stats.loans > 0 and stats.defaults > 0
    bean_check(path)
    entries, analysis = load_clean(path)
    program = RULEBOOK.programs[code]
    assert_shapes(program, entries, analysis, max(stats.start, program.effective))


def test_all_programs_at_a_thousand_transactions(tmp_path):
    """The benchmark's smallest size with every program (no time is asserted)."""
    path = tmp_path / "all.beancount"
    stats = generate(path, transactions=1000, seed=1, programs="all")
    assert 990 <= stats.transactions <= 1010
    bean_check(path)
    entries, analysis = load_clean(path)
    assert {loan.program for loan in analysis.register.loans.values()} == set(RULEBOOK.programs)


def test_program_choice_is_checked():
    with pytest.raises(GenerationError, match="没有项目：NOPE"):
        generate(io.StringIO(), loans=5, programs="CQGX,NOPE")
    with pytest.raises(GenerationError, match="项目代码"):
        generate(io.StringIO(), loans=5, programs=" , ")


def test_same_seed_same_bytes_for_chosen_programs():
    a, b = io.StringIO(), io.StringIO()
    generate(a, loans=30, seed=4, programs="GSBY,HKJB")
    generate(b, loans=30, seed=4, programs="GSBY,HKJB")
    assert a.getvalue() == b.getvalue()


def test_cli_programs_option(tmp_path):
    out = tmp_path / "x.beancount"
    ok = subprocess.run(
        [sys.executable, "-m", "zhubaodai.scripts.ledgergen", "--loans", "20", "--programs", "WZS,LNYQ", "-o", str(out)],
        capture_output=True, text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert "WZS-" in out.read_text(encoding="utf-8") and "LNYQ-" in out.read_text(encoding="utf-8")
    bad = subprocess.run(
        [sys.executable, "-m", "zhubaodai.scripts.ledgergen", "--loans", "20", "--programs", "XX", "-o", str(tmp_path / "y")],
        capture_output=True, text=True,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("错误：") and "Traceback" not in bad.stderr


@pytest.mark.parametrize("code", list(RULEBOOK.programs))
def test_every_program_has_a_clean_demo(code, tmp_path):
    written = write_program_demo(code, tmp_path)
    main = tmp_path / "main.beancount"
    assert main in written and (tmp_path / code.lower() / "accounts.beancount") in written
    bean_check(main)
    load_clean(main)


def test_demo_refuses_to_overwrite_and_speaks_chinese(tmp_path):
    write_program_demo("GSBY", tmp_path)
    with pytest.raises(GenerationError, match="已存在.*--force"):
        write_program_demo("GSBY", tmp_path)
    write_program_demo("GSBY", tmp_path, force=True)
    cli = [sys.executable, "-m", "zhubaodai.scripts.gen_demo", "--program", "GSBY", "--output", str(tmp_path)]
    result = subprocess.run(cli, capture_output=True, text=True)
    assert result.returncode != 0 and "已存在" in result.stderr and "--force" in result.stderr
    result = subprocess.run(cli[:5], capture_output=True, text=True)
    assert result.returncode != 0 and "--output" in result.stderr and "Traceback" not in result.stderr
    result = subprocess.run([*cli[:4], "NOPE", "--output", str(tmp_path / "n")], capture_output=True, text=True)
    assert result.returncode != 0 and "没有项目 NOPE" in result.stderr
    result = subprocess.run([*cli[:5], "--output", str(REPO / "ledger"), "--force"], capture_output=True, text=True)
    assert result.returncode != 0 and "精编演示账本" in result.stderr  # ledger/ is never overwritten
    help_text = subprocess.run([*cli[:3], "--help"], capture_output=True, text=True).stdout
    assert "演示账本" in help_text and "--program" in help_text


# --------------------------------------------------------------------------------------
# THE point: a new program in rules.yaml, no generator code.


def _rules_with_copy(tmp_path: Path, source: str, code: str, name: str, edit: Callable[[dict], None]) -> Path:
    """A copy of rules.yaml (and its calendar) in ``tmp_path`` with program ``code``: the
    block of ``source`` under its own name and accounts (Assets:<code>:…), changed by ``edit``
    (given the block's rules)."""
    data = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    test = copy.deepcopy(data["programs"][source])
    test["name"] = name
    test["accounts"] = {role: account.replace(f":{source}:", f":{code}:") for role, account in test["accounts"].items()}
    edit(test["rules"])
    data["programs"][code] = test
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    shutil.copy(REPO / data["calendar"], tmp_path / data["calendar"])
    return path


def _rules_with_test_program(tmp_path: Path) -> Path:
    """A copy of rules.yaml (and its calendar) with program TEST: GSBY's block under new
    accounts (Assets:TEST:…), a 3% fee instead of 4%, the risk fund bearing 60% of the
    shortfall instead of half, and funders 1:1 instead of 1:0.5."""

    def edit(rules: dict) -> None:
        (first,) = rules["fee.rate"]["params"]["rate"]["values"]
        rules["fee.rate"]["params"]["rate"]["values"][first] = 0.03
        rules["comp.waterfall"]["params"]["risk_share"]["values"] = {first: 0.6}
        rules["risk.funders"]["params"]["shares"]["values"] = {first: {"省级": 1, "区级": 1}}

    return _rules_with_copy(tmp_path, "GSBY", "TEST", "测试市小微企业互助贷款风险补偿基金", edit)


def test_a_new_program_needs_no_generator_code(tmp_path):
    rules = _rules_with_test_program(tmp_path)
    program = load_rules(str(rules)).programs["TEST"]
    ledger = tmp_path / "test.beancount"
    stats = generate(ledger, loans=LOANS, seed=2, programs="TEST", rules=rules)
    bean_check(ledger)
    entries, analysis = load_clean(ledger, rules)
    assert_shapes(program, entries, analysis, max(stats.start, program.effective))
    text = ledger.read_text(encoding="utf-8")
    assert "Assets:TEST:Pool:Risk" in text and "GSBY" not in text
    # Its own figures: 3% on unsecured one-year loans (+1% a year), funders 1:1, the risk fund 60%.
    assert "× 3%" in text and "× 6%" not in text  # GSBY: 4% + 1% a year (4%, 5%, 6%)
    injections = touching(entries, program.accounts["injection"])
    by_funder = Counter()
    for t in injections:
        by_funder[t.meta["funder"]] += t.postings[0].units.number
    assert abs(by_funder["省级"] - by_funder["区级"]) <= Decimal("0.01")
    shares = [
        (t.postings, amount_of(t.meta["bank_share"])) for t in touching(entries, program.accounts["compensation_risk"])
        if "bank_share" in t.meta
    ]
    assert shares
    for postings, bank in shares:
        risk = next(p.units.number for p in postings if p.account == program.accounts["compensation_risk"])
        assert risk > bank  # 60% against 40% of the shortfall
    # And its demo, from the same rules.
    demo = tmp_path / "demo"
    write_program_demo("TEST", demo, rules=rules)
    bean_check(demo / "main.beancount")
    load_clean(demo / "main.beancount", rules)
    assert (demo / "test" / "accounts.beancount").read_text(encoding="utf-8").count("Assets:TEST:") >= 4


# --------------------------------------------------------------------------------------
# The guarantee fund as a paying party of a table (comp.shares): it holds only what the
# enterprises paid, so the generator plans each default within what it holds.


def _rules_with_guarantee_table(tmp_path: Path) -> Path:
    """A copy of rules.yaml with program TGS: GSBY's block (fees into the guarantee fund)
    whose compensations are borne by a table, the guarantee fund 60%, the risk fund 30%,
    the bank the rest, and a fee of 1% (2% for unsecured loans): the guarantee fund is
    small against its part of a default, so the plan binds."""

    def edit(rules: dict) -> None:
        first = next(iter(rules["comp.waterfall"]["params"]["risk_share"]["values"]))
        del rules["comp.waterfall"]
        for name, rate in (("rate", 0.02), ("secured_rate", 0.01), ("extra_year", 0)):
            values = rules["fee.rate"]["params"][name]["values"]
            for day in values:
                values[day] = rate
        rules["comp.shares"] = {
            "severity": "error",
            "article": "测试条款",
            "summary": "测试：代偿由助保金、风险补偿金与合作银行按比例分担。",
            "reading": "测试用的分担表。",
            "params": {"parties": {"article": "测试条款", "values": {first: {"guarantee": 0.6, "risk": 0.3, "bank": "rest"}}}},
        }

    return _rules_with_copy(tmp_path, "GSBY", "TGS", "测试市助保金分担试点", edit)


def test_the_guarantee_fund_in_a_table_never_pays_more_than_it_holds(tmp_path, monkeypatch):
    rules = _rules_with_guarantee_table(tmp_path)
    program = load_rules(str(rules)).programs["TGS"]
    ledger = tmp_path / "tgs.beancount"
    stats = generate(ledger, loans=40, seed=4, programs="TGS", rules=rules)
    assert stats.defaults > 0
    bean_check(ledger)
    entries, analysis = load_clean(ledger, rules)
    paid_by_fund = [
        t for t in touching(entries, program.accounts["compensation_guarantee"])
        if any(p.account == program.accounts["guarantee_fund"] and p.units.number < 0 for p in t.postings)
    ]
    assert paid_by_fund and all("bank_share" in t.meta for t in paid_by_fund)
    # It binds: planned without regard to the fund, a compensation would overdraw it.
    from zhubaodai.scripts import synth

    monkeypatch.setattr(synth.ProgramSynthesizer, "_guarantee_free", lambda self, code: Decimal("1e12"))
    with pytest.raises(GenerationError, match="助保金余额 .* 元不足以支付其分担部分"):
        generate(io.StringIO(), loans=40, seed=4, programs="TGS", rules=rules)


# --------------------------------------------------------------------------------------
# evidence.missing with documents required: the generator writes placeholder files.


def _rules_with_evidence_required(tmp_path: Path, since: str) -> Path:
    """A copy of rules.yaml with program TEV: CQGX's block under new accounts whose
    evidence.missing requires documents from ``since`` on (CQGX itself: never)."""

    def edit(rules: dict) -> None:
        rules["evidence.missing"]["params"]["required"]["values"][datetime.date.fromisoformat(since)] = True

    return _rules_with_copy(tmp_path, "CQGX", "TEV", "测试区助保贷授权文件试点", edit)


def test_required_evidence_is_written_beside_the_ledger(tmp_path):
    rules = _rules_with_evidence_required(tmp_path, "2023-01-01")
    out = tmp_path / "out"
    out.mkdir()
    ledger = out / "tev.beancount"
    stats = generate(ledger, loans=150, seed=2, programs="TEV", rules=rules)
    assert stats.defaults > 0
    bean_check(ledger)
    entries, analysis = load_clean(ledger, rules)
    since = datetime.date(2023, 1, 1)
    approvals = loan_events(entries, "approval")
    assert any(e.date < since for e in approvals) and any(e.date >= since for e in approvals)
    assert all(("evidence" in e.meta) == (e.date >= since) for e in approvals)
    needing = [e for e in loan_events(entries, "claim") + loan_events(entries, "committee") if e.date >= since]
    needing += [t for t in touching(entries, "Expenses:TEV") if "代偿" in t.narration and t.date >= since]
    assert any(isinstance(e, Transaction) for e in needing) and all("evidence_sha256" in e.meta for e in needing)
    files = sorted((out / "evidence").iterdir())
    assert files and all(f.stat().st_size < 1000 for f in files)
    assert {e.meta["evidence"] for e in needing + approvals if "evidence" in e.meta} == {f"evidence/{f.name}" for f in files}
    # The files are what the rule reads: one changed, the rule reports it.
    files[0].write_text("另一份文件", encoding="utf-8")
    entries, _, _ = loader.load_file(str(ledger))
    findings = analyse(entries, load_rules(str(rules))).findings
    assert [f.rule for f in findings] and {f.rule for f in findings} == {"evidence.missing"}
    # A stream has no folder beside it for the files: a Chinese error before anything is written.
    with pytest.raises(GenerationError, match="TEV 要求附授权文件.*请给出账本文件路径"):
        generate(io.StringIO(), loans=10, seed=2, programs="TEV", rules=rules)
