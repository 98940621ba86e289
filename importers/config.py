"""Import configuration: bank statement layouts (banks.yaml) and one file per pool.

Nothing about a bank's export format or a pool's counterparties lives in code. Two kinds
of YAML file declare it (docs/importing.md documents both):

``banks.yaml`` declares each bank's statement layout: the header text of every column
the importer reads, the labels of the preamble above the header, date formats::

    layouts:
      ccb-flat:
        bank: 中国建设银行
        title: 对公账户明细（平铺导出）
        columns:
          account: 账号
          date: [记账日期, 交易日期]
          debit: 借方发生额（支取）
          credit: 贷方发生额（收入）
          balance: 余额
          serial: 账户明细编号-交易流水号

A pool's import configuration names its program, its special account and the rules that
map each statement row to an event::

    program: CQGX
    rules: ../../rules.yaml
    account: "50050110360000000888"
    classify:
      - event: interest
        direction: credit
        summary: [结息]
      - event: fee
        direction: credit

Whatever is wrong raises :class:`ImportConfigError` naming the file, line and key, in
Chinese; nothing else escapes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from zhubaodai.core.rules import RulesError
from zhubaodai.core.yamlfile import LineDict
from zhubaodai.core.yamlfile import parse_yaml

#: The statement fields a layout may map to columns, with the Chinese name users read.
FIELDS: dict[str, str] = {
    "account": "本方账号",
    "account_name": "本方户名",
    "date": "记账日期",
    "debit": "借方发生额（支出）",
    "credit": "贷方发生额（收入）",
    "amount": "发生额（带符号，负数为支出）",
    "direction": "借贷标志",
    "balance": "余额",
    "currency": "币种",
    "counterparty": "对方户名",
    "counterparty_account": "对方账号",
    "counterparty_bank": "对方开户机构",
    "summary": "摘要",
    "remark": "备注",
    "serial": "流水号",
    # Where a bank prints payer and payee as separate column groups (中国银行), the
    # counterparty depends on the direction: the payer on a credit, the payee on a debit.
    "payer": "付款人名称",
    "payer_account": "付款人账号",
    "payer_bank": "付款人开户行",
    "payee": "收款人名称",
    "payee_account": "收款人账号",
    "payee_bank": "收款人开户行",
}

#: The counterparty fields and the payer/payee columns they come from by direction.
BY_DIRECTION: dict[str, tuple[str, str]] = {
    "counterparty": ("payer", "payee"),
    "counterparty_account": ("payer_account", "payee_account"),
    "counterparty_bank": ("payer_bank", "payee_bank"),
}

#: Preamble values a layout may read from the lines above its header.
PREAMBLE_FIELDS: dict[str, str] = {
    "account": "账号",
    "account_name": "户名",
    "opening_balance": "期初余额",
    "closing_balance": "期末（当前）余额",
    "debit_total": "借方发生总额",
    "debit_count": "借方发生笔数",
    "credit_total": "贷方发生总额",
    "credit_count": "贷方发生笔数",
    "count": "总笔数",
}

#: Events a classification rule may name, with the label shown to users.
EVENTS: dict[str, str] = {
    "fee": "企业缴纳助保金",
    "injection": "注入风险补偿金",
    "interest": "结息（孳息）",
    "compensation": "代偿",
    "recovery": "追偿补回",
    "subsidy": "担保费奖补",
}
#: Events that are payments out of the special account (debits); the others are receipts.
DEBIT_EVENTS = frozenset({"compensation", "subsidy"})

DIRECTIONS = {"credit": "收入（贷方）", "debit": "支出（借方）", "any": "收支均可"}

DEFAULT_DATE_FORMATS = (
    "%Y%m%d",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y年%m月%d日",
)

_ACCOUNT_RE = re.compile(r"^(Assets|Liabilities|Equity|Income|Expenses)(:[A-Z0-9][A-Za-z0-9-]*)+$")

#: The banks.yaml shipped with the project (used when a pool configuration names none).
DEFAULT_BANKS = Path(__file__).with_name("banks.yaml")


class ImportFailure(Exception):
    """Importing cannot go on; ``str()`` is the Chinese message for the user."""


class ImportConfigError(ImportFailure):
    """A configuration file cannot be used: names the file, the line and the key."""

    def __init__(self, filename: str, line: int | None, key: str, message: str) -> None:
        self.filename = filename
        self.line = line
        self.key = key
        self.message = message
        where = f"{filename} 第 {line} 行" if line else filename
        super().__init__(f"导入配置有误：{where}（{key}）：{message}")


def header_key(text: str) -> str:
    """A header cell as compared: NFKC (full-width to half-width), no whitespace, no case."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(text.split()).casefold()


#: Bracket variants banks print around a label's qualifier, all compared as ( ).
_BRACKETS = str.maketrans({"[": "(", "]": ")", "【": "(", "】": ")", "〔": "(", "〕": ")", "〖": "(", "〗": ")",
                           "{": "(", "}": ")", "<": "(", ">": ")", "〈": "(", "〉": ")", "《": "(", "》": ")"})

#: Unit suffixes of an amount label: 余额/元, 发生额（元）, 金额(人民币元), 单位：元.
_UNIT = re.compile(r"/(人民币)?元|\((人民币)?元\)|\(单位:?(人民币)?元\)|/cny|/rmb")

#: A bracket holding only ASCII (the English half of a bilingual label: 交易金额[ Trade Amount ]).
_ASCII_BRACKET = re.compile(r"\([\x20-\x7e]*\)")


def label_key(text: str) -> str:
    """A column or preamble label as compared: :func:`header_key` (NFKC, no whitespace of
    any kind, full-width spaces inside the label too, no case) with every bracket variant as
    ( ), unit suffixes such as /元 or （元） dropped, and the English half of a bilingual
    label dropped (交易金额[ Trade Amount ] is 交易金额). Invisible format characters go too."""
    text = "".join(ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch) != "Cf")
    key = header_key(text).translate(_BRACKETS)
    key = _UNIT.sub("", key)
    stripped = _ASCII_BRACKET.sub("", key)
    key = stripped or key
    return key.rstrip(":：")


def account_key(text: str) -> str:
    """An account number as compared: digits and letters only."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if ch.isalnum())


# --------------------------------------------------------------------------------------
# YAML with line numbers.


#: rules.py's line-keeping mapping and loader serve this configuration too.
_Node = LineDict


def _read_yaml(path: Path) -> _Node:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ImportConfigError(str(path), None, "文件", "找不到配置文件") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportConfigError(str(path), None, "文件", f"无法读取（应为 UTF-8 文本）：{exc}") from None
    try:
        root = parse_yaml(text, str(path))
    except RulesError as exc:
        raise ImportConfigError(exc.filename, exc.line, exc.key, exc.message) from None
    if not isinstance(root, _Node):
        raise ImportConfigError(str(path), 1, "(根)", "文件应为映射（键: 值）")
    return root


class _Checker:
    """Small validation helpers that raise with the file, the line and the key."""

    def __init__(self, filename: str) -> None:
        self.filename = filename

    def fail(self, node: _Node, key: str, message: str, at: Any = None) -> ImportConfigError:
        line = node.line_of(at) if at is not None else node.line
        return ImportConfigError(self.filename, line, key, message)

    def keys(self, node: _Node, path: str, required: tuple[str, ...], optional: tuple[str, ...]) -> None:
        for key in node:
            if key not in required and key not in optional:
                allowed = "、".join((*required, *optional))
                raise self.fail(node, f"{path}.{key}" if path else str(key), f"未知的键；可用：{allowed}", key)
        for key in required:
            if key not in node:
                raise self.fail(node, f"{path}.{key}" if path else key, "缺少此键")

    def mapping(self, parent: _Node, key: Any, path: str) -> _Node:
        value = parent[key]
        if not isinstance(value, _Node):
            raise self.fail(parent, path, "应为映射（键: 值）", key)
        return value

    def text(self, parent: _Node, key: Any, path: str) -> str:
        value = parent[key]
        if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
            raise self.fail(parent, path, "应为非空文字", key)
        return str(value).strip()

    def texts(self, parent: _Node, key: Any, path: str) -> tuple[str, ...]:
        """A text or a list of texts (numbers are taken as their digits)."""
        value = parent[key]
        items = value if isinstance(value, list) else [value]
        out = []
        for item in items:
            if isinstance(item, bool) or not isinstance(item, (str, int)) or not str(item).strip():
                raise self.fail(parent, path, "应为文字或文字列表（不能为空）", key)
            out.append(str(item).strip())
        if not out:
            raise self.fail(parent, path, "列表不能为空", key)
        return tuple(out)

    def account(self, parent: _Node, key: Any, path: str) -> str:
        value = self.text(parent, key, path)
        if not _ACCOUNT_RE.match(value):
            raise self.fail(parent, path, f"不是有效的 Beancount 账户名：{value}", key)
        return value

    def path(self, parent: _Node, key: Any, path: str, base: Path) -> Path:
        return (base / self.text(parent, key, path)).resolve()


# --------------------------------------------------------------------------------------
# banks.yaml


@dataclass(frozen=True)
class Layout:
    """One bank's statement layout: which header text holds which field."""

    name: str
    bank: str
    title: str
    #: field -> accepted header texts (any one of them).
    columns: Mapping[str, tuple[str, ...]]
    #: Fields that may be absent from a file.
    optional: frozenset[str] = frozenset()
    #: Preamble field -> accepted labels.
    preamble: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    date_formats: tuple[str, ...] = DEFAULT_DATE_FORMATS
    #: A row whose first filled cell starts with one of these ends the table.
    footer: tuple[str, ...] = ()
    #: Values of the direction column meaning a debit / a credit.
    debit_marks: tuple[str, ...] = ()
    credit_marks: tuple[str, ...] = ()

    def header_names(self) -> dict[str, tuple[str, ...]]:
        """field -> normalised header texts."""
        return {f: tuple(label_key(n) for n in names) for f, names in self.columns.items()}

    @property
    def signed(self) -> bool:
        return "amount" in self.columns

    @property
    def by_direction(self) -> bool:
        """Payer and payee are separate column groups: the counterparty is the payer on a
        credit and the payee on a debit."""
        return "payer" in self.columns or "payer_account" in self.columns


def _load_layout(check: _Checker, name: str, node: _Node) -> Layout:
    path = f"layouts.{name}"
    check.keys(
        node,
        path,
        ("bank", "columns"),
        ("title", "optional", "preamble", "date_formats", "footer", "debit_marks", "credit_marks"),
    )
    cols_node = check.mapping(node, "columns", f"{path}.columns")
    columns: dict[str, tuple[str, ...]] = {}
    for fld in cols_node:
        if fld not in FIELDS:
            raise check.fail(cols_node, f"{path}.columns.{fld}", f"未知的字段；可用：{'、'.join(FIELDS)}", fld)
        columns[fld] = check.texts(cols_node, fld, f"{path}.columns.{fld}")
    for needed in ("date", "balance"):
        if needed not in columns:
            raise check.fail(cols_node, f"{path}.columns", f"缺少字段 {needed}（{FIELDS[needed]}）")
    two = "debit" in columns and "credit" in columns
    if two == ("amount" in columns):
        raise check.fail(
            cols_node, f"{path}.columns", "应声明 debit 与 credit 两列，或声明一列带符号的 amount（二者选一）"
        )
    sides = {f for pair in BY_DIRECTION.values() for f in pair if f in columns}
    if sides:
        both = [c for c, pair in BY_DIRECTION.items() if c in columns and any(f in columns for f in pair)]
        if both:
            raise check.fail(
                cols_node, f"{path}.columns.{both[0]}",
                f"已按收支方向声明付款人/收款人列，不能再声明 {both[0]}（对方信息收入取付款人、支出取收款人）", both[0],
            )
        for counterpart, (payer, payee) in BY_DIRECTION.items():
            if (payer in columns) != (payee in columns):
                missing = payee if payer in columns else payer
                raise check.fail(
                    cols_node, f"{path}.columns", f"付款人与收款人列应成对声明：缺少 {missing}（{FIELDS[missing]}）"
                )
    # direction (借贷标志) gives an unsigned amount its sign; beside debit/credit columns it is
    # a check: the flag must name the column the amount is in.
    optional: frozenset[str] = frozenset()
    if "optional" in node:
        optional = frozenset(check.texts(node, "optional", f"{path}.optional"))
        for fld in optional:
            if fld not in columns:
                raise check.fail(node, f"{path}.optional", f"{fld} 不是 columns 中声明的字段", "optional")
            if fld in ("date", "balance", "debit", "credit", "amount"):
                raise check.fail(node, f"{path}.optional", f"{fld} 不能是可选列", "optional")
            if fld == "direction" and "amount" in columns:
                raise check.fail(
                    node, f"{path}.optional", "direction 不能是可选列：发生额不带符号，收支全凭借贷标志", "optional"
                )
    preamble: dict[str, tuple[str, ...]] = {}
    if "preamble" in node:
        pre_node = check.mapping(node, "preamble", f"{path}.preamble")
        for fld in pre_node:
            if fld not in PREAMBLE_FIELDS:
                raise check.fail(
                    pre_node, f"{path}.preamble.{fld}", f"未知的字段；可用：{'、'.join(PREAMBLE_FIELDS)}", fld
                )
            preamble[fld] = check.texts(pre_node, fld, f"{path}.preamble.{fld}")
    if "account" not in columns and "account" not in preamble:
        raise check.fail(node, path, "应在 columns 或 preamble 中声明 account（本方账号），用于核对是否为本专户的对账单")
    formats = DEFAULT_DATE_FORMATS
    if "date_formats" in node:
        formats = check.texts(node, "date_formats", f"{path}.date_formats")
    marks: dict[str, tuple[str, ...]] = {}
    for key in ("debit_marks", "credit_marks"):
        if key in node:
            marks[key] = tuple(header_key(m) for m in check.texts(node, key, f"{path}.{key}"))
    if "direction" in columns and not (marks.get("debit_marks") and marks.get("credit_marks")):
        raise check.fail(node, path, "声明了 direction（借贷标志）列时，须给出 debit_marks 与 credit_marks")
    if marks and "direction" not in columns:
        key = "debit_marks" if "debit_marks" in marks else "credit_marks"
        raise check.fail(node, f"{path}.{key}", "没有声明 direction（借贷标志）列，借贷标志的取值无从使用", key)
    both = set(marks.get("debit_marks", ())) & set(marks.get("credit_marks", ()))
    if both:
        raise check.fail(
            node, f"{path}.credit_marks", f"「{'、'.join(sorted(both))}」同时是借方和贷方的标志：无法判断收支", "credit_marks"
        )
    return Layout(
        name=name,
        bank=check.text(node, "bank", f"{path}.bank"),
        title=check.text(node, "title", f"{path}.title") if "title" in node else name,
        columns=columns,
        optional=optional,
        preamble=preamble,
        date_formats=formats,
        footer=check.texts(node, "footer", f"{path}.footer") if "footer" in node else (),
        debit_marks=marks.get("debit_marks", ()),
        credit_marks=marks.get("credit_marks", ()),
    )


def load_layouts(path: str | Path = DEFAULT_BANKS) -> dict[str, Layout]:
    """Read banks.yaml: layout name -> :class:`Layout`, in file order."""
    path = Path(path)
    root = _read_yaml(path)
    check = _Checker(str(path))
    check.keys(root, "", ("layouts",), ())
    layouts_node = check.mapping(root, "layouts", "layouts")
    layouts = {}
    for name in layouts_node:
        if not isinstance(name, str) or not re.match(r"^[a-z0-9][a-z0-9-]*$", name):
            raise check.fail(layouts_node, f"layouts.{name}", "版式名称只用小写字母、数字和 -", name)
        node = check.mapping(layouts_node, name, f"layouts.{name}")
        layouts[name] = _load_layout(check, name, node)
    if not layouts:
        raise check.fail(layouts_node, "layouts", "至少声明一个版式")
    return layouts


# --------------------------------------------------------------------------------------
# A pool's import configuration.


@dataclass(frozen=True)
class ClassifyRule:
    """One classification rule: the conditions a row must meet, and its event."""

    event: str
    direction: str
    counterparty: tuple[str, ...] = ()
    counterparty_account: tuple[str, ...] = ()
    summary: tuple[str, ...] = ()
    line: int = 0
    #: For an injection: the funder written as its ``funder`` metadata (risk.funders, 白银).
    funder: str | None = None

    def describe(self) -> str:
        return f"{EVENTS[self.event]}（第 {self.line} 行的规则）"


@dataclass(frozen=True)
class EnterpriseAlias:
    """Extra names and payer accounts of a registered enterprise, from the configuration."""

    enterprise: str
    names: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()


@dataclass(frozen=True)
class PoolConfig:
    """How one pool's special account statements are imported."""

    path: Path
    program: str
    rules_path: Path
    account: str
    layouts: Mapping[str, Layout]
    classify: tuple[ClassifyRule, ...]
    unidentified_income: str
    unidentified_expense: str
    ledger_path: Path | None = None
    enterprises: tuple[EnterpriseAlias, ...] = ()
    bank_name: str = "开户银行"

    @property
    def account_key(self) -> str:
        return account_key(self.account)


def _load_rule(check: _Checker, node: Any, index: int, parent: list[Any], line: int) -> ClassifyRule:
    path = f"classify[{index + 1}]"
    if not isinstance(node, _Node):
        raise ImportConfigError(check.filename, line, path, "每条规则应为映射，至少含 event")
    check.keys(node, path, ("event",), ("direction", "counterparty", "counterparty_account", "summary", "funder"))
    event = check.text(node, "event", f"{path}.event")
    if event not in EVENTS:
        raise check.fail(node, f"{path}.event", f"未知的事件 {event!r}；可用：{'、'.join(EVENTS)}", "event")
    direction = "debit" if event in DEBIT_EVENTS else "credit"
    if "direction" in node:
        direction = check.text(node, "direction", f"{path}.direction")
        if direction not in DIRECTIONS:
            raise check.fail(node, f"{path}.direction", f"应为 {'、'.join(DIRECTIONS)} 之一", "direction")
    expected = "debit" if event in DEBIT_EVENTS else "credit"
    if direction != expected:
        raise check.fail(
            node, f"{path}.direction", f"{EVENTS[event]}只能是{DIRECTIONS[expected]}", "direction"
        )

    def opt(key: str) -> tuple[str, ...]:
        return check.texts(node, key, f"{path}.{key}") if key in node else ()

    funder = None
    if "funder" in node:
        if event != "injection":
            raise check.fail(node, f"{path}.funder", "只有注入风险补偿金（injection）的规则可以写出资方 funder", "funder")
        funder = check.text(node, "funder", f"{path}.funder")

    return ClassifyRule(
        event=event,
        direction=direction,
        counterparty=opt("counterparty"),
        counterparty_account=opt("counterparty_account"),
        summary=opt("summary"),
        line=node.line,
        funder=funder,
    )


def load_pool_config(path: str | Path) -> PoolConfig:
    """Read one pool's import configuration; relative paths are taken from its folder."""
    path = Path(path).resolve()
    root = _read_yaml(path)
    check = _Checker(str(path))
    check.keys(
        root,
        "",
        ("program", "rules", "account", "classify"),
        ("ledger", "banks", "layouts", "bank_name", "enterprises", "unidentified_income", "unidentified_expense"),
    )
    base = path.parent
    program = check.text(root, "program", "program")
    rules_path = check.path(root, "rules", "rules", base)
    if not rules_path.exists():
        raise check.fail(root, "rules", f"找不到规则文件 {rules_path}", "rules")
    account = check.text(root, "account", "account")
    if not account_key(account):
        raise check.fail(root, "account", "专户账号不能为空", "account")
    ledger_path = check.path(root, "ledger", "ledger", base) if "ledger" in root else None
    banks_path = check.path(root, "banks", "banks", base) if "banks" in root else DEFAULT_BANKS
    all_layouts = load_layouts(banks_path)
    layouts = all_layouts
    if "layouts" in root:
        names = check.texts(root, "layouts", "layouts")
        for name in names:
            if name not in all_layouts:
                raise check.fail(
                    root, "layouts", f"{banks_path} 中没有版式 {name!r}；可用：{'、'.join(all_layouts)}", "layouts"
                )
        layouts = {name: all_layouts[name] for name in names}
    rules_node = root["classify"]
    if not isinstance(rules_node, list):
        raise check.fail(root, "classify", "应为规则列表（每条以 - 开头）", "classify")
    classify = tuple(
        _load_rule(check, item, i, rules_node, root.line_of("classify")) for i, item in enumerate(rules_node)
    )
    enterprises: list[EnterpriseAlias] = []
    if "enterprises" in root:
        ent_node = check.mapping(root, "enterprises", "enterprises")
        for ent_id in ent_node:
            epath = f"enterprises.{ent_id}"
            enode = check.mapping(ent_node, ent_id, epath)
            check.keys(enode, epath, (), ("names", "accounts"))
            enterprises.append(
                EnterpriseAlias(
                    str(ent_id),
                    check.texts(enode, "names", f"{epath}.names") if "names" in enode else (),
                    check.texts(enode, "accounts", f"{epath}.accounts") if "accounts" in enode else (),
                )
            )
    income = f"Income:{program}:Unidentified"
    expense = f"Expenses:{program}:Unidentified"
    if "unidentified_income" in root:
        income = check.account(root, "unidentified_income", "unidentified_income")
    if "unidentified_expense" in root:
        expense = check.account(root, "unidentified_expense", "unidentified_expense")
    return PoolConfig(
        path=path,
        program=program,
        rules_path=rules_path,
        account=account,
        layouts=layouts,
        classify=classify,
        unidentified_income=income,
        unidentified_expense=expense,
        ledger_path=ledger_path,
        enterprises=tuple(enterprises),
        bank_name=check.text(root, "bank_name", "bank_name") if "bank_name" in root else "开户银行",
    )
