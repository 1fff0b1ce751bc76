"""The ledger: one append-only record per step of the loop (signal, decision, action, outcome)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

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
)
STEPS = ("signal", "decision", "action", "outcome")


@dataclass(frozen=True)
class Record:
    id: int
    recorded_at: str
    dataset: str
    batch: str
    step: str
    kind: str
    contract_version: int | None
    reference: str | None
    detail: dict[str, Any]


class Ledger:
    """Append-only records in any SQLAlchemy database (SQLite by default).

    >>> ledger = Ledger("sqlite://")
    >>> ledger.append("orders", "day-1", "decision", "publish", {"signals": 0})
    >>> [(r.step, r.kind, r.detail) for r in ledger.records(batch="day-1")]
    [('decision', 'publish', {'signals': 0})]
    """

    def __init__(self, url: str = "sqlite:///ledger.db") -> None:
        self.url = url
        self._engine = sa.create_engine(url)
        _METADATA.create_all(self._engine)

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
    ) -> None:
        if step not in STEPS:
            raise ValueError(f"step must be one of {STEPS}, got {step!r}")
        row = {
            "recorded_at": (at or dt.datetime.now(dt.UTC)).isoformat(timespec="microseconds"),
            "dataset": dataset,
            "batch": batch,
            "step": step,
            "kind": kind,
            "contract_version": contract_version,
            "reference": reference,
            "detail": json.dumps(dict(detail or {}), default=str),
        }
        with self._engine.begin() as connection:
            connection.execute(_RECORDS.insert().values(**row))

    def records(self, dataset: str | None = None, batch: str | None = None) -> list[Record]:
        query = sa.select(_RECORDS).order_by(_RECORDS.c.id)
        if dataset is not None:
            query = query.where(_RECORDS.c.dataset == dataset)
        if batch is not None:
            query = query.where(_RECORDS.c.batch == batch)
        with self._engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [Record(**{**row, "detail": json.loads(row["detail"])}) for row in rows]

    def dispose(self) -> None:
        self._engine.dispose()
