"""Jensen–Shannon: the symmetric, bounded cousin of relative entropy.

This method reports the Jensen–Shannon **distance** (the square root of the divergence) in
**base 2**, so it lies in [0, 1]. Evidently reports the distance too (its default threshold is
0.1), while scipy's ``jensenshannon`` uses the natural logarithm unless told ``base=2`` and some
tools report the divergence (the square): the same threshold means different things there.
"""

from __future__ import annotations

from scipy.spatial import distance

from ._method import Comparison, aligned, chi_square_p, shares
from ._profile import ColumnProfile


class JensenShannon:
    """Effect: Jensen–Shannon distance, base 2; p-value: chi-square on the same counts.

    >>> import pandas as pd, driftguard
    >>> reference = driftguard.profile(pd.DataFrame({"c": ["a"] * 500 + ["b"] * 500}))
    >>> current = driftguard.profile(pd.DataFrame({"c": ["a"] * 300 + ["b"] * 700}), like=reference)
    >>> round(JensenShannon().compare(reference.columns["c"], current.columns["c"]).effect, 3)
    0.174
    """

    name = "jensen_shannon"
    kinds: tuple[str, ...] = ("numeric", "categorical")

    def __init__(self, threshold: float = 0.1) -> None:
        self.threshold = threshold

    def compare(self, reference: ColumnProfile, current: ColumnProfile) -> Comparison:
        _, ref, cur = aligned(reference, current)
        effect = (
            float(distance.jensenshannon(shares(ref), shares(cur), base=2))
            if ref.sum() and cur.sum()
            else 0.0
        )
        return Comparison(effect, *chi_square_p(ref, cur)[1:])
