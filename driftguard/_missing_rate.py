"""Missing-rate change: a null burst is drift, even when the present values look the same."""

from __future__ import annotations

import numpy as np
from scipy import stats

from ._method import Comparison
from ._profile import ColumnProfile


class MissingRate:
    """Effect: the absolute change in the share of missing values (0.05 = five points);
    p-value: the two-proportion z-test, or Fisher's exact test where an expected count is below
    5 (a rare null in a small batch: the z-test's p-values there are several times too small).

    >>> import pandas as pd, driftguard
    >>> reference = driftguard.profile(pd.DataFrame({"x": [1.0] * 1000}))
    >>> current = driftguard.profile(pd.DataFrame({"x": [1.0] * 900 + [None] * 100}), like=reference)
    >>> result = MissingRate().compare(reference.columns["x"], current.columns["x"])
    >>> round(result.effect, 2), result.p_value < 1e-10
    (0.1, True)
    """

    name = "missing_rate"
    kinds: tuple[str, ...] = ("numeric", "categorical", "skipped")

    def __init__(self, threshold: float = 0.05) -> None:
        self.threshold = threshold

    def compare(self, reference: ColumnProfile, current: ColumnProfile) -> Comparison:
        n, m = reference.rows, current.rows
        if not n or not m:
            return Comparison(0.0, 1.0, "two_proportions")
        p1, p2 = reference.missing / n, current.missing / m
        pooled = (reference.missing + current.missing) / (n + m)
        if min(pooled, 1 - pooled) * min(n, m) < 5 and 0 < pooled < 1:
            table = [[reference.missing, reference.present], [current.missing, current.present]]
            return Comparison(abs(p2 - p1), float(stats.fisher_exact(table)[1]), "fisher_exact")
        spread = np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m))
        if spread == 0:
            return Comparison(abs(p2 - p1), 1.0 if p1 == p2 else 0.0, "two_proportions")
        z = (p2 - p1) / spread
        return Comparison(abs(p2 - p1), float(2 * stats.norm.sf(abs(z))), "two_proportions")
