"""Landing order is the order the landing sensor first saw the files, not the order of their names."""

import dataclasses
import datetime as dt
import json
import os
import time
from pathlib import Path

import dagster as dg

from suite.build import build_definitions
from suite.cli.runner import run_until_quiet, tick
from suite.config import DriftSettings, Settings
from suite.storage import BatchStorage
from suite.storage.files import read_batch
from suite.storage.partitions import landed_before, landing_order, landing_record, training_partitions
from suite.tags import LANDED_AT_TAG

from .test_sensors import evaluate

SENSOR = "orders_landing_sensor"


def one_training_batch(settings: Settings) -> Settings:
    """One training batch and a rolling reference, so every later batch shows what it follows."""
    dataset = dataclasses.replace(
        settings.datasets[0], training_batches=1, drift=DriftSettings("rolling", window=3)
    )
    return dataclasses.replace(settings, datasets=(dataset,))


def land_as(settings: Settings, stream, index: int, name: str) -> None:
    """Land sample batch ``index`` as the CSV file ``name``."""
    source, batches = stream
    read_batch(Path(source) / batches[index].name).to_csv(settings.datasets[0].landing / name, index=False)


def latest_metadata(instance: dg.DagsterInstance, asset: str, partition: str | None = None) -> dict:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=dg.AssetKey(["orders", asset]),
            asset_partitions=[partition] if partition else None,
        ),
        limit=1,
    ).records
    return {k: v.value for k, v in records[0].asset_materialization.metadata.items()}


def test_a_late_file_with_an_earlier_name_is_not_a_training_batch(settings, stream, instance) -> None:
    late = one_training_batch(settings)
    dataset = late.datasets[0]
    defs = build_definitions(late)
    files = BatchStorage(late.storage)

    land_as(late, stream, 0, "b.csv")
    first = evaluate(defs, SENSOR, instance, None)
    assert [(r.job_name, r.partition_key, r.run_key) for r in first.run_requests] == [
        ("orders_batch_job", "b.csv", "batch:b.csv")
    ]
    b_landed = dt.datetime.fromisoformat(first.run_requests[0].tags[LANDED_AT_TAG])
    assert json.loads(first.cursor) == {"waiting": []}
    instance.add_dynamic_partitions("orders_batches", ["b.csv"])

    land_as(late, stream, 1, "a.csv")
    second = evaluate(defs, SENSOR, instance, first.cursor)
    assert [list(r.partition_keys) for r in second.dynamic_partitions_requests] == [["a.csv"]]
    assert second.run_requests == []  # not a training batch: it waits for the contract
    assert json.loads(second.cursor) == {"waiting": ["a.csv"]}
    instance.add_dynamic_partitions("orders_batches", ["a.csv"])

    record = landing_record(dataset, files)
    assert [key for key, _ in record.landed()] == ["b.csv", "a.csv"]
    assert record.landed_at("b.csv") == b_landed < record.landed_at("a.csv")
    assert landing_order(instance, dataset, files) == ["b.csv", "a.csv"]
    assert training_partitions(instance, dataset, files) == ["b.csv"]
    assert landed_before(instance, dataset, files, "a.csv") == ["b.csv"]
    assert landed_before(instance, dataset, files, "b.csv") == []

    # A lost cursor, or a tick seeing the file again, keeps the time it was first seen.
    again = evaluate(defs, SENSOR, instance, None)
    assert again.run_requests == [] and json.loads(again.cursor) == {"waiting": []}
    assert [key for key, _ in landing_record(dataset, files).landed()] == ["b.csv", "a.csv"]
    assert landing_record(dataset, files).landed_at("b.csv") == b_landed


def test_the_loop_follows_landing_order_everywhere(settings, stream, instance) -> None:
    late = one_training_batch(settings)
    defs = build_definitions(late)
    land_as(late, stream, 0, "b.csv")
    run_until_quiet(defs, instance)
    land_as(late, stream, 1, "a.csv")
    run_until_quiet(defs, instance)
    land_as(late, stream, 2, "0.csv")  # last to land, first by name
    run_until_quiet(defs, instance)

    assert latest_metadata(instance, "contract")["trained_on"] == "b.csv"
    assert latest_metadata(instance, "reference_profile")["batches"] == "b.csv"
    assert latest_metadata(instance, "drift_report", "a.csv")["reference_batches"] == "b.csv"
    assert latest_metadata(instance, "drift_report", "0.csv")["reference_batches"] == "b.csv, a.csv"
    landed = [latest_metadata(instance, "raw_batch", key)["landed_at"] for key in ("b.csv", "a.csv", "0.csv")]
    assert landed == sorted(landed)
    runs = instance.get_runs(dg.RunsFilter(job_name="orders_batch_job"))
    tags = {run.tags["dagster/partition"]: run.tags[LANDED_AT_TAG] for run in runs}
    assert sorted(tags, key=tags.__getitem__) == ["b.csv", "a.csv", "0.csv"]


def test_the_runner_keeps_a_cursor_a_sensor_sets_through_its_context(settings, stream, instance) -> None:
    dataset = dataclasses.replace(settings.datasets[0], freshness_hours=24)
    quiet = dataclasses.replace(settings, datasets=(dataset,))
    land_as(quiet, stream, 0, "b.csv")
    two_days_ago = time.time() - 48 * 3600
    os.utime(dataset.landing / "b.csv", (two_days_ago, two_days_ago))
    defs = build_definitions(quiet)
    tick(defs, instance)
    tick(defs, instance)
    ledger = BatchStorage(quiet.storage).ledger()
    signals = [r for r in ledger.records("orders") if r.step == "signal" and r.kind == "freshness"]
    ledger.dispose()
    assert len(signals) == 1  # the late batch is signalled once, not on every tick
