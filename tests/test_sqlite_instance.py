"""The SQLite storages `dataops demo` writes: Dagster's own, keeping an engine per process."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

import suite.storage.sqlite_instance as sqlite_instance
from suite.cli.demo import open_instance
from suite.storage.sqlite_instance import SqliteEvents, SqliteRuns


@dg.asset(partitions_def=dg.DynamicPartitionsDefinition(name="days"))
def numbers(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"day": context.partition_key})


def test_a_new_instance_uses_them_and_another_process_reads_what_a_run_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    instance = open_instance(tmp_path / "dagster_home")
    assert isinstance(instance.run_storage, SqliteRuns)
    assert isinstance(instance.event_log_storage, SqliteEvents)
    instance.add_dynamic_partitions("days", ["d1", "d2"])
    for day in ("d1", "d2"):
        assert dg.materialize([numbers], instance=instance, partition_key=day).success
    assert instance.get_materialized_partitions(numbers.key) == {"d1", "d2"}
    assert instance.event_log_storage.has_dynamic_partition("days", "d2")
    assert not instance.event_log_storage.has_dynamic_partition("days", "d3")

    script = (
        "import dagster as dg; i = dg.DagsterInstance.get();"
        "print(len(i.get_run_ids()), sorted(i.get_materialized_partitions(dg.AssetKey('numbers'))))"
    )
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[0] == "2 ['d1', 'd2']"


def test_one_engine_per_database_and_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engines = sqlite_instance._Engines()
    url = f"sqlite:///{tmp_path / 'a.db'}"
    first = engines.get(url)
    assert engines.get(url) is first
    assert engines.get(f"sqlite:///{tmp_path / 'b.db'}") is not first
    monkeypatch.setattr(os, "getpid", lambda: -1)  # as in a forked child
    assert engines.get(url) is not first


def test_has_table_knows_only_tables_that_exist(tmp_path: Path) -> None:
    events = SqliteEvents(str(tmp_path))
    assert events.has_table("event_logs")
    assert events.has_table("dynamic_partitions")
    assert not events.has_table("no_such_table")
