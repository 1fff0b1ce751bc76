"""A batch file as pandas frames of bounded rows, read through pyarrow's streaming readers.

Parquet is read with ``ParquetFile(path, pre_buffer=False).iter_batches`` (flat memory however
large the file), CSV with ``pyarrow.csv.open_csv``. Every chunk knows the file row of its first
row (row ``i`` of the file is line ``i + 2`` of a CSV), so a verdict names the row it judged.

A file splits into :class:`Part` s for the workers of a cluster: runs of Parquet row groups, or
CSV byte ranges cut at record ends (line breaks outside quoted fields). A file that cannot be read
raises :class:`~suite.storage.content.BatchFileError` naming the file and the row reached.

Column types are decided once per file, so every chunk of every part reads alike:
Parquet's schema, and for CSV every field is read as text, then converted per chunk to the
kind the contract (else the file's first block) gives it; a chunk where that fails keeps the
column as text, as pandas would for the whole file.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

import schemasense
from suite.storage.content import BatchFileError

CHUNK_ROWS = 250_000
"""Rows a chunk holds by default: a scan of 10 columns peaks near 550 MB with it (1M rows: 900)."""
CSV_BLOCK = 1 << 20
NA_VALUES = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
]  # fmt: skip
"""What ``pandas.read_csv`` reads as missing by default: the chunked reader agrees with it."""


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


def file_format(path: str | os.PathLike[str]) -> str:
    """``parquet`` when the file starts with ``PAR1``, else ``csv``."""
    with open(path, "rb") as handle:
        return "parquet" if handle.read(4) == b"PAR1" else "csv"


def parts(
    path: str | os.PathLike[str], rows: int, contract: schemasense.Contract | None = None
) -> list[Part]:
    """Split ``path`` into parts of about ``rows`` rows (at least one part)."""
    if file_format(path) == "parquet":
        return _parquet_parts(str(path), rows)
    return _csv_parts(str(path), rows, csv_kinds(path, contract))


def whole(path: str | os.PathLike[str], contract: schemasense.Contract | None = None) -> Part:
    """All of ``path`` as one part, without reading it (a CSV's ``rows`` is then -1: not counted)."""
    if file_format(path) == "parquet":
        return _parquet_parts(str(path), 1 << 62)[0]
    _, start = csv_header(path)
    return _csv_part(str(path), 0, -1, (start, Path(path).stat().st_size), csv_kinds(path, contract))


def iter_chunks(
    path: str | os.PathLike[str],
    rows: int = CHUNK_ROWS,
    contract: schemasense.Contract | None = None,
    part: Part | None = None,
) -> Iterator[Chunk]:
    """Chunks of at most ``rows`` rows of ``path`` (of one ``part`` of it, when given).

    >>> import tempfile, pandas as pd
    >>> path = tempfile.mkdtemp() + "/b.csv"
    >>> pd.DataFrame({"n": range(5), "c": list("abcab")}).to_csv(path, index=False)
    >>> [(c.first_row, len(c.frame)) for c in iter_chunks(path, rows=2)]
    [(0, 2), (2, 2), (4, 1)]
    """
    part = part or whole(path, contract)
    read = _parquet_chunks if part.format == "parquet" else _csv_chunks
    first = part.first_row
    try:
        for chunk in read(part, rows):
            first = chunk.first_row + len(chunk.frame)
            yield chunk
    except (pa.ArrowException, OSError) as exc:  # the content, named by file and the row reached
        raise BatchFileError(f"{path}: unreadable after row {first} ({part.format}): {exc}") from exc


def _parquet_parts(path: str, rows: int) -> list[Part]:
    metadata = pq.ParquetFile(path, pre_buffer=False).metadata
    out: list[Part] = []
    groups: list[int] = []
    first = taken = 0
    for index in range(metadata.num_row_groups):
        groups.append(index)
        taken += metadata.row_group(index).num_rows
        if taken >= rows or index == metadata.num_row_groups - 1:
            out.append(Part(path, "parquet", first, taken, row_groups=tuple(groups)))
            first, taken, groups = first + taken, 0, []
    return out or [Part(path, "parquet", 0, 0)]


def _parquet_chunks(part: Part, rows: int) -> Iterator[Chunk]:
    source = pq.ParquetFile(part.path, pre_buffer=False)
    widen = _nullable_integers(source)
    first = part.first_row
    for batch in source.iter_batches(batch_size=rows, row_groups=list(part.row_groups)):
        frame = pa.Table.from_batches([batch]).to_pandas()
        for name in widen:  # as a whole-file read: float wherever the file has a missing integer
            frame[name] = frame[name].astype(float)
        frame.index = pd.RangeIndex(first, first + len(frame))
        first += len(frame)
        yield Chunk(first - len(frame), frame)


def _nullable_integers(source: pq.ParquetFile) -> list[str]:
    """Integer columns with a missing value anywhere in the file (by the row groups' statistics)."""
    metadata, schema = source.metadata, source.schema_arrow
    out = []
    for position, name in enumerate(schema.names):
        if not pa.types.is_integer(schema.field(name).type):
            continue
        for group in range(metadata.num_row_groups):
            stats = metadata.row_group(group).column(position).statistics
            if stats is None or not stats.has_null_count or stats.null_count:
                out.append(name)
                break
    return out


def csv_header(path: str | os.PathLike[str]) -> tuple[list[str], int]:
    """The CSV's column names and the byte offset of its first data line."""
    with open(path, "rb") as handle:
        line = handle.readline()
    if not line.strip():
        raise ValueError(f"{path}: no header line")
    return [str(n) for n in pd.read_csv(io.BytesIO(line), nrows=0).columns], len(line)


def csv_kinds(path: str | os.PathLike[str], contract: schemasense.Contract | None) -> dict[str, str]:
    """Each column's kind: the contract's type, else what pyarrow infers from the first block."""
    names, _ = csv_header(path)
    if contract is not None:
        types = {n: c.logical_type.value for n, c in contract.columns.items()}
        return {n: types[n] if types.get(n) in ("integer", "float", "boolean") else "text" for n in names}
    options = pacsv.ConvertOptions(null_values=NA_VALUES, strings_can_be_null=True, timestamp_parsers=[])
    reader = pacsv.open_csv(
        str(path), read_options=pacsv.ReadOptions(block_size=CSV_BLOCK), convert_options=options
    )
    schema = reader.schema
    reader.close()

    def kind(dtype: pa.DataType) -> str:
        if pa.types.is_integer(dtype):
            return "integer"
        if pa.types.is_floating(dtype):
            return "float"
        return "boolean" if pa.types.is_boolean(dtype) else "text"

    return {n: kind(schema.field(i).type) for i, n in enumerate(names)}


def _csv_parts(path: str, rows: int, kinds: Mapping[str, str]) -> list[Part]:
    """Byte ranges of ``rows`` records each, cut at record ends, with their first row numbers.

    A line break inside a quoted field ends no record: quotes are counted, and a break after an
    odd number of them is inside a field (an escaped quote, ``""``, counts twice).
    """
    _, start = csv_header(path)
    size = Path(path).stat().st_size
    out: list[Part] = []
    first = lines = 0
    begin = position = start
    inside = False
    with open(path, "rb") as handle:
        handle.seek(start)
        for block in iter(lambda: handle.read(CSV_BLOCK), b""):
            ends, inside = _record_ends(block, inside)
            while lines + len(ends) >= rows:
                cut = position + int(ends[rows - lines - 1])
                out.append(_csv_part(path, first, rows, (begin, cut), kinds))
                first, begin, ends, lines = first + rows, cut, ends[rows - lines :], 0
            lines += len(ends)
            position += len(block)
    if begin < size:
        last_line_open = size > start and _last_byte(path) != b"\n"
        out.append(_csv_part(path, first, lines + last_line_open, (begin, size), kinds))
    return out or [_csv_part(path, 0, 0, (start, start), kinds)]


def _record_ends(block: bytes, inside: bool) -> tuple[np.ndarray, bool]:
    """Offsets just past each line break of ``block`` outside quotes, and whether the block
    ends inside a quoted field (``inside``: whether it starts in one)."""
    data = np.frombuffer(block, dtype=np.uint8)
    quotes = np.cumsum(data == ord('"')) + int(inside)
    ends = np.flatnonzero((data == ord("\n")) & (quotes % 2 == 0)) + 1
    return ends, bool(quotes[-1] % 2) if len(quotes) else inside


def _csv_part(path: str, first: int, rows: int, span: tuple[int, int], kinds: Mapping[str, str]) -> Part:
    return Part(path, "csv", first, rows, byte_range=span, kinds=tuple(kinds.items()))


def _last_byte(path: str) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1)


def _csv_chunks(part: Part, rows: int) -> Iterator[Chunk]:
    kinds = dict(part.kinds)
    read = pacsv.ReadOptions(block_size=CSV_BLOCK, column_names=list(kinds), skip_rows=0)
    convert = pacsv.ConvertOptions(
        column_types={n: pa.string() for n in kinds}, null_values=NA_VALUES, strings_can_be_null=True
    )
    parse = pacsv.ParseOptions(newlines_in_values=True)  # as pandas: a quoted field may span lines
    source = _Range(part.path, *part.byte_range)
    first, waiting = part.first_row, []
    with pacsv.open_csv(source, read_options=read, parse_options=parse, convert_options=convert) as reader:
        for batch in reader:
            waiting.append(batch)
            if sum(len(b) for b in waiting) >= rows:
                yield from _emit(waiting, rows, first, kinds)
                first += sum(len(b) for b in waiting) // rows * rows
                waiting = _rest(waiting, rows)
    if waiting and sum(len(b) for b in waiting):
        yield from _emit(waiting, sum(len(b) for b in waiting), first, kinds)


def _emit(batches: list[pa.RecordBatch], rows: int, first: int, kinds: Mapping[str, str]) -> Iterator[Chunk]:
    table = pa.Table.from_batches(batches)
    for start in range(0, len(table) - len(table) % rows, rows):
        frame = _convert(table.slice(start, rows).to_pandas(), kinds)
        frame.index = pd.RangeIndex(first + start, first + start + len(frame))
        yield Chunk(first + start, frame)


def _rest(batches: list[pa.RecordBatch], rows: int) -> list[pa.RecordBatch]:
    table = pa.Table.from_batches(batches)
    left = len(table) % rows
    return table.slice(len(table) - left).to_batches() if left else []


def _convert(frame: pd.DataFrame, kinds: Mapping[str, str]) -> pd.DataFrame:
    """Text columns to the numbers or booleans of their kind, where every value converts."""
    for name, kind in kinds.items():
        text = frame[name]
        if kind in ("integer", "float"):
            try:
                frame[name] = pd.to_numeric(text)
            except (ValueError, TypeError):
                continue
            if kind == "float":
                frame[name] = frame[name].astype(float)
        elif kind == "boolean" and not text.isna().any():
            lowered = text.str.lower()
            if lowered.isin(["true", "false"]).all():
                frame[name] = lowered == "true"
    return frame


class _Range(io.RawIOBase):
    """The bytes ``start`` .. ``end`` of a file, read as a stream without its header line."""

    def __init__(self, path: str, start: int, end: int) -> None:
        self._handle = open(path, "rb")  # noqa: SIM115 - closed with the stream
        self._handle.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        size = min(len(buffer), self._left)
        data = self._handle.read(size)
        buffer[: len(data)] = data
        self._left -= len(data)
        return len(data)

    def close(self) -> None:
        self._handle.close()
        super().close()
