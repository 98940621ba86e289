"""Property tests (hypothesis): the engine over generated books, and its arithmetic.

* Generated sequences of register events and cash entries for both programs, sensible
  and not (wrong kinds, missing or mistyped metadata, amounts off the fen, links to
  nowhere, outflows of every sort): :func:`analyse` never raises, every finding is well
  formed, and every interest allocation it records sums to the bank's figure.
* ``largest_remainder`` / ``split_interest``: parts are whole fen and sum to the total.
* ``plan_waterfall``: guarantee + risk + bank + uncovered = due, each part non-negative.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from beancount.core.amount import Amount
from beancount.core.data import Custom
from beancount.core.data import Posting
from beancount.core.data import Transaction
from beancount.core.data import entry_sortkey
from beancount.parser.grammar import ValueType
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from conftest import RULES_YAML
from zhubaodai.checks.pool import split_interest
from zhubaodai.checks.waterfall import plan_waterfall
from zhubaodai.core.engine import analyse
from zhubaodai.core.findings import FORMAT_CITATION
from zhubaodai.core.findings import FORMAT_RULE
from zhubaodai.core.findings import SEVERITY_LABELS
from zhubaodai.core.money import FEN
from zhubaodai.core.money import half_up
from zhubaodai.core.money import largest_remainder
from zhubaodai.core.register import ENTERPRISE_EVENTS
from zhubaodai.core.register import LOAN_EVENTS
from zhubaodai.core.register import PROGRAM_EVENTS
from zhubaodai.core.rules import CATALOGUE
from zhubaodai.core.rules import load_rules

RULEBOOK = load_rules(RULES_YAML)
PROGRAMS = ("CQGX", "WLHT")
MODEST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------------------
# Amounts.

fen = st.integers(min_value=0, max_value=2_000_000_000).map(lambda n: Decimal(n) * FEN)
small_fen = st.integers(min_value=1, max_value=100_000_000).map(lambda n: Decimal(n) * FEN)
odd_amount = st.one_of(
    st.integers(min_value=1, max_value=10**7).map(lambda n: Decimal(n) * Decimal("0.001")),  # off the fen
    st.integers(min_value=-10**8, max_value=-1).map(lambda n: Decimal(n) * FEN),  # negative
    st.just(Decimal("0.00")),
)
amount = st.one_of(small_fen, small_fen, small_fen, odd_amount)


def cny(number: Decimal) -> Amount:
    return Amount(number, "CNY")


def account(program: str, role: str) -> str:
    return RULEBOOK.programs[program].accounts[role]


# --------------------------------------------------------------------------------------
# Register directives.


@st.composite
def meta_value(draw, kind: str, day: datetime.date, program: str):
    if draw(st.integers(0, 19)) == 0:  # now and then, the wrong type altogether
        return draw(st.sampled_from(["文字", Decimal("1"), True, day, cny(Decimal("1.00"))]))
    if kind == "amount":
        currency = "CNY" if draw(st.integers(0, 9)) else "USD"
        return Amount(draw(st.one_of(small_fen, small_fen, odd_amount)), currency)
    if kind == "text":
        return draw(st.sampled_from([program, "E-1", "高新创服函〔2024〕12号", "流动资金", "小型", "A"]))
    if kind == "date":
        return day + datetime.timedelta(days=draw(st.integers(-30, 400)))
    if kind == "bool":
        return draw(st.booleans())
    if kind == "int":
        return Decimal(draw(st.integers(2023, 2026)))
    return Decimal(draw(st.integers(0, 100))) / 100  # number


@st.composite
def register_event(draw, day: datetime.date, lineno: int, loans: list[str]):
    kind = draw(st.sampled_from(["loan"] * 6 + ["enterprise", "program"]))
    events = {"loan": LOAN_EVENTS, "enterprise": ENTERPRISE_EVENTS, "program": PROGRAM_EVENTS}[kind]
    event = draw(st.sampled_from([*events, "bogus"]))
    program = draw(st.sampled_from([*PROGRAMS, "ZZZZ"] if draw(st.integers(0, 9)) == 0 else PROGRAMS))
    subject = {
        "loan": draw(st.sampled_from(loans)),
        "enterprise": draw(st.sampled_from(["E-1", "E-2"])),
        "program": program,
    }[kind]
    meta = {"filename": "<generated>", "lineno": lineno}
    if event in events:
        _, required, optional = events[event]
        for key, spec in required.items():
            if draw(st.integers(0, 19)):  # now and then, a required key is missing
                meta[key] = draw(meta_value(spec, day, program))
        for key, spec in optional.items():
            if draw(st.booleans()):
                meta[key] = draw(meta_value(spec, day, program))
        if event == "approval" and "program" in meta and isinstance(meta["program"], str):
            meta["program"] = program
    values = [ValueType(event, str), ValueType(subject, str)]
    if draw(st.integers(0, 29)) == 0:
        values = values[:1]
    return Custom(meta, day, kind, values)


# --------------------------------------------------------------------------------------
# Cash entries, by what they do to the pool.

CASH_KINDS = (
    "fee", "fee", "refund", "injection", "interest", "interest", "compensation", "compensation",
    "recovery", "disposal", "transfer", "withdrawal", "suspense", "parent", "mixed", "foreign",
)


@st.composite
def cash_entry(draw, day: datetime.date, lineno: int, loans: list[str]):
    program = draw(st.sampled_from(PROGRAMS))
    kind = draw(st.sampled_from(CASH_KINDS))

    def acc(role: str) -> str:
        return account(program, role)

    a = draw(amount)
    b = draw(amount)
    legs: list[tuple[str, Amount]] = []
    meta: dict = {"filename": "<generated>", "lineno": lineno}
    if kind == "fee":
        legs = [(acc("guarantee_fund"), cny(a)), (acc("fee_income"), cny(-a))]
    elif kind == "refund":
        legs = [(acc("guarantee_fund"), cny(-a)), (acc("fee_income"), cny(a))]
    elif kind == "injection":
        legs = [(acc("risk_fund"), cny(a)), (acc("injection"), cny(-a))]
    elif kind == "interest":
        legs = [
            (acc("guarantee_fund"), cny(a)),
            (acc("risk_fund"), cny(b)),
            (acc("interest_guarantee"), cny(-a)),
            (acc("interest_risk"), cny(-b)),
        ]
        if draw(st.booleans()):
            meta["period_end"] = day - datetime.timedelta(days=draw(st.integers(-5, 100)))
        if draw(st.integers(0, 4)) == 0:
            meta["period_start"] = day - datetime.timedelta(days=draw(st.integers(-5, 200)))
    elif kind == "compensation":
        legs = [
            (acc("compensation_guarantee"), cny(a)),
            (acc("compensation_risk"), cny(b)),
            (acc("guarantee_fund"), cny(-a)),
            (acc("risk_fund"), cny(-b)),
        ]
        legs = draw(st.sampled_from([legs, [legs[0], legs[2]], [legs[1], legs[3]]]))
        if draw(st.booleans()):
            meta["bank_share"] = draw(st.sampled_from([cny(b), cny(draw(fen)), "210000.00", Decimal(1)]))
    elif kind == "recovery":
        legs = [
            (acc("risk_fund"), cny(a)),
            (acc("guarantee_fund"), cny(b)),
            (acc("recovery_risk"), cny(-a)),
            (acc("recovery_guarantee"), cny(-b)),
        ]
    elif kind == "disposal":
        legs = [
            (acc("disposal"), cny(a + b)),
            (acc("guarantee_fund"), cny(-a)),
            (acc("risk_fund"), cny(-b)),
        ]
    elif kind == "transfer":
        legs = [(acc("guarantee_fund"), cny(-a)), (acc("risk_fund"), cny(a))]
    elif kind == "withdrawal":
        legs = [(acc("risk_fund"), cny(-a)), ("Assets:Cash:Outside", cny(a))]
    elif kind == "suspense":
        legs = [(acc("suspense"), cny(a)), ("Assets:Cash:Outside", cny(-a))]
    elif kind == "parent":
        legs = [(acc("pool"), cny(a)), (acc("injection"), cny(-a))]
    elif kind == "mixed":
        legs = [
            (acc("guarantee_fund"), cny(a)),
            (acc("fee_income"), cny(-a)),
            (acc("risk_fund"), cny(b)),
            (acc("injection"), cny(-b)),
        ]
    else:  # foreign
        legs = [(acc("guarantee_fund"), Amount(a, "USD")), ("Assets:Cash:Outside", Amount(-a, "USD"))]
    links = frozenset(draw(st.lists(st.sampled_from([*loans, "NO-SUCH-LOAN"]), max_size=2)))
    postings = [Posting(name, units, None, None, None, None) for name, units in legs]
    return Transaction(meta, day, "*", "生成", kind, frozenset(), links, postings)


@st.composite
def books(draw):
    """A sorted list of entries as Beancount would hand them to a plugin."""
    loans = [f"L-{i}" for i in range(draw(st.integers(1, 4)))]
    day = datetime.date(2024, 1, 1)
    entries = []
    for lineno in range(1, draw(st.integers(0, 45)) + 1):
        day += datetime.timedelta(days=draw(st.integers(0, 25)))
        if draw(st.integers(0, 2)):
            entries.append(draw(register_event(day, lineno, loans)))
        else:
            entries.append(draw(cash_entry(day, lineno, loans)))
    entries.sort(key=entry_sortkey)
    return entries


@MODEST
@given(books())
def test_engine_never_raises_and_its_records_add_up(entries) -> None:
    analysis = analyse(entries, RULEBOOK)
    for finding in analysis.findings:
        assert finding.rule in CATALOGUE or finding.rule == FORMAT_RULE
        assert finding.severity in SEVERITY_LABELS
        assert finding.message and finding.citation
        if finding.rule == FORMAT_RULE:
            assert finding.citation == FORMAT_CITATION
        else:
            assert finding.program in RULEBOOK.programs
            assert finding.rule in RULEBOOK.programs[finding.program].rules
        str(finding)  # printable, as the plugin and the CLI print it
    for allocation in analysis.records.interest:
        parts = (allocation.expected_guarantee, allocation.expected_risk)
        assert sum(parts) == allocation.total, allocation
        assert all(p == p.quantize(FEN) for p in parts)
    for claim in analysis.records.claims.values():
        assert claim.guarantee_paid >= 0 and claim.risk_paid >= 0
    for recovery in analysis.records.recoveries:
        assert sum(recovery.parts.values()) + recovery.excess == recovery.net
        assert all(part >= 0 for part in recovery.parts.values())


# --------------------------------------------------------------------------------------
# The arithmetic.

weights = st.lists(st.integers(min_value=0, max_value=10**15).map(Decimal), min_size=1, max_size=6).filter(
    lambda ws: any(ws)
)
signed_fen = st.integers(min_value=-10**12, max_value=10**12).map(lambda n: Decimal(n) * FEN)


@MODEST
@given(signed_fen, weights)
def test_largest_remainder_parts_are_fen_and_sum_to_total(total: Decimal, ws: list[Decimal]) -> None:
    parts = largest_remainder(total, ws)
    assert len(parts) == len(ws)
    assert sum(parts) == total
    weight_sum = sum(ws)
    for part, weight in zip(parts, ws):
        assert part == part.quantize(FEN)
        # Each part is its exact share, rounded down or up by less than a fen.
        exact = total * weight / weight_sum
        assert abs(part - exact) < FEN
        if weight == 0:
            assert part == 0


@MODEST
@given(
    signed_fen,
    st.integers(min_value=0, max_value=10**15).map(Decimal),
    st.integers(min_value=0, max_value=10**15).map(Decimal),
)
def test_split_interest_sums_to_the_bank_figure(total: Decimal, jg: Decimal, jr: Decimal) -> None:
    if jg + jr == 0:
        jr = Decimal(1)
    guarantee, risk = split_interest(total, jg, jr)
    assert guarantee + risk == total
    assert guarantee == guarantee.quantize(FEN) and risk == risk.quantize(FEN)


@MODEST
@given(
    st.integers(min_value=0, max_value=10**12).map(lambda n: Decimal(n) * FEN),
    signed_fen,
    signed_fen,
    st.integers(min_value=0, max_value=1000).map(lambda n: Decimal(n) / 1000),
)
def test_plan_waterfall_parts_sum_to_due(due: Decimal, g_avail: Decimal, r_avail: Decimal, share: Decimal) -> None:
    plan = plan_waterfall(due, g_avail, r_avail, share)
    assert plan.guarantee + plan.risk + plan.bank + plan.uncovered == due
    for part in (plan.guarantee, plan.risk, plan.bank, plan.uncovered):
        assert part >= 0
        assert part == part.quantize(FEN)
    assert plan.guarantee <= max(g_avail, Decimal(0))
    assert plan.risk <= max(r_avail, Decimal(0))
    assert plan.guarantee == min(due, max(g_avail, Decimal(0)))  # the guarantee fund pays first


@MODEST
@given(st.integers(min_value=-10**15, max_value=10**15).map(lambda n: Decimal(n) / 1000))
def test_half_up_is_to_the_fen_and_within_half_a_fen(value: Decimal) -> None:
    rounded = half_up(value)
    assert rounded == rounded.quantize(FEN)
    assert abs(rounded - value) <= Decimal("0.005")
    if abs(rounded - value) == Decimal("0.005"):
        assert abs(rounded) > abs(value)  # halves go away from zero
