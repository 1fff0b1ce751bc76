"""Plain statistics of a column, computed once per batch and merged across batches.

Inference is two steps, as in pandera: these statistics first, then a contract built from them
(:mod:`schemasense._infer`). Statistics merge exactly where they can (counts, extremes, value
counts, key hashes) and by weighted subsampling where they cannot (the quantile sample).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._coerce import storage_kind
from ._dates import format_matches
from ._patterns import EMAIL, UUID, shape
from ._text_counts import MAX_TRACKED_VALUES, text_counts

SAMPLE_SIZE = 4096
"""Numbers kept per column to estimate quantiles."""
TEXT_SAMPLE_SIZE = 1_000
"""Text values per batch examined for date formats and character shapes."""
MAX_SHAPES = 20


@dataclass(frozen=True)
class BatchSummary:
    """What one training batch looked like; kept so trends across batches can be seen."""

    rows: int
    nulls: int
    low: float | None = None
    median: float | None = None
    high: float | None = None


@dataclass(frozen=True, eq=False)
class ColumnStatistics:
    """Statistics of one column. ``kind`` is boolean, integer, float, datetime, text, mixed or empty."""

    name: str
    kind: str
    rows: int
    nulls: int
    batches: tuple[BatchSummary, ...]
    minimum: float | None = None
    maximum: float | None = None
    non_finite: int = 0
    sample: np.ndarray = field(default_factory=lambda: np.empty(0))
    values: dict[str, int] | None = None
    shapes: dict[str, int] | None = None
    formats: dict[str, int] = field(default_factory=dict)
    emails: int = 0
    uuids: int = 0
    text_seen: int = 0
    keys: np.ndarray | None = None

    @property
    def present(self) -> int:
        return self.rows - self.nulls

    @property
    def null_fraction(self) -> float:
        return self.nulls / self.rows if self.rows else 0.0

    @property
    def unique(self) -> bool:
        """No value repeated in any training batch, nor across them."""
        return self.keys is not None

    def quantile(self, q: float) -> float:
        return float(np.quantile(self.sample, q))

    def merge(self, other: ColumnStatistics) -> ColumnStatistics:
        """Statistics of both batches together."""
        kind = _merge_kind(self.kind, other.kind)
        return ColumnStatistics(
            name=self.name,
            kind=kind,
            rows=self.rows + other.rows,
            nulls=self.nulls + other.nulls,
            batches=self.batches + other.batches,
            minimum=_extreme(min, self.minimum, other.minimum),
            maximum=_extreme(max, self.maximum, other.maximum),
            non_finite=self.non_finite + other.non_finite,
            sample=_merge_samples(self.sample, self.present, other.sample, other.present),
            values=_merge_counts(self.values, other.values, MAX_TRACKED_VALUES),
            shapes=_merge_counts(self.shapes, other.shapes, MAX_SHAPES),
            formats=dict(Counter(self.formats) + Counter(other.formats)),
            emails=self.emails + other.emails,
            uuids=self.uuids + other.uuids,
            text_seen=self.text_seen + other.text_seen,
            keys=_merge_keys(self.keys, other.keys),
        )


def column_statistics(name: str, series: pd.Series) -> ColumnStatistics:
    """Statistics of one batch's column.

    Exact passes over every row: nulls, extremes, value counts of low-cardinality text, and the
    key check. Everything about the *shape* of values (date formats, character shapes, quantiles)
    is read from a systematic sample, which keeps a million rows to a fraction of a second.

    >>> stats = column_statistics("id", pd.Series([3, 1, 2, None], dtype="Int64"))
    >>> stats.kind, stats.nulls, stats.minimum, stats.maximum, stats.unique
    ('integer', 1, 1.0, 3.0, True)
    """
    rows = len(series)
    kind = _kind(series)
    if kind in ("integer", "float", "boolean"):
        missing = series.isna().to_numpy()
        present = series[~missing] if missing.any() else series
        return _numeric_statistics(name, kind, rows, int(missing.sum()), present)
    if kind != "text":
        return ColumnStatistics(
            name, kind, rows, int(series.isna().sum()), (BatchSummary(rows, int(series.isna().sum())),)
        )
    text = (
        series if pd.api.types.is_object_dtype(series.dtype) else series.astype(object).where(series.notna())
    )
    looked_at = _text_sample(text)
    formats = format_matches(looked_at)
    if formats and max(formats.values()) == len(looked_at):
        nulls = int(text.isna().sum())  # dates and times: their format is what matters
        return ColumnStatistics(
            name, kind, rows, nulls, (BatchSummary(rows, nulls),), formats=formats, text_seen=len(looked_at)
        )
    nulls, counts, keys = text_counts(text, looked_at)
    # Shapes and patterns are judged once per distinct sampled value, weighted by its count.
    distinct = looked_at.value_counts()
    words = pd.Series(distinct.index, dtype=object)
    weights = distinct.to_numpy()
    shapes = pd.Series(weights).groupby(words.map(shape).to_numpy()).sum()
    return ColumnStatistics(
        name,
        kind,
        rows,
        nulls,
        (BatchSummary(rows, nulls),),
        values=counts,
        shapes={str(k): int(v) for k, v in shapes.items()} if len(shapes) <= MAX_SHAPES else None,
        formats=formats,
        emails=int(weights[words.str.fullmatch(EMAIL).to_numpy(dtype=bool)].sum()),
        uuids=int(weights[words.str.fullmatch(UUID).to_numpy(dtype=bool)].sum()),
        text_seen=len(looked_at),
        keys=keys,
    )


def _text_sample(text: pd.Series) -> pd.Series:
    """Up to TEXT_SAMPLE_SIZE present values, evenly spaced over the batch."""
    sample = pd.Series(_sample(text.to_numpy(dtype=object), 4 * TEXT_SAMPLE_SIZE), dtype=object).dropna()
    return pd.Series(_sample(sample.to_numpy(dtype=object), TEXT_SAMPLE_SIZE), dtype=object)


def _numeric_statistics(name: str, kind: str, rows: int, nulls: int, present: pd.Series) -> ColumnStatistics:
    numbers = present.to_numpy(dtype=float)
    finite = numbers[np.isfinite(numbers)]
    ordered = np.sort(_sample(finite, 16 * SAMPLE_SIZE))
    keys = None
    if kind == "integer":
        values = present.to_numpy(dtype=np.int64)
        keys = values if _no_repeats(values) else None
    return ColumnStatistics(
        name,
        kind,
        rows,
        nulls,
        (BatchSummary(rows, nulls, *_low_median_high(ordered)),),
        minimum=float(finite.min()) if len(finite) else None,
        maximum=float(finite.max()) if len(finite) else None,
        non_finite=len(numbers) - len(finite),
        sample=_sample(ordered, SAMPLE_SIZE),
        keys=keys,
    )


def _no_repeats(values: np.ndarray) -> bool:
    return bool(pd.Series(_sample(values, TEXT_SAMPLE_SIZE)).is_unique) and bool(pd.Series(values).is_unique)


def _kind(series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_object_dtype(dtype):
        # Judged on a sample: a stray number among a million strings is caught when validating.
        sample = _sample(series.to_numpy(dtype=object), 4 * TEXT_SAMPLE_SIZE)
        inferred = pd.api.types.infer_dtype(sample, skipna=True)
        if inferred == "empty" and series.notna().any():
            inferred = pd.api.types.infer_dtype(series, skipna=True)
        return _INFERRED_KINDS.get(inferred, "empty" if inferred == "empty" else "mixed")
    if not series.count():
        return "empty"
    kind = storage_kind(dtype)
    if kind is not None:
        return kind
    if isinstance(dtype, pd.CategoricalDtype):
        return "text"
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    return _INFERRED_KINDS.get(inferred, "empty" if inferred == "empty" else "mixed")


_INFERRED_KINDS = {
    "string": "text",
    "boolean": "boolean",
    "integer": "integer",
    "floating": "float",
    "mixed-integer-float": "float",
    "datetime": "datetime",
    "datetime64": "datetime",
    "date": "datetime",
}


def _merge_keys(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    """The values of a key candidate in both batches, while none repeats (references, not copies)."""
    if a is None or b is None:
        return None
    both = np.concatenate([a, b])
    return both if pd.Series(both).is_unique else None


def _sample(values: np.ndarray, size: int) -> np.ndarray:
    """Up to ``size`` values, evenly spaced over the batch (deterministic)."""
    if len(values) <= size:
        return values
    return values[np.linspace(0, len(values) - 1, size).astype(int)]


def _merge_samples(a: np.ndarray, weight_a: int, b: np.ndarray, weight_b: int) -> np.ndarray:
    """A sample of both, each side keeping a share proportional to its rows."""
    if len(a) + len(b) <= SAMPLE_SIZE:
        return np.concatenate([a, b])
    take_a = round(SAMPLE_SIZE * weight_a / max(weight_a + weight_b, 1))
    return np.concatenate([_sample(np.sort(a), take_a), _sample(np.sort(b), SAMPLE_SIZE - take_a)])


def _merge_counts(a: dict[str, int] | None, b: dict[str, int] | None, cap: int) -> dict[str, int] | None:
    if a is None or b is None:
        return None
    merged = dict(Counter(a) + Counter(b))
    return merged if len(merged) <= cap else None


def _merge_kind(a: str, b: str) -> str:
    if a == b or b == "empty":
        return a
    if a == "empty":
        return b
    if {a, b} == {"integer", "float"}:
        return "float"
    return "mixed"


def _extreme(pick: Any, a: float | None, b: float | None) -> float | None:
    present = [v for v in (a, b) if v is not None]
    return pick(present) if present else None


def _low_median_high(values: np.ndarray) -> tuple[float | None, float | None, float | None]:
    if not len(values):
        return None, None, None
    low, median, high = np.quantile(values, [0.0, 0.5, 1.0])
    return float(low), float(median), float(high)
