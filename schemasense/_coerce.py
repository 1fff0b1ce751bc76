"""Coercion of a column's values to a logical type, one verdict per row.

Coercion is the one place that knows how each logical type is stored; validation, export and
the coerce action all go through it, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._types import LogicalType


@dataclass(frozen=True, eq=False)
class Coerced:
    """A column converted to its logical type.

    ``values`` holds the converted values (missing where the input was missing or failed);
    ``failed`` marks rows whose non-missing input could not be converted.
    """

    values: pd.Series
    failed: pd.Series


def storage_kind(dtype: Any) -> str | None:
    """``boolean``, ``integer``, ``float`` or ``datetime`` for those dtypes; ``None`` for the rest."""
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    return None


def is_native(series: pd.Series, logical_type: LogicalType) -> bool:
    """Whether ``series`` is already stored as ``logical_type`` needs (no coercion required).

    An integer column read from CSV with gaps becomes float in pandas; whole floats still count
    as integers so that a missing value does not turn into a type change.
    """
    dtype = series.dtype
    if logical_type is LogicalType.BOOLEAN:
        return pd.api.types.is_bool_dtype(dtype)
    if logical_type is LogicalType.INTEGER:
        if pd.api.types.is_integer_dtype(dtype):
            return True
        if pd.api.types.is_float_dtype(dtype):
            present = series.dropna()
            return bool(np.all(np.mod(present.to_numpy(dtype=float), 1) == 0))
        return False
    if logical_type is LogicalType.FLOAT:
        return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if logical_type is LogicalType.DATETIME:
        return pd.api.types.is_datetime64_any_dtype(dtype) or _is_text(series)
    # Codes of digits only are read as numbers by CSV readers: still the same text column.
    return _is_text(series) or _is_number(dtype)


def coerce(
    series: pd.Series, logical_type: LogicalType, datetime_format: str | Sequence[str] | None = None
) -> Coerced:
    """Convert ``series`` to ``logical_type``; rows that cannot be converted are marked failed.

    A column already stored as its type is returned as it is (no copy). ``datetime_format`` may
    list several formats: a value is a date when one of them reads it. Thousands separators
    (``"5,163"``) are read as such. Numbers become text as a
    person writes them (``536365.0`` reads ``"536365"``).

    >>> c = coerce(pd.Series(["3", "x", None]), LogicalType.INTEGER)
    >>> c.values.tolist(), c.failed.tolist()
    ([3, <NA>, <NA>], [False, True, False])
    >>> coerce(pd.Series([536365.0, None]), LogicalType.STRING).values.tolist()
    ['536365', nan]
    """
    none_failed = pd.Series(False, index=series.index)
    dtype = series.dtype
    if logical_type.is_numeric:
        numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        if numeric and (logical_type is LogicalType.FLOAT or pd.api.types.is_integer_dtype(dtype)):
            return Coerced(series, none_failed)
        missing = series.isna()
        if pd.api.types.is_bool_dtype(dtype):
            numbers = pd.Series(np.nan, index=series.index)
        else:
            numbers = _grouped(series, pd.to_numeric(series, errors="coerce"))
        failed = numbers.isna() & ~missing
        if logical_type is LogicalType.INTEGER:
            fractional = numbers.notna() & (np.mod(numbers.fillna(0).astype(float), 1) != 0)
            failed |= fractional
            numbers = numbers.where(~fractional)
            return Coerced(numbers.astype("Int64"), failed)
        return Coerced(numbers.astype(float), failed)
    if logical_type is LogicalType.DATETIME:
        if pd.api.types.is_datetime64_any_dtype(dtype):
            return Coerced(series, none_failed)
        return _dates(series, datetime_format)
    if logical_type is LogicalType.BOOLEAN:
        if pd.api.types.is_bool_dtype(dtype):
            return Coerced(series, none_failed)
        words = series.astype("string").str.strip().str.lower()
        mapping = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
        flags = words.map(mapping).astype("boolean")
        return Coerced(flags, flags.isna() & series.notna())
    if pd.api.types.is_object_dtype(dtype):
        return Coerced(series, none_failed)
    if _is_number(dtype) and pd.api.types.is_float_dtype(dtype):
        floats = series.to_numpy(dtype=float)
        whole = np.isfinite(floats) & (np.mod(np.nan_to_num(floats), 1) == 0)
        if whole[series.notna().to_numpy()].all():  # integers stored as floats because of gaps
            series = series.astype("Int64")
    present = series.notna()
    text = series.astype(object).where(present, np.nan)
    text[present] = series[present].astype(str)
    return Coerced(text, none_failed)


_GROUPED = r"^\s*[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?\s*$"


def _grouped(series: pd.Series, numbers: pd.Series) -> pd.Series:
    """``numbers`` with the text ``to_numeric`` could not read but that is a number written with
    thousands separators (``"5,163"``, ``"1,234.5"``) read as that number.

    >>> _grouped(pd.Series(["5,163", "1,2", "7"]), pd.Series([None, None, 7.0])).tolist()
    [5163.0, nan, 7.0]
    """
    unread = numbers.isna() & series.notna()
    if not unread.any():
        return numbers
    text = series[unread].astype(str)
    grouped = text[text.str.match(_GROUPED)]
    if grouped.empty:
        return numbers
    numbers = numbers.astype(float)
    numbers[grouped.index] = pd.to_numeric(grouped.str.replace(",", "", regex=False).str.strip())
    return numbers


def _dates(series: pd.Series, datetime_format: str | Sequence[str] | None) -> Coerced:
    """Text dates read with the format, else with the first candidate format that reads each
    value; with none, as pandas guesses."""
    if datetime_format is None or isinstance(datetime_format, str):
        formats: list[str | None] = [datetime_format]
    else:
        formats = [*datetime_format] or [None]
    first, *others = formats
    stamps = _parse(series, first)
    for other in others:
        stamps = stamps.fillna(_parse(series, other))
    return Coerced(stamps, stamps.isna() & series.notna())


def _parse(series: pd.Series, datetime_format: str | None) -> pd.Series:
    try:
        return pd.to_datetime(series, format=datetime_format, errors="coerce")
    except (TypeError, ValueError):  # objects that are not text
        return pd.to_datetime(series.astype("string"), format=datetime_format, errors="coerce")


def _is_number(dtype: Any) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def canonical(
    series: pd.Series, logical_type: LogicalType, datetime_format: str | Sequence[str] | None = None
) -> pd.Series:
    """The stored form a published batch uses: values converted, text dates kept as text."""
    if logical_type is LogicalType.DATETIME and not pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series
    values = coerce(series, logical_type, datetime_format).values
    if logical_type is LogicalType.INTEGER:
        return values.astype("int64") if not values.isna().any() else values.astype("Int64")
    if logical_type is LogicalType.BOOLEAN:
        return values.astype(bool) if not values.isna().any() else values.astype("boolean")
    if logical_type.is_text:
        return values.where(values.isna(), values.astype(str)).astype(object)
    return values


def _is_text(series: pd.Series) -> bool:
    dtype = series.dtype
    return (
        pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    )
