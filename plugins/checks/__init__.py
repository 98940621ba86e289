"""The rule modules: one concern each, reading the engine's walk and reporting findings.

Each module owns the rule ids it reports (docs/rules.md names them) and never reads the
books itself: the engine (:mod:`zhubaodai.core.engine`) hands it the movements and events
it needs, and it records what the faces show in the run's typed
:class:`~zhubaodai.core.engine.Records`.

* :mod:`~zhubaodai.checks.fees` — 助保金: rate, timing, increase, renewal;
* :mod:`~zhubaodai.checks.pool` — the special account: no withdrawal, interest split, suspense;
* :mod:`~zhubaodai.checks.waterfall` — compensation and recovery order;
* :mod:`~zhubaodai.checks.deposits` — whose money pays first: pledged deposits, own fees;
* :mod:`~zhubaodai.checks.payouts` — payout limits over the cooperation period;
* :mod:`~zhubaodai.checks.loans` — loan conditions, eligibility, blacklist;
* :mod:`~zhubaodai.checks.deadlines` — working-day deadlines (notices, compensation);
* :mod:`~zhubaodai.checks.adequacy` — the risk fund's floor, cap and leverage;
* :mod:`~zhubaodai.checks.lifecycle` — the program's opening and termination;
* :mod:`~zhubaodai.checks.evidence` — the scanned letters behind approvals and payments;
* :mod:`~zhubaodai.checks.periods` — closed periods: the books' digest;
* :mod:`~zhubaodai.checks.integrity` — no Beancount feature (pad, balance tolerance,
  later plugins) gets around a rule.

The engine calls the modules of :data:`CHECKS` in that order, each through the hooks it
defines: ``on_register(ctx, event)`` for each register event the register files (once,
in date order, a day's approvals first) whose (type, kind) is in its ``REGISTER_KINDS``
(None: every event) or whose metadata carries a key of its ``REGISTER_META``;
``start(ctx)`` before the walk (the register complete); ``on_movement(ctx, movement)``
for each pool transaction of a kind in its ``MOVEMENT_KINDS`` (None: every kind), against
the state before it; ``on_register_event(ctx, entry)`` for the register directives the
walk dispatches (claims and recoveries, among the transactions); ``finish(ctx)`` after
the walk. A module keeps what it needs of the register from ``on_register`` (typed, in
the run's :class:`~zhubaodai.core.engine.Context`) instead of reading all of it again
in ``finish``. :mod:`~zhubaodai.checks.integrity` is called
by the walk itself for ``pad``, ``balance`` and the plugin order.
"""

from __future__ import annotations

from types import ModuleType

from zhubaodai.checks import adequacy
from zhubaodai.checks import deadlines
from zhubaodai.checks import deposits
from zhubaodai.checks import evidence
from zhubaodai.checks import fees
from zhubaodai.checks import lifecycle
from zhubaodai.checks import payouts
from zhubaodai.checks import loans
from zhubaodai.checks import periods
from zhubaodai.checks import pool
from zhubaodai.checks import waterfall

#: The rule modules in the order the engine calls them (their findings come in this order).
CHECKS: tuple[ModuleType, ...] = (
    pool, fees, waterfall, deposits, loans, deadlines, adequacy, lifecycle, evidence, periods, payouts,
)
