"""zhubaodai.stress: the waterfall over a book of defaults, deterministic and Monte Carlo."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from beancount import loader

from zhubaodai import stress
from zhubaodai.core.engine import GUARANTEE
from zhubaodai.core.engine import RISK
from zhubaodai.core.engine import analyse
from zhubaodai.core.rules import load_rules
from zhubaodai.stress import Exposure
from zhubaodai.stress import PoolPosition
from zhubaodai.stress import StressError

ROOT = Path(__file__).resolve().parent.parent
LEDGER = ROOT / "tests" / "ledgers" / "cli" / "pool.beancount"
ORDER = ("bank", "risk", "guarantee")


def D(text: str) -> Decimal:
    return Decimal(text)


def pool(guarantee: str, risk: str, share: str = "0.5", order: tuple[str, ...] = ORDER) -> PoolPosition:
    return PoolPosition("CQGX", datetime.date(2024, 9, 30), D(guarantee), D(risk), D(share), order)


def book(*amounts: str) -> list[Exposure]:
    return [Exposure(f"L-{i:03d}", f"E-{i:03d}", D(a)) for i, a in enumerate(amounts, 1)]


# ---------------------------------------------------------------------- hand-checked cases


def test_one_default_guarantee_first_then_half_each_then_recovery_bank_first():
    # 1,000,000 due; the guarantee fund holds 600,000 -> pays it all; shortfall 400,000:
    # risk fund 200,000, bank 200,000. 30% recovered = 300,000: bank's 200,000 first,
    # then 100,000 back to the risk fund, nothing to the guarantee fund.
    exposures = book("1000000.00", "500000.00")
    out = stress.run(pool("600000.00", "5000000.00"), exposures,
                     stress.dues_for_loans(exposures, ["L-001"]), D("0.3"))
    assert (out.defaulted, out.guarantee, out.risk, out.bank, out.uncovered) == (
        D("1000000.00"), D("600000.00"), D("200000.00"), D("200000.00"), D("0.00"))
    assert out.recovered == D("300000.00")
    assert out.recovered_by == {"bank": D("200000.00"), "risk": D("100000.00"), "guarantee": D("0.00")}
    assert (out.net("guarantee"), out.net("risk"), out.net("bank")) == (
        D("600000.00"), D("100000.00"), D("0.00"))
    assert not out.committee_needed


def test_domain_worked_numbers_principal_plus_interest():
    # DOMAIN.md: due 1,020,000, guarantee fund 600,000 -> 600,000 / 210,000 / 210,000.
    exposures = book("1020000.00")
    out = stress.run(pool("600000.00", "1000000.00"), exposures, {"L-001": D("1020000.00")}, D("0"))
    assert (out.guarantee, out.risk, out.bank) == (D("600000.00"), D("210000.00"), D("210000.00"))


def test_claims_run_in_book_order_and_the_risk_fund_runs_out():
    # G 100,000, R 50,000; loans of 300,000 and 200,000 both default.
    # L-001: G pays 100,000; shortfall 200,000: risk's half 100,000 but it has 50,000 ->
    #        pays 50,000, 50,000 for the committee; bank 100,000.
    # L-002: G empty; shortfall 200,000: risk's half 100,000, it has nothing -> 100,000
    #        for the committee; bank 100,000.
    exposures = book("300000.00", "200000.00")
    out = stress.run(pool("100000.00", "50000.00"), exposures,
                     stress.dues_for_loans(exposures, ["L-002", "L-001"]), D("0"))
    assert [(o.loan, o.guarantee, o.risk, o.bank, o.uncovered) for o in out.loans] == [
        ("L-001", D("100000.00"), D("50000.00"), D("100000.00"), D("50000.00")),
        ("L-002", D("0.00"), D("0.00"), D("100000.00"), D("100000.00")),
    ]
    assert out.uncovered == D("150000.00")
    assert out.committee_needed
    # The parts always add up to what defaulted.
    assert out.guarantee + out.risk + out.bank + out.uncovered == out.defaulted
    # (G + R / share) / outstanding = (100,000 + 100,000) / 500,000.
    assert stress.exhaustion_rate(pool("100000.00", "50000.00"), exposures) == D("0.4")


def test_risk_share_rounds_half_up_to_the_fen():
    # Shortfall 0.01: the risk fund's half 0.005 rounds up to 0.01, the bank bears 0.00.
    exposures = book("100.01")
    out = stress.run(pool("100.00", "10.00"), exposures, {"L-001": D("100.01")}, D("0"))
    assert (out.guarantee, out.risk, out.bank) == (D("100.00"), D("0.01"), D("0.00"))


def test_recovery_follows_the_programs_order():
    # A program that paid back the funds before the bank: risk, guarantee, bank.
    exposures = book("1000000.00")
    out = stress.run(pool("600000.00", "5000000.00", order=("risk", "guarantee", "bank")), exposures,
                     {"L-001": D("1000000.00")}, D("0.5"))
    assert out.recovered_by == {"risk": D("200000.00"), "guarantee": D("300000.00"), "bank": D("0.00")}


def test_default_rate_applies_to_every_loan_half_up():
    exposures = book("1000000.00", "333333.33")
    dues = stress.dues_at_rate(exposures, D("0.1"))
    assert dues == {"L-001": D("100000.00"), "L-002": D("33333.33")}
    out = stress.run(pool("50000.00", "1000000.00"), exposures, dues, D("0"))
    # G pays 50,000 of L-001; shortfall 50,000 + 33,333.33 = 83,333.33.
    assert out.guarantee == D("50000.00")
    assert out.risk == D("25000.00") + D("16666.67")  # 16,666.665 -> 16,666.67
    assert out.bank == D("25000.00") + D("16666.66")


def test_exhaustion_rate_is_where_the_committee_starts():
    exposures = book("400000.00", "600000.00")
    position = pool("100000.00", "50000.00")
    rate = stress.exhaustion_rate(position, exposures)
    assert rate == D("0.2")  # (100,000 + 50,000 / 0.5) / 1,000,000
    at = stress.run(position, exposures, stress.dues_at_rate(exposures, rate), D("0"))
    above = stress.run(position, exposures, stress.dues_at_rate(exposures, D("0.21")), D("0"))
    assert at.risk == D("50000.00") and not at.committee_needed
    assert above.committee_needed
    assert stress.exhaustion_rate(pool("1.00", "1.00", share="0"), exposures) is None


def test_bad_input_is_a_chinese_stress_error():
    exposures = book("1000.00")
    with pytest.raises(StressError, match="不在压力测试日的未结清贷款中"):
        stress.dues_for_loans(exposures, ["NOPE"])
    with pytest.raises(StressError, match="违约率应在 0 到 1 之间"):
        stress.dues_at_rate(exposures, D("1.5"))
    with pytest.raises(StressError, match="回收率应在 0 到 1 之间"):
        stress.run(pool("0", "0"), exposures, {}, D("-0.1"))
    with pytest.raises(StressError, match="模拟次数"):
        stress.monte_carlo(pool("0", "0"), exposures, D("0.1"), D("0"), 0, 1)


# ---------------------------------------------------------------------- from the engine


def test_book_and_position_come_from_the_engine():
    entries, _, _ = loader.load_file(str(LEDGER))
    analysis = analyse(entries, load_rules(ROOT / "rules.yaml"))
    on = datetime.date(2024, 8, 31)
    exposures = stress.book(analysis, "CQGX", on)
    loans = analysis.register.loans
    assert [(e.loan, e.outstanding) for e in exposures] == [
        (loan_id, loans[loan_id].outstanding(on)) for loan_id in ("CQ-2024-001", "CQ-2024-007")
    ]
    # Hand check: 3,000,000 + 1,000,000 increase; 1,000,000.
    assert [e.outstanding for e in exposures] == [D("4000000.00"), D("1000000.00")]
    position = stress.position(analysis, "CQGX", on)
    state = analysis.programs["CQGX"]
    assert position.guarantee == state.funds[GUARANTEE].at(on) == D("125036.74")
    assert position.risk == state.funds[RISK].at(on)
    assert position.risk_share == D("0.5")
    assert position.recovery_order == ORDER
    # After the compensation of CQ-2024-007 it is no longer in the book of WLHT or CQGX.
    assert [e.loan for e in stress.book(analysis, "WLHT", on)] == ["WL-2024-001"]
    with pytest.raises(StressError):
        stress.position(analysis, "NOPE", on)


# ---------------------------------------------------------------------- Monte Carlo


def _random_book(rng: random.Random, n: int) -> list[Exposure]:
    return [
        Exposure(f"L-{i:04d}", "E", (Decimal(rng.randint(1, 500_000_000)) / 100).quantize(D("0.01")))
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("guarantee", "risk", "share", "rate", "recovery"),
    [
        ("600000.00", "5000000.00", "0.5", "0.05", "0.3"),   # funds comfortable
        ("100000.00", "250000.00", "0.5", "0.3", "0.45"),    # the risk fund runs out
        ("0.00", "0.00", "0.5", "0.5", "0"),                  # empty pool
        ("12345.67", "98765.43", "0.333", "0.2", "0.777"),  # odd share and rates
    ],
)
def test_each_monte_carlo_draw_equals_the_deterministic_run(guarantee, risk, share, rate, recovery):
    exposures = _random_book(random.Random(7), 40)
    position = pool(guarantee, risk, share)
    draws = stress.monte_carlo(position, exposures, D(rate), D(recovery), 200, seed=11, keep_defaults=True)
    assert draws.defaults is not None and draws.defaults.shape == (200, 40)
    committee = 0
    for i in range(draws.count):
        expected = stress.run(position, exposures, stress.dues_of_draw(exposures, draws.defaults[i]), D(recovery))
        got = draws.outcome(i)
        assert got.defaulted == expected.defaulted
        assert (got.guarantee, got.risk, got.bank, got.uncovered) == (
            expected.guarantee, expected.risk, expected.bank, expected.uncovered)
        assert got.recovered_by == expected.recovered_by
        committee += expected.committee_needed
    if risk == "250000.00":
        assert committee > 0  # the case exercises the exhausted risk fund


def test_simulate_on_a_given_default_matrix_equals_run():
    exposures = _random_book(random.Random(3), 25)
    position = pool("300000.00", "400000.00")
    matrix = np.random.default_rng(5).random((50, 25)) < 0.4
    matrix[0, :] = False  # a draw without defaults
    matrix[1, :] = True   # and one where every loan defaults
    totals = stress.simulate(position, exposures, matrix, D("0.25"))
    for i in range(50):
        expected = stress.run(position, exposures, stress.dues_of_draw(exposures, matrix[i]), D("0.25"))
        assert Decimal(int(totals["risk"][i])) / 100 == expected.risk
        assert Decimal(int(totals["uncovered"][i])) / 100 == expected.uncovered
        assert Decimal(int(totals["recovered_bank"][i])) / 100 == expected.recovered_by["bank"]
    assert totals["defaulted"][0] == 0


def test_monte_carlo_is_seeded():
    exposures = _random_book(random.Random(1), 30)
    position = pool("100000.00", "100000.00")
    a = stress.monte_carlo(position, exposures, D("0.1"), D("0.2"), 500, seed=42)
    b = stress.monte_carlo(position, exposures, D("0.1"), D("0.2"), 500, seed=42)
    c = stress.monte_carlo(position, exposures, D("0.1"), D("0.2"), 500, seed=43)
    assert np.array_equal(a.defaulted, b.defaulted) and np.array_equal(a.bank, b.bank)
    assert not np.array_equal(a.defaulted, c.defaulted)


def test_mean_defaulted_amount_converges_to_rate_times_outstanding():
    exposures = _random_book(random.Random(9), 300)
    position = pool("1000000.00", "5000000.00")
    rate = D("0.07")
    outstanding = np.array([float(e.outstanding) for e in exposures])
    target = float(rate) * outstanding.sum()
    # Standard error of the mean of N draws: sqrt(p (1 - p) sum(x_i^2) / N).
    errors = []
    for draws in (200, 20_000):
        result = stress.monte_carlo(position, exposures, rate, D("0"), draws, seed=2024, keep_defaults=(draws == 200))
        mean = result.defaulted.mean() / 100
        se = (0.07 * 0.93 * (outstanding**2).sum() / draws) ** 0.5
        assert abs(mean - target) < 4.5 * se
        errors.append(abs(mean - target) / target)
    assert errors[1] < 0.01  # within 1% of rate x outstanding at 20,000 draws
    # And each loan defaults about `rate` of the time (the geometric sampling is unbiased).
    big = stress.monte_carlo(position, exposures, rate, D("0"), 2000, seed=1, keep_defaults=True)
    frequency = big.defaults.mean()
    assert abs(frequency - 0.07) < 4.5 * (0.07 * 0.93 / big.defaults.size) ** 0.5


def test_monte_carlo_edge_rates():
    exposures = book("100.00", "200.00")
    position = pool("50.00", "1000.00")
    none = stress.monte_carlo(position, exposures, D("0"), D("0"), 10, seed=1)
    every = stress.monte_carlo(position, exposures, D("1"), D("0"), 10, seed=1)
    assert not none.defaulted.any()
    assert (every.defaulted == 30000).all()
    assert every.outcome(0) == stress.Outcome(**{
        **stress.run(position, exposures, stress.dues_at_rate(exposures, D("1")), D("0")).__dict__,
        "loans": (),
    })


def test_summary_mean_and_nearest_rank_percentiles():
    values = np.arange(1, 101, dtype=np.int64)  # 0.01 .. 1.00 yuan
    summary = stress.summarise(values)
    assert summary.mean == D("0.51")  # 0.505 half-up
    assert summary.percentiles == {50: D("0.50"), 90: D("0.90"), 95: D("0.95"), 99: D("0.99")}
    assert summary.maximum == D("1.00")


# ---------------------------------------------------------------------- bounded Monte Carlo


def test_monte_carlo_draws_are_bounded(monkeypatch):
    exposures = book("1000.00", "2500.00")
    # At the maximum it runs, every draw kept (the percentiles are exact).
    draws = stress.monte_carlo(pool("1000", "1000"), exposures, D("0.1"), D("0.3"), stress.MAX_DRAWS, seed=1)
    assert draws.count == stress.MAX_DRAWS
    assert int(draws.defaulted.max()) == 350000  # both loans defaulting, in fen
    # Above it, a Chinese error before any draw is made (1e9 draws would need some 72 GB).
    made = []
    monkeypatch.setattr(stress.np.random, "default_rng", lambda *args: made.append(args))
    with pytest.raises(StressError, match="模拟次数最多 1,000,000 次"):
        stress.monte_carlo(pool("0", "0"), exposures, D("0.1"), D("0"), 10**9, 1)
    assert made == []


def test_zbd_stress_refuses_more_draws_than_the_maximum():
    from click.testing import CliRunner

    from zhubaodai.cli import main

    result = CliRunner().invoke(main, [
        "stress", str(LEDGER), "--date", "2024-08-31", "--program", "CQGX", "--default-rate", "5%",
        "--recovery-rate", "0.3", "--monte-carlo", "1000000000", "--seed", "1",
    ])
    assert result.exit_code == 2
    assert "--monte-carlo 最多 1,000,000 次模拟" in result.stderr
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)


# ---------------------------------------------------------------------- a table of parties (comp.shares)


def table(*rows: tuple[str, str]) -> tuple:
    from zhubaodai.core.rules import PartyShare

    return tuple(PartyShare(party, D(share)) for party, share in rows)


SZPS_TABLE = (("risk", "0.40"), ("guarantor", "0.40"), ("bank", "0.20"))


def table_pool(risk: str, rows=SZPS_TABLE, shrink: bool = True, guarantee: str = "0.00") -> PoolPosition:
    parties = table(*rows)
    order = tuple(row.party for row in parties)
    share = next((row.share for row in parties if row.party == "risk"), D("0"))
    return PoolPosition("SZPS", datetime.date(2026, 12, 31), D(guarantee), D(risk), share, order, parties, shrink)


def test_table_splits_each_claim_by_largest_remainder_and_shrinks_on_recovery():
    # 坪山: 1,000,000.03 due -> 400,000.01 / 400,000.01 / 200,000.01 (the extra fen to the
    # largest remainder, the bank's 0.006). 10% recovered = 100,000.00: the unpaid principal
    # falls to 900,000.03 -> 360,000.01 / 360,000.01 / 180,000.01, so each gets back the rest.
    exposures = book("1000000.03")
    out = stress.run(table_pool("5000000.00"), exposures, stress.dues_for_loans(exposures, ["L-001"]), D("0.1"))
    assert out.borne_by == {"risk": D("400000.01"), "guarantor": D("400000.01"), "bank": D("200000.01")}
    assert (out.guarantee, out.risk, out.bank, out.uncovered) == (D("0"), D("400000.01"), D("200000.01"), D("0"))
    assert out.recovered_by == {"risk": D("40000.00"), "guarantor": D("40000.00"), "bank": D("20000.00")}
    assert out.net("guarantor") == D("360000.01")


def test_table_pool_fund_runs_out_and_the_committee_steps_in():
    # The risk fund holds 500,000.00: the first claim's 400,000.00 and 100,000.00 of the
    # second's 400,000.00; 300,000.00 is left for the committee. The guarantor still bears 40%.
    exposures = book("1000000.00", "1000000.00")
    out = stress.run(table_pool("500000.00", shrink=False), exposures,
                     stress.dues_for_loans(exposures, ["L-001", "L-002"]), D("0"))
    assert (out.risk, out.uncovered, out.borne("guarantor")) == (D("500000.00"), D("300000.00"), D("800000.00"))
    assert out.committee_needed


def test_table_exhaustion_rate_is_the_funds_balance_over_its_share():
    # 400,000 / 40% = 1,000,000 of defaults on a 4,000,000 book: 25%.
    assert stress.exhaustion_rate(table_pool("400000.00"), book("4000000.00")) == D("0.25")


@pytest.mark.parametrize(
    ("risk", "rows", "shrink", "rate", "recovery"),
    [
        ("5000000.00", SZPS_TABLE, True, "0.05", "0.3"),
        ("250000.00", SZPS_TABLE, True, "0.3", "0.45"),          # the risk fund runs out
        ("98765.43", (("risk", "0.333"), ("insurer", "0.333"), ("bank", "0.334")), False, "0.2", "0.777"),
        ("3000000.00", (("risk", "0.4"), ("guarantor", "0.4"), ("government", "0.2")), True, "0.5", "0"),
    ],
)
def test_each_monte_carlo_draw_equals_the_deterministic_run_with_a_table(risk, rows, shrink, rate, recovery):
    exposures = _random_book(random.Random(9), 30)
    position = table_pool(risk, rows, shrink)
    draws = stress.monte_carlo(position, exposures, D(rate), D(recovery), 150, seed=4, keep_defaults=True)
    committee = 0
    for i in range(draws.count):
        expected = stress.run(position, exposures, stress.dues_of_draw(exposures, draws.defaults[i]), D(recovery))
        got = draws.outcome(i)
        assert (got.defaulted, got.risk, got.bank, got.uncovered) == (
            expected.defaulted, expected.risk, expected.bank, expected.uncovered)
        assert got.borne_by == expected.borne_by
        assert got.recovered_by == expected.recovered_by
        committee += expected.committee_needed
    if risk == "250000.00":
        assert committee > 0


def test_zbd_stress_uses_the_programs_own_table():
    from click.testing import CliRunner

    from zhubaodai.cli import main

    shapes = ROOT / "ledger" / "shapes.beancount"
    result = CliRunner().invoke(main, [
        "stress", str(shapes), "--date", "2026-12-31", "--program", "SZPS", "--loans", "SZ-2026-003",
        "--recovery-rate", "0.1",
    ])
    assert result.exit_code == 0, result.output
    # SZPS calls its one fund 资金池 (rules.yaml names:): the text says so.
    assert "分担表：资金池 40%、担保机构 40%、合作银行 20%" in result.output
    assert "风险补偿金" not in result.output
    assert "助保金" not in result.output  # SZPS has no guarantee fund
    # 20,000,000 defaulted: without the payout limits 8,000,000 / 8,000,000 / 4,000,000;
    # the limits bind (test_szps_limits_from_the_engine_bind_in_zbd_stress has the figures).
    assert "担保机构" in result.output and "20,000,000.00" in result.output
    assert "8,000,000.00" not in result.output


# ---------------------------------------------------------------------- the programs' own shapes
# Issue 10: a pledged deposit pays its loan first (HKJB), payout limits stop the payers
# (SZPS comp.rate_cap / comp.fee_cap), the pool's loss after recovery split by a residual
# table (comp.shares residual). Every expected figure below is worked by hand in the comment.

SHAPES = ROOT / "ledger" / "shapes.beancount"


def deposit_pool(risk: str, deposits: dict[str, str]) -> PoolPosition:
    return PoolPosition("HKJB", datetime.date(2021, 12, 31), D("0.00"), D(risk), D("0.5"), ORDER,
                        deposits={k: D(v) for k, v in deposits.items()})


def test_the_pledged_deposit_pays_first_and_the_pool_shares_what_it_leaves():
    # L-001 1,000,000.00 with a deposit of 20,000.00: the pool owes 980,000.00, the risk
    # fund half 490,000.00, the bank 490,000.00. L-002 500,000.00 without a deposit:
    # 250,000.00 / 250,000.00. 10% of what the pool's parties bore comes back, bank first:
    # 98,000.00 + 50,000.00 = 148,000.00 to the bank.
    exposures = book("1000000.00", "500000.00")
    out = stress.run(deposit_pool("5000000.00", {"L-001": "20000.00"}), exposures,
                     stress.dues_for_loans(exposures, ["L-001", "L-002"]), D("0.1"))
    assert [(o.loan, o.deposit, o.risk, o.bank) for o in out.loans] == [
        ("L-001", D("20000.00"), D("490000.00"), D("490000.00")),
        ("L-002", D("0.00"), D("250000.00"), D("250000.00")),
    ]
    assert (out.defaulted, out.deposit, out.risk, out.bank) == (
        D("1500000.00"), D("20000.00"), D("740000.00"), D("740000.00"))
    assert out.recovered_by == {"bank": D("148000.00"), "risk": D("0.00"), "guarantee": D("0.00")}


def test_a_deposit_larger_than_the_claim_leaves_nothing_to_the_pool():
    # 2% of 1,000,000.00 defaults = 20,000.00; the deposit holds 30,000.00 and pays it all.
    exposures = book("1000000.00")
    out = stress.run(deposit_pool("5000000.00", {"L-001": "30000.00"}), exposures,
                     stress.dues_at_rate(exposures, D("0.02")), D("0.5"))
    assert (out.defaulted, out.deposit, out.risk, out.bank, out.recovered) == (
        D("20000.00"), D("20000.00"), D("0.00"), D("0.00"), D("0.00"))


def test_exhaustion_rate_counts_the_deposits():
    # G 0, R 100,000.00 at 50%: the pool can owe 200,000.00. Two loans of 1,000,000.00, the
    # first with a deposit of 20,000.00: at 11% the pool owes 90,000.00 + 110,000.00.
    position = deposit_pool("100000.00", {"L-001": "20000.00"})
    assert stress.exhaustion_rate(position, book("1000000.00", "1000000.00")) == D("0.11")
    assert stress.exhaustion_rate(deposit_pool("100000.00", {}), book("1000000.00", "1000000.00")) == D("0.1")


def test_hkjb_position_reads_the_deposits_from_the_engine_and_zbd_stress_uses_them():
    from click.testing import CliRunner

    from zhubaodai.cli import main

    entries, _, _ = loader.load_file(str(SHAPES))
    analysis = analyse(entries, load_rules(ROOT / "rules.yaml"))
    position = stress.position(analysis, "HKJB", datetime.date(2021, 12, 31))
    # shapes' hkjb/2021.beancount: 2% of 3,000,000 / 5,000,000 / 2,000,000 / 1,500,000 pledged.
    assert position.deposits == {"HK-2021-001": D("60000.00"), "HK-2021-002": D("100000.00"),
                                 "HK-2021-003": D("40000.00"), "HK-2021-004": D("30000.00")}
    result = CliRunner().invoke(main, [
        "stress", str(SHAPES), "--date", "2021-12-31", "--program", "HKJB", "--loans", "HK-2021-001",
        "--recovery-rate", "0.1",
    ])
    assert result.exit_code == 0, result.output
    # 3,000,000.00 due; the deposit's 60,000.00 first; the pool's 2,940,000.00 split in half:
    # 1,470,000.00 each (it was 1,500,000.00 each before the deposit counted); 294,000.00 back.
    assert "质押存单（先付）" in result.output and "60,000.00" in result.output
    assert "1,470,000.00" in result.output and "294,000.00" in result.output
    assert "1,500,000.00" not in result.output


def capped_pool(rows=SZPS_TABLE, shrink: bool = False) -> PoolPosition:
    # rate cap 100,000.00 (the pool has paid 20,000.00: 80,000.00 left; the guarantor
    # nothing: 100,000.00 left); fee cap 150,000.00 (130,000.00 left together).
    room = stress.PayoutRoom(rate=D("0.025"), lent=D("4000000.00"), rate_cap=D("100000.00"),
                             multiple=D("2"), fees=D("75000.00"), fee_cap=D("150000.00"),
                             paid_pool=D("20000.00"), paid_guarantor=D("0.00"))
    base = table_pool("5000000.00", rows, shrink)
    return PoolPosition(base.program, base.on, base.guarantee, base.risk, base.risk_share, base.recovery_order,
                        base.table, base.shrink, room=room)


def test_payout_limits_stop_the_pool_and_the_guarantor_and_the_bank_keeps_the_rest():
    # L-001 100,000.00: 40,000 / 40,000 / 20,000, all within the limits (pool 40,000 of
    # its rate room left, guarantor 60,000, together 50,000).
    # L-002 200,000.00: 80,000 / 80,000 / 40,000. The pool's rate room gives 40,000; the
    # guarantor's 60,000; together 100,000 > 50,000: the guarantor stops first -> 10,000.
    # Kept from being paid: 40,000 + 20,000 + 50,000 = 110,000.00, with the bank:
    # 40,000 + 110,000 = 150,000.00.
    exposures = book("100000.00", "200000.00")
    out = stress.run(capped_pool(), exposures, stress.dues_for_loans(exposures, ["L-001", "L-002"]), D("0"))
    assert [(o.loan, o.borne_by["risk"], o.borne_by["guarantor"], o.borne_by["bank"], o.capped) for o in out.loans] == [
        ("L-001", D("40000.00"), D("40000.00"), D("20000.00"), D("0.00")),
        ("L-002", D("40000.00"), D("10000.00"), D("150000.00"), D("110000.00")),
    ]
    assert (out.risk, out.borne("guarantor"), out.bank, out.capped, out.uncovered) == (
        D("80000.00"), D("50000.00"), D("170000.00"), D("110000.00"), D("0.00"))
    # A payout limit binds before the risk fund runs out: no exhaustion rate.
    assert stress.exhaustion_rate(capped_pool(), exposures) is None


def test_szps_limits_from_the_engine_bind_in_zbd_stress():
    from click.testing import CliRunner

    from zhubaodai.cli import main

    entries, _, _ = loader.load_file(str(SHAPES))
    analysis = analyse(entries, load_rules(ROOT / "rules.yaml"))
    room = stress.position(analysis, "SZPS", datetime.date(2026, 12, 31)).room
    # shapes' SZPS book: lent 61,000,000.00 × 2.5% = 1,525,000.00; guarantee fees
    # 610,000.00 × 2 = 1,220,000.00; paid so far 320,000.00 by the pool, 320,000.00 by the guarantor.
    assert (room.rate_cap, room.fee_cap, room.paid_pool, room.paid_guarantor) == (
        D("1525000.00"), D("1220000.00"), D("320000.00"), D("320000.00"))
    assert (room.pool, room.guarantor, room.joint) == (D("1205000.00"), D("1205000.00"), D("580000.00"))
    result = CliRunner().invoke(main, [
        "stress", str(SHAPES), "--date", "2026-12-31", "--program", "SZPS", "--loans", "SZ-2026-003",
        "--recovery-rate", "0.1", "--format", "json",
    ])
    assert result.exit_code == 0, result.output
    import json

    data = json.loads(result.output)
    # 20,000,000.00 -> 8,000,000 / 8,000,000 / 4,000,000. Pool 1,205,000 and guarantor
    # 1,205,000 by the rate cap; together 2,410,000 > 580,000: the guarantor's 1,205,000 goes
    # first, then 625,000 of the pool's -> pool 580,000.00, guarantor 0.00; the bank keeps
    # 15,420,000.00 more: 19,420,000.00. 10% back = 2,000,000.00: the unpaid 18,000,000.00
    # puts the bank's share at 3,600,000.00, so 400,000.00 of its own part comes back, and
    # the other 1,600,000.00 against what the limits left it.
    assert data["borne"] == {"risk": "580000.00", "guarantor": "0.00", "bank": "19420000.00", "committee": "0.00"}
    assert data["capped"] == "15420000.00"
    assert data["recovered"] == {"risk": "0.00", "guarantor": "0.00", "bank": "2000000.00"}
    assert data["limits"] == {"pool_room": "1205000.00", "guarantor_room": "1205000.00", "joint_room": "580000.00"}
    text = CliRunner().invoke(main, [
        "stress", str(SHAPES), "--date", "2026-12-31", "--program", "SZPS", "--loans", "SZ-2026-003",
        "--recovery-rate", "0.1",
    ]).output
    assert "支付上限：补偿代偿率上限 2.5%" in text and "其中超出支付上限、由合作银行自担 15,420,000.00 元" in text


RESIDUAL = (("government", "0.40"), ("guarantor", "0.40"), ("bank", "0.20"))


def residual_pool(risk: str = "5000000.00") -> PoolPosition:
    base = table_pool(risk, (("risk", "1"),), shrink=False)
    return PoolPosition(base.program, base.on, base.guarantee, base.risk, base.risk_share, ("risk",),
                        base.table, False, residual=table(*RESIDUAL))


def test_the_pools_loss_after_recovery_is_split_by_the_residual_table():
    # 金东's shape: the pool pays 1,000,000.01 in full; 30% comes back = 300,000.00
    # (half-up of 300,000.003); the loss 700,000.01 is split 40/40/20 by largest remainder:
    # 280,000.004 / 280,000.004 / 140,000.002 -> the fen to the first listed, the government.
    exposures = book("1000000.01")
    out = stress.run(residual_pool(), exposures, stress.dues_for_loans(exposures, ["L-001"]), D("0.3"))
    assert (out.risk, out.recovered_by["risk"]) == (D("1000000.01"), D("300000.00"))
    assert out.residual_by == {"government": D("280000.01"), "guarantor": D("280000.00"), "bank": D("140000.00")}
    assert "追偿后仍未弥补的资金池损失由政府 40%、担保机构 40%、合作银行 20%承担" in residual_pool().describe()


@pytest.mark.parametrize(
    ("make", "rate", "recovery"),
    [
        (lambda: deposit_pool("3000000.00", {"L-0001": "50000.00", "L-0004": "9999999.99", "L-0007": "0.01"}),
         "0.3", "0.4"),
        (lambda: deposit_pool("200000.00", {"L-0002": "100000.00", "L-0003": "12345.67"}), "0.5", "0"),
        (lambda: capped_pool(shrink=True), "0.2", "0.35"),
        (lambda: capped_pool(), "0.05", "0.1"),
        (lambda: residual_pool("4000000.00"), "0.3", "0.25"),
    ],
)
def test_each_monte_carlo_draw_equals_the_deterministic_run_with_the_programs_shapes(make, rate, recovery):
    exposures = _random_book(random.Random(13), 25)
    position = make()
    draws = stress.monte_carlo(position, exposures, D(rate), D(recovery), 120, seed=8, keep_defaults=True)
    seen_capped = seen_deposit = False
    for i in range(draws.count):
        expected = stress.run(position, exposures, stress.dues_of_draw(exposures, draws.defaults[i]), D(recovery))
        got = draws.outcome(i)
        assert (got.defaulted, got.guarantee, got.risk, got.bank, got.uncovered) == (
            expected.defaulted, expected.guarantee, expected.risk, expected.bank, expected.uncovered)
        assert (got.deposit, got.capped) == (expected.deposit, expected.capped)
        assert got.borne_by == expected.borne_by
        assert got.recovered_by == expected.recovered_by
        assert got.residual_by == expected.residual_by
        seen_capped |= expected.capped > 0
        seen_deposit |= expected.deposit > 0
    assert seen_capped or seen_deposit or position.residual  # each case exercises its shape


def own_fees_pool(guarantee: str, risk: str, own: dict[str, str]) -> PoolPosition:
    return PoolPosition("WZS", datetime.date(2025, 12, 31), D(guarantee), D(risk), D("0.5"), ORDER,
                        own_fees={k: D(v) for k, v in own.items()})


def test_with_own_fees_the_guarantee_fund_pays_only_the_enterprises_own_fees():
    # 五指山 (guarantee_basis own_fees): the fund holds 1,000,000.00 but E-001 paid in only
    # 10,000.00 and E-002 nothing. L-001 (E-001) 100,000.00: 10,000.00 from the fund, the
    # 90,000.00 left half each; L-002 (E-002) 200,000.00: none from the fund, 100,000.00
    # each; L-003 (E-001) 50,000.00: E-001's fees are used up, 25,000.00 each.
    exposures = [Exposure("L-001", "E-001", D("100000.00")), Exposure("L-002", "E-002", D("200000.00")),
                 Exposure("L-003", "E-001", D("50000.00"))]
    out = stress.run(own_fees_pool("1000000.00", "5000000.00", {"E-001": "10000.00"}), exposures,
                     stress.dues_for_loans(exposures, ["L-001", "L-002", "L-003"]), D("0"))
    assert [(o.loan, o.guarantee, o.risk, o.bank) for o in out.loans] == [
        ("L-001", D("10000.00"), D("45000.00"), D("45000.00")),
        ("L-002", D("0.00"), D("100000.00"), D("100000.00")),
        ("L-003", D("0.00"), D("25000.00"), D("25000.00")),
    ]
    assert (out.guarantee, out.risk, out.bank) == (D("10000.00"), D("170000.00"), D("170000.00"))
    # One loan of 1,000,000.00: the risk fund's 100,000.00 is its half of 200,000.00, so the
    # pool owes 210,000.00 with the 10,000.00 of own fees: 21%.
    rate = stress.exhaustion_rate(own_fees_pool("1000000.00", "100000.00", {"E-1": "10000.00"}),
                                  [Exposure("L-1", "E-1", D("1000000.00"))])
    assert rate is not None and abs(rate - D("0.21")) < D("1e-9")


def test_wzs_position_reads_each_enterprises_own_fees_from_the_engine():
    entries, _, _ = loader.load_file(str(SHAPES))
    analysis = analyse(entries, load_rules(ROOT / "rules.yaml"))
    # wzs/: 五指山某某茶业 (E-WZ-001) paid 40,000.00 in 2024 and 40,000.00 more in 2025;
    # 五指山某某农业专业合作社 (E-WZ-003) paid 25,000.00, all used on WZ-2024-003's claim (2025-05-26).
    end, before = stress.position(analysis, "WZS", datetime.date(2025, 12, 31)), stress.position(
        analysis, "WZS", datetime.date(2024, 12, 31))
    assert end.own_fees is not None and before.own_fees is not None
    assert (before.own_fees["E-WZ-001"], end.own_fees["E-WZ-001"]) == (D("40000.00"), D("80000.00"))
    assert (before.own_fees["E-WZ-003"], end.own_fees["E-WZ-003"]) == (D("25000.00"), D("0.00"))
    assert stress.position(analysis, "GSBY", datetime.date(2025, 12, 31)).own_fees is None


def test_each_monte_carlo_draw_equals_the_deterministic_run_with_own_fees():
    rng = random.Random(21)
    exposures = [Exposure(f"L-{i:04d}", f"E-{i % 7}", D(rng.randint(1, 50_000_000)) / 100) for i in range(30)]
    exposures = [Exposure(e.loan, e.enterprise, e.outstanding.quantize(D("0.01"))) for e in exposures]
    position = own_fees_pool("900000.00", "2000000.00", {f"E-{k}": f"{k * 30000}.00" for k in range(7)})
    draws = stress.monte_carlo(position, exposures, D("0.3"), D("0.2"), 100, seed=5, keep_defaults=True)
    for i in range(draws.count):
        expected = stress.run(position, exposures, stress.dues_of_draw(exposures, draws.defaults[i]), D("0.2"))
        got = draws.outcome(i)
        assert (got.defaulted, got.guarantee, got.risk, got.bank, got.uncovered) == (
            expected.defaulted, expected.guarantee, expected.risk, expected.bank, expected.uncovered)
        assert got.recovered_by == expected.recovered_by
