"""One walk of the register: each event validated once by its kind's validator and handed
once, in filing order, to the rule modules that subscribe to it (issue 9).

The findings themselves are the snapshot's business (tests/test_engine_snapshot.py);
this file checks the dispatch: who gets which event, how often, in which order, and that
the generated validators agree with the key-by-key conversion they replace.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from beancount import loader
from beancount.core.amount import Amount
from beancount.core.data import Custom
from beancount.parser import parser

from conftest import LEDGERS
from zhubaodai.checks import CHECKS
from zhubaodai.checks import adequacy
from zhubaodai.checks import deadlines
from zhubaodai.checks import evidence
from zhubaodai.checks import fees
from zhubaodai.checks import lifecycle
from zhubaodai.checks import loans
from zhubaodai.core import engine
from zhubaodai.core.register import CONVERTERS
from zhubaodai.core.register import REGISTER_KINDS
from zhubaodai.core.register import RegisterError
from zhubaodai.core.register import Subscribers
from zhubaodai.core.register import _convert
from zhubaodai.core.register import build_register
from zhubaodai.core.register import parse_event
from zhubaodai.core.rules import load_rules

APPROVAL = '  program: "CQGX"\n  enterprise: "E-CQ-001"\n  amount: 3000000.00 CNY\n  letter: "函〔2024〕1号"\n'
LEDGER = (
    '2024-03-01 custom "enterprise" "register" "E-CQ-001"\n  program: "CQGX"\n  name: "某公司"\n'
    '2024-03-02 custom "loan" "contract" "CQ-2024-002"\n  amount: 1000000.00 CNY\n'
    f'2024-03-02 custom "loan" "approval" "CQ-2024-002"\n{APPROVAL}'
    f'2024-03-01 custom "loan" "approval" "CQ-2024-001"\n{APPROVAL}'
    '2024-03-05 custom "loan" "disbursement" "CQ-2024-001"\n  amount: 3000000.00 CNY\n'
    '  evidence: "scan.pdf"\n'
    '2024-03-05 custom "loan" "disbursement" "CQ-9999-404"\n  amount: 3000000.00 CNY\n'
    '2024-03-06 custom "program" "terminate" "CQGX"\n'
)


def filed(watched: frozenset[str] = frozenset()) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(kind, subject, channel) of every event handed out, and the refused directives."""
    entries, errors, _ = parser.parse_string(LEDGER)
    assert not errors
    seen: list[tuple[str, str, str]] = []
    refused: list[str] = []

    def plain(event: Any) -> None:
        seen.append((event.kind, event.subject, "kind"))

    def meta(event: Any) -> None:
        seen.append((event.kind, event.subject, "watched"))

    build_register(
        [e for e in entries if isinstance(e, Custom)],
        {"CQGX"},
        lambda entry, message, program: refused.append(message),
        Subscribers({pair: plain for pair in REGISTER_KINDS}, watched, {pair: meta for pair in REGISTER_KINDS}),
    )
    return seen, refused


def test_each_filed_event_is_handed_out_once_in_date_order_approvals_first() -> None:
    seen, refused = filed()
    assert seen == [
        ("approval", "CQ-2024-001", "kind"),  # a day's approvals first
        ("register", "E-CQ-001", "kind"),
        ("approval", "CQ-2024-002", "kind"),  # before the same day's contract, written first
        ("contract", "CQ-2024-002", "kind"),
        ("disbursement", "CQ-2024-001", "kind"),
        ("terminate", "CQGX", "kind"),
    ]
    assert refused == ["贷款 CQ-9999-404 没有在此日期或之前的审核同意（approval）事件"]  # not handed out


def test_an_event_with_a_watched_key_goes_to_the_watchers() -> None:
    seen, _ = filed(frozenset({"evidence"}))
    assert ("disbursement", "CQ-2024-001", "watched") in seen
    assert [s for s in seen if s[2] == "watched"] == [("disbursement", "CQ-2024-001", "watched")]


def test_the_engine_binds_each_module_to_what_it_subscribes() -> None:
    rulebook = load_rules(str(Path(__file__).resolve().parent.parent / "rules.yaml"))
    ctx = engine.Context(rulebook, engine.Register())
    subscribers = engine._subscribers(ctx, CHECKS)
    assert subscribers.watched == frozenset(evidence.REGISTER_META)
    for module in (loans, lifecycle, evidence, fees, deadlines, adequacy):
        assert module.REGISTER_KINDS is not None and module.REGISTER_KINDS <= REGISTER_KINDS
    # A repayment interests loans (a credit line paid to nil) and adequacy (the loans
    # outstanding by day), and evidence too when it declares a document; a bank's risk
    # classification interests no module unless so.
    assert ("loan", "repayment") in subscribers.by_kind
    assert ("loan", "npl") not in subscribers.by_kind
    assert ("loan", "npl") in subscribers.by_kind_watched
    # An approval goes to loans, lifecycle and evidence, in CHECKS order, each bound to the run.
    entries, _, _ = parser.parse_string(f'2024-03-01 custom "loan" "approval" "CQ-2024-001"\n{APPROVAL}')
    register = build_register(entries, set(rulebook.programs), lambda *a: None, subscribers, ctx.register)
    assert list(register.loans) == ["CQ-2024-001"]
    streams = ctx.loan_streams
    assert streams is not None and list(streams.borrowers) == ["E-CQ-001"]
    borrower = streams.borrowers["E-CQ-001"]
    assert borrower.first.loan is register.loans["CQ-2024-001"] and borrower.first.next is None
    assert borrower.total() == Decimal("3000000") and borrower.pending == [(borrower.first, register.loans["CQ-2024-001"].approval)]
    assert ctx.lifecycle["CQGX"].todays == [register.loans["CQ-2024-001"].approval]
    assert ctx.evidence is not None and [e.kind for e in ctx.evidence.loan_events] == ["approval"]


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("amount", Amount(Decimal("3000000"), "CNY")),
        ("amount", Amount(Decimal("0.00"), "CNY")),
        ("amount", Amount(Decimal("1.001"), "CNY")),
        ("amount", Amount(Decimal("-1.00"), "CNY")),
        ("amount", Amount(Decimal("1.00"), "USD")),
        ("amount", "1.00"),
        ("text", "  函  "),
        ("text", "   "),
        ("text", 3),
        ("date", datetime.date(2024, 3, 1)),
        ("date", "2024-03-01"),
        ("number", Decimal("0.04")),
        ("number", 4),
        ("number", True),
        ("bool", True),
        ("bool", "TRUE"),
        ("int", Decimal("2024")),
        ("int", Decimal("2024.5")),
        ("loan_type", " 流动资金 "),
    ],
)
def test_the_fast_converters_agree_with_the_key_by_key_conversion(kind: str, value: Any) -> None:
    entry = next(iter(parser.parse_string('2024-03-10 custom "loan" "settlement" "CQ-2024-001"\n')[0]))

    def outcome(convert: Any) -> Any:
        try:
            result = convert(entry, "x", value)
        except RegisterError as exc:
            return ("error", str(exc))
        return ("value", type(result), result)

    assert outcome(CONVERTERS[kind]) == outcome(lambda e, k, v: _convert(e, k, kind, v))


def test_a_generated_validator_reports_the_first_missing_key_in_table_order() -> None:
    entry = next(iter(parser.parse_string('2024-03-10 custom "loan" "claim" "CQ-2024-001"\n  letter: "函"\n')[0]))
    with pytest.raises(RegisterError, match="代偿申请事件缺少元数据 principal"):
        parse_event(entry)


def test_a_generated_validator_with_a_required_key_of_every_kind() -> None:
    """No event of the tables requires a date, a number, a bool, an int or a loan type (yet):
    a validator generated for such a table, written out here, reads each kind the same way
    and refuses each with the key-by-key message."""
    from zhubaodai.core.register import _validator

    validate = _validator(
        "loan", "test", "测试",
        {"am": "amount", "tx": "text", "dt": "date", "nu": "number", "bo": "bool", "yr": "int", "lt": "loan_type"},
        {},
    )
    good = '  am: 1.00 CNY\n  tx: " 函 "\n  dt: 2024-03-01\n  nu: 0.04\n  bo: TRUE\n  yr: 2024\n  lt: " 保证 "\n'
    entry = next(iter(parser.parse_string('2024-03-10 custom "loan" "test" "CQ-2024-001"\n' + good)[0]))
    assert validate(entry) == {
        "am": Decimal("1.00"), "tx": "函", "dt": datetime.date(2024, 3, 1), "nu": Decimal("0.04"), "bo": True, "yr": 2024, "lt": "保证",
    }
    for line, message in [
        ("  dt: \"2024-03-01\"\n", "元数据 dt 应为日期，如 dt: 2024-03-01"),
        ("  nu: \"0.04\"\n", "元数据 nu 应为数字"),
        ("  bo: 1\n", "元数据 bo 应为 TRUE 或 FALSE（不加引号）"),
        ("  yr: 2024.5\n", "元数据 yr 应为整数，如 yr: 2024"),
        ("  lt: \"担保\"\n", '元数据 lt 应为贷款类型 "信用"、"保证"、"抵押"、"质押" 之一，而非 \'担保\''),
    ]:
        key = line.split(":")[0].strip()
        text = "".join(part for part in good.splitlines(keepends=True) if not part.startswith(f"  {key}:")) + line
        entry = next(iter(parser.parse_string('2024-03-10 custom "loan" "test" "CQ-2024-001"\n' + text)[0]))
        with pytest.raises(RegisterError) as caught:
            validate(entry)
        assert str(caught.value) == message
    entry = next(iter(parser.parse_string('2024-03-10 custom "loan" "test" "CQ-2024-001"\n  am: 1.00 CNY\n')[0]))
    with pytest.raises(RegisterError, match="^测试事件缺少元数据 tx$"):
        validate(entry)


def test_a_borrower_s_loans_are_kept_program_by_program_in_the_order_of_their_first_loan() -> None:
    """loans keeps a borrower per enterprise and program as approvals are filed: programs
    in the order of their first loan, each one's credit lines in approval order."""
    rulebook = load_rules(str(Path(__file__).resolve().parent.parent / "rules.yaml"))
    ctx = engine.Context(rulebook, engine.Register())
    streams = loans.LoanStreams(ctx)
    rules = {code: streams.rules(ctx, code) for code in ("WLHT", "CQGX")}
    made = [loans.Loan(i, p, "E-1") for i, p in (("W-1", "WLHT"), ("C-1", "CQGX"), ("W-2", "WLHT"), ("C-2", "CQGX"))]
    for loan in made:
        streams.borrow("E-1", rules[loan.program], loans.LineState(loan))
    def chain() -> list[tuple[str, list[str]]]:
        found, borrower = [], streams.borrowers["E-1"]
        while borrower is not None:
            ids, state = [], borrower.first
            while state is not None:
                ids.append(state.loan.id)
                state = state.next
            found.append((borrower.rules.code, ids))
            borrower = borrower.other
        return found

    def borrower_of(loan: loans.Loan) -> loans.Borrower:
        borrower = streams.borrowers["E-1"]
        while borrower.rules is not rules[loan.program]:
            borrower = borrower.other
        return borrower

    assert chain() == [("WLHT", ["W-1", "W-2"]), ("CQGX", ["C-1", "C-2"])]
    for loan in made:
        assert borrower_of(loan).line(loan).loan is loan
    # A closed loan's line leaves the chain (first, last or between); a loan not there is None.
    cqgx = borrower_of(made[1])
    more = [loans.Loan(i, "CQGX", "E-1") for i in ("C-3", "C-4", "C-5")]
    states = {loan.id: cqgx.line(loan) for loan in made[1::2]}
    for loan in more:
        states[loan.id] = loans.LineState(loan)
        cqgx.join(states[loan.id])
    assert chain()[1] == ("CQGX", ["C-1", "C-2", "C-3", "C-4", "C-5"])
    cqgx.leave(states["C-3"])  # between: third of five
    assert chain()[1] == ("CQGX", ["C-1", "C-2", "C-4", "C-5"]) and cqgx.line(more[0]) is None
    assert states["C-3"].next is None
    cqgx.leave(states["C-1"])  # first
    cqgx.leave(states["C-5"])  # last
    cqgx.leave(states["C-5"])  # not there: nothing happens
    assert chain()[1] == ("CQGX", ["C-2", "C-4"])
    cqgx.join(states["C-3"])  # back (a closed loan given new credit), then one more after it
    cqgx.join(states["C-5"])
    assert chain()[1] == ("CQGX", ["C-2", "C-4", "C-3", "C-5"])
    for state in (states["C-2"], states["C-4"], states["C-3"], states["C-5"]):
        cqgx.leave(state)
    assert chain()[1] == ("CQGX", []) and cqgx.first is None and cqgx.line(made[1]) is None
    cqgx.join(states["C-1"])
    wlht = borrower_of(made[0])
    wlht.leave(wlht.line(made[0]))
    assert chain() == [("WLHT", ["W-2"]), ("CQGX", ["C-1"])]
    # A program with none of these rules on (HKJB) keeps nothing: its loans are not followed.
    assert streams.rules(ctx, "HKJB") is None and streams.programs["HKJB"] is None


def _borrower_ledger(second: str) -> str:
    def approval(loan_id: str, day: str, amount: str) -> str:
        return (
            f'{day} custom "loan" "approval" "{loan_id}"\n  program: "CQGX"\n  enterprise: "E-1"\n'
            f'  amount: {amount} CNY\n  letter: "函"\n'
        )

    return (
        f'option "operating_currency" "CNY"\ninclude "{LEDGERS / "common" / "cqgx"}.beancount"\n'
        '2021-03-01 custom "enterprise" "register" "E-1"\n  program: "CQGX"\n  name: "甲公司"\n'
        + approval("L-1", "2024-03-01", "6000000.00") + approval("L-2", "2024-04-01", second)
    )


@pytest.mark.parametrize(("second", "over"), [("4000000.00", False), ("4000000.01", True)])
def test_a_borrower_s_earlier_loan_counts_toward_its_limit(second: str, over: bool) -> None:
    """CQGX: 10,000,000.00 an enterprise. 6,000,000.00 then 4,000,000.00 is exactly the
    limit; a fen more is over it, reported at the second approval: the loans module keeps
    every loan of the borrower as the register files them, not only the latest."""
    entries, errors, _ = loader.load_string(_borrower_ledger(second))
    assert errors == []
    rulebook = load_rules(str(Path(__file__).resolve().parent.parent / "rules.yaml"))
    found = [(f.rule, f.loan, f.date) for f in engine.analyse(entries, rulebook).findings if f.rule == "loan.amount"]
    assert found == ([("loan.amount", "L-2", datetime.date(2024, 4, 1))] if over else [])
