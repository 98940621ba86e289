"""The compensation dossier (issue 13): built from a ledger, verified, altered and refused.

The demo's compensated loan CQ-2024-006 gets a scanned claim letter (evidence) in a copy
of the demo; ``zbd dossier`` packs it with the loan's register, cash entries, waterfall and
findings; ``zbd dossier verify`` accepts the archive as built and refuses it once a file is
changed, removed or added.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT
from zhubaodai.cli import main

LOAN = "CQ-2024-006"
SCAN = b"%PDF-1.4\n% \xe5\xbb\xba\xe8\xa1\x8c\xe5\x87\xbd (test scan)\n%%EOF\n"


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "ledger", tmp_path / "ledger", ignore=shutil.ignore_patterns("*.pickle*"))
    shutil.copy(ROOT / "rules.yaml", tmp_path / "rules.yaml")
    shutil.copy(ROOT / "calendar.yaml", tmp_path / "calendar.yaml")
    (tmp_path / "ledger" / "cqgx" / "evidence").mkdir()
    (tmp_path / "ledger" / "cqgx" / "evidence" / "claim-2025-21.pdf").write_bytes(SCAN)
    year = tmp_path / "ledger" / "cqgx" / "2025.beancount"
    text = year.read_text(encoding="utf-8")
    anchor = '  approval: "高新区管委会分管领导审核同意（2025-05-27）"\n'
    assert text.count(anchor) == 1
    evidence = f'  evidence: "evidence/claim-2025-21.pdf"\n  evidence_sha256: "{hashlib.sha256(SCAN).hexdigest()}"\n'
    year.write_text(text.replace(anchor, anchor + evidence), encoding="utf-8")
    return tmp_path / "ledger" / "main.beancount"


def _build(ledger: Path, out: Path) -> None:
    result = CliRunner().invoke(main, ["dossier", str(ledger), "--loan", LOAN, "-o", str(out)])
    assert result.exit_code == 0, result.output


def _verify(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["dossier", "verify", str(path)])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _rewrite(source: Path, target: Path, change: dict[str, bytes | None], add: dict[str, bytes] | None = None) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if info.filename in change:
                if change[info.filename] is not None:
                    new.writestr(info.filename, change[info.filename])
                continue
            new.writestr(info, old.read(info))
        for name, data in (add or {}).items():
            new.writestr(name, data)


def test_a_dossier_is_built_with_everything_a_reviewer_needs(ledger: Path, tmp_path: Path) -> None:
    out = tmp_path / "d.zip"
    _build(ledger, out)
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        calculation = archive.read("代偿与追偿计算.txt").decode("utf-8")
        register = archive.read("登记簿.beancount").decode("utf-8")
        cash = archive.read("资金分录.beancount").decode("utf-8")
        scan = archive.read("授权文件/01-claim-2025-21.pdf")
    assert {"登记簿.beancount", "资金分录.beancount", "代偿与追偿计算.txt", "检查结果.txt", "说明.txt",
            "manifest.json", "SHA256SUMS", "授权文件/01-claim-2025-21.pdf"} == names
    assert scan == SCAN
    assert manifest["loan"] == LOAN and manifest["documents"][0]["status"] == "一致"
    assert "应代偿额 1,002,695.83 元" in calculation and "渝高新发〔2021〕8号 第十七条" in calculation
    assert "损失分担" not in calculation  # CQGX has no table for the loss after recovery
    assert f'custom "loan" "claim" "{LOAN}"' in register and 'custom "enterprise" "register"' in register
    assert f"^{LOAN}" in cash and "代偿" in cash
    assert _verify(out)[0] == 0
    # Verifiable without this program too.
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(out) as archive:
        archive.extractall(unpacked)
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=unpacked, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_an_altered_dossier_is_refused(ledger: Path, tmp_path: Path) -> None:
    out = tmp_path / "d.zip"
    _build(ledger, out)
    with zipfile.ZipFile(out) as archive:
        calculation = archive.read("代偿与追偿计算.txt")
    changed = tmp_path / "changed.zip"
    _rewrite(out, changed, {"代偿与追偿计算.txt": calculation.replace(b"1,002,695.83", b"1,002,695.84")})
    code, output = _verify(changed)
    assert code == 1 and "代偿与追偿计算.txt：内容与清单不符" in output and "不应采信" in output
    removed = tmp_path / "removed.zip"
    _rewrite(out, removed, {"授权文件/01-claim-2025-21.pdf": None})
    code, output = _verify(removed)
    assert code == 1 and "授权文件/01-claim-2025-21.pdf：档案中缺少此文件" in output
    added = tmp_path / "added.zip"
    _rewrite(out, added, {}, {"授权文件/02-extra.pdf": b"%PDF"})
    code, output = _verify(added)
    assert code == 1 and "清单中没有此文件" in output
    (tmp_path / "not.zip").write_bytes(b"not a zip")
    code, output = _verify(tmp_path / "not.zip")
    assert code == 2 and "无法读取档案" in output


def test_dossier_refuses_bad_requests(ledger: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["dossier", str(ledger), "--loan", "CQ-2024-001", "-o", str(tmp_path / "x.zip")])
    assert result.exit_code == 2 and "没有代偿分录" in result.output
    result = runner.invoke(main, ["dossier", str(ledger), "--loan", "CQ-9999-999", "-o", str(tmp_path / "x.zip")])
    assert result.exit_code == 2 and "没有贷款 CQ-9999-999" in result.output
    existing = tmp_path / "existing.zip"
    existing.write_bytes(b"keep")
    result = runner.invoke(main, ["dossier", str(ledger), "--loan", LOAN, "-o", str(existing)])
    assert result.exit_code == 2 and "已存在" in result.output and existing.read_bytes() == b"keep"
    assert not (tmp_path / "x.zip").exists()


def test_the_dossier_cites_the_version_in_force_on_the_events_date(ledger: Path, tmp_path: Path) -> None:
    # An amendment of comp.waterfall's risk share from 2025-01-01 (same value, its own text,
    # resting on an assumption): the 2025 compensation of CQ-2024-006 cites it as its
    # findings would (Program.cite_rule), the claim's scope still the original article.
    rules = tmp_path / "rules.yaml"
    old = "            values:\n              2021-02-24: 0.5\n      comp.escalation:"
    text = rules.read_text(encoding="utf-8")
    assert text.count(old) == 1
    rules.write_text(text.replace(old, (
        "            values:\n              2021-02-24: 0.5\n"
        "              2025-01-01: {value: 0.5, document: 渝高新发〔2025〕1号, article: 第三条, assumption: 测试用修订}\n"
        "      comp.escalation:"
    )), encoding="utf-8")
    out = tmp_path / "d.zip"
    _build(ledger, out)
    with zipfile.ZipFile(out) as archive:
        calculation = archive.read("代偿与追偿计算.txt").decode("utf-8")
    assert "代偿顺序与分担 渝高新发〔2025〕1号 第三条【假设】" in calculation
    assert "代偿顺序与分担 渝高新发〔2021〕8号 第十七条" not in calculation
    assert "代偿范围 渝高新发〔2021〕8号" in calculation
