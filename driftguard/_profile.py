"""Per-batch profiles: exact counts on bins fixed by a reference, mergeable and serialisable.

A numeric column is counted on the reference's decile edges (plus a bin for missing values);
a categorical column counts its categories (plus missing). Counts are exact, so tests on them
give honest p-values, and two profiles on the same bins merge by adding counts.

Column kinds are decided on the reference: identifier-like columns (integers or text with a
distinct value on nearly every row) and timestamps are not profiled, since they change by
design; text with more than ``max_categories`` values is not profiled either.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .errors import IncompatibleProfilesError

MISSING = "__missing__"
"""The bin (or category) that counts missing values: a null burst is drift too."""


@dataclass(frozen=True)
class ColumnProfile:
    """Counts of one column. ``kind`` is ``numeric``, ``categorical`` or ``skipped``."""

    name: str
    kind: str
    rows: int
    missing: int
    edges: tuple[float, ...] = ()
    counts: tuple[int, ...] = ()
    categories: tuple[tuple[str, int], ...] = ()
    total: float = 0.0
    total_squares: float = 0.0
    note: str = ""

    @property
    def present(self) -> int:
        return self.rows - self.missing

    @property
    def mean(self) -> float | None:
        return self.total / self.present if self.kind == "numeric" and self.present else None

    def frequencies(self) -> dict[str, int]:
        """Counts keyed by bin label or category, missing values included."""
        if self.kind == "numeric":
            labels = bin_labels(self.edges)
            out = dict(zip(labels, self.counts, strict=True))
        else:
            out = dict(self.categories)
        out[MISSING] = self.missing
        return out

    def merge(self, other: ColumnProfile) -> ColumnProfile:
        if (self.name, self.kind, self.edges) != (other.name, other.kind, other.edges):
            raise IncompatibleProfilesError(
                f"column {self.name!r}: cannot merge a {self.kind} profile with a {other.kind} one "
                "on different bins; profile both batches like the same reference"
            )
        categories = Counter(dict(self.categories))
        categories.update(dict(other.categories))
        return replace(
            self,
            rows=self.rows + other.rows,
            missing=self.missing + other.missing,
            counts=tuple(a + b for a, b in zip(self.counts, other.counts, strict=True)),
            categories=tuple(sorted(categories.items())),
            total=self.total + other.total,
            total_squares=self.total_squares + other.total_squares,
        )

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items()}
        data["edges"], data["counts"] = list(self.edges), list(self.counts)
        data["categories"] = [list(item) for item in self.categories]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnProfile:
        return cls(
            **{
                **data,
                "edges": tuple(float(e) for e in data.get("edges", ())),
                "counts": tuple(int(c) for c in data.get("counts", ())),
                "categories": tuple((str(k), int(v)) for k, v in data.get("categories", ())),
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
    >>> Profile.from_json(merged.to_json()) == merged
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


def profile(
    df: pd.DataFrame,
    like: Profile | None = None,
    *,
    bins: int = 10,
    max_categories: int = 50,
    identifier_share: float = 0.95,
) -> Profile:
    """Profile ``df``; with ``like``, use that reference's column kinds and bins."""
    columns = {}
    for name in df.columns:
        template = like.columns.get(str(name)) if like is not None else None
        if template is not None:
            columns[str(name)] = _profile_like(df[name], template)
        else:
            columns[str(name)] = _profile_new(str(name), df[name], bins, max_categories, identifier_share)
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


def _profile_new(
    name: str, series: pd.Series, bins: int, max_categories: int, identifier_share: float
) -> ColumnProfile:
    present = series.dropna()
    missing = int(series.isna().sum())
    distinct = present.nunique()
    dtype = series.dtype
    skipped = ColumnProfile(name, "skipped", len(series), missing)
    if pd.api.types.is_datetime64_any_dtype(dtype) or _looks_like_timestamps(present):
        return replace(skipped, note="timestamp")
    identifier = len(present) >= 50 and distinct >= identifier_share * len(present)
    numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if numeric:
        if identifier and pd.api.types.is_integer_dtype(dtype):
            return replace(skipped, note="identifier")
        values = present.to_numpy(dtype=float)
        quantiles = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]) if len(values) else []
        edges = tuple(float(e) for e in np.unique(quantiles))
        return _numeric(name, series, edges)
    if identifier:
        return replace(skipped, note="identifier")
    if distinct > max_categories:
        return replace(skipped, note=f"more than {max_categories} categories")
    return _categorical(name, series)


def _profile_like(series: pd.Series, template: ColumnProfile) -> ColumnProfile:
    if template.kind == "numeric":
        return _numeric(template.name, series, template.edges)
    if template.kind == "categorical":
        return _categorical(template.name, series)
    return replace(template, rows=len(series), missing=int(series.isna().sum()))


def _numeric(name: str, series: pd.Series, edges: tuple[float, ...]) -> ColumnProfile:
    """Exact counts on ``edges``; values that are not numbers count as missing."""
    numbers = (
        pd.to_numeric(series, errors="coerce")
        if not pd.api.types.is_bool_dtype(series.dtype)
        else series.astype(float)
    )
    values = numbers.dropna().to_numpy(dtype=float)
    counts = np.bincount(np.searchsorted(np.asarray(edges), values, side="left"), minlength=len(edges) + 1)
    return ColumnProfile(
        name,
        "numeric",
        len(series),
        len(series) - len(values),
        edges=edges,
        counts=tuple(int(c) for c in counts),
        total=float(values.sum()),
        total_squares=float((values**2).sum()),
    )


def _categorical(name: str, series: pd.Series) -> ColumnProfile:
    counts = series.dropna().astype(str).value_counts()
    categories = tuple(sorted((str(k), int(v)) for k, v in counts.items()))
    return ColumnProfile(name, "categorical", len(series), int(series.isna().sum()), categories=categories)


def _looks_like_timestamps(present: pd.Series) -> bool:
    if present.empty or not (present.dtype == object or pd.api.types.is_string_dtype(present.dtype)):
        return False
    sample = present.astype(str).head(200)
    if not sample.str.match(r"^\d{4}-\d{2}-\d{2}").all():
        return False
    return bool(pd.to_datetime(sample, errors="coerce", format="ISO8601").notna().all())
