"""The ledger: one append-only record per step of the loop (signal, decision, action, outcome)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
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
STEPS = ("signal", "decision", "action", "approval", "outcome")


@dataclass(frozen=True)
class Approval:
    """A request for a person's approval and, once given, the answer."""

    id: int
    dataset: str
    batch: str
    action: str
    targets: tuple[str, ...]
    status: str  # requested, granted, refused, or done (granted and carried out)
    requested_at: str
    decided_at: str | None = None
    by: str | None = None


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

    def describe(self) -> str:
        """One line a person reads for this record."""
        d = self.detail
        if self.step == "signal":
            return f"{d.get('column')} {d.get('rule')} × {d.get('count')}"
        if self.step == "decision":
            return ", ".join(d.get("actions", [])) or str(d.get("reason", ""))
        if self.step in ("action", "approval"):
            return "; ".join(d.get("notes", [])) or ", ".join(d.get("targets", []))
        rows = (d.get("rows_published"), d.get("rows_quarantined"), d.get("rows_held"))
        return "published {}, quarantined {}, held {}".format(*rows)


class Ledger:
    """Append-only records in any SQLAlchemy database (SQLite by default).

    >>> ledger = Ledger("sqlite://")
    >>> ledger.append("orders", "day-1", "decision", "publish", {"signals": 0})
    1
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
    ) -> int:
        """Append one record and return its id."""
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
            key = connection.execute(_RECORDS.insert().values(**row)).inserted_primary_key
        assert key is not None  # an autoincrement id is always returned on insert
        return int(key[0])

    def records(self, dataset: str | None = None, batch: str | None = None) -> list[Record]:
        query = sa.select(_RECORDS).order_by(_RECORDS.c.id)
        if dataset is not None:
            query = query.where(_RECORDS.c.dataset == dataset)
        if batch is not None:
            query = query.where(_RECORDS.c.batch == batch)
        with self._engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [Record(**{**row, "detail": json.loads(row["detail"])}) for row in rows]

    def approvals(self, dataset: str | None = None) -> list[Approval]:
        """Every approval request with its current status."""
        return approvals_of(self.records(dataset=dataset))

    def decide(self, request: int, granted: bool, by: str = "") -> Approval:
        """Grant or refuse a pending request (``dataops approve ID`` / ``dataops reject ID``)."""
        return self._answer(request, "requested", "granted" if granted else "refused", {"by": by})

    def carried_out(self, request: int, notes: list[str]) -> Approval:
        """Record that a granted request was carried out; what was done goes in ``notes``."""
        return self._answer(request, "granted", "done", {"notes": notes})

    def _answer(self, request: int, expected: str, kind: str, detail: Mapping[str, Any]) -> Approval:
        """Append ``kind`` to a request whose status is ``expected``; return it as it is now."""
        found = {a.id: a for a in self.approvals()}.get(request)
        if expected == "granted" and (found is None or found.status != expected):
            raise ValueError(f"approval request {request} is not granted: nothing to carry out")
        if found is None:
            raise ValueError(f"no approval request {request} in {self.url}")
        if found.status != expected:
            raise ValueError(f"approval request {request} was already {found.status}")
        self.append(
            found.dataset,
            found.batch,
            "approval",
            kind,
            {"request": request, "action": found.action, **detail},
        )
        return next(a for a in self.approvals(found.dataset) if a.id == request)

    def dispose(self) -> None:
        self._engine.dispose()


def approvals_of(records: list[Record]) -> list[Approval]:
    """The approval requests among ``records``, each with its latest decision."""
    requests: dict[int, Approval] = {}
    for record in records:
        if record.step != "approval":
            continue
        if record.kind == "requested":
            requests[record.id] = Approval(
                record.id,
                record.dataset,
                record.batch,
                str(record.detail.get("action")),
                tuple(record.detail.get("targets", ())),
                "requested",
                record.recorded_at,
            )
        elif record.detail.get("request") in requests:
            request = requests[record.detail["request"]]
            requests[request.id] = replace(
                request, status=record.kind, decided_at=record.recorded_at, by=record.detail.get("by")
            )
    return list(requests.values())
