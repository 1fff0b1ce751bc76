"""Assets of the drift side: the reference profile, each batch's profile and its drift report."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import pandas as pd

import driftguard

from .metadata import drift_table
from .settings import DatasetConfig
from .storage import SuiteStorage
from .training import training_frames

DRIFT_CHECK = "no_drift"


def build_drift_assets(
    dataset: DatasetConfig, partitions: dg.PartitionsDefinition, raw_batch: Any
) -> list[Any]:
    prefix = [dataset.name]
    group = dataset.name

    @dg.asset(
        key_prefix=prefix,
        deps=[raw_batch],
        group_name=group,
        kinds={"json"},
        description="Merged profile of the training window: what drift is measured against.",
    )
    def reference_profile(
        context: dg.AssetExecutionContext, storage: SuiteStorage
    ) -> dg.Output[driftguard.Profile]:
        keys, frames = training_frames(context.instance, dataset, storage.files)
        profile = driftguard.profile(pd.concat(frames, ignore_index=True))
        return dg.Output(profile, metadata={"batches": ", ".join(keys), "rows": profile.rows})

    @dg.asset(
        key_prefix=prefix,
        partitions_def=partitions,
        group_name=group,
        deps=[reference_profile],
        ins={"raw_batch": dg.AssetIn(key=raw_batch.key)},
        kinds={"json"},
        description="Exact counts of the batch on the reference's bins.",
    )
    def batch_profile(storage: SuiteStorage, raw_batch: pd.DataFrame) -> dg.Output[driftguard.Profile]:
        reference = _reference(dataset, storage)
        profile = driftguard.profile(raw_batch, like=reference)
        return dg.Output(profile, metadata={"rows": profile.rows})

    drift_spec = dg.AssetCheckSpec(
        DRIFT_CHECK,
        asset=dg.AssetKey([*prefix, "drift_report"]),
        blocking=True,
        description="No column drifted from the reference.",
    )

    @dg.asset(
        key_prefix=prefix,
        partitions_def=partitions,
        group_name=group,
        check_specs=[drift_spec],
        ins={"batch_profile": dg.AssetIn(key=batch_profile.key)},
        deps=[reference_profile],
        kinds={"json"},
        description="Per-column drift of the batch against the reference profile.",
    )
    def drift_report(
        context: dg.AssetExecutionContext, storage: SuiteStorage, batch_profile: driftguard.Profile
    ) -> Iterator[Any]:
        reference = _reference(dataset, storage)
        if reference is None:
            report = driftguard.DriftReport(
                {},
                False,
                0.05,
                0,
                batch_profile.rows,
                skipped={"all columns": "no reference yet (training batch)"},
            )
        else:
            report = driftguard.DriftDetector().fit(reference).score(batch_profile)
        scores = {c.column: round(c.statistic, 4) for c in report.columns.values() if c.statistic is not None}
        yield dg.Output(
            report,
            metadata={
                "drifted_columns": ", ".join(report.drifted_columns) or "none",
                "drift_share": report.drift_share,
                "columns": drift_table(report),
                **{f"effect/{name}": value for name, value in scores.items()},
            },
        )
        yield dg.AssetCheckResult(
            check_name=DRIFT_CHECK,
            passed=not report.drifted,
            metadata={
                "batch": context.partition_key,
                "drifted_columns": ", ".join(report.drifted_columns) or "none",
                "columns": drift_table(report),
                "report": dg.MetadataValue.md(report.to_markdown()),
            },
        )

    return [reference_profile, batch_profile, drift_report]


def _reference(dataset: DatasetConfig, storage: SuiteStorage) -> driftguard.Profile | None:
    files = storage.files
    key = [dataset.name, "reference_profile"]
    return files.read(key, None) if files.exists(key, None) else None
