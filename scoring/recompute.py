"""Activation recomputation (checkpointing) that the scorers' hooks can see through.

A network whose backward pass would hold too many activations (NAS-Bench-101's
128-channel network at batch 128 keeps about 26 MB per sample, 4.3 GB in all) may run
segments through :func:`checkpointed`: the segment's activations are dropped after the
forward and recomputed during the backward, so at most one segment's are alive at once.
The gradients are those of the plain network (the recomputation runs the same kernels on
the same inputs; tests compare every scorer both ways).

The recomputation runs the segment's modules again, which would fire the forward hooks
scorers attach (NASWOT's ReLU codes, the activations fisher keeps) a second time:
:func:`recomputing` is true while that happens, and those hooks return at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

_depth = [0]  # recomputations in progress (a counter: the backward may run elsewhere)
_kept = [0]  # passes that keep their activations anyway (see activations_kept)


def recomputing() -> bool:
    """True while a checkpointed segment is being recomputed for the backward pass."""
    return _depth[0] > 0


class activations_kept:
    """Within it, :func:`checkpointed` runs segments plainly. For passes that retain the
    activations themselves (fisher keeps every conv output and its gradient): there a
    recomputation would only add a second copy (measured: 5.1 GB instead of 4.3 GB for
    NAS-Bench-101's loss pass at batch 128)."""

    def __enter__(self) -> None:
        _kept[0] += 1

    def __exit__(self, *_exc: object) -> None:
        _kept[0] -= 1


class _Recomputation:
    """Marks a recomputation (a class, not a generator: torch may enter it again)."""

    def __enter__(self) -> None:
        _depth[0] += 1

    def __exit__(self, *_exc: object) -> None:
        _depth[0] -= 1


def _contexts() -> tuple[
    contextlib.AbstractContextManager[None], contextlib.AbstractContextManager[None]
]:
    return contextlib.nullcontext(), _Recomputation()


def checkpointed(segment: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """``segment(x)``, its activations recomputed in the backward pass when autograd
    records this forward; a plain call otherwise (no_grad scoring pays nothing)."""
    import torch
    from torch.utils.checkpoint import checkpoint

    if not torch.is_grad_enabled() or _kept[0]:
        return segment(x)
    out = checkpoint(segment, x, use_reentrant=False, context_fn=_contexts)
    return out  # type: ignore[no-any-return]
