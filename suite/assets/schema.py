"""Assets of the contract side: the raw batch, the versioned contract, and validation."""

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

import schemasense
from suite import loop
from suite.assets.drift import current_reference
from suite.assets.large import BATCH, VALIDATION, large_file, work_folder
from suite.assets.metadata import changes_table, contract_schema, violations_table
from suite.config import DatasetConfig
from suite.scale import RowsOnDisk, ScanResult
from suite.scale.resource import DaskResource
from suite.storage import IO_MANAGER_KEY, IO_RETRY, SuiteStorage
from suite.storage.files import UNREADABLE, BatchFileError, BatchIOError, read_batch_file
from suite.storage.partitions import landed_path, landing_record, training_frames
from suite.storage.tables import landing_text

SCHEMA_CHECK = "schema_matches_contract"
ROWS_CHECK = "rows_satisfy_contract"


def build_schema_assets(dataset: DatasetConfig, partitions: dg.PartitionsDefinition) -> list[Any]:
    raw_batch = _raw_batch_asset(dataset, partitions)
    contract = _contract_asset(dataset, raw_batch)
    validation = _validation_asset(dataset, partitions, raw_batch, contract)
    return [raw_batch, contract, validation]


def _raw_batch_asset(dataset: DatasetConfig, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        io_manager_key=IO_MANAGER_KEY,
        key_prefix=[dataset.name],
        partitions_def=partitions,
        group_name=dataset.name,
        kinds={"pandas", "parquet"},
        retry_policy=IO_RETRY,
        dagster_type=BATCH,
        description=f"One batch of {landing_text(dataset)}, read as it arrived (kept on disk when it "
        "holds more rows than dask.threshold_rows).",
    )
    def raw_batch(
        context: dg.AssetExecutionContext, storage: SuiteStorage, dask: DaskResource
    ) -> dg.Output[pd.DataFrame | RowsOnDisk]:
        path = landed_path(dataset, storage.files, context.partition_key)
        current = storage.files.contracts().latest(dataset.name)
        large = large_file(path, dask)
        if large is not None:
            return _kept_on_disk(context, dataset, large, current)
        try:
            read = read_batch_file(path, dataset.read, contract_columns=current.columns if current else None)
        except BatchIOError:
            raise  # the file system: worth another try (IO_RETRY)
        except BatchFileError as exc:  # the content: retrying cannot help; the batch is rejected
            reason = UNREADABLE + str(exc).replace(
                str(path), str(_landed_as(dataset, storage, context.partition_key))
            )
            about = {"batch": context.partition_key, "reason": reason[:2000]}
            raise dg.Failure(description=reason, metadata=about, allow_retries=False) from exc
        except InterruptedError as exc:  # a signal while reading is not an I/O error to retry
            raise dg.Failure(f"{path}: interrupted while reading: {exc}", allow_retries=False) from exc
        landed_at = landing_record(dataset, storage.files).landed_at(context.partition_key)
        metadata: dict[str, Any] = {"path": dg.MetadataValue.path(str(path)), **read.describe()}
        if landed_at is not None:
            metadata["landed_at"] = dg.MetadataValue.timestamp(landed_at)
        return dg.Output(read.frame, metadata=metadata)

    return raw_batch


def _kept_on_disk(
    context: dg.AssetExecutionContext,
    dataset: DatasetConfig,
    large: RowsOnDisk,
    current: schemasense.Contract | None,
) -> dg.Output[pd.DataFrame | RowsOnDisk]:
    """A batch too large to read whole: its landed copy, for the steps that scan it in chunks."""
    if current is None:
        reason = (
            f"{dataset.name} batch {context.partition_key}: {large.rows:,} rows, more than "
            "dask.threshold_rows, and there is no contract yet; the contract is learned from "
            "training batches read whole, so the first batches must fit in memory"
        )
        raise dg.Failure(description=reason, metadata={"batch": context.partition_key}, allow_retries=False)
    return dg.Output(large, metadata={"path": dg.MetadataValue.path(large.path), "rows": large.rows})


def _landed_as(dataset: DatasetConfig, storage: SuiteStorage, key: str) -> Path | str:
    """The landing folder's file batch ``key`` was taken from (for a database source: the table
    and the window it was read from): what a reason should name."""
    taken = landing_record(dataset, storage.files).taken()
    name = next((t.name for t in taken if t.key == key), key)
    return name if dataset.landing is None else dataset.landing / name


def _contract_asset(dataset: DatasetConfig, raw_batch: Any) -> dg.AssetsDefinition:
    @dg.asset(
        io_manager_key=IO_MANAGER_KEY,
        key_prefix=[dataset.name],
        deps=[raw_batch],
        group_name=dataset.name,
        kinds={"yaml"},
        retry_policy=IO_RETRY,
        description="The data contract, learned from the training window and versioned.",
    )
    def contract(context: dg.AssetExecutionContext, storage: SuiteStorage) -> dg.MaterializeResult:
        registry = storage.files.contracts()
        current = registry.latest(dataset.name)
        trained_on: list[str] = []
        if current is None:
            trained_on, frames = training_frames(context.instance, dataset, storage.files)
            current = registry.save(learn_contract(dataset, frames))
        return dg.MaterializeResult(metadata=contract_metadata(current, trained_on))

    return contract


def _validation_asset(
    dataset: DatasetConfig, partitions: dg.PartitionsDefinition, raw_batch: Any, contract: Any
) -> dg.AssetsDefinition:
    checked = dg.AssetKey([dataset.name, "validation"])
    schema_spec = dg.AssetCheckSpec(
        SCHEMA_CHECK, asset=checked, blocking=True, description="Columns and types are those of the contract."
    )
    rows_spec = dg.AssetCheckSpec(
        ROWS_CHECK,
        asset=checked,
        blocking=True,
        description="Every row satisfies every rule of the contract.",
    )

    @dg.asset(
        io_manager_key=IO_MANAGER_KEY,
        key_prefix=[dataset.name],
        partitions_def=partitions,
        group_name=dataset.name,
        deps=[contract],
        check_specs=[schema_spec, rows_spec],
        kinds={"pandas"},
        ins={"raw_batch": dg.AssetIn(key=raw_batch.key, dagster_type=BATCH)},
        dagster_type=VALIDATION,
        description="The rows of the batch that break the contract, each with its reasons.",
    )
    def validation(
        context: dg.AssetExecutionContext,
        storage: SuiteStorage,
        dask: DaskResource,
        raw_batch: pd.DataFrame | RowsOnDisk,
    ) -> Iterator[Any]:
        current = storage.files.contracts().latest(dataset.name)
        if isinstance(raw_batch, RowsOnDisk):
            assert current is not None  # raw_batch refuses a large batch before the contract
            folder = work_folder(storage, dataset, context.partition_key)
            like = current_reference(dataset, storage)
            scan = dask.scan(raw_batch.path, current, folder / "scan", like)
            yield from validate_scan(context.partition_key, current, scan)
        elif current is None:
            yield from training_validation(context.partition_key, raw_batch)
        else:
            yield from validate(context.partition_key, raw_batch, current)

    return validation


def training_validation(batch: str, raw_batch: pd.DataFrame) -> Iterator[Any]:
    """A training batch defines the contract: no invalid rows, both checks pass, and say why."""
    note = {
        "batch": batch,
        "note": "training batch: it defines the contract, nothing to check it against yet",
    }
    yield dg.Output(
        raw_batch.iloc[0:0].assign(_reason=pd.Series(dtype=object)),
        metadata={**note, "dagster/row_count": 0},
    )
    yield dg.AssetCheckResult(check_name=SCHEMA_CHECK, passed=True, metadata=note)
    yield dg.AssetCheckResult(check_name=ROWS_CHECK, passed=True, metadata=note)


def validate(batch: str, raw_batch: pd.DataFrame, current: schemasense.Contract) -> Iterator[Any]:
    """The invalid rows, then the schema check (with the changes the batch would make) and the
    rows check."""
    result = current.validate(raw_batch)
    changes: dict[str, Any] = {}
    if result.batch_violations:
        evolution = schemasense.evolve(current, raw_batch)
        changes = {"diff": changes_table(evolution.diff), "breaking_changes": len(evolution.pending)}
    counts = (len(result.invalid), len(result.valid))
    yield from verdict(batch, current, result.invalid, result.violations, counts, changes=changes)


def validate_scan(batch: str, current: schemasense.Contract, scan: ScanResult) -> Iterator[Any]:
    """A large batch's scan (its rows on disk) as ``validation``'s value, then the two checks."""
    where = {
        "invalid_rows": dg.MetadataValue.path(scan.outputs["quarantine"]),
        "chunks": scan.chunks,
        "workers": ", ".join(scan.workers) or "this process",
    }
    counts = (scan.quarantined, scan.published + scan.held)
    yield from verdict(batch, current, scan, scan.violations, counts, about=where)


def verdict(
    batch: str,
    current: schemasense.Contract,
    value: Any,
    violations: Iterable[schemasense.Violation],
    counts: tuple[int, int],
    *,
    about: dict[str, Any] | None = None,
    changes: dict[str, Any] | None = None,
) -> Iterator[Any]:
    """``validation``'s value with its (invalid, valid) ``counts`` and ``about`` it, then the
    schema check on the batch-level findings (with ``changes``) and the rows check on the
    row-level ones."""
    version: dict[str, Any] = {"batch": batch, "contract_version": current.version}
    found = tuple(violations)
    batch_level = [v for v in found if v.rule.is_batch_rule]
    row_level = [v for v in found if not v.rule.is_batch_rule]
    invalid, valid = counts
    yield dg.Output(
        value,
        metadata={
            **version,
            "dagster/row_count": invalid,
            "rows_valid": valid,
            "violations": violations_table(found),
            **(about or {}),
        },
    )
    schema_metadata = {**version, "findings": violations_table(batch_level), **(changes or {})}
    yield dg.AssetCheckResult(check_name=SCHEMA_CHECK, passed=not batch_level, metadata=schema_metadata)
    rows_metadata = {
        **version,
        "failing_rules": violations_table(row_level),
        "rows_invalid": invalid,
        "rows_valid": valid,
    }
    yield dg.AssetCheckResult(check_name=ROWS_CHECK, passed=not row_level, metadata=rows_metadata)


def learn_contract(dataset: DatasetConfig, frames: list[pd.DataFrame]) -> schemasense.Contract:
    """The first contract of ``dataset`` (:func:`suite.loop.learn_contract`); a failure that
    retrying cannot mend otherwise."""
    try:
        return loop.learn_contract(dataset, frames)
    except schemasense.SchemaSenseError as exc:
        raise dg.Failure(f"dataset {dataset.name!r}: {exc}", allow_retries=False) from exc


def contract_metadata(
    contract: schemasense.Contract,
    trained_on: list[str] | None = None,
    previous: schemasense.Contract | None = None,
) -> dict[str, Any]:
    """What a person sees on the contract asset: version, columns with constraints, the YAML,
    and the changes from the previous version."""
    metadata: dict[str, Any] = {
        "version": contract.version,
        "keys": ", ".join(n for n, c in contract.columns.items() if c.unique) or "none",
        "dagster/column_schema": contract_schema(contract),
        "contract": dg.MetadataValue.md(f"```yaml\n{contract.to_yaml()}```"),
    }
    if trained_on:
        metadata["trained_on"] = ", ".join(trained_on)
    if previous is not None:
        changes = schemasense.diff(previous, contract)
        metadata["changes_from_previous_version"] = changes_table(changes)
        metadata["breaking"] = changes.breaking
    return metadata
