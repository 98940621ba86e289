"""Bank statement importers for the special account (beangulp)."""
