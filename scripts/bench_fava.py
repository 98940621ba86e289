"""Benchmark: each Fava review page, warm, against Fava's own balance sheet.

Generates a synthetic ledger of N transactions (default 100,000) with
:func:`zhubaodai.scripts.ledgergen.generate` (or, where that module is missing, a small
generator of its own), registers the extension on it, loads it in Fava (in this process,
through Flask's test client: the server's work without network noise) and times:

* Fava's balance sheet: the page shell ``/<ledger>/balance_sheet/`` plus the data its
  frontend fetches, ``/<ledger>/api/balance_sheet``;
* each review page ``/<ledger>/extension/<page>/``.

"Cold" is the page's first request in the process; "warm" is the median of the following
``--repeat`` requests; "after a reload" is the page's first request after Fava reloads the
ledger (as it does when a file changes), with its CPU time. The targets: each page warm
within 1.5× the balance sheet warm, and (issue 9) a page's first request after a reload
within 1.5× the balance sheet's first request after a reload, in CPU time. Usage::

    .venv/bin/python scripts/bench_fava.py [--transactions 100000] [--repeat 7]
        [--ledger PATH] [--keep DIR] [--check]

``--ledger`` benchmarks an existing ledger (it must register the extension);
``--check`` exits 1 when a page misses the target.
"""

from __future__ import annotations

import datetime
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import click
from zhubaodai.fava import PAGES

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.5
EXTENSION_LINE = '2000-01-01 custom "fava-extension" "zhubaodai.fava"\n'


@dataclass(frozen=True)
class Timing:
    name: str
    cold: float
    warm: float
    #: The first request after a fresh (re)load of the ledger: wall and CPU seconds
    #: (issue 9's target compares these: a review page against the balance sheet).
    first: float = 0.0
    first_cpu: float = 0.0


def _generate(path: Path, transactions: int, seed: int) -> str:
    try:
        from zhubaodai.scripts.ledgergen import generate
    except ImportError:
        _fallback_generate(path, transactions, seed)
        return "scripts/bench_fava.py 自带的简易生成器"

    def progress(written: int, target: int) -> None:
        print(f"\r  生成中 {written:,}/{target:,} 笔交易", end="", file=sys.stderr, flush=True)

    generate(str(path), transactions=transactions, seed=seed, force=True, progress=progress)
    print(file=sys.stderr)
    return "zhubaodai.scripts.ledgergen.generate"


def _fallback_generate(path: Path, transactions: int, seed: int) -> None:
    """A clean single-program ledger of the right size: an injection, loans approved and
    contracted with their fees paid (the engine's ``fee_due``), quarterly interest split
    by the engine's ``split_interest`` over its ``DailyBalance.jishu``."""
    import random
    from decimal import Decimal

    from zhubaodai.checks.fees import fee_due
    from zhubaodai.checks.pool import split_interest
    from zhubaodai.core.engine import DailyBalance

    one_day = datetime.timedelta(days=1)
    rnd = random.Random(seed)
    accounts = ["Assets:CQGX:Pool", "Assets:CQGX:Pool:Guarantee", "Assets:CQGX:Pool:Risk",
                "Assets:CQGX:Pool:Suspense", "Income:CQGX:Guarantee:Fees", "Income:CQGX:Risk:Injection",
                "Income:CQGX:Guarantee:Interest", "Income:CQGX:Risk:Interest",
                "Expenses:CQGX:Guarantee:Compensation", "Expenses:CQGX:Risk:Compensation",
                "Income:CQGX:Guarantee:Recovery", "Income:CQGX:Risk:Recovery", "Equity:CQGX:Disposal"]
    out = [
        'option "title" "助保贷基准测试账本"\n',
        'option "operating_currency" "CNY"\n',
        f"plugin \"zhubaodai.plugin\" \"{{'rules': '{ROOT / 'rules.yaml'}'}}\"\n",
        *(f"2021-02-24 open {a} CNY\n" for a in accounts),
    ]
    day = datetime.date(2021, 3, 1)
    injection = Decimal("50000000.00")
    out.append(f'{day} * "财政局" "注入风险补偿金"\n  Assets:CQGX:Pool:Risk {injection} CNY\n'
               f"  Income:CQGX:Risk:Injection {-injection} CNY\n")
    funds = {"guarantee": DailyBalance(), "risk": DailyBalance()}
    funds["risk"].add(day, injection)
    period_start = day
    per_day = max(1, transactions // 1400)
    written, n = 1, 0
    while written < transactions:
        day += one_day
        if day.day == 21 and day.month in (3, 6, 9, 12):
            end = day - one_day
            total = Decimal(rnd.randint(100000, 900000)) / 100
            g, r = split_interest(total, funds["guarantee"].jishu(period_start, end),
                                  funds["risk"].jishu(period_start, end))
            out.append(f'{day} * "银行" "结息"\n  period_end: {end}\n'
                       f"  Assets:CQGX:Pool:Guarantee {g} CNY\n  Assets:CQGX:Pool:Risk {r} CNY\n"
                       f"  Income:CQGX:Guarantee:Interest {-g} CNY\n  Income:CQGX:Risk:Interest {-r} CNY\n")
            funds["guarantee"].add(day, g)
            funds["risk"].add(day, r)
            period_start = day
            written += 1
        for _ in range(per_day):
            n += 1
            loan = f"CQ-B-{n:06d}"
            amount = Decimal(rnd.randint(10, 300)) * 10000
            fee = fee_due(amount, Decimal("0.025"))
            out.append(f'{day} custom "enterprise" "register" "E-{n:06d}"\n  program: "CQGX"\n  name: "企业{n}"\n')
            out.append(f'{day} custom "loan" "approval" "{loan}"\n  program: "CQGX"\n  enterprise: "E-{n:06d}"\n'
                       f'  amount: {amount} CNY\n  letter: "函{n}"\n')
            out.append(f'{day} * "企业{n}" "缴纳助保金" ^{loan}\n  Assets:CQGX:Pool:Guarantee {fee} CNY\n'
                       f"  Income:CQGX:Guarantee:Fees {-fee} CNY\n")
            out.append(f'{day} custom "loan" "contract" "{loan}"\n  amount: {amount} CNY\n')
            funds["guarantee"].add(day, fee)
            written += 1
    path.write_text("".join(out), encoding="utf-8")


def _timed(call: Callable[[], None], repeat: int) -> tuple[float, float]:
    start = time.perf_counter()
    call()
    cold = time.perf_counter() - start
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        runs.append(time.perf_counter() - start)
    return cold, statistics.median(runs)


def run(ledger: Path, repeat: int) -> tuple[float, list[Timing]]:
    from fava.application import create_app

    started = time.perf_counter()
    app = create_app([str(ledger)], read_only=True, load=True)
    client = app.test_client()
    first = client.get("/")
    load = time.perf_counter() - started
    prefix = "/" + first.location.strip("/").split("/")[0]
    names = {d.name for d in app.config["LEDGERS"][unquote(prefix.strip("/"))].extensions.extension_details}
    missing = set(PAGES) - names
    if missing:
        raise click.ClickException(f"账本没有注册审阅页面扩展（{EXTENSION_LINE.strip()}）")

    def get(path: str) -> None:
        response = client.get(prefix + path)
        if response.status_code != 200:
            raise click.ClickException(f"{path} 返回 {response.status_code}")
        if b"\xe5\xae\xa1\xe9\x98\x85\xe9\xa1\xb5\xe9\x9d\xa2\xe6\x97\xa0\xe6\xb3\x95" in response.data:
            raise click.ClickException(f"{path}：审阅页面无法运行规则引擎")

    def balance_sheet() -> None:
        get("/balance_sheet/")
        get("/api/balance_sheet")

    fava_ledger = app.config["LEDGERS"].ledgers[0]

    def after_reload(call: Callable[[], None]) -> tuple[float, float]:
        """The request's wall and CPU time as the first one after Fava reloads the ledger
        (what it does when a file changes: the plugin, the extension's after_load_file)."""
        fava_ledger.load_file()
        start, cpu = time.perf_counter(), time.process_time()
        call()
        return time.perf_counter() - start, time.process_time() - cpu

    timings = [Timing("balance_sheet", *_timed(balance_sheet, repeat), *after_reload(balance_sheet))]
    for name in PAGES:
        page = lambda n=name: get(f"/extension/{n}/")  # noqa: E731
        timings.append(Timing(name, *_timed(page, repeat), *after_reload(page)))
    return load, timings


@click.command()
@click.option("--transactions", default=100_000, show_default=True, help="生成账本的交易笔数")
@click.option("--seed", default=1, show_default=True)
@click.option("--repeat", default=7, show_default=True, help="热请求次数（取中位数）")
@click.option("--ledger", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="改用已有账本")
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), help="生成的账本保存到此目录")
@click.option("--check", is_flag=True, help="有页面未达到目标时以状态 1 退出")
def main(transactions: int, seed: int, repeat: int, ledger: Path | None, keep: Path | None, check: bool) -> None:
    """Fava 审阅页面（热）与 Fava 资产负债表的响应时间对比。"""
    from beancount import loader

    loader.initialize(use_cache=False)
    with tempfile.TemporaryDirectory() as tmp:
        source = "已有账本"
        if ledger is None:
            folder = keep or Path(tmp)
            folder.mkdir(parents=True, exist_ok=True)
            ledger = folder / f"bench-{transactions}.beancount"
            print(f"==> 生成 {transactions:,} 笔交易的账本 {ledger}", file=sys.stderr)
            source = _generate(ledger, transactions, seed)
            with ledger.open("a", encoding="utf-8") as out:
                out.write("\n" + EXTENSION_LINE)
        ledger = ledger.resolve()
        size = ledger.stat().st_size
        print(f"==> Fava 载入 {ledger.name}（{size / 1e6:.1f} MB）", file=sys.stderr)
        load, timings = run(ledger, repeat)
    base = timings[0].warm
    print(f"账本：{transactions:,} 笔交易（{source}），{size / 1e6:.1f} MB；Fava 载入 {load:.2f} s")
    print(f"机器：{os.cpu_count()} 核，Python {sys.version.split()[0]}；热请求取 {repeat} 次中位数")
    first_base = timings[0].first_cpu
    print("“重载后首次”：Fava 重新载入账本后该页面的第一个请求（issue 9 的目标比较它的 CPU 时间：审阅页面对资产负债表）。")
    print(f"{'页面':<12}{'冷（首次）':>10}{'热':>10}{'热/资产负债表':>12}{'重载后首次':>12}{'其 CPU':>10}"
          f"{'CPU/资产负债表':>14}  目标 ≤ {TARGET}×")
    missed = []
    for t in timings:
        label = "资产负债表" if t.name == "balance_sheet" else PAGES[t.name]
        ratio = t.warm / base if base else float("inf")
        first_ratio = t.first_cpu / first_base if first_base else float("inf")
        verdict = "" if t.name == "balance_sheet" else (
            "达标" if ratio <= TARGET and first_ratio <= TARGET else "未达标"
        )
        if verdict == "未达标":
            missed.append(label)
        print(f"{label:<12}{t.cold * 1000:>8.1f}ms{t.warm * 1000:>8.1f}ms{ratio:>11.2f}×"
              f"{t.first * 1000:>10.1f}ms{t.first_cpu * 1000:>8.1f}ms{first_ratio:>13.2f}×  {verdict}")
    if check and missed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
