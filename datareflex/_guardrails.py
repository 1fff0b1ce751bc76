"""Guardrails that need memory (cooldowns, the circuit breaker), read back from the ledger.

The ledger is the only state: what an action did and when, and whether outcomes verified, is
already there, so the guardrails cannot drift from what really happened.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence

from ._ledger import Record


class BreakerState(enum.StrEnum):
    CLOSED = "closed"  # actions run
    OPEN = "open"  # too many failed remediations: batches wait for a person
    HALF_OPEN = "half_open"  # the reset time passed: one trial may run


def breaker_state(
    records: Sequence[Record], now: dt.datetime, failures: int, reset_minutes: float
) -> BreakerState:
    """The breaker after ``records``: open after ``failures`` unverified outcomes in a row.

    Batches the open breaker held are not failures of their own, so the breaker half-opens
    ``reset_minutes`` after the last failed remediation even while batches keep arriving.
    """
    trailing: list[Record] = []
    for record in records:
        if record.step != "outcome" or record.kind not in ("verified", "unverified"):
            continue
        trailing = [] if record.kind == "verified" else [*trailing, record]
    if len(trailing) < failures:
        return BreakerState.CLOSED
    last = dt.datetime.fromisoformat(trailing[-1].recorded_at)
    return BreakerState.OPEN if now - last < dt.timedelta(minutes=reset_minutes) else BreakerState.HALF_OPEN


def last_action(records: Sequence[Record], action: str, targets: Sequence[str]) -> Record | None:
    """The most recent time ``action`` acted (not skipped) on any of ``targets``."""
    for record in reversed(records):
        if record.step != "action" or record.kind != action or record.detail.get("skipped"):
            continue
        if set(record.detail.get("targets", [])) & set(targets):
            return record
    return None


def cooling(
    records: Sequence[Record],
    action: str,
    targets: Sequence[str],
    magnitude: float,
    now: dt.datetime,
    minutes: float,
) -> Record | None:
    """The earlier action that keeps ``action`` cooling down on ``targets``, if any.

    Hysteresis: a signal half again as large as the one that triggered the earlier action acts
    at once.
    """
    earlier = last_action(records, action, targets)
    if earlier is None:
        return None
    if now - dt.datetime.fromisoformat(earlier.recorded_at) >= dt.timedelta(minutes=minutes):
        return None
    before = float(earlier.detail.get("magnitude") or 0.0)
    return None if before and magnitude > 1.5 * before else earlier


def persisting(records: Sequence[Record], kinds: Sequence[str], targets: Sequence[str]) -> int:
    """In how many of the latest batches in a row a signal of ``kinds`` hit any of ``targets``.

    Batches count from the most recent back, in the order they were first handled; the run
    stops at the first batch without such a signal.
    """
    hit: dict[str, bool] = {}
    for record in records:
        hit.setdefault(record.batch, False)
        if record.step == "signal" and record.kind in kinds and record.detail.get("column") in targets:
            hit[record.batch] = True
    run = 0
    for seen in reversed(list(hit.values())):
        if not seen:
            break
        run += 1
    return run
