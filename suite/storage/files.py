"""Reading landed files: one file is one batch, read within the dataset's ``read:`` limits.

Content is recognised by its first bytes, not its name: gzip, bz2, xz or a one-file zip is
decompressed (with a cap), Parquet is ``PAR1``, anything else is CSV text read through
:mod:`suite.storage.bounded_csv`. A file that cannot be a batch raises :class:`BatchFileError`
naming the file (and the line, where there is one); a failure of the file system itself is a
:class:`BatchIOError`, the only kind worth retrying.

A file on an object store (a :class:`upath.UPath`) is first downloaded, within the same memory
limit, into a local temporary file that is read the same way; errors name the object's URL.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from suite.config.settings import ReadSettings

from .bounded_csv import check_header, read_csv
from .content import BatchFileError, BatchIOError, decode, load
from .objects import is_remote

__all__ = ["UNREADABLE", "BatchFileError", "BatchIOError", "BatchRead", "read_batch", "read_batch_file"]

UNREADABLE = "unreadable: "
"""How the reason starts when a batch is rejected because its file's content cannot be read."""
MB = 1 << 20
CSV_EXPANSION = 5
"""A CSV's frame took 4.4 times its text (100,000 orders rows, object strings), plus the text."""
PARQUET_EXPANSION = 3
"""The Arrow table and the pandas frame built from it, over Parquet's uncompressed size."""


@dataclass(frozen=True, eq=False)
class BatchRead:
    """A batch's rows and how its file was read (format, compression, encoding)."""

    frame: pd.DataFrame
    format: str
    compression: str | None
    encoding: str | None

    def describe(self) -> dict[str, str]:
        return {
            "format": self.format,
            "compression": self.compression or "none",
            "encoding": self.encoding or "binary (Parquet)",
        }


def read_batch(
    path: str | os.PathLike[str] | Any,
    read: ReadSettings | None = None,
    *,
    contract_columns: Collection[str] | None = None,
) -> pd.DataFrame:
    """Read a CSV or Parquet batch with a RangeIndex (row ``i`` is line ``i + 2`` of a CSV)."""
    return read_batch_file(path, read, contract_columns=contract_columns).frame


def read_batch_file(
    path: str | os.PathLike[str] | Any,
    read: ReadSettings | None = None,
    *,
    contract_columns: Collection[str] | None = None,
) -> BatchRead:
    """Read one landed file (a local path, or a UPath on an object store) within ``read``'s
    limits; with ``contract_columns``, a file sharing none of them (another dataset's file) is
    refused."""
    read = read or ReadSettings()
    if is_remote(path):
        return _read_object(path, read, contract_columns)
    return _read_local(Path(path), read, contract_columns)


def _read_object(source: Any, read: ReadSettings, contract_columns: Collection[str] | None) -> BatchRead:
    """Download ``source`` into a temporary file and read that; messages name ``source``."""
    limit = read.max_memory_mb * MB // CSV_EXPANSION
    with tempfile.TemporaryDirectory(prefix="dataops-read-") as folder:
        local = Path(folder) / (source.name or "batch")
        try:
            size = int(source.fs.info(source.path)["size"])
            if size <= limit:
                source.fs.get_file(source.path, str(local))
        except InterruptedError:
            raise  # a signal, not the store: never retried as I/O
        except OSError as exc:
            raise BatchIOError(f"{source}: cannot read the object: {exc}") from exc
        if size > limit:
            too_big = "needs more memory than read.max_memory_mb allows"
            raise BatchFileError(f"{source}: {size:,} bytes: {too_big}")
        try:
            return _read_local(local, read, contract_columns)
        except BatchFileError as exc:
            raise type(exc)(str(exc).replace(str(local), str(source))) from exc


def _read_local(path: Path, read: ReadSettings, contract_columns: Collection[str] | None) -> BatchRead:
    content = load(path, read.max_memory_mb * MB // CSV_EXPANSION)
    kind, compression, encoding = content.format, content.compression, None
    if kind == "parquet":
        frame = _read_parquet(path, content.data, read)
    else:
        text, encoding = decode(path, content.data, read.encoding)
        del content  # the decompressed bytes, when they were not the text itself
        frame = read_csv(path, text, read)
    if frame.empty and len(frame.columns):
        count = len(frame.columns)
        raise BatchFileError(f"{path}: no rows, only a header ({count} column{'s' * (count != 1)})")
    _check_columns(path, frame, contract_columns)
    return BatchRead(frame.reset_index(drop=True), kind, compression, encoding)


def _read_parquet(path: Path, data: bytes, read: ReadSettings) -> pd.DataFrame:
    try:
        source = pa.BufferReader(data)  # no Python callbacks: an interrupt stays an interrupt
        metadata = pq.ParquetFile(source).metadata
        needed = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
        if needed * PARQUET_EXPANSION > read.max_memory_mb * MB:
            raise BatchFileError(
                f"{path}: {needed:,} bytes uncompressed: needs more memory than read.max_memory_mb allows"
            )
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise BatchFileError(f"{path}: truncated or corrupt Parquet: {exc}") from exc
    check_header(path, [str(name) for name in table.column_names])
    return table.to_pandas()


def _check_columns(path: Path, frame: pd.DataFrame, contract_columns: Collection[str] | None) -> None:
    if not contract_columns or set(map(str, frame.columns)) & set(contract_columns):
        return
    theirs = ", ".join(map(str, list(frame.columns)[:10]))
    ours = ", ".join(list(contract_columns)[:10])
    raise BatchFileError(
        f"{path}: no column in common with the contract (file: {theirs}; contract: {ours}): "
        "another dataset's file?"
    )
