"""Evidence (issue 13): the scanned letter behind an approval or a payment, and its SHA-256.

The rule ledgers (tests/ledgers/rules/evidence.missing/) cover a matching, a changed and a
missing file as they stand; these tests change the file under a ledger that passed: it is
edited, removed, replaced by something unreadable; and a program whose rules.yaml requires
evidence from a date on gets a finding for an approval without any.
"""

from __future__ import annotations

import hashlib
import html
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from beancount import loader

from conftest import LEDGERS
from conftest import ROOT
from zhubaodai.core.engine import analyse
from zhubaodai.core.engine import result_of
from zhubaodai.core.rules import load_rules
from zhubaodai.core.rules import parse_rules

FIXTURES = LEDGERS / "rules" / "evidence.missing"


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    """The passing CQGX evidence ledger, copied with its scan and the rules beside it."""
    rules = tmp_path / "t" / "ledgers" / "rules" / "evidence.missing"
    shutil.copytree(FIXTURES / "evidence", rules / "evidence")
    shutil.copy(FIXTURES / "cqgx-pass.beancount", rules / "cqgx-pass.beancount")
    shutil.copytree(LEDGERS / "common", tmp_path / "t" / "ledgers" / "common")
    shutil.copy(ROOT / "rules.yaml", tmp_path / "rules.yaml")
    shutil.copy(ROOT / "calendar.yaml", tmp_path / "calendar.yaml")
    return rules / "cqgx-pass.beancount"


def _findings(path: Path) -> list[tuple[str, str, str]]:
    entries, errors, options = loader.load_file(str(path))
    analysis = result_of(options)
    assert analysis is not None
    return [(f.rule, f.severity, f.message) for f in analysis.findings]


def _records(path: Path) -> list[tuple[str, str]]:
    entries, errors, options = loader.load_file(str(path))
    return [(r.written or "", r.status) for r in result_of(options).records.evidence]


def test_present_evidence_passes_and_is_recorded(ledger: Path) -> None:
    assert _findings(ledger) == []
    assert _records(ledger) == [("evidence/cq-2024-12.pdf", "一致")]


def test_a_changed_file_fails(ledger: Path) -> None:
    scan = ledger.parent / "evidence" / "cq-2024-12.pdf"
    scan.write_bytes(scan.read_bytes() + b" ")
    found = _findings(ledger)
    assert [(r, s) for r, s, _ in found] == [("evidence.missing", "error")]
    assert "已被改动或替换" in found[0][2] and "贷款 CQ-2024-001 的审核同意（2024-03-01）" in found[0][2]


def test_a_missing_file_fails(ledger: Path) -> None:
    (ledger.parent / "evidence" / "cq-2024-12.pdf").unlink()
    found = _findings(ledger)
    assert [(r, s) for r, s, _ in found] == [("evidence.missing", "error")]
    assert found[0][2].endswith("「evidence/cq-2024-12.pdf」不存在")


def test_an_unreadable_file_fails(ledger: Path) -> None:
    scan = ledger.parent / "evidence" / "cq-2024-12.pdf"
    scan.unlink()
    scan.mkdir()  # a directory where the scan should be: exists, cannot be read as a file
    found = _findings(ledger)
    assert [(r, s) for r, s, _ in found] == [("evidence.missing", "error")]
    assert "无法读取" in found[0][2]
    assert _records(ledger) == [("evidence/cq-2024-12.pdf", "无法读取")]


def test_a_hash_that_is_not_one_fails(ledger: Path) -> None:
    text = ledger.read_text(encoding="utf-8")
    digest = hashlib.sha256((ledger.parent / "evidence" / "cq-2024-12.pdf").read_bytes()).hexdigest()
    ledger.write_text(text.replace(digest, digest[:10]), encoding="utf-8")
    found = _findings(ledger)
    assert [(r, s) for r, s, _ in found] == [("evidence.missing", "error")]
    assert "未记录其 SHA-256" in found[0][2]


def test_required_from_a_date_reports_an_approval_without_evidence(ledger: Path) -> None:
    text = ledger.read_text(encoding="utf-8")
    start = text.index('  evidence: "')
    end = text.index("\n", text.index("  evidence_sha256:")) + 1
    ledger.write_text(text[:start] + text[end:], encoding="utf-8")
    assert _findings(ledger) == []  # not required by the project's rules.yaml
    rules = ledger.parents[4] / "rules.yaml"
    yaml = rules.read_text(encoding="utf-8")
    old = "          required:\n            article: 第十四条（二）、第十七条\n            values:\n              2021-02-24: false\n"
    assert yaml.count(old) == 1
    rules.write_text(yaml.replace(old, old + "              2024-03-01: true\n"), encoding="utf-8")
    found = _findings(ledger)
    assert [(r, s) for r, s, _ in found] == [("evidence.missing", "error")]
    assert "贷款 CQ-2024-001 的审核同意（2024-03-01）未附授权文件" in found[0][2]
    rules.write_text(yaml.replace(old, old + "              2024-03-02: true\n"), encoding="utf-8")
    assert _findings(ledger) == []  # the approval is dated before evidence is required


def test_the_compliance_page_lists_and_serves_the_scan(ledger: Path) -> None:
    from fava.application import create_app

    with ledger.open("a", encoding="utf-8") as handle:
        handle.write('\n2000-01-01 custom "fava-extension" "zhubaodai.fava"\n')
    app = create_app([str(ledger)], read_only=True, poll_watcher=True)
    client = app.test_client()
    prefix = "/" + client.get("/").location.strip("/").split("/")[0]
    page = client.get(f"{prefix}/extension/Zbd6Compliance/").get_data(as_text=True)
    assert "授权文件" in page and "结账记录" in page
    assert "贷款 CQ-2024-001 的审核同意（2024-03-01）" in page
    link = re.search(r'href="([^"]*/evidence\?file=[^"]+)"', page)
    assert link is not None, page[-3000:]
    scan = ledger.parent / "evidence" / "cq-2024-12.pdf"
    response = client.get(html.unescape(link.group(1)))
    assert response.status_code == 200 and response.get_data() == scan.read_bytes()
    # Only the declared documents: the ledger itself is not served through this endpoint.
    other = client.get(f"{prefix}/extension/Zbd6Compliance/evidence", query_string={"file": str(ledger)})
    assert other.status_code == 404


def test_a_compensation_entry_with_a_changed_scan_is_reported_at_the_entry(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "ledger", tmp_path / "ledger", ignore=shutil.ignore_patterns("*.pickle*"))
    shutil.copy(ROOT / "rules.yaml", tmp_path / "rules.yaml")
    shutil.copy(ROOT / "calendar.yaml", tmp_path / "calendar.yaml")
    scan = tmp_path / "ledger" / "cqgx" / "comp.pdf"
    scan.write_bytes(b"%PDF-1.4 compensation letter\n")
    year = tmp_path / "ledger" / "cqgx" / "2025.beancount"
    text = year.read_text(encoding="utf-8")
    head = '2025-05-28 * "建设银行重庆高新区支行" "代偿 CQ-2024-006（助保金全额代偿）" ^CQ-2024-006\n'
    assert text.count(head) == 1
    digest = hashlib.sha256(scan.read_bytes()).hexdigest()
    year.write_text(text.replace(head, head + f'  evidence: "comp.pdf"\n  evidence_sha256: "{digest}"\n'), encoding="utf-8")
    top = tmp_path / "ledger" / "main.beancount"
    assert [r for r in _findings(top) if r[0] == "evidence.missing"] == []
    assert ("comp.pdf", "一致") in _records(top)
    scan.write_bytes(b"%PDF-1.4 another letter\n")
    entries, errors, options = loader.load_file(str(top))
    found = [f for f in result_of(options).findings if f.rule == "evidence.missing"]
    assert len(found) == 1 and found[0].loan == "CQ-2024-006"
    assert found[0].message.startswith("代偿分录（2025-05-28，贷款 CQ-2024-006）的授权文件「comp.pdf」已被改动或替换")
    assert found[0].filename == str(year) and text.splitlines().index(head.rstrip("\n")) + 1 == found[0].lineno


def test_a_changed_scan_is_not_hidden_by_beancounts_cache(
    ledger: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "PICKLE_CACHE_THRESHOLD", 0.0)
    (tmp_path / "cache").mkdir()
    loader.initialize(use_cache=True, cache_filename=str(tmp_path / "cache" / ".{filename}.picklecache"))
    try:
        entries, errors, options = loader.load_file(str(ledger))
        assert errors == []
        assert str(ledger.parent / "evidence" / "cq-2024-12.pdf") in options["include"]
        assert (tmp_path / "cache" / ".cqgx-pass.beancount.picklecache").exists()
        scan = ledger.parent / "evidence" / "cq-2024-12.pdf"
        scan.write_bytes(scan.read_bytes() + b"changed after the cached load, and longer")
        entries, errors, options = loader.load_file(str(ledger))
        assert any("[evidence.missing]" in e.message and "已被改动或替换" in e.message for e in errors)
    finally:
        loader.initialize(use_cache=False)


def _declared(tmp_path: Path, rules: str | None = None) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """A CQGX ledger in which two approvals and two program events declare documents (the
    plan's without a hash; a later plan declares a hash alone, a third nothing), read
    without the plugin and analysed once (under ``rules``, rules.yaml's text, if given):
    its records as (program, what, loan, path, status), and its findings."""
    scan = tmp_path / "letter.pdf"
    scan.write_bytes(b"%PDF-1.4 letter\n")
    sha = hashlib.sha256(scan.read_bytes()).hexdigest()
    doc = f'  evidence: "letter.pdf"\n  evidence_sha256: "{sha}"\n'
    approval = (
        '{day} custom "loan" "approval" "{loan}"\n  program: "CQGX"\n  enterprise: "E-1"\n'
        '  amount: 1000000.00 CNY\n  letter: "函"\n'
    )
    text = (
        f'include "{LEDGERS / "common" / "cqgx.beancount"}"\n'
        f'2021-03-01 custom "program" "open" "CQGX"\n{doc}'
        + approval.format(day="2024-03-01", loan="CQ-2") + doc
        + approval.format(day="2024-03-02", loan="CQ-1") + doc
        + '2024-03-03 custom "program" "plan" "CQGX"\n  expected_volume: 50000000.00 CNY\n  evidence: "letter.pdf"\n'
        + '2024-03-04 custom "program" "plan" "CQGX"\n  expected_volume: 60000000.00 CNY\n'
        + f'2024-03-05 custom "program" "plan" "CQGX"\n  expected_volume: 70000000.00 CNY\n  evidence_sha256: "{sha}"\n'
    )
    path = tmp_path / "books.beancount"
    path.write_text(text, encoding="utf-8")
    entries, errors, _ = loader.load_file(str(path))
    assert errors == []
    analysis = analyse(entries, parse_rules(rules) if rules else load_rules(str(ROOT / "rules.yaml")))
    records = [(r.program, r.what, r.loan, r.written, r.status) for r in analysis.records.evidence]
    findings = [(f.rule, f.program, f.loan, f.message) for f in analysis.findings if f.rule == "evidence.missing"]
    return records, findings


def test_declared_documents_are_recorded_loan_by_loan_then_program_events(tmp_path: Path) -> None:
    records, findings = _declared(tmp_path)
    # Loans in the register's order (CQ-2 was approved first), each naming its loan; then
    # the program's events that declare a document (the plan without one is not listed).
    assert records == [
        ("CQGX", "贷款 CQ-2 的审核同意（2024-03-01）", "CQ-2", "letter.pdf", "一致"),
        ("CQGX", "贷款 CQ-1 的审核同意（2024-03-02）", "CQ-1", "letter.pdf", "一致"),
        ("CQGX", "项目 CQGX 的项目启动（2021-03-01）", None, "letter.pdf", "一致"),
        ("CQGX", "项目 CQGX 的年度业务计划（2024-03-03）", None, "letter.pdf", "未记录哈希"),
    ]
    assert findings == [
        (
            "evidence.missing", "CQGX", None,
            "项目 CQGX 的年度业务计划（2024-03-03）的授权文件「letter.pdf」：未记录其 SHA-256（元数据 evidence_sha256 应为 64 位十六进制数字）",
        )
    ]


def test_a_program_event_needs_no_document_even_where_approvals_do(tmp_path: Path) -> None:
    """Required from the program's first day, approvals must carry their letter; a
    program's own events (the plan declaring only a hash, the one declaring nothing)
    authorise nothing and are not reported as lacking one."""
    yaml = (ROOT / "rules.yaml").read_text(encoding="utf-8")
    old = "          required:\n            article: 第十四条（二）、第十七条\n            values:\n              2021-02-24: false\n"
    assert yaml.count(old) == 1
    records, findings = _declared(tmp_path, yaml.replace(old, old.replace("false", "true")))
    assert [r[1] for r in records] == [
        "贷款 CQ-2 的审核同意（2024-03-01）", "贷款 CQ-1 的审核同意（2024-03-02）",
        "项目 CQGX 的项目启动（2021-03-01）", "项目 CQGX 的年度业务计划（2024-03-03）",
    ]
    assert [f[3].split("「")[0] for f in findings] == ["项目 CQGX 的年度业务计划（2024-03-03）的授权文件"]
