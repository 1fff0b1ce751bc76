"""The demo: land the sample orders, run the loop through a real instance, report per batch."""

import json
import os
from pathlib import Path
from typing import Any

import dagster as dg

from suite.assets.metadata import latest_metadata
from suite.build import build_definitions
from suite.cli.runner import run_until_quiet
from suite.cli.sample_data import write_orders
from suite.config import BUNDLED_CONFIG, Settings
from suite.storage.sqlite_instance import storage_yaml

COLUMNS = (
    "batch",
    "rows_in",
    "rows_published",
    "rows_quarantined",
    "rows_held",
    "drifted_columns",
    "schema_changes",
    "decision",
    "actions",
    "verified",
)
_DAGSTER_YAML = """\
telemetry:
  enabled: false
freshness:
  enabled: true  # evaluate the freshness policies of raw_batch and published_batch
# A run whose worker never starts is failed after start_timeout_seconds, so the sensors that
# asked for it ask again (suite/sensors/recovery.py, relaunch.py). The default run launcher
# cannot resume runs: max_resume_run_attempts must stay 0.
run_monitoring:
  enabled: true
  start_timeout_seconds: 60
  poll_interval_seconds: 10
  max_resume_run_attempts: 0
"""


def open_instance(dagster_home: Path) -> dg.DagsterInstance:
    """The instance at ``dagster_home`` (created with SQLite storage if new: Dagster's own, with
    an engine kept per process, :mod:`suite.storage.sqlite_instance`)."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    config = dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text(_DAGSTER_YAML + storage_yaml(dagster_home))
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    return dg.DagsterInstance.get()


def demo_settings() -> Settings:
    """The instance of the environment with only the bundled orders declaration
    (``suite/suite.yaml``): the demo never touches the datasets of a user's ``suite.yaml``."""
    return Settings.from_env(BUNDLED_CONFIG)


def run_demo(settings: Settings) -> list[dict[str, Any]]:
    """Land the sample orders in the first dataset's landing folder and run the loop on it."""
    demo = settings.only([settings.datasets[0].name])
    write_orders(demo.datasets[0].landing)
    return [_without(row, "dataset", "signals") for row in run_datasets(demo)]


def run_datasets(settings: Settings) -> list[dict[str, Any]]:
    """Process every file landed for ``settings.datasets`` as the daemon would, in process;
    one row per batch of each dataset, with the dataset's name and the batch's signals."""
    defs = build_definitions(settings)
    instance = open_instance(settings.dagster_home)
    for dataset in settings.datasets:
        if dataset.landing is not None:  # a database source has no folder
            dataset.landing.mkdir(parents=True, exist_ok=True)
    # Blocking checks fail runs on purpose (that is write-audit-publish); keep the console quiet.
    run_until_quiet(defs, instance, log_level="CRITICAL")
    return [
        {"dataset": dataset.name, **row}
        for dataset in settings.datasets
        for row in batch_rows(instance, dataset.name)
    ]


def _without(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in keys}


def batch_rows(instance: dg.DagsterInstance, dataset: str) -> list[dict[str, Any]]:
    """One row per batch, read back from the instance's latest ``published_batch`` events."""
    rows = []
    for key in sorted(instance.get_dynamic_partitions(f"{dataset}_batches")):
        metadata = latest_metadata(instance, dg.AssetKey([dataset, "published_batch"]), key)
        if "outcome" in metadata:
            outcome = metadata["outcome"].value
            assert isinstance(outcome, dict)
            rows.append(
                {"batch": key, **{c: outcome[c] for c in COLUMNS[1:]}, "signals": outcome.get("signals", [])}
            )
        else:
            rows.append(
                {
                    "batch": key,
                    "rows_in": None,
                    "rows_published": 0,
                    "rows_quarantined": 0,
                    "rows_held": 0,
                    "drifted_columns": [],
                    "schema_changes": [],
                    "decision": "pending",
                    "actions": [],
                    "verified": None,
                    "signals": [],
                }
            )
    return rows


_HEADERS = {
    "rows_in": "in",
    "rows_published": "published",
    "rows_quarantined": "quarantined",
    "rows_held": "held",
}


def format_table(rows: list[dict[str, Any]]) -> str:
    """The rows as an aligned text table, one column per key of the first row."""

    def cell(value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(value) or "-"
        return "-" if value is None else str(value)

    columns = list(rows[0]) if rows else list(COLUMNS)
    headers = [_HEADERS.get(c, c.replace("_", " ")) for c in columns]
    table = [[cell(row[c]) for c in columns] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in table)) if table else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in table]
    return "\n".join(lines)


def to_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, indent=2)
