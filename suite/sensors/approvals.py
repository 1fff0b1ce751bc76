"""The approvals sensor: shows requests on the approvals asset, carries out granted ones.

For each granted request the sensor launches the run that carries it out, tagged with the
request's id, and marks the request done in the ledger once that run succeeded.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg

from datareflex import ActionKind
from suite.assets.approvals import approvals_key, approvals_metadata
from suite.config import DatasetConfig
from suite.sensors.recovery import stranded_run_requests
from suite.storage import BatchStorage
from suite.tags import AFTER_APPROVAL_TAG, APPROVAL_TAG


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
