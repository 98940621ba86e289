"""The engine core: what every rule and every face stands on.

* :mod:`~zhubaodai.core.engine` — the one walk over a ledger: it classifies each pool
  transaction by its accounts' roles, hands it and the register's events to the rule
  modules (:mod:`zhubaodai.checks`), and returns the :class:`~zhubaodai.core.engine.Analysis`
  every face reads (one run per load, left by the plugin in the load's options map);
* :mod:`~zhubaodai.core.register` — the loan register (``custom`` directives), validated;
* :mod:`~zhubaodai.core.rules` — rules.yaml: programs, account roles, rules and dated
  parameters; :mod:`~zhubaodai.core.yamlfile` — the YAML loader that keeps line numbers;
* :mod:`~zhubaodai.core.workdays` — working days from calendar.yaml;
* :mod:`~zhubaodai.core.findings` and :mod:`~zhubaodai.core.money` — what a finding is,
  and money to the fen.
"""
