"""Benchmark: the full check (every 助保贷 rule on) against bare ``bean-check``.

For each size it generates one synthetic ledger with :func:`zhubaodai.scripts.ledgergen.generate`
twice from the same seed, once with the ``plugin "zhubaodai.plugin"`` line and once
without it (``bare``: the same bytes otherwise), and runs ``bean-check -C`` (no cache) on
both, alternately, ``--repeat`` times. It reports for each size the wall time and the
peak resident memory of each child process (``os.wait4``'s rusage), their ratios, and the
time per transaction; then checks the targets of issue 9:

* full check ≤ 1.10 × bare at 100k transactions (CPU time; issue 9);
* ``zbd check`` (one engine run, every rule, warnings too) ≤ 1.0 × bare ``bean-check -C``
  at 100k (CPU time);
* CPU time per transaction flat from 10k up (the largest size within 1.25 × the 10k figure), and
  the rules' own cost per transaction (full − bare CPU) flat from 100k up, where the fixed
  cost of importing the rules no longer counts (``--compare`` takes the smaller sizes from
  an earlier ``--json`` run, for a 1M run made on its own);
* peak memory ≤ 1.15 × bare.

Usage::

    .venv/bin/python scripts/benchmark.py                     # 1k, 10k, 100k
    .venv/bin/python scripts/benchmark.py --million           # and 1M (about 35 minutes, 12 GB)
    .venv/bin/python scripts/benchmark.py --sizes 1000000 --compare out.json  # 1M against an earlier 100k
    .venv/bin/python scripts/benchmark.py --sizes 1000        # the CI smoke test
    .venv/bin/python scripts/benchmark.py --json out.json     # figures for docs/benchmarks.md
    .venv/bin/python scripts/benchmark.py --programs all      # every program in rules.yaml

Exit status 0 when every run completed (targets missed are reported, not failed: the
figures go in docs/benchmarks.md either way); 2 when a run could not be made.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import fields
from importlib import metadata
from pathlib import Path
from typing import Sequence

from zhubaodai.scripts.ledgergen import GenerationError
from zhubaodai.scripts.ledgergen import generate

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = (1_000, 10_000, 100_000)
MILLION = 1_000_000
TIME_TARGET = 1.10  # full / bare at 100k (CPU)
ZBD_TARGET = 1.0  # zbd check / bare bean-check at 100k (CPU)
MEMORY_TARGET = 1.15  # full / bare
FLAT_TARGET = 1.25  # largest size's µs per transaction / 10k's


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu_seconds: float
    peak_kib: int
    returncode: int
    output: str


@dataclass(frozen=True)
class Result:
    size: int
    transactions: int
    directives: int
    bare_seconds: float
    full_seconds: float
    bare_cpu: float
    full_cpu: float
    bare_peak_mib: float
    full_peak_mib: float
    full_returncode: int
    bare_returncode: int
    zbd_seconds: float = 0.0
    zbd_cpu: float = 0.0
    zbd_peak_mib: float = 0.0

    @property
    def zbd_ratio(self) -> float:
        """zbd check / bare bean-check, CPU time."""
        return self.zbd_cpu / self.bare_cpu

    @property
    def time_ratio(self) -> float:
        return self.full_seconds / self.bare_seconds

    @property
    def cpu_ratio(self) -> float:
        return self.full_cpu / self.bare_cpu

    @property
    def memory_ratio(self) -> float:
        return self.full_peak_mib / self.bare_peak_mib

    def per_transaction_us(self, which: str) -> float:
        """CPU µs per transaction of the full or the bare check (the targets are CPU time)."""
        seconds = self.full_cpu if which == "full" else self.bare_cpu
        return seconds / self.transactions * 1e6

    @property
    def rules_us_per_transaction(self) -> float:
        """What the rules add per transaction: (full − bare) CPU µs. Unlike the full check's
        time per transaction it is not diluted by Beancount's own (flat) work, so it shows
        the engine's growth with the ledger."""
        return (self.full_cpu - self.bare_cpu) / self.transactions * 1e6


def bean_check_command() -> list[str]:
    script = Path(sys.executable).with_name("bean-check")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from beancount.scripts.check import main; main()"]


def measure(command: list[str]) -> Run:
    """Run ``command``; its wall time and its own peak RSS (KiB, Linux's ru_maxrss)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stdout.close()
    cpu = usage.ru_utime + usage.ru_stime
    return Run(seconds, cpu, int(usage.ru_maxrss), process.returncode, output.decode("utf-8", "replace"))


def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "—"

    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "beancount": version("beancount"),
        "zhubaodai": version("zhubaodai"),
    }


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def bench_size(size: int, workdir: Path, seed: int, repeat: int, programs: str | None = None) -> Result:
    full = workdir / f"bench-{size}.beancount"
    bare = workdir / f"bench-{size}-bare.beancount"
    which = f"，项目 {programs}" if programs else ""
    say(f"==> 生成 {size:,} 笔交易的账本（带插件与不带插件，种子 {seed}{which}）")
    stats = generate(full, transactions=size, seed=seed, force=True, programs=programs)
    generate(bare, transactions=size, seed=seed, bare=True, force=True, programs=programs)
    command = bean_check_command()
    bare_runs: list[Run] = []
    full_runs: list[Run] = []
    zbd_runs: list[Run] = []
    zbd = [str(Path(sys.executable).with_name("zbd")), "check", "--format", "json", str(full)]
    for i in range(repeat):
        say(f"    第 {i + 1}/{repeat} 轮：bean-check -C（裸）、完整检查、zbd check")
        bare_runs.append(measure([*command, "-C", str(bare)]))
        full_runs.append(measure([*command, "-C", str(full)]))
        zbd_runs.append(measure(zbd))
    for name, runs in (("裸", bare_runs), ("完整", full_runs)):
        if runs[-1].returncode != 0:
            first = runs[-1].output.strip().splitlines()[:3]
            say(f"    注意：{name} bean-check 退出状态 {runs[-1].returncode}：{' / '.join(first)}")
    return Result(
        size=size,
        transactions=stats.transactions,
        directives=stats.directives,
        bare_seconds=statistics.median(r.seconds for r in bare_runs),
        full_seconds=statistics.median(r.seconds for r in full_runs),
        bare_cpu=statistics.median(r.cpu_seconds for r in bare_runs),
        full_cpu=statistics.median(r.cpu_seconds for r in full_runs),
        bare_peak_mib=statistics.median(r.peak_kib for r in bare_runs) / 1024,
        full_peak_mib=statistics.median(r.peak_kib for r in full_runs) / 1024,
        full_returncode=full_runs[-1].returncode,
        bare_returncode=bare_runs[-1].returncode,
        zbd_seconds=statistics.median(r.seconds for r in zbd_runs),
        zbd_cpu=statistics.median(r.cpu_seconds for r in zbd_runs),
        zbd_peak_mib=statistics.median(r.peak_kib for r in zbd_runs) / 1024,
    )


class CompareError(Exception):
    """An earlier run's results that cannot be compared with this run's (its message is Chinese)."""


def read_results(path: Path, programs: str | None = None) -> list[Result]:
    """The results of an earlier ``--json`` run; with ``programs`` (this run's), only if the
    earlier ledgers held the same programs (:class:`CompareError` otherwise)."""
    names = {f.name for f in fields(Result)}
    payload = json.loads(path.read_text(encoding="utf-8"))
    earlier = payload.get("programs", "CQGX,WLHT")
    if programs is not None and earlier != programs:
        raise CompareError(f"其中的账本含项目 {earlier}，本次是 {programs}，不能比较")
    return [Result(**{k: v for k, v in item.items() if k in names}) for item in payload["results"]]


def table(results: list[Result]) -> str:
    lines = [
        "| 交易笔数 | 指令数 | 裸 bean-check (s) | 完整检查 (s) | 时间比 | CPU 时间比 | zbd check CPU (s) | zbd check / 裸 CPU | 裸 µs/笔（CPU） | 完整 µs/笔（CPU） | 规则 µs/笔（CPU） | 裸峰值内存 (MiB) | 完整峰值内存 (MiB) | 内存比 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.transactions:,} | {r.directives:,} | {r.bare_seconds:.2f} | {r.full_seconds:.2f} | "
            f"{r.time_ratio:.3f} | {r.cpu_ratio:.3f} | {r.zbd_cpu:.2f} | {r.zbd_ratio:.3f} | {r.per_transaction_us('bare'):.0f} | {r.per_transaction_us('full'):.0f} | "
            f"{r.rules_us_per_transaction:.0f} | {r.bare_peak_mib:.0f} | {r.full_peak_mib:.0f} | {r.memory_ratio:.3f} |"
        )
    return "\n".join(lines)


def verdicts(results: list[Result], earlier: Sequence[Result] = ()) -> list[str]:
    """The targets, one line each. ``earlier``: results of an earlier run (``--compare``),
    used only for the flatness of the rules' cost when this run lacks the smaller sizes."""
    lines = []
    by_size = {r.size: r for r in results}
    if 100_000 in by_size:
        r = by_size[100_000]
        ok = r.cpu_ratio <= TIME_TARGET
        lines.append(f"{'达标' if ok else '未达标'}：100k 时完整检查 / 裸（CPU）= {r.cpu_ratio:.3f}（目标 ≤ {TIME_TARGET}）")
        ok = r.zbd_ratio <= ZBD_TARGET
        lines.append(f"{'达标' if ok else '未达标'}：100k 时 zbd check / 裸 bean-check（CPU）= {r.zbd_ratio:.3f}（目标 ≤ {ZBD_TARGET}）")
    lines.extend(_memory(results))
    if 10_000 in by_size and max(by_size) > 10_000:
        base = by_size[10_000].per_transaction_us("full")
        top = by_size[max(by_size)]
        growth = top.per_transaction_us("full") / base
        ok = growth <= FLAT_TARGET
        lines.append(
            f"{'达标' if ok else '未达标'}：完整检查每笔 CPU 10k → {top.transactions:,} 为 {base:.0f} → "
            f"{top.per_transaction_us('full'):.0f} µs（×{growth:.2f}；目标 ≤ ×{FLAT_TARGET}）"
        )
    lines.extend(_rules_flat(results, earlier))
    return lines


def _memory(results: list[Result]) -> list[str]:
    """The peak memory target, judged at 100k and more (the sizes issue 9 sets its targets
    at: below them the plugin's fixed cost, its modules and rules.yaml, about 12 MiB, is a
    tenth of the bare check's whole peak); a smaller size's worst ratio is given for
    reference. A run of small sizes only is judged on them."""
    large = [r for r in results if r.size >= 100_000]
    small = [r for r in results if r.size < 100_000]
    lines = []
    worst = max(large or small, key=lambda r: r.memory_ratio)
    ok = worst.memory_ratio <= MEMORY_TARGET
    lines.append(f"{'达标' if ok else '未达标'}：峰值内存比最高 {worst.memory_ratio:.3f}（{worst.transactions:,} 笔；目标 ≤ {MEMORY_TARGET}）")
    if large and small:
        low = max(small, key=lambda r: r.memory_ratio)
        lines.append(
            f"参考：{low.transactions:,} 笔时峰值内存比 {low.memory_ratio:.3f}（{low.bare_peak_mib:.0f} → {low.full_peak_mib:.0f} MiB；"
            f"插件的固定开销在小账本上占比大，目标按 10 万笔及以上判断）"
        )
    return lines


def _rules_flat(results: list[Result], earlier: Sequence[Result]) -> list[str]:
    """The rules' own CPU per transaction (full − bare), from the smallest size of at least
    100k (else 10k) to the largest; where both runs measured a size, this run's figure."""
    known = {r.size: (r, "（--compare 的结果）") for r in earlier}
    known.update({r.size: (r, "") for r in results})
    top = max(results, key=lambda r: r.size)
    floor = 100_000 if any(100_000 <= s < top.size for s in known) else 10_000
    smaller = [s for s in known if floor <= s < top.size]
    if not smaller:
        return []
    base, source = known[min(smaller)]
    if base.rules_us_per_transaction <= 0:  # the rules cost nothing measurable there: no base
        return [f"无法判断规则每笔耗时是否平稳：{base.transactions:,} 笔时完整检查不比裸检查慢"]
    growth = top.rules_us_per_transaction / base.rules_us_per_transaction
    ok = growth <= FLAT_TARGET
    return [
        f"{'达标' if ok else '未达标'}：规则每笔多花的 CPU {base.transactions:,}{source} → {top.transactions:,} 笔为 "
        f"{base.rules_us_per_transaction:.0f} → {top.rules_us_per_transaction:.0f} µs（×{growth:.2f}；目标 ≤ ×{FLAT_TARGET}）"
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="完整检查（全部规则）与裸 bean-check 的耗时与峰值内存对比")
    parser.add_argument("--sizes", default=None, help="交易笔数，逗号分隔（默认 1000,10000,100000）")
    parser.add_argument("--million", action="store_true", help="再测 1,000,000 笔（约需 35 分钟和 12 GB 内存）")
    parser.add_argument("--seed", type=int, default=1, help="生成账本的随机种子（默认 1）")
    parser.add_argument("--repeat", type=int, default=None, help="每个规模测几轮取中位数（默认：10 万笔以下 3 轮，以上 1 轮）")
    parser.add_argument("--workdir", default=None, help="账本存放目录（默认临时目录，结束后删除）")
    parser.add_argument("--json", dest="json_path", default=None, help="把结果另存为 JSON")
    parser.add_argument(
        "--compare", default=None, metavar="JSON",
        help="此前一次 --json 的结果（同一台机器、同样的项目）：本次缺少的较小规模取自它，用于判断规则每笔耗时是否平稳",
    )
    parser.add_argument(
        "--programs", default=None, metavar="代码,代码|all",
        help="账本含哪些项目（rules.yaml 中的代码，逗号分隔；all 为全部项目；默认 CQGX 与 WLHT，与历次基准相同）",
    )
    args = parser.parse_args(argv)
    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")] if args.sizes else list(DEFAULT_SIZES)
    except ValueError:
        say(f"错误：--sizes 应为逗号分隔的整数：{args.sizes!r}")
        return 2
    if args.million and MILLION not in sizes:
        sizes.append(MILLION)
    if any(s < 1 for s in sizes):
        say("错误：交易笔数应为正整数")
        return 2
    earlier: list[Result] = []
    if args.compare:
        try:
            earlier = read_results(Path(args.compare), args.programs or "CQGX,WLHT")
        except (OSError, ValueError, KeyError, TypeError, AttributeError, CompareError) as exc:
            say(f"错误：--compare 的文件无法读取：{args.compare}（{exc}）")
            return 2
    info = machine()
    say("==> 机器：" + "，".join(f"{k} {v}" for k, v in info.items()))
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="zbd-bench-") as tmp:
        workdir = Path(args.workdir) if args.workdir else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for size in sorted(sizes):
            repeat = args.repeat or (3 if size < 100_000 else 1)
            try:
                results.append(bench_size(size, workdir, args.seed, repeat, args.programs))
            except (GenerationError, OSError) as exc:
                say(f"错误：{size:,} 笔的基准测试无法进行：{exc}")
                return 2
            r = results[-1]
            say(f"    {r.transactions:,} 笔：时间比 {r.time_ratio:.3f}（CPU {r.cpu_ratio:.3f}），内存比 {r.memory_ratio:.3f}")
    print("## 机器")
    for key, value in info.items():
        print(f"- {key}: {value}")
    print()
    print(f"## 结果（bean-check -C，中位数；项目：{args.programs or 'CQGX,WLHT'}）")
    print(table(results))
    print()
    for line in verdicts(results, earlier):
        print(f"- {line}")
    for r in results:
        print(f"ratio {r.transactions} time={r.time_ratio:.4f} cpu={r.cpu_ratio:.4f} memory={r.memory_ratio:.4f} zbd={r.zbd_ratio:.4f}")
        if r.full_returncode != 0 or r.bare_returncode != 0:
            print(f"注意：{r.transactions:,} 笔的账本检查未通过（裸 {r.bare_returncode}，完整 {r.full_returncode}），耗时仍照录")
    if args.json_path:
        payload = {
            "machine": info,
            "programs": args.programs or "CQGX,WLHT",
            "results": [
                {**asdict(r), "time_ratio": r.time_ratio, "cpu_ratio": r.cpu_ratio, "memory_ratio": r.memory_ratio,
                 "zbd_ratio": r.zbd_ratio,
                 "bare_us_per_transaction": r.per_transaction_us("bare"),
                 "full_us_per_transaction": r.per_transaction_us("full"),
                 "rules_us_per_transaction": r.rules_us_per_transaction}
                for r in results
            ],
        }
        Path(args.json_path).write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
