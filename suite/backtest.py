"""Replay a folder of batches through a policy, in memory: what would it have done?"""

import os
from pathlib import Path
from typing import Any

import pandas as pd

import datareflex
import driftguard
import schemasense

from .files import read_batch


def backtest(
    policy: datareflex.Policy, folder: str | os.PathLike[str], *, training: int = 3
) -> list[dict[str, Any]]:
    """One row per batch (the demo's columns), as the loop would produce them; nothing is written.

    The first ``training`` batches learn the contract and the drift reference and are published
    as they are; contract versions the policy accepts carry over to later batches in memory.
    """
    paths = sorted(p for pattern in ("*.parquet", "*.csv") for p in Path(folder).glob(pattern) if p.is_file())
    if len(paths) <= training:
        raise ValueError(f"{folder}: {len(paths)} batches, but the first {training} only train the contract")
    frames = [read_batch(path) for path in paths]
    contract = schemasense.infer(frames[:training], name=Path(folder).name)
    detector = driftguard.DriftDetector(multivariate=False).fit(
        pd.concat(frames[:training], ignore_index=True)
    )
    reflex = datareflex.Reflex(policy)  # no ledger: a backtest leaves no trace
    rows = []
    for index, (path, frame) in enumerate(zip(paths, frames, strict=True)):
        if index < training:
            rows.append(_row(path.name, len(frame), datareflex.Outcome.untouched(frame), [], []))
            continue
        report = detector.score(frame)
        signals = datareflex.sense(contract.validate(frame), report)
        outcome = reflex.handle(frame, signals, contract=contract, batch_id=path.name)
        contract = outcome.contract or contract
        rows.append(
            _row(path.name, len(frame), outcome, report.drifted_columns, datareflex.schema_changes(signals))
        )
    return rows


def _row(
    batch: str, rows_in: int, outcome: datareflex.Outcome, drifted: list[str], changes: list[str]
) -> dict[str, Any]:
    return {
        "batch": batch,
        "rows_in": rows_in,
        "rows_published": len(outcome.published),
        "rows_quarantined": len(outcome.quarantined),
        "rows_held": len(outcome.held),
        "drifted_columns": drifted,
        "schema_changes": changes,
        "decision": outcome.decision.value,
        "actions": list(outcome.actions),
        "verified": outcome.verified,
    }
