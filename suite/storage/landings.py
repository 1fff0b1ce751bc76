"""When each batch landed: the time the landing sensor first saw its file.

Landing order is the order of these times, not the order of file names: a late file whose name
sorts first still lands after every file already seen. The landing sensor records each new file
once, the first time it sees it, in a small JSON file under the instance storage
(``landed/<dataset>.json``); the training window, the drift references and the schedule read
the order back from there, in whichever process they run.

The record is a list of ``[batch, landed_at]`` pairs in the order they were seen (files first
seen by one tick in name order), so the order never depends on clock resolution. Only the
landing sensor writes it (one tick at a time); every write replaces the file atomically.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from .store import atomic_write


class LandingRecord:
    """The landing times of one dataset's batches.

    >>> import tempfile
    >>> record = LandingRecord(tempfile.mkdtemp(), "orders")
    >>> at = dt.datetime(2026, 11, 5, 8, tzinfo=dt.UTC)
    >>> record.record(["b.csv"], at) and record.record(["a.csv", "b.csv"], at + dt.timedelta(hours=1))
    ['a.csv']
    >>> record.order(["a.csv", "b.csv"]), record.landed_at("a.csv").hour
    (['b.csv', 'a.csv'], 9)
    """

    def __init__(self, root: str | os.PathLike[str], dataset: str) -> None:
        self.path = Path(root) / "landed" / f"{dataset}.json"

    def landed(self) -> list[tuple[str, dt.datetime]]:
        """Every recorded batch with the time it was first seen, in landing order."""
        if not self.path.exists():
            return []
        return [(str(key), dt.datetime.fromisoformat(at)) for key, at in json.loads(self.path.read_text())]

    def record(self, keys: Iterable[str], at: dt.datetime | None = None) -> list[str]:
        """Record the ``keys`` not seen before as landed ``at`` (now); return them."""
        landed = self.landed()
        seen = {key for key, _ in landed}
        new = [key for key in dict.fromkeys(keys) if key not in seen]
        if new:
            when = at or dt.datetime.now(dt.UTC)
            pairs = [*landed, *((key, when) for key in new)]
            text = json.dumps([[key, time.isoformat()] for key, time in pairs], indent=0)
            atomic_write(self.path, lambda tmp: Path(tmp).write_text(text))
        return new

    def landed_at(self, key: str) -> dt.datetime | None:
        return dict(self.landed()).get(key)

    def order(self, keys: Sequence[str]) -> list[str]:
        """``keys`` in landing order.

        Keys never recorded (partitions added before landing times were recorded, or by hand)
        come first, in the order given: they were there before any recorded file.
        """
        position = {key: index for index, (key, _) in enumerate(self.landed())}
        given = {key: index for index, key in enumerate(keys)}
        return sorted(given, key=lambda key: (position.get(key, -1), given[key]))
