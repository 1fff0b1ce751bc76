"""The landing sensor: one new file becomes one new partition and one run, exactly once."""

import json
from collections.abc import Sequence
from typing import Any

import dagster as dg

from suite.config import DatasetConfig
from suite.jobs.carrier import RUN_KEY_PREFIX, batches_job_name, build_batches_job, carrier_tags
from suite.sensors.recovery import stranded_run_requests
from suite.storage import BatchStorage
from suite.storage.landings import LandingRecord
from suite.storage.partitions import landing_record, partitions_name

LANDED_AT_TAG = "dataops/landed_at"
"""On a batch run: when the landing sensor first saw the batch's file (ISO 8601, UTC)."""

_BAD_KEY_PARTS = ("...", "\n", "\r", "\t", "\0")


def landed_files(dataset: DatasetConfig) -> list[str]:
    """Names of the batch files in the landing folder, in name order (temporary files skipped)."""
    if not dataset.landing.is_dir():
        return []
    names = {p.name for pattern in dataset.patterns for p in dataset.landing.glob(pattern) if p.is_file()}
    return sorted(n for n in names if not n.startswith(".") and not any(b in n for b in _BAD_KEY_PARTS))


def build_landing_sensor(
    dataset: DatasetConfig,
    partitions: dg.DynamicPartitionsDefinition,
    batch_job: Any,
    training_job: Any,
    storage_root: str,
) -> dg.SensorDefinition:
    """Watch the landing folder.

    Each new file is added as a partition of ``raw_batch``, and the time the sensor first saw it
    is recorded (:class:`~suite.storage.landings.LandingRecord`): landing order is that order,
    not the order of file names. The first ``training_batches`` partitions to land are run at
    once: they define the contract. Later partitions wait (in the cursor, in landing order) until
    the contract exists; once the training batches are published the sensor asks for the
    training job, which learns the contract and the drift reference. Run keys make every request
    idempotent, so no file is processed twice even if the cursor were lost; a run created but
    never launched (the storage went away in between) is asked for again under its key.
    """
    name = f"{dataset.name}_landing_sensor"

    @dg.sensor(
        name=name,
        jobs=[batch_job, training_job, build_batches_job(batch_job.name, name)],
        minimum_interval_seconds=dataset.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"New files in {dataset.landing} become partitions and runs.",
    )
    def landing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        files = BatchStorage(storage_root)
        record = landing_record(dataset, files)
        known = list(context.instance.get_dynamic_partitions(partitions_name(dataset)))
        new = sorted(set(landed_files(dataset)) - set(known))
        record.record(new)  # a file a failed tick already saw keeps its first time
        every = record.order([*known, *new])
        state = json.loads(context.cursor) if context.cursor else {"waiting": []}
        asked = set(state["waiting"]) | set(new)
        has_contract = files.contracts().latest(dataset.name) is not None
        training = every[: dataset.training_batches]
        runnable = set(every if has_contract else training)  # later batches wait for the contract
        requests = _batch_requests(
            record,
            [k for k in every if k in asked and k in runnable],
            batch_job,
            batches_per_run=dataset.intake.batches_per_run,
        )
        if not has_contract:
            requests += _training_request(context.instance, dataset, training, training_job)
        requests += stranded_run_requests(context, name)
        return dg.SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=[partitions.build_add_request(new)] if new else [],
            cursor=json.dumps({"waiting": [k for k in every if k in asked and k not in runnable]}),
        )

    return landing_sensor


def _batch_requests(
    record: LandingRecord, keys: Sequence[str], batch_job: Any, batches_per_run: int = 10
) -> list[dg.RunRequest]:
    """Runs for ``keys`` (in landing order): up to ``batches_per_run`` files that landed together
    go in one carrier run (``suite/jobs/carrier.py``); a lone file is an ordinary batch run."""
    landed = {key: at.isoformat() for key, at in record.landed()}
    per_run = max(1, batches_per_run)
    requests = []
    for start in range(0, len(keys), per_run):
        group = list(keys[start : start + per_run])
        if len(group) == 1:
            key = group[0]
            tags = {LANDED_AT_TAG: landed[key]} if key in landed else {}
            requests.append(
                dg.RunRequest(run_key=f"batch:{key}", job_name=batch_job.name, partition_key=key, tags=tags)
            )
            continue
        requests.append(
            dg.RunRequest(
                run_key=f"{RUN_KEY_PREFIX}{group[0]}..{group[-1]}",
                job_name=batches_job_name(batch_job.name),
                tags=carrier_tags({key: landed.get(key, "") for key in group}),
            )
        )
    return requests


def _training_request(
    instance: dg.DagsterInstance, dataset: DatasetConfig, training: Sequence[str], training_job: Any
) -> list[dg.RunRequest]:
    """The training job, once the first ``training_batches`` to land are all published."""
    if len(training) < dataset.training_batches:
        return []
    published = instance.get_materialized_partitions(dg.AssetKey([dataset.name, "published_batch"]))
    if not set(training) <= published:
        return []
    return [dg.RunRequest(run_key=f"training:{training[-1]}", job_name=training_job.name)]


def batch_partitions(dataset: DatasetConfig) -> dg.DynamicPartitionsDefinition:
    return dg.DynamicPartitionsDefinition(name=partitions_name(dataset))
