"""A person's way out, as jobs: release a batch's held rows, close an open circuit breaker.

Both are launched from the Launchpad (``<dataset>_release_job`` with
``ops: {<dataset>_release: {config: {batch: ..., revalidate: true, by: ana}}}``; ``<dataset>_breaker_job``
with ``ops: {<dataset>_close_breaker: {config: {by: ana}}}``) or by ``dataops release`` and
``dataops breaker close``, which run the same jobs in process. Each is written to the ledger
with who did it and shows on the ``<dataset>/approvals`` asset.
"""

from typing import Any

import dagster as dg
import pandas as pd

import datareflex
import schemasense
from suite.assets.approvals import approvals_key, approvals_metadata
from suite.assets.metadata import latest_metadata, redacted
from suite.config import DatasetConfig
from suite.jobs.approvals import one_op_job
from suite.storage import BatchStorage, SuiteStorage
from suite.storage.tables import publish_batch


class ReleaseRequest(dg.Config):
    """Which batch's held rows to release, and whether the contract judges them again first."""

    batch: str
    revalidate: bool = False
    by: str = "dagster-ui"


class BreakerRequest(dg.Config):
    """Who closes the circuit breaker."""

    by: str = "dagster-ui"


def build_release_job(dataset: DatasetConfig) -> dg.JobDefinition:
    @dg.op(name=f"{dataset.name}_release", description="Publish a batch's held rows (revalidated if asked).")
    def release(context: dg.OpExecutionContext, config: ReleaseRequest, storage: SuiteStorage) -> None:
        files = storage.files
        held_path = [dataset.name, "held_batch"]
        if not files.exists(held_path, config.batch):
            raise dg.Failure(f"{dataset.name}: no rows of batch {config.batch!r} are held")
        held = files.read(held_path, config.batch)
        if not isinstance(held, pd.DataFrame):  # a large batch: its rows stay on disk
            raise dg.Failure(
                f"{dataset.name}: batch {config.batch!r} is larger than dask.threshold_rows; its "
                f"{held.rows:,} held rows are Parquet files in {held.path}, and a release reads "
                "held rows whole: read them from there"
            )
        if not len(held):
            raise dg.Failure(f"{dataset.name}: batch {config.batch!r} has no held rows left")
        ledger = files.ledger()
        try:
            contract = _judged_by(files.contracts(), ledger, dataset.name, config.batch)
            outcome = datareflex.release(
                ledger,
                dataset.name,
                config.batch,
                held,
                contract=contract,
                by=config.by,
                revalidate=config.revalidate,
            )
            events = _released(context.instance, dataset, files, config.batch, outcome)
            events.append(_approvals_observation(dataset, ledger))
        finally:
            ledger.dispose()
        for event in events:
            context.log_event(event)
        context.log.info(datareflex.redact(outcome.notes[0]))

    description = "Release a batch's held rows: set batch, revalidate and by."
    return one_op_job(f"{dataset.name}_release_job", description, release)


def build_breaker_job(dataset: DatasetConfig) -> dg.JobDefinition:
    @dg.op(name=f"{dataset.name}_close_breaker", description="Close the dataset's circuit breaker.")
    def close_breaker(context: dg.OpExecutionContext, config: BreakerRequest, storage: SuiteStorage) -> None:
        ledger = storage.files.ledger()
        try:
            record = datareflex.close_breaker(ledger, dataset.name, by=config.by)
            context.log_event(_approvals_observation(dataset, ledger))
        finally:
            ledger.dispose()
        context.log.info(datareflex.redact(f"{dataset.name}: {record.detail['reason']}"))

    return one_op_job(f"{dataset.name}_breaker_job", "Close the circuit breaker: set by.", close_breaker)


def _released(
    instance: dg.DagsterInstance,
    dataset: DatasetConfig,
    files: BatchStorage,
    batch: str,
    outcome: datareflex.Outcome,
) -> list[Any]:
    """Add the released rows to the batch's published and quarantined rows; nothing stays held."""
    published = _extended(files, [dataset.name, "published_batch"], batch, outcome.published)
    quarantined = _extended(files, [dataset.name, "quarantine"], batch, outcome.quarantined)
    held = outcome.held
    counts = {"published_batch": published, "quarantine": quarantined, "held_batch": held}
    summary = dict(_previous_outcome(instance, dataset, batch))
    summary.update(
        rows_published=len(published),
        rows_quarantined=len(quarantined),
        rows_held=len(held),
        decision=outcome.decision.value,
        verified=outcome.verified,
    )
    # The target table (if any) first: if writing it fails, the stored rows stay as they were.
    target = publish_batch(dataset, batch, published)
    events = []
    for name, frame in counts.items():
        files.write([dataset.name, name], batch, frame)
        metadata: dict[str, Any] = {"dagster/row_count": len(frame), "released": outcome.notes[0]}
        if name == "published_batch":
            metadata["outcome"] = dg.MetadataValue.json(summary)
            metadata.update(target)
        events.append(
            dg.AssetMaterialization(
                asset_key=dg.AssetKey([dataset.name, name]), partition=batch, metadata=redacted(metadata)
            )
        )
    return events


def _judged_by(
    registry: schemasense.ContractRegistry, ledger: datareflex.Ledger, dataset: str, batch: str
) -> schemasense.Contract | None:
    """The contract version the batch was handled under (a later one may judge other columns)."""
    handled = ledger.records(dataset, batch, steps=["outcome"], last=1)
    version = handled[0].contract_version if handled else None
    if version is not None and version in registry.versions(dataset):
        return registry.get(dataset, version)
    return registry.latest(dataset)


def _extended(files: BatchStorage, path: list[str], batch: str, rows: pd.DataFrame) -> pd.DataFrame:
    if not files.exists(path, batch):
        return rows
    return pd.concat([files.read(path, batch), rows], ignore_index=True)


def _previous_outcome(instance: dg.DagsterInstance, dataset: DatasetConfig, batch: str) -> dict[str, Any]:
    found = latest_metadata(instance, dg.AssetKey([dataset.name, "published_batch"]), batch).get("outcome")
    return dict(found.value) if isinstance(found, dg.JsonMetadataValue) and found.value else {}


def _approvals_observation(dataset: DatasetConfig, ledger: datareflex.Ledger) -> dg.AssetObservation:
    return dg.AssetObservation(
        asset_key=approvals_key(dataset),
        metadata=approvals_metadata(ledger.approvals(dataset.name), person_actions(ledger, dataset.name)),
    )


def person_actions(ledger: datareflex.Ledger, dataset: str) -> list[datareflex.Record]:
    """The latest releases and breaker closures of ``dataset``, oldest first."""
    return ledger.records(dataset, steps=["decision"], kinds=["released", "breaker_closed"], last=50)
