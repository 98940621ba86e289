"""zbd: check (text, JSON, exit codes, strict, bad input), report (XLSX against the engine),
stress and serve through the command line."""

from __future__ import annotations

import datetime
import json
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from click.testing import CliRunner
from openpyxl import load_workbook

from zhubaodai import stress
from zhubaodai.cli import main
from zhubaodai.cli import parse_period
from zhubaodai.core.engine import GUARANTEE
from zhubaodai.core.engine import RISK
from zhubaodai.core.engine import analyse
from zhubaodai.core.rules import load_rules
from zhubaodai.fava import views

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "ledgers" / "cli" / "pool.beancount"
COMMON = ROOT / "tests" / "ledgers" / "common"
RULES = ROOT / "rules.yaml"

#: Appended to the clean ledger: a withdrawal from the risk fund (pool.no_withdrawal, error).
WITHDRAWAL = """
2024-12-02 * "某单位" "从风险补偿金借出"
  Assets:CQGX:Pool:Risk      -100000.00 CNY
  Assets:Cash:Outside         100000.00 CNY
"""
#: Appended: money left in suspense at the end (pool.suspense, warning only).
SUSPENSE = """
2024-12-05 ! "建设银行" "待查明来款"
  Assets:CQGX:Pool:Suspense    1234.56 CNY
  Assets:Cash:Outside         -1234.56 CNY
"""


def ledger(tmp_path: Path, extra: str = "", *, plugin: str | None = None, rules: Path = RULES) -> Path:
    """The clean test ledger, copied with absolute paths, plus ``extra`` entries."""
    text = FIXTURE.read_text(encoding="utf-8")
    text = text.replace('include "../common/', f'include "{COMMON}/')
    config = plugin if plugin is not None else f"{{'rules': '{rules}'}}"
    text = text.replace("\"{'rules': '../../../rules.yaml'}\"", f'"{config}"')
    path = tmp_path / "main.beancount"
    path.write_text(text + extra, encoding="utf-8")
    return path


def engine(path: Path):
    entries, _, _ = loader.load_file(str(path))
    return entries, analyse(entries, load_rules(RULES))


def zbd(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def line_of(path: Path, text: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if text in line:
            return number
    raise AssertionError(text)


# ---------------------------------------------------------------------- check


def test_check_clean_ledger_passes(tmp_path):
    result = zbd("check", ledger(tmp_path))
    assert result.exit_code == 0, result.output
    assert "0 个错误，0 个警告" in result.stdout
    assert "检查通过" in result.stdout


def test_check_error_grouped_by_program_and_rule_with_article_and_line(tmp_path):
    path = ledger(tmp_path, WITHDRAWAL)
    result = zbd("check", path)
    assert result.exit_code == 1
    out = result.stdout
    assert '重庆高新区中小微企业"助保贷"（CQGX）' in out
    assert "[pool.no_withdrawal] 专户本金不得提取　依据：渝高新发〔2021〕8号 第七条（1 条）" in out
    assert f"错误 {path}:{line_of(path, '从风险补偿金借出')}: 专户内风险补偿金本金除代偿" in out
    assert "检查未通过" in out
    # The plugin also turned the finding into a Beancount error: it is not shown twice.
    assert out.count("专户内风险补偿金本金除代偿") == 1
    assert "Beancount 报告的错误" not in out


def test_check_json_lists_the_engines_findings(tmp_path):
    path = ledger(tmp_path, WITHDRAWAL + SUSPENSE)
    result = zbd("check", path, "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    _, analysis = engine(path)
    assert document["ok"] is False
    assert document["counts"] == {"error": len(analysis.errors), "warning": len(analysis.warnings), "beancount": 0}
    assert sorted((f["rule"], f["severity"], f["lineno"]) for f in document["findings"]) == sorted(
        (f.rule, f.severity, f.lineno) for f in analysis.findings
    )
    by_rule = {f["rule"]: f for f in document["findings"]}
    assert by_rule["pool.no_withdrawal"]["citation"] == "渝高新发〔2021〕8号 第七条"
    assert by_rule["pool.no_withdrawal"]["figures"] == {"withdrawn": "100000.00"}
    assert by_rule["pool.no_withdrawal"]["figure_labels"] == {"withdrawn": "提取金额"}
    assert by_rule["pool.suspense"]["severity"] == "warning"
    assert by_rule["pool.suspense"]["title"] == "待查明款项应及时查明"


def test_warnings_alone_pass_unless_strict(tmp_path):
    path = ledger(tmp_path, SUSPENSE)
    result = zbd("check", path)
    assert result.exit_code == 0, result.output
    assert "警告" in result.stdout and "[pool.suspense]" in result.stdout
    assert "0 个错误，1 个警告。检查通过" in result.stdout
    strict = zbd("check", path, "--strict")
    assert strict.exit_code == 1
    assert "严格模式" in strict.stdout
    assert json.loads(zbd("check", path, "--strict", "--format", "json").stdout)["ok"] is False


def test_strict_in_the_plugin_configuration_also_fails_warnings(tmp_path):
    path = ledger(tmp_path, SUSPENSE, plugin=f"{{'rules': '{RULES}', 'strict': True}}")
    assert zbd("check", path).exit_code == 1


def test_beancount_errors_are_shown_in_chinese_with_the_line(tmp_path):
    path = ledger(tmp_path, '\n2024-12-10 * "x"\n  Assets:Nowhere  1.00 CNY\n  Assets:Cash:Outside  -1.00 CNY\n')
    result = zbd("check", path)
    assert result.exit_code == 1
    assert "Beancount 报告的错误（1）" in result.stdout
    assert f"{path}:{line_of(path, '2024-12-10')}: 引用了未开立（open）的账户 Assets:Nowhere" in result.stdout


def test_a_syntax_error_is_reported_without_a_traceback(tmp_path):
    path = ledger(tmp_path, "\n2024-12-10 balanc Assets:CQGX:Pool 1 CNY\n")
    result = zbd("check", path)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"{path}:{line_of(path, 'balanc Assets')}: 无法识别的词 'balanc'（语法错误）" in result.stdout


def test_missing_ledger_is_a_clear_error(tmp_path):
    result = zbd("check", tmp_path / "nope.beancount")
    assert result.exit_code == 2
    assert "错误：找不到账本文件" in result.stderr
    assert "Traceback" not in result.output


def test_broken_rules_file_names_file_line_and_key(tmp_path):
    broken = tmp_path / "rules.yaml"
    if (ROOT / "calendar.yaml").exists():  # rules.yaml may name a working-day table beside it
        shutil.copy(ROOT / "calendar.yaml", tmp_path / "calendar.yaml")
    broken.write_text(RULES.read_text(encoding="utf-8").replace("severity: error", "severity: fatal", 1), encoding="utf-8")
    result = zbd("check", ledger(tmp_path, rules=broken))
    assert result.exit_code == 2
    line = line_of(broken, "severity: fatal")
    assert f"{broken}:{line}: rules.yaml 有误（programs.CQGX.rules.fee.rate.severity）" in result.stderr
    assert "Traceback" not in result.output


def test_ledger_without_the_plugin_line_is_refused_unless_rules_are_given(tmp_path):
    path = ledger(tmp_path)
    path.write_text(
        "\n".join(l for l in path.read_text(encoding="utf-8").splitlines() if not l.startswith("plugin")),
        encoding="utf-8",
    )
    result = zbd("check", path)
    assert result.exit_code == 2
    assert "没有启用插件 zhubaodai.plugin" in result.stderr
    assert zbd("check", path, "--rules", RULES).exit_code == 0


def test_check_shows_progress_on_stderr_and_keeps_json_clean(tmp_path):
    """A large ledger takes a minute to read: a line when reading starts and one when the
    engine's result is ready, on stderr; stdout is the JSON document alone."""
    path = ledger(tmp_path, WITHDRAWAL)
    result = zbd("check", path, "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)  # nothing but the document
    assert document["counts"]["error"] == 1
    lines = result.stderr.splitlines()
    assert lines[0] == f"读取并检查账本 {path} …"
    assert lines[1].startswith("读取与检查完毕（用时 ") and lines[1].endswith(" 秒）")
    assert len(lines) == 2


def test_check_progress_on_a_terminal_is_a_spinner_line_cleared_at_the_end(tmp_path, monkeypatch):
    import zhubaodai.cli as cli

    monkeypatch.setattr(cli, "stderr_is_terminal", lambda: True)
    path = ledger(tmp_path)
    result = zbd("check", path)
    assert result.exit_code == 0
    assert "检查通过" in result.stdout and "读取并检查账本" not in result.stdout
    err = result.stderr
    assert err.startswith(f"\r{cli.SPINNER[0]} 读取并检查账本 {path} … ")
    cleared = err.rindex("\r\x1b[K")  # the spinner's line is wiped before the last line
    assert err[cleared:].startswith("\r\x1b[K读取与检查完毕（用时 ") and err.endswith(" 秒）\n")
    assert "\n" not in err[:cleared]  # the spinner redraws one line in place


def test_check_progress_says_nothing_more_when_the_input_fails(tmp_path):
    result = zbd("check", tmp_path / "nope.beancount")
    assert result.exit_code == 2
    assert "完毕" not in result.stderr and "错误：找不到账本文件" in result.stderr


def test_paths_are_shown_relative_to_where_the_user_stands(tmp_path, monkeypatch):
    """A file below the working directory is shown relative to it (text and JSON); one
    elsewhere (here the project's rules.yaml) keeps its absolute path."""
    books = tmp_path / "books"
    books.mkdir()
    path = ledger(books, WITHDRAWAL)
    line = line_of(path, "从风险补偿金借出")
    monkeypatch.chdir(tmp_path)
    text = zbd("check", path)
    assert f"错误 books/main.beancount:{line}: " in text.stdout
    assert f"账本：books/main.beancount（规则：{RULES}）" in text.stdout
    assert f"读取并检查账本 books/main.beancount …" in text.stderr
    assert str(tmp_path) not in text.output
    document = json.loads(zbd("check", path, "--format", "json").stdout)
    assert document["ledger"] == "books/main.beancount" and document["rules"] == str(RULES)
    assert {f["filename"] for f in document["findings"]} == {"books/main.beancount"}
    assert str(tmp_path) not in json.dumps(document, ensure_ascii=False)

    broken = books / "rules.yaml"  # a rules file below the working directory, with an error
    if (ROOT / "calendar.yaml").exists():
        shutil.copy(ROOT / "calendar.yaml", books / "calendar.yaml")
    broken.write_text(RULES.read_text(encoding="utf-8").replace("severity: error", "severity: fatal", 1), encoding="utf-8")
    result = zbd("check", ledger(books, rules=broken))
    assert result.exit_code == 2
    assert f"books/rules.yaml:{line_of(broken, 'severity: fatal')}: rules.yaml 有误" in result.stderr
    assert str(tmp_path) not in result.stderr

    problem = zbd("check", ledger(books, "\n2024-12-10 balanc Assets:CQGX:Pool 1 CNY\n"), "--format", "json")
    (error,) = json.loads(problem.stdout)["beancount_errors"]
    assert error["filename"] == "books/main.beancount"


def test_console_script_is_installed():
    exe = Path(sys.executable).with_name("zbd")
    assert exe.exists(), "pip install -e . should install the zbd console script"
    done = subprocess.run([str(exe), "check", str(FIXTURE)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "检查通过" in done.stdout


# ---------------------------------------------------------------------- report


def test_parse_period():
    assert parse_period("2024Q3") == ("2024年第三季度", datetime.date(2024, 7, 1), datetime.date(2024, 9, 30))
    assert parse_period("2024q4")[1:] == (datetime.date(2024, 10, 1), datetime.date(2024, 12, 31))
    assert parse_period("2024") == ("2024年度", datetime.date(2024, 1, 1), datetime.date(2024, 12, 31))
    # As Fava writes a quarter in its time filter, and months.
    assert parse_period("2024-Q4") == parse_period("2024Q4") == parse_period(" 2024-q4 ")
    assert parse_period("2024-10") == ("2024年10月", datetime.date(2024, 10, 1), datetime.date(2024, 10, 31))
    assert parse_period("2024-2")[1:] == (datetime.date(2024, 2, 1), datetime.date(2024, 2, 29))
    assert parse_period("2024-12")[1:] == (datetime.date(2024, 12, 1), datetime.date(2024, 12, 31))


def _parts(path: Path, sheet: str) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """A table's rows and totals rows: the header is the row the printer repeats, the rows
    are those the autofilter covers (none when the sheet says 本期无), the totals follow."""
    ws = load_workbook(path)[sheet]
    header_row = int(ws.print_title_rows.split(":")[0].strip("$"))
    rows = list(ws.iter_rows(min_row=header_row, values_only=True))
    header = rows[0]
    if ws.auto_filter.ref:
        last = int(re.search(r"(\d+)$", ws.auto_filter.ref).group(1))
        data, rest = rows[1 : last - header_row + 1], rows[last - header_row + 1 :]
    else:
        assert rows[1][0] == "本期无", rows[1]
        data, rest = [], rows[2:]
    return [dict(zip(header, row)) for row in data], [dict(zip(header, row)) for row in rest]


def _table(path: Path, sheet: str) -> list[dict[str, object]]:
    return _parts(path, sheet)[0]


def _overview(path: Path) -> dict[str, dict[str, object]]:
    """概览, read down the page: program code -> line label -> value."""
    ws = load_workbook(path)["概览"]
    header_row = int(ws.print_title_rows.split(":")[0].strip("$"))
    rows = list(ws.iter_rows(min_row=header_row, values_only=True))
    codes = rows[0][1:]
    return {code: {row[0]: row[1 + i] for row in rows[1:]} for i, code in enumerate(codes)}


def money(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def day(value: object) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def test_report_figures_come_from_the_engine(tmp_path):
    path = ledger(tmp_path, SUSPENSE)
    out = tmp_path / "2024Q3.xlsx"
    result = zbd("report", path, "--period", "2024Q3", "-o", out)
    assert result.exit_code == 0, result.output
    entries, analysis = engine(path)
    start, end = datetime.date(2024, 7, 1), datetime.date(2024, 9, 30)
    before = start - datetime.timedelta(days=1)
    wb = load_workbook(out)
    assert wb.sheetnames == ["概览", "资金来源", "专户对账", "贷款", "代偿", "追偿", "孳息分配", "检查结果", "结账与授权文件"]

    cq = analysis.programs["CQGX"]
    # Sources and uses: opening + flows by kind = closing, each from the engine.
    sources = {(r["项目代码"], r["资金"]): r for r in _table(out, "资金来源")}
    for fund, label in ((GUARANTEE, "助保金"), (RISK, "风险补偿金")):
        row = sources[("CQGX", label)]
        assert money(row["期初余额"]) == cq.funds[fund].at(before)
        assert money(row["期末余额"]) == cq.funds[fund].at(end)
        for kind, column in (("interest", "孳息"), ("compensation", "代偿"), ("fee", "助保金缴存")):
            series = cq.flow_series.get((fund, kind))
            expected = series.at(end) - series.at(before) if series else Decimal("0.00")
            assert money(row[column]) == expected, (fund, kind)
        assert money(row["勾稽差额"]) == 0
    # Hand check of the quarter: the guarantee fund paid 125,036.74 on CQ-2024-007.
    assert money(sources[("CQGX", "助保金")]["代偿"]) == Decimal("-125036.74")

    # Reconciliation to the bank statement: the 2024-07-01 and 2024-10-01 assertions.
    recon = [r for r in _table(out, "专户对账") if r["项目代码"] == "CQGX"]
    asserted = {day(r["断言日期"]): r for r in recon if r["银行对账单余额"] is not None}
    assert set(asserted) == {datetime.date(2024, 7, 1), datetime.date(2024, 10, 1)}
    for when, row in asserted.items():
        g = cq.funds[GUARANTEE].at(when - datetime.timedelta(days=1))
        r = cq.funds[RISK].at(when - datetime.timedelta(days=1))
        assert money(row["助保金"]) == g and money(row["风险补偿金"]) == r
        assert money(row["银行对账单余额"]) == g + r
        assert money(row["差额"]) == 0 and row["说明"] == "相符"

    # Loans from the register.
    loans = {r["贷款编号"]: r for r in _table(out, "贷款")}
    for loan_id in ("CQ-2024-001", "CQ-2024-007", "WL-2024-001"):
        loan = analysis.register.loans[loan_id]
        assert money(loans[loan_id]["期初余额"]) == loan.outstanding(before)
        assert money(loans[loan_id]["期末余额"]) == loan.outstanding(end)
        assert money(loans[loan_id]["助保金累计应缴"]) == analysis.records.fees[loan_id].due
    assert money(loans["WL-2024-001"]["本期还款"]) == Decimal("500000.00")
    # The status words of 贷款台账 for the same period: CQ-2024-007 was compensated in the quarter.
    assert loans["CQ-2024-007"]["期末状态"] == "已代偿"
    page = {r.id: r.status_label for r in views.loan_rows(analysis, views.Period(None, end, False), ["CQGX", "WLHT"])}
    assert {k: r["期末状态"] for k, r in loans.items()} == {k: page[k] for k in loans}
    assert set(page.values()) >= {"在贷", "已代偿"}

    # The compensation and its waterfall.
    (claim,) = analysis.records.claims.values()
    (row,) = _table(out, "代偿")
    assert (money(row["应代偿额"]), money(row["助保金支付"]), money(row["风险补偿金支付"]), money(row["合作银行承担"])) == (
        claim.due, claim.guarantee_paid, claim.risk_paid, claim.bank_share)
    assert row["状态"] == "已代偿"

    # Interest allocation of the quarter.
    (alloc,) = [a for a in analysis.records.interest if start <= a.entry.date <= end]
    (row,) = _table(out, "孳息分配")
    assert money(row["助保金积数"]) == alloc.jishu_guarantee
    assert money(row["风险补偿金应分"]) == alloc.expected_risk
    assert row["分配"] == "分配正确"  # the words of 孳息分配

    # Coverage and leverage at the period end.
    overview = _overview(out)
    outstanding = analysis.outstanding("CQGX", end)
    assert outstanding == Decimal("5000000.00")
    assert money(overview["CQGX"]["期末在贷余额"]) == outstanding
    assert Decimal(str(overview["CQGX"]["风险补偿金 ÷ 在贷余额（覆盖率）"])).quantize(Decimal("1E-9")) == (
        cq.funds[RISK].at(end) / outstanding).quantize(Decimal("1E-9"))
    assert Decimal(str(overview["WLHT"]["在贷余额 ÷ 风险补偿金（放大倍数）"])) == Decimal("0.75")
    assert overview["CQGX"]["本期代偿笔数"] == 1
    assert money(overview["CQGX"]["助保金期末余额"]) == cq.funds[GUARANTEE].at(end)
    assert overview["WLHT"]["项目名称"] == analysis.programs["WLHT"].program.name

    # Open findings: the suspense warning is dated after the quarter (the sheet says 本期无);
    # in the annual report it shows.
    assert _table(out, "检查结果") == []
    annual = tmp_path / "2024.xlsx"
    assert zbd("report", path, "--period", "2024", "-o", annual).exit_code == 0
    findings = _table(annual, "检查结果")
    assert [(f["规则编号"], f["严重程度"]) for f in findings] == [("pool.suspense", "警告")]
    assert findings[0]["依据"] == "渝高新发〔2021〕8号 第七条"
    recon = {(r["项目代码"], r["说明"]): r for r in _table(annual, "专户对账")}
    assert money(recon[("CQGX", "期末账面（无余额断言）")]["未归属两项资金"]) == Decimal("1234.56")
    recoveries = _table(annual, "追偿")
    (rec,) = analysis.records.recoveries
    assert [(money(r["追偿净额"]), money(r["偿还合作银行"]), money(r["补回风险补偿金"])) for r in recoveries] == [
        (rec.net, rec.parts["bank"], rec.parts["risk"])]


def test_report_never_overwrites_without_force(tmp_path):
    path = ledger(tmp_path)
    out = tmp_path / "r.xlsx"
    out.write_bytes(b"keep me")
    result = zbd("report", path, "--period", "2024Q3", "-o", out)
    assert result.exit_code == 2
    assert "已存在" in result.stderr and "--force" in result.stderr
    assert out.read_bytes() == b"keep me"
    assert zbd("report", path, "--period", "2024Q3", "-o", out, "--force").exit_code == 0
    assert load_workbook(out).sheetnames[0] == "概览"


def test_report_for_one_program(tmp_path):
    out = tmp_path / "wlht.xlsx"
    assert zbd("report", ledger(tmp_path), "--period", "2024", "-o", out, "--program", "WLHT").exit_code == 0
    assert {r["项目代码"] for r in _table(out, "贷款")} == {"WLHT"}
    assert list(_overview(out)) == ["WLHT"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2024Q5"], "季度应为 Q1 至 Q4"),
        (["--period", "2024-Q0"], "季度应为 Q1 至 Q4"),
        (["--period", "2024-13"], "月份应为 01 至 12"),
        (["--period", "0000"], "年份 0 超出范围"),
        (["--period", "9999Q4"], "年份 9999 超出范围"),
        (["--period", "2024-W3"], "报告期应写作"),
        (["--period", "2031"], "报告期 2031年度（2031-01-01 至 2031-12-31）不在账本的日期范围"),
        (["--period", "2019-Q4"], "不在账本的日期范围"),
        (["--period", "2024", "--program", "NOPE"], "rules.yaml 中没有项目 NOPE"),
    ],
)
def test_report_bad_input(tmp_path, args, message):
    result = zbd("report", ledger(tmp_path), "-o", tmp_path / "x.xlsx", *args)
    assert result.exit_code == 2, result.output  # input that cannot be used, never 3 (内部错误)
    assert message in result.stderr
    assert "内部错误" not in result.stderr
    assert not (tmp_path / "x.xlsx").exists()


# ---------------------------------------------------------------------- stress


def test_stress_named_loans_matches_the_core(tmp_path):
    path = ledger(tmp_path)
    result = zbd("stress", path, "--date", "2024-08-31", "--loans", "CQ-2024-007", "--recovery-rate", "0.3",
                 "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    _, analysis = engine(path)
    on = datetime.date(2024, 8, 31)
    exposures = stress.book(analysis, "CQGX", on)
    expected = stress.run(stress.position(analysis, "CQGX", on), exposures,
                          stress.dues_for_loans(exposures, ["CQ-2024-007"]), Decimal("0.3"))
    assert document["program"] == "CQGX"
    assert document["borne"] == {"guarantee": str(expected.guarantee), "risk": str(expected.risk),
                                 "bank": str(expected.bank), "committee": str(expected.uncovered)}
    # Hand check: G 125,036.74 pays first; the shortfall 874,963.26 is split 437,481.63 each.
    assert document["borne"]["risk"] == "437481.63"
    assert document["recovered"]["bank"] == "300000.00"


def test_stress_text_and_monte_carlo(tmp_path):
    path = ledger(tmp_path)
    text = zbd("stress", path, "--date", "2024-08-31", "--program", "CQGX", "--default-rate", "5%",
               "--recovery-rate", "0")
    assert text.exit_code == 0, text.output
    assert "风险补偿金耗尽的违约率" in text.stdout and "合作银行" in text.stdout
    mc = zbd("stress", path, "--date", "2024-08-31", "--program", "CQGX", "--default-rate", "0.5",
             "--recovery-rate", "0.3", "--monte-carlo", "500", "--seed", "7", "--format", "json")
    assert mc.exit_code == 0, mc.output
    document = json.loads(mc.stdout)
    assert document["draws"] == 500 and set(document["figures"]["defaulted"]) >= {"mean", "p50", "p99"}
    assert "蒙特卡罗模拟" in mc.stderr  # progress goes to stderr
    again = zbd("stress", path, "--date", "2024-08-31", "--program", "CQGX", "--default-rate", "0.5",
                "--recovery-rate", "0.3", "--monte-carlo", "500", "--seed", "7", "--format", "json")
    assert json.loads(again.stdout) == document


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--recovery-rate", "0.3"], "请给出 --default-rate 或 --loans 之一"),
        (["--loans", "NOPE", "--recovery-rate", "0.3", "--program", "CQGX"], "贷款 NOPE 不在"),
        (["--default-rate", "2", "--recovery-rate", "0.3"], "违约率应在 0 到 1 之间"),
        (["--default-rate", "0.1", "--recovery-rate", "0.3", "--monte-carlo", "10"], "--seed"),
    ],
)
def test_stress_bad_input(tmp_path, args, message):
    result = zbd("stress", ledger(tmp_path), "--date", "2024-08-31", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


# ---------------------------------------------------------------------- serve


def test_serve_refuses_a_missing_ledger(tmp_path):
    result = zbd("serve", tmp_path / "nope.beancount")
    assert result.exit_code == 2
    assert "找不到账本文件" in result.stderr


def test_serve_runs_fava_read_only_on_loopback(tmp_path):
    import socket
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("zbd")
    process = subprocess.Popen([str(exe), "serve", str(ledger(tmp_path)), "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        body = None
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    body = response.read().decode("utf-8", "replace")
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        assert body is not None, "Fava did not answer"
        # Read-only: a write through the API is refused.
        request = urllib.request.Request(f"http://127.0.0.1:{port}/beancount/api/source", data=b"{}",
                                         method="PUT", headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(request, timeout=5)
    finally:
        process.terminate()
        process.wait(timeout=10)


# ---------------------------------------------------------------------- generate and import


def test_generate_writes_a_ledger_that_passes_the_check(tmp_path):
    out = tmp_path / "synthetic.beancount"
    result = zbd("generate", "--transactions", "200", "--seed", "5", "-o", out)
    assert result.exit_code == 0, result.output
    assert "已生成" in result.stderr
    assert zbd("check", out).exit_code == 0
    again = zbd("generate", "--transactions", "200", "--seed", "5", "-o", out)
    assert again.exit_code != 0 and "已存在" in again.stderr


def test_import_is_the_importers_extract_command():
    result = zbd("import", "--help")
    assert result.exit_code == 0
    assert "导入对账单" in result.stdout
    nothing = zbd("import")
    assert nothing.exit_code != 0
    assert "请指定要导入的对账单文件或目录" in nothing.stderr


def test_report_on_a_ledger_with_beancount_errors_lists_them(tmp_path):
    path = ledger(tmp_path, '\n2024-08-10 * "x"\n  Assets:Nowhere  1.00 CNY\n  Assets:Cash:Outside  -1.00 CNY\n')
    out = tmp_path / "q3.xlsx"
    result = zbd("report", path, "--period", "2024Q3", "-o", out)
    assert result.exit_code == 0, result.output
    assert "Beancount 错误" in result.stderr
    rows = _table(out, "检查结果")
    assert [(r["规则编号"], r["行号"]) for r in rows] == [("beancount", line_of(path, "2024-08-10"))]
    assert "Assets:Nowhere" in rows[0]["说明"]
