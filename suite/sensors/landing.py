"""The landing sensor: one new file becomes one new partition and one run, exactly once."""

import json
from typing import Any

import dagster as dg

from suite.config import DatasetConfig
from suite.sensors.recovery import stranded_run_requests
from suite.storage import BatchStorage
from suite.storage.partitions import partitions_name

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

    Each new file is added as a partition of ``raw_batch``. The first ``training_batches``
    partitions are run at once: they define the contract. Later partitions wait (in the cursor)
    until the contract exists; once the training batches are published the sensor asks for the
    training job, which learns the contract and the drift reference. Run keys make every request
    idempotent, so no file is processed twice even if the cursor were lost; a run created but
    never launched (the storage went away in between) is asked for again under its key.
    """

    @dg.sensor(
        name=f"{dataset.name}_landing_sensor",
        jobs=[batch_job, training_job],
        minimum_interval_seconds=dataset.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"New files in {dataset.landing} become partitions and runs.",
    )
    def landing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        state = json.loads(context.cursor) if context.cursor else {"waiting": []}
        known = set(context.instance.get_dynamic_partitions(partitions.name))
        new = [name for name in landed_files(dataset) if name not in known]
        waiting = sorted(set(state["waiting"]) | set(new))
        every = sorted(known | set(new))
        files = BatchStorage(storage_root)
        has_contract = files.contracts().latest(dataset.name) is not None
        training = every[: dataset.training_batches]

        requests = []
        for key in list(waiting):
            if has_contract or key in training:
                requests.append(
                    dg.RunRequest(run_key=f"batch:{key}", job_name=batch_job.name, partition_key=key)
                )
                waiting.remove(key)
        if not has_contract and len(training) == dataset.training_batches:
            published = set(
                context.instance.get_materialized_partitions(dg.AssetKey([dataset.name, "published_batch"]))
            )
            if set(training) <= published:
                requests.append(dg.RunRequest(run_key=f"training:{training[-1]}", job_name=training_job.name))
        requests += stranded_run_requests(context, f"{dataset.name}_landing_sensor")
        return dg.SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=[partitions.build_add_request(new)] if new else [],
            cursor=json.dumps({"waiting": waiting}),
        )

    return landing_sensor


def batch_partitions(dataset: DatasetConfig) -> dg.DynamicPartitionsDefinition:
    return dg.DynamicPartitionsDefinition(name=partitions_name(dataset))
