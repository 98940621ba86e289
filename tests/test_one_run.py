"""One engine run per load, and every face shows that run's findings.

* On every rule ledger (tests/ledgers/rules/), the three faces a person meets report the
  same findings: ``bean-check`` (the plugin's errors), ``zbd check --format json`` and the
  Fava compliance page (its CSV download, which lists what the page shows).
* ``zbd check``, ``zbd report``, ``zbd stress`` and the Fava pages run the engine once per
  load of the ledger: the plugin's run, which they read (:func:`zhubaodai.core.engine.result_of`).
* A ``pad``, a balance assertion off by Beancount's tolerance, a plugin listed after ours:
  none of them gets around a rule (:mod:`zhubaodai.checks.integrity`).
"""

from __future__ import annotations

import csv
import io
import json
import pickle
import shutil
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from click.testing import CliRunner
from fava.application import create_app

from conftest import LEDGERS
from conftest import ROOT
from zhubaodai.cli import main
from zhubaodai.core.engine import LoadResult
from zhubaodai.core.engine import OPTIONS_KEY
from zhubaodai.core.engine import result_of
from zhubaodai.core.findings import FORMAT_RULE
from zhubaodai.core.labels import for_reviewer
import zhubaodai.core.engine
from zhubaodai.plugin import ZhubaodaiError

sys.path.insert(0, str(Path(__file__).parent / "browser"))
from fava_support import EXTENSION_LINE  # noqa: E402

RULE_LEDGERS = sorted((LEDGERS / "rules").glob("*/*.beancount"))
DEMO = ROOT / "ledger" / "main.beancount"


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the engine's runs (every face reaches the engine through ``_analyse``)."""
    calls: list[int] = []
    inner = zhubaodai.core.engine._analyse

    def counting(*args, **kwargs):
        calls.append(1)
        return inner(*args, **kwargs)

    monkeypatch.setattr(zhubaodai.core.engine, "_analyse", counting)
    return calls


def zbd(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


# --------------------------------------------------------------------------------------
# The three faces agree on every rule ledger.


@pytest.fixture(scope="module")
def fava_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the rule ledgers (and the rules they name) with the review pages
    registered, so Fava serves each as a reviewer would see it."""
    root = tmp_path_factory.mktemp("faces")
    shutil.copy(ROOT / "rules.yaml", root / "rules.yaml")
    shutil.copy(ROOT / "calendar.yaml", root / "calendar.yaml")
    shutil.copytree(LEDGERS, root / "tests" / "ledgers")
    for path in (root / "tests" / "ledgers" / "rules").glob("*/*.beancount"):
        with path.open("a", encoding="utf-8") as out:
            out.write(f"\n2000-01-01 {EXTENSION_LINE}\n")
    return root


def _key(rule: str, severity: str, message: str, lineno: int | None) -> tuple[str, str, str, int]:
    return (rule, severity, message, int(lineno or 0))


@pytest.mark.parametrize("path", RULE_LEDGERS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_bean_check_zbd_check_and_fava_report_the_same_findings(path: Path, fava_tree: Path) -> None:
    # bean-check: the plugin's errors (warnings never fail it).
    _, errors, options = loader.load_file(str(path))
    analysis = result_of(options)
    assert analysis is not None
    plugin_errors = sorted(
        (e.message, int(e.source["lineno"])) for e in errors if isinstance(e, ZhubaodaiError)
    )
    # zbd check --format json: every finding.
    result = zbd("check", path, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    shown = json.loads(result.stdout)["findings"]
    cli = sorted(_key(f["rule"], f["severity"], f["message"], f["lineno"]) for f in shown)
    # The Fava compliance page of the same ledger (its CSV lists the page's findings).
    copy = fava_tree / path.relative_to(ROOT)
    app = create_app([str(copy)], read_only=True, poll_watcher=True)  # no inotify handle per app
    client = app.test_client()
    prefix = "/" + client.get("/").location.strip("/").split("/")[0]
    response = client.get(f"{prefix}/extension/Zbd6Compliance/findings.csv")
    assert response.status_code == 200, response.get_data(as_text=True)[-500:]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))[1:]
    labels = {"错误": "error", "警告": "warning"}
    fava = sorted(_key(r[1], labels[r[0]], r[7], int(r[9] or 0)) for r in rows)

    # The page names metadata fields in Chinese (zhubaodai.core.labels); otherwise the same words.
    reviewer = sorted(
        _key(f["rule"], f["severity"], f["message"] if f["rule"] == FORMAT_RULE else for_reviewer(f["message"]), f["lineno"])
        for f in shown
    )
    assert reviewer == fava
    errors_shown = sorted(
        (f"[{f['rule']}] {f['citation']}：{f['message']}", int(f["lineno"] or 0))
        for f in shown
        if f["severity"] == "error"
    )
    assert errors_shown == plugin_errors
    assert cli == sorted(_key(f.rule, f.severity, f.message, f.lineno) for f in analysis.findings)


# --------------------------------------------------------------------------------------
# One run per load, whichever face asked.


def test_zbd_check_runs_the_engine_once(runs: list[int]) -> None:
    result = zbd("check", DEMO, "--format", "json")
    assert result.exit_code == 0, result.output
    assert len(runs) == 1


def test_zbd_report_runs_the_engine_once(runs: list[int], tmp_path: Path) -> None:
    result = zbd("report", DEMO, "--period", "2025Q4", "-o", tmp_path / "r.xlsx")
    assert result.exit_code == 0, result.output
    assert len(runs) == 1


def test_zbd_stress_runs_the_engine_once(runs: list[int]) -> None:
    result = zbd(
        "stress", DEMO, "--date", "2025-12-31", "--program", "CQGX",
        "--default-rate", "5%", "--recovery-rate", "0.3",
    )
    assert result.exit_code == 0, result.output
    assert len(runs) == 1


def test_every_fava_page_of_a_load_reads_the_plugins_run(runs: list[int]) -> None:
    from zhubaodai.fava import PAGES

    app = create_app([str(DEMO)], read_only=True)
    client = app.test_client()
    prefix = "/" + client.get("/").location.strip("/").split("/")[0]
    assert len(runs) == 1  # Fava's load: the plugin
    for name in PAGES:
        response = client.get(f"{prefix}/extension/{name}/")
        assert response.status_code == 200, name
    assert client.get(f"{prefix}/options/").status_code == 200  # the options page still renders
    options = client.get(f"{prefix}/api/options").get_json()["data"]["beancount_options"]
    assert options[OPTIONS_KEY].startswith("规则引擎本次加载的检查结果")  # one short line
    assert len(runs) == 1


def test_fava_prepares_the_review_pages_while_it_loads(runs: list[int]) -> None:
    """Once per (re)load, in Fava's after_load_file hook, before any page: the load's
    analysis is indexed and its loans' daily balances built, then the objects alive are
    collected once and frozen, so no page pays for a full collection of the whole load
    (at 10k transactions that was the first review page's whole excess). A reload unfreezes
    the previous load's objects before freezing again: its garbage is not kept."""
    import gc

    from zhubaodai.fava import analysis as fava_analysis

    gc.unfreeze()
    app = create_app([str(DEMO)], read_only=True, poll_watcher=True)
    fava_ledger = app.config["LEDGERS"].ledgers[0]
    slot = fava_analysis._SLOTS[id(fava_ledger)]
    assert slot.entries is fava_ledger.all_entries and slot.result is not None  # indexed before any request
    assert slot.result.analysis._outstanding is not None  # the daily balances too
    assert len(runs) == 1  # the plugin's run, read, not repeated
    frozen = gc.get_freeze_count()
    assert frozen > 50_000  # the load's objects are out of later collections
    first = fava_ledger.all_entries
    fava_ledger.load_file()  # what Fava does when the ledger's files change
    assert fava_ledger.all_entries is not first and slot.entries is fava_ledger.all_entries
    assert len(runs) == 2  # the reload's own plugin run
    assert abs(gc.get_freeze_count() - frozen) < frozen // 2  # re-frozen, not doubled by the old load
    gc.unfreeze()


def test_the_result_never_lands_in_beancounts_cache(tmp_path: Path) -> None:
    """Pickled (Beancount's cache of a load), the result comes back empty, so a cached load
    is never read as a current analysis; its text is one short Chinese line for Fava's
    options page."""
    _, _, options = loader.load_file(str(DEMO))
    found = options[OPTIONS_KEY]
    assert isinstance(found, LoadResult) and found.analysis is not None
    assert "规则引擎" in str(found) and len(str(found)) < 80
    again = pickle.loads(pickle.dumps(options))
    assert isinstance(again[OPTIONS_KEY], LoadResult) and again[OPTIONS_KEY].analysis is None
    assert result_of(again) is None
    assert len(pickle.dumps(found)) < 100


def test_other_rules_than_the_plugins_are_not_passed_off_as_its_run(tmp_path: Path) -> None:
    _, _, options = loader.load_file(str(DEMO))
    assert result_of(options, rules_path=str(ROOT / "rules.yaml")) is not None
    assert result_of(options, rules_path=str(tmp_path / "other.yaml")) is None


# --------------------------------------------------------------------------------------
# No way around the rules.

COMMON = f'include "{LEDGERS / "common" / "cqgx.beancount"}"'
HEAD = f"""option "operating_currency" "CNY"
plugin "zhubaodai.plugin" "{{'rules': '{ROOT / "rules.yaml"}'}}"
{COMMON}

2024-01-02 custom "program" "open" "CQGX"
2024-01-02 * "财政局" "注入风险补偿金"
  Assets:CQGX:Pool:Risk        5000000.00 CNY
  Income:CQGX:Risk:Injection  -5000000.00 CNY
"""


def _load(tmp_path: Path, text: str):
    path = tmp_path / "main.beancount"
    path.write_text(text, encoding="utf-8")
    entries, errors, options = loader.load_file(str(path))
    return errors, result_of(options)


def test_a_pad_error_carries_the_pad_for_bean_check_and_fava(tmp_path: Path) -> None:
    errors, _ = _load(
        tmp_path,
        HEAD + "2024-02-01 pad Assets:CQGX:Pool:Risk Assets:Cash:Outside\n"
        "2024-02-02 balance Assets:CQGX:Pool:Risk 4900000.00 CNY\n",
    )
    ours = [e for e in errors if isinstance(e, ZhubaodaiError)]
    assert len(ours) == 1 and ours[0].entry is not None
    assert type(ours[0].entry).__name__ == "Pad" and ours[0].source["lineno"] == 9
    assert [e for e in errors if not isinstance(e, ZhubaodaiError)] == []  # bean-check alone passed it


def test_a_pad_outside_the_pool_is_fine(tmp_path: Path) -> None:
    text = HEAD + (
        "2021-01-01 open Equity:Other CNY\n"
        "2024-02-01 pad Assets:Cash:Outside Equity:Other\n"
        "2024-02-02 balance Assets:Cash:Outside 100.00 CNY\n"
    )
    errors, analysis = _load(tmp_path, text)
    assert errors == [] and analysis is not None and analysis.findings == []


@pytest.mark.parametrize(
    ("assertion", "ours", "beancounts"),
    [
        ("5000000.00 CNY", 0, 0),
        ("5000000.01 CNY", 1, 0),  # tolerated by Beancount: ours
        ("4999999.99 CNY", 1, 0),
        ("5000000.02 CNY", 0, 1),  # Beancount's own error, not repeated
        ("5000000.50 ~ 1.00 CNY", 1, 0),  # an explicit tolerance does not apply to the pool
        ("5000000 CNY", 0, 0),
    ],
)
def test_pool_balance_assertions_hold_to_the_fen(
    tmp_path: Path, assertion: str, ours: int, beancounts: int
) -> None:
    errors, _ = _load(tmp_path, HEAD + f"2024-02-01 balance Assets:CQGX:Pool {assertion}\n")
    assert len([e for e in errors if isinstance(e, ZhubaodaiError)]) == ours
    assert len([e for e in errors if not isinstance(e, ZhubaodaiError)]) == beancounts


def test_in_raw_plugin_mode_every_pool_difference_is_ours(tmp_path: Path) -> None:
    """With plugin_processing_mode raw Beancount checks no balance at all."""
    text = 'option "plugin_processing_mode" "raw"\n' + HEAD + "2024-02-01 balance Assets:CQGX:Pool 4000000.00 CNY\n"
    errors, _ = _load(tmp_path, text)
    assert len(errors) == 1 and isinstance(errors[0], ZhubaodaiError)
    assert "差额 -1,000,000.00 元" in errors[0].message


def test_a_balance_outside_the_pool_is_beancounts_business(tmp_path: Path) -> None:
    errors, _ = _load(tmp_path, HEAD + "2024-02-01 balance Assets:Cash:Outside 0.01 CNY\n")
    assert errors == []


@pytest.mark.parametrize(
    ("plugin", "failing"),
    [
        ("beancount.plugins.auto_accounts", True),
        ("beancount.plugins.implicit_prices", True),
        ("beancount.plugins.nounused", False),
        ("beancount.plugins.check_commodity", False),
    ],
)
def test_a_plugin_after_ours_that_may_change_entries_is_an_error(
    tmp_path: Path, plugin: str, failing: bool
) -> None:
    errors, _ = _load(tmp_path, HEAD + f'plugin "{plugin}"\n')
    ours = [e for e in errors if isinstance(e, ZhubaodaiError)]
    assert bool(ours) == failing
    if failing:
        assert plugin in ours[0].message and "之后" in ours[0].message


def test_the_plugin_line_written_twice_checks_the_load_once(tmp_path: Path, runs: list[int]) -> None:
    """A second ``plugin "zhubaodai.plugin"`` line with the same rules: one engine run,
    each error said once (the second line has nothing to add)."""
    pad = "2024-02-01 pad Assets:CQGX:Pool:Risk Assets:Cash:Outside\n2024-02-02 balance Assets:CQGX:Pool:Risk 4900000.00 CNY\n"
    line = HEAD.splitlines()[1] + "\n"
    errors, analysis = _load(tmp_path, HEAD + line + pad)
    assert len(runs) == 1
    assert [type(e.entry).__name__ for e in errors if isinstance(e, ZhubaodaiError)] == ["Pad"]
    assert analysis is not None and len(analysis.findings) == 1


def test_a_plugin_before_ours_is_checked_with_the_entries(tmp_path: Path) -> None:
    text = 'plugin "beancount.plugins.auto_accounts"\n' + HEAD
    errors, _ = _load(tmp_path, text)
    assert errors == []


def test_a_pool_taken_over_from_paper_books_opens_with_ordinary_entries(tmp_path: Path) -> None:
    """docs/ledger-format.md §4.1: opening balances as one transaction, asserted to the fen."""
    doc = (ROOT / "docs" / "ledger-format.md").read_text(encoding="utf-8")
    section = doc[doc.index("### 4.1") : doc.index("## 5.")]
    block = section[section.index("```beancount") + len("```beancount") : section.index("```\n\n转入")]
    text = HEAD.split("\n2024-01-02")[0] + "\n" + block
    errors, analysis = _load(tmp_path, text)
    assert errors == [] and analysis is not None and analysis.findings == []
    assert analysis.programs["CQGX"].funds["guarantee"].balance == Decimal("1200000.00")
