"""Orchestration: runs over a store, built on the scoring code and the store's queries.

``populate`` (and the executors, work sources and failure detection it drives), merging
stores, building and re-checking the bundled release. This layer imports
``tfnas_db.scoring``, ``tfnas_db.db`` and ``tfnas_db.errors``; neither of those imports
it back (tests/test_layers.py).
"""
