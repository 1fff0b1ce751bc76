"""What the scale-out passes around: a chunk of rows, a part of a file for one worker, and rows
kept on disk."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Chunk:
    """Rows ``first_row`` .. ``first_row + len(frame) - 1`` of a file (the frame's index)."""

    first_row: int
    frame: pd.DataFrame = field(repr=False)


@dataclass(frozen=True)
class Part:
    """A piece of one file a worker reads on its own: row groups, or a CSV byte range."""

    path: str
    format: str
    first_row: int
    rows: int
    row_groups: tuple[int, ...] = ()
    byte_range: tuple[int, int] = (0, 0)
    kinds: tuple[tuple[str, str], ...] = ()
    """CSV: each column's kind (``integer``, ``float``, ``boolean``, ``text``)."""


@dataclass(frozen=True)
class RowsOnDisk:
    """Rows kept on disk, not in memory: a landed batch file too large to read whole, or a
    folder of Parquet files (``part-<first row>.parquet``) that a scan or a remediation wrote.
    ``path`` is a local path, or a URL (``s3://…``) when the storage is an object store.
    Asset values of a large batch are these; read the rows with ``pd.read_parquet(path)`` or
    ``dask.dataframe.read_parquet(path)``. ``rows`` is counted, except for a landed CSV file:
    there it is estimated from the file's first block.

    >>> RowsOnDisk.from_dict(RowsOnDisk("/data/day-1.csv", 12_000_000).to_dict())
    RowsOnDisk(path='/data/day-1.csv', rows=12000000)
    """

    path: str
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "rows": self.rows}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RowsOnDisk:
        return cls(str(data["path"]), int(data["rows"]))
