"""Where a large batch's bytes are: a local path, or an object on a store (``s3://…``, any
fsspec URL, or a :class:`upath.UPath`), so that several machines share them.

A local path never goes through fsspec: it is opened, listed, renamed and removed as before,
and a part is written under a temporary name then renamed. A URL is read through fsspec with
the credentials and endpoint of the process's environment (``AWS_*``, ``AWS_ENDPOINT_URL``:
each Dask worker reads its own), without a listings cache (a client must see the parts its
workers wrote after it last listed). A part on a store is one PUT of its complete bytes
(:func:`suite.storage.objects.put_whole`): a reader never sees half of it. Moving a folder on a
store is a server-side copy then a delete of each object, each of them whole.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeAlias

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from suite.storage.objects import is_remote, put_whole, storage_root

if TYPE_CHECKING:
    from upath import UPath

Place: TypeAlias = "str | os.PathLike[str] | UPath"
"""A file or folder: a local path, a URL of an object store, or a UPath."""
PART_GLOB = "part-*.parquet"


def locate(place: Place) -> Any:
    """``place`` as a :class:`~pathlib.Path` (a local path or a ``file://`` URL), else a UPath."""
    return storage_root(place)


def is_url(place: Place) -> bool:
    """Whether ``place`` is on an object store."""
    return is_remote(locate(place))


def as_text(place: Place) -> str:
    """``place`` as text: a local path, or the store's URL (what workers and asset values carry)."""
    return str(locate(place))


def open_read(place: Place) -> IO[bytes]:
    """The file ``place``, opened to read bytes."""
    where = locate(place)
    return where.fs.open(where.path, "rb") if is_remote(where) else open(where, "rb")  # type: ignore[no-any-return]


def size(place: Place) -> int:
    """Bytes of the file ``place``."""
    where = locate(place)
    return int(where.fs.size(where.path)) if is_remote(where) else where.stat().st_size


def parquet_file(place: Place) -> pq.ParquetFile:
    """The Parquet file ``place``, read as it is needed (``pre_buffer=False``: flat memory)."""
    where = locate(place)
    if is_remote(where):
        return pq.ParquetFile(where.path, filesystem=where.fs, pre_buffer=False)
    return pq.ParquetFile(where, pre_buffer=False)


def write_table(table: pa.Table, folder: Place, file_name: str) -> None:
    """``table`` as the Parquet file ``folder/file_name``, whole or not at all: locally written
    under a temporary name and renamed, on a store one PUT."""
    where = locate(folder)
    if is_remote(where):
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        put_whole(where / file_name, buffer.getvalue())
        return
    where.mkdir(parents=True, exist_ok=True)
    final = where / file_name
    temporary = where / f".{file_name}.{os.getpid()}.tmp"
    pq.write_table(table, temporary)
    os.replace(temporary, final)


def read_table(place: Place, columns: list[str] | None = None) -> pa.Table:
    """The Parquet file ``place`` (only ``columns``, when given)."""
    where = locate(place)
    if is_remote(where):
        return pq.read_table(where.path, filesystem=where.fs, columns=columns)
    return pq.read_table(where, columns=columns)


def parts_in(folder: Place) -> list[Any]:
    """The ``part-*.parquet`` files of ``folder``, by name (none when it does not exist)."""
    where = locate(folder)
    if not is_remote(where):
        return sorted(where.glob(PART_GLOB))
    found = where.fs.glob(f"{where.path.rstrip('/')}/{PART_GLOB}")
    return [where / Path(path).name for path in sorted(found)]


def parquet_dataset(folder: Place) -> ds.Dataset:
    """The Parquet files of ``folder`` as one pyarrow dataset."""
    where = locate(folder)
    if is_remote(where):
        return ds.dataset(where.path, filesystem=where.fs, format="parquet")
    return ds.dataset(where, format="parquet")


def make_folder(folder: Place) -> None:
    """Create ``folder`` locally; a store has no folders (a prefix exists with its objects)."""
    where = locate(folder)
    if not is_remote(where):
        where.mkdir(parents=True, exist_ok=True)


def remove(place: Place) -> None:
    """Remove the file or folder ``place``, if it exists."""
    where = locate(place)
    if not is_remote(where):
        if where.is_dir():
            shutil.rmtree(where, ignore_errors=True)
        else:
            where.unlink(missing_ok=True)
        return
    with contextlib.suppress(FileNotFoundError):
        where.fs.rm(where.path, recursive=True)


def move_folder(source: Place, target: Place) -> None:
    """Rename the folder ``source`` to ``target`` (on a store: each object copied, then deleted)."""
    there, here = locate(target), locate(source)
    if not is_remote(here):
        os.replace(here, there)
        return
    for part in parts_in(here):
        part.fs.mv(part.path, (there / part.name).path)
