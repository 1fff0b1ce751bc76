"""Dagster's SQLite storages, keeping an engine and its open connections per process.

Dagster's SQLite run and event log storages build a new engine for every connection and close
the connection after one transaction: every statement is compiled again, and every close makes
SQLite checkpoint its write-ahead log. In a burst of small batches that was most of the cost of a
batch run (66 events a run, about 13 ms each). These subclasses change only that: one engine per
process (a forked process makes its own) with SQLAlchemy's pool of open connections. A connection
serves one transaction at a time; SQLite's locking and durability are what they were. The
instances the suite writes use them (``suite/cli/demo.py``)::

    run_storage:
      {module: suite.storage.sqlite_instance, class: SqliteRuns, config: {base_dir: ...}}
    event_log_storage:
      {module: suite.storage.sqlite_instance, class: SqliteEvents, config: {base_dir: ...}}
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as db
from dagster._core.storage.event_log import ConsolidatedSqliteEventLogStorage
from dagster._core.storage.runs import SqliteRunStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData


class _Engines:
    """One engine per connection string, per process."""

    def __init__(self) -> None:
        self._pid = os.getpid()
        self._engines: dict[str, db.engine.Engine] = {}
        self._inherited: list[db.engine.Engine] = []

    def get(self, url: str) -> db.engine.Engine:
        if self._pid != os.getpid():  # forked: the parent's connections are never used or closed here
            self._inherited += self._engines.values()
            self._pid, self._engines = os.getpid(), {}
        if url not in self._engines:
            self._engines[url] = db.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
        return self._engines[url]


_ENGINES = _Engines()


@contextmanager
def _transaction(url: str) -> Iterator[db.engine.Connection]:
    with _ENGINES.get(url).connect() as conn, conn.begin():
        yield conn


class SqliteEvents(ConsolidatedSqliteEventLogStorage):
    """Every run's events in one SQLite file (``<base_dir>/event_log.db``), one engine per process."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._known_tables: set[str] = set()
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]
    ) -> SqliteEvents:
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _connect(self) -> Iterator[db.engine.Connection]:
        with _transaction(self._conn_string) as conn:
            yield conn

    def has_table(self, table_name: str) -> bool:
        """Asked before every dynamic-partition lookup (dozens per batch run); a table, once
        there, stays."""
        if table_name not in self._known_tables:
            engine = _ENGINES.get(self._conn_string)
            with engine.connect() as conn:
                if not engine.dialect.has_table(conn, table_name):
                    return False
            self._known_tables.add(table_name)
        return True


class SqliteRuns(SqliteRunStorage):
    """Dagster's SQLite run storage (``<base_dir>/runs.db``), one engine per process."""

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> SqliteRuns:
        return cls.from_local(inst_data=inst_data, **config_value)

    @contextmanager
    def connect(self) -> Iterator[db.engine.Connection]:
        with _transaction(self._conn_string) as conn:
            yield conn


def storage_yaml(dagster_home: str | os.PathLike[str]) -> str:
    """The ``run_storage`` and ``event_log_storage`` of a ``dagster.yaml`` at ``dagster_home``:
    these classes, over ``<dagster_home>/history`` (where Dagster keeps its own ``runs.db``).

    >>> print(storage_yaml("/srv/dagster").splitlines()[1])
      {module: suite.storage.sqlite_instance, class: SqliteRuns, config: {base_dir: /srv/dagster/history}}
    """
    base = os.path.join(os.fspath(dagster_home), "history")
    return "".join(
        f"{key}:\n  {{module: {__name__}, class: {cls.__name__}, config: {{base_dir: {base}}}}}\n"
        for key, cls in (("run_storage", SqliteRuns), ("event_log_storage", SqliteEvents))
    )
