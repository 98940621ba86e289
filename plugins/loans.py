"""Loan terms and who may borrow: amount, term, rate, collateral, purpose, renewal,
eligibility and the blacklist.

Rules: ``loan.amount``, ``loan.amount_general``, ``loan.term``, ``loan.rate``,
``loan.collateral``, ``loan.purpose``, ``loan.renewal``, ``eligibility``, ``blacklist``.

The ledger these rules expect (see docs/ledger-format.md for every key)::

    2024-01-05 custom "enterprise" "register" "E-CQ-001"
      program: "CQGX"
      name: "重庆某某科技有限公司"
      size: "小型"
      zone: TRUE
      hightech_cert: "GR202350001234"
      hightech_until: 2026-11-30

    2024-03-01 custom "loan" "approval" "CQ-2024-001"
      program: "CQGX"
      enterprise: "E-CQ-001"
      amount: 3000000.00 CNY
      letter: "高新创服函〔2024〕12号"
      purpose: "流动资金"
      term_months: 12

    2024-03-08 custom "loan" "contract" "CQ-2024-001"
      amount: 3000000.00 CNY
      maturity: 2025-03-08
      rate: 0.0400
      collateral: 1200000.00 CNY          ; WLHT: >= 40% of the amount
      joint_liability: "张某（实际控制人）"  ; WLHT

    2024-03-10 custom "loan" "disbursement" "CQ-2024-001"
      amount: 3000000.00 CNY
      notice_date: 2024-03-13

The register is read once, day by day in date order (each enterprise's facts and each
loan's credit line are kept as running state), after the engine's walk over the entries.

* Eligibility is judged on the approval's date from the enterprise's register and
  update events up to that day (the latest value of each fact counts); missing facts
  count as not shown, so not eligible.
* The amount limits are per enterprise: the sum of the credit lines of its loans in the
  program that are not yet settled, at the end of the day of each approval, contract,
  increase and renewal. A loan's line is the approved amount until the contract, then the
  contract amount plus increases, the renewed amount after a renewal, and nothing once
  it is settled or repaid to nil.
* The term runs from each disbursement (or renewal) to its maturity, at most the
  anniversary (:func:`zhubaodai.workdays.add_months`).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

from zhubaodai.engine import Context
from zhubaodai.money import ZERO
from zhubaodai.money import half_up
from zhubaodai.money import percent
from zhubaodai.money import yuan
from zhubaodai.register import Event
from zhubaodai.register import Loan
from zhubaodai.register import balance_after
from zhubaodai.rules import RATINGS
from zhubaodai.rules import SIZES
from zhubaodai.workdays import add_months

#: Events that start or grow a credit line: checked against the blacklist and the limits.
NEW_CREDIT = ("approval", "contract", "disbursement", "increase", "renewal")
CRITERION_LABELS = {
    "zone": "注册地",
    "size": "企业规模",
    "innovation": "高新技术或优质科技型企业",
    "roster": "备选企业名册",
    "assessment": "评分或信用等级",
    "credit": "征信记录",
}


@dataclass
class EnterpriseFacts:
    """An enterprise's facts as of the day being read (register + updates so far)."""

    history: list[Event]
    position: int = 0
    facts: dict[str, Any] = field(default_factory=dict)
    program: str | None = None

    def advance(self, day: datetime.date) -> dict[str, Any]:
        while self.position < len(self.history) and self.history[self.position].date <= day:
            event = self.history[self.position]
            if event.kind == "register":
                self.program = event.data["program"]
            self.facts.update(event.data)
            self.position += 1
        return self.facts


@dataclass
class LineState:
    """A loan's credit line and principal as the day-by-day reading has seen them."""

    loan: Loan
    line: Decimal = ZERO
    outstanding: Decimal = ZERO
    contracted: bool = False
    rate: Decimal | None = None
    collateral: Decimal | None = None
    maturity: datetime.date | None = None
    reported: dict[str, Decimal] = field(default_factory=dict)


def rating_rank(rating: str) -> int | None:
    """0 for AAA, larger for worse; None for a rating not on the scale."""
    try:
        return RATINGS.index(rating.strip().upper())
    except ValueError:
        return None


def finish(ctx: Context) -> None:
    register = ctx.register
    days: dict[datetime.date, list[tuple[Loan, Event]]] = {}
    for loan in register.loans.values():
        for event in loan.events:
            days.setdefault(event.date, []).append((loan, event))
    cursors = {
        ent: EnterpriseFacts(sorted(history, key=lambda e: e.date))
        for ent, history in register.enterprise_history.items()
    }
    blacklisted = {
        ent: min(events, key=lambda e: e.date) for ent, events in register.blacklist.items() if events
    }
    lines: dict[str, LineState] = {}
    exposure: dict[tuple[str, str], Decimal] = {}  # (program, enterprise) -> sum of lines
    for day in sorted(days):
        checks: list[tuple[LineState, Event]] = []
        for loan, event in days[day]:
            state = lines.get(loan.id)
            if state is None:
                state = lines[loan.id] = LineState(loan)
            before = state.line
            _apply(state, event)
            key = (loan.program, loan.enterprise)
            exposure[key] = exposure.get(key, ZERO) + state.line - before
            if event.kind in NEW_CREDIT:
                checks.append((state, event))
        for state, event in checks:
            loan = state.loan
            cursor = cursors.get(loan.enterprise)
            facts = cursor.advance(day) if cursor is not None else {}
            _blacklist(ctx, loan, event, blacklisted.get(loan.enterprise))
            if event.kind == "approval":
                _eligibility(ctx, loan, event, facts, cursor)
                _purpose(ctx, loan, event)
            if event.kind in ("approval", "contract", "increase", "renewal"):
                _amount(ctx, state, event, facts, exposure[(loan.program, loan.enterprise)])
            _term(ctx, state, event)
            if event.kind in ("contract", "renewal"):
                _rate(ctx, state, event)
            if event.kind in ("contract", "increase", "renewal"):
                _collateral(ctx, state, event)
            if event.kind == "renewal" and ctx.active(loan.program, "loan.renewal"):
                if "letter" not in event.data:
                    ctx.report(
                        "loan.renewal",
                        loan.program,
                        event.entry,
                        f"贷款 {loan.id} 续贷未注明经主管单位审查通过的函件（letter）",
                        loan=loan.id,
                    )


def _apply(state: LineState, event: Event) -> None:
    data = event.data
    kind = event.kind
    if kind == "approval":
        state.line = data["amount"]
        state.rate = data.get("rate")
    elif kind == "contract":
        state.line = data["amount"]
        state.contracted = True
        state.rate = data.get("rate", state.rate)
        state.collateral = data.get("collateral", state.collateral)
        state.maturity = data.get("maturity", state.maturity)
    elif kind == "increase":
        state.line += data["amount"]
        state.collateral = data.get("collateral", state.collateral)
    elif kind == "renewal":
        state.line = data["amount"]
        state.rate = data.get("rate", state.rate)
        state.collateral = data.get("collateral", state.collateral)
    state.outstanding = balance_after(state.outstanding, event)
    if kind == "settlement" or (kind == "repayment" and state.outstanding <= 0):
        state.line = ZERO


def _blacklist(ctx: Context, loan: Loan, event: Event, listed: Event | None) -> None:
    if listed is None or event.date < listed.date or not ctx.active(loan.program, "blacklist"):
        return
    ctx.report(
        "blacklist",
        loan.program,
        event.entry,
        f"企业 {loan.enterprise} 已于 {listed.date} 列入黑名单（{listed.data['reason']}），"
        f"不得再办理贷款 {loan.id} 的{event.label}",
        loan=loan.id,
    )


# --------------------------------------------------------------------------------------
# Eligibility.


def _eligibility(
    ctx: Context, loan: Loan, event: Event, facts: Mapping[str, Any], cursor: EnterpriseFacts | None
) -> None:
    code = loan.program
    if not ctx.active(code, "eligibility"):
        return
    if cursor is None or cursor.program is None:
        ctx.report(
            "eligibility",
            code,
            event.entry,
            f"贷款 {loan.id} 的企业 {loan.enterprise} 在审核同意日 {event.date} 前没有企业登记"
            "（enterprise register），无法核对准入条件",
            loan=loan.id,
        )
        return
    if cursor.program != code:
        ctx.report(
            "eligibility",
            code,
            event.entry,
            f"企业 {loan.enterprise} 登记在项目 {cursor.program}，不能在项目 {code} 取得贷款 {loan.id}",
            loan=loan.id,
        )
        return
    criteria = ctx.param(code, "eligibility", "criteria", event.date, event.entry)
    if criteria is None:
        return
    rule = ctx.rulebook.programs[code].rules["eligibility"]

    def param(name: str) -> Any:
        return rule.params[name].at(event.date) if name in rule.params else None

    problems: list[str] = []
    figures: dict[str, Decimal] = {}
    for criterion in criteria:
        problem = _criterion(criterion, facts, event.date, param, figures)
        if problem:
            problems.append(f"{CRITERION_LABELS[criterion]}：{problem}")
    if problems:
        ctx.report(
            "eligibility",
            code,
            event.entry,
            f"企业 {loan.enterprise} 在审核同意日 {event.date} 不符合准入条件（贷款 {loan.id}）："
            + "；".join(problems),
            figures=figures,
            loan=loan.id,
        )


def _criterion(
    criterion: str,
    facts: Mapping[str, Any],
    on: datetime.date,
    param: Any,
    figures: dict[str, Decimal],
) -> str | None:
    """Why the enterprise fails ``criterion`` on ``on`` (None: it meets it)."""
    if criterion == "zone":
        if facts.get("zone") is not True:
            return "工商注册、税务登记和统计关系未登记为均在本区（zone 应为 TRUE）"
        return None
    if criterion == "size":
        size = facts.get("size")
        sizes = param("sizes") or ()
        if size is None:
            return f"未登记企业规模 size（应为{'、'.join(sizes)}之一）"
        if size not in SIZES:
            return f"企业规模 {size!r} 无法识别（可用：{'、'.join(SIZES)}）"
        if size not in sizes:
            return f"{size}企业不在本办法支持范围（{'、'.join(sizes)}）"
        return None
    if criterion == "innovation":
        until = facts.get("hightech_until")
        if until is not None and until >= on:
            return None
        reasons: list[str] = []
        if facts.get("tech_db") is not True:
            reasons.append("未登记为已入库科技型企业（tech_db）")
        if facts.get("own_ip") is not True:
            reasons.append("未登记拥有自主知识产权（own_ip）")
        minimum = param("min_revenue")
        year = facts.get("revenue_year")
        revenue = facts.get("revenue")
        if revenue is None or year is None:
            reasons.append(f"未登记上一年度（{on.year - 1} 年）营业收入 revenue/revenue_year")
        elif year != on.year - 1:
            reasons.append(f"登记的营业收入为 {year} 年，不是上一年度（{on.year - 1} 年）")
        elif minimum is not None and revenue < minimum:
            reasons.append(f"上一年度营业收入 {yuan(revenue)} 元，低于 {yuan(minimum)} 元")
            figures.update({"上一年度营业收入": revenue, "门槛": minimum, "差额": minimum - revenue})
        if not reasons:
            return None
        hightech = (
            "未登记高新技术企业证书有效期 hightech_until" if until is None
            else f"高新技术企业证书已于 {until} 到期"
        )
        return f"{hightech}，且不满足优质科技型企业条件（{'，'.join(reasons)}）"
    if criterion == "roster":
        if not facts.get("roster"):
            return "未登记入备选企业名册（roster）"
        return None
    if criterion == "assessment":
        min_score, min_rating = param("min_score"), param("min_rating")
        score, rating = facts.get("score"), facts.get("rating")
        if score is not None and min_score is not None and score >= min_score:
            return None
        if rating is not None:
            rank = rating_rank(rating)
            if rank is None:
                return f"信用等级 {rating!r} 无法识别（可用：{'、'.join(RATINGS)}）"
            if min_rating is not None and rank <= rating_rank(min_rating):
                return None
        parts = []
        parts.append(f"评分卡分数 {score}" if score is not None else "未登记评分卡分数 score")
        parts.append(f"信用等级 {rating}" if rating is not None else "未登记信用等级 rating")
        return f"{'、'.join(parts)}，未达到评分 {min_score} 分以上或信用等级 {min_rating} 级以上"
    if criterion == "credit":
        if facts.get("credit_clean") is not True:
            return "未登记人民银行征信报告无不良信用记录（credit_clean 应为 TRUE）"
        return None
    raise AssertionError(criterion)


def _purpose(ctx: Context, loan: Loan, event: Event) -> None:
    code = loan.program
    if not ctx.active(code, "loan.purpose"):
        return
    purposes = ctx.param(code, "loan.purpose", "purposes", event.date, event.entry)
    if purposes is None:
        return
    purpose = event.data.get("purpose")
    allowed = "、".join(purposes)
    if purpose is None:
        message = f"贷款 {loan.id} 审核同意未登记用途 purpose（应为{allowed}）"
    elif purpose not in purposes:
        message = f"贷款 {loan.id} 用途为“{purpose}”，本办法的贷款只能用于{allowed}"
    else:
        return
    ctx.report("loan.purpose", code, event.entry, message, loan=loan.id)


# --------------------------------------------------------------------------------------
# Amount, term, rate, collateral.


def _amount(
    ctx: Context, state: LineState, event: Event, facts: Mapping[str, Any], total: Decimal
) -> None:
    loan = state.loan
    code = loan.program
    hard_breached = False
    if ctx.active(code, "loan.amount"):
        rule = ctx.rulebook.programs[code].rules["loan.amount"]
        cap, basis = _cap(ctx, code, rule.params, event, facts)
        if cap is not None and total > cap:
            hard_breached = True
            _report_amount(ctx, "loan.amount", state, event, total, cap, f"最高不超过 {yuan(cap)} 元{basis}")
    if not hard_breached and ctx.active(code, "loan.amount_general"):
        cap = ctx.param(code, "loan.amount_general", "max", event.date, event.entry)
        if cap is not None and total > cap:
            _report_amount(ctx, "loan.amount_general", state, event, total, cap, f"一般在 {yuan(cap)} 元以内")


def _cap(
    ctx: Context, code: str, params: Mapping[str, Any], event: Event, facts: Mapping[str, Any]
) -> tuple[Decimal | None, str]:
    """The hard ceiling on ``event``'s date: ``max``, or by the enterprise's assessment
    (a credit rating on record: ``max_rating``; else a scorecard: ``max_scorecard``)."""
    values: dict[str, Decimal] = {}
    for name in ("max", "max_scorecard", "max_rating"):
        if name in params:
            value = ctx.param(code, "loan.amount", name, event.date, event.entry)
            if value is None:
                return None, ""
            values[name] = value
    if "max" in values:
        return values["max"], ""
    if "max_rating" in values and facts.get("rating") is not None:
        return values["max_rating"], f"（按信用等级 {facts['rating']} 评价）"
    if "max_scorecard" in values and facts.get("score") is not None:
        return values["max_scorecard"], f"（按评分卡 {facts['score']} 分评价）"
    lowest = min(values.values())
    return lowest, "（企业未登记评分或信用等级，按较低的上限）"


def _report_amount(
    ctx: Context, rule_id: str, state: LineState, event: Event, total: Decimal, cap: Decimal, limit: str
) -> None:
    loan = state.loan
    if state.reported.get(rule_id, ZERO) >= total:
        return  # already reported for this loan at this total or more
    state.reported[rule_id] = total
    others = total - state.line
    detail = f"（其中其他未结清贷款 {yuan(others)} 元）" if others else ""
    ctx.report(
        rule_id,
        loan.program,
        event.entry,
        f"企业 {loan.enterprise} 的贷款额度合计 {yuan(total)} 元{detail}，{event.label}后超过单户额度：{limit}"
        f"（贷款 {loan.id}）",
        figures={"额度上限": cap, "企业合计额度": total, "超出": total - cap},
        loan=loan.id,
    )


def _term(ctx: Context, state: LineState, event: Event) -> None:
    loan = state.loan
    code = loan.program
    if not ctx.active(code, "loan.term"):
        return
    if event.kind not in ("approval", "disbursement", "renewal"):
        return
    months = ctx.param(code, "loan.term", "months", event.date, event.entry)
    if months is None:
        return
    if event.kind == "approval":
        term = event.data.get("term_months")
        if term is not None and term > months:
            ctx.report(
                "loan.term",
                code,
                event.entry,
                f"贷款 {loan.id} 审核同意的期限 {term} 个月，超过 {months} 个月",
                loan=loan.id,
            )
        return
    maturity = event.data.get("maturity")
    if maturity is None and event.kind == "disbursement":
        maturity = state.maturity
    if maturity is None:
        ctx.report(
            "loan.term",
            code,
            event.entry,
            f"贷款 {loan.id} 的{event.label}未登记到期日 maturity（合同也未登记），无法核对期限不超过 {months} 个月",
            loan=loan.id,
        )
        return
    limit = add_months(event.date, months)
    if maturity > limit:
        ctx.report(
            "loan.term",
            code,
            event.entry,
            f"贷款 {loan.id} {event.label}日 {event.date}，到期日 {maturity} 晚于 {months} 个月期满日 {limit}"
            f"（超出 {(maturity - limit).days} 天）",
            loan=loan.id,
        )
    elif maturity < event.date:
        ctx.report(
            "loan.term",
            code,
            event.entry,
            f"贷款 {loan.id} 的到期日 {maturity} 早于{event.label}日 {event.date}",
            loan=loan.id,
        )


def _rate(ctx: Context, state: LineState, event: Event) -> None:
    loan = state.loan
    code = loan.program
    if not ctx.active(code, "loan.rate"):
        return
    benchmark = ctx.param(code, "loan.rate", "benchmark", event.date, event.entry)
    multiple = ctx.param(code, "loan.rate", "multiple", event.date, event.entry)
    if benchmark is None or multiple is None:
        return
    limit = benchmark * multiple
    if state.rate is None:
        ctx.report(
            "loan.rate",
            code,
            event.entry,
            f"贷款 {loan.id} 的{event.label}未登记年利率 rate，无法核对是否不超过基准利率 {percent(benchmark)}"
            f" 的 {multiple.normalize():f} 倍（{percent(limit)}）",
            loan=loan.id,
        )
        return
    if state.rate > limit:
        ctx.report(
            "loan.rate",
            code,
            event.entry,
            f"贷款 {loan.id} 年利率 {percent(state.rate)}，超过{event.label}日 {event.date} 适用的同期基准利率"
            f" {percent(benchmark)} 的 {multiple.normalize():f} 倍（{percent(limit)}）",
            loan=loan.id,
        )


def _collateral(ctx: Context, state: LineState, event: Event) -> None:
    loan = state.loan
    code = loan.program
    if not ctx.active(code, "loan.collateral"):
        return
    rate = ctx.param(code, "loan.collateral", "rate", event.date, event.entry)
    if rate is None:
        return
    if event.kind == "contract" and "joint_liability" not in event.data:
        ctx.report(
            "loan.collateral",
            code,
            event.entry,
            f"贷款 {loan.id} 的合同未登记承担连带清偿责任的法定代表人、实际控制人或主要股东（joint_liability）",
            loan=loan.id,
        )
    required = half_up(state.line * rate)
    if state.collateral is None:
        ctx.report(
            "loan.collateral",
            code,
            event.entry,
            f"贷款 {loan.id} 未登记抵押或保证金额 collateral（应不低于贷款额度 {yuan(state.line)} 元的 {percent(rate)}）",
            figures={"应不低于": required},
            loan=loan.id,
        )
        return
    if state.collateral < required:
        ctx.report(
            "loan.collateral",
            code,
            event.entry,
            f"贷款 {loan.id} {event.label}后贷款额度 {yuan(state.line)} 元，抵押或保证应不低于其 {percent(rate)}",
            figures={"应不低于": required, "登记金额": state.collateral, "差额": required - state.collateral},
            loan=loan.id,
        )
