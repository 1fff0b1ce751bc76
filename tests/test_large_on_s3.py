"""A batch too large to read whole, with the landing folder and the storage on S3: the workers
read the batch file's parts from the bucket and write their Parquet parts there, remediation
writes its three folders there, and the verdicts are those of the same batch read whole.

S3 is a real server (``moto_server`` on 127.0.0.1, :mod:`tests.support.s3`) and the cluster is
a real scheduler with two worker processes (:mod:`tests.support.dask_cluster`), started after
the server so that they inherit its endpoint and credentials (``AWS_*``) from the environment,
as workers of a deployment would. The data is that of :mod:`tests.test_large_batches`, whose
local run with the large batch read whole is the reference.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

import tests.test_large_batches as local
from suite.build import build_definitions
from suite.cli.runner import run_until_quiet
from suite.config import Settings
from suite.config.settings import STORAGE_ENV
from suite.scale import RowsOnDisk
from suite.storage import BatchStorage
from suite.storage.store import LEDGER_URL_ENV
from tests.support import s3
from tests.support.dask_cluster import DaskCluster

diamonds = local.diamonds  # the landing files, and the run with the large batch read whole
whole = local.whole


@pytest.fixture(scope="module")
def moto() -> Iterator[s3.MotoServer]:
    with s3.serving() as server:
        yield server


@pytest.fixture(scope="module")
def cluster(moto: s3.MotoServer) -> Iterator[DaskCluster]:
    """Two workers whose environment reaches ``moto`` (it is set before they start)."""
    with DaskCluster(workers=2) as running:
        yield running


def on_s3(
    tmp_path: Path, moto: s3.MotoServer, cluster: DaskCluster, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """Settings from a ``suite.yaml`` whose landing is an S3 prefix and whose ``dask:`` block
    names the cluster; ``DATAOPS_STORAGE`` is another prefix, the ledger a local SQLite file."""
    prefix = moto.url(uuid.uuid4().hex)
    (tmp_path / "policy.yaml").write_text(local.POLICY)
    suite_yaml = tmp_path / "suite.yaml"
    sizes = "".join(f"  {name}: {value}\n" for name, value in local.SMALL_CLUSTER.items())
    suite_yaml.write_text(
        "datasets:\n"
        "  diamonds:\n"
        f"    landing: {prefix}/landing/diamonds/*.csv\n"
        "    format: csv\n"
        "    keys: [rownames]\n"
        "    policy: policy.yaml\n"
        "    intake: {stable_seconds: 0}\n"
        f"dask:\n  scheduler: {cluster.address}\n{sizes}"
    )
    monkeypatch.setenv("DATAOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv(STORAGE_ENV, f"{prefix}/dataops")
    monkeypatch.setenv(LEDGER_URL_ENV, f"sqlite:///{tmp_path / 'ledger.db'}")
    return Settings.from_env(suite_yaml)


def test_a_large_batch_with_landing_and_storage_on_s3_gets_the_verdicts_of_one_read_whole(
    tmp_path: Path,
    moto: s3.MotoServer,
    cluster: DaskCluster,
    diamonds: Path,
    whole: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = on_s3(tmp_path, moto, cluster, monkeypatch)
    storage = f"{settings.storage_url}/diamonds/large/day-4.csv"
    settings.dagster_home.mkdir()
    instance = dg.DagsterInstance.ephemeral(tempdir=str(settings.dagster_home))
    defs = build_definitions(settings)
    landing = settings.datasets[0].landing
    assert str(landing).startswith("s3://")
    for day in range(1, 5):  # one PUT each, as an uploader lands them
        (landing / f"day-{day}.csv").write_bytes((diamonds / f"day-{day}.csv").read_bytes())
        run_until_quiet(defs, instance, log_level="CRITICAL")

    files = BatchStorage(settings.storage)
    raw = files.read(["diamonds", "raw_batch"], "day-4.csv")
    assert isinstance(raw, RowsOnDisk) and raw.path == f"{settings.storage_url}/landed/diamonds/day-4.csv"
    scan = files.read(["diamonds", "validation"], "day-4.csv")
    assert (scan.rows, scan.quarantined) == (local.LARGE, len(whole["validation"]))
    assert scan.outputs["quarantine"] == f"{storage}/scan/quarantine"
    validation = instance.get_latest_materialization_event(dg.AssetKey(["diamonds", "validation"]))
    assert validation is not None and validation.asset_materialization is not None
    workers = str(validation.asset_materialization.metadata["workers"].value).split(", ")
    assert sorted(workers) == sorted(cluster.worker_addresses()) and len(workers) == 2  # both worked
    assert local.decisions(settings) == whole["decisions"] == ["remediate", "verified"]

    stored = {
        name: files.read(["diamonds", name], "day-4.csv")
        for name in ("published_batch", "quarantine", "held_batch")
    }
    assert {name: value.path for name, value in stored.items()} == {
        "published_batch": f"{storage}/outcome/published",
        "quarantine": f"{storage}/outcome/quarantine",
        "held_batch": f"{storage}/outcome/held",
    }
    found = local.outputs(settings)  # read back from the bucket
    rows = {name: len(frame) for name, frame in found.items()}
    assert sum(rows.values()) == local.LARGE == scan.rows  # rows in = published + quarantined + held
    assert rows == {name: value.rows for name, value in stored.items()}
    reference = {name: whole[name] for name in found}
    assert rows == {name: len(frame) for name, frame in reference.items()}
    for name, frame in found.items():
        assert frame.index.tolist() == reference[name].index.tolist(), name  # the same rows, to the row
        assert frame.drop(columns="_reason", errors="ignore").equals(
            reference[name].drop(columns="_reason", errors="ignore")
        ), name  # the same values: the clipped price too
    # The same reasons, the key repeated in another part included ("duplicate of an earlier row").
    reasons, expected = found["quarantine"]["_reason"], reference["quarantine"]["_reason"]
    assert expected.str.endswith("duplicate of an earlier row").sum() == 1 and reasons.equals(expected)
    assert (found["quarantine"]["cut"] == "Flawless").sum() == 1

    from s3fs import S3FileSystem

    bucket = S3FileSystem()
    written = bucket.find(storage.removeprefix("s3://"))
    assert written and all(p.rsplit("/", 1)[1].startswith("part-") for p in written)  # no temporary key
    assert not (settings.dagster_home / "storage").exists()  # nothing on the local disk
