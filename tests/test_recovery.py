"""Runs a sensor created but never started are asked for again, each once; runs that ended
without an outcome for their batch are launched again, a bounded number of times."""

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.events import EngineEventData
from dagster._core.execution.plan.objects import StepFailureData
from dagster._core.storage.dagster_run import DagsterRun
from dagster._utils.error import SerializableErrorInfo

import suite.sensors.recovery
import suite.sensors.relaunch
from suite.build import build_definitions
from suite.cli.demo import open_instance
from suite.config import Settings
from suite.sensors.recovery import (
    MAX_RELAUNCHES,
    content_failure,
    interrupted,
    stranded_run_requests,
)
from suite.storage import BatchStorage
from suite.tags import (
    BATCHES_TAG,
    CARRIER_RUN_TAG,
    CARRIER_TAG,
    FAILED_CHECK_RUN_TAG,
    RECOVERY_TAG,
    RELAUNCH_COUNT_TAG,
    RELAUNCH_OF_TAG,
)
from tests.support.servers import POSTGRES_DAGSTER_YAML, write_instance_yaml

SENSOR = "orders_landing_sensor"


def add_run(instance: dg.DagsterInstance, run_id: str, status: dg.DagsterRunStatus, **tags: str) -> None:
    base = {"dagster/sensor_name": SENSOR, "dagster/run_key": f"batch:{run_id}.csv"}
    instance.add_run(
        DagsterRun(
            job_name="orders_batch_job",
            run_id=run_id,
            status=status,
            tags={**base, "dagster/partition": f"{run_id}.csv", "team": "data", **tags},
        )
    )


def test_runs_created_but_never_started_are_asked_for_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(suite.sensors.recovery, "STRANDED_AFTER_SECONDS", -60.0)
    status = dg.DagsterRunStatus
    with dg.instance_for_test() as instance:
        add_run(instance, "created", status.NOT_STARTED)  # the daemon died before submitting it
        add_run(instance, "refused", status.FAILURE)  # the submission failed: storage was down
        add_run(instance, "done", status.SUCCESS)
        add_run(instance, "gave_up", status.FAILURE, **{RELAUNCH_COUNT_TAG: "3"})
        add_run(instance, "started", status.NOT_STARTED)  # started, then failed: not stranded
        for event in (dg.DagsterEventType.RUN_START, dg.DagsterEventType.RUN_FAILURE):
            instance.handle_run_event("started", dg.DagsterEvent(event.value, "orders_batch_job"))
        assert instance.get_run_by_id("started").status is status.FAILURE
        context = dg.build_sensor_context(instance=instance)
        requests = {r.partition_key: r for r in stranded_run_requests(context, SENSOR)}
        assert sorted(requests) == ["created.csv", "refused.csv"]
        assert (requests["created.csv"].run_key, requests["created.csv"].tags) == (
            "batch:created.csv",
            {"team": "data"},
        )
        refused = requests["refused.csv"]
        assert (refused.run_key, refused.job_name) == ("relaunch:refused", "orders_batch_job")
        assert refused.tags == {"team": "data", RELAUNCH_OF_TAG: "refused", RELAUNCH_COUNT_TAG: "1"}
        assert stranded_run_requests(context, "orders_reflex_sensor") == []


# ------------------------------------------------- runs that ended without an outcome: relaunched

BATCH_JOB, REMEDIATION_JOB = "orders_batch_job", "orders_remediation_job"


def ended_run(
    instance: dg.DagsterInstance,
    run_id: str,
    job: str = BATCH_JOB,
    errors: tuple[SerializableErrorInfo, ...] = (),
    end: dg.DagsterEventType = dg.DagsterEventType.RUN_FAILURE,
    **tags: str,
) -> None:
    """A run of ``job`` for partition ``<run_id>.csv`` that started, had ``errors`` as step
    failures and ended with ``end``."""
    base = {"dagster/sensor_name": SENSOR, "dagster/run_key": f"batch:{run_id}.csv", "team": "data"}
    partition = tags.pop("partition", f"{run_id}.csv")
    instance.add_run(
        DagsterRun(job_name=job, run_id=run_id, tags={**base, "dagster/partition": partition, **tags})
    )
    instance.report_dagster_event(dg.DagsterEvent(dg.DagsterEventType.RUN_START.value, job), run_id)
    for error in errors:
        data = StepFailureData(error=error, user_failure_data=None)
        event = dg.DagsterEvent(
            dg.DagsterEventType.STEP_FAILURE.value, job, step_key="raw_batch", event_specific_data=data
        )
        instance.report_dagster_event(event, run_id)
    if end is not dg.DagsterEventType.RUN_START:
        instance.report_dagster_event(dg.DagsterEvent(end.value, job), run_id)


def error(cls_name: str, cause: SerializableErrorInfo | None = None) -> SerializableErrorInfo:
    return SerializableErrorInfo(f"{cls_name}: it went wrong\n", [], cls_name, cause)


INTERRUPT = error("DagsterExecutionInterruptedError")
CHECK = error("DagsterAssetCheckFailedError")
BUG = error("DagsterExecutionStepExecutionError", cause=error("FileNotFoundError"))


@pytest.fixture
def relaunch(settings: Settings, instance: dg.DagsterInstance) -> Callable[[], dg.SensorResult]:
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def("orders_relaunch_sensor")
    state: dict[str, str | None] = {"cursor": None}

    def tick() -> dg.SensorResult:
        context = dg.build_sensor_context(instance=instance, cursor=state["cursor"], definitions=defs)
        result = sensor(context)
        assert isinstance(result, dg.SensorResult)
        state["cursor"] = result.cursor
        return result

    return tick


def decisions(settings: Settings, batch: str) -> list[str]:
    ledger = BatchStorage(settings.storage).ledger()
    try:
        return [r.kind for r in ledger.records("orders", batch, steps=("decision",))]
    finally:
        ledger.dispose()


def test_a_run_that_died_without_an_outcome_is_launched_again(
    instance: dg.DagsterInstance, relaunch: Callable[[], dg.SensorResult]
) -> None:
    ended_run(instance, "killed")  # SIGKILL: no step failed
    ended_run(instance, "stopped", errors=(error("RetryRequested", cause=INTERRUPT),))  # SIGTERM
    ended_run(instance, "canceled", end=dg.DagsterEventType.RUN_CANCELED)
    ended_run(instance, "remediation_bug", job=REMEDIATION_JOB, errors=(BUG,), **{FAILED_CHECK_RUN_TAG: "r0"})
    ended_run(instance, "check_failed", errors=(CHECK,))  # the reflex sensor remediates it
    ended_run(instance, "unreadable", errors=(error("Failure"),))  # the failure sensor rejects it
    ended_run(instance, "batch_bug", errors=(BUG,))  # the failure sensor routes it through the policy
    ended_run(instance, "succeeded", end=dg.DagsterEventType.RUN_SUCCESS)
    requests = {r.partition_key: r for r in relaunch().run_requests}
    assert sorted(requests) == ["canceled.csv", "killed.csv", "remediation_bug.csv", "stopped.csv"]
    killed = requests["killed.csv"]
    assert (killed.run_key, killed.job_name) == ("relaunch:killed", BATCH_JOB)
    assert killed.tags == {"team": "data", RELAUNCH_OF_TAG: "killed", RELAUNCH_COUNT_TAG: "1"}
    remediation = requests["remediation_bug.csv"]
    assert remediation.job_name == REMEDIATION_JOB and remediation.tags[FAILED_CHECK_RUN_TAG] == "r0"
    # asked for again on the next tick until the daemon created the relaunch (its run key dedupes)
    assert {r.run_key for r in relaunch().run_requests} == {f"relaunch:{k[:-4]}" for k in requests}
    ended_run(instance, "relaunched", **{RELAUNCH_OF_TAG: "killed", "partition": "killed.csv"})
    assert "relaunch:killed" not in {r.run_key for r in relaunch().run_requests}
    assert instance.get_run_by_id("killed").tags[RECOVERY_TAG] == "relaunched"  # type: ignore[union-attr]


def test_a_run_whose_outcome_is_in_the_ledger_is_not_launched_again(
    settings: Settings, instance: dg.DagsterInstance, relaunch: Callable[[], dg.SensorResult]
) -> None:
    ledger = BatchStorage(settings.storage).ledger()
    ledger.append("orders", "again.csv", "decision", "publish")  # an earlier run's outcome
    ended_run(instance, "again")
    ended_run(instance, "wrote_it")  # killed just after the remediation step wrote the ledger
    ledger.append("orders", "wrote_it.csv", "decision", "publish")
    ledger.dispose()
    assert [r.partition_key for r in relaunch().run_requests] == ["again.csv"]
    assert instance.get_run_by_id("wrote_it").tags[RECOVERY_TAG] == "outcome"  # type: ignore[union-attr]
    assert decisions(settings, "wrote_it.csv") == ["publish"]


def test_past_the_bound_the_batch_goes_through_the_policy(
    settings: Settings, instance: dg.DagsterInstance, relaunch: Callable[[], dg.SensorResult]
) -> None:
    ended_run(instance, "fourth", **{RELAUNCH_COUNT_TAG: str(MAX_RELAUNCHES), RELAUNCH_OF_TAG: "third"})
    add_run(instance, "never", dg.DagsterRunStatus.FAILURE, **{RELAUNCH_COUNT_TAG: str(MAX_RELAUNCHES)})
    add_run(instance, "not_yet", dg.DagsterRunStatus.FAILURE)  # the landing sensor asks for it again
    assert relaunch().run_requests == []
    for batch, run_id in (("fourth.csv", "fourth"), ("never.csv", "never")):
        (decision,) = decisions(settings, batch)
        tags = instance.get_run_by_id(run_id).tags  # type: ignore[union-attr]
        assert (tags[RECOVERY_TAG], tags["dataops/decision"]) == ("given_up", decision)
    assert decisions(settings, "not_yet.csv") == []
    # a remediation run that failed for its batch's content: decided at once, never relaunched
    ended_run(instance, "unfixable", job=REMEDIATION_JOB, errors=(error("Failure"),))
    assert relaunch().run_requests == [] and len(decisions(settings, "unfixable.csv")) == 1
    assert instance.get_run_by_id("unfixable").tags[RECOVERY_TAG] == "given_up"  # type: ignore[union-attr]
    assert relaunch().run_requests == [] and len(decisions(settings, "fourth.csv")) == 1


def test_a_started_run_whose_worker_is_gone_is_failed_then_launched_again(
    monkeypatch: pytest.MonkeyPatch, instance: dg.DagsterInstance, relaunch: Callable[[], dg.SensorResult]
) -> None:
    dead = subprocess.Popen(["sleep", "0"])
    dead.wait()
    for run_id, pid in (("orphan", dead.pid), ("running", os.getpid())):
        ended_run(instance, run_id, end=dg.DagsterEventType.RUN_START)
        run = instance.get_run_by_id(run_id)
        assert run is not None
        instance.report_engine_event(
            f"Started process for run (pid: {pid}).", run, EngineEventData.in_process(pid)
        )
    assert relaunch().run_requests == []  # its code server may still report it: wait a little
    monkeypatch.setattr(suite.sensors.relaunch, "WORKER_GRACE_SECONDS", -1.0)
    assert [r.run_key for r in relaunch().run_requests] == ["relaunch:orphan"]
    orphan, running = instance.get_run_by_id("orphan"), instance.get_run_by_id("running")
    assert orphan is not None and running is not None
    assert (orphan.status, running.status) == (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.STARTED)
    (failure,) = instance.all_logs("orphan", of_type=dg.DagsterEventType.RUN_FAILURE)
    assert f"its run worker (pid {dead.pid}) is no longer running" in failure.message


def test_the_failure_sensor_leaves_interrupted_runs_to_the_relaunch_sensor() -> None:
    def failed(*errors: SerializableErrorInfo) -> list[dg.DagsterEvent]:
        return [
            dg.DagsterEvent(
                dg.DagsterEventType.STEP_FAILURE.value,
                BATCH_JOB,
                event_specific_data=StepFailureData(e, None),
            )
            for e in errors
        ]

    assert interrupted(failed(INTERRUPT)) and interrupted(failed(error("RetryRequested", cause=INTERRUPT)))
    assert not interrupted(failed()) and not interrupted(failed(INTERRUPT, BUG))
    lost_database = error("DagsterExecutionStepExecutionError", cause=error("OperationalError"))
    assert interrupted(failed(lost_database, INTERRUPT))  # PostgreSQL restarted under a step
    assert content_failure(failed(CHECK)) and content_failure(failed(error("Failure")))
    assert not content_failure(failed(BUG)) and not content_failure(failed(INTERRUPT))


def test_a_relaunch_that_never_started_is_asked_for_again_by_the_relaunch_sensor(
    monkeypatch: pytest.MonkeyPatch, instance: dg.DagsterInstance, relaunch: Callable[[], dg.SensorResult]
) -> None:
    monkeypatch.setattr(suite.sensors.recovery, "STRANDED_AFTER_SECONDS", -60.0)
    own = {"dagster/sensor_name": "orders_relaunch_sensor", RELAUNCH_OF_TAG: "first", RELAUNCH_COUNT_TAG: "1"}
    add_run(instance, "second", dg.DagsterRunStatus.FAILURE, **own)  # run monitoring: never started
    (request,) = relaunch().run_requests
    assert (request.run_key, request.partition_key) == ("relaunch:second", "second.csv")
    assert request.tags == {"team": "data", RELAUNCH_OF_TAG: "second", RELAUNCH_COUNT_TAG: "2"}


def test_a_carrier_that_died_leaves_no_batch_behind(
    monkeypatch: pytest.MonkeyPatch, instance: dg.DagsterInstance, relaunch: Callable[[], dg.SensorResult]
) -> None:
    monkeypatch.setattr(suite.sensors.relaunch, "WORKER_GRACE_SECONDS", -1.0)
    dead = subprocess.Popen(["sleep", "0"])
    dead.wait()
    batches = '{"a.csv": "2026-12-01T00:00:00+00:00", "b.csv": ""}'
    carrier_tags = {"dagster/run_key": "batches:a.csv..b.csv", CARRIER_TAG: "true", BATCHES_TAG: batches}
    started = dg.DagsterEventType.RUN_START
    ended_run(instance, "carrier", job="orders_batches_job", end=started, **carrier_tags)
    carrier = instance.get_run_by_id("carrier")
    assert carrier is not None
    instance.report_engine_event("Started process", carrier, EngineEventData.in_process(dead.pid))
    # the batch it was running when it died: no worker of its own, the carrier's is gone
    ended_run(instance, "child", end=started, partition="a.csv", **{CARRIER_RUN_TAG: "carrier"})
    requests = {r.run_key: r for r in relaunch().run_requests}
    assert sorted(requests) == ["relaunch:carrier:b.csv", "relaunch:child"]
    assert requests["relaunch:carrier:b.csv"].partition_key == "b.csv"
    assert requests["relaunch:carrier:b.csv"].tags == {RELAUNCH_OF_TAG: "carrier", RELAUNCH_COUNT_TAG: "1"}
    assert {instance.get_run_by_id(r).status for r in ("carrier", "child")} == {dg.DagsterRunStatus.FAILURE}  # type: ignore[union-attr]


def test_a_carrier_that_never_started_is_asked_for_again_only_by_its_sensor(
    monkeypatch: pytest.MonkeyPatch, instance: dg.DagsterInstance, relaunch: Callable[[], dg.SensorResult]
) -> None:
    """Created while PostgreSQL restarted and failed unlaunched: the landing sensor asks for the
    carrier again; the relaunch sensor asking for its batches too ran each batch twice."""
    monkeypatch.setattr(suite.sensors.recovery, "STRANDED_AFTER_SECONDS", -60.0)
    batches = '{"a.csv": "", "b.csv": ""}'
    tags = {"dagster/run_key": "batches:a.csv..b.csv", CARRIER_TAG: "true", BATCHES_TAG: batches}
    add_run(instance, "carrier", dg.DagsterRunStatus.FAILURE, **tags)
    assert relaunch().run_requests == []
    context = dg.build_sensor_context(instance=instance)
    assert [r.run_key for r in stranded_run_requests(context, SENSOR)] == ["relaunch:carrier"]


def test_a_dead_carrier_asks_nothing_for_a_batch_that_already_has_a_run(
    instance: dg.DagsterInstance, relaunch: Callable[[], dg.SensorResult]
) -> None:
    """b.csv got its batch run by another path before this carrier (a relaunch) was created."""
    add_run(instance, "b", dg.DagsterRunStatus.SUCCESS)
    batches = '{"a.csv": "", "b.csv": ""}'
    tags = {"dagster/run_key": "relaunch:first", CARRIER_TAG: "true", BATCHES_TAG: batches}
    ended_run(instance, "carrier", job="orders_batches_job", **tags)
    assert [r.run_key for r in relaunch().run_requests] == ["relaunch:carrier:a.csv"]


def test_every_instance_the_suite_writes_monitors_its_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))  # open_instance points it at its home
    homes = [tmp_path / "demo", tmp_path / "servers"]
    instances = [open_instance(homes[0])]
    write_instance_yaml(homes[1])
    instances.append(dg.DagsterInstance.from_config(str(homes[1])))
    for instance in instances:  # SQLite storage, both
        assert instance.run_monitoring_enabled and "MONITORING" in instance.get_required_daemon_types()
        assert instance.run_monitoring_max_resume_run_attempts == 0  # the default launcher cannot resume
        instance.dispose()
    for text in (POSTGRES_DAGSTER_YAML.read_text(), write_instance_yaml(homes[1], postgres=True).read_text()):
        assert yaml.safe_load(text)["run_monitoring"]["enabled"] is True
