"""Which bin each value falls in: ``np.searchsorted(edges, values, side="left")``, faster.

A binary search over a hundred edges costs about 30 ns a value (a hard-to-predict branch at
each of seven steps), the largest part of profiling a numeric column. Here each value first
reads a guess from a table over 4,096 equal-width cells spanning the edges, then the guess is
checked against the two edges around it; only the values the check rejects (those in a cell
that an edge cuts, a few percent) are searched. The check makes the answer exact.
"""

from __future__ import annotations

import numpy as np

CELLS = 4096


def bin_positions(edges: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``np.searchsorted(edges, values, side="left")`` for strictly increasing ``edges``.

    >>> edges = np.array([1.0, 2.0, 4.0])
    >>> bin_positions(edges, np.array([0.5, 1.0, 1.5, 4.0, 9.0])).tolist()
    [0, 0, 1, 2, 3]
    """
    low, high = (float(edges[0]), float(edges[-1])) if len(edges) else (0.0, 0.0)
    with np.errstate(over="ignore", divide="ignore"):
        scale = CELLS / (high - low) if high > low else 0.0
    if len(edges) < 2 or not 0 < scale < np.inf or not len(values):
        return np.searchsorted(edges, values, side="left")
    with np.errstate(over="ignore", invalid="ignore"):
        cell = (values - low) * scale  # 0 at the first edge, CELLS at the last
    np.clip(cell, 0, CELLS, out=cell)  # NaN stays NaN: such values are searched below
    table = np.searchsorted(edges, low + np.arange(CELLS + 1) / scale, side="left")
    table[-1] = len(edges)  # the last cell is for values past the last edge
    guess = table[np.nan_to_num(cell, nan=0.0).astype(np.intp)]
    bounds = np.concatenate(([-np.inf], edges, [np.inf]))
    wrong = np.flatnonzero(~((bounds[guess] < values) & (values <= bounds[guess + 1])))
    guess[wrong] = np.searchsorted(edges, values[wrong], side="left")
    return guess
