"""Compensation (代偿) and recovery (追偿): who pays, in what order, and who gets back what.

Rules: ``comp.waterfall``, ``comp.escalation``, ``comp.order``, ``comp.scope``,
``recovery.order``, and the basis of every compensation under ``pool.no_withdrawal``
(a loan with a recorded overdue and an approved claim).

The ledger these rules expect::

    2024-09-02 custom "loan" "overdue" "CQ-2024-007"
      principal: 1000000.00 CNY
      interest: 20000.00 CNY
    2024-09-05 custom "loan" "claim" "CQ-2024-007"
      principal: 1000000.00 CNY
      interest: 20000.00 CNY
      letter: "建行高新支行函〔2024〕31号"
      approval: "分管领导审核同意（2024-09-10）"
    2024-09-12 * "代偿 CQ-2024-007" ^CQ-2024-007
      bank_share: 210000.00 CNY
      Expenses:CQGX:Guarantee:Compensation  600000.00 CNY
      Expenses:CQGX:Risk:Compensation       210000.00 CNY
      Assets:CQGX:Pool:Guarantee           -600000.00 CNY
      Assets:CQGX:Pool:Risk                -210000.00 CNY

The amount due is the sum of the claim's components the program covers (comp.scope). The
guarantee fund pays first, up to its whole balance (mutualised over all loans); of the
shortfall the risk fund pays its share (rules.yaml, 50%) rounded half-up to the fen, up to
its balance, and the bank bears the rest, recorded as ``bank_share`` on the transaction
with the risk fund's leg. What the risk fund cannot pay of its share needs a committee
decision (``custom "loan" "committee"``). The two legs may be one transaction or two.

A recovery (``custom "loan" "recovery"``: ``recovered``, ``costs``, ``penalty``) nets the
deductions the program allows, then pays back in the program's order (bank's borne share,
risk fund, guarantee fund), each up to what it bore; the pool's parts then arrive as
transactions on the recovery accounts linked to the loan. Anything beyond is flagged.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from beancount.core.amount import Amount
from beancount.core.data import Custom
from beancount.core.data import Transaction

from zhubaodai.checks.deposits import first_payers
from zhubaodai.core.engine import FUND_LABELS
from zhubaodai.core.engine import Context
from zhubaodai.core.engine import GUARANTEE
from zhubaodai.core.engine import Movement
from zhubaodai.core.engine import Records
from zhubaodai.core.engine import RISK
from zhubaodai.core.findings import FORMAT_RULE
from zhubaodai.core.findings import WARNING
from zhubaodai.core.money import ZERO
from zhubaodai.core.money import half_up
from zhubaodai.core.money import largest_remainder
from zhubaodai.core.money import percent
from zhubaodai.core.money import yuan
from zhubaodai.core.register import NPL_CLASSES
from zhubaodai.core.register import Event
from zhubaodai.core.register import Loan
from zhubaodai.core.rules import PARTIES
from zhubaodai.core.rules import PARTY_LABELS
from zhubaodai.core.rules import PartyShare
from zhubaodai.core.rules import Program

COMPONENT_LABELS = {"principal": "本金", "interest": "利息", "compound": "复利", "penalty": "罚息"}
DEDUCTION_LABELS = {"costs": "追索费用", "penalty": "违约金"}
DEFAULT_COMPONENTS = ("principal", "interest")
#: Register events read during the walk (the others only through the register).
_WALK_EVENTS = frozenset(("claim", "recovery", "loss"))


@dataclass(frozen=True)
class Waterfall:
    """How an amount due is borne: the parts always sum to the amount due."""

    due: Decimal
    guarantee: Decimal
    risk: Decimal
    bank: Decimal
    uncovered: Decimal  # the risk fund's share it could not pay: for the committee

    @property
    def shortfall(self) -> Decimal:
        return self.due - self.guarantee


def plan_waterfall(
    due: Decimal, guarantee_available: Decimal, risk_available: Decimal, risk_share: Decimal
) -> Waterfall:
    """Guarantee fund first, up to what it has; of the shortfall, the risk fund's share
    (half-up to the fen) up to what it has; the bank bears the rest of the shortfall."""
    guarantee = min(due, max(guarantee_available, ZERO))
    shortfall = due - guarantee
    risk_part = half_up(shortfall * risk_share)
    risk = min(risk_part, max(risk_available, ZERO))
    return Waterfall(due, guarantee, risk, shortfall - risk_part, risk_part - risk)


@dataclass
class Claim:
    """A claim and what the pool has paid on it so far."""

    loan: Loan
    event: Event
    due: Decimal
    guarantee_paid: Decimal = ZERO
    guarantee_done: bool = False
    risk_paid: Decimal = ZERO
    risk_done: bool = False
    bank_share: Decimal = ZERO
    uncovered: Decimal = ZERO
    entries: list[Transaction] = field(default_factory=list)
    #: comp.scope's components on the claim's day; None where the program has no comp.scope
    #: or its first version was not yet in force (then the claim counts DEFAULT_COMPONENTS).
    scope: list[str] | None = None

    @property
    def started(self) -> bool:
        return self.guarantee_done or self.risk_done


@dataclass
class SharedClaim:
    """comp.shares: a claim borne by a table of parties. The table in force when the claim
    was first compensated, each party's part of the base, what each has paid (the pool's
    funds) or is recorded to bear (outside parties' ``<party>_share`` metadata), and the
    principal the debtor has repaid since (comp.shares' ``shrink``)."""

    claim: Claim
    table: tuple[PartyShare, ...]
    parts: dict[str, Decimal]
    paid: dict[str, Decimal] = field(default_factory=dict)
    repaid: Decimal = ZERO
    #: comp.shares ``residual``: who bears what of the pool's loss still unrecovered (what
    #: its funds paid less what recoveries brought back), as of the latest recovery.
    residual: dict[str, Decimal] = field(default_factory=dict)

    def owed(self) -> dict[str, Decimal]:
        """Each party's part of what is still unpaid (all of the base before any repayment)."""
        if not self.repaid:
            return dict(self.parts)
        return split_shares(max(self.claim.due - self.repaid, ZERO), self.table)


@dataclass
class Recovery:
    """One recovery and its distribution."""

    loan: Loan
    event: Event
    gross: Decimal
    deductions: Decimal
    net: Decimal
    parts: dict[str, Decimal]
    excess: Decimal


@dataclass(frozen=True)
class LossPart:
    """One party's part of the pool's loss after recovery (comp.shares ``residual``): its
    share, what it is due to bear (largest remainder to the fen), and what the loss event
    records (None where the event does not record it)."""

    party: str
    share: Decimal
    due: Decimal
    recorded: Decimal | None

    @property
    def label(self) -> str:
        return PARTY_LABELS[self.party]

    @property
    def difference(self) -> Decimal:
        """Due less recorded (all of it due where nothing is recorded), as the finding says."""
        return self.due - (self.recorded if self.recorded is not None else ZERO)


@dataclass(frozen=True)
class LossShare:
    """``custom "loan" "loss"``: the pool's loss on a loan once recovery has ended, and each
    party's part of it as the event was checked (a later recovery moves the claim's
    :attr:`SharedClaim.residual`, not this record)."""

    loan: Loan
    event: Event
    loss: Decimal
    parts: tuple[LossPart, ...]

    @property
    def ok(self) -> bool:
        return all(part.difference == 0 for part in self.parts)


@dataclass
class LoanRecoveries:
    """Per loan: what the pool should get back per fund, and what has arrived."""

    bank_recovered: Decimal = ZERO
    expected: dict[str, Decimal] = field(default_factory=lambda: {GUARANTEE: ZERO, RISK: ZERO})
    received: dict[str, Decimal] = field(default_factory=lambda: {GUARANTEE: ZERO, RISK: ZERO})
    last_event: Event | None = None


def start(ctx: Context) -> None:
    # The register events this module acts on as the walk reaches them.
    ctx.walk_events = {
        id(event.entry): event
        for loan in ctx.register.loans.values()
        for event in loan.events
        if event.kind in _WALK_EVENTS
    }


def _claim(ctx: Context, loan: Loan, event: Event) -> Claim:
    claims = ctx.records.claims
    claim = claims.get(id(event.entry))
    if claim is None:
        # comp.scope's components are looked up here only, once per claim (a version not
        # yet in force is reported once, on the claim).
        scope = None
        if ctx.active(loan.program, "comp.scope"):
            scope = ctx.param(loan.program, "comp.scope", "components", event.date, event.entry)
        due = sum((event.amount(c) for c in scope or DEFAULT_COMPONENTS), ZERO)
        claim = claims[id(event.entry)] = Claim(loan, event, due, scope=scope)
        ctx.records.claims_by_loan.setdefault(loan.id, []).append(claim)
    return claim


def on_register_event(ctx: Context, entry: Custom) -> None:
    values = entry.values
    if not values or values[0].value not in _WALK_EVENTS:
        return  # most register events: nothing to do here (cheap test before the lookup)
    event = ctx.walk_events.get(id(entry))
    if event is None:
        return
    loan = ctx.register.loans[event.subject]
    if event.kind == "claim":
        _check_claim(ctx, loan, event, _claim(ctx, loan, event).scope)
    elif event.kind == "recovery" and ctx.active(loan.program, "recovery.order"):
        _distribute(ctx, loan, event)
    elif event.kind == "recovery" and ctx.active(loan.program, "comp.shares"):
        if _shrinks(ctx, loan, event):
            _shrink(ctx, loan, event)
        else:
            _recover_pool(ctx, loan, event)
        _residual(ctx, loan, event.date, event.entry)
    elif event.kind == "loss":
        _loss(ctx, loan, event)


def _shrinks(ctx: Context, loan: Loan, when: Event | datetime.date, entry: Transaction | Custom | None = None) -> bool:
    """Whether the program's comp.shares table shrinks with repaid principal on that day."""
    rule = ctx.rulebook.programs[loan.program].rules["comp.shares"]
    on = when.date if isinstance(when, Event) else when
    anchor = entry if entry is not None else when.entry  # type: ignore[union-attr]
    return "shrink" in rule.params and bool(ctx.param(loan.program, "comp.shares", "shrink", on, anchor))


def _check_claim(ctx: Context, loan: Loan, event: Event, components: list[str] | None) -> None:
    """comp.scope on a claim; ``components`` are the claim's (:attr:`Claim.scope`), None where
    the program has no comp.scope or its first version was not yet in force."""
    code = loan.program
    if components is None:
        return
    for name in ("interest", "compound", "penalty"):
        if event.amount(name) > 0 and name not in components:
            ctx.report(
                "comp.scope",
                code,
                event.entry,
                f"贷款 {loan.id} 代偿申请含{COMPONENT_LABELS[name]}，不属本办法的代偿范围"
                f"（范围：{'、'.join(COMPONENT_LABELS[c] for c in components)}）",
                figures={COMPONENT_LABELS[name]: event.amount(name)},
                loan=loan.id,
            )
    trigger = _trigger(ctx, code, event.date, event.entry)
    found = _trigger_event(loan, trigger, event.date)
    if found is None:
        ctx.report(
            "comp.scope", code, event.entry, f"贷款 {loan.id} 未登记{TRIGGER_TEXT[trigger]}，不能申请代偿", loan=loan.id
        )
        return
    days = _overdue_days(ctx, code, trigger, event.date, event.entry)
    if days is not None and event.date < found.date + datetime.timedelta(days=days):
        ctx.report(
            "comp.scope",
            code,
            event.entry,
            f"贷款 {loan.id} 逾期未满 {days} 天，不能申请代偿（{found.date} 逾期，"
            f"{found.date + datetime.timedelta(days=days)} 起方满 {days} 天）",
            loan=loan.id,
            stated={"逾期天数": Decimal((event.date - found.date).days)},
        )
        return
    outstanding = loan.outstanding(event.date)
    principal = event.amount("principal")
    if principal > outstanding:
        ctx.report(
            "comp.scope",
            code,
            event.entry,
            f"贷款 {loan.id} 申请代偿的本金超过贷款余额",
            figures={"申请本金": principal, "贷款余额": outstanding, "超出": principal - outstanding},
            loan=loan.id,
        )


#: The transaction kinds :func:`on_movement` is given: compensations and recoveries.
MOVEMENT_KINDS: frozenset[str] | None = frozenset({"compensation", "recovery"})


def on_movement(ctx: Context, m: Movement) -> None:
    if m.kind == "compensation":
        _compensation(ctx, m)
    elif m.kind == "recovery":
        _recovery_cash(ctx, m)


#: What a claim needs before it, by comp.scope's trigger (as messages name it).
TRIGGER_TEXT = {
    "overdue": "逾期（overdue）",
    "npl": "不良分类（npl，次级、可疑或损失）",
    "confirmation": "逾期事实确认（confirmation）",
}


def _trigger(ctx: Context, code: str, on: datetime.date, entry: Transaction | Custom) -> str:
    """The event that makes a loan eligible for compensation: comp.scope's ``trigger``,
    a recorded overdue where the program does not say."""
    rule = ctx.rulebook.programs[code].rules.get("comp.scope")
    if rule is None or "trigger" not in rule.params:
        return "overdue"
    return ctx.param(code, "comp.scope", "trigger", on, entry) or "overdue"


def _overdue_days(
    ctx: Context, code: str, trigger: str, on: datetime.date, entry: Transaction | Custom
) -> int | None:
    """comp.scope's ``overdue_days``: with the overdue trigger, how many calendar days a
    loan must have been overdue (the overdue event's date plus that many days) before a
    claim or a compensation; None where the program sets no such wait."""
    rule = ctx.rulebook.programs[code].rules.get("comp.scope")
    if trigger != "overdue" or rule is None or "overdue_days" not in rule.params:
        return None
    return ctx.param(code, "comp.scope", "overdue_days", on, entry)


def _trigger_event(loan: Loan, trigger: str, on: datetime.date) -> Event | None:
    """The loan's latest trigger event on or before ``on``; for ``npl`` the latest
    classification counts, and only a non-performing one (次级、可疑、损失)."""
    found = loan.last_before(trigger, on)
    if trigger == "npl" and found is not None and found.data["classification"] not in NPL_CLASSES:
        return None
    return found


def npl_classified(program: Program, loan: Loan, on: datetime.date) -> Event | None:
    """For a program whose comp.scope trigger is ``npl`` on ``on``: the loan's NPL
    classification that makes it eligible then (:func:`_trigger_event`); None otherwise.
    The faces' 不良分类日 (代偿台账, the report's 代偿 sheet)."""
    rule = program.rules.get("comp.scope")
    if rule is None or "trigger" not in rule.params:
        return None
    try:
        trigger = rule.param("trigger", on)
    except LookupError:
        return None
    return _trigger_event(loan, "npl", on) if trigger == "npl" else None


def uses_npl(program: Program) -> bool:
    """Whether any version of the program's comp.scope trigger is ``npl`` (the faces show the column)."""
    rule = program.rules.get("comp.scope")
    return rule is not None and "trigger" in rule.params and "npl" in rule.params["trigger"].values


def _basis(ctx: Context, m: Movement) -> tuple[Loan, Claim] | None:
    """The loan and claim a compensation pays; reports under pool.no_withdrawal if none."""
    code = m.state.program.code
    problem = None
    loan = claim_event = None
    if len(m.loans) != 1:
        problem = f"代偿应以链接 ^贷款编号 关联本项目的唯一一笔贷款，此笔关联了 {len(m.loans)} 笔"
    else:
        loan = ctx.register.loans[m.loans[0]]
        trigger = _trigger(ctx, code, m.date, m.entry)
        found = _trigger_event(loan, trigger, m.date)
        days = _overdue_days(ctx, code, trigger, m.date, m.entry)
        if found is None:
            what = "逾期" if trigger == "overdue" else TRIGGER_TEXT[trigger]
            problem = f"贷款 {loan.id} 在代偿日前未登记{what}，不得动用专户资金代偿"
        elif days is not None and m.date < found.date + datetime.timedelta(days=days):
            problem = f"贷款 {loan.id} 在代偿日逾期未满 {days} 天（{found.date} 逾期），不得动用专户资金代偿"
        else:
            claim_event = loan.last_before("claim", m.date)
            if claim_event is None:
                problem = f"贷款 {loan.id} 在代偿日前没有经审核同意的代偿申请（claim），不得动用专户资金"
    if problem is not None:
        if ctx.active(code, "pool.no_withdrawal"):
            taken = -(m.delta(GUARANTEE) + m.delta(RISK))
            ctx.report("pool.no_withdrawal", code, m.entry, problem, figures={"支出金额": taken})
        return None
    return loan, _claim(ctx, loan, claim_event)


def _compensation(ctx: Context, m: Movement) -> None:
    code = m.state.program.code
    found = _basis(ctx, m)
    if found is None:
        return
    loan, claim = found
    claim.entries.append(m.entry)
    g_out, r_out = -m.delta(GUARANTEE), -m.delta(RISK)
    if g_out < 0 or r_out < 0:
        return  # a reversal: shown by pool.no_withdrawal's consistency check, not here
    if ctx.active(code, "comp.shares"):
        _shares(ctx, m, loan, claim)
        return
    if ctx.active(code, "comp.order") and not claim.started:
        _check_order(ctx, m, loan, claim)
    waterfall_on = ctx.active(code, "comp.waterfall")
    share = None
    if waterfall_on:
        share = ctx.param(code, "comp.waterfall", "risk_share", m.date, m.entry)
        waterfall_on = share is not None
    g_before = m.state.balance(GUARANTEE)
    r_before = m.state.balance(RISK)
    # Issue 10 shape 2: what the first payers outside the pool leave to it (a pledged
    # deposit, the enterprise's own fees); for a plain pool, the claim and the balance.
    first = first_payers(ctx, loan, claim.due, g_before, m.date)
    due, g_available = first.pool_due, first.guarantee_available
    if g_out > 0:
        if claim.guarantee_done:
            if waterfall_on and not claim.guarantee_paid and claim.risk_done:
                ctx.report(
                    "comp.waterfall",
                    code,
                    m.entry,
                    f"贷款 {loan.id} 已先由风险补偿金代偿（顺序有误），不应再补付助保金："
                    "应冲回已记的代偿，按先助保金、后风险补偿金的顺序重记",
                    figures={"本次助保金支付": g_out},
                    loan=loan.id,
                )
            elif waterfall_on:
                ctx.report(
                    "comp.waterfall",
                    code,
                    m.entry,
                    f"贷款 {loan.id} 的代偿已由助保金支付过，不应再次动用助保金",
                    figures={"本次支付": g_out, "此前已付": claim.guarantee_paid},
                    loan=loan.id,
                )
        else:
            if waterfall_on:
                plan = plan_waterfall(due, g_available, r_before, share)
                if g_out != plan.guarantee:
                    ctx.report(
                        "comp.waterfall",
                        code,
                        m.entry,
                        f"贷款 {loan.id} 代偿应先以助保金支付，至多支付应代偿额，"
                        + (
                            f"且以本企业缴纳的助保金（扣除已为其贷款代偿的部分）{g_available:,} 元为限"
                            if first.own_fees
                            else f"助保金不足时以其全部余额 {g_available:,} 元支付"
                        ),
                        figures={"应代偿额": due, "助保金应付": plan.guarantee, "实付": g_out,
                                 "差额": plan.guarantee - g_out},
                        loan=loan.id,
                    )
            claim.guarantee_paid = g_out
            claim.guarantee_done = True
    if r_out > 0:
        g_left = g_available - g_out
        if not claim.guarantee_done:
            claim.guarantee_done = True
            if g_left > 0 and waterfall_on and not claim.risk_done:
                # The guarantee fund was skipped: one finding with the whole split the
                # waterfall asks for (a risk-fund "share" of the whole claim would mislead).
                plan = plan_waterfall(due, g_left, r_before, share)
                head = (
                    f"贷款 {loan.id} 助保金尚有余额，应先以助保金代偿，再由风险补偿金分担："
                    f"应代偿 {yuan(due)} 元应由助保金付 {yuan(plan.guarantee)} 元"
                )
                if r_out == plan.risk:
                    message = (
                        f"{head}、风险补偿金付 {yuan(plan.risk)} 元、合作银行承担 {yuan(plan.bank)} 元"
                        "（本笔风险补偿金金额相符，错在顺序）"
                    )
                    figures = None
                else:
                    message = f"{head}、合作银行承担 {yuan(plan.bank)} 元，风险补偿金付其余"
                    figures = {"风险补偿金应付": plan.risk, "实付": r_out, "差额": plan.risk - r_out}
                # The split the message states in words, for the finding's figures (JSON).
                split = {"应代偿额": due, "助保金应付": plan.guarantee, "风险补偿金应付": plan.risk,
                         "银行应承担": plan.bank}
                ctx.report("comp.waterfall", code, m.entry, message, figures=figures, loan=loan.id, stated=split)
                claim.risk_paid = r_out
                claim.risk_done = True
                claim.bank_share = plan.bank
                claim.uncovered = plan.uncovered
                return
        if claim.risk_done:
            if waterfall_on:
                ctx.report(
                    "comp.waterfall",
                    code,
                    m.entry,
                    f"贷款 {loan.id} 的风险补偿金分担部分已支付过",
                    figures={"本次支付": r_out, "此前已付": claim.risk_paid},
                    loan=loan.id,
                )
            return
        claim.risk_paid = r_out
        claim.risk_done = True
        if not waterfall_on:
            return
        plan = plan_waterfall(due, claim.guarantee_paid, r_before, share)
        recorded = m.entry.meta.get("bank_share")
        if isinstance(recorded, str):
            # Fava's import page saves metadata as text ("210000.00 CNY").
            try:
                recorded = Amount.from_string(recorded)
            except ValueError:
                pass
        claim.bank_share = plan.bank
        # Only what the risk fund could not pay from its balance needs a committee; paying
        # less than it could is a comp.waterfall error, reported below.
        claim.uncovered = plan.uncovered
        if r_out != plan.risk:
            ctx.report(
                "comp.waterfall",
                code,
                m.entry,
                f"贷款 {loan.id} 助保金支付 {claim.guarantee_paid:,} 元后不足部分 {plan.shortfall:,} 元，"
                f"风险补偿金应按 {percent(share)} 分担（以其余额 {r_before:,} 元为限）",
                figures={"风险补偿金应付": plan.risk, "实付": r_out, "差额": plan.risk - r_out},
                loan=loan.id,
            )
        if not isinstance(recorded, Amount) or recorded.number != plan.bank:
            ctx.report(
                "comp.waterfall",
                code,
                m.entry,
                f"贷款 {loan.id} 应以元数据 bank_share 记录合作银行承担的部分",
                figures={"银行应承担": plan.bank,
                         "已记录": recorded.number if isinstance(recorded, Amount) else ZERO},
                loan=loan.id,
            )
        else:
            claim.bank_share = recorded.number


def recorded_share(entry: Transaction, key: str) -> Decimal | None:
    """An outside party's part recorded on a compensation (``bank_share: 210000.00 CNY``);
    None where absent or not an amount. Fava's import page saves metadata as text."""
    recorded = entry.meta.get(key)
    if isinstance(recorded, str):
        try:
            recorded = Amount.from_string(recorded)
        except ValueError:
            return None
    return recorded.number if isinstance(recorded, Amount) else None


def split_shares(base: Decimal, table: tuple[PartyShare, ...]) -> dict[str, Decimal]:
    """Each party's part of ``base`` by the table's shares: largest remainder to the fen,
    so the parts always sum to the base (ties to the party listed first)."""
    if base <= 0 or not table:
        return {row.party: ZERO for row in table}
    return dict(zip((row.party for row in table), largest_remainder(base, [row.share for row in table])))


_FUND_OF = {"guarantee": GUARANTEE, "risk": RISK}


def _shared(ctx: Context, m: Movement, loan: Loan, claim: Claim) -> SharedClaim | None:
    shared = ctx.records.shares.get(loan.id, [])
    for found in shared:
        if found.claim is claim:
            return found
    table = ctx.param(loan.program, "comp.shares", "parties", m.date, m.entry)
    if table is None:
        return None
    found = SharedClaim(claim, table, split_shares(claim.due, table))
    ctx.records.shares.setdefault(loan.id, []).append(found)
    return found


def _shares(ctx: Context, m: Movement, loan: Loan, claim: Claim) -> None:
    """comp.shares: each party bears its share of the base (the claim's components in
    scope); the pool's funds pay theirs from the special account, the outside parties'
    parts are recorded as ``<party>_share`` on the compensation."""
    code = loan.program
    shared = _shared(ctx, m, loan, claim)
    if shared is None:
        return
    first_pool_entry = not any(shared.paid.get(row.party) for row in shared.table if row.pool)
    for row in shared.table:
        due = shared.parts[row.party]
        if row.pool:
            out = -m.delta(_FUND_OF[row.party])
            if out == 0:
                continue
            paid = shared.paid.get(row.party, ZERO) + out
            shared.paid[row.party] = paid
            if paid != due:
                ctx.report(
                    "comp.shares",
                    code,
                    m.entry,
                    f"贷款 {loan.id} 代偿基数 {yuan(claim.due)} 元，{row.label}应按 {percent(row.share)} 承担",
                    figures={f"{row.label}应付": due, "累计实付": paid, "差额": due - paid},
                    loan=loan.id,
                )
            continue
        recorded = recorded_share(m.entry, row.meta_key)
        if recorded is None:
            if first_pool_entry and row.party not in shared.paid and due > 0:
                ctx.report(
                    "comp.shares",
                    code,
                    m.entry,
                    f"贷款 {loan.id} 应以元数据 {row.meta_key} 记录{row.label}承担的部分"
                    f"（按 {percent(row.share)}）",
                    figures={f"{row.label}应承担": due},
                    loan=loan.id,
                )
            continue
        shared.paid[row.party] = recorded
        if recorded != due:
            ctx.report(
                "comp.shares",
                code,
                m.entry,
                f"贷款 {loan.id} 元数据 {row.meta_key} 记录的{row.label}承担部分与其比例 {percent(row.share)} 不符",
                figures={f"{row.label}应承担": due, "已记录": recorded, "差额": due - recorded},
                loan=loan.id,
            )
    _residual(ctx, loan, m.date, m.entry)
    # The claim's own figures, as every face reads them: the pool's funds and the bank.
    claim.guarantee_paid = shared.paid.get("guarantee", ZERO)
    claim.guarantee_done = claim.guarantee_done or "guarantee" in shared.paid
    claim.risk_paid = shared.paid.get("risk", ZERO)
    claim.risk_done = claim.risk_done or "risk" in shared.paid
    claim.bank_share = shared.paid.get("bank", ZERO)
    for fund, party in ((GUARANTEE, "guarantee"), (RISK, "risk")):
        if -m.delta(fund) > 0 and not any(row.party == party for row in shared.table):
            ctx.report(
                "comp.shares",
                code,
                m.entry,
                f"贷款 {loan.id} 的代偿由{FUND_LABELS[fund]}支付，但本项目的分担表中没有{FUND_LABELS[fund]}",
                figures={"支出金额": -m.delta(fund)},
                loan=loan.id,
            )


def program_parties(program: Program) -> tuple[str, ...]:
    """The parties that bear a part of the program's compensations, in :data:`PARTIES`
    order: its comp.shares table (every version), else comp.waterfall's guarantee fund,
    risk fund and bank. The faces show one column per party."""
    rule = program.rules.get("comp.shares")
    if rule is not None:
        found = {row.party for table in rule.params["parties"].values if table for row in table}
    else:
        found = {"risk", "bank"}
        if "guarantee_fund" in program.accounts:
            found.add("guarantee")
    return tuple(party for party in PARTIES if party in found)


def parties_of(programs: Iterable[Program]) -> tuple[str, ...]:
    """The union of the programs' parties, in :data:`PARTIES` order."""
    found = {party for program in programs for party in program_parties(program)}
    return tuple(party for party in PARTIES if party in found)


def claim_parts(records: Records, claim: Claim) -> dict[str, Decimal]:
    """What each party has borne of a claim: the pool's funds what they paid, outside
    parties what the compensation records (bank_share, guarantor_share, …)."""
    parts = {"guarantee": claim.guarantee_paid, "risk": claim.risk_paid, "bank": claim.bank_share}
    for shared in records.shares.get(claim.loan.id, ()):
        if shared.claim is claim:
            parts.update({row.party: shared.paid.get(row.party, ZERO) for row in shared.table})
    return parts


def _recover_pool(ctx: Context, loan: Loan, event: Event) -> None:
    """comp.shares without ``shrink``: a recovery (net of costs and penalty) flows back to
    the pool's funds in the table's order, each up to what it paid; the outside parties'
    parts stay where they fell (their own arrangements, not the pool's books)."""
    shared = [c for c in ctx.records.shares.get(loan.id, []) if c.paid]
    if not shared:
        ctx.report(
            "comp.shares", loan.program, event.entry, f"贷款 {loan.id} 尚未发生代偿，追偿款无须退回资金池", loan=loan.id,
            severity=WARNING,
        )
        return
    state: LoanRecoveries = ctx.records.loan_recoveries.setdefault(loan.id, LoanRecoveries())
    gross = event.data["recovered"]
    net = max(gross - event.amount("costs") - event.amount("penalty"), ZERO)
    # What each fund paid on all the loan's claims (a loan may be claimed and compensated
    # more than once), in the order the tables list the funds: what the loan's recoveries
    # already owe back to a fund is measured against its whole payment, not one claim's.
    paid: dict[str, Decimal] = {}
    for claim in shared:
        claim.repaid += net
        for row in claim.table:
            if row.pool:
                paid[row.party] = paid.get(row.party, ZERO) + claim.paid.get(row.party, ZERO)
    left = net
    parts: dict[str, Decimal] = {}
    for party, total in paid.items():
        fund = _FUND_OF[party]
        take = min(left, max(total - state.expected[fund], ZERO))
        if take > 0:
            state.expected[fund] += take
            parts[party] = take
            left -= take
    state.last_event = event
    ctx.records.recoveries.append(Recovery(loan, event, gross, gross - net, net, parts, left))


def _residual(ctx: Context, loan: Loan, on: datetime.date, entry: Transaction | Custom) -> None:
    """comp.shares ``residual`` (金东: the pool pays first; what is still unrecovered is
    borne by the government, the guarantor and the bank 40/40/20): split the pool's loss on
    the loan (what its funds paid less what recoveries owe back to them) by the table,
    largest remainder to the fen, for the faces."""
    rule = ctx.rulebook.programs[loan.program].rules["comp.shares"]
    if "residual" not in rule.params:
        return
    table = ctx.param(loan.program, "comp.shares", "residual", on, entry)
    if table is None:
        return
    state = ctx.records.loan_recoveries.get(loan.id)
    back = sum(state.expected.values(), ZERO) if state is not None else ZERO
    shared = [c for c in ctx.records.shares.get(loan.id, []) if c.paid]
    paid = sum((c.paid.get(row.party, ZERO) for c in shared for row in c.table if row.pool), ZERO)
    loss = max(paid - back, ZERO)
    for claim in shared:
        claim.residual = split_shares(loss, table) if claim is shared[-1] else {}


def _loss(ctx: Context, loan: Loan, event: Event) -> None:
    """``custom "loan" "loss"``: recovery has ended and the pool's loss on the loan (what its
    funds paid less what recoveries owe back) is borne by the parties of comp.shares'
    ``residual`` table; each party's part recorded as ``<party>_share`` must be its share
    of the loss, largest remainder to the fen (the parts sum to the loss)."""
    code = loan.program
    rule = ctx.rulebook.programs[code].rules.get("comp.shares")
    if rule is None or "residual" not in rule.params:
        ctx.report(
            FORMAT_RULE,
            None,
            event.entry,
            f"贷款 {loan.id} 登记了损失分担（loss），但本项目的规则没有追偿后损失的分担表（comp.shares 的 residual）",
        )
        return
    table = ctx.param(code, "comp.shares", "residual", event.date, event.entry)
    if table is None:
        return
    shared = [c for c in ctx.records.shares.get(loan.id, []) if c.paid]
    if not shared:
        ctx.report(
            "comp.shares", code, event.entry, f"贷款 {loan.id} 尚未发生代偿，没有可分担的损失", loan=loan.id
        )
        return
    _residual(ctx, loan, event.date, event.entry)
    parts = shared[-1].residual
    loss = sum(parts.values(), ZERO)
    keys = {row.meta_key for row in table}
    ctx.records.losses.append(LossShare(loan, event, loss, tuple(
        LossPart(row.party, row.share, parts.get(row.party, ZERO), event.data.get(row.meta_key)) for row in table
    )))
    for row in table:
        due = parts.get(row.party, ZERO)
        recorded = event.data.get(row.meta_key)
        if recorded is None:
            ctx.report(
                "comp.shares",
                code,
                event.entry,
                f"贷款 {loan.id} 追偿后仍未弥补的损失 {yuan(loss)} 元，应以元数据 {row.meta_key} 记录"
                f"{row.label}按 {percent(row.share)} 承担的部分",
                figures={f"{row.label}应承担": due},
                loan=loan.id,
            )
        elif recorded != due:
            ctx.report(
                "comp.shares",
                code,
                event.entry,
                f"贷款 {loan.id} 追偿后仍未弥补的损失 {yuan(loss)} 元，{row.label}应按 {percent(row.share)} 承担",
                figures={f"{row.label}应承担": due, "已记录": recorded, "差额": due - recorded},
                loan=loan.id,
            )
    for party in PARTIES:
        key = f"{party}_share"
        if key in event.data and key not in keys:
            ctx.report(
                "comp.shares",
                code,
                event.entry,
                f"贷款 {loan.id} 的损失分担记录了{PARTY_LABELS[party]}承担的部分（{key}），"
                "但本项目追偿后损失的分担表中没有这一方",
                figures={"已记录": event.data[key]},
                loan=loan.id,
            )


def _shrink(ctx: Context, loan: Loan, event: Event) -> None:
    """comp.shares with ``shrink``: a recovery lowers the loan's unpaid principal, so each
    fund's part falls to its share of what is still unpaid; the excess it paid is owed
    back to it (the recovery's cash arrives on the recovery accounts). Where the loan was
    claimed more than once, the recovery repays the oldest claim first (as a debtor's
    payment goes to the debt that fell due first)."""
    code = loan.program
    shared = [c for c in ctx.records.shares.get(loan.id, []) if c.paid]
    if not shared:
        ctx.report(
            "comp.shares", code, event.entry, f"贷款 {loan.id} 尚未发生代偿，追偿款无须退回资金池", loan=loan.id,
            severity=WARNING,
        )
        return
    state: LoanRecoveries = ctx.records.loan_recoveries.setdefault(loan.id, LoanRecoveries())
    gross = event.data["recovered"]
    net = max(gross - event.amount("costs") - event.amount("penalty"), ZERO)
    # A loan claimed more than once: the recovery repays the oldest claim's unpaid base
    # first, then the next (the last takes whatever is left over); what the loan's claims
    # now owe back to each fund, summed, is set against what its recoveries already owed.
    left = net
    due_back: dict[str, Decimal] = {}
    for claim in shared:
        take = left if claim is shared[-1] else min(left, max(claim.claim.due - claim.repaid, ZERO))
        claim.repaid += take
        left -= take
        owed_now = claim.owed()
        for row in claim.table:
            if row.pool:
                back_total = max(claim.paid.get(row.party, ZERO) - owed_now[row.party], ZERO)
                due_back[row.party] = due_back.get(row.party, ZERO) + back_total
    parts: dict[str, Decimal] = {}
    for party, back_total in due_back.items():
        fund = _FUND_OF[party]
        back = back_total - state.expected[fund]
        if back > 0:
            state.expected[fund] = back_total
            parts[party] = back
    state.last_event = event
    ctx.records.recoveries.append(Recovery(loan, event, gross, gross - net, net, parts, ZERO))


@dataclass
class PendingClaims:
    """A program's loans with a claim on or before the walk's date whose latest claim has
    not been compensated yet: the candidates comp.order compares against.

    Claims enter in date order as the walk reaches them; a loan leaves once its latest
    claim is compensated (it comes back with a later claim) or it is settled. So each
    compensation looks at the claims still waiting, not at every loan of the program.
    """

    claims: list[tuple[datetime.date, int, Loan]]
    next: int = 0
    waiting: dict[str, tuple[int, Loan]] = field(default_factory=dict)

    def advance(self, day: datetime.date) -> None:
        while self.next < len(self.claims) and self.claims[self.next][0] <= day:
            _, rank, loan = self.claims[self.next]
            self.waiting[loan.id] = (rank, loan)
            self.next += 1


def _pending_claims(ctx: Context, code: str) -> PendingClaims:
    queues = ctx.pending_claims
    queue = queues.get(code)
    if queue is None:
        claims = [
            (event.date, rank, loan)
            for rank, loan in enumerate(ctx.register.loans.values())
            if loan.program == code
            for event in loan.events
            if event.kind == "claim"
        ]
        claims.sort(key=lambda c: c[0])
        queue = queues[code] = PendingClaims(claims)
    return queue


def _check_order(ctx: Context, m: Movement, loan: Loan, claim: Claim) -> None:
    """WLHT: compensate in the order the loans fell overdue."""
    code = loan.program
    mine = loan.last_before("overdue", m.date)
    if mine is None:
        return
    queue = _pending_claims(ctx, code)
    queue.advance(m.date)
    first: tuple[int, Loan, Event] | None = None  # the earliest in register order
    for other_id, (rank, other) in list(queue.waiting.items()):
        if other.id == loan.id:
            continue
        pending = other.last_before("claim", m.date)
        state = ctx.records.claims.get(id(pending.entry)) if pending is not None else None
        if pending is None or (state is not None and state.started):
            del queue.waiting[other_id]  # back with its next claim, if any
            continue
        if other.settled(m.date):
            settlement = other.first("settlement")
            if settlement is not None and settlement.date <= m.date:
                del queue.waiting[other_id]  # settled for good
            continue
        theirs = other.last_before("overdue", m.date)
        if theirs is None:
            continue
        if theirs.date < mine.date and (first is None or rank < first[0]):
            first = (rank, other, theirs)
    if first is not None:
        _, other, theirs = first
        ctx.report(
            "comp.order",
            code,
            m.entry,
            f"应按逾期先后顺序代偿：贷款 {other.id} 于 {theirs.date} 逾期，早于贷款 {loan.id}"
            f"（{mine.date} 逾期），但尚未代偿",
            loan=loan.id,
            stated={"逾期早于本笔天数": Decimal((mine.date - theirs.date).days)},
        )


def _distribute(ctx: Context, loan: Loan, event: Event) -> None:
    code = loan.program
    deductions = ctx.param(code, "recovery.order", "deductions", event.date, event.entry)
    order = ctx.param(code, "recovery.order", "order", event.date, event.entry)
    if deductions is None or order is None:
        return
    claims = ctx.records.claims_by_loan.get(loan.id, [])
    g_paid = sum((c.guarantee_paid for c in claims), ZERO)
    r_paid = sum((c.risk_paid for c in claims), ZERO)
    bank_share = sum((c.bank_share for c in claims), ZERO)
    if g_paid + r_paid + bank_share == 0:
        ctx.report(
            "recovery.order", code, event.entry, f"贷款 {loan.id} 尚未发生代偿，追偿款无须按代偿顺序分配", loan=loan.id
        )
        return
    for name in ("costs", "penalty"):
        if event.amount(name) > 0 and name not in deductions:
            ctx.report(
                "recovery.order",
                code,
                event.entry,
                f"本办法追偿款只可扣除{'、'.join(DEDUCTION_LABELS[d] for d in deductions)}，"
                f"不可扣除{DEDUCTION_LABELS[name]}",
                figures={DEDUCTION_LABELS[name]: event.amount(name)},
                loan=loan.id,
            )
    gross = event.data["recovered"]
    deducted = sum((event.amount(d) for d in deductions), ZERO)
    net = gross - deducted
    if net < 0:
        ctx.report(
            "recovery.order",
            code,
            event.entry,
            f"贷款 {loan.id} 追偿扣除项超过追回金额",
            figures={"追回": gross, "扣除": deducted},
            loan=loan.id,
        )
        net = ZERO
    state: LoanRecoveries = ctx.records.loan_recoveries.setdefault(loan.id, LoanRecoveries())
    caps = {
        "bank": bank_share - state.bank_recovered,
        "risk": r_paid - state.expected[RISK],
        "guarantee": g_paid - state.expected[GUARANTEE],
    }
    remaining = net
    parts: dict[str, Decimal] = {}
    for party in order:
        take = min(remaining, max(caps[party], ZERO))
        parts[party] = take
        remaining -= take
    state.bank_recovered += parts["bank"]
    state.expected[RISK] += parts["risk"]
    state.expected[GUARANTEE] += parts["guarantee"]
    state.last_event = event
    ctx.records.recoveries.append(Recovery(loan, event, gross, deducted, net, parts, remaining))
    if remaining > 0:
        ctx.report(
            "recovery.order",
            code,
            event.entry,
            f"贷款 {loan.id} 追偿净额超出银行承担与两项资金代偿之和，超出部分需人工处理",
            figures={"追偿净额": net, "超出": remaining},
            loan=loan.id,
            severity=WARNING,
        )


def _recovery_cash(ctx: Context, m: Movement) -> None:
    code = m.state.program.code
    if len(m.loans) != 1:
        ctx.report(
            FORMAT_RULE, None, m.entry, f"追偿补回应以链接 ^贷款编号 关联本项目的唯一一笔贷款，此笔关联了 {len(m.loans)} 笔"
        )
        return
    shares = ctx.active(code, "comp.shares")
    if not ctx.active(code, "recovery.order") and not shares:
        return
    rule_id = "recovery.order" if ctx.active(code, "recovery.order") else "comp.shares"
    loan = ctx.register.loans[m.loans[0]]
    state: LoanRecoveries = ctx.records.loan_recoveries.setdefault(loan.id, LoanRecoveries())
    for fund, label in ((RISK, "风险补偿金"), (GUARANTEE, "助保金")):
        amount = m.delta(fund)
        if amount == 0:
            continue
        after = state.received[fund] + amount
        if after > state.expected[fund]:
            if rule_id == "recovery.order":
                text = (f"贷款 {loan.id} 追偿款补回{label}超过按分配顺序应补回的金额"
                        "（追偿款先偿还银行承担部分，再补回风险补偿金，后补回助保金）")
            elif _shrinks(ctx, loan, state.last_event or m.date, m.entry):
                text = (f"贷款 {loan.id} 追偿后退回{label}超过其多付的部分"
                        "（未清偿本金减少后，按比例应承担的部分随之减少，只退回超出的部分）")
            else:
                text = f"贷款 {loan.id} 追偿款补回{label}超过应补回的金额（追偿净额补回资金池，以其代偿额为限）"
            ctx.report(
                rule_id,
                code,
                m.entry,
                text,
                figures={"应补回": state.expected[fund], "累计补回": after, "超出": after - state.expected[fund]},
                loan=loan.id,
            )
        state.received[fund] = after


def finish(ctx: Context) -> None:
    for claim in ctx.records.claims.values():
        loan = claim.loan
        code = loan.program
        if ctx.active(code, "comp.shares"):
            continue  # a table of parties: its parts are checked below
        if not claim.guarantee_done:
            continue
        due = first_payers(ctx, loan, claim.due, ZERO, claim.event.date).pool_due
        shortfall = due - claim.guarantee_paid
        if shortfall <= 0:
            continue
        has_committee = loan.first("committee") is not None
        anchor = claim.entries[-1] if claim.entries else claim.event.entry
        if claim.risk_done and claim.uncovered > 0:
            if ctx.active(code, "comp.escalation") and not has_committee:
                ctx.report(
                    "comp.escalation",
                    code,
                    anchor,
                    f"贷款 {loan.id} 风险补偿金不足以承担其分担部分，应登记管委会办公会议等决策（committee）",
                    figures={"未能分担": claim.uncovered},
                    loan=loan.id,
                )
        elif not claim.risk_done:
            state = ctx.states[code]
            if state.balance(RISK) <= 0 and ctx.active(code, "comp.escalation"):
                if not has_committee:
                    ctx.report(
                        "comp.escalation",
                        code,
                        anchor,
                        f"贷款 {loan.id} 助保金不足且风险补偿金已无余额，应登记决策（committee）",
                        figures={"不足部分": shortfall},
                        loan=loan.id,
                    )
            elif ctx.active(code, "comp.waterfall"):
                ctx.report(
                    "comp.waterfall",
                    code,
                    anchor,
                    f"贷款 {loan.id} 助保金不足部分尚未由风险补偿金与合作银行分担入账",
                    figures={"不足部分": shortfall},
                    loan=loan.id,
                    severity=WARNING,
                )
    for shared_claims in ctx.records.shares.values():
        for shared in shared_claims:
            claim = shared.claim
            for row in shared.table:
                if row.pool and shared.parts[row.party] > 0 and row.party not in shared.paid:
                    ctx.report(
                        "comp.shares",
                        claim.loan.program,
                        claim.entries[-1],
                        f"贷款 {claim.loan.id} 的代偿中{row.label}应承担的部分尚未入账",
                        figures={f"{row.label}应付": shared.parts[row.party]},
                        loan=claim.loan.id,
                        severity=WARNING,
                    )
    for loan_id, state in ctx.records.loan_recoveries.items():
        loan = ctx.register.loans[loan_id]
        rule_id = "recovery.order" if ctx.active(loan.program, "recovery.order") else "comp.shares"
        for fund, label in ((RISK, "风险补偿金"), (GUARANTEE, "助保金")):
            if state.received[fund] < state.expected[fund] and state.last_event is not None:
                shrinks = rule_id == "comp.shares" and _shrinks(ctx, loan, state.last_event, state.last_event.entry)
                what = "未清偿本金减少后应退回" if shrinks else "追偿款应补回"
                ctx.report(
                    rule_id,
                    loan.program,
                    state.last_event.entry,
                    f"贷款 {loan.id} {what}{label}的部分尚未到账",
                    figures={"应补回": state.expected[fund], "已到账": state.received[fund],
                             "差额": state.expected[fund] - state.received[fund]},
                    loan=loan.id,
                    severity=WARNING,
                )
