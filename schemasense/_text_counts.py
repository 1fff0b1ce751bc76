"""Counting a text column exactly: its nulls, its value counts while they are few, and its values
when none repeats (a key candidate). Shapes, formats and quantiles come from a sample instead."""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_TRACKED_VALUES = 1000
"""Exact value counts are kept while a text column has at most this many distinct values."""


def text_counts(
    text: pd.Series, looked_at: pd.Series
) -> tuple[int, dict[str, int] | None, np.ndarray | None]:
    """Nulls, exact value counts (few distinct values) and the values when all differ (a key?)."""
    rows = len(text)
    # Exact counts only where the sample already shows repeats enough for a small value set.
    if looked_at.nunique() <= min(MAX_TRACKED_VALUES, len(looked_at) // 2):
        # One hashing pass gives the nulls and the exact counts.
        codes, uniques = pd.factorize(text)
        coded = codes >= 0
        nulls = rows - int(coded.sum())
        counts = None
        if len(uniques) <= MAX_TRACKED_VALUES:
            tally = np.bincount(codes[coded], minlength=len(uniques))
            counts = {str(value): int(n) for value, n in zip(uniques, tally, strict=True)}
        distinct = len(uniques) == rows - nulls and len(uniques) > 1
        return nulls, counts, np.asarray(uniques, dtype=object) if distinct else None
    missing = text.isna().to_numpy()
    nulls = int(missing.sum())
    if not looked_at.is_unique:
        return nulls, None, None
    # No repeat in the sample: maybe a key, so look at every row.
    values = text.to_numpy(dtype=object)
    values = values[~missing] if nulls else values
    return nulls, None, values if all_distinct(values) else None


def all_distinct(values: np.ndarray) -> bool:
    """Whether no value repeats. Distinct hashes prove it cheaply; equal ones are checked exactly."""
    try:
        hashes = np.fromiter(map(hash, values), dtype=np.int64, count=len(values))
    except TypeError:  # unhashable objects
        return bool(pd.Series(values).astype(str).is_unique)
    return bool(pd.Series(hashes).is_unique) or bool(pd.Series(values).is_unique)
