"""Several batches in one run: the carrier job, for files that land together.

A run is a new process that spends about 3 s starting and importing pandas, scikit-learn and
the suite for about 0.7 s of work on one small batch (``bench/loop_latency.py``). When many files
land at once, the landing sensor asks for ``<dataset>_batches_job`` runs instead, each naming up
to ``intake.batches_per_run`` partitions in the :data:`BATCHES_TAG`. Its one op runs the
dataset's ordinary batch job once per partition in the carrier's process, each as a run of its own:
every file keeps its partition, its run, its check results and its ledger records, and the
reflex, run-failure and recovery sensors see ordinary batch runs.

A child run carries what the landing sensor would have put on a lone batch run (its landing
time, the landing sensor's name and the run key ``batch:<key>``) and the carrier's code origin,
so the daemon knows its run key and the run-failure sensor sees it as a run of this code
location. A partition that already has a batch run is skipped: a carrier launched twice (a
relaunch, a lost cursor) never processes a file twice.
"""

import contextlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster._check import CheckError
from dagster._core.definitions.job_base import InMemoryJob
from dagster._core.execution.api import create_execution_plan, execute_run
from dagster._core.execution.execute_in_process import merge_run_tags
from dagster._core.origin import JobPythonOrigin
from dagster._core.remote_origin import RemoteJobOrigin

from suite.tags import BATCHES_TAG, CARRIER_RUN_TAG, CARRIER_TAG, LANDED_AT_TAG

RUN_KEY_PREFIX = "batches:"
_IN_PROCESS: list[dg.Definitions] = []


@contextlib.contextmanager
def jobs_in_process(definitions: dg.Definitions) -> Iterator[None]:
    """While inside, carriers executed in this process find their batch jobs in ``definitions``:
    a run executed in process has no repository to ask (``suite.cli.runner``, tests)."""
    _IN_PROCESS.append(definitions)
    try:
        yield
    finally:
        _IN_PROCESS.remove(definitions)


def _batch_job(context: dg.OpExecutionContext, name: str) -> dg.JobDefinition:
    """Job ``name`` of the carrier's repository (a run the daemon launched has one), else of the
    definitions given to :func:`jobs_in_process`."""
    try:
        return context.repository_def.get_job(name)
    except CheckError:
        if not _IN_PROCESS:
            raise RuntimeError(
                f"the carrier cannot find {name}: no repository, and no jobs_in_process"
            ) from None
        return _IN_PROCESS[-1].resolve_job_def(name)


def batches_job_name(batch_job_name: str) -> str:
    """``orders_batch_job`` → ``orders_batches_job``."""
    return batch_job_name.removesuffix("_batch_job") + "_batches_job"


def carrier_tags(landed: Mapping[str, str]) -> dict[str, str]:
    """The carrier run's tags for partitions ``landed`` (key → landing time, in landing order)."""
    return {BATCHES_TAG: json.dumps(dict(landed)), CARRIER_TAG: "true"}


def request_keys(request: dg.RunRequest) -> list[str]:
    """The partitions a landing-sensor request covers: a carrier's several, a batch run's one."""
    if BATCHES_TAG in request.tags:
        return list(json.loads(request.tags[BATCHES_TAG]))
    return [request.partition_key] if request.partition_key else []


def build_batches_job(batch_job_name: str, sensor_name: str) -> dg.JobDefinition:
    """The carrier of ``batch_job_name``: runs it once per partition its run names.

    ``sensor_name`` is the landing sensor: each child run carries its name and the run key a lone
    batch run would have had (``batch:<key>``), so neither the daemon nor the in-process runner
    asks for that batch again.
    """
    name = batches_job_name(batch_job_name)

    @dg.op(
        name=f"{name.removesuffix('_job')}_run",
        description=f"Runs {batch_job_name} per partition.",
        out=dg.Out(dg.Nothing),  # what became of each partition is in the metadata, not in storage
    )
    def run_batches(context: dg.OpExecutionContext) -> dg.Output[None]:
        landed: dict[str, str] = json.loads(context.run.tags.get(BATCHES_TAG, "{}"))
        job = _batch_job(context, batch_job_name)
        outcomes: dict[str, str] = {}
        errors: list[str] = []
        for key, landed_at in landed.items():
            if has_batch_run(context.instance, batch_job_name, key):
                outcomes[key] = "skipped: it already has a batch run"
                continue
            tags = {
                **({LANDED_AT_TAG: landed_at} if landed_at else {}),
                CARRIER_RUN_TAG: context.run_id,
                "dagster/sensor_name": sensor_name,
                "dagster/run_key": f"batch:{key}",
            }
            try:
                run_id, success = run_one(context, job, key, tags)
            except Exception as exc:  # noqa: BLE001 - the other partitions still run; raised below
                errors.append(f"{key}: {type(exc).__name__}: {exc}")
                outcomes[key] = f"not run: {type(exc).__name__}"
                continue
            outcomes[key] = f"{'success' if success else 'failure'} (run {run_id})"
            context.log.info(f"{batch_job_name} [{key}]: {outcomes[key]}")
        if errors:
            raise dg.Failure(f"{len(errors)} of {len(landed)} batches could not run: " + "; ".join(errors))
        return dg.Output(None, metadata={"batches": dg.MetadataValue.json(outcomes)})

    @dg.job(
        name=name,
        executor_def=dg.in_process_executor,
        description=f"Runs {batch_job_name} for several partitions in one process (files landed together).",
    )
    def batches_job() -> None:
        run_batches()

    return batches_job


def run_one(
    context: dg.OpExecutionContext, job: dg.JobDefinition, key: str, tags: Mapping[str, str]
) -> tuple[str, bool]:
    """Create and execute one run of ``job`` for partition ``key`` in this process."""
    instance = context.instance
    run_config: dict[str, Any] = {}
    if "loggers" in context.run_config:
        run_config["loggers"] = context.run_config["loggers"]
    carrier = context.dagster_run
    in_memory = InMemoryJob(job)
    ref = instance.get_ref() if instance.is_persistent else None
    plan = create_execution_plan(in_memory, run_config=run_config, instance_ref=ref)
    run = instance.create_run_for_job(
        job_def=job,
        execution_plan=plan,
        run_config=run_config,
        tags=merge_run_tags(job, key, tags, None, instance, run_config),
        remote_job_origin=(
            RemoteJobOrigin(repository_origin=carrier.remote_job_origin.repository_origin, job_name=job.name)
            if carrier.remote_job_origin
            else None
        ),
        job_code_origin=(
            JobPythonOrigin(job.name, carrier.job_code_origin.repository_origin)
            if carrier.job_code_origin
            else None
        ),
    )
    result = execute_run(in_memory, run, instance, raise_on_error=False)
    return run.run_id, result.success


def has_batch_run(instance: dg.DagsterInstance, batch_job_name: str, key: str) -> bool:
    """Whether partition ``key`` has a batch run, by any path (a partition is one landed file)."""
    runs = instance.get_run_ids(
        dg.RunsFilter(job_name=batch_job_name, tags={"dagster/partition": key}), limit=1
    )
    return bool(runs)
