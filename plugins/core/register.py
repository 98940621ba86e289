"""The loan register (备查簿): enterprises, loans and program events as ``custom`` directives.

The loans are the bank's assets, not the pool's, so they are not postings: the pool keeps
a register beside its books, because the rules need it (fee due, outstanding principal,
overdue dates). Every register event is one ``custom`` directive::

    2024-03-01 custom "loan" "approval" "CQ-2024-001"
      program: "CQGX"
      enterprise: "E-CQ-001"
      amount: 3000000.00 CNY
      letter: "高新创服函〔2024〕12号"

    2024-03-10 custom "loan" "contract" "CQ-2024-001"
      amount: 3000000.00 CNY

    2024-03-10 custom "enterprise" "register" "E-CQ-001"
      program: "CQGX"
      name: "重庆某科技有限公司"

    2026-12-31 custom "program" "terminate" "CQGX"

Cash transactions are tied to a loan by its id as a link (``^CQ-2024-001``).
docs/ledger-format.md documents every event and its metadata.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

from beancount.core.amount import Amount
from beancount.core.data import Custom

from zhubaodai.core.money import CURRENCY
from zhubaodai.core.money import FEN
from zhubaodai.core.money import ZERO
from zhubaodai.core.money import minus
from zhubaodai.core.money import plus
from zhubaodai.core.rules import LOAN_TYPES
from zhubaodai.core.rules import OUTSIDE_PARTIES

#: Loan events: name -> (Chinese label, required metadata, optional metadata).
#: Metadata kinds: "amount" (CNY Amount >= 0), "text", "date", "number", "bool"
#: (TRUE/FALSE), "int", "loan_type" (text, one of :data:`zhubaodai.core.rules.LOAN_TYPES`).
LOAN_EVENTS: dict[str, tuple[str, dict[str, str], dict[str, str]]] = {
    "approval": (
        "审核同意",
        {"program": "text", "enterprise": "text", "amount": "amount", "letter": "text"},
        {"term_months": "number", "rate": "number", "purpose": "text",
         "loan_type": "loan_type", "credit_line": "amount"},
    ),
    "contract": (
        "签订合同",
        {"amount": "amount"},
        {"contract_no": "text", "maturity": "date", "rate": "number",
         "collateral": "amount", "joint_liability": "text",
         "loan_type": "loan_type", "credit_line": "amount", "term_months": "number"},
    ),
    "disbursement": ("放款", {"amount": "amount"}, {"maturity": "date", "notice_date": "date"}),
    "increase": (
        "增加贷款金额",
        {"amount": "amount"},
        {"contract_no": "text", "letter": "text", "collateral": "amount"},
    ),
    "renewal": (
        "续贷",
        {"amount": "amount"},
        {"maturity": "date", "notice_date": "date", "letter": "text", "rate": "number",
         "collateral": "amount", "credit_line": "amount", "term_months": "number"},
    ),
    "repayment": ("还款", {"amount": "amount"}, {}),
    "overdue": ("逾期", {"principal": "amount"}, {"interest": "amount"}),
    "confirmation": ("逾期事实确认", {"letter": "text"}, {}),
    # The bank classifies the loan as non-performing (次级、可疑、损失: 《商业银行金融资产
    # 风险分类办法》): the trigger of programs that compensate NPLs (comp.scope trigger npl).
    "npl": ("不良分类", {"classification": "text"}, {"principal": "amount", "letter": "text"}),
    # A guarantee institution's fee for guaranteeing the loan: its income, not the pool's
    # money, recorded for the payout cap it bounds (comp.fee_cap).
    "guarantee_fee": ("担保费", {"amount": "amount"}, {"guarantor": "text", "period": "text"}),
    "claim": (
        "代偿申请",
        {"principal": "amount", "letter": "text", "approval": "text"},
        {"interest": "amount", "compound": "amount", "penalty": "amount"},
    ),
    "committee": ("管委会/领导小组决定", {"decision": "text"}, {"amount": "amount"}),
    "recovery": (
        "追偿回收",
        {"recovered": "amount"},
        {"costs": "amount", "penalty": "amount", "letter": "text"},
    ),
    "settlement": ("结清", {}, {}),
    # Recovery has ended: the loss the pool still bears on the loan (what it paid less what
    # recoveries brought back) is borne by the parties of comp.shares' residual table
    # (金东: government 40%, guarantor 40%, bank 20%), each part as <party>_share.
    "loss": ("损失分担", {}, {"letter": "text", **{f"{party}_share": "amount" for party in OUTSIDE_PARTIES}}),
}

#: The five risk classes of a bank's assets (《商业银行金融资产风险分类办法》, 2023); the
#: last three are non-performing (不良).
RISK_CLASSES = ("正常", "关注", "次级", "可疑", "损失")
NPL_CLASSES = ("次级", "可疑", "损失")

#: What the register records of an enterprise for the eligibility rules (zhubaodai.checks.loans),
#: on its ``register`` event or any later ``update`` (the latest value counts).
ENTERPRISE_FACTS: dict[str, str] = {
    "size": "text",  # 大型/中型/小型/微型
    "zone": "bool",  # CQ: registration, tax and statistics all in the zone
    "hightech_cert": "text",
    "hightech_until": "date",  # high-tech certificate valid until
    "tech_db": "bool",  # CQ: in the municipal tech-enterprise database, kept up to date
    "own_ip": "bool",
    "revenue": "amount",  # operating revenue of revenue_year
    "revenue_year": "int",
    "roster": "text",  # WLHT: admitted to the 备选企业名册 (the admitting letter)
    "score": "number",  # WLHT: the bank's scorecard
    "rating": "text",  # WLHT: the bank's credit rating (AAA … C)
    "credit_clean": "bool",  # WLHT: PBOC credit report without bad loans or arrears
}

ENTERPRISE_EVENTS: dict[str, tuple[str, dict[str, str], dict[str, str]]] = {
    "register": ("企业登记", {"program": "text", "name": "text"}, {"account": "text", **ENTERPRISE_FACTS}),
    "update": ("企业信息变更", {}, dict(ENTERPRISE_FACTS)),
    "blacklist": ("列入黑名单", {"reason": "text"}, {}),
}

PROGRAM_EVENTS: dict[str, tuple[str, dict[str, str], dict[str, str]]] = {
    "open": ("项目启动", {}, {"agreement": "text"}),
    "plan": ("年度业务计划", {"expected_volume": "amount"}, {"year": "int", "letter": "text"}),
    "terminate": ("合作终止", {}, {"letter": "text"}),
}

#: Closing and reopening a period of the books (zhubaodai.checks.periods); the subject is
#: the period (``2025Q4`` or ``2025``), each month's digest an extra ``mYYYY-MM`` key.
PERIOD_EVENTS: dict[str, tuple[str, dict[str, str], dict[str, str]]] = {
    "close": ("结账", {"program": "text", "letter": "text", "digest": "text"}, {"by": "text"}),
    "reopen": ("重新打开", {"program": "text", "letter": "text"}, {"by": "text"}),
}

REGISTER_TYPES = {
    "loan": LOAN_EVENTS, "enterprise": ENTERPRISE_EVENTS, "program": PROGRAM_EVENTS,
    "period": PERIOD_EVENTS,
}

#: Every (directive type, event kind) of the register: what a rule module may subscribe to.
REGISTER_KINDS: frozenset[tuple[str, str]] = frozenset(
    (type_, kind) for type_, events in REGISTER_TYPES.items() for kind in events
)

_META_SKIP = ("filename", "lineno")
#: A register id (loan, enterprise, program): ASCII letters, digits and ``-``, as
#: docs/ledger-format.md §3 says; a loan id is also a Beancount link (``^CQ-2024-001``).
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*\Z")


class RegisterError(ValueError):
    """A register directive cannot be read; the message is for the user (Chinese)."""

    def __init__(self, entry: Custom, message: str) -> None:
        self.entry = entry
        super().__init__(message)


class EventData(Mapping[str, Any]):
    """An event's validated and converted metadata: a read-only mapping of the keys the
    directive carries (absent optional keys are absent, as in a dict).

    Each event kind has its own subclass, generated once with its validator, whose slots
    are the kind's keys: a register event's data costs 8 bytes a key instead of a dict
    (about 250 bytes), and the register holds one per register directive (416,000 at 100k
    transactions; docs/benchmarks.md). Read it as a mapping (``data["amount"]``,
    ``data.get("rate")``, ``"letter" in data``); nothing may change it (an event kind
    with no key present shares one instance).
    """

    __slots__ = ()
    #: The register type and event kind (``"loan"``, ``"approval"``) of the subclass.
    TYPE: str = ""
    KIND: str = ""
    #: The kind's keys, required then optional, in the order of its table.
    KEYS: tuple[str, ...] = ()
    _keyset: frozenset[str] = frozenset()

    def __getitem__(self, key: str) -> Any:
        if key in self._keyset:
            try:
                return getattr(self, key)
            except AttributeError:
                pass
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default) if key in self._keyset else default

    def __contains__(self, key: object) -> bool:
        return key in self._keyset and hasattr(self, key)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[str]:
        return (key for key in self.KEYS if hasattr(self, key))

    def __len__(self) -> int:
        return sum(1 for key in self.KEYS if hasattr(self, key))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"event data is read-only ({name})")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return _event_data, (type(self).TYPE, type(self).KIND, dict(self))


def _event_data_class(type_: str, kind: str, keys: tuple[str, ...]) -> type[EventData]:
    """The :class:`EventData` subclass of one event kind (its keys as slots)."""
    cls = type(
        f"{type_.capitalize()}{''.join(p.capitalize() for p in kind.split('_'))}Data",
        (EventData,),
        {"__slots__": keys, "KEYS": keys, "_keyset": frozenset(keys), "TYPE": type_, "KIND": kind,
         "__module__": __name__},  # else ABCMeta's (abc)
    )
    return cls


def _event_data(type_: str, kind: str, values: Mapping[str, Any]) -> EventData:
    """An event kind's data holding ``values`` (for pickling and for tests)."""
    cls = _DATA_CLASSES[type_][kind]
    data = object.__new__(cls)
    for key, value in values.items():
        if key not in cls._keyset:
            raise KeyError(key)
        cls.__dict__[key].__set__(data, value)
    return data


@dataclass(frozen=True, slots=True)
class Event:
    """One register event, its metadata validated and converted."""

    kind: str
    subject: str
    #: The directive's metadata, validated and converted (:class:`EventData`; any
    #: mapping where an event is made by hand).
    data: Mapping[str, Any]
    entry: Custom
    #: A loan event's principal outstanding after it (:func:`balance_after`), set once by
    #: :func:`build_register` as it files the event (None until then, and for events of
    #: other types): the rules and the faces read it instead of folding the loan's events
    #: again (:meth:`Loan.outstanding`, ``Analysis.outstanding``, :mod:`zhubaodai.checks.loans`).
    principal: Decimal | None = field(default=None, compare=False)

    @property
    def date(self) -> datetime.date:
        """The directive's date (not a slot of its own: one pointer less per event)."""
        return self.entry.date

    @property
    def label(self) -> str:
        return REGISTER_TYPES[self.entry.type][self.kind][0]

    def amount(self, key: str) -> Decimal:
        """A CNY figure of the event, zero where the optional key is absent."""
        return self.data.get(key, ZERO)


@dataclass(slots=True)
class Loan:
    """A loan and its events in date order (ties keep ledger order)."""

    id: str
    program: str
    enterprise: str
    events: list[Event] = field(default_factory=list)
    #: The loan's place in the register (0, 1, …: the order its approvals were filed),
    #: for a rule module that reports by loan in the register's order.
    seq: int = 0

    @property
    def approval(self) -> Event:
        return self.events[0]

    def of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]

    def first(self, kind: str) -> Event | None:
        for event in self.events:
            if event.kind == kind:
                return event
        return None

    def last_before(self, kind: str, on: datetime.date) -> Event | None:
        found = None
        for event in self.events:
            if event.date > on:
                break
            if event.kind == kind:
                found = event
        return found

    def outstanding(self, on: datetime.date) -> Decimal:
        """Principal outstanding at the end of ``on``, from the register."""
        balance = ZERO
        for event in self.events:
            if event.date > on:
                break
            balance = event.principal  # set on every filed loan event
        return balance

    def settled(self, on: datetime.date) -> bool:
        """Settled by ``on``: a settlement event, or disbursed and repaid to nil."""
        if any(e.kind == "settlement" and e.date <= on for e in self.events):
            return True
        disbursed = any(e.kind == "disbursement" and e.date <= on for e in self.events)
        if not disbursed:
            # Approved but never lent: nothing remains to settle.
            return self.first("contract") is None
        return self.outstanding(on) == ZERO and self.last_before("overdue", on) is None


#: Loan events whose amounts make up the loan's guaranteed (contracted) amount: the base of
#: a subsidy (:func:`zhubaodai.checks.pool.subsidy_base`) and 贷款台账's 合同金额
#: (:mod:`zhubaodai.fava.loanfacts`).
GUARANTEED_EVENTS = ("contract", "increase")

#: Loan events that start or grow a credit line (new credit): judged against the
#: blacklist and the limits (:mod:`zhubaodai.checks.loans`), and a breach once the program
#: is terminated (:mod:`zhubaodai.checks.lifecycle`).
NEW_CREDIT_EVENTS = ("approval", "contract", "disbursement", "increase", "renewal")

#: Loan events that change the principal outstanding.
BALANCE_EVENTS = ("disbursement", "increase", "renewal", "repayment", "settlement")


def balance_after(balance: Decimal, event: Event) -> Decimal:
    """The principal outstanding after ``event``: disbursements and increases add, a
    renewal sets the renewed principal, repayments subtract, a settlement clears.

    The one definition of :attr:`Event.principal`, which :func:`build_register` sets with
    it as it files each loan event. :func:`plus` and :func:`minus` keep the amount lent onto
    nothing, and a nil balance, as the objects already held (the engine's compact state)."""
    kind = event.kind
    if kind == "repayment":
        return minus(balance, event.data["amount"])
    if kind == "disbursement" or kind == "increase":
        return plus(balance, event.data["amount"])
    if kind == "renewal":
        return event.data["amount"]
    if kind == "settlement":
        return ZERO
    return balance


@dataclass
class Register:
    """Everything the register directives say, indexed for the rules."""

    loans: dict[str, Loan] = field(default_factory=dict)
    enterprises: dict[str, Event] = field(default_factory=dict)
    blacklist: dict[str, list[Event]] = field(default_factory=dict)
    program_events: dict[str, list[Event]] = field(default_factory=dict)
    #: Every register and update event of each enterprise, in date order.
    enterprise_history: dict[str, list[Event]] = field(default_factory=dict)
    #: Closes and reopenings of periods (``custom "period" ...``), in date order.
    periods: list[Event] = field(default_factory=list)
    #: (program, enterprise) -> its loans, built on first use (the register is complete
    #: by then): a rule that looks at an enterprise's other loans does not scan them all.
    _by_enterprise: dict[tuple[str, str], list[Loan]] | None = field(default=None, repr=False, compare=False)

    def loans_of(self, program: str, enterprise: str) -> list[Loan]:
        """The enterprise's loans in the program, in the register's order."""
        if self._by_enterprise is None:
            index: dict[tuple[str, str], list[Loan]] = {}
            for loan in self.loans.values():
                index.setdefault((loan.program, loan.enterprise), []).append(loan)
            self._by_enterprise = index
        return self._by_enterprise.get((program, enterprise), [])

    def terminated(self, program: str, on: datetime.date) -> Event | None:
        for event in self.program_events.get(program, []):
            if event.kind == "terminate" and event.date <= on:
                return event
        return None


def _convert(entry: Custom, key: str, kind: str, value: Any) -> Any:
    if kind == "amount":
        if not isinstance(value, Amount) or value.number is None:
            raise RegisterError(entry, f"元数据 {key} 应为金额，如 {key}: 1000000.00 CNY")
        if value.currency != CURRENCY:
            raise RegisterError(entry, f"元数据 {key} 的币种应为 {CURRENCY}，而非 {value.currency}")
        if value.number < 0:
            raise RegisterError(entry, f"元数据 {key} 不能为负数：{value.number}")
        if value.number != value.number.quantize(FEN):
            raise RegisterError(entry, f"元数据 {key} 应精确到分：{value.number}")
        return value.number
    if kind == "text":
        if not isinstance(value, str) or not value.strip():
            raise RegisterError(entry, f"元数据 {key} 应为非空文字（加英文双引号）")
        return value.strip()
    if kind == "loan_type":
        if not isinstance(value, str) or value.strip() not in LOAN_TYPES:
            allowed = "、".join(f'"{t}"' for t in LOAN_TYPES)
            raise RegisterError(entry, f"元数据 {key} 应为贷款类型 {allowed} 之一，而非 {value!r}")
        return value.strip()
    if kind == "date":
        if not isinstance(value, datetime.date):
            raise RegisterError(entry, f"元数据 {key} 应为日期，如 {key}: 2024-03-01")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise RegisterError(entry, f"元数据 {key} 应为数字")
        return Decimal(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise RegisterError(entry, f"元数据 {key} 应为 TRUE 或 FALSE（不加引号）")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, Decimal | int) or value != int(value):
            raise RegisterError(entry, f"元数据 {key} 应为整数，如 {key}: 2024")
        return int(value)
    raise AssertionError(kind)


def parse_event(entry: Custom, known_ids: set[str] | None = None) -> Event:
    """Validate one register directive; raises :class:`RegisterError`.

    ``known_ids`` (optional) holds subjects already found well-formed, so a loan's later
    events skip the pattern match (:func:`build_register` passes one per run)."""
    validators = _VALIDATORS.get(entry.type)
    if validators is None:
        raise KeyError(entry.type)
    values = entry.values or ()  # None where the directive has no values at all
    if len(values) != 2 or not (isinstance(values[0].value, str) and isinstance(values[1].value, str)):
        raise RegisterError(
            entry, f'登记簿指令应写作 custom "{entry.type}" "事件" "编号"（两个带引号的文字）'
        )
    kind, subject = values[0].value, values[1].value
    validate = validators.get(kind)
    if validate is None:
        allowed = "、".join(validators)
        raise RegisterError(entry, f"未知的 {entry.type} 事件 {kind!r}；可用事件：{allowed}")
    if known_ids is None or subject not in known_ids:
        if _ID.match(subject) is None:
            raise RegisterError(
                entry,
                f"编号 {subject!r} 只能由英文字母、数字和 - 组成，并以字母或数字开头"
                f"（如 CQ-2024-001；贷款编号也用作分录的链接 ^编号）",
            )
        if known_ids is not None:
            known_ids.add(subject)
    return _new_event(kind, subject, validate(entry), entry)


# ---------------------------------------------------------------------------------------
# Validators: one per event kind, built once from the tables above.
#
# Each metadata kind has a converter that takes a well-formed value (most of them) by its
# exact type and hands anything else to :func:`_convert`, which says in Chinese what is
# wrong. Each event kind's validator is a closure over its (key, converter) pairs, so a
# directive costs one call per key and no table lookups.

Converter = Callable[[Custom, str, Any], Any]


def _amount(entry: Custom, key: str, value: Any) -> Any:
    if type(value) is Amount and value.currency == CURRENCY:
        number = value.number
        if type(number) is Decimal and number >= ZERO and number == number.quantize(FEN):
            return number
    return _convert(entry, key, "amount", value)


def _text(entry: Custom, key: str, value: Any) -> Any:
    if type(value) is str:
        text = value.strip()
        if text:
            return text
    return _convert(entry, key, "text", value)


def _date(entry: Custom, key: str, value: Any) -> Any:
    if type(value) is datetime.date:
        return value
    return _convert(entry, key, "date", value)


def _number(entry: Custom, key: str, value: Any) -> Any:
    if type(value) is Decimal:
        return value  # immutable: the parsed number itself
    return _convert(entry, key, "number", value)


def _bool(entry: Custom, key: str, value: Any) -> Any:
    if type(value) is bool:
        return value
    return _convert(entry, key, "bool", value)


def _other(kind: str) -> Converter:
    def convert(entry: Custom, key: str, value: Any) -> Any:
        return _convert(entry, key, kind, value)
    return convert


#: Metadata kind -> its converter.
CONVERTERS: dict[str, Converter] = {
    "amount": _amount, "text": _text, "date": _date, "number": _number, "bool": _bool,
    "int": _other("int"), "loan_type": _other("loan_type"),
}

_ABSENT = object()

#: The inline test of a well-formed value of each metadata kind, on ``value`` (``n``: the
#: amount's number), and the converted value it gives. Other kinds (and every value that
#: fails its test) go through :func:`_convert` and its messages.
_FAST: dict[str, tuple[str, str]] = {
    "amount": (
        "type(value) is Amount and value.currency == CURRENCY and type(n := value.number) is Decimal"
        " and n >= ZERO and n == n.quantize(FEN)",
        "n",
    ),
    "text": ("type(value) is str and (t := value.strip())", "t"),
    "date": ("type(value) is datetime.date", "value"),
    "number": ("type(value) is Decimal", "value"),
    "bool": ("type(value) is bool", "value"),
}


def _validator(
    type_: str, kind: str, label: str, required: dict[str, str], optional: dict[str, str]
) -> Callable[[Custom], EventData]:
    """The validator of one event kind: a directive's metadata -> its converted data.

    Its source is generated once from the event's tables: for each required key, the
    lookup, the missing-key error and the inline test of a well-formed value of its kind
    (:data:`_FAST`), so a directive costs no call per key; the optional keys (rare) go
    through :data:`CONVERTERS`. Same results and messages as converting key by key with
    :func:`_convert`. Each value goes into its slot of the kind's :class:`EventData`
    (set through the slot's descriptor: the data is read-only to everyone else)."""
    keys = (*required, *optional)
    cls = _event_data_class(type_, kind, keys)
    setters = {f"_set_{key}": cls.__dict__[key].__set__ for key in keys}
    lines = ["def validate(entry):", "    meta = entry.meta"]
    if not required:  # most such events carry no key at all: they share one instance
        lines += ["    if isdisjoint(meta):", "        return EMPTY"]
    lines.append("    data = new(Data)")
    for key, spec in required.items():
        lines += [
            f"    value = meta.get({key!r}, _ABSENT)",
            "    if value is _ABSENT:",
            f"        raise RegisterError(entry, {label + '事件缺少元数据 ' + key!r})",
        ]
        fast = _FAST.get(spec)
        if fast is None:
            lines.append(f"    _set_{key}(data, _convert(entry, {key!r}, {spec!r}, value))")
        else:
            test, result = fast
            lines += [
                f"    if {test}:",
                f"        _set_{key}(data, {result})",
                "    else:",
                f"        _set_{key}(data, _convert(entry, {key!r}, {spec!r}, value))",
            ]
    if optional:
        lines.append("    if not isdisjoint(meta):  # most events carry no optional key")
        for key, spec in optional.items():
            lines += [
                f"        if {key!r} in meta:",
                f"            _set_{key}(data, CONVERTERS[{spec!r}](entry, {key!r}, meta[{key!r}]))",
            ]
    if type_ == "loan" and kind == "npl":
        lines += [
            "    if data.classification not in RISK_CLASSES:",
            "        raise RegisterError(entry, f\"不良分类 classification 应为五级分类之一："
            "{'、'.join(RISK_CLASSES)}，此处为 {data.classification!r}\")",
        ]
    lines.append("    return data")
    scope: dict[str, Any] = {
        "_ABSENT": _ABSENT, "RegisterError": RegisterError, "_convert": _convert, "Amount": Amount,
        "CURRENCY": CURRENCY, "Decimal": Decimal, "ZERO": ZERO, "FEN": FEN, "datetime": datetime,
        "CONVERTERS": CONVERTERS, "RISK_CLASSES": RISK_CLASSES, "isdisjoint": frozenset(optional).isdisjoint,
        "new": _object_new, "Data": cls, "EMPTY": _object_new(cls), **setters,
    }
    exec(compile("\n".join(lines), f"<register validator {type_} {kind}>", "exec"), scope)  # noqa: S102
    validate: Callable[[Custom], EventData] = scope["validate"]
    validate.__doc__ = f"Validate a {type_} {kind!r} directive's metadata (generated once)."
    return validate


_object_new = object.__new__

#: Register type -> event kind -> its validator, built once.
_VALIDATORS: dict[str, dict[str, Callable[[Custom], EventData]]] = {
    type_: {
        kind: _validator(type_, kind, label, required, optional)
        for kind, (label, required, optional) in events.items()
    }
    for type_, events in REGISTER_TYPES.items()
}
#: Register type -> event kind -> its :class:`EventData` class.
_DATA_CLASSES: dict[str, dict[str, type[EventData]]] = {
    type_: {kind: validate.__globals__["Data"] for kind, validate in validators.items()}
    for type_, validators in _VALIDATORS.items()
}

_set_kind, _set_subject, _set_data, _set_entry, _set_principal = (
    Event.__dict__[name].__set__ for name in ("kind", "subject", "data", "entry", "principal")
)


def _new_event(kind: str, subject: str, data: EventData, entry: Custom) -> Event:
    """``Event(kind, subject, data, entry)``, without the frozen dataclass's
    ``__init__`` (five ``object.__setattr__`` calls, twice the cost): one per directive."""
    event = _object_new(Event)
    _set_kind(event, kind)
    _set_subject(event, subject)
    _set_data(event, data)
    _set_entry(event, entry)
    _set_principal(event, None)
    return event


def _is_approval(entry: Custom) -> bool:
    return entry.type == "loan" and bool(entry.values) and entry.values[0].value == "approval"


def _approvals_first(customs: list[Custom]) -> list[Custom]:
    """The directives by date, approvals first on each day, otherwise in ledger order."""
    ordered: list[Custom] = []
    day = None
    later: list[Custom] = []  # the current day's other directives
    for entry in customs:
        date = entry.date
        if date != day:
            if day is not None and date < day:  # not in date order: sort them all
                return sorted(customs, key=lambda e: (e.date, not _is_approval(e)))
            ordered += later
            later = []
            day = date
        values = entry.values
        if entry.type == "loan" and values and values[0].value == "approval":
            ordered.append(entry)
        else:
            later.append(entry)
    ordered += later
    return ordered


@dataclass(frozen=True)
class Subscribers:
    """Who receives the events the register files (the engine builds it from the rule
    modules' subscriptions): ``by_kind[(type, kind)]`` is called with each event of that
    type and kind; an event whose metadata carries one of the ``watched`` keys goes to
    ``by_kind_watched`` instead (the same hooks, plus those that asked for the key)."""

    by_kind: Mapping[tuple[str, str], Callable[[Event], None]]
    watched: frozenset[str] = frozenset()
    by_kind_watched: Mapping[tuple[str, str], Callable[[Event], None]] = field(default_factory=dict)


def build_register(
    customs: list[Custom],
    programs: set[str],
    on_error: Callable[[Custom, str, str | None], None],
    subscribers: Subscribers | None = None,
    register: Register | None = None,
) -> Register:
    """Index the register directives (given in ledger order).

    ``on_error(entry, message, program)`` receives every directive that cannot be read;
    the directive is then left out of the register. ``subscribers`` (optional) receive
    every event the register files, once, in filing order: by date, a day's approvals
    first, otherwise in ledger order; a loan's events after its approval. ``register``
    (optional) is the one to fill, so that a subscriber can read it as it grows.
    """
    if register is None:
        register = Register()
    by_kind = subscribers.by_kind if subscribers is not None else {}
    by_kind_watched = subscribers.by_kind_watched if subscribers is not None else {}
    # The watched keys are few (two): looked up one by one in each directive's metadata
    # rather than iterating over its keys.
    watched = tuple(sorted(subscribers.watched)) if subscribers is not None else ()
    # Approvals first on each day: a loan's other events may stand earlier in the file
    # order of the same day (Beancount sorts a day's entries by line number).
    ordered = _approvals_first(customs)
    known_ids: set[str] = set()
    loans = register.loans
    for entry in ordered:
        try:
            event = parse_event(entry, known_ids)
        except RegisterError as exc:
            on_error(entry, str(exc), None)
            continue
        type_ = entry.type
        if type_ == "loan":
            loan = loans.get(event.subject)
            if event.kind == "approval":
                program = event.data["program"]
                if program not in programs:
                    on_error(entry, f"未知项目 {program!r}；rules.yaml 中的项目：{'、'.join(sorted(programs))}", None)
                    continue
                if loan is not None:
                    on_error(entry, f"贷款 {event.subject} 已于 {loan.approval.date} 审核同意，编号重复", program)
                    continue
                _set_principal(event, ZERO)
                loans[event.subject] = Loan(event.subject, program, event.data["enterprise"], [event], len(loans))
            elif loan is None:
                on_error(entry, f"贷款 {event.subject} 没有在此日期或之前的审核同意（approval）事件", None)
                continue
            elif event.date < loan.events[0].date:  # its approval's
                on_error(entry, f"贷款 {event.subject} 的事件早于其审核同意日 {loan.approval.date}", loan.program)
                continue
            else:
                _set_principal(event, balance_after(loan.events[-1].principal, event))
                loan.events.append(event)
        elif type_ == "enterprise":
            if event.kind == "register":
                program = event.data["program"]
                if program not in programs:
                    on_error(entry, f"未知项目 {program!r}", None)
                    continue
                register.enterprises[event.subject] = event
                register.enterprise_history.setdefault(event.subject, []).append(event)
            elif event.kind == "update":
                if event.subject not in register.enterprises:
                    on_error(entry, f"企业 {event.subject} 在此日期或之前没有登记（enterprise register）", None)
                    continue
                register.enterprise_history[event.subject].append(event)
            else:
                register.blacklist.setdefault(event.subject, []).append(event)
        elif type_ == "period":
            program = event.data["program"]
            if program not in programs:
                on_error(entry, f"未知项目 {program!r}；rules.yaml 中的项目：{'、'.join(sorted(programs))}", None)
                continue
            register.periods.append(event)
        else:
            if event.subject not in programs:
                on_error(entry, f"未知项目 {event.subject!r}", None)
                continue
            register.program_events.setdefault(event.subject, []).append(event)
        handlers = by_kind
        if watched:
            meta = entry.meta
            for key in watched:
                if key in meta:
                    handlers = by_kind_watched
                    break
        handler = handlers.get((type_, event.kind))
        if handler is not None:
            handler(event)
    # Each loan's events are already in date order (same-day events in ledger order, the
    # approval first): they were appended in the order of ``ordered``.
    return register
