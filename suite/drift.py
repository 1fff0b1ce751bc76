"""Assets of the drift side: the reference profile, each batch's profile and its drift report."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import pandas as pd

import driftguard

from .approvals import APPROVAL_TAG
from .metadata import drift_plots, drift_table
from .settings import DatasetConfig
from .storage import SuiteStorage
from .training import latest_published, partitions_name, training_frames

DRIFT_CHECK = "no_drift"
HISTORY = 60
"""Earlier partitions whose metrics the Page–Hinkley watch replays for each batch."""


CHANGED_OVER_TIME = "changed_over_time"
"""Metadata of ``drift_report``: the batch metrics Page–Hinkley saw jump on this batch."""


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
        approval = context.run.tags.get(APPROVAL_TAG)
        if approval is None:
            keys, frames = training_frames(context.instance, dataset, storage.files)
        else:  # a person approved a refresh: learn what normal is now from the latest published batches
            keys, frames = latest_published(context.instance, dataset, storage.files)
        profile = driftguard.profile(pd.concat(frames, ignore_index=True))
        metadata = {"batches": ", ".join(keys), "rows": profile.rows}
        return dg.Output(profile, metadata={**metadata, **({"approval": int(approval)} if approval else {})})

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
        reference = current_reference(dataset, storage)
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
        reference = current_reference(dataset, storage)
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
        history = _history(context, dataset, storage, batch_profile)
        now = len(history) - 1
        sudden = sorted(m for m, found in driftguard.watch(history).items() if now in found)
        effects = {
            f"effect/{c.column}": round(c.statistic, 4)
            for c in report.columns.values()
            if c.statistic is not None
        }
        numbers = {k: round(v, 6) for k, v in history[-1].items()}
        yield dg.Output(
            report,
            metadata={
                "drifted_columns": ", ".join(report.drifted_columns) or "none",
                "drift_share": report.drift_share,
                "columns": drift_table(report),
                "plots": drift_plots(report),
                CHANGED_OVER_TIME: dg.MetadataValue.json(sudden),
                **effects,
                **numbers,
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
                "plots": drift_plots(report),
            },
        )

    return [reference_profile, batch_profile, drift_report]


def _history(
    context: dg.AssetExecutionContext,
    dataset: DatasetConfig,
    storage: SuiteStorage,
    current: driftguard.Profile,
) -> list[dict[str, float]]:
    """Batch metrics of up to ``HISTORY`` earlier partitions (in landing order), then of this one."""
    files = storage.files
    earlier = sorted(
        k
        for k in context.instance.get_dynamic_partitions(partitions_name(dataset))
        if k < context.partition_key
    )
    key = [dataset.name, "batch_profile"]
    profiles = [files.read(key, k) for k in earlier[-HISTORY:] if files.exists(key, k)]
    return [driftguard.batch_metrics(p) for p in [*profiles, current]]


def current_reference(dataset: DatasetConfig, storage: SuiteStorage) -> driftguard.Profile | None:
    files = storage.files
    key = [dataset.name, "reference_profile"]
    return files.read(key, None) if files.exists(key, None) else None
