"""What the landing sensor may take from a landing folder, and how it takes it.

A file is taken only when it is a regular file directly inside the folder whose name matches one
of the dataset's patterns (case-insensitively), and once its size and mtime have held for
``intake.stable_seconds``. Held since when: the earlier of its mtime (every write moves it) and
the first tick that saw this size and mtime (a clock-skewed or future mtime then still settles).
Taking copies the file, opened without following links, into the instance storage (temporary
file, then rename) while hashing it; if its size or mtime moved during the copy the copy is
dropped and the file settles again. Symbolic links and anything else that is not a regular file
are refused, never opened.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from dagster._core.definitions.partitions.utils.base import INVALID_PARTITION_SUBSTRINGS

from suite.config import DatasetConfig

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Seen:
    """A candidate file as one tick saw it."""

    name: str
    size: int
    mtime_ns: int


@dataclass
class Scan:
    """One look at a landing folder: candidates in name order, refusals and skips with why."""

    candidates: list[Seen] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def scan(dataset: DatasetConfig) -> Scan:
    """Classify every entry of ``dataset.landing`` (nothing is opened, no link is followed)."""
    result = Scan()
    if not dataset.landing.is_dir():
        return result
    root = dataset.landing.resolve()
    patterns = [pattern.lower() for pattern in dataset.patterns]
    with os.scandir(dataset.landing) as entries:
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                result.skipped[name] = "skipped: a hidden or temporary file"
            elif not any(fnmatch.fnmatchcase(name.lower(), p) for p in patterns):
                result.skipped[name] = f"skipped: matches none of {', '.join(dataset.patterns)}"
            else:
                _classify(root, entry, result)
    result.candidates.sort(key=lambda seen: seen.name)
    return result


def _classify(root: Path, entry: os.DirEntry[str], result: Scan) -> None:
    try:
        info = entry.stat(follow_symlinks=False)
    except FileNotFoundError:
        return  # gone since the listing
    if stat.S_ISLNK(info.st_mode):
        target = os.readlink(entry.path)
        result.refused[entry.name] = f"refused: symbolic link (to {target}) is never followed"
    elif not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a device, pipe or socket"
        result.refused[entry.name] = f"refused: not a regular file ({kind})"
    elif Path(entry.path).resolve().parent != root:
        result.refused[entry.name] = "refused: its real path is outside the landing folder"
    else:
        result.candidates.append(Seen(entry.name, info.st_size, info.st_mtime_ns))


def settled(seen: Seen, observed: dict[str, list[float]], now: float, stable_seconds: float) -> bool:
    """Whether ``seen`` has held its size and mtime for ``stable_seconds``; ``observed`` (name:
    ``[size, mtime_ns, first seen]``, kept in the sensor's cursor) is updated."""
    size, mtime_ns, first = observed.get(seen.name, (-1, -1, now))[:3]
    if (size, mtime_ns) != (seen.size, seen.mtime_ns):
        first = now
        observed[seen.name] = [seen.size, seen.mtime_ns, now]
    held_since = min(seen.mtime_ns / 1e9, first)
    return now - held_since >= stable_seconds


def copy_unchanged(source: Path, seen: Seen, folder: Path) -> tuple[Path, str] | None:
    """Copy ``source`` into a temporary file of ``folder``; return it with its SHA-256, or
    ``None`` if the file is no longer the regular file ``seen`` (it moved on while copied)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0)
    try:
        handle = os.open(source, flags)
    except OSError:
        return None  # replaced by a link (ELOOP), or gone
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{seen.name[:80]}.", suffix=".tmp")
    digest = hashlib.sha256()
    try:
        with os.fdopen(handle, "rb") as reader, os.fdopen(fd, "wb") as writer:
            if not _same(os.fstat(reader.fileno()), seen):
                raise _Moved
            copied = hashed_copy(reader, writer, digest)
            if copied != seen.size or not _same(os.fstat(reader.fileno()), seen):
                raise _Moved
    except _Moved:
        os.unlink(tmp)
        return None
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp), digest.hexdigest()


def hashed_copy(reader: BinaryIO, writer: BinaryIO, digest: Any) -> int:
    """Copy ``reader`` to ``writer`` in chunks, feeding ``digest``; the bytes copied."""
    copied = 0
    while chunk := reader.read(_CHUNK):
        digest.update(chunk)
        writer.write(chunk)
        copied += len(chunk)
    return copied


class _Moved(Exception):
    """The file changed while it was copied."""


def _same(info: os.stat_result, seen: Seen) -> bool:
    return stat.S_ISREG(info.st_mode) and (info.st_size, info.st_mtime_ns) == (seen.size, seen.mtime_ns)


def partition_key(name: str, used: set[str], version: int = 1) -> str:
    """A partition key Dagster accepts for the file ``name`` (``...`` and control characters
    become ``_``), ``~v<version>`` before the suffix from the second version on, and unique
    among ``used`` (``~2``, ``~3``... before the suffix).

    >>> partition_key("a...b.csv", set()), partition_key("day.csv", {"day~v2.csv"}, version=2)
    ('a_b.csv', 'day~v2~2.csv')
    """
    key = name
    for bad in INVALID_PARTITION_SUBSTRINGS:
        key = key.replace(bad, "_")
    stem, suffix = _split(key)
    key = f"{stem}~v{version}{suffix}" if version > 1 else key
    stem, suffix = _split(key)
    candidate, n = key, 2
    while candidate in used:
        candidate, n = f"{stem}~{n}{suffix}", n + 1
    return candidate


def _split(key: str) -> tuple[str, str]:
    suffix = Path(key).suffix
    return (key[: -len(suffix)], suffix) if suffix else (key, "")
