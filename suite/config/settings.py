"""Where the suite keeps things, and how each dataset is configured.

The embedded default keeps everything outside the working tree, under ``DATAOPS_HOME``
(default ``~/.local/share/cybernetic-dataops``): a ``dagster_home`` with SQLite storage
(``DAGSTER_HOME`` overrides it) and the landing folders. The datasets come from a
``suite.yaml`` (see :mod:`suite.config`): ``DATAOPS_CONFIG`` if set, else ``suite.yaml`` in the
working directory (beside ``workspace.yaml``), else the bundled one, which declares the orders demo.
``DATAOPS_STORAGE`` puts what runs produce elsewhere: a folder or an fsspec URL (``s3://…``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

PACKAGE_DIR = Path(__file__).parent
BUNDLED_CONFIG = PACKAGE_DIR / "suite.yaml"
STORAGE_ENV = "DATAOPS_STORAGE"


@dataclass(frozen=True)
class DriftSettings:
    """Which reference a batch is scored against, and per-column method overrides.

    ``fixed`` is the profile learned from the training window; ``rolling`` merges the profiles
    of the last ``window`` published batches; ``same_weekday`` those of the same weekday in the
    last ``window`` weeks.
    """

    REFERENCES: ClassVar[tuple[str, ...]] = ("fixed", "rolling", "same_weekday")

    reference: str = "fixed"
    window: int = 7
    methods: Mapping[str, str] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    """Columns never tested for drift (besides those the contract says are identifiers)."""

    def __post_init__(self) -> None:
        if self.reference not in self.REFERENCES:
            raise ValueError(f"drift reference {self.reference!r} is not one of {list(self.REFERENCES)}")


@dataclass(frozen=True)
class ReadSettings:
    """How landed files are read (``read:`` in suite.yaml): the encoding (``None``: detected) and
    the limits past which a file is refused as unreadable."""

    encoding: str | None = None
    max_line_bytes: int = 1_048_576
    max_fields: int = 2_000
    max_memory_mb: int = 1_024


@dataclass(frozen=True)
class IntakeSettings:
    """When the landing sensor takes a file (``intake:`` in suite.yaml): once its size and mtime
    held for ``stable_seconds``; at most ``max_runs_per_tick`` runs per tick, each taking up to
    ``batches_per_run`` files that landed together."""

    stable_seconds: float = 5.0
    max_runs_per_tick: int = 20
    batches_per_run: int = 10


@dataclass(frozen=True)
class SqlSource:
    """A table or query read through SQLAlchemy (``source:`` in suite.yaml): each batch takes the
    rows past the last batch's ``incremental`` value, or one ``per_day`` once the day is over."""

    url: str
    table: str | None = None
    query: str | None = None
    incremental: str | None = None
    per_day: str | None = None


@dataclass(frozen=True)
class SqlTarget:
    """The table each batch's published rows are written to (``target:`` in suite.yaml)."""

    url: str
    table: str


@dataclass(frozen=True)
class DatasetConfig:
    """One dataset the suite watches: where its batches come from, training window and policy."""

    name: str
    landing: Any
    """The landing folder: a :class:`~pathlib.Path`, or a :class:`upath.UPath` when
    ``suite.yaml`` gives a URL (``s3://bucket/orders``; see :mod:`suite.storage.objects`);
    ``None`` when the batches come from a database (``source``)."""
    policy: Path = PACKAGE_DIR / "orders_policy.yaml"
    training_batches: int = 3
    patterns: tuple[str, ...] = ("*.parquet", "*.csv")
    sensor_interval_seconds: int = 30
    drift_schedule: str = "0 6 * * *"
    description: str = ""
    owners: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    contract: Mapping[str, float] = field(default_factory=dict)
    """Options of :func:`schemasense.infer` (``margin``, ``max_categories``…)."""
    columns: Mapping[str, Any] = field(default_factory=dict)
    """Per-column declarations (:class:`schemasense.ColumnDeclaration`) inference respects."""
    drift: DriftSettings = field(default_factory=DriftSettings)
    read: ReadSettings = field(default_factory=ReadSettings)
    intake: IntakeSettings = field(default_factory=IntakeSettings)
    model_target: str = ""
    """A column the suite's downstream model predicts; empty: the dataset has no model."""
    source: SqlSource | None = None
    """A database table or query the batches are read from, instead of a landing folder."""
    target: SqlTarget | None = None
    """A table each batch's published rows are also written to."""
    asset: str | None = None
    """The key (``a/b``) of a user's own asset whose materializations are the batches: its checks
    put each materialization in ``landing`` (:mod:`suite.around`)."""
    freshness_hours: float | None = None
    """A new batch is expected at least this often: ``raw_batch`` and ``published_batch`` fail
    their freshness policy, and a ``freshness`` signal goes through the policy, when none
    arrived for this long (``None``: neither)."""

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"dataset name {self.name!r} must be a Python identifier (letters, digits, _)")
        if self.training_batches < 1:
            raise ValueError(f"dataset {self.name!r}: training_batches must be at least 1")


@dataclass(frozen=True)
class DaskSettings:
    """The cluster for batches of more than ``threshold_rows`` rows (``dask:`` in suite.yaml):
    the scheduler at ``scheduler``, else a local cluster of ``workers`` processes per batch."""

    scheduler: str | None = None
    threshold_rows: int = 5_000_000
    workers: int = 2
    chunk_rows: int = 250_000
    part_rows: int = 2_000_000


@dataclass(frozen=True)
class Settings:
    dagster_home: Path
    datasets: tuple[DatasetConfig, ...] = field(default_factory=tuple)
    storage_url: str = ""
    """Where runs' outputs go instead of the instance's folder (``DATAOPS_STORAGE``): a folder or
    any fsspec URL (``s3://bucket/prefix``); see :mod:`suite.storage.objects`."""
    dask: DaskSettings = field(default_factory=DaskSettings)

    @property
    def storage(self) -> Any:
        """Everything runs produce: ``storage_url`` if set (a :class:`Path`, or a
        :class:`upath.UPath` for a URL), else the instance's own storage folder."""
        if self.storage_url:
            from suite.storage.objects import storage_root

            return storage_root(self.storage_url)
        return self.dagster_home / "storage" / "dataops"

    @classmethod
    def from_env(cls, config: Path | None = None) -> Settings:
        """The instance and data home from the environment; the datasets of ``config``
        (default: :func:`config_path`)."""
        from .loader import load_suite

        datasets, dask = load_suite(config or config_path(), data_home())
        return cls.without_datasets(dask).with_datasets(datasets)

    @classmethod
    def without_datasets(cls, dask: DaskSettings | None = None) -> Settings:
        """The instance and the storage from the environment, no dataset (a component brings its own)."""
        dagster_home = Path(os.environ.get("DAGSTER_HOME", data_home() / "dagster_home"))
        return cls(dagster_home, (), os.environ.get(STORAGE_ENV, ""), dask or DaskSettings())

    def with_datasets(self, datasets: tuple[DatasetConfig, ...]) -> Settings:
        return Settings(self.dagster_home, datasets, self.storage_url, self.dask)

    def only(self, names: list[str] | tuple[str, ...]) -> Settings:
        """These settings with only the datasets named (an unknown name is an error)."""
        unknown = sorted(set(names) - {d.name for d in self.datasets})
        if unknown:
            declared = sorted(d.name for d in self.datasets)
            raise ValueError(f"no dataset {unknown[0]!r} is declared; declared: {declared}")
        return self.with_datasets(tuple(d for d in self.datasets if d.name in names))


def data_home() -> Path:
    """``DATAOPS_HOME``: relative landing folders are under it (``~/.local/share/cybernetic-dataops``)."""
    return Path(os.environ.get("DATAOPS_HOME", Path.home() / ".local/share/cybernetic-dataops"))


def config_path() -> Path:
    """``DATAOPS_CONFIG``, else ``./suite.yaml``, else the bundled declaration of the orders demo."""
    if "DATAOPS_CONFIG" in os.environ:
        return Path(os.environ["DATAOPS_CONFIG"])
    local = Path("suite.yaml")
    return local if local.is_file() else BUNDLED_CONFIG
