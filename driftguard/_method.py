"""What every column method shares: one comparison shape, and exact-count helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy import stats

from ._profile import ColumnProfile


@dataclass(frozen=True)
class Comparison:
    """A method's verdict inputs: ``effect`` is compared with the threshold, ``p_value`` with α.

    ``test`` names the test behind ``p_value`` (``ks``, ``chi_square``, ``two_proportions``).
    """

    effect: float
    p_value: float
    test: str
    note: str = ""


class ColumnMethod(Protocol):
    """A drift method for one column: ``compare`` two profiles on the same bins."""

    name: str
    kinds: tuple[str, ...]
    threshold: float

    def compare(self, reference: ColumnProfile, current: ColumnProfile) -> Comparison: ...


def aligned(reference: ColumnProfile, current: ColumnProfile) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Both profiles' exact counts of present values, on the union of their bins or categories."""
    ref, cur = reference.frequencies(), current.frequencies()
    keys = list(ref) + [k for k in cur if k not in ref]
    return (
        keys,
        np.array([ref.get(k, 0) for k in keys], float),
        np.array([cur.get(k, 0) for k in keys], float),
    )


def shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else counts


def chi_square_p(
    reference: np.ndarray, current: np.ndarray, min_expected: float = 5.0
) -> tuple[float, float]:
    """Chi-square test of homogeneity on exact counts; sparse bins pooled (Cochran's rule).

    >>> statistic, p = chi_square_p(np.array([500.0, 500.0]), np.array([300.0, 700.0]))
    >>> round(statistic, 1), p < 1e-6
    (83.3, True)
    """
    table = np.vstack([reference, current])
    table = table[:, table.sum(axis=0) > 0]
    totals = table.sum(axis=1, keepdims=True)
    if table.shape[1] < 2 or (totals == 0).any():
        return 0.0, 1.0
    expected = table.sum(axis=0) / table.sum() * totals
    sparse = (expected < min_expected).any(axis=0)
    if sparse.sum() > 1:
        table = np.hstack([table[:, ~sparse], table[:, sparse].sum(axis=1, keepdims=True)])
    if table.shape[1] < 2:
        return 0.0, 1.0
    statistic, p_value, _, _ = stats.chi2_contingency(table, correction=False)
    return float(statistic), float(p_value)


def ks_p(reference: ColumnProfile, current: ColumnProfile) -> tuple[float, float]:
    """Two-sample Kolmogorov–Smirnov on exact counts: D at every bin edge, asymptotic p-value.

    With bins at every distinct value this is scipy's ``ks_2samp(method="asymp")``; with coarser
    bins D can only be smaller, so the test errs towards no alarm.
    """
    ref = np.asarray(reference.counts, float)
    cur = np.asarray(current.counts, float)
    n, m = ref.sum(), cur.sum()
    if not n or not m:
        return 0.0, 1.0
    distance = float(np.max(np.abs(np.cumsum(ref) / n - np.cumsum(cur) / m)))
    effective = round(n * m / (n + m))
    return distance, float(stats.kstwo.sf(distance, effective))
