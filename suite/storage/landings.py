"""When each batch landed, and what exactly was taken: the landing sensor's record.

Landing order is the order of landing times, not the order of file names: a late file whose name
sorts first still lands after every file already seen. The landing sensor records each file it
takes once, in a small JSON file under the instance storage (``landed/<dataset>.json``); the
training window, the drift references and the schedule read the order back from there, in
whichever process they run.

Each taken batch keeps the file name it came from, the size, mtime and SHA-256 it had when the
sensor copied it (the snapshot under ``landed/<dataset>/<key>``), so a file that changes later is
recognised as a new version. The record also keeps the names the sensor refused or skipped, with
why, so each is logged once. Only the landing sensor writes it (one tick at a time); every write
replaces the file atomically. A record written before versions were kept (a list of
``[batch, landed_at]`` pairs) is read as it is.

On an object store (storage given as ``s3://…``) the record is one object, written whole with one
PUT (:func:`~suite.storage.objects.put_whole` through :func:`~suite.storage.store.atomic_write`)
and the snapshots are objects under ``landed/<dataset>/``. A whole PUT is enough: there is no
compare-and-swap because there is one writer, the landing sensor of the one Dagster daemon, and
readers (runs, on any machine) see the previous record or the new one, never a mix.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .objects import is_remote, storage_root
from .store import atomic_write


@dataclass(frozen=True)
class Taken:
    """One batch the landing sensor took: partition ``key`` from the file ``name`` as it was
    (on an object store ``mtime_ns`` is the object's LastModified, and ``etag`` its ETag)."""

    key: str
    landed_at: dt.datetime
    name: str
    size: int = -1
    mtime_ns: int = -1
    sha256: str = ""
    etag: str = ""

    def to_list(self) -> list[Any]:
        row = [self.key, self.landed_at.isoformat(), self.name, self.size, self.mtime_ns, self.sha256]
        return [*row, self.etag] if self.etag else row

    @classmethod
    def from_list(cls, row: Sequence[Any]) -> Taken:
        key, at, *rest = row
        name, size, mtime_ns, sha256, etag = [*(rest or [key, -1, -1, ""]), ""][:5]
        return cls(
            str(key),
            dt.datetime.fromisoformat(at),
            str(name),
            int(size),
            int(mtime_ns),
            str(sha256),
            str(etag),
        )


_PARSED: dict[str, tuple[Any, dict[str, Any]]] = {}
"""Each record's last parsed version in this process, by path: (inode, mtime, size) → data for a
local file; its text for an object (reading it is one GET, as a HEAD would be)."""


class LandingRecord:
    """The landing times of one dataset's batches, and the files they were taken from.

    >>> import tempfile
    >>> record = LandingRecord(tempfile.mkdtemp(), "orders")
    >>> at = dt.datetime(2026, 11, 5, 8, tzinfo=dt.UTC)
    >>> record.record(["b.csv"], at) and record.record(["a.csv", "b.csv"], at + dt.timedelta(hours=1))
    ['a.csv']
    >>> record.order(["a.csv", "b.csv"]), record.landed_at("a.csv").hour
    (['b.csv', 'a.csv'], 9)
    """

    def __init__(self, root: str | os.PathLike[str] | Any, dataset: str) -> None:
        """``root``: the storage root, a folder or an fsspec URL / UPath (an object store)."""
        base = storage_root(root)
        self.path: Any = base / "landed" / f"{dataset}.json"
        self.snapshots: Any = base / "landed" / dataset
        """Where the sensor keeps each taken batch's copy, named by its partition key."""

    def _load(self) -> dict[str, Any]:
        """The record as stored, parsed once per version of the file in this process (a batch
        run asks it several questions, and it grows by one entry per batch)."""
        try:
            if is_remote(self.path):
                text = self.path.read_text()
                version: Any = text
            else:
                stat = self.path.stat()
                version, text = (stat.st_ino, stat.st_mtime_ns, stat.st_size), ""
        except FileNotFoundError:
            return {"landed": [], "notes": {}, "taken": []}
        cached = _PARSED.get(str(self.path))
        if cached is not None and cached[0] == version:
            return cached[1]
        data = json.loads(text or self.path.read_text())
        if isinstance(data, list):  # the record before versions were kept
            data = {"landed": data}
        loaded = {"landed": data.get("landed", []), "notes": data.get("notes", {})}
        loaded["taken"] = [Taken.from_list(row) for row in loaded["landed"]]
        _PARSED[str(self.path)] = (version, loaded)
        return loaded

    def _save(self, taken: Sequence[Taken], notes: Mapping[str, str]) -> None:
        rows = ",\n".join(json.dumps(t.to_list()) for t in taken)
        text = f'{{"landed": [\n{rows}\n],\n"notes": {json.dumps(dict(notes), indent=0)}}}\n'
        atomic_write(self.path, lambda tmp: Path(tmp).write_text(text))

    def taken(self) -> list[Taken]:
        """Every batch taken, in landing order."""
        return list(self._load()["taken"])

    def landed(self) -> list[tuple[str, dt.datetime]]:
        """Every recorded batch with the time it was first seen, in landing order."""
        return [(t.key, t.landed_at) for t in self.taken()]

    def notes(self) -> dict[str, str]:
        """What the sensor last reported about each file it did not take (name: why)."""
        return dict(self._load()["notes"])

    def update(
        self,
        taken: Iterable[Taken] = (),
        notes: Mapping[str, str] | None = None,
        restated: Iterable[Taken] = (),
    ) -> list[Taken]:
        """Append the ``taken`` batches whose keys are new, put the ``restated`` ones (the same
        content seen again under a new size or mtime) in place of their key's entry and, if
        given, replace the notes; return the appended ones. A key keeps its first landing time."""
        data = self._load()
        again = {t.key: t for t in restated}
        old = list(data["taken"])
        old = [dataclasses.replace(again[t.key], landed_at=t.landed_at) if t.key in again else t for t in old]
        seen = {t.key for t in old}
        new = [t for t in {t.key: t for t in taken if t.key not in seen}.values()]
        changed_notes = notes is not None and dict(notes) != data["notes"]
        if new or again or changed_notes:
            self._save([*old, *new], data["notes"] if notes is None else notes)
        return new

    def record(self, keys: Iterable[str], at: dt.datetime | None = None) -> list[str]:
        """Record the ``keys`` not seen before as landed ``at`` (now); return them."""
        when = at or dt.datetime.now(dt.UTC)
        return [t.key for t in self.update(Taken(key, when, key) for key in dict.fromkeys(keys))]

    def landed_at(self, key: str) -> dt.datetime | None:
        return dict(self.landed()).get(key)

    def snapshot(self, key: str) -> Any:
        """The copy of batch ``key`` taken when it landed (a Path, or a UPath on an object
        store), if there is one; else ``None``."""
        path = self.snapshots / key
        return path if path.is_file() else None

    def order(self, keys: Sequence[str]) -> list[str]:
        """``keys`` in landing order.

        Keys never recorded (partitions added before landing times were recorded, or by hand)
        come first, in the order given: they were there before any recorded file.
        """
        position = {key: index for index, (key, _) in enumerate(self.landed())}
        given = {key: index for index, key in enumerate(keys)}
        return sorted(given, key=lambda key: (position.get(key, -1), given[key]))
