"""Reviewers over the network (issue 15): ``zbd serve LEDGER --reviewers FILE``, for real.

One ``zbd serve --reviewers`` per module (Debian's nginx in front of ``fava --read-only``)
on a free loopback port, on a copy of the demo ledger; every request goes through the proxy
with TLS, trusting only the certificate the command generated. Every request loop here is
bounded in count, every wait in time.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import http.client
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from zhubaodai.fava import PAGES
from zhubaodai.proxyconf import LOG_FIELDS

ROOT = Path(__file__).resolve().parent.parent
ZBD = str(Path(sys.executable).parent / "zbd")
PASSWORDS = {"zhang.san": "zhang-san-pass-1", "li-si": "li-si-pass-2", "wang.wu": "wang-wu-pass-3"}
#: Seconds the first start may take (Fava loads the demo ledger) and one request may take
#: (a review page's first view runs the rule engine).
START_SECONDS = 120
REQUEST_SECONDS = 120


def _zbd(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ZBD, *args], input=stdin, capture_output=True, text=True, timeout=120,
                          check=False, env=env)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _digest(directory: Path) -> dict[str, str]:
    """Every ledger file's bytes (as SHA-256), Beancount's pickle cache aside."""
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*")) if p.is_file() and not p.name.endswith(".picklecache")
    }


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass
class Pool:
    """The running ``zbd serve --reviewers`` and what a test needs to talk to it."""

    process: subprocess.Popen[str]
    port: int
    state: Path
    reviewers: Path
    ledger_dir: Path
    before: dict[str, str]
    output: Path
    slug: str = ""
    trusted: Path | None = None

    @property
    def context(self) -> ssl.SSLContext:
        """TLS that trusts the server's certificate alone (the generated one unless
        ``trusted`` names another), with host name checking."""
        return ssl.create_default_context(cafile=str(self.trusted or self.state / "tls" / "cert.pem"))

    def request(self, method: str, path: str, user: str | None = None, password: str | None = None,
                body: bytes | None = None, connection: http.client.HTTPSConnection | None = None) -> Response:
        conn = connection or http.client.HTTPSConnection("localhost", self.port, context=self.context,
                                                         timeout=REQUEST_SECONDS)
        headers = {}
        if user is not None:
            secret = password if password is not None else PASSWORDS[user]
            headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=body, headers=headers)
            answer = conn.getresponse()
            return Response(answer.status, answer.headers, answer.read())
        finally:
            if connection is None:
                conn.close()

    def page(self, name: str) -> str:
        return f"{self.slug}/extension/{name}/"


def _start(tmp: Path, *options: str, trusted: Path | None = None) -> Pool:
    work = tmp / "pool"
    for name in ("ledger", "importers"):
        shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__", "*.picklecache"))
    for name in ("rules.yaml", "calendar.yaml"):
        shutil.copy2(ROOT / name, work / name)
    reviewers = tmp / "access" / "reviewers.htpasswd"
    reviewers.parent.mkdir()
    for user, password in PASSWORDS.items():
        done = _zbd("reviewers", "add", str(reviewers), user, "--password-stdin", stdin=password + "\n")
        assert done.returncode == 0, done.stderr
    before = _digest(work)
    port = _free_port()
    output = tmp / "serve.out"
    with output.open("w") as out:
        process = subprocess.Popen(
            [ZBD, "serve", str(work / "ledger" / "main.beancount"), "--reviewers", str(reviewers),
             "--port", str(port), "--state-dir", str(tmp / "state"), *options],
            stdout=out, stderr=subprocess.STDOUT, text=True, cwd=tmp, preexec_fn=_as_from_a_terminal,
        )
    pool = Pool(process, port, tmp / "state", reviewers, work, before, output, trusted=trusted)
    deadline = time.monotonic() + START_SECONDS
    while "按 Ctrl-C 停止" not in output.read_text(encoding="utf-8"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"zbd serve --reviewers 没有启动：\n{output.read_text(encoding='utf-8')}")
        time.sleep(0.2)
    first = pool.request("GET", "/", "zhang.san")
    assert first.status == 302, first.text
    pool.slug = "/" + urllib.parse.urlsplit(first.headers["Location"]).path.strip("/").split("/")[0]
    return pool


def _as_from_a_terminal() -> None:
    """The command starts as from a terminal, where Ctrl-C (SIGINT) reaches it: a test run
    started in the background of a non-interactive shell (`cmd &`, as some CI runners do)
    inherits SIGINT ignored, and so would the command, which the Ctrl-C tests then wait on."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    started = _start(tmp_path_factory.mktemp("reviewers"))
    try:
        yield started
    finally:
        if started.process.poll() is None:
            started.process.send_signal(signal.SIGINT)
            try:
                started.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                started.process.kill()


# --------------------------------------------------------------------------------------
# TLS and logins.


def test_tls_is_served_with_the_generated_certificate(pool: Pool) -> None:
    with socket.create_connection(("127.0.0.1", pool.port), timeout=10) as raw:
        with pool.context.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
            assert tls.getpeercert()["subject"]
    # Without trusting the generated certificate, the handshake fails: it is that one.
    with socket.create_connection(("127.0.0.1", pool.port), timeout=10) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            ssl.create_default_context().wrap_socket(raw, server_hostname="localhost")
    # Plain HTTP gets no page.
    with socket.create_connection(("127.0.0.1", pool.port), timeout=10) as raw:
        raw.sendall(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        assert b"302" not in raw.recv(200).split(b"\r\n")[0]


@pytest.mark.parametrize("user, password", [(None, None), ("zhang.san", "wrong-password"), ("nobody", "zhang-san-pass-1"),
                                            ("zhang.san", "")])
def test_without_a_valid_login_every_page_is_401(pool: Pool, user: str | None, password: str | None) -> None:
    for path in ["/", *(pool.page(name) for name in PAGES), f"{pool.slug}/api/balance_sheet"]:
        answer = pool.request("GET", path, user, password)
        assert answer.status == 401, path
        assert answer.headers["WWW-Authenticate"].startswith("Basic ")
        assert "需要登录" in answer.text


def test_a_reviewer_sees_every_review_page(pool: Pool) -> None:
    for name, title in PAGES.items():
        answer = pool.request("GET", pool.page(name), "zhang.san")
        assert answer.status == 200, (name, answer.text[:500])
        assert title in answer.text
        # No HSTS from the demo's self-signed localhost (it would bind every localhost port).
        assert answer.headers["Strict-Transport-Security"] is None
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert pool.request("HEAD", pool.page("Zbd1Pool"), "li-si").status == 200
    # Fava's own pages and its read-only JSON API go through as well.
    assert pool.request("GET", f"{pool.slug}/api/balance_sheet", "li-si").status == 200
    assert pool.request("GET", f"{pool.slug}/extension/Zbd2Loans/loans.csv", "li-si").status == 200


# --------------------------------------------------------------------------------------
# Read-only: methods, blocked endpoints, sizes.


WRITES = [
    ("PUT", "/api/source", {"file_path": "main.beancount", "source": "; 改动\n", "sha256sum": ""}),
    ("PUT", "/api/add_entries", {"entries": []}),
    ("PUT", "/api/format_source", {"source": "2024-01-01 open Assets:X"}),
    ("PUT", "/api/upload_import_file", {}),
    ("DELETE", "/api/source_slice?entry_hash=x&sha256sum=y", None),
    ("DELETE", "/api/document?filename=main.beancount", None),
    ("POST", "/extension/Zbd2Loans/loans.csv", {}),
    ("PATCH", "/api/source", {}),
    ("OPTIONS", "/", None),
]


@pytest.mark.parametrize("method, path, body", WRITES)
def test_every_other_method_is_refused_and_the_ledger_unchanged(pool: Pool, method: str, path: str, body: dict | None) -> None:
    import json

    payload = None if body is None else json.dumps(body).encode()
    for user in ("zhang.san", None):
        answer = pool.request(method, pool.slug + path, user, body=payload)
        assert answer.status == 405, (method, path, answer.text[:300])
        assert "只读访问" in answer.text
    assert _digest(pool.ledger_dir) == pool.before


BLOCKED = [
    "/api/source?filename=main.beancount",
    "/api/source_slice?entry_hash=x",
    "/api/extract?filename=x&importer=y",
    "/api/imports",
    "/api/format_source",
    "/api/upload_import_file",
    "/import/",
    "/editor/",
    "/editor/?file_path=main.beancount",
    # Fava serves files of the import directories here (the demo's: importers/samples).
    "/document/?filename={samples}/ccb-2026-01.csv",
]


@pytest.mark.parametrize("path", BLOCKED)
def test_the_import_api_and_the_source_editor_are_not_exposed(pool: Pool, path: str) -> None:
    samples = urllib.parse.quote(str(pool.ledger_dir / "importers" / "samples"))
    answer = pool.request("GET", pool.slug + path.format(samples=samples), "zhang.san")
    assert answer.status == 403, (path, answer.text[:300])
    assert "不对审阅人开放" in answer.text
    assert "2024-01-01" not in answer.text


def test_request_bodies_are_bounded(pool: Pool) -> None:
    answer = pool.request("GET", pool.page("Zbd1Pool"), "zhang.san", body=b"x" * 20_000)
    assert answer.status == 413
    assert "请求过大" in answer.text


# --------------------------------------------------------------------------------------
# The access log and the access list.


def _log_lines(pool: Pool) -> list[list[str]]:
    return [line.split("\t") for line in (pool.state / "access.log").read_text(encoding="utf-8").splitlines()]


def _logged(pool: Pool, wanted: Callable[[list[str]], bool]) -> list[str]:
    """The access log's line for a request just answered. nginx writes it when it has
    finished the request, which under load can come a moment after the client has the
    answer: looked for up to 50 times, 0.1 s apart."""
    for _ in range(50):
        found = [fields for fields in _log_lines(pool) if wanted(fields)]
        if found:
            assert len(found) == 1, found
            return found[0]
        time.sleep(0.1)
    pytest.fail("访问日志中没有这个请求")


def test_the_access_log_names_the_reviewer_the_page_and_the_time(pool: Pool) -> None:
    started = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    page = pool.page("Zbd5Interest") + "?time=2025&log-test=1"
    assert pool.request("GET", page, "li-si").status == 200
    assert pool.request("GET", pool.page("Zbd7Deadlines") + "?log-test=2", "nobody", "bad-password-1").status == 401
    when, user, address, request, status = _logged(pool, lambda f: "log-test=1 " in f[3])[:5]
    assert (user, address, status) == ("li-si", "127.0.0.1", "200")
    method, uri, _ = request.split(" ")
    assert method == "GET"
    assert urllib.parse.unquote(uri) == urllib.parse.unquote(page)
    assert datetime.datetime.fromisoformat(when) >= started
    refused = _logged(pool, lambda f: "log-test=2 " in f[3])
    assert refused[1] == "nobody" and refused[4] == "401"
    assert "li-si-pass-2" not in (pool.state / "access.log").read_text(encoding="utf-8")
    # A name cannot forge log fields or lines: nginx escapes tabs and line breaks.
    assert pool.request("GET", "/?log-test=3", "x\t200\tforged\nline", "a-password").status == 401
    forged = _logged(pool, lambda f: "log-test=3 " in f[3])
    assert len(forged) == len(LOG_FIELDS) and forged[1].startswith("x\\x09200") and forged[4] == "401"
    # A refused write is logged with its own method (not the GET of nginx's error page).
    assert pool.request("PUT", f"{pool.slug}/api/source?log-test=4", "li-si", body=b"{}").status == 405
    assert _logged(pool, lambda f: "log-test=4 " in f[3])[3].startswith("PUT ")
    # zbd reviewers log reads it in Chinese: who, when, which page.
    shown = _zbd("reviewers", "log", str(pool.state / "access.log"), "--reviewer", "li-si")
    assert shown.returncode == 0, shown.stderr
    rows = shown.stdout.splitlines()
    assert any(r.startswith(when[:10]) and "li-si" in r and "孳息分配" in r and "time=2025" in r for r in rows)
    assert any("PUT" in r and "log-test=4" in r and "写入请求，已拒绝" in r for r in rows)
    assert all("li-si" in r for r in rows) and not any("/static/" in r for r in rows)


def test_rotating_and_removing_a_reviewer_takes_effect_at_once_and_touches_no_ledger_file(pool: Pool) -> None:
    page = pool.page("Zbd6Compliance")
    assert pool.request("GET", page, "wang.wu").status == 200
    done = _zbd("reviewers", "passwd", str(pool.reviewers), "wang.wu", "--password-stdin", stdin="wang-wu-new-pass\n")
    assert done.returncode == 0, done.stderr
    assert pool.request("GET", page, "wang.wu").status == 401
    assert pool.request("GET", page, "wang.wu", "wang-wu-new-pass").status == 200
    done = _zbd("reviewers", "remove", str(pool.reviewers), "wang.wu")
    assert done.returncode == 0, done.stderr
    assert pool.request("GET", page, "wang.wu", "wang-wu-new-pass").status == 401
    assert pool.request("GET", page, "zhang.san").status == 200
    assert _digest(pool.ledger_dir) == pool.before


# --------------------------------------------------------------------------------------
# Rates, then stopping (last: they use up the rate budget and end the server).


def test_request_rates_are_bounded(pool: Pool) -> None:
    """200 requests pipelined on one connection arrive at once, however slow the client:
    beyond the burst (100) and the few the rate (20 a second) adds meanwhile, nginx
    answers 429, counting requests without a login too (password guessing)."""
    count = 200
    requests = b"".join(
        f"GET /?rate-test={i} HTTP/1.1\r\nHost: localhost\r\n{'Connection: close' if i == count - 1 else ''}\r\n\r\n".encode()
        for i in range(count)
    )
    received = bytearray()
    with socket.create_connection(("127.0.0.1", pool.port), timeout=30) as raw:
        with pool.context.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(requests)
            for _ in range(10_000):  # until nginx closes the connection after the last answer
                chunk = tls.recv(65536)
                if not chunk:
                    break
                received += chunk
    statuses = [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", bytes(received))]
    assert len(statuses) == count
    assert set(statuses) == {401, 429}
    assert 50 <= statuses.count(401) < count - 50
    assert "请求过于频繁".encode() in received


def test_interrupting_the_command_stops_nginx_and_fava(pool: Pool) -> None:
    children = _children(pool.process.pid)
    # nginx rewrites its command line: "nginx: master process /usr/sbin/nginx -c … -p …"
    commands = {pid: Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split() for pid in children}
    assert any(b"fava.cli" in c for c in commands.values())
    nginx = next(c for c in commands.values() if c[0] == b"nginx:")
    runtime = Path(nginx[nginx.index(b"-p") + 1].decode())
    assert (runtime / "nginx.conf").is_file() and not runtime.is_relative_to(ROOT)
    workers = {w for pid in children for w in _children(pid)}  # nginx's worker
    pool.process.send_signal(signal.SIGINT)  # Ctrl-C
    assert pool.process.wait(timeout=30) == 0
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in children | workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in children | workers)
    assert not runtime.exists()
    assert "已停止" in pool.output.read_text(encoding="utf-8")
    assert _digest(pool.ledger_dir) == pool.before


def test_a_real_certificate_is_used_when_given(tmp_path: Path) -> None:
    """--cert/--key: the server presents that certificate (no demo one is made) and sends HSTS."""
    from zhubaodai.tlscert import self_signed

    bureau = self_signed(tmp_path / "bureau", shutil.which("openssl") or "openssl", ("localhost",))
    pool = _start(tmp_path, "--cert", str(bureau.certificate), "--key", str(bureau.key), trusted=bureau.certificate)
    try:
        answer = pool.request("GET", pool.page("Zbd1Pool"), "li-si")
        assert answer.status == 200
        assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
        assert not (pool.state / "tls").exists()
    finally:
        pool.process.send_signal(signal.SIGINT)
        assert pool.process.wait(timeout=30) == 0


# --------------------------------------------------------------------------------------
# Without a running server.


def test_a_missing_nginx_is_a_chinese_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from zhubaodai import reviewers as module
    from zhubaodai.cli import main

    reviewers = tmp_path / "reviewers.htpasswd"
    reviewers.write_text("zhang.san:$2y$05$abcdefghijklmnopqrstuu5eSyLBdyPdT3TgtOzUe2K5tJ8gyfJ8S\n")
    real = shutil.which
    monkeypatch.setattr(module.shutil, "which", lambda name, *a, **k: None if name == "nginx" else real(name, *a, **k))
    result = CliRunner().invoke(main, ["serve", str(ROOT / "ledger" / "main.beancount"), "--reviewers", str(reviewers)])
    assert result.exit_code == 2
    assert "找不到 nginx" in result.output and "scripts/setup.sh --network" in result.output
    assert "Traceback" not in result.output


def test_the_access_list_is_kept_apart_from_the_ledger(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    shutil.copytree(ROOT / "ledger", ledger)
    inside = ledger / "reviewers.htpasswd"
    assert _zbd("reviewers", "add", str(inside), "zhang.san", "--password-stdin", stdin="zhang-san-pass-1\n").returncode == 0
    done = _zbd("serve", str(ledger / "main.beancount"), "--reviewers", str(inside), "--state-dir", str(tmp_path / "s"))
    assert done.returncode == 2
    assert "须与账本分开存放" in done.stderr and "Traceback" not in done.stderr


def test_a_busy_port_is_a_chinese_error(tmp_path: Path) -> None:
    reviewers = tmp_path / "reviewers.htpasswd"
    assert _zbd("reviewers", "add", str(reviewers), "zhang.san", "--password-stdin", stdin="zhang-san-pass-1\n").returncode == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        done = _zbd("serve", str(ROOT / "ledger" / "main.beancount"), "--reviewers", str(reviewers),
                    "--port", str(busy.getsockname()[1]), "--state-dir", str(tmp_path / "s"))
    assert done.returncode == 2
    assert "无法在 127.0.0.1:" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("options, message", [
    (["--cert", "{tmp}/nope.pem", "--key", "{tmp}/nope.key"], "找不到 TLS 证书文件"),
    (["--cert", "{tmp}/reviewers.htpasswd"], "--cert 与 --key 须同时给出"),
])
def test_bad_certificate_options_are_chinese_errors(tmp_path: Path, options: list[str], message: str) -> None:
    reviewers = tmp_path / "reviewers.htpasswd"
    assert _zbd("reviewers", "add", str(reviewers), "zhang.san", "--password-stdin", stdin="zhang-san-pass-1\n").returncode == 0
    done = _zbd("serve", str(ROOT / "ledger" / "main.beancount"), "--reviewers", str(reviewers),
                "--state-dir", str(tmp_path / "s"), *[o.format(tmp=tmp_path) for o in options])
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "s" / "tls").exists()


def test_options_only_for_reviewers_are_refused_without_it() -> None:
    done = _zbd("serve", str(ROOT / "ledger" / "main.beancount"), "--host", "0.0.0.0")
    assert done.returncode == 2
    assert "只能与 --reviewers 一起使用" in done.stderr


def test_blocked_list_covers_fava_writers_importer_and_editor() -> None:
    """Every JSON API endpoint of the installed Fava that writes, imports or shows source is blocked."""
    import fava.json_api as api

    from zhubaodai.proxyconf import BLOCKED_API

    endpoints: dict[str, set[str]] = {}

    for name in dir(api):  # api_endpoint: the function's name is method_endpoint
        method, _, endpoint = name.partition("_")
        if method in ("get", "put", "delete") and endpoint and callable(getattr(api, name)):
            endpoints.setdefault(endpoint, set()).add(method)
    must = {e for e, methods in endpoints.items() if methods & {"put", "delete"}}
    must |= {e for e in endpoints if "source" in e or "import" in e or e == "extract"}
    assert {"source", "source_slice", "format_source", "extract", "upload_import_file", "add_entries"} <= must
    assert must - set(BLOCKED_API) == set()
