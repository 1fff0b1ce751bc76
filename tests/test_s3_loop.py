"""The loop with its landing folder and its storage on S3, and nothing on the local disk but the
Dagster instance and the ledger's database.

S3 is a real server: ``moto_server`` on 127.0.0.1 (:mod:`tests.support.s3`). ``suite.yaml``
declares ``landing: s3://…/*.parquet`` and ``DATAOPS_STORAGE`` is another prefix of the same
bucket; the sensors and runs are driven in process as the daemon would
(:func:`suite.cli.runner.run_until_quiet`).
"""

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
    run_until_quiet(defs, instance, log_level="CRITICAL")

    rows = {row["batch"]: row for row in batch_rows(instance, "orders")}
    assert sorted(rows) == sorted(b.name for b in [*training, corrupt])
    for batch in [*training, corrupt]:
        row = rows[batch.name]
        assert row["rows_in"] == batch.rows
        assert row["rows_in"] == row["rows_published"] + row["rows_quarantined"] + row["rows_held"]
    bad = rows[corrupt.name]
    assert bad["decision"] == "remediate" and bad["verified"] is True and bad["rows_quarantined"] > 0

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
    assert removed and not set(published["order_id"]) & removed

    ledger = files.ledger()
    try:
        steps = [(r.step, r.kind) for r in ledger.records("orders", corrupt.name)]
    finally:
        ledger.dispose()
    assert steps[0][0] == "signal" and ("decision", "remediate") in steps and steps[-1][0] == "outcome"

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
    hash: the same bytes PUT again are not a new batch; other bytes under the name are."""
    settings, _ = on_s3
    source, batches = stream
    first, other = batches[0], batches[1]
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def("orders_landing_sensor")

    def tick(cursor: str | None) -> dg.SensorResult:
        return sensor(dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs))

    put(settings, source, [first])
    one = tick(None)
    assert [list(r.partition_keys) for r in one.dynamic_partitions_requests] == [[first.name]]
    instance.add_dynamic_partitions("orders_batches", [first.name])
    put(settings, source, [first])  # the same bytes again: a new LastModified, the same content
    assert tick(one.cursor).dynamic_partitions_requests == []
    target = settings.datasets[0].landing / first.name
    target.write_bytes((source / other.name).read_bytes())
    again = tick(one.cursor)
    version = first.name.replace(".parquet", "~v2.parquet")
    assert [list(r.partition_keys) for r in again.dynamic_partitions_requests] == [[version]]
    record = LandingRecord(storage_root(settings.storage_url), "orders")
    assert [(t.key, t.name) for t in record.taken()] == [(first.name, first.name), (version, first.name)]
    assert record.snapshot(version).read_bytes() == (source / other.name).read_bytes()
    assert record.snapshot(first.name).read_bytes() == (source / first.name).read_bytes()
