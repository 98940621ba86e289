"""JHJD (金华市金东区科技型中小微企业贷款风险池基金, multi-funder-pools.txt [2a]) on its demo
in ledger/shapes.beancount: the first program of rules.yaml to use comp.shares' ``residual``
and comp.scope's ``overdue_days``, with funders that are not all governments.

The figures are computed by hand in the comments (ledger/jhjd/*.beancount says the same);
the rule ledgers in tests/ledgers/rules/*/jhjd-*.beancount hold each rule at the fen and at
the 90th day."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from click.testing import CliRunner
from openpyxl import load_workbook

from zhubaodai.cli import main
from zhubaodai.core.engine import RISK
from zhubaodai.core.engine import analyse
from zhubaodai.core.engine import result_of
from zhubaodai.core.findings import FORMAT_RULE
from zhubaodai.core.rules import load_rules

REPO = Path(__file__).resolve().parent.parent
SHAPES = REPO / "ledger" / "shapes.beancount"
RULES = REPO / "rules.yaml"
D = Decimal


@pytest.fixture(scope="module")
def analysis():
    _, errors, options = loader.load_file(str(SHAPES))
    assert errors == []
    found = result_of(options)
    assert found is not None
    return found


def test_the_demo_has_no_finding_for_jhjd(analysis) -> None:
    assert [str(f) for f in analysis.findings if f.program == "JHJD"] == []
    assert "JHJD" in analysis.used_programs()


def test_the_pool_pays_first_and_the_loss_after_recovery_is_split_40_40_20(analysis) -> None:
    # Claim: principal 1,200,000.00 + interest 36,000.56 = 1,236,000.56, all paid by the pool.
    (shared,) = analysis.records.shares["JH-2025-001"]
    assert shared.paid == {"risk": D("1236000.56")}
    # Recovered 400,000.00 less costs 25,000.00: 375,000.00 back to the pool, and arrived.
    back = analysis.records.loan_recoveries["JH-2025-001"]
    assert back.expected[RISK] == back.received[RISK] == D("375000.00")
    # Loss 861,000.56: 344,400.224 / 344,400.224 / 172,200.112; the fen left goes to the
    # government (equal remainders: the party listed first).
    assert shared.residual == {"government": D("344400.23"), "guarantor": D("344400.22"), "bank": D("172200.11")}


def test_the_funders_are_checked_at_the_year_end_with_a_bank_and_a_guarantor(analysis) -> None:
    book = analysis.rulebook.programs["JHJD"]
    shares = book.rules["risk.funders"].params["shares"].values[-1]
    assert [name for name, _ in shares] == ["政府", "担保公司", "合作银行"]
    # The demo's 4,000,000 / 4,000,000 / 2,000,000 by 2025-12-31: no finding (above). One
    # fen less from the bank is a finding naming the bank (its rule ledger); here the
    # same through the engine on the demo's own text.
    text = (REPO / "ledger" / "jhjd" / "2025.beancount").read_text(encoding="utf-8")
    short = text.replace("  Assets:JHJD:Pool:Risk                       2000000.00 CNY\n"
                         "  Income:JHJD:Risk:Injection                 -2000000.00 CNY",
                         "  Assets:JHJD:Pool:Risk                       1999999.99 CNY\n"
                         "  Income:JHJD:Risk:Injection                 -1999999.99 CNY")
    assert short != text
    accounts = (REPO / "ledger" / "jhjd" / "accounts.beancount").read_text(encoding="utf-8")
    entries, errors, _ = loader.load_string(accounts + short + '\n2026-01-05 note Assets:JHJD:Pool "年初"\n')
    assert errors == []
    found = [f for f in analyse(entries, load_rules(RULES)).findings if f.rule == "risk.funders"]
    assert len(found) == 1
    assert "合作银行注入不足" in found[0].message
    assert "应注入 2,000,000.00 元，实际注入 1,999,999.99 元，差额 0.01 元" in found[0].message


def story(loss: str) -> str:
    accounts = (REPO / "ledger" / "jhjd" / "accounts.beancount").read_text(encoding="utf-8")
    year = (REPO / "ledger" / "jhjd" / "2025.beancount").read_text(encoding="utf-8")
    return accounts + year + loss


def run(text: str):
    entries, errors, _ = loader.load_string(text)
    assert errors == [], errors
    return analyse(entries, load_rules(RULES))


def test_a_loss_before_any_recovery_splits_the_whole_payment():
    analysis = run(story('\n2026-01-20 custom "loan" "loss" "JH-2025-001"\n'
                         "  government_share: 494400.23 CNY\n  guarantor_share: 494400.22 CNY\n"
                         "  bank_share: 247200.11 CNY\n"))
    # 1,236,000.56 × 0.4 = 494,400.224 (twice), × 0.2 = 247,200.112: one fen to the government.
    assert [str(f) for f in analysis.findings] == []


def test_a_loss_before_any_compensation_is_a_finding():
    text = story("").replace('2025-12-05 * "金华成泰农商银行" "风险池基金先行赔付 JH-2025-001" ^JH-2025-001\n'
                             "  Expenses:JHJD:Risk:Compensation             1236000.56 CNY\n"
                             "  Assets:JHJD:Pool:Risk                      -1236000.56 CNY\n", "")
    analysis = run(text + '\n2025-12-20 custom "loan" "loss" "JH-2025-001"\n  bank_share: 1.00 CNY\n')
    found = [(f.rule, f.message) for f in analysis.findings]
    assert found == [("comp.shares", "贷款 JH-2025-001 尚未发生代偿，没有可分担的损失")]


def test_a_party_outside_the_residual_table_is_a_finding():
    analysis = run(story('\n2026-01-20 custom "loan" "loss" "JH-2025-001"\n'
                         "  government_share: 494400.23 CNY\n  guarantor_share: 494400.22 CNY\n"
                         "  bank_share: 247200.11 CNY\n  insurer_share: 10.00 CNY\n"))
    (finding,) = analysis.findings
    assert finding.rule == "comp.shares"
    assert "记录了保险公司承担的部分（insurer_share），但本项目追偿后损失的分担表中没有这一方" in finding.message


def test_a_loss_in_a_program_without_a_residual_table_is_refused():
    """SZPS's table has no residual: a loss event there is a format error, not a silent no-op."""
    ledger = (REPO / "tests" / "ledgers" / "rules" / "comp.shares" / "szps-pass.beancount").read_text(encoding="utf-8")
    ledger = "\n".join(l for l in ledger.splitlines() if not l.startswith(("plugin ", "include ")))
    accounts = (REPO / "tests" / "ledgers" / "common" / "szps.beancount").read_text(encoding="utf-8")
    analysis = run(accounts + ledger + '\n2027-01-20 custom "loan" "loss" "SZ-2026-001"\n  bank_share: 1.00 CNY\n')
    (finding,) = analysis.findings
    assert finding.rule == FORMAT_RULE
    assert "但本项目的规则没有追偿后损失的分担表（comp.shares 的 residual）" in finding.message


def test_per_loan_cap_does_not_add_up_an_enterprises_loans():
    """单笔: two loans of one enterprise, 2,000,000.00 and 1,000,000.00, are each within 2M."""
    analysis = run(story("").replace('enterprise: "E-JH-003"', 'enterprise: "E-JH-002"'))
    assert [f for f in analysis.findings if f.rule == "loan.amount"] == []


def test_the_dossier_states_the_loss_split(analysis) -> None:
    from zhubaodai.dossier import _calculation

    text = _calculation(analysis, "JH-2025-001")
    # JHJD calls its one fund 风险池基金 (rules.yaml names:): the dossier says so.
    assert "风险池基金支付 1,236,000.56 元" in text and "风险补偿金" not in text
    assert "追偿后仍未弥补的损失由各方分担：政府 344,400.23 元；担保机构 344,400.22 元；合作银行 172,200.11 元" in text
    # The recorded loss parts (custom "loan" "loss", records.losses), each figure once.
    assert text.endswith(
        "损失分担 1：2026-06-30，函件 金东区科技型中小微企业贷款风险池基金管理小组纪要〔2026〕2号\n"
        "  依据：追偿后损失分担 金东区科技型中小微企业贷款风险池基金（报道） 代偿条款（条号不可见）【假设】\n"
        "  追偿后仍未弥补的损失 861,000.56 元（各方按比例以最大余数法分到分）\n"
        "  政府 40%：应承担 344,400.23 元，登记 344,400.23 元，差额 0.00 元\n"
        "  担保机构 40%：应承担 344,400.22 元，登记 344,400.22 元，差额 0.00 元\n"
        "  合作银行 20%：应承担 172,200.11 元，登记 172,200.11 元，差额 0.00 元\n"
        "  核对：相符\n"
    ), text


def test_the_dossier_shows_a_loss_part_a_fen_off_and_one_not_recorded() -> None:
    from zhubaodai.dossier import _calculation

    # Before any recovery the loss is the whole payment, 1,236,000.56: 494,400.23 /
    # 494,400.22 / 247,200.11. The government recorded a fen short, the bank not at all.
    analysis = run(story('\n2026-01-20 custom "loan" "loss" "JH-2025-001"\n  letter: "纪要〔2026〕1号"\n'
                         "  government_share: 494400.22 CNY\n  guarantor_share: 494400.22 CNY\n"))
    text = _calculation(analysis, "JH-2025-001")
    assert ("  追偿后仍未弥补的损失 1,236,000.56 元（各方按比例以最大余数法分到分）\n"
            "  政府 40%：应承担 494,400.23 元，登记 494,400.22 元，差额 0.01 元\n"
            "  担保机构 40%：应承担 494,400.22 元，登记 494,400.22 元，差额 0.00 元\n"
            "  合作银行 20%：应承担 247,200.11 元，登记 未记录，差额 247,200.11 元\n"
            "  核对：不符（见检查结果.txt）\n") in text
    # No loss event yet: the dossier says so (a program with a residual table only).
    text = _calculation(run(story("")), "JH-2025-001")
    assert text.endswith('损失分担：尚未登记（追偿终结后以 custom "loan" "loss" 登记各方承担的部分）\n'), text


# ---------------------------------------------------------------------------- the faces


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("jhjd")
    shutil.copytree(REPO / "ledger", root / "ledger")
    for name in ("rules.yaml", "calendar.yaml"):
        shutil.copy(REPO / name, root / name)
    return root / "ledger" / "shapes.beancount"


def test_zbd_rules_describes_jhjd_with_its_assumptions() -> None:
    result = CliRunner().invoke(main, ["rules", str(RULES), "--program", "JHJD", "--date", "2026-06-30"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "JHJD 金华市金东区科技型中小微企业贷款风险池基金" in out
    assert "overdue_days = 90 天" in out and "【假设】报道没有写何为“发生信贷风险”" in out
    assert "residual = 政府 40%、担保机构 40%、合作银行 20%" in out
    assert "shares = 政府 : 担保公司 : 合作银行 = 4 : 4 : 2" in out


def test_zbd_stress_runs_on_jhjd(copy: Path) -> None:
    result = CliRunner().invoke(main, ["stress", str(copy), "--date", "2026-06-30", "--program", "JHJD",
                                       "--default-rate", "0.2", "--recovery-rate", "0.3"])
    assert result.exit_code == 0, result.output
    # JHJD calls its one fund 风险池基金 (rules.yaml names:): the text says so.
    assert "分担表：风险池基金 100%" in result.output and "Traceback" not in result.output
    # 20% of 2,200,000.00 defaults: 440,000.00 paid by the pool, 30% recovered: 308,000.00
    # left, borne 40/40/20 (residual).
    assert "追偿后仍未弥补的资金池损失的分担：政府 123,200.00 元、担保机构 123,200.00 元、合作银行 61,600.00 元" in result.output


def test_the_xlsx_report_lists_the_compensation_and_the_recovery(copy: Path, tmp_path: Path) -> None:
    for year, sheet, loan in (("2025", "代偿", "JH-2025-001"), ("2026", "追偿", "JH-2025-001")):
        out = tmp_path / f"{year}.xlsx"
        result = CliRunner().invoke(main, ["report", str(copy), "--period", year, "--program", "JHJD", "-o", str(out)])
        assert result.exit_code == 0, result.output
        rows = [r for r in load_workbook(out)[sheet].iter_rows(values_only=True) if r and r[0] == "JHJD"]
        assert [r[1] for r in rows] == [loan]


def test_a_residual_table_with_a_fund_of_the_pool_is_refused_on_load():
    from zhubaodai.core.rules import RulesError
    from zhubaodai.core.rules import parse_rules

    text = RULES.read_text(encoding="utf-8")
    jhjd = "                government: 0.40\n                guarantor: 0.40\n                bank: 0.20\n"
    assert text.count(jhjd) == 1
    with pytest.raises(RulesError, match=r"承担方不能是资金池的资金 \['risk'\]"):
        parse_rules(text.replace(jhjd, jhjd.replace("bank: 0.20", "risk: 0.20")), str(RULES))
