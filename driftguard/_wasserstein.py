"""Normalised Wasserstein: how far mass moved, in reference standard deviations."""

from __future__ import annotations

import numpy as np

from ._method import Comparison, chi_square_p, ks_p
from ._profile import ColumnProfile

MIN_BINS_FOR_KS = 20
"""Below this many bins a numeric column is discrete; its p-value comes from chi-square."""


def wasserstein(reference: ColumnProfile, current: ColumnProfile) -> float:
    """Earth mover's distance between two profiles on the same bins.

    Mass is placed on the bin edges, the last bin's at the largest value seen; with bins
    at every distinct value this equals ``scipy.stats.wasserstein_distance``.
    """
    ref = np.asarray(reference.counts, float)
    cur = np.asarray(current.counts, float)
    if not ref.sum() or not cur.sum():
        return 0.0
    edges = np.asarray(reference.edges, float)
    extremes = [v for v in (reference.maximum, current.maximum) if v is not None]
    high = max([*extremes, edges[-1]]) if len(edges) else max(extremes, default=0.0)
    # Each bin's mass sits at its right edge (the last bin's at the largest value seen), so the
    # cumulative distributions differ, after each point, over the gap to the next point.
    points = np.concatenate([edges, [high]])
    gap_cdf = np.abs(np.cumsum(ref) / ref.sum() - np.cumsum(cur) / cur.sum())[:-1]
    return float(np.sum(gap_cdf * np.diff(points)))


class Wasserstein:
    """Effect: Wasserstein distance divided by the reference's standard deviation (0.1 = a tenth
    of one). p-value: Kolmogorov–Smirnov, or chi-square for discrete columns (few bins).

    >>> import numpy as np, pandas as pd, driftguard
    >>> rng = np.random.default_rng(0)
    >>> reference = driftguard.profile(pd.DataFrame({"x": rng.normal(0, 1, 20000)}))
    >>> current = driftguard.profile(pd.DataFrame({"x": rng.normal(0.2, 1, 20000)}), like=reference)
    >>> round(Wasserstein().compare(reference.columns["x"], current.columns["x"]).effect, 1)
    0.2
    """

    name = "wasserstein"
    kinds: tuple[str, ...] = ("numeric",)

    def __init__(self, threshold: float = 0.1) -> None:
        self.threshold = threshold

    def compare(self, reference: ColumnProfile, current: ColumnProfile) -> Comparison:
        scale = reference.std or 0.0
        distance = wasserstein(reference, current)
        effect = distance / scale if scale > 0 else (0.0 if distance == 0 else float("inf"))
        if len(reference.edges) + 1 >= MIN_BINS_FOR_KS:
            return Comparison(effect, ks_p(reference, current)[1], "ks")
        _, p_value = chi_square_p(np.asarray(reference.counts, float), np.asarray(current.counts, float))
        return Comparison(effect, p_value, "chi_square")
