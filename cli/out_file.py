"""Where ``--out`` writes, and what it refuses to overwrite.

An export must never cost the user data: ``--out`` naming the store it reads (or any
SQLite database) is refused unless forced; a regular file is written beside itself and
renamed into place (a failed export leaves the old file, not half a new one), through a
symlink to the file it points at; anything that is not a regular file (``/dev/stdout``,
a FIFO, ``/dev/null``, ``/dev/full``) is written straight to, never replaced, and its
write errors (no space left on device) are the command's error.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tfnas_db.errors import TfnasError

SQLITE_MAGIC = b"SQLite format 3\x00"


def _is_regular_or_absent(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)  # follows symlinks
    except FileNotFoundError:
        return True


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def check_out_path(out: Path, store_file: str | None = None, force: bool = False) -> None:
    """Refuse, before anything is read: a folder, a missing folder, the store itself or
    another SQLite database (unless ``force``)."""
    if out.is_dir():
        raise TfnasError(
            f"--out {out} is a folder: give a file name, e.g. --out {out / 'scores.csv'}"
        )
    if not out.parent.is_dir():
        raise TfnasError(f"--out {out}: folder {out.parent} does not exist; create it first")
    if not (out.exists() and _is_regular_or_absent(out)):
        return
    if store_file is not None and Path(store_file).exists() and out.samefile(store_file):
        raise TfnasError(f"--out {out} is the store being exported: give another file name")
    if _is_sqlite(out) and not force:
        raise TfnasError(
            f"--out {out} is an SQLite database: an export would replace it; give another "
            "file name, or --force to overwrite it"
        )


@contextmanager
def written_out(out: Path) -> Iterator[Path]:
    """The path to write the export to (see the module docstring for why these rules)."""
    try:
        if not _is_regular_or_absent(out):
            yield out  # a device or a pipe: write to it, never replace it
            return
        target = Path(os.path.realpath(out))
        part = target.with_name(f".{target.name}.part")
        try:
            yield part
            part.replace(target)
        finally:
            part.unlink(missing_ok=True)
    except OSError as exc:
        raise TfnasError(f"cannot write --out {out}: {exc.strerror or exc}") from None
