"""Contract inference: statistics of the training batches, then rules from them.

The rules, each documented because a user must be able to predict them:

- **type**: from the data, not only the dtype. A float dtype means floats, even when every
  training value is whole (incomes in whole dollars today may carry cents tomorrow); an integer
  contract still accepts whole floats, which is how CSV readers store integers with gaps. Text
  whose sampled values parse with one format of :data:`DATETIME_FORMATS` (at least
  ``min_format_share`` of them) is a datetime with that format. Other text is a *category* when it
  has at most ``max_categories`` distinct values, each seen on average ``min_rows_per_category``
  times (in the spirit of Deequ's categorical rule), else a string. An object column mixing
  types becomes a string column (values are read as text); an all-null column becomes a nullable
  string column with no other rule, since nothing is known about it yet.
- **nulls**: a column never null in training is not nullable: each null row fails. A column null
  in a share ``p`` of training rows is nullable up to ``p + max(p, 0.05)`` of a batch: a 0.3% null
  column tolerates 5.3%, and a 30% burst fails the batch.
- **range**: numbers get ``[q_low - margin*(median - q_low), q_high + margin*(q_high - median)]``
  where ``q_low`` and ``q_high`` are the 0.5% and 99.5% quantiles (``margin`` = 2 by default).
  Each side widens by its own spread, so skewed data (amounts, incomes) keeps room in its long
  tail: for a normal column the bounds sit 7.7 standard deviations out. Data that never went
  below zero keeps a lower bound of zero; bounds are rounded outwards (integers to whole
  numbers, others to four significant digits).
  Keys, and columns that grow from batch to batch (each batch starting above
  the previous batch's median), get no upper bound: tomorrow's ids exceed today's maximum.
- **unique**: integer or text columns of at least ``min_rows_for_key`` values with no repeat, in
  any batch or across batches. Declared ``keys`` replace this guess: each key column is unique
  and never null whatever the training data showed, and no other column is unique (a column
  that happened not to repeat in training, an e-mail say, is not a key).
- **pattern**: text that is not a category gets a pattern when at least ``min_pattern_share`` of
  the sampled values are e-mail addresses, UUIDs, or share one character shape (runs of capitals,
  small letters, digits and separators, with lengths allowed to vary within the observed range)
  that contains digits; free text gets none.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ._contract import ColumnContract, Contract
from ._statistics import EMAIL, UUID, ColumnStatistics, column_statistics
from ._types import LogicalType
from .errors import InferenceError


@dataclass(frozen=True)
class InferenceOptions:
    """The thresholds of the rules in this module's docstring."""

    margin: float = 2.0
    max_categories: int = 50
    min_rows_per_category: int = 10
    min_rows_for_key: int = 20
    min_format_share: float = 0.99
    min_pattern_share: float = 0.999


def infer(
    data: pd.DataFrame | Sequence[pd.DataFrame],
    name: str = "dataset",
    *,
    keys: Sequence[str] | None = None,
    **options: Any,
) -> Contract:
    """Learn a contract from one batch or a list of batches (their statistics are merged).

    ``options`` are the fields of :class:`InferenceOptions` (``margin=3.0``, ``max_categories=20``…).
    ``keys`` names the columns that identify a row: each is unique and never null, and they
    are the only unique columns (see the module docstring); ``None`` lets inference guess.

    >>> df = pd.DataFrame({"id": range(1000), "amount": [10.0, 20.0] * 500})
    >>> contract = infer(df, name="orders")
    >>> contract.columns["amount"].minimum, contract.columns["amount"].maximum
    (0.0, 30.0)
    >>> contract.columns["id"].unique, contract.columns["id"].maximum is None
    (True, True)
    >>> infer(df, keys=["amount"]).columns["id"].unique  # declared keys replace the guess
    False
    """
    settings = InferenceOptions(**options)
    statistics = dataset_statistics(data)
    contract = Contract(name=name, columns={col: contract_from(s, settings) for col, s in statistics.items()})
    return contract if keys is None else contract.with_keys(keys)


def infer_column(name: str, series: pd.Series, **options: Any) -> ColumnContract:
    """Learn the contract of one column."""
    return contract_from(column_statistics(name, series), InferenceOptions(**options))


def dataset_statistics(data: pd.DataFrame | Sequence[pd.DataFrame]) -> dict[str, ColumnStatistics]:
    """Statistics of every column, merged over the batches; a column missing from a batch is an error."""
    batches = [data] if isinstance(data, pd.DataFrame) else list(data)
    if not batches:
        raise InferenceError("cannot infer a contract from an empty list of batches")
    merged: dict[str, ColumnStatistics] = {}
    for index, batch in enumerate(batches):
        names = column_names(batch, f"batch {index}")
        if index and set(names) != set(merged):
            raise InferenceError(
                f"batch {index} has columns {sorted(set(names) ^ set(merged))} that batch 0 does not "
                "share; learn from batches of one schema"
            )
        for label, text_name in zip(batch.columns, names, strict=True):
            stats = column_statistics(text_name, batch[label])
            merged[text_name] = merged[text_name].merge(stats) if text_name in merged else stats
    if not any(s.rows for s in merged.values()):
        raise InferenceError("cannot infer a contract from empty batches (0 rows)")
    return merged


def column_names(df: pd.DataFrame, where: str = "the batch") -> list[str]:
    """Column names as text; duplicated names are an error (a contract needs one rule per name)."""
    if not isinstance(df, pd.DataFrame):
        raise InferenceError(f"{where} is a {type(df).__name__}, not a pandas DataFrame")
    names = [str(c) for c in df.columns]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InferenceError(f"{where} has duplicated column names {repeated}; rename them first")
    return names


def contract_from(stats: ColumnStatistics, options: InferenceOptions | None = None) -> ColumnContract:
    """The contract of one column, from its statistics (see the module docstring for the rules)."""
    o = options or InferenceOptions()
    logical_type, datetime_format = _logical_type(
        stats, o.max_categories, o.min_rows_per_category, o.min_format_share
    )
    nullable = stats.nulls > 0
    max_null_fraction = None
    if nullable and stats.kind != "empty":
        rate = stats.null_fraction
        max_null_fraction = round(min(1.0, rate + max(rate, 0.05)), 4)
    unique = (
        logical_type in (LogicalType.INTEGER, LogicalType.STRING)
        and stats.present >= o.min_rows_for_key
        and stats.unique
    )
    minimum = maximum = None
    if logical_type.is_numeric and len(stats.sample):
        minimum, maximum = _range(stats, o.margin, unbounded_above=unique or _grows(stats))
    pattern = None
    if logical_type is LogicalType.STRING and stats.kind == "text":
        pattern = _pattern(stats, o.min_pattern_share)
    allowed = None
    if logical_type is LogicalType.CATEGORY and stats.values is not None:
        allowed = tuple(sorted(stats.values))
    return ColumnContract(
        name=stats.name,
        logical_type=logical_type,
        nullable=nullable,
        max_null_fraction=max_null_fraction,
        minimum=minimum,
        maximum=maximum,
        allowed=allowed,
        unique=unique,
        pattern=pattern,
        datetime_format=datetime_format,
    )


def _logical_type(
    stats: ColumnStatistics, max_categories: int, min_rows_per_category: int, min_format_share: float
) -> tuple[LogicalType, str | None]:
    simple = {
        "boolean": LogicalType.BOOLEAN,
        "integer": LogicalType.INTEGER,
        "float": LogicalType.FLOAT,
        "datetime": LogicalType.DATETIME,
    }
    if stats.kind in simple:
        return simple[stats.kind], None
    if stats.kind != "text":
        return LogicalType.STRING, None
    if stats.formats and stats.text_seen:
        best = max(stats.formats, key=lambda f: stats.formats[f])
        if stats.formats[best] >= min_format_share * stats.text_seen:
            return LogicalType.DATETIME, best
    distinct = len(stats.values) if stats.values is not None else math.inf
    if 0 < distinct <= max_categories and stats.present >= distinct * min_rows_per_category:
        return LogicalType.CATEGORY, None
    return LogicalType.STRING, None


def _range(
    stats: ColumnStatistics, margin: float, *, unbounded_above: bool
) -> tuple[float | None, float | None]:
    low, median, high = stats.quantile(0.005), stats.quantile(0.5), stats.quantile(0.995)
    minimum = low - margin * (median - low)
    if stats.minimum is not None and stats.minimum >= 0:
        minimum = max(minimum, 0.0)
    maximum = None if unbounded_above else high + margin * (high - median)
    if stats.kind == "integer":
        return float(math.floor(minimum)), None if maximum is None else float(math.ceil(maximum))
    return _round_out(minimum, up=False), None if maximum is None else _round_out(maximum, up=True)


def _grows(stats: ColumnStatistics) -> bool:
    """Each batch starts at or above the previous batch's median, and the medians rise."""
    batches = [b for b in stats.batches if b.median is not None]
    if len(batches) < 2:
        return False
    return all(
        b.low >= a.median and b.median > a.median  # type: ignore[operator]
        for a, b in zip(batches, batches[1:], strict=False)
    )


def _pattern(stats: ColumnStatistics, min_share: float) -> str | None:
    seen = stats.text_seen
    if not seen:
        return None
    if stats.emails >= min_share * seen:
        return EMAIL
    if stats.uuids >= min_share * seen:
        return UUID
    if not stats.shapes:
        return None
    families: dict[tuple[str, ...], list[tuple[str, int]]] = {}
    for shape, count in stats.shapes.items():
        families.setdefault(_classes(shape), []).append((shape, count))
    classes, members = max(families.items(), key=lambda item: sum(c for _, c in item[1]))
    if sum(c for _, c in members) < min_share * seen or "[0-9]" not in classes:
        return None
    lengths = [[int(n) for n in re.findall(r"\{(\d+)\}", shape)] for shape, _ in members]
    parts = []
    position = 0
    for token in classes:
        if token in ("[0-9]", "[A-Z]", "[a-z]"):
            low = min(lens[position] for lens in lengths)
            high = max(lens[position] for lens in lengths)
            parts.append(f"{token}{{{low}}}" if low == high else f"{token}{{{low},{high}}}")
            position += 1
        else:
            parts.append(token)
    return "".join(parts)


def _classes(shape: str) -> tuple[str, ...]:
    """The class sequence of a shape, without run lengths."""
    return tuple(re.findall(r"\[0-9\]|\[A-Z\]|\[a-z\]|\\.|[^{}\d]", re.sub(r"\{\d+\}", "", shape)))


def _round_out(bound: float, *, up: bool) -> float:
    """Round a bound outwards to four significant digits, so contracts read well (129.2, not 129.18518)."""
    if bound == 0 or not math.isfinite(bound):
        return bound
    step = 10 ** (math.floor(math.log10(abs(bound))) - 3)
    rounded = (math.ceil if up else math.floor)(round(bound / step, 9)) * step
    return float(f"{rounded:.12g}")
