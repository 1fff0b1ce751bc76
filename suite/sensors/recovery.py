"""Runs a sensor created but could not launch, asked for again.

The daemon creates a sensor's run, then submits it. If the instance's storage goes away in
between (a PostgreSQL restart), the submission fails and Dagster marks the run FAILURE although
it never started; a daemon that dies in between leaves it NOT_STARTED; a run worker that cannot
reach the storage as it starts stays STARTING until run monitoring fails it. Either way the
sensor's tick has moved on and the file would never be processed. Each such run is asked for
again:

- NOT_STARTED: under its own run key, so the daemon submits the run it already created;
- FAILURE without ever starting: under the key ``relaunch:<run id>``, so it is asked for once.

A relaunch that is itself stranded is relaunched again, at most ``MAX_RELAUNCHES`` times.

A run that started and then died without an outcome is the relaunch sensor's
(``suite/sensors/relaunch.py``); the helpers below tell such a run from one that failed for its
batch's content (:func:`crash_reason`, :func:`interrupted`) and a live worker from a gone one
(:func:`worker_gone`).
"""

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.storage.dagster_run import DagsterRun

from suite.tags import ALERT_TAG, DECISION_TAG, ESCALATED_TAG, RELAUNCH_COUNT_TAG, RELAUNCH_OF_TAG

STRANDED_AFTER_SECONDS = 10.0
"""A run still ``NOT_STARTED`` this long after it was created was not launched."""
MAX_RELAUNCHES = 3
OUTCOME_TAGS = (DECISION_TAG, ALERT_TAG, ESCALATED_TAG)
"""Tags that say what became of a run: a relaunch starts without them."""


def stranded_run_requests(context: dg.SensorEvaluationContext, sensor_name: str) -> list[dg.RunRequest]:
    """The sensor's own runs that were created but never started, asked for again."""
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=STRANDED_AFTER_SECONDS)
    records = context.instance.get_run_records(
        dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.FAILURE],
            tags={"dagster/sensor_name": sensor_name},
            created_before=before,
        )
    )
    requests = []
    for record in records:
        run = record.dagster_run
        if record.start_time is not None or "dagster/run_key" not in run.tags:
            continue
        own_tags = {k: v for k, v in run.tags.items() if not k.startswith(("dagster/", *OUTCOME_TAGS))}
        if run.status is dg.DagsterRunStatus.NOT_STARTED:
            run_key, tags = run.tags["dagster/run_key"], own_tags
        else:
            count = int(run.tags.get(RELAUNCH_COUNT_TAG, "0")) + 1
            if count > MAX_RELAUNCHES:
                continue
            run_key = f"relaunch:{run.run_id}"
            tags = {**own_tags, RELAUNCH_OF_TAG: run.run_id, RELAUNCH_COUNT_TAG: str(count)}
        requests.append(
            dg.RunRequest(
                run_key=run_key,
                job_name=run.job_name,
                partition_key=run.tags.get("dagster/partition"),
                tags=tags,
            )
        )
    return requests


# ------------------------------------------------------------------ runs that ended without an outcome

INTERRUPTS = ("DagsterExecutionInterruptedError", "KeyboardInterrupt")
UNREACHABLE = ("OperationalError", "InterfaceError")
"""Database errors (SQLAlchemy's and the drivers'): the instance's or the ledger's database was
unreachable, as while PostgreSQL restarts. Not the batch's fault: another run can succeed."""
CHECK_FAILURE = "DagsterAssetCheckFailedError"
ENDED = (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)


def step_failures(instance: dg.DagsterInstance, run_id: str) -> list[dg.DagsterEvent]:
    """The run's step failure events."""
    entries = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    return [e.dagster_event for e in entries if e.dagster_event is not None]


def _errors(error: Any) -> list[Any]:
    """``error`` and its causes and contexts, outermost first."""
    chain: list[Any] = []
    while error is not None and len(chain) < 20:
        chain.append(error)
        error = error.cause or error.context
    return chain


def interrupted(failures: Sequence[dg.DagsterEvent]) -> bool:
    """Every step failed because its process was interrupted (SIGTERM, SIGINT) or lost its
    database (:data:`UNREACHABLE`): not the batch's fault, so the run is relaunched."""
    errors = [event.step_failure_data.error if event.step_failure_data else None for event in failures]
    transient = (*INTERRUPTS, *UNREACHABLE)
    return bool(errors) and all(any(e.cls_name in transient for e in _errors(error)) for error in errors)


def content_failure(failures: Sequence[dg.DagsterEvent]) -> bool:
    """A step failed for the batch's content: a failed blocking check, or a ``dg.Failure`` the
    suite raised about the file (unreadable, no contract): each has an outcome path of its own."""
    for event in failures:
        data = event.step_failure_data
        if data is None or interrupted([event]):
            continue
        if data.user_failure_data is not None:
            return True
        if any(e.cls_name in ("Failure", CHECK_FAILURE) for e in _errors(data.error)):
            return True
    return False


def crash_reason(instance: dg.DagsterInstance, run: DagsterRun, others_handled: bool) -> str | None:
    """Why an ended run has no outcome of its own (None: it has, or another path gives it one).

    A run whose worker was killed fails with no step failure; one whose worker was stopped fails
    with interrupted steps. With ``others_handled`` (batch runs: the run failure sensor routes
    any other step failure through the policy) only those two count; otherwise any failure that
    is not about the batch's content does.
    """
    failures = step_failures(instance, run.run_id)
    if not failures:
        return "canceled" if run.status is dg.DagsterRunStatus.CANCELED else "the run worker died"
    if interrupted(failures):
        return "the run worker was interrupted or lost its database"
    if others_handled or content_failure(failures):
        return None
    step = failures[0].step_key or "run"
    error = failures[0].step_failure_data.error if failures[0].step_failure_data else None
    return f"step {step} failed: {error.message.strip().splitlines()[0][:200] if error else 'unknown'}"


def worker_gone(instance: dg.DagsterInstance, run_id: str) -> str | None:
    """Why a STARTED run's worker is no longer running (None: alive, or not known here).

    The worker logs its pid as it starts. It is gone when no process has that pid, when it is a
    zombie, or when the process with that pid started after the worker did (the pid was reused).
    """
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT).records
    for record in reversed(records):
        event = record.event_log_entry.dagster_event
        data = event.engine_event_data if event is not None else None
        pid = data.metadata.get("pid") if data is not None and event and not event.step_key else None
        if isinstance(pid, dg.TextMetadataValue) and pid.value.isdigit():
            if _running_since(int(pid.value), record.event_log_entry.timestamp):
                return None
            return f"its run worker (pid {pid.value}) is no longer running"
    return None


def _running_since(pid: int, moment: float) -> bool:
    """A live (not zombie) process ``pid`` exists that started no later than ``moment``."""
    proc = Path("/proc")
    if not proc.is_dir():  # no procfs: only whether the pid exists
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    try:
        fields = (proc / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        boot = next(line for line in (proc / "stat").read_text().splitlines() if line.startswith("btime"))
    except (OSError, StopIteration, IndexError):
        return False
    started = int(boot.split()[1]) + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    return fields[0] not in ("Z", "X") and started <= moment + 2.0
