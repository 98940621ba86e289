"""The run's state kept compact (issue 9's memory target) without changing a figure.

* an event's data is a read-only mapping held in slots, one class per event kind;
* a figure equal to one already held is that object: the principal lent onto a new loan
  is its amount, a loan repaid to nil holds ZERO, a fee payment keeps the guarantee
  fund's figure, equal dues share one Decimal — each only where digits and exponent are
  the same as the figure computed afresh (a ledger written without the fen keeps its
  ``.00`` where it had one before).
"""

from __future__ import annotations

import pickle
import textwrap
from decimal import Decimal

import pytest
from beancount import loader
from beancount.parser import parser

from conftest import LEDGERS
from conftest import RULES_YAML
from test_fees_literal import run as run_program
from zhubaodai.core.engine import Analysis
from zhubaodai.core.engine import analyse
from zhubaodai.core.money import ZERO
from zhubaodai.core.register import EventData
from zhubaodai.core.register import _event_data
from zhubaodai.core.register import parse_event
from zhubaodai.core.rules import load_rules

RULEBOOK = load_rules(RULES_YAML)


def event_of(text: str):  # noqa: ANN201 - an Event
    (entry,) = parser.parse_string(textwrap.dedent(text))[0]
    return parse_event(entry)


APPROVAL = """\
    2024-03-01 custom "loan" "approval" "CQ-2024-001"
      program: "CQGX"
      enterprise: "E-CQ-001"
      amount: 3000000.00 CNY
      letter: "高新创服函〔2024〕12号"
      rate: 3.65
"""


def test_event_data_reads_as_a_mapping_of_the_keys_the_directive_carries() -> None:
    data = event_of(APPROVAL).data
    assert isinstance(data, EventData)
    assert data["amount"] == Decimal("3000000.00") and data["program"] == "CQGX"
    assert data.get("rate") == Decimal("3.65")
    # An optional key the directive lacks is absent, as in a dict; so is a key of no kind.
    assert "purpose" not in data and data.get("purpose") is None and data.get("purpose", "无") == "无"
    assert "reason" not in data and data.get("reason", 0) == 0
    for key in ("purpose", "reason", "KEYS", "get"):
        with pytest.raises(KeyError) as caught:
            data[key]
        assert caught.value.args == (key,)
    # A name of the class itself is no key either.
    assert data.get("KEYS") is None and data.get("get", 0) == 0 and "KEYS" not in data
    assert list(data) == ["program", "enterprise", "amount", "letter", "rate"]  # the table's order
    assert len(data) == 5
    assert dict(data) == {
        "program": "CQGX", "enterprise": "E-CQ-001", "amount": Decimal("3000000.00"),
        "letter": "高新创服函〔2024〕12号", "rate": Decimal("3.65"),
    }
    assert data == dict(data) and dict(data.items()) == dict(data)


def test_event_data_is_slots_and_read_only() -> None:
    data = event_of(APPROVAL).data
    assert type(data).__name__ == "LoanApprovalData"
    fee = event_of('2024-03-01 custom "loan" "guarantee_fee" "CQ-2024-001"\n  amount: 100.00 CNY\n').data
    assert repr(fee) == "LoanGuaranteeFeeData({'amount': Decimal('100.00')})"
    assert not hasattr(data, "__dict__")  # no dict per event: the kind's keys are slots
    with pytest.raises(AttributeError):
        data.amount = Decimal("1.00")  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        data.other = 1  # type: ignore[attr-defined]
    assert pickle.loads(pickle.dumps(data)) == data
    assert type(pickle.loads(pickle.dumps(data))) is type(data)
    with pytest.raises(KeyError) as caught:
        _event_data("loan", "approval", {"program": "CQGX", "reason": "x"})
    assert caught.value.args == ("reason",)


def test_events_without_keys_share_one_data() -> None:
    first = event_of('2024-05-01 custom "loan" "settlement" "CQ-2024-001"\n').data
    second = event_of('2024-06-01 custom "loan" "settlement" "CQ-2024-002"\n').data
    assert first is second and dict(first) == {} and len(first) == 0
    # A kind with optional keys only shares it when none is present.
    bare = event_of('2026-12-31 custom "program" "terminate" "CQGX"\n').data
    lettered = event_of('2026-12-31 custom "program" "terminate" "CQGX"\n  letter: "函"\n').data
    assert bare is event_of('2027-12-31 custom "program" "terminate" "WLHT"\n').data
    assert lettered is not bare and dict(lettered) == {"letter": "函"} and dict(bare) == {}


def run(body: str) -> Analysis:
    """A CQGX ledger of ``body`` through the engine (test_fees_literal's runner)."""
    return run_program("cqgx", body)


def loan(loan_id: str, amount: str, day: str = "2024-03-01") -> str:
    return (
        f'{day} custom "loan" "approval" "{loan_id}"\n  program: "CQGX"\n  enterprise: "E-{loan_id}"\n'
        f'  amount: {amount} CNY\n  letter: "函"\n'
        f'{day} custom "loan" "contract" "{loan_id}"\n  amount: {amount} CNY\n  maturity: 2025-03-01\n'
        f'{day} custom "loan" "disbursement" "{loan_id}"\n  amount: {amount} CNY\n'
    )


def principals(analysis: Analysis, loan_id: str) -> list[tuple[str, Decimal]]:
    return [(e.kind, e.principal) for e in analysis.register.loans[loan_id].events]


def test_the_principal_lent_onto_a_new_loan_is_its_amount_and_nil_is_zero() -> None:
    analysis = run(
        loan("L-1", "1000000.00")
        + '2024-06-01 custom "loan" "repayment" "L-1"\n  amount: 400000.00 CNY\n'
        + '2024-09-01 custom "loan" "repayment" "L-1"\n  amount: 600000.00 CNY\n'
        + '2024-09-02 custom "loan" "disbursement" "L-1"\n  amount: 200000.00 CNY\n'
    )
    events = analysis.register.loans["L-1"].events
    assert [(e.kind, str(e.principal)) for e in events] == [
        ("approval", "0.00"), ("contract", "0.00"), ("disbursement", "1000000.00"),
        ("repayment", "600000.00"), ("repayment", "0.00"), ("disbursement", "200000.00"),
    ]
    assert events[2].principal is events[2].data["amount"]
    assert events[4].principal is ZERO
    # Lent again onto a loan repaid to nil: the ZERO it holds adds nothing, the amount is kept.
    assert events[5].principal is events[5].data["amount"]


def test_an_amount_written_without_the_fen_keeps_the_principal_it_always_had() -> None:
    # ZERO (0.00) + 1000000 is 1000000.00: the principal is that, not the amount's object.
    analysis = run(
        loan("L-1", "1000000")
        + '2024-06-01 custom "loan" "repayment" "L-1"\n  amount: 1000000 CNY\n'
    )
    events = analysis.register.loans["L-1"].events
    assert [str(e.principal) for e in events] == ["0.00", "0.00", "1000000.00", "0.00"]
    assert events[2].principal is not events[2].data["amount"]


def pay(day: str, loan_id: str, amount: str, guarantee: str | None = None) -> str:
    """A fee payment; ``guarantee`` (with the rest to the risk fund) where not all of it."""
    lines = [f'{day} * "企业" "缴纳助保金" ^{loan_id}', f"  Assets:CQGX:Pool:Guarantee  {guarantee or amount} CNY"]
    if guarantee is not None:
        lines.append(f"  Assets:CQGX:Pool:Risk  {Decimal(amount) - Decimal(guarantee)} CNY")
    return "\n".join([*lines, f"  Income:CQGX:Guarantee:Fees  -{amount} CNY"]) + "\n"


@pytest.mark.parametrize(("written", "kept"), [("25000.00", "25000.00"), ("25000", "25000.00")])
def test_a_fee_payment_keeps_the_figure_it_always_had(written: str, kept: str) -> None:
    analysis = run(loan("L-1", "1000000.00") + pay("2024-03-01", "L-1", written))
    (payment,) = analysis.records.fees["L-1"].payments
    assert str(payment.amount) == kept
    # Written to the fen, it is the guarantee fund's posting's own figure (no new Decimal).
    posted = payment.entry.postings[0].units.number
    assert (payment.amount is posted) == (written == kept)
    assert not [f for f in analysis.findings if f.rule.startswith("fee.")]


def test_a_fee_paid_short_of_the_guarantee_fund_keeps_what_the_enterprise_paid() -> None:
    analysis = run(loan("L-1", "1000000.00") + pay("2024-03-01", "L-1", "25000.00", guarantee="24999.99"))
    (payment,) = analysis.records.fees["L-1"].payments
    assert str(payment.amount) == "25000.00"
    assert [f.message for f in analysis.findings if f.rule == "fee.rate"] == [
        "企业缴纳的助保金应全额计入助保金；缴款 25,000.00 元，计入助保金 24,999.99 元"
    ]


def test_equal_dues_share_one_figure_and_each_is_right() -> None:
    analysis = run(loan("L-1", "1000000.00") + loan("L-2", "1000000") + loan("L-3", "1200000.00"))
    dues = {loan_id: analysis.records.fees[loan_id].dues[0].due for loan_id in ("L-1", "L-2", "L-3")}
    assert {k: str(v) for k, v in dues.items()} == {"L-1": "25000.00", "L-2": "25000.00", "L-3": "30000.00"}
    assert dues["L-1"] is dues["L-2"]


def test_a_fee_paid_in_two_postings_to_the_guarantee_fund_is_their_sum() -> None:
    """A role's postings in one transaction add up (the first is kept as it is, the rest added)."""
    paid = (
        '2024-03-01 * "企业" "缴纳助保金" ^L-1\n'
        "  Assets:CQGX:Pool:Guarantee  10000.00 CNY\n"
        "  Assets:CQGX:Pool:Guarantee  15000.00 CNY\n"
        "  Income:CQGX:Guarantee:Fees  -25000.00 CNY\n"
    )
    analysis = run(loan("L-1", "1000000.00") + paid)
    (payment,) = analysis.records.fees["L-1"].payments
    assert str(payment.amount) == "25000.00"
    assert not [f for f in analysis.findings if f.rule.startswith("fee.")]


def test_a_link_that_names_no_loan_is_not_a_loan_of_the_payment() -> None:
    paid = pay("2024-03-01", "L-1", "25000.00").replace(" ^L-1", " ^L-1 ^receipt-2024-17")
    analysis = run(loan("L-1", "1000000.00") + paid)
    assert [p.amount for p in analysis.records.fees["L-1"].payments] == [Decimal("25000.00")]
    assert not [f for f in analysis.findings if f.rule in ("fee.rate", "ledger.format")]


def test_the_engine_takes_any_iterable_of_entries() -> None:
    """Beancount's list is used as it is (no copy); any other iterable is read into one."""
    text = (
        f'option "operating_currency" "CNY"\ninclude "{LEDGERS / "common" / "cqgx"}.beancount"\n'
        + loan("L-1", "1000000.00") + pay("2024-03-01", "L-1", "24999.99")
    )
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    listed = analyse(entries, RULEBOOK)
    streamed = analyse(iter(entries), RULEBOOK)
    assert [(f.rule, f.message) for f in streamed.findings] == [(f.rule, f.message) for f in listed.findings]
    assert [f.rule for f in listed.findings if f.rule.startswith("fee.")] == ["fee.rate"]


def test_each_event_kind_has_its_data_class_in_the_register_module() -> None:
    data = event_of(APPROVAL).data
    assert type(data).__module__ == "zhubaodai.core.register"
    assert (type(data).TYPE, type(data).KIND, type(data).KEYS[:4]) == ("loan", "approval", ("program", "enterprise", "amount", "letter"))
