"""Every register event's required metadata, spelled out here literally.

docs/ledger-format.md §3 is the reference a user writes the register from; this table
repeats it on purpose instead of reading LOAN_EVENTS & co. from zhubaodai.core.register: a
key made optional by mistake in the code (a claim without ``approval``) must fail here,
which a test reading the same table cannot notice (issue #14, survivor b).
"""

from __future__ import annotations

import pytest
from beancount.core.data import Custom
from beancount.parser import parser

from zhubaodai.core.register import REGISTER_TYPES
from zhubaodai.core.register import RegisterError
from zhubaodai.core.register import parse_event

#: (register type, event) -> (Chinese label, required metadata keys with a valid value).
REQUIRED: dict[tuple[str, str], tuple[str, dict[str, str]]] = {
    ("loan", "approval"): ("审核同意", {
        "program": '"CQGX"', "enterprise": '"E-CQ-001"', "amount": "3000000.00 CNY",
        "letter": '"高新创服函〔2024〕12号"',
    }),
    ("loan", "contract"): ("签订合同", {"amount": "3000000.00 CNY"}),
    ("loan", "disbursement"): ("放款", {"amount": "3000000.00 CNY"}),
    ("loan", "increase"): ("增加贷款金额", {"amount": "500000.00 CNY"}),
    ("loan", "renewal"): ("续贷", {"amount": "3000000.00 CNY"}),
    ("loan", "repayment"): ("还款", {"amount": "100000.00 CNY"}),
    ("loan", "overdue"): ("逾期", {"principal": "2000000.00 CNY"}),
    ("loan", "confirmation"): ("逾期事实确认", {"letter": '"高新创服函〔2024〕30号"'}),
    ("loan", "npl"): ("不良分类", {"classification": '"次级"'}),
    ("loan", "guarantee_fee"): ("担保费", {"amount": "30000.00 CNY"}),
    ("loan", "claim"): ("代偿申请", {
        "principal": "2000000.00 CNY", "letter": '"建渝高新〔2024〕5号"', "approval": '"高新创服函〔2024〕31号"',
    }),
    ("loan", "committee"): ("管委会/领导小组决定", {"decision": '"同意代偿"'}),
    ("loan", "recovery"): ("追偿回收", {"recovered": "100000.00 CNY"}),
    ("loan", "settlement"): ("结清", {}),
    ("loan", "loss"): ("损失分担", {}),
    ("enterprise", "register"): ("企业登记", {"program": '"CQGX"', "name": '"重庆某科技有限公司"'}),
    ("enterprise", "update"): ("企业信息变更", {}),
    ("enterprise", "blacklist"): ("列入黑名单", {"reason": '"恶意逃废债务"'}),
    ("program", "open"): ("项目启动", {}),
    ("program", "plan"): ("年度业务计划", {"expected_volume": "100000000.00 CNY"}),
    ("program", "terminate"): ("合作终止", {}),
    ("period", "close"): ("结账", {"program": '"CQGX"', "letter": '"高新创服函〔2026〕3号"', "digest": '"abc123"'}),
    ("period", "reopen"): ("重新打开", {"program": '"CQGX"', "letter": '"高新创服函〔2026〕4号"'}),
}

SUBJECT = {"loan": "CQ-2024-001", "enterprise": "E-CQ-001", "program": "CQGX", "period": "2025Q4"}

CASES = [
    pytest.param(type_, kind, key, id=f"{type_}-{kind}-{key}")
    for (type_, kind), (_, keys) in REQUIRED.items()
    for key in keys
]


def directive(type_: str, kind: str, meta: dict[str, str]) -> Custom:
    """One register directive as a user writes it, parsed by Beancount's own parser."""
    lines = [f'2024-03-01 custom "{type_}" "{kind}" "{SUBJECT[type_]}"']
    lines += [f"  {key}: {value}" for key, value in meta.items()]
    entries, errors, _ = parser.parse_string("\n".join(lines) + "\n")
    assert not errors, errors
    (entry,) = entries
    assert isinstance(entry, Custom)
    return entry


def test_the_table_names_every_event_of_the_code() -> None:
    """A new event in the code needs its required keys written down here too."""
    in_code = {(type_, kind) for type_, events in REGISTER_TYPES.items() for kind in events}
    assert in_code == set(REQUIRED)


@pytest.mark.parametrize(("type_", "kind"), list(REQUIRED))
def test_the_required_keys_alone_are_enough(type_: str, kind: str) -> None:
    label, keys = REQUIRED[(type_, kind)]
    event = parse_event(directive(type_, kind, keys))
    assert (event.kind, event.subject) == (kind, SUBJECT[type_])
    assert set(event.data) == set(keys)


@pytest.mark.parametrize(("type_", "kind", "key"), CASES)
def test_each_required_key_missing_is_an_error(type_: str, kind: str, key: str) -> None:
    label, keys = REQUIRED[(type_, kind)]
    entry = directive(type_, kind, {k: v for k, v in keys.items() if k != key})
    with pytest.raises(RegisterError) as caught:
        parse_event(entry)
    assert str(caught.value) == f"{label}事件缺少元数据 {key}"
    assert caught.value.entry is entry


def test_a_claim_without_its_approval_letter_is_refused() -> None:
    """Survivor b of issue #14, by name: the claim's approval (审批文件) is required."""
    entry = directive("loan", "claim", {"principal": "2000000.00 CNY", "letter": '"建渝高新〔2024〕5号"'})
    with pytest.raises(RegisterError, match="^代偿申请事件缺少元数据 approval$"):
        parse_event(entry)
