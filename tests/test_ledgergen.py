"""The synthetic ledger generator (scripts/ledgergen.py, writing with scripts/synth.py):
rule-compliant at small sizes, about the asked size, deterministic per seed, a bare twin
without the plugin line, and a careful CLI."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from beancount import loader
from beancount.core.data import Custom
from beancount.core.data import Transaction

from zhubaodai.core.engine import analyse
from zhubaodai.core.rules import load_rules
from zhubaodai.scripts.ledgergen import GenerationError
from zhubaodai.scripts.ledgergen import generate

REPO = Path(__file__).resolve().parent.parent
RULES = REPO / "rules.yaml"
BEAN_CHECK = Path(sys.executable).with_name("bean-check")


def bean_check(path: Path) -> subprocess.CompletedProcess[str]:
    exe = str(BEAN_CHECK) if BEAN_CHECK.exists() else shutil.which("bean-check")
    return subprocess.run([exe, "-C", str(path)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("gen") / "1k.beancount"
    stats = generate(path, transactions=1000, seed=7)
    return path, stats


def test_small_ledger_passes_bean_check(small):
    path, _ = small
    result = bean_check(path)
    assert result.returncode == 0, result.stdout[:2000] + result.stderr[:2000]
    assert result.stdout.strip() == ""


def test_small_ledger_has_no_findings_and_the_asked_size(small):
    path, stats = small
    entries, errors, _ = loader.load_file(str(path))
    assert errors == []
    analysis = analyse(entries, load_rules(str(RULES)))
    assert [str(f) for f in analysis.findings] == []  # warnings included
    transactions = [e for e in entries if isinstance(e, Transaction)]
    assert len(transactions) == stats.transactions
    assert abs(stats.transactions - 1000) <= 10  # the size asked, within 1%
    assert stats.directives == len(entries) - 1  # all but the fava-option line
    loans = analysis.register.loans.values()
    assert len(loans) == stats.loans
    assert {loan.program for loan in loans} == {"CQGX", "WLHT"}
    kinds = Counter(e.kind for loan in loans for e in loan.events)
    for kind in ("increase", "renewal", "repayment", "settlement", "overdue", "claim"):
        assert kinds[kind] > 0, kind
    assert len(analysis.records.interest) == 2 * 16  # quarterly, both programs, 2022–2025
    paid = [c for c in analysis.records.claims.values() if c.guarantee_done]
    assert paid and stats.defaults >= len(paid)
    # The benchmark's mix: fees, injections, interest (above), compensations and recoveries.
    assert analysis.records.recoveries and stats.recoveries == len(analysis.records.recoveries)
    narrations = Counter(e.narration[:4] for e in transactions)
    assert narrations["缴纳助保金"[:4]] > 500 and any("注入" in n for n in narrations)
    assert any(isinstance(e, Custom) and e.values[0].value == "blacklist" for e in entries)


def test_ten_thousand_transactions_pass_bean_check(tmp_path):
    path = tmp_path / "10k.beancount"
    stats = generate(path, transactions=10000, seed=3)
    assert abs(stats.transactions - 10000) <= 50
    result = bean_check(path)
    assert result.returncode == 0, result.stdout[:2000] + result.stderr[:2000]
    assert result.stdout.strip() == ""


def test_same_seed_same_bytes_other_seed_other_ledger(small, tmp_path):
    path, _ = small
    again = tmp_path / "again.beancount"
    generate(again, transactions=1000, seed=7)
    assert again.read_bytes() == path.read_bytes()
    other = io.StringIO()
    generate(other, transactions=1000, seed=8)
    assert other.getvalue().encode() != path.read_bytes()


def test_bare_is_the_same_ledger_without_the_plugin_line(small, tmp_path):
    path, _ = small
    bare = tmp_path / "bare.beancount"
    generate(bare, transactions=1000, seed=7, bare=True)
    full_lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    bare_lines = bare.read_text(encoding="utf-8").splitlines(keepends=True)
    plugin = [line for line in full_lines if line.startswith("plugin ")]
    assert len(plugin) == 1 and "zhubaodai.plugin" in plugin[0]
    assert bare_lines == [line for line in full_lines if not line.startswith("plugin ")]
    assert bean_check(bare).returncode == 0


def test_by_number_of_loans_and_progress():
    seen = []
    out = io.StringIO()
    stats = generate(out, loans=300, seed=1, progress=lambda written, target: seen.append((written, target)))
    assert stats.loans == 300
    assert seen and seen[-1][0] == stats.transactions


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"transactions": 0}, "正整数"),
        ({}, "之一"),
        ({"transactions": 10, "loans": 10}, "之一"),
        ({"transactions": 10, "rules": "/nonexistent/rules.yaml"}, "/nonexistent/rules.yaml.*(找不到|无法读取)"),
    ],
)
def test_bad_requests_are_chinese_errors(kwargs, words):
    with pytest.raises(GenerationError, match=words):
        generate(io.StringIO(), **kwargs)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": "12345"}  # another process, other string hashes
    return subprocess.run(
        [sys.executable, "-m", "zhubaodai.scripts.ledgergen", *args], capture_output=True, text=True, env=env
    )


def test_cli_writes_and_refuses_to_overwrite(tmp_path):
    path = tmp_path / "cli.beancount"
    first = run_cli("--transactions", "200", "--seed", "2", "-o", str(path))
    assert first.returncode == 0, first.stderr
    assert "200 笔交易" in first.stderr
    written = path.read_bytes()
    here = tmp_path / "api.beancount"  # the same folder: the same relative rules path
    generate(here, transactions=200, seed=2)
    assert here.read_bytes() == written  # the same bytes from another process
    here.unlink()

    again = run_cli("--transactions", "300", "--seed", "5", "-o", str(path))
    assert again.returncode == 2  # input that cannot be used, as docs/cli.md says
    assert "已存在" in again.stderr and "--force" in again.stderr
    assert "Traceback" not in again.stderr
    assert path.read_bytes() == written
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind

    forced = run_cli("--transactions", "300", "--seed", "5", "-o", str(path), "--force")
    assert forced.returncode == 0, forced.stderr
    assert path.read_bytes() != written


def test_cli_bad_input_is_a_chinese_error(tmp_path):
    result = run_cli("--transactions", "-5", "-o", str(tmp_path / "x.beancount"))
    assert result.returncode != 0
    assert result.stderr.startswith("错误：") and "Traceback" not in result.stderr
    assert not (tmp_path / "x.beancount").exists()
    missing_dir = run_cli("--transactions", "10", "-o", str(tmp_path / "no" / "x.beancount"))
    assert missing_dir.returncode != 0 and "目录不存在" in missing_dir.stderr


def test_the_plugin_line_names_the_rules_relative_to_the_ledger(tmp_path):
    """A generated ledger travels: its plugin line names rules.yaml relative to the ledger's
    own folder (as the plugin reads it), never the absolute path of this checkout."""
    path = tmp_path / "deep" / "er" / "gen.beancount"
    path.parent.mkdir(parents=True)
    generate(path, loans=5, seed=1)
    (line,) = [l for l in path.read_text(encoding="utf-8").splitlines() if l.startswith("plugin ")]
    expected = os.path.relpath(RULES, path.parent)
    assert line == f"plugin \"zhubaodai.plugin\" \"{{'rules': '{Path(expected).as_posix()}'}}\""
    assert not Path(expected).is_absolute() and "'/" not in line
    # The relative path is the one the plugin resolves: bean-check from another folder passes.
    exe = str(BEAN_CHECK) if BEAN_CHECK.exists() else shutil.which("bean-check")
    result = subprocess.run([exe, str(path)], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[:2000] + result.stderr[:2000]
