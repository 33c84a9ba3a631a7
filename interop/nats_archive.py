"""A user's NATS-Bench files, read through ``nats_bench`` one architecture at a time.

Two layouts exist. The fast-mode folder (``NATS-tss-v1_0-3ffb9-simple/``) holds
``meta.pickle.pbz2`` (the architecture list) and one ``<index>.pickle.pbz2`` per
architecture: it is read with ``nats_bench.create(..., fast_mode=True)`` and each
architecture is dropped from the API object once read, so memory stays that of one
architecture however many there are. The single archive (``NATS-tss-v1_0-3ffb9.pickle.pbz2``)
is one pickle, which Python can only load whole; its architectures are then turned into
``nats_bench`` results one by one and released as they go (the API's own constructor
would deep-copy the whole archive a second time). For bounded memory, use the folder.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tfnas_db.errors import TfnasError

if TYPE_CHECKING:
    from nats_bench.api_utils import ArchResults

META_FILE = "meta.pickle.pbz2"
_ARCH_FILE = re.compile(r"^(\d+)\.pickle\.pbz2$")
_SSS_CONFIG = re.compile(r"^\d+(:\d+)+$")
SPACE_LABELS = {"tss": "topology (tss)", "sss": "size (sss)"}
# Errors reading a pickle.pbz2 that mean "not a readable archive" (bad bz2 stream,
# truncated file, foreign pickle, wrong structure), as opposed to a bug in tfnas-db.
READ_ERRORS = (
    OSError,
    EOFError,
    pickle.UnpicklingError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    AssertionError,
    IndexError,
    ModuleNotFoundError,
)


@dataclass(frozen=True)
class ArchiveArch:
    """One architecture of an archive: its NATS index and string, and per training
    budget (``"12"``, ``"200"``...) the ``nats_bench`` results of every seed."""

    index: int
    arch_str: str
    results: dict[str, ArchResults]


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def space_of(meta_archs: list[Any], where: Path) -> str:
    """``tss`` or ``sss``, from what the archive's architecture list looks like."""
    if not meta_archs or not isinstance(meta_archs[0], str):
        raise TfnasError(f"{where} is not a NATS-Bench archive: its architecture list is empty")
    first = meta_archs[0]
    if first.startswith("|") and "~" in first:
        return "tss"
    if _SSS_CONFIG.match(first):
        return "sss"
    raise TfnasError(
        f"{where} is not a NATS-Bench archive: architecture {first!r:.60} is neither a "
        "topology string nor a channel configuration"
    )


SpaceCheck = Callable[[str], object]


def _check_space(found: str, wanted: str | None, where: Path, accept: SpaceCheck) -> str:
    if wanted is not None and wanted != found:
        raise TfnasError(
            f"{where} holds NATS-Bench {SPACE_LABELS[found]} data, not {SPACE_LABELS[wanted]}; "
            f"run with --space {found}"
        )
    accept(found)  # before the (long) reading: refuse a space the store cannot hold
    return found


class NatsArchive:
    """An opened archive: ``space``, ``meta_archs``, ``len()`` architectures to read, and
    iteration that yields them one at a time."""

    def __init__(self, path: Path, space: str, meta_archs: list[str], indices: list[int]):
        self.path = path
        self.space = space
        self.meta_archs = meta_archs
        self.indices = indices

    def __len__(self) -> int:
        return len(self.indices)

    def __iter__(self) -> Iterator[ArchiveArch]:
        raise NotImplementedError


class FolderArchive(NatsArchive):
    def __init__(self, path: Path, space: str, api: Any, indices: list[int]) -> None:
        super().__init__(path, space, list(api.meta_archs), indices)
        self._api = api

    def __iter__(self) -> Iterator[ArchiveArch]:
        api = self._api
        for index in self.indices:
            if index >= len(self.meta_archs):
                raise TfnasError(
                    f"{self.path}: file {index:06d}.pickle.pbz2 has no architecture in "
                    f"{META_FILE} (it lists {len(self.meta_archs)}); the folder is corrupted"
                )
            try:
                api.reload(str(self.path), index)
                results = api.arch2infos_dict.pop(index)
            except READ_ERRORS as exc:
                raise TfnasError(
                    f"{self.path}: architecture file {index:06d}.pickle.pbz2 is corrupted or not "
                    f"a NATS-Bench result ({_reason(exc)})"
                ) from None
            api.evaluated_indexes.discard(index)
            yield ArchiveArch(index, self.meta_archs[index], _released(results))


class FileArchive(NatsArchive):
    def __init__(self, path: Path, space: str, data: dict[str, Any]) -> None:
        self._infos: dict[int, dict[str, Any]] = data["arch2infos"]
        super().__init__(path, space, list(data["meta_archs"]), sorted(self._infos))

    def __iter__(self) -> Iterator[ArchiveArch]:
        from nats_bench.api_utils import ArchResults

        for index in self.indices:
            raw = self._infos.pop(index)  # released as it is read
            try:
                results = {
                    str(hp): ArchResults.create_from_state_dict(state) for hp, state in raw.items()
                }
                arch = self.meta_archs[index]
            except READ_ERRORS as exc:
                raise TfnasError(
                    f"{self.path}: architecture {index} is corrupted or not a NATS-Bench result "
                    f"({_reason(exc)})"
                ) from None
            yield ArchiveArch(index, arch, _released(results))


def _released(results: dict[str, ArchResults]) -> dict[str, ArchResults]:
    """Drop trained weights (``-full`` archives carry them): only figures are imported."""
    for result in results.values():
        result.clear_params()
    return results


def _open_folder(path: Path, space: str | None, accept: SpaceCheck) -> NatsArchive:
    import nats_bench

    meta = path / META_FILE
    if not meta.is_file():
        raise TfnasError(
            f"{path} is a folder but not a NATS-Bench fast-mode folder: it has no {META_FILE} "
            "(expected e.g. NATS-tss-v1_0-3ffb9-simple/)"
        )
    try:
        meta_archs = nats_bench.pickle_load(str(meta))["meta_archs"]
    except READ_ERRORS as exc:
        raise TfnasError(
            f"{meta} is corrupted or not NATS-Bench metadata ({_reason(exc)})"
        ) from None
    found = _check_space(space_of(meta_archs, path), space, path, accept)
    try:
        api = nats_bench.create(str(path), found, fast_mode=True, verbose=False)
    except READ_ERRORS as exc:
        raise TfnasError(f"cannot open {path} with nats_bench ({_reason(exc)})") from None
    indices = sorted(
        int(match.group(1))
        for entry in path.iterdir()
        if (match := _ARCH_FILE.match(entry.name)) is not None
    )
    if not indices:
        raise TfnasError(f"{path} has {META_FILE} but no architecture files (<index>.pickle.pbz2)")
    return FolderArchive(path, found, api, indices)


def _open_file(path: Path, space: str | None, accept: SpaceCheck) -> NatsArchive:
    import nats_bench

    try:
        data = nats_bench.pickle_load(str(path))
    except READ_ERRORS as exc:
        raise TfnasError(
            f"{path} is corrupted or not a NATS-Bench archive ({_reason(exc)}); expected "
            "NATS-tss-v1_0-3ffb9.pickle.pbz2 or a fast-mode folder"
        ) from None
    keys = ("meta_archs", "arch2infos", "evaluated_indexes")
    if not isinstance(data, dict) or any(key not in data for key in keys):
        hint = ""
        if isinstance(data, dict) and "meta_archs" in data:
            hint = f"; it looks like a fast-mode {META_FILE}: pass its folder"
        raise TfnasError(f"{path} is not a NATS-Bench archive: it lacks {', '.join(keys)}{hint}")
    found = _check_space(space_of(data["meta_archs"], path), space, path, accept)
    return FileArchive(path, found, data)


def open_archive(
    path: Path, space: str | None = None, accept: SpaceCheck = lambda _space: None
) -> NatsArchive:
    """The archive at ``path`` (a fast-mode folder or the single file); ``space`` (tss or
    sss), when given, must be what the archive holds; ``accept`` may refuse the space found
    (by raising) before any architecture is read."""
    if space is not None and space not in SPACE_LABELS:
        raise TfnasError(f"--space must be tss or sss, got {space!r}")
    if path.is_dir():
        return _open_folder(path, space, accept)
    if path.is_file():
        return _open_file(path, space, accept)
    raise TfnasError(
        f"no NATS-Bench file or folder at {path}; give the fast-mode folder "
        "(NATS-tss-v1_0-3ffb9-simple/) or the archive file (NATS-tss-v1_0-3ffb9.pickle.pbz2)"
    )
