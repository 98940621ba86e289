"""``zbd dossier``: one compensated loan's file for a reviewer, verifiable offline.

    zbd dossier LEDGER --loan CQ-2024-006 -o CQ-2024-006.zip [--force]
    zbd dossier verify CQ-2024-006.zip

The ZIP holds, for one loan with a compensation:

* ``登记簿.beancount`` — the loan's register events and its enterprise's, as written;
* ``资金分录.beancount`` — the pool's cash entries linked to the loan (``^ID``);
* ``代偿与追偿计算.txt`` — each claim's waterfall and each recovery's distribution as the
  rule engine computed them, with the articles of rules.yaml applied; for a program whose
  comp.shares splits the loss left after recovery (金东), each recorded loss event with every
  party's part due, recorded and the difference (records.losses);
* ``检查结果.txt`` — the engine's findings on the loan;
* ``授权文件/`` — the scanned letters its events declare (``evidence``), as they are;
* ``manifest.json`` and ``SHA256SUMS`` — every file's SHA-256 (``sha256sum -c SHA256SUMS``
  checks them without this program); ``说明.txt`` says how to verify.

``verify`` recomputes every hash: a file changed, missing or added is reported and the
dossier refused (exit status 1). Nothing here reads a file the ledger does not name.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import click
from beancount.core.data import Directive
from beancount.core.data import Transaction
from beancount.parser import printer

from zhubaodai.checks.evidence import MISSING
from zhubaodai.checks.evidence import NO_HASH
from zhubaodai.checks.evidence import UNREADABLE
from zhubaodai.cli import EXIT_FAILED
from zhubaodai.cli import UserError
from zhubaodai.cli import _rules_option
from zhubaodai.cli import load_ledger
from zhubaodai.cli import say
from zhubaodai.checks.waterfall import PARTY_LABELS
from zhubaodai.checks.waterfall import claim_parts
from zhubaodai.checks.waterfall import program_parties
from zhubaodai.core.engine import FUND_LABELS
from zhubaodai.core.engine import Analysis
from zhubaodai.core.rules import Program
from zhubaodai.core.money import ZERO
from zhubaodai.core.money import percent
from zhubaodai.core.money import yuan

FORMAT = "zbd-dossier-1"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
#: Files of the dossier that the manifest does not list (it cannot list itself).
UNLISTED = (MANIFEST, SUMS)


@dataclass(frozen=True)
class Problem:
    """One reason a dossier is refused."""

    name: str
    message: str


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _print(entries: Sequence[Directive]) -> str:
    out = io.StringIO()
    for entry in entries:
        meta = entry.meta or {}
        out.write(f"; {os.path.basename(str(meta.get('filename', '')))}:{meta.get('lineno', '')}\n")
        out.write(printer.format_entry(entry))
        out.write("\n")
    return out.getvalue()


def _cite(analysis: Analysis, program: str, rule: str, on: datetime.date) -> str:
    """The rule as a finding about an event on ``on`` cites it (:meth:`Program.cite_rule`:
    the version in force that day, and 【假设】 where it rests on an assumption)."""
    prog = analysis.rulebook.programs[program]
    found = prog.rules.get(rule)
    return prog.cite_rule(found, on) if found is not None else "（本项目未配置此规则）"


def _recovery_basis(analysis: Analysis, code: str, on: datetime.date) -> str:
    """A recovery's rule: recovery.order, or for a table of parties comp.shares (as the engine)."""
    program = analysis.rulebook.programs[code]
    if "recovery.order" not in program.rules and "comp.shares" in program.rules:
        return f"追偿款按分担表退回 {_cite(analysis, code, 'comp.shares', on)}"
    return f"追偿款分配顺序 {_cite(analysis, code, 'recovery.order', on)}"


def _calculation(analysis: Analysis, loan_id: str) -> str:
    loan = analysis.register.loans[loan_id]
    code = loan.program
    lines = [f"贷款 {loan_id}（项目 {code}，企业 {loan.enterprise}）代偿与追偿计算（规则引擎的结果）", ""]
    program = analysis.rulebook.programs[code]
    shared = "comp.shares" in program.rules
    # The project's own words in the program's fund names (Rulebook.names); the ledger's
    # texts (letters, approvals, narrations) are quoted as they are.
    say = analysis.rulebook.names(code).say
    for n, claim in enumerate(analysis.records.claims_by_loan.get(loan_id, []), 1):
        ev = claim.event
        # The split is cited as of the compensation (the first entry paying the claim), as its findings are.
        paid_on = claim.entries[0].date if claim.entries else ev.date
        if shared:
            # A table of parties: each party's part, as the engine split it.
            parts = claim_parts(analysis.records, claim)
            borne = say("；".join(
                f"{PARTY_LABELS[p]}{'支付' if p in ('guarantee', 'risk') else '承担'} {yuan(parts.get(p, ZERO))} 元"
                for p in program_parties(program)
            ))
            basis = f"各方按比例分担 {_cite(analysis, code, 'comp.shares', paid_on)}"
        else:
            borne = say(
                f"{FUND_LABELS['guarantee']}支付 {yuan(claim.guarantee_paid)} 元；{FUND_LABELS['risk']}支付 {yuan(claim.risk_paid)} 元；"
                f"合作银行承担 {yuan(claim.bank_share)} 元；风险补偿金未能分担 {yuan(claim.uncovered)} 元"
            )
            basis = f"代偿顺序与分担 {_cite(analysis, code, 'comp.waterfall', paid_on)}"
        residual = next(
            (c.residual for c in analysis.records.shares.get(loan_id, ()) if c.claim is claim and c.residual), None
        )
        if residual:
            borne += say("\n  追偿后仍未弥补的损失由各方分担：" + "；".join(
                f"{PARTY_LABELS[p]} {yuan(v)} 元" for p, v in residual.items()
            ))
        lines += [
            f"代偿申请 {n}：{ev.date}，函件 {ev.data.get('letter', '')}，审核意见 {ev.data.get('approval', '')}",
            f"  依据：代偿范围 {_cite(analysis, code, 'comp.scope', ev.date)}；{basis}",
            f"  应代偿额 {yuan(claim.due)} 元",
            f"  {borne}",
            "  代偿分录：" + ("、".join(f"{e.date} {e.narration}" for e in claim.entries) or "（尚无）"),
            "",
        ]
    recoveries = [r for r in analysis.records.recoveries if r.loan.id == loan_id]
    for n, r in enumerate(recoveries, 1):
        parts = say("；".join(f"{_PART.get(k, k)} {yuan(v)} 元" for k, v in r.parts.items()))
        lines += [
            f"追偿 {n}：{r.event.date}，追回 {yuan(r.gross)} 元，扣除 {yuan(r.deductions)} 元，净额 {yuan(r.net)} 元",
            f"  依据：{_recovery_basis(analysis, code, r.event.date)}",
            f"  分配：{parts}；超出部分 {yuan(r.excess)} 元",
            "",
        ]
    account = analysis.records.loan_recoveries.get(loan_id)
    if account is not None:
        for fund in ("risk", "guarantee"):
            if f"{fund}_fund" not in program.accounts:  # 金东 and 坪山 have no guarantee fund
                continue
            lines.append(
                f"{say(FUND_LABELS[fund])}：应补回 {yuan(account.expected[fund])} 元，已到账 {yuan(account.received[fund])} 元"
            )
    if _has_residual(program):
        lines += ["", *_losses(analysis, loan_id)]
    return "\n".join(lines).rstrip() + "\n"


def _has_residual(program: Program) -> bool:
    """Whether the program's comp.shares splits the loss left after recovery (金东)."""
    rule = program.rules.get("comp.shares")
    return rule is not None and "residual" in rule.params


def _losses(analysis: Analysis, loan_id: str) -> list[str]:
    """The loan's ``custom "loan" "loss"`` events as the engine checked them
    (records.losses): the loss left after recovery and each party's part, due, recorded
    and the difference; or that none is recorded yet."""
    shares = [share for share in analysis.records.losses if share.loan.id == loan_id]
    if not shares:
        return ['损失分担：尚未登记（追偿终结后以 custom "loan" "loss" 登记各方承担的部分）']
    code = shares[0].loan.program
    lines = []
    for n, share in enumerate(shares, 1):
        event = share.event
        lines += [
            f"损失分担 {n}：{event.date}，函件 {event.data.get('letter', '')}",
            f"  依据：追偿后损失分担 {_cite(analysis, code, 'comp.shares', event.date)}",
            f"  追偿后仍未弥补的损失 {yuan(share.loss)} 元（各方按比例以最大余数法分到分）",
        ]
        for part in share.parts:
            recorded = f"{yuan(part.recorded)} 元" if part.recorded is not None else "未记录"
            lines.append(
                f"  {part.label} {percent(part.share)}：应承担 {yuan(part.due)} 元，登记 {recorded}，"
                f"差额 {yuan(part.difference)} 元"
            )
        lines += [f"  核对：{'相符' if share.ok else '不符（见检查结果.txt）'}", ""]
    return lines


_PART = {"bank": "偿还合作银行", "risk": "补回风险补偿金", "guarantee": "补回助保金"}


def build(analysis: Analysis, entries: Sequence[Directive], loan_id: str, ledger: str) -> dict[str, bytes]:
    """The dossier's files (name -> content), manifest and sums included."""
    loan = analysis.register.loans.get(loan_id)
    if loan is None:
        raise UserError(f"账本中没有贷款 {loan_id}")
    claims = analysis.records.claims_by_loan.get(loan_id, [])
    if not any(c.entries for c in claims):
        raise UserError(f"贷款 {loan_id} 没有代偿分录：代偿档案只为已代偿的贷款编制")
    register = [e.entry for e in loan.events]
    register = [e.entry for e in analysis.register.enterprise_history.get(loan.enterprise, [])] + register
    cash = [e for e in entries if type(e) is Transaction and loan_id in (e.links or ())]
    own = {id(e) for e in register + cash}
    findings = [f for f in analysis.findings if f.loan == loan_id or id(f.entry) in own]
    files: dict[str, bytes] = {
        "登记簿.beancount": _print(register).encode("utf-8"),
        "资金分录.beancount": _print(cash).encode("utf-8"),
        "代偿与追偿计算.txt": _calculation(analysis, loan_id).encode("utf-8"),
        "检查结果.txt": (
            "\n".join(f"[{f.rule}] {f.citation}：{f.message}（{f.location}）" for f in findings) or "没有检查结果。"
        ).encode("utf-8") + b"\n",
    }
    documents = []
    for record in analysis.records.evidence:
        if record.loan != loan_id or record.path is None or record.status in (MISSING, UNREADABLE, NO_HASH):
            continue
        try:
            with open(record.path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise UserError(f"无法读取授权文件 {record.written}：{exc.strerror or exc}") from None
        name = f"授权文件/{len(documents) + 1:02d}-{os.path.basename(record.path)}"
        files[name] = data
        documents.append({"file": name, "for": record.what, "declared_sha256": record.sha256, "status": record.status})
    files["说明.txt"] = (
        f"贷款 {loan_id} 代偿档案（zbd dossier 编制，账本 {ledger}）\n\n"
        "manifest.json 与 SHA256SUMS 列出每个文件的 SHA-256。核对：\n"
        f"  zbd dossier verify {loan_id}.zip\n"
        "或解压后：sha256sum -c SHA256SUMS\n"
        "授权文件登记的哈希（declared_sha256）与文件本身的哈希不同时，说明扫描件在登记后被改动过（manifest.json 的 status 为“哈希不符”）。\n"
    ).encode("utf-8")
    manifest = {
        "format": FORMAT,
        "loan": loan_id,
        "program": loan.program,
        "ledger": ledger,
        "created": datetime.date.today().isoformat(),
        "documents": documents,
        "files": {name: _sha(data) for name, data in sorted(files.items())},
    }
    files[MANIFEST] = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8") + b"\n"
    files[SUMS] = "".join(f"{digest}  {name}\n" for name, digest in manifest["files"].items()).encode("utf-8")
    return files


def verify(path: str) -> tuple[dict[str, Any], list[Problem]]:
    """The dossier's manifest and whatever is wrong with it (nothing: it verifies)."""
    try:
        with zipfile.ZipFile(path) as archive:
            contents = {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, ValueError) as exc:
        raise UserError(f"无法读取档案 {path}：{exc}") from None
    try:
        manifest = json.loads(contents[MANIFEST].decode("utf-8"))
        listed = manifest["files"]
        if manifest.get("format") != FORMAT or not isinstance(listed, dict):
            raise ValueError
    except (KeyError, ValueError, UnicodeDecodeError, TypeError, AttributeError):
        raise UserError(f"{path} 不是 zbd 代偿档案：缺少或无法读取 {MANIFEST}") from None
    problems: list[Problem] = []
    for name, digest in sorted(listed.items()):
        data = contents.get(name)
        if data is None:
            problems.append(Problem(name, "档案中缺少此文件"))
        elif _sha(data) != digest:
            problems.append(Problem(name, f"内容与清单不符：清单 {str(digest)[:16]}…，实际 {_sha(data)[:16]}…"))
    for name in sorted(set(contents) - set(listed) - set(UNLISTED)):
        problems.append(Problem(name, "清单中没有此文件（事后加入）"))
    sums = contents.get(SUMS, b"").decode("utf-8", "replace")
    expected = "".join(f"{digest}  {name}\n" for name, digest in sorted(listed.items()))
    if sums != expected:
        problems.append(Problem(SUMS, "与 manifest.json 不一致"))
    return manifest, problems


def json_bytes(path: str) -> bytes:
    """The dossier's manifest as stored (its hash can be compared with one noted elsewhere)."""
    with zipfile.ZipFile(path) as archive:
        return archive.read(MANIFEST)


class DossierGroup(click.Group):
    """``zbd dossier LEDGER ...`` builds; ``zbd dossier verify FILE`` checks."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "build", self.commands["build"], args
        return super().resolve_command(ctx, args)


@click.group("dossier", cls=DossierGroup)
def dossier_command() -> None:
    """代偿档案：zbd dossier 账本 --loan 编号 -o 档案.zip 编制；zbd dossier verify 档案.zip 核对。"""


@dossier_command.command("build")
@click.argument("ledger", type=click.Path(dir_okay=True))
@click.option("--loan", required=True, help="已代偿的贷款编号。")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False), help="输出的 ZIP 文件。")
@click.option("--force", is_flag=True, help="输出文件已存在时覆盖它。")
@_rules_option
def build_command(ledger: str, loan: str, output: str, force: bool, rules: str | None) -> None:
    """编制一笔已代偿贷款的档案（登记簿、资金分录、代偿与追偿计算、检查结果、授权文件、哈希清单）。"""
    if os.path.exists(output) and not force:
        raise UserError(f"输出文件 {output} 已存在；如要覆盖请加 --force")
    directory = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(directory):
        raise UserError(f"输出目录不存在：{directory}")
    say(f"读取并检查账本 {ledger} …")
    loaded = load_ledger(ledger, rules)
    files = build(loaded.analysis, loaded.entries, loan.strip(), os.path.basename(ledger))
    temporary = output + ".tmp"
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
        os.replace(temporary, output)
    except OSError as exc:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise UserError(f"无法写入 {output}：{exc}") from None
    count = sum(1 for name in files if name.startswith("授权文件/"))
    say(f"已写入 {output}：贷款 {loan} 的代偿档案，{len(files)} 个文件（授权文件 {count} 个）")
    say(f"清单 manifest.json 的 SHA-256：{_sha(files[MANIFEST])}（可另行记下，核对时比对）")


@dossier_command.command("verify")
@click.argument("archive", type=click.Path(dir_okay=False))
def verify_command(archive: str) -> None:
    """核对代偿档案：每个文件的 SHA-256 与清单一致，没有缺少或多出的文件。"""
    if not os.path.exists(archive):
        raise UserError(f"找不到档案文件：{archive}")
    manifest, problems = verify(archive)
    if problems:
        for p in problems:
            click.echo(f"  ✗ {p.name}：{p.message}")
        click.echo(f"档案 {archive}（贷款 {manifest.get('loan')}）核对未通过：{len(problems)} 处问题，不应采信")
        raise SystemExit(EXIT_FAILED)
    listed = manifest["files"]
    click.echo(f"清单 manifest.json 的 SHA-256：{_sha(json_bytes(archive))}")
    click.echo(f"档案 {archive}（贷款 {manifest.get('loan')}，项目 {manifest.get('program')}）核对通过：{len(listed)} 个文件的 SHA-256 均与清单一致")
