"""A bounded, mergeable sample of a batch's rows, so the domain classifier can run on profiles.

Every row gets a random key from a generator seeded by the batch's own content; the sample keeps
the ``size`` rows with the smallest keys (a bottom-k sample), in the order of their keys. Keys
of different batches are
independent, so merging two samples and keeping the smallest keys of both is a uniform sample
of the union: a month of daily samples merges into a sample of the month, whichever machine
profiled each day. Values are kept as the classifier reads them: numbers as floats, everything
else as text (missing stays missing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

SAMPLE_ROWS = 2000
"""Rows a profile keeps for the domain classifier (its ``max_rows``)."""


@dataclass(frozen=True, eq=False)
class RowSample:
    """Up to ``size`` rows of a batch, each with its sampling key.

    >>> import pandas as pd
    >>> day = RowSample.of(pd.DataFrame({"x": range(5000), "c": ["a", "b"] * 2500}), ["x"], 100)
    >>> len(day), day.rows.dtypes.to_dict()
    (100, {'x': dtype('float64'), 'c': dtype('O')})
    >>> other = RowSample.of(pd.DataFrame({"x": range(5000, 8000), "c": ["z"] * 3000}), ["x"], 100)
    >>> merged = day.merge(other)
    >>> len(merged), 20 < int((merged.rows.c == "z").sum()) < 60  # about 3 in 8 from the second
    (100, True)
    >>> RowSample.from_dict(merged.to_dict()) == merged
    True
    """

    keys: np.ndarray
    rows: pd.DataFrame
    size: int = SAMPLE_ROWS

    @classmethod
    def of(
        cls,
        frame: pd.DataFrame,
        numeric: Sequence[str],
        size: int = SAMPLE_ROWS,
        columns: Sequence[int] | None = None,
    ) -> RowSample:
        """Sample ``frame`` (only the ``columns`` at these positions, when given; no other row or
        column is copied); columns named in ``numeric`` as floats, every other one as text."""
        keys = np.random.default_rng(_seed(frame)).random(len(frame))
        chosen = np.argpartition(keys, size)[:size] if len(frame) > size else np.arange(len(frame))
        chosen = chosen[np.argsort(keys[chosen], kind="stable")]  # rows in key order: merges are order-free
        kept = range(frame.shape[1]) if columns is None else columns
        wanted, values = set(numeric), {}
        for i in kept:  # column by column: taking rows of the whole frame consolidates it first
            column = frame.iloc[:, i].take(chosen).reset_index(drop=True)
            name = str(frame.columns[i])
            values[name] = _as_number(column) if name in wanted else _as_text(column)
        return cls(keys[chosen], pd.DataFrame(values, index=pd.RangeIndex(len(chosen))), size)

    def __len__(self) -> int:
        return len(self.keys)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RowSample):
            return NotImplemented
        return (
            self.size == other.size and np.array_equal(self.keys, other.keys) and self.rows.equals(other.rows)
        )

    __hash__ = None  # type: ignore[assignment]

    def merge(self, other: RowSample) -> RowSample:
        """The sample of both batches together: the smallest keys of the two."""
        size = min(self.size, other.size)
        keys = np.concatenate([self.keys, other.keys])
        rows = pd.concat([self.rows, other.rows], ignore_index=True)
        chosen = np.argsort(keys, kind="stable")[:size]
        return RowSample(keys[chosen], rows.iloc[chosen].reset_index(drop=True), size)

    def to_dict(self) -> dict[str, Any]:
        columns = {
            str(name): [None if pd.isna(v) else v for v in self.rows[name].tolist()] for name in self.rows
        }
        numeric = [str(name) for name in self.rows if pd.api.types.is_float_dtype(self.rows[name].dtype)]
        return {"size": self.size, "keys": self.keys.tolist(), "numeric": numeric, "columns": columns}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RowSample:
        keys = np.asarray(data["keys"], dtype=float)
        numeric = set(data.get("numeric", ()))
        columns = {
            name: pd.Series(values, dtype=float if name in numeric else object)
            for name, values in data["columns"].items()
        }
        return cls(keys, pd.DataFrame(columns, index=pd.RangeIndex(len(keys))), int(data["size"]))


def _seed(frame: pd.DataFrame) -> int:
    """A seed from the batch's content (its size and an even spread of up to 64 rows)."""
    if frame.empty:
        return len(frame.columns)
    spread = frame.iloc[np.linspace(0, len(frame) - 1, min(len(frame), 64)).astype(int)]
    try:
        digest = pd.util.hash_pandas_object(spread.astype(str), index=False).to_numpy()
    except TypeError:  # values pandas cannot hash even as text: the size alone
        return len(frame)
    return int(np.bitwise_xor.reduce(digest) ^ np.uint64(len(frame)))


def _as_number(values: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype(float)
    return pd.to_numeric(values, errors="coerce").astype(float)


def _as_text(values: pd.Series) -> pd.Series:
    text = values.astype(str).astype(object)
    text[values.isna().to_numpy()] = None
    return text
