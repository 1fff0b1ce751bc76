"""A dataset's partitions in landing order, and the training window: its first batches, which
define what normal looks like."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pandas as pd

from suite.config import DatasetConfig
from suite.storage.landings import LandingRecord
from suite.storage.store import BatchStorage


def partitions_name(dataset: DatasetConfig) -> str:
    return f"{dataset.name}_batches"


def landing_record(dataset: DatasetConfig, files: BatchStorage) -> LandingRecord:
    """When each batch of ``dataset`` landed (written by the landing sensor)."""
    return LandingRecord(files.root, dataset.name)


def landed_path(dataset: DatasetConfig, files: BatchStorage, key: str) -> Any:
    """The file batch ``key`` is read from: the copy the landing sensor took, so later writes to
    the landing file cannot change it; ``dataset.landing / key`` for a batch taken before copies
    were kept. A :class:`~pathlib.Path`, or a :class:`upath.UPath` when the storage (or, for an
    old batch, the landing folder) is an object store: :func:`~suite.storage.files.read_batch_file`
    reads either."""
    record = landing_record(dataset, files)
    found = record.snapshot(key)
    if found is not None:
        return found
    if dataset.landing is None:  # a database source: the snapshot is the only copy
        raise FileNotFoundError(f"{dataset.name}: batch {key!r} has no snapshot in {record.snapshots}")
    return dataset.landing / key


def landing_order(instance: dg.DagsterInstance, dataset: DatasetConfig, files: BatchStorage) -> list[str]:
    """Every partition key of ``dataset``, in the order its file was first seen."""
    return landing_record(dataset, files).order(instance.get_dynamic_partitions(partitions_name(dataset)))


def landed_before(
    instance: dg.DagsterInstance, dataset: DatasetConfig, files: BatchStorage, key: str
) -> list[str]:
    """The partitions that landed before ``key``, in landing order."""
    order = landing_order(instance, dataset, files)
    return order[: order.index(key)] if key in order else order


def training_partitions(
    instance: dg.DagsterInstance, dataset: DatasetConfig, files: BatchStorage
) -> list[str]:
    """The first ``training_batches`` partition keys, in landing order."""
    return landing_order(instance, dataset, files)[: dataset.training_batches]


def training_frames(
    instance: dg.DagsterInstance, dataset: DatasetConfig, files: BatchStorage
) -> tuple[list[str], list[pd.DataFrame]]:
    keys = training_partitions(instance, dataset, files)
    if len(keys) < dataset.training_batches:
        raise dg.Failure(
            f"dataset {dataset.name!r}: the training window needs {dataset.training_batches} "
            f"batches and {len(keys)} have landed",
            allow_retries=False,
        )
    return keys, [files.read([dataset.name, "raw_batch"], key) for key in keys]


def latest_published(
    instance: dg.DagsterInstance, dataset: DatasetConfig, files: BatchStorage
) -> tuple[list[str], list[pd.DataFrame]]:
    """The latest ``training_batches`` published batches that have rows, in landing order (a
    large batch, kept on disk, is passed over: these are read whole)."""
    key = dg.AssetKey([dataset.name, "published_batch"])
    published = set(instance.get_materialized_partitions(key))
    keys: list[str] = []
    frames: list[pd.DataFrame] = []
    for partition in reversed(landing_order(instance, dataset, files)):
        if partition not in published:
            continue
        frame = files.read(list(key.path), partition)
        if isinstance(frame, pd.DataFrame) and len(frame):
            keys.insert(0, partition)
            frames.insert(0, frame)
        if len(keys) == dataset.training_batches:
            break
    if not keys:
        raise dg.Failure(f"dataset {dataset.name!r}: no published batch to learn from")
    return keys, frames
