"""Scoring the loop's batch rows against the ground truth: what was published, what drifted,
which schema changes and faults were seen; and :func:`measure`, which lands and runs it all."""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
from _quality_data import FAULT_KINDS, NEW_DATE_FORMAT, Fault, inject
from _real_datasets import RealDataset
from _real_loop import Landed, LoopError, declare, land, run_cli, run_library

BAD_DATE = "bad date format"
PUBLISHED_FLOOR = 0.99
"""Least share of the later clean rows that must be published."""


@dataclass
class FaultVerdict:
    kind: str
    verdict: str  # caught, MISSED, n/a
    description: str = ""
    evidence: tuple[str, ...] = ()
    outcome: str = ""


@dataclass
class Score:
    """What one dataset's runs showed."""

    dataset: RealDataset
    training: int
    clean: list[dict[str, Any]]
    shuffled: list[dict[str, Any]]
    landed: Landed
    landed_shuffled: Landed | None
    faults: list[FaultVerdict] = field(default_factory=list)

    def later(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(rows, key=lambda r: r["batch"])[self.training :]

    @property
    def published_share(self) -> float:
        later = self.later(self.clean)
        landed = sum(r["rows_in"] or 0 for r in later)
        return sum(r["rows_published"] for r in later) / landed if landed else 0.0

    def drift_alerts(self, rows: list[dict[str, Any]]) -> Counter[str]:
        alerts: Counter[str] = Counter()
        for r in self.later(rows):
            alerts.update(set(drifted(r)))
        return alerts

    @property
    def identifier_alerts(self) -> Counter[str]:
        alerts = self.drift_alerts(self.clean) + self.drift_alerts(self.shuffled)
        return Counter({c: n for c, n in alerts.items() if c in self.dataset.identifiers})

    @property
    def false_alarm_rate(self) -> float:
        later = self.later(self.shuffled)
        return sum(bool(drifted(r)) for r in later) / len(later) if later else 0.0

    @property
    def alert_rate(self) -> float:
        later = self.later(self.clean)
        return sum(bool(drifted(r)) for r in later) / len(later) if later else 0.0

    @property
    def schema_changes(self) -> list[tuple[str, str, str]]:
        return [
            (run, r["batch"], change)
            for run, rows in (("ordered", self.clean), ("shuffled", self.shuffled))
            for r in rows
            for change in r["schema_changes"]
        ]

    @property
    def unaccounted(self) -> tuple[int, list[str]]:
        """Rows neither published, quarantined nor held (and files with no batch row)."""
        missing, why = 0, []
        for rows, landed in ((self.clean, self.landed), (self.shuffled, self.landed_shuffled)):
            if landed is None:
                continue
            by_batch = {r["batch"]: r for r in rows}
            for file, count in landed.files:
                r = by_batch.get(file)
                if r is None or r["rows_in"] is None:
                    missing += count
                    why.append(f"{file}: no outcome ({r['decision'] if r else 'no row'})")
                    continue
                out = r["rows_published"] + r["rows_quarantined"] + r["rows_held"]
                if r["rows_in"] != count or out != count:
                    missing += abs(count - out)
                    why.append(f"{file}: landed {count}, in {r['rows_in']}, out {out}")
        return missing, why

    @property
    def caught(self) -> tuple[int, int]:
        applicable = [f for f in self.faults if f.verdict != "n/a"]
        return sum(f.verdict == "caught" for f in applicable), len(applicable)


def drifted(row: dict[str, Any]) -> list[str]:
    """Columns a batch raised drift on (its report, or drift signals when it carries them)."""
    columns = set(row.get("drifted_columns") or [])
    columns |= {s["column"] for s in row.get("signals") or [] if s["kind"] == "drift"}
    return sorted(columns)


def signal_counts(row: dict[str, Any]) -> dict[tuple[str, str, str], int]:
    """``(kind, column, rule) -> count`` of a batch row's signals (from its summary if it has none)."""
    if "signals" in row and row["signals"] is not None:
        out: dict[tuple[str, str, str], int] = {}
        for s in row["signals"]:
            key = (s["kind"], s["column"], s["rule"])
            out[key] = max(out.get(key, 0), int(s.get("count") or 0))
        return out
    found = {("drift", c, "drift"): 0 for c in row.get("drifted_columns") or []}
    for change in row.get("schema_changes") or []:
        column, _, rule = change.partition(": ")
        found[("schema_change", column, rule)] = 0
    return found


def judge_fault(fault: Fault, faulted: dict[str, Any] | None, clean: dict[str, Any]) -> FaultVerdict:
    if faulted is None:
        return FaultVerdict(fault.kind, "MISSED", fault.description, ("no batch row",))
    baseline = signal_counts(clean)
    fresh = [
        f"{kind}:{column}:{rule}({count})"
        for (kind, column, rule), count in signal_counts(faulted).items()
        if column in fault.columns
        and ((kind, column, rule) not in baseline or count > baseline[(kind, column, rule)])
    ]
    outcome = (
        f"{faulted['decision']}: {faulted['rows_published']} published, {faulted['rows_quarantined']} "
        f"quarantined, {faulted['rows_held']} held (clean: {clean['rows_published']}/"
        f"{clean['rows_quarantined']}/{clean['rows_held']})"
    )
    return FaultVerdict(fault.kind, "caught" if fresh else "MISSED", fault.description, tuple(fresh), outcome)


def fault_for(kind_index: int, index: int, batch: pd.DataFrame, dataset: RealDataset) -> Fault:
    """Fault kind ``kind_index`` on a copy of ``batch`` (``_quality_data.inject``, which reads
    dates as ISO 8601; a dataset with text dates of its own format gets them rewritten here)."""
    kind, _ = FAULT_KINDS[kind_index]
    column = dataset.targets.date
    if kind != BAD_DATE or not dataset.date_format or column is None:
        return inject(kind_index, index, batch, dataset.targets)
    frame = batch.copy()
    stamps = pd.to_datetime(batch[column], format=dataset.date_format)
    frame[column] = stamps.dt.strftime(NEW_DATE_FORMAT).astype(object)
    before, after = batch[column].iloc[0], frame[column].iloc[0]
    return Fault(kind, (column,), f"{column} written as {NEW_DATE_FORMAT} ({before!r} -> {after!r})", frame)


@dataclass(frozen=True)
class Plan:
    """What to land for one dataset: its clean batches, and which copies beside them."""

    index: int
    dataset: RealDataset
    batches: int
    training: int
    shuffled: bool = True
    kinds: tuple[int, ...] = tuple(range(len(FAULT_KINDS)))


def measure(plans: Sequence[Plan], engine: str, workdir: str | None = None) -> list[Score]:
    """Land the clean, shuffled and faulted copies of each planned dataset, run the loop once
    over all of them (one ``suite.yaml``), and score each dataset.

    Everything goes in a temporary folder under ``workdir`` (the system's default if ``None``),
    gone afterwards.
    """
    with tempfile.TemporaryDirectory(prefix="real-data-", dir=workdir) as tmp:
        home = Path(tmp)
        declared: list[Landed] = []
        landed = []
        for plan in plans:
            name, training, keys = plan.dataset.name, plan.training, plan.dataset.keys
            batches = plan.dataset.batches(plan.batches)
            if len(batches) <= training:
                raise LoopError(f"{name}: {len(batches)} batches, and the first {training} only train")
            clean = land(home, name, batches, training, keys)
            shuffled = None
            if plan.shuffled:
                shuffled = land(home, f"{name}_shuffled", plan.dataset.shuffled(batches), training, keys)
            faults: list[tuple[Fault, Landed | None]] = []
            label, target = batches[training]
            for kind_index in plan.kinds:
                fault = fault_for(kind_index, plan.index, target, plan.dataset)
                if fault.frame is not None and fault.frame.to_csv(index=False) == target.to_csv(index=False):
                    # CSV has no types: numbers sent as text are the same bytes as the numbers.
                    fault = replace(fault, frame=None, reason="the CSV file is unchanged by it")
                if fault.frame is None:
                    faults.append((fault, None))
                    continue
                copy = land(
                    home,
                    f"{name}_fault{kind_index}",
                    [*batches[:training], (label, fault.frame)],
                    training,
                    keys,
                )
                faults.append((fault, copy))
            declared += [clean, *([shuffled] if shuffled else []), *(c for _, c in faults if c is not None)]
            landed.append((plan, clean, shuffled, faults, f"{name}_{label}.csv"))
        config = declare(home, declared)
        rows = run_cli(home, config) if engine == "cli" else run_library(home, config, declared)
    by_dataset: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_dataset.setdefault(r["dataset"], []).append(r)
    scores = []
    for plan, clean, shuffled, faults, target_file in landed:
        score = Score(
            plan.dataset,
            plan.training,
            by_dataset.get(clean.name, []),
            by_dataset.get(shuffled.name, []) if shuffled else [],
            clean,
            shuffled,
        )
        clean_row = next((r for r in score.clean if r["batch"] == target_file), None)
        for fault, copy in faults:
            if copy is None:
                score.faults.append(FaultVerdict(fault.kind, "n/a", fault.reason))
            elif clean_row is None:
                score.faults.append(FaultVerdict(fault.kind, "MISSED", fault.description, ("no clean row",)))
            else:
                faulted = next(
                    (r for r in by_dataset.get(copy.name, []) if r["batch"] == copy.files[-1][0]), None
                )
                score.faults.append(judge_fault(fault, faulted, clean_row))
        scores.append(score)
    return scores
