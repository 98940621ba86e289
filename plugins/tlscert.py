"""A self-signed TLS certificate for the reviewers' demo, made with Debian's openssl.

``zbd serve --reviewers`` uses the certificate and key given with ``--cert``/``--key``
(a real one, for a bureau: docs/reviewing.md); without them it makes, once, a self-signed
certificate in its state directory and reuses it afterwards, so that a reviewer who has
trusted it once is not asked again.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: Names the demo certificate is valid for, besides the listening address.
DEFAULT_NAMES: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
#: How long the demo certificate is valid (days).
DAYS = 825


class CertificateError(Exception):
    """The certificate cannot be made or used (the message is Chinese)."""


@dataclass(frozen=True)
class Certificate:
    certificate: Path
    key: Path
    #: Made just now (False: found from an earlier run, or given by the user).
    created: bool


def subject_alt_names(names: tuple[str, ...]) -> str:
    """The ``subjectAltName`` value for ``names``: IP entries for addresses, DNS for the rest."""
    parts: list[str] = []
    for name in dict.fromkeys(names):
        try:
            parts.append(f"IP:{ipaddress.ip_address(name)}")
        except ValueError:
            parts.append(f"DNS:{name}")
    return ",".join(parts)


def given(certificate: str, key: str) -> Certificate:
    """The user's own certificate and key, checked to exist."""
    for path, what in ((certificate, "证书"), (key, "私钥")):
        if not os.path.isfile(path):
            raise CertificateError(f"找不到 TLS {what}文件：{path}")
    return Certificate(Path(certificate).resolve(), Path(key).resolve(), created=False)


def self_signed(directory: Path, openssl: str, names: tuple[str, ...]) -> Certificate:
    """The demo's self-signed certificate in ``directory`` (made when it is not there)."""
    certificate = directory / "cert.pem"
    key = directory / "key.pem"
    if certificate.is_file() and key.is_file():
        return Certificate(certificate, key, created=False)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    names = tuple(n for n in names if n not in ("0.0.0.0", "::")) + DEFAULT_NAMES
    command = [
        openssl, "req", "-x509", "-newkey", "rsa:2048", "-sha256", "-nodes",
        "-days", str(DAYS), "-subj", "/O=zhubaodai demo/CN=localhost",
        "-addext", f"subjectAltName={subject_alt_names(names)}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-keyout", str(key), "-out", str(certificate),
    ]
    old_umask = os.umask(0o077)
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    finally:
        os.umask(old_umask)
    if result.returncode != 0:
        for path in (certificate, key):
            path.unlink(missing_ok=True)
        detail = (result.stderr or "").strip().splitlines()[-1:] or [""]
        raise CertificateError(f"openssl 无法生成自签名证书：{detail[0]}")
    certificate.chmod(0o644)
    return Certificate(certificate, key, created=True)
