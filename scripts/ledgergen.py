"""Write 助保贷 pool ledgers as an accountant would, and generate synthetic ones of any size.

Two layers, both writing plain Beancount text in the format of docs/ledger-format.md:

* :class:`Book`, the bookkeeper. It writes one directive at a time (account opens per
  program from the roles in rules.yaml, register events, fee payments, injections,
  quarterly interest credits, compensations, recoveries, balance assertions) and keeps
  each program's two funds in the engine's own :class:`zhubaodai.core.engine.DailyBalance`,
  fed as it writes. Every figure a rule governs comes from the engine's functions, never
  from arithmetic of its own: fees from :func:`zhubaodai.checks.fees.fee_due` at the rate
  rules.yaml has in force; the interest split from :func:`zhubaodai.checks.pool.split_interest`
  over :meth:`DailyBalance.jishu`; compensations from
  :func:`zhubaodai.checks.waterfall.plan_waterfall` with the fund balances as written so far;
  the distribution of a recovery from :func:`zhubaodai.core.engine.analyse` run over what has
  been written about that loan. The work is linear: nothing re-reads the ledger.
  A loan's life is described by a :class:`LoanSpec` (amount, dates, increases, renewals,
  repayments, outcome) and expanded by :func:`loan_steps` into dated steps; a
  :class:`Timeline` runs every step, the quarterly interest credits (corporate demand
  accounts settle on the 20th of Mar/Jun/Sep/Dec, credited the 21st) and the quarter-end
  balance assertions in date order. scripts/gen_demo.py writes the demo ledger with it.

* :func:`generate`, the synthetic generator for tests and benchmarks::

      generate(out, *, transactions=None, loans=None, seed=0, bare=False, force=False,
               rules=None, start=None, end=None, progress=None, programs=None) -> GenerationStats

  ``out`` is a path (written through a temporary file, then renamed; an existing file is
  kept unless ``force``) or an open text stream. Give ``transactions`` (the number of
  Beancount transactions, i.e. cash entries, to write; the ledger ends within about 2% of
  it) or ``loans`` (the number of loans to approve). The same ``seed`` gives the same
  bytes. ``bare=True`` writes the same ledger without the ``plugin`` line (the
  benchmark's bare bean-check). ``rules`` is the rules.yaml the plugin line names
  (default: the project's; the line names it relative to the ledger). ``start``/``end``
  bound the dates (default 2022-01-01 to 2025-12-31, the end moved on for a program whose
  rules start late). ``progress`` is called as ``progress(written, target)`` now and then.
  ``programs`` is ``"all"``, ``"CODE,CODE"`` or a list of codes (default CQGX and WLHT).
  Every program is written by :class:`zhubaodai.scripts.synth.ProgramSynthesizer`, which
  reads every figure and shape from the programs' blocks in rules.yaml (no code per
  program; a new program needs nothing here): fees, injections, interest, compensations
  and recoveries, every transaction obeying the rules (the plugin finds nothing, warnings
  included). The file is written as the simulation runs: memory holds the loans in
  flight, never the ledger (peak RSS about 170 MB at 100k transactions over the default
  four years, 2026-11-29, CQGX and WLHT). Register directives (``custom``) come on top of the
  transactions: about four to six per loan. Payees and letter styles are cosmetic:
  :data:`STYLES` for CQGX and WLHT, :func:`derived_style` for the others. Where a
  program's evidence.missing requires documents, small placeholder files are written in
  ``evidence/`` beside the ledger (a stream is then refused).

Command line::

    python -m zhubaodai.scripts.ledgergen --transactions N --seed S -o PATH [--programs CODE,CODE|all] [--bare] [--force]
"""

from __future__ import annotations

import bisect
import datetime
import heapq
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import ROUND_DOWN
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import Protocol
from typing import TextIO

import click
from beancount.core.data import entry_sortkey
from beancount.parser import parser

from zhubaodai.checks import fees
from zhubaodai.checks import pool
from zhubaodai.checks import waterfall
from zhubaodai.checks.waterfall import Waterfall
from zhubaodai.clitext import ChineseCommand
from zhubaodai.core.engine import DailyBalance
from zhubaodai.core.engine import GUARANTEE
from zhubaodai.core.engine import RISK
from zhubaodai.core.engine import analyse
from zhubaodai.core.money import ZERO
from zhubaodai.core.money import half_up
from zhubaodai.core.money import percent
from zhubaodai.core.money import yuan
from zhubaodai.core.rules import ROLES
from zhubaodai.core.rules import Rulebook
from zhubaodai.core.rules import RulesError
from zhubaodai.core.rules import load_rules

ONE_DAY = datetime.timedelta(days=1)
PROJECT_RULES = Path(__file__).resolve().parent.parent / "rules.yaml"
DEFAULT_START = datetime.date(2022, 1, 1)
DEFAULT_END = datetime.date(2025, 12, 31)

#: Corporate demand-deposit rates of the cooperating bank (annual, by effective date),
#: used only to make a plausible bank interest figure (积数 × rate / 360). They follow the
#: large banks' published cuts approximately; the pool's rules do not depend on them.
DEMAND_DEPOSIT_RATES: tuple[tuple[datetime.date, Decimal], ...] = (
    (datetime.date(2015, 10, 24), Decimal("0.0035")),
    (datetime.date(2022, 9, 15), Decimal("0.0025")),
    (datetime.date(2023, 6, 8), Decimal("0.0020")),
    (datetime.date(2024, 7, 25), Decimal("0.0015")),
    (datetime.date(2024, 10, 18), Decimal("0.0010")),
    (datetime.date(2025, 5, 20), Decimal("0.0005")),
)
INTEREST_MONTHS = (3, 6, 9, 12)
SETTLEMENT_DAY = 20  # the bank settles on the 20th and credits on the 21st
QUARTER_NAMES = {1: "一", 2: "二", 3: "三", 4: "四"}


class GenerationError(Exception):
    """A ledger cannot be generated as asked; the message is for the user (Chinese)."""


# --------------------------------------------------------------------------------------
# Dates


def cn_date(day: datetime.date) -> str:
    """2024-03-05 -> '2024年3月5日'."""
    return f"{day.year}年{day.month}月{day.day}日"


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later, or the month's last day where it has no such day
    (so a 12-month term ends on the anniversary at the latest)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return datetime.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError(day)


def quarter_of(day: datetime.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


class Workdays:
    """Chinese working days (statutory holidays and make-up days), from chinese-calendar.

    Years the calendar does not know are an error, never a weekday guess.
    """

    def __init__(self) -> None:
        import chinese_calendar

        days: list[int] = []
        years: list[int] = []
        for year in range(2004, 2101):
            try:
                chinese_calendar.is_workday(datetime.date(year, 1, 1))
            except NotImplementedError:
                if years:
                    break
                continue
            years.append(year)
            day = datetime.date(year, 1, 1)
            while day.year == year:
                if chinese_calendar.is_workday(day):
                    days.append(day.toordinal())
                day += ONE_DAY
        if not years:
            raise GenerationError("chinese-calendar 不含任何年份的节假日安排")
        self.first_year, self.last_year = years[0], years[-1]
        self._days = days

    def _check(self, day: datetime.date) -> None:
        if not self.first_year <= day.year <= self.last_year:
            raise GenerationError(
                f"工作日历只含 {self.first_year}—{self.last_year} 年，无法推算 {day} 前后的工作日"
            )

    def is_workday(self, day: datetime.date) -> bool:
        self._check(day)
        o = day.toordinal()
        i = bisect.bisect_left(self._days, o)
        return i < len(self._days) and self._days[i] == o

    def on_or_after(self, day: datetime.date) -> datetime.date:
        self._check(day)
        i = bisect.bisect_left(self._days, day.toordinal())
        return datetime.date.fromordinal(self._days[i])

    def add(self, day: datetime.date, n: int) -> datetime.date:
        """The n-th working day after ``day`` (counted from the next day); n < 0 counts
        back; n == 0 is ``day`` itself."""
        if n == 0:
            return day
        self._check(day)
        o = day.toordinal()
        if n > 0:
            i = bisect.bisect_right(self._days, o) + n - 1
        else:
            i = bisect.bisect_left(self._days, o) + n
        if not 0 <= i < len(self._days):
            raise GenerationError(f"工作日历只含 {self.first_year}—{self.last_year} 年，无法推算 {day} 前后的工作日")
        return datetime.date.fromordinal(self._days[i])


_WORKDAYS: Workdays | None = None


def workdays() -> Workdays:
    global _WORKDAYS
    if _WORKDAYS is None:
        _WORKDAYS = Workdays()
    return _WORKDAYS


# --------------------------------------------------------------------------------------
# Text of directives


@dataclass(frozen=True)
class Number:
    """A bare number in metadata (a rate, a score), as opposed to a CNY amount."""

    value: Decimal


def amount_text(value: Decimal) -> str:
    return f"{value:.2f} CNY"


def meta_value(value: Any) -> str:
    """A metadata value as Beancount reads it."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, Decimal):
        return amount_text(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Number):
        return str(value.value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def meta_lines(meta: Mapping[str, Any]) -> str:
    return "".join(f"  {key}: {meta_value(value)}\n" for key, value in meta.items() if value is not None)


def comment_lines(note: str | None) -> str:
    if not note:
        return ""
    return "".join(f"; {line}\n" if line else ";\n" for line in note.split("\n"))


# --------------------------------------------------------------------------------------
# Program styles: who is who in each program (names used in payees, letters, comments).


@dataclass(frozen=True)
class Style:
    """The parties and document styles of one program."""

    code: str
    name: str  # short Chinese name of the program
    bank: str  # the cooperating bank's branch (payee of interest, compensation, recovery)
    manager: str  # the managing body that approves loans and confirms overdue facts
    funder: str  # who injects the risk fund
    region: str  # prefix of enterprise names
    loan_prefix: str
    enterprise_prefix: str
    approval_issuer: str  # letter issuer code of loan approvals
    confirm_issuer: str
    bank_issuer: str
    contract_style: str  # format with year and number
    approver: str  # who approves a claim
    notice_days: int  # working days the bank has to notify a disbursement
    committee_style: str
    region_code: str  # administrative division code in credit codes


STYLES: dict[str, Style] = {
    "CQGX": Style(
        code="CQGX",
        name="重庆高新区",
        bank="建设银行重庆高新区支行",
        manager="重庆高新区创新服务中心",
        funder="重庆高新区创新服务中心",
        region="重庆",
        loan_prefix="CQ",
        enterprise_prefix="E-CQ",
        approval_issuer="高新创服函",
        confirm_issuer="高新创服确",
        bank_issuer="建行高新区支行函",
        contract_style="建渝高新{year}流借字第{n:03d}号",
        approver="高新区管委会分管领导",
        notice_days=5,
        committee_style="高新区管委会{year}年第{n}次办公会议纪要",
        region_code="500107",
    ),
    "WLHT": Style(
        code="WLHT",
        name="乌兰浩特市",
        bank="建设银行乌兰浩特分行",
        manager="乌兰浩特市金融工作办公室",
        funder="乌兰浩特市财政局",
        region="乌兰浩特市",
        loan_prefix="WL",
        enterprise_prefix="E-WL",
        approval_issuer="乌金融办备",
        confirm_issuer="乌助保贷办确",
        bank_issuer="建行乌兰浩特分行函",
        contract_style="建蒙乌{year}流借字第{n:03d}号",
        approver="市金融办",
        notice_days=3,
        committee_style="乌兰浩特市助保贷工作领导小组{year}年第{n}次会议纪要",
        region_code="152201",
    ),
}

def derived_style(code: str, name: str) -> Style:
    """The parties and document styles of a program the generator has no curated style for,
    from its code and name in rules.yaml alone (cosmetic: payees, letter issuers, enterprise
    names; nothing a rule checks). The region is the name up to its first 市/区/县/州/旗
    ("白银市小微企业…" -> "白银市"); the division code in credit codes is invented (99xxxx)."""
    region = code
    for i, ch in enumerate(name):
        if ch in "市区县州旗" and i > 0:
            region = name[: i + 1]
            break
    digits = sum(ord(c) * (i + 1) for i, c in enumerate(code)) % 10000
    return Style(
        code=code,
        name=region,
        bank=f"合作银行{region}支行",
        manager=f"{region}助保贷业务主管部门",
        funder=f"{region}财政局",
        region=region,
        loan_prefix=code,
        enterprise_prefix=f"E-{code}",
        approval_issuer=f"{code}贷审函",
        confirm_issuer=f"{code}逾期确认函",
        bank_issuer=f"合作银行{code}函",
        contract_style=code + "流借{year}字第{n:03d}号",
        approver=f"{region}助保贷业务主管部门",
        notice_days=5,
        committee_style=region + "助保贷工作领导小组{year}年第{n}次会议纪要",
        region_code=f"99{digits:04d}",
    )


_DERIVED: dict[str, Style] = {}


def style_of(code: str, name: str = "") -> Style:
    """The curated style of CQGX/WLHT, else one derived from the program's code and name."""
    found = STYLES.get(code) or _DERIVED.get(code)
    if found is None:
        found = _DERIVED[code] = derived_style(code, name)
    return found


_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code(region_code: str, serial: int) -> str:
    """A well-formed (invented) unified social credit code, check digit per GB 32100."""
    body = "91" + region_code
    n = serial * 7919 + 104729
    org = ""
    for _ in range(9):
        n, r = divmod(n, 31)
        org = _CREDIT_CHARS[(r + len(org) * 7) % 31] + org
    body += "MA" + org[2:]
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(body, _CREDIT_WEIGHTS))
    check = (31 - total % 31) % 31
    return body + _CREDIT_CHARS[check]


@dataclass(frozen=True)
class LetterRef:
    """A document number still to be given: the book numbers it when it writes the
    directive, so each issuer's numbers run in date order through the year."""

    issuer: str


class Letters:
    """Document numbers: '高新创服函〔2024〕12号', numbered per issuer and year."""

    def __init__(self, start: int = 1) -> None:
        self._next: dict[tuple[str, int], int] = {}
        self._start = start

    def next(self, issuer: str, year: int, step: int = 1) -> str:
        n = self._next.get((issuer, year), self._start)
        self._next[(issuer, year)] = n + step
        return f"{issuer}〔{year}〕{n}号"

    def resolve(self, value: Any, day: datetime.date) -> Any:
        return self.next(value.issuer, day.year) if isinstance(value, LetterRef) else value

    def number(self, key: str, year: int) -> int:
        n = self._next.get((key, year), 1)
        self._next[(key, year)] = n + 1
        return n


# --------------------------------------------------------------------------------------
# Where text goes.


class Sink(Protocol):
    def write(self, code: str | None, day: datetime.date, text: str, section: str = "journal") -> None:
        """Write one directive (with its comment) for ``code`` on ``day`` (the day that
        decides the file, e.g. a statement's date for its balance assertion)."""


class StreamSink:
    """Everything into one stream, directives separated by blank lines."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, code: str | None, day: datetime.date, text: str, section: str = "journal") -> None:
        self.stream.write(text)
        self.stream.write("\n")


# --------------------------------------------------------------------------------------
# The bookkeeper.


@dataclass
class FundState:
    """What the book has written for one program so far."""

    funds: dict[str, DailyBalance] = field(
        default_factory=lambda: {GUARANTEE: DailyBalance(), RISK: DailyBalance()}
    )
    last_interest_end: datetime.date | None = None
    injected: Decimal = ZERO


@dataclass(frozen=True)
class InterestCredit:
    day: datetime.date
    start: datetime.date
    end: datetime.date
    total: Decimal
    guarantee: Decimal
    risk: Decimal


class Book:
    """Writes a pool's books one directive at a time, keeping the funds as the engine does."""

    def __init__(self, rulebook: Rulebook, sink: Sink, *, comments: bool = True) -> None:
        self.rulebook = rulebook
        self.sink = sink
        self.comments = comments
        self.state = {code: FundState() for code in rulebook.programs}
        self.transactions = 0
        self.directives = 0
        self.letters = Letters()
        #: loan id -> texts written about it (kept for loans whose recovery will be
        #: distributed by the engine).
        self._watched: dict[str, list[str]] = {}

    # ---- basics

    def program(self, code: str):
        return self.rulebook.programs[code]

    def account(self, code: str, role: str) -> str:
        return self.program(code).accounts[role]

    def style(self, code: str) -> Style:
        return style_of(code, self.program(code).name)

    def balance_of(self, code: str, fund: str) -> Decimal:
        return self.state[code].funds[fund].balance

    def watch(self, loan: str) -> None:
        self._watched.setdefault(loan, [])

    def unwatch(self, loan: str) -> None:
        self._watched.pop(loan, None)

    def _emit(
        self,
        code: str | None,
        day: datetime.date,
        text: str,
        note: str | None,
        *,
        loan: str | None = None,
        section: str = "journal",
        transaction: bool = False,
    ) -> None:
        if self.comments and note:
            text = comment_lines(note) + text
        self.sink.write(code, day, text, section)
        self.directives += 1
        if transaction:
            self.transactions += 1
        if loan is not None and loan in self._watched:
            self._watched[loan].append(text)

    def resolved(self, meta: Mapping[str, Any], day: datetime.date) -> Mapping[str, Any]:
        """``meta`` with its letter numbers given (see :class:`LetterRef`)."""
        if not any(isinstance(v, LetterRef) for v in meta.values()):
            return meta
        return {k: self.letters.resolve(v, day) for k, v in meta.items()}

    def param(self, code: str, rule_id: str, name: str, day: datetime.date) -> Any:
        """A rule parameter in force on ``day`` (None where the program lacks the rule)."""
        rule = self.program(code).rules.get(rule_id)
        return None if rule is None else rule.param(name, day)

    def transaction(
        self,
        day: datetime.date,
        code: str,
        payee: str,
        narration: str,
        postings: Sequence[tuple[str, Decimal]],
        *,
        links: Sequence[str] = (),
        meta: Mapping[str, Any] | None = None,
        note: str | None = None,
        loan: str | None = None,
    ) -> None:
        """Write a transaction and feed its fund legs to the daily balances."""
        head = f'{day} * "{payee}" "{narration}"'
        for link in links:
            head += f" ^{link}"
        lines = [head + "\n", meta_lines(self.resolved(meta or {}, day))]
        for account, number in postings:
            lines.append(f"  {account:<38}{number:>16.2f} CNY\n")
        self._emit(code, day, "".join(lines), note, loan=loan, transaction=True)
        accounts = self.program(code).accounts
        for account, number in postings:
            if account == accounts.get("guarantee_fund"):
                self.state[code].funds[GUARANTEE].add(day, number)
            elif account == accounts.get("risk_fund"):
                self.state[code].funds[RISK].add(day, number)

    def register(
        self,
        day: datetime.date,
        kind: str,
        event: str,
        subject: str,
        meta: Mapping[str, Any],
        *,
        code: str | None,
        note: str | None = None,
        loan: str | None = None,
    ) -> None:
        """Write a register directive (``custom "loan"|"enterprise"|"program"``)."""
        text = f'{day} custom "{kind}" "{event}" "{subject}"\n' + meta_lines(self.resolved(meta, day))
        self._emit(code, day, text, note, loan=loan)

    # ---- accounts and program

    def open_accounts(
        self,
        code: str,
        day: datetime.date,
        note: str | None = None,
        extra: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Open every account the program maps to a role (the pool parent first), then
        ``extra`` (account, Chinese label) pairs."""
        accounts = self.program(code).accounts
        lines = []
        for role, account in accounts.items():
            lines.append(f"{day} open {account:<38} CNY  ; {ROLES.get(role, role)}\n")
        for account, label in extra:
            lines.append(f"{day} open {account:<38} CNY  ; {label}\n")
        text = "".join(lines)
        if self.comments and note:
            text = comment_lines(note) + text
        self.sink.write(code, day, text, "accounts")
        self.directives += len(lines)

    def program_open(self, code: str, day: datetime.date, agreement: str, note: str | None = None, **meta: Any) -> None:
        self.register(day, "program", "open", code, {"agreement": agreement, **meta}, code=code, note=note)

    def enterprise(
        self, code: str, enterprise: str, day: datetime.date, name: str, note: str | None = None, **attrs: Any
    ) -> None:
        self.register(day, "enterprise", "register", enterprise, {"program": code, "name": name, **attrs}, code=code, note=note)

    # ---- cash

    def fee_amount(self, code: str, event: str, base: Decimal, event_day: datetime.date) -> tuple[Decimal, Decimal]:
        """(rate, fee due) for a contract, increase or renewal of ``base`` on ``event_day``."""
        rate = self.param(code, fees.EVENT_RULES[event], "rate", event_day)
        if rate is None:
            return ZERO, ZERO
        return rate, fees.fee_due(base, rate)

    def fee(
        self,
        day: datetime.date,
        code: str,
        loan: str,
        payer: str,
        base: Decimal,
        event: str,
        event_day: datetime.date,
        note: str | None = None,
    ) -> Decimal:
        """The enterprise pays the fee due for ``event`` (contract/increase/renewal)."""
        rate, due = self.fee_amount(code, event, base, event_day)
        if due == 0:
            return due
        label = {"contract": "贷款金额", "increase": "增加金额", "renewal": "续贷金额"}[event]
        what = {"contract": "缴纳助保金", "increase": "补缴助保金（增加贷款金额）", "renewal": "缴纳助保金（续贷年度）"}[event]
        self.transaction(
            day,
            code,
            payer,
            f"{what}：{label} {yuan(base)} 元 × {percent(rate)}",
            [(self.account(code, "guarantee_fund"), due), (self.account(code, "fee_income"), -due)],
            links=(loan,),
            note=note,
            loan=loan,
        )
        return due

    def injection(
        self,
        day: datetime.date,
        code: str,
        amount: Decimal,
        narration: str,
        note: str | None = None,
        payer: str | None = None,
        letter: str | None = None,
    ) -> None:
        """The government injects money into the risk fund."""
        self.transaction(
            day,
            code,
            payer or self.style(code).funder,
            narration,
            [(self.account(code, "risk_fund"), amount), (self.account(code, "injection"), -amount)],
            meta={"letter": letter} if letter else None,
            note=note,
        )
        self.state[code].injected += amount

    def bank_interest(self, code: str, start: datetime.date, end: datetime.date) -> Decimal:
        """The bank's figure: the account's 积数 (from the funds' daily balances) at the
        demand-deposit rate of each day, over 360, to the fen."""
        funds = self.state[code].funds
        total = Decimal(0)
        dates = [d for d, _ in DEMAND_DEPOSIT_RATES]
        i = max(bisect.bisect_right(dates, start) - 1, 0)
        seg_start = start
        while seg_start <= end:
            rate = DEMAND_DEPOSIT_RATES[i][1]
            nxt = DEMAND_DEPOSIT_RATES[i + 1][0] if i + 1 < len(DEMAND_DEPOSIT_RATES) else None
            seg_end = end if nxt is None or nxt > end else nxt - ONE_DAY
            jishu = funds[GUARANTEE].jishu(seg_start, seg_end) + funds[RISK].jishu(seg_start, seg_end)
            total += jishu * rate / 360
            seg_start = seg_end + ONE_DAY
            i += 1
        return half_up(total)

    def interest(self, day: datetime.date, code: str, note: str | None = None) -> InterestCredit | None:
        """The bank's quarterly interest credit on ``day``, split between the funds by
        their 积数 over the period (:func:`zhubaodai.checks.pool.split_interest`)."""
        state = self.state[code]
        g, r = state.funds[GUARANTEE], state.funds[RISK]
        end = day - ONE_DAY
        if state.last_interest_end is not None:
            start = state.last_interest_end + ONE_DAY
        else:
            firsts = [d for d in (g.first_day, r.first_day) if d is not None]
            if not firsts:
                return None
            start = min(firsts)
        if end < start:
            return None
        jg, jr = g.jishu(start, end), r.jishu(start, end)
        if jg + jr <= 0:
            return None
        total = self.bank_interest(code, start, end)
        if total <= 0:
            return None
        part_g, part_r = pool.split_interest(total, jg, jr)
        accounts = self.program(code).accounts
        postings = []
        if part_g:
            postings.append((accounts["guarantee_fund"], part_g))
        if part_r:
            postings.append((accounts["risk_fund"], part_r))
        if part_g:
            postings.append((accounts["interest_guarantee"], -part_g))
        if part_r:
            postings.append((accounts["interest_risk"], -part_r))
        y, q = quarter_of(end)
        if note is None and self.comments:
            note = (
                f"计息期 {start} 至 {end}：助保金积数 {yuan(jg)}，风险补偿金积数 {yuan(jr)}，"
                f"孳息 {yuan(total)} 元按积数分配"
            )
        self.transaction(
            day,
            code,
            self.style(code).bank,
            f"{y}年第{QUARTER_NAMES[q]}季度专户结息",
            postings,
            meta={"period_end": end},
            note=note,
        )
        state.last_interest_end = end
        return InterestCredit(day, start, end, total, part_g, part_r)

    def plan_compensation(self, day: datetime.date, code: str, due: Decimal) -> Waterfall:
        """The waterfall for ``due`` with the fund balances as written so far."""
        share = self.param(code, "comp.waterfall", "risk_share", day)
        if share is None:
            share = Decimal("0.5")
        return waterfall.plan_waterfall(
            due, self.balance_of(code, GUARANTEE), self.balance_of(code, RISK), share
        )

    def compensation(
        self, day: datetime.date, code: str, loan: str, plan: Waterfall, note: str | None = None
    ) -> None:
        """Pay a compensation as planned: guarantee fund first, the risk fund's share of
        the shortfall, the bank's share recorded as ``bank_share``."""
        accounts = self.program(code).accounts
        postings = []
        if plan.guarantee:
            postings.append((accounts["compensation_guarantee"], plan.guarantee))
        if plan.risk:
            postings.append((accounts["compensation_risk"], plan.risk))
        if plan.guarantee:
            postings.append((accounts["guarantee_fund"], -plan.guarantee))
        if plan.risk:
            postings.append((accounts["risk_fund"], -plan.risk))
        if not postings:
            return
        meta = {"bank_share": plan.bank} if plan.risk else {}
        if plan.shortfall == 0:
            how = "助保金全额代偿"
        else:
            how = "助保金付尽，不足部分由风险补偿金与银行各担一半"
        self.transaction(
            day,
            code,
            self.style(code).bank,
            f"代偿 {loan}（{how}）",
            postings,
            links=(loan,),
            meta=meta,
            note=note,
            loan=loan,
        )

    def recovery_parts(self, loan: str, event_text: str) -> waterfall.Recovery:
        """How the engine distributes a recovery: analyse what has been written about the
        loan (its register events and compensations) plus the recovery event."""
        texts = self._watched.get(loan)
        if texts is None:
            raise GenerationError(f"贷款 {loan} 未登记为追踪对象，无法按引擎分配追偿款")
        entries, errors, _ = parser.parse_string("\n".join(texts + [event_text]))
        if errors:
            raise GenerationError(f"贷款 {loan} 的分录无法解析：{errors[0].message}")
        entries.sort(key=entry_sortkey)
        analysis = analyse(entries, self.rulebook)
        found = [r for r in analysis.records.recoveries if r.loan.id == loan]
        if not found:
            raise GenerationError(f"贷款 {loan} 的追偿未能分配（尚无代偿记录）")
        return found[-1]

    def recovery_cash(
        self,
        day: datetime.date,
        code: str,
        loan: str,
        parts: Mapping[str, Decimal],
        note: str | None = None,
    ) -> None:
        """The pool's share of a recovery arrives (risk fund first, then guarantee fund)."""
        accounts = self.program(code).accounts
        risk, guarantee = parts.get("risk", ZERO), parts.get("guarantee", ZERO)
        postings = []
        if risk:
            postings.append((accounts["risk_fund"], risk))
        if guarantee:
            postings.append((accounts["guarantee_fund"], guarantee))
        if risk:
            postings.append((accounts["recovery_risk"], -risk))
        if guarantee:
            postings.append((accounts["recovery_guarantee"], -guarantee))
        if not postings:
            return
        whom = "、".join(n for n, v in (("风险补偿金", risk), ("助保金", guarantee)) if v)
        self.transaction(
            day, code, self.style(code).bank, f"追偿款补回{whom} {loan}", postings, links=(loan,), note=note, loan=loan
        )

    def balance(self, code: str, statement_day: datetime.date, note: str | None = None) -> Decimal:
        """Assert the special account's balance as the bank statement of ``statement_day``
        shows it (dated the next day: Beancount checks a balance at the start of its day)."""
        funds = self.state[code].funds
        amount = funds[GUARANTEE].at(statement_day) + funds[RISK].at(statement_day)
        if note is None and self.comments:
            note = f"{cn_date(statement_day)}银行对账单余额（余额断言记于次日，即当日日终余额）"
        text = f"{statement_day + ONE_DAY} balance {self.account(code, 'pool'):<30} {amount:>16.2f} CNY\n"
        self._emit(code, statement_day, text, note)
        return amount


# --------------------------------------------------------------------------------------
# Loans: a specification, expanded into dated steps.


@dataclass(frozen=True)
class Increase:
    day: datetime.date
    amount: Decimal
    letter: str | LetterRef | None = None
    contract_no: str | None = None
    fee_lead: int = 1  # working days before ``day`` the extra fee is paid
    note: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)  # e.g. collateral (WLHT)


@dataclass(frozen=True)
class Repayment:
    day: datetime.date
    amount: Decimal
    note: str | None = None


@dataclass(frozen=True)
class Renewal:
    """At maturity, the loan is renewed (续贷) for another term."""

    term_months: int
    letter: str | LetterRef
    repay_first: Decimal = ZERO  # principal repaid at maturity before renewing
    notice_lag: int = 2  # working days after the renewal the bank notifies
    fee_lead: int = 2  # working days before the renewal a renewal fee is paid (where due)
    note: str | None = None
    rate: Decimal | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)  # e.g. collateral (WLHT)


@dataclass(frozen=True)
class RecoverySpec:
    after_days: int  # days after the compensation
    letter: str | LetterRef
    costs: Decimal
    penalty: Decimal = ZERO
    recovered: Decimal | None = None  # None: decided when it happens (see fraction)
    fraction: Decimal = Decimal("0.5")  # of what the pool paid, on top of the bank's share
    cash_lag: int = 2  # working days until the pool's share arrives
    note: str | None = None
    cash_note: str | None = None


@dataclass(frozen=True)
class DefaultSpec:
    """At maturity the loan falls overdue, is compensated and maybe partly recovered."""

    interest: Decimal
    confirm_letter: str | LetterRef
    claim_letter: str | LetterRef
    compound: Decimal = ZERO
    penalty: Decimal = ZERO
    overdue_after: int = 1  # days after maturity
    confirm_lag: int = 2  # working days after the overdue (CQ: the facts confirmed)
    comp_lag: int = 6  # CQ: working days after confirmation; WLHT: after one month overdue
    recovery: RecoverySpec | None = None
    blacklist: str | None = None  # reason, if the enterprise is blacklisted
    blacklist_after: int = 20  # working days after the compensation
    notes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoanSpec:
    """A loan's whole life as the register will show it."""

    id: str
    program: str
    enterprise: str
    payer: str  # the enterprise's name (payee line of its fee payments)
    amount: Decimal
    approval: datetime.date
    letter: str | LetterRef
    term_months: int
    rate: Decimal
    contract_no: str
    purpose: str = "流动资金"
    approval_meta: Mapping[str, Any] = field(default_factory=dict)
    contract_meta: Mapping[str, Any] = field(default_factory=dict)  # collateral, joint_liability
    fee_lag: int = 2  # working days from approval to fee payment
    contract_lag: int = 1  # from fee payment to contract
    disburse_lag: int = 1  # from contract to disbursement
    notice_lag: int = 2  # from disbursement to the bank's notice
    increases: tuple[Increase, ...] = ()
    repayments: tuple[Repayment, ...] = ()
    renewals: tuple[Renewal, ...] = ()
    #: "repaid" at maturity; "early": settled on the day of the last repayment listed;
    #: "open": still running when the books end; or a default.
    outcome: str | DefaultSpec = "repaid"
    notes: Mapping[str, str] = field(default_factory=dict)

    @property
    def defaults(self) -> bool:
        return isinstance(self.outcome, DefaultSpec)


@dataclass(frozen=True, slots=True)
class Step:
    day: datetime.date
    kind: str
    data: Mapping[str, Any]
    note: str | None = None
    order: int = 0  # tie-break among steps of different loans on the same day
    transactions: int = 0  # how many transactions the step writes


def loan_steps(spec: LoanSpec, book: Book, cal: Workdays, end: datetime.date) -> list[Step]:
    """The loan's dated steps up to ``end`` (later steps are left out, so a ledger cut
    at ``end`` stays consistent: no recovery event without its cash, and so on).
    ``book`` says which renewals cost a fee (rules.yaml's fee.renewal rate)."""
    code = spec.program
    notes = spec.notes
    steps: list[Step] = []
    fee_day = cal.add(spec.approval, spec.fee_lag)
    contract_day = cal.add(fee_day, spec.contract_lag)
    disb_day = cal.add(contract_day, spec.disburse_lag)
    maturity = add_months(disb_day, spec.term_months)
    notice = cal.add(disb_day, spec.notice_lag)
    approval_meta = {
        "program": code,
        "enterprise": spec.enterprise,
        "amount": spec.amount,
        "letter": spec.letter,
        "term_months": spec.term_months,
        "purpose": spec.purpose,
        **spec.approval_meta,
    }
    steps.append(Step(spec.approval, "approval", approval_meta, notes.get("approval")))
    steps.append(
        Step(fee_day, "fee", {"event": "contract", "base": spec.amount, "event_day": contract_day}, notes.get("fee"), transactions=1)
    )
    steps.append(
        Step(
            contract_day,
            "contract",
            {"amount": spec.amount, "contract_no": spec.contract_no, "maturity": maturity, "rate": Number(spec.rate),
             **spec.contract_meta},
            notes.get("contract"),
        )
    )
    steps.append(Step(disb_day, "disbursement", {"amount": spec.amount, "maturity": maturity, "notice_date": notice}, notes.get("disbursement")))
    principal = spec.amount
    dated: list[tuple[datetime.date, int, Step]] = []
    for inc in spec.increases:
        pay = cal.add(inc.day, -inc.fee_lead) if inc.fee_lead else inc.day
        dated.append((pay, 0, Step(pay, "fee", {"event": "increase", "base": inc.amount, "event_day": inc.day}, None, transactions=1)))
        meta = {"amount": inc.amount, "contract_no": inc.contract_no, "letter": inc.letter, **inc.meta}
        dated.append((inc.day, 1, Step(inc.day, "increase", meta, inc.note)))
        principal += inc.amount
    for rep in spec.repayments:
        dated.append((rep.day, 2, Step(rep.day, "repayment", {"amount": rep.amount}, rep.note)))
        principal -= rep.amount
    dated.sort(key=lambda t: (t[0], t[1]))
    steps.extend(s for _, _, s in dated)
    for renewal in spec.renewals:
        if maturity > end:
            break
        if renewal.repay_first:
            steps.append(Step(maturity, "repayment", {"amount": renewal.repay_first}, None))
            principal -= renewal.repay_first
        _, due = book.fee_amount(code, "renewal", principal, maturity)
        new_maturity = add_months(maturity, renewal.term_months)
        if due:
            pay = cal.add(maturity, -renewal.fee_lead)
            steps.append(Step(pay, "fee", {"event": "renewal", "base": principal, "event_day": maturity}, None, transactions=1))
        meta = {
            "amount": principal,
            "maturity": new_maturity,
            "notice_date": cal.add(maturity, renewal.notice_lag),
            "letter": renewal.letter,
            "rate": Number(renewal.rate) if renewal.rate is not None else None,
            **renewal.meta,
        }
        steps.append(Step(maturity, "renewal", meta, renewal.note))
        maturity = new_maturity
    outcome = spec.outcome
    if outcome == "early" and spec.repayments:
        steps.append(Step(spec.repayments[-1].day, "settlement", {}, notes.get("settlement")))
    elif outcome == "repaid" and maturity <= end:
        steps.append(Step(maturity, "repayment", {"amount": principal}, notes.get("repaid")))
        steps.append(Step(maturity, "settlement", {}, notes.get("settlement")))
    elif isinstance(outcome, DefaultSpec) and maturity <= end:
        steps.extend(_default_steps(spec, outcome, principal, maturity, cal, end))
    steps.sort(key=lambda s: s.day)  # stable: same-day steps keep the order above
    return [s for s in steps if s.day <= end]


def _default_steps(
    spec: LoanSpec, d: DefaultSpec, principal: Decimal, maturity: datetime.date, cal: Workdays, end: datetime.date
) -> list[Step]:
    code = spec.program
    style = STYLES[code]
    overdue = maturity + datetime.timedelta(days=d.overdue_after)
    steps: list[Step] = []
    claim_meta: dict[str, Any] = {"principal": principal, "interest": d.interest}
    if d.compound:
        claim_meta["compound"] = d.compound
    if d.penalty:
        claim_meta["penalty"] = d.penalty
    overdue_meta = {"principal": principal, "interest": d.interest}
    if code == "WLHT":
        # 一个月后 3 个工作日内代偿；代偿日随逾期日单调，先逾期者先代偿。
        month_on = add_months(overdue, 1)
        confirm = cal.add(overdue, d.confirm_lag)
        claim_day = cal.on_or_after(month_on)
        comp_day = cal.add(month_on, min(d.comp_lag, 3))
        if claim_day >= comp_day:
            claim_day = cal.add(comp_day, -1)
    else:
        confirm = cal.add(overdue, d.confirm_lag)
        claim_day = cal.add(confirm, 1)
        comp_day = cal.add(confirm, max(d.comp_lag, 2))
    approved = cal.add(comp_day, -1)
    claim_meta["letter"] = d.claim_letter
    claim_meta["approval"] = f"{style.approver}审核同意（{approved}）"
    notes = d.notes
    steps.append(Step(overdue, "overdue", overdue_meta, notes.get("overdue")))
    steps.append(Step(confirm, "confirmation", {"letter": d.confirm_letter}, notes.get("confirmation")))
    steps.append(Step(claim_day, "claim", claim_meta, notes.get("claim")))
    steps.append(Step(comp_day, "compensation", {}, notes.get("compensation"), order=overdue.toordinal(), transactions=1))
    if d.blacklist:
        steps.append(Step(cal.add(comp_day, d.blacklist_after), "blacklist", {"reason": d.blacklist}, notes.get("blacklist")))
    r = d.recovery
    if r is not None:
        rec_day = comp_day + datetime.timedelta(days=r.after_days)
        cash_day = cal.add(rec_day, r.cash_lag) if rec_day <= end else rec_day
        if cash_day <= end:
            steps.append(Step(rec_day, "recovery", {"spec": r}, r.note))
            steps.append(Step(cash_day, "recovery_cash", {}, r.cash_note, transactions=1))
    return [s for s in steps if s.day <= end]


def contract_rate(book: Book, code: str, day: datetime.date, spread: Decimal) -> Decimal:
    """A loan rate: the benchmark rules.yaml has in force on ``day`` (loan.rate; 4.35%
    where the program has no such rule) plus ``spread``, at most benchmark × the multiple."""
    bench = book.param(code, "loan.rate", "benchmark", day) or Decimal("0.0435")
    multiple = book.param(code, "loan.rate", "multiple", day) or Decimal("1.2")
    cap = (bench * multiple).quantize(Decimal("0.0001"), rounding=ROUND_DOWN)
    return min(bench + spread, cap)


class LoanRun:
    """One loan being written: its steps and what happened so far."""

    __slots__ = ("spec", "steps", "index", "plan", "parts", "claim", "on_done")

    def __init__(
        self, spec: LoanSpec, steps: list[Step], on_done: Callable[[LoanRun, Step], None] | None = None
    ) -> None:
        self.spec = spec
        self.steps = steps
        self.index = 0
        self.plan: Waterfall | None = None
        self.parts: Mapping[str, Decimal] = {}
        self.claim: Step | None = None
        self.on_done = on_done

    @property
    def transactions(self) -> int:
        """Transactions the steps not yet written will write."""
        return sum(s.transactions for s in self.steps if s is not None)


class Hooks:
    """What the writer of a whole ledger decides while loans run: the committee's
    decision number, and what to do after a compensation (e.g. top up the risk fund)."""

    def __init__(self, book: Book) -> None:
        self.book = book

    def committee(self, code: str, day: datetime.date) -> str:
        n = self.book.letters.number(f"committee-{code}", day.year)
        return self.book.style(code).committee_style.format(year=day.year, n=n)

    def compensated(self, code: str, day: datetime.date, plan: Waterfall) -> None:
        """Called after each compensation is written."""


def run_step(book: Book, run: LoanRun, step: Step, hooks: Hooks | None = None) -> None:
    """Write one step of a loan."""
    hooks = hooks or Hooks(book)
    spec = run.spec
    code = spec.program
    loan = spec.id
    kind = step.kind
    if kind == "approval":
        if spec.defaults:
            book.watch(loan)
        book.register(step.day, "loan", "approval", loan, step.data, code=code, note=step.note, loan=loan)
    elif kind == "fee":
        data = step.data
        book.fee(step.day, code, loan, spec.payer, data["base"], data["event"], data["event_day"], note=step.note)
    elif kind == "compensation":
        d = spec.outcome
        assert isinstance(d, DefaultSpec)
        due = _claim_due(book, code, step.day, d, run)
        plan = book.plan_compensation(step.day, code, due)
        if plan.uncovered > 0 and "comp.escalation" in book.program(code).rules:
            decision = hooks.committee(code, step.day)
            book.register(
                step.day, "loan", "committee", loan, {"decision": decision, "amount": plan.uncovered}, code=code, loan=loan
            )
        book.compensation(step.day, code, loan, plan, note=step.note)
        run.plan = plan
        hooks.compensated(code, step.day, plan)
    elif kind == "recovery":
        r: RecoverySpec = step.data["spec"]
        plan = run.plan
        if r.recovered is not None:
            recovered = r.recovered
        else:
            paid = (plan.guarantee + plan.risk) if plan else ZERO
            bank = plan.bank if plan else ZERO
            recovered = r.costs + r.penalty + bank + half_up(paid * r.fraction)
        meta: dict[str, Any] = {"recovered": recovered, "costs": r.costs}
        if r.penalty:
            meta["penalty"] = r.penalty
        meta["letter"] = book.letters.resolve(r.letter, step.day)
        text = f'{step.day} custom "loan" "recovery" "{loan}"\n' + meta_lines(meta)
        parts = book.recovery_parts(loan, text)
        run.parts = parts.parts
        book.register(step.day, "loan", "recovery", loan, meta, code=code, note=step.note, loan=loan)
    elif kind == "recovery_cash":
        book.recovery_cash(step.day, code, loan, run.parts, note=step.note)
    elif kind == "blacklist":
        book.register(step.day, "enterprise", "blacklist", spec.enterprise, step.data, code=code, note=step.note)
    else:
        book.register(step.day, "loan", kind, loan, step.data, code=code, note=step.note, loan=loan)
    if kind == "claim":
        run.claim = step
    run.steps[run.index] = None  # type: ignore[call-overload]  # written: free it
    run.index += 1
    if run.index >= len(run.steps):
        book.unwatch(loan)
        if run.on_done is not None:
            run.on_done(run, step)


def _claim_due(book: Book, code: str, day: datetime.date, d: DefaultSpec, run: LoanRun) -> Decimal:
    """The amount due under the claim: the components rules.yaml's comp.scope covers."""
    claim = run.claim
    if claim is None:
        raise GenerationError(f"贷款 {run.spec.id} 代偿前没有代偿申请")
    components = book.param(code, "comp.scope", "components", claim.day) or waterfall.DEFAULT_COMPONENTS
    return sum((claim.data.get(c, ZERO) for c in components), ZERO)


# --------------------------------------------------------------------------------------
# The timeline: every step of every loan, and the calendar's own events, in date order.


class Timeline:
    """A heap of dated actions, run in (date, priority, order, insertion) order."""

    BALANCE = 0
    INTEREST = 1
    PROGRAM = 2
    LOAN = 5

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, int, int, Callable[[datetime.date], None]]] = []
        self._seq = 0

    def at(self, day: datetime.date, action: Callable[[datetime.date], None], priority: int = LOAN, order: int = 0) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (day.toordinal(), priority, order, self._seq, action))

    def quarterly(self, book: Book, code: str, start: datetime.date, end: datetime.date, *, balances: bool = True) -> None:
        """Schedule the interest credits (21st of Mar/Jun/Sep/Dec) and the quarter-end
        balance assertions of ``code`` between ``start`` and ``end``."""
        for year in range(start.year, end.year + 1):
            for month in INTEREST_MONTHS:
                credit = datetime.date(year, month, SETTLEMENT_DAY + 1)
                if start < credit <= end:
                    self.at(credit, lambda day, c=code: book.interest(day, c), self.INTEREST)
                if balances:
                    q_end = add_months(datetime.date(year, month, 1), 1) - ONE_DAY
                    if start <= q_end <= end:
                        self.at(q_end + ONE_DAY, lambda day, c=code: book.balance(c, day - ONE_DAY), self.BALANCE)

    def loan(self, book: Book, run: LoanRun, hooks: Hooks | None = None) -> None:
        """Run a loan's steps one after the other (each schedules the next, so the heap
        holds one entry per loan in flight, and a finished loan is freed at once)."""
        if run.steps:
            _LoanAction(self, book, run, hooks).schedule()

    def run(self, until: datetime.date | None = None) -> None:
        limit = until.toordinal() if until else None
        while self._heap:
            if limit is not None and self._heap[0][0] > limit:
                break
            o, _, _, _, action = heapq.heappop(self._heap)
            action(datetime.date.fromordinal(o))

    def __len__(self) -> int:
        return len(self._heap)


class _LoanAction:
    """The timeline's action for a loan's next step (a plain object, not a closure over
    itself, so no reference cycle keeps finished loans alive)."""

    __slots__ = ("timeline", "book", "run", "hooks")

    def __init__(self, timeline: Timeline, book: Book, run: LoanRun, hooks: Hooks | None) -> None:
        self.timeline = timeline
        self.book = book
        self.run = run
        self.hooks = hooks

    def schedule(self) -> None:
        nxt = self.run.steps[self.run.index]
        self.timeline.at(nxt.day, self, Timeline.LOAN, nxt.order)

    def __call__(self, day: datetime.date) -> None:
        run = self.run
        run_step(self.book, run, run.steps[run.index], self.hooks)
        if run.index < len(run.steps):
            self.schedule()


# --------------------------------------------------------------------------------------
# Synthetic ledgers.

_WORDS_A = (
    "华", "瑞", "鼎", "恒", "锦", "嘉", "泰", "诚", "盛", "德", "博", "中", "兴", "宏", "睿", "众",
    "永", "长", "新", "天", "金", "银", "东", "西", "南", "北", "明", "正", "信", "和", "安", "康",
    "鑫", "汇", "同", "志", "启", "丰", "源", "远",
)
_WORDS_B = (
    "达", "通", "科", "创", "宇", "晟", "辰", "驰", "拓", "峰", "联", "捷", "航", "海", "川", "林",
    "祥", "隆", "发", "立", "建", "成", "荣", "茂", "越", "腾", "智", "元", "基", "业", "星", "耀",
    "尚", "远", "凯", "澜", "衡", "益", "信", "宁",
)
_INDUSTRIES = {
    "CQGX": (
        "微电子科技", "智能装备", "生物医药", "新材料科技", "软件技术", "光电科技", "检测技术服务",
        "精密模具", "汽车电子", "环保科技", "医疗器械", "信息技术", "传感技术", "激光科技",
        "数字科技", "电源技术",
    ),
    "WLHT": (
        "农牧科技", "米业", "乳业", "肉类食品", "商贸", "建材", "物流", "农机服务", "饲料",
        "包装制品", "新能源科技", "文化旅游", "医药连锁", "机械修造", "粮油", "服饰",
    ),
}
_INDUSTRIES_GENERIC = (
    "商贸", "科技", "食品", "物流", "建材", "电子科技", "农业开发", "机械制造", "新材料", "医药",
    "服装", "包装制品", "信息技术", "文化传媒", "环保科技", "能源科技",
)
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"


def enterprise_name(code: str, index: int) -> str:
    """An invented enterprise name, distinct for each ``index``."""
    industries = _INDUSTRIES.get(code, _INDUSTRIES_GENERIC)
    n = index
    n, a = divmod(n, len(_WORDS_A))
    n, b = divmod(n, len(_WORDS_B))
    n, k = divmod(n, len(industries))
    word = _WORDS_A[a] + _WORDS_B[b]
    while n:
        # Beyond the first combinations, further characters keep the names distinct.
        n, c = divmod(n - 1, len(_WORDS_A))
        word += _WORDS_A[c]
    suffix = "有限公司" if code == "CQGX" or k % 3 else "有限责任公司"
    return f"{style_of(code).region}{word}{industries[k]}{suffix}"


def controller(index: int) -> str:
    """An invented controlling person ('王某某'), for joint-liability records."""
    return f"{_SURNAMES[index % len(_SURNAMES)]}某某（法定代表人、实际控制人）及配偶"


@dataclass
class GenerationStats:
    """What a generation wrote."""

    transactions: int = 0
    directives: int = 0
    loans: int = 0
    enterprises: int = 0
    defaults: int = 0
    recoveries: int = 0
    start: datetime.date | None = None
    end: datetime.date | None = None
    seconds: float = 0.0


def portable_rules_path(rules: Path, ledger: Path) -> Path:
    """``rules`` as the plugin line should name it: relative to the ledger's folder (the
    plugin reads it so), so the ledger and its rules can move together; absolute only where
    no relative path exists (another drive on Windows)."""
    try:
        return Path(os.path.relpath(rules.resolve(), ledger.resolve().parent))
    except ValueError:
        return rules.resolve()


def _header(title: str, rules: Path | None, note: str) -> str:
    lines = [comment_lines(note), f'option "title" "{title}"\n', 'option "operating_currency" "CNY"\n']
    if rules is not None:
        lines.append(f"plugin \"zhubaodai.plugin\" \"{{'rules': '{rules.as_posix()}'}}\"\n")
    lines.append("\n")
    return "".join(lines)


#: The programs a synthetic ledger holds when none are asked for.
DEFAULT_PROGRAMS = ("CQGX", "WLHT")


def select_programs(rulebook: Rulebook, programs: Sequence[str] | str | None, path: Path) -> tuple[str, ...]:
    """The program codes asked for (``"all"``: every program in rules.yaml, in its order);
    :data:`DEFAULT_PROGRAMS` where none are asked for (they must then be present)."""
    if programs is None:
        missing = [code for code in DEFAULT_PROGRAMS if code not in rulebook.programs]
        if missing:
            raise GenerationError(f"规则文件 {path} 中缺少项目：{'、'.join(missing)}")
        return DEFAULT_PROGRAMS
    if isinstance(programs, str):
        programs = [p.strip() for p in programs.split(",") if p.strip()]
    if list(programs) == ["all"]:
        return tuple(rulebook.programs)
    if not programs:
        raise GenerationError("请给出项目代码（如 CQGX,GSBY）或 all")
    unknown = [code for code in programs if code not in rulebook.programs]
    if unknown:
        raise GenerationError(
            f"规则文件 {path} 中没有项目：{'、'.join(unknown)}（可用：{'、'.join(rulebook.programs)}，或 all）"
        )
    return tuple(dict.fromkeys(programs))


def generate(
    out: str | os.PathLike[str] | TextIO,
    *,
    transactions: int | None = None,
    loans: int | None = None,
    seed: int = 0,
    bare: bool = False,
    force: bool = False,
    rules: str | os.PathLike[str] | None = None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    progress: Callable[[int, int], None] | None = None,
    programs: Sequence[str] | str | None = None,
) -> GenerationStats:
    """Write a synthetic, rule-compliant ledger (see the module docstring).

    ``programs``: a list of codes, or ``"all"``, or None for CQGX and WLHT; they are written
    by :class:`zhubaodai.scripts.synth.ProgramSynthesizer`, which reads everything from
    their blocks in rules.yaml (no code per program). The default end is moved on where a
    program's rules only start late (up to the last year the working-day calendar knows)."""
    if (transactions is None) == (loans is None):
        raise GenerationError("请指定交易笔数（transactions）或贷款笔数（loans）之一")
    size = transactions if transactions is not None else loans
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise GenerationError(f"笔数应为正整数：{size!r}")
    given_end = end
    start = start or DEFAULT_START
    end = end or DEFAULT_END
    if end <= start + datetime.timedelta(days=180):
        raise GenerationError(f"日期区间过短：{start} 至 {end}（至少半年）")
    rules_path = Path(rules).resolve() if rules is not None else PROJECT_RULES
    try:
        rulebook = load_rules(str(rules_path))
    except RulesError as exc:
        raise GenerationError(str(exc)) from None
    except OSError as exc:
        raise GenerationError(f"无法读取规则文件 {rules_path}：{exc.strerror}") from None
    cal = workdays()
    codes = select_programs(rulebook, programs, rules_path)
    from zhubaodai.scripts import synth  # here: synth imports this module

    if given_end is None:
        latest = max(synth.first_day(rulebook.programs[c]) for c in codes)
        end = max(end, min(latest + datetime.timedelta(days=330), datetime.date(cal.last_year, 12, 31)))
    late = [c for c in codes if synth.first_day(rulebook.programs[c]) > end - datetime.timedelta(days=120)]
    if late:
        raise GenerationError(
            f"项目 {'、'.join(late)} 的规则自 "
            f"{max(synth.first_day(rulebook.programs[c]) for c in late)} 起适用，日期区间 {start} 至 {end} 内无法开展业务"
        )
    if start.year < cal.first_year or end.year > cal.last_year:
        raise GenerationError(f"日期区间 {start} 至 {end} 超出工作日历（{cal.first_year}—{cal.last_year} 年）")
    what = f"约 {transactions:,} 笔交易" if transactions is not None else f"{loans:,} 笔贷款"
    note = (
        f"助保贷资金池合成账本：{what}，随机种子 {seed}，{start} 至 {end}。\n"
        "由 scripts/ledgergen.py 生成，供测试与基准测试使用；企业名称均为虚构。"
    )
    title = f"助保贷资金池合成账本（种子 {seed}）"

    def write(stream: TextIO, rules_line: Path | None, folder: Path | None = None) -> GenerationStats:
        stream.write(_header(title, None if bare else rules_line, note))
        stream.write(f'{start} custom "fava-option" "language" "zh"\n\n')
        book = Book(rulebook, StreamSink(stream), comments=False)
        return synth.ProgramSynthesizer(
            book, random.Random(seed), codes, start=start, end=end, transactions=transactions, loans=loans,
            progress=progress, evidence_dir=None if folder is None else folder / synth.EVIDENCE_FOLDER,
        ).run()

    if hasattr(out, "write"):
        needing = [c for c in codes if synth.requires_evidence(rulebook.programs[c])]
        if needing:
            raise GenerationError(
                f"项目 {'、'.join(needing)} 要求附授权文件（evidence.missing），生成器把占位文件写在账本旁的 "
                f"{synth.EVIDENCE_FOLDER}/ 目录：请给出账本文件路径"
            )
        return write(out, rules_path)  # type: ignore[arg-type]
    path = Path(out)
    if path.exists() and not force:
        raise GenerationError(f"文件已存在：{path}；如需覆盖请加 --force")
    if path.is_dir():
        raise GenerationError(f"{path} 是目录，请给出账本文件路径")
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise GenerationError(f"目录不存在：{directory}")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            stats = write(stream, portable_rules_path(rules_path, path), directory)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as an ordinary new file (mkstemp makes it private)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return stats


# --------------------------------------------------------------------------------------
# Command line.


class _ChineseError(click.ClickException):
    """Input the generator cannot use (an existing file without --force, a bad size, a
    rules file it cannot read): one Chinese line, exit status 2 as for every zbd command."""

    exit_code = 2

    def show(self, file: Any = None) -> None:  # noqa: ARG002
        click.echo(f"错误：{self.message}", err=True)


def _progress_printer(enabled: bool) -> Callable[[int, int], None] | None:
    if not enabled:
        return None
    tty = sys.stderr.isatty()
    interval = 0.5 if tty else 5.0  # a log file gets a line every few seconds
    last = [0.0]

    def show(written: int, target: int) -> None:
        now = time.monotonic()
        if now - last[0] < interval and written < target:
            return
        last[0] = now
        share = f"（{written * 100 // target}%）" if target else ""
        text = f"生成中：已写 {written:,} / {target:,} 笔交易{share}"
        if tty:
            sys.stderr.write("\r" + text)
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    return show


@click.command(cls=ChineseCommand, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--transactions", "-n", type=int, default=None, help="交易（资金分录）笔数，如 1000、100000")
@click.option("--loans", type=int, default=None, help="或：贷款笔数")
@click.option("--seed", "-s", type=int, default=0, show_default=True, help="随机种子（同一种子生成的账本逐字节相同）")
@click.option("--output", "-o", "output", required=True, type=click.Path(dir_okay=False), help="输出的账本文件")
@click.option("--bare", is_flag=True, help="不写 plugin 行（基准测试中裸 bean-check 用）")
@click.option("--force", is_flag=True, help="覆盖已存在的文件")
@click.option("--rules", type=click.Path(dir_okay=False), default=None, help="读取并在 plugin 行引用的 rules.yaml（默认本项目的）")
@click.option("--progress/--no-progress", default=None, help="在标准错误输出显示进度（默认：1 万笔以上显示）")
@click.option(
    "--programs",
    default=None,
    metavar="代码,代码|all",
    help="生成哪些项目（rules.yaml 中的代码，逗号分隔；all 为全部项目）。不写时生成 CQGX 与 WLHT",
)
def main(
    transactions: int | None,
    loans: int | None,
    seed: int,
    output: str,
    bare: bool,
    force: bool,
    rules: str | None,
    progress: bool | None,
    programs: str | None,
) -> None:
    """生成符合规则的助保贷合成账本（测试与基准测试用）。"""
    size = transactions if transactions is not None else (loans or 0)
    show = progress if progress is not None else size >= 10000
    try:
        stats = generate(
            output,
            transactions=transactions,
            loans=loans,
            seed=seed,
            bare=bare,
            force=force,
            rules=rules,
            progress=_progress_printer(show),
            programs=programs,
        )
    except GenerationError as exc:
        raise _ChineseError(str(exc)) from None
    except OSError as exc:
        raise _ChineseError(f"无法写入 {output}：{exc.strerror or exc}") from None
    if show and sys.stderr.isatty():
        sys.stderr.write("\n")
    click.echo(
        f"已生成 {output}：{stats.transactions:,} 笔交易，{stats.directives:,} 条指令，"
        f"{stats.loans:,} 笔贷款（{stats.enterprises:,} 家企业，{stats.defaults:,} 笔代偿，"
        f"{stats.recoveries:,} 笔追偿），{stats.start} 至 {stats.end}，用时 {stats.seconds:.1f} 秒",
        err=True,
    )


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy: zhubaodai.scripts.synth works
    # with the classes of zhubaodai.scripts.ledgergen (Number, LetterRef), which a second
    # copy of this module would not recognise.
    from zhubaodai.scripts.ledgergen import main as _main

    _main()
