"""Benchmark: importing a month's bank statement into a large ledger, against one
``bean-check`` of that ledger (issue 9: an import costs ≤ 1.2 × one bean-check).

For each size it generates the benchmark's synthetic ledger (the same generator and seed as
``scripts/benchmark.py``), registers the next month's new CQGX loans in it (approval and
contract, for enterprises whose earlier loans are repaid: what an accountant enters before
importing) and writes that month's statement of CQGX's special account in CCB's flat
export: each new loan's fee as the engine's analysis says it is due, paid by its enterprise,
the finance bureau's injection, a bank fee, an interest credit and a payment no rule knows.
Its opening balance is the pool's balance in the ledger, so the importer accepts it. Then, alternately, ``--repeat`` times:

* ``bean-check -C`` of the ledger (every rule on; Beancount's cache off);
* ``python -m zhubaodai.importers extract`` of the statement into that ledger, writing the
  entries to a new file, with Beancount's cache file removed before each run, so both
  read the ledger from its text.

It reports the CPU time (``os.wait4``'s rusage) of each, their ratio and the import's
output (rows booked, rows sent to suspense). Measure on a quiet machine; never a timed
test (the 1k size is the CI smoke test, tests/test_benchmark_smoke.py).

Usage::

    .venv/bin/python scripts/bench_import.py                        # 10k and 100k
    .venv/bin/python scripts/bench_import.py --sizes 1000 --repeat 1
    .venv/bin/python scripts/bench_import.py --json out.json

Exit status 0 when every run completed (a missed target is reported, not failed); 2 when a
run could not be made (a generation, a check or an import failed).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from beancount import loader
from beancount.core import data

from zhubaodai.core.engine import Analysis
from zhubaodai.core.engine import result_of
from zhubaodai.core.register import Loan
from zhubaodai.scripts.benchmark import Run
from zhubaodai.scripts.benchmark import bean_check_command
from zhubaodai.scripts.benchmark import machine
from zhubaodai.scripts.benchmark import measure
from zhubaodai.scripts.benchmark import say
from zhubaodai.scripts.ledgergen import GenerationError
from zhubaodai.scripts.ledgergen import generate

ROOT = Path(__file__).resolve().parent.parent
ONE_DAY = datetime.timedelta(days=1)
DEFAULT_SIZES = (10_000, 100_000)
IMPORT_TARGET = 1.2  # import / one bean-check of the ledger (CPU)
PROGRAM = "CQGX"
POOL_CONFIG = ROOT / "importers" / "pools" / "cqgx.yaml"
ACCOUNT = "50050110360000001688"
ACCOUNT_NAME = "重庆高新区创新服务中心助保贷专户"
BANK = "中国建设银行股份有限公司重庆高新支行"
#: CCB's flat export, as importers/banks.yaml's ``ccb-flat`` layout reads it.
HEADER = [
    "账号", "账户名称", "交易时间", "借方发生额（支取）", "贷方发生额（收入）", "余额", "币种",
    "对方户名", "对方账号", "对方开户机构", "记账日期", "摘要", "备注", "账户明细编号-交易流水号",
    "企业流水号", "凭证种类", "凭证号",
]


@dataclass(frozen=True)
class Result:
    size: int
    transactions: int
    rows: int
    check_cpu: float
    import_cpu: float
    check_seconds: float
    import_seconds: float
    check_peak_mib: float
    import_peak_mib: float
    booked: int
    suspense: int

    @property
    def ratio(self) -> float:
        return self.import_cpu / self.check_cpu


@dataclass(frozen=True)
class Row:
    day: datetime.date
    amount: Decimal  # signed: + into the account
    counterparty: str
    summary: str
    remark: str


def load(ledger: Path) -> tuple[list[data.Directive], Analysis]:
    """The ledger's entries and the plugin's analysis of that load (setting up, not measured)."""
    entries, errors, options = loader.load_file(str(ledger))
    without_cache(ledger)
    analysis = result_of(options, entries)
    if analysis is None or any(type(e).__name__ in ("ParserError", "LoadError") for e in errors):
        raise GenerationError(f"合成账本 {ledger} 未能读取：{errors[0].message if errors else '插件没有运行'}")
    return entries, analysis


def settled_enterprises(analysis: Analysis, on: datetime.date) -> list[str]:
    """CQGX's enterprises whose every loan is repaid by ``on`` and never went overdue: they
    may borrow again."""
    loans: dict[str, list[Loan]] = {}
    for loan in analysis.register.loans.values():
        if loan.program == PROGRAM:
            loans.setdefault(loan.enterprise, []).append(loan)
    return sorted(
        e for e, held in loans.items()
        if all(loan.outstanding(on) == 0 and loan.first("overdue") is None for loan in held)
    )


def new_loans(ledger: Path, enterprises: list[str], first: datetime.date, count: int) -> list[tuple[str, str]]:
    """Append ``count`` new CQGX loans (approval on ``first``, contract the day after) to the
    ledger: the month's business whose fees the statement then pays. Returns (loan, enterprise)."""
    made = []
    with ledger.open("a", encoding="utf-8") as out:
        for i in range(count):
            loan, enterprise = f"CQ-{first.year}-B{i + 1:05d}", enterprises[i % len(enterprises)]
            amount = Decimal(500_000 + 100_000 * (i % 16))
            out.write(
                f'\n{first} custom "loan" "approval" "{loan}"\n  program: "{PROGRAM}"\n  enterprise: "{enterprise}"\n'
                f'  amount: {amount:.2f} CNY\n  letter: "高新创服函〔{first.year}〕B{i + 1}号"\n  term_months: 12\n'
                f'  purpose: "流动资金"\n'
                f'\n{first + ONE_DAY} custom "loan" "contract" "{loan}"\n  amount: {amount:.2f} CNY\n'
                f'  contract_no: "建渝高新{first.year}流借字第B{i + 1}号"\n'
                f"  maturity: {first.replace(year=first.year + 1)}\n  rate: 0.0350\n"
            )
            made.append((loan, enterprise))
    return made


def pool_balance(analysis: Analysis) -> Decimal:
    """The special account's balance at the ledger's end as the engine's walk left it: the
    two funds and the pool's other accounts (the parent itself, suspense)."""
    state = analysis.programs[PROGRAM]
    return sum(
        (fund.balance for fund in state.funds.values()), start=Decimal("0.00")
    ) + sum(state.unallocated.values(), start=Decimal("0.00"))


def month_rows(
    analysis: Analysis, loans: list[tuple[str, str]], first: datetime.date, seed: int
) -> list[Row]:
    """A month of the special account's rows from ``first``: each new loan's fee as the
    engine says it is due, paid by its enterprise; the finance bureau's injection, a bank
    fee, an interest credit and a payment no rule knows."""
    rng = random.Random(seed)
    days = [first + datetime.timedelta(days=i) for i in range(2, 27)]
    rows = []
    for loan, enterprise in loans:
        account = analysis.records.fees[loan]
        name = analysis.register.enterprises[enterprise].data["name"]
        rows.append(Row(rng.choice(days), account.due - account.paid, name, "网银转账", f"助保金 {loan}"))
    rows += [
        Row(days[1], Decimal("1000000.00"), "重庆高新区财政局", "拨款", "风险补偿金"),
        Row(days[8], Decimal("-100.00"), "", "汇划手续费", ""),
        Row(days[18], Decimal("15678.90"), "", "结息", "季度利息"),
        Row(days[23], Decimal("12345.67"), "重庆某某商贸有限公司", "转账", "货款"),
    ]
    rows.sort(key=lambda r: r.day)
    return rows


def write_statement(path: Path, rows: list[Row], opening: Decimal) -> None:
    balance = opening
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i, row in enumerate(rows, 1):
            balance += row.amount
            debit = -row.amount if row.amount < 0 else Decimal(0)
            credit = row.amount if row.amount > 0 else Decimal(0)
            stamp = row.day.strftime("%Y%m%d")
            writer.writerow([
                ACCOUNT, ACCOUNT_NAME, f"{stamp} {10 + i % 8:02d}:{i % 60:02d}:00",
                f"{debit:,.2f}" if debit else "0", f"{credit:,.2f}" if credit else "0.00", f"{balance:,.2f}", "人民币",
                row.counterparty, "", BANK if row.counterparty else "", stamp, row.summary, row.remark,
                f"{10000 + i:05d}-{stamp}{i:06d}", "", "电子转账凭证" if row.counterparty else "", f"{i:08d}",
            ])


def write_config(path: Path, ledger: Path) -> None:
    """The shipped CQGX import configuration, its rules, layouts and ledger made absolute."""
    text = POOL_CONFIG.read_text(encoding="utf-8")
    lines = []
    for line in text.splitlines():
        key = line.split(":", 1)[0]
        if key == "rules":
            line = f"rules: {ROOT / 'rules.yaml'}"
        elif key == "ledger":
            line = f"ledger: {ledger}"
        elif key == "banks":
            line = f"banks: {ROOT / 'importers' / 'banks.yaml'}"
        lines.append(line)
    if not any(line.startswith("banks:") for line in lines):
        lines.append(f"banks: {ROOT / 'importers' / 'banks.yaml'}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def without_cache(ledger: Path) -> None:
    for cache in ledger.parent.glob(f".{ledger.name}*.picklecache"):
        cache.unlink()


def prepare(size: int, workdir: Path, seed: int) -> tuple[int, int]:
    """Write the ledger, the month's new loans, the statement and the import configuration
    into ``workdir``; (transactions, statement rows)."""
    ledger = workdir / f"bench-{size}.beancount"
    stats = generate(ledger, transactions=size, seed=seed, force=True)
    entries, analysis = load(ledger)
    last = max(e.date for e in entries)
    first = (last.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    enterprises = settled_enterprises(analysis, last)
    if not enterprises:
        raise GenerationError(f"合成账本中没有可再借款的 {PROGRAM} 企业")
    # A month's fees in proportion to the ledger (its transactions over its months; CQGX's half).
    months = max(1, round((stats.end - stats.start).days / 30.4))
    loans = new_loans(ledger, enterprises, first, max(4, stats.transactions // months // 2))
    entries, analysis = load(ledger)
    rows = month_rows(analysis, loans, first, seed)
    statement = workdir / f"ccb-{size}.csv"
    write_statement(statement, rows, pool_balance(analysis))
    del entries, analysis
    write_config(workdir / "cqgx.yaml", ledger)
    return stats.transactions, len(rows)


def bench_size(size: int, workdir: Path, seed: int, repeat: int) -> Result:
    say(f"==> 生成 {size:,} 笔交易的账本（种子 {seed}），登记次月的新贷款并写出次月的对账单")
    # In a child process: the set-up loads the ledger twice, and a process forked from a
    # large one starts with its resident pages, which would count in the runs' peak memory.
    done = subprocess.run(
        [sys.executable, "-m", "zhubaodai.scripts.bench_import", "--prepare", str(workdir), "--sizes", str(size),
         "--seed", str(seed)],
        capture_output=True, text=True,
    )
    if done.returncode != 0:
        raise GenerationError(f"准备账本与对账单失败：{(done.stderr or done.stdout).strip()[-500:]}")
    transactions, count = (int(n) for n in done.stdout.split())
    ledger = workdir / f"bench-{size}.beancount"
    statement = workdir / f"ccb-{size}.csv"
    config = workdir / "cqgx.yaml"
    check = [*bean_check_command(), "-C", str(ledger)]
    out = workdir / f"import-{size}.beancount"
    extract = [sys.executable, "-m", "zhubaodai.importers", "extract", str(statement),
               "--ledger", str(ledger), "--config", str(config), "-o", str(out), "--force"]
    checks: list[Run] = []
    imports: list[Run] = []
    for i in range(repeat):
        say(f"    第 {i + 1}/{repeat} 轮：bean-check -C、导入 {count} 行对账单")
        checks.append(measure(check))
        without_cache(ledger)
        imports.append(measure(extract))
        without_cache(ledger)
        if imports[-1].returncode != 0:
            raise GenerationError(f"导入失败（退出状态 {imports[-1].returncode}）：{imports[-1].output.strip()[:500]}")
    flags = re.findall(r"^\d{4}-\d\d-\d\d ([*!]) ", out.read_text(encoding="utf-8"), re.MULTILINE)
    booked, suspense = len(flags), flags.count("!")
    return Result(
        size=size, transactions=transactions, rows=count,
        check_cpu=statistics.median(r.cpu_seconds for r in checks),
        import_cpu=statistics.median(r.cpu_seconds for r in imports),
        check_seconds=statistics.median(r.seconds for r in checks),
        import_seconds=statistics.median(r.seconds for r in imports),
        check_peak_mib=statistics.median(r.peak_kib for r in checks) / 1024,
        import_peak_mib=statistics.median(r.peak_kib for r in imports) / 1024,
        booked=booked, suspense=suspense,
    )


def table(results: list[Result]) -> str:
    lines = [
        "| 交易笔数 | 对账单行数 | bean-check CPU (s) | 导入 CPU (s) | 导入 / bean-check | bean-check 峰值 (MiB) | 导入峰值 (MiB) | 导入的分录 | 其中待查明 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.transactions:,} | {r.rows:,} | {r.check_cpu:.2f} | {r.import_cpu:.2f} | {r.ratio:.2f} | "
            f"{r.check_peak_mib:.0f} | {r.import_peak_mib:.0f} | {r.booked:,} | {r.suspense:,} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="导入一个月对账单与一次 bean-check 的耗时对比（issue 9）")
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES), help="交易笔数，逗号分隔")
    parser.add_argument("--repeat", type=int, default=3, help="每个规模交替运行的轮数（默认 3）")
    parser.add_argument("--seed", type=int, default=1, help="随机种子（默认 1，与 benchmark.py 相同）")
    parser.add_argument("--json", type=Path, help="把结果写成 JSON")
    parser.add_argument("--workdir", type=Path, help="账本、对账单与导入结果留在此目录（默认用临时目录，结束时删除）")
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)  # the set-up's child process
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        say(f"错误：--sizes 应为逗号分隔的正整数：{args.sizes}")
        return 2
    if args.prepare:
        try:
            print(*prepare(sizes[0], args.prepare, args.seed))
        except GenerationError as error:
            say(str(error))
            return 2
        return 0
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="zbd-bench-import-") as tmp:
            workdir = args.workdir or Path(tmp)
            workdir.mkdir(parents=True, exist_ok=True)
            for size in sizes:
                results.append(bench_size(size, workdir, args.seed, args.repeat))
    except GenerationError as error:
        say(f"错误：{error}")
        return 2
    print(table(results))
    for r in results:
        verdict = "达标" if r.ratio <= IMPORT_TARGET else "未达标"
        print(f"{r.transactions:,} 笔：导入 / bean-check = {r.ratio:.2f}（目标 ≤ {IMPORT_TARGET}）：{verdict}")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "results": [asdict(r) | {"ratio": r.ratio} for r in results]},
                                        ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
