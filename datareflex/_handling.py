"""One handling of one batch: the policy, where it is recorded, and in what time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ._ledger import Ledger
from ._policy import Policy


@dataclass(frozen=True)
class Handling:
    """One handling of one batch: where it is recorded and in what time."""

    policy: Policy
    ledger: Ledger | None
    dataset: str
    batch: str
    event_time: dt.datetime
    recorded_at: dt.datetime
    reference: str | None = None
    trail: list[int] = field(default_factory=list, compare=False)

    def record(self, step: str, kind: str, detail: dict[str, Any], version: int | None) -> None:
        """Append one record of this handling, linked to the first (its trail)."""
        if self.ledger is None:
            return
        linked = {**detail, "policy": self.policy.version, "trail": self.trail[0] if self.trail else None}
        self.trail.append(
            self.ledger.append(
                self.dataset,
                self.batch,
                step,
                kind,
                linked,
                contract_version=version,
                reference=self.reference,
                at=self.recorded_at,
                event_time=self.event_time,
            )
        )


def wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_datetime(moment: dt.datetime | dt.date | None) -> dt.datetime | None:
    """A date as its midnight in UTC; a naive time as UTC."""
    if moment is None:
        return None
    if not isinstance(moment, dt.datetime):
        return dt.datetime.combine(moment, dt.time(), tzinfo=dt.UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
