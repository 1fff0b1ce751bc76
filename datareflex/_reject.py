"""Rejecting a batch whole: its file could not be read (``unreadable: ...``) or was refused at
landing (``refused: ...``). No row reached the suite, so nothing is published, held or verified;
the ledger says why, as one trail: the signals, the decision ``reject``, an outcome ``none``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from ._handling import as_datetime, wall_clock
from ._ledger import Ledger
from ._outcome import Decision, Outcome, stack
from ._signals import Signal


def reject(
    ledger: Ledger | None,
    dataset: str,
    batch: str,
    reason: str,
    *,
    signals: Sequence[Signal] = (),
    event_time: dt.datetime | dt.date | None = None,
    at: dt.datetime | None = None,
) -> Outcome:
    """Record ``batch`` as rejected whole for ``reason``.

    >>> ledger = Ledger("sqlite://")
    >>> outcome = reject(ledger, "orders", "bad.csv", "unreadable: bad.csv: empty file")
    >>> outcome.decision.value, [(r.step, r.kind) for r in ledger.records("orders")]
    ('reject', [('decision', 'reject'), ('outcome', 'none')])
    >>> ledger.records("orders")[0].describe()
    'unreadable: bad.csv: empty file'
    """
    now = at or wall_clock()
    when = as_datetime(event_time) or now
    empty = pd.DataFrame()
    nothing = stack([], empty)
    outcome = Outcome(
        Decision.REJECT,
        (),
        empty,
        nothing,
        nothing,
        None,
        None,
        tuple(signals),
        (reason,),
        dataset,
        batch,
        when,
    )
    if ledger is None:
        return outcome
    trail: list[int] = []
    records = [("signal", s.kind.value, s.to_dict()) for s in signals]
    records += [
        ("decision", Decision.REJECT.value, {"reason": reason}),
        ("outcome", "none", outcome.summary()),
    ]
    for step, kind, detail in records:
        linked = {**detail, "trail": trail[0] if trail else None}
        trail.append(ledger.append(dataset, batch, step, kind, linked, at=now, event_time=when))
    return outcome
