"""No way around the rules: what Beancount does after the plugins cannot touch the pool.

Rule: ``ledger.format`` (the ledger format the rules rely on, docs/ledger-format.md §4).

Beancount's loader runs the user's plugins first and then its own ``pad`` and
``balance`` operations, and any plugin listed after ours runs after us too. None of those
passes through the rule engine, so each is closed here:

* **pad** — ``beancount.ops.pad`` inserts a transaction that moves whatever a later
  balance assertion asks for. On a pool or fund account (any account a program's roles
  map, or a loan's pledged-deposit account under the ``deposits`` parent, on either side
  of the pad) that is a withdrawal or a deposit without a basis: an error at the pad. A
  pool taken over from paper books records its opening balances as ordinary transactions
  instead (docs/ledger-format.md §4.1).
* **balance** — Beancount lets a ``balance`` assertion differ from the books by its
  tolerance (one unit of the last digit shown: 0.01 CNY for ``5129814.88 CNY``, or an
  explicit ``~``). On an account the bank reports on (at or under a program's pool
  account, or its pledged deposits' parent) the bank's figure holds to the fen: a
  difference that Beancount tolerates is an error here (a larger one is Beancount's own
  error, not repeated). With ``plugin_processing_mode "raw"`` Beancount checks no
  assertion at all, so every difference is reported here.
* **later plugins** — a plugin listed after ``zhubaodai.plugin`` changes the entries after
  they were checked: an error, unless it is one of Beancount's or Fava's plugins that
  only check or only touch documents (:data:`HARMLESS_PLUGINS`).

Nothing else Beancount does after the plugins moves money (beancount 3, ``loader.
run_transformations`` and ``validation``): ``bean-check --auto`` adds
``beancount.plugins.auto`` (``open`` directives and price entries); the validations
after it only report. ``document`` entries from ``option "documents"`` are made before
the plugins (``beancount.ops.documents``), so the walk sees them. ``note``, ``event``,
``query``, ``price`` and ``commodity`` carry no amount on an account, and ``open`` /
``close`` only bound where postings may go: none of them changes a balance.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from beancount.core.data import Balance
from beancount.core.data import Pad

from zhubaodai.core.findings import FORMAT_RULE
from zhubaodai.core.money import CURRENCY
from zhubaodai.core.money import ZERO

PLUGIN_NAME = "zhubaodai.plugin"

#: Plugins that may run after ours: they return the entries they were given (adding at
#: most balance assertions or document links), so what we checked is what is loaded.
HARMLESS_PLUGINS = frozenset(
    {
        "beancount.plugins.check_average_cost",
        "beancount.plugins.check_closing",
        "beancount.plugins.check_commodity",
        "beancount.plugins.check_drained",
        "beancount.plugins.coherent_cost",
        "beancount.plugins.leafonly",
        "beancount.plugins.noduplicates",
        "beancount.plugins.nounused",
        "beancount.plugins.onecommodity",
        "beancount.plugins.sellgains",
        "beancount.plugins.unique_prices",
        "fava.plugins.link_documents",
        "fava.plugins.tag_discovered_documents",
    }
)

#: Beancount's default multiplier of the inferred tolerance (options ``tolerance_multiplier``).
_DEFAULT_MULTIPLIER = Decimal("0.5")


class BalanceTolerance:
    """How far Beancount lets a ``balance`` assertion be off, under the loaded options."""

    def __init__(self, options: Mapping[str, Any] | None) -> None:
        options = options or {}
        #: Beancount checks no assertion at all (raw plugin processing).
        self.unchecked = options.get("plugin_processing_mode") == "raw"
        multiplier = options.get("tolerance_multiplier", _DEFAULT_MULTIPLIER)
        self.multiplier = multiplier if isinstance(multiplier, Decimal) else _DEFAULT_MULTIPLIER

    def of(self, entry: Balance) -> Decimal:
        """The tolerance Beancount applies to ``entry`` (as ``beancount.ops.balance`` does)."""
        if entry.tolerance is not None:
            return entry.tolerance
        exponent = entry.amount.number.as_tuple().exponent
        if not isinstance(exponent, int) or exponent >= 0:
            return ZERO
        return Decimal(1).scaleb(exponent) * self.multiplier * 2


def _holder(deposit: bool) -> str:
    """What the account is, for a message: a loan's pledged deposit, or the pool's."""
    return "质押存单账户" if deposit else "资金池账户"


def check_pad(ctx: Any, entry: Pad, pool_side: str, deposit: bool) -> None:
    """A ``pad`` touching ``pool_side`` (a pool or fund account, or a pledged deposit's
    account: ``deposit``): always an error."""
    if deposit:
        why = "等于不经质押、解押或先行代偿移动企业的存单。从纸质账簿转入的存单，请按质押日的金额记一笔质押分录（见 docs/ledger-format.md 第 10 节）"
    else:
        why = "等于不经代偿程序提取或存入专户资金。从纸质账簿转入的资金池，请按开户日的银行余额逐项记一笔期初余额分录（见 docs/ledger-format.md 第 4.1 节）"
    ctx.report(
        FORMAT_RULE,
        None,
        entry,
        f"{_holder(deposit)} {pool_side} 不得用 pad 补平：pad 生成的分录不经规则检查，{why}",
    )


def check_balance(
    ctx: Any, entry: Balance, booked: Decimal, tolerance: BalanceTolerance, deposit: bool
) -> None:
    """A ``balance`` on a pool account (or a pledged deposit's: ``deposit``): the books must
    equal the bank's figure to the fen."""
    amount = entry.amount
    if amount.currency != CURRENCY:
        return  # another currency on a pool account is Beancount's error (the pool holds CNY)
    difference = amount.number - booked  # the bank's figure less the books'
    if not difference:
        return
    if not tolerance.unchecked and abs(difference) > tolerance.of(entry):
        return  # Beancount reports this one itself
    ctx.report(
        FORMAT_RULE,
        None,
        entry,
        f"{_holder(deposit)} {entry.account} 的余额断言须与银行余额分毫不差（Beancount 允许的误差在此不适用）",
        figures={"断言（银行余额）": amount.number, "账面余额": booked, "差额": difference},
    )


def later_plugins(options: Mapping[str, Any] | None) -> list[str]:
    """Plugins listed after ``zhubaodai.plugin`` that may change the entries it checked."""
    names = [name for name, _config in (options or {}).get("plugin") or ()]
    if PLUGIN_NAME not in names:
        return []
    last = len(names) - 1 - names[::-1].index(PLUGIN_NAME)
    return [name for name in names[last + 1 :] if name not in HARMLESS_PLUGINS]


def check_plugins(ctx: Any, options: Mapping[str, Any] | None) -> None:
    """Each plugin after ours that could change the pool unchecked is an error."""
    for name in later_plugins(options):
        ctx.report(
            FORMAT_RULE,
            None,
            None,
            f"插件 {name} 写在 {PLUGIN_NAME} 之后：它对分录的改动不再经规则检查。"
            f"请把 plugin \"{PLUGIN_NAME}\" 一行移到所有其他 plugin 行之后",
        )
