"""Database tables through SQLAlchemy: how a source or target is named, and a batch's published
rows written to a target table by write-audit-publish.

One engine per piece of work, with no pool (``NullPool``) and disposed at once: a DuckDB file
(``duckdb:///path.db``) can be open for writing in one process at a time, and the daemon, the
runs and ``dataops`` are different processes. DuckDB 2.0 cannot reflect tables through
SQLAlchemy, so everything here is plain SQL that PostgreSQL and DuckDB both accept.

Write-audit-publish of batch ``p``: its rows go to a staging table of their own; the staging
table is audited (its row count equals the published frame's, the dataset's keys are unique);
then one transaction deletes the target's rows of batch ``p`` (column ``_dataops_batch``),
inserts the staging rows and drops the staging table. A retry, or a release that adds rows to
the batch, therefore replaces the batch's rows, never adds them twice; readers of the target see
the batch's old rows or its new ones, never a mix. The target is created on its first write.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

import datareflex

BATCH_COLUMN = "_dataops_batch"
"""The column of a target table that says which batch each row was published in."""


class TableError(RuntimeError):
    """A source or target table that cannot be read or written; the message names it."""


@contextmanager
def opened(url: str) -> Iterator[sa.Engine]:
    """An engine on ``url`` without a pool, disposed on exit (no connection stays open)."""
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        yield engine
    finally:
        engine.dispose()


def where(table: str | None, url: str, query: str | None = None) -> str:
    """How a person reads a table's place: ``table payments of postgresql://ana:***@db/ops``
    (the URL's password never shown).

    >>> where("payments", "postgresql://ana:s3cret@db/ops")
    'table payments of postgresql://ana:***@db/ops'
    >>> where(None, "duckdb:///f.db", "SELECT * FROM t")
    'query "SELECT * FROM t" of duckdb:///f.db'
    """
    what = f"table {table}" if table else f'query "{" ".join((query or "").split())[:120]}"'
    return str(datareflex.redact(f"{what} of {url}"))


def landing_text(dataset: Any) -> str:
    """What a dataset's batches come from, for descriptions: ``files in <folder>``, or ``rows of
    table payments of postgresql://ana:***@db/ops`` for a database source."""
    source = dataset.source
    if source is None:
        return f"files in {dataset.landing}"
    return f"rows of {where(source.table, source.url, source.query)}"


def quoted(engine: sa.Engine, name: str) -> str:
    """``name`` (``schema.table`` or a column) quoted for ``engine``'s dialect, part by part."""
    preparer = engine.dialect.identifier_preparer
    return ".".join(preparer.quote(part) for part in name.split("."))


def publish_rows(
    url: str, table: str, batch: str, rows: pd.DataFrame, keys: Sequence[str] = ()
) -> dict[str, Any]:
    """Make the rows of ``batch`` in ``table`` exactly ``rows`` (write-audit-publish); return
    the metadata to show (where, rows written). Raises :class:`TableError` naming the table."""
    place = where(table, url)
    frame = rows.reset_index(drop=True).assign(**{BATCH_COLUMN: batch})
    try:
        with opened(url) as engine:
            staging = _staging_name(table, batch)
            _write_staging(engine, staging, frame)
            _audit(engine, staging, len(rows), keys)
            _swap_in(engine, quoted(engine, table), quoted(engine, staging), list(frame.columns), batch)
    except TableError:
        raise
    except Exception as exc:  # driver errors: say which table, and never the password
        raise TableError(str(datareflex.redact(f"writing batch {batch!r} to {place}: {exc}"))) from None
    return {"target": place, "target_rows_written": len(rows)}


def _staging_name(table: str, batch: str) -> str:
    """A staging table beside ``table`` (same schema), one per batch."""
    digest = hashlib.sha256(batch.encode()).hexdigest()[:12]
    schema, _, name = table.rpartition(".")
    staged = f"{name[:40]}__staging_{digest}"
    return f"{schema}.{staged}" if schema else staged


def _write_staging(engine: sa.Engine, staging: str, frame: pd.DataFrame) -> None:
    """The staging table created by pandas (types from the whole frame), filled in bulk: DuckDB
    reads the frame itself, PostgreSQL takes it by ``COPY``; other databases by batched INSERTs."""
    schema, _, name = staging.rpartition(".")
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP TABLE IF EXISTS {quoted(engine, staging)}"))
    bulk = {"duckdb": _duckdb_insert, "postgresql": _copy_insert}.get(engine.dialect.name)
    with engine.begin() as connection:
        frame.to_sql(
            name,
            connection,
            schema=schema or None,
            index=False,
            method=bulk or "multi",
            chunksize=None if bulk else 5_000,
        )


def _duckdb_insert(table: Any, connection: Any, keys: list[str], data: Any) -> int:
    """pandas' ``to_sql`` method for DuckDB: the frame read in place (``register``), not row by row."""
    raw = connection.connection.driver_connection
    raw.register("_dataops_frame", table.frame)
    try:
        listed = ", ".join(f'"{key}"' for key in keys)
        target = f'"{table.schema}"."{table.name}"' if table.schema else f'"{table.name}"'
        connection.exec_driver_sql(f"INSERT INTO {target} ({listed}) SELECT {listed} FROM _dataops_frame")
    finally:
        raw.unregister("_dataops_frame")
    return len(table.frame)


_NULL = "\\N"


def _copy_insert(table: Any, connection: Any, keys: list[str], data: Any) -> int:
    """pandas' ``to_sql`` method for PostgreSQL: one ``COPY … FROM STDIN`` of CSV (nulls as ``\\N``,
    so an empty text stays empty)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    count = 0
    for row in data:
        writer.writerow([_NULL if value is None else value for value in row])
        count += 1
    buffer.seek(0)
    listed = ", ".join(f'"{key}"' for key in keys)
    target = f'"{table.schema}"."{table.name}"' if table.schema else f'"{table.name}"'
    with connection.connection.driver_connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {target} ({listed}) FROM STDIN WITH (FORMAT csv, NULL '{_NULL}')", buffer)
    return count


def _audit(engine: sa.Engine, staging: str, expected: int, keys: Sequence[str]) -> None:
    """The staging rows are the published rows: as many, and the keys unique; else it is dropped."""
    table = quoted(engine, staging)
    with engine.connect() as connection:
        count = connection.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
        repeated = 0
        if keys:
            columns = ", ".join(quoted(engine, key) for key in keys)
            grouped = f"SELECT {columns} FROM {table} GROUP BY {columns} HAVING COUNT(*) > 1"
            repeated = connection.execute(sa.text(f"SELECT COUNT(*) FROM ({grouped}) AS r")).scalar_one()
    problems = [f"{count} rows staged, {expected} published"] if count != expected else []
    problems += [f"{repeated} values of {', '.join(keys)} repeated"] if repeated else []
    if problems:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        raise TableError(f"{staging}: the audit failed ({'; '.join(problems)}): nothing was published")


def _swap_in(engine: sa.Engine, target: str, staging: str, columns: list[str], batch: str) -> None:
    """One transaction: create the target if new, replace the batch's rows, drop the staging."""
    listed = ", ".join(quoted(engine, column) for column in columns)
    with engine.begin() as connection:
        connection.execute(
            sa.text(f"CREATE TABLE IF NOT EXISTS {target} AS SELECT {listed} FROM {staging} WHERE 1 = 0")
        )
        batch_column = quoted(engine, BATCH_COLUMN)
        connection.execute(sa.text(f"DELETE FROM {target} WHERE {batch_column} = :batch"), {"batch": batch})
        connection.execute(sa.text(f"INSERT INTO {target} ({listed}) SELECT {listed} FROM {staging}"))
        connection.execute(sa.text(f"DROP TABLE {staging}"))


def publish_batch(dataset: Any, batch: str, rows: Any) -> dict[str, Any]:
    """:func:`publish_rows` to ``dataset.target`` (nothing without one); ``rows``: a frame, or a
    large batch's :class:`~suite.scale.RowsOnDisk` (read whole to be written)."""
    if dataset.target is None:
        return {}
    if not isinstance(rows, pd.DataFrame):
        from suite.scale import ROW_COLUMN, read_rows

        rows = read_rows(rows.path).drop(columns=ROW_COLUMN, errors="ignore") if rows.rows else pd.DataFrame()
    return publish_rows(dataset.target.url, dataset.target.table, batch, rows, dataset.keys)


def batch_rows_of(url: str, table: str, batch: str) -> pd.DataFrame:
    """The rows of ``batch`` in the target ``table`` (without the batch column)."""
    with opened(url) as engine, engine.connect() as connection:
        query = f"SELECT * FROM {quoted(engine, table)} WHERE {quoted(engine, BATCH_COLUMN)} = :batch"
        frame = pd.read_sql(sa.text(query), connection, params={"batch": batch})
    return frame.drop(columns=BATCH_COLUMN)
