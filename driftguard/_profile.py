"""Per-batch profiles: every column's counts on bins fixed by a reference, and a bounded sample
of its rows, mergeable and serialisable (the counting itself is in ``_counting``, one column's
counts in ``_column_profile``, the row sample in ``_sample``).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ._column_profile import OTHER, ColumnProfile
from ._counting import profile_like, profile_new
from ._sample import SAMPLE_ROWS, RowSample

__all__ = ["OTHER", "ColumnProfile", "Profile", "merge_all", "profile"]


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
    >>> len(merged.sample)  # rows the domain classifier can use, mergeable like the counts
    102
    """

    rows: int
    columns: dict[str, ColumnProfile] = field(default_factory=dict)
    sample: RowSample | None = None

    def merge(self, other: Profile) -> Profile:
        names = list(self.columns) + [n for n in other.columns if n not in self.columns]
        merged = {}
        for name in names:
            mine, theirs = self.columns.get(name), other.columns.get(name)
            merged[name] = mine.merge(theirs) if mine and theirs else (mine or theirs)
        # A sample of only one side would not be a sample of both: none, unless one side is empty.
        sample = (
            self.sample.merge(other.sample)
            if self.sample is not None and other.sample is not None
            else (self.sample if not other.rows else other.sample if not self.rows else None)
        )
        return Profile(self.rows + other.rows, merged, sample)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rows": self.rows,
            "columns": {n: c.to_dict() for n, c in self.columns.items()},
        }
        if self.sample is not None:
            data["sample"] = self.sample.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        columns = {n: ColumnProfile.from_dict(c) for n, c in data["columns"].items()}
        sample = RowSample.from_dict(data["sample"]) if data.get("sample") else None
        return cls(int(data["rows"]), columns, sample)

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
    sample_rows: int = SAMPLE_ROWS,
) -> Profile:
    """Profile ``df``; with ``like``, use that reference's column kinds, bins and categories.

    The profile keeps a sample of up to ``sample_rows`` rows of its compared columns (0: none)
    for the domain classifier.
    """
    columns = {}
    for label in df.columns:
        name = str(label)
        template = like.columns.get(name) if like is not None else None
        if template is not None:
            columns[name] = profile_like(df[label], template)
        else:
            columns[name] = profile_new(name, df[label], bins, identifier_share)
    return Profile(len(df), columns, _sample(df, columns, sample_rows))


def merge_all(profiles: Iterable[Profile]) -> Profile:
    """Merge many profiles (a month of days is one profile)."""
    merged: Profile | None = None
    for item in profiles:
        merged = item if merged is None else merged.merge(item)
    if merged is None:
        raise ValueError("merge_all needs at least one profile")
    return merged


def _sample(df: pd.DataFrame, columns: Mapping[str, ColumnProfile], rows: int) -> RowSample | None:
    """A row sample of the compared (not skipped) columns."""
    compared = [i for i, label in enumerate(df.columns) if columns[str(label)].kind != "skipped"]
    if rows < 1 or not compared:
        return None
    numeric = [str(label) for label in df.columns if columns[str(label)].kind == "numeric"]
    return RowSample.of(df, numeric, rows, columns=compared)
