"""A person's way out: release held rows, or close an open circuit breaker. Both are ledgered
with who did it."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from schemasense import REASON_COLUMN, Contract

from ._approvals import Record
from ._ledger import Ledger
from ._outcome import Decision, Outcome, stack


def release(
    ledger: Ledger | None,
    dataset: str,
    batch: str,
    held_rows: pd.DataFrame,
    *,
    contract: Contract | None = None,
    by: str,
    revalidate: bool = False,
) -> Outcome:
    """Publish ``held_rows`` (a held outcome's rows, with or without their ``_reason``).

    With ``revalidate``, ``contract`` judges them first: rows it still rejects are quarantined
    with their reasons. Rows in = published + quarantined + still held (none are). The ledger
    gets a ``decision`` record of kind ``released`` and an ``outcome`` record, both naming ``by``.

    >>> import schemasense
    >>> contract = schemasense.infer(pd.DataFrame({"qty": [1, 2, 3] * 10}), name="orders")
    >>> held = pd.DataFrame({"qty": [1, 2, 99], "_reason": "held: circuit breaker open"})
    >>> ledger = Ledger("sqlite://")
    >>> out = release(ledger, "orders", "day-9", held, contract=contract, by="ana", revalidate=True)
    >>> len(out.published), out.quarantined["_reason"].tolist(), out.decision.value
    (2, ['qty: 99 above maximum 5.0'], 'release')
    >>> [(r.step, r.kind, r.detail["by"]) for r in ledger.records("orders")]
    [('decision', 'released', 'ana'), ('outcome', 'released', 'ana')]
    """
    if revalidate and contract is None:
        raise ValueError("revalidate needs the contract to judge the released rows by")
    rows = held_rows.drop(columns=[REASON_COLUMN], errors="ignore")
    quarantined = stack([], rows)
    published = rows
    if revalidate and contract is not None:
        judged = contract.validate(rows)
        published, quarantined = judged.valid, judged.invalid
    note = f"released by {by}: {len(published)} published, {len(quarantined)} quarantined"
    outcome = Outcome(
        Decision.RELEASE,
        (),
        published,
        quarantined,
        stack([], rows),
        True if revalidate else None,
        contract,
        (),
        (note,),
        dataset,
        batch,
    )
    if ledger is not None:
        version = None if contract is None else contract.version
        detail = {"by": by, "reason": note, "revalidate": revalidate, "rows": len(rows)}
        ledger.append(dataset, batch, "decision", "released", detail, contract_version=version)
        summary = {**outcome.summary(), "by": by}
        ledger.append(dataset, batch, "outcome", "released", summary, contract_version=version)
    return outcome


def close_breaker(
    ledger: Ledger, dataset: str, *, by: str, at: dt.datetime | dt.date | None = None
) -> Record:
    """Close the circuit breaker of ``dataset``: it stays closed until new failures open it.

    ``at`` is the event time from which it is closed (default now). Returns the ledger record.

    >>> from datareflex import breaker_state
    >>> ledger = Ledger("sqlite://")
    >>> _ = ledger.append("orders", "d1", "outcome", "unverified", event_time=dt.date(2026, 1, 1))
    >>> breaker_state(ledger.records("orders"), dt.date(2026, 1, 1), 1, 1440).value
    'open'
    >>> close_breaker(ledger, "orders", by="ana", at=dt.date(2026, 1, 1)).detail["by"]
    'ana'
    >>> breaker_state(ledger.records("orders"), dt.date(2026, 1, 1), 1, 1440).value
    'closed'
    """
    detail = {"by": by, "reason": f"circuit breaker closed by {by}"}
    id = ledger.append(dataset, "", "decision", "breaker_closed", detail, event_time=at)
    record = ledger.record(id)
    assert record is not None  # just appended
    return record
