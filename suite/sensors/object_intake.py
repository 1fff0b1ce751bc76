"""The landing sensor's intake on an object store (``s3://…``, ``gs://…``), and the dispatch
between it and a local folder's (:mod:`suite.sensors.intake`, which never goes through fsspec).

The rules are the local ones, on objects: an object directly under the landing prefix whose name
matches one of the dataset's patterns (case-insensitively) is a candidate; a deeper prefix whose
name matches is refused as a folder; hidden names are skipped; there are no links to refuse.
Stability is the object's size and LastModified instead of mtime: every PUT sets a new
LastModified, and an object is never visible half-written, but its writer may still replace it
within ``intake.stable_seconds``. Taking downloads the object into a local temporary file while
hashing it, then compares its size, LastModified and ETag with what the listing saw: if any
moved, the copy is dropped and the object settles again (as a local file whose size or mtime
moved during its copy). The copy goes into the storage with one PUT
(:func:`~suite.storage.objects.upload_whole`) when the storage is an object store too.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from suite.config import DatasetConfig
from suite.storage.objects import is_remote, upload_whole

from .intake import Scan, Seen, copy_unchanged, hashed_copy, scan


@dataclass(frozen=True)
class ObjectSeen(Seen):
    """A candidate object as one tick saw it: ``mtime_ns`` is its LastModified, ``etag`` its ETag."""

    etag: str = ""


def scan_landing(dataset: DatasetConfig) -> Scan:
    """One look at the landing folder, local or on an object store."""
    return scan_objects(dataset) if is_remote(dataset.landing) else scan(dataset)


def scan_objects(dataset: DatasetConfig) -> Scan:
    """Classify every entry directly under the landing prefix (one listing, nothing opened)."""
    result = Scan()
    landing = dataset.landing
    prefix = landing.path.rstrip("/")
    try:
        entries = landing.fs.ls(prefix, detail=True)
    except FileNotFoundError:
        return result  # no object under it yet
    patterns = [pattern.lower() for pattern in dataset.patterns]
    for entry in entries:
        path = str(entry["name"]).rstrip("/")
        name = path.rsplit("/", 1)[-1]
        if path == prefix or not name:
            continue
        if name.startswith("."):
            result.skipped[name] = "skipped: a hidden or temporary file"
        elif not any(fnmatch.fnmatchcase(name.lower(), p) for p in patterns):
            result.skipped[name] = f"skipped: matches none of {', '.join(dataset.patterns)}"
        elif entry.get("type") != "file":
            result.refused[name] = "refused: not a regular file (a folder)"
        else:
            result.candidates.append(_seen(name, entry))
    result.candidates.sort(key=lambda seen: seen.name)
    return result


def _seen(name: str, info: dict[str, Any]) -> ObjectSeen:
    etag = info.get("ETag") or info.get("etag") or info.get("md5Hash") or ""  # S3, GCS…
    return ObjectSeen(name, int(info.get("size") or 0), _modified_ns(info), str(etag))


def _modified_ns(info: dict[str, Any]) -> int:
    """LastModified (S3), ``mtime`` or ``updated`` (other stores) in ns; 0 when none is given."""
    value = info.get("LastModified") or info.get("mtime") or info.get("updated")
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, dt.datetime):
        return int(value.timestamp()) * 10**9 + value.microsecond * 1000
    return int(float(value) * 1e9) if value else 0


def take_copy(source: Any, seen: Seen, snapshots: Any) -> tuple[Path, str] | None:
    """Copy the landed ``source`` into a local temporary file (in ``snapshots`` when it is a local
    folder, so the copy is renamed into place); return it with its SHA-256, or ``None`` if the
    file moved on while copied."""
    folder = Path(tempfile.gettempdir()) if is_remote(snapshots) else snapshots
    if is_remote(source):
        return copy_object(source, seen, folder)
    return copy_unchanged(source, seen, folder)


def place(tmp: Path, target: Any) -> None:
    """Put the copy ``tmp`` at ``target``: renamed locally, one PUT on an object store."""
    if not is_remote(target):
        os.replace(tmp, target)
        return
    try:
        upload_whole(target, tmp)
    finally:
        os.unlink(tmp)


def copy_object(source: Any, seen: Seen, folder: Path) -> tuple[Path, str] | None:
    """Download ``source`` into a temporary file of ``folder`` while hashing it; ``None`` if the
    object is gone or no longer the one ``seen`` (size, LastModified, ETag)."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{seen.name[:80]}.", suffix=".tmp")
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as writer, source.fs.open(source.path, "rb") as reader:
            copied = hashed_copy(reader, writer, digest)
        after = _seen(seen.name, source.fs.info(source.path))
        if copied != seen.size or after != _as_object(seen):
            os.unlink(tmp)
            return None
    except FileNotFoundError:
        os.unlink(tmp)
        return None
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp), digest.hexdigest()


def _as_object(seen: Seen) -> ObjectSeen:
    return seen if isinstance(seen, ObjectSeen) else ObjectSeen(seen.name, seen.size, seen.mtime_ns)
