"""Shared test set-up: the project's paths and its rules, loaded once.

Beancount's pickle cache is switched off for the whole run (tests load ledgers uncached,
as the benchmarks do); tests that exercise the cache switch it on for themselves.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from beancount import loader

from zhubaodai.core.rules import Rulebook
from zhubaodai.core.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
RULES_YAML = ROOT / "rules.yaml"
LEDGERS = ROOT / "tests" / "ledgers"


#: The program of a loan in the literal tests, by its id's first two letters.
PROGRAM_OF = {"CQ": "CQGX", "WL": "WLHT"}


def literal_findings(analysis: Any, rule: str) -> list[tuple[str, str | None, tuple]]:
    """A rule's findings as (message, loan, figures), for tests that compare them with
    literal texts; each points at an entry and is its loan's program's (CQ-… CQGX,
    WL-… WLHT)."""
    chosen = [f for f in analysis.findings if f.rule == rule]
    for f in chosen:
        assert f.lineno is not None and f.date is not None, f
        assert f.loan is None or f.program == PROGRAM_OF[f.loan[:2]], f
    return [(f.message, f.loan, f.figures) for f in chosen]

loader.initialize(use_cache=False)


@pytest.fixture(scope="session")
def rulebook() -> Rulebook:
    """The project's rules.yaml."""
    return load_rules(RULES_YAML)


def importer_fixtures() -> ModuleType:
    """tests/importers/make_fixtures.py (the statement fixtures' generator), loaded once by
    its path: tests/ is not a package."""
    name = "zbd_make_fixtures"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).parent / "importers" / "make_fixtures.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


IMPORT_TESTS = ROOT / "tests" / "importers"


@pytest.fixture
def import_ledger(tmp_path: Path) -> Path:
    """A copy of the importer tests' ledger (tests/importers/ledger), its plugin pointed at
    the repository's rules.yaml."""
    target = tmp_path / "ledger"
    shutil.copytree(IMPORT_TESTS / "ledger", target)
    main = target / "main.beancount"
    text = main.read_text(encoding="utf-8")
    assert "'../../../rules.yaml'" in text
    main.write_text(text.replace("'../../../rules.yaml'", repr(str(RULES_YAML))), encoding="utf-8")
    return main


@dataclass(frozen=True)
class FavaImportPage:
    """Sets a ledger up for Fava's import page: an import-config module with the CQGX pool's
    importer (in Fava mode) and the ledger's ``import-config``/``import-dirs`` options."""

    folder: Path  # where the import-config module is written

    def setup(self, ledger: Path, dirs: str | Path, *, open_unidentified: bool = True) -> None:
        """``dirs`` as the option says it (absolute, or relative to the ledger);
        ``open_unidentified``: also open the unidentified-money accounts the importer books to."""
        config = self.folder / "import_config.py"
        config.write_text(
            "from zhubaodai.importers.importer import PoolImporter\n"
            f"CONFIG = [PoolImporter({str(IMPORT_TESTS / 'pools' / 'cqgx.yaml')!r}, fava=True)]\nHOOKS = []\n",
            encoding="utf-8",
        )
        with ledger.open("a", encoding="utf-8") as handle:
            handle.write(f'\n2021-01-01 custom "fava-option" "import-config" "{config}"\n')
            handle.write(f'2021-01-01 custom "fava-option" "import-dirs" "{dirs}"\n')
            if open_unidentified:
                handle.write("2021-01-01 open Income:CQGX:Unidentified CNY\n2021-01-01 open Expenses:CQGX:Unidentified CNY\n")

    def client(self, ledger: Path, dirs: str | Path, *, open_unidentified: bool = True) -> tuple[Any, str]:
        """Fava's application on the set-up ledger: its test client and the ledger's slug."""
        from fava.application import create_app

        self.setup(ledger, dirs, open_unidentified=open_unidentified)
        client = create_app([str(ledger)], load=True).test_client()
        return client, client.get("/").headers["Location"].strip("/").split("/")[0]


@pytest.fixture
def fava_import_page(tmp_path: Path) -> FavaImportPage:
    return FavaImportPage(tmp_path)
