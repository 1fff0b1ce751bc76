"""Reading landed files: one file is one batch."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa


class BatchFileError(ValueError):
    """A landed file cannot be read; the message names the file."""


def read_batch(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV or Parquet batch with a RangeIndex (row ``i`` is line ``i + 2`` of a CSV)."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path).reset_index(drop=True)
        if suffix == ".csv":
            return pd.read_csv(path, keep_default_na=True).reset_index(drop=True)
    except (OSError, ValueError, pa.ArrowException, pd.errors.ParserError) as exc:
        raise BatchFileError(f"{path}: cannot read this batch: {exc}") from exc
    raise BatchFileError(f"{path}: unsupported file type {suffix!r}; expected .csv or .parquet")
