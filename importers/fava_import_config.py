"""Fava's import page configuration: one importer per pool (importers/pools/*.yaml).

Name it in the ledger's top file (Fava 1.30 reads these options)::

    2021-01-01 custom "fava-option" "import-config" "../importers/fava_import_config.py"
    2021-01-01 custom "fava-option" "import-dirs" "../importers/inbox"

Fava runs this file, takes ``CONFIG`` (the importers) and ``HOOKS``, lists the files in the
import folders each importer identifies, and extracts with the ledger's own entries (so
rows already in the ledger are left out and classification sees the register). An
importer error is shown as one unticked ``note`` with the Chinese message instead of a
traceback (``fava=True``). See docs/importing.md.
"""

from __future__ import annotations

from pathlib import Path

from zhubaodai.importers.importer import PoolImporter

POOLS = Path(__file__).resolve().with_name("pools")

CONFIG = [PoolImporter(path, fava=True) for path in sorted(POOLS.glob("*.yaml"))]

HOOKS: list = []
