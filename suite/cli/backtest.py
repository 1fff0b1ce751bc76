"""Replay a folder of batches through a policy, in memory: what would it have done?"""

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pandas as pd

import datareflex
import driftguard
import schemasense
from suite.storage.files import read_batch

START = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def backtest(
    policy: datareflex.Policy,
    folder: str | os.PathLike[str],
    *,
    training: int = 3,
    every: dt.timedelta = dt.timedelta(days=1),
) -> list[dict[str, Any]]:
    """One row per batch (the demo's columns, plus the approvals asked and the breaker's state).

    The first ``training`` batches learn the contract and the drift reference and are published
    as they are; contract versions the policy accepts carry over to later batches. Guardrails
    remember through a ledger in memory, on a clock that moves ``every`` per batch, so cooldowns,
    requests asked once and the circuit breaker behave as they would live. Nothing is written.
    """
    paths = sorted(p for pattern in ("*.parquet", "*.csv") for p in Path(folder).glob(pattern) if p.is_file())
    if len(paths) <= training:
        raise ValueError(f"{folder}: {len(paths)} batches, but the first {training} only train the contract")
    frames = [read_batch(path) for path in paths]
    contract = schemasense.infer(frames[:training], name=Path(folder).name)
    reference = driftguard.profile(pd.concat(frames[:training], ignore_index=True))
    detector = driftguard.DriftDetector(multivariate=False).fit(reference)
    ledger = datareflex.Ledger("sqlite://")  # in memory: gone with the backtest
    clock = _Clock(START)
    reflex = datareflex.Reflex(policy, ledger, clock=clock)
    history = [driftguard.batch_metrics(driftguard.profile(f, like=reference)) for f in frames[:training]]
    rows = []
    for index, (path, frame) in enumerate(zip(paths, frames, strict=True)):
        clock.now = START + index * every
        if index < training:
            rows.append(_row(path.name, datareflex.Outcome.untouched(frame), [], [], [], "closed"))
            continue
        batch_profile = driftguard.profile(frame, like=reference)
        report = detector.score(batch_profile)
        history.append(driftguard.batch_metrics(batch_profile))
        jumped = [m for m, found in driftguard.watch(history).items() if len(history) - 1 in found]
        signals = datareflex.sense(contract.validate(frame), report, jumped)
        outcome = reflex.handle(
            frame, signals, contract=contract, batch_id=path.name, reference_profile=reference
        )
        contract = outcome.contract or contract
        records = ledger.records()
        asked = [
            f"{a.action} ({', '.join(a.targets)})"
            for a in datareflex.approvals_of(records)
            if a.batch == path.name
        ]
        breaker = datareflex.breaker_state(
            records, clock.now, policy.breaker_failures, policy.breaker_reset_minutes
        )
        rows.append(
            _row(
                path.name,
                outcome,
                report.drifted_columns,
                datareflex.schema_changes(signals),
                asked,
                breaker.value,
            )
        )
    ledger.dispose()
    return rows


class _Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def _row(
    batch: str,
    outcome: datareflex.Outcome,
    drifted: list[str],
    changes: list[str],
    approvals: list[str],
    breaker: str,
) -> dict[str, Any]:
    return {
        "batch": batch,
        "rows_in": outcome.rows_in,
        "rows_published": len(outcome.published),
        "rows_quarantined": len(outcome.quarantined),
        "rows_held": len(outcome.held),
        "drifted_columns": drifted,
        "schema_changes": changes,
        "decision": outcome.decision.value,
        "actions": list(outcome.actions),
        "verified": outcome.verified,
        "approvals_asked": approvals,
        "breaker": breaker,
    }
