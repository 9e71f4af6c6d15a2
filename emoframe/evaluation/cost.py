"""Accuracy against cost: which pipelines no other beats on both (the Pareto front). Pure."""

from __future__ import annotations

from collections.abc import Sequence


def pareto_front(points: Sequence[tuple[float | None, float | None]]) -> list[bool]:
    """For each (accuracy, cost) point, whether it is on the front: no other point has accuracy at least as
    high and cost at most as low with one of them strictly better. A point missing either figure is not."""
    out = []
    for i, (acc, cost) in enumerate(points):
        if acc is None or cost is None or acc != acc or cost != cost:
            out.append(False)
            continue
        beaten = any(
            j != i and a is not None and c is not None and a >= acc and c <= cost and (a > acc or c < cost)
            for j, (a, c) in enumerate(points)
        )
        out.append(not beaten)
    return out
