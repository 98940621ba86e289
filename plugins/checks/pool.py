"""The special account itself: no withdrawal of principal, the interest split, suspense.

Rules: ``pool.no_withdrawal``, ``pool.interest_split``, ``pool.suspense`` and
``fee.no_refund`` (a refund is a withdrawal towards an enterprise); ``outflow.subsidy``
the other outflows a policy allows, each to its declared account (an optional role)
within its caps — any other outflow stays a withdrawal. A new kind of outflow is one
entry in :data:`OUTFLOW_RULES`, its role and its rule.

The ledger these rules expect (accounts as mapped in rules.yaml)::

    2024-03-21 * "工行结息" "2024Q1 结息"
      period_end: 2024-03-20
      Assets:CQGX:Pool:Guarantee        300.00 CNY
      Assets:CQGX:Pool:Risk             700.00 CNY
      Income:CQGX:Guarantee:Interest   -300.00 CNY
      Income:CQGX:Risk:Interest        -700.00 CNY

A fund account may only decrease in a compensation (checked with the loan's basis in
:mod:`zhubaodai.checks.waterfall`) or in the final disposal after the program's termination
with every loan settled, or in an outflow the program declares (its rule listed and its
account mapped in rules.yaml)::

    2022-03-31 * "海口市担保公司" "担保费奖补 HK-2021-001" ^HK-2021-001
      Assets:HKJB:Pool:Risk        -10000.00 CNY
      Expenses:HKJB:Subsidy         10000.00 CNY

A guarantee-fee subsidy (``outflow.subsidy``) pays one loan (its link) at most the rate
times its guaranteed amount (contract plus increases, half-up to the fen), summed over
all its subsidies; all subsidies of a calendar year together stay within ``annual_cap``.
A management fee (``outflow.management_fee``) links no loan; the fees of a calendar year
together stay within the lower of ``annual_cap`` and ``rate`` times the two funds' balance
at the end of the day before the fee (half-up to the fen). Both rules share one walk of
the outflow (:func:`_outflow`): the amount against the funds' decrease, the year's total,
the yearly cap that binds (:func:`_yearly_cap`), one finding when it is exceeded.
Interest is split by 积数 (sum of end-of-day balances) over the
period from the day after the previous settlement (``period_start`` overrides) to the
day before the credit (``period_end`` overrides), by largest remainder to the fen.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from beancount.core.data import Transaction

from zhubaodai.core.engine import Context
from zhubaodai.core.engine import GUARANTEE
from zhubaodai.core.engine import Movement
from zhubaodai.core.engine import RISK
from zhubaodai.core.findings import FORMAT_RULE
from zhubaodai.core.money import FEN
from zhubaodai.core.money import ZERO
from zhubaodai.core.money import half_up
from zhubaodai.core.money import largest_remainder
from zhubaodai.core.money import percent
from zhubaodai.core.money import yuan
from zhubaodai.core.register import GUARANTEED_EVENTS
from zhubaodai.core.register import Loan

ONE_DAY = datetime.timedelta(days=1)
#: Outflow roles -> the rule that allows them.
OUTFLOW_RULES = {"outflow_subsidy": "outflow.subsidy", "outflow_management": "outflow.management_fee"}


@dataclass(frozen=True)
class Outflow:
    """One outflow a policy allows, as booked, with its caps."""

    program: str
    rule: str
    entry: Transaction
    #: What left the funds; negative for a return of an earlier outflow (:func:`_returned`).
    amount: Decimal
    #: The year's total of this rule's outflows, this one included (after a return: what
    #: was kept, never below zero).
    year_total: Decimal
    #: The yearly cap that binds on the outflow's date (the lowest of the rule's yearly
    #: caps), None where the rule has none.
    annual_cap: Decimal | None
    #: For a subsidy: the loan, its guaranteed amount and what it may get in all.
    loan: str | None = None
    base: Decimal | None = None
    allowed: Decimal | None = None
    #: For a subsidy: the loan's subsidies so far, this one included (what is left: allowed − this).
    loan_total: Decimal | None = None


@dataclass(frozen=True)
class InterestAllocation:
    """One bank interest credit and how it should be, and was, split."""

    program: str
    entry: Transaction
    total: object
    period_start: datetime.date
    period_end: datetime.date
    jishu_guarantee: object
    jishu_risk: object
    expected_guarantee: object
    expected_risk: object
    actual_guarantee: object
    actual_risk: object

    @property
    def ok(self) -> bool:
        return (self.expected_guarantee, self.expected_risk) == (
            self.actual_guarantee,
            self.actual_risk,
        )


def split_interest(total, jishu_guarantee, jishu_risk):
    """The two funds' shares of ``total`` by their 积数, to the fen, summing to ``total``."""
    guarantee, risk = largest_remainder(total, [jishu_guarantee, jishu_risk])
    return guarantee, risk


class FundBalances(Protocol):
    """What :func:`interest_split` reads of a fund: :class:`zhubaodai.core.engine.DailyBalance`,
    or the importer's view of one plus the rows it is booking."""

    @property
    def first_day(self) -> datetime.date | None: ...

    def jishu(self, start: datetime.date, end: datetime.date) -> Decimal: ...


@dataclass(frozen=True)
class InterestSplit:
    """One interest credit's period and the funds' 积数 over it (:func:`interest_split`)."""

    total: Decimal
    period_start: datetime.date
    period_end: datetime.date
    jishu_guarantee: Decimal
    jishu_risk: Decimal

    @property
    def problem(self) -> str | None:
        """Why the 积数 cannot split the credit (with :attr:`problem_figures`), or None."""
        jg, jr = self.jishu_guarantee, self.jishu_risk
        if jg < 0 or jr < 0 or jg + jr == 0:
            return (
                f"计息期 {self.period_start} 至 {self.period_end} 两项资金积数为 {yuan(jg)} 与 {yuan(jr)}，"
                "无法按积数分配孳息（请核对计息期 period_start/period_end）"
            )
        return None

    @property
    def problem_figures(self) -> dict[str, Decimal]:
        return {"孳息总额": self.total}

    @property
    def shares(self) -> tuple[Decimal, Decimal]:
        """(guarantee, risk): the total by 积数 to the fen, by largest remainder (only
        where there is no :attr:`problem`)."""
        return split_interest(self.total, self.jishu_guarantee, self.jishu_risk)


def interest_period_end(credit_date: datetime.date, period_end: datetime.date | None = None) -> datetime.date:
    """The last day an interest credit pays for: ``period_end`` if given, else the day
    before the credit (banks settle on the 20th and credit on the 21st)."""
    return period_end or credit_date - ONE_DAY


def interest_split(
    guarantee: FundBalances,
    risk: FundBalances,
    last_interest_end: datetime.date | None,
    credit_date: datetime.date,
    total: Decimal,
    *,
    period_start: datetime.date | None = None,
    period_end: datetime.date | None = None,
) -> InterestSplit:
    """How an interest credit of ``total`` on ``credit_date`` is split between the funds.

    ``guarantee`` and ``risk`` are the funds' end-of-day balances before the credit. The
    period runs from ``period_start`` (else the day after ``last_interest_end``, the end
    of the previous settlement; else the first day either fund moved; else the credit
    date) to ``period_end`` (else the day before the credit); each fund's 积数 is the sum
    of its end-of-day balances over it, and :attr:`InterestSplit.shares` divides the total
    by them (:func:`split_interest`). This is the one computation of the split: the engine
    checks a credit against it (``pool.interest_split``), the importer books a new credit
    by it (:mod:`zhubaodai.importers.classify`).
    """
    end = interest_period_end(credit_date, period_end)
    start = period_start
    if start is None:
        if last_interest_end is not None:
            start = last_interest_end + ONE_DAY
        else:
            days = [d for d in (guarantee.first_day, risk.first_day) if d]
            start = min(days) if days else credit_date
    return InterestSplit(total, start, end, guarantee.jishu(start, end), risk.jishu(start, end))


#: The transaction kinds :func:`on_movement` is given (None: every kind).
MOVEMENT_KINDS: frozenset[str] | None = None


def on_movement(ctx: Context, m: Movement) -> None:
    code = m.state.program.code
    if m.kind == "fee" and m.role("fee_income") > 0:
        if ctx.active(code, "fee.no_refund"):
            ctx.report(
                "fee.no_refund",
                code,
                m.entry,
                "助保金不予退还，不得从专户向企业退款",
                figures={"退还金额": m.role("fee_income")},
                loan=m.loans[0] if m.loans else None,
            )
        return
    if m.kind == "outflow":
        rule_id = _outflow_rule(ctx, m)
        if rule_id is not None:
            _outflow(ctx, m, rule_id)
            return
    if ctx.active(code, "pool.no_withdrawal"):
        _no_withdrawal(ctx, m)
    if m.kind == "interest" and ctx.active(code, "pool.interest_split"):
        _interest(ctx, m)


def _no_withdrawal(ctx: Context, m: Movement) -> None:
    code = m.state.program.code
    out = {fund: -m.delta(fund) for fund in (GUARANTEE, RISK) if m.delta(fund) < 0}
    if not out:
        return
    gained = [fund for fund in (GUARANTEE, RISK) if m.delta(fund) > 0]
    names = "、".join({GUARANTEE: "助保金", RISK: "风险补偿金"}[f] for f in out)
    taken = sum(out.values(), ZERO)
    if gained:
        ctx.report(
            "pool.no_withdrawal",
            code,
            m.entry,
            "助保金与风险补偿金分别核算，两项资金之间不得相互划转",
            figures={"划出金额": taken},
        )
        return
    if m.kind == "compensation":
        for fund, amount in out.items():
            expense = m.role(f"compensation_{fund}")
            if expense != amount:
                ctx.report(
                    "pool.no_withdrawal",
                    code,
                    m.entry,
                    f"{ {GUARANTEE: '助保金', RISK: '风险补偿金'}[fund]}减少额应等于其代偿支出",
                    figures={"资金减少": amount, "代偿支出": expense, "差额": amount - expense},
                )
        return  # the basis of a compensation is checked in zhubaodai.checks.waterfall
    if m.kind == "disposal":
        terminated = ctx.register.terminated(code, m.date)
        if terminated is None:
            ctx.report(
                "pool.no_withdrawal",
                code,
                m.entry,
                f"合作尚未终止（无 program terminate 登记），不得处置专户资金：{names}",
                figures={"处置金额": taken},
            )
            return
        open_loans = sorted(
            loan.id
            for loan in ctx.register.loans.values()
            if loan.program == code and not loan.settled(m.date)
        )
        if open_loans:
            shown = "、".join(open_loans[:5]) + ("等" if len(open_loans) > 5 else "")
            ctx.report(
                "pool.no_withdrawal",
                code,
                m.entry,
                f"尚有 {len(open_loans)} 笔贷款本息未结清（{shown}），不得处置专户资金",
                figures={"处置金额": taken},
            )
        return
    allowed = "代偿和合作终止后的处置"
    titles = [ctx.rulebook.programs[code].rules[r].title.split("（")[0] for r in OUTFLOW_RULES.values() if ctx.active(code, r)]
    if titles:  # a program that declares other lawful outflows names them
        allowed = f"代偿、{'、'.join(titles)}（记入声明的账户）和合作终止后的处置"
    ctx.report(
        "pool.no_withdrawal",
        code,
        m.entry,
        f"专户内{names}本金除{allowed}外不得提取或支用",
        figures={"提取金额": taken},
    )


def _outflow_rule(ctx: Context, m: Movement) -> str | None:
    """The rule allowing an outflow: one role of an outflow the program lists; else None
    (the movement stays a withdrawal for pool.no_withdrawal)."""
    code = m.state.program.code
    roles = [role for role in OUTFLOW_RULES if m.role(role) != 0]
    if len(roles) != 1 or not ctx.active(code, OUTFLOW_RULES[roles[0]]):
        return None
    return OUTFLOW_RULES[roles[0]]


def _outflow(ctx: Context, m: Movement, rule_id: str) -> None:
    code = m.state.program.code
    role = next(r for r, rid in OUTFLOW_RULES.items() if rid == rule_id)
    amount = m.role(role)
    taken = -(m.delta(GUARANTEE) + m.delta(RISK))
    # One fund up and the other down is a transfer between them, whichever the sign of the
    # outflow (a reversal brings money back: both funds up, or one up and the other still).
    if amount != taken or m.delta(GUARANTEE) * m.delta(RISK) < 0:
        if ctx.active(code, "pool.no_withdrawal"):
            ctx.report(
                "pool.no_withdrawal", code, m.entry,
                f"{ctx.rulebook.programs[code].rules[rule_id].title}的支出额应等于专户资金的减少额",
                figures={"资金减少": taken, "支出": amount, "差额": taken - amount},
            )
        return
    if amount < 0:  # never 0: _outflow_rule takes only a non-zero leg
        _returned(ctx, m, rule_id, -amount)
        return
    year = m.date.year
    state = m.state
    year_total = state.outflow_year_totals.get((rule_id, year), ZERO) + amount
    cap = _yearly_cap(ctx, m, rule_id)
    loan_id = base = allowed = loan_total = None
    if rule_id == "outflow.subsidy":
        found = _subsidy(ctx, m, amount)
        if found is None:
            return
        loan_id, base, allowed, loan_total = found
        state.outflow_loan_totals[(rule_id, loan_id)] = loan_total
    state.outflow_year_totals[(rule_id, year)] = year_total
    state.outflows.append(
        Outflow(code, rule_id, m.entry, amount, year_total, cap.limit if cap else None,
                loan_id, base, allowed, loan_total)
    )
    if cap is not None and year_total > cap.limit:
        title = ctx.rulebook.programs[code].rules[rule_id].title.split("（")[0]
        ctx.report(
            rule_id, code, m.entry,
            f"{year} 年度{title}累计超过{cap.what}",
            figures={"年度上限": cap.limit, "年度累计": year_total, "超出": year_total - cap.limit},
            loan=loan_id,
        )


def _returned(ctx: Context, m: Movement, rule_id: str, back: Decimal) -> None:
    """Money of an earlier outflow coming back into the funds (a subsidy paid in error and
    refunded). A return is not checked against a cap; it lowers the totals the caps count:
    the year's total of the year it comes back in, and, for a subsidy linked to one loan,
    that loan's total. Neither goes below zero, so a return makes no room beyond what was
    paid: what comes back in January of a subsidy paid the December before gives the new
    year no extra room. A return linking no loan (or several) leaves the loans' totals as
    they are, which keeps their caps on the strict side."""
    state = m.state
    year_key = (rule_id, m.date.year)
    year_total = max(ZERO, state.outflow_year_totals.get(year_key, ZERO) - back)
    state.outflow_year_totals[year_key] = year_total
    cap = _yearly_cap(ctx, m, rule_id)
    loan_id = base = allowed = loan_total = None
    if rule_id == "outflow.subsidy" and len(m.loans) == 1:
        loan_id = m.loans[0]
        loan_key = (rule_id, loan_id)
        loan_total = max(ZERO, state.outflow_loan_totals.get(loan_key, ZERO) - back)
        state.outflow_loan_totals[loan_key] = loan_total
        rate = ctx.param(state.program.code, rule_id, "rate", m.date, m.entry)
        base = subsidy_base(ctx.register.loans[loan_id], m.date)
        allowed = half_up(base * rate) if rate is not None else None
    state.outflows.append(
        Outflow(state.program.code, rule_id, m.entry, -back, year_total, cap.limit if cap else None,
                loan_id, base, allowed, loan_total)
    )


@dataclass(frozen=True)
class YearlyCap:
    """The cap on a year's outflows of one rule that binds on a date, and what it is."""

    limit: Decimal
    what: str


def _yearly_cap(ctx: Context, m: Movement, rule_id: str) -> YearlyCap | None:
    """The lowest of the rule's yearly caps on the outflow's date: ``annual_cap`` (an
    amount), and ``rate`` where it caps the year (outflow.management_fee: the rate times
    the two funds' balance at the end of the day before, half-up to the fen). None: the
    rule has no yearly cap in force."""
    code = m.state.program.code
    params = ctx.rulebook.programs[code].rules[rule_id].params
    caps: list[YearlyCap] = []
    if "annual_cap" in params:
        limit = ctx.param(code, rule_id, "annual_cap", m.date, m.entry)
        if limit is not None:
            caps.append(YearlyCap(limit, "年度总额上限"))
    if rule_id in _RATE_OF_FUNDS and "rate" in params:
        rate = ctx.param(code, rule_id, "rate", m.date, m.entry)
        if rate is not None:
            day = m.date - ONE_DAY
            funds = m.state.funds[GUARANTEE].at(day) + m.state.funds[RISK].at(day)
            caps.append(YearlyCap(half_up(funds * rate), f"专户资金（{day} 日终 {yuan(funds)} 元）的 {percent(rate)}"))
    return min(caps, key=lambda cap: cap.limit) if caps else None


#: Outflow rules whose ``rate`` caps the year's total as a share of the funds (a
#: subsidy's rate is per loan instead: :func:`_subsidy`).
_RATE_OF_FUNDS = ("outflow.management_fee",)


def subsidy_base(loan: Loan, on: datetime.date) -> Decimal:
    """A subsidy's base: the loan's guaranteed amount by ``on`` (its contract and increases)."""
    base = ZERO
    for event in loan.events:
        if event.date > on:
            break
        if event.kind in GUARANTEED_EVENTS:
            base += event.data["amount"]
    return base


def _subsidy(ctx: Context, m: Movement, amount: Decimal) -> tuple[str, Decimal, Decimal, Decimal] | None:
    """A subsidy's loan, guaranteed amount and allowance; reports what exceeds it."""
    code = m.state.program.code
    if len(m.loans) != 1:
        ctx.report(
            "outflow.subsidy", code, m.entry,
            f"担保费奖补应以链接 ^贷款编号 关联本项目的唯一一笔贷款（按其担保金额计算），此笔关联了 {len(m.loans)} 笔",
            figures={"奖补金额": amount},
        )
        return None
    loan = ctx.register.loans[m.loans[0]]
    rate = ctx.param(code, "outflow.subsidy", "rate", m.date, m.entry)
    if rate is None:
        return None
    base = subsidy_base(loan, m.date)
    allowed = half_up(base * rate)
    before = m.state.outflow_loan_totals.get(("outflow.subsidy", loan.id), ZERO)
    total = before + amount
    if total > allowed:
        ctx.report(
            "outflow.subsidy", code, m.entry,
            f"贷款 {loan.id} 的担保费奖补超过担保金额的 {percent(rate)}",
            figures={"应奖补": allowed, "累计奖补": total, "超出": total - allowed},
            loan=loan.id,
        )
    return loan.id, base, allowed, total


def _meta_date(ctx: Context, m: Movement, key: str) -> datetime.date | None:
    value = m.entry.meta.get(key)
    if value is None:
        return None
    if not isinstance(value, datetime.date):
        ctx.report(FORMAT_RULE, None, m.entry, f"元数据 {key} 应为日期，如 {key}: 2024-03-20")
        return None
    return value


def _interest(ctx: Context, m: Movement) -> None:
    state = m.state
    code = state.program.code
    total = -(m.role("interest_guarantee") + m.role("interest_risk"))
    actual_g, actual_r = m.delta(GUARANTEE), m.delta(RISK)
    period_end = _meta_date(ctx, m, "period_end")
    period_start = _meta_date(ctx, m, "period_start")
    split = interest_split(
        state.funds[GUARANTEE],
        state.funds[RISK],
        state.last_interest_end,
        m.date,
        total,
        period_start=period_start,
        period_end=period_end,
    )
    start, end = split.period_start, split.period_end
    state.last_interest_end = end
    if total != total.quantize(FEN):
        return  # amounts off the fen: a ledger.format error, no split to check
    if actual_g + actual_r != total:
        ctx.report(
            "pool.interest_split",
            code,
            m.entry,
            "孳息应全部分别计入助保金与风险补偿金",
            figures={"孳息总额": total, "计入两项资金": actual_g + actual_r},
        )
        return
    if split.problem is not None:
        ctx.report("pool.interest_split", code, m.entry, split.problem, figures=split.problem_figures)
        return
    jg, jr = split.jishu_guarantee, split.jishu_risk
    exp_g, exp_r = split.shares
    allocation = InterestAllocation(
        code, m.entry, total, start, end, jg, jr, exp_g, exp_r, actual_g, actual_r
    )
    ctx.records.interest.append(allocation)
    if not allocation.ok:
        ctx.report(
            "pool.interest_split",
            code,
            m.entry,
            f"孳息 {yuan(total)} 元应按计息期 {start} 至 {end} 的积数分配"
            f"（助保金积数 {yuan(jg)}，风险补偿金积数 {yuan(jr)}）",
            figures={
                "助保金应分": exp_g,
                "助保金实记": actual_g,
                "风险补偿金应分": exp_r,
                "风险补偿金实记": actual_r,
            },
        )


def finish(ctx: Context) -> None:
    for code, state in ctx.states.items():
        if not ctx.active(code, "pool.suspense"):
            continue
        # A program without a guarantee fund (SZPS) has one fund to put the money in.
        two = "guarantee_fund" in state.program.accounts
        where, funds = ("两项资金", "助保金或风险补偿金") if two else ("本项目资金", "风险补偿金")
        for account, balance in sorted(state.unallocated.items()):
            if balance != 0:
                ctx.report(
                    "pool.suspense",
                    code,
                    state.last_unallocated_entry.get(account),
                    f"专户账户 {account} 尚有未归属{where}的款项，应查明后计入{funds}",
                    figures={"未归属余额": balance},
                )
