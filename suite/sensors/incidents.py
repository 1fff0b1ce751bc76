"""Signals without rows: batch runs that failed before their checks, and batches that are late.

A blocking check that fails also fails its run; the reflex sensor remediates those. Any other
failure of a batch run (a step that raised) goes through the policy here,
as a ``run_failure`` signal: it is written to the ledger, its actions run (an alert, a hold),
and the run is tagged with the decision. The file stays in the landing folder: nothing is lost,
and re-running the partition once the file is fixed takes it again. A file whose content cannot
be read (the failure's reason starts with ``unreadable:``) is rejected whole instead: decision
``reject`` with the reason, never retried.

When ``freshness_hours`` pass with no new file, a ``freshness`` signal goes through the policy
once per gap (its magnitude: the gap over the expected interval).
"""

import time
import warnings
from typing import Any

import dagster as dg
import pandas as pd

import datareflex
import driftguard
import schemasense
from suite.config import DatasetConfig
from suite.loop import read_policy
from suite.sensors.landing import landed_files
from suite.sensors.recovery import interrupted
from suite.storage import BatchStorage
from suite.storage.files import UNREADABLE
from suite.storage.partitions import landing_record
from suite.tags import DECISION_TAG

CHECK_FAILURE = "DagsterAssetCheckFailedError"

# Dagster 1.13 copies a run-status sensor through the beta `owners` parameter of
# SensorDefinition (with owners=[]), and warns about a parameter this suite never sets.
warnings.filterwarnings(
    "ignore", message="Parameter `owners` of initializer `SensorDefinition.__init__`", category=dg.BetaWarning
)


def build_run_failure_sensor(
    dataset: DatasetConfig, batch_job: Any, storage_root: str
) -> dg.SensorDefinition:
    @dg.run_failure_sensor(
        name=f"{dataset.name}_run_failure_sensor",
        monitored_jobs=[batch_job],
        minimum_interval_seconds=dataset.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Routes batch runs that failed for a reason other than a check through the policy.",
    )
    def run_failure_sensor(context: dg.RunFailureSensorContext) -> None:
        if interrupted(context.get_step_failure_events()):
            return  # stopped, not failed: suite/sensors/relaunch.py takes the batch again
        failures = [
            (event.step_key or "run", event.step_failure_data.error)
            for event in context.get_step_failure_events()
            if event.step_failure_data is not None
        ]
        if any(error is not None and error.cls_name == CHECK_FAILURE for _, error in failures):
            return  # a blocking check failed: the reflex sensor remediates the batch
        if not failures:
            return  # no step ran (the launch failed): the landing sensor asks for the run again
        run = context.dagster_run
        if reject_unreadable(dataset, storage_root, run.tags.get("dagster/partition", ""), context):
            context.instance.add_run_tags(run.run_id, {DECISION_TAG: datareflex.Decision.REJECT.value})
            return  # the file cannot be read: rejected whole, with its reason
        signals = [
            datareflex.Signal(
                datareflex.SignalKind.RUN_FAILURE,
                step,
                "step_failed",
                detail=_first_line(error),
                severity=datareflex.Severity.CRITICAL,
            )
            for step, error in failures
        ]
        outcome = handle_failure(dataset, storage_root, run.tags.get("dagster/partition", ""), signals)
        context.instance.add_run_tags(run.run_id, {DECISION_TAG: outcome.decision.value})

    return run_failure_sensor


def build_freshness_sensor(dataset: DatasetConfig, storage_root: str) -> dg.SensorDefinition:
    expected = dataset.freshness_hours
    if expected is None:
        raise ValueError(f"dataset {dataset.name!r} declares no freshness_hours: it has no freshness sensor")

    @dg.sensor(
        name=f"{dataset.name}_freshness_sensor",
        minimum_interval_seconds=max(dataset.sensor_interval_seconds, 60),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"A freshness signal when no batch lands for {expected:g} hours.",
    )
    def freshness_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        newest = _newest(dataset, storage_root)
        if newest is None:
            return dg.SkipReason("no batch has landed yet")
        hours = (time.time() - newest[0]) / 3600
        if hours <= expected:
            return dg.SkipReason(f"last batch {newest[1]} landed {hours:.1f} hours ago")
        gap = f"after {newest[1]}"
        if context.cursor == gap:
            return dg.SkipReason(f"already signalled: no batch {gap}")
        signal = datareflex.Signal(
            datareflex.SignalKind.FRESHNESS,
            dataset.name,
            "overdue",
            magnitude=round(hours / expected, 3),
            detail=f"no batch for {hours:.1f} hours (expected every {expected:g})",
        )
        outcome = handle_failure(dataset, storage_root, f"(none {gap})", [signal])
        context.update_cursor(gap)
        return dg.SkipReason(f"late: {signal.detail}; {outcome.decision.value}")

    return freshness_sensor


def _newest(dataset: DatasetConfig, storage_root: str) -> tuple[float, str] | None:
    """When the newest batch landed (epoch seconds) and its name: the newest file in the landing
    folder, or for a database source the last batch read from it."""
    if dataset.landing is None:
        taken = landing_record(dataset, BatchStorage(storage_root)).taken()
        return max(((t.landed_at.timestamp(), t.name) for t in taken), default=None)
    landed = [((dataset.landing / name).stat().st_mtime, name) for name in landed_files(dataset)]
    return max(landed) if landed else None


def reject_unreadable(
    dataset: DatasetConfig, storage_root: str, partition: str, context: dg.RunFailureSensorContext
) -> bool:
    """Reject every batch of the run whose file could not be read (a failure whose reason starts
    with ``unreadable:``), once: a batch already rejected is not recorded again. Whether there
    was one."""
    unreadable = [
        (event.step_key or "run", failure)
        for event in context.get_step_failure_events()
        if event.step_failure_data is not None
        and (failure := event.step_failure_data.user_failure_data) is not None
        and (failure.description or "").startswith(UNREADABLE)
    ]
    if not unreadable:
        return False
    ledger = BatchStorage(storage_root).ledger()
    try:
        for step, failure in unreadable:
            named = failure.metadata.get("batch")
            batch = str(named.value) if isinstance(named, dg.TextMetadataValue) else partition
            if ledger.records(dataset.name, batch, steps=["decision"], kinds=["reject"]):
                continue  # a second look at the same run (a lost cursor)
            reason = failure.description or UNREADABLE
            signal = datareflex.Signal(
                datareflex.SignalKind.RUN_FAILURE,
                step,
                "unreadable",
                detail=reason[:300],
                severity=datareflex.Severity.CRITICAL,
            )
            datareflex.reject(
                ledger, dataset.name, batch, reason, signals=[signal], event_time=driftguard.batch_date(batch)
            )
            context.log.warning(f"{dataset.name}: batch {batch} rejected, {reason}")
    finally:
        ledger.dispose()
    return True


def handle_failure(
    dataset: DatasetConfig, storage_root: str, batch: str, signals: list[datareflex.Signal]
) -> datareflex.Outcome:
    """Apply the dataset's policy to failure signals about ``batch``; no rows reached the suite."""
    files = BatchStorage(storage_root)
    contract = files.contracts().latest(dataset.name) or schemasense.Contract(name=dataset.name, columns={})
    ledger = files.ledger()
    try:
        return datareflex.handle_batch(
            pd.DataFrame(),  # no columns: the batch never reached the suite, only the signals speak
            contract=contract,
            policy=read_policy(dataset),
            ledger=ledger,
            dataset=dataset.name,
            batch_id=batch,
            extra_signals=signals,
            event_time=driftguard.batch_date(batch),
        )
    finally:
        ledger.dispose()


def _first_line(error: Any) -> str:
    """The first line of the innermost error: what the user's code raised, not Dagster's wrapper."""
    while error is not None and error.cause is not None and error.cls_name.startswith("Dagster"):
        error = error.cause
    return (error.message.strip().splitlines() or [""])[0][:300] if error is not None else ""
