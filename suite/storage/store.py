"""Storage of everything a run produces, under the instance's storage folder.

Frames are Parquet, profiles and reports JSON; every local write goes to a temporary file that
is renamed into place, and every write to an object store is one PUT of the complete bytes, so a
reader never sees half a file. The ledger is SQLite beside them, or the
database ``DATAOPS_LEDGER_URL`` names (any SQLAlchemy URL, e.g. the PostgreSQL server that holds
the Dagster instance).
"""

from __future__ import annotations

import functools
import io
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import sqlalchemy as sa

import datareflex
import driftguard
import schemasense
from suite.assets.metadata import frame_schema

from .objects import ObjectContractRegistry, is_remote, move, put_whole, storage_root

IO_RETRY = dg.RetryPolicy(max_retries=3, delay=1.0, backoff=dg.Backoff.EXPONENTIAL)
"""For steps that read files (a landed batch, the training window): a file on a network share or
still being synced may fail once and read fine a second later. Errors that a retry cannot fix
raise ``dg.Failure(allow_retries=False)``."""

VERSIONED = {"published_batch"}
"""Assets whose earlier versions are kept, so a rollback can publish one again."""
KEEP_VERSIONS = 10

LEDGER_URL_ENV = "DATAOPS_LEDGER_URL"


@functools.cache
def _json_types() -> dict[str, Any]:
    """The values stored as JSON, by the name the file records."""
    from suite.scale import RowsOnDisk, ScanResult  # suite.scale reads files with suite.storage

    return {
        "driftguard.Profile": driftguard.Profile,
        "driftguard.DriftReport": driftguard.DriftReport,
        "suite.RowsOnDisk": RowsOnDisk,  # a large batch's rows, kept on disk
        "suite.ScanResult": ScanResult,
    }


class BatchStorage:
    """Paths and atomic reads/writes for one storage root: a local folder or an fsspec URL
    (``s3://bucket/prefix``…, see :mod:`suite.storage.objects`)."""

    def __init__(self, root: Any) -> None:
        """``root``: a folder, an fsspec URL (``s3://bucket/prefix``) or a UPath."""
        self.root: Any = storage_root(root)
        self.remote = is_remote(self.root)

    def path(self, asset_path: list[str], partition: str | None, suffix: str) -> Any:
        return self.root.joinpath(*asset_path) / f"{partition or '__all__'}{suffix}"

    def write(self, asset_path: list[str], partition: str | None, obj: Any) -> Any:
        if isinstance(obj, pd.DataFrame):
            path = self.path(asset_path, partition, ".parquet")
            if asset_path[-1] in VERSIONED and path.exists():
                self._archive(path)
            self._put(path, lambda out: obj.to_parquet(out, index=False))
            return path
        type_name = next((n for n, t in _json_types().items() if isinstance(obj, t)), None)
        if type_name is None:
            raise TypeError(
                f"cannot store a {type(obj).__name__}: expected a DataFrame, Profile, DriftReport, "
                "RowsOnDisk or ScanResult"
            )
        path = self.path(asset_path, partition, ".json")
        data = json.dumps({"type": type_name, "data": obj.to_dict()}).encode()
        self._put(path, lambda out: out.write(data))
        return path

    def _put(self, path: Any, write: Any) -> None:
        """``write(binary_file)``, all or nothing: locally into a temporary file then renamed;
        remotely into memory, then one PUT of the complete bytes
        (:func:`~suite.storage.objects.put_whole`)."""
        if not self.remote:
            atomic_write(path, lambda tmp: _write_file(tmp, write))
            return
        buffer = io.BytesIO()
        write(buffer)
        put_whole(path, buffer.getvalue())

    def read(self, asset_path: list[str], partition: str | None) -> Any:
        parquet = self.path(asset_path, partition, ".parquet")
        if parquet.exists():
            return self._frame(parquet)
        path = self.path(asset_path, partition, ".json")
        if not path.exists():
            raise FileNotFoundError(f"{path}: nothing stored for {'/'.join(asset_path)} [{partition}]")
        payload = json.loads(path.read_text())
        return _json_types()[payload["type"]].from_dict(payload["data"])

    def _frame(self, path: Any) -> pd.DataFrame:
        return pd.read_parquet(io.BytesIO(path.read_bytes()) if self.remote else path)

    def versions(self, asset_path: list[str], partition: str | None) -> list[Any]:
        """Earlier versions of a versioned asset's partition, newest first."""
        folder = self._versions(self.path(asset_path, partition, ".parquet"))
        return self._newest_first(folder) if folder.is_dir() else []

    def restore_previous(self, asset_path: list[str], partition: str | None) -> Any:
        """Make the newest earlier version that has rows the current one again; return it.

        The version being replaced is not kept: a rollback replaces a version whose rows are
        all held elsewhere. ``None`` when there is no earlier version with rows.
        """
        for version in self.versions(asset_path, partition):
            frame = self._frame(version)
            if len(frame):
                self._put(
                    self.path(asset_path, partition, ".parquet"),
                    lambda out, rows=frame: rows.to_parquet(out, index=False),
                )
                return version
        return None

    def _archive(self, path: Any) -> None:
        folder = self._versions(path)
        target = folder / f"{time.time_ns()}.parquet"
        if self.remote:
            move(path, target)
        else:
            folder.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
        for old in self._newest_first(folder)[KEEP_VERSIONS:]:
            old.unlink()

    @staticmethod
    def _newest_first(folder: Any) -> list[Any]:
        return sorted(folder.glob("*.parquet"), key=lambda p: p.name, reverse=True)

    @staticmethod
    def _versions(path: Any) -> Any:
        return path.parent / ".versions" / path.stem

    def exists(self, asset_path: list[str], partition: str | None) -> bool:
        return any(self.path(asset_path, partition, s).exists() for s in (".parquet", ".json"))

    def contracts(self) -> schemasense.ContractRegistry:
        if self.remote:
            return ObjectContractRegistry(self.root / "contracts")
        return schemasense.ContractRegistry(self.root / "contracts")

    def ledger(self) -> datareflex.Ledger:
        url = os.environ.get(LEDGER_URL_ENV)
        if not url:
            if self.remote:
                raise ValueError(
                    f"storage {self.root} is an object store, where the ledger's SQLite database "
                    f"cannot live: set {LEDGER_URL_ENV} to a database URL "
                    "(e.g. postgresql+psycopg2://user@host/dataops)"
                )
            self.root.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{self.root / 'ledger.db'}"
        try:
            return datareflex.Ledger(url)
        except sa.exc.DBAPIError:
            # Runs started together on a fresh server race to create the ledger's tables; the
            # loser finds them made on its second try.
            return datareflex.Ledger(url)


def atomic_write(path: Any, write: Any) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place.

    On an object store the temporary file is local and its bytes go up in one PUT
    (:func:`~suite.storage.objects.put_whole`): all or nothing there too.
    """
    if is_remote(path):
        with tempfile.TemporaryDirectory(prefix="dataops-put-") as folder:
            tmp = os.path.join(folder, path.name)
            write(tmp)
            put_whole(path, Path(tmp).read_bytes())
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _write_file(tmp: str, write: Any) -> None:
    with open(tmp, "wb") as out:
        write(out)


class SuiteStorage(dg.ConfigurableResource):
    """The suite's storage root as a Dagster resource."""

    root: str

    @property
    def files(self) -> BatchStorage:
        return BatchStorage(self.root)


IO_MANAGER_KEY = "dataops_io_manager"
"""The suite's assets name their IO manager by this key, so in a user's project the user's own
``io_manager`` stays theirs."""


class SuiteIOManager(dg.ConfigurableIOManager):
    """Stores asset values in :class:`BatchStorage`: one file per asset partition.

    Every table it stores gets ``dagster/row_count`` and ``dagster/column_schema``, whichever
    asset produced it, so the UI shows rows and columns of each batch, quarantine and hold.
    """

    root: str

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if obj is None:
            return
        partition = context.partition_key if context.has_partition_key else None
        BatchStorage(self.root).write(list(context.asset_key.path), partition, obj)
        if isinstance(obj, pd.DataFrame):
            context.add_output_metadata(
                {"dagster/row_count": len(obj), "dagster/column_schema": frame_schema(obj)}
            )
        elif isinstance(obj, _json_types()["suite.RowsOnDisk"]):  # a large batch: rows stay on disk
            context.add_output_metadata(
                {"dagster/row_count": obj.rows, "rows_at": dg.MetadataValue.path(obj.path)}
            )

    def load_input(self, context: dg.InputContext) -> Any:
        partition = context.partition_key if context.has_partition_key else None
        return BatchStorage(self.root).read(list(context.asset_key.path), partition)
