"""Bank statement importers for the pool's special account (beangulp).

* :mod:`~zhubaodai.importers.config`: banks.yaml layouts and the pool import configurations;
* :mod:`~zhubaodai.importers.statement`: reading and checking a statement file;
* :mod:`~zhubaodai.importers.classify`: rows -> ledger entries, with the rule engine's figures;
* :mod:`~zhubaodai.importers.importer`: the beangulp ``Importer`` (CLI and Fava);
* :mod:`~zhubaodai.importers.cli`: ``python -m zhubaodai.importers`` and :func:`run_import`
  (what ``zbd import`` calls).

docs/importing.md is the user's guide.
"""
