"""Turn a checked statement into ledger entries, asking the rule engine for every figure.

Each new row (its serial number not yet in the ledger) is matched against the pool's
classification rules (first match wins) and becomes one transaction of the ledger format
(docs/ledger-format.md)::

    2024-07-03 * "重庆丁智能装备有限公司" "缴纳助保金" ^CQ-2024-011
      serial: "10002-20240703100211002"
      counterparty_account: "31050161393600000004"
      bank_summary: "网银转账 助保金"
      Assets:CQGX:Pool:Guarantee    50000.00 CNY
      Income:CQGX:Guarantee:Fees   -50000.00 CNY

    2024-09-21 * "中国建设银行" "结息（计息期至 2024-09-20）"
      serial: "10011-20240921020000011"
      period_end: 2024-09-20
      Assets:CQGX:Pool:Guarantee          289.64 CNY
      Assets:CQGX:Pool:Risk             15389.26 CNY
      Income:CQGX:Guarantee:Interest     -289.64 CNY
      Income:CQGX:Risk:Interest        -15389.26 CNY

    2024-07-15 ! "重庆某某商贸有限公司" "待查明：没有分类规则识别此笔收入"
      serial: "10004-20240715091245004"
      Assets:CQGX:Pool:Suspense     12345.67 CNY
      Income:CQGX:Unidentified     -12345.67 CNY

No figure is computed here: the fee still due is the engine's ``records.fees``
(due − paid, less what this import already booked); the interest split is what the engine's
``pool.interest_split`` expects for a provisional credit put through :func:`analyse` with
the ledger and the statement's earlier rows (so the 积数, the period and
:func:`pool.split_interest` are the engine's own); the compensation legs are
:func:`waterfall.plan_waterfall` on the engine's fund balances and claims; a recovery's
parts are the engine's ``records.loan_recoveries`` (expected − received, with the
statement's earlier rows put through the engine too). Whatever does
not fit goes to the program's suspense account with the ``!`` flag and the reason.
"""

from __future__ import annotations

import datetime
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from beancount.core import data
from beancount.core.amount import Amount
from beancount.core.data import Directive
from beancount.core.data import Transaction

from zhubaodai.engine import GUARANTEE
from zhubaodai.engine import RISK
from zhubaodai.engine import Analysis
from zhubaodai.engine import analyse
from zhubaodai.importers.config import ClassifyRule
from zhubaodai.importers.config import ImportFailure
from zhubaodai.importers.config import PoolConfig
from zhubaodai.importers.config import account_key
from zhubaodai.importers.config import header_key
from zhubaodai.importers.statement import Row
from zhubaodai.importers.statement import Statement
from zhubaodai.importers.statement import StatementError
from zhubaodai.money import CURRENCY
from zhubaodai.money import ZERO
from zhubaodai.money import yuan
from zhubaodai.rules import ParamDateError
from zhubaodai.rules import Program
from zhubaodai.rules import Rulebook
from zhubaodai.waterfall import Claim
from zhubaodai.waterfall import plan_waterfall

ONE_DAY = datetime.timedelta(days=1)
EMPTY: frozenset[str] = frozenset()

#: Metadata key of the bank's serial number (the deduplication key).
SERIAL = "serial"


@dataclass(frozen=True)
class Extraction:
    """What one statement adds to the ledger."""

    statement: Statement
    entries: list[Directive]
    #: Rows whose serial number the ledger already has.
    skipped: int
    #: Rows booked to suspense.
    suspense: int


def _amount(number: Decimal) -> Amount:
    return Amount(number, CURRENCY)


def _posting(account: str, number: Decimal) -> data.Posting:
    return data.Posting(account, _amount(number), None, None, None, None)


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


@dataclass
class _Claim:
    """A claim as this import sees it: the engine's state plus legs booked here."""

    claim: Claim
    guarantee_done: bool
    guarantee_paid: Decimal
    risk_done: bool


@dataclass
class Classifier:
    """Classifies the new rows of one statement against one ledger."""

    config: PoolConfig
    rulebook: Rulebook
    existing: Sequence[Directive]
    statement: Statement
    #: Fava's import page saves metadata as JSON text: no date or amount values then.
    for_fava: bool = False
    analysis: Analysis = field(init=False)
    program: Program = field(init=False)
    new: list[Directive] = field(default_factory=list)
    fees_booked: dict[str, Decimal] = field(default_factory=dict)
    fund_delta: dict[str, Decimal] = field(default_factory=lambda: {GUARANTEE: ZERO, RISK: ZERO})
    claims: list[_Claim] = field(default_factory=list)
    used_accounts: dict[str, datetime.date] = field(default_factory=dict)
    suspense_count: int = 0

    def __post_init__(self) -> None:
        code = self.config.program
        self.program = self.rulebook.programs[code]  # checked by build_entries
        self.analysis = analyse(self.existing, self.rulebook)
        self._index_enterprises()
        self.claims = [
            _Claim(c, c.guarantee_done, c.guarantee_paid, c.risk_done)
            for c in self.analysis.records.claims.values()
            if c.loan.program == code
        ]

    # ----------------------------------------------------------------------------------
    # Who is who.

    def _index_enterprises(self) -> None:
        code = self.config.program
        self.enterprise_names: dict[str, str] = {}
        self.enterprise_accounts: dict[str, str] = {}
        self.enterprise_label: dict[str, str] = {}
        registered = self.analysis.register.enterprises
        for ent_id, event in registered.items():
            if event.data["program"] != code:
                continue
            self.enterprise_label[ent_id] = event.data["name"]
            self.enterprise_names[header_key(event.data["name"])] = ent_id
            if event.data.get("account"):
                self.enterprise_accounts[account_key(event.data["account"])] = ent_id
        for alias in self.config.enterprises:
            event = registered.get(alias.enterprise)
            if event is None or event.data["program"] != code:
                raise ImportFailure(
                    f"导入配置 {self.config.path} 的 enterprises 中企业 {alias.enterprise} 未在账本中登记为项目 {code} 的企业"
                    '（custom "enterprise" "register"）'
                )
            for name in alias.names:
                self.enterprise_names[header_key(name)] = alias.enterprise
            for acct in alias.accounts:
                self.enterprise_accounts[account_key(acct)] = alias.enterprise

    def enterprise_of(self, row: Row) -> str | None:
        if row.counterparty_account:
            found = self.enterprise_accounts.get(account_key(row.counterparty_account))
            if found:
                return found
        if row.counterparty:
            return self.enterprise_names.get(header_key(row.counterparty))
        return None

    # ----------------------------------------------------------------------------------
    # Rules.

    def matches(self, rule: ClassifyRule, row: Row) -> bool:
        if rule.direction == "credit" and row.amount <= 0:
            return False
        if rule.direction == "debit" and row.amount >= 0:
            return False
        if rule.counterparty:
            name = header_key(row.counterparty)
            if not name or not any(header_key(n) in name for n in rule.counterparty):
                return False
        if rule.counterparty_account:
            acct = account_key(row.counterparty_account)
            if not acct or acct not in {account_key(a) for a in rule.counterparty_account}:
                return False
        if rule.summary:
            text = header_key(row.text)
            if not any(header_key(s) in text for s in rule.summary):
                return False
        if rule.event == "fee" and not (rule.counterparty or rule.counterparty_account or rule.summary):
            # A bare fee rule recognises payers by the register.
            return self.enterprise_of(row) is not None
        return True

    def classify(self, row: Row) -> Transaction:
        for rule in self.config.classify:
            if self.matches(rule, row):
                handler = getattr(self, f"_{rule.event}")
                return handler(row)
        what = "收入" if row.amount > 0 else "支出"
        return self._suspense(row, f"没有分类规则识别此笔{what}")

    # ----------------------------------------------------------------------------------
    # Entries.

    def _meta(self, row: Row, **extra: object) -> dict[str, object]:
        meta = data.new_metadata(self.statement.path, row.line)
        meta[SERIAL] = row.serial
        if row.counterparty_account:
            meta["counterparty_account"] = row.counterparty_account
        if row.text:
            meta["bank_summary"] = row.text
        meta.update(extra)
        return meta

    def _txn(
        self,
        row: Row,
        narration: str,
        postings: list[tuple[str, Decimal]],
        *,
        links: frozenset[str] = EMPTY,
        flag: str = "*",
        payee: str | None = None,
        **meta: object,
    ) -> Transaction:
        for account, _ in postings:
            self.used_accounts.setdefault(account, row.date)
        for fund in (GUARANTEE, RISK):
            acct = self.program.accounts[f"{fund}_fund"]
            self.fund_delta[fund] += sum((n for a, n in postings if a == acct), ZERO)
        return Transaction(
            self._meta(row, **meta),
            row.date,
            flag,
            payee if payee is not None else (row.counterparty or None),
            narration,
            EMPTY,
            links,
            [_posting(a, n) for a, n in postings],
        )

    def acct(self, role: str) -> str:
        return self.program.accounts[role]

    def _suspense(self, row: Row, reason: str) -> Transaction:
        self.suspense_count += 1
        counter = self.config.unidentified_income if row.amount > 0 else self.config.unidentified_expense
        return self._txn(
            row,
            f"待查明：{reason}",
            [(self.acct("suspense"), row.amount), (counter, -row.amount)],
            flag="!",
        )

    def _injection(self, row: Row) -> Transaction:
        return self._txn(
            row, "注入风险补偿金", [(self.acct("risk_fund"), row.amount), (self.acct("injection"), -row.amount)]
        )

    def _fee(self, row: Row) -> Transaction:
        ent = self.enterprise_of(row)
        if ent is None:
            who = row.counterparty or "（无户名）"
            if row.counterparty_account:
                who += f"（账号 {row.counterparty_account}）"
            return self._suspense(row, f"像是助保金缴款，但付款人 {who} 不是本项目登记的企业")
        name = self.enterprise_label[ent]
        loans = [
            loan for loan in self.analysis.register.loans.values()
            if loan.enterprise == ent and loan.program == self.config.program
        ]
        fees = self.analysis.records.fees
        owing: dict[str, Decimal] = {}
        for loan in loans:
            account = fees.get(loan.id)
            due = account.due - account.paid if account is not None else ZERO
            owing[loan.id] = due - self.fees_booked.get(loan.id, ZERO)
        named = [loan_id for loan_id in owing if loan_id in _norm(row.text)]
        candidates = [l for l in (named or list(owing)) if owing[l] == row.amount]
        if len(candidates) == 1:
            loan_id = candidates[0]
            self.fees_booked[loan_id] = self.fees_booked.get(loan_id, ZERO) + row.amount
            return self._txn(
                row,
                "缴纳助保金",
                [(self.acct("guarantee_fund"), row.amount), (self.acct("fee_income"), -row.amount)],
                links=frozenset({loan_id}),
            )
        if not loans:
            return self._suspense(row, f"企业 {ent}（{name}）缴款 {yuan(row.amount)} 元，但登记簿中没有该企业的贷款")
        shown = "；".join(f"{l} 待缴 {yuan(owing[l])} 元" for l in (named or list(owing)))
        if len(candidates) > 1:
            return self._suspense(
                row,
                f"企业 {ent}（{name}）缴款 {yuan(row.amount)} 元，同时符合多笔贷款的待缴助保金（{shown}），"
                "请在备注中注明贷款编号或手工指定",
            )
        return self._suspense(
            row,
            f"企业 {ent}（{name}）缴款 {yuan(row.amount)} 元，与其贷款待缴助保金不符（{shown}；"
            "待缴额来自登记簿的合同、增额、续贷事件，请先登记）",
        )

    def _interest(self, row: Row) -> Transaction:
        period_end = row.date - ONE_DAY
        g_acct, r_acct = self.acct("guarantee_fund"), self.acct("risk_fund")
        gi, ri = self.acct("interest_guarantee"), self.acct("interest_risk")
        narration = f"结息（计息期至 {period_end}）"
        # A provisional credit, all to the guarantee fund, put through the engine with the
        # ledger and the rows before it: the engine says how it must be split.
        provisional = Transaction(
            self._meta(row, period_end=period_end), row.date, "*", None, narration, EMPTY, EMPTY,
            [_posting(g_acct, row.amount), _posting(gi, -row.amount)],
        )
        entries = sorted([*self.existing, *self.new, provisional], key=data.entry_sortkey)
        analysis = analyse(entries, self.rulebook)
        for allocation in analysis.records.interest:
            if allocation.entry is provisional:
                g, r = allocation.expected_guarantee, allocation.expected_risk
                postings = [(a, n) for a, n in ((g_acct, g), (r_acct, r), (gi, -g), (ri, -r)) if n]
                # The engine's default period end is the day before the credit, as here;
                # Fava would save a date as quoted text, so there it is left to the default.
                meta = {} if self.for_fava else {"period_end": period_end}
                return self._txn(row, narration, postings, payee=row.counterparty or self.config.bank_name, **meta)
        why = next(
            (
                f.message for f in analysis.findings
                if f.rule == "pool.interest_split" and f.lineno == row.line and f.filename == self.statement.path
            ),
            "规则文件中本项目没有 pool.interest_split 规则",
        )
        return self._suspense(row, f"结息 {yuan(row.amount)} 元无法按积数分配：{why}")

    def _balance(self, fund: str, day: datetime.date) -> Decimal:
        return self.analysis.programs[self.config.program].funds[fund].at(day) + self.fund_delta[fund]

    def _compensation(self, row: Row) -> Transaction:
        paid = -row.amount
        try:
            share = self.program.rules["comp.waterfall"].param("risk_share", row.date)
        except KeyError:
            return self._suspense(row, "规则文件中本项目没有 comp.waterfall 规则，无法核对代偿金额")
        except ParamDateError as exc:
            return self._suspense(row, str(exc))
        g_before = self._balance(GUARANTEE, row.date)
        r_before = self._balance(RISK, row.date)
        options: list[tuple[_Claim, str, Decimal, Decimal, Decimal]] = []  # claim, kind, g, r, bank
        expected: list[str] = []
        for c in self.claims:
            if c.claim.event.date > row.date or c.risk_done:
                continue
            loan = c.claim.loan
            if not c.guarantee_done:
                plan = plan_waterfall(c.claim.due, g_before, r_before, share)
                expected.append(
                    f"{loan.id} 助保金付 {yuan(plan.guarantee)} 元、风险补偿金付 {yuan(plan.risk)} 元"
                )
                if plan.guarantee + plan.risk == paid:
                    options.append((c, "both", plan.guarantee, plan.risk, plan.bank))
                elif plan.guarantee == paid and plan.risk > 0:
                    options.append((c, "guarantee", plan.guarantee, ZERO, plan.bank))
            else:
                plan = plan_waterfall(c.claim.due, c.guarantee_paid, r_before, share)
                expected.append(f"{loan.id} 风险补偿金付 {yuan(plan.risk)} 元")
                if plan.risk == paid:
                    options.append((c, "risk", ZERO, plan.risk, plan.bank))
        named = [o for o in options if o[0].claim.loan.id in _norm(row.text)]
        chosen = named or options
        if len(chosen) != 1:
            if not expected:
                return self._suspense(row, f"支出 {yuan(paid)} 元，本项目没有尚待代偿的已审核代偿申请（claim）")
            shown = "；".join(expected)
            what = "同时符合多笔代偿" if chosen else "与按代偿顺序应付的金额不符"
            return self._suspense(row, f"代偿支出 {yuan(paid)} 元{what}（{shown}）")
        c, kind, g, r, bank = chosen[0]
        loan_id = c.claim.loan.id
        postings: list[tuple[str, Decimal]] = []
        if g:
            postings += [(self.acct("compensation_guarantee"), g)]
        if r:
            postings += [(self.acct("compensation_risk"), r)]
        if g:
            postings += [(self.acct("guarantee_fund"), -g)]
        if r:
            postings += [(self.acct("risk_fund"), -r)]
        meta: dict[str, object] = {}
        if kind in ("both", "risk") and r:
            meta["bank_share"] = f"{bank} {CURRENCY}" if self.for_fava else _amount(bank)
        if kind in ("both", "guarantee"):
            c.guarantee_done, c.guarantee_paid = True, g
        if kind in ("both", "risk") and r:
            c.risk_done = True
        if kind == "both" and not r:
            c.risk_done = True  # the guarantee fund covered it all
        label = {"both": "代偿", "guarantee": "代偿（助保金部分）", "risk": "代偿（风险补偿金分担部分）"}[kind]
        return self._txn(row, f"{label} {loan_id}", postings, links=frozenset({loan_id}), **meta)

    def _recovery(self, row: Row) -> Transaction:
        # What each fund should get back depends on the compensations before it, which
        # may be rows of this very statement: ask the engine with them.
        analysis = analyse(sorted([*self.existing, *self.new], key=data.entry_sortkey), self.rulebook)
        states = analysis.records.loan_recoveries
        options: list[tuple[str, Decimal, Decimal]] = []
        expected: list[str] = []
        for loan_id, state in states.items():
            loan = analysis.register.loans[loan_id]
            if loan.program != self.config.program:
                continue
            left = {fund: state.expected[fund] - state.received[fund] for fund in (RISK, GUARANTEE)}
            if left[RISK] <= 0 and left[GUARANTEE] <= 0:
                continue
            expected.append(
                f"{loan_id} 应补回风险补偿金 {yuan(left[RISK])} 元、助保金 {yuan(left[GUARANTEE])} 元"
            )
            if left[RISK] + left[GUARANTEE] == row.amount:
                options.append((loan_id, left[RISK], left[GUARANTEE]))
            elif left[RISK] == row.amount:
                options.append((loan_id, left[RISK], ZERO))
        named = [o for o in options if o[0] in _norm(row.text)]
        chosen = named or options
        if len(chosen) != 1:
            if not expected:
                return self._suspense(
                    row, f"收入 {yuan(row.amount)} 元像是追偿款，但登记簿中没有尚待补回的追偿（recovery）"
                )
            what = "同时符合多笔追偿" if chosen else "与按追偿分配顺序应补回的金额不符"
            return self._suspense(row, f"追偿款 {yuan(row.amount)} 元{what}（{'；'.join(expected)}）")
        loan_id, r, g = chosen[0]
        postings: list[tuple[str, Decimal]] = []
        if r:
            postings += [(self.acct("risk_fund"), r)]
        if g:
            postings += [(self.acct("guarantee_fund"), g)]
        if r:
            postings += [(self.acct("recovery_risk"), -r)]
        if g:
            postings += [(self.acct("recovery_guarantee"), -g)]
        return self._txn(row, f"追偿款补回 {loan_id}", postings, links=frozenset({loan_id}))


def existing_serials(entries: Sequence[Directive], pool: str) -> dict[str, Directive]:
    """serial -> the ledger entry carrying it, for transactions on the pool's accounts."""
    found: dict[str, Directive] = {}
    prefix = pool + ":"
    for entry in entries:
        if not isinstance(entry, Transaction):
            continue
        serial = entry.meta.get(SERIAL) if entry.meta else None
        if serial is None:
            continue
        if any(p.account == pool or p.account.startswith(prefix) for p in entry.postings):
            found.setdefault(str(serial), entry)
    return found


def existing_balances(entries: Sequence[Directive], account: str) -> set[tuple[datetime.date, Decimal]]:
    return {
        (e.date, e.amount.number)
        for e in entries
        if isinstance(e, data.Balance) and e.account == account
    }


def opened_accounts(entries: Sequence[Directive]) -> set[str]:
    return {e.account for e in entries if isinstance(e, data.Open)}


def check_position(statement: Statement, existing: Sequence[Directive], pool: str) -> None:
    """A statement must start where the ledger's pool account stands, and the ledger must
    hold no bank movement in the statement's period that deduplication cannot recognise
    (a transaction changing the pool's balance without a serial number). Raises
    :class:`StatementError` otherwise: importing then would duplicate or leave a gap."""
    first, last = statement.rows[0], statement.rows[-1]
    prefix = pool + ":"
    before = ZERO
    unmarked: list[Transaction] = []
    for entry in existing:
        if not isinstance(entry, Transaction) or entry.date > last.date:
            continue
        net = sum(
            (p.units.number for p in entry.postings
             if (p.account == pool or p.account.startswith(prefix))
             and isinstance(p.units, Amount) and p.units.currency == CURRENCY),
            ZERO,
        )
        if not net:
            continue  # not a bank movement (e.g. suspense reclassified to a fund)
        if entry.date < first.date:
            before += net
        elif SERIAL not in entry.meta:
            unmarked.append(entry)
    if unmarked:
        e = unmarked[0]
        where = f"{e.meta.get('filename')}:{e.meta.get('lineno')}"
        raise StatementError(
            statement.path,
            f"账本中 {first.date} 至 {last.date} 已有 {len(unmarked)} 笔没有流水号（serial）的专户收支"
            f"（如 {where} {e.date} {e.narration}），无法判断是否与本对账单重复；"
            "请给这些分录补上对账单中的流水号（serial 元数据），或只导入此后的对账单",
            row=statement.header_row,
        )
    if before != statement.opening_balance:
        raise StatementError(
            statement.path,
            f"期初余额 {yuan(statement.opening_balance)} 元与账本不符：账本中专户 {pool} 在 {first.date} 日初的余额为 "
            f"{yuan(before)} 元（相差 {yuan(statement.opening_balance - before)} 元）；"
            "账本可能缺少此前的流水（请先导入更早的对账单），或账本有误",
            row=first.line,
            column=statement.balance_label,
        )


def build_entries(
    statement: Statement,
    config: PoolConfig,
    rulebook: Rulebook,
    existing: Sequence[Directive],
    *,
    for_fava: bool = False,
) -> Extraction:
    """The entries a statement adds to a ledger holding ``existing`` (sorted entries)."""
    program = rulebook.programs.get(config.program)
    if program is None:
        known = "、".join(rulebook.programs)
        raise ImportFailure(
            f"导入配置 {config.path} 的项目 {config.program} 不在规则文件 {config.rules_path} 中（已有：{known}）"
        )
    pool = program.accounts["pool"]
    check_position(statement, existing, pool)
    seen = existing_serials(existing, pool)
    new_rows = [row for row in statement.rows if row.serial not in seen]
    skipped = len(statement.rows) - len(new_rows)
    entries: list[Directive] = []
    suspense = 0
    used: dict[str, datetime.date] = {}
    if new_rows:
        classifier = Classifier(config, rulebook, existing, statement, for_fava)
        for row in new_rows:
            entry = classifier.classify(row)
            classifier.new.append(entry)
        entries.extend(classifier.new)
        suspense = classifier.suspense_count
        used = classifier.used_accounts
    # Accounts: the unidentified sources/uses are opened on first use; any other account
    # the ledger lacks is an error (the ledger's accounts are opened by people).
    opened = opened_accounts(existing)
    opens = []
    for account, day in sorted(used.items(), key=lambda item: (item[1], item[0])):
        if account in opened:
            continue
        if account in (config.unidentified_income, config.unidentified_expense):
            what = "待查明款项的来源" if account.startswith("Income:") else "待查明款项的去向"
            meta = data.new_metadata(statement.path, 0)
            meta["description"] = f"{what}（导入对账单时自动开立）"
            opens.append(data.Open(meta, day, account, [CURRENCY], None))
        else:
            raise ImportFailure(f"账本中没有开立账户 {account}（导入 {statement.path} 要用到），请先在账本中 open 该账户")
    if opens and for_fava:  # Fava's import page cannot save an open directive
        lines = "；".join(f"{o.date} open {o.account} {CURRENCY}" for o in opens)
        raise ImportFailure(
            f"账本中没有开立待查明款项的对方账户，本对账单有待查明的收支要记入；请先在账本中加上：{lines}"
        )
    # The running balance as assertions on the pool (start of day): before the first row
    # and after the last one.
    balances = existing_balances(existing, pool)
    if pool not in opened:
        raise ImportFailure(f"账本中没有开立专户上级账户 {pool}（余额断言记在它上面），请先在账本中 open 该账户")
    first, last = statement.rows[0], statement.rows[-1]
    assertions = [
        (first.date, statement.opening_balance, first.line),
        (last.date + ONE_DAY, statement.closing_balance, last.line),
    ]
    for day, number, line in assertions:
        if (day, number) in balances:
            continue
        meta = data.new_metadata(statement.path, line)
        entries.append(data.Balance(meta, day, pool, _amount(number), None, None))
    return Extraction(statement, [*opens, *entries], skipped, suspense)

