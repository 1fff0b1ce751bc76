"""Counting one column of a batch: its kind on the reference, then exact counts.

A numeric column is sorted once; a reference's bins are cut at exact quantiles of its values
(up to ``bins`` bins), and every batch is counted exactly on them, with the sum of each bin's
values (so each bin's mean is known), its moments and extremes (``_bins``). A categorical column
counts its categories exactly (the reference's categories always, plus the batch's own most
frequent new ones; the rest as "other"). Every column counts its missing values.

Text in an object column is counted by the identity of its objects first (``_object_counts``):
readers and ``np.array(choices)[index]`` alike hand out one object per distinct string, so a
million rows hold a handful of distinct objects; sorting their addresses (numbers) costs a few
milliseconds where hashing a million strings costs 40 (pandas) or converting them to Arrow 35.
Objects that are equal but distinct (1 and "1", two copies of "a") become one category by their
text afterwards. Arrow-backed text is counted by ``pyarrow.compute.value_counts``.

Column kinds are decided on the reference: identifier-like columns (integers or text with a
distinct value on nearly every row), free text with a distinct value on most rows, and
timestamps are not compared, since they change by design; they still get row and missing counts.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._bins import bin_counts, quantile_edges
from ._column_profile import OTHER, ColumnProfile

TOP_CATEGORIES = 200
SAMPLE = 4096
"""Rows spread over a column that decide its kind."""
MAX_DISTINCT_OBJECTS = 65_536
"""Beyond this many distinct objects a text column is counted by value, not by identity."""
HEAD = 16_384
"""Rows searched at once for one row of each distinct object; the few found later, one by one."""


def profile_new(name: str, series: pd.Series, bins: int, identifier_share: float) -> ColumnProfile:
    dtype = series.dtype
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        values = _finite(series)
        ordered = np.sort(values)
        if (
            pd.api.types.is_integer_dtype(dtype)
            and len(values) >= 50
            and pd.Series(_spread(values, SAMPLE)).nunique() >= identifier_share * min(len(values), SAMPLE)
            and not (ordered[1:] == ordered[:-1]).any()
        ):
            return ColumnProfile(name, "skipped", len(series), len(series) - len(values), note="identifier")
        return _numeric(name, series, quantile_edges(ordered, bins), ordered=ordered)
    # Where a spread of rows looks like categories, count them first: the missing count comes with it.
    spread = _spread_rows(series)
    counts = _value_counts(series) if spread.nunique() * 2 <= SAMPLE else None
    missing = len(series) - int(counts.sum()) if counts is not None else int(series.isna().sum())
    present = len(series) - missing
    skipped = ColumnProfile(name, "skipped", len(series), missing)
    # about SAMPLE present values, evenly spread over the rows
    sample = _spread_rows(series, -(-SAMPLE * len(series) // max(present, 1))).dropna()
    if pd.api.types.is_datetime64_any_dtype(dtype) or _looks_like_timestamps(sample):
        return replace(skipped, note="timestamp")
    distinct = sample.nunique()
    if present >= 50 and distinct >= identifier_share * len(sample):
        return replace(skipped, note="identifier")
    if present >= 50 and distinct > 0.5 * len(sample) and distinct > TOP_CATEGORIES:
        return replace(skipped, note="high-cardinality text")
    return _categorical(name, series, known=(), counts=counts)


def profile_like(series: pd.Series, template: ColumnProfile) -> ColumnProfile:
    if template.kind == "numeric":
        return _numeric(template.name, series, template.edges)
    if template.kind == "categorical":
        known = tuple(name for name, _ in template.categories if name != OTHER)
        return _categorical(template.name, series, known=known)
    return replace(template, rows=len(series), missing=int(series.isna().sum()), counts=(), categories=())


def _numeric(
    name: str, series: pd.Series, edges: tuple[float, ...], *, ordered: np.ndarray | None = None
) -> ColumnProfile:
    """Exact counts on ``edges``; values that are not finite numbers count as missing.

    ``ordered`` is the column's finite values, sorted, when they were already taken.
    """
    ordered = np.sort(_finite(series)) if ordered is None else ordered
    counts, sums = bin_counts(ordered, np.asarray(edges, dtype=float))
    return ColumnProfile(
        name,
        "numeric",
        len(series),
        len(series) - len(ordered),
        edges=edges,
        counts=tuple(int(c) for c in counts),
        sums=tuple(float(v) for v in sums),
        total=float(ordered.sum()),
        total_squares=float(np.einsum("i,i->", ordered, ordered)),  # not np.dot: BLAS threads spin idle
        minimum=float(ordered[0]) if len(ordered) else None,
        maximum=float(ordered[-1]) if len(ordered) else None,
    )


def _categorical(
    name: str,
    series: pd.Series,
    known: tuple[str, ...],
    counts: pd.Series | None = None,
) -> ColumnProfile:
    """Exact counts of ``known`` categories and of the most frequent others; the rest as "other".

    ``counts`` is ``_value_counts(series)`` when it was already taken.
    """
    counts = _value_counts(series) if counts is None else counts
    counts.index = pd.Index(counts.index.map(str), dtype=object)
    if not counts.index.is_unique:  # 1 and "1" are one category
        counts = counts.groupby(level=0).sum()
    # most frequent first; ties by name, so the categories kept never depend on memory addresses
    counts = counts.sort_index().sort_values(ascending=False, kind="stable")
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
    )


def _value_counts(series: pd.Series) -> pd.Series:
    """How often each present value occurs (``series.value_counts(dropna=True)``, unsorted)."""
    if pd.api.types.is_object_dtype(series.dtype):
        counts = _object_counts(series.to_numpy())
        if counts is not None:
            return counts
    elif isinstance(series.dtype, pd.ArrowDtype) or _storage(series.dtype).startswith("pyarrow"):
        return _arrow_counts(pa.array(series))  # no copy: the data is Arrow's already
    return series.value_counts(dropna=True, sort=False)


def _storage(dtype: Any) -> str:
    """Where pandas keeps a string column's data: ``python``, ``pyarrow``, or ``""`` for others."""
    return str(getattr(dtype, "storage", ""))


def _arrow_counts(array: pa.Array | pa.ChunkedArray) -> pd.Series:
    """``pyarrow.compute.value_counts`` of the present values."""
    values, counts = pc.value_counts(array).flatten()
    present = pc.is_valid(values)
    index = pc.filter(values, present).to_numpy(zero_copy_only=False)
    return pd.Series(pc.filter(counts, present).to_numpy(), index=pd.Index(index, dtype=object))


def _object_counts(objects: np.ndarray) -> pd.Series | None:
    """Counts of the present values of an object array, one entry per distinct object.

    ``None`` when there are more than ``MAX_DISTINCT_OBJECTS`` distinct objects.
    """
    addresses = np.asarray(_Addresses(objects))
    distinct, counts = np.unique(addresses, return_counts=True)
    if len(distinct) > MAX_DISTINCT_OBJECTS:
        return None
    values = objects[_first_rows(addresses, distinct)]
    present = ~pd.isna(values)
    return pd.Series(counts[present], index=pd.Index(values[present], dtype=object), dtype=np.int64)


class _Addresses:
    """An object array's pointers seen as unsigned integers, through numpy's array interface.

    The integers are used as identities only (never followed), and the view keeps the objects
    alive while it lives.
    """

    def __init__(self, objects: np.ndarray) -> None:
        self.objects = objects
        self.__array_interface__: dict[str, Any] = {
            "shape": objects.shape,
            "strides": objects.strides,
            "typestr": np.dtype(np.uintp).str,
            "data": (objects.__array_interface__["data"][0], True),
            "version": 3,
        }


def _first_rows(addresses: np.ndarray, distinct: np.ndarray) -> np.ndarray:
    """A row holding each of the sorted ``distinct`` addresses: most are found in the first rows."""
    if not len(distinct):
        return np.zeros(0, dtype=np.intp)
    head, rows = np.unique(addresses[:HEAD], return_index=True)
    at = np.minimum(np.searchsorted(head, distinct), len(head) - 1)
    found = rows[at]
    late = np.flatnonzero(head[at] != distinct)
    if len(late) > 32:  # many rare objects appear only later: one sort of everything
        return np.unique(addresses, return_index=True)[1]
    for index in late:
        found[index] = HEAD + int(np.argmax(addresses[HEAD:] == distinct[index]))
    return found


def _finite(series: pd.Series) -> np.ndarray:
    """The finite numbers of a column (text that is not a number is dropped)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        numbers = series.astype(float)
    elif pd.api.types.is_numeric_dtype(series.dtype):
        numbers = series
    else:
        numbers = pd.to_numeric(series, errors="coerce")
    if isinstance(numbers.dtype, np.dtype):  # NaN is numpy's only missing number: no pass for others
        array = numbers.to_numpy(dtype=float)
    else:  # nullable and Arrow numbers mark missing values pd.NA
        array = numbers.to_numpy(dtype=float, na_value=np.nan)
    finite = np.isfinite(array)
    return array if finite.all() else array[finite]


def _spread_rows(series: pd.Series, size: int = SAMPLE) -> pd.Series:
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
