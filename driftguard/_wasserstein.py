"""Normalised Wasserstein: how far mass moved, in reference standard deviations."""

from __future__ import annotations

import numpy as np
from scipy import stats

from ._method import Comparison, chi_square_p, ks_p
from ._profile import ColumnProfile

MIN_BINS_FOR_KS = 20
"""Below this many bins a numeric column is discrete; its p-value comes from chi-square."""


def wasserstein(reference: ColumnProfile, current: ColumnProfile) -> float:
    """Earth mover's distance between two profiles on the same bins.

    Each bin's mass sits at the mean of its own values (known from the bin's sum), on each
    side; the distance between those two weighted sets of points is exact. With one value
    per bin it equals ``scipy.stats.wasserstein_distance`` on the raw data.
    """
    ref_points, ref_weights = _atoms(reference)
    cur_points, cur_weights = _atoms(current)
    if not len(ref_points) or not len(cur_points):
        return 0.0
    return float(stats.wasserstein_distance(ref_points, cur_points, ref_weights, cur_weights))


def _atoms(column: ColumnProfile) -> tuple[np.ndarray, np.ndarray]:
    counts = np.asarray(column.counts, float)
    sums = np.asarray(column.sums, float) if column.sums else np.zeros_like(counts)
    filled = counts > 0
    return sums[filled] / counts[filled], counts[filled]


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
        test = chi_square_p(np.asarray(reference.counts, float), np.asarray(current.counts, float))
        return Comparison(effect, test.p_value, test.test)
