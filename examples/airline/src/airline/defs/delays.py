"""Downstream of the suite: delays per carrier, computed only from verified departures."""

import dagster as dg
import pandas as pd

batches = dg.DynamicPartitionsDefinition(name="departures_batches")  # the suite's batches: one per day


@dg.asset(
    partitions_def=batches,
    ins={"published": dg.AssetIn(key=dg.AssetKey(["departures", "published_batch"]))},
    kinds={"pandas"},
)
def delays_by_carrier(published: pd.DataFrame) -> pd.DataFrame:
    """Mean departure and arrival delay of each carrier on the day."""
    return published.groupby("carrier")[["dep_delay", "arr_delay"]].mean().reset_index()
