"""The engine's result on every ledger the tests keep, as a snapshot to compare against.

A change to the engine's structure or speed must not change what it finds or records.
This script renders, for every ledger in tests/ and ledger/ that enables the plugin, plus
synthetic ledgers made by ledgergen from fixed seeds:

* every finding (rule, severity, program, message, file relative to the repository, line);
* a SHA-256 of everything else the run leaves: each :class:`~zhubaodai.core.engine.Records`
  field, the funds' end-of-day series and flows by kind, the register.

``tests/test_engine_snapshot.py`` compares the current engine with the stored snapshot
(tests/snapshots/engine.json). Regenerate it only for a change meant to alter results::

    .venv/bin/python -m zhubaodai.scripts.engine_snapshot --write
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from beancount import loader

from zhubaodai.core.engine import Analysis
from zhubaodai.core.engine import result_of

ROOT = Path(os.environ.get("ZBD_ROOT") or Path(__file__).resolve().parent.parent)
SNAPSHOT = ROOT / "tests" / "snapshots" / "engine.json"
#: Synthetic ledgers: (transactions, seed).
SYNTHETIC = ((1_000, 1), (3_000, 7))
PLUGIN_LINE = 'plugin "zhubaodai.plugin"'


def ledgers() -> list[Path]:
    """Every ledger kept in the repository whose top file enables the plugin."""
    found = []
    for folder in ("tests", "ledger"):
        for path in sorted((ROOT / folder).rglob("*.beancount")):
            if PLUGIN_LINE in path.read_text(encoding="utf-8"):
                found.append(path)
    return found


def _where(meta: Any, root: Path) -> str:
    filename = str(meta.get("filename", ""))
    try:
        filename = str(Path(filename).relative_to(root))
    except ValueError:
        filename = Path(filename).name
    return f"{filename}:{meta.get('lineno')}"


def _canon(value: Any, root: Path, depth: int = 0) -> Any:
    """A JSON-able, identity-free rendering of a record (entries by file:line, loans by id)."""
    name = type(value).__name__
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (Decimal, float)):
        return str(value)
    if isinstance(value, (datetime.date,)):
        return value.isoformat()
    if hasattr(value, "meta") and hasattr(value, "date") and isinstance(getattr(value, "meta"), dict):
        return f"{name}@{_where(value.meta, root)}"  # a Beancount directive
    if name == "Loan":
        return f"Loan:{value.id}"
    if name == "Event":
        return f"Event:{value.kind}:{value.subject}:{value.date}@{_where(value.entry.meta, root)}"
    if depth > 12:
        return f"<{name}>"
    if dataclasses.is_dataclass(value):
        return {
            "_": name,
            **{f.name: _canon(getattr(value, f.name), root, depth + 1) for f in dataclasses.fields(value)},
        }
    if isinstance(value, dict):
        return [[_canon(k, root, depth + 1), _canon(v, root, depth + 1)] for k, v in value.items()]
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_canon(v, root, depth + 1) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if hasattr(value, "__slots__"):
        return {"_": name, **{s: _canon(getattr(value, s, None), root, depth + 1) for s in value.__slots__ if not s.startswith("__")}}
    return repr(value)


def _digest(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def render(analysis: Analysis, root: Path) -> dict[str, Any]:
    """One ledger's snapshot: findings in full, everything else as digests."""
    findings = [
        [f.rule, f.severity, f.program, f.message, _where({"filename": f.filename, "lineno": f.lineno}, root)]
        for f in analysis.findings
    ]
    def values(name: str) -> Any:
        found = getattr(analysis.records, name)
        return list(found.values()) if name == "claims" else found  # keyed by id(): not stable

    records = {
        field.name: _digest(_canon(values(field.name), root))
        for field in dataclasses.fields(analysis.records)
        if field.name != "claims_by_loan"  # an index of ``claims``
    }
    state = {
        code: {
            "funds": {fund: [[d.isoformat(), str(b)] for d, b in series.series()] for fund, series in s.funds.items()},
            "flows": sorted([f"{fund}/{kind}", str(v)] for (fund, kind), v in s.flows.items()),
            "unallocated": sorted([a, str(v)] for a, v in s.unallocated.items()),
            "last_interest_end": str(s.last_interest_end),
        }
        for code, s in analysis.programs.items()
    }
    # Only the programs the ledger moves money in: a program added to rules.yaml leaves
    # every other ledger's digest as it was (its state there is empty).
    state = {
        code: value for code, value in state.items()
        if any(value["funds"].values()) or value["flows"] or value["unallocated"] or value["last_interest_end"] != "None"
    }
    register = {
        "loans": [[i, l.program, l.enterprise, [_canon(e, root) for e in l.events]] for i, l in analysis.register.loans.items()],
        "enterprises": sorted(analysis.register.enterprises),
    }
    return {
        "findings": findings,
        "records": records,
        "state": _digest(state),
        "register": _digest(register),
    }


def analyse_file(path: Path, root: Path = ROOT) -> dict[str, Any]:
    _, _, options = loader.load_file(str(path))
    analysis = result_of(options)
    if analysis is None:
        raise SystemExit(f"{path}: 插件没有运行（规则文件有误？）")
    return render(analysis, root)


def synthetic(folder: Path) -> Iterator[tuple[str, Path]]:
    from zhubaodai.scripts.ledgergen import generate

    for transactions, seed in SYNTHETIC:
        path = folder / f"synthetic-{transactions}-{seed}.beancount"
        generate(path, transactions=transactions, seed=seed, rules=ROOT / "rules.yaml")
        yield f"synthetic:{transactions}:{seed}", path


def snapshot() -> dict[str, Any]:
    result = {str(p.relative_to(ROOT)): analyse_file(p) for p in ledgers()}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in synthetic(Path(tmp)):
            result[name] = analyse_file(path, Path(tmp))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="规则引擎结果快照：与 tests/snapshots/engine.json 比对，或重写它")
    parser.add_argument("--write", action="store_true", help="重写快照（只在有意改变检查结果时使用）")
    args = parser.parse_args(argv)
    current = snapshot()
    if args.write:
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(json.dumps(current, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"已写入 {SNAPSHOT}：{len(current)} 个账本")
        return 0
    stored = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    differ = sorted(k for k in set(stored) | set(current) if stored.get(k) != current.get(k))
    for key in differ:
        print(f"不同：{key}")
    print(f"{len(current)} 个账本，{len(differ)} 个与快照不同")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
