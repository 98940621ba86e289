"""The benchmark at its smallest size, as CI's smoke test: it completes and prints its
ratios (no timing is asserted: speed belongs in docs/benchmarks.md, not in tests)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from zhubaodai.scripts.benchmark import Result
from zhubaodai.scripts.benchmark import main
from zhubaodai.scripts.benchmark import read_results
from zhubaodai.scripts.benchmark import verdicts

ROOT = Path(__file__).resolve().parent.parent


def _result(size: int, bare_cpu: float, full_cpu: float) -> Result:
    """A made-up measurement: ``size`` transactions, the given CPU seconds."""
    return Result(size=size, transactions=size, directives=5 * size, bare_seconds=bare_cpu, full_seconds=full_cpu,
                  bare_cpu=bare_cpu, full_cpu=full_cpu, bare_peak_mib=100.0, full_peak_mib=110.0,
                  full_returncode=0, bare_returncode=0, zbd_cpu=bare_cpu)


def test_the_rules_cost_per_transaction_is_judged_from_100k_up() -> None:
    """The figures of 2026-11-30: the full check's time per transaction at 1M was ×1.06 the
    10k figure (Beancount's own flat work and the fixed cost at 10k hide the growth), while
    the rules' own cost per transaction grew ×1.81 from 100k: the verdict must say so."""
    measured = [_result(10_000, 2.51, 3.81), _result(100_000, 23.51, 32.81), _result(1_000_000, 236.3, 404.5)]
    # Judged on CPU time like every target: a slower wall clock (another process on the
    # machine) at 1M does not change the verdict.
    measured[2] = Result(**{**vars(measured[2]), "full_seconds": 600.0, "bare_seconds": 400.0})
    lines = verdicts(measured)
    assert "达标：完整检查每笔 CPU 10k → 1,000,000 为 381 → 404 µs（×1.06；目标 ≤ ×1.25）" in lines
    assert "未达标：规则每笔多花的 CPU 100,000 → 1,000,000 笔为 93 → 168 µs（×1.81；目标 ≤ ×1.25）" in lines
    flat = [_result(100_000, 23.51, 32.81), _result(1_000_000, 236.3, 350.0)]
    assert "达标：规则每笔多花的 CPU 100,000 → 1,000,000 笔为 93 → 114 µs（×1.22；目标 ≤ ×1.25）" in verdicts(flat)


def _memory(size: int, bare_mib: float, full_mib: float) -> Result:
    found = _result(size, 1.0, 1.2)
    return Result(**{**vars(found), "bare_peak_mib": bare_mib, "full_peak_mib": full_mib})


def test_peak_memory_is_judged_from_100k_up_and_a_smaller_size_is_shown() -> None:
    """The figures of 2026-11-30 after the compact state: 1.146 at 100k meets the target;
    10k's 1.170 (the plugin's fixed 12 MiB on a 120 MiB check) is shown, not judged."""
    lines = verdicts([_memory(10_000, 120.0, 140.4), _memory(100_000, 977.0, 1120.0)])
    assert "达标：峰值内存比最高 1.146（100,000 笔；目标 ≤ 1.15）" in lines
    assert (
        "参考：10,000 笔时峰值内存比 1.170（120 → 140 MiB；插件的固定开销在小账本上占比大，目标按 10 万笔及以上判断）" in lines
    )
    lines = verdicts([_memory(10_000, 120.0, 130.0), _memory(100_000, 977.0, 1124.6), _memory(1_000_000, 9000.0, 10000.0)])
    assert "未达标：峰值内存比最高 1.151（100,000 笔；目标 ≤ 1.15）" in lines
    # Small sizes alone (the smoke run) are judged on themselves, with nothing for reference.
    lines = verdicts([_memory(1_000, 80.0, 100.0)])
    assert "未达标：峰值内存比最高 1.250（1,000 笔；目标 ≤ 1.15）" in lines
    assert not any(line.startswith("参考") for line in lines)


def test_a_1m_run_of_its_own_is_judged_against_an_earlier_run() -> None:
    earlier = [_result(10_000, 2.51, 3.81), _result(100_000, 23.51, 32.81)]
    lines = verdicts([_result(1_000_000, 236.3, 404.5)], earlier)
    assert "未达标：规则每笔多花的 CPU 100,000（--compare 的结果） → 1,000,000 笔为 93 → 168 µs（×1.81；目标 ≤ ×1.25）" in lines
    assert not any("规则每笔" in line for line in verdicts([_result(1_000_000, 236.3, 404.5)]))
    assert "无法判断规则每笔耗时是否平稳：10,000 笔时完整检查不比裸检查慢" in verdicts(
        [_result(10_000, 2.5, 2.4), _result(20_000, 5.0, 5.5)]
    )


def test_an_unreadable_compare_file_stops_before_anything_is_generated(tmp_path, capsys) -> None:
    bad = tmp_path / "earlier.json"
    bad.write_text("{不是 JSON", encoding="utf-8")
    assert main(["--sizes", "1000", "--workdir", str(tmp_path), "--compare", str(bad)]) == 2
    assert "错误：--compare 的文件无法读取" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["earlier.json"]


def test_a_compare_file_of_other_programs_is_refused(tmp_path, capsys) -> None:
    """A 100k run of CQGX and WLHT says nothing about a 1M run of every program."""
    earlier = tmp_path / "earlier.json"
    earlier.write_text(json.dumps({"programs": "CQGX,WLHT", "results": []}), encoding="utf-8")
    assert main(["--sizes", "1000", "--programs", "all", "--workdir", str(tmp_path), "--compare", str(earlier)]) == 2
    assert "其中的账本含项目 CQGX,WLHT，本次是 all，不能比较" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["earlier.json"]
    assert read_results(earlier, "CQGX,WLHT") == []


def test_benchmark_runs_at_1000_transactions(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "benchmark.py"), "--sizes", "1000", "--repeat", "1",
         "--workdir", str(tmp_path), "--json", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "## 机器" in done.stdout and "| 交易笔数 |" in done.stdout
    match = re.search(r"^ratio (\d+) time=(\d+\.\d+) cpu=(\d+\.\d+) memory=(\d+\.\d+) zbd=(\d+\.\d+)$", done.stdout, re.M)
    assert match, done.stdout
    assert 900 <= int(match.group(1)) <= 1100
    assert float(match.group(2)) > 0 and float(match.group(4)) > 0 and float(match.group(5)) > 0
    # Both ledgers were generated from the same seed: only the plugin line differs.
    full = (tmp_path / "bench-1000.beancount").read_text(encoding="utf-8").splitlines()
    bare = (tmp_path / "bench-1000-bare.beancount").read_text(encoding="utf-8").splitlines()
    assert [l for l in full if not l.startswith("plugin ")] == bare
    assert any(l.startswith('plugin "zhubaodai.plugin"') for l in full)
    # The JSON is what --compare reads back.
    (again,) = read_results(out)
    assert again.transactions == int(match.group(1)) and again.full_cpu > 0


def test_benchmark_runs_every_program_at_1000_transactions(tmp_path):
    """--programs all: the ledgers hold every program of rules.yaml and pass the check."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "benchmark.py"), "--sizes", "1000", "--repeat", "1",
         "--workdir", str(tmp_path), "--programs", "all"],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "项目：all" in done.stdout and "注意" not in done.stdout, done.stdout
    text = (tmp_path / "bench-1000.beancount").read_text(encoding="utf-8")
    for code in ("CQ-", "WL-", "GSBY-", "HKJB-", "SZPS-", "WZS-", "LNYQ-"):
        assert code in text, code


def test_import_benchmark_runs_at_1000_transactions(tmp_path):
    """scripts/bench_import.py: the month's statement imports into the synthetic ledger, every
    new loan's fee booked as a fee (matched to the fee the engine says is due), only the
    bank's charge and the unknown payment left for suspense."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_import.py"), "--sizes", "1000", "--repeat", "1",
         "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    row = re.search(r"^\| [\d,]+ \| (\d+) \| [\d.]+ \| [\d.]+ \| [\d.]+ \| \d+ \| \d+ \| (\d+) \| (\d+) \|$", done.stdout, re.M)
    assert row, done.stdout
    rows, booked, suspense = (int(n) for n in row.groups())
    assert rows >= 8 and booked == rows and suspense == 2
    text = (tmp_path / "import-1000.beancount").read_text(encoding="utf-8")
    assert text.count("Income:CQGX:Guarantee:Fees") == rows - 4
    assert "导入 / bean-check" in done.stdout


def test_the_engine_floor_runs_on_a_small_ledger(tmp_path):
    """profile_engine.py --floor: the register's own cost beside the whole engine, one row
    per step (no timing asserted)."""
    from zhubaodai.scripts.ledgergen import generate

    ledger = tmp_path / "small.beancount"
    generate(ledger, transactions=300, seed=1, bare=True, force=True)
    done = subprocess.run(
        [sys.executable, "-m", "zhubaodai.scripts.profile_engine", "--ledger", str(ledger), "--floor", "--repeat", "1"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    counts = re.search(r"([\d,]+) 条指令，其中登记簿指令 ([\d,]+) 条", done.stdout)
    assert counts, done.stdout
    directives, register = (int(n.replace(",", "")) for n in counts.groups())
    text = ledger.read_text(encoding="utf-8")
    assert register == len(re.findall(r'^\d{4}-\d\d-\d\d custom "(loan|enterprise|program|period)"', text, re.M))
    assert 0 < register < directives
    rows = re.findall(r"^\| (.+?) \| (\d+\.\d\d) \| (\d+\.\d\d) \|$", done.stdout, re.M)
    assert [label for label, _, _ in rows] == [
        "挑出登记簿指令", "逐条校验元数据并建事件（parse_event）", "登记簿归档（含上一步，不分派给任何规则）", "整个引擎（analyse）",
    ]


def test_the_engine_profile_says_when_the_ledger_is_missing(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "zhubaodai.scripts.profile_engine", "--ledger", str(tmp_path / "none.beancount"), "--floor"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert done.returncode == 2 and "错误：找不到账本文件" in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_fava_benchmark_runs_on_a_small_ledger(tmp_path):
    """scripts/bench_fava.py: every review page and the balance sheet, warm and as the first
    request after a reload, each with its ratio (no timing asserted)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_fava.py"), "--transactions", "300", "--repeat", "1",
         "--keep", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = re.findall(r"^(\S+)\s+[\d.]+ms\s+[\d.]+ms\s+[\d.]+×\s+[\d.]+ms\s+[\d.]+ms\s+([\d.]+)×", done.stdout, re.M)
    assert [name for name, _ in rows] == ["资产负债表", "资金池概况", "贷款台账", "代偿台账", "追偿台账", "孳息分配", "合规检查", "期限提醒"]
    assert rows[0][1] == "1.00"
