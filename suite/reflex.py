"""The remediation step (write-audit-publish) and the sensor that launches it for failed checks."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import pandas as pd
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

import datareflex
import driftguard
import schemasense

from .approvals import AFTER_APPROVAL_TAG
from .drift import CHANGED_OVER_TIME, Reference, reference_for
from .metadata import latest_metadata
from .recovery import stranded_run_requests
from .schema import contract_metadata
from .settings import DatasetConfig
from .storage import SuiteStorage
from .training import training_frames

OUTPUTS = ("published_batch", "quarantine", "held_batch")
FAILED_CHECK_RUN_TAG = "dataops/failed_check_run"
ALERT_TAG = "dataops/alert"
DECISION_TAG = "dataops/decision"
ESCALATED_TAG = "dataops/escalated"
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
    descriptions = {
        "published_batch": "Rows that passed the contract, after remediation: the only rows consumers see.",
        "quarantine": "Every row removed from the batch, with the reason it was removed.",
        "held_batch": "Rows set aside for a person to decide on, with the reason.",
    }

    @dg.multi_asset(
        name=f"{dataset.name}_remediate",
        partitions_def=partitions,
        group_name=dataset.name,
        outs={
            name: dg.AssetOut(
                key=dg.AssetKey([*prefix, name]), description=descriptions[name], kinds={"pandas", "parquet"}
            )
            for name in OUTPUTS
        },
        ins={"raw_batch": dg.AssetIn(key=raw_batch.key), "drift_report": dg.AssetIn(key=drift_report.key)},
        deps=[validation],
        pool=REMEDIATION_POOL,
    )
    def remediate(
        context: dg.AssetExecutionContext,
        storage: SuiteStorage,
        raw_batch: pd.DataFrame,
        drift_report: driftguard.DriftReport,
    ) -> Iterator[dg.Output[pd.DataFrame]]:
        registry = storage.files.contracts()
        contract = _judged_by(context, dataset, registry)
        ledger = storage.files.ledger()
        try:
            reference_rows = _reference_rows(context, dataset, storage) if contract is not None else None
            outcome, signals = _handle(
                dataset,
                context.partition_key,
                raw_batch,
                contract,
                drift_report,
                ledger,
                reference_rows,
                reference_for(context, dataset, storage) if contract is not None else None,
                _anomalies(context, dataset),
            )
            trail = ledger.records(dataset.name, context.partition_key)
        finally:
            ledger.dispose()
        _tag_run(context, outcome)
        if contract is not None and outcome.contract.version > contract.version:
            stored = registry.save(outcome.contract)
            context.log_event(
                dg.AssetMaterialization(
                    asset_key=dg.AssetKey([*prefix, "contract"]),
                    metadata={
                        **contract_metadata(stored, previous=contract),
                        "evolved_by": context.partition_key,
                    },
                )
            )
        summary = {
            "rows_in": len(raw_batch),
            "rows_published": len(outcome.published),
            "rows_quarantined": len(outcome.quarantined),
            "rows_held": len(outcome.held),
            "drifted_columns": drift_report.drifted_columns,
            "schema_changes": datareflex.schema_changes(signals),
            "decision": outcome.decision.value,
            "actions": list(outcome.actions),
            "verified": outcome.verified,
            "signals": [_signal_summary(s) for s in signals],
        }
        yield dg.Output(
            outcome.published,
            output_name="published_batch",
            metadata={
                "outcome": dg.MetadataValue.json(summary),
                "decision": outcome.decision.value,
                "notes": dg.MetadataValue.md("\n".join(f"- {n}" for n in outcome.notes) or "none"),
                "ledger": dg.MetadataValue.md(_trail_markdown(trail)),
            },
        )
        for name, frame in (("quarantine", outcome.quarantined), ("held_batch", outcome.held)):
            reasons = frame[schemasense.REASON_COLUMN].value_counts().head(20) if len(frame) else pd.Series()
            yield dg.Output(
                frame,
                output_name=name,
                metadata={
                    "dagster/row_count": len(frame),
                    "reasons": dg.MetadataValue.md(
                        "\n".join(f"- {n} × {r}" for r, n in reasons.items()) or "none"
                    ),
                },
            )

    return remediate


def _signal_summary(signal: datareflex.Signal) -> dict[str, Any]:
    """What ``dataops run --json`` and the demo table show of a signal."""
    scope = getattr(signal, "scope", "batch" if signal.batch_level else "row")
    return {
        "kind": signal.kind.value,
        "column": signal.column,
        "rule": signal.rule,
        "scope": str(scope),
        "count": signal.count,
    }


def _tag_run(context: dg.AssetExecutionContext, outcome: datareflex.Outcome) -> None:
    """Put the decision, any alert and any escalation on the run: filterable in the runs list."""
    tags = {DECISION_TAG: outcome.decision.value}
    alerts = [note.removeprefix("alert: ") for note in outcome.notes if note.startswith("alert: ")]
    if alerts:
        tags[ALERT_TAG] = "; ".join(alerts)[:250]  # Dagster limits a tag's length
        context.log.warning("alert: " + "; ".join(alerts))
    if outcome.verified is False:  # escalate: rows are held, and people look at errors first
        tags[ESCALATED_TAG] = "unverified"
        context.log.error(
            f"remediation did not verify: {len(outcome.held)} rows held for a person; "
            + "; ".join(outcome.notes)[:500]
        )
    context.instance.add_run_tags(context.run_id, tags)


def _trail_markdown(trail: list[datareflex.Record]) -> str:
    """The ledger's records for this batch: signal → decision → action → outcome."""
    lines = ["| id | recorded | step | kind | what |", "|---:|---|---|---|---|"]
    lines += [f"| {r.id} | {r.recorded_at[:19]} | {r.step} | {r.kind} | {r.describe()} |" for r in trail]
    return "\n".join(lines)


def _handle(
    dataset: DatasetConfig,
    batch_id: str,
    raw: pd.DataFrame,
    contract: schemasense.Contract | None,
    drift_report: driftguard.DriftReport,
    ledger: datareflex.Ledger,
    reference_rows: pd.DataFrame | None = None,
    reference: Reference | None = None,
    anomalies: list[str] | None = None,
) -> tuple[datareflex.Outcome, list[datareflex.Signal]]:
    if contract is None:
        ledger.append(dataset.name, batch_id, "decision", "publish", {"reason": "training batch"})
        return datareflex.Outcome.untouched(raw), []
    signals = datareflex.sense(contract.validate(raw), drift_report, anomalies or [])
    reflex = datareflex.Reflex(datareflex.Policy.from_file(dataset.policy), ledger)
    outcome = reflex.handle(
        raw,
        signals,
        contract=contract,
        dataset=dataset.name,
        batch_id=batch_id,
        reference=reference.describe(dataset.name) if reference else f"{dataset.name}/reference_profile",
        reference_rows=reference_rows,
        reference_profile=reference.profile if reference else None,
    )
    return outcome, signals


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


def _reference_rows(
    context: dg.AssetExecutionContext, dataset: DatasetConfig, storage: SuiteStorage
) -> pd.DataFrame:
    """Up to 5,000 rows of the training window: known-good data that imputers learn from."""
    _, frames = training_frames(context.instance, dataset, storage.files)
    rows = pd.concat(frames, ignore_index=True)
    return rows.sample(n=5000, random_state=0) if len(rows) > 5000 else rows


def build_reflex_sensor(
    dataset: DatasetConfig, batch_job: Any, remediation_job: Any, check_keys: list[dg.AssetCheckKey]
) -> dg.SensorDefinition:
    """Launch the remediation job for every batch run whose checks failed.

    The cursor is the id of the last check execution judged. An execution still PLANNED in a
    running run stops the cursor there, so it is judged once its result is in.
    """

    @dg.sensor(
        name=f"{dataset.name}_reflex_sensor",
        job=remediation_job,
        minimum_interval_seconds=dataset.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Launches remediation for batches whose contract or drift checks failed.",
    )
    def reflex_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        after = int(context.cursor or 0)
        storage = context.instance.event_log_storage
        records = sorted(
            (r for key in check_keys for r in _history_after(storage, key, after)), key=lambda r: r.id
        )
        failed: dict[str, dict[str, Any]] = {}
        cursor = after
        runs = {r: context.instance.get_run_by_id(r) for r in {record.run_id for record in records}}
        for record in records:
            run = runs[record.run_id]
            if record.status is AssetCheckExecutionRecordStatus.PLANNED and (
                run is None or not run.is_finished
            ):
                break
            cursor = record.id
            if record.status is not AssetCheckExecutionRecordStatus.FAILED:
                continue
            partition = record.partition or (run.tags.get("dagster/partition") if run else None)
            if run is None or run.job_name != batch_job.name or partition is None:
                continue
            entry = failed.setdefault(record.run_id, {"partition": partition, "checks": []})
            entry["checks"].append(record.key.name)
        requests = [
            dg.RunRequest(
                run_key=f"remediate:{run_id}",
                partition_key=entry["partition"],
                tags={
                    FAILED_CHECK_RUN_TAG: run_id,
                    "dataops/failed_checks": ",".join(sorted(entry["checks"])),
                },
            )
            for run_id, entry in failed.items()
        ]
        requests += stranded_run_requests(context, f"{dataset.name}_reflex_sensor")
        return dg.SensorResult(run_requests=requests, cursor=str(cursor))

    return reflex_sensor


def _history_after(storage: Any, key: dg.AssetCheckKey, after: int) -> list[Any]:
    """Every execution of ``key`` with an id above ``after`` (the storage pages newest first)."""
    out: list[Any] = []
    page_cursor = None
    while True:
        page = storage.get_asset_check_execution_history(key, limit=100, cursor=page_cursor)
        fresh = [r for r in page if r.id > after]
        out += fresh
        if len(page) < 100 or len(fresh) < len(page):
            return out
        page_cursor = page[-1].id
