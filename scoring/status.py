"""The outcome of scoring one architecture with one scorer.

It lives with the scoring code (the engine produces it) rather than with the store's
models, so that nothing in ``tfnas_db.scoring`` imports ``tfnas_db.db``; the models
(``Score.status``) import it from here, and ``tfnas_db.db.models`` still exports it.
"""

from __future__ import annotations

import enum


class ScoreStatus(enum.StrEnum):
    """Outcome of scoring one architecture: a finite value, a non-finite one, or a failure."""

    OK = "ok"
    NAN = "nan"
    ERROR = "error"
