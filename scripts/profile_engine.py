"""Where the engine's time goes: the rule engine alone, on entries loaded once.

Beancount's own loading (and its pickle cache) is left out: the ledger is loaded once,
without the plugin, and :func:`zhubaodai.core.engine.analyse` is run on its entries
``--repeat`` times. Two reports (CPU time, ``time.process_time``):

* by part (default): the register's parsing and filing, each rule module's hooks
  (``on_register``, ``start``, ``on_movement``, ``on_register_event``, ``finish``),
  and the walk's own work (the rest), the smallest of the repeats;
* ``--cprofile N``: Python's cProfile of one run, the N functions of most own time and
  most cumulative time (call counts are exact; times are inflated by the profiler);
* ``--floor``: the register's own cost with no rule subscribed (picking its directives,
  validating each into an event, filing them), beside the whole engine: what any rule
  set written in Python pays before its first check.

On a loaded machine compare proportions and call counts, not seconds; compare two
versions of the engine in the same conditions (``--ab``: this tree and another copy of
the package, run alternately)::

    .venv/bin/python scripts/profile_engine.py --transactions 100000
    .venv/bin/python scripts/profile_engine.py --ledger /tmp/l.beancount --cprofile 40
    .venv/bin/python scripts/profile_engine.py --transactions 10000 --ab /tmp/base --repeat 5 --plain
    .venv/bin/python scripts/profile_engine.py --transactions 100000 --floor --repeat 2

This is a measuring tool, never a test: no time is asserted anywhere.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOOKS = ("on_register", "start", "on_movement", "on_register_event", "finish")


def load_bare(ledger: Path) -> list[Any]:
    """The ledger's entries as Beancount gives them, without running any plugin."""
    from beancount import loader

    text = ledger.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("plugin ")]
    entries, errors, _ = loader.load_string("\n".join(lines) + "\n", dedent=False)
    if errors:
        sys.exit(f"账本有 {len(errors)} 个 Beancount 错误（第一个：{errors[0].message}）")
    return entries


def _timed(spent: dict[str, float], key: str, hook: Callable[..., Any]) -> Callable[..., Any]:
    clock = time.process_time

    @functools.wraps(hook)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = clock()
        try:
            return hook(*args, **kwargs)
        finally:
            spent[key] = spent.get(key, 0.0) + clock() - t0

    return wrapper


def by_part(entries: list[Any], rulebook: Any) -> dict[str, float]:
    """One run, its CPU time split by part (seconds). The hooks are wrapped for the run;
    a hook's time is its own (a hook called from another is counted in the caller)."""
    from zhubaodai.checks import CHECKS
    from zhubaodai.core import engine

    spent: dict[str, float] = {}
    saved: list[tuple[Any, str, Any]] = []
    for check in CHECKS:
        name = check.__name__.rsplit(".", 1)[-1]
        for hook in HOOKS:
            original = getattr(check, hook, None)
            if original is not None:
                saved.append((check, hook, original))
                setattr(check, hook, _timed(spent, f"{name}.{hook}", original))
    saved.append((engine, "build_register", engine.build_register))
    engine.build_register = _timed(spent, "register", engine.build_register)
    try:
        t0 = time.process_time()
        engine.analyse(entries, rulebook)
        total = time.process_time() - t0
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)
    hooks_in_register = sum(v for k, v in spent.items() if k.endswith(".on_register"))
    spent["register"] = spent.get("register", 0.0) - hooks_in_register  # parse and file only
    spent["walk (the engine's own)"] = total - sum(spent.values())
    spent["total"] = total
    return spent


def measure(ledger: Path, rules: Path, repeat: int, cprofile: int, plain: bool = False) -> dict[str, float]:
    from zhubaodai.core import engine
    from zhubaodai.core.rules import load_rules

    entries = load_bare(ledger)
    rulebook = load_rules(str(rules))
    if cprofile:
        profiler = cProfile.Profile()
        profiler.enable()
        engine.analyse(entries, rulebook)
        profiler.disable()
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(cprofile)
            print(out.getvalue())
        return {}
    best: dict[str, float] = {}
    for _ in range(repeat):
        if plain:  # the engine as it runs: no hook wrapped (each wrapper costs a call)
            t0 = time.process_time()
            engine.analyse(entries, rulebook)
            found = {"total": time.process_time() - t0}
        else:
            found = by_part(entries, rulebook)
        if not best or found["total"] < best["total"]:
            best = found
    return best


#: The steps :func:`floor` times, in order, with their Chinese labels.
FLOOR_STEPS = {
    "pick": "挑出登记簿指令",
    "parse": "逐条校验元数据并建事件（parse_event）",
    "file": "登记簿归档（含上一步，不分派给任何规则）",
    "engine": "整个引擎（analyse）",
}


@dataclass(frozen=True)
class Floor:
    """What :func:`floor` measured: CPU seconds by step of :data:`FLOOR_STEPS`."""

    seconds: dict[str, float]
    directives: int
    register: int


def floor(entries: list[Any], rulebook: Any, repeat: int) -> Floor:
    """The register's own cost, no rule subscribed, beside the whole engine: CPU seconds of
    each step of :data:`FLOOR_STEPS`, the smallest of ``repeat`` runs, the collector paused
    in each step as the engine pauses it in its run."""
    from beancount.core.data import Custom

    from zhubaodai.core import engine
    from zhubaodai.core.register import REGISTER_TYPES
    from zhubaodai.core.register import RegisterError
    from zhubaodai.core.register import build_register
    from zhubaodai.core.register import parse_event

    def pick() -> list[Custom]:
        return [e for e in entries if isinstance(e, Custom) and e.type in REGISTER_TYPES]

    customs = pick()

    def parse() -> None:
        known: set[str] = set()
        for entry in customs:
            try:
                parse_event(entry, known)
            except RegisterError:
                pass

    programs = set(rulebook.programs)
    steps: dict[str, Callable[[], Any]] = {
        "pick": pick,
        "parse": parse,
        "file": lambda: build_register(customs, programs, lambda *args: None),
        "engine": lambda: engine.analyse(entries, rulebook),
    }
    best: dict[str, float] = {}
    for _ in range(repeat):
        for key, step in steps.items():
            gc.collect()
            enabled = gc.isenabled()
            gc.disable()
            try:
                t0 = time.process_time()
                step()
                spent = time.process_time() - t0
            finally:
                if enabled:
                    gc.enable()
            best[key] = min(best.get(key, spent), spent)
    return Floor(best, len(entries), len(customs))


def show_floor(found: Floor, title: str) -> None:
    directives = found.directives
    print(f"## {title}：{directives:,} 条指令，其中登记簿指令 {found.register:,} 条（CPU，取最小的一轮）")
    print("| 只做这一步 | CPU (s) | µs/条指令 |")
    print("|---|---:|---:|")
    for key, label in FLOOR_STEPS.items():
        spent = found.seconds[key]
        print(f"| {label} | {spent:.2f} | {spent / max(directives, 1) * 1e6:.2f} |")


def show(parts: dict[str, float], title: str) -> None:
    total = parts["total"]
    print(f"## {title}：引擎合计 {total:.2f} s CPU（最小的一轮）")
    print("| 部分 | CPU (s) | 占引擎 |")
    print("|---|---:|---:|")
    for key, value in sorted(parts.items(), key=lambda kv: -kv[1]):
        if key != "total" and value >= 0.005:
            print(f"| {key} | {value:.2f} | {value / total:.0%} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="规则引擎的 CPU 时间分布（只计引擎，不计 Beancount 读账本）")
    parser.add_argument("--ledger", type=Path, help="账本文件（不带插件读入；默认按 --transactions 生成）")
    parser.add_argument("--transactions", type=int, default=10_000, help="生成的合成账本交易笔数（默认 10000）")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rules", type=Path, default=ROOT / "rules.yaml")
    parser.add_argument("--repeat", type=int, default=3, help="运行次数，取最小（默认 3）")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N", help="用 cProfile 运行一次，列出前 N 个函数")
    parser.add_argument("--ab", type=Path, metavar="目录", help="另一份 zhubaodai 包（其上级目录放在 PYTHONPATH 前面），交替比较")
    parser.add_argument("--plain", action="store_true", help="只计引擎合计（不包装各模块的钩子，A/B 比较用）")
    parser.add_argument("--floor", action="store_true", help="只读登记簿（不分派给任何规则）的耗时，与整个引擎并列")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    ledger = args.ledger
    if ledger is not None and not ledger.is_file():
        print(f"错误：找不到账本文件 {ledger}", file=sys.stderr)
        return 2
    if ledger is None:
        from zhubaodai.scripts.ledgergen import generate

        folder = Path(tempfile.mkdtemp(prefix="zbd-profile-"))
        ledger = folder / f"synthetic-{args.transactions}.beancount"
        generate(ledger, transactions=args.transactions, seed=args.seed, bare=True, force=True)
    if args.floor:
        from zhubaodai.core.rules import load_rules

        show_floor(floor(load_bare(ledger), load_rules(str(args.rules)), args.repeat), str(ledger))
        return 0
    if args.ab is None:
        parts = measure(ledger, args.rules, args.repeat, args.cprofile, args.plain)
        if args.json:
            print(json.dumps(parts))
        elif parts:
            show(parts, str(ledger))
        return 0
    # A/B: each side in its own process (a fresh interpreter), alternately, one run each.
    sides = {"A（本目录）": None, f"B（{args.ab}）": str(args.ab.resolve())}
    results: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
    for _ in range(args.repeat):
        for name, path in sides.items():
            env = dict(os.environ)
            if path is not None:
                env["PYTHONPATH"] = path + os.pathsep + env.get("PYTHONPATH", "")
            command = [sys.executable, __file__, "--ledger", str(ledger), "--rules", str(args.rules),
                       "--repeat", "1", "--json", *(["--plain"] if args.plain else [])]
            out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
            results[name].append(json.loads(out.strip().splitlines()[-1]))
    for name, runs in results.items():
        best = min(runs, key=lambda r: r["total"])
        totals = "、".join(f"{r['total']:.2f}" for r in runs)
        if args.plain:
            print(f"{name}：引擎合计 CPU 各轮 {totals} s，最小 {best['total']:.2f} s")
        else:
            show(best, f"{name}，各轮 {totals}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
