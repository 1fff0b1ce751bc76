"""The landing sensor: a file that landed and settled becomes one partition and one run, once.

What it may take, and how (links refused, stability, the copy), is :mod:`suite.sensors.intake`
(:mod:`suite.sensors.object_intake` for a landing folder on an object store, ``s3://…``); what it
took is the landing record (:mod:`suite.storage.landings`).
"""

import dataclasses
import datetime as dt
import json
import os
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import dagster as dg

import datareflex
from suite.config import DatasetConfig
from suite.jobs.carrier import RUN_KEY_PREFIX, batches_job_name, build_batches_job, carrier_tags
from suite.sensors.intake import Scan, Seen, partition_key, settled
from suite.sensors.object_intake import place, scan_landing, take_copy
from suite.sensors.recovery import stranded_run_requests
from suite.sensors.sql_intake import take_from_source
from suite.storage import BatchStorage
from suite.storage.landings import LandingRecord, Taken
from suite.storage.partitions import landing_record, partitions_name
from suite.storage.tables import TableError, landing_text
from suite.tags import LANDED_AT_TAG

TAKE_SECONDS = 20.0
"""A tick stops copying files after this long (the rest are taken by the next ticks), so it
answers well within Dagster's sensor timeout."""


def landed_files(dataset: DatasetConfig) -> list[str]:
    """Names of the regular files (or objects) in the landing folder that match the dataset's patterns
    (case-insensitively), in name order; hidden files, links and folders are left out; none for a
    dataset read from a database."""
    if dataset.landing is None:
        return []
    return [seen.name for seen in scan_landing(dataset).candidates]


def settling_until(cursor: str | None) -> float | None:
    """From a landing sensor's cursor: when (epoch seconds) the first file still settling may be
    taken, or ``None`` if no file is settling. ``dataops run`` keeps ticking until then."""
    settling = json.loads(cursor).get("settling", {}) if cursor else {}
    return min((entry[3] for entry in settling.values()), default=None)


def build_landing_sensor(
    dataset: DatasetConfig,
    partitions: dg.DynamicPartitionsDefinition,
    batch_job: Any,
    training_job: Any,
    storage_root: str,
) -> dg.SensorDefinition:
    """Watch the landing folder.

    Each file that settled is copied into the instance storage and added as a partition of
    ``raw_batch``, and the time the sensor took it is recorded
    (:class:`~suite.storage.landings.LandingRecord`): landing order is that order, not the order
    of file names. A file that changes after it was taken is taken again as a new version (a new
    partition). The first ``training_batches`` partitions to land are run at once: they define
    the contract. Later partitions wait (in the cursor, in landing order) until the contract
    exists; once the training batches are published the sensor asks for the training job, which
    learns the contract and the drift reference. A tick asks for at most
    ``intake.max_runs_per_tick`` runs; the rest wait in the cursor for the next ticks. Run keys
    make every request idempotent, so no file is processed twice even if the cursor were lost;
    a run created but never launched (the storage went away in between) is asked for again.
    """
    name = f"{dataset.name}_landing_sensor"

    @dg.sensor(
        name=name,
        jobs=[batch_job, training_job, build_batches_job(batch_job.name, name)],
        minimum_interval_seconds=dataset.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"New {landing_text(dataset)} become partitions and runs.",
    )
    def landing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        files = BatchStorage(storage_root)
        record = landing_record(dataset, files)
        state = json.loads(context.cursor) if context.cursor else {}
        known = list(context.instance.get_dynamic_partitions(partitions_name(dataset)))
        settling = _intake(context, dataset, files, known, state.get("settling", {}))
        known_set = set(known)
        new = [key for key, _ in record.landed() if key not in known_set]
        every = record.order([*known, *new])
        asked = set(state.get("waiting", [])) | set(new)
        has_contract = files.contracts().latest(dataset.name) is not None
        training = every[: dataset.training_batches]
        runnable = set(every if has_contract else training)  # later batches wait for the contract
        cap = dataset.intake.max_runs_per_tick
        requests = stranded_run_requests(context, name)[:cap]
        if not has_contract:
            requests += _training_request(context.instance, dataset, training, training_job)
        ready = [k for k in every if k in asked and k in runnable]
        sent = ready[: max(0, cap - len(requests)) * dataset.intake.batches_per_run]  # the rest: next ticks
        cursor = _cursor([k for k in every if k in asked], sent, settling)
        return dg.SensorResult(
            run_requests=[
                *requests[:cap],
                *_batch_requests(record, sent, batch_job, dataset.intake.batches_per_run),
            ],
            dynamic_partitions_requests=[partitions.build_add_request(new)] if new else [],
            cursor=json.dumps(cursor),
        )

    return landing_sensor


def _intake(
    context: dg.SensorEvaluationContext,
    dataset: DatasetConfig,
    files: BatchStorage,
    known: Sequence[str],
    observed: dict[str, list[float]],
) -> dict[str, list[float]]:
    """Take every file that settled; report what was skipped or refused; return the files still
    settling (name: ``[size, mtime_ns, first seen, when it may be taken]``) for the cursor."""
    if dataset.source is not None:
        return _from_source(context, dataset, files, known)
    record = landing_record(dataset, files)
    found = scan_landing(dataset)
    taken = record.taken()
    used = {t.key for t in taken} | set(known)
    intake = _Intake(record, {t.name: t for t in taken}, Counter(t.name for t in taken), used)
    unrecorded = set(known) - {t.key for t in taken}  # added by hand, or before the record: taken
    now, deadline, stable = time.time(), time.monotonic() + TAKE_SECONDS, dataset.intake.stable_seconds
    waiting: dict[str, list[float]] = {}
    for seen in found.candidates:
        last = intake.latest.get(seen.name)
        if last is not None and (last.size, last.mtime_ns, last.etag) == _identity(seen):
            continue
        if last is None and partition_key(seen.name, set()) in unrecorded:
            continue
        if not settled(seen, observed, now, stable) or time.monotonic() > deadline:
            size, mtime_ns, first = observed[seen.name][:3]
            waiting[seen.name] = [size, mtime_ns, first, max(now, min(mtime_ns / 1e9, first) + stable)]
        elif not intake.take(dataset, seen):  # it moved on while copied: it settles again
            waiting[seen.name] = [seen.size, seen.mtime_ns, now, now + stable]
    for name in intake.same:
        context.log.info(f"{dataset.name}: {name}: the same content under a new mtime is not a new version")
    notes = {**found.skipped, **found.refused}
    notes.update({n: "waiting: its size or mtime changed too recently" for n in waiting})
    _report(context, dataset, files, found, notes)
    record.update(intake.new, notes, intake.restated)
    return waiting


def _from_source(
    context: dg.SensorEvaluationContext, dataset: DatasetConfig, files: BatchStorage, known: Sequence[str]
) -> dict[str, list[float]]:
    """Take the batches a database source has ready (:mod:`suite.sensors.sql_intake`); a source
    that cannot be read is logged once (until its error changes), and the tick goes on."""
    record = landing_record(dataset, files)
    try:
        new, notes = take_from_source(dataset, record, {t.key for t in record.taken()} | set(known)), {}
    except TableError as exc:
        new, notes = [], {"source": str(exc)}
        if record.notes().get("source") != notes["source"]:
            context.log.error(notes["source"])
    record.update(new, notes)
    return {}


@dataclasses.dataclass
class _Intake:
    """What one tick took: ``latest`` version of each file name, ``versions`` per name, keys
    ``used``; the ``new`` batches, and the ``restated`` ones (same content, new mtime)."""

    record: LandingRecord
    latest: dict[str, Taken]
    versions: Counter[str]
    used: set[str]
    new: list[Taken] = dataclasses.field(default_factory=list)
    restated: list[Taken] = dataclasses.field(default_factory=list)
    same: list[str] = dataclasses.field(default_factory=list)

    def take(self, dataset: DatasetConfig, seen: Seen) -> bool:
        """Copy ``seen`` into the storage as a new batch (or a new version); ``False`` if it moved."""
        copy = take_copy(dataset.landing / seen.name, seen, self.record.snapshots)
        if copy is None:
            return False
        tmp, sha256 = copy
        size, mtime_ns, etag = _identity(seen)
        this = Taken("", dt.datetime.now(dt.UTC), seen.name, size, mtime_ns, sha256, etag)
        last = self.latest.get(seen.name)
        if last is not None and last.sha256 in ("", sha256):  # same content, or taken before hashes
            os.unlink(tmp)
            self.restated.append(dataclasses.replace(this, key=last.key))
            self.same += [seen.name] if last.sha256 else []
            return True
        self.versions[seen.name] += 1
        key = partition_key(seen.name, self.used, self.versions[seen.name])
        place(tmp, self.record.snapshots / key)
        self.used.add(key)
        self.new.append(dataclasses.replace(this, key=key))
        return True


def _identity(seen: Seen) -> tuple[int, int, str]:
    """What tells versions of a name apart without reading them: size and mtime (LastModified
    on an object store), and the ETag of an object."""
    return seen.size, seen.mtime_ns, getattr(seen, "etag", "")


def _report(
    context: dg.SensorEvaluationContext,
    dataset: DatasetConfig,
    files: BatchStorage,
    found: Scan,
    notes: dict[str, str],
) -> None:
    """Log each file not taken once with why (a reason changes: once more); a refusal is also a
    ``reject`` decision in the ledger."""
    before = landing_record(dataset, files).notes()
    fresh = {name: why for name, why in notes.items() if before.get(name) != why}
    for name, why in sorted(fresh.items()):
        log = context.log.warning if name in found.refused else context.log.info
        (context.log.debug if why.startswith("waiting") else log)(f"{dataset.name}: {name}: {why}")
    refused = sorted(name for name in fresh if name in found.refused)
    if not refused:
        return
    ledger = files.ledger()
    try:
        for name in refused:
            datareflex.reject(ledger, dataset.name, name, found.refused[name])
    finally:
        ledger.dispose()


def _cursor(asked: Sequence[str], sent: Sequence[str], settling: dict[str, list[float]]) -> dict[str, Any]:
    """What the next tick needs: the files asked for but not sent (landing order), those settling."""
    done = set(sent)
    cursor: dict[str, Any] = {"waiting": [k for k in asked if k not in done]}
    return {**cursor, "settling": settling} if settling else cursor


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
