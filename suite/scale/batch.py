"""A whole batch file, chunk by chunk in one process: one merged verdict, outputs on disk.

Chunks are profiled and validated one at a time (:func:`.scan.scan_chunk`), so peak memory is
that of a chunk, whatever the file's size. The chunk verdicts merge into one
:class:`ScanResult`: profiles by ``Profile.merge`` (counts, missing values, extremes exactly;
float sums up to rounding; the row sample is a sample of the batch, not the whole-file one),
violations by adding counts (a null share is judged on the batch's totals). Valid rows go to
``published/``, or to ``held/`` when a batch rule in ``hold_rules`` fired; invalid ones to
``quarantine/``: rows in = published + quarantined + held.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import driftguard
import schemasense
from schemasense import Rule, Violation
from schemasense._validate import MIN_NULL_BURST  # the batch rule the chunks' totals are judged by

from .chunks import CHUNK_ROWS, Part, iter_chunks, whole
from .keys import KeyLedger, key_hashes, merge_repeats
from .places import Place, as_text, locate, make_folder, move_folder, remove
from .scan import QUARANTINE, VALID, ChunkScan, scan_chunk

PUBLISHED, HELD = "published", "held"
_RULE_ORDER = [
    Rule.MISSING_COLUMN, Rule.TYPE_CHANGED, Rule.TYPE, Rule.NOT_NULL, Rule.NULL_FRACTION, Rule.MINIMUM,
    Rule.MAXIMUM, Rule.ALLOWED, Rule.PATTERN, Rule.UNIQUE, Rule.UNEXPECTED_COLUMN,
]  # fmt: skip
"""Violations of a column in the order a whole-file validation finds them."""


@dataclass(frozen=True)
class ScanResult:
    """The verdict on one batch file scanned in chunks (in one process or on a cluster)."""

    path: str
    rows: int
    published: int
    quarantined: int
    held: int
    profile: driftguard.Profile = field(repr=False)
    violations: tuple[Violation, ...]
    new_categories: dict[str, tuple[str, ...]]
    outputs: dict[str, str]
    chunks: int
    workers: tuple[str, ...] = ()

    @property
    def accounted(self) -> bool:
        """Every row is published, quarantined or held, exactly once."""
        return self.rows == self.published + self.quarantined + self.held

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "rows": self.rows,
            "published": self.published,
            "quarantined": self.quarantined,
            "held": self.held,
            "violations": [v.to_dict() for v in self.violations],
            "new_categories": {k: list(v) for k, v in self.new_categories.items()},
            "outputs": self.outputs,
            "chunks": self.chunks,
            "workers": list(self.workers),
            "profile": self.profile.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScanResult:
        violations = tuple(
            Violation(v["column"], Rule(v["rule"]), v["count"], tuple(v["examples"]), v["detail"])
            for v in data["violations"]
        )
        return cls(
            data["path"],
            data["rows"],
            data["published"],
            data["quarantined"],
            data["held"],
            driftguard.Profile.from_dict(data["profile"]),
            violations,
            {k: tuple(v) for k, v in data["new_categories"].items()},
            dict(data["outputs"]),
            data["chunks"],
            tuple(data["workers"]),
        )


def scan_file(
    path: Place,
    contract: schemasense.Contract,
    out: Place,
    like: driftguard.Profile | None = None,
    *,
    chunk_rows: int = CHUNK_ROWS,
    hold_rules: Iterable[Rule] = (),
    sample_rows: int = 2000,
) -> ScanResult:
    """Profile (like ``like``, else like the file's first chunk), validate and split ``path``
    into ``out``/published, quarantine and held, ``chunk_rows`` rows at a time."""
    template = like or first_profile(path, contract, chunk_rows)
    prepare(out)
    part = whole(path, contract)
    scan = scan_part(part, contract, template, as_text(out), chunk_rows, {}, sample_rows)
    return finish(as_text(path), [scan] if scan else [], contract, out, hold_rules)


def prepare(out: Place) -> None:
    """Empty ``out`` of an earlier scan's rows: a scan run again (a retry) leaves no stale part."""
    folder = locate(out)
    for name in (VALID, QUARANTINE, PUBLISHED, HELD):
        remove(folder / name)


def first_profile(path: Place, contract: schemasense.Contract | None, chunk_rows: int) -> driftguard.Profile:
    """The first chunk's profile: the bins and categories every chunk is counted on."""
    first = next(iter_chunks(path, chunk_rows, contract), None)
    if first is None:
        raise ValueError(f"{path}: no rows")
    return driftguard.profile(first.frame, sample_rows=0)


def profile_file(
    path: Place,
    like: driftguard.Profile | None,
    chunk_rows: int = CHUNK_ROWS,
    contract: schemasense.Contract | None = None,
    part: Part | None = None,
) -> driftguard.Profile:
    """The profile of ``path`` (of its ``part``) on ``like``'s bins (else its first chunk's),
    chunk by chunk."""
    template = like or first_profile(path, contract, chunk_rows)
    total = driftguard.Profile(0)
    for chunk in iter_chunks(path, chunk_rows, contract, part):
        counted = driftguard.profile(chunk.frame, like=template)
        total = counted if not total.rows else total.merge(counted)
    return total


def scan_part(
    part: Part,
    contract: schemasense.Contract,
    like: driftguard.Profile,
    out: str,
    chunk_rows: int,
    earlier: dict[str, np.ndarray],
    sample_rows: int = 2000,
    worker: str = "",
) -> ChunkScan | None:
    """Every chunk of ``part``, merged (``None`` without rows); ``earlier`` names its rows whose
    key an earlier part holds."""
    ledger, merged_scan = KeyLedger(), None
    for chunk in iter_chunks(part.path, chunk_rows, contract, part):
        repeats = ledger.repeats(key_hashes(contract, chunk.frame))
        inside = {
            n: r[(r >= chunk.first_row) & (r < chunk.first_row + len(chunk.frame))]
            for n, r in earlier.items()
        }
        merged = merge_repeats(repeats, inside)
        scan = scan_chunk(chunk, contract, like, out, merged, sample_rows=sample_rows, worker=worker)
        merged_scan = scan if merged_scan is None else merged_scan.merge(scan)
    return merged_scan


def finish(
    path: str,
    scans: Sequence[ChunkScan],
    contract: schemasense.Contract,
    out: Place,
    hold_rules: Iterable[Rule] = (),
) -> ScanResult:
    """Merge the chunk verdicts of a file; move its valid rows to published/ or held/."""
    total = merge_all(scans)
    violations = merge_violations(total, contract)
    held = bool({v.rule for v in violations} & set(hold_rules))
    folder = locate(out)
    target = folder / (HELD if held else PUBLISHED)
    make_folder(folder / VALID)
    make_folder(folder / QUARANTINE)
    move_folder(folder / VALID, target)
    return ScanResult(
        path,
        total.rows,
        0 if held else total.valid,
        total.invalid,
        total.valid if held else 0,
        total.profile,
        violations,
        dict(total.new_categories),
        {HELD if held else PUBLISHED: str(target), QUARANTINE: str(folder / QUARANTINE)},
        total.chunks if total.rows else 0,
        total.workers,
    )


def merge_all(scans: Iterable[ChunkScan]) -> ChunkScan:
    """Scans of a file's parts as one, in file order (an empty one without any)."""
    ordered = sorted(scans, key=lambda s: s.first_row)
    if not ordered:
        return ChunkScan(0, 0, 0, driftguard.Profile(0), chunks=0)
    total = ordered[0]
    for scan in ordered[1:]:
        total = total.merge(scan)
    return total


def merge_violations(total: ChunkScan, contract: schemasense.Contract) -> tuple[Violation, ...]:
    """The batch's violations in a whole-file validation's order, with the null share judged on
    the batch's totals."""
    merged = list(total.violations)
    for name, count in total.nulls:
        cap = contract.columns[name].max_null_fraction
        rows = total.rows
        if cap is not None and count >= MIN_NULL_BURST and rows and count / rows > cap:
            detail = f"{count / rows:.1%} missing; the contract allows {cap:.1%}"
            merged.append(Violation(name, Rule.NULL_FRACTION, count, detail=detail))
    order = {name: i for i, name in enumerate(contract.columns)}
    return tuple(
        sorted(
            merged,
            key=lambda v: (
                v.rule is Rule.UNEXPECTED_COLUMN,
                order.get(v.column, len(order)),
                _RULE_ORDER.index(v.rule),
            ),
        )
    )
