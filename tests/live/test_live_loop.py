"""The loop under the real daemon: files land, sensors add partitions and launch runs, failed
checks launch remediation; read back through the webserver's GraphQL API. Once on SQLite across
a daemon restart, once on PostgreSQL across a restart of the database server."""

import json
from pathlib import Path

from dagster import DagsterRunStatus

import datareflex
from suite.tags import FAILED_CHECK_RUN_TAG, RELAUNCH_OF_TAG
from tests.support.servers import Postgres

from .conftest import start_loop
from .loop import LiveLoop, tag

QUARANTINED_ON_THE_CORRUPT_DAY = 34  # as in tests/test_demo.py: 29 broken rows and 5 duplicates


def row_counts(loop: LiveLoop, asset: str) -> dict[str, list[int]]:
    """Every materialization's ``dagster/row_count``, by partition."""
    counts: dict[str, list[int]] = {}
    for event in loop.materializations(asset):
        value = next(e["intValue"] for e in event["metadataEntries"] if e["label"] == "dagster/row_count")
        counts.setdefault(event["partition"], []).append(value)
    return counts


def assert_loop_outcomes(loop: LiveLoop) -> None:
    batches = {b.name: b for b in loop.batches}
    kinds = {b.kind: b.name for b in loop.batches}
    every_batch_run = loop.runs_of("orders_batch_job")
    relaunched = {tag(r, RELAUNCH_OF_TAG) for r in every_batch_run} - {None}
    batch_runs = [r for r in every_batch_run if r["startTime"] is not None and r["runId"] not in relaunched]

    # every file processed exactly once: one batch run per partition, under its run key; a run
    # lost to the storage restart (created but never launched, or stuck starting until run
    # monitoring failed it) was launched again, and only its relaunch ran the batch
    assert sorted(tag(r, "dagster/partition") for r in batch_runs) == sorted(batches)
    stranded = {r["runId"]: r for r in every_batch_run if r["runId"] in relaunched}
    assert {r["runId"] for r in every_batch_run if r["startTime"] is None} <= set(stranded)
    for run in batch_runs:
        origin = run
        while tag(origin, RELAUNCH_OF_TAG):
            origin = stranded[tag(origin, RELAUNCH_OF_TAG)]
        assert tag(origin, "dagster/run_key") == f"batch:{tag(run, 'dagster/partition')}"
    (training,) = [r for r in loop.runs_of("orders_training_job") if r["startTime"] is not None]
    assert training["status"] == "SUCCESS"

    # the blocking checks stop exactly the drift, corrupt and schema-change days
    failed = {tag(r, "dagster/partition"): r["runId"] for r in batch_runs if r["status"] == "FAILURE"}
    assert sorted(failed) == sorted(kinds[k] for k in ("drift", "corrupt", "schema_change"))
    partition_of = {r["runId"]: tag(r, "dagster/partition") for r in batch_runs}
    for asset, check, kind in (
        ("drift_report", "no_drift", "drift"),
        ("validation", "rows_satisfy_contract", "corrupt"),
        ("validation", "schema_matches_contract", "schema_change"),
    ):
        executions = [e for e in loop.check_executions(asset, check) if e["runId"] in partition_of]
        assert len(executions) == len(batches), check
        failing = [partition_of[e["runId"]] for e in executions if e["status"] == "FAILED"]
        assert failing == [kinds[kind]], check

    # one remediation run for each failed batch run, linked to it, and successful
    remediation = loop.runs_of("orders_remediation_job")
    assert sorted(tag(r, FAILED_CHECK_RUN_TAG) for r in remediation) == sorted(failed.values())
    assert all(
        tag(r, "dagster/partition") == p
        for p, run in failed.items()
        for r in remediation
        if tag(r, FAILED_CHECK_RUN_TAG) == run
    )
    client = loop.servers.client()
    assert {client.get_run_status(r["runId"]) for r in remediation} == {DagsterRunStatus.SUCCESS}

    # published once per batch: every row but the corrupt day's quarantined ones
    published = row_counts(loop, "published_batch")
    quarantined = row_counts(loop, "quarantine")
    assert published == {
        name: [b.rows - (QUARANTINED_ON_THE_CORRUPT_DAY if b.kind == "corrupt" else 0)]
        for name, b in batches.items()
    }
    assert quarantined == {
        name: [QUARANTINED_ON_THE_CORRUPT_DAY if b.kind == "corrupt" else 0] for name, b in batches.items()
    }

    # the failed contract check explains itself: a table of the failing rules
    (execution,) = [
        e
        for e in loop.check_executions("validation", "rows_satisfy_contract")
        if e["runId"] == failed[kinds["corrupt"]]
    ]
    (table,) = [m for m in execution["evaluation"]["metadataEntries"] if m["label"] == "failing_rules"]
    counts = {(r["column"], r["rule"]): r["rows"] for r in map(json.loads, table["table"]["records"])}
    assert counts[("country", "allowed")] == 5 and counts[("order_id", "unique")] == 5


def test_loop_on_sqlite_across_a_daemon_restart(sqlite_loop: LiveLoop) -> None:
    assert sqlite_loop.unfinished_at_middle > 0, "the daemon was restarted with batch runs in flight"
    assert_loop_outcomes(sqlite_loop)
    assert (sqlite_loop.home / "logs" / "daemon2.log").exists()


def test_loop_on_postgres_across_a_server_restart(postgres: Postgres, tmp_path: Path) -> None:
    loop = start_loop(tmp_path / "home", postgres)
    try:
        loop.run(middle=lambda: postgres.restart(down_for=2))
        assert loop.unfinished_at_middle > 0, "PostgreSQL was restarted with batch runs in flight"
        assert_loop_outcomes(loop)
    finally:
        loop.servers.stop()
    # the ledger lives on the same server, not in a SQLite file under the instance
    assert not list(tmp_path.rglob("ledger.db"))
    ledger = datareflex.Ledger(postgres.url)
    try:
        corrupt = next(b.name for b in loop.batches if b.kind == "corrupt")
        records = ledger.records("orders", corrupt)
        assert records[0].step == "signal" and records[-1].step == "outcome"
        assert records[-1].detail["verified"] is True
        assert {r.batch for r in ledger.records("orders")} == {b.name for b in loop.batches}
    finally:
        ledger.dispose()
