"""The rule modules: one concern each, reading the engine's walk and reporting findings.

Each module owns the rule ids it reports (docs/rules.md names them) and never reads the
books itself: the engine (:mod:`zhubaodai.core.engine`) hands it the movements and events
it needs, and it records what the faces show in the run's typed
:class:`~zhubaodai.core.engine.Records`.

* :mod:`~zhubaodai.checks.fees` — 助保金: rate, timing, increase, renewal;
* :mod:`~zhubaodai.checks.pool` — the special account: no withdrawal, interest split, suspense;
* :mod:`~zhubaodai.checks.waterfall` — compensation and recovery order;
* :mod:`~zhubaodai.checks.loans` — loan conditions, eligibility, blacklist;
* :mod:`~zhubaodai.checks.deadlines` — working-day deadlines (notices, compensation);
* :mod:`~zhubaodai.checks.adequacy` — the risk fund's floor, cap and leverage;
* :mod:`~zhubaodai.checks.lifecycle` — the program's opening and termination;
* :mod:`~zhubaodai.checks.integrity` — no Beancount feature (pad, balance tolerance,
  later plugins) gets around a rule.
"""
