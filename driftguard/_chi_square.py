"""Chi-square: are the two samples' category (or bin) counts drawn from one distribution?"""

from __future__ import annotations

import numpy as np

from ._method import Comparison, aligned, chi_square_p
from ._profile import ColumnProfile


class ChiSquare:
    """Effect: Cramér's V for two samples with Bergsma's bias correction,
    ``sqrt(max(0, chi2 / n - (k - 1) / (n - 1)))`` over ``k`` bins (0.1: small by Cohen's rule),
    so many bins and small samples do not inflate it; p-value: the chi-square test of
    homogeneity on exact counts (a permutation p-value where counts are sparse).

    >>> import pandas as pd, driftguard
    >>> reference = driftguard.profile(pd.DataFrame({"c": ["a"] * 500 + ["b"] * 500}))
    >>> current = driftguard.profile(pd.DataFrame({"c": ["a"] * 300 + ["b"] * 700}), like=reference)
    >>> round(ChiSquare().compare(reference.columns["c"], current.columns["c"]).effect, 3)
    0.203
    """

    name = "chi_square"
    kinds: tuple[str, ...] = ("numeric", "categorical")

    def __init__(self, threshold: float = 0.1) -> None:
        self.threshold = threshold

    def compare(self, reference: ColumnProfile, current: ColumnProfile) -> Comparison:
        _, ref, cur = aligned(reference, current)
        statistic, p_value, test = chi_square_p(ref, cur)
        total = ref.sum() + cur.sum()
        bins = int(((ref + cur) > 0).sum())
        if total < 2:
            return Comparison(0.0, p_value, test)
        corrected = max(0.0, statistic / total - (bins - 1) / (total - 1))
        return Comparison(float(np.sqrt(corrected)), p_value, test)
