"""docs/adding-a-program.md's example program DEMO is real: its YAML blocks are a rules file
that loads, its Beancount blocks a ledger that passes bean-check with no findings, and what
the page shows of ``zbd rules`` and ``zbd check`` is what they print.

How the page marks its blocks (an HTML comment on the line right before the fence):

* ``<!-- example: rules -->`` before a ```` ```yaml ```` fence: part of the rules file (the
  blocks in page order are the file; calendar.yaml is copied beside it);
* ``<!-- example -->`` before a ```` ```beancount ```` fence: part of the ledger;
* ``<!-- example +RULE -->``: an illustration; added to the ledger, the engine finds exactly
  those rules (each once);
* ``<!-- output: rules -->`` / ``<!-- output: rules-error -->`` / ``<!-- output: check -->``:
  lines ``zbd rules`` (on the rules file; on it with ``summary`` misspelt) or ``zbd check``
  (on the ledger with the illustration) print.
"""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from beancount import loader
from beancount.parser import parser
from click.testing import CliRunner

from zhubaodai.cli import main
from zhubaodai.core.engine import analyse
from zhubaodai.core.rules import load_rules

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "adding-a-program.md"
BEAN_CHECK = Path(sys.executable).with_name("bean-check")
MARK = re.compile(r"^<!-- (example(?:: rules| \+([a-z_.,]+))?|output: ([a-z-]+)) -->$")


@dataclass(frozen=True)
class Block:
    lineno: int
    language: str
    text: str
    mark: str | None  # "rules", "ledger", "extra", "output"
    adds: tuple[str, ...] = ()
    output: str = ""


def blocks_of(markdown: str) -> list[Block]:
    lines = markdown.splitlines()
    found = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            language = lines[i][3:].strip()
            end = lines.index("```", i + 1)
            match = MARK.match(lines[i - 1].strip()) if i > 0 else None
            mark, adds, output = None, (), ""
            if match:
                if match[1] == "example: rules":
                    mark = "rules"
                elif match[2]:
                    mark, adds = "extra", tuple(match[2].split(","))
                elif match[3]:
                    mark, output = "output", match[3]
                else:
                    mark = "ledger"
            found.append(Block(i + 1, language, "\n".join(lines[i + 1:end]) + "\n", mark, adds, output))
            i = end
        i += 1
    return found


@pytest.fixture(scope="module")
def blocks() -> list[Block]:
    return blocks_of(DOC.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def folder(blocks: list[Block], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo")
    shutil.copy(REPO / "calendar.yaml", path / "calendar.yaml")
    (path / "rules.yaml").write_text("".join(b.text for b in blocks if b.mark == "rules"), encoding="utf-8")
    (path / "main.beancount").write_text("\n".join(b.text for b in blocks if b.mark == "ledger"), encoding="utf-8")
    return path


def zbd(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def outputs(blocks: list[Block], name: str) -> list[str]:
    return [line for b in blocks if b.output == name for line in b.text.splitlines() if line.strip()]


def with_extra(folder: Path, block: Block) -> Path:
    path = folder / f"extra-{block.lineno}.beancount"
    path.write_text((folder / "main.beancount").read_text(encoding="utf-8") + "\n" + block.text, encoding="utf-8")
    return path


def test_the_page_marks_a_rules_file_a_ledger_an_illustration_and_outputs(blocks: list[Block]) -> None:
    marks = Counter(b.mark for b in blocks)
    assert marks["rules"] == 3 and marks["ledger"] == 4 and marks["extra"] == 1 and marks["output"] == 4
    assert all(b.language == "yaml" for b in blocks if b.mark == "rules")
    assert all(b.language == "beancount" for b in blocks if b.mark in ("ledger", "extra"))


def test_every_yaml_and_beancount_block_parses(blocks: list[Block]) -> None:
    for block in blocks:
        if block.language == "yaml":
            yaml.safe_load(block.text)
        elif block.language == "beancount":
            _, errors, _ = parser.parse_string(block.text)
            assert errors == [], f"第 {block.lineno} 行：{errors[0].message}"


def test_the_example_rules_load_with_the_amendment_and_the_assumption(folder: Path) -> None:
    program = load_rules(folder / "rules.yaml").programs["DEMO"]
    assert program.code == "DEMO" and "示例" in program.name  # clearly an invented example
    rate = program.rules["fee.rate"].params["rate"]
    assert [str(v.citation) for v in rate.versions] == ["示县金〔2024〕1号 第五条", "示县金〔2024〕9号 第二条"]
    workdays = program.rules["notice.disbursement"].params["workdays"]
    assert workdays.assumption_at(datetime.date(2025, 3, 4)).startswith("示例办法只写")


def test_zbd_rules_prints_what_the_page_shows(blocks: list[Block], folder: Path) -> None:
    result = zbd("rules", folder / "rules.yaml", "--date", "2025-03-03")
    assert result.exit_code == 0, result.output
    printed = result.output.splitlines()
    shown = outputs(blocks, "rules")
    assert len(shown) >= 10
    for line in shown:
        assert line in printed, line


def test_a_misspelt_key_is_the_error_the_page_shows(blocks: list[Block], folder: Path) -> None:
    text = (folder / "rules.yaml").read_text(encoding="utf-8")
    old = "        summary: 助保金须在签订贷款合同前缴足。\n"
    assert text.count(old) == 1
    broken = folder / "broken" / "rules.yaml"
    broken.parent.mkdir(exist_ok=True)
    broken.write_text(text.replace(old, old.replace("summary", "sumary")), encoding="utf-8")
    shutil.copy(REPO / "calendar.yaml", broken.parent / "calendar.yaml")
    result = zbd("rules", broken)
    assert result.exit_code == 2
    [shown] = outputs(blocks, "rules-error")
    # The page writes the file as 示例县/rules.yaml; the rest of the line is the command's.
    assert result.output.strip().endswith(shown.split("示例县/rules.yaml", 1)[1]), result.output


def test_the_example_ledger_passes_bean_check_with_no_findings(folder: Path) -> None:
    result = subprocess.run([str(BEAN_CHECK), str(folder / "main.beancount")], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout.strip() == "" and result.stderr.strip() == "", result.stdout + result.stderr
    entries, errors, _ = loader.load_file(str(folder / "main.beancount"))
    analysis = analyse(entries, load_rules(folder / "rules.yaml"))
    assert [str(f) for f in analysis.findings] == []
    # The figures the text quotes: the fees due and the notice deadline.
    fees = {loan: str(account.due) for loan, account in analysis.records.fees.items()}
    assert fees == {"DEMO-2024-001": "20000.00", "DEMO-2025-001": "30000.00"}
    calendar = analysis.rulebook.calendar
    [deadline] = [d for d in analysis.records.deadlines if d.loan == "DEMO-2025-001" and d.rule == "notice.disbursement"]
    last = calendar.nth_workday_after(deadline.deadline.start, deadline.deadline.n)
    assert f"最后一日 {last}" in DOC.read_text(encoding="utf-8")


def test_the_illustration_adds_a_fee_finding_citing_the_amendment(blocks: list[Block], folder: Path) -> None:
    [block] = [b for b in blocks if b.mark == "extra"]
    path = with_extra(folder, block)
    entries, errors, _ = loader.load_file(str(path))
    findings = analyse(entries, load_rules(folder / "rules.yaml")).findings
    assert Counter(f.rule for f in findings) == Counter(block.adds), [str(f) for f in findings]
    [finding] = findings
    assert finding.citation == "示县金〔2024〕9号 第二条"
    assert finding.message.endswith("应缴 15,000.00 元，实缴 14,999.99 元，差额 0.01 元")
    assert "应缴 15,000.00 元，实缴 14,999.99 元，差额 0.01 元" in DOC.read_text(encoding="utf-8")
    result = zbd("check", path)
    assert result.exit_code == 1
    printed = result.output.splitlines()
    for line in outputs(blocks, "check"):
        assert line in printed, line
    check = subprocess.run([str(BEAN_CHECK), str(path)], capture_output=True, text=True, check=False)
    assert check.returncode == 1 and finding.message in check.stdout + check.stderr


def test_section_10_generates_a_demo_and_a_synthetic_ledger_of_the_example(folder: Path) -> None:
    """The commands of section 10, on the example's own rules.yaml: no generator code."""
    rules = folder / "rules.yaml"
    demo = folder / "演示"
    done = subprocess.run(
        [sys.executable, "-m", "zhubaodai.scripts.gen_demo", "--program", "DEMO", "--rules", str(rules),
         "--output", str(demo)],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    synthetic = folder / "合成.beancount"
    result = zbd("generate", "--programs", "DEMO", "--rules", rules, "--loans", "200", "--seed", "1", "-o", synthetic)
    assert result.exit_code == 0, result.output
    for ledger in (demo / "main.beancount", synthetic):
        check = subprocess.run([str(BEAN_CHECK), str(ledger)], capture_output=True, text=True, check=False)
        assert check.returncode == 0 and check.stdout.strip() == "", check.stdout + check.stderr
        entries, errors, _ = loader.load_file(str(ledger))
        assert errors == []
        analysis = analyse(entries, load_rules(rules))
        assert [str(f) for f in analysis.findings] == []
        assert {loan.program for loan in analysis.register.loans.values()} == {"DEMO"}
