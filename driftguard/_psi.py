"""Population Stability Index: the symmetric relative-entropy of bin shares, as in credit scoring."""

from __future__ import annotations

import numpy as np

from ._method import Comparison, aligned, chi_square_p, shares
from ._profile import ColumnProfile

SMOOTHING = 1e-4
"""Added to every share so an empty bin does not make the index infinite."""


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    ref, cur = shares(reference) + SMOOTHING, shares(current) + SMOOTHING
    return float(np.sum((cur - ref) * np.log(cur / ref)))


class PSI:
    """Effect: PSI over bins or categories (0.1: moderate shift, 0.25: large, by convention);
    p-value: chi-square on the same counts.

    >>> import pandas as pd, driftguard
    >>> reference = driftguard.profile(pd.DataFrame({"c": ["a"] * 50 + ["b"] * 50}))
    >>> current = driftguard.profile(pd.DataFrame({"c": ["a"] * 70 + ["b"] * 30}), like=reference)
    >>> round(PSI().compare(reference.columns["c"], current.columns["c"]).effect, 3)
    0.169
    """

    name = "psi"
    kinds: tuple[str, ...] = ("numeric", "categorical")

    def __init__(self, threshold: float = 0.1) -> None:
        self.threshold = threshold

    def compare(self, reference: ColumnProfile, current: ColumnProfile) -> Comparison:
        _, ref, cur = aligned(reference, current)
        return Comparison(psi(ref, cur), *chi_square_p(ref, cur)[1:])
