"""The remediation step: write-audit-publish of one batch through the loop (datareflex.handle_batch)."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import pandas as pd

import datareflex
import driftguard
import schemasense
from suite.assets.drift import CHANGED_OVER_TIME, reference_for
from suite.assets.large import BATCH, reasons, remediate_large, work_folder
from suite.assets.metadata import latest_metadata, redacted
from suite.assets.schema import contract_metadata
from suite.config import DatasetConfig
from suite.loop import event_time, imputer_rows, read_policy, signal_summary
from suite.scale import RowsOnDisk, iter_chunks
from suite.scale.resource import DaskResource
from suite.storage import IO_MANAGER_KEY, SuiteStorage
from suite.storage.partitions import landing_record, training_frames
from suite.storage.tables import publish_batch
from suite.tags import AFTER_APPROVAL_TAG, ALERT_TAG, DECISION_TAG, ESCALATED_TAG

OUTPUTS = {
    "published_batch": "Rows that passed the contract, after remediation: the only rows consumers see.",
    "quarantine": "Every row removed from the batch, with the reason it was removed.",
    "held_batch": "Rows set aside for a person to decide on, with the reason.",
}
REMEDIATION_POOL = "dataops_remediation"
"""Remediation steps share one concurrency pool (``dagster instance concurrency set`` limits it)."""


def build_remediation(
    dataset: DatasetConfig,
    partitions: dg.PartitionsDefinition,
    raw_batch: Any,
    validation: Any,
    drift_report: Any,
) -> Any:
    prefix = [dataset.name]

    @dg.multi_asset(
        name=f"{dataset.name}_remediate",
        partitions_def=partitions,
        group_name=dataset.name,
        outs={
            name: dg.AssetOut(
                key=dg.AssetKey([*prefix, name]),
                io_manager_key=IO_MANAGER_KEY,
                description=about,
                kinds={"pandas", "parquet"},
                dagster_type=BATCH,
            )
            for name, about in OUTPUTS.items()
        },
        ins={
            "raw_batch": dg.AssetIn(key=raw_batch.key, dagster_type=BATCH),
            "drift_report": dg.AssetIn(key=drift_report.key),
        },
        deps=[validation],
        pool=REMEDIATION_POOL,
    )
    def remediate(
        context: dg.AssetExecutionContext,
        storage: SuiteStorage,
        dask: DaskResource,
        raw_batch: pd.DataFrame | RowsOnDisk,
        drift_report: driftguard.DriftReport,
    ) -> Iterator[dg.Output[Any]]:
        judged_by = _judged_by(context, dataset, storage.files.contracts())
        rows: dict[str, pd.DataFrame | RowsOnDisk]
        if isinstance(raw_batch, RowsOnDisk):
            assert judged_by is not None  # raw_batch refuses a large batch before the contract
            large, rows, trail = _handle_large(
                context, dataset, storage, dask, raw_batch, judged_by, drift_report
            )
            outcome: datareflex.Outcome | datareflex.PartsOutcome = large
        else:
            outcome, trail = _handle(context, dataset, storage, raw_batch, judged_by, drift_report)
            rows = {"published_batch": outcome.published, "quarantine": outcome.quarantined}
            rows["held_batch"] = outcome.held
        _tag_run(context, outcome)
        _store_evolution(context, dataset, storage, judged_by, outcome)
        written = publish_batch(dataset, context.partition_key, rows["published_batch"])  # target: table
        context.add_output_metadata(written, "published_batch")
        yield from _outputs(outcome, rows, drift_report, trail)

    return remediate


def _tag_run(
    context: dg.AssetExecutionContext, outcome: datareflex.Outcome | datareflex.PartsOutcome
) -> None:
    """Put the decision, any alert and any escalation on the run: filterable in the runs list."""
    tags = {DECISION_TAG: outcome.decision.value}
    notes = datareflex.redact(list(outcome.notes))
    alerts = [note.removeprefix("alert: ") for note in notes if note.startswith("alert: ")]
    if alerts:
        tags[ALERT_TAG] = "; ".join(alerts)[:250]  # Dagster limits a tag's length
        context.log.warning("alert: " + "; ".join(alerts))
    if outcome.verified is False:  # escalate: rows are held, and people look at errors first
        tags[ESCALATED_TAG] = "unverified"
        context.log.error(
            f"remediation did not verify: {outcome.summary()['rows_held']} rows held for a person; "
            + "; ".join(notes)[:500]
        )
    context.instance.add_run_tags(context.run_id, tags)


def _trail_markdown(trail: list[datareflex.Record]) -> str:
    """The ledger's records for this batch: signal → decision → action → outcome."""
    lines = ["| id | recorded | step | kind | what |", "|---:|---|---|---|---|"]
    lines += [f"| {r.id} | {r.recorded_at[:19]} | {r.step} | {r.kind} | {r.describe()} |" for r in trail]
    return "\n".join(lines)


def _handle(
    context: dg.AssetExecutionContext,
    dataset: DatasetConfig,
    storage: SuiteStorage,
    raw: pd.DataFrame,
    contract: schemasense.Contract | None,
    drift_report: driftguard.DriftReport,
) -> tuple[datareflex.Outcome, list[datareflex.Record]]:
    """Sense, decide, act and verify (:func:`datareflex.handle_batch`), with the declared pieces
    of :mod:`suite.loop`; a training batch (no contract yet) is published as it is."""
    key = context.partition_key
    ledger = storage.files.ledger()
    try:
        if contract is None:
            ledger.append(dataset.name, key, "decision", "publish", {"reason": "training batch"})
            outcome = datareflex.Outcome.untouched(raw)
        else:
            loop = _loop_inputs(context, dataset, storage, ledger, drift_report)
            outcome = datareflex.handle_batch(raw, contract=schemasense.settle(contract, raw), **loop)
        return outcome, ledger.records(dataset.name, key)
    finally:
        ledger.dispose()


def _handle_large(
    context: dg.AssetExecutionContext,
    dataset: DatasetConfig,
    storage: SuiteStorage,
    dask: DaskResource,
    raw: RowsOnDisk,
    contract: schemasense.Contract,
    drift_report: driftguard.DriftReport,
) -> tuple[datareflex.PartsOutcome, dict[str, pd.DataFrame | RowsOnDisk], list[datareflex.Record]]:
    """:func:`_handle` for a batch kept on disk: the loop chunk by chunk on its scan's verdict."""
    key = context.partition_key
    scan = storage.files.read([dataset.name, "validation"], key)
    ledger = storage.files.ledger()
    try:
        loop = _loop_inputs(context, dataset, storage, ledger, drift_report)
        folder = work_folder(storage, dataset, key)
        settled = _settled_in_chunks(contract, raw, dask.chunk_rows)
        outcome, written, workers = remediate_large(folder, raw, scan, settled, dask, **loop)
        context.log.info(f"remediated in parts on {', '.join(workers) or 'this process'}")
        rows = {"published_batch": written["published"], "quarantine": written["quarantine"]}
        rows["held_batch"] = written["held"]
        context.add_output_metadata({"workers": ", ".join(workers) or "this process"}, "published_batch")
        return outcome, dict(rows), ledger.records(dataset.name, key)
    finally:
        ledger.dispose()


def _settled_in_chunks(
    contract: schemasense.Contract, raw: RowsOnDisk, chunk_rows: int
) -> schemasense.Contract:
    """:func:`schemasense.settle` over every chunk (it only rules formats out, so chunk after
    chunk settles what the whole batch would); no pass when no date format is open."""
    if all(len(c.datetime_candidates) < 2 for c in contract.columns.values()):
        return contract
    for chunk in iter_chunks(raw.path, chunk_rows, contract):
        contract = schemasense.settle(contract, chunk.frame)
    return contract


def _loop_inputs(
    context: dg.AssetExecutionContext,
    dataset: DatasetConfig,
    storage: SuiteStorage,
    ledger: datareflex.Ledger,
    drift_report: driftguard.DriftReport,
) -> dict[str, Any]:
    """What the loop is told besides the batch: policy, ledger, drift, reference, event time."""
    key = context.partition_key
    reference = reference_for(context.instance, context.partition_key, dataset, storage)
    return {
        "policy": read_policy(dataset),
        "ledger": ledger,
        "dataset": dataset.name,
        "batch_id": key,
        "drift_report": drift_report,
        "anomalies": _anomalies(context, dataset),
        "reference": reference.describe(dataset.name) if reference else None,
        "reference_rows": imputer_rows(training_frames(context.instance, dataset, storage.files)[1]),
        "reference_profile": reference.profile if reference else None,
        "event_time": event_time(key, landing_record(dataset, storage.files).landed_at(key)),
    }


def _store_evolution(
    context: dg.AssetExecutionContext,
    dataset: DatasetConfig,
    storage: SuiteStorage,
    judged_by: schemasense.Contract | None,
    outcome: datareflex.Outcome | datareflex.PartsOutcome,
) -> None:
    """A new contract version (an accepted change, a settled date format) is stored only with a
    batch published under it (not one held for a person), as a compare-and-swap on the version
    it was judged by: a version another batch stored meanwhile keeps its changes."""
    evolved = outcome.contract
    if judged_by is None or evolved is None or evolved.version <= judged_by.version:
        return
    if not outcome.summary()["rows_published"] or outcome.decision is datareflex.Decision.HOLD:
        return  # nothing was published under it, or a person still has to decide
    stored = storage.files.contracts().save(evolved, based_on=judged_by)
    metadata = {**contract_metadata(stored, previous=judged_by), "evolved_by": context.partition_key}
    key = dg.AssetKey([dataset.name, "contract"])
    context.log_event(dg.AssetMaterialization(asset_key=key, metadata=metadata))


def _outputs(
    outcome: datareflex.Outcome | datareflex.PartsOutcome,
    rows: dict[str, pd.DataFrame | RowsOnDisk],
    drift_report: driftguard.DriftReport,
    trail: list[datareflex.Record],
) -> Iterator[dg.Output[Any]]:
    """``published_batch`` with the outcome and the ledger trail; ``quarantine`` and
    ``held_batch`` with their reasons. ``rows``: each output's frame, or its rows on disk."""
    summary = {
        **{k: v for k, v in outcome.summary().items() if k.startswith("rows_")},
        "drifted_columns": drift_report.drifted_columns,
        "schema_changes": datareflex.schema_changes(outcome.signals),
        "decision": outcome.decision.value,
        "actions": list(outcome.actions),
        "verified": outcome.verified,
        "signals": [signal_summary(s) for s in outcome.signals],
    }
    yield dg.Output(
        rows["published_batch"],
        output_name="published_batch",
        metadata=redacted(
            {
                "outcome": dg.MetadataValue.json(summary),
                "decision": outcome.decision.value,
                "notes": dg.MetadataValue.md("\n".join(f"- {n}" for n in outcome.notes) or "none"),
                "ledger": dg.MetadataValue.md(_trail_markdown(trail)),
            }
        ),
    )
    for name in ("quarantine", "held_batch"):
        listed = "\n".join(f"- {n} × {r}" for r, n in _reasons(rows[name])) or "none"
        yield dg.Output(
            rows[name],
            output_name=name,
            metadata=redacted(
                {"dagster/row_count": _count(rows[name]), "reasons": dg.MetadataValue.md(listed)}
            ),
        )


def _reasons(rows: pd.DataFrame | RowsOnDisk) -> list[tuple[str, int]]:
    """The 20 most frequent reasons of removed or held rows."""
    if isinstance(rows, RowsOnDisk):
        return reasons(rows) if rows.rows else []
    counted = rows[schemasense.REASON_COLUMN].value_counts().head(20) if len(rows) else pd.Series()
    return [(str(reason), int(n)) for reason, n in counted.items()]


def _count(rows: pd.DataFrame | RowsOnDisk) -> int:
    return rows.rows if isinstance(rows, RowsOnDisk) else len(rows)


def _judged_by(
    context: dg.AssetExecutionContext, dataset: DatasetConfig, registry: schemasense.ContractRegistry
) -> schemasense.Contract | None:
    """The contract this batch's checks used: a later version (another batch's evolution) must
    not judge it. After a person approved a change for this batch, the newest version."""
    if AFTER_APPROVAL_TAG in context.run.tags:
        return registry.latest(dataset.name)
    validation = dg.AssetKey([dataset.name, "validation"])
    version = latest_metadata(context.instance, validation, context.partition_key).get("contract_version")
    if isinstance(version, dg.IntMetadataValue) and version.value in registry.versions(dataset.name):
        return registry.get(dataset.name, version.value)
    return registry.latest(dataset.name)


def _anomalies(context: dg.AssetExecutionContext, dataset: DatasetConfig) -> list[str]:
    """The batch metrics that the drift step's Page–Hinkley watch saw jump on this batch."""
    report = dg.AssetKey([dataset.name, "drift_report"])
    found = latest_metadata(context.instance, report, context.partition_key).get(CHANGED_OVER_TIME)
    return list(found.value) if isinstance(found, dg.JsonMetadataValue) and found.value else []
