"""tfnas-db: a precomputed database of training-free NAS scores.

The import package maps the repository's top-level folders (``scoring/``, ``db/``,
``jobs/``, ``interop/``, ``search/``, ``cli/``, ``dashboard/``, ``alembic/``, ``data/``) to
``tfnas_db.<name>`` so that no generic top-level module names (``db``, ``search``...) leak
into site-packages. Imports between them go one way (tests/test_layers.py).

``tfnas_db.open()`` is the notebook entry point (:mod:`tfnas_db.api`); it is imported on
first use so that ``import tfnas_db`` stays instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tfnas_db.version import __version__

if TYPE_CHECKING:
    from tfnas_db.api import TfnasStore

__all__ = ["__version__", "open"]


def open(url: str | None = None) -> TfnasStore:
    """Open the store at ``url`` (SQLite path or database URL; default ``$TFNAS_DB_URL`` or
    ``./tfnas.db``) and return a :class:`tfnas_db.api.TfnasStore`."""
    from tfnas_db.api import open as open_api

    return open_api(url)
