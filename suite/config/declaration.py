"""The schema of ``suite.yaml``: pydantic models, ``extra="forbid"`` at every level.

These models are the one definition of what a declaration may say: :mod:`suite.config.loader`
validates files with them, and ``dataops schema suite`` prints their JSON Schema for editors.

>>> declaration = SuiteDeclaration.model_validate({"datasets": {"sales": {"landing": "in/*.csv"}}})
>>> declaration.datasets["sales"].training_batches, declaration.datasets["sales"].drift.reference
(3, 'fixed')
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

import dagster as dg
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemasense import ColumnDeclaration

_OWNER = re.compile(r"^(team:[A-Za-z0-9_.-]+|[^@\s]+@[^@\s]+\.[A-Za-z]{2,})$")
DriftMethod = Literal[
    "ks", "wasserstein", "psi", "chi_square", "jensen_shannon", "l_infinity", "total_variation"
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContractOptions(_Strict):
    """Options of ``schemasense.infer``: the thresholds of its inference rules."""

    margin: float = Field(2.0, ge=0, description="ranges widen by this many spreads")
    max_categories: Annotated[
        int, Field(ge=0, description="text with at most this many values is a category")
    ] = 50
    min_rows_per_category: Annotated[
        int, Field(ge=0, description="…seen this many times each on average")
    ] = 10
    min_rows_for_key: Annotated[
        int, Field(ge=1, description="a column is guessed unique from this many values")
    ] = 20
    min_format_share: Annotated[
        float, Field(ge=0, le=1, description="share of text that must parse as a date")
    ] = 0.99
    min_pattern_share: Annotated[
        float, Field(ge=0, le=1, description="share of text that must share a pattern")
    ] = 0.999


class DriftDeclaration(_Strict):
    """Which reference a batch is scored against, per-column methods, and columns left out."""

    reference: Literal["fixed", "rolling", "same_weekday"] = Field(
        "fixed",
        description="fixed: the training window; rolling: the last `window` published batches; "
        "same_weekday: the same weekday in the last `window` weeks",
    )
    window: Annotated[int, Field(ge=1, description="batches (rolling) or weeks (same_weekday)")] = 7
    methods: dict[str, DriftMethod] = Field(default_factory=dict, description="a drift method per column")
    exclude: list[str] = Field(default_factory=list, description="columns never tested for drift")


class ReadDeclaration(_Strict):
    """How landed files are read: the encoding, and the limits past which a file is refused."""

    encoding: str | None = Field(None, description="the files' text encoding; unset: detected")
    max_line_bytes: Annotated[int, Field(ge=1024, description="a longer CSV line is refused")] = 1_048_576
    max_fields: Annotated[int, Field(ge=1, description="a CSV row with more fields is refused")] = 2_000
    max_memory_mb: Annotated[int, Field(ge=16, description="a file needing more memory is refused")] = 1_024


class IntakeDeclaration(_Strict):
    """When the landing sensor takes a file, and how many it hands to each run."""

    stable_seconds: Annotated[
        float, Field(ge=0, description="a file is taken once its size and mtime held this long")
    ] = 5.0
    max_runs_per_tick: Annotated[int, Field(ge=1, description="runs one sensor tick may ask for")] = 20
    batches_per_run: Annotated[
        int, Field(ge=1, description="files landed together are processed this many to a run")
    ] = 10


class ModelDeclaration(_Strict):
    """A downstream scikit-learn model of one column, trained with the contract."""

    target: Annotated[str, Field(min_length=1, description="the column the model predicts")]


class SqlSourceDeclaration(_Strict):
    """A table or query read through SQLAlchemy, one batch at a time: the rows past the last
    batch's value of an ``incremental`` column, or one ``per_day`` once the day is over."""

    url: Annotated[str, Field(min_length=1, description="a SQLAlchemy URL; ${VARIABLES} are expanded")]
    table: str | None = Field(None, description="a table (schema.table) to read")
    query: str | None = Field(None, description="or a SELECT whose rows are read")
    incremental: str | None = Field(
        None, description="a column that grows (updated_at, an id): each batch takes the rows past the last"
    )
    per_day: str | None = Field(None, description="a date or timestamp column: one batch per day")

    @model_validator(mode="after")
    def _one_each(self) -> SqlSourceDeclaration:
        if (self.table is None) == (self.query is None):
            raise ValueError("give either table or query")
        if (self.incremental is None) == (self.per_day is None):
            raise ValueError("give either incremental (a growing column) or per_day (a date column)")
        return self


class SqlTargetDeclaration(_Strict):
    """A table that receives each batch's published rows, swapped in only after verification."""

    url: Annotated[str, Field(min_length=1, description="a SQLAlchemy URL; ${VARIABLES} are expanded")]
    table: Annotated[str, Field(min_length=1, description="the table (schema.table) published rows go to")]


class DatasetDeclaration(_Strict):
    """One dataset: where its batches come from, how normal is learned, which policy acts."""

    landing: str | None = Field(
        None, min_length=1, description="a folder, or a folder and a file pattern (or source:)"
    )
    source: SqlSourceDeclaration | None = Field(None, description="a database table or query (or landing:)")
    asset: str | None = Field(
        None,
        min_length=1,
        description="in a Dagster project: the key (a/b) of the project's own asset whose "
        "materializations are the batches (or landing:, source:)",
    )
    target: SqlTargetDeclaration | None = Field(None, description="a table published rows are written to")
    description: str = Field("", description="shown on every asset of the dataset")
    owners: list[str] = Field(default_factory=list, description="e-mail addresses or team:NAME")
    format: Literal["csv", "parquet", "auto"] = Field("auto", description="auto: CSV or Parquet by suffix")
    keys: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list, description="columns that each identify a row: unique, never null"
    )
    training_batches: int = Field(3, ge=1, description="the first batches that define normal")
    contract: ContractOptions = ContractOptions()
    columns: dict[str, ColumnDeclaration] = Field(
        default_factory=dict,
        description="per-column choices inference must respect (role, bounds, categories…)",
    )
    drift: DriftDeclaration = DriftDeclaration()
    read: ReadDeclaration = ReadDeclaration()
    intake: IntakeDeclaration = IntakeDeclaration()
    policy: str | None = Field(None, description="the DataReflex policy file, relative to this file")
    schedule: str = Field("0 6 * * *", description="cron of the drift schedule")
    sensor_interval_seconds: int = Field(30, ge=1, description="how often the sensors look")
    model: ModelDeclaration | None = None
    freshness_hours: Annotated[
        float | None, Field(ge=1 / 60, description="a batch is expected this often")
    ] = None

    @model_validator(mode="after")
    def _one_source(self) -> DatasetDeclaration:
        given = [key for key in ("landing", "source", "asset") if getattr(self, key) is not None]
        if len(given) != 1:
            raise ValueError(
                "give one of landing (a folder of files), source (a database table) or asset "
                f"(your own Dagster asset); given: {given or 'none'}"
            )
        return self

    @field_validator("owners")
    @classmethod
    def _owners(cls, owners: list[str]) -> list[str]:
        wrong = [owner for owner in owners if not _OWNER.match(owner)]
        if wrong:
            raise ValueError(f"{wrong} are not owners; an owner is an e-mail address or 'team:' and a name")
        return owners

    @field_validator("schedule")
    @classmethod
    def _cron(cls, schedule: str) -> str:
        try:
            dg.ScheduleDefinition(name="check", cron_schedule=schedule, job_name="check")
        except dg.DagsterInvalidDefinitionError:
            raise ValueError("must be a cron expression such as '0 6 * * *'") from None
        return schedule


class DaskDeclaration(_Strict):
    """Where batches too large for one process are scanned: a Dask cluster."""

    scheduler: str | None = Field(
        None, description="a Dask scheduler's address (tcp://host:8786); unset: a local cluster per batch"
    )
    threshold_rows: Annotated[
        int, Field(ge=1, description="a batch of more rows is kept on disk and scanned in chunks")
    ] = 5_000_000
    workers: Annotated[int, Field(ge=1, description="worker processes of a local cluster")] = 2
    chunk_rows: Annotated[int, Field(ge=1_000, description="rows in memory at a time, per process")] = 250_000
    part_rows: Annotated[int, Field(ge=1_000, description="rows of a batch each task on a worker scans")] = (
        2_000_000
    )


class SuiteDeclaration(_Strict):
    """A ``suite.yaml``: the datasets the suite watches, and the cluster for large batches."""

    datasets: dict[str, DatasetDeclaration] = Field(description="dataset name → declaration")
    dask: DaskDeclaration = DaskDeclaration()

    @field_validator("datasets")
    @classmethod
    def _names(cls, datasets: dict[str, DatasetDeclaration]) -> dict[str, DatasetDeclaration]:
        if not datasets:
            raise ValueError("no dataset is declared")
        for name in datasets:
            dataset_name(name)
        return datasets


def dataset_name(name: str) -> str:
    """``name`` if it can name a dataset (its asset group, key prefix, jobs and sensors)."""
    if not name.isidentifier():
        raise ValueError(f"dataset name {name!r} must be a Python identifier (letters, digits, _)")
    return name
