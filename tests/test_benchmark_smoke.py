"""The benchmark at its smallest size, as CI's smoke test: it completes and prints its
ratios (no timing is asserted: speed belongs in docs/benchmarks.md, not in tests)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
    assert out.exists()


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
