"""``zbd reviewers``: the access list (Debian's htpasswd) and the access log reader, without a server.

The proxy itself, with these files, is tested in tests/test_reviewers_network.py.
"""

from __future__ import annotations

import datetime
import stat
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from zhubaodai import accesslog
from zhubaodai.cli import main
from zhubaodai.fava import PAGES

SLUG = "/%E5%8A%A9%E4%BF%9D%E8%B4%B7"  # /助保贷


def zbd(*args: object, input: str | None = None):  # noqa: A002 - click's name
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def htpasswd_verifies(file: Path, name: str, password: str) -> bool:
    """Debian's htpasswd itself checks the password (``-v``), as nginx will."""
    done = subprocess.run(["htpasswd", "-v", "-i", str(file), name], input=password + "\n",
                          capture_output=True, text=True, timeout=60, check=False)
    return done.returncode == 0


def test_add_prompts_twice_and_writes_a_bcrypt_entry_only_its_owner_reads(tmp_path: Path) -> None:
    file = tmp_path / "reviewers.htpasswd"
    result = zbd("reviewers", "add", file, "zhang.san", input="first-pass-1\nfirst-pass-1\n")
    assert result.exit_code == 0, result.output
    assert "已添加审阅人 zhang.san" in result.output
    assert file.read_text().startswith("zhang.san:$2y$")
    assert "first-pass-1" not in file.read_text()
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert htpasswd_verifies(file, "zhang.san", "first-pass-1")
    assert not htpasswd_verifies(file, "zhang.san", "other-pass-1")


def test_add_refuses_an_existing_reviewer_and_passwd_rotates(tmp_path: Path) -> None:
    file = tmp_path / "reviewers.htpasswd"
    assert zbd("reviewers", "add", file, "li-si", "--password-stdin", input="old-password\n").exit_code == 0
    again = zbd("reviewers", "add", file, "li-si", "--password-stdin", input="new-password\n")
    assert again.exit_code == 2 and "已在名单" in again.output and "zbd reviewers passwd" in again.output
    assert htpasswd_verifies(file, "li-si", "old-password")
    rotated = zbd("reviewers", "passwd", file, "li-si", "--password-stdin", input="new-password\n")
    assert rotated.exit_code == 0, rotated.output
    assert htpasswd_verifies(file, "li-si", "new-password")
    assert not htpasswd_verifies(file, "li-si", "old-password")


def test_remove_and_list(tmp_path: Path) -> None:
    file = tmp_path / "reviewers.htpasswd"
    for name in ("zhang.san", "li-si"):
        assert zbd("reviewers", "add", file, name, "--password-stdin", input="a-password\n").exit_code == 0
    listed = zbd("reviewers", "list", file)
    assert listed.exit_code == 0 and listed.stdout.splitlines() == ["zhang.san", "li-si"]
    assert "$2y$" not in listed.output
    assert zbd("reviewers", "remove", file, "zhang.san").exit_code == 0
    assert zbd("reviewers", "list", file).stdout.splitlines() == ["li-si"]
    missing = zbd("reviewers", "remove", file, "zhang.san")
    assert missing.exit_code == 2 and "没有审阅人 zhang.san" in missing.output


@pytest.mark.parametrize("args, input, message", [
    (["add", "{file}", "zhang.san"], "first-pass-1\nsecond-pass-2\n", "两次输入的密码不一致"),
    (["add", "{file}", "zhang.san", "--password-stdin"], "short\n", "密码太短"),
    (["add", "{file}", "张三", "--password-stdin"], "a-password\n", "审阅人名称“张三”不可用"),
    (["add", "{file}", "a:b", "--password-stdin"], "a-password\n", "不可用"),
    (["passwd", "{file}", "zhang.san", "--password-stdin"], "a-password\n", "找不到审阅人名单"),
    (["list", "{file}"], None, "找不到审阅人名单"),
    (["log", "{file}"], None, "找不到访问日志"),
    (["log", "{file}", "--since", "昨天"], None, "--since 应为日期"),
])
def test_bad_input_is_a_chinese_error_and_writes_nothing(tmp_path: Path, args: list[str], input: str | None,
                                                        message: str) -> None:
    file = tmp_path / "reviewers.htpasswd"
    result = zbd("reviewers", *[a.format(file=file) for a in args], input=input)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not file.exists()


def test_a_name_htpasswd_accepts_but_the_log_could_not_show_cleanly_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "reviewers.htpasswd"
    file.write_text("张三:$2y$05$abcdefghijklmnopqrstuu5eSyLBdyPdT3TgtOzUe2K5tJ8gyfJ8S\n", encoding="utf-8")
    result = zbd("reviewers", "list", file)
    assert result.exit_code == 2 and "第 1 行的名称“张三”不可用" in result.output


def test_a_file_that_is_not_an_access_list_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "main.beancount"
    file.write_text('option "title" "账本"\n', encoding="utf-8")
    result = zbd("reviewers", "add", file, "zhang.san", "--password-stdin", input="a-password\n")
    assert result.exit_code == 2 and "第 1 行不是“名称:密码散列”的格式" in result.output
    assert file.read_text(encoding="utf-8") == 'option "title" "账本"\n'


LOG = "\n".join([
    f"2026-03-02T09:15:01+08:00\tzhang.san\t10.0.0.5\tGET {SLUG}/extension/Zbd1Pool/?time=2025 HTTP/1.1\t200\t29000\t0.105",
    "2026-03-02T09:15:01+08:00\tzhang.san\t10.0.0.5\tGET /static/app.js HTTP/1.1\t200\t900000\t0.001",
    f"2026-03-02T09:15:02+08:00\tzhang.san\t10.0.0.5\tGET {SLUG}/api/balance_sheet HTTP/1.1\t200\t3000\t0.020",
    f"2026-03-02T09:16:00+08:00\tzhang.san\t10.0.0.5\tGET {SLUG}/extension/Zbd2Loans/loans.csv?program=CQGX HTTP/1.1\t200\t5000\t0.030",
    f"2026-03-03T10:00:00+08:00\tli-si\t10.0.0.6\tGET {SLUG}/balance_sheet/ HTTP/1.1\t200\t9000\t0.050",
    f"2026-03-03T10:01:00+08:00\tli-si\t10.0.0.6\tPUT {SLUG}/api/source HTTP/1.1\t405\t277\t0.000",
    f"2026-03-03T10:02:00+08:00\twang\t10.0.0.7\tGET {SLUG}/extension/Zbd6Compliance/ HTTP/1.1\t401\t286\t0.002",
    f"2026-03-03T10:03:00+08:00\tli-si\t10.0.0.6\tGET {SLUG}/editor/ HTTP/1.1\t403\t280\t0.000",
    "",
])


def test_the_access_log_reads_as_who_viewed_which_page_when() -> None:
    views = accesslog.views(accesslog.parse(LOG.splitlines()), PAGES)
    rows = [(v.request.time.strftime("%m-%d %H:%M"), v.request.user, v.page, v.query, v.request.method, v.note)
            for v in views]
    assert rows == [
        ("03-02 09:15", "zhang.san", "资金池概况", "time=2025", "GET", ""),
        ("03-02 09:16", "zhang.san", "贷款台账 下载 loans.csv", "program=CQGX", "GET", ""),
        ("03-03 10:00", "li-si", "资产负债表", "", "GET", ""),
        ("03-03 10:01", "li-si", "/助保贷/api/source", "", "PUT", "写入请求，已拒绝"),
        ("03-03 10:02", "wang", "合规检查", "", "GET", "未登录或密码错误"),
        ("03-03 10:03", "li-si", "编辑器（不开放）", "", "GET", "不对审阅人开放，已拒绝"),
    ]
    assert len(accesslog.views(accesslog.parse(LOG.splitlines()), PAGES, everything=True)) == 8
    only = accesslog.views(accesslog.parse(LOG.splitlines()), PAGES, reviewer="li-si", since=datetime.date(2026, 3, 3))
    assert [v.page for v in only] == ["资产负债表", "/助保贷/api/source", "编辑器（不开放）"]


def test_zbd_reviewers_log(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(LOG, encoding="utf-8")
    result = zbd("reviewers", "log", log, "--reviewer", "zhang.san")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "2026-03-02 09:15:01  zhang.san  10.0.0.5  资金池概况  （time=2025）",
        "2026-03-02 09:16:00  zhang.san  10.0.0.5  贷款台账 下载 loans.csv  （program=CQGX）",
    ]
    log.write_text("这不是访问日志\n", encoding="utf-8")
    broken = zbd("reviewers", "log", log)
    assert broken.exit_code == 2 and "第 1 行不是访问日志的格式" in broken.output


@pytest.mark.parametrize("command", ["add", "passwd", "remove", "list", "log"])
def test_every_reviewers_commands_help_is_chinese(command: str) -> None:
    from test_clitext import assert_no_english

    result = CliRunner().invoke(main, ["reviewers", command, "--help"], prog_name="zbd")
    assert result.exit_code == 0 and result.output.startswith(f"用法：zbd reviewers {command} [选项] ")
    assert_no_english(result.output, command)
    assert "NAME" not in result.output and "ACCESS_LOG" not in result.output
