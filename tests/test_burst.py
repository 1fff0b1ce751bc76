"""Files landed together run several to a run (the carrier job), each still its own batch run."""

import collections
import dataclasses
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import numpy as np
import pytest
from dagster._core.code_pointer import ModuleCodePointer
from dagster._core.origin import JobPythonOrigin, RepositoryPythonOrigin
from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin

from suite.build import build_definitions
from suite.cli.runner import run_until_quiet
from suite.cli.sample_data import orders_for_day
from suite.config import Settings
from suite.jobs.carrier import carrier_tags, jobs_in_process, request_keys, run_one
from suite.sensors.landing import _batch_requests
from suite.storage import BatchStorage
from suite.storage.landings import LandingRecord
from suite.tags import BATCHES_TAG, CARRIER_RUN_TAG, CARRIER_TAG, LANDED_AT_TAG

from .test_sensors import evaluate

CHECKS = (
    (("orders", "validation"), "schema_matches_contract"),
    (("orders", "validation"), "rows_satisfy_contract"),
    (("orders", "drift_report"), "no_drift"),
)


def per_run(settings: Settings, batches: int) -> Settings:
    intake = dataclasses.replace(settings.datasets[0].intake, batches_per_run=batches)
    dataset = dataclasses.replace(settings.datasets[0], intake=intake)
    return dataclasses.replace(settings, datasets=(dataset,))


def land_days(landing: Path, first: int, count: int) -> list[str]:
    """``count`` small clean days of orders as CSV files, from day ``first``."""
    rng = np.random.default_rng(first)
    names = []
    for day in range(first, first + count):
        name = f"orders_{day:03d}.csv"
        orders_for_day(day, rng, 1 + day * 10_000).head(300).to_csv(landing / name, index=False)
        names.append(name)
    return names


def batch_runs(instance: dg.DagsterInstance) -> dict[str, list[dg.DagsterRun]]:
    runs = collections.defaultdict(list)
    for run in instance.get_runs(dg.RunsFilter(job_name="orders_batch_job")):
        runs[run.tags["dagster/partition"]].append(run)
    return runs


def published(instance: dg.DagsterInstance) -> collections.Counter[str]:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(["orders", "published_batch"])), limit=1000
    ).records
    return collections.Counter(r.partition_key for r in records)


def test_batch_requests_group_files_landed_together(tmp_path) -> None:
    record = LandingRecord(tmp_path, "orders")
    keys = [f"f{i:02d}.csv" for i in range(11)]
    record.record(keys)
    job = dg.define_asset_job("orders_batch_job")
    requests = _batch_requests(record, keys, job, batches_per_run=5)
    assert [(r.job_name, r.run_key, r.partition_key) for r in requests] == [
        ("orders_batches_job", "batches:f00.csv..f04.csv", None),
        ("orders_batches_job", "batches:f05.csv..f09.csv", None),
        ("orders_batch_job", "batch:f10.csv", "f10.csv"),  # a lone file: an ordinary batch run
    ]
    landed = {key: at.isoformat() for key, at in record.landed()}
    assert json.loads(requests[0].tags[BATCHES_TAG]) == {k: landed[k] for k in keys[:5]}
    assert list(json.loads(requests[1].tags[BATCHES_TAG])) == keys[5:10]  # landing order kept
    assert requests[0].tags[CARRIER_TAG] == "true"  # what the run queue can cap
    assert [request_keys(r) for r in requests] == [keys[:5], keys[5:10], keys[10:]]
    assert requests[2].tags == {LANDED_AT_TAG: landed["f10.csv"]}
    assert _batch_requests(record, keys[:1], job, batches_per_run=5)[0].job_name == "orders_batch_job"
    assert [r.run_key for r in _batch_requests(record, keys[:3], job, batches_per_run=1)] == [
        "batch:f00.csv",
        "batch:f01.csv",
        "batch:f02.csv",
    ]


@pytest.fixture
def burst(settings, instance) -> tuple[Settings, dg.Definitions, list[str]]:
    """12 files landed at once, five to a run, worked off by the in-process runner."""
    grouped = per_run(settings, 5)
    names = land_days(grouped.datasets[0].landing, 0, 12)
    defs = build_definitions(grouped)
    run_until_quiet(defs, instance)
    return grouped, defs, names


def test_a_burst_runs_five_files_to_a_run_each_its_own_batch(burst, instance) -> None:
    settings, _, names = burst
    carriers = sorted(
        instance.get_runs(dg.RunsFilter(job_name="orders_batches_job")),
        key=lambda r: r.tags["dagster/run_key"],
    )
    # The training window (the first three files) first, then the rest five to a run.
    assert [(r.tags["dagster/run_key"], r.status) for r in carriers] == [
        ("batches:orders_000.csv..orders_002.csv", dg.DagsterRunStatus.SUCCESS),
        ("batches:orders_003.csv..orders_007.csv", dg.DagsterRunStatus.SUCCESS),
        ("batches:orders_008.csv..orders_011.csv", dg.DagsterRunStatus.SUCCESS),
    ]
    carried = {key: run.run_id for run in carriers for key in json.loads(run.tags[BATCHES_TAG])}
    assert list(carried) == names
    runs = batch_runs(instance)
    assert sorted(runs) == names and all(len(runs[k]) == 1 for k in names)  # every file once
    landed = dict(LandingRecord(settings.storage, "orders").landed())
    for key in names:
        (run,) = runs[key]
        assert run.tags[CARRIER_RUN_TAG] == carried[key]
        assert run.tags["dagster/run_key"] == f"batch:{key}"
        assert run.tags[LANDED_AT_TAG] == landed[key].isoformat()
    assert published(instance) == {key: 1 for key in names}
    key_of_run = {runs[key][0].run_id: key for key in names}
    for path, check in CHECKS:  # each file's three checks, judged once, in its own run
        executions = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey(list(path)), check), limit=100
        )
        assert collections.Counter(key_of_run.get(e.run_id) for e in executions) == {k: 1 for k in names}
        assert {e.status.value for e in executions} <= {"SUCCEEDED", "FAILED"}
    decisions = BatchStorage(settings.storage).ledger().records(dataset="orders", steps=("decision",))
    assert collections.Counter(r.batch for r in decisions) == {key: 1 for key in names}
    assert {r.kind for r in decisions} <= {"publish", "alert", "remediate"}


def test_a_lone_file_after_the_burst_is_an_ordinary_batch_run(burst, instance) -> None:
    settings, defs, names = burst
    cursor = instance.run_storage.get_cursor_values({"dataops/sensor_cursor/orders_landing_sensor"})
    (lone,) = land_days(settings.datasets[0].landing, 12, 1)
    result = evaluate(
        defs, "orders_landing_sensor", instance, cursor.get("dataops/sensor_cursor/orders_landing_sensor")
    )
    assert [(r.job_name, r.run_key, r.partition_key) for r in result.run_requests] == [
        ("orders_batch_job", f"batch:{lone}", lone)
    ]


def test_a_relaunched_carrier_skips_the_files_already_run(burst, instance) -> None:
    settings, defs, names = burst
    (late,) = land_days(settings.datasets[0].landing, 12, 1)
    instance.add_dynamic_partitions("orders_batches", [late])
    before = {key: [r.run_id for r in runs] for key, runs in batch_runs(instance).items()}
    with jobs_in_process(defs):
        again = defs.resolve_job_def("orders_batches_job").execute_in_process(
            instance=instance, tags=carrier_tags({names[3]: "", names[4]: "", late: ""})
        )
    assert again.success
    runs = batch_runs(instance)
    assert {key: [r.run_id for r in rs] for key, rs in runs.items() if key != late} == before
    (late_run,) = runs[late]
    assert late_run.status == dg.DagsterRunStatus.SUCCESS
    assert late_run.tags[CARRIER_RUN_TAG] == again.run_id
    assert published(instance) == {key: 1 for key in [*names, late]}
    metadata = instance.get_records_for_run(again.run_id, of_type=dg.DagsterEventType.STEP_OUTPUT).records
    (output,) = metadata
    reported = output.event_log_entry.dagster_event.step_output_data.metadata["batches"].value
    assert reported[names[3]] == reported[names[4]] == "skipped: it already has a batch run"
    assert reported[late] == f"success (run {late_run.run_id})"


def test_a_failed_batch_in_a_carrier_is_an_ordinary_failed_batch_run(settings, instance) -> None:
    """The run-failure sensor handles it; the carrier and the other files go on."""
    grouped = per_run(settings, 5)
    landing = grouped.datasets[0].landing
    names = land_days(landing, 0, 6)
    (landing / names[4]).write_text("")  # unreadable: no header, no rows
    run_until_quiet(build_definitions(grouped), instance)
    runs = batch_runs(instance)
    (broken,) = runs[names[4]]
    assert broken.status == dg.DagsterRunStatus.FAILURE
    assert "dataops/decision" in broken.tags  # the run-failure sensor saw it as a batch run
    decisions = BatchStorage(grouped.storage).ledger().records(dataset="orders", steps=("decision",))
    assert collections.Counter(r.batch for r in decisions) == {key: 1 for key in names}
    assert published(instance) == {key: 1 for key in names if key != names[4]}
    carriers = instance.get_runs(dg.RunsFilter(job_name="orders_batches_job"))
    assert {run.status for run in carriers} == {dg.DagsterRunStatus.SUCCESS}


def test_a_carried_batch_run_has_the_carriers_code_origin(settings, instance) -> None:
    """What lets the daemon's run-failure sensor and run keys see a carried run as its own."""
    names = land_days(settings.datasets[0].landing, 0, 1)
    instance.add_dynamic_partitions("orders_batches", names)
    defs = build_definitions(settings)
    repository = RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("suite"), "__repository__")
    python = RepositoryPythonOrigin(sys.executable, ModuleCodePointer("suite.definitions", "defs", None))
    carrier = SimpleNamespace(
        remote_job_origin=RemoteJobOrigin(repository_origin=repository, job_name="orders_batches_job"),
        job_code_origin=JobPythonOrigin("orders_batches_job", python),
    )
    context = SimpleNamespace(instance=instance, run_config={}, dagster_run=carrier)
    run_id, _ = run_one(context, defs.resolve_job_def("orders_batch_job"), names[0], {"dataops/x": "y"})
    run = instance.get_run_by_id(run_id)
    assert run is not None and run.remote_job_origin is not None
    assert run.remote_job_origin.repository_origin == repository
    assert run.remote_job_origin.job_name == "orders_batch_job"
    assert run.job_code_origin == JobPythonOrigin("orders_batch_job", python)
    assert run.tags["dagster/partition"] == names[0] and run.tags["dataops/x"] == "y"
