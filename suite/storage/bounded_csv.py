"""CSV through limits: every physical line and the header are checked before pandas parses
anything, so a 10 MB single line is refused in milliseconds instead of parsed for minutes.

Lines are physical (a quoted newline starts a new one); fields are counted exactly (quotes
respected) only on lines long enough to hold more than ``max_fields``.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from suite.config.settings import ReadSettings

from .content import BatchFileError

BLOCK = 1 << 20
DELIMITERS = (";", "\t", "|", ",")
RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def read_csv(path: Path, data: bytes, read: ReadSettings) -> pd.DataFrame:
    """The rows of UTF-8 ``data``; row ``i`` is line ``i + 2`` when no field holds a newline."""
    if not data.strip():
        raise BatchFileError(f"{path}: empty file")
    check_lines(path, data, read)
    header = check_header(path, _header(path, data))
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            frame = pd.read_csv(io.BytesIO(data), keep_default_na=True, index_col=False, encoding="utf-8")
        except pd.errors.ParserWarning:  # the first data row had extra fields
            raise _first_extra_fields(path, data, len(header)) from None
        except (ValueError, pd.errors.ParserError) as exc:
            raise _parse_error(path, exc) from exc
    return frame


def check_lines(path: Path, data: bytes, read: ReadSettings) -> None:
    """Refuse a physical line over ``read.max_line_bytes`` or a row over ``read.max_fields``."""
    if len(data) <= min(read.max_line_bytes, read.max_fields - 1):
        return  # too short to break either limit
    newlines = _newlines(data)
    ends = np.append(newlines, len(data))
    starts = np.insert(newlines + 1, 0, 0)
    lengths = ends - starts
    longest = int(np.argmax(lengths))
    if lengths[longest] > read.max_line_bytes:
        raise BatchFileError(
            f"{path}: line {longest + 1} is {int(lengths[longest]):,} bytes, "
            f"more than read.max_line_bytes ({read.max_line_bytes:,})"
        )
    for index in np.flatnonzero(lengths >= read.max_fields):  # only these can hold that many
        line = data[starts[index] : ends[index]]
        if line.count(b",") < read.max_fields:
            continue
        try:
            fields = len(next(csv.reader([line.decode("utf-8", "replace")]), []))
        except csv.Error:  # a field past csv's own size limit: count the commas
            fields = line.count(b",") + 1
        if fields > read.max_fields:
            raise BatchFileError(
                f"{path}: line {index + 1} has {fields:,} fields, "
                f"more than read.max_fields ({read.max_fields:,})"
            )


def _newlines(data: bytes) -> np.ndarray:
    """Where ``data``'s newlines are, found a block at a time (a mask of the whole file would
    cost as much memory as the file)."""
    view = np.frombuffer(data, dtype=np.uint8)
    return np.concatenate(
        [np.flatnonzero(view[start : start + BLOCK] == 10) + start for start in range(0, len(view), BLOCK)]
        or [np.empty(0, dtype=np.int64)]
    )


def _header(path: Path, data: bytes) -> list[str]:
    """The first non-blank record (a quoted name may hold a newline), decoded line by line."""
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace", newline="")
    try:
        for record in csv.reader(text):
            if any(field.strip() for field in record):
                return record
    except csv.Error as exc:  # an unclosed quote runs on past csv's field size limit
        raise BatchFileError(f"{path}: cannot read the header: {exc}") from exc
    raise BatchFileError(f"{path}: empty file")


def check_header(path: Path | str, names: list[str]) -> list[str]:
    """Refuse empty or repeated column names, and a lone column whose name holds a delimiter
    (the file uses another delimiter than ``,``)."""
    for position, name in enumerate(names, start=1):
        if not str(name).strip():
            raise BatchFileError(f"{path}: column {position} of the header has an empty name")
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in seen:
            raise BatchFileError(
                f"{path}: column name {name!r} repeats (columns {seen[name]} and {position} of the header)"
            )
        seen[name] = position
    if len(names) == 1:
        held = [d for d in DELIMITERS if d in str(names[0])]
        if held:
            raise BatchFileError(
                f"{path}: one column named {str(names[0])[:80]!r}: its name holds {held[0]!r}, "
                "so the file is not comma-separated"
            )
    return names


def _first_extra_fields(path: Path, data: bytes, expected: int) -> BatchFileError:
    """The line of the first data row with more fields than the header (pandas only warns)."""
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=""))
    rows = (record for record in reader if record)
    try:
        next(rows, None)
        for record in rows:
            if len(record) > expected:
                return _ragged(path, reader.line_num, expected, len(record))
    except csv.Error:
        pass
    return BatchFileError(f"{path}: a row has more fields than the header ({expected})")


def _parse_error(path: Path, exc: Exception) -> BatchFileError:
    found = RAGGED.search(str(exc))
    if found:
        expected, line, saw = (int(g) for g in found.groups())
        return _ragged(path, line, expected, saw)
    return BatchFileError(f"{path}: cannot parse this CSV: {str(exc).strip()[:300]}")


def _ragged(path: Path, line: int, expected: int, saw: int) -> BatchFileError:
    return BatchFileError(f"{path}: line {line} has {saw} fields, the header has {expected} (extra fields)")
