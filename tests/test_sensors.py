import datetime
import json
from pathlib import Path

import dagster as dg

from suite.assets import schema as schema_assets
from suite.build import build_definitions
from suite.cli.runner import run_until_quiet
from suite.storage import BatchStorage

from .conftest import land


def evaluate(
    defs: dg.Definitions, name: str, instance: dg.DagsterInstance, cursor: str | None
) -> dg.SensorResult:
    sensor = defs.resolve_sensor_def(name)
    return sensor(dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs))


def test_landing_sensor_runs_training_batches_first_and_holds_the_rest(settings, stream, instance) -> None:
    names = land(settings, stream, 4)
    defs = build_definitions(settings)

    first = evaluate(defs, "orders_landing_sensor", instance, None)
    assert [list(r.partition_keys) for r in first.dynamic_partitions_requests] == [names]
    assert [(r.job_name, r.partition_key, r.run_key) for r in first.run_requests] == [
        ("orders_batches_job", None, f"batches:{names[0]}..{names[2]}")  # landed together: one run
    ]
    assert json.loads(first.cursor) == {"waiting": [names[3]]}

    instance.add_dynamic_partitions("orders_batches", names)
    again = evaluate(defs, "orders_landing_sensor", instance, first.cursor)
    assert again.run_requests == [] and again.dynamic_partitions_requests == []
    assert again.cursor == first.cursor  # the fourth batch waits for the contract


def test_landing_sensor_asks_for_training_once_the_window_is_published(settings, stream, instance) -> None:
    names = land(settings, stream, 4)
    defs = build_definitions(settings)
    instance.add_dynamic_partitions("orders_batches", names)
    batch_job = defs.resolve_job_def("orders_batch_job")
    for name in names[:3]:
        assert batch_job.execute_in_process(instance=instance, partition_key=name).success
    cursor = json.dumps({"waiting": [names[3]]})

    result = evaluate(defs, "orders_landing_sensor", instance, cursor)
    assert [(r.job_name, r.run_key) for r in result.run_requests] == [
        ("orders_training_job", f"training:{names[2]}")
    ]

    assert defs.resolve_job_def("orders_training_job").execute_in_process(instance=instance).success
    result = evaluate(defs, "orders_landing_sensor", instance, cursor)
    assert [(r.job_name, r.partition_key) for r in result.run_requests] == [("orders_batch_job", names[3])]
    assert json.loads(result.cursor) == {"waiting": []}


def test_reflex_sensor_launches_one_remediation_per_failed_batch_run(settings, stream, instance) -> None:
    _, batches = stream
    corrupt = next(b.name for b in batches if b.kind == "corrupt")
    names = land(settings, stream, 3)
    (settings.datasets[0].landing / corrupt).write_bytes((stream[0] / corrupt).read_bytes())
    defs = build_definitions(settings)
    instance.add_dynamic_partitions("orders_batches", [*names, corrupt])
    batch_job = defs.resolve_job_def("orders_batch_job")
    for name in names:
        batch_job.execute_in_process(instance=instance, partition_key=name)
    defs.resolve_job_def("orders_training_job").execute_in_process(instance=instance)

    quiet = evaluate(defs, "orders_reflex_sensor", instance, None)
    assert quiet.run_requests == []
    failed = batch_job.execute_in_process(instance=instance, partition_key=corrupt, raise_on_error=False)
    assert not failed.success  # the blocking contract check stopped publication

    result = evaluate(defs, "orders_reflex_sensor", instance, quiet.cursor)
    assert [(r.partition_key, r.run_key) for r in result.run_requests] == [
        (corrupt, f"remediate:{failed.run_id}")
    ]
    assert result.run_requests[0].tags["dataops/failed_checks"] == "rows_satisfy_contract"
    assert int(result.cursor) > int(quiet.cursor)
    assert evaluate(defs, "orders_reflex_sensor", instance, result.cursor).run_requests == []


def test_drift_schedule_rescores_reports_older_than_the_reference(settings, stream, instance) -> None:
    names = land(settings, stream, 4)
    defs = build_definitions(settings)
    run_until_quiet(defs, instance)
    schedule = defs.resolve_schedule_def("orders_drift_schedule")
    when = datetime.datetime(2026, 11, 8, 6, tzinfo=datetime.UTC)
    requests = schedule(dg.build_schedule_context(instance=instance, scheduled_execution_time=when))
    # The training batches were scored before the reference existed; the fourth after.
    assert sorted((r.partition_key, r.run_key) for r in requests) == [
        (name, f"rescore:2026-11-08:{name}") for name in names[:3]
    ]


def test_a_batch_run_that_fails_before_its_checks_goes_through_the_policy(
    settings, stream, instance, monkeypatch
) -> None:
    land(settings, stream, 4)
    broken = settings.datasets[0].landing / "orders_2026-11-04.parquet"
    read = schema_assets.read_batch_file

    def failing(path, *args, **kwargs):  # a failure that is not the file's content (unreadable: rejected)
        if Path(path).name == broken.name:  # the copy the landing sensor took
            raise dg.Failure("cannot read this batch: the disk went away", allow_retries=False)
        return read(path, *args, **kwargs)

    monkeypatch.setattr(schema_assets, "read_batch_file", failing)
    defs = build_definitions(settings)
    run_until_quiet(defs, instance)

    (failed,) = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
    assert failed.tags["dagster/partition"] == broken.name
    assert failed.tags["dataops/decision"] == "hold"  # the bundled policy does not route run failures
    ledger = BatchStorage(settings.storage).ledger()
    trail = ledger.records("orders", broken.name)
    ledger.dispose()
    assert [(r.step, r.kind) for r in trail] == [
        ("signal", "run_failure"),
        ("decision", "hold"),
        ("action", "hold"),
        ("outcome", "none"),  # no rows reached the suite: nothing to verify, no breaker failure
    ]
    assert (
        trail[0].detail["column"] == "orders__raw_batch"
        and "cannot read this batch" in trail[0].detail["detail"]
    )
    assert broken.exists()  # nothing is lost: the file waits for a person
    assert run_until_quiet(defs, instance) == []  # judged once


def test_a_late_batch_is_a_freshness_signal_once_per_gap(settings, stream, instance) -> None:
    import dataclasses
    import os
    import time

    dataset = dataclasses.replace(settings.datasets[0], freshness_hours=24)
    late = dataclasses.replace(settings, datasets=(dataset,))
    names = land(late, stream, 1)
    defs = build_definitions(late)
    sensor = defs.resolve_sensor_def("orders_freshness_sensor")
    assert "landed 0.0 hours ago" in sensor(dg.build_sensor_context(instance=instance)).skip_message

    two_days_ago = time.time() - 48 * 3600
    os.utime(dataset.landing / names[0], (two_days_ago, two_days_ago))
    context = dg.build_sensor_context(instance=instance)
    assert sensor(context).skip_message == "late: no batch for 48.0 hours (expected every 24); hold"
    again = dg.build_sensor_context(instance=instance, cursor=context.cursor)
    assert sensor(again).skip_message.startswith("already signalled")
    ledger = BatchStorage(late.storage).ledger()
    (signal, *_) = ledger.records("orders")
    ledger.dispose()
    assert (signal.step, signal.kind, signal.detail["magnitude"]) == ("signal", "freshness", 2.0)
