"""``zbd serve LEDGER --reviewers FILE``: the pool's Fava for named reviewers over the network.

Two processes, started and stopped together:

- ``fava --read-only`` on a free loopback port (never reachable from outside);
- Debian's nginx in front of it (configuration: :mod:`zhubaodai.proxyconf`): HTTPS on
  ``--host``/``--port``, a login per reviewer from the htpasswd file (:mod:`zhubaodai.reviewers`),
  only GET and HEAD, no import API and no source editor, bounded request sizes and rates,
  and an access log naming who viewed which page when.

The state directory (``--state-dir``, default ``$XDG_STATE_HOME/zhubaodai`` or
``~/.local/state/zhubaodai``) keeps what outlives a run: the access log, nginx's error log,
Fava's output and the demo's self-signed certificate (``tls/``). The nginx configuration,
pid file and temp paths live in a temporary directory that is removed when the command
stops; nothing is written into the repository or next to the ledger. Ctrl-C (SIGINT) or
SIGTERM stops nginx and Fava and waits for them; should this process die outright, both
children get SIGTERM from the kernel (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from zhubaodai import proxyconf
from zhubaodai import tlscert
from zhubaodai.reviewers import ReviewersError
from zhubaodai.reviewers import find_tool
from zhubaodai.reviewers import read as read_reviewers

#: Seconds Fava may take to answer for the first time (it loads the ledger first).
FAVA_START_SECONDS = 120.0
#: Seconds nginx may take to listen.
NGINX_START_SECONDS = 15.0
#: Seconds a child gets to stop after SIGTERM before it is killed.
STOP_SECONDS = 10.0
#: The default HTTPS port for reviewers.
DEFAULT_PORT = 8443


class ServeError(ReviewersError):
    """The reviewers' server cannot start (one Chinese line, exit status 2)."""


@dataclass(frozen=True)
class ServeOptions:
    ledger: Path
    reviewers: Path
    host: str
    port: int
    state_dir: Path
    certificate: str | None = None
    key: str | None = None


@dataclass(frozen=True)
class Running:
    """What a started server looks like from outside (printed for the administrator)."""

    url: str
    access_log: Path
    certificate: Path
    self_signed: bool
    runtime: Path


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "zhubaodai"


def _inside(path: Path, directory: Path) -> bool:
    try:
        path.relative_to(directory)
    except ValueError:
        return False
    return True


def check_inputs(options: ServeOptions) -> list[str]:
    """The reviewers' names, after checking the ledger and the access list can be used."""
    if not options.ledger.is_file():
        raise ServeError(f"找不到账本文件：{options.ledger}")
    ledger_dir = options.ledger.resolve().parent
    reviewers = options.reviewers.resolve()
    if _inside(reviewers, ledger_dir):
        raise ServeError(
            f"审阅人名单 {options.reviewers} 在账本目录 {ledger_dir} 中：名单须与账本分开存放"
            "（增删审阅人不应改动账本目录，Fava 也可能把该目录中的文件作为附件提供下载）"
        )
    names = [r.name for r in read_reviewers(reviewers)]
    if not names:
        raise ServeError(f"审阅人名单 {options.reviewers} 中没有审阅人：先用 zbd reviewers add 添加")
    return names


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ServeError(f"无法在 {host}:{port} 上监听（{exc.strerror or exc}）：端口已被占用或地址不属于本机，请换一个 --port") from None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """In the child: SIGTERM when zbd itself dies, so that no orphan is left (Linux)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _start(command: list[str], output: IO[bytes], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
        cwd=cwd, preexec_fn=_die_with_parent, start_new_session=True,
    )


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_SECONDS)


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def _wait_until(ready: Callable[[], bool], process: subprocess.Popen[bytes], seconds: float,
                what: str, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if process.poll() is not None:
            raise ServeError(f"{what}启动失败（退出状态 {process.returncode}）：\n{_tail(log)}")
        if time.monotonic() > deadline:
            raise ServeError(f"{what}在 {seconds:.0f} 秒内没有响应（日志：{log}）：\n{_tail(log)}")
        time.sleep(0.2)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _tls_answers(host: str, port: int) -> bool:
    target = "127.0.0.1" if host in ("0.0.0.0", "127.0.0.1") else ("::1" if host == "::" else host)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((target, port), timeout=1) as raw:
            with context.wrap_socket(raw):
                return True
    except OSError:
        return False


def _fava_command(options: ServeOptions, port: int) -> list[str]:
    return [sys.executable, "-m", "fava.cli", "--read-only", "--host", "127.0.0.1",
            "--port", str(port), str(options.ledger.resolve())]


def _url(host: str, port: int) -> str:
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    if shown in ("0.0.0.0", "::"):
        shown = socket.gethostname()
    if ":" in shown:
        shown = f"[{shown}]"
    return f"https://{shown}:{port}/"


@contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """SIGTERM ends the command like Ctrl-C does (so the children are stopped too)."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def serve(options: ServeOptions, say: Callable[[str], None]) -> None:
    """Start Fava and nginx, report where, and run until interrupted; then stop both."""
    names = check_inputs(options)
    nginx = find_tool("nginx", "nginx")
    state = options.state_dir.expanduser().resolve()
    try:
        state.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ServeError(f"无法创建状态目录 {state}：{exc.strerror or exc}") from None
    try:
        if options.certificate or options.key:
            if not (options.certificate and options.key):
                raise ServeError("--cert 与 --key 须同时给出")
            cert = tlscert.given(options.certificate, options.key)
        else:
            openssl = find_tool("openssl", "openssl")
            cert = tlscert.self_signed(state / "tls", openssl, (options.host,))
    except tlscert.CertificateError as exc:
        raise ServeError(str(exc)) from None
    check_port_free(options.host, options.port)

    runtime = Path(tempfile.mkdtemp(prefix="zbd-serve-"))
    fava: subprocess.Popen[bytes] | None = None
    proxy: subprocess.Popen[bytes] | None = None
    try:
        with _stop_on_sigterm():
            config = proxyconf.ProxyConfig(
                host=options.host, port=options.port, fava_port=free_loopback_port(),
                reviewers=options.reviewers.resolve(), certificate=cert.certificate, key=cert.key,
                access_log=state / "access.log", error_log=state / "nginx-error.log",
                runtime=runtime, workers_as_root=os.geteuid() == 0, hsts=bool(options.certificate),
            )
            conf = _write_runtime(config)
            _test_config(nginx, conf, config)
            fava_log = state / "fava.log"
            with fava_log.open("ab") as out:
                fava = _start(_fava_command(options, config.fava_port), out, state)
            say(f"正在以只读方式启动 Fava（{options.ledger}）……")
            _wait_until(lambda: _answers(config.fava_port), fava, FAVA_START_SECONDS, "Fava ", fava_log)
            with (state / "nginx.out").open("ab") as out:
                proxy = _start([nginx, "-c", str(conf), "-p", str(runtime), "-e", str(config.error_log)],
                               out, runtime)
            _wait_until(lambda: _tls_answers(options.host, options.port), proxy, NGINX_START_SECONDS,
                        "nginx ", config.error_log)
            running = Running(_url(options.host, options.port), config.access_log, cert.certificate,
                              not options.certificate, runtime)
            _announce(running, names, options, say)
            while True:
                for process, what, log in ((fava, "Fava", fava_log), (proxy, "nginx", config.error_log)):
                    if process.poll() is not None:
                        raise ServeError(f"{what} 意外退出（退出状态 {process.returncode}）：\n{_tail(log)}")
                time.sleep(0.5)
    except KeyboardInterrupt:
        say("正在停止 nginx 与 Fava ……")
    finally:
        # SIGTERM again while stopping must not leave the children behind.
        previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            _stop(proxy)
            _stop(fava)
        finally:
            signal.signal(signal.SIGTERM, previous)
            shutil.rmtree(runtime, ignore_errors=True)
    say("已停止。")


def _write_runtime(config: proxyconf.ProxyConfig) -> Path:
    pages = config.runtime / "zbd-error"
    pages.mkdir()
    for status in proxyconf.ERROR_PAGES:
        (pages / f"{status}.html").write_text(proxyconf.error_page_html(status), encoding="utf-8")
    config.runtime.chmod(0o700)
    conf = config.runtime / "nginx.conf"
    try:
        conf.write_text(proxyconf.render(config), encoding="utf-8")
    except ValueError as exc:
        raise ServeError(str(exc)) from None
    return conf


def _test_config(nginx: str, conf: Path, config: proxyconf.ProxyConfig) -> None:
    result = subprocess.run([nginx, "-t", "-q", "-c", str(conf), "-p", str(config.runtime),
                             "-e", str(config.error_log)],
                            capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise ServeError(f"nginx 不接受生成的配置：\n{detail}")


def _announce(running: Running, names: list[str], options: ServeOptions, say: Callable[[str], None]) -> None:
    say(f"审阅人访问地址：{running.url}（HTTPS，需登录；只读，只允许 GET）")
    say(f"审阅人名单：{options.reviewers}（{len(names)} 人：{'、'.join(names)}；改动立即生效）")
    say(f"访问日志：{running.access_log}（谁在什么时间看了哪个页面：zbd reviewers log {running.access_log}）")
    if running.self_signed:
        say(f"TLS 证书：{running.certificate}（自签名，仅供演示；浏览器会提示不受信任，"
            "正式使用请以 --cert/--key 指定正式证书，见 docs/reviewing.md）")
    else:
        say(f"TLS 证书：{running.certificate}")
    say("按 Ctrl-C 停止（同时停止 nginx 与 Fava）。")
