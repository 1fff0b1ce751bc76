"""The ledger: one append-only record per step of the loop (signal, decision, action, outcome).

Records carry the batch's event time (its own date, not when it was handled) in an indexed
column, so guardrails count event time and a backfill reads like the same days arriving live.
Guardrails read only the window they need (:meth:`Ledger.records` with ``steps``, ``kinds``,
``last``, ``event_since``; :meth:`Ledger.open_approvals`), through indexes on
(dataset, batch), (dataset, id), (dataset, event time) and the request an answer refers to.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from ._approvals import Approval, Record, approvals_of
from ._redact import redact

_METADATA = sa.MetaData()
_RECORDS = sa.Table(
    "ledger",
    _METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("recorded_at", sa.String(32), nullable=False),
    sa.Column("dataset", sa.String(200), nullable=False),
    sa.Column("batch", sa.String(500), nullable=False),
    sa.Column("step", sa.String(20), nullable=False),
    sa.Column("kind", sa.String(100), nullable=False),
    sa.Column("contract_version", sa.Integer, nullable=True),
    sa.Column("reference", sa.String(500), nullable=True),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("event_time", sa.String(32), nullable=True),
    sa.Column("request", sa.Integer, nullable=True),  # the approval request an answer is about
    sa.Index("ix_ledger_dataset_batch", "dataset", "batch"),
    sa.Index("ix_ledger_dataset_id", "dataset", "id"),
    sa.Index("ix_ledger_dataset_kind_id", "dataset", "kind", "id"),
    sa.Index("ix_ledger_dataset_event_time", "dataset", "event_time"),
    sa.Index("ix_ledger_request", "request"),
)
STEPS = ("signal", "decision", "action", "approval", "outcome")


def timestamp(moment: dt.datetime | dt.date) -> str:
    """``moment`` as the ledger stores it: ISO 8601 in UTC (a date is its midnight; naive is UTC)."""
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime.combine(moment, dt.time(), tzinfo=dt.UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


class Ledger:
    """Append-only records in any SQLAlchemy database (SQLite by default).

    ``rows_read`` counts the records read back since the ledger was opened: guardrails must
    read a bounded number of them however long the ledger grows.

    >>> ledger = Ledger("sqlite://")
    >>> ledger.append("orders", "day-1", "decision", "publish", {"signals": 0})
    1
    >>> [(r.step, r.kind, r.detail) for r in ledger.records(batch="day-1")], ledger.rows_read
    ([('decision', 'publish', {'signals': 0})], 1)
    """

    def __init__(self, url: str = "sqlite:///ledger.db") -> None:
        self.url = url
        self.rows_read = 0
        self._engine = sa.create_engine(url)
        _migrate(self._engine)
        _METADATA.create_all(self._engine)
        for index in _RECORDS.indexes:  # a table that existed before gets the indexes it lacks
            index.create(self._engine, checkfirst=True)

    def append(
        self,
        dataset: str,
        batch: str,
        step: str,
        kind: str,
        detail: Mapping[str, Any] | None = None,
        *,
        contract_version: int | None = None,
        reference: str | None = None,
        at: dt.datetime | None = None,
        event_time: dt.datetime | dt.date | None = None,
    ) -> int:
        """Append one record and return its id. ``at`` is when (default now); ``event_time`` the
        batch's own time (default ``at``). Secrets in ``detail`` and ``reference`` (a URL's
        password or token) are redacted (:func:`datareflex.redact`) before they are written."""
        if step not in STEPS:
            raise ValueError(f"step must be one of {STEPS}, got {step!r}")
        recorded = at or dt.datetime.now(dt.UTC)
        row = {
            "recorded_at": timestamp(recorded),
            "dataset": dataset,
            "batch": batch,
            "step": step,
            "kind": kind,
            "contract_version": contract_version,
            "reference": redact(reference),
            "detail": json.dumps(redact(json.loads(json.dumps(dict(detail or {}), default=str)))),
            "event_time": timestamp(event_time if event_time is not None else recorded),
            "request": (detail or {}).get("request") if step == "approval" else None,
        }
        with self._engine.begin() as connection:
            key = connection.execute(_RECORDS.insert().values(**row)).inserted_primary_key
        assert key is not None  # an autoincrement id is always returned on insert
        return int(key[0])

    def records(
        self,
        dataset: str | None = None,
        batch: str | Sequence[str] | None = None,
        *,
        steps: Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
        event_since: dt.datetime | dt.date | None = None,
        last: int | None = None,
    ) -> list[Record]:
        """Records in the order they were appended, filtered in the database.

        ``last`` keeps the newest so many (still oldest first); ``event_since`` keeps event
        times from it on.
        """
        query = sa.select(_RECORDS)
        conditions = {
            "dataset": (_RECORDS.c.dataset == dataset) if dataset is not None else None,
            "batch": (
                None
                if batch is None
                else _RECORDS.c.batch == batch
                if isinstance(batch, str)
                else _RECORDS.c.batch.in_(list(batch))
            ),
            "steps": _RECORDS.c.step.in_(list(steps)) if steps is not None else None,
            "kinds": _RECORDS.c.kind.in_(list(kinds)) if kinds is not None else None,
            "event_since": (
                (_RECORDS.c.event_time >= timestamp(event_since)) if event_since is not None else None
            ),
        }
        for condition in conditions.values():
            if condition is not None:
                query = query.where(condition)
        query = query.order_by(_RECORDS.c.id.desc() if last is not None else _RECORDS.c.id)
        if last is not None:
            query = query.limit(last)
        found = self._read(query)
        return found[::-1] if last is not None else found

    def record(self, id: int) -> Record | None:
        """The record with ``id``, if there is one."""
        found = self._read(sa.select(_RECORDS).where(_RECORDS.c.id == id))
        return found[0] if found else None

    def approvals(self, dataset: str | None = None) -> list[Approval]:
        """Every approval request with its current status."""
        return approvals_of(self.records(dataset=dataset, steps=("approval",)))

    def open_approvals(self, dataset: str) -> list[Approval]:
        """The requests of ``dataset`` not yet carried out (asked, granted or refused).

        Reads only those requests and their answers, however many were carried out before.
        """
        answers = sa.alias(_RECORDS)
        done = sa.exists().where(answers.c.request == _RECORDS.c.id, answers.c.kind == "done")
        requests = self._read(
            sa.select(_RECORDS)
            .where(_RECORDS.c.dataset == dataset, _RECORDS.c.step == "approval")
            .where(_RECORDS.c.kind == "requested", ~done)
            .order_by(_RECORDS.c.id)
        )
        ids = [r.id for r in requests]
        replies = self._read(sa.select(_RECORDS).where(_RECORDS.c.request.in_(ids)).order_by(_RECORDS.c.id))
        return approvals_of(sorted([*requests, *replies], key=lambda r: r.id))

    def decide(self, request: int, granted: bool, by: str = "") -> Approval:
        """Grant or refuse a pending request (``dataops approve ID`` / ``dataops reject ID``)."""
        return self._answer(request, "requested", "granted" if granted else "refused", {"by": by})

    def carried_out(self, request: int, notes: list[str]) -> Approval:
        """Record that a granted request was carried out; what was done goes in ``notes``."""
        return self._answer(request, "granted", "done", {"notes": notes})

    def _approval(self, request: int) -> Approval | None:
        """One request as it is now, read from its own records only."""
        asked = self.record(request)
        if asked is None or asked.step != "approval" or asked.kind != "requested":
            return None
        replies = self._read(sa.select(_RECORDS).where(_RECORDS.c.request == request).order_by(_RECORDS.c.id))
        return approvals_of([asked, *replies])[0]

    def _answer(self, request: int, expected: str, kind: str, detail: Mapping[str, Any]) -> Approval:
        """Append ``kind`` to a request whose status is ``expected``; return it as it is now."""
        found = self._approval(request)
        if expected == "granted" and (found is None or found.status != expected):
            raise ValueError(f"approval request {request} is not granted: nothing to carry out")
        if found is None:
            raise ValueError(f"no approval request {request} in {redact(self.url)}")
        if found.status != expected:
            raise ValueError(f"approval request {request} was already {found.status}")
        self.append(
            found.dataset,
            found.batch,
            "approval",
            kind,
            {"request": request, "action": found.action, **detail},
        )
        answered = self._approval(request)
        assert answered is not None  # it was there a moment ago, and records are never deleted
        return answered

    def _read(self, query: sa.Select[Any]) -> list[Record]:
        with self._engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        self.rows_read += len(rows)
        return [
            Record(
                **{**{k: v for k, v in row.items() if k != "request"}, "detail": json.loads(row["detail"])}
            )
            for row in rows
        ]

    def dispose(self) -> None:
        self._engine.dispose()


def _migrate(engine: sa.Engine) -> None:
    """Bring a ledger written before event times and request links up to date, in place."""
    inspector = sa.inspect(engine)
    if not inspector.has_table("ledger"):
        return
    present = {c["name"] for c in inspector.get_columns("ledger")}
    with engine.begin() as connection:
        if "event_time" not in present:
            connection.execute(sa.text("ALTER TABLE ledger ADD COLUMN event_time VARCHAR(32)"))
            connection.execute(sa.text("UPDATE ledger SET event_time = recorded_at"))
        if "request" not in present:
            connection.execute(sa.text("ALTER TABLE ledger ADD COLUMN request INTEGER"))
            answers = connection.execute(
                sa.text("SELECT id, detail FROM ledger WHERE step = 'approval' AND kind != 'requested'")
            ).all()
            for id, detail in answers:
                request = json.loads(detail).get("request")
                connection.execute(
                    sa.text("UPDATE ledger SET request = :request WHERE id = :id"),
                    {"request": request, "id": id},
                )
