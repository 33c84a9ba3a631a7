"""The feature maps after each stack of cells: what GenNAS's regression proxy task (and
ET-NAS's LossSlope) attach their heads to, for every network made of a stem and stacks of
cells in one ``nn.Sequential`` (``stage_ends``: the index just after each stack)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def stage_outputs(
    stem: Callable[[Any], Any],
    layers: Sequence[Callable[[Any], Any]],
    stage_ends: Sequence[int],
    x: Any,
) -> list[Any]:
    x = stem(x)
    outputs = []
    start = 0
    for end in stage_ends:
        for layer in layers[start:end]:
            x = layer(x)
        outputs.append(x)
        start = end
    return outputs
