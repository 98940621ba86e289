"""Issue #10: a program's own fund names (rules.yaml ``names:``, ``Rulebook.names``) in the
faces that still said the generic ones: ``zbd stress``'s text and the rule titles of Fava's
合规检查 (its rule chips, each finding's row, findings.csv) and of the report's 检查结果.
海口 (HKJB) calls its risk fund 补偿资金, 金东 (JHJD) 风险池基金; 重庆 (CQGX) keeps the
generic words, letter for letter."""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from fava.application import create_app
from openpyxl import load_workbook

from conftest import ROOT
from zhubaodai.cli import main
from zhubaodai.clitext import display_width

SHAPES = ROOT / "ledger" / "shapes.beancount"
DEMO = ROOT / "ledger" / "main.beancount"
RULES = ROOT / "tests" / "ledgers" / "rules"
EXTENSION_LINE = '2000-01-01 custom "fava-extension" "zhubaodai.fava"'


def zbd(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def stress(ledger: Path, *args: str) -> str:
    result = zbd("stress", ledger, "--recovery-rate", "0.2", *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def table_lines(text: str, first: str, last: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith(first))
    end = next(i for i, l in enumerate(lines) if l.startswith(last))
    return lines[start : end + 1]


def assert_aligned(lines: list[str]) -> None:
    """Every line of a table as wide on screen as the header: the columns line up whatever
    a fund's name is called."""
    assert len({display_width(line) for line in lines}) == 1, lines


# ---------------------------------------------------------------------- zbd stress


def test_stress_says_hkjbs_compensation_fund() -> None:
    text = stress(SHAPES, "--program", "HKJB", "--default-rate", "0.1", "--date", "2021-12-31")
    assert "风险补偿金" not in text
    assert "补偿资金 49,885,000.00 元" in text
    assert "补偿资金分担不足部分的 50%" in text
    rows = table_lines(text, "承担方", "须报管委会决定")
    assert any(re.match(r"补偿资金\s+320,000\.00\s+0\.00\s+320,000\.00$", line) for line in rows)
    assert_aligned(rows)
    assert "补偿资金耗尽的违约率：1149.43%——即使全部贷款违约，补偿资金也足以承担其分担部分" in text


def test_stress_says_jhjds_pool_fund_also_in_monte_carlo() -> None:
    text = stress(SHAPES, "--program", "JHJD", "--loans", "JH-2026-001", "--date", "2026-06-30")
    assert "风险补偿金" not in text
    assert "风险池基金 9,180,199.44 元；分担表：风险池基金 100%" in text
    rows = table_lines(text, "承担方", "须报管委会决定")
    assert any(re.match(r"风险池基金\s+1,000,000\.00\s+200,000\.00\s+800,000\.00$", line) for line in rows)
    assert_aligned(rows)
    mc = stress(SHAPES, "--program", "JHJD", "--default-rate", "0.1", "--date", "2026-06-30",
                "--monte-carlo", "100", "--seed", "2")
    assert "风险补偿金" not in mc
    assert "须报管委会决定（风险池基金不足）的模拟占比：0%" in mc
    rows = table_lines(mc, "（元）", "追偿后损失由合作银行承担")
    assert any(line.startswith("风险池基金代偿 ") for line in rows)
    assert any(line.startswith("回收后风险池基金净承担 ") for line in rows)
    assert_aligned(rows)


def test_stress_keeps_cqgxs_generic_words() -> None:
    text = stress(DEMO, "--program", "CQGX", "--default-rate", "0.1", "--date", "2025-12-31")
    assert re.search(r"；助保金 [\d,.]+ 元，风险补偿金 [\d,.]+ 元；风险补偿金分担不足部分的 50%；回收率 20%", text)
    labels = [line.split()[0] for line in table_lines(text, "承担方", "须报管委会决定")]
    assert labels == ["承担方", "助保金", "风险补偿金", "合作银行", "须报管委会决定"]
    assert re.search(r"^风险补偿金耗尽的违约率：", text, re.M)
    mc = stress(DEMO, "--program", "CQGX", "--default-rate", "0.1", "--date", "2025-12-31",
                "--monte-carlo", "50", "--seed", "1")
    labels = [line.split()[0] for line in table_lines(mc, "（元）", "回收后银行净承担")]
    assert labels == ["（元）", "违约金额", "助保金代偿", "风险补偿金代偿", "合作银行承担", "须报管委会决定",
                      "回收后助保金净承担", "回收后风险补偿金净承担", "回收后银行净承担"]
    assert "须报管委会决定（风险补偿金不足）的模拟占比：" in mc


def test_stress_json_keeps_its_machine_keys() -> None:
    out = stress(SHAPES, "--program", "HKJB", "--default-rate", "0.1", "--date", "2021-12-31", "--format", "json")
    assert '"risk":' in out and "补偿资金" not in out


# ---------------------------------------------------------------------- 合规检查


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rule ledgers below, with the rules and account files they name, registering the pages."""
    root = tmp_path_factory.mktemp("names")
    shutil.copy(ROOT / "rules.yaml", root / "rules.yaml")
    shutil.copy(ROOT / "calendar.yaml", root / "calendar.yaml")
    shutil.copytree(ROOT / "tests" / "ledgers" / "common", root / "tests" / "ledgers" / "common")
    for name in ("risk.leverage/hkjb-fail", "risk.leverage/jhjd-fail", "comp.escalation/cqgx-fail"):
        source = RULES / f"{name}.beancount"
        target = root / source.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source.read_text(encoding="utf-8") + f"\n{EXTENSION_LINE}\n", encoding="utf-8")
    return root / "tests" / "ledgers" / "rules"


def compliance(ledger: Path) -> tuple[str, list[list[str]]]:
    client = create_app([str(ledger)], read_only=True).test_client()
    prefix = "/" + client.get("/").location.strip("/").split("/")[0]
    html = client.get(f"{prefix}/extension/Zbd6Compliance/").get_data(as_text=True)
    assert "Traceback" not in html
    found = client.get(f"{prefix}/extension/Zbd6Compliance/findings.csv").get_data(as_text=True)
    return html, list(csv.reader(io.StringIO(found.lstrip("\ufeff"))))


def chip(html: str, rule: str) -> str:
    found = re.search(rf'<a [^>]*title="([^"]*)"[^>]*data-rule="{re.escape(rule)}">', html)
    assert found is not None, rule
    return found.group(1)


def row_title(html: str, rule: str) -> str:
    found = re.search(rf'<tr data-rule="{re.escape(rule)}".*?<code>{re.escape(rule)}</code><br><span class="zbd-muted">([^<]*)</span>',
                      html, re.S)
    assert found is not None, rule
    return found.group(1)


@pytest.mark.parametrize(("ledger", "rule", "title"), [
    ("risk.leverage/hkjb-fail", "risk.leverage", "贷款余额不超过补偿资金的放大倍数"),
    ("risk.leverage/jhjd-fail", "risk.leverage", "贷款余额不超过风险池基金的放大倍数"),
    ("comp.escalation/cqgx-fail", "comp.escalation", "风险补偿金不足时报请决策"),
])
def test_the_compliance_page_titles_a_rule_in_the_programs_words(tree: Path, ledger: str, rule: str, title: str) -> None:
    html, rows = compliance(tree / f"{ledger}.beancount")
    assert chip(html, rule) == title
    assert row_title(html, rule) == title
    header = rows[0]
    titles = {row[header.index("规则名称")] for row in rows[1:] if row[header.index("规则")] == rule}
    assert titles == {title}


def test_the_reports_findings_sheet_titles_a_rule_in_the_programs_words(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "hkjb.xlsx"
    result = zbd("report", tree / "risk.leverage" / "hkjb-fail.beancount", "--period", "2021", "-o", out)
    assert result.exit_code == 0, result.output
    ws = load_workbook(out)["检查结果"]
    cells = [row for row in ws.iter_rows(values_only=True) if row and row[2] == "risk.leverage"]
    assert cells and {row[3] for row in cells} == {"贷款余额不超过补偿资金的放大倍数"}


# ---------------------------------------------------------------------- zbd dossier and zbd check


def test_the_dossiers_calculation_says_the_programs_fund_names() -> None:
    from zhubaodai.cli import load_ledger
    from zhubaodai.dossier import build

    loaded = load_ledger(str(SHAPES))
    hkjb = build(loaded.analysis, loaded.entries, "HK-2021-003", str(SHAPES))["代偿与追偿计算.txt"].decode()
    # HK-2021-003: 1,212,345.67 due, half of it (586,172.84, half-up) the compensation fund's.
    assert "补偿资金支付 586,172.84 元；合作银行承担 586,172.83 元；补偿资金未能分担 0.00 元" in hkjb
    assert "风险补偿金" not in hkjb
    jhjd = build(loaded.analysis, loaded.entries, "JH-2025-001", str(SHAPES))["代偿与追偿计算.txt"].decode()
    assert "风险池基金支付 1,236,000.56 元" in jhjd
    assert "分配：补回风险池基金 375,000.00 元" in jhjd
    assert "风险池基金：应补回 375,000.00 元，已到账 375,000.00 元" in jhjd
    assert "风险补偿金" not in jhjd and "助保金：应补回" not in jhjd  # JHJD has no guarantee fund


def test_zbd_check_titles_a_rule_in_the_programs_words(tree: Path) -> None:
    result = zbd("check", tree / "risk.leverage" / "jhjd-fail.beancount")
    assert "[risk.leverage] 贷款余额不超过风险池基金的放大倍数　依据：" in result.stdout
    result = zbd("check", tree / "comp.escalation" / "cqgx-fail.beancount")
    assert "[comp.escalation] 风险补偿金不足时报请决策　依据：" in result.stdout
