"""Roles and open categories: what the order of the training batches shows about the next one.

Statistics merge batches into one picture; these rules need the batches one by one: which values
each batch brought that no earlier batch had, and where each batch sits in time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._coerce import coerce
from ._types import LogicalType, Role


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
    share = min(b.new / b.distinct for b in later)
    # A measure (an income) also brings new values every day: numbers are identifiers only when
    # they are keys, or codes: whole and all written with the same number of digits (17850).
    code_like = logical_type.is_text or (logical_type.is_numeric and (key or _codes(batches)))
    if code_like and share >= min_new_share and min(b.distinct for b in history) >= 5:
        return Role.IDENTIFIER, f"{share:.0%} of values new in each training batch"
    return Role.ATTRIBUTE, ""


def categories_open(history: Sequence[BatchValues]) -> bool:
    """Whether new values still appeared in the second half of training (needs two batches).

    >>> categories_open([BatchValues(9, 3, 3), BatchValues(9, 3, 0), BatchValues(9, 4, 1)])
    True
    """
    return any(b.new for b in history[max(1, len(history) // 2) :])


def _advancing(stamps: Sequence[pd.Series]) -> bool:
    """Each batch's median time lies after every time of the previous batch."""
    ranges = [(s.median(), s.max()) for s in stamps]
    if any(pd.isna(median) for median, _ in ranges):
        return False
    return all(b[0] > a[1] for a, b in zip(ranges, ranges[1:], strict=False))


def _codes(batches: Sequence[pd.Series]) -> bool:
    """Whole numbers of one length, at least four digits (customer 17850, invoice 536365)."""
    numbers = pd.concat([pd.to_numeric(s.dropna(), errors="coerce") for s in batches])
    if numbers.empty or numbers.isna().any() or (numbers % 1 != 0).any() or numbers.min() < 1000:
        return False
    return len(str(int(numbers.min()))) == len(str(int(numbers.max())))
