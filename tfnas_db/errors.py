"""The exception every layer raises for bad input or environment.

The CLI turns it into one line on stderr and exit code 2, so messages must be complete
sentences that say what was wrong and, where possible, what to run instead.
"""

from __future__ import annotations


class TfnasError(Exception):
    """A user-facing error: bad input, a missing data folder, an out-of-date store..."""
