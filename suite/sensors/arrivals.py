"""Materializations of a user's asset whose checks did not run: checked (and landed) by a run of
their own, so no batch is missed.

The checks :func:`suite.around.loop_for` puts on a user's asset land each materialization as a
batch. They run with the asset unless a job leaves them out, or the asset is materialized outside
Dagster (an external asset reported by ``report_runless_asset_event``). This sensor reads the
asset's materializations in order and, for each whose run has finished without landing it, asks
for a run of the checks alone on that partition (run key ``arrival:<storage id>``). An
unpartitioned asset keeps only its latest value, so only its latest materialization can still be
checked; an older one never landed is logged as superseded. Materializations from before the
sensor's first tick are not replayed (backfill the asset to take its history).
"""

import datetime as dt
from collections.abc import Sequence

import dagster as dg

from suite.config import DatasetConfig

PAGE = 100
"""Materializations one tick reads at most."""


def build_arrival_sensor(
    dataset: DatasetConfig, key: dg.AssetKey, checks: Sequence[dg.AssetCheckKey]
) -> dg.SensorDefinition:
    """The sensor that lands, through a run of the ``checks`` alone, the materializations of
    ``key`` whose own runs did not."""

    @dg.sensor(
        name=f"{dataset.name}_arrival_sensor",
        asset_selection=dg.AssetSelection.checks(*checks),
        minimum_interval_seconds=dataset.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Checks, and so lands as a batch, each materialization of {key.to_user_string()} "
        "whose own run did not run the checks.",
    )
    def arrival_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        if context.cursor is None:  # the history before the loop was added is not replayed
            before = context.instance.fetch_materializations(key, limit=1).records
            return dg.SensorResult(cursor=str(before[0].storage_id if before else 0))
        after = int(context.cursor)
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, after_storage_id=after), limit=PAGE, ascending=True
        ).records
        latest = context.instance.get_latest_materialization_event(key) if records else None
        requests = []
        for record in records:
            run = context.instance.get_run_by_id(record.run_id)
            if run is not None and not run.is_finished:
                break  # its checks may still land it
            after = record.storage_id
            if _landed(dataset, record):
                continue
            if record.partition_key is None and latest is not None and latest.timestamp > record.timestamp:
                context.log.warning(
                    f"{dataset.name}: the materialization of {key.to_user_string()} in run {record.run_id} "
                    "was never checked and a later one replaced its value: it cannot be taken as a batch"
                )
                continue
            requests.append(
                dg.RunRequest(  # the partition as a tag: a run of checks alone has no partitions
                    run_key=f"arrival:{record.storage_id}",
                    asset_selection=[],
                    asset_check_keys=list(checks),
                    tags={"dagster/partition": record.partition_key} if record.partition_key else {},
                )
            )
        return dg.SensorResult(run_requests=requests, cursor=str(after))

    return arrival_sensor


def arrival_name(partition_key: str | None, run_id: str, at: dt.datetime) -> str:
    """The batch a materialization lands as: its partition key (``/`` made ``_``), or, unpartitioned,
    the UTC time and the run (``2026-12-02T101500-1a2b3c4d``).

    >>> arrival_name("2013-01-05", "1a2b3c4d-ffff", dt.datetime(2026, 12, 2, 10, 15))
    '2013-01-05'
    >>> arrival_name(None, "1a2b3c4d-ffff", dt.datetime(2026, 12, 2, 10, 15))
    '2026-12-02T101500-1a2b3c4d'
    """
    if partition_key is not None:
        return partition_key.replace("/", "_")
    return f"{at:%Y-%m-%dT%H%M%S}{_run_suffix(run_id)}"


def _run_suffix(run_id: str) -> str:
    return f"-{run_id[:8]}"


def _landed(dataset: DatasetConfig, record: dg.EventLogRecord) -> bool:
    """Whether the checks landed ``record``'s value: its partition's arrival written after it, or
    (unpartitioned) an arrival named by its run."""
    if record.partition_key is not None:
        path = dataset.landing / arrival_name(record.partition_key, record.run_id, dt.datetime.now(dt.UTC))
        try:
            return bool(path.stat().st_mtime >= record.timestamp)
        except FileNotFoundError:
            return False
    run = _run_suffix(record.run_id)
    return dataset.landing.exists() and any(p.name.endswith(run) for p in dataset.landing.iterdir())
