"""A batch file as pandas frames of bounded rows, read through pyarrow's streaming readers.

Parquet is read with ``ParquetFile(path, pre_buffer=False).iter_batches`` (flat memory however
large the file), CSV with ``pyarrow.csv.open_csv``. Every chunk knows the file row of its first
row (row ``i`` of the file is line ``i + 2`` of a CSV), so a verdict names the row it judged.

A file splits into :class:`Part` s for the workers of a cluster: runs of Parquet row groups, or
CSV byte ranges cut at record ends (line breaks outside quoted fields). A file that cannot be read
raises :class:`~suite.storage.content.BatchFileError` naming the file and the row reached.

Column types are decided once per file, so every chunk of every part reads alike: Parquet's
schema (an integer column with a missing value anywhere is float in every chunk, as in a
whole-file read), and for CSV the kinds of :mod:`.csv_chunks`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import schemasense
from suite.storage.content import BatchFileError

from .csv_chunks import csv_chunks, csv_header, csv_kinds, csv_part, csv_parts
from .pieces import Chunk, Part
from .places import Place, as_text, open_read, parquet_file, size

CHUNK_ROWS = 250_000
"""Rows a chunk holds by default: a scan of 10 columns peaks near 550 MB with it (1M rows: 900)."""


def file_format(path: Place) -> str:
    """``parquet`` when the file starts with ``PAR1``, else ``csv``."""
    with open_read(path) as handle:
        return "parquet" if handle.read(4) == b"PAR1" else "csv"


def parts(path: Place, rows: int, contract: schemasense.Contract | None = None) -> list[Part]:
    """Split ``path`` into parts of about ``rows`` rows (at least one part)."""
    if file_format(path) == "parquet":
        return _parquet_parts(as_text(path), rows)
    return csv_parts(as_text(path), rows, csv_kinds(path, contract))


def whole(path: Place, contract: schemasense.Contract | None = None) -> Part:
    """All of ``path`` as one part, without reading it (a CSV's ``rows`` is then -1: not counted)."""
    if file_format(path) == "parquet":
        return _parquet_parts(as_text(path), 1 << 62)[0]
    _, start = csv_header(path)
    return csv_part(as_text(path), 0, -1, (start, size(path)), csv_kinds(path, contract))


def iter_chunks(
    path: Place,
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
    read = _parquet_chunks if part.format == "parquet" else csv_chunks
    first = part.first_row
    try:
        for chunk in read(part, rows):
            first = chunk.first_row + len(chunk.frame)
            yield chunk
    except (pa.ArrowException, OSError) as exc:  # the content, named by file and the row reached
        raise BatchFileError(f"{path}: unreadable after row {first} ({part.format}): {exc}") from exc


def _parquet_parts(path: str, rows: int) -> list[Part]:
    metadata = parquet_file(path).metadata
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
    source = parquet_file(part.path)
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
