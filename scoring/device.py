"""Which torch device a run scores on, checked before any row is written.

A device torch cannot use (``tpu``, a typo, ``cuda`` on a machine without a GPU) would
otherwise fail every architecture in turn and fill the store with ``error`` rows under a
run that looks finished; refusing it up front costs one tiny allocation.
"""

from __future__ import annotations

import re

from tfnas_db.errors import TfnasError

# Device types a network can be scored on; others torch parses (meta, xla, ...) either
# compute nothing or need a backend tfnas-db does not set up.
SCORING_DEVICE_TYPES = ("cpu", "cuda", "xpu", "mps")


_DEVICE_SYNTAX = re.compile(rf"^(auto|({'|'.join(SCORING_DEVICE_TYPES)})(:\d+)?)$")


def check_device_syntax(device: str | None) -> None:
    """The part of the device check that needs no torch: runs whose scorers build no
    network (and so never import torch) still refuse a device that cannot exist."""
    if device is not None and not _DEVICE_SYNTAX.match(device.strip()):
        raise TfnasError(
            f"--device {device!r} is not a device tfnas-db scores on: use cpu, cuda, cuda:N or mps"
        )


def available_devices() -> list[str]:
    """The devices this machine offers torch, for the error message and the docs."""
    import torch

    found = ["cpu"]
    for kind in ("cuda", "xpu"):
        backend = getattr(torch, kind, None)
        if backend is not None and backend.is_available():
            found += [kind] + [f"{kind}:{i}" for i in range(backend.device_count())]
    if torch.backends.mps.is_available():
        found.append("mps")
    return found


def _count_of(kind: str) -> int:
    import torch

    if kind == "mps":
        return 1 if torch.backends.mps.is_available() else 0
    backend = getattr(torch, kind, None)
    return backend.device_count() if backend is not None and backend.is_available() else 0


def resolve_device(device: str | None) -> str:
    """``--device`` -> a device torch can score on here (default: ``cuda`` if present).

    Raises a one-line :class:`TfnasError` naming the devices available, before any
    network is built or any row written.
    """
    import torch

    if device in (None, "", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    text = device.strip()
    hint = f"use one of: {', '.join(available_devices())}"
    try:
        parsed = torch.device(text)
    except (RuntimeError, ValueError):
        raise TfnasError(f"--device {device!r} is not a torch device; {hint}") from None
    if parsed.type not in SCORING_DEVICE_TYPES:
        raise TfnasError(f"--device {device!r} cannot score networks; {hint}")
    if parsed.type != "cpu":
        count = _count_of(parsed.type)
        if count == 0:
            raise TfnasError(f"--device {device!r}: torch sees no {parsed.type} device; {hint}")
        if parsed.index is not None and parsed.index >= count:
            raise TfnasError(
                f"--device {device!r}: torch sees {count} {parsed.type} device(s), "
                f"numbered from 0; {hint}"
            )
    try:
        torch.zeros(1, device=parsed).add_(1)
    except Exception as exc:  # a broken driver, a busy device...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TfnasError(f"--device {device!r} failed a test allocation: {first}") from None
    return text
