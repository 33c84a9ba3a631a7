"""tfnas-db: a precomputed database of training-free NAS scores.

The import package maps the repository's top-level folders (``db/``, ``scoring/``,
``search/``, ``cli/``, ``dashboard/``, ``alembic/``, ``data/``) to ``tfnas_db.<name>`` so
that no generic top-level module names (``db``, ``search``...) leak into site-packages.
"""

__version__ = "0.1.0"
