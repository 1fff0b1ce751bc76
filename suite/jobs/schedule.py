"""The drift schedule: score batches again once the reference is newer than their report."""

from typing import Any

import dagster as dg

from suite.assets.metadata import latest_record
from suite.config import DatasetConfig
from suite.storage.partitions import partitions_name


def build_drift_schedule(
    dataset: DatasetConfig, drift_job: Any, report_key: dg.AssetKey, reference_key: dg.AssetKey
) -> dg.ScheduleDefinition:
    """Every day, score again each batch whose drift report is older than the reference."""

    @dg.schedule(
        name=f"{dataset.name}_drift_schedule",
        cron_schedule=dataset.drift_schedule,
        job=drift_job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    def drift_schedule(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest] | dg.SkipReason:
        instance = context.instance
        reference = instance.get_latest_materialization_event(reference_key)
        if reference is None:
            return dg.SkipReason("no drift reference yet")
        # In the order they were added: the landing sensor adds each file when it first sees it.
        keys = instance.get_dynamic_partitions(partitions_name(dataset))
        stale = [key for key in keys if _materialized_at(instance, report_key, key) < reference.timestamp]
        day = context.scheduled_execution_time.date().isoformat()
        return [
            dg.RunRequest(run_key=f"rescore:{day}:{key}", partition_key=key) for key in stale
        ] or dg.SkipReason("every drift report is newer than the reference")

    return drift_schedule


def _materialized_at(instance: dg.DagsterInstance, key: dg.AssetKey, partition: str) -> float:
    record = latest_record(instance, key, partition)
    return record.timestamp if record is not None else 0.0
