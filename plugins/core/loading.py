"""How a one-off command loads a ledger: Beancount's loader, without its pickle cache and
with the cyclic garbage collector paused.

``zbd`` and the import command load a ledger once and exit. Beancount's default loader
would write a pickle of the whole load next to the ledger (at 10k transactions that costs
more than the import itself) and read one back on the next run, whose load then lacks the
plugin's analysis (it never enters the cache) so the engine would run again. Both commands
therefore read the ledger from its text, as ``bean-check -C`` does.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from beancount import loader
from beancount.core.data import Directive


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a ledger loads.

    A load builds hundreds of thousands of long-lived objects (entries, postings, the
    engine's events) and hardly any garbage cycles; each full collection the allocations
    trigger walks all of them again (a fifth of a bare load's time). A command loads once
    and exits, so the collector is paused for the load and the objects that survive it are
    frozen (left out of later collections); the collector is restored as it was.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def load_uncached(path: str) -> tuple[list[Directive], list[Any], dict[str, Any]]:
    """``loader.load_file(path)`` without the pickle cache (neither read nor written), the
    collector paused. Raises what the loader raises (OSError, UnicodeDecodeError)."""
    loader.initialize(use_cache=False)
    with collector_paused():
        return loader.load_file(path)
