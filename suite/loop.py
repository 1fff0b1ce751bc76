"""What a dataset's declaration means for the libraries: one place for the live loop and the backtest.

The Dagster assets (:mod:`suite.assets`) and ``dataops backtest`` (:mod:`suite.cli.backtest`)
both learn the contract, build the drift detector, choose the rows imputers learn from and read
the policy with these functions, so a backtest judges batches exactly as the live loop does.
None of them imports Dagster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

import datareflex
import driftguard
import schemasense
from suite.config import DatasetConfig

IMPUTER_ROWS = 5000
"""Rows of the training window that imputers learn from (a seeded sample when there are more)."""


def learn_contract(dataset: DatasetConfig, frames: Sequence[pd.DataFrame]) -> schemasense.Contract:
    """The first contract of ``dataset``: inference with the declared options, keys and columns."""
    return schemasense.infer(
        list(frames),
        name=dataset.name,
        keys=list(dataset.keys) or None,
        columns=dict(dataset.columns),
        **dict(dataset.contract),
    )


def drift_exclusions(dataset: DatasetConfig, contract: schemasense.Contract | None) -> dict[str, str]:
    """Columns never tested for drift, with why: the contract's identifiers, timestamps and
    calendar columns, and those declared in ``drift.exclude``."""
    excluded = dict(contract.drift_exclusions()) if contract is not None else {}
    excluded.update({column: "excluded in suite.yaml (drift.exclude)" for column in dataset.drift.exclude})
    return excluded


def drift_detector(dataset: DatasetConfig, contract: schemasense.Contract | None) -> driftguard.DriftDetector:
    """An unfitted detector with the declared methods and the columns left out."""
    return driftguard.DriftDetector(
        methods=dict(dataset.drift.methods) or None, exclude=drift_exclusions(dataset, contract)
    )


def declared_reference(
    dataset: DatasetConfig,
    key: str,
    earlier: Sequence[str],
    days: Mapping[str, dt.date | None],
    published_profile: Callable[[str], driftguard.Profile | None],
) -> tuple[driftguard.Profile, tuple[str, ...]] | None:
    """The rolling or same-weekday reference of batch ``key`` (``drift.reference``): the merged
    profiles of the chosen earlier published batches, and which they are. ``None`` for a fixed
    reference, or when none of the chosen batches published a row (the training window serves).

    ``earlier`` is the batches that landed before ``key``, in landing order, ``days`` the day of
    each (its name's date, else the day it landed), ``published_profile`` a batch's published rows
    profiled on the training bins (``None`` when it published none).
    """
    if dataset.drift.reference == "fixed":
        return None
    chosen = driftguard.reference_batches(
        dataset.drift.reference, earlier, dataset.drift.window, days.get(key), days
    )
    profiles = {k: p for k in chosen if (p := published_profile(k)) is not None}
    if not profiles:
        return None
    return driftguard.merge_all(list(profiles.values())), tuple(profiles)


def imputer_rows(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Known-good rows imputers learn from: up to :data:`IMPUTER_ROWS` of the training window."""
    rows = pd.concat(list(frames), ignore_index=True)
    return rows.sample(n=IMPUTER_ROWS, random_state=0) if len(rows) > IMPUTER_ROWS else rows


def read_policy(dataset: DatasetConfig) -> datareflex.Policy:
    return datareflex.Policy.from_file(dataset.policy)


def signal_summary(signal: datareflex.Signal) -> dict[str, Any]:
    """What ``dataops run --json`` and the backtest show of a signal."""
    return {
        "kind": signal.kind.value,
        "column": signal.column,
        "rule": signal.rule,
        "scope": signal.scope.value if signal.scope else "",
        "count": signal.count,
        "detail": signal.detail,
    }


def event_time(key: str, landed_at: dt.datetime | None) -> dt.datetime | dt.date | None:
    """The batch's own time, which cooldowns and the breaker count: the date in its name, else
    when it landed. A backfill of dated files therefore behaves like the same days live."""
    return driftguard.batch_date(key) or landed_at
