"""The circuit breaker, read back from the ledger in event time.

After ``failures`` remediations in a row that failed verification the breaker opens: batches
wait for a person. It half-opens once ``reset_minutes`` of event time (the batches' own dates,
never the wall clock) passed since the last failure, so a backfill trips and resets exactly as
the same days arriving live would. A verified outcome, or a person closing it
(:func:`datareflex.close_breaker`), closes it. Holds are decisions, never failures.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence

from ._approvals import Record
from ._ledger import Ledger

FAILED = "unverified"
COUNTED = ("verified", FAILED, "breaker_closed")
"""The record kinds the breaker reads: outcomes that verified or not, and a person closing it."""


class BreakerState(enum.StrEnum):
    """Where the breaker stands: ``closed`` (actions run), ``open`` or ``half_open``.

    >>> [state.value for state in BreakerState]
    ['closed', 'open', 'half_open']
    """

    CLOSED = "closed"  # actions run
    OPEN = "open"  # too many failed remediations: batches wait for a person
    HALF_OPEN = "half_open"  # the reset time passed: one trial may run


def breaker_state(
    records: Sequence[Record], at: dt.datetime | dt.date | None, failures: int, reset_minutes: float
) -> BreakerState:
    """The breaker after ``records`` (in ledger order), at event time ``at``.

    ``records`` may be the whole history or only the latest :data:`COUNTED` ones
    (:func:`breaker_records` reads just those). Without ``at`` an open breaker stays open.

    >>> from datareflex import Ledger
    >>> ledger = Ledger("sqlite://")
    >>> for day in (1, 2, 3):
    ...     _ = ledger.append("orders", f"d{day}", "outcome", "unverified", event_time=dt.date(2026, 1, day))
    >>> breaker_state(ledger.records("orders"), dt.date(2026, 1, 3), 3, 1440).value
    'open'
    >>> breaker_state(ledger.records("orders"), dt.date(2026, 1, 4), 3, 1440).value
    'half_open'
    """
    trailing: list[Record] = []
    for record in records:
        if record.kind not in COUNTED or record.step not in ("outcome", "decision"):
            continue
        trailing = [*trailing, record] if record.kind == FAILED else []
    if len(trailing) < failures:
        return BreakerState.CLOSED
    if at is None:
        return BreakerState.OPEN
    last = dt.datetime.fromisoformat(trailing[-1].when)
    now = at if isinstance(at, dt.datetime) else dt.datetime.combine(at, dt.time(), tzinfo=dt.UTC)
    now = now if now.tzinfo is not None else now.replace(tzinfo=dt.UTC)
    return BreakerState.OPEN if now - last < dt.timedelta(minutes=reset_minutes) else BreakerState.HALF_OPEN


def breaker_records(ledger: Ledger, dataset: str, failures: int) -> list[Record]:
    """The latest ``failures`` records that decide the breaker of ``dataset``: a bounded read."""
    return ledger.records(dataset, steps=("outcome", "decision"), kinds=COUNTED, last=failures)
