"""Approvals in Dagster: requested by the reflex, shown on an asset, granted from a job, carried out."""

import dataclasses
from pathlib import Path

import dagster as dg
import joblib
import pandas as pd
import pytest

import datareflex
from suite.build import build_definitions
from suite.cli.runner import run_until_quiet
from suite.config import PACKAGE_DIR, Settings
from suite.storage import BatchStorage
from suite.storage.partitions import landed_path

from .conftest import land

POLICY = """
rules:
  - {when: {kind: schema_change, rule: missing_column}, then: rollback}
  - {when: {kind: drift, column: amount}, then: retrain}
  - {when: {kind: drift}, then: refresh_reference}
  - {when: {kind: metric_anomaly}, then: alert}
  - {when: {kind: contract_violation}, then: quarantine}
"""


@pytest.fixture
def approving(settings: Settings, tmp_path: Path) -> Settings:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    dataset = dataclasses.replace(settings.datasets[0], policy=policy, model_target="amount")
    return dataclasses.replace(settings, datasets=(dataset,))


def approvals(settings: Settings) -> list[datareflex.Approval]:
    ledger = BatchStorage(settings.storage).ledger()
    try:
        return ledger.approvals("orders")
    finally:
        ledger.dispose()


def observed(instance: dg.DagsterInstance) -> dict:
    result = instance.fetch_observations(dg.AssetKey(["orders", "approvals"]), limit=1)
    return result.records[0].asset_observation.metadata


def decide(defs: dg.Definitions, instance: dg.DagsterInstance, request: int, grant: bool) -> bool:
    config = {"ops": {"orders_decide": {"config": {"request": request, "grant": grant, "by": "ana"}}}}
    job = defs.resolve_job_def("orders_approval_job")
    return job.execute_in_process(instance=instance, run_config=config, raise_on_error=False).success


def test_granted_refresh_and_retraining_are_carried_out_once(approving, stream, instance) -> None:
    names = land(approving, stream, 5)  # three training days, a clean day, the drift day
    defs = build_definitions(approving)
    run_until_quiet(defs, instance)
    storage = BatchStorage(approving.storage)

    first_model = instance.get_latest_materialization_event(dg.AssetKey(["orders", "model"]))
    assert first_model is not None  # trained with the contract, on the training window
    metadata = first_model.asset_materialization.metadata
    assert metadata["batches"].value == ", ".join(names[:3])
    assert (
        metadata["holdout_score"].value < 0.05 and abs(metadata["baseline_score"].value) < 0.05
    )  # no signal in the sample
    model = joblib.load(storage.path(["orders", "model"], None, ".joblib"))
    published = storage.read(["orders", "published_batch"], names[3])
    assert len(model.predict(published)) == len(published)

    requested = {a.action: a for a in approvals(approving)}
    assert sorted(requested) == ["refresh_reference", "retrain"]
    assert {a.batch for a in requested.values()} == {names[4]} and requested["retrain"].targets == ("amount",)
    assert observed(instance)["pending"].value == 2  # shown in the UI, on the approvals asset
    rows = observed(instance)["requests"].value.records
    assert {(r.data["action"], r.data["status"]) for r in rows} == {
        ("refresh_reference", "requested"),
        ("retrain", "requested"),
    }
    assert not decide(defs, instance, 9999, True)  # an unknown request fails the run, changes nothing

    assert decide(defs, instance, requested["refresh_reference"].id, True)
    assert decide(defs, instance, requested["retrain"].id, True)
    assert not decide(defs, instance, requested["retrain"].id, False)  # already decided
    launched = run_until_quiet(defs, instance)
    assert sorted(r.job for r in launched) == ["orders_refresh_reference_job", "orders_retrain_job"]
    assert all(r.success for r in launched)
    assert {a.status for a in approvals(approving)} == {"done"}
    assert observed(instance)["pending"].value == 0

    reference = instance.get_latest_materialization_event(dg.AssetKey(["orders", "reference_profile"]))
    refreshed = reference.asset_materialization.metadata
    assert refreshed["batches"].value == ", ".join(names[2:5])  # the latest published batches
    assert refreshed["approval"].value == requested["refresh_reference"].id
    model = instance.get_latest_materialization_event(dg.AssetKey(["orders", "model"]))
    assert model.asset_materialization.metadata["batches"].value == ", ".join(names[2:5])
    assert run_until_quiet(defs, instance) == []  # carried out once


def test_a_granted_rollback_publishes_the_last_good_version_again(approving, stream, instance) -> None:
    names = land(approving, stream, 4)
    defs = build_definitions(approving)
    run_until_quiet(defs, instance)
    storage = BatchStorage(approving.storage)
    good = storage.read(["orders", "published_batch"], names[3])
    assert len(good) > 1000

    # The batch's stored copy is replaced by hand without a column (a re-delivered file in the
    # landing folder would be a new version, its own partition) and the partition is run again.
    path = landed_path(approving.datasets[0], storage, names[3])
    assert path != approving.datasets[0].landing / names[3]
    pd.read_parquet(path).drop(columns=["discount"]).to_parquet(path)
    rerun = defs.resolve_job_def("orders_batch_job")
    assert not rerun.execute_in_process(
        instance=instance, partition_key=names[3], raise_on_error=False
    ).success
    run_until_quiet(defs, instance)
    held = storage.read(["orders", "held_batch"], names[3])
    assert storage.read(["orders", "published_batch"], names[3]).empty and len(held) == len(good)
    assert held["_reason"].str.startswith("held: rollback to the last good version requested").all()
    (request,) = approvals(approving)
    assert (request.action, request.batch, request.status) == ("rollback", names[3], "requested")

    assert decide(defs, instance, request.id, True)
    launched = run_until_quiet(defs, instance)
    assert [(r.job, r.success) for r in launched] == [("orders_rollback_job", True)]
    pd.testing.assert_frame_equal(storage.read(["orders", "published_batch"], names[3]), good)
    event = instance.get_latest_materialization_event(dg.AssetKey(["orders", "published_batch"]))
    assert event.asset_materialization.partition == names[3]
    assert event.asset_materialization.metadata["dagster/row_count"].value == len(good)
    assert [a.status for a in approvals(approving)] == ["done"]


def test_the_bundled_policy_is_valid() -> None:
    policy = datareflex.Policy.from_file(PACKAGE_DIR / "orders_policy.yaml")
    assert policy.cooldown_minutes == {"alert": 60.0}


def test_a_remediation_that_does_not_verify_is_held_and_escalated(
    settings, stream, instance, tmp_path
) -> None:
    policy = tmp_path / "alert_only.yaml"
    policy.write_text("rules: [{when: {kind: [contract_violation, metric_anomaly]}, then: alert}]\n")
    dataset = dataclasses.replace(settings.datasets[0], policy=policy)
    alerting = dataclasses.replace(settings, datasets=(dataset,))
    _, batches = stream
    corrupt = next(b.name for b in batches if b.kind == "corrupt")
    land(alerting, stream, 3)
    (dataset.landing / corrupt).write_bytes((stream[0] / corrupt).read_bytes())
    run_until_quiet(build_definitions(alerting), instance)
    (run,) = [r for r in instance.get_runs() if r.tags.get("dataops/escalated")]
    assert run.job_name == "orders_remediation_job" and run.tags["dagster/partition"] == corrupt
    assert run.tags["dataops/escalated"] == "unverified" and run.tags["dataops/decision"] == "alert"
    held = BatchStorage(alerting.storage).read(["orders", "held_batch"], corrupt)
    assert len(held) == 40  # 34 broken rows and 6 missing discounts nobody imputed
    assert held["_reason"].str.startswith("held: unresolved after remediation").all()


def test_a_granted_contract_change_makes_a_new_version_and_publishes_the_held_batch(
    settings, stream, instance, tmp_path
) -> None:
    policy = tmp_path / "contract.yaml"
    policy.write_text(
        "rules:\n"
        "  - {when: {kind: schema_change, rule: missing_column}, then: change_contract}\n"
        "  - {when: {kind: [drift, metric_anomaly]}, then: alert}\n"
    )
    changing = dataclasses.replace(
        settings, datasets=(dataclasses.replace(settings.datasets[0], policy=policy),)
    )
    land(changing, stream, 3)
    landing = changing.datasets[0].landing
    source, batches = stream
    later = batches[3].name
    pd.read_parquet(source / later).drop(columns=["email"]).to_parquet(
        landing / later
    )  # the source drops a column
    defs = build_definitions(changing)
    run_until_quiet(defs, instance)
    storage = BatchStorage(changing.storage)
    held = storage.read(["orders", "held_batch"], later)
    assert storage.read(["orders", "published_batch"], later).empty and len(held) == batches[3].rows
    (request,) = approvals(changing)
    assert (request.action, request.batch, request.targets) == ("change_contract", later, ("email",))

    assert decide(defs, instance, request.id, True)
    launched = run_until_quiet(defs, instance)
    assert [(r.job, r.success) for r in launched] == [
        ("orders_contract_change_job", True),
        ("orders_remediation_job", True),
    ]
    contract = storage.contracts().latest("orders")
    assert contract.version == 2 and "email" not in contract.columns
    assert len(storage.read(["orders", "published_batch"], later)) == batches[3].rows
    assert storage.read(["orders", "held_batch"], later).empty
    assert [a.status for a in approvals(changing)] == ["done"]
