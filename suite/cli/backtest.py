"""Replay a dataset's batch files through its declaration and policy, in memory.

The backtest judges each batch with the live loop's own pieces (:mod:`suite.loop` for the
contract, the detector and the imputers' rows; :func:`datareflex.handle_batch` for sense →
decide → act → verify), so a policy it approves behaves the same live. Nothing is written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

import datareflex
import driftguard
import schemasense
from suite.config import ConfigError, DatasetConfig, Settings
from suite.loop import (
    declared_reference,
    drift_detector,
    imputer_rows,
    learn_contract,
    read_policy,
    signal_summary,
)
from suite.sensors.landing import landed_files
from suite.storage.files import read_batch
from suite.storage.tables import landing_text

START = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def declaration_for(
    settings: Settings,
    *,
    batches: Path | None = None,
    policy: Path | None = None,
    training: int | None = None,
) -> DatasetConfig:
    """The dataset to replay: the only one declared (or the one ``settings`` was narrowed to),
    with its landing folder, policy or training window replaced where asked."""
    if len(settings.datasets) != 1:
        names = [d.name for d in settings.datasets]
        raise ConfigError(f"name the dataset to backtest with --dataset; declared: {names}")
    dataset = settings.datasets[0]
    changes: dict[str, Any] = {}
    if batches is not None:
        changes.update(landing=batches, patterns=("*.parquet", "*.csv"))
    if policy is not None:
        changes["policy"] = policy
    if training is not None:
        changes["training_batches"] = training
    return dataclasses.replace(dataset, **changes)


def landed(dataset: DatasetConfig) -> list[Path]:
    """The dataset's batch files in landing order (modification time, then name)."""
    if dataset.landing is None:
        raise ConfigError(
            f"{dataset.name} reads {landing_text(dataset)}: a backtest replays files; give --batches FOLDER"
        )
    paths = [dataset.landing / name for name in landed_files(dataset)]  # what the landing sensor sees
    return sorted(paths, key=lambda p: (p.stat().st_mtime_ns, p.name))


def backtest(dataset: DatasetConfig, *, every: dt.timedelta = dt.timedelta(days=1)) -> list[dict[str, Any]]:
    """One row per batch (the demo's columns, plus the approvals asked and the breaker's state).

    The first ``training_batches`` learn the contract and the drift reference and are published
    as they are; contract versions the loop publishes carry over to later batches. Guardrails
    remember through a ledger in memory and count each batch's event time (the date in its
    name, else ``every`` apart), as they do live.
    """
    paths = landed(dataset)
    training = dataset.training_batches
    if len(paths) <= training:
        raise ConfigError(
            f"{dataset.landing}: {len(paths)} batches, but the first {training} only train the contract"
        )
    frames = [read_batch(path) for path in paths]
    replay = _Replay(dataset, [p.name for p in paths[:training]], frames[:training])
    rows = [
        _row(p.name, datareflex.Outcome.untouched(f), [], [], [], "closed")
        for p, f in zip(paths, frames, strict=True)
    ]
    when: dt.date = START
    for index in range(training, len(paths)):
        when = driftguard.batch_date(paths[index].name) or when + every  # undated names: ``every`` apart
        rows[index] = replay.handle(paths[index].name, frames[index], when)
    replay.ledger.dispose()
    return rows


class _Replay:
    """The live loop's state, in memory: the contract in force, the reference, the ledger."""

    def __init__(self, dataset: DatasetConfig, names: list[str], training: list[pd.DataFrame]) -> None:
        self.dataset = dataset
        self.policy = read_policy(dataset)
        self.contract = learn_contract(dataset, training)
        self.reference = driftguard.profile(pd.concat(training, ignore_index=True))
        self.imputer_rows = imputer_rows(training)
        # Each handled batch's published rows on the training bins, in landing order, and its day.
        self.published: dict[str, driftguard.Profile | None] = {
            n: driftguard.profile(f, like=self.reference) for n, f in zip(names, training, strict=True)
        }
        self.days: dict[str, dt.date | None] = {n: driftguard.batch_date(n) for n in names}
        self.history = [
            driftguard.batch_metrics(driftguard.profile(f, like=self.reference)) for f in training
        ]
        self.ledger = datareflex.Ledger("sqlite://")  # in memory: gone with the backtest

    def handle(self, name: str, frame: pd.DataFrame, when: dt.date) -> dict[str, Any]:
        contract = schemasense.settle(self.contract, frame)
        self.days[name] = when
        found = declared_reference(self.dataset, name, list(self.published), self.days, self.published.get)
        reference = found[0] if found else self.reference
        batch_profile = driftguard.profile(frame, like=self.reference)
        report = drift_detector(self.dataset, contract).fit(reference).score(batch_profile)
        self.history.append(driftguard.batch_metrics(batch_profile))
        now = len(self.history) - 1
        jumped = sorted(m for m, found in driftguard.watch(self.history).items() if now in found)
        outcome = datareflex.handle_batch(
            frame,
            contract=contract,
            policy=self.policy,
            ledger=self.ledger,
            dataset=self.dataset.name,
            batch_id=name,
            drift_report=report,
            anomalies=jumped,
            reference=f"{self.dataset.name}/reference_profile",
            reference_rows=self.imputer_rows,
            reference_profile=reference,
            event_time=when,
        )
        published = outcome.published
        columns = [c for c in published.columns if c in self.reference.columns]
        self.published[name] = (
            driftguard.profile(published[columns], like=self.reference) if len(published) else None
        )
        if outcome.contract is not None and len(outcome.published):
            self.contract = outcome.contract  # stored live only with a batch published under it
        records = self.ledger.records(self.dataset.name, name)
        asked = [f"{a.action} ({', '.join(a.targets)})" for a in datareflex.approvals_of(records)]
        failures = self.policy.breaker_failures
        counted = datareflex.breaker_records(self.ledger, self.dataset.name, failures)
        breaker = datareflex.breaker_state(counted, when, failures, self.policy.breaker_reset_minutes)
        changes = datareflex.schema_changes(outcome.signals)
        return _row(name, outcome, report.drifted_columns, changes, asked, breaker.value)


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
        "signals": [signal_summary(s) for s in outcome.signals],
    }
