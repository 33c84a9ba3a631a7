"""The store: schema (models + alembic), opening and upgrading it, and every query.

Public names are re-exported here; the CLI and the dashboard import from this facade.
"""

from tfnas_db.db.store import Store, check_schema, open_store, resolve_url, upgrade_schema

__all__ = ["Store", "check_schema", "open_store", "resolve_url", "upgrade_schema"]
