"""Assets of the drift side: the reference profile, each batch's profile and its drift report.

The training window's merged profile (``reference_profile``) is the reference of a ``fixed``
declaration, and the bins every other profile is cut on. A ``rolling`` or ``same_weekday``
declaration scores each batch against the merged profiles of earlier *published* batches (the
rows consumers saw), chosen by :func:`driftguard.reference_batches` among the batches that
landed before it; with none yet, the training profile.
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import dagster as dg
import pandas as pd

import driftguard
import schemasense
from suite.assets.history import metrics_history
from suite.assets.large import BATCH, profile_large
from suite.assets.metadata import drift_plots, drift_table
from suite.config import DatasetConfig
from suite.loop import declared_reference, drift_detector
from suite.scale import RowsOnDisk
from suite.scale.resource import DaskResource
from suite.storage import IO_MANAGER_KEY, IO_RETRY, SuiteStorage
from suite.storage.partitions import (
    landed_before,
    landing_record,
    latest_published,
    training_frames,
    training_partitions,
)
from suite.tags import APPROVAL_TAG

DRIFT_CHECK = "no_drift"


CHANGED_OVER_TIME = "changed_over_time"
"""Metadata of ``drift_report``: the batch metrics Page–Hinkley saw jump on this batch."""


@dataclass(frozen=True)
class Reference:
    """The profile a batch is scored against, and which batches it merges."""

    profile: driftguard.Profile
    kind: str
    batches: tuple[str, ...]
    note: str = ""

    def describe(self, dataset: str) -> str:
        """``orders/reference_profile`` (fixed), else ``orders: rolling of a.csv, b.csv``."""
        if self.kind == "fixed":
            return f"{dataset}/reference_profile"
        return f"{dataset}: {self.kind} of {', '.join(self.batches)}"

    def metadata(self) -> dict[str, Any]:
        out: dict[str, Any] = {"reference": self.kind, "reference_batches": ", ".join(self.batches)}
        if self.note:
            out["reference_note"] = self.note
        return out


def build_drift_assets(
    dataset: DatasetConfig, partitions: dg.PartitionsDefinition, raw_batch: Any
) -> list[Any]:
    reference_profile = _reference_profile_asset(dataset, raw_batch)
    batch_profile = _batch_profile_asset(dataset, partitions, raw_batch, reference_profile)
    drift_report = _drift_report_asset(dataset, partitions, batch_profile, reference_profile)
    return [reference_profile, batch_profile, drift_report]


def _reference_profile_asset(dataset: DatasetConfig, raw_batch: Any) -> dg.AssetsDefinition:
    @dg.asset(
        io_manager_key=IO_MANAGER_KEY,
        key_prefix=[dataset.name],
        deps=[raw_batch],
        group_name=dataset.name,
        kinds={"json"},
        retry_policy=IO_RETRY,
        description="Merged profile of the training window: the fixed drift reference, and the bins "
        "every batch is profiled on.",
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
        metadata: dict[str, Any] = {"batches": ", ".join(keys), "rows": profile.rows}
        return dg.Output(profile, metadata={**metadata, **({"approval": int(approval)} if approval else {})})

    return reference_profile


def _batch_profile_asset(
    dataset: DatasetConfig, partitions: dg.PartitionsDefinition, raw_batch: Any, reference_profile: Any
) -> dg.AssetsDefinition:
    @dg.asset(
        io_manager_key=IO_MANAGER_KEY,
        key_prefix=[dataset.name],
        partitions_def=partitions,
        group_name=dataset.name,
        deps=[reference_profile],
        ins={"raw_batch": dg.AssetIn(key=raw_batch.key, dagster_type=BATCH)},
        kinds={"json"},
        description="Exact counts of the batch on the training reference's bins.",
    )
    def batch_profile(
        context: dg.AssetExecutionContext,
        storage: SuiteStorage,
        dask: DaskResource,
        raw_batch: pd.DataFrame | RowsOnDisk,
    ) -> dg.Output[driftguard.Profile]:
        like = current_reference(dataset, storage)
        if isinstance(raw_batch, RowsOnDisk):
            assert like is not None  # raw_batch refuses a large batch before training
            profile = profile_large(storage, dataset, context.partition_key, raw_batch, like, dask)
        else:
            profile = driftguard.profile(raw_batch, like=like)
        return dg.Output(profile, metadata={"rows": profile.rows})

    return batch_profile


def _drift_report_asset(
    dataset: DatasetConfig, partitions: dg.PartitionsDefinition, batch_profile: Any, reference_profile: Any
) -> dg.AssetsDefinition:
    drift_spec = dg.AssetCheckSpec(
        DRIFT_CHECK,
        asset=dg.AssetKey([dataset.name, "drift_report"]),
        blocking=True,
        description="No column drifted from the reference.",
    )

    @dg.asset(
        io_manager_key=IO_MANAGER_KEY,
        key_prefix=[dataset.name],
        partitions_def=partitions,
        group_name=dataset.name,
        check_specs=[drift_spec],
        ins={"batch_profile": dg.AssetIn(key=batch_profile.key)},
        deps=[reference_profile],
        kinds={"json"},
        description=f"Per-column drift of the batch against the {dataset.drift.reference} reference "
        f"(drift.reference in suite.yaml).",
    )
    def drift_report(
        context: dg.AssetExecutionContext, storage: SuiteStorage, batch_profile: driftguard.Profile
    ) -> Iterator[Any]:
        reference = reference_for(context.instance, context.partition_key, dataset, storage)
        report = score(dataset, reference, batch_profile, storage.files.contracts().latest(dataset.name))
        history = metrics_history(context, dataset, storage, batch_profile)
        judged_against = reference.metadata() if reference else {"reference": "none (training batch)"}
        yield dg.Output(report, metadata={**judged_against, **report_metadata(report, history)})
        yield drift_check(context.partition_key, report, judged_against)

    return drift_report


def score(
    dataset: DatasetConfig,
    reference: Reference | None,
    batch_profile: driftguard.Profile,
    contract: schemasense.Contract | None,
) -> driftguard.DriftReport:
    """The batch's drift against ``reference`` with the declared methods, leaving out the columns
    the contract and the declaration exclude (:func:`suite.loop.drift_detector`); none for a
    training batch."""
    if reference is None:
        skipped = {"all columns": "no reference yet (training batch)"}
        return driftguard.DriftReport({}, False, 0.05, 0, batch_profile.rows, skipped=skipped)
    report = drift_detector(dataset, contract).fit(reference.profile).score(batch_profile)
    return replace(report, reference=reference.describe(dataset.name))


def report_metadata(report: driftguard.DriftReport, history: list[dict[str, float]]) -> dict[str, Any]:
    """What ``drift_report`` shows: drifted columns, effects, plots, this batch's metrics, and
    which of them Page–Hinkley saw jump (``history`` ends with this batch)."""
    now = len(history) - 1
    sudden = sorted(m for m, found in driftguard.watch(history).items() if now in found)
    effects = {
        f"effect/{c.column}": round(c.statistic, 4)
        for c in report.columns.values()
        if c.statistic is not None
    }
    joint = report.multivariate
    if joint is not None:  # the domain classifier's AUC, plotted over partitions like the effects
        effects["effect/(joint)"] = round(joint.auc, 4)
    return {
        "drifted_columns": ", ".join(report.drifted_columns) or "none",
        "drift_share": report.drift_share,
        "columns": drift_table(report),
        "plots": drift_plots(report),
        CHANGED_OVER_TIME: dg.MetadataValue.json(sudden),
        **effects,
        **{k: round(v, 6) for k, v in history[-1].items()},
    }


def drift_check(
    batch: str, report: driftguard.DriftReport, judged_against: dict[str, Any]
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=DRIFT_CHECK,
        passed=not report.drifted,
        metadata={
            "batch": batch,
            **judged_against,
            "drifted_columns": ", ".join(report.drifted_columns) or "none",
            "columns": drift_table(report),
            "report": dg.MetadataValue.md(report.to_markdown()),
            "plots": drift_plots(report),
        },
    )


def current_reference(dataset: DatasetConfig, storage: SuiteStorage) -> driftguard.Profile | None:
    files = storage.files
    key = [dataset.name, "reference_profile"]
    return files.read(key, None) if files.exists(key, None) else None


def _reference_batches(
    instance: dg.DagsterInstance, dataset: DatasetConfig, storage: SuiteStorage
) -> tuple[str, ...]:
    """The batches the stored reference profile was learned from (training, or a refresh)."""
    event = instance.get_latest_materialization_event(dg.AssetKey([dataset.name, "reference_profile"]))
    batches = (
        event.asset_materialization.metadata.get("batches") if event and event.asset_materialization else None
    )
    if batches is None:
        return tuple(training_partitions(instance, dataset, storage.files))
    return tuple(b for b in str(batches.value).split(", ") if b)


def reference_for(
    instance: dg.DagsterInstance, batch: str, dataset: DatasetConfig, storage: SuiteStorage
) -> Reference | None:
    """The declared reference (``drift.reference``) for ``batch``, or ``None`` in training."""
    training = current_reference(dataset, storage)
    if training is None:
        return None
    fixed = Reference(training, "fixed", _reference_batches(instance, dataset, storage))
    kind = dataset.drift.reference
    if kind == "fixed":
        return fixed
    files = storage.files
    published = [dataset.name, "published_batch"]
    earlier = [k for k in landed_before(instance, dataset, files, batch) if files.exists(published, k)]
    days = _batch_days(dataset, storage, [*earlier, batch])

    def published_profile(key: str) -> driftguard.Profile | None:  # none for a large batch
        frame = files.read(published, key)
        if not isinstance(frame, pd.DataFrame) or not len(frame):
            return None
        columns = [c for c in frame.columns if c in training.columns]
        return driftguard.profile(frame[columns], like=training)

    found = declared_reference(dataset, batch, earlier, days, published_profile)
    if found is None:
        return replace(
            fixed, note=f"no earlier published batch for a {kind} reference yet: the training window"
        )
    return Reference(found[0], kind, found[1])


def _batch_days(dataset: DatasetConfig, storage: SuiteStorage, keys: list[str]) -> dict[str, dt.date | None]:
    """The day of each batch: the date in its name (the day its data describes), else the day it
    landed."""
    landed = dict(landing_record(dataset, storage.files).landed())
    return {
        key: driftguard.batch_date(key) or (landed[key].date() if key in landed else None) for key in keys
    }
