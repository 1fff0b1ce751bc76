"""Our own asset: each day's departures, computed from the warehouse's `flights` table."""

import dagster as dg
import duckdb
import pandas as pd

from airline.warehouse import warehouse

daily = dg.DailyPartitionsDefinition(start_date="2013-01-01", end_date="2014-01-01")


@dg.asset(partitions_def=daily, kinds={"duckdb", "pandas"})
def departures(context: dg.AssetExecutionContext) -> pd.DataFrame:
    """The flights that left New York on the partition's day (local time)."""
    year, month, day = map(int, context.partition_key.split("-"))
    with duckdb.connect(str(warehouse()), read_only=True) as con:
        return con.execute(
            "SELECT * FROM flights WHERE year = ? AND month = ? AND day = ? ORDER BY flight_id",
            [year, month, day],
        ).df()


daily_departures = dg.define_asset_job("daily_departures", [departures], partitions_def=daily)
every_morning = dg.build_schedule_from_partitioned_job(daily_departures, hour_of_day=6)
