"""``zbd reviewers``: the reviewers' access list, an htpasswd file kept apart from the ledger.

Commands (docs/reviewing.md, docs/cli.md)::

    zbd reviewers add FILE NAME        # a new reviewer; asks for the password twice
    zbd reviewers passwd FILE NAME     # a new password for an existing reviewer (rotation)
    zbd reviewers remove FILE NAME
    zbd reviewers list FILE
    zbd reviewers log [ACCESS_LOG] [--reviewer NAME] [--since DATE] [--all]

The file is written by Debian's ``htpasswd`` (apache2-utils) with bcrypt hashes, the
format nginx's ``auth_basic_user_file`` reads; nginx reads it on every request, so a
change takes effect at once. No ledger file is read or written. ``--password-stdin``
reads the password from the first line of standard input (for scripts).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import click

#: A reviewer's name: ASCII letters, digits and . _ -, starting with a letter or digit
#: (pinyin such as ``zhang.san``); it is what the access log shows.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: The shortest password accepted.
MIN_PASSWORD = 8
#: Where Debian's tools live when PATH leaves them out (non-root PATHs lack /usr/sbin).
SYSTEM_DIRS: tuple[str, ...] = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")
SETUP_HINT = "请先以 root（或 sudo）运行 bash scripts/setup.sh --network 安装 Debian 的 nginx、apache2-utils 与 openssl"


class ReviewersError(click.ClickException):
    """Input the command cannot use: one Chinese line, exit status 2."""

    exit_code = 2

    def show(self, file: object = None) -> None:
        click.echo(f"错误：{self.format_message()}", err=True)


@dataclass(frozen=True)
class Reviewer:
    name: str
    #: The hash scheme (``$2y$`` bcrypt, ``$apr1$`` …), never the hash itself.
    scheme: str


def find_tool(name: str, package: str) -> str:
    """The path of a Debian tool, or a Chinese error naming its package."""
    search = os.pathsep.join([os.environ.get("PATH", ""), *SYSTEM_DIRS])
    found = shutil.which(name, path=search)
    if found is None:
        raise ReviewersError(f"找不到 {name}（Debian 软件包 {package}）。{SETUP_HINT}")
    return found


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise ReviewersError(
            f"审阅人名称“{name}”不可用：只能用英文字母、数字和 . _ -（以字母或数字开头，最多 64 个字符），例如 zhang.san"
        )
    return name


def read(path: str | Path) -> list[Reviewer]:
    """The reviewers listed in an htpasswd file (a Chinese error when it is not one)."""
    file = Path(path)
    if not file.is_file():
        raise ReviewersError(f"找不到审阅人名单：{path}（用 zbd reviewers add {path} 名称 创建）")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReviewersError(f"无法读取审阅人名单 {path}：{exc}") from None
    found: list[Reviewer] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, colon, hashed = line.partition(":")
        if not colon or not hashed:
            raise ReviewersError(f"审阅人名单 {path} 第 {lineno} 行不是“名称:密码散列”的格式")
        if not NAME_PATTERN.match(name):
            raise ReviewersError(
                f"审阅人名单 {path} 第 {lineno} 行的名称“{name}”不可用：只能用英文字母、数字和 . _ -（以字母或数字开头）"
            )
        scheme = hashed.split("$")[1] if hashed.startswith("$") else hashed[:5]
        found.append(Reviewer(name, scheme))
    return found


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("密码", hide_input=True, err=True)
        again = click.prompt("再输入一次密码", hide_input=True, err=True)
        if again != password:
            raise ReviewersError("两次输入的密码不一致，未做任何改动")
    if len(password) < MIN_PASSWORD:
        raise ReviewersError(f"密码太短：至少 {MIN_PASSWORD} 个字符")
    if "\n" in password or "\r" in password:
        raise ReviewersError("密码不能含换行")
    return password


def _htpasswd(arguments: list[str], stdin: str | None = None) -> None:
    tool = find_tool("htpasswd", "apache2-utils")
    try:
        result = subprocess.run([tool, *arguments], input=stdin, capture_output=True,
                                text=True, timeout=60, check=False)
    except OSError as exc:
        raise ReviewersError(f"无法运行 htpasswd：{exc}") from None
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or [""]
        raise ReviewersError(f"htpasswd 失败（退出状态 {result.returncode}）：{detail[0]}")


def _set_password(path: Path, name: str, password: str) -> None:
    create = [] if path.exists() else ["-c"]
    old_umask = os.umask(0o077)  # a new file is readable by its owner only
    try:
        _htpasswd([*create, "-B", "-i", str(path), name], stdin=password + "\n")
    finally:
        os.umask(old_umask)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def reviewers() -> None:
    """审阅人名单（htpasswd 文件，与账本分开存放）：添加、改密码、删除、列出。

    名单供 zbd serve 账本 --reviewers 名单文件 使用；改动立即生效，不需要重启，也不改动任何账本文件。
    """


_stdin_option = click.option("--password-stdin", is_flag=True,
                             help="从标准输入的第一行读取密码（供脚本使用），不提示。")


@reviewers.command()
@click.argument("file", metavar="名单文件", type=click.Path(dir_okay=False))
@click.argument("name", metavar="名称")
@_stdin_option
def add(file: str, name: str, password_stdin: bool) -> None:
    """添加审阅人（文件不存在时创建；提示输入两次密码）。"""
    check_name(name)
    path = Path(file)
    if path.exists() and any(r.name == name for r in read(path)):
        raise ReviewersError(f"审阅人 {name} 已在名单 {file} 中；更换密码请用 zbd reviewers passwd {file} {name}")
    if not path.parent.is_dir():
        raise ReviewersError(f"目录不存在：{path.parent}")
    _set_password(path, name, _read_password(password_stdin))
    click.echo(f"已添加审阅人 {name}（名单：{file}）；正在运行的 zbd serve 立即生效。", err=True)


@reviewers.command()
@click.argument("file", metavar="名单文件", type=click.Path(dir_okay=False))
@click.argument("name", metavar="名称")
@_stdin_option
def passwd(file: str, name: str, password_stdin: bool) -> None:
    """更换审阅人的密码（轮换密码；旧密码立即失效）。"""
    check_name(name)
    if not any(r.name == name for r in read(file)):
        raise ReviewersError(f"名单 {file} 中没有审阅人 {name}；添加请用 zbd reviewers add {file} {name}")
    _set_password(Path(file), name, _read_password(password_stdin))
    click.echo(f"已更换审阅人 {name} 的密码（名单：{file}）；旧密码立即失效。", err=True)


@reviewers.command()
@click.argument("file", metavar="名单文件", type=click.Path(dir_okay=False))
@click.argument("name", metavar="名称")
def remove(file: str, name: str) -> None:
    """从名单中删除审阅人（立即不能再登录）。"""
    check_name(name)
    if not any(r.name == name for r in read(file)):
        raise ReviewersError(f"名单 {file} 中没有审阅人 {name}")
    _htpasswd(["-D", file, name])
    click.echo(f"已删除审阅人 {name}（名单：{file}）。", err=True)


@reviewers.command(name="list")
@click.argument("file", metavar="名单文件", type=click.Path(dir_okay=False))
def list_(file: str) -> None:
    """列出名单中的审阅人（不显示密码散列）。"""
    found = read(file)
    for reviewer in found:
        click.echo(reviewer.name)
    click.echo(f"共 {len(found)} 名审阅人（名单：{file}）", err=True)


@reviewers.command()
@click.argument("access_log", metavar="[访问日志]", required=False, type=click.Path(dir_okay=False))
@click.option("--reviewer", default=None, help="只看这名审阅人。")
@click.option("--since", default=None, help="只看这一天（YYYY-MM-DD）及以后。")
@click.option("--all", "everything", is_flag=True, help="列出每个请求（含脚本、样式与数据接口），不只是页面。")
def log(access_log: str | None, reviewer: str | None, since: str | None, everything: bool) -> None:
    """读访问日志：谁在什么时间看了哪个页面（默认读 zbd serve --reviewers 状态目录中的 access.log）。"""
    import datetime

    from zhubaodai import accesslog
    from zhubaodai.fava import PAGES
    from zhubaodai.serve import default_state_dir

    path = Path(access_log) if access_log else default_state_dir() / "access.log"
    day = None
    if since is not None:
        try:
            day = datetime.date.fromisoformat(since)
        except ValueError:
            raise ReviewersError(f"--since 应为日期 YYYY-MM-DD：{since}") from None
    if not path.is_file():
        raise ReviewersError(f"找不到访问日志：{path}（zbd serve --reviewers 运行后才有；可用 --state-dir 指定的目录中的 access.log）")
    try:
        with path.open(encoding="utf-8", errors="replace") as lines:
            requests = accesslog.parse(lines)
    except accesslog.LogFormatError as exc:
        raise ReviewersError(f"{path} {exc}") from None
    except OSError as exc:
        raise ReviewersError(f"无法读取访问日志 {path}：{exc.strerror or exc}") from None
    found = accesslog.views(requests, PAGES, everything=everything, reviewer=reviewer, since=day)
    for view in found:
        when = view.request.time.strftime("%Y-%m-%d %H:%M:%S")
        user = "（未登录）" if view.request.user == "-" else view.request.user
        cells = [when, user, view.request.address, view.page]
        if view.query:
            cells.append(f"（{view.query}）")
        if view.request.method not in ("GET", "HEAD"):
            cells.append(view.request.method)
        if view.note:
            cells.append(f"【{view.note}】")
        click.echo("  ".join(cells))
    click.echo(f"共 {len(found)} 条（访问日志：{path}）", err=True)
