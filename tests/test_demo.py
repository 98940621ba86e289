"""The committed demo ledger (ledger/): error-free with exactly one deliberate warning,
reproducible from scripts/gen_demo.py, telling the story the issues ask for (both
programs, ≥30 loans, increases, renewals, repayments, quarterly interest and statements,
two compensations, one recovery, a blacklisting in each program), and exercising every
rule of rules.yaml it can (see RULE_READS for what "exercised" means)."""

from __future__ import annotations

import datetime
import shutil
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core.data import Balance
from beancount.core.data import Transaction

from zhubaodai.core.engine import GUARANTEE
from zhubaodai.core.engine import RISK
from zhubaodai.core.engine import analyse
from zhubaodai.core.engine import result_of
from zhubaodai.core.findings import WARNING
from zhubaodai.core.register import REGISTER_TYPES
from zhubaodai.core.rules import load_rules
from zhubaodai.scripts.ledgergen import add_months
from zhubaodai.scripts.ledgergen import workdays

REPO = Path(__file__).resolve().parent.parent
LEDGER_DIR = REPO / "ledger"
MAIN = LEDGER_DIR / "main.beancount"
#: The second demo: one program per structural family of issue #10 (hand-written).
SHAPES = LEDGER_DIR / "shapes.beancount"
RULES = REPO / "rules.yaml"
BEAN_CHECK = Path(sys.executable).with_name("bean-check")
FIRST = datetime.date(2024, 1, 1)
LAST = datetime.date(2025, 12, 31)


@pytest.fixture(scope="module")
def loaded():
    entries, errors, options = loader.load_file(str(MAIN))
    return entries, errors, options


@pytest.fixture(scope="module")
def analysis(loaded):
    entries, _, _ = loaded
    return analyse(entries, load_rules(str(RULES)))


@pytest.fixture(scope="module")
def shapes_analysis():
    entries, errors, _ = loader.load_file(str(SHAPES))
    assert errors == []
    return analyse(entries, load_rules(str(RULES)))


def test_bean_check_uncached_is_clean():
    bean_check = str(BEAN_CHECK) if BEAN_CHECK.exists() else shutil.which("bean-check")
    result = subprocess.run([bean_check, "-C", str(MAIN)], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == ""


def test_no_errors_and_exactly_the_one_deliberate_warning(loaded, analysis):
    """CQ-2025-001's contract (2025-01-16) at 3.80%, above 1.2 × the 1-year LPR of
    2024-10-21 (3.10% → 3.72%): loan.rate, a warning (第十二条 “原则上”), explained by the
    accountant's comment above it and its explanation (``note:``) on it. Nothing else, errors or warnings."""
    _, errors, _ = loaded
    assert errors == []
    assert analysis.errors == []
    assert [(f.rule, f.severity, f.program, f.loan, f.date) for f in analysis.findings] == [
        ("loan.rate", WARNING, "CQGX", "CQ-2025-001", datetime.date(2025, 1, 16))
    ], [str(f) for f in analysis.findings]
    (warning,) = analysis.findings
    assert "3.72%" in warning.message and "第十二条" in warning.citation
    text = Path(warning.filename).read_text(encoding="utf-8").splitlines()
    assert text[warning.lineno - 1] == '2025-01-16 custom "loan" "contract" "CQ-2025-001"'
    comment = text[warning.lineno - 2]
    assert comment.startswith("; ") and "loan.rate" in comment and "3.72%" in comment
    # The accountant's explanation is on the entry, as metadata the review pages show.
    assert "原则上" in warning.entry.meta["note"]


SHAPES = LEDGER_DIR / "shapes.beancount"


def shapes_files() -> set[Path]:
    """shapes.beancount and every file in the folders it includes from (relative paths)."""
    if not SHAPES.exists():
        return set()
    folders = {
        Path(line.split('"')[1]).parent
        for line in SHAPES.read_text(encoding="utf-8").splitlines()
        if line.startswith("include ")
    }
    found = {Path("shapes.beancount")}
    for folder in folders:
        found |= {p.relative_to(LEDGER_DIR) for p in (LEDGER_DIR / folder).rglob("*") if p.is_file()}
    return found


def test_the_shapes_demo_passes_bean_check_and_its_own_rules():
    """The second demo (other districts' shapes) passes bean-check; each of its programs
    exercises the rules it configures in a story that passes (warnings only where the story
    wants them)."""
    bean_check = str(BEAN_CHECK) if BEAN_CHECK.exists() else shutil.which("bean-check")
    result = subprocess.run([bean_check, "-C", str(SHAPES)], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr
    entries, errors, options = loader.load_file(str(SHAPES))
    shapes = result_of(options)
    assert errors == [] and shapes is not None
    assert [f for f in shapes.findings if f.severity == "error"] == []
    for code in shapes.used_programs():
        assert code not in ("CQGX", "WLHT"), "the shapes demo holds the other districts' programs only"
    # SZPS (坪山): a compensation borne by its table, the pool's excess back after a recovery.
    if "SZPS" in shapes.used_programs():
        (shared,) = shapes.records.shares["SZ-2026-001"]
        assert shared.paid == {"risk": Decimal("320000.00"), "guarantor": Decimal("320000.00"),
                               "bank": Decimal("160000.00")}
        back = shapes.records.loan_recoveries["SZ-2026-001"]
        assert back.expected[RISK] == back.received[RISK] == Decimal("40000.00")
        assert shapes.records.payouts["SZPS"].guarantor == Decimal("320000.00")


def test_regenerating_reproduces_the_committed_files(tmp_path):
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "zhubaodai.scripts.gen_demo", "-o", str(out)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    generated = {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    # The second demo (shapes.beancount and the files it includes) is written by hand.
    hand_written = {Path("shapes.beancount")} | {
        Path(line.split('"')[1]) for line in SHAPES.read_text(encoding="utf-8").splitlines() if line.startswith("include ")
    }
    committed = {
        p.relative_to(LEDGER_DIR): p.read_bytes()
        for p in sorted(LEDGER_DIR.rglob("*"))
        if p.is_file() and p.relative_to(LEDGER_DIR) not in hand_written
    }
    assert sorted(generated) == sorted(committed)
    for rel, data in generated.items():
        assert data == committed[rel], f"ledger/{rel} differs from scripts/gen_demo.py's output: regenerate it"


def test_regenerating_refuses_to_overwrite(tmp_path):
    (tmp_path / "cqgx").mkdir()
    kept = tmp_path / "cqgx" / "2024.beancount"
    kept.write_text("; mine\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "zhubaodai.scripts.gen_demo", "-o", str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "已存在" in result.stderr and "--force" in result.stderr
    assert "Traceback" not in result.stderr
    assert kept.read_text(encoding="utf-8") == "; mine\n"


def test_layout_per_program_and_year():
    text = MAIN.read_text(encoding="utf-8")
    assert 'option "operating_currency" "CNY"' in text
    assert "plugin \"zhubaodai.plugin\" \"{'rules': '../rules.yaml'}\"" in text
    assert 'custom "fava-option" "language" "zh"' in text
    for folder in ("cqgx", "wlht"):
        for name in ("accounts", "2024", "2025"):
            assert f'include "{folder}/{name}.beancount"' in text
            assert (LEDGER_DIR / folder / f"{name}.beancount").is_file()


def test_both_programs_and_at_least_thirty_loans(analysis):
    loans = analysis.register.loans
    assert len(loans) >= 30
    by_program = Counter(loan.program for loan in loans.values())
    assert set(by_program) == {"CQGX", "WLHT"}
    assert min(by_program.values()) >= 10
    years = {loan.approval.date.year for loan in loans.values()}
    assert years == {2024, 2025}


def test_loan_events_of_every_kind(analysis):
    kinds = Counter(e.kind for loan in analysis.register.loans.values() for e in loan.events)
    for kind in ("approval", "contract", "disbursement", "increase", "renewal", "repayment", "settlement",
                 "overdue", "confirmation", "claim", "recovery"):
        assert kinds[kind] >= 1, kind
    renewed = {loan.program for loan in analysis.register.loans.values() if loan.of("renewal")}
    assert renewed == {"CQGX", "WLHT"}
    increased = {loan.program for loan in analysis.register.loans.values() if loan.of("increase")}
    assert increased == {"CQGX", "WLHT"}


def test_two_compensations_one_reaching_the_risk_fund(analysis):
    claims = [c for c in analysis.records.claims.values() if c.guarantee_done or c.risk_done]
    assert len(claims) == 2
    full = [c for c in claims if c.risk_paid == 0]
    shared = [c for c in claims if c.risk_paid > 0]
    assert len(full) == 1 and len(shared) == 1
    assert full[0].guarantee_paid == full[0].due
    s = shared[0]
    # The guarantee fund paid everything it had: nothing left of it right after.
    comp_day = s.entries[0].date
    state = analysis.programs[s.loan.program]
    assert state.funds[GUARANTEE].at(comp_day) == 0
    assert s.bank_share > 0
    assert s.guarantee_paid + s.risk_paid + s.bank_share == s.due
    assert s.uncovered == 0
    meta = s.entries[0].meta["bank_share"]
    assert meta.number == s.bank_share


def test_one_recovery_goes_to_the_bank_then_the_risk_fund(analysis):
    recoveries = analysis.records.recoveries
    assert len(recoveries) == 1
    r = recoveries[0]
    assert r.parts["bank"] > 0 and r.parts["risk"] > 0 and r.parts["guarantee"] == 0
    assert r.parts["bank"] + r.parts["risk"] == r.net and r.excess == 0
    arrived = analysis.programs[r.loan.program].flows[(RISK, "recovery")]
    assert arrived == r.parts["risk"]


def test_quarterly_interest_and_statements(loaded, analysis):
    entries, _, _ = loaded
    interest = analysis.records.interest
    for code in ("CQGX", "WLHT"):
        credits = [a for a in interest if a.program == code]
        assert [a.entry.date for a in credits] == [
            datetime.date(y, m, 21) for y in (2024, 2025) for m in (3, 6, 9, 12)
        ]
        assert all(a.ok for a in credits)
        assert all(a.period_end.day == 20 for a in credits)
        pool = analysis.rulebook.programs[code].accounts["pool"]
        dates = [e.date for e in entries if isinstance(e, Balance) and e.account == pool]
        assert dates == [datetime.date(y, m, 1) for y in (2024, 2025, 2026) for m in (1, 4, 7, 10)][1:9]


def test_injections_and_a_top_up_per_program(loaded, analysis):
    entries, _, _ = loaded
    for code in ("CQGX", "WLHT"):
        account = analysis.rulebook.programs[code].accounts["injection"]
        injections = [e for e in entries if isinstance(e, Transaction)
                      and any(p.account == account for p in e.postings)]
        assert len(injections) == 2
    cq = analysis.programs["CQGX"].flows[(RISK, "injection")]
    assert cq <= Decimal("50000000.00")


def _days():
    day = FIRST
    while day <= LAST:
        yield day
        day += datetime.timedelta(days=1)


def test_adequacy_every_day(analysis):
    """CQ: risk fund ≥ 10% of outstanding; WLHT: outstanding ≤ 10 × risk fund and the
    risk fund ≥ 10% of the year's declared volume (from the year's plan on)."""
    loans = analysis.register.loans.values()
    plans = {e.data["year"]: e for e in analysis.register.program_events.get("WLHT", []) if e.kind == "plan"}
    assert set(plans) == {2024, 2025}
    for day in _days():
        for code in ("CQGX", "WLHT"):
            risk = analysis.programs[code].funds[RISK].at(day)
            outstanding = sum((loan.outstanding(day) for loan in loans if loan.program == code), Decimal(0))
            if code == "CQGX":
                assert risk * 10 >= outstanding, day
            else:
                assert outstanding <= risk * 10, day
                plan = plans[day.year]
                if day >= plan.date:
                    assert risk * 10 >= plan.data["expected_volume"], day


def test_loan_terms_are_realistic(analysis):
    cal = workdays()
    for loan in analysis.register.loans.values():
        limit = Decimal("5000000.00")
        line = sum((e.data["amount"] for e in loan.of("contract") + loan.of("increase")), Decimal(0))
        assert line <= limit, loan.id
        assert loan.approval.data["purpose"] == "流动资金"
        assert cal.is_workday(loan.approval.date)
        notice_days = 5 if loan.program == "CQGX" else 3
        for event in loan.of("disbursement") + loan.of("renewal"):
            assert event.data["maturity"] <= add_months(event.date, 12), loan.id
            if event.kind == "disbursement" or loan.program == "CQGX":
                assert event.data["notice_date"] <= cal.add(event.date, notice_days), loan.id
        contract = loan.first("contract")
        fee_account = analysis.records.fees[loan.id]
        assert fee_account.paid == fee_account.due
        assert all(p.date <= contract.date for p in fee_account.payments[:1])


def test_written_like_an_accountant():
    """Chinese comments, invented enterprise names, letter and contract numbers."""
    text = (LEDGER_DIR / "wlht" / "2025.beancount").read_text(encoding="utf-8")
    assert "; 助保金余额不足" in text
    cq = (LEDGER_DIR / "cqgx" / "2024.beancount").read_text(encoding="utf-8")
    assert "高新创服函〔2024〕1号" in cq and "流借字第" in cq and "有限公司" in cq
    assert cq.count(";; ===== 2024年第") == 4


def test_a_blacklisting_in_each_program_and_no_loan_after_it(analysis):
    enterprises = analysis.register.enterprises
    by_program: dict[str, list[str]] = {}
    for enterprise, events in analysis.register.blacklist.items():
        by_program.setdefault(enterprises[enterprise].data["program"], []).append(enterprise)
        day = min(e.date for e in events)
        later = [
            e for loan in analysis.register.loans.values() if loan.enterprise == enterprise
            for e in loan.events if e.date >= day and e.kind in ("approval", "contract", "disbursement", "increase", "renewal")
        ]
        assert later == [], enterprise
    assert sorted(by_program) == ["CQGX", "WLHT"]


# --------------------------------------------------------------------------------------
# Which rules the demo exercises.
#
# A rule is *exercised* in a program when rules.yaml lists it for that program and the
# demo has, in that program, everything the rule reads (RULE_READS): register events
# ("loan:<event>", "enterprise:<event>", "program:<event>", docs/ledger-format.md §3)
# and transaction kinds ("tx:<kind>", the engine's classification by account roles,
# zhubaodai.core.engine.KIND_ROLES). Two checks run only in a situation, named as such:
# "pool:unallocated" (a posting on the pool's parent or suspense account, which
# pool.suspense reads at the end) and "comp:shortfall" (a compensation the guarantee fund
# could not cover, the only case comp.escalation looks at).

RULE_READS: dict[str, frozenset[str]] = {
    rule: frozenset(reads)
    for rule, reads in {
        "fee.rate": {"loan:contract", "tx:fee"},
        "fee.timing": {"loan:contract", "tx:fee"},
        "fee.increase": {"loan:increase", "tx:fee"},
        "fee.renewal": {"loan:renewal", "tx:fee"},
        "fee.no_refund": {"tx:fee"},
        "pool.no_withdrawal": {"tx:compensation"},  # and tx:disposal: not in the demo, see below
        "pool.interest_split": {"tx:interest"},
        "pool.suspense": {"pool:unallocated"},
        "comp.waterfall": {"loan:claim", "tx:compensation"},
        "comp.escalation": {"comp:shortfall"},
        "comp.order": {"loan:overdue", "loan:claim", "tx:compensation"},
        "comp.scope": {"loan:claim"},  # and its trigger: overdue (CQGX, WLHT) or npl (SZPS)
        # its trigger as comp.scope's (npl: SZPS; overdue: JHJD); JHJD's loss split: test_jhjd.py
        "comp.shares": {"loan:claim", "tx:compensation"},
        "comp.rate_cap": {"loan:disbursement", "tx:compensation"},
        "comp.fee_cap": {"loan:guarantee_fee", "tx:compensation"},
        "comp.deadline": {"loan:overdue", "loan:claim", "tx:compensation"},
        "recovery.order": {"loan:recovery", "tx:recovery"},
        "loan.amount": {"loan:approval", "loan:contract", "enterprise:register"},
        "loan.amount_general": {"loan:approval", "loan:contract"},
        "loan.term": {"loan:approval", "loan:disbursement", "loan:renewal"},
        "loan.rate": {"loan:contract", "loan:renewal"},
        "loan.collateral": {"loan:contract", "loan:increase", "loan:renewal"},
        "loan.purpose": {"loan:approval"},
        "loan.renewal": {"loan:renewal"},
        "eligibility": {"enterprise:register", "loan:approval"},  # and enterprise:update where there is one
        "blacklist": {"enterprise:blacklist"},
        "risk.floor": {"tx:injection", "loan:disbursement"},
        "risk.cap": {"tx:injection"},
        "risk.leverage": {"tx:injection", "loan:disbursement"},
        "risk.funders": {"tx:injection"},
        "risk.leverage_floor": {"tx:injection", "loan:disbursement"},
        "risk.topup": {"tx:compensation", "tx:injection"},
        "loan.portfolio_stop": {"loan:overdue", "loan:approval"},
        "loan.term_general": {"loan:approval", "loan:disbursement", "loan:renewal"},
        "notice.disbursement": {"loan:disbursement"},
        "notice.renewal": {"loan:renewal"},
        "program.lifecycle": {"program:open", "tx:injection", "loan:approval"},  # and program:terminate, below
        "period.closed": {"period:close"},
        "evidence.missing": {"doc:evidence"},
        "deposit.pledge": {"loan:disbursement", "tx:deposit"},
        "deposit.release": {"loan:repayment", "tx:deposit"},
        "deposit.use": {"loan:overdue", "tx:deposit", "tx:compensation"},
        "outflow.subsidy": {"loan:contract", "tx:outflow"},
    }.items()
}

#: Rules the demo cannot exercise in any program, and why. Each has its failing and
#: passing ledgers in tests/ledgers/rules/<rule>/.
NOT_EXERCISED = {
    "comp.escalation": "重庆：只有助保金不足、且风险补偿金付尽仍不足其一半时才须登记决策（committee）；"
                       "演示账本的风险补偿金始终不低于贷款余额的 10%（risk.floor），不会出现这种情形",
    "pool.suspense": "待查明款项按 docs/importing.md 第 6 节在原分录上改记查明，账本中不留待查明的分录；"
                     "留一笔未查明的款项就是第二条警告，而演示账本只有一条有意的警告",
    "period.closed": "结账记下的是某一天的账本摘要，由 zbd close 在报送之后生成；演示账本由脚本生成、仍在变化，"
                     "tests/test_periods.py 在演示账本的副本上结账并逐项改动",
    "evidence.missing": "演示账本没有函件扫描件（不能放真实公文）；rules.yaml 的 required 为 false，"
                        "只核对写明了的文件，tests/test_evidence.py 与 evidence.missing 的规则账本覆盖它",
}

#: Rules exercised in one program only, and why not in the other.
NOT_EXERCISED_IN = {
    ("CQGX", "recovery.order"): "重庆唯一的代偿（CQ-2024-006，助保金全额代偿）到 2025 年底尚无追偿款到账",
}

#: What the register format and the engine know but the demo's two ongoing programs
#: cannot show: termination, the disposal after it, and the committee decision of
#: comp.escalation. tests/ledgers/rules/program.lifecycle, pool.no_withdrawal and
#: comp.escalation cover them.
NOT_IN_DEMO = frozenset({"program:terminate", "tx:disposal", "loan:committee", "period:close", "period:reopen"})


def demo_reads(analysis) -> dict[str, set[str]]:
    """Per program, what the demo contains in the vocabulary of RULE_READS."""
    reg = analysis.register
    found: dict[str, set[str]] = {code: set() for code in analysis.programs}
    for loan in reg.loans.values():
        found[loan.program].update(f"loan:{e.kind}" for e in loan.events)
    for enterprise, history in reg.enterprise_history.items():
        code = reg.enterprises[enterprise].data["program"]
        found[code].update(f"enterprise:{e.kind}" for e in history)
        if enterprise in reg.blacklist:
            found[code].add("enterprise:blacklist")
    for code, events in reg.program_events.items():
        found[code].update(f"program:{e.kind}" for e in events)
    for code, state in analysis.programs.items():
        found[code].update(f"tx:{kind}" for (_, kind), amount in state.flows.items())
        if state.unallocated_series:
            found[code].add("pool:unallocated")
        if state.deposits:
            found[code].add("tx:deposit")
    for claim in analysis.records.claims.values():
        if claim.guarantee_done and claim.due > claim.guarantee_paid:
            found[claim.loan.program].add("comp:shortfall")
    return found


def exercised(analysis) -> dict[str, set[str]]:
    """Per program the demo uses, the rule ids it exercises."""
    found = demo_reads(analysis)
    return {
        code: {rule for rule in analysis.rulebook.programs[code].rules if RULE_READS[rule] <= found[code]}
        for code in analysis.used_programs()
    }


def test_rule_reads_name_every_rule_of_rules_yaml(analysis):
    listed = {rule for program in analysis.rulebook.programs.values() for rule in program.rules}
    assert set(RULE_READS) == listed
    vocabulary = {f"{kind}:{event}" for kind, events in REGISTER_TYPES.items() for event in events}
    vocabulary |= {"tx:fee", "tx:injection", "tx:interest", "tx:compensation", "tx:recovery", "tx:disposal"}
    vocabulary |= {"tx:deposit", "tx:outflow"}
    vocabulary |= {"pool:unallocated", "comp:shortfall", "doc:evidence"}
    assert set().union(*RULE_READS.values()) <= vocabulary
    assert NOT_IN_DEMO <= vocabulary


def test_the_demo_exercises_every_rule_but_the_listed_few(analysis, shapes_analysis):
    """Every program has its demo: CQGX and WLHT in main.beancount, the others in
    shapes.beancount; a program in neither misses every rule."""
    assert analysis.used_programs() == ["CQGX", "WLHT"]
    by_program = {code: set() for code in analysis.rulebook.programs}
    by_program.update(exercised(shapes_analysis))
    by_program.update(exercised(analysis))
    listed = {rule for program in analysis.rulebook.programs.values() for rule in program.rules}
    anywhere = set().union(*by_program.values())
    assert anywhere == listed - set(NOT_EXERCISED), sorted(listed - anywhere)
    for code, program in analysis.rulebook.programs.items():
        missing = {(code, rule) for rule in program.rules if rule not in by_program[code]} - {
            (code, rule) for rule in NOT_EXERCISED
        }
        assert missing == {k for k in NOT_EXERCISED_IN if k[0] == code}, sorted(missing)
    for rule in set(NOT_EXERCISED) | {rule for _, rule in NOT_EXERCISED_IN}:
        cases = {p.stem.split("-")[1] for p in (REPO / "tests" / "ledgers" / "rules" / rule).glob("*.beancount")}
        assert "pass" in cases and cases & {"fail", "warn"}, rule


def test_every_register_event_and_transaction_kind_but_termination(analysis, shapes_analysis):
    found = set().union(*demo_reads(analysis).values(), *demo_reads(shapes_analysis).values())
    every = {f"{kind}:{event}" for kind, events in REGISTER_TYPES.items() for event in events}
    every |= {"tx:fee", "tx:injection", "tx:interest", "tx:compensation", "tx:recovery", "tx:disposal"}
    assert every - found == NOT_IN_DEMO


# --------------------------------------------------------------------------------------
# The second demo, ledger/shapes.beancount: the programs of issue #10's structural families.


def test_shapes_bean_check_uncached_is_clean():
    bean_check = str(BEAN_CHECK) if BEAN_CHECK.exists() else shutil.which("bean-check")
    result = subprocess.run([bean_check, "-C", str(SHAPES)], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == ""


def test_shapes_has_the_same_options_and_pages_as_main():
    main = [line for line in MAIN.read_text(encoding="utf-8").splitlines() if line.startswith(("option", "plugin", "20"))]
    shapes = [line for line in SHAPES.read_text(encoding="utf-8").splitlines() if line.startswith(("option", "plugin", "20"))]
    assert [line for line in main if not line.startswith('option "title"')] == [
        line for line in shapes if not line.startswith('option "title"')
    ]


def test_hkjb_demo_deposits_pay_first_and_are_released_after_settlement(shapes_analysis):
    """海口金保贷: every loan pledges 2% before it is lent; three are repaid on time and their
    deposits released; one falls overdue, its deposit pays first and the compensation fund
    bears half of the rest, half-up to the fen."""
    assert [f for f in shapes_analysis.findings if f.program == "HKJB"] == []
    state = shapes_analysis.programs["HKJB"]
    deposits = state.deposits
    assert sorted(deposits) == ["HK-2021-001", "HK-2021-002", "HK-2021-003", "HK-2021-004"]
    assert all(d.balance == 0 for d in deposits.values())
    assert sorted(loan for loan, d in deposits.items() if d.total("release") > 0) == [
        "HK-2021-001", "HK-2021-002", "HK-2021-004",
    ]
    assert deposits["HK-2021-003"].used == Decimal("40000.00")
    (claim,) = (c for c in shapes_analysis.records.claims.values() if c.loan.program == "HKJB")
    assert claim.due == Decimal("1212345.67")
    assert claim.risk_paid == Decimal("586172.84") and claim.bank_share == Decimal("586172.83")
    assert claim.risk_paid + claim.bank_share + deposits["HK-2021-003"].used == claim.due
    assert [o.amount for o in state.outflows] == [Decimal("30000.00"), Decimal("50000.00"),
                                                  Decimal("20000.00"), Decimal("15000.00")]
    assert all(o.amount == o.allowed for o in state.outflows)
    assert state.funds[GUARANTEE].balance == 0
