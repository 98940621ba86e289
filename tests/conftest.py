"""Shared test set-up: the project's paths and its rules, loaded once.

Beancount's pickle cache is switched off for the whole run (tests load ledgers uncached,
as the benchmarks do); tests that exercise the cache switch it on for themselves.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from beancount import loader

from zhubaodai.core.rules import Rulebook
from zhubaodai.core.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
RULES_YAML = ROOT / "rules.yaml"
LEDGERS = ROOT / "tests" / "ledgers"

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
