"""beangulp regression tests: each statement beside the entries it must give.

Layout (beangulp's): ``tests/importers/<layout>/<statement>`` and its expected output
``<statement>.beancount``, written by :func:`beangulp.testing.write_expected` and compared
by :func:`beangulp.testing.compare_expected` after :func:`beangulp.testing.run_importer`
(which passes no existing entries, so the importer reads the test ledger named in its pool
configuration, ``tests/importers/ledger/``).

Every CCB layout (flat, 明细查询结果 with its two-row header, the export with totals above
the header) comes in every encoding (UTF-8, UTF-8 with BOM, GB18030) and format (.csv,
.xlsx with merged header cells, .xls); BOC (.csv and .xlsx), ICBC ([HISTORYDETAIL], the newer 账户明细 with 转入/转出 or 发生额 and a 借贷标志, the 对账单), ABC (账户明细
in its 9- and 15-column versions, and the 对账单 with a 借贷方 column), BOCOM (the current
and the older template, both with a 借贷标志 column and totals below the rows) as their
exports are laid out (tests/importers/make_fixtures.py says where each column set was
confirmed).
To regenerate after a deliberate change: ``ZBD_REGENERATE=1 pytest tests/test_importers_regression.py``
and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from beangulp import testing
from click.testing import CliRunner

from zhubaodai.importers.importer import PoolImporter

HERE = Path(__file__).parent / "importers"
POOLS = {
    "ccb-flat": "cqgx.yaml",
    "ccb-query": "cqgx.yaml",
    "ccb-detail": "cqgx.yaml",
    "boc": "wlht-boc.yaml",
    "icbc": "wlht-icbc.yaml",
    "icbc-detail": "wlht-icbc.yaml",
    "icbc-statement": "wlht-icbc.yaml",
    "abc": "wlht-abc.yaml",
    "abc-statement": "wlht-abc.yaml",
    "bocom": "wlht-bocom.yaml",
}
DOCUMENTS = [
    pytest.param(folder, doc, id=f"{folder}/{doc.name}")
    for folder in POOLS
    for doc in sorted((HERE / folder).iterdir())
    if not doc.name.endswith(".beancount")
]


def importer_for(folder: str) -> PoolImporter:
    return PoolImporter(HERE / "pools" / POOLS[folder])


@pytest.mark.parametrize(("folder", "doc"), DOCUMENTS)
def test_statement_gives_expected_entries(folder: str, doc: Path) -> None:
    importer = importer_for(folder)
    assert importer.identify(str(doc))
    account, date, name, entries = testing.run_importer(importer, str(doc))
    expected = doc.with_name(doc.name + ".beancount")
    if os.environ.get("ZBD_REGENERATE"):
        testing.write_expected_file(str(expected), account, date, name, entries, force=True)
    diff = testing.compare_expected(str(expected), account, date, name, entries)
    assert not diff, "".join(diff)


def test_every_layout_has_every_encoding_and_format() -> None:
    for folder in ("ccb-flat", "ccb-query", "ccb-detail"):
        names = {p.name for p in (HERE / folder).iterdir()}
        for variant in ("utf8.csv", "utf8-bom.csv", "gb18030.csv"):
            assert f"{folder}-{variant}" in names and f"{folder}-{variant}.beancount" in names
        for suffix in (".xlsx", ".xls"):
            assert f"{folder}{suffix}" in names and f"{folder}{suffix}.beancount" in names


def test_every_format_gives_the_same_entries() -> None:
    """The layouts, encodings and formats are one statement: the entries must agree."""
    texts = set()
    for folder in ("ccb-flat", "ccb-query", "ccb-detail"):
        for doc in (HERE / folder).glob("*.beancount"):
            lines = doc.read_text(encoding="utf-8").splitlines()
            texts.add("\n".join(lines[3:]))  # after the ;; Account/Date/Name header
    assert len(texts) == 1


@pytest.mark.parametrize("folder", list(POOLS))
def test_beangulp_test_command_passes(folder: str) -> None:
    """beangulp's own ``test`` command (testing.wrap) agrees with the expected files."""
    result = CliRunner().invoke(testing.wrap(importer_for(folder)), ["test", str(HERE / folder)])
    assert result.exit_code == 0, result.output
    assert "PASSED" in result.output and "ERROR" not in result.output
