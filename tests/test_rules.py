"""Every rule, by its id: a ledger that breaks it fails, the nearest compliant ledger passes.

The ledgers are in tests/ledgers/rules/<rule id>/ and say what they expect in their header
comments (format: tests/ledgers/README.md). Each is loaded as ``bean-check`` loads it
(Beancount's loader, plugin line active):

* a failing ledger gives a Beancount error carrying the rule id, the program's citation
  (document + article, from rules.yaml) and the expected text;
* a warning ledger passes ``bean-check`` and the engine (:func:`zhubaodai.core.engine.analyse`)
  reports the warning;
* a passing ledger gives no error and the engine no finding at all;
* every ``; <-- rule.id`` marker names the line a finding of that rule points at.

A meta-test fails when a rule id of rules.yaml or of the engine's catalogue has no
failing and no passing ledger for each program that configures it.

A rule no program of rules.yaml configures (no policy excerpt provides for it, e.g.
outflow.management_fee) is tested under a test program in a rules file beside its ledgers
(``tests/ledgers/rules/<rule id>/rules.yaml``, plugin line ``{'rules': 'rules.yaml'}``).
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from beancount import loader

from conftest import LEDGERS
from conftest import ROOT
from zhubaodai.core.engine import result_of
from zhubaodai.core.findings import ERROR
from zhubaodai.core.findings import FORMAT_CITATION
from zhubaodai.core.findings import FORMAT_RULE
from zhubaodai.core.findings import WARNING
from zhubaodai.core.rules import CATALOGUE
from zhubaodai.core.rules import Rulebook
from zhubaodai.core.rules import load_rules
from zhubaodai.plugin import ZhubaodaiError

RULE_LEDGERS = LEDGERS / "rules"
FIXTURES = sorted(RULE_LEDGERS.glob("*/*.beancount"))
PROGRAM_PREFIX = {"cqgx": "CQGX", "wlht": "WLHT", "gsby": "GSBY", "wzs": "WZS", "lnyq": "LNYQ"}
NAME_RE = re.compile(r"^(?P<program>[a-z]+)-(?P<kind>pass|fail|warn)(-[a-z0-9]+(-[a-z0-9]+)*)?\.beancount$")
HEADER_RE = re.compile(r"^;\s*(?P<key>expect|expect-warning|expect-text):\s*(?P<value>.+?)\s*$")
PLUGIN_RE = re.compile(r"""^plugin "zhubaodai\.plugin" "\{'rules': '(?P<rules>[^']+)'""", re.M)
REPO_RULES = "../../../../rules.yaml"
#: The rules file of a rule that no program of rules.yaml configures (a test program).
LOCAL_RULES = "rules.yaml"
MARKER_RE = re.compile(r";\s*<--\s*(?P<rules>[a-z_.]+(\s+[a-z_.]+)*)\s*$")


@dataclass(frozen=True)
class Expectation:
    """What a fixture ledger says it should produce (its header and its markers)."""

    path: Path
    rule_dir: str
    program: str
    kind: str  # pass | fail | warn (from the file name)
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    texts: tuple[str, ...]
    markers: tuple[tuple[int, str], ...]  # (line, rule id)
    clean: bool  # "; expect: none"
    #: The rules file the ledger's plugin line names (the repository's, or a test program's).
    rules: Path = ROOT / "rules.yaml"

    @property
    def name(self) -> str:
        return f"{self.rule_dir}/{self.path.name}"


def read_expectation(path: Path) -> Expectation:
    match = NAME_RE.match(path.name)
    assert match, f"{path}: fixture names are <program>-(pass|fail|warn)[-what].beancount"
    errors: list[str] = []
    warnings: list[str] = []
    texts: list[str] = []
    markers: list[tuple[int, str]] = []
    clean = False
    in_header = True
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if in_header and not line.startswith(";"):
            in_header = False
        if in_header:
            header = HEADER_RE.match(line)
            if header is None:
                continue
            key, value = header["key"], header["value"]
            if key == "expect" and value == "none":
                clean = True
            elif key == "expect":
                errors.append(value)
            elif key == "expect-warning":
                warnings.append(value)
            else:
                texts.append(value)
            continue
        marker = MARKER_RE.search(line)
        if marker:
            markers.extend((lineno, rule) for rule in marker["rules"].split())
    return Expectation(
        path=path,
        rule_dir=path.parent.name,
        program=PROGRAM_PREFIX.get(match["program"], match["program"].upper()),
        kind=match["kind"],
        errors=tuple(errors),
        warnings=tuple(warnings),
        texts=tuple(texts),
        markers=tuple(markers),
        clean=clean,
        rules=_rules_of(path),
    )


def _rules_of(path: Path) -> Path:
    found = PLUGIN_RE.search(path.read_text(encoding="utf-8"))
    return (path.parent / found["rules"]).resolve() if found else ROOT / "rules.yaml"


@cache
def rulebook_of(rules: Path) -> Rulebook:
    """The rules a fixture runs under (loaded once per file)."""
    return load_rules(rules)


EXPECTATIONS = [read_expectation(path) for path in FIXTURES]


def citation(rulebook: Rulebook, program: str, rule_id: str) -> str:
    if rule_id == FORMAT_RULE:
        return FORMAT_CITATION
    prog = rulebook.programs[program]
    rule = prog.rules[rule_id]
    # A rule resting on an assumption (its reading, or a value in force: each new program's
    # values have one version from its start) is cited with 【假设】 after the article.
    return prog.cite(rule.article) + ("【假设】" if rule.assumed(prog.effective) else "")


def load(path: Path):
    entries, errors, options_map = loader.load_file(str(path))
    return entries, errors, options_map


# --------------------------------------------------------------------------------------
# The fixtures themselves are well formed.


@pytest.mark.parametrize("exp", EXPECTATIONS, ids=lambda e: e.name)
def test_fixture_header_is_consistent(exp: Expectation) -> None:
    text = exp.path.read_text(encoding="utf-8")
    if exp.rules == (exp.path.parent / LOCAL_RULES).resolve():
        # A test program's rules: only for a rule no program of rules.yaml configures.
        assert "plugin \"zhubaodai.plugin\" \"{'rules': 'rules.yaml'}\"" in text
        repo = rulebook_of(ROOT / "rules.yaml")
        assert not any(exp.rule_dir in p.rules for p in repo.programs.values()), (
            f"{exp.name}: rules.yaml configures {exp.rule_dir}: test it under the real programs"
        )
    else:
        assert "plugin \"zhubaodai.plugin\" \"{'rules': '../../../../rules.yaml'}\"" in text
    assert f'include "../../common/{exp.program.lower()}.beancount"' in text
    if exp.kind == "pass":
        assert exp.clean and not exp.errors and not exp.warnings and not exp.texts and not exp.markers
    else:
        assert not exp.clean, "a failing ledger cannot also expect none"
        assert exp.texts, "a failing ledger names the text it expects (expect-text)"
        assert exp.markers, "a failing ledger marks the line it expects a finding at (; <-- rule)"
        assert exp.rule_dir in exp.errors + exp.warnings, "a ledger tests the rule of its directory"
    if exp.kind == "fail":
        assert exp.errors
    if exp.kind == "warn":
        assert exp.warnings and not exp.errors
    for _, rule in exp.markers:
        assert rule in exp.errors + exp.warnings


# --------------------------------------------------------------------------------------
# Through the Beancount plugin (what bean-check shows).


@pytest.mark.parametrize("exp", EXPECTATIONS, ids=lambda e: e.name)
def test_fixture_through_plugin(exp: Expectation) -> None:
    rulebook = rulebook_of(exp.rules)
    _, errors, _ = load(exp.path)
    others = [e for e in errors if not isinstance(e, ZhubaodaiError)]
    assert others == [], "the fixture must be valid Beancount apart from the rules under test"
    messages = [e.message for e in errors]
    if not exp.errors:
        # Passing ledgers and warning ledgers: bean-check succeeds.
        assert messages == []
        return
    for rule in exp.errors:
        cite = citation(rulebook, exp.program, rule)
        assert any(m.startswith(f"[{rule}] {cite}：") for m in messages), (rule, cite, messages)
    for text in exp.texts:
        found = any(
            f"[{rule}]" in m and citation(rulebook, exp.program, rule) in m and text in m
            for m in messages
            for rule in exp.errors
        )
        if not found and exp.warnings:
            continue  # a warning's text, checked through the engine below
        assert found, (text, messages)
    for error in errors:
        assert error.source["filename"] == str(exp.path)
        assert error.source["lineno"] > 0


# --------------------------------------------------------------------------------------
# Through the engine (what the CLI and Fava show: errors and warnings).


@pytest.mark.parametrize("exp", EXPECTATIONS, ids=lambda e: e.name)
def test_fixture_through_engine(exp: Expectation) -> None:
    rulebook = rulebook_of(exp.rules)
    _, _, options = load(exp.path)
    analysis = result_of(options)  # the plugin's one run of this load
    assert analysis is not None
    got = {(f.rule, f.severity) for f in analysis.findings}
    want = {(r, ERROR) for r in exp.errors} | {(r, WARNING) for r in exp.warnings}
    assert got == want, [str(f) for f in analysis.findings]
    for finding in analysis.findings:
        assert finding.citation == citation(rulebook, exp.program, finding.rule)
        if finding.rule != FORMAT_RULE:
            assert finding.program == exp.program
        assert finding.filename == str(exp.path), str(finding)
    for text in exp.texts:
        assert any(text in f.message for f in analysis.findings), (text, [str(f) for f in analysis.findings])
    for line, rule in exp.markers:
        assert any(f.rule == rule and f.lineno == line for f in analysis.findings), (
            f"{exp.path.name}:{line}: no {rule} finding points here",
            [str(f) for f in analysis.findings],
        )


def test_warning_ledger_passes_bean_check_but_fails_strict(tmp_path: Path) -> None:
    """Warnings never fail bean-check; the plugin's strict option raises them to errors."""
    warn = RULE_LEDGERS / "pool.suspense" / "cqgx-warn.beancount"
    bean_check = Path(sys.executable).parent / "bean-check"
    run = subprocess.run([str(bean_check), str(warn)], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout == "" and run.stderr == ""

    strict = tmp_path / "strict.beancount"
    body = warn.read_text(encoding="utf-8")
    body = body.replace(
        "plugin \"zhubaodai.plugin\" \"{'rules': '../../../../rules.yaml'}\"",
        f"plugin \"zhubaodai.plugin\" \"{{'rules': '{ROOT / 'rules.yaml'}', 'strict': True}}\"",
    ).replace('include "../../common/', f'include "{LEDGERS / "common"}/')
    strict.write_text(body, encoding="utf-8")
    run = subprocess.run([str(bean_check), str(strict)], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 1
    assert "[pool.suspense] 渝高新发〔2021〕8号 第七条：" in run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr


# --------------------------------------------------------------------------------------
# Every rule id has its ledgers.


def all_rule_ids(rulebook: Rulebook) -> set[str]:
    configured = {rule for program in rulebook.programs.values() for rule in program.rules}
    return configured | set(CATALOGUE) | {FORMAT_RULE}


def test_every_rule_id_has_failing_and_passing_ledgers(rulebook: Rulebook) -> None:
    by_dir: dict[str, list[Expectation]] = {}
    for exp in EXPECTATIONS:
        by_dir.setdefault(exp.rule_dir, []).append(exp)
    missing: list[str] = []
    for rule in sorted(all_rule_ids(rulebook)):
        programs = [code for code, p in rulebook.programs.items() if rule in p.rules]
        if rule == FORMAT_RULE:
            programs = list(rulebook.programs)
        fixtures = by_dir.get(rule, [])
        for program in programs or [None]:
            mine = [e for e in fixtures if program is None or e.program == program]
            failing = [e for e in mine if rule in e.errors + e.warnings]
            passing = [e for e in mine if e.clean]
            where = f"tests/ledgers/rules/{rule}/ ({program or '任一项目'})"
            if not failing:
                missing.append(f"{where}: 缺少违反规则的账本")
            if not passing:
                missing.append(f"{where}: 缺少合规的账本")
    assert missing == [], "\n".join(missing)


def test_fixture_directories_are_rule_ids(rulebook: Rulebook) -> None:
    known = all_rule_ids(rulebook)
    dirs = {p.name for p in RULE_LEDGERS.iterdir() if p.is_dir()}
    assert dirs <= known, sorted(dirs - known)
    for exp in EXPECTATIONS:
        programs = rulebook_of(exp.rules).programs
        assert exp.program in programs, exp.name
        if exp.rule_dir != FORMAT_RULE:
            assert exp.rule_dir in programs[exp.program].rules, (
                f"{exp.name}: {exp.program} does not configure {exp.rule_dir}"
            )
