"""Shared test set-up: the project's paths and its rules, loaded once.

Beancount's pickle cache is switched off for the whole run (tests load ledgers uncached,
as the benchmarks do); tests that exercise the cache switch it on for themselves.
"""

from __future__ import annotations

from pathlib import Path

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
