"""Assets of the drift side: the reference profile, each batch's profile and its drift report.

The training window's merged profile (``reference_profile``) is the reference of a ``fixed``
declaration, and the bins every other profile is cut on. A ``rolling`` or ``same_weekday``
declaration scores each batch against the merged profiles of earlier *published* batches (the
rows consumers saw), chosen by :func:`reference_batches`; with none yet, the training profile.
"""

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import dagster as dg
import pandas as pd

import driftguard
from suite.assets.metadata import drift_plots, drift_table
from suite.config import DatasetConfig
from suite.storage import IO_RETRY, SuiteStorage
from suite.storage.partitions import latest_published, partitions_name, training_frames, training_partitions
from suite.tags import APPROVAL_TAG

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
        metadata = {"batches": ", ".join(keys), "rows": profile.rows}
        return dg.Output(profile, metadata={**metadata, **({"approval": int(approval)} if approval else {})})

    @dg.asset(
        key_prefix=prefix,
        partitions_def=partitions,
        group_name=group,
        deps=[reference_profile],
        ins={"raw_batch": dg.AssetIn(key=raw_batch.key)},
        kinds={"json"},
        description="Exact counts of the batch on the training reference's bins.",
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
        description=f"Per-column drift of the batch against the {dataset.drift.reference} reference "
        f"(drift.reference in suite.yaml).",
    )
    def drift_report(
        context: dg.AssetExecutionContext, storage: SuiteStorage, batch_profile: driftguard.Profile
    ) -> Iterator[Any]:
        reference = reference_for(context, dataset, storage)
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
            detector = driftguard.DriftDetector(methods=dict(dataset.drift.methods) or None)
            report = detector.fit(reference.profile).score(batch_profile)
            report = replace(report, reference=reference.describe(dataset.name))
        judged_against = reference.metadata() if reference else {"reference": "none (training batch)"}
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
                **judged_against,
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
                **judged_against,
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


def _reference_batches(instance: dg.DagsterInstance, dataset: DatasetConfig) -> tuple[str, ...]:
    """The batches the stored reference profile was learned from (training, or a refresh)."""
    event = instance.get_latest_materialization_event(dg.AssetKey([dataset.name, "reference_profile"]))
    batches = (
        event.asset_materialization.metadata.get("batches") if event and event.asset_materialization else None
    )
    if batches is None:
        return tuple(training_partitions(instance, dataset))
    return tuple(b for b in str(batches.value).split(", ") if b)


def reference_for(
    context: dg.AssetExecutionContext, dataset: DatasetConfig, storage: SuiteStorage
) -> Reference | None:
    """The declared reference (``drift.reference``) for this partition, or ``None`` in training."""
    training = current_reference(dataset, storage)
    if training is None:
        return None
    fixed = Reference(training, "fixed", _reference_batches(context.instance, dataset))
    kind, window = dataset.drift.reference, dataset.drift.window
    if kind == "fixed":
        return fixed
    files = storage.files
    published = [dataset.name, "published_batch"]
    earlier = sorted(
        k
        for k in context.instance.get_dynamic_partitions(partitions_name(dataset))
        if k < context.partition_key and files.exists(published, k)
    )

    def landed_on(key: str) -> dt.date | None:
        return _landed_on(context.instance, dataset, key)

    day = landed_on(context.partition_key)
    chosen = reference_batches(kind, earlier, day, window, landed_on)
    profiles = {}
    for key in chosen:
        frame = files.read(published, key)
        if len(frame):  # a batch held or quarantined whole published no row
            columns = [c for c in frame.columns if c in training.columns]
            profiles[key] = driftguard.profile(frame[columns], like=training)
    if not profiles:
        return replace(
            fixed, note=f"no earlier published batch for a {kind} reference yet: the training window"
        )
    if kind == "rolling" or day is None:
        merged = driftguard.rolling(list(profiles.values()), window)
    else:  # several files may land on one day: one merged profile a day
        by_day: dict[dt.date, list[driftguard.Profile]] = {}
        for key, profile in profiles.items():
            by_day.setdefault(landed_on(key) or day, []).append(profile)
        days = {landed: driftguard.merge_all(group) for landed, group in by_day.items()}
        merged = driftguard.same_weekday(days, day, weeks=window)
    return Reference(merged, kind, tuple(profiles))


def reference_batches(
    kind: str,
    earlier: list[str],
    day: dt.date | None,
    window: int,
    landed_on: Callable[[str], dt.date | None],
) -> list[str]:
    """Which earlier published batches make the reference of a batch that landed on ``day``.

    ``rolling``: the last ``window``; ``same_weekday``: those that landed on the same weekday in
    the ``window`` weeks before (dates from :func:`batch_date`, else the day the file was read).

    >>> keys = [f"s_2026-11-{d:02d}.csv" for d in range(1, 22)]
    >>> reference_batches("rolling", keys, dt.date(2026, 11, 22), 3, batch_date)
    ['s_2026-11-19.csv', 's_2026-11-20.csv', 's_2026-11-21.csv']
    >>> reference_batches("same_weekday", keys, dt.date(2026, 11, 22), 2, batch_date)
    ['s_2026-11-08.csv', 's_2026-11-15.csv']
    """
    if kind == "rolling":
        return earlier[-window:]
    if day is None:
        return []
    wanted = {day - dt.timedelta(weeks=w) for w in range(1, window + 1)}
    return [key for key in earlier if landed_on(key) in wanted]


_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def batch_date(key: str) -> dt.date | None:
    """The date written in a batch's file name (``orders_2026-11-05.parquet``), if any.

    >>> batch_date("orders_2026-11-05.parquet"), batch_date("batch-7.csv")
    (datetime.date(2026, 11, 5), None)
    """
    found = _DATE.search(key)
    if found is None:
        return None
    try:
        return dt.date(*(int(part) for part in found.groups()))
    except ValueError:
        return None


def _landed_on(instance: dg.DagsterInstance, dataset: DatasetConfig, key: str) -> dt.date | None:
    """The date in the file name, else the day its raw batch was first stored."""
    named = batch_date(key)
    if named is not None:
        return named
    result = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey([dataset.name, "raw_batch"]), asset_partitions=[key]),
        limit=1,
        ascending=True,
    )
    if not result.records:
        return None
    return dt.datetime.fromtimestamp(result.records[0].timestamp, tz=dt.UTC).date()
