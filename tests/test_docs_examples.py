"""docs/ledger-format.md's worked example is a real ledger: it passes bean-check and the
engine finds exactly what the page says it finds.

How the page marks its blocks (an HTML comment on the line right before a
```` ```beancount ```` fence; Markdown viewers do not show it):

* ``<!-- example -->``: the block belongs to the example ledger (the top file of §1, the
  accounts of §2, every step of §5). The blocks, in page order, are the ledger, with
  the top file adjusted: its ``include`` lines dropped and the plugin's ``rules`` path
  pointed at the repository's rules.yaml. The page says this ledger has no findings.
* ``<!-- example +RULE[,RULE...] -->``: an illustration outside the example ledger; added
  to it, the engine finds exactly those rules (each once), and nothing else. Warnings
  only, so bean-check still passes.

Unmarked beancount blocks are fragments (the enterprise records of §3.1, §7 …): they
must parse, nothing more. The figures the text of §5 quotes (the interest table, the
compensation and recovery split, the deadlines) are checked against the engine's
records, so a change of rules or engine that moves them fails here.
"""

from __future__ import annotations

import datetime
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from beancount import loader
from beancount.parser import parser

from zhubaodai.core.engine import analyse
from zhubaodai.core.findings import WARNING
from zhubaodai.core.money import ZERO
from zhubaodai.core.money import yuan
from zhubaodai.core.rules import load_rules

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "ledger-format.md"
RULES = REPO / "rules.yaml"
BEAN_CHECK = Path(sys.executable).with_name("bean-check")
MARK = re.compile(r"^<!-- example(?: \+([a-z_.,]+))? -->$")
PLUGIN = "plugin \"zhubaodai.plugin\" \"{'rules': '../rules.yaml'}\""


@dataclass(frozen=True)
class Block:
    lineno: int  # of the opening fence, 1-based
    text: str
    marked: bool
    adds: tuple[str, ...]  # rules an illustration adds to the example ledger


def beancount_blocks(markdown: str) -> list[Block]:
    lines = markdown.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```beancount":
            end = lines.index("```", i + 1)
            mark = MARK.match(lines[i - 1].strip()) if i > 0 else None
            adds = tuple(mark.group(1).split(",")) if mark and mark.group(1) else ()
            blocks.append(Block(i + 1, "\n".join(lines[i + 1:end]) + "\n", mark is not None, adds))
            i = end
        i += 1
    return blocks


def example_ledger(blocks: list[Block]) -> str:
    story = [b for b in blocks if b.marked and not b.adds]
    text = "\n".join(b.text for b in story)
    assert text.count(PLUGIN) == 1, "示例账本应有且只有一行第 1 节的插件行"
    kept = [line for line in text.splitlines() if not line.startswith("include ")]
    return "\n".join(kept).replace("'../rules.yaml'", repr(str(RULES))) + "\n"


@pytest.fixture(scope="module")
def blocks() -> list[Block]:
    return beancount_blocks(DOC.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def ledger(blocks: list[Block], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ledger-format") / "main.beancount"
    path.write_text(example_ledger(blocks), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def analysis(ledger: Path):
    entries, errors, _ = loader.load_file(str(ledger))
    assert errors == [], [e.message for e in errors]
    return analyse(entries, load_rules(str(RULES)))


def bean_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BEAN_CHECK), "-C", str(path)], capture_output=True, text=True, check=False)


def test_the_example_is_the_top_file_the_accounts_and_every_step_of_section_5(blocks: list[Block]) -> None:
    text = DOC.read_text(encoding="utf-8").splitlines()
    section = {}
    current = ""
    for n, line in enumerate(text, 1):
        if line.startswith("## ") or line.startswith("### "):
            current = line.split()[1]
        section[n] = current
    marked = [section[b.lineno] for b in blocks if b.marked and not b.adds]
    assert marked[:2] == ["1.", "2."]
    assert set(marked[2:]) == {f"5.{k}" for k in range(1, 12)}
    assert all(section[b.lineno].startswith("5.") for b in blocks if b.adds)


def test_every_beancount_block_of_the_page_parses(blocks: list[Block]) -> None:
    for block in blocks:
        _, errors, _ = parser.parse_string(block.text)
        assert errors == [], f"docs/ledger-format.md 第 {block.lineno} 行的代码块：{errors[0].message}"


def test_the_example_ledger_passes_bean_check(ledger: Path) -> None:
    result = bean_check(ledger)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == ""


def test_the_example_ledger_has_no_findings(analysis) -> None:
    assert [str(f) for f in analysis.findings] == []
    loans = analysis.register.loans
    assert sorted(loans) == ["CQ-2024-001", "CQ-2024-002"]
    assert all(loan.settled(loan.events[-1].date) for loan in loans.values())


def test_each_illustration_adds_exactly_the_findings_it_names(blocks: list[Block], ledger: Path) -> None:
    extras = [b for b in blocks if b.adds]
    assert extras, "第 5.11 节的待查明分录应标为 <!-- example +pool.suspense -->"
    for block in extras:
        path = ledger.with_name(f"extra-{block.lineno}.beancount")
        path.write_text(ledger.read_text(encoding="utf-8") + "\n" + block.text, encoding="utf-8")
        entries, errors, _ = loader.load_file(str(path))
        assert errors == [], [e.message for e in errors]
        findings = analyse(entries, load_rules(str(RULES))).findings
        assert Counter(f.rule for f in findings) == Counter(block.adds), [str(f) for f in findings]
        assert all(f.severity == WARNING for f in findings)
        assert bean_check(path).returncode == 0


def test_the_figures_the_text_quotes_are_the_engines(analysis) -> None:
    text = DOC.read_text(encoding="utf-8")
    section5 = text[text.index("## 5."):text.index("## 6.")]
    interest = analysis.records.interest
    assert len(interest) == 2
    for a in interest:
        row = (
            f"| {a.period_start} 至 {a.period_end} | {yuan(a.jishu_guarantee)} | {yuan(a.jishu_risk)} "
            f"| {yuan(a.total)} | {yuan(a.expected_guarantee)} | {yuan(a.expected_risk)} |"
        )
        assert row in section5, row
    (claim,) = analysis.records.claims.values()
    shortfall = claim.due - claim.guarantee_paid
    for figure in (claim.due, claim.guarantee_paid, shortfall, claim.risk_paid, claim.bank_share):
        assert yuan(figure) in section5, figure
    (recovery,) = analysis.records.recoveries
    for figure in (recovery.gross, recovery.net, recovery.parts["bank"], recovery.parts["risk"]):
        assert yuan(figure) in section5, figure
    assert recovery.parts["guarantee"] == 0
    calendar = analysis.rulebook.calendar
    deadlines = {
        (d.rule, d.loan): calendar.nth_workday_after(d.deadline.start, d.deadline.n)
        for d in analysis.records.deadlines
    }
    assert f"不晚于 {deadlines['notice.disbursement', 'CQ-2024-001']}" in section5
    assert f"最后一日为 {deadlines['notice.renewal', 'CQ-2024-001']}" in section5
    assert f"最后一日 {deadlines['comp.deadline', 'CQ-2024-002']}" in section5
    state = analysis.programs["CQGX"]
    balance = sum((fund.at(datetime.date(2024, 6, 30)) for fund in state.funds.values()), ZERO)
    assert f"= {yuan(balance)}。" in section5
    disposed = -state.flows[("risk", "disposal")]
    assert f"= {yuan(disposed)}；" in section5
    assert state.funds["risk"].balance == 0 and state.funds["guarantee"].balance == 0
