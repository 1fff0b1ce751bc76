"""Kolmogorov–Smirnov: the largest gap between the two cumulative distributions."""

from __future__ import annotations

from ._method import Comparison, ks_p
from ._profile import ColumnProfile


class KolmogorovSmirnov:
    """Effect: the KS distance D (in [0, 1]); p-value: the KS test on exact counts.

    >>> import numpy as np, pandas as pd, driftguard
    >>> rng = np.random.default_rng(0)
    >>> reference = driftguard.profile(pd.DataFrame({"x": rng.normal(0, 1, 5000)}))
    >>> current = driftguard.profile(pd.DataFrame({"x": rng.normal(0.5, 1, 5000)}), like=reference)
    >>> result = KolmogorovSmirnov().compare(reference.columns["x"], current.columns["x"])
    >>> round(result.effect, 2), result.p_value < 1e-10
    (0.22, True)
    """

    name = "ks"
    kinds: tuple[str, ...] = ("numeric",)

    def __init__(self, threshold: float = 0.1) -> None:
        self.threshold = threshold

    def compare(self, reference: ColumnProfile, current: ColumnProfile) -> Comparison:
        distance, p_value = ks_p(reference, current)
        return Comparison(distance, p_value, "ks")
