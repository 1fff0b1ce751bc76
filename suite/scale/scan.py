"""One chunk of a batch: its profile, its verdicts, its valid and quarantined rows on disk.

A chunk is profiled like the reference (``driftguard.profile(frame, like=...)``, as the
``batch_profile`` asset does) and validated with the contract (``Contract.validate``, as the
``validation`` asset does). A row that repeats a key of an earlier chunk (:mod:`.keys`) is judged
again, with its repeated columns as the only unique ones, next to a copy of itself: its reason
is then the text a whole-file validation gives it, rules in the same order. Valid rows go to
``valid/`` and invalid ones (with ``_reason``) to ``quarantine/`` as one Parquet file each,
with the file row in ``_row``: written under a temporary name and renamed, or on an object
store in one PUT (:mod:`.places`), so a reader never sees half a part.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow as pa

import driftguard
import schemasense
from schemasense import REASON_COLUMN, Rule, Violation

from .chunks import Chunk
from .places import Place, locate, parts_in, read_table, write_table

ROW_COLUMN = "_row"
"""Column of the written rows: the row of the batch file (0 is a CSV's first data line)."""
VALID, QUARANTINE = "valid", "quarantine"
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class ChunkScan:
    """What a chunk (or a run of chunks merged in file order) contributes to its batch's verdict.

    Merging adds counts, so a scan keeps one of these per part, not one per chunk: its memory
    does not grow with the batch. A null share is judged on the batch's totals (``nulls``), so
    no ``null_fraction`` violation is kept here.
    """

    first_row: int
    rows: int
    invalid: int
    profile: driftguard.Profile = field(repr=False)
    violations: tuple[Violation, ...] = ()
    nulls: tuple[tuple[str, int], ...] = ()
    new_categories: tuple[tuple[str, tuple[str, ...]], ...] = ()
    workers: tuple[str, ...] = ()
    chunks: int = 1

    @property
    def valid(self) -> int:
        return self.rows - self.invalid

    def merge(self, later: ChunkScan) -> ChunkScan:
        """This scan and ``later`` (rows after these) as one."""
        nulls = dict(self.nulls)
        for name, count in later.nulls:
            nulls[name] = nulls.get(name, 0) + count
        news = {name: set(values) for name, values in self.new_categories}
        for name, values in later.new_categories:
            news.setdefault(name, set()).update(values)
        return ChunkScan(
            min(self.first_row, later.first_row),
            self.rows + later.rows,
            self.invalid + later.invalid,
            self.profile.merge(later.profile),
            add_violations(self.violations, later.violations),
            tuple(sorted(nulls.items())),
            tuple(sorted((name, tuple(sorted(values))) for name, values in news.items())),
            tuple(sorted({*self.workers, *later.workers})),
            self.chunks + later.chunks,
        )


def add_violations(earlier: tuple[Violation, ...], later: tuple[Violation, ...]) -> tuple[Violation, ...]:
    """Violations of consecutive rows added up per (column, rule): examples are the first
    distinct ones in file order, as a whole-file validation picks them."""
    merged = {(v.column, v.rule): v for v in earlier}
    for v in later:
        seen = merged.get((v.column, v.rule))
        if seen is None:
            merged[(v.column, v.rule)] = v
            continue
        examples = tuple(dict.fromkeys([*seen.examples, *v.examples]))[:MAX_EXAMPLES]
        merged[(v.column, v.rule)] = replace(seen, count=seen.count + v.count, examples=examples)
    return tuple(merged.values())


def scan_chunk(
    chunk: Chunk,
    contract: schemasense.Contract,
    like: driftguard.Profile,
    out: Place,
    repeats: Mapping[str, np.ndarray] | None = None,
    *,
    sample_rows: int = 2000,
    worker: str = "",
) -> ChunkScan:
    """Profile, validate and write ``chunk``; ``repeats`` names its rows (file rows) whose key
    an earlier chunk holds, per unique column."""
    frame = chunk.frame
    profile = driftguard.profile(frame, like=like, sample_rows=sample_rows)
    result = contract.validate(frame)
    reasons = np.asarray(result.reasons, dtype=object)
    violations = [v for v in result.violations if v.rule is not Rule.NULL_FRACTION]
    if repeats and any(len(rows) for rows in repeats.values()):
        reasons, violations = _with_repeats(contract, frame, result, dict(repeats), violations)
    bad = pd.notna(reasons)
    folder = locate(out)
    write_part(frame[~bad], folder / VALID, chunk.first_row)
    write_part(frame[bad].assign(**{REASON_COLUMN: reasons[bad]}), folder / QUARANTINE, chunk.first_row)
    nulls = tuple(
        (name, int(frame[name].isna().sum()))
        for name, column in contract.columns.items()
        if column.nullable and column.max_null_fraction is not None and name in frame.columns
    )
    return ChunkScan(
        chunk.first_row,
        len(frame),
        int(bad.sum()),
        profile,
        tuple(violations),
        nulls,
        tuple(sorted(result.new_categories.items())),
        (worker,) if worker else (),
    )


def _with_repeats(
    contract: schemasense.Contract,
    frame: pd.DataFrame,
    result: schemasense.ValidationResult,
    repeats: dict[str, np.ndarray],
    violations: list[Violation],
) -> tuple[np.ndarray, list[Violation]]:
    """Reasons and violations once the rows repeating an earlier chunk's keys are counted."""
    positions = {name: frame.index.get_indexer(pd.Index(rows)) for name, rows in repeats.items()}
    repeated = {
        name: result.failing(name, Rule.UNIQUE) | np.isin(np.arange(len(frame)), positions.get(name, []))
        for name in contract.columns
        if contract.columns[name].unique and name in frame.columns
    }
    reasons = np.asarray(result.reasons, dtype=object).copy()
    touched = np.zeros(len(frame), dtype=bool)
    for position_list in positions.values():
        touched[position_list] = True
    columns = sorted(repeated)
    signature = np.array(
        ["".join("1" if repeated[n][i] else "0" for n in columns) for i in np.flatnonzero(touched)]
    )
    for pattern in np.unique(signature):
        chosen = np.flatnonzero(touched)[signature == pattern]
        keys = {n for n, flag in zip(columns, pattern, strict=True) if flag == "1"}
        reasons[chosen] = _rejudged(contract, frame.iloc[chosen], keys)
    kept = [v for v in violations if v.rule is not Rule.UNIQUE]
    for name in columns:
        hit = repeated[name]
        if hit.any():
            examples = tuple(frame[name][hit].drop_duplicates().head(MAX_EXAMPLES).tolist())
            kept.append(Violation(name, Rule.UNIQUE, int(hit.sum()), examples))
    return reasons, kept


def _rejudged(contract: schemasense.Contract, rows: pd.DataFrame, keys: set[str]) -> np.ndarray:
    """The reasons of ``rows`` when each repeats an earlier row on exactly the ``keys`` columns."""
    columns = {n: replace(c, unique=n in keys) for n, c in contract.columns.items()}
    again = replace(contract, columns=columns).validate(pd.concat([rows, rows]))
    return np.asarray(again.reasons, dtype=object)[len(rows) :]


def write_part(frame: pd.DataFrame, folder: Place, first_row: int) -> None:
    """``frame`` (index: file rows) as ``folder/part-<first row>.parquet``, written whole."""
    table = pa.Table.from_pandas(
        frame.assign(**{ROW_COLUMN: frame.index.to_numpy(dtype=np.int64)}), preserve_index=False
    )
    write_table(table, folder, f"part-{first_row:012d}.parquet")


def read_rows(folder: Place) -> pd.DataFrame:
    """The rows of a written dataset folder (local, or a URL of an object store), in file order
    (empty without parts)."""
    parts = parts_in(folder)
    if not parts:
        return pd.DataFrame()
    frame = pd.concat([read_table(p).to_pandas() for p in parts], ignore_index=True)
    return frame.set_index(ROW_COLUMN).rename_axis(None)
