"""The reflex sensor: a remediation run for every batch run whose checks failed."""

from typing import Any

import dagster as dg

from suite.config import DatasetConfig
from suite.sensors.recovery import stranded_run_requests
from suite.tags import FAILED_CHECK_RUN_TAG, FAILED_CHECKS_TAG

# Values of a check execution record's status; Dagster does not export its enum publicly.
PLANNED = "PLANNED"
FAILED = "FAILED"


def build_reflex_sensor(
    dataset: DatasetConfig, batch_job: Any, remediation_job: Any, check_keys: list[dg.AssetCheckKey]
) -> dg.SensorDefinition:
    """Launch the remediation job for every batch run whose checks failed.

    The cursor is the id of the last check execution judged. An execution still PLANNED in a
    running run stops the cursor there, so it is judged once its result is in.
    """

    @dg.sensor(
        name=f"{dataset.name}_reflex_sensor",
        job=remediation_job,
        minimum_interval_seconds=dataset.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Launches remediation for batches whose contract or drift checks failed.",
    )
    def reflex_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        after = int(context.cursor or 0)
        storage = context.instance.event_log_storage
        records = sorted(
            (r for key in check_keys for r in _history_after(storage, key, after)), key=lambda r: r.id
        )
        failed: dict[str, dict[str, Any]] = {}
        cursor = after
        runs = {r: context.instance.get_run_by_id(r) for r in {record.run_id for record in records}}
        for record in records:
            run = runs[record.run_id]
            if record.status.value == PLANNED and (run is None or not run.is_finished):
                break
            cursor = record.id
            if record.status.value != FAILED:
                continue
            partition = record.partition or (run.tags.get("dagster/partition") if run else None)
            if run is None or run.job_name != batch_job.name or partition is None:
                continue
            entry = failed.setdefault(record.run_id, {"partition": partition, "checks": []})
            entry["checks"].append(record.key.name)
        requests = [
            dg.RunRequest(
                run_key=f"remediate:{run_id}",
                partition_key=entry["partition"],
                tags={
                    FAILED_CHECK_RUN_TAG: run_id,
                    FAILED_CHECKS_TAG: ",".join(sorted(entry["checks"])),
                },
            )
            for run_id, entry in failed.items()
        ]
        requests += stranded_run_requests(context, f"{dataset.name}_reflex_sensor")
        return dg.SensorResult(run_requests=requests, cursor=str(cursor))

    return reflex_sensor


def _history_after(storage: Any, key: dg.AssetCheckKey, after: int) -> list[Any]:
    """Every execution of ``key`` with an id above ``after`` (the storage pages newest first)."""
    out: list[Any] = []
    page_cursor = None
    while True:
        page = storage.get_asset_check_execution_history(key, limit=100, cursor=page_cursor)
        fresh = [r for r in page if r.id > after]
        out += fresh
        if len(page) < 100 or len(fresh) < len(page):
            return out
        page_cursor = page[-1].id
