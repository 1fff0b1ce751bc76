"""The landing sensor's intake from a database (``source:``): new rows of a table or query land as
one Parquet snapshot per batch, as a landed file does, so the rest of the loop is unchanged.

- ``incremental: column``: a batch is the rows whose column is past the last batch's high-water
  mark, up to the largest value seen when the tick read it (``> lo AND <= hi``); no new rows, no
  batch. Rows that arrive later with a value at or below a mark already taken are not read again.
- ``per_day: column``: one batch per calendar day of the column (UTC), taken once the day is
  over: rows exist on a later day, or the day ended before now. Its key carries the date
  (``<dataset>_2013-01-05.parquet``), so the batch's event time is that day.

Rows are read with bound parameters, ordered by the column (then the dataset's keys), and
written whole (temporary file, then renamed or one PUT). The high-water mark of each batch is
kept in ``landed/<dataset>.source.json`` beside the landing record, written before the batch is
recorded: a lost sensor cursor, or a tick that died between the two writes, takes no row twice
(a mark counts only once its batch is in the record).

The column must be a number, date or timestamp (a text column compared with a date fails, and
the error says so); rows whose column is null are never read. A DuckDB file is opened for each
tick and closed after it: a DuckDB source and target in the same file are written by one
process at a time, so the daemon's ticks and the runs may wait on each other's lock (a tick
that cannot open it logs the error and reads at the next tick): give the target its own file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

import datareflex
from suite.config import DatasetConfig, SqlSource
from suite.storage.landings import LandingRecord, Taken
from suite.storage.objects import is_remote
from suite.storage.store import atomic_write
from suite.storage.tables import TableError, opened, quoted, where

from .intake import partition_key
from .object_intake import place

TAKE_SECONDS = 20.0
"""A tick stops reading batches after this long; the rest are read by the next ticks."""


def describe_source(source: SqlSource) -> str:
    """``table payments of postgresql://ana:***@db/ops`` (the password never shown)."""
    return where(source.table, source.url, source.query)


def take_from_source(dataset: DatasetConfig, record: LandingRecord, used: set[str]) -> list[Taken]:
    """Read every batch the source has ready, write each as a snapshot and return them (not yet
    recorded: the caller records them). Raises :class:`TableError` naming the dataset, the table
    or query and the column when the source cannot be read."""
    source = dataset.source
    assert source is not None
    column = source.incremental or source.per_day or ""
    marks = _Marks(record)
    try:
        with opened(source.url) as engine:
            reader = _Reader(engine, source, column, dataset.keys)
            windows = (_increment if source.incremental else _days)(reader, marks.last())
            return _take(dataset, record, reader, windows, marks, used)
    except Exception as exc:
        message = f"{dataset.name}: cannot read {describe_source(source)} by column {column!r}: {exc}"
        raise TableError(str(datareflex.redact(" ".join(message.split())))) from None


@dataclasses.dataclass
class _Reader:
    """Plain SQL on the source (no reflection: DuckDB 2.0 cannot), with bound parameters."""

    engine: sa.Engine
    source: SqlSource
    column: str
    keys: tuple[str, ...]

    @property
    def rows(self) -> str:
        if self.source.table:
            return f"SELECT * FROM {quoted(self.engine, self.source.table)}"
        return self.source.query or ""

    def sql(self, select: str, where: str = "", order: str = "") -> sa.TextClause:
        """``SELECT <select> FROM (<the source's rows>) <where> <order>``; ``{c}`` is the column."""
        column = quoted(self.engine, self.column)
        text = f"SELECT {select} FROM ({self.rows}) AS source_rows {where} {order}"
        return sa.text(text.replace("{c}", column))

    def scalar(self, select: str, where: str = "", **params: Any) -> Any:
        with self.engine.connect() as connection:
            return connection.execute(self.sql(select, where), params).scalar_one()

    def values(self, select: str, where: str = "", **params: Any) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(self.sql(f"DISTINCT {select}", where), params).scalars())

    def frame(self, where: str, **params: Any) -> pd.DataFrame:
        order = ", ".join(quoted(self.engine, c) for c in (self.column, *self.keys))
        with self.engine.connect() as connection:
            return pd.read_sql(self.sql("*", where, f"ORDER BY {order}"), connection, params=params)


@dataclasses.dataclass(frozen=True)
class _Window:
    """The rows of one batch: ``name`` says the table and the window, ``mark`` is kept."""

    key_stem: str
    name: str
    mark: Any
    where: str
    params: dict[str, Any]


def _increment(reader: _Reader, last: Any) -> list[_Window]:
    hi = reader.scalar("MAX({c})")
    if hi is None or (last is not None and hi <= last):
        return []
    what = reader.source.table or "query"
    if last is None:
        name = f"{what} {reader.column} <= {hi}"
        return [_Window(f"upto_{_text(hi)}", name, hi, "WHERE {c} <= :hi", {"hi": hi})]
    name = f"{what} {reader.column} > {last} and <= {hi}"
    return [_Window(f"upto_{_text(hi)}", name, hi, "WHERE {c} > :lo AND {c} <= :hi", {"lo": last, "hi": hi})]


def _days(reader: _Reader, last: Any) -> list[_Window]:
    """Each day with rows since the last day taken (one query), once it is over."""
    after = dt.date.fromisoformat(last) + dt.timedelta(days=1) if last else None
    where, params = ("WHERE {c} >= :start", {"start": after}) if after else ("", {})
    days = sorted({_day(value) for value in reader.values("CAST({c} AS DATE)", where, **params) if value})
    if not days:
        return []
    over_before = max(days[-1], dt.datetime.now(dt.UTC).date())  # over: a later day has rows, or has begun
    what = reader.source.table or "query"
    within = "WHERE {c} >= :start AND {c} < :end"
    return [
        _Window(
            day.isoformat(),
            f"{what} {reader.column} on {day.isoformat()}",
            day.isoformat(),
            within,
            {"start": day, "end": day + dt.timedelta(days=1)},
        )
        for day in days
        if day < over_before
    ]


def _take(
    dataset: DatasetConfig,
    record: LandingRecord,
    reader: _Reader,
    windows: list[_Window],
    marks: _Marks,
    used: set[str],
) -> list[Taken]:
    taken: list[Taken] = []
    deadline = time.monotonic() + TAKE_SECONDS
    for window in windows:
        if time.monotonic() > deadline:
            break
        rows = reader.frame(window.where, **window.params)
        if rows.empty:
            continue  # nothing in it (rows deleted since the bounds were read): no batch
        key = partition_key(f"{dataset.name}_{window.key_stem}.parquet", used)
        tmp, sha256, size = _written(rows, record.snapshots)
        marks.add(key, window.mark)  # before the record: a mark counts once its batch is recorded
        place(tmp, record.snapshots / key)
        used.add(key)
        taken.append(Taken(key, dt.datetime.now(dt.UTC), window.name, size, -1, sha256))
    return taken


def _written(rows: pd.DataFrame, snapshots: Any) -> tuple[Path, str, int]:
    """``rows`` as a Parquet file in a temporary file (beside the snapshots when local)."""
    folder = Path(tempfile.gettempdir()) if is_remote(snapshots) else Path(snapshots)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".source.", suffix=".tmp", delete=False) as handle:
        tmp = Path(handle.name)
    rows.to_parquet(tmp, index=False)
    data = tmp.read_bytes()
    return tmp, hashlib.sha256(data).hexdigest(), len(data)


class _Marks:
    """The high-water mark of each batch taken from the source, beside the landing record."""

    def __init__(self, record: LandingRecord) -> None:
        self.record = record
        self.path = record.path.with_name(record.path.name.replace(".json", ".source.json"))
        self.marks: dict[str, Any] = json.loads(self.path.read_text()) if self.path.exists() else {}

    def last(self) -> Any:
        """The mark of the latest batch in the landing record that has one, else ``None``."""
        for taken in reversed(self.record.taken()):
            if taken.key in self.marks:
                return _decoded(self.marks[taken.key])
        return None

    def add(self, key: str, mark: Any) -> None:
        self.marks[key] = _encoded(mark)
        text = json.dumps(self.marks, indent=0)
        atomic_write(self.path, lambda tmp: Path(tmp).write_text(text))


def _encoded(value: Any) -> dict[str, Any]:
    """A mark as JSON that reads back as the same type (bound again as a parameter).

    >>> [_decoded(_encoded(v)) for v in (dt.datetime(2013, 1, 5, 23), Decimal("10.50"), 7)]
    [datetime.datetime(2013, 1, 5, 23, 0), Decimal('10.50'), 7]
    """
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if hasattr(value, "item"):  # a numpy scalar
        value = value.item()
    return {"value": value if isinstance(value, int | float | str) else str(value)}


def _decoded(stored: dict[str, Any]) -> Any:
    if "decimal" in stored:
        return Decimal(stored["decimal"])
    if "datetime" in stored:
        return dt.datetime.fromisoformat(stored["datetime"])
    if "date" in stored:
        return dt.date.fromisoformat(stored["date"])
    return stored["value"]


def _day(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()


def _text(value: Any) -> str:
    """A mark as text fit for a key: ``2013-01-05T23-00-00``, ``1042``."""
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return re.sub(r"[^0-9A-Za-z._-]+", "-", text.split("+")[0]).strip("-")[:60]
