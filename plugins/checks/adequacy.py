"""The risk fund's adequacy: its floor, its cap and the leverage it allows.

Rules: ``risk.floor`` (CQ: 10% of the loans outstanding; WLHT: 10% of the bank's declared
expected volume of the year; GSBY: 1.5% of the loans lent), ``risk.cap`` (CQ: total
injected at most 50,000,000.00), ``risk.leverage`` (WLHT: outstanding at most 10 times
the risk fund); issue 10: ``risk.funders`` (GSBY: province and city inject 1 : 0.5),
``risk.leverage_floor`` (WZS: the bank lends at least 10 times the fund),
``risk.topup`` (LNYQ: after a compensation, the fund is back at its size by 31 December).

Several funders (``risk.funders``): each injection names its funder in the transaction's
metadata ``funder: "省级"``; at the end of each calendar year the books have passed
(31 December), the injections so far are split by the funders' shares (largest
remainder, to the fen) and each funder's own injections are compared with its part; a
funder short of its part is reported at its last injection of that year (or the year's
last injection). Judging at the year end lets the funders pay at different dates of
the year.

The leverage floor (``risk.leverage_floor``) and the top-up (``risk.topup``) are judged at
the end of each 31 December the books have passed: the loans outstanding against the
multiple of the risk fund's balance (from the year after the fund's first injection: the
bank needs time to lend); the risk fund's balance against the target after any
compensation paid by the risk fund in that year.

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
from zhubaodai.core.money import largest_remainder
from zhubaodai.core.money import percent
from zhubaodai.core.money import yuan
from zhubaodai.core.register import BALANCE_EVENTS
from zhubaodai.core.register import Event
from zhubaodai.core.rules import ParamDateError


@dataclass
class RiskWatch:
    """Per program: what the walk saw of the risk fund."""

    injected: Decimal = ZERO
    #: Day -> the last transaction of that day that changed the risk fund.
    risk_days: dict[datetime.date, Directive] = field(default_factory=dict)
    #: risk.funders: (day, funder, amount, entry) of each injection, in walk order.
    injections: list[tuple[datetime.date, str, Decimal, Directive]] = field(default_factory=list)
    #: risk.topup: the risk fund's compensations (day, entry), in walk order.
    compensations: list[tuple[datetime.date, Directive]] = field(default_factory=list)
    #: Whether the program's rules read the register's loans here (one of
    #: :data:`_LOAN_RULES`; None: not asked yet) — what :func:`on_register` keeps below.
    wanted: bool | None = None
    #: Day -> (change of the program's outstanding, the event that moved it, that loan's
    #: place in the register): the event is the last such of the loan latest in the register.
    outstanding_days: dict[datetime.date, tuple[Decimal, Event, int]] = field(default_factory=dict)
    #: Day -> (principal lent: disbursements and increases, the event, its loan's place).
    lent_days: dict[datetime.date, tuple[Decimal, Event, int]] = field(default_factory=dict)
    #: Year -> (the first disbursement or renewal, its loan's place): a year needing a plan.
    first_new: dict[int, tuple[Event, int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
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


#: The rules that read the loans' principal (outstanding or lent by day).
_LOAN_RULES = ("risk.floor", "risk.leverage", "risk.leverage_floor")

#: The register events :func:`on_register` is given: those that move the loans' principal.
REGISTER_KINDS: frozenset[tuple[str, str]] | None = frozenset(("loan", kind) for kind in BALANCE_EVENTS)


def on_register(ctx: Context, event: Event) -> None:
    """A loan event that moves its principal, as the register files it (by date): the
    program's outstanding and lending by day, and each year's first new credit, kept for
    :func:`finish` instead of reading every loan's events again there."""
    loan = ctx.register.loans[event.subject]
    code = loan.program
    watch = ctx.risk_watch.get(code) or _watch(ctx, code)
    wanted = watch.wanted
    if wanted is None:
        wanted = watch.wanted = any(ctx.active(code, rule_id) for rule_id in _LOAN_RULES)
    if not wanted:
        return
    kind = event.kind
    day = event.date
    seq = loan.seq
    # The register has just filed the event as the loan's last (after its approval, at
    # least): its principal before and after are the register's own (Event.principal),
    # not folded again here.
    balance = loan.events[-2].principal
    after = event.principal
    if after != balance:
        known = watch.outstanding_days.get(day)
        if known is None:
            watch.outstanding_days[day] = (after - balance, event, seq)
        else:
            watch.outstanding_days[day] = (
                known[0] + after - balance, event if seq >= known[2] else known[1], max(seq, known[2])
            )
    if kind == "disbursement" or kind == "increase":
        amount = event.data["amount"]
        known = watch.lent_days.get(day)
        if known is None:
            watch.lent_days[day] = (amount, event, seq)
        else:
            watch.lent_days[day] = (known[0] + amount, event if seq >= known[2] else known[1], max(seq, known[2]))
    if kind == "disbursement" or kind == "renewal":
        first = watch.first_new.get(day.year)
        if first is None or day < first[0].date or (day == first[0].date and seq < first[1]):
            watch.first_new[day.year] = (event, seq)


#: The transaction kinds :func:`on_movement` is given (None: every kind).
MOVEMENT_KINDS: frozenset[str] | None = None


def on_movement(ctx: Context, m: Movement) -> None:
    delta = m.delta(RISK)
    if not delta:
        return
    code = m.state.program.code
    watch = _watch(ctx, code)
    watch.risk_days[m.date] = m.entry
    if m.kind == "compensation" and delta < 0:
        watch.compensations.append((m.date, m.entry))
    if m.kind != "injection":
        return
    before = watch.injected
    watch.injected += delta
    if ctx.active(code, "risk.funders"):
        _funder(ctx, code, m, delta, watch)
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


def _funder(ctx: Context, code: str, m: Movement, delta: Decimal, watch: RiskWatch) -> None:
    """Record an injection under its funder (the transaction's ``funder`` metadata)."""
    shares = ctx.param(code, "risk.funders", "shares", m.date, m.entry)
    if shares is None:
        return
    names = [name for name, _ in shares]
    funder = (m.entry.meta or {}).get("funder")
    if not isinstance(funder, str) or funder.strip() not in names:
        said = "未写明出资方" if funder is None else f"出资方 {funder!r} 不在本项目的出资方之列"
        ctx.report(
            "risk.funders",
            code,
            m.entry,
            f"风险补偿金注入 {yuan(delta)} 元{said}；应以元数据 funder 写明出资方（{'、'.join(names)}之一）",
            stated={"注入金额": delta},
        )
        return
    watch.injections.append((m.date, funder.strip(), delta, m.entry))


def _year_ends(first: datetime.date, as_of: datetime.date | None) -> list[datetime.date]:
    """Every 31 December from ``first``'s year that the books have reached."""
    if as_of is None:
        return []
    return [datetime.date(y, 12, 31) for y in range(first.year, as_of.year + 1) if datetime.date(y, 12, 31) <= as_of]


def _funders(ctx: Context, code: str, watch: RiskWatch) -> None:
    """risk.funders at each year end: each funder's injections against its share."""
    if not watch.injections:
        return
    for end in _year_ends(watch.injections[0][0], ctx.as_of):
        upto = [i for i in watch.injections if i[0] <= end]
        shares = ctx.param(code, "risk.funders", "shares", end, upto[-1][3])
        if shares is None:
            continue
        total = sum((i[2] for i in upto), ZERO)
        if total <= 0:
            continue
        parts = largest_remainder(total, [share for _, share in shares])
        ratio = " : ".join(f"{share.normalize():f}" for _, share in shares)
        names = "、".join(name for name, _ in shares)
        for (name, _), part in zip(shares, parts):
            own = sum((i[2] for i in upto if i[1] == name), ZERO)
            if own >= part:
                continue
            mine = [i for i in upto if i[1] == name and i[0].year == end.year]
            anchor = (mine or [i for i in upto if i[0].year == end.year] or upto)[-1][3]
            ctx.report(
                "risk.funders",
                code,
                anchor,
                f"截至 {end} 风险补偿金累计注入 {yuan(total)} 元，按 {names} = {ratio} 的比例，{name}注入不足",
                figures={"应注入": part, "实际注入": own, "差额": part - own},
            )


def _leverage_floor(ctx: Context, code: str, risk, watch: RiskWatch, checks: list[AdequacyCheck]) -> None:
    """risk.leverage_floor at each year end after the fund's first year."""
    first = risk.first_day
    if first is None:
        return
    changes = sorted(_outstanding_changes(ctx, {code})[code].items())
    for end in _year_ends(datetime.date(first.year + 1, 1, 1), ctx.as_of):
        days = [d for d in watch.risk_days if d <= end]
        anchor = watch.risk_days[max(days)] if days else None
        multiple = ctx.param(code, "risk.leverage_floor", "multiple", end, anchor)
        if multiple is None:
            continue
        balance = risk.at(end)
        lent = sum((change for day, (change, _) in changes if day <= end), ZERO)
        least = half_up(balance * multiple)
        ok = lent >= least
        checks.append(AdequacyCheck("risk.leverage_floor", code, end, balance, lent, least, ok))
        if not ok:
            ctx.report(
                "risk.leverage_floor",
                code,
                anchor,
                f"{end} 日终贷款余额 {yuan(lent)} 元，未达到风险补偿金余额 {yuan(balance)} 元的"
                f" {multiple.normalize():f} 倍",
                figures={"应不低于": least, "贷款余额": lent, "差额": least - lent},
            )


def _topup(ctx: Context, code: str, risk, watch: RiskWatch, checks: list[AdequacyCheck]) -> None:
    """risk.topup: after a compensation by the risk fund, its balance at the end of that
    year's 31 December is at least the target."""
    by_year: dict[int, tuple[datetime.date, Directive]] = {}
    for day, entry in watch.compensations:
        by_year[day.year] = (day, entry)  # the year's last compensation
    for year, (day, entry) in sorted(by_year.items()):
        end = datetime.date(year, 12, 31)
        if ctx.as_of is None or ctx.as_of < end:
            continue
        target = ctx.param(code, "risk.topup", "target", end, entry)
        if target is None:
            continue
        balance = risk.at(end)
        ok = balance >= target
        checks.append(AdequacyCheck("risk.topup", code, end, balance, target, target, ok))
        if not ok:
            ctx.report(
                "risk.topup",
                code,
                entry,
                f"风险补偿金于 {day} 代偿后，应在当年年末（{end}）前补足；{end} 日终余额未达到应补足的规模",
                figures={"应补足至": target, "年末余额": balance, "差额": target - balance},
            )


def finish(ctx: Context) -> None:
    checks: list[AdequacyCheck] = ctx.records.adequacy
    for code, state in ctx.states.items():
        watch = _watch(ctx, code)
        if ctx.active(code, "risk.funders"):
            _funders(ctx, code, watch)
        if ctx.active(code, "risk.leverage_floor"):
            _leverage_floor(ctx, code, state.funds[RISK], watch, checks)
        if ctx.active(code, "risk.topup"):
            _topup(ctx, code, state.funds[RISK], watch, checks)
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
        daily_floor = floor_on and base in ("outstanding", "lent")
        if daily_floor or leverage_on:
            lent_days = _lent_changes(ctx, code) if floor_on and base == "lent" else None
            _daily(ctx, code, state.funds[RISK], watch, loan_days, daily_floor, leverage_on, checks, lent_days)
        if floor_on and base == "expected_volume":
            _plan_floor(ctx, code, state.funds[RISK], watch, loan_days, checks)


def _outstanding_changes(
    ctx: Context, codes: set[str]
) -> dict[str, dict[datetime.date, tuple[Decimal, Event]]]:
    """Program -> day -> (change of the program's outstanding that day, the last loan event
    of the day that changed it), as :func:`on_register` kept them while the register filed
    its events (the day's event: the last of the loan latest in the register's order)."""
    found: dict[str, dict[datetime.date, tuple[Decimal, Event]]] = {}
    for code in codes:
        days = _watch(ctx, code).outstanding_days
        found[code] = {day: (change, event) for day, (change, event, _) in days.items()}
    return found


def _lent_changes(ctx: Context, code: str) -> dict[datetime.date, tuple[Decimal, Event]]:
    """Day -> (principal lent that day: disbursements and increases, the last such event)."""
    days = _watch(ctx, code).lent_days
    return {day: (amount, event) for day, (amount, event, _) in days.items()}


def _daily(
    ctx: Context,
    code: str,
    risk,
    watch: RiskWatch,
    loan_days: dict[datetime.date, tuple[Decimal, Event]],
    floor_on: bool,
    leverage_on: bool,
    checks: list[AdequacyCheck],
    lent_days: dict[datetime.date, tuple[Decimal, Event]] | None = None,
) -> None:
    """The floor (against the loans outstanding, or with ``lent_days`` the loans lent so
    far) and the leverage, at the end of each day either figure changed."""
    rate = _Param(ctx, code, "risk.floor", "rate") if floor_on else None
    multiple = _Param(ctx, code, "risk.leverage", "multiple") if leverage_on else None
    in_breach = {"risk.floor": False, "risk.leverage": False}
    series = risk.series()
    j = 0
    balance = ZERO
    outstanding = ZERO
    lent = ZERO
    floor_days = set(lent_days) if lent_days is not None else set()
    for day in sorted(set(loan_days) | set(watch.risk_days) | floor_days):
        while j < len(series) and series[j][0] <= day:
            balance = series[j][1]
            j += 1
        change = loan_days.get(day)
        if change is not None:
            outstanding += change[0]
        lent_change = lent_days.get(day) if lent_days is not None else None
        if lent_change is not None:
            lent += lent_change[0]
        moved = lent_change if lent_days is not None else change
        anchor = (
            moved[1].entry if moved is not None
            else change[1].entry if change is not None
            else watch.risk_days[day]
        )
        if rate is not None and (lent_days is None or day in floor_days or day in watch.risk_days):
            value = rate.at(day, anchor)
            if value is not None:
                measure, what = (lent, "累计放款") if lent_days is not None else (outstanding, "贷款余额")
                required = half_up(measure * value)
                ok = balance >= required
                checks.append(AdequacyCheck("risk.floor", code, day, balance, measure, required, ok))
                if not ok and not in_breach["risk.floor"]:
                    ctx.report(
                        "risk.floor",
                        code,
                        anchor,
                        f"{day} 日终风险补偿金余额 {yuan(balance)} 元，低于{what} {yuan(measure)} 元的"
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
    # Days to judge, by year: the day each plan applies from and every day of the year the
    # risk fund changed, from the year's first plan on. A plan applies from the later of
    # its registration day and 1 January of its year (a plan for next year registered in
    # December does not measure this year's balance), and not beyond the books' last day.
    days: dict[int, set[datetime.date]] = {}
    for day in watch.risk_days:
        days.setdefault(day.year, set()).add(day)
    for year, events in sorted(plans.items()):
        events.sort(key=lambda e: e.date)
        starts = [max(e.date, datetime.date(year, 1, 1)) for e in events]
        todo = sorted(days.get(year, set()) | {d for d in starts if ctx.as_of is None or d <= ctx.as_of})
        in_breach = False
        k = -1
        for day in todo:
            while k + 1 < len(events) and starts[k + 1] <= day:
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
                anchor = watch.risk_days.get(day) if day != starts[k] else plan.entry
                ctx.report(
                    "risk.floor",
                    code,
                    anchor or plan.entry,
                    f"{day} 日终风险补偿金余额 {yuan(balance)} 元，低于 {year} 年预计业务量"
                    f" {yuan(volume)} 元的 {percent(value)}（{plan.date} 登记的年度计划）",
                    figures={"应不低于": required, "风险补偿金余额": balance, "差额": required - balance},
                )
            in_breach = not ok
    # A year with new loans and no plan: the floor cannot be judged (each year's first
    # disbursement or renewal, kept by on_register).
    first = {year: event for year, (event, _) in watch.first_new.items()}
    for year, event in sorted(first.items()):
        if year not in plans:
            ctx.report(
                "risk.floor",
                code,
                event.entry,
                f"{year} 年有放款或续贷，但未登记当年业务计划（program plan 的 expected_volume），"
                "无法核对风险补偿金是否不低于预计业务量的比例",
            )
