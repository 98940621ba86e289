"""Load and validate ``rules.yaml``: programs, account roles, rules and dated parameters.

``rules.yaml`` holds one block per program (``CQGX``, ``WLHT``). Each rule of a program
names its severity, the article it enforces and its parameters; each parameter carries
its own article and its values keyed by the date they take effect (the shape of OpenFisca
parameters)::

    programs:
      CQGX:
        name: 重庆高新区中小微企业"助保贷"
        document: 《重庆高新区中小微企业"助保贷"管理办法》
        cite_as: 渝高新发〔2021〕8号
        accounts: {pool: Assets:CQGX:Pool, ...}
        rules:
          fee.rate:
            severity: error
            article: 第五条、第六条
            summary: ...
            params:
              rate:
                article: 第六条
                values:
                  2021-02-24: 0.025

A version may also be written as a mapping that cites its own text (an amendment, a later
notice) and may be marked as an assumption where the policy is silent::

                  2024-01-01: {value: 0.02, document: 《…补充通知》, article: 第二条}
                  2021-02-24: {value: 0.025, assumption: 办法未写明比例，暂按…}

Its ``document`` defaults to the program's ``cite_as`` and its ``article`` to the
parameter's; a finding cites the version in force on its event's date
(:meth:`Param.citation_at`). A parameter or a whole rule may carry ``assumption:`` too
(its reading of the policy is an assumption, with the reason).

Versions run from their date until the next one's, so they are written in date order and
cannot overlap; ``null`` ends a parameter (no version may follow it), and no parameter may
start after its program's ``effective`` date: either would leave a gap. A top-level
``calendar: calendar.yaml`` names the working-day table (:mod:`zhubaodai.core.workdays`).

The file is validated as it is loaded. Whatever is wrong (an unknown key, a missing
citation, a bad date, a rate out of range) raises :class:`RulesError` naming the file,
line and key, in Chinese; nothing else escapes.
"""

from __future__ import annotations

import bisect
import datetime
import re
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from pathlib import Path
from typing import Any


from zhubaodai.core.names import GENERIC
from zhubaodai.core.names import GENERIC_NAMES
from zhubaodai.core.names import MAX_LENGTH
from zhubaodai.core.names import FundNames
from zhubaodai.core.yamlfile import LineDict
from zhubaodai.core.yamlfile import RulesError
from zhubaodai.core.yamlfile import parse_yaml

SEVERITIES = ("error", "warning")

#: Account roles a program maps to accounts (see docs/ledger-format.md).
ROLES: dict[str, str] = {
    "pool": "专户（项目各项资金的上级账户，银行对账单余额断言于此）",
    "guarantee_fund": "助保金",
    "risk_fund": "风险补偿金",
    "suspense": "待查明款项（导入时未能识别的专户收支）",
    "fee_income": "助保金缴存（来源）",
    "injection": "风险补偿金注入（来源）",
    "interest_guarantee": "助保金孳息",
    "interest_risk": "风险补偿金孳息",
    "compensation_guarantee": "助保金代偿支出",
    "compensation_risk": "风险补偿金代偿支出",
    "recovery_guarantee": "追偿补回助保金",
    "recovery_risk": "追偿补回风险补偿金",
    "disposal": "合作终止后的资金处置",
}
#: Roles a program without a guarantee fund (助保金) leaves out, all of them or none: a pool
#: of district money only (SZPS) has a risk fund and no enterprise fee. The other roles of
#: :data:`ROLES` are required.
GUARANTEE_ROLES = ("guarantee_fund", "fee_income", "interest_guarantee", "compensation_guarantee",
                   "recovery_guarantee")

#: Account roles only some programs map (zhubaodai.checks.deposits, zhubaodai.checks.pool):
#: a program that leaves one out has none of its movements, and its rules cannot be listed.
OPTIONAL_ROLES: dict[str, str] = {
    "deposits": "企业质押存单（上级账户；每笔贷款一个下级账户，账户名末段为贷款编号）",
    "deposit_source": "企业存入与解押返还的质押存单（来源与去向）",
    "compensation_deposit": "质押存单代偿支出",
    "outflow_subsidy": "担保费奖补支出（政策允许的专户支出）",
    "outflow_management": "管理费支出（政策允许的专户支出）",
}
#: Rules that need an optional role: the rule id -> the roles its program must map.
ROLE_RULES: dict[str, tuple[str, ...]] = {
    "deposit.pledge": ("deposits", "deposit_source"),
    "deposit.release": ("deposits", "deposit_source"),
    "deposit.use": ("deposits", "compensation_deposit"),
    "outflow.subsidy": ("outflow_subsidy",),
    "outflow.management_fee": ("outflow_management",),
}

_COMPONENTS = ("principal", "interest", "compound", "penalty")
_DEDUCTIONS = ("costs", "penalty")
_ORDER = ("bank", "risk", "guarantee")
#: Credit ratings, best first (AAA … C); "A 级以上" means A or better.
RATINGS = ("AAA", "AA+", "AA", "AA-", "A+", "A", "A-", "BBB+", "BBB", "BBB-", "BB+", "BB", "BB-",
           "B+", "B", "B-", "CCC", "CC", "C")
#: Enterprise sizes (工信部联企业〔2011〕300号).
SIZES = ("大型", "中型", "小型", "微型")
#: Loan purposes as the register records them.
PURPOSES = ("流动资金", "固定资产", "项目融资", "并购", "其他")
#: Eligibility criteria (see zhubaodai.checks.loans).
CRITERIA = ("zone", "size", "innovation", "roster", "assessment", "credit")
#: Events a compensation deadline counts from.
ANCHORS = ("confirmation", "overdue", "claim")
#: Bases of the risk-fund floor.
BASES = ("outstanding", "expected_volume", "lent")
#: What the guarantee fund may pay of a loan's compensation (comp.waterfall
#: ``guarantee_basis``): the whole mutualised pool, or only the fees the loan's enterprise
#: paid in, less what they already paid for its loans.
GUARANTEE_BASES = ("pool", "own_fees")
#: Parties that may bear a part of a compensation (comp.shares): the pool's two funds
#: (paid from the special account, checked against the ledger's legs) and outside parties
#: (their part recorded as ``<party>_share`` metadata on the compensation, like bank_share).
PARTIES = ("guarantee", "risk", "bank", "guarantor", "insurer", "government")
POOL_PARTIES = ("guarantee", "risk")
#: Parties outside the special account: their parts are recorded as ``<party>_share``.
OUTSIDE_PARTIES = tuple(p for p in PARTIES if p not in POOL_PARTIES)
PARTY_LABELS = {"guarantee": "助保金", "risk": "风险补偿金", "bank": "合作银行", "guarantor": "担保机构",
                "insurer": "保险公司", "government": "政府"}
#: What makes a loan eligible for compensation (comp.scope's trigger): a recorded overdue
#: (today's programs), an NPL classification (``custom "loan" "npl"``), or the confirmation
#: of the overdue (``custom "loan" "confirmation"``).
TRIGGERS = ("overdue", "npl", "confirmation")
#: Bases of a fee (fee.rate ``base``): the contract amount, or the credit line (授信额度)
#: the register records as ``credit_line``.
FEE_BASES = ("contract", "credit_line")
#: Loan types the register records as ``loan_type`` (fee.rate ``credit_rate`` is for 信用).
LOAN_TYPES = ("信用", "保证", "抵押", "质押")

#: Parameter kinds: name -> (description, validator returning an error text or None).
_KINDS: dict[str, str] = {
    "rate": "0 到 1 之间的小数",
    "amount": "不小于 0 的金额（元）",
    "multiple": "大于 0 的倍数",
    "days": "不小于 0 的整数（天数）",
    "components": f"列表，取自 {list(_COMPONENTS)}",
    "deductions": f"列表，取自 {list(_DEDUCTIONS)}",
    "order": f"列表，为 {list(_ORDER)} 的一个排列",
    "workdays": "不小于 1 的整数（工作日天数）",
    "months": "不小于 0 的整数（月数）",
    "score": "0 到 100 之间的分数",
    "rating": f"信用等级，取自 {list(RATINGS)}",
    "sizes": f"列表，取自 {list(SIZES)}",
    "purposes": f"列表，取自 {list(PURPOSES)}",
    "criteria": f"列表，取自 {list(CRITERIA)}",
    "anchor": f"起算事件，取自 {list(ANCHORS)}",
    "base": f"计算基数，取自 {list(BASES)}",
    "flag": "true 或 false",
    "guarantee_basis": f"助保金代偿的限额，取自 {list(GUARANTEE_BASES)}",
    "parties": f"映射（承担方: 比例），承担方取自 {list(PARTIES)}，比例为 0 到 1 的小数，"
               "至多一方写 rest（其余部分）；比例之和为 1",
    "trigger": f"代偿触发事件，取自 {list(TRIGGERS)}",
    "residual": f"映射（承担方: 比例），承担方取自 {list(OUTSIDE_PARTIES)}：追偿后仍未弥补的损失由各方按比例承担，"
                "至多一方写 rest；比例之和为 1",
    "fee_base": f"计费基数，取自 {list(FEE_BASES)}（合同金额或授信额度）",
    "shares": "出资方及其份额的映射，如 {省级: 1, 市级: 0.5}；至少两方，份额大于 0",
}


def kind_text(kind: str) -> str:
    """What a parameter kind accepts, in Chinese (docs/rules.md, error messages)."""
    return _KINDS[kind]


@dataclass(frozen=True)
class PartyShare:
    """One row of a compensation table (comp.shares): a party and its share of the base."""

    party: str
    share: Decimal
    #: Whether the share was written ``rest`` (what the other parties leave).
    rest: bool = False

    @property
    def pool(self) -> bool:
        """Paid from the special account (a fund), rather than borne outside the pool."""
        return self.party in POOL_PARTIES

    @property
    def label(self) -> str:
        return PARTY_LABELS[self.party]

    @property
    def meta_key(self) -> str:
        """The metadata key recording an outside party's part on a compensation."""
        return f"{self.party}_share"


@dataclass(frozen=True)
class RuleSpec:
    """What the engine knows of a rule id: its Chinese title and parameter kinds."""

    title: str
    params: Mapping[str, str] = field(default_factory=dict)
    #: Parameters a program may leave out (the rule then does without them).
    optional: Mapping[str, str] = field(default_factory=dict)
    #: A check of the rule's parameters as a whole: returns an error text or None.
    validate: Callable[[Mapping[str, Param]], str | None] | None = None


def _need_one(*names: str) -> Callable[[Mapping[str, Param]], str | None]:
    def check(params: Mapping[str, Param]) -> str | None:
        if not any(name in params for name in names):
            return f"至少需要参数 {'、'.join(names)} 之一"
        return None

    return check


def _exactly_one(*names: str) -> Callable[[Mapping[str, Param]], str | None]:
    def check(params: Mapping[str, Param]) -> str | None:
        given = [name for name in names if name in params]
        if len(given) != 1:
            return f"参数 {'、'.join(names)} 须恰好给出其中一个（此处给出了 {len(given)} 个）"
        return None

    return check


def _never_above(low: Param, high: Param) -> str | None:
    """Whether ``low`` exceeds ``high`` on any date either changes (None: never)."""
    for day in sorted(set(low.dates) | set(high.dates)):
        try:
            a, b = low.at(day), high.at(day)
        except ParamDateError:
            continue
        if a > b:
            return f"{day} 起 {low.key.rsplit('.', 1)[-1]} {a} 高于 {high.key.rsplit('.', 1)[-1]} {b}"
    return None


def _fee_schedule(params: Mapping[str, Param]) -> str | None:
    """A fee schedule's parameters hang together: a secured rate needs its collateral band
    and the band its rate; the permitted range's upper bound is not below the rate."""
    if ("secured_rate" in params) != ("secured_from" in params):
        return "参数 secured_rate（有抵质押的费率）与 secured_from（抵质押不低于贷款额的比例）须同时给出"
    for low in ("rate", "secured_rate", "credit_rate"):
        if low in params and "max_rate" in params:
            problem = _never_above(params[low], params["max_rate"])
            if problem:
                return f"允许区间的上限 max_rate 不能低于下限：{problem}"
    return None


def _eligibility_params(params: Mapping[str, Param]) -> str | None:
    needs = {"innovation": "min_revenue", "assessment": "min_score"}
    for criteria in params["criteria"].values:
        for criterion, name in needs.items():
            if criteria is not None and criterion in criteria and name not in params:
                return f"条件 {criterion} 需要参数 {name}"
        if criteria is not None and "assessment" in criteria and "min_rating" not in params:
            return "条件 assessment 需要参数 min_rating"
    return None


def _overdue_days_need_overdue(params: Mapping[str, Param]) -> str | None:
    """comp.scope's ``overdue_days`` counts from the overdue event: only with that trigger."""
    if "overdue_days" in params and "trigger" in params:
        others = [t for t in params["trigger"].values if t not in (None, "overdue")]
        if others:
            return f"参数 overdue_days（逾期满若干天）只适用于触发事件 overdue，此处触发事件为 {others[0]}"
    return None


#: Issue 10, fee schedule: what fee.rate and fee.increase may say besides one ``rate``
#: (zhubaodai.checks.fees; docs/ledger-format.md names the register metadata they read).
_FEE_SCHEDULE: dict[str, str] = {
    "secured_rate": "rate",  # the rate where collateral >= secured_from × the loan
    "secured_from": "rate",  # the collateral band, as a share of the loan
    "credit_rate": "rate",  # the rate of a credit loan (loan_type 信用)
    "extra_year": "rate",  # added per loan-year beyond the first
    "max_rate": "rate",  # the upper bound of a permitted range (rate is the lower)
    "base": "fee_base",  # contract amount (default) or credit line
    "per_year": "flag",  # the fee is charged per loan-year of the term
}

#: Every rule id the engine implements. rules.yaml may only use these ids.
CATALOGUE: dict[str, RuleSpec] = {
    "fee.rate": RuleSpec("助保金缴纳比例", {"rate": "rate"}, optional=_FEE_SCHEDULE, validate=_fee_schedule),
    "fee.timing": RuleSpec("助保金缴纳时点"),
    "fee.increase": RuleSpec("增加贷款金额补缴助保金", {"rate": "rate"}, optional=_FEE_SCHEDULE, validate=_fee_schedule),
    "fee.renewal": RuleSpec("续贷助保金", {"rate": "rate"}),
    "fee.no_refund": RuleSpec("助保金不予退还"),
    "pool.no_withdrawal": RuleSpec("专户本金不得提取"),
    "pool.interest_split": RuleSpec("孳息按积数分别归属两项资金"),
    "pool.suspense": RuleSpec("待查明款项应及时查明"),
    "comp.waterfall": RuleSpec(
        "代偿顺序与分担比例", {"risk_share": "rate"}, optional={"guarantee_basis": "guarantee_basis"}
    ),
    "comp.escalation": RuleSpec("风险补偿金不足时报请决策"),
    "comp.order": RuleSpec("按逾期先后顺序代偿"),
    "comp.scope": RuleSpec(
        "代偿范围", {"components": "components"}, optional={"trigger": "trigger", "overdue_days": "days"},
        validate=_overdue_days_need_overdue,
    ),
    # Issue 10: the waterfall as a table of parties and the payout limits (zhubaodai.checks.waterfall).
    "comp.shares": RuleSpec(
        "代偿按各方比例分担", {"parties": "parties"}, optional={"shrink": "flag", "residual": "residual"}
    ),
    "comp.rate_cap": RuleSpec("合作期补偿代偿率上限", {"rate": "rate"}),
    "comp.fee_cap": RuleSpec("代偿合计不超过担保费的倍数", {"multiple": "multiple"}),
    "recovery.order": RuleSpec(
        "追偿款分配顺序", {"deductions": "deductions", "order": "order"}
    ),
    # Issue 3: the whole policy (zhubaodai.checks.loans, .deadlines, .adequacy, .lifecycle).
    "loan.amount": RuleSpec(
        "单户贷款额度上限",
        optional={"max": "amount", "max_scorecard": "amount", "max_rating": "amount", "per_loan": "flag"},
        validate=_need_one("max", "max_scorecard", "max_rating"),
    ),
    "loan.amount_general": RuleSpec("单户贷款额度一般上限", {"max": "amount"}),
    "loan.term": RuleSpec("贷款期限", {"months": "months"}),
    "loan.rate": RuleSpec("贷款利率上限", {"benchmark": "rate", "multiple": "multiple"}),
    "loan.collateral": RuleSpec("抵押或保证及连带责任", {"rate": "rate"}),
    "loan.purpose": RuleSpec("贷款用途", {"purposes": "purposes"}),
    "loan.renewal": RuleSpec("续贷须经审查通过"),
    "eligibility": RuleSpec(
        "企业准入条件",
        {"criteria": "criteria", "sizes": "sizes"},
        optional={"min_revenue": "amount", "min_score": "score", "min_rating": "rating"},
        validate=_eligibility_params,
    ),
    "blacklist": RuleSpec("黑名单企业不得新增贷款"),
    "risk.floor": RuleSpec("风险补偿金下限", {"rate": "rate", "base": "base"}),
    "risk.cap": RuleSpec("风险补偿金总规模上限", {"max": "amount"}),
    "risk.leverage": RuleSpec("贷款余额不超过风险补偿金的放大倍数", {"multiple": "multiple"}),
    # Issue 10 (fee-shapes): several funders, a leverage floor, a top-up, a portfolio stop.
    "risk.funders": RuleSpec("风险补偿金各出资方按比例注入", {"shares": "shares"}),
    "risk.leverage_floor": RuleSpec("合作银行按风险补偿金放大倍数放贷", {"multiple": "multiple"}),
    "risk.topup": RuleSpec("代偿后年末补足风险补偿金", {"target": "amount"}),
    "loan.portfolio_stop": RuleSpec("逾期率达到上限时停止新增贷款", {"max_overdue_rate": "rate"}),
    "loan.term_general": RuleSpec("贷款期限一般上限", {"months": "months"}),
    # A deadline counts working days (workdays) or calendar days (days): exactly one.
    "notice.disbursement": RuleSpec(
        "放款后告知期限", optional={"workdays": "workdays", "days": "days"},
        validate=_exactly_one("workdays", "days"),
    ),
    "notice.renewal": RuleSpec(
        "续贷后告知期限", optional={"workdays": "workdays", "days": "days"},
        validate=_exactly_one("workdays", "days"),
    ),
    "comp.deadline": RuleSpec(
        "代偿期限",
        {"anchor": "anchor"},
        optional={"workdays": "workdays", "days": "days", "grace_months": "months"},
        validate=_exactly_one("workdays", "days"),
    ),
    "program.lifecycle": RuleSpec("项目启动、终止与处置"),
    # Issue 13: the audit trail (zhubaodai.checks.periods, .evidence).
    "period.closed": RuleSpec("已结账期间不得改动"),
    "evidence.missing": RuleSpec("审批与支付须附授权文件", {"required": "flag"}),
    # Issue 10, shapes 2 and 6: whose money pays first (zhubaodai.checks.deposits) and the
    # other outflows a policy allows (zhubaodai.checks.pool).
    "deposit.pledge": RuleSpec("放款前足额质押存单", {"rate": "rate"}),
    "deposit.release": RuleSpec("存单在贷款结清后方可解押"),
    "deposit.use": RuleSpec("存单只为本笔逾期贷款先行代偿"),
    "outflow.subsidy": RuleSpec(
        "担保费奖补（比例与年度总额上限）", {"rate": "rate"}, optional={"annual_cap": "amount"}
    ),
    # A yearly cap as a rate of the funds (their balance the day before each fee) and/or an
    # absolute yearly amount: at least one (zhubaodai.checks.pool).
    "outflow.management_fee": RuleSpec(
        "管理费（年度比例或年度总额上限）", optional={"rate": "rate", "annual_cap": "amount"},
        validate=_need_one("rate", "annual_cap"),
    ),
}

_ACCOUNT_RE = re.compile(r"^(Assets|Liabilities|Equity|Income|Expenses)(:[A-Z0-9][A-Za-z0-9-]*)+$")
_PROGRAM_RE = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")


class ParamDateError(LookupError):
    """A parameter is asked for on a date before its first version took effect."""

    def __init__(self, param: Param, on: datetime.date, ended: datetime.date | None = None) -> None:
        self.param = param
        self.on = on
        self.ended = ended
        if ended is not None:
            text = f"参数「{param.key}」自 {ended} 起已不再施行（{on} 无有效版本）"
        else:
            text = f"参数「{param.key}」在 {on} 尚无生效版本（最早版本自 {param.dates[0]} 起施行）"
        super().__init__(text)


@dataclass(frozen=True)
class Citation:
    """Where a value comes from: a document (as cited, e.g. 渝高新发〔2021〕8号) and its article."""

    document: str
    article: str
    #: The version names its own document or article (not the program's and the parameter's
    #: defaults): a finding about an event under this version cites it instead of the rule.
    own: bool = False

    def __str__(self) -> str:
        return f"{self.document} {self.article}"


@dataclass(frozen=True)
class Version:
    """One dated version of a parameter: its value, its citation and whether it is assumed."""

    date: datetime.date
    value: Any
    citation: Citation
    #: Why the value is an assumption (the policy text is silent); None: the text says it.
    assumption: str | None = None
    line: int = 0


@dataclass(frozen=True)
class Param:
    """One parameter: its citation and its values by effective date."""

    key: str
    article: str
    dates: tuple[datetime.date, ...]
    values: tuple[Any, ...]
    line: int
    #: One per date, with each version's own citation and assumption (empty for a Param
    #: built by hand: :meth:`version_at` then gives None).
    versions: tuple[Version, ...] = ()
    #: The parameter as a whole is an assumption (why).
    assumption: str | None = None

    def at(self, on: datetime.date) -> Any:
        """The value in force on ``on``; a date before the first version is an error."""
        i = bisect.bisect_right(self.dates, on) - 1
        if i < 0:
            raise ParamDateError(self, on)
        if self.values[i] is None:  # `null`: the parameter ended on that date
            raise ParamDateError(self, on, ended=self.dates[i])
        return self.values[i]

    def version_at(self, on: datetime.date) -> Version | None:
        """The version in force on ``on`` (None before the first or without versions)."""
        i = bisect.bisect_right(self.dates, on) - 1
        if i < 0 or i >= len(self.versions):
            return None
        return self.versions[i]

    def assumption_at(self, on: datetime.date) -> str | None:
        """Why the value in force on ``on`` is an assumption (the version's reason, else the
        parameter's); None where the policy text gives it."""
        version = self.version_at(on)
        return (version.assumption if version is not None else None) or self.assumption


class ParamCursor:
    """:meth:`Param.at` for many dates close together (a walk in date order): it keeps
    the version last found, so most lookups are two comparisons."""

    __slots__ = ("param", "_lo", "_hi", "_value")

    def __init__(self, param: Param) -> None:
        self.param = param
        self._lo: datetime.date | None = None
        self._hi: datetime.date | None = None
        self._value: Any = None

    def at(self, on: datetime.date) -> Any:
        lo = self._lo
        if lo is not None and lo <= on and (self._hi is None or on < self._hi):
            return self._value
        value = self.param.at(on)  # raises ParamDateError
        dates = self.param.dates
        i = bisect.bisect_right(dates, on) - 1
        self._lo, self._hi = dates[i], dates[i + 1] if i + 1 < len(dates) else None
        self._value = value
        return value


@dataclass(frozen=True)
class Rule:
    """A rule as one program configures it."""

    id: str
    program: str
    severity: str
    article: str
    summary: str
    reading: str
    params: Mapping[str, Param]
    line: int
    #: The rule's reading of the policy is an assumption (why); None: the text says it.
    assumption: str | None = None

    @property
    def title(self) -> str:
        return CATALOGUE[self.id].title

    def param(self, name: str, on: datetime.date) -> Any:
        return self.params[name].at(on)

    def own_citations(self, on: datetime.date) -> tuple[Citation, ...]:
        """The citations of the versions in force on ``on`` that name their own document
        or article (an amendment): in parameter order, each once."""
        found: list[Citation] = []
        for param in self.params.values():
            version = param.version_at(on)
            if version is not None and version.citation.own and version.citation not in found:
                found.append(version.citation)
        return tuple(found)

    def assumed(self, on: datetime.date | None) -> bool:
        """Whether what the rule enforces on ``on`` rests on an assumption (the rule's
        reading, or a parameter's value in force then)."""
        if self.assumption:
            return True
        if on is None:
            return False
        return any(param.assumption_at(on) for param in self.params.values())


@dataclass(frozen=True)
class Program:
    """One 助保贷 program: its document, its accounts by role and its rules."""

    code: str
    name: str
    document: str
    cite_as: str
    effective: datetime.date
    accounts: Mapping[str, str]
    rules: Mapping[str, Rule]
    #: What the program's documents call its funds (rules.yaml ``names:``; the generic
    #: names where it gives none): every text shown about the program reads them here.
    names: FundNames = GENERIC_NAMES

    def cite(self, article: str) -> str:
        """A citation as users read it: document + article."""
        return f"{self.cite_as} {article}"

    def cite_rule(self, rule: Rule, on: datetime.date | None) -> str:
        """What a finding of ``rule`` about an event on ``on`` cites: the rule's article,
        or, where a parameter's version in force then cites its own text (an amendment),
        that version's document and article; 【假设】 where the rule's reading or a value in
        force rests on an assumption (docs/rules.md and ``zbd rules`` give the reason)."""
        own = rule.own_citations(on) if on is not None else ()
        text = "；".join(str(c) for c in own) if own else self.cite(rule.article)
        return f"{text}【假设】" if rule.assumed(on) else text

    def rule(self, rule_id: str) -> Rule | None:
        return self.rules.get(rule_id)


@dataclass(frozen=True)
class Rulebook:
    """The whole of rules.yaml, validated."""

    path: str
    programs: Mapping[str, Program]
    #: Working days (zhubaodai.core.workdays.WorkCalendar) from the table rules.yaml names
    #: (``calendar: calendar.yaml``); None: the chinesecalendar package alone.
    calendar: Any = None

    def names(self, codes: str | Sequence[str]) -> FundNames:
        """What the programs ``codes`` (one code, or several shown together on one page or
        sheet) call their funds: each fund by the name they all give it, else the generic
        name. The one accessor of fund names for every face (zhubaodai.core.names)."""
        if isinstance(codes, str):
            codes = (codes,)
        programs = [self.programs[code] for code in codes if code in self.programs]
        if not programs:
            return GENERIC_NAMES
        agreed = {
            kind: programs[0].names.of(kind)
            for kind in GENERIC
            if all(p.names.of(kind) == programs[0].names.of(kind) for p in programs)
        }
        return FundNames(**agreed)

    def account_roles(self) -> dict[str, tuple[str, str]]:
        """account -> (program code, role), for every mapped account."""
        return {
            account: (program.code, role)
            for program in self.programs.values()
            for role, account in program.accounts.items()
        }


# --------------------------------------------------------------------------------------
# Validation.


class _Checker:
    def __init__(self, filename: str) -> None:
        self.filename = filename

    def fail(self, node: Any, key: str, message: str, at: Any = None) -> RulesError:
        line = None
        if isinstance(node, LineDict):
            line = node.key_lines.get(at, node.line) if at is not None else node.line
        return RulesError(self.filename, line, key, message)

    def mapping(self, value: Any, key: str, parent: Any, at: Any) -> LineDict:
        if not isinstance(value, LineDict):
            raise self.fail(parent, key, "应为映射（键: 值）", at)
        return value

    def keys(
        self, node: LineDict, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> None:
        for key in node:
            if key not in required and key not in optional:
                allowed = "、".join(required + optional)
                raise self.fail(node, f"{path}.{key}", f"未知的键；此处可用：{allowed}", key)
        for key in required:
            if key not in node:
                raise self.fail(node, f"{path}.{key}", "缺少必填的键")

    def text(self, node: LineDict, key: str, path: str) -> str:
        value = node[key]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(node, f"{path}.{key}", "应为非空文字", key)
        return value.strip()


def _param_value(kind: str, value: Any) -> str | None:
    """Validate one parameter value; return an error text, or None if it is good."""
    if kind in ("rate", "amount", "multiple"):
        if kind == "rate" and isinstance(value, str) and value.strip().endswith("%"):
            return f"应为数字：比例写作小数（如 2.5% 写作 0.025），不带百分号：{value!r}"
        if isinstance(value, list | dict):
            return f"应为一个数字，不是{'列表' if isinstance(value, list) else '映射'}（{_KINDS[kind]}）"
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            return f"应为数字（{_KINDS[kind]}）"
        value = Decimal(value)
        if kind == "amount" and value.as_tuple().exponent < -2:  # type: ignore[operator]
            return f"金额 {value} 应精确到分（至多两位小数）"
        if kind == "rate" and not (0 <= value <= 1):
            return f"比例 {value} 超出范围（{_KINDS[kind]}）"
        if kind == "amount" and value < 0:
            return f"金额 {value} 不能为负"
        if kind == "multiple" and value <= 0:
            return f"倍数 {value} 应大于 0"
        return None
    if kind in ("days", "months", "workdays"):
        if isinstance(value, bool) or not isinstance(value, int) or value < (1 if kind == "workdays" else 0):
            return f"应为{_KINDS[kind]}"
        return None
    if kind == "score":
        if isinstance(value, bool) or not isinstance(value, int | Decimal) or not 0 <= value <= 100:
            return f"应为{_KINDS[kind]}"
        return None
    if kind == "flag":
        return None if isinstance(value, bool) else f"应为{_KINDS[kind]}"
    if kind in ("parties", "residual"):
        return _parties_problem(value, pool_required=kind == "parties")
    if kind == "shares":
        if not isinstance(value, dict) or len(value) < 2:
            return f"应为{_KINDS[kind]}"
        for name, share in value.items():
            if not isinstance(name, str) or not name.strip():
                return f"出资方名称应为文字：{name!r}"
            if isinstance(share, bool) or not isinstance(share, int | Decimal) or share <= 0:
                return f"出资方 {name} 的份额应为大于 0 的数字：{share!r}"
        return None
    if kind in ("rating", "anchor", "base", "guarantee_basis", "trigger", "fee_base"):
        allowed_one = {
            "rating": RATINGS, "anchor": ANCHORS, "base": BASES, "guarantee_basis": GUARANTEE_BASES,
            "trigger": TRIGGERS, "fee_base": FEE_BASES,
        }[kind]
        if value not in allowed_one:
            return f"未知取值 {value!r}；应为{_KINDS[kind]}"
        return None
    allowed = {
        "components": _COMPONENTS,
        "deductions": _DEDUCTIONS,
        "order": _ORDER,
        "sizes": SIZES,
        "purposes": PURPOSES,
        "criteria": CRITERIA,
    }[kind]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return f"应为{_KINDS[kind]}"
    unknown = [v for v in value if v not in allowed]
    if unknown:
        return f"未知取值 {unknown}；应为{_KINDS[kind]}"
    if len(set(value)) != len(value):
        return "列表中有重复项"
    if kind == "order" and sorted(value) != sorted(_ORDER):
        return f"应为{_KINDS[kind]}"
    if kind == "components" and "principal" not in value:
        return "代偿范围必须包含本金 principal"
    return None


def _parties_problem(value: Any, pool_required: bool = True) -> str | None:
    """A compensation table: party -> share, at most one ``rest``, shares summing to 1; the
    table of who pays (``parties``) has at least one of the pool's funds."""
    if not isinstance(value, dict) or not value:
        return f"应为{_KINDS['parties' if pool_required else 'residual']}"
    unknown = [p for p in value if p not in PARTIES]
    if unknown:
        return f"未知的承担方 {unknown}；应为{_KINDS['parties']}"
    rests = [p for p, share in value.items() if share == "rest"]
    if len(rests) > 1:
        return f"至多一方的比例写 rest，此处有 {rests}"
    total = Decimal(0)
    for party, share in value.items():
        if share == "rest":
            continue
        if isinstance(share, bool) or not isinstance(share, int | Decimal) or not 0 <= share <= 1:
            return f"承担方 {party} 的比例 {share} 应为 0 到 1 之间的小数或 rest"
        total += Decimal(share)
    if total > 1 or (not rests and total != 1):
        return f"各方比例之和为 {total}，应为 1（或写一方为 rest 承担其余）"
    if pool_required and not any(p in POOL_PARTIES for p in value):
        return f"至少一方应为资金池的资金（{list(POOL_PARTIES)}）"
    pooled = [p for p in value if p in POOL_PARTIES]
    if not pool_required and pooled:
        # The loss left after recovery is what the pool could not get back: borne outside it.
        return f"追偿后的损失由资金池之外的各方承担，承担方不能是资金池的资金 {pooled}；应取自 {list(OUTSIDE_PARTIES)}"
    return None


def _parties(value: dict[str, Any]) -> tuple[PartyShare, ...]:
    given = sum((Decimal(s) for s in value.values() if s != "rest"), Decimal(0))
    return tuple(
        PartyShare(party, 1 - given, True) if share == "rest" else PartyShare(party, Decimal(share))
        for party, share in value.items()
    )


def _convert(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind in ("parties", "residual"):
        return _parties(value)
    if kind in ("rate", "amount", "multiple", "score"):
        return Decimal(value)
    if kind in ("components", "deductions", "order", "sizes", "purposes", "criteria"):
        return tuple(value)
    if kind == "shares":
        return tuple((str(name).strip(), Decimal(share)) for name, share in value.items())
    return value


#: The keys of a version written as a mapping (``2024-01-01: {value: 0.02, document: …}``).
_VERSION_KEYS = ("value", "document", "article", "assumption")


def _is_version_mapping(value: Any) -> bool:
    """A version written as a mapping: it has ``value`` or one of the citation keys. For a
    parameter kind whose values are themselves mappings (a table), a mapping without these
    keys is the value itself; with a citation, the table is written under ``value:``."""
    return isinstance(value, LineDict) and any(key in value for key in _VERSION_KEYS)


def _assumption(check: _Checker, node: LineDict, path: str) -> str | None:
    if "assumption" not in node:
        return None
    value = node["assumption"]
    if not isinstance(value, str) or not value.strip():
        raise check.fail(
            node, f"{path}.assumption", "假设应写明理由（非空文字），如：节选未见此条，暂按……", "assumption"
        )
    return value.strip()


def _load_param(
    check: _Checker, node: LineDict, name: str, kind: str, path: str, line: int, cite_as: str = ""
) -> Param:
    check.keys(node, path, ("article", "values"), ("document", "assumption"))
    article = check.text(node, "article", path)
    own_document = "document" in node
    document = check.text(node, "document", path) if own_document else cite_as
    assumption = _assumption(check, node, path)
    values = check.mapping(node["values"], f"{path}.values", node, "values")
    if not values:
        raise check.fail(node, f"{path}.values", "至少需要一个生效版本", "values")
    dates: list[datetime.date] = []
    converted: list[Any] = []
    versions: list[Version] = []
    # Versions in the order written: each runs from its date until the next one's, so
    # they can neither overlap nor leave a gap; `null` ends the parameter (OpenFisca's
    # way), and only as the last version.
    for when in values:
        vpath = f"{path}.values.{when}"
        if not isinstance(when, datetime.date) or isinstance(when, datetime.datetime):
            raise check.fail(values, vpath, "生效日期应写作 YYYY-MM-DD", when)
        if dates and when <= dates[-1]:
            raise check.fail(
                values, vpath,
                f"版本应按生效日期先后排列：{when} 不晚于上一版本的 {dates[-1]}（版本重叠）", when,
            )
        if converted and converted[-1] is None:
            raise check.fail(
                values, vpath,
                f"参数已于 {dates[-1]} 终止（null），其后不能再有版本（版本之间有空档）", when,
            )
        value = values[when]
        citation = Citation(document, article, own=own_document)
        version_assumption = None
        vline = values.key_lines.get(when, line)
        if _is_version_mapping(value):
            vnode = value
            allowed = "、".join(_VERSION_KEYS)
            for key in vnode:
                if key not in _VERSION_KEYS:
                    raise check.fail(vnode, f"{vpath}.{key}", f"未知的键；带出处的版本可用：{allowed}（value 必填）", key)
            if "value" not in vnode:
                raise check.fail(vnode, f"{vpath}.value", f"缺少必填的键 value（带出处的版本写作 {{value: 取值, document: 文件, article: 条款}}）")
            citation = Citation(
                check.text(vnode, "document", vpath) if "document" in vnode else document,
                check.text(vnode, "article", vpath) if "article" in vnode else article,
                own=own_document or "document" in vnode or "article" in vnode,
            )
            version_assumption = _assumption(check, vnode, vpath)
            value = vnode["value"]
            vpath = f"{vpath}.value"
            if value is None and version_assumption:
                raise check.fail(vnode, vpath, "终止（null）的版本没有取值，不能标为假设", "assumption")
            at: Any = vnode
            at_key: Any = "value"
        else:
            at, at_key = values, when
        if value is None and not dates:
            raise check.fail(at, vpath, "首个版本不能为 null", at_key)
        problem = None if value is None else _param_value(kind, value)
        if problem:
            raise check.fail(at, vpath, problem, at_key)
        dates.append(when)
        converted.append(_convert(kind, value))
        versions.append(Version(when, converted[-1], citation, version_assumption, vline))
    return Param(path, article, tuple(dates), tuple(converted), line, tuple(versions), assumption)


def _load_rule(
    check: _Checker, code: str, rule_id: str, node: LineDict, line: int, cite_as: str = ""
) -> Rule:
    path = f"programs.{code}.rules.{rule_id}"
    check.keys(node, path, ("severity", "article", "summary"), ("reading", "params", "assumption"))
    severity = node["severity"]
    if not isinstance(severity, str) or severity not in SEVERITIES:
        raise check.fail(node, f"{path}.severity", "严重程度应为 error 或 warning", "severity")
    spec = CATALOGUE[rule_id]
    params_node = node.get("params", LineDict())
    if "params" in node:
        params_node = check.mapping(node["params"], f"{path}.params", node, "params")
    params: dict[str, Param] = {}
    for name in params_node:
        if name not in spec.params and name not in spec.optional:
            expected = "、".join([*spec.params, *spec.optional]) or "（无参数）"
            raise check.fail(params_node, f"{path}.params.{name}", f"未知参数；此规则的参数：{expected}", name)
    for name, kind in [*spec.params.items(), *spec.optional.items()]:
        if name not in params_node:
            if name in spec.optional:
                continue
            raise check.fail(node, f"{path}.params.{name}", "缺少参数", "params" if "params" in node else None)
        pnode = check.mapping(params_node[name], f"{path}.params.{name}", params_node, name)
        params[name] = _load_param(
            check, pnode, name, kind, f"{path}.params.{name}", params_node.key_lines[name], cite_as
        )
    if spec.validate is not None:
        problem = spec.validate(params)
        if problem:
            raise check.fail(node, f"{path}.params", problem, "params" if "params" in node else None)
    reading = ""
    if "reading" in node:
        reading = check.text(node, "reading", path)
    return Rule(
        id=rule_id,
        program=code,
        severity=severity,
        article=check.text(node, "article", path),
        summary=check.text(node, "summary", path),
        reading=reading,
        params=params,
        line=line,
        assumption=_assumption(check, node, path),
    )


def _load_program(check: _Checker, code: str, node: LineDict) -> Program:
    path = f"programs.{code}"
    check.keys(node, path, ("name", "document", "cite_as", "effective", "accounts", "rules"), ("names",))
    effective = node["effective"]
    if not isinstance(effective, datetime.date):
        raise check.fail(node, f"{path}.effective", "生效日期应写作 YYYY-MM-DD", "effective")
    accounts_node = check.mapping(node["accounts"], f"{path}.accounts", node, "accounts")
    required = tuple(role for role in ROLES if role not in GUARANTEE_ROLES)
    check.keys(accounts_node, f"{path}.accounts", required, (*GUARANTEE_ROLES, *OPTIONAL_ROLES))
    given = [role for role in GUARANTEE_ROLES if role in accounts_node]
    if given and len(given) != len(GUARANTEE_ROLES):
        missing = "、".join(role for role in GUARANTEE_ROLES if role not in accounts_node)
        raise check.fail(
            accounts_node, f"{path}.accounts",
            f"助保金的账户角色应全部映射或全部不映射（无助保金的项目），缺少：{missing}",
        )
    accounts: dict[str, str] = {}
    for role in [*ROLES, *(r for r in OPTIONAL_ROLES if r in accounts_node)]:
        if role not in accounts_node:
            continue
        account = accounts_node[role]
        if not isinstance(account, str) or not _ACCOUNT_RE.match(account):
            raise check.fail(
                accounts_node, f"{path}.accounts.{role}", f"不是有效的 Beancount 账户名：{account!r}", role
            )
        accounts[role] = account
    pool = accounts["pool"]
    for role in ("guarantee_fund", "risk_fund", "suspense"):
        if role in accounts and not accounts[role].startswith(pool + ":"):
            raise check.fail(
                accounts_node, f"{path}.accounts.{role}", f"应为专户账户 {pool} 的下级账户", role
            )
    deposits = accounts.get("deposits")
    if deposits is not None and (deposits == pool or deposits.startswith(pool + ":")):
        raise check.fail(
            accounts_node, f"{path}.accounts.deposits",
            f"质押存单是企业存在贷款银行的资金，不在专户内：不能是专户账户 {pool} 或其下级账户", "deposits",
        )
    if len(set(accounts.values())) != len(accounts):
        raise check.fail(accounts_node, f"{path}.accounts", "不同角色不能映射到同一账户")
    cite_as = check.text(node, "cite_as", path)
    rules_node = check.mapping(node["rules"], f"{path}.rules", node, "rules")
    rules: dict[str, Rule] = {}
    for rule_id in rules_node:
        if not isinstance(rule_id, str) or rule_id not in CATALOGUE:
            raise check.fail(
                rules_node, f"{path}.rules.{rule_id}",
                "未知的规则编号（引擎未实现；已实现的规则见 docs/rules.md 或 zbd rules）", rule_id,
            )
        rnode = check.mapping(rules_node[rule_id], f"{path}.rules.{rule_id}", rules_node, rule_id)
        rules[rule_id] = _load_rule(check, code, rule_id, rnode, rules_node.key_lines[rule_id], cite_as)
        unmapped = [role for role in ROLE_RULES.get(rule_id, ()) if role not in accounts]
        if unmapped:
            names = "、".join(f"{role}（{({**ROLES, **OPTIONAL_ROLES}).get(role, role)}）" for role in unmapped)
            raise check.fail(
                rules_node, f"{path}.rules.{rule_id}",
                f"此规则需要在 accounts 中映射账户角色：{names}（请在 {path}.accounts 中映射）", rule_id,
            )
        for param in rules[rule_id].params.values():
            if param.dates[0] > effective:
                raise RulesError(
                    check.filename, param.line, param.key,
                    f"首个版本自 {param.dates[0]} 起，晚于项目施行日 {effective}：其间没有有效版本（版本之间有空档）",
                )
    for role in OPTIONAL_ROLES:
        users = [rule_id for rule_id, roles in ROLE_RULES.items() if role in roles]
        if role in accounts and not any(rule_id in rules for rule_id in users):
            raise check.fail(
                accounts_node, f"{path}.accounts.{role}",
                f"映射了可选角色却没有列出使用它的规则（{'、'.join(users)}）：其分录将无规则核对", role,
            )
    if "comp.waterfall" in rules and "comp.shares" in rules:
        raise check.fail(
            rules_node, f"{path}.rules.comp.shares",
            "comp.waterfall（助保金先付、不足部分按比例分担）与 comp.shares（各方按比例分担）只能选用其一",
            "comp.shares",
        )
    return Program(
        code=code,
        name=check.text(node, "name", path),
        document=check.text(node, "document", path),
        cite_as=cite_as,
        effective=effective,
        accounts=accounts,
        rules=rules,
        names=_load_names(check, node, path, accounts),
    )


def _load_names(check: _Checker, node: LineDict, path: str, accounts: Mapping[str, str]) -> FundNames:
    """A program's ``names:`` (fund kind -> what its documents call that fund)."""
    if "names" not in node:
        return GENERIC_NAMES
    names_node = check.mapping(node["names"], f"{path}.names", node, "names")
    check.keys(names_node, f"{path}.names", (), tuple(GENERIC))
    given: dict[str, str] = {}
    for kind in names_node:
        key = f"{path}.names.{kind}"
        if kind not in accounts:
            raise check.fail(
                names_node, key, f"本项目没有映射账户角色 {kind}（{GENERIC[kind]}），无须为其命名", kind
            )
        name = check.text(names_node, kind, f"{path}.names")
        if len(name) > MAX_LENGTH or any(ch.isspace() or ch in "，。；：,.;:" for ch in name):
            raise check.fail(
                names_node, key, f"资金名称应为不超过 {MAX_LENGTH} 个字的词语（不含空格与标点）：{name!r}", kind
            )
        if name in given.values():
            raise check.fail(names_node, key, f"两项资金的名称不能相同：{name}", kind)
        given[kind] = name
    others = {k: v for k, v in GENERIC.items() if k not in given}
    for kind, name in given.items():
        clash = [k for k, generic in others.items() if generic == name]
        if clash:
            raise check.fail(
                names_node, f"{path}.names.{kind}", f"名称 {name} 是另一项资金（{clash[0]}）的通用名称，会混淆两项资金", kind
            )
    return FundNames(**given)


def parse_rules(text: str, filename: str = "rules.yaml") -> Rulebook:
    """Validate rules given as text; raises :class:`RulesError`."""
    check = _Checker(filename)
    root = parse_yaml(text, filename)
    if not isinstance(root, LineDict):
        raise RulesError(filename, 1, "(根)", "文件应为映射，至少包含 schema 与 programs")
    check.keys(root, "(根)", ("schema", "programs"), ("calendar",))
    if isinstance(root["schema"], bool) or root["schema"] != 1:
        raise check.fail(root, "schema", "仅支持 schema: 1", "schema")
    programs_node = check.mapping(root["programs"], "programs", root, "programs")
    if not programs_node:
        raise check.fail(root, "programs", "至少需要一个项目", "programs")
    programs: dict[str, Program] = {}
    seen_accounts: dict[str, str] = {}
    for code in programs_node:
        if not isinstance(code, str) or not _PROGRAM_RE.match(code):
            raise check.fail(programs_node, f"programs.{code}", "项目代码应为 2–16 位大写字母或数字", code)
        pnode = check.mapping(programs_node[code], f"programs.{code}", programs_node, code)
        program = _load_program(check, code, pnode)
        for account in program.accounts.values():
            if account in seen_accounts:
                raise check.fail(
                    pnode, f"programs.{code}.accounts", f"账户 {account} 已由项目 {seen_accounts[account]} 使用", "accounts"
                )
            seen_accounts[account] = code
        programs[code] = program
    calendar = None
    if "calendar" in root:
        name = root["calendar"]
        if not isinstance(name, str) or not name.strip():
            raise check.fail(root, "calendar", "应为工作日历文件的路径（相对于 rules.yaml），如 calendar.yaml", "calendar")
        from zhubaodai.core.workdays import load_calendar

        calendar = load_calendar(Path(filename).parent / name.strip())
    return Rulebook(path=filename, programs=programs, calendar=calendar)


def load_rules(path: str | Path) -> Rulebook:
    """Read and validate a rules file; raises :class:`RulesError` (never a traceback)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesError(str(path), None, "文件", "找不到规则文件") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(str(path), None, "文件", f"无法读取：{exc}") from None
    return parse_rules(text, str(path))
