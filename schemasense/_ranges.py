"""Numeric bounds and null-share caps learned from training statistics (rules in ``_infer``)."""

from __future__ import annotations

import math

import numpy as np

from ._statistics import ColumnStatistics

HEAVY_TAIL = 6.0
"""A side is heavy-tailed when its outer quantile lies this many times farther from the median
than its quartile (a normal column: 3.8; a log-normal one: 12.6)."""


def numeric_range(
    stats: ColumnStatistics, margin: float, tail_decades: float, *, unbounded_above: bool
) -> tuple[float | None, float | None]:
    """``(minimum, maximum)`` of a numeric column; see the module docstring of ``_infer``.

    >>> from schemasense._statistics import column_statistics
    >>> import pandas as pd
    >>> quantities = pd.Series([1, 1, 2, 2, 3, 3, 4, 6, 12, 24, 48, 100] * 50)
    >>> numeric_range(column_statistics("q", quantities), 2.0, 1.5, unbounded_above=False)
    (0.0, 3056.0)
    """
    low, quartile_low, median = stats.quantile(0.005), stats.quantile(0.25), stats.quantile(0.5)
    quartile_high, high = stats.quantile(0.75), stats.quantile(0.995)
    minimum = _bound(median, low, quartile_low, margin, tail_decades)
    if stats.minimum is not None and stats.minimum >= 0:
        minimum = max(minimum, 0.0)  # a sign never seen stays an error
    maximum = None if unbounded_above else _bound(median, high, quartile_high, margin, tail_decades)
    if stats.kind == "integer":
        return float(math.floor(minimum)), None if maximum is None else float(math.ceil(maximum))
    return round_out(minimum, up=False), None if maximum is None else round_out(maximum, up=True)


def _bound(median: float, outer: float, quartile: float, margin: float, tail_decades: float) -> float:
    """One side's bound: linear in its spread, or on a log scale when the side is heavy-tailed."""
    spread = outer - median
    if abs(spread) > HEAVY_TAIL * abs(quartile - median):
        # Multiplicative room: bulk orders stay in, a unit change (x100, x1000) still breaks it.
        return median + spread * 10**tail_decades
    return outer + margin * spread


def null_cap(stats: ColumnStatistics, floor: float, spread: float) -> float:
    """Largest share of missing values a batch may have.

    One batch: ``p + max(p, floor)``. Several: ``mean + spread * sd`` of the per-batch shares,
    at least ``p + floor``, so a column whose nulls swing from day to day keeps room for it.
    """
    rate = stats.null_fraction
    shares = np.array([b.nulls / b.rows for b in stats.batches if b.rows])
    if len(shares) < 2:
        cap = rate + max(rate, floor)
    else:
        cap = max(float(shares.mean() + spread * shares.std(ddof=1)), rate + floor)
    return min(1.0, math.ceil(cap * 10_000) / 10_000)


def grows(stats: ColumnStatistics) -> bool:
    """Each batch starts at or above the previous batch's median, and the medians rise."""
    batches = [b for b in stats.batches if b.median is not None]
    if len(batches) < 2:
        return False
    return all(
        b.low >= a.median and b.median > a.median  # type: ignore[operator]
        for a, b in zip(batches, batches[1:], strict=False)
    )


def round_out(bound: float, *, up: bool) -> float:
    """Round a bound outwards to four significant digits, so contracts read well (129.2, not 129.18518)."""
    if bound == 0 or not math.isfinite(bound):
        return bound
    step = 10 ** (math.floor(math.log10(abs(bound))) - 3)
    rounded = (math.ceil if up else math.floor)(round(bound / step, 9)) * step
    return float(f"{rounded:.12g}")
