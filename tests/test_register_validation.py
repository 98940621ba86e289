"""The register's validation, directive by directive, against messages written out here:
the metadata kinds (_convert), the directive's shape, and how build_register files each
event (unknown program, duplicate approval, an event before its loan's approval …)."""

from __future__ import annotations

import datetime

import pytest
from beancount.core.data import Custom
from beancount.parser import parser

from zhubaodai.core.register import RegisterError
from zhubaodai.core.register import build_register
from zhubaodai.core.register import parse_event

APPROVAL = '  program: "CQGX"\n  enterprise: "E-CQ-001"\n  amount: 3000000.00 CNY\n  letter: "高新创服函〔2024〕12号"\n'


def parse(text: str) -> list[Custom]:
    entries, errors, _ = parser.parse_string(text)
    assert not errors, errors
    return entries


def one(text: str) -> Custom:
    (entry,) = parse(text)
    return entry


def refused(text: str) -> str:
    entry = one(text)
    with pytest.raises(RegisterError) as caught:
        parse_event(entry)
    assert caught.value.entry is entry
    return str(caught.value)


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ('amount: "3000000.00"', "元数据 amount 应为金额，如 amount: 1000000.00 CNY"),
        ("amount: 3000000.00 USD", "元数据 amount 的币种应为 CNY，而非 USD"),
        ("amount: -1.00 CNY", "元数据 amount 不能为负数：-1.00"),
        ("amount: 1.001 CNY", "元数据 amount 应精确到分：1.001"),
        ("amount: 0.005 CNY", "元数据 amount 应精确到分：0.005"),  # under a yuan, not negative
    ],
)
def test_amounts(meta: str, message: str) -> None:
    assert refused(f'2024-03-10 custom "loan" "contract" "CQ-2024-001"\n  {meta}\n') == message


def test_an_amount_is_read_to_the_fen() -> None:
    event = parse_event(one('2024-03-10 custom "loan" "contract" "CQ-2024-001"\n  amount: 3000000 CNY\n'))
    assert str(event.data["amount"]) == "3000000"
    event = parse_event(one('2024-03-10 custom "loan" "contract" "CQ-2024-001"\n  amount: 0.00 CNY\n'))
    assert str(event.data["amount"]) == "0.00"


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ('letter: "   "', "元数据 letter 应为非空文字（加英文双引号）"),
        ("letter: 12", "元数据 letter 应为非空文字（加英文双引号）"),
        ('maturity: "2025-03-10"', "元数据 maturity 应为日期，如 maturity: 2024-03-01"),
        ('rate: "4.35"', "元数据 rate 应为数字"),
        ("rate: TRUE", "元数据 rate 应为数字"),
    ],
)
def test_text_date_and_number(meta: str, message: str) -> None:
    text = f'2024-03-10 custom "loan" "renewal" "CQ-2024-001"\n  amount: 1.00 CNY\n  {meta}\n'
    if meta.startswith("letter"):
        text = f'2024-03-10 custom "loan" "confirmation" "CQ-2024-001"\n  {meta}\n'
    assert refused(text) == message


def test_text_is_stripped_and_numbers_are_decimals() -> None:
    event = parse_event(one(
        '2024-03-10 custom "loan" "renewal" "CQ-2024-001"\n  amount: 1.00 CNY\n  letter: "  函 1 号 "\n'
        "  rate: 4\n  maturity: 2025-03-10\n"
    ))
    assert event.data["letter"] == "函 1 号"
    assert repr(event.data["rate"]) == "Decimal('4')"
    assert str(event.data["maturity"]) == "2025-03-10"


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ('zone: "TRUE"', "元数据 zone 应为 TRUE 或 FALSE（不加引号）"),
        ("zone: 1", "元数据 zone 应为 TRUE 或 FALSE（不加引号）"),
        ("revenue_year: 2024.5", "元数据 revenue_year 应为整数，如 revenue_year: 2024"),
        ("revenue_year: TRUE", "元数据 revenue_year 应为整数，如 revenue_year: 2024"),
        ('revenue_year: "2024"', "元数据 revenue_year 应为整数，如 revenue_year: 2024"),
    ],
)
def test_bool_and_int(meta: str, message: str) -> None:
    assert refused(f'2024-03-10 custom "enterprise" "update" "E-CQ-001"\n  {meta}\n') == message


def test_bool_and_int_values() -> None:
    event = parse_event(one('2024-03-10 custom "enterprise" "update" "E-CQ-001"\n  zone: FALSE\n  revenue_year: 2024\n'))
    assert event.data == {"zone": False, "revenue_year": 2024}
    assert type(event.data["revenue_year"]) is int


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('2024-03-01 custom "loan"\n',  # no values at all: Beancount gives None, not ()
         '登记簿指令应写作 custom "loan" "事件" "编号"（两个带引号的文字）'),
        ('2024-03-01 custom "loan" "approval"\n',
         '登记簿指令应写作 custom "loan" "事件" "编号"（两个带引号的文字）'),
        ('2024-03-01 custom "loan" "approval" "CQ-1" "x"\n',
         '登记簿指令应写作 custom "loan" "事件" "编号"（两个带引号的文字）'),
        ('2024-03-01 custom "loan" "approval" 12\n',
         '登记簿指令应写作 custom "loan" "事件" "编号"（两个带引号的文字）'),
        ('2024-03-01 custom "program" "pause" "CQGX"\n',
         "未知的 program 事件 'pause'；可用事件：open、plan、terminate"),
        ('2024-03-01 custom "loan" "settlement" "CQ 2024"\n',
         "编号 'CQ 2024' 只能由英文字母、数字和 - 组成，并以字母或数字开头（如 CQ-2024-001；贷款编号也用作分录的链接 ^编号）"),
        ('2024-03-01 custom "loan" "settlement" "-CQ"\n',
         "编号 '-CQ' 只能由英文字母、数字和 - 组成，并以字母或数字开头（如 CQ-2024-001；贷款编号也用作分录的链接 ^编号）"),
    ],
)
def test_the_directive_shape(text: str, message: str) -> None:
    assert refused(text) == message


def test_optional_keys_are_read_only_when_present() -> None:
    event = parse_event(one('2024-03-10 custom "loan" "overdue" "CQ-2024-001"\n  principal: 5.00 CNY\n  note: "x"\n'))
    assert set(event.data) == {"principal"}
    event = parse_event(one(
        '2024-03-10 custom "loan" "overdue" "CQ-2024-001"\n  principal: 5.00 CNY\n  interest: 1.25 CNY\n'
    ))
    assert {k: str(v) for k, v in event.data.items()} == {"principal": "5.00", "interest": "1.25"}


def build(text: str) -> tuple[object, list[tuple[int, str, str | None]]]:
    errors: list[tuple[int, str, str | None]] = []
    register = build_register(
        # in file order, as written (the parser hands them back sorted by date)
        sorted((e for e in parse(text) if isinstance(e, Custom)), key=lambda e: e.meta["lineno"]), {"CQGX", "WLHT"},
        lambda entry, message, program: errors.append((entry.meta["lineno"], message, program)),
    )
    return register, errors


def test_a_day_s_approval_is_filed_before_that_day_s_other_events() -> None:
    register, errors = build(
        '2024-03-01 custom "loan" "contract" "CQ-2024-001"\n  amount: 3000000.00 CNY\n'
        f'2024-03-01 custom "loan" "approval" "CQ-2024-001"\n{APPROVAL}'
        '2024-03-02 custom "loan" "disbursement" "CQ-2024-001"\n  amount: 3000000.00 CNY\n'
    )
    assert errors == []
    assert [e.kind for e in register.loans["CQ-2024-001"].events] == ["approval", "contract", "disbursement"]
    assert register.loans["CQ-2024-001"].program == "CQGX"


def test_directives_out_of_date_order_are_sorted() -> None:
    register, errors = build(
        '2024-03-05 custom "loan" "contract" "CQ-2024-001"\n  amount: 3000000.00 CNY\n'
        '2024-03-01 custom "loan" "disbursement" "CQ-2024-001"\n  amount: 3000000.00 CNY\n'
        f'2024-03-01 custom "loan" "approval" "CQ-2024-001"\n{APPROVAL}'
        '2024-03-01 custom "enterprise" "register" "E-CQ-001"\n  program: "CQGX"\n  name: "某公司"\n'
    )
    assert errors == []
    assert [(e.kind, str(e.date)) for e in register.loans["CQ-2024-001"].events] == [
        ("approval", "2024-03-01"), ("disbursement", "2024-03-01"), ("contract", "2024-03-05")
    ]


def test_what_build_register_refuses() -> None:
    register, errors = build(
        f'2024-03-01 custom "loan" "approval" "CQ-2024-001"\n{APPROVAL}'
        f'2024-03-02 custom "loan" "approval" "CQ-2024-001"\n{APPROVAL}'
        f'2024-03-02 custom "loan" "approval" "CQ-2024-009"\n{APPROVAL.replace("CQGX", "XXXX")}'
        '2024-03-03 custom "loan" "contract" "CQ-2024-002"\n  amount: 1.00 CNY\n'
        '2024-03-03 custom "enterprise" "update" "E-CQ-404"\n  zone: TRUE\n'
        '2024-03-03 custom "enterprise" "register" "E-XX-001"\n  program: "XXXX"\n  name: "某公司"\n'
        '2024-03-03 custom "program" "terminate" "XXXX"\n'
        '2024-03-03 custom "period" "reopen" "2024Q1"\n  program: "XXXX"\n  letter: "函"\n'
        '2024-03-03 custom "loan" "contract" "CQ-2024-001"\n'
    )
    assert errors == [
        (6, "贷款 CQ-2024-001 已于 2024-03-01 审核同意，编号重复", "CQGX"),
        (11, "未知项目 'XXXX'；rules.yaml 中的项目：CQGX、WLHT", None),
        (16, "贷款 CQ-2024-002 没有在此日期或之前的审核同意（approval）事件", None),
        (18, "企业 E-CQ-404 在此日期或之前没有登记（enterprise register）", None),
        (20, "未知项目 'XXXX'", None),
        (23, "未知项目 'XXXX'", None),
        (24, "未知项目 'XXXX'；rules.yaml 中的项目：CQGX、WLHT", None),
        (27, "签订合同事件缺少元数据 amount", None),
    ]
    assert list(register.loans) == ["CQ-2024-001"]
    assert register.enterprises == {} and register.program_events == {} and register.periods == []


def test_enterprise_program_and_period_events_are_filed() -> None:
    register, errors = build(
        '2024-03-01 custom "enterprise" "register" "E-CQ-001"\n  program: "CQGX"\n  name: "某公司"\n'
        '2024-03-02 custom "enterprise" "update" "E-CQ-001"\n  zone: TRUE\n'
        '2024-03-03 custom "enterprise" "blacklist" "E-CQ-001"\n  reason: "逃废债务"\n'
        '2024-03-03 custom "program" "terminate" "WLHT"\n'
        '2024-03-04 custom "period" "reopen" "2024Q1"\n  program: "CQGX"\n  letter: "函"\n'
    )
    assert errors == []
    assert register.enterprises["E-CQ-001"].kind == "register"
    assert [e.kind for e in register.enterprise_history["E-CQ-001"]] == ["register", "update"]
    assert [e.kind for e in register.blacklist["E-CQ-001"]] == ["blacklist"]
    assert [e.kind for e in register.program_events["WLHT"]] == ["terminate"]
    assert [e.kind for e in register.periods] == ["reopen"]


def test_numbers_from_a_plugin_may_be_ints() -> None:
    """Metadata set by code rather than parsed (another plugin) can hold an int."""
    entry = one('2024-03-10 custom "loan" "renewal" "CQ-2024-001"\n  amount: 1.00 CNY\n')
    entry.meta["rate"] = 4
    event = parse_event(entry)
    assert repr(event.data["rate"]) == "Decimal('4')"
    assert event.entry is entry and str(event.date) == "2024-03-10"


def test_a_refused_directive_does_not_stop_the_others() -> None:
    register, errors = build(
        '2024-03-01 custom "loan" "contract" "CQ-2024-001"\n'
        f'2024-03-02 custom "loan" "approval" "CQ-2024-001"\n{APPROVAL}'
    )
    assert errors == [(1, "签订合同事件缺少元数据 amount", None)]
    loan = register.loans["CQ-2024-001"]
    assert (loan.id, loan.program, loan.enterprise) == ("CQ-2024-001", "CQGX", "E-CQ-001")


def test_approvals_are_first_only_within_their_own_day() -> None:
    """A contract on 03-01 stays before an approval of 03-02 (in date order, not sorted)."""
    register, errors = build(
        '2024-03-01 custom "loan" "contract" "CQ-2024-001"\n  amount: 1.00 CNY\n'
        f'2024-03-02 custom "loan" "approval" "CQ-2024-001"\n{APPROVAL}'
        '2024-03-02 custom "loan" "disbursement" "CQ-2024-001"\n  amount: 1.00 CNY\n'
    )
    assert errors == [(1, "贷款 CQ-2024-001 没有在此日期或之前的审核同意（approval）事件", None)]
    assert [e.kind for e in register.loans["CQ-2024-001"].events] == ["approval", "disbursement"]


# --------------------------------------------------------------------------------------
# The newer events and keys (issue #14): the NPL classification, the guarantee fee, the
# loss event's shares, and loan_type / credit_line / term_months. Every accepted value
# and every message is written out here, not read from the code's tables.

LOAN = '"CQ-2024-001"'


def data_of(text: str) -> dict[str, object]:
    """The converted metadata of one directive, each value as (type name, str)."""
    event = parse_event(one(text))
    return {key: (type(value).__name__, str(value)) for key, value in event.data.items()}


@pytest.mark.parametrize("grade", ["正常", "关注", "次级", "可疑", "损失"])
def test_npl_takes_each_of_the_five_classes(grade: str) -> None:
    text = f'2024-03-10 custom "loan" "npl" {LOAN}\n  classification: " {grade} "\n'
    assert data_of(text) == {"classification": ("str", grade)}


@pytest.mark.parametrize("grade", ["不良", "次级类", "Substandard"])
def test_npl_refuses_a_class_outside_the_five(grade: str) -> None:
    text = f'2024-03-10 custom "loan" "npl" {LOAN}\n  classification: "{grade}"\n'
    assert refused(text) == f"不良分类 classification 应为五级分类之一：正常、关注、次级、可疑、损失，此处为 '{grade}'"


def test_npl_reads_its_principal_and_letter() -> None:
    text = (
        f'2024-03-10 custom "loan" "npl" {LOAN}\n  classification: "可疑"\n  principal: 1500000.00 CNY\n'
        '  letter: " 建渝风险〔2024〕9号 "\n'
    )
    assert data_of(text) == {
        "classification": ("str", "可疑"), "principal": ("Decimal", "1500000.00"), "letter": ("str", "建渝风险〔2024〕9号"),
    }
    assert refused(f'2024-03-10 custom "loan" "npl" {LOAN}\n  classification: "可疑"\n  principal: -0.01 CNY\n') == (
        "元数据 principal 不能为负数：-0.01"
    )
    assert refused(f'2024-03-10 custom "loan" "npl" {LOAN}\n  principal: 1.00 CNY\n') == "不良分类事件缺少元数据 classification"


def test_a_guarantee_fee_and_its_guarantor_and_period() -> None:
    text = (
        f'2024-03-10 custom "loan" "guarantee_fee" {LOAN}\n  amount: 30000.00 CNY\n  guarantor: "某融资担保公司"\n'
        '  period: "2024-03-10 至 2025-03-09"\n'
    )
    assert data_of(text) == {
        "amount": ("Decimal", "30000.00"), "guarantor": ("str", "某融资担保公司"), "period": ("str", "2024-03-10 至 2025-03-09"),
    }
    assert refused(f'2024-03-10 custom "loan" "guarantee_fee" {LOAN}\n  amount: 300.001 CNY\n') == "元数据 amount 应精确到分：300.001"
    assert refused(f'2024-03-10 custom "loan" "guarantee_fee" {LOAN}\n  amount: 30.00 CNY\n  guarantor: ""\n') == (
        "元数据 guarantor 应为非空文字（加英文双引号）"
    )
    assert refused(f'2024-03-10 custom "loan" "guarantee_fee" {LOAN}\n  guarantor: "某融资担保公司"\n') == "担保费事件缺少元数据 amount"


def test_a_loss_takes_the_four_outside_parties_shares_and_nothing_else() -> None:
    text = (
        f'2024-03-10 custom "loan" "loss" {LOAN}\n  letter: "金东金融〔2025〕3号"\n  government_share: 400.00 CNY\n'
        "  guarantor_share: 400.00 CNY\n  bank_share: 200.00 CNY\n  insurer_share: 0.00 CNY\n"
        "  risk_share: 1.00 CNY\n  guarantee_share: 1.00 CNY\n"
    )
    assert data_of(text) == {
        "letter": ("str", "金东金融〔2025〕3号"), "government_share": ("Decimal", "400.00"), "guarantor_share": ("Decimal", "400.00"),
        "bank_share": ("Decimal", "200.00"), "insurer_share": ("Decimal", "0.00"),
    }
    assert data_of(f'2024-03-10 custom "loan" "loss" {LOAN}\n') == {}
    assert refused(f'2024-03-10 custom "loan" "loss" {LOAN}\n  bank_share: 200.00\n') == (
        "元数据 bank_share 应为金额，如 bank_share: 1000000.00 CNY"
    )
    assert refused(f'2024-03-10 custom "loan" "loss" {LOAN}\n  government_share: 1.00 USD\n') == (
        "元数据 government_share 的币种应为 CNY，而非 USD"
    )


@pytest.mark.parametrize("kind", ["信用", "保证", "抵押", "质押"])
def test_loan_type_takes_the_four_kinds_on_approval_and_contract(kind: str) -> None:
    approval = f'2024-03-01 custom "loan" "approval" {LOAN}\n{APPROVAL}  loan_type: " {kind} "\n'
    assert data_of(approval)["loan_type"] == ("str", kind)
    contract = f'2024-03-10 custom "loan" "contract" {LOAN}\n  amount: 1.00 CNY\n  loan_type: "{kind}"\n'
    assert data_of(contract) == {"amount": ("Decimal", "1.00"), "loan_type": ("str", kind)}


@pytest.mark.parametrize(
    ("value", "shown"), [('"抵押贷款"', "'抵押贷款'"), ('""', "''"), ("1", "Decimal('1')"), ("TRUE", "True")]
)
def test_loan_type_refuses_anything_else(value: str, shown: str) -> None:
    text = f'2024-03-10 custom "loan" "contract" {LOAN}\n  amount: 1.00 CNY\n  loan_type: {value}\n'
    assert refused(text) == f'元数据 loan_type 应为贷款类型 "信用"、"保证"、"抵押"、"质押" 之一，而非 {shown}'


@pytest.mark.parametrize("event", ["approval", "contract", "renewal"])
def test_credit_line_and_term_months_where_a_loan_is_granted_or_renewed(event: str) -> None:
    head = f'2024-03-10 custom "loan" "{event}" {LOAN}\n' + (APPROVAL if event == "approval" else "  amount: 1.00 CNY\n")
    found = data_of(head + "  credit_line: 5000000.00 CNY\n  term_months: 36\n")
    assert (found["credit_line"], found["term_months"]) == (("Decimal", "5000000.00"), ("Decimal", "36"))
    assert refused(head + '  credit_line: "500万"\n') == "元数据 credit_line 应为金额，如 credit_line: 1000000.00 CNY"
    assert refused(head + '  term_months: "36"\n') == "元数据 term_months 应为数字"


def test_the_newer_keys_are_not_read_on_other_events() -> None:
    """loan_type, credit_line and term_months belong to approval/contract/renewal: on a
    disbursement (or an increase) they are not read, whatever their value."""
    for event in ("disbursement", "increase"):
        text = (
            f'2024-03-10 custom "loan" "{event}" {LOAN}\n  amount: 1.00 CNY\n  loan_type: "贷款"\n'
            '  credit_line: "x"\n  term_months: "x"\n  classification: "x"\n'
        )
        assert data_of(text) == {"amount": ("Decimal", "1.00")}


def test_build_register_checks_each_new_id_s_spelling_once_and_every_bad_one() -> None:
    """build_register remembers the ids found well-formed (known_ids): a loan's later events
    skip the pattern, and an id never seen is still checked, on every directive it heads."""
    message = "编号 'CQ 2024' 只能由英文字母、数字和 - 组成，并以字母或数字开头（如 CQ-2024-001；贷款编号也用作分录的链接 ^编号）"
    register, errors = build(
        f'2024-03-01 custom "loan" "approval" "CQ-2024-001"\n{APPROVAL}'
        '2024-03-02 custom "loan" "contract" "CQ-2024-001"\n  amount: 1.00 CNY\n'
        f'2024-03-02 custom "loan" "approval" "CQ 2024"\n{APPROVAL}'
        '2024-03-03 custom "loan" "contract" "CQ 2024"\n  amount: 1.00 CNY\n'
    )
    assert errors == [(8, message, None), (13, message, None)]
    assert list(register.loans) == ["CQ-2024-001"]
    assert [e.kind for e in register.loans["CQ-2024-001"].events] == ["approval", "contract"]


def test_a_directive_of_no_register_type_is_a_key_error_naming_it() -> None:
    """parse_event is given register directives only (build_register picks them by type);
    another type is the caller's mistake, a KeyError naming the type."""
    with pytest.raises(KeyError) as caught:
        parse_event(one('2024-03-01 custom "budget" "plan" "CQGX"\n'))
    assert caught.value.args == ("budget",)


def test_each_loan_event_carries_its_principal_after_it_and_each_loan_its_place() -> None:
    """Event.principal, set as build_register files the event (the loans rule, the pages
    and Analysis.outstanding read it): figures worked by hand, every kind that moves it."""
    register, errors = build(
        f'2024-03-01 custom "loan" "approval" "CQ-2024-001"\n{APPROVAL}'
        '2024-03-02 custom "loan" "contract" "CQ-2024-001"\n  amount: 3000000.00 CNY\n'
        '2024-03-03 custom "loan" "disbursement" "CQ-2024-001"\n  amount: 1000000.00 CNY\n'
        '2024-03-04 custom "loan" "disbursement" "CQ-2024-001"\n  amount: 500000.00 CNY\n'
        '2024-04-01 custom "loan" "repayment" "CQ-2024-001"\n  amount: 400000.00 CNY\n'
        '2024-05-01 custom "loan" "increase" "CQ-2024-001"\n  amount: 200000.00 CNY\n'
        '2024-06-01 custom "loan" "overdue" "CQ-2024-001"\n  principal: 50000.00 CNY\n'
        '2025-03-01 custom "loan" "renewal" "CQ-2024-001"\n  amount: 800000.00 CNY\n'
        '2025-04-01 custom "loan" "repayment" "CQ-2024-001"\n  amount: 0.01 CNY\n'
        '2026-03-01 custom "loan" "settlement" "CQ-2024-001"\n'
        f'2024-03-05 custom "loan" "approval" "CQ-2024-002"\n{APPROVAL}'
        '2024-03-06 custom "enterprise" "register" "E-CQ-001"\n  program: "CQGX"\n  name: "某公司"\n'
    )
    assert errors == []
    events = register.loans["CQ-2024-001"].events
    assert [(e.kind, str(e.principal)) for e in events] == [
        ("approval", "0.00"),
        ("contract", "0.00"),
        ("disbursement", "1000000.00"),
        ("disbursement", "1500000.00"),
        ("repayment", "1100000.00"),
        ("increase", "1300000.00"),
        ("overdue", "1300000.00"),  # an overdue notice moves nothing
        ("renewal", "800000.00"),  # a renewal sets the renewed principal
        ("repayment", "799999.99"),
        ("settlement", "0.00"),
    ]
    assert [(loan.id, loan.seq) for loan in register.loans.values()] == [("CQ-2024-001", 0), ("CQ-2024-002", 1)]
    assert str(register.loans["CQ-2024-001"].outstanding(datetime.date(2025, 3, 31))) == "800000.00"
