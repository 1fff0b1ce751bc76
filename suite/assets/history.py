"""The batch metrics the drift step's Page–Hinkley watch replays: earlier batches', then this one's."""

import json
from pathlib import Path

import dagster as dg

import driftguard
from suite.config import DatasetConfig
from suite.storage import BatchStorage, SuiteStorage, atomic_write
from suite.storage.partitions import landed_before

HISTORY = 60
"""Earlier partitions whose metrics the Page–Hinkley watch replays for each batch."""


def metrics_history(
    context: dg.AssetExecutionContext,
    dataset: DatasetConfig,
    storage: SuiteStorage,
    current: driftguard.Profile,
) -> list[dict[str, float]]:
    """Batch metrics of up to ``HISTORY`` partitions that landed earlier, then of this one."""
    files = storage.files
    earlier = landed_before(context.instance, dataset, files, context.partition_key)
    found = (_batch_metrics(files, dataset.name, k) for k in earlier[-HISTORY:])
    return [*(m for m in found if m is not None), driftguard.batch_metrics(current)]


def _batch_metrics(files: BatchStorage, dataset: str, key: str) -> dict[str, float] | None:
    """Batch ``key``'s metrics, kept beside it while its profile stays the same (decoding 60
    profiles, row samples and all, for every batch cost more than the drift itself)."""
    profile = files.path([dataset, "batch_profile"], key, ".json")
    try:
        stamp = profile.stat().st_mtime_ns
    except FileNotFoundError:
        return None
    kept = files.path([dataset, "batch_metrics"], key, ".json")
    if kept.exists():
        memo = json.loads(kept.read_text())
        if memo.get("profile_mtime_ns") == stamp:
            return dict(memo["metrics"])
    metrics = driftguard.batch_metrics(files.read([dataset, "batch_profile"], key))
    text = json.dumps({"profile_mtime_ns": stamp, "metrics": metrics})
    atomic_write(kept, lambda tmp: Path(tmp).write_text(text))
    return metrics
