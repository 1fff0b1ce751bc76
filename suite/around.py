"""The loop around a user's own asset: each of its materializations is a batch.

:func:`loop_for` (or the component's ``asset:`` attribute) puts three blocking checks on the
user's asset, partitioned like it: ``schema_matches_contract``, ``rows_satisfy_contract`` and
``no_drift``. They run in the user's own run right after the asset, read its value through the
asset's IO manager, and gate whatever the user computes from it in that run. They also land the
value, written whole as Parquet, in the dataset's arrivals folder under the suite's storage
(``arrivals/<dataset>/<partition>``); from there the landing sensor takes it like any landed
file, so the contract, drift, remediation, approvals and the person's way out are the loop the
suite runs on files. Verified rows land in ``<dataset>/published_batch``, whose partitions are the
asset's partition keys (``~v2`` when a partition is materialized again with other rows), or for an
unpartitioned asset the UTC time and run of each materialization (``2026-12-02T101500-1a2b3c4d``).

>>> import dagster as dg
>>> @dg.asset(partitions_def=dg.DailyPartitionsDefinition("2013-01-01"))
... def flights() -> None: ...
>>> defs = loop_for(flights, keys=["flight_id"])
>>> sorted(c.name for c in defs.get_repository_def().asset_checks_defs_by_key)[:3]
['no_drift', 'rows_satisfy_contract', 'schema_matches_contract']
>>> dg.AssetKey(["flights", "published_batch"]) in defs.get_repository_def().assets_defs_by_key
True
"""

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

import driftguard
from suite.assets.drift import DRIFT_CHECK, current_reference, drift_check, reference_for, score
from suite.assets.schema import ROWS_CHECK, SCHEMA_CHECK, verdict
from suite.build import dataset_definitions
from suite.config import DatasetConfig, Settings, dataset_config
from suite.config.declaration import DatasetDeclaration
from suite.config.settings import data_home
from suite.sensors.arrivals import arrival_name, build_arrival_sensor
from suite.storage import SuiteStorage, atomic_write
from suite.storage.objects import storage_root

CHECKS = {
    SCHEMA_CHECK: "Columns and types are those of the contract (schemasense).",
    ROWS_CHECK: "Every row satisfies every rule of the contract (schemasense).",
    DRIFT_CHECK: "No column drifted from the reference (driftguard).",
}


def loop_for(
    asset: dg.AssetsDefinition | dg.AssetSpec, *, name: str | None = None, **declaration: Any
) -> dg.Definitions:
    """The closed loop around ``asset``: its checks, and the dataset ``name`` (default: the
    asset's key as an identifier) declared by ``declaration``, with the keys of a dataset in
    ``suite.yaml`` but ``landing`` (``keys=[...]``, ``policy="/path/policy.yaml"``, ``drift={...}``).
    Merge the result with the project's own definitions."""
    key = asset.key
    entry = DatasetDeclaration.model_validate({**declaration, "asset": key.to_user_string()})
    name = name or key.to_python_identifier()
    dataset = dataset_config(name, entry, Path("loop_for"), "", data_home(), at=["loop_for"])
    return around(dataset, key, asset.partitions_def)


def around(
    dataset: DatasetConfig, key: dg.AssetKey, partitions: dg.PartitionsDefinition | None
) -> dg.Definitions:
    """The definitions of ``dataset`` whose batches are the materializations of asset ``key``."""
    settings = Settings.without_datasets()
    arrivals = storage_root(settings.storage) / "arrivals" / dataset.name
    dataset = dataclasses.replace(dataset, landing=arrivals, patterns=("*",))
    checks = arrival_checks(dataset, key, partitions)
    return dg.Definitions.merge(
        dataset_definitions(dataset, settings),
        dg.Definitions(
            asset_checks=[checks], sensors=[build_arrival_sensor(dataset, key, list(checks.check_keys))]
        ),
    )


def arrival_checks(
    dataset: DatasetConfig, key: dg.AssetKey, partitions: dg.PartitionsDefinition | None
) -> dg.AssetChecksDefinition:
    """The blocking checks on the user's asset ``key``; each run lands the value it checked."""
    specs = [
        dg.AssetCheckSpec(check, asset=key, blocking=True, partitions_def=partitions, description=about)
        for check, about in CHECKS.items()
    ]

    @dg.multi_asset_check(
        name=f"{dataset.name}_arrival",
        specs=specs,
        ins={"value": dg.AssetIn(key)},
        description=f"Land each materialization of {key.to_user_string()} as a batch of "
        f"{dataset.name} and check it against the contract and the drift reference.",
    )
    def arrival(
        context: dg.AssetCheckExecutionContext, storage: SuiteStorage, value: Any
    ) -> Iterator[dg.AssetCheckResult]:
        frame = _frame(value, key)
        partition = context.partition_key if context.has_partition_key else None
        batch = arrival_name(partition, context.run.run_id, dt.datetime.now(dt.UTC))
        path = dataset.landing / batch
        atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))
        context.log.info(f"{key.to_user_string()}: {len(frame):,} rows landed as {dataset.name} batch {path}")
        for result in judge(context.instance, dataset, storage, batch, frame):
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=result.check_name,
                passed=result.passed,
                metadata={"landed_as": dg.MetadataValue.path(str(path)), **result.metadata},
                severity=result.severity,
            )

    return arrival


def judge(
    instance: dg.DagsterInstance,
    dataset: DatasetConfig,
    storage: SuiteStorage,
    batch: str,
    frame: pd.DataFrame,
) -> Iterator[dg.AssetCheckResult]:
    """The contract and drift checks of ``frame`` as batch ``batch`` would get them; all pass,
    saying why, while the contract is still being learned."""
    current = storage.files.contracts().latest(dataset.name)
    if current is None:
        note = {
            "batch": batch,
            "note": "training batch: it defines the contract, nothing to check it against",
        }
        for check in CHECKS:
            yield dg.AssetCheckResult(check_name=check, passed=True, metadata=note)
        return
    result = current.validate(frame)
    counts = (len(result.invalid), len(result.valid))
    checks = list(verdict(batch, current, None, result.violations, counts))[1:]  # not the Output
    yield from checks
    reference = reference_for(instance, batch, dataset, storage)
    profile = driftguard.profile(frame, like=current_reference(dataset, storage))
    report = score(dataset, reference, profile, current)
    judged_against = reference.metadata() if reference else {"reference": "none (training batch)"}
    drift = drift_check(batch, report, judged_against)
    # drift is a signal about the batch, for the policy, never by itself a reason to stop the
    # user's own run: a warning, where a broken contract is an error that blocks
    yield dg.AssetCheckResult(
        check_name=drift.check_name,
        passed=drift.passed,
        metadata=drift.metadata,
        severity=dg.AssetCheckSeverity.WARN,
    )


def _frame(value: Any, key: dg.AssetKey) -> pd.DataFrame:
    """The user's value as a frame with text column names; an error naming the asset otherwise."""
    if not isinstance(value, pd.DataFrame):
        raise dg.Failure(
            f"{key.to_user_string()}: its IO manager loaded a {type(value).__name__}; the loop checks "
            "pandas DataFrames (return one, or load one with an IO manager that does)",
            allow_retries=False,
        )
    named = not isinstance(value.index, pd.RangeIndex)  # an index of the user's own is a column too
    frame = value.reset_index(drop=not named)
    frame.columns = [str(c) for c in frame.columns]
    return frame
