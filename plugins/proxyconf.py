"""The nginx configuration that puts Fava behind a login, TLS and an access log.

``zbd serve LEDGER --reviewers FILE`` (:mod:`zhubaodai.serve`) writes the text
:func:`render` returns into a temporary runtime directory and starts Debian's nginx with it.
Nothing here runs a process; the configuration is a pure function of :class:`ProxyConfig`.

What the configuration enforces, in the order nginx applies it to a request:

1. the request body size (``client_max_body_size``; over it: 413);
2. only GET and HEAD: every other method is refused with 405 before it reaches Fava
   (``fava --read-only`` refuses writes as well);
3. the import API and pages, and the source editor's endpoints, answer 403 (see
   :data:`BLOCKED_API` and :data:`BLOCKED_PAGES`, taken from Fava 1.30's json_api.py
   and application.py);
4. the request rate per client address (``limit_req``; over the limit: 429) - before
   the login is checked, so unauthenticated requests count too, which also slows down
   password guessing;
5. a reviewer's name and password from the htpasswd file (401 otherwise); the file is
   read on every request, so adding, removing a reviewer or changing a password takes
   effect at once, without a restart;
6. the request goes to Fava on loopback, without the ``Authorization`` header, and one
   line goes to the access log: time, reviewer, address, request line, status, bytes,
   seconds.

Error pages (401, 403, 404, 405, 413, 429, 50x) are short Chinese HTML pages
(:data:`ERROR_PAGES`), written next to the configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: JSON API endpoints (``/<ledger>/api/<name>``) that are not exposed: the importer
#: (``get_extract``, ``get_imports``, ``put_upload_import_file``) and the source editor
#: (``get_source``, ``put_source``, ``get_source_slice``, ``put_source_slice``,
#: ``delete_source_slice``, ``put_format_source``), plus the other writers of Fava 1.30
#: (already refused by method; listed so that no future GET variant slips through).
BLOCKED_API: tuple[str, ...] = (
    "extract",
    "imports",
    "upload_import_file",
    "source",
    "source_slice",
    "format_source",
    "add_document",
    "attach_document",
    "document",
    "add_entries",
    "move",
)

#: Fava's pages for the importer and the editor (``/<ledger>/<page>/``), and its file
#: download ``/<ledger>/document/?filename=…``, which serves any file under the ledger's
#: ``import-dirs`` (the bank statements waiting to be imported) besides attached documents.
BLOCKED_PAGES: tuple[str, ...] = ("import", "editor", "document")

#: The access log's fields, tab-separated, one request a line (docs/reviewing.md).
LOG_FIELDS: tuple[str, ...] = (
    "$time_iso8601",
    "$remote_user",
    "$remote_addr",
    # The request line as sent ("POST /path?query HTTP/1.1"): $request_method would show
    # GET for a refused write, since nginx's error page is fetched with GET.
    "$request",
    "$status",
    "$body_bytes_sent",
    "$request_time",
)

#: Status -> the Chinese page nginx shows for it.
ERROR_PAGES: dict[int, tuple[str, str]] = {
    401: ("需要登录", "请输入审阅人的用户名和密码。没有账号请联系资金池的管理员。"),
    403: ("不对审阅人开放", "导入与源文件编辑功能不经网络开放；审阅页面与报表可以正常浏览。"),
    404: ("找不到页面", "地址有误，请从资金池概况重新进入。"),
    405: ("只读访问", "审阅人只能浏览（GET），不能提交、修改或删除任何内容。"),
    413: ("请求过大", "请求的内容超过了允许的大小。"),
    429: ("请求过于频繁", "请稍候片刻再刷新页面。"),
    502: ("账本服务暂不可用", "Fava 尚未启动或已经停止，请联系资金池的管理员。"),
    503: ("账本服务暂不可用", "请稍后再试。"),
    504: ("账本服务响应超时", "账本较大时第一次打开审阅页面较慢，请稍后刷新。"),
}


@dataclass(frozen=True)
class ProxyConfig:
    """Everything the nginx configuration depends on (absolute paths)."""

    #: Where nginx listens for reviewers (HTTPS), e.g. ``127.0.0.1`` or ``0.0.0.0``.
    host: str
    port: int
    #: Fava on loopback.
    fava_port: int
    reviewers: Path
    certificate: Path
    key: Path
    access_log: Path
    error_log: Path
    #: The temporary runtime directory: pid file, nginx's temp paths, error pages.
    runtime: Path
    #: Requests per second and burst per client address (limit_req).
    rate: int = 20
    burst: int = 100
    #: Largest request body nginx accepts (GET and HEAD need none).
    max_body: str = "1k"
    #: Send Strict-Transport-Security: only with a real certificate (``--cert``). HSTS is
    #: per host name, not per port: from the demo's self-signed ``localhost`` it would
    #: force HTTPS on every other local service the browser visits as ``localhost``.
    hsts: bool = False
    #: Run nginx's worker processes as root (only when zbd itself runs as root, so that
    #: the workers can read a reviewers file only root may read).
    workers_as_root: bool = False


def _listen(host: str, port: int) -> str:
    address = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"{address}:{port}"


def _quoted(path: Path) -> str:
    text = str(path)
    if any(c in text for c in '"\\\n;{}$'):
        raise ValueError(f"路径中含有 nginx 配置无法安全表示的字符：{text}")
    return f'"{text}"'


def error_page_html(status: int) -> str:
    """The Chinese page nginx shows for ``status``."""
    title, text = ERROR_PAGES[status]
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{status} {title}</title></head>\n"
        f"<body><h1>{title}</h1><p>{text}</p><p>（HTTP {status}，助保贷资金池审阅）</p></body></html>\n"
    )


def render(config: ProxyConfig) -> str:
    """The whole nginx.conf for ``config``."""
    runtime = config.runtime
    blocked_api = "|".join(BLOCKED_API)
    blocked_pages = "|".join(BLOCKED_PAGES)
    fields = "\\t".join(LOG_FIELDS)
    error_pages = "\n".join(
        f"        error_page {status} /zbd-error/{status}.html;" for status in ERROR_PAGES
    )
    user = "user root root;\n" if config.workers_as_root else ""
    hsts = '        add_header Strict-Transport-Security "max-age=31536000" always;\n' if config.hsts else ""
    return f"""# Written by `zbd serve --reviewers` (zhubaodai.proxyconf); removed when it stops.
{user}worker_processes 1;
daemon off;
pid {_quoted(runtime / "nginx.pid")};
error_log {_quoted(config.error_log)} warn;

events {{
    worker_connections 256;
}}

http {{
    server_tokens off;
    default_type application/octet-stream;
    client_body_temp_path {_quoted(runtime / "client_body")};
    proxy_temp_path {_quoted(runtime / "proxy")};
    fastcgi_temp_path {_quoted(runtime / "fastcgi")};
    uwsgi_temp_path {_quoted(runtime / "uwsgi")};
    scgi_temp_path {_quoted(runtime / "scgi")};

    log_format reviewers '{fields}';
    access_log {_quoted(config.access_log)} reviewers;

    limit_req_zone $binary_remote_addr zone=reviewers:1m rate={config.rate}r/s;
    limit_req_status 429;
    limit_conn_zone $binary_remote_addr zone=connections:1m;

    client_max_body_size {config.max_body};
    client_body_buffer_size {config.max_body};
    client_header_timeout 10s;
    client_body_timeout 10s;
    keepalive_timeout 30s;
    send_timeout 30s;

    server {{
        listen {_listen(config.host, config.port)} ssl;
        ssl_certificate {_quoted(config.certificate)};
        ssl_certificate_key {_quoted(config.key)};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:tls:1m;

        limit_conn connections 20;

        add_header X-Content-Type-Options nosniff always;
        add_header X-Frame-Options SAMEORIGIN always;
        add_header Referrer-Policy same-origin always;
{hsts}
{error_pages}

        location ^~ /zbd-error/ {{
            internal;
            auth_basic off;
            root {_quoted(runtime)};
            charset utf-8;
        }}

        # Only GET (and with it HEAD) goes on to Fava; everything else ends here.
        if ($request_method !~ ^(GET|HEAD)$) {{
            return 405;
        }}

        auth_basic "zhubaodai";
        auth_basic_user_file {_quoted(config.reviewers)};

        # The import API and the source editor are not exposed.
        location ~ ^/[^/]+/api/({blocked_api})/?$ {{
            return 403;
        }}
        location ~ ^/[^/]+/({blocked_pages})(/.*)?$ {{
            return 403;
        }}

        location / {{
            # Here, not on the server: nginx's own error pages (internal redirects) must
            # not count a second time.
            limit_req zone=reviewers burst={config.burst} nodelay;
            proxy_pass http://127.0.0.1:{config.fava_port};
            proxy_http_version 1.1;
            # fava --read-only answers anything but GET with 401, HEAD too; nginx sends
            # a HEAD request only the headers of Fava's answer to GET.
            proxy_method GET;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Forwarded-User $remote_user;
            proxy_set_header Authorization "";
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_max_temp_file_size 0;
            proxy_read_timeout 300s;
            proxy_intercept_errors off;
        }}
    }}
}}
"""
