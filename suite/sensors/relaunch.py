"""Batch and remediation runs that ended without an outcome for their batch, launched again.

A run worker killed mid-run (SIGKILL, the out-of-memory killer) fails with no step failure; one
stopped with the daemon's process group fails with interrupted steps, or stays STARTED for ever
when its code server died with it (the default run launcher cannot check a worker's health, so
run monitoring never fails it). None of them wrote an outcome: the run failure sensor leaves
them alone, and this sensor, every ``sensor_interval_seconds``:

- marks a STARTED run whose worker is gone as failed, saying why;
- for every ended run of the dataset's batch or remediation job with no ledger decision for its
  batch since the run was created, and not failed for its content (a failed blocking check, an
  unreadable file), asks for the same job and partition again under ``relaunch:<run id>``, with
  the run's own tags, at most ``MAX_RELAUNCHES`` times in a chain;
- asks again for its own relaunches that never started, as the other sensors do
  (``stranded_run_requests``);
- past that bound, routes the batch through the policy as a ``run_failure`` signal, so it ends
  held (or whatever the policy says) in the ledger, never silently lost.

A run whose outcome is already in the ledger (the worker died after writing it) is not launched
again: the ledger never holds two outcomes of one run's batch.
"""

import datetime as dt
import json
import time
from typing import Any

import dagster as dg
from dagster._core.launcher import DefaultRunLauncher
from dagster._core.storage.dagster_run import DagsterRun, RunRecord

import datareflex
from datareflex._ledger import timestamp
from suite.config import DatasetConfig
from suite.jobs.carrier import has_batch_run
from suite.sensors.incidents import handle_failure
from suite.sensors.recovery import (
    ENDED,
    MAX_RELAUNCHES,
    OUTCOME_TAGS,
    crash_reason,
    stranded_run_requests,
    worker_gone,
)
from suite.storage import BatchStorage
from suite.tags import (
    BATCHES_TAG,
    CARRIER_RUN_TAG,
    CARRIER_TAG,
    DECISION_TAG,
    LANDED_AT_TAG,
    RECOVERY_TAG,
    RELAUNCH_COUNT_TAG,
    RELAUNCH_OF_TAG,
)


def build_relaunch_sensor(
    dataset: DatasetConfig, batch_job: Any, remediation_job: Any, storage_root: str
) -> dg.SensorDefinition:
    name = f"{dataset.name}_relaunch_sensor"

    @dg.sensor(
        name=name,
        jobs=[batch_job, remediation_job],
        minimum_interval_seconds=dataset.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Launches again batch and remediation runs that died without an outcome (bounded).",
    )
    def relaunch_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        instance = context.instance
        jobs = (batch_job.name, remediation_job.name)
        for record in _runs(instance, jobs, [dg.DagsterRunStatus.STARTED], None):
            fail_dead_worker(instance, record.dagster_run)
        after = float(context.cursor or 0)
        records = _runs(instance, jobs, list(ENDED), after)
        requests: list[dg.RunRequest] = []
        unresolved: list[float] = []
        for record in records:
            if CARRIER_TAG in record.dagster_run.tags:
                asked = carrier_requests(instance, record, batch_job.name)
            else:
                request = _recover(context, dataset, storage_root, record, batch_job.name)
                asked = [request] if request is not None else []
            if asked:
                requests += asked
                unresolved.append(record.update_timestamp.timestamp())
        seen = [r.update_timestamp.timestamp() for r in records]
        cursor = min(unresolved) - 0.001 if unresolved else max([after, *seen])
        requests += stranded_run_requests(context, name)  # its own relaunches that never started
        return dg.SensorResult(run_requests=requests, cursor=str(cursor))

    return relaunch_sensor


WORKER_GRACE_SECONDS = 10.0
"""A code server that launched a worker reports its death within a second or two; this sensor
fails a STARTED run only when nothing was logged for it this long (the code server died too)."""


def fail_dead_worker(instance: dg.DagsterInstance, run: DagsterRun) -> bool:
    """Mark ``run`` failed if it is STARTED but its worker is gone; whether it was."""
    if not isinstance(instance.run_launcher, DefaultRunLauncher):
        return False  # workers elsewhere (containers, pods): their launcher and monitoring know
    latest = instance.get_records_for_run(run.run_id, limit=1, ascending=False).records
    if latest and time.time() - latest[0].event_log_entry.timestamp < WORKER_GRACE_SECONDS:
        return False  # a code server still alive reports its own worker's death first
    reason = worker_gone(instance, run.run_id)
    if reason is None and CARRIER_RUN_TAG in run.tags:  # a batch run a carrier ran in its process
        reason = worker_gone(instance, run.tags[CARRIER_RUN_TAG])
    current = instance.get_run_by_id(run.run_id)
    if reason is None or current is None or current.status is not dg.DagsterRunStatus.STARTED:
        return False
    instance.report_run_failed(current, f"Marked failed by the relaunch sensor: {reason}.")
    return True


def _runs(
    instance: dg.DagsterInstance,
    jobs: tuple[str, ...],
    statuses: list[dg.DagsterRunStatus],
    after: float | None,
) -> list[RunRecord]:
    """Runs of ``jobs`` and carrier runs in ``statuses``, updated after ``after`` (oldest first)."""
    since = dt.datetime.fromtimestamp(after - 1.0, dt.UTC) if after else None
    filters = [dg.RunsFilter(job_name=job, statuses=statuses, updated_after=since) for job in jobs]
    filters.append(dg.RunsFilter(tags={CARRIER_TAG: "true"}, statuses=statuses, updated_after=since))
    found = {r.dagster_run.run_id: r for f in filters for r in instance.get_run_records(f, limit=500)}
    return sorted(found.values(), key=lambda r: r.update_timestamp)


def carrier_requests(instance: dg.DagsterInstance, record: RunRecord, batch_job: str) -> list[dg.RunRequest]:
    """A carrier run (several batches in one process) that ended: an ordinary batch run for each
    of its batches it never started; each batch run it did start is recovered on its own."""
    carrier = record.dagster_run
    if RECOVERY_TAG in carrier.tags or carrier.status is dg.DagsterRunStatus.SUCCESS:
        return []
    landed = json.loads(carrier.tags.get(BATCHES_TAG, "{}"))
    count = int(carrier.tags.get(RELAUNCH_COUNT_TAG, "0")) + 1
    if record.start_time is None and count <= MAX_RELAUNCHES:
        return []  # never started: the sensor that created it asks again (stranded_run_requests)
    requests = []
    for key, landed_at in landed.items():
        if has_batch_run(instance, batch_job, key):
            continue  # the carrier started it, or another path (a relaunch) gave it a run
        requests.append(
            dg.RunRequest(
                run_key=f"relaunch:{carrier.run_id}:{key}",
                job_name=batch_job,
                partition_key=key,
                tags={
                    **({LANDED_AT_TAG: landed_at} if landed_at else {}),
                    RELAUNCH_OF_TAG: carrier.run_id,
                    RELAUNCH_COUNT_TAG: str(count),
                },
            )
        )
    if not requests:
        instance.add_run_tags(carrier.run_id, {RECOVERY_TAG: "relaunched"})
    return requests


def _recover(
    context: dg.SensorEvaluationContext,
    dataset: DatasetConfig,
    storage_root: str,
    record: RunRecord,
    batch_job: str,
) -> dg.RunRequest | None:
    """What becomes of one ended run: nothing (it has an outcome, or another path gives it one),
    a relaunch request, or a decision by the policy once the chain is long enough."""
    run, instance = record.dagster_run, context.instance
    partition = run.tags.get("dagster/partition")
    tags = run.tags
    if RECOVERY_TAG in tags or partition is None or not ({"dagster/run_key", RELAUNCH_OF_TAG} & set(tags)):
        return None  # done, not a batch, or a person's own run
    count = int(tags.get(RELAUNCH_COUNT_TAG, "0")) + 1
    if record.start_time is None:
        if run.status is dg.DagsterRunStatus.FAILURE and count <= MAX_RELAUNCHES:
            return None  # never started: the sensor that created it asks again (stranded_run_requests)
        reason: str | None = "the run never started"
    else:
        reason = crash_reason(instance, run, others_handled=run.job_name == batch_job)
        if reason is None and run.job_name != batch_job and run.status is dg.DagsterRunStatus.FAILURE:
            # a remediation run that failed for its batch's content: no other path decides it
            reason, count = "it failed for its batch's content", MAX_RELAUNCHES + 1
    if reason is None:
        return None
    if _has_outcome(dataset, storage_root, partition, record.create_timestamp):
        instance.add_run_tags(run.run_id, {RECOVERY_TAG: "outcome"})
        return None
    if count > MAX_RELAUNCHES:
        reason = f"{reason}; relaunched {tags.get(RELAUNCH_COUNT_TAG, '0')} times"
        decision = _give_up(dataset, storage_root, partition, run, reason)
        instance.add_run_tags(run.run_id, {RECOVERY_TAG: "given_up", DECISION_TAG: decision})
        context.log.warning(f"{partition}: run {run.run_id}: {reason}; the policy decided {decision}")
        return None
    if instance.get_run_records(dg.RunsFilter(tags={RELAUNCH_OF_TAG: run.run_id}), limit=1):
        instance.add_run_tags(run.run_id, {RECOVERY_TAG: "relaunched"})
        return None
    context.log.info(f"{partition}: run {run.run_id}: {reason}; launched again ({count}/{MAX_RELAUNCHES})")
    own = {k: v for k, v in tags.items() if not k.startswith(("dagster/", *OUTCOME_TAGS, RECOVERY_TAG))}
    return dg.RunRequest(
        run_key=f"relaunch:{run.run_id}",
        job_name=run.job_name,
        partition_key=partition,
        tags={**own, RELAUNCH_OF_TAG: run.run_id, RELAUNCH_COUNT_TAG: str(count)},
    )


def _has_outcome(dataset: DatasetConfig, storage_root: str, batch: str, since: dt.datetime) -> bool:
    """A decision about ``batch`` was recorded since ``since`` (by the run, or a later one)."""
    ledger = BatchStorage(storage_root).ledger()
    try:
        decisions = ledger.records(dataset.name, batch, steps=("decision",))
    finally:
        ledger.dispose()
    return any(r.recorded_at >= timestamp(since) for r in decisions)


def _give_up(dataset: DatasetConfig, storage_root: str, batch: str, run: DagsterRun, reason: str) -> str:
    """The batch through the policy as a run failure: a decision in the ledger, whatever it is."""
    detail = f"run {run.run_id}: {reason}, no outcome"
    signal = datareflex.Signal(
        datareflex.SignalKind.RUN_FAILURE,
        "run",
        "crashed",
        detail=detail,
        severity=datareflex.Severity.CRITICAL,
    )
    return handle_failure(dataset, storage_root, batch, [signal]).decision.value
