"""Ledger records as read back, and approval requests rebuilt from them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any


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
    """One ledger record. ``event_time`` is the batch's own time, ``recorded_at`` when it was
    handled (the two differ in a backfill).

    >>> Record(1, "2026-01-02T00:00:00", "orders", "day-1", "outcome", "held", 1, None,
    ...        {"rows_published": 0, "rows_quarantined": 0, "rows_held": 5}).describe()
    'published 0, quarantined 0, held 5'
    """

    id: int
    recorded_at: str
    dataset: str
    batch: str
    step: str
    kind: str
    contract_version: int | None
    reference: str | None
    detail: dict[str, Any]
    event_time: str | None = None

    @property
    def when(self) -> str:
        """The event time, or when it was recorded for a record without one."""
        return self.event_time or self.recorded_at

    def describe(self) -> str:
        """One line a person reads for this record."""
        d = self.detail
        if self.step == "signal":
            return f"{d.get('column')} {d.get('rule')} × {d.get('count')}"
        if self.step == "decision":
            by = f" (by {d['by']})" if d.get("by") else ""
            return (", ".join(d.get("actions", [])) or str(d.get("reason", ""))) + by
        if self.step in ("action", "approval"):
            return "; ".join(d.get("notes", [])) or ", ".join(d.get("targets", []))
        rows = (d.get("rows_published"), d.get("rows_quarantined"), d.get("rows_held"))
        return "published {}, quarantined {}, held {}".format(*rows)


def approvals_of(records: Iterable[Record]) -> list[Approval]:
    """The approval requests among ``records``, each with its latest decision.

    >>> from datareflex import Ledger
    >>> ledger = Ledger("sqlite://")
    >>> request = {"action": "retrain", "targets": ["qty"]}
    >>> asked = ledger.append("orders", "d1", "approval", "requested", request)
    >>> _ = ledger.decide(asked, granted=True, by="ana")
    >>> [(a.action, a.status, a.by) for a in approvals_of(ledger.records("orders"))]
    [('retrain', 'granted', 'ana')]
    """
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
