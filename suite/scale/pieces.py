"""What the scale-out passes around: a chunk of rows, and a part of a file for one worker."""

from __future__ import annotations

from dataclasses import dataclass, field

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
