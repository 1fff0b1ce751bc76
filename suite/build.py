"""Everything one dataset needs in Dagster, built from its configuration."""

import dataclasses
import datetime as dt
from typing import Any, TypeVar

import dagster as dg

from datareflex import ActionKind
from suite.assets.approvals import build_approvals_spec
from suite.assets.drift import DRIFT_CHECK, build_drift_assets
from suite.assets.model import build_model_asset
from suite.assets.remediation import build_remediation
from suite.assets.schema import ROWS_CHECK, SCHEMA_CHECK, build_schema_assets
from suite.config import DaskSettings, DatasetConfig, Settings
from suite.jobs.approvals import build_approval_job, build_contract_change_job, build_rollback_job
from suite.jobs.person import build_breaker_job, build_release_job
from suite.jobs.schedule import build_drift_schedule
from suite.scale.resource import DaskResource
from suite.sensors.approvals import build_approvals_sensor
from suite.sensors.incidents import build_freshness_sensor, build_run_failure_sensor
from suite.sensors.landing import batch_partitions, build_landing_sensor
from suite.sensors.reflex import build_reflex_sensor
from suite.sensors.relaunch import build_relaunch_sensor
from suite.storage import IO_MANAGER_KEY, SuiteIOManager, SuiteStorage


def build_dataset(dataset: DatasetConfig, storage_root: str) -> dg.Definitions:
    partitions = batch_partitions(dataset)
    raw_batch, contract, validation = build_schema_assets(dataset, partitions)
    reference_profile, batch_profile, drift_report = build_drift_assets(dataset, partitions, raw_batch)
    remediate = build_remediation(dataset, partitions, raw_batch, validation, drift_report)
    model = [declared(dataset, build_model_asset(dataset, contract))] if dataset.model_target else []
    assets = [
        declared(dataset, asset)
        for asset in (
            raw_batch,
            contract,
            validation,
            reference_profile,
            batch_profile,
            drift_report,
            remediate,
        )
    ]
    raw_batch, contract, validation, reference_profile, batch_profile, drift_report, remediate = assets
    batch_job, remediation_job, training_job, drift_job = _loop_jobs(dataset, partitions, assets, model)
    approved = _approved_jobs(dataset, reference_profile, model)
    check_keys = [
        dg.AssetCheckKey(validation.key, SCHEMA_CHECK),
        dg.AssetCheckKey(validation.key, ROWS_CHECK),
        dg.AssetCheckKey(drift_report.key, DRIFT_CHECK),
    ]
    return dg.Definitions(
        assets=[*assets, *model, declared(dataset, build_approvals_spec(dataset))],
        jobs=[
            batch_job,
            remediation_job,
            training_job,
            drift_job,
            build_approval_job(dataset),
            build_release_job(dataset),
            build_breaker_job(dataset),
            *approved.values(),
        ],
        sensors=[
            build_landing_sensor(dataset, partitions, batch_job, training_job, storage_root),
            build_reflex_sensor(dataset, batch_job, remediation_job, check_keys),
            build_approvals_sensor(dataset, storage_root, approved, remediation_job),
            build_run_failure_sensor(dataset, batch_job, storage_root),
            build_relaunch_sensor(dataset, batch_job, remediation_job, storage_root),
            *([build_freshness_sensor(dataset, storage_root)] if dataset.freshness_hours else []),
        ],
        schedules=[build_drift_schedule(dataset, drift_job, drift_report.key, reference_profile.key)],
    )


def _loop_jobs(
    dataset: DatasetConfig, partitions: dg.PartitionsDefinition, assets: list[Any], model: list[Any]
) -> tuple[Any, Any, Any, Any]:
    """The batch, remediation, training and drift jobs of the loop."""
    raw_batch, contract, validation, reference_profile, batch_profile, drift_report, remediate = assets
    batch_job = dg.define_asset_job(
        f"{dataset.name}_batch_job",
        executor_def=dg.in_process_executor,
        selection=dg.AssetSelection.assets(raw_batch, validation, batch_profile, drift_report, remediate),
        partitions_def=partitions,
        description="Sense one batch (contract and drift checks) and publish it if both pass.",
    )
    remediation_job = dg.define_asset_job(
        f"{dataset.name}_remediation_job",
        executor_def=dg.in_process_executor,
        selection=dg.AssetSelection.assets(remediate),
        partitions_def=partitions,
        description="Decide, act and verify for a batch whose checks failed, then publish what passes.",
    )
    training_job = dg.define_asset_job(
        f"{dataset.name}_training_job",
        executor_def=dg.in_process_executor,
        selection=dg.AssetSelection.assets(contract, reference_profile, *model),
        description="Learn the contract, the drift reference and the model from the training window.",
    )
    drift_job = dg.define_asset_job(
        f"{dataset.name}_drift_job",
        executor_def=dg.in_process_executor,
        selection=dg.AssetSelection.assets(batch_profile, drift_report),
        partitions_def=partitions,
        description="Score a batch's drift again against the current reference.",
    )
    return batch_job, remediation_job, training_job, drift_job


def _approved_jobs(dataset: DatasetConfig, reference_profile: Any, model: list[Any]) -> dict[ActionKind, Any]:
    """What the approvals sensor launches for a granted request."""
    approved: dict[ActionKind, Any] = {
        ActionKind.REFRESH_REFERENCE: dg.define_asset_job(
            f"{dataset.name}_refresh_reference_job",
            executor_def=dg.in_process_executor,
            selection=dg.AssetSelection.assets(reference_profile),
            description="Carry out a granted reference refresh: learn it from the latest published batches.",
        ),
        ActionKind.ROLLBACK: build_rollback_job(dataset),
        ActionKind.CHANGE_CONTRACT: build_contract_change_job(dataset),
    }
    if model:
        approved[ActionKind.RETRAIN] = dg.define_asset_job(
            f"{dataset.name}_retrain_job",
            executor_def=dg.in_process_executor,
            selection=dg.AssetSelection.assets(*model),
            description="Carry out a granted retraining: fit the model on the latest published batches.",
        )
    return approved


AssetOrSpec = TypeVar("AssetOrSpec", dg.AssetsDefinition, dg.AssetSpec)

FRESH_ASSETS = ("raw_batch", "published_batch")
"""The assets a ``freshness_hours`` declaration watches: a file landed, a batch reached consumers."""


def declared(dataset: DatasetConfig, asset: AssetOrSpec) -> AssetOrSpec:
    """``asset`` with what suite.yaml declares about its dataset: owners, the dataset's
    description after the asset's own, and a freshness policy on :data:`FRESH_ASSETS`."""
    freshness = None
    if dataset.freshness_hours is not None:
        freshness = dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=dataset.freshness_hours))

    def spec(asset_spec: dg.AssetSpec) -> dg.AssetSpec:
        description = asset_spec.description or ""
        if dataset.description:
            description = f"{description}\n\nDataset `{dataset.name}`: {dataset.description}".strip()
        fresh = asset_spec.key.path[-1] in FRESH_ASSETS
        return asset_spec.replace_attributes(
            owners=list(dataset.owners),
            description=description,
            freshness_policy=freshness if fresh else asset_spec.freshness_policy,
        )

    return spec(asset) if isinstance(asset, dg.AssetSpec) else asset.map_asset_specs(spec)


def build_definitions(settings: Settings) -> dg.Definitions:
    """The code location of ``settings``' datasets, with the resources they share."""
    return dg.Definitions.merge(
        *(dataset_definitions(dataset, settings) for dataset in settings.datasets),
        dg.Definitions(resources=shared_resources(settings), executor=dg.in_process_executor),
    )


def dataset_definitions(dataset: DatasetConfig, settings: Settings) -> dg.Definitions:
    """One dataset's definitions with the resources it shares with the others (a component's)."""
    return dg.Definitions.merge(
        build_dataset(dataset, str(settings.storage)), dg.Definitions(resources=shared_resources(settings))
    )


_SHARED: dict[tuple[str, DaskSettings], dict[str, Any]] = {}


def shared_resources(settings: Settings) -> dict[str, Any]:
    """The resources every dataset's assets use: the same objects for the same storage and cluster,
    so the definitions of several datasets (several components in one project) merge."""
    key = (str(settings.storage), settings.dask)
    if key not in _SHARED:
        _SHARED[key] = {
            "storage": SuiteStorage(root=key[0]),
            "dask": DaskResource(**dataclasses.asdict(settings.dask)),
            IO_MANAGER_KEY: SuiteIOManager(root=key[0]),
        }
    return _SHARED[key]
