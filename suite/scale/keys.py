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

    >>> import pandas as pd, schemasense
    >>> contract = schemasense.infer(pd.DataFrame({"id": range(100)}), keys=["id"])
    >>> ledger = KeyLedger()
    >>> ledger.repeats(key_hashes(contract, pd.DataFrame({"id": [1, 2]})))
    {}
    >>> later = pd.DataFrame({"id": [3, 2, 2]}, index=[2, 3, 4])
    >>> {k: v.tolist() for k, v in ledger.repeats(key_hashes(contract, later)).items()}
    {'id': [3, 4]}
    """

    seen: dict[str, np.ndarray] = field(default_factory=dict)

    def repeats(self, keys: Keys) -> dict[str, np.ndarray]:
        """Rows of ``keys`` whose hash was seen before; then remember ``keys``."""
        out = {}
        for name, (rows, hashes) in keys.items():
            earlier = self.seen.get(name, np.empty(0, dtype=np.uint64))
            hit = np.isin(hashes, earlier, assume_unique=False)
            if hit.any():
                out[name] = rows[hit]
            self.seen[name] = np.union1d(earlier, hashes)
        return out


def merge_repeats(*maps: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rows per column named in any of ``maps``."""
    out: dict[str, np.ndarray] = {}
    for mapping in maps:
        for name, rows in mapping.items():
            out[name] = np.union1d(out.get(name, np.empty(0, dtype=np.int64)), rows)
    return out
