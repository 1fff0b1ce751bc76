"""A seeded stream of e-commerce orders, one Parquet file per day, with known faults.

Days 1-4 are clean, day 5 drifts (``amount`` and ``channel``), day 6 carries corrupt rows,
day 7 changes the schema (adds ``coupon_code``, sends ``quantity`` as text). Every injected
fault is returned with the order ids it touched, so tests can check each one was handled.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

COUNTRIES = ("US", "GB", "DE", "FR", "NL", "ES", "IT", "PL", "SE", "CA")
COUNTRY_WEIGHTS = (0.30, 0.14, 0.13, 0.10, 0.07, 0.07, 0.06, 0.05, 0.04, 0.04)
CHANNELS = ("web", "mobile", "marketplace")
STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled", "returned")
STATUS_WEIGHTS = (0.10, 0.15, 0.20, 0.45, 0.06, 0.04)
DISCOUNTS = (0.0, 0.05, 0.10, 0.15, 0.20)
DISCOUNT_WEIGHTS = (0.60, 0.15, 0.13, 0.08, 0.04)
DOMAINS = ("example.com", "mail.test", "shop.example", "inbox.test")
FIRST_DAY = dt.date(2026, 11, 1)
DRIFTED_COLUMNS = ("amount", "channel")
"""The columns the drift day shifts."""


@dataclass(frozen=True)
class SampleBatch:
    """One landed file and what was done to it."""

    name: str
    kind: str  # "clean", "drift", "corrupt" or "schema_change"
    rows: int
    faults: dict[str, tuple[int, ...]] = field(default_factory=dict)


def orders_for_day(
    day: int, rng: np.random.Generator, first_order_id: int, *, drift: bool = False
) -> pd.DataFrame:
    """Clean orders of day ``day`` (0-based), ids starting at ``first_order_id``."""
    rows = int(rng.integers(1100, 1300))
    date = FIRST_DAY + dt.timedelta(days=day)
    customer_id = rng.integers(1, 20_000, rows)
    channel_weights = (0.30, 0.60, 0.10) if drift else (0.55, 0.35, 0.10)
    log_mean = 3.9 if drift else 3.6
    seconds = np.sort(rng.integers(0, 86_400, rows))
    created = [dt.datetime.combine(date, dt.time()) + dt.timedelta(seconds=int(s)) for s in seconds]
    return pd.DataFrame(
        {
            "order_id": np.arange(first_order_id, first_order_id + rows, dtype="int64"),
            "customer_id": customer_id.astype("int64"),
            "country": rng.choice(COUNTRIES, rows, p=COUNTRY_WEIGHTS),
            "channel": rng.choice(CHANNELS, rows, p=channel_weights),
            "amount": np.round(rng.lognormal(log_mean, 0.55, rows), 2),
            "quantity": (1 + rng.poisson(1.2, rows)).astype("int64"),
            "discount": rng.choice(DISCOUNTS, rows, p=DISCOUNT_WEIGHTS),
            "created_at": [c.strftime("%Y-%m-%dT%H:%M:%S") for c in created],
            "email": [f"customer{c}@{DOMAINS[c % len(DOMAINS)]}" for c in customer_id],
            "status": rng.choice(STATUSES, rows, p=STATUS_WEIGHTS),
        }
    )


def corrupt(df: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, tuple[int, ...]]]:
    """Inject faults into distinct rows; return the frame and the order ids of each fault."""
    df = df.copy()
    df["country"] = df["country"].astype(object)
    df["channel"] = df["channel"].astype(object)
    df["discount"] = df["discount"].astype(float)
    plan = {
        "null_country": 6,
        "null_discount": 6,
        "negative_amount": 4,
        "huge_amount": 3,
        "huge_quantity": 3,
        "unknown_country": 5,
        "unknown_channel": 3,
        "bad_date": 5,
    }
    positions = rng.choice(len(df), sum(plan.values()), replace=False)
    faults: dict[str, tuple[int, ...]] = {}
    start = 0
    for kind, count in plan.items():
        rows = positions[start : start + count]
        start += count
        faults[kind] = tuple(int(v) for v in df["order_id"].iloc[rows])
        column, value = {
            "null_country": ("country", None),
            "null_discount": ("discount", np.nan),
            "negative_amount": ("amount", -15.0),
            "huge_amount": ("amount", 1_000_000.0),
            "huge_quantity": ("quantity", 250),
            "unknown_country": ("country", "ZZ"),
            "unknown_channel": ("channel", "fax"),
            "bad_date": ("created_at", "2026-11-06T25:61:00"),
        }[kind]
        df.loc[df.index[rows], column] = value
    clean = df.index.difference(df.index[positions])
    originals = rng.choice(clean[: len(clean) // 2], 5, replace=False)
    copies = df.loc[originals]
    faults["duplicate_order_id"] = tuple(int(v) for v in copies["order_id"])
    df = pd.concat([df, copies], ignore_index=True)
    return df, faults


def change_schema(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Add ``coupon_code`` and send ``quantity`` as text, as an upstream release might."""
    df = df.copy()
    codes = rng.choice(["WELCOME10", "BLACKFRIDAY", "VIP5"], len(df))
    df["coupon_code"] = pd.Series(codes, index=df.index).where(rng.random(len(df)) < 0.2, None)
    df["quantity"] = df["quantity"].astype(str)
    return df


def write_orders(landing: str | os.PathLike[str], *, seed: int = 7, clean_days: int = 4) -> list[SampleBatch]:
    """Write the sample stream into ``landing`` (files already there are left untouched)."""
    folder = Path(landing)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    kinds = ["clean"] * clean_days + ["drift", "corrupt", "schema_change"]
    batches: list[SampleBatch] = []
    next_id = 100_000
    for day, kind in enumerate(kinds):
        df = orders_for_day(day, rng, next_id, drift=kind == "drift")
        next_id += len(df)
        faults: dict[str, tuple[int, ...]] = {}
        if kind == "corrupt":
            df, faults = corrupt(df, rng)
        elif kind == "schema_change":
            df = change_schema(df, rng)
        name = f"orders_{FIRST_DAY + dt.timedelta(days=day)}.parquet"
        path = folder / name
        if not path.exists():
            tmp = path.with_suffix(".parquet.tmp")
            df.to_parquet(tmp, index=False)
            os.replace(tmp, path)
        batches.append(SampleBatch(name, kind, len(df), faults))
    return batches
