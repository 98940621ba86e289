"""What the project writes for spreadsheets carries no live formula from the ledger's text.

A loan id, an enterprise name or a narration is the accountant's text, not ours: written
as it is into a CSV download or an XLSX report, ``=HYPERLINK("http://x","y")`` (or any text
starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) would be run by the
spreadsheet program that opens the file. Every text cell we write goes through
:func:`inert`: such text gets a leading apostrophe, which spreadsheet programs show as
text and never evaluate (openpyxl, too, stores text starting with ``=`` as a formula
unless it is quoted). Numbers, dates and Decimals are left as they are: a negative amount
is a number, not a formula.

A file the project writes never replaces one it was not told to (:func:`write_new`): it is
written to a temporary file beside the target and linked into place only if the target
(even a dangling symbolic link) still does not exist, so a file that appeared while the
command ran is kept; with ``force`` the target is replaced in one rename (a symbolic link
itself is replaced, never the file it points to). Whatever stops the writing, Ctrl-C
included, the temporary file is removed.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

#: Leading characters a spreadsheet program reads as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """``value`` for a spreadsheet cell: text that could start a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def inert_row(row: Any) -> list[Any]:
    return [inert(value) for value in row]


#: Errors of os.link on file systems without hard links (then O_EXCL and a copy instead).
_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.EXDEV, errno.ENOSYS}


def write_new(path: str, save: Callable[[str], None], *, force: bool = False) -> None:
    """Have ``save`` write a temporary file beside ``path``, then put it at ``path``.

    Without ``force``, raises :class:`FileExistsError` (and keeps the file that is there)
    when ``path`` exists by then, as a file, a directory or a symbolic link, dangling or
    not. No temporary file is left behind, whatever ``save`` raises (KeyboardInterrupt too).
    """
    directory, name = os.path.split(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=directory)
    os.close(handle)
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # as an ordinary new file, not mkstemp's 0600
        save(temporary)
        if force:
            os.replace(temporary, path)
            return
        try:
            os.link(temporary, path, follow_symlinks=False)
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise
            _copy_exclusive(temporary, path)
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)


def _copy_exclusive(source: str, path: str) -> None:
    """Create ``path`` (failing if it exists) with ``source``'s bytes."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
    try:
        with os.fdopen(descriptor, "wb") as out, open(source, "rb") as data:
            shutil.copyfileobj(data, out)
    except BaseException:
        os.unlink(path)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
