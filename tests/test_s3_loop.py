"""The loop with its landing folder and its storage on S3, and nothing on the local disk but the
Dagster instance and the ledger's database.

S3 is a real server: ``moto_server`` on 127.0.0.1 (:mod:`tests.support.s3`). ``suite.yaml``
declares ``landing: s3://…/*.parquet`` and ``DATAOPS_STORAGE`` is another prefix of the same
bucket; the sensors and runs are driven in process as the daemon would
(:func:`suite.cli.runner.run_until_quiet`).
"""

import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from suite.build import build_definitions
from suite.cli.demo import batch_rows
from suite.cli.runner import run_until_quiet
from suite.cli.sample_data import SampleBatch
from suite.config import Settings, load_datasets
from suite.storage import BatchStorage, LandingRecord
from suite.storage.objects import storage_root
from suite.storage.store import LEDGER_URL_ENV
from tests.support import s3


@pytest.fixture(scope="module")
def moto() -> Iterator[s3.MotoServer]:
    with s3.serving() as server:
        yield server


@pytest.fixture
def on_s3(
    moto: s3.MotoServer, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Settings, str]:
    """Settings whose orders land under an S3 prefix (declared in a suite.yaml) and whose storage
    is another prefix of the bucket; the ledger is a SQLite file. Returns them and the prefix."""
    prefix = moto.url(uuid.uuid4().hex)
    suite_yaml = tmp_path / "suite.yaml"
    suite_yaml.write_text(
        "datasets:\n"
        "  orders:\n"
        f"    landing: {prefix}/landing/orders/*.parquet\n"
        "    format: parquet\n"
        "    sensor_interval_seconds: 5\n"
        "    intake: {stable_seconds: 0}\n"
    )
    monkeypatch.setenv(LEDGER_URL_ENV, f"sqlite:///{tmp_path / 'ledger.db'}")
    datasets = load_datasets(suite_yaml, tmp_path / "home")
    return replace(settings, datasets=datasets, storage_url=f"{prefix}/dataops"), prefix


def put(settings: Settings, source: Path, batches: list[SampleBatch]) -> None:
    """Land ``batches`` as objects, as an uploader would (one PUT each)."""
    for batch in batches:
        (settings.datasets[0].landing / batch.name).write_bytes((source / batch.name).read_bytes())


def test_the_loop_with_landing_and_storage_on_s3(
    on_s3: tuple[Settings, str], stream: tuple[Path, list[SampleBatch]], instance: dg.DagsterInstance
) -> None:
    settings, prefix = on_s3
    source, batches = stream
    landing = settings.datasets[0].landing
    assert str(landing) == f"{prefix}/landing/orders" and settings.datasets[0].patterns == ("*.parquet",)
    training, corrupt = batches[:3], next(b for b in batches if b.kind == "corrupt")
    defs = build_definitions(settings)

    put(settings, source, training)
    run_until_quiet(defs, instance, log_level="CRITICAL")
    files = BatchStorage(settings.storage_url)
    assert files.contracts().versions("orders") == [1]  # the training window taught the contract
    put(settings, source, [corrupt])
    launched = run_until_quiet(defs, instance, log_level="CRITICAL")
    # The blocking contract check stops publication; the reflex sensor asks for the remediation.
    assert [(r.sensor, r.job, r.partition, r.success) for r in launched] == [
        ("orders_landing_sensor", "orders_batch_job", corrupt.name, False),
        ("orders_reflex_sensor", "orders_remediation_job", corrupt.name, True),
    ]

    rows = {row["batch"]: row for row in batch_rows(instance, "orders")}
    assert sorted(rows) == sorted(b.name for b in [*training, corrupt])
    for batch in [*training, corrupt]:
        row = rows[batch.name]
        assert row["rows_in"] == batch.rows
        assert row["rows_in"] == row["rows_published"] + row["rows_quarantined"] + row["rows_held"]
    bad = rows[corrupt.name]
    assert (bad["decision"], bad["actions"], bad["verified"]) == (
        "remediate",
        ["deduplicate", "impute", "quarantine"],
        True,
    )

    published = files.read(["orders", "published_batch"], corrupt.name)
    quarantine = files.read(["orders", "quarantine"], corrupt.name)
    assert len(published) == bad["rows_published"] and len(quarantine) == bad["rows_quarantined"]
    original = pd.read_parquet(source / corrupt.name)
    assert set(published["order_id"]) <= set(original["order_id"]) and published["order_id"].is_unique
    removed = {
        i
        for kind, ids in corrupt.faults.items()
        if kind not in ("null_discount", "duplicate_order_id")
        for i in ids
    }
    assert not set(published["order_id"]) & removed
    assert (bad["rows_quarantined"], bad["rows_held"]) == (
        len(removed) + len(corrupt.faults["duplicate_order_id"]),
        0,
    )
    assert set(quarantine["order_id"]) == removed | set(corrupt.faults["duplicate_order_id"])

    ledger = files.ledger()
    try:
        steps = [(r.step, r.kind) for r in ledger.records("orders", corrupt.name)]
    finally:
        ledger.dispose()
    assert [s for s in steps if s[0] != "signal"] == [
        ("decision", "remediate"),
        ("action", "deduplicate"),
        ("action", "impute"),
        ("action", "quarantine"),
        ("outcome", "verified"),
    ]
    assert {kind for step, kind in steps if step == "signal"} == {"contract_violation"}

    record = LandingRecord(settings.storage_url, "orders")
    assert [t.name for t in record.taken()] == [b.name for b in [*training, corrupt]]
    snapshot = record.snapshot(corrupt.name)
    assert snapshot is not None and str(snapshot) == f"{prefix}/dataops/landed/orders/{corrupt.name}"
    assert snapshot.read_bytes() == (source / corrupt.name).read_bytes()
    local = settings.dagster_home / "storage" / "dataops"
    assert not local.exists(), sorted(p.name for p in local.rglob("*"))


def test_a_replaced_object_is_a_new_version_and_the_same_bytes_are_not(
    on_s3: tuple[Settings, str], stream: tuple[Path, list[SampleBatch]], instance: dg.DagsterInstance
) -> None:
    """The landing sensor tells objects apart by size, LastModified and ETag, and content by its
    hash: the same bytes PUT again are not a new batch; other bytes of the same size, PUT within
    the same second (LastModified has whole seconds), are."""
    settings, _ = on_s3
    source, batches = stream
    name = batches[0].name
    original = (source / name).read_bytes()
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def("orders_landing_sensor")
    record = LandingRecord(storage_root(settings.storage_url), "orders")

    def tick(cursor: str | None) -> dg.SensorResult:
        return sensor(dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs))

    put(settings, source, batches[:1])
    one = tick(None)
    assert [list(r.partition_keys) for r in one.dynamic_partitions_requests] == [[name]]
    instance.add_dynamic_partitions("orders_batches", [name])
    (first,) = record.taken()
    assert first.etag and first.sha256 and first.size == len(original)

    time.sleep(1.1)  # a new LastModified
    put(settings, source, batches[:1])
    assert tick(one.cursor).dynamic_partitions_requests == []
    (restated,) = record.taken()
    assert restated.mtime_ns > first.mtime_ns and (restated.key, restated.etag) == (name, first.etag)

    changed = bytearray(original)
    changed[len(changed) // 2] ^= 0xFF  # the same size
    (settings.datasets[0].landing / name).write_bytes(bytes(changed))
    again = tick(one.cursor)
    version = name.replace(".parquet", "~v2.parquet")
    assert [list(r.partition_keys) for r in again.dynamic_partitions_requests] == [[version]]
    assert [(t.key, t.name, t.size) for t in record.taken()] == [
        (name, name, len(original)),
        (version, name, len(original)),
    ]
    assert record.snapshot(version).read_bytes() == bytes(changed)
    assert record.snapshot(name).read_bytes() == original
