"""L-infinity: the largest change in any one category's share (TFDV's categorical distance)."""

from __future__ import annotations

import numpy as np

from ._method import Comparison, aligned, chi_square_p, shares
from ._profile import OTHER, ColumnProfile


class LInfinity:
    """Effect: the largest absolute change of a category's share (0.05 = five points);
    p-value: chi-square on the same counts. New and vanished categories are named in the note.

    >>> import pandas as pd, driftguard
    >>> reference = driftguard.profile(pd.DataFrame({"c": ["a"] * 50 + ["b"] * 50}))
    >>> batch = pd.DataFrame({"c": ["a"] * 40 + ["b"] * 50 + ["z"] * 10})
    >>> current = driftguard.profile(batch, like=reference)
    >>> result = LInfinity().compare(reference.columns["c"], current.columns["c"])
    >>> round(result.effect, 2), result.note
    (0.1, "new categories: ['z']")
    """

    name = "l_infinity"
    kinds: tuple[str, ...] = ("numeric", "categorical")

    def __init__(self, threshold: float = 0.05) -> None:
        self.threshold = threshold

    def compare(self, reference: ColumnProfile, current: ColumnProfile) -> Comparison:
        keys, ref, cur = aligned(reference, current)
        effect = float(np.max(np.abs(shares(ref) - shares(cur)))) if ref.sum() and cur.sum() else 0.0
        return Comparison(effect, *chi_square_p(ref, cur)[1:], note=category_changes(keys, ref, cur))


def category_changes(keys: list[str], reference: np.ndarray, current: np.ndarray) -> str:
    """Names of categories that appeared or vanished (``other`` excluded). A category counts as
    vanished only where the batch would have held at least 5 of it: in a small batch, rare
    categories are missing by chance."""
    scale = current.sum() / reference.sum() if reference.sum() else 0.0
    new = [k for k, r, c in zip(keys, reference, current, strict=True) if not r and c and k != OTHER]
    gone = [
        k for k, r, c in zip(keys, reference, current, strict=True) if r * scale >= 5 and not c and k != OTHER
    ]
    parts = ([f"new categories: {new[:10]}"] if new else []) + ([f"vanished: {gone[:10]}"] if gone else [])
    return "; ".join(parts)
