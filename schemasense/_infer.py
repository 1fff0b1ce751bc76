"""Contract inference: plain statistics of the training batches, then rules from them.

Rules (each documented because a user must be able to predict them):

- **type**: from the pandas dtype; whole floats with gaps are integers (a CSV artefact); text
  whose every value parses with one format of :data:`DATETIME_FORMATS` is a datetime with
  that format; other text is a *category* when it has at most ``max_categories`` distinct
  values and each appears on average at least ``min_rows_per_category`` times, else a string.
- **nullable**: true when any training value is missing.
- **range**: numeric columns get ``[min - margin*span, max + margin*span]``, where span is
  ``max - min``; a lower bound never goes below zero for data that never did. Keys get only
  that lower bound, because identifiers grow.
- **unique**: integer or string columns of at least ``min_rows_for_key`` values without a repeat.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._coerce import DATETIME_FORMATS
from ._contract import ColumnContract, Contract
from ._types import LogicalType
from .errors import InferenceError


def infer(
    data: pd.DataFrame | Sequence[pd.DataFrame],
    name: str = "dataset",
    *,
    margin: float = 0.5,
    max_categories: int = 50,
    min_rows_per_category: int = 10,
    min_rows_for_key: int = 20,
) -> Contract:
    """Learn a contract from one batch or a list of batches.

    >>> df = pd.DataFrame({"id": range(100), "amount": [10.0, 20.0] * 50})
    >>> contract = infer(df, name="orders")
    >>> contract.columns["amount"].minimum, contract.columns["amount"].maximum
    (5.0, 25.0)
    >>> contract.columns["id"].unique, contract.columns["id"].maximum is None
    (True, True)
    """
    frame = data if isinstance(data, pd.DataFrame) else _concat(data)
    if frame.empty:
        raise InferenceError("cannot infer a contract from an empty batch")
    columns = {
        str(col): infer_column(
            str(col),
            frame[col],
            margin=margin,
            max_categories=max_categories,
            min_rows_per_category=min_rows_per_category,
            min_rows_for_key=min_rows_for_key,
        )
        for col in frame.columns
    }
    return Contract(name=name, columns=columns)


def infer_column(
    name: str,
    series: pd.Series,
    *,
    margin: float = 0.5,
    max_categories: int = 50,
    min_rows_per_category: int = 10,
    min_rows_for_key: int = 20,
) -> ColumnContract:
    """Learn the contract of one column (see the module docstring for the rules)."""
    present = series.dropna()
    logical_type, datetime_format = _logical_type(present, max_categories, min_rows_per_category)
    unique = (
        logical_type in (LogicalType.INTEGER, LogicalType.STRING)
        and len(present) >= min_rows_for_key
        and present.is_unique
    )
    minimum = maximum = None
    if logical_type.is_numeric and len(present):
        values = pd.to_numeric(present).to_numpy(dtype=float)
        low, high = float(values.min()), float(values.max())
        span = high - low
        minimum = low - margin * span
        if low >= 0:
            minimum = max(minimum, 0.0)
        maximum = None if unique else _tidy(high + margin * span)
        minimum = _tidy(minimum)
    allowed = None
    if logical_type is LogicalType.CATEGORY:
        allowed = tuple(sorted(str(v) for v in present.unique()))
    return ColumnContract(
        name=name,
        logical_type=logical_type,
        nullable=bool(series.isna().any()),
        minimum=minimum,
        maximum=maximum,
        allowed=allowed,
        unique=unique,
        datetime_format=datetime_format,
    )


def _logical_type(
    present: pd.Series, max_categories: int, min_rows_per_category: int
) -> tuple[LogicalType, str | None]:
    dtype = present.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return LogicalType.BOOLEAN, None
    if pd.api.types.is_integer_dtype(dtype):
        return LogicalType.INTEGER, None
    if pd.api.types.is_float_dtype(dtype):
        whole = len(present) and np.all(np.mod(present.to_numpy(dtype=float), 1) == 0)
        return (LogicalType.INTEGER if whole else LogicalType.FLOAT), None
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return LogicalType.DATETIME, None
    text = present.astype(str)
    datetime_format = _datetime_format(text)
    if datetime_format is not None:
        return LogicalType.DATETIME, datetime_format
    distinct = text.nunique()
    if 0 < distinct <= max_categories and len(text) >= distinct * min_rows_per_category:
        return LogicalType.CATEGORY, None
    return LogicalType.STRING, None


def _datetime_format(text: pd.Series) -> str | None:
    if text.empty or not text.str.match(r"^\d").all():
        return None
    for fmt in DATETIME_FORMATS:
        if pd.to_datetime(text, format=fmt, errors="coerce").notna().all():
            return fmt
    return None


def _tidy(bound: float) -> float:
    """Drop float noise from a computed bound (0.30000000000000004 becomes 0.3)."""
    return float(f"{bound:.12g}")


def _concat(batches: Sequence[pd.DataFrame]) -> pd.DataFrame:
    if not batches:
        raise InferenceError("cannot infer a contract from an empty list of batches")
    return pd.concat(list(batches), ignore_index=True)
