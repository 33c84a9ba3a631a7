"""The library's imports go one way: a layer imports only the layers below it and itself.

Bottom to top (a package may import its own layer and every layer listed before it)::

    layer  packages                                   may import (besides itself)
    -----  -----------------------------------------  ---------------------------
    low    tfnas_db.errors, tfnas_db.version,         nothing
           tfnas_db.data, tfnas_db.scoring
           (spaces, datasets, registry, scorers,
           engine, passes, context, minibatch,
           natural, synthetic_signals,
           regression_proxy, device, threads, status)
    db     tfnas_db.db (schema, models, every query,  low
           claims, seed, bootstrap, release loading,
           imports, coverage, integrity, ...),
           tfnas_db.alembic (migrations)
    jobs   tfnas_db.jobs (populate, work,             low, db
           executors, ray_executor, pending,
           failures, release_build, release_check,
           merge)
    over   tfnas_db.interop (importers of other       low, db
    db     tools' files), tfnas_db.search             (not jobs, nor each other)
    top    tfnas_db (the package root: ``open()``),   anything
           tfnas_db.api, tfnas_db.cli,
           tfnas_db.dashboard

``scoring`` computes the scores of one architecture; ``db`` stores and queries them;
``jobs`` drives runs over a store. Every module of the library is parsed with ``ast``:
imports at module level and inside functions, classes and ``if TYPE_CHECKING:`` blocks
alike, ``import x`` and ``from x import y`` (relative ones resolved). Imports named by a
string (``importlib.import_module``, ``"module:function"`` fields) are out of scope.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LOW, DB, JOBS, INTEROP, SEARCH, TOP = "low", "db", "jobs", "interop", "search", "top"

# Most specific prefix wins (tfnas_db.errors before the package root tfnas_db).
LAYER_OF: dict[str, str] = {
    "tfnas_db.errors": LOW,
    "tfnas_db.version": LOW,
    "tfnas_db.data": LOW,
    "tfnas_db.scoring": LOW,
    "tfnas_db.db": DB,
    "tfnas_db.alembic": DB,
    "tfnas_db.jobs": JOBS,
    "tfnas_db.interop": INTEROP,
    "tfnas_db.search": SEARCH,
    "tfnas_db.api": TOP,
    "tfnas_db.cli": TOP,
    "tfnas_db.dashboard": TOP,
    "tfnas_db": TOP,  # the package root (its lazy ``open()`` imports api)
}

ALLOWED: dict[str, set[str]] = {
    LOW: {LOW},
    DB: {LOW, DB},
    JOBS: {LOW, DB, JOBS},
    INTEROP: {LOW, DB, INTEROP},
    SEARCH: {LOW, DB, SEARCH},
    TOP: {LOW, DB, JOBS, INTEROP, SEARCH, TOP},
}


def layer_of(module: str) -> str | None:
    """The layer of a dotted module name, or None outside the library."""
    for prefix in sorted(LAYER_OF, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return LAYER_OF[prefix]
    return None


def package_dirs() -> dict[str, Path]:
    """Each import package's folder, from pyproject's ``[tool.setuptools.package-dir]``."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return {name: ROOT / folder for name, folder in config["package-dir"].items()}


def library_modules() -> dict[Path, str]:
    """Every ``.py`` file of the library and its dotted module name.

    A file belongs to the most specific package whose folder holds it (``scoring/spaces/x.py``
    is ``tfnas_db.scoring.spaces.x``); files in sub-folders that are not packages
    (``dashboard/views/``, streamlit pages shipped as package data) count as modules of
    the package above them.
    """
    dirs = package_dirs()
    modules: dict[Path, str] = {}
    for package, folder in sorted(dirs.items(), key=lambda item: len(item[0])):
        for path in sorted(folder.rglob("*.py")):
            rel = path.relative_to(folder)
            parts = [*rel.parts[:-1], rel.stem]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            # A package deeper in the mapping claims the file (it is visited later).
            modules[path] = ".".join([package, *parts])
    return modules


def imports_of(path: Path, module: str, known: set[str]) -> list[tuple[int, str]]:
    """(line, imported module) for every import statement anywhere in the file; ``known``
    (the library's module names) tells ``from pkg import submodule`` from a name."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            # ``from tfnas_db import api`` imports the module tfnas_db.api, not the root.
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.append((node.lineno, candidate if candidate in known else target))
    return list(dict.fromkeys(found))


def test_every_library_folder_is_mapped() -> None:
    """A new package in pyproject gets a layer here before it gets code."""
    unmapped = [name for name in package_dirs() if layer_of(name) is None]
    assert not unmapped, f"packages without a layer in tests/test_layers.py: {unmapped}"


def test_the_walk_sees_nested_and_relative_imports(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text(
        "import tfnas_db.errors\n"
        "from . import sibling\n"
        "def f():\n"
        "    from tfnas_db.jobs.populate import populate\n"
        "    class C:\n"
        "        import tfnas_db.cli.app\n"
        "from tfnas_db import api, __version__\n"
    )
    known = {"tfnas_db.api", "tfnas_db.db.sibling"}
    assert sorted(imports_of(source, "tfnas_db.db.mod", known)) == [
        (1, "tfnas_db.errors"),
        (2, "tfnas_db.db.sibling"),
        (4, "tfnas_db.jobs.populate"),
        (6, "tfnas_db.cli.app"),
        (7, "tfnas_db"),
        (7, "tfnas_db.api"),
    ]


def test_imports_go_one_way() -> None:
    modules = library_modules()
    known = set(modules.values())
    assert "tfnas_db.jobs.populate" in known and "tfnas_db.scoring.engine" in known
    offending = []
    for path, module in modules.items():
        layer = layer_of(module)
        assert layer is not None, module
        for line, target in imports_of(path, module, known):
            target_layer = layer_of(target)
            if target_layer is not None and target_layer not in ALLOWED[layer]:
                offending.append(
                    f"{path.relative_to(ROOT)}:{line}: {module} ({layer}) imports "
                    f"{target} ({target_layer})"
                )
    assert not offending, (
        "imports against the layering (see tests/test_layers.py's docstring):\n"
        + "\n".join(offending)
    )
