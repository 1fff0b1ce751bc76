"""Row-by-row validation against a contract, vectorised column by column."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._coerce import coerce, is_native, storage_kind
from ._roles import more_than_expected
from ._types import LogicalType
from .errors import BatchError

if TYPE_CHECKING:
    from ._contract import ColumnContract, Contract

REASON_COLUMN = "_reason"
"""Column of ``ValidationResult.invalid`` that says why each row failed."""


class Rule(enum.StrEnum):
    """The rules a contract checks. Batch rules judge the whole batch, row rules each row."""

    MISSING_COLUMN = "missing_column"
    UNEXPECTED_COLUMN = "unexpected_column"
    TYPE_CHANGED = "type_changed"
    NULL_FRACTION = "null_fraction"
    TYPE = "type"
    NOT_NULL = "not_null"
    MINIMUM = "minimum"
    MAXIMUM = "maximum"
    ALLOWED = "allowed"
    PATTERN = "pattern"
    UNIQUE = "unique"

    @property
    def is_batch_rule(self) -> bool:
        return self in _BATCH_RULES


_BATCH_RULES = frozenset({Rule.MISSING_COLUMN, Rule.UNEXPECTED_COLUMN, Rule.TYPE_CHANGED, Rule.NULL_FRACTION})
MIN_NULL_BURST = 5
"""A batch breaks ``max_null_fraction`` only with at least this many missing values."""


@dataclass(frozen=True)
class Violation:
    """One rule broken by ``count`` rows (batch rules: by the batch) of one column."""

    column: str
    rule: Rule
    count: int
    examples: tuple[Any, ...] = ()
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "rule": self.rule.value,
            "count": self.count,
            "examples": [_plain(v) for v in self.examples],
            "detail": self.detail,
        }


@dataclass(frozen=True, eq=False)
class ValidationResult:
    """The verdict on one batch: ``valid`` and ``invalid`` partition its rows exactly.

    ``invalid`` carries a ``_reason`` column naming every rule each row broke. Both frames are
    built on first use: a caller that only needs the verdict pays for no copy.
    ``new_categories`` lists, per open category, the values training never saw: a batch-level
    signal (new-category drift), not a broken row.
    """

    contract_name: str
    contract_version: int
    frame: pd.DataFrame = field(repr=False)
    violations: tuple[Violation, ...]
    reasons: np.ndarray = field(repr=False)
    failures: dict[tuple[str, Rule], np.ndarray] = field(repr=False, default_factory=dict)
    new_categories: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @cached_property
    def _bad(self) -> np.ndarray:
        return pd.notna(self.reasons)

    @cached_property
    def valid(self) -> pd.DataFrame:
        return self.frame[~self._bad]

    @cached_property
    def invalid(self) -> pd.DataFrame:
        return self.frame[self._bad].assign(**{REASON_COLUMN: self.reasons[self._bad]})

    @property
    def ok(self) -> bool:
        return not self.violations

    def failing(self, column: str, rule: Rule) -> np.ndarray:
        """Boolean mask over the input rows: which rows broke ``rule`` on ``column``."""
        mask = self.failures.get((column, rule))
        return mask if mask is not None else np.zeros(len(self.reasons), dtype=bool)

    @property
    def batch_violations(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.rule.is_batch_rule)

    @property
    def row_violations(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if not v.rule.is_batch_rule)

    def to_dict(self) -> dict[str, Any]:
        return {
            "contract": self.contract_name,
            "contract_version": self.contract_version,
            "ok": self.ok,
            "rows_valid": int((~self._bad).sum()),
            "rows_invalid": int(self._bad.sum()),
            "violations": [v.to_dict() for v in self.violations],
            "new_categories": {name: list(values) for name, values in self.new_categories.items()},
        }


def validate(contract: Contract, df: pd.DataFrame, *, max_examples: int = 5) -> ValidationResult:
    """Check ``df`` against ``contract`` row by row.

    >>> import schemasense
    >>> contract = schemasense.infer(pd.DataFrame({"n": [1, 2, 3] * 10}))
    >>> result = contract.validate(pd.DataFrame({"n": [2, 99, None]}))
    >>> result.invalid["_reason"].tolist()
    ['n: 99 above maximum 5.0', 'n: missing value']
    """
    failures: list[tuple[np.ndarray, np.ndarray]] = []
    violations: list[Violation] = []
    masks: dict[tuple[str, Rule], np.ndarray] = {}

    def fail(
        column: str, rule: Rule, mask: Any, original: pd.Series, shown: pd.Series, template: str
    ) -> None:
        """Record ``rule`` broken on the rows of ``mask``; messages are built for those rows only."""
        hit = np.asarray(mask, dtype=bool)
        count = int(hit.sum())
        if count:
            examples = tuple(original[hit].drop_duplicates().head(max_examples).tolist())
            violations.append(Violation(column, rule, count, examples))
            before, placeholder, after = template.partition("{}")
            values = shown[hit].astype(str) if placeholder else [""] * count
            messages = [f"{column}: {before}{v}{after}" for v in values]
            failures.append((hit, np.array(messages, dtype=object)))
            masks[(column, rule)] = hit

    labels = _labels(df)
    new_categories: dict[str, tuple[str, ...]] = {}
    for name, column in contract.columns.items():
        if name not in labels and column.optional:
            continue  # an accepted addition: batches may still come without it
        if name not in labels:
            violations.append(Violation(name, Rule.MISSING_COLUMN, len(df), detail="column missing"))
            everyone = np.ones(len(df), dtype=bool)
            failures.append((everyone, np.full(len(df), f"{name}: column missing", dtype=object)))
            masks[(name, Rule.MISSING_COLUMN)] = everyone
            continue
        _check_column(column, df[labels[name]], fail, violations, new_categories)

    for name, label in labels.items():
        if name not in contract.columns:
            violations.append(Violation(name, Rule.UNEXPECTED_COLUMN, len(df), detail=dtype_word(df[label])))

    return ValidationResult(
        contract_name=contract.name,
        contract_version=contract.version,
        frame=df,
        violations=tuple(violations),
        reasons=_join_reasons(len(df), failures),
        failures=masks,
        new_categories=new_categories,
    )


def _check_column(
    column: ColumnContract,
    series: pd.Series,
    fail: Any,
    violations: list[Violation],
    new_categories: dict[str, tuple[str, ...]],
) -> None:
    name = column.name
    missing = series.isna()
    present = ~missing
    if not is_native(series, column.logical_type):
        detail = f"{column.logical_type.value} → {dtype_word(series)}"
        examples = tuple(series[present].head(3).tolist())
        violations.append(Violation(name, Rule.TYPE_CHANGED, int(present.sum()), examples, detail=detail))
    converted = coerce(series, column.logical_type, column.formats)
    values = converted.values
    expected = (
        "datetime in format " + " or ".join(column.formats) if column.formats else column.logical_type.value
    )
    fail(name, Rule.TYPE, converted.failed, series, series, "'{}' is not " + expected)
    if not column.nullable:
        fail(name, Rule.NOT_NULL, missing, series, series, "missing value")
    elif column.max_null_fraction is not None and len(series):
        nulls = int(missing.sum())
        if nulls >= MIN_NULL_BURST and nulls / len(series) > column.max_null_fraction:
            violations.append(
                Violation(
                    name,
                    Rule.NULL_FRACTION,
                    nulls,
                    detail=f"{nulls / len(series):.1%} missing; "
                    f"the contract allows {column.max_null_fraction:.1%}",
                )
            )
    if column.minimum is not None:
        low = (values < column.minimum).fillna(False).astype(bool)
        fail(name, Rule.MINIMUM, low, series, values, "{} below minimum " + f"{column.minimum}")
    if column.maximum is not None:
        high = (values > column.maximum).fillna(False).astype(bool)
        fail(name, Rule.MAXIMUM, high, series, values, "{} above maximum " + f"{column.maximum}")
    # Text rules read the values as text: codes that arrived as numbers (536365.0) read "536365".
    text = values if column.logical_type.is_text else series
    if column.allowed is not None:
        unknown = _unknown(column, text, present)
        if not column.categories_open:
            fail(name, Rule.ALLOWED, unknown, series, series, "'{}' is not an allowed value")
        elif more_than_expected(int(unknown.sum()), int(present.sum()), column.new_value_rate):
            # A new value of an open category is news about the batch, not a bad row; news when
            # more rows bring one than training's own pace of new values explains.
            new_categories[name] = tuple(sorted(text[unknown].astype(str).unique()))
    if column.pattern is not None:
        mismatch = present.to_numpy().copy()
        mismatch[mismatch] = ~_fullmatch(text[mismatch], column.pattern)
        fail(name, Rule.PATTERN, mismatch, series, series, "'{}' does not match " + column.pattern)
    if column.unique:
        repeated = present & values.duplicated(keep="first")
        fail(name, Rule.UNIQUE, repeated, series, series, "{} repeats an earlier row")


def _unknown(column: ColumnContract, text: pd.Series, present: pd.Series) -> np.ndarray:
    """Rows whose value is not one of the column's categories."""
    unknown = (present & ~text.isin(column.allowed)).to_numpy()  # type: ignore[arg-type]
    if unknown.any() and not column.logical_type.is_text:  # 1 for "1": a second look as text
        unknown[unknown] = ~text[unknown].astype(str).isin(column.allowed).to_numpy()  # type: ignore[arg-type]
    return unknown


def _fullmatch(values: pd.Series, pattern: str) -> np.ndarray:
    """Whether each value matches ``pattern`` in full; RE2 through pyarrow when it can read the pattern."""
    try:
        matched = values.astype("string[pyarrow]").str.fullmatch(pattern)
    except (ImportError, ValueError, TypeError):  # a pattern RE2 cannot compile: Python's own engine
        matched = values.astype(str).str.fullmatch(pattern)
    return matched.fillna(False).to_numpy(dtype=bool)


def _labels(df: pd.DataFrame) -> dict[str, Any]:
    """Column labels by their text name; names must be unique to be judged one rule each."""
    if not isinstance(df, pd.DataFrame):
        raise BatchError(f"expected a pandas DataFrame, got a {type(df).__name__}")
    labels = {str(label): label for label in df.columns}
    if len(labels) != len(df.columns):
        names = [str(label) for label in df.columns]
        repeated = sorted({n for n in names if names.count(n) > 1})
        raise BatchError(f"the batch has duplicated column names {repeated}; rename them first")
    return labels


def dtype_word(series: pd.Series) -> str:
    """How a person would name the storage type of ``series`` (``text``, not ``object``)."""
    kind = storage_kind(series.dtype)
    if kind is not None:
        return kind
    return "text" if is_native(series, LogicalType.STRING) else str(series.dtype)


def _join_reasons(rows: int, failures: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """One reason string per row (``None`` for rows that broke no rule)."""
    reasons = np.full(rows, None, dtype=object)
    for hit, messages in failures:
        for position, text in zip(np.flatnonzero(hit), messages, strict=True):
            previous = reasons[position]
            reasons[position] = text if previous is None else f"{previous}; {text}"
    return reasons


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)
