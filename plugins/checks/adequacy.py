"""The risk fund's adequacy: its floor, its cap and the leverage it allows.

Rules: ``risk.floor`` (CQ: 10% of the loans outstanding; WLHT: 10% of the bank's declared
expected volume of the year), ``risk.cap`` (CQ: total injected at most 50,000,000.00),
``risk.leverage`` (WLHT: outstanding at most 10 times the risk fund).

The ledger these rules expect, besides the loan register (outstanding principal) and the
risk fund's account::

    2024-01-02 * "财政局" "注入风险补偿金"
      Assets:WLHT:Pool:Risk        5000000.00 CNY
      Income:WLHT:Risk:Injection  -5000000.00 CNY

    2024-01-05 custom "program" "plan" "WLHT"     ; WLHT: the bank's expected volume
      year: 2024
      expected_volume: 50000000.00 CNY

When they are judged (documented in rules.yaml ``reading``): the floor and the leverage
compare end-of-day figures, on each day on which the loans outstanding (register) or the
risk fund's balance changed, never per calendar day, so the work is linear in the
entries. A breach is reported once, on the first day of each run of days in breach, at
the entry of that day that moved the figure (the last loan event, else the last risk-fund
transaction). The cap counts the injections as they come, and reports each injection
that takes the total beyond it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from beancount.core.data import Directive

from zhubaodai.core.engine import Context
from zhubaodai.core.engine import Movement
from zhubaodai.core.engine import RISK
from zhubaodai.core.money import ZERO
from zhubaodai.core.money import half_up
from zhubaodai.core.money import percent
from zhubaodai.core.money import yuan
from zhubaodai.core.register import BALANCE_EVENTS
from zhubaodai.core.register import Event
from zhubaodai.core.register import balance_after
from zhubaodai.core.rules import ParamDateError


@dataclass
class RiskWatch:
    """Per program: what the walk saw of the risk fund."""

    injected: Decimal = ZERO
    #: Day -> the last transaction of that day that changed the risk fund.
    risk_days: dict[datetime.date, Directive] = field(default_factory=dict)


@dataclass(frozen=True)
class AdequacyCheck:
    """One end-of-day comparison (kept for the faces that chart them)."""

    rule: str
    program: str
    day: datetime.date
    risk_fund: Decimal
    base: Decimal
    limit: Decimal
    ok: bool


def _watch(ctx: Context, code: str) -> RiskWatch:
    watches = ctx.risk_watch
    watch = watches.get(code)
    if watch is None:
        watch = watches[code] = RiskWatch()
    return watch


#: The transaction kinds :func:`on_movement` is given (None: every kind).
MOVEMENT_KINDS: frozenset[str] | None = None


def on_movement(ctx: Context, m: Movement) -> None:
    delta = m.delta(RISK)
    if not delta:
        return
    code = m.state.program.code
    watch = _watch(ctx, code)
    watch.risk_days[m.date] = m.entry
    if m.kind != "injection":
        return
    before = watch.injected
    watch.injected += delta
    if delta > 0 and ctx.active(code, "risk.cap"):
        cap = ctx.param(code, "risk.cap", "max", m.date, m.entry)
        if cap is not None and watch.injected > cap:
            ctx.report(
                "risk.cap",
                code,
                m.entry,
                f"风险补偿金累计注入 {yuan(watch.injected)} 元（此前 {yuan(before)} 元，本笔 {yuan(delta)} 元），"
                f"超过总规模上限",
                figures={"上限": cap, "累计注入": watch.injected, "超出": watch.injected - cap},
            )


class _Param:
    """A rule parameter on a day; a day before its first version is reported once."""

    def __init__(self, ctx: Context, code: str, rule_id: str, name: str) -> None:
        self.ctx, self.code, self.rule_id, self.name = ctx, code, rule_id, name
        self.param = ctx.rulebook.programs[code].rules[rule_id].params[name]
        self.reported = False

    def at(self, day: datetime.date, entry: Directive) -> Decimal | str | None:
        try:
            return self.param.at(day)
        except ParamDateError:
            if not self.reported:
                self.reported = True
                self.ctx.param(self.code, self.rule_id, self.name, day, entry)
            return None


def finish(ctx: Context) -> None:
    checks: list[AdequacyCheck] = ctx.records.adequacy
    wanted = {
        code for code in ctx.states if ctx.active(code, "risk.floor") or ctx.active(code, "risk.leverage")
    }
    changes = _outstanding_changes(ctx, wanted)
    for code, state in ctx.states.items():
        if code not in wanted:
            continue
        floor_on = ctx.active(code, "risk.floor")
        leverage_on = ctx.active(code, "risk.leverage")
        watch = _watch(ctx, code)
        loan_days = changes[code]
        base = None
        if floor_on:  # what the floor is measured against: the version in force at the books' end
            param = ctx.rulebook.programs[code].rules["risk.floor"].params["base"]
            try:
                base = param.at(ctx.as_of) if ctx.as_of is not None else param.values[-1]
            except ParamDateError:
                base = param.values[-1]
        daily_floor = floor_on and base == "outstanding"
        if daily_floor or leverage_on:
            _daily(ctx, code, state.funds[RISK], watch, loan_days, daily_floor, leverage_on, checks)
        if floor_on and base == "expected_volume":
            _plan_floor(ctx, code, state.funds[RISK], watch, loan_days, checks)


def _outstanding_changes(
    ctx: Context, codes: set[str]
) -> dict[str, dict[datetime.date, tuple[Decimal, Event]]]:
    """Program -> day -> (change of the program's outstanding that day, the last loan event
    of the day that changed it), in one pass over the register."""
    found: dict[str, dict[datetime.date, tuple[Decimal, Event]]] = {code: {} for code in codes}
    balance_kinds = frozenset(BALANCE_EVENTS)
    for loan in ctx.register.loans.values():
        changes = found.get(loan.program)
        if changes is None:
            continue
        balance = ZERO
        for event in loan.events:
            if event.kind not in balance_kinds:
                continue
            after = balance_after(balance, event)
            if after != balance:
                day = event.date
                known = changes.get(day)
                changes[day] = (after - balance if known is None else known[0] + after - balance, event)
                balance = after
    return found


def _daily(
    ctx: Context,
    code: str,
    risk,
    watch: RiskWatch,
    loan_days: dict[datetime.date, tuple[Decimal, Event]],
    floor_on: bool,
    leverage_on: bool,
    checks: list[AdequacyCheck],
) -> None:
    rate = _Param(ctx, code, "risk.floor", "rate") if floor_on else None
    multiple = _Param(ctx, code, "risk.leverage", "multiple") if leverage_on else None
    in_breach = {"risk.floor": False, "risk.leverage": False}
    series = risk.series()
    j = 0
    balance = ZERO
    outstanding = ZERO
    for day in sorted(set(loan_days) | set(watch.risk_days)):
        while j < len(series) and series[j][0] <= day:
            balance = series[j][1]
            j += 1
        change = loan_days.get(day)
        if change is not None:
            outstanding += change[0]
        anchor = change[1].entry if change is not None else watch.risk_days[day]
        if rate is not None:
            value = rate.at(day, anchor)
            if value is not None:
                required = half_up(outstanding * value)
                ok = balance >= required
                checks.append(AdequacyCheck("risk.floor", code, day, balance, outstanding, required, ok))
                if not ok and not in_breach["risk.floor"]:
                    ctx.report(
                        "risk.floor",
                        code,
                        anchor,
                        f"{day} 日终风险补偿金余额 {yuan(balance)} 元，低于贷款余额 {yuan(outstanding)} 元的"
                        f" {percent(value)}",
                        figures={"应不低于": required, "风险补偿金余额": balance, "差额": required - balance},
                    )
                in_breach["risk.floor"] = not ok
        if multiple is not None:
            value = multiple.at(day, anchor)
            if value is not None:
                limit = balance * value
                ok = outstanding <= limit
                checks.append(AdequacyCheck("risk.leverage", code, day, balance, outstanding, limit, ok))
                if not ok and not in_breach["risk.leverage"]:
                    ctx.report(
                        "risk.leverage",
                        code,
                        anchor,
                        f"{day} 日终贷款余额 {yuan(outstanding)} 元，超过风险补偿金余额 {yuan(balance)} 元的"
                        f" {value.normalize():f} 倍",
                        figures={"贷款余额上限": limit, "贷款余额": outstanding, "超出": outstanding - limit},
                    )
                in_breach["risk.leverage"] = not ok


def _plan_floor(
    ctx: Context,
    code: str,
    risk,
    watch: RiskWatch,
    loan_days: dict[datetime.date, tuple[Decimal, Event]],
    checks: list[AdequacyCheck],
) -> None:
    """WLHT: the risk fund against 10% of the year's declared expected volume."""
    plans: dict[int, list[Event]] = {}
    for event in ctx.register.program_events.get(code, []):
        if event.kind == "plan":
            plans.setdefault(event.data.get("year", event.date.year), []).append(event)
    rate = _Param(ctx, code, "risk.floor", "rate")
    # Days to judge, by year: each plan's own day and every day of the year the risk fund
    # changed, from the year's first plan on.
    days: dict[int, set[datetime.date]] = {}
    for day in watch.risk_days:
        days.setdefault(day.year, set()).add(day)
    for year, events in sorted(plans.items()):
        events.sort(key=lambda e: e.date)
        todo = sorted(days.get(year, set()) | {e.date for e in events})
        in_breach = False
        k = -1
        for day in todo:
            while k + 1 < len(events) and events[k + 1].date <= day:
                k += 1
            if k < 0:
                continue  # before the year's first plan
            plan = events[k]
            value = rate.at(day, plan.entry)
            if value is None:
                continue
            volume = plan.data["expected_volume"]
            required = half_up(volume * value)
            balance = risk.at(day)
            ok = balance >= required
            checks.append(AdequacyCheck("risk.floor", code, day, balance, volume, required, ok))
            if not ok and not in_breach:
                anchor = watch.risk_days.get(day) if day != plan.date else plan.entry
                ctx.report(
                    "risk.floor",
                    code,
                    anchor or plan.entry,
                    f"{day} 日终风险补偿金余额 {yuan(balance)} 元，低于 {year} 年预计业务量"
                    f" {yuan(volume)} 元的 {percent(value)}（{plan.date} 登记的年度计划）",
                    figures={"应不低于": required, "风险补偿金余额": balance, "差额": required - balance},
                )
            in_breach = not ok
    # A year with new loans and no plan: the floor cannot be judged.
    first: dict[int, Event] = {}
    for loan in ctx.register.loans.values():
        if loan.program != code:
            continue
        for event in loan.events:
            if event.kind in ("disbursement", "renewal"):
                known = first.get(event.date.year)
                if known is None or event.date < known.date:
                    first[event.date.year] = event
    for year, event in sorted(first.items()):
        if year not in plans:
            ctx.report(
                "risk.floor",
                code,
                event.entry,
                f"{year} 年有放款或续贷，但未登记当年业务计划（program plan 的 expected_volume），"
                "无法核对风险补偿金是否不低于预计业务量的比例",
            )
