"""Approvals in Dagster: shown on an asset, decided from the Launchpad, carried out once granted.

The reflex records a request in the ledger for each risky action (refresh the drift reference,
retrain the model, roll a batch back). This module puts those requests where a Dagster user
looks and acts on the answers:

- ``<dataset>/approvals`` is an observable asset: the approvals sensor records an observation
  with the table of requests whenever one is made or decided;
- ``<dataset>_approval_job`` grants or refuses one from the UI's Launchpad
  (``ops: {decide: {config: {request: 7, grant: true, by: ana}}}``), like ``dataops approve 7``;
- for each granted request, the sensor launches the run that carries it out, tagged with the
  request's id, and marks the request done in the ledger once that run succeeded.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg

import datareflex
import schemasense
from datareflex import ActionKind

from .metadata import approvals_table
from .recovery import stranded_run_requests
from .schema import contract_metadata
from .settings import DatasetConfig
from .storage import BatchStorage, SuiteStorage

APPROVAL_TAG = "dataops/approval"
AFTER_APPROVAL_TAG = "dataops/after_approval"


class ApprovalDecision(dg.Config):
    """Grant or refuse one approval request (its id is in ``dataops approvals`` and on the asset)."""

    request: int
    grant: bool
    by: str = "dagster-ui"


def approvals_key(dataset: DatasetConfig) -> dg.AssetKey:
    return dg.AssetKey([dataset.name, "approvals"])


def build_approvals_spec(dataset: DatasetConfig) -> dg.AssetSpec:
    return dg.AssetSpec(
        approvals_key(dataset),
        group_name=dataset.name,
        kinds={"sqlite"},
        description=(
            "Requests for a person's approval (reference refresh, retraining, rollback) and their "
            f"answers. Grant or refuse one with `dataops approve ID` / `dataops reject ID`, or by "
            f"launching `{dataset.name}_approval_job` from the Launchpad."
        ),
    )


def build_approval_job(dataset: DatasetConfig) -> dg.JobDefinition:
    @dg.op(name="decide", description="Record a person's answer to an approval request in the ledger.")
    def decide(context: dg.OpExecutionContext, config: ApprovalDecision, storage: SuiteStorage) -> None:
        ledger = storage.files.ledger()
        try:
            known = {a.id: a for a in ledger.approvals(dataset.name)}
            if config.request not in known:
                raise dg.Failure(f"no approval request {config.request} for dataset {dataset.name!r}")
            try:
                answer = ledger.decide(config.request, config.grant, by=config.by)
            except ValueError as exc:
                raise dg.Failure(str(exc)) from None
        finally:
            ledger.dispose()
        context.log.info(f"request {answer.id} ({answer.action} on {answer.batch}) {answer.status}")

    return _one_op_job(
        f"{dataset.name}_approval_job",
        "Grant or refuse an approval request: set request, grant (true/false) and by.",
        decide,
    )


def build_rollback_job(dataset: DatasetConfig) -> dg.JobDefinition:
    published = dg.AssetKey([dataset.name, "published_batch"])

    @dg.op(name="roll_back", description="Publish again the last good version of the batch.")
    def roll_back(context: dg.OpExecutionContext, storage: SuiteStorage) -> None:
        approval = _carried_out_by(context, dataset, storage)
        restored = storage.files.restore_previous(list(published.path), approval.batch)
        if restored is None:
            context.log.warning(f"{approval.batch}: no earlier published version; its rows stay held")
            return
        frame = storage.files.read(list(published.path), approval.batch)
        context.log_event(
            dg.AssetMaterialization(
                asset_key=published,
                partition=approval.batch,
                metadata={
                    "dagster/row_count": len(frame),
                    "rolled_back_to": restored.name,
                    "approval": approval.id,
                },
            )
        )

    return _one_op_job(
        f"{dataset.name}_rollback_job",
        "Carry out a granted rollback: the batch's last good published version returns.",
        roll_back,
    )


def build_contract_change_job(dataset: DatasetConfig) -> dg.JobDefinition:
    contract_key = dg.AssetKey([dataset.name, "contract"])

    @dg.op(
        name="change_contract", description="Accept the batch's breaking changes as a new contract version."
    )
    def change_contract(context: dg.OpExecutionContext, storage: SuiteStorage) -> None:
        approval = _carried_out_by(context, dataset, storage)
        registry = storage.files.contracts()
        current = registry.latest(dataset.name)
        if current is None:
            raise dg.Failure(f"dataset {dataset.name!r} has no contract to change")
        batch = storage.files.read([dataset.name, "raw_batch"], approval.batch)
        policy = schemasense.EvolutionPolicy(accept_breaking=True)
        evolved = schemasense.evolve(current, batch, policy).contract
        if dataset.keys:
            evolved = evolved.with_keys(dataset.keys)
        if evolved.version == current.version:
            context.log.info(f"{approval.batch}: nothing to change in contract v{current.version}")
            return
        stored = registry.save(evolved)
        context.log_event(
            dg.AssetMaterialization(
                asset_key=contract_key,
                metadata={**contract_metadata(stored, previous=current), "approval": approval.id},
            )
        )

    return _one_op_job(
        f"{dataset.name}_contract_change_job",
        "Carry out a granted contract change; the batch is then remediated again.",
        change_contract,
    )


def build_approvals_sensor(
    dataset: DatasetConfig, storage_root: str, jobs: Mapping[ActionKind, Any], remediation_job: Any
) -> dg.SensorDefinition:
    """Show the requests on the approvals asset; carry out granted ones; mark them done.

    A batch whose rows waited on a contract change is remediated again once the change is made.
    """

    @dg.sensor(
        name=f"{dataset.name}_approvals_sensor",
        jobs=[*jobs.values(), remediation_job],
        minimum_interval_seconds=dataset.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Shows approval requests in the UI and carries out the granted ones.",
    )
    def approvals_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        ledger = BatchStorage(storage_root).ledger()
        try:
            requests: list[dg.RunRequest] = []
            approvals = ledger.approvals(dataset.name)
            for index, approval in enumerate(approvals):
                job = jobs.get(ActionKind(approval.action)) if approval.status == "granted" else None
                if job is None:
                    continue
                runs = context.instance.get_runs(dg.RunsFilter(tags={APPROVAL_TAG: str(approval.id)}))
                done = [r for r in runs if r.status is dg.DagsterRunStatus.SUCCESS]
                if done:
                    notes = [f"{job.name} run {done[0].run_id} succeeded"]
                    approvals[index] = ledger.carried_out(approval.id, notes)
                    if approval.action == ActionKind.CHANGE_CONTRACT.value:
                        requests.append(
                            dg.RunRequest(
                                run_key=f"approval:{approval.id}:remediate",
                                job_name=remediation_job.name,
                                partition_key=approval.batch,
                                tags={AFTER_APPROVAL_TAG: str(approval.id)},
                            )
                        )
                    continue
                partition = approval.batch if approval.action == ActionKind.ROLLBACK.value else None
                requests.append(
                    dg.RunRequest(
                        run_key=f"approval:{approval.id}",
                        job_name=job.name,
                        partition_key=partition if job.partitions_def is not None else None,
                        tags={APPROVAL_TAG: str(approval.id)},
                    )
                )
        finally:
            ledger.dispose()
        seen = ";".join(f"{a.id}:{a.status}" for a in approvals)
        events = []
        if seen != (context.cursor or ""):
            events.append(
                dg.AssetObservation(asset_key=approvals_key(dataset), metadata=approvals_metadata(approvals))
            )
        requests += stranded_run_requests(context, f"{dataset.name}_approvals_sensor")
        return dg.SensorResult(run_requests=requests, asset_events=events, cursor=seen)

    return approvals_sensor


def _carried_out_by(
    context: dg.OpExecutionContext, dataset: DatasetConfig, storage: SuiteStorage
) -> datareflex.Approval:
    """The granted request this run carries out: its id is the run's approval tag."""
    request = int(context.run.tags[APPROVAL_TAG])
    ledger = storage.files.ledger()
    try:
        return next(a for a in ledger.approvals(dataset.name) if a.id == request)
    finally:
        ledger.dispose()


def _one_op_job(name: str, description: str, op: dg.OpDefinition) -> dg.JobDefinition:
    @dg.job(name=name, description=description, executor_def=dg.in_process_executor)
    def job() -> None:
        op()

    return job


def approvals_metadata(approvals: list[datareflex.Approval]) -> dict[str, Any]:
    return {
        "pending": sum(a.status == "requested" for a in approvals),
        "requests": approvals_table(approvals[-200:]),
    }
