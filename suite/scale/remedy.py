"""Remediation of a batch file too large to read whole: DataReflex's loop, chunk by chunk.

:func:`remediate_file` hands the file's chunks (:func:`.chunks.iter_chunks`) and its scan's
totals to :func:`datareflex.handle_in_parts`, which decides once and acts and verifies chunk
by chunk. A :class:`ParquetSink` writes each chunk's published, quarantined and held rows to
``out/published``, ``out/quarantine`` and ``out/held``: one Parquet file per chunk and output
(``part-<first row>.parquet`` with the file row in ``_row``, written whole: renamed into place,
or one PUT on an object store), the layout a scan writes. Memory is that of a chunk, plus 8
bytes a row for each unique column's keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

import datareflex
import schemasense
from schemasense import REASON_COLUMN

from .batch import HELD, PUBLISHED, ScanResult
from .chunks import CHUNK_ROWS, iter_chunks
from .keys import KeyLedger, key_hashes, merge_repeats
from .places import Place, locate, make_folder, parts_in, read_table, remove
from .scan import QUARANTINE, ROW_COLUMN, write_part

OUTPUTS = (PUBLISHED, QUARANTINE, HELD)


class ParquetSink:
    """A :class:`datareflex.PartSink` writing each output as a folder of Parquet parts."""

    def __init__(self, out: Place) -> None:
        self.out = locate(out)
        self.discard()  # a remediation run again (a retry) leaves no stale part

    def write(self, output: str, frame: pd.DataFrame) -> None:
        if len(frame):  # parts are named by their first row: the outputs of a chunk never clash
            write_part(frame, self.out / output, int(frame.index.min()))

    def hold_published(self, reason: str) -> None:
        for part in parts_in(self.out / PUBLISHED):
            rows = read_table(part).to_pandas().set_index(ROW_COLUMN).rename_axis(None)
            self.write(HELD, rows.assign(**{REASON_COLUMN: reason}))
            remove(part)

    def discard(self) -> None:
        for name in OUTPUTS:
            remove(self.out / name)
            make_folder(self.out / name)


def remediate_file(
    path: Place,
    scan: ScanResult,
    out: Place,
    *,
    contract: schemasense.Contract,
    chunk_rows: int = CHUNK_ROWS,
    **loop: Any,
) -> datareflex.PartsOutcome:
    """Decide, act and verify for the batch file ``path`` that ``scan`` judged (with
    ``contract``), ``chunk_rows`` rows at a time; ``loop``: the other keywords of
    :func:`datareflex.handle_in_parts` (``policy``, ``ledger``, ``drift_report``…)."""

    def parts() -> Iterator[pd.DataFrame]:
        return (chunk.frame for chunk in iter_chunks(path, chunk_rows, contract))

    return datareflex.handle_in_parts(
        parts,
        ParquetSink(out),
        rows=scan.rows,
        violations=scan.violations,
        new_categories=scan.new_categories,
        contract=contract,
        repeats=repeats_after(contract),
        **loop,
    )


def repeats_after(contract: schemasense.Contract, earlier: dict[str, np.ndarray] | None = None) -> Any:
    """``repeats(frame)`` for :func:`datareflex.handle_in_parts` over consecutive chunks: by
    row, the first unique column whose key an earlier chunk or (``earlier``: file rows per
    column, found across a cluster's parts) an earlier part holds."""
    ledger = KeyLedger()

    def repeats(frame: pd.DataFrame) -> pd.Series:
        within = ledger.repeats(key_hashes(contract, frame))
        before = {n: r[np.isin(r, frame.index.to_numpy())] for n, r in (earlier or {}).items()}
        columns: dict[Any, str] = {}
        for name, rows in merge_repeats(within, before).items():
            for row in rows.tolist():
                columns.setdefault(row, name)
        return pd.Series(columns, index=frame.index, dtype=object)

    return repeats
