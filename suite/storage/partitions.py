"""The training window: the first batches of a dataset, which define what normal looks like."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from suite.config import DatasetConfig
from suite.storage import BatchStorage


def training_partitions(instance: dg.DagsterInstance, dataset: DatasetConfig) -> list[str]:
    """The first ``training_batches`` partition keys, in landing order."""
    return sorted(instance.get_dynamic_partitions(partitions_name(dataset)))[: dataset.training_batches]


def training_frames(
    instance: dg.DagsterInstance, dataset: DatasetConfig, files: BatchStorage
) -> tuple[list[str], list[pd.DataFrame]]:
    keys = training_partitions(instance, dataset)
    if len(keys) < dataset.training_batches:
        raise dg.Failure(
            f"dataset {dataset.name!r}: the training window needs {dataset.training_batches} "
            f"batches and {len(keys)} have landed",
            allow_retries=False,
        )
    return keys, [files.read([dataset.name, "raw_batch"], key) for key in keys]


def partitions_name(dataset: DatasetConfig) -> str:
    return f"{dataset.name}_batches"


def latest_published(
    instance: dg.DagsterInstance, dataset: DatasetConfig, files: BatchStorage
) -> tuple[list[str], list[pd.DataFrame]]:
    """The latest ``training_batches`` published batches that have rows, in landing order."""
    key = dg.AssetKey([dataset.name, "published_batch"])
    keys, frames = [], []
    for partition in sorted(instance.get_materialized_partitions(key), reverse=True):
        frame = files.read(list(key.path), partition)
        if len(frame):
            keys.insert(0, partition)
            frames.insert(0, frame)
        if len(keys) == dataset.training_batches:
            break
    if not keys:
        raise dg.Failure(f"dataset {dataset.name!r}: no published batch to learn from")
    return keys, frames
