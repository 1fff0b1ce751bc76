"""The assets' path for a batch too large to read whole (more rows than ``dask.threshold_rows``).

``raw_batch`` keeps such a file on disk (a :class:`~suite.scale.RowsOnDisk` of its landed copy);
``validation`` scans it with the ``dask`` resource (chunk by chunk, its parts on the cluster's
workers), ``batch_profile`` counts it part by part there too (or takes a finished scan's
profile: it must not wait for ``validation``, whose blocking checks would stop it), and the
remediation step runs DataReflex's loop part by part on the workers (:mod:`suite.scale.spread`).
Rows stay on disk throughout, as Parquet folders under ``<storage>/<dataset>/large/<batch>/``:
a local folder, or a prefix of an object store (``DATAOPS_STORAGE=s3://…``) that the workers
write to with the credentials of their own environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
import pandas as pd
import pyarrow.compute as pc

import datareflex
import driftguard
import schemasense
from suite.config import DatasetConfig
from suite.scale import RowsOnDisk, ScanResult, batch_rows
from suite.scale.places import Place, as_text, open_read, parquet_dataset
from suite.scale.resource import DaskResource
from suite.storage import SuiteStorage
from suite.storage.content import COMPRESSIONS

if TYPE_CHECKING:
    from upath import UPath

BATCH = dg.DagsterType(
    name="Batch",
    type_check_fn=lambda _, value: isinstance(value, (pd.DataFrame, RowsOnDisk)),
    description="Rows of a batch: a pandas DataFrame, or a RowsOnDisk (a file or Parquet folder) "
    "for a batch too large to read whole.",
)
VALIDATION = dg.DagsterType(
    name="Validation",
    type_check_fn=lambda _, value: isinstance(value, (pd.DataFrame, ScanResult)),
    description="The invalid rows of a batch with their reasons, or a large batch's scan verdict.",
)


def large_file(path: Place, dask: DaskResource) -> RowsOnDisk | None:
    """``path`` (a local path, or a UPath on an object store) kept on disk when it holds more
    rows than the resource's threshold. A compressed or unreadable file never is: the
    whole-file reader refuses it with its reason."""
    try:
        with open_read(path) as handle:
            head = handle.read(8)
        if any(head.startswith(magic) for magic in COMPRESSIONS):
            return None
        rows = batch_rows(path)
    except Exception:  # noqa: BLE001 - read_batch_file says what is wrong with the file
        return None
    return RowsOnDisk(str(path), rows) if rows > dask.threshold_rows else None


def work_folder(storage: SuiteStorage, dataset: DatasetConfig, key: str) -> Path | UPath:
    """Where a large batch's rows are written, under the storage every worker reaches (a
    :class:`~pathlib.Path`, or a UPath on an object store)."""
    root: Path | UPath = storage.files.root
    return root / dataset.name / "large" / key


def profile_large(
    storage: SuiteStorage,
    dataset: DatasetConfig,
    key: str,
    raw: RowsOnDisk,
    like: driftguard.Profile,
    dask: DaskResource,
) -> driftguard.Profile:
    """The batch's profile: its scan's, when one was made on ``like``'s bins; else counted
    part by part on the cluster (chunk by chunk in this process below the threshold)."""
    files = storage.files
    stored = [dataset.name, "validation"]
    if files.exists(stored, key):
        scan = files.read(stored, key)
        if isinstance(scan, ScanResult) and scan.path == raw.path and same_bins(scan.profile, like):
            return scan.profile
    contract = files.contracts().latest(dataset.name)
    assert contract is not None  # raw_batch refuses a large batch before the contract
    return dask.profile(raw.path, like, contract)


def same_bins(profile: driftguard.Profile, like: driftguard.Profile) -> bool:
    """Whether every column of ``profile`` is counted on the bins of ``like``'s same column."""
    return all(
        (column.kind, column.edges) == (like.columns[name].kind, like.columns[name].edges)
        for name, column in profile.columns.items()
        if name in like.columns
    )


def remediate_large(
    folder: Path | UPath,
    raw: RowsOnDisk,
    scan: ScanResult,
    contract: schemasense.Contract,
    dask: DaskResource,
    **loop: Any,
) -> tuple[datareflex.PartsOutcome, dict[str, RowsOnDisk], tuple[str, ...]]:
    """Decide once, act and verify part by part (on the cluster's workers, as the scan was);
    the three outputs as Parquet folders, and the workers that acted."""
    out = folder / "outcome"
    outcome, workers = dask.remediate(raw.path, scan, out, contract, **loop)
    counts = {"published": outcome.published, "quarantine": outcome.quarantined, "held": outcome.held}
    written = {name: RowsOnDisk(as_text(out / name), rows) for name, rows in counts.items()}
    return outcome, written, workers


def reasons(rows: RowsOnDisk, top: int = 20) -> list[tuple[str, int]]:
    """The most frequent reasons of a quarantine or held folder, read column-only."""
    table = parquet_dataset(rows.path).to_table(columns=[schemasense.REASON_COLUMN])
    counted = pc.value_counts(table.column(0)).to_pylist()
    ranked = sorted(((c["values"], c["counts"]) for c in counted), key=lambda pair: -pair[1])
    return ranked[:top]
