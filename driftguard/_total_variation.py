"""Total variation: the share of rows that would have to change category, less chance's share.

Total variation distance is half the summed absolute change of every category's share: 0.05
means five rows in a hundred would have to move to another category to turn one distribution
into the other. Unlike L-infinity (the largest single change) it sees a diffuse shift, where
each of a hundred categories moves a little. On small samples it is biased upward: two samples
of one population with 100 categories, 20,000 and 500 rows, are about 0.18 apart by chance alone.
So the effect is the distance less its expectation without drift, given both sample sizes and
the pooled counts (the mean over seeded draws of the batch from the pooled rows), floored at 0:
the same idea as Bergsma's correction of Cramér's V in ``ChiSquare``.
"""

from __future__ import annotations

import numpy as np

from ._l_infinity import category_changes
from ._method import SEED, Comparison, aligned, chi_square_p, null_draws
from ._profile import ColumnProfile

NULL_DRAWS = 200
"""Draws without drift that estimate the distance chance alone gives (standard error ≈ 0.001)."""


class TotalVariation:
    """Effect: total variation distance less its expectation without drift, floored at 0 (0.05:
    five rows in a hundred changed category beyond chance); p-value: chi-square on the same counts
    (a permutation p-value where counts are sparse). New and vanished categories are named in the
    note, with the raw distance and the part chance explains.

    >>> import numpy as np, pandas as pd, driftguard
    >>> rng = np.random.default_rng(0)
    >>> names = [f"c{i:02d}" for i in range(100)]
    >>> tilted = np.linspace(0.6, 1.4, 100) / 100  # every share moves a little: at most 0.4 points
    >>> reference = driftguard.profile(pd.DataFrame({"c": rng.choice(names, 20000)}))
    >>> batch = pd.DataFrame({"c": rng.choice(names, 10000, p=tilted / tilted.sum())})
    >>> current = driftguard.profile(batch, like=reference)
    >>> result = TotalVariation().compare(reference.columns["c"], current.columns["c"])
    >>> round(result.effect, 2), result.p_value < 0.001, result.note
    (0.07, True, 'total variation 0.119, 0.048 expected without drift')
    """

    name = "total_variation"
    kinds: tuple[str, ...] = ("numeric", "categorical")

    def __init__(self, threshold: float = 0.05) -> None:
        self.threshold = threshold

    def compare(self, reference: ColumnProfile, current: ColumnProfile) -> Comparison:
        keys, ref, cur = aligned(reference, current)
        _, p_value, test = chi_square_p(ref, cur)
        changes = category_changes(keys, ref, cur)
        if not ref.sum() or not cur.sum():
            return Comparison(0.0, p_value, test, changes)
        distance = float(total_variation(ref, cur))
        chance = expected_total_variation(ref, cur)
        note = f"total variation {distance:.3f}, {chance:.3f} expected without drift"
        return Comparison(
            max(0.0, distance - chance), p_value, test, "; ".join(filter(None, [note, changes]))
        )


def total_variation(reference: np.ndarray, current: np.ndarray) -> float | np.ndarray:
    """Half the L1 distance of the two rows' shares (one distance per row of ``current``)."""
    return 0.5 * np.abs(
        reference / reference.sum(axis=-1, keepdims=True) - current / current.sum(axis=-1, keepdims=True)
    ).sum(axis=-1)


def expected_total_variation(reference: np.ndarray, current: np.ndarray) -> float:
    """Mean distance between two samples of these sizes without drift: the batch's counts drawn
    (without replacement) from the pooled counts, the reference's what is left."""
    pooled = np.rint(reference + current).astype(np.int64)
    pooled = pooled[pooled > 0]
    current_total = int(round(float(current.sum())))
    drawn = null_draws(pooled, current_total, NULL_DRAWS, np.random.default_rng(SEED))
    return float(np.mean(total_variation(pooled - drawn, drawn)))
