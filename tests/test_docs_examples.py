"""docs/ledger-format.md's worked example is a real ledger: it passes bean-check and the
engine finds exactly what the page says it finds.

How the page marks its blocks (an HTML comment on the line right before a
```` ```beancount ```` fence; Markdown viewers do not show it):

* ``<!-- example -->``: the block belongs to the example ledger (the top file of §1, the
  accounts of §2, every step of §5's Chongqing story and of §9's Ulanhot story). The
  blocks, in page order, are the ledger, with the top file adjusted: its ``include`` lines
  dropped and the plugin's ``rules`` path pointed at the repository's rules.yaml. The page
  says this ledger has no findings.
* ``<!-- example +RULE[,RULE...] -->``: an illustration outside the example ledger; added
  to it, the engine finds exactly those rules (each once), and nothing else. Warnings
  only: bean-check still passes; an error among them: bean-check fails. The mistakes of
  §9 quote their findings word for word, and the page's quotation is checked.

Unmarked beancount blocks are fragments (the enterprise records of §3.1, §7 …): they
must parse, nothing more. The figures the text of §5 quotes (the interest table, the
compensation and recovery split, the deadlines), and those §9 quotes for Ulanhot, are
checked against the engine's records, so a change of rules or engine that moves them
fails here.
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


def section(text: str, heading: str, following: str | None) -> str:
    """The page's text from ``## {heading}`` to ``## {following}`` (or the end)."""
    start = text.index(f"## {heading}")
    return text[start:text.index(f"## {following}", start)] if following else text[start:]


def test_the_example_is_the_top_file_the_accounts_and_every_step_of_sections_5_and_9(blocks: list[Block]) -> None:
    text = DOC.read_text(encoding="utf-8").splitlines()
    section = {}
    current = ""
    for n, line in enumerate(text, 1):
        if line.startswith("## ") or line.startswith("### "):
            current = line.split()[1]
        section[n] = current
    marked = [section[b.lineno] for b in blocks if b.marked and not b.adds]
    assert marked[:2] == ["1.", "2."]
    assert set(marked[2:]) == {f"5.{k}" for k in range(1, 12)} | {f"9.{k}" for k in range(1, 8)}
    assert all(section[b.lineno].startswith(("5.", "9.")) for b in blocks if b.adds)


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
    assert sorted(loans) == ["CQ-2024-001", "CQ-2024-002", "WL-2024-001", "WL-2024-002", "WL-2024-003"]
    assert all(loan.settled(loan.events[-1].date) for loan in loans.values())


def test_each_illustration_adds_exactly_the_findings_it_names(blocks: list[Block], ledger: Path) -> None:
    extras = [b for b in blocks if b.adds]
    assert extras, "第 5.11 节的待查明分录应标为 <!-- example +pool.suspense -->"
    page = DOC.read_text(encoding="utf-8")
    section9 = section(page, "9.", None)
    quoted = 0
    for block in extras:
        path = ledger.with_name(f"extra-{block.lineno}.beancount")
        path.write_text(ledger.read_text(encoding="utf-8") + "\n" + block.text, encoding="utf-8")
        entries, errors, _ = loader.load_file(str(path))
        findings = analyse(entries, load_rules(str(RULES))).findings
        assert Counter(f.rule for f in findings) == Counter(block.adds), [str(f) for f in findings]
        # The load's errors are the plugin's reports of the error findings, nothing else.
        assert [e.message for e in errors] == [f.text for f in findings if f.severity != WARNING]
        errors_among = bool(errors)
        assert bean_check(path).returncode == (1 if errors_among else 0)
        if block.lineno > page[:page.index("## 9.")].count("\n"):  # §9's mistakes, quoted exactly
            for finding in findings:
                assert f"\n{finding.text}\n" in section9, finding.text
                quoted += 1
    assert quoted >= 1, "第 9.8 节的出错举例应逐字引用检查结果"


def interest_row(a) -> str:  # type: ignore[no-untyped-def]
    """An interest allocation as the page's table row prints it."""
    return (
        f"| {a.period_start} 至 {a.period_end} | {yuan(a.jishu_guarantee)} | {yuan(a.jishu_risk)} "
        f"| {yuan(a.total)} | {yuan(a.expected_guarantee)} | {yuan(a.expected_risk)} |"
    )


def last_days(analysis) -> dict[tuple[str, str], datetime.date]:  # type: ignore[no-untyped-def]
    """Each working-day deadline's last day, by (rule, loan)."""
    calendar = analysis.rulebook.calendar
    return {
        (d.rule, d.loan): calendar.nth_workday_after(d.deadline.start, d.deadline.n)
        for d in analysis.records.deadlines
    }


def test_the_figures_the_text_quotes_are_the_engines(analysis) -> None:
    section5 = section(DOC.read_text(encoding="utf-8"), "5.", "6.")
    interest = [a for a in analysis.records.interest if a.program == "CQGX"]
    assert len(interest) == 2
    for a in interest:
        assert interest_row(a) in section5, interest_row(a)
    (claim,) = (c for c in analysis.records.claims.values() if c.loan.program == "CQGX")
    shortfall = claim.due - claim.guarantee_paid
    for figure in (claim.due, claim.guarantee_paid, shortfall, claim.risk_paid, claim.bank_share):
        assert yuan(figure) in section5, figure
    (recovery,) = (r for r in analysis.records.recoveries if r.loan.program == "CQGX")
    for figure in (recovery.gross, recovery.net, recovery.parts["bank"], recovery.parts["risk"]):
        assert yuan(figure) in section5, figure
    assert recovery.parts["guarantee"] == 0
    deadlines = last_days(analysis)
    assert f"不晚于 {deadlines['notice.disbursement', 'CQ-2024-001']}" in section5
    assert f"最后一日为 {deadlines['notice.renewal', 'CQ-2024-001']}" in section5
    assert f"最后一日 {deadlines['comp.deadline', 'CQ-2024-002']}" in section5
    state = analysis.programs["CQGX"]
    balance = sum((fund.at(datetime.date(2024, 6, 30)) for fund in state.funds.values()), ZERO)
    assert f"= {yuan(balance)}。" in section5
    disposed = -state.flows[("risk", "disposal")]
    assert f"= {yuan(disposed)}；" in section5
    assert state.funds["risk"].balance == 0 and state.funds["guarantee"].balance == 0


def test_the_figures_the_ulanhot_story_quotes_are_the_engines(analysis) -> None:
    """§9: the interest row, WLHT's two compensations (compound and penalty interest
    included, the guarantee fund first and mutualised, the shortfall halved), their deadlines
    one month and three working days after the overdue days, and the recovery's three parts
    in WLHT's order."""
    section9 = section(DOC.read_text(encoding="utf-8"), "9.", None)
    (a,) = (a for a in analysis.records.interest if a.program == "WLHT")
    assert interest_row(a) in section9, interest_row(a)
    claims = {c.loan.id: c for c in analysis.records.claims.values() if c.loan.program == "WLHT"}
    first, second = claims["WL-2024-002"], claims["WL-2024-003"]
    assert first.loan.first("overdue").date < second.loan.first("overdue").date  # compensated in that order
    assert f"= {yuan(first.due)}；" in section9 and f"= {yuan(second.due)}。" in section9
    assert f"助保金余额 {yuan(first.guarantee_paid)}" in section9
    assert f"不足部分 {yuan(first.due - first.guarantee_paid)} 的一半 {yuan(first.risk_paid)}" in section9
    assert f"其余 {yuan(first.bank_share)} 由合作银行承担" in section9
    assert second.guarantee_paid == 0 and second.risk_paid + second.bank_share == second.due
    assert f"风险补偿金 {yuan(second.risk_paid)}，合作银行 {yuan(second.bank_share)}" in section9
    (recovery,) = (r for r in analysis.records.recoveries if r.loan.program == "WLHT")
    assert list(recovery.parts) == ["bank", "risk", "guarantee"]  # 第二十八条's order
    assert f"= 净额 {yuan(recovery.net)}" in section9
    assert f"先还银行承担的 {yuan(recovery.parts['bank'])}" in section9
    assert f"再补回风险补偿金 {yuan(recovery.parts['risk'])}" in section9
    assert f"余下 {yuan(recovery.parts['guarantee'])} 补回助保金" in section9
    assert recovery.parts["risk"] == first.risk_paid and 0 < recovery.parts["guarantee"] < first.guarantee_paid
    deadlines = last_days(analysis)
    assert f"即不晚于 {deadlines['notice.disbursement', 'WL-2024-001']}" in section9
    assert f"最后一日为 {deadlines['comp.deadline', 'WL-2024-002']}，2024-10-14 代偿合规" in section9
    assert f"最后一日为 {deadlines['comp.deadline', 'WL-2024-003']}，2024-10-16 代偿合规" in section9
    state = analysis.programs["WLHT"]
    assert f"= {yuan(state.funds['risk'].at(datetime.date(2024, 10, 16)))}，" in section9


def test_compensating_out_of_the_ulanhot_order_is_the_error_the_page_describes(ledger: Path) -> None:
    """§9.5 says: had WL-2024-003 been compensated while WL-2024-002, overdue three days
    earlier, waited with its claim, that compensation would fail comp.order."""
    path = ledger.with_name("out-of-order.beancount")
    text = ledger.read_text(encoding="utf-8")
    moved = '2024-10-11 * "建设银行乌兰浩特分行" "代偿 WL-2024-003"'
    path.write_text(text.replace('2024-10-16 * "建设银行乌兰浩特分行" "代偿 WL-2024-003"', moved), encoding="utf-8")
    entries, _, _ = loader.load_file(str(path))
    (finding,) = (f for f in analyse(entries, load_rules(str(RULES))).findings if f.rule == "comp.order")
    assert finding.loan == "WL-2024-003" and finding.date == datetime.date(2024, 10, 11)
    assert "WL-2024-002" in finding.message and dict(finding.figures)["逾期早于本笔天数"] == 3
    assert "写明 WL-2024-002 的逾期早几天" in section(DOC.read_text(encoding="utf-8"), "9.", None)
