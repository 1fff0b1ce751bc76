"""Contract inference: statistics of the training batches, then rules from them.

The rules, each documented because a user must be able to predict them. Every one can be
overridden per column with a :class:`ColumnDeclaration` (``infer(columns={...})``): a declared
type, format, role, category kind, bound, null rule, pattern or key flag wins over the data.

- **type**: from the data, not only the dtype. A float dtype means floats, even when every
  training value is whole (incomes in whole dollars today may carry cents tomorrow); an integer
  contract still accepts whole floats, which is how CSV readers store integers with gaps. Text
  that parses as dates is a datetime whatever the training size: each format of
  :data:`DATETIME_FORMATS` is scored by how many sampled values it parses, and the best one must
  parse ``min_format_share`` of them. When the best formats differ only in day/month order and
  parse the same values (every day and month at most 12), the order is not guessed: the
  contract keeps both as ``datetime_candidates``, validation accepts either, and
  :func:`schemasense.settle` picks one at the first batch with a field above 12. Other text is a
  *category* when it has at most ``max_categories`` distinct values, each seen on average
  ``min_rows_per_category`` times (Deequ's categorical rule), else a string. An object column
  mixing types becomes a string column; an all-null column a nullable string with no other rule.
- **role** (needs two training batches, in arrival order): an *identifier* brings at least
  ``min_new_share`` of distinct values never seen in an earlier batch, in every batch (invoice
  numbers, customer ids; numbers only when keys, or codes: whole, one length, four digits or more); a
  *timestamp* is a datetime with several values per batch whose batches advance (each batch's
  median after the previous batch's last time); a *calendar* column holds at most
  ``max_calendar_values`` values per batch (each repeated), none seen in an earlier batch (day
  of month, or the date itself, in a daily file), or a number or date with one value in each
  training batch (the month in January's weekly files). These move with the
  batches: they keep type, format, null, pattern and key rules, get no upper bound, no closed
  category, and :meth:`Contract.drift_exclusions` lists them so no drift test runs on them.
- **categories**: *open* when new values still appeared in the second half of training (new
  countries), or when training held fewer than ``min_rows_to_close`` values, too few to rule
  out rare ones (by the rule of three, values unseen in ``n`` rows may make up ``3/n`` of later
  rows): validation reports an unseen value in ``ValidationResult.new_categories`` instead
  of rejecting its row. Otherwise *closed*: each row with an unseen value fails. Declaring
  ``categories`` makes a text column a category however many values it has.
- **nulls**: a column never null in training is not nullable: each null row fails. Otherwise a
  batch may miss up to ``mean + null_spread * sd`` of the per-batch null shares of training, at
  least ``p + null_floor`` (``p``: the overall share); one batch gives ``p + max(p, null_floor)``.
  A customer id missing 40% ± 10 points a day keeps room for its swings; a 30% burst in a column
  with almost no nulls fails.
- **range**: each side of a number's distribution gets a fence from the median ``m`` outwards
  through ``q`` (the 0.5% or 99.5% quantile). A light side: ``q + margin*(q - m)`` (7.7
  standard deviations for a normal column). A heavy side (``q`` more than 6 times as far from
  the median as the quartile: quantities, prices, amounts, incomes): ``m + (q - m) *
  10**tail_decades`` on a log scale, so bulk orders pass and a unit change (x100, x1000) breaks it.
  Data that never went below zero keeps a lower bound of zero (a sign never seen fails). Bounds
  are rounded outwards (integers to whole numbers, others to four significant digits). Keys,
  identifiers, calendar columns and columns that grow from batch to batch (each batch starting
  above the previous batch's median) get no upper bound: tomorrow's values exceed today's.
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ._contract import ColumnContract, Contract
from ._dates import best_formats
from ._declaration import ColumnDeclaration, declarations, declare
from ._patterns import text_pattern
from ._ranges import grows, null_cap, numeric_range
from ._roles import BatchValues, categories_open, infer_role, new_value_rate, value_history
from ._statistics import ColumnStatistics, column_statistics
from ._types import LogicalType, Role
from .errors import InferenceError


@dataclass(frozen=True)
class InferenceOptions:
    """The thresholds of the rules in this module's docstring."""

    margin: float = 2.0
    tail_decades: float = 1.5
    max_categories: int = 50
    min_rows_per_category: int = 10
    min_rows_for_key: int = 20
    min_format_share: float = 0.99
    min_pattern_share: float = 0.999
    null_floor: float = 0.05
    null_spread: float = 4.0
    min_new_share: float = 0.5
    max_calendar_values: int = 31
    min_rows_to_close: int = 600


def infer(
    data: pd.DataFrame | Sequence[pd.DataFrame],
    name: str = "dataset",
    *,
    keys: Sequence[str] | None = None,
    columns: Mapping[str, ColumnDeclaration | Mapping[str, Any]] | None = None,
    **options: Any,
) -> Contract:
    """Learn a contract from one batch or a list of batches in arrival order.

    ``options`` are the fields of :class:`InferenceOptions` (``margin=3.0``, ``max_categories=20``…).
    ``keys`` names the columns that identify a row: each is unique and never null, and they
    are the only unique columns (see the module docstring); ``None`` lets inference guess.
    ``columns`` declares what inference cannot know, per column (:class:`ColumnDeclaration`).

    >>> df = pd.DataFrame({"id": range(1000), "amount": [10.0, 20.0] * 500})
    >>> contract = infer(df, name="orders")
    >>> contract.columns["amount"].minimum, contract.columns["amount"].maximum
    (0.0, 30.0)
    >>> contract.columns["id"].unique, contract.columns["id"].maximum is None
    (True, True)
    >>> infer(df, keys=["amount"]).columns["id"].unique  # declared keys replace the guess
    False
    >>> declared = infer(df, columns={"amount": {"max": 1000, "role": "identifier"}})
    >>> declared.columns["amount"].maximum, declared.columns["amount"].role_reason
    (1000.0, 'declared')
    """
    settings = InferenceOptions(**options)
    batches = _batches(data)
    statistics = dataset_statistics(batches)
    declared = declarations(columns, list(statistics))
    labels = [{text: label for text, label in zip(column_names(b), b.columns, strict=True)} for b in batches]
    contract = Contract(
        name=name,
        columns={
            col: contract_from(
                s,
                settings,
                batches=[b[label[col]] for b, label in zip(batches, labels, strict=True)],
                declared=declared.get(col),
                key=keys is not None and col in keys,
            )
            for col, s in statistics.items()
        },
    )
    if keys is not None:
        contract = contract.with_keys(keys)
    return replace(contract, columns={n: declare(c, declared.get(n)) for n, c in contract.columns.items()})


def infer_column(name: str, series: pd.Series, **options: Any) -> ColumnContract:
    """Learn the contract of one column."""
    return contract_from(column_statistics(name, series), InferenceOptions(**options))


def _batches(data: pd.DataFrame | Sequence[pd.DataFrame]) -> list[pd.DataFrame]:
    batches = [data] if isinstance(data, pd.DataFrame) else list(data)
    if not batches:
        raise InferenceError("cannot infer a contract from an empty list of batches")
    return batches


def dataset_statistics(data: pd.DataFrame | Sequence[pd.DataFrame]) -> dict[str, ColumnStatistics]:
    """Statistics of every column, merged over the batches; a column missing from a batch is an error."""
    batches = _batches(data)
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


def contract_from(
    stats: ColumnStatistics,
    options: InferenceOptions | None = None,
    *,
    batches: Sequence[pd.Series] = (),
    declared: ColumnDeclaration | None = None,
    key: bool = False,
) -> ColumnContract:
    """The contract of one column, from its statistics and, for roles, its training batches in order."""
    o = options or InferenceOptions()
    d = declared or ColumnDeclaration()
    logical_type, formats = _declared_type(stats, o, d)
    history = _history(stats, logical_type, batches, o.max_calendar_values)
    role, reason = (d.role, "declared") if d.role is not None else (Role.ATTRIBUTE, "")
    if d.role is None and history:
        limits = (o.min_new_share, o.max_calendar_values)
        role, reason = infer_role(batches, history, logical_type, formats, key or stats.unique, *limits)
    nullable = stats.nulls > 0
    unique = (
        logical_type in (LogicalType.INTEGER, LogicalType.STRING)
        and stats.present >= o.min_rows_for_key
        and stats.unique
    )
    minimum = maximum = None
    if logical_type.is_numeric and len(stats.sample):
        open_ended = unique or role.moves_with_batches or grows(stats)
        minimum, maximum = numeric_range(stats, o.margin, o.tail_decades, unbounded_above=open_ended)
        if role.moves_with_batches:
            minimum = 0.0 if stats.minimum is not None and stats.minimum >= 0 else None
    allowed = None
    if logical_type is LogicalType.CATEGORY and stats.values is not None:
        allowed = tuple(sorted(stats.values))
    is_open = (
        categories_open(history, o.min_rows_to_close) if d.categories is None else d.categories == "open"
    )
    opened = allowed is not None and is_open and not role.moves_with_batches
    return ColumnContract(
        name=stats.name,
        logical_type=logical_type,
        nullable=nullable,
        max_null_fraction=null_cap(stats, o.null_floor, o.null_spread)
        if nullable and stats.kind != "empty"
        else None,
        minimum=minimum,
        maximum=maximum,
        allowed=None if role.moves_with_batches else allowed,
        unique=unique,
        pattern=text_pattern(stats, o.min_pattern_share)
        if logical_type is LogicalType.STRING and stats.kind == "text"
        else None,
        datetime_format=formats[0] if len(formats) == 1 else None,
        datetime_candidates=formats if len(formats) > 1 else (),
        role=role,
        role_reason=reason,
        categories_open=opened,
        new_value_rate=new_value_rate(stats) if opened else None,
    )


def _history(
    stats: ColumnStatistics, logical_type: LogicalType, batches: Sequence[pd.Series], calendar_values: int
) -> tuple[BatchValues, ...]:
    """The batches one by one, as roles need them; none for a measure with fractions (an amount)
    unless its first batch holds few values (a rate quoted once per day may be a calendar value)."""
    if len(batches) < 2:
        return ()
    fractions = logical_type is LogicalType.FLOAT and bool(np.any(np.mod(stats.sample, 1)))
    if fractions and len(pd.unique(batches[0].dropna())) > calendar_values:
        return ()
    if stats.unique:  # no value repeats anywhere: every value is new, no need to look again
        return tuple(BatchValues(b.rows - b.nulls, b.rows - b.nulls, b.rows - b.nulls) for b in stats.batches)
    return value_history(batches)


def _declared_type(
    stats: ColumnStatistics, o: InferenceOptions, d: ColumnDeclaration
) -> tuple[LogicalType, tuple[str, ...]]:
    """The inferred type and date formats, or the declared ones."""
    logical_type, formats = _logical_type(stats, o)
    if d.type is not None and d.type is not logical_type:
        logical_type, formats = d.type, ()
    if d.categories is not None and logical_type is LogicalType.STRING and stats.values is not None:
        logical_type = LogicalType.CATEGORY  # a declared category, however many values it has
    if d.format is not None:  # a declared date format makes a date column
        return d.type or LogicalType.DATETIME, (d.format,)
    return logical_type, formats


def _logical_type(stats: ColumnStatistics, o: InferenceOptions) -> tuple[LogicalType, tuple[str, ...]]:
    simple = {
        "boolean": LogicalType.BOOLEAN,
        "integer": LogicalType.INTEGER,
        "float": LogicalType.FLOAT,
        "datetime": LogicalType.DATETIME,
    }
    if stats.kind in simple:
        return simple[stats.kind], ()
    if stats.kind != "text":
        return LogicalType.STRING, ()
    if stats.formats and stats.text_seen:
        best = max(stats.formats.values())
        if best >= o.min_format_share * stats.text_seen:
            return LogicalType.DATETIME, best_formats(stats.formats, best)
    distinct = len(stats.values) if stats.values is not None else math.inf
    if 0 < distinct <= o.max_categories and stats.present >= distinct * o.min_rows_per_category:
        return LogicalType.CATEGORY, ()
    return LogicalType.STRING, ()
