"""zhubaodai.checks.waterfall's table of parties (comp.shares) against hand-computed parts and
the exact Chinese texts (issue #14, part B).

SZPS (坪山): the base is the claim's unpaid principal; the pool (风险补偿金, which SZPS calls
资金池) bears 40%, the guarantor 40% (``guarantor_share``), the bank the rest, 20%
(``bank_share``), largest remainder to the fen; a recovery (net of costs and penalty) lowers
the unpaid principal and the pool's part with it (``shrink``): what it paid beyond its new
part goes back to it. JHJD (金东): the pool (风险池基金) pays the whole base (principal and
interest) first; a recovery flows back to it up to what it paid; the loss left (``custom
"loan" "loss"``) is borne by the government, the guarantor and the bank 40/40/20.

Every figure is computed by hand in the comments; the texts are written out in full. Where a
case needs another table (a guarantee fund in the table, no ``shrink``, a table that changes),
a copy of rules.yaml is changed in one place, as tests/test_waterfall_shapes.py does.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

from beancount import loader
from beancount.core.data import Transaction

from zhubaodai.checks.waterfall import SharedClaim
from zhubaodai.checks.waterfall import claim_parts
from zhubaodai.checks.waterfall import npl_classified
from zhubaodai.checks.waterfall import parties_of
from zhubaodai.checks.waterfall import program_parties
from zhubaodai.checks.waterfall import recorded_share
from zhubaodai.checks.waterfall import split_shares
from zhubaodai.checks.waterfall import uses_npl
from zhubaodai.core.engine import GUARANTEE
from zhubaodai.core.engine import RISK
from zhubaodai.core.engine import Analysis
from zhubaodai.core.engine import analyse
from zhubaodai.core.findings import FORMAT_RULE
from zhubaodai.core.rules import PartyShare
from zhubaodai.core.rules import Rulebook
from zhubaodai.core.rules import load_rules
from zhubaodai.core.rules import parse_rules

ROOT = Path(__file__).resolve().parent.parent
RULES_TEXT = (ROOT / "rules.yaml").read_text(encoding="utf-8")
RULES = load_rules(ROOT / "rules.yaml")
COMMON = ROOT / "tests" / "ledgers" / "common"
D = Decimal
day = datetime.date.fromisoformat


def variant(old: str, new: str) -> Rulebook:
    """rules.yaml with one passage changed (the passage must occur exactly once)."""
    assert RULES_TEXT.count(old) == 1, f"rules.yaml changed: {old!r}"
    return parse_rules(RULES_TEXT.replace(old, new), str(ROOT / "rules.yaml"))


def run(text: str, rules: Rulebook = RULES) -> Analysis:
    entries, errors, _ = loader.load_string(text)
    assert errors == [], errors
    return analyse(entries, rules)


def found(analysis: Analysis, rule: str = "comp.shares") -> list[tuple]:
    """A rule's findings as (message, program, loan, date, severity, figures)."""
    return [
        (f.message, f.program, f.loan, f.date, f.severity, f.figures)
        for f in analysis.findings
        if f.rule == rule
    ]


def entry_of(analysis: Analysis, rule: str = "comp.shares") -> list[tuple]:
    """The entries a rule's findings point at: (date, type, narration or custom values)."""
    out = []
    for f in analysis.findings:
        if f.rule != rule:
            continue
        e = f.entry
        what = e.narration if isinstance(e, Transaction) else " ".join(str(v.value) for v in e.values)
        out.append((e.date, type(e).__name__, what))
    return out


# --- SZPS: 40% pool, 40% guarantor, 20% bank --------------------------------------------------

SZ = f"""\
option "operating_currency" "CNY"
include "{COMMON / "szps.beancount"}"
2026-02-05 custom "program" "open" "SZPS"
2026-02-06 * "坪山区财政局" "注入风险补偿金"
  Assets:SZPS:Pool:Risk                    10000000.00 CNY
  Income:SZPS:Risk:Injection              -10000000.00 CNY
2026-02-10 custom "enterprise" "register" "E-SZ-001"
  program: "SZPS"
  name: "甲公司"
  size: "小型"
2026-03-02 custom "loan" "approval" "SZ-1"
  program: "SZPS"
  enterprise: "E-SZ-001"
  amount: 1000000.00 CNY
  letter: "函1"
2026-03-02 custom "loan" "contract" "SZ-1"
  amount: 1000000.00 CNY
2026-03-02 custom "loan" "disbursement" "SZ-1"
  amount: 1000000.00 CNY
2026-03-02 custom "loan" "guarantee_fee" "SZ-1"
  amount: 10000.00 CNY
  guarantor: "担保公司"
2026-03-05 custom "loan" "approval" "SZ-2"
  program: "SZPS"
  enterprise: "E-SZ-001"
  amount: 40000000.00 CNY
  letter: "函2"
2026-03-05 custom "loan" "contract" "SZ-2"
  amount: 40000000.00 CNY
2026-03-05 custom "loan" "disbursement" "SZ-2"
  amount: 40000000.00 CNY
2026-03-05 custom "loan" "guarantee_fee" "SZ-2"
  amount: 400000.00 CNY
  guarantor: "担保公司"
2026-09-30 custom "loan" "npl" "SZ-1"
  classification: "次级"
  principal: 1000000.00 CNY
2026-10-09 custom "loan" "claim" "SZ-1"
  principal: {{principal}} CNY
  letter: "银行函"
  approval: "同意"
"""


def sz(principal: str = "1000000.00") -> str:
    return SZ.replace("{principal}", principal)


def sz_comp(date: str = "2026-10-16", risk: str = "400000.00", guarantor: str | None = "400000.00 CNY",
            bank: str | None = "200000.00 CNY", loan: str = "SZ-1", extra: str = "") -> str:
    text = f'{date} * "建设银行" "风险补偿 {loan}" ^{loan}\n'
    if guarantor is not None:
        text += f"  guarantor_share: {guarantor}\n"
    if bank is not None:
        text += f"  bank_share: {bank}\n"
    text += extra
    text += f"  Expenses:SZPS:Risk:Compensation  {risk} CNY\n  Assets:SZPS:Pool:Risk  -{risk} CNY\n"
    return text


def sz_recovery(date: str = "2027-01-15", recovered: str = "300000.00", costs: str | None = "50000.00",
                penalty: str | None = None, loan: str = "SZ-1") -> str:
    text = f'{date} custom "loan" "recovery" "{loan}"\n  recovered: {recovered} CNY\n  letter: "追偿函"\n'
    if costs is not None:
        text += f"  costs: {costs} CNY\n"
    if penalty is not None:
        text += f"  penalty: {penalty} CNY\n"
    return text


def sz_back(date: str, amount: str, loan: str = "SZ-1") -> str:
    return (f'{date} * "建设银行" "退回资金池 {loan}" ^{loan}\n'
            f"  Assets:SZPS:Pool:Risk  {amount} CNY\n  Income:SZPS:Risk:Recovery  -{amount} CNY\n")


# --- JHJD: the pool pays the whole base first; the loss left is borne 40/40/20 -----------------

JH = f"""\
option "operating_currency" "CNY"
include "{COMMON / "jhjd.beancount"}"
2025-01-02 custom "program" "open" "JHJD"
2025-01-06 * "金东区财政局" "注入（政府）"
  funder: "政府"
  Assets:JHJD:Pool:Risk                 4000000.00 CNY
  Income:JHJD:Risk:Injection           -4000000.00 CNY
2025-01-06 * "担保公司" "注入（担保公司）"
  funder: "担保公司"
  Assets:JHJD:Pool:Risk                 4000000.00 CNY
  Income:JHJD:Risk:Injection           -4000000.00 CNY
2025-01-06 * "银行" "注入（合作银行）"
  funder: "合作银行"
  Assets:JHJD:Pool:Risk                 2000000.00 CNY
  Income:JHJD:Risk:Injection           -2000000.00 CNY
2025-02-10 custom "enterprise" "register" "E-JH-001"
  program: "JHJD"
  name: "乙公司"
  size: "小型"
2025-03-03 custom "loan" "approval" "JH-1"
  program: "JHJD"
  enterprise: "E-JH-001"
  amount: 1000000.00 CNY
  letter: "函"
2025-03-03 custom "loan" "contract" "JH-1"
  amount: 1000000.00 CNY
  maturity: 2026-03-03
2025-03-03 custom "loan" "disbursement" "JH-1"
  amount: 1000000.00 CNY
2025-09-01 custom "loan" "overdue" "JH-1"
  principal: 1000000.00 CNY
  interest: 20000.01 CNY
2025-11-30 custom "loan" "claim" "JH-1"
  principal: 1000000.00 CNY
  interest: 20000.01 CNY
  letter: "银行函"
  approval: "同意"
"""


def jh_comp(date: str = "2025-11-30", amount: str = "1020000.01", extra: str = "") -> str:
    return (f'{date} * "银行" "先行赔付 JH-1" ^JH-1\n{extra}'
            f"  Expenses:JHJD:Risk:Compensation  {amount} CNY\n  Assets:JHJD:Pool:Risk  -{amount} CNY\n")


def jh_recovery(date: str = "2026-03-16", recovered: str = "300000.00", costs: str | None = "50000.00",
                penalty: str | None = None) -> str:
    text = f'{date} custom "loan" "recovery" "JH-1"\n  recovered: {recovered} CNY\n  letter: "追偿函"\n'
    if costs is not None:
        text += f"  costs: {costs} CNY\n"
    if penalty is not None:
        text += f"  penalty: {penalty} CNY\n"
    return text


def jh_back(date: str = "2026-03-20", amount: str = "250000.00") -> str:
    return (f'{date} * "银行" "追偿款补回 JH-1" ^JH-1\n'
            f"  Assets:JHJD:Pool:Risk  {amount} CNY\n  Income:JHJD:Risk:Recovery  -{amount} CNY\n")


def jh_loss(date: str = "2026-03-31", government: str | None = "308000.01", guarantor: str | None = "308000.00",
            bank: str | None = "154000.00", extra: str = "") -> str:
    text = f'{date} custom "loan" "loss" "JH-1"\n  letter: "纪要"\n'
    for key, value in (("government_share", government), ("guarantor_share", guarantor), ("bank_share", bank)):
        if value is not None:
            text += f"  {key}: {value} CNY\n"
    return text + extra


# --- pure functions ---------------------------------------------------------------------------

TABLE = (PartyShare("risk", D("0.40")), PartyShare("guarantor", D("0.40")), PartyShare("bank", D("0.20"), rest=True))


def test_split_shares_by_largest_remainder_ties_to_the_party_listed_first() -> None:
    assert split_shares(D("1000000.00"), TABLE) == {"risk": D("400000.00"), "guarantor": D("400000.00"),
                                                    "bank": D("200000.00")}
    # 100.01: 40.004 / 40.004 / 20.002 → 40.00 / 40.00 / 20.00 and one fen left; the remainders
    # 0.4 / 0.4 / 0.2 fen: the tie goes to the risk fund, listed first.
    assert split_shares(D("100.01"), TABLE) == {"risk": D("40.01"), "guarantor": D("40.00"), "bank": D("20.00")}
    # 999,999.99: 399,999.996 / 399,999.996 / 199,999.998 → two fen left: the bank (0.8), then the risk fund.
    assert split_shares(D("999999.99"), TABLE) == {"risk": D("400000.00"), "guarantor": D("399999.99"),
                                                   "bank": D("200000.00")}
    assert split_shares(D("0.01"), TABLE) == {"risk": D("0.01"), "guarantor": D("0.00"), "bank": D("0.00")}


def test_split_shares_of_nothing_is_zero_for_every_party() -> None:
    zero = {"risk": D("0"), "guarantor": D("0"), "bank": D("0")}
    assert split_shares(D("0.00"), TABLE) == zero
    assert split_shares(D("-5.00"), TABLE) == zero  # not a reversal: nothing is owed
    assert split_shares(D("100.00"), ()) == {}


def test_owed_is_the_table_s_parts_until_the_debtor_repays() -> None:
    from zhubaodai.checks.waterfall import Claim

    claim = Claim(None, None, D("1000.00"))  # type: ignore[arg-type]
    # parts as the claim's first compensation fixed them (here not the table's split, to
    # tell the two apart): before any repayment they are what is owed.
    shared = SharedClaim(claim, TABLE, {"risk": D("1.00"), "guarantor": D("2.00"), "bank": D("3.00")})
    owed = shared.owed()
    assert owed == {"risk": D("1.00"), "guarantor": D("2.00"), "bank": D("3.00")}
    owed["risk"] = D("9.99")
    assert shared.parts["risk"] == D("1.00")  # a copy
    # 250.00 repaid: 750.00 unpaid, 300.00 / 300.00 / 150.00.
    shared.repaid = D("250.00")
    assert shared.owed() == {"risk": D("300.00"), "guarantor": D("300.00"), "bank": D("150.00")}
    # More than the base repaid: nothing owed.
    shared.repaid = D("1000.01")
    assert shared.owed() == {"risk": D("0"), "guarantor": D("0"), "bank": D("0")}


def _meta_entries(*values: str) -> list[Transaction]:
    text = "".join(
        f'2026-01-01 * "x"\n{v}  Assets:A  1.00 CNY\n  Assets:B  -1.00 CNY\n' for v in values
    )
    entries, errors, _ = loader.load_string('2025-01-01 open Assets:A\n2025-01-01 open Assets:B\n' + text)
    assert errors == []
    return [e for e in entries if isinstance(e, Transaction)]


def test_recorded_share_reads_an_amount_or_its_text() -> None:
    amount, text, bad, absent, number = _meta_entries(
        "  bank_share: 200000.00 CNY\n", '  bank_share: "200000.01 CNY"\n', '  bank_share: "二十万"\n', "",
        "  bank_share: 200000.00\n",
    )
    assert recorded_share(amount, "bank_share") == D("200000.00")
    assert recorded_share(amount, "guarantor_share") is None
    assert recorded_share(text, "bank_share") == D("200000.01")
    assert recorded_share(bad, "bank_share") is None
    assert recorded_share(absent, "bank_share") is None
    assert recorded_share(number, "bank_share") is None  # a bare number is not an amount


def test_program_parties_in_the_fixed_order() -> None:
    programs = RULES.programs
    assert program_parties(programs["SZPS"]) == ("risk", "bank", "guarantor")
    assert program_parties(programs["JHJD"]) == ("risk",)  # the residual table is not a table of payers
    assert program_parties(programs["CQGX"]) == ("guarantee", "risk", "bank")
    assert program_parties(programs["WLHT"]) == ("guarantee", "risk", "bank")
    import dataclasses

    accounts = {k: v for k, v in programs["CQGX"].accounts.items() if k != "guarantee_fund"}
    assert program_parties(dataclasses.replace(programs["CQGX"], accounts=accounts)) == ("risk", "bank")


def test_program_parties_takes_every_version_of_the_table() -> None:
    rules = variant(
        "                guarantor: 0.40\n                bank: rest\n",
        "                guarantor: 0.40\n                bank: rest\n"
        "              2026-06-01:\n                risk: 0.50\n                insurer: 0.30\n                bank: rest\n",
    )
    assert program_parties(rules.programs["SZPS"]) == ("risk", "bank", "guarantor", "insurer")


def test_parties_of_programs_is_their_union_in_the_fixed_order() -> None:
    programs = RULES.programs
    assert parties_of([programs["SZPS"], programs["CQGX"]]) == ("guarantee", "risk", "bank", "guarantor")
    assert parties_of([programs["JHJD"]]) == ("risk",)
    assert parties_of([]) == ()


def test_uses_npl_only_where_a_version_of_the_trigger_is_npl() -> None:
    programs = RULES.programs
    assert uses_npl(programs["SZPS"]) is True
    assert uses_npl(programs["JHJD"]) is False  # trigger: overdue
    assert uses_npl(programs["CQGX"]) is False  # no trigger: a recorded overdue
    assert uses_npl(programs["GSBY"]) is False  # no comp.scope
    later = variant("              2026-02-05: npl\n", "              2026-02-05: overdue\n              2026-06-01: npl\n")
    assert uses_npl(later.programs["SZPS"]) is True
    assert uses_npl(variant("              2026-02-05: npl\n", "              2026-02-05: overdue\n").programs["SZPS"]) is False


def test_npl_classified_is_the_latest_non_performing_classification() -> None:
    text = sz() + '2026-11-02 custom "loan" "npl" "SZ-1"\n  classification: "正常"\n'
    analysis = run(text)
    loan = analysis.register.loans["SZ-1"]
    szps = RULES.programs["SZPS"]
    assert npl_classified(szps, loan, day("2026-09-29")) is None  # not yet classified
    found_on = npl_classified(szps, loan, day("2026-09-30"))
    assert found_on is not None and (found_on.date, found_on.data["classification"]) == (day("2026-09-30"), "次级")
    assert npl_classified(szps, loan, day("2026-11-01")).date == day("2026-09-30")  # type: ignore[union-attr]
    assert npl_classified(szps, loan, day("2026-11-02")) is None  # back to 正常
    assert npl_classified(szps, loan, day("2026-02-04")) is None  # before the trigger's first version
    # Programs whose trigger is not npl: none, whatever the loan's classification.
    assert npl_classified(RULES.programs["JHJD"], loan, day("2026-10-01")) is None
    assert npl_classified(RULES.programs["CQGX"], loan, day("2026-10-01")) is None
    assert npl_classified(RULES.programs["GSBY"], loan, day("2026-10-01")) is None
    later = variant("              2026-02-05: npl\n", "              2026-02-05: overdue\n              2026-09-30: npl\n")
    assert npl_classified(later.programs["SZPS"], loan, day("2026-09-29")) is None
    assert npl_classified(later.programs["SZPS"], loan, day("2026-10-01")).date == day("2026-09-30")  # type: ignore[union-attr]


def test_a_claim_after_a_performing_classification_is_out_of_scope() -> None:
    # 关注 is not non-performing; nor does an earlier 次级 count once the loan is 正常 again.
    for classes in (("关注",), ("次级", "正常")):
        text = sz()
        for i, cls in enumerate(classes):
            text = text.replace('  classification: "次级"\n', f'  classification: "{cls}"\n', 1) if i == 0 else (
                text.replace('2026-10-09 custom "loan" "claim"',
                             f'2026-10-01 custom "loan" "npl" "SZ-1"\n  classification: "{cls}"\n'
                             '2026-10-09 custom "loan" "claim"'))
        analysis = run(text + sz_comp())
        assert found(analysis, "comp.scope") == [
            ("贷款 SZ-1 未登记不良分类（npl，次级、可疑或损失），不能申请代偿", "SZPS", "SZ-1", day("2026-10-09"), "error", ()),
        ]
        assert found(analysis, "pool.no_withdrawal") == [
            ("贷款 SZ-1 在代偿日前未登记不良分类（npl，次级、可疑或损失），不得动用专户资金代偿；支出金额 400,000.00 元",
             "SZPS", None, day("2026-10-16"), "error", (("支出金额", D("400000.00")),)),
        ]
        assert analysis.records.shares == {}


# --- SZPS: the table of parties on a compensation ---------------------------------------------


def test_szps_a_compensation_by_the_table_passes_and_is_recorded() -> None:
    analysis = run(sz() + sz_comp())
    assert found(analysis) == []
    [shared] = analysis.records.shares["SZ-1"]
    assert shared.table == TABLE
    assert shared.parts == {"risk": D("400000.00"), "guarantor": D("400000.00"), "bank": D("200000.00")}
    assert shared.paid == {"risk": D("400000.00"), "guarantor": D("400000.00"), "bank": D("200000.00")}
    assert (shared.repaid, shared.residual) == (D("0"), {})
    [claim] = analysis.records.claims.values()
    assert shared.claim is claim
    assert (claim.due, claim.guarantee_paid, claim.guarantee_done, claim.risk_paid, claim.risk_done, claim.bank_share) == (
        D("1000000.00"), D("0"), False, D("400000.00"), True, D("200000.00"))
    assert [e.date for e in claim.entries] == [day("2026-10-16")]
    assert claim_parts(analysis.records, claim) == {
        "guarantee": D("0"), "risk": D("400000.00"), "bank": D("200000.00"), "guarantor": D("400000.00")}


def test_szps_the_pool_a_fen_over_and_the_guarantor_a_fen_under() -> None:
    analysis = run(sz() + sz_comp(risk="400000.01", guarantor="399999.99 CNY"))
    assert found(analysis) == [
        ("贷款 SZ-1 代偿基数 1,000,000.00 元，资金池应按 40% 承担；资金池应付 400,000.00 元，累计实付 400,000.01 元，差额 -0.01 元",
         "SZPS", "SZ-1", day("2026-10-16"), "error",
         (("资金池应付", D("400000.00")), ("累计实付", D("400000.01")), ("差额", D("-0.01")))),
        ("贷款 SZ-1 元数据 guarantor_share 记录的担保机构承担部分与其比例 40% 不符；担保机构应承担 400,000.00 元，"
         "已记录 399,999.99 元，差额 0.01 元",
         "SZPS", "SZ-1", day("2026-10-16"), "error",
         (("担保机构应承担", D("400000.00")), ("已记录", D("399999.99")), ("差额", D("0.01")))),
    ]
    [claim] = analysis.records.claims.values()
    assert claim_parts(analysis.records, claim) == {
        "guarantee": D("0"), "risk": D("400000.01"), "bank": D("200000.00"), "guarantor": D("399999.99")}


def test_szps_the_fen_left_by_the_split_goes_by_largest_remainder() -> None:
    # 999,999.99: 400,000.00 for the pool, 399,999.99 for the guarantor, 200,000.00 for the bank.
    ok = sz("999999.99") + sz_comp(risk="400000.00", guarantor="399999.99 CNY", bank="200000.00 CNY")
    assert found(run(ok)) == []
    wrong = sz("999999.99") + sz_comp(risk="399999.99", guarantor="400000.00 CNY", bank="200000.00 CNY")
    assert [(m, f) for m, _, _, _, _, f in found(run(wrong))] == [
        ("贷款 SZ-1 代偿基数 999,999.99 元，资金池应按 40% 承担；资金池应付 400,000.00 元，累计实付 399,999.99 元，差额 0.01 元",
         (("资金池应付", D("400000.00")), ("累计实付", D("399999.99")), ("差额", D("0.01")))),
        ("贷款 SZ-1 元数据 guarantor_share 记录的担保机构承担部分与其比例 40% 不符；担保机构应承担 399,999.99 元，"
         "已记录 400,000.00 元，差额 -0.01 元",
         (("担保机构应承担", D("399999.99")), ("已记录", D("400000.00")), ("差额", D("-0.01")))),
    ]


def test_szps_the_outside_parties_must_be_recorded_on_the_first_compensation() -> None:
    analysis = run(sz() + sz_comp(guarantor=None, bank=None))
    assert found(analysis) == [
        ("贷款 SZ-1 应以元数据 guarantor_share 记录担保机构承担的部分（按 40%）；担保机构应承担 400,000.00 元",
         "SZPS", "SZ-1", day("2026-10-16"), "error", (("担保机构应承担", D("400000.00")),)),
        ("贷款 SZ-1 应以元数据 bank_share 记录合作银行承担的部分（按 20%）；合作银行应承担 200,000.00 元",
         "SZPS", "SZ-1", day("2026-10-16"), "error", (("合作银行应承担", D("200000.00")),)),
    ]
    [shared] = analysis.records.shares["SZ-1"]
    assert shared.paid == {"risk": D("400000.00")}
    [claim] = analysis.records.claims.values()
    assert claim.bank_share == D("0")
    assert claim_parts(analysis.records, claim) == {"guarantee": D("0"), "risk": D("400000.00"), "bank": D("0"),
                                                    "guarantor": D("0")}


def test_szps_the_pool_paying_in_two_parts_is_checked_on_the_total() -> None:
    # 150,000.00 with the outside parts recorded, then 250,000.00: 400,000.00 in all. The
    # first falls short (a finding with the total so far); the second completes it and
    # needs no metadata again.
    analysis = run(sz() + sz_comp(risk="150000.00") + sz_comp("2026-10-20", risk="250000.00", guarantor=None, bank=None))
    assert found(analysis) == [
        ("贷款 SZ-1 代偿基数 1,000,000.00 元，资金池应按 40% 承担；资金池应付 400,000.00 元，累计实付 150,000.00 元，"
         "差额 250,000.00 元",
         "SZPS", "SZ-1", day("2026-10-16"), "error",
         (("资金池应付", D("400000.00")), ("累计实付", D("150000.00")), ("差额", D("250000.00")))),
    ]
    [shared] = analysis.records.shares["SZ-1"]
    assert shared.paid == {"risk": D("400000.00"), "guarantor": D("400000.00"), "bank": D("200000.00")}
    [claim] = analysis.records.claims.values()
    assert [e.date for e in claim.entries] == [day("2026-10-16"), day("2026-10-20")]
    assert (claim.risk_paid, claim.bank_share) == (D("400000.00"), D("200000.00"))


def test_szps_outside_parts_recorded_only_on_the_second_payment() -> None:
    # The first payment without metadata: both outside parties are asked for, once; the
    # second records them (checked against the table) and is not asked again.
    analysis = run(sz() + sz_comp(risk="150000.00", guarantor=None, bank=None)
                   + sz_comp("2026-10-20", risk="250000.00", bank="200000.01 CNY"))
    assert [(m, d) for m, _, _, d, _, _ in found(analysis)] == [
        ("贷款 SZ-1 代偿基数 1,000,000.00 元，资金池应按 40% 承担；资金池应付 400,000.00 元，累计实付 150,000.00 元，"
         "差额 250,000.00 元", day("2026-10-16")),
        ("贷款 SZ-1 应以元数据 guarantor_share 记录担保机构承担的部分（按 40%）；担保机构应承担 400,000.00 元", day("2026-10-16")),
        ("贷款 SZ-1 应以元数据 bank_share 记录合作银行承担的部分（按 20%）；合作银行应承担 200,000.00 元", day("2026-10-16")),
        ("贷款 SZ-1 元数据 bank_share 记录的合作银行承担部分与其比例 20% 不符；合作银行应承担 200,000.00 元，"
         "已记录 200,000.01 元，差额 -0.01 元", day("2026-10-20")),
    ]
    [shared] = analysis.records.shares["SZ-1"]
    assert shared.paid == {"risk": D("400000.00"), "guarantor": D("400000.00"), "bank": D("200000.01")}


def test_szps_the_outside_parts_recorded_as_text_from_the_import_page() -> None:
    analysis = run(sz() + sz_comp(guarantor='"400000.00 CNY"', bank='"200000.00 CNY"'))
    assert found(analysis) == []
    [claim] = analysis.records.claims.values()
    assert claim.bank_share == D("200000.00")


def test_szps_the_table_in_force_on_the_first_compensation_stays() -> None:
    # From 2026-10-20 the pool bears 50%, the guarantor 30%: a claim first compensated
    # before keeps 40/40/20 for its later payments; one first compensated after takes 50/30/20.
    rules = variant(
        "                guarantor: 0.40\n                bank: rest\n",
        "                guarantor: 0.40\n                bank: rest\n"
        "              2026-10-20:\n                risk: 0.50\n                guarantor: 0.30\n                bank: rest\n",
    )
    before = run(sz() + sz_comp(risk="150000.00") + sz_comp("2026-10-21", risk="250000.00", guarantor=None, bank=None),
                 rules)
    assert [m for m, *_ in found(before)] == [
        "贷款 SZ-1 代偿基数 1,000,000.00 元，资金池应按 40% 承担；资金池应付 400,000.00 元，累计实付 150,000.00 元，"
        "差额 250,000.00 元",
    ]
    after = run(sz() + sz_comp("2026-10-21", risk="500000.00", guarantor="300000.00 CNY"), rules)
    assert found(after) == []
    assert run(sz() + sz_comp("2026-10-20", risk="500000.00", guarantor="300000.00 CNY"), rules).records.shares[
        "SZ-1"][0].parts == {"risk": D("500000.00"), "guarantor": D("300000.00"), "bank": D("200000.00")}


# --- SZPS: a recovery shrinks the parts (shrink) ----------------------------------------------


def test_szps_a_recovery_shrinks_the_pool_s_part_and_the_excess_goes_back() -> None:
    # 300,000.00 recovered less 50,000.00 costs: 250,000.00 repaid, 750,000.00 unpaid; the
    # pool's 40% is 300,000.00, it paid 400,000.00: 100,000.00 goes back.
    analysis = run(sz() + sz_comp() + sz_recovery() + sz_back("2027-01-20", "100000.00"))
    assert found(analysis) == []
    [shared] = analysis.records.shares["SZ-1"]
    assert shared.repaid == D("250000.00")
    assert shared.owed() == {"risk": D("300000.00"), "guarantor": D("300000.00"), "bank": D("150000.00")}
    back = analysis.records.loan_recoveries["SZ-1"]
    assert (back.expected[RISK], back.received[RISK], back.expected[GUARANTEE]) == (D("100000.00"), D("100000.00"), D("0"))
    assert back.last_event is not None and back.last_event.date == day("2027-01-15")
    [recovery] = analysis.records.recoveries
    assert (recovery.loan.id, recovery.event.date, recovery.gross, recovery.deductions, recovery.net, recovery.parts,
            recovery.excess) == ("SZ-1", day("2027-01-15"), D("300000.00"), D("50000.00"), D("250000.00"),
                                 {"risk": D("100000.00")}, D("0"))


def test_szps_back_a_fen_more_than_the_pool_overpaid() -> None:
    analysis = run(sz() + sz_comp() + sz_recovery() + sz_back("2027-01-20", "100000.01"))
    assert found(analysis) == [
        ("贷款 SZ-1 追偿后退回资金池超过其多付的部分（未清偿本金减少后，按比例应承担的部分随之减少，只退回超出的部分）"
         "；应补回 100,000.00 元，累计补回 100,000.01 元，超出 0.01 元",
         "SZPS", "SZ-1", day("2027-01-20"), "error",
         (("应补回", D("100000.00")), ("累计补回", D("100000.01")), ("超出", D("0.01")))),
    ]


def test_szps_back_a_fen_short_is_a_warning_on_the_recovery() -> None:
    analysis = run(sz() + sz_comp() + sz_recovery() + sz_back("2027-01-20", "99999.99"))
    assert found(analysis) == [
        ("贷款 SZ-1 未清偿本金减少后应退回资金池的部分尚未到账；应补回 100,000.00 元，已到账 99,999.99 元，差额 0.01 元",
         "SZPS", "SZ-1", day("2027-01-15"), "warning",
         (("应补回", D("100000.00")), ("已到账", D("99999.99")), ("差额", D("0.01")))),
    ]
    assert entry_of(analysis) == [(day("2027-01-15"), "Custom", "recovery SZ-1")]


def test_szps_a_second_recovery_shrinks_the_part_again() -> None:
    # Then 100,000.01 recovered without costs: 350,000.01 repaid, 649,999.99 unpaid, split
    # 259,999.996 / 259,999.996 / 129,999.998 → two fen left: the bank, then the pool:
    # 260,000.00 for the pool; it paid 400,000.00: 140,000.00 back in all, 40,000.00 more.
    analysis = run(sz() + sz_comp() + sz_recovery() + sz_back("2027-01-20", "100000.00")
                   + sz_recovery("2027-03-01", "100000.01", costs=None) + sz_back("2027-03-05", "40000.00"))
    assert found(analysis) == []
    first, second = analysis.records.recoveries
    assert (second.gross, second.deductions, second.net, second.parts) == (
        D("100000.01"), D("0.00"), D("100000.01"), {"risk": D("40000.00")})
    assert analysis.records.loan_recoveries["SZ-1"].expected[RISK] == D("140000.00")
    [shared] = analysis.records.shares["SZ-1"]
    assert shared.repaid == D("350000.01")


def test_szps_a_recovery_s_penalty_is_deducted_too() -> None:
    # 300,000.00 less 30,000.00 costs and 20,000.00 penalty: 250,000.00, as above.
    analysis = run(sz() + sz_comp() + sz_recovery(costs="30000.00", penalty="20000.00") + sz_back("2027-01-20", "100000.00"))
    assert found(analysis) == []
    [recovery] = analysis.records.recoveries
    assert (recovery.deductions, recovery.net) == (D("50000.00"), D("250000.00"))


def test_szps_costs_above_the_recovery_repay_nothing() -> None:
    analysis = run(sz() + sz_comp() + sz_recovery(recovered="100.00", costs="200.00"))
    assert found(analysis) == []
    [recovery] = analysis.records.recoveries
    assert (recovery.gross, recovery.deductions, recovery.net, recovery.parts) == (D("100.00"), D("100.00"), D("0"), {})
    assert analysis.records.shares["SZ-1"][0].repaid == D("0")


def test_szps_a_recovery_of_the_whole_base_sends_back_all_the_pool_paid() -> None:
    # 1,200,000.00 recovered: more than the unpaid 1,000,000.00: nothing owed, all 400,000.00 back.
    analysis = run(sz() + sz_comp() + sz_recovery(recovered="1200000.00", costs=None) + sz_back("2027-01-20", "400000.00"))
    assert found(analysis) == []
    assert analysis.records.recoveries[0].parts == {"risk": D("400000.00")}
    # The claim (the loan's only one, so its last) keeps the whole net recovery as repaid.
    assert analysis.records.shares["SZ-1"][0].repaid == D("1200000.00")


def test_szps_a_recovery_before_any_compensation_is_a_warning() -> None:
    analysis = run(sz() + sz_recovery("2026-10-12"))
    assert found(analysis) == [
        ("贷款 SZ-1 尚未发生代偿，追偿款无须退回资金池", "SZPS", "SZ-1", day("2026-10-12"), "warning", ()),
    ]
    assert analysis.records.recoveries == []
    assert analysis.records.loan_recoveries == {}


def test_szps_without_shrink_the_recovery_flows_back_up_to_what_the_pool_paid() -> None:
    no_shrink = variant("              2026-02-05: true\n", "              2026-02-05: false\n")
    # 250,000.00 net goes back to the pool (it paid 400,000.00).
    analysis = run(sz() + sz_comp() + sz_recovery() + sz_back("2027-01-20", "250000.01"), no_shrink)
    assert found(analysis) == [
        ("贷款 SZ-1 追偿款补回资金池超过应补回的金额（追偿净额补回资金池，以其代偿额为限）"
         "；应补回 250,000.00 元，累计补回 250,000.01 元，超出 0.01 元",
         "SZPS", "SZ-1", day("2027-01-20"), "error",
         (("应补回", D("250000.00")), ("累计补回", D("250000.01")), ("超出", D("0.01")))),
    ]
    [shared] = analysis.records.shares["SZ-1"]
    assert shared.repaid == D("250000.00")
    pending = run(sz() + sz_comp() + sz_recovery(), no_shrink)
    assert [m for m, *_ in found(pending)] == [
        "贷款 SZ-1 追偿款应补回资金池的部分尚未到账；应补回 250,000.00 元，已到账 0.00 元，差额 250,000.00 元"]


def test_szps_shrink_follows_the_version_in_force_on_the_recovery() -> None:
    # shrink true until 2027-01-31, false from 2027-02-01.
    rules = variant("              2026-02-05: true\n", "              2026-02-05: true\n              2027-02-01: false\n")
    shrinking = run(sz() + sz_comp() + sz_recovery("2027-01-31"), rules)
    assert [m for m, *_ in found(shrinking)] == [
        "贷款 SZ-1 未清偿本金减少后应退回资金池的部分尚未到账；应补回 100,000.00 元，已到账 0.00 元，差额 100,000.00 元"]
    flowing = run(sz() + sz_comp() + sz_recovery("2027-02-01"), rules)
    assert [m for m, *_ in found(flowing)] == [
        "贷款 SZ-1 追偿款应补回资金池的部分尚未到账；应补回 250,000.00 元，已到账 0.00 元，差额 250,000.00 元"]
    # The excess message follows the version on the recovery, not on the day the cash arrives.
    late_cash = run(sz() + sz_comp() + sz_recovery("2027-01-31") + sz_back("2027-02-03", "100000.01"), rules)
    assert [m for m, *_ in found(late_cash)] == [
        "贷款 SZ-1 追偿后退回资金池超过其多付的部分（未清偿本金减少后，按比例应承担的部分随之减少，只退回超出的部分）"
        "；应补回 100,000.00 元，累计补回 100,000.01 元，超出 0.01 元"]


# --- JHJD: recoveries back to the pool, the loss left split 40/40/20 ---------------------------


def test_jhjd_the_pool_pays_first_and_the_loss_is_split_by_the_residual_table() -> None:
    # Paid 1,020,000.01; 300,000.00 - 50,000.00 = 250,000.00 back; loss 770,000.01:
    # 308,000.004 / 308,000.004 / 154,000.002 → one fen left, to the government (listed first).
    analysis = run(JH + jh_comp() + jh_recovery() + jh_back() + jh_loss())
    assert found(analysis) == []
    [shared] = analysis.records.shares["JH-1"]
    assert shared.paid == {"risk": D("1020000.01")}
    assert shared.residual == {"government": D("308000.01"), "guarantor": D("308000.00"), "bank": D("154000.00")}
    [recovery] = analysis.records.recoveries
    assert (recovery.gross, recovery.deductions, recovery.net, recovery.parts, recovery.excess) == (
        D("300000.00"), D("50000.00"), D("250000.00"), {"risk": D("250000.00")}, D("0.00"))
    [claim] = analysis.records.claims.values()
    assert claim_parts(analysis.records, claim) == {"guarantee": D("0"), "risk": D("1020000.01"), "bank": D("0")}


def test_jhjd_the_residual_follows_every_step() -> None:
    # Right after the compensation the whole payment is the loss: 1,020,000.01 →
    # 408,000.004 / 408,000.004 / 204,000.002 → 408,000.01 / 408,000.00 / 204,000.00.
    paid = run(JH + jh_comp())
    assert paid.records.shares["JH-1"][0].residual == {
        "government": D("408000.01"), "guarantor": D("408000.00"), "bank": D("204000.00")}
    # After the recovery (its cash not yet arrived): what is owed back counts, 770,000.01.
    recovered = run(JH + jh_comp() + jh_recovery())
    assert recovered.records.shares["JH-1"][0].residual == {
        "government": D("308000.01"), "guarantor": D("308000.00"), "bank": D("154000.00")}


def test_jhjd_the_pool_a_fen_short() -> None:
    analysis = run(JH + jh_comp(amount="1020000.00"))
    assert found(analysis) == [
        ("贷款 JH-1 代偿基数 1,020,000.01 元，风险池基金应按 100% 承担；风险池基金应付 1,020,000.01 元，累计实付 1,020,000.00 元，"
         "差额 0.01 元",
         "JHJD", "JH-1", day("2025-11-30"), "error",
         (("风险池基金应付", D("1020000.01")), ("累计实付", D("1020000.00")), ("差额", D("0.01")))),
    ]


def test_jhjd_a_recovery_beyond_what_the_pool_paid_is_left_over() -> None:
    # 2,000,000.00 recovered, no costs: 1,020,000.01 back (all the pool paid), 979,999.99 left.
    analysis = run(JH + jh_comp() + jh_recovery(recovered="2000000.00", costs=None) + jh_back(amount="1020000.01"))
    assert found(analysis) == []
    [recovery] = analysis.records.recoveries
    assert (recovery.net, recovery.parts, recovery.excess) == (D("2000000.00"), {"risk": D("1020000.01")}, D("979999.99"))
    assert analysis.records.shares["JH-1"][0].residual == {"government": D("0"), "guarantor": D("0"), "bank": D("0")}


def test_jhjd_a_second_recovery_takes_only_what_is_left_of_the_payment() -> None:
    # 250,000.00, then 900,000.00 with 100,000.00 penalty (800,000.00 net): room 770,000.01.
    analysis = run(JH + jh_comp() + jh_recovery() + jh_recovery("2026-04-01", "900000.00", costs=None, penalty="100000.00"))
    first, second = analysis.records.recoveries
    assert (second.deductions, second.net, second.parts, second.excess) == (
        D("100000.00"), D("800000.00"), {"risk": D("770000.01")}, D("29999.99"))
    assert analysis.records.loan_recoveries["JH-1"].expected[RISK] == D("1020000.01")
    assert analysis.records.shares["JH-1"][0].repaid == D("1050000.00")  # 250,000.00 + 800,000.00
    assert analysis.records.loan_recoveries["JH-1"].last_event.date == day("2026-04-01")  # type: ignore[union-attr]
    assert [m for m, *_ in found(analysis)] == [
        "贷款 JH-1 追偿款应补回风险池基金的部分尚未到账；应补回 1,020,000.01 元，已到账 0.00 元，差额 1,020,000.01 元"]
    assert entry_of(analysis) == [(day("2026-04-01"), "Custom", "recovery JH-1")]


def test_jhjd_costs_above_the_recovery_bring_nothing_back() -> None:
    analysis = run(JH + jh_comp() + jh_recovery(recovered="100.00", costs="200.00"))
    [recovery] = analysis.records.recoveries
    assert (recovery.deductions, recovery.net, recovery.parts, recovery.excess) == (D("100.00"), D("0"), {}, D("0"))
    assert found(analysis) == []


def test_jhjd_a_recovery_before_any_compensation_is_a_warning() -> None:
    analysis = run(JH + jh_recovery("2025-12-01"))
    assert found(analysis) == [
        ("贷款 JH-1 尚未发生代偿，追偿款无须退回资金池", "JHJD", "JH-1", day("2025-12-01"), "warning", ()),
    ]
    assert analysis.records.recoveries == []


def test_jhjd_a_loss_a_fen_off_names_the_party_and_its_share() -> None:
    analysis = run(JH + jh_comp() + jh_recovery() + jh_back() + jh_loss(government="308000.00", guarantor="308000.01"))
    assert found(analysis) == [
        ("贷款 JH-1 追偿后仍未弥补的损失 770,000.01 元，政府应按 40% 承担；政府应承担 308,000.01 元，已记录 308,000.00 元，差额 0.01 元",
         "JHJD", "JH-1", day("2026-03-31"), "error",
         (("政府应承担", D("308000.01")), ("已记录", D("308000.00")), ("差额", D("0.01")))),
        ("贷款 JH-1 追偿后仍未弥补的损失 770,000.01 元，担保机构应按 40% 承担；担保机构应承担 308,000.00 元，已记录 308,000.01 元，"
         "差额 -0.01 元",
         "JHJD", "JH-1", day("2026-03-31"), "error",
         (("担保机构应承担", D("308000.00")), ("已记录", D("308000.01")), ("差额", D("-0.01")))),
    ]
    assert entry_of(analysis) == [(day("2026-03-31"), "Custom", "loss JH-1")] * 2


def test_jhjd_a_loss_without_a_party_s_part() -> None:
    analysis = run(JH + jh_comp() + jh_recovery() + jh_back() + jh_loss(bank=None))
    assert found(analysis) == [
        ("贷款 JH-1 追偿后仍未弥补的损失 770,000.01 元，应以元数据 bank_share 记录合作银行按 20% 承担的部分；"
         "合作银行应承担 154,000.00 元",
         "JHJD", "JH-1", day("2026-03-31"), "error", (("合作银行应承担", D("154000.00")),)),
    ]


def test_jhjd_each_loss_event_keeps_its_split_for_the_faces() -> None:
    # records.losses: the loss 770,000.01 (1,020,000.01 paid less 250,000.00 back) and each
    # party's 40/40/20 part (308,000.01 / 308,000.00 / 154,000.00, the fen to the government
    # listed first) beside what the event records: the government 0.01 short, the guarantor
    # 0.01 over, the bank not recorded (all of its part is the difference).
    analysis = run(JH + jh_comp() + jh_recovery() + jh_back() + jh_loss(government="308000.00", guarantor="308000.01", bank=None))
    [kept] = analysis.records.losses
    assert (kept.loan.id, kept.event.kind, kept.event.date, kept.loss, kept.ok) == (
        "JH-1", "loss", day("2026-03-31"), D("770000.01"), False)
    assert [(p.party, p.label, p.share, p.due, p.recorded, p.difference) for p in kept.parts] == [
        ("government", "政府", D("0.40"), D("308000.01"), D("308000.00"), D("0.01")),
        ("guarantor", "担保机构", D("0.40"), D("308000.00"), D("308000.01"), D("-0.01")),
        ("bank", "合作银行", D("0.20"), D("154000.00"), None, D("154000.00")),
    ]
    # Recorded as due: the split is kept all the same, and it is ok.
    [kept] = run(JH + jh_comp() + jh_recovery() + jh_back() + jh_loss()).records.losses
    assert (kept.loss, kept.ok, [(p.due, p.recorded) for p in kept.parts]) == (D("770000.01"), True, [
        (D("308000.01"), D("308000.01")), (D("308000.00"), D("308000.00")), (D("154000.00"), D("154000.00"))])


def test_jhjd_a_loss_records_a_party_outside_the_table() -> None:
    analysis = run(JH + jh_comp() + jh_recovery() + jh_back() + jh_loss(extra="  insurer_share: 10.00 CNY\n"))
    assert found(analysis) == [
        ("贷款 JH-1 的损失分担记录了保险公司承担的部分（insurer_share），但本项目追偿后损失的分担表中没有这一方；已记录 10.00 元",
         "JHJD", "JH-1", day("2026-03-31"), "error", (("已记录", D("10.00")),)),
    ]


def test_jhjd_a_loss_before_the_recovery_s_cash_counts_what_is_owed_back() -> None:
    # The recovery's 250,000.00 is owed back though not arrived: the loss is 770,000.01 all the same.
    analysis = run(JH + jh_comp() + jh_recovery() + jh_loss("2026-03-18"))
    assert [m for m, *_ in found(analysis)] == [
        "贷款 JH-1 追偿款应补回风险池基金的部分尚未到账；应补回 250,000.00 元，已到账 0.00 元，差额 250,000.00 元"]


def test_jhjd_a_loss_with_no_recovery_splits_the_whole_payment() -> None:
    analysis = run(JH + jh_comp() + jh_loss("2026-01-20", "408000.01", "408000.00", "204000.00"))
    assert found(analysis) == []


def test_jhjd_a_loss_before_any_compensation() -> None:
    analysis = run(JH + jh_loss("2025-12-20"))
    assert found(analysis) == [
        ("贷款 JH-1 尚未发生代偿，没有可分担的损失", "JHJD", "JH-1", day("2025-12-20"), "error", ()),
    ]


def test_a_loss_where_the_program_has_no_residual_table_is_a_format_error() -> None:
    analysis = run(sz() + sz_comp() + '2027-01-20 custom "loan" "loss" "SZ-1"\n  bank_share: 1.00 CNY\n')
    assert found(analysis, FORMAT_RULE) == [
        ("贷款 SZ-1 登记了损失分担（loss），但本项目的规则没有追偿后损失的分担表（comp.shares 的 residual）",
         None, None, day("2027-01-20"), "error", ()),
    ]
    assert found(analysis) == []


# --- a table with both funds of the pool (CQGX's accounts, comp.shares in place of comp.waterfall) --

CQ_WATERFALL = """\
      comp.waterfall:
        severity: error
        article: 第十七条
        summary: 逾期贷款先以助保金代偿；助保金不足的部分由风险补偿金与合作银行各承担一半。
        reading: 助保金按全池余额（含孳息）先付，不足时付尽余额；不足部分的一半四舍五入到分由风险补偿金承担，其余由银行承担，银行承担额以 bank_share 元数据记录。
        params:
          risk_share:
            article: 第十七条
            values:
              2021-02-24: 0.5
"""


def cq_shares(table: str = "                guarantee: 0.02\n                risk: 0.49\n                bank: rest\n",
              recovery_order: bool = True) -> Rulebook:
    """CQGX with a table of parties (test only): by default 2% guarantee fund, 49% risk fund,
    the bank the rest (49%)."""
    block = ("      comp.shares:\n        severity: error\n        article: 第十七条（测试）\n"
             "        summary: 测试用分担表。\n        reading: 测试用分担表。\n        params:\n          parties:\n"
             "            article: 第十七条（测试）\n            values:\n              2021-02-24:\n" + table)
    text = RULES_TEXT.replace(CQ_WATERFALL, block)
    assert text != RULES_TEXT
    if not recovery_order:
        start = text.index("      recovery.order:\n        severity: error\n        article: 第十八条\n")
        end = text.index("      loan.amount:", start)
        text = text[:start] + text[end:]
    return parse_rules(text, str(ROOT / "rules.yaml"))


CQ = f"""\
option "operating_currency" "CNY"
include "{COMMON / "cqgx.beancount"}"
2024-01-02 custom "program" "open" "CQGX"
2024-01-02 * "财政局" "注入风险补偿金"
  Assets:CQGX:Pool:Risk          5000000.00 CNY
  Income:CQGX:Risk:Injection    -5000000.00 CNY
2024-01-05 custom "enterprise" "register" "E-1"
  program: "CQGX"
  name: "甲公司"
  size: "小型"
2024-03-01 custom "loan" "approval" "CQ-1"
  program: "CQGX"
  enterprise: "E-1"
  amount: 1000000.00 CNY
  letter: "函"
2024-03-05 * "甲公司" "缴纳助保金" ^CQ-1
  Assets:CQGX:Pool:Guarantee      25000.00 CNY
  Income:CQGX:Guarantee:Fees     -25000.00 CNY
2024-03-08 custom "loan" "contract" "CQ-1"
  amount: 1000000.00 CNY
2024-03-11 custom "loan" "disbursement" "CQ-1"
  amount: 1000000.00 CNY
  notice_date: 2024-03-11
2025-01-10 custom "loan" "overdue" "CQ-1"
  principal: 1000000.00 CNY
  interest: 20000.00 CNY
2025-01-15 custom "loan" "claim" "CQ-1"
  principal: 1000000.00 CNY
  interest: 20000.00 CNY
  letter: "函"
  approval: "同意"
"""


def cq_comp(date: str = "2025-02-10", guarantee: str | None = "20400.00", risk: str | None = "499800.00",
            bank: str | None = "499800.00 CNY") -> str:
    # 1,020,000.00 due: 2% = 20,400.00; 49% = 499,800.00 for the risk fund and the bank.
    text = f'{date} * "代偿" ^CQ-1\n'
    if bank is not None:
        text += f"  bank_share: {bank}\n"
    if guarantee is not None:
        text += f"  Expenses:CQGX:Guarantee:Compensation  {guarantee} CNY\n  Assets:CQGX:Pool:Guarantee  -{guarantee} CNY\n"
    if risk is not None:
        text += f"  Expenses:CQGX:Risk:Compensation  {risk} CNY\n  Assets:CQGX:Pool:Risk  -{risk} CNY\n"
    return text


def cq_recovery(date: str = "2025-06-01", recovered: str = "30000.00", costs: str = "0.00") -> str:
    return f'{date} custom "loan" "recovery" "CQ-1"\n  recovered: {recovered} CNY\n  costs: {costs} CNY\n  letter: "追偿函"\n'


def test_both_funds_in_the_table_pass_and_are_the_claim_s_figures() -> None:
    analysis = run(CQ + cq_comp(), cq_shares())
    assert found(analysis) == []
    assert found(analysis, "comp.waterfall") == []
    [claim] = analysis.records.claims.values()
    assert (claim.guarantee_paid, claim.guarantee_done, claim.risk_paid, claim.risk_done, claim.bank_share) == (
        D("20400.00"), True, D("499800.00"), True, D("499800.00"))
    assert claim_parts(analysis.records, claim) == {"guarantee": D("20400.00"), "risk": D("499800.00"),
                                                    "bank": D("499800.00")}


def test_a_fund_of_the_table_left_unpaid_is_a_warning_at_the_end() -> None:
    # Only the risk fund pays: the guarantee fund's 20,400.00 is still owed.
    analysis = run(CQ + cq_comp(guarantee=None), cq_shares())
    assert found(analysis) == [
        ("贷款 CQ-1 的代偿中助保金应承担的部分尚未入账；助保金应付 20,400.00 元", "CQGX", "CQ-1", day("2025-02-10"), "warning",
         (("助保金应付", D("20400.00")),)),
    ]
    [claim] = analysis.records.claims.values()
    assert (claim.guarantee_done, claim.risk_done) == (False, True)
    # The guarantee fund pays later: nothing left; the finding pointed at the last payment.
    later = run(CQ + cq_comp(guarantee=None) + cq_comp("2025-02-12", risk=None, bank=None), cq_shares())
    assert found(later) == []
    only_guarantee = run(CQ + cq_comp(risk=None), cq_shares())
    assert found(only_guarantee) == [
        ("贷款 CQ-1 的代偿中风险补偿金应承担的部分尚未入账；风险补偿金应付 499,800.00 元", "CQGX", "CQ-1", day("2025-02-10"),
         "warning", (("风险补偿金应付", D("499800.00")),)),
    ]
    assert entry_of(only_guarantee) == [(day("2025-02-10"), "Transaction", "代偿")]
    [claim] = only_guarantee.records.claims.values()
    assert (claim.guarantee_paid, claim.guarantee_done, claim.risk_paid, claim.risk_done, claim.bank_share) == (
        D("20400.00"), True, D("0"), False, D("499800.00"))
    # A fund whose part is nothing needs no payment.
    nothing = run(CQ + cq_comp(guarantee=None, risk="510000.00", bank="510000.00 CNY"),
                  cq_shares("                guarantee: 0\n                risk: 0.50\n                bank: rest\n"))
    assert found(nothing) == []


def test_a_fund_missing_from_the_table_pays_nothing() -> None:
    # The table has no guarantee fund (risk 50%, bank 50%): the guarantee fund's 1.00 is a finding.
    analysis = run(CQ + cq_comp(guarantee="1.00", risk="510000.00", bank="510000.00 CNY"),
                   cq_shares("                risk: 0.50\n                bank: rest\n"))
    assert found(analysis) == [
        ("贷款 CQ-1 的代偿由助保金支付，但本项目的分担表中没有助保金；支出金额 1.00 元", "CQGX", "CQ-1", day("2025-02-10"),
         "error", (("支出金额", D("1.00")),)),
    ]
    # Nor the risk fund in a table of the guarantee fund and the bank.
    analysis = run(CQ + cq_comp(guarantee="510000.00", risk="10.00", bank="510000.00 CNY"),
                   cq_shares("                guarantee: 0.50\n                bank: rest\n"))
    assert [m for m, *_ in found(analysis)] == [
        "贷款 CQ-1 的代偿由风险补偿金支付，但本项目的分担表中没有风险补偿金；支出金额 10.00 元"]


def test_outside_parts_are_asked_for_once_though_only_one_fund_has_paid() -> None:
    # The first entry pays the guarantee fund only, with no bank_share: asked for; the second
    # pays the risk fund: the bank's part is not asked for again.
    analysis = run(CQ + cq_comp(risk=None, bank=None) + cq_comp("2025-02-12", guarantee=None, bank=None), cq_shares())
    assert [(m, d) for m, _, _, d, _, _ in found(analysis)] == [
        ("贷款 CQ-1 应以元数据 bank_share 记录合作银行承担的部分（按 49%）；合作银行应承担 499,800.00 元", day("2025-02-10")),
    ]


def test_a_recovery_where_recovery_order_is_in_force_goes_by_its_order() -> None:
    # CQGX's recovery.order (bank, risk, guarantee) rules over the table: 30,000.00 to the bank.
    analysis = run(CQ + cq_comp() + cq_recovery(), cq_shares())
    [recovery] = analysis.records.recoveries
    assert recovery.parts == {"bank": D("30000.00"), "risk": D("0"), "guarantee": D("0")}
    assert found(analysis) == []


def test_without_recovery_order_the_pool_s_funds_take_back_in_the_table_s_order() -> None:
    # 30,000.00 recovered: the guarantee fund (listed first) up to its 20,400.00, the risk fund 9,600.00.
    rules = cq_shares(recovery_order=False)
    analysis = run(CQ + cq_comp() + cq_recovery(), rules)
    [recovery] = analysis.records.recoveries
    assert (recovery.net, recovery.parts, recovery.excess) == (
        D("30000.00"), {"guarantee": D("20400.00"), "risk": D("9600.00")}, D("0.00"))
    assert [m for m, *_ in found(analysis)] == [
        "贷款 CQ-1 追偿款应补回风险补偿金的部分尚未到账；应补回 9,600.00 元，已到账 0.00 元，差额 9,600.00 元",
        "贷款 CQ-1 追偿款应补回助保金的部分尚未到账；应补回 20,400.00 元，已到账 0.00 元，差额 20,400.00 元",
    ]
    # The risk fund listed first takes first.
    first = cq_shares("                risk: 0.49\n                guarantee: 0.02\n                bank: rest\n", False)
    [recovery] = run(CQ + cq_comp() + cq_recovery(), first).records.recoveries
    assert recovery.parts == {"risk": D("30000.00")}
    # Then a second recovery of 600,000.00: the risk fund's room 469,800.00, then the guarantee fund's 20,400.00.
    two = run(CQ + cq_comp() + cq_recovery() + cq_recovery("2025-07-01", "600000.00"), first)
    assert two.records.recoveries[1].parts == {"risk": D("469800.00"), "guarantee": D("20400.00")}
    assert two.records.recoveries[1].excess == D("109800.00")


def test_a_loss_where_the_program_has_no_table_of_parties_is_a_format_error() -> None:
    analysis = run(CQ + '2025-06-01 custom "loan" "loss" "CQ-1"\n  bank_share: 1.00 CNY\n')
    assert [(m, p) for m, p, *_ in found(analysis, FORMAT_RULE)] == [
        ("贷款 CQ-1 登记了损失分担（loss），但本项目的规则没有追偿后损失的分担表（comp.shares 的 residual）", None)]


def test_before_the_tables_are_in_force_each_step_points_at_its_own_entry() -> None:
    # JHJD's tables take effect on 2015-08-17; a story in July 2015 (accounts opened early).
    accounts = (COMMON / "jhjd.beancount").read_text(encoding="utf-8").replace("2025-01-01 open", "2015-01-01 open")
    text = f"""option "operating_currency" "CNY"
{accounts}
2015-07-01 custom "program" "open" "JHJD"
2015-07-01 * "金东区财政局" "注入（政府）"
  funder: "政府"
  Assets:JHJD:Pool:Risk                 4000000.00 CNY
  Income:JHJD:Risk:Injection           -4000000.00 CNY
2015-07-02 custom "enterprise" "register" "E-JH-001"
  program: "JHJD"
  name: "乙公司"
  size: "小型"
2015-07-03 custom "loan" "approval" "JH-1"
  program: "JHJD"
  enterprise: "E-JH-001"
  amount: 1000000.00 CNY
  letter: "函"
2015-07-03 custom "loan" "contract" "JH-1"
  amount: 1000000.00 CNY
  maturity: 2016-07-03
2015-07-03 custom "loan" "disbursement" "JH-1"
  amount: 1000000.00 CNY
2015-07-05 custom "loan" "overdue" "JH-1"
  principal: 1000000.00 CNY
2015-07-06 custom "loan" "claim" "JH-1"
  principal: 1000000.00 CNY
  letter: "银行函"
  approval: "同意"
2015-07-07 * "银行" "先行赔付 JH-1" ^JH-1
  Expenses:JHJD:Risk:Compensation  1000000.00 CNY
  Assets:JHJD:Pool:Risk  -1000000.00 CNY
2015-07-08 custom "loan" "recovery" "JH-1"
  recovered: 100.00 CNY
  letter: "追偿函"
2015-07-10 custom "loan" "loss" "JH-1"
  bank_share: 1.00 CNY
"""
    analysis = run(text)

    def missing(name: str, on: str) -> str:
        return (f"参数「programs.JHJD.rules.comp.shares.params.{name}」在 {on} 尚无生效版本（最早版本自 2015-08-17 起施行），"
                "无法按规则核对")

    assert found(analysis) == [
        (missing("parties", "2015-07-07"), "JHJD", None, day("2015-07-07"), "error", ()),
        ("贷款 JH-1 尚未发生代偿，追偿款无须退回资金池", "JHJD", "JH-1", day("2015-07-08"), "warning", ()),
        (missing("residual", "2015-07-08"), "JHJD", None, day("2015-07-08"), "error", ()),
        (missing("residual", "2015-07-10"), "JHJD", None, day("2015-07-10"), "error", ()),
    ]
    assert entry_of(analysis) == [
        (day("2015-07-07"), "Transaction", "先行赔付 JH-1"),
        (day("2015-07-08"), "Custom", "recovery JH-1"),
        (day("2015-07-08"), "Custom", "recovery JH-1"),
        (day("2015-07-10"), "Custom", "loss JH-1"),
    ]
    assert analysis.records.shares == {}
    # The table of payers in force from 2015-01-01 (before the program's own date), the
    # residual table not yet: the compensation is shared, its loss split is not.
    early = parse_rules(RULES_TEXT.replace("              2015-08-17:\n                risk: 1\n",
                                           "              2015-01-01:\n                risk: 1\n"), str(ROOT / "rules.yaml"))
    analysis = run(text, early)
    assert [(m, d) for m, _, _, d, _, _ in found(analysis)] == [
        (missing("residual", "2015-07-07"), day("2015-07-07")),
        (missing("residual", "2015-07-08"), day("2015-07-08")),
        (missing("residual", "2015-07-10"), day("2015-07-10")),
        ("贷款 JH-1 追偿款应补回风险池基金的部分尚未到账；应补回 100.00 元，已到账 0.00 元，差额 100.00 元", day("2015-07-08")),
    ]
    assert entry_of(analysis) == [
        (day("2015-07-07"), "Transaction", "先行赔付 JH-1"),
        (day("2015-07-08"), "Custom", "recovery JH-1"),
        (day("2015-07-10"), "Custom", "loss JH-1"),
        (day("2015-07-08"), "Custom", "recovery JH-1"),
    ]
    assert analysis.records.shares["JH-1"][0].paid == {"risk": D("1000000.00")}


def test_claim_parts_of_a_claim_without_a_table() -> None:
    # CQGX's own waterfall: 25,000.00 from the guarantee fund, 497,500.00 each for the risk fund and the bank.
    text = CQ + ('2025-02-10 * "代偿" ^CQ-1\n  bank_share: 497500.00 CNY\n'
                 "  Expenses:CQGX:Guarantee:Compensation  25000.00 CNY\n  Assets:CQGX:Pool:Guarantee  -25000.00 CNY\n"
                 "  Expenses:CQGX:Risk:Compensation  497500.00 CNY\n  Assets:CQGX:Pool:Risk  -497500.00 CNY\n")
    analysis = run(text)
    [claim] = analysis.records.claims.values()
    assert claim_parts(analysis.records, claim) == {"guarantee": D("25000.00"), "risk": D("497500.00"),
                                                    "bank": D("497500.00")}
    assert analysis.records.shares == {}


def test_recoveries_pass_over_an_outside_party_listed_before_the_funds() -> None:
    # The bank listed first: 30,000.00 still goes to the guarantee fund (20,400.00), then the risk fund.
    rules = cq_shares("                bank: 0.49\n                guarantee: 0.02\n                risk: rest\n", False)
    [recovery] = run(CQ + cq_comp() + cq_recovery(), rules).records.recoveries
    assert recovery.parts == {"guarantee": D("20400.00"), "risk": D("9600.00")}
    # And with shrink (SZPS, the guarantor listed first): 100,000.00 back as before.
    rules = variant("                risk: 0.40\n                guarantor: 0.40\n                bank: rest\n          shrink:",
                    "                guarantor: 0.40\n                risk: 0.40\n                bank: rest\n          shrink:")
    [recovery] = run(sz() + sz_comp() + sz_recovery(), rules).records.recoveries
    assert recovery.parts == {"risk": D("100000.00")}


SHRINK = "          shrink:\n            article: 第十七条（测试）\n            values:\n              2021-02-24: true\n"


def test_shrink_with_a_fund_that_has_not_paid() -> None:
    # Both funds in the table, only the risk fund has paid (499,800.00). 30,000.00 recovered:
    # 990,000.00 unpaid: 19,800.00 / 485,100.00 / 485,100.00; the risk fund gets 14,700.00
    # back, the guarantee fund (paid nothing) nothing.
    rules = cq_shares("                guarantee: 0.02\n                risk: 0.49\n                bank: rest\n" + SHRINK, False)
    analysis = run(CQ + cq_comp(guarantee=None) + cq_recovery(), rules)
    [recovery] = analysis.records.recoveries
    assert recovery.parts == {"risk": D("14700.00")}
    assert analysis.records.loan_recoveries["CQ-1"].expected == {GUARANTEE: D("0"), RISK: D("14700.00")}


def test_shrink_sends_back_a_single_fen() -> None:
    # 0.02 repaid: 999,999.98 unpaid: 399,999.992 / 399,999.992 / 199,999.996 → one fen
    # left, to the bank: 399,999.99 for the pool, which paid 400,000.00: 0.01 back.
    analysis = run(sz() + sz_comp() + sz_recovery(recovered="0.02", costs=None) + sz_back("2027-01-20", "0.01"))
    assert found(analysis) == []
    assert analysis.records.recoveries[0].parts == {"risk": D("0.01")}
    assert analysis.records.loan_recoveries["SZ-1"].expected[RISK] == D("0.01")


def test_szps_parts_of_a_yuan_or_nothing() -> None:
    # A base of 2.50: 1.00 / 1.00 / 0.50; without metadata each part is asked for.
    analysis = run(sz("2.50") + sz_comp(risk="1.00", guarantor=None, bank=None))
    assert [m for m, *_ in found(analysis)] == [
        "贷款 SZ-1 应以元数据 guarantor_share 记录担保机构承担的部分（按 40%）；担保机构应承担 1.00 元",
        "贷款 SZ-1 应以元数据 bank_share 记录合作银行承担的部分（按 20%）；合作银行应承担 0.50 元",
    ]
    # A party whose part is nothing (the bank's rest is 0 under 40/60) needs no metadata.
    rules = variant("                risk: 0.40\n                guarantor: 0.40\n                bank: rest\n          shrink:",
                    "                risk: 0.40\n                guarantor: 0.60\n                bank: rest\n          shrink:")
    assert found(run(sz() + sz_comp(guarantor="600000.00 CNY", bank=None), rules)) == []


def test_a_recovery_of_one_yuan_flows_back() -> None:
    analysis = run(JH + jh_comp() + jh_recovery(recovered="1.00", costs=None))
    assert analysis.records.recoveries[0].parts == {"risk": D("1.00")}


def test_without_shrink_a_fund_that_has_not_paid_takes_nothing_back() -> None:
    analysis = run(CQ + cq_comp(guarantee=None) + cq_recovery(), cq_shares(recovery_order=False))
    assert analysis.records.recoveries[0].parts == {"risk": D("30000.00")}


def test_szps_two_claims_on_one_loan_shrink_together() -> None:
    # A claim of 200,000.00 (80,000.00 / 80,000.00 / 40,000.00), then one of 800,000.00
    # (320,000.00 / 320,000.00 / 160,000.00). 250,000.00 repaid: the first claim is repaid in
    # full (80,000.00 back), the second is owed 40% of 550,000.00 = 220,000.00 (100,000.00 back
    # in all): 20,000.00 more.
    text = sz("200000.00") + sz_comp(risk="80000.00", guarantor="80000.00 CNY", bank="40000.00 CNY") + (
        '2026-10-20 custom "loan" "claim" "SZ-1"\n  principal: 800000.00 CNY\n  letter: "银行函2"\n  approval: "同意"\n'
    ) + sz_comp("2026-10-23", risk="320000.00", guarantor="320000.00 CNY", bank="160000.00 CNY")
    analysis = run(text + sz_recovery() + sz_back("2027-01-20", "100000.00"))
    assert found(analysis) == []
    first, second = analysis.records.shares["SZ-1"]
    assert (first.claim.due, second.claim.due) == (D("200000.00"), D("800000.00"))
    assert analysis.records.recoveries[0].parts == {"risk": D("100000.00")}
    assert analysis.records.loan_recoveries["SZ-1"].expected[RISK] == D("100000.00")


def test_szps_a_recovery_repays_the_oldest_claim_first() -> None:
    # Claims of 200,000.00 and 800,000.00, the risk fund paying 40 % of each (80,000.00 and
    # 320,000.00). 900,000.00 recovered (no costs): the first claim's 200,000.00 is repaid in
    # full (80,000.00 back); the other 700,000.00 go to the second claim, whose unpaid
    # 100,000.00 leaves the fund 40,000.00 to bear (280,000.00 back): 360,000.00 in all,
    # the fund's 40 % of what was recovered. (Counting the whole 900,000.00 against each claim
    # gave 320,000.00.)
    text = sz("200000.00") + sz_comp(risk="80000.00", guarantor="80000.00 CNY", bank="40000.00 CNY") + (
        '2026-10-20 custom "loan" "claim" "SZ-1"\n  principal: 800000.00 CNY\n  letter: "银行函2"\n  approval: "同意"\n'
    ) + sz_comp("2026-10-23", risk="320000.00", guarantor="320000.00 CNY", bank="160000.00 CNY")
    analysis = run(text + sz_recovery(recovered="900000.00", costs=None) + sz_back("2027-01-20", "360000.00"))
    assert found(analysis) == []
    first, second = analysis.records.shares["SZ-1"]
    assert (first.repaid, second.repaid) == (D("200000.00"), D("700000.00"))
    assert analysis.records.recoveries[0].parts == {"risk": D("360000.00")}
    assert analysis.records.loan_recoveries["SZ-1"].expected[RISK] == D("360000.00")
    # A second recovery of 100,000.00 repays the rest: 40,000.00 more, 400,000.00 in all.
    again = run(text + sz_recovery(recovered="900000.00", costs=None) + sz_back("2027-01-20", "360000.00")
                + sz_recovery("2027-02-15", recovered="100000.00", costs=None) + sz_back("2027-02-20", "40000.00"))
    assert found(again) == []
    assert [r.parts for r in again.records.recoveries] == [{"risk": D("360000.00")}, {"risk": D("40000.00")}]


def test_szps_a_recovery_beyond_all_the_claims_is_kept_on_the_last() -> None:
    # Claims of 200,000.00 and 800,000.00 (the risk fund paid 80,000.00 and 320,000.00).
    # 1,100,000.00 recovered (no costs): the first claim takes its 200,000.00, the last takes
    # all the rest, 900,000.00 (100,000.00 beyond its base); nothing is unpaid, so all the
    # fund paid goes back: 80,000.00 + 320,000.00 = 400,000.00.
    text = sz("200000.00") + sz_comp(risk="80000.00", guarantor="80000.00 CNY", bank="40000.00 CNY") + (
        '2026-10-20 custom "loan" "claim" "SZ-1"\n  principal: 800000.00 CNY\n  letter: "银行函2"\n  approval: "同意"\n'
    ) + sz_comp("2026-10-23", risk="320000.00", guarantor="320000.00 CNY", bank="160000.00 CNY")
    analysis = run(text + sz_recovery(recovered="1100000.00", costs=None) + sz_back("2027-01-20", "400000.00"))
    assert found(analysis) == []
    first, second = analysis.records.shares["SZ-1"]
    assert (first.repaid, second.repaid) == (D("200000.00"), D("900000.00"))
    assert (first.owed(), second.owed()) == ({"risk": D("0.00"), "guarantor": D("0.00"), "bank": D("0.00")},) * 2
    assert analysis.records.recoveries[0].parts == {"risk": D("400000.00")}
    assert analysis.records.loan_recoveries["SZ-1"].expected[RISK] == D("400000.00")


def test_szps_before_its_rules_are_in_force() -> None:
    # SZPS's tables take effect on 2026-02-05 (accounts open 2026-01-01); the trigger not
    # yet in force, a recorded overdue makes the loan eligible.
    text = f"""option "operating_currency" "CNY"
include "{COMMON / "szps.beancount"}"
2026-01-02 custom "program" "open" "SZPS"
2026-01-02 * "坪山区财政局" "注入风险补偿金"
  Assets:SZPS:Pool:Risk                    10000000.00 CNY
  Income:SZPS:Risk:Injection              -10000000.00 CNY
2026-01-03 custom "enterprise" "register" "E-SZ-001"
  program: "SZPS"
  name: "甲公司"
  size: "小型"
2026-01-05 custom "loan" "approval" "SZ-1"
  program: "SZPS"
  enterprise: "E-SZ-001"
  amount: 1000000.00 CNY
  letter: "函1"
2026-01-05 custom "loan" "contract" "SZ-1"
  amount: 1000000.00 CNY
2026-01-05 custom "loan" "disbursement" "SZ-1"
  amount: 1000000.00 CNY
2026-01-20 custom "loan" "recovery" "SZ-1"
  recovered: 100.00 CNY
  letter: "追偿函"
2026-01-25 * "建设银行" "退回资金池 SZ-1" ^SZ-1
  Assets:SZPS:Pool:Risk  100.00 CNY
  Income:SZPS:Risk:Recovery  -100.00 CNY
"""
    analysis = run(text)
    missing = "参数「programs.SZPS.rules.comp.shares.params.shrink」在 {} 尚无生效版本（最早版本自 2026-02-05 起施行），无法按规则核对"
    assert [(m, d) for m, _, _, d, _, _ in found(analysis)] == [
        (missing.format("2026-01-20"), day("2026-01-20")),
        ("贷款 SZ-1 尚未发生代偿，追偿款无须退回资金池", day("2026-01-20")),
        (missing.format("2026-01-25"), day("2026-01-25")),
        ("贷款 SZ-1 追偿款补回资金池超过应补回的金额（追偿净额补回资金池，以其代偿额为限）；应补回 0.00 元，累计补回 100.00 元，"
         "超出 100.00 元", day("2026-01-25")),
    ]
    assert entry_of(analysis) == [
        (day("2026-01-20"), "Custom", "recovery SZ-1"), (day("2026-01-20"), "Custom", "recovery SZ-1"),
        (day("2026-01-25"), "Transaction", "退回资金池 SZ-1"), (day("2026-01-25"), "Transaction", "退回资金池 SZ-1"),
    ]


def test_jhjd_two_claims_on_one_loan_flow_back_and_the_loss_is_on_the_last() -> None:
    # 600,000.00 claimed and paid, then 400,000.00 + 20,000.01 interest: 1,020,000.01 in all.
    text = JH.replace("  principal: 1000000.00 CNY\n  interest: 20000.01 CNY\n  letter: \"银行函\"",
                      "  principal: 600000.00 CNY\n  letter: \"银行函\"") + jh_comp(amount="600000.00") + (
        '2025-12-10 custom "loan" "claim" "JH-1"\n  principal: 400000.00 CNY\n  interest: 20000.01 CNY\n'
        '  letter: "银行函2"\n  approval: "同意"\n') + jh_comp("2025-12-10", amount="420000.01")
    paid = run(text)
    first, second = paid.records.shares["JH-1"]
    assert (first.claim.due, second.claim.due) == (D("600000.00"), D("420000.01"))
    # The loss so far (1,020,000.01) sits on the latest claim: 408,000.01 / 408,000.00 / 204,000.00.
    assert first.residual == {}
    assert second.residual == {"government": D("408000.01"), "guarantor": D("408000.00"), "bank": D("204000.00")}
    # 2,000,000.00 recovered: 600,000.00 + 420,000.01 back (all the pool paid on both claims),
    # 979,999.99 left over; no loss. (Before the fix the pool's room was each claim's payment
    # less all the loan's recoveries owed back: only 600,000.00 came back, the rest of the cash
    # was an error and 420,000.01 a loss to share.)
    analysis = run(text + jh_recovery(recovered="2000000.00", costs=None) + jh_back(amount="1020000.01")
                   + jh_loss(government="0.00", guarantor="0.00", bank="0.00"))
    assert found(analysis) == []
    [recovery] = analysis.records.recoveries
    assert (recovery.parts, recovery.excess) == ({"risk": D("1020000.01")}, D("979999.99"))
    first, second = analysis.records.shares["JH-1"]
    assert (first.residual, second.residual) == ({}, {"government": D("0"), "guarantor": D("0"), "bank": D("0")})


def test_the_residual_counts_only_what_the_funds_paid() -> None:
    # Both funds in the table, a residual table (government 100%): only the risk fund has
    # paid (499,800.00): that is the loss before any recovery.
    residual = ("          residual:\n            article: 第十八条（测试）\n            values:\n"
                "              2021-02-24:\n                government: 1\n")
    rules = cq_shares("                guarantee: 0.02\n                risk: 0.49\n                bank: rest\n" + residual, False)
    analysis = run(CQ + cq_comp(guarantee=None), rules)
    assert analysis.records.shares["CQ-1"][0].residual == {"government": D("499800.00")}
    both = run(CQ + cq_comp(), rules)
    assert both.records.shares["CQ-1"][0].residual == {"government": D("520200.00")}  # 20,400.00 + 499,800.00


# --- finish: what is left unpaid at the end (CQGX's waterfall, WZS's own fees) ----------------


def cq_plain_comp(date: str, guarantee: str | None, risk: str | None = None, bank: str | None = None) -> str:
    text = f'{date} * "代偿" ^CQ-1\n'
    if bank is not None:
        text += f"  bank_share: {bank} CNY\n"
    if guarantee is not None:
        text += f"  Expenses:CQGX:Guarantee:Compensation  {guarantee} CNY\n  Assets:CQGX:Pool:Guarantee  -{guarantee} CNY\n"
    if risk is not None:
        text += f"  Expenses:CQGX:Risk:Compensation  {risk} CNY\n  Assets:CQGX:Pool:Risk  -{risk} CNY\n"
    return text


def waterfall_warnings(analysis: Analysis) -> list[tuple]:
    return [(f.message, f.program, f.loan, f.date, f.severity) for f in analysis.findings
            if f.rule in ("comp.waterfall", "comp.escalation")]


def test_finish_a_shortfall_of_one_fen_still_waits_for_the_risk_fund() -> None:
    # The guarantee fund holds 1,019,999.99 and pays it: 0.01 left for the risk fund and the bank.
    text = CQ.replace("25000.00", "1019999.99") + cq_plain_comp("2025-02-10", "1019999.99")
    assert waterfall_warnings(run(text)) == [
        ("贷款 CQ-1 助保金不足部分尚未由风险补偿金与合作银行分担入账；不足部分 0.01 元", "CQGX", "CQ-1", day("2025-02-10"),
         "warning"),
    ]


def test_finish_a_risk_fund_a_fen_short_of_its_share_needs_the_committee() -> None:
    # 995,000.00 short after the guarantee fund's 25,000.00; the risk fund's half, 497,500.00,
    # but it holds 497,499.99: it pays that, 0.01 is for the committee.
    text = CQ.replace("5000000.00", "497499.99") + cq_plain_comp("2025-02-10", "25000.00", "497499.99", "497500.00")
    assert waterfall_warnings(run(text)) == [
        ("贷款 CQ-1 风险补偿金不足以承担其分担部分，应登记管委会办公会议等决策（committee）；未能分担 0.01 元", "CQGX", "CQ-1",
         day("2025-02-10"), "error"),
    ]


def test_finish_goes_on_past_a_claim_not_compensated_or_fully_covered() -> None:
    # CQ-1's first claim (10,000.00) is paid in full by the guarantee fund; a second claim
    # is not compensated at all; the third (1,020,000.00) gets the guarantee fund's last
    # 15,000.00 only: 1,005,000.00 still to be shared.
    text = CQ.replace('2025-01-15 custom "loan" "claim" "CQ-1"\n  principal: 1000000.00 CNY\n  interest: 20000.00 CNY',
                      '2025-01-15 custom "loan" "claim" "CQ-1"\n  principal: 10000.00 CNY')
    text += cq_plain_comp("2025-01-20", "10000.00")
    text += '2025-01-25 custom "loan" "claim" "CQ-1"\n  principal: 500000.00 CNY\n  letter: "函2"\n  approval: "同意"\n'
    text += ('2025-02-01 custom "loan" "claim" "CQ-1"\n  principal: 1000000.00 CNY\n  interest: 20000.00 CNY\n'
             '  letter: "函3"\n  approval: "同意"\n')
    text += cq_plain_comp("2025-02-10", "15000.00")
    assert waterfall_warnings(run(text)) == [
        ("贷款 CQ-1 助保金不足部分尚未由风险补偿金与合作银行分担入账；不足部分 1,005,000.00 元", "CQGX", "CQ-1",
         day("2025-02-10"), "warning"),
    ]


def test_finish_leaves_a_table_of_parties_to_comp_shares_and_goes_on() -> None:
    # A table of parties with the risk fund empty: the guarantee fund has paid its part,
    # the risk fund nothing; that is comp.shares' warning, not a committee matter.
    empty = CQ.replace('2024-01-02 * "财政局" "注入风险补偿金"\n  Assets:CQGX:Pool:Risk          5000000.00 CNY\n'
                       '  Income:CQGX:Risk:Injection    -5000000.00 CNY\n', "")
    analysis = run(empty + cq_comp(risk=None), cq_shares())
    assert waterfall_warnings(analysis) == []
    assert [m for m, *_ in found(analysis)] == [
        "贷款 CQ-1 的代偿中风险补偿金应承担的部分尚未入账；风险补偿金应付 499,800.00 元"]
    # A JHJD claim (a table) walked before a CQGX claim: the CQGX claim is still looked at.
    later = CQ.replace("2025-01-10 custom", "2025-12-10 custom").replace("2025-01-15 custom", "2025-12-15 custom")
    both = run(later + cq_plain_comp("2026-01-10", "25000.00") + JH.split('\n', 1)[1] + jh_comp())
    assert waterfall_warnings(both) == [
        ("贷款 CQ-1 助保金不足部分尚未由风险补偿金与合作银行分担入账；不足部分 995,000.00 元", "CQGX", "CQ-1",
         day("2026-01-10"), "warning"),
    ]


def test_finish_reads_the_own_fees_basis_on_the_claim_s_day() -> None:
    # WZS: the enterprise's own 20,000.00 first, then 490,000.00 / 490,000.00 (the rule
    # ledger wzs-pass-own-fees): nothing is left at the end.
    ledger = (ROOT / "tests" / "ledgers" / "rules" / "comp.waterfall" / "wzs-pass-own-fees.beancount").read_text(
        encoding="utf-8")
    ledger = ledger.replace('include "../../common/wzs.beancount"', f'include "{COMMON / "wzs.beancount"}"')
    ledger = "\n".join(line for line in ledger.splitlines() if not line.startswith("plugin "))
    analysis = run(ledger)
    assert waterfall_warnings(analysis) == []
    [claim] = analysis.records.claims.values()
    assert (claim.guarantee_paid, claim.risk_paid, claim.bank_share) == (D("20000.00"), D("490000.00"), D("490000.00"))


def test_finish_an_empty_risk_fund_is_for_the_committee_a_fen_in_it_is_not() -> None:
    injection = '2024-01-02 * "财政局" "注入风险补偿金"\n  Assets:CQGX:Pool:Risk          5000000.00 CNY\n'
    empty = CQ.replace(injection + "  Income:CQGX:Risk:Injection    -5000000.00 CNY\n", "")
    assert waterfall_warnings(run(empty + cq_plain_comp("2025-02-10", "25000.00"))) == [
        ("贷款 CQ-1 助保金不足且风险补偿金已无余额，应登记决策（committee）；不足部分 995,000.00 元", "CQGX", "CQ-1",
         day("2025-02-10"), "error"),
    ]
    fen = CQ.replace("5000000.00", "0.01")
    assert waterfall_warnings(run(fen + cq_plain_comp("2025-02-10", "25000.00"))) == [
        ("贷款 CQ-1 助保金不足部分尚未由风险补偿金与合作银行分担入账；不足部分 995,000.00 元", "CQGX", "CQ-1",
         day("2025-02-10"), "warning"),
    ]


def test_a_fund_s_part_of_one_yuan_left_unpaid_is_a_warning() -> None:
    # A claim of 50.00: 1.00 for the guarantee fund (2%), 24.50 / 24.50 for the risk fund and the bank.
    small = CQ.replace('2025-01-15 custom "loan" "claim" "CQ-1"\n  principal: 1000000.00 CNY\n  interest: 20000.00 CNY',
                       '2025-01-15 custom "loan" "claim" "CQ-1"\n  principal: 50.00 CNY')
    analysis = run(small + cq_comp(guarantee=None, risk="24.50", bank="24.50 CNY"), cq_shares())
    assert found(analysis) == [
        ("贷款 CQ-1 的代偿中助保金应承担的部分尚未入账；助保金应付 1.00 元", "CQGX", "CQ-1", day("2025-02-10"), "warning",
         (("助保金应付", D("1.00")),)),
    ]
