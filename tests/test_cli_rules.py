"""``zbd rules``: a rules file validated alone (no ledger) and described in Chinese."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from test_citations import AMENDMENT
from test_versions import CQ_FEE_RATE
from test_versions import rules_with
from zhubaodai.cli import main

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules.yaml"


def zbd(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_the_project_rules_are_described_per_program_rule_and_parameter() -> None:
    result = zbd("rules", RULES, "--date", "2024-07-22")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith(f"规则文件：{os.path.relpath(RULES) if not os.path.relpath(RULES).startswith('..') else RULES}（校验通过：")
    assert "参数取 2024-07-22 有效的版本。" in out
    assert "CQGX 重庆高新区中小微企业\"助保贷\"" in out and "WLHT 乌兰浩特市" in out
    assert "自 2021-02-24 起施行" in out
    assert "pool" in out and "Assets:CQGX:Pool " in out and "专户（项目各项资金的上级账户" in out
    # A rule: id, title, severity, citation, summary, reading, parameter with its own citation.
    cq = out[out.index("CQGX "):out.index("WLHT ")]
    block = cq[cq.index("  [fee.rate]"):cq.index("  [fee.timing]")]
    assert "[fee.rate] 助保金缴纳比例 —— 错误（违反即令 bean-check 与 zbd check 失败）" in block
    assert "依据：渝高新发〔2021〕8号 第五条、第六条" in block
    assert "检查：企业按合同贷款金额的一定比例（2.5%）一次性缴纳助保金" in block
    assert "释义：计费基数取合同金额" in block
    assert "rate = 2.5%（自 2021-02-24 起；依据 渝高新发〔2021〕8号 第六条）" in block
    # The value in force on --date: the LPR changed on 2024-07-22.
    rate = cq[cq.index("  [loan.rate]"):]
    assert "benchmark = 3.35%（自 2024-07-22 起" in rate
    assert "—— 警告（只提示审阅人，不令 bean-check 失败" in rate


def test_the_date_picks_the_version_and_names_the_next_one() -> None:
    before = zbd("rules", RULES, "--program", "CQGX", "--date", "2024-07-21").output
    assert "benchmark = 3.45%（自 " in before
    assert "下一版本：自 2024-07-22 起 3.35%" in before
    assert "WLHT" not in before


def test_an_amendment_and_an_assumption_are_shown_with_their_citations(tmp_path: Path) -> None:
    text = AMENDMENT.replace(
        "article: 第二条}\n",
        "article: 第二条}\n              2025-01-01: {value: 0.015, assumption: 通知未写明，暂按 1.5%}\n",
    )
    path = rules_with(CQ_FEE_RATE, text, tmp_path)
    amended = zbd("rules", path, "--program", "CQGX", "--date", "2024-07-01").output
    assert "rate = 2%（自 2024-07-01 起；依据 渝高新发〔2024〕3号 第二条）" in amended
    assumed = zbd("rules", path, "--program", "CQGX", "--date", "2025-01-01").output
    assert "rate = 1.5%（自 2025-01-01 起；依据 渝高新发〔2021〕8号 第六条 【假设】通知未写明，暂按 1.5%）" in assumed
    # The rule's 依据 line is the citation a finding carries that day (Program.cite_rule):
    # the amendment's own text while it is in force, 【假设】 while a value rests on an assumption.
    before = zbd("rules", path, "--program", "CQGX", "--date", "2024-06-30").output

    def basis(out: str) -> str:
        block = out[out.index("  [fee.rate]"):out.index("  [fee.timing]")]
        return next(line.strip() for line in block.splitlines() if line.strip().startswith("依据："))

    assert basis(before) == "依据：渝高新发〔2021〕8号 第五条、第六条"
    assert basis(amended) == "依据：渝高新发〔2024〕3号 第二条"
    assert basis(assumed) == "依据：渝高新发〔2021〕8号 第五条、第六条【假设】"


def test_a_rule_level_assumption_is_shown(tmp_path: Path) -> None:
    old = "        article: 第五条、第六条\n"
    path = rules_with(old, old + "        assumption: 办法未写明计费基数，按合同金额计\n", tmp_path)
    out = zbd("rules", path, "--program", "CQGX").output
    block = out[out.index("  [fee.rate]"):out.index("  [fee.timing]")]
    assert "    【假设】办法未写明计费基数，按合同金额计" in block


def test_a_broken_rules_file_names_file_line_and_key_and_exits_2(tmp_path: Path) -> None:
    path = rules_with("        article: 第五条、第六条\n", "        article: 第五条、第六条\n        colour: red\n", tmp_path)
    result = zbd("rules", path)
    assert result.exit_code == 2
    line = path.read_text(encoding="utf-8").splitlines().index("        colour: red") + 1
    assert f"{line}: rules.yaml 有误（programs.CQGX.rules.fee.rate.colour）：未知的键" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--program", "XX"), "规则文件中没有项目 XX；有：CQGX、WLHT"),
        (("--date", "2024-13-01"), "日期应写作 YYYY-MM-DD"),
    ],
)
def test_bad_options_exit_2(args: tuple[str, ...], message: str) -> None:
    result = zbd("rules", RULES, *args)
    assert result.exit_code == 2 and message in result.output


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = zbd("rules", tmp_path / "nowhere.yaml")
    assert result.exit_code == 2 and "找不到规则文件" in result.output


def test_the_default_file_is_rules_yaml_in_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = zbd("rules", "--program", "WLHT")
    assert result.exit_code == 0 and result.output.startswith("规则文件：rules.yaml（校验通过：")


def test_the_help_is_chinese() -> None:
    result = zbd("rules", "--help")
    assert result.exit_code == 0
    assert "rules [选项] [规则文件]" in result.output and "只校验规则文件" in result.output


def test_the_example_in_docs_cli_is_the_commands_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/cli.md's example of ``zbd rules``: each line it shows (but the elisions and the
    first, which counts the programs of the day) is a line the command prints."""
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    section = doc[doc.index("## `zbd rules`"):doc.index("## `zbd report`")]
    example = section.split("```\n")[2]  # after the bash block's close and the example's open
    assert example.startswith("规则文件：rules.yaml")
    monkeypatch.chdir(ROOT)
    out = zbd("rules", "rules.yaml", "--program", "CQGX", "--date", "2024-07-21").output.splitlines()
    shown = [line for line in example.splitlines()[1:] if line.strip() and line.strip() != "……"]
    assert len(shown) > 10
    for line in shown:
        assert line in out, line


def test_a_parameter_not_in_force_on_the_date_says_so(tmp_path: Path) -> None:
    ended = CQ_FEE_RATE.replace("0.025\n", "0.025\n              2030-01-01: null\n")
    path = rules_with(CQ_FEE_RATE, ended, tmp_path)
    before = zbd("rules", path, "--program", "CQGX", "--date", "2021-02-23").output
    assert "rate：2021-02-23 尚无生效版本（最早版本自 2021-02-24 起施行）" in before
    on_the_day = zbd("rules", path, "--program", "CQGX", "--date", "2029-12-31").output
    assert "下一版本：自 2030-01-01 起 终止（null）" in on_the_day
    after = zbd("rules", path, "--program", "CQGX", "--date", "2030-01-01").output
    assert "rate：自 2030-01-01 起已终止（2030-01-01 不检查此参数）" in after


def test_a_flag_reads_yes_or_no_in_chinese() -> None:
    """A true/false parameter is shown as 是/否, never Python's True/False."""
    out = zbd("rules", RULES, "--program", "JHJD", "--date", "2025-06-30").output
    assert "per_loan = 是（自 2015-08-17 起" in out
    assert "True" not in out and "False" not in out
    cq = zbd("rules", RULES, "--program", "CQGX", "--date", "2024-07-22").output
    assert "required = 否（自 2021-02-24 起" in cq
