"""Reading the reviewers' access log: who viewed which page when, in Chinese.

nginx writes one tab-separated line per request (fields: :data:`zhubaodai.proxyconf.LOG_FIELDS`):
time, reviewer, address, request line (method, path with query, protocol), status, bytes,
seconds. A page view in
a browser is one line for the page and several for Fava's scripts, styles and data (JSON
API); :func:`views` keeps the pages (review pages, Fava's own reports, CSV downloads) and
names them as the sidebar does, so ``zbd reviewers log`` reads like a visitors' book.
Pure functions; the command is in :mod:`zhubaodai.reviewers`.
"""

from __future__ import annotations

import datetime
import urllib.parse
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass

#: Fava's own pages (``/<ledger>/<report>/``) by their sidebar names in Chinese.
FAVA_PAGES: dict[str, str] = {
    "income_statement": "损益表",
    "balance_sheet": "资产负债表",
    "trial_balance": "试算表",
    "journal": "日记账",
    "query": "查询",
    "holdings": "持仓",
    "commodities": "商品",
    "documents": "文档",
    "events": "事件",
    "statistics": "统计",
    "errors": "错误",
    "options": "选项",
    "help": "帮助",
    "account": "账户",
    "download-journal": "下载日记账",
    "download-query": "下载查询结果",
    "document": "附件",
    "import": "导入（不开放）",
    "editor": "编辑器（不开放）",
}

#: What a status means to the person reading the log.
STATUS_NOTES: dict[int, str] = {
    401: "未登录或密码错误",
    403: "不对审阅人开放，已拒绝",
    404: "页面不存在",
    405: "写入请求，已拒绝",
    413: "请求过大，已拒绝",
    429: "过于频繁，已拒绝",
}


@dataclass(frozen=True)
class Request:
    """One line of the access log."""

    time: datetime.datetime
    #: The reviewer (for a 401 line: the name that was tried; "-": none given).
    user: str
    address: str
    method: str
    #: The path and query as requested (percent-encoded).
    uri: str
    status: int


@dataclass(frozen=True)
class View:
    """A page a reviewer asked for."""

    request: Request
    #: The page in Chinese ("资金池概况", "贷款台账 下载 loans.csv", "资产负债表" …).
    page: str
    #: The query string, decoded ("time=2025&program=CQGX"), or "".
    query: str

    @property
    def note(self) -> str:
        return STATUS_NOTES.get(self.request.status, "" if self.request.status < 400 else f"HTTP {self.request.status}")


class LogFormatError(ValueError):
    """A line that is not one of the access log's (the message is Chinese)."""


def parse(lines: Iterable[str]) -> list[Request]:
    """The access log's lines as requests (blank lines skipped)."""
    found: list[Request] = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fields = line.rstrip("\n").split("\t")
        try:
            when = datetime.datetime.fromisoformat(fields[0])
            # A malformed request (plain HTTP on the TLS port …) has no request line.
            method, _, rest = fields[3].partition(" ")
            uri = rest.rsplit(" ", 1)[0] if " " in rest else rest
            found.append(Request(when, fields[1], fields[2], method, uri, int(fields[4])))
        except (IndexError, ValueError):
            raise LogFormatError(f"第 {lineno} 行不是访问日志的格式（应为制表符分隔的时间、审阅人、地址、请求行、状态……）") from None
    return found


def page_of(uri: str, review_pages: Mapping[str, str]) -> tuple[str | None, str]:
    """The Chinese name of the page ``uri`` asks for (None: not a page) and its decoded query."""
    path, _, query = uri.partition("?")
    parts = [urllib.parse.unquote(p) for p in path.split("/") if p]
    query = urllib.parse.unquote_plus(query)
    if not path.startswith("/"):
        return None, query
    if not parts:
        return "首页", query
    if len(parts) >= 3 and parts[1] == "extension" and parts[2] in review_pages:
        title = review_pages[parts[2]]
        return (title if len(parts) == 3 else f"{title} 下载 {parts[3]}"), query
    if len(parts) >= 2 and parts[1] == "account":
        return f"账户 {'/'.join(parts[2:])}", query
    if len(parts) >= 2 and parts[1].startswith("download-query"):
        return FAVA_PAGES["download-query"], query
    if len(parts) == 1:
        return (None if parts[0] in ("jump", "favicon.ico") else "首页"), query
    if parts[1] in FAVA_PAGES:
        return FAVA_PAGES[parts[1]], query
    return None, query


def views(requests: Iterable[Request], review_pages: Mapping[str, str], *, everything: bool = False,
          reviewer: str | None = None, since: datetime.date | None = None) -> list[View]:
    """The page views among ``requests`` (``everything``: every request, by its path)."""
    found: list[View] = []
    for request in requests:
        if reviewer is not None and request.user != reviewer:
            continue
        if since is not None and request.time.date() < since:
            continue
        page, query = page_of(request.uri, review_pages)
        if page is None:
            # Refusals are worth seeing whatever was asked for (a write, a guessed password).
            if not everything and request.status not in STATUS_NOTES:
                continue
            page = urllib.parse.unquote(request.uri.partition("?")[0])
        found.append(View(request, page, query))
    return found
