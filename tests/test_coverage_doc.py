"""docs/policy-coverage.md accounts for every article of both policies; docs/rules.md is
the page generated from rules.yaml and the engine's catalogue, up to date."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from zhubaodai.core.findings import FORMAT_RULE
from zhubaodai.core.rules import CATALOGUE
from zhubaodai.core.rules import load_rules
from zhubaodai.scripts.gen_rules_doc import render

ROOT = Path(__file__).resolve().parent.parent
COVERAGE = ROOT / "docs" / "policy-coverage.md"
#: Section heading (start) -> number of articles in the document.
DOCUMENTS = {"渝高新发〔2021〕8号": 21, "《乌兰浩特市小型微型企业": 32}
DIGITS = "一二三四五六七八九"
ROW_RE = re.compile(r"^\|\s*(第[一二三四五六七八九十]+条)\s*\|(.*)\|\s*$")


def article(n: int) -> str:
    """1 -> 第一条, 10 -> 第十条, 21 -> 第二十一条, 32 -> 第三十二条."""
    tens, ones = divmod(n, 10)
    text = ("" if tens == 0 else ("十" if tens == 1 else DIGITS[tens - 1] + "十")) + (DIGITS[ones - 1] if ones else "")
    return f"第{text}条"


def sections() -> dict[str, list[tuple[str, list[str]]]]:
    """Document -> its rows (article, cells), in order."""
    found: dict[str, list[tuple[str, list[str]]]] = {}
    current = None
    for line in COVERAGE.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            current = next((d for d in DOCUMENTS if line[3:].startswith(d)), None)
            if current is not None:
                found[current] = []
            continue
        match = ROW_RE.match(line)
        if match and current is not None:
            found[current].append((match[1], [c.strip() for c in match[2].split("|")]))
    return found


def test_article_numbers() -> None:
    assert [article(n) for n in (1, 9, 10, 11, 19, 20, 21, 30, 32)] == [
        "第一条", "第九条", "第十条", "第十一条", "第十九条", "第二十条", "第二十一条", "第三十条", "第三十二条",
    ]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_article_is_accounted_for(document: str) -> None:
    rows = sections().get(document)
    assert rows is not None, f"docs/policy-coverage.md 缺少 {document} 一节"
    listed = [a for a, _ in rows]
    expected = [article(n) for n in range(1, DOCUMENTS[document] + 1)]
    missing = [a for a in expected if a not in listed]
    extra = [a for a in listed if a not in expected]
    assert missing == [], f"{document}：缺少 {missing}"
    assert extra == [] and listed == expected, f"{document}：多出或次序不对 {extra or listed}"
    for name, cells in rows:
        assert len(cells) == 3, f"{document} {name}：应有 要求、规则、理由 三栏"
        requirement, rules, reason = cells
        assert requirement, f"{document} {name}：缺少转述"
        ids = re.findall(r"`([^`]+)`", rules)
        assert ids or reason, f"{document} {name}：既没有规则也没有不在账内的理由"
        if not ids:
            assert rules in ("—", ""), f"{document} {name}：规则栏应写规则编号（反引号）或 —"


def test_every_rule_id_named_exists() -> None:
    known = set(CATALOGUE) | {FORMAT_RULE}
    text = COVERAGE.read_text(encoding="utf-8")
    named = set()
    for rows in sections().values():
        for _, (_, rules, _) in rows:
            named |= set(re.findall(r"`([^`]+)`", rules))
    unknown = sorted(named - known)
    assert unknown == [], f"docs/policy-coverage.md 写了不存在的规则编号：{unknown}"
    assert named, text[:200]


def test_every_configured_rule_is_cited_for_its_program() -> None:
    """A rule a program configures enforces some article of that program's document."""
    rulebook = load_rules(ROOT / "rules.yaml")
    found = sections()
    for code, document in (("CQGX", "渝高新发〔2021〕8号"), ("WLHT", "《乌兰浩特市小型微型企业")):
        named = {i for _, (_, rules, _) in found[document] for i in re.findall(r"`([^`]+)`", rules)}
        absent = sorted(set(rulebook.programs[code].rules) - named)
        assert absent == [], f"{code} 配置了 {absent}，但对照表中没有哪一条写到它"


#: Documents structured in parts rather than 第X条: heading (start) -> the visible
#: provisions, in order (a policy excerpt that breaks off lists only what is visible).
VISIBLE = {
    '海口"金保贷"实施意见': ("前言", "一、（一）1", "一、（一）2（1）", "一、（一）2（2）", "一、（二）", "一、（三）"),
    # 坪山: 第一条—第四条 (the excerpt breaks off in 第四条) and two points of the official Q&A.
    "《深圳市坪山区中小微企业银行贷款风险补偿资金池管理实施细则（试行）》": (
        "第一条", "第二条", "第三条", "第四条", "问答第1点", "问答第2点",
    ),
}
PROGRAM_OF = {'海口"金保贷"实施意见': "HKJB", "《深圳市坪山区中小微企业银行贷款风险补偿资金池管理实施细则（试行）》": "SZPS"}
ANY_ROW_RE = re.compile(r"^\|\s*([^|]+?)\s*\|(.*)\|\s*$")


def visible_rows(document: str) -> list[tuple[str, list[str]]]:
    rows: list[tuple[str, list[str]]] = []
    current = False
    for line in COVERAGE.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            current = line[3:].startswith(document)
            continue
        match = ANY_ROW_RE.match(line)
        if current and match and match[1] not in ("条款", "---"):
            rows.append((match[1], [c.strip() for c in match[2].split("|")]))
    return rows


@pytest.mark.parametrize("document", VISIBLE)
def test_every_visible_provision_is_accounted_for(document: str) -> None:
    rows = visible_rows(document)
    assert [name for name, _ in rows] == list(VISIBLE[document]), f"docs/policy-coverage.md {document}：条款缺少或次序不对"
    known = set(CATALOGUE) | {FORMAT_RULE}
    named: set[str] = set()
    for name, cells in rows:
        assert len(cells) == 3, f"{document} {name}：应有 要求、规则、理由 三栏"
        requirement, rules, reason = cells
        ids = set(re.findall(r"`([^`]+)`", rules))
        assert requirement and (ids or reason), f"{document} {name}"
        assert ids <= known, f"{document} {name}：不存在的规则编号 {sorted(ids - known)}"
        named |= ids
    program = load_rules(ROOT / "rules.yaml").programs[PROGRAM_OF[document]]
    absent = sorted(set(program.rules) - named)
    assert absent == [], f"{program.code} 配置了 {absent}，但对照表中没有哪一条写到它"


def test_a_missing_article_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check is real: drop 第十三条 and it fails."""
    broken = tmp_path / "policy-coverage.md"
    text = COVERAGE.read_text(encoding="utf-8")
    broken.write_text("\n".join(l for l in text.splitlines() if not l.startswith("| 第十三条")), encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "COVERAGE", broken)
    with pytest.raises(AssertionError, match="第十三条"):
        test_every_article_is_accounted_for("渝高新发〔2021〕8号")


def test_rules_doc_is_up_to_date() -> None:
    expected = render(load_rules(ROOT / "rules.yaml"))
    current = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert current == expected, "docs/rules.md 不是最新：python -m zhubaodai.scripts.gen_rules_doc --write"


def test_rules_doc_names_every_rule_id_with_its_articles() -> None:
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    rulebook = load_rules(ROOT / "rules.yaml")
    for rule_id in [*CATALOGUE, FORMAT_RULE]:
        assert f"### `{rule_id}`" in text, rule_id
    for program in rulebook.programs.values():
        for rule in program.rules.values():
            assert f"- 条款：{program.cite(rule.article)}" in text
            assert rule.summary in text


def test_gen_rules_doc_check_flag(tmp_path: Path) -> None:
    stale = tmp_path / "rules.md"
    stale.write_text("# old\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "zhubaodai.scripts.gen_rules_doc", "--check", "--out", str(stale)],
        capture_output=True, text=True,
    )
    assert run.returncode == 1 and "不是最新" in run.stderr
    assert stale.read_text(encoding="utf-8") == "# old\n"  # --check never writes
    run = subprocess.run(
        [sys.executable, "-m", "zhubaodai.scripts.gen_rules_doc", "--check"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr


# --------------------------------------------------------------------------------------
# Issue 10: programs written from excerpts. Only some articles are visible: the section
# lists exactly those (in order), names every clause whose number is not visible as such,
# says that the other articles are not visible, and cites every rule its program configures.

#: Section heading (start) -> (program, the articles visible in the excerpt).
EXCERPTS = {
    "《白银市小微企业互助贷款风险补偿担保基金管理办法》": ("GSBY", ["第一条", "第三条", "第四条", "第十六条"]),
    "五府规〔2020〕16号": ("WZS", ["第一条"]),
    "龙南市“园区贷”": ("LNYQ", []),
    "金东区科技型中小微企业贷款风险池基金": ("JHJD", []),
}
ANY_ROW_RE = re.compile(r"^\|\s*([^|]+?)\s*\|(.*)\|\s*$")


def excerpt_section(document: str) -> tuple[str, list[tuple[str, list[str]]]]:
    """The section's text and its table rows (first cell, other cells)."""
    text = COVERAGE.read_text(encoding="utf-8")
    start = next(i for i, line in enumerate(text.splitlines()) if line.startswith(f"## {document}"))
    lines = text.splitlines()[start + 1:]
    end = next((i for i, line in enumerate(lines) if line.startswith("## ")), len(lines))
    body = lines[:end]
    rows = []
    for line in body:
        match = ANY_ROW_RE.match(line)
        if match and match[1] not in ("条款",) and not set(match[1]) <= {"-"}:
            rows.append((match[1], [c.strip() for c in match[2].split("|")]))
    return "\n".join(body), rows


@pytest.mark.parametrize("document", EXCERPTS)
def test_excerpt_sections_list_the_visible_articles_and_say_the_rest_are_not(document: str) -> None:
    code, visible = EXCERPTS[document]
    text, rows = excerpt_section(document)
    numbered = [name for name, _ in rows if ROW_RE.match(f"| {name} | x | y | z |")]
    assert numbered == visible, f"{document}：可见条款应为 {visible}，表中为 {numbered}"
    assert "不可见" in text, f"{document}：应写明其余条款不可见"
    for name, cells in rows:
        assert len(cells) == 3, f"{document} {name}：应有 要求、规则、理由 三栏"
        assert name in visible or "条号不可见" in name, f"{document} {name}：不可见条号的条款应写明“条号不可见”"
        requirement, rules, reason = cells
        assert requirement and (re.findall(r"`([^`]+)`", rules) or reason)
    rulebook = load_rules(ROOT / "rules.yaml")
    named = {i for _, (_, rules, _) in rows for i in re.findall(r"`([^`]+)`", rules)}
    assert named <= set(CATALOGUE) | {FORMAT_RULE}
    absent = sorted(set(rulebook.programs[code].rules) - named)
    assert absent == [], f"{code} 配置了 {absent}，但对照表中没有哪一条写到它"


def test_assumptions_are_marked_in_rules_and_docs() -> None:
    """A value the excerpt does not give is marked 【假定】 in rules.yaml and docs/rules.md."""
    rules_text = (ROOT / "rules.yaml").read_text(encoding="utf-8")
    doc = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for code in ("GSBY", "WZS", "LNYQ", "JHJD"):
        block = rules_text.split(f"\n  {code}:\n", 1)[1].split("\n  # ", 1)[0]
        assert "【假定】" in block, code
    assert doc.count("【假定】") >= 5
