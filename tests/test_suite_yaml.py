"""A dataset declared only in suite.yaml, not the orders demo: its own assets, checks, sensors and
schedule, and its loop end to end on a real (temporary) instance.

The stream is sensor readings, one CSV a day: three training days (one with a reading that lost
its id), a clean day, then a faulty day with repeated readings, a missing id, impossible
temperatures and an unknown status, beside changes the declaration says are fine (a new sensor,
a repeated trace id).
"""

import datetime as dt
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest

import schemasense
from suite.build import build_definitions
from suite.cli.demo import batch_rows
from suite.cli.runner import run_until_quiet
from suite.config import BUNDLED_CONFIG, Settings, load_datasets
from suite.storage import BatchStorage

SUITE_YAML = """
datasets:
  readings:
    description: Temperature and humidity readings of the plant's sensors, one file a day.
    owners: [team:plant-ops, ops@example.com]
    landing: landing/readings/*.csv
    format: csv
    keys: [reading_id]
    training_batches: 3
    contract: {max_categories: 4, margin: 3}
    drift: {reference: rolling, window: 2, methods: {temperature: ks}}
    policy: readings_policy.yaml
    schedule: "0 7 * * *"
    sensor_interval_seconds: 5
    freshness_hours: 26
  orders:
    landing: landing/orders
    keys: [order_id]
    policy: {orders_policy}
"""

POLICY_YAML = """
rules:
  - name: a repeated reading keeps its first row
    when: {kind: contract_violation, rule: unique, column: reading_id}
    then: deduplicate
  - name: an unknown status waits for a person
    when: {kind: contract_violation, rule: allowed, column: status}
    then: hold
  - name: every other broken row is quarantined
    when: {kind: contract_violation}
    then: quarantine
  - name: drift is published and raised
    when: {kind: drift}
    then: alert
default: hold
"""

DAYS = [dt.date(2026, 11, 1) + dt.timedelta(days=d) for d in range(5)]
ROWS = 200


def readings_for_day(day: int, rng: np.random.Generator, date: dt.date | None = None) -> pd.DataFrame:
    start = pd.Timestamp(date or DAYS[day])
    return pd.DataFrame(
        {
            "reading_id": [f"R-{day:02d}{i:05d}" for i in range(ROWS)],
            "sensor": rng.choice([f"s{n}" for n in range(1, 7)], ROWS),  # six sensors
            "temperature": rng.normal(20, 3, ROWS).round(2),
            "humidity": rng.uniform(30, 70, ROWS).round(1),
            "status": rng.choice(["ok", "warn"], ROWS, p=[0.9, 0.1]),
            "trace": [f"T{v:08x}" for v in rng.choice(2**32, ROWS, replace=False)],
            "read_at": [
                (start + pd.Timedelta(seconds=int(s))).isoformat()
                for s in np.sort(rng.integers(0, 86_400, ROWS))
            ],
        }
    )


def write_stream(landing: Path) -> dict[str, pd.DataFrame]:
    """Three training days, a clean day, a faulty day; the faulty rows are named in ``attrs``."""
    rng = np.random.default_rng(11)
    days = [readings_for_day(day, rng) for day in range(5)]
    days[1].loc[17, "reading_id"] = None  # training data is imperfect: a reading lost its id
    faulty = days[4]
    faulty.loc[[3], "reading_id"] = None
    faulty.loc[[10, 11, 12], "temperature"] = [480.0, 512.5, -300.0]
    faulty.loc[[20, 21], "status"] = "exploded"
    faulty.loc[[30, 31], "sensor"] = "s9"  # a new sensor: the sensor column is text, not categories
    faulty.loc[[40, 41], "trace"] = faulty.loc[50, "trace"]  # trace ids may repeat: not a key
    days[4] = pd.concat([faulty, faulty.loc[[60, 61]]], ignore_index=True)  # two readings sent twice
    landing.mkdir(parents=True)
    frames = {}
    for day, frame in zip(DAYS, days, strict=True):
        name = f"readings_{day}.csv"
        frame.to_csv(landing / name, index=False)
        frames[name] = frame
    (landing / "readings_notes.txt").write_text("not a batch: the declared format is csv\n")
    (landing / ".readings_2026-11-06.csv").write_text("reading_id\n")  # still being written
    return frames


@pytest.fixture(scope="module")
def declared(tmp_path_factory: pytest.TempPathFactory):
    """suite.yaml and the policy in a config folder, data under DATAOPS_HOME; the loop run once."""
    root = tmp_path_factory.mktemp("suite_yaml")
    config = root / "config"
    config.mkdir()
    (config / "suite.yaml").write_text(
        SUITE_YAML.replace("{orders_policy}", str(BUNDLED_CONFIG.parent / "orders_policy.yaml"))
    )
    (config / "readings_policy.yaml").write_text(POLICY_YAML)
    home = root / "home"
    frames = write_stream(home / "landing" / "readings")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DATAOPS_CONFIG", str(config / "suite.yaml"))
        env.setenv("DATAOPS_HOME", str(home))
        env.setenv("DAGSTER_HOME", str(home / "dagster_home"))
        settings = Settings.from_env()
    settings.dagster_home.mkdir(parents=True)
    defs = build_definitions(settings)
    with dg.instance_for_test(temp_dir=str(settings.dagster_home)) as instance:
        launched = run_until_quiet(defs, instance, log_level="CRITICAL")
        yield settings, defs, instance, frames, launched


def test_the_declaration_is_read_as_written(declared) -> None:
    settings = declared[0]
    readings, orders = settings.datasets
    home = settings.dagster_home.parent
    assert (readings.name, readings.landing, readings.patterns) == (
        "readings",
        home / "landing/readings",
        ("*.csv",),
    )
    assert readings.policy.parent.name == "config"  # beside the YAML, not under DATAOPS_HOME
    assert (readings.keys, readings.contract) == (("reading_id",), {"max_categories": 4, "margin": 3.0})
    assert orders.landing == home / "landing/orders"


def test_the_dataset_gets_its_assets_checks_sensors_and_schedule(declared) -> None:
    _, defs, *_ = declared
    graph = defs.resolve_asset_graph()
    readings = {n.key.to_user_string(): n for n in graph.asset_nodes if n.key.path[0] == "readings"}
    assert sorted(readings) == [
        f"readings/{a}"
        for a in sorted(
            [
                "approvals",
                "batch_profile",
                "contract",
                "drift_report",
                "held_batch",
                "published_batch",
                "quarantine",
                "raw_batch",
                "reference_profile",
                "validation",
            ]
        )
    ]
    for node in readings.values():
        assert node.group_name == "readings"
        assert node.owners == ["team:plant-ops", "ops@example.com"]
        assert "Temperature and humidity readings" in (node.description or "")
        assert node.kinds
    fresh = {key for key, node in readings.items() if node.freshness_policy is not None}
    assert fresh == {"readings/raw_batch", "readings/published_batch"}
    policy = readings["readings/published_batch"].freshness_policy
    assert policy.fail_window.to_timedelta() == dt.timedelta(hours=26)
    assert {
        (k.asset_key.to_user_string(), k.name)
        for k in graph.asset_check_keys
        if k.asset_key.path[0] == "readings"
    } == {
        ("readings/validation", "schema_matches_contract"),
        ("readings/validation", "rows_satisfy_contract"),
        ("readings/drift_report", "no_drift"),
    }
    assert {s.name for s in defs.sensors} >= {
        "readings_landing_sensor",
        "readings_reflex_sensor",
        "readings_approvals_sensor",
        "readings_run_failure_sensor",
        "readings_freshness_sensor",
        "orders_landing_sensor",
    }
    schedule = defs.resolve_schedule_def("readings_drift_schedule")
    assert schedule.cron_schedule == "0 7 * * *"
    for job in ("batch", "remediation", "training", "drift", "approval", "refresh_reference", "rollback"):
        assert defs.resolve_job_def(f"readings_{job}_job").name == f"readings_{job}_job"


def test_only_files_of_the_declared_format_land(declared) -> None:
    _, _, instance, frames, _ = declared
    assert sorted(instance.get_dynamic_partitions("readings_batches")) == sorted(frames)
    assert instance.get_dynamic_partitions("orders_batches") == []


def test_the_contract_takes_the_declared_keys_and_options(declared) -> None:
    settings, _, _, frames, _ = declared
    contract = BatchStorage(settings.storage).contracts().latest("readings")
    training = list(frames.values())[:3]
    guessed = schemasense.infer(training, name="readings")
    # keys: the id is a key although a training reading lost it; the trace only looked like one
    assert (guessed.columns["reading_id"].nullable, guessed.columns["trace"].unique) == (True, True)
    assert (contract.columns["reading_id"].unique, contract.columns["reading_id"].nullable) == (True, False)
    assert [n for n, c in contract.columns.items() if c.unique] == ["reading_id"]
    # contract options: six sensors exceed max_categories 4; margin 3 widens the temperature range
    assert guessed.columns["sensor"].logical_type is schemasense.LogicalType.CATEGORY
    assert contract.columns["sensor"].logical_type is not schemasense.LogicalType.CATEGORY
    wide = schemasense.infer(training, margin=3.0).columns["temperature"]
    assert (contract.columns["temperature"].minimum, contract.columns["temperature"].maximum) == (
        wide.minimum,
        wide.maximum,
    )
    assert contract.columns["temperature"].maximum > guessed.columns["temperature"].maximum


def test_every_batch_is_published_and_the_faulty_one_remediated(declared) -> None:
    settings, _, instance, frames, launched = declared
    assert all(run.success for run in launched if run.job.endswith(("training_job", "remediation_job")))
    rows = {row["batch"]: row for row in batch_rows(instance, "readings")}
    assert list(rows) == sorted(frames)
    for name, frame in frames.items():
        row = rows[name]
        assert row["rows_in"] == len(frame)
        assert row["rows_in"] == row["rows_published"] + row["rows_quarantined"] + row["rows_held"]
    *training, clean, faulty = sorted(frames)
    for name in [*training, clean]:
        assert (rows[name]["rows_published"], rows[name]["rows_quarantined"], rows[name]["rows_held"]) == (
            ROWS,
            0,
            0,
        )
    assert (rows[faulty]["rows_in"], rows[faulty]["rows_published"]) == (ROWS + 2, ROWS + 2 - 8)
    assert (rows[faulty]["rows_quarantined"], rows[faulty]["rows_held"]) == (6, 2)
    assert rows[faulty]["decision"] == "hold" and rows[faulty]["verified"] is True  # some rows wait
    assert {"deduplicate", "hold", "quarantine"} <= set(rows[faulty]["actions"])

    storage = BatchStorage(settings.storage)
    quarantine = storage.read(["readings", "quarantine"], faulty)
    assert sorted(quarantine["_reason"].str.split(":").str[0]) == ["reading_id"] * 3 + ["temperature"] * 3
    assert (quarantine["_reason"] == "reading_id: duplicate of an earlier row").sum() == 2
    held = storage.read(["readings", "held_batch"], faulty)
    assert sorted(held["status"]) == ["exploded", "exploded"]
    published = storage.read(["readings", "published_batch"], faulty)
    assert published["reading_id"].is_unique and published["reading_id"].notna().all()
    # what the declaration allows is published: a new sensor, a repeated trace id
    assert (published["sensor"] == "s9").sum() == 2
    assert published["trace"].duplicated().sum() == 2


def test_drift_is_scored_against_the_declared_rolling_reference_and_methods(declared) -> None:
    settings, _, instance, frames, _ = declared
    *_, day2, day3, clean, faulty = sorted(frames)
    key = dg.AssetKey(["readings", "drift_report"])
    for batch, reference in ((clean, [day2, day3]), (faulty, [day3, clean])):
        (record,) = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[batch]), limit=1
        ).records
        metadata = record.asset_materialization.metadata
        assert metadata["reference"].value == "rolling"
        assert metadata["reference_batches"].value == ", ".join(reference)
        methods = {(row.data["column"], row.data["method"]) for row in metadata["columns"].value.records}
        assert ("temperature", "ks") in methods and ("humidity", "wasserstein") in methods
        report = BatchStorage(settings.storage).read(["readings", "drift_report"], batch)
        assert report.reference == f"readings: rolling of {', '.join(reference)}"


def test_data_assets_carry_row_count_and_column_schema(declared) -> None:
    _, _, instance, frames, _ = declared
    faulty = sorted(frames)[-1]
    expected = {"raw_batch": ROWS + 2, "published_batch": ROWS + 2 - 8, "quarantine": 6, "held_batch": 2}
    for asset, count in expected.items():
        (record,) = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(["readings", asset]), asset_partitions=[faulty]),
            limit=1,
        ).records
        metadata = record.asset_materialization.metadata
        assert metadata["dagster/row_count"].value == count, asset
        columns = [c.name for c in metadata["dagster/column_schema"].schema.columns]
        assert columns[:7] == list(frames[faulty].columns), asset


def test_the_schedule_rescores_the_batches_judged_before_the_reference_existed(declared) -> None:
    _, defs, instance, frames, _ = declared
    schedule = defs.resolve_schedule_def("readings_drift_schedule")
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=dt.datetime(2026, 11, 27, 7, tzinfo=dt.UTC)
    )
    result = schedule(context)
    training = sorted(frames)[:3]
    assert [(r.partition_key, r.run_key) for r in result] == [
        (k, f"rescore:2026-11-27:{k}") for k in training
    ]


def test_the_readme_example_loads_and_builds(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Your own data", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "suite.yaml").write_text(example)
    (tmp_path / "payments_policy.yaml").write_text(POLICY_YAML)
    (payments,) = load_datasets(tmp_path / "suite.yaml", tmp_path / "home")
    assert payments.landing == tmp_path / "home/landing/payments" and payments.patterns == ("*.csv",)
    assert (payments.keys, payments.drift.reference, payments.freshness_hours) == (
        ("payment_id",),
        "rolling",
        2.0,
    )
    assert payments.policy == tmp_path / "payments_policy.yaml"
    defs = build_definitions(Settings(tmp_path / "dagster_home", (payments,)))
    assert defs.resolve_schedule_def("payments_drift_schedule").cron_schedule == "0 6 * * *"


def test_a_same_weekday_reference_merges_the_same_weekday_of_earlier_weeks(tmp_path: Path) -> None:
    config = tmp_path / "suite.yaml"
    config.write_text(
        "datasets:\n  weekly:\n    landing: in\n    format: csv\n    training_batches: 2\n"
        "    drift: {reference: same_weekday, window: 2}\n    policy: policy.yaml\n"
    )
    (tmp_path / "policy.yaml").write_text(POLICY_YAML)
    (weekly,) = load_datasets(config, tmp_path)
    sundays = [dt.date(2026, 11, 1), dt.date(2026, 11, 8), dt.date(2026, 11, 15)]
    rng = np.random.default_rng(3)
    (tmp_path / "in").mkdir()
    for index, day in enumerate([*sundays, dt.date(2026, 11, 16)]):
        readings_for_day(index, rng, day).to_csv(tmp_path / "in" / f"weekly_{day}.csv", index=False)
    settings = Settings(tmp_path / "dagster_home", (weekly,))
    settings.dagster_home.mkdir()
    with dg.instance_for_test(temp_dir=str(settings.dagster_home)) as instance:
        run_until_quiet(build_definitions(settings), instance, log_level="CRITICAL")
        storage = BatchStorage(settings.storage)
        sunday = storage.read(["weekly", "drift_report"], "weekly_2026-11-15.csv")
        monday = storage.read(["weekly", "drift_report"], "weekly_2026-11-16.csv")
        (record,) = instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=dg.AssetKey(["weekly", "drift_report"]), asset_partitions=["weekly_2026-11-16.csv"]
            ),
            limit=1,
        ).records
        note = record.asset_materialization.metadata["reference_note"].value
    assert sunday.reference == "weekly: same_weekday of weekly_2026-11-01.csv, weekly_2026-11-08.csv"
    assert sunday.rows_reference == 2 * ROWS
    # no earlier Monday: the training window, and the report says so
    assert monday.reference == "weekly/reference_profile"
    assert note == "no earlier published batch for a same_weekday reference yet: the training window"
