"""The daemon's loop, in process: tick every sensor, launch the runs it asks for, repeat.

This is what ``dagster-daemon`` does, minus the separate processes: dynamic partitions a sensor
requests are added, run keys already used by that sensor are skipped, cursors persist in the
instance, and each run executes in process against the same instance (SQLite by default).
"""

import logging
import time
from dataclasses import dataclass
from typing import Any

import dagster as dg

from suite.jobs.carrier import jobs_in_process
from suite.sensors.landing import settling_until

_CURSOR_PREFIX = "dataops/sensor_cursor/"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LaunchedRun:
    sensor: str
    job: str
    partition: str | None
    run_id: str
    success: bool


def tick(defs: dg.Definitions, instance: dg.DagsterInstance, log_level: str = "WARNING") -> list[LaunchedRun]:
    """Evaluate every sensor once and execute the runs they request, in order.

    ``log_level`` sets the runs' console logger; every event still goes to the instance.
    """
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    launched: list[LaunchedRun] = []
    for sensor in (defs.resolve_sensor_def(s.name) for s in defs.sensors or []):
        cursor_key = _CURSOR_PREFIX + sensor.name
        cursor = instance.run_storage.get_cursor_values({cursor_key}).get(cursor_key)
        if isinstance(sensor, dg.RunStatusSensorDefinition):
            _failed_runs(sensor, instance, cursor_key, cursor)
            continue
        context = dg.build_sensor_context(
            instance=instance, cursor=cursor, definitions=defs, sensor_name=sensor.name
        )
        result = sensor(context)
        if isinstance(result, dg.SensorResult):
            _apply(result, instance)
            for request in result.run_requests or []:
                run = _launch(defs, instance, sensor, request, run_config)
                launched += [run] if run is not None else []
        # A sensor that returns a SensorResult sets its cursor there; one that skips, through the context.
        new_cursor = result.cursor if isinstance(result, dg.SensorResult) else context.cursor
        if new_cursor is not None and new_cursor != cursor:
            instance.run_storage.set_cursor_values({cursor_key: new_cursor})
    return launched


def _apply(result: dg.SensorResult, instance: dg.DagsterInstance) -> None:
    """What the daemon does with a tick's result before launching its runs."""
    for event in result.asset_events or []:
        instance.report_runless_asset_event(event)
    for partitions in result.dynamic_partitions_requests or []:
        if isinstance(partitions, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(partitions.partitions_def_name, list(partitions.partition_keys))


def _launch(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    sensor: dg.SensorDefinition,
    request: dg.RunRequest,
    run_config: dict[str, Any],
) -> LaunchedRun | None:
    """Execute one requested run in process, unless the sensor already used its run key."""
    if request.run_key and _already_launched(instance, sensor.name, request.run_key):
        return None
    job = _job_of(defs, sensor, request)
    job_name = job.name
    tags = {**request.tags, "dagster/sensor_name": sensor.name}
    if request.run_key:
        tags["dagster/run_key"] = request.run_key
    with jobs_in_process(defs):
        outcome = job.execute_in_process(
            instance=instance,
            partition_key=request.partition_key,
            tags=tags,
            run_config=run_config,
            raise_on_error=False,
        )
    log.info(
        "%s launched %s [%s]: %s",
        sensor.name,
        job_name,
        request.partition_key,
        "success" if outcome.success else "failure",
    )
    partition = request.partition_key or request.tags.get("dagster/partition")
    return LaunchedRun(sensor.name, job_name, partition, outcome.run_id, outcome.success)


def _job_of(defs: dg.Definitions, sensor: dg.SensorDefinition, request: dg.RunRequest) -> dg.JobDefinition:
    """The job a request runs: the one it or its sensor names, or (a request for checks alone, as
    the daemon runs it) the implicit asset job cut down to those checks."""
    if request.asset_check_keys is not None and not request.asset_selection:
        implicit = defs.resolve_implicit_global_asset_job_def()
        return implicit.get_subset(asset_selection=set(), asset_check_selection=set(request.asset_check_keys))
    job_name = request.job_name or sensor.job_name
    if job_name is None:
        raise ValueError(f"sensor {sensor.name} asked for a run without naming its job")
    return defs.resolve_job_def(job_name)


def _failed_runs(
    sensor: dg.RunStatusSensorDefinition,
    instance: dg.DagsterInstance,
    cursor_key: str,
    cursor: str | None,
) -> None:
    """Show a run-failure sensor each failed run after its cursor (a run storage id), oldest first."""
    after = int(cursor or 0)
    records = instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
    monitored = {getattr(job, "name", None) for job in getattr(sensor, "monitored_jobs", None) or []}
    for record in sorted((r for r in records if r.storage_id > after), key=lambda r: r.storage_id):
        after = record.storage_id
        run = record.dagster_run
        events = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
        if (monitored and run.job_name not in monitored) or not events or events[-1].dagster_event is None:
            continue
        context = dg.build_run_status_sensor_context(
            sensor_name=sensor.name,
            dagster_event=events[-1].dagster_event,
            dagster_instance=instance,
            dagster_run=run,
        ).for_run_failure()
        sensor(context)
    instance.run_storage.set_cursor_values({cursor_key: str(after)})


def run_until_quiet(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    max_ticks: int = 10_000,
    log_level: str = "WARNING",
    settle_timeout: float = 300.0,
) -> list[LaunchedRun]:
    """Tick until no sensor asks for anything more and no landed file is still settling.

    A file still being written is not taken yet; the loop waits for it (short sleeps, then
    another tick), but no longer than ``settle_timeout`` seconds without a run: a file written
    to without end is left for a later ``dataops run``.
    """
    launched: list[LaunchedRun] = []
    idle_since = time.monotonic()
    for _ in range(max_ticks):
        runs = tick(defs, instance, log_level)
        launched += runs
        if runs:
            idle_since = time.monotonic()
            continue
        ready_at = _settling_until(defs, instance)
        if ready_at is None or time.monotonic() - idle_since > settle_timeout:
            return launched
        time.sleep(min(1.0, max(0.05, ready_at - time.time())))
    raise RuntimeError(f"sensors still requesting runs after {max_ticks} ticks")


def _settling_until(defs: dg.Definitions, instance: dg.DagsterInstance) -> float | None:
    """When the first file a landing sensor reports settling may be taken (epoch seconds)."""
    keys = {_CURSOR_PREFIX + s.name for s in defs.sensors or [] if s.name.endswith("_landing_sensor")}
    cursors = instance.run_storage.get_cursor_values(keys)
    times = [t for t in map(settling_until, cursors.values()) if t is not None]
    return min(times, default=None)


def _already_launched(instance: dg.DagsterInstance, sensor: str, run_key: str) -> bool:
    runs = instance.get_runs(
        dg.RunsFilter(tags={"dagster/sensor_name": sensor, "dagster/run_key": run_key}), limit=1
    )
    return bool(runs)
