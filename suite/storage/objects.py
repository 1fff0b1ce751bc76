"""Storage roots on an object store (``s3://``, ``gs://``… any fsspec URL) through universal-pathlib.

A root is either a plain local :class:`~pathlib.Path` (``file://`` URLs become one) or a
:class:`upath.UPath`; local roots never go through fsspec, so they cost what they did before.

Writes to an object store are one PUT of the complete bytes (:func:`put_whole`), not a temporary
key then a copy: S3 has no rename, so a temporary key would mean a second server-side copy and a
delete, and a crash between them leaves an orphan key behind; a single PUT (or a completed
multipart upload, for large objects) is atomic, so a reader sees the old object or the new one,
never part of either. The price is that the object is built in memory before it is sent.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import schemasense

if TYPE_CHECKING:
    from upath import UPath


def storage_root(root: str | os.PathLike[str] | UPath) -> Path | UPath:
    """``root`` as a local path, or as a UPath when it is a URL of another filesystem."""
    if isinstance(root, Path):
        return root
    if not isinstance(root, (str, os.PathLike)):
        return root  # already a UPath
    text = os.fspath(root)
    if "://" not in text:
        return Path(text)
    if text.startswith("file://"):
        return Path(unquote(urlparse(text).path))
    from upath import UPath

    # fsspec caches directory listings per process: a landing sensor would not see new objects,
    # nor a run an object another process wrote after it listed the prefix.
    return UPath(text, use_listings_cache=False)


def is_remote(path: Any) -> bool:
    """True for a path on an object store (a UPath, which is not ``os.PathLike``), false for a
    local path."""
    return not isinstance(path, (str, os.PathLike))


def put_whole(path: UPath, data: bytes) -> None:
    """Store ``data`` as the object ``path`` in one atomic PUT (see the module docstring)."""
    path.fs.pipe_file(path.path, data)


def upload_whole(path: UPath, local: str | os.PathLike[str]) -> None:
    """Store the local file ``local`` as the object ``path``: one PUT, or a multipart upload that
    becomes visible only when complete; either way all or nothing, without holding it in memory."""
    path.fs.put_file(os.fspath(local), path.path)


def move(source: UPath, target: UPath) -> None:
    """Move an object: a server-side copy, then a delete of ``source``. Between the two both
    exist, each whole; a crash there leaves one version archived twice, never a partial one."""
    source.fs.mv(source.path, target.path)


def create_exclusive(path: UPath, data: bytes) -> bool:
    """Create the object ``path`` unless it exists: a conditional PUT (``If-None-Match: *``).

    Returns ``False`` when another writer created it first. S3 and moto honour the condition;
    a store that refuses it raises, naming the path.
    """
    try:
        path.fs.pipe_file(path.path, data, mode="create")
    except FileExistsError:
        return False
    except OSError as exc:
        # s3fs maps a 412 to FileExistsError only when the response names the condition.
        if exc.errno == errno.EINVAL and path.exists():
            return False
        raise OSError(f"{path}: conditional create (If-None-Match) failed: {exc}") from exc
    return True


class ObjectContractRegistry(schemasense.ContractRegistry):
    """A :class:`schemasense.ContractRegistry` on an object store.

    Its compare-and-swap is a conditional create of the next version's object
    (:func:`create_exclusive`) instead of ``os.link``, which only local filesystems have.
    """

    def __init__(self, root: UPath) -> None:
        # The base class's methods only join, glob, test and read paths: a UPath does all of those.
        self.root = root  # type: ignore[assignment]

    def _swap(self, stored: schemasense.Contract) -> bool:
        path: Any = self._path(stored.name, stored.version)
        return create_exclusive(path, stored.to_yaml().encode())
