"""Per-batch profiles: exact counts on bins fixed by a reference, mergeable and serialisable.

A numeric column is counted exactly on up to ``bins`` quantile bins cut from the reference
(with the sum of each bin's values, so each bin's mean is known), with its moments, extremes
and a KLL quantile sketch. A categorical column counts its
categories exactly (the reference's categories always, plus the batch's own most frequent new
ones; the rest as "other"). Every column counts its missing values and keeps an HLL sketch of
its distinct values. Two profiles on the same bins merge by adding counts and merging sketches.

Column kinds are decided on the reference: identifier-like columns (integers or text with a
distinct value on nearly every row), free text with a distinct value on most rows, and
timestamps are not compared, since they change by design; they still get row and missing counts.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from . import _sketches
from ._bins import bin_positions
from .errors import IncompatibleProfilesError

OTHER = "__other__"
"""The category that counts every value outside the tracked ones."""
TOP_CATEGORIES = 50


@dataclass(frozen=True)
class ColumnProfile:
    """Counts of one column. ``kind`` is ``numeric``, ``categorical`` or ``skipped``."""

    name: str
    kind: str
    rows: int
    missing: int
    edges: tuple[float, ...] = ()
    counts: tuple[int, ...] = ()
    sums: tuple[float, ...] = ()
    categories: tuple[tuple[str, int], ...] = ()
    total: float = 0.0
    total_squares: float = 0.0
    minimum: float | None = None
    maximum: float | None = None
    quantile_sketch: bytes | None = field(default=None, repr=False)
    distinct_sketch: bytes | None = field(default=None, repr=False)
    note: str = ""

    @property
    def present(self) -> int:
        return self.rows - self.missing

    @property
    def mean(self) -> float | None:
        return self.total / self.present if self.kind == "numeric" and self.present else None

    @property
    def std(self) -> float | None:
        if self.kind != "numeric" or self.present < 2:
            return None
        variance = (self.total_squares - self.total**2 / self.present) / (self.present - 1)
        return float(np.sqrt(max(variance, 0.0)))

    @property
    def distinct(self) -> float | None:
        """Estimated distinct values (HLL); ``None`` when there were too many to sketch."""
        return _sketches.distinct_estimate(self.distinct_sketch)

    def quantiles(self, ranks: list[float]) -> list[float]:
        return _sketches.quantiles(self.quantile_sketch, ranks) if self.quantile_sketch else []

    def frequencies(self) -> dict[str, int]:
        """Exact counts of present values, keyed by category or by bin label."""
        if self.kind == "numeric":
            return dict(zip(bin_labels(self.edges), self.counts, strict=True))
        return dict(self.categories)

    def merge(self, other: ColumnProfile) -> ColumnProfile:
        if (self.name, self.kind, self.edges) != (other.name, other.kind, other.edges):
            raise IncompatibleProfilesError(
                f"column {self.name!r}: cannot merge a {self.kind} profile with a {other.kind} one "
                "on different bins; profile both batches like the same reference"
            )
        categories = Counter(dict(self.categories))
        categories.update(dict(other.categories))
        both = [v for v in (self.quantile_sketch, other.quantile_sketch) if v is not None]
        return replace(
            self,
            rows=self.rows + other.rows,
            missing=self.missing + other.missing,
            counts=tuple(a + b for a, b in zip(self.counts, other.counts, strict=True)),
            sums=tuple(a + b for a, b in zip(self.sums, other.sums, strict=True)),
            categories=tuple(sorted(categories.items())),
            total=self.total + other.total,
            total_squares=self.total_squares + other.total_squares,
            minimum=_pick(min, self.minimum, other.minimum),
            maximum=_pick(max, self.maximum, other.maximum),
            quantile_sketch=_sketches.merge_quantiles(*both)
            if len(both) == 2
            else (both[0] if both else None),
            distinct_sketch=_sketches.merge_distinct(self.distinct_sketch, other.distinct_sketch),
        )

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["edges"], data["counts"], data["sums"] = list(self.edges), list(self.counts), list(self.sums)
        data["categories"] = [list(item) for item in self.categories]
        data["quantile_sketch"] = _sketches.encode(self.quantile_sketch)
        data["distinct_sketch"] = _sketches.encode(self.distinct_sketch)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnProfile:
        return cls(
            **{
                **data,
                "edges": tuple(float(e) for e in data.get("edges", ())),
                "counts": tuple(int(c) for c in data.get("counts", ())),
                "sums": tuple(float(c) for c in data.get("sums", ())),
                "categories": tuple((str(k), int(v)) for k, v in data.get("categories", ())),
                "quantile_sketch": _sketches.decode(data.get("quantile_sketch")),
                "distinct_sketch": _sketches.decode(data.get("distinct_sketch")),
            }
        )


@dataclass(frozen=True)
class Profile:
    """Profiles of every column of a batch (or of several merged batches).

    >>> import pandas as pd
    >>> reference = profile(pd.DataFrame({"x": range(100), "c": ["a", "b"] * 50}))
    >>> day = profile(pd.DataFrame({"x": [5.0, None], "c": ["a", "z"]}), like=reference)
    >>> merged = reference.merge(day)
    >>> merged.rows, merged.columns["x"].missing, dict(merged.columns["c"].categories)
    (102, 1, {'a': 51, 'b': 50, 'z': 1})
    >>> Profile.from_bytes(merged.to_bytes()) == merged
    True
    """

    rows: int
    columns: dict[str, ColumnProfile] = field(default_factory=dict)

    def merge(self, other: Profile) -> Profile:
        names = list(self.columns) + [n for n in other.columns if n not in self.columns]
        merged = {}
        for name in names:
            mine, theirs = self.columns.get(name), other.columns.get(name)
            merged[name] = mine.merge(theirs) if mine and theirs else (mine or theirs)
        return Profile(self.rows + other.rows, merged)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "columns": {n: c.to_dict() for n, c in self.columns.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        columns = {n: ColumnProfile.from_dict(c) for n, c in data["columns"].items()}
        return cls(int(data["rows"]), columns)

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Profile:
        return cls.from_dict(json.loads(text))

    def to_bytes(self) -> bytes:
        return zlib.compress(self.to_json().encode("utf-8"))

    @classmethod
    def from_bytes(cls, blob: bytes) -> Profile:
        return cls.from_json(zlib.decompress(blob).decode("utf-8"))


def profile(
    df: pd.DataFrame,
    like: Profile | None = None,
    *,
    bins: int = 100,
    identifier_share: float = 0.95,
    sketches: bool = True,
) -> Profile:
    """Profile ``df``; with ``like``, use that reference's column kinds, bins and categories.

    ``sketches=False`` (with ``like`` only) leaves out the KLL and HLL sketches: exact counts
    alone, for a batch that is scored and dropped, never stored or merged.
    """
    columns = {}
    for label in df.columns:
        name = str(label)
        template = like.columns.get(name) if like is not None else None
        if template is not None:
            columns[name] = _profile_like(df[label], template, sketches)
        else:
            columns[name] = _profile_new(name, df[label], bins, identifier_share)
    return Profile(len(df), columns)


def merge_all(profiles: Iterable[Profile]) -> Profile:
    """Merge many profiles (a month of days is one profile)."""
    merged: Profile | None = None
    for item in profiles:
        merged = item if merged is None else merged.merge(item)
    if merged is None:
        raise ValueError("merge_all needs at least one profile")
    return merged


def bin_labels(edges: tuple[float, ...]) -> list[str]:
    bounds = ["-inf", *(f"{e:.6g}" for e in edges), "inf"]
    return [f"({lo}, {hi}]" for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def _profile_new(name: str, series: pd.Series, bins: int, identifier_share: float) -> ColumnProfile:
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


def _profile_like(series: pd.Series, template: ColumnProfile, sketches: bool = True) -> ColumnProfile:
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


def _pick(choose: Any, a: float | None, b: float | None) -> float | None:
    present = [v for v in (a, b) if v is not None]
    return choose(present) if present else None
