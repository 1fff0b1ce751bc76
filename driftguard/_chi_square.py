"""Chi-square test of homogeneity with Jensen–Shannon distance as its effect size.

The test compares exact counts of two samples on the same bins or categories, missing values
included. Bins whose expected count is below five in either sample are pooled (Cochran's rule),
so many sparse categories do not raise false alarms. The effect size is the Jensen–Shannon
*distance* (square root of the divergence) in base 2, so it lies in [0, 1]; note that some
tools report the divergence, or use the natural logarithm, and their thresholds differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.spatial import distance

METHOD = "chi_square"


@dataclass(frozen=True)
class TestResult:
    statistic: float
    p_value: float
    effect: float


def chi_square(
    reference: Mapping[str, int], current: Mapping[str, int], *, min_expected: float = 5.0
) -> TestResult:
    """Compare two count tables.

    >>> r = chi_square({"a": 500, "b": 500}, {"a": 300, "b": 700})
    >>> round(r.effect, 3), r.p_value < 1e-6
    (0.174, True)
    """
    keys = sorted(set(reference) | set(current))
    table = np.array([[reference.get(k, 0) for k in keys], [current.get(k, 0) for k in keys]], dtype=float)
    table = _pool_sparse(table[:, table.sum(axis=0) > 0], min_expected)
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return TestResult(0.0, 1.0, 0.0)
    statistic, p_value, _, _ = stats.chi2_contingency(table, correction=False)
    proportions = table / table.sum(axis=1, keepdims=True)
    effect = float(distance.jensenshannon(proportions[0], proportions[1], base=2))
    return TestResult(float(statistic), float(p_value), effect)


def _pool_sparse(table: np.ndarray, min_expected: float) -> np.ndarray:
    """Merge the bins whose expected count falls below ``min_expected`` into one bin."""
    totals = table.sum(axis=1, keepdims=True)
    expected = table.sum(axis=0) / table.sum() * totals
    sparse = (expected < min_expected).any(axis=0)
    if sparse.sum() <= 1:
        return table
    pooled = table[:, sparse].sum(axis=1, keepdims=True)
    return np.hstack([table[:, ~sparse], pooled])
