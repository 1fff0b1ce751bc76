"""Jobs a person launches or the approvals sensor launches for them.

- ``<dataset>_approval_job`` grants or refuses a request from the Launchpad
  (``ops: {<dataset>_decide: {config: {request: 7, grant: true, by: ana}}}``), like ``dataops approve 7``;
- ``<dataset>_rollback_job`` and ``<dataset>_contract_change_job`` carry out a granted rollback
  or contract change (the reference refresh and retraining are asset jobs);
each carried-out run carries the request's id in its ``dataops/approval`` tag.
"""

import dagster as dg
import pandas as pd

import datareflex
import schemasense
from suite.assets.schema import contract_metadata
from suite.config import DatasetConfig
from suite.storage import SuiteStorage
from suite.tags import APPROVAL_TAG


class ApprovalDecision(dg.Config):
    """Grant or refuse one approval request (its id is in ``dataops approvals`` and on the asset)."""

    request: int
    grant: bool
    by: str = "dagster-ui"


def build_approval_job(dataset: DatasetConfig) -> dg.JobDefinition:
    @dg.op(
        name=f"{dataset.name}_decide",
        description="Record a person's answer to an approval request in the ledger.",
    )
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

    return one_op_job(
        f"{dataset.name}_approval_job",
        "Grant or refuse an approval request: set request, grant (true/false) and by.",
        decide,
    )


def build_rollback_job(dataset: DatasetConfig) -> dg.JobDefinition:
    published = dg.AssetKey([dataset.name, "published_batch"])

    @dg.op(name=f"{dataset.name}_roll_back", description="Publish again the last good version of the batch.")
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

    return one_op_job(
        f"{dataset.name}_rollback_job",
        "Carry out a granted rollback: the batch's last good published version returns.",
        roll_back,
    )


def build_contract_change_job(dataset: DatasetConfig) -> dg.JobDefinition:
    contract_key = dg.AssetKey([dataset.name, "contract"])

    @dg.op(
        name=f"{dataset.name}_change_contract",
        description="Accept the batch's breaking changes as a new contract version.",
    )
    def change_contract(context: dg.OpExecutionContext, storage: SuiteStorage) -> None:
        approval = _carried_out_by(context, dataset, storage)
        registry = storage.files.contracts()
        current = registry.latest(dataset.name)
        if current is None:
            raise dg.Failure(f"dataset {dataset.name!r} has no contract to change")
        batch = storage.files.read([dataset.name, "raw_batch"], approval.batch)
        if not isinstance(batch, pd.DataFrame):
            raise dg.Failure(
                f"{dataset.name}: batch {approval.batch!r} ({batch.path}) is larger than "
                "dask.threshold_rows; a contract changes by a batch read whole: land a sample of it"
            )
        policy = schemasense.EvolutionPolicy(accept_breaking=True)
        evolved = schemasense.evolve(current, batch, policy).contract
        if dataset.keys:
            evolved = evolved.with_keys(dataset.keys)
        if evolved.version == current.version:
            context.log.info(f"{approval.batch}: nothing to change in contract v{current.version}")
            return
        stored = registry.save(evolved, based_on=current)
        context.log_event(
            dg.AssetMaterialization(
                asset_key=contract_key,
                metadata={**contract_metadata(stored, previous=current), "approval": approval.id},
            )
        )

    return one_op_job(
        f"{dataset.name}_contract_change_job",
        "Carry out a granted contract change; the batch is then remediated again.",
        change_contract,
    )


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


def one_op_job(name: str, description: str, op: dg.OpDefinition) -> dg.JobDefinition:
    """A job of one op, run in process: what a person launches from the Launchpad."""

    @dg.job(name=name, description=description, executor_def=dg.in_process_executor)
    def job() -> None:
        op()

    return job
