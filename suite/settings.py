"""Where the suite keeps things, and how each dataset is configured.

The embedded default keeps everything outside the working tree, under ``DATAOPS_HOME``
(default ``~/.local/share/cybernetic-dataops``): a ``dagster_home`` with SQLite storage and a
``landing`` folder. ``DAGSTER_HOME`` and ``DATAOPS_LANDING`` override their parts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_DIR = Path(__file__).parent


@dataclass(frozen=True)
class DatasetConfig:
    """One dataset the suite watches: its landing folder, training window and policy."""

    name: str
    landing: Path
    policy: Path = PACKAGE_DIR / "orders_policy.yaml"
    training_batches: int = 3
    patterns: tuple[str, ...] = ("*.parquet", "*.csv")
    sensor_interval_seconds: int = 30
    drift_schedule: str = "0 6 * * *"

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"dataset name {self.name!r} must be a Python identifier (letters, digits, _)")
        if self.training_batches < 1:
            raise ValueError(f"dataset {self.name!r}: training_batches must be at least 1")


@dataclass(frozen=True)
class Settings:
    dagster_home: Path
    datasets: tuple[DatasetConfig, ...] = field(default_factory=tuple)

    @property
    def storage(self) -> Path:
        """Everything runs produce: under the instance's own storage folder."""
        return self.dagster_home / "storage" / "dataops"

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(os.environ.get("DATAOPS_HOME", Path.home() / ".local/share/cybernetic-dataops"))
        dagster_home = Path(os.environ.get("DAGSTER_HOME", home / "dagster_home"))
        landing = Path(os.environ.get("DATAOPS_LANDING", home / "landing"))
        return cls(dagster_home, (DatasetConfig("orders", landing),))
