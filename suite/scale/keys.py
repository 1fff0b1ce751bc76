"""Unique columns across chunks: which rows repeat a key seen in an earlier chunk or part.

Validation sees one chunk at a time, so a key repeated across two chunks escapes it; here every
unique column's present values (converted as validation converts them) are kept as 64-bit
hashes, 8 bytes a row of the batch: the one state of a scan that grows with the batch. Integers
and floats hash one to one (pandas' splitmix mixing is a bijection); text and dates by a 64-bit
hash, where two different keys of a 100M-row batch collide with a chance of about 3 in 10,000.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import schemasense

Keys = dict[str, tuple[np.ndarray, np.ndarray]]
"""Per unique column: the file rows of the present values, and their hashes."""


def unique_columns(contract: schemasense.Contract, frame: pd.DataFrame) -> list[str]:
    names = {str(label) for label in frame.columns}
    return [name for name, column in contract.columns.items() if column.unique and name in names]


def key_hashes(contract: schemasense.Contract, frame: pd.DataFrame) -> Keys:
    """Hashes of every unique column's present values, by file row (the frame's index)."""
    out: Keys = {}
    for name in unique_columns(contract, frame):
        column = contract.columns[name]
        values = schemasense.coerce(frame[name], column.logical_type, column.formats).values
        present = (frame[name].notna() & values.notna()).to_numpy()
        hashes = pd.util.hash_pandas_object(values[present], index=False).to_numpy()
        out[name] = (frame.index.to_numpy()[present], hashes)
    return out


@dataclass
class KeyLedger:
    """The keys seen so far, in file order: ``repeats`` names the rows of a later chunk whose
    key an earlier one holds.

    Each column's hashes are kept as a few sorted runs, a run merged into the one before when
    that one is no larger (a binary counter: about log2 of the chunks' count remain, and each
    hash is copied about that many times): a lookup is a binary search per run. The ledger holds
    8 bytes per key seen; merging the two largest runs briefly needs about twice theirs more.

    >>> import pandas as pd, schemasense
    >>> contract = schemasense.infer(pd.DataFrame({"id": range(100)}), keys=["id"])
    >>> ledger = KeyLedger()
    >>> ledger.repeats(key_hashes(contract, pd.DataFrame({"id": [1, 2]})))
    {}
    >>> later = pd.DataFrame({"id": [3, 2, 2]}, index=[2, 3, 4])
    >>> {k: v.tolist() for k, v in ledger.repeats(key_hashes(contract, later)).items()}
    {'id': [3, 4]}
    """

    seen: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def repeats(self, keys: Keys) -> dict[str, np.ndarray]:
        """Rows of ``keys`` whose hash was seen before; then remember ``keys``."""
        out = {}
        for name, (rows, hashes) in keys.items():
            runs = self.seen.setdefault(name, [])
            hit = np.zeros(len(hashes), dtype=bool)
            for run in runs:
                at = np.minimum(np.searchsorted(run, hashes), len(run) - 1)
                hit |= run[at] == hashes
            if hit.any():
                out[name] = rows[hit]
            if len(hashes):
                runs.append(np.sort(hashes))
            while len(runs) > 1 and len(runs[-2]) <= len(runs[-1]):
                merged = np.concatenate([runs.pop(-2), runs.pop()])
                merged.sort(kind="stable")  # a radix sort for integers: linear
                runs.append(merged)
        return out


def merge_repeats(*maps: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rows per column named in any of ``maps``."""
    out: dict[str, np.ndarray] = {}
    for mapping in maps:
        for name, rows in mapping.items():
            out[name] = np.union1d(out.get(name, np.empty(0, dtype=np.int64)), rows)
    return out
