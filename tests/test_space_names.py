"""No generic file names a search space: a new space is one module, not edits elsewhere.

The generic folders (store, jobs, searches, scorers, CLI, dashboard, API) talk to spaces
through ``SearchSpaceInfo`` only. This test reads their code (names and string literals;
comments and docstrings may use a space as an example) and fails on any space's name or
module. Two places are specific by nature and named here: the readers of each
benchmark's file formats (``interop/``) and the ``import`` command that offers one
subcommand per format (``cli/import_cmd.py``).
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from tfnas_db.scoring.spaces import BUILTIN_SPACES, SPACES

ROOT = Path(__file__).resolve().parents[1]
GENERIC = ("db", "jobs", "search", "cli", "dashboard", "tfnas_db", "scoring", "alembic")
SPECIFIC = {Path("cli/import_cmd.py")}
SPECIFIC_FOLDERS = (Path("scoring/spaces"),)


def _forbidden() -> re.Pattern[str]:
    names = set(SPACES)
    names |= {module.rsplit(".", 1)[-1] for module in BUILTIN_SPACES}
    names |= {name.replace("-", "_") for name in names}
    return re.compile("|".join(sorted(map(re.escape, names), key=len, reverse=True)))


def _code_tokens(source: str) -> list[tuple[int, str]]:
    """Names and string literals, without comments and docstrings."""
    out = []
    previous = tokenize.INDENT
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        is_docstring = token.type == tokenize.STRING and previous in (
            tokenize.INDENT,
            tokenize.NEWLINE,
            tokenize.NL,
            tokenize.DEDENT,
        )
        if token.type in (tokenize.NAME, tokenize.STRING) and not is_docstring:
            out.append((token.start[0], token.string))
        if token.type not in (tokenize.COMMENT, tokenize.NL):
            previous = token.type
    return out


def test_generic_code_names_no_space() -> None:
    pattern = _forbidden()
    hits = []
    for folder in GENERIC:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative in SPECIFIC or any(p in relative.parents for p in SPECIFIC_FOLDERS):
                continue
            for line, text in _code_tokens(path.read_text(encoding="utf-8")):
                if pattern.search(text):
                    hits.append(f"{relative}:{line}: {text[:80]}")
    assert not hits, "generic code names a space:\n" + "\n".join(hits)


def test_the_check_sees_a_space_name_in_code_but_not_in_a_docstring() -> None:
    pattern = _forbidden()
    source = 'def f():\n    """on nats-tss"""\n    return get("nats-tss")  # nats-tss\n'
    found = [text for _, text in _code_tokens(source) if pattern.search(text)]
    assert found == ['"nats-tss"']
