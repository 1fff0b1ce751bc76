"""CSV batches: record ends outside quoted fields, byte ranges, and chunks read as pandas would.

Every field is read as text by ``pyarrow.csv.open_csv`` (quoted line breaks allowed, pandas'
missing-value words), then each column is converted per chunk to the kind decided once for the
file (the contract's type, else what pyarrow infers from the first block); a chunk where that
fails keeps the column as text, as pandas would for the whole file. A byte range is read with
the header's names, so any range a cut produced reads alone.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

import schemasense

from .pieces import Chunk, Part
from .places import Place, is_url, open_read, size

CSV_BLOCK = 1 << 20
NA_VALUES = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
]  # fmt: skip
"""What ``pandas.read_csv`` reads as missing by default: the chunked reader agrees with it."""


def csv_header(path: Place) -> tuple[list[str], int]:
    """The CSV's column names and the byte offset of its first data line."""
    with open_read(path) as handle:
        line = handle.readline()
    if not line.strip():
        raise ValueError(f"{path}: no header line")
    return [str(n) for n in pd.read_csv(io.BytesIO(line), nrows=0).columns], len(line)


def csv_kinds(path: Place, contract: schemasense.Contract | None) -> dict[str, str]:
    """Each column's kind: the contract's type, else what pyarrow infers from the first block."""
    names, _ = csv_header(path)
    if contract is not None:
        types = {n: c.logical_type.value for n, c in contract.columns.items()}
        return {n: types[n] if types.get(n) in ("integer", "float", "boolean") else "text" for n in names}
    options = pacsv.ConvertOptions(null_values=NA_VALUES, strings_can_be_null=True, timestamp_parsers=[])
    source = open_read(path) if is_url(path) else str(path)
    reader = pacsv.open_csv(
        source, read_options=pacsv.ReadOptions(block_size=CSV_BLOCK), convert_options=options
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


def csv_parts(path: str, rows: int, kinds: Mapping[str, str]) -> list[Part]:
    """Byte ranges of ``rows`` records each, cut at record ends, with their first row numbers.

    A line break inside a quoted field ends no record: quotes are counted, and a break after an
    odd number of them is inside a field (an escaped quote, ``""``, counts twice).
    """
    _, start = csv_header(path)
    end = size(path)
    out: list[Part] = []
    first = lines = 0
    begin = position = start
    inside = False
    with open_read(path) as handle:
        handle.seek(start)
        for block in iter(lambda: handle.read(CSV_BLOCK), b""):
            ends, inside = _record_ends(block, inside)
            while lines + len(ends) >= rows:
                cut = position + int(ends[rows - lines - 1])
                out.append(csv_part(path, first, rows, (begin, cut), kinds))
                first, begin, ends, lines = first + rows, cut, ends[rows - lines :], 0
            lines += len(ends)
            position += len(block)
    if begin < end:
        last_line_open = end > start and _last_byte(path) != b"\n"
        out.append(csv_part(path, first, lines + last_line_open, (begin, end), kinds))
    return out or [csv_part(path, 0, 0, (start, start), kinds)]


def _record_ends(block: bytes, inside: bool) -> tuple[np.ndarray, bool]:
    """Offsets just past each line break of ``block`` outside quotes, and whether the block
    ends inside a quoted field (``inside``: whether it starts in one)."""
    data = np.frombuffer(block, dtype=np.uint8)
    quotes = np.cumsum(data == ord('"')) + int(inside)
    ends = np.flatnonzero((data == ord("\n")) & (quotes % 2 == 0)) + 1
    return ends, bool(quotes[-1] % 2) if len(quotes) else inside


def csv_part(path: str, first: int, rows: int, span: tuple[int, int], kinds: Mapping[str, str]) -> Part:
    return Part(path, "csv", first, rows, byte_range=span, kinds=tuple(kinds.items()))


def _last_byte(path: str) -> bytes:
    with open_read(path) as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1)


def csv_chunks(part: Part, rows: int) -> Iterator[Chunk]:
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
        self._handle = open_read(path)  # closed with the stream
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
