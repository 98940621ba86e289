"""The engine finds and records exactly what the stored snapshot says, on every ledger.

tests/snapshots/engine.json holds, for every ledger in tests/ and ledger/ and for two
synthetic ledgers, every finding in full and digests of the records, the funds' daily
series and the register (scripts/engine_snapshot.py). A change to the engine's structure
or speed leaves it as it is; a change meant to alter results rewrites it on purpose
(``python -m zhubaodai.scripts.engine_snapshot --write``) and the diff shows what changed.
"""

from __future__ import annotations

import dataclasses
import json

from zhubaodai.core.engine import Records
from zhubaodai.scripts import engine_snapshot


def test_every_ledger_gives_the_snapshot_result() -> None:
    stored = json.loads(engine_snapshot.SNAPSHOT.read_text(encoding="utf-8"))
    current = engine_snapshot.snapshot()
    assert sorted(current) == sorted(stored)
    for key in sorted(current):
        assert current[key] == stored[key], key


def test_the_snapshot_notices_a_changed_finding() -> None:
    """The comparison is not vacuous: a finding's text is part of it."""
    stored = json.loads(engine_snapshot.SNAPSHOT.read_text(encoding="utf-8"))
    failing = [k for k, v in stored.items() if v["findings"]]
    assert len(failing) > 100
    assert all(len(v["records"]) == len(dataclasses.fields(Records)) - 1 for v in stored.values())  # claims_by_loan: an index
