"""Roles and open categories: what the order of the training batches shows about the next one.

Statistics merge batches into one picture; these rules need the batches one by one: which values
each batch brought that no earlier batch had, and where each batch sits in time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._coerce import coerce
from ._types import LogicalType, Role

if TYPE_CHECKING:
    from ._statistics import ColumnStatistics


@dataclass(frozen=True)
class BatchValues:
    """One training batch of one column: present values, distinct values, and those never seen before."""

    present: int
    distinct: int
    new: int


def value_history(batches: Sequence[pd.Series]) -> tuple[BatchValues, ...]:
    """Per batch, how many distinct values it held and how many of them were new.

    Numbers compare as numbers (17850 and 17850.0 are one customer), everything else as itself.

    >>> value_history([pd.Series(["a", "b", "b"]), pd.Series(["b", "c", None])])
    (BatchValues(present=3, distinct=2, new=2), BatchValues(present=2, distinct=2, new=1))
    """
    seen: set[object] = set()
    history = []
    for series in batches:
        distinct = pd.unique(_comparable(series.dropna())).tolist()
        history.append(
            BatchValues(int(series.notna().sum()), len(distinct), sum(v not in seen for v in distinct))
        )
        seen.update(distinct)
    return tuple(history)


def _comparable(present: pd.Series) -> np.ndarray:
    dtype = present.dtype
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return present.to_numpy(dtype=float)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return present.astype("int64").to_numpy()
    return present.to_numpy(dtype=object)


def infer_role(
    batches: Sequence[pd.Series],
    history: Sequence[BatchValues],
    logical_type: LogicalType,
    formats: tuple[str, ...],
    key: bool,
    min_new_share: float,
    max_calendar_values: int,
) -> tuple[Role, str]:
    """The role of one column and the reason, from at least two training batches."""
    later = history[1:]
    if not later or any(b.distinct == 0 for b in history) or logical_type is LogicalType.BOOLEAN:
        return Role.ATTRIBUTE, ""
    most = max(b.distinct for b in history)
    if logical_type is LogicalType.DATETIME and most > 1:  # times, not one date per batch
        if _advancing([coerce(s, logical_type, formats).values for s in batches]):
            return Role.TIMESTAMP, "each training batch's times lie after the previous batch's"
        return Role.ATTRIBUTE, ""
    if all(b.new == b.distinct for b in later) and all(
        b.distinct <= max_calendar_values and 2 * b.distinct <= b.present for b in history
    ):
        count = "one value" if most == 1 else f"at most {most} values"
        return Role.CALENDAR, f"{count} per training batch, never repeated in a later batch"
    if logical_type.is_numeric or logical_type is LogicalType.DATETIME:
        if most == 1 and all(b.present >= 2 for b in history):  # month 1 in January's weekly files
            return Role.CALENDAR, "one value in each training batch: it describes the batch, not its rows"
        # A unit coarser than the batch (the month of weekly files): one value, two at a boundary.
        if most <= 2 and all(2 * b.distinct <= b.present for b in history) and _marching(batches):
            return Role.CALENDAR, f"at most {most} values per training batch, moving forward with the batches"
    share = min(b.new / b.distinct for b in later)
    # A measure (an income) also brings new values every day: numbers are identifiers only when
    # they are keys, or codes: whole and all written with the same number of digits (17850).
    code_like = logical_type.is_text or (logical_type.is_numeric and (key or _codes(batches)))
    if code_like and share >= min_new_share and min(b.distinct for b in history) >= 5:
        return Role.IDENTIFIER, f"{share:.0%} of values new in each training batch"
    # Text naming many things, each on a few rows (a plane's tail number, a product code): a
    # reference to entities, whose mix says little about the batch beyond its nulls.
    fewest = min(b.distinct for b in history)
    spread = min(b.distinct / b.present for b in history)
    if logical_type.is_text and fewest >= _MANY and spread >= _FEW_ROWS_EACH:
        return (
            Role.IDENTIFIER,
            f"{fewest} or more values per training batch, each on {1 / spread:.0f} rows or fewer",
        )
    return Role.ATTRIBUTE, ""


_MANY = 100
"""Distinct values per batch from which text naming many things is an identifier..."""
_FEW_ROWS_EACH = 0.2
"""...when they are at least this share of its rows (each value on five rows or fewer on average)."""


def categories_open(history: Sequence[BatchValues], min_rows_to_close: int = 0) -> bool:
    """Whether new values still appeared in the second half of training, or, with two batches or
    more, training saw too few rows (fewer than ``min_rows_to_close``) to rule out rare values.

    By the rule of three, values unseen in ``n`` rows may still make up to ``3 / n`` of later
    rows: closing a category on 300 rows would reject up to 1% of clean rows.

    >>> categories_open([BatchValues(9, 3, 3), BatchValues(9, 3, 0), BatchValues(9, 4, 1)])
    True
    >>> categories_open([BatchValues(900, 3, 3), BatchValues(900, 3, 0)], min_rows_to_close=600)
    False
    >>> categories_open([BatchValues(150, 3, 3), BatchValues(150, 3, 0)], min_rows_to_close=600)
    True
    """
    if len(history) > 1 and sum(b.present for b in history) < min_rows_to_close:
        return True
    return any(b.new for b in history[max(1, len(history) // 2) :])


def _advancing(stamps: Sequence[pd.Series]) -> bool:
    """Each batch's median time lies after every time of the previous batch."""
    ranges = [(s.median(), s.max()) for s in stamps]
    if any(pd.isna(median) for median, _ in ranges):
        return False
    return all(b[0] > a[1] for a, b in zip(ranges, ranges[1:], strict=False))


def _marching(batches: Sequence[pd.Series]) -> bool:
    """Each batch's smallest and largest values are at least the previous batch's, and rise."""
    ends = []
    for series in batches:
        values = pd.to_numeric(series.dropna(), errors="coerce") if not series.empty else series
        if values.empty or values.isna().any():
            return False
        ends.append((float(values.min()), float(values.max())))
    steady = all(b[0] >= a[0] and b[1] >= a[1] for a, b in zip(ends, ends[1:], strict=False))
    return steady and ends[-1] != ends[0]


def _codes(batches: Sequence[pd.Series]) -> bool:
    """Whole numbers of one length, at least four digits (customer 17850, invoice 536365)."""
    numbers = pd.concat([pd.to_numeric(s.dropna(), errors="coerce") for s in batches])
    if numbers.empty or numbers.isna().any() or (numbers % 1 != 0).any() or numbers.min() < 1000:
        return False
    return len(str(int(numbers.min()))) == len(str(int(numbers.max())))


def new_value_rate(stats: ColumnStatistics) -> float | None:
    """Good–Turing: the share of training rows whose value appeared once estimates how often a
    later row brings a value never seen (at least one row's worth: ``1 / n``)."""
    counts = list((stats.values or {}).values())
    seen = sum(counts)
    return round(max(sum(c == 1 for c in counts), 1) / seen, 6) if seen else None


NEW_VALUE_ALPHA = 0.001
"""New values of an open category are reported when this unlikely at training's pace of new values."""


def more_than_expected(new: int, rows: int, rate: float | None) -> bool:
    """Whether ``new`` of ``rows`` rows with unseen values is more than ``rate`` explains: the
    Poisson tail P(X >= new) at ``rows * rate`` is below :data:`NEW_VALUE_ALPHA`.

    >>> more_than_expected(3, 200, 1 / 300), more_than_expected(10, 200, 1 / 300)
    (False, True)
    """
    if new == 0:
        return False
    if rate is None:  # a contract from before the rate was learned: every new value is news
        return True
    expected = rows * rate
    term = cdf = math.exp(-expected)
    for count in range(1, new):
        term *= expected / count
        cdf += term
    return 1.0 - cdf < NEW_VALUE_ALPHA
