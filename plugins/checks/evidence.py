"""Evidence: the scanned letter behind every approval, claim, decision and payment.

Rule: ``evidence.missing``. An event or a pool transaction names its authorising document
with two metadata keys::

    2024-03-01 custom "loan" "approval" "CQ-2024-001"
      ...
      letter: "高新创服函〔2024〕12号"
      evidence: "evidence/高新创服函2024-12.pdf"
      evidence_sha256: "5f2b…（64 位十六进制）"

``evidence`` is a path relative to the file the directive is written in. Wherever it is
declared, the file must exist, be readable and hash to ``evidence_sha256``. Whether the
evidence is *required* on the kinds that authorise public money (:data:`EVENT_KINDS`,
:data:`PAYMENT_KINDS`) is the rule's dated ``required`` parameter in rules.yaml: an event
dated on a day it is ``true`` must declare it.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from typing import Any

from beancount.core.data import Directive

from zhubaodai.core.engine import KIND_LABELS
from zhubaodai.core.engine import Context
from zhubaodai.core.engine import Movement
from zhubaodai.core.register import PROGRAM_EVENTS
from zhubaodai.core.register import Event

RULE = "evidence.missing"
#: Register events that authorise a loan or a payment.
EVENT_KINDS = ("approval", "claim", "committee")
#: Pool transactions that pay out public money.
PAYMENT_KINDS = ("compensation", "disposal")
#: The engine hands this module every pool transaction (a declared scan is checked on any).
MOVEMENT_KINDS: frozenset[str] | None = None
PATH_KEY = "evidence"
HASH_KEY = "evidence_sha256"
_HEX = re.compile(r"[0-9a-f]{64}\Z")

OK = "一致"
ABSENT = "未附"
MISSING = "文件不存在"
UNREADABLE = "无法读取"
MISMATCH = "哈希不符"
NO_HASH = "未记录哈希"


@dataclass(frozen=True)
class EvidenceRecord:
    """One declared (or required and absent) document, for the pages and the dossier."""

    program: str
    what: str
    entry: Directive
    loan: str | None
    #: The path as written (None where none is declared).
    written: str | None
    sha256: str | None
    status: str

    @property
    def path(self) -> str | None:
        """The file, resolved against the directive's own file."""
        return resolve(self.entry, self.written) if self.written else None


def file_sha256(path: str) -> str:
    """The SHA-256 of a file (read in blocks); raises OSError."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve(entry: Directive, written: str) -> str:
    """The evidence path of ``entry``: relative to the directive's own file."""
    if os.path.isabs(written):
        return os.path.normpath(written)
    filename = entry.meta.get("filename") or ""
    base = os.path.dirname(os.path.abspath(filename)) if filename and not filename.startswith("<") else os.getcwd()
    return os.path.normpath(os.path.join(base, written))


def on_movement(ctx: Context, m: Movement) -> None:
    meta = m.entry.meta
    if PATH_KEY in meta or HASH_KEY in meta or m.kind in PAYMENT_KINDS:
        loans = ",".join(m.loans)
        what = f"{KIND_LABELS[m.kind]}分录（{m.date}{'，贷款 ' + loans if loans else ''}）"
        _check(ctx, m.state.program.code, m.entry, what, m.loans[0] if m.loans else None, m.kind in PAYMENT_KINDS)


#: The register events this module is handed as they are filed: those that authorise
#: (:data:`EVENT_KINDS`), every program event (for the programs' order), and any event
#: that declares a document (:data:`REGISTER_META`).
REGISTER_KINDS: frozenset[tuple[str, str]] | None = frozenset(
    [("loan", kind) for kind in EVENT_KINDS] + [("program", kind) for kind in PROGRAM_EVENTS]
)
REGISTER_META = (PATH_KEY, HASH_KEY)


class EvidenceWatch:
    """The register events that declare or need a document, as filed."""

    __slots__ = ("loan_events", "program_events")

    def __init__(self) -> None:
        #: The loans' events, in filing order (by date).
        self.loan_events: list[Event] = []
        #: program -> its events that declare a document; programs in the order of their first event.
        self.program_events: dict[str, list[Event]] = {}


def on_register(ctx: Context, event: Event) -> None:
    watch = ctx.evidence
    if watch is None:
        watch = ctx.evidence = EvidenceWatch()
    type_ = event.entry.type
    if type_ == "loan":
        watch.loan_events.append(event)
    elif type_ == "program":
        found = watch.program_events.setdefault(event.subject, [])
        meta = event.entry.meta
        if PATH_KEY in meta or HASH_KEY in meta:
            found.append(event)


def finish(ctx: Context) -> None:
    watch = ctx.evidence
    if watch is None:
        return
    # Loan by loan in the register's order, each loan's events in their order: a loan's
    # events were filed in its own order, which the (stable) sort keeps.
    loans = ctx.register.loans
    for event in sorted(watch.loan_events, key=lambda event: loans[event.subject].seq):
        what = f"贷款 {event.subject} 的{event.label}（{event.date}）"
        _check(ctx, loans[event.subject].program, event.entry, what, event.subject, event.kind in EVENT_KINDS)
    for code, events in watch.program_events.items():
        for event in events:
            _check(ctx, code, event.entry, f"项目 {code} 的{event.label}（{event.date}）", None, False)


def _check(ctx: Context, code: str, entry: Directive, what: str, loan: str | None, authorises: bool) -> None:
    meta = entry.meta
    active = ctx.active(code, RULE)
    written = meta.get(PATH_KEY)
    declared = meta.get(HASH_KEY)
    if written is None:
        if not authorises or not active:
            return
        required = ctx.param(code, RULE, "required", entry.date, entry)
        if not required:
            return
        ctx.records.evidence.append(EvidenceRecord(code, what, entry, loan, None, None, ABSENT))
        ctx.report(RULE, code, entry, f"{what}未附授权文件：应以元数据 {PATH_KEY} 写明扫描件路径、{HASH_KEY} 写明其 SHA-256", loan=loan)
        return
    if not isinstance(written, str) or not written.strip():
        ctx.report(RULE, code, entry, f"{what}的 {PATH_KEY} 应为扫描件的文件路径（加英文双引号）", loan=loan)
        return
    path = resolve(entry, written.strip())
    sha = declared.strip().lower() if isinstance(declared, str) else None
    status, detail = _status(path, sha)
    ctx.records.evidence.append(EvidenceRecord(code, what, entry, loan, written, sha, status))
    if status != OK and active:
        ctx.report(RULE, code, entry, f"{what}的授权文件「{written}」{detail}", loan=loan)


def _status(path: str, sha: str | None) -> tuple[str, str]:
    if sha is None or _HEX.match(sha) is None:
        return NO_HASH, f"：未记录其 SHA-256（元数据 {HASH_KEY} 应为 64 位十六进制数字）"
    if not os.path.exists(path):
        return MISSING, "不存在"
    try:
        actual = file_sha256(path)
    except OSError as exc:
        return UNREADABLE, f"无法读取（{exc.strerror or exc}）"
    if actual != sha:
        return MISMATCH, f"已被改动或替换：登记的 SHA-256 为 {sha[:16]}…，文件现为 {actual[:16]}…"
    return OK, ""


def as_dict(record: EvidenceRecord) -> dict[str, Any]:
    return {"program": record.program, "what": record.what, "path": record.written, "sha256": record.sha256, "status": record.status}
