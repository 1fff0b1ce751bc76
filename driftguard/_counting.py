"""Counting one column of a batch: its kind on the reference, then exact counts and sketches.

A numeric column is counted exactly on up to ``bins`` quantile bins cut from the reference
(with the sum of each bin's values, so each bin's mean is known), with its moments, extremes
and a KLL quantile sketch. A categorical column counts its categories exactly (the reference's
categories always, plus the batch's own most frequent new ones; the rest as "other"). Every
column counts its missing values and keeps an HLL sketch of its distinct values.

Column kinds are decided on the reference: identifier-like columns (integers or text with a
distinct value on nearly every row), free text with a distinct value on most rows, and
timestamps are not compared, since they change by design; they still get row and missing counts.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from . import _sketches
from ._bins import bin_positions
from ._column_profile import OTHER, ColumnProfile

TOP_CATEGORIES = 200


def profile_new(name: str, series: pd.Series, bins: int, identifier_share: float) -> ColumnProfile:
    dtype = series.dtype
    numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if numeric:
        values = _finite(series)
        sample = pd.Series(_spread(values, 4096))
        if (
            pd.api.types.is_integer_dtype(dtype)
            and len(values) >= 50
            and sample.nunique() >= identifier_share * len(sample)
            and pd.Series(values).is_unique
        ):
            return ColumnProfile(name, "skipped", len(series), len(series) - len(values), note="identifier")
        sketch = _sketches.quantile_sketch(values)
        ranks = list(np.linspace(0, 1, bins + 1)[1:-1])
        edges = tuple(float(e) for e in np.unique(_sketches.quantiles(sketch, ranks))) if len(values) else ()
        return _numeric(name, series, edges, values=values, sketch=sketch)
    # Where a spread of rows looks like categories, count them first: the missing count comes with it.
    counts = series.value_counts(dropna=True) if _spread_rows(series).nunique() * 2 <= 4096 else None
    missing = len(series) - int(counts.sum()) if counts is not None else int(series.isna().sum())
    present = series.dropna() if missing else series
    skipped = ColumnProfile(name, "skipped", len(series), missing)
    if pd.api.types.is_datetime64_any_dtype(dtype) or _looks_like_timestamps(present):
        return replace(skipped, note="timestamp")
    sample = present.iloc[np.linspace(0, len(present) - 1, min(len(present), 4096)).astype(int)]
    identifier = len(present) >= 50 and sample.nunique() >= identifier_share * len(sample)
    if identifier:
        return replace(skipped, note="identifier")
    if len(present) >= 50 and sample.nunique() > 0.5 * len(sample) and sample.nunique() > TOP_CATEGORIES:
        return replace(skipped, note="high-cardinality text")
    return _categorical(name, series, known=(), counts=counts)


def profile_like(series: pd.Series, template: ColumnProfile, sketches: bool = True) -> ColumnProfile:
    if template.kind == "numeric":
        return _numeric(template.name, series, template.edges, sketches=sketches)
    if template.kind == "categorical":
        known = tuple(name for name, _ in template.categories if name != OTHER)
        return _categorical(template.name, series, known=known, sketches=sketches)
    return replace(template, rows=len(series), missing=int(series.isna().sum()), counts=(), categories=())


def _numeric(
    name: str,
    series: pd.Series,
    edges: tuple[float, ...],
    *,
    values: np.ndarray | None = None,
    sketch: bytes | None = None,
    sketches: bool = True,
) -> ColumnProfile:
    """Exact counts on ``edges``; values that are not finite numbers count as missing."""
    values = _finite(series) if values is None else values
    positions = bin_positions(np.asarray(edges, dtype=float), values)
    counts = np.bincount(positions, minlength=len(edges) + 1)
    sums = np.bincount(positions, weights=values, minlength=len(edges) + 1)
    return ColumnProfile(
        name,
        "numeric",
        len(series),
        len(series) - len(values),
        edges=edges,
        counts=tuple(int(c) for c in counts),
        sums=tuple(float(v) for v in sums),
        total=float(values.sum()),
        total_squares=float(np.square(values).sum()),  # not np.dot: BLAS threads spin idle after it
        minimum=float(values.min()) if len(values) else None,
        maximum=float(values.max()) if len(values) else None,
        quantile_sketch=(_sketches.quantile_sketch(values) if sketch is None else sketch)
        if sketches
        else None,
        distinct_sketch=_sketches.distinct_sketch(pd.Series(values)) if sketches else None,
    )


def _categorical(
    name: str,
    series: pd.Series,
    known: tuple[str, ...],
    sketches: bool = True,
    counts: pd.Series | None = None,
) -> ColumnProfile:
    """Exact counts of ``known`` categories and of the most frequent others; the rest as "other".

    ``counts`` is ``series.value_counts(dropna=True)`` when it was already taken.
    """
    counts = series.value_counts(dropna=True) if counts is None else counts
    counts.index = counts.index.map(str)
    if not counts.index.is_unique:  # 1 and "1" are one category
        counts = counts.groupby(level=0).sum().sort_values(ascending=False)
    tracked = {k: int(counts.get(k, 0)) for k in known}
    room = max(TOP_CATEGORIES - len(tracked), 10)  # new categories always get some room of their own
    extra = [k for k in counts.index if k not in tracked][:room]
    tracked.update({k: int(counts[k]) for k in extra})
    other = int(counts.sum()) - sum(tracked.values())
    if other:
        tracked[OTHER] = tracked.get(OTHER, 0) + other
    return ColumnProfile(
        name,
        "categorical",
        len(series),
        len(series) - int(counts.sum()),
        categories=tuple(sorted(tracked.items())),
        distinct_sketch=_sketches.distinct_sketch(pd.Series(counts.index)) if sketches else None,
    )


def _finite(series: pd.Series) -> np.ndarray:
    """The finite numbers of a column (text that is not a number is dropped)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        numbers = series.astype(float)
    elif pd.api.types.is_numeric_dtype(series.dtype):
        numbers = series
    else:
        numbers = pd.to_numeric(series, errors="coerce")
    array = numbers.to_numpy(dtype=float, na_value=np.nan)
    return array[np.isfinite(array)]


def _spread_rows(series: pd.Series, size: int = 4096) -> pd.Series:
    """Up to ``size`` rows evenly spaced over the column."""
    return series.iloc[np.linspace(0, len(series) - 1, min(len(series), size)).astype(int)]


def _spread(values: np.ndarray, size: int) -> np.ndarray:
    """Up to ``size`` values evenly spaced over the array."""
    return values if len(values) <= size else values[np.linspace(0, len(values) - 1, size).astype(int)]


def _looks_like_timestamps(present: pd.Series) -> bool:
    if present.empty or not (
        pd.api.types.is_object_dtype(present.dtype) or pd.api.types.is_string_dtype(present.dtype)
    ):
        return False
    sample = present.head(200).astype(str)
    if not sample.str.match(r"^\d{4}-\d{2}-\d{2}").all():
        return False
    return bool(pd.to_datetime(sample, errors="coerce", format="ISO8601").notna().all())
