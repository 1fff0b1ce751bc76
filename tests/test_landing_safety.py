"""Landing is safe: links refused, files taken whole once settled, changes become new versions,
odd names processed, and a burst asked for a few runs a tick, each file exactly once."""

import dataclasses
import json
import logging
import os
import threading
import time
from pathlib import Path

import dagster as dg
import pytest

from suite.build import build_definitions
from suite.cli.runner import run_until_quiet
from suite.config import Settings
from suite.jobs.carrier import request_keys
from suite.sensors.intake import Seen, copy_unchanged
from suite.storage import BatchStorage
from suite.storage.files import read_batch
from suite.storage.partitions import landed_path, landing_record

from .test_landing_order import land_as, one_training_batch
from .test_sensors import evaluate

SENSOR = "orders_landing_sensor"


def with_intake(settings: Settings, **intake: float) -> Settings:
    dataset = one_training_batch(settings).datasets[0]
    dataset = dataclasses.replace(dataset, intake=dataclasses.replace(dataset.intake, **intake))
    return dataclasses.replace(settings, datasets=(dataset,))


def sample_csv(stream, index: int) -> bytes:
    source, batches = stream
    return read_batch(Path(source) / batches[index].name).to_csv(index=False).encode()


def ledger_rejects(settings: Settings) -> list[tuple[str, str]]:
    ledger = BatchStorage(settings.storage).ledger()
    try:
        return [(r.batch, r.detail["reason"]) for r in ledger.records("orders") if r.kind == "reject"]
    finally:
        ledger.dispose()


def raw_rows(instance: dg.DagsterInstance, key: str) -> int:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(["orders", "raw_batch"]), asset_partitions=[key]), limit=1
    ).records
    return int(records[0].asset_materialization.metadata["dagster/row_count"].value)


def test_a_symlink_is_refused_with_a_ledger_record_and_never_read(  # noqa: E501
    settings, stream, instance, tmp_path
) -> None:
    safe = with_intake(settings)
    secret = tmp_path / "outside" / "secret.csv"
    secret.parent.mkdir()
    marker = "TOPSECRET-7f3a9c"
    secret.write_text(f"order_id,note\n1,{marker}\n")
    (safe.datasets[0].landing / "link.csv").symlink_to(secret)
    land_as(safe, stream, 0, "day.csv")
    defs = build_definitions(safe)

    first = evaluate(defs, SENSOR, instance, None)
    assert [r.partition_key for r in first.run_requests] == ["day.csv"]
    assert [list(r.partition_keys) for r in first.dynamic_partitions_requests] == [["day.csv"]]
    refusals = ledger_rejects(safe)
    assert [batch for batch, _ in refusals] == ["link.csv"]
    assert refusals[0][1].startswith("refused: symbolic link") and "never followed" in refusals[0][1]
    evaluate(defs, SENSOR, instance, first.cursor)
    assert len(ledger_rejects(safe)) == 1  # recorded once, not on every tick

    run_until_quiet(defs, instance)
    assert instance.get_dynamic_partitions("orders_batches") == ["day.csv"]
    stored = [p for p in (tmp_path / "dagster_home").rglob("*") if p.is_file()]
    assert stored and not [p for p in stored if marker.encode() in p.read_bytes()]


def test_a_growing_file_is_taken_once_whole_after_it_stops(settings, stream, instance) -> None:
    slow = with_intake(settings, stable_seconds=1.0)
    whole = sample_csv(stream, 0)
    path = slow.datasets[0].landing / "day.csv"
    path.write_bytes(whole[: len(whole) // 3])
    defs = build_definitions(slow)

    first = evaluate(defs, SENSOR, instance, None)
    assert first.run_requests == [] and first.dynamic_partitions_requests == []
    assert list(json.loads(first.cursor)["settling"]) == ["day.csv"]

    def write_the_rest() -> None:
        for start in range(len(whole) // 3, len(whole), len(whole) // 6):
            time.sleep(0.1)
            with path.open("ab") as out:
                out.write(whole[start : start + len(whole) // 6])

    writer = threading.Thread(target=write_the_rest)
    writer.start()
    launched = run_until_quiet(defs, instance)  # keeps ticking while the file settles
    writer.join()
    batch_runs = [(run.job, run.partition) for run in launched if run.partition]
    assert batch_runs == [("orders_batch_job", "day.csv")]
    assert landed_path(slow.datasets[0], BatchStorage(slow.storage), "day.csv").read_bytes() == whole
    assert raw_rows(instance, "day.csv") == len(read_batch(path))
    assert run_until_quiet(defs, instance) == []  # taken once


def test_a_file_changed_after_it_was_taken_is_a_new_version(settings, stream, instance) -> None:
    changing = with_intake(settings)
    dataset = changing.datasets[0]
    files = BatchStorage(changing.storage)
    path = dataset.landing / "day.csv"
    first, second = sample_csv(stream, 0), sample_csv(stream, 3)
    path.write_bytes(first)
    defs = build_definitions(changing)
    run_until_quiet(defs, instance)

    path.write_bytes(second)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    run_until_quiet(defs, instance)
    assert instance.get_dynamic_partitions("orders_batches") == ["day.csv", "day~v2.csv"]
    assert landed_path(dataset, files, "day.csv").read_bytes() == first  # the first copy is kept
    assert landed_path(dataset, files, "day~v2.csv").read_bytes() == second
    assert raw_rows(instance, "day~v2.csv") == len(read_batch(path))
    record = landing_record(dataset, files)
    assert [(t.key, t.name) for t in record.taken()] == [("day.csv", "day.csv"), ("day~v2.csv", "day.csv")]
    assert record.landed_at("day.csv") < record.landed_at("day~v2.csv")

    os.utime(path, ns=(time.time_ns(), time.time_ns() + 2_000_000))  # touched, same content
    assert run_until_quiet(defs, instance) == []
    assert instance.get_dynamic_partitions("orders_batches") == ["day.csv", "day~v2.csv"]


def test_upper_case_suffixes_and_names_dagster_refuses_are_processed(settings, stream, instance) -> None:
    odd = with_intake(settings)
    land_as(odd, stream, 0, "DAY.CSV")
    land_as(odd, stream, 3, "a...b.csv")
    defs = build_definitions(odd)
    run_until_quiet(defs, instance)
    assert instance.get_dynamic_partitions("orders_batches") == ["DAY.CSV", "a_b.csv"]
    record = landing_record(odd.datasets[0], BatchStorage(odd.storage))
    assert {t.key: t.name for t in record.taken()} == {"DAY.CSV": "DAY.CSV", "a_b.csv": "a...b.csv"}
    assert raw_rows(instance, "DAY.CSV") == len(read_batch(odd.datasets[0].landing / "DAY.CSV"))
    assert raw_rows(instance, "a_b.csv") == len(read_batch(odd.datasets[0].landing / "a...b.csv"))
    published = instance.get_materialized_partitions(dg.AssetKey(["orders", "published_batch"]))
    assert published == {"DAY.CSV", "a_b.csv"}


def requested_over_ticks(defs, instance) -> list[list[str]]:
    """The partitions each tick asks for, until a tick asks for none."""
    cursor, ticks = None, []
    while True:
        result = evaluate(defs, SENSOR, instance, cursor)
        for request in result.dynamic_partitions_requests:
            instance.add_dynamic_partitions("orders_batches", list(request.partition_keys))
        cursor = result.cursor
        if not result.run_requests:
            return ticks
        ticks.append([[key for key in request_keys(r)] for r in result.run_requests])


@pytest.mark.parametrize(
    ("files", "batches_per_run", "expected"),
    [
        (5, 1, [[[0], [1]], [[2], [3]], [[4]]]),
        (7, 2, [[[0, 1], [2, 3]], [[4, 5], [6]]]),  # a run of several files counts once
    ],
)
def test_the_cap_counts_runs_and_leaves_the_rest_for_the_next_ticks(
    settings, stream, instance, files: int, batches_per_run: int, expected: list
) -> None:
    burst = with_intake(settings, max_runs_per_tick=2, batches_per_run=batches_per_run)
    dataset = dataclasses.replace(burst.datasets[0], training_batches=files)
    burst = dataclasses.replace(burst, datasets=(dataset,))
    for index in range(files):
        land_as(burst, stream, index, f"day{index}.csv")
    named = [[[f"day{i}.csv" for i in run] for run in tick] for tick in expected]
    assert requested_over_ticks(build_definitions(burst), instance) == named


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def logged_ticks(defs, instance, ticks: int) -> list[str]:
    """What the landing sensor logs over ``ticks`` ticks (the cursor carried)."""
    sensor, cursor, handler = defs.resolve_sensor_def(SENSOR), None, Lines()
    for _ in range(ticks):
        context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
        context.log.addHandler(handler)
        cursor = sensor(context).cursor
    return handler.lines


def test_each_skipped_file_is_logged_once_with_why(settings, stream, instance) -> None:
    quiet = with_intake(settings)
    landing_folder = quiet.datasets[0].landing
    (landing_folder / "notes.txt").write_text("not a batch")
    (landing_folder / ".day.csv.tmp").write_text("half")
    (landing_folder / "archive.csv").mkdir()
    lines = logged_ticks(build_definitions(quiet), instance, 3)
    assert sum("notes.txt: skipped: matches none of *.parquet, *.csv" in line for line in lines) == 1
    assert sum(".day.csv.tmp: skipped: a hidden or temporary file" in line for line in lines) == 1
    assert sum("archive.csv: refused: not a regular file (a folder)" in line for line in lines) == 1
    assert ledger_rejects(quiet) == [("archive.csv", "refused: not a regular file (a folder)")]


@pytest.mark.parametrize("count", [1000])
def test_a_tick_over_a_thousand_files_takes_seconds(settings, instance, count) -> None:
    burst = with_intake(settings)
    for index in range(count):
        (burst.datasets[0].landing / f"f{index:04d}.csv").write_text(f"order_id,amount\n{index},1.5\n")
    defs = build_definitions(burst)
    started = time.monotonic()
    first = evaluate(defs, SENSOR, instance, None)
    took = time.monotonic() - started
    assert len(first.run_requests) == 1  # the one training batch; the rest wait for the contract
    assert len(json.loads(first.cursor)["waiting"]) == count - 1
    assert took < 30, f"a tick over {count} new files took {took:.1f} s"


def test_a_file_swapped_for_a_link_while_taken_is_not_copied(tmp_path) -> None:
    folder, copies = tmp_path / "landing", tmp_path / "copies"
    folder.mkdir()
    (tmp_path / "secret.csv").write_text("a\n1\n")
    path = folder / "day.csv"
    path.write_text("a\n2\n")
    info = path.stat()
    seen = Seen("day.csv", info.st_size, info.st_mtime_ns)
    path.unlink()
    path.symlink_to(tmp_path / "secret.csv")
    assert copy_unchanged(path, seen, copies) is None  # opened without following the link
    assert not copies.exists() or list(copies.iterdir()) == []


def test_a_record_kept_before_versions_is_read_and_not_taken_again(settings, stream, instance) -> None:
    legacy = with_intake(settings)
    land_as(legacy, stream, 0, "day.csv")
    record = landing_record(legacy.datasets[0], BatchStorage(legacy.storage))
    record.path.parent.mkdir(parents=True)
    record.path.write_text(json.dumps([["day.csv", "2026-11-05T08:00:00+00:00"]]))
    instance.add_dynamic_partitions("orders_batches", ["day.csv"])
    result = evaluate(build_definitions(legacy), SENSOR, instance, None)
    assert result.run_requests == [] and result.dynamic_partitions_requests == []
    assert [(t.key, t.name, t.landed_at.hour) for t in record.taken()] == [("day.csv", "day.csv", 8)]
    assert record.taken()[0].sha256  # its content is now known: a later change is a new version
