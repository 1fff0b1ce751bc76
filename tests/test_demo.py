"""The closed loop end to end on a real (temporary) instance, as ``make demo`` runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

import datareflex
from suite.cli.demo import COLUMNS, batch_rows, open_instance, run_demo
from suite.cli.sample_data import DRIFTED_COLUMNS, write_orders
from suite.config import DatasetConfig, Settings
from suite.storage import BatchStorage
from suite.storage.files import read_batch


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("demo")
    settings = Settings(home / "dagster_home", (DatasetConfig("orders", home / "landing"),))
    previous = os.environ.get("DAGSTER_HOME")
    rows = run_demo(settings)
    instance = open_instance(settings.dagster_home)
    yield settings, rows, {b.name: b for b in write_orders(home / "landing")}, instance
    if previous is None:
        os.environ.pop("DAGSTER_HOME", None)
    else:
        os.environ["DAGSTER_HOME"] = previous


def by_kind(loop, kind: str) -> list[dict]:
    _, rows, batches, _ = loop
    return [row for row in rows if batches[row["batch"]].kind == kind]


def stored(loop, asset: str, batch: str) -> pd.DataFrame:
    settings = loop[0]
    return BatchStorage(settings.storage).read(["orders", asset], batch)


def test_every_row_is_accounted_for(loop) -> None:
    _, rows, batches, _ = loop
    assert [row["batch"] for row in rows] == sorted(batches)
    for row in rows:
        assert list(row) == list(COLUMNS)
        assert row["rows_in"] == batches[row["batch"]].rows
        assert row["rows_in"] == row["rows_published"] + row["rows_quarantined"] + row["rows_held"]


def test_clean_days_are_published_untouched(loop) -> None:
    settings = loop[0]
    clean = by_kind(loop, "clean")
    assert len(clean) == 4
    for row in clean:
        assert (row["decision"], row["actions"], row["verified"], row["drifted_columns"]) == (
            "publish",
            [],
            None,
            [],
        )
        raw = read_batch(settings.datasets[0].landing / row["batch"])
        pd.testing.assert_frame_equal(stored(loop, "published_batch", row["batch"]), raw)


def test_drift_day_flags_the_injected_columns_and_no_others(loop) -> None:
    (row,) = by_kind(loop, "drift")
    assert sorted(row["drifted_columns"]) == sorted(DRIFTED_COLUMNS)
    assert (row["decision"], row["actions"], row["verified"]) == ("alert", ["alert"], True)
    assert all(r["drifted_columns"] == [] for r in loop[1] if r is not row)
    instance = loop[3]
    (run,) = [
        r
        for r in instance.get_runs(dg.RunsFilter(tags={"dagster/partition": row["batch"]}))
        if "dataops/alert" in r.tags
    ]
    assert run.tags["dataops/decision"] == "alert"
    assert all(column in run.tags["dataops/alert"] for column in DRIFTED_COLUMNS)


def test_corrupt_day_repairs_or_quarantines_exactly_the_bad_rows(loop) -> None:
    (row,) = by_kind(loop, "corrupt")
    faults = loop[2][row["batch"]].faults
    assert row["decision"] == "remediate" and row["verified"] is True
    # Page–Hinkley sees the batch's mean amount jump (the 1,000,000 amounts): an alert, too.
    assert row["actions"] == ["deduplicate", "impute", "quarantine", "alert"]
    quarantine = stored(loop, "quarantine", row["batch"])
    published = stored(loop, "published_batch", row["batch"])
    removed = {
        i for kind, ids in faults.items() if kind not in ("null_discount", "duplicate_order_id") for i in ids
    }
    duplicates = quarantine["_reason"].eq("order_id: duplicate of an earlier row")
    assert set(quarantine.loc[~duplicates, "order_id"]) == removed  # no good row quarantined
    assert sorted(quarantine.loc[duplicates, "order_id"]) == sorted(faults["duplicate_order_id"])
    assert quarantine["_reason"].str.len().gt(0).all()
    assert row["rows_quarantined"] == len(removed) + len(faults["duplicate_order_id"])
    imputed = published.set_index("order_id").loc[list(faults["null_discount"]), "discount"]
    assert imputed.notna().all()  # repaired by a recorded action
    assert published["order_id"].is_unique and not set(published["order_id"]) & removed


def test_schema_change_day_reports_and_coerces(loop) -> None:
    settings = loop[0]
    (row,) = by_kind(loop, "schema_change")
    assert row["schema_changes"] == [
        "quantity: type changed (integer → text)",
        "coupon_code: column added (text)",
    ]
    assert row["actions"] == ["accept_schema_change", "coerce"] and row["verified"] is True
    published = stored(loop, "published_batch", row["batch"])
    assert published["quantity"].dtype == "int64" and "coupon_code" in published
    contracts = BatchStorage(settings.storage).contracts()
    assert contracts.versions("orders") == [1, 2]
    assert "coupon_code" in contracts.get("orders", 2).columns


def test_check_results_explain_themselves(loop) -> None:
    instance = loop[3]
    (row,) = by_kind(loop, "corrupt")
    key = dg.AssetCheckKey(dg.AssetKey(["orders", "validation"]), "rows_satisfy_contract")
    records = instance.event_log_storage.get_asset_check_execution_history(key, limit=20)
    failed = [r for r in records if r.status.value == "FAILED"]
    assert len(failed) == 1
    table = failed[0].event.dagster_event.event_specific_data.metadata["failing_rules"]
    counts = {(rec.data["column"], rec.data["rule"]): rec.data["rows"] for rec in table.records}
    assert counts[("country", "allowed")] == 5 and counts[("order_id", "unique")] == 5
    drift_key = dg.AssetCheckKey(dg.AssetKey(["orders", "drift_report"]), "no_drift")
    drift_failed = [
        r
        for r in instance.event_log_storage.get_asset_check_execution_history(drift_key, limit=20)
        if r.status.value == "FAILED"
    ]
    assert len(drift_failed) == 1
    report = drift_failed[0].event.dagster_event.event_specific_data.metadata["report"].value
    assert "| amount | wasserstein |" in report


def test_ledger_holds_signal_decision_action_outcome(loop) -> None:
    settings = loop[0]
    (row,) = by_kind(loop, "corrupt")
    ledger = datareflex.Ledger(f"sqlite:///{settings.storage / 'ledger.db'}")
    steps = [r.step for r in ledger.records("orders", row["batch"])]
    assert steps[0] == "signal" and steps[-1] == "outcome" and steps.count("action") == 4
    assert ledger.records("orders", row["batch"])[-1].detail["verified"] is True


def test_a_second_run_processes_nothing_and_reports_the_same(loop) -> None:
    settings, rows, _, instance = loop
    runs_before = len(instance.get_runs())
    assert run_demo(settings) == rows
    assert len(instance.get_runs()) == runs_before
    assert [{k: v for k, v in r.items() if k != "signals"} for r in batch_rows(instance, "orders")] == rows


def test_cli_prints_the_rows_as_json(tmp_path: Path) -> None:
    env = {**os.environ, "DATAOPS_HOME": str(tmp_path)}
    env.pop("DAGSTER_HOME", None)
    done = subprocess.run(
        [sys.executable, "-m", "suite", "demo", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    rows = json.loads(done.stdout)
    assert len(rows) == 7 and all(list(row) == list(COLUMNS) for row in rows)
    assert (tmp_path / "dagster_home" / "storage" / "dataops" / "ledger.db").exists()


def test_contract_asset_shows_version_columns_and_changes(loop) -> None:
    instance = loop[3]
    records = instance.fetch_materializations(dg.AssetKey(["orders", "contract"]), limit=10).records
    by_version = {r.asset_materialization.metadata["version"].value: r.asset_materialization for r in records}
    assert sorted(by_version) == [1, 2]
    schema = by_version[1].metadata["dagster/column_schema"].value
    email = next(c for c in schema.columns if c.name == "email")
    assert not email.constraints.nullable and any(o.startswith("matches ") for o in email.constraints.other)
    changes = by_version[2].metadata["changes_from_previous_version"].value.records
    assert [(r.data["column"], r.data["change"], r.data["breaking"]) for r in changes] == [
        ("coupon_code", "column_added", False)
    ]


def test_schema_check_reports_the_diff_of_the_batch(loop) -> None:
    instance = loop[3]
    key = dg.AssetCheckKey(dg.AssetKey(["orders", "validation"]), "schema_matches_contract")
    failed = [
        r
        for r in instance.event_log_storage.get_asset_check_execution_history(key, limit=20)
        if r.status.value == "FAILED"
    ]
    assert len(failed) == 1
    metadata = failed[0].event.dagster_event.event_specific_data.metadata
    diff = {(r.data["column"], r.data["change"]): r.data["breaking"] for r in metadata["diff"].value.records}
    assert diff == {("coupon_code", "column_added"): False, ("quantity", "type_changed"): True}


def test_drift_report_shows_plots_and_metrics_over_partitions(loop) -> None:
    instance = loop[3]
    (row,) = by_kind(loop, "drift")
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=dg.AssetKey(["orders", "drift_report"]), asset_partitions=[row["batch"]]
        ),
        limit=1,
    ).records
    metadata = records[0].asset_materialization.metadata
    plots = metadata["plots"].value
    assert plots.count("data:image/svg+xml;base64,") == 2
    assert metadata["effect/amount"].value > 0.1 and metadata["rows"].value == row["rows_in"]
    assert metadata["effect/(joint)"].value > 0.55  # the domain classifier's AUC, on profiles
    assert {"missing/country", "mean/amount"} <= set(metadata)
    rows = {
        r.data["column"] + ":" + r.data["method"]: r.data["drifted"]
        for r in metadata["columns"].value.records
    }
    assert rows["amount:wasserstein"] and rows["channel:l_infinity"] and not rows["amount:missing_rate"]


def test_published_batch_metadata_shows_the_ledger_trail(loop) -> None:
    instance = loop[3]
    (row,) = by_kind(loop, "corrupt")
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=dg.AssetKey(["orders", "published_batch"]), asset_partitions=[row["batch"]]
        ),
        limit=1,
    ).records
    trail = records[0].asset_materialization.metadata["ledger"].value
    assert "| signal | contract_violation | country not_null × 6 |" in trail
    assert "| action | quarantine | quarantined 29 rows |" in trail
    assert trail.rstrip().endswith("| outcome | verified | published 1108, quarantined 34, held 0 |")
