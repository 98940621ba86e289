"""The engine's per-period fund flows (``ProgramState.flow_series``), read by the Fava
pool overview for a time-filtered period."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

from beancount import loader

from zhubaodai.core.engine import GUARANTEE
from zhubaodai.core.engine import RISK
from zhubaodai.core.engine import analyse
from zhubaodai.core.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
LEDGER = ROOT / "tests" / "ledgers" / "fava" / "main.beancount"
ONE_DAY = datetime.timedelta(days=1)


def test_flow_series_cumulates_the_flows_by_day() -> None:
    entries, _, _ = loader.load_file(str(LEDGER))
    analysis = analyse(entries, load_rules(ROOT / "rules.yaml"))
    state = analysis.programs["CQGX"]
    for key, total in state.flows.items():
        assert state.flow_series[key].balance == total
    fees = state.flow_series[(GUARANTEE, "fee")]
    # 2024-03-05 75,000.00; 2024-04-03 49,999.99; 2024-05-08 25,000.00.
    start, end = datetime.date(2024, 4, 1), datetime.date(2024, 5, 31)
    assert fees.at(end) - fees.at(start - ONE_DAY) == Decimal("74999.99")
    injections = state.flow_series[(RISK, "injection")]
    assert injections.at(datetime.date(2024, 1, 1)) == 0
    assert injections.at(datetime.date(2024, 1, 2)) == Decimal("5000000.00")
    # Flows of every kind add up to the fund's balance on every day.
    day = datetime.date(2024, 12, 31)
    for fund in (GUARANTEE, RISK):
        by_kind = sum(
            (s.at(day) for (f, _), s in state.flow_series.items() if f == fund), Decimal(0)
        )
        assert by_kind == state.funds[fund].at(day)
