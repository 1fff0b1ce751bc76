"""Runs a sensor created but never started are asked for again, each once."""

import dagster as dg
import pytest
from dagster._core.storage.dagster_run import DagsterRun

import suite.sensors.recovery
from suite.sensors.recovery import RELAUNCH_COUNT_TAG, RELAUNCH_OF_TAG, stranded_run_requests

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
